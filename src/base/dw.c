/* Stage names, error text and clocks used by every layer. */
#include "base/dw.h"
#include "base/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>

static const char *const stage_names[DW_NSTAGES] = { "W", "N1", "N2", "N3", "R" };

const char *dw_stage_name(int stage)
{
    return (stage >= 0 && stage < DW_NSTAGES) ? stage_names[stage] : "?";
}

int dw_stage_parse(const char *s)
{
    for (int i = 0; i < DW_NSTAGES; i++)
        if (!strcasecmp(s, stage_names[i]))
            return i;
    if (!strcasecmp(s, "REM") || !strcasecmp(s, "R"))
        return DW_R;
    if (!strcmp(s, "0")) return DW_W;
    if (!strcmp(s, "1")) return DW_N1;
    if (!strcmp(s, "2")) return DW_N2;
    if (!strcmp(s, "3") || !strcmp(s, "4")) return DW_N3; /* R&K 3 and 4 are AASM N3 */
    return DW_UNSCORED;
}

void dw_err_set(dw_err *e, const char *fmt, ...)
{
    if (!e)
        return;
    e->usage = 0;
    char raw[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    /* names, labels and values from files reach messages: none may drive the terminal */
    dw_escape(raw, (size_t)n < sizeof raw ? (size_t)n : sizeof raw - 1, e->msg, sizeof e->msg);
}

void *dw_xrealloc(void *p, size_t n, const char *what)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "dreamwatch: out of memory (%zu bytes for %s); the recording is kept\n", n, what);
        _exit(3);
    }
    return q;
}

char *dw_xstrdup(const char *s, const char *what)
{
    size_t n = strlen(s) + 1;
    char *d = dw_xrealloc(NULL, n, what);
    memcpy(d, s, n);
    return d;
}

static int simd_off;                      /* dw_simd_allow(0): set by tests before any thread */

int dw_cpu_avx(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    static int avx = -1;                  /* a benign race: every thread finds the same */
    if (avx < 0)
        avx = __builtin_cpu_supports("avx") ? 1 : 0;
    return avx && !simd_off;
#else
    return 0;
#endif
}

int dw_simd_allow(int allow)
{
    simd_off = !allow;
    return dw_cpu_avx();
}

double dw_now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

double dw_now_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}
