/* The screen thread: terminal set-up and restore, signals, layout, the main loop (wait for the worker,
 * a key, a signal or the next frame; copy what changed under the lock; redraw what changed outside it),
 * keys, dialogs and focus. Only this thread calls curses. */
#define DW_SCREEN_INTERNAL
#include "screen/screen.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

/* ---- terminal ownership and signals ---- */

static volatile sig_atomic_t curses_on;
static int sig_pipe[2] = { -1, -1 };
static const int handled_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH };
#define NSIG_HANDLED (int)(sizeof handled_signals / sizeof handled_signals[0])
static struct sigaction old_actions[NSIG_HANDLED];
static int ascii_only;

void dw_draw_ascii(int on) { ascii_only = on; }

void dw_screen_emergency_restore(void)
{
    if (curses_on) {
        curses_on = 0;
        endwin();
    }
}

/* Signals only write their number to a pipe that the loop polls. */
static void on_signal(int sig)
{
    int saved = errno;
    unsigned char c = (unsigned char)sig;
    ssize_t r = write(sig_pipe[1], &c, 1);
    (void)r;
    errno = saved;
}

static int signals_install(void)
{
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < NSIG_HANDLED; i++) {
        sigaction(handled_signals[i], &sa, &old_actions[i]);
        sigaddset(&set, handled_signals[i]);
    }
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    return 0;
}

/* Blocked first, then the old handlers back: a signal that comes now stays pending for the caller
 * (with SIG_DFL and unblocked, a hang-up's third SIGHUP killed the process while the worker closed
 * the recording: no summary, no events table, no "Recording stopped"). */
static void signals_restore(void)
{
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < NSIG_HANDLED; i++)
        if (handled_signals[i] != SIGWINCH)
            sigaddset(&set, handled_signals[i]);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    for (int i = 0; i < NSIG_HANDLED; i++)
        sigaction(handled_signals[i], &old_actions[i], NULL);
    for (int i = 0; i < 2; i++)
        if (sig_pipe[i] >= 0) { close(sig_pipe[i]); sig_pipe[i] = -1; }
}

/* ---- helpers shared by the panes ---- */

void dw_screen_say(dw_screen *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->msg, sizeof s->msg, fmt, ap);
    va_end(ap);
    s->msg_until = dw_now_mono() + 6;
}

const char *dw_glyph(const dw_screen *s, const char *utf8, const char *ascii)
{
    return s->utf8 ? utf8 : ascii;
}

int dw_draw_text(int y, int x, int w, const char *text)
{
    if (w <= 0 || y < 0 || y >= LINES || x < 0 || x >= COLS)
        return 0;
    if (x + w > COLS) w = COLS - x;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t i = 0, len = strlen(text);
    int cols = 0;
    char buf[1024];
    size_t o = 0;
    while (i < len && o + 8 < sizeof buf) {
        wchar_t wc;
        size_t n = ascii_only ? ((unsigned char)text[i] < 0x80 ? 1 : (size_t)-1) : mbrtowc(&wc, text + i, len - i, &st);
        if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {    /* not text in this locale: show '?' */
            memset(&st, 0, sizeof st);
            if (cols + 1 > w) break;
            buf[o++] = '?'; cols++; i++;
            continue;
        }
        int cw = ascii_only ? 1 : wcwidth(wc);
        if (ascii_only && (text[i] < 0x20 || text[i] == 0x7f)) { buf[o++] = ' '; cols++; i++; continue; }
        if (cw < 0) cw = 1;
        if (cols + cw > w) break;
        memcpy(buf + o, text + i, n);
        o += n; i += n; cols += cw;
    }
    buf[o] = 0;
    mvaddstr(y, x, buf);
    return cols;
}

/* Columns of one character at p (1 when it is not text in this locale). */
static int char_at(const char *p, size_t left, int *cols)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    wchar_t wc;
    size_t n = ascii_only ? 1 : mbrtowc(&wc, p, left, &st);
    if (n == (size_t)-1 || n == (size_t)-2 || n == 0) { *cols = 1; return 1; }
    int cw = ascii_only ? 1 : wcwidth(wc);
    *cols = cw < 0 ? 1 : cw;
    return (int)n;
}

int dw_wrap(const char *text, int w, int start[], int len[], int max)
{
    int n = 0, i = 0, total = (int)strlen(text);
    if (w < 1) w = 1;
    while (i < total && n < max) {
        while (i < total && text[i] == ' ') i++;        /* a line never starts with a space */
        if (i >= total) break;
        int j = i, cols = 0, brk = -1;
        while (j < total && text[j] != '\n') {
            int cw, b = char_at(text + j, (size_t)(total - j), &cw);
            if (cols + cw > w) break;
            if (text[j] == ' ') brk = j;
            cols += cw;
            j += b;
        }
        int end = j;
        if (j < total && text[j] != '\n' && brk > i) end = brk;    /* break at the last space */
        start[n] = i;
        len[n] = end - i;
        n++;
        i = end < total && (text[end] == '\n' || text[end] == ' ') ? end + 1 : end;
    }
    return n;
}

int dw_draw_wrapped(int y, int x, int w, int rows, const char *text)
{
    int start[32], len[32], n = dw_wrap(text, w, start, len, rows < 32 ? rows : 32);
    char line[1024];
    for (int i = 0; i < n; i++) {
        snprintf(line, sizeof line, "%.*s", len[i], text + start[i]);
        dw_draw_text(y + i, x, w, line);
    }
    return n;
}

