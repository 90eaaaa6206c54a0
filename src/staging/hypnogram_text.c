/* Reference hypnograms as text, in the forms other tools write:
 *  - one stage per line: W N1 N2 N3 R (also Wake, REM, N4), R&K 1-4, "Sleep stage X", numbers, "?" for
 *    unscored; 30-s epochs from an unknown start (laid from the recording's first epoch);
 *  - a table: onset, duration, stage, separated by commas, tabs or semicolons, with or without a header
 *    row (MNE's Annotations.save: "onset,duration,description" with dates and times, or its .txt form
 *    with "# orig_time : ..." and onsets in seconds; YASA and the NSRR tools: onset, duration, stage;
 *    our own `score` CSV: epoch, onset_s, stage). Onsets are seconds, clock times HH:MM:SS[.fff] (time
 *    of day), or "YYYY-MM-DD HH:MM:SS[.fff]" (a date of 1970-01-01 means seconds: MNE without a start).
 * Numbers as stages: 0 W, 1-3 N1-N3, 4 and 5 as R&K (S4 = N3, 5 = R) when any 5 appears, else 4 = R
 * (YASA's 0-4 coding); 6 (movement), 7, 9 and negative numbers are unscored. The rule used is noted.
 * A UTF-8 byte-order mark and CR line ends are skipped; a line is at most 4096 bytes (a longer one is an
 * error: this is not a hypnogram). An unknown stage is an error naming the line (a dropped line would
 * shift every epoch after it), except in a table's description column, where rows that are not about
 * stages ("Lights off") are counted and skipped. */
#include "staging/hypnogram.h"
#include "staging/hypnogram_priv.h"
#include "sources/source.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define LINE_CAP 4096
#define MAX_COLS 64
#define CODE_BASE 100              /* a numeric stage waiting for the coding: CODE_BASE + number */

typedef struct {
    FILE *f;
    const char *path, *name;
    long lineno;
    char line[LINE_CAP + 2];
    dw_err *err;
} reader;

/* Next line without its end (and without a BOM on line 1): its length, -1 at the end, -2 too long. */
static int next_line(reader *r)
{
    if (!fgets(r->line, sizeof r->line, r->f))
        return -1;
    r->lineno++;
    size_t n = strlen(r->line);
    if (n == sizeof r->line - 1 && r->line[n - 1] != '\n')
        return dw_err_set(r->err, "%s:%ld: line longer than %d bytes: not a hypnogram", r->path, r->lineno,
                          LINE_CAP), -2;
    while (n && (r->line[n - 1] == '\n' || r->line[n - 1] == '\r'))
        r->line[--n] = 0;
    if (r->lineno == 1 && !strncmp(r->line, "\xef\xbb\xbf", 3))
        memmove(r->line, r->line + 3, (n -= 3) + 1);
    return (int)n;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
        s[n - 1] = 0;
        s++;
    }
    return s;
}

/* A stage text: DW_W..DW_R, DW_UNSCORED, CODE_BASE + n for a bare number n (resolved later), -2 when it
 * does not look like a stage at all, -3 when it says "Sleep stage" but names none we know. */
static int stage_text(const char *in)
{
    static const char *const prefix[] = { "Sleep stage ", "Sleep_stage_", "Sleep stage", "Stage ", "Stage_" };
    char t[64];
    snprintf(t, sizeof t, "%s", in);
    int said = 0;
    const char *s = t;
    for (size_t i = 0; i < sizeof prefix / sizeof prefix[0] && !said; i++)
        if (!strncasecmp(s, prefix[i], strlen(prefix[i])))
            s += strlen(prefix[i]), said = i < 3 ? 1 : 2;
    char *end;
    long v = strtol(s, &end, 10);
    if (*s && !*end && end != s && !said)
        return v >= 0 && v <= 9 ? CODE_BASE + (int)v : v < 0 ? DW_UNSCORED : -2;
    static const struct { const char *text; int stage; } names[] = {
        { "W", DW_W }, { "Wake", DW_W }, { "N1", DW_N1 }, { "N2", DW_N2 }, { "N3", DW_N3 }, { "N4", DW_N3 },
        { "R", DW_R }, { "REM", DW_R }, { "S1", DW_N1 }, { "S2", DW_N2 }, { "S3", DW_N3 }, { "S4", DW_N3 },
        { "1", DW_N1 }, { "2", DW_N2 }, { "3", DW_N3 }, { "4", DW_N3 }, { "?", DW_UNSCORED },
        { "U", DW_UNSCORED }, { "Unscored", DW_UNSCORED }, { "Unknown", DW_UNSCORED }, { "MT", DW_UNSCORED },
        { "Movement", DW_UNSCORED }, { "Movement time", DW_UNSCORED }, { "Artefact", DW_UNSCORED },
        { "Artifact", DW_UNSCORED },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcasecmp(s, names[i].text) && (said || names[i].text[0] < '1' || names[i].text[0] > '4'))
            return names[i].stage;
    return said == 1 ? -3 : -2;
}

