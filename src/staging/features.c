/* The seven numbers per channel and epoch that the real training set holds (../shared/data/README.md):
 * Welch PSD band means as scipy.signal.welch(x, fs=100, nperseg=256) computes them, the variance and
 * the variance of the first difference. */
#include "staging/features.h"
#include "base/dw.h"
#include "dsp/fft.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#define STEP (DW_WELCH_NPERSEG / 2)   /* SciPy's default overlap is half a segment */

static struct {
    pthread_once_t once;
    dw_rfft_pair *fft;                /* two segments' periodograms from one complex FFT */
    double hann[DW_WELCH_NPERSEG];
    double scale;                    /* 1 / (fs * sum w^2): SciPy's density scaling */
} welch = { .once = PTHREAD_ONCE_INIT };

static void welch_init(void)
{
    double s2 = 0;
    for (int j = 0; j < DW_WELCH_NPERSEG; j++) {
        /* periodic ("DFT-even") Hann, as scipy.signal.get_window('hann', 256) */
        welch.hann[j] = 0.5 - 0.5 * cos(2.0 * M_PI * j / DW_WELCH_NPERSEG);
        s2 += welch.hann[j] * welch.hann[j];
    }
    welch.scale = 1.0 / (DW_FS * s2);
    welch.fft = dw_rfft_pair_new(DW_WELCH_NPERSEG);
}


/* Sum with four accumulators (taps i, i+4, ...: the lanes of a vector): the adds pipeline instead of
 * waiting on one another (and round a bit less). */
DW_AVX_CLONES
static double sum_of(const double *x, size_t n)
{
    dw_v4d s = { 0, 0, 0, 0 }, v;
    size_t n4 = n - n % 4;
    for (size_t i = 0; i < n4; i += 4) {
        memcpy(&v, x + i, sizeof v);
        s += v;
    }
    for (size_t i = n4; i < n; i++)
        s[0] += x[i];
    return (s[0] + s[1]) + (s[2] + s[3]);
}

/* Sum of squared deviations from m, four accumulators as above. */
DW_AVX_CLONES
static double sum_sq_dev(const double *x, size_t n, double m)
{
    dw_v4d s = { 0, 0, 0, 0 }, v;
    size_t n4 = n - n % 4;
    for (size_t i = 0; i < n4; i += 4) {
        memcpy(&v, x + i, sizeof v);
        v -= m;
        s += v * v;
    }
    for (size_t i = n4; i < n; i++)
        s[0] += (x[i] - m) * (x[i] - m);
    return (s[0] + s[1]) + (s[2] + s[3]);
}

/* z[2j] = (x1[j] - m1) w[j] and z[2j + 1] = (x2[j] - m2) w[j] (0 without x2), w the Hann window:
 * two segments detrended, windowed and interleaved for dw_rfft_pair_power_add, four j at a time. */
static inline void pack_pair(const double *x1, double m1, const double *x2, double m2, double *z)
{
    for (int j = 0; j < DW_WELCH_NPERSEG; j += 4) {
        dw_v4d a, b = { 0, 0, 0, 0 }, w;
        memcpy(&a, x1 + j, sizeof a);
        memcpy(&w, welch.hann + j, sizeof w);
        a = (a - m1) * w;
        if (x2) {
            memcpy(&b, x2 + j, sizeof b);
            b = (b - m2) * w;
        }
        dw_v4d lo = __builtin_shufflevector(a, b, 0, 4, 1, 5),
            hi = __builtin_shufflevector(a, b, 2, 6, 3, 7);
        memcpy(z + 2 * j, &lo, sizeof lo);
        memcpy(z + 2 * j + 4, &hi, sizeof hi);
    }
}

/* The clones are static, called through plain functions (see base/frames.c: clang exports no plain
 * symbol for a target_clones function). */
