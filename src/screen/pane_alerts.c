/* Alerts, newest first: time, severity, text, whether acknowledged. With focus, up/down select one and
 * Enter acknowledges it. */
#define DW_SCREEN_INTERNAL
#include "screen/screen.h"

#include <stdio.h>

static void draw(dw_screen *s, dw_rect r, int focused)
{
    const dw_monitor *v = &s->v;
    int ix = r.x + 1, iy = r.y + 1, iw = r.w - 2, ih = r.h - 2;
    char title[64];
    int un = dw_unacked_alerts(s);
    snprintf(title, sizeof title, un ? "Alerts: %d new (a: ack)" : "Alerts", un);
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
    dw_draw_fill((dw_rect){ iy, ix, ih, iw });
    dw_draw_box(s, r, title, focused);
    for (int i = 0; i < v->n_alerts; i++)
        if (v->alerts[v->n_alerts - 1 - i].id == s->alert_sel_id) s->alert_sel = i;
    if (s->alert_sel >= v->n_alerts) s->alert_sel = v->n_alerts ? v->n_alerts - 1 : 0;
    if (!v->n_alerts) {
        dw_theme_use(&s->theme, DW_ROLE_DIM);
        dw_draw_text(iy, ix + 1, iw - 1, "no alerts");
    }
    int top = s->alert_sel >= ih ? s->alert_sel - ih + 1 : 0;
    for (int row = 0; row < ih && top + row < v->n_alerts; row++) {
        int i = top + row;
        const dw_alert_view *a = &v->alerts[v->n_alerts - 1 - i];
        static const char *const sev[] = { "info", "WARN", "CRIT" };
        int sv = a->severity >= 0 && a->severity <= DW_CRITICAL ? a->severity : 0;
        char clock[16], line[200];
        dw_alert_clock(s, a, clock, sizeof clock);
        snprintf(line, sizeof line, "%s %s %s %s", clock, a->acked ? dw_glyph(s, "✓", "+") : a->active ? "!" : "-",
                 sev[sv], a->text);
        dw_theme_use(&s->theme, focused && i == s->alert_sel ? DW_ROLE_FOCUS :
                                a->acked ? DW_ROLE_ACKED : DW_ROLE_INFO + sv);
        int used = dw_draw_text(iy + row, ix, iw, line);
        if (focused && i == s->alert_sel)
            mvhline(iy + row, ix + used, ' ', iw - used);
    }
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
}

static int key(dw_screen *s, int k)
{
    const dw_monitor *v = &s->v;
    if (k == DW_KEY(KEY_UP) && s->alert_sel > 0) s->alert_sel--;
    else if (k == DW_KEY(KEY_DOWN) && s->alert_sel + 1 < v->n_alerts) s->alert_sel++;
    else if ((k == '\r' || k == '\n' || k == DW_KEY(KEY_ENTER)) && s->alert_sel < v->n_alerts) {
        if (dw_monitor_post(s->m, DW_CMD_ACK, v->alerts[v->n_alerts - 1 - s->alert_sel].id, NULL) < 0)
            dw_screen_say(s, "command queue full: try again");
    } else if (k != DW_KEY(KEY_UP) && k != DW_KEY(KEY_DOWN))
        return 0;
    if (s->alert_sel < v->n_alerts) s->alert_sel_id = v->alerts[v->n_alerts - 1 - s->alert_sel].id;
    return 1;
}

const dw_pane_ops dw_pane_alerts = { "alerts", DW_DEP_ALERTS, draw, key };
