/* Hypnograms: reading reference scorings, sleep statistics and agreement between two scorings. */
#ifndef DW_HYPNOGRAM_H
#define DW_HYPNOGRAM_H

#include <stdio.h>
#include "base/dw.h"

/* Stages per 30-s epoch counted from the start of the recording. Unscored epochs are DW_UNSCORED. */
typedef struct {
    signed char *stage;
    int n;
} dw_hypnogram;

/* A reference hypnogram from EDF+ annotations ("Sleep stage W/1/2/3/4/R/?", "Movement time", and AASM
 * spellings "Sleep stage N1/N2/N3"), either a Sleep-EDF *-Hypnogram.edf or a recording's own annotations.
 * 0 on success, -1 with err naming the file and the bad annotation. */
int  dw_hypnogram_load(const char *path, dw_hypnogram *h, dw_err *err);
void dw_hypnogram_free(dw_hypnogram *h);

typedef struct {
    double tib_min;            /* time in bed: all epochs scored W or sleep */
    double spt_min;            /* sleep period: first to last sleep epoch */
    double tst_min;            /* total sleep time */
    double sol_min;            /* sleep onset latency: start to first sleep epoch */
    double waso_min;           /* wake after sleep onset, within SPT */
    double se_pct;             /* sleep efficiency TST / TIB */
    double sme_pct;            /* sleep maintenance efficiency TST / SPT */
    double rem_latency_min;    /* from sleep onset to first R; -1 if no R */
    double stage_min[DW_NSTAGES];
    double stage_pct[DW_NSTAGES];   /* of TST for sleep stages, of SPT for W */
    int    awakenings;         /* runs of W inside SPT */
    double transitions_per_h;  /* stage changes per hour of SPT */
} dw_sleep_stats;

void dw_sleep_stats_compute(const signed char *stage, int n, dw_sleep_stats *out);
/* REM periods: runs of R epochs, two runs less than DW_REM_GAP_EPOCHS apart counting as one period (the
 * 15-min criterion of Feinberg & Floyd, Psychophysiology 1979, as most cycle analyses use). */
#define DW_REM_GAP_EPOCHS 30
int  dw_rem_periods(const signed char *stage, int n);

typedef struct {
    long   n;                              /* epochs scored in both */
    long   confusion[DW_NSTAGES][DW_NSTAGES]; /* rows reference, columns ours */
    double accuracy, kappa, macro_f1;
    double f1[DW_NSTAGES];
} dw_agreement;

/* Over epochs where both are scored. */
void dw_agreement_compute(const signed char *ref, const signed char *ours, int n, dw_agreement *out);

/* Reports: printed as `score` prints them (two-space indent). */
void dw_print_sleep_stats(FILE *f, const dw_sleep_stats *s);
void dw_print_agreement(FILE *f, const dw_agreement *a);
/* Epochs each side of the sleep period in the window most work scores on (30 min). */
#define DW_SLEEP_WINDOW_EPOCHS 60

/* The window most work scores on: first sleep epoch of ref - 60 to last + 60 (clipped). -1 if no sleep. */
int dw_sleep_window(const signed char *ref, int n, int *from, int *to);

#endif
