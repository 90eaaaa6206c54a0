/* The worker thread: read the source (paced for a replay), stage each epoch, publish to the monitor,
 * obey the operator's commands. It never waits for the screen: the monitor lock is held only to copy. */
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

#include "sources/cyton.h"
#include "base/files.h"
#include "staging/hypnogram.h"
#include "record/recorder.h"
#include "dsp/resample.h"
#include "staging/pipeline.h"
#include "session/session.h"

#define CHUNK_S 0.1            /* paced replay reads this much source time at a time */
#define FAST_CHUNK 3000        /* frames per read when replaying as fast as possible */
#define NOTIFY_S 0.05          /* wake the screen at most this often at high speed */
#define LIVE_BATCH_S 0.02      /* live: gather this much signal per read */

struct dw_worker {
    const dw_config *cfg;
    dw_monitor *mon;
    dw_source *src;
    dw_model *own_model;
    const dw_model *model;
    dw_scoring *scoring;
    dw_recorder *rec;                     /* live sessions only */
    int rec_failed;                       /* the recorder reported an error not yet cleared */
    long src_frames, src_lost, src_gaps;  /* the data path as the source delivered it (summary) */
    dw_session *session;
    char prefix[DW_PATH_MAX];             /* recording dir + session name: .bdf, .session.tsv, .summary.txt */
    char stop_cause[64];
    dw_resampler *rs[DW_MAX_CH];          /* to DW_FS when the source delivers another rate */
    pthread_t thread;
    int started;
    int status;

    /* pacing */
    double speed;
    int paused;
    double pace_wall0, pace_t0;           /* wall clock and source time when pacing last restarted */
    double t;                             /* source time of the next frame at DW_FS */
    long frames;                          /* frames at DW_FS delivered so far (incl. gaps) */
    double next_prov_t;
    double last_notify;

    /* channel state over the current second */
    double chmin[DW_MAX_CH], chmax[DW_MAX_CH];
    int chcount;
    int stop;

    /* scratch at DW_FS */
    double *buf;                          /* frames * nch */
    size_t bufcap;
    double *col[2];
    size_t colcap;
};

static int pick_model(dw_worker *w, dw_err *err)
{
    const dw_source_info *in = &w->src->info;
    if (w->cfg->model[0]) {
        w->own_model = dw_model_load(w->cfg->model, err);
        if (!w->own_model)
            return -1;
        w->model = w->own_model;
    } else {
        w->model = dw_model_builtin(in->parietal >= 0 ? 2 : 1);
    }
    if (in->frontal < 0) {
        dw_err_set(err, "%s: no frontal channel found; set [input] frontal (labels: %s%s%s...)", w->src->path,
                   in->label[0], in->nch > 1 ? ", " : "", in->nch > 1 ? in->label[1] : "");
        return -1;
    }
    if (dw_model_channels(w->model) == 2 && in->parietal < 0) {
        dw_err_set(err, "model %s needs a parietal channel; set [input] parietal or use a one-channel model",
                   dw_model_name(w->model));
        return -1;
    }
    return 0;
}

static void publish_source(dw_worker *w)
{
    dw_monitor *m = w->mon;
    const dw_source_info *in = &w->src->info;
    pthread_mutex_lock(&m->lock);
    const char *base = strrchr(w->src->path, '/');
    snprintf(m->source_desc, sizeof m->source_desc, "%s %s", w->src->ops->kind, base ? base + 1 : w->src->path);
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
    snprintf(m->model_name, sizeof m->model_name, "%s", dw_model_name(w->model));
    if (in->note[0])                    /* e.g. "truncated: 40 of 60 data records present" */
        snprintf(m->last_event, sizeof m->last_event, "%s", in->note);
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
    pthread_mutex_lock(&w->mon->lock);
    w->mon->ref_stage = h.stage;
    w->mon->n_ref = h.n;
    w->mon->v_hypno++;
    pthread_mutex_unlock(&w->mon->lock);
    return 0;
}

