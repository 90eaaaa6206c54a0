/* The session: mode (monitoring, enhanced, natural, waking, shutting down), the stimulation protocols
 * with their safety rules, manual wake, dream reports, markers, safe shutdown, and the alerts. Driven by
 * explicit calls with explicit times, no thread and no clock inside, so tests drive it exactly.
 *
 * Two clocks. t: source time, seconds since the start of the recording (stimulus timing, epochs, wake
 * timeout, signal and sleep alerts). wall: the real clock, dw_now_wall() (command timeouts, data-path
 * alerts, repeats and snooze of alerts, the log's clock column). The session keeps the latest of each.
 *
 * The worker's calls, all on its thread:
 *   s = dw_session_new(cfg, &hooks, &err);                  once, before the source starts
 *   dw_session_set_clock(s, info.start_epoch, m->lights_off_t);
 *   for each block read:   dw_session_block(s, &block, &info, dw_now_wall());   raw, at the source rate
 *   for each epoch staged: dw_session_epoch(s, epoch, stage, prob);
 *   for each provisional:  dw_session_provisional(s, stage);
 *   for each command:      if (dw_session_command(s, &cmd, t)) stop the device, close the recording;
 *   every loop (>= 10 Hz, also when no data comes):
 *                          dw_session_datapath(s, t, wall, &dp); dw_session_tick(s, t, wall);
 *   after changes:         lock m; dw_monitor_publish_session(m, s); unlock; dw_monitor_notify(m);
 *   on a signal:           dw_session_shutdown(s, t, "SIGTERM");
 *   at the end:            dw_session_write_summary(s, f, &stats, &staged); dw_session_free(s);
 *
 * Every event (mode change, stimulus, cue, wake attempt, alert, marker, dream report) is written to the
 * session log (flushed at once) and through hooks->annotate to the recording, each with its time. */
#ifndef DW_SESSION_H
#define DW_SESSION_H

#include <stdio.h>

#include "base/files.h"
#include "session/alerts.h"
#include "session/evoked.h"
#include "session/session_cfg.h"
#include "staging/epoch_tally.h"
#include "staging/hypnogram.h"
#include "staging/night.h"
#include "sources/source.h"

#define DW_TEXT_MAX 4096            /* markers, dream reports */

/* Session modes, as shown on screen. */
enum dw_mode { DW_MODE_MONITORING = 0, DW_MODE_ENHANCED, DW_MODE_NATURAL, DW_MODE_WAKING, DW_MODE_SHUTDOWN };
const char *dw_mode_name(int mode);

/* Operator commands: the screen (or a remote station) asks, the worker carries them out; the session
 * acts on WAKE, NATURAL, SHUTDOWN, MARKER, ACK, DREAM_REPORT and LINK. */
enum dw_cmd_kind {
    DW_CMD_PAUSE,          /* toggle */
    DW_CMD_SPEED,          /* arg: new speed (0 = as fast as possible) */
    DW_CMD_SEEK,           /* arg: seconds relative to now (replay only) */
    DW_CMD_WAKE,           /* manual wake (already confirmed by the operator) */
    DW_CMD_NATURAL,        /* arg: 1 on, 0 off */
    DW_CMD_SHUTDOWN,       /* safe shutdown */
    DW_CMD_MARKER,         /* text */
    DW_CMD_ACK,            /* acknowledge alert id (arg), or the newest if arg < 0 */
    DW_CMD_DREAM_REPORT,   /* text */
    DW_CMD_LINK,           /* the broker link (net layer): arg 1 up, 0 down; text describes it. Down raises
                              one info alert "broker" that up clears; nothing else changes */
    DW_CMD_ANSWER,         /* a questionnaire answer: arg = question number (1..), arg2 = seconds
                              from the question shown to the answer (< 0: unknown, the session
                              measures), text */
    DW_CMD_CHECK,          /* pre-night check (the worker runs it on a live source) */
};

typedef struct {
    int    kind;
    double arg, arg2;
    char   text[DW_TEXT_MAX];
} dw_cmd;

/* ---- session log: one TSV line per event (t_s, clock time, kind, text); tabs, newlines and
 * backslashes in the text are escaped as \t \n \\, so long multi-line dream reports stay whole. ---- */
typedef struct dw_session_log dw_session_log;
/* Creates path (mode 0600, exclusively: an existing file or a planted symlink is refused, never appended
 * to). NULL with err naming the file. */
dw_session_log *dw_session_log_open(const char *path, dw_err *err);
/* Creates stem.session.tsv, or stem-2.session.tsv, ... whichever is free first (two sessions started in
 * the same second get their own logs); the name used goes to path. NULL with err. */
