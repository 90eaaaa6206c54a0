/* The signal-quality verdict's sums (dsp/quality.h) with and without AVX: a two-channel stream with
 * every kind of second (ordinary EEG, flat, railed, artefact, NaN, odd lengths pushed) gives the same
 * verdict to the bit both ways: flags, mean, SD and mains ratio of every channel-second. */
#include "tap.h"
#include "noise.h"

#include "dsp/quality.h"

#define FS 125 /* seconds of an odd number of frames: the last one outside the pairs */
#define SECS 40

typedef struct { dw_quality_second s[SECS + 2]; int n; } seconds;

static void on_second(void *ctx, const dw_quality_second *q)
{
    seconds *l = ctx;
    if (l->n < SECS + 2)
        l->s[l->n++] = *q;
}

static void run(const double *x, seconds *out)
{
    static const double lo[2] = { -1000, -1000 }, hi[2] = { 1000, 1000 };
    const dw_quality_cfg cfg = { 150, 5, 1 };
    dw_quality *q = dw_quality_new(2, FS, lo, hi, &cfg);
    out->n = 0;
    for (int i = 0, k = 1; i < SECS * FS; i += k, k = k * 5 % 97 + 1)
        dw_quality_push(q, x + 2 * i, i + k <= SECS * FS ? k : SECS * FS - i, on_second, out);
    dw_quality_free(q);
}

int main(void)
{
    static double x[2 * SECS * FS];
    for (int i = 0; i < SECS * FS; i++) {
        int sec = i / FS;
        for (int c = 0; c < 2; c++) {
            double v = 20 * noise_gauss() + 30 * sin(2 * M_PI * 10 * i / FS) + (c ? 500 : -300);
            if (sec == 3 + c)
                v = 0.01 * noise_gauss();                    /* flat */
            if (sec == 6 && c == 0)
                v = 1000;                                    /* railed */
            if (sec == 8)
                v += i % FS == 100 ? 400 : 0;                /* an artefact */
            if (sec == 10 && i % 37 == 0)
                v = NAN;
            if (sec == 12)
                v += 40 * sin(2 * M_PI * 50 * i / FS);       /* mains */
            x[2 * i + c] = v;
        }
    }
    seconds *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    int avx = dw_simd_allow(1);
    run(x, a);
    dw_simd_allow(0);
    run(x, b);
    dw_simd_allow(1);
    int same = a->n == b->n && a->n >= SECS - 1, flagged = 0;
    for (int i = 0; same && i < a->n; i++)
        for (int c = 0; c < 2; c++) {
            same &= a->s[i].flag[c] == b->s[i].flag[c] && a->s[i].mean_uv[c] == b->s[i].mean_uv[c] &&
                    a->s[i].sd_uv[c] == b->s[i].sd_uv[c] &&
                    a->s[i].mains_ratio[c] == b->s[i].mains_ratio[c];
            flagged += a->s[i].flag[c] != 0;
        }
    CHECK("quality verdict of two channels: the same to the bit with and without AVX (flat, railed, "
          "artefact, NaN and mains seconds among them)",
          same && flagged >= 6, "%d and %d seconds, same %d, %d flagged channel-seconds (AVX %s)",
          a->n, b->n, same, flagged, avx ? "used" : "not available: the plain path twice");
    free(a);
    free(b);
    TAP_DONE();
}
