/* The one reader of EDF, EDF+, BDF and BDF+ headers (every command that opens such a file goes through it:
 * replay and `score` via sources/edf_source.c, reference hypnograms, the recorder and `recover`).
 *
 * Sources of the rules: EDF, Kemp et al., Electroencephalogr Clin Neurophysiol 82:391-393 (1992); EDF+,
 * Kemp & Olivan, Clin Neurophysiol 114:1755-1761 (2003) and edfplus.info/specs; BDF, BioSemi's "24BIT"
 * variant; and what EDFlib 1.23 (which reads the data) accepts, measured here file by file.
 *
 * What it does with a header:
 *  - refuses what cannot be read, naming the file, the signal (number and label), the field and the byte
 *    offset of the field in the file: the layout (number of signals, header size, samples per record),
 *    the start date and time when they are not one date and time (no seconds, an impossible date, a
 *    date that reads as several dates, day, month or year first, with no EDF+ date to choose), the record
 *    duration;
 *  - repairs, in h->raw (the caller gives EDFlib a private copy that carries it; the file itself is never
 *    written), what is unambiguous and routinely met in files from other tools, one note line per repair
 *    ("night.edf: repaired: ..."): a start date and time in any form that is still one date and time
 *    ("22:30:00", "22 30 00", "223000", "19/03/99", "15032024", a 4-digit year; a date without dots read
 *    month first or year first only when that is the one order giving a date, or when the EDF+ recording
 *    field's date says so; when that date is none of the readings, it is used, said),
 *    numbers right-aligned or with a decimal comma ("0,5"), integers
 *    written as "100.0", NUL or control bytes (as spaces) and non-ASCII bytes (a micro sign becomes "u",
 *    any other character "?") in text fields, missing or malformed EDF+ patient and recording subfields
 *    (rebuilt around the original text), an EDF+ recording field whose date disagrees with the start date,
 *    EDF+C without an annotation signal (read as plain EDF), an annotation signal's digital and physical
 *    range;
 *  - marks a signal whose scaling is meaningless as broken (physical minimum = maximum, digital minimum >=
 *    maximum, a digital range beyond the format's 16 or 24 bits, a range that is not a number): h->raw
 *    gets a harmless range so that the rest of the file opens, and sig->broken says why. Such a signal
 *    must never be delivered: sources leave it out and refuse it when asked for by name. */
#ifndef DW_EDF_HEADER_H
#define DW_EDF_HEADER_H

#include <stddef.h>
#include "base/dw.h"

#define DW_EDF_NOTE_CAP 1536

typedef struct {
    char   label[17];          /* trailing spaces removed (after repair: printable ASCII) */
    char   unit[9];            /* physical dimension, trimmed */
    double pmin, pmax;         /* physical range in unit (pmin > pmax is allowed: inverted polarity) */
    long   dmin, dmax;         /* digital range */
    long   spr;                /* samples per data record */
    int    annotation;         /* the "EDF Annotations" / "BDF Annotations" signal of an EDF+/BDF+ file */
    char   broken[240];        /* "" when usable; else why not, naming the field and its byte offset */
} dw_edf_signal;

typedef struct {
    int    bdf;                /* 24-bit BioSemi layout ("\xffBIOSEMI") */
    int    plus;               /* EDF+ or BDF+ */
    int    discontinuous;      /* EDF+D or BDF+D */
    int    ns;                 /* signals */
    long long hdr_bytes;       /* 256 * (ns + 1) */
    long long rec_bytes;       /* bytes per data record */
    long long nrec;            /* the header's record count; -1: "-1" (a writer that never closed the file);
                                  in DW_EDF_LAYOUT mode also -1 when the field is blank or not a number */
    long long rec_dur;         /* record duration in 100-ns units (EDFLIB_TIME_DIMENSION per second) */
    int    year, month, day;   /* start date: yy 85-99 -> 19yy, 00-84 -> 20yy; EDF+ gives the full year */
    int    hour, minute, second;
    int    start_unknown;      /* EDF+ recording field "Startdate X" (2.1.3.3): the start is not
                                  known, the date and time above are a convention (01.01.85
                                  00.00.00) */
    char   subject[81];        /* EDF+ patient code (or name); plain EDF: the whole patient field; "" unknown */
    dw_edf_signal *sig;        /* ns signals */
    unsigned char *raw;        /* hdr_bytes: the header as EDFlib should read it, repairs applied */
    int    repairs;            /* how many repairs raw carries (0: raw is the file's header byte for byte) */
    char   note[DW_EDF_NOTE_CAP]; /* one line per repair, "NAME: repaired: ...", separated by '\n' */
} dw_edf_header;

enum {
    DW_EDF_FULL = 0,           /* check and repair every field */
    DW_EDF_LAYOUT = 1,         /* only what locates the records (for our own recordings: recorder, recover) */
};

/* Reads and checks the header of the EDF/BDF file open on fd (path names it in messages). 0 with h filled
 * (dw_edf_header_free() it), or -1 with err naming the file and, for a field, the signal, the field and
 * its byte offset; h holds nothing to free then. Reads only the header: a short or long data part is the
 * caller's business (compare hdr_bytes + nrec * rec_bytes with the file size). */
int  dw_edf_header_read(int fd, const char *path, int mode, dw_edf_header *h, dw_err *err);
void dw_edf_header_free(dw_edf_header *h);

#endif
