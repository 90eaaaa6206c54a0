/* The bed's net thread: control socket and broker publisher (see bed.h). */
#include "net/bed.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "net/command.h"
#include "net/control.h"
#include "net/json.h"
#include "net/snap.h"

#define TICK_S 0.1
#define HEARTBEAT_S 10.0 /* status at least this often, so the station can tell a stale bed */
#define STATUS_MIN_S 1.0 /* and at most this often for figures that keep moving */
#define LINK_GRACE_S                                                            \
    5.0 /* the link counts as down after this long without a steady connection, \
           and as back after this long connected without a drop */
#define INQ 16

typedef struct {
    char *topic, *doc;
    int retain;
} qmsg;

struct dw_net {
    dw_monitor *m;
    pthread_t th;
    int started;
    int stop_fd[2];
    dw_ctl *ctl;
    dw_snap snap;
    /* broker */
    dw_broker *br;
    dw_publish_cfg cfg;
    dw_broker_url url;
    char t_status[300], t_epoch[300], t_alert[300], t_event[300], t_cmd[300], t_ack[300];
    atomic_int connected, need_flush, drops;
    int link_down_reported, drops_seen;
    double start_mono, last_status_mono, down_since, up_since, last_drop;
    char last_status[DW_JSON_MAX];
    char link_text[128];
    qmsg q[DW_NET_QUEUE];
    int q_head, q_n;
    long msgs, dropped;
    long long bytes;
    /* what has been published */
    int pub_epochs;
    struct {
        unsigned id;
        int active, acked;
    } seen_al[DW_MAX_ALERTS];
    int n_seen_al;
    char last_event[128];
    int ended_sent;
    /* commands from the broker thread */
    pthread_mutex_t inq_lock;
    struct {
        char doc[DW_JSON_MAX];
        int len;
    } inq[INQ];
    int inq_n;
    dw_cmd_guard guard;
};

/* A dream report is the sleeper's own words: it stays in the bed's recording and log, never on a
 * broker. */
static const char *shareable(const char *event)
{
    return strncmp(event, "Dream report", 12) ? event
                                              : "Dream report recorded (text kept at the bed)";
}

/* ---- publishing with a bounded queue while the broker is away ---- */

static void q_push(dw_net *n, const char *topic, const char *doc)
{
    if (n->q_n == DW_NET_QUEUE) { /* full: the oldest goes */
        qmsg *o = &n->q[n->q_head];
        free(o->topic);
        free(o->doc);
        n->q_head = (n->q_head + 1) % DW_NET_QUEUE;
        n->q_n--;
        n->dropped++;
    }
    qmsg *e = &n->q[(n->q_head + n->q_n) % DW_NET_QUEUE];
    e->topic = strdup(topic);
    e->doc = strdup(doc);
    if (!e->topic || !e->doc) {
        free(e->topic);
        free(e->doc);
        n->dropped++;
        return;
    }
    n->q_n++;
}

static int send_now(dw_net *n, const char *topic, const char *doc, int retain)
{
    if (!atomic_load(&n->connected)) return -1;
    int len = (int)strlen(doc);
    if (dw_broker_publish(n->br, topic, doc, len, retain) != 0) return -1;
    n->msgs++;
    n->bytes += len + (long long)strlen(topic);
    return 0;
}

static void publish(dw_net *n, const char *topic, dw_json *j)
{
    if (dw_json_end(j) < 0) {
        n->dropped++;
        return;
    }
    if (n->q_n > 0 || send_now(n, topic, j->buf, 0) < 0)
        q_push(n, topic, j->buf); /* keeps the order of the night */
}

static void flush_queue(dw_net *n)
{
    while (n->q_n > 0) {
        qmsg *e = &n->q[n->q_head];
        if (send_now(n, e->topic, e->doc, 0) < 0) return;
        free(e->topic);
        free(e->doc);
        n->q_head = (n->q_head + 1) % DW_NET_QUEUE;
        n->q_n--;
    }
}

/* ---- documents ---- */

