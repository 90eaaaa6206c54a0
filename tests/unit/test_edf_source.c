/* EDF/EDF+/BDF+ replay: real files written with EDFlib (mixed rates and units), a plain EDF and EDF+D/BDF+D
 * files written byte by byte here, damaged copies of them, channel selection, seeking, gaps, and the format
 * sniffing of dw_source_open_file. */
#include "staging/hypnogram.h"
#include "sources/source.h"
#include "edf_testfile.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#define PI 3.14159265358979323846

static char dir[256];

/* These tests check the reader's own resampling (channels of different rates are brought to one rate),
 * segment handling and seeks at 100 Hz: they ask for it. Production code reads at the native rate. */
static const dw_channel_spec *at100(void)
{
    static dw_channel_spec sp = { .out_fs = 100 };
    return &sp;
}

static double wave(int sig, double t)
{
    switch (sig) {
    case 0: return 50 * sin(2 * PI * 10 * t);             /* uV, 256 Hz */
    case 1: return 0.040 * sin(2 * PI * 3 * t + 0.5);     /* mV, 200 Hz: 40 uV */
    case 2: return 36.6 + 0.01 * t;                       /* 1 Hz temperature */
    default: return 0.3 * sin(2 * PI * 1.3 * t) + 0.01 * fmod(t, 7); /* mV, 100 Hz */
    }
}

static double bwave(int sig, double t)
{
    return sig == 0 ? 30e-6 * sin(2 * PI * 7 * t)          /* V, 512 Hz */
                    : 20000 * sin(2 * PI * 2 * t) + 333 * fmod(t, 3); /* nV, 100 Hz */
}

static const tf_signal edf_sigs[] = {
    { "EEG Fpz-Cz", "uV", 256, -500, 500, wave },
    { "EEG Pz-Oz", "mV", 200, -0.5, 0.5, wave },
    { "Temp rectal", "DegC", 1, 30, 45, wave },
    { "EEG C3-A2", "mV", 100, -1, 1, wave },
};
static const tf_signal bdf_sigs[] = {
    { "EEG Fp1", "V", 512, -0.1875, 0.1875, bwave },
    { "EEG O1", "nV", 100, -187500000, 187500000, bwave },
};

static char *tmp(const char *name)
{
    static char p[8][400];
    static int k;
    char *s = p[k++ % 8];
    snprintf(s, 400, "%s/%s", dir, name);
    return s;
}

/* Least-squares amplitude and phase of frequency f in x[0..n) sampled at 100 Hz starting at t0. */
static void fit_sine(const double *x, int stride, int n, double t0, double f, double *amp, double *phase)
{
    double a = 0, b = 0;
    for (int i = 0; i < n; i++) {
        double t = t0 + i / 100.0;
        a += x[i * stride] * sin(2 * PI * f * t);
        b += x[i * stride] * cos(2 * PI * f * t);
    }
    a *= 2.0 / n, b *= 2.0 / n;
    *amp = hypot(a, b);
    *phase = atan2(b, a);
}

static int zero_crossings(const double *x, int stride, int n)
{
    int z = 0;
    for (int i = 1; i < n; i++)
        z += (x[(i - 1) * stride] < 0) != (x[i * stride] < 0);
    return z;
}

/* Reads the whole source into a frame-major array; returns frames, -1 on error. */
static long read_all(dw_source *s, double **out, int block)
{
    long n = 0, cap = 0;
    double expect_t = -1;
    *out = NULL;
    for (;;) {
        dw_block b;
        int r = s->ops->read(s, &b, block, 0);
        if (r == DW_SRC_EOF)
            return n;
        if (r <= 0 || b.n != r)
            return -1;
        if (expect_t >= 0 && fabs(b.t0 - expect_t) > 1e-9)
            return -1;
        expect_t = b.t0 + r / 100.0;
        if (n + r > cap) {
            cap = (n + r) * 2;
            *out = realloc(*out, (size_t)cap * s->info.nch * sizeof **out);
        }
        memcpy(*out + n * s->info.nch, b.uv, (size_t)r * s->info.nch * sizeof **out);
        n += r;
    }
}

