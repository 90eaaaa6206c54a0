/* The protocol file: one key table for the fixed sections, [question N] by hand, then the checks
 * that need the whole file. */
#include "session/protocol.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/files.h"

enum kind { K_STR, K_NUM, K_INT, K_BOOL, K_U64, K_SHAM, K_STAGES, K_TARGETS, K_ITEMS, K_CLOCK };

struct key {
    const char *section, *name;
    enum kind kind;
    size_t off, size;
    const char *def;
    double min, max;
};

#define O(f) offsetof(dw_protocol, f)
#define S(f) sizeof(((dw_protocol *)0)->f)
static const struct key keys[] = {
    { "protocol", "name", K_STR, O(name), S(name), "", 0, 0 },
    { "awakenings", "enabled", K_BOOL, O(aw_enabled), 0, "false", 0, 1 },
    { "awakenings", "targets", K_TARGETS, 0, 0, "N2:5, R:10", 0, 0 },
    { "awakenings", "first_after_min", K_NUM, O(aw_first_min), 0, "60", 0, 1440 },
    { "awakenings", "interval_min", K_NUM, O(aw_interval_min), 0, "20", 0, 1440 },
    { "awakenings", "interval_max", K_NUM, O(aw_interval_max), 0, "40", 0, 1440 },
    { "awakenings", "min_spacing_min", K_NUM, O(aw_spacing_min), 0, "15", 0, 1440 },
    { "awakenings", "max_per_night", K_INT, O(aw_max), 0, "6", 1, 100 },
    { "awakenings", "not_before", K_CLOCK, O(aw_not_before), S(aw_not_before), "", 0, 0 },
    { "awakenings", "not_after", K_CLOCK, O(aw_not_after), S(aw_not_after), "", 0, 0 },
    { "awakenings", "question_timeout_s", K_NUM, O(aw_question_timeout_s), 0, "120", 5, 3600 },
    { "awakenings", "seed", K_U64, O(aw_seed), 0, "1", 0, 0 },
    { "sham", "condition", K_SHAM, O(sham_mode), 0, "active", 0, 0 },
    { "sham", "ratio", K_NUM, O(sham_ratio), 0, "0.5", 0, 1 },
    { "sham", "seed", K_U64, O(sham_seed), 0, "1", 0, 0 },
    { "sham", "blind", K_BOOL, O(blind), 0, "false", 0, 1 },
    { "cues", "enabled", K_BOOL, O(cue_enabled), 0, "false", 0, 1 },
    { "cues", "stage", K_STAGES, O(cue_stages), 0, "N2N3", 0, 0 },
    { "cues", "interval_s", K_NUM, O(cue_interval_s), 0, "10", 1, 3600 },
    { "cues", "after_epochs", K_INT, O(cue_after_epochs), 0, "4", 1, 1000 },
    { "cues", "max", K_INT, O(cue_max), 0, "0", 0, 100000 },
    { "cues", "cued", K_ITEMS, O(cued), O(ncued), "", 0, 0 },
    { "cues", "uncued", K_ITEMS, O(uncued), O(nuncued), "", 0, 0 },
};
#define NKEYS (sizeof keys / sizeof keys[0])

int dw_stage_mask_parse(const char *s)
{
    int mask = 0;
    while (*s) {
        while (*s == ' ' || *s == ',' || *s == '+' || *s == '/')
            s++;
        if (!*s)
            break;
        int n = (s[0] == 'N' || s[0] == 'n') && s[1] >= '1' && s[1] <= '3' ? 2 : 1;
        char st[4] = { 0 };
        memcpy(st, s, (size_t)n);
        int k = dw_stage_parse(st);
        if (k < 0 || !strchr("WwNnRr", s[0]))
            return -1;
        mask |= 1 << k;
        s += n;
    }
    return mask ? mask : -1;
}

const char *dw_answer_type_name(int type)
{
    return type == DW_ANSWER_YESNO ? "yesno" : type == DW_ANSWER_SCALE ? "scale" : "text";
}

static int parse_num(const char *v, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    while (*end == ' ')
        end++;
    if (!*v || *end || errno || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}

static int parse_clock(const char *v)
{
    int hh, mm;
    char extra;
    if (!*v)
        return 0;
    int ok =
        sscanf(v, "%d:%d%c", &hh, &mm, &extra) == 2 && hh >= 0 && hh < 24 && mm >= 0 && mm < 60;
    return ok ? 0 : -1;
}

/* "N2:5, R:10" */
static int parse_targets(dw_protocol *p, const char *v, char *why, size_t n)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", v);
    p->aw_ntargets = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        char *colon = strchr(t, ':');
        double min;
        if (!colon) {
            snprintf(why, n, "'%s': expected STAGE:MINUTES (e.g. N2:5)", t);
            return -1;
        }
        *colon = 0;
        int k = dw_stage_parse(t);
        if (k < 0 || parse_num(colon + 1, &min) < 0 || min < 0.5 || min > 600) {
            snprintf(why, n, "'%s:%s': expected a stage W N1 N2 N3 R and 0.5-600 minutes", t,
                     colon + 1);
            return -1;
        }
        if (p->aw_ntargets == DW_PROTO_MAX_TARGETS) {
            snprintf(why, n, "more than %d targets", DW_PROTO_MAX_TARGETS);
            return -1;
        }
        p->aw_target[p->aw_ntargets] = k;
        p->aw_dwell_min[p->aw_ntargets++] = min;
    }
    if (!p->aw_ntargets) {
        snprintf(why, n, "no target (e.g. N2:5, R:10)");
        return -1;
    }
    return 0;
}

