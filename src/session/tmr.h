/* Memory cues (targeted memory reactivation, e.g. Rudoy et al., Science 2009; Rasch et al., Science
 * 2007): the protocol's cued items, played in rotation (1, 2, ..., n, 1, 2, ...) one every
 * interval_s while the sleeper is in the target stage(s) (N2N3, N3 or R) and has been for
 * after_epochs epochs in a row, at most max per night. The uncued items are the learning session's
 * controls: listed in the summary, never played. The session adds the safety rules and delivers the
 * cue. */
#ifndef DW_TMR_H
#define DW_TMR_H

#include "session/protocol.h"

typedef struct {
    const dw_protocol *p;
    int    run;                    /* epochs of the target stage(s) in a row */
    int    next;                   /* next item */
    int    given;
    double last_t;                 /* last cue, < -1e17 none */
} dw_tmr;

void dw_tmr_init(dw_tmr *c, const dw_protocol *p);
void dw_tmr_epoch(dw_tmr *c, int stage);
/* 1 when a cue is due at t (the latest and the provisional label are the session's to check). */
int  dw_tmr_due(const dw_tmr *c, double t);
/* The item to play now (its index); the rotation moves on. */
int  dw_tmr_take(dw_tmr *c, double t);
/* Is stage one of the targets? */
int  dw_tmr_target(const dw_tmr *c, int stage);

#endif
