/* The attach client thread. */
#include "net/attach.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/control.h"
#include "net/wire.h"

#define SAFE_END "the session ended (safe shutdown)"

struct dw_attach {
    int fd, stop_fd[2];
    dw_monitor *m;
    pthread_t th;
    dw_buf in;
    char why[256];
    int broken;                  /* the connection ended without the session's safe shutdown */
    int joined;
};

/* Read into a->in; 1 data, 0 would block, -1 closed or failed. */
static int fill(dw_attach *a)
{
    if (a->in.cap - a->in.len < 65536) {
        size_t c = a->in.cap ? a->in.cap * 2 : 1 << 20;
        unsigned char *p = realloc(a->in.p, c);
        if (!p) return -1;
        a->in.p = p;
        a->in.cap = c;
    }
    ssize_t r = recv(a->fd, a->in.p + a->in.len, a->in.cap - a->in.len, MSG_DONTWAIT);
    if (r > 0) {
        a->in.len += (size_t)r;
        return 1;
    }
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    return -1;
}

/* Frames in a->in: HELLO first (when hello != NULL), then state. 0, or -1 with a->why. */
static int frames(dw_attach *a, int *hello_seen, char *name, char *desc)
{
    int type, f;
    const unsigned char *p;
    size_t n, used;
    dw_err err = { 0 };
    while ((f = dw_wire_next(a->in.p, a->in.len, &type, &p, &n, &used)) == 1) {
        if (!*hello_seen) {
            if (type != DW_W_HELLO || dw_wire_hello_check(p, n, name, desc, &err) < 0) {
                snprintf(a->why, sizeof a->why, "%s",
                         err.msg[0] ? err.msg : "the session did not say hello");
                return -1;
            }
            *hello_seen = 1;
        } else if (dw_wire_apply(a->m, type, p, n, &err) < 0) {
            snprintf(a->why, sizeof a->why, "%s", err.msg);
            return -1;
        }
        dw_buf_consume(&a->in, used);
    }
    if (f < 0) {
        snprintf(a->why, sizeof a->why, "the session sent a frame too long");
        return -1;
    }
    return 0;
}

static int forward(dw_attach *a)
{
    dw_monitor_drain(a->m->cmd_fd[0]);
    static dw_cmd c;
    while (dw_monitor_take(a->m, &c)) {
        dw_buf b = { 0 };
        dw_wire_cmd_full(&b, &c);
        size_t off = 0;
        while (!b.failed && off < b.len) {
            ssize_t w = send(a->fd, b.p + off, b.len - off, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                dw_buf_free(&b);
                return -1;
            }
            off += (size_t)w;
        }
        dw_buf_free(&b);
    }
    return 0;
}

static void *run(void *arg)
{
    dw_attach *a = arg;
    int hello_seen = 1;
    char name[64], desc[160];
    for (;;) {
        struct pollfd pf[3] = { { a->fd, POLLIN, 0 },
                                { a->m->cmd_fd[0], POLLIN, 0 },
                                { a->stop_fd[0], POLLIN, 0 } };
        if (poll(pf, 3, 1000) < 0 && errno != EINTR) break;
        if (pf[2].revents) return NULL; /* detached: leave the monitor as it is */
        if ((pf[1].revents & POLLIN) && forward(a) < 0) {
            snprintf(a->why, sizeof a->why, "the session closed the connection");
            break;
        }
        if (pf[0].revents) {
            int r;
            while ((r = fill(a)) > 0)
                if (frames(a, &hello_seen, name, desc) < 0) break;
            if (a->why[0]) break;
            if (r < 0) {                /* a safe shutdown sends its last status, mode SHUTDOWN, first */
                pthread_mutex_lock(&a->m->lock);
                a->broken = a->m->mode != DW_MODE_SHUTDOWN;
                pthread_mutex_unlock(&a->m->lock);
                snprintf(a->why, sizeof a->why, "%s", a->broken ?
                         "the connection broke without a safe shutdown: the session was killed or "
                         "crashed (its recording is on disk; dreamwatch recover completes it)" :
                         SAFE_END);
                break;
            }
        }
    }
    pthread_mutex_lock(&a->m->lock);
    a->m->finished = 1;
    snprintf(a->m->last_event, sizeof a->m->last_event, "%s",
             a->why[0] ? a->why : "connection lost");
    a->m->v_status++;
    pthread_mutex_unlock(&a->m->lock);
    dw_monitor_notify(a->m);
    return NULL;
}