static void test_edfplus(const char *path)
{
    /* Reference values straight from EDFlib for the 100 Hz mV channel (scaling must be exact). */
    struct edf_hdr_struct h;
    double ref[6000];
    int fh = edfopen_file_readonly(path, &h, EDFLIB_DO_NOT_READ_ANNOTATIONS);
    CHECK("edf+ reference read", fh == 0 && edfread_physical_samples(h.handle, 3, 6000, ref) == 6000,
          "EDFlib could not read back its own file");
    if (fh == 0)
        edfclose_file(h.handle);

    dw_err err = { 0 };
    dw_source *s = dw_edf_open(path, at100(), &err);
    CHECK("edf+ opens", s != NULL, "%s", err.msg);
    if (!s)
        return;
    const dw_source_info *in = &s->info;
    CHECK("edf+ default channels skip the 1 Hz one", in->nch == 3 && !strcmp(in->label[0], "EEG Fpz-Cz") &&
          !strcmp(in->label[1], "EEG Pz-Oz") && !strcmp(in->label[2], "EEG C3-A2"), "nch %d", in->nch);
    CHECK("edf+ frontal/parietal by name", in->frontal == 0 && in->parietal == 1, "%d %d", in->frontal,
          in->parietal);
    CHECK("edf+ kind, rate, duration", !strcmp(s->ops->kind, "edf") && in->fs == 100 && in->duration_s == 60 &&
          !in->live, "%s %g %g", s->ops->kind, in->fs, in->duration_s);
    struct tm tm = { .tm_year = 124, .tm_mon = 2, .tm_mday = 9, .tm_hour = 22, .tm_min = 45, .tm_sec = 10,
                     .tm_isdst = -1 };
    CHECK("edf+ start time", in->start_epoch == (double)mktime(&tm), "%f", in->start_epoch);
    CHECK("edf+ subject", !strcmp(in->subject, "SUBJ-07"), "'%s'", in->subject);
    CHECK("edf+ phys_max_uv (mV range converted)", in->phys_max_uv == 1000, "%g", in->phys_max_uv);
    CHECK("edf+ no note", in->note[0] == 0, "%s", in->note);

    double *x;
    long n = read_all(s, &x, 700);
    CHECK("edf+ reads 60 s at 100 Hz in order, then EOF", n == 6000, "%ld frames", n);
    if (n == 6000) {
        double amp, ph;
        fit_sine(x + 100 * 3 + 0, 3, 5800, 1.0, 10, &amp, &ph);
        CHECK("256 Hz uV sine: amplitude after resampling", fabs(amp - 50) < 0.5, "%f", amp);
        CHECK("256 Hz uV sine: aligned (phase within 5 ms)", fabs(ph) < 2 * PI * 10 * 0.0051, "%f rad", ph);
        CHECK("256 Hz uV sine: frequency (zero crossings)", abs(zero_crossings(x + 300, 3, 5800) - 1160) <= 2,
              "%d", zero_crossings(x + 300, 3, 5800));
        fit_sine(x + 300 + 1, 3, 5800, 1.0, 3, &amp, &ph);
        CHECK("200 Hz mV sine: 40 uV after unit conversion", fabs(amp - 40) < 0.4, "%f", amp);
        CHECK("200 Hz mV sine: aligned", fabs(ph - 0.5) < 2 * PI * 3 * 0.0051, "%f rad", ph);
        int exact = 1;
        for (int i = 0; i < 6000 && exact; i++)
            exact = x[i * 3 + 2] == ref[i] * 1000;
        CHECK("100 Hz mV channel: exactly EDFlib's value x 1000", exact, "differs");
    }
    free(x);

    /* Seeking: to 30 s, values continue the signal; back to 0 gives the same block as before. */
    dw_block b;
    CHECK("seek 30 s", s->ops->seek(s, 30) == 0 && s->ops->read(s, &b, 100, 0) == 100 && b.t0 == 30 &&
          b.uv[2] == ref[3000] * 1000 && b.uv[99 * 3 + 2] == ref[3099] * 1000, "t0 %f", b.t0);
    double amp, ph;
    if (s->ops->seek(s, 12.34) == 0 && s->ops->read(s, &b, 500, 0) == 500) {
        fit_sine(b.uv + 100 * 3, 3, 400, 13.34, 10, &amp, &ph);
        CHECK("seek 12.34 s: resampled channel settled and aligned", fabs(amp - 50) < 1 && fabs(ph) < 0.33,
              "amp %f phase %f t0 %f", amp, ph, b.t0);
    } else {
        FAIL("seek 12.34 s", "%s", s->err.msg);
    }
    CHECK("seek past the end: EOF", s->ops->seek(s, 1e6) == 0 && s->ops->read(s, &b, 100, 0) == DW_SRC_EOF,
          "no EOF");
    CHECK("seek 0 then read", s->ops->seek(s, 0) == 0 && s->ops->read(s, &b, 50, 0) == 50 && b.t0 == 0 &&
          b.uv[2] == ref[0] * 1000, "t0 %f", b.t0);
    dw_source_close(s);
}

static dw_source *open_spec(const char *path, const char *chans, const char *fr, const char *pa, dw_err *err)
{
    dw_channel_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.out_fs = 100;
    char list[200];
    snprintf(list, sizeof list, "%s", chans);
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ","))
        snprintf(sp.channels[sp.nchannels++], DW_LABEL_LEN, "%s", tok);
    snprintf(sp.frontal, sizeof sp.frontal, "%s", fr);
    snprintf(sp.parietal, sizeof sp.parietal, "%s", pa);
    return dw_edf_open(path, &sp, err);
}

static void test_channels(const char *path)
{
    dw_err err = { 0 };
    dw_source *s = open_spec(path, "Pz-Oz,fpz-cz", "", "", &err);
    CHECK("labels without EEG prefix, any case", s && s->info.nch == 2 && !strcmp(s->info.label[0], "EEG Pz-Oz") &&
          s->info.frontal == 1 && s->info.parietal == 0, "%s", err.msg);
    dw_source_close(s);
    s = open_spec(path, "4", "", "none", &err);
    CHECK("1-based index; parietal none", s && s->info.nch == 1 && !strcmp(s->info.label[0], "EEG C3-A2") &&
          s->info.frontal == 0 && s->info.parietal == -1, "%s", err.msg);
    dw_source_close(s);
    s = open_spec(path, "EEG C3-A2", "Fpz-Cz", "2", &err);
    CHECK("frontal/parietal named outside the list are added", s && s->info.nch == 3 && s->info.frontal == 1 &&
          s->info.parietal == 2 && !strcmp(s->info.label[2], "EEG Pz-Oz"), "%s", err.msg);
    dw_source_close(s);
    /* why each role: one reason for both, or one each (a first-use test read "(by electrode name)" for a
     * channel given with --frontal) */
    s = open_spec(path, "", "", "", &err);
    CHECK("roles: both by electrode name", s && !strcmp(s->info.roles_how, "by electrode name"), "%s",
          s ? s->info.roles_how : err.msg);
    dw_source_close(s);
    s = open_spec(path, "", "C3-A2", "", &err);
    CHECK("roles: frontal given, parietal by name, each said", s &&
          !strcmp(s->info.roles_how, "frontal: as given; parietal: by electrode name"), "%s",
          s ? s->info.roles_how : err.msg);
    dw_source_close(s);
    s = open_spec(path, "Temp rectal,EEG C3-A2,EEG Pz-Oz", "", "", &err);
    /* no frontal electrode: the central channel stands in for Fpz-Cz in the frontal slot, Pz-Oz keeps the
     * parietal one (montage.h rule 5), and a note says so */
    CHECK("roles: no frontal electrode: C3-A2 (central) in the frontal slot, Pz-Oz parietal, said so",
          s && s->info.frontal == 1 && s->info.parietal == 2 &&
          !strcmp(s->info.roles_how, "frontal: a central stand-in, none is frontal; parietal: by electrode name"),
          "%s", s ? s->info.roles_how : err.msg);
    CHECK("roles: no frontal electrode: a note line naming the file and the channel", s &&
          tf_contains(s->info.note, "a.edf: no usable channel names a frontal electrode: staging on \"EEG C3-A2\", "
                      "a central channel, in the frontal slot"), "%s", s ? s->info.note : err.msg);
    dw_source_close(s);
    s = open_spec(path, "", "Fpz-Cz", "1", &err);
    CHECK("roles: the same channel as frontal and parietal is refused", !s &&
          tf_contains(err.msg, "--frontal and --parietal name the same channel (EEG Fpz-Cz)"), "%s",
          s ? "opened" : err.msg);
    dw_source_close(s);
    s = open_spec(path, "Temp rectal", "", "", &err);
    CHECK("a slow channel asked for by name is upsampled", s && s->info.nch == 1 && s->info.duration_s == 60,
          "%s", err.msg);
    if (s) {
        double *x;
        long n = read_all(s, &x, 1000);
        CHECK("1 Hz channel replays 6000 frames near its value", n == 6000 && fabs(x[3000] - 36.9) < 0.05,
              "n %ld x %f", n, n == 6000 ? x[3000] : 0);
        free(x);
    }
    dw_source_close(s);
    s = open_spec(path, "Cz", "", "", &err);
    CHECK("unknown label: error lists the labels", !s && tf_contains(err.msg, "no channel \"Cz\"") &&
          tf_contains(err.msg, "\"EEG Fpz-Cz\", \"EEG Pz-Oz\", \"Temp rectal\", \"EEG C3-A2\"") &&
          tf_contains(err.msg, path), "opened");
    dw_source_close(s);
    s = open_spec(path, "9", "", "", &err);
    CHECK("index out of range", !s && tf_contains(err.msg, "no channel 9 (the source has 4 channels"), "opened");
    dw_source_close(s);
}

