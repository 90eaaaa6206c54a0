/* The night as a step plot (W on top, then R, N1, N2, N3, as sleep researchers draw it) on the time axis
 * it shares with the spectrogram (timeview.c: the whole night, or zoomed in to one epoch per column), the
 * epoch in progress and the cursor marked, the reference hypnogram under it when one is loaded, the
 * whole-night hypnodensity strip (each stage's probability per column, shaded), a row of event marks
 * (alerts, markers, dream reports, REM cues, stimuli), the hour axis; beside it the stage probabilities of
 * the epoch in progress (or under the cursor) and the sleep statistics of the night so far. */
#define DW_SCREEN_INTERNAL
#include "screen/screen.h"

#include "dsp/sleep_events.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const int row_of[DW_NSTAGES] = { 0, 2, 3, 4, 1 };          /* W R N1 N2 N3 from the top */
static const int stage_at[DW_NSTAGES] = { DW_W, DW_R, DW_N1, DW_N2, DW_N3 };
static const char letter[DW_NSTAGES] = { 'W', '1', '2', '3', 'R' };

/* The most frequent scored stage in arr[a..b), DW_UNSCORED if none. */
static int column_stage(const signed char *arr, int a, int b)
{
    int count[DW_NSTAGES] = { 0 }, best = DW_UNSCORED;
    for (int i = a; i < b; i++)
        if (arr[i] >= 0 && arr[i] < DW_NSTAGES && ++count[arr[i]] > (best >= 0 ? count[best] : 0))
            best = arr[i];
    return best;
}

static void col_range(const dw_span *v, int x, int n, int *a, int *b)
{
    *a = v->first + x * v->epc;
    *b = *a + v->epc < n ? *a + v->epc : n;
}

static void step_plot(dw_screen *s, int y0, int x0, const dw_span *v, const signed char *arr, int n)
{
    int prev = -1;
    for (int x = 0; x < v->ncols; x++) {
        int a, b;
        col_range(v, x, n, &a, &b);
        if (a >= n) break;
        int st = column_stage(arr, a, b);
        if (st < 0) { prev = -1; continue; }
        int row = row_of[st];
        dw_theme_use(&s->theme, DW_ROLE_STAGE + st);
        if (prev < 0 || prev == row) {
            mvaddstr(y0 + row, x0 + x, st == DW_R ? dw_glyph(s, "━", "=") : dw_glyph(s, "─", "-"));
        } else {
            int down = row > prev;
            mvaddstr(y0 + prev, x0 + x, down ? dw_glyph(s, "┐", "+") : dw_glyph(s, "┘", "+"));
            for (int y = (down ? prev : row) + 1; y < (down ? row : prev); y++)
                mvaddstr(y0 + y, x0 + x, dw_glyph(s, "│", "|"));
            mvaddstr(y0 + row, x0 + x, down ? dw_glyph(s, "└", "+") : dw_glyph(s, "┌", "+"));
        }
        prev = row;
    }
}

static void labels(dw_screen *s, int y0, int x0, int role)
{
    for (int i = 0; i < DW_NSTAGES; i++) {
        dw_theme_use(&s->theme, role >= 0 ? role : DW_ROLE_STAGE + stage_at[i]);
        dw_draw_text(y0 + i, x0, DW_AXIS_W - 1, dw_stage_name(stage_at[i]));
    }
}

/* The whole-night hypnodensity: one row per stage, each column shaded by the stage's mean probability
 * over its scored epochs (unscored epochs stay blank: their label was withheld). */
