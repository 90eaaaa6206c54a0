/* RBJ cookbook biquads (bilinear transform with the corner pre-warped) and cascades of them. */
#include "dsp/biquad.h"

#include "base/dw.h"

#include <complex.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <string.h>

int dw_biquad_design(dw_biquad_coef *c, enum dw_biquad_kind kind, double f0, double q, double fs)
{
    if (!(fs > 0 && f0 > 0 && f0 < fs / 2 && q > 0))
        return -1;
    double w0 = 2 * M_PI * f0 / fs, cw = cos(w0), alpha = sin(w0) / (2 * q);
    double b0, b1, b2;
    switch (kind) {
    case DW_BQ_LOWPASS:  b0 = (1 - cw) / 2; b1 = 1 - cw;    b2 = b0; break;
    case DW_BQ_HIGHPASS: b0 = (1 + cw) / 2; b1 = -(1 + cw); b2 = b0; break;
    case DW_BQ_BANDPASS: b0 = alpha;        b1 = 0;         b2 = -alpha; break;
    case DW_BQ_NOTCH:    b0 = 1;            b1 = -2 * cw;   b2 = 1; break;
    default: return -1;
    }
    double a0 = 1 + alpha;
    *c = (dw_biquad_coef){ b0 / a0, b1 / a0, b2 / a0, -2 * cw / a0, (1 - alpha) / a0 };
    return 0;
}

double dw_biquad_gain(const dw_biquad_coef *c, double f, double fs)
{
    double complex z1 = cexp(-I * 2 * M_PI * f / fs), z2 = z1 * z1;   /* z^-1, z^-2 */
    return cabs((c->b0 + c->b1 * z1 + c->b2 * z2) / (1 + c->a1 * z1 + c->a2 * z2));
}

int dw_cascade_add(dw_cascade *c, enum dw_biquad_kind kind, double f0, double q, double fs)
{
    if (c->n >= DW_CASCADE_MAX || dw_biquad_design(&c->s[c->n].c, kind, f0, q, fs) != 0)
        return -1;
    c->s[c->n].s1 = c->s[c->n].s2 = 0;
    c->n++;
    return 0;
}

int dw_cascade_butter(dw_cascade *c, enum dw_biquad_kind kind, int order, double fc, double fs)
{
    if ((kind != DW_BQ_LOWPASS && kind != DW_BQ_HIGHPASS) || order < 2 || order % 2
        || c->n + order / 2 > DW_CASCADE_MAX || !(fc > 0 && fc < fs / 2))
        return -1;
    /* each conjugate pole pair of the analogue prototype is one section with this Q */
    for (int k = 1; k <= order / 2; k++)
        dw_cascade_add(c, kind, fc, 1 / (2 * sin((2 * k - 1) * M_PI / (2 * order))), fs);
    return 0;
}

double dw_cascade_step(dw_cascade *c, double x)
{
    for (int i = 0; i < c->n; i++)
        x = dw_biquad_step(&c->s[i], x);
    return x;
}

/* Up to three sections over a block, each sample through them in order, their states in locals
 * (registers): the three recurrences are independent from one sample to the next, so they overlap
 * instead of each waiting on its own 16-cycle chain, and no state goes through memory per sample.
 * The same operations in the same order as dw_biquad_step: the same results to the bit. */
static inline __attribute__((always_inline)) void run3(dw_biquad *q, int m, const double *in,
                                                      double *out, size_t n)
{
    dw_biquad_coef c0 = q[0].c, c1 = m > 1 ? q[1].c : c0, c2 = m > 2 ? q[2].c : c0;
    double p1 = q[0].s1, p2 = q[0].s2, q1 = 0, q2 = 0, r1 = 0, r2 = 0;
    if (m > 1)
        q1 = q[1].s1, q2 = q[1].s2;
    if (m > 2)
        r1 = q[2].s1, r2 = q[2].s2;
    for (size_t j = 0; j < n; j++) {
        double x = in[j], y = c0.b0 * x + p1;
        p1 = c0.b1 * x - c0.a1 * y + p2;
        p2 = c0.b2 * x - c0.a2 * y;
        if (m > 1) {
            x = y;
            y = c1.b0 * x + q1;
            q1 = c1.b1 * x - c1.a1 * y + q2;
            q2 = c1.b2 * x - c1.a2 * y;
        }
        if (m > 2) {
            x = y;
            y = c2.b0 * x + r1;
            r1 = c2.b1 * x - c2.a1 * y + r2;
            r2 = c2.b2 * x - c2.a2 * y;
        }
        out[j] = y;
    }
    q[0].s1 = p1, q[0].s2 = p2;
    if (m > 1)
        q[1].s1 = q1, q[1].s2 = q2;
    if (m > 2)
        q[2].s1 = r1, q[2].s2 = r2;
}

