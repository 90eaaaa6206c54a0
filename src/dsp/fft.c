/* The real FFT through FFTW (see fft.h): one plan for aligned arrays (made on fftw_malloc'd ones,
 * as the new-array execute interface asks) and one FFTW_UNALIGNED plan for any others. */
#include "dsp/fft.h"

#include <fftw3.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/dw.h"

struct dw_rfft {
    size_t n;
    fftw_plan fast;     /* arrays as fftw_malloc aligns them */
    fftw_plan any;      /* FFTW_UNALIGNED: any double-aligned arrays */
    int align;          /* fftw_alignment_of() of the arrays fast was planned on */
};

static pthread_mutex_t planner = PTHREAD_MUTEX_INITIALIZER;

dw_rfft *dw_rfft_new(size_t n)
{
    if (n < 8 || n > 65536)
        return NULL;
    dw_rfft *p = calloc(1, sizeof *p);
    double *x = fftw_malloc(n * sizeof *x);
    fftw_complex *X = fftw_malloc((n / 2 + 1) * sizeof *X);
    if (p && x && X) {
        p->n = n;
        pthread_mutex_lock(&planner);
        p->fast = fftw_plan_dft_r2c_1d((int)n, x, X, FFTW_ESTIMATE);
        p->any = fftw_plan_dft_r2c_1d((int)n, x, X, FFTW_ESTIMATE | FFTW_UNALIGNED);
        pthread_mutex_unlock(&planner);
        p->align = fftw_alignment_of(x);
    }
    fftw_free(x);
    fftw_free(X);
    if (p && (!p->fast || !p->any)) {
        dw_rfft_free(p);
        return NULL;
    }
    return p;
}

void dw_rfft_free(dw_rfft *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&planner);
    if (p->fast)
        fftw_destroy_plan(p->fast);
    if (p->any)
        fftw_destroy_plan(p->any);
    pthread_mutex_unlock(&planner);
    free(p);
}

size_t dw_rfft_size(const dw_rfft *p)
{
    return p->n;
}

struct dw_rfft_pair {
    size_t n;
    fftw_plan fast, any;   /* complex forward, aligned and FFTW_UNALIGNED, as dw_rfft's */
    int align;
};

dw_rfft_pair *dw_rfft_pair_new(size_t n)
{
    if (n < 8 || n > 65536 || n % 2)
        return NULL;
    dw_rfft_pair *p = calloc(1, sizeof *p);
    fftw_complex *z = fftw_malloc(n * sizeof *z), *Z = fftw_malloc(n * sizeof *Z);
    if (p && z && Z) {
        p->n = n;
        pthread_mutex_lock(&planner);
        p->fast = fftw_plan_dft_1d((int)n, z, Z, FFTW_FORWARD, FFTW_ESTIMATE);
        p->any = fftw_plan_dft_1d((int)n, z, Z, FFTW_FORWARD, FFTW_ESTIMATE | FFTW_UNALIGNED);
        pthread_mutex_unlock(&planner);
        p->align = fftw_alignment_of((double *)z);
    }
    fftw_free(z);
    fftw_free(Z);
    if (p && (!p->fast || !p->any)) {
        dw_rfft_pair_free(p);
        return NULL;
    }
    return p;
}

void dw_rfft_pair_free(dw_rfft_pair *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&planner);
    if (p->fast)
        fftw_destroy_plan(p->fast);
    if (p->any)
        fftw_destroy_plan(p->any);
    pthread_mutex_unlock(&planner);
    free(p);
}

typedef double v4d __attribute__((vector_size(32)));   /* four lanes: AVX, or two SSE2 halves */

/* One bin's two powers from a = Z[k] and b = Z[n-k]. */
static inline void bin_power(double ar, double ai, double br, double bi, double *p1, double *p2)
{
    double sr = ar + br, si = ai - bi, dr = ar - br, di = ai + bi;   /* a + conj b, a - conj b */
    *p1 = 0.25 * (sr * sr + si * si);
    *p2 = 0.25 * (dr * dr + di * di);
}

