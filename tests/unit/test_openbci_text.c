/* OpenBCI GUI text and Cyton SD-card sources against the real files in ../shared/data/openbci, plus small
 * files written here for bad lines, counter gaps and seeking. */
#include "sources/source.h"
#include "tap.h"

#include <stdint.h>
#include <time.h>

typedef struct {
    double *uv;             /* delivered frames, frame-major */
    long    n, gaps, lost, paused, accel_blocks, cap;
    int     nch, t0_ok;
} take;

/* Reads a source to the end in blocks of `chunk` frames, checking that t0 follows frames plus gaps. */
static int read_all(dw_source *s, int chunk, take *t)
{
    memset(t, 0, sizeof *t);
    t->nch = s->info.nch;
    t->t0_ok = 1;
    dw_block b;
    int r;
    while ((r = s->ops->read(s, &b, chunk, 0)) > 0) {
        if (t->n + r > t->cap) {
            t->cap = 2 * (t->n + r);
            t->uv = realloc(t->uv, (size_t)t->cap * t->nch * sizeof *t->uv);
        }
        memcpy(t->uv + (size_t)t->n * t->nch, b.uv, (size_t)r * t->nch * sizeof *b.uv);
        t->gaps += b.gap > 0;
        t->lost += b.gap;
        t->paused += b.pause;
        if (fabs(b.t0 - (double)(t->n + t->lost) / s->info.fs) > 1e-9)
            t->t0_ok = 0;
        t->n += r;
        t->accel_blocks += b.accel_valid;
    }
    return r;
}

static dw_source *open_or_fail(const char *name, const char *path)
{
    dw_err err = { 0 };
    dw_source *s = strstr(path, "sdcard") ? dw_sdcard_open(path, NULL, &err) : dw_openbci_text_open(path, NULL, &err);
    if (!s)
        FAIL(name, "open: %s", err.msg);
    return s;
}

/* Whether localtime shows start as "YYYY-MM-DD HH:MM:SS.mmm" on this machine, in its zone. */
static int is_clock(double start, const char *want)
{
    time_t t = (time_t)floor(start);
    struct tm tm;
    char got[64];
    localtime_r(&t, &tm);
    strftime(got, sizeof got, "%Y-%m-%d %H:%M:%S", &tm);
    size_t n = strlen(got);
    snprintf(got + n, sizeof got - n, ".%03d", (int)lround((start - floor(start)) * 1000));
    return !strcmp(got, want);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void same_session(const char *dir)
{
    static const char *const names[3] = { "OpenBCI-sampleData-1-blinks-jawClench-alpha.txt",
                                          "OpenBCI_GUI-v5-blinks-jawClench-alpha.txt",
                                          "OpenBCI_GUI-v6-blinks-jawClench-alpha.txt" };
    static const int chunks[3] = { 1000, 37, 4096 };
    take t[3];
    double accel[3][3];
    for (int i = 0; i < 3; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/openbci/%s", dir, names[i]);
        dw_source *s = open_or_fail("gui v4/v5/v6 open", path);
        if (!s)
            return;
        CHECK("gui v4/v5/v6: 8 channels at 250 Hz", s->info.nch == 8 && s->info.fs == 250 &&
              !strcmp(s->info.label[0], "Ch1") && !strcmp(s->info.label[7], "Ch8"),
              "%s: %d ch %g Hz %s", names[i], s->info.nch, s->info.fs, s->info.label[0]);
        /* 12:00:53.329 local (Unix ms 1557936053329: UTC-4), from the formatted time column */
        CHECK("gui v4/v5/v6: start time from the time column",
              is_clock(s->info.start_epoch, "2019-05-15 12:00:53.329"),
              "%s: %.3f", names[i], s->info.start_epoch);
        read_all(s, chunks[i], &t[i]);
        dw_block b;
        s->ops->seek(s, 0);
        s->ops->read(s, &b, 5, 0);      /* frames 0-4 hold one reading (0.040 0.420 0.238): v4 on row 0
                                         * only, v5/v6 repeated on every row */
        memcpy(accel[i], b.accel, sizeof accel[i]);
        CHECK("gui v4/v5/v6: duration from the index pass", fabs(s->info.duration_s - t[i].n / 250.0) < 1e-9,
              "%s: %g s vs %ld frames", names[i], s->info.duration_s, t[i].n);
        dw_source_close(s);
    }
    CHECK("gui v4/v5/v6: no gaps, t0 consistent", !t[0].lost && !t[1].lost && !t[2].lost && t[0].t0_ok && t[1].t0_ok
          && t[2].t0_ok, "lost %ld %ld %ld", t[0].lost, t[1].lost, t[2].lost);
    CHECK("gui v4/v5/v6: same number of samples", t[0].n == t[1].n && t[1].n == t[2].n && t[0].n > 20000,
          "%ld %ld %ld", t[0].n, t[1].n, t[2].n);
    if (t[0].n == t[1].n && t[1].n == t[2].n) {
        long diff = 0;
        for (long k = 0; k < t[0].n * 8; k++)
            diff += t[0].uv[k] != t[1].uv[k] || t[0].uv[k] != t[2].uv[k];
        CHECK("gui v4/v5/v6: identical samples", diff == 0, "%ld values differ", diff);
    }
    CHECK("gui v4/v5/v6: first sample is the file's first row",
          t[0].n && t[0].uv[0] == 61379.36 && t[0].uv[7] == 1740.11, "%g %g", t[0].uv[0], t[0].uv[7]);
    CHECK("gui v4/v5/v6: same first accelerometer reading",
          accel[0][1] == 0.420 && accel[1][1] == 0.420 && accel[2][1] == 0.420 && accel[0][2] == 0.238,
          "%g %g %g", accel[0][1], accel[1][1], accel[2][1]);
    for (int i = 0; i < 3; i++)
        free(t[i].uv);
}

static void raw_v1(const char *dir)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/openbci/OpenBCI-RAW-2016-07-21_17-46-29.txt", dir);
    dw_source *s = open_or_fail("gui v1 open", path);
    if (!s)
        return;
    take t;
    read_all(s, 250, &t);
    /* 7765 sample lines whose counter skips 4 times by one sample each (checked with awk at writing) */
    long lines = 0;
    FILE *f = fopen(path, "r");
    char line[512];
    while (fgets(line, sizeof line, f))
        lines += line[0] >= '0' && line[0] <= '9';
    fclose(f);
    CHECK("gui v1: every line delivered, counter jumps as gaps", t.n == lines && t.lost >= 1 && t.t0_ok,
          "%ld frames of %ld lines, %ld lost in %ld gaps", t.n, lines, t.lost, t.gaps);
    char note[128];
    snprintf(note, sizeof note, "OpenBCI-RAW-2016-07-21_17-46-29.txt: %ld samples lost (sample-index jumps)", t.lost);
    CHECK("gui v1: the open-time note counts the lost samples", !strcmp(s->info.note, note), "\"%s\"", s->info.note);
    double lo = 1e9, hi = -1e9;
    for (long k = 0; k < t.n; k++)
        lo = fmin(lo, t.uv[k * 8 + 1]), hi = fmax(hi, t.uv[k * 8 + 1]);
    CHECK("gui v1: channel 2 in a sane range", lo > 10000 && hi < 40000 && hi - lo > 100, "%g..%g", lo, hi);
    struct tm tm = { .tm_year = 116, .tm_mon = 6, .tm_mday = 21, .tm_hour = 17, .tm_min = 46, .tm_sec = 29,
                     .tm_isdst = -1 };
    CHECK("gui v1: start time from the file name", s->info.start_epoch == (double)mktime(&tm), "%.0f",
          s->info.start_epoch);
    CHECK("gui v1: accelerometer readings", t.accel_blocks > 0, "none");
    free(t.uv);
    dw_source_close(s);
}

