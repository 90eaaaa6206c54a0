/* The pre-night check: phases on the stream, per-channel figures from the quality verdict, the
 * alpha and eye-movement tests, impedance results, the report. */
#include "session/night_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsp/biquad.h"

#define SKIP_S 2.0 /* the start of each phase is the sleeper following the instruction */
#define MAX_SECONDS 3600

struct chan {
    double kohm;
    int    measured, imp_ok;
    double dc_sum;                       /* second means in the rest phase */
    int    dc_n;
    float  mains[MAX_SECONDS];           /* mains ratio of each used second */
    int    nmains;
    int    railed_s, flat_s;
};

struct dw_night_check {
    dw_check_cfg c;
    double mains_max;
    dw_source_info in;
    int    started, phase;
    double t0, t;
    dw_cascade alpha, eye;
    int    alpha_ch;
    double alpha_rest, alpha_closed;     /* summed power */
    long   n_rest, n_closed;
    int    eye_side, eye_count;          /* the last side passed (-1, 0, 1), swings counted */
    struct chan ch[DW_MAX_CH];
};

dw_night_check *dw_check_new(const dw_check_cfg *c, const dw_source_info *in, double mains_max,
                             dw_err *err)
{
    dw_night_check *k = calloc(1, sizeof *k);
    if (!k) {
        dw_err_set(err, "out of memory");
        return NULL;
    }
    k->c = *c;
    k->mains_max = mains_max;
    k->in = *in;
    k->alpha_ch = in->parietal >= 0 ? in->parietal : in->frontal;
    if (in->fs < 64 || in->frontal < 0 ||
        dw_cascade_butter(&k->alpha, DW_BQ_HIGHPASS, 4, 8.0, in->fs) < 0 ||
        dw_cascade_butter(&k->alpha, DW_BQ_LOWPASS, 4, 12.0, in->fs) < 0 ||
        dw_cascade_butter(&k->eye, DW_BQ_HIGHPASS, 2, 0.3, in->fs) < 0 ||
        dw_cascade_butter(&k->eye, DW_BQ_LOWPASS, 2, 5.0, in->fs) < 0) {
        dw_err_set(err, "the pre-night check needs a frontal channel at 64 Hz or more (%g Hz)",
                   in->fs);
        free(k);
        return NULL;
    }
    return k;
}

void dw_check_free(dw_night_check *k) { free(k); }

/* Phase at check time u (s since the first block), and how far into it. */
static int phase_at(const dw_night_check *k, double u, double *into)
{
    double b0 = k->c.rest_s, b1 = b0 + k->c.alpha_s, b[3] = { b0, b1, b1 + k->c.eyes_s };
    int p = u < b[0]   ? DW_CHECK_REST
            : u < b[1] ? DW_CHECK_CLOSED
            : u < b[2] ? DW_CHECK_MOVE
                       : DW_CHECK_IMPEDANCE;
    *into = p == DW_CHECK_REST ? u : p < DW_CHECK_IMPEDANCE ? u - b[p - 1] : 0;
    return p;
}

int dw_check_block(dw_night_check *k, const dw_block *b)
{
    if (k->phase >= DW_CHECK_IMPEDANCE || b->n <= 0)
        return k->phase;
    if (!k->started) {
        k->started = 1;
        k->t0 = b->t0;
    }
    int nch = k->in.nch;
    for (int i = 0; i < b->n; i++) {
        double into, u = b->t0 + i / k->in.fs - k->t0;
        int p = phase_at(k, u, &into);
        double ya = dw_cascade_step(&k->alpha, b->uv[(size_t)i * nch + k->alpha_ch]);
        double ye = dw_cascade_step(&k->eye, b->uv[(size_t)i * nch + k->in.frontal]);
        if (into < SKIP_S)
            continue;
        if (p == DW_CHECK_REST) {
            k->alpha_rest += ya * ya;
            k->n_rest++;
        } else if (p == DW_CHECK_CLOSED) {
            k->alpha_closed += ya * ya;
            k->n_closed++;
        } else if (p == DW_CHECK_MOVE) {
            int side = ye > k->c.eye_uv / 2 ? 1 : ye < -k->c.eye_uv / 2 ? -1 : 0;
            if (side && side != k->eye_side) { /* past the threshold on the other side: a swing */
                k->eye_count++;
                k->eye_side = side;
            }
        }
    }
    k->t = b->t0 + b->n / k->in.fs - k->t0;
    double into;
    k->phase = phase_at(k, k->t, &into);
    return k->phase;
}

