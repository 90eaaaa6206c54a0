/* The reference the benches measure our features against: the seven numbers of one 30-s epoch at
 * 100 Hz computed the plain way with FFTW (scipy.signal.welch's definition: periodic Hann,
 * 256-point segments, 128 overlap, mean detrend per segment, density scaling, one-sided; band
 * means, variance, variance of the first difference), written here without any of our code. One r2c
 * plan, FFTW_ESTIMATE, on aligned arrays: what anyone writing Welch on FFTW would do. Not
 * thread-safe (one static plan and scratch). */
#ifndef DW_BENCH_FFTW_WELCH_H
#define DW_BENCH_FFTW_WELCH_H

#include <fftw3.h>
#include <math.h>
#include <string.h>

typedef struct {
    double band[5];          /* delta theta alpha beta gamma: mean PSD over [0.5,4] [4,8] [8,13] [13,30] [30,50] Hz */
    double var, dvar;
} ref_features;

static struct {
    fftw_plan plan;
    double *seg, hann[256], scale;
    fftw_complex *spec;
} ref_w;

/* psd[129] of x[0..n) (n >= 256) at 100 Hz. */
static inline void ref_welch(const double *x, int n, double *psd)
{
    if (!ref_w.plan) {
        ref_w.seg = fftw_malloc(256 * sizeof(double));
        ref_w.spec = fftw_malloc(129 * sizeof(fftw_complex));
        ref_w.plan = fftw_plan_dft_r2c_1d(256, ref_w.seg, ref_w.spec, FFTW_ESTIMATE);
        double s2 = 0;
        for (int j = 0; j < 256; j++) {
            ref_w.hann[j] = 0.5 - 0.5 * cos(2 * M_PI * j / 256);
            s2 += ref_w.hann[j] * ref_w.hann[j];
        }
        ref_w.scale = 1.0 / (100.0 * s2);
    }
    int nseg = (n - 256) / 128 + 1;
    double *restrict seg = ref_w.seg, acc[129] = { 0 };
    const fftw_complex *restrict spec = ref_w.spec;
    for (int s = 0; s < nseg; s++) {
        const double *xs = x + s * 128;
        double m = 0;
        for (int j = 0; j < 256; j++)
            m += xs[j];
        m /= 256;
        for (int j = 0; j < 256; j++)
            seg[j] = (xs[j] - m) * ref_w.hann[j];
        fftw_execute(ref_w.plan);
        for (int k = 0; k < 129; k++)
            acc[k] += spec[k][0] * spec[k][0] + spec[k][1] * spec[k][1];
    }
    memcpy(psd, acc, sizeof acc);
    for (int k = 0; k < 129; k++)
        psd[k] *= ref_w.scale / nseg * (k == 0 || k == 128 ? 1 : 2);
}

/* The seven numbers of a 3000-sample epoch. */
static inline void ref_features_epoch(const double *x, ref_features *f)
{
    static const double lo[5] = { 0.5, 4, 8, 13, 30 }, hi[5] = { 4, 8, 13, 30, 50 };
    double psd[129], m = 0, v = 0, dm, dv = 0;
    ref_welch(x, 3000, psd);
    for (int b = 0; b < 5; b++) {
        double s = 0;
        int c = 0;
        for (int k = 0; k < 129; k++)
            if (k * 100.0 / 256 >= lo[b] && k * 100.0 / 256 <= hi[b])
                s += psd[k], c++;
        f->band[b] = s / c;
    }
    for (int i = 0; i < 3000; i++)
        m += x[i];
    m /= 3000;
    for (int i = 0; i < 3000; i++)
        v += (x[i] - m) * (x[i] - m);
    f->var = v / 3000;
    dm = (x[2999] - x[0]) / 2999;
    for (int i = 0; i + 1 < 3000; i++)
        dv += (x[i + 1] - x[i] - dm) * (x[i + 1] - x[i] - dm);
    f->dvar = dv / 2999;
}

#endif
