/* Recorder and recover: real BDF+ files written through dw_recorder and read back with EDFlib, a real
 * SIGKILL in the middle of a recording, and a real full disk (tmpfs, or RLIMIT_FSIZE). */
#include "record/recorder.h"
#include "edf/edf_annot.h"
#include "app/commands.h"
#include "tap.h"

#include <dirent.h>

#include <edflib.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define STEP_UV (375000.0 / 16777214.0)   /* one BDF count over +-187500 uV */

static char tmpdir[64];

/* The sample the tests write: channel c, frame k (large DC offsets, as OpenBCI gives). */
static double sample(int c, long k)
{
    return (c - 3.5) * 40000.0 + 150.0 * sin(0.05 * k * (c + 1)) + (k % 7) * 0.3;
}

static dw_source_info make_info(int nch, double fs)
{
    dw_source_info info;
    memset(&info, 0, sizeof info);
    info.nch = nch;
    info.fs = fs;
    for (int c = 0; c < nch; c++)
        snprintf(info.label[c], DW_LABEL_LEN, "Ch%d", c + 1);
    return info;
}

/* Writes frames [k0, k0 + n) of sample() as one block. */
static int put(dw_recorder *r, int nch, long k0, int n, long gap, const double *acc)
{
    static double buf[4096 * DW_MAX_CH];
    for (int i = 0; i < n; i++)
        for (int c = 0; c < nch; c++)
            buf[i * nch + c] = sample(c, k0 + i);
    dw_block b = { .n = n, .uv = buf, .gap = gap };
    if (acc) {
        b.accel_valid = 1;
        memcpy(b.accel, acc, sizeof b.accel);
    }
    return dw_recorder_write(r, &b);
}

/* The header as bytes: record count field, header size, bytes per record (computed here, not by the
 * code under test). */
typedef struct { long long count, hdr, rec, size; } bytes_view;
static int view(const char *path, bytes_view *v)
{
    char h[256], f[9] = { 0 };
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || pread(fd, h, 256, 0) != 256 || fstat(fd, &st))
        return (fd >= 0 ? close(fd) : 0), -1;
    memcpy(f, h + 236, 8);
    v->count = strtoll(f, NULL, 10);
    memcpy(f, h + 184, 8);
    v->hdr = strtoll(f, NULL, 10);
    memcpy(f, h + 252, 4);
    f[4] = 0;
    int ns = atoi(f);
    char *spr = malloc((size_t)ns * 8 + 1);
    if (pread(fd, spr, (size_t)ns * 8, 256 + ns * 216) != ns * 8)
        ns = 0;
    v->rec = 0;
    for (int i = 0; i < ns; i++) {
        memcpy(f, spr + i * 8, 8);
        f[8] = 0;
        v->rec += 3 * atoll(f);
    }
    free(spr);
    v->size = st.st_size;
    close(fd);
    return 0;
}

static int header_consistent(const char *path)
{
    bytes_view v;
    return view(path, &v) == 0 && v.rec > 0 && (v.size - v.hdr) % v.rec == 0 && v.count == (v.size - v.hdr) / v.rec;
}

static int has_annotation(int h, long long n, const char *text, double onset_s)
{
    struct edf_annotation_struct a;
    for (long long i = 0; i < n; i++) {
        if (edf_get_annotation(h, (int)i, &a))
            continue;
        size_t len = strlen(a.annotation);       /* EDFlib may hand back a trailing space */
        while (len && a.annotation[len - 1] == ' ')
            a.annotation[--len] = 0;
        if (!strcmp(a.annotation, text) && (onset_s < 0 || fabs(a.onset / 1e7 - onset_s) < 1e-3))
            return 1;
    }
    return 0;
}

/* ---- the BDF+ annotations rejoined here, by the rule as README states it, not by the code under test:
 * pieces "(k/n) text" with the same onset, duration and n, in the order of k. ---- */
typedef struct { long long onset, dur; char text[8192]; int n, got; } whole_text;
typedef struct { whole_text *v; int n; int pieces, over40, bad_utf8; } annots;

/* A whole UTF-8 sequence at every character: no character cut. */
static int utf8_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; ) {
        int n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
        if (!n)
            return 0;
        for (int i = 1; i < n; i++)
            if ((p[i] & 0xc0) != 0x80)
                return 0;
        p += n;
    }
    return 1;
}

/* Every annotation of the open file h, pieces rejoined; a set with a piece missing or twice stays out
 * (got < n). */
static void read_whole(int h, long long n, annots *a)
{
    memset(a, 0, sizeof *a);
    a->v = calloc((size_t)n + 1, sizeof *a->v);
    for (long long i = 0; i < n; i++) {
        struct edf_annotation_struct e;
        if (edf_get_annotation(h, (int)i, &e))
            continue;
        a->pieces++;
        a->over40 += strlen(e.annotation) > 40;
        a->bad_utf8 += !utf8_ok(e.annotation);
        int k = 0, np = 0, off = 0;
        if (sscanf(e.annotation, "(%d/%d)%n", &k, &np, &off) < 2 || off == 0 || e.annotation[off] != ' ' ||
            k < 1 || k > np)
            k = np = 1, off = -1;
        off++;                                  /* past the prefix's space */
        whole_text *w = NULL;
        for (int j = 0; j < a->n && !w; j++)
            if (a->v[j].onset == e.onset && a->v[j].dur == e.duration_l && a->v[j].n == np && np > 1 &&
                a->v[j].got == k - 1)
                w = &a->v[j];
        if (!w) {
            w = &a->v[a->n++];
            *w = (whole_text){ .onset = e.onset, .dur = e.duration_l, .n = np };
        }
        if (w->got == k - 1) {                  /* pieces come in order here (one annotation signal) */
            strncat(w->text, e.annotation + off, sizeof w->text - strlen(w->text) - 1);
            w->got++;
        }
    }
}

