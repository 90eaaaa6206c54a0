/* The per-second signal-quality verdict (see quality.h). Seconds are counted in frames: second k holds the
 * frames from ceil(k * fs) to ceil((k + 1) * fs) - 1, so any rate (125, 250, 256, 173.61 Hz) tiles time
 * exactly and the verdict does not depend on how the stream was cut into blocks. */
#include "dsp/quality.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct dw_quality {
    int    nch;
    double fs;
    dw_quality_cfg cfg;
    double lo[DW_MAX_CH], hi[DW_MAX_CH], rail_lo[DW_MAX_CH], rail_hi[DW_MAX_CH];
    int    ranged[DW_MAX_CH];
    long long frame;           /* next frame of the stream */
    long   second;             /* the second being filled */
    long long end;             /* first frame of the next second */
    int    count, lost;        /* frames of this second seen, and of those lost */
    double *buf;               /* this second's frames, frame-major (mains needs them all) */
    int    cap;                /* frames buf holds */
    unsigned char flag[DW_MAX_CH];
    double *win, *tmp;         /* Hann window and a detrended channel, cap each */
};

static long long second_start(double fs, long k) { return (long long)ceil((double)k * fs - 1e-9); }

dw_quality *dw_quality_new(int nch, double fs, const double *lo, const double *hi, const dw_quality_cfg *cfg)
{
    if (nch < 1 || nch > DW_MAX_CH || !(fs > 0) || fs > 1e6 || !cfg)
        return NULL;
    dw_quality *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->nch = nch;
    q->fs = fs;
    q->cfg = *cfg;
    q->cap = (int)ceil(fs) + 1;
    q->buf = malloc((size_t)q->cap * (size_t)nch * sizeof *q->buf);
    q->win = malloc((size_t)q->cap * sizeof *q->win);
    q->tmp = malloc((size_t)q->cap * sizeof *q->tmp);
    if (!q->buf || !q->win || !q->tmp) {
        dw_quality_free(q);
        return NULL;
    }
    for (int c = 0; c < nch; c++) {
        q->lo[c] = lo ? lo[c] : 0;
        q->hi[c] = hi ? hi[c] : 0;
        q->ranged[c] = q->hi[c] > q->lo[c];
        double span = q->hi[c] - q->lo[c];
        q->rail_lo[c] = q->lo[c] + (1 - DW_Q_RAIL_FRAC) * span;
        q->rail_hi[c] = q->hi[c] - (1 - DW_Q_RAIL_FRAC) * span;
    }
    dw_quality_reposition(q, 0);
    return q;
}

void dw_quality_free(dw_quality *q)
{
    if (!q)
        return;
    free(q->buf);
    free(q->win);
    free(q->tmp);
    free(q);
}

void dw_quality_reposition(dw_quality *q, long long frame)
{
    q->frame = frame;
    q->second = (long)floor((double)frame / q->fs + 1e-9);
    while (second_start(q->fs, q->second + 1) <= frame)
        q->second++;
    q->end = second_start(q->fs, q->second + 1);
    q->count = (int)(frame - second_start(q->fs, q->second));   /* frames before the seek: never seen */
    q->lost = q->count;
    memset(q->flag, 0, sizeof q->flag);
}

