/* The status bar: two lines. Fields that do not fit are dropped, least important first; the mode, an
 * outage ("NO DATA since"), a paused replay and the recording file with its size are never dropped (the
 * recording name shortens first). */
#define DW_SCREEN_INTERNAL
#include "screen/screen.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* alt: the short form every field takes when the line does not fit without dropping essential ones;
 * shrink: a short form a field takes before those of priority 2 and 3 go (draw_fields). */
typedef struct { char text[200], alt[200], shrink[64]; int prio, role; } field;

static void add(field *f, int *n, int prio, int role, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void add(field *f, int *n, int prio, int role, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f[*n].text, sizeof f[*n].text, fmt, ap);
    va_end(ap);
    f[*n].alt[0] = f[*n].shrink[0] = 0;
    f[*n].prio = prio;
    f[*n].role = role;
    (*n)++;
}

static int width(const char *t)
{
    int w = 0;
    for (; *t; t++) w += ((unsigned char)*t & 0xC0) != 0x80;   /* status text is one column per character */
    return w;
}

/* Width of the fields kept (keep[i]), separators included. */
static int kept_width(const field *f, int n, const int *keep)
{
    int total = 0, k = 0;
    for (int i = 0; i < n; i++)
        if (keep[i])
            total += width(f[i].text) + (k++ ? 3 : 0);
    return total;
}

/* The worst (highest prio number, the later of equals) kept field of at least prio lo, or -1. */
static int worst_kept(const field *f, int n, const int *keep, int lo)
{
    int worst = -1;
    for (int i = 0; i < n; i++)
        if (keep[i] && f[i].prio >= lo && (worst < 0 || f[i].prio >= f[worst].prio))
            worst = i;
    return worst;
}

/* Fields joined by a separator, in order, fitted to w. Priorities: 0 never dropped (mode, NO DATA, the
 * recording, a loss over 1 %), 1 essential (clock, alerts, loss), 2 and up the rest. First the least
 * important fields go, worst first: those of 4 and up, then the fields with a shrink form take it,
 * then those of 2 and 3 go; if that is not enough, the short forms (a file name to
 * its date and time, loss without the night's figure) and then priority 1 fields; last, whatever was
 * dropped and fits again with the short forms comes back, best first. Prio 0 fields are cut at the edge. */
static void draw_fields(dw_screen *s, int y, int x, int w, field *f, int n)
{
    const char *sep = dw_glyph(s, " │ ", " | ");
    int keep[16], d;
    n = n > 16 ? 16 : n;
    for (int i = 0; i < n; i++)
        keep[i] = 1;
    while (kept_width(f, n, keep) > w && (d = worst_kept(f, n, keep, 4)) >= 0)
        keep[d] = 0;
    for (int i = 0; i < n && kept_width(f, n, keep) > w; i++)
        if (keep[i] && f[i].shrink[0])
            memcpy(f[i].text, f[i].shrink, sizeof f[i].shrink);
    while (kept_width(f, n, keep) > w && (d = worst_kept(f, n, keep, 2)) >= 0)
        keep[d] = 0;
    if (kept_width(f, n, keep) > w) {
        for (int i = 0; i < n; i++)
            if (f[i].alt[0]) memcpy(f[i].text, f[i].alt, sizeof f[i].text);
        while (kept_width(f, n, keep) > w && (d = worst_kept(f, n, keep, 1)) >= 0)
            keep[d] = 0;
        for (int p = 1; p < 16; p++)              /* back, best first, while they fit */
            for (int i = 0; i < n; i++)
                if (!keep[i] && f[i].prio == p) {
                    keep[i] = 1;
                    if (kept_width(f, n, keep) > w)
                        keep[i] = 0;
                }
    }
    int m = 0;
    for (int i = 0; i < n; i++)
        if (keep[i])
            f[m++] = f[i];
    n = m;
    int cx = x;
    for (int i = 0; i < n && cx < x + w; i++) {
        if (i) { dw_theme_use(&s->theme, DW_ROLE_STATUS); cx += dw_draw_text(y, cx, x + w - cx, sep); }
        dw_theme_use(&s->theme, f[i].role);
        cx += dw_draw_text(y, cx, x + w - cx, f[i].text);
    }
}

static void human_bytes(long long b, char *out, size_t n)
{
    if (b >= 1LL << 30) snprintf(out, n, "%.1f GB", b / 1073741824.0);
    else if (b >= 1 << 20) snprintf(out, n, "%.1f MB", b / 1048576.0);
    else snprintf(out, n, "%lld kB", b / 1024);
}