/* How many whole texts equal text (one line: control bytes as spaces, trailing spaces off) at onset_s. */
static int count_whole(const annots *a, const char *text, double onset_s)
{
    char want[8192];
    size_t n = 0;
    for (; text[n] && n < sizeof want - 1; n++)
        want[n] = (unsigned char)text[n] < 32 ? ' ' : text[n];
    while (n && want[n - 1] == ' ')
        n--;
    want[n] = 0;
    int c = 0;
    for (int i = 0; i < a->n; i++) {
        char t[8192];
        snprintf(t, sizeof t, "%s", a->v[i].text);
        for (size_t l = strlen(t); l && t[l - 1] == ' '; l--)
            t[l - 1] = 0;
        c += a->v[i].got == a->v[i].n && !strcmp(t, want) && fabs(a->v[i].onset / 1e7 - onset_s) < 1e-3;
    }
    return c;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    s[fread(s, 1, (size_t)n, f)] = 0;
    fclose(f);
    return s;
}

static int copy_file(const char *from, const char *to)
{
    char *s = NULL;
    FILE *f = fopen(from, "rb"), *g = fopen(to, "wb");
    long n = -1;
    if (f && g && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && (s = malloc((size_t)n + 1))) {
        rewind(f);
        n = (long)fread(s, 1, (size_t)n, f) == n && (long)fwrite(s, 1, (size_t)n, g) == n ? 0 : -1;
    }
    free(s);
    if (f)
        fclose(f);
    if (g && fclose(g))
        n = -1;
    return n == 0 ? 0 : -1;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static const char long_text[] = "Dream report: I was in a house by the sea,\n\tthe rooms kept changing; "
                                "a dog spoke \\ to me. Ünïcödé at the cut: ééééééé";

static void round_trip(void)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/rt/night", tmpdir);
    dw_source_info info = make_info(8, 250);
    dw_err err = { 0 };
    mode_t old = umask(0);            /* the modes must not depend on the umask */
    dw_recorder *r = dw_recorder_open(dir, "S 01/x", &info, 1, &err);
    umask(old);
    if (!r) {
        FAIL("recorder open", "%s", err.msg);
        return;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s", dw_recorder_path(r));
    struct stat st, sd;
    const char *base = strrchr(path, '/') + 1;
    CHECK("recorder: name subject-YYYYMMDD-HHMMSS.bdf", !strncmp(base, "S_01_x-", 7) && strlen(base) == 26 &&
          !strcmp(base + 22, ".bdf") && base[15] == '-', "%s", base);
    CHECK("recorder: file 0600, new folder 0700 (umask 0)", stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 &&
          stat(dir, &sd) == 0 && (sd.st_mode & 0777) == 0700, "%o %o", st.st_mode & 0777, sd.st_mode & 0777);

    double acc1[3] = { 0.5, -0.25, 1.0 }, acc2[3] = { -1, 2, 3.5 };
    long k = 0;
    int rc = 0;
    static const int sizes[] = { 1, 7, 250, 100, 33, 609, 1000 };
    for (int i = 0; k < 2625; i++) {             /* 10.5 s */
        int n = sizes[i % 7] < 2625 - k ? sizes[i % 7] : (int)(2625 - k);
        rc |= put(r, 8, k, n, 0, k == 0 ? acc1 : k == 1000 ? acc2 : NULL);
        k += n;
        if (k >= 750 && k < 760) {               /* 3 records on disk, the 4th in memory */
            bytes_view v;
            CHECK("recorder: header count current while recording", view(path, &v) == 0 && v.count == 3 &&
                  v.size == v.hdr + 3 * v.rec, "count %lld size %lld", v.count, v.size);
        }
    }
    rc |= dw_recorder_annotate(r, 2.5, -1, "lights off");
    rc |= dw_recorder_annotate(r, 4.25, 30, long_text);
    CHECK("recorder: writes and annotations return 0", rc == 0, "%s", dw_recorder_error(r));
    CHECK("recorder: bytes so far", dw_recorder_bytes(r) > 10 * 6000, "%lld", dw_recorder_bytes(r));
    CHECK("recorder: close", dw_recorder_close(r, &err) == 0, "%s", err.msg);

    struct edf_hdr_struct h;
    if (edfopen_file_readonly(path, &h, EDFLIB_READ_ALL_ANNOTATIONS)) {
        FAIL("recorder: EDFlib reads the file", "error %d", h.filetype);
        return;
    }
    /* 0.2-s records: a crash loses less than one (1-s records lost up to a second) */
    CHECK("recorder: BDF+, 8 + 3 signals, 53 records of 0.2 s (last padded)",
          h.filetype == EDFLIB_FILETYPE_BDFPLUS && h.edfsignals == 11 && h.datarecords_in_file == 53 &&
          h.datarecord_duration == 2000000 && h.signalparam[0].smp_in_datarecord == 50 &&
          h.signalparam[8].smp_in_datarecord == 5 && !strncmp(h.signalparam[8].label, "AccX", 4),
          "type %d ns %d recs %lld", h.filetype, h.edfsignals, h.datarecords_in_file);
    double *x = malloc(2750 * sizeof *x), worst = 0;
    for (int c = 0; c < 8; c++) {
        int n = edfread_physical_samples(h.handle, c, 2750, x);
        for (int i = 0; i < n; i++)
            worst = fmax(worst, fabs(x[i] - sample(c, i < 2625 ? i : 2624)));
    }
    CHECK("recorder: samples within one count (0.0224 uV), padding holds the last value", worst <= STEP_UV * 1.001,
          "worst %.5f uV", worst);
    int n = edfread_physical_samples(h.handle, 9, 265, x);
    /* AccY: -0.25 g from frame 0, 2 g from frame 1000 = accel sample 100 */
    CHECK("recorder: accelerometer held at 25 Hz", n == 265 && fabs(x[0] + 0.25) < 1e-5 && fabs(x[99] + 0.25) < 1e-5
          && fabs(x[100] - 2) < 1e-5 && fabs(x[264] - 2) < 1e-5, "n=%d %g %g %g", n, x[0], x[99], x[100]);
    free(x);
    annots a;
    read_whole(h.handle, h.annotations_in_file, &a);
    CHECK("recorder: annotations in the BDF+, the long text whole from its pieces", a.n == 3 &&
          count_whole(&a, "lights off", 2.5) == 1 && count_whole(&a, long_text, 4.25) == 1 &&
          count_whole(&a, "End padded 0.10 s", 10.5) == 1, "%d texts from %d annotations", a.n, a.pieces);
    CHECK("recorder: no annotation over 40 bytes, none with a cut character", a.pieces > 3 && !a.over40 &&
          !a.bad_utf8, "%d pieces, %d over 40, %d cut", a.pieces, a.over40, a.bad_utf8);
    free(a.v);
    edfclose_file(h.handle);

    char tsv[1100];
    snprintf(tsv, sizeof tsv, "%s.events.tsv", path);
    char *log = slurp(tsv), *line2 = log ? strstr(log, "4.2500\t30.0000\t") : NULL;
    int full = 0;
    if (line2) {
        line2 += strlen("4.2500\t30.0000\t");
        *strchr(line2, '\n') = 0;
        dw_events_unescape(line2);
        full = !strcmp(line2, long_text);
    }
    CHECK("recorder: side log keeps the full text, escaped on one line", full, "%s", log ? log : "no log");
    free(log);
    CHECK("recorder: side log 0600", stat(tsv, &st) == 0 && (st.st_mode & 0777) == 0600, "%o", st.st_mode & 0777);

    /* A second recording in the same second gets -2; the first is untouched. */
    char *first = slurp(path);
    stat(path, &st);
    long long first_size = st.st_size;
    r = dw_recorder_open(dir, "S 01/x", &info, 0, &err);
    dw_recorder *r3 = dw_recorder_open(dir, "S 01/x", &info, 0, &err);
    if (r && r3) {
        char *now = slurp(path);
        CHECK("recorder: never overwrites (-2, -3 on a clash)", strcmp(dw_recorder_path(r), path) &&
              strcmp(dw_recorder_path(r3), path) && strcmp(dw_recorder_path(r3), dw_recorder_path(r)) &&
              stat(path, &st) == 0 && st.st_size == first_size && now && !memcmp(now, first, (size_t)first_size),
              "%s / %s", dw_recorder_path(r), dw_recorder_path(r3));
        free(now);
    } else {
        FAIL("recorder: second open", "%s", err.msg);
    }
    free(first);
    dw_recorder_close(r, NULL);
    dw_recorder_close(r3, NULL);
}

/* A 200-byte marker with 2-, 3- and 4-byte characters where a 40-byte cut would fall inside them, and a
 * short text that looks like a piece, in 0.2-s records (one annotation signal) and 1-s records (four):
 * read back with EDFlib, each is whole again by the README's rule; no piece is over 40 bytes or ends
 * inside a character. The old recorder cut the marker to its first 40 bytes. */
static void long_marker(void)
{
    static const char marker[] = "Marker: the sleeper said \u00abtr\u00e8s \u00e9trange\u00bb \u2014 "
        "\u5922\u306e\u4e2d\u3067\u8d70\u3063\u3066\u3044\u305f \U0001F3C3\U0001F3C3 then turned over, "
        "and hummed \U0001D11E\U0001D11E\U0001D11E; \u00e9\u00e9\u00e9\u00e9\u00e9 twice, calm, "
        "lights dimmed at the end; the technician noted it at 03:12 and went on";
    static const char piece_like[] = "(1/2) not a piece";
    const double rates[2] = { 250, 333 };           /* 333 Hz: 1-s records, 4 annotation signals */
    for (int t = 0; t < 2; t++) {
        char dir[128];
        snprintf(dir, sizeof dir, "%s/long%d", tmpdir, t);
        dw_source_info info = make_info(2, rates[t]);
        dw_err err = { 0 };
        dw_recorder *r = dw_recorder_open(dir, "long", &info, 0, &err);
        if (!r) {
            FAIL("long marker: open", "%s", err.msg);
            return;
        }
        char path[1024];
        snprintf(path, sizeof path, "%s", dw_recorder_path(r));
        put(r, 2, 0, (int)rates[t] * 3, 0, NULL);
        int rc = dw_recorder_annotate(r, 1.5, -1, marker) | dw_recorder_annotate(r, 2.0, 5, piece_like);
        rc |= dw_recorder_close(r, &err);
        struct edf_hdr_struct h;
        if (rc || edfopen_file_readonly(path, &h, EDFLIB_READ_ALL_ANNOTATIONS)) {
            FAIL("long marker: written and read", "%s", err.msg);
            return;
        }
        annots a;
        read_whole(h.handle, h.annotations_in_file, &a);
        char name[128];
        snprintf(name, sizeof name, "long marker (%g Hz): %zu bytes whole again from its pieces, once", rates[t],
                 strlen(marker));
        CHECK(name, strlen(marker) >= 200 && count_whole(&a, marker, 1.5) == 1, "%d texts from %d annotations",
              a.n, a.pieces);
        snprintf(name, sizeof name, "long marker (%g Hz): no piece over 40 bytes, no character cut", rates[t]);
        CHECK(name, a.pieces >= 7 && !a.over40 && !a.bad_utf8, "%d pieces, %d over 40, %d cut", a.pieces,
              a.over40, a.bad_utf8);
        snprintf(name, sizeof name, "long marker (%g Hz): a short text that looks like a piece reads as itself",
                 rates[t]);
        CHECK(name, count_whole(&a, piece_like, 2.0) == 1 && a.n == 2, "%d texts", a.n);
        free(a.v);
        /* the project's own reader (hypnogram_io, recover) rejoins the same way */
        dw_annot v[64];
        long n = 0;
        for (long long i = 0; i < h.annotations_in_file && n < 64; i++) {
            struct edf_annotation_struct e;
            if (edf_get_annotation(h.handle, (int)i, &e) == 0)
                v[n++] = (dw_annot){ e.onset, e.duration_l, strdup(e.annotation) };
        }
        long m = dw_annot_join(v, (size_t)n);
        snprintf(name, sizeof name, "long marker (%g Hz): dw_annot_join gives the same texts", rates[t]);
        CHECK(name, m == 2 && !strcmp(v[1].text, piece_like) && v[0].text[0] == 'M' && strlen(v[0].text) ==
              strlen(marker), "%ld texts", m);
        for (long i = 0; i < (m < 0 ? n : m); i++)
            free(v[i].text);
        edfclose_file(h.handle);
    }
}

/* recover and pieces: a file that lost one piece of a long text (as a recover killed between two TALs
 * leaves one) gets that piece back and no other, so the text is whole once; a recording from before the
 * split (the text cut to 40 bytes, one annotation) is sound as it is, not given the text a second time. */
static void recover_pieces(void)
{
    static const char text[] = "Dream report: a corridor of doors, each one opened on the sea; \u00e9t\u00e9, "
                               "\u5922, and a dog that spoke";
    char dir[128], path[1024];
    snprintf(dir, sizeof dir, "%s/pieces", tmpdir);
    dw_source_info info = make_info(2, 250);
    dw_err err = { 0 };
    dw_recorder *r = dw_recorder_open(dir, "pieces", &info, 0, &err);
    if (!r) {
        FAIL("recover pieces: open", "%s", err.msg);
        return;
    }
    snprintf(path, sizeof path, "%s", dw_recorder_path(r));
    put(r, 2, 0, 750, 0, NULL);
    dw_recorder_annotate(r, 1.0, -1, text);
    dw_recorder_close(r, &err);
    char *b = slurp(path);
    struct stat st;
    stat(path, &st);
    char *two = b ? memmem(b, (size_t)st.st_size, "(2/", 3) : NULL, *tal = two;
    while (tal && tal > b && tal[-1] != 0)
        tal--;                                  /* the TAL's start: just past the previous one's NUL */
    int fd = open(path, O_WRONLY);
    static const char zero[64];
    size_t tl = tal ? strlen(tal) : 0;          /* "+1\x14(2/n) ...\x14", up to its NUL */
    int cut = tal && fd >= 0 && two - tal < 20 && tl < sizeof zero && pwrite(fd, zero, tl, tal - b) == (ssize_t)tl;
    close(fd);
    free(b);
    char *rep = NULL;
    size_t rn = 0;
    FILE *mem = open_memstream(&rep, &rn);
    int rc = dw_recover_file(path, mem, &err);
    fclose(mem);
    CHECK("recover pieces: one piece lost, one merged", cut && rc == 0 && rep &&
          strstr(rep, "1 annotations merged from the side log in place"), "cut %d rc %d: %s",
          cut, rc, rep && *rep ? rep : err.msg);
    free(rep);
    struct edf_hdr_struct h;
    annots a = { 0 };
    if (edfopen_file_readonly(path, &h, EDFLIB_READ_ALL_ANNOTATIONS) == 0) {
        read_whole(h.handle, h.annotations_in_file, &a);
        edfclose_file(h.handle);
    }
    CHECK("recover pieces: the text whole, once, nothing else", count_whole(&a, text, 1.0) == 1 && a.n == 1,
          "%d texts from %d annotations", a.n, a.pieces);
    free(a.v);

    /* before the split: the recorder wrote the text cut to 40 bytes */
    char old[1100], tsv[1200];
    snprintf(old, sizeof old, "%s/old.bdf", dir);
    snprintf(tsv, sizeof tsv, "%s.events.tsv", old);
    int hw = edfopen_file_writeonly(old, EDFLIB_FILETYPE_BDFPLUS, 1);
    int ok = hw >= 0 && !edf_set_samplefrequency(hw, 0, 50) && !edf_set_physical_maximum(hw, 0, 100) &&
             !edf_set_physical_minimum(hw, 0, -100) && !edf_set_digital_maximum(hw, 0, 8388607) &&
             !edf_set_digital_minimum(hw, 0, -8388608) && !edf_set_equipment(hw, "dreamwatch 0.1.0");
    double x[50] = { 0 };
    for (int i = 0; ok && i < 3; i++)
        ok = edfwrite_physical_samples(hw, x) == 0;
    char cut40[41];
    memcpy(cut40, text, 40);                    /* "Dream report: a corridor of doors, each " */
    cut40[40] = 0;
    ok = ok && edfwrite_annotation_utf8(hw, 10000, -1, cut40) == 0;
    if (hw >= 0)
        edfclose_file(hw);
    FILE *f = fopen(tsv, "w");
    ok = ok && f && fprintf(f, "onset_s\tduration_s\ttext\n1.0000\t-\t%s\n", text) > 0;
    if (f)
        fclose(f);
    char *before = slurp(old);
    struct stat s1, s2;
    stat(old, &s1);
    rep = NULL;
    mem = open_memstream(&rep, &rn);
    rc = dw_recover_file(old, mem, &err);
    fclose(mem);
    char *after = slurp(old);
    stat(old, &s2);
    CHECK("recover pieces: a recording from before the split is sound with its 40-byte cut, left as it is",
          ok && rc == 0 && rep && strstr(rep, "nothing to do") && before && after && s1.st_size == s2.st_size &&
          !memcmp(before, after, (size_t)s1.st_size),
          "ok %d rc %d: %s", ok, rc, rep ? rep : err.msg);
    free(rep);
    free(before);
    free(after);
}

/* A gap of 1 s is filled with the last value and annotated. */
static void gaps(void)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/gap", tmpdir);
    dw_source_info info = make_info(2, 100);
    dw_err err;
    dw_recorder *r = dw_recorder_open(dir, "g", &info, 0, &err);
    if (!r) {
        FAIL("gap: open", "%s", err.msg);
        return;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s", dw_recorder_path(r));
    put(r, 2, 0, 150, 0, NULL);
    put(r, 2, 250, 150, 100, NULL);        /* frames 150-249 lost */
    dw_recorder_close(r, &err);
    struct edf_hdr_struct h;
    if (edfopen_file_readonly(path, &h, EDFLIB_READ_ALL_ANNOTATIONS)) {
        FAIL("gap: EDFlib reads the file", "error %d", h.filetype);
        return;
    }
    double x[400];
    int n = edfread_physical_samples(h.handle, 1, 400, x);
    CHECK("gap: held at the last value, later samples in their place", n == 400 &&
          fabs(x[200] - sample(1, 149)) <= STEP_UV && fabs(x[260] - sample(1, 260)) <= STEP_UV &&
          fabs(x[149] - sample(1, 149)) <= STEP_UV, "n=%d", n);
    CHECK("gap: annotated \"Gap 1.000 s\" at 1.5 s", has_annotation(h.handle, h.annotations_in_file, "Gap 1.000 s",
          1.5), "%lld annotations", h.annotations_in_file);
    edfclose_file(h.handle);
}

/* Gaps told to the millisecond and nearby ones together: one lost frame at 250 Hz is "Gap 4 ms" (it was
 * "Gap 0.0 s"); two gaps 0.2 s apart are one annotation; a gap 6 s later is its own. */
static void small_gaps(void)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/smallgap", tmpdir);
    dw_source_info info = make_info(2, 250);
    dw_err err;
    dw_recorder *r = dw_recorder_open(dir, "g", &info, 0, &err);
    if (!r) {
        FAIL("small gaps: open", "%s", err.msg);
        return;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s", dw_recorder_path(r));
    put(r, 2, 0, 250, 0, NULL);
    put(r, 2, 251, 99, 1, NULL);           /* frame 250 lost */
    put(r, 2, 500, 100, 0, NULL);
    put(r, 2, 350, 150, 0, NULL);
    put(r, 2, 600, 100, 0, NULL);
    put(r, 2, 701, 49, 1, NULL);           /* 700: 1.8 s after the start */
    put(r, 2, 752, 248, 2, NULL);          /* 750-751 */
    put(r, 2, 1000, 1250, 0, NULL);
    put(r, 2, 2250 + 25, 225, 25, NULL);   /* 100 ms at 9 s */
    put(r, 2, 2500, 500, 0, NULL);
    dw_recorder_close(r, &err);
    struct edf_hdr_struct h;
    if (edfopen_file_readonly(path, &h, EDFLIB_READ_ALL_ANNOTATIONS)) {
        FAIL("small gaps: EDFlib reads the file", "error %d", h.filetype);
        return;
    }
    long long n = h.annotations_in_file;
    CHECK("small gaps: one lost frame is \"Gap 4 ms\" at 1.0 s (was \"Gap 0.0 s\")", has_annotation(h.handle, n, "Gap 4 ms", 1.0),
          "%lld annotations", n);
    CHECK("small gaps: the next two within a second are one annotation",
          has_annotation(h.handle, n, "Gaps 12 ms in 2 (over 208 ms)", 2.8), "%lld annotations", n);
    CHECK("small gaps: 100 ms lost 6 s later is its own", has_annotation(h.handle, n, "Gap 100 ms", 9.0) && n == 3,
          "%lld annotations", n);
    edfclose_file(h.handle);
}

/* Values beyond full scale are recorded at full scale with their sign (EDFlib converted 1e12 uV to an int
 * first: it came back as negative full scale); a value that is not a number holds the one before. */
static void full_scale(void)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/scale", tmpdir);
    dw_source_info info = make_info(1, 100);
    dw_err err;
    dw_recorder *r = dw_recorder_open(dir, "s", &info, 0, &err);
    if (!r) {
        FAIL("full scale: open", "%s", err.msg);
        return;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s", dw_recorder_path(r));
    double v[100];
    for (int i = 0; i < 100; i++)
        v[i] = i < 25 ? 1e12 : i < 50 ? -1e12 : i < 75 ? 1234.5 : NAN;
    dw_block b = { .n = 100, .uv = v };
    int rc = dw_recorder_write(r, &b);
    rc |= dw_recorder_close(r, &err);
    struct edf_hdr_struct h;
    double x[100];
    int ok = rc == 0 && edfopen_file_readonly(path, &h, EDFLIB_READ_ALL_ANNOTATIONS) == 0;
    int n = ok ? edfread_physical_samples(h.handle, 0, 100, x) : -1;
    CHECK("full scale: +1e12 uV is +187500, -1e12 is -187500, NaN holds the value before", n == 100 &&
          fabs(x[0] - 187500) < 1 && fabs(x[30] + 187500) < 1 && fabs(x[60] - 1234.5) < 0.1 && fabs(x[90] - 1234.5) < 0.1,
          "n=%d %.1f %.1f %.1f %.1f", n, n > 0 ? x[0] : 0, n > 0 ? x[30] : 0, n > 0 ? x[60] : 0, n > 0 ? x[90] : 0);
    if (ok)
        edfclose_file(h.handle);
}

/* A recording that got no data before it was closed (the board sent nothing, the operator shut down):
 * one padded record holds its annotations, and it reads (EDFlib wrote annotation-only records nothing
 * reads, and close failed). Found by fuzz_recorder. */
static void no_data(void)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/nodata", tmpdir);
    dw_source_info info = make_info(8, 250);
    dw_err err = { 0 };
    dw_recorder *r = dw_recorder_open(dir, "n", &info, 1, &err);
    if (!r) {
        FAIL("no data: open", "%s", err.msg);
        return;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s", dw_recorder_path(r));
    int rc = dw_recorder_annotate(r, 0, -1, "Session start, mode NATURAL");
    rc |= dw_recorder_annotate(r, 0, -1, "Recording stopped");
    rc |= dw_recorder_close(r, &err);
    struct edf_hdr_struct h;
    int ok = edfopen_file_readonly(path, &h, EDFLIB_READ_ALL_ANNOTATIONS) == 0;
    CHECK("no data: close succeeds and the file reads, one padded record with the annotations", rc == 0 && ok &&
          h.datarecords_in_file == 1 && has_annotation(h.handle, h.annotations_in_file, "Recording stopped", 0),
          "rc %d (%s), EDFlib %d", rc, err.msg, ok ? 0 : h.filetype);
    if (ok)
        edfclose_file(h.handle);
}

/* More events than EDFlib's 4 per record: close rewrites the file with all of them. */
static void many_events(void)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/many", tmpdir);
    dw_source_info info = make_info(1, 50);
    dw_err err = { 0 };
    dw_recorder *r = dw_recorder_open(dir, "m", &info, 0, &err);
    if (!r) {
        FAIL("many events: open", "%s", err.msg);
        return;
    }
    char path[1024], text[32];
    snprintf(path, sizeof path, "%s", dw_recorder_path(r));
    put(r, 1, 0, 150, 0, NULL);
    for (int i = 0; i < 30; i++) {
        snprintf(text, sizeof text, "marker %d", i);
        dw_recorder_annotate(r, i * 0.1, -1, text);
    }
    CHECK("many events: close", dw_recorder_close(r, &err) == 0, "%s", err.msg);
    struct edf_hdr_struct h;
    int missing = 30;
    if (edfopen_file_readonly(path, &h, EDFLIB_READ_ALL_ANNOTATIONS) == 0) {
        missing = 0;
        for (int i = 0; i < 30; i++) {
            snprintf(text, sizeof text, "marker %d", i);
            missing += !has_annotation(h.handle, h.annotations_in_file, text, i * 0.1);
        }
        edfclose_file(h.handle);
    }
    CHECK("many events: 30 in 3 records, none dropped", missing == 0, "%d missing", missing);
}

