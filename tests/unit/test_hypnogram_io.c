/* Reference hypnograms from EDF+ annotations: files written here with EDFlib (R&K and AASM spellings,
 * unrelated annotations, malformed stages, damage), all 193 Sleep-EDF hypnograms, and the 16 nights whose
 * expert labels are also in the feature tables. */
#include "staging/hypnogram.h"
#include "sources/source.h"
#include "edf_testfile.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <edflib.h>
#include <sys/wait.h>

/* An independent reading of the raw TAL bytes, in Python, for the per-stage totals. */
static const char py_totals[] =
    "import glob, re, sys\n"
    "tot = dict.fromkeys('W1234R', 0)\n"
    "for f in glob.glob(sys.argv[1] + '/*-Hypnogram.edf'):\n"
    "    d = open(f, 'rb').read(); d = d[int(d[184:192]):]\n"
    "    for m in re.finditer(rb'[+-](\\d+(?:\\.\\d+)?)\\x15(\\d+(?:\\.\\d+)?)\\x14Sleep stage ([W1234R])\\x14', d):\n"
    "        tot[m.group(3).decode()] += round(float(m.group(2)) / 30)\n"
    "print(tot['W'], tot['1'], tot['2'], tot['3'] + tot['4'], tot['R'])\n";

/* Runs /usr/bin/python3 (execve, no shell) on dir; 0 with the five totals, -1 if it cannot. */
static int python_totals(const char *d, long *tot)
{
    int fd[2];
    if (access("/usr/bin/python3", X_OK) || pipe(fd))
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        char *argv[] = { "python3", "-c", (char *)py_totals, (char *)d, NULL };
        char *envp[] = { NULL };
        execve("/usr/bin/python3", argv, envp);
        _exit(127);
    }
    close(fd[1]);
    FILE *f = fdopen(fd[0], "r");
    int n = f ? fscanf(f, "%ld %ld %ld %ld %ld", &tot[0], &tot[1], &tot[2], &tot[3], &tot[4]) : 0;
    if (f)
        fclose(f);
    int st;
    waitpid(pid, &st, 0);
    return n == 5 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static char dir[256];

static double flat(int sig, double t)
{
    (void)sig, (void)t;
    return 0;
}

static const tf_signal one[] = { { "EEG Fpz-Cz", "uV", 100, -100, 100, flat } };

static char *tmp(const char *name)
{
    static char p[4][400];
    static int k;
    char *s = p[k++ % 4];
    snprintf(s, 400, "%s/%s", dir, name);
    return s;
}

static void test_written(void)
{
    tf_annot an[] = {
        { 0, 30, "Sleep stage W" }, { 12, 0, "Lights off" }, { 30, 60, "Sleep stage N1" },
        { 90, 30, "Sleep stage R" }, { 120, 30, "Sleep stage ?" }, { 150, 30, "Movement time" },
        { 180, 30, "Sleep stage 4" }, { 210, 30, "Sleep stage 3" }, { 240, 0, "Sleep stage N2" },
        { 270, 30, "Sleep stage 2" }, { 300, 30, "Sleep stage ?" },
    };
    const char *p = tmp("rec.edf");
    CHECK("write edf+ with stage annotations", tf_write(p, EDFLIB_FILETYPE_EDFPLUS, one, 1, 330, an, 11) == 0, "-");
    dw_hypnogram h;
    dw_err err = { 0 };
    int rc = dw_hypnogram_load(p, &h, &err);
    static const signed char want[] = { DW_W, DW_N1, DW_N1, DW_R, DW_UNSCORED, DW_UNSCORED, DW_N3, DW_N3,
                                        DW_N2, DW_N2 };
    CHECK("stages from a recording's own annotations", rc == 0 && h.n == 10 && !memcmp(h.stage, want, 10),
          "rc %d n %d %s", rc, h.n, err.msg);
    if (rc == 0)
        dw_hypnogram_free(&h);

    /* While the recording is open as a source, its annotations still load (EDFlib opens a path once). */
    dw_source *s = dw_edf_open(p, NULL, &err);
    rc = dw_hypnogram_load(p, &h, &err);
    CHECK("hypnogram of a file that is open as the source", s && rc == 0 && h.n == 10, "%s", err.msg);
    if (rc == 0)
        dw_hypnogram_free(&h);
    dw_source_close(s);

    tf_annot bad[] = { { 0, 30, "Sleep stage W" }, { 30, 30, "Sleep stage 5" } };
    p = tmp("bad.edf");
    tf_write(p, EDFLIB_FILETYPE_BDFPLUS, one, 1, 60, bad, 2);
    CHECK("malformed stage: error names file, annotation and text", dw_hypnogram_load(p, &h, &err) == -1 &&
          tf_contains(err.msg, "bad.edf: annotation 2 at 30.0 s: unknown sleep stage \"Sleep stage 5\""), "loaded");

    tf_annot none[] = { { 0, 0, "Lights off" }, { 50, 0, "Arousal" } };
    p = tmp("none.edf");
    tf_write(p, EDFLIB_FILETYPE_EDFPLUS, one, 1, 60, none, 2);
    CHECK("no stage annotations", dw_hypnogram_load(p, &h, &err) == -1 &&
          tf_contains(err.msg, "none.edf: no sleep-stage annotations") && tf_contains(err.msg, "among 2"), "loaded");

    CHECK("missing file", dw_hypnogram_load(tmp("nope.edf"), &h, &err) == -1 &&
          tf_contains(err.msg, "nope.edf: cannot open"), "loaded");
}

