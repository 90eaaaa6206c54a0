/* EDF/BDF header reader, checker and repairer: see edf_header.h for what it accepts, repairs and refuses.
 *
 * Field layout (EDF spec, section 2.1): a 256-byte fixed part, then per field one block of ns entries
 * (all labels, then all transducers, ...). The byte offset of signal i's field k is
 * 256 + ns * SIG[k].start + i * SIG[k].len. */
#include "edf/edf_header.h"

#include <ctype.h>
#include <edflib.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Per-signal fields: name, start (in units of ns bytes after byte 256), width. */
enum { F_LABEL, F_TRANSDUCER, F_UNIT, F_PMIN, F_PMAX, F_DMIN, F_DMAX, F_PREFILTER, F_SPR, F_RESERVED, F_N };
static const struct { const char *name; int start, len; } SIG[F_N] = {
    { "label", 0, 16 },              { "transducer type", 16, 80 },  { "physical dimension", 96, 8 },
    { "physical minimum", 104, 8 },  { "physical maximum", 112, 8 }, { "digital minimum", 120, 8 },
    { "digital maximum", 128, 8 },   { "prefiltering", 136, 80 },    { "samples per data record", 216, 8 },
    { "reserved", 224, 32 },
};

/* EDFlib's largest data record (edflib.c: 10 MiB for EDF, 15 MiB for BDF). */
#define MAX_REC_EDF (10LL * 1024 * 1024)
#define MAX_REC_BDF (15LL * 1024 * 1024)

typedef struct {
    dw_edf_header *h;
    unsigned char *b;              /* h->raw */
    const char *path, *name;       /* name: the file's base name, for notes */
    dw_err *err;
} rd;

static const char months[] = "JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC";    /* EDF+ 2.1.3.3's spelling */
static const char *const month_names[12] = { "January", "February", "March", "April", "May", "June", "July",
                                             "August", "September", "October", "November", "December" };

static int sig_off(const rd *r, int i, int k)
{
    return 256 + r->h->ns * SIG[k].start + i * SIG[k].len;
}

/* A field as a C string, trailing spaces kept (out holds len + 1). */
static char *field(const unsigned char *b, int off, int len, char *out)
{
    memcpy(out, b + off, (size_t)len);
    out[len] = 0;
    return out;
}

static void put(unsigned char *b, int off, int len, const char *text)
{
    size_t n = strlen(text);
    memset(b + off, ' ', (size_t)len);
    memcpy(b + off, text, n < (size_t)len ? n : (size_t)len);
}

static void trim_copy(const unsigned char *b, int off, int len, char *out)
{
    field(b, off, len, out);
    for (size_t n = strlen(out); n && out[n - 1] == ' '; n--)
        out[n - 1] = 0;
}

__attribute__((format(printf, 2, 3)))
static void repaired(rd *r, const char *fmt, ...)
{
    dw_edf_header *h = r->h;
    size_t k = strlen(h->note);
    h->repairs++;
    if (k + 40 >= sizeof h->note)
        return;                                /* the count still tells; the text would not fit */
    k += (size_t)snprintf(h->note + k, sizeof h->note - k, "%s%s: repaired: ", k ? "\n" : "", r->name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->note + k, sizeof h->note - k, fmt, ap);
    va_end(ap);
}

/* "signal 3 \"E129 Ref\"" for messages. */
static const char *sig_name(const rd *r, int i, char *out, size_t cap)
{
    snprintf(out, cap, "signal %d \"%s\"", i + 1, r->h->sig ? r->h->sig[i].label : "");
    return out;
}

/* ---- numbers ------------------------------------------------------------------------------------ */

/* Reads an EDF number field. Accepts what the writers we meet produce: leading spaces, a decimal comma
 * when there is no point ("0,5"), for integers a zero fraction ("100.0"). 0 with *v and canon (the form
 * EDFlib reads: left-aligned, point, no fraction for integers), -1 if it is not a number. */
static int number(const char *in, int integer, double *v, char *canon, size_t cap)
{
    char s[96];
    while (*in == ' ')
        in++;
    snprintf(s, sizeof s, "%s", in);
    for (size_t n = strlen(s); n && s[n - 1] == ' '; n--)
        s[n - 1] = 0;
    char *comma = strchr(s, ',');
    if (comma && !integer && !strchr(s, '.') && !strchr(comma + 1, ','))
        *comma = '.';
    const char *p = s + (s[0] == '+' || s[0] == '-');
    size_t digits = strspn(p, "0123456789"), frac = 0;
    p += digits;
    if (*p == '.')
        frac = strspn(++p, "0123456789"), p += frac;
    if (digits + frac == 0)
        return -1;
    if ((*p == 'e' || *p == 'E') && !integer) {
        p += 1 + (p[1] == '+' || p[1] == '-');
        size_t e = strspn(p, "0123456789");
        if (!e)
            return -1;
        p += e;
    }
    if (*p)
        return -1;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (errno || !isfinite(*v) || (integer && (*v != floor(*v) || fabs(*v) > 1e15)))
        return -1;
    if (integer)
        snprintf(canon, cap, "%.0f", *v);
    else
        snprintf(canon, cap, "%s", s);
    return 0;
}

