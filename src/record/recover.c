/* `dreamwatch recover FILE.bdf...`: repairs a recording left by a crash, in place, with no copy.
 *
 * 1. The header's record count is set to the complete records on disk and a torn last record is cut
 *    off: 8 bytes rewritten and the file truncated, nothing else moves, so a crash meanwhile leaves a
 *    file that a second run repairs the same way.
 * 2. Annotations from the side log (FILE.bdf.events.tsv) that the file lacks are written as TALs into the
 *    free space of the file's annotation signals (a killed recorder leaves all but the time-keeping TAL
 *    of every record empty: 4 annotation signals of 114 bytes per 1-s record). Each TAL is one small
 *    pwrite into bytes that were zero, so a kill between two leaves a readable file with some of them
 *    merged; the file is then read back with EDFlib and every merged annotation must be there, or the
 *    bytes are zeroed again. No extra space is needed.
 * 3. Only when the free slots cannot hold them all (more than 4 annotations per second of recording) is
 *    the file rewritten with more annotation signals: into an unnamed O_TMPFILE in its folder (a killed
 *    recover leaves nothing behind), after checking that the file system has room for it, read back and
 *    compared, then linked and renamed over the original.
 * The recording is opened once; every later open is of that descriptor (/proc/self/fd/N), so no name
 * can be swapped under it. A sound file is left alone, so running it twice is harmless. */
#include "record/recorder.h"
#include "edf/edf_annot.h"
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
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/files.h"
#include "base/text.h"

typedef struct {
    long long onset;          /* 100 us units, as EDFlib writes them */
    long long dur;            /* 100 us units, -1 for none */
    char     *text;           /* full text (side log), a piece of it, or as read back (file) */
    int       present;        /* already in the file */
    size_t    owner;          /* a piece: the side-log event it belongs to */
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
    e->v[e->n++] = (event){ onset, dur, t, 0, 0 };
    return 0;
}

static void events_free(events *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i].text);
    free(e->v);
}

#define SIDE_LINE_MAX 65536     /* bytes: a side-log line holds at most a 4 KB text, escaped */

/* Reads the side log; a missing log is an empty one. Bad lines are reported and skipped; a line longer
 * than SIDE_LINE_MAX, a FIFO or a device in its place is an error (nothing is changed then). */
static int read_side_log(const char *tsv, events *out, dw_err *err)
{
    struct stat st;
    if (lstat(tsv, &st) < 0 && errno == ENOENT)
        return 0;
    FILE *f = dw_input_fopen(tsv, "side log", err);
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    long len, lineno = 0;
    int rc = 0;
    while ((len = dw_getline_max(f, &line, &cap, SIDE_LINE_MAX)) >= 0) {
        lineno++;
        if (lineno == 1 && !strncmp(line, "onset_s\t", 8))
            continue;
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL, *end;
        double onset = strtod(line, &end);
        if (!t2 || end != t1 || !isfinite(onset) || onset < 0 || onset > 1e9) {
            fprintf(stderr, "%s:%ld: not an event line (onset TAB duration TAB text), skipped\n", tsv, lineno);
            continue;
        }
        double dur = strtod(t1 + 1, &end);
        if (t1[1] == '-' && t1 + 2 == t2)
            dur = -1;
        else if (end != t2 || !isfinite(dur) || dur > 1e9) {
            fprintf(stderr, "%s:%ld: column 2: not a duration, skipped\n", tsv, lineno);
            continue;
        }
        dw_events_unescape(t2 + 1);
        if (events_add(out, llround(onset * 1e4), dur > 0 ? llround(dur * 1e4) : -1, t2 + 1)) {
            dw_err_set(err, "%s: out of memory", tsv);
            rc = -1;
            break;
        }
    }
    if (!rc && len != DW_LINE_EOF) {
        dw_err_set(err, "%s:%ld: %s", tsv, lineno + 1, len == DW_LINE_LONG ? "line longer than 64 KB: not a "
                   "side log" : strerror(errno));
        rc = -1;
    }
    free(line);
    fclose(f);
    return rc;
}

