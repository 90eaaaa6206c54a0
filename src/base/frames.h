/* Moving samples between frame-major blocks (frame i's channel c at frames[i * nch + c], as a source
 * delivers them, dw_block) and one column per channel (as the pipeline filters and stages them).
 * Plain copies, no arithmetic: the values are the same bits. Two channels (a 2-channel night) go four
 * frames at a time through vector shuffles; others one value at a time, unrolled. */
#ifndef DW_FRAMES_H
#define DW_FRAMES_H

/* frames[i * nch + c] = col[i] for i < n (channel c of n frames of nch channels; 0 <= c < nch). */
void dw_frames_put_column(double *frames, int nch, int c, const double *col, int n);
/* col[i] = frames[i * nch + c] for i < n. col and frames must not overlap. */
void dw_frames_get_column(double *col, const double *frames, int nch, int c, int n);

#endif
