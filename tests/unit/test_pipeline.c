/* The staging pipeline and the quality verdict it carries: the delay of the resampler removed (a 250 Hz
 * sine comes out at 100 Hz on time), block-size invariance, epoch boundaries at 30 s of source time, gaps
 * and seeks, the verdict's flags (flat, railed, artefact, out of range, lost, mains), epoch validity from
 * it (a flat frontal channel is never a confident stage), the one-channel stand-in when only the parietal
 * channel is bad, the provisional label withheld over bad signal, and the refusal of slow sources. */
#include "tap.h"
#include "noise.h"

#include "dsp/quality.h"
#include "staging/pipeline.h"

#define PI 3.14159265358979323846

static dw_source_info info(double fs, int nch)
{
    dw_source_info in;
    memset(&in, 0, sizeof in);
    in.nch = nch;
    in.fs = fs;
    in.frontal = 0;
    in.parietal = nch > 1 ? 1 : -1;
    for (int c = 0; c < nch; c++) {
        snprintf(in.label[c], DW_LABEL_LEN, "Ch%d", c + 1);
        in.phys_lo[c] = -187500;
        in.phys_hi[c] = 187500;
    }
    return in;
}

/* ---- collecting outputs ---- */
#define MAXF 200000
#define MAXE 400
struct out {
    double f[MAXF], f1[MAXF];       /* channels 0 and 1 at 100 Hz */
    long nf;
    dw_epoch_result e[MAXE];
    int ne;
    long nsec;
    unsigned flags_or[DW_MAX_CH];
    long flagged[DW_MAX_CH][6];     /* seconds with each flag bit */
    float mains1[120];              /* Ch2's mains ratio, seconds 0-119 */
};
static struct out A, B;

static void on_frames(void *ctx, const double *x, int n, int nch)
{
    struct out *o = ctx;
    for (int i = 0; i < n && o->nf < MAXF; i++) {
        o->f1[o->nf] = nch > 1 ? x[i * nch + 1] : 0;
        o->f[o->nf++] = x[i * nch];
    }
}
static void on_epoch(void *ctx, const dw_epoch_result *r)
{
    struct out *o = ctx;
    if (o->ne < MAXE)
        o->e[o->ne++] = *r;
}
static void on_quality(void *ctx, const dw_quality_second *q)
{
    struct out *o = ctx;
    o->nsec++;
    if (q->second >= 0 && q->second < 120 && q->nch > 1)
        o->mains1[q->second] = q->mains_ratio[1];
    for (int c = 0; c < q->nch; c++) {
        o->flags_or[c] |= q->flag[c];
        for (int b = 0; b < 6; b++)
            o->flagged[c][b] += (q->flag[c] >> b) & 1;
    }
}

static dw_pipeline *make(struct out *o, const dw_source_info *in, int display, int mains)
{
    memset(o, 0, sizeof *o);
    dw_pipeline_opts po = { .display = display, .quality = { 500, 1, mains } };
    dw_pipeline_sink sk = { on_epoch, on_quality, on_frames, o };
    dw_err err = { 0 };
    dw_pipeline *p = dw_pipeline_new(in, &po, &sk, &err);
    if (!p)
        printf("# %s\n", err.msg);
    return p;
}

/* Sleep-like EEG on two channels, with optional faults on channel ch from t0 to t1. */
enum { F_NONE, F_FLAT, F_RAIL, F_ART, F_MAINS, F_NAN };
static double sig(double t, int c, int fault, int fch, double t0, double t1)
{
    double v = 30 * sin(2 * PI * 1.1 * t + c) + 15 * sin(2 * PI * 6.3 * t) + 8 * sin(2 * PI * 12.5 * t + c)
             + 6 * noise_gauss() + 3000;            /* DC, as a Cyton has */
    if (c == fch && t >= t0 && t < t1) {
        switch (fault) {
        case F_FLAT: return 3000;
        case F_RAIL: return 187500;
        case F_ART: return v + 900 * sin(2 * PI * 3 * t);
        case F_MAINS: return v + 200 * sin(2 * PI * 50 * t);
        case F_NAN: return NAN;
        }
    }
    return v;
}