static void wall_clock(double wall, char *out, size_t n)
{
    time_t tt = (time_t)wall;
    struct tm tm;
    localtime_r(&tt, &tm);
    strftime(out, n, "%H:%M:%S", &tm);
}

/* The recording: "rec NAME SIZE" (NAME the file being written: after a resume the new one, "file 2"),
 * shortened to the name's date and time when the line is short; "NOT RECORDING NAME" while writing fails. */
static void recording_field(const dw_monitor *v, field *f, int *n)
{
    char b[32];
    if (!*v->rec_path) {
        if (v->live) add(f, n, 0, DW_ROLE_WARNING, "NOT RECORDING");
        else add(f, n, 3, DW_ROLE_DIM, "not recording");
        return;
    }
    const char *base = strrchr(v->rec_path, '/') ? strrchr(v->rec_path, '/') + 1 : v->rec_path;
    human_bytes(v->rec_bytes, b, sizeof b);
    char nth[24] = "";
    if (v->rec_files > 1)
        snprintf(nth, sizeof nth, " (file %d)", v->rec_files);
    const char *what = v->rec_failed ? "NOT RECORDING" : "rec";
    int role = v->rec_failed ? DW_ROLE_WARNING : DW_ROLE_STATUS;
    add(f, n, 0, role, "%s %s %s%s", what, base, b, nth);
    size_t len = strlen(base);                     /* SUBJECT-YYYYMMDD-HHMMSS.bdf: "YYYYMMDD-HHMMSS" */
    if (len > 20 && !strcmp(base + len - 4, ".bdf"))
        snprintf(f[*n - 1].alt, sizeof f[*n - 1].alt, "%s %.15s %s%s", what, base + len - 19, b, nth);
}

/* The running spindle and slow-wave densities of N2+N3 (the session's dw_micro_view: the summary's
 * numbers), from the first N2/N3 epoch on: "sp 2.4 SW 6.1 /min N2+N3", "sp 2.4 SW 6.1" when short
 * of room; it goes after the provisional stage (also on the hypnogram's bars) and the last event.
 * The last epoch's counts are beside the hypnogram. */
static void micro_field(const dw_monitor *v, field *f, int *n)
{
    const dw_micro_view *mv = &v->session.micro;
    if (mv->epoch < 0 || mv->nrem[0] == DW_NONE)
        return;
    char sp[16], sw[16];
    dw_format_micro_rate(sp, sizeof sp, mv->nrem[0]);
    dw_format_micro_rate(sw, sizeof sw, mv->nrem[1]);
    add(f, n, 2, DW_ROLE_STATUS, "sp %s SW %s /min N2+N3", sp, sw);
    snprintf(f[*n - 1].shrink, sizeof f[*n - 1].shrink, "sp %s SW %s", sp, sw);
}

