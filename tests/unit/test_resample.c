/* The resampler on long streams at EDF/OpenBCI rates (and 173.61 Hz, and upsampling): output counts,
 * passband gain and phase after the reported delay, stopband attenuation, chunking invariance. */
#include "dsp/resample.h"
#include "tap.h"
#include <stdint.h>

static const double rates[] = { 128, 200, 250, 256, 500, 512, 1000, 125, 173.61, 50 };
#define NRATES (sizeof rates / sizeof rates[0])
#define FS_OUT 100.0

/* Resamples x[0..n) fed in chunks of 1..maxchunk samples (maxchunk 0: one piece); checks the running
 * output count stays within one of inputs * fs_out / fs_in. Returns outputs, -1 on a count error. */
static long run_chunks(dw_resampler *r, double fs_in, const double *x, size_t n, double *y, size_t maxchunk)
{
    size_t in = 0, out = 0;
    while (in < n) {
        size_t c = maxchunk ? 1 + (size_t)rand() % maxchunk : n;
        if (c > n - in)
            c = n - in;
        size_t cap = dw_resampler_max_out(r, c);
        out += dw_resampler_run(r, x + in, c, y + out, cap);
        in += c;
        if (fabs((double)out - (double)in * FS_OUT / fs_in) > 1.0)
            return -1;
    }
    return (long)out;
}

/* Least-squares fit y[j] ~ a sin(w t_j) + b cos(w t_j), t_j = j / fs_out - delay, j >= j0; returns
 * gain, phase error (radians) and residual rms relative to the input amplitude 1. */
static void fit_tone(const double *y, long n, long j0, double f, double delay, double *gain, double *phase,
                     double *resid)
{
    double ss = 0, cc = 0, sc = 0, ys = 0, yc = 0;
    for (long j = j0; j < n; j++) {
        double t = j / FS_OUT - delay, s = sin(2 * M_PI * f * t), c = cos(2 * M_PI * f * t);
        ss += s * s; cc += c * c; sc += s * c; ys += y[j] * s; yc += y[j] * c;
    }
    double det = ss * cc - sc * sc, a = (ys * cc - yc * sc) / det, b = (yc * ss - ys * sc) / det;
    double e = 0;
    for (long j = j0; j < n; j++) {
        double t = j / FS_OUT - delay, d = y[j] - a * sin(2 * M_PI * f * t) - b * cos(2 * M_PI * f * t);
        e += d * d;
    }
    *gain = hypot(a, b);
    *phase = atan2(b, a);
    *resid = sqrt(2 * e / (double)(n - j0));   /* rms relative to a unit sine's rms */
}

/* The AVX and the SSE2 filter give the same bits (the same lanes, order and reduction). */
static void test_simd_same(void)
{
    static const double pairs[][2] = { { 125, 100 }, { 250, 100 }, { 256, 100 }, { 173.61, 100 }, { 50, 100 } };
    static double x[20000], y1[20000], y2[20000];
    uint64_t st = 88172645463325252ull;
    for (int i = 0; i < 20000; i++) {
        st ^= st << 13; st ^= st >> 7; st ^= st << 17;
        x[i] = (double)(st >> 11) / 9007199254740992.0 * 400 - 200 + 3000;
    }
    int avx = 0, same = 1;
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        dw_resampler *a = dw_resampler_new(pairs[k][0], pairs[k][1]), *b = dw_resampler_new(pairs[k][0], pairs[k][1]);
        avx |= dw_resampler_simd(a, 1);
        dw_resampler_simd(b, 0);
        size_t n1 = dw_resampler_run(a, x, 20000, y1, 20000), n2 = dw_resampler_run(b, x, 20000, y2, 20000);
        same &= n1 == n2 && n1 > 1000 && !memcmp(y1, y2, n1 * sizeof *y1);
        dw_resampler_free(a);
        dw_resampler_free(b);
    }
    if (!avx)
        printf("# this CPU has no AVX: only the SSE2 filter ran\n");
    CHECK("resample_avx_equals_sse2", same, "the AVX filter's outputs differ from the SSE2 filter's");
}