/* Push secs seconds at fs in blocks of bs frames (gap frames lost before the block at frame gap_at). */
static void feed(dw_pipeline *p, double fs, int nch, double secs, int bs, int fault, int fch, double t0, double t1,
                 long gap_at, long gap_n)
{
    static double buf[60000 * 2];
    long total = (long)(secs * fs), k = 0;
    noise_state = 0x9E3779B97F4A7C15ULL;
    while (k < total) {
        int n = total - k < bs ? (int)(total - k) : bs;
        long gap = 0;
        if (gap_n && k <= gap_at && k + n > gap_at) {
            n = (int)(gap_at - k);
            if (n == 0) {
                gap = gap_n;
                k += gap_n;
                n = total - k < bs ? (int)(total - k) : bs;
            }
        }
        for (int i = 0; i < n; i++)
            for (int c = 0; c < nch; c++)
                buf[i * nch + c] = sig((k + i) / fs, c, fault, fch, t0, t1);
        dw_block b = { .n = n, .uv = buf, .t0 = k / fs, .gap = gap };
        dw_pipeline_push(p, &b);
        k += n;
    }
}

static void test_delay_removed(void)
{
    /* A 250 Hz 5 Hz sine, through the pipeline to 100 Hz: on time (within 2 ms) and full amplitude. */
    dw_source_info in = info(250, 2);
    dw_pipeline *p = make(&A, &in, 1, 0);
    static double buf[250 * 2];
    for (int s = 0; s < 40; s++) {
        for (int i = 0; i < 250; i++) {
            double t = s + i / 250.0;
            buf[i * 2] = buf[i * 2 + 1] = 40 * sin(2 * PI * 5 * t);
        }
        dw_block b = { .n = 250, .uv = buf, .t0 = s };
        dw_pipeline_push(p, &b);
    }
    dw_pipeline_finish(p);
    double a = 0, c = 0;
    for (long i = 500; i < 3500; i++) {
        double t = i / 100.0;
        a += A.f[i] * sin(2 * PI * 5 * t);
        c += A.f[i] * cos(2 * PI * 5 * t);
    }
    double amp = hypot(a, c) * 2 / 3000, lag_ms = -atan2(c, a) / (2 * PI * 5) * 1000;
    CHECK("250 Hz in, 100 Hz out: every frame, delay pushed out at the end", A.nf == 4000, "%ld frames", A.nf);
    CHECK("250 Hz in, 100 Hz out: on time (the resampler's 0.2 s delay removed)", fabs(lag_ms) < 2,
          "lag %.2f ms", lag_ms);
    CHECK("250 Hz in, 100 Hz out: amplitude kept", fabs(amp - 40) < 0.4, "%.2f uV", amp);
    CHECK("one epoch at 30 s", A.ne == 1 && A.e[0].epoch == 0, "%d epochs", A.ne);
    dw_pipeline_free(p);
}

static void test_blocks_do_not_matter(void)
{
    dw_source_info in = info(250, 2);
    int ok = 1, sizes[] = { 1, 7, 250, 4096 };
    dw_pipeline *p = make(&A, &in, 0, 1);
    feed(p, 250, 2, 190, 33, F_ART, 0, 61, 75, 0, 0);
    dw_pipeline_free(p);
    for (int k = 0; k < 4 && ok; k++) {
        p = make(&B, &in, 0, 1);
        feed(p, 250, 2, 190, sizes[k], F_ART, 0, 61, 75, 0, 0);
        dw_pipeline_free(p);
        ok = A.ne == B.ne && A.nsec == B.nsec;
        for (int e = 0; e < A.ne && ok; e++)
            ok = A.e[e].stage == B.e[e].stage && !memcmp(A.e[e].prob, B.e[e].prob, sizeof A.e[e].prob) &&
                 A.e[e].artefact_s == B.e[e].artefact_s;
    }
    CHECK("labels, probabilities and verdicts do not depend on how the stream is cut", ok && A.ne == 6,
          "%d vs %d epochs", A.ne, B.ne);
}

