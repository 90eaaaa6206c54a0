/* THE signal-quality verdict: per channel, per second of source time, from the raw samples at the source
 * rate. Every consumer takes it from here: epoch validity in the staging pipeline, the signal alerts, the
 * session's stimulation safety, the screen's channel flags (and through the alerts, the recording's
 * annotations). Thresholds are defined once, below.
 *
 *   FLAT      the second's standard deviation is under DW_Q_FLAT_SD_UV (0.5 uV). Source: the ADS1299
 *             (Cyton) input-referred noise is about 1 uV peak to peak at gain 24, so a shorted or detached
 *             input reads a few tenths of a uV; real scalp EEG is never that quiet (the smallest 30-s
 *             standard deviation in the 41,665 real Sleep-EDF epochs of ../shared/data is 0.78 uV, at Pz-Oz).
 *   RAILED    a sample within 0.1 % of either end of the channel's full scale (DW_Q_RAIL_FRAC): the
 *             amplifier is saturated (electrode off) or the file clipped the signal.
 *   ARTEFACT  a sample more than artefact_uv (default 500 uV, [alerts] artefact_uv) from the second's mean:
 *             no EEG rhythm swings that far; movement, electrode pops and sweat do.
 *   RANGE     a value that is not finite or lies beyond the channel's declared full scale: not a
 *             measurement at all (a damaged file or line).
 *   LOST      more than half of the second's frames never arrived (a gap in the file, a dropped link;
 *             a few lost packets are held over and do not make a second unusable).
 *   MAINS     50 or 60 Hz power (3 bins) above mains_ratio x the 1-40 Hz power (Goertzel, Hann window),
 *             only at 125 Hz and faster: slower sources have filtered it away. Not a reason to drop data.
 * A second with any of FLAT, RAILED, RANGE or LOST is unusable for staging (DW_Q_UNUSABLE); ARTEFACT
 * seconds count against an epoch only when they are most of it (staging/pipeline.h). */
#ifndef DW_QUALITY_H
#define DW_QUALITY_H

#include "base/dw.h"

#define DW_Q_FLAT_SD_UV   0.5
#define DW_Q_RAIL_FRAC    0.999
#define DW_Q_MAINS_MIN_FS 125.0

enum dw_qflag {
    DW_Q_FLAT = 1, DW_Q_RAILED = 2, DW_Q_ARTEFACT = 4, DW_Q_RANGE = 8, DW_Q_LOST = 16, DW_Q_MAINS = 32
};
#define DW_Q_UNUSABLE (DW_Q_FLAT | DW_Q_RAILED | DW_Q_RANGE | DW_Q_LOST)
#define DW_Q_NFLAGS   6                 /* flag bits above */

/* The thresholds that are settings. */
typedef struct {
    double artefact_uv;        /* > 0 */
    double mains_ratio;        /* > 0 */
    int    mains;              /* measure mains at all (it costs 43 Goertzel passes per channel-second) */
} dw_quality_cfg;

/* One second's verdict. */
typedef struct {
    long   second;             /* covers source time [second, second + 1) */
    int    nch;
    unsigned char flag[DW_MAX_CH];
    float  mean_uv[DW_MAX_CH];  /* the second's mean (the session's sample-level artefact check uses it) */
    float  sd_uv[DW_MAX_CH];
    float  mains_ratio[DW_MAX_CH]; /* 0 when not measured */
} dw_quality_second;

typedef struct dw_quality dw_quality;
typedef void (*dw_quality_fn)(void *ctx, const dw_quality_second *q);

/* nch channels at fs Hz; lo/hi: each channel's full scale in uV (both 0: unknown, never railed or out of
 * range). NULL on a bad argument or out of memory. */
dw_quality *dw_quality_new(int nch, double fs, const double *lo, const double *hi, const dw_quality_cfg *cfg);
void dw_quality_free(dw_quality *q);
/* n frames, frame-major (x[i * nch + c], uV), continuing the stream; fn gets every second completed. */
void dw_quality_push(dw_quality *q, const double *x, int n, dw_quality_fn fn, void *ctx);
/* n frames lost: they count as LOST in the seconds they fall in. */
void dw_quality_gap(dw_quality *q, long n, dw_quality_fn fn, void *ctx);
/* Start again at frame `frame` of the stream (a seek); the second in progress is dropped. */
void dw_quality_reposition(dw_quality *q, long long frame);

/* The ARTEFACT test for one sample against a second's mean: the same definition, for callers that must
 * act within the second (the session suspends stimulation at once). */
static inline int dw_quality_is_artefact(double x, double mean_uv, const dw_quality_cfg *cfg)
{
    double d = x - mean_uv;
    return d > cfg->artefact_uv || -d > cfg->artefact_uv;
}

/* "flat", "railed", "artefact", "out of range", "lost", "mains": the worst flag's name ("ok" for none). */
const char *dw_quality_name(unsigned flags);

#endif
