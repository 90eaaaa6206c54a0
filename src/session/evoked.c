/* Stimulus-locked averages of the frontal channel. */
#include "session/evoked.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/dw.h"

void dw_evoked_init(dw_evoked *e)
{
    memset(e, 0, sizeof *e);
}

void dw_evoked_free(dw_evoked *e)
{
    free(e->ring);
    e->ring = NULL;
}

void dw_evoked_reset(dw_evoked *e)
{
    e->n_in = 0;
    e->head = 0;
    e->nwait = 0;
}

/* The signal at time tau by linear interpolation; 0 with *ok = 0 when the ring does not hold it. */
static double at(const dw_evoked *e, double tau, int *ok)
{
    double back = (e->t_last - tau) * e->fs;          /* samples before the newest */
    int i0 = (int)floor(back);
    if (back < 0 || i0 + 1 >= e->n_in) {
        *ok = 0;
        return 0;
    }
    double fr = back - i0;
    int a = (e->head - 1 - i0 + 2 * e->cap) % e->cap, b = (a - 1 + e->cap) % e->cap;
    return (1 - fr) * e->ring[a] + fr * e->ring[b];
}

static void sweep(dw_evoked *e, int w)
{
    double y[DW_EVOKED_N], base = 0;
    int ok = 1, npre = 0;
    for (int i = 0; i < DW_EVOKED_N && ok; i++) {
        y[i] = at(e, e->wait[w].t - DW_EVOKED_PRE_S + i * DW_EVOKED_DT, &ok);
        if (i * DW_EVOKED_DT < DW_EVOKED_PRE_S - 1e-9) {
            base += y[i];
            npre++;
        }
    }
    if (!ok)
        return;                                       /* not all of it in the ring: no sweep */
    int c = e->wait[w].cond ? 1 : 0;
    for (int i = 0; i < DW_EVOKED_N; i++)
        e->sum[c][i] += y[i] - base / npre;
    e->n[c]++;
}

void dw_evoked_sample(dw_evoked *e, double fs, double t, double x)
{
    if (fs != e->fs || !e->ring) {
        e->fs = fs;
        e->cap = (int)ceil((DW_EVOKED_PRE_S + DW_EVOKED_POST_S + 1.0) * fs) + 2;
        e->ring = dw_xrealloc(e->ring, (size_t)e->cap * sizeof *e->ring, "the evoked response");
        dw_evoked_reset(e);
    }
    e->ring[e->head] = isfinite(x) ? x : 0;
    e->head = (e->head + 1) % e->cap;
    if (e->n_in < e->cap)
        e->n_in++;
    e->t_last = t;
    for (int w = 0; w < e->nwait; w++)
        if (t >= e->wait[w].t + DW_EVOKED_POST_S) {
            sweep(e, w);
            e->wait[w--] = e->wait[--e->nwait];
        }
}

void dw_evoked_stimulus(dw_evoked *e, double t, long id, int cond)
{
    if (e->nwait == DW_EVOKED_WAIT)
        return;                                       /* stimuli closer than the sweep can follow */
    e->wait[e->nwait].id = id;
    e->wait[e->nwait].t = t;
    e->wait[e->nwait].cond = cond;
    e->nwait++;
}

int dw_evoked_mean(const dw_evoked *e, int cond, double out[DW_EVOKED_N])
{
    int n = cond == 2 ? e->n[0] + e->n[1] : e->n[cond];
    for (int i = 0; i < DW_EVOKED_N; i++) {
        double s = cond == 2 ? e->sum[0][i] + e->sum[1][i] : e->sum[cond][i];
        out[i] = n ? s / n : 0;
    }
    return n;
}