/* The child records with annotations and reports each confirmed annotation on a pipe; it is SIGKILLed
 * mid-recording. Every fourth event is long (pieces in the BDF+), with multibyte characters. */
#define LONG_TAIL " with a long tail\tthat the BDF+ once could not keep whole: r\u00eave \u00e9trange, " \
                  "\u5922 \U0001F319, and it goes on past eighty bytes"
static void crash_and_recover(void)
{
    char dir[128], path[1100] = "";
    snprintf(dir, sizeof dir, "%s/crash", tmpdir);
    int fds[2];
    if (pipe(fds))
        return;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        dw_source_info info = make_info(8, 250);
        dw_err err;
        dw_recorder *r = dw_recorder_open(dir, "crash", &info, 1, &err);
        if (!r)
            _exit(3);
        char line[1100];
        int len = snprintf(line, sizeof line, "P%s\n", dw_recorder_path(r));
        if (write(fds[1], line, (size_t)len) != len)
            _exit(4);
        for (long k = 0;; k += 125) {
            put(r, 8, k, 125, 0, NULL);
            if (k % 250 == 0) {                 /* an event every second, some long */
                char text[300];
                snprintf(text, sizeof text, "event %ld%s", k / 250, k % 1000 ? "" : LONG_TAIL);
                if (dw_recorder_annotate(r, k / 250.0 + 0.1, -1, text) == 0) {
                    len = snprintf(line, sizeof line, "A%ld\n", k / 250);
                    if (write(fds[1], line, (size_t)len) != len)
                        _exit(5);
                }
            }
            if (k >= 250 * 12)
                usleep(2000);                   /* 12 s written fast, then slowly until killed */
        }
    }
    close(fds[1]);
    FILE *in = fdopen(fds[0], "r");
    char line[1100];
    long confirmed = -1;
    while (fgets(line, sizeof line, in)) {
        if (line[0] == 'P') {
            snprintf(path, sizeof path, "%s", line + 1);
            path[strcspn(path, "\n")] = 0;
        }
        if (line[0] == 'A' && (confirmed = atol(line + 1)) >= 20) {
            kill(pid, SIGKILL);
            break;
        }
    }
    int status;
    waitpid(pid, &status, 0);
    while (fgets(line, sizeof line, in))        /* anything confirmed before the kill landed */
        if (line[0] == 'A')
            confirmed = atol(line + 1);
    fclose(in);
    CHECK("crash: child killed mid-recording", WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && path[0],
          "status %d", status);
    bytes_view v;
    CHECK("crash: header count == complete records on disk", header_consistent(path) && view(path, &v) == 0 &&
          v.count >= 20, "count %lld size %lld hdr %lld rec %lld", v.count, v.size, v.hdr, v.rec);
    struct edf_hdr_struct h;
    int opened = edfopen_file_readonly(path, &h, EDFLIB_READ_ALL_ANNOTATIONS) == 0;
    CHECK("crash: EDFlib already reads the file before recover", opened && h.datarecords_in_file == v.count,
          "error %d", h.filetype);
    if (opened)
        edfclose_file(h.handle);

    /* A torn last record as a crash inside write(2) would leave, and the count EDFlib starts with. */
    char torn[1150];
    snprintf(torn, sizeof torn, "%s/torn.bdf", dir);
    char cmd[1300], tsv1[1200], tsv2[1200];
    snprintf(tsv1, sizeof tsv1, "%s.events.tsv", path);
    snprintf(tsv2, sizeof tsv2, "%s.events.tsv", torn);
    int cp_ok = copy_file(path, torn) == 0 && copy_file(tsv1, tsv2) == 0;
    int fd = open(torn, O_WRONLY);
    static char junk[1 << 16];
    size_t half = (size_t)v.rec / 2 < sizeof junk ? (size_t)v.rec / 2 : sizeof junk;   /* half a record */
    memset(junk, 0x5a, sizeof junk);
    cp_ok &= fd >= 0 && lseek(fd, 0, SEEK_END) > 0 && write(fd, junk, half) == (ssize_t)half &&
             pwrite(fd, "-1      ", 8, 236) == 8;
    close(fd);

    char *argv[] = { "recover", path, NULL };
    CHECK("recover: exit 0", dw_cmd_recover(2, argv) == 0, "failed");
    opened = edfopen_file_readonly(path, &h, EDFLIB_READ_ALL_ANNOTATIONS) == 0;
    long missing = 0, twice = 0, logged = 0;
    annots a = { 0 };
    if (opened)
        read_whole(h.handle, h.annotations_in_file, &a);
    for (long e = 0; opened && e <= confirmed; e++) {
        char text[300];
        snprintf(text, sizeof text, "event %ld%s", e, e % 4 ? "" : LONG_TAIL);
        int c = count_whole(&a, text, e + 0.1);
        missing += c == 0;
        twice += c > 1;
    }
    char *side = slurp(tsv1);
    for (char *p = side; p && (p = strchr(p, '\n')) && p[1]; p++)
        logged++;                                           /* lines after the header */
    CHECK("recover: EDFlib reads it, every confirmed annotation is in, long ones whole", opened && confirmed >= 20 &&
          missing == 0 && h.datarecords_in_file == v.count, "opened %d, %ld of %ld missing", opened, missing,
          confirmed + 1);
    CHECK("recover: no event twice, nothing beyond the side log, no piece over 40 bytes or cut", twice == 0 &&
          a.n == logged && a.pieces > a.n && !a.over40 && !a.bad_utf8, "%ld twice, %d texts for %ld side-log "
          "lines, %d pieces, %d over 40, %d cut", twice, a.n, logged, a.pieces, a.over40, a.bad_utf8);
    free(side);
    free(a.v);
    if (opened) {
        double x[250];
        int n = edfread_physical_samples(h.handle, 5, 250, x);
        CHECK("recover: samples kept", n == 250 && fabs(x[17] - sample(5, 17)) <= STEP_UV, "n=%d", n);
        edfclose_file(h.handle);
    }
    struct stat st;
    CHECK("recover: result 0600, header consistent", stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 &&
          header_consistent(path), "%o", st.st_mode & 0777);
    char *before = slurp(path);
    stat(path, &st);
    long long size1 = st.st_size;
    CHECK("recover: a second run leaves the file alone", dw_cmd_recover(2, argv) == 0 && stat(path, &st) == 0 &&
          st.st_size == size1, "changed");
    char *after = slurp(path);
    CHECK("recover: ... byte for byte", before && after && !memcmp(before, after, (size_t)size1), "differs");
    free(before);
    free(after);

    char *argv2[] = { "recover", torn, NULL };
    bytes_view t;
    CHECK("recover: torn record dropped, count set", cp_ok && dw_cmd_recover(2, argv2) == 0 && view(torn, &t) == 0 &&
          t.count == v.count && t.size == t.hdr + t.count * t.rec, "count %lld size %lld", t.count, t.size);
    int left = 0;                               /* its temporary copies are TORN.recover-XXXXXX */
    snprintf(cmd, sizeof cmd, "%s", torn);
    char *slash = strrchr(cmd, '/');
    *slash = 0;
    DIR *dd = opendir(cmd);
    for (struct dirent *e; dd && (e = readdir(dd));)
        left += !strncmp(e->d_name, slash + 1, strlen(slash + 1)) && strstr(e->d_name, ".recover-");
    if (dd)
        closedir(dd);
    CHECK("recover: no temp files left", dd && left == 0, "%d left in %s", left, cmd);
}