static void test_bdfplus(void)
{
    const char *path = tmp("b.bdf");
    CHECK("write bdf+", tf_write(path, EDFLIB_FILETYPE_BDFPLUS, bdf_sigs, 2, 40, NULL, 0) == 0, "EDFlib");
    struct edf_hdr_struct h;
    double ref[4000];
    int ok = edfopen_file_readonly(path, &h, EDFLIB_DO_NOT_READ_ANNOTATIONS) == 0 &&
             edfread_physical_samples(h.handle, 1, 4000, ref) == 4000;
    if (ok)
        edfclose_file(h.handle);
    dw_err err = { 0 };
    dw_source *s = dw_source_open_file(path, at100(), &err);
    CHECK("bdf+ opens through dw_source_open_file", s && !strcmp(s->ops->kind, "bdf") && s->info.nch == 2 &&
          s->info.frontal == 0 && s->info.parietal == 1, "%s", err.msg);
    if (!s || !ok)
        return;
    CHECK("bdf+ phys_max_uv from V", fabs(s->info.phys_max_uv - 187500) < 1e-6, "%f", s->info.phys_max_uv);
    double *x;
    long n = read_all(s, &x, 3000);
    CHECK("bdf+ 40 s", n == 4000, "%ld", n);
    if (n == 4000) {
        double amp, ph;
        fit_sine(x + 200, 2, 3700, 1.0, 7, &amp, &ph);
        CHECK("512 Hz V sine: 30 uV, aligned", fabs(amp - 30) < 0.3 && fabs(ph) < 2 * PI * 7 * 0.0051,
              "amp %f phase %f", amp, ph);
        int exact = 1;
        for (int i = 0; i < 4000 && exact; i++)
            exact = x[i * 2 + 1] == ref[i] * 1e-3;
        CHECK("100 Hz nV channel: exactly EDFlib's value / 1000", exact, "differs");
    }
    free(x);
    dw_source_close(s);

    /* The same bytes as plain BDF (BioSemi's "24BIT"): the annotation signal becomes an ordinary one. */
    FILE *f = fopen(path, "r+b");
    fseek(f, 192, SEEK_SET);
    fwrite("24BIT", 1, 5, f);
    fclose(f);
    s = dw_source_open_file(path, at100(), &err);
    CHECK("plain BDF: opens, the annotation signal is not picked", s && !strcmp(s->ops->kind, "bdf") &&
          s->info.nch == 2 && s->info.duration_s == 40, "%s", err.msg);
    dw_source_close(s);
}

/* A plain EDF (EDFlib writes only EDF+/BDF+): header and records written by hand. */
static void test_plain_edf(void)
{
    const char *path = tmp("plain.edf");
    FILE *f = fopen(path, "wb");
    const char *lab[2] = { "Fpz-Cz", "EOG horizontal" }, *unit[2] = { "uV", "xyz" };
    fprintf(f, "%-8s%-80s%-80s%-8s%-8s%-8d%-44s%-8d%-8s%-4d", "0", "P-17 M 01-JAN-1950 Kim",
            "Startdate 24-APR-1989 test", "24.04.89", "16.13.00", 256 * 3, "", 10, "1", 2);
    for (int i = 0; i < 2; i++) fprintf(f, "%-16s", lab[i]);
    for (int i = 0; i < 2; i++) fprintf(f, "%-80s", "AgAgCl");
    for (int i = 0; i < 2; i++) fprintf(f, "%-8s", unit[i]);
    for (int i = 0; i < 2; i++) fprintf(f, "%-8s", "-204.8");
    for (int i = 0; i < 2; i++) fprintf(f, "%-8s", "204.7");
    for (int i = 0; i < 2; i++) fprintf(f, "%-8s", "-2048");
    for (int i = 0; i < 2; i++) fprintf(f, "%-8s", "2047");
    for (int i = 0; i < 2; i++) fprintf(f, "%-80s", "HP:0.1Hz");
    for (int i = 0; i < 2; i++) fprintf(f, "%-8d", 100);
    for (int i = 0; i < 2; i++) fprintf(f, "%-32s", "");
    for (int r = 0; r < 10; r++)
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 100; i++) {
                int d = ((r * 100 + i) * (c ? 13 : 7)) % 4000 - 2000;
                fputc(d & 0xff, f), fputc((d >> 8) & 0xff, f);
            }
    fclose(f);
    dw_err err = { 0 };
    dw_source *s = open_spec(path, "EEG Fpz-Cz,2", "", "", &err);
    CHECK("plain EDF opens", s && s->info.nch == 2 && s->info.duration_s == 10, "%s", err.msg);
    if (!s)
        return;
    struct tm tm = { .tm_year = 89, .tm_mon = 3, .tm_mday = 24, .tm_hour = 16, .tm_min = 13, .tm_isdst = -1 };
    CHECK("plain EDF start 1989", s->info.start_epoch == (double)mktime(&tm), "%f", s->info.start_epoch);
    CHECK("plain EDF subject from the patient field", !strncmp(s->info.subject, "P-17 M 01-JAN-1950 Kim", 22),
          "'%s'", s->info.subject);
    CHECK("unknown unit taken as uV, said in the note",
          tf_contains(s->info.note, "\"EOG horizontal\": unit \"xyz\" is not a voltage we know; taken as uV"), "-");
    double *x;
    long n = read_all(s, &x, 256);
    int exact = n == 1000;
    for (int i = 0; i < n && exact; i++)
        for (int c = 0; c < 2; c++)
            exact &= fabs(x[i * 2 + c] - 0.1 * ((i * (c ? 13 : 7)) % 4000 - 2000)) < 1e-9;
    CHECK("plain EDF values = digital x 0.1 uV", exact, "n %ld", n);
    free(x);
    dw_source_close(s);
}

