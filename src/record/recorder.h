/* Crash-safe BDF+ recording of what a source delivers, plus `dreamwatch recover`.
 *
 * A recording is <dir>/<subject>-YYYYMMDD-HHMMSS.bdf (mode 0600, never overwritten: -2, -3... on a
 * clash) written through EDFlib in 1-s records, beside <file>.events.tsv, a side log that gets every
 * annotation in full, flushed to disk as it happens. After every record the record count in the header
 * (bytes 236-243) is rewritten to the number of complete records on disk, so a crash at any moment leaves
 * a file that readers taking the header's count (MNE) can open; `recover` then merges the side log's
 * annotations (EDFlib only writes annotations at close) and drops a torn last record. */
#ifndef DW_RECORDER_H
#define DW_RECORDER_H

#include <stdio.h>

#include "base/dw.h"
#include "base/files.h"
#include "sources/source.h"

typedef struct dw_recorder dw_recorder;

/* Creates dir (0700) if needed and a new recording. Channels are info->nch at info->fs with labels from
 * info, +-187500 uV in 24 bits; has_accel adds AccX/AccY/AccZ (g, +-4 g, 25 Hz). NULL with err filled. */
dw_recorder *dw_recorder_open(const char *dir, const char *subject, const dw_source_info *info,
                              int has_accel, dw_err *err);

/* Appends a block (b->n frames of info->nch values). A gap (b->gap frames lost before the block) is
 * filled by holding the last values and annotated, to the millisecond, so a reader knows the span is not
 * real: "Gap 4 ms" (onset the gap's start, duration its length). Gaps less than 1 s apart are told
 * together, "Gaps 28 ms in 7 (over 2.310 s)" with the duration covering them all (at most 10 s each), so
 * radio loss of single packets cannot flood the recording with annotations; an annotation is written 1 s
 * after its last gap (or at close, or when its group reaches 10 s).
 * Returns 0, or -1 when the data could not be written (dw_recorder_error: "x.bdf: disk full (ENOSPC)").
 * After a write failure the file is cut back to its complete records (header count matching) and
 * closed; the block is dropped, and every later call returns -1 until a new file can be started
 * (annotated "Recording resumed, N.N s lost"): after a full disk (ENOSPC, EDQUOT) as soon as statvfs shows
 * room for 5 records again (checked every 0.25 s), after any other failure at most once per retry time. */
/* The frames of a deliberate pause (b->pause, part of b->gap) are filled like a gap's but not
 * annotated as one: the caller annotates the pause with its reason. */
int dw_recorder_write(dw_recorder *r, const dw_block *b);

/* How long to wait after a write failure before trying a new file anyway (default 60 s). */
void dw_recorder_set_retry(dw_recorder *r, double seconds);

/* Free space in the recording's folder in MB (10^6 bytes) as statvfs reports it for this user (root: the
 * reserved blocks too), measured at most every 0.25 s; -1 if unknown. For the low-disk alert. */
double dw_recorder_free_mb(dw_recorder *r);

/* An event at t_s seconds of source time (since the recording started), dur_s <= 0 for none. The
 * BDF+ gets the whole text on one line, a text over 40 bytes as numbered pieces at the same onset
 * ("(1/3) ...", edf/edf_annot.h); the side log gets it as given, synced before returning. Each file
 * (and its side log) holds only what falls within the source time it holds: after a resume an event
 * is cut to its part in the new file, its part in the file before goes to that file's side log (an
 * epoch's stage comes after the epoch), and what falls while writing failed, in no file, goes to
 * none (the session log has it). 0 (also when no file holds it), or -1 (dw_recorder_error) if a side
 * log could not be written. */
int dw_recorder_annotate(dw_recorder *r, double t_s, double dur_s, const char *text);

/* From now on every file the recording creates (its BDF+ and side log; a new pair at each resume)
 * is added to list, and the current pair at once: "recording", "side log", "recording 2"... */
void dw_recorder_list_outputs(dw_recorder *r, dw_outputs *list);

/* What the last failing call reported. */
const char *dw_recorder_error(const dw_recorder *r);

/* The file being written (the latest one after a resume), and its size in bytes so far. */
const char *dw_recorder_path(const dw_recorder *r);
long long dw_recorder_bytes(const dw_recorder *r);
/* Files the recording went into (1; one more after each resume), and the source time in seconds that
 * went into none of them (dropped while writing failed, up to now). */
int    dw_recorder_files(const dw_recorder *r);
/* Writes that failed so far (a file abandoned after a write error or a full disk, a side-log line
 * not written): 0 for a recording that never lost anything to writing. */
int    dw_recorder_failures(const dw_recorder *r);
double dw_recorder_unrecorded_s(const dw_recorder *r);

/* Pads a partial last record by holding the last values (annotated; a recording that got no data gets one
 * padded record, so the file reads), writes the annotations (EDFlib
 * does that at close; if there were more than its 4 per record, the file is rewritten with the side
 * log's, as recover does), syncs and frees. 0, or -1 with err filled (r is freed in both cases). */
int dw_recorder_close(dw_recorder *r, dw_err *err);

/* One file: 0 (repaired, or sound and left alone; a line saying which goes to report unless NULL), or
 * -1 with err filled and the file untouched. */
int dw_recover_file(const char *path, FILE *report, dw_err *err);

/* Side-log text escaping: newline, CR, tab and backslash become \n \r \t \\ (and back). */
void dw_events_escape(const char *in, char *out, size_t outsz);
void dw_events_unescape(char *s);

#endif
