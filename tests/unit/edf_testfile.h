/* Writing real EDF+/BDF+ files with EDFlib for tests, benchmarks and fuzz seeds. */
#ifndef DW_EDF_TESTFILE_H
#define DW_EDF_TESTFILE_H

#include <dirent.h>
#include <edflib.h>
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
