/* A live OpenBCI Cyton (8 ch, 250 Hz) or Cyton+Daisy (16 ch, 125 Hz) as a dw_source.
 *
 * The link is a small state machine driven from read(), so read() never blocks longer than its
 * timeout: DOWN (waiting to retry, back-off 0.5 s doubling to 5 s) -> HANDSHAKE (s, v until "$$$",
 * d, c/C, ~6, b; one step per reply or time-out) -> STREAMING. A hang-up, EIO or 2 s of silence
 * while streaming takes it back to DOWN. After a restart the first sample's gap is what the host
 * clock says was missed, since the board's counter starts again. */
#include "sources/cyton.h"
#include "sources/transport.h"

#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define QCAP          2048
#define SILENCE_S     2.0
#define BACKOFF_MIN_S 0.5
#define BACKOFF_MAX_S 5.0
#define REPLY_S       1.5       /* a command's "$$$" (impedance check) */
#define STOP_DRAIN_S  0.2
#define OPEN_SLICE_S  0.1       /* the first handshake looks at its cancel fd this often */

enum link { LINK_DOWN, LINK_HANDSHAKE, LINK_STREAMING };

typedef struct {
    dw_transport *tr;
    int    wake_fd;
    int    want;                       /* 0 auto, 8 or 16 channels */
    int    daisy;                      /* -1 until the first handshake decides */
    dw_cyton_parser parser;
    dw_cyton_hs     hs;                /* the handshake in progress */
    dw_cyton_reply  reply;             /* a command's reply (impedance check) */
    enum link link;
    int    opening;                    /* first handshake: failures are final */
    double retry_at, backoff;
    double last_rx;                    /* host time of the last byte while streaming */
    /* samples waiting for read(), q[qhead..qlen) */
    dw_cyton_sample q[QCAP];
    int    qhead, qlen;
    /* source time: frame number = base + index since the last restart */
    long   base, last_frame;
    double last_host_t;                /* when the last frame arrived */
    int    restarted;                  /* next sample opens a new segment: gap from the clock */
    int    pause_pending;              /* ... and that gap is a deliberate pause (impedance) */
    long   pause_at, paused;           /* frame after the latest pause (-1 none); frames paused */
    int    sel[DW_MAX_CH];             /* delivered channel -> board channel (0-based) */
    double *uv;
    int    uv_cap;
    /* board clock vs host clock over all segments */
    double seg_host0, host_span;
    long   seg_frame0, board_span;
    int    seg_open;
    /* shared with other threads */
    pthread_mutex_t lock;
    struct dw_cyton_stats stats;
} cyton;

static int send_cmd(dw_source *src, const char *cmd);

/* "PATH: what" into src->err and the stats (the UI shows why the link is down). */
static void set_error(dw_source *src, const char *what)
{
    cyton *c = src->priv;
    size_t n = strlen(src->path);
    if (!strncmp(what, src->path, n) && !strncmp(what + n, ": ", 2))
        what += n + 2;                               /* the transport already named the path */
    dw_err_set(&src->err, "%s: %s", src->path, what);
    pthread_mutex_lock(&c->lock);
    snprintf(c->stats.last_error, sizeof c->stats.last_error, "%s", src->err.msg);
    pthread_mutex_unlock(&c->lock);
}

static void close_segment(cyton *c)
{
    if (c->seg_open && c->last_frame > c->seg_frame0) {
        c->host_span += c->last_host_t - c->seg_host0;
        c->board_span += c->last_frame - c->seg_frame0;
    }
    c->seg_open = 0;
}

/* The stream stopped on purpose or by accident: the next sample starts a new segment. */
static void stream_restart(cyton *c)
{
    close_segment(c);
    dw_cyton_parser_restart(&c->parser);
    c->restarted = c->last_frame >= 0;
}

