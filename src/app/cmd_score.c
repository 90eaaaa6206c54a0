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
#include "base/frames.h"
#include "base/text.h"
#include "dsp/quality.h"
#include "dsp/sleep_events.h"
#include "record/bids_events.h"
#include "staging/epoch_tally.h"
#include "staging/night.h"
#include "staging/pipeline.h"
#include "sources/montage.h"
#include "sources/source.h"

struct night {
    int n, cap;
    signed char *stage;
    double (*prob)[DW_NSTAGES];
    int (*micro)[DW_SLEEP_EVENT_KINDS];   /* spindles and slow waves starting in each epoch */
    int micro_cap;
    struct micro_ev { double onset, dur, amp; int kind, epoch; } *ev;   /* every detection */
    int nev, capev;
    dw_bids_events *events;               /* at the end: stages, and the detections that count */
    double progress_next;
    double duration_s;
    int tty;
    dw_unlike_tally unlike;               /* epochs staged while the night was unlike the training data */
    dw_epoch_tally why;                   /* why epochs were unscored or staged on one channel */
    const char *label[2], *model, *stand_in;  /* for its lines (dw_print_staged_night) */
    int region;                           /* the detectors' channel's (dw_montage_region) */
};

_Static_assert(DW_SLEEP_EVENT_KINDS == 2, "dw_micro_density takes spindles and slow waves");

/* A spindle or slow wave on the frontal channel (dsp/sleep_events.h): counted in its epoch. */
static void on_micro(void *ctx, const dw_sleep_event *ev)
{
    struct night *nt = ctx;
    if (ev->epoch < 0 || !dw_micro_on_region(ev->kind, nt->region))
        return;
    if (ev->epoch >= nt->micro_cap) {
        int cap = nt->micro_cap ? nt->micro_cap : 2048;
        while (cap <= ev->epoch)
            cap *= 2;
        nt->micro = dw_xrealloc(nt->micro, (size_t)cap * sizeof *nt->micro, "the spindle counts");
        memset(nt->micro + nt->micro_cap, 0, (size_t)(cap - nt->micro_cap) * sizeof *nt->micro);
        nt->micro_cap = cap;
    }
    nt->micro[ev->epoch][ev->kind]++;
    if (nt->nev == nt->capev)
        nt->ev = dw_xrealloc(nt->ev, (size_t)(nt->capev = nt->capev ? 2 * nt->capev : 1024) *
                                         sizeof *nt->ev, "the spindles and slow waves");
    nt->ev[nt->nev++] = (struct micro_ev){ ev->onset_s, ev->dur_s, ev->amp_uv, ev->kind, ev->epoch };
}

/* Whether detections of kind count in epoch (staged; dw_sleep_event_counts). */
static int counts_in(const struct night *nt, int epoch, int kind)
{
    return epoch >= 0 && epoch < nt->n && dw_sleep_event_counts(kind, nt->stage[epoch]) &&
           dw_micro_on_region(kind, nt->region);
}

/* The CSV's density field: empty where the kind does not count (W, R, unscored; slow waves in N1). */
static void print_per_min(FILE *f, const struct night *nt, int epoch, int kind)
{
    if (counts_in(nt, epoch, kind))
        fprintf(f, ",%.1f", epoch < nt->micro_cap ? nt->micro[epoch][kind] * 60.0 / DW_EPOCH_S : 0);
    else
        fputc(',', f);
}