static void density_strip(dw_screen *s, int y0, int x0, const dw_span *v, int n)
{
    static const char *const shade_u[5] = { " ", "░", "▒", "▓", "█" }, *const shade_a[5] = { " ", ".", ":", "+", "#" };
    labels(s, y0, x0 - DW_AXIS_W, DW_ROLE_DIM);
    for (int x = 0; x < v->ncols; x++) {
        int a, b;
        col_range(v, x, n, &a, &b);
        if (a >= n) break;
        double p[DW_NSTAGES] = { 0 };
        int k = 0;
        for (int e = a; e < b; e++)
            if (s->stage[e] >= 0) {
                k++;
                for (int st = 0; st < DW_NSTAGES; st++) p[st] += s->prob[e][st];
            }
        if (!k) continue;
        for (int i = 0; i < DW_NSTAGES; i++) {
            double q = p[stage_at[i]] / k;
            int lv = q < 0.1 ? 0 : q < 0.3 ? 1 : q < 0.55 ? 2 : q < 0.8 ? 3 : 4;
            dw_theme_use(&s->theme, DW_ROLE_STAGE + stage_at[i]);
            mvaddstr(y0 + i, x0 + x, s->utf8 ? shade_u[lv] : shade_a[lv]);
        }
    }
}

/* One mark per column, the most important event in it: ! alert, d dream report, m marker, c REM cue,
 * s stimulus. */
static void marks_row(dw_screen *s, int y, int x0, const dw_span *v)
{
    static const char glyph[DW_EV_NKINDS] = { 0, '!', 'm', 's', 'c', 'd' };
    static const int rank[DW_EV_NKINDS] = { 0, 5, 3, 1, 2, 4 };
    dw_theme_use(&s->theme, DW_ROLE_DIM);
    dw_draw_text(y, x0 - DW_AXIS_W, DW_AXIS_W - 1, "ev");
    int best_kind = -1, best_x = -1;
    for (int i = 0; i <= s->v.n_events; i++) {
        int x = -1, kind = -1;
        if (i < s->v.n_events) {
            kind = s->events[i].kind;
            x = dw_span_col(v, (int)(s->events[i].t / DW_EPOCH_S));
        }
        if (x != best_x || i == s->v.n_events) {       /* events are in time order: a column is done */
            if (best_x >= 0 && best_kind > 0) {
                dw_theme_use(&s->theme, best_kind == DW_EV_ALERT ? DW_ROLE_WARNING : DW_ROLE_TEXT);
                char c[2] = { glyph[best_kind], 0 };
                mvaddstr(y, x0 + best_x, c);
            }
            best_x = x;
            best_kind = -1;
        }
        if (x >= 0 && kind > 0 && (best_kind < 0 || rank[kind] > rank[best_kind]))
            best_kind = kind;
    }
}

static void tick_label(const dw_screen *s, double t, int step_s, char *lab, size_t n)
{
    if (s->v.start_wall > 0) {
        dw_clock(s, t, 0, lab, n);
    } else {
        long m = lround(t / 60);
        if (step_s % 3600 == 0) snprintf(lab, n, "%ldh", m / 60);
        else snprintf(lab, n, "%ld:%02ld", m / 60, m % 60);
    }
}

/* Clock ticks (hours, or finer when zoomed in) with their labels: right of the tick, or left of it when
 * the right side holds the epoch-in-progress mark or runs off the plot; skipped only if neither fits. */
