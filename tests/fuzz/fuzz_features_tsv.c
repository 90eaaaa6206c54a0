/* libFuzzer: the per-epoch feature table reader of `score --features`, rows fed to the built-in stager. */
/* fuzz: -max_len=200000 */   /* lines past the reader's 64-KB bound must be tried */
#include <stdint.h>
#include <stdio.h>
#include "staging/feature_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    dw_err err;
    dw_feature_table *t = dw_feature_table_from(f, "fuzz.tsv", &err);
    if (t) {
        dw_stager *s = dw_stager_new(dw_model_builtin(dw_feature_table_channels(t)));
        long epoch;
        int stage;
        dw_features feats[2];
        double p[DW_NSTAGES];
        while (dw_feature_table_next(t, &epoch, &stage, feats, &err) > 0)
            dw_stager_push(s, feats, 1, p);
        dw_stager_free(s);
        dw_feature_table_close(t);
    }
    fclose(f);
    return 0;
}
