/* Real FFT of a power-of-two length, double precision: the hot path of the epoch features
 * (Welch with 256-point segments). A plan is read-only after dw_rfft_new, so threads may share it. */
#ifndef DW_FFT_H
#define DW_FFT_H

#include <stddef.h>

typedef struct dw_rfft dw_rfft;

/* n a power of two in [8, 65536]; NULL otherwise or when out of memory. */
dw_rfft *dw_rfft_new(size_t n);
void     dw_rfft_free(dw_rfft *p);
size_t   dw_rfft_size(const dw_rfft *p);
/* X[k] = sum_j x[j] exp(-2 pi i j k / n) for k = 0..n/2 (as numpy.fft.rfft): re[] and im[] hold
 * n/2 + 1 values each and are also the work space (no allocation, no shared scratch). */
void     dw_rfft_forward(const dw_rfft *p, const double *x, double *re, double *im);

#endif