/* $XDG_DATA_HOME/dreamwatch/recordings unless configured. */
static void recordings_dir(const dw_config *cfg, char *dir, size_t n)
{
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (cfg->rec_dir[0])
        snprintf(dir, n, "%s", cfg->rec_dir);
    else if (xdg && *xdg)
        snprintf(dir, n, "%s/dreamwatch/recordings", xdg);
    else
        snprintf(dir, n, "%s/.local/share/dreamwatch/recordings", home ? home : ".");
}

/* mkdir -p with mode 0700 (health data). */
static int make_dirs(const char *dir, dw_err *err)
{
    char p[DW_PATH_MAX];
    snprintf(p, sizeof p, "%s", dir);
    for (char *s = p + 1; ; s++) {
        if (*s == '/' || !*s) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0700) < 0 && errno != EEXIST) {
                dw_err_set(err, "%s: cannot create: %s", p, strerror(errno));
                return -1;
            }
            *s = c;
            if (!c)
                break;
        }
    }
    return 0;
}

static int open_recording(dw_worker *w, dw_err *err)
{
    char dir[DW_PATH_MAX];
    recordings_dir(w->cfg, dir, sizeof dir);
    w->rec = dw_recorder_open(dir, w->cfg->subject, &w->src->info, 1, err);
    if (!w->rec)
        return -1;
    const char *p = dw_recorder_path(w->rec);
    size_t len = strlen(p);
    snprintf(w->prefix, sizeof w->prefix, "%.*s", (int)(len > 4 ? len - 4 : len), p);   /* minus ".bdf" */
    pthread_mutex_lock(&w->mon->lock);
    snprintf(w->mon->rec_path, sizeof w->mon->rec_path, "%s", p);
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
    recordings_dir(w->cfg, dir, sizeof dir);
    if (make_dirs(dir, err) < 0)
        return -1;
    const char *base = strrchr(w->src->path, '/');
    base = base ? base + 1 : w->src->path;
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(w->prefix, sizeof w->prefix, "%s/replay-%.*s-%s", dir,
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

/* The screen thread owns the terminal: ask it to ring. */
static void session_bell(void *ctx)
{
    dw_worker *w = ctx;
    pthread_mutex_lock(&w->mon->lock);
    w->mon->bells++;
    pthread_mutex_unlock(&w->mon->lock);
    dw_monitor_notify(w->mon);
}

static int open_session(dw_worker *w, dw_err *err)
{
    if (session_prefix(w, err) < 0)
        return -1;
    char log[DW_PATH_MAX + 16];
    dw_session_log *l = dw_session_log_create(w->prefix, log, sizeof log, err);
    if (!l)
        return -1;
    size_t len = strlen(log) - strlen(".session.tsv");     /* the prefix the log got: stem or stem-N */
    snprintf(w->prefix, sizeof w->prefix, "%.*s", (int)len, log);
    dw_session_hooks hooks = { .annotate = session_annotate, .bell = session_bell, .ctx = w, .log = l };
    w->session = dw_session_new(&w->cfg->session, &hooks, err);
    if (!w->session)
        return -1;
    dw_session_set_clock(w->session, w->src->info.start_epoch, w->mon->lights_off_t);
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
    w->speed = cfg->replay_speed;
    w->paused = cfg->start_paused;
    char path[DW_PATH_MAX];
    const char *file = cfg->file;
    if (cfg->serial[0]) {
        w->src = dw_cyton_open(cfg->serial, cfg->board, &cfg->chans, mon->cancel_fd, err);
        file = cfg->serial;
    } else if (!file[0]) {
        if (dw_find_data("sample-data/sample-night.edf", path, sizeof path) < 0) {
            dw_err_set(err, "no input given and the sample night (sample-data/sample-night.edf) was not found; "
                            "run `make` or give a file");
            free(w);
            return NULL;
        }
        file = path;
    }
    if (!cfg->serial[0])
        w->src = dw_source_open_file(file, &cfg->chans, err);
    if (!w->src || pick_model(w, err) < 0 || load_reference(w, err) < 0) {
        dw_worker_free(w);
        return NULL;
    }
    const dw_source_info *in = &w->src->info;
    if (fabs(in->fs - DW_FS) > 1e-9)
        for (int c = 0; c < in->nch; c++)
            if (!(w->rs[c] = dw_resampler_new(in->fs, DW_FS))) {
                dw_err_set(err, "%s: cannot resample %g Hz", file, in->fs);
                dw_worker_free(w);
                return NULL;
            }
    w->scoring = dw_scoring_new(w->model, in->phys_max_uv > 0 ? in->phys_max_uv * 0.999 : 0);
    if (!w->scoring) {
        dw_err_set(err, "out of memory");
        dw_worker_free(w);
        return NULL;
    }
    if (in->live && cfg->rec_enabled && open_recording(w, err) < 0) {
        dw_worker_free(w);
        return NULL;
    }
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
    float spec[DW_SPEC_BINS];
    for (int k = 0; k < DW_SPEC_BINS; k++)
        spec[k] = r->valid ? (float)log10(r->psd[DW_SPEC_BIN0 + k] + 1e-6) : 0.0f;
    dw_monitor *m = w->mon;
    pthread_mutex_lock(&m->lock);
    while (m->n_epochs < r->epoch)       /* epochs skipped by a seek stay unscored */
        dw_monitor_add_epoch(m, DW_UNSCORED, NULL, NULL);
    dw_monitor_add_epoch(m, r->valid ? r->stage : DW_UNSCORED, r->prob, spec);
    m->prov_stage = DW_UNSCORED;
    pthread_mutex_unlock(&m->lock);
    dw_session_epoch(w->session, r->epoch, r->valid ? r->stage : DW_UNSCORED, r->valid ? r->prob : NULL);
    if (w->rec) {
        char text[48];
        snprintf(text, sizeof text, "Sleep stage %s", r->valid ? dw_stage_name(r->stage) : "?");
        annotate(w, (double)r->epoch * DW_EPOCH_S, DW_EPOCH_S, text);
    }
}

static int ensure(double **p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    double *q = realloc(*p, need * sizeof **p);
    if (!q)
        return -1;
    *p = q;
    *cap = need;
    return 0;
}

/* The frontal and parietal columns of a block, grown together. */
static int ensure_cols(dw_worker *w, size_t n)
{
    if (n <= w->colcap)
        return 0;
    for (int c = 0; c < 2; c++) {
        double *q = realloc(w->col[c], n * sizeof(double));
        if (!q)
            return -1;
        w->col[c] = q;
    }
    w->colcap = n;
    return 0;
}

/* Channel flags over each second: railed at the full-scale limit, flat below 0.5 uV peak to peak. */
static void track_channels(dw_worker *w, const double *x, int n, int nch, unsigned char *flags_out, int *flags_ready)
{
    double rail = w->src->info.phys_max_uv * 0.999;
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < nch; c++) {
            double v = x[i * nch + c];
            if (w->chcount == 0 || v < w->chmin[c]) w->chmin[c] = v;
            if (w->chcount == 0 || v > w->chmax[c]) w->chmax[c] = v;
        }
        if (++w->chcount == DW_FS) {
            for (int c = 0; c < nch; c++) {
                unsigned char f = 0;
                if (rail > 0 && (w->chmax[c] >= rail || w->chmin[c] <= -rail)) f |= DW_CH_RAILED;
                if (w->chmax[c] - w->chmin[c] < 0.5) f |= DW_CH_FLAT;
                flags_out[c] = f;
            }
            *flags_ready = 1;
            w->chcount = 0;
        }
    }
}