static void put(const char *path, const unsigned char *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(d, 1, n, f);
    fclose(f);
}

typedef struct { const char *name, *file, *want; } dcase;

/* Damaged copies of a good EDF+ file: every one gives a clear message (or a clear note) and no crash. */
static void test_damage(const char *good)
{
    FILE *f = fopen(good, "rb");
    static unsigned char d[1 << 20], c[1 << 20];
    size_t n = fread(d, 1, sizeof d, f);
    fclose(f);
    int ns = atoi((char *)d + 252), hs = 256 * (ns + 1), nrec = atoi((char *)d + 236);
    size_t rs = (n - (size_t)hs) / (size_t)nrec;
    dw_err err;
    dw_source *s;
    dcase cases[16];
    int nc = 0;

    memcpy(c, d, n);
    put(tmp("mid.edf"), c, (size_t)hs + 40 * rs + rs / 2);
    cases[nc++] = (dcase){ "truncated mid-record", "mid.edf",
                                       "truncated: 40 of 60 data records present; reading the 40 complete" };
    put(tmp("hdr.edf"), c, 300);
    cases[nc++] = (dcase){ "truncated in the header", "hdr.edf",
                                       "truncated in the header: 300 of 1536 header bytes present" };
    put(tmp("hdr2.edf"), c, 100);
    cases[nc++] = (dcase){ "truncated in the fixed header", "hdr2.edf",
                                       "truncated in the header: 100 of at least 256" };
    memcpy(c + 184, "1280    ", 8);
    put(tmp("hsize.edf"), c, n);
    cases[nc++] = (dcase){ "wrong header-size field", "hsize.edf",
                                       "wrong header-size field \"1280    \" (header byte 184): 5 signals need 1536" };
    memcpy(c, d, n);
    memcpy(c + 236, "-1      ", 8);
    put(tmp("crash.edf"), c, n);
    cases[nc++] = (dcase){ "record count -1", "crash.edf",
                                       "record count is -1: the recording was never closed" };
    memcpy(c + 236, "70      ", 8);
    put(tmp("big.edf"), c, n);
    cases[nc++] = (dcase){ "record count too large", "big.edf",
                                       "truncated: 60 of 70 data records present; reading the 60" };
    memcpy(c + 236, "50      ", 8);
    put(tmp("small.edf"), c, n);
    cases[nc++] = (dcase){ "record count too small", "small.edf",
                                       "the header counts 50 data records but 60 are present" };
    memcpy(c + 236, "6x      ", 8);
    put(tmp("badcount.edf"), c, n);
    cases[nc++] = (dcase){ "record count not a number", "badcount.edf",
                                       "bad record-count field \"6x      \"" };
    memcpy(c, d, n);
    memcpy(c + 252, "abc ", 4);
    put(tmp("ns.edf"), c, n);
    cases[nc++] = (dcase){ "bad number of signals", "ns.edf", "bad number-of-signals field \"abc \"" };
    memcpy(c, d, n);
    /* The annotation signal is the last in each record; record 60's time-keeping TAL says 99 s, not
     * 59. */
    size_t tal = (size_t)hs + 59 * rs + (256 + 200 + 1 + 100) * 2;
    memcpy(c + tal, "+99\x14\x14", 5);
    put(tmp("late.edf"), c, n);
    static char late[96];
    snprintf(late, sizeof late, "data record 60 (byte %zu) starts at 99 s, not 59 s", tal);
    cases[nc++] = (dcase){ "last record out of time", "late.edf", late };
    put(tmp("text.edf"), (const unsigned char *)"hello, world\n1,2,3\n", 19);
    cases[nc++] = (dcase){ "not EDF", "text.edf", "not an EDF/BDF file (it starts with neither" };
    put(tmp("empty.edf"), c, 0);
    cases[nc++] = (dcase){ "empty file", "empty.edf", "not an EDF/BDF file (it is empty)" };
    cases[nc++] = (dcase){ "missing file", "nonexistent.edf", "cannot open the recording: No such file" };
    memcpy(c, d, n);
    memcpy(c + hs - 32 * ns - 8 * ns + 8 * 3, "0       ", 8); /* samples per record of signal 4 */
    put(tmp("spr.edf"), c, n);
    cases[nc++] = (dcase){ "zero samples per record", "spr.edf",
                                       "signal 4 \"EEG C3-A2\": bad samples-per-record field \"0       \" "
                                       "(header byte 1360)" };

    for (int i = 0; i < nc; i++) {
        char name[120], *p = tmp(cases[i].file);
        memset(&err, 0, sizeof err);
        s = dw_edf_open(p, at100(), &err);
        const char *msg = s ? s->info.note : err.msg;
        snprintf(name, sizeof name, "damaged: %s", cases[i].name);
        CHECK(name, tf_contains(msg, cases[i].want) && tf_contains(msg, cases[i].file), "%s", msg);
        if (s) {
            double *x;
            long got = read_all(s, &x, 1000);
            long want = (long)(s->info.duration_s * 100);
            snprintf(name, sizeof name, "damaged: %s: reads the %ld complete frames", cases[i].name, want);
            CHECK(name, got == want && (want == 4000 || want == 6000), "got %ld of %ld", got, want);
            free(x);
            dw_source_close(s);
        }
    }
    /* Garbage over record 6's time-keeping TAL: found when that record is read, a read error naming
     * it. */
    memcpy(c, d, n);
    tal = (size_t)hs + 5 * rs + (256 + 200 + 1 + 100) * 2;
    memcpy(c + tal, "garbage\x14\x01\xff annotation!!", 22);
    put(tmp("tal.edf"), c, n);
    char garbage[96];
    snprintf(garbage, sizeof garbage, "data record 6 (byte %zu): no time-keeping annotation", tal);
    memset(&err, 0, sizeof err);
    s = dw_edf_open(tmp("tal.edf"), at100(), &err);
    double *x = NULL;
    long got = s ? read_all(s, &x, 1000) : 0;
    CHECK("damaged: garbage time-keeping annotation", s && got < 0 && tf_contains(s->err.msg, "tal.edf") &&
          tf_contains(s->err.msg, garbage),
          "%ld frames: %s", got, s ? s->err.msg : err.msg);
    free(x);
    dw_source_close(s);
    /* The repaired copies live in TMPDIR only until EDFlib has them open. */
    int left = 0;
    DIR *dd = opendir(dir);
    for (struct dirent *e; dd && (e = readdir(dd));)
        left += !strncmp(e->d_name, "dreamwatch-edf-", 15);
    if (dd)
        closedir(dd);
    CHECK("no temporary copies left behind", dd && left == 0, "%d left", left);
}

