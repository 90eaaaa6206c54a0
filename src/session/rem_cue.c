/* REM cueing: when a cue is due. */
#include "session/rem_cue.h"

#include "base/dw.h"

void dw_rem_cue_init(dw_rem_cue *c)
{
    c->run = 0;
    c->last_cue_t = -1;
}

int dw_rem_cue_epoch(dw_rem_cue *c, double t, int stage, int after_epochs, double interval_min)
{
    c->run = stage == DW_R ? c->run + 1 : 0;
    if (c->run < after_epochs)
        return 0;
    return c->last_cue_t < 0 || t - c->last_cue_t >= interval_min * 60 - 1e-9;
}

void dw_rem_cue_delivered(dw_rem_cue *c, double t)
{
    c->last_cue_t = t;
}
