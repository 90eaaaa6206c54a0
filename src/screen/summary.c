/* The summary of the night, as an overlay box: shown when a replay ends and on S at any time. The sleep
 * statistics come from staging/sleep_stats.c (dw_sleep_stats) on the epochs so far, each with its base
 * stated: stage shares are of total sleep time, sleep efficiency is total sleep over the time in bed
 * (every scored epoch: an unscored one is no time at all). */
#define DW_SCREEN_INTERNAL
#include "screen/screen.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define LINES_MAX 20
#define LINE_CAP 320
#define BOX_W_MAX 100          /* wider lines wrap */

static void hm(double min, char *out, size_t n)
{
    long m = (long)(min + 0.5);
    snprintf(out, n, "%ld h %02ld min", m / 60, m % 60);
}

static const char *base_name(const char *p)
{
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
}

/* The spindles and slow waves in the words of the session summary (dw_format_micro_totals,
 * dw_format_micro_density) and the running density of N2+N3 the status line shows: the session's
 * numbers (dw_micro_view), none counted again here. */
static int micro_lines(const dw_micro_view *mv, char l[][LINE_CAP])
{
    char t[LINE_CAP], a[16], b[16];
    if (mv->epoch < 0) {
        snprintf(l[0], LINE_CAP, "Spindles and slow waves: no epoch yet");
        return 1;
    }
    dw_format_micro_totals(t, sizeof t, "", mv->total, mv->set_aside);
    snprintf(l[0], LINE_CAP, "Spindles and slow waves: %s", t);
    dw_format_micro_rate(a, sizeof a, mv->nrem[0]);
    dw_format_micro_rate(b, sizeof b, mv->nrem[1]);
    snprintf(l[1], LINE_CAP, "Per minute of N2+N3: spindles %s, slow waves %s", a, b);
    dw_format_micro_density(t, sizeof t, mv->by_stage);
    snprintf(l[2], LINE_CAP, "By stage: %s", t);
    return 3;
}

static int summary_lines(dw_screen *s, char l[LINES_MAX][LINE_CAP])
{
    const dw_monitor *v = &s->v;
    dw_sleep_stats st;
    int rp, n = 0, unscored = 0, crit = 0;
    dw_night_stats(s, &st, &rp);
    for (int i = 0; i < v->n_epochs; i++) unscored += s->stage[i] < 0;
    for (int i = 0; i < v->n_alerts; i++) crit += v->alerts[i].severity == DW_CRITICAL;
    char a[32], b[32];
    if (v->start_wall > 0) {
        time_t t0 = (time_t)v->start_wall;
        struct tm tm;
        localtime_r(&t0, &tm);
        strftime(a, sizeof a, "%Y-%m-%d %H:%M", &tm);
        snprintf(l[n++], LINE_CAP, "Night of %s, %s", a, v->source_desc);
    } else {
        snprintf(l[n++], LINE_CAP, "%s", v->source_desc);
    }
    dw_duration(v->n_epochs * (double)DW_EPOCH_S, a, sizeof a);
    snprintf(l[n++], LINE_CAP, "%s staged in %d %s (%d unscored)", a, v->n_epochs,
             dw_plural(v->n_epochs, "epoch", "epochs"), unscored);
    if (st.too_short) {                         /* a snippet is no night: no SE, SOL or WASO */
        hm(st.tst_min, a, sizeof a);
        snprintf(l[n++], LINE_CAP, "Too short for a night (under %d min scored): sleep %s, "
                 "no efficiency, SOL or WASO", DW_NIGHT_MIN_EPOCHS * DW_EPOCH_S / 60, a);
    } else if (st.sol_min < 0) {
        snprintf(l[n++], LINE_CAP, "No sleep scored.");
    } else {
        hm(st.tst_min, a, sizeof a);
        snprintf(l[n++], LINE_CAP,
                 "Total sleep %s, sleep efficiency %.1f %% of the time in bed", a, st.se_pct);
        snprintf(l[n++], LINE_CAP, "Sleep onset latency %.1f min, REM latency %s", st.sol_min,
                 st.rem_latency_min < 0 ? "none (no REM)" : (snprintf(b, sizeof b, "%.1f min", st.rem_latency_min), b));
        snprintf(l[n++], LINE_CAP, "Wake after sleep onset %.1f min, %d %s, %d %s", st.waso_min,
                 st.awakenings, dw_plural(st.awakenings, "awakening", "awakenings"), rp,
                 dw_plural(rp, "REM period", "REM periods"));
        snprintf(l[n++], LINE_CAP,
                 "Stages, %% of total sleep: N1 %.1f  N2 %.1f  N3 %.1f  R %.1f", st.tst_pct[DW_N1],
                 st.tst_pct[DW_N2], st.tst_pct[DW_N3], st.tst_pct[DW_R]);
    }
    snprintf(l[n++], LINE_CAP, "%d %s, %d %s; %d %s (%d critical)", v->stim_count,
             dw_plural(v->stim_count, "stimulus", "stimuli"), v->cue_count,
             dw_plural(v->cue_count, "REM cue", "REM cues"), v->n_alerts,
             dw_plural(v->n_alerts, "alert", "alerts"), crit);
    n += micro_lines(&v->session.micro, l + n);
    l[n++][0] = 0;
    snprintf(l[n++], LINE_CAP, "Recording:   %s", v->rec_path[0] ? base_name(v->rec_path) : "none");
    snprintf(l[n++], LINE_CAP, "Session log: %s", v->log_path[0] ? base_name(v->log_path) : "none");
    snprintf(l[n++], LINE_CAP, "Summary:     %s (written when dreamwatch stops)",
             v->summary_path[0] ? base_name(v->summary_path) : "none");
    const char *slash = v->log_path[0] ? strrchr(v->log_path, '/') : NULL;
    if (slash)
        snprintf(l[n++], LINE_CAP, "Folder:      %.*s", (int)(slash - v->log_path), v->log_path);
    return n;
}

/* Rows line l takes at text width w (an empty line: one). */
static int rows_of(const char *l, int w)
{
    int start[8], len[8], k = dw_wrap(l, w, start, len, 8);
    return k ? k : 1;
}

void dw_summary_draw(dw_screen *s)
{
    char l[LINES_MAX][LINE_CAP];
    int n = summary_lines(s, l), w = 4, rows = 0;
    for (int i = 0; i < n; i++) {
        int len = (int)strlen(l[i]) + 6;
        if (len > w) w = len;
    }
    if (w > BOX_W_MAX) w = BOX_W_MAX;
    if (w > COLS) w = COLS;
    for (int i = 0; i < n; i++)
        rows += rows_of(l[i], w - 6);
    int h = rows + 4 < LINES ? rows + 4 : LINES;
    dw_rect r = { (LINES - h) / 2, (COLS - w) / 2, h, w };
    dw_theme_use(&s->theme, DW_ROLE_DIALOG);
    dw_draw_fill(r);
    dw_draw_box(s, r, s->v.source_ended ? "Summary of the night (the replay ended; Esc closes, S shows it "
                                          "again)" : "Summary of the night so far (Esc closes)", 1);
    dw_theme_use(&s->theme, DW_ROLE_DIALOG);
    for (int i = 0, y = r.y + 2; i < n && y < r.y + r.h - 2; i++) {
        int k = rows_of(l[i], r.w - 6);
        dw_draw_wrapped(y, r.x + 3, r.w - 6, r.y + r.h - 2 - y, l[i]);
        y += k;
    }
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
}
