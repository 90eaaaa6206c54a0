/* Streaming, causal, anti-aliased sample-rate conversion (any ratio) for one channel. */
#ifndef DW_RESAMPLE_H
#define DW_RESAMPLE_H

#include <stddef.h>

typedef struct dw_resampler dw_resampler;

/* NULL if the rates are not positive (or above 1e7 Hz, or fs_in / fs_out so large, over ~20000, that the
 * filter would pass a million taps). fs_in == fs_out is a plain copy with no delay. Otherwise a Kaiser
 * windowed-sinc, -6 dB at 0.45 and stopband (>= 70 dB) from 0.5 of the lower rate; the history starts
 * filled with the first sample, so a DC offset gives no start-up transient. */
dw_resampler *dw_resampler_new(double fs_in, double fs_out);
/* Push n input samples; writes the outputs now due (at most cap) and returns how many.
 * Over a stream, outputs = inputs * fs_out / fs_in (to within one sample). */
size_t dw_resampler_run(dw_resampler *r, const double *in, size_t n, double *out, size_t cap);
/* Group delay of the filter in seconds (the output lags the input by this much). */
double dw_resampler_delay_s(const dw_resampler *r);
void   dw_resampler_reset(dw_resampler *r);
void   dw_resampler_free(dw_resampler *r);
/* The most outputs one dw_resampler_run call of n inputs can produce: a cap this large loses nothing
 * (outputs beyond cap are dropped). */
size_t dw_resampler_max_out(const dw_resampler *r, size_t n);
/* Whether the filter runs on the CPU's AVX unit (allow 1, the default) or on SSE2 pairs (allow 0):
 * the results are the same to the bit either way (for tests and benchmarks). 1 if AVX is in use. */
int    dw_resampler_simd(dw_resampler *r, int allow);

#endif