/* The file shrinks under an open source (a removed drive, another program): an error, not garbage. */
static void test_read_error(const char *good)
{
    const char *p = tmp("shrink.edf");
    FILE *in = fopen(good, "rb"), *out = fopen(p, "wb");
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
    dw_err err = { 0 };
    dw_source *s = dw_edf_open(p, at100(), &err);
    if (!s) {
        FAIL("read error: open", "%s", err.msg);
        return;
    }
    CHECK("read error: shrink the file", truncate(p, 20000) == 0, "%s", strerror(errno));
    dw_block b;
    int r;
    long frames = 0;
    while ((r = s->ops->read(s, &b, 500, 0)) > 0)
        frames += r;
    CHECK("read error: reported with the file, channel and sample", r == DW_SRC_ERR &&
          tf_contains(s->err.msg, "shrink.edf: read error in channel \"EEG Fpz-Cz\" at sample"), "r %d after %ld", r,
          frames);
    dw_source_close(s);
}

/* ---- EDF+D / BDF+D ------------------------------------------------------------------------------- */

/* Real time in the value: 1000 + centiseconds since the start time, exact in a 100 Hz channel. */
static double dwave(int sig, double t)
{
    return sig == 0 ? 100 * sin(2 * PI * 5 * t) : 1000 + 100 * t;
}

static const tf_signal disc_sigs[] = {
    { "EEG Fpz-Cz", "uV", 200, -500, 500, dwave },
    { "EEG Pz-Oz", "uV", 100, -32768, 32767, dwave },
};

typedef struct {
    long   n;                     /* frames */
    double *x;                    /* n * 2 values */
    long   gaps, gap_frames;      /* blocks with a gap, frames missing */
    long   first_gap_at;          /* frame index (output order) of the block after the first gap */
    int    bad_t0;                /* blocks whose t0 is not the previous end plus the gap */
} dread;

/* Reads to EOF in blocks of `block` frames, checking each block's t0 against the frames and gaps before. */
static int read_disc(dw_source *s, int block, dread *d)
{
    memset(d, 0, sizeof *d);
    d->first_gap_at = -1;
    long cap = 0;
    double expect_t = 0;
    for (;;) {
        dw_block b;
        int r = s->ops->read(s, &b, block, 0);
        if (r == DW_SRC_EOF)
            return 0;
        if (r <= 0 || b.n != r)
            return -1;
        if (b.gap > 0) {
            if (!d->gaps++)
                d->first_gap_at = d->n;
            d->gap_frames += b.gap;
        }
        d->bad_t0 += fabs(b.t0 - (expect_t + b.gap / 100.0)) > 1e-9;
        expect_t = b.t0 + r / 100.0;
        if (d->n + r > cap) {
            cap = (d->n + r) * 2;
            d->x = realloc(d->x, (size_t)cap * 2 * sizeof *d->x);
        }
        memcpy(d->x + d->n * 2, b.uv, (size_t)r * 2 * sizeof *d->x);
        d->n += r;
    }
}

