/* libFuzzer: the "## Figures" reader of night summaries (`dreamwatch nights`), and the figures written
 * back from what it read (every value a finite number or "none"). */
#include <stdint.h>
#include <stdio.h>
#include "staging/night.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    dw_night nt;
    dw_err err;
    if (dw_night_read_from(f, "fuzz.summary.txt", &nt, &err) == 0) {
        FILE *out = fopen("/dev/null", "w");
        if (out) {
            dw_print_sleep_stats(out, "", &nt.st);
            dw_night_print_figures(out, &nt);
            fclose(out);
        }
    }
    fclose(f);
    return 0;
}
