/* Why a night's epochs were unscored, or staged on fewer channels than the rest, counted by cause from the
 * one signal-quality verdict (dsp/quality.h) as the staging pipeline saw it (dw_epoch_result.flag_s): what
 * `score` prints under the sleep statistics and writes in its summary, in the same words.
 *
 * Each epoch has one cause per channel: "gap" when all 30 of its seconds were lost (no signal at all: a
 * gap in the file or the stream), else the flag with the most seconds among out of range, lost, railed,
 * flat and artefact (ties in that order, dw_quality_name's). An unscored epoch is counted on the frontal
 * channel, or on the parietal one when a given two-channel model, which has no one-channel stand-in,
 * lost it; an epoch staged by the one-channel stand-in is counted on the parietal channel. */
#ifndef DW_EPOCH_TALLY_H
#define DW_EPOCH_TALLY_H

#include <stdio.h>

#include "staging/hypnogram.h"
#include "staging/pipeline.h"

enum { DW_WHY_RANGE, DW_WHY_LOST, DW_WHY_RAILED, DW_WHY_FLAT, DW_WHY_ARTEFACT, DW_WHY_GAP, DW_WHY_N };

typedef struct {
    int epochs;                 /* every epoch seen */
    int unscored;               /* of them, unscored */
    int one_channel;            /* of them, staged by the one-channel stand-in (parietal unusable) */
    int why[2][DW_WHY_N];       /* unscored epochs by [frontal, parietal (a model without stand-in)][cause] */
    int why_one[DW_WHY_N];      /* one-channel epochs by the parietal channel's cause */
} dw_epoch_tally;

/* Counts one epoch. */
void dw_epoch_tally_add(dw_epoch_tally *t, const dw_epoch_result *r);
/* Counts n epochs the pipeline never delivered (a seek skipped them): unscored, cause "gap". */
void dw_epoch_tally_missing(dw_epoch_tally *t, int n);
/* The causes, one line each, after indent: "why 40 unscored epochs: EEG Fpz-Cz flat 38, lost 2", and
 * "40 of 120 staged epochs on EEG Fpz-Cz alone (model eeg standing in for fpz_pz): EEG Pz-Oz flat 40".
 * label: the frontal and parietal channels' labels (parietal NULL without one); model: the night's model,
 * stand_in: the one-channel model that stood in. Nothing when every epoch was staged on every channel. */
void dw_epoch_tally_print(FILE *f, const char *indent, const dw_epoch_tally *t, const char *const label[2],
                          const char *model, const char *stand_in);
/* What a summary says about how a night was staged: `score`'s (app/cmd_score.c) and a live or replayed
 * session's (session/session_report.c) from this one function, in the same words. */
typedef struct {
    const char *label[2];           /* the staged channels: frontal, parietal (NULL: none, or a one-channel
                                       model's unused parietal) */
    const char *roles[2];           /* the same slots as the source chose them, for the "staging:" line */
    const char *how;                /* which rule chose them (dw_source_info.roles_how) */
    const char *model, *stand_in;   /* the night's model; the one-channel model that stands in (NULL none) */
    const dw_epoch_tally *tally;    /* every epoch seen */
    const dw_sleep_stats *st;       /* NULL: no whole epoch staged */
    int rem_periods;
    double signal_s;                /* the source's length, said when st is NULL */
} dw_staged_night;
/* After indent, one line each: "staging: frontal EEG Fpz-Cz, parietal EEG Pz-Oz (by electrode name)"
 * (dw_montage_roles_line), the sleep statistics (dw_print_sleep_stats) and "REM periods N", or "no whole
 * epoch to stage (S s of signal): ...", then dw_epoch_tally_print's lines (why epochs were unscored or staged
 * on one channel). */
void dw_print_staged_night(FILE *f, const char *indent, const dw_staged_night *n);
/* The cause name: "out of range", "lost", "railed", "flat", "artefact", "no signal (gap)". */
const char *dw_epoch_why_name(int why);

#endif
