/* Per-epoch EEG features: the seven numbers per channel of the real training set
 * (../shared/data/README.md), computed exactly as scipy.signal.welch does. */
#ifndef DW_EPOCH_FEATURES_H
#define DW_EPOCH_FEATURES_H

#include "base/dw.h"

#define DW_WELCH_NPERSEG 256
#define DW_PSD_BINS      129          /* one-sided bins of a 256-point FFT, k * 100/256 Hz */

typedef struct {
    double delta, theta, alpha, beta, gamma; /* mean PSD (uV^2/Hz) over bins in [0.5,4] [4,8] [8,13] [13,30] [30,50] Hz */
    double var;                              /* population variance of the epoch (uV^2) */
    double dvar;                             /* variance of the first difference (uV^2) */
} dw_features;

/* Welch PSD of x[0..n) at DW_FS: Hann (periodic), nperseg 256, overlap 128, mean detrend per segment,
 * density scaling, one-sided; segments averaged by the mean. Returns the number of segments (0 if n < 256). */
int dw_welch(const double *x, size_t n, double psd[DW_PSD_BINS]);

/* The seven numbers of one DW_EPOCH_N-sample epoch. psd may be NULL; if not, receives the Welch PSD. */
void dw_features_epoch(const double *x, dw_features *f, double psd[DW_PSD_BINS]);

#endif