static void time_axis(dw_screen *s, int y, int x0, const dw_span *v, int xc)
{
    static const int steps[] = { 300, 600, 900, 1800, 3600, 7200, 10800 };
    int step = steps[6];
    for (int i = 0; i < 7; i++)             /* ticks 14 columns apart: a label fits on either side */
        if (steps[i] / (DW_EPOCH_S * v->epc) >= 14) { step = steps[i]; break; }
    double off = 0;
    if (s->v.start_wall > 0) {
        time_t t0 = (time_t)s->v.start_wall;
        struct tm tm;
        localtime_r(&t0, &tm);
        off = fmod(tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec, step);
    }
    double t_first = v->first * (double)DW_EPOCH_S, t_end = (v->first + (double)v->ncols * v->epc) * DW_EPOCH_S;
    double t = ceil((t_first + off) / step) * step - off;
    if (t < t_first) t += step;
    int next_free = 0;
    for (; t < t_end; t += step) {
        int x = (int)((t / DW_EPOCH_S - v->first) / v->epc);
        if (x < 0 || x >= v->ncols) continue;
        char lab[16];
        tick_label(s, t, step, lab, sizeof lab);
        int len = (int)strlen(lab);
        dw_theme_use(&s->theme, DW_ROLE_DIM);
        if (x >= next_free) mvaddstr(y, x0 + x, dw_glyph(s, "╵", "|"));
        int right_ok = x + 1 >= next_free && x + len < v->ncols && !(xc > x && xc <= x + len);
        int left_ok = x - len >= next_free && !(xc >= x - len && xc < x);
        if (right_ok) {
            dw_draw_text(y, x0 + x + 1, len, lab);
            next_free = x + len + 2;
        } else if (left_ok) {
            dw_draw_text(y, x0 + x - len, len, lab);
            next_free = x + 2;
        }
    }
}

static void bar(dw_screen *s, int y, int x, int w, double frac)
{
    static const char *const eighth[8] = { "", "▏", "▎", "▍", "▌", "▋", "▊", "▉" };
    int units = (int)lround(fmin(fmax(frac, 0), 1) * w * 8);
    for (int i = 0; i < w; i++) {
        int u = units - i * 8;
        mvaddstr(y, x + i, u >= 8 ? dw_glyph(s, "█", "#") : u > 0 && s->utf8 ? eighth[u] : " ");
    }
}

/* The sleep statistics of the night so far, under the probability bars: stage shares are of total sleep
 * time, sleep efficiency of the time in bed (every scored epoch: an unscored one is no time). */
static int stats_lines(dw_screen *s, char out[6][64])
{
    dw_sleep_stats st;
    int rp, n = 0;
    dw_night_stats(s, &st, &rp);
    long tst = lround(st.tst_min);
    if (st.se_pct < 0)                         /* DW_NONE: no time in bed scored yet */
        snprintf(out[n++], 64, "so far: TST %ld:%02ld  SE --", tst / 60, tst % 60);
    else
        snprintf(out[n++], 64, "so far: TST %ld:%02ld  SE %.0f%%", tst / 60, tst % 60, st.se_pct);
    if (st.too_short)                     /* under DW_NIGHT_MIN_EPOCHS: no night's figures yet */
        snprintf(out[n++], 64, "SOL WASO: after %d min scored",
                 DW_NIGHT_MIN_EPOCHS * DW_EPOCH_S / 60);
    else if (st.sol_min < 0)
        snprintf(out[n++], 64, "no sleep yet");
    else
        snprintf(out[n++], 64, "SOL %.0f min  WASO %.0f min", st.sol_min, st.waso_min);
    snprintf(out[n++], 64, "awakenings %d  REM periods %d", st.awakenings, rp);
    if (st.tst_pct[DW_N1] == DW_NONE)          /* no sleep: no shares of it */
        snprintf(out[n++], 64, "%% of TST: none (no sleep)");
    else
        snprintf(out[n++], 64, "%% of TST: N1 %.0f N2 %.0f N3 %.0f R %.0f", st.tst_pct[DW_N1],
                 st.tst_pct[DW_N2], st.tst_pct[DW_N3], st.tst_pct[DW_R]);
    return n;
}

/* The spindles and slow waves so far, from the session (dw_micro_view: the summary's numbers):
 * "/min N2+N3: spindles 2.4 SW 6.1" and "epoch 242 N3: 3 spindles, 2 SW" (the last finished epoch,
 * where they count in its stage); compact, one line of 16 columns: "last 3 sp, 2 SW". */