static void gui_2024(const char *dir)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/openbci/OpenBCI-GUI-2024-01-24_16-28-32.txt", dir);
    dw_source *s = open_or_fail("gui 2024 open", path);
    if (!s)
        return;
    take t;
    read_all(s, 100, &t);
    long railed = 0, near = 0;           /* electrodes off: pinned at full scale, now and then just off it */
    for (long k = 0; k < t.n; k++) {
        railed += fabs(t.uv[k * 8 + 6] + 187500) < 0.1 && fabs(t.uv[k * 8 + 7] + 187500) < 0.1;
        near += t.uv[k * 8 + 6] < -180000 && t.uv[k * 8 + 7] < -180000;
    }
    CHECK("gui 2024: channels 7-8 railed at -187500 uV", t.n > 2000 && railed > 0.98 * t.n && near == t.n,
          "%ld railed, %ld near, of %ld", railed, near, t.n);
    CHECK("gui 2024: start time, the site's clock",
          is_clock(s->info.start_epoch, "2024-01-24 16:28:35.318"),
          "%.3f", s->info.start_epoch);
    CHECK("gui 2024: the all-zero first row is not a sample", t.n && t.uv[0] != 0, "%g", t.n ? t.uv[0] : 0);
    free(t.uv);
    dw_source_close(s);
}

/* A copy of src without its sample lines first..first+count-1 (lines that start with a digit). */
static int cut_samples(const char *src, const char *dst, long first, long count)
{
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    char line[4096];
    long k = 0;
    while (in && out && fgets(line, sizeof line, in)) {
        int sample = line[0] >= '0' && line[0] <= '9';
        if (!sample || k < first || k >= first + count)
            fputs(line, out);
        k += sample;
    }
    if (in)
        fclose(in);
    return out ? fclose(out) : -1;
}

/* The real GUI files' timestamp columns (1-ms and 1-us: arrival stamps scattered -11..+32 ms, samples
 * up to 35 ms apart) show no whole-cycle loss where there is none; cut a whole cycle (256 samples, or
 * two and some) out of them and it is counted, exactly, as lost samples. */
static void real_cycles(const char *dir)
{
    static const struct { const char *name; long lost; } files[] = {
        { "OpenBCI-sampleData-1-blinks-jawClench-alpha.txt", 0 }, { "OpenBCI_GUI-v5-blinks-jawClench-alpha.txt", 0 },
        { "OpenBCI_GUI-v6-blinks-jawClench-alpha.txt", 0 }, { "OpenBCI-GUI-2024-01-24_16-28-32.txt", 0 },
        { "OpenBCI-RAW-2016-07-21_17-46-29.txt", 4 }, { "OBCI-01-sdcard.TXT", 0 },
    };
    char tmp[] = "/tmp/dw-cycles-XXXXXX", cut[128];
    if (!mkdtemp(tmp))
        return;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1200], name[200];
        snprintf(path, sizeof path, "%s/openbci/%s", dir, files[i].name);
        dw_source *s = open_or_fail("real files: open", path);
        if (!s)
            continue;
        take t, c;
        read_all(s, 500, &t);
        snprintf(name, sizeof name, "real files: %s: no whole index cycle invented from its timestamps",
                 files[i].name);
        CHECK(name, t.lost == files[i].lost && !strstr(s->info.note, "whole index cycle"), "lost %ld note \"%s\"",
              t.lost, s->info.note);
        snprintf(name, sizeof name, "real files: %s: no pause invented from its timestamps", files[i].name);
        CHECK(name, t.paused == 0 && !strstr(s->info.note, "paused"), "paused %ld note \"%s\"", t.paused,
              s->info.note);
        dw_source_close(s);
        for (long k = 256; i < 4 && k <= 600; k += 600 - 256) {   /* one cycle; two cycles and 88 */
            long at = i == 3 ? 1200 : 10000;
            snprintf(cut, sizeof cut, "%s/%s", tmp, files[i].name);
            cut_samples(path, cut, at, k);
            dw_err err = { 0 };
            s = dw_openbci_text_open(cut, NULL, &err);
            snprintf(name, sizeof name, "real files: %s with %ld samples cut at %ld: %ld lost (%ld whole cycles)",
                     files[i].name, k, at, k, k / 256);
            if (!s) {
                FAIL(name, "open: %s", err.msg);
                continue;
            }
            read_all(s, 500, &c);
            char want[96];
            snprintf(want, sizeof want, "%ld whole index cycle%s, %ld samples", k / 256, k < 512 ? "" : "s",
                     k / 256 * 256);
            int same = c.n == t.n - k && c.lost == k && c.t0_ok && strstr(s->info.note, want) &&
                       !strstr(s->info.note, "timestamps span");
            long at_frame = at - (i == 1 || i == 3);   /* v5 and the 2024 file open with a row of zeros */
            for (long j = 0; same && j < c.n * 8; j++)   /* the samples around the cut are the file's */
                same = c.uv[j] == t.uv[j < at_frame * 8 ? j : j + k * 8];
            CHECK(name, same, "n %ld of %ld lost %ld note \"%s\"", c.n, t.n, c.lost, s->info.note);
            free(c.uv);
            dw_source_close(s);
            unlink(cut);
        }
        free(t.uv);
    }
    rmdir(tmp);
}

static double count_uv(const char *hex6)
{
    long v = strtol(hex6, NULL, 16);
    if (v >= 1L << 23)
        v -= 1L << 24;
    return v * 4.5 / 24 / (double)((1 << 23) - 1) * 1e6;
}

static void sd_card(const char *dir)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/openbci/OBCI-01-sdcard.TXT", dir);
    dw_source *s = open_or_fail("sd open", path);
    if (!s)
        return;
    CHECK("sd: kind, 8 channels at 250 Hz", !strcmp(s->ops->kind, "openbci-sd") && s->info.nch == 8 &&
          s->info.fs == 250, "%s %d %g", s->ops->kind, s->info.nch, s->info.fs);
    dw_block b;
    int r = s->ops->read(s, &b, 5, 0);
    /* line 3: 00,000000,000000,FB52DD,F41C43,...,FFB0,0E60,03B0 */
    CHECK("sd: first sample decoded from 24-bit hex", r == 5 && tap_close(b.uv[2], count_uv("FB52DD"), 1e-12, 0) &&
          tap_close(b.uv[3], count_uv("F41C43"), 1e-12, 0) && b.uv[0] == 0 && b.uv[2] < -1000 && b.uv[2] > -187500,
          "r=%d ch3 %g", r, r > 0 ? b.uv[2] : 0);
    CHECK("sd: accelerometer in g", b.accel_valid && fabs(b.accel[0] + 80 * 0.002 / 16) < 1e-12 &&
          fabs(b.accel[1] - 0x0E60 * 0.002 / 16) < 1e-12, "%d %g %g", b.accel_valid, b.accel[0], b.accel[1]);
    s->ops->seek(s, 0);
    take t;
    read_all(s, 64, &t);
    long lines = 0;                   /* sample lines have commas; the counter runs 00-FF without a skip */
    FILE *f = fopen(path, "r");
    char line[256];
    while (fgets(line, sizeof line, f))
        lines += strchr(line, ',') != NULL;
    fclose(f);
    CHECK("sd: every line, counter wraps without false gaps", t.n == lines && t.n > 3000 && t.lost == 0 && t.t0_ok,
          "%ld frames of %ld lines, %ld lost", t.n, lines, t.lost);
    free(t.uv);
    dw_source_close(s);
}

