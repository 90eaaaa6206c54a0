/* Broker URL, topics, credentials and the libmosquitto client set-up shared by a bed and the ward.
 */
#include "net/broker.h"

#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int dw_bed_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n >= DW_BED_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int prefix_ok(const char *p)
{
    if (!*p || strlen(p) >= 128 || p[0] == '/' || p[strlen(p) - 1] == '/' || strstr(p, "//"))
        return 0;
    for (; *p; p++)
        if (*p == '+' || *p == '#' || (unsigned char)*p < 0x20) return 0;
    return 1;
}

int dw_broker_url_parse(const char *url, dw_broker_url *u, dw_err *err)
{
    memset(u, 0, sizeof *u);
    const char *p;
    if (!strncmp(url, "mqtt://", 7)) {
        p = url + 7;
        u->port = 1883;
    } else if (!strncmp(url, "mqtts://", 8)) {
        p = url + 8;
        u->port = 8883;
        u->tls = 1;
    } else {
        dw_err_set(err, "broker URL \"%s\": must start with mqtt:// or mqtts://", url);
        return -1;
    }
    const char *host = p, *hend;
    if (*p == '[') {
        hend = strchr(p, ']');
        if (!hend) {
            dw_err_set(err, "broker URL \"%s\": unclosed [ in the host", url);
            return -1;
        }
        host = p + 1;
        p = hend + 1;
    } else {
        hend = p + strcspn(p, ":/");
        p = hend;
    }
    if (hend == host || (size_t)(hend - host) >= sizeof u->host) {
        dw_err_set(err, "broker URL \"%s\": no host, or a host too long", url);
        return -1;
    }
    snprintf(u->host, sizeof u->host, "%.*s", (int)(hend - host), host);
    if (*p == ':') {
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || port < 1 || port > 65535 || (*end && *end != '/')) {
            dw_err_set(err, "broker URL \"%s\": port must be 1-65535", url);
            return -1;
        }
        u->port = (int)port;
        p = end;
    }
    if (*p && *p != '/') {
        dw_err_set(err, "broker URL \"%s\": unexpected \"%s\"", url, p);
        return -1;
    }
    snprintf(u->prefix, sizeof u->prefix, "%s", *p && p[1] ? p + 1 : "dreamwatch");
    if (!prefix_ok(u->prefix) || strlen(p) > sizeof u->prefix) {
        dw_err_set(err, "broker URL \"%s\": topic prefix \"%s\" may not hold + # or empty levels",
                   url, u->prefix);
        return -1;
    }
    return 0;
}

void dw_topic(char *out, size_t n, const dw_broker_url *u, const char *bed, const char *leaf)
{
    snprintf(out, n, "%s/bed/%s/%s", u->prefix, bed, leaf);
}

int dw_topic_split(const dw_broker_url *u, const char *topic, char *bed, size_t nb, char *leaf,
                   size_t nl)
{
    size_t lp = strlen(u->prefix);
    if (strncmp(topic, u->prefix, lp) || strncmp(topic + lp, "/bed/", 5)) return -1;
    const char *b = topic + lp + 5, *slash = strchr(b, '/');
    if (!slash || (size_t)(slash - b) >= nb || strchr(slash + 1, '/') || strlen(slash + 1) >= nl)
        return -1;
    snprintf(bed, nb, "%.*s", (int)(slash - b), b);
    snprintf(leaf, nl, "%s", slash + 1);
    return dw_bed_id_ok(bed) ? 0 : -1;
}

int dw_credentials_read(const char *path, char *user, size_t nu, char *pass, size_t np, dw_err *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        dw_err_set(err, "%s: cannot open the credentials file: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077)) {
        dw_err_set(
            err,
            "%s: credentials must be a regular file of ours with mode 0600 (it is %s, mode %04o)",
            path, S_ISREG(st.st_mode) ? "a file" : "not a regular file",
            (unsigned)(st.st_mode & 07777));
        close(fd);
        return -1;
    }
    char buf[1024];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) {
        dw_err_set(err, "%s: empty credentials file", path);
        return -1;
    }
    buf[n] = 0;
    buf[strcspn(buf, "\r\n")] = 0;
    char *colon = strchr(buf, ':');
    if (!colon || colon == buf || !colon[1]) {
        dw_err_set(err, "%s: line 1: expected USER:PASSWORD", path);
        return -1;
    }
    *colon = 0;
    if (strlen(buf) >= nu || strlen(colon + 1) >= np) {
        dw_err_set(err, "%s: line 1: too long", path);
        return -1;
    }
    snprintf(user, nu, "%s", buf);
    snprintf(pass, np, "%s", colon + 1);
    memset(buf, 0, sizeof buf);
    return 0;
}

const char *dw_broker_strerror(int rc)
{
    if (rc > 0 && rc < 6) return mosquitto_connack_string(rc);
    return mosquitto_strerror(rc);
}

struct dw_broker {
    struct mosquitto *m;
    dw_broker_msg_fn msg;
    dw_broker_conn_fn conn;
    void *ctx;
    pthread_t th;
    atomic_int stop, delay_s;
    int th_started;
    char subscribe[512];
};
typedef struct dw_broker cb_t;

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
    cb_t *c = ud;
    if (rc == 0) {
        atomic_store(&c->delay_s, 1);
        if (c->subscribe[0])
            mosquitto_subscribe(m, NULL, c->subscribe, 1); /* lost with every connection */
    }
    if (c->conn) c->conn(c->ctx, rc == 0, rc);
}

static void on_disconnect(struct mosquitto *m, void *ud, int rc)
{
    (void)m;
    cb_t *c = ud;
    if (c->conn) c->conn(c->ctx, 0, rc ? rc : MOSQ_ERR_CONN_LOST);
}

