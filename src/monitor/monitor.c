/* The worker/screen meeting point: a mutex-guarded snapshot plus two self-pipes to wake each side. */
#include "monitor/monitor.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void dw_monitor_publish_session(dw_monitor *m, dw_session *s)
{
    dw_alerts *al = dw_session_alerts(s);
    unsigned long av = dw_alerts_version(al);
    if (av != m->seen_alerts || !m->seen_alerts) {
        m->n_alerts = dw_alerts_view(al, m->alerts, DW_MAX_ALERTS);
        m->seen_alerts = av;
        m->v_alerts++;
    }
    int ne = dw_session_nevents(s);
    for (; m->seen_events < ne; m->seen_events++) {
        dw_event_view e;
        if (dw_session_event_view(s, m->seen_events, &e) < 0)
            continue;
        if (m->n_events == m->cap_events) {
            int cap = m->cap_events ? m->cap_events * 2 : 256;
            m->events = dw_xrealloc(m->events, (size_t)cap * sizeof *m->events, "the night's events");
            m->cap_events = cap;
        }
        m->events[m->n_events++] = e;
        m->v_events++;
    }
    dw_session_view v;
    dw_session_view_get(s, &v);
    if (v.version == m->seen_session && m->mode == v.mode)
        return;
    m->mode = v.mode;
    m->stim_count = v.stim_count;
    m->cue_count = v.cue_count;
    m->wants_dream_report = v.wants_dream_report;
    snprintf(m->last_event, sizeof m->last_event, "%s", v.last_event);
    m->session = v;
    m->seen_session = v.version;
    m->v_status++;
}

static int make_pipe(int fd[2])
{
    if (pipe2(fd, O_CLOEXEC | O_NONBLOCK) < 0)
        return -1;
    return 0;
}

const dw_alert_view *dw_monitor_stim_blocker(const dw_monitor *m)
{
    if (m->mode != DW_MODE_ENHANCED || m->session.unattended)
        return NULL;
    for (int i = 0; i < m->n_alerts; i++)
        if (m->alerts[i].severity == DW_CRITICAL && !m->alerts[i].active && !m->alerts[i].acked)
            return &m->alerts[i];
    return NULL;
}

int dw_monitor_init(dw_monitor *m)
{
    memset(m, 0, sizeof *m);
    m->wake_fd[0] = m->wake_fd[1] = m->cmd_fd[0] = m->cmd_fd[1] = -1;
    m->cancel_fd = -1;
    if (pthread_mutex_init(&m->lock, NULL) != 0)
        return -1;
    if (make_pipe(m->wake_fd) < 0 || make_pipe(m->cmd_fd) < 0) {
        dw_monitor_destroy(m);
        return -1;
    }
    m->frontal = m->parietal = -1;
    m->prov_stage = DW_UNSCORED;
    m->session.sham_count = -1;           /* until the session publishes: no condition to show */
    m->session.micro.epoch = -1;
    m->speed = 1.0;
    return 0;
}

void dw_monitor_destroy(dw_monitor *m)
{
    for (int i = 0; i < 2; i++) {
        if (m->wake_fd[i] >= 0) close(m->wake_fd[i]);
        if (m->cmd_fd[i] >= 0) close(m->cmd_fd[i]);
    }
    free(m->stage);
    free(m->prob);
    free(m->spec);
    free(m->ref_stage);
    free(m->events);
    pthread_mutex_destroy(&m->lock);
    memset(m, 0, sizeof *m);
}

/* A full pipe already means "wake up", so EAGAIN is fine. */
static void poke(int fd)
{
    char c = 1;
    ssize_t r = write(fd, &c, 1);
    (void)r;
}

void dw_monitor_notify(dw_monitor *m)
{
    poke(m->wake_fd[1]);
}

void dw_monitor_drain(int fd)
{
    char buf[256];
    while (read(fd, buf, sizeof buf) > 0)
        ;
}

int dw_monitor_add_epoch(dw_monitor *m, int stage, const double prob[DW_NSTAGES], const float spec[DW_SPEC_BINS])
{
    if (m->n_epochs == m->cap_epochs) {
        int cap = m->cap_epochs ? m->cap_epochs * 2 : 1024;
        m->stage = dw_xrealloc(m->stage, (size_t)cap, "the hypnogram");
        m->prob = dw_xrealloc(m->prob, (size_t)cap * sizeof *m->prob, "the hypnodensity");
        m->spec = dw_xrealloc(m->spec, (size_t)cap * sizeof *m->spec, "the spectrogram");
        m->cap_epochs = cap;
    }
    int i = m->n_epochs++;
    m->stage[i] = (signed char)stage;
    for (int k = 0; k < DW_NSTAGES; k++)
        m->prob[i][k] = prob ? (float)prob[k] : 0.0f;
    if (spec)
        memcpy(m->spec[i], spec, sizeof m->spec[i]);
    else
        memset(m->spec[i], 0, sizeof m->spec[i]);
    m->v_hypno++;
    return 0;
}

int dw_monitor_post_cmd(dw_monitor *m, const dw_cmd *cmd)
{
    pthread_mutex_lock(&m->lock);
    if (m->cmd_count == DW_CMDQ) {
        pthread_mutex_unlock(&m->lock);
        return -1;
    }
    m->cmdq[(m->cmd_head + m->cmd_count) % DW_CMDQ] = *cmd;
    m->cmd_count++;
    pthread_mutex_unlock(&m->lock);
    poke(m->cmd_fd[1]);
    return 0;
}

dw_cmd dw_cmd_make(int kind, double arg, const char *text)
{
    dw_cmd c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.arg = arg;
    c.arg2 = -1;
    snprintf(c.text, sizeof c.text, "%s", text ? text : "");
    return c;
}

int dw_monitor_post(dw_monitor *m, int kind, double arg, const char *text)
{
    dw_cmd c = dw_cmd_make(kind, arg, text);
    return dw_monitor_post_cmd(m, &c);
}

int dw_monitor_take(dw_monitor *m, dw_cmd *out)
{
    int got = 0;
    pthread_mutex_lock(&m->lock);
    if (m->cmd_count > 0) {
        *out = m->cmdq[m->cmd_head];
        m->cmd_head = (m->cmd_head + 1) % DW_CMDQ;
        m->cmd_count--;
        got = 1;
    }
    pthread_mutex_unlock(&m->lock);
    return got;
}
