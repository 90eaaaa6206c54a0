/* The worker thread: read the source (paced for a replay), stage each epoch, publish to the monitor,
 * obey the operator's commands. It never waits for the screen: what changed during a loop (frames for the
 * traces, finished epochs, the quality flags, the provisional label, events, time and data-path figures)
 * is gathered in `pending` and copied into the monitor once per loop, under one lock (publish()). */
#include "app/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dsp/biquad.h"
#include "sources/arrivals.h"
#include "session/night_check.h"
#include "sources/cyton.h"
#include "base/files.h"
#include "staging/hypnogram.h"
#include "record/recorder.h"
#include "base/paths.h"
#include "staging/pipeline.h"
#include "session/session.h"

#define CHUNK_S 0.1            /* paced replay reads this much source time at a time */
#define FAST_CHUNK 3000        /* frames per read when replaying as fast as possible */
#define NOTIFY_S 0.05          /* wake the screen at most this often at high speed */
#define LIVE_BATCH_S 0.04      /* live: read on this schedule while a stimulus may go out (dw_live_grid) */
#define LIVE_CALM_S 0.1        /* live: and on this one when none can and no fast screen waits */
#define LIVE_MIN_WAIT_S 0.004  /* live: never wait less than a Cyton packet's 4 ms (see live_wait) */
#define DATAPATH_S   0.1       /* data-path figures to the session's alerts this often */

struct dw_worker {
    const dw_config *cfg;
    dw_monitor *mon;
    dw_source *src;
    dw_model *own_model;
    dw_pipeline *pipeline;                /* quality, resampling, epochs: the one staging path */
    dw_recorder *rec;                     /* live sessions only */
    int rec_failed;                       /* the recorder reported an error not yet cleared */
    long src_frames, src_lost, src_gaps;  /* the data path as the source delivered it (summary) */
    int  src_more;                        /* the last block said more frames are queued (dw_block.more) */
    long src_pauses, src_paused;          /* deliberate pauses (impedance check) and their frames */
    char failed[1024];                    /* what failed at the end, a line each */
    dw_session *session;
    char prefix[DW_PATH_MAX];             /* recording dir + session name: .bdf, .session.tsv, .summary.txt */
    dw_outputs outputs;                   /* every file the night created (for the exit lines) */
    char stop_cause[64];
    pthread_t thread;
    int started;
    int status;
    int finished_stream;                  /* the pipeline was told the replay ended */

    /* pacing */
    double speed;
    int paused;
    double pace_wall0, pace_t0;           /* wall clock and source time when pacing last restarted */
    double t;                             /* source time of the next frame */
    long long frames;                     /* source frames so far (gaps included) */
    double next_prov_t;
    double last_notify;
    double next_read;                     /* live: when the next batch is due (monotonic clock) */
    double rate, rate_mono, rate_t;       /* live: source s per monotonic s, and where it was measured */
    double next_datapath;                 /* wall clock of the next data-path update */
    int stop;
    int ended;                            /* a replay reached its end */

    signed char *hyp;                     /* our hypnogram, for the summary (the monitor is the screen's) */
    int nhyp;
    dw_epoch_tally why;                   /* why epochs were unscored or staged on one channel, as `score`
                                             counts them: each epoch once, at its first staging */
    int tallied;                          /* epochs counted in why */
    struct staged_on {                    /* what the night is staged on, kept at the start for the summary
                                             (the source is closed before it is written) */
        char label[2][DW_LABEL_LEN], how[128], model[64], stand_in[64];
        int role[2];                      /* the slot holds a channel */
        int used[2];                      /* ... that the model reads (a one-channel model: no parietal) */
    } staged;

    struct pending {                      /* changes not yet in the monitor */
        float (*trace)[DW_MAX_CH];        /* the newest frames at DW_FS, ring of DW_TRACE_N */
        long ntrace;                      /* frames added since the last publish */
        struct pend_epoch { int epoch, stage; double prob[DW_NSTAGES]; float spec[DW_SPEC_BINS]; } *ep;
        int nep, capep;
        unsigned char flags[DW_MAX_CH];
        int have_flags;
        int have_prov, prov_stage;
        float prov_prob[DW_NSTAGES];
        int seek;                         /* a seek happened: drop epochs from keep_epochs, restart traces */
        int keep_epochs;
        char event[128];
        int have_event;
        int controls;                     /* speed / pause changed */
        unsigned long bells;              /* rings asked for by the session */
        char check_report[2048];          /* the pre-night check's instruction or table */
        int check_running, have_check;
    } pend;

    dw_night_check *check;                /* the pre-night check in progress (live), NULL none */
    int check_phase, check_ch;

    dw_arrivals arrivals;                 /* live: frames against the wall clock (loss, NO DATA) */

    /* the traces' display filter ([display] highpass_hz, lowpass_hz): the trace ring only */
    dw_cascade disp[DW_MAX_CH];
    unsigned disp_primed;                 /* bit c 0: settle every channel on its next frame */
};

/* The display filter and its name for the pane title. The trace ring runs at DW_FS = 100 Hz after the
 * pipeline's anti-aliasing filter (>= 70 dB down from 50 Hz), so mains at 50 or 60 Hz never reaches it and
 * needs no notch here; 0.3-35 Hz is the AASM manual's EEG filter setting. */
static void display_filter_init(dw_worker *w)
{
    const dw_display_cfg *d = &w->cfg->display;
    dw_cascade c = { 0 };
    int hp = d->highpass_hz > 0 && dw_cascade_butter(&c, DW_BQ_HIGHPASS, 2, d->highpass_hz, DW_FS) == 0;
    int lp = d->lowpass_hz > 0 && dw_cascade_butter(&c, DW_BQ_LOWPASS, 2, d->lowpass_hz, DW_FS) == 0;
    for (int ch = 0; ch < DW_MAX_CH; ch++)
        w->disp[ch] = c;
    w->disp_primed = 0;
    char *t = w->mon->trace_filter;
    size_t n = sizeof w->mon->trace_filter;
    if (hp && lp) snprintf(t, n, "%g-%g Hz", d->highpass_hz, d->lowpass_hz);
    else if (hp) snprintf(t, n, "> %g Hz", d->highpass_hz);
    else if (lp) snprintf(t, n, "< %g Hz", d->lowpass_hz);
    else snprintf(t, n, "raw");
}

