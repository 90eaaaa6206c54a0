/* Reading the night back: the time axis the hypnogram and the spectrogram share (the whole night, or zoomed
 * in down to one epoch per column so a 30-s awakening is a column of its own), the cursor that walks it,
 * and jumps between the night's events. */
#define DW_SCREEN_INTERNAL
#include "screen/screen.h"

#include <stdio.h>

/* Epochs on the axis: the finished ones and, while the source runs, the one in progress. */
static int total_epochs(const dw_screen *s)
{
    return s->v.n_epochs + (s->v.source_ended ? 0 : 1);
}

static int fit_epc(int total, int pw)
{
    int epc = pw > 0 ? (total + pw - 1) / pw : 1;
    return epc < 1 ? 1 : epc;
}

dw_span dw_timeview(dw_screen *s, int pw)
{
    dw_span v = { 0, 1, pw > 0 ? pw : 0, total_epochs(s) };
    s->tv_pw = pw;
    int fit = fit_epc(v.total, pw);
    if (s->tv_epc <= 0 || s->tv_epc >= fit || pw <= 0) {
        v.epc = fit;                                   /* the whole night */
        s->tv_first = 0;
        return v;
    }
    v.epc = s->tv_epc;
    long window = (long)pw * v.epc;
    if (s->cursor < 0) {                               /* follow the night: its end at the right */
        long over = v.total - window;
        s->tv_first = over > 0 ? (int)((over + v.epc - 1) / v.epc) * v.epc : 0;
    } else {                                           /* keep the cursor in view, columns aligned */
        int col0 = s->cursor / v.epc * v.epc;
        if (col0 < s->tv_first) s->tv_first = col0;
        if (col0 >= s->tv_first + window) s->tv_first = (int)(col0 - window + v.epc);
        s->tv_first = s->tv_first / v.epc * v.epc;
        if (s->tv_first < 0) s->tv_first = 0;
    }
    v.first = s->tv_first;
    return v;
}

int dw_span_col(const dw_span *v, int e)
{
    if (e < v->first || v->epc <= 0)
        return -1;
    int x = (e - v->first) / v->epc;
    return x < v->ncols ? x : -1;
}

void dw_timeview_goto(dw_screen *s, int e)
{
    int last = s->v.n_epochs - 1;
    if (last < 0) { s->cursor = -1; return; }
    s->cursor = e < 0 ? 0 : e > last ? last : e;
}

const char *dw_event_kind_name(int kind)
{
    static const char *const names[DW_EV_NKINDS] = { "note", "alert", "marker", "stimulus", "cue", "dream" };
    return kind >= 0 && kind < DW_EV_NKINDS ? names[kind] : "?";
}

/* filter -1: every kind one can jump to (notes are listed, not jumped to); else that kind only */
int dw_event_passes(int kind, int filter)
{
    return filter < 0 ? kind != DW_EV_NOTE : kind == filter;
}

/* The previous (dir < 0) or next event of the filter from the cursor (or from the end of the night). */
static void jump(dw_screen *s, int dir)
{
    const dw_monitor *v = &s->v;
    int from = s->cursor >= 0 ? s->cursor : v->n_epochs;
    int best = -1;
    for (int i = 0; i < v->n_events; i++) {
        const dw_event_view *e = &s->events[i];
        int ep = (int)(e->t / DW_EPOCH_S);
        if (!dw_event_passes(e->kind, s->ev_filter) || ep >= v->n_epochs)
            continue;
        if (dir > 0 ? ep > from && (best < 0 || ep < (int)(s->events[best].t / DW_EPOCH_S))
                    : ep < from && (best < 0 || ep >= (int)(s->events[best].t / DW_EPOCH_S)))
            best = i;
    }
    const char *what = s->ev_filter < 0 ? "event" : dw_event_kind_name(s->ev_filter);
    if (best < 0) {
        dw_screen_say(s, "no %s %s the %s", what, dir > 0 ? "after" : "before",
                      s->cursor >= 0 ? "cursor" : "end of the night");
        return;
    }
    const dw_event_view *e = &s->events[best];
    dw_timeview_goto(s, (int)(e->t / DW_EPOCH_S));
    char clock[16];
    dw_clock(s, e->t, 1, clock, sizeof clock);
    dw_screen_say(s, "%s %s: %s", dw_event_kind_name(e->kind), clock, e->text);
}

static void zoom(dw_screen *s, int in)
{
    int pw = s->tv_pw > 0 ? s->tv_pw : 80, fit = fit_epc(total_epochs(s), pw);
    int cur = s->tv_epc > 0 && s->tv_epc < fit ? s->tv_epc : fit;
    int next = in ? cur / 2 : cur * 2;
    if (next < 1) next = 1;
    s->tv_epc = next >= fit ? 0 : next;
    if (s->tv_epc == 0)
        dw_screen_say(s, "the whole night (%d %s per column)", fit, dw_plural(fit, "epoch", "epochs"));
    else dw_screen_say(s, "%d epoch%s (%d s) per column", s->tv_epc, s->tv_epc > 1 ? "s" : "",
                       s->tv_epc * DW_EPOCH_S);
}

int dw_timeview_key(dw_screen *s, int key)
{
    int epc = s->tv_epc > 0 ? s->tv_epc : fit_epc(total_epochs(s), s->tv_pw > 0 ? s->tv_pw : 80);
    int from = s->cursor >= 0 ? s->cursor : s->v.n_epochs - 1, page = (s->tv_pw > 1 ? s->tv_pw / 2 : 1) * epc;
    switch (key) {
    case DW_KEY(KEY_LEFT): dw_timeview_goto(s, from - (s->cursor >= 0 ? epc : 0)); break;
    case DW_KEY(KEY_RIGHT):
        if (s->cursor >= 0 && s->cursor + epc > s->v.n_epochs - 1) s->cursor = -1;    /* back to now */
        else if (s->cursor >= 0) dw_timeview_goto(s, s->cursor + epc);
        break;
    case DW_KEY(KEY_PPAGE): dw_timeview_goto(s, from - page); break;
    case DW_KEY(KEY_NPAGE):
        if (s->cursor >= 0) dw_timeview_goto(s, s->cursor + page);
        break;
    case DW_KEY(KEY_HOME): dw_timeview_goto(s, 0); break;
    case DW_KEY(KEY_END): s->cursor = -1; break;
    case 'z': zoom(s, 1); break;
    case 'Z': zoom(s, 0); break;
    case '[': jump(s, -1); break;
    case ']': jump(s, 1); break;
    case 'p': s->density_only = !s->density_only; break;
    default: return 0;
    }
    return 1;
}

void dw_night_stats(const dw_screen *s, dw_sleep_stats *st, int *rem_periods)
{
    dw_sleep_stats_compute(s->stage, s->v.n_epochs, st);
    if (rem_periods)
        *rem_periods = dw_rem_periods(s->stage, s->v.n_epochs);
}