static void hypno_string(const dw_snap *s, char *out, size_t cap)
{
    int from = s->n_epochs > (int)cap - 1 ? s->n_epochs - (int)cap + 1 : 0;
    int k = 0;
    for (int i = from; i < s->n_epochs; i++) {
        int st = s->stage[i];
        out[k++] = st == DW_W ? 'W'
            : st == DW_N1     ? '1'
            : st == DW_N2     ? '2'
            : st == DW_N3     ? '3'
            : st == DW_R      ? 'R'
                              : '?';
    }
    out[k] = 0;
}

static const char *data_state(const dw_monitor *v)
{
    if (v->finished) return "ended";
    if (v->source_ended) return "ended";
    for (int i = 0; i < v->n_alerts; i++)
        if (v->alerts[i].active && !strcmp(v->alerts[i].rule, "no_samples")) return "no data";
    if (v->live && v->loss_pct_recent > 1) return "lossy";
    return "ok";
}

static void status_doc(dw_net *n, dw_json *j, int with_wall)
{
    const dw_snap *s = &n->snap;
    const dw_monitor *v = &s->v;
    int open = 0, unacked = 0, worst = -1;
    const char *worst_text = "";
    for (int i = 0; i < v->n_alerts; i++) {
        const dw_alert_view *a = &v->alerts[i];
        if (!a->active && a->acked) continue;
        open++;
        unacked += !a->acked;
        if (a->severity > worst) {
            worst = a->severity;
            worst_text = a->text;
        }
    }
    dw_json_begin(j);
    dw_json_str(j, "bed", n->cfg.bed);
    dw_json_str(j, "state", v->finished ? "ended" : "online");
    dw_json_str(j, "mode", dw_mode_name(v->mode));
    int cur = s->n_epochs ? s->stage[s->n_epochs - 1] : DW_UNSCORED;
    dw_json_str(j, "stage", cur == DW_UNSCORED ? "" : dw_stage_name(cur));
    double p[DW_NSTAGES] = { 0 };
    for (int k = 0; k < DW_NSTAGES && s->n_epochs; k++) p[k] = s->prob[s->n_epochs - 1][k];
    dw_json_nums(j, "prob", p, dw_epoch_has_prob(cur) ? DW_NSTAGES : 0, 3);   /* unscored: [] */
    dw_json_int(j, "epochs", s->n_epochs);
    dw_json_num(j, "asleep_s", dw_snap_asleep_s(s), 10);
    dw_json_str(j, "rec", v->rec_path[0] ? "recording" : "off");
    dw_json_int(j, "rec_bytes", v->rec_bytes / 1000000 * 1000000); /* MB steps: no churn */
    dw_json_str(j, "data", data_state(v));
    dw_json_int(j, "alerts_open", open);
    dw_json_int(j, "unacked", unacked);
    dw_json_str(j, "alert_sev", worst < 0 ? "none" : dw_severity_name(worst));
    dw_json_str(j, "alert_text", worst_text);
    dw_json_str(j, "last_event", shareable(v->last_event));
    char hyp[2881];
    hypno_string(s, hyp, sizeof hyp);
    dw_json_str(j, "hypno", hyp);
    if (with_wall) dw_json_num(j, "wall", dw_now_wall(), 13);
}

static void publish_status(dw_net *n, int force)
{
    static dw_json j; /* only the net thread */
    status_doc(n, &j, 0);
    if (dw_json_end(&j) < 0) return;
    double now = dw_now_mono();
    int changed = strcmp(j.buf, n->last_status) != 0;
    if (!force && !(changed && now - n->last_status_mono >= STATUS_MIN_S) &&
        now - n->last_status_mono < HEARTBEAT_S)
        return;
    snprintf(n->last_status, sizeof n->last_status, "%s", j.buf);
    status_doc(n, &j, 1);
    if (dw_json_end(&j) < 0) return;
    n->last_status_mono = now;
    send_now(n, n->t_status, j.buf, 1); /* not queued: the next one replaces it anyway */
}

