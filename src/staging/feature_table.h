/* Per-epoch feature tables: the columns of ../shared/data/sleep-edf/features (epoch, onset_s, optional
 * stage, fpz_delta .. fpz_dvar, optional pz_delta .. pz_dvar), read row by row for the stager. */
#ifndef DW_FEATURE_TABLE_H
#define DW_FEATURE_TABLE_H

#include <stdio.h>
#include "staging/stager.h"

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
