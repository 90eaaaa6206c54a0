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
/* One sample x (uV) at source time t; 1 with *out when a slow wave has just ended. */
int  dw_slow_wave_step(dw_slow_wave_det *d, double t, double x_uv, dw_slow_wave *out);

#endif
