/* Serial transports: libserialport for real ports, a plain descriptor for ptys, FIFOs and sockets.
 * Reads and writes never use libserialport's blocking calls (they spin once the device is gone). */
#include "sources/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

static void fd_close(dw_transport *t)
{
    if (t->fd >= 0) {
        if (isatty(t->fd))
            ioctl(t->fd, TIOCNXCL);
        close(t->fd);
    }
    free(t);
}

static void sp_transport_close(dw_transport *t)
{
    struct sp_port *port = t->priv;
    if (t->fd >= 0)
        ioctl(t->fd, TIOCNXCL);
    sp_close(port);
    sp_free_port(port);
    free(t);
}

static const struct dw_transport_ops fd_ops = { "fd", fd_close };
static const struct dw_transport_ops sp_ops = { "serialport", sp_transport_close };

/* Raw 115200 8N1 without flow control; a FIFO or socket has no termios and needs none. */
static int make_raw(int fd)
{
    struct termios tio;
    if (tcgetattr(fd, &tio) != 0)
        return errno == ENOTTY || errno == EINVAL ? 0 : -1;
    cfmakeraw(&tio);
    tio.c_cflag &= ~(CSTOPB | PARENB | CRTSCTS);
    tio.c_cflag |= CLOCAL | CREAD | CS8;
    tio.c_iflag &= ~(IXON | IXOFF | IXANY);
    tio.c_cc[VMIN] = 0;
    tio.c_cc[VTIME] = 0;
    cfsetispeed(&tio, B115200);
    cfsetospeed(&tio, B115200);
    return tcsetattr(fd, TCSANOW, &tio);
}

/* A second process on the same port would steal half the bytes. */
static int take_exclusive(int fd, const char *path, dw_err *err)
{
    if (isatty(fd) && ioctl(fd, TIOCEXCL) != 0) {
        dw_err_set(err, "%s: cannot take the port exclusively: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* real: the resolved name to open; path: the name the user gave, for messages. */
static dw_transport *open_fd(const char *real, const char *path, dw_err *err)
{
    int fd = open(real, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        dw_err_set(err, "%s: %s%s", path, strerror(errno),
                   errno == EBUSY ? " (another program has the port open)" : "");
        return NULL;
    }
    if (take_exclusive(fd, path, err) != 0) {
        close(fd);
        return NULL;
    }
    if (make_raw(fd) != 0) {
        dw_err_set(err, "%s: cannot set raw 115200 8N1: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    dw_transport *t = calloc(1, sizeof *t);
    if (!t) {
        close(fd);
        dw_err_set(err, "%s: out of memory", path);
        return NULL;
    }
    t->ops = &fd_ops;
    t->fd = fd;
    return t;
}

static dw_transport *open_serialport(struct sp_port *port, const char *path, dw_err *err)
{
    if (sp_open(port, SP_MODE_READ_WRITE) != SP_OK) {
        char *msg = sp_last_error_message();
        dw_err_set(err, "%s: cannot open serial port: %s", path, msg ? msg : "unknown error");
        sp_free_error_message(msg);
        sp_free_port(port);
        return NULL;
    }
    int fd = -1;
    if (sp_set_baudrate(port, 115200) != SP_OK || sp_set_bits(port, 8) != SP_OK ||
        sp_set_parity(port, SP_PARITY_NONE) != SP_OK || sp_set_stopbits(port, 1) != SP_OK ||
        sp_set_flowcontrol(port, SP_FLOWCONTROL_NONE) != SP_OK ||
        sp_get_port_handle(port, &fd) != SP_OK || fd < 0) {
        char *msg = sp_last_error_message();
        dw_err_set(err, "%s: cannot configure 115200 8N1: %s", path, msg ? msg : "unknown error");
        sp_free_error_message(msg);
        sp_close(port);
        sp_free_port(port);
        return NULL;
    }
    if (take_exclusive(fd, path, err) != 0) {
        sp_close(port);
        sp_free_port(port);
        return NULL;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    dw_transport *t = calloc(1, sizeof *t);
    if (!t) {
        sp_close(port);
        sp_free_port(port);
        dw_err_set(err, "%s: out of memory", path);
        return NULL;
    }
    t->ops = &sp_ops;
    t->fd = fd;
    t->priv = port;
    return t;
}

dw_transport *dw_transport_open(const char *path, dw_err *err)
{
    char real[PATH_MAX];
    if (!realpath(path, real)) {
        dw_err_set(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    /* libserialport only knows names under /dev/ with a /sys/class/tty entry (not ptys). */
    struct sp_port *port = NULL;
    struct stat st;
    dw_transport *t;
    if (stat(real, &st) == 0 && S_ISCHR(st.st_mode) && !strncmp(real, "/dev/", 5) &&
        sp_get_port_by_name(real, &port) == SP_OK) {
        t = open_serialport(port, path, err);
        dw_err e2;
        if (!t && (t = open_fd(real, path, &e2)) != NULL && err)   /* a tty libserialport cannot drive */
            err->msg[0] = 0;
    } else {
        t = open_fd(real, path, err);
    }
    if (t)
        snprintf(t->path, sizeof t->path, "%s", path);
    return t;
}

ssize_t dw_transport_read(dw_transport *t, void *buf, size_t n, int timeout_ms, int wake_fd)
{
    /* The worker reads on a schedule, so bytes are usually waiting: take them with one read()
     * rather than poll() and read(). Anything but bytes (none yet: EAGAIN, or 0 from a raw tty; an
     * error) goes the poll() way below, which tells a hang-up from silence and sees a wake. */
    ssize_t first = read(t->fd, buf, n);
    if (first > 0)
        return first;
    struct pollfd pf[2] = { { t->fd, POLLIN, 0 }, { wake_fd, POLLIN, 0 } };
    int np = wake_fd >= 0 ? 2 : 1;
    double deadline = dw_now_mono() + timeout_ms * 1e-3;
    for (;;) {
        int left = (int)((deadline - dw_now_mono()) * 1e3 + 0.999);
        int r = poll(pf, np, left > 0 ? left : 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return DW_TR_HUP;
        }
        if (np == 2 && (pf[1].revents & POLLIN))
            return DW_TR_WOKEN;
        if (r == 0)
            return DW_TR_TIMEOUT;
        if (pf[0].revents & POLLIN) {
            ssize_t got = read(t->fd, buf, n);
            if (got > 0)
                return got;
            if (got < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            return DW_TR_HUP;                       /* 0 = end of file, EIO = device gone */
        }
        if (pf[0].revents & (POLLHUP | POLLERR | POLLNVAL))
            return DW_TR_HUP;
    }
}

int dw_transport_write(dw_transport *t, const void *buf, size_t n, int timeout_ms)
{
    const char *p = buf;
    double deadline = dw_now_mono() + timeout_ms * 1e-3;
    while (n > 0) {
        ssize_t w = write(t->fd, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN)
            return DW_TR_HUP;
        int left = (int)((deadline - dw_now_mono()) * 1e3 + 0.999);
        if (left <= 0)
            return DW_TR_TIMEOUT;
        struct pollfd pf = { t->fd, POLLOUT, 0 };
        if (poll(&pf, 1, left) > 0 && (pf.revents & (POLLHUP | POLLERR | POLLNVAL)))
            return DW_TR_HUP;
    }
    return 0;
}

void dw_transport_flush(dw_transport *t)
{
    if (tcflush(t->fd, TCIOFLUSH) == 0)
        return;
    char junk[512];                                  /* not a tty: read what is there */
    while (read(t->fd, junk, sizeof junk) > 0)
        ;
}
