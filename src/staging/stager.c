/* The causal stager: per-night state that runs a model epoch by epoch using only the past.
 * Same arithmetic, in the same order, as tools/stager_lib.py (run_night), so the two agree to ~1e-12. */
#include "staging/model_impl.h"

#include "base/dw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct dw_stager {
    const dw_model *m;
    double lam;                /* per-epoch decay of the running centre */
    double *S, W;              /* centre = S / W per feature */
    double *ring;              /* normalised features of the last maxwin valid epochs */
    int count, head;           /* epochs in ring, slot of the newest */
    double alpha[DW_NSTAGES];  /* filtered stage probabilities */
    double olam, oS, oW;       /* the night's distance from the training data = oS / oW */
    double dsum;               /* the per-epoch distances of the first usable epochs, summed ... */
    int dn;                    /* ... over this many (dw_stager_start_distance) */
};

/* One epoch's evaluation, kept apart from the state so that peek can run it too. */
struct step {
    double z[DW_MODEL_MAXFEAT], S[DW_MODEL_MAXFEAT], W;
    double oS, oW, d;
    double post[DW_NSTAGES];
};

dw_stager *dw_stager_new(const dw_model *m)
{
    dw_stager *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->m = m;
    s->S = malloc((size_t)m->nfeat * sizeof *s->S);
    s->ring = malloc((size_t)m->maxwin * (size_t)m->nfeat * sizeof *s->ring);
    if (!s->S || !s->ring) {
        dw_stager_free(s);
        return NULL;
    }
    s->lam = pow(0.5, 1.0 / (m->halflife > 0 ? m->halflife : 1));
    for (int k = 0; k < m->nfeat; k++)
        s->S[k] = m->feat[k].prior * m->weight0;
    s->W = m->weight0;
    memcpy(s->alpha, m->init, sizeof s->alpha);
    if (m->has_ood) {
        s->olam = pow(0.5, 1.0 / m->ood_halflife);
        s->oS = m->ood_prior * m->ood_weight;
        s->oW = m->ood_weight;
    }
    return s;
}

void dw_stager_free(dw_stager *s)
{
    if (!s)
        return;
    free(s->S);
    free(s->ring);
    free(s);
}

/* Sum of base features; weight is the running centre's evidence weight, this epoch included. */
static double sum_terms(const dw_features *feats, const int *t, int n, double weight)
{
    double v = 0;
    for (int i = 0; i < n; i++)
        v += t[i] == DW_MODEL_TERM_WEIGHT ? weight
                                          : dw_model_base(&feats[t[i] / DW_MODEL_NBASE], t[i] % DW_MODEL_NBASE);
    return v + DW_MODEL_FLOOR;
}

/* Row r's sum from its four lane sums S (taps i, i+4, ...): (a0 + a1) + (a2 + a3) + bias, the taps
 * past the last whole four into a0. A macro, not a function: a vector passed by value to a function
 * outside the AVX clone would change the ABI. */
#define ROW_FINISH(S, W, IN, I, NIN)                                                         \
    ({                                                                                       \
        double a0_ = (S)[0], a1_ = (S)[1], a2_ = (S)[2], a3_ = (S)[3];                       \
        for (int t_ = (I); t_ < (NIN); t_++)                                                 \
            a0_ += (W)[1 + t_] * (IN)[t_];                                                   \
        (a0_ + a1_) + (a2_ + a3_) + (W)[0];                                                  \
    })

/* The weighted sums of one layer: for each output r, w[0] + the sum of w[1 + i] * in[i], as four
 * independent sums (taps i, i+4, ...) so the adds pipeline instead of each waiting on the one
 * before (0.39 -> 0.33 s CPU for score of the sample night, the same CSV: measured, issue 16), held
 * in the four lanes of a vector, one operation doing the four sums' work in the same order: the
 * same bits in the AVX and the baseline builds (DW_AVX_CLONES; test_stager; the sample night's CSV
 * byte-identical). Four rows are summed side by side (each row's own sums in its own order, so the
 * same bits as one row at a time): four independent chains of adds and one load of the input for
 * four rows (layer sums 12 % -> 5 % of score's time: perf, issue 16). */