dw_session_log *dw_session_log_create(const char *stem, char *path, size_t cap, dw_err *err);
/* 0, or -1 when the write failed (the caller raises a recording alert). Flushed before returning. */
int  dw_session_log_write(dw_session_log *l, double t, double wall, const char *kind, const char *text);
void dw_session_log_close(dw_session_log *l);

/* ---- session ---- */
typedef struct dw_session dw_session;

typedef struct {
    /* A recording annotation at source time t (dur 0 for an instant) with the full text: the recorder
     * cuts it to 40 characters in the BDF and keeps the whole text in its side log. NULL: none. */
    void (*annotate)(void *ctx, double t, double dur, const char *text);
    /* Ring the terminal bell (the screen thread owns the terminal). NULL: BEL to stderr. */
    void (*bell)(void *ctx);
    void *ctx;
    const char *log_path;          /* session log to create; NULL or "" for none */
    dw_session_log *log;           /* or a log already created (dw_session_log_create); the session owns
                                      it from dw_session_new on, even when that fails */
    const char *prefix; /* stem of the files the session writes during the night (the sealed
                           conditions of a sham protocol: PREFIX.sealed.tsv); NULL: none */
    dw_outputs *outputs;           /* every file the session creates is added here (the sealed file,
                                      the awakenings and events tables); NULL: nowhere */
} dw_session_hooks;

/* Kinds of stimulus in the summary and dw_session_stim(): slow-oscillation stimulus, REM cue,
 * memory cue from the protocol's list (targeted memory reactivation). */
enum dw_stim_kind { DW_STIM_SO = 0, DW_STIM_CUE, DW_STIM_TMR };

typedef struct {
    long   id;                 /* 1, 2, ... over the night (stimuli and cues share the count) */
    long   n;                  /* 1, 2, ... within its kind: "SO stim 3", "REM cue 1" (texts, screen) */
    int    kind;               /* enum dw_stim_kind */
    double t;                  /* delivery, source time */
    double wall;
    double trough_t;           /* SO: the detected trough; cue: the epoch end that triggered it */
    double trough_uv;
    double phase_deg;          /* SO: phase at delivery (landmark estimate), NAN until known / cue */
    int    stage;              /* latest epoch label at delivery */
    int    condition;          /* DW_ACTIVE or DW_SHAM (session/sham.h): a sham one sent nothing */
    double volume;             /* the level given to {volume} at delivery */
    int    item;               /* memory cue: index in the protocol's cued list; -1 */
    int    arousal;            /* -1 not judged yet, 0 quiet, 1 an arousal followed */
    int so_after; /* a slow wave's negative peak within 0-1.5 s after it (dsp/sleep_events.h) */
    int    spindle_after;      /* a spindle starting within 0-3 s after it */
} dw_stim;

/* NULL with err on a bad actuator setting or a log that cannot be created. The mode starts as
 * cfg->start_mode says (enhanced, or monitoring if no protocol is enabled; natural). */
dw_session *dw_session_new(const dw_session_cfg *cfg, const dw_session_hooks *hooks, dw_err *err);
void dw_session_free(dw_session *s);
/* Clock time of t = 0 and lights-off (source time): the sleep alerts need them. */
void dw_session_set_clock(dw_session *s, double start_wall, double lights_off_t);

/* Who is there (the default, before any call: live with a screen). live: a sleeper in the bed (a
 * serial board) or a replay of a file; screen: an operator at the monitor (the headless session has
 * none). A replay with no screen is unattended, and only then:
 *   - the questionnaire's timeouts run on source time (at --speed 0 a 60-s question times out 60 s
 *     later in the night, at once on the wall clock); otherwise on the wall clock, since someone may
 *     answer in real time (live, source time also stops when the data does);
 *   - a critical alert that cleared before anyone acknowledged it no longer keeps stimulation and
 *     awakenings off (no sleeper to protect, nobody to press `a`; the log says so when it clears).
 * A live session, headless or not, keeps the README's rule ("Alerts"). */
void dw_session_set_source(dw_session *s, int live, int screen);

/* A raw block as the source delivers it: signal alerts, the frontal channel (info->frontal) for the
 * slow-oscillation detector, the accelerometer; a gap resets the detector. */
void dw_session_block(dw_session *s, const dw_block *b, const dw_source_info *info, double wall);
/* The quality verdict of every channel for one second (staging/pipeline's sink): the signal alerts, and
 * stimulation suspended for 30 s after a flat, railed, out-of-range or artefact second on a staging channel
 * (info->frontal, info->parietal); lost frames reset the slow-oscillation detector (dw_session_block). */