/* Blocks longer than the verdict ring (64 s): score reads 6000 frames at a time, 48 s of a 125-Hz
 * source, and a gap may be an hour. Every epoch of clean signal is scored whatever the cut, and the same
 * as in small blocks; with an 80-s gap, only the epochs it covers are unscored. (Before the fix, every
 * 8th epoch of a 125-Hz night read in score's blocks was unscored: its first seconds read as lost.) */
static void test_long_blocks(void)
{
    dw_source_info in = info(125, 2);
    int sizes[] = { 6000, 37500 }, ok = 1, valid_a = 0;
    dw_pipeline *p = make(&A, &in, 0, 1);
    feed(p, 125, 2, 300, 25, F_NONE, 0, 0, 0, 0, 0);
    dw_pipeline_finish(p);
    dw_pipeline_free(p);
    for (int e = 0; e < A.ne; e++)
        valid_a += A.e[e].valid;
    for (int k = 0; k < 2 && ok; k++) {
        p = make(&B, &in, 0, 1);
        feed(p, 125, 2, 300, sizes[k], F_NONE, 0, 0, 0, 0, 0);
        dw_pipeline_finish(p);
        dw_pipeline_free(p);
        ok = A.ne == B.ne;
        for (int e = 0; e < A.ne && ok; e++)
            ok = B.e[e].valid && A.e[e].stage == B.e[e].stage &&
                 !memcmp(A.e[e].prob, B.e[e].prob, sizeof A.e[e].prob);
    }
    CHECK("125 Hz in 48-s and 300-s blocks: every epoch scored, as in 0.2-s blocks", ok && A.ne == 10 &&
          valid_a == 10, "%d and %d epochs, %d valid in small blocks", A.ne, B.ne, valid_a);
    /* an 80-s gap at 100 s (seconds 100-179 lost): epochs 3-5 unscored, the others scored */
    p = make(&A, &in, 0, 1);
    feed(p, 125, 2, 300, 6000, F_NONE, 0, 0, 0, 12500, 10000);
    dw_pipeline_finish(p);
    dw_pipeline_free(p);
    int bad = 0;
    for (int e = 0; e < A.ne; e++)
        bad += A.e[e].valid != (e < 3 || e > 5);
    CHECK("an 80-s gap in 48-s blocks: only the epochs it covers unscored", A.ne == 10 && bad == 0,
          "%d epochs, %d judged wrongly", A.ne, bad);
}