static int micro_lines(dw_screen *s, char out[][64], int compact)
{
    const dw_micro_view *mv = &s->v.session.micro;
    char a[16], b[16], c[48];
    if (mv->epoch < 0) {
        snprintf(out[0], 64, compact ? "" : "no spindles yet");
        return 1;
    }
    dw_format_micro_epoch(c, sizeof c, mv->stage, mv->region, mv->last);
    if (compact) {
        int sp = dw_sleep_event_counts(DW_SLEEP_SPINDLE, mv->stage);
        int sw = dw_sleep_event_counts(DW_SLEEP_SLOW_WAVE, mv->stage) &&
                 dw_micro_on_region(DW_SLEEP_SLOW_WAVE, mv->region);
        if (sp && sw) snprintf(out[0], 64, "last %d sp, %d SW", mv->last[0], mv->last[1]);
        else if (sp) snprintf(out[0], 64, "last %d sp", mv->last[0]);
        else snprintf(out[0], 64, "last %s: none", mv->stage >= 0 ? dw_stage_name(mv->stage) : "-");
        return 1;
    }
    dw_format_micro_rate(a, sizeof a, mv->nrem[0]);
    dw_format_micro_rate(b, sizeof b, mv->nrem[1]);
    if (mv->nrem[0] == DW_NONE)
        snprintf(out[0], 64, "/min N2+N3: none yet");
    else
        snprintf(out[0], 64, "/min N2+N3: spindles %s SW %s", a, b);
    snprintf(out[1], 64, "epoch %d %s: %s", mv->epoch,
             mv->stage >= 0 ? dw_stage_name(mv->stage) : "unscored", c);
    return 2;
}

static void side(dw_screen *s, int y0, int x0, int w, int h)
{
    const dw_monitor *v = &s->v;
    int c = s->cursor >= 0 && s->cursor < v->n_epochs ? s->cursor : -1;
    int e = c >= 0 ? c : v->prov_stage >= 0 ? -1 : v->n_epochs - 1;   /* the epoch shown, -1 provisional */
    const float *p = e >= 0 ? s->prob[e] : v->prov_stage >= 0 ? v->prov_prob : NULL;
    int none = e >= 0 && !dw_epoch_has_prob(s->stage[e]);   /* unscored: no probabilities, no data */
    char head[64], clock[16];
    if (none) {                             /* the cursor's or the last: no bars either */
        snprintf(head, sizeof head, "epoch %d: unscored, no data", e);
    } else if (c >= 0) {
        dw_clock(s, c * (double)DW_EPOCH_S, 1, clock, sizeof clock);
        snprintf(head, sizeof head, "cursor: epoch %d, %s", c, clock);
    } else if (v->prov_stage >= 0) {
        snprintf(head, sizeof head, "now: epoch %d (provisional)", v->n_epochs);
    } else {
        snprintf(head, sizeof head, v->n_epochs ? "last epoch %d" : "no epoch yet", v->n_epochs - 1);
    }
    if (none)
        p = NULL;
    dw_theme_use(&s->theme, DW_ROLE_TITLE);
    dw_draw_text(y0, x0, w, head);
    for (int i = 0; i < DW_NSTAGES && i + 1 < h; i++) {
        int st = stage_at[i];
        dw_theme_use(&s->theme, DW_ROLE_STAGE + st);
        dw_draw_text(y0 + 1 + i, x0, 3, dw_stage_name(st));
        bar(s, y0 + 1 + i, x0 + 3, w - 8, p ? p[st] : 0);
        char pct[8];
        snprintf(pct, sizeof pct, p ? "%4.0f%%" : "    ", p ? 100.0 * p[st] : 0.0);
        dw_draw_text(y0 + 1 + i, x0 + w - 5, 5, pct);
    }
    char lines[8][64];
    int nl = stats_lines(s, lines), y = y0 + DW_NSTAGES + 2;
    dw_theme_use(&s->theme, DW_ROLE_DIM);
    if (y >= y0 + h && y0 + DW_NSTAGES + 1 < y0 + h) {    /* one row under the bars: compact */
        micro_lines(s, lines, 1);
        dw_draw_text(y0 + DW_NSTAGES + 1, x0, w, lines[0]);
        return;
    }
    nl += micro_lines(s, lines + nl, 0);
    for (int i = 0; i < nl && y + i < y0 + h; i++)
        dw_draw_text(y + i, x0, w, lines[i]);
}

