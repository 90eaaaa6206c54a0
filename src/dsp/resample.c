/* Polyphase windowed-sinc resampler. Output j stands at input position p_j = j * fs_in / fs_out
 * (in input samples) and is computed as soon as input floor(p_j) arrives, from the K inputs ending
 * there, with a Kaiser-windowed sinc of half-width H centred at p_j - H: causal, delay H / fs_in.
 * The ratio is kept as an exact fraction M / L, so output counts never drift. Small L: one filter row
 * per phase; large L (e.g. 173.61 Hz): a 256-row table, linearly interpolated between rows. */
#include "dsp/resample.h"

#include "base/dw.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define STOP_DB     70.0   /* Kaiser design attenuation (the tests ask >= 50 dB) */
#define CUTOFF      0.45   /* -6 dB point, as a fraction of the lower rate */
#define TRANSITION  0.10   /* full transition width, fraction of the lower rate: stopband from its Nyquist */
#define MAX_EXACT   256    /* phases kept exactly; beyond, interpolate in a table of this many rows */
#define MAX_TAPS    (1u << 20)
#define LANES       8      /* taps per step of dot(): 4 pairs of doubles (SSE2: x86-64 baseline) */
#define BLOCK       1024   /* inputs filtered per step of dw_resampler_run */

/* Pairs of doubles (GCC/Clang vector extension: SSE2 on x86-64, NEON on arm64, scalar pairs
 * elsewhere). */
typedef double v2 __attribute__((vector_size(16)));
static inline v2 ld2(const double *p) { v2 v; memcpy(&v, p, sizeof v); return v; }

struct dw_resampler {
    int copy;              /* fs_in == fs_out */
    double fs_in;
    uint64_t L, M;         /* fs_out / fs_in = L / M, lowest terms, rates rounded to 1e-6 Hz */
    uint64_t Mq, Mr;       /* M / L and M % L: the phase steps without a division per output */
    size_t K;              /* taps per output: 2H + 1 rounded up to LANES (extra oldest taps: 0) */
    size_t P;              /* table rows (row P is phase 1.0, for interpolation) */
    int exact;             /* P == L: the phase picks a row, no interpolation */
    double H;              /* half-width of the filter, input samples */
    double *rows;          /* (P + 1) x K, oldest tap first, each row sums to 1 */
    double *hist;          /* K + BLOCK: the last K inputs, oldest first, then the block filtered */
    uint64_t f;            /* next output's phase: f / L of an input sample */
    uint64_t wait;         /* inputs to push before the next output is due (at the wait-th) */
    int primed;            /* history filled with the first sample (no start-up step from zero) */
    double (*dot)(const double *, const double *, size_t);   /* dot_pairs, or dot_avx with AVX */
};

