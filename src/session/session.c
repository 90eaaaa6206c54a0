/* The session state machine: modes, stimulation with its safety rules, manual wake, shutdown, alerts. */
#include "session/session.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "session/actuator.h"
#include "session/rem_cue.h"
#include "session/slow_oscillation.h"

#define QUIET_S 30.0          /* stimulation stays off this long after movement or an artefact */
#define ARTEFACT_TAU_S 1.0    /* baseline of the frontal channel for the artefact check */
#define LATE_S 0.1            /* a stimulus that cannot be delivered within this of its time is dropped */

enum { ACT_STIM, ACT_CUE, ACT_WAKE, ACT_ESC, ACT_N };
static const char *const act_names[ACT_N] = { "stimulus", "cue", "wake", "escalation" };

struct event { double t, wall; char *kind, *text; };

struct dw_session {
    const dw_session_cfg *cfg;
    dw_session_hooks hooks;
    dw_session_log *log;
    int log_failed;
    dw_alerts *alerts;
    dw_actuator *act[ACT_N];
    double t, wall;                       /* latest source time and wall clock seen */
    int mode, mode_before_wake;
    unsigned long version, published;

    /* labels and movement */
    int stage, prov_stage;
    double quiet_until;
    dw_motion motion;
    double art_base, art_alpha;
    int art_init;

    /* slow oscillations */
    dw_so *so;
    double so_fs;
    int pending;
    dw_so_trough pend;
    double due;
    int train_n;
    double pause_until;

    dw_rem_cue cue;

    /* stimuli of the night */
    dw_stim *stim;
    int nstim, capstim;
    int limit_logged;

    /* manual wake */
    int wake_attempt, escalated;
    double wake_t0, wake_deadline;
    int wants_dream_report;

    struct event *ev;
    int nev, capev;
    char last_event[128];

    dw_datapath dp;                       /* the latest data-path figures (live sources) */
    int live;
};

static int target_so(int st) { return st == DW_N2 || st == DW_N3; }
static int target_cue(int st) { return st == DW_R; }