/* "a.wav, b.wav": items trimmed, none empty. */
static int parse_items(char (*items)[DW_PROTO_ITEM], int *count, const char *v, char *why, size_t n)
{
    *count = 0;
    const char *p = v;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && isspace((unsigned char)*p))
            p++, len--;
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        if (!len) {
            snprintf(why, n, "an empty item in the list");
            return -1;
        }
        if (len >= DW_PROTO_ITEM || *count == DW_PROTO_MAX_ITEMS) {
            snprintf(why, n,
                     len >= DW_PROTO_ITEM ? "an item longer than %d characters"
                                          : "more than %d items",
                     len >= DW_PROTO_ITEM ? DW_PROTO_ITEM - 1 : DW_PROTO_MAX_ITEMS);
            return -1;
        }
        memcpy(items[*count], p, len);
        items[(*count)++][len] = 0;
        p = e ? e + 1 : p + len;
    }
    return 0;
}

static int set_value(dw_protocol *p, const struct key *k, const char *v, char *why, size_t n)
{
    char *base = (char *)p + k->off;
    double d;
    switch (k->kind) {
    case K_CLOCK:
        if (parse_clock(v) < 0) {
            snprintf(why, n, "'%s' is not a clock time HH:MM", v);
            return -1;
        }
        /* fall through */
    case K_STR:
        if (strlen(v) >= k->size) {
            snprintf(why, n, "value longer than %zu characters", k->size - 1);
            return -1;
        }
        snprintf(base, k->size, "%s", v);
        return 0;
    case K_NUM:
    case K_INT:
        if (parse_num(v, &d) < 0 || (k->kind == K_INT && d != floor(d))) {
            snprintf(why, n, "'%s' is not a%s number", v, k->kind == K_INT ? " whole" : "");
            return -1;
        }
        if (d < k->min || d > k->max) {
            snprintf(why, n, "%s is outside %g..%g", v, k->min, k->max);
            return -1;
        }
        if (k->kind == K_INT)
            *(int *)base = (int)d;
        else
            *(double *)base = d;
        return 0;
    case K_U64: {
        char *end;
        errno = 0;
        unsigned long long u = strtoull(v, &end, 10);
        if (!*v || *end || errno || *v == '-') {
            snprintf(why, n, "'%s' is not a whole number 0..2^64-1", v);
            return -1;
        }
        *(unsigned long long *)base = u;
        return 0;
    }
    case K_BOOL:
        if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1"))
            *(int *)base = 1;
        else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0"))
            *(int *)base = 0;
        else {
            snprintf(why, n, "'%s' is not true or false", v);
            return -1;
        }
        return 0;
    case K_SHAM:
        if (!strcasecmp(v, "active") || !strcasecmp(v, "sham") || !strcasecmp(v, "random")) {
            *(int *)base = !strcasecmp(v, "active") ? DW_SHAM_OFF
                           : !strcasecmp(v, "sham") ? DW_SHAM_NIGHT
                                                    : DW_SHAM_RANDOM;
            return 0;
        }
        snprintf(why, n, "'%s' is not one of active|sham|random", v);
        return -1;
    case K_STAGES: {
        int m = dw_stage_mask_parse(v);
        if (m <= 0 || (m & (1 << DW_W))) {
            snprintf(why, n, "'%s': expected sleep stages, e.g. N2N3, N3 or R", v);
            return -1;
        }
        *(int *)base = m;
        return 0;
    }
    case K_TARGETS:
        return parse_targets(p, v, why, n);
    case K_ITEMS:
        return parse_items((char (*)[DW_PROTO_ITEM])base, (int *)((char *)p + k->size), v, why, n);
    }
    return -1;
}

void dw_protocol_defaults(dw_protocol *p)
{
    char why[160];
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < NKEYS; i++)
        set_value(p, &keys[i], keys[i].def, why, sizeof why);
}

struct load { dw_protocol *p; char why[400]; int failed; int max_q; };

