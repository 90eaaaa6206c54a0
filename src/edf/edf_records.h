/* Samples straight from the data records of an EDF/BDF file that EDFlib has opened, checked and described:
 * whole records come in with one pread per stretch of records (about 1 MB), not one getc per byte as
 * EDFlib 1.23 reads them, and they are decoded exactly as EDFlib decodes them (the same values to the last
 * bit: tests/unit/test_edf_records.c compares every sample of every signal with edfread_physical_samples).
 * EDFlib stays the reader of record: it opens and checks the file, parses the annotations and gives each
 * signal's scaling; this module only uses those figures, with the record layout (where each signal lies in
 * a record, annotation signals included) read from the same header, and refuses (NULL) whenever the two
 * disagree, so the caller falls back to EDFlib's own reads.
 *
 * Shared state: none; one dw_edf_records per open file, used by one thread. */
#ifndef DW_EDF_RECORDS_H
#define DW_EDF_RECORDS_H

#include <edflib.h>

typedef struct dw_edf_records dw_edf_records;

/* For the file open on fd (the same bytes EDFlib opened as h: the file itself or its repaired copy; the
 * descriptor stays the caller's and must outlive the reader). NULL when the layout cannot be matched with
 * h (the caller then reads through EDFlib), or out of memory. */
dw_edf_records *dw_edf_records_new(int fd, const struct edf_hdr_struct *h);
void dw_edf_records_free(dw_edf_records *r);

/* Samples first .. first + n - 1 of EDFlib signal sig (as numbered in h), in physical units times scale:
 * scale * (bitvalue * (offset + d)) with d the stored value clamped to the digital range, as
 * edfread_physical_samples computes it. Returns how many were read (fewer at the end of the file), or -1
 * on a read error (errno set; a file shortened under us reads as EIO). */
int dw_edf_records_read(dw_edf_records *r, int sig, long long first, int n, double scale, double *out);

#endif
