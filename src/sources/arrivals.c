/* The wall-clock loss meter: per-second arrival counts in a small ring, and a running total. */
#include "sources/arrivals.h"

#include <math.h>
#include <string.h>

#define RING (DW_ARRIVALS_WIN + 2)

void dw_arrivals_init(dw_arrivals *a, double fs, double now)
{
    memset(a, 0, sizeof *a);
    a->fs = fs > 0 ? fs : 1;
    a->start = -1;
    a->last = now;
    for (int i = 0; i < RING; i++)
        a->sec_of[i] = -1;
}

static void bin_add(dw_arrivals *a, double frames, double wall)
{
    long long s = (long long)floor(wall);
    int i = (int)(s % RING);
    if (a->sec_of[i] != s) {
        a->sec_of[i] = s;
        a->sec[i] = 0;
    }
    a->sec[i] += frames;
}

void dw_arrivals_add(dw_arrivals *a, long n, double wall)
{
    if (n <= 0)
        return;
    double from = a->last;
    if (a->start < 0)
        a->start = from = wall;
    a->last = wall;
    a->got += n;
    if (!(wall - from > 0 && wall - from <= DW_ARRIVALS_SPREAD_S)) {
        bin_add(a, (double)n, wall);
        return;
    }
    for (double t = from; t < wall;) {       /* (from, wall]: at most two seconds */
        double end = fmin(wall, floor(t) + 1);
        bin_add(a, n * (end - t) / (wall - from), t);
        t = end;
    }
}

/* Credited as the frames the span would have brought, second by second. */
void dw_arrivals_pause(dw_arrivals *a, double from, double to)
{
    if (to <= from)
        return;
    double last = a->last;
    if (a->start < 0)
        a->start = from;
    for (double t = from; t < to;) {             /* each second's share in that second */
        double end = fmin(to, floor(t) + 1);
        long n = lround((end - t) * a->fs);
        if (n > 0) {
            a->got += n;
            bin_add(a, (double)n, t);
        }
        t = end;
    }
    a->last = fmax(last, to);
}

void dw_arrivals_loss(const dw_arrivals *a, double now, double *recent_pct, double *night_pct)
{
    *recent_pct = *night_pct = 0;
    if (a->start < 0 || now <= a->start)
        return;
    double want = (now - a->start) * a->fs;
    *night_pct = want > a->fs ? fmax(0, 100.0 * (1 - (double)a->got / want)) : 0;
    /* complete seconds only, and not the first one (it began before the first arrival) */
    long long cur = (long long)floor(now), first = (long long)floor(a->start) + 1;
    long long from = cur - DW_ARRIVALS_WIN > first ? cur - DW_ARRIVALS_WIN : first;
    double got = 0, exp = 0;
    for (long long s = from; s < cur; s++) {
        int i = (int)(s % RING);
        got += a->sec_of[i] == s ? a->sec[i] : 0;
        exp += a->fs;
    }
    *recent_pct = exp > 0 ? fmax(0, 100.0 * (1 - got / exp)) : 0;
}

double dw_arrivals_silent_since(const dw_arrivals *a, double now, double gap_s)
{
    return now - a->last >= gap_s ? a->last : 0;
}
