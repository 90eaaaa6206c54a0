/* The staging pipeline shared by the live worker and the headless `score` command: samples at DW_FS
 * in, one result per finished 30-s epoch out (features, Welch PSD, stage probabilities). */
#ifndef DW_SCORING_H
#define DW_SCORING_H

#include "staging/features.h"
#include "staging/stager.h"

typedef struct {
    int    epoch;                       /* index from the start of the recording */
    int    stage;                       /* most probable stage */
    double prob[DW_NSTAGES];
    int    valid;                       /* 0: too much of the epoch was missing or railed */
    dw_features feat[2];                /* frontal, parietal */
    double psd[DW_PSD_BINS];            /* Welch PSD of the frontal channel */
} dw_epoch_result;

typedef struct dw_scoring dw_scoring;

/* nch is 1 (frontal) or 2 (frontal, parietal); it must match the model. railed_uv: |x| at or above
 * this counts as railed (0: never). */
dw_scoring *dw_scoring_new(const dw_model *m, double railed_uv);
void dw_scoring_free(dw_scoring *s);
int  dw_scoring_channels(const dw_scoring *s);
/* Feed n frames; parietal may be NULL for one channel. Returns how many epochs finished (0 or more);
 * each is passed to on_epoch. */
int  dw_scoring_push(dw_scoring *s, const double *frontal, const double *parietal, int n,
                     void (*on_epoch)(void *ctx, const dw_epoch_result *r), void *ctx);
/* n frames were lost: the epoch clock moves on; epochs mostly missing are marked invalid. */
int  dw_scoring_gap(dw_scoring *s, long n,
                    void (*on_epoch)(void *ctx, const dw_epoch_result *r), void *ctx);
/* Provisional label from the last 30 s (0 if fewer than 30 s have been seen); state unchanged. */
int  dw_scoring_provisional(const dw_scoring *s, double prob[DW_NSTAGES], int *stage);
/* Frames seen so far (including gaps), i.e. the position of the epoch clock. */
long dw_scoring_frames(const dw_scoring *s);
/* Jump the epoch clock to frame (seek in a replay): the partial epoch is dropped. */
void dw_scoring_reposition(dw_scoring *s, long frame);

#endif