void dw_check_quality(dw_night_check *k, const dw_quality_second *q)
{
    if (!k->started || k->phase >= DW_CHECK_IMPEDANCE)
        return;
    double into;
    int p = phase_at(k, q->second + 0.5 - k->t0, &into);
    if (p >= DW_CHECK_IMPEDANCE || q->second < k->t0)
        return;
    for (int c = 0; c < q->nch && c < DW_MAX_CH; c++) {
        struct chan *h = &k->ch[c];
        h->railed_s += (q->flag[c] & (DW_Q_RAILED | DW_Q_RANGE)) != 0;
        h->flat_s += (q->flag[c] & DW_Q_FLAT) != 0;
        if (p == DW_CHECK_REST && into >= SKIP_S - 0.5) {
            h->dc_sum += q->mean_uv[c];
            h->dc_n++;
            if (h->nmains < MAX_SECONDS)
                h->mains[h->nmains++] = q->mains_ratio[c];
        }
    }
}

const char *dw_check_prompt(int phase)
{
    static const char *const p[] = {
        "eyes open, look straight ahead and relax",
        "close your eyes and relax",
        "look left and right, slowly, several times",
        "measuring electrode impedance",
        "done",
    };
    return phase >= 0 && phase <= DW_CHECK_DONE ? p[phase] : "?";
}

int dw_check_phase(const dw_night_check *k) { return k->phase; }

void dw_check_impedance(dw_night_check *k, int ch, double kohm, int ok)
{
    if (ch < 0 || ch >= DW_MAX_CH)
        return;
    k->ch[ch].measured = 1;
    k->ch[ch].imp_ok = ok;
    k->ch[ch].kohm = kohm;
}

void dw_check_finish(dw_night_check *k) { k->phase = DW_CHECK_DONE; }

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* One channel's figures and verdict; why gets the reasons it failed. */
static int channel_ok(const dw_night_check *k, int c, double *dc_mv, double *mains, char *why,
                      size_t n)
{
    const struct chan *h = &k->ch[c];
    float m[MAX_SECONDS];
    memcpy(m, h->mains, (size_t)h->nmains * sizeof *m);
    qsort(m, (size_t)h->nmains, sizeof *m, cmp_float);
    *mains = h->nmains ? m[h->nmains / 2] : 0;
    *dc_mv = h->dc_n ? h->dc_sum / h->dc_n / 1000 : 0;
    why[0] = 0;
    size_t o = 0;
#define WHY(...) (o += (size_t)snprintf(why + o, o < n ? n - o : 0, __VA_ARGS__))
    if (!h->measured || !h->imp_ok)
        WHY("%simpedance not measured", o ? ", " : "");
    else if (h->kohm > k->c.impedance_max_kohm)
        WHY("%simpedance over %g kOhm", o ? ", " : "", k->c.impedance_max_kohm);
    if (fabs(*dc_mv) > k->c.dc_max_mv)
        WHY("%sDC offset over %g mV", o ? ", " : "", k->c.dc_max_mv);
    if (*mains >= k->mains_max && k->in.fs >= DW_Q_MAINS_MIN_FS)
        WHY("%smains noise", o ? ", " : "");
    if (h->railed_s)
        WHY("%srailed %d s", o ? ", " : "", h->railed_s);
    if (h->flat_s)
        WHY("%sflat %d s", o ? ", " : "", h->flat_s);
    if (!h->dc_n)
        WHY("%sno signal", o ? ", " : "");
#undef WHY
    return why[0] == 0;
}

