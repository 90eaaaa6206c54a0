/* Frame-major blocks to and from columns (see frames.h). */
#include "base/frames.h"

#include <string.h>

#include "base/dw.h"

/* Clones are static, called through plain functions: clang (14) gives an exported target_clones
 * function no plain symbol, so callers in other files would not link (the fuzz builds). */
DW_AVX_CLONES
static void put_column(double *frames, int nch, int c, const double *col, int n)
{
    int i = 0;
    if (nch == 2) {             /* frames i..i+3: merge the column with the other channel's values */
        for (; i + 4 <= n; i += 4) {
            dw_v4d a, b, v;
            memcpy(&a, frames + 2 * i, sizeof a);
            memcpy(&b, frames + 2 * i + 4, sizeof b);
            memcpy(&v, col + i, sizeof v);
            if (c == 0) {
                a = __builtin_shufflevector(a, v, 4, 1, 5, 3);
                b = __builtin_shufflevector(b, v, 6, 1, 7, 3);
            } else {
                a = __builtin_shufflevector(a, v, 0, 4, 2, 5);
                b = __builtin_shufflevector(b, v, 0, 6, 2, 7);
            }
            memcpy(frames + 2 * i, &a, sizeof a);
            memcpy(frames + 2 * i + 4, &b, sizeof b);
        }
    }
    double *restrict d = frames + c;
    const double *restrict s = col;
    size_t st = (size_t)nch;
    for (; i + 4 <= n; i += 4) {
        d[(size_t)i * st] = s[i];
        d[(size_t)(i + 1) * st] = s[i + 1];
        d[(size_t)(i + 2) * st] = s[i + 2];
        d[(size_t)(i + 3) * st] = s[i + 3];
    }
    for (; i < n; i++)
        d[(size_t)i * st] = s[i];
}

DW_AVX_CLONES
static void get_column(double *col, const double *frames, int nch, int c, int n)
{
    int i = 0;
    if (nch == 2) {             /* frames i..i+3 in two loads, channel c's four values picked */
        for (; i + 4 <= n; i += 4) {
            dw_v4d a, b, v;
            memcpy(&a, frames + 2 * i, sizeof a);
            memcpy(&b, frames + 2 * i + 4, sizeof b);
            v = c == 0 ? __builtin_shufflevector(a, b, 0, 2, 4, 6)
                       : __builtin_shufflevector(a, b, 1, 3, 5, 7);
            memcpy(col + i, &v, sizeof v);
        }
    }
    const double *restrict s = frames + c;
    double *restrict d = col;
    size_t st = (size_t)nch;
    for (; i + 4 <= n; i += 4) {
        d[i] = s[(size_t)i * st];
        d[i + 1] = s[(size_t)(i + 1) * st];
        d[i + 2] = s[(size_t)(i + 2) * st];
        d[i + 3] = s[(size_t)(i + 3) * st];
    }
    for (; i < n; i++)
        d[i] = s[(size_t)i * st];
}

void dw_frames_put_column(double *frames, int nch, int c, const double *col, int n)
{
    put_column(frames, nch, c, col, n);
}

void dw_frames_get_column(double *col, const double *frames, int nch, int c, int n)
{
    get_column(col, frames, nch, c, n);
}
