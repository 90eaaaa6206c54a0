/* Serial awakenings (the dream-research protocol: wake the sleeper in a chosen stage, ask
 * structured questions, let them sleep again): when the next one is due, and the record of each.
 * Pure: epochs and times in, decisions out; the session rings the alarm (its manual-wake path, with
 * the verified-W escalation), runs the questionnaire and logs every step.
 *
 * An awakening is due at the end of an epoch when, all at once:
 *   - the last epochs are one target stage, uninterrupted, for at least its dwell (protocol targets
 *     "N2:5, R:10": 10 epochs of N2 or 20 of R), all scored;
 *   - the source time is past the earliest time drawn for it: first_after_min after lights-off for
 * the first, then a uniform draw in [interval_min, interval_max] minutes after the sleeper fell
 * asleep again (splitmix64 from the protocol's seed, so a night's schedule can be replayed);
 *   - at least min_spacing_min since the last alarm, fewer than max_per_night so far;
 *   - the clock time is inside [not_before, not_after] when they are set (a window over midnight is
 *     understood);
 *   - the previous awakening is over (its questionnaire done and an epoch of sleep scored since).
 * The session adds its own conditions (enhanced mode, no critical alert, the latest label
 * confident). */
#ifndef DW_AWAKENING_H
#define DW_AWAKENING_H

#include "session/protocol.h"

#define DW_ANSWER_MAX 512

enum dw_aw_state { DW_AW_IDLE = 0, DW_AW_ALARM, DW_AW_QUESTIONS, DW_AW_RESLEEP };

typedef struct {
    long   id;                             /* 1, 2, ... */
    double alarm_t, alarm_wall;            /* source time and wall clock of the alarm */
    int    stage;                          /* the target stage it was given in */
    double dwell_min;                      /* how long that stage had lasted */
    int    attempts;                       /* alarm attempts (wake actuator) */
    int    escalated;                      /* the wake did not take: escalation */
    double awake_t;                        /* the W epoch's end that verified it, -1 none */
    double asleep_t; /* back asleep (an epoch of sleep after the questions), -1 */
    int    cancelled;                      /* natural mode or shutdown ended it */
    int    nq;                             /* questions asked (the protocol's) */
    char   answer[DW_PROTO_MAX_Q][DW_ANSWER_MAX];   /* "" none (timed out or skipped) */
    double latency_s[DW_PROTO_MAX_Q];      /* question shown to answer; -1 no answer */
} dw_awakening;

typedef struct {
    const dw_protocol *p;
    int    state;                          /* enum dw_aw_state */
    unsigned long long rng;
    double earliest_t;                     /* next alarm not before this (source time) */
    double last_alarm_t;
    int    run_stage, run_len;             /* the current run of one scored stage, in epochs */
    dw_awakening *aw;
    int    n, cap;
} dw_awaken;

/* lights_off_t: source time of lights-off. */
void dw_awaken_init(dw_awaken *a, const dw_protocol *p, double lights_off_t);
void dw_awaken_free(dw_awaken *a);
/* A finished epoch's label (DW_UNSCORED breaks a run). */
void dw_awaken_epoch(dw_awaken *a, int stage);
/* At the end of an epoch at source time t, clock minutes after midnight (-1: unknown, the window is
 * not checked): the index of the target that is due, or -1. */
int  dw_awaken_due(const dw_awaken *a, double t, int clock_min);
/* The alarm for target i rings at t (wall clock wall): a new record (never NULL: out of memory ends
 * the process); state ALARM. */
dw_awakening *dw_awaken_start(dw_awaken *a, int target, double t, double wall);
/* The current (latest) awakening, or NULL. */
dw_awakening *dw_awaken_current(dw_awaken *a);
/* The sleeper is back asleep at t: state IDLE and the earliest next time drawn. */
void dw_awaken_asleep(dw_awaken *a, double t);
/* Clock minutes of "HH:MM", -1 for "". */
int  dw_clock_minutes(const char *hhmm);

#endif
