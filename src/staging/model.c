/* Model files: parse and validate the text format of MODEL_FORMAT.md; the compiled-in defaults. */
#include "staging/model_impl.h"
#include "base/files.h"
#include "staging/models_embedded.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const base_names[DW_MODEL_NBASE] = { "delta", "theta", "alpha", "beta", "gamma", "var", "dvar" };
/* The highest frequency each base field needs (Hz): a band's upper edge; the variances take in
 * everything up to the 50-Hz Nyquist frequency of the 100-Hz staging rate. */
static const double base_top_hz[DW_MODEL_NBASE] = { 4, 8, 13, 30, 50, 50, 50 };
static const char *const op_names[] = { "mean", "std", "min", "max" };
static const char *const act_names[] = { "relu", "tanh", "identity", "softmax" };

double dw_model_base(const dw_features *f, int field)
{
    switch (field) {
    case 0: return f->delta;
    case 1: return f->theta;
    case 2: return f->alpha;
    case 3: return f->beta;
    case 4: return f->gamma;
    case 5: return f->var;
    default: return f->dvar;
    }
}

struct parser {
    const char *file;
    int line, version;
    char *cur;                 /* rest of the current line (NUL-terminated) */
    char chname[2][16];
    dw_err *err;
    const double *num;         /* a built-in model: its numbers, each '@' in the text the next one */
    size_t nnum, inum;
};

#define PERR(p, ...) do { char m_[400]; snprintf(m_, sizeof m_, __VA_ARGS__); \
        dw_err_set((p)->err, "%s:%d: %s", (p)->file, (p)->line, m_); return -1; } while (0)

/* The next whitespace-separated token of the line, or NULL. */
static char *token(struct parser *p)
{
    char *s = p->cur;
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    if (!*s) {
        p->cur = s;
        return NULL;
    }
    char *t = s;
    while (*s && *s != ' ' && *s != '\t' && *s != '\r')
        s++;
    if (*s)
        *s++ = '\0';
    p->cur = s;
    return t;
}

static int number(struct parser *p, const char *what, double *v)
{
    char *t = token(p), *end;
    if (!t)
        PERR(p, "missing %s", what);
    if (p->num && t[0] == '@' && !t[1]) {
        if (p->inum >= p->nnum)
            PERR(p, "%s: more numbers than the built-in model holds", what);
        *v = p->num[p->inum++];
        return 0;
    }
    errno = 0;
    *v = strtod(t, &end);
    if (*end || end == t || !isfinite(*v))
        PERR(p, "%s: '%.40s' is not a finite number", what, t);
    return 0;
}

static int integer(struct parser *p, const char *what, int lo, int hi, int *v)
{
    double d;
    if (number(p, what, &d))
        return -1;
    if (d != floor(d) || d < lo || d > hi)
        PERR(p, "%s: %g is not an integer in %d..%d", what, d, lo, hi);
    *v = (int)d;
    return 0;
}

static int line_end(struct parser *p)
{
    char *t = token(p);
    if (t)
        PERR(p, "unexpected '%.40s'", t);
    return 0;
}