/* The HELLO, read before the thread starts (5 s at most). */
static int hello(dw_attach *a, char *name, char *desc, dw_err *err)
{
    double end = dw_now_mono() + 5;
    int seen = 0;
    while (!seen) {
        struct pollfd p = { a->fd, POLLIN, 0 };
        int left = (int)((end - dw_now_mono()) * 1000);
        if (left <= 0 || poll(&p, 1, left) <= 0) {
            dw_err_set(err, "the session does not answer");
            return -1;
        }
        if (fill(a) < 0) {
            dw_err_set(err, "the session closed the connection (another user's session?)");
            return -1;
        }
        int type;
        const unsigned char *pl;
        size_t n, used;
        int f = dw_wire_next(a->in.p, a->in.len, &type, &pl, &n, &used);
        if (f < 0 || (f == 1 && type != DW_W_HELLO)) {
            dw_err_set(err, "the session speaks another protocol");
            return -1;
        }
        if (f == 1) {
            if (dw_wire_hello_check(pl, n, name, desc, err) < 0) return -1;
            dw_buf_consume(&a->in, used);
            seen = 1;
        }
    }
    return 0;
}

dw_attach *dw_attach_start(const char *path, dw_monitor *local, char *name, char *desc, dw_err *err)
{
    dw_attach *a = calloc(1, sizeof *a);
    if (!a) {
        dw_err_set(err, "out of memory");
        return NULL;
    }
    a->m = local;
    a->stop_fd[0] = a->stop_fd[1] = -1;
    local->attached = 1;
    if ((a->fd = dw_ctl_connect(path, err)) < 0) {
        free(a);
        return NULL;
    }
    if (pipe2(a->stop_fd, O_CLOEXEC) < 0 || hello(a, name, desc, err) < 0 ||
        pthread_create(&a->th, NULL, run, a) != 0) {
        if (!err->msg[0]) dw_err_set(err, "cannot start: %s", strerror(errno));
        dw_err e2 = *err;                            /* every message names the socket */
        dw_err_set(err, "%s: %s", path, e2.msg);
        close(a->fd);
        for (int i = 0; i < 2; i++)
            if (a->stop_fd[i] >= 0) close(a->stop_fd[i]);
        dw_buf_free(&a->in);
        free(a);
        return NULL;
    }
    return a;
}

void dw_attach_join(dw_attach *a)
{
    if (!a || a->joined) return;
    char c = 1;
    if (write(a->stop_fd[1], &c, 1) < 0) { /* an empty pipe: cannot fail */
    }
    pthread_join(a->th, NULL);
    a->joined = 1;
    /* stopped before it read the end of the connection, after the session's last status said
     * finished (only a safe shutdown sends that): that is how it ended */
    pthread_mutex_lock(&a->m->lock);
    if (!a->why[0] && a->m->finished)
        snprintf(a->why, sizeof a->why, "%s", SAFE_END);
    pthread_mutex_unlock(&a->m->lock);
}

void dw_attach_stop(dw_attach *a)
{
    if (!a) return;
    dw_attach_join(a);
    close(a->fd);
    close(a->stop_fd[0]);
    close(a->stop_fd[1]);
    dw_buf_free(&a->in);
    free(a);
}

const char *dw_attach_why(const dw_attach *a) { return a->why; }

int dw_attach_broken(const dw_attach *a) { return a->broken; }
