/* Delivering stimuli and cues (slow-oscillation stimuli, REM cues, memory cues): the sham condition
 * and the sealed file, the volume and the arousal watch, the evoked response; and the frontal
 * channel's spindles and slow waves with their densities and their coupling to stimuli. */
#include "session/session_priv.h"

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/files.h"

static int sham_protocol(const dw_session *s)
{
    return s->proto->loaded && s->proto->sham_mode != DW_SHAM_OFF;
}

static int open_sealed(dw_session *s, dw_err *err)
{
    if (!sham_protocol(s) || !s->hooks.prefix || !s->hooks.prefix[0])
        return 0;
    int fd = dw_create_unique(s->hooks.prefix, ".sealed.tsv", s->sealed_path, sizeof s->sealed_path,
                              err);
    if (fd < 0 || !(s->sealed = fdopen(fd, "a"))) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    dw_outputs_add(s->hooks.outputs, "sealed", s->sealed_path);
    fprintf(s->sealed,
            "# SEALED: the condition of every stimulus and cue of this night (protocol %s, %s). "
            "Open after the night.\nn\tkind\tt_s\tcondition\n",
            s->proto->name[0] ? s->proto->name : "-",
            s->proto->sham_mode == DW_SHAM_NIGHT ? "sham night" : "random per stimulus");
    fflush(s->sealed);
    return 0;
}

int session_stim_init(dw_session *s, dw_err *err)
{
    const dw_protocol *p = s->proto;
    dw_sham_init(&s->sham, p->loaded ? p->sham_mode : DW_SHAM_OFF, p->sham_ratio, p->sham_seed);
    dw_tmr_init(&s->tmr, p);
    dw_arousal_init(&s->arousal, s->cfg->arousal_window_s, s->cfg->arousal_ratio);
    dw_evoked_init(&s->evoked);
    s->volume = s->cfg->volume;
    s->arousal_until = -1e9;
    s->micro_view.epoch = -1;
    s->micro_view.stage = DW_UNSCORED;
    session_stim_micro_view(s);
    return open_sealed(s, err);
}

void session_stim_free(dw_session *s)
{
    if (s->sealed)
        fclose(s->sealed);
    dw_evoked_free(&s->evoked);
    dw_sleep_events_free(s->micro_det);
    free(s->micro);
    free(s->micro_count);
    free(s->stim);
}

static void check_limit(dw_session *s, double t)
{
    if (s->nstim < s->cfg->max_per_night || s->limit_logged)
        return;
    s->limit_logged = 1;
    char text[96];
    snprintf(text, sizeof text, "stimulation limit reached (%d tonight)", s->nstim);
    session_event(s, t, 1, "stim_limit", "%s", text);
    dw_alerts_cause(s->alerts, DW_AL_STIM_LIMIT, DW_AL_GLOBAL, 1, t, t, s->wall, -1, text);
}

static dw_stim *add_stim(dw_session *s, int kind, double t, double trough_t, double trough_uv,
                         int item)
{
    if (s->nstim == s->capstim) {
        int cap = s->capstim ? s->capstim * 2 : 256;
        s->stim = dw_xrealloc(s->stim, (size_t)cap * sizeof *s->stim, "the night's stimuli");
        s->capstim = cap;
    }
    long n = 1;                            /* its number within its kind, as the log names it */
    for (int i = 0; i < s->nstim; i++)
        n += s->stim[i].kind == kind;
    dw_stim *st = &s->stim[s->nstim++];
    *st = (dw_stim){ .id = s->nstim, .n = n, .kind = kind, .t = t, .wall = s->wall,
                     .trough_t = trough_t, .trough_uv = trough_uv, .phase_deg = NAN,
                     .stage = s->stage, .condition = DW_ACTIVE, .volume = s->volume,
                     .item = item, .arousal = -1 };
    return st;
}

/* The log line of a stimulus, the same for an active and a sham one; unblinded, the condition
 * follows. */
static void log_stim(dw_session *s, const dw_stim *st)
{
    char cond[16] = "";
    if (sham_protocol(s) && !s->proto->blind)
        snprintf(cond, sizeof cond, " [%s]", dw_condition_name(st->condition));
    if (st->kind == DW_STIM_SO)
        session_event(s, st->t, 1, "stim", "SO stim %ld trough %.2f s (%.0f uV) %s%s", st->n,
                      st->trough_t - st->t, st->trough_uv, dw_stage_name(st->stage), cond);
    else if (st->kind == DW_STIM_CUE)
        session_event(s, st->t, 1, "cue", "REM cue %ld after %d R %s%s", st->n, s->cue.run,
                      dw_plural(s->cue.run, "epoch", "epochs"), cond);
    else
        session_event(s, st->t, 1, "tmr_cue", "Memory cue %ld: %s (%s)%s", st->n,
                      s->proto->cued[st->item], dw_stage_name(st->stage), cond);
}

