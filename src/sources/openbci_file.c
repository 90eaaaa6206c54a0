/* Streaming reader for OpenBCI's line-per-sample files (GUI text, SD-card logs).
 *
 * Nothing is loaded whole: open makes one pass that parses every line exactly as reading will (so the
 * duration and the notes describe the samples that will be delivered) and keeps a seek index (byte
 * offset every INDEX_STEP samples). Time is the sample count at the nominal rate; a counter jump of more
 * than one step (the counter wraps after counter_mod values: 256 on a Cyton, 201 on a Ganglion, learned
 * from the file) means lost samples, delivered as dw_block.gap. Where the file has a timestamp column,
 * its span is compared with the sample count, and a disagreement is noted. A bad line is skipped and
 * counted: the samples it held show up as a gap when the counter moves on, src->err keeps the first
 * reason ("x.txt:1234: column 5: not a number") while reading goes on, and only a long run of bad lines
 * (BAD_RUN_MAX) stops the source. Lines after the last sample (an SD card's pre-allocated tail holding
 * stale or torn lines, NUL padding) are not part of the recording: reading ends at the last sample and
 * a note gives their size. A format whose counter never jumps (counter_exact: a device's own file)
 * ends earlier, where its stream breaks (stream_break, torn_at_block, the format's marker lines): the
 * well-formed lines an earlier recording left after that are the tail too, and the note says why. */
#include "sources/openbci_file.h"
#include "base/files.h"
#include "base/text.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define INDEX_STEP  2500        /* samples between seek-index entries (10 s at 250 Hz) */
#define BAD_RUN_MAX 1000        /* consecutive bad lines before the source gives up */

typedef struct {
    long long off;              /* the line's byte offset */
    long      lineno;           /* lines before it */
    long long next_frame;       /* parser state before it */
    long      prev;
} seek_entry;

typedef struct {
    struct dw_source_ops ops;   /* obci_ops with the format's kind */
    FILE  *f;
    dw_obci_format fmt;
    char  *line;
    size_t cap;
    long   lineno;              /* lines read so far */
    long   prev;                /* last counter, -1 before the first sample */
    long long next_frame;       /* frame number of the next sample if none is lost */
    long long pos;              /* frame the consumer expects next */
    int    sel[DW_MAX_CH], nsel;
    double *out;
    int    out_cap;
    int    have_pending;        /* a sample read but not delivered (it follows a gap) */
    dw_obci_row pending;
    long long pending_frame;
    seek_entry *idx;
    size_t nidx;
    long   bad, bad_run;
    long   end_line;            /* the line of the last sample: reading ends there */
} obci_priv;

long dw_obci_getline(FILE *f, char **buf, size_t *cap)
{
    long n = dw_getline_max(f, buf, cap, DW_OBCI_LINE_MAX);
    if (n == DW_LINE_EOF)
        return -1;
    if (n < 0)
        return -2;
    if (n >= 3 && !memcmp(*buf, "\xef\xbb\xbf", 3))   /* a text editor's UTF-8 byte-order mark */
        memmove(*buf, *buf + 3, (size_t)(n -= 3) + 1);
    return n;
}

FILE *dw_obci_fopen(const char *path, dw_err *err)
{
    return dw_input_fopen(path, "recording", err);
}

int dw_obci_fields(const char *line)
{
    int n = 1;
    for (; *line; line++)
        n += *line == ',';
    return n;
}

/* Samples lost between the previous counter and this one. A repeated counter cannot be told from a
 * whole lost wrap; it counts as no loss. */
static long lost_between(const dw_obci_format *fmt, long prev, long counter)
{
    if (prev < 0)
        return 0;
    long mod = fmt->counter_mod > 0 ? fmt->counter_mod : 256, step = fmt->counter_step;
    long d = ((counter - prev) % mod + mod) % mod;
    return d == 0 ? 0 : (d + step - 1) / step - 1;
}

static int zero_row(const dw_obci_format *fmt, const dw_obci_row *r)
{
    for (int c = 0; c < fmt->nch; c++)
        if (r->uv[c] != 0)
            return 0;
    return r->counter == 0;
}