/* ---- onsets ------------------------------------------------------------------------------------------ */

enum { T_SECONDS = 1, T_CLOCK, T_DATE };

/* Seconds, "HH:MM:SS[.fff]" or "YYYY-MM-DD[ T]HH:MM:SS[.fff]". Its kind, or 0 if none. */
static int onset_value(const char *s, double *v)
{
    char *end;
    int y, mo, d, h, mi, n = 0;
    double sec;
    if (sscanf(s, "%4d-%2d-%2d%*[ T]%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &n) == 6 &&
        (!s[n] || !strcmp(s + n, "Z") || ((s[n] == '+' || s[n] == '-') && strlen(s + n) <= 6))) {
        if (y < 1900 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
            !(sec >= 0 && sec < 61))
            return 0;
        /* a zone suffix (MNE writes UTC) is ignored: EDF clocks have no zone, and MNE takes them as UTC */
        if (y == 1970 && mo == 1 && d == 1)
            return *v = h * 3600.0 + mi * 60 + sec, T_SECONDS;    /* MNE without a start time */
        struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi,
                         .tm_sec = (int)floor(sec), .tm_isdst = -1 };
        time_t t = mktime(&tm);
        return t == (time_t)-1 ? 0 : (*v = (double)t + sec - floor(sec), T_DATE);
    }
    n = 0;
    if (sscanf(s, "%2d:%2d:%lf%n", &h, &mi, &sec, &n) == 3 && !s[n] && h >= 0 && h < 24 && mi >= 0 && mi < 60 &&
        sec >= 0 && sec < 61)
        return *v = h * 3600.0 + mi * 60 + sec, T_CLOCK;
    *v = strtod(s, &end);
    return *s && !*end && isfinite(*v) && *v > -1e9 && *v < 1e9 ? T_SECONDS : 0;
}

/* ---- tables ------------------------------------------------------------------------------------------ */

typedef struct {
    char sep;
    int onset, dur, stage, epoch;       /* column numbers, -1 if absent */
    int kind;                           /* of the onsets seen so far */
    double first;                       /* the first absolute or clock onset */
    int skipped;
    long first_skipped;
} table;

static int split(char *line, char sep, char **col)
{
    int n = 0;
    for (char *p = line; n < MAX_COLS;) {
        char *q = strchr(p, sep);
        col[n++] = trim(p);
        if (!q)
            break;
        *q = 0;
        p = q + 1;
    }
    return n;
}

