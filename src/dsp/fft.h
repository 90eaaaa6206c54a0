/* Real FFT, double precision, through FFTW 3 (Debian libfftw3-dev): the line-noise check of the
 * quality verdict, and (dw_rfft_pair below: two segments in one complex FFT) the hot path of the
 * epoch features (Welch with 256-point segments). FFTW's r2c codelets take a 256-point transform
 * in about half the time of the radix-2 FFT we had (tests/bench/bench_features.c measures Welch
 * against a plain FFTW one in the same run), with the same accuracy (tests/unit/test_fft.c: numpy
 * to 1e-13). Plans are made with FFTW_ESTIMATE, so the same machine always takes the same plan
 * and gives the same bits (FFTW_MEASURE would time candidate plans and could pick another one from
 * run to run). A plan is read-only after dw_rfft_new, so threads may share it; making and freeing
 * plans takes a lock (FFTW's planner is not thread-safe). */
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

/* The power spectra of two real signals of n points at once, from one complex FFT of n points of
 * z = x1 + i x2 (the standard packing of two real transforms in one complex one: with Z its DFT,
 * X1[k] = (Z[k] + conj Z[n-k]) / 2 and X2[k] = (Z[k] - conj Z[n-k]) / 2i; Press et al., Numerical
 * Recipes, 3rd ed., 12.3.2). A complex FFT of n points takes less than half the time of two real
 * ones here (FFTW_ESTIMATE plans, 256 points: 160 ns against 2 x 375 ns; measured, issue 16), which
 * makes Welch's segments, taken two at a time, cheaper. n even, in [8, 65536]; NULL otherwise or
 * when out of memory. Shared by threads as dw_rfft is. */
typedef struct dw_rfft_pair dw_rfft_pair;
dw_rfft_pair *dw_rfft_pair_new(size_t n);
void          dw_rfft_pair_free(dw_rfft_pair *p);
/* z: the two signals interleaved, z[2j] = x1[j] and z[2j + 1] = x2[j] (2n doubles; the caller packs
 * them, windowing as it goes); Z: scratch of 2n doubles; both aligned to DW_FFT_ALIGN for the fast
 * plan (others take a slower one, the same results to rounding). Adds to acc[k], k = 0..n/2, first
 * |X1[k]|^2 and then, when both is set, |X2[k]|^2 (X the signals' DFTs as numpy.fft.rfft gives
 * them): each |X[k]|^2 is 0.25 * (re^2 + im^2) of Z[k] +- conj Z[n-k]. The rounding of a bin
 * is relative to both signals' sizes (a quiet signal beside a loud one carries the loud one's
 * rounding): about 5e-16 of the larger signal's largest bin (test_fft, against dw_rfft_forward, a
 * signal beside one 1e4 times louder among the cases). z is not changed; no allocation. */
void          dw_rfft_pair_power_add(const dw_rfft_pair *p, const double *z, double *Z, int both,
                                     double *acc);

#endif