static void link_down(dw_source *src, const char *why)
{
    cyton *c = src->priv;
    if (c->tr) {
        if (c->link == LINK_STREAMING)
            dw_transport_write(c->tr, "s", 1, 50);
        dw_transport_close(c->tr);
        c->tr = NULL;
    }
    set_error(src, why);
    c->pause_pending = 0;                            /* an outage now, not the pause it was */
    if (c->link == LINK_STREAMING)
        stream_restart(c);
    c->link = LINK_DOWN;
    c->retry_at = dw_now_mono() + c->backoff;
    c->backoff = fmin(c->backoff * 2, BACKOFF_MAX_S);
}

static void start_streaming(dw_source *src)
{
    cyton *c = src->priv;
    c->daisy = c->hs.daisy;
    dw_cyton_track_command(&c->parser, "d", 1);
    c->parser.daisy = c->daisy;
    stream_restart(c);
    if (c->last_frame >= 0) {
        pthread_mutex_lock(&c->lock);
        c->stats.reconnects++;
        pthread_mutex_unlock(&c->lock);
    }
    c->link = LINK_STREAMING;
    c->last_rx = dw_now_mono();
    send_cmd(src, "b");
}

/* Carries out what the handshake asks for. */
static void hs_act(dw_source *src, const dw_cyton_hs_act *a)
{
    cyton *c = src->priv;
    switch (a->kind) {
    case DW_HS_SEND:
        if (a->flush)
            dw_transport_flush(c->tr);
        send_cmd(src, a->cmd);
        break;
    case DW_HS_STREAM:
        start_streaming(src);
        break;
    case DW_HS_FAIL:
        link_down(src, a->why);
        break;
    default:
        break;
    }
}

static int try_connect(dw_source *src)
{
    cyton *c = src->priv;
    dw_err e = { 0 };
    c->tr = dw_transport_open(src->path, &e);
    if (!c->tr) {
        set_error(src, e.msg);
        src->err.usage = e.usage;                    /* a port in use is a usage error */
        c->retry_at = dw_now_mono() + c->backoff;
        c->backoff = fmin(c->backoff * 2, BACKOFF_MAX_S);
        return -1;
    }
    c->link = LINK_HANDSHAKE;
    dw_cyton_hs_act a;
    dw_cyton_hs_start(&c->hs, c->want, c->daisy, dw_now_mono(), &a);
    hs_act(src, &a);
    return 0;
}

/* Samples from the parser into the queue, with frame numbers that continue across restarts. */
static void queue_samples(cyton *c, dw_cyton_sample *s, int n)
{
    for (int i = 0; i < n; i++) {
        if (c->restarted) {
            /* The counter began again: the host clock tells how many frames went by meanwhile. */
            double fs = c->daisy ? DW_CYTON_FS / 2 : DW_CYTON_FS;
            long missed = lround((s[i].host_t - c->last_host_t) * fs) - 1;
            if (missed < 0)
                missed = 0;
            c->base = c->last_frame + 1 + missed - s[i].index;
            s[i].lost = missed + s[i].index;
            c->restarted = 0;
            if (c->pause_pending) {
                c->pause_at = c->base + s[i].index;
                c->paused += s[i].lost;
                c->pause_pending = 0;
            }
        } else if (c->last_frame < 0) {
            c->base = -s[i].index;
        }
        long frame = c->base + s[i].index;
        s[i].index = frame;
        if (!c->seg_open) {
            c->seg_open = 1;
            c->seg_host0 = s[i].host_t;
            c->seg_frame0 = frame;
        }
        c->last_frame = frame;
        c->last_host_t = s[i].host_t;
        c->backoff = BACKOFF_MIN_S;        /* data flows: the next outage starts the back-off afresh */
        c->q[c->qlen++] = s[i];
    }
}