/* The title: the epoch the view is about, the zoom, the agreement with a reference. */
static void title_of(dw_screen *s, const dw_span *sp, char *title, size_t cap, int has_ref, int hd)
{
    const dw_monitor *v = &s->v;
    int n = v->n_epochs, len, c = s->cursor >= 0 && s->cursor < n ? s->cursor : -1;
    if (c >= 0) {
        char clock[16];
        dw_clock(s, c * (double)DW_EPOCH_S, 1, clock, sizeof clock);
        len = snprintf(title, cap, "Hypnogram: cursor epoch %d %s %s", c, clock,
                       s->stage[c] >= 0 ? dw_stage_name(s->stage[c]) : "unscored");
    } else if (n > 0) {
        len = snprintf(title, cap, "Hypnogram: epoch %d %s", n - 1,
                       s->stage[n - 1] >= 0 ? dw_stage_name(s->stage[n - 1]) : "unscored");
    } else {
        len = snprintf(title, cap, "Hypnogram: no epoch yet");
    }
    if (!hd && c < 0 && v->prov_stage >= 0 && len < (int)cap)
        len += snprintf(title + len, cap - (size_t)len, ", now %s? %.0f%%", dw_stage_name(v->prov_stage),
                        100.0 * v->prov_prob[v->prov_stage]);
    if (s->tv_epc > 0 && sp->epc == s->tv_epc && len < (int)cap)
        len += snprintf(title + len, cap - (size_t)len, " | %d epoch%s/column", sp->epc, sp->epc > 1 ? "s" : "");
    if (has_ref && len < (int)cap) {
        int both = 0, same = 0;
        for (int i = 0; i < n && i < v->n_ref; i++)
            if (s->stage[i] >= 0 && v->ref_stage[i] >= 0) { both++; same += s->stage[i] == v->ref_stage[i]; }
        if (both) snprintf(title + len, cap - (size_t)len, " | Reference: %.0f%% agree (%d %s)",
                           100.0 * same / both, both, dw_plural(both, "epoch", "epochs"));
        else snprintf(title + len, cap - (size_t)len, " | Reference loaded");
    }
}

static void reference(dw_screen *s, int *y, int ix, int px, int pw, int hd, const dw_span *sp, int grid)
{
    const dw_monitor *v = &s->v;
    int m = v->n_ref < sp->total ? v->n_ref : sp->total;
    dw_theme_use(&s->theme, DW_ROLE_REF);
    if (grid) {
        for (int x = 0; x < pw + DW_AXIS_W; x++) mvaddstr(*y, ix + x, dw_glyph(s, "┄", "."));
        dw_draw_text(*y, px + 1, pw - 1, " Reference (expert scoring) ");
        labels(s, *y + 1, ix, DW_ROLE_REF);
        step_plot(s, *y + 1, px, sp, v->ref_stage, m);
        *y += 1 + DW_NSTAGES;
        return;
    }
    (void)hd;
    dw_draw_text(*y, ix, DW_AXIS_W - 1, "ref");             /* one row: a letter per column */
    for (int x = 0; x < sp->ncols; x++) {
        int a, b;
        col_range(sp, x, m, &a, &b);
        if (a >= m) break;
        int rs = column_stage(v->ref_stage, a, b);
        if (rs < 0) continue;
        dw_theme_use(&s->theme, DW_ROLE_STAGE + rs);
        char c[2] = { letter[rs], 0 };
        mvaddstr(*y, px + x, c);
    }
    (*y)++;
}