static void publish_source(dw_worker *w)
{
    dw_monitor *m = w->mon;
    const dw_source_info *in = &w->src->info;
    pthread_mutex_lock(&m->lock);
    const char *base = strrchr(w->src->path, '/');
    snprintf(m->source_desc, sizeof m->source_desc, "%s %s",
             in->device[0] ? in->device : w->src->ops->kind, base ? base + 1 : w->src->path);
    m->live = in->live;
    m->nch = in->nch;
    memcpy(m->label, in->label, sizeof m->label);
    m->fs_source = in->fs;
    m->duration_s = in->duration_s;
    m->start_wall = in->start_epoch;
    m->frontal = in->frontal;
    m->parietal = in->parietal;
    m->speed = w->speed;
    m->paused = w->paused;
    snprintf(m->model_name, sizeof m->model_name, "%s", dw_model_name(dw_pipeline_model(w->pipeline)));
    if (in->note[0])                    /* every line names the file */
        snprintf(m->source_note, sizeof m->source_note, "%s", in->note);
    if (!in->live && strcmp(w->cfg->board, "auto")) {   /* [input] board is for a live board */
        size_t l = strlen(m->source_note);
        snprintf(m->source_note + l, sizeof m->source_note - l, "%sboard %s ignored: it applies to a live "
                 "board (--serial); this replay has the file's %d channels", l ? "; " : "", w->cfg->board,
                 in->nch);
    }
    if (m->source_note[0])                /* the first line: "x.edf: truncated: 40 of 60 ..." */
        snprintf(m->last_event, sizeof m->last_event, "%.*s", (int)strcspn(m->source_note, "\n"),
                 m->source_note);
    char roles[200];
    dw_montage_roles_line(in->frontal >= 0 ? in->label[in->frontal] : NULL,
                          in->parietal >= 0 ? in->label[in->parietal] : NULL, roles, sizeof roles);
    snprintf(m->staging_desc, sizeof m->staging_desc, "%s (%s), model %s", roles, in->roles_how,
             dw_model_name(dw_pipeline_model(w->pipeline)));
    {                                   /* for the summary's lines, filled as cmd_score.c fills them */
        const dw_model *model = dw_pipeline_model(w->pipeline), *stand_in = dw_model_builtin_for(1, in->fs);
        int fr = in->frontal >= 0 && in->frontal < in->nch ? in->frontal : -1;
        int pa = in->parietal >= 0 && in->parietal < in->nch ? in->parietal : -1;
        struct staged_on *k = &w->staged;
        k->role[0] = k->used[0] = fr >= 0;
        k->role[1] = pa >= 0;
        k->used[1] = pa >= 0 && dw_model_channels(model) == 2;
        snprintf(k->label[0], sizeof k->label[0], "%s", fr >= 0 ? in->label[fr] : "");
        snprintf(k->label[1], sizeof k->label[1], "%s", pa >= 0 ? in->label[pa] : "");
        snprintf(k->how, sizeof k->how, "%s", in->roles_how);
        snprintf(k->model, sizeof k->model, "%s", dw_model_name(model));
        snprintf(k->stand_in, sizeof k->stand_in, "%s", stand_in ? dw_model_name(stand_in) : "");
    }
    if (w->cfg->lights_off[0] && in->start_epoch > 0) {
        int hh, mm;
        if (sscanf(w->cfg->lights_off, "%d:%d", &hh, &mm) == 2) {
            time_t st = (time_t)in->start_epoch;
            struct tm tm;
            localtime_r(&st, &tm);
            double d = (hh * 3600 + mm * 60) - (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
            if (d < -12 * 3600) d += 24 * 3600;
            m->lights_off_t = d > 0 ? d : 0;
        }
    }
    display_filter_init(w);
    m->v_status++;
    m->v_trace++;
    pthread_mutex_unlock(&m->lock);
}

static int load_reference(dw_worker *w, dw_err *err)
{
    if (!w->cfg->reference[0])
        return 0;
    dw_hypnogram h;
    if (dw_hypnogram_load(w->cfg->reference, &h, err) < 0)
        return -1;
    /* laid on the recording by the two clocks (a live source: as far as the reference reaches) */
    const dw_source_info *in = &w->src->info;
    signed char *st;
    int n;
    dw_ref_alignment al;
    int rc = dw_hypnogram_align(&h, in->start_epoch, in->live ? 0 : (int)ceil(in->duration_s / DW_EPOCH_S), &st,
                                &n, &al, err);
    dw_hypnogram_free(&h);
    if (rc < 0)
        return -1;
    pthread_mutex_lock(&w->mon->lock);
    w->mon->ref_stage = st;
    w->mon->n_ref = n;
    if (al.by_clock && (al.offset_s != 0 || al.before || al.after))
        snprintf(w->mon->last_event, sizeof w->mon->last_event, "reference %+.0f s from the recording, %d "
                 "epochs outside it", al.offset_s, al.before + al.after);
    w->mon->v_hypno++;
    pthread_mutex_unlock(&w->mon->lock);
    return 0;
}

static int open_recording(dw_worker *w, dw_err *err)
{
    char dir[DW_PATH_MAX];
    dw_path_recordings(w->cfg->rec_dir, dir, sizeof dir);
    w->rec = dw_recorder_open(dir, w->cfg->subject, &w->src->info, 1, err);
    if (!w->rec)
        return -1;
    dw_recorder_list_outputs(w->rec, &w->outputs);
    const char *p = dw_recorder_path(w->rec);
    size_t len = strlen(p);
    snprintf(w->prefix, sizeof w->prefix, "%.*s", (int)(len > 4 ? len - 4 : len), p);   /* minus ".bdf" */
    pthread_mutex_lock(&w->mon->lock);
    snprintf(w->mon->rec_path, sizeof w->mon->rec_path, "%s", p);
    w->mon->rec_files = 1;
    pthread_mutex_unlock(&w->mon->lock);
    return 0;
}

/* Session log and summary beside the recording; for a replay, in the recordings directory under the
 * replayed file's name. */
static int session_prefix(dw_worker *w, dw_err *err)
{
    if (w->prefix[0])
        return 0;
    char dir[DW_PATH_MAX];
    dw_path_recordings(w->cfg->rec_dir, dir, sizeof dir);
    if (dw_mkdirs(dir, err) < 0)
        return -1;
    const char *base = strrchr(w->src->path, '/');
    base = base ? base + 1 : w->src->path;
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(w->prefix, sizeof w->prefix, "%s/%s-%.*s-%s", dir, w->mon->live ? "live" : "replay",
             (int)(strchr(base, '.') ? strchr(base, '.') - base : (long)strlen(base)), base, stamp);
    return 0;
}

/* An event in the recording (and its side log). */
static void annotate(dw_worker *w, double t, double dur, const char *text)
{
    if (w->rec && dw_recorder_annotate(w->rec, t, dur, text) < 0)
        w->rec_failed = 1;
}

static void session_annotate(void *ctx, double t, double dur, const char *text)
{
    annotate(ctx, t, dur, text);
}

/* The screen thread owns the terminal: ask it to ring (with the next publish, which is at once). */
static void session_bell(void *ctx)
{
    dw_worker *w = ctx;
    w->pend.bells++;
}

static int open_session(dw_worker *w, dw_err *err)
{
    if (session_prefix(w, err) < 0)
        return -1;
    char log[DW_PATH_MAX + 16];
    dw_session_log *l = dw_session_log_create(w->prefix, log, sizeof log, err);
    if (!l)
        return -1;
    dw_outputs_add(&w->outputs, "session log", log);
    size_t len = strlen(log) - strlen(".session.tsv");     /* the prefix the log got: stem or stem-N */
    snprintf(w->prefix, sizeof w->prefix, "%.*s", (int)len, log);
    pthread_mutex_lock(&w->mon->lock);
    snprintf(w->mon->log_path, sizeof w->mon->log_path, "%s", log);
    snprintf(w->mon->summary_path, sizeof w->mon->summary_path, "%s.summary.txt", w->prefix);
    pthread_mutex_unlock(&w->mon->lock);
    dw_session_hooks hooks = { .annotate = session_annotate, .bell = session_bell, .ctx = w,
                               .log = l, .prefix = w->prefix, .outputs = &w->outputs };
    w->session = dw_session_new(&w->cfg->session, &hooks, err);
    if (!w->session)
        return -1;
    dw_session_set_clock(w->session, w->src->info.start_epoch, w->mon->lights_off_t);
    dw_session_set_source(w->session, w->src->info.live, !w->cfg->headless);
    return 0;
}

/* The pipeline's outputs: epochs to the monitor, the session and the recording; every second's quality
 * verdict to the session (alerts, stimulation safety) and the screen's channel flags; frames at DW_FS to
 * the trace ring. */
static void on_epoch(void *ctx, const dw_epoch_result *r);
static void on_quality(void *ctx, const dw_quality_second *q);
static void on_frames(void *ctx, const double *x, int n, int nch);

static int open_pipeline(dw_worker *w, dw_err *err)
{
    dw_pipeline_opts po = { .model = w->own_model, .display = 1,
                            .quality = dw_quality_settings(&w->cfg->session) };
    dw_pipeline_sink sink = { on_epoch, on_quality, on_frames, w };
    dw_err e = { 0 };
    if (!(w->pipeline = dw_pipeline_new(&w->src->info, &po, &sink, &e))) {
        dw_err_set(err, "%s: %s", w->src->path, e.msg);
        return -1;
    }
    return 0;
}

dw_worker *dw_worker_new(const dw_config *cfg, dw_monitor *mon, dw_err *err)
{
    dw_worker *w = calloc(1, sizeof *w);
    if (!w) {
        dw_err_set(err, "out of memory");
        return NULL;
    }
    w->cfg = cfg;
    w->mon = mon;
    if (!(w->pend.trace = calloc(DW_TRACE_N, sizeof *w->pend.trace))) {
        dw_err_set(err, "out of memory");
        free(w);
        return NULL;
    }
    w->speed = cfg->replay_speed;
    w->paused = cfg->start_paused;
    /* --model first: a file that cannot be used is refused before the board's handshake */
    if (cfg->model[0] && !(w->own_model = dw_model_load(cfg->model, err))) {
        dw_worker_free(w);
        return NULL;
    }
    char path[DW_PATH_MAX];
    const char *file = cfg->file;
    if (cfg->serial[0]) {
        w->src = dw_cyton_open(cfg->serial, cfg->board, &cfg->chans, mon->cancel_fd, err);
    } else if (!file[0]) {
        if (dw_find_data("sample-data/sample-night.edf", path, sizeof path) < 0) {
            dw_err_set(err, "no input given and the sample night (sample-data/sample-night.edf) was not found; "
                            "run `make` or give a file");
            dw_worker_free(w);
            return NULL;
        }
        file = path;
    }
    if (!cfg->serial[0])
        w->src = dw_source_open_file(file, &cfg->chans, err);
    if (!w->src || open_pipeline(w, err) < 0 || load_reference(w, err) < 0) {
        dw_worker_free(w);
        return NULL;
    }
    const dw_source_info *in = &w->src->info;
    if (in->live && cfg->rec_enabled && open_recording(w, err) < 0) {
        dw_worker_free(w);
        return NULL;
    }
    dw_arrivals_init(&w->arrivals, in->fs, dw_now_wall());
    publish_source(w);
    if (open_session(w, err) < 0) {
        dw_worker_free(w);
        return NULL;
    }
    return w;
}

static void on_epoch(void *ctx, const dw_epoch_result *r)
{
    dw_worker *w = ctx;
    struct pending *p = &w->pend;
    if (p->nep == p->capep) {
        p->capep = p->capep ? 2 * p->capep : 16;
        p->ep = dw_xrealloc(p->ep, (size_t)p->capep * sizeof *p->ep, "epochs to publish");
    }
    struct pend_epoch *e = &p->ep[p->nep++];
    e->epoch = r->epoch;
    e->stage = r->stage;
    memcpy(e->prob, r->prob, sizeof e->prob);
    for (int k = 0; k < DW_SPEC_BINS; k++)
        e->spec[k] = r->valid ? (float)log10(r->psd[DW_SPEC_BIN0 + k] + 1e-6) : 0.0f;
    p->have_prov = 1;                    /* a new epoch starts with no provisional label */
    p->prov_stage = DW_UNSCORED;
    memset(p->prov_prob, 0, sizeof p->prov_prob);
    if (r->epoch >= w->nhyp) {
        int n = r->epoch + 1;
        w->hyp = dw_xrealloc(w->hyp, (size_t)n, "the hypnogram");
        memset(w->hyp + w->nhyp, DW_UNSCORED, (size_t)(n - w->nhyp));
        w->nhyp = n;
    }
    w->hyp[r->epoch] = (signed char)r->stage;
    if (r->epoch >= w->tallied) {           /* a seek back restages epochs: the first pass counts */
        dw_epoch_tally_missing(&w->why, r->epoch - w->tallied);   /* skipped by a seek: as `score` */
        dw_epoch_tally_add(&w->why, r);
        w->tallied = r->epoch + 1;
    }
    dw_session_epoch(w->session, r->epoch, r->stage, r->valid ? r->prob : NULL);
    if (r->valid)
        dw_session_unlike_training(w->session, r->epoch, r->unlike_training);
    if (w->rec) {
        char text[48];
        snprintf(text, sizeof text, "Sleep stage %s", dw_stage_name(r->stage));
        annotate(w, (double)r->epoch * DW_EPOCH_S, DW_EPOCH_S, text);
    }
}

static void on_quality(void *ctx, const dw_quality_second *q)
{
    dw_worker *w = ctx;
    if (w->check)
        dw_check_quality(w->check, q);
    dw_session_quality(w->session, q, &w->src->info, dw_now_wall());
    memcpy(w->pend.flags, q->flag, (size_t)q->nch);
    w->pend.have_flags = 1;
}

/* Frames at DW_FS through the display filter for the trace pane (the raw signal goes to the stager and the
 * recording). A non-finite sample passes as it is and the channel's filter starts again, settled, at the
 * next finite one. */
static void on_frames(void *ctx, const double *x, int n, int nch)
{
    dw_worker *w = ctx;
    struct pending *p = &w->pend;
    double col[256], y[256];
    for (int c = 0; c < nch && c < DW_MAX_CH; c++) {
        unsigned bit = 1u << c;
        for (int i0 = 0; i0 < n;) {
            double v = x[(size_t)i0 * nch + c];
            if (!isfinite(v)) {
                w->disp_primed &= ~bit;
                p->trace[(p->ntrace + i0) % DW_TRACE_N][c] = (float)v;
                i0++;
                continue;
            }
            if (!(w->disp_primed & bit)) {
                dw_cascade_settle(&w->disp[c], v);
                w->disp_primed |= bit;
            }
            int m = 0;  /* the finite run from i0 through the filter as a block: the same bits, a third of the cost */
            while (i0 + m < n && m < 256 && isfinite(v = x[(size_t)(i0 + m) * nch + c]))
                col[m++] = v;
            dw_cascade_run(&w->disp[c], col, y, (size_t)m);
            for (int k = 0; k < m; k++)
                p->trace[(p->ntrace + i0 + k) % DW_TRACE_N][c] = (float)y[k];
            i0 += m;
        }
    }
    p->ntrace += n;
}

static void provisional(dw_worker *w)
{
    if (w->t < w->next_prov_t)
        return;
    w->next_prov_t = w->t + w->cfg->provisional_s;
    double p[DW_NSTAGES];
    int st = DW_UNSCORED;
    int have = dw_pipeline_provisional(w->pipeline, p, &st);
    dw_session_provisional_p(w->session, have ? st : DW_UNSCORED, have ? p : NULL);
    w->pend.have_prov = 1;
    w->pend.prov_stage = have ? st : DW_UNSCORED;    /* never shown over unusable signal */
    for (int k = 0; k < DW_NSTAGES; k++)
        w->pend.prov_prob[k] = have ? (float)p[k] : 0.0f;
}

static void restart_pacing(dw_worker *w)
{
    w->pace_wall0 = dw_now_mono();
    w->pace_t0 = w->t;
}

__attribute__((format(printf, 2, 3)))
static void set_event(dw_worker *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->pend.event, sizeof w->pend.event, fmt, ap);
    va_end(ap);
    w->pend.have_event = 1;
}