/* Trailing spaces off (as the 40-byte cut always had them), never a piece's "(k/n) " prefix's. */
static void trim_right(char *s)
{
    long k, np;
    size_t n = strlen(s), keep = dw_annot_piece_prefix(s, &k, &np);
    while (n > keep && s[n - 1] == ' ')
        s[--n] = 0;
}

/* The events as the BDF+ holds them: a text over 40 bytes as its pieces (edf/edf_annot.h),
 * each with the index of its event as owner. from_file: the texts were read from a BDF+, so one of
 * at most 40 bytes is already as the file keeps it (a piece stays a piece); side-log texts all go
 * through the split. */
static int to_pieces(const events *in, events *out, int from_file)
{
    for (size_t i = 0; i < in->n; i++) {
        const event *e = &in->v[i];
        if (from_file && strlen(e->text) <= DW_ANNOT_BYTES) {
            if (events_add(out, e->onset, e->dur, e->text))
                return -1;
            out->v[out->n - 1].owner = i;
            continue;
        }
        dw_annot_split sp;
        char piece[DW_ANNOT_BYTES + 1];
        dw_annot_split_begin(&sp, e->text);
        while (dw_annot_split_next(&sp, piece)) {
            trim_right(piece);                  /* as read_file_events reads it back */
            if (events_add(out, e->onset, e->dur, piece))
                return -1;
            out->v[out->n - 1].owner = i;
        }
    }
    return 0;
}

/* A recording made before texts were split kept one annotation per event, cut to 40 bytes. */
static void legacy_cut(const char *text, char out[DW_ANNOT_BYTES + 1])
{
    size_t n = dw_annot_fit(text, strlen(text), DW_ANNOT_BYTES);
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char)text[i] < 32 ? ' ' : text[i];
    out[n] = 0;
    trim_right(out);
}

/* Marks the pieces lp (of the side-log events log) that the file already holds: same text,
 * onset within 100 us, each annotation of the file taken once. An event whose pieces are not all
 * there but whose 40-byte cut is (a recording from before the split) counts as present. The
 * side-log events with a piece missing go to *missing; 0, or -1 when out of memory. */
static int mark_present(const events *log, events *lp, const events *file, size_t *missing)
{
    char *used = calloc(file->n + 1, 1), *whole = calloc(log->n + 1, 1);
    if (!used || !whole) {
        free(used);
        free(whole);
        return -1;
    }
    for (size_t i = 0; i < lp->n; i++)
        for (size_t j = 0; j < file->n && !lp->v[i].present; j++)
            if (!used[j] && llabs(file->v[j].onset - lp->v[i].onset) <= 1 &&
                !strcmp(file->v[j].text, lp->v[i].text))
                used[j] = 1, lp->v[i].present = 1;
    for (size_t i = 0; i < log->n; i++)
        whole[i] = 1;
    for (size_t i = 0; i < lp->n; i++)
        whole[lp->v[i].owner] &= lp->v[i].present;
    *missing = 0;
    for (size_t o = 0; o < log->n; o++) {
        char cut[DW_ANNOT_BYTES + 1];
        legacy_cut(log->v[o].text, cut);
        for (size_t j = 0; j < file->n && !whole[o] && strlen(log->v[o].text) > DW_ANNOT_BYTES; j++)
            if (!used[j] && llabs(file->v[j].onset - log->v[o].onset) <= 1 &&
                !strcmp(file->v[j].text, cut))
                used[j] = 1, whole[o] = 1;
        *missing += !whole[o];
    }
    for (size_t i = 0; i < lp->n; i++)
        lp->v[i].present |= whole[lp->v[i].owner];
    free(used);
    free(whole);
    return 0;
}

/* ---- in place ---- */

/* Where the annotation signals sit in a record: byte offset and size of each. */
typedef struct {
    int   n;
    long long off[64], size[64];
} annot_layout;

