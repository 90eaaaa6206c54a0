/* Causal sleep-spindle detection: YASA's three criteria on trailing windows (see spindle.h). */
#include "dsp/spindle.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dsp/biquad.h"

#define SIGMA_ORDER                                                                                \
    6 /* 6th-order high-pass and low-pass at these -3 dB corners: flat over 12-15 Hz,              \
          -20 dB at 9.8 and 18.1 Hz (YASA's FIR: -6 dB at 11.25 and 15.75 Hz) */
#define SIGMA_LO 11.5
#define SIGMA_HI 15.5
#define REL_MIN 0.2          /* YASA thresh rel_pow */
#define CORR_MIN 0.65        /* YASA thresh corr */
#define RMS_SD 1.5           /* YASA thresh rms: mean + 1.5 SD */
#define REL_WIN_S 1.0
#define SHORT_WIN_S 0.3      /* YASA: 300-ms windows for corr and rms */
#define LAG_S 0.5 /* every criterion trails the signal by this much (half of REL_WIN_S) */
#define STATS_TAU_S 300.0
#define STATS_MIN_S 10.0
#define MERGE_S 0.5          /* YASA min_distance */
#define DUR_MIN_S 0.5
#define DUR_MAX_S 2.0

enum { IDLE, RUN, TAIL };

/* What the per-sample loop changes: copied to a local for each chunk (registers, not memory).
 * k: samples since the last reset; i1 ... ib: ring positions, k modulo n1, n3, nd, nh, nb. */
typedef struct {
    long k, stats_n;
    int i1, i3, id, ih, ib;
    double sum[7]; /* s^2 and b^2 over 1 s; s, b, s^2, b^2, s b over 0.3 s */
    double mean, var;
} hot;

/* What the per-sample loop reads but does not change, copied to a local for each chunk: a store to the
 * criteria ring (unsigned char) may alias any object, so anything read through the detector would be
 * loaded again after each one. */
typedef struct {
    int n1, n3, nd, nh, nb;
    long stats_tau_n, stats_min_n;
    double stats_alpha, inv_n3;
    double *s2_1, *b2_1, *s_3, *b_3, *sig_d, *brd_d;
    unsigned char *crit;
} rings;


struct dw_spindle_det {
    double fs;
    dw_cascade sig, brd;
    int n1, n3, nd, nh;               /* window lengths and delays in samples */
    double *s2_1, *b2_1;              /* 1-s rings: sigma^2, broad^2 */
    double *s_3, *b_3;                /* 0.3-s rings: sigma, broad */
    unsigned char *crit;              /* delay line of the 0.3-s criteria (bit 0 corr, bit 1 rms) */
    double *sig_d;                    /* delay line of sigma, LAG_S */
    double *brd_d; /* delay line of broad: its sigma component in phase with sigma */
    int nb;                           /* its length: the whole samples of the lag, plus 2 */
    double lag;                       /* the lag in samples */
    hot h;                            /* mean, var: running statistics of the 0.3-s sigma RMS */
    long stats_tau_n, stats_min_n;
    double stats_alpha, inv_n3;
    int state;
    double start, end, amp, prev_sig;
    int nx;                           /* sigma zero crossings in the run, the first and last at */
    double first_x, last_x;
    int tail_nx;                      /* ... in the gap of a TAIL, the last at */
    double tail_first, tail_last;
    double gd; /* the sigma filter's group delay at 13.5 Hz (s): onsets minus it */
};

static void *grab(size_t n, size_t size) { return calloc(n ? n : 1, size); }

/* The sigma filter delays 12-15 Hz more than the broad one does; a causal filter cannot undo that
 * (YASA's are zero-phase), so broad is delayed by the (fractional, linearly interpolated) number of
 * samples that best lines its 12-15 Hz component up with sigma: the largest mean cosine of the
 * phase difference over the band, in tenths of a sample. */