/* Frames at DW_FS into the monitor's trace ring and the stager. */
static void deliver(dw_worker *w, const double *x, int n)
{
    const dw_source_info *in = &w->src->info;
    int nch = in->nch;
    if (ensure_cols(w, (size_t)n) < 0)
        return;
    for (int i = 0; i < n; i++) {
        w->col[0][i] = x[i * nch + in->frontal];
        w->col[1][i] = in->parietal >= 0 ? x[i * nch + in->parietal] : 0;
    }
    unsigned char flags[DW_MAX_CH];
    int flags_ready = 0;
    track_channels(w, x, n, nch, flags, &flags_ready);

    dw_monitor *m = w->mon;
    pthread_mutex_lock(&m->lock);
    for (int i = 0; i < n; i++) {
        float *row = m->trace[(m->trace_total + i) % DW_TRACE_N];
        for (int c = 0; c < nch; c++)
            row[c] = (float)x[i * nch + c];
    }
    m->trace_total += n;
    if (flags_ready)
        memcpy(m->chflags, flags, (size_t)nch);
    m->v_trace++;
    pthread_mutex_unlock(&m->lock);

    dw_scoring_push(w->scoring, w->col[0], dw_scoring_channels(w->scoring) > 1 ? w->col[1] : NULL, n, on_epoch, w);
    w->frames += n;
    w->t = (double)w->frames / DW_FS;
}

