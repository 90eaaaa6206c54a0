/* Sleep microstructure on the frontal channel: spindles (dsp/spindle.h) and slow waves
 * (dsp/slow_wave.h) from one stream of raw samples, each event stamped with the 30-s epoch it
 * starts in. `score` and the session run the same detectors on the same samples, so their counts
 * agree epoch for epoch whatever the block sizes. */
#ifndef DW_SLEEP_EVENTS_H
#define DW_SLEEP_EVENTS_H

#include "base/dw.h"

enum dw_sleep_event_kind { DW_SLEEP_SPINDLE = 0, DW_SLEEP_SLOW_WAVE, DW_SLEEP_EVENT_KINDS };

typedef struct {
    int    kind;           /* enum dw_sleep_event_kind */
    double onset_s;        /* source time */
    double dur_s;
    double amp_uv;         /* spindle: 12-15 Hz amplitude; slow wave: peak to peak */
    double freq_hz;        /* spindle: frequency; slow wave: 1 / duration */
    double neg_t;          /* slow wave: time of the negative peak; spindle: onset */
    int    epoch;          /* floor(onset_s / 30) */
} dw_sleep_event;

typedef struct dw_sleep_events dw_sleep_events;
typedef void (*dw_sleep_event_fn)(void *ctx, const dw_sleep_event *ev);

/* For a channel at fs Hz; NULL when fs < 64 Hz (spindles need the 30-Hz band) or out of memory. */
dw_sleep_events *dw_sleep_events_new(double fs);
void dw_sleep_events_free(dw_sleep_events *e);
/* A gap in the signal: both detectors start again. */
void dw_sleep_events_reset(dw_sleep_events *e);
/* n consecutive samples x (uV) from source time t0 at the rate given to new; fn gets every event
 * that ends inside them. Times count samples from the first block (a block whose t0 does not follow
 * on, by more than half a sample, starts the count again), so any cutting of a stream gives the
 * same events. */
void dw_sleep_events_push(dw_sleep_events *e, double t0, const double *x, int n,
                          dw_sleep_event_fn fn, void *ctx);
/* "spindle", "slow_wave". */
const char *dw_sleep_event_name(int kind);

#endif
