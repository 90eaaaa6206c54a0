/* libFuzzer: the model-file parser, then a few epochs through whatever model it accepted. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "staging/stager.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    dw_err err;
    dw_model *m = dw_model_parse(text, "fuzz.dwm", &err);
    free(text);
    if (!m)
        return 0;
    dw_stager *s = dw_stager_new(m);
    dw_features f[2] = { { 50, 10, 3, 1, 0.5, 400, 60 }, { 20, 5, 4, 0.8, 0.3, 150, 40 } };
    double p[DW_NSTAGES];
    for (int i = 0; s && i < 12; i++) {
        f[0].delta *= 1.7;
        f[1].alpha *= 0.6;
        dw_stager_peek(s, f, p);
        dw_stager_push(s, f, i % 5 != 3, p);
        if (dw_stager_unlike_training(s) && !(dw_stager_distance(s) > 0))
            abort();   /* flagged with no distance: a broken invariant */
    }
    dw_stager_free(s);
    dw_model_free(m);
    return 0;
}
