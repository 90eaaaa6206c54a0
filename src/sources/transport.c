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
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
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
    if (t->lock_fd >= 0)
        close(t->lock_fd);
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

/* The kinds of file a byte stream from a board can come through: a terminal (a serial port or a pty), a
 * FIFO or a socket. Anything else (a regular file, /dev/zero, /dev/urandom, a disk) never speaks the
 * protocol and, worse, never blocks: refused at once, naming what it is. */
static int check_kind(int fd, const char *path, dw_err *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        dw_err_set(err, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (isatty(fd) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
        return 0;
    const char *kind = S_ISREG(st.st_mode) ? "a regular file"
                     : S_ISCHR(st.st_mode) ? "a character device that is not a terminal"
                     : S_ISBLK(st.st_mode) ? "a block device" : S_ISDIR(st.st_mode) ? "a directory"
                     : "not a device";
    dw_err_set(err, "%s: %s, not a serial port (expected a tty such as /dev/ttyUSB0, or a pty)", path, kind);
    return -1;
}

/* The process holding a flock on the file st names, from /proc/locks; 0 if it cannot be told. */
static long lock_holder(const struct stat *st)
{
    FILE *f = fopen("/proc/locks", "r");
    if (!f)
        return 0;
    char line[256];
    long pid = 0;
    while (!pid && fgets(line, sizeof line, f)) {
        long p;
        unsigned maj, min;
        unsigned long long ino;
        if (strstr(line, "FLOCK") && sscanf(line, "%*s %*s %*s %*s %ld %x:%x:%llu", &p, &maj, &min, &ino) == 4
            && ino == (unsigned long long)st->st_ino && makedev(maj, min) == st->st_dev)
            pid = p;
    }
    fclose(f);
    return pid;
}

/* A second process on the same port would steal half the bytes, and root passes TIOCEXCL. flock binds
 * root too: an exclusive lock on the device, held while fd is open, refused at once when another
 * process has it. */
static int lock_port(int fd, const char *path, dw_err *err)
{
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        return 0;
    int e = errno;
    struct stat st;
    long pid = e == EWOULDBLOCK && fstat(fd, &st) == 0 ? lock_holder(&st) : 0;
    if (e == EWOULDBLOCK && pid > 0)
        dw_err_set(err, "%s: in use by another program (process %ld): one recording per port", path, pid);
    else if (e == EWOULDBLOCK)
        dw_err_set(err, "%s: in use by another program: one recording per port", path);
    else
        dw_err_set(err, "%s: cannot lock the port: %s", path, strerror(e));
    if (e == EWOULDBLOCK && err)
        err->usage = 1;        /* like a session name already running: exit 2 (man EXIT STATUS) */
    return -1;
}

/* TIOCEXCL as well: it stops ordinary users' programs that take no lock. */
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
    /* nothing touches the port (no TIOCEXCL, no termios) before it is ours */
    if (check_kind(fd, path, err) != 0 || lock_port(fd, path, err) != 0 ||
        take_exclusive(fd, path, err) != 0) {
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
    t->lock_fd = -1;                              /* the lock is on fd itself */
    return t;
}

static dw_transport *open_serialport(struct sp_port *port, const char *real, const char *path, dw_err *err)
{
    /* sp_open sets the port up at once: take the lock on a descriptor of our own first */
    int lock_fd = open(real, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (lock_fd < 0 || check_kind(lock_fd, path, err) != 0 || lock_port(lock_fd, path, err) != 0) {
        if (lock_fd < 0)
            dw_err_set(err, "%s: %s", path, strerror(errno));
        else
            close(lock_fd);
        sp_free_port(port);
        return NULL;
    }
    if (sp_open(port, SP_MODE_READ_WRITE) != SP_OK) {
        close(lock_fd);
        char *msg = sp_last_error_message();
        dw_err_set(err, "%s: cannot open serial port: %s", path, msg ? msg : "unknown error");
        sp_free_error_message(msg);
        sp_free_port(port);
        close(lock_fd);
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
        close(lock_fd);
        return NULL;
    }
    if (take_exclusive(fd, path, err) != 0) {
        sp_close(port);
        sp_free_port(port);
        close(lock_fd);
        return NULL;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    dw_transport *t = calloc(1, sizeof *t);
    if (!t) {
        sp_close(port);
        sp_free_port(port);
        close(lock_fd);
        dw_err_set(err, "%s: out of memory", path);
        return NULL;
    }
    t->ops = &sp_ops;
    t->fd = fd;
    t->priv = port;
    t->lock_fd = lock_fd;
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
        t = open_serialport(port, real, path, err);
        dw_err e2;
        /* a tty libserialport cannot drive: the plain descriptor (never when the port is locked) */
        if (!t && err && !err->usage && (t = open_fd(real, path, &e2)) != NULL)
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
    t->empty_at = dw_now_mono();
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
        t->empty_at = dw_now_mono();                 /* watched until now: what comes is fresh */
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
    /* Not a tty: read what is there, but no more than a board can have sent meanwhile (a writer that
     * never stops must not hold us here). */
    char junk[4096];
    for (size_t n = 0; n < DW_TR_FLUSH_MAX; n += sizeof junk)
        if (read(t->fd, junk, sizeof junk) <= 0)
            break;
}
