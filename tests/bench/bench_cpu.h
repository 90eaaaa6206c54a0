/* The clock the benchmarks time themselves by: this process's CPU time (user + system). On a shared
 * machine wall time also counts the waits for a core, which have nothing to do with the code
 * measured. */
#ifndef DW_BENCH_CPU_H
#define DW_BENCH_CPU_H

#include <time.h>

static inline double bench_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

#endif
