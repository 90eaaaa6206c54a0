/* Byte transports for a serial device: libserialport for a real port, a plain descriptor for a pty,
 * FIFO or socket. Both hand out a descriptor, so every read goes through poll() beside a wake fd and
 * a disconnect is seen as POLLHUP, read() == 0 or EIO (libserialport's own reads spin when the
 * device goes away). */
#ifndef DW_TRANSPORT_H
#define DW_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>
#include "base/dw.h"

typedef struct dw_transport dw_transport;

struct dw_transport_ops {
    const char *kind;                       /* "serialport" or "fd" */
    void (*close)(dw_transport *t);
};

struct dw_transport {
    const struct dw_transport_ops *ops;
    int   fd;                               /* what poll() watches */
    char  path[1024];                       /* the name as given */
    void *priv;
    int   lock_fd;                          /* holds the port's flock when fd cannot (-1: fd holds it) */
    double empty_at;                        /* monotonic s a read last saw no bytes waiting (or
                                             * saw bytes arrive while it watched), 0 never: bytes
                                             * read at once came after it, how long after unknown */
};

enum { DW_TR_TIMEOUT = 0, DW_TR_HUP = -1, DW_TR_WOKEN = -2 };

/* Opens path exclusively, raw 115200 8N1, no flow control. libserialport when the resolved path is a
 * tty it knows (an entry in /sys/class/tty), otherwise a plain descriptor. Only a tty, a pty, a FIFO or a
 * socket is taken ("/dev/zero: a character device that is not a terminal, not a serial port").
 * Exclusive even for root: an flock on the device (a second dreamwatch on the same port gets "in use by
 * another program (process N)" before it touches the port's settings), and TIOCEXCL for programs that
 * take no lock. NULL with err naming the path and the reason (a port in use: err->usage set). */
dw_transport *dw_transport_open(const char *path, dw_err *err);
/* Waits up to timeout_ms for bytes: >0 bytes read, DW_TR_TIMEOUT, DW_TR_HUP (device gone),
 * DW_TR_WOKEN (wake_fd became readable; it is not drained). wake_fd < 0: none. Bytes already
 * waiting are returned at once, even with a wake pending (the wake is seen by a call that finds no
 * bytes). */
ssize_t dw_transport_read(dw_transport *t, void *buf, size_t n, int timeout_ms, int wake_fd);
/* Writes all n bytes within timeout_ms: 0, or DW_TR_HUP / DW_TR_TIMEOUT. */
int dw_transport_write(dw_transport *t, const void *buf, size_t n, int timeout_ms);
/* Discards bytes that arrived but were not read (tcflush; not a tty: reads at most DW_TR_FLUSH_MAX). */
#define DW_TR_FLUSH_MAX 65536
void dw_transport_flush(dw_transport *t);
static inline void dw_transport_close(dw_transport *t) { if (t) t->ops->close(t); }

#endif
