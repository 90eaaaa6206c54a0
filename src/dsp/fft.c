/* Real FFT: one n/2-point complex radix-2 FFT of the even/odd samples packed as re/im, then one
 * split pass that turns it into the n/2+1 bins of the real transform. All twiddles come from
 * cos/sin of exact angles at plan time (no recurrences), so the error stays at a few ulps. */
#include "dsp/fft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Pairs of doubles (GCC/Clang vector extension; SSE2 on x86-64): the butterflies run two at a time. */
typedef double v2 __attribute__((vector_size(16)));
static inline v2 ld(const double *p) { v2 v; memcpy(&v, p, sizeof v); return v; }
static inline void st(double *p, v2 v) { memcpy(p, &v, sizeof v); }

struct dw_rfft {
    size_t n, h;        /* real length, complex length h = n/2 */
    unsigned *rev;      /* bit reversal of 0..h-1 */
    double *twr, *twi;  /* stage twiddles: exp(-2 pi i k / (2s)) at [s-1+k], s = 1, 2, 4 .. h/2 */
    double *spr, *spi;  /* split twiddles: exp(-2 pi i k / n), k = 0..h/2 */
};

dw_rfft *dw_rfft_new(size_t n)
{
    if (n < 8 || n > 65536 || (n & (n - 1)))
        return NULL;
    dw_rfft *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->n = n;
    p->h = n / 2;
    size_t h = p->h;
    p->rev = malloc(h * sizeof *p->rev);
    p->twr = malloc(h * sizeof(double));
    p->twi = malloc(h * sizeof(double));
    p->spr = malloc((h / 2 + 1) * sizeof(double));
    p->spi = malloc((h / 2 + 1) * sizeof(double));
    if (!p->rev || !p->twr || !p->twi || !p->spr || !p->spi) {
        dw_rfft_free(p);
        return NULL;
    }
    unsigned bits = 0;
    while (((size_t)1 << bits) < h)
        bits++;
    for (size_t i = 0; i < h; i++) {
        unsigned r = 0;
        for (unsigned b = 0; b < bits; b++)
            r |= (unsigned)((i >> b) & 1) << (bits - 1 - b);
        p->rev[i] = r;
    }
    for (size_t s = 1; s < h; s *= 2)
        for (size_t k = 0; k < s; k++) {
            double a = -M_PI * (double)k / (double)s;
            p->twr[s - 1 + k] = cos(a);
            p->twi[s - 1 + k] = sin(a);
        }
    for (size_t k = 0; k <= h / 2; k++) {
        double a = -2.0 * M_PI * (double)k / (double)n;
        p->spr[k] = cos(a);
        p->spi[k] = sin(a);
    }
    return p;
}

void dw_rfft_free(dw_rfft *p)
{
    if (!p)
        return;
    free(p->rev);
    free(p->twr);
    free(p->twi);
    free(p->spr);
    free(p->spi);
    free(p);
}

size_t dw_rfft_size(const dw_rfft *p)
{
    return p->n;
}

void dw_rfft_forward(const dw_rfft *p, const double *restrict x, double *restrict re, double *restrict im)
{
    const size_t h = p->h;
    /* z[j] = x[2j] + i x[2j+1] read in bit-reversed order through the first two stages, whose
     * twiddles are 1 and -i (no multiplications). */
    for (size_t q = 0; q < h; q += 4) {
        const double *x0 = x + 2 * p->rev[q], *x1 = x + 2 * p->rev[q + 1];
        const double *x2 = x + 2 * p->rev[q + 2], *x3 = x + 2 * p->rev[q + 3];
        double t0r = x0[0] + x1[0], t0i = x0[1] + x1[1], t1r = x0[0] - x1[0], t1i = x0[1] - x1[1];
        double t2r = x2[0] + x3[0], t2i = x2[1] + x3[1], t3r = x2[0] - x3[0], t3i = x2[1] - x3[1];
        re[q] = t0r + t2r;     im[q] = t0i + t2i;
        re[q + 2] = t0r - t2r; im[q + 2] = t0i - t2i;
        re[q + 1] = t1r + t3i; im[q + 1] = t1i - t3r;
        re[q + 3] = t1r - t3i; im[q + 3] = t1i + t3r;
    }
    for (size_t s = 4; s < h; s *= 2) {
        const double *wr = p->twr + s - 1, *wi = p->twi + s - 1;
        for (size_t b = 0; b < h; b += 2 * s) {
            double *r0 = re + b, *i0 = im + b, *r1 = re + b + s, *i1 = im + b + s;
            for (size_t k = 0; k < s; k += 2) {   /* two butterflies at a time: s is even */
                v2 c = ld(wr + k), d = ld(wi + k), xr = ld(r1 + k), xi = ld(i1 + k);
                v2 tr = c * xr - d * xi, ti = c * xi + d * xr, ar = ld(r0 + k), ai = ld(i0 + k);
                st(r1 + k, ar - tr);
                st(i1 + k, ai - ti);
                st(r0 + k, ar + tr);
                st(i0 + k, ai + ti);
            }
        }
    }
    /* Split: X[k] = E[k] + W^k O[k] with E, O the transforms of the even and odd samples. */
    double z0r = re[0], z0i = im[0];
    re[0] = z0r + z0i;
    im[0] = 0.0;
    re[h] = z0r - z0i;
    im[h] = 0.0;
    for (size_t k = 1; k < h / 2; k++) {
        size_t m = h - k;
        double a = re[k], b = im[k], c = re[m], d = im[m];
        double er = 0.5 * (a + c), ei = 0.5 * (b - d);
        double or_ = 0.5 * (b + d), oi = 0.5 * (c - a);
        double tr = p->spr[k] * or_ - p->spi[k] * oi;
        double ti = p->spr[k] * oi + p->spi[k] * or_;
        re[k] = er + tr;
        im[k] = ei + ti;
        re[m] = er - tr;
        im[m] = ti - ei;
    }
    im[h / 2] = -im[h / 2];   /* X[n/4] = conj(Z[n/4]) */
}
