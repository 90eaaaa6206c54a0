/* The monitor screen: an ncurses (wide) terminal view of what the worker publishes in dw_monitor, and
 * the operator's keys sent back as commands. Only the thread that calls dw_screen_run touches curses. */
#ifndef DW_SCREEN_H
#define DW_SCREEN_H

#include "monitor/monitor.h"
#include "staging/hypnogram.h"

/* [display] of the configuration. */
typedef struct {
    /* [display] */
    char   theme[64];
    char   layout[16];                 /* full | bedside */
    double fps;                        /* frames per second at most */
    double trace_seconds;
    double trace_scale_uv;             /* 0 = auto */
    double highpass_hz, lowpass_hz;    /* display filter of the traces (0 = off); the worker applies it */
    char   charset[8];                 /* auto | utf8 | ascii */

} dw_display_cfg;

/* How dw_screen_run ended. */
enum {
    DW_SCREEN_DONE = 0,    /* the worker finished (m->finished), or a safe shutdown was posted and
                            * the terminal went before it finished (the caller waits for the
                            * worker), or the screen could not start (a shutdown posted), or
                            * `attach` detached */
    DW_SCREEN_HANGUP = 1,  /* the terminal went away (SIGHUP, or standard input hung up) and
                            * nothing was posted for it: the caller decides whether the session
                            * goes on */
    DW_SCREEN_FORCED = 2,  /* a second SIGINT or SIGTERM after a shutdown was asked: exit at once */
};
/* Own the terminal until the operator confirms a safe shutdown (or a SIGINT/SIGTERM asks for one)
 * and the worker has set m->finished, or until the terminal goes away. A hang-up is never counted
 * as a second signal (a dropped SSH link brings two or three: the kernel's, the shell's, tmux's).
 * Restores the terminal on every exit path (on a dead one, endwin's writes fail with EIO and
 * return) and leaves SIGINT, SIGTERM and SIGHUP blocked in the calling thread, so one that comes
 * after stays pending for the caller (sigtimedwait) instead of killing the process while the
 * recording is being closed. Returns DW_SCREEN_*. */
int  dw_screen_run(dw_monitor *m, const dw_display_cfg *cfg);
/* Give the terminal back if the screen still holds it; safe from an atexit handler. */
void dw_screen_emergency_restore(void);

/* ---- shared by the files of src/screen only (they define DW_SCREEN_INTERNAL first) ---- */
#ifdef DW_SCREEN_INTERNAL
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>

/* Colour roles a theme assigns. */
enum dw_role {
    DW_ROLE_TEXT, DW_ROLE_DIM, DW_ROLE_BORDER, DW_ROLE_TITLE, DW_ROLE_FOCUS, DW_ROLE_STATUS, DW_ROLE_KEY,
    DW_ROLE_DIALOG, DW_ROLE_CURRENT,
    DW_ROLE_STAGE,                                   /* + stage (W N1 N2 N3 R) */
    DW_ROLE_REF = DW_ROLE_STAGE + DW_NSTAGES,
    DW_ROLE_INFO, DW_ROLE_WARNING, DW_ROLE_CRITICAL, DW_ROLE_ACKED,
    DW_ROLE_TRACE, DW_ROLE_RAILED, DW_ROLE_FLAT,
    DW_ROLE_BEDSIDE, DW_ROLE_BEDSIDE_STAGE,
    DW_ROLE_N
};
#define DW_SPEC_COLOURS 16

typedef struct { short fg, bg; attr_t attr; } dw_style;   /* colours: -1 default, 0-255 */

typedef struct {
    char     name[64];
    dw_style role[DW_ROLE_N];
    short    spec[DW_SPEC_COLOURS];                  /* spectrogram palette, low to high power */
    int      nspec;
    /* resolved for this terminal by dw_theme_apply */
    short    pair[DW_ROLE_N];
    int      colours;                                /* 0: attributes only */
} dw_theme;

/* Builtin defaults, then NAME (a theme name or a path to an .ini) over them. 0, or -1 with err naming the
 * file and line (the theme is then the builtin). "builtin" or "" give the defaults. */
int  dw_theme_load(dw_theme *t, const char *name, dw_err *err);
/* Resolve colours for this terminal (after start_color). use_colour 0: attributes only. */
void dw_theme_apply(dw_theme *t, int use_colour);
/* Names of the installed themes, sorted, "builtin" excluded; returns how many (at most max). */
int  dw_theme_list(char names[][64], int max);
/* Set a role's colours and attributes on stdscr. */
void dw_theme_use(const dw_theme *t, int role);
/* A colour pair for fg on bg mapped to this terminal; 0 when colours are off. */
short dw_theme_pair(const dw_theme *t, short fg, short bg);

