/* Many beds on a broker, for the ward's benchmark: replays one bed's published stream (a capture
 * written by `mosquitto_sub -v` of a real `dreamwatch --publish` run, one "TOPIC PAYLOAD" a line)
 * for N bed ids, each bed at RATE messages per second, for SECONDS, with the topic's and the
 * document's bed id replaced. usage: wardsim URL CAPTURE NBEDS RATE SECONDS     prints messages and
 * payload bytes sent */
#include "net/broker.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_int up;
static void on_conn(void *ctx, int c, int rc)
{
    (void)ctx;
    (void)rc;
    atomic_store(&up, c);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: wardsim URL CAPTURE NBEDS RATE SECONDS\n");
        return 2;
    }
    dw_broker_url u;
    dw_publish_cfg cfg = { .keepalive_s = 30 };
    dw_err err;
    if (dw_broker_url_parse(argv[1], &u, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        perror(argv[2]);
        return 1;
    }
    int cap = 4096, n = 0;
    char(*leaf)[16] = malloc((size_t)cap * sizeof *leaf), **pre = malloc((size_t)cap * sizeof *pre),
    **post = malloc((size_t)cap * sizeof *post);
    static char line[16384];
    while (fgets(line, sizeof line, f) && n < cap) {
        line[strcspn(line, "\n")] = 0;
        char *sp = strchr(line, ' '), bed[64], lf[16];
        if (!sp) continue;
        *sp = 0;
        if (dw_topic_split(&u, line, bed, sizeof bed, lf, sizeof lf) < 0 || !strcmp(lf, "cmd") ||
            !strcmp(lf, "cmd_ack"))
            continue;
        /* the bed id appears as "bed":"ID" at the start of every document */
        char *b = strstr(sp + 1, "\"bed\":\"");
        if (!b) continue;
        char *e = strchr(b + 7, '"');
        pre[n] = strndup(sp + 1, (size_t)(b + 7 - (sp + 1)));
        post[n] = strdup(e);
        snprintf(leaf[n], sizeof leaf[n], "%s", lf);
        n++;
    }
    fclose(f);
    if (!n) {
        fprintf(stderr, "%s: no bed messages\n", argv[2]);
        return 1;
    }
    int nbeds = atoi(argv[3]);
    double rate = atof(argv[4]), secs = atof(argv[5]);
    dw_broker_opts o = { &cfg, &u, "dw-wardsim", NULL, NULL, NULL, NULL, on_conn, NULL };
    dw_broker *br = dw_broker_start(&o, &err);
    if (!br) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    for (int i = 0; i < 50 && !atomic_load(&up); i++) usleep(100000);
    long msgs = 0;
    long long bytes = 0;
    double t0 = dw_now_mono(), step = 1.0 / (rate * nbeds);
    for (long k = 0; dw_now_mono() - t0 < secs; k++) {
        double due = t0 + k * step;
        while (dw_now_mono() < due) usleep(1000);
        int bed = (int)(k % nbeds), m = (int)((k / nbeds + bed * 7) % n);
        char id[32], topic[256], buf[16384];
        snprintf(id, sizeof id, "sim%d", bed + 1);
        dw_topic(topic, sizeof topic, &u, id, leaf[m]);
        int len = snprintf(buf, sizeof buf, "%s%s%s", pre[m], id, post[m]);
        if (dw_broker_publish(br, topic, buf, len, !strcmp(leaf[m], "status")) == 0) {
            msgs++;
            bytes += len;
        }
    }
    usleep(500000);
    dw_broker_stop(br);
    printf("wardsim: %d beds, %ld messages, %lld payload bytes in %.0f s\n", nbeds, msgs, bytes,
           secs);
    return 0;
}
