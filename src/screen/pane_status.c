/* The status bar: two lines. Fields that do not fit are dropped, least important first. */
#define DW_SCREEN_INTERNAL
#include "screen/screen.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct { char text[200]; int prio, role; } field;

static void add(field *f, int *n, int prio, int role, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void add(field *f, int *n, int prio, int role, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f[*n].text, sizeof f[*n].text, fmt, ap);
    va_end(ap);
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

/* Fields joined by a separator, dropping the highest prio number until they fit; fields of prio 0 and 1
 * stay (the last is cut at the edge instead). */
static void draw_fields(dw_screen *s, int y, int x, int w, field *f, int n)
{
    const char *sep = dw_glyph(s, " │ ", " | ");
    for (;;) {
        int total = 0, worst = -1;
        for (int i = 0; i < n; i++) {
            total += width(f[i].text) + (i ? 3 : 0);
            if (worst < 0 || f[i].prio >= f[worst].prio) worst = i;
        }
        if (total <= w || n <= 1 || f[worst].prio <= 1) break;
        memmove(f + worst, f + worst + 1, (size_t)(n - worst - 1) * sizeof *f);
        n--;
    }
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

static void draw(dw_screen *s, dw_rect r, int focused)
{
    (void)focused;
    const dw_monitor *v = &s->v;
    field f[16];
    int n = 0;
    char a[64], b[64];

    dw_theme_use(&s->theme, DW_ROLE_STATUS);
    dw_draw_fill(r);
    if (v->source_ended)
        add(f, &n, 0, DW_ROLE_WARNING, "replay ended");
    add(f, &n, 0, v->mode == DW_MODE_NATURAL ? DW_ROLE_KEY : DW_ROLE_STATUS, "%s", dw_mode_name(v->mode));
    dw_clock(s, v->t_source, 1, a, sizeof a);
    add(f, &n, 1, DW_ROLE_STATUS, "%s", a);
    if (v->live) add(f, &n, 1, DW_ROLE_STATUS, "LIVE");
    else if (v->paused) add(f, &n, 0, DW_ROLE_WARNING, "PAUSED");
    else if (v->speed <= 0) add(f, &n, 1, DW_ROLE_STATUS, "x max");
    else add(f, &n, 1, DW_ROLE_STATUS, "x%g", v->speed);
    int un = dw_unacked_alerts(s);
    if (un) add(f, &n, 1, DW_ROLE_WARNING, "%d alert%s", un, un > 1 ? "s" : "");
    dw_duration(v->t_source - v->lights_off_t, a, sizeof a);
    add(f, &n, 2, DW_ROLE_STATUS, "lights-off +%s", v->t_source >= v->lights_off_t ? a : "0");
    const dw_session_view *sv = &v->session;
    if (sv->sham_count >= 0)
        add(f, &n, 2, DW_ROLE_STATUS, "stim %d (sham %d)", v->stim_count, sv->sham_count);
    else
        add(f, &n, 2, DW_ROLE_STATUS, "stim %d", v->stim_count);
    if (sv->volume_control && v->stim_count)
        add(f, &n, 4, DW_ROLE_STATUS, "vol %g", sv->volume);
    if (sv->protocol[0])
        add(f, &n, 3, DW_ROLE_STATUS, "%s: %d awakening%s", sv->protocol, sv->awakenings,
            sv->awakenings == 1 ? "" : "s");
    if (v->live || v->lost_samples)
        add(f, &n, 3, v->loss_pct_5s > 1 ? DW_ROLE_WARNING : DW_ROLE_STATUS, "loss %.1f%% (night %.2f%%)",
            v->loss_pct_5s, v->loss_pct_night);
    if (*v->rec_path) {
        const char *base = strrchr(v->rec_path, '/') ? strrchr(v->rec_path, '/') + 1 : v->rec_path;
        human_bytes(v->rec_bytes, b, sizeof b);
        add(f, &n, 3, DW_ROLE_STATUS, "rec %s %s", base, b);
    } else {
        add(f, &n, 3, DW_ROLE_DIM, "not recording");
    }
    add(f, &n, 4, DW_ROLE_STATUS, "%s %g Hz", v->source_desc, v->fs_source);
    if (v->live) add(f, &n, 5, v->lag_s > 2 ? DW_ROLE_WARNING : DW_ROLE_STATUS, "lag %.1f s", v->lag_s);
    draw_fields(s, r.y, r.x + 1, r.w - 2, f, n);
    if (r.h < 2) return;

    /* second line: the stage, a message, the keys */
    n = 0;
    int st = dw_current_stage(s);
    if (st >= 0)
        add(f, &n, 0, DW_ROLE_STAGE + st, "epoch %d %s", v->n_epochs, dw_stage_name(st));
    else
        add(f, &n, 0, DW_ROLE_STATUS, "no epoch scored yet");
    if (v->prov_stage >= 0)
        add(f, &n, 2, DW_ROLE_STATUS, "now %s? %.0f%%", dw_stage_name(v->prov_stage),
            100.0 * v->prov_prob[v->prov_stage]);
    if (v->session.micro_epoch >= 0)
        add(f, &n, 3, DW_ROLE_STATUS, "spindles %.0f SO %.0f /min", v->session.spindles_per_min,
            v->session.so_per_min);
    if (s->msg_until > s->now && *s->msg)
        add(f, &n, 1, DW_ROLE_WARNING, "%s", s->msg);
    else if (*v->last_event)
        add(f, &n, 3, DW_ROLE_STATUS, "%s", v->last_event);
    add(f, &n, 1, DW_ROLE_KEY, "? help  w wake  n natural  Q shutdown");
    draw_fields(s, r.y + 1, r.x + 1, r.w - 2, f, n);
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
}

const dw_pane_ops dw_pane_status = { "status", DW_DEP_STATUS | DW_DEP_HYPNO | DW_DEP_ALERTS | DW_DEP_CLOCK, draw, NULL };
