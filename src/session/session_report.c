/* What the session writes at the end of a night: the summary, the awakenings table, the BIDS events
 * table and the sealed file's closing part; and the view the screen shows. */
#include "session/session_priv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/files.h"
#include "record/bids_events.h"
#include "staging/hypnogram.h"

static const char *kind_name(int kind)
{
    return kind == DW_STIM_SO ? "SO" : kind == DW_STIM_CUE ? "cue" : "tmr_cue";
}

static int sham_protocol(const dw_session *s)
{
    return s->proto->loaded && s->proto->sham_mode != DW_SHAM_OFF;
}
static int blinded(const dw_session *s) { return sham_protocol(s) && s->proto->blind; }

static void circ_stats(const dw_session *s, double *mean, double *spread, int *n)
{
    double c = 0, sn = 0;
    *n = 0;
    for (int i = 0; i < s->nstim; i++)
        if (s->stim[i].kind == DW_STIM_SO && !isnan(s->stim[i].phase_deg)) {
            c += cos(s->stim[i].phase_deg * M_PI / 180);
            sn += sin(s->stim[i].phase_deg * M_PI / 180);
            (*n)++;
        }
    double r = *n ? fmin(1.0, hypot(c, sn) / *n) : 0;   /* rounding can put r a hair above 1 */
    *mean = *n ? atan2(sn, c) * 180 / M_PI : NAN;
    /* circular standard deviation sqrt(-2 ln R) (Mardia & Jupp 2000, 2.3.4); at R = 1 it is 0, and
     * -2 * log(1) is -0, whose square root printed "-0" */
    *spread = *n && r > 0 ? sqrt(fmax(0.0, -2 * log(r))) * 180 / M_PI : NAN;
}

/* Whether a detection counts: its epoch staged where its kind counts (dw_sleep_event_counts). */
static int micro_counts(const dw_session *s, const struct micro *m)
{
    return m->epoch >= 0 && m->epoch < s->nhyp && dw_sleep_event_counts(m->kind, s->hyp[m->epoch]) &&
           dw_micro_on_region(m->kind, s->micro_region);
}

/* Spindle and slow-wave densities by stage (the stages are the session's own epoch labels). */
static void micro_section(FILE *f, const dw_session *s, const signed char *stage, int n)
{
    long tot[2], set_aside;
    dw_micro_totals(s->hyp, s->nhyp, (const int (*)[2])s->micro_count, s->micro_cap, tot,
                    &set_aside);
    dw_micro_for_region(s->micro_region, tot, NULL, NULL);
    if (s->micro_label[0])                /* the channel by its region, as `score` names it */
        fprintf(f, "## Spindles and slow waves (%s channel %s)\n", dw_montage_role_word(0, s->micro_label),
                s->micro_label);
    else
        fprintf(f, "## Spindles and slow waves (frontal channel)\n");
    dw_print_micro_totals(f, "", "", tot, set_aside);
    if (stage && n > 0) {
        double d[DW_NSTAGES][2];
        dw_micro_density(stage, n, (const int (*)[2])s->micro_count, s->micro_cap, d);
        dw_micro_for_region(s->micro_region, NULL, NULL, d);
        dw_print_micro_density(f, d);
    }
    if (s->micro_label[0])
        dw_print_micro_channel(f, "", s->micro_label, s->micro_region);   /* the note `score` prints */
    fputc('\n', f);
}

/* Stimuli followed by a slow wave / a spindle, and slow waves coupled to a spindle, overall and
 * after stimuli of a condition (cond -1: all). */
static void coupling(const dw_session *s, int cond, int *nst, int *so, int *sp)
{
    *nst = *so = *sp = 0;
    for (int i = 0; i < s->nstim; i++) {
        const dw_stim *x = &s->stim[i];
        if (cond >= 0 && x->condition != cond)
            continue;
        (*nst)++;
        *so += x->so_after;
        *sp += x->spindle_after;
    }
}

/* Slow waves with a spindle starting within COUPLED_S of their negative peak: all of them, and
 * those within SPINDLE_AFTER_S after a stimulus. */
