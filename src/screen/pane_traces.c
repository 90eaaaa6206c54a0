/* Live signal traces, one band per channel, in braille dots (2x4 per cell) or ASCII.
 * Every dot column is the min..max of a fixed bin of samples counted from the start of the recording, so
 * a column, once drawn, never changes: in sweep mode (the default, as bedside monitors do) only the new
 * columns go out to the terminal; scroll mode shifts the whole band and is drawn at most once a second. */
#define DW_SCREEN_INTERNAL
#include "screen/screen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GAP_DOTS 4          /* blank dots ahead of the sweep */

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* 1-2-5 steps */
static double nice_up(double v)
{
    double p = pow(10, floor(log10(v)));
    for (int i = 0; i < 3; i++) {
        double step = p * (i == 0 ? 1 : i == 1 ? 2 : 5);
        if (step >= v) return step;
    }
    return p * 10;
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
    if (v->parietal >= 0 && v->parietal < v->nch && v->parietal != v->frontal) order[n++] = v->parietal;
    for (int c = 0; c < v->nch && c < DW_MAX_CH; c++)
        if (c != v->frontal && c != v->parietal) order[n++] = c;
    return n;
}

static void draw(dw_screen *s, dw_rect r, int focused)
{
    const dw_monitor *v = &s->v;
    int ix = r.x + 1, iy = r.y + 1, iw = r.w - 2, ih = r.h - 2;
    int lw = iw >= 60 ? 9 : 6, sw = iw >= 40 ? 8 : 0, pw = iw - lw - sw;
    if (ih < 1 || pw < 4) { dw_draw_box(s, r, "Traces", focused); return; }
    int all[DW_MAX_CH], nch = channel_order(v, all);
    int nshow = nch < ih ? nch : ih, bh = nshow ? ih / nshow : ih;
    if (s->trace_first > nch - nshow) s->trace_first = nch - nshow;
    if (s->trace_first < 0) s->trace_first = 0;
    const int *order = all + s->trace_first;            /* the bands that fit, from trace_first on */
    double secs = s->cfg->trace_seconds > 0 ? s->cfg->trace_seconds : 30;
    if (secs > DW_TRACE_N / DW_FS) secs = DW_TRACE_N / DW_FS;
    long D = 2L * pw, spd = lround(secs * DW_FS / (double)D);
    if (spd < 1) spd = 1;
    long total = v->trace_total, oldest = total > DW_TRACE_N ? total - DW_TRACE_N : 0;
    long k_last, k_first;                   /* bins shown */
    if (s->trace_scroll) { k_last = total / spd - 1; k_first = k_last - D + 1; }
    else { k_last = total > 0 ? (total - 1) / spd : -1; k_first = k_last - D + 1 + GAP_DOTS; }

    /* per shown channel and bin: min and max in uV */
    float *lo = malloc(sizeof(float) * (size_t)(D * (nshow ? nshow : 1))), *hi = malloc(sizeof(float) * (size_t)(D * (nshow ? nshow : 1)));
    float *peaks = malloc(sizeof(float) * (size_t)(2 * D * (nshow ? nshow : 1) + 1));
    unsigned char *valid = calloc((size_t)D, 1);
    char *row = malloc((size_t)pw * 4 + 1);
    unsigned char *cells = malloc((size_t)(bh * pw) + 1);
    if (!lo || !hi || !peaks || !valid || !row || !cells) goto done;
    int np = 0;
    for (long k = k_first > 0 ? k_first : 0; k <= k_last; k++) {
        long a = k * spd, b = a + spd;
        if (a > 0) a--;                                 /* join to the previous bin: a continuous line */
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
                if (!isfinite(x)) continue;               /* out of range: nothing to draw */
                if (x < mn) mn = x;
                if (x > mx) mx = x;
            }
            if (mn > mx) mn = mx = 0;
            lo[i * D + p] = mn;
            hi[i * D + p] = mx;
            if (!(v->chflags[c] & (DW_Q_UNUSABLE | DW_Q_ARTEFACT))) {   /* bad channels do not set the scale */
                peaks[np++] = fabsf(mn);
                peaks[np++] = fabsf(mx);
            }
        }
    }
    double scale = s->trace_scale;
    if (scale <= 0) {                                   /* auto, with hysteresis so it rarely changes */
        if (np > 0) {
            qsort(peaks, (size_t)np, sizeof *peaks, cmp_float);
            double want = nice_up(fmax(5, peaks[np * 95 / 100] * 1.2));
            if (s->trace_auto <= 0 || want > s->trace_auto || want < s->trace_auto / 2.5)
                s->trace_auto = want;
        }
        scale = s->trace_auto > 0 ? s->trace_auto : 50;
    }

    char title[160], su[32];
    snprintf(su, sizeof su, "%g %s", scale, s->utf8 ? "µV" : "uV");
    snprintf(title, sizeof title, "Traces %.0f s, %s, %s%s %s, %s", spd * D / (double)DW_FS,
             v->trace_filter[0] ? v->trace_filter : "raw", s->utf8 ? "±" : "+-", su,
             s->trace_scale > 0 ? "fixed" : "auto", s->trace_scroll ? "scroll" : "sweep");
    if (nshow < nch) {                                  /* say what is not shown, and how to see it */
        size_t l = strlen(title);
        snprintf(title + l, sizeof title - l, ", %s%d more (Up/Down)", s->trace_first ? "" : "+",
                 nch - nshow);
        if (s->trace_first)
            snprintf(title + l, sizeof title - l, ", %d-%d of %d (Up/Down)", s->trace_first + 1,
                     s->trace_first + nshow, nch);
    }
    dw_draw_box(s, r, title, focused);
    for (int i = 0; i < nshow; i++) {
        int c = order[i], y0 = iy + i * bh;
        unsigned bad = v->chflags[c] & (DW_Q_UNUSABLE | DW_Q_ARTEFACT);
        int role = bad & (DW_Q_RAILED | DW_Q_RANGE) ? DW_ROLE_RAILED : bad ? DW_ROLE_FLAT : DW_ROLE_TRACE;
        /* label column */
        dw_theme_use(&s->theme, DW_ROLE_TEXT);
        dw_draw_fill((dw_rect){ y0, ix, bh, lw });
        dw_draw_text(y0, ix, lw - 1, short_label(v->label[c]));
        if (bad) {
            dw_theme_use(&s->theme, role);
            char flag[16];
            snprintf(flag, sizeof flag, "%s", dw_quality_name(bad));
            for (char *p = flag; *p; p++)
                *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
            if (bh > 1) dw_draw_text(y0 + 1, ix, lw - 1, flag);
            else dw_draw_text(y0, ix + lw - 2, 1, "!");
        }
        /* dots */
        memset(cells, 0, (size_t)(bh * pw));
        double half = 2.0 * bh;                          /* dots from the middle to the edge */
        for (long p = 0; p < D; p++) {
            if (!valid[p]) continue;
            long ya = lround(half - hi[i * D + p] / scale * half), yb = lround(half - lo[i * D + p] / scale * half);
            if (ya < 0) ya = 0;
            if (yb > 4 * bh - 1) yb = 4 * bh - 1;
            if (ya > 4 * bh - 1) ya = 4 * bh - 1;
            if (yb < 0) yb = 0;
            for (long y = ya; y <= yb; y++) {
                static const unsigned char bit[2][4] = { { 0x01, 0x02, 0x04, 0x40 }, { 0x08, 0x10, 0x20, 0x80 } };
                cells[(y / 4) * pw + p / 2] |= bit[p % 2][y % 4];
            }
        }
        dw_theme_use(&s->theme, role);
        for (int ry = 0; ry < bh; ry++) {
            size_t o = 0;
            for (int cx = 0; cx < pw; cx++) {
                unsigned b = cells[ry * pw + cx];
                if (!b) { row[o++] = ' '; continue; }
                if (s->utf8) {                          /* U+2800 + dots */
                    row[o++] = (char)0xE2; row[o++] = (char)(0xA0 | (b >> 6)); row[o++] = (char)(0x80 | (b & 0x3F));
                    continue;
                }
                static const unsigned char dot_row[4] = { 0x09, 0x12, 0x24, 0xC0 };
                int top = 4, bot = -1;                  /* ASCII: the dots' extent in the cell */
                for (int y = 0; y < 4; y++)
                    if (b & dot_row[y]) {
                        if (y < top) top = y;
                        bot = y;
                    }
                row[o++] = bot - top >= 2 ? '|' : top == 0 ? '\'' : top == 3 ? '_' : '-';
            }
            row[o] = 0;
            mvaddstr(y0 + ry, ix + lw, row);
        }
    }
    for (int y = iy + nshow * bh; y < iy + ih; y++) {
        dw_theme_use(&s->theme, DW_ROLE_TEXT);
        dw_draw_fill((dw_rect){ y, ix, 1, iw });
    }
    if (sw && nshow) {                                   /* scale bar: from the top of band 1 to its middle */
        dw_theme_use(&s->theme, DW_ROLE_DIM);
        dw_draw_fill((dw_rect){ iy, ix + lw + pw, ih, sw });
        int rows = bh / 2 > 0 ? bh / 2 : 1;
        for (int y = 0; y < rows; y++)
            mvaddstr(iy + y, ix + lw + pw + 1, dw_glyph(s, "│", "|"));
        dw_draw_text(iy, ix + lw + pw + 2, sw - 2, su);
    }
done:
    free(lo); free(hi); free(peaks); free(valid); free(row); free(cells);
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
}

static int key(dw_screen *s, int k)
{
    double sc = s->trace_scale > 0 ? s->trace_scale : s->trace_auto > 0 ? s->trace_auto : 50;
    switch (k) {
    case 's': s->trace_scroll = !s->trace_scroll; break;
    case '[': s->trace_scale = nice_up(sc * 1.5); break;           /* zoom out: more uV per band */
    case ']': s->trace_scale = fmax(1, nice_up(sc / 2.5)); break;
    case '0': s->trace_scale = 0; break;
    case DW_KEY(KEY_UP): s->trace_first--; break;         /* clamped when drawn */
    case DW_KEY(KEY_DOWN): if (s->trace_first + 1 < s->v.nch) s->trace_first++; break;
    default: return 0;
    }
    s->trace_drawn_at = 0;
    return 1;
}

const dw_pane_ops dw_pane_traces = { "traces", DW_DEP_TRACE, draw, key };
