/* `dreamwatch score --features TABLE.tsv...`: the causal stager over per-epoch feature tables.
 * stdout: a header, then `epoch stage p_W p_N1 p_N2 p_N3 p_R` per input row (with several files, a
 * `# file PATH` line before each file's rows; the stager starts afresh for each file).
 * stderr: agreement with the table's stage column, when it has one. */
#include "staging/feature_table.h"
#include "app/commands.h"
#include "staging/hypnogram.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GAP_STEPS 2880   /* a day: the filter has long forgotten its state by then */


/* Expert and model stages per row, with epoch numbers, for the agreement report. */
struct rows { long n, cap; long *epoch; signed char *ref, *ours; };

static int rows_add(struct rows *r, long epoch, int ref, int ours)
{
    if (r->n == r->cap) {
        long cap = r->cap ? 2 * r->cap : 4096;
        long *e = realloc(r->epoch, (size_t)cap * sizeof *e);
        if (e) r->epoch = e;
        signed char *a = realloc(r->ref, (size_t)cap), *b = realloc(r->ours, (size_t)cap);
        if (a) r->ref = a;
        if (b) r->ours = b;
        if (!e || !a || !b)
            return -1;
        r->cap = cap;
    }
    r->epoch[r->n] = epoch;
    r->ref[r->n] = (signed char)ref;
    r->ours[r->n++] = (signed char)ours;
    return 0;
}

/* Appends to win the rows of r inside its sleep period +- 30 min (by epoch number); 0 if it has no sleep. */
static int window_rows(const struct rows *r, struct rows *win, long *from, long *to)
{
    long first = -1, last = -1;
    for (long i = 0; i < r->n; i++)
        if (r->ref[i] >= DW_N1 && r->ref[i] <= DW_R) {
            if (first < 0) first = r->epoch[i];
            last = r->epoch[i];
        }
    if (first < 0)
        return 0;
    *from = first - DW_SLEEP_WINDOW_EPOCHS < 0 ? 0 : first - DW_SLEEP_WINDOW_EPOCHS;
    *to = last + DW_SLEEP_WINDOW_EPOCHS;
    for (long i = 0; i < r->n; i++)
        if (r->epoch[i] >= *from && r->epoch[i] <= *to && rows_add(win, r->epoch[i], r->ref[i], r->ours[i]))
            return -1;
    return 1;
}

/* Agreement over all scored rows and over the scored windows. */
static void report(const char *what, const struct rows *all, const struct rows *win, const char *span)
{
    dw_agreement a;
    if (all->n > 0x7fffffffL)
        return;
    dw_agreement_compute(all->ref, all->ours, (int)all->n, &a);
    if (!a.n)
        return;
    if (win->n == all->n)   /* the sleep period +- 30 min holds every scored epoch: the same figures */
        fprintf(stderr, "%s: agreement with the stage column, all scored epochs (the same as the sleep "
                "period +- 30 min, %s):\n", what, span);
    else
        fprintf(stderr, "%s: agreement with the stage column, all scored epochs:\n", what);
    dw_print_agreement(stderr, &a);
    if (!win->n || win->n == all->n)
        return;
    dw_agreement_compute(win->ref, win->ours, (int)win->n, &a);
    fprintf(stderr, "%s: sleep period +- 30 min (%s):\n", what, span);
    dw_print_agreement(stderr, &a);
}

static void rows_free(struct rows *r)
{
    free(r->epoch);
    free(r->ref);
    free(r->ours);
}

