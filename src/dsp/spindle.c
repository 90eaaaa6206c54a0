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
    long k;                           /* samples since the last reset */
    int i1, i3, id, ih, ib;           /* ring positions: k modulo n1, n3, nd, nh, nb */
    double sum_s2_1, sum_b2_1, sum_s, sum_b, sum_s2, sum_b2, sum_sb;
    long stats_n, stats_tau_n, stats_min_n;
    double stats_alpha, inv_n3;
    double mean, var;                 /* running statistics of the 0.3-s sigma RMS */
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
    d->k = 0;
    d->i1 = d->i3 = d->id = d->ih = d->ib = 0;
    d->sum_s2_1 = d->sum_b2_1 = d->sum_s = d->sum_b = d->sum_s2 = d->sum_b2 = d->sum_sb = 0;
    d->state = IDLE;
}

/* Running sums drift as values come and go: recompute them from the rings once per window. */
static void resum(dw_spindle_det *d)
{
    d->sum_s2_1 = d->sum_b2_1 = d->sum_s = d->sum_b = d->sum_s2 = d->sum_b2 = d->sum_sb = 0;
    for (int i = 0; i < d->n1; i++) {
        d->sum_s2_1 += d->s2_1[i];
        d->sum_b2_1 += d->b2_1[i];
    }
    for (int i = 0; i < d->n3; i++) {
        double s = d->s_3[i], b = d->b_3[i];
        d->sum_s += s; d->sum_b += b; d->sum_s2 += s * s; d->sum_b2 += b * b; d->sum_sb += s * b;
    }
}

/* The windows take sample (s, b); returns the criteria bits of the 0.3-s windows (1 corr, 2 rms)
 * and sets *rel_ok for the 1-s window. */
static unsigned windows(dw_spindle_det *d, double s, double b, int *rel_ok)
{
    int i1 = d->i1, i3 = d->i3;
    d->i1 = i1 + 1 == d->n1 ? 0 : i1 + 1;
    d->i3 = i3 + 1 == d->n3 ? 0 : i3 + 1;
    double os = d->s_3[i3], ob = d->b_3[i3];
    d->sum_s2_1 += s * s - d->s2_1[i1];
    d->sum_b2_1 += b * b - d->b2_1[i1];
    d->s2_1[i1] = s * s;
    d->b2_1[i1] = b * b;
    d->sum_s += s - os; d->sum_b += b - ob;
    d->sum_s2 += s * s - os * os; d->sum_b2 += b * b - ob * ob; d->sum_sb += s * b - os * ob;
    d->s_3[i3] = s;
    d->b_3[i3] = b;
    if (i1 == d->n1 - 1)
        resum(d);
    *rel_ok = d->k >= d->n1 && d->sum_b2_1 > 0 && d->sum_s2_1 >= REL_MIN * d->sum_b2_1;
    if (d->k < d->n3)
        return 0;
    double in = d->inv_n3, ms = d->sum_s * in, mb = d->sum_b * in;
    double vs = d->sum_s2 * in - ms * ms, vb = d->sum_b2 * in - mb * mb,
           cv = d->sum_sb * in - ms * mb;
    unsigned bits =
        vs > 0 && vb > 0 && cv > 0 && cv * cv >= CORR_MIN * CORR_MIN * vs * vb ? 1u : 0u;
    double rms = sqrt(fmax(d->sum_s2 * in, 0));
    double a = ++d->stats_n < d->stats_tau_n ? 1.0 / (double)d->stats_n : d->stats_alpha;
    double delta = rms - d->mean;
    d->mean += a * delta;
    d->var = (1 - a) * (d->var + a * delta * delta);
    if (d->stats_n >= d->stats_min_n) {
        double e = rms - d->mean;                     /* rms >= mean + 1.5 SD */
        bits |= e >= 0 && e * e >= RMS_SD * RMS_SD * d->var ? 2u : 0u;
    }
    return bits;
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

int dw_spindle_step(dw_spindle_det *d, double t, double x, dw_spindle *out)
{
    if (!isfinite(x))
        x = 0;
    double s = dw_cascade_step(&d->sig, x), b = dw_cascade_step(&d->brd, x);
    d->brd_d[d->ib] = b;                         /* broad, lag samples ago (linear interpolation) */
    int w = (int)d->lag, j0 = d->ib - w, j1 = j0 - 1;
    double fr = d->lag - w;
    b = (1 - fr) * d->brd_d[j0 < 0 ? j0 + d->nb : j0] + fr * d->brd_d[j1 < 0 ? j1 + d->nb : j1];
    d->ib = d->ib + 1 == d->nb ? 0 : d->ib + 1;
    int rel_ok;
    unsigned now = windows(d, s, b, &rel_ok);
    int id = d->id, ih = d->ih;
    d->id = id + 1 == d->nd ? 0 : id + 1;
    d->ih = ih + 1 == d->nh ? 0 : ih + 1;
    unsigned late = d->crit[id];                 /* the 0.3-s criteria, delayed to the same lag */
    d->crit[id] = (unsigned char)now;
    double sig = d->sig_d[ih];
    d->sig_d[ih] = s;
    int full = d->k >= d->nh;
    d->k++;
    if (!full)
        return 0;
    int met =
        rel_ok + (late & 1) + ((late & 2) >> 1); /* two of three (of two while rms warms up) */
    return track(d, t - LAG_S, met >= 2, sig, out);
}
