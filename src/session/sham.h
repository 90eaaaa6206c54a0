/* Sham stimulation: which condition each stimulus gets. Per night (every stimulus sham, or none),
 * or randomised per stimulus: a Bernoulli draw with probability ratio from splitmix64 (Steele, Lea
 * & Flood, OOPSLA 2014) seeded by the protocol, so a night's sequence of conditions can be
 * reproduced from its seed and its stimulus count. A sham stimulus goes through every decision of a
 * real one; the session just sends nothing (or the sham trigger byte). */
#ifndef DW_SHAM_H
#define DW_SHAM_H

enum dw_condition { DW_ACTIVE = 0, DW_SHAM = 1 };

typedef struct {
    int mode;                      /* enum dw_sham_mode (session/protocol.h) */
    double ratio;
    unsigned long long state;
} dw_sham;

void dw_sham_init(dw_sham *s, int mode, double ratio, unsigned long long seed);
/* The condition of the next stimulus. */
int  dw_sham_next(dw_sham *s);
/* "active", "sham". */
const char *dw_condition_name(int c);
/* A uniform draw in [0, 1) from splitmix64 state *st (shared with the awakening schedule). */
double dw_splitmix_uniform(unsigned long long *st);

#endif