/* Next sample: 1 (row and its frame number), 0 at the end, -1 with src->err filled. */
static int next_row(dw_source *src, dw_obci_row *row, long long *frame)
{
    obci_priv *p = src->priv;
    for (;;) {
        long len = p->lineno >= p->end_line ? -1 : dw_obci_getline(p->f, &p->line, &p->cap);
        if (len == -2 && !ferror(p->f)) {
            dw_err_set(&src->err, "%s:%ld: line longer than %d bytes: not an OpenBCI text file", src->path,
                       p->lineno + 1, DW_OBCI_LINE_MAX);
            return -1;
        }
        if (len < 0) {
            if (p->lineno < p->end_line && ferror(p->f)) {
                dw_err_set(&src->err, "%s:%ld: read error: %s", src->path, p->lineno + 1, strerror(errno));
                return -1;
            }
            return 0;
        }
        p->lineno++;
        char why[160] = "";
        int r = p->fmt.parse(&p->fmt, p->line, row, why, sizeof why);
        if (r == 0)
            continue;
        if (r < 0) {
            if (!p->bad++)
                dw_err_set(&src->err, "%s:%ld: %s (line skipped; reading goes on)", src->path, p->lineno, why);
            if (++p->bad_run >= BAD_RUN_MAX) {
                dw_err_set(&src->err, "%s:%ld: %s (%ld bad lines in a row: giving up)", src->path, p->lineno, why,
                           p->bad_run);
                return -1;
            }
            continue;
        }
        p->bad_run = 0;
        if (p->prev < 0 && p->fmt.skip_zero_rows && zero_row(&p->fmt, row))
            continue;
        *frame = p->next_frame + lost_between(&p->fmt, p->prev, row->counter);
        p->prev = row->counter;
        p->next_frame = *frame + 1;
        return 1;
    }
}

static int obci_read(dw_source *src, dw_block *out, int max_frames, int timeout_ms)
{
    (void)timeout_ms;
    obci_priv *p = src->priv;
    if (max_frames > p->out_cap) {
        double *o = realloc(p->out, (size_t)max_frames * p->nsel * sizeof *o);
        if (!o) {
            dw_err_set(&src->err, "%s: out of memory", src->path);
            return DW_SRC_ERR;
        }
        p->out = o;
        p->out_cap = max_frames;
    }
    memset(out, 0, sizeof *out);
    long long first = 0;
    int n = 0;
    while (n < max_frames) {
        dw_obci_row row;
        long long frame;
        if (p->have_pending) {
            row = p->pending;
            frame = p->pending_frame;
            p->have_pending = 0;
        } else {
            int r = next_row(src, &row, &frame);
            if (r < 0)
                return DW_SRC_ERR;
            if (r == 0)
                break;
        }
        if (n == 0) {
            first = frame;
        } else if (frame != first + n) {  /* samples lost: this one starts the next block */
            p->pending = row;
            p->pending_frame = frame;
            p->have_pending = 1;
            break;
        }
        for (int c = 0; c < p->nsel; c++)
            p->out[(size_t)n * p->nsel + c] = row.uv[p->sel[c]];
        if (row.accel_valid) {
            out->accel_valid = 1;
            memcpy(out->accel, row.accel, sizeof out->accel);
        }
        n++;
    }
    if (n == 0)
        return DW_SRC_EOF;
    out->n = n;
    out->uv = p->out;
    out->t0 = (double)first / src->info.fs;
    out->gap = first > p->pos ? (long)(first - p->pos) : 0;
    p->pos = first + n;
    return n;
}

