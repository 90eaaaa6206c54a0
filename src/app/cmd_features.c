/* `dreamwatch features NIGHT... [--reference H] [--out TABLE.tsv]`: the per-epoch feature table of a
 * recording, in the columns of the real training set (../shared/data/sleep-edf/features: epoch, onset_s,
 * stage, fpz_delta .. fpz_dvar, pz_delta .. pz_dvar), computed by the one staging pipeline exactly as the
 * stager sees them. The frontal staging channel fills the fpz_* columns and the parietal one the pz_*
 * columns, whatever the montage (the roles are printed); an unusable epoch has empty values (read as
 * missing by pandas and by `score --features`); the stage comes from the reference (or the recording's
 * own stage annotations), empty when there is none. The table is what tools/train_stager.py trains on. */
#include "app/commands.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/config.h"
#include "base/files.h"
#include "staging/hypnogram.h"
#include "staging/pipeline.h"
#include "sources/source.h"

struct table {
    FILE *f;
    int   ncols;                    /* 1: fpz only, 2: fpz and pz */
    const signed char *ref;         /* the reference on our epochs (laid by clock time), nref of them */
    int   nref;
    long  rows, unusable;
};

static void put_feat(FILE *f, const dw_features *x)
{
    fprintf(f, "\t%.9g\t%.9g\t%.9g\t%.9g\t%.9g\t%.9g\t%.9g", x->delta, x->theta, x->alpha, x->beta, x->gamma,
            x->var, x->dvar);
}

static void on_epoch(void *ctx, const dw_epoch_result *r)
{
    struct table *t = ctx;
    const char *stage = t->ref && r->epoch < t->nref && t->ref[r->epoch] != DW_UNSCORED
                      ? dw_stage_name(t->ref[r->epoch]) : "";
    fprintf(t->f, "%d\t%d\t%s", r->epoch, r->epoch * DW_EPOCH_S, stage);
    if (r->valid && !r->one_channel) {
        for (int c = 0; c < t->ncols; c++)
            put_feat(t->f, &r->feat[c]);
    } else if (r->valid && t->ncols == 2) {            /* parietal unusable: its columns missing */
        put_feat(t->f, &r->feat[0]);
        fputs("\t\t\t\t\t\t\t", t->f);
    } else {
        for (int k = 0; k < 7 * t->ncols; k++)
            fputc('\t', t->f);
        t->unusable++;
    }
    fputc('\n', t->f);
    t->rows++;
}

static int one(const char *path, const char *ref_path, const char *out, const dw_config *cfg, int force)
{
    dw_err err = { 0 };
    dw_channel_spec spec = cfg->chans;
    spec.roles_only = 1;
    dw_source *src = dw_source_open_file(path, &spec, &err);
    if (!src) {
        fprintf(stderr, "dreamwatch features: %s\n", err.msg);
        return 1;
    }
    const dw_source_info *in = &src->info;
    if (in->note[0])
        fprintf(stderr, "%s\n", in->note);
    dw_hypnogram ref = { 0 };
    signed char *aligned = NULL;
    int naligned = 0;
    const char *rp = ref_path ? ref_path : in->ours ? NULL : path;
    if (rp && dw_hypnogram_load(rp, &ref, &err) == 0) {       /* laid on our epochs by the two clocks */
        dw_ref_alignment al;
        int epochs = (int)ceil(in->duration_s / DW_EPOCH_S);
        if (dw_hypnogram_align(&ref, in->start_epoch, epochs, &aligned, &naligned, &al, &err) < 0) {
            fprintf(stderr, "dreamwatch features: %s\n", err.msg);
            dw_hypnogram_free(&ref);
            dw_source_close(src);
            return 1;
        }
        if (ref_path)
            dw_print_alignment(stderr, rp, &ref, &al);
    } else if (ref_path) {
        fprintf(stderr, "dreamwatch features: %s\n", err.msg);
        dw_source_close(src);
        return 1;
    }
    struct table t = { .ref = aligned, .nref = naligned };
    dw_pipeline_opts po = { .quality = dw_quality_settings(&cfg->session) };
    po.quality.mains = 0;
    dw_pipeline_sink sink = { .epoch = on_epoch, .ctx = &t };
    dw_pipeline *pl = dw_pipeline_new(in, &po, &sink, &err);
    dw_out o;
    int rc = 1;
    if (!pl) {
        fprintf(stderr, "dreamwatch features: %s: %s\n", path, err.msg);
        goto done;
    }
    if (dw_out_begin(&o, out, force, &err) < 0 || !(t.f = fdopen(dup(o.fd), "w"))) {
        fprintf(stderr, "dreamwatch features: %s\n", err.msg[0] ? err.msg : "cannot write");
        if (o.fd >= 0)
            dw_out_abort(&o);
        goto done;
    }
    t.ncols = dw_model_channels(dw_pipeline_model(pl));
    fputs("epoch\tonset_s\tstage\tfpz_delta\tfpz_theta\tfpz_alpha\tfpz_beta\tfpz_gamma\tfpz_var\tfpz_dvar", t.f);
    if (t.ncols == 2)
        fputs("\tpz_delta\tpz_theta\tpz_alpha\tpz_beta\tpz_gamma\tpz_var\tpz_dvar", t.f);
    fputc('\n', t.f);
    int bad = 0;
    for (;;) {
        dw_block b;
        int n = src->ops->read(src, &b, 6000, 0);
        if (n == DW_SRC_EOF)
            break;
        if (n < 0) {
            fprintf(stderr, "dreamwatch features: %s\n", src->err.msg);
            bad = 1;
            break;
        }
        dw_pipeline_push(pl, &b);
    }
    dw_pipeline_finish(pl);
    bad |= fclose(t.f) != 0;
    int put = bad ? -1 : dw_out_commit(&o, &err);
    if (put < 0) {
        fprintf(stderr, "dreamwatch features: %s\n", bad ? "write failed; nothing kept" : err.msg);
        dw_out_abort(&o);
        rc = put == DW_OUT_TAKEN ? 2 : 1;   /* taken while we worked: as if there at the start */
        goto done;
    }
    printf("%s: %ld %s (%ld unusable, written with empty values) -> %s\n", path, t.rows,
           dw_plural(t.rows, "epoch", "epochs"), t.unusable, out);
    printf("  fpz_* columns: %s (frontal), pz_* columns: %s (%s); stage: %s\n",
           in->label[in->frontal], t.ncols == 2 ? in->label[in->parietal] : "none", in->roles_how,
           t.ref ? (ref_path ? ref_path : "the recording's own annotations") : "none");
    rc = 0;
done:
    dw_pipeline_free(pl);
    free(aligned);
    dw_hypnogram_free(&ref);
    dw_source_close(src);
    return rc;
}

