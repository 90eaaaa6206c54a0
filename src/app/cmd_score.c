/* `dreamwatch score NIGHT.edf...`: stage recordings as fast as the machine allows, write the hypnogram
 * as CSV and as EDF+ annotations, print sleep statistics and, with a reference, agreement. */
#include "app/commands.h"

#include <edflib.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/config.h"
#include "base/files.h"
#include "base/text.h"
#include "staging/pipeline.h"
#include "sources/source.h"



struct night {
    int n, cap;
    signed char *stage;
    double (*prob)[DW_NSTAGES];
    double progress_next;
    double duration_s;
    int tty;
};

static void on_epoch(void *ctx, const dw_epoch_result *r)
{
    struct night *nt = ctx;
    if (r->epoch >= nt->cap) {
        int cap = nt->cap ? nt->cap * 2 : 2048;
        while (cap <= r->epoch) cap *= 2;
        signed char *s = realloc(nt->stage, (size_t)cap);
        double (*p)[DW_NSTAGES] = s ? realloc(nt->prob, (size_t)cap * sizeof *p) : NULL;
        if (!s || !p) {
            fprintf(stderr, "dreamwatch score: out of memory\n");
            exit(1);
        }
        nt->stage = s;
        nt->prob = p;
        nt->cap = cap;
    }
    while (nt->n < r->epoch) {             /* only after a gap */
        nt->stage[nt->n] = DW_UNSCORED;
        memset(nt->prob[nt->n], 0, sizeof nt->prob[0]);
        nt->n++;
    }
    nt->stage[nt->n] = (signed char)(r->valid ? r->stage : DW_UNSCORED);
    memcpy(nt->prob[nt->n], r->prob, sizeof r->prob);
    nt->n++;
    if (nt->tty && nt->duration_s > 0 && nt->n * 30.0 >= nt->progress_next) {
        int w = 40, done = (int)(w * fmin(1.0, nt->n * 30.0 / nt->duration_s));
        fprintf(stderr, "\r  [%.*s%*s] %3.0f%%", done, "########################################", w - done, "",
                100.0 * fmin(1.0, nt->n * 30.0 / nt->duration_s));
        nt->progress_next += nt->duration_s / 100;
    }
}

static int write_csv(const char *path, const struct night *nt, int force, dw_err *err)
{
    dw_out o;
    if (dw_out_begin(&o, path, force, err) < 0)
        return -1;
    FILE *f = fdopen(dup(o.fd), "w");
    if (!f) {
        dw_err_set(err, "%s: %s", path, strerror(errno));
        dw_out_abort(&o);
        return -1;
    }
    fprintf(f, "epoch,onset_s,stage,p_W,p_N1,p_N2,p_N3,p_R\n");
    for (int i = 0; i < nt->n; i++) {
        fprintf(f, "%d,%d,%s", i, i * DW_EPOCH_S, dw_stage_name(nt->stage[i]));
        for (int k = 0; k < DW_NSTAGES; k++)
            fprintf(f, ",%.4f", nt->prob[i][k]);
        fprintf(f, "\n");
    }
    if (fclose(f) != 0) {
        dw_err_set(err, "%s: cannot write: %s", path, strerror(errno));
        dw_out_abort(&o);
        return -1;
    }
    return dw_out_commit(&o, err);
}

/* EDF+ with no signals and one "Sleep stage X" annotation per 30-s record, as EDFbrowser, MNE and YASA
 * read hypnograms (AASM spelling; unscored epochs are "Sleep stage ?"). EDFlib opens the temporary file
 * through /proc/self/fd, so no other file can be swapped in under its name. */
static int write_edf_hypnogram(const char *path, const struct night *nt, double start_epoch, int force,
                               dw_err *err)
{
    dw_out o;
    if (dw_out_begin(&o, path, force, err) < 0)
        return -1;
    int h = edfopen_file_writeonly(o.fdpath, EDFLIB_FILETYPE_EDFPLUS, 0);
    if (h < 0) {
        dw_err_set(err, "%s: EDFlib cannot write it (error %d)", path, h);
        dw_out_abort(&o);
        return -1;
    }
    edf_set_datarecord_duration(h, DW_EPOCH_S * 100000);
    if (start_epoch > 0) {
        time_t t = (time_t)start_epoch;
        struct tm tm;
        localtime_r(&t, &tm);
        edf_set_startdatetime(h, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    }
    edf_set_equipment(h, "dreamwatch " DW_VERSION);
    int ok = 0;
    for (int i = 0; i < nt->n; i++) {
        char text[32];
        snprintf(text, sizeof text, "Sleep stage %s", nt->stage[i] == DW_UNSCORED ? "?" : dw_stage_name(nt->stage[i]));
        ok |= edfwrite_annotation_utf8(h, (long long)i * DW_EPOCH_S * 10000, DW_EPOCH_S * 10000, text);
    }
    if (edfclose_file(h) != 0 || ok != 0) {
        dw_err_set(err, "%s: EDFlib failed to write it", path);
        dw_out_abort(&o);
        return -1;
    }
    return dw_out_commit(&o, err);
}

static const char *basename_noext(const char *path, char *buf, size_t n)
{
    const char *b = strrchr(path, '/');
    snprintf(buf, n, "%s", b ? b + 1 : path);
    char *dot = strrchr(buf, '.');
    if (dot && dot != buf)
        *dot = 0;
    return buf;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: dreamwatch score NIGHT.edf... [--reference HYPNO.edf]... [--out PREFIX] [--model FILE]\n"
               "                        [--channels LIST] [--frontal CH] [--parietal CH] [--force]\n"
               "       dreamwatch score --features TABLE.tsv... [--model FILE]\n");
}

