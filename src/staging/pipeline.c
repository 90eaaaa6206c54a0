/* The staging pipeline (see pipeline.h): quality verdict, resampling with the delay removed, role columns,
 * epoch assembly and validity, the stager (and its one-channel stand-in), the provisional label. */
#include "staging/pipeline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/frames.h"
#include "dsp/resample.h"

#define SEC_RING 64               /* seconds of verdicts kept (an epoch and what runs ahead of it) */
#define ALT_BACKLOG 1440          /* epochs (12 h) the stand-in stager may lag (see alt_push) */
#define PIECE    256              /* input frames resampled per step */

struct dw_pipeline {
    dw_pipeline_sink sink;
    int    nch, frontal, parietal;
    double fs;
    const dw_model *model;
    dw_stager *stager, *alt;      /* alt: the one-channel stager standing in when the parietal is unusable */
    struct alt_epoch { dw_features feat[2]; int valid; } *alt_log;   /* epochs alt has not seen */
    int    alt_behind;
    int    ncols;                 /* staging columns: 1 or 2 */
    dw_quality *quality;

    /* resampling: nres channels (all for display, else the staging ones) */
    int    nres, res_ch[DW_MAX_CH], col_of[2];   /* col_of: index into res of frontal, parietal */
    dw_resampler *rs[DW_MAX_CH];
    long   skip;                  /* outputs still to drop (the group delay, after a start or a seek) */
    long   skip0;
    long   pad;                   /* copies of the first input frame to push first, so that dropping skip0
                                     whole outputs removes the delay to within half an input frame */
    int    pad_due;               /* the next push starts a stream: pad first */
    int    same_rate;             /* the source is at DW_FS: resampling is a copy, skipped */
    long long src_frames;         /* source frames seen (gaps included) since time 0 */
    long long out_frames;         /* frames at DW_FS delivered (gaps included) */
    double last[DW_MAX_CH];       /* last input value per channel (held through gaps) */
    double in[PIECE], *out;       /* out: nres x outcap, channel-major */
    size_t outcap;
    double *frames;               /* display frames, interleaved */

    /* per-second verdicts of the staging channels */
    long   sec_id[SEC_RING];
    unsigned char fflag[SEC_RING], pflag[SEC_RING];

    /* the epoch being filled (buf[cur]) and the one before it (buf[!cur]), at DW_FS: the two hold
     * the last 30 s for the provisional label, prev[fill..] then cur[..fill), without a third copy
     * of the signal */
    double buf[2][2][DW_EPOCH_N]; /* [epoch][column][frame] */
    int    cur;
    int    fill;
    long long epoch_no;           /* epoch the fill belongs to */
    long   ring_total;            /* frames since the stream (re)started: 30 s whole from 3000 on */
};

static void on_quality(void *ctx, const dw_quality_second *q)
{
    dw_pipeline *p = ctx;
    int k = (int)(q->second % SEC_RING);
    p->sec_id[k] = q->second;
    p->fflag[k] = p->frontal >= 0 ? q->flag[p->frontal] : DW_Q_LOST;
    p->pflag[k] = p->parietal >= 0 ? q->flag[p->parietal] : 0;
    if (p->sink.quality)
        p->sink.quality(p->sink.ctx, q);
}

/* Flags of second s for channel column c (0 frontal, 1 parietal); unknown seconds are lost. */
static unsigned sec_flags(const dw_pipeline *p, long s, int c)
{
    int k = (int)(((s % SEC_RING) + SEC_RING) % SEC_RING);
    if (p->sec_id[k] != s)
        return DW_Q_LOST;
    return c ? p->pflag[k] : p->fflag[k];
}

/* The model for the source: the one given (refused if the source is too slow for it), else the built-in
 * one for the roles and the source rate (dw_model_builtin_for). NULL with err. */
static const dw_model *choose_model(const dw_source_info *in, const dw_pipeline_opts *o, dw_err *err)
{
    const dw_model *m = o && o->model ? o->model : dw_model_builtin_for(in->parietal >= 0 ? 2 : 1, in->fs);
    if (!m) {
        dw_err_set(err, "the source is sampled at %g Hz: no built-in model stages a source slower than %g Hz "
                   "(delta to beta need it); give --model with a model trained for such a source", in->fs,
                   dw_model_builtin_min_rate());
        return NULL;
    }
    if (!(in->fs >= dw_model_min_rate(m) - 1e-9)) {
        dw_err_set(err, "the source is sampled at %g Hz: model %s reads up to %g Hz, so it needs %g Hz or faster",
                   in->fs, dw_model_name(m), dw_model_max_hz(m), dw_model_min_rate(m));
        return NULL;
    }
    if (dw_model_channels(m) == 2 && (in->parietal < 0 || in->parietal >= in->nch)) {
        dw_err_set(err, "model %s needs a parietal channel; choose one with --parietal, or --parietal none for "
                   "the one-channel model", dw_model_name(m));
        return NULL;
    }
    return m;
}