static double align_lag(const dw_spindle_det *d)
{
    double best = 0, best_c = -2;
    for (int tenth = 0; tenth < (int)(2 * d->fs); tenth++) {      /* up to 0.2 s */
        double lag = tenth / 10.0, c = 0;
        for (int i = 0; i <= 30; i++) {
            double f = 12.0 + 0.1 * i;
            c += cos(dw_cascade_phase(&d->sig, f, d->fs) - dw_cascade_phase(&d->brd, f, d->fs) +
                     2 * M_PI * f * lag / d->fs);
        }
        if (c > best_c) {
            best_c = c;
            best = lag;
        }
    }
    return best;
}

dw_spindle_det *dw_spindle_new(double fs)
{
    if (!(fs >= 64))
        return NULL;
    dw_spindle_det *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->fs = fs;
    d->n1 = (int)lround(REL_WIN_S * fs);
    d->n3 = (int)lround(SHORT_WIN_S * fs);
    d->nd = (int)lround((LAG_S - SHORT_WIN_S / 2) * fs);
    d->nh = (int)lround(LAG_S * fs);
    d->inv_n3 = 1.0 / d->n3;
    d->stats_tau_n = lround(STATS_TAU_S * fs);
    d->stats_alpha = 1.0 / (double)d->stats_tau_n;
    d->stats_min_n = lround(STATS_MIN_S * fs);
    d->s2_1 = grab((size_t)d->n1, sizeof(double));
    d->b2_1 = grab((size_t)d->n1, sizeof(double));
    d->s_3 = grab((size_t)d->n3, sizeof(double));
    d->b_3 = grab((size_t)d->n3, sizeof(double));
    d->crit = grab((size_t)d->nd, 1);
    d->sig_d = grab((size_t)d->nh, sizeof(double));
    if (!d->s2_1 || !d->b2_1 || !d->s_3 || !d->b_3 || !d->crit || !d->sig_d ||
        dw_cascade_butter(&d->sig, DW_BQ_HIGHPASS, SIGMA_ORDER, SIGMA_LO, fs) < 0 ||
        dw_cascade_butter(&d->sig, DW_BQ_LOWPASS, SIGMA_ORDER, SIGMA_HI, fs) < 0 ||
        dw_cascade_butter(&d->brd, DW_BQ_HIGHPASS, 2, 1.0, fs) < 0 ||
        dw_cascade_butter(&d->brd, DW_BQ_LOWPASS, 4, 30.0, fs) < 0 ||
        !(d->brd_d = grab((size_t)(d->nb = (int)(d->lag = align_lag(d)) + 2), sizeof(double)))) {
        dw_spindle_free(d);
        return NULL;
    }
    double p1 = dw_cascade_phase(&d->sig, 13.4, fs), p2 = dw_cascade_phase(&d->sig, 13.6, fs);
    d->gd = -remainder(p2 - p1, 2 * M_PI) / (2 * M_PI * 0.2);
    return d;
}

void dw_spindle_free(dw_spindle_det *d)
{
    if (!d)
        return;
    free(d->s2_1);
    free(d->b2_1);
    free(d->s_3);
    free(d->b_3);
    free(d->crit);
    free(d->sig_d);
    free(d->brd_d);
    free(d);
}

void dw_spindle_reset(dw_spindle_det *d)
{
    dw_cascade_reset(&d->sig);
    dw_cascade_reset(&d->brd);
    memset(d->s2_1, 0, (size_t)d->n1 * sizeof(double));
    memset(d->b2_1, 0, (size_t)d->n1 * sizeof(double));
    memset(d->s_3, 0, (size_t)d->n3 * sizeof(double));
    memset(d->b_3, 0, (size_t)d->n3 * sizeof(double));
    memset(d->crit, 0, (size_t)d->nd);
    memset(d->sig_d, 0, (size_t)d->nh * sizeof(double));
    memset(d->brd_d, 0, (size_t)d->nb * sizeof(double));
    hot keep = { .stats_n = d->h.stats_n, .mean = d->h.mean, .var = d->h.var };
    d->h = keep;                                 /* the statistics are kept */
    d->state = IDLE;
}