static void publish_epochs(dw_net *n)
{
    const dw_snap *s = &n->snap;
    if (s->n_epochs < n->pub_epochs) n->pub_epochs = s->n_epochs; /* a replay seeked back */
    for (int i = n->pub_epochs; i < s->n_epochs; i++) {
        dw_json j;
        dw_json_begin(&j);
        dw_json_str(&j, "bed", n->cfg.bed);
        dw_json_int(&j, "epoch", i);
        dw_json_str(&j, "stage", dw_stage_name(s->stage[i]));
        double p[DW_NSTAGES];
        for (int k = 0; k < DW_NSTAGES; k++) p[k] = s->prob[i][k];
        dw_json_nums(&j, "prob", p, dw_epoch_has_prob(s->stage[i]) ? DW_NSTAGES : 0, 3);
        dw_json_num(&j, "t_end", (i + 1) * (double)DW_EPOCH_S, 10);
        if (s->v.start_wall > 0)
            dw_json_num(&j, "wall", s->v.start_wall + (i + 1) * (double)DW_EPOCH_S, 13);
        publish(n, n->t_epoch, &j);
    }
    n->pub_epochs = s->n_epochs;
}

static void alert_doc(dw_net *n, const dw_alert_view *a, const char *ev)
{
    dw_json j;
    dw_json_begin(&j);
    dw_json_str(&j, "bed", n->cfg.bed);
    dw_json_str(&j, "event", ev);
    dw_json_int(&j, "id", a->id);
    dw_json_str(&j, "rule", a->rule);
    dw_json_str(&j, "severity", dw_severity_name(a->severity));
    dw_json_str(&j, "text", a->text);
    dw_json_num(&j, "raised_wall", a->wall, 13);
    dw_json_num(&j, "wall", dw_now_wall(), 13);
    publish(n, n->t_alert, &j);
}

/* Raise, clear and ack as differences between two views of the alerts. */
static void publish_alerts(dw_net *n)
{
    const dw_monitor *v = &n->snap.v;
    for (int i = 0; i < v->n_alerts; i++) {
        const dw_alert_view *a = &v->alerts[i];
        int k = 0;
        while (k < n->n_seen_al && n->seen_al[k].id != a->id) k++;
        if (k == n->n_seen_al) {
            alert_doc(n, a, "raised");
            if (!a->active) alert_doc(n, a, "cleared");
            if (a->acked) alert_doc(n, a, "acked");
            continue;
        }
        if (n->seen_al[k].active && !a->active) alert_doc(n, a, "cleared");
        if (!n->seen_al[k].acked && a->acked) alert_doc(n, a, "acked");
    }
    n->n_seen_al = v->n_alerts;
    for (int i = 0; i < v->n_alerts; i++)
        n->seen_al[i].id = v->alerts[i].id, n->seen_al[i].active = v->alerts[i].active,
        n->seen_al[i].acked = v->alerts[i].acked;
}

static void publish_event(dw_net *n)
{
    const dw_monitor *v = &n->snap.v;
    if (!strcmp(v->last_event, n->last_event)) return;
    snprintf(n->last_event, sizeof n->last_event, "%s", v->last_event);
    if (!v->last_event[0]) return;
    dw_json j;
    dw_json_begin(&j);
    dw_json_str(&j, "bed", n->cfg.bed);
    dw_json_str(&j, "text", shareable(v->last_event));
    dw_json_num(&j, "t", v->t_source, 10);
    dw_json_num(&j, "wall", dw_now_wall(), 13);
    publish(n, n->t_event, &j);
}

/* ---- commands from the station ---- */

static void ack(dw_net *n, const char *id, int ok, const char *reason)
{
    dw_json j;
    dw_json_begin(&j);
    dw_json_str(&j, "bed", n->cfg.bed);
    dw_json_str(&j, "id", id);
    dw_json_bool(&j, "ok", ok);
    dw_json_str(&j, "reason", reason);
    dw_json_num(&j, "wall", dw_now_wall(), 13);
    publish(n, n->t_ack, &j);
}

