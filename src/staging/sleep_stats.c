/* Sleep statistics of a hypnogram and agreement between two scorings (accuracy, Cohen's kappa, F1).
 *
 * The statistics follow the AASM Scoring Manual's terms, with one rule for what a file cannot tell:
 * an unscored epoch (a gap in an EDF+D file or a recording, lost or railed signal, "?" in a reference)
 * counts as no time at all. So TIB is the scored time, SOL the scored time before the first sleep epoch,
 * SPT the scored time from the first to the last sleep epoch (= TST + WASO), and the five stage totals
 * add up to TIB exactly. */
#include "staging/hypnogram.h"

#include "dsp/sleep_events.h"
#include "sources/montage.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define EPOCH_MIN (DW_EPOCH_S / 60.0)

static int is_sleep(int s) { return s >= DW_N1 && s <= DW_R; }
static int is_scored(int s) { return s >= DW_W && s <= DW_R; }

/* Within the sleep period [first, last]: WASO, awakenings, transitions, REM latency. */
static void sleep_period(const signed char *stage, int first, int last, dw_sleep_stats *o)
{
    int prev = DW_UNSCORED, changes = 0, scored = 0;
    for (int i = first; i <= last; i++) {
        int s = stage[i];
        if (!is_scored(s))
            continue;
        if (s == DW_R && o->rem_latency_min == DW_NONE)
            o->rem_latency_min = scored * EPOCH_MIN;
        scored++;
        o->waso_min += s == DW_W ? EPOCH_MIN : 0;
        if (s == DW_W && prev != DW_W && prev != DW_UNSCORED)
            o->awakenings++;
        if (prev != DW_UNSCORED && s != prev)
            changes++;
        prev = s;
    }
    o->spt_min = scored * EPOCH_MIN;
    o->transitions_per_h = changes / (o->spt_min / 60.0);
}

static void night_stats(const signed char *stage, int n, dw_sleep_stats *o)
{
    memset(o, 0, sizeof *o);
    o->sol_min = o->se_pct = o->sme_pct = o->rem_latency_min = o->transitions_per_h = DW_NONE;
    o->spt_min = o->waso_min = DW_NONE;    /* no sleep period without sleep */
    for (int s = 0; s < DW_NSTAGES; s++)
        o->stage_pct[s] = o->tst_pct[s] = DW_NONE;   /* shares of a zero total do not exist */
    int first = -1, last = -1, before = 0;
    for (int i = 0; i < n; i++) {
        int s = stage[i];
        if (!is_scored(s)) {
            o->unscored++;
            continue;
        }
        o->stage_min[s] += EPOCH_MIN;
        o->tib_min += EPOCH_MIN;
        if (is_sleep(s)) {
            first = first < 0 ? i : first;
            last = i;
        } else if (first < 0) {
            before++;
        }
    }
    for (int s = DW_N1; s <= DW_R; s++)
        o->tst_min += o->stage_min[s];
    for (int s = 0; s < DW_NSTAGES && o->tib_min > 0; s++)
        o->stage_pct[s] = 100.0 * o->stage_min[s] / o->tib_min;
    if (o->tib_min > 0)
        o->se_pct = 100.0 * o->tst_min / o->tib_min;
    if (first < 0)
        return;
    o->tst_pct[DW_W] = 0;
    o->spt_min = o->waso_min = 0;
    for (int s = DW_N1; s <= DW_R; s++)
        o->tst_pct[s] = 100.0 * o->stage_min[s] / o->tst_min;
    o->sol_min = before * EPOCH_MIN;
    sleep_period(stage, first, last, o);
    o->sme_pct = 100.0 * o->tst_min / o->spt_min;
}

/* Too few scored epochs for a night (DW_NIGHT_MIN_EPOCHS): what needs one is none. */
static void short_recording(dw_sleep_stats *o)
{
    if (o->tib_min <= 0 || o->tib_min >= DW_NIGHT_MIN_EPOCHS * EPOCH_MIN)
        return;
    o->too_short = 1;
    o->sol_min = o->spt_min = o->waso_min = o->se_pct = o->sme_pct = DW_NONE;
    o->rem_latency_min = o->transitions_per_h = DW_NONE;
}

void dw_sleep_stats_compute(const signed char *stage, int n, dw_sleep_stats *o)
{
    night_stats(stage, n, o);
    short_recording(o);
}

