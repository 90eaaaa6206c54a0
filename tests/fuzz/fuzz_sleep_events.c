/* libFuzzer: the spindle and slow-wave detectors (dsp/sleep_events.h), differentially. The input
 * is a rate, a stream of samples (one byte each: a 200-uV range, or a lost, railed or huge sample)
 * and a list of block lengths; the stream goes in once whole and once cut into those blocks
 * (lengths 1-600, across the detectors' 256-sample blocks), with a gap (reset) at the same sample
 * in both. Every field of every event must be the same to the bit, in the same order; each event
 * lies inside the stream, its epoch the one its onset is in. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dsp/sleep_events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXEV 4096

typedef struct { dw_sleep_event ev[MAXEV]; int n; } evlist;

static void collect(void *ctx, const dw_sleep_event *e)
{
    evlist *l = ctx;
    if (l->n < MAXEV)
        l->ev[l->n++] = *e;
}

static double sample(uint8_t b)
{
    switch (b) {
    case 0: return NAN;
    case 1: return INFINITY;
    case 2: return -1e300;
    case 255: return 1e6;
    default: return ((double)b - 128) * 1.6 + 40 * sin(b);
    }
}

/* Pushes x[0..n) cut at the lengths in cut[] (cycled), restarting at sample gap. */
static void run(double fs, const double *x, int n, const uint8_t *cut, int ncut, int gap,
                evlist *l)
{
    dw_sleep_events *e = dw_sleep_events_new(fs);
    if (!e)
        abort();
    l->n = 0;
    for (int i = 0, c = 0; i < n;) {
        int m = ncut ? 1 + cut[c++ % ncut] * 600 / 256 : n;
        if (m > n - i)
            m = n - i;
        if (i < gap && i + m > gap)
            m = gap - i;
        if (i == gap && gap > 0)
            dw_sleep_events_reset(e);
        dw_sleep_events_push(e, i / fs, x + i, m, collect, l);
        i += m;
    }
    dw_sleep_events_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const double rates[] = { 64, 100, 128, 200, 250, 256, 500, 512 };
    static evlist a, b;
    if (size < 4)
        return 0;
    double fs = rates[data[0] % 8];
    int ncut = data[1] % 32, gap = data[2] * 40;
    const uint8_t *cut = data + 3;
    if ((size_t)ncut > size - 3)
        ncut = (int)size - 3;
    int n = (int)size - 3 - ncut, rep = 1 + data[3] % 8;      /* the stream, repeated to 8 times */
    const uint8_t *s = cut + ncut;
    if (n <= 0)
        return 0;
    double *x = malloc((size_t)n * rep * sizeof *x);
    for (int r = 0; r < rep; r++)
        for (int i = 0; i < n; i++)
            x[r * n + i] = sample(s[i]);
    n *= rep;
    run(fs, x, n, NULL, 0, gap, &a);
    run(fs, x, n, cut, ncut, gap, &b);
    if (a.n != b.n)
        abort();
    for (int i = 0; i < a.n; i++) {
        const dw_sleep_event *p = &a.ev[i], *q = &b.ev[i];
        if (memcmp(&p->onset_s, &q->onset_s, sizeof p->onset_s) || p->kind != q->kind ||
            memcmp(&p->dur_s, &q->dur_s, sizeof p->dur_s) ||
            memcmp(&p->amp_uv, &q->amp_uv, sizeof p->amp_uv) ||
            memcmp(&p->freq_hz, &q->freq_hz, sizeof p->freq_hz) ||
            memcmp(&p->neg_t, &q->neg_t, sizeof p->neg_t) || p->epoch != q->epoch)
            abort();
        if (!(p->onset_s > -3 && p->onset_s < n / fs) || p->epoch != (int)floor(p->onset_s / 30))
            abort();
    }
    free(x);
    return 0;
}