static void so_spindle(const dw_session *s, int *n_all, int *c_all, int *n_stim, int *c_stim)
{
    *n_all = *c_all = *n_stim = *c_stim = 0;
    int j = 0, k = 0;
    for (int i = 0; i < s->nmicro; i++) {
        const struct micro *m = &s->micro[i];
        if (m->kind != DW_SLEEP_SLOW_WAVE || !micro_counts(s, m))
            continue;
        int coupled = 0;
        for (int q = 0; q < s->nmicro && !coupled; q++)
            coupled = s->micro[q].kind == DW_SLEEP_SPINDLE && s->micro[q].onset >= m->neg_t &&
                      s->micro[q].onset <= m->neg_t + COUPLED_S && micro_counts(s, &s->micro[q]);
        (*n_all)++;
        *c_all += coupled;
        while (k < s->nstim && s->stim[k].t < m->neg_t - SPINDLE_AFTER_S)
            k++;
        if (k < s->nstim && s->stim[k].t <= m->neg_t) {
            (*n_stim)++;
            *c_stim += coupled;
        }
        (void)j;
    }
}

static double pct(int a, int b) { return b ? 100.0 * a / b : 0; }

static void plot(FILE *f, const double *y[], const char *marks, int ns)
{
    enum { ROWS = 9, COLS = 41 };
    double m = 1e-9;
    for (int k = 0; k < ns; k++)
        for (int i = 0; i < DW_EVOKED_N; i++)
            m = fmax(m, fabs(y[k][i]));
    for (int r = 0; r < ROWS; r++) {
        double hi = m * (1 - 2.0 * r / (ROWS - 1)) + m / (ROWS - 1), lo = hi - 2 * m / (ROWS - 1);
        fprintf(f, "%+7.1f |", (hi + lo) / 2);
        for (int c = 0; c < COLS; c++) {
            char ch = c == 10 ? ':' : ' ';
            for (int k = 0; k < ns; k++) {
                double v = y[k][c * (DW_EVOKED_N - 1) / (COLS - 1)];
                if (v < hi && v >= lo)
                    ch = marks[k];
            }
            fputc(ch, f);
        }
        fputc('\n', f);
    }
    fprintf(f, "        -1 s      0 (stimulus)      +1 s      +2 s      +3 s   (uV)\n");
}

/* The evoked response and the SO-spindle coupling after stimuli; by condition when split is set. */
static void evoked_section(FILE *f, const dw_session *s, int split)
{
    double all[DW_EVOKED_N], act[DW_EVOKED_N], sham[DW_EVOKED_N];
    int n = dw_evoked_mean(&s->evoked, 2, all), na = dw_evoked_mean(&s->evoked, 0, act);
    int nsh = dw_evoked_mean(&s->evoked, 1, sham);
    fprintf(f, "## Evoked response (frontal channel, baseline -1..0 s)\n");
    if (split)
        fprintf(f, "sweeps: %d (active %d, sham %d)\nt_s\tall_uv\tactive_uv\tsham_uv\n", n, na,
                nsh);
    else
        fprintf(f, "sweeps: %d\nt_s\tall_uv\n", n);
    for (int i = 0; i < DW_EVOKED_N; i += 5) {
        fprintf(f, "%+.1f\t%.1f", dw_no_minus_zero(-DW_EVOKED_PRE_S + i * DW_EVOKED_DT, 1),
                dw_no_minus_zero(all[i], 1));
        if (split)
            fprintf(f, "\t%.1f\t%.1f", dw_no_minus_zero(act[i], 1), dw_no_minus_zero(sham[i], 1));
        fputc('\n', f);
    }
    if (n) {
        const double *y[3] = { all, act, sham };
        plot(f, split ? y + 1 : y, split ? "as" : "*", split ? 2 : 1);
        if (split)
            fprintf(f, "a = active, s = sham\n");
    }
    int nst, so, sp, ca, cs, cn, cso;
    coupling(s, -1, &nst, &so, &sp);
    fprintf(f,
            "\n## SO-spindle coupling\nafter a stimulus: a slow wave within %.1f s %.0f %%, a "
            "spindle within "
            "%.0f s %.0f %% (%d %s)\n",
            SO_AFTER_S, pct(so, nst), SPINDLE_AFTER_S, pct(sp, nst), nst,
            dw_plural(nst, "stimulus", "stimuli"));
    if (split)
        for (int c = 0; c < 2; c++) {
            coupling(s, c, &nst, &so, &sp);
            fprintf(f, "  %s: slow wave %.0f %%, spindle %.0f %% (%d)\n", dw_condition_name(c),
                    pct(so, nst), pct(sp, nst), nst);
        }
    so_spindle(s, &cn, &ca, &cso, &cs);
    fprintf(f,
            "slow waves with a spindle starting within %.1f s of the negative peak: %.0f %% of %d; "
            "of those "
            "after a stimulus %.0f %% of %d\n\n",
            COUPLED_S, pct(ca, cn), cn, pct(cs, cso), cso);
}

