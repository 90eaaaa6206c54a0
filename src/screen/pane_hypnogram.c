/* The night so far as a step plot (W on top, then R, N1, N2, N3, as sleep researchers draw it), the
 * epoch in progress marked, the reference hypnogram under it when one is loaded, and the current epoch's
 * stage probabilities as bars (the hypnodensity of this moment). When the night is wider than the pane,
 * each column shows the most frequent stage of several epochs. */
#define DW_SCREEN_INTERNAL
#include "screen/screen.h"

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

static void step_plot(dw_screen *s, int y0, int x0, int ncols, int epc, const signed char *arr, int n, int role)
{
    int prev = -1;
    for (int x = 0; x < ncols && x * epc < n; x++) {
        int b = (x + 1) * epc < n ? (x + 1) * epc : n;
        int st = column_stage(arr, x * epc, b);
        if (st < 0) { prev = -1; continue; }
        int row = row_of[st];
        dw_theme_use(&s->theme, role >= 0 ? role : DW_ROLE_STAGE + st);
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

/* Hour ticks: clock hours when the recording's start is known, else hours since the start. */
static void time_axis(dw_screen *s, int y, int x0, int ncols, int epc, int xc)
{
    dw_theme_use(&s->theme, DW_ROLE_DIM);
    double first = 3600;
    if (s->v.start_wall > 0) {
        time_t t0 = (time_t)s->v.start_wall;
        struct tm tm;
        localtime_r(&t0, &tm);
        first = 3600 - (tm.tm_min * 60 + tm.tm_sec);
    }
    int next_free = 0;
    for (double t = first; t / DW_EPOCH_S / epc < ncols; t += 3600) {
        int x = (int)(t / DW_EPOCH_S / epc);
        char lab[16];
        if (s->v.start_wall > 0) dw_clock(s, t, 0, lab, sizeof lab);
        else snprintf(lab, sizeof lab, "%.0fh", t / 3600);
        if (x < next_free) continue;
        mvaddstr(y, x0 + x, dw_glyph(s, "╵", "|"));
        if (xc > x && xc <= x + (int)strlen(lab)) continue;      /* the current-epoch mark is there */
        next_free = x + 1 + dw_draw_text(y, x0 + x + 1, ncols - x - 1, lab) + 1;
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

static void hypnodensity(dw_screen *s, int y0, int x0, int w, int h)
{
    const dw_monitor *v = &s->v;
    const float *p = v->prov_stage >= 0 ? v->prov_prob : v->n_epochs ? s->prob[v->n_epochs - 1] : NULL;
    dw_theme_use(&s->theme, DW_ROLE_TITLE);
    char head[64];
    if (v->prov_stage >= 0) snprintf(head, sizeof head, "now, epoch %d (provisional)", v->n_epochs + 1);
    else snprintf(head, sizeof head, "epoch %d", v->n_epochs);
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
    if (h > DW_NSTAGES + 2 && v->n_epochs) {
        int st = s->stage[v->n_epochs - 1];
        dw_theme_use(&s->theme, DW_ROLE_DIM);
        char last[64];
        snprintf(last, sizeof last, "last epoch %d: %s %.0f%%", v->n_epochs, dw_stage_name(st),
                 st >= 0 ? 100.0 * s->prob[v->n_epochs - 1][st] : 0.0);
        dw_draw_text(y0 + DW_NSTAGES + 2, x0, w, last);
    }
}

static void draw(dw_screen *s, dw_rect r, int focused)
{
    const dw_monitor *v = &s->v;
    int ix = r.x + 1, iy = r.y + 1, iw = r.w - 2, ih = r.h - 2;
    int hd = r.w >= 100 ? DW_SIDE_W - 1 : r.w >= 70 ? 18 : 0;
    int pw = iw - DW_AXIS_W - (hd ? hd + 1 : 0), px = ix + DW_AXIS_W;
    int has_ref = v->n_ref > 0 && ih >= DW_NSTAGES + 1;
    int ref_grid = has_ref && ih >= 2 * DW_NSTAGES + 2;
    int axis = ih > DW_NSTAGES + has_ref;
    int n = v->n_epochs, cur = n;                        /* the epoch in progress */
    int epc = pw > 0 ? (cur + 1 + pw - 1) / pw : 1;
    if (epc < 1) epc = 1;

    char title[200];
    int st = dw_current_stage(s), len;
    if (st >= 0) len = snprintf(title, sizeof title, "Hypnogram: epoch %d %s", n, dw_stage_name(st));
    else len = snprintf(title, sizeof title, "Hypnogram: no epoch yet");
    if (!hd && v->prov_stage >= 0 && len < (int)sizeof title)
        len += snprintf(title + len, sizeof title - (size_t)len, ", now %s? %.0f%%", dw_stage_name(v->prov_stage),
                        100.0 * v->prov_prob[v->prov_stage]);
    if (has_ref && len < (int)sizeof title) {
        int both = 0, same = 0;
        for (int i = 0; i < n && i < v->n_ref; i++)
            if (s->stage[i] >= 0 && v->ref_stage[i] >= 0) { both++; same += s->stage[i] == v->ref_stage[i]; }
        if (both) snprintf(title + len, sizeof title - (size_t)len, " | Reference: %.0f%% agree (%d epochs)",
                           100.0 * same / both, both);
        else snprintf(title + len, sizeof title - (size_t)len, " | Reference loaded");
    }
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
    dw_draw_fill((dw_rect){ iy, ix, ih, iw });
    dw_draw_box(s, r, title, focused);
    if (pw < 4 || ih < DW_NSTAGES) return;

    labels(s, iy, ix, -1);
    step_plot(s, iy, px, pw, epc, s->stage, n, -1);
    int xc = cur / epc;
    if (v->prov_stage >= 0 && xc < pw) {                 /* the epoch in progress */
        dw_theme_use(&s->theme, DW_ROLE_CURRENT);
        mvaddstr(iy + row_of[v->prov_stage], px + xc, dw_glyph(s, "◆", "*"));
    }
    int y = iy + DW_NSTAGES;
    if (ref_grid) {
        dw_theme_use(&s->theme, DW_ROLE_REF);
        for (int x = 0; x < iw - (hd ? hd + 1 : 0); x++) mvaddstr(y, ix + x, dw_glyph(s, "┄", "."));
        dw_draw_text(y, px + 1, pw - 1, " Reference (expert scoring) ");
        labels(s, y + 1, ix, DW_ROLE_REF);
        step_plot(s, y + 1, px, pw, epc, v->ref_stage, v->n_ref < cur + 1 ? v->n_ref : cur + 1, -1);
        y += 1 + DW_NSTAGES;
    } else if (has_ref) {                                /* one row: a letter per column */
        dw_theme_use(&s->theme, DW_ROLE_REF);
        dw_draw_text(y, ix, DW_AXIS_W - 1, "ref");
        int m = v->n_ref < cur + 1 ? v->n_ref : cur + 1;
        for (int x = 0; x < pw && x * epc < m; x++) {
            int rs = column_stage(v->ref_stage, x * epc, (x + 1) * epc < m ? (x + 1) * epc : m);
            if (rs < 0) continue;
            dw_theme_use(&s->theme, DW_ROLE_STAGE + rs);
            char c[2] = { letter[rs], 0 };
            mvaddstr(y, px + x, c);
        }
        y++;
    }
    if (axis && y < iy + ih) {
        time_axis(s, y, px, pw, epc, xc);
        if (xc < pw) {
            dw_theme_use(&s->theme, DW_ROLE_CURRENT);
            mvaddstr(y, px + xc, dw_glyph(s, "▲", "^"));
        }
    }
    if (hd) {
        int sx = ix + iw - hd - 1;
        dw_theme_use(&s->theme, DW_ROLE_BORDER);
        for (int yy = iy; yy < iy + ih; yy++) mvaddstr(yy, sx, dw_glyph(s, "│", "|"));
        hypnodensity(s, iy, sx + 2, hd - 2, ih);
    }
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
}

const dw_pane_ops dw_pane_hypnogram = { "hypnogram", DW_DEP_HYPNO, draw, NULL };
