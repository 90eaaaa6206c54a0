/* Live signal traces, one band per channel, in braille dots (2x4 per cell) or ASCII. Every dot
 * column is the min..max of a fixed bin of samples counted from the start of the recording, so a
 * column, once drawn, never changes, and the pane is drawn again only when a whole bin has
 * arrived: at most `fps` times a second, and at most as many times as bins arrive (10 s on 101
 * columns: 5 samples of 100 Hz a bin, 20 bins a second). Sweep (the default, as bedside monitors
 * do): new columns overwrite the oldest ahead of a small gap, so only they go out to the terminal.
 * Scroll: the newest column is drawn right of the older ones; when the plot is full, the whole
 * plot moves left by a step. No terminal can move a part of its lines sideways (curses can only
 * rewrite them), so a move sends every trace cell again, and the step is sized from what a move
 * costs so that the moves take at most SCROLL_BYTES_S. */
#define DW_SCREEN_INTERNAL
#include "screen/screen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GAP_DOTS 4          /* blank dots ahead of the sweep */
/* Bytes a second the scroll moves may send: a third of the screen's 2 KB/s budget (README, "The
 * screen"), since the rest of the screen, the new columns included, takes up to 1.3 KB/s with 8
 * channels at 4 fps (tests/e2e/screen_link.sh and tests/bench/screen_bytes.sh measure the whole
 * screen against it). */
#define SCROLL_BYTES_S 640.0
#define ROW_BYTES 10        /* a row's cursor move and colour, sent with any change in it
                             * (measured in typescripts: 5-12 bytes, TERM=tmux-256color) */

/* The plot's place in the pane and its time base. */
typedef struct {
    int  ix, iy, iw, ih;    /* inside the box */
    int  lw, sw, pw;        /* label, scale bar and plot widths (cells) */
    long D, spd;            /* dot columns of the plot, samples (at DW_FS) per dot column */
} geom;

/* 0 when the pane in r is too small for a plot. */
static int geometry(const dw_screen *s, dw_rect r, geom *g)
{
    g->ix = r.x + 1, g->iy = r.y + 1, g->iw = r.w - 2, g->ih = r.h - 2;
    g->lw = g->iw >= 60 ? 9 : 6, g->sw = g->iw >= 40 ? 8 : 0, g->pw = g->iw - g->lw - g->sw;
    double secs = s->cfg->trace_seconds > 0 ? s->cfg->trace_seconds : 30;
    if (secs > DW_TRACE_N / DW_FS) secs = DW_TRACE_N / DW_FS;
    g->D = 2L * (g->pw > 0 ? g->pw : 1);
    g->spd = lround(secs * DW_FS / (double)g->D);
    if (g->spd < 1) g->spd = 1;
    return g->ih >= 1 && g->pw >= 4;
}

/* 1-2-5 steps (the usual EEG sensitivities); fine: 1-1.5-2-2.5-3-4-5-6-8, at most a third apart,
 * for one-row bands, whose four dots leave no room to waste. The step at or above v (v > 0), or
 * the step below v. */
static double scale_step(double v, int fine, int below)
{
    static const double coarse[] = { 1, 2, 5, 10 }, finer[] = { 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10 };
    const double *m = fine ? finer : coarse;
    int n = fine ? 10 : 4;
    double p = pow(10, floor(log10(v)));
    if (below) {
        for (int i = n - 1; i >= 0; i--)
            if (m[i] * p < v * (1 - 1e-9)) return m[i] * p;
        return p * (fine ? 0.8 : 0.5);
    }
    for (int i = 0; i < n; i++)
        if (m[i] * p >= v * (1 - 1e-9)) return m[i] * p;
    return p * 10;
}

/* The automatic scale (uV for half a band) for signals whose robust peak is raw uV, from the one
 * in use (cur; 0: none yet): the step above raw (at least 5 uV) when raw exceeds cur or falls
 * below 0.8 x the step under cur, else cur. The band keeps the scale from changing often (each
 * change redraws every trace cell), and a scale set by a transient comes down once the signal is
 * smaller by a step. */
static double auto_scale(double cur, double raw, int fine)
{
    raw = fmax(5, raw);
    if (cur <= 0 || raw > cur || raw < 0.8 * scale_step(cur, fine, 1))
        return scale_step(raw, fine, 0);
    return cur;
}

