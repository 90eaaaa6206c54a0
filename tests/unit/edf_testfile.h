/* Writing real EDF+/BDF+ files with EDFlib for tests, benchmarks and fuzz seeds. */
#ifndef DW_EDF_TESTFILE_H
#define DW_EDF_TESTFILE_H

#include <dirent.h>
#include <edflib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *label, *unit;
    int    fs;                                 /* samples per second (records last 1 s) */
    double pmin, pmax;                         /* physical range, in the file's unit */
    double (*wave)(int sig, double t);         /* value in the file's unit at t seconds */
} tf_signal;

typedef struct {
    double onset_s, dur_s;                     /* dur_s 0: no duration */
    const char *text;
} tf_annot;

/* 0 on success. filetype EDFLIB_FILETYPE_EDFPLUS or _BDFPLUS; full digital range. */
static inline int tf_write(const char *path, int filetype, const tf_signal *sig, int ns, int seconds,
                           const tf_annot *an, int na)
{
    int bdf = filetype == EDFLIB_FILETYPE_BDFPLUS;
    int h = edfopen_file_writeonly(path, filetype, ns);
    if (h < 0)
        return -1;
    edf_set_startdatetime(h, 2024, 3, 9, 22, 45, 10);
    edf_set_patientcode(h, "SUBJ-07");
    edf_set_equipment(h, "dreamwatch test");
    for (int s = 0; s < ns; s++) {
        edf_set_samplefrequency(h, s, sig[s].fs);
        edf_set_physical_maximum(h, s, sig[s].pmax);
        edf_set_physical_minimum(h, s, sig[s].pmin);
        edf_set_digital_maximum(h, s, bdf ? 8388607 : 32767);
        edf_set_digital_minimum(h, s, bdf ? -8388608 : -32768);
        edf_set_label(h, s, sig[s].label);
        edf_set_physical_dimension(h, s, sig[s].unit);
    }
    double *buf = malloc(sizeof(double) * 65536);
    int rc = buf ? 0 : -1;
    for (int r = 0; r < seconds && !rc; r++)
        for (int s = 0; s < ns && !rc; s++) {
            for (int i = 0; i < sig[s].fs; i++)
                buf[i] = sig[s].wave(s, r + (double)i / sig[s].fs);
            rc = edfwrite_physical_samples(h, buf);
        }
    for (int i = 0; i < na && !rc; i++)   /* EDFlib takes onsets and durations in 100 us units */
        rc = edfwrite_annotation_utf8(h, (long long)(an[i].onset_s * 10000 + 0.5),
                                      an[i].dur_s > 0 ? (long long)(an[i].dur_s * 10000 + 0.5) : -1, an[i].text);
    free(buf);
    return edfclose_file(h) || rc ? -1 : 0;
}

/* "+12.5": a number with at most six decimals, no trailing zeros. */
static inline const char *tf_seconds(char *s, size_t cap, const char *sign, double v)
{
    snprintf(s, cap, "%s%.6f", sign, v);
    size_t k = strlen(s);
    while (s[k - 1] == '0')
        s[--k] = 0;
    if (s[k - 1] == '.')
        s[--k] = 0;
    return s;
}

/* A discontinuous EDF+D (bdf: BDF+D) written byte by byte (EDFlib writes only continuous files): nrec records
 * of rec_s seconds, record r starting onset[r] s after the start time, then the file's last signal "EDF
 * Annotations" with ann_bytes bytes per record. Its time-keeping TAL is "+onset\x14\x14" and, when tk_text
 * gives one for record r, that text as an annotation at the record's onset. Signals get sig[s].wave(s, t)
 * at their real time t (gaps included) at sig[s].fs (an integer number of samples per record).
 * 0 on success. */
