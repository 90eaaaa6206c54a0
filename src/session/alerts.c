/* The alert engine: hysteresis, one alert per cause, acknowledge, snooze, repeats of critical alerts. */
#include "session/alerts_priv.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* on / raise_at are offsets of dw_session_cfg fields; raise_at 0 means the fixed raise_s (0: at once; the rule
 * itself may already have waited, e.g. no_samples counts its own seconds). */
static const struct rule {
    const char *name;
    int severity;
    size_t on;            /* int enable flag */
    size_t raise_at;      /* double seconds the cause must hold, or 0: raise_s */
    double raise_s;
    double clear_s;       /* seconds the cause must be gone */
} rules[DW_AL_NRULES] = {
#define R(id, name, sev, on, raise, clear) [id] = { name, sev, offsetof(dw_session_cfg, on), raise, 0, clear }
#define RF(id, name, sev, on, raise, clear) [id] = { name, sev, offsetof(dw_session_cfg, on), 0, raise, clear }
    R(DW_AL_FLAT,            "flat",             DW_WARNING,  al_flat,            offsetof(dw_session_cfg, al_flat_s), 5),
    R(DW_AL_RAILED,          "railed",           DW_WARNING,  al_railed,          offsetof(dw_session_cfg, al_railed_s), 5),
    RF(DW_AL_MAINS,          "mains",            DW_WARNING,  al_mains,           10, 10),
    R(DW_AL_ARTEFACT,        "artefact",         DW_WARNING,  al_artefact,        offsetof(dw_session_cfg, al_artefact_s), 5),
    R(DW_AL_MOVEMENT,        "movement",         DW_INFO,     al_movement,        offsetof(dw_session_cfg, al_movement_s), 5),
    R(DW_AL_NO_SAMPLES,      "no_samples",       DW_CRITICAL, al_no_samples,      0, 0),
    R(DW_AL_LOSS,            "loss",             DW_WARNING,  al_loss,            0, 10),
    R(DW_AL_RECONNECT,       "reconnect",        DW_WARNING,  al_reconnect,       0, 0),
    RF(DW_AL_DRIFT,          "drift",            DW_WARNING,  al_drift,           10, 10),
    R(DW_AL_RECORDING,       "recording",        DW_CRITICAL, al_recording,       0, 0),
    R(DW_AL_NO_ONSET,        "no_onset",         DW_INFO,     al_no_onset,        0, 0),
    R(DW_AL_LONG_WASO,       "long_waso",        DW_INFO,     al_long_waso,       0, 0),
    R(DW_AL_LONG_REM,        "long_rem",         DW_INFO,     al_long_rem,        0, 0),
    R(DW_AL_REM_AWAKENINGS,  "rem_awakenings",   DW_WARNING,  al_rem_awakenings,  0, 0),
    R(DW_AL_AROUSALS,        "arousals",         DW_INFO,     al_arousals,        0, 0),
    R(DW_AL_LOW_CONFIDENCE,  "low_confidence",   DW_INFO,     al_low_confidence,  0, 0),
    R(DW_AL_SHORT_SLEEP,     "short_sleep",      DW_INFO,     al_short_sleep,     0, 0),
    RF(DW_AL_UNLIKE_TRAINING, "unlike_training", DW_INFO,     al_unlike_training, 300, 600),
    R(DW_AL_WAKE_FAILED,     "wake_failed",      DW_CRITICAL, al_wake_failed,     0, 0),
    R(DW_AL_ACTUATOR_FAILED, "actuator_failed",  DW_WARNING,  al_actuator_failed, 0, 0),
    R(DW_AL_STIM_LIMIT,      "stim_limit",       DW_INFO,     al_stim_limit,      0, 0),
    R(DW_AL_BROKER,          "broker",           DW_INFO,     al_broker,          0, 0),
#undef R
#undef RF
};

const char *dw_rule_name(int rule) { return rule >= 0 && rule < DW_AL_NRULES ? rules[rule].name : "?"; }
int dw_rule_severity(int rule) { return rule >= 0 && rule < DW_AL_NRULES ? rules[rule].severity : DW_INFO; }

