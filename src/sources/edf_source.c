/* EDF, EDF+, BDF and BDF+ replay through EDFlib: the chosen channels, in microvolts, at their own rate (the
 * staging pipeline resamples); channels of different rates are brought to the fastest one here.
 *
 * EDFlib keeps its open files in a global table without locks, so it is not thread-safe: the worker
 * thread owns every EDF call (open, read, seek, close, and dw_hypnogram_load while the worker runs).
 *
 * EDFlib answers almost every kind of damage with one code (-3, "format error"), so before handing a
 * file to it the header goes through edf/edf_header.c, which names the signal, field and byte of what is
 * wrong and repairs what is unambiguous. A repaired header, a file shorter than its header promises (a
 * crashed or interrupted copy) or with more complete records than the count says (a writer that died
 * between a record and its count update) is read through a private temporary copy that holds the
 * repaired header and exactly the complete records: that is what a user wants from a crashed night, and
 * info.note says so. A record count of -1 (a writer that never closed the file) is refused with a pointer
 * to `dreamwatch recover`, which repairs the file itself. EDFlib 1.23 refuses EDF+D and BDF+D, so those too
 * are read through a copy (see "EDF+D" below) and their gaps come back as dw_block.gap. A signal whose
 * header makes its samples meaningless (edf_header.h: "broken") is never delivered. */
#include "sources/source.h"
#include "base/files.h"
#include "base/frames.h"
#include "dsp/resample.h"
#include "edf/edf_header.h"
#include "edf/edf_records.h"

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

/* A run of records without a gap (a continuous file is one). Frames count source time at p->fs, gaps
 * included; records count in the gap-free copy EDFlib reads. */
typedef struct {
    long long rec0, nrec;
    long long frame0, nframes;
} edf_seg;

