/* EDF, EDF+, BDF and BDF+ replay through EDFlib: the chosen channels, in microvolts, resampled to DW_FS.
 *
 * EDFlib keeps its open files in a global table without locks, so it is not thread-safe: the worker
 * thread owns every EDF call (open, read, seek, close, and dw_hypnogram_load while the worker runs).
 *
 * EDFlib answers almost every kind of damage with one code (-3, "format error"), so before handing a
 * file to it we check the fixed header fields ourselves and say which field is wrong. A file shorter than
 * its header promises (a crashed or interrupted copy) or with more complete records than the count says
 * (a writer that died between a record and its count update) is read through a private temporary copy
 * that holds exactly its complete records: that is what a user wants from a crashed night, and
 * info.note says so. A record count of -1 (a writer that never closed the file) is refused with a pointer
 * to `dreamwatch recover`, which repairs the file itself. EDFlib 1.23 refuses EDF+D and BDF+D, so those too
 * are read through a copy (see "EDF+D" below) and their gaps come back as dw_block.gap. */
#include "sources/source.h"
#include "base/files.h"
#include "dsp/resample.h"

#include <edflib.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_FRAMES 6000          /* at most 60 s per read: large EDFlib reads, bounded memory */
#define SLOW_HZ      50.0          /* default selection skips channels slower than this */
#define MAX_HZ       32768.0       /* faster than any EEG amplifier we know (BioSemi: 16 kHz) */
#define IN_CAP       65536         /* raw samples per EDFlib read */

typedef struct {
    int    sig;                    /* EDFlib signal number */
    double fs;                     /* its rate */
    double to_uv;                  /* physical unit -> uV */
    long long spr;                 /* samples per data record */
    long long end_in;              /* end of the current segment's input samples */
    long long next_in;             /* next input sample to read */
    long long skip;                /* resampler outputs still to drop (aligns the filter delay) */
    int    flushed;                /* the filter tail has been pushed out */
    dw_resampler *rs;
    double *q;                     /* resampled frames waiting, q[0..qlen) */
    int    qlen, qcap;
} edf_chan;

/* A run of records without a gap (a continuous file is one). Frames count source time at DW_FS, gaps
 * included; records count in the gap-free copy EDFlib reads. */
typedef struct {
    long long rec0, nrec;
    long long frame0, nframes;
} edf_seg;

typedef struct {
    int    handle;
    int    nch;
    edf_chan ch[DW_MAX_CH];
    edf_seg *seg;
    int    nseg, cur;              /* segments, the one being read */
    long long frame;               /* index (at DW_FS) of the next frame to deliver */
    long long gap;                 /* frames missing before it, to report on the next block */
    double *in;                    /* raw input scratch */
    size_t in_cap;
    double *frames;                /* interleaved output block */
} edf_priv;

/* ---- header check ------------------------------------------------------------------------------- */

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* A space-padded ASCII integer field; 0 on success. */
static int field_ll(const unsigned char *h, int off, int len, long long *v)
{
    char buf[32], *end;
    memcpy(buf, h + off, (size_t)len);
    buf[len] = 0;
    errno = 0;
    *v = strtoll(buf, &end, 10);
    if (end == buf || errno)
        return -1;
    while (*end == ' ')
        end++;
    return *end ? -1 : 0;
}

static int copy_range(int in, off_t off, int out, off_t len)
{
    while (len > 0) {
        ssize_t n = copy_file_range(in, &off, out, NULL, (size_t)len, 0);
        if (n <= 0)
            break;
        len -= n;
    }
    char buf[1 << 16];
    while (len > 0) {              /* copy_file_range refused (other file system, old kernel) */
        ssize_t n = pread(in, buf, len < (off_t)sizeof buf ? (size_t)len : sizeof buf, off);
        if (n <= 0 || write(out, buf, (size_t)n) != n)
            return -1;
        off += n;
        len -= n;
    }
    return 0;
}

/* ---- EDF+D -------------------------------------------------------------------------------------- */

/* EDFlib refuses EDF+D and BDF+D, and checks in EDF+C that every record starts one record duration after
 * the one before. So a discontinuous file is read through a copy that says "+C" and whose time-keeping
 * annotations count on without gaps; the real record starts, read here, put the gaps back. */
typedef struct {
    long long *onset;              /* each record's real start, 100 ns units after the header's start time */
    long long dur;                 /* record duration, 100 ns units */
    long long ann_off;             /* where the first annotation signal lies in a record */
    int    ann_len;                /* and its bytes */
} edf_disc;

/* A record duration field ("1", "0.5", "30      ") in 100 ns units, exactly as EDFlib reads it; -1 if bad. */
static long long duration_field(const unsigned char *h)
{
    long long v = 0, scale = EDFLIB_TIME_DIMENSION;
    int i = 0, dot = 0, digits = 0;
    for (; i < 8 && h[244 + i] != ' '; i++) {
        int c = h[244 + i];
        if (c == '.' && !dot)
            dot = 1;
        else if (c < '0' || c > '9')
            return -1;
        else if (dot)
            v += (c - '0') * (scale /= 10);
        else
            v = v * 10 + (c - '0') * EDFLIB_TIME_DIMENSION, digits++;
    }
    for (; i < 8; i++)
        if (h[244 + i] != ' ')
            return -1;
    return digits ? v : -1;
}

/* The onset of the time-keeping TAL that opens an annotation signal: "+12.5\x14\x14". Its text length, with
 * *t in 100 ns units (digits beyond the seventh decimal ignored, as EDFlib does), or -1. */