static int read_layout(int fd, const dw_edf_header *g, annot_layout *L)
{
    int ns = g->ns, w = g->bdf ? 3 : 2;
    char *labels = malloc((size_t)ns * 16), *spr = malloc((size_t)ns * 8);
    int rc = labels && spr && pread(fd, labels, (size_t)ns * 16, 256) == ns * 16 &&
             pread(fd, spr, (size_t)ns * 8, 256 + (off_t)ns * 216) == ns * 8 ? 0 : -1;
    long long off = 0;
    L->n = 0;
    for (int i = 0; !rc && i < ns; i++) {
        char num[9];
        memcpy(num, spr + i * 8, 8);
        num[8] = 0;
        long long bytes = atoll(num) * w;
        const char *lab = labels + i * 16;
        if ((!memcmp(lab, "EDF Annotations ", 16) || !memcmp(lab, "BDF Annotations ", 16)) && L->n < 64) {
            L->off[L->n] = off;
            L->size[L->n++] = bytes;
        }
        off += bytes;
    }
    free(labels);
    free(spr);
    return rc;
}

/* The TAL of one event as EDFlib writes it ("+onset[\x15duration]\x14text\x14"), onsets shifted by the
 * first record's start (tk0_us100, as EDFlib's writer does). Its length. */
static int format_tal(const event *e, long long tk0_us100, char *out, size_t cap)
{
    long long on = e->onset + tk0_us100;
    int n = snprintf(out, cap, "+%lld", on / 10000);
    if (on % 10000)
        n += snprintf(out + n, cap - (size_t)n, ".%04lld", on % 10000);
    if (e->dur >= 0) {
        n += snprintf(out + n, cap - (size_t)n, "\x15%lld", e->dur / 10000);
        if (e->dur % 10000)
            n += snprintf(out + n, cap - (size_t)n, ".%04lld", e->dur % 10000);
    }
    n += snprintf(out + n, cap - (size_t)n, "\x14%.*s\x14", DW_ANNOT_BYTES, e->text);
    return n;
}

/* The first record's time-keeping TAL ("+0.1234000"), in 100-us units; -1 if it is not there. */
static long long first_timekeeping(int fd, const dw_edf_header *g, const annot_layout *L)
{
    char buf[40] = "";
    long long size = L->size[0] < 39 ? L->size[0] : 39;
    if (pread(fd, buf, (size_t)size, g->hdr_bytes + L->off[0]) != size || buf[0] != '+')
        return -1;
    char *end;
    long long sec = strtoll(buf + 1, &end, 10), frac = 0;
    int digits = 0;
    if (*end == '.')
        for (end++; *end >= '0' && *end <= '9' && digits < 7; end++, digits++)
            frac = frac * 10 + (*end - '0');
    for (; digits < 7; digits++)
        frac *= 10;
    return *end == 0x14 || (*end >= '0' && *end <= '9') ? sec * 10000 + frac / 1000 : -1;
}

/* One TAL written into free space: where, so it can be taken back. */
typedef struct { long long at; int len; } patch;

/* Writes the TALs of the missing events into the free space of the annotation signals, record by record
 * (the first pass only checks that they all fit). 0 when all were written (where: *out, *np of them), 1
 * when they do not all fit (nothing written), -1 on a write error (what was written is in *out). */
static int merge_in_place(int fd, const dw_edf_header *g, long long records, const annot_layout *L,
                          const events *log, patch **out, size_t *np)
{
    long long tk0 = L->n ? first_timekeeping(fd, g, L) : -1;
    size_t want = 0;
    for (size_t i = 0; i < log->n; i++)
        want += !log->v[i].present;
    patch *pl = calloc(want + 1, sizeof *pl);
    *out = pl;
    *np = 0;
    if (!pl || tk0 < 0)
        return 1;
    for (int pass = 0; pass < 2; pass++) {
        size_t i = 0, placed = 0;
        for (long long r = 0; r < records && placed < want; r++)
            for (int j = 0; j < L->n && placed < want; j++) {
                unsigned char buf[1024];
                long long size = L->size[j], at = g->hdr_bytes + r * g->rec_bytes + L->off[j];
                if (size > (long long)sizeof buf)
                    continue;                           /* not a signal EDFlib wrote */
                if (pread(fd, buf, (size_t)size, at) != size)
                    return -1;
                long long used = size;                  /* just past the last TAL's terminating NUL */
                while (used > 0 && buf[used - 1] == 0)
                    used--;
                used += used > 0;
                if (j == 0 && used == 0)
                    continue;                           /* no time-keeping TAL: not a record to touch */
                for (;;) {
                    while (i < log->n && log->v[i].present)
                        i++;
                    char tal[160];
                    int len = i < log->n ? format_tal(&log->v[i], tk0, tal, sizeof tal) : 0;
                    if (i >= log->n || used + len + 1 > size)      /* the signal's last byte stays NUL */
                        break;
                    if (pass == 1) {
                        if (pwrite(fd, tal, (size_t)len, at + used) != len)
                            return -1;
                        pl[(*np)++] = (patch){ at + used, len };
                    }
                    used += len + 1;
                    i++;
                    placed++;
                }
            }
        if (placed < want)
            return pass ? -1 : 1;
    }
    return 0;
}

