/* `dreamwatch recover FILE.bdf...`: repairs a recording left by a crash.
 *
 * 1. The header's record count is set to the complete records on disk; a torn last record is dropped.
 * 2. Annotations from the side log (FILE.bdf.events.tsv) that the file lacks are merged in. EDFlib
 *    cannot add to an existing file, so a new file is written (digital samples copied as they are, with
 *    enough annotation signals for every event), read back and compared, and only then renamed over the
 *    original. Every intermediate file is a temp file beside it; the original stays untouched until a
 *    complete, verified, synced replacement exists. A sound file is left alone, so running it twice is
 *    harmless. */
#include "record/recorder.h"
#include "edf/edf_header.h"

#include <edflib.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    long long onset;          /* 100 us units, as EDFlib writes them */
    long long dur;            /* 100 us units, -1 for none */
    char     *text;           /* full text (side log) or as read back (file) */
    int       present;        /* already in the file */
} event;

typedef struct {
    event *v;
    size_t n, cap;
} events;

static int events_add(events *e, long long onset, long long dur, const char *text)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 64;
        event *v = realloc(e->v, cap * sizeof *v);
        if (!v)
            return -1;
        e->v = v;
        e->cap = cap;
    }
    char *t = strdup(text);
    if (!t)
        return -1;
    e->v[e->n++] = (event){ onset, dur, t, 0 };
    return 0;
}

static void events_free(events *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i].text);
    free(e->v);
}

/* Reads the side log; a missing log is an empty one. Bad lines are reported and skipped. */
static int read_side_log(const char *tsv, events *out)
{
    FILE *f = fopen(tsv, "r");
    if (!f)
        return errno == ENOENT ? 0 : (fprintf(stderr, "%s: %s\n", tsv, strerror(errno)), -1);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    int rc = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (line[len - 1] == '\n')
            line[--len] = 0;
        if (lineno == 1 && !strncmp(line, "onset_s\t", 8))
            continue;
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL, *end;
        double onset = strtod(line, &end);
        if (!t2 || end != t1 || !isfinite(onset) || onset < 0) {
            fprintf(stderr, "%s:%ld: not an event line (onset TAB duration TAB text), skipped\n", tsv, lineno);
            continue;
        }
        double dur = strtod(t1 + 1, &end);
        if (t1[1] == '-' && t1 + 2 == t2)
            dur = -1;
        else if (end != t2 || !isfinite(dur)) {
            fprintf(stderr, "%s:%ld: column 2: not a duration, skipped\n", tsv, lineno);
            continue;
        }
        dw_events_unescape(t2 + 1);
        if (events_add(out, llround(onset * 1e4), dur > 0 ? llround(dur * 1e4) : -1, t2 + 1)) {
            rc = -1;
            break;
        }
    }
    free(line);
    fclose(f);
    return rc;
}

static void trim_right(char *s)
{
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        s[--n] = 0;
}

/* Marks side-log events the file already holds (same 40-byte text, onset within 100 us). */
static size_t mark_present(events *log, const events *file)
{
    size_t missing = 0;
    char *used = calloc(file->n + 1, 1);
    for (size_t i = 0; i < log->n; i++) {
        char cut[41];
        dw_events_bdf_text(log->v[i].text, cut);
        trim_right(cut);
        for (size_t j = 0; j < file->n && !log->v[i].present; j++)
            if (used && !used[j] && llabs(file->v[j].onset - log->v[i].onset) <= 1 && !strcmp(file->v[j].text, cut))
                used[j] = 1, log->v[i].present = 1;
        missing += !log->v[i].present;
    }
    free(used);
    return missing;
}

static int sync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *s = strrchr(dir, '/');
    if (!s)
        strcpy(dir, ".");
    else
        s[s == dir] = 0;              /* "/x" -> "/", "a/x" -> "a" */
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* A fresh temp file beside path, "PATH.recover-XXXXXX" with a name no file has (mkostemp: O_EXCL), mode
 * 0600 whatever the umask. Nothing that exists is removed or written: a file of any name beside the
 * recording survives (an earlier version unlinked PATH.recover.tmp first). */
