/* The session state machine: modes, stimulation with its safety rules, manual wake, shutdown, alerts. */
#include "session/session.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/frames.h"
#include "session/session_priv.h"

static const char *const act_names[ACT_N] = { "stimulus", "cue", "wake", "escalation", "sham" };

int session_target_so(int st) { return st == DW_N2 || st == DW_N3; }
static int target_so(int st) { return session_target_so(st); }
static int target_cue(int st) { return st == DW_R; }

/* Every event: kept for the summary, written to the log, and (annotate) marked in the recording. */
void session_event(dw_session *s, double t, int annotate, const char *kind, const char *fmt, ...)
{
    char buf[DW_TEXT_MAX + 128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (s->nev == s->capev) {
        int cap = s->capev ? s->capev * 2 : 256;
        s->ev = dw_xrealloc(s->ev, (size_t)cap * sizeof *s->ev, "the session's events");
        s->capev = cap;
    }
    struct event *e = &s->ev[s->nev++];
    e->t = t;
    e->wall = s->wall;
    e->kind = dw_xstrdup(kind, "the session's events");
    e->text = dw_xstrdup(buf, "the session's events");
    if (dw_session_log_write(s->log, t, s->wall, kind, buf) < 0 && !s->log_failed) {
        s->log_failed = 1;          /* reported once; the recording alert covers it */
        dw_alerts_cause(s->alerts, DW_AL_RECORDING, DW_AL_GLOBAL, 1, s->wall, t, s->wall, -1,
                        "session log: write failed");
    }
    if (annotate && s->hooks.annotate)
        s->hooks.annotate(s->hooks.ctx, t, 0, buf);
    size_t k = strcspn(buf, "\n");             /* the status line shows the first line */
    if (k >= sizeof s->last_event)
        k = sizeof s->last_event - 1;
    memcpy(s->last_event, buf, k);
    s->last_event[k] = 0;
    s->version++;
}

void session_set_mode(dw_session *s, double t, int mode, const char *cause)
{
    if (s->mode == mode)
        return;
    session_event(s, t, 1, "mode", "Mode %s -> %s (%s)", dw_mode_name(s->mode), dw_mode_name(mode),
                  cause);
    s->mode = mode;
}

void session_cancel_pending(dw_session *s, double t, const char *why)
{
    if (!s->pending)
        return;
    s->pending = 0;
    session_event(s, t, 1, "stim_cancelled", "SO stim cancelled (%s), trough %.2f s", why,
                  s->pend.t);
}

/* Natural mode, a manual wake and shutdown end stimulation now: the pending stimulus and any stimulus or
 * cue command still running (a sound being played) are stopped. */
static void stop_stimulation(dw_session *s, double t, const char *why)
{
    session_cancel_pending(s, t, why);
    dw_actuator_stop(s->act[ACT_STIM], s->wall);
    dw_actuator_stop(s->act[ACT_CUE], s->wall);
}

static void ring(dw_session *s)
{
    if (s->hooks.bell)
        s->hooks.bell(s->hooks.ctx);
    else {
        fputc('\a', stderr);
        fflush(stderr);
    }
}

/* Fire an actuator (args: extra words for a command, or NULL: the attempt number for a wake
 * command; vars: {volume} and {item} for a stimulus or cue command). */
static void fire_with(dw_session *s, int which, double t, int attempt, const char *const *args,
                      int nargs, const dw_act_vars *vars)
{
    dw_err err = { 0 };
    if (!s->act[which])
        return;
    int r = args   ? dw_actuator_fire_args(s->act[which], s->wall, args, nargs, &err)
            : vars ? dw_actuator_fire_vars(s->act[which], s->wall, attempt, vars, &err)
                   : dw_actuator_fire(s->act[which], s->wall, attempt, &err);
    if (r < 0) {
        session_event(s, t, 0, "actuator_failed", "%s", err.msg);
        dw_alerts_cause(s->alerts, DW_AL_ACTUATOR_FAILED, which, 1, t, t, s->wall,
                        which >= ACT_WAKE ? DW_CRITICAL : -1, err.msg);
    } else if (strcmp(dw_actuator_kind(s->act[which]), "command")) {
        dw_alerts_cause(s->alerts, DW_AL_ACTUATOR_FAILED, which, 0, t, t, s->wall, -1, NULL);
    }
}

void session_fire(dw_session *s, int which, double t, int attempt, const dw_act_vars *vars)
{
    fire_with(s, which, t, attempt, NULL, 0, vars);
}

/* The escalation actuator for alert a: a command gets four arguments, the alert's id, its severity, the
 * state (active, resolved or acknowledged) and its text, so a pager can say what happened and close the
 * page when the cause has gone. */
static void escalate(dw_session *s, double t, const dw_alert_view *a, const char *state)
{
    char id[16];
    snprintf(id, sizeof id, "%u", a->id);
    const char *args[4] = { id, dw_severity_name(a->severity), state, a->text };
    unsigned aid = a->id;
    fire_with(s, ACT_ESC, t, 1, args, 4, NULL);
    dw_alerts_set_escalated(s->alerts, aid);
}

/* The alert rule's actions (alerts.h): a critical alert rings when raised, on each repeat and re-arm,
 * and once when it clears unacknowledged; each repeat calls the escalation actuator ("active"), and an
 * escalated alert's clear ("resolved") and acknowledgement ("acknowledged") call it once more. */
static void on_alert(void *ctx, int ev, const dw_alert_view *a, double t, double wall)
{
    dw_session *s = ctx;
    (void)wall;
    /* repeats go to the log only: the recording would fill with them */
    session_event(s, t, ev != DW_ALERT_REPEAT && ev != DW_ALERT_REARMED, "alert",
                  "Alert %u %s [%s] %s: %s", a->id, dw_alert_event_name(ev),
                  dw_severity_name(a->severity), a->rule, a->text);
    int loud = a->severity >= DW_WARNING && s->cfg->bell;
    switch (ev) {
    case DW_ALERT_RAISED:
        if (a->severity == DW_CRITICAL)
            session_cancel_pending(s, t, "critical alert");
        if (loud)
            ring(s);
        break;
    case DW_ALERT_REPEAT:
        if (loud)
            ring(s);
        escalate(s, t, a, "active");
        break;
    case DW_ALERT_REARMED:
        if (loud)
            ring(s);
        break;
    case DW_ALERT_CLEARED:
        if (a->severity == DW_CRITICAL && !a->acked && s->unattended)
            session_event(s, t, 1, "unattended",
                          "Alert %u cleared unacknowledged in a replay with no screen: it does not "
                          "keep stimulation off (nobody to acknowledge it)", a->id);
        else if (a->severity == DW_CRITICAL && !a->acked && loud)
            ring(s);                       /* once: it now waits for one acknowledgement */
        if (a->escalated)
            escalate(s, t, a, "resolved");
        break;
    case DW_ALERT_ACKED:
        if (a->escalated)
            escalate(s, t, a, "acknowledged");
        break;
    default:
        break;
    }
}

static dw_actuator *make_actuator(const dw_session *s, int which, dw_err *err)
{
    const dw_session_cfg *c = s->cfg;
    const char *kind[ACT_N] = { c->stim_actuator, c->cue_actuator, c->wake_actuator,
                                c->escalation_actuator, c->sham_actuator };
    const char *cmd[ACT_N] = { c->stim_command, c->cue_command, c->wake_command,
                               c->escalation_command, "" };
    int byte[ACT_N] = { c->stim_byte, c->cue_byte, c->wake_byte, c->wake_byte, c->sham_byte };
    dw_actuator_spec spec = {
        .kind = kind[which], .command = cmd[which], .serial_path = c->trigger_serial, .byte = byte[which],
        .timeout_s = c->command_timeout_s, .pass_attempt = which == ACT_WAKE,
        .bell = s->hooks.bell, .bell_ctx = s->hooks.ctx,
    };
    return dw_actuator_new(act_names[which], &spec, err);
}

static int protocol_active(const dw_session_cfg *c)
{
    return c->protocol.loaded && (c->protocol.aw_enabled || c->protocol.cue_enabled);
}

dw_session *dw_session_new(const dw_session_cfg *cfg, const dw_session_hooks *hooks, dw_err *err)
{
    dw_session *s = calloc(1, sizeof *s);
    if (!s || !(s->alerts = dw_alerts_new(cfg, on_alert, s))) {
        dw_err_set(err, "out of memory");
        if (hooks)
            dw_session_log_close(hooks->log);
        free(s);
        return NULL;
    }
    s->cfg = cfg;
    s->proto = &cfg->protocol;
    if (hooks)
        s->hooks = *hooks;
    s->hooks.log_path = NULL;
    s->log = s->hooks.log;
    s->hooks.log = NULL;
    for (int i = 0; i < ACT_N; i++)
        if (!(s->act[i] = make_actuator(s, i, err))) {
            dw_session_free(s);
            return NULL;
        }
    if (hooks && hooks->log_path && hooks->log_path[0] && !(s->log = dw_session_log_open(hooks->log_path, err))) {
        dw_session_free(s);
        return NULL;
    }
    s->frontal = s->parietal = -1;
    s->qcfg = dw_quality_settings(cfg);
    s->stage = s->prov_stage = DW_UNSCORED;
    s->pause_until = -1e9;
    s->quiet_until = -1e9;
    dw_motion_init(&s->motion);
    dw_rem_cue_init(&s->cue);
    int enhanced = !strcasecmp(cfg->start_mode, "enhanced");
    if (!enhanced)
        s->mode = DW_MODE_NATURAL;
    else if (cfg->so_enabled || cfg->cue_enabled || protocol_active(cfg))
        s->mode = DW_MODE_ENHANCED;
    else
        s->mode = DW_MODE_MONITORING;
    session_event(s, 0, 1, "start", "Session start, mode %s", dw_mode_name(s->mode));
    if (session_stim_init(s, err) < 0) {
        dw_session_free(s);
        return NULL;
    }
    session_awaken_init(s);
    return s;
}

void dw_session_free(dw_session *s)
{
    if (!s)
        return;
    for (int i = 0; i < ACT_N; i++)
        dw_actuator_free(s->act[i]);
    dw_so_free(s->so);
    session_stim_free(s);
    dw_awaken_free(&s->aw);
    dw_alerts_free(s->alerts);
    dw_session_log_close(s->log);
    for (int i = 0; i < s->nev; i++) {
        free(s->ev[i].kind);
        free(s->ev[i].text);
    }
    free(s->ev);
    free(s->hyp);
    free(s);
}

void dw_session_set_clock(dw_session *s, double start_wall, double lights_off_t)
{
    s->start_wall = start_wall;
    s->lights_off_t = lights_off_t;
    dw_alerts_set_clock(s->alerts, start_wall, lights_off_t);
    session_awaken_init(s);                /* the first awakening counts from lights-off */
}

void dw_session_set_source(dw_session *s, int live, int screen)
{
    s->unattended = !live && !screen;
    dw_alerts_set_latch(s->alerts, !s->unattended);
    s->version++;
}

/* The probability the latest epoch gives the target stages of a kind of stimulus. */
static double target_p(const dw_session *s, int kind)
{
    if (!s->have_prob)
        return s->stage == DW_UNSCORED ? 0 : 1; /* a caller without probabilities (tests, tables) */
    double p = 0;
    for (int k = 0; k < DW_NSTAGES; k++)
        if (kind == DW_STIM_SO    ? target_so(k)
            : kind == DW_STIM_CUE ? target_cue(k)
                                  : dw_tmr_target(&s->tmr, k))
            p += s->prob[k];
    return p;
}

static int is_target(const dw_session *s, int kind, int stage)
{
    return kind == DW_STIM_SO    ? target_so(stage)
           : kind == DW_STIM_CUE ? target_cue(stage)
                                 : dw_tmr_target(&s->tmr, stage);
}

/* NULL when a stimulus of this kind may be given now, else why not. The rules live here, in code; a
 * sham stimulus goes through the same ones. */
const char *session_blocked(const dw_session *s, int kind, double t)
{
    if (s->mode != DW_MODE_ENHANCED)
        return "not enhanced";
    if (s->checking)
        return "pre-night check running";
    if (kind == DW_STIM_SO ? !s->cfg->so_enabled : kind == DW_STIM_CUE ? !s->cfg->cue_enabled
                                                                       : !s->proto->cue_enabled)
        return "disabled";
    if (s->stage == DW_UNSCORED)
        return "latest epoch unscored (bad signal)";
    if (!is_target(s, kind, s->stage))
        return "latest epoch not in the target stage";
    if (target_p(s, kind) < s->cfg->min_confidence)
        return "latest epoch not confidently in the target stage";
    if (s->prov_stage != DW_UNSCORED && !is_target(s, kind, s->prov_stage))
        return "provisional label not in the target stage";
    if (t < s->quiet_until)
        return "movement or artefact";
    if (t < s->arousal_until)
        return "paused after an arousal";
    if (s->nstim >= s->cfg->max_per_night)
        return "limit for the night reached";
    if (dw_alerts_critical_open(s->alerts))
        return "critical alert open";
    for (int r = 0; r < 2; r++) {
        int ch = r ? s->parietal : s->frontal;
        if (ch >= 0 && (dw_alerts_channel_open(s->alerts, DW_AL_FLAT, ch) ||
                        dw_alerts_channel_open(s->alerts, DW_AL_RAILED, ch)))
            return "flat or railed staging channel";
    }
    return NULL;
}

static void deliver_so(dw_session *s, double t)
{
    s->pending = 0;
    const char *why = session_blocked(s, DW_STIM_SO, t);
    if (why) {
        session_event(s, t, 1, "stim_cancelled", "SO stim cancelled (%s), trough %.2f s", why,
                      s->pend.t);
        return;
    }
    if (t - s->due > LATE_S) {
        session_event(s, t, 0, "stim_cancelled", "SO stim dropped: %.2f s late", t - s->due);
        return;
    }
    dw_stim *st = session_deliver(s, DW_STIM_SO, t, s->pend.t, s->pend.uv, -1);
    if (!st)
        return;
    if (s->so)
        dw_so_mark(s->so, st->id, t);
    if (++s->train_n >= s->cfg->so_train) {
        s->train_n = 0;
        s->pause_until = t + s->cfg->so_pause_s;
    }
}

static void take_phases(dw_session *s)
{
    dw_so_phase p;
    while (dw_so_take_phase(s->so, &p)) {
        if (p.id < 1 || p.id > s->nstim)
            continue;
        dw_stim *st = &s->stim[p.id - 1];
        st->phase_deg = p.phase_deg;
        /* logged when it is known (after the up-state, often after the train's next stimulus), so the
         * log's times never go back; the stimulus's own time is in its "stim" line and the summary */
        double t = s->t > st->t ? s->t : st->t;
        if (isnan(p.phase_deg))
            session_event(s, t, 0, "stim_phase", "SO stim %ld phase unknown", st->n);
        else
            session_event(s, t, 1, "stim_phase", "SO stim %ld phase %+.0f deg", st->n, p.phase_deg);
    }
}

/* The verdict's artefact test (dsp/quality.h), sample by sample against the last second's mean, so
 * stimulation stops within the sample rather than at the end of the second. */
static void artefact_check(dw_session *s, double t, double x)
{
    if (!s->art_init)
        return;
    if (dw_quality_is_artefact(x, s->art_mean, &s->qcfg)) {
        if (t >= s->quiet_until)
            session_event(s, t, 0, "suspend",
                          "stimulation suspended: artefact on the frontal channel");
        s->quiet_until = t + QUIET_S;
        session_cancel_pending(s, t, "artefact");
    }
}

void dw_session_frontal(dw_session *s, double t0, double fs, const double *x, int n)
{
    if (!s->so || s->so_fs != fs) {
        dw_so_free(s->so);
        s->so = dw_so_new(fs, s->cfg->so_threshold_uv);
        s->so_fs = fs;
        if (!s->so)
            return;
    }
    /* the band-passes over the block first (nothing in the loop touches their state), then sample by
     * sample what decides: the same values to the bit as filtering in the loop, a third of the cost */
    double y[256], ya2[256], yb2[256];
    for (int i0 = 0; i0 < n; i0 += 256) {
        int m = n - i0 < 256 ? n - i0 : 256;
        dw_so_filter(s->so, x + i0, y, m);
        session_stim_filter(s, fs, x + i0, m, ya2, yb2);
        for (int k = 0; k < m; k++) {
            int i = i0 + k;
            double t = t0 + i / fs;
            artefact_check(s, t, x[i]);
            session_stim_frontal(s, t, fs, x[i], ya2[k], yb2[k]);
            dw_so_trough tr;
            if (dw_so_step_filtered(s->so, t, y[k], &tr) && !s->pending && t >= s->pause_until &&
                !session_blocked(s, DW_STIM_SO, t)) {
                s->pending = 1;
                s->pend = tr;
                s->due = tr.t + s->cfg->so_delay_s;
            }
            if (s->pending && t >= s->due - 0.5 / fs)
                deliver_so(s, t);
        }
    }
    session_stim_micro(s, t0, fs, x, n);
    if (n > 0 && t0 + (n - 1) / fs > s->t)
        s->t = t0 + (n - 1) / fs;
    take_phases(s);
}

void dw_session_accel(dw_session *s, double t, const double g[3])
{
    if (dw_motion_push(&s->motion, t, g, s->cfg->movement_g)) {
        if (t >= s->quiet_until)
            session_event(s, t, 0, "suspend", "stimulation suspended: movement");
        s->quiet_until = t + QUIET_S;
        session_cancel_pending(s, t, "movement");
        session_arousal_sign(s, t, "movement");
    }
}

void dw_session_quality(dw_session *s, const dw_quality_second *q, const dw_source_info *info, double wall)
{
    s->wall = wall;
    s->frontal = info->frontal;
    s->parietal = info->parietal;
    dw_alerts_quality(s->alerts, q, info, wall);
    double t = (double)(q->second + 1);
    unsigned bad = 0;
    if (s->frontal >= 0 && s->frontal < q->nch) {
        bad |= q->flag[s->frontal];
        s->art_mean = q->mean_uv[s->frontal];
        s->art_init = !(q->flag[s->frontal] & DW_Q_UNUSABLE);
    }
    if (s->parietal >= 0 && s->parietal < q->nch)
        bad |= q->flag[s->parietal];
    bad &= (DW_Q_UNUSABLE & ~DW_Q_LOST) | DW_Q_ARTEFACT;   /* a gap resets the SO detector already */
    if (bad) {
        if (t >= s->quiet_until)
            session_event(s, t, 0, "suspend", "stimulation suspended: %s on a staging channel",
                          dw_quality_name(bad));
        s->quiet_until = t + QUIET_S;
        session_cancel_pending(s, t, dw_quality_name(bad));
        session_arousal_sign(s, t, dw_quality_name(bad));
    }
}

void dw_session_block(dw_session *s, const dw_block *b, const dw_source_info *info, double wall)
{
    s->wall = wall;
    s->frontal = info->frontal;
    s->parietal = info->parietal;
    if (info->frontal >= 0 && info->frontal < info->nch &&
        strcmp(s->micro_label, info->label[info->frontal])) {
        snprintf(s->micro_label, sizeof s->micro_label, "%s", info->label[info->frontal]);
        s->micro_region = dw_montage_region(s->micro_label);   /* as `score`: dw_micro_on_region */
    }
    dw_alerts_block(s->alerts, b, info, wall);
    if (b->gap > 0 && s->so) {
        session_cancel_pending(s, b->t0, "gap in the signal");
        dw_so_reset(s->so);
        take_phases(s);
    }
    if (b->gap > 0)
        session_stim_gap(s);
    if (info->frontal >= 0 && info->frontal < info->nch && b->n > 0) {
        double col[512];
        for (int i0 = 0; i0 < b->n; i0 += 512) {
            int k = b->n - i0 < 512 ? b->n - i0 : 512;
            dw_frames_get_column(col, b->uv + (size_t)i0 * info->nch, info->nch, info->frontal, k);
            dw_session_frontal(s, b->t0 + i0 / info->fs, info->fs, col, k);
        }
    }
    if (b->accel_valid)
        dw_session_accel(s, b->t0 + b->n / info->fs, b->accel);
}

static void awake(dw_session *s, double t)
{
    if (s->escalated)
        dw_alerts_cause(s->alerts, DW_AL_WAKE_FAILED, DW_AL_GLOBAL, 0, t, t, s->wall, -1, NULL);
    session_event(s, t, 1, "awake", "Awake %.0f s after the wake (attempt %d)", t - s->wake_t0,
                  s->wake_attempt);
    s->wake_attempt = 0;
    s->escalated = 0;
    session_set_mode(s, t, s->mode_before_wake, "awake");
    if (s->wake_protocol) {
        s->wake_protocol = 0;
        session_awaken_awake(s, t);        /* the questionnaire instead of a free dream report */
    } else {
        s->wants_dream_report = 1;
    }
}

/* The hypnogram as the session saw it (a seek back re-stages from there; skipped epochs are
 * unscored). */
static void record_stage(dw_session *s, int epoch, int stage)
{
    if (epoch < 0)
        return;
    if (epoch >= s->caphyp) {
        int cap = s->caphyp ? s->caphyp : 1024;
        while (cap <= epoch)
            cap *= 2;
        s->hyp = dw_xrealloc(s->hyp, (size_t)cap, "the hypnogram");
        s->caphyp = cap;
    }
    while (s->nhyp < epoch)
        s->hyp[s->nhyp++] = DW_UNSCORED;
    s->hyp[epoch] = (signed char)stage;
    s->nhyp = epoch + 1;
}

static void rem_cue(dw_session *s, double t, int stage)
{
    if (!dw_rem_cue_epoch(&s->cue, t, stage, s->cfg->cue_after_epochs, s->cfg->cue_interval_min) ||
        session_blocked(s, DW_STIM_CUE, t))
        return;
    if (session_deliver(s, DW_STIM_CUE, t, t, 0, -1))
        dw_rem_cue_delivered(&s->cue, t);
}

void dw_session_seek(dw_session *s, int keep)
{
    if (keep < 0)
        keep = 0;
    if (s->nhyp > keep)
        s->nhyp = keep;                    /* a seek back: those epochs are staged again */
    session_stim_seek(s, keep);
}

void dw_session_epoch(dw_session *s, int epoch, int stage, const double prob[DW_NSTAGES])
{
    double t = (epoch + 1) * (double)DW_EPOCH_S;
    if (t > s->t)
        s->t = t;
    record_stage(s, epoch, stage);
    s->stage = stage;
    s->have_prob = prob != NULL;
    for (int k = 0; k < DW_NSTAGES; k++)
        s->prob[k] = prob ? prob[k] : 0;
    s->prov_stage = DW_UNSCORED;           /* a new epoch starts with no provisional label */
    if (!target_so(stage))
        session_cancel_pending(s, t, stage == DW_W ? "wake" : "left N2/N3");
    if (stage == DW_W || stage == DW_N1)
        session_arousal_sign(s, t, stage == DW_W ? "epoch scored W" : "epoch scored N1");
    dw_alerts_epoch(s->alerts, t, s->wall, stage, prob);
    if (s->mode == DW_MODE_WAKING && stage == DW_W && t > s->wake_t0)
        awake(s, t);
    rem_cue(s, t, stage);
    session_stim_epoch(s, epoch, stage);
    session_awaken_epoch(s, t, stage);
}

void dw_session_unlike_training(dw_session *s, int epoch, int unlike)
{
    double t = (epoch + 1) * (double)DW_EPOCH_S;
    dw_alerts_cause(s->alerts, DW_AL_UNLIKE_TRAINING, DW_AL_GLOBAL, unlike != 0, t, t, s->wall, -1,
                    "signal unlike the training data: agreement may be low");
}

void dw_session_provisional_p(dw_session *s, int stage, const double prob[DW_NSTAGES])
{
    s->prov_stage = stage;
    if (stage != DW_UNSCORED && !target_so(stage))
        session_cancel_pending(s, s->t, "provisional label left N2/N3");
    if ((stage == DW_W || stage == DW_N1) &&
        (!prob || prob[DW_W] + prob[DW_N1] >= s->cfg->arousal_p)) {
        char why[48];
        snprintf(why, sizeof why, "provisional %s", dw_stage_name(stage));
        session_arousal_sign(s, s->t, why);
    }
}

void dw_session_provisional(dw_session *s, int stage)
{
    dw_session_provisional_p(s, stage, NULL);
}

void dw_session_datapath(dw_session *s, double t, double wall, const dw_datapath *d)
{
    s->wall = wall;
    if (d->expecting || s->live) {
        s->dp = *d;
        s->live = 1;
    }
    dw_alerts_datapath(s->alerts, t, wall, d);
}

/* "Manual wake" or "Awakening N alarm" (a protocol awakening), for the log. */
static void wake_event(dw_session *s, double t, const char *what)
{
    dw_awakening *w = s->wake_protocol ? dw_awaken_current(&s->aw) : NULL;
    if (w)
        session_event(s, t, 1, "wake", "Awakening %ld alarm, %s %d", w->id, what, s->wake_attempt);
    else
        session_event(s, t, 1, "wake", "Manual wake, %s %d", what, s->wake_attempt);
    if (w)
        w->attempts = s->wake_attempt;
}

void session_start_wake(dw_session *s, double t, int protocol)
{
    stop_stimulation(s, t, protocol ? "awakening" : "manual wake");
    if (!protocol && s->wake_protocol)
        session_awaken_cancel(s, t, "a manual wake took over");
    if (s->mode != DW_MODE_WAKING)
        s->mode_before_wake = s->mode;
    s->wake_protocol = protocol;
    session_set_mode(s, t, DW_MODE_WAKING, protocol ? "awakening" : "manual wake");
    s->wake_attempt = 1;
    s->escalated = 0;
    s->wake_t0 = t;
    s->wake_deadline = t + s->cfg->wake_timeout_s;
    wake_event(s, t, "attempt");
    session_fire(s, ACT_WAKE, t, 1, NULL);
}

/* Natural mode or shutdown during a protocol awakening's alarm: no more attempts, no escalation. */
static void end_protocol_wake(dw_session *s, double t, const char *why, int mode)
{
    if (s->escalated)
        dw_alerts_cause(s->alerts, DW_AL_WAKE_FAILED, DW_AL_GLOBAL, 0, t, t, s->wall, -1, NULL);
    s->wake_attempt = 0;
    s->escalated = 0;
    s->wake_protocol = 0;
    session_awaken_cancel(s, t, why);
    session_set_mode(s, t, mode, why);
}

static void natural(dw_session *s, double t, int on)
{
    if (on) {
        stop_stimulation(s, t, "natural mode");
        if (s->mode == DW_MODE_WAKING && s->wake_protocol)
            end_protocol_wake(s, t, "natural mode", DW_MODE_NATURAL);
        else if (s->mode == DW_MODE_WAKING)
            s->mode_before_wake = DW_MODE_NATURAL;
        else
            session_set_mode(s, t, DW_MODE_NATURAL, "operator");
        return;
    }
    int m = s->cfg->so_enabled || s->cfg->cue_enabled || protocol_active(s->cfg)
                ? DW_MODE_ENHANCED
                : DW_MODE_MONITORING;
    if (s->mode == DW_MODE_WAKING)
        s->mode_before_wake = m;
    else
        session_set_mode(s, t, m, "operator");
}

int dw_session_command(dw_session *s, const dw_cmd *c, double t)
{
    if (t > s->t)
        s->t = t;
    if (s->mode == DW_MODE_SHUTDOWN && c->kind != DW_CMD_MARKER && c->kind != DW_CMD_DREAM_REPORT &&
        c->kind != DW_CMD_ACK && c->kind != DW_CMD_ANSWER && c->kind != DW_CMD_LINK)
        return c->kind == DW_CMD_SHUTDOWN;
    switch (c->kind) {
    case DW_CMD_WAKE:
        session_start_wake(s, t, 0);
        break;
    case DW_CMD_NATURAL:
        natural(s, t, c->arg != 0);
        break;
    case DW_CMD_SHUTDOWN:              /* the cause (hangup, signal, end of recording) goes to the log */
        dw_session_shutdown(s, t, c->text[0] ? c->text : "operator");
        return 1;
    case DW_CMD_MARKER:
        session_event(s, t, 1, "marker", "Marker: %s", c->text);
        break;
    case DW_CMD_ACK:
        if (dw_alerts_ack(s->alerts, c->arg < 0 ? -1 : (long)c->arg, t, s->wall) < 0)
            session_event(s, t, 0, "ack", "no alert to acknowledge");
        break;
    case DW_CMD_DREAM_REPORT:
        session_event(s, t, 1, "dream_report", "Dream report: %s", c->text);
        s->wants_dream_report = 0;
        break;
    case DW_CMD_ANSWER:
        session_awaken_answer(s, c, t);
        break;
    case DW_CMD_LINK:                  /* raised and cleared at once: the net layer reports transitions */
        dw_alerts_cause(s->alerts, DW_AL_BROKER, DW_AL_GLOBAL, c->arg == 0, s->wall, t, s->wall, -1,
                        c->text[0] ? c->text : "broker unreachable");
        break;
    default:
        break;
    }
    return 0;
}

void dw_session_note(dw_session *s, double t, const char *kind, int annotate, const char *text)
{
    session_event(s, t, annotate, kind, "%s", text);
}

void dw_session_check(dw_session *s, double t, int running)
{
    s->checking = running != 0;
    if (running)
        stop_stimulation(s, t, "pre-night check");
}

static void poll_actuators(dw_session *s, double t)
{
    for (int i = 0; i < ACT_N; i++) {
        dw_err err = { 0 };
        int r;
        while ((r = dw_actuator_poll(s->act[i], s->wall, &err)) == DW_ACT_DONE || r == DW_ACT_FAILED) {
            if (r == DW_ACT_FAILED)
                session_event(s, t, 0, "actuator_failed", "%s", err.msg);
            dw_alerts_cause(s->alerts, DW_AL_ACTUATOR_FAILED, i, r == DW_ACT_FAILED, t, t, s->wall,
                            i >= ACT_WAKE ? DW_CRITICAL : -1, err.msg);
        }
    }
}

double dw_session_next_due(const dw_session *s)
{
    return s->pending ? s->due : INFINITY;
}

void dw_session_tick(dw_session *s, double t, double wall)
{
    if (t > s->t)
        s->t = t;
    s->wall = wall;
    if (s->pending && t >= s->due)
        deliver_so(s, t);
    poll_actuators(s, t);
    if (s->mode == DW_MODE_WAKING && !s->escalated && t >= s->wake_deadline) {
        if (s->wake_attempt < s->cfg->wake_repeats) {
            s->wake_attempt++;
            s->wake_deadline = t + s->cfg->wake_timeout_s;
            wake_event(s, t, "attempt");
            session_fire(s, ACT_WAKE, t, s->wake_attempt, NULL);
        } else {
            s->escalated = 1;
            dw_awakening *w = s->wake_protocol ? dw_awaken_current(&s->aw) : NULL;
            if (w)
                w->escalated = 1;
            char text[96];
            snprintf(text, sizeof text, "wake did not take after %d attempts (%.0f s)", s->wake_attempt,
                     t - s->wake_t0);
            session_event(s, t, 1, "wake", "Escalation: %s", text);
            dw_alerts_cause(s->alerts, DW_AL_WAKE_FAILED, DW_AL_GLOBAL, 1, t, t, wall, -1, text);
            const dw_alert_view *v = dw_alerts_open(s->alerts, DW_AL_WAKE_FAILED, DW_AL_GLOBAL);
            if (v)
                escalate(s, t, v, "active");
            else {                 /* the rule is switched off: the escalation still goes out */
                const char *args[] = { "0", "critical", "active", text };
                fire_with(s, ACT_ESC, t, 1, args, 4, NULL);
            }
        }
    }
    session_stim_tick(s, t);
    session_awaken_tick(s, t);
    dw_alerts_tick(s->alerts, t, wall);
}

int dw_session_shutdown(dw_session *s, double t, const char *cause)
{
    if (s->mode == DW_MODE_SHUTDOWN)
        return 0;
    stop_stimulation(s, t, "shutdown");
    if (s->so) {
        dw_so_reset(s->so);                /* stimuli still waiting for a phase get none */
        take_phases(s);
    }
    if (s->mode == DW_MODE_WAKING && s->wake_protocol)
        end_protocol_wake(s, t, "shutdown", s->mode_before_wake);
    session_set_mode(s, t, DW_MODE_SHUTDOWN, cause ? cause : "shutdown");
    return 0;
}

static const char *const mode_names[] = { "MONITORING", "ENHANCED", "NATURAL", "WAKING", "SHUTDOWN" };

const char *dw_mode_name(int mode)
{
    return (mode >= 0 && mode <= DW_MODE_SHUTDOWN) ? mode_names[mode] : "?";
}

int dw_session_mode(const dw_session *s) { return s->mode; }
dw_alerts *dw_session_alerts(dw_session *s) { return s->alerts; }
int dw_session_nstim(const dw_session *s) { return s->nstim; }
const dw_stim *dw_session_stim(const dw_session *s, int i) { return i >= 0 && i < s->nstim ? &s->stim[i] : NULL; }
int dw_session_wants_dream_report(const dw_session *s) { return s->wants_dream_report; }
int dw_session_pending(const dw_session *s) { return s->pending; }

int dw_session_nevents(const dw_session *s) { return s->nev; }

int dw_session_event_view(const dw_session *s, int i, dw_event_view *out)
{
    if (i < 0 || i >= s->nev)
        return -1;
    const struct event *e = &s->ev[i];
    static const struct { const char *kind; int ev; } kinds[] = {
        { "marker", DW_EV_MARKER }, { "stim", DW_EV_STIM }, { "cue", DW_EV_CUE },
        { "dream_report", DW_EV_DREAM }, { "mode", DW_EV_NOTE }, { "start", DW_EV_NOTE },
        { "wake", DW_EV_NOTE }, { "awake", DW_EV_NOTE }, { "alert", DW_EV_NOTE }, { "stim_limit", DW_EV_NOTE },
        { "actuator_failed", DW_EV_NOTE }, { "tmr_cue", DW_EV_CUE }, { "awakening", DW_EV_NOTE },
        { "answer", DW_EV_NOTE }, { "questionnaire", DW_EV_NOTE }, { "arousal", DW_EV_NOTE },
        { "volume", DW_EV_NOTE }, { "check", DW_EV_NOTE }, { "unattended", DW_EV_NOTE },
    };
    int kind = -1;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        if (!strcmp(e->kind, kinds[k].kind))
            kind = kinds[k].ev;
    out->severity = DW_INFO;
    if (kind == DW_EV_NOTE && !strcmp(e->kind, "alert")) {     /* "Alert 3 raised [critical] rule: text" */
        char ev[16] = "", sev[16] = "";
        if (sscanf(e->text, "Alert %*u %15s [%15[a-z]]", ev, sev) != 2 || !strcmp(ev, "repeat") ||
            !strcmp(ev, "re-armed"))
            return -1;
        if (!strcmp(ev, "raised"))
            kind = DW_EV_ALERT;
        out->severity = !strcmp(sev, "critical") ? DW_CRITICAL : !strcmp(sev, "warning") ? DW_WARNING : DW_INFO;
    }
    if (kind < 0)
        return -1;
    out->t = e->t;
    out->wall = e->wall;
    out->kind = kind;
    size_t k = strcspn(e->text, "\n");
    snprintf(out->text, sizeof out->text, "%.*s%s", (int)(k < sizeof out->text ? k : sizeof out->text - 1),
             e->text, e->text[k] ? " ..." : "");
    return 0;
}
