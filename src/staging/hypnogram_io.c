/* Reference hypnograms from EDF+ annotations: Sleep-EDF *-Hypnogram.edf files (R&K stages) or the
 * annotations of any EDF+/BDF+ recording (AASM spellings too). Annotations that are not about stages
 * ("Lights off", "Arousal") are ignored; a "Sleep stage" annotation we cannot read is an error, because a
 * silently dropped stage would shift every statistic computed from the hypnogram.
 * Uses EDFlib, which is not thread-safe: call it from the thread that owns EDF (see edf_source.c). */
#include "staging/hypnogram.h"
#include "sources/source.h"

#include <edflib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_EPOCHS (366 * 24 * 120)   /* a year of 30-s epochs: beyond that an onset is garbage */

/* Stage of an annotation text: DW_W..DW_R, DW_UNSCORED for "?" and movement time, -2 if the text is
 * not about stages, -3 if it is a stage annotation we cannot read. */
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

int dw_hypnogram_load(const char *path, dw_hypnogram *h, dw_err *err)
{
    h->stage = NULL;
    h->n = 0;
    struct edf_hdr_struct *hdr = malloc(sizeof *hdr);
    char note[256];
    if (!hdr) {
        dw_err_set(err, "%s: out of memory", path);
        return -1;
    }
    int fh = dw_edf_open_checked(path, hdr, note, sizeof note, err);
    if (fh < 0) {
        free(hdr);
        return -1;
    }
    int rc = -1, cap = 0, stages = 0;
    signed char *st = NULL;
    for (long long i = 0; i < hdr->annotations_in_file; i++) {
        struct edf_annotation_struct a;
        if (edf_get_annotation(fh, (int)i, &a)) {
            dw_err_set(err, "%s: cannot read annotation %lld", path, i + 1);
            goto out;
        }
        int s = annotation_stage(a.annotation);
        if (s == -2)
            continue;
        double onset = (double)a.onset / EDFLIB_TIME_DIMENSION;
        if (s == -3) {
            dw_err_set(err, "%s: annotation %lld at %.1f s: unknown sleep stage \"%.60s\"", path, i + 1, onset,
                       a.annotation);
            goto out;
        }
        /* Durations are whole epochs in Sleep-EDF; an annotation without one marks one epoch. */
        double dur = a.duration_l > 0 ? (double)a.duration_l / EDFLIB_TIME_DIMENSION : DW_EPOCH_S;
        double e0 = floor(onset / DW_EPOCH_S + 1e-6), e1 = e0 + fmax(1, round(dur / DW_EPOCH_S));
        if (e0 < 0 || e1 > MAX_EPOCHS) {
            dw_err_set(err, "%s: annotation %lld \"%.60s\" at %.1f s lasting %.1f s lies outside the recording",
                       path, i + 1, a.annotation, onset, dur);
            goto out;
        }
        if (s == DW_UNSCORED)
            continue;             /* unscored is the default: leaves no trailing "?" epochs */
        if ((int)e1 > cap) {
            int ncap = (int)e1 + 1024;
            signed char *g = realloc(st, (size_t)ncap);
            if (!g) {
                dw_err_set(err, "%s: out of memory", path);
                goto out;
            }
            memset(g + cap, DW_UNSCORED, (size_t)(ncap - cap));
            st = g;
            cap = ncap;
        }
        for (int e = (int)e0; e < (int)e1; e++)
            st[e] = (signed char)s;
        if ((int)e1 > h->n)
            h->n = (int)e1;
        stages++;
    }
    if (!stages) {
        dw_err_set(err, "%s: no sleep-stage annotations (\"Sleep stage W/1/2/3/4/R\" or \"N1/N2/N3\") among %lld "
                   "annotations", path, hdr->annotations_in_file);
        goto out;
    }
    h->stage = st;
    st = NULL;
    rc = 0;
out:
    if (rc)
        h->n = 0;
    free(st);
    edfclose_file(fh);
    free(hdr);
    return rc;
}

void dw_hypnogram_free(dw_hypnogram *h)
{
    free(h->stage);
    h->stage = NULL;
    h->n = 0;
}
