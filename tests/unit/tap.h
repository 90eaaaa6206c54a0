/* A tiny test harness: each check prints "PASS name" or "FAIL name: why" (file:line), and
 * tests/run.sh counts them. SKIP lines count as neither. */
#ifndef DW_TAP_H
#define DW_TAP_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int tap_failed;

#define PASS(name) printf("PASS %s\n", name)
#define FAIL(name, ...) do { tap_failed++; printf("FAIL %s: ", name); printf(__VA_ARGS__); \
        printf(" (%s:%d)\n", __FILE__, __LINE__); } while (0)
#define SKIP(name, ...) do { printf("SKIP %s: ", name); printf(__VA_ARGS__); printf("\n"); } while (0)
/* One named check. */
#define CHECK(name, cond, ...) do { if (cond) PASS(name); else FAIL(name, __VA_ARGS__); } while (0)
/* Relative closeness with an absolute floor for values near zero. */
static inline int tap_close(double a, double b, double rel, double abs_floor)
{
    double d = fabs(a - b);
    return d <= abs_floor || d <= rel * fmax(fabs(a), fabs(b));
}
/* ../shared/data, or NULL (tests then SKIP with a message). */
static inline const char *tap_shared_data(void)
{
    static char path[1024];
    const char *env = getenv("DW_SHARED_DATA");
    snprintf(path, sizeof path, "%s", env ? env : DW_SRCDIR "/../shared/data");
    return access(path, R_OK) == 0 ? path : NULL;
}
#define TAP_DONE() return tap_failed ? 1 : 0

#endif
