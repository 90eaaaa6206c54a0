/* Whole-record sample reads (edf/edf_records.h) give EDFlib's values to the last bit: every sample
 * of every signal of real files (EDFlib-written EDF+ and BDF+ with mixed rates, units and physical
 * ranges, the sample night, a plain EDF written byte by byte with stored values beyond its digital
 * range, an inverted physical range and a signal labelled "EDF Annotations" that plain EDF treats
 * as data) is compared with edfread_physical_samples; a layout that does not match EDFlib's is
 * refused; a file shortened under the reader is a read error (EIO), also through the EDF source. */
#include "edf/edf_records.h"
#include "sources/source.h"
#include "edf_testfile.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>

static char dir[256], why[320];

static char *tmp(const char *name)
{
    static char p[4][400];
    static int k;
    char *s = p[k++ % 4];
    snprintf(s, 400, "%s/%s", dir, name);
    return s;
}

static double wave(int sig, double t)
{
    switch (sig) {
    case 0: return 50 * sin(2 * M_PI * 10 * t) + 3 * fmod(t, 1.7);
    case 1: return 0.040 * sin(2 * M_PI * 3 * t + 0.5);
    case 2: return 36.6 + 0.01 * t;
    default: return 0.6 * sin(2 * M_PI * 1.3 * t) + 0.01 * fmod(t, 7);   /* beyond +-0.5: clipped */
    }
}

/* A plain EDF, 3 signals, 7 records of 1 s, written byte by byte: signal 0 "EEG Fpz-Cz" (100
 * samples, digital -2000..2000 but values stored from -3000 to 3000 in steps: EDFlib clamps them),
 * signal 1 "EDF Annotations" (plain EDF: an ordinary signal, 10 samples), signal 2 "EEG Pz-Oz" with
 * an inverted physical range (+300 .. -300 uV) and an odd 37 samples per record. */
static int write_plain(const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    static const char *const label[3] = { "EEG Fpz-Cz", "EDF Annotations", "EEG Pz-Oz" };
    static const int spr[3] = { 100, 10, 37 }, dmin[3] = { -2000, -32768, -32768 }, dmax[3] = { 2000, 32767, 32767 };
    static const char *const pmin[3] = { "-600", "-1", "300" }, *const pmax[3] = { "600", "1", "-300" };
    fprintf(f, "%-8s%-80s%-80s%-8s%-8s%-8d%-44s%-8d%-8s%-4d", "0", "X", "X", "09.03.24", "22.45.10", 256 * 4, "", 7,
            "1", 3);
    for (int i = 0; i < 3; i++) fprintf(f, "%-16s", label[i]);
    for (int i = 0; i < 3; i++) fprintf(f, "%-80s", "");
    for (int i = 0; i < 3; i++) fprintf(f, "%-8s", "uV");
    for (int i = 0; i < 3; i++) fprintf(f, "%-8s", pmin[i]);
    for (int i = 0; i < 3; i++) fprintf(f, "%-8s", pmax[i]);
    for (int i = 0; i < 3; i++) fprintf(f, "%-8d", dmin[i]);
    for (int i = 0; i < 3; i++) fprintf(f, "%-8d", dmax[i]);
    for (int i = 0; i < 3; i++) fprintf(f, "%-80s", "");
    for (int i = 0; i < 3; i++) fprintf(f, "%-8d", spr[i]);
    for (int i = 0; i < 3; i++) fprintf(f, "%-32s", "");
    uint32_t x = 12345;
    for (int r = 0; r < 7; r++)
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < spr[s]; i++) {
                x = x * 1103515245u + 12345u;
                int v = s == 0 ? -3000 + (r * 100 + i) * 6000 / 699 : (int)(x >> 16) - 32768;
                fputc(v & 0xff, f);
                fputc((v >> 8) & 0xff, f);
            }
    return fclose(f);
}

/* Every sample of every signal through both readers, in pieces of `piece` samples; the number of
 * samples compared, or -1 after printing the first difference. */