/* Every event: kept for the summary, written to the log, and (annotate) marked in the recording. */
__attribute__((format(printf, 5, 6)))
static void event(dw_session *s, double t, int annotate, const char *kind, const char *fmt, ...)
{
    char buf[DW_TEXT_MAX + 128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (s->nev == s->capev) {
        int cap = s->capev ? s->capev * 2 : 256;
        struct event *p = realloc(s->ev, (size_t)cap * sizeof *p);
        if (p) {
            s->ev = p;
            s->capev = cap;
        }
    }
    if (s->nev < s->capev) {
        struct event *e = &s->ev[s->nev];
        e->t = t;
        e->wall = s->wall;
        e->kind = strdup(kind);
        e->text = strdup(buf);
        if (e->kind && e->text)
            s->nev++;
        else {
            free(e->kind);
            free(e->text);
        }
    }
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

static void set_mode(dw_session *s, double t, int mode, const char *cause)
{
    if (s->mode == mode)
        return;
    event(s, t, 1, "mode", "Mode %s -> %s (%s)", dw_mode_name(s->mode), dw_mode_name(mode), cause);
    s->mode = mode;
}

static void cancel_pending(dw_session *s, double t, const char *why)
{
    if (!s->pending)
        return;
    s->pending = 0;
    event(s, t, 1, "stim_cancelled", "SO stim cancelled (%s), trough %.2f s", why, s->pend.t);
}

/* Natural mode, a manual wake and shutdown end stimulation now: the pending stimulus and any stimulus or
 * cue command still running (a sound being played) are stopped. */
static void stop_stimulation(dw_session *s, double t, const char *why)
{
    cancel_pending(s, t, why);
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

static void fire(dw_session *s, int which, double t, int attempt)
{
    dw_err err = { "" };
    if (!s->act[which])
        return;
    if (dw_actuator_fire(s->act[which], s->wall, attempt, &err) < 0) {
        event(s, t, 0, "actuator_failed", "%s", err.msg);
        dw_alerts_cause(s->alerts, DW_AL_ACTUATOR_FAILED, which, 1, t, t, s->wall,
                        which >= ACT_WAKE ? DW_CRITICAL : -1, err.msg);
    } else if (strcmp(dw_actuator_kind(s->act[which]), "command")) {
        dw_alerts_cause(s->alerts, DW_AL_ACTUATOR_FAILED, which, 0, t, t, s->wall, -1, NULL);
    }
}

static void on_alert(void *ctx, int ev, const dw_alert_view *a, double t, double wall)
{
    dw_session *s = ctx;
    static const char *const sev[] = { "info", "warning", "critical" };
    const char *sv = a->severity >= 0 && a->severity <= DW_CRITICAL ? sev[a->severity] : "?";
    (void)wall;
    /* repeats go to the log only: the recording would fill with them */
    event(s, t, ev != DW_ALERT_REPEAT && ev != DW_ALERT_REARMED, "alert", "Alert %u %s [%s] %s: %s", a->id,
          dw_alert_event_name(ev), sv, a->rule, a->text);
    int loud = a->severity >= DW_WARNING && s->cfg->bell;
    switch (ev) {
    case DW_ALERT_RAISED:
        if (a->severity == DW_CRITICAL)
            cancel_pending(s, t, "critical alert");
        if (loud)
            ring(s);
        break;
    case DW_ALERT_REPEAT:
        if (loud)
            ring(s);
        fire(s, ACT_ESC, t, 1);
        break;
    case DW_ALERT_REARMED:
        if (loud)
            ring(s);
        break;
    default:
        break;
    }
}

static dw_actuator *make_actuator(const dw_session *s, int which, dw_err *err)
{
    const dw_session_cfg *c = s->cfg;
    const char *kind[ACT_N] = { c->stim_actuator, c->cue_actuator, c->wake_actuator, c->escalation_actuator };
    const char *cmd[ACT_N] = { c->stim_command, c->cue_command, c->wake_command, c->escalation_command };
    int byte[ACT_N] = { c->stim_byte, c->cue_byte, c->wake_byte, c->wake_byte };
    dw_actuator_spec spec = {
        .kind = kind[which], .command = cmd[which], .serial_path = c->trigger_serial, .byte = byte[which],
        .timeout_s = c->command_timeout_s, .pass_attempt = which == ACT_WAKE,
        .bell = s->hooks.bell, .bell_ctx = s->hooks.ctx,
    };
    return dw_actuator_new(act_names[which], &spec, err);
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
    s->stage = s->prov_stage = DW_UNSCORED;
    s->pause_until = -1e9;
    s->quiet_until = -1e9;
    dw_motion_init(&s->motion);
    dw_rem_cue_init(&s->cue);
    int enhanced = !strcasecmp(cfg->start_mode, "enhanced");
    s->mode = !enhanced ? DW_MODE_NATURAL : (cfg->so_enabled || cfg->cue_enabled) ? DW_MODE_ENHANCED
                                                                                  : DW_MODE_MONITORING;
    event(s, 0, 1, "start", "Session start, mode %s", dw_mode_name(s->mode));
    return s;
}

void dw_session_free(dw_session *s)
{
    if (!s)
        return;
    for (int i = 0; i < ACT_N; i++)
        dw_actuator_free(s->act[i]);
    dw_so_free(s->so);
    dw_alerts_free(s->alerts);
    dw_session_log_close(s->log);
    for (int i = 0; i < s->nev; i++) {
        free(s->ev[i].kind);
        free(s->ev[i].text);
    }
    free(s->ev);
    free(s->stim);
    free(s);
}

void dw_session_set_clock(dw_session *s, double start_wall, double lights_off_t)
{
    dw_alerts_set_clock(s->alerts, start_wall, lights_off_t);
}

/* NULL when a stimulus of this kind may be given now, else why not. The rules live here, in code. */
static const char *blocked(const dw_session *s, int kind, double t)
{
    int (*target)(int) = kind == DW_STIM_SO ? target_so : target_cue;
    if (s->mode != DW_MODE_ENHANCED)
        return "not enhanced";
    if (kind == DW_STIM_SO ? !s->cfg->so_enabled : !s->cfg->cue_enabled)
        return "disabled";
    if (!target(s->stage))
        return "latest epoch not in the target stage";
    if (s->prov_stage != DW_UNSCORED && !target(s->prov_stage))
        return "provisional label not in the target stage";
    if (t < s->quiet_until)
        return "movement or artefact";
    if (s->nstim >= s->cfg->max_per_night)
        return "limit for the night reached";
    if (dw_alerts_critical_open(s->alerts))
        return "critical alert open";
    return NULL;
}

static void check_limit(dw_session *s, double t)
{
    if (s->nstim < s->cfg->max_per_night || s->limit_logged)
        return;
    s->limit_logged = 1;
    char text[96];
    snprintf(text, sizeof text, "stimulation limit reached (%d tonight)", s->nstim);
    event(s, t, 1, "stim_limit", "%s", text);
    dw_alerts_cause(s->alerts, DW_AL_STIM_LIMIT, DW_AL_GLOBAL, 1, t, t, s->wall, -1, text);
}

static dw_stim *add_stim(dw_session *s, int kind, double t, double trough_t, double trough_uv)
{
    if (s->nstim == s->capstim) {
        int cap = s->capstim ? s->capstim * 2 : 256;
        dw_stim *p = realloc(s->stim, (size_t)cap * sizeof *p);
        if (!p)
            return NULL;
        s->stim = p;
        s->capstim = cap;
    }
    dw_stim *st = &s->stim[s->nstim++];
    *st = (dw_stim){ .id = s->nstim, .kind = kind, .t = t, .wall = s->wall, .trough_t = trough_t,
                     .trough_uv = trough_uv, .phase_deg = NAN, .stage = s->stage };
    return st;
}

static void deliver_so(dw_session *s, double t)
{
    s->pending = 0;
    const char *why = blocked(s, DW_STIM_SO, t);
    if (why) {
        event(s, t, 1, "stim_cancelled", "SO stim cancelled (%s), trough %.2f s", why, s->pend.t);
        return;
    }
    if (t - s->due > LATE_S) {
        event(s, t, 0, "stim_cancelled", "SO stim dropped: %.2f s late", t - s->due);
        return;
    }
    dw_stim *st = add_stim(s, DW_STIM_SO, t, s->pend.t, s->pend.uv);
    if (!st)
        return;
    fire(s, ACT_STIM, t, 1);
    if (s->so)
        dw_so_mark(s->so, st->id, t);
    event(s, t, 1, "stim", "SO stim %ld trough %.2f s (%.0f uV) %s", st->id, st->trough_t - t, st->trough_uv,
          dw_stage_name(st->stage));
    if (++s->train_n >= s->cfg->so_train) {
        s->train_n = 0;
        s->pause_until = t + s->cfg->so_pause_s;
    }
    check_limit(s, t);
}

static void take_phases(dw_session *s)
{
    dw_so_phase p;
    while (dw_so_take_phase(s->so, &p)) {
        if (p.id < 1 || p.id > s->nstim)
            continue;
        dw_stim *st = &s->stim[p.id - 1];
        st->phase_deg = p.phase_deg;
        if (isnan(p.phase_deg))
            event(s, st->t, 0, "stim_phase", "SO stim %ld phase unknown", st->id);
        else
            event(s, st->t, 1, "stim_phase", "SO stim %ld phase %+.0f deg", st->id, p.phase_deg);
    }
}

static void artefact_check(dw_session *s, double t, double x)
{
    if (!s->art_init) {
        s->art_base = x;
        s->art_init = 1;
    }
    s->art_base += (x - s->art_base) * s->art_alpha;
    if (fabs(x - s->art_base) > s->cfg->al_artefact_uv) {
        if (t >= s->quiet_until)
            event(s, t, 0, "suspend", "stimulation suspended: artefact on the frontal channel");
        s->quiet_until = t + QUIET_S;
        cancel_pending(s, t, "artefact");
    }
}

void dw_session_frontal(dw_session *s, double t0, double fs, const double *x, int n)
{
    if (!s->so || s->so_fs != fs) {
        dw_so_free(s->so);
        s->so = dw_so_new(fs, s->cfg->so_threshold_uv);
        s->so_fs = fs;
        s->art_init = 0;
        s->art_alpha = 1 - exp(-1 / (fs * ARTEFACT_TAU_S));
        if (!s->so)
            return;
    }
    for (int i = 0; i < n; i++) {
        double t = t0 + i / fs;
        artefact_check(s, t, x[i]);
        dw_so_trough tr;
        if (dw_so_step(s->so, t, x[i], &tr) && !s->pending && t >= s->pause_until &&
            !blocked(s, DW_STIM_SO, t)) {
            s->pending = 1;
            s->pend = tr;
            s->due = tr.t + s->cfg->so_delay_s;
        }
        if (s->pending && t >= s->due - 0.5 / fs)
            deliver_so(s, t);
    }
    if (n > 0 && t0 + (n - 1) / fs > s->t)
        s->t = t0 + (n - 1) / fs;
    take_phases(s);
}

void dw_session_accel(dw_session *s, double t, const double g[3])
{
    if (dw_motion_push(&s->motion, t, g, s->cfg->movement_g)) {
        if (t >= s->quiet_until)
            event(s, t, 0, "suspend", "stimulation suspended: movement");
        s->quiet_until = t + QUIET_S;
        cancel_pending(s, t, "movement");
    }
}

void dw_session_block(dw_session *s, const dw_block *b, const dw_source_info *info, double wall)
{
    s->wall = wall;
    dw_alerts_block(s->alerts, b, info, wall);
    if (b->gap > 0 && s->so) {
        cancel_pending(s, b->t0, "gap in the signal");
        dw_so_reset(s->so);
        take_phases(s);
    }
    if (info->frontal >= 0 && info->frontal < info->nch && b->n > 0) {
        double col[512];
        for (int i0 = 0; i0 < b->n; i0 += 512) {
            int k = b->n - i0 < 512 ? b->n - i0 : 512;
            for (int i = 0; i < k; i++)
                col[i] = b->uv[(size_t)(i0 + i) * info->nch + info->frontal];
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
    event(s, t, 1, "awake", "Awake %.0f s after the wake (attempt %d)", t - s->wake_t0, s->wake_attempt);
    s->wake_attempt = 0;
    s->escalated = 0;
    s->wants_dream_report = 1;
    set_mode(s, t, s->mode_before_wake, "awake");
}

void dw_session_epoch(dw_session *s, int epoch, int stage, const double prob[DW_NSTAGES])
{
    double t = (epoch + 1) * (double)DW_EPOCH_S;
    if (t > s->t)
        s->t = t;
    s->stage = stage;
    s->prov_stage = DW_UNSCORED;           /* a new epoch starts with no provisional label */
    if (!target_so(stage))
        cancel_pending(s, t, stage == DW_W ? "wake" : "left N2/N3");
    dw_alerts_epoch(s->alerts, t, s->wall, stage, prob);
    if (s->mode == DW_MODE_WAKING && stage == DW_W && t > s->wake_t0)
        awake(s, t);
    if (dw_rem_cue_epoch(&s->cue, t, stage, s->cfg->cue_after_epochs, s->cfg->cue_interval_min)) {
        const char *why = blocked(s, DW_STIM_CUE, t);
        if (!why) {
            dw_stim *st = add_stim(s, DW_STIM_CUE, t, t, 0);
            if (st) {
                dw_rem_cue_delivered(&s->cue, t);
                fire(s, ACT_CUE, t, 1);
                event(s, t, 1, "cue", "REM cue %ld after %d R epochs", st->id, s->cue.run);
                check_limit(s, t);
            }
        }
    }
}

void dw_session_provisional(dw_session *s, int stage)
{
    s->prov_stage = stage;
    if (stage != DW_UNSCORED && !target_so(stage))
        cancel_pending(s, s->t, "provisional label left N2/N3");
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

static void start_wake(dw_session *s, double t)
{
    stop_stimulation(s, t, "manual wake");
    if (s->mode != DW_MODE_WAKING)
        s->mode_before_wake = s->mode;
    set_mode(s, t, DW_MODE_WAKING, "manual wake");
    s->wake_attempt = 1;
    s->escalated = 0;
    s->wake_t0 = t;
    s->wake_deadline = t + s->cfg->wake_timeout_s;
    event(s, t, 1, "wake", "Manual wake, attempt 1");
    fire(s, ACT_WAKE, t, 1);
}

int dw_session_command(dw_session *s, const dw_cmd *c, double t)
{
    if (t > s->t)
        s->t = t;
    if (s->mode == DW_MODE_SHUTDOWN && c->kind != DW_CMD_MARKER && c->kind != DW_CMD_DREAM_REPORT &&
        c->kind != DW_CMD_ACK)
        return c->kind == DW_CMD_SHUTDOWN;
    switch (c->kind) {
    case DW_CMD_WAKE:
        start_wake(s, t);
        break;
    case DW_CMD_NATURAL:
        if (c->arg != 0) {
            stop_stimulation(s, t, "natural mode");
            if (s->mode == DW_MODE_WAKING)
                s->mode_before_wake = DW_MODE_NATURAL;
            else
                set_mode(s, t, DW_MODE_NATURAL, "operator");
        } else {
            int m = s->cfg->so_enabled || s->cfg->cue_enabled ? DW_MODE_ENHANCED : DW_MODE_MONITORING;
            if (s->mode == DW_MODE_WAKING)
                s->mode_before_wake = m;
            else
                set_mode(s, t, m, "operator");
        }
        break;
    case DW_CMD_SHUTDOWN:              /* the cause (hangup, signal, end of recording) goes to the log */
        dw_session_shutdown(s, t, c->text[0] ? c->text : "operator");
        return 1;
    case DW_CMD_MARKER:
        event(s, t, 1, "marker", "Marker: %s", c->text);
        break;
    case DW_CMD_ACK:
        if (dw_alerts_ack(s->alerts, c->arg < 0 ? -1 : (long)c->arg, t, s->wall) < 0)
            event(s, t, 0, "ack", "no alert to acknowledge");
        break;
    case DW_CMD_DREAM_REPORT:
        event(s, t, 1, "dream_report", "Dream report: %s", c->text);
        s->wants_dream_report = 0;
        break;
    default:
        break;
    }
    return 0;
}

static void poll_actuators(dw_session *s, double t)
{
    for (int i = 0; i < ACT_N; i++) {
        dw_err err = { "" };
        int r;
        while ((r = dw_actuator_poll(s->act[i], s->wall, &err)) == DW_ACT_DONE || r == DW_ACT_FAILED) {
            if (r == DW_ACT_FAILED)
                event(s, t, 0, "actuator_failed", "%s", err.msg);
            dw_alerts_cause(s->alerts, DW_AL_ACTUATOR_FAILED, i, r == DW_ACT_FAILED, t, t, s->wall,
                            i >= ACT_WAKE ? DW_CRITICAL : -1, err.msg);
        }
    }
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
            event(s, t, 1, "wake", "Manual wake, attempt %d", s->wake_attempt);
            fire(s, ACT_WAKE, t, s->wake_attempt);
        } else {
            s->escalated = 1;
            char text[96];
            snprintf(text, sizeof text, "wake did not take after %d attempts (%.0f s)", s->wake_attempt,
                     t - s->wake_t0);
            event(s, t, 1, "wake", "Escalation: %s", text);
            dw_alerts_cause(s->alerts, DW_AL_WAKE_FAILED, DW_AL_GLOBAL, 1, t, t, wall, -1, text);
            fire(s, ACT_ESC, t, 1);
        }
    }
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
    set_mode(s, t, DW_MODE_SHUTDOWN, cause ? cause : "shutdown");
    return 0;
}

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
    double r = *n ? hypot(c, sn) / *n : 0;
    *mean = *n ? atan2(sn, c) * 180 / M_PI : NAN;
    *spread = *n && r > 0 ? sqrt(-2 * log(r)) * 180 / M_PI : NAN;    /* circular standard deviation */
}

int dw_session_write_summary(dw_session *s, FILE *f, const dw_sleep_stats *st)
{
    fprintf(f, "# dreamwatch session summary\n\n");
    if (st) {
        fprintf(f, "## Sleep\n");
        fprintf(f, "time in bed %.1f min, sleep period %.1f min, total sleep %.1f min\n", st->tib_min, st->spt_min,
                st->tst_min);
        fprintf(f, "sleep onset latency %.1f min, REM latency %.1f min, WASO %.1f min\n", st->sol_min,
                st->rem_latency_min, st->waso_min);
        fprintf(f, "sleep efficiency %.1f %%, maintenance efficiency %.1f %%\n", st->se_pct, st->sme_pct);
        for (int k = 0; k < DW_NSTAGES; k++)
            fprintf(f, "%-2s %6.1f min %5.1f %%\n", dw_stage_name(k), st->stage_min[k], st->stage_pct[k]);
        fprintf(f, "awakenings %d, stage transitions %.1f per hour\n\n", st->awakenings, st->transitions_per_h);
    }
    int nso = 0, ncue = 0, nph;
    for (int i = 0; i < s->nstim; i++)
        s->stim[i].kind == DW_STIM_SO ? nso++ : ncue++;
    double mean, spread;
    circ_stats(s, &mean, &spread, &nph);
    fprintf(f, "## Stimulation\n%d slow-oscillation stimuli, %d REM cues (limit %d)\n", nso, ncue,
            s->cfg->max_per_night);
    if (nph)
        fprintf(f, "phase at delivery: circular mean %+.0f deg, circular SD %.0f deg (n = %d; up-state = 0)\n",
                mean, spread, nph);
    fprintf(f, "id\tkind\tt_s\ttrough_s\ttrough_uv\tphase_deg\tstage\n");
    for (int i = 0; i < s->nstim; i++) {
        const dw_stim *x = &s->stim[i];
        fprintf(f, "%ld\t%s\t%.3f\t%.3f\t%.1f\t%.0f\t%s\n", x->id, x->kind == DW_STIM_SO ? "SO" : "cue", x->t,
                x->trough_t, x->trough_uv, x->phase_deg, dw_stage_name(x->stage));
    }
    if (s->live) {
        const dw_datapath *d = &s->dp;
        long all = d->frames + d->lost_frames;
        fprintf(f, "\n## Data path\nsamples received %ld, samples lost %ld (%.3f %%), gaps %ld "
                "(%.3f s in all), reconnects %d\n", d->frames, d->lost_frames,
                all ? 100.0 * d->lost_frames / all : 0.0, d->gaps, d->gap_s, d->reconnects);
    }
    fprintf(f, "\n## Alerts\n%d alerts\nid\tt_s\tseverity\trule\tacked\tactive\ttext\n", dw_alerts_n(s->alerts));
    for (int i = 0; i < dw_alerts_n(s->alerts); i++) {
        const dw_alert_view *a = dw_alerts_get(s->alerts, i);
        fprintf(f, "%u\t%.1f\t%d\t%s\t%d\t%d\t%s\n", a->id, a->t, a->severity, a->rule, a->acked, a->active,
                a->text);
    }
    fprintf(f, "\n## Events\nt_s\tkind\ttext\n");
    for (int i = 0; i < s->nev; i++) {
        fprintf(f, "%.3f\t%s\t", s->ev[i].t, s->ev[i].kind);
        for (const char *p = s->ev[i].text; *p; p++)
            *p == '\n' ? fputs("\n\t\t", f) : fputc(*p, f);   /* dream reports stay readable */
        fputc('\n', f);
    }
    return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

void dw_session_view_get(const dw_session *s, dw_session_view *v)
{
    v->version = s->version;
    v->mode = s->mode;
    v->stim_count = s->nstim;
    v->wants_dream_report = s->wants_dream_report;
    snprintf(v->last_event, sizeof v->last_event, "%s", s->last_event);
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
