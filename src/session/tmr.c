/* Memory cues in rotation. */
#include "session/tmr.h"

void dw_tmr_init(dw_tmr *c, const dw_protocol *p)
{
    c->p = p;
    c->run = c->next = c->given = 0;
    c->last_t = -1e18;
}

int dw_tmr_target(const dw_tmr *c, int stage)
{
    return stage >= 0 && stage < DW_NSTAGES && (c->p->cue_stages & (1 << stage));
}

void dw_tmr_epoch(dw_tmr *c, int stage)
{
    c->run = dw_tmr_target(c, stage) ? c->run + 1 : 0;
}

int dw_tmr_due(const dw_tmr *c, double t)
{
    const dw_protocol *p = c->p;
    return p->cue_enabled && p->ncued > 0 && c->run >= p->cue_after_epochs &&
           t - c->last_t >= p->cue_interval_s - 1e-9 && (p->cue_max == 0 || c->given < p->cue_max);
}

int dw_tmr_take(dw_tmr *c, double t)
{
    int item = c->next;
    c->next = (c->next + 1) % c->p->ncued;
    c->given++;
    c->last_t = t;
    return item;
}