DW_AVX_CLONES
static void layer_sums(const struct dw_mlayer *ly, const double *in, double *out)
{
    const size_t stride = (size_t)ly->stride;
    int r = 0, nin = ly->nin;
    for (; r + 4 <= ly->nout; r += 4) {
        const double *w0 = ly->w + (size_t)r * stride, *w1 = w0 + stride, *w2 = w1 + stride,
                     *w3 = w2 + stride;
        dw_v4d s0 = { 0, 0, 0, 0 }, s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        for (; i + 4 <= nin; i += 4) {
            dw_v4d iv, x0, x1, x2, x3;
            memcpy(&iv, in + i, sizeof iv);
            memcpy(&x0, w0 + 1 + i, sizeof x0);
            memcpy(&x1, w1 + 1 + i, sizeof x1);
            memcpy(&x2, w2 + 1 + i, sizeof x2);
            memcpy(&x3, w3 + 1 + i, sizeof x3);
            s0 += x0 * iv;
            s1 += x1 * iv;
            s2 += x2 * iv;
            s3 += x3 * iv;
        }
        out[r] = ROW_FINISH(s0, w0, in, i, nin);
        out[r + 1] = ROW_FINISH(s1, w1, in, i, nin);
        out[r + 2] = ROW_FINISH(s2, w2, in, i, nin);
        out[r + 3] = ROW_FINISH(s3, w3, in, i, nin);
    }
    for (; r < ly->nout; r++) {
        const double *w = ly->w + (size_t)r * stride;
        dw_v4d s = { 0, 0, 0, 0 };
        int i = 0;
        for (; i + 4 <= nin; i += 4) {
            dw_v4d iv, x;
            memcpy(&iv, in + i, sizeof iv);
            memcpy(&x, w + 1 + i, sizeof x);
            s += x * iv;
        }
        out[r] = ROW_FINISH(s, w, in, i, nin);
    }
}

static void layer_run(const struct dw_mlayer *ly, const double *in, double *out)
{
    layer_sums(ly, in, out);
    for (int r = 0; r < ly->nout; r++)
        out[r] = ly->act == DW_ACT_RELU ? fmax(out[r], 0) : ly->act == DW_ACT_TANH ? tanh(out[r])
                                                                                   : out[r];
    if (ly->act == DW_ACT_SOFTMAX) {
        double mx = out[0], sum = 0;
        for (int r = 1; r < ly->nout; r++)
            mx = fmax(mx, out[r]);
        for (int r = 0; r < ly->nout; r++)
            sum += out[r] = exp(out[r] - mx);
        for (int r = 0; r < ly->nout; r++)
            out[r] /= sum;
    }
}

/* Window statistic over the ring's last w-1 values of feature k and the new value v: the values
 * oldest first (as the Python sum), as the two runs of slots they fill (to the ring's end, then on
 * from its start), not a division or a wrap test per value. */
static double window_stat(const dw_stager *s, int k, int op, int w, double v)
{
    const dw_model *m = s->m;
    const size_t nf = (size_t)m->nfeat;
    const double *ring = s->ring + (size_t)k;
    int n = w - 1 < s->count ? w - 1 : s->count;
    int first = (s->head - n + 1 + m->maxwin) % m->maxwin;   /* slot of the oldest value used */
    double acc = 0, mean;
    int end1 = first + n < m->maxwin ? first + n : m->maxwin;   /* up to the ring's end, then ... */
#define DW_RING_EACH(X, BODY)                                                                   \
    for (int j_ = first; j_ < end1; j_++) {                                                     \
        double X = ring[(size_t)j_ * nf];                                                       \
        BODY;                                                                                   \
    }                                                                                           \
    for (int j_ = 0; j_ < n - (end1 - first); j_++) {     /* ... on from its start */           \
        double X = ring[(size_t)j_ * nf];                                                       \
        BODY;                                                                                   \
    }
    switch (op) {
    case DW_OP_MIN:
    case DW_OP_MAX:
        acc = v;
        DW_RING_EACH(x, acc = op == DW_OP_MIN ? fmin(acc, x) : fmax(acc, x));
        return acc;
    default:
        DW_RING_EACH(x, acc += x);
        acc += v;
        mean = acc / (n + 1);
        if (op == DW_OP_MEAN)
            return mean;
        acc = 0;
        DW_RING_EACH(x, acc += (x - mean) * (x - mean));
        acc += (v - mean) * (v - mean);
        return sqrt(acc / (n + 1));
    }
#undef DW_RING_EACH
}

