/* OpenBCI GUI text recordings, every generation:
 *   v1-v3  "%" header, then index, 8 (16) channels in uV, accel x y z in g (0 0 0 between readings)
 *   v4     the same plus clock time and Unix ms
 *   v5/v6  BrainFlow layout: "%Board = ..." header; index, channels, accel (held between readings), other
 *          columns, Unix time, formatted time; v6 adds a column-name row, v5 a row of zeros first.
 * The rate comes from "%Sample Rate", the channel count from "%Number of channels" or the columns,
 * the start from the formatted local time of the first sample or the file name (local_start).
 * Lines end at LF, CRLF or a lone CR (dw_getline_max).
 * Ganglion files (4 channels, 200 Hz) number samples 0-200, not 0-255: how far the index runs before it
 * wraps is learned from the file's first wraps, and the timestamp column (v4-v6) is there to check it. */
#include "sources/openbci_file.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A number followed by ',' or the end. Advances *s past the comma; 1, 0 (end of line) or -1 (bad). */
/* The GUI's plain decimals ("-12.34") without strtod: mantissa and power of ten are exact doubles below
 * 2^53 and 1e22, so one division rounds correctly, exactly as strtod does. NULL for any other form. */
static const char *fast_decimal(const char *p, double *v)
{
    static const double ten[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
                                  1e15 };
    int neg = *p == '-', digits = 0, frac = -1;
    unsigned long long m = 0;
    for (p += neg || *p == '+';; p++) {
        if (*p >= '0' && *p <= '9') {
            if (++digits > 15)
                return NULL;
            m = m * 10 + (unsigned)(*p - '0');
            frac += frac >= 0;
        } else if (*p == '.' && frac < 0) {
            frac = 0;
        } else {
            break;
        }
    }
    if (!digits || *p == 'e' || *p == 'E' || *p == 'x' || *p == 'X' || *p == 'n' || *p == 'i')
        return NULL;
    *v = (double)m / ten[frac > 0 ? frac : 0];
    if (neg)
        *v = -*v;
    return p;
}

static int next_number(const char **s, double *v)
{
    const char *p = *s;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p)
        return 0;
    char *end = (char *)fast_decimal(p, v);
    if (!end)
        *v = strtod(p, &end);
    if (end == p || !isfinite(*v))
        return -1;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end && *end != ',')
        return -1;
    *s = *end ? end + 1 : end;
    return 1;
}

/* Lines that hold no sample: empty, "%" comments, the column-name row. */
static int no_sample(const char *line)
{
    while (*line == ' ')
        line++;
    return !*line || *line == '%' || isalpha((unsigned char)*line);
}

static int text_counter(const dw_obci_format *f, const char *line, long *counter)
{
    if (no_sample(line))
        return 0;
    double v;
    if (next_number(&line, &v) != 1 || v < 0 || v != floor(v) || v > 1e15)
        return -1;
    *counter = (long)fmod(v, f && f->counter_mod > 0 ? f->counter_mod : 256);
    return 1;
}

static int text_parse(const dw_obci_format *f, char *line, dw_obci_row *row, char *why, size_t whysz)
{
    if (no_sample(line))
        return 0;
    const char *s = line;
    double v;
    int need = f->col_accel > 0 ? f->col_accel + 3 : 1 + f->nch;
    memset(row, 0, sizeof *row);
    for (int col = 0; col < need; col++) {
        int r = next_number(&s, &v);
        if (r == 0) {
            snprintf(why, whysz, "%d columns, expected at least %d", col, need);
            return -1;
        }
        if (r < 0 || (col == 0 && (v < 0 || v != floor(v) || v > 1e15))) {
            snprintf(why, whysz, "column %d: not a %s", col + 1, col ? "number" : "sample index");
            return -1;
        }
        if (col == 0)
            row->counter = (long)fmod(v, f->counter_mod > 0 ? f->counter_mod : 256);
        else if (col <= f->nch)
            row->uv[col - 1] = v;
        else if (col >= f->col_accel)
            row->accel[col - f->col_accel] = v;
    }
    /* v1-v4 write 0 0 0 between readings; BrainFlow holds the last one */
    row->accel_valid = f->col_accel > 0 && (row->accel[0] != 0 || row->accel[1] != 0 || row->accel[2] != 0);
    return 1;
}