DW_AVX_CLONES
static int welch_psd(const double *x, size_t n, double psd[DW_PSD_BINS])
{
    pthread_once(&welch.once, welch_init);
    memset(psd, 0, DW_PSD_BINS * sizeof *psd);
    if (n < DW_WELCH_NPERSEG || !welch.fft)
        return 0;
    int nseg = (int)((n - DW_WELCH_NPERSEG) / STEP + 1);   /* trailing samples that fill no segment are unused */
    _Alignas(DW_FFT_ALIGN) double z[2 * DW_WELCH_NPERSEG];   /* two segments, interleaved */
    _Alignas(DW_FFT_ALIGN) double Z[2 * DW_WELCH_NPERSEG];
    double half = sum_of(x, STEP);                          /* segments overlap by half: sum each half once */
    for (int s = 0; s < nseg; s += 2) {
        int both = s + 1 < nseg;                            /* else the second is zeros */
        const double *x1 = x + (size_t)s * STEP, *x2 = x1 + STEP;
        double next = sum_of(x1 + STEP, STEP), m1 = (half + next) / DW_WELCH_NPERSEG, m2 = 0;
        half = next;                                        /* detrend='constant' */
        if (both) {
            next = sum_of(x2 + STEP, STEP);
            m2 = (half + next) / DW_WELCH_NPERSEG;
            half = next;
        }
        pack_pair(x1, m1, both ? x2 : NULL, m2, z);
        dw_rfft_pair_power_add(welch.fft, z, Z, both, psd);
    }
    /* one-sided: every bin but DC and Nyquist carries its negative-frequency twin */
    double sc = welch.scale / nseg;
    for (int k = 0; k < DW_PSD_BINS; k++)
        psd[k] *= (k == 0 || k == DW_PSD_BINS - 1) ? sc : 2.0 * sc;
    return nseg;
}

/* Population variance by two passes (mean first), as numpy.var: exact enough with a large DC offset. */
static double variance(const double *x, size_t n)
{
    return sum_sq_dev(x, n, sum_of(x, n) / (double)n) / (double)n;
}

/* Variance of x[i+1] - x[i]; the mean of the differences telescopes to (x[n-1] - x[0]) / (n-1).
 * Four accumulators (differences i, i+4, ...) in the lanes of a vector, as sum_of. */
DW_AVX_CLONES
static double variance_of_diff(const double *x, size_t n)
{
    double m = (x[n - 1] - x[0]) / (double)(n - 1);
    dw_v4d s = { 0, 0, 0, 0 }, a, b;
    size_t nd = n - 1, n4 = nd - nd % 4;         /* differences, taken four at a time */
    for (size_t i = 0; i < n4; i += 4) {
        memcpy(&a, x + i + 1, sizeof a);
        memcpy(&b, x + i, sizeof b);
        a = (a - b) - m;
        s += a * a;
    }
    for (size_t i = n4; i < nd; i++)
        s[0] += ((x[i + 1] - x[i]) - m) * ((x[i + 1] - x[i]) - m);
    return ((s[0] + s[1]) + (s[2] + s[3])) / (double)nd;
}

/* Mean PSD over the bins k * fs / nperseg inside [lo, hi] Hz, edges included. The edges times 256 are
 * whole numbers, so the comparisons are exact. */
static double band_mean(const double *psd, double lo, double hi)
{
    double s = 0;
    int n = 0, k = 0;
    while (k < DW_PSD_BINS && (double)k * DW_FS < lo * DW_WELCH_NPERSEG)   /* k * DW_FS = f * 256 */
        k++;
    for (; k < DW_PSD_BINS && (double)k * DW_FS <= hi * DW_WELCH_NPERSEG; k++, n++)
        s += psd[k];                     /* the band's bins in order; none above it looked at */
    return n ? s / n : 0.0;
}

DW_AVX_CLONES
static void features_epoch(const double *x, dw_features *f, double psd[DW_PSD_BINS])
{
    double own[DW_PSD_BINS], *p = psd ? psd : own;
    welch_psd(x, DW_EPOCH_N, p);
    f->delta = band_mean(p, 0.5, 4);
    f->theta = band_mean(p, 4, 8);
    f->alpha = band_mean(p, 8, 13);
    f->beta  = band_mean(p, 13, 30);
    f->gamma = band_mean(p, 30, 50);
    f->var   = variance(x, DW_EPOCH_N);
    f->dvar  = variance_of_diff(x, DW_EPOCH_N);
}

int dw_welch(const double *x, size_t n, double psd[DW_PSD_BINS])
{
    return welch_psd(x, n, psd);
}

void dw_features_epoch(const double *x, dw_features *f, double psd[DW_PSD_BINS])
{
    features_epoch(x, f, psd);
}
