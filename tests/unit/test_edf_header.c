/* The EDF/BDF header reader (src/edf/edf_header.c) on files written byte by byte here, then damaged the
 * ways other tools damage them: each repair gives a note naming the field and its byte, a header EDFlib
 * opens, the same samples as the clean file, and no second repair when read again; each refusal names
 * the signal, the field and the byte; a signal whose range cannot scale its samples is left out of
 * replay, named in a note, and refused when asked for (case 01 of ../shared/cases). */
#include "edf/edf_header.h"
#include "sources/source.h"
#include "edf_testfile.h"
#include "tap.h"

#include <edflib.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"   /* patch.len defaults to 0 */

static char dir[256];

static char *tmp(const char *name)
{
    static char p[8][400];
    static int k;
    char *s = p[k++ % 8];
    snprintf(s, 400, "%s/%s", dir, name);
    return s;
}

/* ---- a hand-made EDF/BDF ------------------------------------------------------------------------ */

typedef struct { const char *label, *unit, *pmin, *pmax, *dmin, *dmax; int spr; } tsig;
typedef struct { int off; const char *bytes; int len; } patch;   /* len 0: strlen(bytes) */

static const tsig two[] = {
    { "EEG Fpz-Cz", "uV", "-500", "500", "-32768", "32767", 100 },
    { "EEG Pz-Oz", "uV", "-500", "500", "-32768", "32767", 100 },
};

/* Digital value of signal s, record r, sample i: exact in 16 bits, distinct per signal. */
static long dval(int s, int r, int i)
{
    return ((r * 100 + i) * 7 + s * 300) % 20000 - 10000;
}

/* ns signals (plus: an annotation signal added last) and nrec 1-s records; patches applied to the header. */
static int write_file(const char *path, int bdf, int plus, const tsig *sig, int ns, int nrec, const patch *pt,
                      int npt)
{
    int total = ns + (plus != 0), bps = bdf ? 3 : 2;
    size_t hs = 256 * (size_t)(total + 1);
    char *h = malloc(hs + 1);
    char rec[128], reserved[8];
    snprintf(rec, sizeof rec, plus ? "Startdate 09-MAR-2024 X X dw_test" : "local recording");
    snprintf(reserved, sizeof reserved, "%s", plus ? (plus == 'D' ? "EDF+D" : "EDF+C") : bdf ? "24BIT" : "");
    if (plus && bdf)
        reserved[0] = 'B';
    int k = sprintf(h, "%-8s%-80s%-80s%-8s%-8s%-8zu%-44s%-8d%-8s%-4d", bdf ? "\xff" "BIOSEMI" : "0",
                    plus ? "P-7 M 01-JAN-1980 Kim" : "P-7 Kim", rec, "09.03.24", "22.45.10", hs, reserved, nrec,
                    "1", total);
    const char *ann = bdf ? "BDF Annotations" : "EDF Annotations";
    for (int i = 0; i < total; i++) k += sprintf(h + k, "%-16s", i < ns ? sig[i].label : ann);
    for (int i = 0; i < total; i++) k += sprintf(h + k, "%-80s", i < ns ? "AgAgCl" : "");
    for (int i = 0; i < total; i++) k += sprintf(h + k, "%-8s", i < ns ? sig[i].unit : "");
    for (int i = 0; i < total; i++) k += sprintf(h + k, "%-8s", i < ns ? sig[i].pmin : "-1");
    for (int i = 0; i < total; i++) k += sprintf(h + k, "%-8s", i < ns ? sig[i].pmax : "1");
    for (int i = 0; i < total; i++) k += sprintf(h + k, "%-8s", i < ns ? sig[i].dmin : bdf ? "-8388608" : "-32768");
    for (int i = 0; i < total; i++) k += sprintf(h + k, "%-8s", i < ns ? sig[i].dmax : bdf ? "8388607" : "32767");
    for (int i = 0; i < total; i++) k += sprintf(h + k, "%-80s", i < ns ? "HP:0.1Hz" : "");
    for (int i = 0; i < total; i++) k += sprintf(h + k, "%-8d", i < ns ? sig[i].spr : 30);
    for (int i = 0; i < total; i++) k += sprintf(h + k, "%-32s", "");
    for (int i = 0; i < npt; i++)
        memcpy(h + pt[i].off, pt[i].bytes, pt[i].len ? (size_t)pt[i].len : strlen(pt[i].bytes));
    FILE *f = fopen(path, "wb");
    int bad = !f || fwrite(h, 1, hs, f) != hs;
    for (int r = 0; r < nrec && !bad; r++) {
        for (int s = 0; s < ns; s++)
            for (int i = 0; i < sig[s].spr; i++)
                for (int b = 0; b < bps; b++)
                    fputc((int)((unsigned long)dval(s, r, i) >> (8 * b)) & 0xff, f);
        if (plus) {
            char tal[128] = { 0 };
            snprintf(tal, sizeof tal, "+%d\x14\x14", r);
            fwrite(tal, 1, (size_t)(30 * bps), f);
        }
    }
    free(h);
    return !f || fclose(f) || bad ? -1 : 0;
}