static int obci_seek(dw_source *src, double t_s)
{
    obci_priv *p = src->priv;
    long long target = t_s > 0 ? llround(t_s * src->info.fs) : 0;
    size_t k = 0;
    while (k + 1 < p->nidx && p->idx[k + 1].next_frame <= target)
        k++;
    clearerr(p->f);
    if (fseeko(p->f, p->idx[k].off, SEEK_SET)) {
        dw_err_set(&src->err, "%s: seek failed: %s", src->path, strerror(errno));
        return -1;
    }
    p->lineno = p->idx[k].lineno;
    p->next_frame = p->idx[k].next_frame;
    p->prev = p->idx[k].prev;
    p->have_pending = 0;
    p->bad_run = 0;
    p->pos = target;
    for (;;) {
        dw_obci_row row;
        long long frame;
        int r = next_row(src, &row, &frame);
        if (r < 0)
            return -1;
        if (r == 0)
            return 0;                    /* past the end: reads give DW_SRC_EOF */
        if (frame >= target) {
            p->pending = row;
            p->pending_frame = frame;
            p->have_pending = 1;
            return 0;
        }
    }
}

static void obci_close(dw_source *src)
{
    obci_priv *p = src->priv;
    if (p) {
        if (p->f)
            fclose(p->f);
        free(p->line);
        free(p->out);
        free(p->idx);
        free(p);
    }
    free(src);
}

static const struct dw_source_ops obci_ops = { "openbci", obci_read, obci_seek, obci_close, NULL };

/* What the index pass found, for the notes. */
typedef struct {
    long long lost;               /* samples the counter says are missing */
    long bad, first_bad;          /* unreadable lines among the samples, the first one */
    long pending, pending_first;  /* unreadable lines since the last sample (a tail, if nothing follows) */
    long long tail_off;           /* byte offset just after the last sample's line */
    double t_first, t_last;       /* timestamps of the first sample that has one, and of the last sample */
    long long f_first, f_last;    /* their frames */
    long long last_off;           /* where the last sample's line starts */
    long stamp_line;              /* the first stream stamp since the last sample, 0 if none */
    int  stamps;                  /* stream stamps since the last sample */
    long tail_lines, tail_samples;/* lines after the last sample, and sample lines among them */
    char why[240];                /* why reading ends before sample lines that follow ("" if none do) */
} scan;

static int index_add(obci_priv *p, size_t *cap, seek_entry e)
{
    if (p->nidx == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        seek_entry *v = realloc(p->idx, *cap * sizeof *v);
        if (!v)
            return -1;
        p->idx = v;
    }
    p->idx[p->nidx++] = e;
    return 0;
}

/* One sample line of the index pass (row parsed). */
static int index_sample(obci_priv *p, scan *sc, size_t *cap, const dw_obci_row *row, long long off, long lineno,
                        long long *next_frame, long long *target, long *prev, const seek_entry *first)
{
    long long frame = *next_frame + lost_between(&p->fmt, *prev, row->counter);
    sc->lost += frame - *next_frame;
    if ((frame >= *target || p->nidx == 0) &&
        index_add(p, cap, p->nidx ? (seek_entry){ off, lineno - 1, *next_frame, *prev } : *first) < 0)
        return -1;
    if (frame >= *target)
        *target = (frame / INDEX_STEP + 1) * INDEX_STEP;
    if (sc->pending && !sc->bad)
        sc->first_bad = sc->pending_first;
    sc->bad += sc->pending;
    sc->pending = 0;
    *prev = row->counter;
    *next_frame = frame + 1;
    p->end_line = lineno;
    sc->tail_off = ftello(p->f);
    sc->last_off = off, sc->f_last = frame;
    if (sc->t_first <= 0 && p->fmt.time_of && (sc->t_first = p->fmt.time_of(&p->fmt, p->line)) > 0)
        sc->f_first = frame;
    return 0;
}