/* 3 records, 5.5 s missing, 4 records (1-s records): samples, the gap, seeking, duration. */
static void test_edf_discontinuous(void)
{
    const char *path = tmp("disc.edf");
    const double on[] = { 0, 1, 2, 8.5, 9.5, 10.5, 11.5 };
    CHECK("edf+d: write by hand", tf_write_discontinuous(path, 0, disc_sigs, 2, 1, on, 7, NULL, 60) == 0, "io");
    dw_err err = { 0 };
    dw_source *s = dw_edf_open(path, at100(), &err);
    CHECK("edf+d: opens", s != NULL, "%s", err.msg);
    if (!s)
        return;
    CHECK("edf+d: duration is the last record's end, gap included", s->info.duration_s == 12.5, "%g",
          s->info.duration_s);
    CHECK("edf+d: the note tells of the gap", tf_contains(s->info.note, "disc.edf: discontinuous: 2 segments, 5.5 s "
          "missing between them"), "-");
    CHECK("edf+d: kind, channels", !strcmp(s->ops->kind, "edf") && s->info.nch == 2, "%s %d", s->ops->kind,
          s->info.nch);

    dw_block b;
    CHECK("edf+d: a large read stops at the gap", s->ops->read(s, &b, 1000, 0) == 300 && b.t0 == 0 && b.gap == 0,
          "n %d t0 %g gap %ld", b.n, b.t0, b.gap);
    CHECK("edf+d: the next block reports the 550 missing frames", s->ops->read(s, &b, 1000, 0) == 400 &&
          b.t0 == 8.5 && b.gap == 550, "n %d t0 %g gap %ld", b.n, b.t0, b.gap);
    CHECK("edf+d: then EOF", s->ops->read(s, &b, 1000, 0) == DW_SRC_EOF, "more");

    int sizes[] = { 64, 299, 1000 };
    for (int k = 0; k < 3; k++) {
        char name[120];
        dread d;
        s->ops->seek(s, 0);
        int rc = read_disc(s, sizes[k], &d);
        snprintf(name, sizeof name, "edf+d: blocks of %d: 700 frames, one gap of 550 frames after frame 300, "
                 "t0 consistent", sizes[k]);
        CHECK(name, rc == 0 && d.n == 700 && d.gaps == 1 && d.gap_frames == 550 && d.first_gap_at == 300 &&
              !d.bad_t0, "rc %d n %ld gaps %ld frames %ld at %ld bad t0 %d", rc, d.n, d.gaps, d.gap_frames,
              d.first_gap_at, d.bad_t0);
        if (rc || d.n != 700) {
            free(d.x);
            continue;
        }
        int exact = 1;
        for (long i = 0; i < 700 && exact; i++)
            exact = d.x[i * 2 + 1] == 1000 + (i < 300 ? i : i + 550);
        snprintf(name, sizeof name, "edf+d: blocks of %d: 100 Hz channel exact on both sides of the gap", sizes[k]);
        CHECK(name, exact, "differs");
        if (k == 0) {
            double amp, ph;
            fit_sine(d.x + 50 * 2, 2, 200, 0.5, 5, &amp, &ph);
            CHECK("edf+d: 200 Hz sine before the gap: amplitude, phase", fabs(amp - 100) < 1 && fabs(ph) < 0.1,
                  "amp %f phase %f", amp, ph);
            fit_sine(d.x + 350 * 2, 2, 300, 9.0, 5, &amp, &ph);
            CHECK("edf+d: 200 Hz sine after the gap: on real time", fabs(amp - 100) < 1 && fabs(ph) < 0.1,
                  "amp %f phase %f", amp, ph);
        }
        free(d.x);
    }

    CHECK("edf+d: seek into the second segment", s->ops->seek(s, 10) == 0 && s->ops->read(s, &b, 100, 0) == 100 &&
          b.t0 == 10 && b.gap == 0 && b.uv[1] == 2000 && b.uv[99 * 2 + 1] == 2099, "t0 %g gap %ld v %g", b.t0, b.gap,
          b.uv[1]);
    if (s->ops->seek(s, 9.3) == 0 && s->ops->read(s, &b, 200, 0) == 200) {
        double amp, ph;
        fit_sine(b.uv + 50 * 2, 2, 150, 9.8, 5, &amp, &ph);
        CHECK("edf+d: seek 9.3 s: sine settled, on real time", b.t0 == 9.3 && fabs(amp - 100) < 1 && fabs(ph) < 0.1,
              "t0 %g amp %f phase %f", b.t0, amp, ph);
    } else {
        FAIL("edf+d: seek 9.3 s", "%s", s->err.msg);
    }
    CHECK("edf+d: seek into the gap: next block at the segment, the rest of the gap reported",
          s->ops->seek(s, 5) == 0 && s->ops->read(s, &b, 100, 0) == 100 && b.t0 == 8.5 && b.gap == 350 &&
          b.uv[1] == 1850, "t0 %g gap %ld v %g", b.t0, b.gap, b.uv[1]);
    CHECK("edf+d: seek just before the gap: a short block, then the gap",
          s->ops->seek(s, 2.5) == 0 && s->ops->read(s, &b, 1000, 0) == 50 && b.gap == 0 && b.uv[49 * 2 + 1] == 1299 &&
          s->ops->read(s, &b, 1000, 0) == 400 && b.gap == 550 && b.t0 == 8.5, "t0 %g gap %ld", b.t0, b.gap);
    CHECK("edf+d: seek to the end: EOF", s->ops->seek(s, 99) == 0 && s->ops->read(s, &b, 10, 0) == DW_SRC_EOF, "-");
    dw_source_close(s);

    /* Truncated inside record 6: the five complete records, the gap still in place. */
    FILE *f = fopen(path, "rb");
    static unsigned char c[1 << 16];
    size_t n = fread(c, 1, sizeof c, f);
    fclose(f);
    size_t rec = (n - 256 * 4) / 7;
    put(tmp("disc-cut.edf"), c, 256 * 4 + 5 * rec + rec / 2);
    s = dw_edf_open(tmp("disc-cut.edf"), at100(), &err);
    dread d = { 0 };
    CHECK("edf+d truncated: both notes, 300 + 200 frames, the gap", s &&
          tf_contains(s->info.note, "truncated: 5 of 7 data records") && tf_contains(s->info.note, "5.5 s missing") &&
          read_disc(s, 128, &d) == 0 && d.n == 500 && d.gap_frames == 550 && s->info.duration_s == 10.5,
          "%s n %ld gap %ld", s ? s->info.note : err.msg, d.n, d.gap_frames);
    free(d.x);
    d.x = NULL;
    dw_source_close(s);

    /* EDF+D whose records happen to be contiguous: no gap, no note. */
    const double contiguous[] = { 0, 1, 2, 3, 4 };
    tf_write_discontinuous(tmp("disc-c.edf"), 0, disc_sigs, 2, 1, contiguous, 5, NULL, 60);
    s = dw_edf_open(tmp("disc-c.edf"), at100(), &err);
    CHECK("edf+d without gaps: 500 frames, no gap, no note", s && s->info.note[0] == 0 && read_disc(s, 128, &d) == 0 &&
          d.n == 500 && d.gaps == 0 && d.x[499 * 2 + 1] == 1499, "%s n %ld gaps %ld", s ? s->info.note : err.msg,
          d.n, d.gaps);
    free(d.x);
    dw_source_close(s);

    /* EDF+C whose time-keeping EDFlib refuses: the record and its byte named, not EDFlib's error number
     * (a first-use test got "EDFlib refuses it (error -3) ... most likely the time-keeping"). */
    static const struct { const char *name; double on[5]; const char *want; } bad[] = {
        { "first record 1 s late", { 1, 2, 3, 4, 5 },
          "data record 1 (byte 1624) starts at 1 s, not 0 to under 1 s" },
        { "a gap", { 0, 1, 3, 4, 5 }, "starts at 5 s, not 4 s" },
    };
    for (int k = 0; k < 2; k++) {
        tf_write_discontinuous(tmp("tk.edf"), 0, disc_sigs, 2, 1, bad[k].on, 5, NULL, 60);
        FILE *fp = fopen(tmp("tk.edf"), "r+b");
        if (fp) {
            fseek(fp, 192, SEEK_SET);
            fputs("EDF+C", fp);                         /* continuous: EDFlib checks the time-keeping */
            fclose(fp);
        }
        s = dw_edf_open(tmp("tk.edf"), at100(), &err);
        char name[120];
        snprintf(name, sizeof name, "edf+c time-keeping wrong (%s): refused naming the record", bad[k].name);
        CHECK(name, !s && tf_contains(err.msg, bad[k].want) && !tf_contains(err.msg, "error -3"), "%s",
              s ? "opened" : err.msg);
        dw_source_close(s);
    }
}