static void publish_stats(cyton *c, double now)
{
    const dw_cyton_parser *p = &c->parser;
    pthread_mutex_lock(&c->lock);
    struct dw_cyton_stats *st = &c->stats;
    st->connected = c->link == LINK_STREAMING;
    st->packets = p->packets;
    st->lost_packets = p->lost_packets;
    st->samples = p->samples;
    st->lost_samples = c->last_frame + 1 - p->samples - c->paused;
    st->loss_pct_5s = dw_cyton_loss_recent(p, now);
    st->loss_pct_night = p->packets ? 100.0 * p->lost_packets / (double)(p->packets + p->lost_packets) : 0;
    st->garbage_bytes = p->garbage_bytes;
    st->resyncs = p->resyncs;
    st->accel_valid = p->accel_seen;
    memcpy(st->accel, p->accel, sizeof st->accel);
    double host = c->host_span + (c->seg_open ? c->last_host_t - c->seg_host0 : 0);
    long board = c->board_span + (c->seg_open ? c->last_frame - c->seg_frame0 : 0);
    double fs = c->daisy == 1 ? DW_CYTON_FS / 2 : DW_CYTON_FS;
    st->drift_ppm = host > 1.0 ? (board / (host * fs) - 1.0) * 1e6 : 0.0;
    pthread_mutex_unlock(&c->lock);
}

/* One wait on the link: bytes into the reply or the parser, time-outs into the state machine.
 * Returns -1 if woken, else 0. */
static int pump(dw_source *src, double deadline)
{
    cyton *c = src->priv;
    double now = dw_now_mono();
    if (c->link == LINK_DOWN) {
        if (now >= c->retry_at && !c->opening)
            try_connect(src);
        if (c->link == LINK_DOWN) {
            double until = fmin(deadline, c->retry_at);
            struct pollfd pf = { c->wake_fd, POLLIN, 0 };
            if (until > now && poll(&pf, 1, (int)((until - now) * 1e3 + 0.999)) > 0) {
                uint64_t v;
                if (read(c->wake_fd, &v, sizeof v) < 0) { /* already drained */ }
                return -1;
            }
            return 0;
        }
    }
    double until = deadline;
    if (c->link == LINK_HANDSHAKE)
        until = fmin(until, c->hs.deadline);
    else
        until = fmin(until, c->last_rx + SILENCE_S);
    int free_slots = QCAP - c->qlen - 3;
    if (free_slots < 4)
        return 0;                               /* read() drains the queue first */
    uint8_t buf[4096];
    size_t want = (size_t)free_slots * DW_CYTON_PACKET < sizeof buf ? (size_t)free_slots * DW_CYTON_PACKET : sizeof buf;
    int ms = until > now ? (int)((until - now) * 1e3 + 0.999) : 0;
    ssize_t got = dw_transport_read(c->tr, buf, want, ms, c->wake_fd);
    now = dw_now_mono();
    if (got == DW_TR_WOKEN) {
        uint64_t v;
        if (read(c->wake_fd, &v, sizeof v) < 0) { /* already drained */ }
        return -1;
    }
    if (got == DW_TR_HUP) {
        link_down(src, "disconnected (hang-up)");
        return 0;
    }
    size_t off = 0;
    if (got > 0 && c->link == LINK_HANDSHAKE) {
        dw_cyton_hs_act a;
        off = dw_cyton_hs_feed(&c->hs, buf, (size_t)got, now, &a);
        hs_act(src, &a);
    }
    if (got > 0 && c->link == LINK_STREAMING) {
        c->last_rx = now;
        dw_cyton_sample tmp[160];              /* > 4096 / 33 + 2: one call takes a whole read */
        c->parser.line_seen = c->tr->empty_at;
        while (off < (size_t)got) {
            int n, cap = QCAP - c->qlen < 160 ? QCAP - c->qlen : 160;
            size_t used = dw_cyton_parse(&c->parser, buf + off, (size_t)got - off, now, tmp, cap, &n);
            queue_samples(c, tmp, n);
            if (!used && !n)
                break;                           /* cannot happen: the read was sized to the queue */
            off += used;
        }
    }
    if (got == DW_TR_TIMEOUT || got > 0) {
        if (c->link == LINK_HANDSHAKE) {
            dw_cyton_hs_act a;
            dw_cyton_hs_time(&c->hs, now, &a);
            hs_act(src, &a);
        } else if (c->link == LINK_STREAMING && now - c->last_rx > SILENCE_S)
            link_down(src, "no data for 2 s (out of range or unplugged)");
    }
    return 0;
}

