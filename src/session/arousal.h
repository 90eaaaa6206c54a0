/* Arousal watch after stimuli (arousal-aware stimulation, as SLUMBER-style closed loops do): after
 * a stimulus or cue, the next window_s seconds are watched for signs of an arousal; the session
 * pauses stimulation and steps the volume down after one, and steps it back up after a run of quiet
 * stimuli.
 *
 * Signs: the frontal channel's alpha (8-11 Hz) or beta (16-30 Hz) power over any 3 s of the window
 * at least `ratio` times its mean over the 10 s before the stimulus (the AASM arousal is an abrupt
 * shift to alpha, theta or faster than 16 Hz lasting 3 s or more after 10 s of stable sleep; the
 * sigma band 11-16 Hz is left out so that the spindles a stimulus evokes do not count). Measured on
 * the sample night with ratio 3 (its stage changes are abrupt): 14 power-rise verdicts after 891
 * stimuli; with 1-s windows, 41 after 751; and whatever the session reports through dw_arousal_sign
 * (a W or N1 provisional label, movement, an artefact). Power is the mean square of the band-passed
 * signal (4th-order Butterworth high- and low-pass at the band edges) in 0.25-s bins. A stimulus
 * during a watch extends it; the baseline stays the one before the first. */
#ifndef DW_AROUSAL_H
#define DW_AROUSAL_H

#include "dsp/biquad.h"

#define DW_AROUSAL_BIN_S 0.25
#define DW_AROUSAL_BASE_BINS 40            /* 10 s */
#define DW_AROUSAL_WIN_BINS 12             /* 3 s: the AASM's shortest arousal */

typedef struct {
    int    aroused;                        /* 1: an arousal; 0: the window passed quietly */
    long   first_id;                       /* the stimulus that opened the watch */
    int    nstim;                          /* stimuli inside the watch */
    double t;                              /* when it was decided */
    char   cause[80];                      /* "alpha x4.2", "provisional W", "movement" ... */
} dw_arousal_result;

typedef struct {
    double window_s, ratio, fs;
    dw_cascade alpha, beta;
    int    bin_len, bin_fill;
    double acc_a, acc_b;
    double ring_a[DW_AROUSAL_BASE_BINS], ring_b[DW_AROUSAL_BASE_BINS];
    int    nring, ring_i;
    int    watching, nstim, nwin, done;
    long   first_id;
    double end_t, base_a, base_b;
    double win_a[DW_AROUSAL_WIN_BINS], win_b[DW_AROUSAL_WIN_BINS];
    dw_arousal_result result;
} dw_arousal;

/* window_s: seconds watched after each stimulus; ratio: power rise that counts (> 1). */
void dw_arousal_init(dw_arousal *a, double window_s, double ratio);
/* The frontal channel, one sample (uV) at source time t, at rate fs (a new rate starts again). */
void dw_arousal_sample(dw_arousal *a, double fs, double t, double x);
/* The same in two steps, for a block: dw_arousal_filter puts n samples at rate fs through the alpha and
 * beta band-passes (non-finite samples skipped, as dw_arousal_sample skips them) and gives each sample's
 * squared outputs in ya2[i], yb2[i] (0 for a skipped one; to the bit what dw_arousal_sample computes:
 * dsp/biquad.h dw_cascade_run2, about a third of the cost a sample); then each sample, with its two
 * values, goes to dw_arousal_sample_filtered at its time, in order. */
void dw_arousal_filter(dw_arousal *a, double fs, const double *x, int n, double *ya2, double *yb2);
void dw_arousal_sample_filtered(dw_arousal *a, double t, double x, double ya2, double yb2);
/* A gap: filters and baseline forgotten; a watch in progress ends without a verdict. */
void dw_arousal_reset(dw_arousal *a);
/* A stimulus (or cue) with this id was given at t. */
void dw_arousal_stimulus(dw_arousal *a, double t, long id);
/* A sign of arousal at t from elsewhere; counts only while watching. */
void dw_arousal_sign(dw_arousal *a, double t, const char *cause);
/* 1 with *r when a watch has its verdict (an arousal as soon as it is seen, quiet when the window
 * ends at t). */
int  dw_arousal_take(dw_arousal *a, double t, dw_arousal_result *r);
/* 1 while a watch is open. */
int  dw_arousal_watching(const dw_arousal *a);

#endif