static int lookup(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

/* "fpz_delta+fpz_theta" -> base indices. */
static int terms(struct parser *p, dw_model *m, char *s, int *out, int *n)
{
    *n = 0;
    for (char *save = NULL, *t = strtok_r(s, "+", &save); t; t = strtok_r(NULL, "+", &save)) {
        int idx = strcmp(t, "center_weight") ? -2 : DW_MODEL_TERM_WEIGHT;
        for (int c = 0; c < m->nch && idx == -2; c++) {
            size_t l = strlen(p->chname[c]);
            if (!strncmp(t, p->chname[c], l) && t[l] == '_') {
                int f = lookup(t + l + 1, base_names, DW_MODEL_NBASE);
                if (f >= 0)
                    idx = c * DW_MODEL_NBASE + f;
            }
        }
        if (idx == DW_MODEL_TERM_WEIGHT && p->version < 2)
            PERR(p, "center_weight needs format version 2");
        if (idx == -2)
            PERR(p, "unknown base feature '%.40s' (want CHANNEL_{delta,theta,alpha,beta,gamma,var,dvar}"
                    " or center_weight)", t);
        if (*n >= DW_MODEL_MAXTERMS)
            PERR(p, "more than %d terms in a sum", DW_MODEL_MAXTERMS);
        if (idx >= 0 && base_top_hz[idx % DW_MODEL_NBASE] > m->max_hz)
            m->max_hz = base_top_hz[idx % DW_MODEL_NBASE];
        out[(*n)++] = idx;
    }
    if (*n == 0)
        PERR(p, "empty sum of base features");
    return 0;
}

static int parse_feature(struct parser *p, dw_model *m)
{
    if (!m->nch)
        PERR(p, "'feature' before 'channels'");
    if (m->nfeat >= DW_MODEL_MAXFEAT)
        PERR(p, "more than %d features", DW_MODEL_MAXFEAT);
    if (m->nfeat % 32 == 0) {
        void *a = realloc(m->feat, (size_t)(m->nfeat + 32) * sizeof *m->feat);
        if (!a)
            PERR(p, "out of memory");
        m->feat = a;
    }
    struct dw_mfeature *f = &m->feat[m->nfeat];
    memset(f, 0, sizeof *f);
    char *name = token(p), *norm;
    if (!name || strlen(name) >= sizeof f->name)
        PERR(p, "feature: missing or too long name");
    for (int i = 0; i < m->nfeat; i++)
        if (!strcmp(m->feat[i].name, name))
            PERR(p, "feature '%s' defined twice", name);
    strcpy(f->name, name);
    if (number(p, "feature scale", &f->scale))
        return -1;
    if (!(norm = token(p)) || (strcmp(norm, "none") && strcmp(norm, "center")))
        PERR(p, "feature normalisation must be 'none' or 'center'");
    f->norm = strcmp(norm, "center") ? DW_NORM_NONE : DW_NORM_CENTER;
    if (number(p, "feature prior centre", &f->prior))
        return -1;
    char *num = token(p), *slash;
    if (!num)
        PERR(p, "feature: missing numerator");
    if (terms(p, m, num, f->num, &f->nnum))
        return -1;
    if ((slash = token(p))) {
        char *den = token(p);
        if (strcmp(slash, "/") || !den)
            PERR(p, "feature: expected '/ DENOMINATOR'");
        if (terms(p, m, den, f->den, &f->nden))
            return -1;
    }
    m->nfeat++;
    return line_end(p);
}

static int parse_column(struct parser *p, dw_model *m)
{
    if (m->ncol >= DW_MODEL_MAXCOL)
        PERR(p, "more than %d columns", DW_MODEL_MAXCOL);
    if (m->ncol % 64 == 0) {
        void *a = realloc(m->col, (size_t)(m->ncol + 64) * sizeof *m->col);
        if (!a)
            PERR(p, "out of memory");
        m->col = a;
    }
    struct dw_mcolumn *c = &m->col[m->ncol];
    char *name = token(p), *op;
    c->feat = -1;
    for (int i = 0; name && i < m->nfeat; i++)
        if (!strcmp(m->feat[i].name, name))
            c->feat = i;
    if (c->feat < 0)
        PERR(p, "column: unknown feature '%.40s'", name ? name : "");
    if (!(op = token(p)) || (c->op = lookup(op, op_names, 4)) < 0)
        PERR(p, "column: operation must be mean, std, min or max");
    if (integer(p, "column window", 1, DW_MODEL_MAXWIN, &c->window) || number(p, "column mean", &c->mu)
        || number(p, "column scale", &c->sd))
        return -1;
    if (!(c->sd > 0))
        PERR(p, "column scale must be > 0");
    if (c->window > m->maxwin)
        m->maxwin = c->window;
    m->ncol++;
    return line_end(p);
}

/* Reads the next line into p->cur; 0 at the end of the text. Comments and blank lines are skipped. */
static int next_line(struct parser *p, char **text)
{
    while (**text) {
        char *s = *text, *nl = strchr(s, '\n');
        *text = nl ? nl + 1 : s + strlen(s);
        if (nl)
            *nl = '\0';
        p->line++;
        char *hash = strchr(s, '#');
        if (hash)
            *hash = '\0';
        p->cur = s;
        while (*s == ' ' || *s == '\t' || *s == '\r')
            s++;
        if (*s)
            return 1;
    }
    return 0;
}

static int parse_row(struct parser *p, double *v, int n, const char *what)
{
    for (int i = 0; i < n; i++)
        if (number(p, what, &v[i]))
            return -1;
    return line_end(p);
}

static int parse_net(struct parser *p, dw_model *m, char **text)
{
    if (m->nnet >= DW_MODEL_MAXNETS)
        PERR(p, "more than %d nets", DW_MODEL_MAXNETS);
    struct dw_mnet *net = &m->net[m->nnet++];
    if (integer(p, "net layers", 1, DW_MODEL_MAXLAYERS, &net->nlayers) || line_end(p))
        return -1;
    for (int l = 0; l < net->nlayers; l++) {
        struct dw_mlayer *ly = &net->layer[l];
        char *kw, *act;
        if (!next_line(p, text) || !(kw = token(p)) || strcmp(kw, "layer"))
            PERR(p, "expected 'layer NIN NOUT ACTIVATION' (layer %d of %d)", l + 1, net->nlayers);
        if (integer(p, "layer inputs", 1, DW_MODEL_MAXCOL, &ly->nin)
            || integer(p, "layer outputs", 1, DW_MODEL_MAXWIDTH, &ly->nout))
            return -1;
        if (!(act = token(p)) || (ly->act = lookup(act, act_names, 4)) < 0)
            PERR(p, "activation must be relu, tanh, identity or softmax");
        if (line_end(p))
            return -1;
        if (l == 0 && ly->nin != m->ncol)
            PERR(p, "first layer takes %d inputs but there are %d columns", ly->nin, m->ncol);
        if (l > 0 && ly->nin != net->layer[l - 1].nout)
            PERR(p, "layer takes %d inputs but the previous layer gives %d", ly->nin, net->layer[l - 1].nout);
        if ((l == net->nlayers - 1) != (ly->act == DW_ACT_SOFTMAX))
            PERR(p, "the last layer, and only it, must be softmax");
        if (l == net->nlayers - 1 && ly->nout != DW_NSTAGES)
            PERR(p, "the last layer must give %d outputs (W N1 N2 N3 R)", DW_NSTAGES);
        ly->stride = (ly->nin + 1 + 3) / 4 * 4;
        size_t bytes = ((size_t)3 + (size_t)ly->nout * (size_t)ly->stride) * sizeof(double);
        if (!(ly->mem = aligned_alloc(32, (bytes + 31) / 32 * 32)))
            PERR(p, "out of memory");
        memset(ly->mem, 0, bytes);
        ly->w = ly->mem + 3;
        for (int r = 0; r < ly->nout; r++) {
            if (!next_line(p, text))
                PERR(p, "layer %d: %d of %d weight rows", l + 1, r, ly->nout);
            if (parse_row(p, ly->w + (size_t)r * (size_t)ly->stride, ly->nin + 1, "weight"))
                return -1;
        }
    }
    return 0;
}

/* A probability vector: entries >= 0 summing to 1 (+-1e-6). */
static int parse_dist(struct parser *p, double *v, const char *what)
{
    double s = 0;
    if (parse_row(p, v, DW_NSTAGES, what))
        return -1;
    for (int i = 0; i < DW_NSTAGES; i++) {
        if (v[i] < 0)
            PERR(p, "%s: negative entry", what);
        s += v[i];
    }
    if (fabs(s - 1) > 1e-6)
        PERR(p, "%s: entries sum to %g, not 1", what, s);
    return 0;
}

/* ood HALFLIFE WEIGHT PRIOR CAP THRESHOLD (version 3). */
static int parse_ood(struct parser *p, dw_model *m)
{
    if (p->version < 3)
        PERR(p, "'ood' needs format version 3");
    if (number(p, "ood half-life", &m->ood_halflife) || number(p, "ood prior weight", &m->ood_weight)
        || number(p, "ood prior", &m->ood_prior) || number(p, "ood cap", &m->ood_cap)
        || number(p, "ood threshold", &m->ood_threshold) || line_end(p))
        return -1;
    if (!(m->ood_halflife > 0) || !(m->ood_weight > 0) || !(m->ood_prior > 0) || !(m->ood_cap > 0)
        || !(m->ood_threshold > 0))
        PERR(p, "ood: half-life, prior weight, prior, cap and threshold must be > 0");
    return 0;
}

static int parse_body(struct parser *p, dw_model *m, char *text)
{
    enum { S_NAME = 1, S_CH = 2, S_CENTER = 4, S_PRIORS = 8, S_TEMPER = 16, S_INIT = 32, S_TRANS = 64, S_END = 128,
           S_OOD = 256, S_CAL = 512 };
    unsigned seen = 0;
    char *kw, *t;
    if (!next_line(p, &text) || !(kw = token(p)) || strcmp(kw, "dreamwatch-model"))
        PERR(p, "not a dreamwatch model file (the first line must be 'dreamwatch-model %d')", DW_MODEL_VERSION);
    if (integer(p, "version", 1, 1000000, &p->version) || line_end(p))
        return -1;
    if (p->version > DW_MODEL_VERSION)
        PERR(p, "model format version %d; this build reads versions 1 to %d", p->version, DW_MODEL_VERSION);
    while (!(seen & S_END) && next_line(p, &text)) {
        kw = token(p);
        if (!strcmp(kw, "name")) {
            if (!(t = token(p)) || strlen(t) >= sizeof m->name)
                PERR(p, "name: missing or longer than %zu", sizeof m->name - 1);
            strcpy(m->name, t);
            seen |= S_NAME;
            if (line_end(p)) return -1;
        } else if (!strcmp(kw, "channels")) {
            if (seen & S_CH)
                PERR(p, "channels given twice");
            while ((t = token(p))) {
                if (m->nch == 2)
                    PERR(p, "at most 2 channels");
                if (strlen(t) >= sizeof p->chname[0] || strchr(t, '+'))
                    PERR(p, "bad channel name '%.40s'", t);
                strcpy(p->chname[m->nch++], t);
            }
            if (!m->nch)
                PERR(p, "channels: none given");
            seen |= S_CH;
        } else if (!strcmp(kw, "center")) {
            if (number(p, "centre half-life", &m->halflife) || number(p, "centre prior weight", &m->weight0)
                || number(p, "centre clip", &m->clip) || line_end(p))
                return -1;
            if (!(m->halflife > 0) || !(m->weight0 > 0) || !(m->clip > 0))
                PERR(p, "center: half-life, prior weight and clip must be > 0");
            seen |= S_CENTER;
        } else if (!strcmp(kw, "feature")) {
            if (parse_feature(p, m)) return -1;
        } else if (!strcmp(kw, "column")) {
            if (m->nnet)
                PERR(p, "'column' after 'net'");
            if (parse_column(p, m)) return -1;
        } else if (!strcmp(kw, "net")) {
            if (parse_net(p, m, &text)) return -1;
        } else if (!strcmp(kw, "rate")) {
            if (p->version < 3)
                PERR(p, "'rate' needs format version 3");
            if (m->min_rate > 0)
                PERR(p, "rate given twice");
            if (number(p, "rate", &m->min_rate) || line_end(p))
                return -1;
            if (!(m->min_rate >= 1 && m->min_rate <= 100000))
                PERR(p, "rate: %g Hz is not in 1..100000", m->min_rate);
        } else if (!strcmp(kw, "ood")) {
            if (seen & S_OOD)
                PERR(p, "ood given twice");
            if (parse_ood(p, m)) return -1;
            seen |= S_OOD;
        } else if (!strcmp(kw, "ood_start")) {
            if (p->version < 4)
                PERR(p, "'ood_start' needs format version 4");
            if (!(seen & S_OOD))
                PERR(p, "'ood_start' before 'ood'");
            if (m->ood_start > 0)
                PERR(p, "ood_start given twice");
            if (number(p, "ood_start threshold", &m->ood_start) || line_end(p))
                return -1;
            if (!(m->ood_start > 0))
                PERR(p, "ood_start: the threshold must be > 0");
        } else if (!strcmp(kw, "calibrate")) {
            if (!(seen & S_OOD))
                PERR(p, "'calibrate' before 'ood'");
            if (number(p, "calibrate t0", &m->cal_t0) || number(p, "calibrate slope", &m->cal_slope)
                || number(p, "calibrate mix", &m->cal_mix) || line_end(p))
                return -1;
            if (!(m->cal_t0 > 0 && m->cal_t0 <= 100) || !(m->cal_slope >= 0 && m->cal_slope <= 100)
                || !(m->cal_mix >= 0 && m->cal_mix <= 100))
                PERR(p, "calibrate: t0 must be in (0, 100], slope and mix in [0, 100]");
            seen |= S_CAL;
        } else if (!strcmp(kw, "priors")) {
            if (parse_dist(p, m->priors, "priors")) return -1;
            for (int i = 0; i < DW_NSTAGES; i++)
                if (!(m->priors[i] > 0))
                    PERR(p, "priors must be > 0");
            seen |= S_PRIORS;
        } else if (!strcmp(kw, "temper")) {
            if (number(p, "temper", &m->temper) || line_end(p)) return -1;
            if (!(m->temper > 0 && m->temper <= 10))
                PERR(p, "temper must be in (0, 10]");
            seen |= S_TEMPER;
        } else if (!strcmp(kw, "init")) {
            if (parse_dist(p, m->init, "init")) return -1;
            seen |= S_INIT;
        } else if (!strcmp(kw, "transition")) {
            if (line_end(p)) return -1;
            for (int r = 0; r < DW_NSTAGES; r++) {
                if (!next_line(p, &text))
                    PERR(p, "transition: %d of %d rows", r, DW_NSTAGES);
                if (parse_dist(p, m->trans[r], "transition row")) return -1;
            }
            seen |= S_TRANS;
        } else if (!strcmp(kw, "end")) {
            if (line_end(p)) return -1;
            seen |= S_END;
        } else {
            PERR(p, "unknown keyword '%.40s'", kw);
        }
    }
    static const struct { unsigned bit; const char *what; } need[] = {
        { S_NAME, "name" }, { S_CH, "channels" }, { S_PRIORS, "priors" }, { S_TEMPER, "temper" },
        { S_INIT, "init" }, { S_TRANS, "transition" }, { S_END, "end" } };
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!(seen & need[i].bit))
            PERR(p, "missing '%s'", need[i].what);
    if (!m->nfeat || !m->ncol || !m->nnet)
        PERR(p, "a model needs features, columns and at least one net");
    if ((seen & S_OOD) && !(seen & S_CAL) && p->version < 4)
        PERR(p, "missing 'calibrate' (an 'ood' line needs one before format version 4)");
    m->has_ood = (seen & S_OOD) != 0;
    m->has_cal = (seen & S_CAL) != 0;
    for (int i = 0; i < m->nfeat; i++) {
        const struct dw_mfeature *f = &m->feat[i];
        int weight = 0;
        for (int k = 0; k < f->nnum; k++)
            weight |= f->num[k] == DW_MODEL_TERM_WEIGHT;
        for (int k = 0; k < f->nden; k++)
            weight |= f->den[k] == DW_MODEL_TERM_WEIGHT;
        if ((f->norm == DW_NORM_CENTER || weight) && !(seen & S_CENTER))
            PERR(p, "feature '%s' needs the running centre but there is no 'center' line", f->name);
    }
    if (next_line(p, &text))
        PERR(p, "text after 'end'");
    return 0;
}

