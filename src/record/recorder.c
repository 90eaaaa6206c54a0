/* Crash-safe BDF+ recorder: EDFlib writes the records; a second descriptor on the same file keeps the
 * header's record count equal to the complete records on disk, and a side log keeps every annotation.
 *
 * Measured with EDFlib 1.23: edfwrite_physical_samples hands each finished record to write(2) at once
 * (the file grows by exactly one record per record), so the size seen by fstat on our descriptor is the
 * truth; counting complete records from it also covers a torn write on a full disk. */
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
#include <time.h>
#include <unistd.h>

#define REC_PHYS_MAX   187500.0   /* uV: the Cyton's full scale at gain 24 */
#define REC_DIG_MAX    8388607
#define ACC_PHYS_MAX   4.0        /* g */
#define ACC_RATE       25         /* Hz, as the Cyton reports it */
#define ANNOT_PER_S    4          /* annotation signals per second of record (EDFlib: one annotation each) */
#define SYNC_EVERY_S   10         /* seconds between fdatasync (power loss bound; a crash loses nothing) */
#define GAP_QUIET_S    1.0        /* gaps closer than this are told in one annotation ... */
#define GAP_SPAN_S     10.0       /* ... that covers at most this much time */
#define RESUME_RECORDS 5          /* after a full disk, a new file starts once this much room is free */
#define SPACE_EVERY_S  0.25       /* statvfs at most this often */

struct dw_recorder {
    char   dir[PATH_MAX], subject[64];
    dw_source_info info;
    int    has_accel;
    double epoch0;                /* wall time of source time 0 */
    int    h;                     /* EDFlib handle, -1 when no file is open */
    int    fd;                    /* our descriptor on the BDF (count updates, size, sync) */
    int    log_fd;                /* side log */
    /* the file before a resume: its side log takes the events (or their parts) that fall within it
     * and come late, such as an epoch's stage */
    struct {
        int log_fd;               /* -1 none */
        long long frame0, frame_end;   /* source frames it holds: [frame0, frame_end) */
    } prev;
    char   path[PATH_MAX];
    long long file_frame0;        /* source frame at which the current file starts */
    long long src_frames;         /* frames seen from the source, gaps included */
    int    rec_n, acc_n;          /* samples per record (EEG, accel) */
    int    rec_cs;                /* record duration in 1/100 s: 0.2 s when the rates allow */
    int    annot_sig;             /* annotation signals per record */
    struct rec_geo { long long hdr_bytes, rec_bytes; } geo;  /* known once a record is on disk */
    long long records;            /* complete records on disk in the current file */
    long long nannot;             /* annotations (pieces) handed to EDFlib for the current file */
    double *buf;                  /* channel-major record: nch * rec_n, then 3 * rec_n accel */
    int    fill;                  /* frames in the current record */
    double last[DW_MAX_CH + 3];   /* held values for gaps and padding (accel after the channels) */
    int    failed;
    char   fail_msg[200];         /* what made the last file fail */
    double fail_mono, retry_s;    /* after a write failure, try a new file at most this often */
    int    fail_errno;            /* why: ENOSPC/EDQUOT resume as soon as there is room again */
    long long lost_frame0;        /* source frame where data started being dropped */
    long long unrecorded;         /* frames dropped by failures already resumed from */
    int nfiles;                   /* files started: 1, one more after each resume */
    int nfailures;                /* failed writes: a file abandoned, a side-log line not written */
    dw_outputs *outputs;          /* where each file is listed as it is created (NULL: nowhere) */
    double space_mono;            /* when free_bytes was measured, < 0 never */
    double free_bytes;            /* free space of the folder's file system, -1 unknown */
    struct {                      /* gaps not yet annotated (nearby ones are told together) */
        int  n;
        long long start, end, lost;   /* source frames: first gap's start, last gap's end, frames lost */
    } gaps;
    dw_err err;
};

static void flush_gaps(dw_recorder *r);