static int tal_onset(const unsigned char *a, int n, long long *t)
{
    long long sec = 0, frac = 0, scale = EDFLIB_TIME_DIMENSION;
    int i = 1, digits = 0, decimals = -1;
    if (n < 4 || (a[0] != '+' && a[0] != '-'))
        return -1;
    for (; i < n && a[i] != 0x14; i++) {
        if (a[i] == '.' && decimals < 0 && digits)
            decimals = 0;
        else if (a[i] < '0' || a[i] > '9' || (decimals < 0 && sec >= 10000000000LL))   /* 300 years */
            return -1;
        else if (decimals >= 0)
            frac += (a[i] - '0') * (scale /= 10), decimals++;
        else
            sec = sec * 10 + (a[i] - '0'), digits++;
    }
    if (!digits || !decimals || i + 1 >= n || a[i + 1] != 0x14)
        return -1;
    *t = (a[0] == '-' ? -1 : 1) * (sec * EDFLIB_TIME_DIMENSION + frac);
    return i;
}

/* "+12.5" for t >= 0 in 100 ns units. */
static int format_onset(char *s, size_t cap, long long t)
{
    int k = snprintf(s, cap, "+%lld", t / EDFLIB_TIME_DIMENSION);
    long long f = t % EDFLIB_TIME_DIMENSION;
    if (f) {
        int d = 7;
        while (f % 10 == 0)
            f /= 10, d--;
        k += snprintf(s + k, cap - (size_t)k, ".%0*lld", d, f);
    }
    return k;
}

/* Annotation bytes a[0..n) whose time-keeping onset (olen characters) becomes t. Annotations that shared
 * the time-keeping TAL move to a TAL of their own with their real onset. tmp holds n + 64 bytes.
 * 0, or -1 when the result does not fit the signal. */
static int tal_rewrite(unsigned char *a, int n, int olen, long long t, unsigned char *tmp)
{
    int k = format_onset((char *)tmp, 32, t), e = olen + 2;
    tmp[k++] = 0x14, tmp[k++] = 0x14, tmp[k++] = 0;
    while (e < n && a[e])
        e++;                                    /* a[e]: the 0 that ends the time-keeping TAL */
    if (e >= n)
        return -1;
    if (e > olen + 2) {                         /* "+real\x14" "text\x14...\0" */
        memcpy(tmp + k, a, (size_t)olen + 1);
        k += olen + 1;
        if (k + e - olen - 1 > n)
            return -1;
        memcpy(tmp + k, a + olen + 2, (size_t)(e - olen - 1));
        k += e - olen - 1;
    }
    int last = n;
    while (last > e + 1 && !a[last - 1])
        last--;
    if (last > e + 1) {                         /* the record's other TALs, then one 0 */
        if (k + last - e > n)
            return -1;
        memcpy(tmp + k, a + e + 1, (size_t)(last - e - 1));
        k += last - e - 1;
        tmp[k++] = 0;
    }
    if (k > n)
        return -1;
    memset(tmp + k, 0, (size_t)(n - k));
    memcpy(a, tmp, (size_t)n);
    return 0;
}

/* Reads every record's start of a discontinuous file into d; -1 with err naming the record. */
static int disc_read_onsets(const char *path, int fd, const unsigned char *h, int ns, int bdf, long long hsize,
                            long long recsize, long long nrec, edf_disc *d, dw_err *err)
{
    const char *want = bdf ? "BDF Annotations " : "EDF Annotations ";
    int sig = -1;
    d->ann_off = 0;
    for (int i = 0; i < ns && sig < 0; i++) {
        long long spr;
        field_ll(h, 256 + ns * 216 + i * 8, 8, &spr);
        if (!memcmp(h + 256 + i * 16, want, 16))
            sig = i, d->ann_len = (int)spr * (bdf ? 3 : 2);
        else
            d->ann_off += spr * (bdf ? 3 : 2);
    }
    if (sig < 0) {
        dw_err_set(err, "%s: a discontinuous (%.5s) file without an \"%.15s\" signal: the record start times "
                   "are unknown", path, (const char *)h + 192, want);
        return -1;
    }
    if ((d->dur = duration_field(h)) < 0) {
        dw_err_set(err, "%s: bad record-duration field \"%.8s\" (header byte 244)", path, (const char *)h + 244);
        return -1;
    }
    unsigned char *a = malloc((size_t)d->ann_len), *tmp = malloc((size_t)d->ann_len + 64);
    if (!a || !tmp || !(d->onset = malloc((size_t)nrec * sizeof *d->onset))) {
        dw_err_set(err, "%s: out of memory", path);
        free(a);
        free(tmp);
        return -1;
    }
    int rc = 0, olen = 0;
    for (long long r = 0; r < nrec && !rc; r++) {
        long long at = hsize + r * recsize + d->ann_off, *t = &d->onset[r];
        rc = -1;
        if (pread(fd, a, (size_t)d->ann_len, at) != d->ann_len)
            dw_err_set(err, "%s: read error in data record %lld", path, r + 1);
        else if ((olen = tal_onset(a, d->ann_len, t)) < 0)
            dw_err_set(err, "%s: data record %lld (byte %lld): no time-keeping annotation (\"+seconds\\x14\\x14\") "
                       "at the start of its \"%.15s\" signal", path, r + 1, at, want);
        else if (r == 0 && (*t < 0 || *t >= EDFLIB_TIME_DIMENSION))
            dw_err_set(err, "%s: data record 1 starts %.7g s after the header's start time; EDF+ wants 0 to "
                       "under 1 s", path, (double)*t / EDFLIB_TIME_DIMENSION);
        else if (r > 0 && *t < t[-1] + d->dur)
            dw_err_set(err, "%s: data record %lld starts at %.7g s, before data record %lld ends (%.7g s): "
                       "overlapping or backwards record times", path, r + 1, (double)*t / EDFLIB_TIME_DIMENSION,
                       r, (double)(t[-1] + d->dur) / EDFLIB_TIME_DIMENSION);
        else if (*t != d->onset[0] + r * d->dur && tal_rewrite(a, d->ann_len, olen, d->onset[0] + r * d->dur, tmp))
            dw_err_set(err, "%s: data record %lld (byte %lld): the annotations in its time-keeping TAL do not fit "
                       "its \"%.15s\" signal once the gaps are taken out", path, r + 1, at, want);
        else
            rc = 0;
    }
    free(a);
    free(tmp);
    return rc;
}