/* The notes of an open file: lost samples, unreadable lines, a stale tail, timestamps that disagree. */
static void index_notes(dw_source *src, const scan *sc, long long fsize)
{
    const char *name = strrchr(src->path, '/');
    name = name ? name + 1 : src->path;
    char *note = src->info.note;
    size_t cap = sizeof src->info.note;
    double fs = src->info.fs;
    if (sc->lost)
        dw_source_note(note, cap, "%s: %lld samples lost (sample-index jumps)", name, sc->lost);
    if (sc->bad)
        dw_source_note(note, cap, "%s: %ld unreadable lines skipped (first: line %ld)", name, sc->bad, sc->first_bad);
    long end = ((obci_priv *)src->priv)->end_line;
    if (sc->tail_samples)
        dw_source_note(note, cap, "%s: the last %lld bytes (%ld lines, %ld of them sample lines), after the "
                       "last sample of this recording (line %ld), are not part of it: ignored. Why: %s",
                       name, fsize - sc->tail_off, sc->tail_lines, sc->tail_samples, end, sc->why);
    else if (fsize > sc->tail_off + 2)           /* more than a line end */
        dw_source_note(note, cap, "%s: the last %lld bytes (%ld lines), after the last sample (line %ld), hold "
                       "no samples (a stale or torn tail, as SD cards leave): ignored", name,
                       fsize - sc->tail_off, sc->tail_lines, end);
    double by_index = (double)(sc->f_last - sc->f_first) / fs, by_clock = sc->t_last - sc->t_first;
    /* the GUI stamps packets on arrival (tens of ms of jitter) and a board's crystal drifts (tens of ppm):
     * a second over a minute, or 0.5 % over a night, is more than either */
    if (sc->t_first > 0 && sc->t_last > 0 && by_index >= 10 &&
        fabs(by_clock - by_index) > fmax(0.75, 0.005 * by_index))
        dw_source_note(note, cap, "%s: the timestamps span %.1f s but the sample index gives %.1f s at %g Hz "
                       "(%+.1f %%): samples lost without a jump in the index, or not %g Hz", name, by_clock,
                       by_index, fs, 100 * (by_clock / by_index - 1), fs);
}

/* Skips the rest of a line longer than DW_OBCI_LINE_MAX. */
static void skip_line(FILE *f)
{
    int c;
    flockfile(f);
    while ((c = getc_unlocked(f)) != EOF && c != '\n')
        ;
    funlockfile(f);
}

/* A line without a sample, as the format's marker reads it: 1 when the recording ends there. */
static int stream_mark(obci_priv *p, scan *sc, long lineno)
{
    int m = p->fmt.marker ? p->fmt.marker(p->line) : DW_OBCI_MARK_NONE;
    if (m == DW_OBCI_MARK_STAMP && !sc->stamps++)
        sc->stamp_line = lineno;
    else if (m == DW_OBCI_MARK_END)
        snprintf(sc->why, sizeof sc->why, "the recording's closing footer is at line %ld (\"%.24s\"): "
                 "nothing after it was written by this recording", lineno, p->line);
    return m == DW_OBCI_MARK_END;
}

/* For a format whose counter never jumps (counter_exact): 1, with sc->why, when this sample line cannot
 * follow the last one in the device's stream: one stream stamp alone lies between them (the stream
 * stopped there), or its counter is not the next one where a 512-byte block of the file begins between
 * the last sample's line and this one (off: where this one starts). k unreadable lines between may have
 * held 0 to k samples (a line torn in two holds one), so the next 1 + k counters are allowed. Two stamps
 * (stopped, then started again) let the counter start anew. A jump inside a block is not where the
 * device's written blocks end: it stays lost samples (a damaged index or a dropped sample in the
 * middle of the night must not cost the rest of it: a tester's one corrupt index byte at 150 s of 300
 * cut the night to 5 epochs). */
static int stream_break(obci_priv *p, scan *sc, long prev, long counter, long lineno, long long off)
{
    const dw_obci_format *f = &p->fmt;
    if (!f->counter_exact || prev < 0)
        return 0;
    long mod = f->counter_mod > 0 ? f->counter_mod : 256, step = f->counter_step;
    long d = ((counter - prev) % mod + mod) % mod, want = (prev + step) % mod;
    int next = d % step == 0 && d >= step && d <= step * (1 + sc->pending);
    if (sc->stamps == 1)
        snprintf(sc->why, sizeof sc->why, "the stream stopped at line %ld (a stamp with no second one "
                 "that starts it again), and the device writes no sample while stopped", sc->stamp_line);
    else if (sc->stamps < 2 && !next && (off / 512) * 512 >= sc->tail_off)   /* a block starts between */
        snprintf(sc->why, sizeof sc->why, "the sample index goes from %02lX to %02lX at line %ld where %02lX "
                 "was next%s, at the start of a 512-byte block, and the device writes every sample it "
                 "counts in whole blocks, so its index never jumps in its own file: the lines from there "
                 "were left by an earlier recording", prev, counter, lineno, want,
                 sc->pending ? " (or one more per unreadable line between)" : "");
    else
        return 0;
    sc->tail_samples = 1;                        /* this line: the first of the tail */
    return 1;
}

