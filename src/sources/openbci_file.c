/* Streaming reader for OpenBCI's line-per-sample files (GUI text, SD-card logs).
 *
 * Nothing is loaded whole: open makes one fast pass that parses only the sample counter of each line and
 * keeps a seek index (byte offset every INDEX_STEP samples); reads then parse line by line. Time is the
 * sample count at the nominal rate; a counter jump of more than one step (the counter wraps 0-255) means
 * lost samples, delivered as dw_block.gap. A bad line is skipped and counted: the samples it held show up
 * as a gap when the counter moves on, src->err keeps the first reason ("x.txt:1234: column 5: not a
 * number") while reading goes on, and only a long run of bad lines (BAD_RUN_MAX) stops the source. */
#include "sources/openbci_file.h"
#include "base/files.h"
#include "base/text.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
} obci_priv;

long dw_obci_getline(FILE *f, char **buf, size_t *cap)
{
    long n = dw_getline_max(f, buf, cap, DW_OBCI_LINE_MAX);
    if (n == DW_LINE_EOF)
        return -1;
    if (n < 0)
        return -2;
    while (n > 0 && (*buf)[n - 1] == '\r')
        (*buf)[--n] = 0;
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
 * whole lost wrap of 256; it counts as no loss. */
static long lost_between(const dw_obci_format *fmt, long prev, long counter)
{
    if (prev < 0)
        return 0;
    long d = (counter - prev) & 255, step = fmt->counter_step;
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
        long len = dw_obci_getline(p->f, &p->line, &p->cap);
        if (len == -2 && !ferror(p->f)) {
            dw_err_set(&src->err, "%s:%ld: line longer than %d bytes: not an OpenBCI text file", src->path,
                       p->lineno + 1, DW_OBCI_LINE_MAX);
            return -1;
        }
        if (len < 0) {
            if (ferror(p->f)) {
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

static const struct dw_source_ops obci_ops = { "openbci", obci_read, obci_seek, obci_close };

/* One pass over the counters: the seek index and the length. */
static int build_index(dw_source *src, long long data_off, long lineno0)
{
    obci_priv *p = src->priv;
    size_t cap = 0;
    long long next_frame = 0, target = 0, lost = 0;
    long prev = -1, lineno = lineno0, bad = 0, first_bad = 0;
    for (;;) {
        long long off = ftello(p->f);
        if (dw_obci_getline(p->f, &p->line, &p->cap) < 0)
            break;
        lineno++;
        long counter;
        int r = p->fmt.counter(&p->fmt, p->line, &counter);
        if (r < 0 && !bad++)
            first_bad = lineno;
        if (r != 1)
            continue;
        if (prev < 0 && p->fmt.skip_zero_rows) {   /* the same rule as next_row, for exact frames */
            dw_obci_row row;
            char why[8];
            if (p->fmt.parse(&p->fmt, p->line, &row, why, sizeof why) == 1 && zero_row(&p->fmt, &row))
                continue;
        }
        long long frame = next_frame + lost_between(&p->fmt, prev, counter);
        lost += frame - next_frame;
        if (frame >= target || p->nidx == 0) {
            if (p->nidx == cap) {
                cap = cap ? 2 * cap : 64;
                seek_entry *v = realloc(p->idx, cap * sizeof *v);
                if (!v)
                    return -1;
                p->idx = v;
            }
            seek_entry e = { off, lineno - 1, next_frame, prev };
            if (p->nidx == 0)                      /* the first entry is the start of the data */
                e = (seek_entry){ data_off, lineno0, 0, -1 };
            p->idx[p->nidx++] = e;
            target = (frame / INDEX_STEP + 1) * INDEX_STEP;
        }
        prev = counter;
        next_frame = frame + 1;
    }
    if (ferror(p->f))
        return -1;
    src->info.duration_s = (double)next_frame / src->info.fs;
    /* what the user should know although the file opened (after the format's own note) */
    size_t k = strlen(src->info.note);
    if (lost)
        k += (size_t)snprintf(src->info.note + k, sizeof src->info.note - k, "%s%lld samples lost (counter jumps)",
                              k ? "; " : "", lost);
    if (bad && k < sizeof src->info.note)
        snprintf(src->info.note + k, sizeof src->info.note - k, "%s%ld unreadable lines skipped (first: line %ld)",
                 k ? "; " : "", bad, first_bad);
    clearerr(p->f);
    return fseeko(p->f, data_off, SEEK_SET);
}

/* "Ch3", "ch 3", "EEG Ch3" or "3". */
static int find_channel(const char *name, int nch)
{
    char norm[DW_LABEL_LEN];
    size_t k = 0;
    for (; *name && k < sizeof norm - 1; name++)
        if (!isspace((unsigned char)*name))
            norm[k++] = (char)tolower((unsigned char)*name);
    norm[k] = 0;
    const char *s = norm;
    if (!strncmp(s, "eeg", 3))
        s += 3;
    if (!strncmp(s, "ch", 2))
        s += 2;
    char *end;
    long i = strtol(s, &end, 10);
    return *s && !*end && i >= 1 && i <= nch ? (int)i - 1 : -1;
}

static int choose(dw_source *src, obci_priv *p, const dw_channel_spec *spec, dw_err *err)
{
    int nch = p->fmt.nch;
    if (!spec || spec->nchannels == 0) {
        for (int c = 0; c < nch; c++)
            p->sel[p->nsel++] = c;
    }
    for (int i = 0; spec && i < spec->nchannels && i < DW_MAX_CH; i++)
        if ((p->sel[p->nsel++] = find_channel(spec->channels[i], nch)) < 0)
            goto bad_name;
    const char *want[2] = { spec ? spec->frontal : "", spec ? spec->parietal : "" };
    int *role[2] = { &src->info.frontal, &src->info.parietal };
    for (int w = 0; w < 2; w++) {
        if (!want[w][0]) {                         /* no montage in these files: Ch1 frontal, Ch2 parietal */
            *role[w] = w < p->nsel ? w : -1;
            continue;
        }
        if (!strcasecmp(want[w], "none")) {
            *role[w] = -1;
            continue;
        }
        int c = find_channel(want[w], nch), k = 0;
        if (c < 0) {
            dw_err_set(err, "%s: no %s channel \"%s\"; the file has Ch1..Ch%d", src->path,
                       w ? "parietal" : "frontal", want[w], nch);
            return -1;
        }
        while (k < p->nsel && p->sel[k] != c)
            k++;
        if (k == p->nsel) {
            if (p->nsel == DW_MAX_CH)
                goto bad_name;
            p->sel[p->nsel++] = c;
        }
        *role[w] = k;
    }
    src->info.nch = p->nsel;
    for (int c = 0; c < p->nsel; c++)
        snprintf(src->info.label[c], DW_LABEL_LEN, "Ch%d", p->sel[c] + 1);
    return 0;
bad_name:
    dw_err_set(err, "%s: no such channel among Ch1..Ch%d (give a label ChN or a number)", src->path, nch);
    return -1;
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
    snprintf(src->path, sizeof src->path, "%s", path);
    p->fmt = *fmt;
    p->prev = -1;
    if (!(p->f = dw_obci_fopen(path, err)))
        goto fail;
    if (choose(src, p, spec, err))
        goto fail;
    if (build_index(src, data_off, lineno0)) {
        dw_err_set(err, "%s: read error: %s", path, strerror(errno));
        goto fail;
    }
    if (p->nidx == 0) {
        dw_obci_row row;
        long long frame;
        if (next_row(src, &row, &frame) <= 0 && src->err.msg[0])   /* say why the lines were refused */
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
