/* The real FFT through FFTW (see fft.h): one plan for aligned arrays (made on fftw_malloc'd ones,
 * as the new-array execute interface asks) and one FFTW_UNALIGNED plan for any others. */
#include "dsp/fft.h"

#include <fftw3.h>
#include <pthread.h>
#include <stdlib.h>

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

void dw_rfft_forward(const dw_rfft *p, const double *x, double *X)
{
    /* FFTW's execute functions take non-const input; an out-of-place r2c plan leaves it unchanged
     * (FFTW_PRESERVE_INPUT is the default for r2c). */
    double *in = (double *)x;
    int fast = fftw_alignment_of(in) == p->align && fftw_alignment_of(X) == p->align;
    fftw_execute_dft_r2c(fast ? p->fast : p->any, in, (fftw_complex *)X);
}
