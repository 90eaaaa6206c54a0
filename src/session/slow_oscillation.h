/* Slow-oscillation trough detection for closed-loop auditory stimulation (Ngo et al. 2013 style), and the
 * phase at which each delivered stimulus landed.
 *
 * The frontal channel goes through a causal 0.5-2 Hz band-pass (2nd-order Butterworth high-pass at 0.5 Hz
 * and low-pass at 2 Hz, biquads). A negative half-wave (falling zero crossing to rising zero crossing)
 * whose minimum goes below the threshold gives a trough, confirmed as soon as the signal has come back
 * half-way from its minimum (about phase -120 deg), long before the up-state. Phase convention: the
 * band-passed wave is A cos(phase): up-state peak 0 deg, trough +-180, rising zero crossing -90, falling
 * +90. The phase of a delivered stimulus is estimated after the fact from the zero crossings around it
 * (linear in time between them), so it needs no look-ahead at delivery. No thresholds on timing here:
 * scheduling, trains and safety live in the session. */
#ifndef DW_SLOW_OSCILLATION_H
#define DW_SLOW_OSCILLATION_H

typedef struct dw_so dw_so;

typedef struct {
    double t;            /* time of the trough (s) */
    double uv;           /* band-passed value at the trough (uV, negative) */
    double fall_t;       /* falling zero crossing that began the half-wave */
} dw_so_trough;

typedef struct {
    long   id;           /* as given to dw_so_mark */
    double t;            /* delivery time */
    double phase_deg;    /* (-180, 180]; NAN when no crossings bracketed the delivery */
} dw_so_phase;

/* NULL if fs is too low for the band-pass (fs <= 4 Hz) or out of memory. */
dw_so *dw_so_new(double fs, double threshold_uv);
void   dw_so_free(dw_so *d);
void   dw_so_reset(dw_so *d);          /* after a gap: filter state and half-wave forgotten */
/* One raw sample (uV) at time t. Returns 1 and fills *tr when a trough has just been confirmed. */
int    dw_so_step(dw_so *d, double t, double x_uv, dw_so_trough *tr);
/* The same in two steps, for a block: dw_so_filter puts n raw samples (uV) through the band-pass (x == y
 * allowed; the values dw_so_step would compute, to the bit: dsp/biquad.h dw_cascade_run, about a third of
 * the cost a sample), then each band-passed value goes to dw_so_step_filtered at its time, in order. */
void   dw_so_filter(dw_so *d, const double *x_uv, double *y, int n);
int    dw_so_step_filtered(dw_so *d, double t, double y, dw_so_trough *tr);
/* The latest band-passed value. */
double dw_so_filtered(const dw_so *d);
/* A stimulus was delivered at t; its phase becomes available after the next zero crossing. */
void   dw_so_mark(dw_so *d, long id, double t);
/* 1 and *out when a phase estimate is ready (call until 0). */
int    dw_so_take_phase(dw_so *d, dw_so_phase *out);

#endif