/* The q-quantile (0..1) of v[0..n), n > 0, reordered in place (Hoare's selection: linear time). */
static float quantile(float *v, int n, double q)
{
    int k = (int)(q * (n - 1)), lo = 0, hi = n - 1;
    while (lo < hi) {
        float pivot = v[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) { float t = v[i]; v[i++] = v[j]; v[j--] = t; }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else break;
    }
    return v[k];
}

static const char *short_label(const char *l)
{
    return !strncmp(l, "EEG ", 4) ? l + 4 : l;
}

/* The channels shown: frontal, parietal, then the others. */
static int channel_order(const dw_monitor *v, int order[DW_MAX_CH])
{
    int n = 0;
    if (v->frontal >= 0 && v->frontal < v->nch) order[n++] = v->frontal;
    if (v->parietal >= 0 && v->parietal < v->nch && v->parietal != v->frontal)
        order[n++] = v->parietal;
    for (int c = 0; c < v->nch && c < DW_MAX_CH; c++)
        if (c != v->frontal && c != v->parietal) order[n++] = c;
    return n;
}

/* Bins a scroll step moves. A move by t of a T-s plot sends the (T - t) s that stay (the cells
 * freed on the right are cleared to the end of the line, a few bytes): about trace_cost x (T - t)
 * / T bytes, once every t s. That stays within SCROLL_BYTES_S for t >= T r / (T + r), r =
 * trace_cost / SCROLL_BYTES_S; t is rounded up to half seconds, and kept between one bin and half
 * the plot. */
static long scroll_step(const dw_screen *s, const geom *g)
{
    double bins_s = DW_FS / (double)g->spd, T = g->D / bins_s;
    double r = s->trace_cost / SCROLL_BYTES_S, t = r > 0 ? ceil(T * r / (T + r) * 2) / 2 : T / 4;
    long k = (long)ceil(t * bins_s - 1e-9);
    if (k > g->D / 2) k = g->D / 2;
    return k < 1 ? 1 : k;
}

/* The bins shown, k_first..k_last (whole bins only); in scroll mode the plot's first bin moves by
 * steps, and only whole cells (two dot columns from k_first) are drawn: a half cell would go out
 * again with its second column a frame later (3 bytes a row a frame; scroll mode sends about 1.8
 * KB/s with 8 channels at 4 fps, most of it new columns, tests/e2e/screen_link.sh). */
static void bin_window(dw_screen *s, const geom *g, long *k_first, long *k_last)
{
    long kc = s->v.trace_total / g->spd;
    *k_last = kc - 1;
    if (!s->trace_scroll) {
        *k_first = kc - g->D + GAP_DOTS;
        return;
    }
    if (s->trace_k0 < 0 || s->trace_d != g->D || kc < s->trace_k0 || kc > s->trace_k0 + g->D) {
        s->trace_step = scroll_step(s, g);
        s->trace_k0 = kc - g->D + s->trace_step > 0 ? kc - g->D + s->trace_step : 0;
        s->trace_d = g->D;
    }
    *k_first = s->trace_k0;
    *k_last = *k_first + (kc - *k_first) / 2 * 2 - 1;
}

/* Per shown band i and dot column p: lo/hi[i * D + p], the min and max (uV) of its bin, joined to
 * the bin before (a continuous line); valid[p] when the bin has samples in the ring. Non-finite
 * samples (out of range) are left out. */
static void bins(const dw_screen *s, const geom *g, const int *order, int nshow, long k_first,
                 long k_last, float *lo, float *hi, unsigned char *valid)
{
    const dw_monitor *v = &s->v;
    long total = v->trace_total, oldest = total > DW_TRACE_N ? total - DW_TRACE_N : 0, D = g->D;
    for (long k = k_first > 0 ? k_first : 0; k <= k_last; k++) {
        long a = k * g->spd, b = a + g->spd;
        if (a > 0) a--;
        if (a < oldest) a = oldest;
        if (b > total) b = total;
        if (a >= b) continue;
        long p = s->trace_scroll ? k - k_first : k % D;
        valid[p] = 1;
        for (int i = 0; i < nshow; i++) {
            int c = order[i];
            float mn = INFINITY, mx = -INFINITY;
            for (long j = a; j < b; j++) {
                float x = v->trace[j % DW_TRACE_N][c];
                if (!isfinite(x)) continue;
                if (x < mn) mn = x;
                if (x > mx) mx = x;
            }
            if (mn > mx) mn = mx = 0;
            lo[i * D + p] = mn;
            hi[i * D + p] = mx;
        }
    }
}