/* Zeroes what merge_in_place wrote. */
static void undo_patches(int fd, const patch *pl, size_t np)
{
    static const char zero[160];
    for (size_t i = 0; i < np; i++)
        if (pwrite(fd, zero, (size_t)pl[i].len, pl[i].at) != pl[i].len) { /* reported by the caller */ }
    fsync(fd);
}

/* The annotations EDFlib reads from the file open as handle h, into file (appended). */
static int read_file_events(int h, const struct edf_hdr_struct *hdr, events *file)
{
    for (long long i = 0; i < hdr->annotations_in_file; i++) {
        struct edf_annotation_struct a;
        if (edf_get_annotation(h, (int)i, &a) == 0) {
            trim_right(a.annotation);
            if (events_add(file, a.onset / 1000, a.duration_l >= 0 ? a.duration_l / 1000 : -1, a.annotation))
                return -1;
        }
    }
    return 0;
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
    for (size_t i = 0; i < all->n && !bad; i++)          /* pieces already (merge: to_pieces) */
        bad = edfwrite_annotation_utf8(h, all->v[i].onset, all->v[i].dur, all->v[i].text) != 0;
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

/* ---- the rewrite, when the annotations do not fit in place ---- */

static int sync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *s = strrchr(dir, '/');
    if (!s)
        strcpy(dir, ".");
    else
        s[s == dir] = 0;              /* "/x" -> "/", "a/x" -> "a" */
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* The folder of path, for O_TMPFILE and statvfs. */
static void dir_of(const char *path, char *dir, size_t cap)
{
    snprintf(dir, cap, "%s", path);
    char *s = strrchr(dir, '/');
    if (!s)
        snprintf(dir, cap, ".");
    else
        s[s == dir] = 0;
}

/* Rewrites the recording (open in EDFlib as hin) with every annotation in all, through an unnamed
 * temporary file in its folder, then puts it in place of path. *fits: annotations the new file holds. */
static int rewrite(const char *path, long long size, int hin, const struct edf_hdr_struct *hdr,
                   const events *all, long long *fits, dw_err *err)
{
    char dir[PATH_MAX], dst[32], name[PATH_MAX + 32];
    dir_of(path, dir, sizeof dir);
    struct statvfs vs;
    long long recs = hdr->datarecords_in_file, per = recs > 0 ? ((long long)all->n + recs - 1) / recs : 1;
    per = per < 1 ? 1 : per > 64 ? 64 : per;        /* annotation signals of 114 bytes, as write_merged */
    long long need = size + recs * per * 114 + 256 * (per + 1) + (1LL << 16);
    if (statvfs(dir, &vs) == 0 && (long long)vs.f_bavail * (long long)vs.f_frsize < need) {
        dw_err_set(err, "%s: %zu annotations do not fit in the file's free annotation space; rewriting it "
                   "needs %.1f MB free in %s, there are %.1f MB", path, all->n, need / 1e6, dir,
                   (double)vs.f_bavail * (double)vs.f_frsize / 1e6);
        return -1;
    }
    int t = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);     /* gone by itself if we are killed */
    if (t < 0) {
        dw_err_set(err, "%s: cannot create a temporary file in %s: %s", path, dir, strerror(errno));
        return -1;
    }
    fchmod(t, 0600);
    snprintf(dst, sizeof dst, "/proc/self/fd/%d", t);
    int rc = -1;
    if (write_merged(hin, hdr, dst, all, fits, err) || verify(hin, hdr, dst, (size_t)*fits, err))
        goto out;
    if (fsync(t)) {
        dw_err_set(err, "%s: cannot sync the rewritten copy: %s", path, strerror(errno));
        goto out;
    }
    for (int k = 0; k < 100; k++) {             /* a name of its own for the moment before the rename */
        snprintf(name, sizeof name, "%s.recover-%06x", path, (unsigned)(rand() ^ getpid() ^ k) & 0xffffff);
        if (linkat(AT_FDCWD, dst, AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0) {
            if (rename(name, path) == 0)
                rc = 0;
            else
                dw_err_set(err, "%s: cannot replace it: %s", path, strerror(errno)), unlink(name);
            break;
        }
        if (errno != EEXIST) {
            dw_err_set(err, "%s: cannot name the rewritten copy: %s", path, strerror(errno));
            break;
        }
    }
    if (!rc)
        sync_dir_of(path);
out:
    close(t);
    return rc;
}

/* ---- the command ---- */

/* Opens the recording read-write, a regular file only (a FIFO or a device is refused, not waited on). */
static int open_recording(const char *path, struct stat *st, dw_err *err)
{
    int fd = open(path, O_RDWR | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        dw_err_set(err, "%s: %s", path, errno == EISDIR ? "a directory: expected a recording (a regular file)"
                   : strerror(errno));
        return -1;
    }
    if (fstat(fd, st) || !S_ISREG(st->st_mode)) {
        const char *kind = S_ISDIR(st->st_mode) ? "a directory"
                         : S_ISFIFO(st->st_mode) ? "a FIFO (named pipe)"
                         : S_ISCHR(st->st_mode) ? "a character device" : "not a regular file";
        dw_err_set(err, "%s: %s: expected a recording (a regular file)", path, kind);
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

/* What fix_count changed, so a recover that fails later can put the file back as it was. */
typedef struct {
    char   count[8];
    char  *tail;                  /* the torn record's bytes */
    long long at, len;
    int    done;
} undo_count;

/* The header's count set to the complete records and a torn record cut off, in place. */
static int fix_count(int fd, const char *path, const dw_edf_header *g, long long records,
                     long long size, undo_count *u, dw_err *err)
{
    char f[24];
    snprintf(f, sizeof f, "%-8lld", records);
    u->at = g->hdr_bytes + records * g->rec_bytes;
    u->len = size - u->at;
    u->tail = malloc((size_t)u->len + 1);
    if (!u->tail || pread(fd, u->count, 8, 236) != 8 || pread(fd, u->tail, (size_t)u->len, u->at) != u->len) {
        dw_err_set(err, "%s: cannot read it: %s", path, u->tail ? strerror(errno) : "out of memory");
        return -1;
    }
    u->done = 1;
    if (ftruncate(fd, (off_t)u->at) || pwrite(fd, f, 8, 236) != 8 || fsync(fd)) {
        dw_err_set(err, "%s: cannot set the record count: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* The count and the torn bytes as they were (a later step failed: the file is left untouched). */
static void undo_fix(int fd, undo_count *u)
{
    if (u->done && (pwrite(fd, u->tail, (size_t)u->len, u->at) != u->len ||
                    pwrite(fd, u->count, 8, 236) != 8 || fsync(fd))) {
        /* nothing better to do: the file keeps its repaired count, which is still a readable file */
    }
    u->done = 0;
}

/* The layout checks; 1 with err when there is nothing to recover (empty), -1 on a bad file. */
static int check_size(const char *path, const struct stat *st, int fd, dw_edf_header *g,
                      const events *log, dw_err *err)
{
    char kept[96];
    snprintf(kept, sizeof kept, "its side log (%zu event%s) is kept", log->n, log->n == 1 ? "" : "s");
    if (st->st_size == 0) {
        dw_err_set(err, "%s: empty recording (0 bytes: stopped before its first record was written); nothing "
                   "to recover, nothing removed; %s", path, kept);
        return 1;
    }
    if (dw_edf_header_read(fd, path, DW_EDF_LAYOUT, g, err)) {    /* the one header reader */
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        dw_err_set(err, "%s; nothing to recover, nothing removed; %s", why, kept);
        return -1;
    }
    if (st->st_size - g->hdr_bytes < g->rec_bytes) {
        dw_err_set(err, "%s: empty recording (a header and no complete record); nothing to recover, nothing "
                   "removed; %s", path, kept);
        return 1;
    }
    return 0;
}

/* The missing events written in place and read back (EDFlib reopened as *hin): 0, 1 when they do not fit
 * (nothing written), -1 with err (what was written is taken out again). */
static int try_in_place(const char *path, int fd, const dw_edf_header *g, long long records,
                        int *hin, struct edf_hdr_struct *hdr, const events *log, events *lp,
                        dw_err *err)
{
    annot_layout L;
    patch *pl = NULL;
    size_t np = 0;
    int r = read_layout(fd, g, &L) ? 1 : merge_in_place(fd, g, records, &L, lp, &pl, &np);
    if (r == 1) {
        free(pl);
        return 1;
    }
    if (r < 0 || fsync(fd)) {
        dw_err_set(err, "%s: cannot write the annotations: %s", path, strerror(errno));
        undo_patches(fd, pl, np);
        free(pl);
        return -1;
    }
    edfclose_file(*hin);                         /* read it back: every merged annotation must be there */
    *hin = -1;
    char fdpath[32];
    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
    events back = { 0 };
    r = -1;
    if (edfopen_file_readonly(fdpath, hdr, EDFLIB_READ_ALL_ANNOTATIONS) == 0) {
        *hin = hdr->handle;
        if (read_file_events(*hin, hdr, &back) == 0) {
            size_t missing = 1;
            for (size_t i = 0; i < lp->n; i++)
                lp->v[i].present = 0;
            r = mark_present(log, lp, &back, &missing) == 0 && missing == 0 ? 0 : -1;
        }
    }
    events_free(&back);
    if (r) {
        if (*hin >= 0)
            edfclose_file(*hin);
        *hin = -1;
        undo_patches(fd, pl, np);
        dw_err_set(err, "%s: the annotations written in place did not read back; taken out again", path);
    }
    free(pl);
    return r;
}

/* Merges the missing events, in place if they fit, else by a rewrite; *how says which. 0 or -1 with err. */
static int merge(const char *path, int fd, const dw_edf_header *g, long long records, long long size,
                 int *hin, struct edf_hdr_struct *hdr, const events *log, events *lp,
                 const events *file, char *how, size_t howcap, dw_err *err)
{
    int r = try_in_place(path, fd, g, records, hin, hdr, log, lp, err);
    if (r <= 0) {
        snprintf(how, howcap, "in place");
        return r;
    }
    events all = { 0 };                          /* everything the file has, plus what it lacks */
    r = to_pieces(file, &all, 1);
    for (size_t i = 0; i < lp->n && !r; i++)
        if (!lp->v[i].present)
            r = events_add(&all, lp->v[i].onset, lp->v[i].dur, lp->v[i].text);
    long long fits = 0;
    if (r)
        dw_err_set(err, "%s: out of memory", path);
    else if (!(r = rewrite(path, size, *hin, hdr, &all, &fits, err)))
        snprintf(how, howcap, "by a rewrite with more annotation signals%s",
                 fits < (long long)all.n ? " (not all fit: 64 per record; the side log keeps all)"
                                         : "");
    events_free(&all);
    return r ? -1 : 0;
}

int dw_recover_file(const char *path, FILE *report, dw_err *errp)
{
    dw_err err = { 0 };
    char tsv[PATH_MAX + 16], fdpath[32], how[128] = "";
    events log = { 0 }, file = { 0 }, lp = { 0 };          /* lp: the side log's events as pieces */
    struct edf_hdr_struct *hdr = calloc(1, sizeof *hdr);
    int hin = -1, rc = -1;
    dw_edf_header g = { 0 };
    struct stat st;
    undo_count undo = { .done = 0, .tail = NULL };
    snprintf(tsv, sizeof tsv, "%s.events.tsv", path);
    int fd = hdr ? open_recording(path, &st, &err) : -1;
    if (!hdr)
        dw_err_set(&err, "%s: out of memory", path);
    if (fd < 0 || read_side_log(tsv, &log, &err) || check_size(path, &st, fd, &g, &log, &err))
        goto out;
    /* Only our own recordings are changed in place: another writer's file (no "dreamwatch" in the
     * recording field, where the recorder puts its name, and no side log beside it) is refused unchanged
     * (a first-use test had recover truncate a third-party EDF with no copy kept); score and replay read
     * such a file as it is. */
    char recfield[81] = "";
    struct stat tst;
    if (pread(fd, recfield, 80, 88) == 80 && !strstr(recfield, "dreamwatch") && lstat(tsv, &tst) < 0) {
        dw_err_set(&err, "%s: not a dreamwatch recording (no \"dreamwatch\" in its recording field, no side log "
                   "%s): recover changes only dreamwatch's own recordings, in place; nothing changed. score and "
                   "replay read this file as it is (a torn last record left out, a wrong record count noted)",
                   path, tsv);
        goto out;
    }
    long long records = (st.st_size - g.hdr_bytes) / g.rec_bytes;
    long long dropped = st.st_size - g.hdr_bytes - records * g.rec_bytes;
    int count_ok = g.nrec == records && dropped == 0;
    if (!count_ok && fix_count(fd, path, &g, records, st.st_size, &undo, &err))
        goto out;
    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
    if (edfopen_file_readonly(fdpath, hdr, EDFLIB_READ_ALL_ANNOTATIONS)) {
        dw_err_set(&err, "%s: EDFlib cannot read it%s (error %d)", path,
                   count_ok ? "" : " even with the count fixed", hdr->filetype);
        goto out;
    }
    hin = hdr->handle;
    size_t missing = 0, pieces = 0;
    if (read_file_events(hin, hdr, &file) || to_pieces(&log, &lp, 0) ||
        mark_present(&log, &lp, &file, &missing)) {
        dw_err_set(&err, "%s: out of memory", path);
        goto out;
    }
    for (size_t i = 0; i < lp.n; i++)
        pieces += !lp.v[i].present;
    long long nfile = hdr->annotations_in_file;
    char countmsg[200] = "";
    if (!count_ok)
        snprintf(countmsg, sizeof countmsg, "record count %lld -> %lld, %lld bytes of a torn record dropped; ",
                 g.nrec, records, dropped);
    if (missing && merge(path, fd, &g, records, st.st_size, &hin, hdr, &log, &lp, &file, how,
                         sizeof how, &err))
        goto out;
    char piecemsg[96] = "";
    if (pieces != missing)
        snprintf(piecemsg, sizeof piecemsg, " (as %zu BDF+ annotations: texts over %d bytes in "
                 "numbered pieces)", pieces, DW_ANNOT_BYTES);
    if (report && !missing && count_ok)
        fprintf(report, "%s: sound: %lld records, %lld annotations, side log %zu events all present; nothing "
                "to do\n", path, records, nfile, log.n);
    else if (report)
        fprintf(report, "%s: recovered: %s%lld records kept, %zu annotations merged from the side "
                "log%s%s%s (%zu already present)\n", path, countmsg, records, missing, piecemsg,
                how[0] ? " " : "", how, log.n - missing);
    rc = 0;
out:
    if (rc && errp)
        *errp = err;
    if (hin >= 0)
        edfclose_file(hin);
    if (rc && fd >= 0)
        undo_fix(fd, &undo);
    free(undo.tail);
    if (fd >= 0)
        close(fd);
    events_free(&log);
    events_free(&file);
    events_free(&lp);
    dw_edf_header_free(&g);
    free(hdr);
    return rc;
}