/* Bytes already waiting behind the first read (a stream faster than the reader's schedule: an
 * emulator at --speed 20 sends 5000 packets a second, one 4-KB read takes 124): taken now, up to
 * the queue's room, without waiting. One read a call capped the reader at 124 packets per 40-ms
 * batch, 3100 a second, and the pty filled up behind it. */
static void drain_waiting(dw_source *src)
{
    cyton *c = src->priv;
    int any = 0;
    while (c->link == LINK_STREAMING && QCAP - c->qlen > 160) {
        int before = c->qlen;
        if (pump(src, dw_now_mono()) < 0 || c->qlen == before)
            break;
        any = 1;
    }
    if (any)
        publish_stats(c, dw_now_mono());
}

static int cyton_read(dw_source *src, dw_block *out, int max_frames, int timeout_ms)
{
    cyton *c = src->priv;
    double deadline = dw_now_mono() + (timeout_ms > 0 ? timeout_ms : 0) * 1e-3;
    while (c->qhead == c->qlen) {
        c->qhead = c->qlen = 0;
        int woken = pump(src, deadline);
        publish_stats(c, dw_now_mono());
        if (c->qlen || woken || dw_now_mono() >= deadline)
            break;
    }
    if (c->qhead == c->qlen)
        return 0;
    drain_waiting(src);
    int nch = src->info.nch;
    if (max_frames > c->uv_cap) {
        double *uv = realloc(c->uv, (size_t)max_frames * nch * sizeof *uv);
        if (!uv) {
            dw_err_set(&src->err, "%s: out of memory", src->path);
            return DW_SRC_ERR;
        }
        c->uv = uv;
        c->uv_cap = max_frames;
    }
    memset(out, 0, sizeof *out);
    out->uv = c->uv;
    out->gap = c->q[c->qhead].lost;
    out->pause = c->q[c->qhead].index == c->pause_at ? out->gap : 0;
    out->pause_why = out->pause ? "impedance check (the board stopped, no EEG)" : NULL;
    out->t0 = c->q[c->qhead].index / src->info.fs;
    int n = 0;
    /* A block is continuous: a later gap starts the next block. */
    while (n < max_frames && c->qhead < c->qlen && (n == 0 || c->q[c->qhead].lost == 0)) {
        const dw_cyton_sample *s = &c->q[c->qhead++];
        for (int k = 0; k < nch; k++)
            c->uv[n * nch + k] = s->uv[c->sel[k]];
        if (s->accel_valid) {
            out->accel_valid = 1;
            memcpy(out->accel, s->accel, sizeof out->accel);
        }
        n++;
    }
    out->n = n;
    out->more = c->qhead < c->qlen;
    return n;
}

static int send_cmd(dw_source *src, const char *cmd)
{
    cyton *c = src->priv;
    if (!c->tr)
        return -1;
    dw_cyton_track_command(&c->parser, cmd, c->link != LINK_STREAMING);
    if (dw_transport_write(c->tr, cmd, strlen(cmd), 500) != 0) {
        link_down(src, "disconnected (write failed)");
        return -1;
    }
    return 0;
}

static const struct dw_source_ops cyton_ops;

int dw_cyton_command(dw_source *src, const char *cmd)
{
    if (!src || src->ops != &cyton_ops)
        return -1;
    cyton *c = src->priv;
    if (c->link == LINK_DOWN) {
        dw_err_set(&src->err, "%s: not connected", src->path);
        return -1;
    }
    return send_cmd(src, cmd);
}

