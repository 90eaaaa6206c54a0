/* The MQTT broker: where it is (mqtt[s]://host:port/prefix), how we prove who we are (TLS with a CA
 * file and an optional client certificate; a user name and password from a private file) and the
 * topic names. The broker is the only network peer dreamwatch ever has; nothing here listens on a
 * port.
 *
 * Topics (PREFIX from the URL, BED the configured bed id; never a person's name):
 *   PREFIX/bed/BED/status    retained: the bed's state, replaced on every change and every 10 s;
 *                            the broker publishes {"state":"offline"} there when the bed goes
 * silent PREFIX/bed/BED/epoch     each scored epoch        PREFIX/bed/BED/alert   each alert
 * raise/clear/ack PREFIX/bed/BED/event     each operator event      PREFIX/bed/BED/cmd     station
 * -> bed commands PREFIX/bed/BED/cmd_ack   bed -> station: each command carried out or refused All
 * QoS 1. Documents are small JSON objects (net/json.h); see README "Many beds". */
#ifndef DW_BROKER_H
#define DW_BROKER_H

#include "base/dw.h"
#include "base/paths.h"

#define DW_BED_MAX 32 /* bed id: [A-Za-z0-9_-], 1..31 characters */

/* [publish] of the configuration (also used by `dreamwatch ward`). */
typedef struct {
    char url[512];                 /* mqtt://host:port/prefix or mqtts://...; empty: no broker */
    char bed[DW_BED_MAX];          /* this bed's id */
    char cafile[DW_PATH_MAX];      /* TLS: CA certificate(s) that signed the broker's certificate */
    char certfile[DW_PATH_MAX];    /* TLS client certificate (optional) */
    char keyfile[DW_PATH_MAX];     /* its private key */
    char credentials[DW_PATH_MAX]; /* file "USER:PASSWORD" on its first line, mode 0600; empty: none
                                    */
    double keepalive_s;            /* MQTT keep-alive: how soon the broker notices a silent bed */
    double cmd_max_age_s; /* commands older (or further in the future) than this are refused */
} dw_publish_cfg;

typedef struct {
    int tls;
    char host[256];
    int port;
    char prefix[128];
} dw_broker_url;

/* Parse "mqtt://host[:port][/prefix]" or "mqtts://..." (ports 1883 / 8883 by default; prefix
 * "dreamwatch" by default; host a name, IPv4 or [IPv6]; the prefix may not hold '+', '#' or an
 * empty level). 0, or -1 with err naming the part that is wrong. */
int dw_broker_url_parse(const char *url, dw_broker_url *u, dw_err *err);
/* 1 if id is a valid bed id (see DW_BED_MAX). */
int dw_bed_id_ok(const char *id);
/* topic = PREFIX/bed/BED/LEAF ("+" as BED subscribes to every bed). */
void dw_topic(char *out, size_t n, const dw_broker_url *u, const char *bed, const char *leaf);
/* Split a topic PREFIX/bed/BED/LEAF into bed and leaf. 0, or -1 when it is not one of ours. */
int dw_topic_split(const dw_broker_url *u, const char *topic, char *bed, size_t nb, char *leaf,
                   size_t nl);

/* Read USER:PASSWORD from the first line of path. The file must be a regular file owned by us and
 * not readable or writable by group or others (0600 or stricter): refused otherwise, naming the
 * file and its mode. 0, or -1 with err. */
int dw_credentials_read(const char *path, char *user, size_t nu, char *pass, size_t np,
                        dw_err *err);

/* A connected libmosquitto client (its network thread started; reconnects by itself with back-off
 * 1, 2, 4 ... 16 s). will: a retained message on will_topic when the connection drops (NULL: none).
 * on_message runs on libmosquitto's thread. NULL with err (bad TLS files, credentials refused as
 * above). */
typedef struct dw_broker dw_broker;
typedef void (*dw_broker_msg_fn)(void *ctx, const char *topic, const char *payload, int len);
typedef void (*dw_broker_conn_fn)(void *ctx, int connected, int rc);
typedef struct {
    const dw_publish_cfg *cfg;
    const dw_broker_url *url;
    const char *client_id;
    const char *will_topic, *will_payload;
    const char
        *subscribe; /* subscribed (QoS 1) on every connection, before on_connect runs; NULL */
    dw_broker_msg_fn on_message;
    dw_broker_conn_fn on_connect; /* connected 1 (rc 0) or 0 (rc: the reason) */
    void *ctx;
} dw_broker_opts;
dw_broker *dw_broker_start(const dw_broker_opts *o, dw_err *err);
/* Disconnect (the will is not sent on a clean disconnect), stop the thread, free. NULL is fine. */
void dw_broker_stop(dw_broker *b);
/* Queue a QoS 1 message (never blocks on the network). 0, or a libmosquitto error code. */
int dw_broker_publish(dw_broker *b, const char *topic, const char *payload, int len, int retain);

/* Text for a libmosquitto return code or CONNACK code. */
const char *dw_broker_strerror(int rc);

#endif
