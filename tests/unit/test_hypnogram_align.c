/* Reference hypnograms in the text forms other tools write, and laid onto a recording by clock time:
 * offsets (case 03 of ../shared/cases), references longer than the recording (case 04), another night
 * refused, 20-s and 5-s steps mapped by majority, time-of-day tables across midnight. */
#include "staging/hypnogram.h"
#include "edf_testfile.h"
#include "tap.h"

#include <edflib.h>
#include <errno.h>
#include <time.h>

static char dir[256];

static const char *tmp(const char *name)
{
    static char p[4][400];
    static int k;
    char *s = p[k++ % 4];
    snprintf(s, 400, "%s/%s", dir, name);
    return s;
}

static const char *put(const char *name, const char *text, size_t n)
{
    const char *p = tmp(name);
    FILE *f = fopen(p, "wb");
    fwrite(text, 1, n ? n : strlen(text), f);
    fclose(f);
    return p;
}

/* h's own 30-s epochs as a string of stage letters ("W1 2 3 R ?": one character each: W 1 2 3 R ?). */
static const char *letters(const signed char *st, int n)
{
    static char s[512];
    int k = 0;
    for (int i = 0; i < n && k < 500; i++)
        s[k++] = st[i] < 0 ? '?' : "W123R"[st[i]];
    s[k] = 0;
    return s;
}

static double local_time(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s,
                     .tm_isdst = -1 };
    return (double)mktime(&tm);
}

typedef struct { const char *name, *file, *text; const char *want; double start; int tod; const char *note; } tcase;