static void cyton_close(dw_source *src)
{
    cyton *c = src->priv;
    if (c) {
        if (c->tr) {
            if (c->link == LINK_STREAMING)
                dw_transport_write(c->tr, "s", 1, 200);
            dw_transport_close(c->tr);
        }
        if (c->wake_fd >= 0)
            close(c->wake_fd);
        pthread_mutex_destroy(&c->lock);
        free(c->uv);
        free(c);
    }
    free(src);
}

/* Sends cmd and waits up to wait_s for its "$$$" (bytes meanwhile are not samples). 0, or -1 on hang-up. */
static int command_reply(dw_source *src, const char *cmd, double wait_s)
{
    cyton *c = src->priv;
    if (send_cmd(src, cmd) != 0)
        return -1;
    dw_cyton_reply_reset(&c->reply);
    double end = dw_now_mono() + wait_s;
    while (!c->reply.done && c->tr) {
        uint8_t buf[256];
        int ms = (int)((end - dw_now_mono()) * 1e3);
        if (ms <= 0)
            break;
        ssize_t got = dw_transport_read(c->tr, buf, sizeof buf, ms, -1);
        if (got == DW_TR_HUP) {
            link_down(src, "disconnected (hang-up)");
            return -1;
        }
        if (got > 0)
            dw_cyton_reply_feed(&c->reply, buf, (size_t)got);
    }
    return c->tr ? 0 : -1;
}

/* Samples of one channel while the lead-off current runs: settle first, then n for the estimate. */
static int collect_channel(dw_source *src, int ch, double *x, int settle, int n)
{
    cyton *c = src->priv;
    int have = 0;
    double end = dw_now_mono() + 3.0 + (settle + n) / (c->daisy ? DW_CYTON_FS / 2 : DW_CYTON_FS);
    while (have < settle + n) {
        uint8_t buf[1024];
        int ms = (int)((end - dw_now_mono()) * 1e3);
        if (ms <= 0) {
            set_error(src, "impedance check: the board stopped sending");
            return -1;
        }
        ssize_t got = dw_transport_read(c->tr, buf, sizeof buf, ms, -1);
        if (got == DW_TR_HUP) {
            link_down(src, "disconnected (hang-up)");
            return -1;
        }
        double now = dw_now_mono();
        for (size_t off = 0; got > 0 && off < (size_t)got;) {
            dw_cyton_sample s[64];
            int k;
            off += dw_cyton_parse(&c->parser, buf + off, (size_t)got - off, now, s, 64, &k);
            for (int i = 0; i < k && have < settle + n; i++, have++)
                if (have >= settle)
                    x[have - settle] = s[i].uv[ch - 1];
        }
    }
    c->last_rx = dw_now_mono();
    return 0;
}

