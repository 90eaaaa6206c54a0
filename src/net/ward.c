/* The ward model: beds from the broker's stream, their order of attention, commands and their
 * answers. */
#include "net/ward.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/json.h"
#include "session/alerts.h"

int dw_ward_init(dw_ward *w, double stale_s)
{
    memset(w, 0, sizeof *w);
    w->wake_fd[0] = w->wake_fd[1] = -1;
    w->stale_s = stale_s > 0 ? stale_s : 30;
    w->beds = calloc(DW_WARD_BEDS, sizeof *w->beds);
    if (!w->beds || pthread_mutex_init(&w->lock, NULL) != 0) {
        free(w->beds);
        return -1;
    }
    if (pipe2(w->wake_fd, O_CLOEXEC | O_NONBLOCK) < 0) {
        dw_ward_free(w);
        return -1;
    }
    return 0;
}

void dw_ward_free(dw_ward *w)
{
    dw_ward_disconnect(w);
    for (int i = 0; i < 2; i++)
        if (w->wake_fd[i] >= 0) close(w->wake_fd[i]);
    free(w->beds);
    pthread_mutex_destroy(&w->lock);
    memset(w, 0, sizeof *w);
}

static void wake(dw_ward *w)
{
    char c = 1;
    if (w->wake_fd[1] >= 0 && write(w->wake_fd[1], &c, 1) < 0) { /* full: already awake */
    }
}

static dw_ward_bed *bed_of(dw_ward *w, const char *id)
{
    for (int i = 0; i < w->n; i++)
        if (!strcmp(w->beds[i].id, id)) return &w->beds[i];
    if (w->n == DW_WARD_BEDS) return NULL;
    dw_ward_bed *b = &w->beds[w->n++];
    memset(b, 0, sizeof *b);
    snprintf(b->id, sizeof b->id, "%s", id);
    b->alert_sev = -1;
    b->state = DW_BED_ONLINE;
    return b;
}

static int sev_parse(const char *s)
{
    return !strcmp(s, "critical") ? DW_CRITICAL
        : !strcmp(s, "warning")   ? DW_WARNING
        : !strcmp(s, "info")      ? DW_INFO
                                  : -1;
}

static void str(const char *d, int len, const char *key, char *out, size_t n)
{
    if (dw_json_get_str(d, (size_t)len, key, out, n) != 1) out[0] = 0;
}

static void status(dw_ward_bed *b, const char *d, int len)
{
    char st[16];
    str(d, len, "state", st, sizeof st);
    b->state = !strcmp(st, "offline") ? DW_BED_OFFLINE
        : !strcmp(st, "ended")        ? DW_BED_ENDED
                                      : DW_BED_ONLINE;
    if (b->state == DW_BED_OFFLINE) return; /* the will: the rest is what we had */
    str(d, len, "mode", b->mode, sizeof b->mode);
    str(d, len, "stage", b->stage, sizeof b->stage);
    str(d, len, "rec", b->rec, sizeof b->rec);
    str(d, len, "data", b->data, sizeof b->data);
    str(d, len, "alert_text", b->alert_text, sizeof b->alert_text);
    str(d, len, "last_event", b->last_event, sizeof b->last_event);
    str(d, len, "hypno", b->hypno, sizeof b->hypno);
    char sev[16];
    str(d, len, "alert_sev", sev, sizeof sev);
    b->alert_sev = sev_parse(sev);
    double v;
    int k;
    b->epochs =
        dw_json_get_num(d, (size_t)len, "epochs", &v) == 1 && v >= 0 && v < 1e7 ? (int)v : 0;
    b->asleep_s = dw_json_get_num(d, (size_t)len, "asleep_s", &v) == 1 && v >= 0 ? v : 0;
    b->alerts_open =
        dw_json_get_num(d, (size_t)len, "alerts_open", &v) == 1 && v >= 0 && v < 1e6 ? (int)v : 0;
    b->unacked =
        dw_json_get_num(d, (size_t)len, "unacked", &v) == 1 && v >= 0 && v < 1e6 ? (int)v : 0;
    if (dw_json_get_nums(d, (size_t)len, "prob", b->prob, 5, &k) != 1 || k != 5)
        memset(b->prob, 0, sizeof b->prob);   /* [] for an unscored epoch: none (dw_epoch_has_prob) */
}