static inline int tf_write_discontinuous(const char *path, int bdf, const tf_signal *sig, int ns, double rec_s,
                                         const double *onset, int nrec, const char *const *tk_text, int ann_bytes)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int bps = bdf ? 3 : 2, dmax = bdf ? 8388607 : 32767, dmin = -dmax - 1;
    char n[32];
    fprintf(f, "%-8s%-80s%-80s%-8s%-8s%-8d%-44s%-8d", bdf ? "\xff" "BIOSEMI" : "0", "SUBJ-09 X X X",
            "Startdate 09-MAR-2024 X X dreamwatch_test", "09.03.24", "22.45.10", 256 * (ns + 2),
            bdf ? "BDF+D" : "EDF+D", nrec);
    fprintf(f, "%-8.8s%-4d", tf_seconds(n, sizeof n, "", rec_s), ns + 1);
    for (int i = 0; i <= ns; i++) fprintf(f, "%-16s", i < ns ? sig[i].label : bdf ? "BDF Annotations" : "EDF Annotations");
    for (int i = 0; i <= ns; i++) fprintf(f, "%-80s", "");
    for (int i = 0; i <= ns; i++) fprintf(f, "%-8s", i < ns ? sig[i].unit : "");
    for (int i = 0; i <= ns; i++) fprintf(f, "%-8.8s", tf_seconds(n, sizeof n, "", i < ns ? sig[i].pmin : -1));
    for (int i = 0; i <= ns; i++) fprintf(f, "%-8.8s", tf_seconds(n, sizeof n, "", i < ns ? sig[i].pmax : 1));
    for (int i = 0; i <= ns; i++) fprintf(f, "%-8d", dmin);
    for (int i = 0; i <= ns; i++) fprintf(f, "%-8d", dmax);
    for (int i = 0; i <= ns; i++) fprintf(f, "%-80s", "");
    for (int i = 0; i <= ns; i++) fprintf(f, "%-8d", i < ns ? (int)lround(sig[i].fs * rec_s) : ann_bytes / bps);
    for (int i = 0; i <= ns; i++) fprintf(f, "%-32s", "");
    char *tal = calloc(1, (size_t)ann_bytes + 1);
    for (int r = 0; r < nrec && tal; r++) {
        for (int s = 0; s < ns; s++) {
            int spr = (int)lround(sig[s].fs * rec_s);
            for (int i = 0; i < spr; i++) {
                double v = sig[s].wave(s, onset[r] + (double)i / sig[s].fs);
                double d = round((v - sig[s].pmin) / (sig[s].pmax - sig[s].pmin) * ((double)dmax - dmin) + dmin);
                long x = d > dmax ? dmax : d < dmin ? dmin : (long)d;
                for (int b = 0; b < bps; b++)
                    fputc((int)((unsigned long)x >> (8 * b)) & 0xff, f);
            }
        }
        memset(tal, 0, (size_t)ann_bytes);
        snprintf(tal, (size_t)ann_bytes, "%s\x14\x14%s%s", tf_seconds(n, sizeof n, "+", onset[r]), tk_text && tk_text[r] ? tk_text[r] : "",
                 tk_text && tk_text[r] ? "\x14" : "");
        fwrite(tal, 1, (size_t)ann_bytes, f);
    }
    int bad = !tal || ferror(f);
    free(tal);
    return fclose(f) || bad ? -1 : 0;
}

/* A private directory for a test's files: TMPDIR/dw-NAME-XXXXXX; 0 on success. */
static inline int tf_mkdtemp(char *dir, size_t cap, const char *name)
{
    const char *t = getenv("TMPDIR");
    snprintf(dir, cap, "%s/dw-%s-XXXXXX", t && *t ? t : "/tmp", name);
    return mkdtemp(dir) ? 0 : -1;
}

/* Removes that directory and the files in it. */
static inline void tf_rmdir(const char *dir)
{
    char p[1024];
    DIR *dd = opendir(dir);
    for (struct dirent *e; dd && (e = readdir(dd));)
        if (e->d_name[0] != '.') {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    if (dd)
        closedir(dd);
    rmdir(dir);
}

/* Whether msg holds want; prints msg when not, so a failing check shows the text it got. */
static inline int tf_contains(const char *msg, const char *want)
{
    if (strstr(msg, want))
        return 1;
    printf("# message was: %s\n", msg);
    return 0;
}

#endif