static void seek(dw_worker *w, double delta)
{
    if (!w->src->ops->seek)
        return;
    double target = w->t + delta;
    double dur = w->src->info.duration_s, fs = w->src->info.fs;
    if (target < 0) target = 0;
    if (dur > 0 && target > dur) target = dur;
    target = floor(target * DW_FS) / DW_FS;
    if (w->src->ops->seek(w->src, target) < 0) {
        set_event(w, "seek failed: %s", w->src->err.msg);
        return;
    }
    w->frames = llround(target * fs);
    w->t = target;
    w->finished_stream = 0;
    w->ended = 0;
    dw_pipeline_reposition(w->pipeline, target);
    int keep = (int)(llround(target * DW_FS) / DW_EPOCH_N);
    struct pending *p = &w->pend;
    p->seek = 1;                          /* a backward seek re-stages from there */
    p->keep_epochs = keep;
    p->nep = 0;
    p->ntrace = 0;
    p->have_prov = 1;
    p->prov_stage = DW_UNSCORED;
    pthread_mutex_lock(&w->mon->lock);          /* what the summary and the exit line will say */
    w->mon->seeks++;
    if (keep > w->nhyp)
        w->mon->seek_skipped += keep - w->nhyp;
    else
        w->mon->seek_restaged += w->nhyp - keep;
    pthread_mutex_unlock(&w->mon->lock);
    if (w->nhyp > keep)
        w->nhyp = keep;
    dw_session_seek(w->session, keep);    /* its densities and detections: the epochs kept */
    long tt = (long)target;
    set_event(w, "seek to %ld:%02ld:%02ld of the recording", tt / 3600, tt / 60 % 60, tt % 60);
    w->disp_primed = 0;                 /* the filter starts again, settled, with the new stream */
    w->next_prov_t = 0;
    restart_pacing(w);
}

