/* A reference scoring laid onto a recording's 30-s epochs by the clocks of the two files.
 *
 * Why by clock: scorings often start later than the recording (calibration before lights-off, case 03 of
 * ../shared/cases) or cover more than it (a mismatched pair, case 04); laid by epoch number, every
 * comparison is then shifted and agreement means nothing. The rule for steps other than 30 s (R&K 20-s
 * pages, 5-s steps) and for offsets that are not whole epochs is the same: a 30-s epoch takes the stage
 * scored for more than half of it, otherwise it is unscored. With 20-s pages every 30-s epoch has such a
 * stage (20 s of one page); with 5-s steps an epoch split 15/15 has none. */
#include "staging/hypnogram.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HALF_S (DW_EPOCH_S / 2.0)

/* The stage of [t0, t0 + 30) in the scoring's time. *k: the first period that can still overlap (the
 * periods are sorted by onset; t0 only grows between calls). */
static int epoch_stage(const dw_hypnogram *h, double t0, int *k)
{
    double cover[DW_NSTAGES] = { 0 }, t1 = t0 + DW_EPOCH_S;
    while (*k < h->nseg && h->seg[*k].onset_s + h->seg[*k].dur_s <= t0)
        (*k)++;
    for (int j = *k; j < h->nseg && h->seg[j].onset_s < t1; j++) {
        const dw_hyp_seg *s = &h->seg[j];
        double o = fmin(t1, s->onset_s + s->dur_s) - fmax(t0, s->onset_s);
        if (o > 0 && s->stage >= 0 && s->stage < DW_NSTAGES)
            cover[s->stage] += o;
    }
    int best = DW_UNSCORED;
    for (int st = 0; st < DW_NSTAGES; st++)
        if (cover[st] > HALF_S + 1e-6 && (best < 0 || cover[st] > cover[best]))
            best = st;
    return best;
}

/* Seconds after local midnight of a Unix time. */
static double time_of_day(double t)
{
    time_t s = (time_t)floor(t);
    struct tm tm;
    localtime_r(&s, &tm);
    return tm.tm_hour * 3600.0 + tm.tm_min * 60.0 + tm.tm_sec + (t - floor(t));
}

/* The reference's start minus the recording's, when both are known. */
static int clock_offset(const dw_hypnogram *ref, double rec_start, double *offset)
{
    if (rec_start <= 0 || (!ref->start_tod && ref->start <= 0))
        return 0;
    if (!ref->start_tod) {
        *offset = ref->start - rec_start;
        return 1;
    }
    double d = ref->start - time_of_day(rec_start);   /* a clock time: the nearest such moment */
    while (d > 12 * 3600.0)
        d -= 24 * 3600.0;
    while (d <= -12 * 3600.0)
        d += 24 * 3600.0;
    *offset = d;
    return 1;
}

static void clock_text(double t, char *out, size_t cap)
{
    time_t s = (time_t)floor(t);
    struct tm tm;
    localtime_r(&s, &tm);
    strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm);
}

int dw_hypnogram_align(const dw_hypnogram *ref, double rec_start, int rec_epochs, signed char **out,
                       int *n_out, dw_ref_alignment *a, dw_err *err)
{
    memset(a, 0, sizeof *a);
    *out = NULL;
    *n_out = 0;
    a->step_s = ref->step_s;
    double off = 0;
    a->by_clock = clock_offset(ref, rec_start, &off);
    a->offset_s = off;
    a->majority = fabs(ref->step_s - DW_EPOCH_S) > 1e-9 || fabs(remainder(off, DW_EPOCH_S)) > 1e-6;
    if (ref->nseg == 0)
        return 0;
    double first = ref->seg[0].onset_s, end = first;
    for (int i = 0; i < ref->nseg; i++)
        end = fmax(end, ref->seg[i].onset_s + ref->seg[i].dur_s);
    long k0 = lround(floor((first + off) / DW_EPOCH_S + 1e-9)), k1 = lround(ceil((end + off) / DW_EPOCH_S - 1e-9));
    long n = rec_epochs > 0 ? rec_epochs : (k1 > 0 ? k1 : 0);
    if (n > 366L * 24 * 120)
        return dw_err_set(err, "%s: the scoring reaches %.0f days past the recording's start", ref->path,
                          (double)n / 2880), -1;
    signed char *st = malloc((size_t)(n > 0 ? n : 1));
    if (!st)
        return dw_err_set(err, "%s: out of memory", ref->path), -1;
    memset(st, DW_UNSCORED, (size_t)(n > 0 ? n : 1));
    int k = 0;
    for (long e = k0; e < k1; e++) {
        double t0 = e * (double)DW_EPOCH_S - off;
        while (k < ref->nseg && ref->seg[k].onset_s + ref->seg[k].dur_s <= t0)
            k++;
        if (k == ref->nseg)
            break;
        long next = lround(floor((ref->seg[k].onset_s + off) / DW_EPOCH_S + 1e-9));
        if (next > e) {                         /* nothing scored until period k: skip there */
            e = next - 1;
            continue;
        }
        int s = epoch_stage(ref, t0, &k);
        if (s < 0)
            continue;
        if (e < 0)
            a->before++;
        else if (e >= n)
            a->after++;
        else
            a->inside++, st[e] = (signed char)s;
    }
    if (a->by_clock && a->inside == 0) {
        char r[32], c[32];
        clock_text(ref->start_tod ? rec_start + off : ref->start, r, sizeof r);
        clock_text(rec_start, c, sizeof c);
        /* which came first, in words: "-8783.5 h apart" read as a negative time */
        dw_err_set(err, "%s: the reference starts %s and the recording %s (the reference %.1f h %s): none of "
                   "its %d scored epochs falls inside the recording (another night, or the wrong file?)",
                   ref->path, r, c, fabs(off) / 3600, off < 0 ? "earlier" : "later", a->before + a->after);
        free(st);
        return -1;
    }
    *out = st;
    *n_out = (int)n;
    return 0;
}

void dw_print_alignment(FILE *f, const char *path, const dw_hypnogram *ref, const dw_ref_alignment *a)
{
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    fprintf(f, "  reference %s (%s): ", name, ref->format);
    if (!a->by_clock)
        fprintf(f, "%s: laid from the recording's first epoch\n",
                ref->start > 0 || ref->start_tod ? "the recording has no start time" : "no start time in the file");
    else if (fabs(a->offset_s) < 1e-6)
        fprintf(f, "starts with the recording; aligned by clock time\n");
    else
        fprintf(f, "starts %.0f s (%.1f epochs) %s the recording; aligned by clock time\n", fabs(a->offset_s),
                fabs(a->offset_s) / DW_EPOCH_S, a->offset_s > 0 ? "after" : "before");
    if (a->before || a->after)
        fprintf(f, "  reference %s: %d scored epochs lie outside the recording: %d before its start, %d after "
                "its end (not compared)\n", name, a->before + a->after, a->before, a->after);
    if (a->majority)
        fprintf(f, "  reference %s: scored in %g-s steps%s: each 30-s epoch takes the stage scored for more than "
                "15 s of it, otherwise it is unscored\n", name, a->step_s,
                fabs(remainder(a->offset_s, DW_EPOCH_S)) > 1e-6 ? " and offset by part of an epoch" : "");
    for (const char *l = ref->note; *l; l += strcspn(l, "\n"), l += *l == '\n')
        fprintf(f, "  reference %.*s\n", (int)strcspn(l, "\n"), l);
}
