/* The arousal watch: band power in 0.25-s bins, a 10-s baseline, a verdict per watch. */
#include "session/arousal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void dw_arousal_init(dw_arousal *a, double window_s, double ratio)
{
    memset(a, 0, sizeof *a);
    a->window_s = window_s;
    a->ratio = ratio;
}

static int setup(dw_arousal *a, double fs)
{
    memset(&a->alpha, 0, sizeof a->alpha);
    memset(&a->beta, 0, sizeof a->beta);
    a->fs = fs;
    a->bin_len = (int)lround(DW_AROUSAL_BIN_S * fs);
    a->nring = a->ring_i = a->bin_fill = 0;
    a->acc_a = a->acc_b = 0;
    if (fs < 64 || dw_cascade_butter(&a->alpha, DW_BQ_HIGHPASS, 4, 8.0, fs) < 0 ||
        dw_cascade_butter(&a->alpha, DW_BQ_LOWPASS, 4, 11.0, fs) < 0 ||
        dw_cascade_butter(&a->beta, DW_BQ_HIGHPASS, 4, 16.0, fs) < 0 ||
        dw_cascade_butter(&a->beta, DW_BQ_LOWPASS, 4, 30.0, fs) < 0) {
        a->fs = -fs; /* too slow for the beta band: signs from elsewhere only */
        return -1;
    }
    return 0;
}

void dw_arousal_reset(dw_arousal *a)
{
    if (a->fs > 0)
        setup(a, a->fs);
    a->watching = a->done = 0;
}

static void verdict(dw_arousal *a, double t, int aroused, const char *cause)
{
    a->result = (dw_arousal_result){ aroused, a->first_id, a->nstim, t, "" };
    snprintf(a->result.cause, sizeof a->result.cause, "%s", cause);
    a->watching = 0;
    a->done = 1;
}

/* A bin is complete: into the baseline ring, and while watching, the last second against the
 * baseline. */
static void bin_done(dw_arousal *a, double t)
{
    double pa = a->acc_a / a->bin_len, pb = a->acc_b / a->bin_len;
    a->acc_a = a->acc_b = 0;
    a->bin_fill = 0;
    if (a->watching && a->base_a > 0) {
        a->win_a[a->nwin % DW_AROUSAL_WIN_BINS] = pa;
        a->win_b[a->nwin % DW_AROUSAL_WIN_BINS] = pb;
        if (++a->nwin >= DW_AROUSAL_WIN_BINS) {
            double ma = 0, mb = 0;
            for (int i = 0; i < DW_AROUSAL_WIN_BINS; i++) {
                ma += a->win_a[i] / DW_AROUSAL_WIN_BINS;
                mb += a->win_b[i] / DW_AROUSAL_WIN_BINS;
            }
            char cause[80];
            if (ma >= a->ratio * a->base_a || mb >= a->ratio * a->base_b) {
                int alpha = ma / a->base_a >= mb / a->base_b;
                snprintf(cause, sizeof cause, "%s x%.1f", alpha ? "alpha" : "beta",
                         alpha ? ma / a->base_a : mb / a->base_b);
                verdict(a, t, 1, cause);
            }
        }
    }
    if (!a->watching) {                    /* the baseline holds only what came before a stimulus */
        a->ring_a[a->ring_i] = pa;
        a->ring_b[a->ring_i] = pb;
        a->ring_i = (a->ring_i + 1) % DW_AROUSAL_BASE_BINS;
        if (a->nring < DW_AROUSAL_BASE_BINS)
            a->nring++;
    }
}

void dw_arousal_sample(dw_arousal *a, double fs, double t, double x)
{
    if (fs != a->fs && -fs != a->fs)
        setup(a, fs);
    double ya = 0, yb = 0;
    if (a->fs > 0 && isfinite(x)) {
        ya = dw_cascade_step(&a->alpha, x);
        yb = dw_cascade_step(&a->beta, x);
    }
    dw_arousal_sample_filtered(a, t, x, ya * ya, yb * yb);
}

void dw_arousal_filter(dw_arousal *a, double fs, const double *x, int n, double *ya2, double *yb2)
{
    if (fs != a->fs && -fs != a->fs)
        setup(a, fs);
    double xa[256], ya[256], yb[256];
    int at[256];
    for (int i0 = 0; i0 < n; i0 += 256) {
        int m = n - i0 < 256 ? n - i0 : 256, k = 0;
        for (int i = 0; i < m; i++) {
            ya2[i0 + i] = yb2[i0 + i] = 0;
            if (a->fs > 0 && isfinite(x[i0 + i])) {      /* the finite samples, as one stream */
                at[k] = i0 + i;
                xa[k++] = x[i0 + i];
            }
        }
        if (k == 0)
            continue;
        dw_cascade_run2(&a->alpha, xa, ya, &a->beta, xa, yb, (size_t)k);
        for (int j = 0; j < k; j++) {
            ya2[at[j]] = ya[j] * ya[j];
            yb2[at[j]] = yb[j] * yb[j];
        }
    }
}

void dw_arousal_sample_filtered(dw_arousal *a, double t, double x, double ya2, double yb2)
{
    if (a->fs > 0 && isfinite(x)) {
        a->acc_a += ya2;
        a->acc_b += yb2;
        if (++a->bin_fill == a->bin_len)
            bin_done(a, t);
    }
    if (a->watching && t >= a->end_t)
        verdict(a, t, 0, "quiet");
}

void dw_arousal_stimulus(dw_arousal *a, double t, long id)
{
    if (a->watching) {
        a->end_t = t + a->window_s;
        a->nstim++;
        return;
    }
    a->watching = 1;
    a->done = 0;
    a->first_id = id;
    a->nstim = 1;
    a->end_t = t + a->window_s;
    a->nwin = 0;
    a->base_a = a->base_b = 0;
    if (a->nring >= DW_AROUSAL_BASE_BINS / 2) {
        for (int i = 0; i < a->nring; i++) {
            a->base_a += a->ring_a[i] / a->nring;
            a->base_b += a->ring_b[i] / a->nring;
        }
    }
}

void dw_arousal_sign(dw_arousal *a, double t, const char *cause)
{
    if (a->watching)
        verdict(a, t, 1, cause);
}

int dw_arousal_take(dw_arousal *a, double t, dw_arousal_result *r)
{
    if (a->watching && t >= a->end_t)
        verdict(a, t, 0, "quiet");
    if (!a->done)
        return 0;
    a->done = 0;
    *r = a->result;
    return 1;
}

int dw_arousal_watching(const dw_arousal *a) { return a->watching; }
