/* The attach protocol on the local control socket (a Unix stream socket; both ends are the same
 * dreamwatch build, checked by HELLO). Every frame: u32 length (little-endian, of what follows), u8
 * type, payload. Server -> client: HELLO, then SNAP/TRACE/EPOCHS/REF as the monitor changes; client
 * -> server: CMD. A frame over DW_WIRE_MAX or of an unknown type ends the connection. */
#ifndef DW_WIRE_H
#define DW_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include "net/snap.h"

#define DW_WIRE_MAX (4u << 20)

enum dw_wire_type {
    DW_W_HELLO = 1, /* char version[16], u32 sizeof(dw_monitor), u32 snapshot bytes, char name[64],
                       char desc[160] */
    DW_W_SNAP,      /* the monitor's scalars: its two copied regions, as bytes */
    DW_W_TRACE,  /* i64 total, u32 count, count x DW_MAX_CH floats: frames total-count .. total-1 */
    DW_W_EPOCHS, /* u32 from, u32 count, count x (i8 stage, float prob[5], float spec[76]) */
    DW_W_REF,    /* u32 n, n x i8 */
    DW_W_EVENTS, /* u32 from, u32 count, count x dw_event_view (same build: raw structs) */
    DW_W_CMD = 16, /* i32 kind, f64 arg, text (the rest, not terminated) */
};

/* Bytes of the two regions of dw_monitor a SNAP carries. */
size_t dw_wire_snap_bytes(void);

typedef struct {
    unsigned char *p;
    size_t len, cap;
    int failed;
} dw_buf;
void dw_buf_free(dw_buf *b);
/* Drop the first n bytes. */
void dw_buf_consume(dw_buf *b, size_t n);

/* Append one frame to b (on memory failure b->failed is set). */
void dw_wire_hello(dw_buf *b, const char *name, const char *desc);
void dw_wire_snap(dw_buf *b, const dw_monitor *v);
void dw_wire_trace(dw_buf *b, const dw_monitor *v, long from);
void dw_wire_epochs(dw_buf *b, const dw_snap *s, int from);
void dw_wire_ref(dw_buf *b, const dw_snap *s);
void dw_wire_events(dw_buf *b, const dw_snap *s, int from);
void dw_wire_cmd(dw_buf *b, int kind, double arg, const char *text);
/* The same with every field of the command (a questionnaire answer's latency in arg2). */
void dw_wire_cmd_full(dw_buf *b, const dw_cmd *c);

/* A complete frame at the start of buf: 1 with *type, *payload, *plen and *used (bytes to consume);
 * 0 when more bytes are needed; -1 when the frame is too long. */
int dw_wire_next(const unsigned char *buf, size_t len, int *type, const unsigned char **payload,
                 size_t *plen, size_t *used);

/* Client side, applying frames to a local monitor (lock taken inside; wakes its screen). 0, or -1
 * with err for a frame that does not fit (wrong sizes). HELLO is checked by dw_wire_hello_check. */
int dw_wire_apply(dw_monitor *m, int type, const unsigned char *p, size_t n, dw_err *err);
/* 0 if the HELLO came from this build; fills name/desc (64 / 160 bytes). -1 with err otherwise. */
int dw_wire_hello_check(const unsigned char *p, size_t n, char *name, char *desc, dw_err *err);
/* Server side: decode a CMD payload. 0, or -1 when it is malformed or names no operator command. */
int dw_wire_cmd_decode(const unsigned char *p, size_t n, dw_cmd *out);

#endif
