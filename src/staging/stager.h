/* The causal sleep stager: a model file (features -> context -> classifier -> forward HMM) and the
 * per-night state that runs it epoch by epoch, using only the past. */
#ifndef DW_STAGER_H
#define DW_STAGER_H

#include "base/dw.h"
#include "staging/features.h"

typedef struct dw_model dw_model;
typedef struct dw_stager dw_stager;

/* A model file (format in src/staging/MODEL_FORMAT.md). NULL with err naming file and line. */
dw_model *dw_model_load(const char *path, dw_err *err);
/* A model from text already in memory (name is used in error messages). */
dw_model *dw_model_parse(const char *text, const char *name, dw_err *err);
/* The compiled-in default for 2 channels (Fpz-Cz + Pz-Oz) or 1 channel (Fpz-Cz). Never NULL. */
const dw_model *dw_model_builtin(int nchannels);
int  dw_model_channels(const dw_model *m);     /* 1 or 2 */
const char *dw_model_name(const dw_model *m);
void dw_model_free(dw_model *m);              /* no-op for built-ins */

dw_stager *dw_stager_new(const dw_model *m);
void dw_stager_free(dw_stager *s);
/* One finished epoch. feats[0] frontal, feats[1] parietal (when the model takes two).
 * valid == 0: the epoch has no usable signal (gap, all railed); the HMM only predicts.
 * Writes the filtered stage probabilities; returns the most probable stage. */
int  dw_stager_push(dw_stager *s, const dw_features *feats, int valid, double prob[DW_NSTAGES]);
/* A provisional label for the epoch in progress (features of the last 30 s): the state is not changed. */
int  dw_stager_peek(const dw_stager *s, const dw_features *feats, double prob[DW_NSTAGES]);

#endif