static void test_verdict(void)
{
    struct { const char *name; int fault; unsigned flag; } cases[] = {
        { "flat", F_FLAT, DW_Q_FLAT }, { "railed", F_RAIL, DW_Q_RAILED }, { "artefact", F_ART, DW_Q_ARTEFACT },
        { "mains", F_MAINS, DW_Q_MAINS }, { "out of range (NaN)", F_NAN, DW_Q_RANGE },
    };
    dw_source_info in = info(250, 2);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        dw_pipeline *p = make(&A, &in, 0, 1);
        feed(p, 250, 2, 60, 100, cases[k].fault, 1, 20, 30, 0, 0);
        dw_pipeline_free(p);
        int bit = __builtin_ctz(cases[k].flag);
        char name[80];
        snprintf(name, sizeof name, "verdict: %s on Ch2 for 10 s gives 10 seconds so flagged, none on Ch1",
                 cases[k].name);
        CHECK(name, A.flagged[1][bit] == 10 && !(A.flags_or[0] & cases[k].flag), "%ld seconds, Ch1 %x",
              A.flagged[1][bit], A.flags_or[0]);
    }
    /* The mains ratio by its definition (direct DFT of the Hann-windowed, mean-removed second: the
     * bins at 49-51 or 59-61 Hz, the larger, over those at 1-40 Hz), against the verdict's, which
     * takes one FFT per second at 250 Hz. */
    dw_pipeline *p = make(&A, &in, 0, 1);
    feed(p, 250, 2, 60, 100, F_MAINS, 1, 20, 30, 0, 0);
    dw_pipeline_free(p);
    static double x[60 * 250][2];
    noise_state = 0x9E3779B97F4A7C15ULL;                  /* as feed() draws it: frame by frame, Ch1 then Ch2 */
    for (int k = 0; k < 60 * 250; k++)
        for (int c = 0; c < 2; c++)
            x[k][c] = sig(k / 250.0, c, F_MAINS, 1, 20, 30);
    double worst = 0;
    for (int sec = 18; sec < 32; sec++) {
        double m = 0, band = 0, p50 = 0, p60 = 0, w[250];
        for (int i = 0; i < 250; i++)
            m += x[sec * 250 + i][1] / 250;
        for (int i = 0; i < 250; i++)
            w[i] = (x[sec * 250 + i][1] - m) * (0.5 - 0.5 * cos(2 * PI * i / 250));
        for (int f = 1; f <= 61; f++) {
            double re = 0, im = 0;
            for (int i = 0; i < 250; i++)
                re += w[i] * cos(2 * PI * f * i / 250), im -= w[i] * sin(2 * PI * f * i / 250);
            band += f <= 40 ? re * re + im * im : 0;
            p50 += f >= 49 && f <= 51 ? re * re + im * im : 0;
            p60 += f >= 59 ? re * re + im * im : 0;
        }
        double want = fmax(p50, p60) / band;
        worst = fmax(worst, fabs(A.mains1[sec] - want) / want);
    }
    CHECK("verdict: the mains ratio is the 49-51 (59-61) Hz over the 1-40 Hz power of the second (to 1e-5)",
          worst < 1e-5 && A.mains1[25] > 1, "worst relative difference %.2g (second 25: %g)", worst, A.mains1[25]);

    p = make(&A, &in, 0, 1);
    feed(p, 250, 2, 60, 100, F_NONE, 0, 0, 0, 2500, 500);
    dw_pipeline_free(p);
    CHECK("verdict: 2 s of lost frames at 10 s flag seconds 10 and 11 lost, on every channel",
          A.flagged[0][4] == 2 && A.flagged[1][4] == 2 && A.nsec == 60, "%ld %ld of %ld", A.flagged[0][4],
          A.flagged[1][4], A.nsec);
    p = make(&A, &in, 0, 1);
    feed(p, 250, 2, 60, 100, F_NONE, 0, 0, 0, 0, 0);
    dw_pipeline_free(p);
    CHECK("verdict: clean EEG with a 3 mV DC offset flags nothing", A.flags_or[0] == 0 && A.flags_or[1] == 0,
          "%x %x", A.flags_or[0], A.flags_or[1]);
}

