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

void dw_cascade_run(dw_cascade *c, const double *in, double *out, size_t n)
{
    for (size_t j = 0; j < n; j++)
        out[j] = dw_cascade_step(c, in[j]);
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