static void stim_section(FILE *f, const dw_session *s)
{
    int n[3] = { 0, 0, 0 }, nph, aroused = 0;
    for (int i = 0; i < s->nstim; i++) {
        n[s->stim[i].kind]++;
        aroused += s->stim[i].arousal == 1;
    }
    double mean, spread;
    circ_stats(s, &mean, &spread, &nph);
    fprintf(f, "## Stimulation\n%d slow-oscillation %s, %d %s (limit %d)\n", n[DW_STIM_SO],
            dw_plural(n[DW_STIM_SO], "stimulus", "stimuli"), n[DW_STIM_CUE],
            dw_plural(n[DW_STIM_CUE], "REM cue", "REM cues"), s->cfg->max_per_night);
    if (n[DW_STIM_TMR] || (s->proto->loaded && s->proto->cue_enabled))
        fprintf(f, "%d %s\n", n[DW_STIM_TMR], dw_plural(n[DW_STIM_TMR], "memory cue", "memory cues"));
    if (blinded(s))
        fprintf(f, "condition: blinded (sealed in %s)\n",
                s->sealed_path[0] ? s->sealed_path : "no file");
    else if (sham_protocol(s))
        fprintf(f, "condition: %d active, %d sham (%s)\n", s->nstim - s->nsham, s->nsham,
                s->proto->sham_mode == DW_SHAM_NIGHT ? "sham night" : "random per stimulus");
    if (s->cfg->arousal_aware)
        fprintf(f,
                "arousal-aware: %d %s followed by an arousal; volume %g at the end (set %g, "
                "floor %g)\n",
                aroused, dw_plural(aroused, "stimulus", "stimuli"), s->volume, s->cfg->volume, s->cfg->volume_min);
    if (nph)
        fprintf(f, "phase at delivery: circular mean %+.0f deg, circular SD %.0f deg (n = %d; "
                   "up-state = 0)\n", dw_no_minus_zero(mean, 0), dw_no_minus_zero(spread, 0), nph);
    int split = sham_protocol(s) && !blinded(s);
    /* n: "SO stim n", "REM cue n", "Memory cue n", as the log names them. A quantity a row does not
     * have is "-": a cue has no trough and no phase (only slow-oscillation stimuli aim at a
     * trough), a phase not known (no crossings bracketed the delivery), an arousal not judged, an
     * item of no cue. */
    fprintf(f, "n\tkind\tt_s\ttrough_s\ttrough_uv\tphase_deg\tstage\tvolume\tarousal\tso_after\t"
               "spindle_after\titem%s\n", split ? "\tcondition" : "");
    for (int i = 0; i < s->nstim; i++) {
        const dw_stim *x = &s->stim[i];
        char trough[48] = "-\t-", phase[16] = "-", arousal[8] = "-";
        if (x->kind == DW_STIM_SO)
            snprintf(trough, sizeof trough, "%.3f\t%.1f", dw_no_minus_zero(x->trough_t, 3),
                     dw_no_minus_zero(x->trough_uv, 1));
        if (x->kind == DW_STIM_SO && !isnan(x->phase_deg))
            snprintf(phase, sizeof phase, "%.0f", dw_no_minus_zero(x->phase_deg, 0));
        if (x->arousal >= 0)
            snprintf(arousal, sizeof arousal, "%d", x->arousal);
        fprintf(f, "%ld\t%s\t%.3f\t%s\t%s\t%s\t%g\t%s\t%d\t%d\t%s", x->n, kind_name(x->kind), x->t,
                trough, phase, dw_stage_name(x->stage), x->volume, arousal, x->so_after,
                x->spindle_after, x->item >= 0 ? s->proto->cued[x->item] : "-");
        if (split)
            fprintf(f, "\t%s", dw_condition_name(x->condition));
        fputc('\n', f);
    }
    fputc('\n', f);
}