const char *dw_severity_name(int severity)
{
    static const char *const names[] = { "info", "warning", "critical" };
    return severity >= DW_INFO && severity <= DW_CRITICAL ? names[severity] : "?";
}

int dw_rule_enabled(const dw_alerts *a, int rule)
{
    return *(const int *)((const char *)a->cfg + rules[rule].on) != 0;
}

static double raise_s(const dw_alerts *a, int rule)
{
    return rules[rule].raise_at ? *(const double *)((const char *)a->cfg + rules[rule].raise_at) : rules[rule].raise_s;
}

const char *dw_alert_event_name(int ev)
{
    static const char *const names[] = { "raised", "cleared", "acknowledged", "repeat", "re-armed" };
    return ev >= 0 && ev <= DW_ALERT_REARMED ? names[ev] : "?";
}

dw_alerts *dw_alerts_new(const dw_session_cfg *cfg, dw_alerts_event_fn fn, void *ctx)
{
    dw_alerts *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->cfg = cfg;
    a->fn = fn;
    a->ctx = ctx;
    a->latch = 1;
    for (int r = 0; r < DW_AL_NRULES; r++)
        for (int s = 0; s < DW_AL_SLOTS; s++)
            a->cause[r][s] = (struct cause){ -1, -1, -1, 0 };
    dw_rules_init(&a->r);
    return a;
}

void dw_alerts_free(dw_alerts *a)
{
    if (!a)
        return;
    dw_rules_free(&a->r);
    free(a->al);
    free(a);
}

void dw_alerts_set_clock(dw_alerts *a, double start_wall, double lights_off_t)
{
    a->start_wall = start_wall;
    a->lights_off_t = lights_off_t;
    a->r.wake_target_wall = 0;        /* recomputed from the new clock at the next epoch */
}

void dw_alerts_set_latch(dw_alerts *a, int latch)
{
    a->latch = latch != 0;
    a->version++;
}

static void emit(dw_alerts *a, int ev, struct alert *al, double t, double wall)
{
    a->version++;
    if (a->fn)
        a->fn(a->ctx, ev, &al->v, t, wall);
}

static int raise_alert(dw_alerts *a, int rule, int slot, double t, double wall, int severity, const char *text)
{
    if (a->n == a->cap) {
        int cap = a->cap ? a->cap * 2 : 64;
        a->al = dw_xrealloc(a->al, (size_t)cap * sizeof *a->al, "the night's alerts");
        a->cap = cap;
    }
    struct alert *al = &a->al[a->n];
    memset(al, 0, sizeof *al);
    al->v.id = (unsigned)a->n + 1;
    al->v.t = t;
    al->v.wall = wall;
    al->v.severity = severity < 0 ? rules[rule].severity : severity;
    snprintf(al->v.rule, sizeof al->v.rule, "%s", rules[rule].name);
    snprintf(al->v.text, sizeof al->v.text, "%s", text ? text : rules[rule].name);
    al->v.active = 1;
    al->rule = rule;
    al->slot = slot;
    al->last_ring = wall;
    a->n++;
    emit(a, DW_ALERT_RAISED, al, t, wall);
    return a->n - 1;
}

void dw_alerts_cause(dw_alerts *a, int rule, int slot, int present, double now, double t, double wall,
                     int severity, const char *text)
{
    if (rule < 0 || rule >= DW_AL_NRULES || slot < 0 || slot >= DW_AL_SLOTS || !dw_rule_enabled(a, rule))
        return;
    struct cause *c = &a->cause[rule][slot];
    if (present) {
        c->absent_since = -1;
        if (c->present_since < 0 || now < c->present_since)
            c->present_since = now;
        if (c->open < 0) {
            if (now - c->present_since >= raise_s(a, rule) - 1e-9)
                c->open = raise_alert(a, rule, slot, t, wall, severity, text);
        } else if (text && strncmp(a->al[c->open].v.text, text, sizeof a->al[c->open].v.text - 1)) {
            snprintf(a->al[c->open].v.text, sizeof a->al[c->open].v.text, "%s", text);
            a->version++;
        }
        return;
    }
    c->present_since = -1;
    if (c->open < 0)
        return;
    if (c->absent_since < 0 || now < c->absent_since)
        c->absent_since = now;
    if (now - c->absent_since >= rules[rule].clear_s - 1e-9) {
        struct alert *al = &a->al[c->open];
        al->v.active = 0;
        c->open = -1;
        c->absent_since = -1;
        emit(a, DW_ALERT_CLEARED, al, t, wall);
    }
}

