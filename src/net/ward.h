/* The ward: every bed that publishes under one broker prefix, as the station sees it (`dreamwatch
 * ward`). Messages from the broker (any thread) update the model under its lock and wake the screen
 * through wake_fd; the screen copies what it draws. Commands to a bed go out on its cmd topic with
 * a fresh id and the time, and wait for the bed's cmd_ack: acknowledged, refused (with the bed's
 * reason) or, after DW_WARD_ACK_S without an answer, not acknowledged. */
#ifndef DW_WARD_H
#define DW_WARD_H

#include <pthread.h>
#include "net/broker.h"
#include "net/command.h"

#define DW_WARD_BEDS 1024
#define DW_WARD_ALERTS 32 /* alert events kept per bed for its detail view */
#define DW_WARD_CMDS 32
#define DW_WARD_ACK_S 5.0 /* a command unanswered this long is reported on screen */
#define DW_HYPNO_MAX 2880 /* epochs of the status hypnogram (24 h) */

enum dw_bed_state { DW_BED_ONLINE, DW_BED_OFFLINE, DW_BED_ENDED };

typedef struct {
    unsigned id;
    char event[8]; /* raised | cleared | acked */
    int severity;  /* enum dw_severity */
    char rule[24], text[96];
    double wall;
} dw_ward_alert;

typedef struct {
    char id[DW_BED_MAX];
    int state; /* enum dw_bed_state */
    char mode[16], stage[4], rec[16], data[16];
    double prob[5];
    int epochs;
    double asleep_s;
    int alerts_open, unacked;
    int alert_sev; /* worst open alert, -1 none */
    char alert_text[96];
    char last_event[128];
    char hypno[DW_HYPNO_MAX + 1]; /* one character per epoch: W 1 2 3 R ? */
    double last_msg;              /* monotonic time of its last message */
    dw_ward_alert al[DW_WARD_ALERTS];
    int n_al; /* newest last */
} dw_ward_bed;

enum dw_wcmd_state { DW_WCMD_PENDING, DW_WCMD_OK, DW_WCMD_REFUSED, DW_WCMD_TIMEOUT };

typedef struct {
    char id[DW_CMD_ID_MAX], bed[DW_BED_MAX], op[16];
    double sent; /* monotonic */
    int state;   /* enum dw_wcmd_state */
    char reason[48];
    int reported; /* the screen has said the outcome */
} dw_ward_cmd;

typedef struct dw_ward {
    pthread_mutex_t lock;
    int wake_fd[2];
    dw_ward_bed *beds;
    int n;
    dw_ward_cmd cmds[DW_WARD_CMDS];
    int ncmd;
    unsigned long version, bells; /* bells: critical alerts raised on any bed */
    int connected;
    char link_text[128];
    long msgs, bad_msgs;
    double stale_s; /* a bed silent this long is stale */
    dw_broker_url url;
    dw_publish_cfg cfg;
    dw_broker *br;
} dw_ward;

/* 0 or -1 (memory, pipe). stale_s: 0 takes 3 heartbeats (30 s). */
int dw_ward_init(dw_ward *w, double stale_s);
void dw_ward_free(dw_ward *w);
/* A message of topic (PREFIX/bed/BED/LEAF) at monotonic time now (takes the lock). 0, or -1 when it
 * was not ours or not a well-formed document (counted in bad_msgs). */
int dw_ward_ingest(dw_ward *w, const char *topic, const char *payload, int len, double now);
/* How much bed b needs attention at now (lock held): 5 offline or stale, 4 critical alert
 * unacknowledged or no data, 3 critical, 2 warning, 1 info, 0 fine, -1 ended. */
int dw_ward_attention(const dw_ward *w, const dw_ward_bed *b, double now);
/* Bed indices, most attention first, then by id (numbers in ids compare as numbers). Lock held. */
void dw_ward_order(const dw_ward *w, int *idx, double now);
/* Connect to the broker (cfg, url) and subscribe to every bed. 0, or -1 with err. */
int dw_ward_connect(dw_ward *w, const dw_publish_cfg *cfg, const dw_broker_url *url, dw_err *err);
void dw_ward_disconnect(dw_ward *w);
/* Send op ("wake", "natural", "ack", "shutdown") with arg to bed. 0, or -1 with err (not
 * connected). */
int dw_ward_send(dw_ward *w, const char *bed, const char *op, double arg, dw_err *err);
/* Mark commands unanswered for DW_WARD_ACK_S as timed out (lock held). */
void dw_ward_timeouts(dw_ward *w, double now);

#endif
