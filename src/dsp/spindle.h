/* Sleep spindles on one EEG channel, live (causal, sample by sample): the three thresholds of
 * YASA's spindles_detect (Vallat & Walker, eLife 2021; defaults freq_sp 12-15 Hz, broad 1-30 Hz,
 * rel_pow 0.2, corr 0.65, rms 1.5, duration 0.5-2 s, min_distance 500 ms), made causal:
 *
 *   sigma  = the signal band-passed 12-15 Hz (4th-order Butterworth high-pass 11 Hz and low-pass 16
 * Hz: flat over 12-15 Hz, as YASA's FIR filter with its 1.5-Hz transition bands) broad  = the
 * signal band-passed 1-30 Hz (2nd-order high-pass 1 Hz, 4th-order low-pass 30 Hz), delayed so that
 * its 12-15 Hz part is in phase with sigma (YASA's filters have no phase) rel    = mean(sigma^2) /
 * mean(broad^2) over the trailing 1 s                  >= 0.2 corr   = Pearson correlation of sigma
 * and broad over the trailing 0.3 s         >= 0.65 rms    = RMS of sigma over the trailing 0.3 s,
 * against its running mean + 1.5 SD (exponential statistics, time constant 5 min; cumulative over
 * the first 5 min; ignored for the first 10 s, while they mean nothing) >= threshold A sample is
 * "spindle" when at least two of the criteria in use hold (YASA's rule; during the first 10 s that
 * means rel and corr). The 0.3-s criteria are delayed by 0.35 s so that all three trail the signal
 * by the same 0.5 s (half the 1-s window); that lag is removed from the reported onset. The criteria
 * are evaluated once per 50-ms block (YASA evaluates its 0.3-s windows every 100 ms and interpolates)
 * on windows of whole blocks (20 and 6 at 100 and 200 Hz; 0.99 and 0.31 s at 250 Hz), and the
 * samples until the next block hold the verdict (half a block is taken off the onset). Runs closer
 * than 0.5 s merge; a run lasting 0.5-2 s is a spindle, reported 0.5 s after its end (when no merge
 * can follow). YASA's windows are centred (it sees the whole night); these trail, so onsets are
 * estimates to about 0.1 s and its whole-night RMS statistics become running ones. Figures on real
 * and generated N2: README, "Spindles and slow oscillations". */
#ifndef DW_SPINDLE_H
#define DW_SPINDLE_H

#include "dsp/biquad.h"

typedef struct {
    double start_s;      /* onset, source time (s) */
    double dur_s;        /* 0.5-2 s */
    double amp_uv;       /* largest |sigma| inside (uV): the 12-15 Hz amplitude */
    double freq_hz;      /* sigma zero crossings inside / 2 / duration */
} dw_spindle;

typedef struct dw_spindle_det dw_spindle_det;

/* fs: the channel's rate; NULL when fs < 40 Hz (no 30-Hz band) or out of memory. */
dw_spindle_det *dw_spindle_new(double fs);
void dw_spindle_free(dw_spindle_det *d);
/* After a gap: filters, windows and any run in progress are forgotten (the statistics are kept). */
void dw_spindle_reset(dw_spindle_det *d);
/* n consecutive samples x (uV; a non-finite one counts as 0) at source times t[0..n-1]. Returns
 * the number of spindles confirmed in them, each in out[j] with at[j] the index of the sample that
 * confirmed it (ascending); out and at have room for n (at most one per sample). The filters run
 * over chunks of 256 samples and the windows keep running sums, but every sample goes through the
 * same operations in the same order whatever n is: the same spindles to the bit for any cutting of
 * a stream (test_sleep_events, fuzz_sleep_events). */
int  dw_spindle_run(dw_spindle_det *d, const double *t, const double *x_uv, int n, dw_spindle *out,
                    int *at);

/* For a caller that filters for several detectors at once (dsp/sleep_events.c, with
 * dw_cascade_run_trio), straight into the detector's history (no copy): dw_spindle_cascades gives
 * the detector's sigma and broad band-pass cascades (owned by d); dw_spindle_place where the next
 * n <= DW_SPINDLE_CHUNK samples of x (non-finite taken as 0) through *sigma and *broad, in order,
 * are to be written (valid until dw_spindle_run_placed); dw_spindle_run_placed is dw_spindle_run
 * on those n samples. The same spindles to the bit as dw_spindle_run (test_sleep_events). */
#define DW_SPINDLE_CHUNK 256
void dw_spindle_cascades(dw_spindle_det *d, dw_cascade **sigma, dw_cascade **broad);
void dw_spindle_place(dw_spindle_det *d, double **sigma, double **broad);
int  dw_spindle_run_placed(dw_spindle_det *d, const double *t, int n, dw_spindle *out, int *at);

#endif
