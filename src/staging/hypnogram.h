/* Hypnograms: reading reference scorings, sleep statistics and agreement between two scorings. */
#ifndef DW_HYPNOGRAM_H
#define DW_HYPNOGRAM_H

#include <stdio.h>
#include "base/dw.h"

/* A stage period as the scoring file gives it: onset in seconds after the scoring's start. */
typedef struct {
    double onset_s, dur_s;
    signed char stage;                   /* DW_W..DW_R (unscored periods are not kept) */
} dw_hyp_seg;

/* A reference scoring. stage[] is it on 30-s epochs from its own start (see dw_hypnogram_align for the
 * rule); seg[] is what the file says, for alignment to a recording by clock time. */
typedef struct {
    signed char *stage;                  /* n epochs; unscored epochs are DW_UNSCORED */
    int n;
    dw_hyp_seg *seg;                     /* nseg periods, by onset */
    int nseg;
    double start;                        /* clock time of the scoring's time 0 as Unix time, read like
                                            dw_source_info.start_epoch (local time); 0 when the file has none */
    int start_tod;                       /* start is a time of day only (seconds after midnight, no date) */
    double step_s;                       /* the scoring's step: 30, or 20 and 5 (R&K pages, some databases) */
    char path[1024];                     /* the file, for messages */
    char format[48];                     /* "EDF+ annotations", "text, one stage per line", "CSV ..." */
    char note[768];                      /* lines, each naming the file: what was assumed or mapped */
} dw_hypnogram;

/* A reference hypnogram: EDF+/BDF+ annotations ("Sleep stage W/1/2/3/4/R/?", "Movement time", AASM "Sleep
 * stage N1/N2/N3"; a Sleep-EDF *-Hypnogram.edf or a recording's own annotations), or text: one stage per
 * line (W N1 N2 N3 R, R&K 1-4, "Sleep stage X", numbers 0-5, ? for unscored; 30-s epochs from an unknown
 * start), or a table "onset,duration,stage" (comma, tab or semicolon; a header row names the columns as
 * MNE, YASA and the NSRR tools write them; onsets in seconds, as clock times HH:MM:SS or as date and time;
 * MNE's "# orig_time" line gives the start). 0, or -1 with err naming the file and the line or annotation.
 * EDF files go through EDFlib: call it from the thread that owns EDF (see sources/edf_source.c). */
int  dw_hypnogram_load(const char *path, dw_hypnogram *h, dw_err *err);
/* The text forms from an open stream (name for messages); the same result as dw_hypnogram_load. */
int  dw_hypnogram_read_text(FILE *f, const char *name, dw_hypnogram *h, dw_err *err);
void dw_hypnogram_free(dw_hypnogram *h);

/* How a reference was laid onto a recording. */
typedef struct {
    int    by_clock;                     /* 1: both start times known and used; 0: laid from epoch 0 */
    double offset_s;                     /* the reference's start minus the recording's (s), when by_clock */
    int    inside;                       /* scored 30-s epochs that fall inside the recording */
    int    before, after;                /* scored 30-s epochs before the recording's start, after its end */
    int    majority;                     /* the 30-s epochs were made by the majority rule (another step, or
                                            an offset that is not a whole number of epochs) */
    double step_s;                       /* the reference's step */
} dw_ref_alignment;

/* Lays ref onto the recording's 30-s epochs 0..rec_epochs-1 (rec_epochs <= 0: as far as the reference
 * reaches) by the clocks of the two headers: rec_start is dw_source_info.start_epoch (0 unknown). Each
 * 30-s epoch takes the stage scored for more than half of it (over 15 s); less, or a tie, leaves it
 * unscored (the rule for 20-s R&K pages and 5-s steps alike). *out gets *n_out stages (malloc'd).
 * A reference none of whose scored epochs overlaps the recording while both start times are known is
 * refused (another night, or the wrong file): -1 with err saying both start times. 0 otherwise. */
int  dw_hypnogram_align(const dw_hypnogram *ref, double rec_start, int rec_epochs, signed char **out,
                        int *n_out, dw_ref_alignment *a, dw_err *err);
/* "  reference X: ..." lines: how it was aligned, what lies outside, the mapping rule. */
void dw_print_alignment(FILE *f, const char *path, const dw_hypnogram *ref, const dw_ref_alignment *a);

/* Sleep statistics (definitions: AASM Scoring Manual v2.6 terms; the README's "Sleep statistics" gives
 * them in full). Durations count scored epochs only: an unscored epoch (a gap in the file, lost or bad
 * signal, "?" in a reference) is no time at all, neither in bed nor asleep nor awake. An absent quantity
 * is DW_NONE (printed "none"), never a number. */