static void cues_section(FILE *f, const dw_session *s)
{
    const dw_protocol *p = s->proto;
    if (!p->loaded || !p->cue_enabled)
        return;
    fprintf(f, "## Memory cues\nitem\tcued\tplayed\n");
    for (int i = 0; i < p->ncued; i++) {
        int k = 0;
        for (int j = 0; j < s->nstim; j++)
            k += s->stim[j].kind == DW_STIM_TMR && s->stim[j].item == i;
        fprintf(f, "%s\tyes\t%d\n", p->cued[i], k);
    }
    for (int i = 0; i < p->nuncued; i++)
        fprintf(f, "%s\tno\t0\n", p->uncued[i]);
    fputc('\n', f);
}

/* One awakening as a TSV row (the table and the summary share it). */
static void awakening_row(FILE *f, const dw_session *s, const dw_awakening *w)
{
    char clock[16] = "-";
    if (w->alarm_wall > 0) {
        time_t tt = (time_t)w->alarm_wall;
        struct tm tm;
        localtime_r(&tt, &tm);
        strftime(clock, sizeof clock, "%H:%M:%S", &tm);
    }
    fprintf(f, "%ld\t%.1f\t%s\t%s\t%.1f\t%d\t%d\t", w->id, w->alarm_t, clock,
            dw_stage_name(w->stage), w->dwell_min, w->attempts, w->escalated);
    w->awake_t >= 0 ? fprintf(f, "%.0f", w->awake_t - w->alarm_t) : fputs("n/a", f);
    fprintf(f, "\t%d\t", w->cancelled);
    w->asleep_t >= 0 ? fprintf(f, "%.1f", (w->asleep_t - w->alarm_t) / 60) : fputs("n/a", f);
    for (int q = 0; q < s->proto->nq; q++) {
        fputc('\t', f);
        for (const char *p = w->answer[q][0] ? w->answer[q] : "n/a"; *p; p++)
            fputc(*p == '\t' || *p == '\n' || *p == '\r' ? ' ' : *p, f);
        w->latency_s[q] >= 0 ? fprintf(f, "\t%.1f", w->latency_s[q]) : fputs("\tn/a", f);
    }
    fputc('\n', f);
}

static void awakenings_header(FILE *f, const dw_session *s)
{
    fprintf(
        f,
        "awakening\talarm_s\tclock\tstage\tdwell_min\tattempts\tescalated\ttime_to_w_s\tcancelled\t"
        "asleep_again_min");
    for (int q = 0; q < s->proto->nq; q++)
        fprintf(f, "\tq%d_answer\tq%d_latency_s", q + 1, q + 1);
    fputc('\n', f);
}

static void awakenings_section(FILE *f, const dw_session *s)
{
    if (!s->proto->loaded || !s->proto->aw_enabled)
        return;
    fprintf(f, "## Awakenings\n%d %s (at most %d)\n", s->aw.n,
            dw_plural(s->aw.n, "awakening", "awakenings"), s->proto->aw_max);
    for (int q = 0; q < s->proto->nq; q++)
        fprintf(f, "q%d (%s): %s\n", q + 1, dw_answer_type_name(s->proto->q[q].type),
                s->proto->q[q].text);
    awakenings_header(f, s);
    for (int i = 0; i < s->aw.n; i++)
        awakening_row(f, s, &s->aw.aw[i]);
    fputc('\n', f);
}

void dw_session_failed(dw_session *s, const char *text)
{
    if (s->nfailed < 4)
        snprintf(s->failed[s->nfailed], sizeof s->failed[0], "%s", text);
    s->nfailed++;
}

/* What failed at the end of the night, first: the reader must not take the files for whole. */
static void failed_section(FILE *f, const dw_session *s)
{
    if (!s->nfailed)
        return;
    fprintf(f, "## Failed\n");
    for (int i = 0; i < s->nfailed && i < 4; i++)
        fprintf(f, "%s\n", s->failed[i]);
    if (s->nfailed > 4)
        fprintf(f, "and %d more (see the exit lines)\n", s->nfailed - 4);
    fputc('\n', f);
}

