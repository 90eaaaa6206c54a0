/* Epoch features and resampling speed, as ratios: the FFT Welch against a direct O(N^2) DFT Welch
 * measured in the same run, and both against real time. */
#include "base/dw.h"
#include "staging/features.h"
#include "dsp/resample.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL 64

static double gauss(void)
{
    double u = (rand() + 1.0) / (RAND_MAX + 2.0), v = (rand() + 1.0) / (RAND_MAX + 2.0);
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* The same Welch estimate with each 256-point spectrum taken by a direct DFT. */
static void naive_welch(const double *x, double *psd)
{
    static double cs[DW_PSD_BINS][256], sn[DW_PSD_BINS][256], w[256], s2;
    if (s2 == 0)
        for (int j = 0; j < 256; j++) {
            w[j] = 0.5 - 0.5 * cos(2 * M_PI * j / 256);
            s2 += w[j] * w[j];
            for (int k = 0; k < DW_PSD_BINS; k++) {
                cs[k][j] = cos(2 * M_PI * k * j / 256);
                sn[k][j] = sin(2 * M_PI * k * j / 256);
            }
        }
    memset(psd, 0, DW_PSD_BINS * sizeof *psd);
    int nseg = (DW_EPOCH_N - 256) / 128 + 1;
    for (int s = 0; s < nseg; s++) {
        double seg[256], m = 0;
        for (int j = 0; j < 256; j++)
            m += x[s * 128 + j];
        m /= 256;
        for (int j = 0; j < 256; j++)
            seg[j] = (x[s * 128 + j] - m) * w[j];
        for (int k = 0; k < DW_PSD_BINS; k++) {
            double re = 0, im = 0;
            for (int j = 0; j < 256; j++) {
                re += seg[j] * cs[k][j];
                im -= seg[j] * sn[k][j];
            }
            psd[k] += (re * re + im * im) / (DW_FS * s2 * nseg) * (k == 0 || k == 128 ? 1 : 2);
        }
    }
}

int main(void)
{
    static double pool[POOL][DW_EPOCH_N];
    srand(1);
    for (int e = 0; e < POOL; e++)
        for (int i = 0; i < DW_EPOCH_N; i++)
            pool[e][i] = 30 * gauss() + 1e3;

    /* fast path */
    const int n_fast = 20000, n_naive = 300;
    dw_features f;
    double sink = 0, psd[DW_PSD_BINS], ref[DW_PSD_BINS];
    dw_features_epoch(pool[0], &f, NULL);   /* warm-up (plan set-up) */
    double t0 = dw_now_mono();
    for (int e = 0; e < n_fast; e++) {
        dw_features_epoch(pool[e % POOL], &f, NULL);
        sink += f.delta + f.dvar;
    }
    double fast = n_fast / (dw_now_mono() - t0);

    t0 = dw_now_mono();
    for (int e = 0; e < n_naive; e++) {
        naive_welch(pool[e % POOL], psd);
        sink += psd[5];
    }
    double naive = n_naive / (dw_now_mono() - t0);
    dw_welch(pool[1], DW_EPOCH_N, psd);
    naive_welch(pool[1], ref);
    double diff = 0;
    for (int k = 0; k < DW_PSD_BINS; k++)
        diff = fmax(diff, fabs(psd[k] - ref[k]) / ref[k]);

    /* an 8-h night of two channels is 2 x 960 epochs in 28800 s */
    printf("features: %.0f epochs/s (FFT Welch + 7 numbers), direct-DFT Welch %.0f epochs/s: %.0fx faster "
           "(PSDs agree to %.1e)\n", fast, naive, fast / naive, diff);
    printf("features: an 8-h 2-channel night (1920 epochs) takes %.3f s = %.0fx real time\n",
           1920 / fast, 28800 * fast / 1920);

    /* resampler: 16 channels of 250 Hz (Cyton-like) to 100 Hz, fed one second at a time */
    enum { CH = 16, FS_IN = 250, SECS = 600 };
    dw_resampler *r[CH];
    static double in[FS_IN], out[FS_IN];
    for (int c = 0; c < CH; c++)
        r[c] = dw_resampler_new(FS_IN, 100);
    size_t nout = 0;
    t0 = dw_now_mono();
    for (int s = 0; s < SECS; s++)
        for (int c = 0; c < CH; c++) {
            for (int i = 0; i < FS_IN; i++)
                in[i] = pool[c][(s * FS_IN + i) % DW_EPOCH_N];
            nout += dw_resampler_run(r[c], in, FS_IN, out, FS_IN);
            sink += out[0];
        }
    double el = dw_now_mono() - t0;
    printf("resample: 16 ch x %d s at 250 Hz -> 100 Hz (%zu outputs, %.1e outputs/s) in %.3f s = %.0fx real time\n",
           SECS, nout, nout / el, el, SECS / el);
    for (int c = 0; c < CH; c++)
        dw_resampler_free(r[c]);
    return sink == 0.12345 ? 1 : 0;   /* keeps the work observable */
}