static void on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
    (void)m;
    cb_t *c = ud;
    if (c->msg && msg->payloadlen >= 0)
        c->msg(c->ctx, msg->topic, msg->payload ? msg->payload : "", msg->payloadlen);
}

/* Our own network loop: libmosquitto's (mosquitto_loop_start / loop_forever) gives up for good
 * after a TLS error or EPROTO, which is what a broker killed in the middle of a TLS session gives,
 * and its back-off sleep cannot be cut short at exit. Here a lost or refused connection is retried
 * after 1, 2, 4 ... 16 s (reset once connected), and dw_broker_stop ends the thread within 0.2 s.
 */
static void *net_loop(void *arg)
{
    dw_broker *b = arg;
    while (!atomic_load(&b->stop)) {
        int rc = mosquitto_loop(b->m, 200, 1);
        if (rc == MOSQ_ERR_SUCCESS || atomic_load(&b->stop)) continue;
        int d = atomic_load(&b->delay_s);
        for (int i = 0; i < d * 10 && !atomic_load(&b->stop); i++) usleep(100000);
        atomic_store(&b->delay_s, d * 2 > 16 ? 16 : d * 2);
        if (atomic_load(&b->stop)) break;
        rc = mosquitto_reconnect(b->m);
        if (rc != MOSQ_ERR_SUCCESS && b->conn)
            b->conn(b->ctx, 0, rc); /* the reason, for the alert */
    }
    return NULL;
}

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static void lib_init(void) { mosquitto_lib_init(); }

static int set_auth(struct mosquitto *m, const dw_broker_opts *o, const char *host, dw_err *err)
{
    const dw_publish_cfg *cfg = o->cfg;
    if (o->url->tls || cfg->cafile[0]) {
        int rc = mosquitto_tls_set(
            m, cfg->cafile[0] ? cfg->cafile : NULL, cfg->cafile[0] ? NULL : "/etc/ssl/certs",
            cfg->certfile[0] ? cfg->certfile : NULL, cfg->keyfile[0] ? cfg->keyfile : NULL, NULL);
        if (rc != MOSQ_ERR_SUCCESS) {
            dw_err_set(err, "broker %s: TLS files (cafile %s, certfile %s, keyfile %s): %s", host,
                       cfg->cafile[0] ? cfg->cafile : "-", cfg->certfile[0] ? cfg->certfile : "-",
                       cfg->keyfile[0] ? cfg->keyfile : "-", mosquitto_strerror(rc));
            return -1;
        }
    }
    if (cfg->credentials[0]) {
        char user[256], pass[512];
        if (dw_credentials_read(cfg->credentials, user, sizeof user, pass, sizeof pass, err) < 0)
            return -1;
        int rc = mosquitto_username_pw_set(m, user, pass);
        memset(pass, 0, sizeof pass);
        if (rc != MOSQ_ERR_SUCCESS) {
            dw_err_set(err, "broker: %s", mosquitto_strerror(rc));
            return -1;
        }
    }
    return 0;
}

dw_broker *dw_broker_start(const dw_broker_opts *o, dw_err *err)
{
    pthread_once(&lib_once, lib_init);
    dw_broker *c = calloc(1, sizeof *c);
    if (!c) {
        dw_err_set(err, "broker: out of memory");
        return NULL;
    }
    c->msg = o->on_message;
    c->conn = o->on_connect;
    c->ctx = o->ctx;
    snprintf(c->subscribe, sizeof c->subscribe, "%s", o->subscribe ? o->subscribe : "");
    struct mosquitto *m = mosquitto_new(o->client_id, true, c);
    if (!m) {
        free(c);
        dw_err_set(err, "broker: cannot create a client: %s", strerror(errno));
        return NULL;
    }
    c->m = m;
    atomic_store(&c->delay_s, 1);
    mosquitto_threaded_set(m, true);
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_disconnect_callback_set(m, on_disconnect);
    mosquitto_message_callback_set(m, on_message);
    if (o->will_topic &&
        mosquitto_will_set(m, o->will_topic, (int)strlen(o->will_payload), o->will_payload, 1,
                           true)) {
        dw_err_set(err, "broker: will topic %s refused", o->will_topic);
        goto fail;
    }
    if (set_auth(m, o, o->url->host, err) < 0) goto fail;
    int keep = o->cfg->keepalive_s >= 5 ? (int)o->cfg->keepalive_s : 5;
    int rc = mosquitto_connect_async(m, o->url->host, o->url->port, keep);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_ERRNO && rc != MOSQ_ERR_EAI) {
        dw_err_set(err, "broker %s:%d: %s", o->url->host, o->url->port, mosquitto_strerror(rc));
        goto fail;
    }
    /* A broker that is down now is not an error: the loop thread retries with back-off. */
    if (pthread_create(&c->th, NULL, net_loop, c) != 0) {
        c->th_started = 0;
        dw_err_set(err, "broker: cannot start the network thread");
        goto fail;
    }
    c->th_started = 1;
    return c;
fail:
    mosquitto_destroy(m);
    free(c);
    return NULL;
}

void dw_broker_stop(dw_broker *b)
{
    if (!b) return;
    if (b->th_started) {
        mosquitto_disconnect(b->m); /* sends DISCONNECT (the will is then not published) */
        for (int i = 0; i < 5 && mosquitto_want_write(b->m); i++) usleep(20000);
        atomic_store(&b->stop, 1);
        pthread_join(b->th, NULL);
    }
    mosquitto_destroy(b->m);
    free(b);
}

int dw_broker_publish(dw_broker *b, const char *topic, const char *payload, int len, int retain)
{
    return mosquitto_publish(b->m, NULL, topic, len, payload, 1, retain != 0);
}