dw_pipeline *dw_pipeline_new(const dw_source_info *in, const dw_pipeline_opts *o, const dw_pipeline_sink *sink,
                             dw_err *err)
{
    if (in->frontal < 0 || in->frontal >= in->nch) {
        dw_err_set(err, "no frontal channel to stage (channels: %s%s%s...); choose one with --frontal",
                   in->label[0], in->nch > 1 ? ", " : "", in->nch > 1 ? in->label[1] : "");
        return NULL;
    }
    const dw_model *m = choose_model(in, o, err);
    if (!m)
        return NULL;
    dw_pipeline *p = calloc(1, sizeof *p);
    if (!p)
        goto oom;
    if (sink)
        p->sink = *sink;
    p->nch = in->nch;
    p->fs = in->fs;
    p->frontal = in->frontal;
    p->parietal = dw_model_channels(m) == 2 ? in->parietal : -1;
    p->model = m;
    p->ncols = dw_model_channels(m);
    if (!(p->stager = dw_stager_new(m)))
        goto oom;
    if (!(o && o->model) && p->ncols == 2 &&
        (!(p->alt = dw_stager_new(dw_model_builtin_for(1, in->fs))) ||
         !(p->alt_log = malloc(ALT_BACKLOG * sizeof *p->alt_log))))
        goto oom;
    dw_quality_cfg qc = o ? o->quality : (dw_quality_cfg){ 500, 1, 0 };
    if (!(p->quality = dw_quality_new(in->nch, in->fs, in->phys_lo, in->phys_hi, &qc)))
        goto oom;
    if (o && o->display) {
        p->nres = in->nch;
        for (int c = 0; c < in->nch; c++)
            p->res_ch[c] = c;
        p->col_of[0] = p->frontal;
        p->col_of[1] = p->parietal;
    } else {
        p->res_ch[p->nres] = p->frontal;
        p->col_of[0] = p->nres++;
        p->col_of[1] = -1;
        if (p->parietal >= 0) {
            p->res_ch[p->nres] = p->parietal;
            p->col_of[1] = p->nres++;
        }
    }
    for (int r = 0; r < p->nres; r++)
        if (!(p->rs[r] = dw_resampler_new(in->fs, DW_FS)))
            goto oom;
    double delay = dw_resampler_delay_s(p->rs[0]);
    p->same_rate = delay == 0;                   /* the resamplers are plain copies */
    p->skip0 = (long)ceil(delay * DW_FS - 1e-9);
    p->pad = lround(((double)p->skip0 / DW_FS - delay) * in->fs);
    p->outcap = dw_resampler_max_out(p->rs[0], PIECE) + 2;
    p->out = malloc(p->outcap * (size_t)p->nres * sizeof *p->out);
    p->frames = malloc(p->outcap * (size_t)p->nres * sizeof *p->frames);
    if (!p->out || !p->frames)
        goto oom;
    for (int k = 0; k < SEC_RING; k++)
        p->sec_id[k] = -1;
    p->skip = p->skip0;
    p->pad_due = 1;
    return p;
oom:
    dw_pipeline_free(p);
    dw_err_set(err, "out of memory");
    return NULL;
}

void dw_pipeline_free(dw_pipeline *p)
{
    if (!p)
        return;
    dw_stager_free(p->stager);
    dw_stager_free(p->alt);
    free(p->alt_log);
    dw_quality_free(p->quality);
    for (int r = 0; r < p->nres; r++)
        dw_resampler_free(p->rs[r]);
    free(p->out);
    free(p->frames);
    free(p);
}

const dw_model *dw_pipeline_model(const dw_pipeline *p) { return p->model; }
double dw_pipeline_time(const dw_pipeline *p) { return (double)p->out_frames / DW_FS; }