static void take_commands(dw_net *n)
{
    for (;;) {
        static char doc[DW_JSON_MAX];
        int len;
        pthread_mutex_lock(&n->inq_lock);
        if (!n->inq_n) {
            pthread_mutex_unlock(&n->inq_lock);
            return;
        }
        len = n->inq[0].len;
        memcpy(doc, n->inq[0].doc, (size_t)len);
        memmove(&n->inq[0], &n->inq[1], (size_t)(n->inq_n - 1) * sizeof n->inq[0]);
        n->inq_n--;
        pthread_mutex_unlock(&n->inq_lock);
        static dw_cmd c;
        char id[DW_CMD_ID_MAX];
        const char *why;
        if (dw_cmd_guard_accept(&n->guard, n->cfg.bed, doc, (size_t)len, dw_now_wall(), &c, id,
                                &why) < 0) {
            fprintf(stderr, "dreamwatch: station command %s refused: %s\n", id[0] ? id : "(no id)",
                    why);
            ack(n, id, 0, why);
        } else if (dw_monitor_post(n->m, c.kind, c.arg, c.text) < 0) {
            ack(n, id, 0, "busy");
        } else {
            ack(n, id, 1, "");
        }
    }
}

static void on_message(void *ctx, const char *topic, const char *payload, int len)
{
    dw_net *n = ctx;
    if (strcmp(topic, n->t_cmd) || len <= 0 || len > DW_JSON_MAX) return;
    pthread_mutex_lock(&n->inq_lock);
    if (n->inq_n < INQ) { /* a flood beyond that is dropped */
        memcpy(n->inq[n->inq_n].doc, payload, (size_t)len);
        n->inq[n->inq_n++].len = len;
    }
    pthread_mutex_unlock(&n->inq_lock);
}

static void on_connect(void *ctx, int connected, int rc)
{
    dw_net *n = ctx;
    if (connected) {
        atomic_store(&n->need_flush, 1);
    } else {
        atomic_fetch_add(&n->drops, 1);
        pthread_mutex_lock(&n->inq_lock);
        snprintf(n->link_text, sizeof n->link_text, "broker %s:%d unreachable (%s)", n->url.host,
                 n->url.port, dw_broker_strerror(rc));
        pthread_mutex_unlock(&n->inq_lock);
    }
    atomic_store(&n->connected, connected);
}

/* One info alert while the link is down (DW_CMD_LINK), cleared when it is back. A link that flaps
 * (a broker that accepts and drops us, another client with our id) counts as down until it holds.
 */
static void link_state(dw_net *n)
{
    double now = dw_now_mono();
    int up = atomic_load(&n->connected), drops = atomic_load(&n->drops);
    if (drops != n->drops_seen) n->last_drop = now;
    if (!up || drops != n->drops_seen) {
        n->up_since = 0;
        if (!n->down_since) n->down_since = now;
    } else if (!n->up_since) {
        n->up_since = now;
    }
    n->drops_seen = drops;
    if (n->up_since && now - n->up_since >= LINK_GRACE_S) n->down_since = 0;
    if (n->down_since && !n->link_down_reported && now - n->down_since >= LINK_GRACE_S &&
        (!up || now - n->last_drop < LINK_GRACE_S)) {
        char text[128];
        pthread_mutex_lock(&n->inq_lock);
        snprintf(text, sizeof text, "%s", n->link_text[0] ? n->link_text : "broker unreachable");
        pthread_mutex_unlock(&n->inq_lock);
        if (dw_monitor_post(n->m, DW_CMD_LINK, 0, text) == 0) n->link_down_reported = 1;
    } else if (!n->down_since && n->link_down_reported) {
        if (dw_monitor_post(n->m, DW_CMD_LINK, 1, "broker reachable") == 0)
            n->link_down_reported = 0;
    }
    if (up && atomic_exchange(&n->need_flush, 0)) {
        flush_queue(n);
        publish_status(n, 1); /* the will replaced it with "offline" */
    }
}

/* ---- the thread ---- */