static double bessel_i0(double x)
{
    double s = 1, t = 1;
    for (int k = 1; k < 200 && t > 1e-17 * s; k++) {
        t *= (x / (2 * k)) * (x / (2 * k));
        s += t;
    }
    return s;
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Fills one row for fractional phase u in [0, 1]: tap m (m = 0 newest) weighs h(m + u - H). */
static void fill_row(double *row, size_t K, double u, double H, double fc, double beta)
{
    double sum = 0, i0b = bessel_i0(beta);
    for (size_t m = 0; m < K; m++) {
        double t = (double)m + u - H, v = 0;
        if (fabs(t) <= H) {
            double r = t / H, a = 2 * M_PI * fc * t;
            v = 2 * fc * (t == 0 ? 1.0 : sin(a) / a) * bessel_i0(beta * sqrt(fmax(0, 1 - r * r))) / i0b;
        }
        row[K - 1 - m] = v;
        sum += v;
    }
    for (size_t m = 0; m < K; m++)   /* unit gain at DC for every phase: no ripple on a DC offset */
        row[m] /= sum;
}

dw_resampler *dw_resampler_new(double fs_in, double fs_out)
{
    if (!(fs_in > 0 && fs_out > 0 && fs_in <= 1e7 && fs_out <= 1e7))
        return NULL;
    dw_resampler *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    uint64_t a = (uint64_t)llround(fs_in * 1e6), b = (uint64_t)llround(fs_out * 1e6);
    if (a == 0 || b == 0) {
        free(r);
        return NULL;
    }
    uint64_t g = gcd64(a, b);
    r->fs_in = fs_in;
    r->M = a / g;
    r->L = b / g;
    r->Mq = r->M / r->L;
    r->Mr = r->M % r->L;
    if (r->M == r->L) {
        r->copy = 1;
        return r;
    }
    double lo = fmin(fs_in, fs_out);
    double fc = CUTOFF * lo / fs_in, dw = 2 * M_PI * TRANSITION * lo / fs_in;   /* per input sample */
    double beta = 0.1102 * (STOP_DB - 8.7);
    r->H = ceil((STOP_DB - 8) / (2.285 * dw) / 2);        /* Kaiser's length formula, halved */
    r->K = ((size_t)(2 * r->H) + 1 + LANES - 1) / LANES * LANES;
    if (r->K > MAX_TAPS) {
        free(r);
        return NULL;
    }
    r->exact = r->L <= MAX_EXACT;
    r->P = r->exact ? r->L : MAX_EXACT;
    r->rows = malloc((r->P + 1) * r->K * sizeof(double));
    r->hist = malloc((r->K + BLOCK) * sizeof(double));
    if (!r->rows || !r->hist) {
        dw_resampler_free(r);
        return NULL;
    }
    for (size_t p = 0; p <= r->P; p++)
        fill_row(r->rows + p * r->K, r->K, (double)p / (double)r->P, r->H, fc, beta);
    dw_resampler_simd(r, 1);
    dw_resampler_reset(r);
    return r;
}

void dw_resampler_reset(dw_resampler *r)
{
    r->f = 0;
    r->wait = 1;   /* output 0 stands at input 0 */
    r->primed = 0;
}

void dw_resampler_free(dw_resampler *r)
{
    if (!r)
        return;
    free(r->rows);
    free(r->hist);
    free(r);
}

double dw_resampler_delay_s(const dw_resampler *r)
{
    return r->copy ? 0.0 : r->H / r->fs_in;
}

size_t dw_resampler_max_out(const dw_resampler *r, size_t n)
{
    return r->copy ? n : (size_t)ceil((double)n * (double)r->L / (double)r->M) + 1;
}

/* a . b over n taps, n a multiple of LANES: four independent pairs of accumulators, so the adds
 * pipeline instead of waiting on one another and two taps go through each multiply. Lane j sums the
 * taps j, j + 8, j + 16 ... in order; the lanes are then added as ((0 + 2) + (4 + 6)) + ((1 + 3) +
 * (5 + 7)). */
static double dot_pairs(const double *restrict a, const double *restrict b, size_t n)
{
    v2 s0 = { 0, 0 }, s1 = s0, s2 = s0, s3 = s0;
    for (size_t i = 0; i < n; i += LANES) {
        s0 += ld2(a + i) * ld2(b + i);
        s1 += ld2(a + i + 2) * ld2(b + i + 2);
        s2 += ld2(a + i + 4) * ld2(b + i + 4);
        s3 += ld2(a + i + 6) * ld2(b + i + 6);
    }
    v2 s = (s0 + s1) + (s2 + s3);
    return s[0] + s[1];
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The same sums four taps to an instruction on CPUs with AVX (chosen at run time: the program needs
 * only SSE2): the same lanes, the same order, the same reduction, so the same bits (test_resample
 * checks). No FMA: a fused multiply-add would round differently. */
typedef double v4 __attribute__((vector_size(32)));
__attribute__((target("avx")))
static inline v4 ld4(const double *p) { v4 v; memcpy(&v, p, sizeof v); return v; }
__attribute__((target("avx")))
static double dot_avx(const double *restrict a, const double *restrict b, size_t n)
{
    v4 s0 = { 0, 0, 0, 0 }, s1 = s0;
    for (size_t i = 0; i < n; i += LANES) {
        s0 += ld4(a + i) * ld4(b + i);
        s1 += ld4(a + i + 4) * ld4(b + i + 4);
    }
    v2 lo = (v2){ s0[0], s0[1] } + (v2){ s0[2], s0[3] };
    v2 hi = (v2){ s1[0], s1[1] } + (v2){ s1[2], s1[3] };
    v2 s = lo + hi;
    return s[0] + s[1];
}
#else
#define dot_avx dot_pairs
#endif

int dw_resampler_simd(dw_resampler *r, int allow)
{
    if (!r || r->copy)
        return 0;
    r->dot = allow && dw_cpu_avx() ? dot_avx : dot_pairs;
    return r->dot != dot_pairs;
}

size_t dw_resampler_run(dw_resampler *r, const double *in, size_t n, double *out, size_t cap)
{
    if (r->copy) {
        size_t k = n < cap ? n : cap;
        memcpy(out, in, k * sizeof *out);
        return k;
    }
    const size_t K = r->K;
    size_t nout = 0;
    uint64_t f = r->f, wait = r->wait;
    double *hist = r->hist;
    if (n > 0 && !r->primed) {             /* as if the signal had been constant before it began */
        for (size_t k = 0; k < K; k++)
            hist[k] = in[0];
        r->primed = 1;
    }
    /* A block of inputs goes in behind the last K; the output due at the block's input j is the
     * filter over the K inputs ending there, hist[j + 1 .. j + K]; then the last K inputs move to
     * the front. */
    for (size_t i0 = 0; i0 < n; i0 += BLOCK) {
        size_t m = n - i0 < BLOCK ? n - i0 : BLOCK;
        memcpy(hist + K, in + i0, m * sizeof *in);
        uint64_t j = wait - 1;
        while (j < m) {
            const double *x = hist + j + 1;
            double y;
            if (r->exact) {
                y = r->dot(x, r->rows + f * K, K);
            } else {
                double pos = (double)f / (double)r->L * (double)r->P;
                size_t p = (size_t)pos;
                double mu = pos - (double)p;
                y = (1 - mu) * r->dot(x, r->rows + p * K, K) +
                    mu * r->dot(x, r->rows + (p + 1) * K, K);
            }
            if (nout < cap)
                out[nout++] = y;
            f += r->Mr;                    /* f + M = (Mq + carry) L + new f, with f < L */
            j += r->Mq;
            if (f >= r->L) {
                f -= r->L;
                j++;
            }
        }
        wait = j - m + 1;
        memmove(hist, hist + m, K * sizeof *hist);
    }
    r->f = f;
    r->wait = wait;
    return nout;
}
