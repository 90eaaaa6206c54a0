/* The pre-night check of a live board (`dreamwatch check --serial PORT`, or `k` in the monitor): is
 * every electrode good enough to record a night, and does the frontal channel see what it must?
 *
 * It runs in phases on the stream as it comes, then measures impedance:
 *   rest       rest_s   eyes open, looking ahead: DC offset, mains, railed and flat seconds per
 * channel (all from the one quality verdict, dsp/quality.h) and the alpha baseline; closed alpha_s
 * eyes closed, relaxed: alpha (8-11 Hz band power, the parietal channel if there is one, else the
 * frontal) must rise at least alpha_ratio times over rest (the Berger effect: an electrode that
 * sees the EEG shows it); move       eyes_s   look left and right: the frontal channel (0.3-5 Hz)
 * must swing past +-eye_uv / 2 at least eye_count times, alternately (an Fp electrode sees the
 * eyes' dipole); impedance           the caller measures each channel (sources/cyton.h, lead-off
 * current) and reports. The first 2 s of each phase are not used (the sleeper follows the
 * instruction). A channel passes when its impedance is at most impedance_max_kohm, |DC offset| at
 * most dc_max_mv, its median mains ratio under the [alerts] mains_ratio, and no second of it was
 * railed or flat. Thresholds: [check] of the configuration (defaults and their sources in
 * app/config.c). Pure: blocks, verdicts and results in, a report out. */
#ifndef DW_NIGHT_CHECK_H
#define DW_NIGHT_CHECK_H

#include <stddef.h>

#include "dsp/quality.h"
#include "sources/source.h"

typedef struct {
    double impedance_max_kohm;
    double dc_max_mv;
    double alpha_ratio;
    double eye_uv;
    int    eye_count;
    double rest_s, alpha_s, eyes_s;
} dw_check_cfg;

enum dw_check_phase {
    DW_CHECK_REST = 0,
    DW_CHECK_CLOSED,
    DW_CHECK_MOVE,
    DW_CHECK_IMPEDANCE,
    DW_CHECK_DONE
};

typedef struct dw_night_check dw_night_check;

/* For the source described by in (rate, channels, roles). mains_max: the [alerts] mains_ratio. NULL
 * with err when the source is too slow (under 64 Hz) or out of memory. */
dw_night_check *dw_check_new(const dw_check_cfg *c, const dw_source_info *in, double mains_max,
                             dw_err *err);
void dw_check_free(dw_night_check *k);
/* A block as the source delivered it (the first block sets the check's time 0); returns the phase
 * now. */
int  dw_check_block(dw_night_check *k, const dw_block *b);
/* The quality verdict of one second (every channel). */
void dw_check_quality(dw_night_check *k, const dw_quality_second *q);
/* What to tell the sleeper in this phase. */
const char *dw_check_prompt(int phase);
int  dw_check_phase(const dw_night_check *k);
/* Impedance of delivered channel ch measured (ok = 0: the measurement failed; the channel fails).
 */
void dw_check_impedance(dw_night_check *k, int ch, double kohm, int ok);
/* All measured: phase DONE. */
void dw_check_finish(dw_night_check *k);
/* The report: a table, one row per channel, then the alpha and eye-movement tests, then the
 * verdict. Returns 1 when everything passed, 0 otherwise. */
int  dw_check_report(const dw_night_check *k, char *buf, size_t cap);
/* One line per channel and test ("Check EEG Fpz-Cz: pass, 5.0 kOhm, offset 12.3 mV, mains 0.05"),
 * for the log and the recording; returns how many were written (at most max). */
int  dw_check_lines(const dw_night_check *k, char (*lines)[160], int max);

#endif
