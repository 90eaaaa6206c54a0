/* A private copy of the monitor for the net layer (the control socket and the publisher), taken the
 * way the screen takes its own: the lock held only to copy, arrays grown outside the lock's users'
 * way. */
#ifndef DW_SNAP_H
#define DW_SNAP_H

#include "monitor/monitor.h"

typedef struct {
    dw_monitor v; /* scalars and (with want_trace) the trace ring; arrays below */
    signed char *stage, *ref;
    float (*prob)[DW_NSTAGES];
    float (*spec)[DW_SPEC_BINS];
    int cap, n_epochs, n_ref;
    unsigned long seen_hypno;
    long trace_seen;
    int want_trace;
    /* what the last dw_snap_take changed */
    int epochs_from;  /* first epoch index that is new or changed (n_epochs: none) */
    int epochs_reset; /* the epoch list shrank or was rewritten (a seek) */
    long trace_from;  /* first new trace frame (v.trace_total: none) */
    int ref_changed;
    dw_event_view *ev;  /* the night's events (append-only) */
    int n_ev, cap_ev;
    int ev_from;        /* first event new in the last take (n_ev: none) */
} dw_snap;

/* Copy m into s (takes m->lock). 0, or -1 when memory ran out (the old copy stays). */
int dw_snap_take(dw_snap *s, dw_monitor *m);
void dw_snap_free(dw_snap *s);
/* Seconds asleep (N1+N2+N3+R epochs x 30 s) in the copy. */
double dw_snap_asleep_s(const dw_snap *s);

#endif