int dw_rem_periods(const signed char *stage, int n)
{
    int periods = 0, last_r = -1;
    for (int i = 0; i < n; i++)
        if (stage[i] == DW_R) {
            if (last_r < 0 || i - last_r > DW_REM_GAP_EPOCHS)
                periods++;
            last_r = i;
        }
    return periods;
}

void dw_agreement_compute(const signed char *ref, const signed char *ours, int n, dw_agreement *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 0; i < n; i++) {
        int r = ref[i], p = ours[i];
        if (r < 0 || r >= DW_NSTAGES || p < 0 || p >= DW_NSTAGES)
            continue;
        o->confusion[r][p]++;
        o->n++;
    }
    if (o->n == 0)
        return;
    double agree = 0, chance = 0;
    long row[DW_NSTAGES] = { 0 }, col[DW_NSTAGES] = { 0 };
    for (int r = 0; r < DW_NSTAGES; r++)
        for (int p = 0; p < DW_NSTAGES; p++) {
            row[r] += o->confusion[r][p];
            col[p] += o->confusion[r][p];
        }
    int present = 0;
    for (int k = 0; k < DW_NSTAGES; k++) {
        agree += o->confusion[k][k];
        chance += (double)row[k] * col[k];
        double denom = row[k] + col[k];
        o->f1[k] = denom > 0 ? 2.0 * o->confusion[k][k] / denom : 0;
        if (denom > 0) {
            o->macro_f1 += o->f1[k];
            present++;
        }
    }
    double N = (double)o->n;
    o->accuracy = agree / N;
    chance /= N * N;
    o->kappa = chance < 1 ? (o->accuracy - chance) / (1 - chance) : 1;
    o->macro_f1 = present ? o->macro_f1 / present : 0;
}

int dw_sleep_window(const signed char *ref, int n, int *from, int *to)
{
    int first = -1, last = -1;
    for (int i = 0; i < n; i++)
        if (ref[i] >= DW_N1 && ref[i] <= DW_R) {
            if (first < 0) first = i;
            last = i;
        }
    if (first < 0)
        return -1;
    *from = first - DW_SLEEP_WINDOW_EPOCHS < 0 ? 0 : first - DW_SLEEP_WINDOW_EPOCHS;
    *to = last + DW_SLEEP_WINDOW_EPOCHS >= n ? n - 1 : last + DW_SLEEP_WINDOW_EPOCHS;
    return 0;
}

/* "12.5 min" ("2.5/min", "2.5" with no unit), or "none". */
static const char *amount(double v, const char *unit, char *buf, size_t cap)
{
    if (v == DW_NONE)
        snprintf(buf, cap, "none");
    else
        snprintf(buf, cap, unit[0] == '/' || !unit[0] ? "%.1f%s" : "%.1f %s", v, unit);
    return buf;
}

void dw_print_sleep_stats(FILE *f, const char *in, const dw_sleep_stats *s)
{
    char a[32], b[32], c[32], d[32];
    fprintf(f, "%sTIB %.1f min  SPT %s  TST %.1f min  SOL %s  WASO %s\n", in, s->tib_min,
            amount(s->spt_min, "min", a, sizeof a), s->tst_min,
            amount(s->sol_min, "min", b, sizeof b), amount(s->waso_min, "min", c, sizeof c));
    fprintf(f, "%sSE %s  SME %s  REM latency %s  awakenings %d  transitions %s\n", in,
            amount(s->se_pct, "%", a, sizeof a), amount(s->sme_pct, "%", b, sizeof b),
            amount(s->rem_latency_min, "min", c, sizeof c), s->awakenings,
            amount(s->transitions_per_h, "/h", d, sizeof d));
    fprintf(f, "%sstages, %% of TIB:", in);
    for (int k = 0; k < DW_NSTAGES; k++)
        fprintf(f, "  %s %.1f min (%s)", dw_stage_name(k), s->stage_min[k],
                amount(s->stage_pct[k], "%", a, sizeof a));
    fprintf(f, "\n%ssleep stages, %% of TST:", in);
    for (int k = DW_N1; k < DW_NSTAGES; k++)
        fprintf(f, "  %s %s", dw_stage_name(k), amount(s->tst_pct[k], "%", a, sizeof a));
    fprintf(f, "\n");
    if (s->too_short)
        fprintf(f, "%snote: too short for a night: %.1f min scored (%d epochs), under the %d min a "
                   "hypnogram needs for a night's figures, so SOL, SPT, WASO, SE, SME, REM latency "
                   "and transitions are none; the first epochs of a recording are also the "
                   "stager's least sure (it agrees with experts about 0.75 of the time over the "
                   "first 3, 0.85 later)\n",
                   in, s->tib_min, (int)lround(s->tib_min / EPOCH_MIN),
                   DW_NIGHT_MIN_EPOCHS * DW_EPOCH_S / 60);
    if (s->unscored)
        fprintf(f, "%s%d unscored epochs (%.1f min: gaps, lost or bad signal) are in none of these figures\n", in,
                s->unscored, s->unscored * EPOCH_MIN);
}

