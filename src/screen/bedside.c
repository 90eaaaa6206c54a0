/* The bedside view: the current stage in large block letters, the night's total sleep so far, the most
 * severe open alert (still active, or cleared and waiting for `a`), an outage ("NO DATA since") and the
 * three actions, in calm dim colours; nothing moves but the minute. Also the whole screen below 40x10. */
#define DW_SCREEN_INTERNAL
#include "screen/screen.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* 5x5 block letters for what a stage name needs. */
static const struct { char c; const char *rows[5]; } font[] = {
    { 'W', { "#...#", "#...#", "#.#.#", "##.##", "#...#" } },
    { 'N', { "#...#", "##..#", "#.#.#", "#..##", "#...#" } },
    { 'R', { "####.", "#...#", "####.", "#..#.", "#...#" } },
    { '1', { "..#..", ".##..", "..#..", "..#..", ".###." } },
    { '2', { "####.", "....#", ".##..", "#....", "#####" } },
    { '3', { "####.", "....#", ".###.", "....#", "####." } },
    { '-', { ".....", ".....", ".###.", ".....", "....." } },
    { '?', { ".###.", "#...#", "..##.", ".....", "..#.." } },
};

int dw_big_text(dw_screen *s, int y, int x, const char *text, int scale, int draw)
{
    int n = (int)strlen(text), pix = 2 * scale, w = n * 5 * pix + (n > 1 ? (n - 1) * pix : 0);
    if (!draw) return w;
    const char *on = dw_glyph(s, "█", "#");
    for (int i = 0; i < n; i++) {
        int g = (int)(sizeof font / sizeof font[0]) - 1;
        for (int k = 0; k < (int)(sizeof font / sizeof font[0]); k++)
            if (font[k].c == text[i]) g = k;
        int gx = x + i * 6 * pix;
        for (int ry = 0; ry < 5; ry++)
            for (int rx = 0; rx < 5; rx++)
                for (int sy = 0; sy < scale; sy++)
                    for (int sx = 0; sx < pix; sx++)
                        mvaddstr(y + ry * scale + sy, gx + rx * pix + sx, font[g].rows[ry][rx] == '#' ? on : " ");
    }
    return w;
}

static const char *const meaning[DW_NSTAGES] = { "awake", "light sleep", "sleep", "deep sleep", "REM sleep" };

static void centre(int y, dw_rect r, const char *text)
{
    int len = 0;
    for (const char *p = text; *p; p++) len += ((unsigned char)*p & 0xC0) != 0x80;
    int x = r.x + (r.w - len) / 2;
    dw_draw_text(y, x < r.x ? r.x : x, r.w, text);
}

/* The open alert (active, or not yet acknowledged) that matters most: the most severe, active before
 * cleared, the newest; NULL when none is open. */
static const dw_alert_view *most_severe_open(const dw_monitor *v)
{
    const dw_alert_view *best = NULL;
    for (int i = 0; i < v->n_alerts; i++) {
        const dw_alert_view *a = &v->alerts[i];
        if (a->acked && !a->active)
            continue;
        if (!best || a->severity > best->severity ||
            (a->severity == best->severity && (a->active >= best->active)))
            best = a;
    }
    return best;
}

static void alert_line(dw_screen *s, char *out, size_t n)
{
    const dw_alert_view *a = most_severe_open(&s->v);
    static const char *const sev[] = { "note", "WARNING", "ALERT" };
    if (!a) {
        snprintf(out, n, "%s", s->v.n_alerts ? "no open alerts" : "no alerts");
        return;
    }
    char t[16];
    dw_alert_clock(s, a, t, sizeof t);
    snprintf(out, n, "%s %s: %s (%s)", sev[a->severity >= 0 && a->severity <= DW_CRITICAL ? a->severity : 0], t,
             a->text, a->active ? (a->acked ? "still active, acknowledged" : "still active, a acknowledges")
                                : "cleared, a acknowledges");
}

static void draw(dw_screen *s, dw_rect r, int focused)
{
    (void)focused;
    const dw_monitor *v = &s->v;
    int st = dw_current_stage(s);
    const char *name = st >= 0 ? dw_stage_name(st) : "-";
    char lines[6][200];
    int nl = 0;
    dw_sleep_stats sst;                              /* the one definition of TST, rounded as the pane does */
    dw_night_stats(s, &sst, NULL);
    long slept = lround(sst.tst_min);
    char clock[16];
    if (v->live) {                                   /* live: the wall clock, never the board's */
        time_t now = (time_t)dw_now_wall();
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(clock, sizeof clock, "%H:%M", &tm);
    } else {
        dw_clock(s, v->t_source, 0, clock, sizeof clock);
    }
    snprintf(lines[nl++], sizeof lines[0], "stage %s%s%s", st >= 0 ? name : "not scored yet",
             st >= 0 ? ": " : "", st >= 0 ? meaning[st] : "");
    snprintf(lines[nl++], sizeof lines[0], "total sleep %ld h %02ld min   %s   %s", slept / 60, slept % 60,
             clock, v->source_ended ? "replay ended" : dw_mode_name(v->mode));
    if (v->live && v->no_data_since > 0) {
        time_t t = (time_t)v->no_data_since;
        struct tm tm;
        char since[16];
        localtime_r(&t, &tm);
        strftime(since, sizeof since, "%H:%M:%S", &tm);
        snprintf(lines[nl++], sizeof lines[0], "NO DATA since %s", since);
    }
    alert_line(s, lines[nl++], sizeof lines[0]);
    snprintf(lines[nl++], sizeof lines[0], "w  wake      n  %s      Q  shutdown",
             v->mode == DW_MODE_NATURAL ? "leave natural sleep" : "natural sleep");

    dw_theme_use(&s->theme, DW_ROLE_BEDSIDE);
    dw_draw_fill(r);
    int scale = 1;
    while (5 * (scale + 1) + 2 * nl + 1 <= r.h && dw_big_text(s, 0, 0, name, scale + 1, 0) + 4 <= r.w && scale < 3)
        scale++;
    int big = 5 * scale + 1 <= r.h - nl && dw_big_text(s, 0, 0, name, scale, 0) + 2 <= r.w;
    int used = (big ? 5 * scale + 1 : 0) + 2 * nl - 1, y = r.y + (r.h - used) / 2;
    if (used > r.h) { used = nl; y = r.y; }              /* tiny: the lines only, as many as fit */
    if (big) {
        dw_theme_use(&s->theme, DW_ROLE_BEDSIDE_STAGE);
        dw_big_text(s, y, r.x + (r.w - dw_big_text(s, 0, 0, name, scale, 0)) / 2, name, scale, 1);
        y += 5 * scale + 1;
    }
    for (int i = 0; i < nl && y < r.y + r.h; i++) {
        int role = i == nl - 1 ? DW_ROLE_KEY : DW_ROLE_BEDSIDE;
        if (!strncmp(lines[i], "NO DATA", 7) || !strncmp(lines[i], "ALERT", 5)) role = DW_ROLE_CRITICAL;
        else if (!strncmp(lines[i], "WARNING", 7)) role = DW_ROLE_WARNING;
        dw_theme_use(&s->theme, role);
        centre(y, r, lines[i]);
        y += used > r.h - 1 || !big ? 1 : 2;
    }
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
}

const dw_pane_ops dw_pane_bedside = { "bedside", DW_DEP_HYPNO | DW_DEP_ALERTS | DW_DEP_CLOCK | DW_DEP_STATUS, draw, NULL, NULL };
