/* Causal sleep-spindle detection: YASA's three criteria on trailing windows (see spindle.h). */
#include "dsp/spindle.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/dw.h"
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

#define CHUNK DW_SPINDLE_CHUNK /* samples filtered at a time */
#define SLIDE (8 * CHUNK) /* the filters' outputs kept before the histories move back */
#define STEP_S 0.05 /* the criteria are evaluated once per step (YASA: its 0.3-s windows every 0.1 s) */

enum { IDLE, RUN, TAIL };

/* What the per-sample loop changes: copied to a local for each chunk (registers, not memory).
 * k: samples since the last reset; kb: steps (blocks of nbk samples) since it; j: samples into the
 * current block; i1, i3, id: block-ring positions (kb modulo n1, n3, nd). acc: the current block's
 * sums of s^2, b^2, s, b, s b. */
typedef struct {
    long k, kb, stats_n;
    int j, i1, i3, id, on;
    double acc[5];
    double sum[7]; /* s^2 and b^2 over 1 s; s, b, s^2, b^2, s b over 0.3 s (sums of block sums) */
    double mean, var;
} hot;

/* What the per-sample loop reads but does not change, copied to a local for each chunk: a store to the
 * criteria ring (unsigned char) may alias any object, so anything read through the detector would be
 * loaded again after each one. */
typedef struct {
    int nbk, n1, n3, nd;
    long stats_tau_n, stats_min_n;
    double stats_alpha, inv_n3;
    double *blk1, *blk3;
    unsigned char *crit;
} rings;


struct dw_spindle_det {
    double fs;
    dw_cascade sig, brd;
    int nbk;                          /* samples in a block (a step): fs * STEP_S, rounded */
    int n1, n3, nd;                   /* the 1-s and 0.3-s windows, the 0.3-s criteria's delay: blocks */
    int nh;                           /* the lag LAG_S in samples */
    double *blk1;                     /* ring of n1 blocks: sums of sigma^2, broad^2 (2 a block) */
    double *blk3;                     /* ring of n3 blocks: sums of s, b, s^2, b^2, s b (5 a block) */
    unsigned char *crit;              /* delay line (blocks) of the 0.3-s criteria (bit 0 corr, 1 rms) */
    /* The filters' outputs, a chunk at a time, after the last samples of the chunks before (zeros
     * after a reset): sigma after nh of them (it is read LAG_S late), broad after hb (its 12-15 Hz
     * part lined up with sigma: read lag samples late, interpolated between two). Both slide from
     * off (samples): the chunk goes to sig_d + off + nh and brd_d + off + hb; when SLIDE would be
     * passed, the histories move back to the front (one memmove per SLIDE samples). */
    double *sig_d;                    /* nh + SLIDE */
    double *brd_d;                    /* hb + SLIDE */
    int hb;                           /* the whole samples of the lag, plus 1 */
    int off;
    double lag;                       /* the lag in samples */
    hot h;                            /* mean, var: running statistics of the 0.3-s sigma RMS */
    long stats_tau_n, stats_min_n;    /* in blocks */
    double stats_alpha, inv_n3;
    int state;
    double start, end, amp, prev_sig;
    int nx;                           /* sigma zero crossings in the run, the first and last at */
    double first_x, last_x;
    int tail_nx;                      /* ... in the gap of a TAIL, the last at */
    double tail_first, tail_last;
    double gd; /* the sigma filter's group delay at 13.5 Hz, plus half a block of the held mask (s):
                  onsets minus it */
};

static void *grab(size_t n, size_t size) { return calloc(n ? n : 1, size); }

/* The sigma filter delays 12-15 Hz more than the broad one does; a causal filter cannot undo that
 * (YASA's are zero-phase), so broad is delayed by the (fractional, linearly interpolated) number of
 * samples that best lines its 12-15 Hz component up with sigma: the largest mean cosine of the
 * phase difference over the band, in tenths of a sample. */