typedef struct {
    int    handle;
    int    data_fd;                /* on what EDFlib opened (the file or its copy): record reads */
    dw_edf_records *rec;           /* those reads; NULL: through EDFlib */
    int    nch;
    edf_chan ch[DW_MAX_CH];
    edf_seg *seg;
    int    nseg, cur;              /* segments, the one being read */
    double fs;                     /* output rate: the fastest delivered channel's */
    long long frame;               /* index (at fs) of the next frame to deliver */
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

/* EDFlib refuses EDF+D and BDF+D, and holds EDF+C to the continuous time-keeping rule (edf_records.h).
 * So a discontinuous file is read through a copy that says "+C" and whose time-keeping annotations
 * count on without gaps; the real record starts, read here, put the gaps back. */
typedef struct {
    long long *onset;              /* each record's real start, 100 ns units after the header's start time */
    long long dur;                 /* record duration, 100 ns units */
    long long ann_off;             /* where the first annotation signal lies in a record */
    int    ann_len;                /* and its bytes */
} edf_disc;

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

/* Reads every record's start into d, checked by the time-keeping rule (edf_records.h) of a +C or
 * +D file as the header says, and that each one's TAL can be rewritten to count on without gaps
 * (the copy of a +D file; the header reader made sure it has an annotation signal). -1 with err. */
static int read_onsets(const char *path, int fd, const dw_edf_header *eh, long long nrec,
                       edf_disc *d, dw_err *err)
{
    const char *want = eh->bdf ? "BDF Annotations" : "EDF Annotations";
    int sig = -1, bps = eh->bdf ? 3 : 2;
    d->ann_off = 0;
    for (int i = 0; i < eh->ns && sig < 0; i++) {
        if (eh->sig[i].annotation)
            sig = i, d->ann_len = (int)eh->sig[i].spr * bps;
        else
            d->ann_off += eh->sig[i].spr * bps;
    }
    d->dur = eh->rec_dur;
    if (sig < 0 || d->dur <= 0) {
        dw_err_set(err, "%s: a discontinuous file needs an \"%s\" signal and a record duration above 0",
                   path, want);
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
    char why[320];
    for (long long r = 0; r < nrec && !rc; r++) {
        long long at = eh->hdr_bytes + r * eh->rec_bytes + d->ann_off, *t = &d->onset[r];
        dw_edf_tk_place pl = { r, at, r ? t[-1] + d->dur : 0, !eh->discontinuous, eh->bdf };
        rc = -1;
        if (pread(fd, a, (size_t)d->ann_len, at) != d->ann_len)
            dw_err_set(err, "%s: read error in data record %lld", path, r + 1);
        else if ((olen = dw_edf_time_keeping(a, d->ann_len, &pl, t, why, sizeof why)) < 0)
            dw_err_set(err, "%s: %s", path, why);
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

/* EDFlib refused the EDF+/BDF+ file open on fd whose header passed our checks: the data record
 * whose time-keeping annotation it objects to, found by the same rule (dw_edf_time_keeping). -1
 * with err naming the record, its byte and both times; 0 when none is wrong. */
static int time_keeping_why(const char *path, int fd, const dw_edf_header *eh, dw_err *err)
{
    struct stat st;                     /* no record duration: annotations alone (a hypnogram) */
    if (eh->rec_dur <= 0 || fstat(fd, &st) < 0 || eh->rec_bytes <= 0 || st.st_size < eh->hdr_bytes)
        return 0;
    long long have = (st.st_size - eh->hdr_bytes) / eh->rec_bytes;
    if (eh->nrec >= 0 && eh->nrec < have)
        have = eh->nrec;
    edf_disc d = { NULL, 0, 0, 0 };
    int rc = have > 0 ? read_onsets(path, fd, eh, have, &d, err) : 0;
    free(d.onset);
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
    if (segs > 1)
        dw_source_note(note, cap, "%s: discontinuous: %d segments, %.7g s missing between them", name, segs,
                       (double)missing / EDFLIB_TIME_DIMENSION);
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
        if (pread(in, a, (size_t)d->ann_len, at) != d->ann_len ||
            (olen = dw_edf_tal_onset(a, d->ann_len, &real)) < 0 ||
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

/* Checks and repairs the header (edf/edf_header.c), then compares the records on disk with its count.
 * 0 and *open_path set (the file itself or a repaired copy in tmp), or -1 with err. eh is filled (caller
 * frees it) and d->onset set (caller frees) for a discontinuous file. */
static int edf_check_header(const char *path, int fd, char *tmp, size_t tmp_cap, const char **open_path,
                            char *note, size_t note_cap, edf_disc *d, dw_edf_header *eh, dw_err *err)
{
    const char *name = base_name(path);
    struct stat st;
    if (dw_edf_header_read(fd, path, DW_EDF_FULL, eh, err) < 0 || fstat(fd, &st) < 0)
        return -1;
    if (eh->nrec == -1) {
        dw_err_set(err, "%s: record count is -1: the recording was never closed (the writer crashed?); "
                   "`dreamwatch recover %s` rewrites the count from the file size", path, path);
        return -1;
    }
    long long nrec = eh->nrec, need = eh->hdr_bytes, recsize = eh->rec_bytes;
    long long have = (st.st_size - need) / recsize, tail = (st.st_size - need) % recsize;
    if (eh->note[0])
        dw_source_note(note, note_cap, "%s", eh->note);
    *open_path = path;
    if (nrec == 0 && have == 0)
        return dw_err_set(err, "%s: no data records", path), -1;
    if (have == 0)
        return dw_err_set(err, "%s: truncated: 0 of %lld data records present", path, nrec), -1;
    if ((have != nrec || tail) && have > 99999999)
        return dw_err_set(err, "%s: %lld data records do not fit the header's record count field", path,
                          have), -1;
    if (eh->discontinuous && read_onsets(path, fd, eh, have, d, err))
        return -1;
    if (have == nrec && !tail && !eh->repairs && !eh->discontinuous)
        return 0;
    if (have < nrec)
        dw_source_note(note, note_cap, "%s: truncated: %lld of %lld data records present; reading the %lld "
                       "complete records", name, have, nrec, have);
    else if (have > nrec)
        dw_source_note(note, note_cap, "%s: the header counts %lld data records but %lld are present (the "
                       "writer stopped?); reading all %lld", name, nrec, have, have);
    else if (tail)
        dw_source_note(note, note_cap, "%s: %lld bytes after the last of %lld data records ignored", name, tail,
                       nrec);
    if (eh->discontinuous)
        disc_note(d, have, name, note, note_cap);
    if (repaired_copy(fd, eh->raw, need, have, recsize, eh->discontinuous ? d : NULL, tmp, tmp_cap)) {
        dw_err_set(err, "%s: cannot make a temporary %s copy in %s: %s", path,
                   eh->discontinuous ? "gap-free" : "repaired", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
                   strerror(errno));
        return -1;
    }
    *open_path = tmp;
    return 0;
}

/* dw_edf_open_checked, with the checked header in eh (caller dw_edf_header_free()s it, also on failure),
 * and for a discontinuous file each record's start (100 ns units after the header's start time) in
 * *onset (caller frees; NULL for a continuous file). With data_fd, a descriptor open on the bytes EDFlib
 * opened goes there (the caller closes it; -1 if there is none). annotations: EDFlib's
 * EDFLIB_READ_ALL_ANNOTATIONS or EDFLIB_DO_NOT_READ_ANNOTATIONS (then the caller checks the time-keeping). */
static int open_checked(const char *path, struct edf_hdr_struct *hdr, char *note, size_t note_cap,
                        long long **onset, int *data_fd, int annotations, dw_edf_header *eh, dw_err *err)
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
    int rc = edf_check_header(path, fd, tmp, sizeof tmp, &open_path, note, note_cap, &d, eh, err);
    if (rc) {
        free(d.onset);
        close(fd);
        return -1;
    }
    memset(hdr, 0, sizeof *hdr);
    rc = edfopen_file_readonly(open_path, hdr, annotations);
    if (rc < 0 && hdr->filetype == EDFLIB_FILE_ALREADY_OPENED && open_path == path) {
        /* EDFlib refuses a path it has open (a recording that is also its own reference hypnogram);
         * another name for the same file is fine. */
        snprintf(tmp, sizeof tmp, "/proc/self/fd/%d", fd);
        memset(hdr, 0, sizeof *hdr);
        rc = edfopen_file_readonly(tmp, hdr, annotations);
    }
    int keep = -1;                  /* the caller's descriptor on what EDFlib opened */
    if (data_fd && rc == 0)
        keep = open_path == path ? fd : open(open_path, O_RDONLY | O_CLOEXEC);
    if (keep != fd && rc == 0)
        close(fd);                  /* on a refusal, after time_keeping_why has read it */
    if (data_fd)
        *data_fd = keep;
    if (open_path != path)
        unlink(open_path);       /* EDFlib holds it open; nothing is left on disk */
    if (rc == 0) {
        *onset = d.onset;
        if (eh->start_unknown)      /* "Startdate X": no clock (read as 0 by every start reader) */
            hdr->startdate_year = 0;
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
        if (eh->plus && time_keeping_why(path, fd, eh, err) < 0)
            break;                                /* the record and byte named */
        dw_err_set(err, "%s: EDFlib refuses it (error %d) although its header passed our checks: most "
                   "likely the EDF+ time-keeping annotations of the data records", path, hdr->filetype);
        break;
    }
    close(fd);
    return -1;
}

int dw_edf_open_checked(const char *path, struct edf_hdr_struct *hdr, char *note, size_t note_cap,
                        dw_err *err)
{
    long long *onset;
    dw_edf_header eh;
    memset(&eh, 0, sizeof eh);
    int fh = open_checked(path, hdr, note, note_cap, &onset, NULL, EDFLIB_READ_ALL_ANNOTATIONS, &eh, err);
    dw_edf_header_free(&eh);
    free(onset);
    return fh;
}

/* ---- channels ----------------------------------------------------------------------------------- */

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

/* What the header reader says about EDFlib's signal s (EDFlib numbers the signals without the
 * annotation signals); "" when it is usable. */
static const char *broken(const dw_edf_header *eh, int s)
{
    for (int i = 0; i < eh->ns; i++)
        if (!eh->sig[i].annotation && s-- == 0)
            return eh->sig[i].broken;
    return "";
}

/* Scale from the signal's physical unit to uV; *known = 0 when the unit is not a voltage we know. */
static double unit_to_uv(const char *dim, int *known)
{
    static const struct { const char *u; double f; } units[] = {
        { "uV", 1 }, { "uv", 1 }, { "UV", 1 }, { "microV", 1 }, { "mV", 1e3 }, { "V", 1e6 }, { "nV", 1e-3 },
    };  /* a micro sign in the header reads as "u" (edf_header.c) */
    char u[16];
    trimmed(dim, u, sizeof u);
    *known = 1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(u, units[i].u))
            return units[i].f;
    *known = 0;
    return 1;
}

/* The delivered channels and their roles, by the one montage rule (sources/montage.h); a signal the header
 * reader found broken is never delivered by default and refused, with its reason, when named. */
static int choose_channels(const struct edf_hdr_struct *h, const dw_edf_header *eh, const dw_channel_spec *spec,
                           const char *path, dw_montage *m, dw_err *err)
{
    static dw_montage_in in;            /* 8.5 KB; EDF calls are confined to one thread */
    in.n = h->edfsignals < DW_MONTAGE_MAX ? h->edfsignals : DW_MONTAGE_MAX;
    for (int s = 0; s < in.n; s++) {
        in.label[s] = h->signalparam[s].label;
        in.broken[s] = broken(eh, s);
        in.usable[s] = !is_annotation_signal(h->signalparam[s].label) && sig_rate(h, s) >= SLOW_HZ &&
                       !in.broken[s][0];
    }
    in.recorded = h->recording_additional;
    return dw_montage_choose(&in, spec, path, m, err);
}

/* ---- reading ------------------------------------------------------------------------------------ */

/* Positions every channel at frame k0 (at p->fs), or at the start of the next segment when k0 falls in a
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
        long long i0 = in0 + (long long)floor(lk * ch->fs / p->fs) - (long long)ceil(2 * delay * ch->fs);
        ch->end_in = in0 + g->nrec * ch->spr;
        if (i0 < in0)
            i0 = in0;
        if (i0 > ch->end_in)
            i0 = ch->end_in;
        if (edfseek(p->handle, ch->sig, i0, EDFSEEK_SET) < 0)
            return -1;
        dw_resampler_reset(ch->rs);
        ch->next_in = i0;
        ch->skip = llround(((double)lk / p->fs - (double)(i0 - in0) / ch->fs + delay) * p->fs);
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
    /* A channel at the output rate needs no filter: its samples go straight into its queue. */
    int direct = p->rec && ch->skip == 0 && dw_resampler_delay_s(ch->rs) == 0;
    while (ch->qlen < want && !ch->flushed) {
        long long n = direct ? want - ch->qlen
                             : (long long)ceil((want - ch->qlen + ch->skip) * ch->fs / p->fs) + 8;
        if (n > (long long)p->in_cap)
            n = (long long)p->in_cap;
        long long left = ch->end_in - ch->next_in;
        if (direct && left <= 0)
            break;
        if (left > 0) {
            if (n > left)
                n = left;
            double *dst = direct ? ch->q + ch->qlen : p->in;
            int got = p->rec
                ? dw_edf_records_read(p->rec, ch->sig, ch->next_in, (int)n, ch->to_uv, dst)
                : edfread_physical_samples(p->handle, ch->sig, (int)n, p->in);
            if (got <= 0) {
                char l[24];
                trimmed(src->info.label[ch - p->ch], l, sizeof l);
                const char *why = p->rec ? dw_edf_records_why(p->rec) : "";
                dw_err_set(&src->err, "%s: read error in channel \"%s\" at sample %lld%s%s",
                           src->path, l, ch->next_in, why[0] ? ": " : "", why);
                return -1;
            }
            n = got;
            ch->next_in += got;
            if (direct) {
                ch->qlen += got;
                continue;
            }
            for (long long i = 0; i < n && !p->rec; i++)   /* EDFlib's values: in the file's unit */
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
        size_t piece = (size_t)fmax(1, floor((sizeof out / sizeof out[0] - 8) * ch->fs / p->fs));
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
                       (double)p->seg[p->cur + 1].frame0 / p->fs);
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
        dw_frames_put_column(p->frames, p->nch, c, ch->q, n);
        ch->qlen -= n;
        memmove(ch->q, ch->q + n, (size_t)ch->qlen * sizeof *ch->q);
    }
    *out = (dw_block){ .n = n, .uv = p->frames, .t0 = (double)p->frame / p->fs, .gap = p->gap };
    p->frame += n;
    p->gap = 0;
    return n;
}

static int edf_seek(dw_source *src, double t_s)
{
    edf_priv *p = src->priv;
    const edf_seg *last = &p->seg[p->nseg - 1];
    long long k0 = llround(t_s * p->fs);
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
        dw_edf_records_free(p->rec);
        if (p->data_fd >= 0)
            close(p->data_fd);
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
            long long f = llround((double)(onset[r] - onset[0]) * p->fs / EDFLIB_TIME_DIMENSION);
            g[1] = (edf_seg){ r, 0, f > g->frame0 + g->nframes ? f : g->frame0 + g->nframes, 0 };
            g = &p->seg[p->nseg++];
        }
        g->nrec++;
        /* The slowest-rounding channel sets the length, as for a whole file. */
        g->nframes = LLONG_MAX;
        for (int c = 0; c < p->nch; c++) {
            long long nf = (long long)floor((double)(g->nrec * p->ch[c].spr) * p->fs / p->ch[c].fs + 1e-6);
            if (nf < g->nframes)
                g->nframes = nf;
        }
    }
    return 0;
}

static const struct dw_source_ops edf_ops = { "edf", edf_read, edf_seek, edf_close, NULL };
static const struct dw_source_ops bdf_ops = { "bdf", edf_read, edf_seek, edf_close, NULL };

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

static void note_unit(dw_source_info *info, const char *path, const char *label, const char *unit)
{
    dw_source_note(info->note, sizeof info->note, "%s: \"%s\": unit \"%s\" is not a voltage we know; taken as uV",
                   base_name(path), label, unit);
}

/* Opens for replay: EDFlib without its annotation pass, the samples read as whole records
 * (edf_records.h, which checks the time-keeping as EDFlib would); when the record reader cannot
 * match EDFlib's layout, EDFlib again with every annotation read (its own check) and its own sample
 * reads. 0, or -1 with err. */
static int open_fast(const char *path, edf_priv *p, struct edf_hdr_struct *h, char *note,
                     size_t note_cap, long long **onset, dw_edf_header *eh, dw_err *err)
{
    char why[320];
    p->handle = open_checked(path, h, note, note_cap, onset, &p->data_fd,
                             EDFLIB_DO_NOT_READ_ANNOTATIONS, eh, err);
    if (p->handle < 0)
        return -1;
    if ((p->rec = dw_edf_records_new(p->data_fd, h, why, sizeof why))) {
        h->starttime_subsecond = dw_edf_records_start(p->rec);   /* EDFlib: record 1's onset */
        return 0;
    }
    edfclose_file(p->handle);
    close(p->data_fd);
    p->data_fd = -1;
    free(*onset);
    *onset = NULL;
    if (why[0]) {
        p->handle = -1;
        dw_err_set(err, "%s: %s", path, why);
        return -1;
    }
    dw_edf_header_free(eh);
    memset(eh, 0, sizeof *eh);
    p->handle = open_checked(path, h, note, note_cap, onset, NULL, EDFLIB_READ_ALL_ANNOTATIONS,
                             eh, err);
    return p->handle < 0 ? -1 : 0;
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
    p->data_fd = -1;
    src->priv = p;
    snprintf(src->path, sizeof src->path, "%s", path);
    dw_source_info *info = &src->info;
    long long *onset = NULL;
    dw_edf_header eh;
    memset(&eh, 0, sizeof eh);
    if (open_fast(path, p, h, info->note, sizeof info->note, &onset, &eh, err))
        goto fail;
    src->ops = (h->filetype == EDFLIB_FILETYPE_BDF || h->filetype == EDFLIB_FILETYPE_BDFPLUS) ? &bdf_ops
                                                                                             : &edf_ops;
    if (h->edfsignals < 1 || h->datarecord_duration <= 0) {
        dw_err_set(err, "%s: no signals to replay (only annotations: a hypnogram?)", path);
        goto fail;
    }
    dw_montage mt;
    if (choose_channels(h, &eh, spec, path, &mt, err))
        goto fail;
    int nsig = mt.n, *sig = mt.sel;
    dw_source_take_roles(info, &mt, path);
    p->fs = spec && spec->out_fs > 0 ? spec->out_fs : 0;
    for (int c = 0; c < nsig && !(spec && spec->out_fs > 0); c++)
        p->fs = fmax(p->fs, sig_rate(h, sig[c]));
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
            note_unit(info, path, info->label[c], u);
        }
        double m = fmax(fabs(sp->phys_max), fabs(sp->phys_min)) * ch->to_uv;
        info->phys_max_uv = fmax(info->phys_max_uv, m);
        info->phys_lo[c] = fmin(sp->phys_min, sp->phys_max) * ch->to_uv;
        info->phys_hi[c] = fmax(sp->phys_min, sp->phys_max) * ch->to_uv;
        ch->qcap = 2 * CHUNK_FRAMES + 256;
        if (!(ch->rs = dw_resampler_new(ch->fs, p->fs)) || !(ch->q = malloc((size_t)ch->qcap * sizeof *ch->q))) {
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
    info->fs = p->fs;
    info->live = 0;
    if (make_segments(p, onset, h->datarecords_in_file, h->datarecord_duration)) {
        dw_err_set(err, "%s: out of memory", path);
        goto fail;
    }
    info->duration_s = onset ? (double)(onset[h->datarecords_in_file - 1] - onset[0] + h->datarecord_duration) /
                               EDFLIB_TIME_DIMENSION : (double)h->file_duration / EDFLIB_TIME_DIMENSION;
    info->start_epoch = start_time(h);
    info->ours = strstr(h->recording_additional, "roles frontal=") != NULL;   /* our recorder writes it */
    snprintf(info->subject, sizeof info->subject, "%s", eh.subject);
    if (edf_seek_frame(p, 0)) {
        dw_err_set(err, "%s: cannot position at the start", path);
        goto fail;
    }
    free(h);
    free(onset);
    dw_edf_header_free(&eh);
    return src;
fail:
    free(h);
    free(onset);
    dw_edf_header_free(&eh);
    edf_close(src);
    return NULL;
}
