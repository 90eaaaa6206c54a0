/* RBJ cookbook biquads (bilinear transform with the corner pre-warped) and cascades of them. */
#include "dsp/biquad.h"

#include <complex.h>
#include <math.h>

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