/* "x.edf: discontinuous: 3 segments, 12.5 s missing between them" when there are gaps. */
static void disc_note(const edf_disc *d, long long nrec, const char *name, char *note, size_t cap)
{
    long long missing = 0;
    int segs = 1;
    for (long long r = 1; r < nrec; r++)
        if (d->onset[r] != d->onset[r - 1] + d->dur)
            segs++, missing += d->onset[r] - d->onset[r - 1] - d->dur;
    size_t k = strlen(note);
    if (segs > 1)
        snprintf(note + k, cap - k, "%s%s: discontinuous: %d segments, %.7g s missing between them", k ? "; " : "",
                 name, segs, (double)missing / EDFLIB_TIME_DIMENSION);
}

/* In the copy: each record's time-keeping onset counts on without gaps (checked to fit when read). */
static int disc_rewrite(int in, int out, long long hsize, long long recsize, long long nrec, const edf_disc *d)
{
    unsigned char *a = malloc((size_t)d->ann_len), *tmp = malloc((size_t)d->ann_len + 64);
    int rc = a && tmp ? 0 : -1;
    for (long long r = 1; r < nrec && !rc; r++) {
        long long at = hsize + r * recsize + d->ann_off, t = d->onset[0] + r * d->dur, real;
        if (d->onset[r] == t)
            continue;
        int olen;
        if (pread(in, a, (size_t)d->ann_len, at) != d->ann_len || (olen = tal_onset(a, d->ann_len, &real)) < 0 ||
            tal_rewrite(a, d->ann_len, olen, t, tmp) || pwrite(out, a, (size_t)d->ann_len, at) != d->ann_len)
            rc = -1;
    }
    free(a);
    free(tmp);
    return rc;
}

/* Header with the record count set to nrec, then the first nrec records (without gaps when d is given): a
 * file EDFlib accepts. The copy is mode 0600 (health data) and unlinked as soon as EDFlib has it open. */
static int repaired_copy(int fd, const unsigned char *hdr, long long hsize, long long nrec,
                         long long recsize, const edf_disc *d, char *tmp, size_t tmp_cap)
{
    const char *dir = getenv("TMPDIR");
    snprintf(tmp, tmp_cap, "%s/dreamwatch-edf-XXXXXX", dir && *dir ? dir : "/tmp");
    int out = mkstemp(tmp);
    if (out < 0)
        return -1;
    unsigned char *h = malloc((size_t)hsize);
    int rc = -1;
    if (h) {
        char cnt[24];
        memcpy(h, hdr, (size_t)hsize);
        snprintf(cnt, sizeof cnt, "%-8lld", nrec);
        memcpy(h + 236, cnt, 8);
        if (d)
            memcpy(h + 192, hdr[0] == 0xff ? "BDF+C" : "EDF+C", 5);
        rc = write(out, h, (size_t)hsize) == hsize ? copy_range(fd, hsize, out, nrec * recsize) : -1;
        if (!rc && d)
            rc = disc_rewrite(fd, out, hsize, recsize, nrec, d);
        free(h);
    }
    close(out);
    if (rc)
        unlink(tmp);
    return rc;
}

/* EDF+ repeats the start date in the recording field ("Startdate 01-AUG-1994"); EDFlib refuses a file
 * where it disagrees with the date field (seven Sleep-EDF telemetry hypnograms start after midnight but
 * keep the evening's date there). Sets the recording field from the date field; 1 if it changed. */
static int fix_start_date(unsigned char *h, char *note, size_t note_cap, const char *name)
{
    static const char months[] = "JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC";
    char *rec = (char *)h + 88, date[9];
    int dd, mm, yy, n = 0;
    memcpy(date, h + 168, 8);                     /* sscanf needs a string: the header has no NUL */
    date[8] = 0;
    if ((memcmp(h + 192, "EDF+", 4) && memcmp(h + 192, "BDF+", 4)) || memcmp(rec, "Startdate ", 10) ||
        rec[12] != '-' || rec[16] != '-' || rec[21] != ' ' ||
        sscanf(date, "%2d.%2d.%2d%n", &dd, &mm, &yy, &n) != 3 || n != 8 || dd < 1 || dd > 31 || mm < 1 ||
        mm > 12 || yy < 0 || yy > 99)
        return 0;
    char want[32];
    snprintf(want, sizeof want, "%02d-%.3s-%04d", dd, months + 3 * (mm - 1), yy >= 85 ? 1900 + yy : 2000 + yy);
    if (!memcmp(rec + 10, want, 11))
        return 0;
    snprintf(note, note_cap, "%s: the start date in the recording field (%.11s) differs from the header's "
             "(%.8s); using %.8s", name, rec + 10, date, date);
    memcpy(rec + 10, want, 11);
    return 1;
}

/* Checks what EDFlib would only call a format error. 0 and *open_path set (the file itself or a
 * repaired copy in tmp), or -1 with err. d->onset is set (caller frees) for a discontinuous file. */
