/* Samples straight from the data records of an EDF/BDF file that EDFlib has opened, checked and
 * described: whole records come in with one pread per stretch of records (about 128 KB), not one
 * getc per byte as EDFlib 1.23 reads them, and they are decoded exactly as EDFlib decodes them (the
 * same values to the last bit: tests/unit/test_edf_records.c compares every sample of every signal
 * with edfread_physical_samples). EDFlib stays the reader of record: it opens and checks the file and
 * gives each signal's scaling; this module only uses those figures, with the record layout (where
 * each signal lies in a record, annotation signals included) read from the same header, and refuses
 * (NULL) whenever the two disagree, so the caller falls back to EDFlib's own reads.
 *
 * Time-keeping: EDFlib checks it only when it reads every annotation at open, a pass over the whole
 * file through stdio (0.14 s for an 8-h 16-channel BDF+ with 1-s records, more than staging it). So
 * the caller may open without annotations; this module applies the rule (dw_edf_time_keeping) to
 * records 1 and last in dw_edf_records_new, to every record as it is read (dw_edf_records_why).
 *
 * Shared state: none; one dw_edf_records per open file, used by one thread. */
#ifndef DW_EDF_RECORDS_H
#define DW_EDF_RECORDS_H

#include <edflib.h>

typedef struct dw_edf_records dw_edf_records;

/* For the file open on fd (the same bytes EDFlib opened as h: the file itself or its repaired copy;
 * the descriptor stays the caller's and must outlive the reader). NULL with why "" when the layout
 * cannot be matched with h (the caller then reads through EDFlib, and has it read the annotations)
 * or out of memory; NULL with why set (not naming the file) when the first or last record's
 * time-keeping is wrong. */
dw_edf_records *dw_edf_records_new(int fd, const struct edf_hdr_struct *h, char *why,
                                   size_t why_cap);
void dw_edf_records_free(dw_edf_records *r);

/* Samples first .. first + n - 1 of EDFlib signal sig (as numbered in h), in physical units times
 * scale: scale * (bitvalue * (offset + d)) with d the stored value clamped to the digital range, as
 * edfread_physical_samples computes it. Returns how many were read (fewer at the end of the file),
 * or -1 on a read error (errno set; a file shortened under us reads as EIO, a record whose
 * time-keeping is wrong as EILSEQ) with dw_edf_records_why saying what and where (not naming the
 * file). */
int dw_edf_records_read(dw_edf_records *r, int sig, long long first, int n, double scale,
                        double *out);
const char *dw_edf_records_why(const dw_edf_records *r);
/* Record 1's onset after the header's start time (100 ns units; 0 without annotations): EDFlib's
 * starttime_subsecond when it reads the annotations. */
long long dw_edf_records_start(const dw_edf_records *r);

/* The onset of the time-keeping TAL that opens an annotation signal's bytes a[0..n):
 * "+12.5\x14\x14". Its text length, with *t in 100 ns units (digits beyond the seventh decimal
 * ignored, as EDFlib does), or -1. */
int dw_edf_tal_onset(const unsigned char *a, int n, long long *t);

typedef struct { long long rec, at, prev_end; int continuous, bdf; } dw_edf_tk_place;

/* THE time-keeping rule of EDF+/BDF+ (EDF+ spec 2.2.4, edfplus.info/specs/edfplus.html; EDFlib
 * 1.23's edflib_get_annotations applies it, but lets a negative record 1 pass), for record p->rec
 * (from 0) whose first annotation signal a[0..n) lies at byte p->at of an EDF+ (p->bdf: BDF+) file:
 * a[] opens with its TAL "+seconds\x14\x14"; record 1 starts 0 to under 1 s after the header's
 * start time; each record starts exactly at p->prev_end (record rec - 1's onset + the record
 * duration, 100 ns units after the start time) in a continuous file (p->continuous), never before
 * it in a discontinuous one (no overlap, never backwards). The onset's text length with *t in 100
 * ns units, or -1 with why (not naming the file): the record, its byte, both times and the rule, in
 * the one wording of each fault wherever it is found. */
int dw_edf_time_keeping(const unsigned char *a, int n, const dw_edf_tk_place *p, long long *t,
                        char *why, size_t why_cap);

#endif