/* The Unix time of a data line in column col (seconds or ms), 0 if none. */
static double line_time(const char *line, int col)
{
    for (int i = 0; i < col && line; i++)
        if ((line = strchr(line, ',')))
            line++;
    double t = line ? strtod(line, NULL) : 0;
    return t > 1e11 ? t / 1000 : t > 1e8 ? t : 0;
}

static double text_time(const dw_obci_format *f, const char *line)
{
    return f->col_time >= 0 ? line_time(line, f->col_time) : 0;
}

/* How many values the sample index takes before it wraps, from the first LEARN_LINES samples: 256 on a
 * Cyton (0-255; Daisy pairs 0-254 by twos), 201 on a Ganglion (0-200). The largest index seen before
 * the wraps, plus one step; 256 when the index never wraps there (nothing to learn from). */
#define LEARN_LINES 5000
static int learn_counter_mod(FILE *f, long long data_off, const dw_obci_format *fmt)
{
    char *line = NULL;
    size_t cap = 0;
    long prev = -1, max = 0, wraps = 0;
    fseeko(f, data_off, SEEK_SET);
    for (int n = 0; n < LEARN_LINES && dw_obci_getline(f, &line, &cap) >= 0;) {
        const char *s = line;
        double v;
        if (no_sample(line) || next_number(&s, &v) != 1 || v < 0 || v != floor(v) || v > 1e9)
            continue;
        n++;
        wraps += prev >= 0 && v < prev;
        max = v > max ? (long)v : max;
        prev = (long)v;
    }
    free(line);
    if (!wraps || max >= 254 || max < 2)
        return 256;
    return (int)max + fmt->counter_step;
}

/* A wall clock read from the file: the date (y = 0 when none) and the time of day in seconds. */
typedef struct {
    int    y, mon, d;
    double sod;
} wall;

/* n decimal digits at *p into *v, advancing *p; 0 when there are fewer. */
static int digits(const char **p, int n, int *v)
{
    for (*v = 0; n > 0; n--, (*p)++) {
        if (**p < '0' || **p > '9')
            return 0;
        *v = *v * 10 + (**p - '0');
    }
    return 1;
}

/* "YYYY-MM-DD" at *p: w's date and *p advanced, or 0 and nothing changed. */
static int parse_date(const char **p, wall *w)
{
    const char *q = *p;
    int y, m, d;
    if (!digits(&q, 4, &y) || *q++ != '-' || !digits(&q, 2, &m) || *q++ != '-' ||
        !digits(&q, 2, &d) || y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
        return 0;
    w->y = y, w->mon = m, w->d = d;
    *p = q;
    return 1;
}

/* "HH<sep>MM<sep>SS", then ".fff" (any number of digits) when frac, at *p, advancing it. */
static int parse_time(const char **p, char sep, int frac, wall *w)
{
    const char *q = *p;
    int h, m, sec;
    if (!digits(&q, 2, &h) || *q++ != sep || !digits(&q, 2, &m) || *q++ != sep ||
        !digits(&q, 2, &sec) || h > 23 || m > 59 || sec > 60)
        return 0;
    w->sod = h * 3600 + m * 60 + sec;
    if (frac && *q == '.')
        for (double scale = 0.1; *++q >= '0' && *q <= '9'; scale /= 10)
            w->sod += (*q - '0') * scale;
    *p = q;
    return 1;
}

/* The GUI's formatted local time of a data line (v4 "12:00:53.329", v5/v6 the same or
 * "2024-01-24 16:28:35.318"): the first column that is one. 1 found, 0 none. */
static int line_clock(const char *line, wall *w)
{
    for (const char *s = line; s; s = strchr(s, ',') ? strchr(s, ',') + 1 : NULL) {
        const char *q = s;
        while (*q == ' ')
            q++;
        *w = (wall){ 0 };
        if (parse_date(&q, w))
            while (*q == ' ' || *q == 'T')
                q++;
        if (!parse_time(&q, ':', 1, w))
            continue;
        while (*q == ' ')
            q++;
        if (!*q || *q == ',')
            return 1;
    }
    return 0;
}

/* GUI files are named OpenBCI-RAW-YYYY-MM-DD_HH-MM-SS.txt, the local time the session began. */
static int name_clock(const char *path, wall *w)
{
    const char *b = strrchr(path, '/');
    for (b = b ? b + 1 : path; *b; b++) {
        const char *q = b;
        *w = (wall){ 0 };
        if (parse_date(&q, w) && *q++ == '_' && parse_time(&q, '-', 0, w))
            return 1;
    }
    return 0;
}

/* Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant, "chrono-compatible low-level date
 * algorithms", days_from_civil). */
static long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400, doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* w's date moved to the day `days` from 1970-01-01 (gmtime works in UTC: no zone enters); y = 0 when
 * that day is outside 1970-9999. */
static void set_day(wall *w, double days)
{
    time_t t = (time_t)(days * 86400);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 1970 || tm.tm_year + 1900 > 9999) {
        w->y = 0;                                   /* no date: the start stays unknown */
        return;
    }
    w->y = tm.tm_year + 1900, w->mon = tm.tm_mon + 1, w->d = tm.tm_mday;
}