/* Power of x[0..n) at f Hz (Goertzel) after the window. */
static double goertzel(const double *x, int n, double fs, double f)
{
    double w = 2 * M_PI * f / fs, coef = 2 * cos(w), s1 = 0, s2 = 0;
    for (int i = 0; i < n; i++) {
        double s = x[i] + coef * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    return s1 * s1 + s2 * s2 - coef * s1 * s2;
}

/* Mains power (3 bins around 50 or 60 Hz, whichever is larger) over the 1-40 Hz power. */
static double mains_ratio(dw_quality *q, int c, int n, double mean)
{
    for (int i = 0; i < n; i++) {
        q->win[i] = 0.5 - 0.5 * cos(2 * M_PI * i / n);
        q->tmp[i] = (q->buf[(size_t)i * q->nch + c] - mean) * q->win[i];
    }
    double band = 0, mains = 0;
    for (int f = 1; f <= 40; f++)
        band += goertzel(q->tmp, n, q->fs, f);
    for (int f0 = 50; f0 <= 60; f0 += 10) {
        if (f0 + 1 >= 0.5 * q->fs)
            continue;
        double p = 0;
        for (int f = f0 - 1; f <= f0 + 1; f++)
            p += goertzel(q->tmp, n, q->fs, f);
        mains = p > mains ? p : mains;
    }
    return band > 0 ? mains / band : (mains > 0 ? INFINITY : 0);
}

static void finish(dw_quality *q, dw_quality_fn fn, void *ctx)
{
    dw_quality_second s;
    memset(&s, 0, sizeof s);
    s.second = q->second;
    s.nch = q->nch;
    int n = q->count - q->lost, have = n;      /* frames actually in buf: the seen, unlost ones */
    for (int c = 0; c < q->nch; c++) {
        unsigned f = q->flag[c];
        double sum = 0, sq = 0, dmax = 0;
        for (int i = 0; i < have; i++) {
            double v = q->buf[(size_t)i * q->nch + c];
            sum += v;
        }
        double mean = have ? sum / have : 0;
        for (int i = 0; i < have; i++) {
            double d = q->buf[(size_t)i * q->nch + c] - mean;
            sq += d * d;
            dmax = fabs(d) > dmax ? fabs(d) : dmax;
        }
        double sd = have ? sqrt(sq / have) : 0;
        if (have >= 2 && sd < DW_Q_FLAT_SD_UV && !(f & DW_Q_RAILED))
            f |= DW_Q_FLAT;
        if (dmax > q->cfg.artefact_uv && !(f & (DW_Q_RAILED | DW_Q_RANGE)))
            f |= DW_Q_ARTEFACT;
        if (2 * q->lost > q->count)
            f |= DW_Q_LOST;
        if (q->cfg.mains && q->fs >= DW_Q_MAINS_MIN_FS && have == q->count && have >= 16 &&
            !(f & (DW_Q_FLAT | DW_Q_RAILED | DW_Q_RANGE))) {
            double r = mains_ratio(q, c, have, mean);
            s.mains_ratio[c] = (float)(r > 1e30 ? 1e30 : r);
            if (r > q->cfg.mains_ratio)
                f |= DW_Q_MAINS;
        }
        s.flag[c] = (unsigned char)f;
        s.mean_uv[c] = (float)mean;
        s.sd_uv[c] = (float)sd;
    }
    if (fn)
        fn(ctx, &s);
    q->second++;
    q->end = second_start(q->fs, q->second + 1);
    q->count = q->lost = 0;
    memset(q->flag, 0, sizeof q->flag);
}

void dw_quality_push(dw_quality *q, const double *x, int n, dw_quality_fn fn, void *ctx)
{
    for (int i = 0; i < n; i++) {
        const double *row = x + (size_t)i * q->nch;
        int k = q->count - q->lost;
        if (k < q->cap) {
            double *dst = q->buf + (size_t)k * q->nch;
            for (int c = 0; c < q->nch; c++) {
                double v = row[c];
                if (!isfinite(v) || (q->ranged[c] && (v > q->hi[c] + 1e-6 * (q->hi[c] - q->lo[c]) ||
                                                      v < q->lo[c] - 1e-6 * (q->hi[c] - q->lo[c])))) {
                    q->flag[c] |= DW_Q_RANGE;
                    v = isfinite(v) ? v : 0;
                } else if (q->ranged[c] && (v >= q->rail_hi[c] || v <= q->rail_lo[c])) {
                    q->flag[c] |= DW_Q_RAILED;
                }
                dst[c] = v;
            }
        }
        q->count++;
        if (++q->frame >= q->end)
            finish(q, fn, ctx);
    }
}

void dw_quality_gap(dw_quality *q, long n, dw_quality_fn fn, void *ctx)
{
    while (n > 0) {
        long left = (long)(q->end - q->frame);
        long k = n < left ? n : left;
        q->count += (int)k;
        q->lost += (int)k;
        q->frame += k;
        n -= k;
        if (q->frame >= q->end)
            finish(q, fn, ctx);
    }
}

const char *dw_quality_name(unsigned f)
{
    return f & DW_Q_RANGE ? "out of range" : f & DW_Q_LOST ? "lost" : f & DW_Q_RAILED ? "railed"
         : f & DW_Q_FLAT ? "flat" : f & DW_Q_ARTEFACT ? "artefact" : f & DW_Q_MAINS ? "mains" : "ok";
}
