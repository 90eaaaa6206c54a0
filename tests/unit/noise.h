/* Reproducible Gaussian noise for tests (xorshift64 + Box-Muller): the same numbers on every run. */
#ifndef DW_TEST_NOISE_H
#define DW_TEST_NOISE_H

#include <math.h>

static unsigned long long noise_state = 0x9E3779B97F4A7C15ULL;

static inline double noise_uniform(void)
{
    noise_state ^= noise_state << 13;
    noise_state ^= noise_state >> 7;
    noise_state ^= noise_state << 17;
    return ((noise_state >> 11) + 0.5) / 9007199254740992.0;
}

static inline double noise_gauss(void)
{
    double u = noise_uniform(), v = noise_uniform();
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

#endif
