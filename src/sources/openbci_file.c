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
 * well-formed lines an earlier recording left after that are the tail too, and the note says why.
 * Stream stamps (stamps_seen) make pauses (dw_block.pause) and counter restarts; a timestamp column
 * shows whole counter cycles lost, and a stream paused and restarted (cycle_sample). Both become breaks: the index pass finds them, and
 * reading numbers the samples by them, so the two agree. */
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

/* Where reading must not take the counter's word for the frame number: a sample line whose counter
 * restarts (a stream stamp before it), that follows a pause (stop and start stamps: pause frames), or
 * that follows whole counter cycles the timestamps show were lost (add frames). Found by the index
 * pass, applied by next_row, so both number the samples alike. */
typedef struct {
    long      line;             /* the sample's line number */
    long long add, pause;       /* frames lost before it (beyond the counter's jump), frames paused */
    int       restart;          /* the counter restarts here: its jump means nothing */
    int       timed;            /* the pause is the timestamps' (a GUI stream restarted), not the stamps' */
} obci_break;

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
    obci_break *brk;            /* by line, ascending */
    size_t nbrk, brk_cap, ibrk; /* ibrk: the next one reading may meet */
    long long row_pause;        /* pause frames before the row next_row returned last */
    long long pending_pause;
    int    row_timed, pending_timed; /* ... and whether the timestamps found it (obci_break.timed) */
    long   cycle;               /* samples in one counter cycle (counter_mod / counter_step) */
    double cycle_fs;            /* the rate the cycle check counts time by */
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
        while (p->ibrk < p->nbrk && p->brk[p->ibrk].line < p->lineno)
            p->ibrk++;
        const obci_break *b = p->ibrk < p->nbrk && p->brk[p->ibrk].line == p->lineno ? &p->brk[p->ibrk] : NULL;
        *frame = p->next_frame + (b && b->restart ? 0 : lost_between(&p->fmt, p->prev, row->counter)) +
                 (b ? b->add + b->pause : 0);
        p->row_pause = b ? b->pause : 0;
        p->row_timed = b ? b->timed : 0;
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
    long long first = 0, first_pause = 0;
    int n = 0, first_timed = 0, timed = 0;
    while (n < max_frames) {
        dw_obci_row row;
        long long frame, pause;
        if (p->have_pending) {
            row = p->pending;
            frame = p->pending_frame;
            pause = p->pending_pause;
            timed = p->pending_timed;
            p->have_pending = 0;
        } else {
            int r = next_row(src, &row, &frame);
            if (r < 0)
                return DW_SRC_ERR;
            if (r == 0)
                break;
            pause = p->row_pause;
            timed = p->row_timed;
        }
        if (n == 0) {
            first = frame;
            first_pause = pause;
            first_timed = timed;
        } else if (frame != first + n) {  /* samples lost or a pause: this one starts the next block */
            p->pending = row;
            p->pending_frame = frame;
            p->pending_pause = pause;
            p->pending_timed = timed;
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
    out->pause = (long)(first_pause < out->gap ? first_pause : out->gap);  /* a seek into a pause: its rest */
    if (out->pause)
        out->pause_why = first_timed ? "the stream stopped and started again (the timestamps jump and the sample "
                                       "index restarts)"
                                     : "the stream stopped and started again (the file's stop and start stamps)";
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
    p->ibrk = 0;
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
            p->pending_pause = p->row_pause;
            p->pending_timed = p->row_timed;
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
        free(p->brk);
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
    /* stream stamps since the last sample: how many, the first and the last (name, line, clock) */
    int  stamps;
    struct stamp { int name, have_ms; long line; unsigned long ms; long long end; } st_first, st_last; /* end:
                                     * the byte after the stamp's lines */
    int  start_name;              /* the name that means "started" (the stamp before the first sample) */
    int  have_ref;                /* the device clock at a known frame: ref_ms at ref_frame */
    unsigned long ref_ms;
    long long ref_frame;
    int  pauses, pauses_unknown;  /* stop-start pairs, and those without both clocks (counted 0 s) */
    long long pause_frames;
    long pause_line;              /* the first pair's stop stamp */
    int  lone;                    /* start stamps alone between samples */
    long lone_line;
    int  nostart;                 /* stop stamps with no start after them, the index restarting at 00 */
    long nostart_line;
    /* whole counter cycles the timestamps show (formats with a time column) */
    long cycles;
    long long cycle_frames;
    double t_prev;                /* the last timestamped sample, its frame */
    long long f_prev;
    struct { long long sec; double min; } bk[4];   /* the lowest clock residual in each of 4 seconds */
    int  cand;                    /* a jump in the timestamps waits for the next seconds to tell */
    long cand_line;
    long long cand_frame;
    double cand_before, cand_after;
    long cand_lost;               /* samples the counter's jump at the candidate counts (0 if it continues) */
    int  cand_restart;            /* the counter restarts at 00 there: a paused stream, if the time says so */
    int  tpauses;                 /* such pauses found, their frames, the first one's line */
    long long tpause_frames;
    long tpause_line;
    long tail_lines, tail_samples;/* lines after the last sample, and sample lines among them */
    char foreign[320];            /* a footer that is not this recording's ("" if none) */
    char why[512];                /* why reading ends before sample lines that follow ("" if none do) */
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

static void cycle_sample(obci_priv *p, scan *sc, double t, long long frame, long lineno, long lost, int restart,
                         long long *next_frame);

static int brk_add(obci_priv *p, obci_break b)
{
    if (p->nbrk == p->brk_cap) {
        size_t cap = p->brk_cap ? 2 * p->brk_cap : 16;
        obci_break *v = realloc(p->brk, cap * sizeof *v);
        if (!v)
            return -1;
        p->brk = v;
        p->brk_cap = cap;
    }
    p->brk[p->nbrk++] = b;
    return 0;
}

/* One sample line of the index pass (row parsed); b: how its frame is numbered when the counter alone
 * cannot say (all 0: by the counter), kept for reading. */
static int index_sample(obci_priv *p, scan *sc, size_t *cap, const dw_obci_row *row, long long off, long lineno,
                        long long *next_frame, long long *target, long *prev, const seek_entry *first,
                        obci_break b)
{
    long lost_here = b.restart ? 0 : lost_between(&p->fmt, *prev, row->counter);
    long long frame = *next_frame + lost_here + b.add + b.pause;
    sc->lost += frame - *next_frame - b.pause;
    if ((b.restart || b.add || b.pause) && (b.line = lineno, brk_add(p, b) < 0))
        return -1;
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
    double t = p->fmt.time_of ? p->fmt.time_of(&p->fmt, p->line) : 0;
    if (sc->t_first <= 0 && t > 0)
        sc->t_first = t, sc->f_first = frame;
    if (t > 0 && p->cycle > 1)
        cycle_sample(p, sc, t, frame, lineno, lost_here, *prev >= 0 && row->counter == 0 && lost_here > 0,
                     next_frame);
    return 0;
}

static int stamp_stops(const scan *sc, int name);

/* The notes of an open file: lost samples, unreadable lines, a stale tail, timestamps that disagree. */
static void index_notes(dw_source *src, const scan *sc, long long fsize)
{
    const char *name = strrchr(src->path, '/');
    name = name ? name + 1 : src->path;
    char *note = src->info.note;
    size_t cap = sizeof src->info.note;
    double fs = src->info.fs;
    if (sc->lost && sc->cycles)
        dw_source_note(note, cap, "%s: %lld samples lost (sample-index jumps, and %ld whole index cycle%s, %lld "
                       "samples, that the index cannot show and the timestamps do)", name, sc->lost, sc->cycles,
                       sc->cycles == 1 ? "" : "s", sc->cycle_frames);
    else if (sc->lost)
        dw_source_note(note, cap, "%s: %lld samples lost (sample-index jumps)", name, sc->lost);
    if (sc->start_name == DW_OBCI_MARK_START_AT)
        dw_source_note(note, cap, "%s: the stamp before the first sample is \"%%START AT\": read as the stream's "
                       "start, and \"%%STOP AT\" as its stop (Cyton firmware v2.0.1-v3.1.5 swap the two names)",
                       name);
    if (sc->pauses)
        dw_source_note(note, cap, "%s: streaming paused %d time%s, %.1f s in all (a stop and a start stamp; the "
                       "first at line %ld), by the device clock in the stamps%s: a pause, not a loss", name,
                       sc->pauses, sc->pauses == 1 ? "" : "s", (double)sc->pause_frames / fs, sc->pause_line,
                       sc->pauses_unknown ? " (where a stamp has no clock, the pause counts 0 s)" : "");
    if (sc->tpauses)
        dw_source_note(note, cap, "%s: streaming paused %d time%s, %.1f s in all (the timestamps jump and the "
                       "sample index restarts; the first at line %ld), by the timestamps: a pause, not a loss", name,
                       sc->tpauses, dw_plural(sc->tpauses, "", "s"), (double)sc->tpause_frames / fs,
                       sc->tpause_line);
    if (sc->lone)
        dw_source_note(note, cap, "%s: %d stream stamp%s alone between samples (the first at line %ld), a start "
                       "with no stop before it: reading goes on, the sample index taken as restarted there (every "
                       "start restarts it) and no time counted between", name, sc->lone,
                       dw_plural(sc->lone, "", "s"), sc->lone_line);
    if (sc->nostart)
        dw_source_note(note, cap, "%s: %d stop stamp%s with no start stamp after %s (the first at line %ld), the "
                       "sample index restarting at 00 there as the device's does at every start: read as a start "
                       "whose stamp is missing; reading goes on, no time counted between (the pause's length is "
                       "unknown)", name, sc->nostart, dw_plural(sc->nostart, "", "s"),
                       dw_plural(sc->nostart, "it", "them"), sc->nostart_line);
    if (sc->bad)
        dw_source_note(note, cap, "%s: %ld unreadable %s skipped (first: line %ld)", name, sc->bad,
                       dw_plural(sc->bad, "line", "lines"), sc->first_bad);
    long end = ((obci_priv *)src->priv)->end_line;
    if (sc->tail_samples)
        dw_source_note(note, cap, "%s: the last %lld bytes (%ld %s, %ld of them sample %s), after the "
                       "last sample of this recording (line %ld), are not part of it: ignored. Why: %s",
                       name, fsize - sc->tail_off, sc->tail_lines, dw_plural(sc->tail_lines, "line", "lines"),
                       sc->tail_samples, dw_plural(sc->tail_samples, "line", "lines"), end, sc->why);
    else if (fsize > sc->tail_off + 2 &&         /* more than a line end, and more than the closing stop stamp */
             !(sc->stamps && !sc->pending && stamp_stops(sc, sc->st_last.name) && fsize <= sc->st_last.end + 2))
        dw_source_note(note, cap, "%s: the last %lld bytes (%ld %s), after the last sample (line %ld), hold "
                       "no samples (a stale or torn tail, as SD cards leave): ignored", name,
                       fsize - sc->tail_off, sc->tail_lines, dw_plural(sc->tail_lines, "line", "lines"), end);
    if (sc->foreign[0])
        dw_source_note(note, cap, "%s: %s", name, sc->foreign);
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

static int stamp_fits(const scan *sc, const struct stamp *st, long long next_frame, double fs);

/* Seconds from the device clock ref to ms (millis(), wrapping at 2^32 ms): signed, the nearer way round
 * (a stamp left by an earlier recording may hold a clock before the reference). */
static double clock_diff_s(unsigned long ms, unsigned long ref)
{
    unsigned long d = (ms - ref) & 0xffffffffUL;
    return (d >= 0x80000000UL ? (double)d - 4294967296.0 : (double)d) / 1000.0;
}

/* "12.5 s after" or "300.0 s before" (d in seconds, signed). */
static const char *before_after(char *buf, size_t n, double d)
{
    snprintf(buf, n, "%.1f s %s", fabs(d), d < 0 ? "before" : "after");
    return buf;
}

/* Whether a stamp of this name stops the stream: the name that did not open it (sc->start_name; before
 * any is known, the firmware's: "%STOP AT" starts). */
static int stamp_stops(const scan *sc, int name)
{
    return name != (sc->start_name ? sc->start_name : DW_OBCI_MARK_STOP_AT);
}

/* The hex clock line (1-8 hex digits alone) in line: 1 with *ms, else 0. */
static int clock_line(const char *line, unsigned long *ms)
{
    size_t n = strspn(line, "0123456789abcdefABCDEF");
    if (n < 1 || n > 8 || line[n])
        return 0;
    *ms = strtoul(line, NULL, 16);
    return 1;
}

/* A line without a sample, as the format's marker reads it: 1 when the recording ends there. A stamp
 * is remembered with the clock on the line after it (hex millis()); a footer's clock is checked
 * (next_frame: samples counted so far, at fs). */
static int stream_mark(obci_priv *p, scan *sc, long lineno, long long next_frame, double fs)
{
    int m = p->fmt.marker ? p->fmt.marker(p->line) : DW_OBCI_MARK_NONE;
    if (m == DW_OBCI_MARK_STOP_AT || m == DW_OBCI_MARK_START_AT) {
        struct stamp st = { m, 0, lineno, 0, ftello(p->f) };
        if (!sc->stamps++)
            sc->st_first = st;
        sc->st_last = st;
    } else if (m == DW_OBCI_MARK_NONE && sc->stamps && !sc->st_last.have_ms && sc->st_last.line == lineno - 1) {
        if (clock_line(p->line, &sc->st_last.ms)) {
            sc->st_last.have_ms = 1;
            sc->st_last.end = ftello(p->f);
            if (sc->st_first.line == sc->st_last.line)
                sc->st_first = sc->st_last;
        }
    } else if (m == DW_OBCI_MARK_END) {
        snprintf(sc->why, sizeof sc->why, "the recording's closing footer is at line %ld (\"%.24s\"): "
                 "nothing after it was written by this recording", lineno, p->line);
        /* "%Total time mS:" holds millis() when the file filled (the firmware's t starts at 0): a clock
         * that does not fit this recording's makes the footer an earlier recording's */
        long long at = ftello(p->f);
        struct stamp ft = { 0 };
        ft.have_ms = dw_obci_getline(p->f, &p->line, &p->cap) >= 0 && clock_line(p->line, &ft.ms);
        if (at >= 0)
            fseeko(p->f, at, SEEK_SET);
        char ba[48];
        if (ft.have_ms && sc->have_ref && !stamp_fits(sc, &ft, next_frame, fs))
            snprintf(sc->foreign, sizeof sc->foreign, "the footer at line %ld holds the device clock %08lX, %s "
                     "the last start stamp with %.1f s of samples since: an earlier recording's footer, not "
                     "this one's, and some lines before it may be that recording's too (nothing in the file tells "
                     "from which 512-byte block on): they are read as data", lineno, ft.ms,
                     before_after(ba, sizeof ba, clock_diff_s(ft.ms, sc->ref_ms)),
                     (double)(next_frame - sc->ref_frame) / fs);
    }
    return m == DW_OBCI_MARK_END;
}

/* Whether a stamp's clock fits this recording: the device's millis() since the reference stamp against
 * the samples counted since (next_frame), within 0.5 % (the ADS1299's internal oscillator, +-0.5 %) and
 * 2 s; 1 when there is nothing to compare. */
static int stamp_fits(const scan *sc, const struct stamp *st, long long next_frame, double fs)
{
    if (!sc->have_ref || !st->have_ms)
        return 1;
    double elapsed = clock_diff_s(st->ms, sc->ref_ms);
    double counted = (double)(next_frame - sc->ref_frame) / fs;
    return fabs(elapsed - counted) <= 0.005 * counted + 2.0;
}

/* The stream stamps between the last sample and this one (sc->stamps of them; counter: this sample's):
 * 1, with sc->why, when reading ends before this line; else *b says how this sample is numbered. Before
 * the first sample the last stamp is the start, and its name says which name starts (sc->start_name).
 * Between samples:
 *   a stop, then a start     a pause of the two clocks' difference; the counter restarts (startADS)
 *   a start alone            a note; reading goes on, the counter taken as restarted, no time counted
 *   a stop with no start after it, or a stamp whose clock does not fit the samples counted since the
 *                            previous start (stamp_fits), and an index after it that does not restart at
 *                            00, as the device's does at every start: the samples are not this
 *                            recording's (an earlier one's, left on the card): reading ends. With the
 *                            index at 00 the device did restart (after a stop: a start whose stamp was
 *                            missing, a note): reading goes on, no time counted for an unknown pause, and
 *                            the clocks are not trusted for the pause (0 s).
 * The rule is the same whichever name opens the file. */
static int stamps_seen(scan *sc, long prev, long counter, long long next_frame, double fs, obci_break *b)
{
    if (prev < 0) {
        sc->start_name = sc->st_last.name;
        if (sc->st_last.have_ms)
            sc->have_ref = 1, sc->ref_ms = sc->st_last.ms, sc->ref_frame = 0;
        return 0;
    }
    if (!sc->start_name)
        sc->start_name = DW_OBCI_MARK_STOP_AT;   /* no stamp before the first sample: the firmware's names */
    int fits = stamp_fits(sc, &sc->st_first, next_frame, fs), stops = stamp_stops(sc, sc->st_last.name);
    if ((stops || !fits) && counter != 0) {
        char clk[200] = "", ba[48];
        if (!fits)
            snprintf(clk, sizeof clk, "holds the device clock %08lX, %s the last start stamp, but %.1f s of "
                     "samples lie between", sc->st_first.ms,
                     before_after(ba, sizeof ba, clock_diff_s(sc->st_first.ms, sc->ref_ms)),
                     (double)(next_frame - sc->ref_frame) / fs);
        if (stops && !fits && sc->st_first.line == sc->st_last.line)
            snprintf(sc->why, sizeof sc->why, "the stream stamp at line %ld stops the stream and %s; no start "
                     "stamp follows it, and the sample index after it does not restart at 00 as the device's "
                     "does at every start: it was not written by this recording (an earlier one's, left on the "
                     "card)", sc->st_last.line, clk);
        else if (stops) {
            char other[260] = "";
            if (clk[0])
                snprintf(other, sizeof other, " (the one at line %ld %s)", sc->st_first.line, clk);
            snprintf(sc->why, sizeof sc->why, "the stream stamp at line %ld stops the stream and no start stamp "
                     "follows it%s, and the sample index after it does not restart at 00 as the device's does at "
                     "every start: it was not written by this recording (an earlier one's, left on the card)",
                     sc->st_last.line, other);
        }
        else
            snprintf(sc->why, sizeof sc->why, "the stream stamp at line %ld %s, and the sample index after it does "
                     "not restart at 00 as the device's does: it was not written by this recording (an earlier "
                     "one's, left on the card)", sc->st_first.line, clk);
        return 1;
    }
    b->restart = 1;
    int first_starts = sc->st_first.name == sc->start_name, last_starts = sc->st_last.name == sc->start_name;
    if (sc->stamps >= 2 && !first_starts && last_starts) {           /* stopped, started again */
        unsigned long ms = (sc->st_last.ms - sc->st_first.ms) & 0xffffffffUL;
        int known = fits && sc->st_first.have_ms && sc->st_last.have_ms && ms <= 86400000UL;
        b->pause = known ? llround(ms / 1000.0 * fs) : 0;
        if (!sc->pauses++)
            sc->pause_line = sc->st_first.line;
        sc->pauses_unknown += !known;
        sc->pause_frames += b->pause;
    } else if (stops) {                                              /* a start whose stamp is missing */
        if (!sc->nostart++)
            sc->nostart_line = sc->st_last.line;
    } else if (!sc->lone++) {
        sc->lone_line = sc->st_first.line;
    }
    sc->have_ref = sc->st_last.have_ms && last_starts;     /* after a stop alone: no clock to go by */
    sc->ref_ms = sc->st_last.ms;
    sc->ref_frame = next_frame + b->pause;
    return 0;
}

/* Whole counter cycles lost (the counter cannot show them: 256 samples on a Cyton, 201 on a Ganglion)
 * seen by a format's timestamp column. The host stamps each sample on arrival: on the real GUI files
 * in ../shared/data/openbci (1-ms and 1-us columns) the stamps scatter -11 to +32 ms about a straight
 * line and samples arrive up to 35 ms apart, and a stall delays samples that then arrive in a burst,
 * but never early. So the lowest residual (timestamp minus frame / fs) over a few seconds follows the
 * device's clock; a loss of k cycles raises it by k cycles' time for good, a stall only for a moment.
 * A jump of half a cycle or more between two samples makes a candidate; CYCLE_WINDOW_S later, the
 * lowest residual after it minus the lowest in the CYCLE_WINDOW_S before it, within CYCLE_TOL cycle of
 * k >= 1 cycles, is k cycles lost (a break on the candidate's line); anything else is none. Except where
 * the candidate's counter jumps to 00 (the board restarts it at every stream start: the GUI stopped and
 * started the stream): a rise d of half a cycle or more is then a pause (dw_block.pause) of d plus the
 * samples the counter's jump counted, and nothing lost, so what follows is at its true time (a host clock
 * step there would be taken for a pause; the counter's restart is the evidence it is not). */
#define CYCLE_WINDOW_S 3.0
/* Within 0.12 cycle (123 ms on a Cyton) of whole cycles: the lowest residual moves by a few ms on the
 * real files, the board's clock 0.5 % of the 6 s compared at most (30 ms); a host clock step (NTP) of any
 * other size is not taken for a loss. A loss longer than an hour is not believed (a clock set anew). */
#define CYCLE_TOL 0.12
#define CYCLE_MAX_S 3600.0
static void cycle_resolve(obci_priv *p, scan *sc, long long *next_frame)
{
    double fs = p->cycle_fs, cyc_s = (double)p->cycle / fs, d = sc->cand_after - sc->cand_before;
    sc->cand = 0;
    long k = 0;
    long long add, pause = 0;
    if (!(d >= 0.5 * cyc_s && d <= CYCLE_MAX_S))
        return;
    if (sc->cand_restart) {                       /* the whole time between: the counter's jump, and d more */
        pause = llround(d * fs) + sc->cand_lost;
        add = pause - sc->cand_lost;              /* frames after it move on by this */
    } else {
        k = lround(d / cyc_s);
        if (fabs(d - k * cyc_s) > CYCLE_TOL * cyc_s)
            return;
        add = (long long)k * p->cycle;
    }
    for (size_t i = 0; i < p->nidx; i++)          /* the seek entries after the candidate move on */
        if (p->idx[i].lineno >= sc->cand_line)
            p->idx[i].next_frame += add;
    size_t at = p->nbrk;                          /* the break, in line order (a later stamp's may exist) */
    while (at > 0 && p->brk[at - 1].line > sc->cand_line)
        at--;
    obci_break nb = pause ? (obci_break){ sc->cand_line, 0, pause, 1, 1 } : (obci_break){ sc->cand_line, add, 0, 0, 0 };
    if (at > 0 && p->brk[at - 1].line == sc->cand_line) {
        obci_break *o = &p->brk[at - 1];
        o->add += nb.add, o->pause += nb.pause, o->restart |= nb.restart, o->timed |= nb.timed;
    } else {
        if (brk_add(p, (obci_break){ 0 }) < 0)
            return;
        memmove(p->brk + at + 1, p->brk + at, (p->nbrk - 1 - at) * sizeof *p->brk);
        p->brk[at] = nb;
    }
    *next_frame += add;
    sc->f_last += add;
    sc->f_prev += add;
    if (pause) {                                  /* the counter's jump was no loss */
        sc->lost -= sc->cand_lost;
        if (!sc->tpauses++)
            sc->tpause_line = sc->cand_line;
        sc->tpause_frames += pause;
    } else {
        sc->lost += add;
        sc->cycles += k;
        sc->cycle_frames += add;
    }
    memset(sc->bk, 0, sizeof sc->bk);             /* residuals before the loss no longer apply */
}

/* One timestamped sample (t, frame) for the cycle check; lineno its line, lost the samples its counter's
 * jump counts, restart: its counter restarts at 00 (the stream stopped and started again, if the time
 * between says so). */
static void cycle_sample(obci_priv *p, scan *sc, double t, long long frame, long lineno, long lost, int restart,
                         long long *next_frame)
{
    double fs = p->cycle_fs, r = t - (double)frame / fs;
    long long sec = (long long)floor((double)frame / fs);
    if (sc->cand && frame - sc->cand_frame > CYCLE_WINDOW_S * fs) {
        long long was = *next_frame;
        cycle_resolve(p, sc, next_frame);
        frame += *next_frame - was;
        r = t - (double)frame / fs;
    }
    if (sc->cand) {
        sc->cand_after = fmin(sc->cand_after, r);
        return;
    }
    double before = INFINITY;
    for (int i = 0; i < 4; i++)
        if (sc->bk[i].sec > 0 && sc->bk[i].sec - 1 >= sec - 3)
            before = fmin(before, sc->bk[i].min);
    if (sc->t_prev > 0 && isfinite(before) &&
        (t - sc->t_prev) - (double)(frame - sc->f_prev) / fs >= 0.5 * p->cycle / fs) {
        sc->cand = 1, sc->cand_line = lineno, sc->cand_frame = frame;
        sc->cand_before = before, sc->cand_after = r;
        sc->cand_lost = lost, sc->cand_restart = restart;
    } else {
        int i = (int)(sec % 4);
        if (sc->bk[i].sec != sec + 1)
            sc->bk[i].sec = sec + 1, sc->bk[i].min = r;   /* sec + 1: 0 marks an empty bucket */
        else
            sc->bk[i].min = fmin(sc->bk[i].min, r);
    }
    sc->t_prev = t;
    sc->f_prev = frame;
}

/* For a format whose counter never jumps (counter_exact): 1, with sc->why, when this sample line cannot
 * follow the last one in the device's stream: its counter is not the next one where a 512-byte block of
 * the file begins between the last sample's line and this one (off: where this one starts). k unreadable
 * lines between may have held 0 to k samples (a line torn in two holds one), so the next 1 + k counters
 * are allowed. A jump inside a block is not where the device's written blocks end: it stays lost
 * samples (a damaged index or a dropped sample in the middle of the night must not cost the rest of it:
 * a tester's one corrupt index byte at 150 s of 300 cut the night to 5 epochs). */
static int stream_break(obci_priv *p, scan *sc, long prev, long counter, long lineno, long long off)
{
    const dw_obci_format *f = &p->fmt;
    if (!f->counter_exact || prev < 0)
        return 0;
    long mod = f->counter_mod > 0 ? f->counter_mod : 256, step = f->counter_step;
    long d = ((counter - prev) % mod + mod) % mod, want = (prev + step) % mod;
    int next = d % step == 0 && d >= step && d <= step * (1 + sc->pending);
    if (next || (off / 512) * 512 < sc->tail_off)   /* no block starts between */
        return 0;
    snprintf(sc->why, sizeof sc->why, "the sample index goes from %02lX to %02lX at line %ld where %02lX "
             "was next%s, at the start of a 512-byte block, and the device writes every sample it "
             "counts in whole blocks, so its index never jumps in its own file: the lines from there "
             "were left by an earlier recording", prev, counter, lineno, want,
             sc->pending ? " (or one more per unreadable line between)" : "");
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
    p->cycle = p->fmt.counter_mod > 0 ? p->fmt.counter_mod / p->fmt.counter_step : 256 / p->fmt.counter_step;
    p->cycle_fs = src->info.fs;
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
        if (r == 0 && stream_mark(p, &sc, lineno, next_frame, src->info.fs))
            break;
        if (r < 0 && torn_at_block(p, &sc, off, lineno))
            break;
        if (r < 0 && !sc.pending++)
            sc.pending_first = lineno;
        if (r != 1 || (prev < 0 && p->fmt.skip_zero_rows && zero_row(&p->fmt, &row)))
            continue;
        obci_break b = { 0 };
        if (sc.stamps ? stamps_seen(&sc, prev, row.counter, next_frame, src->info.fs, &b)
                      : stream_break(p, &sc, prev, row.counter, lineno, off)) {
            sc.tail_samples = 1;                 /* this line: the first of the tail */
            break;
        }
        if (index_sample(p, &sc, &cap, &row, off, lineno, &next_frame, &target, &prev, &first, b) < 0)
            goto read_error;
        sc.stamps = 0;
    }
    if (sc.cand && next_frame - sc.cand_frame >= 0.5 * src->info.fs)
        cycle_resolve(p, &sc, &next_frame);
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