void dw_print_agreement(FILE *f, const dw_agreement *a)
{
    fprintf(f, "  epochs %ld  accuracy %.3f  kappa %.3f  macro-F1 %.3f\n", a->n, a->accuracy, a->kappa, a->macro_f1);
    fprintf(f, "  F1");
    for (int k = 0; k < DW_NSTAGES; k++)
        fprintf(f, "  %s %.3f", dw_stage_name(k), a->f1[k]);
    fprintf(f, "\n  confusion (rows reference, columns dreamwatch):\n        W     N1     N2     N3      R\n");
    for (int r = 0; r < DW_NSTAGES; r++) {
        fprintf(f, "  %-2s", dw_stage_name(r));
        for (int p = 0; p < DW_NSTAGES; p++)
            fprintf(f, " %6ld", a->confusion[r][p]);
        fprintf(f, "\n");
    }
}

int dw_sleep_event_counts(int kind, int stage)
{
    return kind == DW_SLEEP_SPINDLE ? stage == DW_N1 || stage == DW_N2 || stage == DW_N3
           : kind == DW_SLEEP_SLOW_WAVE ? stage == DW_N2 || stage == DW_N3
                                        : 0;
}

int dw_micro_on_region(int kind, int region)
{
    return !(kind == DW_SLEEP_SLOW_WAVE && region == DW_REGION_POSTERIOR);
}

void dw_micro_for_region(int region, long tot[2], double nrem[2], double density[DW_NSTAGES][2])
{
    for (int j = 0; j < 2; j++) {
        if (dw_micro_on_region(j, region))
            continue;
        if (tot)
            tot[j] = -1;
        if (nrem)
            nrem[j] = DW_NONE;
        for (int k = 0; density && k < DW_NSTAGES; k++)
            density[k][j] = DW_NONE;
    }
}

void dw_print_micro_channel(FILE *f, const char *in, const char *label, int region)
{
    if (region == DW_REGION_POSTERIOR)
        fprintf(f, "%snote: the staged channel %s is parieto-occipital: slow waves are not "
                   "detected there (the detector's criteria are absolute, -40 uV and 75-350 uV "
                   "peak to peak, for frontal EEG, where the AASM measures them: F4-M1); spindles "
                   "are (YASA's criteria are relative to the channel's power), but they are "
                   "largest centrally (AASM: C4-M1): expect fewer\n",
                   in, label);
    else if (region == DW_REGION_CENTRAL)
        fprintf(f, "%snote: the staged channel %s is central: spindles are largest there (AASM: "
                   "C4-M1); slow waves are detected with criteria for frontal EEG (F4-M1), where "
                   "they are larger: expect fewer\n",
                   in, label);
}

/* Events of kind per minute of the epochs whose stage is in mask (bits 1 << stage), counting those
 * that start in such an epoch; DW_NONE when no epoch of the mask was staged or kind does not count
 * in one of its stages (dw_sleep_event_counts). The one formula of every density. */
static double micro_rate(const signed char *stage, int n, const int (*count)[2], int ncount,
                         unsigned mask, int kind)
{
    long epochs = 0, events = 0;
    for (int k = 0; k < DW_NSTAGES; k++)
        if (mask & 1u << k && !dw_sleep_event_counts(kind, k))
            return DW_NONE;
    for (int e = 0; e < n; e++) {
        if (stage[e] < 0 || stage[e] >= DW_NSTAGES || !(mask & 1u << stage[e]))
            continue;
        epochs++;
        if (e < ncount)
            events += count[e][kind];
    }
    return epochs ? events * 60.0 / (epochs * (double)DW_EPOCH_S) : DW_NONE;
}