/* Sections q[0..m) over a block, three at a time. */
static void run_sections(dw_biquad *q, int m, const double *in, double *out, size_t n)
{
    if (m == 0 && in != out)
        for (size_t j = 0; j < n; j++)
            out[j] = in[j];
    for (int i = 0; i < m; i += 3, in = out) {        /* the count a constant in each call */
        if (m - i >= 3)
            run3(&q[i], 3, in, out, n);
        else if (m - i == 2)
            run3(&q[i], 2, in, out, n);
        else
            run3(&q[i], 1, in, out, n);
    }
}

void dw_cascade_run(dw_cascade *c, const double *in, double *out, size_t n)
{
    run_sections(c->s, c->n, in, out, n);
}

typedef double v2d __attribute__((vector_size(16)));   /* two lanes: SSE2, or scalar code */

/* Three sections of cascade a (lane 0, on ina) and three of b (lane 1, on inb) in step over a
 * block: each lane's operations are dw_biquad_step's, in its order, element by element (IEEE, no
 * contraction in ISO C), so each output is bit-identical to its own run3; one vector operation does
 * the work of two. */
static void pair3(dw_biquad *qa, const double *ina, double *outa, dw_biquad *qb,
                  const double *inb, double *outb, size_t n)
{
    v2d b0[3], b1[3], b2[3], a1[3], a2[3], s1[3], s2[3];
    for (int k = 0; k < 3; k++) {
        b0[k] = (v2d){ qa[k].c.b0, qb[k].c.b0 };
        b1[k] = (v2d){ qa[k].c.b1, qb[k].c.b1 };
        b2[k] = (v2d){ qa[k].c.b2, qb[k].c.b2 };
        a1[k] = (v2d){ qa[k].c.a1, qb[k].c.a1 };
        a2[k] = (v2d){ qa[k].c.a2, qb[k].c.a2 };
        s1[k] = (v2d){ qa[k].s1, qb[k].s1 };
        s2[k] = (v2d){ qa[k].s2, qb[k].s2 };
    }
    for (size_t j = 0; j < n; j++) {
        v2d x = { ina[j], inb[j] }, y = x;
        for (int k = 0; k < 3; k++) {                     /* unrolled by the compiler */
            y = b0[k] * x + s1[k];
            s1[k] = b1[k] * x - a1[k] * y + s2[k];
            s2[k] = b2[k] * x - a2[k] * y;
            x = y;
        }
        outa[j] = y[0];
        outb[j] = y[1];
    }
    for (int k = 0; k < 3; k++) {
        qa[k].s1 = s1[k][0], qa[k].s2 = s2[k][0];
        qb[k].s1 = s1[k][1], qb[k].s2 = s2[k][1];
    }
}

void dw_cascade_run2(dw_cascade *a, const double *ina, double *outa, dw_cascade *b,
                     const double *inb, double *outb, size_t n)
{
    if (n < 8) {             /* a few samples (the live session's one): not worth the packing */
        for (size_t j = 0; j < n; j++) {
            double xa = ina[j], xb = inb[j];
            outa[j] = dw_cascade_step(a, xa);
            outb[j] = dw_cascade_step(b, xb);
        }
        return;
    }
    int i = 0;
    for (; i + 3 <= a->n && i + 3 <= b->n; i += 3, ina = outa, inb = outb)
        pair3(&a->s[i], ina, outa, &b->s[i], inb, outb, n);
    run_sections(&b->s[i], b->n - i, inb, outb, n);     /* the sections left of each, alone */
    run_sections(&a->s[i], a->n - i, ina, outa, n);     /* b first: outa may be inb */
}

/* The vectors of dw_cascade_run_trio: coefficients and states, section k of every lane. */
typedef struct { dw_v4d b0[3], b1[3], b2[3], a1[3], a2[3], s1[3], s2[3]; } trio_state;

/* Lane l's first m sections on one sample, scalar: the same operations as the vector's. */
static double trio_lane(trio_state *v, int l, int m, double x)
{
    for (int k = 0; k < m; k++) {
        double y = v->b0[k][l] * x + v->s1[k][l];
        v->s1[k][l] = v->b1[k][l] * x - v->a1[k][l] * y + v->s2[k][l];
        v->s2[k][l] = v->b2[k][l] * x - v->a2[k][l] * y;
        x = y;
    }
    return x;
}