/* Damaged copies of a Sleep-EDF hypnogram: a clear message each, never a crash. */
static void test_damaged(const char *data)
{
    char p[1200];
    snprintf(p, sizeof p, "%s/sleep-edf/hypnograms/SC4001EC-Hypnogram.edf", data);
    FILE *f = fopen(p, "rb");
    static unsigned char d[1 << 16], c[1 << 16];
    size_t n = f ? fread(d, 1, sizeof d, f) : 0;
    if (f)
        fclose(f);
    struct { const char *name; size_t off, len; const char *bytes; size_t keep; const char *want; } cases[] = {
        { "annotation garbage", 512 + 40, 6, "\x01\x02\xff\x00zz", 0, "EDFlib refuses it (error -3)" },
        { "truncated data record", 0, 0, "", 512 + 100, "truncated: 0 of 1 data records present" },
        { "truncated header", 0, 0, "", 400, "truncated in the header: 400 of 512" },
        { "header size", 184, 8, "768     ", 0, "wrong header-size field" },
        { "record count -1", 236, 8, "-1      ", 0, "record count is -1" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(c, d, n);
        memcpy(c + cases[i].off, cases[i].bytes, cases[i].len);
        FILE *o = fopen(tmp("dmg.edf"), "wb");
        fwrite(c, 1, cases[i].keep ? cases[i].keep : n, o);
        fclose(o);
        dw_hypnogram h;
        dw_err err = { 0 };
        char name[100];
        snprintf(name, sizeof name, "damaged hypnogram: %s", cases[i].name);
        CHECK(name, dw_hypnogram_load(tmp("dmg.edf"), &h, &err) == -1 && tf_contains(err.msg, cases[i].want) &&
              tf_contains(err.msg, "dmg.edf"), "%s", err.msg);
    }
}

static int stage_count(const char *path, int *counts)
{
    dw_hypnogram h;
    dw_err err;
    if (dw_hypnogram_load(path, &h, &err) < 0) {
        printf("# %s\n", err.msg);
        return -1;
    }
    for (int i = 0; i < h.n; i++)
        if (h.stage[i] >= 0)
            counts[h.stage[i]]++;
    dw_hypnogram_free(&h);
    return 0;
}

static void test_all_sleep_edf(const char *data)
{
    char d[1200], p[1500];
    snprintf(d, sizeof d, "%s/sleep-edf/hypnograms", data);
    DIR *dd = opendir(d);
    int files = 0, ok = 0;
    long counts[DW_NSTAGES] = { 0 }, py[DW_NSTAGES];
    for (struct dirent *e; dd && (e = readdir(dd));) {
        if (!strstr(e->d_name, "-Hypnogram.edf"))
            continue;
        snprintf(p, sizeof p, "%s/%s", d, e->d_name);
        files++;
        int c[DW_NSTAGES] = { 0 };
        if (stage_count(p, c) == 0 && c[DW_N2] > 0) {
            ok++;
            for (int s = 0; s < DW_NSTAGES; s++)
                counts[s] += c[s];
        }
    }
    if (dd)
        closedir(dd);
    CHECK("all 193 Sleep-EDF hypnograms parse, each with N2 epochs", files == 193 && ok == 193, "%d of %d", ok,
          files);
    printf("# Sleep-EDF epochs: W %ld N1 %ld N2 %ld N3 %ld R %ld\n", counts[0], counts[1], counts[2], counts[3],
           counts[4]);
    if (python_totals(d, py) == 0)
        CHECK("per-stage totals over all 193 equal an independent Python reading of the raw TALs",
              !memcmp(py, counts, sizeof py), "python W %ld N1 %ld N2 %ld N3 %ld R %ld", py[0], py[1], py[2], py[3],
              py[4]);
    else
        SKIP("per-stage totals against Python", "/usr/bin/python3 not runnable");
}

/* The feature tables carry the expert label of every labelled epoch: ours must be the same. */
static void test_feature_labels(const char *data)
{
    char fd[1200], hd[1200], p[1500];
    snprintf(fd, sizeof fd, "%s/sleep-edf/features", data);
    snprintf(hd, sizeof hd, "%s/sleep-edf/hypnograms", data);
    DIR *dd = opendir(fd);
    int nights = 0, good = 0;
    long epochs = 0;
    for (struct dirent *e; dd && (e = readdir(dd));) {
        if (!strstr(e->d_name, ".tsv"))
            continue;
        nights++;
        /* SC4001E0.tsv <-> SC4001E?-Hypnogram.edf */
        char hyp[300] = "";
        DIR *hh = opendir(hd);
        for (struct dirent *g; hh && (g = readdir(hh));)
            if (!strncmp(g->d_name, e->d_name, 6) && strstr(g->d_name, "-Hypnogram.edf"))
                snprintf(hyp, sizeof hyp, "%s", g->d_name);
        if (hh)
            closedir(hh);
        snprintf(p, sizeof p, "%s/%s", hd, hyp);
        dw_hypnogram h;
        dw_err err;
        if (!hyp[0] || dw_hypnogram_load(p, &h, &err) < 0) {
            FAIL("feature-table night has a hypnogram", "%s: %s", e->d_name, hyp[0] ? err.msg : "none");
            continue;
        }
        snprintf(p, sizeof p, "%s/%s", fd, e->d_name);
        FILE *f = fopen(p, "r");
        char line[2048];
        int mismatch = 0, rows = 0, lo = -1, hi = -1;
        long tab[DW_NSTAGES] = { 0 }, ours[DW_NSTAGES] = { 0 };
        while (f && fgets(line, sizeof line, f)) {
            int ep;
            char st[8];
            if (sscanf(line, "%d %*s %7s", &ep, st) != 2)
                continue;               /* the column-name row */
            int want = dw_stage_parse(st);
            rows++;
            tab[want >= 0 ? want : 0]++;
            if (lo < 0)
                lo = ep;
            hi = ep;
            if (want < 0 || ep >= h.n || h.stage[ep] != want) {
                if (mismatch++ < 3)
                    printf("# %s epoch %d: table %s, hypnogram %s\n", e->d_name, ep, st,
                           ep < h.n ? dw_stage_name(h.stage[ep]) : "(beyond)");
            }
        }
        if (f)
            fclose(f);
        for (int i = lo; i >= 0 && i <= hi && i < h.n; i++)
            if (h.stage[i] >= 0)
                ours[h.stage[i]]++;
        int same = !memcmp(tab, ours, sizeof tab);
        if (!same)
            printf("# %s counts: table W %ld N1 %ld N2 %ld N3 %ld R %ld, hypnogram W %ld N1 %ld N2 %ld N3 %ld R %ld\n",
                   e->d_name, tab[0], tab[1], tab[2], tab[3], tab[4], ours[0], ours[1], ours[2], ours[3], ours[4]);
        good += rows > 0 && !mismatch && same;
        epochs += rows;
        dw_hypnogram_free(&h);
    }
    if (dd)
        closedir(dd);
    CHECK("16 nights: every labelled epoch and the per-stage counts equal the feature tables",
          nights == 16 && good == 16, "%d of %d nights", good, nights);
    printf("# %ld labelled epochs compared\n", epochs);
}

int main(void)
{
    if (tf_mkdtemp(dir, sizeof dir, "hyp")) {
        FAIL("mkdtemp", "%s", strerror(errno));
        TAP_DONE();
    }
    test_written();
    const char *data = tap_shared_data();
    if (data) {
        test_damaged(data);
        test_all_sleep_edf(data);
        test_feature_labels(data);
    } else {
        SKIP("Sleep-EDF hypnograms", "../shared/data is absent");
    }
    tf_rmdir(dir);
    TAP_DONE();
}