static void draw(dw_screen *s, dw_rect r, int focused)
{
    const dw_monitor *v = &s->v;
    int ix = r.x + 1, iy = r.y + 1, iw = r.w - 2, ih = r.h - 2;
    int hd = r.w >= 100 ? DW_SIDE_W - 1 : r.w >= 70 ? 18 : 0;
    int pw = iw - DW_AXIS_W - (hd ? hd + 1 : 0), px = ix + DW_AXIS_W;
    dw_span sp = dw_timeview(s, pw);
    /* rows: the plot (or the strip, d), then what fits of axis, marks, reference, strip */
    int rows = ih - DW_NSTAGES, axis = rows >= 1, marks = rows >= 2;
    rows -= axis + marks;
    int has_ref = v->n_ref > 0 && !s->density_only && rows >= 1;
    int ref_grid = has_ref && rows >= 1 + DW_NSTAGES;
    rows -= has_ref ? (ref_grid ? 1 + DW_NSTAGES : 1) : 0;
    int strip = !s->density_only && rows >= 1 + DW_NSTAGES;

    char title[240];
    title_of(s, &sp, title, sizeof title, has_ref, hd);
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
    dw_draw_fill((dw_rect){ iy, ix, ih, iw });
    dw_draw_box(s, r, title, focused);
    if (pw < 4 || ih < DW_NSTAGES) return;

    int n = v->n_epochs, xc = v->source_ended ? -1 : dw_span_col(&sp, n);
    if (s->density_only) {
        density_strip(s, iy, px, &sp, n);
    } else {
        labels(s, iy, ix, -1);
        step_plot(s, iy, px, &sp, s->stage, n);
        if (v->prov_stage >= 0 && xc >= 0) {                 /* the epoch in progress */
            dw_theme_use(&s->theme, DW_ROLE_CURRENT);
            mvaddstr(iy + row_of[v->prov_stage], px + xc, dw_glyph(s, "◆", "*"));
        }
    }
    int y = iy + DW_NSTAGES;
    if (has_ref) reference(s, &y, ix, px, pw, hd, &sp, ref_grid);
    if (strip) {
        dw_theme_use(&s->theme, DW_ROLE_DIM);
        for (int x = 0; x < pw + DW_AXIS_W; x++) mvaddstr(y, ix + x, dw_glyph(s, "┄", "."));
        dw_draw_text(y, px + 1, pw - 1, " Hypnodensity (stage probability per epoch) ");
        density_strip(s, y + 1, px, &sp, n);
        y += 1 + DW_NSTAGES;
    }
    if (marks) marks_row(s, y++, px, &sp);
    if (axis && y < iy + ih) {
        time_axis(s, y, px, &sp, xc);
        if (xc >= 0) {
            dw_theme_use(&s->theme, DW_ROLE_CURRENT);
            mvaddstr(y, px + xc, dw_glyph(s, "▲", "^"));
        }
    }
    int xk = s->cursor >= 0 ? dw_span_col(&sp, s->cursor) : -1;
    if (xk >= 0) {                                       /* the cursor: its column in reverse video */
        for (int yy = iy; yy < y; yy++)
            mvchgat(yy, px + xk, 1, A_REVERSE, s->theme.pair[DW_ROLE_FOCUS], NULL);
        if (axis && y < iy + ih) {
            dw_theme_use(&s->theme, DW_ROLE_FOCUS);
            mvaddstr(y, px + xk, dw_glyph(s, "╋", "+"));
        }
    }
    if (hd) {
        int sx = ix + iw - hd - 1;
        dw_theme_use(&s->theme, DW_ROLE_BORDER);
        for (int yy = iy; yy < iy + ih; yy++) mvaddstr(yy, sx, dw_glyph(s, "│", "|"));
        side(s, iy, sx + 2, hd - 2, ih);
    }
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
}

const dw_pane_ops dw_pane_hypnogram = { "hypnogram", DW_DEP_HYPNO | DW_DEP_EVENTS | DW_DEP_VIEW, draw,
                                        dw_timeview_key, NULL };
