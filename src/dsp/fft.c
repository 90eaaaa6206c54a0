/* Real FFT: one n/2-point complex radix-2 FFT of the even/odd samples packed as re/im, then one
 * split pass that turns it into the n/2+1 bins of the real transform. All twiddles come from
 * cos/sin of exact angles at plan time (no recurrences), so the error stays at a few ulps. */
#include "fft.h"

#include <math.h>
#include <stdlib.h>

struct dw_rfft {
    size_t n, h;        /* real length, complex length h = n/2 */
    unsigned *rev;      /* bit reversal of 0..h-1 */
    double *twr, *twi;  /* stage twiddles: exp(-2 pi i k / (2s)) at [s-1+k], s = 1, 2, 4 .. h/2 */
    double *spr, *spi;  /* split twiddles: exp(-2 pi i k / n), k = 0..h/2 */
};

dw_rfft *dw_rfft_new(size_t n)
{
    if (n < 4 || n > 65536 || (n & (n - 1)))
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
    /* z[j] = x[2j] + i x[2j+1], stored bit-reversed; then stage 1, whose twiddle is 1. */
    for (size_t j = 0; j < h; j++) {
        re[p->rev[j]] = x[2 * j];
        im[p->rev[j]] = x[2 * j + 1];
    }
    for (size_t j = 0; j < h; j += 2) {
        double ar = re[j], ai = im[j], br = re[j + 1], bi = im[j + 1];
        re[j] = ar + br;
        im[j] = ai + bi;
        re[j + 1] = ar - br;
        im[j + 1] = ai - bi;
    }
    for (size_t s = 2; s < h; s *= 2) {
        const double *wr = p->twr + s - 1, *wi = p->twi + s - 1;
        for (size_t b = 0; b < h; b += 2 * s) {
            double *r0 = re + b, *i0 = im + b, *r1 = re + b + s, *i1 = im + b + s;
            for (size_t k = 0; k < s; k++) {
                double tr = wr[k] * r1[k] - wi[k] * i1[k];
                double ti = wr[k] * i1[k] + wi[k] * r1[k];
                r1[k] = r0[k] - tr;
                i1[k] = i0[k] - ti;
                r0[k] += tr;
                i0[k] += ti;
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
