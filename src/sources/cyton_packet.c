/* The Cyton byte stream: 33-byte packets framed by 0xA0 ... 0xCx, found again after garbage, counted
 * for loss by their 8-bit counter, paired into 16-channel samples for the Daisy, scaled by each
 * channel's gain. Pure: bytes and a host time in, samples out. */
#include "sources/cyton.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const int gain_codes[7] = { 1, 2, 4, 6, 8, 12, 24 };
static const char daisy_chars[] = "QWERTYUI";

int dw_cyton_gain_of_code(int code)
{
    return code >= '0' && code <= '6' ? gain_codes[code - '0'] : 0;
}

int dw_cyton_channel_char(int ch)
{
    if (ch >= 1 && ch <= 8)
        return '0' + ch;
    return ch >= 9 && ch <= 16 ? daisy_chars[ch - 9] : 0;
}

int dw_cyton_channel_of_char(int c)
{
    if (c >= '1' && c <= '8')
        return c - '0';
    const char *q = c ? strchr(daisy_chars, c) : NULL;
    return q ? 9 + (int)(q - daisy_chars) : 0;
}

static int footer_ok(uint8_t b) { return (b & 0xF0) == 0xC0; }

int dw_cyton_packet_decode(const uint8_t raw[DW_CYTON_PACKET], dw_cyton_packet *p)
{
    if (raw[0] != 0xA0 || !footer_ok(raw[32]))
        return -1;
    p->counter = raw[1];
    for (int c = 0; c < 8; c++) {
        const uint8_t *b = raw + 2 + 3 * c;
        uint32_t u = (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
        p->count[c] = (int32_t)(u ^ 0x800000u) - 0x800000;     /* sign-extend 24 bits */
    }
    memcpy(p->aux, raw + 26, 6);
    p->footer = raw[32];
    return 0;
}

void dw_cyton_packet_encode(const dw_cyton_packet *p, uint8_t raw[DW_CYTON_PACKET])
{
    raw[0] = 0xA0;
    raw[1] = p->counter;
    for (int c = 0; c < 8; c++) {
        uint32_t u = (uint32_t)p->count[c] & 0xFFFFFFu;
        raw[2 + 3 * c] = (uint8_t)(u >> 16);
        raw[3 + 3 * c] = (uint8_t)(u >> 8);
        raw[4 + 3 * c] = (uint8_t)u;
    }
    memcpy(raw + 26, p->aux, 6);
    raw[32] = p->footer;
}

void dw_cyton_parser_init(dw_cyton_parser *p, int daisy)
{
    memset(p, 0, sizeof *p);
    p->daisy = daisy;
    for (int c = 0; c < 16; c++)
        p->gain[c] = 24;
    p->last_index = -1;
    p->win_sec = -1;
}

void dw_cyton_parser_restart(dw_cyton_parser *p)
{
    p->fill = 0;
    p->locked = 0;
    p->started = 0;
    p->have_held = 0;
    p->have_odd = 0;
    p->last_index = -1;
}

/* 1-s buckets of received and lost packets over the last DW_CYTON_WIN seconds. */
static void window_add(dw_cyton_parser *p, double t, long recv, long lost)
{
    long sec = (long)floor(t);
    if (sec > p->win_sec) {
        for (long s = p->win_sec + 1; s <= sec && s <= p->win_sec + DW_CYTON_WIN; s++) {
            p->win_recv[s % DW_CYTON_WIN] = 0;
            p->win_lost[s % DW_CYTON_WIN] = 0;
        }
        if (sec - p->win_sec > DW_CYTON_WIN || p->win_sec < 0)
            memset(p->win_recv, 0, sizeof p->win_recv), memset(p->win_lost, 0, sizeof p->win_lost);
        p->win_sec = sec;
    }
    if (sec <= p->win_sec - DW_CYTON_WIN || sec < 0)
        return;
    p->win_recv[sec % DW_CYTON_WIN] += recv;
    p->win_lost[sec % DW_CYTON_WIN] += lost;
}

double dw_cyton_loss_recent(const dw_cyton_parser *p, double now_s)
{
    long now = (long)floor(now_s), recv = 0, lost = 0;
    for (int k = 0; k < DW_CYTON_WIN; k++) {
        long s = p->win_sec - k;
        if (s < 0 || s <= now - DW_CYTON_WIN)
            continue;
        recv += p->win_recv[s % DW_CYTON_WIN];
        lost += p->win_lost[s % DW_CYTON_WIN];
    }
    return recv + lost ? 100.0 * lost / (double)(recv + lost) : 0.0;
}

/* Bytes outside packets: replies to commands sent while streaming, or line noise. A reply ending
 * in "$$$" means the board has applied the channel settings sent before it. */
static void text_byte(dw_cyton_parser *p, uint8_t b)
{
    p->garbage_bytes++;
    if (p->text_len == (int)sizeof p->text - 1) {
        memmove(p->text, p->text + 32, sizeof p->text - 33);
        p->text_len -= 32;
    }
    p->text[p->text_len++] = (char)b;
    p->text[p->text_len] = 0;
    if (p->text_len >= 3 && !memcmp(p->text + p->text_len - 3, "$$$", 3)) {
        for (int c = 0; c < 16; c++)
            if (p->pending_gain[c])
                p->gain[c] = p->pending_gain[c], p->pending_gain[c] = 0;
        p->text_len = 0;
    }
}

static void emit(dw_cyton_parser *p, const dw_cyton_packet *a, const dw_cyton_packet *b, long index,
                 double t, dw_cyton_sample *s)
{
    memset(s, 0, sizeof *s);
    s->index = index;
    s->lost = index - p->last_index - 1;
    p->lost_samples += s->lost;
    p->last_index = index;
    p->samples++;
    s->nch = b ? 16 : 8;
    s->host_t = t;
    s->counter = b ? b->counter : a->counter;
    for (int half = 0; half < (b ? 2 : 1); half++) {
        const dw_cyton_packet *pk = half ? b : a;
        for (int c = 0; c < 8; c++) {
            int ch = half * 8 + c;
            int32_t v = pk->count[c];
            s->count[ch] = v;
            s->uv[ch] = v * dw_cyton_uv_per_count(p->gain[ch]);
        }
        /* Footer 0xC0 carries the accelerometer; all zero means "no new reading". */
        if (pk->footer == 0xC0 && (pk->aux[0] | pk->aux[1] | pk->aux[2] | pk->aux[3] | pk->aux[4] | pk->aux[5])) {
            for (int k = 0; k < 3; k++) {
                int16_t v = (int16_t)(pk->aux[2 * k] << 8 | pk->aux[2 * k + 1]);
                s->accel[k] = p->accel[k] = v * DW_CYTON_ACCEL_G;
            }
            s->accel_valid = p->accel_seen = 1;
        }
    }
}

/* A packet that belongs at unwrapped position seq after `lost` lost ones: counts it and forms a
 * sample (Cyton: every packet; Daisy: an odd packet followed by the next even one). */
static int accept(dw_cyton_parser *p, const dw_cyton_packet *pk, long lost, double t, dw_cyton_sample *out)
{
    p->continuous = p->started && lost == 0;
    if (!p->started) {
        p->started = 1;
        p->seq = pk->counter;            /* seq keeps the counter's parity: Daisy pairs by it */
        p->seq0 = p->seq;
    } else {
        p->seq += lost + 1;
    }
    p->last_counter = pk->counter;
    p->last_host_t = t;
    p->packets++;
    p->lost_packets += lost;
    window_add(p, t, 1, lost);
    if (!p->daisy)
        return emit(p, pk, NULL, p->seq - p->seq0, t, out), 1;
    long pair = (p->seq + 1) / 2;        /* odd seq n and even n+1 share a pair */
    long base = (p->seq0 + 1) / 2 + !(p->seq0 & 1);
    if (p->seq & 1) {
        p->odd = *pk;
        p->odd_pair = pair;
        p->have_odd = 1;
        return 0;
    }
    if (!p->have_odd || p->odd_pair != pair)
        return 0;                        /* its odd half was lost (or this is the first, invalid one) */
    p->have_odd = 0;
    emit(p, &p->odd, pk, pair - base, t, out);
    return 1;
}

/* Counter bookkeeping. A jump is held until the next packet shows whether packets were lost or the
 * counter byte itself was damaged; after a long silence the host clock decides how many whole
 * wraps of 256 went missing. */
static int counted(dw_cyton_parser *p, dw_cyton_packet *pk, double t, dw_cyton_sample *out)
{
    int n = 0;
    if (!p->started)
        return accept(p, pk, 0, t, out);
    if (p->have_held) {
        uint8_t expect = (uint8_t)(p->last_counter + 1);
        int dh = (uint8_t)(p->held.counter - expect), dn = (uint8_t)(pk->counter - expect);
        p->have_held = 0;
        if (dn == 0) {                   /* the held one was not a packet of this stream */
            p->garbage_bytes += DW_CYTON_PACKET;
            return accept(p, pk, 0, t, out);
        }
        if (dn < dh) {                   /* its counter byte was damaged: it sits just before pk */
            p->held.counter = (uint8_t)(pk->counter - 1);
            n += accept(p, &p->held, dn - 1, p->held_t, out + n);
            return n + accept(p, pk, 0, t, out + n);
        }
        n += accept(p, &p->held, dh, p->held_t, out + n);
        if (dn == dh + 1)
            return n + accept(p, pk, 0, t, out + n);
        /* a second jump: judge pk against the held one, below */
    }
    int d = (uint8_t)(pk->counter - p->last_counter - 1);
    double silent = (p->line_seen > 0 && p->line_seen < t ? p->line_seen : t) - p->last_host_t;
    if (silent > 200.0 / DW_CYTON_FS) {
        long by_clock = lround(silent * DW_CYTON_FS) - 1;
        long wraps = lround((double)(by_clock - d) / 256.0);
        return n + accept(p, pk, d + 256 * (wraps > 0 ? wraps : 0), t, out + n);
    }
    if (d == 0)
        return n + accept(p, pk, 0, t, out + n);
    p->held = *pk;
    p->held_t = t;
    p->have_held = 1;
    return n;
}

size_t dw_cyton_parse(dw_cyton_parser *p, const uint8_t *buf, size_t n, double now_s,
                      dw_cyton_sample *out, int cap, int *nout)
{
    size_t i = 0;
    *nout = 0;
    while (i < n && *nout <= cap - 2) {
        /* In step with the stream and between packets: a whole packet in buf is taken where it lies
         * (what the byte-by-byte path below would do with it, without copying it through p->buf).
         */
        if (p->locked && p->fill == 0 && n - i >= DW_CYTON_PACKET && buf[i] == 0xA0 &&
            footer_ok(buf[i + DW_CYTON_PACKET - 1])) {
            dw_cyton_packet pk;
            dw_cyton_packet_decode(buf + i, &pk);
            i += DW_CYTON_PACKET;
            *nout += counted(p, &pk, now_s, out + *nout);
            p->locked = p->continuous && !p->have_held;
            continue;
        }
        p->buf[p->fill++] = buf[i++];
        for (;;) {
            if (p->fill == 0)
                break;
            if (p->buf[0] != 0xA0 || (p->fill == DW_CYTON_PACKET && !footer_ok(p->buf[32]))) {
                if (p->locked)
                    p->resyncs++;
                p->locked = 0;
                text_byte(p, p->buf[0]);                 /* drop one byte and look again */
                memmove(p->buf, p->buf + 1, (size_t)--p->fill);
                continue;
            }
            if (p->fill < DW_CYTON_PACKET)
                break;
            if (!p->locked) {
                /* After garbage, a frame counts only if the next packet starts right behind it:
                 * a stray 0xA0 has a 1 in 16 chance of a plausible footer 32 bytes later. */
                if (p->fill < DW_CYTON_PACKET + 1)
                    break;
                if (p->buf[DW_CYTON_PACKET] != 0xA0) {
                    text_byte(p, p->buf[0]);
                    memmove(p->buf, p->buf + 1, (size_t)--p->fill);
                    continue;
                }
            }
            dw_cyton_packet pk;
            dw_cyton_packet_decode(p->buf, &pk);
            p->fill -= DW_CYTON_PACKET;
            memmove(p->buf, p->buf + DW_CYTON_PACKET, (size_t)p->fill);
            *nout += counted(p, &pk, now_s, out + *nout);
            /* Trust the framing without look-ahead only once the counters run on unbroken. */
            p->locked = p->continuous && !p->have_held;
        }
    }
    return i;
}

void dw_cyton_track_command(dw_cyton_parser *p, const char *cmd, int immediate)
{
    for (size_t i = 0; cmd[i]; i++) {
        if (cmd[i] == 'd') {
            for (int c = 0; c < 16; c++) {
                if (immediate)
                    p->gain[c] = 24, p->pending_gain[c] = 0;
                else
                    p->pending_gain[c] = 24;
            }
        } else if (cmd[i] == 'x' && strlen(cmd + i) >= 9 && cmd[i + 8] == 'X') {
            int ch = dw_cyton_channel_of_char(cmd[i + 1]), g = dw_cyton_gain_of_code(cmd[i + 3]);
            if (ch && g) {
                if (immediate)
                    p->gain[ch - 1] = g, p->pending_gain[ch - 1] = 0;
                else
                    p->pending_gain[ch - 1] = g;
            }
            i += 8;
        }
    }
}

void dw_cyton_reply_reset(dw_cyton_reply *r)
{
    r->len = 0;
    r->done = 0;
    r->text[0] = 0;
}

size_t dw_cyton_reply_feed(dw_cyton_reply *r, const uint8_t *buf, size_t n)
{
    size_t i = 0;
    while (i < n && !r->done) {
        if (r->len == (int)sizeof r->text - 1) {         /* keep the tail: "$$$" ends it */
            memmove(r->text, r->text + 512, sizeof r->text - 513);
            r->len -= 512;
        }
        r->text[r->len++] = buf[i] ? (char)buf[i] : '?';   /* keep it a C string */
        i++;
        r->text[r->len] = 0;
        if (r->len >= 3 && !memcmp(r->text + r->len - 3, "$$$", 3))
            r->done = 1;
    }
    return i;
}

int dw_cyton_reply_failed(const dw_cyton_reply *r)
{
    const char *s = r->text;
    while (*s && (unsigned char)*s <= ' ')
        s++;
    return !strncmp(s, "Failure", 7) || strstr(r->text, "\nFailure") != NULL;
}

int dw_cyton_reply_daisy(const dw_cyton_reply *r)
{
    return strstr(r->text, "Daisy") != NULL;
}

/* ---- the handshake ---- */

#define HS_STOP_S     0.2       /* after `s`: what was streaming drains */
#define HS_VERSION_S  4.0       /* `v` resets the board: its banner takes about a second */
#define HS_REPLY_S    1.5       /* other commands; old firmware sends no "$$$" at all */

static void hs_step(dw_cyton_hs *h, int step, const char *cmd, double wait_s, double now, dw_cyton_hs_act *a)
{
    h->step = step;
    h->deadline = now + wait_s;
    h->junk = 0;
    dw_cyton_reply_reset(&h->reply);
    a->kind = DW_HS_SEND;
    a->cmd = cmd;
}

static void hs_fail(dw_cyton_hs *h, const char *why, dw_cyton_hs_act *a)
{
    h->step = DW_HS_FAILED;
    a->kind = DW_HS_FAIL;
    a->why = why;
}

void dw_cyton_hs_start(dw_cyton_hs *h, int want, int daisy, double now, dw_cyton_hs_act *a)
{
    memset(h, 0, sizeof *h);
    memset(a, 0, sizeof *a);
    h->want = want;
    h->daisy = daisy;
    hs_step(h, DW_HS_STOP, "s", HS_STOP_S, now, a);
}

/* What the reply to `v` says, checked against what was asked: NULL if the board will do, else why not. */
static const char *hs_version(dw_cyton_hs *h, int timed_out)
{
    if (timed_out)
        return "no reply to `v` (not an OpenBCI dongle, or the board is off)";
    if (dw_cyton_reply_failed(&h->reply))
        return "board is off or out of range (the dongle answers, the board does not)";
    int has_daisy = dw_cyton_reply_daisy(&h->reply);
    if (h->want == 16 && !has_daisy)
        return "no Daisy board found (board = daisy)";
    int daisy = h->want ? h->want == 16 : has_daisy;
    if (h->daisy >= 0 && daisy != h->daisy)
        return "the board came back with a different channel count";
    h->daisy = daisy;
    h->v3 = strstr(h->reply.text, "v3.") != NULL;
    return NULL;
}

/* The step's reply arrived (timed_out = 0) or its time ran out. */
static void hs_done(dw_cyton_hs *h, int timed_out, double now, dw_cyton_hs_act *a)
{
    const char *why;
    switch (h->step) {
    case DW_HS_STOP:
        hs_step(h, DW_HS_VERSION, "v", HS_VERSION_S, now, a);
        a->flush = 1;
        break;
    case DW_HS_VERSION:
        if ((why = hs_version(h, timed_out)) != NULL)
            hs_fail(h, why, a);
        else
            hs_step(h, DW_HS_DEFAULTS, "d", HS_REPLY_S, now, a);
        break;
    case DW_HS_DEFAULTS:
        hs_step(h, DW_HS_CHANNELS, h->daisy ? "C" : "c", HS_REPLY_S, now, a);
        break;
    case DW_HS_CHANNELS:
        if (h->v3) {
            hs_step(h, DW_HS_RATE, "~6", HS_REPLY_S, now, a);
            break;
        }
        /* fall through */
    case DW_HS_RATE:
        h->step = DW_HS_STREAMING;
        a->kind = DW_HS_STREAM;
        a->cmd = "b";
        break;
    default:
        break;
    }
}

size_t dw_cyton_hs_feed(dw_cyton_hs *h, const uint8_t *buf, size_t n, double now, dw_cyton_hs_act *a)
{
    memset(a, 0, sizeof *a);
    if (h->step == DW_HS_STOP || h->step >= DW_HS_STREAMING)
        return n;                       /* whatever was streaming before `s`; nothing once decided */
    size_t used = dw_cyton_reply_feed(&h->reply, buf, n);
    if (h->reply.done) {
        hs_done(h, 0, now, a);
        return used;
    }
    h->junk += (long)used;
    if (h->junk > DW_HS_JUNK_MAX)
        hs_fail(h, "sends bytes that are no OpenBCI reply (no \"$$$\" in 16 KB): not an OpenBCI dongle?", a);
    return used;
}

void dw_cyton_hs_time(dw_cyton_hs *h, double now, dw_cyton_hs_act *a)
{
    memset(a, 0, sizeof *a);
    if (h->step < DW_HS_STREAMING && now >= h->deadline)
        hs_done(h, 1, now, a);
}