/* A number field at off: its value, and the canonical form written back when it differs (noted with
 * what). 0, or -1 when it is not a number. */
static int num_field(rd *r, int off, int len, int integer, double *v, const char *what)
{
    char f[96], canon[96], was[96];
    if (number(field(r->b, off, len, f), integer, v, canon, sizeof canon) < 0)
        return -1;
    if ((int)strlen(canon) > len)
        return -1;
    char want[96];
    snprintf(want, sizeof want, "%-*s", len, canon);
    if (memcmp(want, r->b + off, (size_t)len)) {
        snprintf(was, sizeof was, "%s", f);
        for (size_t n = strlen(was); n && was[n - 1] == ' '; n--)
            was[n - 1] = 0;
        put(r->b, off, len, canon);
        repaired(r, "%s \"%s\" (byte %d) read as %s", what, was, off, canon);
    }
    return 0;
}

/* ---- text ---------------------------------------------------------------------------------------- */

/* Length of the UTF-8 sequence at s (2-4), or 0 if it is not one. */
static int utf8_len(const unsigned char *s, int left)
{
    int n = s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
    if (!n || n > left)
        return 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

/* Printable ASCII in a text field: NUL and control bytes become spaces, a micro sign (Latin-1 0xB5,
 * UTF-8 U+00B5 or U+03BC) "u", any other non-ASCII character (a UTF-8 sequence or a single byte) "?".
 * One note per field that changed. */
static void text_field(rd *r, int off, int len, const char *what)
{
    unsigned char *s = r->b + off, out[96];
    int o = 0, ctl = 0, other = 0, micro = 0;
    for (int i = 0; i < len;) {
        int n = utf8_len(s + i, len - i);
        if (s[i] < 32 || s[i] == 127)
            out[o++] = ' ', ctl++, i++;
        else if (s[i] < 127)
            out[o++] = s[i++];
        else if (s[i] == 0xb5 || (n == 2 && ((s[i] == 0xc2 && s[i + 1] == 0xb5) ||
                                               (s[i] == 0xce && s[i + 1] == 0xbc))))
            out[o++] = 'u', micro++, i += n ? n : 1;
        else
            out[o++] = '?', other++, i += n ? n : 1;
    }
    if (!ctl && !other && !micro)
        return;
    char was[96];
    int w = 0;
    for (int i = 0; i < len && w < 80; i++)    /* the old bytes as \xNN where not printable */
        w += snprintf(was + w, sizeof was - (size_t)w, s[i] >= 32 && s[i] < 127 ? "%c" : "\\x%02X", s[i]);
    while (o < len)
        out[o++] = ' ';
    memcpy(s, out, (size_t)len);
    while (w > 0 && was[w - 1] == ' ')
        was[--w] = 0;
    repaired(r, "%s (byte %d) \"%.60s\": %s%s%s", what, off, was,
             micro ? "micro sign read as \"u\"" : "", micro && (ctl || other) ? ", " : "",
             ctl && other ? "NUL/control bytes as spaces, other non-ASCII as \"?\""
             : ctl ? "NUL/control bytes as spaces" : other ? "non-ASCII characters as \"?\"" : "");
}

/* ---- layout ------------------------------------------------------------------------------------- */

static int fail(rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(rd *r, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    dw_err_set(r->err, "%s: %s", r->path, msg);
    return -1;
}

/* Version, number of signals, header size: what the rest depends on. b holds the first 256 bytes. */
static int read_fixed_layout(rd *r, long long got, long long fsize)
{
    dw_edf_header *h = r->h;
    const unsigned char *b = r->b;
    h->bdf = got >= 8 && !memcmp(b, "\xff" "BIOSEMI", 8);
    if (!h->bdf && (got < 8 || memcmp(b, "0       ", 8)))
        return fail(r, "not an EDF/BDF file (%s)", got == 0 ? "it is empty"
                    : "it starts with neither \"0       \" nor \"\\xffBIOSEMI\"");
    if (got < 256)
        return fail(r, "truncated in the header: %lld of at least 256 header bytes present", got);
    double v;
    char f[16];
    char canon[32];
    if (number(field(b, 252, 4, f), 1, &v, canon, sizeof canon) < 0 || v < 1 || v > EDFLIB_MAXSIGNALS)
        return fail(r, "bad number-of-signals field \"%s\" (header byte 252): 1 to %d", field(b, 252, 4, f),
                    EDFLIB_MAXSIGNALS);
    h->ns = (int)v;
    h->hdr_bytes = 256LL * (h->ns + 1);
    if (number(field(b, 184, 8, f), 1, &v, canon, sizeof canon) < 0 || v != (double)h->hdr_bytes)
        return fail(r, "wrong header-size field \"%s\" (header byte 184): %d signals need %lld bytes",
                    field(b, 184, 8, f), h->ns, h->hdr_bytes);
    if (fsize < h->hdr_bytes)
        return fail(r, "truncated in the header: %lld of %lld header bytes present", fsize, h->hdr_bytes);
    return 0;
}

/* Samples per record and the record count: where the records lie. */
static int read_record_layout(rd *r, int mode)
{
    dw_edf_header *h = r->h;
    char f[16];
    double v;
    for (int i = 0; i < h->ns; i++) {
        int off = sig_off(r, i, F_SPR);
        char lab[17], what[64];
        trim_copy(r->b, sig_off(r, i, F_LABEL), 16, lab);
        for (char *c = lab; *c; c++)
            *c = *c < 32 || *c > 126 ? '?' : *c;
        snprintf(what, sizeof what, "signal %d \"%s\" samples per data record", i + 1, lab);
        if (num_field(r, off, 8, 1, &v, what) < 0 || v < 1 || v > INT_MAX / 3)
            return fail(r, "signal %d \"%s\": bad samples-per-record field \"%s\" (header byte %d): a whole "
                        "number of at least 1", i + 1, lab, field(r->b, off, 8, f), off);
        h->sig[i].spr = (long)v;
        h->rec_bytes += (long long)v * (h->bdf ? 3 : 2);
    }
    long long max = h->bdf ? MAX_REC_BDF : MAX_REC_EDF;
    if (h->rec_bytes > max)
        return fail(r, "samples-per-record fields (header bytes %d-%d): a data record of %lld bytes, more "
                    "than EDFlib reads (%lld)", sig_off(r, 0, F_SPR), sig_off(r, h->ns, F_SPR) - 1,
                    h->rec_bytes, max);
    if (num_field(r, 236, 8, 1, &v, "number of data records") == 0 && v >= -1 && v < 1e15)
        h->nrec = (long long)v;
    else if (mode == DW_EDF_LAYOUT)
        h->nrec = -1;                           /* blank or garbage: the writer never finished */
    else
        return fail(r, "bad record-count field \"%s\" (header byte 236)", field(r->b, 236, 8, f));
    return 0;
}

/* ---- the fixed part --------------------------------------------------------------------------------- */

/* The numbers of a start date or time field: groups of digits separated by runs of characters that are
 * neither letters nor digits (":", "/", "-", " ", ...; in a time also the unit letters h, m, s as in
 * "22h30m00"), spaces around them allowed, or six digits with no separator ("223000"; a date also eight,
 * "15032024", kept as one group of 8 digits for date_order to cut). 0 with n groups (at most 3) in v[] and
 * their digit counts in nd[]; *dots is 1 when every separator is one '.', EDF's own; -1 on another letter,
 * a control byte or more than 3 groups. */
static int is_sep(int c, int time)
{
    return (!isalnum(c) && isprint(c)) || (time && c && strchr("hmsHMS", c));
}

static int clock_groups(const char *f, int time, long v[3], int nd[3], int *n, int *dots)
{
    const char *p = f + strspn(f, " ");
    *n = 0;
    *dots = 1;
    while (*p) {
        size_t k = strspn(p, "0123456789");
        if (!k || *n == 3 || (k > 6 && (time || k != 8 || *n)))
            return -1;
        v[*n] = atol(p);
        nd[(*n)++] = (int)k;
        p += k;
        size_t sep = 0;
        while (p[sep] && is_sep((unsigned char)p[sep], time))
            sep++;
        if (!sep && *p)
            return -1;                              /* a letter or a control byte */
        if (!p[sep] && strspn(p, " ") == sep)
            break;                                  /* trailing spaces */
        *dots &= sep == 1 && *p == '.';
        p += sep;
    }
    if (*n == 1 && nd[0] == 6) {                    /* "223000": three pairs */
        long x = v[0];
        for (int k = 2; k >= 0; k--, x /= 100)
            v[k] = x % 100, nd[k] = 2;
        *n = 3;
        *dots = 0;
    }
    if (*n == 1 && nd[0] == 8)                      /* "15032024": cut by date_order, both ways */
        *dots = 0;
    return 0;
}

static int days_in(int month, int year)
{
    static const int d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    return d[month - 1] + (month == 2 && leap);
}

/* A year as written: 4 digits as is, 2 digits as EDF's yy (85-99 -> 19yy, else 20yy). */
static long full_year(long y, int digits)
{
    return digits == 4 ? y : y + (y >= 85 ? 1900 : 2000);
}

/* A day, month and full year that make a calendar date within EDF's years (1985-2084). */
static int is_date(long day, long month, long year)
{
    return year >= 1985 && year <= 2084 && month >= 1 && month <= 12 && day >= 1 &&
           day <= days_in((int)month, (int)year);
}

static int plus_date(const char *s, int *day, int *year);

/* The date of an EDF+ recording field "Startdate dd-MMM-yyyy ..." (bytes 88-167): 1 with day, month and
 * full year; 0 when there is none. */
static int recording_date(const rd *r, long *day, long *month, long *year)
{
    int d, y, m = !memcmp(r->b + 88, "Startdate ", 10) ? plus_date((const char *)r->b + 98, &d, &y) : 0;
    if (m)
        *day = d, *month = m, *year = y;
    return m != 0;
}

/* One way of reading a start date's numbers. */
typedef struct { long d, m, y; const char *order, *form; } date_reading;

/* The readings of the groups g (nd digits each, n of them) that are calendar dates, distinct, at most 3:
 * day first (dd.mm.yy, EDF's order, the only one tried with EDF's '.' separators); with any other
 * separator, or none, also month first (mm/dd/yy, the US order) and year first (yy/mm/dd, ISO's order,
 * "24/03/15" being 2024-03-15 as likely as 24.03.2015). Eight digits with no separator are ddmmyyyy,
 * mmddyyyy or yyyymmdd. */
static int date_readings(const long g0[3], const int nd0[3], int n, int dots, date_reading out[3])
{
    long g[3], x = g0[0];
    int nd[3], k = 0;
    if (n == 1)                                     /* 8 digits: dd mm yyyy (year first: cut below) */
        g[0] = x / 1000000, g[1] = x / 10000 % 100, g[2] = x % 10000, nd[0] = nd[1] = 2, nd[2] = 4;
    else
        memcpy(g, g0, sizeof g), memcpy(nd, nd0, sizeof nd);
    date_reading all[3] = {
        { g[0], g[1], full_year(g[2], nd[2]), "day first", "dd.mm.yy" },
        { g[1], g[0], full_year(g[2], nd[2]), "month first", "mm/dd/yy" },
        { g[2], g[1], full_year(g[0], nd[0]), "year first", "yy/mm/dd" },
    };
    if (n == 1)
        all[2] = (date_reading){ x % 100, x / 100 % 100, x / 10000, "year first", "yyyymmdd" };
    int ok[3] = {
        nd[0] <= 2 && nd[1] <= 2,
        !dots && nd[0] <= 2 && nd[1] <= 2,
        (!dots || nd[0] == 4) && (n == 1 || ((nd[0] == 2 || nd[0] == 4) && nd[1] <= 2 && nd[2] <= 2)),
    };
    for (int i = 0; i < 3; i++) {
        int dup = 0;
        for (int j = 0; j < k; j++)
            dup |= out[j].d == all[i].d && out[j].m == all[i].m && out[j].y == all[i].y;
        if (ok[i] && !dup && is_date(all[i].d, all[i].m, all[i].y))
            out[k++] = all[i];
    }
    return k;
}

/* Start date: which reading of the groups the date is (out: day, month, yy), and why, for the note.
 * EDF's dd.mm.yy with its '.' separators is read as such; with any other separator the writer may have
 * used another order (date_readings). One reading that is a date: that one. Several: the EDF+ recording
 * field's "Startdate dd-MMM-yyyy" (byte 98) decides when it is one of them; when it is none of them it is
 * used, and the note says so; without it, the day-first reading (EDF's order) when it is one of them, with
 * a note naming the others, else the date is ambiguous: -1 with err naming the readings. None:
 * -1 with why (the day-first reading's day, month or year out of range). */
static int date_order(rd *r, const char *f, const long g[3], const int nd[3], int n, int dots, int out[3],
                      char *how, size_t howlen)
{
    date_reading c[3];
    int k = date_readings(g, nd, n, dots, c), use = 0;
    long rd_, rm, ry;
    char list[160] = "";
    for (int i = 0; i < k; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%02ld.%02ld.%02ld read %s (%s)",
                 i == 0 ? "" : i == k - 1 ? " or " : ", ", c[i].d, c[i].m, c[i].y % 100, c[i].order,
                 c[i].form);
    if (k == 1) {
        snprintf(how, howlen, dots && c[0].form[0] == 'd' ? "dd.mm.yy, the EDF order"
                                                           : "%s, %s: read another way it is no date",
                 c[0].order, c[0].form);
    } else if (k > 1 && recording_date(r, &rd_, &rm, &ry) && is_date(rd_, rm, ry)) {
        use = -1;
        for (int i = 0; i < k; i++)
            if (c[i].d == rd_ && c[i].m == rm && c[i].y == ry)
                use = i;
        if (use >= 0) {
            snprintf(how, howlen, "%s, as the EDF+ recording field's date (byte 98) has it; it reads %s",
                     c[use].order, list);
        } else {                                    /* none of them: EDF+'s own date, unambiguous */
            c[0] = (date_reading){ rd_, rm, ry, "", "" };
            use = 0;
            snprintf(how, howlen, "the EDF+ recording field's date %.11s (byte 98), used: the header's "
                     "reads %s, none of them that date", (const char *)r->b + 98, list);
        }
    } else if (k > 1 && c[0].form[0] == 'd') {
        /* No EDF+ date to decide: EDF's own order, which a writer that changed only the separator kept
         * (the common case: "15/03/24" from a European writer), and the note names the other readings */
        snprintf(how, howlen, "day first, dd.mm.yy, EDF's order, with no EDF+ recording date to decide; it "
                 "reads %s: check the recording's date", list);
    } else if (k > 1) {
        return fail(r, "start date \"%s\" (header byte 168) is ambiguous: %s; rewrite it as dd.mm.yy", f,
                    list);
    }
    if (k == 0) {
        long d = g[0], m = g[1], y = full_year(g[2], nd[2]);
        if (n == 1)
            d = g[0] / 1000000, m = g[0] / 10000 % 100, y = g[0] % 10000;
        if (y < 1985 || y > 2084)
            return fail(r, "start date \"%s\" (header byte 168): the year %ld lies outside EDF's 1985-2084",
                        f, y);
        if (m >= 1 && m <= 12 && d >= 1 && d <= 31)
            return fail(r, "start date \"%s\" (header byte 168): day out of range: %s %ld has %d days (EDF "
                        "order: dd.mm.yy)", f, month_names[m - 1], y, days_in((int)m, (int)y));
        return fail(r, "start date \"%s\" (header byte 168): %s out of range (EDF order: dd.mm.yy)", f,
                    m < 1 || m > 12 ? "month" : "day");
    }
    out[0] = (int)c[use].d, out[1] = (int)c[use].m, out[2] = (int)(c[use].y % 100);
    return 0;
}

/* Start date (kind 0) or time (kind 1). EDF (Kemp et al. 1992, 2.1) writes "dd.mm.yy" and "hh.mm.ss";
 * what other writers put there and is still one date or time is read (clock_groups: other separators,
 * one-digit numbers, no separator, a 4-digit year 1985-2084) and written back in the EDF form, with a
 * note naming the field, its byte and the order used (date_order); anything else is refused naming the
 * field and its byte: not three numbers (no seconds, "22:30"), a number out of range, an impossible
 * calendar date, a date that reads as several dates (day, month or year first) with no EDF+ recording
 * field date to choose. 0 with out[3], or -1 with err. */
static int clock_field(rd *r, int kind, int out[3])
{
    int off = kind ? 176 : 168, n, nd[3], dots;
    const char *what = kind ? "start time" : "start date", *form = kind ? "hh.mm.ss" : "dd.mm.yy";
    char f[16], canon[16], how[400] = "hh.mm.ss";
    long g[3];
    field(r->b, off, 8, f);
    if (clock_groups(f, kind, g, nd, &n, &dots) < 0 || (n != 3 && !(n == 1 && nd[0] == 8)))
        return fail(r, "%s \"%s\" (header byte %d) is not %s%s", what, f, off, form,
                    n == 2 && kind ? " (no seconds)" : n == 2 ? " (no year)" : "");
    for (int k = 0; k < n; k++)                     /* a 4-digit year first or last, not both */
        if (nd[k] > 2 && (kind || nd[k] != (n == 1 ? 8 : 4) || k == 1 || (n == 3 && nd[2 - k] > 2)))
            return fail(r, "%s \"%s\" (header byte %d) is not %s (%ld has %d digits)", what, f, off, form,
                        g[k], nd[k]);
    if (kind) {
        if (g[0] > 23 || g[1] > 59 || g[2] > 59)
            return fail(r, "%s \"%s\" (header byte %d): %s out of range (EDF order: %s)", what, f, off,
                        g[0] > 23 ? "hour" : g[1] > 59 ? "minute" : "second", form);
        out[0] = (int)g[0], out[1] = (int)g[1], out[2] = (int)g[2];
    } else if (date_order(r, f, g, nd, n, dots, out, how, sizeof how) < 0) {
        return -1;
    }
    snprintf(canon, sizeof canon, "%02d.%02d.%02d", out[0], out[1], out[2]);
    if (memcmp(canon, r->b + off, 8)) {
        put(r->b, off, 8, canon);
        repaired(r, "%s \"%s\" (byte %d) read as %s (%s)", what, f, off, canon, how);
    }
    return 0;
}

/* The record duration in 100-ns units, exactly as written (EDFlib reads it digit by digit). */
static long long duration_100ns(const char *s, double v)
{
    if (strchr(s, 'e') || strchr(s, 'E'))
        return llround(v * EDFLIB_TIME_DIMENSION);
    long long t = 0, scale = EDFLIB_TIME_DIMENSION;
    int dot = 0;
    for (s += *s == '+'; *s && *s != ' '; s++)
        if (*s == '.')
            dot = 1;
        else if (dot)
            t += (*s - '0') * (scale /= 10);
        else
            t = t * 10 + (*s - '0') * EDFLIB_TIME_DIMENSION;
    return t;
}

static int read_fixed_fields(rd *r)
{
    dw_edf_header *h = r->h;
    text_field(r, 8, 80, "patient field");
    text_field(r, 88, 80, "recording field");
    text_field(r, 192, 44, "reserved field");
    int d[3], t[3];
    if (clock_field(r, 0, d) < 0 || clock_field(r, 1, t) < 0)
        return -1;
    h->day = d[0], h->month = d[1], h->year = d[2] + (d[2] >= 85 ? 1900 : 2000);
    h->hour = t[0], h->minute = t[1], h->second = t[2];
    char f[16];
    double v;
    if (num_field(r, 244, 8, 0, &v, "record duration") < 0 || v < 0)
        return fail(r, "bad record-duration field \"%s\" (header byte 244): seconds, 0 or more",
                    field(r->b, 244, 8, f));
    h->rec_dur = duration_100ns(field(r->b, 244, 8, f), v);
    const char *plus = h->bdf ? "BDF+" : "EDF+";
    h->plus = !memcmp(r->b + 192, plus, 4) && (r->b[196] == 'C' || r->b[196] == 'D');
    h->discontinuous = h->plus && r->b[196] == 'D';
    return 0;
}

/* ---- signals ------------------------------------------------------------------------------------ */

/* An annotation signal's ranges mean nothing (its bytes are text); EDFlib wants the format's full
 * digital range and pmin != pmax. Written so, with one note. */
static void annotation_ranges(rd *r, int i)
{
    const char *dig[2] = { r->h->bdf ? "-8388608" : "-32768", r->h->bdf ? "8388607" : "32767" };
    char want[16], nm[64];
    double pmin, pmax;
    int changed = 0;
    char wmin[96], wmax[96];
    sig_name(r, i, nm, sizeof nm);
    snprintf(wmin, sizeof wmin, "%s physical minimum", nm);
    snprintf(wmax, sizeof wmax, "%s physical maximum", nm);
    if (num_field(r, sig_off(r, i, F_PMIN), 8, 0, &pmin, wmin) < 0 ||
        num_field(r, sig_off(r, i, F_PMAX), 8, 0, &pmax, wmax) < 0 || pmin == pmax) {
        put(r->b, sig_off(r, i, F_PMIN), 8, "-1");
        put(r->b, sig_off(r, i, F_PMAX), 8, "1");
        changed = 1;
    }
    for (int k = 0; k < 2; k++) {
        snprintf(want, sizeof want, "%-8s", dig[k]);
        if (memcmp(r->b + sig_off(r, i, F_DMIN + k), want, 8)) {
            memcpy(r->b + sig_off(r, i, F_DMIN + k), want, 8);
            changed = 1;
        }
    }
    if (changed)
        repaired(r, "%s: the annotation signal's ranges (bytes %d-%d) set to -1..1 and %s..%s", nm,
                 sig_off(r, i, F_PMIN), sig_off(r, i, F_DMAX) + 7, dig[0], dig[1]);
    /* EDF+ 2.2.1: its transducer, dimension, prefiltering and reserved fields are spaces (EDFlib insists) */
    static const int blank[] = { F_TRANSDUCER, F_UNIT, F_PREFILTER, F_RESERVED };
    for (size_t k = 0; k < sizeof blank / sizeof blank[0]; k++) {
        int off = sig_off(r, i, blank[k]), len = SIG[blank[k]].len;
        char f[96];
        trim_copy(r->b, off, len, f);
        if (f[0]) {
            memset(r->b + off, ' ', (size_t)len);
            repaired(r, "%s: %s \"%.40s\" (byte %d) of the annotation signal blanked, as EDF+ wants", nm,
                     SIG[blank[k]].name, f, off);
        }
    }
}

/* Which of a signal's four range fields makes it unusable, and why; -1 when none. */
static int bad_range(rd *r, int i, double v[4], const char **why)
{
    long lim = r->h->bdf ? 8388608 : 32768;
    char nm[64], what[96];
    sig_name(r, i, nm, sizeof nm);
    for (int k = F_PMIN; k <= F_DMAX; k++) {
        int integer = k >= F_DMIN;
        double *x = &v[k - F_PMIN];
        snprintf(what, sizeof what, "%s %s", nm, SIG[k].name);
        if (num_field(r, sig_off(r, i, k), 8, integer, x, what) < 0)
            return *why = integer ? "is not a whole number" : "is not a number", k;
        if (integer && (*x < -lim || *x > lim - 1))
            return *why = r->h->bdf ? "lies beyond the 24 bits of BDF" : "lies beyond the 16 bits of EDF", k;
    }
    if (v[0] == v[1])
        return *why = "equals the physical minimum", F_PMAX;
    if (v[3] <= v[2])
        return *why = v[3] == v[2] ? "equals the digital minimum" : "is below the digital minimum", F_DMAX;
    return -1;
}

/* A signal's physical and digital range; a range that cannot scale samples marks it broken, and the
 * copy EDFlib reads gets -1..1 over the full digital range so that the other signals open. */
static void signal_ranges(rd *r, int i)
{
    dw_edf_signal *s = &r->h->sig[i];
    double v[4];
    const char *why;
    int k = bad_range(r, i, v, &why);
    if (k < 0) {
        s->pmin = v[0], s->pmax = v[1], s->dmin = (long)v[2], s->dmax = (long)v[3];
        return;
    }
    char f[16], nm[64];
    int at = sig_off(r, i, k);
    trim_copy(r->b, at, 8, f);
    snprintf(s->broken, sizeof s->broken, "%s: %s \"%s\" (header byte %d) %s: its samples cannot be scaled",
             sig_name(r, i, nm, sizeof nm), SIG[k].name, f, at, why);
    long lim = r->h->bdf ? 8388608 : 32768;
    put(r->b, sig_off(r, i, F_PMIN), 8, "-1");
    put(r->b, sig_off(r, i, F_PMAX), 8, "1");
    put(r->b, sig_off(r, i, F_DMIN), 8, r->h->bdf ? "-8388608" : "-32768");
    put(r->b, sig_off(r, i, F_DMAX), 8, r->h->bdf ? "8388607" : "32767");
    s->pmin = -1, s->pmax = 1, s->dmin = -lim, s->dmax = lim - 1;
    repaired(r, "%s; left out, it cannot be selected", s->broken);
}

static int read_signals(rd *r)
{
    dw_edf_header *h = r->h;
    const char *ann = h->bdf ? "BDF Annotations" : "EDF Annotations";
    int nann = 0;
    for (int i = 0; i < h->ns; i++) {
        char what[64];
        for (int k = 0; k < F_N; k++)
            if (k == F_LABEL || k == F_TRANSDUCER || k == F_UNIT || k == F_PREFILTER || k == F_RESERVED) {
                snprintf(what, sizeof what, "signal %d %s", i + 1, SIG[k].name);
                text_field(r, sig_off(r, i, k), SIG[k].len, what);
            }
        dw_edf_signal *s = &h->sig[i];
        trim_copy(r->b, sig_off(r, i, F_LABEL), 16, s->label);
        trim_copy(r->b, sig_off(r, i, F_UNIT), 8, s->unit);
        s->annotation = h->plus && !strcmp(s->label, ann);
        nann += s->annotation;
        if (s->annotation)
            annotation_ranges(r, i);
        else
            signal_ranges(r, i);
    }
    if (h->rec_dur == 0 && nann < h->ns)       /* EDF+ 2.2.4: 0 only for a file of annotations alone */
        return fail(r, "record duration 0 (header byte 244) with %d signal%s of samples: their rate is "
                    "unknown (0 is only for a file of annotations alone)", h->ns - nann, h->ns - nann == 1 ? "" : "s");
    if (h->plus && !nann && h->discontinuous)
        return fail(r, "a discontinuous (%.5s) file without an \"%s\" signal: the record start times are "
                    "unknown", (const char *)r->b + 192, ann);
    if (h->plus && !nann) {
        repaired(r, "reserved field \"%.5s\" (byte 192) without an \"%s\" signal: read as plain %s",
                 (const char *)r->b + 192, ann, h->bdf ? "BDF" : "EDF");
        put(r->b, 192, 44, h->bdf ? "24BIT" : "");
        h->plus = 0;
    }
    return 0;
}

/* ---- EDF+ patient and recording subfields ----------------------------------------------------------- */

/* "dd-MMM-yyyy" at s (11 bytes); its month 1-12, or 0. */
static int plus_date(const char *s, int *day, int *year)
{
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != '-' || s[6] != '-')
        return 0;
    for (int i = 7; i < 11; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    const char *m = NULL;
    for (int k = 0; k < 12 && !m; k++)
        if (!memcmp(s + 3, months + 3 * k, 3))
            m = months + 3 * k;
    *day = atoi(s);
    *year = atoi(s + 7);
    return m && *day >= 1 && *day <= 31 ? (int)(m - months) / 3 + 1 : 0;
}

/* Subfields separated by single spaces, as EDF+ 2.1.3.2-3 want: the count of non-empty ones before
 * the first double space or the end (at most max), their starts in at[]. */
static int subfields(const char *s, int max, int at[])
{
    int n = 0, i = 0;
    while (n < max && s[i] && s[i] != ' ') {
        at[n++] = i;
        while (s[i] && s[i] != ' ')
            i++;
        if (s[i] == ' ')
            i++;
    }
    return n;
}

/* EDF+ patient: "code sex birthdate name [...]", sex M/F/X, birthdate dd-MMM-yyyy or X. */
static int patient_ok(const char *p)
{
    int at[4], d, y;
    if (subfields(p, 4, at) < 4 || at[1] - at[0] > 65)
        return 0;
    if (!strchr("MFX", p[at[1]]) || p[at[1] + 1] != ' ')
        return 0;
    return (p[at[2]] == 'X' && p[at[2] + 1] == ' ') || (plus_date(p + at[2], &d, &y) && p[at[2] + 11] == ' ');
}

/* EDF+ recording: "Startdate dd-MMM-yyyy|X admin technician equipment [...]"; 1 with *month (0 for X). */
static int recording_ok(const char *p, int *day, int *month, int *year)
{
    int at[5];
    if (subfields(p, 5, at) < 5 || strncmp(p, "Startdate ", 10) || at[4] > 79)
        return 0;
    if (p[10] == 'X' && p[11] == ' ')
        return *month = 0, 1;
    return (*month = plus_date(p + 10, day, year)) && p[21] == ' ' && *year >= 1970;
}

/* The trimmed text with each run of spaces as one '_', at most cap - 1 bytes. */
static void squeeze(const char *in, char *out, size_t cap)
{
    while (*in == ' ')
        in++;
    size_t k = 0;
    for (; *in && k + 1 < cap; in++)
        if (*in != ' ')
            out[k++] = *in;
        else if (in[1] && in[1] != ' ')
            out[k++] = '_';
    out[k] = 0;
}

static void plus_patient(rd *r)
{
    char p[81], code[61];                       /* EDFlib reads a code of up to 64 characters */
    field(r->b, 8, 80, p);
    if (patient_ok(p))
        return;
    squeeze(p, code, sizeof code);
    char fixed[96];
    snprintf(fixed, sizeof fixed, "%s X X X", code[0] ? code : "X");
    put(r->b, 8, 80, fixed);
    for (size_t n = strlen(p); n && p[n - 1] == ' '; n--)
        p[n - 1] = 0;
    repaired(r, "EDF+ patient field \"%.60s\" (byte 8) lacks the subfields \"code sex birthdate name\": "
             "rebuilt as \"%.60s\"", p, fixed);
}

static void plus_recording(rd *r)
{
    dw_edf_header *h = r->h;
    char p[81], want[16], fixed[128];
    int day = 0, month = 0, year = 0;
    field(r->b, 88, 80, p);
    snprintf(want, sizeof want, "%02d-%.3s-%04d", h->day, months + 3 * (h->month - 1), h->year);
    if (recording_ok(p, &day, &month, &year)) {
        h->start_unknown = !month;            /* "Startdate X": the header's date is a convention */
        if (month && (day != h->day || month != h->month || year % 100 != h->year % 100)) {
            /* seven Sleep-EDF telemetry hypnograms start after midnight but keep the evening's date here */
            repaired(r, "the start date in the recording field (%.11s, byte 98) differs from the header's "
                     "(byte 168); using %02d.%02d.%02d", p + 10, h->day, h->month, h->year % 100);
            memcpy(r->b + 98, want, 11);
        } else if (month) {
            h->year = year;                     /* EDF+ 2.1.3.3: the full year, beyond 2084 too */
        }
        return;
    }
    char rest[81];
    snprintf(rest, sizeof rest, "%s", !strncmp(p, "Startdate ", 10) ? p + 10 : p);
    for (size_t n = strlen(rest); n && rest[n - 1] == ' '; n--)
        rest[n - 1] = 0;
    const char *s = rest;
    while (*s == ' ')
        s++;
    snprintf(fixed, sizeof fixed, "Startdate %s X X X%s%.50s", want, *s ? " " : "", s);
    put(r->b, 88, 80, fixed);
    for (size_t n = strlen(p); n && p[n - 1] == ' '; n--)
        p[n - 1] = 0;
    repaired(r, "EDF+ recording field \"%.60s\" (byte 88) lacks the subfields \"Startdate dd-MMM-yyyy "
             "admin technician equipment\": rebuilt as \"%.70s\"", p, fixed);
}

/* Subject: the EDF+ patient code, else its name; plain EDF: the whole patient field. Read from the
 * file's own field (before any rebuild); "X" and "X X X X" mean unknown. */
static void subject(dw_edf_header *h, const char *orig)
{
    char p[81];
    snprintf(p, sizeof p, "%s", orig);
    int at[4];
    if (h->plus && patient_ok(p)) {
        int n = subfields(p, 4, at);
        const char *code = p, *name = n >= 4 ? p + at[3] : "";
        size_t lc = strcspn(code, " "), ln = strcspn(name, " ");
        if (!(lc == 1 && code[0] == 'X'))
            snprintf(h->subject, sizeof h->subject, "%.*s", (int)lc, code);
        else if (ln && !(ln == 1 && name[0] == 'X'))
            snprintf(h->subject, sizeof h->subject, "%.*s", (int)ln, name);
        for (char *c = h->subject; *c; c++)
            *c = *c == '_' ? ' ' : *c;
        return;
    }
    const char *s = p;
    while (*s == ' ')
        s++;
    snprintf(h->subject, sizeof h->subject, "%s", s);
    for (size_t n = strlen(h->subject); n && h->subject[n - 1] == ' '; n--)
        h->subject[n - 1] = 0;
    if (!strcmp(h->subject, "X") || !strcmp(h->subject, "X X X X"))
        h->subject[0] = 0;
}

/* ---- entry points ------------------------------------------------------------------------------- */

static int read_all(rd *r, int fd, int mode, long long fsize)
{
    dw_edf_header *h = r->h;
    unsigned char first[256];
    ssize_t got = pread(fd, first, sizeof first, 0);
    if (got < 0)
        return fail(r, "read error: %s", strerror(errno));
    r->b = first;
    if (read_fixed_layout(r, got, fsize) < 0)
        return -1;
    if (!(h->raw = malloc((size_t)h->hdr_bytes)) || !(h->sig = calloc((size_t)h->ns, sizeof *h->sig)))
        return fail(r, "out of memory");
    if (pread(fd, h->raw, (size_t)h->hdr_bytes, 0) != h->hdr_bytes)
        return fail(r, "read error in the header");
    r->b = h->raw;
    double v;
    num_field(r, 252, 4, 1, &v, "number of signals");   /* checked above: only its form is repaired */
    if (read_record_layout(r, mode) < 0)
        return -1;
    if (mode == DW_EDF_LAYOUT)
        return 0;
    if (read_fixed_fields(r) < 0 || read_signals(r) < 0)
        return -1;
    char patient[81];
    subject(h, field(r->b, 8, 80, patient));
    if (h->plus) {
        plus_patient(r);
        plus_recording(r);
    }
    return 0;
}

int dw_edf_header_read(int fd, const char *path, int mode, dw_edf_header *h, dw_err *err)
{
    memset(h, 0, sizeof *h);
    const char *name = strrchr(path, '/');
    rd r = { h, NULL, path, name ? name + 1 : path, err };
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        dw_err_set(err, "%s: not a regular file", path);
        return -1;
    }
    if (read_all(&r, fd, mode, (long long)st.st_size) < 0) {
        dw_edf_header_free(h);
        return -1;
    }
    return 0;
}

void dw_edf_header_free(dw_edf_header *h)
{
    free(h->sig);
    free(h->raw);
    h->sig = NULL;
    h->raw = NULL;
}