#define DW_NONE (-1.0)
typedef struct {
    double tib_min;            /* time in bed: every scored epoch (W or sleep) */
    double spt_min;            /* sleep period: scored epochs from the first sleep epoch to the
                                  last; DW_NONE without sleep */
    double tst_min;            /* total sleep time: N1 + N2 + N3 + R */
    double sol_min;            /* sleep onset latency: scored epochs before the first sleep epoch; DW_NONE */
    double waso_min;           /* wake after sleep onset: W within the sleep period; DW_NONE
                                  without sleep */
    double se_pct;             /* sleep efficiency 100 TST / TIB; DW_NONE when TIB is 0 */
    double sme_pct;            /* sleep maintenance efficiency 100 TST / SPT; DW_NONE without sleep */
    double rem_latency_min;    /* scored epochs from sleep onset to the first R; DW_NONE without R */
    double stage_min[DW_NSTAGES];   /* every scored epoch once: they add up to TIB */
    double stage_pct[DW_NSTAGES];   /* of TIB: they add up to 100; DW_NONE when TIB is 0 */
    double tst_pct[DW_NSTAGES];     /* N1, N2, N3, R of TST (the clinical convention; add up to
                                       100); W 0; all DW_NONE when TST is 0 */
    int    awakenings;         /* runs of W inside the sleep period */
    double transitions_per_h;  /* stage changes per hour of the sleep period; DW_NONE without sleep */
    int    unscored;           /* epochs left out of every figure */
    int    too_short;          /* fewer than DW_NIGHT_MIN_EPOCHS scored epochs: the figures
                                  that need a night (SOL, SPT, WASO, SE, SME, REM latency,
                                  transitions) are DW_NONE */
} dw_sleep_stats;

/* The fewest scored epochs (10 min) whose hypnogram gives a night's figures. Measured (the
 * built-in models run from fresh starts at every 10th epoch of the 16 Sleep-EDF nights' sleep
 * period +- 30 min, 40 epochs each, against the experts; in-sample, so if anything optimistic):
 * the stager's accuracy over a recording's first n epochs is 0.71-0.72 for n = 1, 0.76-0.77 for 3,
 * 0.81-0.82 for 10 and 0.83 for 20, against 0.85 on epochs 20-39 (fpz_pz 0.847, eeg 0.854); and
 * 20 epochs is where the running centre of fpz_pz stops leaning mostly on the population prior
 * (its weight: 20 epochs). Below it a recording (a snippet, an awake test) is no night: a sleep
 * efficiency of 100 % from 1.5 min of signal says nothing. */
#define DW_NIGHT_MIN_EPOCHS 20

/* n epochs of stage (DW_UNSCORED allowed). With fewer than DW_NIGHT_MIN_EPOCHS scored: too_short,
 * and the figures that need a night DW_NONE (TIB, TST and the stage minutes and shares stay). */
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

/* Whether a spindle or a slow wave (kind, dsp/sleep_events.h: 0 spindles, 1 slow waves) counts in
 * an epoch of this stage: spindles in N1, N2 and N3, slow waves in N2 and N3 — where the detectors'
 * criteria mean what they say (YASA's defaults: spindles_detect include=(1, 2, 3), sw_detect
 * include=(2, 3); Vallat & Walker, eLife 2021; the AASM scores spindles and slow waves in NREM).
 * In W, R or an unscored epoch a detection is an artefact or another rhythm (alpha and beta
 * bursts, blinks, movement): it is not counted, not tabled, and has no density. */
int dw_sleep_event_counts(int kind, int stage);

/* Whether detections of kind (dsp/sleep_events.h) count on a channel of this scalp region
 * (sources/montage.h, dw_montage_region): slow waves not on a parieto-occipital channel (a lone
 * Pz-Oz or O1-M2 that stages alone): the detector's criteria are absolute amplitudes (a negative
 * peak of -40 to -200 uV, 75-350 uV peak to peak: Massimini 2004, YASA's sw_detect) and the AASM
 * measures slow waves on frontal EEG (F4-M1), where they are largest; occipitally they are smaller,
 * so a count there would read as a low one. Spindles count everywhere: YASA's criteria are relative
 * to the channel's own power. */
int dw_micro_on_region(int kind, int region);
/* The figures of the kinds that do not count on a channel of region (dw_micro_on_region) made none: a
 * total -1 (dw_format_micro_totals: "not detected there"), a density DW_NONE, never a zero. Any of tot
 * (2), nrem (2) and density may be NULL. The one place `score`, the session summary and the screen
 * apply the rule. */
