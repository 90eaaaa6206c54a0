/* Reference hypnograms: the EDF+ annotation reader, the dispatch by content (EDF or text, see
 * hypnogram_text.c), and what every form shares: periods sorted, the scoring's step found, and the
 * 30-s epochs from the scoring's own start (hypnogram_align.c's rule).
 *
 * EDF+ annotations: Sleep-EDF *-Hypnogram.edf files (R&K stages) or the annotations of any EDF+/BDF+
 * recording (AASM spellings too). Annotations that are not about stages ("Lights off", "Arousal") are
 * ignored; a "Sleep stage" annotation we cannot read is an error, because a silently dropped stage would
 * shift every statistic computed from the hypnogram. EDFlib is not thread-safe: call it from the thread
 * that owns EDF (see sources/edf_source.c). */
#include "staging/hypnogram.h"
#include "staging/hypnogram_priv.h"
#include "edf/edf_annot.h"
#include "sources/source.h"
#include "base/files.h"

#include <edflib.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

int dw_hyp_add(dw_hypnogram *h, int *cap, double onset, double dur, int stage)
{
    if (h->nseg == *cap) {
        int ncap = *cap ? 2 * *cap : 256;
        dw_hyp_seg *s = realloc(h->seg, (size_t)ncap * sizeof *s);
        if (!s)
            return -1;
        h->seg = s;
        *cap = ncap;
    }
    h->seg[h->nseg++] = (dw_hyp_seg){ onset, dur, (signed char)stage };
    return 0;
}

/* Stage of an EDF+ annotation text: DW_W..DW_R, DW_UNSCORED for "?" and movement time, -2 if the text
 * is not about stages, -3 if it is a stage annotation we cannot read. */
static int annotation_stage(const char *text)
{
    static const char *const prefixes[] = { "Sleep stage ", "Sleep_stage_" };
    char t[EDFLIB_MAX_ANNOTATION_LEN + 1];
    snprintf(t, sizeof t, "%s", text);
    for (size_t n = strlen(t); n && (t[n - 1] == ' ' || t[n - 1] == '\r' || t[n - 1] == '\n'); n--)
        t[n - 1] = 0;
    if (!strcasecmp(t, "Movement time"))
        return DW_UNSCORED;       /* R&K movement time: no stage (Sleep-EDF convention) */
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t k = strlen(prefixes[i]);
        if (strncasecmp(t, prefixes[i], k))
            continue;
        const char *s = t + k;
        if (!strcmp(s, "?"))
            return DW_UNSCORED;
        int st = dw_stage_parse(s);
        return st == DW_UNSCORED ? -3 : st;
    }
    return -2;
}

/* Local clock of an EDFlib header's start, as dw_source_info.start_epoch reads it. */
static double edf_start(const struct edf_hdr_struct *hdr)
{
    struct tm tm = { .tm_year = hdr->startdate_year - 1900, .tm_mon = hdr->startdate_month - 1,
                     .tm_mday = hdr->startdate_day, .tm_hour = hdr->starttime_hour,
                     .tm_min = hdr->starttime_minute, .tm_sec = hdr->starttime_second, .tm_isdst = -1 };
    time_t t = mktime(&tm);
    return hdr->startdate_year < 1970 || t == (time_t)-1 ? 0
           : (double)t + (double)hdr->starttime_subsecond / EDFLIB_TIME_DIMENSION;
}

/* Every annotation EDFlib reads from the file open as fh, texts over 40 bytes rejoined from their
 * pieces (edf/edf_annot.h). Onsets and durations in EDFlib's 100-ns units. The count, or -1 with
 * err. */
static long read_annotations(int fh, const struct edf_hdr_struct *hdr, const char *path,
                             dw_annot **out, dw_err *err)
{
    long long n = hdr->annotations_in_file;
    dw_annot *v = calloc((size_t)n + 1, sizeof *v);
    long m = 0;
    for (long long i = 0; v && i < n; i++, m++) {
        struct edf_annotation_struct a;
        if (edf_get_annotation(fh, (int)i, &a)) {
            dw_err_set(err, "%s: cannot read annotation %lld", path, i + 1);
            break;
        }
        v[m] = (dw_annot){ a.onset, a.duration_l, strdup(a.annotation) };
        if (!v[m].text)
            break;
    }
    long joined = v && m == n ? dw_annot_join(v, (size_t)m) : -1;
    if (joined < 0) {
        if (!err->msg[0])
            dw_err_set(err, "%s: out of memory", path);
        for (long i = 0; v && i < m; i++)
            free(v[i].text);
        free(v);
        return -1;
    }
    *out = v;
    return joined;
}

/* The stage annotations of an EDF+/BDF+ file as periods. Durations missing: -1 (dw_hyp_finish sets
 * them to the scoring's step). */
