/* EDF/EDF+/BDF+ replay: real files written with EDFlib (mixed rates and units), a plain EDF written byte by
 * byte here, damaged copies of them, channel selection, seeking, and the format sniffing of
 * dw_source_open_file. */
#include "source.h"
#include "edf_testfile.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#define PI 3.14159265358979323846

static char dir[256];

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

    dw_err err = { "" };
    dw_source *s = dw_edf_open(path, NULL, &err);
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
    dw_err err = { "" };
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
    CHECK("index out of range", !s && tf_contains(err.msg, "no channel number 9 (the file has 4"), "opened");
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
    dw_err err = { "" };
    dw_source *s = dw_source_open_file(path, NULL, &err);
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
    s = dw_source_open_file(path, NULL, &err);
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
    dw_err err = { "" };
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
    /* The annotation signal is the last in each record; scribble over record 5's time-keeping TAL. */
    size_t tal = (size_t)hs + 5 * rs + (256 + 200 + 1 + 100) * 2;
    memcpy(c + tal, "garbage\x14\x01\xff annotation!!", 22);
    put(tmp("tal.edf"), c, n);
    cases[nc++] = (dcase){ "garbage annotation bytes", "tal.edf",
                                       "not a valid EDF/BDF file (format error" };
    memcpy(c, d, n);
    memcpy(c + 192, "EDF+D", 5);
    put(tmp("disc.edf"), c, n);
    cases[nc++] = (dcase){ "EDF+D", "disc.edf", "EDF+D (discontinuous) recordings cannot be read" };
    put(tmp("text.edf"), (const unsigned char *)"hello, world\n1,2,3\n", 19);
    cases[nc++] = (dcase){ "not EDF", "text.edf", "not an EDF/BDF file (it starts with neither" };
    put(tmp("empty.edf"), c, 0);
    cases[nc++] = (dcase){ "empty file", "empty.edf", "not an EDF/BDF file (it is empty)" };
    cases[nc++] = (dcase){ "missing file", "nonexistent.edf", "cannot open: No such file" };
    memcpy(c, d, n);
    memcpy(c + hs - 32 * ns - 8 * ns + 8 * 3, "0       ", 8); /* samples per record of signal 4 */
    put(tmp("spr.edf"), c, n);
    cases[nc++] = (dcase){ "zero samples per record", "spr.edf",
                                       "bad samples-per-record field \"0       \" for signal 4" };

    for (int i = 0; i < nc; i++) {
        char name[120], *p = tmp(cases[i].file);
        memset(&err, 0, sizeof err);
        s = dw_edf_open(p, NULL, &err);
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
    dw_err err = { "" };
    dw_source *s = dw_edf_open(p, NULL, &err);
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

static void test_sniff(void)
{
    dw_err err = { "" };
    put(tmp("x.dat"), (const unsigned char *)"random bytes here\n", 18);
    CHECK("sniff: unknown format named", !dw_source_open_file(tmp("x.dat"), NULL, &err) &&
          tf_contains(err.msg, "x.dat: unknown format"), "opened");
    CHECK("sniff: missing file", !dw_source_open_file(tmp("none.txt"), NULL, &err) &&
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
        dw_source *s = dw_source_open_file(p, NULL, &err);
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
    dw_err err = { "" };
    dw_source *s = dw_edf_open(p, NULL, &err);
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
    test_damage(edfp);
    test_read_error(edfp);
    test_sniff();
    test_sleep_edf_hypnogram();
    tf_rmdir(dir);
    TAP_DONE();
}
