/* Conditions of stimuli: per night or seeded random. */
#include "session/sham.h"

#include "session/protocol.h"

double dw_splitmix_uniform(unsigned long long *st)
{
    unsigned long long z = (*st += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

void dw_sham_init(dw_sham *s, int mode, double ratio, unsigned long long seed)
{
    s->mode = mode;
    s->ratio = ratio;
    s->state = seed;
}

int dw_sham_next(dw_sham *s)
{
    if (s->mode == DW_SHAM_NIGHT)
        return DW_SHAM;
    if (s->mode == DW_SHAM_RANDOM)
        return dw_splitmix_uniform(&s->state) < s->ratio ? DW_SHAM : DW_ACTIVE;
    return DW_ACTIVE;
}

const char *dw_condition_name(int c) { return c == DW_SHAM ? "sham" : "active"; }
