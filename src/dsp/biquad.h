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
/* Filters n samples (in == out allowed): the sections three at a time over the block, each sample
 * through the same operations in the same order as dw_cascade_step, so the output is bit-identical
 * to n calls of it (test_biquad), at about a third of its cost (bench_sleep_events). */
void   dw_cascade_run(dw_cascade *c, const double *in, double *out, size_t n);
/* Two cascades over their own blocks at once (ina -> outa through a, inb -> outb through b; an out
 * may be its own in, and outa may be inb, but outb may not be ina): sections three at a time in
 * the two lanes of one vector, each output bit-identical to dw_cascade_run's (test_biquad). */
void   dw_cascade_run2(dw_cascade *a, const double *ina, double *outa, dw_cascade *b,
                       const double *inb, double *outb, size_t n);
/* Three cascades over the same block at once: in -> outa through a (4-6 sections), -> outb through b
 * and -> outc through c (1-3 sections each); outa, outb, outc distinct, any may be in. Four lanes
 * of one vector, three sections a lane: a's first three, b, a's others (two samples behind: they
 * take the first three's output of two samples before, so that two samples' chains overlap), c. Each lane's operations are
 * dw_biquad_step's in its order, so every output is bit-identical to dw_cascade_run's of its
 * cascade (test_biquad); AVX when the processor has it (checked once), else the same code in two
 * halves. Other shapes: the three cascades one after the other. Used for the spindle detector's
 * sigma (6 sections) and broad (3) band-passes and the slow-wave band-pass (2) of the same channel:
 * 11 sections at about the cost of three (bench_sleep_events). Blocks under 8 samples go the
 * one-after-the-other way too (loading the lanes would cost more). */
void   dw_cascade_run_trio(dw_cascade *a, dw_cascade *b, dw_cascade *c, const double *in,
                           double *outa, double *outb, double *outc, size_t n);
void   dw_cascade_reset(dw_cascade *c);
/* Sets every section's state to its steady state for a constant input x0, so a signal that starts at
 * x0 (a 60-mV electrode offset into a high-pass) gives no start-up transient: the first output is
 * gain(0) * x0 exactly. Each section's DC gain is (b0 + b1 + b2) / (1 + a1 + a2). */
void   dw_cascade_settle(dw_cascade *c, double x0);
double dw_cascade_gain(const dw_cascade *c, double f, double fs);
/* Phase response at f Hz (radians, unwrapped only within each section: compare modulo 2 pi). */
double dw_cascade_phase(const dw_cascade *c, double f, double fs);

/* out[i] = x[i], or 0 where x[i] is not finite (NaN, infinite), for i < n: what the spindle and
 * slow-wave detectors give their filters (a lost sample must not ring through them for ever). Four
 * at a time in the lanes of a vector, each lane the same as one at a time (a compare of |x| with the
 * largest double, a mask: the same bits, -0 kept). out may be x. */
void dw_finite_or_zero(const double *x, double *out, int n);

#endif