/* BDF+D: first record 0.25 s after the start time, 0.5-s records, a 30.25-s gap and a 4-ms one (under a
 * frame: no gap reported, but the data stay right). */
static void test_bdf_discontinuous(void)
{
    const char *path = tmp("disc.bdf");
    static const tf_signal sigs[] = {
        { "EEG Fp1", "uV", 256, -500, 500, dwave },
        { "EEG O1", "uV", 100, -8388608, 8388607, dwave },
    };
    double on[12];
    for (int r = 0; r < 12; r++)
        on[r] = 0.25 + 0.5 * r + (r >= 4 ? 30.25 : 0) + (r >= 10 ? 0.004 : 0);
    CHECK("bdf+d: write by hand", tf_write_discontinuous(path, 1, sigs, 2, 0.5, on, 12, NULL, 120) == 0, "io");
    dw_err err = { 0 };
    dw_source *s = dw_source_open_file(path, at100(), &err);
    CHECK("bdf+d: opens", s && !strcmp(s->ops->kind, "bdf"), "%s", err.msg);
    if (!s)
        return;
    struct tm tm = { .tm_year = 124, .tm_mon = 2, .tm_mday = 9, .tm_hour = 22, .tm_min = 45, .tm_sec = 10,
                     .tm_isdst = -1 };
    CHECK("bdf+d: start time includes the first record's 0.25 s", s->info.start_epoch == (double)mktime(&tm) + 0.25,
          "%f", s->info.start_epoch);
    CHECK("bdf+d: duration", fabs(s->info.duration_s - 36.254) < 1e-9, "%.6f", s->info.duration_s);
    CHECK("bdf+d: note", tf_contains(s->info.note, "discontinuous: 3 segments, 30.254 s missing"), "-");
    dread d;
    int rc = read_disc(s, 97, &d);
    CHECK("bdf+d: 600 frames, one gap of 3025 frames after frame 200", rc == 0 && d.n == 600 && d.gaps == 1 &&
          d.gap_frames == 3025 && d.first_gap_at == 200 && !d.bad_t0, "rc %d n %ld gaps %ld frames %ld at %ld bad %d",
          rc, d.n, d.gaps, d.gap_frames, d.first_gap_at, d.bad_t0);
    if (rc == 0 && d.n == 600) {
        int exact = 1;
        for (long i = 0; i < 600 && exact; i++)
            exact = d.x[i * 2 + 1] == 1025 + (i < 200 ? i : i + 3025);
        CHECK("bdf+d: 100 Hz channel exact across both gaps (the 4-ms one rounds into the frame)", exact, "differs");
        double amp, ph;
        fit_sine(d.x + 250 * 2, 2, 200, 0.25 + (250 + 3025) / 100.0, 5, &amp, &ph);
        CHECK("bdf+d: 256 Hz sine after the gap on real time", fabs(amp - 100) < 1 && fabs(ph) < 0.1,
              "amp %f phase %f", amp, ph);
    }
    free(d.x);
    dw_block b;
    CHECK("bdf+d: seek 34 s", s->ops->seek(s, 34) == 0 && s->ops->read(s, &b, 10, 0) == 10 && b.gap == 0 &&
          b.uv[1] == 1025 + 3400, "t0 %g v %g", b.t0, b.uv[1]);
    dw_source_close(s);
}

/* Overlapping, backwards or missing record times: an error naming the file and the record. */
static void test_discontinuous_errors(void)
{
    const double back[] = { 0, 1, 2, 1.5, 9 }, over[] = { 0, 1, 1.5, 9 };
    static const dcase cases[] = {
        { "edf+d backwards record", "back.edf",
          "back.edf: data record 4 (byte 3604) starts at 1.5 s, before data record 3 ends (3 s): "
          "the records of a discontinuous (EDF+D) file never overlap or go backwards" },
        { "edf+d overlapping record", "over.edf",
          "over.edf: data record 3 (byte 2944) starts at 1.5 s, before data record 2 ends (2 s)" },
        { "edf+d garbage time-keeping", "tk.edf", "tk.edf: data record 2 (byte 2284): no time-keeping annotation" },
        { "edf+d no annotation signal", "noann.edf", "noann.edf: a discontinuous (EDF+D) file without an \"EDF "
                                                     "Annotations\" signal" },
    };
    tf_write_discontinuous(tmp("back.edf"), 0, disc_sigs, 2, 1, back, 5, NULL, 60);
    tf_write_discontinuous(tmp("over.edf"), 0, disc_sigs, 2, 1, over, 4, NULL, 60);
    tf_write_discontinuous(tmp("tk.edf"), 0, disc_sigs, 2, 1, back, 3, NULL, 60);
    FILE *f = fopen(tmp("tk.edf"), "r+b");   /* record 2's TAL: header 1024 + a record 660 + signals 600 */
    fseek(f, 2284, SEEK_SET);
    fwrite("1\x14\x14", 1, 3, f);
    fclose(f);
    tf_write_discontinuous(tmp("noann.edf"), 0, disc_sigs, 2, 1, back, 3, NULL, 60);
    f = fopen(tmp("noann.edf"), "r+b");
    fseek(f, 256 + 2 * 16, SEEK_SET);
    fwrite("Notes          ", 1, 15, f);
    fclose(f);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dw_err err = { 0 };
        dw_source *s = dw_edf_open(tmp(cases[i].file), at100(), &err);
        CHECK(cases[i].name, !s && tf_contains(err.msg, cases[i].want), "%s", s ? "opened" : err.msg);
        dw_source_close(s);
    }
}