void dw_session_quality(dw_session *s, const dw_quality_second *q, const dw_source_info *info, double wall);
/* The pieces of dw_session_block, for a caller (or a test) that has them separately. */
void dw_session_frontal(dw_session *s, double t0, double fs, const double *x, int n);
void dw_session_accel(dw_session *s, double t, const double g[3]);
/* A replay's seek: staging goes on from epoch keep (the target's epoch). A seek back forgets the
 * epochs from keep on (their stages, spindles and slow waves: they are staged and detected again, never
 * counted twice); either way the detectors and the arousal and evoked rings start again (the stream
 * jumped), and the screen's running densities (dw_micro_view) are those of the epochs kept, at once. */
void dw_session_seek(dw_session *s, int keep);
/* Each finished epoch (0-based; it ends at (epoch + 1) * 30 s). prob may be NULL. */
void dw_session_epoch(dw_session *s, int epoch, int stage, const double prob[DW_NSTAGES]);
/* After a staged epoch: whether the night is unlike the model's training data (the pipeline's
 * unlike_training, from dw_stager_unlike_training); held 5 min it raises the info alert
 * unlike_training, cleared after 10 min without it. */
void dw_session_unlike_training(dw_session *s, int epoch, int unlike);
/* The provisional label of the epoch in progress (DW_UNSCORED: none). A stimulus needs both labels in
 * its target stage. */
void dw_session_provisional(dw_session *s, int stage);
/* The same with its probabilities (may be NULL): a W or N1 label with p(W) + p(N1) of at least
 * [stimulation] arousal_p inside an arousal watch counts as an arousal. */
void dw_session_provisional_p(dw_session *s, int stage, const double prob[DW_NSTAGES]);
/* Data-path figures for the alerts (see dw_datapath in alerts.h). */
void dw_session_datapath(dw_session *s, double t, double wall, const dw_datapath *d);
/* An operator command (WAKE, NATURAL, SHUTDOWN, MARKER, ACK, DREAM_REPORT, LINK; others are ignored).
 * Returns 1 when the caller must now shut down (stop the device, close the recording). */
int  dw_session_command(dw_session *s, const dw_cmd *cmd, double t);
/* An event from outside the session (the pre-night check's results): logged, kept for the summary
 * and, with annotate, marked in the recording. */
void dw_session_note(dw_session *s, double t, const char *kind, int annotate, const char *text);
/* The pre-night check starts (running = 1, at source time t) or ends (0). While it runs no
 * stimulus or cue is given (session_blocked: "pre-night check running"), a pending one is
 * cancelled and a running one stopped: the sleeper is asked to open and close the eyes and move
 * them, and the board injects its lead-off current into each electrode in turn. */
void dw_session_check(dw_session *s, double t, int running);
/* Source time (s) at which the pending closed-loop stimulus is due (the detected trough + so_delay_s;
 * delivered when the sample at that time is given to dw_session_frontal), or INFINITY when none is
 * pending. For a live reader to wake when that sample arrives rather than on its next batch. */
double dw_session_next_due(const dw_session *s);
/* Timers: stimulus due, actuator children (reap, timeout), wake timeout and escalation, alert repeats. */
void dw_session_tick(dw_session *s, double t, double wall);
/* Safe shutdown: stimulation off first (pending stimulus cancelled, running stimulus/cue commands
 * terminated), mode SHUTDOWN. Idempotent; returns 0. */
int  dw_session_shutdown(dw_session *s, double t, const char *cause);
/* Something that failed at the end of the night before the summary (closing the recording, writing
 * a table): text (one line, copied; up to 4 kept, the rest counted) heads the summary, "## Failed".
 * The caller also gives the exit status 1 and prints it on the exit lines. */
void dw_session_failed(dw_session *s, const char *text);
/* Summary file: the night and its sleep statistics (night: staging/night.h, NULL for none; staged: what
 * it was staged on and why epochs were unscored, dw_print_staged_night's lines as `score` writes them,
 * its st and rem_periods taken from night; NULL: the statistics alone), the
 * spindle and slow-wave densities, every stimulus, the evoked response and SO-spindle coupling,
 * memory cues, every awakening, alert and event, and the machine-readable figures (the night's,
 * with this session's stimulus, cue and alert counts) that `dreamwatch nights` reads. 0 or -1 on a
 * write error.
 * Blinded: the conditions stay out of it (they are appended to the sealed file). */
int  dw_session_write_summary(dw_session *s, FILE *f, const dw_night *night, const dw_staged_night *staged);
/* The per-night table of awakenings (protocol): one row per awakening with its stage, dwell, time
 * to W, each answer and its latency. path is created through a temporary name (never over a file)
 * and listed in hooks.outputs as "awakenings". 0, or -1 with err; 1 when there is nothing to write
 * (no awakening protocol). */