int dw_cyton_impedance(dw_source *src, int channel, double *kohm)
{
    if (!src || src->ops != &cyton_ops)
        return -1;
    cyton *c = src->priv;
    int board_nch = c->daisy ? 16 : 8;
    if (channel < 1 || channel > board_nch) {
        dw_err_set(&src->err, "%s: impedance: no channel %d (1..%d)", src->path, channel, board_nch);
        return -1;
    }
    if (c->link != LINK_STREAMING) {
        dw_err_set(&src->err, "%s: impedance: not connected", src->path);
        return -1;
    }
    char on[8], off[8];
    snprintf(on, sizeof on, "z%c01Z", dw_cyton_channel_char(channel));    /* 6 nA into the N input */
    snprintf(off, sizeof off, "z%c00Z", dw_cyton_channel_char(channel));
    double fs = c->daisy ? DW_CYTON_FS / 2 : DW_CYTON_FS;
    /* 31.25 Hz is fs/8 (fs/4 for the Daisy): a whole number of cycles in n samples. */
    int n = c->daisy ? 128 : 256, settle = (int)(fs / 2);
    double x[256];
    /* Stop; what was already on its way still goes to read(). */
    if (send_cmd(src, "s") != 0)
        return -1;
    double end = dw_now_mono() + STOP_DRAIN_S;
    while (c->tr && dw_now_mono() < end && c->qlen < QCAP - 64)
        pump(src, end);
    if (!c->tr || c->link != LINK_STREAMING)
        return -1;
    stream_restart(c);
    c->pause_pending = 1;                      /* the gap it leaves is a pause, not loss */
    long night_samples = c->parser.samples;
    if (command_reply(src, on, REPLY_S) != 0 || send_cmd(src, "b") != 0 ||
        collect_channel(src, channel, x, settle, n) != 0)
        return -1;
    /* test-signal samples are not part of the night: all of them, also those parsed past the
     * settle + n collected (a read may end beyond; counting them made the loss -1) */
    c->parser.samples = night_samples;
    if (send_cmd(src, "s") != 0)
        return -1;
    usleep((useconds_t)(STOP_DRAIN_S * 1e6));
    dw_transport_flush(c->tr);
    if (command_reply(src, off, REPLY_S) != 0)
        return -1;
    dw_cyton_parser_restart(&c->parser);
    if (send_cmd(src, "b") != 0)
        return -1;
    c->last_rx = dw_now_mono();
    /* Amplitude of the 31.25 Hz line; Z = sqrt(2) Vrms / 6 nA minus the board's 2.2 kOhm resistor
     * (the OpenBCI GUI's formula; Vrms = A / sqrt(2)). */
    double re = 0, im = 0;
    for (int i = 0; i < n; i++) {
        double ph = 2 * M_PI * 31.25 * i / fs;
        re += x[i] * cos(ph);
        im -= x[i] * sin(ph);
    }
    double amp_v = 2.0 * hypot(re, im) / n * 1e-6;
    double z = amp_v / 6e-9 - 2200.0;
    *kohm = z > 0 ? z / 1000.0 : 0.0;
    return 0;
}

int dw_cyton_board_channel(dw_source *src, int k)
{
    if (!src || src->ops != &cyton_ops || k < 0 || k >= src->info.nch)
        return -1;
    const cyton *c = src->priv;
    return c->sel[k] + 1;
}

static int cyton_source_stats(dw_source *src, dw_source_stats *st);
static const struct dw_source_ops cyton_ops = { "cyton", cyton_read, NULL, cyton_close, cyton_source_stats };

int dw_cyton_stats(dw_source *src, struct dw_cyton_stats *st)
{
    if (!src || src->ops != &cyton_ops)
        return -1;
    cyton *c = src->priv;
    pthread_mutex_lock(&c->lock);
    *st = c->stats;
    pthread_mutex_unlock(&c->lock);
    return 0;
}

static int cyton_source_stats(dw_source *src, dw_source_stats *st)
{
    struct dw_cyton_stats cs;
    if (dw_cyton_stats(src, &cs) < 0)
        return -1;
    *st = (dw_source_stats){ .connected = cs.connected, .samples = cs.samples, .lost_samples = cs.lost_samples,
                             .loss_pct_5s = cs.loss_pct_5s, .loss_pct_night = cs.loss_pct_night,
                             .reconnects = cs.reconnects, .drift_ppm = cs.drift_ppm };
    return 0;
}

void dw_cyton_wake(dw_source *src)
{
    cyton *c = src->priv;
    uint64_t one = 1;
    if (write(c->wake_fd, &one, sizeof one) < 0) { /* counter full: a wake is pending anyway */ }
}