static void provisional(dw_worker *w)
{
    if (w->t < w->next_prov_t)
        return;
    w->next_prov_t = w->t + w->cfg->provisional_s;
    double p[DW_NSTAGES];
    int st;
    if (!dw_scoring_provisional(w->scoring, p, &st))
        return;
    dw_session_provisional(w->session, st);
    pthread_mutex_lock(&w->mon->lock);
    w->mon->prov_stage = st;
    for (int k = 0; k < DW_NSTAGES; k++)
        w->mon->prov_prob[k] = (float)p[k];
    w->mon->v_hypno++;
    pthread_mutex_unlock(&w->mon->lock);
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
    pthread_mutex_lock(&w->mon->lock);
    vsnprintf(w->mon->last_event, sizeof w->mon->last_event, fmt, ap);
    va_end(ap);
    w->mon->v_status++;
    pthread_mutex_unlock(&w->mon->lock);
}

static void seek(dw_worker *w, double delta)
{
    if (!w->src->ops->seek)
        return;
    double target = w->t + delta;
    double dur = w->src->info.duration_s;
    if (target < 0) target = 0;
    if (dur > 0 && target > dur) target = dur;
    target = floor(target * DW_FS) / DW_FS;
    if (w->src->ops->seek(w->src, target) < 0) {
        set_event(w, "seek failed: %s", w->src->err.msg);
        return;
    }
    for (int c = 0; c < DW_MAX_CH; c++)
        if (w->rs[c]) dw_resampler_reset(w->rs[c]);
    w->frames = lround(target * DW_FS);
    w->t = target;
    dw_scoring_reposition(w->scoring, w->frames);
    pthread_mutex_lock(&w->mon->lock);
    int keep = (int)(w->frames / DW_EPOCH_N);
    if (w->mon->n_epochs > keep)
        w->mon->n_epochs = keep;        /* a backward seek re-stages from there */
    w->mon->prov_stage = DW_UNSCORED;
    w->mon->t_source = w->t;
    w->mon->source_ended = 0;
    w->mon->trace_total = 0;
    w->mon->v_hypno++;
    w->mon->v_trace++;
    pthread_mutex_unlock(&w->mon->lock);
    w->next_prov_t = 0;
    restart_pacing(w);
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
    case DW_CMD_MARKER:
        set_event(w, "marker: %s", c->text);
        break;
    default:
        break;
    }
    if (dw_session_command(w->session, c, w->t))
        w->stop = 1;
    pthread_mutex_lock(&w->mon->lock);
    w->mon->speed = w->speed;
    w->mon->paused = w->paused;
    w->mon->v_status++;
    pthread_mutex_unlock(&w->mon->lock);
}

