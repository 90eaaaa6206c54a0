/* The night's spectrogram on the time axis it shares with the hypnogram (timeview.c): one column per
 * epoch or group of epochs, frequency up, log power colour-mapped (two frequency rows per cell with half
 * blocks, density characters without colour), the cursor's column marked, and a colour legend on the
 * bottom border: the power each end of the palette stands for, in dB re 1 uV^2/Hz. */
#define DW_SCREEN_INTERNAL
#include "screen/screen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char density[] = " .:-=+*#%@";

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* "-5 dB [palette] +25 dB" on the bottom border, right-aligned (lo, hi: log10 power). */
static void legend(dw_screen *s, dw_rect r, double lo, double hi, int ncolour)
{
    char a[16], b[24];
    snprintf(a, sizeof a, " %.0f dB ", 10 * lo);
    snprintf(b, sizeof b, " %.0f dB uV2/Hz ", 10 * hi);
    int w = (int)strlen(a) + ncolour + (int)strlen(b), x = r.x + r.w - 2 - w;
    if (x < r.x + 2 + 12)
        return;
    dw_theme_use(&s->theme, DW_ROLE_DIM);
    x += dw_draw_text(r.y + r.h - 1, x, (int)strlen(a), a);
    for (int c = 0; c < ncolour; c++, x++) {
        if (s->theme.colours) {
            attr_set(A_NORMAL, dw_theme_pair(&s->theme, s->theme.spec[c], s->theme.spec[c]), NULL);
            mvaddstr(r.y + r.h - 1, x, s->utf8 ? "█" : "#");
        } else {
            char ch[2] = { density[c], 0 };
            dw_theme_use(&s->theme, DW_ROLE_TEXT);
            mvaddstr(r.y + r.h - 1, x, ch);
        }
    }
    dw_theme_use(&s->theme, DW_ROLE_DIM);
    dw_draw_text(r.y + r.h - 1, x, (int)strlen(b), b);
}

static void draw(dw_screen *s, dw_rect r, int focused)
{
    const dw_monitor *v = &s->v;
    int ix = r.x + 1, iy = r.y + 1, iw = r.w - 2, ih = r.h - 2;
    int px = ix + DW_AXIS_W, pw = iw - DW_AXIS_W;
    int halves = s->theme.colours && s->utf8, nlev = ih * (halves ? 2 : 1);
    char title[128];
    int fr = v->frontal >= 0 && v->frontal < v->nch ? v->frontal : 0;
    snprintf(title, sizeof title, "Spectrogram %s, %.1f-%.0f Hz, log power", v->nch ? v->label[fr] : "",
             DW_SPEC_BIN0 * 100.0 / 256, (DW_SPEC_BIN0 + DW_SPEC_BINS - 1) * 100.0 / 256);
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
    dw_draw_fill((dw_rect){ iy, ix, ih, iw });
    dw_draw_box(s, r, title, focused);
    if (pw < 2 || ih < 1) return;
    dw_theme_use(&s->theme, DW_ROLE_DIM);
    dw_draw_text(iy, ix, DW_AXIS_W - 1, "30");
    if (ih > 2) dw_draw_text(iy + ih / 2, ix, DW_AXIS_W - 1, "15");
    if (ih > 1) dw_draw_text(iy + ih - 1, ix, DW_AXIS_W - 1, "Hz");
    int n = v->n_epochs;
    if (!n) return;
    dw_span sp = dw_timeview(s, pw);
    int ncol = 0;
    while (ncol < sp.ncols && sp.first + ncol * sp.epc < n) ncol++;
    if (!ncol) return;
    double *val = malloc(sizeof(double) * (size_t)(ncol * nlev)), *sorted = malloc(sizeof(double) * (size_t)(ncol * nlev));
    if (!val || !sorted) { free(val); free(sorted); return; }
    for (int x = 0; x < ncol; x++) {
        int a = sp.first + x * sp.epc, b = a + sp.epc < n ? a + sp.epc : n;
        for (int l = 0; l < nlev; l++) {                   /* level 0 is the lowest frequency */
            int k0 = l * DW_SPEC_BINS / nlev, k1 = (l + 1) * DW_SPEC_BINS / nlev;
            if (k1 <= k0) k1 = k0 + 1;
            double sum = 0;
            for (int e = a; e < b; e++)
                for (int k = k0; k < k1; k++) sum += s->spec[e][k];
            val[x * nlev + l] = sum / ((b - a) * (k1 - k0));
        }
    }
    memcpy(sorted, val, sizeof(double) * (size_t)(ncol * nlev));
    qsort(sorted, (size_t)(ncol * nlev), sizeof *sorted, cmp_double);
    /* the colour range: 2nd to 98th percentile, in quarter decades so it rarely moves */
    double lo = floor(sorted[ncol * nlev * 2 / 100] * 4) / 4, hi = ceil(sorted[ncol * nlev * 98 / 100] * 4) / 4;
    if (hi <= lo) hi = lo + 0.25;
    int ncolour = halves || s->theme.colours ? s->theme.nspec : 10;
    for (int x = 0; x < ncol; x++)
        for (int row = 0; row < ih; row++) {
            int lev[2];
            for (int h = 0; h < (halves ? 2 : 1); h++) {
                int l = halves ? (ih - 1 - row) * 2 + (1 - h) : ih - 1 - row;  /* h 0: upper half */
                double f = (val[x * nlev + l] - lo) / (hi - lo);
                int c = (int)(f * ncolour);
                lev[h] = c < 0 ? 0 : c >= ncolour ? ncolour - 1 : c;
            }
            if (halves) {
                attr_set(A_NORMAL, dw_theme_pair(&s->theme, s->theme.spec[lev[0]], s->theme.spec[lev[1]]), NULL);
                mvaddstr(iy + row, px + x, "▀");
            } else if (s->theme.colours) {
                attr_set(A_NORMAL, dw_theme_pair(&s->theme, -1, s->theme.spec[lev[0]]), NULL);
                mvaddstr(iy + row, px + x, " ");
            } else {
                char c[2] = { density[lev[0]], 0 };
                dw_theme_use(&s->theme, DW_ROLE_TEXT);
                mvaddstr(iy + row, px + x, c);
            }
        }
    free(val);
    free(sorted);
    legend(s, r, lo, hi, ncolour);
    int xk = s->cursor >= 0 ? dw_span_col(&sp, s->cursor) : -1;
    if (xk >= 0) {                                           /* the cursor, on the top border */
        dw_theme_use(&s->theme, DW_ROLE_FOCUS);
        mvaddstr(r.y, px + xk, dw_glyph(s, "▼", "v"));
    }
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
}

const dw_pane_ops dw_pane_spectrogram = { "spectrogram", DW_DEP_HYPNO | DW_DEP_VIEW, draw, dw_timeview_key, NULL };
