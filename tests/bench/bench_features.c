/* Epoch features and resampling speed, each against a reference measured in the same run (CPU time
 * of this process, best of 7, interleaved): our Welch PSD (dw_welch: FFTW r2c through dsp/fft.c)
 * against the plain FFTW Welch of fftw_welch.h, and our seven numbers per epoch (dw_features_epoch)
 * against the same seven computed the plain way on FFTW (target: within 1.2x; both must agree to
 * 1e-12); an 8-h two-channel night's features against real time; the resampler (16 channels 250 ->
 * 100 Hz, one second at a time) against real time, with the AVX filter against the SSE2 one where
 * the CPU has AVX. */
#include "base/dw.h"
#include "dsp/resample.h"
#include "staging/features.h"
#include "fftw_welch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POOL 64
#define REPS 7

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double gauss(void)
{
    double u = (rand() + 1.0) / (RAND_MAX + 2.0), v = (rand() + 1.0) / (RAND_MAX + 2.0);
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static double pool[POOL][DW_EPOCH_N], sink;

/* CPU seconds per epoch of one of: 0 dw_welch, 1 ref_welch, 2 dw_features_epoch, 3
 * ref_features_epoch. */
static double per_epoch(int what, int n)
{
    double psd[DW_PSD_BINS], t0 = cpu_now();
    for (int e = 0; e < n; e++) {
        const double *x = pool[e % POOL];
        if (what == 0) {
            dw_welch(x, DW_EPOCH_N, psd);
            sink += psd[7];
        } else if (what == 1) {
            ref_welch(x, DW_EPOCH_N, psd);
            sink += psd[7];
        } else if (what == 2) {
            dw_features f;
            dw_features_epoch(x, &f, NULL);
            sink += f.delta + f.dvar;
        } else {
            ref_features f;
            ref_features_epoch(x, &f);
            sink += f.band[0] + f.dvar;
        }
    }
    return (cpu_now() - t0) / n;
}

static double resample_run(int allow_avx, int *avx)
{
    enum { CH = 16, FS_IN = 250, SECS = 600 };
    dw_resampler *r[CH];
    static double in[FS_IN], out[FS_IN];
    for (int c = 0; c < CH; c++) {
        r[c] = dw_resampler_new(FS_IN, 100);
        *avx = dw_resampler_simd(r[c], allow_avx);
    }
    double t0 = cpu_now();
    for (int s = 0; s < SECS; s++)
        for (int c = 0; c < CH; c++) {
            for (int i = 0; i < FS_IN; i++)
                in[i] = pool[c][(s * FS_IN + i) % DW_EPOCH_N];
            size_t k = dw_resampler_run(r[c], in, FS_IN, out, FS_IN);
            sink += k ? out[0] : 0;
        }
    double el = cpu_now() - t0;
    for (int c = 0; c < CH; c++)
        dw_resampler_free(r[c]);
    return el / SECS;               /* CPU seconds per second of 16-channel signal */
}

int main(void)
{
    srand(1);
    for (int e = 0; e < POOL; e++)
        for (int i = 0; i < DW_EPOCH_N; i++)
            pool[e][i] = 30 * gauss() + 1e3;
    double best[4] = { 1e9, 1e9, 1e9, 1e9 };
    per_epoch(0, 1), per_epoch(1, 1);                 /* plans made before timing */
    for (int rep = 0; rep < REPS; rep++)
        for (int w = 0; w < 4; w++)
            best[w] = fmin(best[w], per_epoch(w, 2000));

    /* agreement, and SciPy's figures are in test_features */
    double a[DW_PSD_BINS], b[DW_PSD_BINS], diff = 0;
    dw_welch(pool[1], DW_EPOCH_N, a);
    ref_welch(pool[1], DW_EPOCH_N, b);
    for (int k = 0; k < DW_PSD_BINS; k++)
        diff = fmax(diff, fabs(a[k] - b[k]) / b[k]);
    double rw = best[0] / best[1], rf = best[2] / best[3];
    printf("welch: ours %.1f us per 30-s epoch (22 segments of 256), plain FFTW Welch %.1f us: %.2fx FFTW's time "
           "(target <= 1.2)  %s; PSDs agree to %.1e\n", best[0] * 1e6, best[1] * 1e6, rw, rw <= 1.2 ? "ok" : "OVER",
           diff);
    printf("features: ours %.1f us per epoch (Welch + 7 numbers), the plain FFTW reference %.1f us: %.2fx its "
           "time  %s\n", best[2] * 1e6, best[3] * 1e6, rf, rf <= 1.2 ? "ok" : "OVER");
    printf("features: an 8-h 2-channel night (1920 epochs) takes %.3f s of CPU = %.0f x real time\n",
           1920 * best[2], 28800 / (1920 * best[2]));

    int avx = 0, dummy;
    double r_simd = 1e9, r_sse = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        r_simd = fmin(r_simd, resample_run(1, &avx));
        r_sse = fmin(r_sse, resample_run(0, &dummy));
    }
    printf("resample: 16 ch 250 -> 100 Hz: %.0f x real time on one core (%s filter)", 1 / r_simd,
           avx ? "AVX" : "SSE2");
    if (avx)
        printf("; the SSE2 filter %.0f x real time (AVX takes %.2fx its time)", 1 / r_sse, r_simd / r_sse);
    printf("\n");
    return sink == 0.12345 ? 1 : 0;   /* keeps the work observable */
}
