/* Epoch assembly for the stager: collects DW_FS samples into 30-s epochs, computes the features and
 * runs the causal stager. A ring of the last 30 s serves the provisional label. */
#include "staging/pipeline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct dw_scoring {
    dw_stager *stager;
    int nch;
    double railed_uv;
    double epoch[2][DW_EPOCH_N];        /* the epoch being filled */
    int fill;                           /* samples in epoch[] */
    int missing;                        /* of those, lost or railed */
    long frames;                        /* epoch clock */
    double ring[2][DW_EPOCH_N];         /* last 30 s, for the provisional label */
    long ring_total;
    double last[2];
};

dw_scoring *dw_scoring_new(const dw_model *m, double railed_uv)
{
    dw_scoring *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->stager = dw_stager_new(m);
    if (!s->stager) {
        free(s);
        return NULL;
    }
    s->nch = dw_model_channels(m);
    s->railed_uv = railed_uv;
    return s;
}

void dw_scoring_free(dw_scoring *s)
{
    if (!s)
        return;
    dw_stager_free(s->stager);
    free(s);
}

int dw_scoring_channels(const dw_scoring *s) { return s->nch; }
long dw_scoring_frames(const dw_scoring *s) { return s->frames; }

/* An epoch counts when at least two thirds of it is real, unrailed signal. */
static void finish_epoch(dw_scoring *s, void (*on_epoch)(void *, const dw_epoch_result *), void *ctx)
{
    dw_epoch_result r;
    memset(&r, 0, sizeof r);
    r.epoch = (int)(s->frames / DW_EPOCH_N) - 1;
    r.valid = s->missing <= DW_EPOCH_N / 3;
    dw_features_epoch(s->epoch[0], &r.feat[0], r.psd);
    if (s->nch > 1)
        dw_features_epoch(s->epoch[1], &r.feat[1], NULL);
    r.stage = dw_stager_push(s->stager, r.feat, r.valid, r.prob);
    s->fill = 0;
    s->missing = 0;
    if (on_epoch)
        on_epoch(ctx, &r);
}

static void put(dw_scoring *s, double f, double p, int lost)
{
    int railed = s->railed_uv > 0 && (fabs(f) >= s->railed_uv || (s->nch > 1 && fabs(p) >= s->railed_uv));
    s->epoch[0][s->fill] = f;
    s->epoch[1][s->fill] = p;
    s->fill++;
    s->missing += lost || railed;
    long k = s->ring_total % DW_EPOCH_N;
    s->ring[0][k] = f;
    s->ring[1][k] = p;
    s->ring_total++;
    s->frames++;
}

int dw_scoring_push(dw_scoring *s, const double *frontal, const double *parietal, int n,
                    void (*on_epoch)(void *, const dw_epoch_result *), void *ctx)
{
    int done = 0;
    for (int i = 0; i < n; i++) {
        s->last[0] = frontal[i];
        s->last[1] = parietal ? parietal[i] : 0;
        put(s, s->last[0], s->last[1], 0);
        if (s->fill == DW_EPOCH_N) {
            finish_epoch(s, on_epoch, ctx);
            done++;
        }
    }
    return done;
}

/* Lost samples hold the last value: a flat stretch adds no spectral power, and the epoch is
 * marked invalid when the stretch is long. */
int dw_scoring_gap(dw_scoring *s, long n, void (*on_epoch)(void *, const dw_epoch_result *), void *ctx)
{
    int done = 0;
    while (n > 0) {
        if (s->fill == 0 && n >= DW_EPOCH_N) {          /* a whole epoch lost */
            s->frames += DW_EPOCH_N;
            s->ring_total = 0;
            dw_epoch_result r;
            memset(&r, 0, sizeof r);
            r.epoch = (int)(s->frames / DW_EPOCH_N) - 1;
            r.stage = dw_stager_push(s->stager, r.feat, 0, r.prob);
            if (on_epoch)
                on_epoch(ctx, &r);
            n -= DW_EPOCH_N;
            done++;
            continue;
        }
        put(s, s->last[0], s->last[1], 1);
        n--;
        if (s->fill == DW_EPOCH_N) {
            finish_epoch(s, on_epoch, ctx);
            done++;
        }
    }
    return done;
}

int dw_scoring_provisional(const dw_scoring *s, double prob[DW_NSTAGES], int *stage)
{
    if (s->ring_total < DW_EPOCH_N)
        return 0;
    double x[2][DW_EPOCH_N];
    long start = s->ring_total % DW_EPOCH_N;   /* oldest sample */
    for (int c = 0; c < s->nch; c++) {
        memcpy(x[c], s->ring[c] + start, (size_t)(DW_EPOCH_N - start) * sizeof(double));
        memcpy(x[c] + (DW_EPOCH_N - start), s->ring[c], (size_t)start * sizeof(double));
    }
    dw_features f[2];
    dw_features_epoch(x[0], &f[0], NULL);
    if (s->nch > 1)
        dw_features_epoch(x[1], &f[1], NULL);
    *stage = dw_stager_peek(s->stager, f, prob);
    return 1;
}

void dw_scoring_reposition(dw_scoring *s, long frame)
{
    s->frames = frame - frame % DW_EPOCH_N;
    s->fill = 0;
    s->missing = 0;
    s->ring_total = 0;
    /* Skip the partial epoch: frames up to the next boundary are dropped by the caller's replay. */
    if (frame % DW_EPOCH_N) {
        long skip = DW_EPOCH_N - frame % DW_EPOCH_N;
        s->frames = frame;
        s->fill = (int)(DW_EPOCH_N - skip);
        s->missing = s->fill;                 /* never seen: counts as missing */
        memset(s->epoch, 0, sizeof s->epoch);
    }
}