static int read_header(const char *path, int mode, dw_edf_header *h, dw_err *err)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        dw_err_set(err, "%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = dw_edf_header_read(fd, path, mode, h, err);
    close(fd);
    return rc;
}

/* Byte offset of signal i's field starting at `start` ns-blocks after 256, width w. */
static int soff(int ns, int i, int start, int w)
{
    return 256 + ns * start + i * w;
}

/* Reads the whole source: frames into x (caller frees), or -1. */
static long read_all(dw_source *s, double **x)
{
    long n = 0, cap = 0;
    *x = NULL;
    dw_block b;
    int r;
    while ((r = s->ops->read(s, &b, 500, 0)) > 0) {
        if (n + r > cap) {
            cap = 2 * (n + r);
            *x = realloc(*x, (size_t)cap * s->info.nch * sizeof **x);
        }
        memcpy(*x + n * s->info.nch, b.uv, (size_t)r * s->info.nch * sizeof **x);
        n += r;
    }
    return r == DW_SRC_EOF ? n : -1;
}

/* ---- repairs -------------------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    int bdf, plus;
    patch p[3];
    int np;
    const char *note;                 /* the note must hold this */
} rcase;

/* The clean file's samples, to compare every repaired file with. */
static double *clean_x;
static long clean_n;

/* A repaired file: one note per repair naming the byte, EDFlib opens it through dw_edf_open, the samples are
 * the clean file's, and the repaired header read again needs no repair (the repair is the canonical form). */
static void check_repair(const rcase *c)
{
    char name[160], path[400];
    snprintf(path, sizeof path, "%s", tmp("rep.edf"));
    write_file(path, c->bdf, c->plus, two, 2, 20, c->p, c->np);
    dw_edf_header h;
    dw_err err = { 0 };
    int rc = read_header(path, DW_EDF_FULL, &h, &err);
    snprintf(name, sizeof name, "repair %s: noted with the field and byte", c->name);
    CHECK(name, rc == 0 && h.repairs >= 1 && tf_contains(h.note, "rep.edf: repaired: ") &&
          tf_contains(h.note, c->note), "rc %d repairs %d: %s", rc, rc ? -1 : h.repairs, rc ? err.msg : h.note);
    if (rc)
        return;
    /* the repaired header with the file's records: a file that needs no repair */
    FILE *f = fopen(path, "rb"), *o = fopen(tmp("again.edf"), "wb");
    static char buf[1 << 16];
    fseek(f, h.hdr_bytes, SEEK_SET);
    fwrite(h.raw, 1, (size_t)h.hdr_bytes, o);
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, o);
    fclose(f);
    fclose(o);
    dw_edf_header h2;
    rc = read_header(tmp("again.edf"), DW_EDF_FULL, &h2, &err);
    snprintf(name, sizeof name, "repair %s: the repaired header reads without repair", c->name);
    CHECK(name, rc == 0 && h2.repairs == 0, "%s", rc ? err.msg : h2.note);
    if (!rc)
        dw_edf_header_free(&h2);
    dw_edf_header_free(&h);
    dw_source *s = dw_edf_open(path, NULL, &err);
    double *x = NULL;
    long got = s ? read_all(s, &x) : -1;
    int same = got == clean_n && s->info.nch == 2;
    for (long i = 0; same && i < got * 2; i++)
        same = fabs(x[i] - clean_x[i]) < 1e-9;
    snprintf(name, sizeof name, "repair %s: dw_edf_open reads the clean file's samples, note says so", c->name);
    CHECK(name, same && tf_contains(s->info.note, c->note), "%s got %ld of %ld", s ? s->info.note : err.msg, got,
          clean_n);
    free(x);
    dw_source_close(s);
}