typedef struct { int y, x, h, w; } dw_rect;

typedef struct dw_screen dw_screen;

/* One pane: a rectangle of the screen that shows one kind of data (htop's Panel). */
typedef struct dw_pane_ops {
    const char *name;
    unsigned deps;                                   /* DW_DEP_* it shows: redrawn when one changed */
    void (*draw)(dw_screen *s, dw_rect r, int focused);
    int  (*key)(dw_screen *s, int key);              /* 1 if the key was used; may be NULL */
    int  (*due)(dw_screen *s, dw_rect r);            /* may be NULL; else 0 skips a redraw a dep asked for
                                                      * (nothing it shows changed) */
} dw_pane_ops;

/* Keys reach panes as a character, or DW_KEY(KEY_xxx) for a function key. */
#define DW_KEY(k) (0x110000 + (k))
/* At 100 columns and more a right-hand column this wide holds the hypnodensity bars and the alerts, so the
 * hypnogram and the spectrogram share their time axis; both plots start after DW_AXIS_W label columns. */
#define DW_SIDE_W 34
#define DW_AXIS_W 4

enum { DW_DEP_TRACE = 1, DW_DEP_HYPNO = 2, DW_DEP_STATUS = 4, DW_DEP_ALERTS = 8, DW_DEP_CLOCK = 16,
       DW_DEP_EVENTS = 32, DW_DEP_VIEW = 64 /* the cursor, zoom or scroll of the night moved */ };

extern const dw_pane_ops dw_pane_traces, dw_pane_hypnogram, dw_pane_spectrogram, dw_pane_alerts,
                         dw_pane_status, dw_pane_bedside, dw_pane_events;

#define DW_MAX_PANES 8
typedef struct { const dw_pane_ops *ops; dw_rect r; } dw_placed;

struct dw_screen {
    dw_monitor *m;
    const dw_display_cfg *cfg;
    dw_monitor v;                  /* the last copy: scalars, the trace ring; arrays below */
    signed char *stage, *ref_stage;
    float (*prob)[DW_NSTAGES];
    float (*spec)[DW_SPEC_BINS];
    dw_event_view *events;
    int cap, cap_prob, cap_spec, cap_ref, cap_events;
    unsigned long seen_hypno;      /* v_hypno of the epoch arrays copied */
    long trace_seen;               /* trace_total of the ring copied */
    unsigned changed;              /* DW_DEP_* changed since the last frame */

    int utf8, colour;
    dw_theme theme;
    int bedside;
    dw_placed pane[DW_MAX_PANES];
    int npanes, focus;
    const dw_pane_ops *focus_ops;

    /* pane state */
    int    trace_scroll;           /* 0 sweep (only new columns change), 1 scroll */
    double trace_scale;            /* uV for half a channel band; 0 auto */
    double trace_auto;             /* the auto scale in use (bands of two rows and more) */
    double trace_auto_ch[DW_MAX_CH];   /* the auto scale of each channel in a one-row band */
    int    trace_redraw;           /* a key changed the pane: draw it even with no new bin */
    long   trace_bins;             /* whole bins (dot columns of samples) when last drawn */
    long   trace_k0, trace_d;      /* scroll: the plot's first bin (-1: place it afresh), for D dots */
    long   trace_step;             /* scroll: bins a move goes left */
    long   trace_cost;             /* bytes a terminal is sent to draw the trace rows afresh (estimated) */
    int    trace_first;            /* the first channel band shown (Up/Down scroll when not all fit) */
    int    alert_sel;              /* row, newest first */
    unsigned alert_sel_id;         /* the alert on that row, so the selection stays as alerts arrive */

    /* reading the night back: one time axis for the hypnogram and the spectrogram (timeview.c) */
    int    tv_epc;                 /* epochs per column asked for; 0: the whole night fits the pane */
    int    tv_first;               /* first epoch shown when zoomed in */
    int    tv_pw;                  /* plot width last drawn (page moves) */
    int    cursor;                 /* epoch under the cursor; -1: none, the view follows the night */
    int    ev_filter;              /* event kind the list shows and [ ] jump to; -1 all */
    int    ev_sel;                 /* event list: selected row, newest first */
    int    show_events;            /* the event list in place of the traces (e) */
    int    density_only;           /* the hypnodensity strip in place of the step plot (p: stage probabilities) */
    double asked_speed;            /* the replay speed last asked for (+ -), so fast presses add up */