void dw_alerts_causef(dw_alerts *a, int rule, int slot, int present, double now, double t, double wall,
                      int severity, const char *fmt, ...)
{
    char text[96];
    if (present) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
    }
    dw_alerts_cause(a, rule, slot, present, now, t, wall, severity, present ? text : NULL);
}

/* One channel's hysteresis for a per-channel rule: 1 while it counts. */
static int channel_counts(dw_alerts *a, int rule, int ch, int present, double now)
{
    struct cause *c = &a->cause[rule][ch];
    if (present) {
        c->absent_since = -1;
        if (c->present_since < 0 || now < c->present_since)
            c->present_since = now;
        if (!c->counting && now - c->present_since >= raise_s(a, rule) - 1e-9)
            c->counting = 1;
    } else {
        c->present_since = -1;
        if (c->counting && (c->absent_since < 0 || now < c->absent_since))
            c->absent_since = now;
        if (c->counting && now - c->absent_since >= rules[rule].clear_s - 1e-9) {
            c->counting = 0;
            c->absent_since = -1;
        }
    }
    return c->counting;
}

void dw_alerts_channels(dw_alerts *a, int rule, unsigned present, int nch, const char (*label)[DW_LABEL_LEN],
                        double now, double t, double wall, const char *one, const char *many, const char *suffix)
{
    if (rule < 0 || rule >= DW_AL_NRULES || !dw_rule_enabled(a, rule))
        return;
    unsigned mask = 0;
    int count = 0;
    char list[sizeof a->al[0].v.text] = "", text[sizeof a->al[0].v.text];
    size_t len = 0;
    for (int ch = 0; ch < nch && ch < DW_MAX_CH; ch++)
        if (channel_counts(a, rule, ch, (present >> ch) & 1, now)) {
            const char *l = label[ch][0] ? label[ch] : "?";
            if (!strncmp(l, "EEG ", 4))
                l += 4;
            if (len < sizeof list)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", mask ? ", " : "", l);
            mask |= 1u << ch;
            count++;
        }
    snprintf(text, sizeof text, "%s %s%s", count > 1 ? many : one, list, suffix ? suffix : "");
    struct cause *c = &a->cause[rule][DW_AL_GLOBAL];
    if (mask && c->open < 0) {
        c->open = raise_alert(a, rule, DW_AL_GLOBAL, t, wall, -1, text);
        a->al[c->open].channels = mask;
    } else if (mask) {
        struct alert *al = &a->al[c->open];
        if (al->channels != mask || strcmp(al->v.text, text)) {
            al->channels = mask;
            snprintf(al->v.text, sizeof al->v.text, "%s", text);
            a->version++;
        }
    } else if (c->open >= 0) {
        struct alert *al = &a->al[c->open];
        al->v.active = 0;
        al->channels = 0;
        c->open = -1;
        emit(a, DW_ALERT_CLEARED, al, t, wall);
    }
}

int dw_alerts_channel_open(const dw_alerts *a, int rule, int ch)
{
    if (rule < 0 || rule >= DW_AL_NRULES || ch < 0 || ch >= DW_MAX_CH)
        return 0;
    int i = a->cause[rule][DW_AL_GLOBAL].open;
    return i >= 0 && (a->al[i].channels >> ch & 1);
}