static void tick(dw_net *n)
{
    int want = n->ctl && dw_ctl_clients(n->ctl) > 0;
    if (want && !n->snap.want_trace) n->snap.trace_seen = 0;
    n->snap.want_trace = want;
    dw_snap_take(&n->snap, n->m);
    if (n->ctl) dw_ctl_send(n->ctl, &n->snap);
    if (!n->br) return;
    link_state(n);
    take_commands(n);
    publish_alerts(n);
    publish_epochs(n);
    publish_event(n);
    flush_queue(n);
    publish_status(n, 0);
}

static void *run(void *arg)
{
    dw_net *n = arg;
    double next = dw_now_mono();
    for (;;) {
        struct pollfd pf[2 + DW_CTL_CLIENTS];
        pf[0] = (struct pollfd){ n->stop_fd[0], POLLIN, 0 };
        int np = 1 + (n->ctl ? dw_ctl_pollfds(n->ctl, pf + 1) : 0);
        double now = dw_now_mono();
        /* nothing to tick for without a broker or a control client: sleep until one connects (the
         * listening socket wakes the poll, and the overdue tick then runs at once) or we stop */
        int idle = !n->br && (!n->ctl || dw_ctl_clients(n->ctl) == 0);
        int ms = idle ? -1 : now >= next ? 0 : (int)((next - now) * 1000) + 1;
        if (poll(pf, (nfds_t)np, ms) < 0 && errno != EINTR) break;
        int stopping = (pf[0].revents & POLLIN) != 0;
        if (n->ctl) dw_ctl_io(n->ctl, pf + 1, np - 1, n->m, &n->snap);
        now = dw_now_mono();
        if (now >= next || stopping) {
            next = now + TICK_S;
            tick(n);
        }
        if (stopping) break;
    }
    return NULL;
}

static int check_bed(const dw_net_opts *o, dw_err *err)
{
    const char *bed = o->publish->bed;
    if (!bed[0]) {
        dw_err_set(err, "[publish] bed: a bed id is required to publish (e.g. bed = 7)");
        return -1;
    }
    if (!dw_bed_id_ok(bed)) {
        dw_err_set(err, "[publish] bed \"%s\": 1-31 characters of A-Z a-z 0-9 _ -", bed);
        return -1;
    }
    if (o->subject && *o->subject && !strcasecmp(bed, o->subject)) {
        dw_err_set(err,
                   "[publish] bed \"%s\" is the subject code: a bed id must not identify a person",
                   bed);
        return -1;
    }
    return 0;
}

int dw_net_check(const dw_net_opts *o, dw_err *err)
{
    const dw_publish_cfg *p = o->publish;
    dw_broker_url u;
    if (o->session && *o->session && dw_ctl_running(o->session)) {
        dw_err_set(
            err,
            "session %s is already running (dreamwatch attach %s); give this one another --bed",
            o->session, o->session);
        return -1;
    }
    if (!p || !p->url[0]) return 0;
    if (check_bed(o, err) < 0 || dw_broker_url_parse(p->url, &u, err) < 0) return -1;
    if (p->credentials[0]) {
        char user[256], pass[512];
        int r = dw_credentials_read(p->credentials, user, sizeof user, pass, sizeof pass, err);
        memset(pass, 0, sizeof pass);
        if (r < 0) return -1;
    }
    const char *files[3] = { p->cafile, p->certfile, p->keyfile },
               *what[3] = { "cafile", "certfile", "keyfile" };
    for (int i = 0; i < 3; i++)
        if (files[i][0] && access(files[i], R_OK) < 0) {
            dw_err_set(err, "[publish] %s %s: %s", what[i], files[i], strerror(errno));
            return -1;
        }
    if (!p->certfile[0] != !p->keyfile[0]) {
        dw_err_set(
            err, "[publish] certfile and keyfile go together (a client certificate needs its key)");
        return -1;
    }
    return 0;
}