static int edf_check_header(const char *path, int fd, char *tmp, size_t tmp_cap, const char **open_path,
                            char *note, size_t note_cap, edf_disc *d, dw_err *err)
{
    const char *name = base_name(path);
    struct stat st;
    unsigned char *h = NULL;
    unsigned char h0[256];
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        dw_err_set(err, "%s: not a regular file", path);
        return -1;
    }
    long long fsize = st.st_size;
    ssize_t got = pread(fd, h0, sizeof h0, 0);
    if (got < 0) {
        dw_err_set(err, "%s: read error: %s", path, strerror(errno));
        return -1;
    }
    int bdf = got >= 8 && !memcmp(h0, "\xff" "BIOSEMI", 8);
    if (!bdf && (got < 8 || memcmp(h0, "0       ", 8))) {
        dw_err_set(err, "%s: not an EDF/BDF file (%s)", path,
                   got == 0 ? "it is empty" : "it starts with neither \"0       \" nor \"\\xffBIOSEMI\"");
        return -1;
    }
    if (got < 256) {
        dw_err_set(err, "%s: truncated in the header: %zd of at least 256 header bytes present", path, got);
        return -1;
    }
    long long ns, hs, nrec;
    if (field_ll(h0, 252, 4, &ns) || ns < 1 || ns > EDFLIB_MAXSIGNALS) {
        dw_err_set(err, "%s: bad number-of-signals field \"%.4s\" (header byte 252)", path, (char *)h0 + 252);
        return -1;
    }
    long long need = 256 * (ns + 1);
    if (field_ll(h0, 184, 8, &hs) || hs != need) {
        dw_err_set(err, "%s: wrong header-size field \"%.8s\" (header byte 184): %lld signals need %lld bytes",
                   path, (char *)h0 + 184, ns, need);
        return -1;
    }
    if (fsize < need) {
        dw_err_set(err, "%s: truncated in the header: %lld of %lld header bytes present", path, fsize, need);
        return -1;
    }
    if (field_ll(h0, 236, 8, &nrec) || nrec < -1) {
        dw_err_set(err, "%s: bad record-count field \"%.8s\" (header byte 236)", path, (char *)h0 + 236);
        return -1;
    }
    if (nrec == -1) {
        dw_err_set(err, "%s: record count is -1: the recording was never closed (the writer crashed?); "
                   "`dreamwatch recover %s` rewrites the count from the file size", path, path);
        return -1;
    }
    if (!(h = malloc((size_t)need)) || pread(fd, h, (size_t)need, 0) != need) {
        dw_err_set(err, "%s: read error in the header", path);
        free(h);
        return -1;
    }
    long long recsize = 0;
    for (int i = 0; i < ns; i++) {
        long long spr;
        int off = 256 + (int)ns * 216 + i * 8;
        if (field_ll(h, off, 8, &spr) || spr < 1 || spr > INT_MAX / 3) {
            dw_err_set(err, "%s: bad samples-per-record field \"%.8s\" for signal %d (header byte %d)",
                       path, (char *)h + off, i + 1, off);
            free(h);
            return -1;
        }
        recsize += spr * (bdf ? 3 : 2);
    }
    long long have = (fsize - need) / recsize, tail = (fsize - need) % recsize;
    *open_path = path;
    int rc = 0, date_fixed = fix_start_date(h, note, note_cap, name);
    int disc = !memcmp(h + 192, bdf ? "BDF+D" : "EDF+D", 5);
    if (nrec == 0 && have == 0) {
        dw_err_set(err, "%s: no data records", path);
        rc = -1;
    } else if (have == 0) {
        dw_err_set(err, "%s: truncated: 0 of %lld data records present", path, nrec);
        rc = -1;
    } else if ((have != nrec || tail) && have > 99999999) {
        dw_err_set(err, "%s: %lld data records do not fit the header's record count field", path, have);
        rc = -1;
    } else if (disc && disc_read_onsets(path, fd, h, (int)ns, bdf, need, recsize, have, d, err)) {
        rc = -1;
    } else if (have != nrec || tail || date_fixed || disc) {
        size_t k = strlen(note);
        const char *sep = k ? "; " : "";
        if (have < nrec)
            snprintf(note + k, note_cap - k, "%s%s: truncated: %lld of %lld data records present; reading the "
                     "%lld complete records", sep, name, have, nrec, have);
        else if (have > nrec)
            snprintf(note + k, note_cap - k, "%s%s: the header counts %lld data records but %lld are present "
                     "(the writer stopped?); reading all %lld", sep, name, nrec, have, have);
        else if (tail)
            snprintf(note + k, note_cap - k, "%s%s: %lld bytes after the last of %lld data records ignored", sep,
                     name, tail, nrec);
        if (disc)
            disc_note(d, have, name, note, note_cap);
        if (repaired_copy(fd, h, need, have, recsize, disc ? d : NULL, tmp, tmp_cap)) {
            dw_err_set(err, "%s: cannot make a temporary %s copy in %s: %s", path, disc ? "gap-free" : "repaired",
                       getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", strerror(errno));
            rc = -1;
        } else {
            *open_path = tmp;
        }
    }
    free(h);
    return rc;
}

/* dw_edf_open_checked, and for a discontinuous file each record's start (100 ns units after the header's
 * start time) in *onset (caller frees; NULL for a continuous file). */
static int open_checked(const char *path, struct edf_hdr_struct *hdr, char *note, size_t note_cap,
                        long long **onset, dw_err *err)
{
    char tmp[1100];
    const char *open_path;
    edf_disc d = { NULL, 0, 0, 0 };
    if (note_cap)
        note[0] = 0;
    *onset = NULL;
    int fd = dw_input_open(path, "recording", err);   /* a FIFO or a device is refused, never waited on */
    if (fd < 0)
        return -1;
    int rc = edf_check_header(path, fd, tmp, sizeof tmp, &open_path, note, note_cap, &d, err);
    if (rc) {
        free(d.onset);
        close(fd);
        return -1;
    }
    memset(hdr, 0, sizeof *hdr);
    rc = edfopen_file_readonly(open_path, hdr, EDFLIB_READ_ALL_ANNOTATIONS);
    if (rc < 0 && hdr->filetype == EDFLIB_FILE_ALREADY_OPENED && open_path == path) {
        /* EDFlib refuses a path it has open (a recording that is also its own reference hypnogram);
         * another name for the same file is fine. */
        snprintf(tmp, sizeof tmp, "/proc/self/fd/%d", fd);
        memset(hdr, 0, sizeof *hdr);
        rc = edfopen_file_readonly(tmp, hdr, EDFLIB_READ_ALL_ANNOTATIONS);
    }
    close(fd);
    if (open_path != path)
        unlink(open_path);       /* EDFlib holds it open; nothing is left on disk */
    if (rc == 0) {
        *onset = d.onset;
        return hdr->handle;
    }
    free(d.onset);
    switch (hdr->filetype) {
    case EDFLIB_MALLOC_ERROR:
        dw_err_set(err, "%s: out of memory while opening", path);
        break;
    case EDFLIB_NO_SUCH_FILE_OR_DIRECTORY:
    case EDFLIB_FILE_READ_ERROR:
        dw_err_set(err, "%s: read error while opening", path);
        break;
    case EDFLIB_MAXFILES_REACHED:
        dw_err_set(err, "%s: too many EDF files open at once (EDFlib allows 64)", path);
        break;
    case EDFLIB_FILE_ALREADY_OPENED:
        dw_err_set(err, "%s: already open (EDFlib opens a file only once at a time)", path);
        break;
    case EDFLIB_NUMBER_OF_SIGNALS_INVALID:
        dw_err_set(err, "%s: invalid number of signals", path);
        break;
    default:
        dw_err_set(err, "%s: not a valid EDF/BDF file (format error in the header fields or the EDF+ "
                   "time-keeping annotations; EDFbrowser's header check shows which)", path);
        break;
    }
    return -1;
}

