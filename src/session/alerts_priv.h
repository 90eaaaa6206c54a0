/* State shared by the alert engine (alerts.c) and its rules (alert_rules.c); private to src/session. */
#ifndef DW_ALERTS_PRIV_H
#define DW_ALERTS_PRIV_H

#include "session/alerts.h"

#define LOSS_RING 3600          /* seconds of loss history (bounds al_loss_window_s) */
#define EVENT_RING 256          /* sleep-rule event times (awakenings from R, arousals) */

struct alert {
    dw_alert_view v;
    int rule, slot;
    unsigned channels;                    /* per-channel rules: the channels that have the cause now */
    double last_ring, snooze_until;
};

struct cause {
    double present_since, absent_since;   /* -1 when not in that state */
    int open;                             /* index into alerts, -1 none */
    int counting;                         /* per-channel rules: this channel's cause has held (slot = ch) */
};

struct event_ring { double t[EVENT_RING]; int head, n; };

struct rules {
    /* per-second signal statistics */
    double fs;
    int per_s, count;                     /* frames per second, and of the current second */
    /* packet loss: frames received and lost per second of source time */
    long loss_rx[LOSS_RING], loss_lost[LOSS_RING];
    long loss_sec;                        /* newest second in the ring, -1 before the first block */
    long loss_first;                      /* the first second seen */
    long loss_judged;                     /* the last second judged */
    int loss_high;                        /* above loss_pct, not yet back under half of it (hysteresis) */
    double gap_t, gap_wall;               /* the latest gap, held back a moment before it counts as loss */
    long gap_n;                           /* (source start, arrival, frames; gap_wall < 0: none held) */
    double outage_wall;                   /* a reconnect came before its gap: no loss (< 0 none) */
    double no_samples_wall;               /* when the no_samples alert was last seen open, < 0 never */
    dw_motion motion;
    double move_t;                        /* source time of the latest accelerometer reading */
    /* data path */
    double last_arrival_wall;             /* < 0 before the first block or datapath call */
    int reconnects;
    double reconnect_wall;                /* wall clock of the latest reconnect, < 0 none */
    int reconnects_burst;                 /* reconnects within the current alert */
    /* sleep */
    int prev_stage;
    double onset_t;                       /* end of the first sleep epoch, < 0 none */
    double awake_s;                       /* seconds scored W after lights-off (not unscored ones) */
    double w_run_t, r_run_t, lowp_run_t;  /* start of the current run, < 0 none */
    struct event_ring r_awakenings, arousals;
    double tst_s;
    double wake_target_wall;              /* clock time of the planned wake, 0 none */
};

struct dw_alerts {
    const dw_session_cfg *cfg;
    dw_alerts_event_fn fn;
    void *ctx;
    struct alert *al;
    int n, cap;
    unsigned long version, published;
    struct cause cause[DW_AL_NRULES][DW_AL_SLOTS];
    double start_wall, lights_off_t;
    int latch;                /* a cleared, unacknowledged critical alert stays open (default 1) */
    struct rules r;
};

void dw_rules_init(struct rules *r);
void dw_rules_free(struct rules *r);

#endif