static int make_temp(const char *path, char *out, size_t outsz)
{
    if (snprintf(out, outsz, "%s.recover-XXXXXX", path) >= (int)outsz) {
        errno = ENAMETOOLONG;
        out[0] = 0;
        return -1;
    }
    int fd = mkostemp(out, O_CLOEXEC);
    if (fd >= 0)
        fchmod(fd, 0600);
    else
        out[0] = 0;                           /* nothing of ours to remove */
    return fd;
}

/* Copies the header (with the true count) and the complete records into a temp file. */
static int copy_fixed(int in, const char *path, const dw_edf_header *g, long long records, char *tmp,
                      size_t tmpsz)
{
    int out = make_temp(path, tmp, tmpsz);
    if (out < 0)
        return -1;
    long long total = g->hdr_bytes + records * g->rec_bytes, off = 0;
    size_t bufsz = 1 << 20;
    char *buf = malloc(bufsz);
    int rc = buf ? 0 : -1;
    while (!rc && off < total) {
        size_t want = total - off < (long long)bufsz ? (size_t)(total - off) : bufsz;
        ssize_t n = pread(in, buf, want, off);
        if (n <= 0 || write(out, buf, (size_t)n) != n)
            rc = -1;
        off += n;
    }
    char f[24];
    snprintf(f, sizeof f, "%-8lld", records);
    if (!rc && (pwrite(out, f, 8, 236) != 8 || fsync(out)))
        rc = -1;
    free(buf);
    close(out);
    return rc;
}

/* Writes src's signals and header fields plus the annotations to a new file at dst; *fits says how many
 * annotations the file can hold (64 annotation signals at most, one annotation each per record). */
