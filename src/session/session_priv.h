/* The session's insides, shared by its files: session.c (modes, the slow-oscillation trigger,
 * safety, commands, timers), session_stim.c (delivering any stimulus or cue: sham, volume, arousal
 * watch, evoked response, memory cues, spindles and slow waves), session_awaken.c (serial
 * awakenings and the questionnaire), session_report.c (summary, awakenings table, events table,
 * sealed file). Not for other layers. */
#ifndef DW_SESSION_PRIV_H
#define DW_SESSION_PRIV_H

#include <stdio.h>

#include "dsp/sleep_events.h"
#include "session/actuator.h"
#include "session/arousal.h"
#include "session/awakening.h"
#include "session/evoked.h"
#include "session/rem_cue.h"
#include "session/session.h"
#include "session/sham.h"
#include "session/slow_oscillation.h"
#include "session/tmr.h"

#define QUIET_S 30.0          /* stimulation stays off this long after movement or an artefact */
#define LATE_S                                                                                     \
    0.05 /* a stimulus that cannot be delivered within this of its time is dropped:                \
            50 ms is 18 degrees of a 1-Hz slow oscillation, the up-state still */
#define SO_AFTER_S                                                                                 \
    1.5 /* a slow wave whose negative peak falls this soon after a stimulus follows it */
#define SPINDLE_AFTER_S 3.0   /* ... a spindle starting this soon after it */
#define COUPLED_S                                                                                  \
    1.5 /* a spindle starting within this after a slow wave's negative peak is                     \
           coupled to it (spindles ride the up-state that follows the trough) */

enum { ACT_STIM, ACT_CUE, ACT_WAKE, ACT_ESC, ACT_SHAM, ACT_N };

struct event { double t, wall; char *kind, *text; };

/* Spindles and slow waves of the night (for the events table, densities and coupling). */
struct micro { double onset, dur, amp, neg_t; int kind, epoch; };

struct dw_session {
    const dw_session_cfg *cfg;
    const dw_protocol *proto;
    dw_session_hooks hooks;
    dw_session_log *log;
    int log_failed;
    dw_alerts *alerts;
    dw_actuator *act[ACT_N];
    double t, wall;                       /* latest source time and wall clock seen */
    int mode, mode_before_wake;
    unsigned long version, published;
    double start_wall, lights_off_t;

    /* labels and movement */
    signed char *hyp; /* every epoch's label so far (the summary, the events table) */
    int nhyp, caphyp;
    int stage, prov_stage;
    double prob[DW_NSTAGES];              /* the latest epoch's probabilities */
    int have_prob;                        /* 0: a caller without them (tests, tables) */
    double quiet_until;
    int    checking;                      /* the pre-night check runs: no stimulus, no cue */
    dw_motion motion;
    int frontal, parietal;                /* staging channels of the source (-1 none) */
    double art_mean;                      /* frontal: the last second's mean (quality verdict) */
    int art_init;
    dw_quality_cfg qcfg;

    /* slow oscillations */
    dw_so *so;
    double so_fs;
    int pending;
    dw_so_trough pend;
    double due;
    int train_n;
    double pause_until;

    dw_rem_cue cue;
    dw_tmr tmr;

    /* stimuli of the night */
    dw_stim *stim;
    int nstim, capstim;
    int nsham;
    int limit_logged;
    dw_sham sham;
    FILE *sealed;                         /* the conditions, written as they come (sham protocol) */
    char sealed_path[1100];

    /* arousal-aware stimulation */
    dw_arousal arousal;
    double arousal_until;                 /* stimulation paused until */
    double volume;
    int quiet_run;
    dw_evoked evoked;

    /* spindles and slow waves on the frontal channel */
    dw_sleep_events *micro_det;
    double micro_fs;
    struct micro *micro;
    int nmicro, capmicro;
    int (*micro_count)[DW_SLEEP_EVENT_KINDS];      /* per epoch */
    int micro_cap;
    dw_micro_view micro_view;             /* what the screen shows (session_stim_micro_view) */
    char micro_label[DW_LABEL_LEN];       /* the detectors' channel (the frontal slot's), "" unknown */
    int micro_region;                     /* its dw_montage_region: which kinds count (dw_micro_on_region) */

    /* manual wake (and the alarm of a protocol awakening) */
    int wake_attempt, escalated;
    double wake_t0, wake_deadline;
    int wants_dream_report;
    int wake_protocol;                    /* the wake in progress is a protocol awakening's alarm */