static int score_one(const char *path, const char *ref_path, const char *prefix, const dw_config *cfg, int force)
{
    dw_err err = { "" };
    double t0 = dw_now_mono();
    dw_source *src = dw_source_open_file(path, &cfg->chans, &err);
    if (!src) {
        fprintf(stderr, "dreamwatch score: %s\n", err.msg);
        return 1;
    }
    const dw_source_info *in = &src->info;
    if (in->note[0]) {                                  /* notes name the file, and may quote its labels */
        char safe[4 * sizeof in->note];
        dw_escape_str(in->note, safe, sizeof safe);
        fprintf(stderr, "dreamwatch score: %s\n", safe);
    }
    dw_model *own = NULL;
    const dw_model *model;
    if (cfg->model[0]) {
        if (!(own = dw_model_load(cfg->model, &err))) {
            fprintf(stderr, "dreamwatch score: %s\n", err.msg);
            dw_source_close(src);
            return 1;
        }
        model = own;
    } else {
        model = dw_model_builtin(in->parietal >= 0 ? 2 : 1);
    }
    if (in->frontal < 0 || (dw_model_channels(model) == 2 && in->parietal < 0)) {
        fprintf(stderr, "dreamwatch score: %s: no %s channel (channels: %s...); use --frontal/--parietal\n", path,
                in->frontal < 0 ? "frontal" : "parietal", in->label[0]);
        dw_source_close(src);
        dw_model_free(own);
        return 1;
    }
    if (fabs(in->fs - DW_FS) > 1e-9) {
        fprintf(stderr, "dreamwatch score: %s: source delivers %g Hz, expected %d\n", path, in->fs, DW_FS);
        dw_source_close(src);
        dw_model_free(own);
        return 1;
    }
    dw_scoring *sc = dw_scoring_new(model, in->phys_max_uv > 0 ? in->phys_max_uv * 0.999 : 0);
    struct night nt = { .duration_s = in->duration_s, .tty = isatty(2) };
    double *col[2] = { malloc(3000 * sizeof(double)), malloc(3000 * sizeof(double)) };
    int rc = 0;
    for (;;) {
        dw_block b;
        memset(&b, 0, sizeof b);
        int n = src->ops->read(src, &b, 3000, 0);
        if (n == DW_SRC_EOF)
            break;
        if (n < 0) {
            fprintf(stderr, "%sdreamwatch score: %s\n", nt.tty ? "\n" : "", src->err.msg);
            rc = 1;
            break;
        }
        if (b.gap > 0)
            dw_scoring_gap(sc, b.gap, on_epoch, &nt);
        for (int i = 0; i < n; i++) {
            col[0][i] = b.uv[i * in->nch + in->frontal];
            col[1][i] = in->parietal >= 0 ? b.uv[i * in->nch + in->parietal] : 0;
        }
        dw_scoring_push(sc, col[0], dw_scoring_channels(sc) > 1 ? col[1] : NULL, n, on_epoch, &nt);
    }
    if (nt.tty)
        fprintf(stderr, "\r%60s\r", "");
    double secs = dw_now_mono() - t0;
    printf("%s: %d epochs (%.2f h), model %s, %.2f s (%.0f x real time)\n", path, nt.n, nt.n / 120.0,
           dw_model_name(model), secs, secs > 0 ? nt.n * 30.0 / secs : 0);

    char csv[DW_PATH_MAX + 8], edf[DW_PATH_MAX + 8];
    snprintf(csv, sizeof csv, "%s.csv", prefix);
    snprintf(edf, sizeof edf, "%s.edf", prefix);
    if (write_csv(csv, &nt, force, &err) < 0 || write_edf_hypnogram(edf, &nt, in->start_epoch, force, &err) < 0) {
        fprintf(stderr, "dreamwatch score: %s\n", err.msg);
        rc = 1;
    } else {
        printf("  hypnogram: %s, %s\n", csv, edf);
    }
    dw_sleep_stats st;
    dw_sleep_stats_compute(nt.stage, nt.n, &st);
    dw_print_sleep_stats(stdout, &st);

    dw_hypnogram ref = { 0 };
    const char *rp = ref_path ? ref_path : path;   /* the recording's own annotations otherwise */
    if (dw_hypnogram_load(rp, &ref, &err) == 0 && ref.n > 0) {
        int m = ref.n < nt.n ? ref.n : nt.n;
        int scored = 0;
        for (int i = 0; i < m; i++)
            scored += ref.stage[i] != DW_UNSCORED;
        if (scored > 0) {
            dw_agreement a;
            dw_agreement_compute(ref.stage, nt.stage, m, &a);
            printf("  agreement with %s, all scored epochs:\n", rp);
            dw_print_agreement(stdout, &a);
            int from, to;
            if (dw_sleep_window(ref.stage, m, &from, &to) == 0) {
                dw_agreement_compute(ref.stage + from, nt.stage + from, to - from + 1, &a);
                printf("  sleep period +- 30 min (epochs %d-%d):\n", from, to);
                dw_print_agreement(stdout, &a);
            }
        }
    } else if (ref_path) {
        fprintf(stderr, "dreamwatch score: %s\n", err.msg);
        rc = 1;
    }
    dw_hypnogram_free(&ref);
    free(col[0]);
    free(col[1]);
    free(nt.stage);
    free(nt.prob);
    dw_scoring_free(sc);
    dw_model_free(own);
    dw_source_close(src);
    return rc;
}