/* An epoch between two statuses: the stage and the hypnogram move on at once. */
static int epoch(dw_ward_bed *b, const char *d, int len)
{
    double v;
    char st[4];
    if (dw_json_get_num(d, (size_t)len, "epoch", &v) != 1 || v < 0 || v >= DW_HYPNO_MAX ||
        dw_json_get_str(d, (size_t)len, "stage", st, sizeof st) != 1)
        return -1;
    int i = (int)v, s = dw_stage_parse(st), n = (int)strlen(b->hypno);
    while (n < i) b->hypno[n++] = '?';
    b->hypno[i] = s == DW_W ? 'W'
        : s == DW_N1        ? '1'
        : s == DW_N2        ? '2'
        : s == DW_N3        ? '3'
        : s == DW_R         ? 'R'
                            : '?';
    if (i >= n) b->hypno[i + 1] = 0;
    if (i + 1 >= b->epochs) {
        b->epochs = i + 1;
        snprintf(b->stage, sizeof b->stage, "%s", s == DW_UNSCORED ? "" : dw_stage_name(s));
        int k;
        if (dw_json_get_nums(d, (size_t)len, "prob", b->prob, 5, &k) != 1 || k != 5)
            memset(b->prob, 0, sizeof b->prob);
    }
    return 0;
}

static int alert(dw_ward *w, dw_ward_bed *b, const char *d, int len)
{
    dw_ward_alert a = { 0 };
    char sev[16];
    double v;
    str(d, len, "event", a.event, sizeof a.event);
    str(d, len, "severity", sev, sizeof sev);
    str(d, len, "rule", a.rule, sizeof a.rule);
    str(d, len, "text", a.text, sizeof a.text);
    a.severity = sev_parse(sev);
    a.id = dw_json_get_num(d, (size_t)len, "id", &v) == 1 && v >= 0 && v < 4e9 ? (unsigned)v : 0;
    a.wall = dw_json_get_num(d, (size_t)len, "wall", &v) == 1 ? v : 0;
    if (!a.event[0] || a.severity < 0) return -1;
    if (b->n_al == DW_WARD_ALERTS) {
        memmove(b->al, b->al + 1, (DW_WARD_ALERTS - 1) * sizeof b->al[0]);
        b->n_al--;
    }
    b->al[b->n_al++] = a;
    if (a.severity == DW_CRITICAL && !strcmp(a.event, "raised")) w->bells++;
    return 0;
}

static void cmd_ack(dw_ward *w, const char *d, int len)
{
    char id[DW_CMD_ID_MAX], reason[48];
    int ok = 0;
    str(d, len, "id", id, sizeof id);
    str(d, len, "reason", reason, sizeof reason);
    dw_json_get_bool(d, (size_t)len, "ok", &ok);
    for (int i = 0; i < w->ncmd; i++)
        if (!strcmp(w->cmds[i].id, id) && w->cmds[i].state == DW_WCMD_PENDING) {
            w->cmds[i].state = ok ? DW_WCMD_OK : DW_WCMD_REFUSED;
            snprintf(w->cmds[i].reason, sizeof w->cmds[i].reason, "%s", reason);
        }
}

int dw_ward_ingest(dw_ward *w, const char *topic, const char *payload, int len, double now)
{
    char bed[DW_BED_MAX], leaf[16];
    if (dw_topic_split(&w->url, topic, bed, sizeof bed, leaf, sizeof leaf) < 0 ||
        dw_json_check(payload, (size_t)len, NULL) < 0) {
        pthread_mutex_lock(&w->lock);
        w->bad_msgs++;
        pthread_mutex_unlock(&w->lock);
        return -1;
    }
    int rc = 0;
    pthread_mutex_lock(&w->lock);
    dw_ward_bed *b = bed_of(w, bed);
    if (!b) {
        rc = -1;
    } else {
        if (!strcmp(leaf, "status"))
            status(b, payload, len);
        else if (!strcmp(leaf, "alert"))
            rc = alert(w, b, payload, len);
        else if (!strcmp(leaf, "epoch"))
            rc = epoch(b, payload, len);
        else if (!strcmp(leaf, "cmd_ack"))
            cmd_ack(w, payload, len);
        if (strcmp(leaf, "cmd"))
            b->last_msg = now; /* a command is the station's, not a sign of life */
        if (b->state == DW_BED_OFFLINE && strcmp(leaf, "status") && strcmp(leaf, "cmd"))
            b->state = DW_BED_ONLINE;
    }
    w->msgs++;
    if (rc < 0) w->bad_msgs++;
    w->version++;
    pthread_mutex_unlock(&w->lock);
    wake(w);
    return rc;
}

