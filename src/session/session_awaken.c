/* Serial awakenings: the alarm when one is due (through the manual-wake path, with its verified-W
 * escalation), the questionnaire once the sleeper is awake (one question at a time, each with its
 * timeout, answers and latencies recorded), then waiting for sleep before the next one is drawn.
 * Every step is an event: in the log, and (annotate) in the recording. */
#include "session/session_priv.h"

#include <math.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void session_awaken_init(dw_session *s)
{
    dw_awaken_free(&s->aw);
    dw_awaken_init(&s->aw, s->proto, s->lights_off_t);
    s->q = -1;
}

/* Clock minutes after midnight at source time t; -1 when the start of the recording is unknown. */
static int clock_min(const dw_session *s, double t)
{
    if (s->start_wall <= 0)
        return -1;
    time_t w = (time_t)(s->start_wall + t);
    struct tm tm;
    localtime_r(&w, &tm);
    return tm.tm_hour * 60 + tm.tm_min;
}

static void ask(dw_session *s, int i)
{
    const dw_question *q = &s->proto->q[i];
    dw_awakening *w = dw_awaken_current(&s->aw);
    s->q = i;
    s->q_wall0 = s->wall;
    s->q_deadline = (s->unattended ? s->t : s->wall) + q->timeout_s;
    session_event(s, s->t, 1, "question", "Awakening %ld Q%d (%s): %s", w->id, i + 1,
                  dw_answer_type_name(q->type), q->text);
}

static void next_question(dw_session *s)
{
    dw_awakening *w = dw_awaken_current(&s->aw);
    if (s->q + 1 < s->proto->nq) {
        ask(s, s->q + 1);
        return;
    }
    int answered = 0;
    for (int i = 0; i < w->nq; i++)
        answered += w->latency_s[i] >= 0;
    session_event(s, s->t, 1, "questionnaire",
                  "Awakening %ld: questionnaire done, %d of %d answered", w->id, answered, w->nq);
    s->q = -1;
    s->aw.state = DW_AW_RESLEEP;
}

void session_awaken_awake(dw_session *s, double t)
{
    dw_awakening *w = dw_awaken_current(&s->aw);
    if (!w || s->aw.state != DW_AW_ALARM)
        return;
    w->awake_t = t;
    session_event(s, t, 1, "awakening", "Awakening %ld: awake %.0f s after the alarm", w->id,
                  t - w->alarm_t);
    if (s->proto->nq > 0) {
        s->aw.state = DW_AW_QUESTIONS;
        ask(s, 0);
    } else {
        s->aw.state = DW_AW_RESLEEP;
    }
}

void session_awaken_cancel(dw_session *s, double t, const char *why)
{
    dw_awakening *w = dw_awaken_current(&s->aw);
    if (!w || s->aw.state != DW_AW_ALARM)
        return;
    w->cancelled = 1;
    s->aw.state = DW_AW_RESLEEP;
    session_event(s, t, 1, "awakening", "Awakening %ld cancelled (%s)", w->id, why);
}

static int valid_answer(int type, const char *a)
{
    if (type == DW_ANSWER_YESNO)
        return !strcasecmp(a, "yes") || !strcasecmp(a, "no") || !strcasecmp(a, "no recall");
    if (type == DW_ANSWER_SCALE)
        return a[0] >= '1' && a[0] <= '5' && !a[1];
    return 1;
}

void session_awaken_answer(dw_session *s, const dw_cmd *c, double t)
{
    (void)t;
    dw_awakening *w = dw_awaken_current(&s->aw);
    if (!w || s->aw.state != DW_AW_QUESTIONS || s->q < 0 || (int)c->arg != s->q + 1) {
        session_event(s, s->t, 0, "answer", "Answer to question %d came when it was not asked: %s",
                      (int)c->arg, c->text);
        return;
    }
    const dw_question *q = &s->proto->q[s->q];
    if (!valid_answer(q->type, c->text)) {
        session_event(s, s->t, 0, "answer",
                      "Awakening %ld Q%d: '%s' is not a %s answer; still asking", w->id, s->q + 1,
                      c->text, dw_answer_type_name(q->type));
        return;
    }
    double lat = c->arg2 >= 0 ? c->arg2 : s->wall - s->q_wall0;
    snprintf(w->answer[s->q], sizeof w->answer[s->q], "%s", c->text);
    w->latency_s[s->q] = lat;
    session_event(s, s->t, 1, "answer", "Awakening %ld Q%d answer after %.1f s: %s", w->id,
                  s->q + 1, lat, c->text);
    next_question(s);
}

void session_awaken_tick(dw_session *s, double t)
{
    if (s->aw.state != DW_AW_QUESTIONS || s->q < 0 || (s->unattended ? t : s->wall) < s->q_deadline)
        return;
    dw_awakening *w = dw_awaken_current(&s->aw);
    session_event(s, t, 1, "answer", "Awakening %ld Q%d: no answer within %.0f s", w->id,
                  s->q + 1, s->proto->q[s->q].timeout_s);
    next_question(s);
}

/* The conditions the schedule does not know: enhanced mode (natural mode means no awakening of any
 * kind), no critical alert, the latest label confident. */
static int session_allows(const dw_session *s)
{
    if (s->mode != DW_MODE_ENHANCED || dw_alerts_critical_open(s->alerts) ||
        s->stage == DW_UNSCORED)
        return 0;
    return !s->have_prob || s->prob[s->stage] >= s->cfg->min_confidence;
}

void session_awaken_epoch(dw_session *s, double t, int stage)
{
    if (!s->proto->loaded || !s->proto->aw_enabled)
        return;
    dw_awaken_epoch(&s->aw, stage);
    dw_awakening *w = dw_awaken_current(&s->aw);
    if (s->aw.state == DW_AW_RESLEEP && w && stage != DW_W && stage != DW_UNSCORED && s->q < 0) {
        w->asleep_t = t;
        session_event(s, t, 1, "awakening",
                      "Awakening %ld: asleep again (%s) %.1f min after the alarm", w->id,
                      dw_stage_name(stage), (t - w->alarm_t) / 60);
        dw_awaken_asleep(&s->aw, t);
        return;
    }
    int target = dw_awaken_due(&s->aw, t, clock_min(s, t));
    if (target < 0 || !session_allows(s))
        return;
    w = dw_awaken_start(&s->aw, target, t, s->wall);
    session_event(s, t, 1, "awakening", "Awakening %ld: %s for %.1f min", w->id,
                  dw_stage_name(w->stage), w->dwell_min);
    session_start_wake(s, t, 1);
}

void session_awaken_view(const dw_session *s, dw_session_view *v)
{
    v->awakenings = s->aw.n;
    v->q_active = s->aw.state == DW_AW_QUESTIONS && s->q >= 0;
    if (!v->q_active)
        return;
    const dw_question *q = &s->proto->q[s->q];
    v->q_awakening = s->aw.n;
    v->q_index = s->q + 1;
    v->q_total = s->proto->nq;
    v->q_type = q->type;
    snprintf(v->q_text, sizeof v->q_text, "%s", q->text);
    snprintf(v->q_low, sizeof v->q_low, "%s", q->low);
    snprintf(v->q_high, sizeof v->q_high, "%s", q->high);
    v->q_deadline = s->q_deadline;
    v->q_source_clock = s->unattended;
}