/* Running sums drift as values come and go: recompute them from the rings once per window. */
static void resum(const rings *d, double sum[7])
{
    for (int i = 0; i < 7; i++)
        sum[i] = 0;
    for (int i = 0; i < d->n1; i++) {
        sum[0] += d->s2_1[i];
        sum[1] += d->b2_1[i];
    }
    for (int i = 0; i < d->n3; i++) {
        double s = d->s_3[i], b = d->b_3[i];
        sum[2] += s; sum[3] += b; sum[4] += s * s; sum[5] += b * b; sum[6] += s * b;
    }
}

/* The run state machine on the lagged mask (tl: the time the criteria describe; sig: sigma then).
 * 1 with *out when a spindle is confirmed. */
static int track(dw_spindle_det *d, double tl, int on, double sig, dw_spindle *out)
{
    int found = 0;
    if (d->state == TAIL && (on || tl - d->end >= MERGE_S)) {
        if (on) {
            d->state = RUN;                      /* closer than MERGE_S: the same spindle */
            if (d->tail_nx && !d->nx)
                d->first_x = d->tail_first;
            if (d->tail_nx)
                d->last_x = d->tail_last;
            d->nx += d->tail_nx;
        } else {
            double dur = d->end - d->start, span = d->last_x - d->first_x;
            if (dur >= DUR_MIN_S && dur <= DUR_MAX_S) {
                *out = (dw_spindle){ d->start - d->gd, dur, d->amp,
                                     d->nx > 1 && span > 0 ? (d->nx - 1) / (2 * span) : 0 };
                found = 1;
            }
            d->state = IDLE;
        }
    }
    if (on && d->state == IDLE) {
        d->state = RUN;
        d->start = tl;
        d->amp = 0;
        d->nx = 0;
    }
    int cross = (sig >= 0) != (d->prev_sig >= 0);
    if (d->state == RUN && !on) {
        d->state = TAIL;
        d->end = tl;
        d->tail_nx = 0;
    } else if (d->state == RUN) {
        d->amp = fmax(d->amp, fabs(sig));
        if (cross && d->nx++ == 0)
            d->first_x = tl;
        if (cross)
            d->last_x = tl;
    } else if (d->state == TAIL && cross) {      /* counted if the run resumes */
        if (d->tail_nx++ == 0)
            d->tail_first = tl;
        d->tail_last = tl;
    }
    d->prev_sig = sig;
    return found;
}

#define CHUNK 256 /* samples filtered at a time (on the stack) */

/* The 1-s and 0.3-s windows take sample (s, b): the criteria bits of the 0.3-s windows (1 corr,
 * 2 rms), and bit 4 when the 1-s one holds (rel). Every operation as in the per-sample original, so
 * the bits and statistics are the same to the last one. */
static inline unsigned windows(const rings *d, hot *h, double s, double b)
{
    int i1 = h->i1, i3 = h->i3;
    h->i1 = i1 + 1 == d->n1 ? 0 : i1 + 1;
    h->i3 = i3 + 1 == d->n3 ? 0 : i3 + 1;
    double os = d->s_3[i3], ob = d->b_3[i3];
    h->sum[0] += s * s - d->s2_1[i1];
    h->sum[1] += b * b - d->b2_1[i1];
    d->s2_1[i1] = s * s;
    d->b2_1[i1] = b * b;
    h->sum[2] += s - os; h->sum[3] += b - ob;
    h->sum[4] += s * s - os * os; h->sum[5] += b * b - ob * ob; h->sum[6] += s * b - os * ob;
    d->s_3[i3] = s;
    d->b_3[i3] = b;
    if (i1 == d->n1 - 1) {
        double r[7];                                  /* not h->sum itself: h stays in registers */
        resum(d, r);
        h->sum[0] = r[0]; h->sum[1] = r[1]; h->sum[2] = r[2]; h->sum[3] = r[3];
        h->sum[4] = r[4]; h->sum[5] = r[5]; h->sum[6] = r[6];
    }
    /* the criteria as & of comparisons, not && : no branch on the data (they would mispredict) */
    unsigned bits =
        (unsigned)((h->k >= d->n1) & (h->sum[1] > 0) & (h->sum[0] >= REL_MIN * h->sum[1])) << 2;
    if (h->k < d->n3)
        return bits;
    double in = d->inv_n3, ms = h->sum[2] * in, mb = h->sum[3] * in;
    double vs = h->sum[4] * in - ms * ms, vb = h->sum[5] * in - mb * mb,
           cv = h->sum[6] * in - ms * mb;
    bits |= (unsigned)((vs > 0) & (vb > 0) & (cv > 0) & (cv * cv >= CORR_MIN * CORR_MIN * vs * vb));
    double ms2 = h->sum[4] * in, rms = sqrt(ms2 > 0 ? ms2 : 0);     /* fmax(ms2, 0), inline */
    double a = ++h->stats_n < d->stats_tau_n ? 1.0 / (double)h->stats_n : d->stats_alpha;
    double delta = rms - h->mean;
    h->mean += a * delta;
    h->var = (1 - a) * (h->var + a * delta * delta);
    double e = rms - h->mean;                         /* rms >= mean + 1.5 SD */
    bits |= (unsigned)((h->stats_n >= d->stats_min_n) & (e >= 0) &
                       (e * e >= RMS_SD * RMS_SD * h->var)) << 1;
    return bits;
}

