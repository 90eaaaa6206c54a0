/* libFuzzer: the text hypnogram readers (one stage per line, onset,duration,stage tables) and the
 * alignment by clock time, on arbitrary bytes. Checks beyond "no crash": every epoch is a stage or
 * unscored, and the epochs inside plus outside never exceed what the scoring covers. Seeds:
 * tests/fuzz/seeds/hypnogram_text. */
#include "staging/hypnogram.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    dw_hypnogram h;
    dw_err err;
    if (dw_hypnogram_read_text(f, "fuzz.txt", &h, &err) == 0) {
        for (int i = 0; i < h.n; i++)
            if (h.stage[i] < DW_UNSCORED || h.stage[i] >= DW_NSTAGES)
                __builtin_trap();
        static const double starts[] = { 0, 1710534600, 1710534600 + 86400 };   /* 2024-03-15 22:30 UTC */
        for (int k = 0; k < 3; k++) {
            signed char *st;
            int n;
            dw_ref_alignment a;
            if (dw_hypnogram_align(&h, starts[k], k == 1 ? 120 : 0, &st, &n, &a, &err) == 0) {
                for (int i = 0; i < n; i++)
                    if (st[i] < DW_UNSCORED || st[i] >= DW_NSTAGES)
                        __builtin_trap();
                if (a.inside > n)
                    __builtin_trap();
                free(st);
            }
        }
        dw_hypnogram_free(&h);
    }
    fclose(f);
    return 0;
}
