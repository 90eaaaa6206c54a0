/* Second-order IIR sections (direct form II transposed) with the RBJ "Audio EQ Cookbook" designs,
 * and cascades of them: the causal 0.5-2 Hz band-pass for slow oscillations, mains (50/60 Hz)
 * detection and notching. Coefficients are normalised so that a0 = 1, as scipy.signal.lfilter's b, a. */
#ifndef DW_BIQUAD_H
#define DW_BIQUAD_H

#include <stddef.h>

enum dw_biquad_kind { DW_BQ_LOWPASS, DW_BQ_HIGHPASS, DW_BQ_BANDPASS, DW_BQ_NOTCH };

typedef struct { double b0, b1, b2, a1, a2; } dw_biquad_coef;
typedef struct { dw_biquad_coef c; double s1, s2; } dw_biquad;

/* RBJ design at corner/centre f0 (Hz) with quality q, sample rate fs. Band-pass has 0 dB at f0;
 * low/high-pass with q = 1/sqrt(2) are Butterworth. -1 unless 0 < f0 < fs/2 and q > 0. */
int    dw_biquad_design(dw_biquad_coef *c, enum dw_biquad_kind kind, double f0, double q, double fs);
/* Magnitude response |H| at f Hz. */
double dw_biquad_gain(const dw_biquad_coef *c, double f, double fs);

static inline double dw_biquad_step(dw_biquad *b, double x)
{
    double y = b->c.b0 * x + b->s1;
    b->s1 = b->c.b1 * x - b->c.a1 * y + b->s2;
    b->s2 = b->c.b2 * x - b->c.a2 * y;
    return y;
}

#define DW_CASCADE_MAX 8
typedef struct { int n; dw_biquad s[DW_CASCADE_MAX]; } dw_cascade;   /* zero-initialise, then add */

/* Appends one RBJ section (state zero); -1 if the design is invalid or the cascade is full. */
int    dw_cascade_add(dw_cascade *c, enum dw_biquad_kind kind, double f0, double q, double fs);
/* Appends an even-order Butterworth low- or high-pass as order/2 sections (same as
 * scipy.signal.butter(order, fc, btype, fs=fs)); -1 on a bad kind, order, frequency or no room. */
int    dw_cascade_butter(dw_cascade *c, enum dw_biquad_kind kind, int order, double fc, double fs);
double dw_cascade_step(dw_cascade *c, double x);
/* Filters n samples (in == out allowed). */
void   dw_cascade_run(dw_cascade *c, const double *in, double *out, size_t n);
void   dw_cascade_reset(dw_cascade *c);
/* Sets every section's state to its steady state for a constant input x0, so a signal that starts at
 * x0 (a 60-mV electrode offset into a high-pass) gives no start-up transient: the first output is
 * gain(0) * x0 exactly. Each section's DC gain is (b0 + b1 + b2) / (1 + a1 + a2). */
void   dw_cascade_settle(dw_cascade *c, double x0);
double dw_cascade_gain(const dw_cascade *c, double f, double fs);
/* Phase response at f Hz (radians, unwrapped only within each section: compare modulo 2 pi). */
double dw_cascade_phase(const dw_cascade *c, double f, double fs);

#endif
