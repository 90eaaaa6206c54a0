/* The protocol's dialogs: the questionnaire after a serial awakening (one question at a time,
 * opened by the session; the latency from the question appearing to the answer key goes back with
 * the answer), the evoked response (e), and the pre-night check's table (k; the worker runs the
 * check on a live board). */
#define DW_SCREEN_INTERNAL
#include "screen/screen.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "session/protocol.h"

enum { PD_NONE, PD_QUESTION, PD_EVOKED, PD_CHECK };

static struct {
    int    kind;
    long   aw;                          /* the question shown: awakening and number */
    int    q;
    double shown_at;                    /* monotonic */
    char   buf[DW_TEXT_MAX];            /* free-text answer being typed */
    size_t len;
    long   hidden_aw;                   /* Esc hid this question */
    int    hidden_q;
    char   check_seen[64];
} pd;

int dw_protocol_dialog_open(void) { return pd.kind != PD_NONE; }

void dw_protocol_dialog_reset(void) { memset(&pd, 0, sizeof pd); }

/* After each snapshot: a new question opens the questionnaire; an answered or timed-out one closes
 * it; a new check report opens its table. */
void dw_protocol_dialog_update(dw_screen *s)
{
    const dw_session_view *v = &s->v.session;
    if (v->q_active && (v->q_awakening != pd.aw || v->q_index != pd.q) &&
        !(v->q_awakening == pd.hidden_aw && v->q_index == pd.hidden_q)) {
        pd.kind = PD_QUESTION;
        pd.aw = v->q_awakening;
        pd.q = v->q_index;
        pd.shown_at = s->now;
        pd.len = 0;
    } else if (pd.kind == PD_QUESTION && !v->q_active) {
        pd.kind = PD_NONE;
    }
    if (s->v.check_report[0] &&
        strncmp(pd.check_seen, s->v.check_report, sizeof pd.check_seen - 1)) {
        snprintf(pd.check_seen, sizeof pd.check_seen, "%s", s->v.check_report);
        if (pd.kind == PD_NONE)
            pd.kind = PD_CHECK;
    }
}

void dw_protocol_dialog_evoked(void) { pd.kind = PD_EVOKED; }

static void answer(dw_screen *s, const char *text)
{
    dw_cmd c;
    memset(&c, 0, sizeof c);
    c.kind = DW_CMD_ANSWER;
    c.arg = pd.q;
    c.arg2 = s->now - pd.shown_at;
    snprintf(c.text, sizeof c.text, "%s", text);
    if (dw_monitor_post_cmd(s->m, &c) < 0)
        dw_screen_say(s, "command queue full: answer again");
    else
        dw_screen_say(s, "answer %d: %s (%.1f s)", pd.q, text, c.arg2);
    pd.hidden_aw = pd.aw; /* until the session moves on, this question stays closed */
    pd.hidden_q = pd.q;
    pd.kind = PD_NONE;
}

static int question_key(dw_screen *s, int key)
{
    const dw_session_view *v = &s->v.session;
    if (key == 27) {                     /* hide it: the session times it out */
        pd.hidden_aw = pd.aw;
        pd.hidden_q = pd.q;
        pd.kind = PD_NONE;
        dw_screen_say(s, "question %d hidden: it will time out", pd.q);
        return 1;
    }
    if (v->q_type == DW_ANSWER_YESNO) {
        if (key == 'y' || key == 'Y') answer(s, "yes");
        else if (key == 'n' || key == 'N') answer(s, "no");
        else if (key == 'r' || key == 'R') answer(s, "no recall");
        return 1;
    }
    if (v->q_type == DW_ANSWER_SCALE) {
        if (key >= '1' && key <= '5') {
            char a[2] = { (char)key, 0 };
            answer(s, a);
        }
        return 1;
    }
    if (key == '\n' || key == '\r' || key == DW_KEY(KEY_ENTER)) {
        pd.buf[pd.len] = 0;
        if (pd.len)
            answer(s, pd.buf);
    } else if (key == DW_KEY(KEY_BACKSPACE) || key == 127 || key == 8) {
        while (pd.len > 0 && ((unsigned char)pd.buf[--pd.len] & 0xC0) == 0x80)
            ;
    } else if (key >= 0x20 && key < 0x110000 && key != 0x7f) {
        char mb[MB_LEN_MAX];
        mbstate_t st;
        memset(&st, 0, sizeof st);
        size_t n = wcrtomb(mb, (wchar_t)key, &st);
        if (n != (size_t)-1 && pd.len + n < sizeof pd.buf - 1) {
            memcpy(pd.buf + pd.len, mb, n);
            pd.len += n;
        }
    }
    return 1;
}

int dw_protocol_dialog_key(dw_screen *s, int key)
{
    if (pd.kind == PD_QUESTION)
        return question_key(s, key);
    if (pd.kind == PD_EVOKED || pd.kind == PD_CHECK) {
        pd.kind = PD_NONE;
        return 1;
    }
    return 0;
}

static dw_rect dialog_box(dw_screen *s, int h, int w, const char *title)
{
    if (w > COLS) w = COLS;
    if (h > LINES) h = LINES;
    dw_rect r = { (LINES - h) / 2, (COLS - w) / 2, h, w };
    dw_theme_use(&s->theme, DW_ROLE_DIALOG);
    dw_draw_fill(r);
    dw_draw_box(s, r, title, 1);
    dw_theme_use(&s->theme, DW_ROLE_DIALOG);
    return r;
}

