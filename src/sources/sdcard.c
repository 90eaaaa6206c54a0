/* The Cyton's own SD-card log: "%STOP AT" and a hex stop time, then one line per sample,
 *   SS,CH1,...,CH8[,CH9..CH16][,AX,AY,AZ]
 * SS the sample counter (hex 00-FF), channels 24-bit two's-complement hex counts (the words the serial
 * packets carry), AX-AZ 16-bit accelerometer counts on the lines that have a reading (about every 10th).
 * The file records neither gain nor rate: the default gain 24 (0.0223517 uV per count) and the board's
 * 250 Hz are assumed, also for Daisy's 16 channels, which the board logs at its full rate.
 *
 * How the firmware writes it (OpenBCI_32bit_Library, SD_Card_Stuff.ino): the file is pre-allocated
 * (createContiguous, BLOCK_COUNT x 512 bytes) and filled by whole 512-byte blocks; a block is
 * written when full, so a stop leaves the last partial block unwritten and the rest of the file
 * holds whatever the card returns: zeros, 0xFF, or an earlier recording's lines when the erase did
 * not clear them. Each line is written for a sample the board reads, with the board's
 * sampleCounter, which the same loop then advances: the counter in the file never jumps. A jump where
 * a block begins is where this recording's blocks end; one inside a block (a damaged line, a sample the
 * board missed) is lost samples, and reading goes on. Stamps: streaming's start writes "%STOP AT" and its stop
 * "%START AT" (the names are swapped in every firmware from v2.0.1 to v3.1.5: sdProcessChar's 'b' calls
 * stampSD(DEACTIVATE), which writes stopStamp; issue #50), each followed by millis() in hex on its own
 * line, and every start resets the sample counter to 00 (startADS). A host that sends 's' before 'b'
 * (as issue #50's v2.0.1 files show) makes a file open "%START AT", time, "%STOP AT", time: a stop,
 * then the start. Which name starts is read from the file (DW_OBCI_MARK_STOP_AT in openbci_file.h).
 * A full file ends with the footer "%Total time mS:" and NUL bytes. */
#include "sources/openbci_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UV_PER_COUNT (4.5 / 24.0 / 8388607.0 * 1e6)
#define G_PER_COUNT  (0.002 / 16.0)

/* Exactly `digits` hex digits then ',' or the end; the value sign-extended from 4*digits bits. */
static int hex_field(const char **s, int digits, long *v)
{
    const char *p = *s;
    unsigned long u = 0;
    for (int i = 0; i < digits; i++, p++) {
        int c = *p, d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        u = u << 4 | (unsigned)d;
    }
    if (*p && *p != ',')
        return -1;
    unsigned long sign = 1UL << (4 * digits - 1);
    *v = (long)(u ^ sign) - (long)sign;
    *s = *p ? p + 1 : p;
    return 1;
}

/* Lines without a sample: "%" lines, the hex stop time (no comma), blank lines. */
static int no_sample(const char *line)
{
    return line[0] == '%' || !strchr(line, ',');
}

/* "%STOP AT" / "%START AT": the stream started or stopped; "%Total time": the footer of a full
 * file. */
static int sd_marker(const char *line)
{
    if (!strncmp(line, "%STOP AT", 8))
        return DW_OBCI_MARK_STOP_AT;
    if (!strncmp(line, "%START AT", 9))
        return DW_OBCI_MARK_START_AT;
    return strncmp(line, "%Total time", 11) ? DW_OBCI_MARK_NONE : DW_OBCI_MARK_END;
}

static int sd_counter(const dw_obci_format *f, const char *line, long *counter)
{
    (void)f;
    if (no_sample(line))
        return 0;
    long v;
    if (hex_field(&line, 2, &v) != 1)
        return -1;
    *counter = v & 255;
    return 1;
}

static int sd_parse(const dw_obci_format *f, char *line, dw_obci_row *row, char *why, size_t whysz)
{
    if (no_sample(line))
        return 0;
    const char *s = line;
    long v;
    memset(row, 0, sizeof *row);
    if (hex_field(&s, 2, &v) != 1) {
        snprintf(why, whysz, "column 1: not a 2-digit hex sample number");
        return -1;
    }
    row->counter = v & 255;
    for (int c = 0; c < f->nch; c++) {
        if (!*s || hex_field(&s, 6, &v) != 1) {
            snprintf(why, whysz, *s ? "column %d: not a 6-digit hex count" : "%d columns, expected %d", c + 2,
                     1 + f->nch);
            return -1;
        }
        row->uv[c] = (double)v * UV_PER_COUNT;
    }
    if (!*s)
        return 1;
    for (int a = 0; a < 3; a++) {
        if (!*s || hex_field(&s, 4, &v) != 1) {
            snprintf(why, whysz, "column %d: not a 4-digit hex accelerometer count", f->nch + 2 + a);
            return -1;
        }
        row->accel[a] = (double)v * G_PER_COUNT;
    }
    if (*s) {
        snprintf(why, whysz, "column %d: more columns than %d channels and 3 accelerometer axes", f->nch + 5,
                 f->nch);
        return -1;
    }
    row->accel_valid = 1;
    return 1;
}

dw_source *dw_sdcard_open(const char *path, const dw_channel_spec *spec, dw_err *err)
{
    FILE *f = dw_obci_fopen(path, err);
    if (!f)
        return NULL;
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0, len;
    int fields = 0;
    while (!fields && lineno < 64 && (len = dw_obci_getline(f, &line, &cap)) >= 0) {
        lineno++;
        if (!no_sample(line))
            fields = dw_obci_fields(line);
    }
    free(line);
    fclose(f);
    /* 8 or 16 channels, with or without the accelerometer: 9, 12, 17 or 20 columns */
    int nch = fields == 9 || fields == 12 ? 8 : fields == 17 || fields == 20 ? 16 : 0;
    if (!nch) {
        if (fields)
            dw_err_set(err, "%s:%ld: %d columns: a Cyton SD line has 9 or 12 (16 channels: 17 or 20)", path,
                       lineno, fields);
        else
            dw_err_set(err, "%s:%ld: no SD-card sample lines (SS,CH1,...,CH8)", path, lineno);
        return NULL;
    }
    dw_obci_format fmt = { .kind = "openbci-sd", .parse = sd_parse, .counter = sd_counter, .nch = nch,
                           .counter_step = 1, .counter_mod = 256, .col_accel = nch + 1, .col_time = -1,
                           .counter_exact = 1, .marker = sd_marker };
    dw_source_info info = { 0 };
    info.fs = 250;
    const char *name = strrchr(path, '/');
    dw_source_note(info.note, sizeof info.note, "%s: SD-card log: gain 24 and 250 Hz assumed (the file records "
                   "neither)", name ? name + 1 : path);
    return dw_obci_open(path, &fmt, 0, 0, &info, spec, err);
}