/* Samples 2 .. n-1 in the four lanes (samples 0 and 1 already through lanes 0, 1, 3; carry[0],
 * carry[1]: lane 0's outputs of them). Lane 2 takes lane 0's output of two samples before, not one:
 * a sample's vector then waits for the chain of three sections of the sample two back, so two
 * samples' chains overlap (one sample back: each vector waited for the whole chain of the one
 * before, 33 cycles a sample; measured, issue 16). Lane 2's sections see the same values in the same
 * order either way. Lane 0's outputs of the last two samples are left in carry. m[l]: sections in
 * lane l. */
static inline __attribute__((always_inline)) void trio_body(trio_state *v, const int m[4],
                                                            const double *in, double *outa,
                                                            double *outb, double *outc, size_t n,
                                                            double carry[2])
{
    dw_v4d b0[3], b1[3], b2[3], a1[3], a2[3];
    for (int k = 0; k < 3; k++) {
        b0[k] = v->b0[k]; b1[k] = v->b1[k]; b2[k] = v->b2[k]; a1[k] = v->a1[k]; a2[k] = v->a2[k];
    }
    /* the states in named variables, not arrays: in registers across samples (as arrays GCC kept
     * them on the stack, a store and a load in every section's recurrence) */
    dw_v4d s10 = v->s1[0], s11 = v->s1[1], s12 = v->s1[2], s20 = v->s2[0], s21 = v->s2[1],
        s22 = v->s2[2];
    double c2 = carry[0], c1 = carry[1];        /* lane 0's outputs two and one samples back */
    int mb = m[1] - 1, ma = m[2] - 1, mc = m[3] - 1;
#define TRIO_SECTION(K, X, Y, S1, S2)                                                              \
    do {                                                                                           \
        Y = b0[K] * X + S1;                                                                        \
        S1 = b1[K] * X - a1[K] * Y + S2;                                                           \
        S2 = b2[K] * X - a2[K] * Y;                                                                \
    } while (0)
    for (size_t j = 2; j < n; j++) {
        double xj = in[j];
        dw_v4d x = { xj, xj, c2, xj }, ys[3];
        TRIO_SECTION(0, x, ys[0], s10, s20);
        TRIO_SECTION(1, ys[0], ys[1], s11, s21);
        TRIO_SECTION(2, ys[1], ys[2], s12, s22);
        c2 = c1;
        c1 = ys[2][0];
        outb[j] = ys[mb][1];
        outa[j - 2] = ys[ma][2];
        outc[j] = ys[mc][3];
    }
#undef TRIO_SECTION
    carry[0] = c2;
    carry[1] = c1;
    v->s1[0] = s10; v->s1[1] = s11; v->s1[2] = s12;
    v->s2[0] = s20; v->s2[1] = s21; v->s2[2] = s22;
}

/* The spindle and slow-wave detectors' shape (sections 3, 3, 3, 2) with its lane outputs known to
 * the compiler, which then takes them from registers instead of storing every section's vector;
 * other shapes the general way. */
#define TRIO_BODY(V, M, IN, OA, OB, OC, N, CARRY)                                                  \
    do {                                                                                           \
        static const int detectors_[4] = { 3, 3, 3, 2 };                                           \
        if ((M)[0] == 3 && (M)[1] == 3 && (M)[2] == 3 && (M)[3] == 2)                              \
            trio_body(V, detectors_, IN, OA, OB, OC, N, CARRY);                                    \
        else                                                                                       \
            trio_body(V, M, IN, OA, OB, OC, N, CARRY);                                             \
    } while (0)

static void trio_plain(trio_state *v, const int m[4], const double *in, double *outa,
                       double *outb, double *outc, size_t n, double carry[2])
{
    TRIO_BODY(v, m, in, outa, outb, outc, n, carry);
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx"))) static void trio_avx(trio_state *v, const int m[4],
                                                    const double *in, double *outa, double *outb,
                                                    double *outc, size_t n, double carry[2])
{
    TRIO_BODY(v, m, in, outa, outb, outc, n, carry);
}
#else
#define trio_avx trio_plain
#endif

