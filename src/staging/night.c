/* One night's figures: computed from a hypnogram, written into summaries, read back by `nights`. */
#include "staging/night.h"
#include "base/files.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void dw_night_from_stages(dw_night *nt, const signed char *stage, int n)
{
    memset(nt, 0, sizeof *nt);
    nt->epochs = n;
    for (int i = 0; i < n; i++)
        nt->unscored += stage[i] < 0 || stage[i] >= DW_NSTAGES;
    dw_sleep_stats_compute(stage, n, &nt->st);
    nt->rem_periods = dw_rem_periods(stage, n);
    nt->stimuli = nt->cues = nt->alerts = nt->critical = -1;
}

void dw_night_print_seeks(FILE *f, const char *indent, int seeks, int skipped, int restaged)
{
    if (seeks <= 0)
        return;
    fprintf(f, "%sthe replay was seeked %d time%s: %d epoch%s skipped forward (left unscored), %d staged again "
               "after seeking back (the stager restarted there); for the night's labels of a straight pass run "
               "`dreamwatch score`\n", indent, seeks, seeks == 1 ? "" : "s", skipped, skipped == 1 ? "" : "s",
            restaged);
}

/* The figures, in this order; a value of -1 minutes prints as "none". */
static const struct { const char *key; size_t off; } minutes[] = {
    { "tib_min", offsetof(dw_night, st.tib_min) }, { "spt_min", offsetof(dw_night, st.spt_min) },
    { "tst_min", offsetof(dw_night, st.tst_min) }, { "sol_min", offsetof(dw_night, st.sol_min) },
    { "waso_min", offsetof(dw_night, st.waso_min) }, { "se_pct", offsetof(dw_night, st.se_pct) },
    { "rem_latency_min", offsetof(dw_night, st.rem_latency_min) },
    { "n1_min", offsetof(dw_night, st.stage_min[DW_N1]) }, { "n2_min", offsetof(dw_night, st.stage_min[DW_N2]) },
    { "n3_min", offsetof(dw_night, st.stage_min[DW_N3]) }, { "r_min", offsetof(dw_night, st.stage_min[DW_R]) },
};
static const struct { const char *key; size_t off; } counts[] = {
    { "epochs", offsetof(dw_night, epochs) }, { "unscored", offsetof(dw_night, unscored) },
    { "awakenings", offsetof(dw_night, st.awakenings) }, { "rem_periods", offsetof(dw_night, rem_periods) },
    { "stimuli", offsetof(dw_night, stimuli) }, { "cues", offsetof(dw_night, cues) },
    { "alerts", offsetof(dw_night, alerts) }, { "critical_alerts", offsetof(dw_night, critical) },
};
#define N_OF(a) (sizeof (a) / sizeof (a)[0])

void dw_night_print_figures(FILE *f, const dw_night *nt)
{
    fprintf(f, "## Figures\n");
    if (nt->start_wall > 0) {
        time_t t = (time_t)nt->start_wall;
        struct tm tm;
        char buf[32];
        localtime_r(&t, &tm);
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
        fprintf(f, "start\t%s\n", buf);
    } else {
        fprintf(f, "start\tunknown\n");
    }
    fprintf(f, "kind\t%s\nsource\t%s\n", nt->kind[0] ? nt->kind : "?", nt->source);
    for (size_t i = 0; i < N_OF(counts); i++) {
        int v = *(const int *)((const char *)nt + counts[i].off);
        if (v >= 0) fprintf(f, "%s\t%d\n", counts[i].key, v);
        else fprintf(f, "%s\tnone\n", counts[i].key);
    }
    for (size_t i = 0; i < N_OF(minutes); i++) {
        double v = *(const double *)((const char *)nt + minutes[i].off);
        if (v < 0) fprintf(f, "%s\tnone\n", minutes[i].key);
        else fprintf(f, "%s\t%.1f\n", minutes[i].key, v);
    }
    fprintf(f, "\n");
}

/* One "key<TAB>value" line into nt: 1 if the key is known, 0 if not, -1 for a bad value. */
static int read_figure(dw_night *nt, const char *key, const char *val)
{
    char *end;
    if (!strcmp(key, "start")) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        if (!strcmp(val, "unknown")) { nt->start_wall = 0; return 1; }
        const char *e = strptime(val, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!e || *e) return -1;
        tm.tm_isdst = -1;
        nt->start_wall = (double)mktime(&tm);
        return 1;
    }
    if (!strcmp(key, "kind")) { snprintf(nt->kind, sizeof nt->kind, "%s", val); return 1; }
    if (!strcmp(key, "source")) { snprintf(nt->source, sizeof nt->source, "%s", val); return 1; }
    for (size_t i = 0; i < N_OF(counts); i++)
        if (!strcmp(key, counts[i].key)) {
            long v = !strcmp(val, "none") ? -1 : strtol(val, &end, 10);
            if (strcmp(val, "none") && (end == val || *end || v < 0 || v > 1000000000)) return -1;
            *(int *)((char *)nt + counts[i].off) = (int)v;
            return 1;
        }
    for (size_t i = 0; i < N_OF(minutes); i++)
        if (!strcmp(key, minutes[i].key)) {
            double v = !strcmp(val, "none") ? -1 : strtod(val, &end);
            if (strcmp(val, "none") && (end == val || *end || !isfinite(v) || v < 0)) return -1;
            *(double *)((char *)nt + minutes[i].off) = v;
            return 1;
        }
    return 0;
}

int dw_night_read(const char *path, dw_night *nt, dw_err *err)
{
    FILE *f = dw_input_fopen(path, "summary", err);   /* a FIFO or a device: refused, not waited on */
    if (!f)
        return -1;
    int rc = dw_night_read_from(f, path, nt, err);
    fclose(f);
    return rc;
}

int dw_night_read_from(FILE *f, const char *path, dw_night *nt, dw_err *err)
{
    memset(nt, 0, sizeof *nt);
    nt->stimuli = nt->cues = nt->alerts = nt->critical = -1;
    char line[1024];
    int lineno = 0, in = 0, seen = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == '#') {
            if (in) break;                           /* the next section ends the figures */
            in = !strcmp(line, "## Figures");
            continue;
        }
        if (!in || !line[0])
            continue;
        char *tab = strchr(line, '\t');
        if (!tab) {
            dw_err_set(err, "%s:%d: figures: expected KEY<TAB>VALUE", path, lineno);
            rc = -1;
            break;
        }
        *tab = 0;
        int r = read_figure(nt, line, tab + 1);
        if (r < 0) {
            dw_err_set(err, "%s:%d: figures: %s: bad value '%s'", path, lineno, line, tab + 1);
            rc = -1;
            break;
        }
        seen += r;
    }
    if (rc == 0 && !seen) {
        dw_err_set(err, "%s: no \"## Figures\" section (a summary from an older dreamwatch?)", path);
        rc = -1;
    }
    return rc;
}
