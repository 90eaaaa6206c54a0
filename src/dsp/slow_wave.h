/* Slow waves (slow oscillations) on one EEG channel, live: the amplitude and duration criteria of
 * YASA's sw_detect (Vallat & Walker, eLife 2021, after Massimini et al. 2004 and Carrier et al.
 * 2011), on a causal filter. The signal is band-passed 0.3-1.5 Hz (2nd-order Butterworth high-pass
 * 0.3 Hz and low-pass 1.5 Hz). A slow wave runs from a falling zero crossing through a negative
 * half-wave to the rising crossing, then a positive half-wave to the next falling crossing, and
 * counts when: negative half-wave 0.3-1.5 s, its peak -40 to -200 uV; positive half-wave 0.1-1 s,
 * its peak 10 to 150 uV; peak to peak 75-350 uV (the AASM's 75-uV slow-wave amplitude). It is
 * reported at the falling crossing that ends it. The causal filter delays a 1-Hz wave by about 0.1
 * s against YASA's zero-phase one, and a low-order filter passes a little more outside the band;
 * this is not the stimulation's trough detector (session/slow_oscillation.h), which must act before
 * the up-state. */
#ifndef DW_SLOW_WAVE_H
#define DW_SLOW_WAVE_H

#include "dsp/biquad.h"

typedef struct {
    double start_s;      /* the falling zero crossing that begins it, source time (s) */
    double dur_s;        /* to the falling crossing that ends it */
    double neg_t;        /* time of the negative peak */
    double neg_uv;       /* negative peak (uV, < 0) */
    double pos_uv;       /* positive peak (uV) */
    double ptp_uv;       /* pos - neg */
} dw_slow_wave;

typedef struct dw_slow_wave_det dw_slow_wave_det;

/* NULL when fs < 4 Hz or out of memory. */
dw_slow_wave_det *dw_slow_wave_new(double fs);
void dw_slow_wave_free(dw_slow_wave_det *d);
void dw_slow_wave_reset(dw_slow_wave_det *d);   /* after a gap: filter and half-waves forgotten */
/* n consecutive samples x (uV; a non-finite one counts as 0) at source times t[0..n-1]. Returns
 * the number of slow waves that ended in them, each in out[j] with at[j] the index of the sample
 * that ended it (ascending); out and at have room for n. The band-pass runs over blocks of 256
 * samples; the same slow waves to the bit for any cutting of a stream. */
int  dw_slow_wave_run(dw_slow_wave_det *d, const double *t, const double *x_uv, int n,
                      dw_slow_wave *out, int *at);

/* For a caller that filters for several detectors at once (dsp/sleep_events.c): the band-pass
 * cascade (owned by d), and dw_slow_wave_run on samples already through it (y[i]: x[i], non-finite
 * taken as 0, through it, in order). The same slow waves to the bit as dw_slow_wave_run. */
dw_cascade *dw_slow_wave_cascade(dw_slow_wave_det *d);
int dw_slow_wave_run_filtered(dw_slow_wave_det *d, const double *t, const double *y, int n,
                              dw_slow_wave *out, int *at);

#endif