dw_stim *session_deliver(dw_session *s, int kind, double t, double trough_t, double trough_uv,
                         int item)
{
    dw_stim *st = add_stim(s, kind, t, trough_t, trough_uv, item);
    st->condition = dw_sham_next(&s->sham);
    dw_act_vars v = { s->cfg->arousal_aware ? s->volume : s->cfg->volume,
                      item >= 0 ? s->proto->cued[item] : NULL };
    if (st->condition == DW_SHAM) {
        s->nsham++;
        session_fire(s, ACT_SHAM, t, 1, NULL);        /* nothing, or the silent trigger byte */
    } else {
        session_fire(s, kind == DW_STIM_SO ? ACT_STIM : ACT_CUE, t, 1, &v);
    }
    log_stim(s, st);
    if (s->sealed) {
        static const char *const kinds[] = { "SO", "cue", "tmr_cue" };
        fprintf(s->sealed, "%ld\t%s\t%.3f\t%s\n", st->n, kinds[kind], t,
                dw_condition_name(st->condition));
        fflush(s->sealed);
    }
    if (s->cfg->arousal_aware)
        dw_arousal_stimulus(&s->arousal, t, st->id);
    dw_evoked_stimulus(&s->evoked, t, st->id, st->condition);
    check_limit(s, t);
    return st;
}

/* ---- arousal-aware stimulation ---- */

static void volume_to(dw_session *s, double t, double v, const char *why)
{
    if (v == s->volume)
        return;
    session_event(s, t, 1, "volume", "Volume %g -> %g (%s)", s->volume, v, why);
    s->volume = v;
}

static void verdict(dw_session *s, const dw_arousal_result *r)
{
    for (int i = (int)r->first_id - 1; i >= 0 && i < s->nstim && s->stim[i].t <= r->t; i++)
        if (s->stim[i].arousal < 0)
            s->stim[i].arousal = r->aroused;
    if (!r->aroused) {
        s->quiet_run += r->nstim;
        if (s->quiet_run >= s->cfg->volume_up_after && s->volume < s->cfg->volume) {
            char why[64];
            snprintf(why, sizeof why, "%d quiet %s", s->quiet_run,
                     dw_plural(s->quiet_run, "stimulus", "stimuli"));
            volume_to(s, r->t, fmin(s->cfg->volume, s->volume + s->cfg->volume_step), why);
            s->quiet_run = 0;
        }
        return;
    }
    s->quiet_run = 0;
    s->arousal_until = r->t + s->cfg->arousal_pause_s;
    session_cancel_pending(s, r->t, "arousal");
    char what[48] = "stimulus";              /* as the log named it: "SO stim 3", "memory cue 2" */
    if (r->first_id >= 1 && r->first_id <= s->nstim) {
        const dw_stim *x = &s->stim[r->first_id - 1];
        static const char *const names[] = { "SO stim", "REM cue", "memory cue" };
        snprintf(what, sizeof what, "%s %ld", names[x->kind], x->n);
    }
    session_event(s, r->t, 1, "arousal", "Arousal after %s: %s; stimulation paused %.0f s", what,
                  r->cause, s->cfg->arousal_pause_s);
    char why[96];
    snprintf(why, sizeof why, "arousal after %s", what);
    volume_to(s, r->t, fmax(s->cfg->volume_min, s->volume - s->cfg->volume_step), why);
}

static void take_verdicts(dw_session *s, double t)
{
    dw_arousal_result r;
    if (s->cfg->arousal_aware && dw_arousal_take(&s->arousal, t, &r))
        verdict(s, &r);
}

void session_arousal_sign(dw_session *s, double t, const char *cause)
{
    if (!s->cfg->arousal_aware)
        return;
    dw_arousal_sign(&s->arousal, t, cause);
    take_verdicts(s, t);
}

/* ---- spindles and slow waves ---- */

static void count_micro(dw_session *s, int epoch, int kind)
{
    if (epoch < 0)
        return;
    if (epoch >= s->micro_cap) {
        int cap = s->micro_cap ? s->micro_cap : 1024;
        while (cap <= epoch)
            cap *= 2;
        s->micro_count =
            dw_xrealloc(s->micro_count, (size_t)cap * sizeof *s->micro_count, "the spindle counts");
        memset(s->micro_count + s->micro_cap, 0,
               (size_t)(cap - s->micro_cap) * sizeof *s->micro_count);
        s->micro_cap = cap;
    }
    s->micro_count[epoch][kind]++;
}