static double alpha_gain(const dw_night_check *k)
{
    double r = k->n_rest ? k->alpha_rest / k->n_rest : 0,
           c = k->n_closed ? k->alpha_closed / k->n_closed : 0;
    return r > 0 ? c / r : 0;
}

int dw_check_lines(const dw_night_check *k, char (*lines)[160], int max)
{
    int n = 0, all = 1;
    for (int c = 0; c < k->in.nch && n < max; c++) {
        double dc, mains;
        char why[120];
        int ok = channel_ok(k, c, &dc, &mains, why, sizeof why);
        all &= ok;
        char imp[32] = "not measured";
        if (k->ch[c].measured && k->ch[c].imp_ok)
            snprintf(imp, sizeof imp, "%.1f kOhm", k->ch[c].kohm);
        snprintf(lines[n++], 160, "Check %s: %s, %s, offset %.1f mV, mains %.2f%s%s",
                 k->in.label[c], ok ? "pass" : "FAIL", imp, dc, mains, ok ? "" : ": ", why);
    }
    double ag = alpha_gain(k);
    int aok = ag >= k->c.alpha_ratio, eok = k->eye_count >= k->c.eye_count;
    if (n < max)
        snprintf(lines[n++], 160, "Check alpha (%s, eyes closed / open): %s, x%.1f (at least %g)",
                 k->in.label[k->alpha_ch], aok ? "pass" : "FAIL", ag, k->c.alpha_ratio);
    if (n < max)
        snprintf(lines[n++], 160,
                 "Check eye movements (%s): %s, %d swings past +-%g uV (at least %d)",
                 k->in.label[k->in.frontal], eok ? "pass" : "FAIL", k->eye_count, k->c.eye_uv / 2,
                 k->c.eye_count);
    if (n < max)
        snprintf(lines[n++], 160, "Check: %s",
                 all && aok && eok ? "PASS, ready for the night" : "FAIL");
    return n;
}

int dw_check_report(const dw_night_check *k, char *buf, size_t cap)
{
    size_t o = 0;
    int all = 1;
#define PUT(...) (o += (size_t)snprintf(buf + o, o < cap ? cap - o : 0, __VA_ARGS__))
    PUT("channel          impedance   offset   mains  railed  flat  result\n");
    for (int c = 0; c < k->in.nch; c++) {
        double dc, mains;
        char why[120], imp[16] = "-";
        int ok = channel_ok(k, c, &dc, &mains, why, sizeof why);
        all &= ok;
        if (k->ch[c].measured && k->ch[c].imp_ok)
            snprintf(imp, sizeof imp, "%.1f k", k->ch[c].kohm);
        PUT("%-16.16s %9s %7.1f mV %6.2f %5d s %4d s  %s%s%s\n", k->in.label[c], imp, dc, mains,
            k->ch[c].railed_s, k->ch[c].flat_s, ok ? "pass" : "FAIL", ok ? "" : ": ", why);
    }
    double ag = alpha_gain(k);
    int aok = ag >= k->c.alpha_ratio, eok = k->eye_count >= k->c.eye_count;
    PUT("alpha, eyes closed / open (%s): x%.1f, at least %g: %s\n", k->in.label[k->alpha_ch], ag,
        k->c.alpha_ratio, aok ? "pass" : "FAIL");
    PUT("eye movements (%s): %d swings past +-%g uV, at least %d: %s\n", k->in.label[k->in.frontal],
        k->eye_count, k->c.eye_uv / 2, k->c.eye_count, eok ? "pass" : "FAIL");
    int pass = all && aok && eok;
    PUT("%s\n",
        pass ? "PASS: ready for the night" : "FAIL: fix the channels marked FAIL and check again");
#undef PUT
    return pass;
}
