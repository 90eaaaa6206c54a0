/* The night's events (e: in place of the traces), newest first: alerts raised, markers, stimuli, REM cues,
 * dream reports and notes (mode changes, wakes), with their clock time. The selected event shows its
 * whole first line, wrapped. With focus: Up/Down/PgUp/PgDn/Home/End select, Enter puts the hypnogram's
 * cursor on the event's epoch, f cycles the kinds shown (which [ and ] then jump to). */
#define DW_SCREEN_INTERNAL
#include "screen/screen.h"

#include <stdio.h>
#include <string.h>

/* Index into s->events of the row-th event passing the filter, newest first; -1 past the end. */
static int nth(const dw_screen *s, int row, int *count)
{
    int k = 0, found = -1;
    for (int i = s->v.n_events - 1; i >= 0; i--)
        if (s->ev_filter < 0 || s->events[i].kind == s->ev_filter) {
            if (k == row) found = i;
            k++;
        }
    if (count) *count = k;
    return found;
}

static int role_of(const dw_event_view *e)
{
    if (e->kind == DW_EV_ALERT) return DW_ROLE_INFO + (e->severity >= 0 && e->severity <= DW_CRITICAL ? e->severity : 0);
    return e->kind == DW_EV_NOTE ? DW_ROLE_DIM : DW_ROLE_TEXT;
}

/* Text rows for an event: one, or (selected) as many as its words need. Returns rows used. */
static int event_rows(dw_screen *s, const dw_event_view *e, int y, int x, int w, int rows_left, int selected)
{
    char clock[16], head[48];
    dw_clock(s, e->t, 1, clock, sizeof clock);
    snprintf(head, sizeof head, "%s%s %-8s ", selected ? ">" : " ", clock, dw_event_kind_name(e->kind));
    int hw = (int)strlen(head), tw = w - hw;
    dw_theme_use(&s->theme, role_of(e));
    if (selected) attron(A_REVERSE);
    dw_draw_text(y, x, w, head);
    if (tw < 8) {
        attroff(A_REVERSE);
        return 1;
    }
    int start[8], len[8], n = dw_wrap(e->text, tw, start, len, selected ? (rows_left < 8 ? rows_left : 8) : 1);
    if (!selected && n) len[0] = (int)strlen(e->text + start[0]);    /* one row: cut at the edge */
    for (int i = 0; i < n; i++) {
        char line[128];
        snprintf(line, sizeof line, "%.*s", len[i], e->text + start[i]);
        if (i) mvhline(y + i, x, ' ', hw);
        int cols = dw_draw_text(y + i, x + hw, tw, line);
        if (selected) mvhline(y + i, x + hw + cols, ' ', tw - cols);
    }
    attroff(A_REVERSE);
    return n > 1 ? n : 1;
}

static void draw(dw_screen *s, dw_rect r, int focused)
{
    int ix = r.x + 1, iy = r.y + 1, iw = r.w - 2, ih = r.h - 2, count;
    nth(s, 0, &count);
    if (s->ev_sel >= count) s->ev_sel = count ? count - 1 : 0;
    static const char *const one[DW_EV_NKINDS] = { "note", "alert", "marker", "stimulus", "REM cue",
                                                   "dream report" };
    static const char *const many[DW_EV_NKINDS] = { "notes", "alerts", "markers", "stimuli", "REM cues",
                                                    "dream reports" };
    char title[160];
    snprintf(title, sizeof title, "Events: %d %s (e: traces, f: kind, Enter: show on the hypnogram)", count,
             s->ev_filter < 0 ? "of every kind" : dw_plural(count, one[s->ev_filter], many[s->ev_filter]));
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
    dw_draw_fill((dw_rect){ iy, ix, ih, iw });
    dw_draw_box(s, r, title, focused);
    if (!count) {
        dw_theme_use(&s->theme, DW_ROLE_DIM);
        dw_draw_text(iy, ix + 1, iw - 1, "no events yet");
        return;
    }
    int top = s->ev_sel >= ih - 2 ? s->ev_sel - (ih - 3) : 0, y = iy;
    if (top < 0) top = 0;
    for (int row = top; row < count && y < iy + ih; row++) {
        int i = nth(s, row, NULL);
        y += event_rows(s, &s->events[i], y, ix, iw, iy + ih - y, focused && row == s->ev_sel);
    }
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
}

static int key(dw_screen *s, int k)
{
    int count, page = 10;
    nth(s, 0, &count);
    switch (k) {
    case DW_KEY(KEY_UP): if (s->ev_sel > 0) s->ev_sel--; break;
    case DW_KEY(KEY_DOWN): if (s->ev_sel + 1 < count) s->ev_sel++; break;
    case DW_KEY(KEY_PPAGE): s->ev_sel = s->ev_sel > page ? s->ev_sel - page : 0; break;
    case DW_KEY(KEY_NPAGE): s->ev_sel = s->ev_sel + page < count ? s->ev_sel + page : (count ? count - 1 : 0); break;
    case DW_KEY(KEY_HOME): s->ev_sel = 0; break;
    case DW_KEY(KEY_END): s->ev_sel = count ? count - 1 : 0; break;
    case 'f':
        s->ev_filter = s->ev_filter + 1 >= DW_EV_NKINDS ? -1 : s->ev_filter + 1;
        s->ev_sel = 0;
        dw_screen_say(s, "events: %s%s", s->ev_filter < 0 ? "every kind" : dw_event_kind_name(s->ev_filter),
                      s->ev_filter < 0 ? "" : " only");
        break;
    case '\r': case '\n': case DW_KEY(KEY_ENTER): {
        int i = nth(s, s->ev_sel, NULL);
        if (i < 0) return 1;
        int e = (int)(s->events[i].t / DW_EPOCH_S);
        if (e >= s->v.n_epochs) {
            dw_screen_say(s, "that event is in the epoch in progress");
            return 1;
        }
        dw_timeview_goto(s, e);
        dw_screen_say(s, "cursor on epoch %d (%s)", e, dw_event_kind_name(s->events[i].kind));
        break;
    }
    default: return 0;
    }
    return 1;
}

const dw_pane_ops dw_pane_events = { "events", DW_DEP_EVENTS | DW_DEP_VIEW, draw, key, NULL };