    /* serial awakenings and the questionnaire */
    dw_awaken aw;
    int q;                                /* question being asked (0-based), -1 none */
    double q_wall0, q_deadline;           /* when it was shown (wall clock), when it times out */
    int unattended;                       /* a replay with no screen (dw_session_set_source):
                                             q_deadline is source time, else wall clock */

    struct event *ev;
    int nev, capev;
    char last_event[128];

    dw_datapath dp;                       /* the latest data-path figures (live sources) */
    char   failed[4][256];                /* dw_session_failed: what failed at the end, in order */
    int    nfailed;                       /* failures told (more than 4: the rest only counted) */
    int live;
};

/* session.c */
__attribute__((format(printf, 5, 6)))
void session_event(dw_session *s, double t, int annotate, const char *kind, const char *fmt, ...);
void session_set_mode(dw_session *s, double t, int mode, const char *cause);
/* NULL when a stimulus or cue of this kind may be given now, else why not. */
const char *session_blocked(const dw_session *s, int kind, double t);
/* Fire actuator which (vars may be NULL); a failure becomes an event and an alert. */
void session_fire(dw_session *s, int which, double t, int attempt, const dw_act_vars *vars);
void session_cancel_pending(dw_session *s, double t, const char *why);
/* A wake's alarm: the manual-wake path (attempts, escalation). protocol: it is an awakening's. */
void session_start_wake(dw_session *s, double t, int protocol);
int  session_target_so(int stage);

/* session_stim.c */
int  session_stim_init(dw_session *s, dw_err *err);        /* -1: the sealed file cannot be made */
void session_stim_free(dw_session *s);
/* Deliver a stimulus or cue of kind at t (every decision already taken): its condition drawn, the
 * actuator fired (or the sham trigger), the log, the sealed file, the arousal watch and the evoked
 * response told. item: a memory cue's index, -1. Returns the record, or NULL (memory). */
dw_stim *session_deliver(dw_session *s, int kind, double t, double trough_t, double trough_uv,
                         int item);
/* The frontal channel: a block's arousal band-passes first (ya2, yb2: n squared outputs each, as
 * session/arousal.h dw_arousal_filter; 0 when the arousal watch is off), then sample by sample
 * with them: arousal band power, evoked ring, memory cues due. */
void session_stim_filter(dw_session *s, double fs, const double *x, int n, double *ya2, double *yb2);
void session_stim_frontal(dw_session *s, double t, double fs, double x, double ya2, double yb2);
/* The same block through the spindle and slow-wave detectors, whole, after the block's per-sample work
 * (stimuli delivered): their events do not depend on how the samples are cut (dsp/sleep_events.h) and
 * nothing in the per-sample work reads them; a stimulus delivered in the block after an event's last
 * sample is later than the event's onset, so on_micro marks exactly the stimuli it marked when the
 * detectors ran sample by sample. One call a block: the filters run over the block (bench_sleep_events). */
void session_stim_micro(dw_session *s, double t0, double fs, const double *x, int n);
/* The screen's figures of the spindles and slow waves (dw_micro_view) from the session's epochs
 * and counts: after an epoch ends (micro_view.epoch set) and a finished epoch's count moves. */
void session_stim_micro_view(dw_session *s);
void session_stim_gap(dw_session *s);
/* A seek (dw_session_seek): the detections of epochs from keep on dropped, the detectors reset, the
 * view recomputed over the epochs kept (s->nhyp already cut to keep). */
void session_stim_seek(dw_session *s, int keep);
/* Each epoch (memory cues, densities), each tick (cues due, arousal verdicts). */
void session_stim_epoch(dw_session *s, int epoch, int stage);
void session_stim_tick(dw_session *s, double t);
/* A sign of arousal from the session (movement, artefact, a W/N1 label). */
void session_arousal_sign(dw_session *s, double t, const char *cause);

/* session_awaken.c */
void session_awaken_init(dw_session *s);
void session_awaken_epoch(dw_session *s, double t, int stage);
void session_awaken_tick(dw_session *s, double t);
/* The wake in progress got its W (awake) or ended without (cancel: natural mode, shutdown). */
void session_awaken_awake(dw_session *s, double t);
void session_awaken_cancel(dw_session *s, double t, const char *why);
void session_awaken_answer(dw_session *s, const dw_cmd *c, double t);
void session_awaken_view(const dw_session *s, dw_session_view *v);

#endif