/* One chunk of n <= CHUNK samples (see dw_spindle_run). */
static int run_chunk(dw_spindle_det *d, const double *t, const double *x, int n, dw_spindle *out,
                     int *at)
{
    double s[CHUNK], b[CHUNK];
    for (int i = 0; i < n; i++)
        s[i] = isfinite(x[i]) ? x[i] : 0;
    dw_cascade_run2(&d->sig, s, s, &d->brd, s, b, (size_t)n);
    hot h = d->h;
    const rings r = { d->n1, d->n3, d->nd, d->nh, d->nb, d->stats_tau_n, d->stats_min_n,
                      d->stats_alpha, d->inv_n3, d->s2_1, d->b2_1, d->s_3, d->b_3, d->sig_d,
                      d->brd_d, d->crit };
    int w = (int)d->lag, found = 0, state = d->state;   /* state, prev_sig: track's, in locals */
    double fr = d->lag - w, fr1 = 1 - fr, prev_sig = d->prev_sig;
    for (int i = 0; i < n; i++) {
        double sv = s[i];
        r.brd_d[h.ib] = b[i];                   /* broad, lag samples ago (linear interpolation) */
        int j0 = h.ib - w, j1 = j0 - 1;
        double bv = fr1 * r.brd_d[j0 < 0 ? j0 + r.nb : j0] +
                    fr * r.brd_d[j1 < 0 ? j1 + r.nb : j1];
        h.ib = h.ib + 1 == r.nb ? 0 : h.ib + 1;
        unsigned now = windows(&r, &h, sv, bv);
        int id = h.id, ih = h.ih;
        h.id = id + 1 == r.nd ? 0 : id + 1;
        h.ih = ih + 1 == r.nh ? 0 : ih + 1;
        unsigned late = r.crit[id];             /* the 0.3-s criteria, delayed to the same lag */
        r.crit[id] = (unsigned char)(now & 3);
        double sig = r.sig_d[ih];
        r.sig_d[ih] = sv;
        if (h.k++ < r.nh)
            continue;
        /* two of three (of two while rms warms up) */
        int on = ((now >> 2) & 1) + (late & 1) + ((late >> 1) & 1) >= 2;
        if (!on && state == IDLE) {              /* what track does then, without the call */
            prev_sig = sig;
            continue;
        }
        d->state = state;
        d->prev_sig = prev_sig;
        if (track(d, t[i] - LAG_S, on, sig, &out[found]))
            at[found++] = i;
        state = d->state;
        prev_sig = d->prev_sig;
    }
    d->h = h;
    d->state = state;
    d->prev_sig = prev_sig;
    return found;
}

int dw_spindle_run(dw_spindle_det *d, const double *t, const double *x, int n, dw_spindle *out,
                   int *at)
{
    int found = 0;
    for (int i = 0; i < n; i += CHUNK) {
        int m = n - i < CHUNK ? n - i : CHUNK, f = run_chunk(d, t + i, x + i, m, out + found,
                                                              at + found);
        for (int j = 0; j < f; j++)
            at[found + j] += i;
        found += f;
    }
    return found;
}