static long compare_file(const char *path, int piece)
{
    static struct edf_hdr_struct h;
    if (edfopen_file_readonly(path, &h, EDFLIB_READ_ALL_ANNOTATIONS)) {
        printf("# EDFlib cannot open %s (%d)\n", path, h.filetype);
        return -1;
    }
    int fd = open(path, O_RDONLY);
    dw_edf_records *r = dw_edf_records_new(fd, &h, why, sizeof why);
    long total = 0;
    double *a = malloc(sizeof(double) * (size_t)piece), *b = malloc(sizeof(double) * (size_t)piece);
    for (int s = 0; r && a && b && s < h.edfsignals && total >= 0; s++) {
        long long n = h.signalparam[s].smp_in_file, at = 0;
        edfseek(h.handle, s, 0, EDFSEEK_SET);
        while (at < n && total >= 0) {
            int k1 = edfread_physical_samples(h.handle, s, piece, a);
            int k2 = dw_edf_records_read(r, s, at, piece, 1.0, b);
            if (k1 != k2 || k1 <= 0) {
                printf("# %s signal %d at %lld: EDFlib read %d, records %d\n", path, s, at, k1, k2);
                total = -1;
                break;
            }
            for (int i = 0; i < k1; i++)
                if (memcmp(&a[i], &b[i], sizeof a[i])) {
                    printf("# %s signal %d sample %lld: EDFlib %.17g, records %.17g\n", path, s, at + i, a[i], b[i]);
                    total = -1;
                    break;
                }
            at += k1;
            total += total >= 0 ? k1 : 0;
        }
        double one;
        if (total >= 0 && dw_edf_records_read(r, s, n, 1, 1.0, &one) != 0)
            total = -1, printf("# %s signal %d: a read past the end gave samples\n", path, s);
    }
    if (!r)
        printf("# %s: the record reader refused the file\n", path);
    free(a);
    free(b);
    dw_edf_records_free(r);
    close(fd);
    edfclose_file(h.handle);
    return r ? total : -1;
}

/* how: "" (16-bit values four at a time with AVX when the processor has it) or the other way's name */
static void test_same_values(const char *how)
{
    char name[128];
#define NAMED(base) (snprintf(name, sizeof name, "%s%s", base, how), name)
    static const tf_signal edf_sigs[] = {
        { "EEG Fpz-Cz", "uV", 256, -500, 500, wave },
        { "EEG Pz-Oz", "mV", 200, -0.5, 0.5, wave },
        { "Temp rectal", "DegC", 1, 30, 45, wave },
        { "EEG C3-A2", "mV", 100, -0.5, 0.5, wave },
    };
    static const tf_signal bdf_sigs[] = {
        { "EEG Fp1", "uV", 125, -187500, 187500, wave },
        { "EEG O1", "V", 512, -0.1875, 0.1875, wave },
        { "Temp", "DegC", 3, 30, 45, wave },
    };
    static const tf_annot an[] = { { 12.5, 30, "Sleep stage W" }, { 40, 0, "Lights off" } };
    char *e = tmp("a.edf"), *b = tmp("b.bdf"), *p = tmp("plain.edf");
    long n = 0;
    CHECK(NAMED("records_edfplus_mixed_rates"), !tf_write(e, EDFLIB_FILETYPE_EDFPLUS, edf_sigs, 4, 61, an, 2) &&
          (n = compare_file(e, 997)) == 61L * (256 + 200 + 1 + 100), "EDF+ file: %ld samples agree", n);
    CHECK(NAMED("records_bdfplus_mixed_rates"), !tf_write(b, EDFLIB_FILETYPE_BDFPLUS, bdf_sigs, 3, 45, an, 2) &&
          (n = compare_file(b, 1000)) == 45L * (125 + 512 + 3), "BDF+ file: %ld samples agree", n);
    CHECK(NAMED("records_bdfplus_small_pieces"), (n = compare_file(b, 7)) == 45L * (125 + 512 + 3),
          "BDF+ file read 7 samples at a time: %ld samples agree", n);
    CHECK(NAMED("records_plain_edf_clamped_inverted"), !write_plain(p) && (n = compare_file(p, 64)) == 7L * 147,
          "plain EDF (clamped values, inverted range, a data signal named \"EDF Annotations\"): %ld agree", n);
    const char *night = DW_SRCDIR "/sample-data/sample-night.edf";
    if (access(night, R_OK) == 0)
        CHECK(NAMED("records_sample_night"), (n = compare_file(night, 6000)) == 2L * 900 * 3000,
              "the sample night: %ld samples agree", n);
    else
        SKIP(NAMED("records_sample_night"), "%s missing (run make)", night);
#undef NAMED
}

