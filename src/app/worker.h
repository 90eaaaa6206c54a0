/* The worker thread: owns the source, the stager, the recording and the session; publishes to the
 * monitor; takes commands from it. Every EDF and serial call happens on this thread. */
#ifndef DW_WORKER_H
#define DW_WORKER_H

#include "app/config.h"
#include "monitor/monitor.h"
#include "sources/source.h"
#include "staging/stager.h"

typedef struct dw_worker dw_worker;

/* Loads --model, then opens the source named by cfg (serial, file or the sample night). NULL with err
 * (err->usage set for a model that cannot be used or a port in use: exit 2). */
dw_worker *dw_worker_new(const dw_config *cfg, dw_monitor *mon, dw_err *err);
/* Starts the thread (with SIGINT, SIGTERM, SIGHUP and SIGWINCH blocked, so they reach the caller). */
int  dw_worker_start(dw_worker *w);
/* Waits for the thread to finish (after a DW_CMD_SHUTDOWN, or the end of a replay with exit_at_end). */
void dw_worker_join(dw_worker *w);
void dw_worker_free(dw_worker *w);
/* Exit code: 0 clean, 1 if the recording or the source failed (also at the end: closing the
 * recording, writing a table or the summary). */
int  dw_worker_status(const dw_worker *w);
/* What failed at the end of the night, one line each ("closing the recording failed (...):
 * NAME.bdf: sync: Input/output error\n"); "" when nothing did. Read it after dw_worker_join. */
const char *dw_worker_failed(const dw_worker *w);
/* Every file the night created, in order, each once with its role, as each creator listed it (the
 * recorder, the session, the worker's summary). Read it after dw_worker_join; it lives until
 * dw_worker_free. */
const dw_outputs *dw_worker_outputs(const dw_worker *w);

/* Live reading's next wake-up (monotonic clock, s), the rule live_wait in worker.c follows: the grid's
 * next read (next_read, every dw_live_grid s), or earlier when one of two samples should arrive before it -- the
 * one a pending closed-loop stimulus is due at (due: source s, INFINITY for none; see
 * dw_session_next_due) and the one that completes the epoch in progress (staging has seen up to source
 * time staged, the reader up to t; the gap between them is the resampler's delay). Arrival is predicted
 * as now + (sample time - t) / rate (rate: source s a monotonic s, > 0), never sooner than 4 ms (a
 * Cyton packet) from now. Thresholds: measured, see live_wait. */
double dw_live_wake(double now, double next_read, double t, double staged, double due, double rate);

/* Live reading's grid step (s): how far apart the worker's reads are when nothing is due sooner (see
 * dw_live_wake). 0.04 s (ten Cyton packets) while a protocol may stimulate (mode DW_MODE_ENHANCED or
 * DW_MODE_WAKING: a closed-loop detector sees a slow wave's trough no later than 40 ms after it) or while a
 * screen draws faster than 12.5 frames a second (fps; a read every frame, the sweep's finest step); else
 * 0.1 s (natural-sleep or monitoring mode, headless or at the default 4 fps: 2.5 reads a frame, and a
 * wake-up costs the machine ~50 us whatever it does, so 10 instead of 25 a second is most of live's CPU;
 * measured in tests/bench/live_cpu.sh). screen: 1 when a screen draws (fps: its frame rate, > 0). A
 * stream faster than real time (rate source s a monotonic s, from the emulator's --speed) divides the
 * step, down to 0.04 s, so a batch never holds more bytes than a 40-ms one at 2.5x (a pty holds 4 KB). */
double dw_live_grid(int mode, int screen, double fps, double rate);

#endif