/* A spindle or slow wave: kept, counted, and marked on the stimuli it follows. */
static void on_micro(void *ctx, const dw_sleep_event *ev)
{
    dw_session *s = ctx;
    if (s->nmicro == s->capmicro) {
        s->capmicro = s->capmicro ? s->capmicro * 2 : 1024;
        s->micro = dw_xrealloc(s->micro, (size_t)s->capmicro * sizeof *s->micro,
                               "the spindles and slow waves");
    }
    s->micro[s->nmicro++] =
        (struct micro){ ev->onset_s, ev->dur_s, ev->amp_uv, ev->neg_t, ev->kind, ev->epoch };
    count_micro(s, ev->epoch, ev->kind);
    if (ev->epoch >= 0 && ev->epoch <= s->micro_view.epoch) {   /* a finished epoch's count moved */
        session_stim_micro_view(s);
        s->version++;
    }
    double at = ev->kind == DW_SLEEP_SLOW_WAVE ? ev->neg_t : ev->onset_s;
    double win = ev->kind == DW_SLEEP_SLOW_WAVE ? SO_AFTER_S : SPINDLE_AFTER_S;
    for (int i = s->nstim - 1; i >= 0 && s->stim[i].t >= at - win - 1e-9; i--)
        if (at >= s->stim[i].t) {
            if (ev->kind == DW_SLEEP_SLOW_WAVE)
                s->stim[i].so_after = 1;
            else
                s->stim[i].spindle_after = 1;
        }
}

void session_stim_micro_view(dw_session *s)
{
    dw_micro_view *v = &s->micro_view;
    const int (*count)[2] = (const int (*)[2])s->micro_count;
    int e = v->epoch;
    v->stage = e >= 0 && e < s->nhyp ? s->hyp[e] : DW_UNSCORED;
    for (int k = 0; k < 2; k++)
        v->last[k] = e >= 0 && e < s->micro_cap ? count[e][k] : 0;
    dw_micro_totals(s->hyp, s->nhyp, count, s->micro_cap, v->total, &v->set_aside);
    dw_micro_nrem_density(s->hyp, s->nhyp, count, s->micro_cap, v->nrem);
    dw_micro_density(s->hyp, s->nhyp, count, s->micro_cap, v->by_stage);
    v->region = s->micro_region;
    dw_micro_for_region(s->micro_region, v->total, v->nrem, v->by_stage);   /* as `score` */
}

void session_stim_micro(dw_session *s, double t, double fs, const double *x, int n)
{
    if (!s->micro_det || s->micro_fs != fs) {
        dw_sleep_events_free(s->micro_det);
        s->micro_det = dw_sleep_events_new(fs);       /* NULL below 64 Hz: no detection */
        s->micro_fs = fs;
    }
    if (s->micro_det)
        dw_sleep_events_push(s->micro_det, t, x, n, on_micro, s);
}

void session_stim_gap(dw_session *s)
{
    if (s->micro_det)
        dw_sleep_events_reset(s->micro_det);
    dw_arousal_reset(&s->arousal);
    dw_evoked_reset(&s->evoked);
}

void session_stim_seek(dw_session *s, int keep)
{
    int n = 0;
    for (int i = 0; i < s->nmicro; i++)                 /* detected again as the replay comes back */
        if (s->micro[i].epoch < keep)
            s->micro[n++] = s->micro[i];
    s->nmicro = n;
    for (int e = keep < 0 ? 0 : keep; e < s->micro_cap; e++)
        memset(s->micro_count[e], 0, sizeof s->micro_count[e]);
    session_stim_gap(s);
    if (s->micro_view.epoch >= keep)
        s->micro_view.epoch = keep - 1;
    session_stim_micro_view(s);
    s->version++;
}

/* ---- memory cues ---- */

static void tmr_cue(dw_session *s, double t)
{
    if (!s->proto->cue_enabled || !dw_tmr_due(&s->tmr, t) || session_blocked(s, DW_STIM_TMR, t))
        return;
    int item = dw_tmr_take(&s->tmr, t);
    session_deliver(s, DW_STIM_TMR, t, t, 0, item);
}

/* One frontal sample: detectors, the arousal watch, the evoked ring, cues due. */
void session_stim_filter(dw_session *s, double fs, const double *x, int n, double *ya2, double *yb2)
{
    if (s->cfg->arousal_aware)
        dw_arousal_filter(&s->arousal, fs, x, n, ya2, yb2);
    else
        for (int i = 0; i < n; i++)
            ya2[i] = yb2[i] = 0;
}

void session_stim_frontal(dw_session *s, double t, double fs, double x, double ya2, double yb2)
{
    if (s->cfg->arousal_aware) {
        dw_arousal_sample_filtered(&s->arousal, t, x, ya2, yb2);
        take_verdicts(s, t);
    }
    dw_evoked_sample(&s->evoked, fs, t, x);
    if (s->proto->cue_enabled && s->tmr.run >= s->proto->cue_after_epochs)
        tmr_cue(s, t);
}

void session_stim_epoch(dw_session *s, int epoch, int stage)
{
    dw_tmr_epoch(&s->tmr, stage);
    s->micro_view.epoch = epoch;
    session_stim_micro_view(s);
    s->version++;                          /* the view's densities and evoked response move on */
    tmr_cue(s, (epoch + 1) * (double)DW_EPOCH_S);
}

void session_stim_tick(dw_session *s, double t)
{
    take_verdicts(s, t);
    tmr_cue(s, t);
}