/* Validity of epoch e from the verdicts of its seconds. */
static void judge(const dw_pipeline *p, long long e, dw_epoch_result *r, int *parietal_ok)
{
    int pbad = 0;
    for (long s = (long)e * DW_EPOCH_S; s < (long)(e + 1) * DW_EPOCH_S; s++) {
        unsigned f = sec_flags(p, s, 0), g2 = p->parietal >= 0 ? sec_flags(p, s, 1) : 0;
        for (int k = 0; k < DW_Q_NFLAGS; k++) {
            r->flag_s[0][k] += (f >> k) & 1;
            r->flag_s[1][k] += (g2 >> k) & 1;
        }
        r->bad |= f & (DW_Q_UNUSABLE | DW_Q_ARTEFACT);
        r->unusable_s += (f & DW_Q_UNUSABLE) != 0;
        r->artefact_s += (f & DW_Q_ARTEFACT) != 0 && !(f & DW_Q_UNUSABLE);
        if (p->parietal >= 0) {
            unsigned g = sec_flags(p, s, 1);
            pbad += (g & DW_Q_UNUSABLE) != 0 || (g & DW_Q_ARTEFACT) != 0;
        }
    }
    /* "mostly artefact" counts the unusable seconds too: 9 railed and 14 artefact seconds of a loose
     * electrode's noise are 23 bad seconds of 30, not a scorable epoch (it was staged W at p 1.00) */
    r->valid = r->unusable_s <= DW_EPOCH_UNUSABLE_S && r->unusable_s + r->artefact_s < DW_EPOCH_ARTEFACT_S;
    if (r->valid)
        r->bad = 0;
    *parietal_ok = pbad <= DW_EPOCH_UNUSABLE_S;
}

/* The stand-in stager sees every epoch, in order, as the main one does; but its labels are wanted
 * only for epochs whose parietal channel is unusable (on most nights none), so epochs wait in
 * alt_log and go through it when a label is wanted or the log is full (its state, hence every
 * label, is the same as if it had seen each epoch at once; a log full after 12 h bounds the
 * memory). Its label when wanted, else DW_UNSCORED. On a night with a good parietal channel this
 * saves the stand-in's evaluation, a third of the stagers' cost (bench_stager: eeg 46 us, fpz_pz
 * 99 us of CPU per epoch); the price is one catch-up of at most ALT_BACKLOG epochs (about 0.1 s)
 * in the epoch where the parietal channel first fails. */
static int alt_push(dw_pipeline *p, const dw_epoch_result *r, int wanted, double prob[DW_NSTAGES])
{
    if (!wanted && p->alt_behind < ALT_BACKLOG) {
        struct alt_epoch *e = &p->alt_log[p->alt_behind++];
        memcpy(e->feat, r->feat, sizeof e->feat);
        e->valid = r->valid;
        return DW_UNSCORED;
    }
    for (int i = 0; i < p->alt_behind; i++)
        dw_stager_push(p->alt, p->alt_log[i].feat, p->alt_log[i].valid, prob);
    p->alt_behind = 0;
    int stage = dw_stager_push(p->alt, r->feat, r->valid, prob);
    return wanted ? stage : DW_UNSCORED;
}

static void finish_epoch(dw_pipeline *p)
{
    dw_epoch_result r;
    memset(&r, 0, sizeof r);
    r.epoch = (int)p->epoch_no;
    int parietal_ok = 1;
    judge(p, p->epoch_no, &r, &parietal_ok);
    if (r.valid) {
        dw_features_epoch(p->buf[p->cur][0], &r.feat[0], r.psd);
        if (p->ncols > 1)
            dw_features_epoch(p->buf[p->cur][1], &r.feat[1], NULL);
    }
    double alt[DW_NSTAGES];
    int alt_stage = p->alt ? alt_push(p, &r, r.valid && !parietal_ok, alt) : DW_UNSCORED;
    r.stage = dw_stager_push(p->stager, r.feat, r.valid && parietal_ok, r.prob);
    if (r.valid && !parietal_ok && p->alt) {
        memcpy(r.prob, alt, sizeof alt);
        r.stage = alt_stage;
        r.one_channel = 1;
    } else if (r.valid && !parietal_ok) {
        r.valid = 0;                             /* a given two-channel model has no stand-in */
        r.parietal_lost = 1;
    }
    if (!r.valid) {                              /* no probabilities: the stager's prediction through
                                                    the epoch is its prior, not a reading of it */
        r.stage = DW_UNSCORED;
        memset(r.prob, 0, sizeof r.prob);
    }
    r.distance = dw_stager_distance(p->stager);
    r.start_distance = dw_stager_start_distance(p->stager);
    r.unlike_training = dw_stager_unlike_training(p->stager);
    p->cur = !p->cur;
    p->fill = 0;
    p->epoch_no++;
    if (p->sink.epoch)
        p->sink.epoch(p->sink.ctx, &r);
}