void dw_alerts_tick(dw_alerts *a, double t, double wall)
{
    for (int i = 0; i < a->n; i++) {
        struct alert *al = &a->al[i];
        if (al->v.severity != DW_CRITICAL || !al->v.active)
            continue;                     /* cleared: it waits for its acknowledgement in silence */
        if (al->v.acked) {
            if (al->snooze_until > 0 && wall >= al->snooze_until) {
                al->v.acked = 0;
                al->last_ring = wall;
                emit(a, DW_ALERT_REARMED, al, t, wall);
            }
        } else if (wall - al->last_ring >= a->cfg->al_repeat_s) {
            al->last_ring = wall;
            emit(a, DW_ALERT_REPEAT, al, t, wall);
        }
    }
}

/* Which alert `a` acknowledges: the most severe unacknowledged one, active before cleared, oldest first. */
static int most_needing_ack(const dw_alerts *a)
{
    int best = -1;
    for (int k = 0; k < a->n; k++) {
        const dw_alert_view *v = &a->al[k].v, *b = best >= 0 ? &a->al[best].v : NULL;
        if (v->acked)
            continue;
        if (!b || v->severity > b->severity || (v->severity == b->severity && v->active && !b->active))
            best = k;
    }
    return best;
}

int dw_alerts_ack(dw_alerts *a, long id, double t, double wall)
{
    int i = -1;
    if (id < 0) {
        i = most_needing_ack(a);
    } else if (id >= 1 && id <= a->n) {
        i = (int)id - 1;
    }
    if (i < 0 || a->al[i].v.acked)
        return -1;
    struct alert *al = &a->al[i];
    al->v.acked = 1;
    al->snooze_until = a->cfg->al_snooze_min > 0 ? wall + a->cfg->al_snooze_min * 60 : 0;
    emit(a, DW_ALERT_ACKED, al, t, wall);
    return 0;
}

int dw_alerts_critical_open(const dw_alerts *a)
{
    return dw_alerts_blocking(a) != NULL;
}

const dw_alert_view *dw_alerts_blocking(const dw_alerts *a)
{
    for (int i = 0; i < a->n; i++)
        if (a->al[i].v.severity == DW_CRITICAL &&
            (a->al[i].v.active || (a->latch && !a->al[i].v.acked)))
            return &a->al[i].v;
    return NULL;
}

void dw_alerts_set_escalated(dw_alerts *a, unsigned id)
{
    if (id >= 1 && id <= (unsigned)a->n && !a->al[id - 1].v.escalated) {
        a->al[id - 1].v.escalated = 1;
        a->version++;
    }
}

const dw_alert_view *dw_alerts_open(const dw_alerts *a, int rule, int slot)
{
    if (rule < 0 || rule >= DW_AL_NRULES || slot < 0 || slot >= DW_AL_SLOTS)
        return NULL;
    int i = a->cause[rule][slot].open;
    return i >= 0 ? &a->al[i].v : NULL;
}

int dw_alerts_n(const dw_alerts *a) { return a->n; }
const dw_alert_view *dw_alerts_get(const dw_alerts *a, int i) { return i >= 0 && i < a->n ? &a->al[i].v : NULL; }

int dw_alerts_count(const dw_alerts *a, int rule)
{
    int k = 0;
    for (int i = 0; i < a->n; i++)
        if (rule < 0 || a->al[i].rule == rule)
            k++;
    return k;
}

static int is_open(const struct alert *al) { return al->v.active || !al->v.acked; }

unsigned long dw_alerts_version(const dw_alerts *a) { return a->version; }

int dw_alerts_view(const dw_alerts *a, dw_alert_view *out, int max)
{
    /* Open alerts always; the rest of the room goes to the newest closed ones. */
    int open = 0;
    for (int i = 0; i < a->n; i++)
        open += is_open(&a->al[i]);
    int closed_room = max - (open < max ? open : max);
    int closed_seen = 0, closed_total = a->n - open, k = 0;
    for (int i = 0; i < a->n && k < max; i++) {
        if (!is_open(&a->al[i]) && closed_total - closed_seen++ > closed_room)
            continue;
        out[k++] = a->al[i].v;
    }
    return k;
}