static void test_validity(void)
{
    /* Flat frontal channel from 40 s: epochs 2.. unscored, never a stage; epoch 1 (30-60 s, 20 s flat) too. */
    dw_source_info in = info(100, 2);
    dw_pipeline *p = make(&A, &in, 0, 0);
    feed(p, 100, 2, 180, 500, F_FLAT, 0, 40, 1000, 0, 0);
    dw_pipeline_free(p);
    int bad = 0;
    for (int e = 1; e < A.ne; e++)
        bad += A.e[e].valid || A.e[e].stage != DW_UNSCORED || !(A.e[e].bad & DW_Q_FLAT);
    CHECK("flat frontal channel: unscored epochs ('?'), flagged flat", A.ne == 6 && A.e[0].valid && bad == 0,
          "%d epochs, %d scored over flat signal", A.ne, bad);
    /* an unscored epoch has no probabilities (they were the stager's prediction, its prior: every output
     * showed them); a scored one's sum to 1 */
    double sum0 = 0, left = 0;
    for (int k = 0; k < DW_NSTAGES; k++) {
        sum0 += A.e[0].prob[k];
        for (int e = 1; e < A.ne; e++)
            left += fabs(A.e[e].prob[k]);
    }
    CHECK("unscored epochs: probabilities all 0 (none); the scored one's sum to 1",
          left == 0 && fabs(sum0 - 1) < 1e-6, "sum of |p| over unscored %g, scored sum %g", left, sum0);
    /* 9 s flat in an epoch: still scored (a third is the line) */
    p = make(&A, &in, 0, 0);
    feed(p, 100, 2, 60, 500, F_FLAT, 0, 31, 40, 0, 0);
    dw_pipeline_free(p);
    CHECK("9 flat seconds of 30: still scored", A.ne == 2 && A.e[1].valid && A.e[1].unusable_s == 9, "valid %d, %d s",
          A.e[1].valid, A.e[1].unusable_s);
    /* Parietal railed: the one-channel model stands in, the epoch is scored */
    p = make(&A, &in, 0, 0);
    feed(p, 100, 2, 90, 500, F_RAIL, 1, 30, 90, 0, 0);
    dw_pipeline_free(p);
    CHECK("railed parietal channel: the epochs are scored by the one-channel model",
          A.ne == 3 && A.e[1].valid && A.e[1].one_channel && A.e[2].one_channel && !A.e[0].one_channel,
          "valid %d one %d", A.e[1].valid, A.e[1].one_channel);
    /* Mostly artefact: unscored; a short artefact: scored */
    p = make(&A, &in, 0, 0);
    feed(p, 100, 2, 90, 500, F_ART, 0, 30, 46, 0, 0);
    dw_pipeline_free(p);
    CHECK("16 s of artefact in 30: unscored; the next epoch scored", !A.e[1].valid && A.e[2].valid,
          "%d %d (%d s)", A.e[1].valid, A.e[2].valid, A.e[1].artefact_s);
    /* A noisy electrode: 9 railed seconds then 8 of artefact, 17 bad seconds of 30 (neither alone enough):
     * unscored; 9 railed and 5 artefact (14): scored */
    for (int art = 8; art >= 5; art -= 3) {
        p = make(&A, &in, 0, 0);
        static double buf[90 * 100 * 2];
        noise_state = 0x9E3779B97F4A7C15ULL;
        for (long k = 0; k < 90 * 100; k++) {
            double t = k / 100.0;
            for (int c = 0; c < 2; c++)
                buf[k * 2 + c] = t >= 30 && t < 39 ? sig(t, c, F_RAIL, 0, 30, 39)
                               : t >= 39 && t < 39 + art ? sig(t, c, F_ART, 0, 39, 39 + art) : sig(t, c, 0, 0, 0, 0);
        }
        dw_block b = { .n = 90 * 100, .uv = buf, .t0 = 0 };
        dw_pipeline_push(p, &b);
        dw_pipeline_free(p);
        char name[120];
        snprintf(name, sizeof name, "9 railed + %d artefact seconds of 30: %s", art, art == 8 ? "unscored" : "scored");
        CHECK(name, A.ne == 3 && A.e[1].unusable_s == 9 && A.e[1].artefact_s == art && A.e[1].valid == (art != 8)
              && A.e[2].valid, "valid %d (%d unusable, %d artefact s)", A.e[1].valid, A.e[1].unusable_s,
              A.e[1].artefact_s);
    }
}

/* The stand-in stager catches up on the epochs it was spared (alt_push): its labels for the epochs
 * whose parietal channel is railed are exactly those of a one-channel stager fed every epoch as it
 * finished. */