static void on_epoch(void *ctx, const dw_epoch_result *r)
{
    struct night *nt = ctx;
    if (r->epoch >= nt->cap) {
        int cap = nt->cap ? nt->cap * 2 : 2048;
        while (cap <= r->epoch) cap *= 2;
        nt->stage = dw_xrealloc(nt->stage, (size_t)cap, "the hypnogram");
        nt->prob = dw_xrealloc(nt->prob, (size_t)cap * sizeof *nt->prob, "the hypnodensity");
        nt->cap = cap;
    }
    while (nt->n < r->epoch) {             /* only after a gap */
        dw_epoch_tally_missing(&nt->why, 1);
        nt->stage[nt->n] = DW_UNSCORED;
        memset(nt->prob[nt->n], 0, sizeof nt->prob[0]);
        nt->n++;
    }
    nt->stage[nt->n] = (signed char)(r->valid ? r->stage : DW_UNSCORED);
    dw_epoch_tally_add(&nt->why, r);
    if (r->valid)
        dw_unlike_tally_add(&nt->unlike, r->distance, r->start_distance, r->unlike_training);
    memcpy(nt->prob[nt->n], r->prob, sizeof r->prob);
    nt->n++;
    if (nt->tty && nt->duration_s > 0 && nt->n * 30.0 >= nt->progress_next) {
        int w = 40, done = (int)(w * fmin(1.0, nt->n * 30.0 / nt->duration_s));
        fprintf(stderr, "\r  [%.*s%*s] %3.0f%%", done, "########################################", w - done, "",
                100.0 * fmin(1.0, nt->n * 30.0 / nt->duration_s));
        nt->progress_next += nt->duration_s / 100;
    }
}

/* An output begun under its temporary name, as a stream; NULL with err and *rc (DW_OUT_TAKEN or -1;
 * nothing left behind). */
static FILE *out_stream(dw_out *o, const char *path, int force, dw_err *err, int *rc)
{
    if ((*rc = dw_out_begin(o, path, force, err)) < 0)
        return NULL;
    FILE *f = fdopen(dup(o->fd), "w");
    if (!f) {
        dw_err_set(err, "%s: %s", path, strerror(errno));
        dw_out_abort(o);
        *rc = -1;
    }
    return f;
}

static int write_csv(const char *path, const struct night *nt, int force, dw_err *err)
{
    dw_out o;
    int rc;
    FILE *f = out_stream(&o, path, force, err, &rc);
    if (!f)
        return rc;
    fprintf(f, "epoch,onset_s,stage,p_W,p_N1,p_N2,p_N3,p_R,spindles_per_min,so_per_min\n");
    for (int i = 0; i < nt->n; i++) {
        fprintf(f, "%d,%d,%s", i, i * DW_EPOCH_S, dw_stage_name(nt->stage[i]));
        for (int k = 0; k < DW_NSTAGES; k++)    /* unscored: none, empty as the densities */
            if (dw_epoch_has_prob(nt->stage[i]))
                fprintf(f, ",%.4f", nt->prob[i][k]);
            else
                fputc(',', f);
        print_per_min(f, nt, i, DW_SLEEP_SPINDLE);
        print_per_min(f, nt, i, DW_SLEEP_SLOW_WAVE);
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        dw_err_set(err, "%s: cannot write: %s", path, strerror(errno));
        dw_out_abort(&o);
        return -1;
    }
    return dw_out_commit(&o, err);
}

/* An EDF+ header whose start is not known (an OpenBCI SD-card log has no clock): EDF+ (Kemp &
 * Olivan 2003, 2.1.3.3) writes the recording field's start date as "Startdate X", the header's
 * start date and time then being the convention 01.01.85 00.00.00 (what EDFlib advises for an
 * anonymous start). EDFlib always writes a date there, so the field written on fd is rewritten
 * in place: "Startdate 01-JAN-1985 rest" becomes "Startdate X rest". 0, or -1 with err. */
