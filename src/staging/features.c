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
    dw_rfft *fft;
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
    welch.fft = dw_rfft_new(DW_WELCH_NPERSEG);
}

typedef double v4d __attribute__((vector_size(32)));   /* four lanes: AVX, or two SSE2 halves */
#define LOAD4(V, P) memcpy(&(V), (P), sizeof(V))          /* unaligned load */

/* Sum with four accumulators (taps i, i+4, ...: the lanes of a vector): the adds pipeline instead of
 * waiting on one another (and round a bit less). */
DW_AVX_CLONES
static double sum_of(const double *x, size_t n)
{
    v4d s = { 0, 0, 0, 0 }, v;
    size_t n4 = n - n % 4;
    for (size_t i = 0; i < n4; i += 4) {
        LOAD4(v, x + i);
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
    v4d s = { 0, 0, 0, 0 }, v;
    size_t n4 = n - n % 4;
    for (size_t i = 0; i < n4; i += 4) {
        LOAD4(v, x + i);
        v -= m;
        s += v * v;
    }
    for (size_t i = n4; i < n; i++)
        s[0] += (x[i] - m) * (x[i] - m);
    return (s[0] + s[1]) + (s[2] + s[3]);
}

/* psd[k] += re_k^2 + im_k^2 for the (re, im) pairs of X, four bins at a time: the squares of eight
 * values in two vectors, each bin's two squares brought into matching lanes, one add (the same
 * operations per bin as one bin at a time: the same bits). Inlined into dw_welch's clones. */
static inline void power_add(const double *X, double *psd)
{
    int k = 0;
    for (; k + 4 <= DW_PSD_BINS; k += 4) {
        v4d a, b, p;
        LOAD4(a, X + 2 * k);                     /* re_k, im_k, re_k+1, im_k+1 */
        LOAD4(b, X + 2 * k + 4);
        a *= a;
        b *= b;
        v4d re2 = __builtin_shufflevector(a, b, 0, 2, 4, 6),
            im2 = __builtin_shufflevector(a, b, 1, 3, 5, 7);
        LOAD4(p, psd + k);
        p += re2 + im2;
        memcpy(psd + k, &p, sizeof p);
    }
    for (; k < DW_PSD_BINS; k++)
        psd[k] += X[2 * k] * X[2 * k] + X[2 * k + 1] * X[2 * k + 1];
}

DW_AVX_CLONES
int dw_welch(const double *x, size_t n, double psd[DW_PSD_BINS])
{
    pthread_once(&welch.once, welch_init);
    memset(psd, 0, DW_PSD_BINS * sizeof *psd);
    if (n < DW_WELCH_NPERSEG || !welch.fft)
        return 0;
    int nseg = (int)((n - DW_WELCH_NPERSEG) / STEP + 1);   /* trailing samples that fill no segment are unused */
    _Alignas(DW_FFT_ALIGN) double seg[DW_WELCH_NPERSEG];
    _Alignas(DW_FFT_ALIGN) double X[2 * DW_PSD_BINS];       /* (re, im) pairs */
    double half = sum_of(x, STEP);                          /* segments overlap by half: sum each half once */
    for (int s = 0; s < nseg; s++) {
        const double *xs = x + (size_t)s * STEP;
        double next = sum_of(xs + STEP, STEP);
        double m = (half + next) / DW_WELCH_NPERSEG;        /* detrend='constant' */
        half = next;
        for (int j = 0; j < DW_WELCH_NPERSEG; j++)
            seg[j] = (xs[j] - m) * welch.hann[j];
        dw_rfft_forward(welch.fft, seg, X);
        power_add(X, psd);
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
    v4d s = { 0, 0, 0, 0 }, a, b;
    size_t nd = n - 1, n4 = nd - nd % 4;         /* differences, taken four at a time */
    for (size_t i = 0; i < n4; i += 4) {
        LOAD4(a, x + i + 1);
        LOAD4(b, x + i);
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
void dw_features_epoch(const double *x, dw_features *f, double psd[DW_PSD_BINS])
{
    double own[DW_PSD_BINS], *p = psd ? psd : own;
    dw_welch(x, DW_EPOCH_N, p);
    f->delta = band_mean(p, 0.5, 4);
    f->theta = band_mean(p, 4, 8);
    f->alpha = band_mean(p, 8, 13);
    f->beta  = band_mean(p, 13, 30);
    f->gamma = band_mean(p, 30, 50);
    f->var   = variance(x, DW_EPOCH_N);
    f->dvar  = variance_of_diff(x, DW_EPOCH_N);
}
