/* The ward screen: every bed on one screen (see ward_screen.h). */
#define DW_SCREEN_INTERNAL
#include "screen/ward_screen.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "session/alerts.h"

static int sigp[2] = { -1, -1 };
static void on_sig(int sig)
{
    int e = errno;
    unsigned char c = (unsigned char)sig;
    if (write(sigp[1], &c, 1) < 0) {}
    errno = e;
}

typedef struct {
    dw_ward *w;
    dw_screen *s;      /* the theme and glyphs of the monitor's screen */
    dw_ward_bed *beds; /* copy, in order of attention */
    int n, rank[DW_WARD_BEDS];
    int connected;
    char link[128];
    char sel[DW_BED_MAX]; /* the selected bed, by id: stays as the order changes */
    int detail;
    struct {
        int on;
        char op[16], bed[DW_BED_MAX], q[128];
        double arg;
    } confirm;
    unsigned long bells_seen;
    double now;
} ward_ui;

static void copy(ward_ui *u)
{
    dw_ward *w = u->w;
    int idx[DW_WARD_BEDS];
    pthread_mutex_lock(&w->lock);
    dw_ward_timeouts(w, u->now);
    dw_ward_order(w, idx, u->now);
    u->n = w->n;
    for (int i = 0; i < w->n; i++) {
        u->beds[i] = w->beds[idx[i]];
        u->rank[i] = dw_ward_attention(w, &w->beds[idx[i]], u->now);
    }
    u->connected = w->connected;
    snprintf(u->link, sizeof u->link, "%s", w->link_text);
    for (int i = 0; i < w->ncmd; i++) {
        dw_ward_cmd *c = &w->cmds[i];
        if (c->state == DW_WCMD_PENDING || c->reported) continue;
        c->reported = 1;
        if (c->state == DW_WCMD_OK)
            dw_screen_say(u->s, "bed %s: %s acknowledged: carried out", c->bed, c->op);
        else if (c->state == DW_WCMD_REFUSED)
            dw_screen_say(u->s, "bed %s: %s REFUSED by the bed: %s", c->bed, c->op, c->reason);
        else
            dw_screen_say(u->s, "bed %s: %s NOT ACKNOWLEDGED after %.0f s: check the bed", c->bed,
                          c->op, DW_WARD_ACK_S);
    }
    if (w->bells > u->bells_seen) beep(); /* a critical alert on any bed */
    u->bells_seen = w->bells;
    pthread_mutex_unlock(&w->lock);
    if (!u->sel[0] && u->n) snprintf(u->sel, sizeof u->sel, "%s", u->beds[0].id);
}

static int sel_index(const ward_ui *u)
{
    for (int i = 0; i < u->n; i++)
        if (!strcmp(u->beds[i].id, u->sel)) return i;
    return u->n ? 0 : -1;
}

static int role_of(int rank)
{
    return rank >= 3 ? DW_ROLE_CRITICAL
        : rank == 2  ? DW_ROLE_WARNING
        : rank == 1  ? DW_ROLE_INFO
        : rank < 0   ? DW_ROLE_DIM
                     : DW_ROLE_TEXT;
}

static const char *state_text(const ward_ui *u, const dw_ward_bed *b)
{
    if (b->state == DW_BED_OFFLINE) return "OFFLINE";
    if (b->state == DW_BED_ENDED) return "ended";
    if (u->now - b->last_msg > u->w->stale_s) return "STALE";
    return "online";
}

static void age_text(double s, char *out, size_t n)
{
    if (s < 60)
        snprintf(out, n, "%.0fs", s);
    else if (s < 3600)
        snprintf(out, n, "%.0fm", floor(s / 60));
    else
        snprintf(out, n, "%.0fh", floor(s / 3600));
}