int dw_session_write_summary(dw_session *s, FILE *f, const dw_night *night, const dw_staged_night *staged)
{
    fprintf(f, "# dreamwatch session summary\n\n");
    failed_section(f, s);
    if (s->proto->loaded)
        fprintf(f, "protocol: %s (%s)\n\n", s->proto->name[0] ? s->proto->name : "unnamed",
                s->proto->path);
    if (night) {
        fprintf(f, "%s: %s\n\n## Sleep\n", night->kind[0] ? night->kind : "night", night->source);
        if (staged) {                           /* the same lines as `score`'s summary, by one function */
            dw_staged_night sn = *staged;
            sn.st = &night->st;
            sn.rem_periods = night->rem_periods;
            dw_print_staged_night(f, "", &sn);
        } else {
            dw_print_sleep_stats(f, "", &night->st);
            fprintf(f, "REM periods %d\n", night->rem_periods);
        }
        dw_night_print_seeks(f, "", night->seeks, night->seek_skipped, night->seek_restaged);
        fputc('\n', f);
    }
    micro_section(f, s, s->hyp, s->nhyp);
    stim_section(f, s);
    if (s->nstim)
        evoked_section(f, s, sham_protocol(s) && !blinded(s));
    cues_section(f, s);
    awakenings_section(f, s);
    if (s->live) {
        const dw_datapath *d = &s->dp;
        long all = d->frames + d->lost_frames;
        fprintf(f, "## Data path\nsamples received %ld, samples lost %ld (%.3f %%), gaps %ld "
                "(%.3f s in all), reconnects %d\n", d->frames, d->lost_frames,
                all ? 100.0 * d->lost_frames / all : 0.0, d->gaps, d->gap_s, d->reconnects);
        /* the impedance check stops the board on purpose: time without EEG that is not loss */
        fprintf(f, "deliberate pauses %ld (%.3f s in all; impedance check, the board stopped: "
                "not lost)\n\n", d->pauses, d->pause_s);
        if (d->rec_files > 0)                /* the recording's own losses: a full disk, a write error */
            fprintf(f, "recording: %d %s, %.1f s not recorded%s\n\n", d->rec_files,
                    dw_plural(d->rec_files, "file", "files"), d->rec_unrecorded_s,
                    d->rec_failures > 0 ? " (writing failed: see the alerts)" : "");
    }
    fprintf(f, "## Alerts\n%d %s\nid\tt_s\tseverity\trule\tacked\tactive\ttext\n",
            dw_alerts_n(s->alerts), dw_plural(dw_alerts_n(s->alerts), "alert", "alerts"));
    for (int i = 0; i < dw_alerts_n(s->alerts); i++) {
        const dw_alert_view *a = dw_alerts_get(s->alerts, i);
        fprintf(f, "%u\t%.1f\t%s\t%s\t%d\t%d\t%s\n", a->id, a->t, dw_severity_name(a->severity),
                a->rule, a->acked, a->active, a->text);
    }
    fprintf(f, "\n## Events\nt_s\tkind\ttext\n");
    for (int i = 0; i < s->nev; i++) {
        fprintf(f, "%.3f\t%s\t", s->ev[i].t, s->ev[i].kind);
        for (const char *p = s->ev[i].text; *p; p++)
            *p == '\n' ? fputs("\n\t\t", f) : fputc(*p, f);   /* dream reports stay readable */
        fputc('\n', f);
    }
    if (night) {
        dw_night fig = *night;
        fig.stimuli = fig.cues = 0;
        for (int i = 0; i < s->nstim; i++)
            s->stim[i].kind == DW_STIM_SO ? fig.stimuli++ : fig.cues++;   /* memory cues are cues */
        fig.alerts = dw_alerts_n(s->alerts);
        fig.critical = 0;
        for (int i = 0; i < fig.alerts; i++)
            fig.critical += dw_alerts_get(s->alerts, i)->severity == DW_CRITICAL;
        fputc('\n', f);
        dw_night_print_figures(f, &fig);
    }
    return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

int dw_session_write_awakenings(dw_session *s, const char *path, dw_err *err)
{
    if (!s->proto->loaded || !s->proto->aw_enabled)
        return 1;
    dw_out o;
    FILE *f = NULL;
    if (dw_out_begin(&o, path, 0, err) < 0)
        return -1;
    if (!(f = fdopen(dup(o.fd), "w"))) {
        dw_err_set(err, "%s: cannot write", path);
        dw_out_abort(&o);
        return -1;
    }
    awakenings_header(f, s);
    for (int i = 0; i < s->aw.n; i++)
        awakening_row(f, s, &s->aw.aw[i]);
    if (fclose(f) != 0) {
        dw_err_set(err, "%s: cannot write", path);
        dw_out_abort(&o);
        return -1;
    }
    if (dw_out_commit(&o, err) < 0)
        return -1;
    dw_outputs_add(s->hooks.outputs, "awakenings", path);
    return 0;
}

/* The kinds of event that go to the events table as they were logged (trial_type = kind, value =
 * text). */
static int tabled(const char *kind)
{
    static const char *const k[] = { "awakening", "wake", "awake", "question", "answer",
                                     "questionnaire", "arousal", "volume", "alert", "marker",
                                     "dream_report", "mode", "check" };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (!strcmp(kind, k[i]))
            return 1;
    return 0;
}

int dw_session_write_events(dw_session *s, const char *path, dw_err *err)
{
    const signed char *stage = s->hyp;
    int n = s->nhyp;
    dw_bids_events *e = dw_bids_events_new();
    int split = sham_protocol(s) && !blinded(s);
    static const char *const type[] = { "stimulus", "rem_cue", "memory_cue" };
    for (int i = 0; i < n; i++)
        dw_bids_events_add(e, (double)i * DW_EPOCH_S, DW_EPOCH_S, "sleep_stage",
                           stage[i] == DW_UNSCORED ? NULL : dw_stage_name(stage[i]));
    for (int i = 0; i < s->nmicro; i++)
        if (micro_counts(s, &s->micro[i]))
            dw_bids_events_addf(e, s->micro[i].onset, s->micro[i].dur,
                                dw_sleep_event_name(s->micro[i].kind), "%.1f", s->micro[i].amp);
    for (int i = 0; i < s->nstim; i++) {
        const dw_stim *x = &s->stim[i];
        char tt[48];
        snprintf(tt, sizeof tt, "%s%s%s", type[x->kind], split ? "/" : "",
                 split ? dw_condition_name(x->condition) : "");
        if (x->kind == DW_STIM_TMR)
            dw_bids_events_add(e, x->t, NAN, tt, s->proto->cued[x->item]);
        else
            dw_bids_events_addf(e, x->t, NAN, tt, "%ld", x->n);
    }
    for (int i = 0; i < s->nev; i++)
        if (tabled(s->ev[i].kind))
            dw_bids_events_add(e, s->ev[i].t, NAN, s->ev[i].kind, s->ev[i].text);
    int r = dw_bids_events_write(e, path, 0, err);
    dw_bids_events_free(e);
    if (r < 0)
        return -1;
    dw_outputs_add(s->hooks.outputs, "events table", path);
    return 0;
}

void dw_session_seal(dw_session *s)
{
    if (!s->sealed)
        return;
    fputc('\n', s->sealed);
    fprintf(s->sealed, "# end of the night: %d %s, %d active, %d sham\n", s->nstim,
            dw_plural(s->nstim, "stimulus or cue", "stimuli and cues"), s->nstim - s->nsham, s->nsham);
    evoked_section(s->sealed, s, 1);
    fflush(s->sealed);
}

void dw_session_view_get(const dw_session *s, dw_session_view *v)
{
    memset(v, 0, sizeof *v);
    v->version = s->version;
    v->mode = s->mode;
    v->stim_count = v->cue_count = v->tmr_count = 0;
    for (int i = 0; i < s->nstim; i++)
        s->stim[i].kind == DW_STIM_SO    ? v->stim_count++
        : s->stim[i].kind == DW_STIM_CUE ? v->cue_count++
                                         : v->tmr_count++;
    v->sham_count = sham_protocol(s) && !blinded(s) ? s->nsham : -1;
    v->wants_dream_report = s->wants_dream_report;
    snprintf(v->last_event, sizeof v->last_event, "%s", s->last_event);
    v->volume = s->volume;
    v->volume_control = s->cfg->arousal_aware;
    v->unattended = s->unattended;
    snprintf(v->protocol, sizeof v->protocol, "%s", s->proto->loaded ? s->proto->name : "");
    session_awaken_view(s, v);
    v->micro = s->micro_view;
    double y[DW_EVOKED_N];
    for (int c = 0; c < 3; c++) {
        if (c > 0 && v->sham_count < 0)
            break;                         /* blinded, or no sham: the pooled response only */
        v->evoked_n[c] = dw_evoked_mean(&s->evoked, c == 0 ? 2 : c - 1, y);
        for (int i = 0; i < DW_EVOKED_PLOT; i++)
            v->evoked[c][i] = (float)y[i * (DW_EVOKED_N - 1) / (DW_EVOKED_PLOT - 1)];
    }
}
