/* Attach frames: encoding on the server, decoding and applying on the client. */
#include "net/wire.h"

#include <stdlib.h>
#include <string.h>

#define R1_OFF offsetof(dw_monitor, v_trace)
#define R1_LEN (offsetof(dw_monitor, trace) - offsetof(dw_monitor, v_trace))
#define R2_OFF offsetof(dw_monitor, trace_total)
#define R2_LEN (offsetof(dw_monitor, cmdq) - offsetof(dw_monitor, trace_total))
#define EPOCH_BYTES (1 + 4 * DW_NSTAGES + 4 * DW_SPEC_BINS)

size_t dw_wire_snap_bytes(void) { return R1_LEN + R2_LEN; }

void dw_buf_free(dw_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void dw_buf_consume(dw_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

static int room(dw_buf *b, size_t n)
{
    if (b->failed) return -1;
    if (b->len + n <= b->cap) return 0;
    size_t c = b->cap ? b->cap : 65536;
    while (c < b->len + n) c *= 2;
    unsigned char *p = realloc(b->p, c);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->p = p;
    b->cap = c;
    return 0;
}

static void add(dw_buf *b, const void *p, size_t n)
{
    if (room(b, n) == 0) {
        memcpy(b->p + b->len, p, n);
        b->len += n;
    }
}

static void u32le(unsigned char *o, uint32_t v)
{
    for (int i = 0; i < 4; i++) o[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get32(const unsigned char *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Frame header now, length patched by end_frame. */
static size_t begin(dw_buf *b, int type)
{
    unsigned char h[5] = { 0, 0, 0, 0, (unsigned char)type };
    size_t at = b->len;
    add(b, h, 5);
    return at;
}

static void end_frame(dw_buf *b, size_t at)
{
    if (!b->failed) u32le(b->p + at, (uint32_t)(b->len - at - 4));
}

void dw_wire_hello(dw_buf *b, const char *name, const char *desc)
{
    size_t at = begin(b, DW_W_HELLO);
    char ver[16] = { 0 }, nm[64] = { 0 }, ds[160] = { 0 };
    strncpy(ver, DW_VERSION, sizeof ver - 1);
    strncpy(nm, name, sizeof nm - 1);
    strncpy(ds, desc, sizeof ds - 1);
    uint32_t sz[2] = { (uint32_t)sizeof(dw_monitor), (uint32_t)dw_wire_snap_bytes() };
    add(b, ver, sizeof ver);
    add(b, sz, sizeof sz);
    add(b, nm, sizeof nm);
    add(b, ds, sizeof ds);
    end_frame(b, at);
}

void dw_wire_snap(dw_buf *b, const dw_monitor *v)
{
    size_t at = begin(b, DW_W_SNAP);
    add(b, (const char *)v + R1_OFF, R1_LEN);
    add(b, (const char *)v + R2_OFF, R2_LEN);
    end_frame(b, at);
}

void dw_wire_trace(dw_buf *b, const dw_monitor *v, long from)
{
    long total = v->trace_total;
    if (from < total - DW_TRACE_N) from = total - DW_TRACE_N;
    if (from < 0) from = 0;
    if (from >= total) return;
    size_t at = begin(b, DW_W_TRACE);
    int64_t t = total;
    uint32_t count = (uint32_t)(total - from);
    add(b, &t, sizeof t);
    add(b, &count, sizeof count);
    for (long i = from; i < total; i++) add(b, v->trace[i % DW_TRACE_N], sizeof v->trace[0]);
    end_frame(b, at);
}

void dw_wire_epochs(dw_buf *b, const dw_snap *s, int from)
{
    for (int i0 = from; i0 < s->n_epochs || (i0 == from && from == 0 && s->n_epochs == 0);
         i0 += 2048) {
        uint32_t f = (uint32_t)i0,
                 count = (uint32_t)(s->n_epochs - i0 < 2048 ? s->n_epochs - i0 : 2048);
        size_t at = begin(b, DW_W_EPOCHS);
        add(b, &f, 4);
        add(b, &count, 4);
        for (int i = i0; i < i0 + (int)count; i++) {
            add(b, &s->stage[i], 1);
            add(b, s->prob[i], 4 * DW_NSTAGES);
            add(b, s->spec[i], 4 * DW_SPEC_BINS);
        }
        end_frame(b, at);
        if (s->n_epochs == 0) break;
    }
}

void dw_wire_ref(dw_buf *b, const dw_snap *s)
{
    size_t at = begin(b, DW_W_REF);
    uint32_t n = (uint32_t)s->n_ref;
    add(b, &n, 4);
    if (n) add(b, s->ref, n);
    end_frame(b, at);
}

void dw_wire_events(dw_buf *b, const dw_snap *s, int from)
{
    for (int i0 = from; i0 < s->n_ev; i0 += 256) {
        uint32_t f = (uint32_t)i0, count = (uint32_t)(s->n_ev - i0 < 256 ? s->n_ev - i0 : 256);
        size_t at = begin(b, DW_W_EVENTS);
        add(b, &f, 4);
        add(b, &count, 4);
        add(b, s->ev + i0, count * sizeof *s->ev);
        end_frame(b, at);
    }
}

void dw_wire_cmd_full(dw_buf *b, const dw_cmd *c)
{
    size_t at = begin(b, DW_W_CMD);
    int32_t k = c->kind;
    add(b, &k, 4);
    add(b, &c->arg, 8);
    add(b, &c->arg2, 8);
    size_t tl = strnlen(c->text, DW_TEXT_MAX - 1);
    if (tl) add(b, c->text, tl);
    end_frame(b, at);
}

void dw_wire_cmd(dw_buf *b, int kind, double arg, const char *text)
{
    dw_cmd c = dw_cmd_make(kind, arg, text);
    dw_wire_cmd_full(b, &c);
}

int dw_wire_next(const unsigned char *buf, size_t len, int *type, const unsigned char **payload,
                 size_t *plen, size_t *used)
{
    if (len < 5) return 0;
    uint32_t n = get32(buf);
    if (n < 1 || n > DW_WIRE_MAX) return -1;
    if (len < 4 + (size_t)n) return 0;
    *type = buf[4];
    *payload = buf + 5;
    *plen = n - 1;
    *used = 4 + (size_t)n;
    return 1;
}

int dw_wire_hello_check(const unsigned char *p, size_t n, char *name, char *desc, dw_err *err)
{
    if (n != 16 + 8 + 64 + 160) {
        dw_err_set(err, "the session speaks another protocol (hello of %zu bytes)", n);
        return -1;
    }
    char ver[17] = { 0 };
    memcpy(ver, p, 16);
    uint32_t sz[2];
    memcpy(sz, p + 16, 8);
    if (strcmp(ver, DW_VERSION) || sz[0] != sizeof(dw_monitor) || sz[1] != dw_wire_snap_bytes()) {
        dw_err_set(err,
                   "the session runs dreamwatch %s of another build; attach with the same binary",
                   ver);
        return -1;
    }
    memcpy(name, p + 24, 64);
    name[63] = 0;
    memcpy(desc, p + 88, 160);
    desc[159] = 0;
    return 0;
}

int dw_wire_cmd_decode(const unsigned char *p, size_t n, dw_cmd *out)
{
    if (n < 20 || n - 20 >= DW_TEXT_MAX) return -1;
    int32_t k;
    memcpy(&k, p, 4);
    memcpy(&out->arg, p + 4, 8);
    memcpy(&out->arg2, p + 12, 8);
    /* LINK belongs to the net layer; questionnaire answers and the pre-night check come from a
     * screen */
    if ((k < DW_CMD_PAUSE || k > DW_CMD_DREAM_REPORT) && k != DW_CMD_ANSWER && k != DW_CMD_CHECK)
        return -1;
    out->kind = k;
    memcpy(out->text, p + 20, n - 20);
    out->text[n - 20] = 0;
    return 0;
}

/* The client keeps its own lock, pipes, queue and arrays; the rest comes from the server. */
static void apply_snap(dw_monitor *m, const unsigned char *p)
{
    long total = m->trace_total;
    int n = m->n_epochs, cap = m->cap_epochs, nref = m->n_ref;
    signed char *st = m->stage, *ref = m->ref_stage;
    float(*prob)[DW_NSTAGES] = m->prob;
    float(*spec)[DW_SPEC_BINS] = m->spec;
    unsigned long vh = m->v_hypno, ve = m->v_events;
    dw_event_view *ev = m->events;
    int nev = m->n_events, capev = m->cap_events, seenev = m->seen_events;
    memcpy((char *)m + R1_OFF, p, R1_LEN);
    memcpy((char *)m + R2_OFF, p + R1_LEN, R2_LEN);
    m->trace_total = total;
    m->n_epochs = n;
    m->cap_epochs = cap;
    m->n_ref = nref;
    m->stage = st;
    m->ref_stage = ref;
    m->prob = prob;
    m->spec = spec;
    m->v_hypno = vh;
    m->events = ev;                          /* the server's pointer means nothing here */
    m->n_events = nev;
    m->cap_events = capev;
    m->seen_events = seenev;
    m->v_events = ve;
}

static int apply_events(dw_monitor *m, const unsigned char *p, size_t n)
{
    uint32_t from, count;
    memcpy(&from, p, 4);
    memcpy(&count, p + 4, 4);
    if (n != 8 + (size_t)count * sizeof(dw_event_view) || from != (uint32_t)m->n_events || count > 256)
        return -1;
    if (count == 0)                 /* nothing to add (and m->events may still be NULL: no pointer sums) */
        return 0;
    if (m->n_events + (int)count > m->cap_events) {
        int c = m->cap_events ? m->cap_events : 256;
        while (c < m->n_events + (int)count) c *= 2;
        dw_event_view *e = realloc(m->events, (size_t)c * sizeof *e);
        if (!e) return -1;
        m->events = e;
        m->cap_events = c;
    }
    memcpy(m->events + m->n_events, p + 8, count * sizeof(dw_event_view));
    for (uint32_t i = 0; i < count; i++)          /* text from the wire: always terminated here */
        m->events[m->n_events + (int)i].text[sizeof m->events[0].text - 1] = 0;
    m->n_events += (int)count;
    m->v_events++;
    return 0;
}

static int apply_epochs(dw_monitor *m, const unsigned char *p, size_t n)
{
    uint32_t from, count;
    memcpy(&from, p, 4);
    memcpy(&count, p + 4, 4);
    if (n != 8 + (size_t)count * EPOCH_BYTES || from > (uint32_t)m->n_epochs) return -1;
    if ((int)from < m->n_epochs) {
        m->n_epochs = (int)from;
        m->v_hypno++;
    }
    for (uint32_t i = 0; i < count; i++) {
        const unsigned char *e = p + 8 + (size_t)i * EPOCH_BYTES;
        float pf[DW_NSTAGES], sp[DW_SPEC_BINS];
        double pd[DW_NSTAGES];
        memcpy(pf, e + 1, sizeof pf);
        memcpy(sp, e + 1 + sizeof pf, sizeof sp);
        for (int k = 0; k < DW_NSTAGES; k++) pd[k] = pf[k];
        if (dw_monitor_add_epoch(m, (signed char)e[0], pd, sp) < 0) return -1;
    }
    return 0;
}

static int apply_trace(dw_monitor *m, const unsigned char *p, size_t n)
{
    int64_t total;
    uint32_t count;
    memcpy(&total, p, 8);
    memcpy(&count, p + 8, 4);
    if (count > DW_TRACE_N || n != 12 + (size_t)count * sizeof m->trace[0] ||
        total < (int64_t)count)
        return -1;
    for (uint32_t i = 0; i < count; i++) {
        long k = (long)(total - count + i);
        memcpy(m->trace[k % DW_TRACE_N], p + 12 + (size_t)i * sizeof m->trace[0],
               sizeof m->trace[0]);
    }
    m->trace_total = (long)total;
    m->v_trace++;
    return 0;
}

static int apply_ref(dw_monitor *m, const unsigned char *p, size_t n)
{
    uint32_t k;
    memcpy(&k, p, 4);
    if (n != 4 + (size_t)k) return -1;
    signed char *r = realloc(m->ref_stage, k ? k : 1);
    if (!r) return -1;
    memcpy(r, p + 4, k);
    m->ref_stage = r;
    m->n_ref = (int)k;
    m->v_hypno++;
    return 0;
}

int dw_wire_apply(dw_monitor *m, int type, const unsigned char *p, size_t n, dw_err *err)
{
    int rc = 0;
    pthread_mutex_lock(&m->lock);
    switch (type) {
    case DW_W_SNAP:
        if (n != dw_wire_snap_bytes())
            rc = -1;
        else
            apply_snap(m, p);
        break;
    case DW_W_TRACE: rc = n < 12 ? -1 : apply_trace(m, p, n); break;
    case DW_W_EPOCHS: rc = n < 8 ? -1 : apply_epochs(m, p, n); break;
    case DW_W_REF: rc = n < 4 ? -1 : apply_ref(m, p, n); break;
    case DW_W_EVENTS: rc = n < 8 ? -1 : apply_events(m, p, n); break;
    default: rc = -1;
    }
    pthread_mutex_unlock(&m->lock);
    if (rc < 0)
        dw_err_set(err, "the session sent a frame of type %d that does not fit (%zu bytes)", type,
                   n);
    else
        dw_monitor_notify(m);
    return rc;
}
