/* Per-epoch feature tables (the columns of ../shared/data/sleep-edf/features): a header line of names,
 * then one tab-separated row per epoch. See feature_table.h. */
#include "staging/feature_table.h"
#include "base/files.h"
#include "base/text.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EPOCH     100000000L
#define DW_TABLE_LINE_MAX 65536   /* bytes: a row of 16 numbers is under 400 */

static const char *const base_cols[7] = { "delta", "theta", "alpha", "beta", "gamma", "var", "dvar" };
static const char *const chan_cols[2] = { "fpz", "pz" };

struct dw_feature_table {
    FILE *f;
    int own;
    char name[512];
    long line;
    char *buf;
    size_t cap;
    int ncols, c_epoch, c_stage, nch;
    int c_feat[2][7];
    long last_epoch;
    long missing_rows, first_missing_line;
};

static char *field_end(char *s)
{
    while (*s && *s != '\t')
        s++;
    return s;
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

static int read_header(dw_feature_table *t, dw_err *err)
{
    long n = dw_getline_max(t->f, &t->buf, &t->cap, DW_TABLE_LINE_MAX);
    if (n == DW_LINE_LONG) {
        dw_err_set(err, "%s:1: header line longer than %d bytes: not a feature table", t->name,
                   DW_TABLE_LINE_MAX);
        return -1;
    }
    if (n < 0) {
        dw_err_set(err, "%s: empty file (expected a header line of column names)", t->name);
        return -1;
    }
    if (memchr(t->buf, '\0', (size_t)n)) {
        dw_err_set(err, "%s:1: NUL byte in a text table", t->name);
        return -1;
    }
    t->line = 1;
    chomp(t->buf);
    t->c_epoch = t->c_stage = -1;
    memset(t->c_feat, -1, sizeof t->c_feat);
    char *s = t->buf;
    for (int col = 0;; col++) {
        char *e = field_end(s), end = *e;
        *e = '\0';
        if (!strcmp(s, "epoch")) t->c_epoch = col;
        if (!strcmp(s, "stage")) t->c_stage = col;
        for (int c = 0; c < 2; c++)
            for (int k = 0; k < 7; k++) {
                size_t l = strlen(chan_cols[c]);
                if (!strncmp(s, chan_cols[c], l) && s[l] == '_' && !strcmp(s + l + 1, base_cols[k]))
                    t->c_feat[c][k] = col;
            }
        t->ncols = col + 1;
        if (!end)
            break;
        s = e + 1;
    }
    int have[2] = { 0, 0 };
    for (int c = 0; c < 2; c++)
        for (int k = 0; k < 7; k++)
            have[c] += t->c_feat[c][k] >= 0;
    for (int c = 0; c < 2; c++)
        if (have[c] && have[c] < 7)
            for (int k = 0; k < 7; k++)
                if (t->c_feat[c][k] < 0) {
                    dw_err_set(err, "%s:1: no column %s_%s (a channel needs all of delta theta alpha beta gamma var dvar)",
                               t->name, chan_cols[c], base_cols[k]);
                    return -1;
                }
    if (!have[0]) {
        dw_err_set(err, "%s:1: no fpz_* columns (need fpz_delta ... fpz_dvar; pz_* optional)", t->name);
        return -1;
    }
    if (t->c_epoch < 0) {
        dw_err_set(err, "%s:1: no 'epoch' column", t->name);
        return -1;
    }
    t->nch = have[1] ? 2 : 1;
    t->last_epoch = -1;
    return 0;
}

dw_feature_table *dw_feature_table_from(FILE *f, const char *name, dw_err *err)
{
    dw_feature_table *t = calloc(1, sizeof *t);
    if (!t) {
        dw_err_set(err, "%s: out of memory", name);
        return NULL;
    }
    t->f = f;
    snprintf(t->name, sizeof t->name, "%s", name);
    if (read_header(t, err)) {
        dw_feature_table_close(t);
        return NULL;
    }
    return t;
}

dw_feature_table *dw_feature_table_open(const char *path, dw_err *err)
{
    FILE *f = dw_input_fopen(path, "feature table", err);
    if (!f)
        return NULL;
    dw_feature_table *t = dw_feature_table_from(f, path, err);
    if (!t) {
        fclose(f);
        return NULL;
    }
    t->own = 1;
    return t;
}

int dw_feature_table_channels(const dw_feature_table *t) { return t->nch; }
int dw_feature_table_has_stage(const dw_feature_table *t) { return t->c_stage >= 0; }
long dw_feature_table_missing(const dw_feature_table *t, long *first_line)
{
    *first_line = t->first_missing_line;
    return t->missing_rows;
}

void dw_feature_table_close(dw_feature_table *t)
{
    if (!t)
        return;
    if (t->own)
        fclose(t->f);
    free(t->buf);
    free(t);
}

/* A missing value (empty, as pandas writes NaN; NaN; NA) makes the row an unusable epoch, as a gap in a
 * recording is: the stager predicts through it. Anything else must be a finite number >= 0. */
static int parse_value(const dw_feature_table *t, const char *s, int col, double *v, dw_err *err)
{
    char *end;
    if (!*s || !strcmp(s, "NA") || !strcmp(s, "nan") || !strcmp(s, "NaN")) {
        *v = NAN;
        return 0;
    }
    *v = strtod(s, &end);
    if (end == s || *end || !isfinite(*v) || *v < 0) {
        dw_err_set(err, "%s:%ld: column %d: '%.40s' is not a finite number >= 0", t->name, t->line, col + 1, s);
        return -1;
    }
    return 0;
}

int dw_feature_table_next(dw_feature_table *t, long *epoch, int *stage, dw_features feats[2], dw_err *err)
{
    long n;
    do {
        if ((n = dw_getline_max(t->f, &t->buf, &t->cap, DW_TABLE_LINE_MAX)) == DW_LINE_EOF)
            return 0;
        if (n == DW_LINE_LONG) {
            dw_err_set(err, "%s:%ld: line longer than %d bytes", t->name, t->line + 1, DW_TABLE_LINE_MAX);
            return -1;
        }
        if (n < 0) {
            dw_err_set(err, "%s:%ld: read error", t->name, t->line + 1);
            return -1;
        }
        t->line++;
        if (memchr(t->buf, '\0', (size_t)n)) {
            dw_err_set(err, "%s:%ld: NUL byte in a text table", t->name, t->line);
            return -1;
        }
        chomp(t->buf);
    } while (!t->buf[0] || t->buf[0] == '#');       /* blank lines and comments */
    double vals[2][7];
    *stage = DW_UNSCORED;
    int seen = 0, col = 0, have_epoch = 0, missing = 0;
    for (char *s = t->buf;; col++) {
        char *e = field_end(s), end = *e;
        *e = '\0';
        if (col == t->c_epoch) {
            char *x;
            errno = 0;
            long v = strtol(s, &x, 10);
            if (x == s || *x || errno || v < 0 || v > MAX_EPOCH) {
                dw_err_set(err, "%s:%ld: epoch '%.40s' is not an integer in 0..%ld", t->name, t->line, s, MAX_EPOCH);
                return -1;
            }
            *epoch = v;
            have_epoch = 1;
        } else if (col == t->c_stage) {
            *stage = dw_stage_parse(s);
        }
        for (int c = 0; c < t->nch; c++)
            for (int k = 0; k < 7; k++)
                if (t->c_feat[c][k] == col) {
                    if (parse_value(t, s, col, &vals[c][k], err))
                        return -1;
                    missing |= isnan(vals[c][k]);
                    seen++;
                }
        if (!end)
            break;
        s = e + 1;
    }
    if (col + 1 != t->ncols || !have_epoch || seen != 7 * t->nch) {
        dw_err_set(err, "%s:%ld: %d fields, the header has %d", t->name, t->line, col + 1, t->ncols);
        return -1;
    }
    if (*epoch <= t->last_epoch) {
        dw_err_set(err, "%s:%ld: epoch %ld does not follow epoch %ld", t->name, t->line, *epoch, t->last_epoch);
        return -1;
    }
    t->last_epoch = *epoch;
    if (missing && !t->missing_rows++)
        t->first_missing_line = t->line;
    for (int c = 0; c < t->nch; c++)
        feats[c] = (dw_features){ vals[c][0], vals[c][1], vals[c][2], vals[c][3], vals[c][4], vals[c][5], vals[c][6] };
    return 1;
}