static void seeking(const char *dir)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/openbci/OpenBCI_GUI-v6-blinks-jawClench-alpha.txt", dir);
    dw_err err = { 0 };
    dw_source *s = dw_source_open_file(path, NULL, &err);  /* by content, as the program opens it */
    CHECK("dw_source_open_file: GUI text goes to this reader", s && !strcmp(s->ops->kind, "openbci-text"), "%s",
          s ? s->ops->kind : err.msg);
    if (!s)
        return;
    take t;
    read_all(s, 512, &t);
    int ok = 1;
    static const double at[] = { 61.3, 30.0, 0.0, 89.9, 12.004 };
    for (int i = 0; i < 5 && ok; i++) {
        dw_block b;
        long k = lround(at[i] * 250);
        ok = s->ops->seek(s, at[i]) == 0 && s->ops->read(s, &b, 3, 0) == 3 && fabs(b.t0 - k / 250.0) < 1e-9 &&
             !memcmp(b.uv, t.uv + k * 8, 3 * 8 * sizeof *b.uv);
    }
    dw_block b;
    CHECK("seek: lands on the same samples as reading through", ok, "mismatch");
    CHECK("seek: past the end gives EOF", s->ops->seek(s, 1e6) == 0 && s->ops->read(s, &b, 10, 0) == DW_SRC_EOF,
          "no EOF");
    free(t.uv);
    dw_source_close(s);
}

/* Written here: a v4-style file with a bad value, a short line and a counter jump. */
static void bad_lines(void)
{
    char dir[] = "/tmp/dw-obci-XXXXXX", path[64];
    if (!mkdtemp(dir))
        return;
    snprintf(path, sizeof path, "%s/x.txt", dir);
    write_file(path, "%OpenBCI Raw EEG Data\n%Number of channels = 8\n%Sample Rate = 250.0 Hz\n"
                     "0, 1, 2, 3, 4, 5, 6, 7, 8, 0.1, 0.2, 0.3\r\n"
                     "1, 1, 2, 3, x4, 5, 6, 7, 8, 0, 0, 0\n"
                     "2, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0\n"
                     "3, 1, 2, 3\n"
                     "4, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0\n"
                     "9, 9, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0\n");
    dw_err err = { 0 };
    dw_source *s = dw_openbci_text_open(path, NULL, &err);
    if (!s) {
        FAIL("bad lines: open", "%s", err.msg);
        return;
    }
    dw_block b[5];
    int n[5], k = 0;
    while (k < 5 && (n[k] = s->ops->read(s, &b[k], 100, 0)) > 0)
        k++;
    /* frames 0 | (1 lost) 2 | (3 lost) 4 | (5-8 lost) 9 */
    CHECK("bad lines: skipped lines become gaps, reading goes on",
          k == 4 && n[0] == 1 && b[1].gap == 1 && b[2].gap == 1 && b[3].gap == 4 && b[3].uv[0] == 9 &&
          fabs(b[3].t0 - 9 / 250.0) < 1e-12, "k=%d", k);
    char want[128];
    snprintf(want, sizeof want, "%s:5: column 5: not a number", path);
    CHECK("bad lines: error names file, line and column", strstr(s->err.msg, want) != NULL, "\"%s\"", s->err.msg);
    /* the open-time pass parses as reading does: the refused lines are gaps too, and named */
    CHECK("bad lines: the open-time note tells the lost samples and the refused lines",
          !strcmp(s->info.note, "x.txt: 6 samples lost (sample-index jumps)\n"
                                "x.txt: 2 unreadable lines skipped (first: line 5)"), "\"%s\"", s->info.note);
    dw_source_close(s);

    write_file(path, "%OpenBCI Raw EEG Data\nfoo, bar\n1, 2\n");
    s = dw_openbci_text_open(path, NULL, &err);
    CHECK("bad lines: a file of nothing but bad lines is refused with the reason",
          !s && strstr(err.msg, "x.txt:3: 2 columns"), "%s", s ? "opened" : err.msg);
    dw_source_close(s);

    /* Daisy, BrainFlow style: 16 channels at 125 Hz, the counter stepping by 2; 7 -> 11 loses one sample */
    FILE *f = fopen(path, "w");
    fputs("%OpenBCI Raw EXG Data\n%Number of channels = 16\n%Sample Rate = 125 Hz\n%Board = OpenBCI_GUI$BoardCytonSerialDaisy\n", f);
    static const int ctr[] = { 1, 3, 5, 7, 11, 13 };
    for (int i = 0; i < 6; i++) {
        fprintf(f, "%d", ctr[i]);
        for (int c = 0; c < 16; c++)
            fprintf(f, ", %d.5", 100 * c + i);
        fprintf(f, ", 0.1, 0.2, 0.3, %d, 0, 2020-09-13 12:26:40.000\n", 1600000000 + i);
    }
    fclose(f);
    s = dw_openbci_text_open(path, NULL, &err);
    if (s) {
        int r1 = s->ops->read(s, &b[0], 100, 0), r2 = s->ops->read(s, &b[1], 100, 0);
        CHECK("daisy: 16 channels at 125 Hz, step-2 counter, one lost sample", s->info.nch == 16 &&
              s->info.fs == 125 && r1 == 4 && r2 == 2 && b[1].gap == 1 && b[1].uv[15] == 1504.5 &&
              fabs(b[1].t0 - 5 / 125.0) < 1e-12 && !strcmp(s->info.label[15], "Ch16"),
              "nch %d fs %g r %d %d gap %ld", s->info.nch, s->info.fs, r1, r2, r2 > 0 ? b[1].gap : -1);
        dw_source_close(s);
    } else {
        FAIL("daisy: open", "%s", err.msg);
    }

    write_file(path, "%STOP AT\n00000010\nFE,000001,FFFFFF,800000,7FFFFF,000000,000000,000000,000000\n"
                     "FF,000001,FFFFFF,800000,7FFFFF,000000,000000,000000,0000zz\n"
                     "00,000001,FFFFFF,800000,7FFFFF,000000,000000,000000,000000\n");
    dw_channel_spec spec = { .channels = { "ch4", "2" }, .nchannels = 2 };
    s = dw_sdcard_open(path, &spec, &err);
    if (s) {
        int r = s->ops->read(s, &b[0], 10, 0);
        CHECK("sd: chosen channels, sign extension, full scale",
              r == 1 && s->info.nch == 2 && !strcmp(s->info.label[0], "Ch4") &&
              fabs(b[0].uv[0] - 187500) < 0.03 && fabs(b[0].uv[1] + 0.0223517) < 1e-6, "r=%d %g %g", r,
              b[0].uv[0], b[0].uv[1]);
        r = s->ops->read(s, &b[0], 10, 0);
        CHECK("sd: bad line -> gap across the counter wrap", r == 1 && b[0].gap == 1 &&
              strstr(s->err.msg, ":4: column 9: not a 6-digit hex count"), "r=%d gap %ld %s", r,
              r > 0 ? b[0].gap : 0, s->err.msg);
        dw_source_close(s);
    } else {
        FAIL("sd: small file", "%s", err.msg);
    }
    /* a line torn in two inside the file (two unreadable lines, one sample): the counter goes on by 2 */
    write_file(path, "%STOP AT\n00000010\nFE,000001,FFFFFF,800000,7FFFFF,000000,000000,000000,000000\n"
                     "FF,000001,FFFFFF,80\n0000,7FFFFF,000000,000000,000000,000000\n"
                     "00,000001,FFFFFF,800000,7FFFFF,000000,000000,000000,000000\n");
    s = dw_sdcard_open(path, NULL, &err);
    if (s) {
        int r1 = s->ops->read(s, &b[0], 10, 0), r2 = s->ops->read(s, &b[1], 10, 0);
        CHECK("sd: a line torn in two inside the file is one lost sample, not the end", r1 == 1 && r2 == 1 &&
              b[1].gap == 1 && !strstr(s->info.note, "the last "), "r %d %d note %s", r1, r2, s->info.note);
        dw_source_close(s);
    } else {
        FAIL("sd: a line torn in two", "%s", err.msg);
    }
    unlink(path);
    rmdir(dir);
}