static void test_stand_in_catches_up(void)
{
    dw_source_info in = info(100, 2);
    dw_pipeline *p = make(&A, &in, 0, 0);
    feed(p, 100, 2, 1500, 1000, F_RAIL, 1, 1200, 1320, 0, 0);    /* 50 epochs, parietal railed in 40-43 */
    dw_pipeline_free(p);
    dw_stager *eager = dw_stager_new(dw_model_builtin(1));
    int one = 0, differ = 0;
    for (int e = 0; e < A.ne; e++) {
        double prob[DW_NSTAGES];
        int st = dw_stager_push(eager, A.e[e].feat, A.e[e].valid, prob);
        if (A.e[e].one_channel) {
            one++;
            differ += st != A.e[e].stage || memcmp(prob, A.e[e].prob, sizeof prob) != 0;
        }
    }
    dw_stager_free(eager);
    CHECK("the one-channel stand-in, caught up late, labels as if it had seen every epoch",
          A.ne == 50 && one == 4 && differ == 0, "%d epochs, %d by the stand-in, %d differ", A.ne, one, differ);
}

static void test_provisional(void)
{
    dw_source_info in = info(100, 2);
    dw_pipeline *p = make(&A, &in, 0, 0);
    feed(p, 100, 2, 45, 500, F_NONE, 0, 0, 0, 0, 0);
    double prob[DW_NSTAGES];
    int st;
    CHECK("provisional label after 30 s of good signal", dw_pipeline_provisional(p, prob, &st) == 1, "none");
    dw_pipeline_free(p);
    p = make(&A, &in, 0, 0);
    feed(p, 100, 2, 45, 500, F_FLAT, 0, 40, 100, 0, 0);
    CHECK("no provisional label over a flat second in the last 30 s", dw_pipeline_provisional(p, prob, &st) == 0,
          "stage %d", st);
    dw_pipeline_free(p);
    /* Its window is the last 30 s delivered (half of epoch 3, half of epoch 4 here), its stager the
     * one that saw the finished epochs: the same figures from the frames themselves. */
    p = make(&A, &in, 1, 0);
    feed(p, 100, 2, 105, 700, F_NONE, 0, 0, 0, 0, 0);
    int got = dw_pipeline_provisional(p, prob, &st);
    dw_stager *sg = dw_stager_new(dw_model_builtin(2));
    double pp[DW_NSTAGES];
    for (int e = 0; e < A.ne; e++)
        dw_stager_push(sg, A.e[e].feat, A.e[e].valid, pp);
    dw_features f[2];
    dw_features_epoch(A.f + A.nf - DW_EPOCH_N, &f[0], NULL);
    dw_features_epoch(A.f1 + A.nf - DW_EPOCH_N, &f[1], NULL);
    int want = dw_stager_peek(sg, f, pp);
    dw_stager_free(sg);
    dw_pipeline_free(p);
    CHECK("provisional label: the features of the last 30 s delivered, peeked by the night's stager", got == 1 &&
          A.ne == 3 && A.nf == 10500 && st == want && !memcmp(prob, pp, sizeof pp), "got %d, %d epochs, %ld frames, "
          "stage %d vs %d", got, A.ne, A.nf, st, want);
}

static void test_reposition(void)
{
    /* After a seek to 101.5 s the output goes on aligned; the epoch it lands in lost 11.5 s: unscored. */
    dw_source_info in = info(250, 2);
    dw_pipeline *p = make(&A, &in, 1, 0);
    feed(p, 250, 2, 40, 250, F_NONE, 0, 0, 0, 0, 0);
    dw_pipeline_reposition(p, 101.5);
    long first = A.nf;
    static double buf[250 * 2];
    for (int s = 0; s < 40; s++) {
        for (int i = 0; i < 250; i++) {
            double t = 101.5 + s + i / 250.0;
            buf[i * 2] = buf[i * 2 + 1] = 40 * sin(2 * PI * 5 * t);
        }
        dw_block b = { .n = 250, .uv = buf, .t0 = 101.5 + s };
        dw_pipeline_push(p, &b);
    }
    double a = 0, c = 0;
    for (long i = first + 200; i < first + 3200; i++) {
        double t = 101.5 + (i - first) / 100.0;
        a += A.f[i] * sin(2 * PI * 5 * t);
        c += A.f[i] * cos(2 * PI * 5 * t);
    }
    double lag_ms = -atan2(c, a) / (2 * PI * 5) * 1000;
    CHECK("after a seek the output is on time", fabs(lag_ms) < 2, "lag %.2f ms", lag_ms);
    int e = -1;
    for (int k = 0; k < A.ne; k++)
        if (A.e[k].epoch == 3)
            e = k;
    CHECK("the epoch the seek lands in is unscored (a third never seen) and is the last so far",
          e >= 0 && !A.e[e].valid && A.e[A.ne - 1].epoch == 3, "e %d epochs %d last %d", e, A.ne,
          A.ne ? A.e[A.ne - 1].epoch : -1);
    dw_pipeline_free(p);
}

