/* Alerts: an engine (alerts.c) and the rules that feed it (alert_rules.c).
 *
 * Every rule has an id, a severity and a "cause present" boolean that its inputs re-evaluate. The engine
 * keeps one alert per cause (rule + slot, a slot being an actuator, or DW_AL_GLOBAL): it raises once the
 * cause has held for the rule's raise time and clears once it has been absent for the clear time; a cause
 * that comes back after clearing makes a new alert. The signal rules (flat, railed, artefact, mains) keep
 * that hysteresis per channel but give ONE alert per rule that names every channel with the cause (one
 * cause, one alert: an unplugged reference flattens eight channels at once).
 *
 * The acknowledgement rule (README "Alerts"):
 *   - a critical alert rings when it is raised and again every al_repeat_s (wall clock) while its cause is
 *     present and nobody has acknowledged it; the repeats stop when the cause clears or on acknowledgement;
 *   - an acknowledged critical alert whose cause is still there rings again after al_snooze_min (re-armed);
 *   - a critical alert that clears before anyone acknowledged it rings once more (its "cleared" event) and
 *     then waits, silent, for one acknowledgement; until then it still counts as open, so stimulation
 *     stays off, and dw_alerts_blocking() names it so the screen can say why (not in a replay with no
 *     screen, where nobody can acknowledge: dw_alerts_set_latch);
 *   - acknowledging without an id takes the alert that most needs it: the most severe unacknowledged one,
 *     active before cleared, the oldest first (the one that is ringing).
 * Every raise, clear, ack and repeat goes to the event hook with its source time and wall-clock time.
 *
 * Two clocks: t is source time (seconds since the start of the recording) and drives the signal and sleep
 * rules; wall is the real clock (dw_now_wall()) and drives the data-path rules (when samples stop, t stops),
 * the repeats and the snooze. Nothing here reads a clock itself. */
#ifndef DW_ALERTS_H
#define DW_ALERTS_H

#include "session/session_cfg.h"
#include "sources/source.h"

#define DW_MAX_ALERTS 64            /* alerts a view holds: every open one, then the newest closed */

enum dw_severity { DW_INFO = 0, DW_WARNING = 1, DW_CRITICAL = 2 };

/* One alert as the operator sees it (plain data, copied by assignment). */
typedef struct {
    unsigned id;
    double   t;            /* source time, s since start */
    double   wall;         /* wall clock, Unix time */
    int      severity;     /* enum dw_severity */
    char     rule[24];
    char     text[96];
    int      acked;
    int      active;       /* cause still present */
    int      escalated;    /* the escalation actuator was called for it (it then hears "resolved") */
} dw_alert_view;

enum dw_rule {
    /* signal, per channel */
    DW_AL_FLAT, DW_AL_RAILED, DW_AL_MAINS, DW_AL_ARTEFACT,
    /* signal, whole head */
    DW_AL_MOVEMENT,
    /* data path */
    DW_AL_NO_SAMPLES, DW_AL_LOSS, DW_AL_RECONNECT, DW_AL_DRIFT, DW_AL_RECORDING,
    /* sleep */
    DW_AL_NO_ONSET, DW_AL_LONG_WASO, DW_AL_LONG_REM, DW_AL_REM_AWAKENINGS, DW_AL_AROUSALS,
    DW_AL_LOW_CONFIDENCE, DW_AL_SHORT_SLEEP, DW_AL_UNLIKE_TRAINING,
    /* stimulation and control */
    DW_AL_WAKE_FAILED, DW_AL_ACTUATOR_FAILED, DW_AL_STIM_LIMIT,
    /* network: the broker link (DW_CMD_LINK) */
    DW_AL_BROKER,
    DW_AL_NRULES
};
#define DW_AL_SLOTS (DW_MAX_CH + 1)    /* per-channel slots, and one for causes without a channel */
#define DW_AL_GLOBAL DW_MAX_CH
#define DW_AL_LOW_DISK 0               /* the recording rule's second cause: low disk (a warning) */