static void draw_list(ward_ui *u)
{
    int H = LINES, W = COLS, need = 0;
    for (int i = 0; i < u->n; i++) need += u->rank[i] >= 2;
    char title[256], clock[16];
    time_t t = time(NULL);
    struct tm tm;
    strftime(clock, sizeof clock, "%H:%M:%S", localtime_r(&t, &tm));
    snprintf(title, sizeof title,
             " dreamwatch ward  %s:%d/%s  %d bed%s, %d need%s attention  %s  %s", u->w->url.host,
             u->w->url.port, u->w->url.prefix, u->n, u->n == 1 ? "" : "s", need,
             need == 1 ? "s" : "", u->connected ? "broker connected" : "BROKER UNREACHABLE", clock);
    dw_theme_use(&u->s->theme, u->connected ? DW_ROLE_TITLE : DW_ROLE_CRITICAL);
    dw_draw_text(0, 0, W, title);
    dw_theme_use(&u->s->theme, DW_ROLE_DIM);
    mvprintw(1, 0, "%-8s %-8s %-5s %-8s %-10s %-8s %-9s %-7s %s", "BED", "STATE", "STAGE", "ASLEEP",
             "MODE", "DATA", "REC", "LAST", "ALERT");
    int rows = H - 4, si = sel_index(u), top = si >= rows ? si - rows + 1 : 0;
    for (int r = 0; r < rows && top + r < u->n; r++) {
        const dw_ward_bed *b = &u->beds[top + r];
        char asleep[16], age[16], line[512];
        dw_duration(b->asleep_s, asleep, sizeof asleep);
        age_text(u->now - b->last_msg, age, sizeof age);
        snprintf(line, sizeof line, "%-8.8s %-8s %-5s %-8s %-10.10s %-8.8s %-9.9s %-7s %s%s%s",
                 b->id, state_text(u, b), b->stage[0] ? b->stage : "-", asleep,
                 b->mode[0] ? b->mode : "-", b->data[0] ? b->data : "-", b->rec[0] ? b->rec : "-",
                 age,
                 b->alert_sev < 0                  ? ""
                     : b->alert_sev == DW_CRITICAL ? "CRITICAL "
                     : b->alert_sev == DW_WARNING  ? "warning "
                                                   : "info ",
                 b->alert_text, b->unacked ? " (unacked)" : "");
        dw_theme_use(&u->s->theme, role_of(u->rank[top + r]));
        if (top + r == si) attron(A_REVERSE);
        move(2 + r, 0);
        clrtoeol();
        dw_draw_text(2 + r, 0, W, line);
        if (top + r == si) {
            for (int x = (int)strlen(line); x < W; x++) mvaddch(2 + r, x, ' ');
            attroff(A_REVERSE);
        }
    }
    if (!u->n) {
        dw_theme_use(&u->s->theme, DW_ROLE_DIM);
        dw_draw_text(3, 2, W - 2, "no bed has published yet");
    }
}

static void draw_hypno(ward_ui *u, const dw_ward_bed *b, int y, int x, int w)
{
    static const char rows[] = "WR123";
    static const char *const names[] = { "W", "R", "N1", "N2", "N3" };
    int n = (int)strlen(b->hypno), per = n > w - 4 ? (n + w - 5) / (w - 4) : 1;
    for (int r = 0; r < 5; r++) {
        dw_theme_use(&u->s->theme, DW_ROLE_DIM);
        mvprintw(y + r, x, "%-3s", names[r]);
        dw_theme_use(&u->s->theme,
                     DW_ROLE_STAGE +
                         (r == 0       ? DW_W
                              : r == 1 ? DW_R
                              : r == 2 ? DW_N1
                              : r == 3 ? DW_N2
                                       : DW_N3));
        for (int c = 0; c * per < n && c < w - 4; c++) {
            char e = b->hypno[c * per + per - 1 < n ? c * per + per - 1 : n - 1];
            if (e == rows[r]) dw_draw_text(y + r, x + 4 + c, 1, dw_glyph(u->s, "█", "#"));
        }
    }
}