/* ---- side-log text, shared with recover ---- */

void dw_events_escape(const char *in, char *out, size_t outsz)
{
    size_t o = 0;
    for (; *in && o + 2 < outsz; in++) {
        char c = *in, e = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : c == '\\' ? '\\' : 0;
        if (e) {
            out[o++] = '\\';
            out[o++] = e;
        } else {
            out[o++] = c;
        }
    }
    out[o] = 0;
}

void dw_events_unescape(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            *o++ = *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s == 't' ? '\t' : *s;
        } else {
            *o++ = *s;
        }
    }
    *o = 0;
}

/* ---- files ---- */

static int mkdir_p(const char *dir)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; ; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = 0;
            if (mkdir(tmp, 0700) && errno != EEXIST)
                return -1;
            if (!c)
                break;
            *p = c;
        }
    }
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : (errno = ENOTDIR, -1);
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void set_io_err(dw_recorder *r, const char *what, int e)
{
    if (e == ENOSPC || e == EDQUOT)
        dw_err_set(&r->err, "%s: disk full (%s)", base_name(r->path), e == ENOSPC ? "ENOSPC" : "EDQUOT");
    else if (e == EFBIG)
        dw_err_set(&r->err, "%s: file too large (EFBIG)", base_name(r->path));
    else
        dw_err_set(&r->err, "%s: %s: %s", base_name(r->path), what, strerror(e ? e : EIO));
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Creates <dir>/<subject>-<stamp>[-k].bdf and its side log with O_EXCL | O_NOFOLLOW (a planted symlink or
 * file is a name taken: the next suffix is used), so nothing is overwritten and the mode is 0600 whatever
 * the umask; EDFlib then opens our descriptor through /proc/self/fd/N, never the name. */
static int create_files(dw_recorder *r, double wall)
{
    time_t t = (time_t)wall;
    struct tm tm;
    localtime_r(&t, &tm);
    char stamp[32], tsv[PATH_MAX + 16];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    for (int k = 1; k < 1000; k++) {
        char suffix[8] = "";
        if (k > 1)
            snprintf(suffix, sizeof suffix, "-%d", k);
        if (snprintf(r->path, sizeof r->path, "%s/%s-%s%s.bdf", r->dir, r->subject, stamp, suffix)
            >= (int)sizeof r->path) {
            errno = ENAMETOOLONG;
            return -1;
        }
        snprintf(tsv, sizeof tsv, "%s.events.tsv", r->path);
        r->fd = open(r->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (r->fd < 0 && errno == EEXIST)
            continue;
        if (r->fd < 0)
            return -1;
        r->log_fd = open(tsv, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_APPEND | O_CLOEXEC, 0600);
        if (r->log_fd < 0) {
            int e = errno;
            close(r->fd);
            unlink(r->path);
            r->fd = -1;
            if (e == EEXIST)
                continue;
            errno = e;
            return -1;
        }
        if (fchmod(r->fd, 0600) || fchmod(r->log_fd, 0600))
            return -1;
        static const char head[] = "onset_s\tduration_s\ttext\n";
        return write_all(r->log_fd, head, sizeof head - 1);
    }
    errno = EEXIST;
    return -1;
}

static int edf_setup(dw_recorder *r, double wall)
{
    int nch = r->info.nch, nsig = nch + (r->has_accel ? 3 : 0), h = r->h;
    int bad = edf_set_datarecord_duration(h, r->rec_cs * 1000);       /* in 10-us units */
    bad |= edf_set_number_of_annotation_signals(h, r->annot_sig);
    for (int i = 0; i < nsig; i++) {
        int acc = i >= nch;
        static const char *const acc_label[3] = { "AccX", "AccY", "AccZ" };
        bad |= edf_set_samplefrequency(h, i, acc ? r->acc_n : r->rec_n);
        bad |= edf_set_physical_maximum(h, i, acc ? ACC_PHYS_MAX : REC_PHYS_MAX);
        bad |= edf_set_physical_minimum(h, i, acc ? -ACC_PHYS_MAX : -REC_PHYS_MAX);
        bad |= edf_set_digital_maximum(h, i, REC_DIG_MAX);
        bad |= edf_set_digital_minimum(h, i, -REC_DIG_MAX);
        bad |= edf_set_physical_dimension(h, i, acc ? "g" : "uV");
        bad |= edf_set_label(h, i, acc ? acc_label[i - nch] : r->info.label[i][0] ? r->info.label[i] : "EEG");
    }
    time_t t = (time_t)wall;
    struct tm tm;
    localtime_r(&t, &tm);
    bad |= edf_set_startdatetime(h, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    bad |= edf_set_subsecond_starttime(h, (int)((wall - (double)t) * 1e4) * 1000);
    bad |= edf_set_patientcode(h, r->subject);
    bad |= edf_set_equipment(h, "dreamwatch " DW_VERSION);
    /* The staging roles, so a replay or `score` of this file stages it as it was staged live (the one
     * montage rule reads this back: sources/montage.h, rule 2). Signals 1..nch are the EEG channels. */
    char roles[48];
    dw_montage_roles_text(r->info.frontal, r->info.parietal, roles, sizeof roles);
    bad |= edf_set_recording_additional(h, roles);
    return bad ? -1 : 0;
}

/* Starts a file whose time 0 is source frame frame0. */
static int open_file(dw_recorder *r, long long frame0)
{
    double wall = r->epoch0 + (double)frame0 / r->info.fs;
    r->h = r->fd = r->log_fd = -1;
    r->records = 0;
    r->nannot = 0;
    r->fill = 0;
    r->file_frame0 = frame0;
    memset(&r->geo, 0, sizeof r->geo);
    if (create_files(r, wall)) {
        set_io_err(r, "cannot create", errno);
        goto fail;
    }
    char fdpath[32];           /* our own descriptor: no window in which the name could be swapped */
    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", r->fd);
    r->h = edfopen_file_writeonly(fdpath, EDFLIB_FILETYPE_BDFPLUS, r->info.nch + (r->has_accel ? 3 : 0));
    if (r->h < 0) {
        dw_err_set(&r->err, "%s: EDFlib cannot open it for writing (error %d)", r->path, r->h);
        goto fail;
    }
    if (edf_setup(r, wall)) {
        dw_err_set(&r->err, "%s: EDFlib refused the signal parameters", r->path);
        goto fail;
    }
    return 0;
fail:
    if (r->h >= 0)
        edfclose_file(r->h);
    if (r->fd >= 0) {
        close(r->fd);
        close(r->log_fd);
        char tsv[PATH_MAX + 16];
        snprintf(tsv, sizeof tsv, "%s.events.tsv", r->path);
        unlink(tsv);
        unlink(r->path);
    }
    r->h = r->fd = r->log_fd = -1;
    return -1;
}

/* Where the records lie, from the header EDFlib has written (the one header reader, layout only). */
static int read_geometry(dw_recorder *r, dw_err *err)
{
    dw_edf_header eh;
    if (dw_edf_header_read(r->fd, r->path, DW_EDF_LAYOUT, &eh, err) < 0)
        return -1;
    r->geo.hdr_bytes = eh.hdr_bytes;
    r->geo.rec_bytes = eh.rec_bytes;
    dw_edf_header_free(&eh);
    return 0;
}

static void put_count(dw_recorder *r)
{
    char f[24];
    snprintf(f, sizeof f, "%-8lld", r->records);
    if (pwrite(r->fd, f, 8, 236) != 8) {
        /* Rewriting 8 bytes in place needs no new block; if even that fails the count stays behind the
         * data and `recover` fixes it. */
    }
}

/* Records known to be complete on disk, from the file size. */
static long long records_on_disk(dw_recorder *r)
{
    struct stat st;
    if (fstat(r->fd, &st) || !r->geo.rec_bytes || st.st_size < r->geo.hdr_bytes)
        return 0;
    return (st.st_size - r->geo.hdr_bytes) / r->geo.rec_bytes;
}

/* After a failed write: let EDFlib close (it rewrites its own count and the annotations), then cut the
 * file back to its complete records and put the true count in the header. */
static void abandon_file(dw_recorder *r, int e)
{
    flush_gaps(r);                /* to the side log: the frames it held are gone with the file's tail */
    set_io_err(r, "write failed", e);
    edfclose_file(r->h);
    r->h = -1;
    if (!r->geo.rec_bytes)
        read_geometry(r, &(dw_err){ 0 });
    if (r->geo.rec_bytes) {
        r->records = records_on_disk(r);
        if (ftruncate(r->fd, (off_t)(r->geo.hdr_bytes + r->records * r->geo.rec_bytes)) == 0)
            put_count(r);
    } else {
        r->records = 0;       /* not even the header made it: nothing to keep */
        if (ftruncate(r->fd, 0)) { /* keep going: the file is simply empty */ }
    }
    fdatasync(r->fd);
    close(r->fd);
    r->fd = -1;
    r->failed = 1;
    r->nfailures++;
    r->fail_errno = e;
    snprintf(r->fail_msg, sizeof r->fail_msg, "%s", r->err.msg);
    r->fail_mono = dw_now_mono();
    r->lost_frame0 = r->file_frame0 + r->records * r->rec_n;
}

static int write_record(dw_recorder *r)
{
    int nch = r->info.nch;
    for (int c = 0; c < nch; c++)
        if (edfwrite_physical_samples(r->h, r->buf + (size_t)c * r->rec_n) < 0)
            goto fail;
    if (r->has_accel) {
        double acc[ACC_RATE * 60 + 1];
        for (int a = 0; a < 3; a++) {
            const double *src = r->buf + (size_t)(nch + a) * r->rec_n;
            for (int j = 0; j < r->acc_n; j++)
                acc[j] = src[(long long)j * r->rec_n / r->acc_n];
            if (edfwrite_physical_samples(r->h, acc) < 0)
                goto fail;
        }
    }
    r->fill = 0;
    if (!r->geo.rec_bytes && read_geometry(r, &r->err))
        goto fail;
    long long n = records_on_disk(r);
    if (n != r->records + 1) {
        errno = ENOSPC == errno || EFBIG == errno ? errno : EIO;
        goto fail;
    }
    r->records = n;
    put_count(r);
    if (r->records % ((SYNC_EVERY_S * 100 + r->rec_cs - 1) / r->rec_cs) == 0)
        fdatasync(r->fd);
    return 0;
fail:
    abandon_file(r, errno);
    return -1;
}

/* v within +-max; a value that is not a number keeps the held one. (EDFlib converts to int before it
 * clamps: beyond the int range the sign flips, so full scale must be applied here.) */
static void hold(double *last, double v, double max)
{
    if (isfinite(v))
        *last = v > max ? max : v < -max ? -max : v;
}

/* Appends one frame (NULL: hold the last values). */
static int push_frame(dw_recorder *r, const double *uv, const double *acc)
{
    int nch = r->info.nch, nsig = nch + (r->has_accel ? 3 : 0);
    for (int c = 0; uv && c < nch; c++)
        hold(&r->last[c], uv[c], REC_PHYS_MAX);
    for (int k = 0; acc && r->has_accel && k < 3; k++)
        hold(&r->last[nch + k], acc[k], ACC_PHYS_MAX);
    for (int c = 0; c < nsig; c++)
        r->buf[(size_t)c * r->rec_n + r->fill] = r->last[c];
    return ++r->fill == r->rec_n ? write_record(r) : 0;
}

static int log_event(dw_recorder *r, int log_fd, double onset, double dur, const char *text)
{
    size_t n = strlen(text);
    char *esc = malloc(2 * n + 1), *line = malloc(2 * n + 64);
    int rc = -1;
    if (esc && line) {
        dw_events_escape(text, esc, 2 * n + 1);
        int len = dur > 0 ? snprintf(line, 2 * n + 64, "%.4f\t%.4f\t%s\n", onset, dur, esc)
                          : snprintf(line, 2 * n + 64, "%.4f\t-\t%s\n", onset, esc);
        rc = write_all(log_fd, line, (size_t)len) || fdatasync(log_fd) ? -1 : 0;
    }
    if (rc) {
        set_io_err(r, "side log", errno);
        r->nfailures++;
    }
    free(esc);
    free(line);
    return rc;
}

/* A duration as a person reads it, to the millisecond: "4 ms", "1.500 s". */
static void say_duration(double s, char *out, size_t cap)
{
    if (s < 1.0)
        snprintf(out, cap, "%.0f ms", s * 1e3);
    else
        snprintf(out, cap, "%.3f s", s);
}

/* The pending gaps as one annotation: "Gap 4 ms" for one, "Gaps 28 ms in 7 (over 2.310 s)" for several;
 * its onset is the first gap's start and its duration runs to the last one's end. */
static void flush_gaps(dw_recorder *r)
{
    if (!r->gaps.n)
        return;
    double fs = r->info.fs, t0 = (double)r->gaps.start / fs;
    double span = (double)(r->gaps.end - r->gaps.start) / fs;
    char lost[24], over[24], text[64];
    say_duration((double)r->gaps.lost / fs, lost, sizeof lost);
    say_duration(span, over, sizeof over);
    if (r->gaps.n == 1)
        snprintf(text, sizeof text, "Gap %s", lost);
    else
        snprintf(text, sizeof text, "Gaps %s in %d (over %s)", lost, r->gaps.n, over);
    r->gaps.n = 0;
    dw_recorder_annotate(r, t0, span, text);
}

/* A gap of n frames starting at source frame at. */
static void add_gap(dw_recorder *r, long long at, long n)
{
    double fs = r->info.fs;
    if (r->gaps.n && (at - r->gaps.end > GAP_QUIET_S * fs || at + n - r->gaps.start > GAP_SPAN_S * fs))
        flush_gaps(r);
    if (!r->gaps.n) {
        r->gaps.start = at;
        r->gaps.lost = 0;
    }
    r->gaps.n++;
    r->gaps.end = at + n;
    r->gaps.lost += n;
}

/* Free bytes in the recording's folder (what this user may write), measured at most every SPACE_EVERY_S;
 * -1 if statvfs fails. */
static double free_bytes(dw_recorder *r)
{
    double now = dw_now_mono();
    if (r->space_mono >= 0 && now - r->space_mono < SPACE_EVERY_S)
        return r->free_bytes;
    struct statvfs vs;
    r->space_mono = now;
    r->free_bytes = statvfs(r->dir, &vs) ? -1
                  : (double)(geteuid() == 0 ? vs.f_bfree : vs.f_bavail) * (double)vs.f_frsize;
    return r->free_bytes;
}

/* The record duration in 1/100 s: as short as the rates allow (0.2 s for 250, 125 and 100 Hz with the
 * accelerometer at 25 Hz), so a crash loses less than a record; else whole seconds up to 60. 0: none. */
static int record_cs(double fs, int has_accel)
{
    static const int tries[] = { 20, 25, 50 };
    for (int i = 0; i < 3 + 60; i++) {
        int cs = i < 3 ? tries[i] : (i - 2) * 100;
        double n = fs * cs / 100, acc = ACC_RATE * cs / 100.0;
        if (fabs(n - round(n)) < 1e-6 && n >= 1 && (!has_accel || acc > n || fabs(acc - round(acc)) < 1e-9))
            return cs;
    }
    return 0;
}

/* ---- public ---- */

dw_recorder *dw_recorder_open(const char *dir, const char *subject, const dw_source_info *info,
                              int has_accel, dw_err *err)
{
    if (info->nch < 1 || info->nch > DW_MAX_CH || !(info->fs > 0)) {
        dw_err_set(err, "recorder: need 1-%d channels and a positive rate (got %d, %g Hz)", DW_MAX_CH,
                   info->nch, info->fs);
        return NULL;
    }
    int rec_cs = record_cs(info->fs, has_accel);
    if (!rec_cs) {
        dw_err_set(err, "recorder: rate %g Hz gives no whole number of samples in 1-60 s", info->fs);
        return NULL;
    }
    if (mkdir_p(dir)) {
        dw_err_set(err, "%s: cannot create the recording folder: %s", dir, strerror(errno));
        return NULL;
    }
    dw_recorder *r = calloc(1, sizeof *r);
    if (!r) {
        dw_err_set(err, "recorder: out of memory");
        return NULL;
    }
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    size_t k = 0;                          /* the subject code names the file: keep it a plain word */
    for (const char *s = subject ? subject : ""; *s && k < sizeof r->subject - 1; s++)
        r->subject[k++] = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
                          || *s == '-' || *s == '_' ? *s : '_';
    if (!k)
        strcpy(r->subject, "subject");
    r->info = *info;
    r->has_accel = has_accel;
    r->retry_s = 60;
    r->prev.log_fd = -1;
    r->space_mono = -1;
    r->epoch0 = info->start_epoch > 0 ? info->start_epoch : dw_now_wall();
    r->rec_cs = rec_cs;
    r->rec_n = (int)lround(info->fs * rec_cs / 100);
    r->acc_n = ACC_RATE * rec_cs / 100 <= r->rec_n ? ACC_RATE * rec_cs / 100 : r->rec_n;
    r->annot_sig = (ANNOT_PER_S * rec_cs + 99) / 100;
    r->annot_sig = r->annot_sig > 64 ? 64 : r->annot_sig;
    r->buf = calloc((size_t)(info->nch + 3) * r->rec_n, sizeof *r->buf);
    if (!r->buf || open_file(r, 0)) {
        if (r->buf)
            *err = r->err;
        else
            dw_err_set(err, "recorder: out of memory");
        free(r->buf);
        free(r);
        return NULL;
    }
    r->nfiles = 1;
    return r;
}

/* The current file and its side log into the outputs list, as "recording" and "side log" (the k-th
 * file after resumes: "recording k", "side log k"). */
static void list_files(dw_recorder *r)
{
    if (!r->outputs)
        return;
    char role[2][24] = { "recording", "side log" }, tsv[PATH_MAX + 16];
    if (r->nfiles > 1) {
        snprintf(role[0], sizeof role[0], "recording %d", r->nfiles);
        snprintf(role[1], sizeof role[1], "side log %d", r->nfiles);
    }
    snprintf(tsv, sizeof tsv, "%s.events.tsv", r->path);
    dw_outputs_add(r->outputs, role[0], r->path);
    dw_outputs_add(r->outputs, role[1], tsv);
}

void dw_recorder_list_outputs(dw_recorder *r, dw_outputs *list)
{
    r->outputs = list;
    list_files(r);
}

/* After a failure, a fresh file starting at the current frame: as soon as the disk has room again when it
 * was full (RESUME_RECORDS records' worth), else at most once per retry_s. */
static int try_resume(dw_recorder *r)
{
    int full = r->fail_errno == ENOSPC || r->fail_errno == EDQUOT;
    double room = full ? free_bytes(r) : -1;
    double need = (double)(r->geo.hdr_bytes + RESUME_RECORDS * r->geo.rec_bytes);
    if (dw_now_mono() - r->fail_mono < r->retry_s && !(full && r->geo.rec_bytes && room >= need))
        return -1;
    /* the old side log takes events until a new file really exists */
    int old_log = r->log_fd;
    long long old_frame0 = r->file_frame0;
    char old_path[PATH_MAX];
    snprintf(old_path, sizeof old_path, "%s", r->path);
    struct rec_geo old_geo = r->geo;
    long long old_records = r->records;
    if (open_file(r, r->src_frames)) {
        r->geo = old_geo;                  /* the sizes of a record stay known for the next try */
        r->records = old_records;
        r->fail_mono = dw_now_mono();
        char why[sizeof r->err.msg];
        snprintf(why, sizeof why, "%s", r->err.msg);
        dw_err_set(&r->err, "%s; a new file failed too: %s", r->fail_msg, why);
        r->log_fd = old_log;
        r->file_frame0 = old_frame0;
        snprintf(r->path, sizeof r->path, "%s", old_path);
        return -1;
    }
    if (r->prev.log_fd >= 0)
        close(r->prev.log_fd);
    r->prev.log_fd = old_log;            /* the old file keeps what falls within it, come late */
    r->prev.frame0 = old_frame0;
    r->prev.frame_end = r->lost_frame0;
    r->failed = 0;
    r->nfiles++;
    list_files(r);
    long long lost = r->src_frames - r->lost_frame0;     /* the annotation and the summary's figure */
    r->unrecorded += lost;
    char text[64];
    snprintf(text, sizeof text, "Recording resumed, %.1f s lost", (double)lost / r->info.fs);
    return dw_recorder_annotate(r, (double)r->src_frames / r->info.fs, -1, text);
}

int dw_recorder_write(dw_recorder *r, const dw_block *b)
{
    int nch = r->info.nch;
    if (r->failed && try_resume(r)) {
        r->src_frames += b->gap + b->n;
        return -1;
    }
    if (r->gaps.n && r->src_frames - r->gaps.end > GAP_QUIET_S * r->info.fs)
        flush_gaps(r);
    if (b->gap > 0) {
        if (b->gap > b->pause)
            add_gap(r, r->src_frames + b->pause, b->gap - b->pause);
        for (long i = 0; i < b->gap; i++) {
            r->src_frames++;
            if (push_frame(r, NULL, NULL))
                return r->src_frames += b->gap - 1 - i + b->n, -1;
        }
    }
    for (int i = 0; i < b->n; i++) {
        r->src_frames++;
        /* the block's single accelerometer reading is held from its first frame on */
        if (push_frame(r, b->uv + (size_t)i * nch, i == 0 && b->accel_valid ? b->accel : NULL))
            return r->src_frames += b->n - 1 - i, -1;
    }
    return 0;
}

/* The event as one file holds it: the file spans source frames [f0, f1) (f1 < 0: open, it grows).
 * An event with a duration is cut to its overlap with the span, a point event must lie within it
 * (its end included). 1 with the onset in the file and the duration (<= 0: none), 0 if the file
 * holds none of it. */
static int within_file(const dw_recorder *r, long long f0, long long f1, double t_s, double dur_s,
                       double *onset, double *dur)
{
    double start = (double)f0 / r->info.fs, end = f1 < 0 ? INFINITY : (double)f1 / r->info.fs;
    if (f0 == 0 && t_s < 0)               /* the first file holds everything before it */
        t_s = 0;
    double a = fmax(t_s, start), b = fmin(dur_s > 0 ? t_s + dur_s : t_s, end);
    if (dur_s > 0 ? b <= a : t_s < start || t_s > end)
        return 0;
    *onset = a - start;
    *dur = dur_s > 0 ? b - a : -1;
    return 1;
}

int dw_recorder_annotate(dw_recorder *r, double t_s, double dur_s, const char *text)
{
    double onset, dur;
    int rc = 0;
    /* a file abandoned after a write failure holds source time up to lost_frame0; what comes after
     * it goes into no file until a new one starts (the session log has every event) */
    if (r->prev.log_fd >= 0 &&
        within_file(r, r->prev.frame0, r->prev.frame_end, t_s, dur_s, &onset, &dur))
        rc |= log_event(r, r->prev.log_fd, onset, dur, text);
    if (!within_file(r, r->file_frame0, r->failed ? r->lost_frame0 : -1, t_s, dur_s, &onset, &dur))
        return rc;
    rc |= r->log_fd >= 0 ? log_event(r, r->log_fd, onset, dur, text) : -1;
    if (r->h >= 0) {                      /* a long text as pieces at one onset (edf_annot.h) */
        dw_annot_split sp;
        char piece[DW_ANNOT_BYTES + 1];
        long long on = llround(onset * 1e4), du = dur > 0 ? llround(dur * 1e4) : -1;
        dw_annot_split_begin(&sp, text);
        while (dw_annot_split_next(&sp, piece)) {
            edfwrite_annotation_utf8(r->h, on, du, piece);
            r->nannot++;
        }
    }
    return rc;
}

void dw_recorder_set_retry(dw_recorder *r, double seconds) { r->retry_s = seconds; }

double dw_recorder_free_mb(dw_recorder *r)
{
    double b = free_bytes(r);
    return b < 0 ? -1 : b / 1e6;
}
const char *dw_recorder_path(const dw_recorder *r) { return r->path; }

int dw_recorder_files(const dw_recorder *r) { return r->nfiles; }
int dw_recorder_failures(const dw_recorder *r) { return r->nfailures; }

double dw_recorder_unrecorded_s(const dw_recorder *r)
{
    return (double)(r->unrecorded + (r->failed ? r->src_frames - r->lost_frame0 : 0)) / r->info.fs;
}
const char *dw_recorder_error(const dw_recorder *r) { return r->err.msg; }

long long dw_recorder_bytes(const dw_recorder *r)
{
    return r->geo.hdr_bytes + r->records * r->geo.rec_bytes;
}

int dw_recorder_close(dw_recorder *r, dw_err *err)
{
    int rc = 0;
    flush_gaps(r);
    /* A partial last record is padded; a recording that got no data at all gets one padded record too
     * (EDFlib would otherwise write its annotations into records with no samples, which nothing reads). */
    if (r->h >= 0 && (r->fill > 0 || r->records == 0)) {
        char text[48];
        snprintf(text, sizeof text, "End padded %.2f s", (double)(r->rec_n - r->fill) / r->info.fs);
        dw_recorder_annotate(r, (double)r->src_frames / r->info.fs, -1, text);
        do {
            if (push_frame(r, NULL, NULL))
                rc = -1;
        } while (r->h >= 0 && r->fill > 0);
    }
    if (r->h >= 0) {
        if (edfclose_file(r->h))
            rc = -1, set_io_err(r, "closing", errno);
        r->h = -1;
        /* EDFlib wrote its count; make sure it matches what is really there */
        if (r->geo.rec_bytes && records_on_disk(r) != r->records)
            rc = -1, set_io_err(r, "closing", EIO);
        if (!rc && r->nannot > r->records * r->annot_sig && fdatasync(r->log_fd) == 0) {
            dw_err e = { 0 };           /* EDFlib dropped the extras: rewrite with them all; a rewrite
                                            holds one per annotation signal (at most 64 a record), so a
                                            second pass puts what is left into their free TAL space */
            if (dw_recover_file(r->path, NULL, &e) || dw_recover_file(r->path, NULL, &e))
                rc = -1, dw_err_set(&r->err, "%lld annotations did not fit in %s: %s", r->nannot,
                                    base_name(r->path), e.msg);
        }
    } else if (r->failed) {
        rc = -1;
    }
    if (r->fd >= 0 && fdatasync(r->fd))
        rc = -1, set_io_err(r, "sync", errno);
    if (r->log_fd >= 0 && fdatasync(r->log_fd))
        rc = -1, set_io_err(r, "side log sync", errno);
    if (r->fd >= 0)
        close(r->fd);
    if (r->log_fd >= 0)
        close(r->log_fd);
    if (r->prev.log_fd >= 0)
        close(r->prev.log_fd);
    if (rc && err)
        *err = r->err;
    free(r->buf);
    free(r);
    return rc;
}
