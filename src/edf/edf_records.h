/* Samples straight from the data records of an EDF/BDF file that EDFlib has opened, checked and
 * described: whole records come in with one pread per stretch of records (about 1 MB), not one getc
 * per byte as EDFlib 1.23 reads them, and they are decoded exactly as EDFlib decodes them (the same
 * values to the last bit: tests/unit/test_edf_records.c compares every sample of every signal with
 * edfread_physical_samples). EDFlib stays the reader of record: it opens and checks the file and
 * gives each signal's scaling; this module only uses those figures, with the record layout (where
 * each signal lies in a record, annotation signals included) read from the same header, and refuses
 * (NULL) whenever the two disagree, so the caller falls back to EDFlib's own reads.
 *
 * Time-keeping: EDFlib checks an EDF+/BDF+ file's time-keeping annotations only when it reads every
 * annotation at open, which costs a pass over the whole file through stdio (0.14 s for an 8-h
 * 16-channel BDF+ with 1-s records, more than staging it). So the caller may open without
 * annotations and this module checks the same rule (EDF+ spec, edfplus.info/specs/edfplus.html
 * 2.2.4, as EDFlib 1.23 applies it): the first annotation signal of every record opens with its
 * onset "+seconds\x14\x14", record 1 within the first second, every record one record duration
 * after the one before. Records 1 and last are checked by dw_edf_records_new, every record as it is
 * read (a read error, dw_edf_records_why says which record).
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

#endif
