/* One night's figures: what a summary file says about the night (`dreamwatch` writes one for
 * every watched, replayed or recorded night, `score` one per scored recording) and what
 * `dreamwatch nights` reads back. The sleep statistics are staging/sleep_stats.c's
 * (dw_sleep_stats); the summary states their bases: stage shares are of total sleep time (TST),
 * sleep efficiency is TST over the time in bed (every scored epoch: an unscored one is no time
 * at all), wake is counted inside the sleep period (WASO). */
#ifndef DW_NIGHT_H
#define DW_NIGHT_H

#include <stdio.h>
#include "base/dw.h"
#include "staging/hypnogram.h"

typedef struct {
    double start_wall;          /* clock time of the recording's start (Unix), 0 unknown */
    char   source[160];         /* what was watched or scored, e.g. "edf night1.edf" */
    char   kind[16];            /* "live", "replay" or "scored" */
    int    epochs, unscored;
    dw_sleep_stats st;
    int    rem_periods;
    int    stimuli, cues, alerts, critical;   /* -1 where the night had no session (scored) */
    int    seeks, seek_skipped, seek_restaged; /* a replay that was seeked: its labels are not those of a
                                                  straight pass (see dw_monitor); 0 otherwise */
} dw_night;

/* Epoch counts, statistics and REM periods of a hypnogram (n epochs, DW_UNSCORED allowed); the session
 * counts are set to -1, start_wall to 0, source and kind to "". */
void dw_night_from_stages(dw_night *nt, const signed char *stage, int n);
/* One line saying that a replay was seeked and what that did to its labels; nothing when seeks is 0. */
void dw_night_print_seeks(FILE *f, const char *indent, int seeks, int skipped, int restaged);
/* The "## Figures" section: one "key<TAB>value" line per figure (keys in night.c), for machines. */
void dw_night_print_figures(FILE *f, const dw_night *nt);
/* The figures of a summary file. 0, or -1 with err naming the file and line (a summary without a figures
 * section, e.g. from an older dreamwatch, says so). */
int  dw_night_read(const char *path, dw_night *nt, dw_err *err);
/* The same from an open stream (name: for messages). */
int  dw_night_read_from(FILE *f, const char *name, dw_night *nt, dw_err *err);

#endif