static void drain_commands(dw_worker *w)
{
    dw_cmd c;
    dw_monitor_drain(w->mon->cmd_fd[0]);
    while (dw_monitor_take(w->mon, &c))
        handle_command(w, &c);
}

/* Sleep until the source time due or a command arrives. */
static void wait_for(dw_worker *w, double seconds)
{
    struct pollfd p = { .fd = w->mon->cmd_fd[0], .events = POLLIN };
    int ms = seconds > 0.1 ? 100 : (int)ceil(seconds * 1000);   /* session timers run at >= 10 Hz */
    if (ms > 0)
        poll(&p, 1, ms);
}

static void publish_time(dw_worker *w, int force)
{
    double now = dw_now_mono();
    if (!force && now - w->last_notify < NOTIFY_S)
        return;
    w->last_notify = now;
    struct dw_cyton_stats cs;
    int live = w->src && dw_cyton_stats(w->src, &cs) == 0;
    pthread_mutex_lock(&w->mon->lock);
    w->mon->t_source = w->t;
    if (w->rec)
        w->mon->rec_bytes = dw_recorder_bytes(w->rec);
    if (live) {
        w->mon->loss_pct_5s = cs.loss_pct_5s;
        w->mon->loss_pct_night = cs.loss_pct_night;
        w->mon->lost_samples = cs.lost_samples;
        w->mon->reconnects = cs.reconnects;
    }
    dw_monitor_publish_session(w->mon, w->session);
    if (w->src && !w->paused)
        w->mon->lag_s = w->src->info.live ? 0
                      : w->speed > 0 ? fmax(0, w->pace_t0 + (now - w->pace_wall0) * w->speed - w->t) / w->speed : 0;
    w->mon->v_status++;
    pthread_mutex_unlock(&w->mon->lock);
    dw_monitor_notify(w->mon);
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
    if (b.gap > 0)
        w->src_lost += b.gap, w->src_gaps++;
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
    if (b.gap > 0) {
        long lost = lround(b.gap * DW_FS / in->fs);
        dw_scoring_gap(w->scoring, lost, on_epoch, w);
        w->frames += lost;
        w->t = (double)w->frames / DW_FS;
    }
    if (!w->rs[0]) {
        deliver(w, b.uv, n);
        return n;
    }
    size_t cap = (size_t)(n * DW_FS / in->fs) + 4;
    if (ensure(&w->buf, &w->bufcap, cap * (size_t)in->nch) < 0)
        return DW_SRC_ERR;
    double tmp_in[512], tmp_out[512];
    size_t produced = 0;
    for (int c = 0; c < in->nch; c++) {
        size_t done = 0;
        for (int i0 = 0; i0 < n; i0 += 256) {
            int k = n - i0 < 256 ? n - i0 : 256;
            for (int i = 0; i < k; i++)
                tmp_in[i] = b.uv[(i0 + i) * in->nch + c];
            size_t got = dw_resampler_run(w->rs[c], tmp_in, (size_t)k, tmp_out, 512);
            for (size_t i = 0; i < got && done + i < cap; i++)
                w->buf[(done + i) * in->nch + c] = tmp_out[i];
            done += got;
        }
        produced = done < cap ? done : cap;
    }
    if (produced)
        deliver(w, w->buf, (int)produced);
    return n;
}