/* ---- the pre-night check (k in the monitor): the phases on the stream as it comes, then one
 * channel's impedance per pass of the loop (each stops the stream about 2 s: a marked gap in the
 * recording), then the results in the recording, the session log and the screen ---- */

static void check_say(dw_worker *w, const char *text, int running)
{
    snprintf(w->pend.check_report, sizeof w->pend.check_report, "%s", text);
    w->pend.check_running = running;
    w->pend.have_check = 1;
    w->pend.controls = 1;                  /* publish it now */
}

static void check_start(dw_worker *w)
{
    dw_err err = { 0 };
    if (!w->src->info.live || w->check) {
        set_event(w, "pre-night check: %s",
                  w->check ? "already running" : "needs a live board (--serial)");
        return;
    }
    w->check = dw_check_new(&w->cfg->check, &w->src->info, w->cfg->session.al_mains_ratio, &err);
    if (!w->check) {
        set_event(w, "pre-night check: %s", err.msg);
        return;
    }
    w->check_phase = -1;
    w->check_ch = 0;
    dw_session_note(w->session, w->t, "check", 1, "Pre-night check started");
    dw_session_check(w->session, w->t, 1);
}

static void check_step(dw_worker *w, const dw_block *b)
{
    if (!w->check)
        return;
    int ph = b ? dw_check_block(w->check, b) : dw_check_phase(w->check);
    if (ph != w->check_phase) {
        char text[160];
        w->check_phase = ph;
        snprintf(text, sizeof text, "Check: %s", dw_check_prompt(ph));
        dw_session_note(w->session, w->t, "check", 1, text);
        check_say(w, text, 1);
    }
    if (ph != DW_CHECK_IMPEDANCE || b)
        return;
    if (w->check_ch < w->src->info.nch) {
        double kohm = 0;
        int board = dw_cyton_board_channel(w->src, w->check_ch);
        double wall0 = dw_now_wall();
        int ok = board > 0 && dw_cyton_impedance(w->src, board, &kohm) == 0;
        dw_arrivals_pause(&w->arrivals, wall0, dw_now_wall());    /* stopped on purpose: no loss */
        dw_check_impedance(w->check, w->check_ch++, kohm, ok);
        return;
    }
    dw_check_finish(w->check);
    char report[2048], lines[DW_MAX_CH + 4][160];
    dw_check_report(w->check, report, sizeof report);
    int n = dw_check_lines(w->check, lines, DW_MAX_CH + 4);
    for (int i = 0; i < n; i++)
        dw_session_note(w->session, w->t, "check", 1, lines[i]);
    check_say(w, report, 0);
    dw_check_free(w->check);
    w->check = NULL;
    dw_session_check(w->session, w->t, 0);
}