static int load_edf(const char *path, dw_hypnogram *h, dw_err *err)
{
    struct edf_hdr_struct *hdr = malloc(sizeof *hdr);
    if (!hdr)
        return dw_err_set(err, "%s: out of memory", path), -1;
    int fh = dw_edf_open_checked(path, hdr, h->note, sizeof h->note, err);
    if (fh < 0) {
        free(hdr);
        return -1;
    }
    dw_annot *v = NULL;
    long n = read_annotations(fh, hdr, path, &v, err);
    int rc = -1, cap = 0, stages = 0;
    if (n < 0)
        goto out;
    for (long i = 0; i < n; i++) {
        int s = annotation_stage(v[i].text);
        double onset = (double)v[i].onset / EDFLIB_TIME_DIMENSION;
        if (s == -3) {
            dw_err_set(err, "%s: annotation %ld at %.1f s: unknown sleep stage \"%.60s\"", path,
                       i + 1, onset, v[i].text);
            goto out;
        }
        if (s == -2)
            continue;
        stages++;
        double dur = v[i].dur > 0 ? (double)v[i].dur / EDFLIB_TIME_DIMENSION : -1;
        if (s != DW_UNSCORED && dw_hyp_add(h, &cap, onset, dur, s) < 0) {
            dw_err_set(err, "%s: out of memory", path);
            goto out;
        }
    }
    if (!stages) {
        dw_err_set(err, "%s: no sleep-stage annotations (\"Sleep stage W/1/2/3/4/R\" or "
                   "\"N1/N2/N3\") among %ld annotations", path, n);
        goto out;
    }
    h->start = edf_start(hdr);
    snprintf(h->format, sizeof h->format, "EDF+ annotations");
    rc = 0;
out:
    for (long i = 0; i < n; i++)
        free(v[i].text);
    free(v);
    edfclose_file(fh);
    free(hdr);
    return rc;
}

#define MAX_SPAN_S (366 * 86400.0)   /* a year: beyond that an onset or a duration is garbage */

static long long gcd(long long a, long long b)
{
    while (b) {
        long long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static int by_onset(const void *a, const void *b)
{
    double x = ((const dw_hyp_seg *)a)->onset_s, y = ((const dw_hyp_seg *)b)->onset_s;
    return x < y ? -1 : x > y;
}

/* The scoring's step: the largest whole number of milliseconds dividing every onset (from the first)
 * and every duration; a multiple of 30 s is 30 s; nothing to go by (one period, no durations): 30 s. */
static double find_step(const dw_hypnogram *h)
{
    long long g = 0;
    for (int i = 0; i < h->nseg; i++) {
        g = gcd(g, llabs(llround((h->seg[i].onset_s - h->seg[0].onset_s) * 1000)));
        if (h->seg[i].dur_s > 0)
            g = gcd(g, llround(h->seg[i].dur_s * 1000));
    }
    if (g <= 0 || g % (DW_EPOCH_S * 1000) == 0)
        return DW_EPOCH_S;
    return (double)g / 1000;
}

int dw_hyp_finish(const char *path, dw_hypnogram *h, dw_err *err)
{
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    if (h->nseg == 0)
        return dw_err_set(err, "%s: every epoch of the scoring is unscored", path), -1;
    qsort(h->seg, (size_t)h->nseg, sizeof *h->seg, by_onset);
    double end = h->seg[0].onset_s;
    for (int i = 0; i < h->nseg; i++)
        end = fmax(end, h->seg[i].onset_s + h->seg[i].dur_s);
    if (end - h->seg[0].onset_s > MAX_SPAN_S || fabs(h->seg[0].onset_s) > MAX_SPAN_S)
        return dw_err_set(err, "%s: the scoring spans %.0f days from %.0f s: an onset or a duration is garbage",
                          path, (end - h->seg[0].onset_s) / 86400, h->seg[0].onset_s), -1;
    h->step_s = find_step(h);
    int missing = 0;
    for (int i = 0; i < h->nseg; i++)
        if (h->seg[i].dur_s <= 0)
            h->seg[i].dur_s = h->step_s, missing++;
    if (missing)
        dw_source_note(h->note, sizeof h->note, "%s: %d stage%s without a duration: %g s each (the scoring's "
                       "step)", name, missing, missing > 1 ? "s" : "", h->step_s);
    dw_ref_alignment a;
    double start = h->start;
    h->start = 0;                               /* on its own grid: from its own time 0 */
    int rc = dw_hypnogram_align(h, 0, 0, &h->stage, &h->n, &a, err);
    h->start = start;
    return rc;
}

int dw_hypnogram_load(const char *path, dw_hypnogram *h, dw_err *err)
{
    memset(h, 0, sizeof *h);
    snprintf(h->path, sizeof h->path, "%s", path);
    int fd = dw_input_open(path, "reference hypnogram", err);
    if (fd < 0)
        return -1;
    char head[8] = "";
    int edf = pread(fd, head, sizeof head, 0) == 8 &&
              (!memcmp(head, "0       ", 8) || !memcmp(head, "\xff" "BIOSEMI", 8));
    FILE *f = edf ? NULL : fdopen(fd, "rb");
    int rc;
    if (edf) {
        close(fd);
        rc = load_edf(path, h, err);
    } else if (!f) {
        close(fd);
        rc = -1;
        dw_err_set(err, "%s: %s", path, strerror(errno));
    } else {
        rc = dw_hyp_read_text(f, path, h, err);
        fclose(f);
    }
    if (rc == 0)
        rc = dw_hyp_finish(path, h, err);
    if (rc)
        dw_hypnogram_free(h);
    return rc;
}

int dw_hypnogram_read_text(FILE *f, const char *name, dw_hypnogram *h, dw_err *err)
{
    memset(h, 0, sizeof *h);
    int rc = dw_hyp_read_text(f, name, h, err);
    if (rc == 0)
        rc = dw_hyp_finish(name, h, err);
    if (rc)
        dw_hypnogram_free(h);
    return rc;
}

void dw_hypnogram_free(dw_hypnogram *h)
{
    free(h->stage);
    free(h->seg);
    h->stage = NULL;
    h->seg = NULL;
    h->n = h->nseg = 0;
}