int dw_edf_open_checked(const char *path, struct edf_hdr_struct *hdr, char *note, size_t note_cap,
                        dw_err *err)
{
    long long *onset;
    int fh = open_checked(path, hdr, note, note_cap, &onset, err);
    free(onset);
    return fh;
}

/* ---- channels ----------------------------------------------------------------------------------- */

/* Lower case, spaces dropped, a leading "EEG " dropped: "EEG Fpz-Cz" -> "fpz-cz". */
static void norm_label(const char *in, char *out, size_t cap)
{
    size_t k = 0;
    while (*in == ' ')
        in++;
    if (!strncasecmp(in, "EEG ", 4))
        in += 4;
    for (; *in && k + 1 < cap; in++)
        if (*in != ' ')
            out[k++] = (char)((*in >= 'A' && *in <= 'Z') ? *in + 32 : *in);
    out[k] = 0;
}

/* The first electrode of a derivation: "fpz-cz" -> "fpz". */
static int electrode_is(const char *norm, const char *const *names)
{
    size_t len = strcspn(norm, "-:/");
    for (; *names; names++)
        if (strlen(*names) == len && !strncmp(norm, *names, len))
            return 1;
    return 0;
}

static const char *const frontal_names[] = { "fpz", "fp1", "fp2", "fz", "f3", "f4", NULL };
static const char *const parietal_names[] = { "pz", "oz", "o1", "o2", "p3", "p4", NULL };
static const char *const ten_twenty[] = {
    "fpz", "fp1", "fp2", "af3", "af4", "afz", "fz", "f1", "f2", "f3", "f4", "f7", "f8", "fcz", "fc1", "fc2",
    "fc3", "fc4", "fc5", "fc6", "cz", "c1", "c2", "c3", "c4", "c5", "c6", "t3", "t4", "t5", "t6", "t7", "t8",
    "cpz", "cp1", "cp2", "cp3", "cp4", "cp5", "cp6", "pz", "p1", "p2", "p3", "p4", "p7", "p8", "poz", "po3",
    "po4", "oz", "o1", "o2", "a1", "a2", "m1", "m2", NULL
};

static double sig_rate(const struct edf_hdr_struct *h, int s)
{
    return (double)h->signalparam[s].smp_in_datarecord * EDFLIB_TIME_DIMENSION / (double)h->datarecord_duration;
}

static void trimmed(const char *in, char *out, size_t cap)
{
    snprintf(out, cap, "%s", in);
    for (size_t n = strlen(out); n && out[n - 1] == ' '; n--)
        out[n - 1] = 0;
}

static int is_annotation_signal(const char *label)
{
    return !strncmp(label, "EDF Annotations", 15) || !strncmp(label, "BDF Annotations", 15);
}

/* "\"EEG Fpz-Cz\", \"EEG Pz-Oz\", ..." for error messages. */
static void label_list(const struct edf_hdr_struct *h, char *list, size_t cap)
{
    list[0] = 0;
    for (int s = 0; s < h->edfsignals; s++) {
        char l[24];
        trimmed(h->signalparam[s].label, l, sizeof l);
        size_t k = strlen(list);
        snprintf(list + k, cap - k, "%s\"%s\"", s ? ", " : "", l);
    }
}

/* The file's signal named by spec (a label or a 1-based index), or -1 with err listing what there is. */
static int find_signal(const struct edf_hdr_struct *h, const char *spec, const char *path, dw_err *err)
{
    char want[64], have[64], list[400];
    size_t digits = strspn(spec, "0123456789");
    if (digits && !spec[digits]) {
        long i = strtol(spec, NULL, 10);
        if (i >= 1 && i <= h->edfsignals)
            return (int)i - 1;
        dw_err_set(err, "%s: no channel number %s (the file has %d channels)", path, spec, h->edfsignals);
        return -1;
    }
    norm_label(spec, want, sizeof want);
    for (int s = 0; s < h->edfsignals; s++) {
        norm_label(h->signalparam[s].label, have, sizeof have);
        if (!strcmp(want, have))
            return s;
    }
    label_list(h, list, sizeof list);
    dw_err_set(err, "%s: no channel \"%s\"; the file has %s", path, spec, list);
    return -1;
}

/* Scale from the signal's physical unit to uV; *known = 0 when the unit is not a voltage we know. */
static double unit_to_uv(const char *dim, int *known)
{
    static const struct { const char *u; double f; } units[] = {
        { "uV", 1 }, { "uv", 1 }, { "UV", 1 }, { "\xc2\xb5V", 1 }, { "\xce\xbcV", 1 }, { "\xb5V", 1 },
        { "microV", 1 }, { "mV", 1e3 }, { "V", 1e6 }, { "nV", 1e-3 },
    };
    char u[16];
    trimmed(dim, u, sizeof u);
    *known = 1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(u, units[i].u))
            return units[i].f;
    *known = 0;
    return 1;
}

