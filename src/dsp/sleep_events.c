/* Spindles and slow waves from one channel, stamped with their epoch. */
#include "dsp/sleep_events.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/dw.h"
#include "dsp/biquad.h"
#include "dsp/slow_wave.h"
#include "dsp/spindle.h"

struct dw_sleep_events {
    double fs;
    double base; /* sample times are base + k / fs, whatever the blocks: the same events */
    long k;                   /* for the same samples cut in any way */
    int started;
    dw_spindle_det *sp;
    dw_slow_wave_det *sw;
};

dw_sleep_events *dw_sleep_events_new(double fs)
{
    dw_sleep_events *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->fs = fs;
    e->sp = dw_spindle_new(fs);
    e->sw = dw_slow_wave_new(fs);
    if (!e->sp || !e->sw) {
        dw_sleep_events_free(e);
        return NULL;
    }
    return e;
}

void dw_sleep_events_free(dw_sleep_events *e)
{
    if (!e)
        return;
    dw_spindle_free(e->sp);
    dw_slow_wave_free(e->sw);
    free(e);
}

void dw_sleep_events_reset(dw_sleep_events *e)
{
    e->started = 0;
    dw_spindle_reset(e->sp);
    dw_slow_wave_reset(e->sw);
}

static int epoch_of(double t) { return (int)floor(t / DW_EPOCH_S); }

static void emit_spindle(const dw_spindle *sp, dw_sleep_event_fn fn, void *ctx)
{
    dw_sleep_event ev = { DW_SLEEP_SPINDLE, sp->start_s, sp->dur_s, sp->amp_uv, sp->freq_hz,
                          sp->start_s, epoch_of(sp->start_s) };
    fn(ctx, &ev);
}

static void emit_slow_wave(const dw_slow_wave *sw, dw_sleep_event_fn fn, void *ctx)
{
    dw_sleep_event ev = { DW_SLEEP_SLOW_WAVE, sw->start_s, sw->dur_s, sw->ptp_uv, 1 / sw->dur_s,
                          sw->neg_t, epoch_of(sw->start_s) };
    fn(ctx, &ev);
}

#define CHUNK DW_SPINDLE_CHUNK

/* t[i] = base + (k + i) / fs, four at a time in the lanes of a vector, each lane the same operations
 * as one at a time (the same bits: a division, an add), and in[] the finite samples of x
 * (dw_finite_or_zero), for i < n. */
DW_AVX_CLONES
static void times_and_input(double base, long k, double fs, const double *x, int n, double *t,
                            double *in)
{
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        dw_v4d idx = { (double)(k + i), (double)(k + i + 1), (double)(k + i + 2),
                       (double)(k + i + 3) };
        dw_v4d tv = base + idx / fs;
        memcpy(t + i, &tv, sizeof tv);
    }
    for (; i < n; i++)
        t[i] = base + (double)(k + i) / fs;
    dw_finite_or_zero(x, in, n);
}

void dw_sleep_events_push(dw_sleep_events *e, double t0, const double *x, int n,
                          dw_sleep_event_fn fn, void *ctx)
{
    if (!e->started || fabs(t0 - (e->base + (double)e->k / e->fs)) > 0.5 / e->fs) {
        e->base = t0;             /* the first block, or one that does not follow on */
        e->k = 0;
        e->started = 1;
    }
    for (int i0 = 0; i0 < n; i0 += CHUNK) {
        int m = n - i0 < CHUNK ? n - i0 : CHUNK, at_sp[CHUNK], at_sw[CHUNK];
        double t[CHUNK];
        dw_spindle sp[CHUNK];
        dw_slow_wave sw[CHUNK];
        double in[CHUNK], *sig, *brd, swy[CHUNK];
        times_and_input(e->base, e->k, e->fs, x + i0, m, t, in);
        dw_cascade *cs, *cb;               /* the 11 sections of both detectors in one pass */
        dw_spindle_cascades(e->sp, &cs, &cb);
        dw_spindle_place(e->sp, &sig, &brd);   /* sigma and broad straight into its history */
        dw_cascade_run_trio(cs, cb, dw_slow_wave_cascade(e->sw), in, sig, brd, swy, (size_t)m);
        int nsp = dw_spindle_run_placed(e->sp, t, m, sp, at_sp);
        int nsw = dw_slow_wave_run_filtered(e->sw, t, swy, m, sw, at_sw);
        e->k += m;
        /* in the order of the samples that end them; a spindle first, as sample by sample */
        for (int a = 0, b = 0; fn && (a < nsp || b < nsw);) {
            if (b == nsw || (a < nsp && at_sp[a] <= at_sw[b]))
                emit_spindle(&sp[a++], fn, ctx);
            else
                emit_slow_wave(&sw[b++], fn, ctx);
        }
    }
}

const char *dw_sleep_event_name(int kind)
{
    return kind == DW_SLEEP_SPINDLE ? "spindle" : kind == DW_SLEEP_SLOW_WAVE ? "slow_wave" : "?";
}