    double now;                    /* monotonic, this frame */
    char   msg[160];               /* transient message on the status line */
    double msg_until;
};

/* A message on the status line for a few seconds. */
void dw_screen_say(dw_screen *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Drawing helpers (stdscr). Text is UTF-8 (ASCII in ASCII mode); it is cut at w columns. */
void dw_draw_box(dw_screen *s, dw_rect r, const char *title, int focused);
int  dw_draw_text(int y, int x, int w, const char *text);          /* returns columns used */
void dw_draw_ascii(int on);                                        /* dw_draw_text: ASCII only (1) or UTF-8 */
/* Word-wraps text to lines of at most w columns (a word longer than w is split): start[i] and len[i]
 * (bytes) of each line, at most max; returns the number of lines. */
int  dw_wrap(const char *text, int w, int start[], int len[], int max);
/* Draws text word-wrapped in rows y.. of width w, at most rows; returns the rows used. */
int  dw_draw_wrapped(int y, int x, int w, int rows, const char *text);
void dw_draw_fill(dw_rect r);                                      /* blank the rectangle */
/* "+-|" or box drawing; block characters for bars and big letters. */
const char *dw_glyph(const dw_screen *s, const char *utf8, const char *ascii);
/* Local clock "HH:MM:SS" (or "HH:MM" when secs is 0) of source time t: recording clock if known. */
void dw_clock(const dw_screen *s, double t, int secs, char *out, size_t n);
/* "HH:MM" of an alert: the recording's clock in a replay, the wall clock live. */
void dw_alert_clock(const dw_screen *s, const dw_alert_view *a, char *out, size_t n);
/* "1:02:03" */
void dw_duration(double sec, char *out, size_t n);
/* Stage of the last scored epoch, DW_UNSCORED if none. */
int  dw_current_stage(const dw_screen *s);
int  dw_unacked_alerts(const dw_screen *s);
/* The columns of the night as the hypnogram and the spectrogram draw them (timeview.c): epochs
 * [first + x * epc, first + (x + 1) * epc) in column x, for x < ncols. */
typedef struct { int first, epc, ncols, total; } dw_span;
/* For a plot pw columns wide: the whole night (one column per epc epochs) or, zoomed in, the window
 * around the cursor or ending at the epoch in progress. Updates s->tv_first. */
dw_span dw_timeview(dw_screen *s, int pw);
/* The column of epoch e, or -1 when it is not shown. */
int  dw_span_col(const dw_span *v, int e);
/* Keys shared by the hypnogram and the spectrogram: Left/Right move the cursor a column, PgUp/PgDn half a
 * pane, Home/End to the start / back to following the night, z/Z zoom in/out, [ ] the previous/next event
 * of the event filter, d the hypnodensity strip. 1 if used. */
int  dw_timeview_key(dw_screen *s, int key);
/* Move the cursor to epoch e (clamped; the view scrolls to it). */
void dw_timeview_goto(dw_screen *s, int e);
/* Kinds the jumps and the event list use: a short name, and whether kind k passes filter f. */
const char *dw_event_kind_name(int kind);
int  dw_event_passes(int kind, int filter);
/* Sleep statistics of the night so far (the stages copied from the monitor). */
void dw_night_stats(const dw_screen *s, dw_sleep_stats *st, int *rem_periods);
/* The summary of the night: an overlay box (summary.c). */
void dw_summary_draw(dw_screen *s);

/* Big block letters of text (stage names) with the top-left at y,x; pixel = 2*scale columns x scale rows.
 * Returns the width; draw 0 only measures. */
int  dw_big_text(dw_screen *s, int y, int x, const char *text, int scale, int draw);

/* The protocol's dialogs (dialog_protocol.c): the questionnaire, the evoked response, the pre-night
 * check. update after each snapshot; key: 1 if taken; draw: 1 if one was drawn. */
void dw_protocol_dialog_update(dw_screen *s);
int  dw_protocol_dialog_key(dw_screen *s, int key);
int  dw_protocol_dialog_draw(dw_screen *s);
int  dw_protocol_dialog_open(void);
void dw_protocol_dialog_evoked(void);
void dw_protocol_dialog_reset(void);
#endif

#endif
