/* The BIDS events table: rows in memory, sorted and written at the end. */
#include "record/bids_events.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/files.h"

struct row { double onset, dur; long seq; char *type, *value; };

struct dw_bids_events {
    struct row *row;
    int n, cap;
};

dw_bids_events *dw_bids_events_new(void)
{
    dw_bids_events *e = dw_xrealloc(NULL, sizeof *e, "the events table");
    memset(e, 0, sizeof *e);
    return e;
}

void dw_bids_events_free(dw_bids_events *e)
{
    if (!e)
        return;
    for (int i = 0; i < e->n; i++) {
        free(e->row[i].type);
        free(e->row[i].value);
    }
    free(e->row);
    free(e);
}

/* One cell: no tab, no line break (they would split the row); empty becomes n/a. */
static char *cell(const char *s)
{
    if (!s || !*s)
        return dw_xstrdup("n/a", "the events table");
    char *c = dw_xstrdup(s, "the events table");
    for (char *p = c; *p; p++)
        if (*p == '\t' || *p == '\n' || *p == '\r')
            *p = ' ';
    return c;
}

void dw_bids_events_add(dw_bids_events *e, double onset, double dur, const char *type,
                        const char *value)
{
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 1024;
        e->row = dw_xrealloc(e->row, (size_t)e->cap * sizeof *e->row, "the events table");
    }
    e->row[e->n] = (struct row){ onset, isnan(dur) ? -1 : dur, e->n, cell(type), cell(value) };
    e->n++;
}

void dw_bids_events_addf(dw_bids_events *e, double onset, double dur, const char *type,
                         const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    dw_bids_events_add(e, onset, dur, type, buf);
}

int dw_bids_events_count(const dw_bids_events *e) { return e->n; }

static int by_onset(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    if (x->onset != y->onset)
        return x->onset < y->onset ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int dw_bids_events_write(const dw_bids_events *e, const char *path, int force, dw_err *err)
{
    struct row *r = malloc((size_t)(e->n ? e->n : 1) * sizeof *r);
    if (!r) {
        dw_err_set(err, "%s: out of memory", path);
        return -1;
    }
    memcpy(r, e->row, (size_t)e->n * sizeof *r);
    qsort(r, (size_t)e->n, sizeof *r, by_onset);
    dw_out o;
    FILE *f = NULL;
    int begun = dw_out_begin(&o, path, force, err);
    if (begun < 0 || !(f = fdopen(dup(o.fd), "w"))) {
        if (begun == 0) {
            dw_err_set(err, "%s: %s", path, strerror(errno));
            dw_out_abort(&o);
        }
        free(r);
        return begun < 0 ? begun : -1;
    }
    fputs("onset\tduration\ttrial_type\tvalue\n", f);
    for (int i = 0; i < e->n; i++) {
        fprintf(f, "%.3f\t", r[i].onset);
        if (r[i].dur >= 0)
            fprintf(f, "%.3f", r[i].dur);
        else
            fputs("n/a", f);
        fprintf(f, "\t%s\t%s\n", r[i].type, r[i].value);
    }
    free(r);
    if (fclose(f) != 0) {
        dw_err_set(err, "%s: cannot write: %s", path, strerror(errno));
        dw_out_abort(&o);
        return -1;
    }
    return dw_out_commit(&o, err);
}
