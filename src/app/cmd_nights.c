/* `dreamwatch nights [DIR...] [--target H]`: every recorded, replayed or scored night whose summary is in
 * DIR (default: the recordings folder), one row each in time order (date, kind, TST, SE, SOL, WASO, stage
 * minutes, awakenings, stimuli, REM cues, alerts), then a trend plot of total sleep per night against a
 * target with the running sleep debt. The figures are the summaries' own ("## Figures", staging/night.h):
 * nothing is recomputed here. */
#include "app/commands.h"

#include <dirent.h>
#include <errno.h>
#include <langinfo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app/config.h"
#include "base/paths.h"
#include "staging/night.h"

#define MAX_NIGHTS 4096
#define BAR_W 40                    /* columns of the trend plot for 10 h */

struct entry { dw_night n; double when; char file[256]; };

static int by_time(const void *a, const void *b)
{
    double x = ((const struct entry *)a)->when, y = ((const struct entry *)b)->when;
    return (x > y) - (x < y);
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* Every *.summary.txt of dir into e (a summary without figures is named on stderr and skipped). */
static int scan(const char *dir, struct entry *e, int *n, int max)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "dreamwatch nights: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    for (struct dirent *de; (de = readdir(d)) && *n < max;) {
        if (!ends_with(de->d_name, ".summary.txt"))
            continue;
        char path[DW_PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        dw_err err = { 0 };
        struct entry *x = &e[*n];
        if (dw_night_read(path, &x->n, &err) < 0) {
            fprintf(stderr, "dreamwatch nights: skipped %s\n", err.msg);
            continue;
        }
        struct stat st;
        x->when = x->n.start_wall > 0 ? x->n.start_wall : stat(path, &st) == 0 ? (double)st.st_mtime : 0;
        snprintf(x->file, sizeof x->file, "%.*s", (int)(strlen(de->d_name) - strlen(".summary.txt")), de->d_name);
        (*n)++;
    }
    closedir(d);
    return 0;
}

static void hm(double min, char *out, size_t n)
{
    if (min < 0) { snprintf(out, n, "-"); return; }
    long m = lround(min);
    snprintf(out, n, "%ld:%02ld", m / 60, m % 60);
}

static void num(double v, char *out, size_t n)
{
    if (v < 0) snprintf(out, n, "-");
    else snprintf(out, n, "%.0f", v);
}

static void cnt(int v, char *out, size_t n)
{
    if (v < 0) snprintf(out, n, "-");
    else snprintf(out, n, "%d", v);
}

static void table(const struct entry *e, int n)
{
    printf("%-16s %-6s %5s %5s %5s %5s %5s %5s %5s %5s %5s %5s %4s %6s  %s\n", "night", "kind", "TST", "SE%",
           "SOL", "WASO", "N1", "N2", "N3", "R", "awak", "stim", "cue", "alerts", "summary");
    for (int i = 0; i < n; i++) {
        const dw_night *x = &e[i].n;
        char date[32] = "unknown", tst[16], se[16], sol[16], waso[16], st[4][16], aw[16], sm[16], cu[16], al[16];
        if (e[i].when > 0) {
            time_t t = (time_t)e[i].when;
            struct tm tm;
            localtime_r(&t, &tm);
            strftime(date, sizeof date, x->start_wall > 0 ? "%Y-%m-%d %H:%M" : "%Y-%m-%d (file)", &tm);
        }
        int sleep = x->st.sol_min >= 0;
        hm(x->st.tst_min, tst, sizeof tst);
        num(sleep ? x->st.se_pct : -1, se, sizeof se);
        num(sleep ? x->st.sol_min : -1, sol, sizeof sol);
        num(sleep ? x->st.waso_min : -1, waso, sizeof waso);
        for (int k = 0; k < 4; k++) num(x->st.stage_min[DW_N1 + k], st[k], sizeof st[k]);
        cnt(x->st.awakenings, aw, sizeof aw);
        cnt(x->stimuli, sm, sizeof sm);
        cnt(x->cues, cu, sizeof cu);
        cnt(x->alerts, al, sizeof al);
        printf("%-16s %-6s %5s %5s %5s %5s %5s %5s %5s %5s %5s %5s %4s %6s  %s\n", date, x->kind, tst, se, sol,
               waso, st[0], st[1], st[2], st[3], aw, sm, cu, al, e[i].file);
    }
    printf("(TST, SOL, WASO and stage columns in h:mm or minutes; SE = TST / time in bed; - = none)\n");
}