int main(void)
{
    char name[96];
    test_simd_same();
    CHECK("resample_bad_rates", !dw_resampler_new(0, 100) && !dw_resampler_new(250, -1) && !dw_resampler_new(NAN, 100),
          "accepted a rate that is not positive");

    /* Same rate: an exact copy with no delay. */
    dw_resampler *r = dw_resampler_new(100, 100);
    double a[7] = { 1, -2, 3.5, 1e5, -1e-300, 0, 7 }, b[7] = { 0 };
    size_t k = dw_resampler_run(r, a, 7, b, 7);
    CHECK("resample_same_rate_copy", r && k == 7 && !memcmp(a, b, sizeof a) && dw_resampler_delay_s(r) == 0,
          "not an exact copy (%zu outputs)", k);
    dw_resampler_free(r);

    const size_t secs = 600;
    double *x = malloc(sizeof(double) * (size_t)(secs * 1000)), *y1 = malloc(sizeof(double) * (secs * 100 + 64)),
           *y2 = malloc(sizeof(double) * (secs * 100 + 64));
    srand(7);
    for (size_t ri = 0; ri < NRATES; ri++) {
        double fs = rates[ri];
        size_t n = (size_t)(secs * fs);
        r = dw_resampler_new(fs, FS_OUT);
        if (!r) {
            FAIL("resample_new", "NULL for %g Hz", fs);
            continue;
        }
        double delay = dw_resampler_delay_s(r);

        /* Passband tones (10 Hz, and 0.4 of the lower rate: the passband edge is 0.4) over a 1e4 uV DC
         * offset, fed in random chunks; 10 minutes. */
        long m = 0;
        for (int t = 0; t < 2; t++) {
            double f = t == 0 ? 10 : 0.4 * fmin(fs, FS_OUT);
            dw_resampler_reset(r);
            for (size_t i = 0; i < n; i++)
                x[i] = 1e4 + sin(2 * M_PI * f * (double)i / fs + 0.4);
            m = run_chunks(r, fs, x, n, y1, 997);
            snprintf(name, sizeof name, "resample_count_%gHz_%gHz_tone", fs, f);
            CHECK(name, m >= 0, "output count strayed more than one from inputs * %g / %g", FS_OUT, fs);
            for (long j = 0; j < m; j++)
                y1[j] -= 1e4;
            double g, ph, res;
            fit_tone(y1, m, (long)(FS_OUT * (delay + 1)), f, delay - 0.4 / (2 * M_PI * f), &g, &ph, &res);
            printf("# %7.2f Hz -> 100 Hz: delay %.4f s, %g Hz gain %+.5f dB, phase error %.1e rad, "
                   "residual (alias/image/ripple) %.1f dB\n", fs, delay, f, 20 * log10(g), ph, 20 * log10(res));
            snprintf(name, sizeof name, "resample_passband_%gHz_%gHz_tone", fs, f);
            CHECK(name, fabs(20 * log10(g)) < 0.1 && fabs(ph) < 1e-3 && res < pow(10, -50 / 20.0),
                  "gain %.4f dB, phase %.3g rad, residual %.1f dB", 20 * log10(g), ph, 20 * log10(res));
        }

        /* Start-up: a constant signal comes out constant from the first output (no step from zero). */
        dw_resampler_reset(r);
        size_t c = dw_resampler_run(r, x, 1, y2, 4);
        snprintf(name, sizeof name, "resample_reset_dc_start_%gHz", fs);
        CHECK(name, c >= 1 && fabs(y2[0] - x[0]) < 0.02, "first output %.6f for first input %.6f", y2[0], x[0]);

        /* Tones above the new Nyquist (downsampling only), where the input can carry them. */
        static const double stop[] = { 55, 70, 90, 0.48 };   /* Hz; 0.48: of the input rate */
        for (size_t t = 0; t < 4 && fs > FS_OUT; t++) {
            double f = stop[t] < 1 ? stop[t] * fs : stop[t];
            if (f >= 0.5 * fs)
                continue;
            dw_resampler_reset(r);
            size_t nt = (size_t)(20 * fs);
            for (size_t i = 0; i < nt; i++)
                x[i] = sin(2 * M_PI * f * (double)i / fs);
            long mt = run_chunks(r, fs, x, nt, y2, 0);
            double e = 0;
            long j0 = (long)(FS_OUT * (delay + 1));
            for (long j = j0; j < mt; j++)
                e += y2[j] * y2[j];
            double att = -20 * log10(sqrt(2 * e / (double)(mt - j0)));
            printf("#            %.1f Hz tone attenuated %.1f dB\n", f, att);
            snprintf(name, sizeof name, "resample_stopband_%gHz_tone_%gHz", fs, f);
            CHECK(name, att >= 50, "only %.1f dB", att);
        }

        /* Chunking invariance: one piece, 1-sample pieces, random pieces give the same bits. */
        size_t nc = (size_t)(30 * fs);
        for (size_t i = 0; i < nc; i++)
            x[i] = (rand() / (double)RAND_MAX - 0.5) * 100 + 300;
        dw_resampler_reset(r);
        long m1 = run_chunks(r, fs, x, nc, y1, 0);
        dw_resampler_reset(r);
        long m2 = run_chunks(r, fs, x, nc, y2, 1);
        int same = m1 == m2 && m1 > 0 && !memcmp(y1, y2, (size_t)m1 * sizeof(double));
        dw_resampler_reset(r);
        m2 = run_chunks(r, fs, x, nc, y2, 37);
        same = same && m1 == m2 && !memcmp(y1, y2, (size_t)m1 * sizeof(double));
        snprintf(name, sizeof name, "resample_chunking_invariant_%gHz", fs);
        CHECK(name, same, "outputs differ between one piece and small pieces (%ld vs %ld outputs)", m1, m2);

        /* A small cap truncates instead of overrunning. */
        dw_resampler_reset(r);
        c = dw_resampler_run(r, x, nc, y2, 3);
        snprintf(name, sizeof name, "resample_cap_%gHz", fs);
        CHECK(name, c == 3, "%zu outputs with cap 3", c);
        dw_resampler_free(r);
    }
    free(x);
    free(y1);
    free(y2);
    TAP_DONE();
}