/* [question N]: text, type, timeout_s, low, high. */
static int question_key(struct load *x, int qi, const char *name, const char *v)
{
    dw_question *q = &x->p->q[qi - 1];
    double d;
    if (!strcasecmp(name, "text") || !strcasecmp(name, "low") || !strcasecmp(name, "high")) {
        char *dst = !strcasecmp(name, "text")  ? q->text
                    : !strcasecmp(name, "low") ? q->low
                                               : q->high;
        size_t cap = !strcasecmp(name, "text") ? sizeof q->text : sizeof q->low;
        if (strlen(v) >= cap) {
            snprintf(x->why, sizeof x->why, "[question %d] %s: longer than %zu characters", qi,
                     name, cap - 1);
            return -1;
        }
        snprintf(dst, cap, "%s", v);
    } else if (!strcasecmp(name, "type")) {
        if (!strcasecmp(v, "yesno")) q->type = DW_ANSWER_YESNO;
        else if (!strcasecmp(v, "scale")) q->type = DW_ANSWER_SCALE;
        else if (!strcasecmp(v, "text")) q->type = DW_ANSWER_TEXT;
        else {
            snprintf(x->why, sizeof x->why,
                     "[question %d] type: '%s' is not one of yesno|scale|text", qi, v);
            return -1;
        }
    } else if (!strcasecmp(name, "timeout_s")) {
        if (parse_num(v, &d) < 0 || d < 5 || d > 3600) {
            snprintf(x->why, sizeof x->why, "[question %d] timeout_s: '%s' is not a number 5..3600",
                     qi, v);
            return -1;
        }
        q->timeout_s = d;
    } else {
        snprintf(x->why, sizeof x->why,
                 "[question %d] %s: unknown key (text, type, timeout_s, low, high)", qi, name);
        return -1;
    }
    if (qi > x->max_q)
        x->max_q = qi;
    return 0;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    struct load *x = user;
    if (x->failed)
        return 0;
    int qi;
    char extra;
    if (sscanf(section, "question %d%c", &qi, &extra) == 1) {
        if (qi < 1 || qi > DW_PROTO_MAX_Q) {
            snprintf(x->why, sizeof x->why, "[%s]: questions are numbered 1..%d", section,
                     DW_PROTO_MAX_Q);
            x->failed = 1;
            return 0;
        }
        x->failed = question_key(x, qi, name, value) < 0;
        return !x->failed;
    }
    int known_section = 0;
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcasecmp(keys[i].section, section))
            continue;
        known_section = 1;
        if (strcasecmp(keys[i].name, name))
            continue;
        char why[300];
        if (set_value(x->p, &keys[i], value, why, sizeof why) < 0) {
            snprintf(x->why, sizeof x->why, "[%s] %s: %s", section, name, why);
            x->failed = 1;
            return 0;
        }
        return 1;
    }
    snprintf(x->why, sizeof x->why,
             known_section
                 ? "[%s] %s: unknown key"
                 : "[%s] %s: unknown section (protocol, awakenings, question N, sham, cues)",
             section, name);
    x->failed = 1;
    return 0;
}

/* What only the whole file shows. */
static int check_whole(const dw_protocol *p, const char *path, int max_q, dw_err *err)
{
    for (int i = 0; i < max_q; i++)
        if (!p->q[i].text[0]) {
            dw_err_set(
                err, "%s: [question %d]: no text (questions are numbered 1, 2, 3 ... without gaps)",
                path, i + 1);
            return -1;
        }
    if (p->aw_enabled && p->aw_interval_max < p->aw_interval_min) {
        dw_err_set(err, "%s: [awakenings] interval_max %g is below interval_min %g", path,
                   p->aw_interval_max, p->aw_interval_min);
        return -1;
    }
    if (p->cue_enabled && !p->ncued) {
        dw_err_set(err, "%s: [cues]: enabled but no cued items (cued = item, item, ...)", path);
        return -1;
    }
    return 0;
}

#define LINE_LIMIT 1024

int dw_protocol_load(dw_protocol *p, const char *path, dw_err *err)
{
    dw_protocol_defaults(p);
    int fd = dw_input_open(path, "protocol", err);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "r");
    if (!f) {
        dw_err_set(err, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    int line = 1, len = 0, ch;
    while ((ch = fgetc(f)) != EOF) {
        if (ch == '\n') { line++; len = 0; continue; }
        if (++len > LINE_LIMIT || ch == 0) {
            dw_err_set(err, "%s:%d: %s", path, line,
                       ch ? "line longer than 1024 characters" : "a NUL byte");
            fclose(f);
            return -1;
        }
    }
    rewind(f);
    ini_max_line = LINE_LIMIT + 2;
    ini_use_stack = false;
    ini_allow_multiline = false;
    ini_stop_on_first_error = true;
    struct load x = { .p = p };
    int r = ini_parse_file(f, on_key, &x);
    fclose(f);
    if (r != 0) {
        if (r == -2)
            dw_err_set(err, "%s: out of memory", path);
        else if (x.failed)
            dw_err_set(err, "%s:%d: %s", path, r, x.why);
        else
            dw_err_set(err, "%s:%d: syntax error (expected [section] or key = value)", path, r);
        return -1;
    }
    for (int i = 0; i < x.max_q; i++)
        if (p->q[i].timeout_s <= 0)
            p->q[i].timeout_s = p->aw_question_timeout_s;
    if (check_whole(p, path, x.max_q, err) < 0)
        return -1;
    p->nq = x.max_q;
    p->loaded = 1;
    snprintf(p->path, sizeof p->path, "%s", path);
    return 0;
}