void dw_draw_fill(dw_rect r)
{
    for (int y = r.y; y < r.y + r.h; y++)
        mvhline(y, r.x, ' ', r.w);
}

static void hrule(dw_screen *s, int y, int x, int w)
{
    const char *g = dw_glyph(s, "─", "-");
    for (int i = 0; i < w; i++) mvaddstr(y, x + i, g);
}

void dw_draw_box(dw_screen *s, dw_rect r, const char *title, int focused)
{
    if (r.h < 2 || r.w < 2) return;
    dw_theme_use(&s->theme, focused ? DW_ROLE_FOCUS : DW_ROLE_BORDER);
    mvaddstr(r.y, r.x, dw_glyph(s, "┌", "+"));
    hrule(s, r.y, r.x + 1, r.w - 2);
    mvaddstr(r.y, r.x + r.w - 1, dw_glyph(s, "┐", "+"));
    for (int y = r.y + 1; y < r.y + r.h - 1; y++) {
        mvaddstr(y, r.x, dw_glyph(s, "│", "|"));
        mvaddstr(y, r.x + r.w - 1, dw_glyph(s, "│", "|"));
    }
    mvaddstr(r.y + r.h - 1, r.x, dw_glyph(s, "└", "+"));
    hrule(s, r.y + r.h - 1, r.x + 1, r.w - 2);
    mvaddstr(r.y + r.h - 1, r.x + r.w - 1, dw_glyph(s, "┘", "+"));
    if (title && *title && r.w > 6) {
        dw_theme_use(&s->theme, focused ? DW_ROLE_FOCUS : DW_ROLE_TITLE);
        char t[256];
        snprintf(t, sizeof t, " %s ", title);
        dw_draw_text(r.y, r.x + 2, r.w - 4, t);
    }
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
}

void dw_clock(const dw_screen *s, double t, int secs, char *out, size_t n)
{
    time_t tt = (time_t)floor(s->v.start_wall > 0 ? s->v.start_wall + t : dw_now_wall());
    struct tm tm;
    localtime_r(&tt, &tm);
    strftime(out, n, secs ? "%H:%M:%S" : "%H:%M", &tm);
}

void dw_alert_clock(const dw_screen *s, const dw_alert_view *a, char *out, size_t n)
{
    if (s->v.start_wall > 0) {
        dw_clock(s, a->t, 0, out, n);
        return;
    }
    time_t w = (time_t)a->wall;
    struct tm tm;
    localtime_r(&w, &tm);
    strftime(out, n, "%H:%M", &tm);
}

void dw_duration(double sec, char *out, size_t n)
{
    long v = sec > 0 ? (long)sec : 0;
    snprintf(out, n, "%ld:%02ld:%02ld", v / 3600, v / 60 % 60, v % 60);
}

int dw_current_stage(const dw_screen *s)
{
    return s->v.n_epochs > 0 ? s->stage[s->v.n_epochs - 1] : DW_UNSCORED;
}

int dw_unacked_alerts(const dw_screen *s)
{
    int n = 0;
    for (int i = 0; i < s->v.n_alerts; i++)
        n += !s->v.alerts[i].acked;
    return n;
}

/* ---- copying from the monitor ---- */

