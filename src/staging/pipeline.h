/* THE staging pipeline, used by every command that stages (the monitor's replay and live modes, `record`,
 * `score`): blocks at the source's rate in, 30-s epochs out. It does, once and the same way for every
 * source:
 *   - the signal-quality verdict of every delivered channel, every second (dsp/quality.h);
 *   - resampling of the staging channels (and, for a screen, of every channel) to DW_FS, the resampler's
 *     group delay removed so epoch k covers source time [30 k, 30 k + 30) exactly (to half a frame);
 *   - the role columns (frontal, parietal) and the model: the one given (refused when the source is
 *     slower than dw_model_min_rate), else the built-in one for the roles the montage found and the
 *     source rate (dw_model_builtin_for: two channels from 100 Hz, fpz_pz, with eeg standing in for an
 *     epoch whose parietal channel is unusable; one channel from 100 Hz, eeg; 50-100 Hz, eeg_lo on the
 *     frontal channel; slower sources are refused);
 *   - epoch validity from the verdict: an epoch is unscored (DW_UNSCORED, '?') when more than
 *     DW_EPOCH_UNUSABLE_S of its seconds are flat, railed, out of range or lost on the frontal channel,
 *     or when at least DW_EPOCH_ARTEFACT_S of them are artefact or unusable ("mostly artefact": a noisy
 *     electrode's seconds are some railed, some artefact, and count together); the stager then
 *     only predicts through it and never learns from it;
 *   - the provisional label of the epoch in progress, withheld while its last 30 s hold an unusable
 *     second.
 * The result depends only on the samples, never on how they were cut into blocks or on the reading speed,
 * so `score` and a replay give identical labels (tests/e2e/one_path.sh). */
#ifndef DW_PIPELINE_H
#define DW_PIPELINE_H

#include "dsp/quality.h"
#include "sources/source.h"
#include "staging/features.h"
#include "staging/stager.h"

#define DW_EPOCH_UNUSABLE_S 10      /* a third of the epoch (as AASM scores an epoch by its majority) */
#define DW_EPOCH_ARTEFACT_S 15      /* half of it */

typedef struct {
    int    epoch;                       /* index from the start of the recording */
    int    stage;                       /* the label: most probable stage, DW_UNSCORED when not valid */
    double prob[DW_NSTAGES];            /* the stager's filtered probabilities; all 0 when unscored (not
                                           valid): the stager only predicts through such an epoch, from
                                           the epochs before and its prior, and that is no reading of it.
                                           Every output shows an unscored epoch's as none
                                           (dw_epoch_has_prob) */
    int    valid;                       /* 1: staged from usable signal */
    unsigned bad;                       /* DW_Q_* flags seen on the frontal channel in this epoch */
    int    unusable_s, artefact_s;      /* its seconds unusable / artefact on the frontal channel */
    int    one_channel;                 /* staged by the one-channel model (parietal unusable) */
    int    parietal_lost;               /* unscored for the parietal channel alone (a given two-channel
                                           model, no one-channel stand-in): the frontal one was usable */
    unsigned char flag_s[2][DW_Q_NFLAGS]; /* the verdict's seconds in this epoch with each flag (DW_Q_* bit k
                                           at [c][k]), frontal (c 0) and parietal (c 1; zeros without one):
                                           why an epoch is unscored or staged on one channel */
    double distance;                    /* the night's distance from the model's training data so far
                                           (dw_stager_distance; 0 for a model without one) */
    double start_distance;              /* over its first epochs (dw_stager_start_distance) */
    int    unlike_training;             /* dw_stager_unlike_training: agreement may be low */
    dw_features feat[2];                /* frontal, parietal */
    double psd[DW_PSD_BINS];            /* Welch PSD of the frontal channel (zeros when not valid) */
} dw_epoch_result;

typedef struct {
    void (*epoch)(void *ctx, const dw_epoch_result *r);             /* each finished epoch, in order */
    void (*quality)(void *ctx, const dw_quality_second *q);         /* every delivered channel, each second */
    void (*frames)(void *ctx, const double *x, int n, int nch);     /* display: every channel at DW_FS */
    void *ctx;
} dw_pipeline_sink;

typedef struct {
    const dw_model *model;              /* NULL: the built-in one for the roles */
    int    display;                     /* resample every channel for sink->frames */
    dw_quality_cfg quality;
} dw_pipeline_opts;

typedef struct dw_pipeline dw_pipeline;

/* For a source described by in (rate, channels, roles, full scales). NULL with err: no frontal channel,
 * a two-channel model without a parietal one, a source slower than the model needs (no built-in
 * model below 50 Hz: dw_model_builtin_min_rate), out of memory.
 * The sink is copied; any of its functions may be NULL. */
dw_pipeline *dw_pipeline_new(const dw_source_info *in, const dw_pipeline_opts *o, const dw_pipeline_sink *sink,
                             dw_err *err);
void dw_pipeline_free(dw_pipeline *p);
const dw_model *dw_pipeline_model(const dw_pipeline *p);
/* One block exactly as the source delivered it (b->gap frames lost before it). 0, or -1 out of memory. */
int  dw_pipeline_push(dw_pipeline *p, const dw_block *b);
/* End of the stream: the resampler's delay is pushed out so the last complete epoch finishes; a last epoch
 * short by at most DW_EPOCH_UNUSABLE_S seconds is completed (its missing seconds lost) and judged as any. */
void dw_pipeline_finish(dw_pipeline *p);
/* The provisional label of the epoch in progress from the last 30 s: 1 with prob and stage, 0 when there
 * are not 30 s yet or an unusable second lies in them. The stager's state is not changed. */
int  dw_pipeline_provisional(const dw_pipeline *p, double prob[DW_NSTAGES], int *stage);
/* Source time (s) up to which staging has seen the signal (frames at DW_FS / DW_FS). */
double dw_pipeline_time(const dw_pipeline *p);
/* A seek: the stream goes on at source time t (s); the epoch in progress keeps only what follows t. */
int  dw_pipeline_reposition(dw_pipeline *p, double t);

#endif