int dw_ward_attention(const dw_ward *w, const dw_ward_bed *b, double now)
{
    if (b->state == DW_BED_ENDED) return -1;
    if (b->state == DW_BED_OFFLINE || now - b->last_msg > w->stale_s) return 5;
    if ((b->alert_sev == DW_CRITICAL && b->unacked) || !strcmp(b->data, "no data")) return 4;
    return b->alert_sev + 1 > 0 ? b->alert_sev + 1 : 0;
}

/* "bed2" < "bed10": digits compare as numbers. */
static int natcmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            char *ea, *eb;
            unsigned long x = strtoul(a, &ea, 10), y = strtoul(b, &eb, 10);
            if (x != y) return x < y ? -1 : 1;
            a = ea;
            b = eb;
        } else {
            if (*a != *b) return (unsigned char)*a - (unsigned char)*b;
            a++;
            b++;
        }
    }
    return (unsigned char)*a - (unsigned char)*b;
}

void dw_ward_order(const dw_ward *w, int *idx, double now)
{
    int rank[DW_WARD_BEDS];
    for (int i = 0; i < w->n; i++) {
        idx[i] = i;
        rank[i] = dw_ward_attention(w, &w->beds[i], now);
    }
    for (int i = 1; i < w->n; i++) { /* insertion sort: a ward is small and nearly sorted */
        int x = idx[i], j = i - 1;
        while (j >= 0 &&
               (rank[idx[j]] < rank[x] ||
                (rank[idx[j]] == rank[x] && natcmp(w->beds[idx[j]].id, w->beds[x].id) > 0))) {
            idx[j + 1] = idx[j];
            j--;
        }
        idx[j + 1] = x;
    }
}

void dw_ward_timeouts(dw_ward *w, double now)
{
    for (int i = 0; i < w->ncmd; i++)
        if (w->cmds[i].state == DW_WCMD_PENDING && now - w->cmds[i].sent > DW_WARD_ACK_S)
            w->cmds[i].state = DW_WCMD_TIMEOUT;
}

/* ---- broker ---- */

static void on_message(void *ctx, const char *topic, const char *payload, int len)
{
    dw_ward_ingest(ctx, topic, payload, len, dw_now_mono());
}

static void on_connect(void *ctx, int connected, int rc)
{
    dw_ward *w = ctx;
    pthread_mutex_lock(&w->lock);
    w->connected = connected;
    snprintf(w->link_text, sizeof w->link_text, "%s",
             connected ? "connected" : dw_broker_strerror(rc));
    w->version++;
    pthread_mutex_unlock(&w->lock);
    wake(w);
}

int dw_ward_connect(dw_ward *w, const dw_publish_cfg *cfg, const dw_broker_url *url, dw_err *err)
{
    w->cfg = *cfg;
    w->url = *url;
    char id[64], r[DW_CMD_ID_MAX], all[300];
    dw_cmd_new_id(r);
    snprintf(id, sizeof id, "dw-ward-%.12s", r);
    dw_topic(all, sizeof all, &w->url, "+", "#");
    dw_broker_opts o = { &w->cfg, &w->url, id, NULL, NULL, all, on_message, on_connect, w };
    w->br = dw_broker_start(&o, err);
    return w->br ? 0 : -1;
}

void dw_ward_disconnect(dw_ward *w)
{
    dw_broker_stop(w->br);
    w->br = NULL;
}

int dw_ward_send(dw_ward *w, const char *bed, const char *op, double arg, dw_err *err)
{
    dw_json j;
    char id[DW_CMD_ID_MAX], topic[300];
    dw_cmd_new_id(id);
    if (dw_cmd_encode(&j, id, dw_now_wall(), bed, op, arg, NULL) < 0) {
        dw_err_set(err, "command too long");
        return -1;
    }
    dw_topic(topic, sizeof topic, &w->url, bed, "cmd");
    pthread_mutex_lock(&w->lock);
    int up = w->connected;
    pthread_mutex_unlock(&w->lock);
    if (!up || !w->br || dw_broker_publish(w->br, topic, j.buf, (int)j.len, 0) != 0) {
        dw_err_set(err, "not connected to the broker: %s to bed %s not sent", op, bed);
        return -1;
    }
    pthread_mutex_lock(&w->lock);
    if (w->ncmd == DW_WARD_CMDS) {
        memmove(w->cmds, w->cmds + 1, (DW_WARD_CMDS - 1) * sizeof w->cmds[0]);
        w->ncmd--;
    }
    dw_ward_cmd *c = &w->cmds[w->ncmd++];
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->bed, sizeof c->bed, "%s", bed);
    snprintf(c->op, sizeof c->op, "%s", op);
    c->sent = dw_now_mono();
    pthread_mutex_unlock(&w->lock);
    return 0;
}