/* Channels to deliver and their roles, by the one montage rule (sources/montage.h). 0 or -1 with err. */
static int choose_channels(dw_source *src, const dw_channel_spec *spec, int board_nch, dw_err *err)
{
    cyton *c = src->priv;
    dw_source_info *info = &src->info;
    char labels[DW_MAX_CH][DW_LABEL_LEN];
    dw_montage_in in = { .n = board_nch };
    for (int k = 0; k < board_nch && k < DW_MAX_CH; k++) {
        dw_montage_board_label(spec, k, labels[k]);
        in.label[k] = labels[k];
        in.usable[k] = 1;
    }
    dw_montage m;
    if (dw_montage_choose(&in, spec, src->path, &m, err) < 0)
        return -1;
    info->nch = m.n;
    dw_source_take_roles(info, &m, src->path);
    for (int k = 0; k < m.n; k++) {
        c->sel[k] = m.sel[k];
        snprintf(info->label[k], DW_LABEL_LEN, "%s", labels[m.sel[k]]);
        info->phys_lo[k] = -info->phys_max_uv;
        info->phys_hi[k] = info->phys_max_uv;
    }
    return 0;
}

/* 1 if fd (may be -1) is readable now. */
static int readable(int fd)
{
    struct pollfd pf = { fd, POLLIN, 0 };
    return fd >= 0 && poll(&pf, 1, 0) > 0 && (pf.revents & (POLLIN | POLLHUP));
}

dw_source *dw_cyton_open(const char *path, const char *board, const dw_channel_spec *spec, int cancel_fd,
                         dw_err *err)
{
    int want = !board || !*board || !strcasecmp(board, "auto") ? 0 : !strcasecmp(board, "cyton") ? 8
             : !strcasecmp(board, "daisy") ? 16 : -1;
    if (want < 0) {
        dw_err_set(err, "board \"%s\": expected auto, cyton or daisy", board);
        return NULL;
    }
    dw_source *src = calloc(1, sizeof *src);
    cyton *c = calloc(1, sizeof *c);
    if (!src || !c) {
        free(src);
        free(c);
        dw_err_set(err, "%s: out of memory", path);
        return NULL;
    }
    src->ops = &cyton_ops;
    src->priv = c;
    snprintf(src->path, sizeof src->path, "%s", path);
    pthread_mutex_init(&c->lock, NULL);
    c->want = want;
    c->daisy = -1;
    c->last_frame = -1;
    c->pause_at = -1;
    c->backoff = BACKOFF_MIN_S;
    c->opening = 1;
    c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    dw_cyton_parser_init(&c->parser, 0);
    if (c->wake_fd < 0 || try_connect(src) != 0) {
        if (c->wake_fd < 0)
            dw_err_set(err, "%s: cannot create an eventfd", path);
        else
            if (err) *err = src->err;
        cyton_close(src);
        return NULL;
    }
    /* The first handshake runs here, blocking: every step has its own time-out, and cancel_fd (a
     * shutdown signal) ends it at once. */
    while (c->link == LINK_HANDSHAKE && !readable(cancel_fd))
        pump(src, dw_now_mono() + OPEN_SLICE_S);
    if (c->link == LINK_HANDSHAKE) {
        dw_err_set(err, "%s: interrupted while opening the board", path);
        cyton_close(src);
        return NULL;
    }
    if (c->link != LINK_STREAMING) {
        if (err) *err = src->err;
        cyton_close(src);
        return NULL;
    }
    c->opening = 0;
    dw_source_info *info = &src->info;
    info->live = 1;
    snprintf(info->device, sizeof info->device, "%s", c->daisy ? "Cyton+Daisy" : "Cyton");
    info->fs = c->daisy ? DW_CYTON_FS / 2 : DW_CYTON_FS;
    info->start_epoch = dw_now_wall();
    info->phys_max_uv = DW_CYTON_COUNT_MAX * dw_cyton_uv_per_count(24);
    if (choose_channels(src, spec, c->daisy ? 16 : 8, err) != 0) {
        cyton_close(src);
        return NULL;
    }
    publish_stats(c, dw_now_mono());
    return src;
}
