/* Cueing in REM sleep (targeted memory reactivation, lucid-dream induction): a cue once a run of
 * consecutive R epochs is long enough, then at most one per interval while the run lasts. The session
 * adds the safety rules and delivers the cue. */
#ifndef DW_REM_CUE_H
#define DW_REM_CUE_H

typedef struct {
    int    run;            /* consecutive R epochs so far */
    double last_cue_t;     /* source time of the last cue, < 0 none */
} dw_rem_cue;

void dw_rem_cue_init(dw_rem_cue *c);
/* A finished epoch ending at t. 1 when a cue is due now. */
int  dw_rem_cue_epoch(dw_rem_cue *c, double t, int stage, int after_epochs, double interval_min);
/* The cue was delivered at t (the interval counts from here). */
void dw_rem_cue_delivered(dw_rem_cue *c, double t);

#endif
