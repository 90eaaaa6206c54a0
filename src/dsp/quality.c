/* The per-second signal-quality verdict (see quality.h). Seconds are counted in frames: second k holds the
 * frames from ceil(k * fs) to ceil((k + 1) * fs) - 1, so any rate (125, 250, 256, 173.61 Hz) tiles time
 * exactly and the verdict does not depend on how the stream was cut into blocks. */
#include "dsp/quality.h"
#include "dsp/fft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

struct dw_quality {
    int    nch;
    double fs;
    dw_quality_cfg cfg;
    double lo[DW_MAX_CH], hi[DW_MAX_CH], rail_lo[DW_MAX_CH], rail_hi[DW_MAX_CH];
    int    ranged[DW_MAX_CH];
    long long frame;           /* next frame of the stream */
    long   second;             /* the second being filled */
    long long end;             /* first frame of the next second */
    int    count, lost;        /* frames of this second seen, and of those lost */
    double *buf;               /* this second's frames, frame-major (mains needs them all) */
    int    cap;                /* frames buf holds */
    double *win, *tmp;         /* Hann window (of win_n frames) and a detrended channel, cap each */
    int    win_n;
    /* whole-number rates: one transform of a second's fs frames gives every 1-Hz bin at once (43
     * Goertzel passes otherwise); NULL: Goertzel */
    dw_rfft *fft;
    double *spec;              /* its output, fs + 2 */
};

static long long second_start(double fs, long k) { return (long long)ceil((double)k * fs - 1e-9); }

dw_quality *dw_quality_new(int nch, double fs, const double *lo, const double *hi, const dw_quality_cfg *cfg)
{
    if (nch < 1 || nch > DW_MAX_CH || !(fs > 0) || fs > 1e6 || !cfg)
        return NULL;
    dw_quality *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->nch = nch;
    q->fs = fs;
    q->cfg = *cfg;
    q->cap = (int)ceil(fs) + 1;
    size_t row = ((size_t)q->cap + 2) * sizeof(double);
    row = (row + DW_FFT_ALIGN - 1) / DW_FFT_ALIGN * DW_FFT_ALIGN;  /* aligned_alloc: a multiple */
    q->buf = malloc((size_t)q->cap * (size_t)nch * sizeof *q->buf);
    q->win = malloc((size_t)q->cap * sizeof *q->win);
    q->tmp = aligned_alloc(DW_FFT_ALIGN, row);
    if (!q->buf || !q->win || !q->tmp) {
        dw_quality_free(q);
        return NULL;
    }
    if (cfg->mains && fs >= DW_Q_MAINS_MIN_FS && fs == floor(fs) && fs <= 65536 &&
        (q->spec = aligned_alloc(DW_FFT_ALIGN, row)))
        q->fft = dw_rfft_new((size_t)fs);      /* out of memory here: Goertzel, the same figures */
    for (int c = 0; c < nch; c++) {
        q->lo[c] = lo ? lo[c] : 0;
        q->hi[c] = hi ? hi[c] : 0;
        q->ranged[c] = q->hi[c] > q->lo[c];
        double span = q->hi[c] - q->lo[c];
        q->rail_lo[c] = q->lo[c] + (1 - DW_Q_RAIL_FRAC) * span;
        q->rail_hi[c] = q->hi[c] - (1 - DW_Q_RAIL_FRAC) * span;
    }
    dw_quality_reposition(q, 0);
    return q;
}

void dw_quality_free(dw_quality *q)
{
    if (!q)
        return;
    free(q->buf);
    free(q->win);
    free(q->tmp);
    free(q->spec);
    dw_rfft_free(q->fft);
    free(q);
}

void dw_quality_reposition(dw_quality *q, long long frame)
{
    q->frame = frame;
    q->second = (long)floor((double)frame / q->fs + 1e-9);
    while (second_start(q->fs, q->second + 1) <= frame)
        q->second++;
    q->end = second_start(q->fs, q->second + 1);
    q->count = (int)(frame - second_start(q->fs, q->second));   /* frames before the seek: never seen */
    q->lost = q->count;
}

