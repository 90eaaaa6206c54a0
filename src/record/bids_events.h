/* A BIDS-style events table (Brain Imaging Data Structure, "Task events": _events.tsv with the
 * columns onset, duration, trial_type, value): every scored epoch, spindle, slow wave, stimulus,
 * cue, awakening, answer, alert and marker of a night, for analysis in MNE, EEGLAB or pandas. Rows
 * are kept in memory and written at the end, sorted by onset (ties keep the order they were added),
 * through a temporary file renamed into place (base/files.h). onset and duration in seconds from
 * the start of the recording; "n/a" for a missing duration or value, as BIDS asks; tabs and line
 * breaks in values become spaces. */
#ifndef DW_BIDS_EVENTS_H
#define DW_BIDS_EVENTS_H

#include "base/dw.h"

typedef struct dw_bids_events dw_bids_events;

dw_bids_events *dw_bids_events_new(void);
void dw_bids_events_free(dw_bids_events *e);
/* duration < 0 (or NAN) and value NULL or "" are written as n/a. Out of memory ends the process
 * (dw_xrealloc: a night's events are never dropped silently). */
void dw_bids_events_add(dw_bids_events *e, double onset, double duration, const char *trial_type,
                        const char *value);
__attribute__((format(printf, 5, 6)))
void dw_bids_events_addf(dw_bids_events *e, double onset, double duration, const char *trial_type,
                         const char *fmt, ...);
int  dw_bids_events_count(const dw_bids_events *e);
/* Writes path (refused when it is an input, or exists and !force). 0, or DW_OUT_TAKEN
 * (base/files.h: the name exists or was taken meanwhile) or -1, with err. */
int  dw_bids_events_write(const dw_bids_events *e, const char *path, int force, dw_err *err);

#endif
