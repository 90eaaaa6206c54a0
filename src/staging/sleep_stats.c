/* Sleep statistics of a hypnogram (AASM definitions, as YASA and most scoring software compute them)
 * and agreement between two scorings (accuracy, Cohen's kappa, F1). */
#include "staging/hypnogram.h"

#include <stdio.h>

#include <string.h>

#define EPOCH_MIN 0.5

static int is_sleep(int s) { return s >= DW_N1 && s <= DW_R; }

void dw_sleep_stats_compute(const signed char *stage, int n, dw_sleep_stats *o)
{
    memset(o, 0, sizeof *o);
    o->rem_latency_min = -1;
    o->tib_min = n * EPOCH_MIN;
    int first = -1, last = -1;
    for (int i = 0; i < n; i++)
        if (is_sleep(stage[i])) {
            if (first < 0) first = i;
            last = i;
        }
    if (first < 0) {
        o->sol_min = -1;
        return;
    }
    o->sol_min = first * EPOCH_MIN;
    o->spt_min = (last - first + 1) * EPOCH_MIN;
    int prev = DW_UNSCORED, changes = 0, first_rem = -1;
    for (int i = first; i <= last; i++) {
        int s = stage[i];
        if (s >= 0 && s < DW_NSTAGES)
            o->stage_min[s] += EPOCH_MIN;
        if (s == DW_R && first_rem < 0)
            first_rem = i;
        if (s == DW_W && prev != DW_W && prev != DW_UNSCORED)
            o->awakenings++;
        if (s != DW_UNSCORED && prev != DW_UNSCORED && s != prev)
            changes++;
        if (s != DW_UNSCORED)
            prev = s;
    }
    for (int s = DW_N1; s <= DW_R; s++)
        o->tst_min += o->stage_min[s];
    o->waso_min = o->stage_min[DW_W];
    o->se_pct = o->tib_min > 0 ? 100.0 * o->tst_min / o->tib_min : 0;
    o->sme_pct = 100.0 * o->tst_min / o->spt_min;
    o->rem_latency_min = first_rem >= 0 ? (first_rem - first) * EPOCH_MIN : -1;
    o->stage_pct[DW_W] = 100.0 * o->stage_min[DW_W] / o->spt_min;
    for (int s = DW_N1; s <= DW_R; s++)
        o->stage_pct[s] = o->tst_min > 0 ? 100.0 * o->stage_min[s] / o->tst_min : 0;
    o->transitions_per_h = changes / (o->spt_min / 60.0);
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

void dw_print_sleep_stats(FILE *f, const dw_sleep_stats *s)
{
    fprintf(f, "  TIB %.1f min  SPT %.1f min  TST %.1f min  SOL %.1f min  WASO %.1f min\n",
            s->tib_min, s->spt_min, s->tst_min, s->sol_min, s->waso_min);
    fprintf(f, "  SE %.1f %%  SME %.1f %%  REM latency %s", s->se_pct, s->sme_pct,
            s->rem_latency_min < 0 ? "none" : "");
    if (s->rem_latency_min >= 0)
        fprintf(f, "%.1f min", s->rem_latency_min);
    fprintf(f, "  awakenings %d  transitions %.1f/h\n", s->awakenings, s->transitions_per_h);
    fprintf(f, "  ");
    for (int k = 0; k < DW_NSTAGES; k++)
        fprintf(f, "%s %.1f min (%.1f %%)%s", dw_stage_name(k), s->stage_min[k], s->stage_pct[k],
                k + 1 < DW_NSTAGES ? "  " : "\n");
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