static void test_text_forms(void)
{
    double t0 = local_time(2024, 3, 15, 22, 30, 0);
    const tcase cases[] = {
        { "one stage per line, AASM", "a.txt", "W\nW\nN1\nN2\nN3\nR\n?\nN2\n", "WW123R?2", 0, 0,
          "one stage per line: 8 epochs of 30 s, start time unknown" },
        { "one stage per line, BOM and CRLF", "b.txt", "\xef\xbb\xbfW\r\nN1\r\nN2\r\nREM\r\n", "W12R", 0, 0, "" },
        { "Sleep stage X lines, R&K", "c.txt", "Sleep stage W\nSleep stage 1\nSleep stage 4\nSleep stage R\n"
          "Sleep stage ?\nSleep stage 2\n", "W13R?2", 0, 0, "" },
        { "numbers 0-5 (R&K: 4 = N3, 5 = R)", "d.txt", "0\n1\n2\n3\n4\n5\n9\n", "W1233R", 0, 0,
          "numeric stages read as R&K 0-5 (4 = N3, 5 = R)" },
        { "numbers 0-3 and 5, no 4 (R&K: 5 = R), the rule printed", "d5.txt", "0\n1\n2\n3\n5\n2\n", "W123R2", 0,
          0, "numeric stages read as R&K 0-5 (4 = N3, 5 = R)" },
        { "numbers 0-3 only, the rule printed", "d3.txt", "0\n1\n2\n3\n", "W123", 0, 0,
          "numeric stages 0-3 read as W, N1, N2, N3" },
        { "numbers 0-4 without 5 (YASA: 4 = R)", "e.txt", "0\n1\n2\n3\n4\n-1\n2\n", "W123R?2", 0, 0,
          "numeric stages read as 0-4 with 4 = R" },
        { "MNE csv with a start time", "f.csv", "onset,duration,description\n2024-03-15 22:30:00.000,30.0,Sleep "
          "stage W\n2024-03-15 22:30:30.000,60.0,Sleep stage 2\n2024-03-15 22:31:30.000,30.0,Lights on\n"
          "2024-03-15 22:31:30.000,30.0,Sleep stage R\n", "W22R", t0, 0, "1 rows that are not stages skipped (first: "
          "line 4)" },
        { "MNE csv without a start time (1970)", "g.csv", "onset,duration,description\n1970-01-01 00:00:00.000,30.0,"
          "Sleep stage W\n1970-01-01 00:00:30.000,30.0,Sleep stage 1\n", "W1", 0, 0, "" },
        { "MNE txt with orig_time", "h.txt", "# MNE-Annotations\n# orig_time : 2024-03-15 22:30:00\n# onset, "
          "duration, description\n0.0,30.0,Sleep stage W\n30.0,30.0,Sleep stage 3\n", "W3", t0, 0, "" },
        { "YASA/NSRR onset,duration,stage, numbers", "i.csv", "onset,duration,stage\n0,30,0\n30,30,1\n60,60,2\n"
          "120,30,4\n", "W122R", 0, 0, "4 = R" },
        { "tab-separated, no header", "j.tsv", "0\t30\tW\n30\t30\tN2\n60\t30\tN3\n", "W23", 0, 0, "" },
        { "our own score CSV", "k.csv", "epoch,onset_s,stage,p_W,p_N1,p_N2,p_N3,p_R\n0,0,W,1,0,0,0,0\n"
          "1,30,?,0,0,0,0,0\n2,60,N2,0,0,1,0,0\n", "W?2", 0, 0, "" },
        { "clock times across midnight", "l.csv", "time;duration;stage\n23:59:00;30;N2\n23:59:30;30;N2\n"
          "00:00:00;30;N3\n", "223", 23 * 3600 + 59 * 60, 1, "" },
        { "epoch,stage with a semicolon", "m.csv", "epoch;stage\n0;W\n1;N1\n3;R\n", "W1?R", 0, 0, "" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const tcase *c = &cases[i];
        dw_hypnogram h;
        dw_err err = { 0 };
        char name[160];
        int rc = dw_hypnogram_load(put(c->file, c->text, 0), &h, &err);
        snprintf(name, sizeof name, "text form: %s", c->name);
        CHECK(name, rc == 0 && !strcmp(letters(h.stage, h.n), c->want) && fabs(h.start - c->start) < 1e-6 &&
              h.start_tod == c->tod && tf_contains(h.note, c->note), "rc %d %s got %s start %.1f note %s", rc,
              err.msg, rc ? "" : letters(h.stage, h.n), rc ? 0 : h.start, rc ? "" : h.note);
        if (!rc)
            dw_hypnogram_free(&h);
    }
}

static void test_text_errors(void)
{
    static char longline[6000];
    memset(longline, 'W', sizeof longline - 2);
    longline[sizeof longline - 2] = '\n';
    const struct { const char *name, *text, *want; } cases[] = {
        { "unknown stage on a line", "W\nN2\nN5\nN2\n", "x.txt:3: \"N5\" is not a sleep stage" },
        { "unknown Sleep stage in a table", "onset,duration,description\n0,30,Sleep stage W\n30,30,Sleep stage X\n",
          "x.txt:3: column 3: \"Sleep stage X\" is not a sleep stage we know" },
        { "bad onset", "onset,duration,stage\n0,30,W\nlater,30,N1\n",
          "x.txt:3: column 1 (onset): \"later\" is not seconds, a clock time HH:MM:SS or a date and time" },
        { "bad duration", "onset,duration,stage\n0,thirty,W\n", "x.txt:2: column 2 (duration): \"thirty\" is not seconds" },
        { "header without a stage column", "onset,duration,channel\n0,30,Fpz\n", "x.txt:1: a header row without a stage" },
        { "empty", "", "x.txt: empty: no stages" },
        { "only unscored", "?\n?\n", "x.txt: no scored epochs" },
        { "a line too long", longline, "x.txt:1: line longer than 4096 bytes: not a hypnogram" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dw_hypnogram h;
        dw_err err = { 0 };
        char name[160];
        snprintf(name, sizeof name, "text error: %s (file and line named)", cases[i].name);
        int rc = dw_hypnogram_load(put("x.txt", cases[i].text, 0), &h, &err);
        CHECK(name, rc < 0 && tf_contains(err.msg, cases[i].want), "loaded");
        if (!rc)
            dw_hypnogram_free(&h);
    }
}

/* An EDF+ hypnogram written with EDFlib: stages as annotations, start 22:30:00 + start_s. */
static int write_hyp(const char *path, int start_s, const tf_annot *an, int na)
{
    int h = edfopen_file_writeonly(path, EDFLIB_FILETYPE_EDFPLUS, 0);
    if (h < 0)
        return -1;
    edf_set_datarecord_duration(h, 3000000);
    int s = 22 * 3600 + 30 * 60 + start_s;
    edf_set_startdatetime(h, 2024, 3, 15 + s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
    for (int i = 0; i < na; i++)
        edfwrite_annotation_utf8(h, (long long)(an[i].onset_s * 10000), (long long)(an[i].dur_s * 10000), an[i].text);
    return edfclose_file(h);
}

static int align(const char *path, double rec_start, int epochs, signed char **st, int *n, dw_ref_alignment *a,
                 dw_err *err)
{
    dw_hypnogram h;
    if (dw_hypnogram_load(path, &h, err) < 0)
        return -1;
    int rc = dw_hypnogram_align(&h, rec_start, epochs, st, n, a, err);
    dw_hypnogram_free(&h);
    return rc;
}

static void test_alignment(void)
{
    double rec = local_time(2024, 3, 15, 22, 30, 0);
    const tf_annot an[] = { { 0, 60, "Sleep stage W" }, { 60, 30, "Sleep stage 1" }, { 90, 90, "Sleep stage 2" },
                            { 180, 30, "Sleep stage R" } };
    signed char *st;
    int n;
    dw_ref_alignment a;
    dw_err err = { 0 };
    write_hyp(tmp("later.edf"), 1800, an, 4);
    int rc = align(tmp("later.edf"), rec, 70, &st, &n, &a, &err);
    CHECK("reference 30 min later: its epoch 0 is the recording's epoch 60 (case 03)", rc == 0 && n == 70 &&
          a.by_clock && a.offset_s == 1800 && !a.majority && a.inside == 7 && a.before == 0 && a.after == 0 &&
          !strcmp(letters(st + 58, 9), "??WW1222R") && st[57] == DW_UNSCORED, "rc %d %s", rc, err.msg);
    if (!rc)
        free(st);
    rc = align(tmp("later.edf"), rec, 63, &st, &n, &a, &err);
    CHECK("reference longer than the recording: epochs after its end counted (case 04)", rc == 0 && n == 63 &&
          a.inside == 3 && a.after == 4 && a.before == 0, "rc %d inside %d after %d", rc, a.inside, a.after);
    if (!rc)
        free(st);
    rc = align(tmp("later.edf"), rec + 1800 + 90, 10, &st, &n, &a, &err);
    CHECK("reference starting before the recording: epochs before its start counted", rc == 0 && a.before == 3 &&
          a.inside == 4 && a.offset_s == -90 && !strcmp(letters(st, 5), "222R?"), "rc %d before %d %s", rc,
          a.before, err.msg);
    if (!rc)
        free(st);
    rc = align(tmp("later.edf"), rec + 86400, 70, &st, &n, &a, &err);
    CHECK("a reference from another night is refused, both start times said", rc < 0 &&
          tf_contains(err.msg, "later.edf: the reference starts 2024-03-15 23:00:00 and the recording 2024-03-16 "
          "22:30:00") && tf_contains(err.msg, "none of its 7 scored epochs falls inside"), "aligned");
    CHECK("... saying the reference came first, in hours (was \"-23.5 h apart\")",
          rc < 0 && tf_contains(err.msg, "(the reference 23.5 h earlier)"), "%s", err.msg);
    rc = align(tmp("later.edf"), rec - 86400, 70, &st, &n, &a, &err);
    CHECK("a reference from the next day: the reference later, in hours", rc < 0 &&
          tf_contains(err.msg, "(the reference 24.5 h later)"), "%s", err.msg);
    rc = align(tmp("later.edf"), rec + 15, 70, &st, &n, &a, &err);
    CHECK("an offset of half an epoch: majority rule, edges unscored", rc == 0 && a.majority &&
          a.offset_s == 1785 && !strcmp(letters(st + 59, 8), "?W??22??"), "%s", rc ? err.msg : letters(st + 59, 8));
    if (!rc)
        free(st);
    rc = align(tmp("later.edf"), 0, 10, &st, &n, &a, &err);
    CHECK("a recording without a start time: laid from its first epoch", rc == 0 && !a.by_clock &&
          !strcmp(letters(st, 8), "WW1222R?"), "%s", err.msg);
    if (!rc)
        free(st);

    /* R&K 20-s pages: W N1 N2 N2 N3 R -> 30-s epochs W N2 N2 R ("last one wins" gives N1 N2 N3 R). */
    const tf_annot rk[] = { { 0, 20, "Sleep stage W" }, { 20, 20, "Sleep stage 1" }, { 40, 40, "Sleep stage 2" },
                            { 80, 20, "Sleep stage 3" }, { 100, 20, "Sleep stage R" } };
    write_hyp(tmp("rk20.edf"), 0, rk, 5);
    dw_hypnogram h;
    rc = dw_hypnogram_load(tmp("rk20.edf"), &h, &err);
    CHECK("20-s R&K pages: step found, each 30-s epoch takes the stage of more than 15 s", rc == 0 &&
          h.step_s == 20 && !strcmp(letters(h.stage, h.n), "W22R"), "%s", rc ? err.msg : letters(h.stage, h.n));
    if (!rc) {
        dw_hypnogram_align(&h, rec, 4, &st, &n, &a, &err);
        CHECK("20-s pages: the alignment says the majority rule", a.majority && a.step_s == 20, "-");
        free(st);
        dw_hypnogram_free(&h);
    }
    /* 5-s steps: 4 x W + 2 x N1 -> W; 3 x N2 + 3 x N3 -> a tie, unscored. */
    rc = dw_hypnogram_load(put("s5.csv", "onset,duration,stage\n0,20,W\n20,10,N1\n30,15,N2\n45,15,N3\n", 0), &h,
                           &err);
    CHECK("5-s steps: a 20/10 split takes the majority, a 15/15 tie is unscored", rc == 0 && h.step_s == 5 &&
          !strcmp(letters(h.stage, h.n), "W?"), "%s", rc ? err.msg : letters(h.stage, h.n));
    if (!rc)
        dw_hypnogram_free(&h);
    /* Clock times from the evening: laid on the recording's date. */
    rc = align(put("tod.csv", "onset,duration,stage\n23:00:00,30,W\n23:00:30,30,N2\n", 0), rec, 100, &st, &n, &a,
               &err);
    CHECK("clock-time table laid by time of day: 23:00 is epoch 60 of a 22:30 recording", rc == 0 && a.by_clock &&
          a.offset_s == 1800 && st[60] == DW_W && st[61] == DW_N2, "%s", err.msg);
    if (!rc)
        free(st);
}

/* The shared case 03 and 04 files when ../shared/cases is there (the e2e script also runs them). */
int main(void)
{
    if (tf_mkdtemp(dir, sizeof dir, "hypal")) {
        FAIL("mkdtemp", "%s", strerror(errno));
        TAP_DONE();
    }
    test_text_forms();
    test_text_errors();
    test_alignment();
    tf_rmdir(dir);
    TAP_DONE();
}