static double align_lag(const dw_spindle_det *d)
{
    double best = 0, best_c = -2, dphase[31];
    for (int i = 0; i <= 30; i++) {              /* the phase difference at each frequency, once */
        double f = 12.0 + 0.1 * i;
        dphase[i] = dw_cascade_phase(&d->sig, f, d->fs) - dw_cascade_phase(&d->brd, f, d->fs);
    }
    for (int tenth = 0; tenth < (int)(2 * d->fs); tenth++) {      /* up to 0.2 s */
        double lag = tenth / 10.0, c = 0;
        for (int i = 0; i <= 30; i++) {
            double f = 12.0 + 0.1 * i;
            c += cos(dphase[i] + 2 * M_PI * f * lag / d->fs);
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
    d->nbk = (int)lround(STEP_S * fs);
    double step = d->nbk / fs;                   /* the block's true length (s) */
    d->n1 = (int)lround(REL_WIN_S / step);
    d->n3 = (int)lround(SHORT_WIN_S / step);
    d->nd = (int)lround((LAG_S - d->n3 * step / 2) / step);
    d->nh = (int)lround(LAG_S * fs);
    d->inv_n3 = 1.0 / (d->n3 * d->nbk);
    d->stats_tau_n = lround(STATS_TAU_S / step);
    d->stats_alpha = 1.0 / (double)d->stats_tau_n;
    d->stats_min_n = lround(STATS_MIN_S / step);
    d->blk1 = grab((size_t)d->n1 * 2, sizeof(double));
    d->blk3 = grab((size_t)d->n3 * 5, sizeof(double));
    d->crit = grab((size_t)d->nd, 1);
    d->sig_d = grab((size_t)d->nh + SLIDE, sizeof(double));
    if (!d->blk1 || !d->blk3 || !d->crit || !d->sig_d ||
        dw_cascade_butter(&d->sig, DW_BQ_HIGHPASS, SIGMA_ORDER, SIGMA_LO, fs) < 0 ||
        dw_cascade_butter(&d->sig, DW_BQ_LOWPASS, SIGMA_ORDER, SIGMA_HI, fs) < 0 ||
        dw_cascade_butter(&d->brd, DW_BQ_HIGHPASS, 2, 1.0, fs) < 0 ||
        dw_cascade_butter(&d->brd, DW_BQ_LOWPASS, 4, 30.0, fs) < 0 ||
        !(d->brd_d = grab((size_t)(d->hb = (int)(d->lag = align_lag(d)) + 1) + SLIDE,
                          sizeof(double)))) {
        dw_spindle_free(d);
        return NULL;
    }
    double p1 = dw_cascade_phase(&d->sig, 13.4, fs), p2 = dw_cascade_phase(&d->sig, 13.6, fs);
    /* a block's criteria hold from its last sample on: on average (nbk - 1) / 2 samples late */
    d->gd = -remainder(p2 - p1, 2 * M_PI) / (2 * M_PI * 0.2) + (d->nbk - 1) / (2 * fs);
    return d;
}

void dw_spindle_free(dw_spindle_det *d)
{
    if (!d)
        return;
    free(d->blk1);
    free(d->blk3);
    free(d->crit);
    free(d->sig_d);
    free(d->brd_d);
    free(d);
}

void dw_spindle_reset(dw_spindle_det *d)
{
    dw_cascade_reset(&d->sig);
    dw_cascade_reset(&d->brd);
    memset(d->blk1, 0, (size_t)d->n1 * 2 * sizeof(double));
    memset(d->blk3, 0, (size_t)d->n3 * 5 * sizeof(double));
    memset(d->crit, 0, (size_t)d->nd);
    d->off = 0;
    memset(d->sig_d, 0, (size_t)d->nh * sizeof(double));
    memset(d->brd_d, 0, (size_t)d->hb * sizeof(double));
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
        sum[0] += d->blk1[2 * i];
        sum[1] += d->blk1[2 * i + 1];
    }
    for (int i = 0; i < d->n3; i++)
        for (int v = 0; v < 5; v++)
            sum[2 + v] += d->blk3[5 * i + v];
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

/* The end of a block: its sums enter the 1-s and 0.3-s windows (of whole blocks), the criteria are
 * evaluated on them, and the mask the following samples hold is set: rel (1 s) now, corr and rms
 * (0.3 s) delayed by nd blocks so that all three describe the window centred LAG_S ago; two of three
 * (of two while the rms statistics warm up). Every operation in a fixed order whatever the chunking. */
static void block_end(const rings *d, hot *h, const double acc[5])
{
    int i1 = h->i1, i3 = h->i3, id = h->id;
    double *b1 = d->blk1 + 2 * i1, *b3 = d->blk3 + 5 * i3;
    const double v3[5] = { acc[2], acc[3], acc[0], acc[1], acc[4] };
    h->sum[0] += acc[0] - b1[0];
    h->sum[1] += acc[1] - b1[1];
    b1[0] = acc[0];
    b1[1] = acc[1];
    dw_v4d sv, nv = { v3[0], v3[1], v3[2], v3[3] }, ov;   /* the first four side by side */
    memcpy(&sv, h->sum + 2, sizeof sv);
    memcpy(&ov, b3, sizeof ov);
    sv += nv - ov;
    memcpy(h->sum + 2, &sv, sizeof sv);
    memcpy(b3, &nv, sizeof nv);
    h->sum[6] += v3[4] - b3[4];
    b3[4] = v3[4];
    h->i1 = i1 + 1 == d->n1 ? 0 : i1 + 1;
    h->i3 = i3 + 1 == d->n3 ? 0 : i3 + 1;
    h->id = id + 1 == d->nd ? 0 : id + 1;
    if (i1 == d->n1 - 1)
        resum(d, h->sum);
    long kb = ++h->kb;
    int rel = (kb >= d->n1) & (h->sum[1] > 0) & (h->sum[0] >= REL_MIN * h->sum[1]);
    unsigned now = 0;
    if (kb >= d->n3) {
        double in = d->inv_n3, ms = h->sum[2] * in, mb = h->sum[3] * in;
        double vs = h->sum[4] * in - ms * ms, vb = h->sum[5] * in - mb * mb,
               cv = h->sum[6] * in - ms * mb;
        now = (unsigned)((vs > 0) & (vb > 0) & (cv > 0) & (cv * cv >= CORR_MIN * CORR_MIN * vs * vb));
        double ms2 = h->sum[4] * in, rms = sqrt(ms2 > 0 ? ms2 : 0);
        double a = ++h->stats_n < d->stats_tau_n ? 1.0 / (double)h->stats_n : d->stats_alpha;
        double delta = rms - h->mean;
        h->mean += a * delta;
        h->var = (1 - a) * (h->var + a * delta * delta);
        double e = rms - h->mean;                     /* rms >= mean + 1.5 SD */
        now |= (unsigned)((h->stats_n >= d->stats_min_n) & (e >= 0) &
                          (e * e >= RMS_SD * RMS_SD * h->var)) << 1;
    }
    unsigned late = d->crit[id];             /* the 0.3-s criteria, delayed to the same lag */
    d->crit[id] = (unsigned char)now;
    h->on = rel + (int)(late & 1) + (int)((late >> 1) & 1) >= 2;
}

/* Where a chunk's sigma and broad go: the histories slide back first if it would not fit. */
static void chunk_at(dw_spindle_det *d, double **sig, double **brd)
{
    if (d->off + CHUNK > SLIDE) {
        memmove(d->sig_d, d->sig_d + d->off, (size_t)d->nh * sizeof *d->sig_d);
        memmove(d->brd_d, d->brd_d + d->off, (size_t)d->hb * sizeof *d->brd_d);
        d->off = 0;
    }
    *sig = d->sig_d + d->off + d->nh;
    *brd = d->brd_d + d->off + d->hb;
}

/* The run state machine's place between samples: samples since the last reset, track's state and
 * the last sigma it saw, spindles found in this chunk. */
typedef struct {
    long k;
    int state, found;
    double prev_sig;
} runs;

/* Samples from .. to-1 of the chunk (sg: sigma LAG_S ago, t: their times) through the run state
 * machine under the mask on; the first nh samples after a reset are not tracked (their sigma is not
 * yet LAG_S old). While the mask is off and no run is open, track keeps only the last sigma: the
 * stretch is passed over at once (most of a night). */
static void track_each(dw_spindle_det *d, const double *t, const double *sg, int from, int to,
                       int on, runs *u, dw_spindle *out, int *at);

static inline void track_span(dw_spindle_det *d, const double *t, const double *sg, int from,
                              int to, int on, runs *u, dw_spindle *out, int *at)
{
    if (!on && u->state == IDLE) {
        u->k += to - from;
        if (to > from && u->k > d->nh)           /* the last sample is tracked */
            u->prev_sig = sg[to - 1];
    } else {
        track_each(d, t, sg, from, to, on, u, out, at);
    }
}

/* track_span sample by sample. */
static void track_each(dw_spindle_det *d, const double *t, const double *sg, int from, int to,
                       int on, runs *u, dw_spindle *out, int *at)
{
    int nh = d->nh;
    for (int i = from; i < to; i++) {
        double sig = sg[i];
        if (u->k++ < nh)
            continue;
        if (!on && u->state == IDLE) {           /* what track does then, without the call */
            u->prev_sig = sig;
            continue;
        }
        d->state = u->state;
        d->prev_sig = u->prev_sig;
        if (track(d, t[i] - LAG_S, on, sig, &out[u->found]))
            at[u->found++] = i;
        u->state = d->state;
        u->prev_sig = d->prev_sig;
    }
}

/* One chunk of n <= CHUNK samples whose sigma and broad are where chunk_at said: the criteria and
 * the runs (see dw_spindle_run). A block at a time: its sums (each in sample order, as ever), then
 * its samples through the runs under the mask before the block's end, its end (the mask the
 * following samples hold), its last sample under the new mask: the same order of events as sample
 * by sample, so the same spindles to the bit, without a per-sample branch on the mask. */
static int detect_chunk(dw_spindle_det *d, const double *t, int n, dw_spindle *out, int *at)
{
    int nh = d->nh, hb = d->hb, w = hb - 1;
    const double *sg = d->sig_d + d->off, *bd = d->brd_d + d->off;
    hot h = d->h;
    const rings r = { d->nbk, d->n1, d->n3, d->nd, d->stats_tau_n, d->stats_min_n,
                      d->stats_alpha, d->inv_n3, d->blk1, d->blk3, d->crit };
    runs u = { h.k, d->state, 0, d->prev_sig };
    double fr = d->lag - w, fr1 = 1 - fr;
    /* the block's sums, its position and the mask in locals: h is in memory (block_end takes it) */
    double a0 = h.acc[0], a1 = h.acc[1], a2 = h.acc[2], a3 = h.acc[3], a4 = h.acc[4];
    int j = h.j, on = h.on;
    for (int i = 0; i < n;) {
        int e = n - i < r.nbk - j ? n : i + (r.nbk - j);   /* the block's samples in this chunk */
        for (int q = i; q < e; q++) {
            double sv = sg[nh + q];
            double bv = fr1 * bd[hb + q - w] + fr * bd[hb + q - w - 1];
            a0 += sv * sv;
            a1 += bv * bv;
            a2 += sv;
            a3 += bv;
            a4 += sv * bv;
        }
        j += e - i;
        if (j < r.nbk) {                         /* the chunk ends inside the block */
            track_span(d, t, sg, i, e, on, &u, out, at);
        } else {
            track_span(d, t, sg, i, e - 1, on, &u, out, at);
            const double acc[5] = { a0, a1, a2, a3, a4 };
            block_end(&r, &h, acc);
            on = h.on;
            j = 0;
            a0 = a1 = a2 = a3 = a4 = 0;
            track_span(d, t, sg, e - 1, e, on, &u, out, at);
        }
        i = e;
    }
    d->off += n;
    h.acc[0] = a0; h.acc[1] = a1; h.acc[2] = a2; h.acc[3] = a3; h.acc[4] = a4;
    h.j = j;
    h.k = u.k;
    d->h = h;
    d->state = u.state;
    d->prev_sig = u.prev_sig;
    return u.found;
}

/* x (uV) in chunks, band-passed into the histories (non-finite samples taken as 0). */
static int run_blocks(dw_spindle_det *d, const double *t, const double *x, int n, dw_spindle *out,
                      int *at)
{
    int found = 0;
    for (int i = 0; i < n; i += CHUNK) {
        int m = n - i < CHUNK ? n - i : CHUNK;
        double *sg, *bd, in[CHUNK];
        chunk_at(d, &sg, &bd);
        dw_finite_or_zero(x + i, in, m);
        dw_cascade_run2(&d->sig, in, sg, &d->brd, in, bd, (size_t)m);
        int f = detect_chunk(d, t + i, m, out + found, at + found);
        for (int j = 0; j < f; j++)
            at[found + j] += i;
        found += f;
    }
    return found;
}

void dw_spindle_cascades(dw_spindle_det *d, dw_cascade **sigma, dw_cascade **broad)
{
    *sigma = &d->sig;
    *broad = &d->brd;
}

void dw_spindle_place(dw_spindle_det *d, double **sigma, double **broad)
{
    chunk_at(d, sigma, broad);
}

int dw_spindle_run_placed(dw_spindle_det *d, const double *t, int n, dw_spindle *out, int *at)
{
    return n > 0 && n <= CHUNK ? detect_chunk(d, t, n, out, at) : 0;
}

int dw_spindle_run(dw_spindle_det *d, const double *t, const double *x, int n, dw_spindle *out,
                   int *at)
{
    return run_blocks(d, t, x, n, out, at);
}