/* a + conj b and a - conj b for two bins: a = Z[k], Z[k+1] and b from the load of Z[n-k-1], Z[n-k]
 * (its two complex values swapped). */
#define PAIR_SUMS(S, D, Zp, K, N)                                                                  \
    do {                                                                                           \
        v4d a_, b_;                                                                                \
        memcpy(&a_, (Zp) + 2 * (K), sizeof a_);                                                    \
        memcpy(&b_, (Zp) + 2 * ((N) - (K) - 1), sizeof b_);                                        \
        b_ = __builtin_shufflevector(b_, b_, 2, 3, 0, 1) * conj;                                   \
        S = a_ + b_;                                                                               \
        D = a_ - b_;                                                                               \
    } while (0)

/* The powers of bins 1 .. n/2 - 1 added to acc, four bins at a time: each bin's operations those
 * of bin_power (sums, squares, re^2 + im^2 brought into one lane by a shuffle, times 0.25), so the
 * same bits. */
DW_AVX_CLONES
static void pair_bins(const double *Z, size_t n, int both, double *acc)
{
    const v4d conj = { 1, -1, 1, -1 };
    size_t k = 1;
    for (; k + 4 <= n / 2; k += 4) {
        v4d s0, d0, s1, d1, p, q;
        PAIR_SUMS(s0, d0, Z, k, n);
        PAIR_SUMS(s1, d1, Z, k + 2, n);
        s0 *= s0;
        s1 *= s1;
        p = 0.25 * (__builtin_shufflevector(s0, s1, 0, 2, 4, 6) +
                    __builtin_shufflevector(s0, s1, 1, 3, 5, 7));
        memcpy(&q, acc + k, sizeof q);
        q += p;
        if (both) {
            d0 *= d0;
            d1 *= d1;
            p = 0.25 * (__builtin_shufflevector(d0, d1, 0, 2, 4, 6) +
                        __builtin_shufflevector(d0, d1, 1, 3, 5, 7));
            q += p;
        }
        memcpy(acc + k, &q, sizeof q);
    }
    for (; k < n / 2; k++) {
        double p1, p2;
        bin_power(Z[2 * k], Z[2 * k + 1], Z[2 * (n - k)], Z[2 * (n - k) + 1], &p1, &p2);
        acc[k] += p1;
        if (both)
            acc[k] += p2;
    }
}

void dw_rfft_pair_power_add(const dw_rfft_pair *p, const double *z, double *Z, int both,
                            double *acc)
{
    double *in = (double *)z;              /* out of place: FFTW leaves the input as it was */
    int fast = fftw_alignment_of(in) == p->align && fftw_alignment_of(Z) == p->align;
    fftw_execute_dft(fast ? p->fast : p->any, (fftw_complex *)in, (fftw_complex *)Z);
    size_t n = p->n;
    for (size_t k = 0; k <= n / 2; k += n / 2) {    /* DC and Nyquist: Z[n-k] is Z[k] */
        double p1, p2;
        bin_power(Z[2 * k], Z[2 * k + 1], Z[2 * k], Z[2 * k + 1], &p1, &p2);
        acc[k] += p1;
        if (both)
            acc[k] += p2;
    }
    pair_bins(Z, n, both, acc);
}

void dw_rfft_forward(const dw_rfft *p, const double *x, double *X)
{
    /* FFTW's execute functions take non-const input; an out-of-place r2c plan leaves it unchanged
     * (FFTW_PRESERVE_INPUT is the default for r2c). */
    double *in = (double *)x;
    int fast = fftw_alignment_of(in) == p->align && fftw_alignment_of(X) == p->align;
    fftw_execute_dft_r2c(fast ? p->fast : p->any, in, (fftw_complex *)X);
}
