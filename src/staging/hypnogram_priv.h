/* Shared by the hypnogram readers (hypnogram_io.c, hypnogram_text.c); not for other modules. */
#ifndef DW_HYPNOGRAM_PRIV_H
#define DW_HYPNOGRAM_PRIV_H

#include <stdio.h>
#include "staging/hypnogram.h"

/* Appends a period (onset and duration in seconds from the scoring's start; dur <= 0: unknown, set to the
 * scoring's step later). *cap is h->seg's capacity. 0, or -1 out of memory. */
int dw_hyp_add(dw_hypnogram *h, int *cap, double onset, double dur, int stage);
/* The text forms into h->seg, h->start, h->format and h->note; 0 or -1 with err naming the line. */
int dw_hyp_read_text(FILE *f, const char *path, dw_hypnogram *h, dw_err *err);
/* After a reader: periods sorted, step found, missing durations set, stage[] on the scoring's own 30-s
 * grid. 0 or -1 with err. */
int dw_hyp_finish(const char *path, dw_hypnogram *h, dw_err *err);

#endif