/* For a format whose counter never jumps (a device writing its own file in 512-byte blocks): 1, with
 * sc->why, when the unreadable line that starts at off holds a block boundary. The device writes whole
 * lines across its blocks, so a torn one there is where its written blocks end and the card's older
 * content begins (an unreadable line inside a block stays one skipped line). */
static int torn_at_block(obci_priv *p, scan *sc, long long off, long lineno)
{
    long long end = ftello(p->f), b = (off / 512 + 1) * 512;
    if (!p->fmt.counter_exact || p->nidx == 0 || end < 0 || b >= end)
        return 0;
    snprintf(sc->why, sizeof sc->why, "line %ld, across the 512-byte block boundary at byte %lld, is torn, "
             "and the device writes whole lines across its blocks: its last written block ends there", lineno,
             b);
    return 1;
}

/* The tail after the last sample: its lines (from the line the scan stopped at, lineno, on) and the
 * sample lines among them, for the note. */
static void count_tail(obci_priv *p, scan *sc, long lineno)
{
    for (;;) {
        long len = dw_obci_getline(p->f, &p->line, &p->cap);
        if (len == -2 && !ferror(p->f))
            skip_line(p->f);
        else if (len < 0)
            break;
        lineno++;
        dw_obci_row row;
        char why[8];
        sc->tail_samples += len >= 0 && p->fmt.parse(&p->fmt, p->line, &row, why, sizeof why) == 1;
    }
    sc->tail_lines = lineno - p->end_line;
}

/* One pass that parses every line as reading will: the seek index, the length, the notes. -1 with err
 * naming the file (a read error, or the line longer than DW_OBCI_LINE_MAX). */
static int build_index(dw_source *src, long long data_off, long lineno0, dw_err *err)
{
    obci_priv *p = src->priv;
    size_t cap = 0;
    long long next_frame = 0, target = 0;
    long prev = -1, lineno = lineno0;
    scan sc = { .tail_off = data_off };
    const seek_entry first = { data_off, lineno0, 0, -1 };   /* the first entry is the start of the data */
    p->end_line = lineno0;
    if (fseeko(p->f, data_off, SEEK_SET))
        goto read_error;
    for (;;) {
        long long off = ftello(p->f);
        long len = dw_obci_getline(p->f, &p->line, &p->cap);
        if (len == -2 && !ferror(p->f) && (p->nidx == 0 || !p->fmt.counter_exact)) {
            dw_err_set(err, "%s:%ld: line longer than %d bytes: not an OpenBCI text file", src->path,
                       lineno + 1, DW_OBCI_LINE_MAX);
            return -1;
        }
        if (len == -2 && !ferror(p->f)) {        /* a device's own file: erased blocks (NUL) end it */
            snprintf(sc.why, sizeof sc.why, "line %ld is longer than %d bytes, as no line of the format is",
                     lineno + 1, DW_OBCI_LINE_MAX);
            skip_line(p->f);
            lineno++;
            break;
        }
        if (len < 0)
            break;
        lineno++;
        dw_obci_row row;
        char why[8];
        int r = p->fmt.parse(&p->fmt, p->line, &row, why, sizeof why);
        if (r == 0 && stream_mark(p, &sc, lineno))
            break;
        if (r < 0 && torn_at_block(p, &sc, off, lineno))
            break;
        if (r < 0 && !sc.pending++)
            sc.pending_first = lineno;
        if (r != 1 || (prev < 0 && p->fmt.skip_zero_rows && zero_row(&p->fmt, &row)))
            continue;
        if (stream_break(p, &sc, prev, row.counter, lineno, off))
            break;
        if (index_sample(p, &sc, &cap, &row, off, lineno, &next_frame, &target, &prev, &first) < 0)
            goto read_error;
        sc.stamps = 0;
    }
    if (ferror(p->f))
        goto read_error;
    count_tail(p, &sc, lineno);
    clearerr(p->f);
    if (sc.t_first > 0 && fseeko(p->f, sc.last_off, SEEK_SET) == 0 &&
        dw_obci_getline(p->f, &p->line, &p->cap) >= 0)
        sc.t_last = p->fmt.time_of(&p->fmt, p->line);
    src->info.duration_s = (double)next_frame / src->info.fs;
    struct stat st;
    index_notes(src, &sc, fstat(fileno(p->f), &st) == 0 ? (long long)st.st_size : sc.tail_off);
    clearerr(p->f);
    if (fseeko(p->f, data_off, SEEK_SET) == 0)
        return 0;
read_error:
    dw_err_set(err, "%s: read error: %s", src->path, strerror(errno));
    return -1;
}