/* Power of x[0..n) at f Hz (Goertzel) after the window. */
static double goertzel(const double *x, int n, double fs, double f)
{
    double w = 2 * M_PI * f / fs, coef = 2 * cos(w), s1 = 0, s2 = 0;
    for (int i = 0; i < n; i++) {
        double s = x[i] + coef * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    return s1 * s1 + s2 * s2 - coef * s1 * s2;
}

/* Mains power (3 bins around 50 or 60 Hz, whichever is larger) over the 1-40 Hz power. */
static double mains_ratio(dw_quality *q, int c, int n, double mean)
{
    if (q->win_n != n) {                    /* a second's frame count changes only at odd rates */
        for (int i = 0; i < n; i++)
            q->win[i] = 0.5 - 0.5 * cos(2 * M_PI * i / n);
        q->win_n = n;
    }
    for (int i = 0; i < n; i++)
        q->tmp[i] = (q->buf[(size_t)i * q->nch + c] - mean) * q->win[i];
    /* A whole second at a whole-number rate: bin f of its DFT is f Hz, the power Goertzel finds
     * there. */
    int dft = q->fft && (size_t)n == dw_rfft_size(q->fft);
    if (dft)
        dw_rfft_forward(q->fft, q->tmp, q->spec);
#define POWER(f) (dft ? q->spec[2 * (f)] * q->spec[2 * (f)] + \
                            q->spec[2 * (f) + 1] * q->spec[2 * (f) + 1] \
                      : goertzel(q->tmp, n, q->fs, f))
    double band = 0, mains = 0;
    for (int f = 1; f <= 40; f++)
        band += POWER(f);
    for (int f0 = 50; f0 <= 60; f0 += 10) {
        if (f0 + 1 >= 0.5 * q->fs)
            continue;
        double p = 0;
        for (int f = f0 - 1; f <= f0 + 1; f++)
            p += POWER(f);
        mains = p > mains ? p : mains;
    }
#undef POWER
    return band > 0 ? mains / band : (mains > 0 ? INFINITY : 0);
}

/* The RANGE and RAILED flags of channel c from its n frames in buf, one sample at a time
 * (non-finite values become 0 in buf): the slow path, taken only when a value lies outside the full
 * scale or is not finite. */
static unsigned range_check(dw_quality *q, int c, int n)
{
    unsigned f = 0;
    double tol = 1e-6 * (q->hi[c] - q->lo[c]);
    for (int i = 0; i < n; i++) {
        double *v = &q->buf[(size_t)i * q->nch + c];
        if (!isfinite(*v) || (q->ranged[c] && (*v > q->hi[c] + tol || *v < q->lo[c] - tol))) {
            f |= DW_Q_RANGE;
            *v = isfinite(*v) ? *v : 0;
        } else if (q->ranged[c] && (*v >= q->rail_hi[c] || *v <= q->rail_lo[c])) {
            f |= DW_Q_RAILED;
        }
    }
    return f;
}

/* Sum, minimum and maximum of channel c's n frames (the sum in frame order). */
static void column_stats(const dw_quality *q, int c, int n, double *sum, double *lo, double *hi)
{
    const double *x = q->buf + c;
    const size_t st = (size_t)q->nch;
    double s = 0, mn = n ? x[0] : 0, mx = mn;
    for (int i = 0; i < n; i++) {
        double v = x[(size_t)i * st];
        s += v;
        mn = v < mn ? v : mn;
        mx = v > mx ? v : mx;
    }
    *sum = s;
    *lo = mn;
    *hi = mx;
}

/* Pairs of doubles (GCC/Clang vector extension: SSE2 on x86-64): two neighbouring channels of the
 * frame-major buffer in one register; even and odd frames summed apart, so two chains of adds run
 * at once (the sums differ from one frame-order chain in the last bits only). */
typedef double v2 __attribute__((vector_size(16)));
typedef long long v2i __attribute__((vector_size(16)));
static inline v2 ld2(const double *p) { v2 v; memcpy(&v, p, sizeof v); return v; }
/* a < b ? a : b and a > b ? a : b per lane: x86's minpd and maxpd compute exactly these (NaN and
 * equal lanes give b), in one instruction (GCC did not see it in the masks of the portable form). */
#ifdef __SSE2__
static inline v2 vmin(v2 a, v2 b) { return (v2)_mm_min_pd((__m128d)a, (__m128d)b); }
static inline v2 vmax(v2 a, v2 b) { return (v2)_mm_max_pd((__m128d)a, (__m128d)b); }
#else
static inline v2 pick(v2i m, v2 a, v2 b) { return (v2)(((v2i)a & m) | ((v2i)b & ~m)); }
static inline v2 vmin(v2 a, v2 b) { return pick(a < b, a, b); }
static inline v2 vmax(v2 a, v2 b) { return pick(a > b, a, b); }
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define QUALITY_AVX 1
/* Two channels (a 2-channel night), on CPUs with AVX (dw_cpu_avx): frames i and i+1 in one 4-lane
 * load, lanes 0-1 frame i's channels and 2-3 frame i+1's: exactly stats' and squares' even (s, mn,
 * mx, a) and odd (t, mn2, mx2, b) pairs, through the same operations (minpd/maxpd as vmin/vmax), so
 * the same bits (test_quality runs the verdict both ways). n > 0. */