/* n frames at DW_FS into the epoch (f frontal, q parietal or NULL), in runs that end at the epoch's
 * end. */
static void assemble(dw_pipeline *p, const double *f, const double *q, int n)
{
    while (n > 0) {
        int m = n < DW_EPOCH_N - p->fill ? n : DW_EPOCH_N - p->fill;
        memcpy(p->buf[p->cur][0] + p->fill, f, (size_t)m * sizeof *f);
        if (q)
            memcpy(p->buf[p->cur][1] + p->fill, q, (size_t)m * sizeof *q);
        else
            memset(p->buf[p->cur][1] + p->fill, 0, (size_t)m * sizeof *q);
        f += m;
        q = q ? q + m : NULL;
        n -= m;
        p->ring_total += m;
        p->fill += m;
        if (p->fill == DW_EPOCH_N)
            finish_epoch(p);
    }
}

/* Resampled outputs r0.. (channel-major in p->out, n each): drop the delay, deliver. */
static void deliver(dw_pipeline *p, size_t n, long long limit)
{
    size_t drop = (size_t)(p->skip < (long)n ? p->skip : (long)n);
    p->skip -= (long)drop;
    if (limit >= 0 && (long long)(n - drop) > limit - p->out_frames)
        n = drop + (size_t)(limit - p->out_frames > 0 ? limit - p->out_frames : 0);
    if (n <= drop)
        return;
    size_t k = n - drop;
    const double *f = p->out + (size_t)p->col_of[0] * p->outcap + drop;
    const double *q = p->col_of[1] >= 0 ? p->out + (size_t)p->col_of[1] * p->outcap + drop : NULL;
    if (p->sink.frames && p->nres == p->nch) {
        for (size_t i = 0; i < k; i++)
            for (int c = 0; c < p->nch; c++)
                p->frames[i * (size_t)p->nch + c] = p->out[(size_t)c * p->outcap + drop + i];
        p->sink.frames(p->sink.ctx, p->frames, (int)k, p->nch);
    }
    assemble(p, f, q, (int)k);
    p->out_frames += (long long)k;
}

/* Feed n frames (frame-major, nch wide; x NULL: hold the last values) through the resamplers. */
static void resample(dw_pipeline *p, const double *x, long n, long long limit)
{
    const size_t nch = (size_t)p->nch;
    for (long i0 = 0; i0 < n; i0 += PIECE) {
        int k = n - i0 < PIECE ? (int)(n - i0) : PIECE;
        size_t got = 0;
        for (int r = 0; r < p->nres; r++) {
            int c = p->res_ch[r];
            const double *col = x ? x + (size_t)i0 * nch + (size_t)c : NULL;
            double *out = p->out + (size_t)r * p->outcap;
            double *dst = p->same_rate ? out : p->in;  /* no filter: straight to the output */
            if (col) {                         /* one column of the frames, contiguous */
                dw_frames_get_column(dst, x + (size_t)i0 * nch, (int)nch, c, k);
            } else {
                for (int i = 0; i < k; i++)
                    dst[i] = p->last[c];
            }
            got = p->same_rate ? (size_t)k
                               : dw_resampler_run(p->rs[r], p->in, (size_t)k, out, p->outcap);
        }
        if (x)
            memcpy(p->last, x + (size_t)(i0 + k - 1) * nch, nch * sizeof *x);
        deliver(p, got, limit);
    }
}

/* A stream (re)starts: the first frame held for p->pad frames ahead of it (see pad). */
static void start_stream(dw_pipeline *p, const double *first)
{
    p->pad_due = 0;
    if (first)
        memcpy(p->last, first, (size_t)p->nch * sizeof *first);
    if (p->pad > 0)
        resample(p, NULL, p->pad, -1);
}