void dw_micro_for_region(int region, long tot[2], double nrem[2], double density[DW_NSTAGES][2]);
/* The note on the staged channel when it is not frontal (nothing for a frontal or unknown
 * one): which detections count there and why, as `score` prints it; label names the channel. */
void dw_print_micro_channel(FILE *f, const char *indent, const char *label, int region);

/* Spindle and slow-wave densities per stage (events per minute of that stage): count[e][k] events
 * of kind k (dsp/sleep_events.h: 0 spindles, 1 slow waves) started in epoch e, for the ncount first
 * epochs (later ones count 0). density[stage][k]; DW_NONE for a stage with no epoch or where the
 * kind does not count (dw_sleep_event_counts): no density exists. */
void dw_micro_density(const signed char *stage, int n, const int (*count)[2], int ncount,
                      double density[DW_NSTAGES][2]);
/* Spindle and slow-wave densities of N2 and N3 together, the same inputs: events of kind k started
 * in an N2 or N3 epoch per minute of N2 + N3, density[k]; DW_NONE before the first N2 or N3 epoch.
 * The base of the running densities on the screen: the stable NREM sleep where both kinds count
 * (the README's detector table reports its spindles per minute of N2/N3 likewise); a spindle of an
 * N1 epoch counts in dw_micro_totals but not here. The same formula as dw_micro_density. */
void dw_micro_nrem_density(const signed char *stage, int n, const int (*count)[2], int ncount,
                           double density[2]);
/* The detections in all, the same inputs: tot[k] of kind k in epochs where they count
 * (dw_sleep_event_counts), *set_aside the others (W, R, unscored, or past the n epochs staged). */
void dw_micro_totals(const signed char *stage, int n, const int (*count)[2], int ncount,
                     long tot[2], long *set_aside);
/* "12 spindles, 5 slow waves WHERE (spindles counted in N1-N3, slow waves in N2-N3; 3
 * detections in W, R or unscored epochs not counted)", the parenthesis only when some were set
 * aside; WHERE may be "". tot[1] < 0: "12 spindles WHERE, slow waves not detected there" (a channel
 * where they do not count, dw_micro_on_region). Cut to cap. The words `score`, the session summary
 * and the screen's summary box use. */
void dw_format_micro_totals(char *out, size_t cap, const char *where, const long tot[2],
                            long set_aside);
/* The same on a line of f, after indent. */
void dw_print_micro_totals(FILE *f, const char *indent, const char *where, const long tot[2],
                           long set_aside);
/* "spindles 2.4/min in N2, 1.1 in N3; slow waves 7.0/min in N3, 0.8 in N2" (DW_NONE: "none"), cut
 * to cap; the words of the summaries and of the screen's summary box. */
void dw_format_micro_density(char *out, size_t cap, const double density[DW_NSTAGES][2]);
/* "  " and the same on a line of f. */
void dw_print_micro_density(FILE *f, const double density[DW_NSTAGES][2]);
/* A density (events per minute) as the screen shows it: "2.4" under 9.95, "12" from there (one
 * significant decimal is all a 30-s epoch's counts carry at those rates), "none" for DW_NONE or
 * a value that is not finite. */
void dw_format_micro_rate(char *out, size_t cap, double per_min);
/* One epoch's detections where they count in its stage (dw_sleep_event_counts) and on the channel's
 * region (dw_micro_on_region): "3 spindles, 2 SW" (N2, N3), "1 spindle" (N1: slow waves do not count
 * there; nor on a parieto-occipital channel), "none counted" (W, R, unscored). count[k]: the epoch's
 * detections of kind k. SW: slow waves (the short form of the field). */
void dw_format_micro_epoch(char *out, size_t cap, int stage, int region, const int count[2]);

/* Reports. The sleep statistics as `score` and the session summary print them: each line starts with
 * indent; absent quantities say "none"; stage percentages are stated with their base; a too_short
 * hypnogram gets a line saying so (starting "note: too short for a night"). */
void dw_print_sleep_stats(FILE *f, const char *indent, const dw_sleep_stats *s);
void dw_print_agreement(FILE *f, const dw_agreement *a);
/* Epochs each side of the sleep period in the window most work scores on (30 min). */
#define DW_SLEEP_WINDOW_EPOCHS 60

/* The window most work scores on: first sleep epoch of ref - 60 to last + 60 (clipped). -1 if no sleep. */
int dw_sleep_window(const signed char *ref, int n, int *from, int *to);

#endif