void dw_cascade_run_trio(dw_cascade *a, dw_cascade *b, dw_cascade *c, const double *in,
                         double *outa, double *outb, double *outc, size_t n)
{
    if (n == 0)
        return;
    if (n < 8) {             /* a few samples (the live session's 40 ms at 100 Hz): not worth the lanes */
        for (size_t j = 0; j < n; j++) {
            double x = in[j];
            outa[j] = dw_cascade_step(a, x);
            outb[j] = dw_cascade_step(b, x);
            outc[j] = dw_cascade_step(c, x);
        }
        return;
    }
    if (a->n < 4 || a->n > 6 || b->n < 1 || b->n > 3 || c->n < 1 || c->n > 3) {
        dw_cascade *cs[3] = { a, b, c };        /* the one written over the input last */
        double *out[3] = { outa, outb, outc };
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < 3; i++)
                if ((out[i] == in) == pass)
                    dw_cascade_run(cs[i], in, out[i], n);
        return;
    }
    const int m[4] = { 3, b->n, a->n - 3, c->n };
    dw_biquad *sec[4] = { &a->s[0], &b->s[0], &a->s[3], &c->s[0] };
    trio_state v;
    memset(&v, 0, sizeof v);
    for (int l = 0; l < 4; l++)
        for (int k = 0; k < m[l]; k++) {
            const dw_biquad *q = &sec[l][k];
            v.b0[k][l] = q->c.b0; v.b1[k][l] = q->c.b1; v.b2[k][l] = q->c.b2;
            v.a1[k][l] = q->c.a1; v.a2[k][l] = q->c.a2;
            v.s1[k][l] = q->s1; v.s2[k][l] = q->s2;
        }
    double carry[2];                            /* samples 0 and 1: lane 2 has nothing yet */
    for (int j = 0; j < 2; j++) {
        double x = in[j];
        carry[j] = trio_lane(&v, 0, 3, x);
        outb[j] = trio_lane(&v, 1, m[1], x);
        outc[j] = trio_lane(&v, 3, m[3], x);
    }
    (dw_cpu_avx() ? trio_avx : trio_plain)(&v, m, in, outa, outb, outc, n, carry);
    outa[n - 2] = trio_lane(&v, 2, m[2], carry[0]);  /* the last two samples' remaining sections */
    outa[n - 1] = trio_lane(&v, 2, m[2], carry[1]);
    for (int l = 0; l < 4; l++)
        for (int k = 0; k < m[l]; k++) {
            sec[l][k].s1 = v.s1[k][l];
            sec[l][k].s2 = v.s2[k][l];
        }
}

void dw_cascade_reset(dw_cascade *c)
{
    for (int i = 0; i < c->n; i++)
        c->s[i].s1 = c->s[i].s2 = 0;
}

/* Direct form II transposed at rest with input x and output y = g x: y = b0 x + s1, so
 * s2 = b2 x - a2 y and s1 = b1 x - a1 y + s2. */
void dw_cascade_settle(dw_cascade *c, double x0)
{
    double x = x0;
    for (int i = 0; i < c->n; i++) {
        dw_biquad_coef *k = &c->s[i].c;
        double den = 1 + k->a1 + k->a2, g = den != 0 ? (k->b0 + k->b1 + k->b2) / den : 0, y = g * x;
        c->s[i].s2 = k->b2 * x - k->a2 * y;
        c->s[i].s1 = k->b1 * x - k->a1 * y + c->s[i].s2;
        x = y;
    }
}

double dw_cascade_gain(const dw_cascade *c, double f, double fs)
{
    double g = 1;
    for (int i = 0; i < c->n; i++)
        g *= dw_biquad_gain(&c->s[i].c, f, fs);
    return g;
}

double dw_cascade_phase(const dw_cascade *c, double f, double fs)
{
    double complex z1 = cexp(-I * 2 * M_PI * f / fs), h = 1;
    for (int i = 0; i < c->n; i++) {
        const dw_biquad_coef *k = &c->s[i].c;
        h *= (k->b0 + k->b1 * z1 + k->b2 * z1 * z1) / (1 + k->a1 * z1 + k->a2 * z1 * z1);
    }
    return carg(h);
}

/* The clone is static, called through a plain function: clang gives an exported target_clones
 * function no plain symbol (base/frames.c; the fuzz builds). */
DW_AVX_CLONES
static void finite_or_zero(const double *x, double *out, int n)
{
    typedef long long v4i __attribute__((vector_size(32)));
    const v4i abs_mask = { LLONG_MAX, LLONG_MAX, LLONG_MAX, LLONG_MAX };   /* all but the sign */
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        dw_v4d xv;
        memcpy(&xv, x + i, sizeof xv);
        v4i finite = (v4i)((dw_v4d)((v4i)xv & abs_mask) <= DBL_MAX);
        xv = (dw_v4d)((v4i)xv & finite);
        memcpy(out + i, &xv, sizeof xv);
    }
    for (; i < n; i++)
        out[i] = isfinite(x[i]) ? x[i] : 0;
}

void dw_finite_or_zero(const double *x, double *out, int n) { finite_or_zero(x, out, n); }