void dw_micro_density(const signed char *stage, int n, const int (*count)[2], int ncount,
                      double density[DW_NSTAGES][2])
{
    for (int k = 0; k < DW_NSTAGES; k++)
        for (int j = 0; j < 2; j++)
            density[k][j] = micro_rate(stage, n, count, ncount, 1u << k, j);
}

void dw_micro_nrem_density(const signed char *stage, int n, const int (*count)[2], int ncount,
                           double density[2])
{
    for (int j = 0; j < 2; j++)
        density[j] = micro_rate(stage, n, count, ncount, 1u << DW_N2 | 1u << DW_N3, j);
}

void dw_micro_totals(const signed char *stage, int n, const int (*count)[2], int ncount,
                     long tot[2], long *set_aside)
{
    tot[0] = tot[1] = *set_aside = 0;
    for (int e = 0; e < ncount; e++)
        for (int k = 0; k < 2; k++)
            *(e < n && dw_sleep_event_counts(k, stage[e]) ? &tot[k] : set_aside) += count[e][k];
}

void dw_format_micro_totals(char *out, size_t cap, const char *where, const long tot[2],
                            long set_aside)
{
    int len = tot[1] < 0           /* not detected on this channel (dw_micro_on_region) */
                  ? snprintf(out, cap, "%ld %s%s%s, slow waves not detected there", tot[0],
                             dw_plural(tot[0], "spindle", "spindles"), *where ? " " : "", where)
                  : snprintf(out, cap, "%ld %s, %ld %s%s%s", tot[0],
                             dw_plural(tot[0], "spindle", "spindles"), tot[1],
                             dw_plural(tot[1], "slow wave", "slow waves"), *where ? " " : "",
                             where);
    if (set_aside && len >= 0 && (size_t)len < cap)
        snprintf(out + len, cap - (size_t)len, " (spindles counted in N1-N3, slow waves in N2-N3; "
                 "%ld %s in W, R or unscored epochs not counted)", set_aside,
                 dw_plural(set_aside, "detection", "detections"));
}

void dw_print_micro_totals(FILE *f, const char *indent, const char *where, const long tot[2],
                           long set_aside)
{
    char line[320];
    dw_format_micro_totals(line, sizeof line, where, tot, set_aside);
    fprintf(f, "%s%s\n", indent, line);
}

void dw_format_micro_density(char *out, size_t cap, const double d[DW_NSTAGES][2])
{
    char a[32], b[32], c[32], e[32];
    snprintf(out, cap, "spindles %s in N2, %s in N3; slow waves %s in N3, %s in N2",
             amount(d[DW_N2][0], "/min", a, sizeof a), amount(d[DW_N3][0], "", b, sizeof b),
             amount(d[DW_N3][1], "/min", c, sizeof c), amount(d[DW_N2][1], "", e, sizeof e));
}

void dw_print_micro_density(FILE *f, const double d[DW_NSTAGES][2])
{
    char line[160];
    dw_format_micro_density(line, sizeof line, d);
    fprintf(f, "  %s\n", line);
}

void dw_format_micro_rate(char *out, size_t cap, double per_min)
{
    if (per_min == DW_NONE || !isfinite(per_min))
        snprintf(out, cap, "none");
    else
        snprintf(out, cap, per_min < 9.95 ? "%.1f" : "%.0f", per_min);
}

void dw_format_micro_epoch(char *out, size_t cap, int stage, int region, const int count[2])
{
    int sp = dw_sleep_event_counts(DW_SLEEP_SPINDLE, stage) && dw_micro_on_region(DW_SLEEP_SPINDLE, region);
    int sw = dw_sleep_event_counts(DW_SLEEP_SLOW_WAVE, stage) &&
             dw_micro_on_region(DW_SLEEP_SLOW_WAVE, region);
    if (sp && sw)
        snprintf(out, cap, "%d %s, %d SW", count[0], dw_plural(count[0], "spindle", "spindles"),
                 count[1]);
    else if (sp)
        snprintf(out, cap, "%d %s", count[0], dw_plural(count[0], "spindle", "spindles"));
    else
        snprintf(out, cap, "none counted");
}
