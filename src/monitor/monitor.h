/* The monitor: what the worker thread publishes and the screen thread shows, and the commands the
 * screen sends back. One mutex guards it; the worker writes a byte to wake_fd[1] after each change and
 * the screen poll()s wake_fd[0] beside stdin. Only the screen thread calls curses. */
#ifndef DW_MONITOR_H
#define DW_MONITOR_H

#include <pthread.h>
#include "base/dw.h"
#include "session/session.h"
#include "sources/source.h"

#define DW_TRACE_N     (60 * DW_FS)  /* last 60 s of every channel at DW_FS for the trace pane */
#define DW_SPEC_BINS   76            /* Welch bins 2..77: 0.78-30.1 Hz (k * 100/256 Hz) */
#define DW_SPEC_BIN0   2

enum dw_chflag { DW_CH_RAILED = 1, DW_CH_FLAT = 2 };




#define DW_CMDQ 8

typedef struct dw_monitor {
    pthread_mutex_t lock;
    int wake_fd[2];                     /* worker -> screen: "something changed" */
    int cmd_fd[2];                      /* screen -> worker: "a command is queued" */
    int cancel_fd;                      /* main -> worker while the source opens: readable = give up (a
                                           signalfd of the shutdown signals); -1 none, not owned here */

    /* change counters, so the screen redraws only the panes whose data changed */
    unsigned long v_trace, v_hypno, v_status, v_alerts;

    /* source */
    char   source_desc[160];            /* e.g. "EDF sample-night.edf" or "Cyton /dev/ttyUSB0" */
    int    live;
    int    nch;
    char   label[DW_MAX_CH][DW_LABEL_LEN];
    double fs_source;                   /* rate the source delivers */
    double duration_s;                  /* replay length, 0 live */
    double start_wall;                  /* wall clock of the recording start, 0 unknown */
    int    frontal, parietal;

    /* traces at DW_FS: ring of DW_TRACE_N frames, trace_total frames written so far */
    float  trace[DW_TRACE_N][DW_MAX_CH];
    long   trace_total;
    unsigned char chflags[DW_MAX_CH];   /* enum dw_chflag */

    /* time and replay */
    double t_source;                    /* seconds since the start of the recording */
    double lights_off_t;                /* source time of lights-off */
    double speed;                       /* replay speed, 0 = as fast as possible */
    int    paused;
    int    source_ended;                /* the replay reached its end (the screen stays up) */
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
    double loss_pct_5s, loss_pct_night;
    long   lost_samples;
    int    reconnects;
    int    mode;                        /* enum dw_mode */
    int    stim_count;
    char   rec_path[256];
    long long rec_bytes;
    char   last_event[128];

    /* alerts, newest last */
    dw_alert_view alerts[DW_MAX_ALERTS];
    int    n_alerts;
    int    wants_dream_report;          /* the session asks the operator for a dream report */
    unsigned long bells;                /* bell actuator rings asked for; the screen beeps when it grows */

    unsigned long seen_session, seen_alerts;  /* versions copied by dw_monitor_publish_session */

    /* commands */
    dw_cmd cmdq[DW_CMDQ];
    int    cmd_head, cmd_count;
} dw_monitor;

int  dw_monitor_init(dw_monitor *m);
void dw_monitor_destroy(dw_monitor *m);
/* Worker side: after changing fields under the lock, wake the screen. */
void dw_monitor_notify(dw_monitor *m);
/* Append one epoch (lock held by the caller). 0 or -1 on memory failure. */
int  dw_monitor_add_epoch(dw_monitor *m, int stage, const double prob[DW_NSTAGES], const float spec[DW_SPEC_BINS]);
/* Worker side (lock held): copy the session's view and alerts in, bumping v_status / v_alerts only when
 * they changed since the last copy (or the mode differs). */
void dw_monitor_publish_session(dw_monitor *m, dw_session *s);
/* Screen side: queue a command (takes the lock). 0, or -1 if the queue is full. */
int  dw_monitor_post(dw_monitor *m, int kind, double arg, const char *text);
/* Worker side: take the oldest command (takes the lock). 1 if one was taken. */
int  dw_monitor_take(dw_monitor *m, dw_cmd *out);
/* Drain the wake / command pipes (non-blocking). */
void dw_monitor_drain(int fd);

#endif
