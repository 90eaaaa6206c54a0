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

int dw_slow_wave_step(dw_slow_wave_det *d, double t, double x, dw_slow_wave *out)
{
    double y = dw_cascade_step(&d->bp, isfinite(x) ? x : 0);
    int found = 0;
    if (d->have_prev && d->prev_y >= 0 && y < 0) {            /* falling crossing */
        double tz = d->prev_t + (t - d->prev_t) * d->prev_y / (d->prev_y - y);
        if (d->state == POS)
            found = judge(d, tz, out);
        d->state = NEG;
        d->fall_t = tz;
        d->neg_uv = 0;
        d->neg_t = t;
    } else if (d->have_prev && d->prev_y < 0 && y >= 0) {      /* rising crossing */
        double tz = d->prev_t + (t - d->prev_t) * -d->prev_y / (y - d->prev_y);
        d->state = d->state == NEG ? POS : IDLE;
        d->rise_t = tz;
        d->pos_uv = 0;
    }
    if (d->state == NEG && y < d->neg_uv) {
        d->neg_uv = y;
        d->neg_t = t;
    } else if (d->state == POS) {
        if (y > d->pos_uv)
            d->pos_uv = y;
        if (t - d->rise_t > POS_DUR_MAX)
            d->state = IDLE;                                  /* too long to be a slow wave */
    }
    d->prev_y = y;
    d->prev_t = t;
    d->have_prev = 1;
    return found;
}