/* The robust peak (uV) of bands from..to-1: the 95th percentile of the bins' |min| and |max|,
 * bands of unusable or artefact channels left out when skip_bad; 0 when nothing counted. tmp holds
 * 2 x D x bands. */
static double robust_peak(const dw_screen *s, const geom *g, const int *order, int from, int to,
                          int skip_bad, const float *lo, const float *hi,
                          const unsigned char *valid, float *tmp)
{
    int n = 0;
    for (int i = from; i < to; i++) {
        if (skip_bad && (s->v.chflags[order[i]] & (DW_Q_UNUSABLE | DW_Q_ARTEFACT))) continue;
        for (long p = 0; p < g->D; p++)
            if (valid[p]) {
                tmp[n++] = fabsf(lo[i * g->D + p]);
                tmp[n++] = fabsf(hi[i * g->D + p]);
            }
    }
    return n ? quantile(tmp, n, 0.95) : 0;
}

/* The scale of every band (uV for half a band): the fixed one; or automatic, one for all bands of
 * two rows and more (1.2 x their robust peak, on 1-2-5 steps: they compare), and for one-row bands
 * each its own (its robust peak, on fine steps: four dots show a signal only when it fills them).
 */
static void band_scales(dw_screen *s, const geom *g, const int *order, int nshow, int bh,
                        const float *lo, const float *hi, const unsigned char *valid, float *tmp,
                        double *scale)
{
    if (s->trace_scale > 0) {
        for (int i = 0; i < nshow; i++) scale[i] = s->trace_scale;
        return;
    }
    if (bh == 1) {
        for (int i = 0; i < nshow; i++) {
            double *cur = &s->trace_auto_ch[order[i]];
            double peak = robust_peak(s, g, order, i, i + 1, 0, lo, hi, valid, tmp);
            if (peak > 0) *cur = auto_scale(*cur, peak, 1);
            scale[i] = *cur > 0 ? *cur : 50;
        }
        return;
    }
    double peak = robust_peak(s, g, order, 0, nshow, 1, lo, hi, valid, tmp);
    if (peak > 0) s->trace_auto = auto_scale(s->trace_auto, peak * 1.2, 0);
    for (int i = 0; i < nshow; i++) scale[i] = s->trace_auto > 0 ? s->trace_auto : 50;
}

/* "50 µV", "1.5 µV", "2 mV" (ASCII: uV). */
static void scale_text(const dw_screen *s, double uv, char *out, size_t n)
{
    if (uv >= 1000) snprintf(out, n, "%g mV", uv / 1000);
    else snprintf(out, n, "%g %s", uv, s->utf8 ? "µV" : "uV");
}

static void draw_title(dw_screen *s, dw_rect r, int focused, const geom *g, int nch, int nshow,
                       int per_row, double scale)
{
    const dw_monitor *v = &s->v;
    char title[160], su[32], how[48];
    scale_text(s, scale, su, sizeof su);
    if (per_row) snprintf(how, sizeof how, "auto scale per row");
    else snprintf(how, sizeof how, "%s%s %s", s->utf8 ? "±" : "+-", su,
                  s->trace_scale > 0 ? "fixed" : "auto");
    if (s->trace_scroll)
        snprintf(title, sizeof title, "Traces %.0f s, %s, %s, scroll by %g s",
                 g->spd * g->D / (double)DW_FS, v->trace_filter[0] ? v->trace_filter : "raw", how,
                 s->trace_step * g->spd / (double)DW_FS);
    else
        snprintf(title, sizeof title, "Traces %.0f s, %s, %s, sweep", g->spd * g->D / (double)DW_FS,
                 v->trace_filter[0] ? v->trace_filter : "raw", how);
    if (nshow < nch) {                              /* say what is not shown, and how to see it */
        size_t l = strlen(title);
        if (s->trace_first)
            snprintf(title + l, sizeof title - l, ", %d-%d of %d (Up/Down)", s->trace_first + 1,
                     s->trace_first + nshow, nch);
        else
            snprintf(title + l, sizeof title - l, ", +%d more (Up/Down)", nch - nshow);
    }
    dw_draw_box(s, r, title, focused);
}