/* A Ganglion GUI v4 text file as the board writes it (case 06 of ../shared/cases): 4 channels at 200 Hz,
 * the sample index 0-200, clock time and Unix ms; skip: lines (samples) left out; cycle: a whole index
 * cycle left out too (201 lines: invisible to the index, visible to the timestamps); bom_crlf: saved by
 * an editor; stall: from sample 6000 on, 1.5 s of samples (300, more than a cycle) held up and stamped
 * on arrival at its end, as a host stall does (late, never lost); pause_s: from sample 6000 on, the
 * timestamps pause_s later (the GUI stopped and started the stream), the index restarting at 0 if restart.
 * Channel 1 holds the sample number. */
static void write_ganglion_p(const char *path, int seconds, int skip_from, int skip_n, int bom_crlf, int stall,
                             int pause_s, int restart)
{
    FILE *f = fopen(path, "wb");
    const char *nl = bom_crlf ? "\r\n" : "\n";
    fprintf(f, "%s%%OpenBCI Raw EEG Data%s%%Number of channels = 4%s%%Sample Rate = 200.0 Hz%s"
            "%%First Column = SampleIndex%s%%Last Column = Timestamp %s", bom_crlf ? "\xef\xbb\xbf" : "", nl, nl,
            nl, nl, nl);
    long long t0 = 1541598342454LL;
    for (int i = 0; i < seconds * 200; i++) {
        if (i >= skip_from && i < skip_from + skip_n)
            continue;
        long long ms = t0 + (stall && i >= 6000 && i < 6300 ? 6300 : i) * 5 + (i >= 6000 ? pause_s * 1000LL : 0);
        int c = restart && i >= 6000 ? (i - 6000) % 201 : i % 201;
        fprintf(f, "%d, %d.00, %.2f, 1.50, -2.25, 0.000, 0.000, 0.000, 14:%02lld:%02lld.%03lld, %lld%s", c, i,
                30 * sin(i * 0.1), 25 + (ms / 60000 - t0 / 60000), (ms / 1000) % 60, ms % 1000, ms, nl);
    }
    fclose(f);
}

static void write_ganglion(const char *path, int seconds, int skip_from, int skip_n, int bom_crlf, int stall)
{
    write_ganglion_p(path, seconds, skip_from, skip_n, bom_crlf, stall, 0, 0);
}

/* A GUI stream stopped and started again (the GUI's text file goes on; the board restarts its sample
 * index at 0, and the timestamps jump by the time it was stopped): a pause of the timestamps' length
 * (dw_block.pause), nothing lost, everything after at its true time. The same jump with the index going
 * on (a host clock step) is no pause and no loss, and a loss that happens to end at index 0 with no time
 * jump stays a loss. */
static void gui_pause(void)
{
    char dir[] = "/tmp/dw-guipause-XXXXXX", path[64];
    if (!mkdtemp(dir))
        return;
    snprintf(path, sizeof path, "%s/g.txt", dir);
    static const struct { const char *name; int pause_s, restart, from, n; long lost, paused; const char *note, *absent; } k[] = {
        { "gui pause: a 60-s stop and start (index restarts, timestamps jump) is a 60-s pause, nothing lost",
          60, 1, 0, 0, 12000, 12000, "g.txt: streaming paused 1 time, 60.0 s in all (the timestamps jump and the "
          "sample index restarts; the first at line 6006)", "lost" },
        { "gui pause: a 2-s stop and start is a 2-s pause", 2, 1, 0, 0, 400, 400, "paused 1 time, 2.0 s", "lost" },
        { "gui pause: the timestamps jump 60 s, the index goes on (a host clock step): no pause, no loss", 60, 0, 0,
          0, 0, 0, "timestamps span", "paused" },
        { "gui pause: 150 samples lost up to index 0, no time jump: 150 lost, no pause", 0, 0, 201 * 20 - 150, 150,
          150, 0, "150 samples lost", "paused" },
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        write_ganglion_p(path, 60, k[i].from, k[i].n, 0, 0, k[i].pause_s, k[i].restart);
        dw_err err = { 0 };
        dw_source *s = dw_source_open_file(path, NULL, &err);
        if (!s) {
            FAIL(k[i].name, "open: %s", err.msg);
            continue;
        }
        take t;
        int r = read_all(s, 333, &t);
        int exact = r == DW_SRC_EOF && t.n == 12000 - k[i].n && t.lost == k[i].lost && t.paused == k[i].paused &&
                    t.t0_ok && fabs(s->info.duration_s - (t.n + t.lost) / 200.0) < 1e-9 &&
                    strstr(s->info.note, k[i].note) && !strstr(s->info.note, k[i].absent);
        for (long j = 0; exact && j < t.n; j++)  /* channel 1: the sample number, every one in order */
            exact = t.uv[j * 4] == (k[i].n && j >= k[i].from ? j + k[i].n : j);
        CHECK(k[i].name, exact, "r %d n %ld lost %ld paused %ld t0 %d duration %g note \"%s\"", r, t.n, t.lost,
              t.paused, t.t0_ok, s->info.duration_s, s->info.note);
        if (k[i].paused == 12000) {              /* seeking into the pause: its rest, still a pause, named */
            dw_block b;
            int rr = s->ops->seek(s, 60.0) == 0 ? s->ops->read(s, &b, 10, 0) : -9;
            CHECK("gui pause: a seek into the pause delivers its rest as a pause, why named", rr > 0 &&
                  b.gap == 6000 + 12000 - 60 * 200 && b.pause == b.gap && fabs(b.t0 - 90.0) < 1e-9 &&
                  b.pause_why && strstr(b.pause_why, "timestamps") && b.uv[0] == 6000,
                  "r %d gap %ld pause %ld t0 %g", rr, rr > 0 ? b.gap : 0, rr > 0 ? b.pause : 0, rr > 0 ? b.t0 : 0);
        }
        free(t.uv);
        dw_source_close(s);
    }
    unlink(path);
    rmdir(dir);
}