/* Text wrapped on spaces into the box, from row y; returns the rows used. */
static int wrap(int y, int x, int w, int rows, const char *text)
{
    int used = 0;
    const char *p = text;
    while (*p && used < rows) {
        int n = (int)strlen(p);
        if (n > w) {
            n = w;
            while (n > 0 && p[n] != ' ')
                n--;
            if (n == 0)
                n = w;
        }
        char line[256];
        snprintf(line, sizeof line, "%.*s", n, p);
        dw_draw_text(y + used++, x, w, line);
        p += n;
        while (*p == ' ')
            p++;
    }
    return used;
}

static void draw_question(dw_screen *s)
{
    const dw_session_view *v = &s->v.session;
    char title[96], hint[160];
    snprintf(title, sizeof title, "Awakening %ld: question %d of %d", v->q_awakening, v->q_index,
             v->q_total);
    dw_rect r = dialog_box(s, 11, 72, title);
    int y = r.y + 2 + wrap(r.y + 2, r.x + 3, r.w - 6, 3, v->q_text);
    if (v->q_type == DW_ANSWER_YESNO)
        snprintf(hint, sizeof hint, "y yes    n no    r no recall");
    else if (v->q_type == DW_ANSWER_SCALE)
        snprintf(hint, sizeof hint, "1 to 5%s%s%s%s%s", v->q_low[0] ? "   1 = " : "", v->q_low,
                 v->q_high[0] ? ", 5 = " : "", v->q_high, "");
    else
        snprintf(hint, sizeof hint, "type the answer, Enter when done");
    dw_theme_use(&s->theme, DW_ROLE_CURRENT);
    dw_draw_text(y + 1, r.x + 3, r.w - 6, hint);
    dw_theme_use(&s->theme, DW_ROLE_DIALOG);
    if (v->q_type == DW_ANSWER_TEXT) {
        pd.buf[pd.len] = 0;
        const char *tail = pd.buf;
        while ((int)strlen(tail) > r.w - 8)
            tail++;
        char line[DW_TEXT_MAX + 4];
        snprintf(line, sizeof line, "> %s", tail);
        dw_draw_text(y + 2, r.x + 3, r.w - 6, line);
    }
    double left = v->q_deadline - (v->q_source_clock ? s->v.t_source : dw_now_wall());
    snprintf(hint, sizeof hint, "%.0f s left (no answer after that)   Esc hide",
             left > 0 ? left : 0);
    dw_draw_text(r.y + r.h - 2, r.x + 3, r.w - 6, hint);
}

static void draw_evoked(dw_screen *s)
{
    const dw_session_view *v = &s->v.session;
    enum { ROWS = 9 };
    char title[96];
    int split = v->evoked_n[1] + v->evoked_n[2] > 0;
    if (split)
        snprintf(title, sizeof title, "Evoked response: a active (%d), s sham (%d)", v->evoked_n[1],
                 v->evoked_n[2]);
    else
        snprintf(title, sizeof title, "Evoked response: %d %s (any key closes)", v->evoked_n[0],
                 dw_plural(v->evoked_n[0], "stimulus", "stimuli"));
    dw_rect r = dialog_box(s, ROWS + 5, DW_EVOKED_PLOT + 16, title);
    double m = 1;                          /* uV: the axis spans at least +-1 uV (no stimulus yet) */
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < DW_EVOKED_PLOT; i++)
            m = fmax(m, fabs(v->evoked[k][i]));
    const char *marks = split ? " as" : "*  ";
    for (int row = 0; row < ROWS; row++) {
        double hi = m * (1 - 2.0 * row / (ROWS - 1)) + m / (ROWS - 1), lo = hi - 2 * m / (ROWS - 1);
        char line[DW_EVOKED_PLOT + 16];
        double mid = (hi + lo) / 2;
        int o = snprintf(line, sizeof line, "%+7.1f ", fabs(mid) < 0.05 ? 0.0 : mid);   /* no -0.0 */
        for (int c = 0; c < DW_EVOKED_PLOT; c++) {
            char ch = c == 10 ? ':' : ' ';
            for (int k = split ? 1 : 0; k < (split ? 3 : 1); k++)
                if (v->evoked[k][c] < hi && v->evoked[k][c] >= lo)
                    ch = marks[k];
            line[o++] = ch;
        }
        line[o] = 0;
        dw_draw_text(r.y + 1 + row, r.x + 2, r.w - 4, line);
    }
    dw_draw_text(r.y + ROWS + 1, r.x + 2, r.w - 4,
                 "        -1 s      0         +1 s      +2 s      +3 s  uV");
    if (!v->evoked_n[0])
        dw_draw_text(r.y + ROWS + 2, r.x + 2, r.w - 4, "no stimulus yet");
}

static void draw_check(dw_screen *s)
{
    int lines = 1;
    for (const char *p = s->v.check_report; *p; p++)
        lines += *p == '\n';
    dw_rect r = dialog_box(s, lines + 3, 96,
                           s->v.check_running ? "Pre-night check (running)"
                                              : "Pre-night check (any key closes)");
    const char *p = s->v.check_report;
    for (int row = 0; *p && row < r.h - 3; row++) {
        const char *e = strchr(p, '\n');
        int n = e ? (int)(e - p) : (int)strlen(p);
        char line[256];
        snprintf(line, sizeof line, "%.*s", n, p);
        dw_draw_text(r.y + 1 + row, r.x + 2, r.w - 4, line);
        p += n + (e ? 1 : 0);
    }
}

int dw_protocol_dialog_draw(dw_screen *s)
{
    switch (pd.kind) {
    case PD_QUESTION: draw_question(s); break;
    case PD_EVOKED: draw_evoked(s); break;
    case PD_CHECK: draw_check(s); break;
    default: return 0;
    }
    dw_theme_use(&s->theme, DW_ROLE_TEXT);
    return 1;
}