static void handle_command(dw_worker *w, const dw_cmd *c)
{
    switch (c->kind) {
    case DW_CMD_PAUSE:
        w->paused = !w->paused;
        restart_pacing(w);
        break;
    case DW_CMD_SPEED:
        w->speed = c->arg < 0 ? 0 : c->arg;
        restart_pacing(w);
        break;
    case DW_CMD_SEEK:
        seek(w, c->arg);
        break;
    case DW_CMD_SHUTDOWN:
        snprintf(w->stop_cause, sizeof w->stop_cause, "%s", c->text[0] ? c->text : "operator");
        w->stop = 1;
        break;
    case DW_CMD_CHECK:
        check_start(w);
        break;
    case DW_CMD_MARKER:
        set_event(w, "marker: %s", c->text);
        break;
    default:
        break;
    }
    if (dw_session_command(w->session, c, w->t))
        w->stop = 1;
    w->pend.controls = 1;
}

/* The queue is looked at every loop; its wake-up pipe is emptied by wait_for when it woke us, and
 * here only when there were commands (not one read per loop that finds it empty). */
static void drain_commands(dw_worker *w)
{
    dw_cmd c;
    int any = 0;
    while (dw_monitor_take(w->mon, &c))
        handle_command(w, &c), any = 1;
    if (any)
        dw_monitor_drain(w->mon->cmd_fd[0]);
}

/* Sleep until the source time due or a command arrives. */
static void wait_for(dw_worker *w, double seconds)
{
    struct pollfd p = { .fd = w->mon->cmd_fd[0], .events = POLLIN };
    int ms = seconds > 0.1 ? 100 : (int)ceil(seconds * 1000);   /* session timers run at >= 10 Hz */
    if (ms > 0 && poll(&p, 1, ms) > 0)
        dw_monitor_drain(w->mon->cmd_fd[0]);
}

/* Live: source seconds a monotonic second, measured over a second or more (1 from a board; the
 * emulator's --speed in tests). A stalled or jumping stream (a gap, a reconnection) keeps the last
 * figure: it only decides when live_wait wakes early, never what is read. */
static void live_rate(dw_worker *w, double now)
{
    if (w->rate <= 0)
        w->rate = 1, w->rate_mono = now, w->rate_t = w->t;
    if (now - w->rate_mono < 1)
        return;
    double r = (w->t - w->rate_t) / (now - w->rate_mono);
    if (r > 0.25 && r < 64)
        w->rate = r;
    w->rate_mono = now;
    w->rate_t = w->t;
}

/* Live: the board sends a packet every 4 ms; reading on a fixed grid takes them ten (40 ms) or 25 (100 ms)
 * at a time (dw_live_grid: 40 ms while a stimulus may go out or a fast screen draws); a wake-up costs about
 * 45 us of a core on a VM whatever it does, measured: a bare poll-and-read loop at 20 ms takes 0.22 % of a
 * core, at 40 ms 0.10 %; `record` itself, 16 ch: 102 us a wake-up, 0.26 % at 40 ms). The grid is a deadline
 * schedule, not "40 ms after this batch" (waiting by the size of the last batch made batches alternate,
 * twice the wake-ups); behind schedule (a long epoch), it reads again at once. Two moments are not left
 * to the grid: the sample a pending closed-loop stimulus is due at (the session delivers it when that
 * sample is read: waking for it keeps the delivery within a packet or two of its time instead of up to
 * 40 ms late, 14 degrees of a 1-Hz slow oscillation) and the sample that completes the epoch in
 * progress (its stage is on screen at once: issue 16's 50 ms). Their arrival is predicted from the
 * stream's measured rate; a wrong guess costs an early wake-up or, at worst, one grid step. */