int dw_pipeline_push(dw_pipeline *p, const dw_block *b)
{
    if (p->pad_due && (b->n > 0 || b->gap > 0))
        start_stream(p, b->n > 0 && !b->gap ? b->uv : NULL);
    /* The verdicts and the resampler in step, a piece at a time: an epoch is judged when its last frame
     * at DW_FS comes out, which needs the resampler's look-ahead of input, so verdicts of seconds past
     * it are already in the ring; a whole block's verdicts first (48 s of a 125-Hz source in score's
     * 6000-frame blocks, an hour-long gap) overwrote the first seconds of the epoch still waiting, which
     * then read as lost: every 8th epoch of a 125-Hz night unscored (found by a first-use test). */
    for (long g0 = 0; g0 < b->gap; g0 += PIECE) {
        long k = b->gap - g0 < PIECE ? b->gap - g0 : PIECE;
        dw_quality_gap(p->quality, k, on_quality, p);
        resample(p, NULL, k, -1);                /* held values through the filter, marked lost above */
    }
    if (b->gap > 0)
        p->src_frames += b->gap;
    for (int i0 = 0; i0 < b->n; i0 += PIECE) {
        int k = b->n - i0 < PIECE ? b->n - i0 : PIECE;
        const double *x = b->uv + (size_t)i0 * (size_t)p->nch;
        dw_quality_push(p->quality, x, k, on_quality, p);
        resample(p, x, k, -1);
    }
    if (b->n > 0)
        p->src_frames += b->n;
    return 0;
}

void dw_pipeline_finish(dw_pipeline *p)
{
    long long want = (long long)floor((double)p->src_frames * DW_FS / p->fs + 1e-6);
    long tail = (long)ceil(dw_resampler_delay_s(p->rs[0]) * p->fs) + 2;
    if (p->out_frames < want)
        resample(p, NULL, tail, want);
    /* A last epoch that ends early by no more than the validity rule allows (a third) is an epoch with a
     * few seconds missing, as a gap would leave it: completed with held values, judged by the same rule. */
    int missing = p->fill ? DW_EPOCH_N - p->fill : 0;
    if (missing > 0 && missing <= DW_EPOCH_UNUSABLE_S * DW_FS) {
        dw_quality_gap(p->quality, (long)ceil(missing * p->fs / DW_FS), on_quality, p);
        double f = p->buf[p->cur][0][p->fill - 1], q = p->buf[p->cur][1][p->fill - 1];
        for (int i = 0; i < missing; i++)
            assemble(p, &f, p->ncols > 1 ? &q : NULL, 1);
        p->out_frames += missing;
    }
}

int dw_pipeline_provisional(const dw_pipeline *p, double prob[DW_NSTAGES], int *stage)
{
    if (p->ring_total < DW_EPOCH_N)
        return 0;
    long now = (long)(p->out_frames / DW_FS);
    for (long s = now - DW_EPOCH_S; s < now; s++)
        if (sec_flags(p, s, 0) & DW_Q_UNUSABLE)
            return 0;
    static double x[2][DW_EPOCH_N];       /* the worker's thread only; 48 KB off the stack */
    int k = p->fill;                      /* the last 30 s: the epoch before from k, this to k */
    for (int c = 0; c < p->ncols; c++) {
        memcpy(x[c], p->buf[!p->cur][c] + k, (size_t)(DW_EPOCH_N - k) * sizeof(double));
        memcpy(x[c] + (DW_EPOCH_N - k), p->buf[p->cur][c], (size_t)k * sizeof(double));
    }
    dw_features f[2];
    dw_features_epoch(x[0], &f[0], NULL);
    if (p->ncols > 1)
        dw_features_epoch(x[1], &f[1], NULL);
    *stage = dw_stager_peek(p->stager, f, prob);
    return 1;
}

int dw_pipeline_reposition(dw_pipeline *p, double t)
{
    long long sf = llround(t * p->fs), of = llround(t * DW_FS);
    for (int r = 0; r < p->nres; r++)
        dw_resampler_reset(p->rs[r]);
    dw_quality_reposition(p->quality, sf);
    p->src_frames = sf;
    p->out_frames = of;
    p->skip = p->skip0;
    p->pad_due = 1;
    p->ring_total = 0;
    for (int k = 0; k < SEC_RING; k++)
        p->sec_id[k] = -1;                       /* seconds before t in this epoch: never seen, lost */
    p->epoch_no = of / DW_EPOCH_N;
    p->fill = (int)(of % DW_EPOCH_N);
    memset(p->buf[p->cur], 0, sizeof p->buf[p->cur]);
    return 0;
}