static void test_repairs(void)
{
    const int ns = 2, ns3 = 3;   /* plain files have 2 signals, EDF+ ones 3 (the annotation signal) */
    const rcase cases[] = {
        { "start time 22:30:00", 0, 0, { { 176, "22:45:10" } }, 1, "start time \"22:45:10\" (byte 176) read as 22.45.10" },
        { "start date 19/03/99 (read year first it is no date)", 0, 0, { { 168, "19/03/99" } }, 1,
          "start date \"19/03/99\" (byte 168) read as 19.03.99 (day first, dd.mm.yy: read another way it is no "
          "date)" },
        { "start date 15032024 (ddmmyyyy, no separator)", 0, 0, { { 168, "15032024" } }, 1,
          "start date \"15032024\" (byte 168) read as 15.03.24 (day first, dd.mm.yy: read another way" },
        { "start date 20240315 (yyyymmdd, no separator)", 0, 0, { { 168, "20240315" } }, 1,
          "start date \"20240315\" (byte 168) read as 15.03.24 (year first, yyyymmdd: read another way" },
        { "start date 2024-3-9 (4-digit year first)", 0, 0, { { 168, "2024-3-9" } }, 1,
          "start date \"2024-3-9\" (byte 168) read as 09.03.24 (year first, yy/mm/dd" },
        { "EDF+ start date 24/03/09: the recording field's date (09-MAR-2024) says year first", 0, 'C',
          { { 168, "24/03/09" } }, 1,
          "start date \"24/03/09\" (byte 168) read as 09.03.24 (year first, as the EDF+ recording field's date "
          "(byte 98) has it; it reads 24.03.09 read day first (dd.mm.yy) or 09.03.24 read year first (yy/mm/dd))" },
        { "EDF+ start date 19/03/24, neither reading the recording field's date: that one, said", 0, 'C',
          { { 168, "19/03/24" } }, 1,
          "start date \"19/03/24\" (byte 168) read as 09.03.24 (the EDF+ recording field's date 09-MAR-2024 "
          "(byte 98), used: the header's reads 19.03.24 read day first (dd.mm.yy) or 24.03.19 read year first "
          "(yy/mm/dd), none of them that date)" },
        { "start date 09/03/24, no EDF+ date: EDF's order, the other readings named", 0, 0, { { 168, "09/03/24" } }, 1,
          "start date \"09/03/24\" (byte 168) read as 09.03.24 (day first, dd.mm.yy, EDF's order, with no EDF+ recording "
          "date to decide; it reads 09.03.24 read day first (dd.mm.yy), 03.09.24 read month first (mm/dd/yy) or "
          "24.03.09 read year first (yy/mm/dd): check the recording's date)" },
        { "start date 24/03/15, no EDF+ date: EDF's order, said", 0, 0, { { 168, "24/03/15" } }, 1,
          "start date \"24/03/15\" (byte 168) read as 24.03.15 (day first, dd.mm.yy, EDF's order, with no EDF+ recording "
          "date to decide; it reads 24.03.15 read day first (dd.mm.yy) or 15.03.24 read year first (yy/mm/dd): "
          "check the recording's date)" },
        { "start date 9.3.24", 0, 0, { { 168, "9.3.24  " } }, 1, "start date \"9.3.24  \" (byte 168) read as 09.03.24" },
        { "start time 22 45 10 (spaces)", 0, 0, { { 176, "22 45 10" } }, 1,
          "start time \"22 45 10\" (byte 176) read as 22.45.10 (hh.mm.ss)" },
        { "start date 19 03 99 (spaces)", 0, 0, { { 168, "19 03 99" } }, 1,
          "start date \"19 03 99\" (byte 168) read as 19.03.99 (day first, dd.mm.yy" },
        { "start time 224510 (no separator)", 0, 0, { { 176, "224510  " } }, 1,
          "start time \"224510  \" (byte 176) read as 22.45.10" },
        { "start time 22h45m10", 0, 0, { { 176, "22h45m10" } }, 1, "start time \"22h45m10\" (byte 176) read as 22.45.10" },
        { "start date 03/15/24 (month first)", 0, 0, { { 168, "03/15/24" } }, 1,
          "start date \"03/15/24\" (byte 168) read as 15.03.24 (month first, mm/dd/yy: read another way it is no date)" },
        { "EDF+ start date 9/3/2024: the recording field's date decides", 0, 'C', { { 168, "9/3/2024" } }, 1,
          "start date \"9/3/2024\" (byte 168) read as 09.03.24 (day first, as the EDF+ recording field's date" },
        { "EDF+ start date 03/09/24: the recording field's date decides", 0, 'C', { { 168, "03/09/24" } }, 1,
          "start date \"03/09/24\" (byte 168) read as 09.03.24 (month first, as the EDF+ recording field's date" },
        { "physical minimum 0,5 (decimal comma)", 0, 0, { { soff(ns, 0, 104, 8), "-500,0  " } }, 1,
          "signal 1 \"EEG Fpz-Cz\" physical minimum \"-500,0\" (byte 464) read as -500.0" },
        { "right-aligned physical maximum", 0, 0, { { soff(ns, 1, 112, 8), "     500" } }, 1,
          "signal 2 \"EEG Pz-Oz\" physical maximum \"     500\" (byte 488) read as 500" },
        { "record count right-aligned", 0, 0, { { 236, "      20" } }, 1,
          "number of data records \"      20\" (byte 236) read as 20" },
        { "samples per record 100.0", 0, 0, { { soff(ns, 0, 216, 8), "100.0   " } }, 1,
          "samples per data record \"100.0\" (byte 688) read as 100" },
        { "record duration 1,0", 0, 0, { { 244, "1,0     " } }, 1, "record duration \"1,0\" (byte 244) read as 1.0" },
        { "Latin-1 micro sign in the unit", 0, 0, { { soff(ns, 0, 96, 8), "\xb5V      " } }, 1,
          "signal 1 physical dimension (byte 448) \"\\xB5V\": micro sign read as \"u\"" },
        { "UTF-8 micro sign in the unit", 0, 0, { { soff(ns, 1, 96, 8), "\xc2\xb5V     " } }, 1,
          "signal 2 physical dimension (byte 456) \"\\xC2\\xB5V\": micro sign read as \"u\"" },
        { "NUL padding in a label", 0, 0, { { soff(ns, 1, 0, 16) + 9, "\0\0\0\0\0\0\0", 7 } }, 1,
          "signal 2 label (byte 272) \"EEG Pz-Oz\\x00\\x00\\x00\\x00\\x00\\x00\\x00\": NUL/control bytes as spaces" },
        { "UTF-8 in the patient field", 0, 0, { { 8, "P-7 K\xc3\xbchn" } }, 1,
          "patient field (byte 8) \"P-7 K\\xC3\\xBChn\": non-ASCII characters as \"?\"" },
        { "Latin-1 in the prefilter field", 0, 0, { { soff(ns, 0, 136, 80), "HP:0.1Hz \xb0" } }, 1,
          "signal 1 prefiltering (byte 528) \"HP:0.1Hz \\xB0\": non-ASCII characters as \"?\"" },
        { "EDF+ patient without subfields", 0, 'C', { { 8, "Jane Roe             " } }, 1,
          "EDF+ patient field \"Jane Roe\" (byte 8) lacks the subfields \"code sex birthdate name\": rebuilt as "
          "\"Jane_Roe X X X\"" },
        { "EDF+ recording without subfields", 0, 'C', { { 88, "Sleep lab 3, bed 2                " } }, 1,
          "rebuilt as \"Startdate 09-MAR-2024 X X X Sleep lab 3, bed 2\"" },
        { "EDF+ recording date differs", 0, 'C', { { 98, "08-MAR-2024" } }, 1,
          "the start date in the recording field (08-MAR-2024, byte 98) differs from the header's (byte 168); "
          "using 09.03.24" },
        { "EDF+ annotation signal's digital range", 0, 'C', { { soff(ns3, 2, 120, 8), "0       " },
          { soff(ns3, 2, 128, 8), "0       " } }, 2, "signal 3 \"EDF Annotations\": the annotation signal's ranges" },
        { "EDF+ annotation signal with a prefilter text", 0, 'C', { { soff(ns3, 2, 136, 80), "none" } }, 1,
          "signal 3 \"EDF Annotations\": prefiltering \"none\" (byte 824) of the annotation signal blanked" },
        { "EDF+C without an annotation signal", 0, 0, { { 192, "EDF+C" } }, 1,
          "reserved field \"EDF+C\" (byte 192) without an \"EDF Annotations\" signal: read as plain EDF" },
        { "BDF start time and comma", 1, 0, { { 176, "22-45-10" }, { soff(ns, 0, 112, 8), "500,0   " } }, 2,
          "signal 1 \"EEG Fpz-Cz\" physical maximum \"500,0\" (byte 480) read as 500.0" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)   /* BDF: the same digital values, same uV */
        check_repair(&cases[i]);
}

/* The start date and time read with other separators and a 4-digit year are the same instant. */
static void test_same_start(void)
{
    dw_err err = { 0 };
    write_file(tmp("t1.edf"), 0, 0, two, 2, 5, NULL, 0);
    const patch p[] = { { 176, "22 45 10" }, { 168, "9.3.2024" } };
    write_file(tmp("t2.edf"), 0, 0, two, 2, 5, p, 2);
    dw_source *a = dw_edf_open(tmp("t1.edf"), NULL, &err), *b = dw_edf_open(tmp("t2.edf"), NULL, &err);
    struct tm tm = { .tm_year = 124, .tm_mon = 2, .tm_mday = 9, .tm_hour = 22, .tm_min = 45, .tm_sec = 10,
                     .tm_isdst = -1 };
    CHECK("22 45 10 and 9.3.2024 give the recording's start instant", a && b &&
          a->info.start_epoch == b->info.start_epoch && a->info.start_epoch == (double)mktime(&tm), "%s", err.msg);
    dw_source_close(a);
    dw_source_close(b);
}

/* ---- broken signals (case 01) --------------------------------------------------------------------- */

static void test_broken(void)
{
    struct { const char *name; int bdf; tsig bad; const char *why; } cases[] = {
        { "physical minimum = maximum", 0, { "E129 Ref", "uV", "0", "0", "-32768", "32767", 100 },
          "signal 3 \"E129 Ref\": physical maximum \"0\" (header byte 608) equals the physical minimum" },
        { "digital minimum = maximum", 0, { "-", "uV", "-600", "600", "0", "0", 100 },
          "signal 3 \"-\": digital maximum \"0\" (header byte 656) equals the digital minimum" },
        { "digital maximum beyond 16 bits", 0, { "Status", "", "0", "65535", "0", "65535", 100 },
          "signal 3 \"Status\": digital maximum \"65535\" (header byte 656) lies beyond the 16 bits of EDF" },
        { "digital minimum beyond 24 bits (BDF)", 1, { "Trigger", "", "-1", "1", "-9999999", "8388607", 100 },
          "signal 3 \"Trigger\": digital minimum \"-9999999\" (header byte 632) lies beyond the 24 bits of BDF" },
        { "physical maximum not a number", 0, { "Resp", "mV", "-1", "n/a", "-32768", "32767", 100 },
          "signal 3 \"Resp\": physical maximum \"n/a\" (header byte 608) is not a number" },
        { "digital maximum below minimum", 0, { "EMG", "uV", "-1", "1", "100", "-100", 100 },
          "signal 3 \"EMG\": digital maximum \"-100\" (header byte 656) is below the digital minimum" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const tsig sig[3] = { two[0], two[1], cases[i].bad };
        const char *path = tmp(cases[i].bdf ? "broken.bdf" : "broken.edf");
        char name[160];
        write_file(path, cases[i].bdf, 0, sig, 3, 10, NULL, 0);
        dw_err err = { 0 };
        dw_source *s = dw_source_open_file(path, NULL, &err);
        snprintf(name, sizeof name, "broken signal, %s: the good channels open", cases[i].name);
        CHECK(name, s && s->info.nch == 2 && s->info.frontal == 0 && s->info.parietal == 1, "%s", err.msg);
        snprintf(name, sizeof name, "broken signal, %s: a note names signal, field and byte", cases[i].name);
        CHECK(name, s && tf_contains(s->info.note, cases[i].why) && tf_contains(s->info.note, "cannot be selected"),
              "-");
        if (s) {
            double *x;
            long n = read_all(s, &x);
            CHECK(name, n == 1000, "read %ld frames", n);   /* 10 s at 100 Hz */
            free(x);
        }
        dw_source_close(s);
        dw_channel_spec sp;
        memset(&sp, 0, sizeof sp);
        snprintf(sp.channels[0], DW_LABEL_LEN, "3");
        sp.nchannels = 1;
        snprintf(sp.parietal, DW_LABEL_LEN, "none");
        s = dw_source_open_file(path, &sp, &err);
        snprintf(name, sizeof name, "broken signal, %s: asking for it is refused, naming the field", cases[i].name);
        CHECK(name, !s && tf_contains(err.msg, cases[i].why) && tf_contains(err.msg, path), "opened");
        dw_source_close(s);
    }
}

/* ---- refusals ------------------------------------------------------------------------------------- */

static void test_refusals(void)
{
    const int ns = 2;
    struct { const char *name; patch p; const char *want; } cases[] = {
        { "start date not a date", { 168, "March 9 " }, "start date \"March 9 \" (header byte 168) is not dd.mm.yy" },
        { "start date month 15 either way", { 168, "15/15/24" },
          "start date \"15/15/24\" (header byte 168): month out of range (EDF order: dd.mm.yy)" },
        { "start date 15032024 read no way", { 168, "35132024" },
          "start date \"35132024\" (header byte 168): month out of range" },
        { "start date 31.04.24", { 168, "31.04.24" },
          "start date \"31.04.24\" (header byte 168): day out of range: April 2024 has 30 days" },
        { "start date year 2099", { 168, "1.3.2099" },
          "start date \"1.3.2099\" (header byte 168): the year 2099 lies outside EDF's 1985-2084" },
        { "start time without seconds", { 176, "22:45   " },
          "start time \"22:45   \" (header byte 176) is not hh.mm.ss (no seconds)" },
        { "start time with a letter", { 176, "22:45:1O" }, "start time \"22:45:1O\" (header byte 176) is not hh.mm.ss" },
        { "start time hour 25", { 176, "25.00.00" }, "start time \"25.00.00\" (header byte 176): hour out of range" },
        { "record duration", { 244, "one     " }, "bad record-duration field \"one     \" (header byte 244)" },
        { "negative record duration", { 244, "-1      " }, "bad record-duration field \"-1      \" (header byte 244)" },
        { "record duration 0 with signals", { 244, "0       " },
          "record duration 0 (header byte 244) with 2 signals of samples: their rate is unknown" },
        { "samples per record", { soff(ns, 1, 216, 8), "-100    " },
          "signal 2 \"EEG Pz-Oz\": bad samples-per-record field \"-100    \" (header byte 696)" },
        { "samples per record with a fraction", { soff(ns, 0, 216, 8), "100.5   " },
          "signal 1 \"EEG Fpz-Cz\": bad samples-per-record field \"100.5   \" (header byte 688)" },
        { "number of signals", { 252, "two " }, "bad number-of-signals field \"two \" (header byte 252)" },
        { "header size", { 184, "512     " }, "wrong header-size field \"512     \" (header byte 184): 2 signals need 768" },
        { "record count", { 236, "20 recs " }, "bad record-count field \"20 recs \" (header byte 236)" },
        { "version", { 0, "1       " }, "not an EDF/BDF file (it starts with neither" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[160];
        write_file(tmp("bad.edf"), 0, 0, two, 2, 5, &cases[i].p, 1);
        dw_edf_header h;
        dw_err err = { 0 };
        int rc = read_header(tmp("bad.edf"), DW_EDF_FULL, &h, &err);
        snprintf(name, sizeof name, "refused: %s (field and byte named)", cases[i].name);
        CHECK(name, rc < 0 && tf_contains(err.msg, cases[i].want) && tf_contains(err.msg, "bad.edf"), "read");
        if (!rc)
            dw_edf_header_free(&h);
        dw_source *s = dw_source_open_file(tmp("bad.edf"), NULL, &err);
        snprintf(name, sizeof name, "refused by dw_source_open_file: %s", cases[i].name);
        CHECK(name, !s && tf_contains(err.msg, cases[i].p.off ? cases[i].want : "unknown format"), "opened");
        dw_source_close(s);
    }
    /* EDF+D without an annotation signal cannot be read; a short header is named. */
    const patch d = { 192, "EDF+D" };
    write_file(tmp("d.edf"), 0, 0, two, 2, 5, &d, 1);
    dw_edf_header h;
    dw_err err = { 0 };
    CHECK("refused: EDF+D without annotations", read_header(tmp("d.edf"), DW_EDF_FULL, &h, &err) < 0 &&
          tf_contains(err.msg, "a discontinuous (EDF+D) file without an \"EDF Annotations\" signal"), "read");
    write_file(tmp("short.edf"), 0, 0, two, 2, 5, NULL, 0);
    truncate(tmp("short.edf"), 700);
    CHECK("refused: header cut short", read_header(tmp("short.edf"), DW_EDF_FULL, &h, &err) < 0 &&
          tf_contains(err.msg, "truncated in the header: 700 of 768 header bytes present"), "read");
}

/* ---- values ---------------------------------------------------------------------------------------- */

static void test_values(void)
{
    const patch p[] = { { 244, "0.5     " }, { 168, "09.03.90" } };
    write_file(tmp("v.edf"), 0, 'C', two, 2, 4, p, 1);
    dw_edf_header h;
    dw_err err = { 0 };
    int rc = read_header(tmp("v.edf"), DW_EDF_FULL, &h, &err);
    CHECK("EDF+: layout, duration, start, subject, annotation signal", rc == 0 && h.ns == 3 && h.plus &&
          !h.discontinuous && !h.bdf && h.hdr_bytes == 1024 && h.rec_bytes == 460 && h.nrec == 4 &&
          h.rec_dur == 5000000 && h.year == 2024 && h.month == 3 && h.day == 9 && h.hour == 22 && h.minute == 45 &&
          h.second == 10 && !strcmp(h.subject, "P-7") && h.sig[2].annotation && !h.sig[0].annotation &&
          !strcmp(h.sig[1].label, "EEG Pz-Oz") && !strcmp(h.sig[0].unit, "uV") && h.sig[0].pmin == -500 &&
          h.sig[0].dmax == 32767 && h.repairs == 0, "rc %d %s", rc, rc ? err.msg : h.note);
    if (!rc)
        dw_edf_header_free(&h);
    write_file(tmp("v2.edf"), 0, 0, two, 2, 4, p + 1, 1);
    rc = read_header(tmp("v2.edf"), DW_EDF_FULL, &h, &err);
    CHECK("plain EDF: yy 90 is 1990, subject is the patient field", rc == 0 && h.year == 1990 &&
          !strcmp(h.subject, "P-7 Kim"), "%s", err.msg);
    if (!rc)
        dw_edf_header_free(&h);
    const patch cnt[] = { { 236, "-1      " }, { 236, "        " } };
    for (int i = 0; i < 2; i++) {
        write_file(tmp("c.edf"), 1, 0, two, 2, 4, cnt + i, 1);
        rc = read_header(tmp("c.edf"), DW_EDF_LAYOUT, &h, &err);
        CHECK(i ? "layout mode: a blank count is -1 (EDFlib still writing)" : "layout mode: count -1",
              rc == 0 && h.nrec == -1 && h.bdf && h.rec_bytes == 600 && h.hdr_bytes == 768, "%s", err.msg);
        if (!rc)
            dw_edf_header_free(&h);
    }
    rc = read_header(tmp("c.edf"), DW_EDF_FULL, &h, &err);
    CHECK("full mode: a blank count is refused", rc < 0 && tf_contains(err.msg, "bad record-count field"), "read");
}

/* Every real file that ships or that others wrote: no repair needed where none is due. */
static void test_real_files(void)
{
    dw_edf_header h;
    dw_err err = { 0 };
    char p[1200];
    snprintf(p, sizeof p, "%s/sample-data/sample-night.edf", DW_SRCDIR);
    int rc = read_header(p, DW_EDF_FULL, &h, &err);
    CHECK("the sample night: read without repair", rc == 0 && h.repairs == 0 && h.plus && h.ns == 3, "%s",
          rc ? err.msg : h.note);
    if (!rc)
        dw_edf_header_free(&h);
    const char *data = tap_shared_data();
    if (!data) {
        SKIP("Sleep-EDF hypnograms", "../shared/data is absent");
        return;
    }
    snprintf(p, sizeof p, "%s/sleep-edf/hypnograms", data);
    DIR *d = opendir(p);
    int n = 0, bad = 0, fixed = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!strstr(e->d_name, ".edf"))
            continue;
        char q[1400];
        snprintf(q, sizeof q, "%s/%s", p, e->d_name);
        n++;
        if (read_header(q, DW_EDF_FULL, &h, &err) < 0) {
            bad++;
            printf("# %s\n", err.msg);
            continue;
        }
        fixed += h.repairs > 0;
        dw_edf_header_free(&h);
    }
    if (d)
        closedir(d);
    printf("# Sleep-EDF hypnograms: %d read, %d with a repair (the telemetry recording-field dates)\n", n, fixed);
    CHECK("every Sleep-EDF hypnogram header reads", n >= 190 && bad == 0, "%d of %d refused", bad, n);
}

int main(void)
{
    if (tf_mkdtemp(dir, sizeof dir, "edfhdr")) {
        FAIL("mkdtemp", "%s", strerror(errno));
        TAP_DONE();
    }
    setenv("TMPDIR", dir, 1);
    write_file(tmp("clean.edf"), 0, 0, two, 2, 20, NULL, 0);
    dw_err err = { 0 };
    dw_source *s = dw_edf_open(tmp("clean.edf"), NULL, &err);
    clean_n = s ? read_all(s, &clean_x) : -1;
    CHECK("the clean hand-made file opens with no note", s && clean_n == 2000 && !s->info.note[0], "%s",
          s ? s->info.note : err.msg);
    dw_source_close(s);
    test_repairs();
    test_same_start();
    test_broken();
    test_refusals();
    test_values();
    test_real_files();
    free(clean_x);
    if (!getenv("DW_KEEP"))
        tf_rmdir(dir);
    TAP_DONE();
}