static void line_one(dw_screen *s, const dw_monitor *v, field *f, int *pn)
{
    int n = 0;
    char a[64];
    if (v->source_ended)
        add(f, &n, 0, DW_ROLE_WARNING, "replay ended");
    add(f, &n, 0, v->mode == DW_MODE_NATURAL ? DW_ROLE_KEY : DW_ROLE_STATUS, "%s", dw_mode_name(v->mode));
    if (v->live && v->no_data_since > 0) {
        wall_clock(v->no_data_since, a, sizeof a);
        add(f, &n, 0, DW_ROLE_CRITICAL, "NO DATA since %s", a);
    }
    if (v->live) wall_clock(dw_now_wall(), a, sizeof a);    /* live: the wall clock, never the board's */
    else dw_clock(s, v->t_source, 1, a, sizeof a);
    add(f, &n, 1, DW_ROLE_STATUS, "%s", a);
    if (v->live) add(f, &n, 2, DW_ROLE_STATUS, "LIVE");
    else if (v->paused) add(f, &n, 0, DW_ROLE_WARNING, "PAUSED");
    else if (v->speed <= 0) add(f, &n, 1, DW_ROLE_STATUS, "x max");
    else add(f, &n, 1, DW_ROLE_STATUS, "x%g", v->speed);
    int un = dw_unacked_alerts(s);
    if (un) add(f, &n, 1, DW_ROLE_WARNING, "%d alert%s", un, un > 1 ? "s" : "");
    recording_field(v, f, &n);
    if (v->live) {                             /* shown before LIVE goes; a loss over 1 % always */
        add(f, &n, v->loss_pct_recent > 1 ? 0 : 1, v->loss_pct_recent > 1 ? DW_ROLE_WARNING : DW_ROLE_STATUS,
            "loss %.1f%% (night %.2f%%)", v->loss_pct_recent, v->loss_pct_night);
        snprintf(f[n - 1].alt, sizeof f[n - 1].alt, "loss %.1f%%", v->loss_pct_recent);
    }
    const dw_session_view *sv = &v->session;
    char cues[48] = "", sham[32] = "";
    if (v->cue_count || sv->tmr_count)
        snprintf(cues, sizeof cues, " cue %d", v->cue_count + sv->tmr_count);
    if (sv->sham_count >= 0)                   /* unblinded sham protocol: how many were sham */
        snprintf(sham, sizeof sham, " (sham %d)", sv->sham_count);
    add(f, &n, 3, DW_ROLE_STATUS, "stim %d%s%s", v->stim_count, cues, sham);
    if (sv->volume_control && v->stim_count + v->cue_count + sv->tmr_count)
        add(f, &n, 5, DW_ROLE_STATUS, "vol %g", sv->volume);
    if (sv->protocol[0])
        add(f, &n, 4, DW_ROLE_STATUS, "%s: %d awakening%s", sv->protocol, sv->awakenings,
            sv->awakenings == 1 ? "" : "s");
    dw_duration(v->t_source - v->lights_off_t, a, sizeof a);
    add(f, &n, 4, DW_ROLE_STATUS, "lights-off +%s", v->t_source >= v->lights_off_t ? a : "0");
    add(f, &n, 5, DW_ROLE_STATUS, "%s %g Hz", v->source_desc, v->fs_source);
    if (v->live) add(f, &n, 6, v->lag_s > 2 ? DW_ROLE_WARNING : DW_ROLE_STATUS, "lag %.1f s", v->lag_s);
    *pn = n;
}

static void draw(dw_screen *s, dw_rect r, int focused)
{
    (void)focused;
    const dw_monitor *v = &s->v;
    field f[16];
    int n = 0;

    dw_theme_use(&s->theme, DW_ROLE_STATUS);
    dw_draw_fill(r);
    line_one(s, v, f, &n);
    draw_fields(s, r.y, r.x + 1, r.w - 2, f, n);
    if (r.h < 2) return;

    /* second line: the stage, a message, the keys */
    n = 0;
    int last = v->n_epochs - 1, st = last >= 0 ? s->stage[last] : DW_UNSCORED, scored = last;
    while (scored >= 0 && s->stage[scored] < 0) scored--;
    if (st >= 0)
        add(f, &n, 0, DW_ROLE_STAGE + st, "epoch %d %s", last, dw_stage_name(st));
    else if (scored >= 0)
        add(f, &n, 0, DW_ROLE_WARNING, "epoch %d unscored (last scored %d %s)", last, scored,
            dw_stage_name(s->stage[scored]));
    else
        add(f, &n, 0, DW_ROLE_STATUS, "no epoch scored yet");
    const dw_alert_view *bl = dw_monitor_stim_blocker(v);
    if (bl) add(f, &n, 0, DW_ROLE_WARNING, "stim off: alert %u not acknowledged (a)", bl->id);
    micro_field(v, f, &n);
    if (v->prov_stage >= 0 && !v->source_ended)         /* also on the hypnogram's bars */
        add(f, &n, 4, DW_ROLE_STATUS, "now %s? %.0f%%", dw_stage_name(v->prov_stage),
            100.0 * v->prov_prob[v->prov_stage]);
    if (s->msg_until > s->now && *s->msg)
        add(f, &n, 1, DW_ROLE_WARNING, "%s", s->msg);
    else if (*v->last_event)
        add(f, &n, 3, DW_ROLE_STATUS, "%s", v->last_event);
    add(f, &n, 1, DW_ROLE_KEY, "? help  w wake  n %s  Q shutdown",
        v->mode == DW_MODE_NATURAL ? "leave natural" : "natural");
    draw_fields(s, r.y + 1, r.x + 1, r.w - 2, f, n);
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
}

const dw_pane_ops dw_pane_status = { "status", DW_DEP_STATUS | DW_DEP_HYPNO | DW_DEP_ALERTS | DW_DEP_CLOCK, draw, NULL, NULL };