/* The layout comes from the descriptor, EDFlib's figures from the header: two different files
 * disagree. */
static void test_refuses_mismatch(void)
{
    static struct edf_hdr_struct h;
    int ok = !edfopen_file_readonly(tmp("a.edf"), &h, EDFLIB_READ_ALL_ANNOTATIONS);
    int fd = open(tmp("b.bdf"), O_RDONLY);
    dw_edf_records *r = ok ? dw_edf_records_new(fd, &h, why, sizeof why) : NULL;
    CHECK("records_refuse_other_layout", ok && fd >= 0 && !r, "a reader was made for a file EDFlib did not open");
    dw_edf_records_free(r);
    close(fd);
    if (ok)
        edfclose_file(h.handle);
    CHECK("records_refuse_bad_fd", !dw_edf_records_new(-1, &h, why, sizeof why), "a reader without a descriptor");
}

/* A file cut short after it was opened: EIO from the reader, a read error naming the channel from
 * the source. */
static void test_shortened(void)
{
    static struct edf_hdr_struct h;
    static const tf_signal sigs[] = { { "EEG Fpz-Cz", "uV", 100, -500, 500, wave },
                                      { "EEG Pz-Oz", "uV", 100, -500, 500, wave } };
    char *path = tmp("short.edf");
    int ok = !tf_write(path, EDFLIB_FILETYPE_EDFPLUS, sigs, 2, 7200, NULL, 0) &&
             !edfopen_file_readonly(path, &h, EDFLIB_DO_NOT_READ_ANNOTATIONS);
    int fd = open(path, O_RDONLY);
    dw_edf_records *r = ok ? dw_edf_records_new(fd, &h, why, sizeof why) : NULL;
    static double x[720000];
    int k = r ? dw_edf_records_read(r, 0, 0, 1000, 1.0, x) : -2;
    if (truncate(path, 256 * 4 + 100000) != 0)
        ok = 0;
    int k2 = r ? dw_edf_records_read(r, 1, 700000, 100, 1.0, x) : -2;
    CHECK("records_shortened_eio", ok && k == 1000 && k2 == -1 && errno == EIO,
          "reads gave %d then %d (errno %d)", k, k2, errno);
    dw_edf_records_free(r);
    close(fd);
    if (ok)
        edfclose_file(h.handle);

    /* through the source: the read error names the file and the channel */
    ok = !tf_write(path, EDFLIB_FILETYPE_EDFPLUS, sigs, 2, 7200, NULL, 0);
    dw_err err = { 0 };
    dw_source *s = ok ? dw_edf_open(path, NULL, &err) : NULL;
    dw_block blk;
    int got = s ? s->ops->read(s, &blk, 3000, 0) : -9;
    if (truncate(path, 256 * 4 + 100000) != 0)
        ok = 0;
    int rc = 0;
    while (s && (rc = s->ops->read(s, &blk, 6000, 0)) > 0)
        ;
    CHECK("records_shortened_source_error", ok && got == 3000 && rc == DW_SRC_ERR &&
          tf_contains(s->err.msg, "read error in channel") && tf_contains(s->err.msg, path),
          "first read %d, last %d: %s", got, rc, s ? s->err.msg : err.msg);
    dw_source_close(s);
}

/* The time-keeping of file path read by the record reader: its message for the first fault (record
 * 1 at open, any other as it is read), or "" when every record reads. EDFlib opens twin, a file of
 * the same layout (EDFlib itself refuses a record 1 out of time, even without the annotations). */