/* A reference hypnogram in an EDF+D: stages in the time-keeping TALs of 30-s records, a 60-s gap. */
static void test_discontinuous_hypnogram(void)
{
    static const tf_signal sig[] = { { "EEG Fpz-Cz", "uV", 1, -500, 500, dwave } };
    const double on[] = { 0, 30, 120, 150 };
    const char *const text[] = { "Sleep stage W", "Sleep stage 1", "Sleep stage 2", "Sleep stage R" };
    dw_hypnogram h;
    dw_err err = { 0 };
    tf_write_discontinuous(tmp("hyp.edf"), 0, sig, 1, 30, on, 4, text, 60);
    int rc = dw_hypnogram_load(tmp("hyp.edf"), &h, &err);
    CHECK("edf+d hypnogram: stages at their real onsets, the gap unscored", rc == 0 && h.n == 6 &&
          h.stage[0] == DW_W && h.stage[1] == DW_N1 && h.stage[2] == DW_UNSCORED && h.stage[3] == DW_UNSCORED &&
          h.stage[4] == DW_N2 && h.stage[5] == DW_R, "rc %d n %d %s", rc, h.n, err.msg);
    dw_hypnogram_free(&h);
    /* 24 annotation bytes hold "+150\x14\x14Sleep stage R\x14" but not the gap-free "+60\x14\x14" before it. */
    tf_write_discontinuous(tmp("hyp2.edf"), 0, sig, 1, 30, on, 4, text, 24);
    rc = dw_hypnogram_load(tmp("hyp2.edf"), &h, &err);
    CHECK("edf+d hypnogram: a time-keeping TAL that cannot be rewritten is named", rc < 0 &&
          tf_contains(err.msg, "hyp2.edf: data record 3 (byte") && tf_contains(err.msg, "do not fit"), "rc %d", rc);
    if (!rc)
        dw_hypnogram_free(&h);
}

static void test_sniff(void)
{
    dw_err err = { 0 };
    put(tmp("x.dat"), (const unsigned char *)"random bytes here\n", 18);
    CHECK("sniff: unknown format named", !dw_source_open_file(tmp("x.dat"), at100(), &err) &&
          tf_contains(err.msg, "x.dat: unknown format"), "opened");
    CHECK("sniff: missing file", !dw_source_open_file(tmp("none.txt"), at100(), &err) &&
          tf_contains(err.msg, "none.txt: cannot open"), "opened");
    const char *data = tap_shared_data();
    if (!data) {
        SKIP("sniff: OpenBCI files", "../shared/data is absent");
        return;
    }
    static const char *const files[][2] = {
        { "OpenBCI-RAW-2016-07-21_17-46-29.txt", "openbci-text" },
        { "OpenBCI_GUI-v6-blinks-jawClench-alpha.txt", "openbci-text" },
        { "OBCI-01-sdcard.TXT", "openbci-sd" },
    };
    for (int i = 0; i < 3; i++) {
        char p[1200], name[120];
        snprintf(p, sizeof p, "%s/openbci/%s", data, files[i][0]);
        dw_source *s = dw_source_open_file(p, at100(), &err);
        snprintf(name, sizeof name, "sniff: %s is %s", files[i][0], files[i][1]);
        CHECK(name, s && !strcmp(s->ops->kind, files[i][1]), "%s", s ? s->ops->kind : err.msg);
        dw_source_close(s);
    }
}

static void test_sleep_edf_hypnogram(void)
{
    const char *data = tap_shared_data();
    if (!data) {
        SKIP("EDF+ written by another tool", "../shared/data is absent");
        return;
    }
    char p[1200];
    snprintf(p, sizeof p, "%s/sleep-edf/hypnograms/SC4001EC-Hypnogram.edf", data);
    dw_err err = { 0 };
    dw_source *s = dw_edf_open(p, at100(), &err);
    CHECK("Sleep-EDF hypnogram (annotations only) is not a recording", !s &&
          tf_contains(err.msg, "no signals to replay (only annotations"), "opened");
    dw_source_close(s);
}

int main(void)
{
    if (tf_mkdtemp(dir, sizeof dir, "edf")) {
        FAIL("mkdtemp", "%s", strerror(errno));
        TAP_DONE();
    }
    setenv("TMPDIR", dir, 1);     /* so the repaired copies are visible to the leak check */
    char edfp[400];
    snprintf(edfp, sizeof edfp, "%s", tmp("a.edf"));
    tf_annot an[] = { { 0, 30, "Sleep stage W" }, { 5, 0, "Lights off" }, { 30, 30, "Sleep stage N2" } };
    CHECK("write edf+ with EDFlib", tf_write(edfp, EDFLIB_FILETYPE_EDFPLUS, edf_sigs, 4, 60, an, 3) == 0, "EDFlib");
    test_edfplus(edfp);
    test_channels(edfp);
    test_bdfplus();
    test_plain_edf();
    test_edf_discontinuous();
    test_bdf_discontinuous();
    test_discontinuous_errors();
    test_discontinuous_hypnogram();
    test_damage(edfp);
    test_read_error(edfp);
    test_sniff();
    test_sleep_edf_hypnogram();
    tf_rmdir(dir);
    TAP_DONE();
}
