/* The causal sleep stager: a model file (features -> context -> classifier -> forward HMM) and the
 * per-night state that runs it epoch by epoch, using only the past. */
#ifndef DW_STAGER_H
#define DW_STAGER_H

#include <stdio.h>

#include "base/dw.h"
#include "staging/features.h"

typedef struct dw_model dw_model;
typedef struct dw_stager dw_stager;

/* A model file (format in src/staging/MODEL_FORMAT.md). NULL with err naming file and line, marked as a
 * usage error (err->usage: the command exits 2). */
dw_model *dw_model_load(const char *path, dw_err *err);
/* A model from text already in memory (name is used in error messages). */
dw_model *dw_model_parse(const char *text, const char *name, dw_err *err);
/* The compiled-in default for 2 channels (Fpz-Cz + Pz-Oz: `fpz_pz`) or 1 channel (any EEG
 * derivation: `eeg`), for sources sampled at 100 Hz or more. Never NULL. */
const dw_model *dw_model_builtin(int nchannels);
/* The compiled-in model for up to nchannels channels from a source sampled at source_hz (its rate
 * before resampling to DW_FS): the first of fpz_pz, eeg, eeg_lo that takes no more channels and
 * whose dw_model_min_rate is <= source_hz. From 50 to 100 Hz that is `eeg_lo` (one channel: delta,
 * theta, alpha and the beta that such a source carries; gamma (30-50 Hz) cannot exist below 100
 * Hz), so with two channels only the frontal one is staged. NULL below 50 Hz: no built-in model
 * fits, refuse the source. */
const dw_model *dw_model_builtin_for(int nchannels, double source_hz);
/* The highest frequency (Hz) the model's features read: the top edge of the highest band it uses
 * (delta 4, theta 8, alpha 13, beta 30, gamma 50), 50 if it reads a variance (var, dvar take in
 * everything up to the Nyquist frequency of DW_FS). */
double dw_model_max_hz(const dw_model *m);
/* The lowest source rate the model is meant for: its `rate` line (a model trained on bands cut as
 * such a source cuts them: eeg_lo, 50 Hz), else 2 * dw_model_max_hz (Nyquist: every band it reads
 * is there). Below it the model's features are meaningless (no power where it expects some): a
 * full-band model on a 50-Hz source stages nearly every epoch N2. */
double dw_model_min_rate(const dw_model *m);
/* The lowest source rate any built-in model stages (eeg_lo's dw_model_min_rate): below it
 * dw_model_builtin_for is NULL. */
double dw_model_builtin_min_rate(void);
/* The model's threshold on dw_stager_distance (its `ood` line), 0 for a model without one. */
double dw_model_unlike_threshold(const dw_model *m);
int  dw_model_channels(const dw_model *m);     /* 1 or 2 */
const char *dw_model_name(const dw_model *m);
void dw_model_free(dw_model *m);              /* no-op for built-ins */

dw_stager *dw_stager_new(const dw_model *m);
void dw_stager_free(dw_stager *s);
/* One finished epoch. feats[0] frontal, feats[1] parietal (when the model takes two).
 * valid == 0: the epoch has no usable signal (gap, all railed); the HMM only predicts.
 * Writes the filtered stage probabilities; returns the most probable stage. */
int  dw_stager_push(dw_stager *s, const dw_features *feats, int valid, double prob[DW_NSTAGES]);
/* A provisional label for the epoch in progress (features of the last 30 s): the state is not
 * changed. */
int  dw_stager_peek(const dw_stager *s, const dw_features *feats, double prob[DW_NSTAGES]);
/* How far this night sits from the model's training data, after the usable epochs pushed so far:
 * an exponentially weighted mean (half-life `ood` line, 30 min in the built-in models) of the
 * per-epoch mean of min(x^2, cap) over the classifier's standardised inputs x (cap 100 in the
 * built-in models). About 1 on training data (by construction of the standardisation:
 * MODEL_FORMAT.md, version 3); a flat channel or a 50-Hz source through a full-band model lies far
 * above it. 0 for a model without an `ood` line (format versions 1 and 2). Probabilities from push
 * and peek are already calibrated by it (less confident as it grows). */
double dw_stager_distance(const dw_stager *s);
/* 1 when dw_stager_distance is above the model's threshold: the night is unlike the training data
 * and agreement with a human scorer may be low. The threshold is the model's (`ood` line): the
 * 99.9 % quantile of the distance over the epochs of the leave-one-subject-out held-out nights
 * (tools/train_stager.py; all regimes, sleep period +- 30 min; 16 Sleep-EDF nights): built-in eeg
 * 4.1 (128870 epochs, Fpz-Cz and Pz-Oz), eeg_lo 6.3 (128870), fpz_pz 3.0 (its trainer run; format
 * 4: distance only, its probabilities are not tempered). Or the start rule below. */
int  dw_stager_unlike_training(const dw_stager *s);
/* The start of a night (format 4, `ood_start` line): while the night has had fewer usable epochs
 * than the distance's prior weight (20 in the built-in models), the prior (1, worth 20 epochs)
 * holds dw_stager_distance down, so a recording of a few minutes can never reach the threshold
 * (measured: 3 epochs of an awake OpenBCI recording, 11.6-14 each, gave 2.5 through `eeg`, under
 * 4.1). Over
 * those first epochs this is the plain mean of the per-epoch distance (0 after them, before the
 * first, or without `ood_start`), and dw_stager_unlike_training is also 1 when it is above the
 * model's `ood_start` threshold: the 99.9 % quantile of that mean over the first 1-20 epochs of
 * fresh starts at every 5th epoch of the 16 Sleep-EDF nights' sleep period +- 30 min (largest at
 * one epoch), raised by the ratio of the held-out to the in-sample 99.9 % quantile of the distance
 * (1.02-1.06): fpz_pz 5.7, eeg 8.3, eeg_lo 14 (MODEL_FORMAT.md, version 4). */
double dw_stager_start_distance(const dw_stager *s);

/* A night's record of that flag for a report: usable epochs, how many of them were staged while the
 * night was unlike the training data, the largest distance and start distance. Start from all
 * zeros. */
typedef struct { long epochs, flagged; double max_distance, max_start; } dw_unlike_tally;
void dw_unlike_tally_add(dw_unlike_tally *t, double distance, double start_distance, int unlike);
/* The report's note when any epoch was flagged (nothing otherwise), one line to f starting with
 * prefix: the measure, the model's threshold, how many epochs and the largest distance. */
void dw_print_unlike_note(FILE *f, const char *prefix, const dw_model *m, const dw_unlike_tally *t);

#endif