/* Picks the delivered channels and the frontal/parietal ones; 0 or -1 with err. */
static int choose_channels(const struct edf_hdr_struct *h, const dw_channel_spec *spec, const char *path,
                           int *sig, int *nsig, int *frontal, int *parietal, dw_err *err)
{
    char norm[64];
    *nsig = 0;
    if (spec && spec->nchannels > 0) {
        for (int i = 0; i < spec->nchannels && i < DW_MAX_CH; i++)
            if ((sig[(*nsig)++] = find_signal(h, spec->channels[i], path, err)) < 0)
                return -1;
    } else {
        for (int s = 0; s < h->edfsignals && *nsig < DW_MAX_CH; s++) {
            const char *l = h->signalparam[s].label;
            norm_label(l, norm, sizeof norm);
            if (is_annotation_signal(l) || sig_rate(h, s) < SLOW_HZ)
                continue;
            if (!strncasecmp(l, "EEG", 3) || electrode_is(norm, ten_twenty))
                sig[(*nsig)++] = s;
        }
        if (*nsig == 0) {
            char list[400];
            label_list(h, list, sizeof list);
            dw_err_set(err, "%s: no EEG channel at %g Hz or faster found by name; choose channels by label "
                       "or number (the file has %s)", path, SLOW_HZ, list);
            return -1;
        }
    }
    /* Frontal / parietal: named in the spec (added to the channels if missing), else by electrode. */
    const char *want[2] = { spec ? spec->frontal : "", spec ? spec->parietal : "" };
    const char *const *names[2] = { frontal_names, parietal_names };
    int *role[2] = { frontal, parietal };
    for (int r = 0; r < 2; r++) {
        *role[r] = -1;
        if (want[r][0] && !strcasecmp(want[r], "none"))
            continue;
        if (want[r][0]) {
            int s = find_signal(h, want[r], path, err);
            if (s < 0)
                return -1;
            for (int i = 0; i < *nsig && *role[r] < 0; i++)
                if (sig[i] == s)
                    *role[r] = i;
            if (*role[r] < 0) {
                if (*nsig == DW_MAX_CH) {
                    dw_err_set(err, "%s: too many channels (at most %d)", path, DW_MAX_CH);
                    return -1;
                }
                sig[*nsig] = s;
                *role[r] = (*nsig)++;
            }
            continue;
        }
        for (const char *const *n = names[r]; *n && *role[r] < 0; n++)
            for (int i = 0; i < *nsig && *role[r] < 0; i++) {
                norm_label(h->signalparam[sig[i]].label, norm, sizeof norm);
                const char *one[2] = { *n, NULL };
                if (electrode_is(norm, one) && i != *frontal)
                    *role[r] = i;
            }
    }
    /* No frontal name: the first channel that is not the parietal one, so one channel always stages. */
    if (*frontal < 0 && !(spec && !strcasecmp(spec->frontal, "none"))) {
        *frontal = *parietal == 0 && *nsig > 1 ? 1 : 0;
        if (*frontal == *parietal)
            *parietal = -1;
    }
    return 0;
}

/* ---- reading ------------------------------------------------------------------------------------ */

/* Positions every channel at frame k0 (at DW_FS), or at the start of the next segment when k0 falls in a
 * gap (which then counts as missing). The filter starts a little earlier so it has settled, though never
 * before the segment: data on either side of a gap are never filtered together. The outputs before k0
 * (plus the filter delay) are dropped, which keeps the channels aligned to within half a frame (the delay
 * is rounded to whole frames). */
static int edf_seek_frame(edf_priv *p, long long k0)
{
    int s = 0;
    while (s + 1 < p->nseg && p->seg[s + 1].frame0 <= k0)
        s++;
    const edf_seg *g = &p->seg[s];
    if (k0 >= g->frame0 + g->nframes && s + 1 < p->nseg)
        g = &p->seg[++s];
    long long k = k0 < g->frame0 ? g->frame0 : k0;
    if (k > g->frame0 + g->nframes)
        k = g->frame0 + g->nframes;
    for (int c = 0; c < p->nch; c++) {
        edf_chan *ch = &p->ch[c];
        double delay = dw_resampler_delay_s(ch->rs);
        long long in0 = g->rec0 * ch->spr, lk = k - g->frame0;
        long long i0 = in0 + (long long)floor(lk * ch->fs / DW_FS) - (long long)ceil(2 * delay * ch->fs);
        ch->end_in = in0 + g->nrec * ch->spr;
        if (i0 < in0)
            i0 = in0;
        if (i0 > ch->end_in)
            i0 = ch->end_in;
        if (edfseek(p->handle, ch->sig, i0, EDFSEEK_SET) < 0)
            return -1;
        dw_resampler_reset(ch->rs);
        ch->next_in = i0;
        ch->skip = llround(((double)lk / DW_FS - (double)(i0 - in0) / ch->fs + delay) * DW_FS);
        ch->flushed = 0;
        ch->qlen = 0;
    }
    p->cur = s;
    p->gap = k - k0 > 0 ? k - k0 : 0;
    p->frame = k;
    return 0;
}

static void queue_push(edf_chan *ch, const double *y, size_t n)
{
    size_t drop = (size_t)(ch->skip < (long long)n ? ch->skip : (long long)n);
    ch->skip -= (long long)drop;
    y += drop;
    n -= drop;
    if (n > (size_t)(ch->qcap - ch->qlen))
        n = (size_t)(ch->qcap - ch->qlen);   /* cannot happen: qcap covers one chunk's outputs */
    memcpy(ch->q + ch->qlen, y, n * sizeof *y);
    ch->qlen += (int)n;
}