/* The night's distance after this epoch's columns: per-epoch mean of min(col^2, cap) into an
 * exponentially weighted mean; then, with a 'calibrate' line, the posterior tempered by it
 * (p^(1/T), renormalised) and mixed with the uniform distribution (MODEL_FORMAT.md, versions 3
 * and 4). */
static void distance_and_calibrate(const dw_stager *s, const double *col, struct step *st)
{
    const dw_model *m = s->m;
    double d = 0, sum = 0;
    for (int j = 0; j < m->ncol; j++)
        d += fmin(col[j] * col[j], m->ood_cap);
    d /= m->ncol;
    st->d = d;
    st->oS = s->olam * s->oS + d;
    st->oW = s->olam * s->oW + 1.0;
    if (!m->has_cal)
        return;
    double excess = fmax(st->oS / st->oW - m->ood_prior, 0.0);
    double T = m->cal_t0 + m->cal_slope * excess, e = 1.0 - exp(-m->cal_mix * excess);
    for (int k = 0; k < DW_NSTAGES; k++)
        sum += st->post[k] = pow(st->post[k], 1.0 / T);
    for (int k = 0; k < DW_NSTAGES; k++)
        st->post[k] = (1.0 - e) * (st->post[k] / sum) + e / 5.0;
}

/* Features -> normalised features -> context columns -> classifier posterior. -1 if unusable. */
static int evaluate(const dw_stager *s, const dw_features *feats, struct step *st)
{
    const dw_model *m = s->m;
    double col[DW_MODEL_MAXCOL], h[2][DW_MODEL_MAXWIDTH];
    st->W = s->lam * s->W + 1.0;
    for (int k = 0; k < m->nfeat; k++) {
        const struct dw_mfeature *f = &m->feat[k];
        double num = sum_terms(feats, f->num, f->nnum, st->W);
        double den = f->nden ? sum_terms(feats, f->den, f->nden, st->W) : 1.0;
        double x = f->scale * log(num / den);
        if (!isfinite(x))
            return -1;
        if (f->norm == DW_NORM_CENTER) {
            double c = s->S[k] / s->W;
            st->S[k] = s->lam * s->S[k] + fmin(fmax(x, c - m->clip), c + m->clip);
            st->z[k] = x - st->S[k] / st->W;
        } else {
            st->S[k] = s->S[k];
            st->z[k] = x;
        }
    }
    double lim = m->has_cal ? sqrt(m->ood_cap) : INFINITY;   /* calibrated: columns clipped */
    for (int j = 0; j < m->ncol; j++) {
        const struct dw_mcolumn *c = &m->col[j];
        col[j] = (window_stat(s, c->feat, c->op, c->window, st->z[c->feat]) - c->mu) / c->sd;
        col[j] = fmin(fmax(col[j], -lim), lim);
    }
    memset(st->post, 0, sizeof st->post);
    for (int n = 0; n < m->nnet; n++) {
        const double *in = col;
        for (int l = 0; l < m->net[n].nlayers; l++) {
            layer_run(&m->net[n].layer[l], in, h[l & 1]);
            in = h[l & 1];
        }
        for (int k = 0; k < DW_NSTAGES; k++)
            st->post[k] += in[k];
    }
    for (int k = 0; k < DW_NSTAGES; k++)
        st->post[k] /= m->nnet;
    if (m->has_ood)
        distance_and_calibrate(s, col, st);
    return 0;
}

/* One forward-filter step: predict through the transition matrix, then weigh by the tempered
 * scaled likelihood post/prior when there is an observation. Returns the most probable stage. */