static int start_unknown(int fd, const char *path, dw_err *err)
{
    char rec[81] = "", fixed[81];
    static const char had[] = "Startdate 01-JAN-1985 ";
    if (pread(fd, rec, 80, 88) != 80 || strncmp(rec, had, sizeof had - 1)) {
        dw_err_set(err, "%s: EDFlib wrote an unexpected recording field \"%.40s\"", path, rec);
        return -1;
    }
    snprintf(fixed, sizeof fixed, "Startdate X %-68.68s", rec + sizeof had - 1);
    if (pwrite(fd, fixed, 80, 88) != 80) {
        dw_err_set(err, "%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* EDF+ with no signals and one "Sleep stage X" annotation per 30-s record, as EDFbrowser, MNE and YASA
 * read hypnograms (AASM spelling; unscored epochs are "Sleep stage ?"). EDFlib opens the temporary file
 * through /proc/self/fd, so no other file can be swapped in under its name. */
static int write_edf_hypnogram(const char *path, const struct night *nt, double start_epoch, int force,
                               dw_err *err)
{
    dw_out o;
    int begun = dw_out_begin(&o, path, force, err);
    if (begun < 0)
        return begun;
    int h = edfopen_file_writeonly(o.fdpath, EDFLIB_FILETYPE_EDFPLUS, 0);
    if (h < 0) {
        dw_err_set(err, "%s: EDFlib cannot write it (error %d)", path, h);
        dw_out_abort(&o);
        return -1;
    }
    edf_set_datarecord_duration(h, DW_EPOCH_S * 100000);
    struct tm tm = { .tm_year = 85, .tm_mday = 1 };   /* unknown: 1985-01-01 00:00:00, see above */
    if (start_epoch > 0) {
        time_t t = (time_t)start_epoch;
        localtime_r(&t, &tm);
    }
    edf_set_startdatetime(h, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                          tm.tm_sec);
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
    if (start_epoch <= 0 && start_unknown(o.fd, path, err) < 0) {
        dw_out_abort(&o);
        return -1;
    }
    return dw_out_commit(&o, err);
}

/* What a reference said about the night: how it was laid on it, the agreement. */
struct ref_result {
    const char *path;                     /* NULL: no reference, nothing to say */
    dw_hypnogram ref;
    dw_ref_alignment al;
    int show_alignment;                   /* named, or not laid plainly from epoch 0 */
    int compared, windowed, from, to;     /* agreement over all scored epochs; the sleep window */
    dw_agreement all, window;
};

/* What `score` says about a night. */
struct report {
    const struct night *nt;
    const dw_source_info *in;
    const dw_model *model;
    const struct ref_result *ref;
};

static void report_sleep(FILE *f, const struct report *r, const char *in)
{
    const struct night *nt = r->nt;
    dw_sleep_stats st;
    if (nt->n > 0)
        dw_sleep_stats_compute(nt->stage, nt->n, &st);
    dw_staged_night sn = {
        .label = { nt->label[0], nt->label[1] },
        .roles = { r->in->frontal >= 0 ? r->in->label[r->in->frontal] : NULL,
                   r->in->parietal >= 0 ? r->in->label[r->in->parietal] : NULL },
        .how = r->in->roles_how, .model = nt->model, .stand_in = nt->stand_in, .tally = &nt->why,
        .st = nt->n > 0 ? &st : NULL, .rem_periods = nt->n > 0 ? dw_rem_periods(nt->stage, nt->n) : 0,
        .signal_s = r->in->duration_s,
    };
    dw_print_staged_night(f, in, &sn);
    dw_print_unlike_note(f, in, r->model, &nt->unlike);
    /* a night staged on a dead electrode says so, and what to do: the channel is chosen by its
     * name before any sample is read (sources/montage.c), so a flat one with a good neighbour is
     * staged as chosen (first-use test: TIB 0, every epoch unscored, no word why) */
    int flat = nt->why.why[0][DW_WHY_FLAT], railed = nt->why.why[0][DW_WHY_RAILED];
    if (nt->n > 0 && 2 * (flat + railed) >= nt->n)
        fprintf(f, "%snote: the %s channel %s was %s in %d of %d epochs (unscored): check its "
                "electrode, or stage another channel with --frontal NAME\n", in,
                dw_montage_role_word(0, r->in->label[r->in->frontal]), r->in->label[r->in->frontal],
                flat >= railed ? "flat" : "railed", flat + railed, nt->n);
}

static void report_micro(FILE *f, const struct report *r, const char *in)
{
    const struct night *nt = r->nt;
    long tot[2], set_aside;
    char where[64] = "on the frontal channel";
    if (nt->region != DW_REGION_FRONTAL && nt->region != DW_REGION_UNKNOWN)
        snprintf(where, sizeof where, "on %.40s", r->in->label[r->in->frontal]);
    /* the counts and densities, then the kinds not detected on this channel's region masked in one
     * place (dw_micro_for_region: none, not a zero) */
    double dens[DW_NSTAGES][2];
    dw_micro_totals(nt->stage, nt->n, (const int (*)[2])nt->micro, nt->micro_cap, tot, &set_aside);
    dw_micro_density(nt->stage, nt->n, (const int (*)[2])nt->micro, nt->micro_cap, dens);
    dw_micro_for_region(nt->region, tot, NULL, dens);   /* not detected there: none, not a zero */
    dw_print_micro_totals(f, in, where, tot, set_aside);
    dw_print_micro_density(f, dens);
    if (r->in->frontal >= 0)
        dw_print_micro_channel(f, in, r->in->label[r->in->frontal], nt->region);
}

static void report_reference(FILE *f, const struct ref_result *x)
{
    if (x->show_alignment)
        dw_print_alignment(f, x->path, &x->ref, &x->al);
    /* a sleep period +- 30 min that holds every scored epoch gives the same figures: said once */
    int same = x->windowed && x->window.n == x->all.n;
    if (x->compared && same)
        fprintf(f, "  agreement with %s, all scored epochs (the same as the sleep period +- 30 min, epochs "
                "%d-%d):\n", x->path, x->from, x->to);
    else if (x->compared)
        fprintf(f, "  agreement with %s, all scored epochs:\n", x->path);
    if (x->compared)
        dw_print_agreement(f, &x->all);
    if (x->windowed && !same) {
        fprintf(f, "  sleep period +- 30 min (epochs %d-%d):\n", x->from, x->to);
        dw_print_agreement(f, &x->window);
    }
}

/* Everything `score` says about a night, written by this one function to both streams: standard
 * output (headed 0: lines indented) and PREFIX.summary.txt (headed 1: a "## " heading over each
 * part). */
static void night_report(FILE *f, const struct report *r, int headed)
{
    const char *in = headed ? "" : "  ";
    if (headed)
        fprintf(f, "## Sleep\n");
    report_sleep(f, r, in);
    if (headed)
        fprintf(f, "\n## Spindles and slow waves\n");
    report_micro(f, r, in);
    if (r->ref->path && (r->ref->show_alignment || r->ref->compared)) {
        if (headed)
            fprintf(f, "\n## Agreement with the reference\n");
        report_reference(f, r->ref);
    }
    if (headed)
        fputc('\n', f);
}

/* PREFIX.summary.txt: what `score` prints about the night (night_report) and its figures for
 * `dreamwatch nights`. */
static int write_summary(const char *path, const struct report *r, const char *src, int force,
                         dw_err *err)
{
    dw_out o;
    int rc;
    FILE *f = out_stream(&o, path, force, err, &rc);
    if (!f)
        return rc;
    dw_night night;
    dw_night_from_stages(&night, r->nt->stage, r->nt->n);
    night.start_wall = r->in->start_epoch;
    snprintf(night.source, sizeof night.source, "%s", src);
    snprintf(night.kind, sizeof night.kind, "scored");
    fprintf(f, "# dreamwatch score summary\n\nscored: %s, %d %s of 30 s, model %s\n\n", src,
            r->nt->n, dw_plural(r->nt->n, "epoch", "epochs"), dw_model_name(r->model));
    night_report(f, r, 1);
    dw_night_print_figures(f, &night);
    int bad = fflush(f) != 0 || ferror(f);
    bad |= fclose(f) != 0;
    if (bad) {
        dw_err_set(err, "%s: write failed", path);
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
    fprintf(f, "usage: dreamwatch score NIGHT.edf... [--reference HYPNO.edf]... [--out PREFIX|FOLDER/] [--model FILE]\n"
               "                        [--channels LIST] [--frontal CH] [--parietal CH] [--force]\n"
               "       dreamwatch score --features TABLE.tsv... [--model FILE]\n");
}

/* Agreement with the reference (or the recording's own annotations, quietly absent when it has
 * none; path NULL: not those either — our own recordings' stage annotations are our live labels,
 * not a reference), laid on our epochs by the two files' clocks, into *x (ref_result_free it).
 * -1 when a named reference cannot be used (said on stderr). */
static int compare_reference(const char *ref_path, const char *path, double rec_start,
                             const struct night *nt, struct ref_result *x)
{
    dw_err err = { 0 };
    const char *rp = ref_path ? ref_path : path;   /* the recording's own annotations otherwise */
    memset(x, 0, sizeof *x);
    if (!rp)
        return 0;
    if (dw_hypnogram_load(rp, &x->ref, &err) < 0) {
        if (ref_path)
            fprintf(stderr, "dreamwatch score: %s\n", err.msg);
        return ref_path ? -1 : 0;
    }
    signed char *st;
    int n;
    if (dw_hypnogram_align(&x->ref, rec_start, nt->n, &st, &n, &x->al, &err) < 0) {
        fprintf(stderr, "dreamwatch score: %s\n", err.msg);
        dw_hypnogram_free(&x->ref);
        return -1;
    }
    x->path = rp;
    x->show_alignment = ref_path || x->al.by_clock == 0 || x->al.offset_s != 0 || x->al.before ||
                        x->al.after;
    if (x->al.inside > 0) {
        x->compared = 1;
        dw_agreement_compute(st, nt->stage, n, &x->all);
        if (dw_sleep_window(st, n, &x->from, &x->to) == 0) {
            x->windowed = 1;
            int len = x->to - x->from + 1;
            dw_agreement_compute(st + x->from, nt->stage + x->from, len, &x->window);
        }
    }
    free(st);
    return 0;
}

static void ref_result_free(struct ref_result *x)
{
    if (x->path)
        dw_hypnogram_free(&x->ref);
    x->path = NULL;
}

/* A named reference checked before any work (it reads, and it lies on this recording's clock: not
 * another night's), so a wrong one costs no staging and leaves no outputs. 0, or -1 with the message
 * printed. The comparison itself (compare_reference) reads it again after the night. */
static int check_reference(const char *ref_path, double rec_start, double duration_s)
{
    dw_hypnogram ref;
    dw_err err = { 0 };
    if (!ref_path)
        return 0;
    if (dw_hypnogram_load(ref_path, &ref, &err) < 0) {
        fprintf(stderr, "dreamwatch score: %s\n", err.msg);
        return -1;
    }
    signed char *st = NULL;
    int n, epochs = (int)ceil(duration_s / 30.0);
    dw_ref_alignment al;
    int rc = dw_hypnogram_align(&ref, rec_start, epochs > 0 ? epochs : 1, &st, &n, &al, &err);
    if (rc < 0)
        fprintf(stderr, "dreamwatch score: %s\n", err.msg);
    free(st);
    dw_hypnogram_free(&ref);
    return rc < 0 ? -1 : 0;
}

/* The night through the pipeline, and the frontal channel through the spindle and slow-wave
 * detectors (gaps restart them). 0, or 1 on a read error. */
static int read_night(dw_source *src, dw_pipeline *pl, struct night *nt)
{
    const dw_source_info *in = &src->info;
    dw_sleep_events *micro = dw_sleep_events_new(in->fs);
    double *col = NULL;
    int rc = 0, cap = 0;
    for (;;) {
        dw_block b;
        memset(&b, 0, sizeof b);
        int n = src->ops->read(src, &b, 6000, 0);
        if (n == DW_SRC_EOF)
            break;
        if (n < 0) {
            fprintf(stderr, "%sdreamwatch score: %s\n", nt->tty ? "\n" : "", src->err.msg);
            rc = 1;
            break;
        }
        dw_pipeline_push(pl, &b);
        if (!micro || in->frontal < 0)
            continue;
        if (n > cap)
            col = dw_xrealloc(col, (size_t)(cap = n) * sizeof *col, "the frontal channel");
        dw_frames_get_column(col, b.uv, in->nch, in->frontal, n);
        if (b.gap > 0)
            dw_sleep_events_reset(micro);
        dw_sleep_events_push(micro, b.t0, col, n, on_micro, nt);
    }
    dw_pipeline_finish(pl);
    dw_sleep_events_free(micro);
    free(col);
    return rc;
}

/* PREFIX_events.tsv: each epoch's stage, each spindle and slow wave in an epoch where it counts
 * (BIDS, record/bids_events.h) */
static int write_events(const char *path, struct night *nt, int force, dw_err *err)
{
    for (int i = 0; i < nt->nev; i++)
        if (counts_in(nt, nt->ev[i].epoch, nt->ev[i].kind))
            dw_bids_events_addf(nt->events, nt->ev[i].onset, nt->ev[i].dur,
                                dw_sleep_event_name(nt->ev[i].kind), "%.1f", nt->ev[i].amp);
    for (int i = 0; i < nt->n; i++)
        dw_bids_events_add(nt->events, (double)i * DW_EPOCH_S, DW_EPOCH_S, "sleep_stage",
                           nt->stage[i] == DW_UNSCORED ? NULL : dw_stage_name(nt->stage[i]));
    return dw_bids_events_write(nt->events, path, force, err);
}

static int score_one(const char *path, const char *ref_path, const char *prefix, const dw_config *cfg, int force)
{
    dw_err err = { 0 };
    double t0 = dw_now_mono();
    dw_channel_spec spec = cfg->chans;
    spec.roles_only = 1;                   /* read and resample only the channels that are staged */
    dw_source *src = dw_source_open_file(path, &spec, &err);
    if (!src) {
        fprintf(stderr, "dreamwatch score: %s\n", err.msg);
        return 1;
    }
    const dw_source_info *in = &src->info;
    for (const char *l = in->note; *l; l += strcspn(l, "\n"), l += *l == '\n') {
        char safe[4 * sizeof in->note];     /* lines naming the file; they may quote its labels */
        dw_escape(l, strcspn(l, "\n"), safe, sizeof safe);
        fprintf(stderr, "dreamwatch score: %s\n", safe);
    }
    if (check_reference(ref_path, in->start_epoch, in->duration_s) < 0) {
        dw_source_close(src);
        return 1;
    }
    dw_model *own = NULL;
    if (cfg->model[0] && !(own = dw_model_load(cfg->model, &err))) {
        fprintf(stderr, "dreamwatch score: %s\n", err.msg);
        dw_source_close(src);
        return dw_err_status(&err);                 /* a --model that cannot be used: 2 */
    }
    struct night nt = { .duration_s = in->duration_s, .tty = isatty(2),
                        .events = dw_bids_events_new() };
    dw_pipeline_opts po = { .model = own, .quality = dw_quality_settings(&cfg->session) };
    po.quality.mains = 0;                  /* no alerts here: mains is not a staging fact */
    dw_pipeline_sink sink = { .epoch = on_epoch, .ctx = &nt };
    dw_pipeline *pl = dw_pipeline_new(in, &po, &sink, &err);
    if (!pl) {
        fprintf(stderr, "dreamwatch score: %s: %s\n", path, err.msg);
        dw_source_close(src);
        dw_model_free(own);
        dw_bids_events_free(nt.events);
        return 1;
    }
    const dw_model *model = dw_pipeline_model(pl);
    const dw_model *stand_in = dw_model_builtin_for(1, in->fs);
    nt.label[0] = in->label[in->frontal];
    nt.label[1] = dw_model_channels(model) == 2 ? in->label[in->parietal] : NULL;
    nt.model = dw_model_name(model);
    nt.stand_in = stand_in ? dw_model_name(stand_in) : NULL;
    nt.region = dw_montage_region(in->label[in->frontal]);
    int rc = read_night(src, pl, &nt);
    if (nt.tty)
        fprintf(stderr, "\r%60s\r", "");
    if (nt.n == 0 && rc == 0)              /* say it: an empty table must not pass for a night */
        fprintf(stderr, "dreamwatch score: %s: no whole epoch to stage (%.1f s of signal; an epoch is 30 s, "
                        "the last may lack at most %d s): no hypnogram, no sleep statistics, and no spindles "
                        "or slow waves (they count only in staged NREM epochs)\n", path, in->duration_s, DW_EPOCH_UNUSABLE_S);
    double secs = dw_now_mono() - t0;
    printf("%s: %d %s (%.2f h), model %s, %.2f s (%.0f x real time)\n", path, nt.n,
           dw_plural(nt.n, "epoch", "epochs"), nt.n / 120.0,
           dw_model_name(model), secs, secs > 0 ? nt.n * 30.0 / secs : 0);
    struct ref_result ref;
    if (compare_reference(ref_path, in->ours ? NULL : path, in->start_epoch, &nt, &ref) < 0)
        rc = 1;
    struct report rep = { .nt = &nt, .in = in, .model = model, .ref = &ref };

    char csv[DW_PATH_MAX + 8], edf[DW_PATH_MAX + 8], sum[DW_PATH_MAX + 16], tsv[DW_PATH_MAX + 16];
    snprintf(csv, sizeof csv, "%s.csv", prefix);
    snprintf(edf, sizeof edf, "%s.edf", prefix);
    snprintf(sum, sizeof sum, "%s.summary.txt", prefix);
    snprintf(tsv, sizeof tsv, "%s_events.tsv", prefix);
    int w = write_csv(csv, &nt, force, &err);
    w = w < 0 ? w : write_edf_hypnogram(edf, &nt, in->start_epoch, force, &err);
    w = w < 0 ? w : write_summary(sum, &rep, path, force, &err);
    w = w < 0 ? w : write_events(tsv, &nt, force, &err);
    if (w < 0) {
        fprintf(stderr, "dreamwatch score: %s\n", err.msg);
        rc = w == DW_OUT_TAKEN ? 2 : 1;   /* taken while we worked: as if there at the start */
    } else {                               /* no whole epoch: empty hypnogram files, said */
        printf("  hypnogram: %s, %s%s; summary: %s; events: %s\n", csv, edf,
               nt.n ? "" : " (empty: no whole epoch)", sum, tsv);
    }
    night_report(stdout, &rep, 0);
    ref_result_free(&ref);
    free(nt.stage);
    free(nt.prob);
    free(nt.micro);
    free(nt.ev);
    dw_bids_events_free(nt.events);
    dw_pipeline_free(pl);
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
    dw_err err = { 0 };
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
            bad = i < nfiles + nrefs ? 1 : 2;      /* a recording or reference: input; --model: usage */
        } else {
            close(fd);
        }
    }
    if (bad)
        return bad;
    char (*outs)[DW_PATH_MAX] = calloc((size_t)nfiles, sizeof *outs);
    if (!outs) {
        fprintf(stderr, "dreamwatch score: out of memory\n");
        return 1;
    }
    /* --out naming a folder (an existing one, or any path ending in /): each night's outputs go into it
     * under the night's own name, as without --out (were written as hidden files DIR/.csv ...) */
    struct stat dst;
    size_t pl = prefix ? strlen(prefix) : 0;
    int into_dir = pl > 0 && (prefix[pl - 1] == '/' || (stat(prefix, &dst) == 0 && S_ISDIR(dst.st_mode)));
    for (int i = 0; i < nfiles; i++) {
        const char *path = argv[optind + i];
        char base[512];
        basename_noext(path, base, sizeof base);
        if (!prefix)
            snprintf(outs[i], DW_PATH_MAX, "%s.hypnogram", base);
        else if (into_dir)
            snprintf(outs[i], DW_PATH_MAX, "%s%s%s.hypnogram", prefix, prefix[pl - 1] == '/' ? "" : "/", base);
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
        static const char *const ext[] = { ".csv", ".edf", ".summary.txt", "_events.tsv" };
        for (int k = 0; k < 4; k++) {
            char o[DW_PATH_MAX + 16];
            snprintf(o, sizeof o, "%s%s", outs[i], ext[k]);
            if (dw_out_check(o, force, &err) < 0) {
                fprintf(stderr, "dreamwatch score: %s\n", err.msg);
                free(outs);
                return 2;
            }
        }
    }
    int rc = 0;
    for (int i = 0; i < nfiles; i++) {          /* the gravest status (not OR: 1 | 2 is 3) */
        int r = score_one(argv[optind + i], i < nrefs ? refs[i] : NULL, outs[i], &cfg, force);
        rc = r > rc ? r : rc;
    }
    free(outs);
    return rc;
}
