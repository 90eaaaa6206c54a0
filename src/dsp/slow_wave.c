/* Causal slow-wave detection with YASA's sw_detect criteria (see slow_wave.h). */
#include "dsp/slow_wave.h"

#include <math.h>
#include <stdlib.h>

#include "dsp/biquad.h"

#define NEG_DUR_MIN 0.3
#define NEG_DUR_MAX 1.5
#define POS_DUR_MIN 0.1
#define POS_DUR_MAX 1.0
#define NEG_AMP_MIN 40.0
#define NEG_AMP_MAX 200.0
#define POS_AMP_MIN 10.0
#define POS_AMP_MAX 150.0
#define PTP_MIN 75.0
#define PTP_MAX 350.0

enum { IDLE, NEG, POS };

struct dw_slow_wave_det {
    dw_cascade bp;
    int have_prev, state;
    double prev_y, prev_t;
    double fall_t, rise_t, neg_uv, neg_t, pos_uv;
};

dw_slow_wave_det *dw_slow_wave_new(double fs)
{
    if (!(fs >= 4))
        return NULL;
    dw_slow_wave_det *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    if (dw_cascade_butter(&d->bp, DW_BQ_HIGHPASS, 2, 0.3, fs) < 0 ||
        dw_cascade_butter(&d->bp, DW_BQ_LOWPASS, 2, 1.5, fs) < 0) {
        free(d);
        return NULL;
    }
    return d;
}

void dw_slow_wave_free(dw_slow_wave_det *d) { free(d); }

void dw_slow_wave_reset(dw_slow_wave_det *d)
{
    dw_cascade_reset(&d->bp);
    d->have_prev = 0;
    d->state = IDLE;
}

static int judge(const dw_slow_wave_det *d, double end_t, dw_slow_wave *out)
{
    double neg_dur = d->rise_t - d->fall_t, pos_dur = end_t - d->rise_t,
           ptp = d->pos_uv - d->neg_uv;
    if (neg_dur < NEG_DUR_MIN || neg_dur > NEG_DUR_MAX || pos_dur < POS_DUR_MIN ||
        pos_dur > POS_DUR_MAX || -d->neg_uv < NEG_AMP_MIN || -d->neg_uv > NEG_AMP_MAX ||
        d->pos_uv < POS_AMP_MIN || d->pos_uv > POS_AMP_MAX || ptp < PTP_MIN || ptp > PTP_MAX)
        return 0;
    *out = (dw_slow_wave){ d->fall_t, end_t - d->fall_t, d->neg_t, d->neg_uv, d->pos_uv, ptp };
    return 1;
}

#define CHUNK 256 /* samples filtered at a time (on the stack) */

/* The half-wave's samples from .. to-1 (all on one side of zero: no crossing among them) under the
 * state: in a negative half-wave its lowest point (the first of equals), in a positive one its
 * highest, until it has lasted too long to be a slow wave's. */
static void half_wave(dw_slow_wave_det *d, const double *t, const double *y, int from, int to)
{
    if (d->state == NEG) {
        double lo = d->neg_uv, lo_t = d->neg_t;
        for (int k = from; k < to; k++)
            if (y[k] < lo) {
                lo = y[k];
                lo_t = t[k];
            }
        d->neg_uv = lo;
        d->neg_t = lo_t;
    } else if (d->state == POS) {
        double hi = d->pos_uv;
        for (int k = from; k < to; k++) {
            if (y[k] > hi)
                hi = y[k];
            if (t[k] - d->rise_t > POS_DUR_MAX) {
                d->state = IDLE;                              /* too long to be a slow wave */
                break;
            }
        }
        d->pos_uv = hi;
    }
}

/* One chunk of n <= CHUNK band-passed samples y (see dw_slow_wave_run), a run of samples on one
 * side of zero at a time: the zero crossing that opens the run (against the sample before), then
 * the run's samples through half_wave. The same tests in the same order as sample by sample (inside
 * a run no crossing test can hold; test_sleep_events holds it to the rule written sample by
 * sample); the crossings are found by a scan for the sign, not by the state machine at every
 * sample. */
static int detect_chunk(dw_slow_wave_det *d, const double *t, const double *y, int n,
                        dw_slow_wave *out, int *at)
{
    double py = d->prev_y, pt = d->prev_t;
    int have = d->have_prev, found = 0;
    for (int i = 0; i < n;) {
        double yi = y[i], ti = t[i];
        if (have && py >= 0 && yi < 0) {                      /* falling crossing */
            double tz = pt + (ti - pt) * py / (py - yi);
            if (d->state == POS && judge(d, tz, &out[found]))
                at[found++] = i;
            d->state = NEG;
            d->fall_t = tz;
            d->neg_uv = 0;
            d->neg_t = ti;
        } else if (have && py < 0 && yi >= 0) {               /* rising crossing */
            double tz = pt + (ti - pt) * -py / (yi - py);
            d->state = d->state == NEG ? POS : IDLE;
            d->rise_t = tz;
            d->pos_uv = 0;
        }
        int neg = yi < 0, j = i + 1;
        while (j < n && (y[j] < 0) == neg)                    /* the run on this side of zero */
            j++;
        half_wave(d, t, y, i, j);
        py = y[j - 1];
        pt = t[j - 1];
        have = 1;
        i = j;
    }
    d->prev_y = py;
    d->prev_t = pt;
    d->have_prev = have;
    return found;
}

/* x (uV) in chunks: band-passed here (filter 1: non-finite samples taken as 0) or already (0). */
static int run_blocks(dw_slow_wave_det *d, const double *t, const double *x, int n, int filter,
                      dw_slow_wave *out, int *at)
{
    int found = 0;
    for (int i = 0; i < n; i += CHUNK) {
        int m = n - i < CHUNK ? n - i : CHUNK;
        double y[CHUNK];
        const double *c = x + i;
        if (filter) {
            dw_finite_or_zero(c, y, m);
            dw_cascade_run(&d->bp, y, y, (size_t)m);
            c = y;
        }
        int f = detect_chunk(d, t + i, c, m, out + found, at + found);
        for (int j = 0; j < f; j++)
            at[found + j] += i;
        found += f;
    }
    return found;
}

dw_cascade *dw_slow_wave_cascade(dw_slow_wave_det *d) { return &d->bp; }

int dw_slow_wave_run_filtered(dw_slow_wave_det *d, const double *t, const double *y, int n,
                              dw_slow_wave *out, int *at)
{
    return run_blocks(d, t, y, n, 0, out, at);
}

int dw_slow_wave_run(dw_slow_wave_det *d, const double *t, const double *x, int n,
                     dw_slow_wave *out, int *at)
{
    return run_blocks(d, t, x, n, 1, out, at);
}