/* Reads and resamples until channel c has `want` frames waiting or its input is used up. */
static int fill_channel(dw_source *src, edf_priv *p, edf_chan *ch, int want)
{
    double out[CHUNK_FRAMES / 4 + 64];
    while (ch->qlen < want && !ch->flushed) {
        long long n = (long long)ceil((want - ch->qlen + ch->skip) * ch->fs / DW_FS) + 8;
        if (n > (long long)p->in_cap)
            n = (long long)p->in_cap;
        long long left = ch->end_in - ch->next_in;
        if (left > 0) {
            if (n > left)
                n = left;
            int got = edfread_physical_samples(p->handle, ch->sig, (int)n, p->in);
            if (got <= 0) {
                char l[24];
                trimmed(src->info.label[ch - p->ch], l, sizeof l);
                dw_err_set(&src->err, "%s: read error in channel \"%s\" at sample %lld", src->path, l,
                           ch->next_in);
                return -1;
            }
            n = got;
            ch->next_in += got;
            for (long long i = 0; i < n; i++)
                p->in[i] *= ch->to_uv;
        } else {
            /* End of input: zeros push the filter's tail (its delay) out. */
            n = (long long)ceil(dw_resampler_delay_s(ch->rs) * ch->fs) + 4;
            if (n > (long long)p->in_cap)
                n = (long long)p->in_cap;
            memset(p->in, 0, (size_t)n * sizeof *p->in);
            ch->flushed = 1;
        }
        /* Feed in pieces small enough that the outputs fit `out`. */
        size_t piece = (size_t)fmax(1, floor((sizeof out / sizeof out[0] - 8) * ch->fs / DW_FS));
        for (long long i = 0; i < n; i += (long long)piece) {
            size_t m = (size_t)(n - i) < piece ? (size_t)(n - i) : piece;
            queue_push(ch, out, dw_resampler_run(ch->rs, p->in + i, m, out, sizeof out / sizeof out[0]));
        }
    }
    return 0;
}

static int edf_read(dw_source *src, dw_block *out, int max_frames, int timeout_ms)
{
    (void)timeout_ms;
    edf_priv *p = src->priv;
    long long left;
    while ((left = p->seg[p->cur].frame0 + p->seg[p->cur].nframes - p->frame) <= 0) {
        if (p->cur + 1 >= p->nseg)
            return DW_SRC_EOF;
        long long gap = p->gap;      /* a gap not yet reported (a seek into one) adds to the next */
        if (edf_seek_frame(p, p->frame)) {
            dw_err_set(&src->err, "%s: cannot position at segment %d (%.2f s)", src->path, p->cur + 2,
                       (double)p->seg[p->cur + 1].frame0 / DW_FS);
            return DW_SRC_ERR;
        }
        p->gap += gap;
    }
    int want = max_frames < CHUNK_FRAMES ? max_frames : CHUNK_FRAMES;
    if (want > left)
        want = (int)left;
    if (want <= 0)
        return 0;
    int n = want;
    for (int c = 0; c < p->nch; c++) {
        if (fill_channel(src, p, &p->ch[c], want))
            return DW_SRC_ERR;
        if (p->ch[c].qlen < n)
            n = p->ch[c].qlen;
    }
    if (n <= 0)
        return DW_SRC_EOF;
    for (int c = 0; c < p->nch; c++) {
        edf_chan *ch = &p->ch[c];
        for (int i = 0; i < n; i++)
            p->frames[i * p->nch + c] = ch->q[i];
        ch->qlen -= n;
        memmove(ch->q, ch->q + n, (size_t)ch->qlen * sizeof *ch->q);
    }
    *out = (dw_block){ .n = n, .uv = p->frames, .t0 = (double)p->frame / DW_FS, .gap = p->gap };
    p->frame += n;
    p->gap = 0;
    return n;
}

static int edf_seek(dw_source *src, double t_s)
{
    edf_priv *p = src->priv;
    const edf_seg *last = &p->seg[p->nseg - 1];
    long long k0 = llround(t_s * DW_FS);
    if (k0 < 0)
        k0 = 0;
    if (k0 > last->frame0 + last->nframes)
        k0 = last->frame0 + last->nframes;
    if (edf_seek_frame(p, k0)) {
        dw_err_set(&src->err, "%s: seek to %.2f s failed", src->path, t_s);
        return -1;
    }
    return 0;
}

static void edf_close(dw_source *src)
{
    edf_priv *p = src->priv;
    if (p) {
        if (p->handle >= 0)
            edfclose_file(p->handle);
        for (int c = 0; c < p->nch; c++) {
            dw_resampler_free(p->ch[c].rs);
            free(p->ch[c].q);
        }
        free(p->in);
        free(p->frames);
        free(p->seg);
        free(p);
    }
    free(src);
}

/* The runs of records without a gap (one for a continuous file, onset NULL) and where they lie in source
 * time: a segment starts at its first record's real start, never before the previous one ends. */
static int make_segments(edf_priv *p, const long long *onset, long long nrec, long long dur)
{
    if (!(p->seg = malloc(sizeof *p->seg)))
        return -1;
    p->nseg = 1;
    p->seg[0] = (edf_seg){ 0, 0, 0, 0 };
    for (long long r = 0; r < nrec; r++) {
        edf_seg *g = &p->seg[p->nseg - 1];
        if (r > 0 && onset && onset[r] != onset[r - 1] + dur) {
            edf_seg *ns = realloc(p->seg, (size_t)(p->nseg + 1) * sizeof *p->seg);
            if (!ns)
                return -1;
            p->seg = ns;
            g = &p->seg[p->nseg - 1];
            long long f = llround((double)(onset[r] - onset[0]) * DW_FS / EDFLIB_TIME_DIMENSION);
            g[1] = (edf_seg){ r, 0, f > g->frame0 + g->nframes ? f : g->frame0 + g->nframes, 0 };
            g = &p->seg[p->nseg++];
        }
        g->nrec++;
        /* The slowest-rounding channel sets the length, as for a whole file. */
        g->nframes = LLONG_MAX;
        for (int c = 0; c < p->nch; c++) {
            long long nf = (long long)floor((double)(g->nrec * p->ch[c].spr) * DW_FS / p->ch[c].fs + 1e-6);
            if (nf < g->nframes)
                g->nframes = nf;
        }
    }
    return 0;
}