__attribute__((target("avx"))) static void stats_two_avx(const double *x, int n, double *sum,
                                                         double *lo, double *hi)
{
    __m256d first = _mm256_setr_pd(x[0], x[1], x[0], x[1]), S = _mm256_setzero_pd();
    __m256d MN = first, MX = first;
    int i = 0;
    for (; i + 1 < n; i += 2) {
        __m256d v = _mm256_loadu_pd(x + 2 * i);
        S = _mm256_add_pd(S, v);
        MN = _mm256_min_pd(v, MN);
        MX = _mm256_max_pd(v, MX);
    }
    double s[4], mn[4], mx[4];
    _mm256_storeu_pd(s, S);
    _mm256_storeu_pd(mn, MN);
    _mm256_storeu_pd(mx, MX);
    for (int c = 0; c < 2; c++) {
        if (i < n) {                             /* the last frame, an even one */
            double v = x[2 * i + c];
            s[c] += v;
            mn[c] = v < mn[c] ? v : mn[c];
            mx[c] = v > mx[c] ? v : mx[c];
        }
        sum[c] = s[c] + s[c + 2];
        lo[c] = mn[c + 2] < mn[c] ? mn[c + 2] : mn[c];
        hi[c] = mx[c + 2] > mx[c] ? mx[c + 2] : mx[c];
    }
}

__attribute__((target("avx"))) static void squares_two_avx(const double *x, int n,
                                                           const double *mean, double *sq)
{
    __m256d M = _mm256_setr_pd(mean[0], mean[1], mean[0], mean[1]), A = _mm256_setzero_pd();
    int i = 0;
    for (; i + 1 < n; i += 2) {
        __m256d d = _mm256_sub_pd(_mm256_loadu_pd(x + 2 * i), M);
        A = _mm256_add_pd(A, _mm256_mul_pd(d, d));
    }
    double a[4];
    _mm256_storeu_pd(a, A);
    for (int c = 0; c < 2; c++) {
        if (i < n) {
            double d = x[2 * i + c] - mean[c];
            a[c] += d * d;
        }
        sq[c] = a[c] + a[c + 2];
    }
}
#else
#define QUALITY_AVX 0
#endif

/* Sum, minimum and maximum of every channel's n frames. */
static void stats(const dw_quality *q, int n, double *sum, double *lo, double *hi)
{
    const size_t st = (size_t)q->nch;
    int c = 0;
#if QUALITY_AVX
    if (q->nch == 2 && n > 0 && dw_cpu_avx()) {
        stats_two_avx(q->buf, n, sum, lo, hi);
        return;
    }
#endif
    for (; c + 1 < q->nch && n > 0; c += 2) {
        const double *x = q->buf + c;
        v2 s = { 0, 0 }, t = s, mn = ld2(x), mx = mn, mn2 = mn, mx2 = mn;
        int i = 0;
        for (; i + 1 < n; i += 2) {
            v2 v = ld2(x + (size_t)i * st), w = ld2(x + (size_t)(i + 1) * st);
            s += v;
            t += w;
            mn = vmin(v, mn);
            mx = vmax(v, mx);
            mn2 = vmin(w, mn2);
            mx2 = vmax(w, mx2);
        }
        if (i < n) {
            v2 v = ld2(x + (size_t)i * st);
            s += v;
            mn = vmin(v, mn);
            mx = vmax(v, mx);
        }
        s += t;
        mn = vmin(mn2, mn);
        mx = vmax(mx2, mx);
        sum[c] = s[0], sum[c + 1] = s[1];
        lo[c] = mn[0], lo[c + 1] = mn[1], hi[c] = mx[0], hi[c + 1] = mx[1];
    }
    for (; c < q->nch; c++)
        column_stats(q, c, n, &sum[c], &lo[c], &hi[c]);
}

/* Sum of squared deviations from mean[c] of every channel's n frames, in frame order. */
static void squares(const dw_quality *q, int n, const double *mean, double *sq)
{
    const size_t st = (size_t)q->nch;
    int c = 0;
#if QUALITY_AVX
    if (q->nch == 2 && n > 0 && dw_cpu_avx()) {
        squares_two_avx(q->buf, n, mean, sq);
        return;
    }
#endif
    for (; c + 1 < q->nch; c += 2) {
        const double *x = q->buf + c;
        v2 m = { mean[c], mean[c + 1] }, a = { 0, 0 }, b = a;
        int i = 0;
        for (; i + 1 < n; i += 2) {
            v2 d = ld2(x + (size_t)i * st) - m, e = ld2(x + (size_t)(i + 1) * st) - m;
            a += d * d;
            b += e * e;
        }
        if (i < n) {
            v2 d = ld2(x + (size_t)i * st) - m;
            a += d * d;
        }
        a += b;
        sq[c] = a[0], sq[c + 1] = a[1];
    }
    for (; c < q->nch; c++) {
        double a = 0;
        for (int i = 0; i < n; i++) {
            double d = q->buf[(size_t)i * st + (size_t)c] - mean[c];
            a += d * d;
        }
        sq[c] = a;
    }
}