/* In a child: record into dir until the disk is full, then check what is left; free room and resume. */
static int fill_disk(const char *dir, const char *why, const char *filler)
{
    int bad = 0;
    dw_source_info info = make_info(8, 250);
    dw_err err;
    dw_recorder *r = dw_recorder_open(dir, "full", &info, 1, &err);
    if (!r) {
        printf("FAIL disk full (%s): open: %s\n", why, err.msg);
        return 1;
    }
    dw_recorder_set_retry(r, 1e9);
    char path[1024];
    snprintf(path, sizeof path, "%s", dw_recorder_path(r));
    long k = 0;
    int rc = 0;
    for (; k < 250 * 120 && rc == 0; k += 50) {
        rc = put(r, 8, k, 50, 0, NULL);
        if (k % 500 == 0)
            dw_recorder_annotate(r, k / 250.0, -1, "tick");
    }
#define C(name, cond, ...) do { if (cond) printf("PASS %s (%s)\n", name, why); \
        else { bad++; printf("FAIL %s (%s): ", name, why); printf(__VA_ARGS__); printf("\n"); } } while (0)
    C("disk full: write returns -1 naming the file and the cause", rc == -1 && strstr(dw_recorder_error(r), why) &&
      strstr(dw_recorder_error(r), "full-"), "rc %d: %s", rc, dw_recorder_error(r));
    bytes_view v;
    C("disk full: header count == complete records", header_consistent(path) && view(path, &v) == 0 && v.count > 3,
      "count %lld size %lld", v.count, v.size);
    struct edf_hdr_struct h;
    int ok = edfopen_file_readonly(path, &h, EDFLIB_READ_ALL_ANNOTATIONS) == 0;
    double x[250];
    C("disk full: what was written reads back", ok && h.datarecords_in_file == v.count &&
      edfread_physical_samples(h.handle, 2, 250, x) == 250 && fabs(x[100] - sample(2, 100)) <= STEP_UV,
      "EDFlib %d", h.filetype);
    if (ok)
        edfclose_file(h.handle);
    C("disk full: later writes keep failing (no retry yet)", put(r, 8, k, 50, 0, NULL) == -1, "accepted");
    /* events while writing fails: the first file holds source time up to its last record (0.2-s
     * records at 250 Hz); an epoch staged now that began 10 s before that end goes in cut to its 10
     * s, one that began after it goes into no file (it went into the first file's side log, past
     * its end) */
    double end1 = v.count * 0.2;
    dw_recorder_annotate(r, end1 - 10, 30, "Sleep stage N1");
    dw_recorder_annotate(r, end1 + 1, 30, "Sleep stage N2");
    dw_recorder_annotate(r, end1 + 2, -1, "Marker while failing");
    dw_recorder_set_retry(r, 0);
    if (filler) {                       /* still full: a new file cannot start either */
        C("disk full: a retry while full fails and keeps the old file's name", put(r, 8, k, 50, 0, NULL) == -1 &&
          !strcmp(dw_recorder_path(r), path) && strstr(dw_recorder_error(r), "a new file failed too"),
          "%s: %s", dw_recorder_path(r), dw_recorder_error(r));
        dw_recorder_set_retry(r, 1e9);  /* from now on only free space can bring it back */
        C("disk full: free space is measured", dw_recorder_free_mb(r) >= 0 && dw_recorder_free_mb(r) < 0.05,
          "%.3f MB", dw_recorder_free_mb(r));
        unlink(filler);                 /* room again (EFBIG: the limit is per file, a new file has room) */
        usleep(300 * 1000);             /* free space is looked at every 0.25 s */
    }
    rc = put(r, 8, k + 50, 50, 0, NULL);
    char tsv[1100];
    snprintf(tsv, sizeof tsv, "%s.events.tsv", dw_recorder_path(r));
    char *log = slurp(tsv);
    C(filler ? "disk full: resumes in a new file as soon as there is room (not after the retry time)"
             : "disk full: resumes in a new file once there is room", rc == 0 && strcmp(dw_recorder_path(r), path) &&
      log && strstr(log, "Recording resumed"), "rc %d %s", rc, dw_recorder_error(r));
    /* the new file starts where the resuming block did: after every frame given so far (the blocks that
     * failed count: the source went on) -- the loop's, one that kept failing, one more with a filler */
    double said = -1, t_new = (k + (filler ? 100 : 50)) / 250.0;
    const char *res = log ? strstr(log, "Recording resumed, ") : NULL;
    if (res)
        said = atof(res + 19);
    C("disk full: the recording knows its files and the time no file holds (as its annotation says)",
      dw_recorder_files(r) == 2 && said > 0 && fabs(dw_recorder_unrecorded_s(r) - said) < 0.05,
      "%d files, %.3f s unrecorded, annotation says %.1f", dw_recorder_files(r), dw_recorder_unrecorded_s(r), said);
    free(log);
    /* an epoch that began 10 s before the new file: the new file holds its last 20 s, not 30 s from 0 */
    dw_recorder_annotate(r, t_new - 10, 30, "Sleep stage W");
    /* an epoch staged after the resume that began 5 s before the first file's end: its 5 s go to
     * the first file's side log (the stage of an epoch comes after the epoch) */
    dw_recorder_annotate(r, end1 - 5, 30, "Sleep stage N3");
    log = slurp(tsv);
    C("disk full: an event begun before the new file is cut to what the file holds",
      log && strstr(log, "0.0000\t20.0000\tSleep stage W") && !strstr(log, "Sleep stage N2") &&
      !strstr(log, "Marker while failing"), "%s", log ? log : "no side log");
    free(log);
    /* the first file's side log: every event within the file (onset + duration <= its end), the
     * epoch begun before the failure cut to what the file holds, nothing staged while it failed */
    char tsv1[1100];
    snprintf(tsv1, sizeof tsv1, "%s.events.tsv", path);
    log = slurp(tsv1);
    int beyond = 0, lines = 0;
    for (char *l = log ? strchr(log, '\n') : NULL; l && l[1]; l = strchr(l + 1, '\n')) {
        double on = atof(l + 1), du = 0;
        const char *tab = strchr(l + 1, '\t');
        if (tab && tab[1] != '-')
            du = atof(tab + 1);
        lines++;
        beyond += on + du > end1 + 1e-3;
    }
    char want1[80], want3[80];
    snprintf(want1, sizeof want1, "%.4f\t10.0000\tSleep stage N1", end1 - 10);
    snprintf(want3, sizeof want3, "%.4f\t5.0000\tSleep stage N3", end1 - 5);
    C("disk full: the first file's side log holds only events within the file",
      log && lines > 0 && beyond == 0 && strstr(log, want1) && strstr(log, want3) &&
      !strstr(log, "Sleep stage N2") && !strstr(log, "Marker while failing"),
      "%d of %d lines beyond its end %.1f s: %s", beyond, lines, end1, log ? log : "no side log");
    free(log);
    for (long j = k + 100; j < k + 100 + 500; j += 50)
        rc |= put(r, 8, j, 50, 0, NULL);
    C("disk full: the resumed file closes clean", dw_recorder_close(r, &err) == 0 && rc == 0, "%s", err.msg);
    return bad;
}