static void draw_detail(ward_ui *u)
{
    int si = sel_index(u);
    if (si < 0) {
        u->detail = 0;
        return;
    }
    const dw_ward_bed *b = &u->beds[si];
    dw_rect r = { 0, 0, LINES - 2, COLS };
    char title[96], asleep[16], line[256];
    snprintf(title, sizeof title, "Bed %s (Enter or Esc: back)", b->id);
    dw_draw_box(u->s, r, title, 1);
    dw_theme_use(&u->s->theme, role_of(u->rank[si]));
    dw_duration(b->asleep_s, asleep, sizeof asleep);
    char probs[96] = "(unscored: no probabilities)";  /* an unscored epoch has none */
    if (b->stage[0])
        snprintf(probs, sizeof probs, "(W %.2f N1 %.2f N2 %.2f N3 %.2f R %.2f)", b->prob[0], b->prob[1],
                 b->prob[2], b->prob[3], b->prob[4]);
    snprintf(line, sizeof line, "%s   mode %s   stage %s %s   asleep %s   %d %s", state_text(u, b),
             b->mode, b->stage[0] ? b->stage : "-", probs, asleep, b->epochs,
             dw_plural(b->epochs, "epoch", "epochs"));
    dw_draw_text(1, 2, COLS - 4, line);
    dw_theme_use(&u->s->theme, DW_ROLE_TEXT);
    snprintf(line, sizeof line, "data %s   recording %s   last event: %s", b->data, b->rec,
             b->last_event);
    dw_draw_text(2, 2, COLS - 4, line);
    draw_hypno(u, b, 4, 2, COLS - 4);
    dw_theme_use(&u->s->theme, DW_ROLE_TITLE);
    dw_draw_text(10, 2, COLS - 4, "Alerts (newest first)");
    for (int i = b->n_al - 1, y = 11; i >= 0 && y < LINES - 3; i--, y++) {
        const dw_ward_alert *a = &b->al[i];
        char clock[16] = "--:--";
        time_t t = (time_t)a->wall;
        struct tm tm;
        if (a->wall > 0) strftime(clock, sizeof clock, "%H:%M:%S", localtime_r(&t, &tm));
        snprintf(line, sizeof line, "%s  %-7s %-8s #%u %s: %s", clock, a->event,
                 a->severity == DW_CRITICAL      ? "CRITICAL"
                     : a->severity == DW_WARNING ? "warning"
                                                 : "info",
                 a->id, a->rule, a->text);
        dw_theme_use(&u->s->theme,
                     a->severity == DW_CRITICAL      ? DW_ROLE_CRITICAL
                         : a->severity == DW_WARNING ? DW_ROLE_WARNING
                                                     : DW_ROLE_INFO);
        dw_draw_text(y, 2, COLS - 4, line);
    }
}

static void draw(ward_ui *u)
{
    dw_theme_use(&u->s->theme, DW_ROLE_TEXT);
    erase();
    if (u->detail)
        draw_detail(u);
    else
        draw_list(u);
    dw_theme_use(&u->s->theme, u->confirm.on ? DW_ROLE_DIALOG : DW_ROLE_STATUS);
    move(LINES - 2, 0);
    clrtoeol();
    if (u->confirm.on)
        dw_draw_text(LINES - 2, 0, COLS, u->confirm.q);
    else if (u->s->msg[0] && u->now < u->s->msg_until)
        dw_draw_text(LINES - 2, 0, COLS, u->s->msg);
    dw_theme_use(&u->s->theme, DW_ROLE_KEY);
    dw_draw_text(
        LINES - 1, 0, COLS,
        u->detail
            ? " Enter/Esc back  w wake  n natural  a ack  X shutdown bed  q quit"
            : " up/down select  Enter detail  w wake  n natural  a ack  X shutdown bed  q quit");
    refresh();
}

static void ask(ward_ui *u, const char *op, double arg, const char *q)
{
    int si = sel_index(u);
    if (si < 0) return;
    u->confirm.on = 1;
    snprintf(u->confirm.op, sizeof u->confirm.op, "%s", op);
    snprintf(u->confirm.bed, sizeof u->confirm.bed, "%s", u->beds[si].id);
    u->confirm.arg = arg;
    snprintf(u->confirm.q, sizeof u->confirm.q, " Bed %s: %s? y = yes, any other key = no",
             u->beds[si].id, q);
}

static void send(ward_ui *u, const char *bed, const char *op, double arg)
{
    dw_err err = { 0 };
    if (dw_ward_send(u->w, bed, op, arg, &err) < 0)
        dw_screen_say(u->s, "%s", err.msg);
    else
        dw_screen_say(u->s, "bed %s: %s sent, waiting for the bed's acknowledgement", bed, op);
}