static void reader_why(const char *path, const char *twin, char *out, size_t cap)
{
    static struct edf_hdr_struct h;
    static double x[600];
    out[0] = 0;
    if (edfopen_file_readonly(twin, &h, EDFLIB_DO_NOT_READ_ANNOTATIONS)) {
        snprintf(out, cap, "EDFlib refused %s without annotations (%d)", twin, h.filetype);
        return;
    }
    int fd = open(path, O_RDONLY);
    dw_edf_records *r = dw_edf_records_new(fd, &h, why, sizeof why);
    if (!r)
        snprintf(out, cap, "%s", why);
    else if (dw_edf_records_read(r, 0, 0, 600, 1.0, x) < 0)
        snprintf(out, cap, "%s", dw_edf_records_why(r));
    dw_edf_records_free(r);
    close(fd);
    edfclose_file(h.handle);
}

/* One time-keeping fault, one message: a continuous file (EDF+C, BDF+C) with one record 1 s out of
 * time is named in the same words by the record reader and by the open that has EDFlib read every
 * annotation (EDFlib refuses the file; the source finds the record), and by the EDF source. */
static void test_same_fault_same_message(void)
{
    static const tf_signal sigs[] = { { "EEG Fpz-Cz", "uV", 100, -500, 500, wave } };
    /* Header 3 * 256 bytes; a record: 100 samples, then the annotation signal's 60 bytes. */
    static const struct { const char *name; int bdf; double on[6]; const char *want; } cases[] = {
        { "records_tk_same_message_late", 0, { 0, 1, 3, 3, 4, 5 }, "data record 3 (byte 1488)" },
        { "records_tk_same_message_bdf", 1, { 0, 1, 1, 3, 4, 5 }, "data record 3 (byte 1788)" },
        { "records_tk_same_message_first", 0, { 1, 1, 2, 3, 4, 5 }, "data record 1 (byte 968)" },
    };
    static const double good[6] = { 0, 1, 2, 3, 4, 5 };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int bdf = cases[k].bdf;
        const char *want = cases[k].want;
        char *path = tmp(bdf ? "tk.bdf" : "tk.edf"), *twin = tmp(bdf ? "twin.bdf" : "twin.edf");
        char rd[320], src[600] = "", note[600];
        static struct edf_hdr_struct h;
        dw_err err = { 0 }, oerr = { 0 };
        int ok = !tf_write_discontinuous(path, bdf, sigs, 1, 1, cases[k].on, 6, NULL, 60) &&
                 !tf_write_discontinuous(twin, bdf, sigs, 1, 1, good, 6, NULL, 60);
        for (int i = 0; i < 2 && ok; i++) {
            FILE *f = fopen(i ? twin : path, "r+b");
            ok = f && fseek(f, 192, SEEK_SET) == 0 && fputs(bdf ? "BDF+C" : "EDF+C", f) >= 0;
            if (f)
                fclose(f);
        }
        reader_why(path, twin, rd, sizeof rd);
        int fh = ok ? dw_edf_open_checked(path, &h, note, sizeof note, &oerr) : -1;
        if (fh >= 0)
            edfclose_file(fh);
        const char *at_open = !strncmp(oerr.msg, path, strlen(path)) ? oerr.msg + strlen(path) : "";
        dw_source *s = ok ? dw_edf_open(path, NULL, &err) : NULL;
        dw_block blk;
        while (s && s->ops->read(s, &blk, 600, 0) > 0)
            ;
        snprintf(src, sizeof src, "%s", s ? s->err.msg : err.msg);
        size_t n = strlen(rd), m = strlen(src);
        CHECK(cases[k].name, ok && fh < 0 && rd[0] && !strncmp(rd, want, strlen(want)) &&
              !strncmp(at_open, ": ", 2) && !strcmp(at_open + 2, rd) && m > n &&
              !strcmp(src + m - n, rd),
              "\n#   reader: %s\n#   open:   %s\n#   source: %s", rd, oerr.msg, src);
        dw_source_close(s);
    }
}

int main(void)
{
    if (tf_mkdtemp(dir, sizeof dir, "records")) {
        FAIL("records_setup", "cannot make a temporary directory");
        return 1;
    }
    /* the same bits whichever way the 16-bit values are decoded */
    int avx = dw_simd_allow(1);
    test_same_values("");
    dw_simd_allow(0);
    test_same_values(avx ? " (one value at a time)" : "");
    dw_simd_allow(1);
    test_refuses_mismatch();
    test_shortened();
    test_same_fault_same_message();
    tf_rmdir(dir);
    TAP_DONE();
}