/* A dated wall clock as dreamwatch holds every start, EDF's too: the clock's fields made a time_t
 * by mktime: localtime shows the same clock on any machine, in any zone. 0 if mktime fails. */
static double wall_start(const wall *w)
{
    struct tm tm = { .tm_year = w->y - 1900, .tm_mon = w->mon - 1, .tm_mday = w->d,
                     .tm_hour = (int)(w->sod / 3600), .tm_min = (int)fmod(w->sod / 60, 60),
                     .tm_sec = (int)fmod(w->sod, 60), .tm_isdst = -1 };
    time_t t = mktime(&tm);
    return t == (time_t)-1 ? 0 : (double)t + (w->sod - floor(w->sod));
}

/* The start: the recording site's local clock at the first sample, whatever zone this machine is
 * in (an EDF start is the site's local clock too, and a hypnogram scored there is aligned by it).
 * Never the host's zone: the Unix time shown in the host's zone moves the start by the zone
 * difference, and a reference scored at the site no longer lines up.
 *   clock     the first sample's formatted local time, if the file has one (have_clock): its own
 *             date (v6 exports); else the date of the file name (the GUI's local start), a day on
 *             when the clock is over 12 h from the name's time (midnight passed before the first
 *             sample); else the date at the site: the Unix timestamp t of the same line shifted by
 *             the site's offset (clock minus t's UTC time of day, taken in -12 h..+12 h; zones at
 *             +13 and +14 read as -11 and -10, a day early: a dated column or the name settles it).
 *   no clock  the file name's local time (GUI v1-v3); else t's UTC clock, with a note (the site's
 *             zone is unknown, and UTC is at least the same on every machine); else 0 (unknown). */
static double local_start(const char *path, int have_clock, wall clock, double t, char *note,
                          size_t notesz)
{
    wall name;
    int have_name = name_clock(path, &name);
    if (!(t > 0 && t < 253402300800.0))          /* none, or past 9999-12-31: not a time (a bad file) */
        t = 0;
    if (have_clock && !clock.y && have_name) {
        double day = (double)days_from_civil(name.y, name.mon, name.d);
        day += clock.sod < name.sod - 43200 ? 1 : clock.sod > name.sod + 43200 ? -1 : 0;
        set_day(&clock, day);
    } else if (have_clock && !clock.y && t > 0) {
        double off = clock.sod - fmod(t, 86400);
        off += off < -43200 ? 86400 : off >= 43200 ? -86400 : 0;
        set_day(&clock, floor((t + off) / 86400));
    } else if (!have_clock && have_name) {
        clock = name;
    } else if (!have_clock && t > 0) {
        time_t s = (time_t)floor(t);
        struct tm tm;
        if (!gmtime_r(&s, &tm))
            return 0;
        clock = (wall){ tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec + (t - floor(t)) };
        const char *b = strrchr(path, '/');
        dw_source_note(note, notesz, "%s: no local clock in the file or its name: the start is its "
                       "Unix timestamps' UTC time", b ? b + 1 : path);
    }
    return clock.y ? wall_start(&clock) : 0;
}

