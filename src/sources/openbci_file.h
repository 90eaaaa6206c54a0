/* The line-by-line reader behind the two OpenBCI text sources (GUI recordings, Cyton SD-card logs):
 * streaming with a seek index, sample-counter gaps, skipped bad lines. A format only parses lines. */
#ifndef DW_OPENBCI_FILE_H
#define DW_OPENBCI_FILE_H

#include <stdio.h>
#include "sources/source.h"

typedef struct {
    long   counter;               /* the board's sample counter, 0 to counter_mod - 1 */
    double uv[DW_MAX_CH];
    int    accel_valid;           /* a fresh accelerometer reading (g) */
    double accel[3];
} dw_obci_row;

typedef struct dw_obci_format dw_obci_format;
struct dw_obci_format {
    const char *kind;
    /* A data line: 1 with row filled; 0 a line that holds no sample (header, comment); -1 bad, with
     * why = "column N: ..." (the caller adds file and line). line has no end-of-line characters. */
    int (*parse)(const dw_obci_format *f, char *line, dw_obci_row *row, char *why, size_t whysz);
    /* The counter alone, for the fast index pass: 1, 0 (no sample) or -1 (bad). */
    int (*counter)(const dw_obci_format *f, const char *line, long *counter);
    /* Unix time of a sample line from its timestamp column, 0 if none; NULL when the format has none. */
    double (*time_of)(const dw_obci_format *f, const char *line);
    int    nch;                   /* channels per line */
    int    counter_step;          /* 1, or 2 when the counter advances by two per sample */
    int    counter_mod;           /* values of the counter before it wraps: 256, Ganglion 201 (0 = 256) */
    int    col_time;              /* the timestamp column for time_of, -1 if none */
    int    col_accel;             /* first accelerometer column, -1 if none */
    int    skip_zero_rows;        /* GUI v5 writes a row of zeros before the first sample */
    /* The counter advances by exactly counter_step per line the device wrote (a Cyton SD log: the
     * firmware writes every sample it counts), so where it breaks, the lines that follow were not
     * written by this recording: reading ends before them (see marker) instead of counting a loss. */
    int    counter_exact;
    /* What a line that holds no sample marks in the device's stream (NULL: nothing): DW_OBCI_MARK_*. */
    int (*marker)(const char *line);
};

enum {
    DW_OBCI_MARK_NONE = 0,
    /* A stream stamp: the device started or stopped its stream here; the line after it holds the
     * device's clock (millis(), hex). Which name means "started" is decided from the file: the stamp
     * right before the first sample is a start (every Cyton firmware, v2.0.1 to v3.1.5, writes
     * "%STOP AT" when streaming starts and "%START AT" when it stops: the names are swapped,
     * OpenBCI_Cyton_Library issue #50). Between two samples: a stop then a start is a pause (its length
     * from the two clocks; the counter restarts), one stamp alone is a note and reading goes on; a stamp
     * whose clock cannot be this recording's (it disagrees with the samples counted since the first
     * stamp) is an earlier recording's: reading ends where its 512-byte block begins. */
    DW_OBCI_MARK_STOP_AT,         /* a stamp named "%STOP AT" */
    DW_OBCI_MARK_START_AT,        /* a stamp named "%START AT" */
    DW_OBCI_MARK_END,             /* the recording's end (a footer): nothing after it is data */
};

/* Opens path at data offset data_off (after the header the format read) and line number lineno0.
 * info: fs, start_epoch and subject filled by the format; channels Ch1..ChN, chosen by spec. */
dw_source *dw_obci_open(const char *path, const dw_obci_format *fmt, long long data_off, long lineno0,
                        const dw_source_info *info, const dw_channel_spec *spec, dw_err *err);

/* Reads the next line into *buf (a line ends at LF, CRLF or a lone CR, as dw_getline_max splits
 * them; the line end and a UTF-8 byte-order mark removed): its length, -1 at the end, -2 on a read
 * error or a line longer than DW_OBCI_LINE_MAX (a real line is under 300 bytes). */
#define DW_OBCI_LINE_MAX 65536
long dw_obci_getline(FILE *f, char **buf, size_t *cap);
/* Opens a regular file for reading (dw_input_fopen), NULL with err naming the file. */
FILE *dw_obci_fopen(const char *path, dw_err *err);
/* Comma-separated fields on a line. */
int dw_obci_fields(const char *line);

#endif