static void live_wait(dw_worker *w)
{
    double now = dw_now_mono();
    live_rate(w, now);
    double grid = dw_live_grid(dw_session_mode(w->session), !w->cfg->headless, w->cfg->display.fps, w->rate);
    if (w->next_read <= now)
        w->next_read += grid;
    if (w->next_read < now || w->next_read > now + grid)
        w->next_read = w->next_read < now ? now : now + grid;
    double until = dw_live_wake(now, w->next_read, w->t, dw_pipeline_time(w->pipeline),
                                dw_session_next_due(w->session), w->rate);
    wait_for(w, until - now);
}

double dw_live_grid(int mode, int screen, double fps, double rate)
{
    double grid = mode == DW_MODE_ENHANCED || mode == DW_MODE_WAKING || (screen && fps > 12.5)
                ? LIVE_BATCH_S : LIVE_CALM_S;
    if (rate > 1)
        grid = fmax(LIVE_BATCH_S, grid / rate);
    return grid;
}

double dw_live_wake(double now, double next_read, double t, double staged, double due, double rate)
{
    double epoch_done = (floor(staged / DW_EPOCH_S) + 1) * DW_EPOCH_S + (t - staged);
    double soon = fmin(due, epoch_done);
    return fmin(next_read, fmax(now + (soon - t) / rate, now + LIVE_MIN_WAIT_S));
}

/* How often the screen is sent new data: every NOTIFY_S, or once a frame when [display] fps asks for
 * more (less a quarter of a frame, so that reads on the live 40-ms grid, a few ms early or late, each
 * go out: at --fps 25 and 30 every one of a live board's 25 reads a second, the sweep's finest step). */
static double notify_every(const dw_worker *w)
{
    double fps = w->cfg->display.fps;
    return fps > 0 && 0.75 / fps < NOTIFY_S ? 0.75 / fps : NOTIFY_S;
}

/* Everything pending into the monitor under one lock; the screen is woken at once when an epoch finished
 * (so its stage shows without waiting for a frame), else at most every notify_every() unless forced. */
static void publish(dw_worker *w, int force)
{
    struct pending *p = &w->pend;
    double now = dw_now_mono();
    int urgent = force || p->nep > 0 || p->seek || p->have_event || p->controls || p->bells;
    if (!urgent && now - w->last_notify < notify_every(w) && p->ntrace < DW_TRACE_N / 2)
        return;
    w->last_notify = now;
    dw_source_stats cs;
    int live = dw_source_stats_get(w->src, &cs) == 0;
    dw_monitor *m = w->mon;
    pthread_mutex_lock(&m->lock);
    if (p->seek) {
        if (m->n_epochs > p->keep_epochs)
            m->n_epochs = p->keep_epochs;
        m->trace_total = 0;
        m->source_ended = 0;
        m->v_hypno++;
        m->v_trace++;
    }
    for (int i = 0; i < p->nep; i++) {
        while (m->n_epochs < p->ep[i].epoch)       /* epochs skipped by a seek stay unscored */
            dw_monitor_add_epoch(m, DW_UNSCORED, NULL, NULL);
        dw_monitor_add_epoch(m, p->ep[i].stage, p->ep[i].prob, p->ep[i].spec);
    }
    if (p->nep)
        m->v_hypno++;
    long keep = p->ntrace < DW_TRACE_N ? p->ntrace : DW_TRACE_N;
    for (long i = p->ntrace - keep; i < p->ntrace; i++)
        memcpy(m->trace[(m->trace_total + i) % DW_TRACE_N], p->trace[i % DW_TRACE_N], sizeof p->trace[0]);
    m->trace_total += p->ntrace;
    if (p->ntrace)
        m->v_trace++;
    if (p->have_flags)
        memcpy(m->chflags, p->flags, sizeof m->chflags);
    if (p->have_prov) {
        m->prov_stage = p->prov_stage;
        memcpy(m->prov_prob, p->prov_prob, sizeof m->prov_prob);
        m->v_hypno++;
    }
    m->source_ended = w->ended;
    m->bells += p->bells;
    m->speed = w->speed;
    m->paused = w->paused;
    m->t_source = w->t;
    if (w->rec) {
        m->rec_bytes = dw_recorder_bytes(w->rec);
        m->rec_failed = w->rec_failed;
        if (dw_recorder_files(w->rec) != m->rec_files) {      /* resumed in a new file */
            m->rec_files = dw_recorder_files(w->rec);
            snprintf(m->rec_path, sizeof m->rec_path, "%s", dw_recorder_path(w->rec));
        }
    }
    if (live) {
        double wall = dw_now_wall();
        dw_arrivals_loss(&w->arrivals, wall, &m->loss_pct_recent, &m->loss_pct_night);
        m->no_data_since = dw_arrivals_silent_since(&w->arrivals, wall, DW_NO_DATA_S);
        m->lost_samples = cs.lost_samples;
        m->reconnects = cs.reconnects;
    }
    dw_monitor_publish_session(m, w->session);
    if (p->have_event)                     /* after the session's own last event: ours is newer */
        snprintf(m->last_event, sizeof m->last_event, "%s", p->event);
    if (p->have_check) {
        snprintf(m->check_report, sizeof m->check_report, "%s", p->check_report);
        m->check_running = p->check_running;
    }
    if (w->src && !w->paused)
        m->lag_s = w->src->info.live ? 0
                 : w->speed > 0 ? fmax(0, w->pace_t0 + (now - w->pace_wall0) * w->speed - w->t) / w->speed : 0;
    m->v_status++;
    pthread_mutex_unlock(&m->lock);
    dw_monitor_notify(m);
    p->nep = 0;
    p->ntrace = 0;
    p->have_flags = p->have_prov = p->seek = p->have_event = p->controls = p->have_check = 0;
    p->bells = 0;
}

/* A deliberate pause of the stream (an impedance check stops the board; a file's stop and start stamps)
 * in the recording, with its span, and in the session log: the gap it leaves is not loss. */
static void note_pause(dw_worker *w, double t, double dur, const char *why)
{
    char text[128];
    snprintf(text, sizeof text, "Pause %.2f s: %s", dur, why ? why : "the stream stopped on purpose");
    annotate(w, t, dur, text);
    dw_session_note(w->session, t, "check", 0, text);
}