static void finish(dw_quality *q, dw_quality_fn fn, void *ctx)
{
    dw_quality_second s;
    memset(&s, 0, sizeof s);
    s.second = q->second;
    s.nch = q->nch;
    int have = q->count - q->lost;             /* frames actually in buf: the seen, unlost ones */
    double sum[DW_MAX_CH], mn[DW_MAX_CH], mx[DW_MAX_CH], mean[DW_MAX_CH], sq[DW_MAX_CH];
    unsigned flag[DW_MAX_CH];
    stats(q, have, sum, mn, mx);
    for (int c = 0; c < q->nch; c++) {
        double tol = 1e-6 * (q->hi[c] - q->lo[c]);
        flag[c] = 0;
        int beyond = q->ranged[c] && (mx[c] > q->hi[c] + tol || mn[c] < q->lo[c] - tol);
        if (have && (!isfinite(sum[c]) || beyond)) {
            /* NaN, infinity or beyond the full scale: sample by sample */
            flag[c] = range_check(q, c, have);
            column_stats(q, c, have, &sum[c], &mn[c], &mx[c]);
        } else if (have && q->ranged[c] && (mx[c] >= q->rail_hi[c] || mn[c] <= q->rail_lo[c])) {
            flag[c] = DW_Q_RAILED;
        }
        mean[c] = have ? sum[c] / have : 0;
    }
    squares(q, have, mean, sq);
    for (int c = 0; c < q->nch; c++) {
        unsigned f = flag[c];
        /* max |x - mean|: subtraction is monotonic, so it is at the minimum or the maximum */
        double dmax = have ? fmax(mx[c] - mean[c], mean[c] - mn[c]) : 0;
        double sd = have ? sqrt(sq[c] / have) : 0;
        if (have >= 2 && sd < DW_Q_FLAT_SD_UV && !(f & DW_Q_RAILED))
            f |= DW_Q_FLAT;
        if (dmax > q->cfg.artefact_uv && !(f & (DW_Q_RAILED | DW_Q_RANGE)))
            f |= DW_Q_ARTEFACT;
        if (2 * q->lost > q->count)
            f |= DW_Q_LOST;
        if (q->cfg.mains && q->fs >= DW_Q_MAINS_MIN_FS && have == q->count && have >= 16 &&
            !(f & (DW_Q_FLAT | DW_Q_RAILED | DW_Q_RANGE))) {
            double r = mains_ratio(q, c, have, mean[c]);
            s.mains_ratio[c] = (float)(r > 1e30 ? 1e30 : r);
            if (r > q->cfg.mains_ratio)
                f |= DW_Q_MAINS;
        }
        s.flag[c] = (unsigned char)f;
        s.mean_uv[c] = (float)mean[c];
        s.sd_uv[c] = (float)sd;
    }
    if (fn)
        fn(ctx, &s);
    q->second++;
    q->end = second_start(q->fs, q->second + 1);
    q->count = q->lost = 0;
}

/* Frames are copied as they come, whole runs at a time; the verdict is taken when the second is
 * complete. */
void dw_quality_push(dw_quality *q, const double *x, int n, dw_quality_fn fn, void *ctx)
{
    while (n > 0) {
        long long left = q->end - q->frame;
        int m = n < left ? n : (int)left;
        int k = q->count - q->lost;                      /* frames in buf */
        int fit = q->cap - k < m ? q->cap - k : m;       /* cap covers a second; bounded anyway */
        if (fit > 0)
            memcpy(q->buf + (size_t)k * q->nch, x, (size_t)fit * (size_t)q->nch * sizeof *x);
        q->count += m;
        q->frame += m;
        x += (size_t)m * q->nch;
        n -= m;
        if (q->frame >= q->end)
            finish(q, fn, ctx);
    }
}

void dw_quality_gap(dw_quality *q, long n, dw_quality_fn fn, void *ctx)
{
    while (n > 0) {
        long left = (long)(q->end - q->frame);
        long k = n < left ? n : left;
        q->count += (int)k;
        q->lost += (int)k;
        q->frame += k;
        n -= k;
        if (q->frame >= q->end)
            finish(q, fn, ctx);
    }
}

const char *dw_quality_name(unsigned f)
{
    return f & DW_Q_RANGE ? "out of range" : f & DW_Q_LOST ? "lost" : f & DW_Q_RAILED ? "railed"
         : f & DW_Q_FLAT ? "flat" : f & DW_Q_ARTEFACT ? "artefact" : f & DW_Q_MAINS ? "mains" : "ok";
}
