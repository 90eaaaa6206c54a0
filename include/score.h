/* `dreamwatch score --features TABLE.tsv... [--model FILE]`: stage per-epoch feature tables (the columns of
 * ../shared/data/sleep-edf/features) with the causal stager, one output row per input row. */
#ifndef DW_SCORE_H
#define DW_SCORE_H

#include <stdio.h>
#include "stager.h"

/* argv[0] is "score"; the rest as given after it (--features anywhere). Returns the exit status. */
int dw_score_features_main(int argc, char **argv);

/* A feature table being read: columns found by name in the header line. */
typedef struct dw_feature_table dw_feature_table;

/* Opens path and reads its header; NULL with err naming the file (and line). */
dw_feature_table *dw_feature_table_open(const char *path, dw_err *err);
/* Wraps an open stream (fuzzing, stdin); name is used in messages. The stream stays the caller's. */
dw_feature_table *dw_feature_table_from(FILE *f, const char *name, dw_err *err);
int  dw_feature_table_channels(const dw_feature_table *t);   /* 1 (fpz_*) or 2 (fpz_* and pz_*) */
int  dw_feature_table_has_stage(const dw_feature_table *t);
/* Rows with a missing value (empty, NaN or NA): they reach the stager as unusable epochs. */
long dw_feature_table_missing(const dw_feature_table *t, long *first_line);
/* The next row: 1, 0 at the end, -1 with err naming file and line. stage is DW_UNSCORED when the table
 * has no stage column or the row's stage is not W/N1/N2/N3/R. */
int  dw_feature_table_next(dw_feature_table *t, long *epoch, int *stage, dw_features feats[2], dw_err *err);
void dw_feature_table_close(dw_feature_table *t);

#endif