static int write_merged(int hin, const struct edf_hdr_struct *hdr, const char *dst, const events *all,
                        long long *fits, dw_err *err)
{
    int ns = hdr->edfsignals, bdf = hdr->filetype == EDFLIB_FILETYPE_BDF || hdr->filetype == EDFLIB_FILETYPE_BDFPLUS;
    long long recs = hdr->datarecords_in_file;
    int h = edfopen_file_writeonly(dst, bdf ? EDFLIB_FILETYPE_BDFPLUS : EDFLIB_FILETYPE_EDFPLUS, ns);
    if (h < 0) {
        dw_err_set(err, "%s: EDFlib cannot create it (error %d)", dst, h);
        return -1;
    }
    long long per = recs > 0 ? ((long long)all->n + recs - 1) / recs : 1;
    per = per < 1 ? 1 : per > 64 ? 64 : per;
    *fits = per * recs < (long long)all->n ? per * recs : (long long)all->n;
    int bad = edf_set_number_of_annotation_signals(h, (int)per);
    if (hdr->datarecord_duration % 100) {
        dw_err_set(err, "%s: record duration is not a multiple of 10 us", dst);
        edfclose_file(h);
        return -1;
    }
    bad |= edf_set_datarecord_duration(h, (int)(hdr->datarecord_duration / 100));
    int maxn = 1;
    for (int s = 0; s < ns; s++) {
        const struct edf_param_struct *p = &hdr->signalparam[s];
        bad |= edf_set_samplefrequency(h, s, p->smp_in_datarecord);
        bad |= edf_set_physical_maximum(h, s, p->phys_max);
        bad |= edf_set_physical_minimum(h, s, p->phys_min);
        bad |= edf_set_digital_maximum(h, s, p->dig_max);
        bad |= edf_set_digital_minimum(h, s, p->dig_min);
        bad |= edf_set_label(h, s, p->label);
        bad |= edf_set_physical_dimension(h, s, p->physdimension);
        bad |= edf_set_prefilter(h, s, p->prefilter);
        bad |= edf_set_transducer(h, s, p->transducer);
        if (p->smp_in_datarecord > maxn)
            maxn = p->smp_in_datarecord;
    }
    bad |= edf_set_startdatetime(h, hdr->startdate_year, hdr->startdate_month, hdr->startdate_day,
                                 hdr->starttime_hour, hdr->starttime_minute, hdr->starttime_second);
    bad |= edf_set_subsecond_starttime(h, (int)hdr->starttime_subsecond);
    bad |= edf_set_patientcode(h, hdr->patientcode);
    bad |= edf_set_patientname(h, hdr->patient_name);
    bad |= edf_set_patient_additional(h, hdr->patient_additional);
    bad |= edf_set_admincode(h, hdr->admincode);
    bad |= edf_set_technician(h, hdr->technician);
    bad |= edf_set_equipment(h, hdr->equipment);
    bad |= edf_set_recording_additional(h, hdr->recording_additional);
    if (!strcmp(hdr->gender, "Male") || !strcmp(hdr->gender, "Female"))
        bad |= edf_set_gender(h, hdr->gender[0] == 'M');
    if (hdr->birthdate_year > 0)
        bad |= edf_set_birthdate(h, hdr->birthdate_year, hdr->birthdate_month, hdr->birthdate_day);
    int *buf = malloc((size_t)maxn * sizeof *buf);
    if (bad || !buf) {
        dw_err_set(err, "%s: EDFlib refused the header of the original", dst);
        free(buf);
        edfclose_file(h);
        return -1;
    }
    for (int s = 0; s < ns; s++)
        edfrewind(hin, s);
    for (long long r = 0; r < recs && !bad; r++)
        for (int s = 0; s < ns && !bad; s++) {
            int n = hdr->signalparam[s].smp_in_datarecord;
            bad = edfread_digital_samples(hin, s, n, buf) != n || edfwrite_digital_samples(h, buf) != 0;
        }
    for (size_t i = 0; i < all->n && !bad; i++) {
        char cut[41];
        dw_events_bdf_text(all->v[i].text, cut);
        bad = edfwrite_annotation_utf8(h, all->v[i].onset, all->v[i].dur, cut) != 0;
    }
    free(buf);
    if (edfclose_file(h) || bad) {
        dw_err_set(err, "%s: writing the repaired copy failed: %s", dst, strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}

/* Reads the new file back: same records, samples identical, every annotation there. */
static int verify(int hin, const struct edf_hdr_struct *hdr, const char *dst, size_t nannot, dw_err *err)
{
    struct edf_hdr_struct *h2 = malloc(sizeof *h2);
    if (!h2 || edfopen_file_readonly(dst, h2, EDFLIB_READ_ALL_ANNOTATIONS)) {
        dw_err_set(err, "%s: the repaired copy does not read back (EDFlib %d)", dst, h2 ? h2->filetype : 0);
        free(h2);
        return -1;
    }
    int bad = h2->edfsignals != hdr->edfsignals || h2->datarecords_in_file != hdr->datarecords_in_file
              || h2->annotations_in_file < (long long)nannot;
    int maxn = 1;
    for (int s = 0; s < hdr->edfsignals; s++)
        if (hdr->signalparam[s].smp_in_datarecord > maxn)
            maxn = hdr->signalparam[s].smp_in_datarecord;
    int *a = malloc((size_t)maxn * sizeof *a), *b = malloc((size_t)maxn * sizeof *b);
    bad |= !a || !b;
    for (int s = 0; s < hdr->edfsignals && !bad; s++) {
        edfrewind(hin, s);
        int n = hdr->signalparam[s].smp_in_datarecord;
        for (long long r = 0; r < hdr->datarecords_in_file && !bad; r++)
            bad = edfread_digital_samples(hin, s, n, a) != n || edfread_digital_samples(h2->handle, s, n, b) != n
                  || memcmp(a, b, (size_t)n * sizeof *a);
    }
    free(a);
    free(b);
    edfclose_file(h2->handle);
    if (bad)
        dw_err_set(err, "%s: the repaired copy differs from the original (samples or annotations)", dst);
    free(h2);
    return bad ? -1 : 0;
}

int dw_recover_file(const char *path, FILE *report, dw_err *errp)
{
    dw_err err = { "" };
    char tsv[PATH_MAX + 16], tmp1[PATH_MAX + 32] = "", tmp2[PATH_MAX + 32] = "";
    events log = { 0 }, file = { 0 };
    struct edf_hdr_struct *hdr = calloc(1, sizeof *hdr);
    int hin = -1, rc = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    dw_edf_header g = { 0 };
    struct stat st;
    if (!hdr || fd < 0 || fstat(fd, &st)) {
        dw_err_set(&err, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (dw_edf_header_read(fd, path, DW_EDF_LAYOUT, &g, &err))
        goto out;
    long long records = (st.st_size - g.hdr_bytes) / g.rec_bytes;
    long long dropped = st.st_size - g.hdr_bytes - records * g.rec_bytes;
    int count_ok = g.nrec == records && dropped == 0;
    snprintf(tsv, sizeof tsv, "%s.events.tsv", path);
    if (read_side_log(tsv, &log))
        goto out;

    const char *src = path;
    if (!count_ok) {
        if (copy_fixed(fd, path, &g, records, tmp1, sizeof tmp1)) {
            dw_err_set(&err, "%s: cannot write a temporary copy beside it%s%s: %s", path, tmp1[0] ? ", " : "",
                       tmp1, strerror(errno));
            goto out;
        }
        src = tmp1;
    }
    if (edfopen_file_readonly(src, hdr, EDFLIB_READ_ALL_ANNOTATIONS)) {
        dw_err_set(&err, "%s: EDFlib cannot read it%s (error %d)", path, count_ok ? "" : " even with the count fixed",
                   hdr->filetype);
        goto out;
    }
    hin = hdr->handle;
    for (long long i = 0; i < hdr->annotations_in_file; i++) {
        struct edf_annotation_struct a;
        if (edf_get_annotation(hin, (int)i, &a) == 0) {
            trim_right(a.annotation);
            if (events_add(&file, a.onset / 1000, a.duration_l >= 0 ? a.duration_l / 1000 : -1, a.annotation))
                goto out;
        }
    }
    size_t missing = mark_present(&log, &file);
    char countmsg[200] = "";
    if (!count_ok)
        snprintf(countmsg, sizeof countmsg, "record count %lld -> %lld, %lld bytes of a torn record dropped; ",
                 g.nrec, records, dropped);
    if (missing == 0 && count_ok) {
        if (report)
            fprintf(report, "%s: sound: %lld records, %lld annotations, side log %zu events all present; "
                    "nothing to do\n", path, records, hdr->annotations_in_file, log.n);
        rc = 0;
        goto out;
    }
    const char *final = tmp1;
    if (missing) {
        for (size_t i = 0; i < log.n; i++)           /* everything the file has, plus what it lacks */
            if (!log.v[i].present && events_add(&file, log.v[i].onset, log.v[i].dur, log.v[i].text))
                goto out;
        int t = make_temp(path, tmp2, sizeof tmp2);
        if (t < 0) {
            dw_err_set(&err, "%s: cannot create a temporary copy beside it: %s", path, strerror(errno));
            goto out;
        }
        close(t);
        long long fits;
        if (write_merged(hin, hdr, tmp2, &file, &fits, &err) || verify(hin, hdr, tmp2, (size_t)fits, &err))
            goto out;
        if (fits < (long long)file.n)
            snprintf(countmsg + strlen(countmsg), sizeof countmsg - strlen(countmsg),
                     "only %lld of %zu annotations fit (64 per record; the side log keeps all); ", fits, file.n);
        if ((t = open(tmp2, O_RDONLY)) < 0 || fsync(t)) {
            dw_err_set(&err, "%s: cannot sync: %s", tmp2, strerror(errno));
            if (t >= 0)
                close(t);
            goto out;
        }
        close(t);
        final = tmp2;
    }
    if (rename(final, path)) {
        dw_err_set(&err, "%s: cannot replace it with %s: %s", path, final, strerror(errno));
        goto out;
    }
    sync_dir_of(path);
    if (report)
        fprintf(report, "%s: recovered: %s%lld records kept, %zu annotations merged from the side log (%zu "
                "already present)\n", path, countmsg, records, missing, log.n - missing);
    rc = 0;
out:
    if (rc && errp)
        *errp = err;
    if (hin >= 0)
        edfclose_file(hin);
    if (fd >= 0)
        close(fd);
    if (tmp1[0])
        unlink(tmp1);
    if (tmp2[0])
        unlink(tmp2);
    events_free(&log);
    events_free(&file);
    dw_edf_header_free(&g);
    free(hdr);
    return rc;
}