int dw_cmd_score(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--features"))
            return dw_cmd_score_features(argc, argv);
    static const struct option opts[] = {
        { "reference", required_argument, 0, 'r' }, { "out", required_argument, 0, 'o' },
        { "model", required_argument, 0, 'M' },     { "channels", required_argument, 0, 'C' },
        { "frontal", required_argument, 0, 'F' },   { "parietal", required_argument, 0, 'P' },
        { "force", no_argument, 0, 'f' },           { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    dw_config cfg;
    dw_config_defaults(&cfg);
    const char *refs[64];
    int nrefs = 0;
    const char *prefix = NULL;
    dw_err err = { "" };
    int c, force = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:o:fh", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'r':
            if (nrefs == 64) { fprintf(stderr, "dreamwatch score: too many --reference\n"); return 2; }
            refs[nrefs++] = optarg;
            break;
        case 'o': prefix = optarg; break;
        case 'f': force = 1; break;
        case 'M': bad = dw_config_set(&cfg, "staging", "model", optarg, &err); break;
        case 'C': bad = dw_config_set(&cfg, "input", "channels", optarg, &err); break;
        case 'F': bad = dw_config_set(&cfg, "input", "frontal", optarg, &err); break;
        case 'P': bad = dw_config_set(&cfg, "input", "parietal", optarg, &err); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (bad) {
            fprintf(stderr, "dreamwatch score: %s\n", err.msg);
            return 2;
        }
    }
    int nfiles = argc - optind;
    if (nfiles < 1) {
        usage(stderr);
        return 2;
    }
    if (nrefs > nfiles) {
        fprintf(stderr, "dreamwatch score: %d references for %d recordings\n", nrefs, nfiles);
        return 2;
    }
    /* Every input is known before any output is checked: an output may never replace one (case: the
     * README's own `score --out night1 night1.edf`, or --out naming the reference). Each is opened once
     * here, so a FIFO, a directory or a device is refused before any work, not after a night's scoring. */
    int bad = 0;
    for (int i = 0; i < nfiles + nrefs + (cfg.model[0] != 0) && !bad; i++) {
        const char *in = i < nfiles ? argv[optind + i] : i < nfiles + nrefs ? refs[i - nfiles] : cfg.model;
        int fd = dw_input_open(in, i < nfiles ? "recording" : i < nfiles + nrefs ? "reference" : "model", &err);
        if (fd < 0) {
            fprintf(stderr, "dreamwatch score: %s\n", err.msg);
            bad = 1;
        } else {
            close(fd);
        }
    }
    if (bad)
        return 1;
    char (*outs)[DW_PATH_MAX] = calloc((size_t)nfiles, sizeof *outs);
    if (!outs) {
        fprintf(stderr, "dreamwatch score: out of memory\n");
        return 1;
    }
    for (int i = 0; i < nfiles; i++) {
        const char *path = argv[optind + i];
        char base[512];
        basename_noext(path, base, sizeof base);
        if (!prefix)
            snprintf(outs[i], DW_PATH_MAX, "%s.hypnogram", base);
        else if (nfiles == 1)
            snprintf(outs[i], DW_PATH_MAX, "%s", prefix);
        else
            snprintf(outs[i], DW_PATH_MAX, "%s-%s", prefix, base);
        for (int j = 0; j < i; j++)
            if (!strcmp(outs[i], outs[j])) {
                fprintf(stderr, "dreamwatch score: %s and %s would both write %s.csv\n", argv[optind + j], path,
                        outs[i]);
                free(outs);
                return 2;
            }
        static const char *const ext[] = { ".csv", ".edf" };
        for (int k = 0; k < 2; k++) {
            char o[DW_PATH_MAX + 8];
            snprintf(o, sizeof o, "%s%s", outs[i], ext[k]);
            if (dw_out_check(o, force, &err) < 0) {
                fprintf(stderr, "dreamwatch score: %s\n", err.msg);
                free(outs);
                return 2;
            }
        }
    }
    int rc = 0;
    for (int i = 0; i < nfiles; i++)
        rc |= score_one(argv[optind + i], i < nrefs ? refs[i] : NULL, outs[i], &cfg, force);
    free(outs);
    return rc;
}