static int filter(const dw_model *m, const double *alpha, const double *post, double out[DW_NSTAGES])
{
    double pred[DW_NSTAGES], a[DW_NSTAGES], sum = 0;
    for (int j = 0; j < DW_NSTAGES; j++) {
        pred[j] = 0;
        for (int i = 0; i < DW_NSTAGES; i++)
            pred[j] += alpha[i] * m->trans[i][j];
    }
    for (int j = 0; j < DW_NSTAGES; j++)
        sum += a[j] = post ? pred[j] * pow(post[j] / m->priors[j], m->temper) : pred[j];
    int best = 0;
    for (int j = 0; j < DW_NSTAGES; j++) {
        out[j] = sum > 0 && isfinite(sum) ? a[j] / sum : pred[j];
        if (out[j] > out[best])
            best = j;
    }
    return best;
}

int dw_stager_push(dw_stager *s, const dw_features *feats, int valid, double prob[DW_NSTAGES])
{
    struct step st;
    double out[DW_NSTAGES];
    int ok = valid && feats && evaluate(s, feats, &st) == 0;
    int best = filter(s->m, s->alpha, ok ? st.post : NULL, out);
    memcpy(s->alpha, out, sizeof out);
    if (prob)
        memcpy(prob, out, sizeof out);
    if (ok) {
        const dw_model *m = s->m;
        memcpy(s->S, st.S, (size_t)m->nfeat * sizeof *s->S);
        s->W = st.W;
        s->oS = st.oS;
        s->oW = st.oW;
        if (m->has_ood && s->dn < m->ood_weight) {
            s->dsum += st.d;
            s->dn++;
        }
        s->head = (s->head + 1) % m->maxwin;
        memcpy(s->ring + (size_t)s->head * (size_t)m->nfeat, st.z, (size_t)m->nfeat * sizeof *st.z);
        if (s->count < m->maxwin)
            s->count++;
    }
    return best;
}

int dw_stager_peek(const dw_stager *s, const dw_features *feats, double prob[DW_NSTAGES])
{
    struct step st;
    double out[DW_NSTAGES];
    int ok = feats && evaluate(s, feats, &st) == 0;
    int best = filter(s->m, s->alpha, ok ? st.post : NULL, out);
    if (prob)
        memcpy(prob, out, sizeof out);
    return best;
}

double dw_stager_distance(const dw_stager *s)
{
    return s->m->has_ood ? s->oS / s->oW : 0.0;
}

double dw_stager_start_distance(const dw_stager *s)
{
    return s->m->ood_start > 0 && s->dn > 0 && s->dn < s->m->ood_weight ? s->dsum / s->dn : 0.0;
}

int dw_stager_unlike_training(const dw_stager *s)
{
    const dw_model *m = s->m;
    return m->has_ood && (s->oS / s->oW > m->ood_threshold ||
                          (m->ood_start > 0 && dw_stager_start_distance(s) > m->ood_start));
}

void dw_unlike_tally_add(dw_unlike_tally *t, double distance, double start_distance, int unlike)
{
    t->epochs++;
    t->flagged += unlike != 0;
    t->max_distance = fmax(t->max_distance, distance);
    t->max_start = fmax(t->max_start, start_distance);
}

void dw_print_unlike_note(FILE *f, const char *prefix, const dw_model *m, const dw_unlike_tally *t)
{
    if (t->flagged == 0)
        return;
    if (t->max_distance > m->ood_threshold || !(t->max_start > m->ood_start))
        fprintf(f, "%snote: signal unlike the training data of model %s: agreement may be low (its "
                   "distance, the mean squared standardised classifier input with a half-life of "
                   "%.0f min, was above %g in %ld of %ld staged epochs; at most %.1f, about 1 on "
                   "the training nights)\n",
                   prefix, m->name, m->ood_halflife * DW_EPOCH_S / 60.0, m->ood_threshold,
                   t->flagged, t->epochs, t->max_distance);
    else
        fprintf(f, "%snote: signal unlike the training data of model %s: agreement may be low (the "
                   "mean squared standardised classifier input over the first epochs was up to "
                   "%.1f, above %g, which 1 in 1000 stretches of the training nights reach, in %ld "
                   "of %ld staged epochs; about 1 on the training nights): the stages are not to "
                   "be trusted; check the derivation (Fpz-Cz-like), the electrodes and a high-pass "
                   "filter\n",
                   prefix, m->name, t->max_start, m->ood_start, t->flagged, t->epochs);
}