/* Header row: which column holds what. 1 if the row names columns, 0 if it is data. */
static int header_row(table *t, char **col, int n)
{
    static const char *const stage_names[] = { "stage", "sleep_stage", "sleepstage", "hypnogram", "description",
                                               "label", "annotation", "value", "event", "desc" };
    int named = 0, best = 99;
    for (int i = 0; i < n; i++) {
        char c[64];
        snprintf(c, sizeof c, "%s", col[i]);
        for (char *p = c; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (!strncmp(c, "onset", 5) || !strcmp(c, "start") || !strncmp(c, "start_", 6) || !strcmp(c, "time"))
            t->onset = t->onset < 0 ? i : t->onset, named = 1;
        else if (!strncmp(c, "duration", 8) || !strcmp(c, "dur"))
            t->dur = t->dur < 0 ? i : t->dur, named = 1;
        else if (!strcmp(c, "epoch"))
            t->epoch = i, named = 1;
        for (int k = 0; k < (int)(sizeof stage_names / sizeof stage_names[0]); k++)
            if (!strcmp(c, stage_names[k]) && k < best)
                t->stage = i, best = k, named = 1;
    }
    return named;
}

/* One data row of a table into h. 0, or -1 with err. */
static int table_row(reader *r, table *t, char **col, int n, dw_hypnogram *h, int *cap)
{
    if (t->stage >= n || (t->onset >= 0 && t->onset >= n) || (t->dur >= 0 && t->dur >= n) ||
        (t->onset < 0 && t->epoch >= n))
        return dw_err_set(r->err, "%s:%ld: %d columns, fewer than the header's", r->path, r->lineno, n), -1;
    int st = stage_text(col[t->stage]);
    if (st == -3)
        return dw_err_set(r->err, "%s:%ld: column %d: \"%.40s\" is not a sleep stage we know", r->path, r->lineno,
                          t->stage + 1, col[t->stage]), -1;
    if (st == -2) {
        if (!t->skipped++)
            t->first_skipped = r->lineno;
        return 0;
    }
    double on, dur = -1;
    int kind;
    if (t->onset >= 0) {
        if (!(kind = onset_value(col[t->onset], &on)) || (t->kind && kind != t->kind))
            return dw_err_set(r->err, "%s:%ld: column %d (onset): \"%.40s\" is not %s", r->path, r->lineno,
                              t->onset + 1, col[t->onset], t->kind == T_DATE ? "a date and time like the rows before"
                              : t->kind == T_CLOCK ? "a clock time like the rows before"
                              : "seconds, a clock time HH:MM:SS or a date and time"), -1;
    } else {
        char *end;
        on = strtod(col[t->epoch], &end) * DW_EPOCH_S, kind = T_SECONDS;
        if (end == col[t->epoch] || *end)
            return dw_err_set(r->err, "%s:%ld: column %d (epoch): \"%.40s\" is not a number", r->path, r->lineno,
                              t->epoch + 1, col[t->epoch]), -1;
    }
    if (t->dur >= 0 && (onset_value(col[t->dur], &dur) != T_SECONDS || dur < 0))
        return dw_err_set(r->err, "%s:%ld: column %d (duration): \"%.40s\" is not seconds", r->path, r->lineno,
                          t->dur + 1, col[t->dur]), -1;
    if (!t->kind)
        t->kind = kind, t->first = on;
    if (kind != T_SECONDS) {               /* relative to the first row; clock times may pass midnight */
        on -= t->first;
        if (kind == T_CLOCK && on < -1e-9)
            on += 24 * 3600;
    }
    if (st == DW_UNSCORED)
        return 0;
    return dw_hyp_add(h, cap, on, dur, st) < 0 ? (dw_err_set(r->err, "%s: out of memory", r->path), -1) : 0;
}

static int read_table(reader *r, char sep, double orig, dw_hypnogram *h)
{
    table t = { sep, -1, -1, -1, -1, 0, 0, 0, 0 };
    char *col[MAX_COLS];
    int cap = 0, n = split(r->line, sep, col), len;
    if (!header_row(&t, col, n)) {
        t.onset = 0, t.dur = n >= 3 ? 1 : -1, t.stage = n >= 3 ? 2 : 1;
        if (table_row(r, &t, col, n, h, &cap) < 0)
            return -1;
    } else if (t.stage < 0 || (t.onset < 0 && t.epoch < 0)) {
        return dw_err_set(r->err, "%s:%ld: a header row without %s column", r->path, r->lineno,
                          t.stage < 0 ? "a stage (stage, description, label...)" : "an onset or epoch"), -1;
    }
    while ((len = next_line(r)) >= 0) {
        char *s = trim(r->line);
        if (!*s || *s == '#')
            continue;
        n = split(s, sep, col);
        if (table_row(r, &t, col, n, h, &cap) < 0)
            return -1;
    }
    if (len == -2)
        return -1;
    h->start = t.kind == T_DATE ? t.first : t.kind == T_CLOCK ? t.first : orig;
    h->start_tod = t.kind == T_CLOCK;
    snprintf(h->format, sizeof h->format, "table onset,duration,stage");
    if (t.skipped)
        dw_source_note(h->note, sizeof h->note, "%s: %d rows that are not stages skipped (first: line %ld)",
                       r->name, t.skipped, t.first_skipped);
    return 0;
}

/* ---- one stage per line ------------------------------------------------------------------------------ */

static int read_lines(reader *r, dw_hypnogram *h)
{
    int cap = 0, len, e = 0;
    do {
        char *s = trim(r->line);
        if (!*s || *s == '#')
            continue;
        int st = stage_text(s);
        if (st < DW_UNSCORED)
            return dw_err_set(r->err, "%s:%ld: \"%.40s\" is not a sleep stage (W, N1, N2, N3, R, R&K 1-4, "
                              "0-5, ?)", r->path, r->lineno, s), -1;
        if (st != DW_UNSCORED && dw_hyp_add(h, &cap, e * (double)DW_EPOCH_S, DW_EPOCH_S, st) < 0)
            return dw_err_set(r->err, "%s: out of memory", r->path), -1;
        e++;
    } while ((len = next_line(r)) >= 0);
    if (len == -2)
        return -1;
    snprintf(h->format, sizeof h->format, "text, one stage per line");
    dw_source_note(h->note, sizeof h->note, "%s: one stage per line: %d epochs of 30 s, start time unknown",
                   r->name, e);
    return 0;
}

/* Numbers as stages: R&K 0-5 when a 5 appears, else YASA's 0-4 (4 = R). */
static void resolve_codes(reader *r, dw_hypnogram *h)
{
    int five = 0, four = 0, any = 0, k = 0;
    for (int i = 0; i < h->nseg; i++)
        if (h->seg[i].stage >= CODE_BASE)
            any = 1, five |= h->seg[i].stage == CODE_BASE + 5, four |= h->seg[i].stage == CODE_BASE + 4;
    static const signed char rk[10] = { DW_W, DW_N1, DW_N2, DW_N3, DW_N3, DW_R, -1, -1, -1, -1 };
    static const signed char yasa[10] = { DW_W, DW_N1, DW_N2, DW_N3, DW_R, -1, -1, -1, -1, -1 };
    const signed char *map = five || !four ? rk : yasa;
    for (int i = 0; i < h->nseg; i++) {
        dw_hyp_seg s = h->seg[i];
        if (s.stage >= CODE_BASE)
            s.stage = map[s.stage - CODE_BASE];
        if (s.stage >= 0)
            h->seg[k++] = s;
    }
    h->nseg = k;
    if (any && five)                        /* the rule used, whichever it was (README) */
        dw_source_note(h->note, sizeof h->note, "%s: numeric stages read as R&K 0-5 (4 = N3, "
                       "5 = R)", r->name);
    else if (any && four)
        dw_source_note(h->note, sizeof h->note, "%s: numeric stages read as 0-4 with 4 = R (YASA's "
                       "coding: no 5 in the file)", r->name);
    else if (any)
        dw_source_note(h->note, sizeof h->note, "%s: numeric stages 0-3 read as W, N1, N2, N3 (no "
                       "4 or 5 in the file: R&K and YASA's coding agree)", r->name);
}

int dw_hyp_read_text(FILE *f, const char *path, dw_hypnogram *h, dw_err *err)
{
    const char *name = strrchr(path, '/');
    reader r = { .f = f, .path = path, .name = name ? name + 1 : path, .err = err };
    snprintf(h->path, sizeof h->path, "%s", path);
    double orig = 0;
    int len;
    while ((len = next_line(&r)) >= 0) {
        char *s = trim(r.line), *o = strstr(s, "orig_time");
        if (*s != '#' && *s)
            break;
        if (o && (o = strchr(o, ':')) && onset_value(trim(o + 1), &orig) != T_DATE)
            orig = 0;                           /* MNE: "# orig_time : 2024-03-15 22:30:00" */
    }
    if (len == -2)
        return -1;
    if (len < 0)
        return dw_err_set(err, "%s: empty: no stages", path), -1;
    const char *seps = ",\t;";
    char sep = 0;
    for (const char *p = seps; *p && !sep; p++)
        if (strchr(r.line, *p))
            sep = *p;
    int rc = sep ? read_table(&r, sep, orig, h) : read_lines(&r, h);
    if (rc == 0)
        resolve_codes(&r, h);
    if (rc == 0 && h->nseg == 0)
        return dw_err_set(err, "%s: no scored epochs (every stage unscored, or no stage column)", path), -1;
    return rc;
}