static void ganglion(void)
{
    char dir[] = "/tmp/dw-gang-XXXXXX", path[64];
    if (!mkdtemp(dir))
        return;
    snprintf(path, sizeof path, "%s/g.txt", dir);
    struct { const char *name; int from, n, bom, stall; long frames, lost; const char *note, *absent; } cases[] = {
        { "ganglion: index 0-200 learned, no invented samples", 0, 0, 0, 0, 12000, 0,
          "g.txt: the sample index runs 0-200 (a Ganglion), learned from the file", "lost" },
        { "ganglion: BOM and CRLF read alike", 0, 0, 1, 0, 12000, 0, "runs 0-200", "lost" },
        { "ganglion: 37 lost samples across a wrap counted exactly", 390, 37, 0, 0, 12000 - 37, 37,
          "g.txt: 37 samples lost (sample-index jumps)", "timestamps" },
        /* the index cannot show a whole cycle; the timestamps can: lost samples, as any other loss */
        { "ganglion: a lost whole index cycle, seen by the timestamps, is 201 lost samples", 3000, 201, 0, 0,
          12000 - 201, 201, "g.txt: 201 samples lost (sample-index jumps, and 1 whole index cycle, 201 samples, "
          "that the index cannot show and the timestamps do)", "timestamps span" },
        { "ganglion: two lost whole cycles and 5 more: 407 lost samples", 3000, 407, 0, 0, 12000 - 407, 407,
          "g.txt: 407 samples lost (sample-index jumps, and 2 whole index cycles, 402 samples", "timestamps span" },
        { "ganglion: a 1.5-s host stall (samples late, then a burst) is no loss", 0, 0, 0, 1, 12000, 0,
          "runs 0-200", "lost" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_ganglion(path, 60, cases[i].from, cases[i].n, cases[i].bom, cases[i].stall);
        dw_err err = { 0 };
        dw_source *s = dw_source_open_file(path, NULL, &err);
        if (!s) {
            FAIL(cases[i].name, "open: %s", err.msg);
            continue;
        }
        take t;
        int r = read_all(s, 333, &t);
        int exact = t.n == cases[i].frames && t.lost == cases[i].lost;
        for (long k = 0, want = 0; exact && k < t.n; k++, want++) {     /* channel 1 is the sample number */
            if (want == cases[i].from && cases[i].n == 37)
                want += 37;
            if (want == cases[i].from && (cases[i].n == 201 || cases[i].n == 407))
                want += cases[i].n;
            exact = t.uv[k * 4] == want;
        }
        CHECK(cases[i].name, r == DW_SRC_EOF && exact && t.t0_ok && s->info.nch == 4 && s->info.fs == 200 &&
              !strcmp(s->ops->kind, "openbci-text") && strstr(s->info.note, cases[i].note) &&
              !strstr(s->info.note, cases[i].absent) && fabs(s->info.duration_s - (t.n + t.lost) / 200.0) < 1e-9,
              "%ld frames %ld lost t0 %d note \"%s\"", t.n, t.lost, t.t0_ok, s->info.note);
        free(t.uv);
        dw_source_close(s);
    }
    unlink(path);
    rmdir(dir);
}

/* An SD log as the card leaves it (case 07): the last line torn, then the pre-allocated rest of the file
 * holding NULs, or stale lines from an earlier session, or hex junk. Duration and notes come from the
 * samples only; reading ends at the last sample without an error, however long the tail. */
static void sd_tails(void)
{
    char dir[] = "/tmp/dw-sdtail-XXXXXX", path[64];
    if (!mkdtemp(dir))
        return;
    snprintf(path, sizeof path, "%s/OBCI_1D.TXT", dir);
    static const char *const names[] = { "NUL padding", "stale lines of an earlier session", "hex junk" };
    for (int kind = 0; kind < 3; kind++) {
        FILE *f = fopen(path, "wb");
        fputs("%STOP AT\n0009C40\n", f);
        for (int i = 0; i < 2500; i++) {
            fprintf(f, "%02X", i % 256);
            for (int c = 0; c < 8; c++)
                fprintf(f, ",%06X", (i * 7 + c) & 0xffffff);
            fputs(i % 10 ? "\n" : ",0000,0000,1F40\n", f);
        }
        fputs("C4,000001,000002,0000", f);                  /* torn mid-line */
        for (int k = 0; k < 40000; k++)                      /* 40000 lines: beyond any bad-line limit */
            if (kind == 0)
                fputs("\0\0\0\0\0\0\0\0\0\0", f);
            else if (kind == 1)
                fprintf(f, "\n%02X,123456,123456,123456,123456,12345", k % 256);
            else
                fprintf(f, "\n%X,,%X,F,%X", k * 31 % 4096, k * 17 % 65536, k);
        fclose(f);
        dw_err err = { 0 };
        dw_source *s = dw_source_open_file(path, NULL, &err);
        char name[120];
        snprintf(name, sizeof name, "sd tail, %s: 2500 samples, 10 s, no lost samples, the tail named", names[kind]);
        if (!s) {
            FAIL(name, "open: %s", err.msg);
            continue;
        }
        take t;
        int r = read_all(s, 256, &t);
        CHECK(name, r == DW_SRC_EOF && t.n == 2500 && t.lost == 0 && s->info.duration_s == 10 &&
              !strstr(s->info.note, "lost") && !strstr(s->info.note, "unreadable") &&
              strstr(s->info.note, "OBCI_1D.TXT: the last ") && strstr(s->info.note, "hold no samples") &&
              strstr(s->info.note, "OBCI_1D.TXT: SD-card log"), "r %d n %ld lost %ld duration %g note \"%s\"", r,
              t.n, t.lost, s->info.duration_s, s->info.note);
        free(t.uv);
        dw_source_close(s);
    }
    unlink(path);
    rmdir(dir);
}


/* One SD line of sample i (counter c), aux columns on every 10th line. */
static void sd_line(FILE *f, int c, int i, int offset)
{
    fprintf(f, "%02X", c & 255);
    for (int k = 0; k < 8; k++)
        fprintf(f, ",%06X", (i * 7 + k + offset) & 0xffffff);
    fputs(i % 10 ? "\n" : ",0000,0000,1F40\n", f);
}

/* An SD log whose pre-allocated tail holds an earlier recording's WELL-FORMED lines (case 07's kind, as
 * a tester found it): the firmware writes the counter of every sample it reads, in whole 512-byte
 * blocks, with a stamp when the stream stops and starts and a footer when the file is full; so reading
 * ends at a counter break, at a torn line across a block boundary, at a stamp whose device clock cannot
 * be this recording's (622 s after the start stamp with 10 s of samples between), at the footer or at a
 * line of NUL padding past the line limit, and the note says how much was left and why. Two stamps
 * (stopped at 50 s, started again 30 s later) are a pause within the recording: reading goes on. */
static void sd_stale(void)
{
    char dir[] = "/tmp/dw-sdstale-XXXXXX", path[64];
    if (!mkdtemp(dir))
        return;
    snprintf(path, sizeof path, "%s/OBCI_2A.TXT", dir);
    static struct { const char *name, *why; int n; } kinds[] = {
        { "counter break at a block boundary", "(set below)", 2500 },
        { "torn line across a block", "across the 512-byte block boundary at byte", -1 },
        { "a stamp whose clock is not this recording's", "the stream stamp at line 2503 stops the stream and "
          "holds the device clock 000A1B2C, 622.3 s after the last start stamp, but 10.0 s of samples", 2500 },
        { "the footer of a full file", "closing footer is at line 2504", 2500 },
        { "NUL padding past the line limit", "is longer than 65536 bytes", 2500 },
        { "stopped and started again", NULL, 2600 },
    };
    for (int kind = 0; kind < 6; kind++) {
        FILE *f = fopen(path, "wb");
        fputs("%STOP AT\n0009C40\n", f);
        int nreal = 2500;
        for (int i = 0; i < nreal; i++)
            sd_line(f, i, i, 0);
        /* the device's written blocks end at a block boundary: for the clean break, this recording's
         * lines run on to one (its last line ends there) and the earlier recording's begin there */
        for (; kind == 0 && ftell(f) % 512; nreal++)
            sd_line(f, nreal, nreal, 0);
        long long here = ftell(f);
        int stale0 = 0x10;                       /* the earlier recording's counter */
        if (kind == 0) {
            static char why0[96];
            snprintf(why0, sizeof why0, "the sample index goes from %02X to 10 at line %d where %02X was next",
                     (nreal - 1) & 255, nreal + 3, nreal & 255);
            kinds[0].why = why0;
            kinds[0].n = nreal;
        }
        if (kind == 1) {                         /* cut at this block's end, the stale line cut elsewhere */
            long long b = here / 512 * 512;
            fclose(f);
            if (truncate(path, b))
                break;
            f = fopen(path, "ab");
            fputs("0,123456,123456\n", f);
            stale0 = (int)(2500 % 256);          /* the stale counter even continues ours */
        } else if (kind == 2) {
            fputs("%START AT\n000A1B2C\n", f);
            stale0 = 2500 % 256;
        } else if (kind == 3) {
            fputs("\n%Total time mS:\n000493E0\n%min Write time uS:\n000003E8\n", f);
        } else if (kind == 4) {
            for (int k = 0; k < 70000; k++)
                fputc(0, f);
        } else if (kind == 5) {
            fputs("%START AT\n0000C350\n%STOP AT\n00011170\n", f);      /* 50 s, 70 s */
            stale0 = 0;
        }
        for (int i = 0; i < (kind == 5 ? 100 : 3000); i++)
            sd_line(f, stale0 + i, i, 5000);
        fclose(f);
        dw_err err = { 0 };
        dw_source *s = dw_source_open_file(path, NULL, &err);
        char name[160];
        snprintf(name, sizeof name, "sd stale tail, %s: %s", kinds[kind].name,
                 kind == 5 ? "2600 samples, reading goes on" : "this recording's samples only, the tail and why");
        if (!s) {
            FAIL(name, "open: %s", err.msg);
            continue;
        }
        take t;
        int r = read_all(s, 256, &t);
        int ok = r == DW_SRC_EOF && s->info.duration_s == (t.n + t.lost) / 250.0;
        if (kind == 1)                           /* the lines whole before the block boundary */
            ok = ok && t.n > 2400 && t.n < 2500;
        else
            ok = ok && t.n == kinds[kind].n;
        if (kind < 5)
            ok = ok && t.lost == 0 && !strstr(s->info.note, "lost") && strstr(s->info.note, kinds[kind].why) &&
                 strstr(s->info.note, "OBCI_2A.TXT: the last ") &&
                 strstr(s->info.note, kind == 4 ? "2999 of them sample lines" : "3000 of them sample lines");
        else                                     /* 20 s paused, the counter restarted: nothing lost */
            ok = ok && t.lost == 5000 && t.paused == 5000 && t.gaps == 1 && !strstr(s->info.note, "the last ") &&
                 !strstr(s->info.note, "lost") && strstr(s->info.note, "streaming paused 1 time, 20.0 s");
        for (long k = 0; ok && k < t.n && k < nreal; k++)  /* every sample delivered is this recording's */
            ok = fabs(t.uv[k * 8] - ((k * 7) & 0xffffff) * 4.5 / 24 / 8388607 * 1e6) < 1e-9;
        CHECK(name, ok, "r %d n %ld lost %ld duration %g note \"%s\"", r, t.n, t.lost, s->info.duration_s,
              s->info.note);
        free(t.uv);
        dw_source_close(s);
    }
    unlink(path);
    rmdir(dir);
}

/* Stream stamps as the Cyton firmware writes them (SD_Card_Stuff.ino, v2.0.1 to v3.1.5: 'b' writes
 * "%STOP AT", 's' writes "%START AT", each with millis() on the next line, and every start restarts the
 * counter at 00). "names" is what opens the file; "mid" what stands between sample 2499 and the rest;
 * restart: the rest's counter starts at 00. */
static void sd_stamps(void)
{
    char dir[] = "/tmp/dw-sdstamp-XXXXXX", path[64];
    if (!mkdtemp(dir))
        return;
    snprintf(path, sizeof path, "%s/OBCI_3C.TXT", dir);
    static const struct { const char *name, *head, *mid; int restart; long n, paused; const char *note; } k[] = {
        { "sd stamps: a v2.0.1 file opening %START AT then %STOP AT (a stop, then the start) opens",
          "%START AT\n0019B699\n%STOP AT\n0019C691\n", "", 0, 5000, 0, "SD-card log" },
        { "sd stamps: a stop and a start mid-file are a 32-s pause (the clocks), not lost samples",
          "%STOP AT\n00009C40\n", "%START AT\n0000C350\n%STOP AT\n00014050\n", 1, 5000, 8000,
          "streaming paused 1 time, 32.0 s in all (a stop and a start stamp; the first at line 2503)" },
        { "sd stamps: the same pause where the file names the start \"%START AT\" (read from the file)",
          "%START AT\n00009C40\n", "%STOP AT\n0000C350\n%START AT\n00014050\n", 1, 5000, 8000,
          "read as the stream's start" },
        /* a stop with no start after it: a start whose stamp was lost, as the index restarts at 00 (a stop
         * whose index does not restart ends the recording: sd_stop_stale) */
        { "sd stamps: a lone stop stamp mid-file, the index restarting at 00: reading goes on, a true note",
          "%STOP AT\n00009C40\n", "%START AT\n0000C350\n", 1, 5000, 0, "1 stop stamp with no start stamp after it "
          "(the first at line 2503), the sample index restarting at 00 there as the device's does at every start: "
          "read as a start whose stamp is missing" },
        { "sd stamps: the same where the file names the start \"%START AT\"", "%START AT\n00009C40\n",
          "%STOP AT\n0000C350\n", 1, 5000, 0, "1 stop stamp with no start stamp after it (the first at line 2503)" },
        { "sd stamps: a lone start stamp mid-file, the counter restarted: reading goes on, nothing lost",
          "%STOP AT\n00009C40\n", "%STOP AT\n0000C350\n", 1, 5000, 0, "1 stream stamp alone between samples "
          "(the first at line 2503), a start with no stop before it" },
        /* a clock that is not this recording's, but the index restarts at 00 as the device's does */
        { "sd stamps: a lone stamp whose clock does not fit, the index restarting at 00: reading goes on",
          "%STOP AT\n00009C40\n", "%START AT\n000A1B2C\n", 1, 5000, 0, "1 stop stamp with no start stamp" },
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        FILE *f = fopen(path, "wb");
        fputs(k[i].head, f);
        for (int j = 0; j < 2500; j++)
            sd_line(f, j, j, 0);
        fputs(k[i].mid, f);
        for (int j = 2500; j < 5000; j++)
            sd_line(f, k[i].restart ? j - 2500 : j, j, 0);
        fclose(f);
        dw_err err = { 0 };
        dw_source *s = dw_source_open_file(path, NULL, &err);
        if (!s) {
            FAIL(k[i].name, "open: %s", err.msg);
            continue;
        }
        take t;
        int r = read_all(s, 256, &t);
        int ok = r == DW_SRC_EOF && t.n == k[i].n && t.lost == k[i].paused && t.paused == k[i].paused &&
                 t.t0_ok && s->info.duration_s == (t.n + t.paused) / 250.0 && !strstr(s->info.note, "lost") &&
                 !strstr(s->info.note, "the last ") && strstr(s->info.note, k[i].note) &&
                 !strcmp(s->ops->kind, "openbci-sd");
        for (long j = 0; ok && j < t.n; j++)     /* every line, in order */
            ok = fabs(t.uv[j * 8] - ((j * 7) & 0xffffff) * 4.5 / 24 / 8388607 * 1e6) < 1e-9;
        CHECK(k[i].name, ok, "r %d n %ld lost %ld paused %ld duration %g note \"%s\"", r, t.n, t.lost, t.paused,
              s->info.duration_s, s->info.note);
        if (k[i].paused) {                       /* seeking into the pause: its rest, still a pause */
            dw_block b;
            int rr = s->ops->seek(s, 15.0) == 0 ? s->ops->read(s, &b, 10, 0) : -9;
            CHECK("sd stamps: a seek into the pause delivers its rest as a pause", rr > 0 && b.gap == 2500 + 8000 -
                  15 * 250 && b.pause == b.gap && b.pause_why, "r %d gap %ld pause %ld", rr, rr > 0 ? b.gap : 0,
                  rr > 0 ? b.pause : 0);
        }
        free(t.uv);
        dw_source_close(s);
    }
    unlink(path);
    rmdir(dir);
}

/* Samples after a stop stamp with no start stamp after it (the firmware restarts the index at 00 at every
 * start) are an earlier recording's unless the index restarts: the same rule whichever name opens the
 * file; a clock before the start stamp is said so (not as 4294667 s after); a file that ends in its stop
 * stamp has no stale tail; a one-line tail is "1 line". */
static void sd_stop_stale(void)
{
    char dir[] = "/tmp/dw-sdstop-XXXXXX", path[64];
    if (!mkdtemp(dir))
        return;
    snprintf(path, sizeof path, "%s/OBCI_4D.TXT", dir);
    static const struct { const char *name, *head, *mid; int stale0, more; long n; const char *note, *absent; } k[] = {
        { "sd stop: start-first file, older lines (index 4D) after the final stop stamp: not read",
          "%START AT\n00000000\n", "%STOP AT\n00002710\n", 0x4D, 2500, 2500, "(2502 lines, "
          "2500 of them sample lines), after the last sample of this recording (line 2502), are not part of it: "
          "ignored. Why: the stream stamp at line 2503 stops the stream and no start stamp follows it, and the "
          "sample index after it does not restart at 00", "restarted" },
        { "sd stop: the same in the swapped order (the file opens %STOP AT)", "%STOP AT\n00000000\n",
          "%START AT\n00002710\n", 0x4D, 2500, 2500, "the stream stamp at line 2503 stops the stream and no start "
          "stamp follows it", "restarted" },
        { "sd stop: a stop stamp's clock 300 s before the start stamp's is said so, signed", "%STOP AT\n000927C0\n",
          "%START AT\n000493E0\n", 0x4D, 2500, 2500, "holds the device clock 000493E0, 300.0 s before the last "
          "start stamp, but 10.0 s of samples lie between", "4294" },
        { "sd stop: a start-first file ending in its stop stamp: no stale or torn tail", "%START AT\n00000000\n",
          "%STOP AT\n00002710\n", -1, 0, 2500, "SD-card log", "the last " },
        { "sd stop: a stop-first file ending in its stop stamp: no stale or torn tail", "%STOP AT\n00000000\n",
          "%START AT\n00002710\n", -1, 0, 2500, "SD-card log", "the last " },
        { "sd stop: a torn line after the stop stamp is still a tail, counted in lines",
          "%START AT\n00000000\n", "%STOP AT\n00002710\nFE,0001\n", -1, 0, 2500, "(3 lines), after the last sample",
          "1 lines" },
        { "sd stop: a one-line tail is \"(1 line)\"", "%START AT\n00000000\n", "FE,0001\n", -1, 0, 2500,
          "(1 line), after the last sample", "1 lines" },
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        FILE *f = fopen(path, "wb");
        fputs(k[i].head, f);
        for (int j = 0; j < 2500; j++)
            sd_line(f, j, j, 0);
        fputs(k[i].mid, f);
        for (int j = 0; j < k[i].more; j++)
            sd_line(f, k[i].stale0 + j, j, 99);
        fclose(f);
        dw_err err = { 0 };
        dw_source *s = dw_source_open_file(path, NULL, &err);
        if (!s) {
            FAIL(k[i].name, "open: %s", err.msg);
            continue;
        }
        take t;
        int r = read_all(s, 256, &t);
        CHECK(k[i].name, r == DW_SRC_EOF && t.n == k[i].n && t.lost == 0 && t.paused == 0 &&
              s->info.duration_s == k[i].n / 250.0 && strstr(s->info.note, k[i].note) &&
              !strstr(s->info.note, k[i].absent) && !strstr(s->info.note, "alone"),
              "r %d n %ld lost %ld paused %ld note \"%s\"", r, t.n, t.lost, t.paused, s->info.note);
        free(t.uv);
        dw_source_close(s);
    }
    unlink(path);
    rmdir(dir);
}

/* The footer of a full SD file ("%Total time mS:") holds millis() when the file filled: one that fits
 * the recording's start stamp and samples (40 s + 10 s) ends it quietly; one that does not (300 s) is an
 * earlier recording's footer, and the note says the lines before it may be that recording's too. */
static void sd_footer_clock(void)
{
    char dir[] = "/tmp/dw-sdfoot-XXXXXX", path[64];
    if (!mkdtemp(dir))
        return;
    snprintf(path, sizeof path, "%s/OBCI_4D.TXT", dir);
    for (int fits = 1; fits >= 0; fits--) {
        FILE *f = fopen(path, "wb");
        fputs("%STOP AT\n00009C40\n", f);
        for (int j = 0; j < 2500; j++)
            sd_line(f, j, j, 0);
        fprintf(f, "\n%%SamplingFreq:\n000FA\n%%Total time mS:\n%08X\n%%min Write time uS:\n000003E8\n",
                fits ? 0xC350 : 0x493E0);
        fclose(f);
        dw_err err = { 0 };
        dw_source *s = dw_source_open_file(path, NULL, &err);
        const char *name = fits ? "sd footer: its clock fits the recording: it ends it, nothing more said"
                                : "sd footer: its clock does not fit: named an earlier recording's footer";
        if (!s) {
            FAIL(name, "open: %s", err.msg);
            continue;
        }
        take t;
        int r = read_all(s, 256, &t);
        int said = strstr(s->info.note, "an earlier recording's footer, not this one's") != NULL;
        CHECK(name, r == DW_SRC_EOF && t.n == 2500 && said == !fits && (fits || strstr(s->info.note,
              "OBCI_4D.TXT: the footer at line 2506 holds the device clock 000493E0, 260.0 s after")), "r %d n %ld note \"%s\"", r, t.n, s->info.note);
        free(t.uv);
        dw_source_close(s);
    }
    unlink(path);
    rmdir(dir);
}

/* A counter jump inside a block of the file is not where the device's written blocks end: a sample
 * missing in the middle of the night, or one line's index damaged, is lost samples, and the rest of the
 * night is read (a tester's single corrupt index byte at 150 s of a 300-s log cut it to 5 epochs). */
static void sd_jump_inside(void)
{
    char dir[] = "/tmp/dw-sdjump-XXXXXX", path[64];
    if (!mkdtemp(dir))
        return;
    snprintf(path, sizeof path, "%s/OBCI_2B.TXT", dir);
    for (int kind = 0; kind < 2; kind++) {     /* 0: sample 1500 missing; 1: its index damaged */
        FILE *f = fopen(path, "wb");
        fputs("%STOP AT\n0009C40\n", f);
        int skip = 1500;
        for (int i = 0; i < 3000; i++) {
            if (i == skip && ftell(f) % 512 == 0)
                skip++;                          /* keep the jump inside a block */
            if (i == skip && kind == 0)
                continue;
            sd_line(f, i == skip && kind == 1 ? i + 77 : i, i, 0);
        }
        fclose(f);
        dw_err err = { 0 };
        dw_source *s = dw_source_open_file(path, NULL, &err);
        const char *name = kind ? "sd log, one damaged index inside a block: the whole night read"
                                : "sd log, a sample missing inside a block: counted lost, the rest read";
        if (!s) {
            FAIL(name, "open: %s", err.msg);
            continue;
        }
        take t;
        int r = read_all(s, 256, &t);
        int ok = r == DW_SRC_EOF && !strstr(s->info.note, "the last ") && t.n >= 2999 &&
                 t.n + t.lost >= 3000 && t.lost > 0 && strstr(s->info.note, "lost");
        CHECK(name, ok, "r %d n %ld lost %ld note \"%s\"", r, t.n, t.lost, s->info.note);
        free(t.uv);
        dw_source_close(s);
    }
    unlink(path);
    rmdir(dir);
}

/* The start is the site's local clock at the first sample, the same in every zone this machine is
 * set to: a v6 export's dated column; a v4/v5 clock-only column dated by the file name (across
 * midnight too) or by its Unix ms (the offset between the two); a v1 file name. */
static void start_clock(void)
{
    char dir[] = "/tmp/dw-obci-tz-XXXXXX", path[128];
    if (!mkdtemp(dir))
        return;
    static const char *const hdr =
        "%OpenBCI Raw EEG Data\n%Number of channels = 8\n%Sample Rate = 250 Hz\n";
    static const struct { const char *name, *row, *want; } files[] = {
        /* 2024-01-24 09:28:35.318 UTC at a UTC+7 site, as in ../shared/data/openbci */
        { "OpenBCI-RAW-x.txt", "%Board = OpenBCI_GUI$BoardCytonSerial\n"
          "0, 1, 2, 3, 4, 5, 6, 7, 8, 0.1, 0.2, 0.3, 1.706088515318E9, 0.0, "
          "2024-01-24 16:28:35.318\n",
          "2024-01-24 16:28:35.318" },
        /* v4: 12:00:53.329 at a UTC-4 site, 16:00:53.329 UTC */
        { "sampleData.txt",
          "0, 1, 2, 3, 4, 5, 6, 7, 8, 0.1, 0.2, 0.3, 12:00:53.329, 1557936053329\n",
          "2019-05-15 12:00:53.329" },
        /* the same site after midnight: UTC 04:00:01 on the 16th, named at 23:59:58 on the 15th */
        { "OpenBCI-RAW-2019-05-15_23-59-58.txt",
          "0, 1, 2, 3, 4, 5, 6, 7, 8, 0.1, 0.2, 0.3, 00:00:01.000, 1557979201000\n",
          "2019-05-16 00:00:01.000" },
        /* a UTC+9 site at 08:30 local is 23:30 UTC the day before: the date is the site's */
        { "v5.txt", "%Board = OpenBCI_GUI$BoardCytonSerial\n"
          "0, 1, 2, 3, 4, 5, 6, 7, 8, 0.1, 0.2, 0.3, 0, 0, 1700004600000, 08:30:00.250\n",
          "2023-11-15 08:30:00.250" },
        { "OpenBCI-RAW-2016-07-21_17-46-29.txt", "0, 1, 2, 3, 4, 5, 6, 7, 8, 0.1, 0.2, 0.3\n",
          "2016-07-21 17:46:29.000" },
    };
    static const char *const zones[] = { "UTC", "America/Los_Angeles", "Europe/Berlin",
                                         "Asia/Kolkata" };
    char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        char text[512];
        snprintf(text, sizeof text, "%s%s%s", hdr, files[i].row, files[i].row);
        write_file(path, text);
        int same = 1;
        char got[256] = "";
        for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
            setenv("TZ", zones[z], 1);
            tzset();
            dw_err err = { 0 };
            dw_source *s = dw_openbci_text_open(path, NULL, &err);
            double start = s ? s->info.start_epoch : -1;
            if (!is_clock(start, files[i].want)) {
                same = 0;
                snprintf(got, sizeof got, "TZ=%s: start %.3f %s", zones[z], start,
                         s ? "" : err.msg);
            }
            dw_source_close(s);
        }
        char name[160];
        snprintf(name, sizeof name, "start clock: %s starts at %s in every zone", files[i].name,
                 files[i].want);
        CHECK(name, same, "%s", got);
        unlink(path);
    }
    old ? setenv("TZ", old, 1) : unsetenv("TZ");
    tzset();
    free(old);
    rmdir(dir);
}

