/* dreamwatch: definitions shared by every layer. */
#ifndef DW_H
#define DW_H

#include <stddef.h>
#include <stdint.h>

#ifndef DW_VERSION
#define DW_VERSION "0.1.0"
#endif

#define DW_FS        100     /* Hz: the rate the staging core works at */
#define DW_EPOCH_S   30      /* seconds per scored epoch */
#define DW_EPOCH_N   3000    /* samples per epoch at DW_FS */
#define DW_MAX_CH    16      /* Cyton+Daisy */

/* AASM stages; the order is the column order of every table we read or write. */
enum dw_stage { DW_W = 0, DW_N1, DW_N2, DW_N3, DW_R, DW_NSTAGES };
#define DW_UNSCORED (-1)

/* Whether an epoch labelled stage has stage probabilities (a hypnodensity column): only a scored one.
 * An unscored epoch (bad signal, lost data, a gap, outside the recording) has none, whatever numbers
 * sit beside it (the staging pipeline zeroes them): the CSV leaves its p_ fields empty, the screen and
 * the broker's documents show no data. */
static inline int dw_epoch_has_prob(int stage)
{
    return stage >= DW_W && stage < DW_NSTAGES;
}
/* "W", "N1", "N2", "N3", "R"; "?" for anything else. */
const char *dw_stage_name(int stage);
/* A count's noun: one for n == 1, else many ("1 epoch", "0 epochs", "2 stimuli"). */
static inline const char *dw_plural(long n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}
/* v as a report should print it with `decimals` places: a value that rounds to zero there becomes
 * +0, so no report shows "-0" (printf keeps the sign: "%.0f" of -0.3, and of -0.0 itself, is "-0").
 * NaN stays. */
static inline double dw_no_minus_zero(double v, int decimals)
{
    double half = 0.5;
    for (int i = 0; i < decimals; i++)
        half /= 10;
    return v >= -half && v <= half ? 0.0 : v;
}
/* Inverse of dw_stage_name; also takes "REM" and R&K "1".."4". DW_UNSCORED if unknown. */
int dw_stage_parse(const char *s);

/* Error text carried up the call chain: every layer writes what failed, naming the file/line/byte. The
 * message is escaped as it is set (dw_escape in base/text.h): bytes of a file it quotes cannot reach the
 * terminal raw. usage is 1 when the error is the user's to fix before the same command can run (a
 * model file that cannot be used, a serial port another program holds): the command then exits 2, a
 * usage or configuration error, instead of 1 (man EXIT STATUS, README "Exit status"). */
typedef struct { char msg[512]; int usage; } dw_err;
/* Set the message (usage back to 0: the caller marks a usage error after setting it). */
void dw_err_set(dw_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The exit status an error ends a command with: 2 when it is a usage error, else 1. */
static inline int dw_err_status(const dw_err *e) { return e && e->usage ? 2 : 1; }

/* Out of memory, one policy. Opening and parsing (files, models, configuration) propagate it as an error,
 * so a command fails cleanly before a night starts. During a night (the worker, the session, the alerts,
 * the monitor's growing arrays) nothing may be dropped silently — not a sample, an epoch, an event or an
 * alert — so these allocators print "dreamwatch: out of memory (N bytes for WHAT)" and end the process
 * with status 3. The recording is kept (its header is current after every record; `recover` merges the
 * annotations). */
void *dw_xrealloc(void *p, size_t n, const char *what);
char *dw_xstrdup(const char *s, const char *what);

/* Wall clock and monotonic clock in seconds. */
double dw_now_mono(void);
double dw_now_wall(void);

/* 1 when the processor has AVX (x86-64 built with GCC or clang, asked once) and dw_simd_allow has not
 * turned it off, else 0. The program needs only SSE2; the hot loops that gain from four lanes (the
 * resampler, the detectors' filters, the stager's layers) carry an AVX version of the same operations
 * in the same order, the same bits; the hand-written AVX paths (the EDF 16-bit decoder, the filter
 * trio, the quality verdict's sums, the resampler's dot product) run only where this says 1. */
int dw_cpu_avx(void);
/* The one switch of those hand-written AVX paths, for tests that check both give the same bits:
 * allow 1 (the default) lets them run where the processor has AVX, 0 makes every one take its plain
 * code. Returns dw_cpu_avx() after the change. Call before any thread works (a resampler takes its
 * choice when it is made). The DW_AVX_CLONES functions are chosen at load and do not follow it. */
int dw_simd_allow(int allow);
/* Before a function: compiled twice, for AVX and for the baseline, the processor's choice made at load
 * (GCC/clang target_clones). For loops of independent lanes the compiler vectorises; IEEE operations
 * are not reassociated (no -ffast-math) nor fused (no FMA), so both give the same bits. */
#if defined(__x86_64__) && defined(__GNUC__)
#define DW_AVX_CLONES __attribute__((target_clones("avx", "default")))
#else
#define DW_AVX_CLONES
#endif
/* Four doubles in the lanes of one vector (GCC/clang vector extension): one AVX register in a
 * DW_AVX_CLONES clone, two SSE2 halves otherwise; the operators work lane by lane, IEEE per lane.
 * Loaded and stored with memcpy (any alignment). */
typedef double dw_v4d __attribute__((vector_size(32)));

#endif
