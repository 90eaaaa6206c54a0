/* Real FFT, double precision, through FFTW 3 (Debian libfftw3-dev): the hot path of the epoch
 * features (Welch with 256-point segments). FFTW's r2c codelets take a 256-point transform in about
 * half the time of the radix-2 FFT we had (tests/bench/bench_features.c measures both against FFTW
 * in the same run), with the same accuracy (tests/unit/test_fft.c: numpy to 1e-13). Plans are made
 * with FFTW_ESTIMATE, so the same machine always takes the same plan and gives the same bits
 * (FFTW_MEASURE would time candidate plans and could pick another one from run to run). A plan is
 * read-only after dw_rfft_new, so threads may share it; making and freeing plans takes a lock
 * (FFTW's planner is not thread-safe). */
#ifndef DW_FFT_H
#define DW_FFT_H

#include <stddef.h>

/* Alignment of the arrays that take the fast path (FFTW's SIMD codelets want it). */
#define DW_FFT_ALIGN 64

typedef struct dw_rfft dw_rfft;

/* n in [8, 65536] (any length; powers of two and products of small primes are fastest); NULL
 * otherwise or when out of memory. */
dw_rfft *dw_rfft_new(size_t n);
void     dw_rfft_free(dw_rfft *p);
size_t   dw_rfft_size(const dw_rfft *p);
/* X[k] = sum_j x[j] exp(-2 pi i j k / n) for k = 0..n/2 (as numpy.fft.rfft), as pairs: X[2k] = Re
 * X[k], X[2k + 1] = Im X[k] (n + 2 doubles). x (n doubles) is not changed; x and X must not
 * overlap. Arrays aligned to DW_FFT_ALIGN take FFTW's SIMD codelets; others a second, slower plan
 * (same results to rounding). No allocation, no shared scratch. */
void     dw_rfft_forward(const dw_rfft *p, const double *x, double *X);

#endif
