/* Stage names, error text and clocks used by every layer. */
#include "dw.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <libgen.h>
#include <limits.h>
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
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
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

int dw_find_data(const char *rel, char *out, size_t n)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    const char *dirs[4];
    int nd = 0;
    char d1[PATH_MAX], d2[PATH_MAX + 8], d3[PATH_MAX + 32];
    if (len > 0) {                       /* a build tree, or a relocated install (bin/../share/dreamwatch) */
        exe[len] = 0;
        snprintf(d1, sizeof d1, "%s", dirname(exe));
        snprintf(d2, sizeof d2, "%s/..", d1);
        snprintf(d3, sizeof d3, "%s/../share/dreamwatch", d1);
        dirs[nd++] = d1;
        dirs[nd++] = d2;
        dirs[nd++] = d3;
    }
#ifdef DW_DATADIR
    dirs[nd++] = DW_DATADIR;
#endif
    for (int i = 0; i < nd; i++) {
        snprintf(out, n, "%s/%s", dirs[i], rel);
        if (access(out, R_OK) == 0)
            return 0;
    }
    return -1;
}