/* What the engine reports. */
enum dw_alert_event { DW_ALERT_RAISED, DW_ALERT_CLEARED, DW_ALERT_ACKED, DW_ALERT_REPEAT, DW_ALERT_REARMED };
const char *dw_alert_event_name(int ev);

typedef struct dw_alerts dw_alerts;

/* event: a raise/clear/ack/repeat/re-arm (the session logs and annotates it, rings the bell, runs the
 * escalation actuator on a repeat). a->t/a->wall are when the alert was raised; t and wall when this
 * event happened. */
typedef void (*dw_alerts_event_fn)(void *ctx, int event, const dw_alert_view *a, double t, double wall);

dw_alerts *dw_alerts_new(const dw_session_cfg *cfg, dw_alerts_event_fn fn, void *ctx);
void dw_alerts_free(dw_alerts *a);
/* Clock time of t = 0 (Unix; 0 unknown: short_sleep is then off) and lights-off (source time). */
void dw_alerts_set_clock(dw_alerts *a, double start_wall, double lights_off_t);
/* Whether a critical alert that cleared before anyone acknowledged it still counts as open (keeps
 * stimulation off) until acknowledged: 1, the default and always for a live session (a sleeper in
 * the bed, an operator who must see what happened). The session turns it off only for a replay with
 * no screen (`--headless FILE`), where there is no sleeper to protect and nobody to press `a`; an
 * active critical alert keeps stimulation off in every case. */
void dw_alerts_set_latch(dw_alerts *a, int latch);

/* ---- engine ---- */
/* Rule table: name (also the alert's "rule" field), default severity, enabled by the config. */
const char *dw_rule_name(int rule);
int  dw_rule_severity(int rule);
/* A severity as the alerts say it everywhere (session log, summary, escalation command, broker):
 * "info", "warning", "critical"; "?" for a value out of range. */
const char *dw_severity_name(int severity);
int  dw_rule_enabled(const dw_alerts *a, int rule);
/* The cause of (rule, slot) is present or absent at time now (the rule's clock); t and wall stamp an
 * alert raised or cleared by this call. text describes the cause (copied when the alert is raised;
 * updated while it is open). severity < 0 takes the rule's. */
void dw_alerts_cause(dw_alerts *a, int rule, int slot, int present, double now, double t, double wall,
                     int severity, const char *text);
/* dw_alerts_cause with the text given as printf's fmt and arguments, formatted only while the cause is
 * present (the only time the text is read): for rules judged at every live read (perf: formatting texts
 * nobody read was a tenth of a wake-up's user CPU). The text is cut to 95 bytes. */
void dw_alerts_causef(dw_alerts *a, int rule, int slot, int present, double now, double t, double wall,
                      int severity, const char *fmt, ...) __attribute__((format(printf, 9, 10)));
/* A per-channel cause (the signal rules): bit c of present says channel c (< nch, label[c]) has it at time
 * now (the rule's clock). Each channel counts once its cause has held for the rule's raise time and stops
 * counting once it has been absent for the clear time; the rule's one alert (slot DW_AL_GLOBAL) is open
 * while any channel counts, its text is "ONE LABEL SUFFIX" or "MANY LABEL, LABEL... SUFFIX" naming the
 * channels counting now ("EEG " left off the labels). */
void dw_alerts_channels(dw_alerts *a, int rule, unsigned present, int nch, const char (*label)[DW_LABEL_LEN],
                        double now, double t, double wall, const char *one, const char *many, const char *suffix);
/* The rule's one alert is open and channel ch is among those it names. */
int  dw_alerts_channel_open(const dw_alerts *a, int rule, int ch);
/* Timers: repeats of unacknowledged critical alerts whose cause is present, snooze ends. */
void dw_alerts_tick(dw_alerts *a, double t, double wall);
/* Acknowledge alert id, or (id < 0) the one that most needs it: the most severe unacknowledged alert,
 * active before cleared, the oldest first. 0, or -1 if there is no such alert. */