static int grow(void **p, int *cap, int need, size_t size)
{
    if (need <= *cap) return 0;
    int c = *cap ? *cap : 1024;
    while (c < need) c *= 2;
    void *q = realloc(*p, (size_t)c * size);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* The copy takes two runs of dw_monitor: from v_trace up to the trace ring, and from trace_total up to the
 * command queue (the lock and the queue are not copied). */
_Static_assert(offsetof(dw_monitor, v_trace) < offsetof(dw_monitor, trace) &&
               offsetof(dw_monitor, trace) < offsetof(dw_monitor, trace_total) &&
               offsetof(dw_monitor, trace_total) < offsetof(dw_monitor, cmdq) &&
               offsetof(dw_monitor, cmdq) < offsetof(dw_monitor, cmd_head), "dw_monitor layout the copy assumes");

/* Under the lock: scalars always, the epoch arrays when v_hypno moved (the spectra only from the last
 * copied epoch on when the night only grew), new trace frames into the same ring positions. */
static void snapshot(dw_screen *s)
{
    dw_monitor *m = s->m, *v = &s->v;
    unsigned long o_hypno = v->v_hypno, o_alerts = v->v_alerts;
    long o_total = v->trace_total;
    int o_prov = v->prov_stage, o_nref = v->n_ref, o_n = v->n_epochs, o_ne = v->n_events;
    float o_pp[DW_NSTAGES];
    memcpy(o_pp, v->prov_prob, sizeof o_pp);

    pthread_mutex_lock(&m->lock);
    memcpy((char *)v + offsetof(dw_monitor, v_trace), (char *)m + offsetof(dw_monitor, v_trace),
           offsetof(dw_monitor, trace) - offsetof(dw_monitor, v_trace));
    memcpy((char *)v + offsetof(dw_monitor, trace_total), (char *)m + offsetof(dw_monitor, trace_total),
           offsetof(dw_monitor, cmdq) - offsetof(dw_monitor, trace_total));
    int n = m->n_epochs;
    if (m->v_hypno != s->seen_hypno && n > 0 &&
        grow((void **)&s->stage, &s->cap, n, 1) == 0 &&
        grow((void **)&s->prob, &s->cap_prob, n, sizeof *s->prob) == 0 &&
        grow((void **)&s->spec, &s->cap_spec, n, sizeof *s->spec) == 0) {
        int from = (n >= o_n && m->v_hypno - s->seen_hypno == (unsigned long)(n - o_n)) ? o_n : 0;
        memcpy(s->stage, m->stage, (size_t)n);
        memcpy(s->prob, m->prob, (size_t)n * sizeof *s->prob);
        memcpy(s->spec + from, m->spec + from, (size_t)(n - from) * sizeof *s->spec);
        s->seen_hypno = m->v_hypno;
    } else if (m->v_hypno != s->seen_hypno && n > 0) {
        n = o_n;                                   /* out of memory: keep the old copy */
    }
    int ne = m->n_events;                          /* events only ever grow: copy the new ones */
    if (ne > o_ne && grow((void **)&s->events, &s->cap_events, ne, sizeof *s->events) == 0)
        memcpy(s->events + o_ne, m->events + o_ne, (size_t)(ne - o_ne) * sizeof *s->events);
    else
        ne = o_ne;
    int nref = m->ref_stage ? m->n_ref : 0;
    if (nref != o_nref && grow((void **)&s->ref_stage, &s->cap_ref, nref, 1) == 0)
        memcpy(s->ref_stage, m->ref_stage, (size_t)nref);
    else
        nref = o_nref;
    long total = m->trace_total, from = s->trace_seen;
    if (total < from || total - from > DW_TRACE_N) from = total - DW_TRACE_N;
    if (from < 0) from = 0;
    for (long i = from; i < total; i++)
        memcpy(v->trace[i % DW_TRACE_N], m->trace[i % DW_TRACE_N], sizeof v->trace[0]);
    s->trace_seen = total;
    pthread_mutex_unlock(&m->lock);

    v->n_epochs = n;
    v->n_ref = nref;
    v->stage = s->stage;
    v->prob = s->prob;
    v->spec = s->spec;
    v->ref_stage = nref ? s->ref_stage : NULL;
    v->n_events = ne;
    v->events = s->events;
    if (ne != o_ne) s->changed |= DW_DEP_EVENTS;
    s->changed |= DW_DEP_STATUS;
    if (v->trace_total != o_total) s->changed |= DW_DEP_TRACE;
    if (v->v_hypno != o_hypno || v->prov_stage != o_prov || nref != o_nref || memcmp(o_pp, v->prov_prob, sizeof o_pp))
        s->changed |= DW_DEP_HYPNO;
    if (v->v_alerts != o_alerts) s->changed |= DW_DEP_ALERTS;
}

/* ---- layout ---- */

static void place(dw_screen *s, const dw_pane_ops *ops, int y, int x, int h, int w)
{
    if (s->npanes < DW_MAX_PANES && h > 0 && w > 0)
        s->pane[s->npanes++] = (dw_placed){ ops, { y, x, h, w } };
}

/* Panes in priority order: status, hypnogram, traces (or the event list, e), alerts, spectrogram; below
 * 40x10 only the stage (the bedside pane at its smallest) and the status. The hypnogram holds the step
 * plot, event marks and the hour axis (9 rows with its box), the reference (6 more, or one row), and the
 * whole-night hypnodensity strip (6 more) when the panes below it keep 16 rows. */
static int layout_ref;
/* Rows of the bottom panes (spectrogram, alerts) when rest rows are left under the hypnogram. */
static int bottom_rows(int rest)
{
    int bottom = rest >= 10 ? rest / 3 : 0;
    return bottom && bottom < 5 ? 5 : bottom > 10 ? 10 : bottom;
}

static void layout(dw_screen *s)
{
    int H = LINES, W = COLS;
    s->npanes = 0;
    layout_ref = s->v.n_ref > 0;
    if (s->bedside) {
        place(s, &dw_pane_bedside, 0, 0, H, W);
    } else if (W < 40 || H < 10) {
        place(s, &dw_pane_bedside, 0, 0, H - 2, W);
        place(s, &dw_pane_status, H - 2, 0, 2, W);
    } else {
        int avail = H - 2;
        int hyp = layout_ref ? 15 : 9;                /* the reference: a second plot, or one row */
        if (layout_ref && avail - hyp < 12) hyp = 10;
        if (avail - hyp < 10) hyp--;                  /* small: no event row, so the alerts keep a pane */
        /* the hypnodensity strip when the traces keep two rows a channel (up to 8) and 16 rows are left */
        int nch = s->v.nch < 8 ? s->v.nch : 8, r6 = avail - hyp - 6;
        if (r6 >= 16 && r6 - bottom_rows(r6) >= 2 * nch + 2) hyp += 6;
        if (hyp > avail) hyp = avail;
        int rest = avail - hyp, bottom = bottom_rows(rest), traces;
        traces = rest - bottom;
        if (traces < 4) { bottom += traces; traces = 0; }
        if (bottom < 3) { traces += bottom; bottom = 0; }
        place(s, s->show_events ? &dw_pane_events : &dw_pane_traces, 0, 0, traces, W);
        place(s, &dw_pane_hypnogram, traces, 0, hyp, W);
        int y = traces + hyp;
        if (bottom && W >= 100) {
            place(s, &dw_pane_spectrogram, y, 0, bottom, W - DW_SIDE_W);
            place(s, &dw_pane_alerts, y, W - DW_SIDE_W, bottom, DW_SIDE_W);
        } else if (bottom && W >= 60) {
            place(s, &dw_pane_spectrogram, y, 0, bottom, W / 2);
            place(s, &dw_pane_alerts, y, W / 2, bottom, W - W / 2);
        } else if (bottom) {
            place(s, &dw_pane_alerts, y, 0, bottom, W);
        }
        place(s, &dw_pane_status, H - 2, 0, 2, W);
    }
    s->focus = -1;
    for (int i = 0; i < s->npanes; i++)
        if (s->pane[i].ops == s->focus_ops) s->focus = i;
    if (s->focus < 0)
        for (int i = 0; i < s->npanes && s->focus < 0; i++)
            if (s->pane[i].ops->key) s->focus = i;
    s->focus_ops = s->focus >= 0 ? s->pane[s->focus].ops : NULL;
}

/* ---- dialogs ---- */

enum { DLG_NONE, DLG_CONFIRM, DLG_INPUT, DLG_HELP, DLG_SUMMARY };
static struct {
    int  kind;
    char title[64], question[200];
    int  def_yes;                 /* the answer Enter gives */
    int  cmd;                     /* posted on yes / on done */
    double arg;
    int  multiline;
    char buf[DW_TEXT_MAX];
    size_t len;
} dlg;
static int shutdown_asked, dream_pending, detach_asked;

static void confirm(const char *title, const char *question, int def_yes, int cmd, double arg)
{
    memset(&dlg, 0, sizeof dlg);
    dlg.kind = DLG_CONFIRM;
    snprintf(dlg.title, sizeof dlg.title, "%s", title);
    snprintf(dlg.question, sizeof dlg.question, "%s", question);
    dlg.def_yes = def_yes;
    dlg.cmd = cmd;
    dlg.arg = arg;
}

static void input(const char *title, int cmd, int multiline)
{
    memset(&dlg, 0, sizeof dlg);
    dlg.kind = DLG_INPUT;
    snprintf(dlg.title, sizeof dlg.title, "%s", title);
    dlg.cmd = cmd;
    dlg.multiline = multiline;
}

static void post(dw_screen *s, int kind, double arg, const char *text)
{
    if (kind == DW_CMD_SHUTDOWN)
        shutdown_asked = 1;
    if (dw_monitor_post(s->m, kind, arg, text) < 0)
        dw_screen_say(s, "command queue full: try again");
}

static dw_rect centred(int h, int w)
{
    if (w > COLS) w = COLS;
    if (h > LINES) h = LINES;
    return (dw_rect){ (LINES - h) / 2, (COLS - w) / 2, h, w };
}

/* Every key; the README's key table and the man page list the same. At most 20 lines: the box, with its
 * border and a blank row above and below them, fits an 80x24 terminal (tests/e2e/screen_small.sh). */
static const char *const help_lines[] = {
    "w           manual wake (asks; Enter = No)",
    "n           natural sleep on/off (asks; Enter = the safe side)",
    "Q q         safe shutdown (asks; Enter = No); Ctrl-C without asking",
    "a           acknowledge the alert that rings (most severe, oldest)",
    "m           marker    r  dream report    space  pause/resume a replay",
    "+ -         replay speed x2 / /2 (also while paused)",
    "Left Right  seek -/+ 5 min (replay; traces, events or alerts in focus)",
    "Tab         next pane (Shift-Tab: back)    v  bedside / full view",
    "e           event list / traces            S  summary of the night",
    "t           next theme     ?  this help    Ctrl-L  redraw",
    "E           evoked response (stimuli)      k  pre-night check (live)",
    "            k mid-night too: its 2-s stops are pauses, not loss",
    "Questions after a protocol awakening: y n r, 1-5, or text and Enter",
    "d           detach (`dreamwatch attach` only: the session goes on)",
    "Terminal gone: a live night goes on headless; dreamwatch attach rejoins",
    "Traces:     s sweep/scroll  [ ] scale  0 auto scale  Up Down channels",
    "Alerts:     Up Down select  Enter acknowledge the selected alert",
    "Hypnogram, spectrogram: Left Right cursor  PgUp PgDn page  Home End",
    "            z Z zoom in/out  [ ] previous/next event  p hypnodensity",
    "Events:     Up Down PgUp PgDn Home End select  Enter show  f kind",
};
_Static_assert(sizeof help_lines / sizeof help_lines[0] <= 20, "the help box must fit an 80x24 terminal");

static void draw_dialog(dw_screen *s)
{
    int cursor_y = -1, cursor_x = -1;
    if (dlg.kind == DLG_SUMMARY) {
        dw_summary_draw(s);
    } else if (dlg.kind == DLG_HELP) {
        int n = (int)(sizeof help_lines / sizeof help_lines[0]);
        dw_rect r = centred(n + 4, 78);
        int pad = r.h >= n + 4 ? 2 : 1;            /* shorter than 24 rows: no blank rows */
        int rows = r.h - 2 * pad, shown = rows >= n ? n : rows - 1;
        dw_theme_use(&s->theme, DW_ROLE_DIALOG);
        dw_draw_fill(r);
        dw_draw_box(s, r, "Help: keys (any key closes)", 1);
        dw_theme_use(&s->theme, DW_ROLE_DIALOG);
        for (int i = 0; i < shown; i++)
            dw_draw_text(r.y + pad + i, r.x + 3, r.w - 6, help_lines[i]);
        if (shown < n && shown >= 0) {             /* never cut without saying so */
            char more[80];
            snprintf(more, sizeof more, "... %d more lines: a taller terminal shows them (README, Keys)",
                     n - shown);
            dw_draw_text(r.y + pad + shown, r.x + 3, r.w - 6, more);
        }
    } else if (dlg.kind == DLG_CONFIRM) {
        dw_rect r = centred(8, 62);
        dw_theme_use(&s->theme, DW_ROLE_DIALOG);
        dw_draw_fill(r);
        dw_draw_box(s, r, dlg.title, 1);
        dw_theme_use(&s->theme, DW_ROLE_DIALOG);
        dw_draw_text(r.y + 2, r.x + 3, r.w - 6, dlg.question);
        const char *yes = dlg.def_yes ? "> Yes (y) <" : "  Yes (y)  ";
        const char *no = dlg.def_yes ? "  No (n)  " : "> No (n) <";
        int x = r.x + 6;
        dw_theme_use(&s->theme, dlg.def_yes ? DW_ROLE_CURRENT : DW_ROLE_DIALOG);
        x += dw_draw_text(r.y + 4, x, r.w - 8, yes) + 4;
        dw_theme_use(&s->theme, dlg.def_yes ? DW_ROLE_DIALOG : DW_ROLE_CURRENT);
        dw_draw_text(r.y + 4, x, r.x + r.w - 2 - x, no);
        dw_theme_use(&s->theme, DW_ROLE_DIALOG);
        char hint[80];
        snprintf(hint, sizeof hint, "Enter = %s, Esc = cancel", dlg.def_yes ? "Yes" : "No");
        dw_draw_text(r.y + 6, r.x + 3, r.w - 6, hint);
    } else if (dlg.kind == DLG_INPUT) {
        int h = dlg.multiline ? (LINES - 4 < 14 ? LINES - 4 : 14) : 5;
        dw_rect r = centred(h < 5 ? 5 : h, 72);
        dw_theme_use(&s->theme, DW_ROLE_DIALOG);
        dw_draw_fill(r);
        dw_draw_box(s, r, dlg.title, 1);
        dw_theme_use(&s->theme, DW_ROLE_DIALOG);
        dw_draw_text(r.y + r.h - 1, r.x + 2, r.w - 4,
                     dlg.multiline ? " Ctrl-D done, Esc cancel " : " Enter done, Esc cancel ");
        /* wrap the text to the box, show the last lines */
        int tw = r.w - 4, th = r.h - 2, nl = 0;
        enum { MAXL = 256 };
        static size_t start[MAXL];
        size_t i = 0;
        start[nl++] = 0;
        int col = 0;
        mbstate_t st;
        memset(&st, 0, sizeof st);
        while (i < dlg.len && nl < MAXL) {
            if (dlg.buf[i] == '\n') { i++; start[nl++] = i; col = 0; continue; }
            wchar_t wc;
            size_t n = mbrtowc(&wc, dlg.buf + i, dlg.len - i, &st);
            if (n == (size_t)-1 || n == (size_t)-2 || n == 0) { n = 1; memset(&st, 0, sizeof st); }
            if (col + 1 > tw) { start[nl++] = i; col = 0; }
            i += n; col++;
        }
        int first = nl > th ? nl - th : 0;
        for (int l = first; l < nl; l++) {
            size_t a = start[l], b = l + 1 < nl ? start[l + 1] : dlg.len;
            char line[1024];
            size_t k = b - a < sizeof line - 1 ? b - a : sizeof line - 1;
            memcpy(line, dlg.buf + a, k);
            line[k] = 0;
            if (k && line[k - 1] == '\n') line[k - 1] = 0;
            int used = dw_draw_text(r.y + 1 + l - first, r.x + 2, tw, line);
            cursor_y = r.y + 1 + l - first;
            cursor_x = r.x + 2 + used;
        }
    }
    /* a hidden cursor is left where the update ends: no move back to it after every frame (9 bytes
     * a frame, tests/e2e/screen_link.sh) */
    leaveok(stdscr, cursor_y < 0);
    if (cursor_y >= 0) { move(cursor_y, cursor_x); curs_set(1); }
    else curs_set(0);
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
}

/* Returns 1 when the dialog took the key. */
static int dialog_key(dw_screen *s, int key)
{
    if (dlg.kind == DLG_NONE || key == DW_KEY(KEY_RESIZE))
        return 0;                                     /* a resize keeps the dialog: it is drawn again */
    if (dlg.kind == DLG_SUMMARY) {           /* it may come unasked (a replay's end): a key closes it and */
        dlg.kind = DLG_NONE;                 /* still does what it does (n, w, Q...), but Esc only closes */
        return key == 27;
    }
    if (dlg.kind == DLG_HELP) {
        dlg.kind = DLG_NONE;
    } else if (dlg.kind == DLG_CONFIRM) {
        int yes = -1;
        if (key == 'y' || key == 'Y') yes = 1;
        else if (key == 'n' || key == 'N' || key == 27) yes = 0;
        else if (key == '\n' || key == '\r' || key == DW_KEY(KEY_ENTER)) yes = dlg.def_yes;
        if (yes < 0) return 1;
        dlg.kind = DLG_NONE;
        if (yes) post(s, dlg.cmd, dlg.arg, NULL);
        else dw_screen_say(s, "%s: cancelled", dlg.title);
    } else {
        int done = dlg.multiline ? key == 4 : (key == '\n' || key == '\r' || key == DW_KEY(KEY_ENTER));
        if (key == 27) {
            dlg.kind = DLG_NONE;
            dw_screen_say(s, "%s: cancelled", dlg.title);
        } else if (done) {
            dlg.kind = DLG_NONE;
            dlg.buf[dlg.len] = 0;
            post(s, dlg.cmd, 0, dlg.buf);           /* the worker reports it on the status line */
        } else if (key == DW_KEY(KEY_BACKSPACE) || key == 127 || key == 8) {
            while (dlg.len > 0 && ((unsigned char)dlg.buf[--dlg.len] & 0xC0) == 0x80)
                ;                                     /* drop one whole UTF-8 character */
        } else if (key == '\n' || key == '\r' || key == DW_KEY(KEY_ENTER) || (key >= 0x20 && key < 0x110000 && key != 0x7f)) {
            char mb[MB_LEN_MAX];
            mbstate_t st;
            memset(&st, 0, sizeof st);
            size_t n = 1;
            if (key == '\r' || key == DW_KEY(KEY_ENTER)) mb[0] = '\n';
            else n = wcrtomb(mb, (wchar_t)key, &st);
            if (n != (size_t)-1 && dlg.len + n < sizeof dlg.buf - 1) {
                memcpy(dlg.buf + dlg.len, mb, n);
                dlg.len += n;
            }
        }
    }
    return 1;
}

/* ---- keys ---- */

/* The next installed theme, round the list (the builtin defaults are the `default` theme's file). The
 * colour pairs are redefined, so every cell is sent again: a cell whose pair number did not change would
 * otherwise keep the old theme's colours on the terminal. */
static int theme_next(dw_screen *s)
{
    char names[32][64];
    int n = dw_theme_list(names, 32), next = 0;
    if (n == 0) {
        dw_screen_say(s, "no themes installed (themes/*.ini)");
        return 0;
    }
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], s->theme.name)) next = (i + 1) % n;
    dw_err err = { 0 };
    if (dw_theme_load(&s->theme, names[next], &err) < 0)
        dw_screen_say(s, "%s", err.msg);
    else
        dw_screen_say(s, "theme %s", s->theme.name);
    dw_theme_apply(&s->theme, s->colour);
    clearok(curscr, TRUE);
    return 1;
}