dw_source *dw_openbci_text_open(const char *path, const dw_channel_spec *spec, dw_err *err)
{
    FILE *f = dw_obci_fopen(path, err);
    if (!f)
        return NULL;
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0, data_line = 0, first_line = 0;
    long long data_off = 0;
    int hdr_nch = 0, brainflow = 0, names_nch = 0, col_accel = -1, col_time = -1, fields = 0;
    long counters[2];
    int ncounters = 0;
    double fs = 0, start = 0, t_clock = 0;
    int have_clock = 0;
    wall clock = { 0 };
    dw_obci_format fmt = { .kind = "openbci-text", .parse = text_parse, .counter = text_counter,
                           .counter_step = 1 };
    /* Header, column names, and the first two samples: enough to know the layout. */
    for (long len; ncounters < 2 && lineno < 64 && (len = dw_obci_getline(f, &line, &cap)) >= 0;) {
        lineno++;
        if (line[0] == '%') {
            const char *eq = strchr(line, '=');
            if (strstr(line, "Number of channels") && eq)
                hdr_nch = atoi(eq + 1);
            else if (strstr(line, "Sample Rate") && eq)
                fs = strtod(eq + 1, NULL);
            else if (!strncmp(line, "%Board", 6))
                brainflow = 1;
            data_off = ftello(f);
            data_line = lineno;
        } else if (isalpha((unsigned char)line[0])) {   /* v6: "Sample Index, EXG Channel 0, ..." */
            int col = 0;
            for (char *tok = strtok(line, ","); tok; tok = strtok(NULL, ","), col++) {
                while (*tok == ' ')
                    tok++;
                names_nch += !strncmp(tok, "EXG Channel", 11);
                if (!strncmp(tok, "Accel Channel 0", 15))
                    col_accel = col;
                if (!strcmp(tok, "Timestamp") && col_time < 0)
                    col_time = col;
            }
        } else {
            long c;
            if (text_counter(&fmt, line, &c) != 1)
                continue;
            if (!fields)
                fields = dw_obci_fields(line), first_line = lineno;
            double t = col_time >= 0 ? line_time(line, col_time)
                       : brainflow ? line_time(line, fields - 2) : line_time(line, fields - 1);
            if (!start && t)
                start = t;
            if (!have_clock && (have_clock = line_clock(line, &clock)))
                t_clock = t;
            if (!(brainflow && ncounters == 0 && c == 0 && !t))   /* not v5's row of zeros */
                counters[ncounters++] = c;
        }
    }
    free(line);
    if (!fields) {
        fclose(f);
        dw_err_set(err, "%s:%ld: no OpenBCI sample lines (index, channels...) after the header", path, lineno);
        return NULL;
    }
    fmt.nch = hdr_nch ? hdr_nch : names_nch ? names_nch : fields >= 20 && !brainflow ? 16 : 8;
    if (fmt.nch != 8 && fmt.nch != 16 && !(fmt.nch > 0 && fmt.nch <= DW_MAX_CH)) {
        dw_err_set(err, "%s: %d channels: dreamwatch reads 1-%d", path, fmt.nch, DW_MAX_CH);
        fclose(f);
        return NULL;
    }
    if (fields < 1 + fmt.nch) {
        dw_err_set(err, "%s:%ld: %d columns, but %d channels need %d", path, first_line, fields, fmt.nch,
                   1 + fmt.nch);
        fclose(f);
        return NULL;
    }
    if (col_accel < 0 && fields >= fmt.nch + 4)
        col_accel = fmt.nch + 1;
    fmt.col_accel = col_accel;
    fmt.skip_zero_rows = brainflow;
    if (fmt.nch == 16 && ncounters == 2 && ((counters[1] - counters[0]) & 255) == 2)
        fmt.counter_step = 2;                  /* Daisy files that number packet pairs */
    fmt.time_of = text_time;
    fmt.col_time = col_time >= 0 ? col_time : brainflow ? fields - 2 : fields - 1;
    fmt.counter_mod = learn_counter_mod(f, data_off, &fmt);
    fclose(f);
    dw_source_info info = { 0 };
    info.fs = fs > 0 ? fs : fmt.nch == 16 ? 125 : fmt.nch == 4 ? 200 : 250;
    info.start_epoch = local_start(path, have_clock, clock, have_clock ? t_clock : start, info.note,
                                   sizeof info.note);
    const char *name = strrchr(path, '/');
    if (fmt.counter_mod != 256)
        dw_source_note(info.note, sizeof info.note, "%s: the sample index runs 0-%d (%s), learned from the file",
                       name ? name + 1 : path, fmt.counter_mod - 1, fmt.nch == 4 ? "a Ganglion" : "not 0-255");
    return dw_obci_open(path, &fmt, data_off, data_line, &info, spec, err);
}
