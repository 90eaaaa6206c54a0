/* What a live source delivered against what the wall clock expected: the packet loss the status line
 * shows. Frames that never arrived count alike whether their packets were dropped (a counter jump) or
 * nothing came at all (an unplugged dongle, a stalled link): a sequence counter alone sees only the first.
 * Pure: the caller passes the wall clock. */
#ifndef DW_ARRIVALS_H
#define DW_ARRIVALS_H

#define DW_ARRIVALS_WIN 10           /* seconds of the recent loss figure */
#define DW_ARRIVALS_SPREAD_S 0.25    /* the longest read interval taken as a steady stream (2.5 grid steps) */

typedef struct {
    double fs;                       /* frames per second the source promises */
    double start;                    /* wall clock of the first arrival, < 0 none yet */
    double last;                     /* wall clock of the latest arrival */
    long long got;                   /* frames received since the first arrival */
    double sec[DW_ARRIVALS_WIN + 2]; /* frames per wall-clock second (ring by floor(wall)) */
    long long sec_of[DW_ARRIVALS_WIN + 2];
} dw_arrivals;

/* Starts counting, at wall-clock time now, for a source of fs frames per second (fs > 0). */
void dw_arrivals_init(dw_arrivals *a, double fs, double now);
/* n frames arrived at wall-clock time wall (s). A read within DW_ARRIVALS_SPREAD_S of the one before it
 * took what came since, so its frames are spread evenly over that span (a steady stream then fills every
 * second alike, whatever the read grid; counted at the read's second, a 10-s window's edges moved by a
 * read's frames: "loss 0.1 %" of nothing lost); after a longer silence they count at wall (a stalled link
 * delivers its backlog at once: the silence is loss, then the burst). */
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