/* 1 to quit. */
static int key(ward_ui *u, int k)
{
    if (u->confirm.on) {
        u->confirm.on = 0;
        if (k == 'y' || k == 'Y')
            send(u, u->confirm.bed, u->confirm.op, u->confirm.arg);
        else
            dw_screen_say(u->s, "nothing sent");
        return 0;
    }
    int si = sel_index(u);
    switch (k) {
    case 'q': return 1;
    case KEY_UP:
    case 'k':
        if (si > 0) snprintf(u->sel, sizeof u->sel, "%s", u->beds[si - 1].id);
        break;
    case KEY_DOWN:
    case 'j':
        if (si >= 0 && si + 1 < u->n) snprintf(u->sel, sizeof u->sel, "%s", u->beds[si + 1].id);
        break;
    case '\r':
    case '\n':
    case KEY_ENTER: u->detail = !u->detail && si >= 0; break;
    case 27: u->detail = 0; break;
    case 'w': ask(u, "wake", 0, "manual WAKE now"); break;
    case 'n':
        if (si >= 0 && !strcmp(u->beds[si].mode, "NATURAL"))
            ask(u, "natural", 0, "natural-sleep mode OFF");
        else
            ask(u, "natural", 1, "natural-sleep mode ON (no stimulation)");
        break;
    case 'a':
        if (si >= 0) send(u, u->beds[si].id, "ack", -1);
        break;
    case 'X': ask(u, "shutdown", 0, "safe SHUTDOWN (ends its night)"); break;
    }
    return 0;
}

static int setup(ward_ui *u, const dw_display_cfg *cfg, SCREEN **scr)
{
    const char *ctype = setlocale(LC_CTYPE, NULL);
    if (!ctype || !strcmp(ctype, "C")) setlocale(LC_CTYPE, "");
    u->s->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8") && strcmp(cfg->charset, "ascii") != 0;
    dw_draw_ascii(!u->s->utf8);
    dw_err err = { 0 };
    if (dw_theme_load(&u->s->theme, cfg->theme, &err) < 0) dw_screen_say(u->s, "%s", err.msg);
    if (pipe2(sigp, O_CLOEXEC | O_NONBLOCK) < 0) return -1;
    struct sigaction sa = { .sa_handler = on_sig };
    sigemptyset(&sa.sa_mask);
    int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH };
    for (int i = 0; i < 4; i++) sigaction(sigs[i], &sa, NULL);
    *scr = newterm(NULL, stdout, stdin);
    if (!*scr) {
        fprintf(stderr, "dreamwatch ward: cannot use the terminal\n");
        return -1;
    }
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    const char *nc = getenv("NO_COLOR");
    u->s->colour = !(nc && *nc) && has_colors() && start_color() == OK;
    if (u->s->colour) use_default_colors();
    dw_theme_apply(&u->s->theme, u->s->colour);
    return 0;
}

int dw_ward_run(dw_ward *w, const dw_display_cfg *cfg)
{
    ward_ui *u = calloc(1, sizeof *u);
    dw_screen *s = calloc(1, sizeof *s);
    dw_ward_bed *beds = calloc(DW_WARD_BEDS, sizeof *beds);
    SCREEN *scr = NULL;
    int rc = 1;
    if (!u || !s || !beds) goto done;
    u->w = w;
    u->s = s;
    u->beds = beds;
    s->cfg = cfg;
    if (setup(u, cfg, &scr) < 0) goto done;
    rc = 0;
    double frame = 1.0 / (cfg->fps > 0 ? cfg->fps : 2), next = 0;
    for (int quit = 0; !quit;) {
        struct pollfd pf[3] = { { 0, POLLIN, 0 },
                                { w->wake_fd[0], POLLIN, 0 },
                                { sigp[0], POLLIN, 0 } };
        int ms = (int)(fmax(0, next - dw_now_mono()) * 1000) + 1;
        if (poll(pf, 3, ms < 1000 ? ms : 1000) < 0 && errno != EINTR) break;
        if (pf[1].revents) {
            char b[256];
            while (read(w->wake_fd[0], b, sizeof b) > 0) {}
        }
        if (pf[2].revents) {
            unsigned char sg[16];
            ssize_t n = read(sigp[0], sg, sizeof sg);
            for (ssize_t i = 0; i < n; i++) {
                if (sg[i] != SIGWINCH) quit = 1;
                struct winsize ws;
                if (sg[i] == SIGWINCH && ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
                    resizeterm(ws.ws_row, ws.ws_col);
            }
        }
        if (pf[0].revents & (POLLHUP | POLLERR)) break;
        int k;
        u->now = dw_now_mono();
        while (!quit && (k = getch()) != ERR) quit = key(u, k);
        if (u->now < next && !(pf[0].revents & POLLIN)) continue;
        next = u->now + frame;
        s->now = u->now;
        copy(u);
        draw(u);
    }
done:
    if (scr) {
        endwin();
        delscreen(scr);
    }
    for (int i = 0; i < 2; i++)
        if (sigp[i] >= 0) {
            close(sigp[i]);
            sigp[i] = -1;
        }
    free(beds);
    free(s);
    free(u);
    return rc;
}