int  dw_session_write_awakenings(dw_session *s, const char *path, dw_err *err);
/* The BIDS events table (record/bids_events.h) of the night: every epoch's stage, spindles, slow
 * waves, stimuli and cues, arousals, volume steps, awakenings, questions and answers, alerts,
 * markers, mode changes. path is created through a temporary name (never over a file) and listed in
 * hooks.outputs as "events table". 0, or -1 with err. */
int  dw_session_write_events(dw_session *s, const char *path, dw_err *err);
/* End of the night for the sealed file: the conditions' evoked responses and counts appended. */
void dw_session_seal(dw_session *s);

#define DW_EVOKED_PLOT 41           /* the evoked response for the screen: 0.1-s steps, -1..+3 s */

/* The night's spindles and slow waves as the screen shows them: the numbers of the session summary
 * (staging/hypnogram.h: dw_micro_totals, dw_micro_nrem_density, dw_micro_density of the session's
 * own epochs and detections), kept up to date when an epoch ends and when a detection comes in. */
typedef struct {
    int    epoch;                  /* the last finished epoch, -1 none yet */
    int    stage;                  /* its stage, DW_UNSCORED */
    int    last[2];                /* its spindles and slow waves (they may still grow for a
                                      second or two after it ends: a detection ends later) */
    long   total[2], set_aside;    /* dw_micro_totals */
    double nrem[2];                /* per minute of N2+N3; DW_NONE before the first N2/N3 epoch */
    double by_stage[DW_NSTAGES][2];    /* per minute of each stage (dw_micro_density) */
    int    region;                 /* the detectors' channel's (dw_montage_region): a kind that does not
                                      count there (dw_micro_on_region) has totals -1 and densities
                                      DW_NONE above, and no per-epoch count */
} dw_micro_view;

/* What the screen shows of the session (plain data). version changes whenever a field does. */
typedef struct {
    unsigned long version;
    int    mode;                   /* enum dw_mode */
    int    stim_count;             /* slow-oscillation stimuli (active and sham together) */
    int    cue_count;              /* REM cues */
    int    tmr_count;              /* memory cues (protocol) */
    int    sham_count;             /* of all three; -1: blinded, or no sham condition in protocol */
    int    wants_dream_report;
    char   last_event[128];
    double volume;                 /* the stimulus level now */
    int    volume_control;         /* arousal-aware stimulation is on */
    char   protocol[64];           /* the protocol's name, "" none */
    int    awakenings;             /* so far */
    /* the questionnaire after a protocol awakening: the question to ask now */
    int    q_active;               /* 1 while a question waits for its answer */
    long   q_awakening;
    int    q_index, q_total;       /* 1-based */
    int    q_type;                 /* enum dw_answer_type (session/protocol.h) */
    char   q_text[200], q_low[48], q_high[48];
    double q_deadline;             /* no answer after this: source time (q_source_clock: a
                                      replay with no screen) or wall clock */
    int    q_source_clock;
    int    unattended;             /* a headless replay: a cleared critical alert does not keep
                                      stimulation off (dw_session_set_source) */
    dw_micro_view micro;           /* spindles and slow waves so far */
    /* the evoked response: [0] all stimuli, [1] active, [2] sham ([1] and [2] empty when blinded)
     */
    int    evoked_n[3];
    float  evoked[3][DW_EVOKED_PLOT];
} dw_session_view;
void dw_session_view_get(const dw_session *s, dw_session_view *v);

/* The night's events as the screen lists and marks them (plain data). */
enum dw_event_kind {
    DW_EV_NOTE,            /* mode changes, session start, wakes, acknowledgements, clears */
    DW_EV_ALERT,           /* an alert raised */
    DW_EV_MARKER, DW_EV_STIM, DW_EV_CUE, DW_EV_DREAM,
    DW_EV_NKINDS
};
typedef struct {
    double t;                      /* source time, s */
    double wall;                   /* wall clock, Unix time */
    int    kind;                   /* enum dw_event_kind */
    int    severity;               /* DW_EV_ALERT: enum dw_severity */
    char   text[160];              /* the first line, cut */
} dw_event_view;
/* Events logged so far (every kind, in order), and the i-th as the screen shows it: 0 with out filled,
 * or -1 for an event the screen leaves out (repeats, re-arms, cancelled or suspended stimulation, phases:
 * the session log and the summary have them all). */
int  dw_session_nevents(const dw_session *s);
int  dw_session_event_view(const dw_session *s, int i, dw_event_view *out);

/* Read-only views (tests, the summary, the screen via publish). */
int  dw_session_mode(const dw_session *s);
dw_alerts *dw_session_alerts(dw_session *s);
int  dw_session_nstim(const dw_session *s);
const dw_stim *dw_session_stim(const dw_session *s, int i);
int  dw_session_wants_dream_report(const dw_session *s);
/* 1 while a stimulus is scheduled and not yet delivered. */
int  dw_session_pending(const dw_session *s);

#endif