static const char *model_for(double fs, int nch, const dw_model *given, dw_err *err)
{
    dw_source_info in = info(fs, nch);
    dw_pipeline_opts po = { .model = given, .quality = { 500, 1, 0 } };
    dw_pipeline *p = dw_pipeline_new(&in, &po, NULL, err);
    const char *name = p ? dw_model_name(dw_pipeline_model(p)) : NULL;
    dw_pipeline_free(p);
    return name;
}

/* The model by channels and source rate (issue 13): full-band models from 100 Hz, the low-rate one from
 * 50 Hz (on the frontal channel), a clear refusal below; a given model the source is too slow for is
 * refused, naming the rate it needs. */
static void test_model_choice(void)
{
    static const struct { double fs; int nch; const char *want; } c[] = {
        { 250, 2, "fpz_pz" }, { 100, 2, "fpz_pz" }, { 250, 1, "eeg" }, { 100, 1, "eeg" },
        { 64, 2, "eeg_lo" }, { 50, 1, "eeg_lo" },
    };
    dw_err err = { 0 };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        const char *got = model_for(c[i].fs, c[i].nch, NULL, &err);
        char name[80];
        snprintf(name, sizeof name, "%d channel(s) at %g Hz: the %s model", c[i].nch, c[i].fs, c[i].want);
        CHECK(name, got && !strcmp(got, c[i].want), "%s", got ? got : err.msg);
    }
    CHECK("a 40 Hz source is refused with a reason", !model_for(40, 2, NULL, &err) && strstr(err.msg, "40 Hz")
          && strstr(err.msg, "slower than 50 Hz"), "%s", err.msg);
    CHECK("a full-band model given for a 64 Hz source is refused", !model_for(64, 1, dw_model_builtin(1), &err)
          && strstr(err.msg, "64 Hz") && strstr(err.msg, "100 Hz or faster"), "%s", err.msg);

    /* a 64 Hz two-channel source is staged (frontal channel, eeg_lo): every epoch valid and scored */
    dw_source_info in = info(64, 2);
    dw_pipeline *p = make(&A, &in, 0, 0);
    if (p) {
        feed(p, 64, 2, 300, 64, F_NONE, -1, 0, 0, 0, 0);
        dw_pipeline_finish(p);
    }
    int scored = 0;
    for (int k = 0; k < A.ne; k++)
        scored += A.e[k].valid && A.e[k].stage != DW_UNSCORED && A.e[k].distance > 0;
    CHECK("a 64 Hz source: 10 epochs staged, each with a distance from the training data", p && A.ne == 10
          && scored == 10, "%d epochs, %d scored", A.ne, scored);
    dw_pipeline_free(p);
}

static void test_refusals(void)
{
    dw_source_info in = info(250, 2);
    dw_err err = { 0 };
    dw_pipeline_opts po = { .quality = { 500, 1, 0 } };
    in.frontal = -1;
    CHECK("no frontal channel is refused", !dw_pipeline_new(&in, &po, NULL, &err) && strstr(err.msg, "frontal"),
          "%s", err.msg);
}

int main(void)
{
    test_delay_removed();
    test_blocks_do_not_matter();
    test_long_blocks();
    test_verdict();
    test_validity();
    test_stand_in_catches_up();
    test_provisional();
    test_reposition();
    test_refusals();
    test_model_choice();
    TAP_DONE();
}