/* Stages one table; appends its rows to `all` (for the pooled report). 0, or 1 on error. */
static int score_file(const char *path, const dw_model *forced, int banner, struct rows *all, struct rows *allwin)
{
    dw_err err = { 0 };
    dw_feature_table *t = dw_feature_table_open(path, &err);
    if (!t) {
        fprintf(stderr, "dreamwatch score: %s\n", err.msg);
        return 1;
    }
    const dw_model *m = forced ? forced : dw_model_builtin(dw_feature_table_channels(t));
    if (dw_model_channels(m) > dw_feature_table_channels(t)) {
        fprintf(stderr, "dreamwatch score: %s:1: model %s needs %d channels (fpz_* and pz_* columns)\n",
                path, dw_model_name(m), dw_model_channels(m));
        dw_feature_table_close(t);
        return 1;
    }
    dw_stager *s = dw_stager_new(m);
    struct rows mine = { 0 };
    if (banner)
        printf("# file %s\n", path);
    long epoch, prev = -1;
    int stage, rc, status = 0;
    dw_features f[2];
    double p[DW_NSTAGES];
    dw_unlike_tally unlike = { 0 };
    while (s && (rc = dw_feature_table_next(t, &epoch, &stage, f, &err)) > 0) {
        for (long gap = prev < 0 ? 0 : epoch - prev - 1, i = 0; i < gap && i < MAX_GAP_STEPS; i++)
            dw_stager_push(s, NULL, 0, NULL);    /* unlabelled epochs: predict only */
        prev = epoch;
        int ours = dw_stager_push(s, f, 1, p);
        dw_unlike_tally_add(&unlike, dw_stager_distance(s), dw_stager_start_distance(s),
                            dw_stager_unlike_training(s));
        printf("%ld\t%s\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\n", epoch, dw_stage_name(ours), p[0], p[1], p[2], p[3], p[4]);
        if (dw_feature_table_has_stage(t) && (rows_add(&mine, epoch, stage, ours) || rows_add(all, epoch, stage, ours))) {
            rc = -1;
            snprintf(err.msg, sizeof err.msg, "%s: out of memory", path);
            break;
        }
    }
    if (!s || rc < 0) {
        fprintf(stderr, "dreamwatch score: %s\n", s ? err.msg : "out of memory");
        status = 1;
    } else {
        struct rows win = { 0 };
        long from = 0, to = 0;
        char span[64];
        int w = window_rows(&mine, &win, &from, &to);
        snprintf(span, sizeof span, "epochs %ld-%ld", from, to);
        fprintf(stderr, "%s: %s model\n", path, dw_model_name(m));
        char pre[1100];
        snprintf(pre, sizeof pre, "%s: ", path);
        dw_print_unlike_note(stderr, pre, m, &unlike);
        long first, nmiss = dw_feature_table_missing(t, &first);
        if (nmiss)
            fprintf(stderr, "%s:%ld: %ld row%s with a missing value (the first here): unusable epochs, labelled by "
                    "prediction from the epochs before\n", path, first, nmiss, nmiss == 1 ? "" : "s");
        if (w < 0 || window_rows(&mine, allwin, &from, &to) < 0) {
            fprintf(stderr, "dreamwatch score: out of memory\n");
            status = 1;
        } else
            report(path, &mine, &win, span);
        rows_free(&win);
    }
    rows_free(&mine);
    dw_stager_free(s);
    dw_feature_table_close(t);
    return status;
}

static int usage(void)
{
    fprintf(stderr, "usage: dreamwatch score --features TABLE.tsv... [--model FILE.dwm]\n");
    return 2;
}

int dw_cmd_score_features(int argc, char **argv)
{
    const char *model_path = NULL;
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    int nfiles = 0, features = 0, status = 0;
    if (!files)
        return 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--features"))
            features = 1;
        else if (!strcmp(argv[i], "--model") && i + 1 < argc)
            model_path = argv[++i];
        else if (!strncmp(argv[i], "--model=", 8))
            model_path = argv[i] + 8;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            free(files);
            return usage() & 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "dreamwatch score: unknown option %s\n", argv[i]);
            free(files);
            return usage();
        } else
            files[nfiles++] = argv[i];
    }
    if (!features || !nfiles) {
        free(files);
        return usage();
    }
    dw_model *own = NULL;
    if (model_path) {
        dw_err err = { 0 };
        if (!(own = dw_model_load(model_path, &err))) {
            fprintf(stderr, "dreamwatch score: %s\n", err.msg);
            free(files);
            return dw_err_status(&err);             /* a --model that cannot be used: 2 */
        }
    }
    struct rows all = { 0 }, allwin = { 0 };
    printf("epoch\tstage\tp_W\tp_N1\tp_N2\tp_N3\tp_R\n");
    for (int i = 0; i < nfiles; i++)
        status |= score_file(files[i], own, nfiles > 1, &all, &allwin);
    if (nfiles > 1 && !status)
        report("all files pooled", &all, &allwin, "each file's own window");
    fflush(stdout);
    rows_free(&all);
    rows_free(&allwin);
    dw_model_free(own);
    free(files);
    return status;
}
