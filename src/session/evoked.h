/* The evoked response: the frontal signal averaged around every stimulus, separately for active and
 * sham stimuli (Ngo et al., Neuron 2013 show it for closed-loop auditory stimulation: a larger slow
 * oscillation and a spindle burst after active stimuli, none after sham). Each sweep runs from
 * DW_EVOKED_PRE_S before to DW_EVOKED_POST_S after the stimulus on a 0.02-s grid (linear
 * interpolation of the raw samples), minus its mean over the pre-stimulus part. A sweep is taken
 * once the signal after the stimulus has arrived; a gap drops the sweeps in progress. */
#ifndef DW_EVOKED_H
#define DW_EVOKED_H

#define DW_EVOKED_PRE_S  1.0
#define DW_EVOKED_POST_S 3.0
#define DW_EVOKED_DT     0.02
#define DW_EVOKED_N      201              /* (PRE + POST) / DT + 1 */
#define DW_EVOKED_WAIT   32               /* stimuli waiting for their sweep */

typedef struct {
    double fs;
    double *ring;                         /* the last seconds of the frontal channel */
    int    cap, head;                     /* ring size; next write position */
    long n_in; /* samples in the ring since the last reset (capped at cap) */
    double t_last;                        /* time of the newest sample */
    struct { long id; double t; int cond; } wait[DW_EVOKED_WAIT];
    int    nwait;
    double sum[2][DW_EVOKED_N];           /* by condition (session/sham.h) */
    int    n[2];
} dw_evoked;

void dw_evoked_init(dw_evoked *e);
void dw_evoked_free(dw_evoked *e);
/* One frontal sample (uV) at source time t, rate fs (a new rate starts again). Out of memory ends
 * the process (dw_xrealloc). */
void dw_evoked_sample(dw_evoked *e, double fs, double t, double x);
/* A gap: the ring and the sweeps waiting are dropped. */
void dw_evoked_reset(dw_evoked *e);
/* Stimulus id at t in condition cond (0 active, 1 sham). */
void dw_evoked_stimulus(dw_evoked *e, double t, long id, int cond);
/* The average of condition cond (0, 1; 2: both pooled) into out[DW_EVOKED_N]; returns the sweep
 * count (out all zero when 0). out[i] is at time -PRE + i * DT. */
int  dw_evoked_mean(const dw_evoked *e, int cond, double out[DW_EVOKED_N]);

#endif
