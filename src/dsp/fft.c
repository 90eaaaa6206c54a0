/* The real FFT through FFTW (see fft.h): one plan for aligned arrays (made on fftw_malloc'd ones,
 * as the new-array execute interface asks) and one FFTW_UNALIGNED plan for any others. */
#include "dsp/fft.h"

#include <fftw3.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/dw.h"

/* The two plans of a transform: one for arrays as fftw_malloc aligns them, one FFTW_UNALIGNED for
 * any double-aligned arrays. */
typedef struct {
    size_t n;
    fftw_plan fast, any;
    int align;          /* fftw_alignment_of() of the arrays fast was planned on */
} plans;

struct dw_rfft { plans pl; };
struct dw_rfft_pair { plans pl; };   /* complex forward plans of n points */

static pthread_mutex_t planner = PTHREAD_MUTEX_INITIALIZER;

static void plans_free(plans *pl)
{
    pthread_mutex_lock(&planner);
    if (pl->fast)
        fftw_destroy_plan(pl->fast);
    if (pl->any)
        fftw_destroy_plan(pl->any);
    pthread_mutex_unlock(&planner);
}

/* The plans of an n-point transform, real to complex or (cplx) complex forward, made on
 * fftw_malloc'd arrays under the planner's lock: 0, or -1 (nothing left to free) when out of memory
 * or when FFTW makes no plan. */
static int plans_make(plans *pl, size_t n, int cplx)
{
    double *in = fftw_malloc(n * (cplx ? 2 : 1) * sizeof *in);
    fftw_complex *out = fftw_malloc((cplx ? n : n / 2 + 1) * sizeof *out);
    memset(pl, 0, sizeof *pl);
    if (in && out) {
        pl->n = n;
        pthread_mutex_lock(&planner);
        for (int k = 0; k < 2; k++) {
            unsigned flags = FFTW_ESTIMATE | (k ? FFTW_UNALIGNED : 0);
            fftw_plan q = cplx ? fftw_plan_dft_1d((int)n, (fftw_complex *)in, out, FFTW_FORWARD,
                                                  flags)
                               : fftw_plan_dft_r2c_1d((int)n, in, out, flags);
            *(k ? &pl->any : &pl->fast) = q;
        }
        pthread_mutex_unlock(&planner);
        pl->align = fftw_alignment_of(in);
    }
    fftw_free(in);
    fftw_free(out);
    if (pl->fast && pl->any)
        return 0;
    plans_free(pl);
    return -1;
}

dw_rfft *dw_rfft_new(size_t n)
{
    if (n < 8 || n > 65536)
        return NULL;
    dw_rfft *p = calloc(1, sizeof *p);
    if (p && plans_make(&p->pl, n, 0) < 0) {
        free(p);
        return NULL;
    }
    return p;
}

void dw_rfft_free(dw_rfft *p)
{
    if (!p)
        return;
    plans_free(&p->pl);
    free(p);
}

size_t dw_rfft_size(const dw_rfft *p)
{
    return p->pl.n;
}

dw_rfft_pair *dw_rfft_pair_new(size_t n)
{
    if (n < 8 || n > 65536 || n % 2)
        return NULL;
    dw_rfft_pair *p = calloc(1, sizeof *p);
    if (p && plans_make(&p->pl, n, 1) < 0) {
        free(p);
        return NULL;
    }
    return p;
}

void dw_rfft_pair_free(dw_rfft_pair *p)
{
    if (!p)
        return;
    plans_free(&p->pl);
    free(p);
}

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
        dw_v4d a_, b_;                                                                             \
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
    const dw_v4d conj = { 1, -1, 1, -1 };
    size_t k = 1;
    for (; k + 4 <= n / 2; k += 4) {
        dw_v4d s0, d0, s1, d1, p, q;
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
    int fast = fftw_alignment_of(in) == p->pl.align && fftw_alignment_of(Z) == p->pl.align;
    fftw_execute_dft(fast ? p->pl.fast : p->pl.any, (fftw_complex *)in, (fftw_complex *)Z);
    size_t n = p->pl.n;
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
    int fast = fftw_alignment_of(in) == p->pl.align && fftw_alignment_of(X) == p->pl.align;
    fftw_execute_dft_r2c(fast ? p->pl.fast : p->pl.any, in, (fftw_complex *)X);
}