static double speed_step(double speed, int up)
{
    if (speed <= 0) return up ? 0 : 4096;
    double v = up ? speed * 2 : speed / 2;
    if (v > 4096) return 0;                         /* beyond 4096x: as fast as possible */
    return v < 0.125 ? 0.125 : v;
}

/* Returns 1 to redraw everything. */
static int global_key(dw_screen *s, int key)
{
    dw_monitor *v = &s->v;
    switch (key) {
    case '?': dlg.kind = DLG_HELP; return 0;
    case 'w':
        confirm("Manual wake", "Wake the sleeper now?", 0, DW_CMD_WAKE, 0);
        return 0;
    case 'n':
        if (v->mode == DW_MODE_NATURAL)
            confirm("Natural sleep", "Turn natural-sleep mode OFF (stimulation may resume)?", 0, DW_CMD_NATURAL, 0);
        else
            confirm("Natural sleep", "Switch to natural sleep (no stimulation)?", 1, DW_CMD_NATURAL, 1);
        return 0;
    case 'q': case 'Q':
        confirm("Safe shutdown", "Stop stimulation and END monitoring?", 0, DW_CMD_SHUTDOWN, 0);
        return 0;
    case 'a': post(s, DW_CMD_ACK, -1, NULL); return 0;
    case 'm': input("Marker", DW_CMD_MARKER, 0); return 0;
    case 'r': input("Dream report", DW_CMD_DREAM_REPORT, 1); return 0;
    case ' ':
        if (v->live) dw_screen_say(s, "live source: nothing to pause");
        else post(s, DW_CMD_PAUSE, 0, NULL);
        return 0;
    case '+': case '=': case '-':
        if (v->live) {
            dw_screen_say(s, "live source: speed is real time");
            return 0;
        }
        /* from the speed last asked for: presses faster than the worker answers add up */
        s->asked_speed = speed_step(s->asked_speed >= 0 ? s->asked_speed : v->speed, key != '-');
        post(s, DW_CMD_SPEED, s->asked_speed, NULL);
        if (s->asked_speed > 0) dw_screen_say(s, "speed x%g%s", s->asked_speed, v->paused ? " (paused: space resumes)" : "");
        else dw_screen_say(s, "speed: as fast as possible%s", v->paused ? " (paused: space resumes)" : "");
        return 0;
    case DW_KEY(KEY_LEFT): case DW_KEY(KEY_RIGHT):
        if (v->live) dw_screen_say(s, "live source: cannot seek");
        else post(s, DW_CMD_SEEK, key == DW_KEY(KEY_LEFT) ? -300 : 300, NULL);
        return 0;
    case '\t': case DW_KEY(KEY_BTAB):
        for (int k = 1; k <= s->npanes; k++) {
            int i = (s->focus + (key == '\t' ? k : s->npanes - k) + s->npanes) % s->npanes;
            if (s->pane[i].ops->key) { s->focus = i; s->focus_ops = s->pane[i].ops; break; }
        }
        return 1;
    case 'E': dw_protocol_dialog_evoked(); return 0;
    case 'k':
        if (!v->live) dw_screen_say(s, "the pre-night check needs a live board (--serial)");
        else if (v->check_running) dw_screen_say(s, "the pre-night check is running");
        else post(s, DW_CMD_CHECK, 0, NULL);
        return 0;
    case 't': return theme_next(s);
    case 'e':                                      /* the event list in place of the traces, and back */
        s->show_events = !s->show_events;
        s->focus_ops = s->show_events ? &dw_pane_events : &dw_pane_traces;
        return 1;
    case 'S': dlg.kind = DLG_SUMMARY; return 0;
    case 'v': s->bedside = !s->bedside; return 1;
    case 'd':
        if (s->m->attached) detach_asked = 1;
        else dw_screen_say(s, "d detaches `dreamwatch attach`; this monitor owns the session");
        return 0;
    case 12: clearok(curscr, TRUE); return 1;     /* Ctrl-L */
    case DW_KEY(KEY_RESIZE): return 1;
    }
    return 0;
}