/* Timers and data-path figures for the session, at least ten times a second. */
static void session_tick(dw_worker *w)
{
    double wall = dw_now_wall();
    dw_datapath dp;
    memset(&dp, 0, sizeof dp);
    struct dw_cyton_stats cs;
    if (w->src && dw_cyton_stats(w->src, &cs) == 0) {
        dp.expecting = 1;
        dp.reconnects = cs.reconnects;
        dp.drift_s = cs.drift_ppm * 1e-6 * w->t;
        dp.frames = w->src_frames;
        dp.lost_frames = w->src_lost;
        dp.gaps = w->src_gaps;
        dp.gap_s = w->src_lost / w->src->info.fs;
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
    dw_session_tick(w->session, w->t, wall);
}

/* The summary: sleep statistics of our hypnogram, every event, stimulation and alert. */
static void write_summary(dw_worker *w)
{
    char path[DW_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s.summary.txt", w->prefix);
    dw_out o;
    dw_err err = { "" };
    FILE *f = NULL;
    if (dw_out_begin(&o, path, 0, &err) < 0 || !(f = fdopen(dup(o.fd), "w"))) {
        fprintf(stderr, "dreamwatch: %s\n", err.msg[0] ? err.msg : strerror(errno));
        if (o.fd >= 0)
            dw_out_abort(&o);
        w->status = 1;
        return;
    }
    dw_sleep_stats st;
    pthread_mutex_lock(&w->mon->lock);
    dw_sleep_stats_compute(w->mon->stage, w->mon->n_epochs, &st);
    pthread_mutex_unlock(&w->mon->lock);
    int bad = dw_session_write_summary(w->session, f, &st) < 0;
    bad |= fclose(f) != 0;
    if (bad || dw_out_commit(&o, &err) < 0) {
        fprintf(stderr, "dreamwatch: %s\n", bad ? "summary: write failed" : err.msg);
        dw_out_abort(&o);
        w->status = 1;
    }
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
        int ended;
        pthread_mutex_lock(&w->mon->lock);
        ended = w->mon->source_ended;
        pthread_mutex_unlock(&w->mon->lock);
        if (w->paused || ended) {
            publish_time(w, 1);
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
        if (n == DW_SRC_EOF) {
            pthread_mutex_lock(&w->mon->lock);
            w->mon->source_ended = 1;
            snprintf(w->mon->last_event, sizeof w->mon->last_event, "end of recording");
            pthread_mutex_unlock(&w->mon->lock);
            publish_time(w, 1);
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
        publish_time(w, 0);
        /* Live: the board sends a packet every 4 ms; taking them in 20-ms batches costs a fifth of the
         * wake-ups for at most 20 ms of latency (7 degrees of a 1-Hz slow oscillation). */
        if (in->live && n > 0 && n < in->fs * LIVE_BATCH_S)
            wait_for(w, LIVE_BATCH_S - n / in->fs);
    }
    /* Safe shutdown: stimulation off first, then the device stops and the source closes here, on the
     * thread that owns it, then the recording is closed and the summary written. */
    dw_session_shutdown(w->session, w->t, w->stop_cause[0] ? w->stop_cause : "end of recording");
    pthread_mutex_lock(&w->mon->lock);
    dw_monitor_publish_session(w->mon, w->session);
    pthread_mutex_unlock(&w->mon->lock);
    dw_monitor_notify(w->mon);
    dw_source_close(w->src);
    w->src = NULL;
    if (w->rec) {
        dw_err err = { "" };
        annotate(w, w->t, 0, "Recording stopped");
        if (dw_recorder_close(w->rec, &err) < 0) {
            fprintf(stderr, "dreamwatch: %s\n", err.msg);
            w->status = 1;
        }
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

void dw_worker_free(dw_worker *w)
{
    if (!w)
        return;
    dw_worker_join(w);
    dw_source_close(w->src);
    if (w->rec)
        dw_recorder_close(w->rec, &(dw_err){ "" });
    dw_scoring_free(w->scoring);
    dw_session_free(w->session);
    dw_model_free(w->own_model);
    for (int c = 0; c < DW_MAX_CH; c++)
        dw_resampler_free(w->rs[c]);
    free(w->buf);
    free(w->col[0]);
    free(w->col[1]);
    free(w);
}
