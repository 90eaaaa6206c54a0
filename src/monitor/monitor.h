/* The monitor: what the worker thread publishes and the screen thread shows, and the commands the
 * screen sends back. One mutex guards it; the worker writes a byte to wake_fd[1] after each change and
 * the screen poll()s wake_fd[0] beside stdin. Only the screen thread calls curses. */
#ifndef DW_MONITOR_H
#define DW_MONITOR_H

#include <pthread.h>
#include "base/dw.h"
#include "dsp/quality.h"
#include "session/session.h"
#include "sources/source.h"

#define DW_TRACE_N     (60 * DW_FS)  /* last 60 s of every channel at DW_FS for the trace pane */
#define DW_SPEC_BINS   76            /* Welch bins 2..77: 0.78-30.1 Hz (k * 100/256 Hz) */
#define DW_SPEC_BIN0   2





#define DW_CMDQ 8
#define DW_NO_DATA_S 1.0             /* live: a second without samples is an outage on the status line */

typedef struct dw_monitor {
    pthread_mutex_t lock;
    int wake_fd[2];                     /* worker -> screen: "something changed" */
    int cmd_fd[2];                      /* screen -> worker: "a command is queued" */
    int cancel_fd;                      /* main -> worker while the source opens: readable = give up (a
                                           signalfd of the shutdown signals); -1 none, not owned here */
    int attached;                       /* a copy fed from a session's control socket (`dreamwatch attach`):
                                           the screen detaches instead of shutting down on a hang-up */

    /* change counters, so the screen redraws only the panes whose data changed */
    unsigned long v_trace, v_hypno, v_status, v_alerts, v_events;

    /* source */
    char   source_desc[160];            /* e.g. "EDF sample-night.edf" or "Cyton /dev/ttyUSB0" */
    int    live;
    int    nch;
    char   label[DW_MAX_CH][DW_LABEL_LEN];
    double fs_source;                   /* rate the source delivers */
    double duration_s;                  /* replay length, 0 live */
    double start_wall;                  /* wall clock of the recording start, 0 unknown */
    int    frontal, parietal;
    char   staging_desc[320];          /* "frontal EEG Fpz-Cz, parietal EEG Pz-Oz (by electrode name), model fpz_pz" */
    char   source_note[2048];           /* what the source said at open, a line per note ("" none) */
    char   trace_filter[32];            /* the traces' display filter: "0.3-35 Hz", "raw" */

    /* traces at DW_FS: ring of DW_TRACE_N frames, trace_total frames written so far */
    float  trace[DW_TRACE_N][DW_MAX_CH];
    long   trace_total;
    unsigned char chflags[DW_MAX_CH];   /* quality verdict of the latest second: DW_Q_* (dsp/quality.h) */

    /* time and replay */
    double t_source;                    /* seconds since the start of the recording */
    double lights_off_t;                /* source time of lights-off */
    double speed;                       /* replay speed, 0 = as fast as possible */
    int    paused;
    int    source_ended;                /* the replay reached its end (the screen stays up) */
    int    seeks;                       /* seeks in this replay, the epochs they left unscored (skipped */
    int    seek_skipped, seek_restaged; /* forward) and those staged again from a restarted stager (back) */
    int    finished;                    /* the worker has stopped: recording closed, safe to exit */
    double lag_s;                       /* how far the worker is behind the source (live) */

    /* staging: one entry per finished epoch (arrays grow with the night) */
    int    n_epochs, cap_epochs;
    signed char *stage;
    float (*prob)[DW_NSTAGES];
    float (*spec)[DW_SPEC_BINS];        /* log10 PSD of the frontal channel per epoch */
    int    prov_stage;                  /* provisional label of the epoch in progress, DW_UNSCORED if none */
    float  prov_prob[DW_NSTAGES];
    signed char *ref_stage;             /* reference hypnogram, NULL if none */
    int    n_ref;
    char   model_name[64];

    /* status */
    double loss_pct_recent, loss_pct_night;  /* live: frames the wall clock expected that never came,
                                           over the last 10 s and the night (outages included) */
    long   lost_samples;
    int    reconnects;
    int    mode;                        /* enum dw_mode */
    int    stim_count;                  /* slow-oscillation stimuli */
    int    cue_count;                   /* REM cues */
    double no_data_since;               /* live: wall clock of the last sample once none has come for
                                           DW_NO_DATA_S; 0 while data flows (and for a replay) */
    char   rec_path[DW_PATH_MAX];       /* the file being written (the latest after a resume) */
    long long rec_bytes;                /* its size */
    int    rec_files;                   /* files the recording went into (a resume starts one more) */
    int    rec_failed;                  /* writing fails now (disk full...): nothing is being recorded */
    char   log_path[DW_PATH_MAX];       /* the session log and the summary (written at the end) */
    char   summary_path[DW_PATH_MAX];
    char   last_event[128];

    /* alerts, newest last */
    dw_alert_view alerts[DW_MAX_ALERTS];
    int    n_alerts;
    int    wants_dream_report;          /* the session asks the operator for a dream report */
    dw_session_view session; /* the rest of the session's view: protocol, questionnaire, volume,
                                densities, evoked response (session/session.h) */
    char   check_report[2048];          /* the last pre-night check's table ("" none) */
    int    check_running;
    unsigned long bells;                /* bell actuator rings asked for; the screen beeps when it grows */

    unsigned long seen_session, seen_alerts;  /* versions copied by dw_monitor_publish_session */

    /* the night's events as the screen lists and marks them, in order (grows with the night) */
    dw_event_view *events;
    int    n_events, cap_events;
    int    seen_events;                 /* session events looked at so far */


    /* commands */
    dw_cmd cmdq[DW_CMDQ];
    int    cmd_head, cmd_count;
} dw_monitor;

/* In enhanced mode, the critical alert that keeps stimulation off although its cause has gone: it waits
 * to be acknowledged (`a`), unless the night is unattended (session/alerts.h dw_alerts_set_latch). NULL
 * when none. For the status line and the headless report alike. Lock held or a private copy. */
const dw_alert_view *dw_monitor_stim_blocker(const dw_monitor *m);

int  dw_monitor_init(dw_monitor *m);
void dw_monitor_destroy(dw_monitor *m);
/* Worker side: after changing fields under the lock, wake the screen. */
void dw_monitor_notify(dw_monitor *m);
/* Append one epoch (lock held by the caller). 0 or -1 on memory failure. */
int  dw_monitor_add_epoch(dw_monitor *m, int stage, const double prob[DW_NSTAGES], const float spec[DW_SPEC_BINS]);
/* Worker side (lock held): copy the session's view, alerts and new events in, bumping v_status /
 * v_alerts / v_events only when they changed since the last copy (or the mode differs). */
void dw_monitor_publish_session(dw_monitor *m, dw_session *s);
/* Screen side: queue a command (takes the lock). 0, or -1 if the queue is full. */
/* A command of kind with arg, no second argument (arg2 -1) and text (NULL: none; cut to fit). */
dw_cmd dw_cmd_make(int kind, double arg, const char *text);
int  dw_monitor_post(dw_monitor *m, int kind, double arg, const char *text);
/* The same with a whole command (arg2: a questionnaire answer's latency). */
int  dw_monitor_post_cmd(dw_monitor *m, const dw_cmd *c);
/* Worker side: take the oldest command (takes the lock). 1 if one was taken. */
int  dw_monitor_take(dw_monitor *m, dw_cmd *out);
/* Drain the wake / command pipes (non-blocking). */
void dw_monitor_drain(int fd);

#endif