/* The same v4 lines (one bad at line 5) ended by LF, by a lone CR (old Mac), and by CRLF, LF and
 * CR in turn: the same samples, gaps, notes, seeking, and the bad line named as line 5 in each. */
static void line_ends(void)
{
    char dir[] = "/tmp/dw-obci-eol-XXXXXX", path[128];
    if (!mkdtemp(dir))
        return;
    snprintf(path, sizeof path, "%s/x.txt", dir);
    static const char *const ends[3][3] = { { "\n", "\n", "\n" }, { "\r", "\r", "\r" },
                                            { "\r\n", "\n", "\r" } };
    static const char *const names[3] = { "LF", "CR only", "CRLF, LF and CR mixed" };
    take t[3];
    char note[3][512], msg[3][512];
    double after_seek[3] = { 0 };
    for (int e = 0; e < 3; e++) {
        FILE *f = fopen(path, "wb");
        int line = 0;
        fprintf(f, "%%OpenBCI Raw EEG Data%s", ends[e][line++ % 3]);
        fprintf(f, "%%Number of channels = 8%s%%Sample Rate = 250.0 Hz%s", ends[e][line % 3],
                ends[e][(line + 1) % 3]);
        line += 2;
        for (int i = 0; i < 3000; i++)
            fprintf(f, "%d, %d, 2, 3, %s4, 5, 6, 7, 8, 0, 0, 0%s", i % 256, i, i == 1 ? "x" : "",
                    ends[e][line++ % 3]);
        fclose(f);
        dw_err err = { 0 };
        dw_source *s = dw_openbci_text_open(path, NULL, &err);
        memset(&t[e], 0, sizeof t[e]);
        if (!s) {
            FAIL(names[e], "open: %s", err.msg);
            snprintf(note[e], sizeof note[e], "not opened"), snprintf(msg[e], sizeof msg[e], "-");
            continue;
        }
        read_all(s, 97, &t[e]);
        snprintf(note[e], sizeof note[e], "%s", s->info.note);
        snprintf(msg[e], sizeof msg[e], "%s", s->err.msg);
        dw_block b;
        if (s->ops->seek(s, 2500 / 250.0) == 0 && s->ops->read(s, &b, 1, 0) == 1)
            after_seek[e] = b.uv[0];
        dw_source_close(s);
    }
    char want[256];
    snprintf(want, sizeof want, "%s:5: column 5: not a number", path);
    CHECK("line ends: LF reference, 2999 samples, the bad line 5 a one-sample gap",
          t[0].n == 2999 && t[0].lost == 1 && strstr(msg[0], want) && after_seek[0] == 2500,
          "n %ld lost %ld \"%s\" seek %g", t[0].n, t[0].lost, msg[0], after_seek[0]);
    for (int e = 1; e < 3; e++) {
        char name[160];
        snprintf(name, sizeof name, "line ends, %s: the LF file's samples, notes, seeking, line 5",
                 names[e]);
        CHECK(name, t[e].n == t[0].n && t[e].lost == t[0].lost && t[e].uv && t[0].uv &&
              !memcmp(t[e].uv, t[0].uv, (size_t)t[0].n * 8 * sizeof *t[0].uv) &&
              !strcmp(note[e], note[0]) &&
              strstr(msg[e], want) && after_seek[e] == 2500,
              "n %ld lost %ld note \"%s\" err \"%s\" seek %g", t[e].n, t[e].lost, note[e], msg[e],
              after_seek[e]);
    }
    for (int e = 0; e < 3; e++)
        free(t[e].uv);
    /* a CR-only file of nothing but bad lines: refused naming its line 3, not line 0 */
    write_file(path, "%OpenBCI Raw EEG Data\rfoo, bar\r1, 2\r");
    dw_err err = { 0 };
    dw_source *s = dw_openbci_text_open(path, NULL, &err);
    CHECK("line ends, CR only: an error names the line as a person counts it",
          !s && strstr(err.msg, "x.txt:3: 2 columns"), "%s", s ? "opened" : err.msg);
    dw_source_close(s);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    start_clock();
    line_ends();
    bad_lines();
    ganglion();
    gui_pause();
    sd_tails();
    sd_stale();
    sd_jump_inside();
    sd_stamps();
    sd_stop_stale();
    sd_footer_clock();
    const char *dir = tap_shared_data();
    if (!dir) {
        SKIP("openbci real files", "no ../shared/data (set DW_SHARED_DATA)");
        TAP_DONE();
    }
    same_session(dir);
    raw_v1(dir);
    gui_2024(dir);
    sd_card(dir);
    seeking(dir);
    real_cycles(dir);
    TAP_DONE();
}