int  dw_alerts_ack(dw_alerts *a, long id, double t, double wall);
/* A critical alert is open: active, or not yet acknowledged (the latter only with the latch on,
 * dw_alerts_set_latch). Stimulation never runs then. */
int  dw_alerts_critical_open(const dw_alerts *a);
/* The first open critical alert (what keeps stimulation off), or NULL. */
const dw_alert_view *dw_alerts_blocking(const dw_alerts *a);
/* Mark alert id as escalated (the session called the escalation actuator for it). */
void dw_alerts_set_escalated(dw_alerts *a, unsigned id);
/* The alert currently open for (rule, slot), or NULL. */
const dw_alert_view *dw_alerts_open(const dw_alerts *a, int rule, int slot);
/* Every alert of the night in order of raising: how many, and the i-th. */
int  dw_alerts_n(const dw_alerts *a);
const dw_alert_view *dw_alerts_get(const dw_alerts *a, int i);
/* Counters: raised so far for a rule (-1: all rules). */
int  dw_alerts_count(const dw_alerts *a, int rule);
/* Changes whenever an alert is raised, cleared, acknowledged or its text changes. */
unsigned long dw_alerts_version(const dw_alerts *a);
/* The alerts to show: every open alert, then the newest closed ones, in order of raising, at most max.
 * Returns how many were written to out. */
int  dw_alerts_view(const dw_alerts *a, dw_alert_view *out, int max);

/* ---- rules: the inputs (alert_rules.c) ---- */
/* The per-second quality verdict (dsp/quality.h) of every channel: the flat, railed, artefact and mains
 * rules, one cause per channel. */
void dw_alerts_quality(dw_alerts *a, const dw_quality_second *q, const dw_source_info *info, double wall);
/* Raw blocks as the source delivers them: the accelerometer; lost frames (block->gap) of a live source
 * (info->live) for the loss rule (a file's gap is a planned hole, not loss); the arrival time for the
 * no-samples rule. */
void dw_alerts_block(dw_alerts *a, const dw_block *b, const dw_source_info *info, double wall);

typedef struct {
    int    expecting;          /* samples should be arriving now (live and running; 0 when paused) */
    int    reconnects;         /* device reconnects so far */
    double drift_s;            /* board sample clock minus wall clock since the start (s) */
    int    rec_error;          /* the recording is failing now (write error, disk full) */
    char   rec_error_text[80];
    int    low_disk;           /* the recording's disk has less free space than asked ([recording]
                                  min_free_mb): a warning of the recording rule, apart from failures */
    char   low_disk_text[80];
    /* the night so far, for the summary (live sources; the alerts do not use them) */
    long   frames;             /* frames received */
    long   lost_frames;        /* frames lost in gaps, every cause (radio loss, outages) */
    long   gaps;               /* gaps: blocks that began after lost frames */
    double gap_s;              /* time in those gaps */
    long   pauses;             /* deliberate pauses: the board stopped on purpose (an impedance
                                  check, dw_block.pause); their frames are in no count above */
    double pause_s;            /* time in those pauses */
    int    rec_files;          /* files the recording went into (0: not recording) */
    int    rec_failures;       /* times writing the recording failed so far (0: it never did) */
    double rec_unrecorded_s;   /* source time no file holds (dropped while writing failed) */
} dw_datapath;
/* Data path, once per tick (also when no block arrives). */
void dw_alerts_datapath(dw_alerts *a, double t, double wall, const dw_datapath *d);
/* Each finished epoch (t = its end): sleep rules. stage DW_UNSCORED counts as no information. */
void dw_alerts_epoch(dw_alerts *a, double t, double wall, int stage, const double prob[DW_NSTAGES]);

/* Movement from the accelerometer: a reading further than thresh_g from a slow baseline (time constant
 * 2 s). Shared by the movement alert and the stimulation safety rule. */
typedef struct { double base[3], last_t, last_move_t; int init; } dw_motion;
void dw_motion_init(dw_motion *m);
/* 1 if this reading is a movement. */
int  dw_motion_push(dw_motion *m, double t, const double g[3], double thresh_g);

#endif