static void disk_full(void)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/full", tmpdir);
    mkdir(dir, 0700);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {                    /* a private tmpfs of 256 KiB; gone with the child */
        if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
            mount("tmpfs", dir, "tmpfs", 0, "size=256k,mode=0700")) {
            printf("SKIP disk full (ENOSPC): cannot mount a tmpfs here (%s)\n", strerror(errno));
            _exit(0);
        }
        char filler[256];
        snprintf(filler, sizeof filler, "%s/filler", dir);
        int fd = open(filler, O_WRONLY | O_CREAT, 0600);
        static char block[64 * 1024];
        int w = fd >= 0 && write(fd, block, sizeof block) == (ssize_t)sizeof block;
        close(fd);
        fflush(stdout);
        _exit(w ? fill_disk(dir, "ENOSPC", filler) != 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    fflush(stdout);
    CHECK("disk full (ENOSPC): child finished", WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);

    pid = fork();
    if (pid == 0) {                    /* the file-size limit: write(2) fails with EFBIG */
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = { 200 * 1024, 200 * 1024 };
        setrlimit(RLIMIT_FSIZE, &rl);
        char d2[160];
        snprintf(d2, sizeof d2, "%s/fsize", tmpdir);
        int bad = fill_disk(d2, "EFBIG", NULL);
        fflush(stdout);
        _exit(bad != 0);
    }
    waitpid(pid, &status, 0);
    CHECK("disk full (EFBIG): child finished", WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/dw-rec-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    round_trip();
    long_marker();
    recover_pieces();
    gaps();
    small_gaps();
    full_scale();
    no_data();
    many_events();
    crash_and_recover();
    disk_full();
    if (!tap_failed)                 /* leave it for a look when something failed */
        nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    TAP_DONE();
}