/* The label column of band i: its name, and its flag when the channel is not usable. */
static void draw_label(dw_screen *s, const geom *g, int c, int y0, int bh, unsigned bad, int role)
{
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
    dw_draw_fill((dw_rect){ y0, g->ix, bh, g->lw });
    dw_draw_text(y0, g->ix, g->lw - 1, short_label(s->v.label[c]));
    if (!bad) return;
    dw_theme_use(&s->theme, role);
    char flag[16];
    snprintf(flag, sizeof flag, "%s", dw_quality_name(bad));
    for (char *p = flag; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    if (bh > 1) dw_draw_text(y0 + 1, g->ix, g->lw - 1, flag);
    else dw_draw_text(y0, g->ix + g->lw - 2, 1, "!");
}

/* One cell's dots as text: the braille character, or an ASCII stroke for the dots' extent. Returns
 * the bytes written to out. */
static int cell_text(const dw_screen *s, unsigned b, char *out)
{
    if (!b) { out[0] = ' '; return 1; }
    if (s->utf8) {                                      /* U+2800 + dots */
        out[0] = (char)0xE2, out[1] = (char)(0xA0 | (b >> 6)), out[2] = (char)(0x80 | (b & 0x3F));
        return 3;
    }
    static const unsigned char dot_row[4] = { 0x09, 0x12, 0x24, 0xC0 };
    int top = 4, bot = -1;
    for (int y = 0; y < 4; y++)
        if (b & dot_row[y]) {
            if (y < top) top = y;
            bot = y;
        }
    out[0] = bot - top >= 2 ? '|' : top == 0 ? '\'' : top == 3 ? '_' : '-';
    return 1;
}

/* The dots of band i (bh rows from y0) at scale uV for half the band. Returns what a terminal is
 * sent to draw its rows afresh (bytes, estimated: a row's move and colour, its cells from the
 * first mark to the last), the cost of a scroll move. */
static long draw_band(dw_screen *s, const geom *g, int i, int y0, int bh, double scale,
                      const float *lo, const float *hi, const unsigned char *valid,
                      unsigned char *cells, char *row)
{
    long D = g->D, cost = 0;
    int pw = g->pw;
    memset(cells, 0, (size_t)(bh * pw));
    double half = 2.0 * bh;                             /* dots from the middle to the edge */
    for (long p = 0; p < D; p++) {
        if (!valid[p]) continue;
        long ya = lround(half - hi[i * D + p] / scale * half);
        long yb = lround(half - lo[i * D + p] / scale * half);
        if (ya < 0) ya = 0;
        if (yb > 4 * bh - 1) yb = 4 * bh - 1;
        if (ya > 4 * bh - 1) ya = 4 * bh - 1;
        if (yb < 0) yb = 0;
        for (long y = ya; y <= yb; y++) {
            static const unsigned char bit[2][4] = { { 0x01, 0x02, 0x04, 0x40 },
                                                     { 0x08, 0x10, 0x20, 0x80 } };
            cells[(y / 4) * pw + p / 2] |= bit[p % 2][y % 4];
        }
    }
    for (int ry = 0; ry < bh; ry++) {
        size_t o = 0, first = 0, last = 0;
        for (int cx = 0; cx < pw; cx++) {
            int n = cell_text(s, cells[ry * pw + cx], row + o);
            if (n > 1 || row[o] != ' ') { if (!last) first = o; last = o + (size_t)n; }
            o += (size_t)n;
        }
        row[o] = 0;
        mvaddstr(y0 + ry, g->ix + g->lw, row);
        if (last) cost += ROW_BYTES + (long)(last - first);
    }
    return cost;
}

/* The scale bar right of the plot: one bar from the top of band 1 to its middle with the common
 * scale, or each one-row band's own scale beside it. */
static void draw_scale_bar(dw_screen *s, const geom *g, int nshow, int bh, int per_row,
                           const double *scale)
{
    char su[32];
    dw_theme_use(&s->theme, DW_ROLE_DIM);
    dw_draw_fill((dw_rect){ g->iy, g->ix + g->lw + g->pw, g->ih, g->sw });
    if (per_row) {
        for (int i = 0; i < nshow; i++) {
            char pm[40];
            scale_text(s, scale[i], su, sizeof su);
            snprintf(pm, sizeof pm, "%s%s", s->utf8 ? "±" : "+-", su);
            dw_draw_text(g->iy + i, g->ix + g->lw + g->pw + 1, g->sw - 1, pm);
        }
        return;
    }
    int rows = bh / 2 > 0 ? bh / 2 : 1;
    for (int y = 0; y < rows; y++)
        mvaddstr(g->iy + y, g->ix + g->lw + g->pw + 1, dw_glyph(s, "│", "|"));
    scale_text(s, scale[0], su, sizeof su);
    dw_draw_text(g->iy, g->ix + g->lw + g->pw + 2, g->sw - 2, su);
}

static void draw(dw_screen *s, dw_rect r, int focused)
{
    const dw_monitor *v = &s->v;
    geom g;
    if (!geometry(s, r, &g)) { dw_draw_box(s, r, "Traces", focused); return; }
    int all[DW_MAX_CH], nch = channel_order(v, all);
    int nshow = nch < g.ih ? nch : g.ih, bh = nshow ? g.ih / nshow : g.ih;
    if (s->trace_first > nch - nshow) s->trace_first = nch - nshow;
    if (s->trace_first < 0) s->trace_first = 0;
    const int *order = all + s->trace_first;        /* the bands that fit, from trace_first on */
    long k_first, k_last, D = g.D;
    bin_window(s, &g, &k_first, &k_last);
    s->trace_bins = k_last + 1;
    s->trace_redraw = 0;
    size_t nb = (size_t)(D * (nshow ? nshow : 1));
    float *lo = malloc(sizeof(float) * nb), *hi = malloc(sizeof(float) * nb);
    float *tmp = malloc(sizeof(float) * 2 * nb);
    unsigned char *valid = calloc((size_t)D, 1), *cells = malloc((size_t)(bh * g.pw) + 1);
    char *row = malloc((size_t)g.pw * 4 + 1);
    double scale[DW_MAX_CH] = { 50 };
    if (!lo || !hi || !tmp || !valid || !row || !cells) goto done;
    bins(s, &g, order, nshow, k_first, k_last, lo, hi, valid);
    int per_row = bh == 1 && s->trace_scale <= 0;
    band_scales(s, &g, order, nshow, bh, lo, hi, valid, tmp, scale);
    draw_title(s, r, focused, &g, nch, nshow, per_row, scale[0]);
    long cost = 0;
    for (int i = 0; i < nshow; i++) {
        int c = order[i], y0 = g.iy + i * bh;
        unsigned bad = v->chflags[c] & (DW_Q_UNUSABLE | DW_Q_ARTEFACT);
        int role = bad & (DW_Q_RAILED | DW_Q_RANGE) ? DW_ROLE_RAILED
                 : bad ? DW_ROLE_FLAT : DW_ROLE_TRACE;
        draw_label(s, &g, c, y0, bh, bad, role);
        dw_theme_use(&s->theme, role);
        cost += draw_band(s, &g, i, y0, bh, scale[i], lo, hi, valid, cells, row);
    }
    s->trace_cost = cost;
    for (int y = g.iy + nshow * bh; y < g.iy + g.ih; y++) {
        dw_theme_use(&s->theme, DW_ROLE_TEXT);
        dw_draw_fill((dw_rect){ y, g.ix, 1, g.iw });
    }
    if (g.sw && nshow) draw_scale_bar(s, &g, nshow, bh, per_row, scale);
done:
    free(lo); free(hi); free(tmp); free(valid); free(row); free(cells);
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
}

/* A redraw is due when a whole bin arrived since the last one (scroll: a whole cell, or a move), or
 * a key changed the pane. */
static int due(dw_screen *s, dw_rect r)
{
    geom g;
    if (s->trace_redraw || !geometry(s, r, &g)) return 1;
    long kc = s->v.trace_total / g.spd;
    if (!s->trace_scroll || s->trace_k0 < 0 || kc > s->trace_k0 + g.D || kc < s->trace_k0)
        return kc != s->trace_bins;
    return s->trace_k0 + (kc - s->trace_k0) / 2 * 2 != s->trace_bins;
}

static int key(dw_screen *s, int k)
{
    double sc = s->trace_scale > 0 ? s->trace_scale : s->trace_auto > 0 ? s->trace_auto : 50;
    switch (k) {
    case 's': s->trace_scroll = !s->trace_scroll; s->trace_k0 = -1; break;
    case '[': s->trace_scale = scale_step(sc * 1.5, 0, 0); break;   /* zoom out: more uV per band */
    case ']': s->trace_scale = fmax(1, scale_step(sc / 2.5, 0, 0)); break;
    case '0': s->trace_scale = 0; break;
    case DW_KEY(KEY_UP): s->trace_first--; break;         /* clamped when drawn */
    case DW_KEY(KEY_DOWN): if (s->trace_first + 1 < s->v.nch) s->trace_first++; break;
    default: return 0;
    }
    s->trace_redraw = 1;
    return 1;
}

const dw_pane_ops dw_pane_traces = { "traces", DW_DEP_TRACE, draw, key, due };