/* ---- the loop ---- */

static void draw_panes(dw_screen *s, int all)
{
    for (int i = 0; i < s->npanes; i++) {
        const dw_pane_ops *ops = s->pane[i].ops;
        if (!all && (!(ops->deps & s->changed) || (ops->due && !ops->due(s, s->pane[i].r))))
            continue;
        ops->draw(s, s->pane[i].r, i == s->focus && s->npanes > 2);
    }
}

static void draw_shutdown(dw_screen *s)
{
    dw_rect r = centred(5, 50);
    dw_theme_use(&s->theme, DW_ROLE_DIALOG);
    dw_draw_fill(r);
    dw_draw_box(s, r, "Safe shutdown", 1);
    dw_theme_use(&s->theme, DW_ROLE_DIALOG);
    dw_draw_text(r.y + 2, r.x + 3, r.w - 6, s->utf8 ? "shutting down… (finishing the recording)" :
                                                      "shutting down... (finishing the recording)");
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
}

static int key_read(int *key)
{
    wint_t wc;
    int r = get_wch(&wc);
    if (r == ERR) return 0;
    *key = r == KEY_CODE_YES ? DW_KEY((int)wc) : (int)wc;
    return 1;
}

int dw_screen_run(dw_monitor *m, const dw_display_cfg *cfg)
{
    const char *ctype = setlocale(LC_CTYPE, NULL);
    if (!ctype || !strcmp(ctype, "C") || !strcmp(ctype, "POSIX"))
        setlocale(LC_CTYPE, "");                  /* only the character type: numbers stay "C" */
    dw_screen *s = calloc(1, sizeof *s);
    if (!s || signals_install() < 0) {
        fprintf(stderr, "dreamwatch: cannot set up the screen: %s\n", strerror(errno));
        free(s);
        signals_restore();
        if (!m->attached)                          /* an attached screen leaves its session alone */
            dw_monitor_post(m, DW_CMD_SHUTDOWN, 0, "no screen");   /* main joins the worker next */
        return DW_SCREEN_DONE;
    }
    shutdown_asked = dream_pending = detach_asked = 0;
    memset(&dlg, 0, sizeof dlg);
    dw_protocol_dialog_reset();
    s->m = m;
    s->cfg = cfg;
    s->v.prov_stage = DW_UNSCORED;
    s->cursor = -1;
    s->ev_filter = -1;
    s->asked_speed = -1;
    s->bedside = !strcmp(cfg->layout, "bedside");
    s->trace_scale = cfg->trace_scale_uv;
    s->trace_k0 = -1;
    s->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8") && strcmp(cfg->charset, "ascii") != 0;
    ascii_only = !s->utf8;
    const char *nc = getenv("NO_COLOR");
    dw_err err = { 0 };
    if (dw_theme_load(&s->theme, cfg->theme, &err) < 0)
        dw_screen_say(s, "%s", err.msg);

    SCREEN *scr = newterm(NULL, stdout, stdin);
    if (!scr) {
        fprintf(stderr, "dreamwatch: cannot use the terminal '%s'\n", getenv("TERM") ? getenv("TERM") : "");
        signals_restore();
        free(s);
        if (!m->attached)
            dw_monitor_post(m, DW_CMD_SHUTDOWN, 0, "no screen");
        return DW_SCREEN_DONE;
    }
    curses_on = 1;
    cbreak();                                       /* Ctrl-C stays a signal: a safe shutdown */
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    leaveok(stdscr, TRUE);                          /* set per frame by draw_dialog */
    s->colour = !(nc && *nc) && has_colors() && start_color() == OK;
    if (s->colour) use_default_colors();
    dw_theme_apply(&s->theme, s->colour);
    if (!strcmp(cfg->charset, "utf8") && !s->utf8)
        dw_screen_say(s, "charset utf8 asked for, but the locale is not UTF-8: using ASCII");

    double frame_dt = 1.0 / (cfg->fps > 0 ? cfg->fps : 10), next_frame = 0;
    int relayout = 1, was_bedside = -1, prev_wants = 0, last_sec = -1, note_shown = 0, was_ended = 0;
    unsigned long bells_seen = 0;
    int dlg_was = DLG_NONE, proto_was = 0;
    int dirty = 1, how = DW_SCREEN_DONE;
    for (;;) {
        struct pollfd pf[3] = {
            { sig_pipe[0], POLLIN, 0 }, { m->wake_fd[0], POLLIN, 0 }, { 0, POLLIN, 0 } };
        double now = dw_now_mono();
        int timeout = 1000 - (int)(fmod(dw_now_wall(), 1.0) * 1000) + 5;   /* the clock's next second */
        if (dirty || s->changed) {
            int t = next_frame > now ? (int)((next_frame - now) * 1000) + 1 : 0;
            if (t < timeout) timeout = t;
        }
        if (poll(pf, 3, timeout) < 0 && errno != EINTR)
            break;
        if (pf[0].revents & POLLIN) {
            unsigned char sig[16];
            ssize_t n = read(sig_pipe[0], sig, sizeof sig);
            for (ssize_t i = 0; i < n; i++) {
                if (sig[i] == SIGWINCH) {
                    struct winsize ws;
                    if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
                        resizeterm(ws.ws_row, ws.ws_col);
                    relayout = 1;
                } else if (m->attached) {
                    goto out;                       /* attached: any of them detaches */
                } else if (sig[i] == SIGHUP) {
                    how = shutdown_asked ? DW_SCREEN_DONE : DW_SCREEN_HANGUP;
                    goto out;                       /* the terminal is gone: the caller decides */
                } else if (shutdown_asked) {
                    how = DW_SCREEN_FORCED;         /* a second SIGINT or SIGTERM */
                    goto out;
                } else {
                    post(s, DW_CMD_SHUTDOWN, 0, "signal");
                }
            }
        }
        /* a new epoch (or fewer after a seek): its stage goes up now, not next frame; only the count of
         * epochs says so (v_hypno also moves with each provisional label, and before the first epoch it
         * moved on every wake: frames at the worker's rate, not at fps) */
        int epoch_due = 0;
        if (pf[1].revents & POLLIN) {
            dw_monitor_drain(m->wake_fd[0]);
            dirty = 1;
            pthread_mutex_lock(&m->lock);
            epoch_due = m->n_epochs != s->v.n_epochs;
            pthread_mutex_unlock(&m->lock);
        }
        if (pf[2].revents & (POLLHUP | POLLERR | POLLNVAL)) {
            /* the terminal went away (attached: detach) */
            how = shutdown_asked || m->attached ? DW_SCREEN_DONE : DW_SCREEN_HANGUP;
            goto out;
        }
        int key;
        while (key_read(&key)) {
            dirty = 1;
            if (shutdown_asked) continue;
            if (dialog_key(s, key)) continue;
            if (dw_protocol_dialog_key(s, key)) continue;
            if (s->focus >= 0 && s->pane[s->focus].ops->key && s->pane[s->focus].ops->key(s, key)) {
                s->changed |= s->pane[s->focus].ops->deps;
                continue;
            }
            if (global_key(s, key)) relayout = 1;
        }
        if (detach_asked)
            goto out;
        now = dw_now_mono();
        if (now < next_frame && !relayout && !epoch_due)
            continue;
        if (!dirty && !relayout && !s->changed && (int)dw_now_wall() == last_sec)
            continue;
        s->now = now;
        next_frame = now + frame_dt;
        dirty = 0;
        snapshot(s);
        if (s->v.finished)
            break;                                  /* the worker stopped: recording closed */
        if ((int)dw_now_wall() != last_sec) { last_sec = (int)dw_now_wall(); s->changed |= DW_DEP_CLOCK; }
        if (!note_shown && s->v.source_note[0]) {  /* what the source said at open, for a few seconds */
            dw_screen_say(s, "%s", s->v.source_note);
            note_shown = 1;
        }
        if (s->v.source_ended && !was_ended && dlg.kind == DLG_NONE && !shutdown_asked)
            dlg.kind = DLG_SUMMARY;                 /* the end of a replay: its summary, once */
        was_ended = s->v.source_ended;
        dw_protocol_dialog_update(s);
        if (s->v.wants_dream_report && !prev_wants) dream_pending = 1;
        prev_wants = s->v.wants_dream_report;
        if (dream_pending && dlg.kind == DLG_NONE && !shutdown_asked) {
            dream_pending = 0;
            input("Dream report", DW_CMD_DREAM_REPORT, 1);
        }
        if (s->v.bells > bells_seen)                /* a bell actuator (stimulus, cue, wake) fired */
            beep();
        bells_seen = s->v.bells;
        int all = relayout || was_bedside != s->bedside || (dlg_was != DLG_NONE && dlg.kind == DLG_NONE) ||
                  layout_ref != (s->v.n_ref > 0) || (proto_was && !dw_protocol_dialog_open());
        if (all) {
            layout(s);
            was_bedside = s->bedside;
            relayout = 0;
            dw_theme_use(&s->theme, DW_ROLE_TEXT);
            bkgdset(' ' | s->theme.role[DW_ROLE_TEXT].attr | COLOR_PAIR(0));
            erase();
        }
        unsigned drawn = s->changed;              /* what a pane sets while drawing stays for the next frame */
        draw_panes(s, all);
        s->changed &= ~drawn;
        if (shutdown_asked) draw_shutdown(s);
        else if (dlg.kind != DLG_NONE || !dw_protocol_dialog_draw(s)) draw_dialog(s);
        dlg_was = dlg.kind;
        proto_was = dw_protocol_dialog_open();
        refresh();
    }
out:
    endwin();
    curses_on = 0;
    delscreen(scr);
    signals_restore();
    free(s->stage);
    free(s->prob);
    free(s->spec);
    free(s->ref_stage);
    free(s->events);
    free(s);
    return how;
}