static int usage(FILE *f, int rc)
{
    fprintf(f, "usage: dreamwatch features NIGHT... [--reference HYPNO]... [--out TABLE.tsv] [--force]\n"
               "                           [--channels LIST] [--frontal CH] [--parietal CH]\n"
               "The per-epoch feature table of each recording, in the columns tools/train_stager.py trains on.\n"
               "Default output: NAME.features.tsv in the current directory (-NAME appended with several).\n");
    return rc;
}

int dw_cmd_features(int argc, char **argv)
{
    static const struct option opts[] = {
        { "reference", required_argument, 0, 'r' }, { "out", required_argument, 0, 'o' },
        { "channels", required_argument, 0, 'C' },  { "frontal", required_argument, 0, 'F' },
        { "parietal", required_argument, 0, 'P' },  { "force", no_argument, 0, 'f' },
        { "help", no_argument, 0, 'h' },            { 0, 0, 0, 0 },
    };
    static dw_config cfg;
    dw_config_defaults(&cfg);
    const char *refs[64], *out = NULL;
    int nrefs = 0, force = 0, c;
    dw_err err = { 0 };
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:o:fh", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'r':
            if (nrefs == 64)
                return usage(stderr, 2);
            refs[nrefs++] = optarg;
            break;
        case 'o': out = optarg; break;
        case 'f': force = 1; break;
        case 'C': bad = dw_config_set(&cfg, "input", "channels", optarg, &err); break;
        case 'F': bad = dw_config_set(&cfg, "input", "frontal", optarg, &err); break;
        case 'P': bad = dw_config_set(&cfg, "input", "parietal", optarg, &err); break;
        case 'h': return usage(stdout, 0);
        default: return usage(stderr, 2);
        }
        if (bad) {
            fprintf(stderr, "dreamwatch features: %s\n", err.msg);
            return 2;
        }
    }
    int n = argc - optind;
    if (n < 1 || nrefs > n)
        return usage(stderr, 2);
    for (int i = 0; i < n; i++)
        dw_input_note(argv[optind + i]);
    for (int i = 0; i < nrefs; i++)
        dw_input_note(refs[i]);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *path = argv[optind + i], *b = strrchr(path, '/');
        char base[512], name[DW_PATH_MAX + 600];
        snprintf(base, sizeof base, "%s", b ? b + 1 : path);
        char *dot = strrchr(base, '.');
        if (dot && dot != base)
            *dot = 0;
        if (!out)
            snprintf(name, sizeof name, "%s.features.tsv", base);
        else if (n == 1)
            snprintf(name, sizeof name, "%s", out);
        else
            snprintf(name, sizeof name, "%s-%s.tsv", out, base);
        if (dw_out_check(name, force, &err) < 0) {
            fprintf(stderr, "dreamwatch features: %s\n", err.msg);
            return 2;
        }
        int r = one(path, i < nrefs ? refs[i] : NULL, name, &cfg, force);
        rc = r > rc ? r : rc;                 /* the gravest status (not OR: 1|2 is 3) */
    }
    return rc;
}
