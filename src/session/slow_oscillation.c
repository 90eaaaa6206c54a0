/* Slow-oscillation troughs on the causal 0.5-2 Hz band-passed frontal EEG, and the phase of stimuli. */
#include "session/slow_oscillation.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dsp/biquad.h"

#define MAX_MARKS 16
#define MAX_HALF_S 1.0       /* a negative half-wave of a 0.5 Hz wave lasts 1 s: longer is drift */
#define MIN_FALL_S 0.125     /* falling crossing to trough: a 2 Hz wave takes 0.125 s */
#define PHASE_WAIT_S 3.0     /* give up on a phase when no crossing follows within this */

struct mark { long id; double t, prev_t; int prev_rising; };

struct dw_so {
    double fs, threshold;
    dw_cascade bp;
    double y, prev_y, prev_t;
    int have_prev;
    /* the half-wave in progress */
    int negative, reported;
    double fall_t, min_y, min_t;
    /* zero crossings for the phase */
    double cross_t;
    int cross_rising, have_cross;
    struct mark mark[MAX_MARKS];
    int nmark;
    dw_so_phase ready[MAX_MARKS];
    int nready;
};

dw_so *dw_so_new(double fs, double threshold_uv)
{
    if (!(fs > 4))
        return NULL;
    dw_so *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->fs = fs;
    d->threshold = threshold_uv;
    if (dw_cascade_butter(&d->bp, DW_BQ_HIGHPASS, 2, 0.5, fs) < 0 ||
        dw_cascade_butter(&d->bp, DW_BQ_LOWPASS, 2, 2.0, fs) < 0) {
        free(d);
        return NULL;
    }
    return d;
}

void dw_so_free(dw_so *d) { free(d); }

static void push_ready(dw_so *d, long id, double t, double ph)
{
    if (d->nready == MAX_MARKS) {                /* nobody is collecting: drop the oldest */
        memmove(d->ready, d->ready + 1, (MAX_MARKS - 1) * sizeof d->ready[0]);
        d->nready--;
    }
    d->ready[d->nready++] = (dw_so_phase){ id, t, ph };
}

void dw_so_reset(dw_so *d)
{
    dw_cascade_reset(&d->bp);
    d->have_prev = d->negative = d->reported = d->have_cross = 0;
    d->y = 0;
    for (int i = 0; i < d->nmark; i++)           /* phases across a gap are unknown */
        push_ready(d, d->mark[i].id, d->mark[i].t, NAN);
    d->nmark = 0;
}

double dw_so_filtered(const dw_so *d) { return d->y; }

/* A zero crossing at tz: finish the marks it brackets. */
static void crossing(dw_so *d, double tz, int rising)
{
    int k = 0;
    for (int i = 0; i < d->nmark; i++) {
        struct mark *m = &d->mark[i];
        if (m->t > tz) {
            d->mark[k++] = *m;
            continue;
        }
        double ph = NAN;
        if (m->prev_t > -1e300 && m->prev_rising != rising && tz > m->prev_t) {
            double base = m->prev_rising ? -90 : 90;
            ph = base + 180 * (m->t - m->prev_t) / (tz - m->prev_t);
            if (ph > 180)
                ph -= 360;
        }
        push_ready(d, m->id, m->t, ph);
    }
    d->nmark = k;
    d->cross_t = tz;
    d->cross_rising = rising;
    d->have_cross = 1;
}

void dw_so_filter(dw_so *d, const double *x, double *y, int n)
{
    if (n > 0)
        dw_cascade_run(&d->bp, x, y, (size_t)n);
}

int dw_so_step(dw_so *d, double t, double x, dw_so_trough *tr)
{
    return dw_so_step_filtered(d, t, dw_cascade_step(&d->bp, x), tr);
}

int dw_so_step_filtered(dw_so *d, double t, double y, dw_so_trough *tr)
{
    int found = 0;
    if (d->have_prev) {
        if (d->prev_y >= 0 && y < 0) {
            double tz = d->prev_t + (t - d->prev_t) * d->prev_y / (d->prev_y - y);
            crossing(d, tz, 0);
            d->negative = 1;
            d->reported = 0;
            d->fall_t = tz;
            d->min_y = y;
            d->min_t = t;
        } else if (d->prev_y < 0 && y >= 0) {
            double tz = d->prev_t + (t - d->prev_t) * (-d->prev_y) / (y - d->prev_y);
            crossing(d, tz, 1);
            d->negative = 0;
        }
    }
    if (d->negative && !d->reported) {
        if (y < d->min_y) {
            d->min_y = y;
            d->min_t = t;
        } else if (d->min_y < d->threshold && y > 0.5 * d->min_y) {
            d->reported = 1;
            double fall = d->min_t - d->fall_t;
            if (fall >= MIN_FALL_S && fall <= MAX_HALF_S) {
                tr->t = d->min_t;
                tr->uv = d->min_y;
                tr->fall_t = d->fall_t;
                found = 1;
            }
        }
        if (t - d->fall_t > MAX_HALF_S)
            d->reported = 1;                     /* drift, not a slow oscillation */
    }
    /* marks waiting too long for a crossing get no phase */
    for (int i = 0; i < d->nmark; i++)
        if (t - d->mark[i].t > PHASE_WAIT_S) {
            push_ready(d, d->mark[i].id, d->mark[i].t, NAN);
            d->mark[i--] = d->mark[--d->nmark];
        }
    d->prev_y = y;
    d->prev_t = t;
    d->have_prev = 1;
    d->y = y;
    return found;
}

void dw_so_mark(dw_so *d, long id, double t)
{
    if (d->nmark == MAX_MARKS) {
        push_ready(d, d->mark[0].id, d->mark[0].t, NAN);
        memmove(d->mark, d->mark + 1, (MAX_MARKS - 1) * sizeof d->mark[0]);
        d->nmark--;
    }
    d->mark[d->nmark++] = (struct mark){ id, t, d->have_cross ? d->cross_t : -1e308, d->cross_rising };
}

int dw_so_take_phase(dw_so *d, dw_so_phase *out)
{
    if (d->nready == 0)
        return 0;
    *out = d->ready[0];
    memmove(d->ready, d->ready + 1, (size_t)(d->nready - 1) * sizeof d->ready[0]);
    d->nready--;
    return 1;
}