/* Total sleep per night as a bar (10 h = BAR_W columns) with the target marked, and the running debt:
 * the sum over the nights so far of target minus total sleep. Summaries whose recordings start within a
 * minute of each other are the same night read again (a replay, a re-score, a snippet of it): the one
 * with the most time in bed counts, the others are shown, not counted. A recording with less time in bed
 * than half the target (a nap, a test, a snippet) cannot tell a night's sleep: shown, not counted (a
 * first-use test got a debt of +46 h from 13-s and 5-min files, and a 0.7-h snippet counted in place of
 * the whole night read after it). */
static void trend(const struct entry *e, int n, double target_h)
{
    int utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
    int tx = (int)lround(target_h / 10 * BAR_W);
    printf("\nTotal sleep per night (| = target %.1f h) and running sleep debt\n", target_h);
    double debt = 0;
    for (int i = 0; i < n; i++) {
        const dw_night *x = &e[i].n;
        double h = x->st.tst_min / 60;
        int again = 0, brief = x->st.tib_min < target_h * 60 / 2;
        for (int j = 0; j < n && !again; j++) {
            double tj = e[j].n.st.tib_min, ti = x->st.tib_min;
            again = j != i && e[i].when > 0 && e[j].when > 0 && fabs(e[i].when - e[j].when) < 60 &&
                    (tj > ti || (tj == ti && j < i));
        }
        if (!again && !brief)
            debt += target_h - h;
        char date[16] = "?";
        if (e[i].when > 0) {
            time_t t = (time_t)e[i].when;
            struct tm tm;
            localtime_r(&t, &tm);
            strftime(date, sizeof date, "%m-%d %H:%M", &tm);
        }
        printf("%-11s ", date);
        int units = (int)lround(fmin(h, 10) / 10 * BAR_W * 8);
        for (int c = 0; c < BAR_W; c++) {
            int u = units - c * 8;
            static const char *const eighth[8] = { " ", "▏", "▎", "▍", "▌", "▋", "▊", "▉" };
            if (c == tx && u < 8) fputs("|", stdout);
            else if (u >= 8) fputs(utf8 ? "█" : "#", stdout);
            else fputs(utf8 ? eighth[u > 0 ? u : 0] : u >= 4 ? "+" : " ", stdout);
        }
        if (again)
            printf(" %4.1f h  the same night again, not counted\n", h);
        else if (brief)
            printf(" %4.1f h  %.1f h in bed: too short to count as a night\n", h, x->st.tib_min / 60);
        else
            printf(" %4.1f h  debt %+5.1f h\n", h, debt);
    }
}

static int usage(FILE *f)
{
    fprintf(f, "usage: dreamwatch nights [DIR...] [--target H]\n"
               "  a table of every night whose summary (*.summary.txt) is in DIR (default: the recordings\n"
               "  folder, $XDG_DATA_HOME/dreamwatch/recordings), and total sleep per night against a\n"
               "  target of H hours (default: [alerts] short_sleep_h of the configuration) with the debt\n");
    return f == stderr ? 2 : 0;
}

int dw_cmd_nights(int argc, char **argv)
{
    static dw_config cfg;
    dw_config_defaults(&cfg);
    char path[DW_PATH_MAX];
    dw_err err = { 0 };
    dw_path_config(path, sizeof path);
    if (dw_config_load(&cfg, path, 1, &err) < 0) {
        fprintf(stderr, "dreamwatch nights: %s\n", err.msg);
        return 2;
    }
    double target = cfg.session.al_short_sleep_h;
    const char *dirs[64];
    int nd = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return usage(stdout);
        if (!strcmp(argv[i], "--target")) {
            char *end;
            target = i + 1 < argc ? strtod(argv[++i], &end) : -1;
            if (target <= 0 || target > 24 || *end) {
                fprintf(stderr, "dreamwatch nights: --target wants hours between 0 and 24\n");
                return 2;
            }
        } else if (argv[i][0] == '-' || nd == 64) {
            return usage(stderr);
        } else {
            dirs[nd++] = argv[i];
        }
    }
    char def[DW_PATH_MAX];
    if (!nd) {
        dw_path_recordings(cfg.rec_dir, def, sizeof def);
        dirs[nd++] = def;
    }
    struct entry *e = calloc(MAX_NIGHTS, sizeof *e);
    if (!e) {
        fprintf(stderr, "dreamwatch nights: out of memory\n");
        return 1;
    }
    int n = 0, bad = 0;
    for (int i = 0; i < nd; i++)
        bad |= scan(dirs[i], e, &n, MAX_NIGHTS) < 0;
    if (!n) {
        printf("no night summaries (*.summary.txt) in %s%s\n", dirs[0], nd > 1 ? " and the other folders" : "");
    } else {
        qsort(e, (size_t)n, sizeof *e, by_time);
        table(e, n);
        trend(e, n, target);
    }
    free(e);
    return bad ? 1 : 0;
}