static int read_block(dw_worker *w, int max_frames)
{
    const dw_source_info *in = &w->src->info;
    dw_block b;
    memset(&b, 0, sizeof b);
    int n = w->src->ops->read(w->src, &b, max_frames, in->live ? 100 : 0);
    if (n <= 0)
        return n;
    w->src_frames += n;
    w->src_more = b.more;
    if (b.gap > b.pause)
        w->src_lost += b.gap - b.pause, w->src_gaps++;
    if (b.pause > 0) {
        w->src_pauses++;
        w->src_paused += b.pause;
        note_pause(w, (double)w->frames / in->fs, b.pause / in->fs, b.pause_why);
    }
    if (in->live)
        dw_arrivals_add(&w->arrivals, n, dw_now_wall());
    if (w->rec) {
        if (dw_recorder_write(w->rec, &b) < 0) {
            if (!w->rec_failed)
                set_event(w, "recording: %s", dw_recorder_error(w->rec));
            w->rec_failed = 1;
        } else {
            w->rec_failed = 0;
        }
    }
    dw_session_block(w->session, &b, in, dw_now_wall());
    if (dw_pipeline_push(w->pipeline, &b) < 0)
        return DW_SRC_ERR;
    check_step(w, &b);
    w->frames += b.gap + n;
    w->t = (double)w->frames / in->fs;
    return n;
}

/* The data-path figures for the session's alerts and its summary (live sources), with the
 * recording's failure and its disk's free space against [recording] min_free_mb. */
static void datapath(dw_worker *w, double wall)
{
    dw_datapath dp;
    memset(&dp, 0, sizeof dp);
    dw_source_stats cs;
    if (dw_source_stats_get(w->src, &cs) == 0) {
        /* while the check measures impedances the board stops on purpose: silence is no outage */
        dp.expecting = !(w->check && w->check_phase == DW_CHECK_IMPEDANCE);
        dp.reconnects = cs.reconnects;
        /* board time minus host time: with r = board/host rate ratio (1 + ppm), w->t of board time took
         * w->t / r of the host's; the difference is w->t (r - 1) / r (w->t * ppm alone overstated it by r:
         * 30x for an emulator sending at --speed 30; the same to 1e-4 for a real board's +-100 ppm) */
        double r = 1 + cs.drift_ppm * 1e-6;
        dp.drift_s = r > 0 ? w->t * (r - 1) / r : 0;
        dp.frames = w->src_frames;
        dp.lost_frames = w->src_lost;
        dp.gaps = w->src_gaps;
        dp.gap_s = w->src_lost / w->src->info.fs;
        dp.pauses = w->src_pauses;
        dp.pause_s = w->src_paused / w->src->info.fs;
    }
    if (w->rec) {
        dp.rec_files = dw_recorder_files(w->rec);
        dp.rec_unrecorded_s = dw_recorder_unrecorded_s(w->rec);
        dp.rec_failures = dw_recorder_failures(w->rec);
    }
    double free_mb = w->rec ? dw_recorder_free_mb(w->rec) : -1;
    if (w->rec_failed && w->rec) {
        dp.rec_error = 1;
        snprintf(dp.rec_error_text, sizeof dp.rec_error_text, "%s", dw_recorder_error(w->rec));
    }
    if (free_mb >= 0 && free_mb < w->cfg->min_free_mb) {             /* before it runs out */
        dp.low_disk = 1;
        snprintf(dp.low_disk_text, sizeof dp.low_disk_text, "low disk: %.1f MB free (min_free_mb = %g)",
                 free_mb, w->cfg->min_free_mb);
    }
    dw_session_datapath(w->session, w->t, wall, &dp);
}

/* Timers and data-path figures for the session, at least ten times a second. */
static void session_tick(dw_worker *w)
{
    double wall = dw_now_wall();
    /* The data-path alerts format their texts on every call: ten times a second is plenty. */
    if (wall >= w->next_datapath || wall < w->next_datapath - 2 * DATAPATH_S) {
        w->next_datapath = wall + DATAPATH_S;
        datapath(w, wall);
    }
    dw_session_tick(w->session, w->t, wall);    /* every loop: it delivers stimuli when due */
}

/* Something failed at the end of the night: exit status 1, a line of dw_worker_failed (the exit
 * lines, printed once the terminal is restored: with the screen up, standard error is not seen)
 * and, before the summary is written (in_summary), its "## Failed" section. */
static void closing_failed(dw_worker *w, int in_summary, const char *what, const char *msg)
{
    char line[300];
    snprintf(line, sizeof line, "%s: %s", what, msg);
    size_t used = strlen(w->failed);
    snprintf(w->failed + used, sizeof w->failed - used, "%s\n", line);
    if (in_summary)
        dw_session_failed(w->session, line);
    w->status = 1;
}

/* The awakenings table (a protocol with awakenings) and the BIDS events table, by the log */
static void write_protocol_tables(dw_worker *w)
{
    char path[DW_PATH_MAX + 24];
    dw_err err = { 0 };
    snprintf(path, sizeof path, "%s.awakenings.tsv", w->prefix);
    if (dw_session_write_awakenings(w->session, path, &err) < 0)
        closing_failed(w, 1, "writing the awakenings table failed", err.msg);
    snprintf(path, sizeof path, "%s_events.tsv", w->prefix);
    if (dw_session_write_events(w->session, path, &err) < 0)
        closing_failed(w, 1, "writing the events table failed", err.msg);
}