static int start_broker(dw_net *n, const dw_net_opts *o, dw_err *err)
{
    dw_net_opts only_broker = { o->publish, NULL, o->subject }; /* our own socket is bound by now */
    if (dw_net_check(&only_broker, err) < 0 ||
        dw_broker_url_parse(o->publish->url, &n->url, err) < 0)
        return -1;
    n->cfg = *o->publish;
    const char *bed = n->cfg.bed;
    dw_topic(n->t_status, sizeof n->t_status, &n->url, bed, "status");
    dw_topic(n->t_epoch, sizeof n->t_epoch, &n->url, bed, "epoch");
    dw_topic(n->t_alert, sizeof n->t_alert, &n->url, bed, "alert");
    dw_topic(n->t_event, sizeof n->t_event, &n->url, bed, "event");
    dw_topic(n->t_cmd, sizeof n->t_cmd, &n->url, bed, "cmd");
    dw_topic(n->t_ack, sizeof n->t_ack, &n->url, bed, "cmd_ack");
    dw_cmd_guard_init(&n->guard, n->cfg.cmd_max_age_s);
    char will[128], id[64];
    snprintf(will, sizeof will, "{\"bed\":\"%s\",\"state\":\"offline\"}", bed);
    snprintf(id, sizeof id, "dw-bed-%s", bed);
    dw_broker_opts bo = { &n->cfg,    &n->url,    id, n->t_status, will, n->t_cmd,
                          on_message, on_connect, n };
    n->br = dw_broker_start(&bo, err);
    return n->br ? 0 : -1;
}

dw_net *dw_net_start(dw_monitor *m, const dw_net_opts *o, dw_err *err)
{
    dw_net *n = calloc(1, sizeof *n);
    if (!n) {
        dw_err_set(err, "net: out of memory");
        return NULL;
    }
    n->m = m;
    n->stop_fd[0] = n->stop_fd[1] = -1;
    pthread_mutex_init(&n->inq_lock, NULL);
    n->start_mono = n->down_since = dw_now_mono(); /* down until connected */
    if (pipe2(n->stop_fd, O_CLOEXEC | O_NONBLOCK) < 0) {
        dw_err_set(err, "net: %s", strerror(errno));
        goto fail;
    }
    if (o->session && *o->session) {
        char desc[160];
        pthread_mutex_lock(&m->lock);
        snprintf(desc, sizeof desc, "%s", m->source_desc);
        pthread_mutex_unlock(&m->lock);
        if (!(n->ctl = dw_ctl_open(o->session, desc, err))) goto fail;
    }
    if (o->publish && o->publish->url[0] && start_broker(n, o, err) < 0) goto fail;
    if (pthread_create(&n->th, NULL, run, n) != 0) {
        dw_err_set(err, "net: cannot start the thread");
        goto fail;
    }
    n->started = 1;
    return n;
fail:
    dw_net_stop(n);
    return NULL;
}

void dw_net_stop(dw_net *n)
{
    if (!n) return;
    if (n->started) {
        char c = 1;
        if (write(n->stop_fd[1], &c, 1) < 0) { /* the pipe is empty: cannot fail */
        }
        pthread_join(n->th, NULL);
    }
    if (n->br) {
        /* A last status and whatever is queued, given a moment to leave (a dead broker: not waited
         * for). */
        for (int i = 0; i < 20 && atomic_load(&n->connected) && n->q_n; i++) {
            flush_queue(n);
            usleep(50000);
        }
        publish_status(n, 1);
        usleep(200000);
        dw_broker_stop(n->br);
    }
    dw_ctl_close(n->ctl, 1.0);
    for (int i = 0; i < n->q_n; i++) {
        qmsg *e = &n->q[(n->q_head + i) % DW_NET_QUEUE];
        free(e->topic);
        free(e->doc);
    }
    dw_snap_free(&n->snap);
    for (int i = 0; i < 2; i++)
        if (n->stop_fd[i] >= 0) close(n->stop_fd[i]);
    pthread_mutex_destroy(&n->inq_lock);
    free(n);
}

void dw_net_counts(dw_net *n, long *msgs, long long *bytes, long *dropped)
{
    *msgs = n->msgs;
    *bytes = n->bytes;
    *dropped = n->dropped;
}
