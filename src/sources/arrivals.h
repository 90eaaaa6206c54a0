/* What a live source delivered against what the wall clock expected: the packet loss the status line
 * shows. Frames that never arrived count alike whether their packets were dropped (a counter jump) or
 * nothing came at all (an unplugged dongle, a stalled link): a sequence counter alone sees only the first.
 * Pure: the caller passes the wall clock. */
#ifndef DW_ARRIVALS_H
#define DW_ARRIVALS_H

#define DW_ARRIVALS_WIN 10           /* seconds of the recent loss figure */

typedef struct {
    double fs;                       /* frames per second the source promises */
    double start;                    /* wall clock of the first arrival, < 0 none yet */
    double last;                     /* wall clock of the latest arrival */
    long long got;                   /* frames received since the first arrival */
    long   sec[DW_ARRIVALS_WIN + 2]; /* frames per wall-clock second (ring by floor(wall)) */
    long long sec_of[DW_ARRIVALS_WIN + 2];
} dw_arrivals;

/* Starts counting, at wall-clock time now, for a source of fs frames per second (fs > 0). */
void dw_arrivals_init(dw_arrivals *a, double fs, double now);
/* n frames arrived at wall-clock time wall (s). */
void dw_arrivals_add(dw_arrivals *a, long n, double wall);
/* The source was stopped on purpose from wall-clock time from to to (a live impedance check):
 * that span expects no frames: neither loss nor an outage; the silence counts from `to`. */
void dw_arrivals_pause(dw_arrivals *a, double from, double to);
/* Loss in percent at wall-clock time now: over the last DW_ARRIVALS_WIN complete seconds (fewer at the
 * start: those since the first arrival), and over the night from the first arrival to now; never below
 * 0 (frames read a little late land in the next second). 0 before anything arrived. */
void dw_arrivals_loss(const dw_arrivals *a, double now, double *recent_pct, double *night_pct);
/* Wall clock since which nothing has arrived (the latest arrival, or the start of counting), when that is
 * at least gap_s before now; else 0. */
double dw_arrivals_silent_since(const dw_arrivals *a, double now, double gap_s);

#endif