/* dw_model_parse, and a built-in model's skeleton with its numbers (num: NULL for plain text). */
static dw_model *parse(const char *text, const char *name, const double *num, size_t nnum, dw_err *err)
{
    dw_model *m = calloc(1, sizeof *m);
    char *copy = strdup(text ? text : "");
    struct parser p = { .file = name ? name : "(model)", .err = err, .num = num, .nnum = nnum };
    if (!m || !copy) {
        dw_err_set(err, "%s: out of memory", p.file);
        free(copy);
        free(m);
        return NULL;
    }
    int rc = parse_body(&p, m, copy);
    if (!rc && num && p.inum != nnum)
        rc = -1, dw_err_set(err, "%s: %zu of its %zu numbers read", p.file, p.inum, nnum);
    free(copy);
    if (rc) {
        dw_model_free(m);
        return NULL;
    }
    return m;
}

dw_model *dw_model_parse(const char *text, const char *name, dw_err *err)
{
    return parse(text, name, NULL, 0, err);
}

/* The loader proper; dw_model_load marks its errors as usage errors. */
static dw_model *model_load(const char *path, dw_err *err)
{
    FILE *f = dw_input_fopen(path, "model", err);
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (len + 65536 > cap) {
            char *b = cap > (64u << 20) ? NULL : realloc(buf, cap = 2 * cap + 65536 + 1);
            if (!b) {
                dw_err_set(err, "%s: too large or out of memory", path);
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
    } while (got > 0);
    int bad = ferror(f);
    fclose(f);
    if (bad || memchr(buf, '\0', len)) {
        dw_err_set(err, "%s: %s", path, bad ? "read error" : "binary data in a text model file");
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    dw_model *m = dw_model_parse(buf, path, err);
    free(buf);
    return m;
}

dw_model *dw_model_load(const char *path, dw_err *err)
{
    dw_model *m = model_load(path, err);
    if (!m && err)
        err->usage = 1;        /* a --model that cannot be used: the user's to fix (exit 2) */
    return m;
}

/* The compiled-in models, in the order dw_model_builtin_for prefers them (more channels first, then
 * the wider band). */
enum { BI_FPZ_PZ, BI_EEG, BI_EEG_LO, BI_N };
static const char *const builtin_names[BI_N] = { "fpz_pz", "eeg", "eeg_lo" };
static dw_model *builtin[BI_N];

/* Built-in model i, parsed the first time it is asked for (each is 0.2-0.7 MB of text: a run parses only
 * the ones it looks at, usually one; was all three at every start, 5 % of a `score`). Thread-safe; the
 * parsed models are read-only and live until exit. */
static pthread_mutex_t builtin_lock = PTHREAD_MUTEX_INITIALIZER;

static const dw_model *builtin_model(int i)
{
    pthread_mutex_lock(&builtin_lock);
    if (!builtin[i]) {
        const struct dw_embedded *e = dw_builtin_models;
        while (e->name && strcmp(e->name, builtin_names[i]))
            e++;
        dw_err err = { 0 };
        char where[64];
        snprintf(where, sizeof where, "built-in %s.dwm", builtin_names[i]);
        builtin[i] = e->name ? parse(e->skeleton, where, e->num, e->nnum, &err) : NULL;
        if (!builtin[i]) {
            /* a build defect, caught by the unit tests: there is no sane way on */
            fprintf(stderr, "dreamwatch: %s\n", e->name ? err.msg : "built-in model missing");
            abort();
        }
        builtin[i]->builtin = 1;
    }
    const dw_model *m = builtin[i];
    pthread_mutex_unlock(&builtin_lock);
    return m;
}

const dw_model *dw_model_builtin(int nchannels)
{
    return builtin_model(nchannels >= 2 ? BI_FPZ_PZ : BI_EEG);
}

const dw_model *dw_model_builtin_for(int nchannels, double source_hz)
{
    for (int i = 0; i < BI_N; i++) {
        const dw_model *m = builtin_model(i);
        if (m->nch <= nchannels && dw_model_min_rate(m) <= source_hz)
            return m;
    }
    return NULL;
}

double dw_model_builtin_min_rate(void)
{
    double lo = INFINITY;
    for (int i = 0; i < BI_N; i++)
        lo = fmin(lo, dw_model_min_rate(builtin_model(i)));
    return lo;
}

double dw_model_unlike_threshold(const dw_model *m)
{
    return m->has_ood ? m->ood_threshold : 0.0;
}

double dw_model_max_hz(const dw_model *m)
{
    return m->max_hz;
}

double dw_model_min_rate(const dw_model *m)
{
    return m->min_rate > 0 ? m->min_rate : 2.0 * m->max_hz;
}

int dw_model_channels(const dw_model *m)
{
    return m->nch;
}

const char *dw_model_name(const dw_model *m)
{
    return m->name;
}

void dw_model_free(dw_model *m)
{
    if (!m || m->builtin)
        return;
    for (int n = 0; n < m->nnet; n++)
        for (int l = 0; l < m->net[n].nlayers; l++)
            free(m->net[n].layer[l].mem);
    free(m->feat);
    free(m->col);
    free(m);
}
