/* Alerts, newest first: clock time, state (! active, - cleared, a tick once acknowledged), severity and the
 * whole text, word-wrapped over as many rows as it needs (up to three), so two alerts never read alike.
 * A critical alert whose cause has gone but that nobody acknowledged says so: it keeps stimulation off.
 * With focus, Up/Down select one (marked > and drawn in reverse video) and Enter acknowledges it. */
#define DW_SCREEN_INTERNAL
#include "screen/screen.h"

#include <stdio.h>
#include <string.h>

#define MAX_ROWS 3                  /* rows one alert may take */

static const dw_alert_view *row_alert(const dw_screen *s, int i)
{
    return &s->v.alerts[s->v.n_alerts - 1 - i];
}

static void text_of(const dw_screen *s, const dw_alert_view *a, char *out, size_t n)
{
    static const char *const sev[] = { "info", "WARN", "CRIT" };
    int sv = a->severity >= 0 && a->severity <= DW_CRITICAL ? a->severity : 0;
    char clock[16];
    dw_alert_clock(s, a, clock, sizeof clock);
    snprintf(out, n, "%s %s %s %s%s", clock, a->acked ? dw_glyph(s, "✓", "+") : a->active ? "!" : "-", sev[sv],
             a->text, a->severity == DW_CRITICAL && !a->active && !a->acked ?
             " (cleared: a to acknowledge)" : "");
}

static int rows_of(const dw_screen *s, const dw_alert_view *a, int w)
{
    char line[320];
    int st[MAX_ROWS], ln[MAX_ROWS];
    text_of(s, a, line, sizeof line);
    int n = dw_wrap(line, w, st, ln, MAX_ROWS);
    return n < 1 ? 1 : n;
}

static void draw(dw_screen *s, dw_rect r, int focused)
{
    const dw_monitor *v = &s->v;
    int ix = r.x + 1, iy = r.y + 1, iw = r.w - 2, ih = r.h - 2, tw = iw - 1;
    char title[64];
    int un = dw_unacked_alerts(s);
    snprintf(title, sizeof title, un ? "Alerts: %d new (a: ack)" : "Alerts", un);
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
    dw_draw_fill((dw_rect){ iy, ix, ih, iw });
    dw_draw_box(s, r, title, focused);
    for (int i = 0; i < v->n_alerts; i++)
        if (row_alert(s, i)->id == s->alert_sel_id) s->alert_sel = i;
    if (s->alert_sel >= v->n_alerts) s->alert_sel = v->n_alerts ? v->n_alerts - 1 : 0;
    if (!v->n_alerts) {
        dw_theme_use(&s->theme, DW_ROLE_DIM);
        dw_draw_text(iy, ix + 1, iw - 1, "no alerts");
        return;
    }
    int top = 0;                                   /* the first alert shown: the selected one fits */
    for (;;) {
        int used = 0;
        for (int i = top; i <= s->alert_sel && i < v->n_alerts; i++) used += rows_of(s, row_alert(s, i), tw);
        if (used <= ih || top >= s->alert_sel) break;
        top++;
    }
    int y = iy;
    for (int i = top; i < v->n_alerts && y < iy + ih; i++) {
        const dw_alert_view *a = row_alert(s, i);
        int sv = a->severity >= 0 && a->severity <= DW_CRITICAL ? a->severity : 0, sel = focused && i == s->alert_sel;
        char line[320], part[320];
        int st[MAX_ROWS], ln[MAX_ROWS];
        text_of(s, a, line, sizeof line);
        int n = dw_wrap(line, tw, st, ln, MAX_ROWS);
        dw_theme_use(&s->theme, a->acked ? DW_ROLE_ACKED : DW_ROLE_INFO + sv);
        if (sel) attron(A_REVERSE);
        for (int k = 0; k < n && y < iy + ih; k++, y++) {
            snprintf(part, sizeof part, "%.*s", ln[k], line + st[k]);
            mvaddstr(y, ix, sel && k == 0 ? ">" : " ");
            int used = dw_draw_text(y, ix + 1 + (k ? 2 : 0), tw - (k ? 2 : 0), part);
            if (sel) mvhline(y, ix + 1 + (k ? 2 : 0) + used, ' ', tw - (k ? 2 : 0) - used);
        }
        attroff(A_REVERSE);
    }
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
}

static int key(dw_screen *s, int k)
{
    const dw_monitor *v = &s->v;
    if (k == DW_KEY(KEY_UP) && s->alert_sel > 0) s->alert_sel--;
    else if (k == DW_KEY(KEY_DOWN) && s->alert_sel + 1 < v->n_alerts) s->alert_sel++;
    else if ((k == '\r' || k == '\n' || k == DW_KEY(KEY_ENTER)) && s->alert_sel < v->n_alerts) {
        if (dw_monitor_post(s->m, DW_CMD_ACK, row_alert(s, s->alert_sel)->id, NULL) < 0)
            dw_screen_say(s, "command queue full: try again");
    } else if (k != DW_KEY(KEY_UP) && k != DW_KEY(KEY_DOWN))
        return 0;
    if (s->alert_sel < v->n_alerts) s->alert_sel_id = row_alert(s, s->alert_sel)->id;
    return 1;
}

const dw_pane_ops dw_pane_alerts = { "alerts", DW_DEP_ALERTS, draw, key, NULL };