/* Delivered channels and roles by the one montage rule (sources/montage.h); labels "ChN", or "EEG <derivation>"
 * when [input] derivations says what each board channel was wired to. */
static int choose(dw_source *src, obci_priv *p, const dw_channel_spec *spec, dw_err *err)
{
    int nch = p->fmt.nch;
    char labels[DW_MAX_CH][DW_LABEL_LEN];
    dw_montage_in in = { .n = nch };
    for (int c = 0; c < nch && c < DW_MAX_CH; c++) {
        dw_montage_board_label(spec, c, labels[c]);
        in.label[c] = labels[c];
        in.usable[c] = 1;
    }
    dw_montage m;
    if (dw_montage_choose(&in, spec, src->path, &m, err) < 0)
        return -1;
    p->nsel = m.n;
    memcpy(p->sel, m.sel, sizeof m.sel);
    src->info.nch = m.n;
    dw_source_take_roles(&src->info, &m, src->path);
    for (int c = 0; c < m.n; c++)
        snprintf(src->info.label[c], DW_LABEL_LEN, "%s", labels[m.sel[c]]);
    return 0;
}

dw_source *dw_obci_open(const char *path, const dw_obci_format *fmt, long long data_off, long lineno0,
                        const dw_source_info *info, const dw_channel_spec *spec, dw_err *err)
{
    dw_source *src = calloc(1, sizeof *src);
    obci_priv *p = calloc(1, sizeof *p);
    if (!src || !p) {
        free(src);
        free(p);
        dw_err_set(err, "%s: out of memory", path);
        return NULL;
    }
    p->ops = obci_ops;
    p->ops.kind = fmt->kind;
    src->ops = &p->ops;
    src->priv = p;
    src->info = *info;
    src->info.live = 0;
    src->info.phys_max_uv = 187500.0;
    for (int c = 0; c < DW_MAX_CH; c++) {            /* the Cyton's full scale at gain 24 */
        src->info.phys_lo[c] = -187500.0;
        src->info.phys_hi[c] = 187500.0;
    }
    snprintf(src->path, sizeof src->path, "%s", path);
    p->fmt = *fmt;
    p->prev = -1;
    if (!(p->f = dw_obci_fopen(path, err)))
        goto fail;
    if (choose(src, p, spec, err))
        goto fail;
    if (build_index(src, data_off, lineno0, err))
        goto fail;
    if (p->nidx == 0) {
        dw_obci_row row;
        long long frame;
        p->end_line = LONG_MAX;                 /* read on, to say why the lines were refused */
        if (next_row(src, &row, &frame) <= 0 && src->err.msg[0])
            *err = src->err;
        else
            dw_err_set(err, "%s: no samples in the file", path);
        goto fail;
    }
    p->lineno = lineno0;
    return src;
fail:
    obci_close(src);
    return NULL;
}