/* The summary: sleep statistics of our hypnogram, every event, stimulation and alert. */
static void write_summary(dw_worker *w)
{
    char path[DW_PATH_MAX + 24];
    dw_out o;
    dw_err err = { 0 };
    FILE *f = NULL;
    int begun = -1;
    dw_session_seal(w->session);
    write_protocol_tables(w);
    for (int k = 1; k < 100 && begun < 0; k++) {   /* a file already at the name is kept: the next one */
        if (k == 1)
            snprintf(path, sizeof path, "%s.summary.txt", w->prefix);
        else
            snprintf(path, sizeof path, "%s.summary-%d.txt", w->prefix, k);
        begun = dw_out_begin(&o, path, 0, &err);
    }
    if (begun < 0 || !(f = fdopen(dup(o.fd), "w"))) {
        closing_failed(w, 0, "writing the summary failed", err.msg[0] ? err.msg : strerror(errno));
        if (begun == 0)
            dw_out_abort(&o);
        return;
    }
    dw_night night;
    dw_night_from_stages(&night, w->hyp, w->nhyp);
    pthread_mutex_lock(&w->mon->lock);
    night.start_wall = w->mon->start_wall;
    snprintf(night.source, sizeof night.source, "%s", w->mon->source_desc);
    snprintf(night.kind, sizeof night.kind, "%s", w->mon->live ? "live" : "replay");
    night.seeks = w->mon->seeks;
    night.seek_skipped = w->mon->seek_skipped;
    night.seek_restaged = w->mon->seek_restaged;
    snprintf(w->mon->summary_path, sizeof w->mon->summary_path, "%s", path);   /* the name it got */
    pthread_mutex_unlock(&w->mon->lock);
    const struct staged_on *k = &w->staged;
    dw_staged_night staged = {
        .label = { k->used[0] ? k->label[0] : NULL, k->used[1] ? k->label[1] : NULL },
        .roles = { k->role[0] ? k->label[0] : NULL, k->role[1] ? k->label[1] : NULL },
        .how = k->how, .model = k->model, .stand_in = k->stand_in[0] ? k->stand_in : NULL, .tally = &w->why,
    };
    int bad = dw_session_write_summary(w->session, f, &night, &staged) < 0;
    bad |= fclose(f) != 0;
    if (bad || dw_out_commit(&o, &err) < 0) {
        char why[DW_PATH_MAX + 64];
        snprintf(why, sizeof why, "%s: %s", path, strerror(errno ? errno : EIO));
        closing_failed(w, 0, "writing the summary failed", bad ? why : err.msg);
        dw_out_abort(&o);
        return;
    }
    dw_outputs_add(&w->outputs, "summary", path);
}

static void *run(void *arg)
{
    dw_worker *w = arg;
    const dw_source_info *in = &w->src->info;
    restart_pacing(w);
    while (!w->stop) {
        drain_commands(w);
        session_tick(w);
        if (w->stop)
            break;
        if (w->paused || w->ended) {
            publish(w, 1);
            wait_for(w, 0.1);
            restart_pacing(w);
            continue;
        }
        int max = FAST_CHUNK;
        if (!in->live && w->speed > 0) {
            double due = w->pace_t0 + (dw_now_mono() - w->pace_wall0) * w->speed;
            if (w->t >= due) {
                wait_for(w, (w->t - due) / w->speed + 0.001);
                continue;
            }
            double want = due - w->t + CHUNK_S * w->speed * 0.5;
            max = (int)ceil(want * in->fs);
            if (max > FAST_CHUNK) max = FAST_CHUNK;
            if (max < 1) max = 1;
        }
        int n = read_block(w, max);
        if (n == DW_SRC_EOF && !w->finished_stream) {
            dw_pipeline_finish(w->pipeline);      /* the last epoch of the file, delay pushed out */
            w->finished_stream = 1;
        }
        if (n == DW_SRC_EOF) {
            w->ended = 1;
            w->pend.have_prov = 1;                /* no epoch is in progress after the end */
            w->pend.prov_stage = DW_UNSCORED;
            memset(w->pend.prov_prob, 0, sizeof w->pend.prov_prob);
            set_event(w, "end of recording");
            publish(w, 1);
            if (w->cfg->exit_at_end)
                break;
            continue;
        }
        if (n == DW_SRC_ERR) {
            set_event(w, "source error: %s", w->src->err.msg);
            w->status = 1;
            if (!in->live)
                break;
            continue;
        }
        provisional(w);
        check_step(w, NULL);
        publish(w, 0);
        /* A block ends at a gap: on a lossy link (a dongle dropping packets) a read's bytes hold several
         * blocks, all taken before the next wait; reading one a wake-up fell behind the board (at 20 %
         * packet loss, 6 s of a 10-s stream read on a 40-ms grid) until the line overflowed. */
        if (in->live && !w->src_more)
            live_wait(w);
    }
    /* Safe shutdown: stimulation off first, then the device stops and the source closes here, on the
     * thread that owns it, then the recording is closed and the summary written. */
    if (in->live)
        datapath(w, dw_now_wall());          /* the summary's data-path figures as they end */
    dw_session_shutdown(w->session, w->t, w->stop_cause[0] ? w->stop_cause : "end of recording");
    publish(w, 1);
    dw_source_close(w->src);
    w->src = NULL;
    if (w->rec) {
        dw_err err = { 0 };
        annotate(w, w->t, 0, "Recording stopped");
        if (dw_recorder_close(w->rec, &err) < 0)   /* the final header, the padded record, a sync */
            closing_failed(w, 1,
                           "closing the recording failed (dreamwatch recover FILE completes it)", err.msg);
        w->rec = NULL;
    }
    write_summary(w);
    pthread_mutex_lock(&w->mon->lock);
    w->mon->finished = 1;
    w->mon->mode = DW_MODE_SHUTDOWN;
    w->mon->v_status++;
    pthread_mutex_unlock(&w->mon->lock);
    dw_monitor_notify(w->mon);
    return NULL;
}

int dw_worker_start(dw_worker *w)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGWINCH);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int r = pthread_create(&w->thread, NULL, run, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r == 0)
        w->started = 1;
    return r == 0 ? 0 : -1;
}

void dw_worker_join(dw_worker *w)
{
    if (w->started) {
        pthread_join(w->thread, NULL);
        w->started = 0;
    }
}

int dw_worker_status(const dw_worker *w) { return w->status; }

const char *dw_worker_failed(const dw_worker *w) { return w->failed; }

const dw_outputs *dw_worker_outputs(const dw_worker *w) { return &w->outputs; }

void dw_worker_free(dw_worker *w)
{
    if (!w)
        return;
    dw_worker_join(w);
    dw_source_close(w->src);
    if (w->rec)
        dw_recorder_close(w->rec, &(dw_err){ 0 });
    dw_pipeline_free(w->pipeline);
    dw_check_free(w->check);
    dw_session_free(w->session);
    dw_model_free(w->own_model);
    free(w->pend.trace);
    free(w->pend.ep);
    free(w->hyp);
    dw_outputs_free(&w->outputs);
    free(w);
}
