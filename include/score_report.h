/* Headless scoring: `dreamwatch score NIGHT.edf...` and `dreamwatch score --features TABLE.tsv...`. */
#ifndef DW_SCORE_REPORT_H
#define DW_SCORE_REPORT_H

#include <stdio.h>
#include "hypnogram.h"

/* argv[0] is "score". Returns the process exit status. */
int dw_score_main(int argc, char **argv);


/* Report helpers shared by both paths. */
void dw_print_sleep_stats(FILE *f, const dw_sleep_stats *s);
void dw_print_agreement(FILE *f, const dw_agreement *a);
/* Epochs each side of the sleep period in the window most work scores on (30 min). */
#define DW_SLEEP_WINDOW_EPOCHS 60

/* The window most work scores on: first sleep epoch of ref - 60 to last + 60 (clipped). -1 if no sleep. */
int dw_sleep_window(const signed char *ref, int n, int *from, int *to);

#endif