static const struct dw_source_ops edf_ops = { "edf", edf_read, edf_seek, edf_close };
static const struct dw_source_ops bdf_ops = { "bdf", edf_read, edf_seek, edf_close };

/* Local wall-clock start of the recording as Unix time (EDF stores local time without a zone). */
static double start_time(const struct edf_hdr_struct *h)
{
    if (h->startdate_year < 1970)
        return 0;
    struct tm tm = { .tm_year = h->startdate_year - 1900, .tm_mon = h->startdate_month - 1,
                     .tm_mday = h->startdate_day, .tm_hour = h->starttime_hour,
                     .tm_min = h->starttime_minute, .tm_sec = h->starttime_second, .tm_isdst = -1 };
    time_t t = mktime(&tm);
    return t == (time_t)-1 ? 0 : (double)t + (double)h->starttime_subsecond / EDFLIB_TIME_DIMENSION;
}

static void set_subject(const struct edf_hdr_struct *h, char *out, size_t cap)
{
    const char *s = h->patientcode[0] ? h->patientcode : h->patient_name[0] ? h->patient_name : h->patient;
    trimmed(s, out, cap);
    if (!strcmp(out, "X") || !strcmp(out, "X X X X"))   /* EDF+ "unknown" */
        out[0] = 0;
}

static void note_unit(dw_source_info *info, const char *label, const char *unit)
{
    size_t k = strlen(info->note);
    snprintf(info->note + k, sizeof info->note - k, "%s\"%s\": unit \"%s\" is not a voltage we know; taken as uV",
             k ? "; " : "", label, unit);
}

dw_source *dw_edf_open(const char *path, const dw_channel_spec *spec, dw_err *err)
{
    struct edf_hdr_struct *h = malloc(sizeof *h);
    dw_source *src = calloc(1, sizeof *src);
    edf_priv *p = calloc(1, sizeof *p);
    if (!h || !src || !p) {
        dw_err_set(err, "%s: out of memory", path);
        free(h), free(src), free(p);
        return NULL;
    }
    p->handle = -1;
    src->priv = p;
    snprintf(src->path, sizeof src->path, "%s", path);
    dw_source_info *info = &src->info;
    long long *onset = NULL;
    if ((p->handle = open_checked(path, h, info->note, sizeof info->note, &onset, err)) < 0)
        goto fail;
    src->ops = (h->filetype == EDFLIB_FILETYPE_BDF || h->filetype == EDFLIB_FILETYPE_BDFPLUS) ? &bdf_ops
                                                                                             : &edf_ops;
    if (h->edfsignals < 1 || h->datarecord_duration <= 0) {
        dw_err_set(err, "%s: no signals to replay (only annotations: a hypnogram?)", path);
        goto fail;
    }
    int sig[DW_MAX_CH], nsig;
    if (choose_channels(h, spec, path, sig, &nsig, &info->frontal, &info->parietal, err))
        goto fail;
    for (int c = 0; c < nsig; c++) {
        const struct edf_param_struct *sp = &h->signalparam[sig[c]];
        edf_chan *ch = &p->ch[c];
        int known;
        ch->sig = sig[c];
        ch->fs = sig_rate(h, sig[c]);
        ch->spr = sp->smp_in_datarecord;
        ch->to_uv = unit_to_uv(sp->physdimension, &known);
        trimmed(sp->label, info->label[c], DW_LABEL_LEN);
        p->nch = c + 1;
        if (ch->fs < 1 || ch->fs > MAX_HZ) {
            dw_err_set(err, "%s: channel \"%s\" is sampled at %g Hz, outside the %g-%g Hz we replay", path,
                       info->label[c], ch->fs, 1.0, MAX_HZ);
            goto fail;
        }
        if (!known) {
            char u[16];
            trimmed(sp->physdimension, u, sizeof u);
            note_unit(info, info->label[c], u);
        }
        double m = fmax(fabs(sp->phys_max), fabs(sp->phys_min)) * ch->to_uv;
        info->phys_max_uv = fmax(info->phys_max_uv, m);
        ch->qcap = 2 * CHUNK_FRAMES + 256;
        if (!(ch->rs = dw_resampler_new(ch->fs, DW_FS)) || !(ch->q = malloc((size_t)ch->qcap * sizeof *ch->q))) {
            dw_err_set(err, "%s: cannot set up resampling of \"%s\" (%g Hz)", path, info->label[c], ch->fs);
            goto fail;
        }
    }
    p->in_cap = IN_CAP;
    p->in = malloc(p->in_cap * sizeof *p->in);
    p->frames = malloc((size_t)CHUNK_FRAMES * (size_t)nsig * sizeof *p->frames);
    if (!p->in || !p->frames) {
        dw_err_set(err, "%s: out of memory", path);
        goto fail;
    }
    info->nch = nsig;
    info->fs = DW_FS;
    info->live = 0;
    if (make_segments(p, onset, h->datarecords_in_file, h->datarecord_duration)) {
        dw_err_set(err, "%s: out of memory", path);
        goto fail;
    }
    info->duration_s = onset ? (double)(onset[h->datarecords_in_file - 1] - onset[0] + h->datarecord_duration) /
                               EDFLIB_TIME_DIMENSION : (double)h->file_duration / EDFLIB_TIME_DIMENSION;
    info->start_epoch = start_time(h);
    set_subject(h, info->subject, sizeof info->subject);
    if (edf_seek_frame(p, 0)) {
        dw_err_set(err, "%s: cannot position at the start", path);
        goto fail;
    }
    free(h);
    free(onset);
    return src;
fail:
    free(h);
    free(onset);
    edf_close(src);
    return NULL;
}
