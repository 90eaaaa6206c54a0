/* The control socket server (net thread) and the client's connect. */
#include "net/control.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/paths.h"
#include "net/wire.h"

struct client {
    int fd;
    int fresh; /* nothing sent yet: send everything */
    dw_buf out, in;
    dw_cmd pending; /* a command the full queue refused: retried */
    int has_pending;
};

struct dw_ctl {
    int lfd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char name[64], desc[160];
    struct client cl[DW_CTL_CLIENTS];
};

static int sock_path(const char *name, char *out, size_t n, dw_err *err)
{
    char dir[DW_PATH_MAX];
    dw_path_runtime(dir, sizeof dir);
    if (dw_mkdirs(dir, err) < 0) return -1;
    struct stat st;
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
        (st.st_mode & 077)) {
        dw_err_set(err, "%s: the runtime folder must be ours and private (0700)", dir);
        return -1;
    }
    if ((size_t)snprintf(out, n, "%s/%s.sock", dir, name) >= n) {
        dw_err_set(err, "%s/%s.sock: path too long for a socket", dir, name);
        return -1;
    }
    return 0;
}

int dw_ctl_connect(const char *path, dw_err *err)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof a.sun_path) {
        dw_err_set(err, "%s: path too long", path);
        return -1;
    }
    strcpy(a.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        if (errno == ECONNREFUSED)       /* the socket file outlived its session */
            dw_err_set(err, "%s: no session is running behind it (left by one that was killed; a new "
                       "session of that name replaces it)", path);
        else
            dw_err_set(err, "%s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

dw_ctl *dw_ctl_open(const char *name, const char *desc, dw_err *err)
{
    dw_ctl *c = calloc(1, sizeof *c);
    if (!c) {
        dw_err_set(err, "control socket: out of memory");
        return NULL;
    }
    c->lfd = -1;
    for (int i = 0; i < DW_CTL_CLIENTS; i++) c->cl[i].fd = -1;
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->desc, sizeof c->desc, "%s", desc);
    if (sock_path(name, c->path, sizeof c->path, err) < 0) goto fail;
    int probe = dw_ctl_connect(c->path, NULL);
    if (probe >= 0) {
        close(probe);
        dw_err_set(err, "session %s is already running (%s)", name, c->path);
        goto fail;
    }
    unlink(c->path); /* a socket left by a session that died */
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    strcpy(a.sun_path, c->path);
    c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    mode_t old = umask(0177);
    int b = c->lfd < 0 ? -1 : bind(c->lfd, (struct sockaddr *)&a, sizeof a);
    umask(old);
    if (b < 0 || chmod(c->path, 0600) < 0 || listen(c->lfd, 4) < 0) {
        dw_err_set(err, "%s: cannot serve the control socket: %s", c->path, strerror(errno));
        goto fail;
    }
    return c;
fail:
    if (c->lfd >= 0) close(c->lfd);
    free(c);
    return NULL;
}

const char *dw_ctl_path(const dw_ctl *c) { return c->path; }

int dw_ctl_running(const char *name)
{
    char path[DW_PATH_MAX], dir[DW_PATH_MAX];
    dw_path_runtime(dir, sizeof dir);
    if ((size_t)snprintf(path, sizeof path, "%s/%s.sock", dir, name) >= sizeof path) return 0;
    int fd = dw_ctl_connect(path, NULL);
    if (fd < 0) return 0;
    close(fd);
    return 1;
}

int dw_ctl_clients(const dw_ctl *c)
{
    int k = 0;
    for (int i = 0; i < DW_CTL_CLIENTS; i++) k += c->cl[i].fd >= 0;
    return k;
}

int dw_ctl_pollfds(dw_ctl *c, struct pollfd *pf)
{
    int n = 0;
    pf[n++] = (struct pollfd){ c->lfd, POLLIN, 0 };
    for (int i = 0; i < DW_CTL_CLIENTS; i++) {
        struct client *k = &c->cl[i];
        short ev = k->has_pending ? 0 : POLLIN; /* a full queue: stop reading until it drains */
        if (k->out.len) ev |= POLLOUT;
        pf[n++] = (struct pollfd){ k->fd, ev, 0 };
    }
    return n;
}

static void drop(struct client *k)
{
    if (k->fd >= 0) close(k->fd);
    dw_buf_free(&k->out);
    dw_buf_free(&k->in);
    memset(k, 0, sizeof *k);
    k->fd = -1;
}

static void accept_one(dw_ctl *c)
{
    int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    struct ucred cr;
    socklen_t l = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0 || cr.uid != getuid()) {
        close(fd); /* another user: never served */
        return;
    }
    for (int i = 0; i < DW_CTL_CLIENTS; i++)
        if (c->cl[i].fd < 0) {
            c->cl[i].fd = fd;
            c->cl[i].fresh = 1;
            dw_wire_hello(&c->cl[i].out, c->name, c->desc);
            return;
        }
    close(fd); /* full */
}

static void post_pending(struct client *k, dw_monitor *m)
{
    if (k->has_pending && dw_monitor_post(m, k->pending.kind, k->pending.arg, k->pending.text) == 0)
        k->has_pending = 0;
}

/* Read and post every complete CMD frame; -1 drops the client. */
static int read_cmds(struct client *k, dw_monitor *m)
{
    unsigned char tmp[8192];
    ssize_t r = read(k->fd, tmp, sizeof tmp);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) return -1;
    if (r > 0) {
        if (k->in.len + (size_t)r > DW_TEXT_MAX + 64) return -1; /* no command is that long */
        size_t need = k->in.len + (size_t)r;
        if (need > k->in.cap) {
            unsigned char *p = realloc(k->in.p, need);
            if (!p) return -1;
            k->in.p = p;
            k->in.cap = need;
        }
        memcpy(k->in.p + k->in.len, tmp, (size_t)r);
        k->in.len = need;
    }
    int type;
    const unsigned char *pl;
    size_t plen, used;
    int f;
    while (!k->has_pending &&
           (f = dw_wire_next(k->in.p, k->in.len, &type, &pl, &plen, &used)) == 1) {
        if (type != DW_W_CMD || dw_wire_cmd_decode(pl, plen, &k->pending) < 0) return -1;
        k->has_pending = 1;
        post_pending(k, m);
        dw_buf_consume(&k->in, used);
    }
    return f < 0 ? -1 : 0;
}

static int flush(struct client *k)
{
    while (k->out.len) {
        ssize_t w = send(k->fd, k->out.p, k->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
        dw_buf_consume(&k->out, (size_t)w);
    }
    return 0;
}

void dw_ctl_io(dw_ctl *c, const struct pollfd *pf, int n, dw_monitor *m, const dw_snap *s)
{
    (void)s;
    if (n > 0 && (pf[0].revents & POLLIN)) accept_one(c);
    for (int i = 0; i < DW_CTL_CLIENTS && i + 1 < n; i++) {
        struct client *k = &c->cl[i];
        if (k->fd < 0 || pf[i + 1].fd != k->fd) continue;
        post_pending(k, m);
        short re = pf[i + 1].revents;
        if ((re & (POLLIN | POLLHUP | POLLERR)) && read_cmds(k, m) < 0) {
            drop(k);
            continue;
        }
        if ((re & POLLOUT) && flush(k) < 0) drop(k);
    }
}

void dw_ctl_send(dw_ctl *c, const dw_snap *s)
{
    for (int i = 0; i < DW_CTL_CLIENTS; i++) {
        struct client *k = &c->cl[i];
        if (k->fd < 0) continue;
        if (k->fresh) {
            if (s->n_ref) dw_wire_ref(&k->out, s);
            dw_wire_epochs(&k->out, s, 0);
            dw_wire_events(&k->out, s, 0);
            dw_wire_trace(&k->out, &s->v, 0);
            k->fresh = 0;
        } else {
            if (s->ref_changed) dw_wire_ref(&k->out, s);
            if (s->epochs_from < s->n_epochs || s->epochs_reset)
                dw_wire_epochs(&k->out, s, s->epochs_from);
            if (s->ev_from < s->n_ev)
                dw_wire_events(&k->out, s, s->ev_from);
            dw_wire_trace(&k->out, &s->v, s->trace_from);
        }
        dw_wire_snap(&k->out, &s->v);
        if (k->out.failed || k->out.len > DW_CTL_BACKLOG || flush(k) < 0)
            drop(k); /* a client that cannot keep up is let go */
    }
}

void dw_ctl_close(dw_ctl *c, double timeout_s)
{
    if (!c) return;
    double end = dw_now_mono() + timeout_s;
    for (int i = 0; i < DW_CTL_CLIENTS; i++) {
        struct client *k = &c->cl[i];
        while (k->fd >= 0 && k->out.len && dw_now_mono() < end) {
            struct pollfd p = { k->fd, POLLOUT, 0 };
            if (poll(&p, 1, 50) < 0 || flush(k) < 0) break;
        }
        drop(k);
    }
    if (c->lfd >= 0) close(c->lfd);
    unlink(c->path);
    free(c);
}

static int list_sessions(const char *dir, char names[][64], int max)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        size_t l = strlen(e->d_name);
        if (l < 6 || l - 5 >= 64 || strcmp(e->d_name + l - 5, ".sock")) continue;
        char p[DW_PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        int fd = dw_ctl_connect(p, NULL);
        if (fd < 0) continue; /* a dead session's socket */
        close(fd);
        snprintf(names[n++], 64, "%.*s", (int)(l - 5), e->d_name);
    }
    closedir(d);
    return n;
}

int dw_ctl_find(const char *name, char *path, size_t n, FILE *f, dw_err *err)
{
    char dir[DW_PATH_MAX];
    dw_path_runtime(dir, sizeof dir);
    if (name && *name) {
        if (strchr(name, '/') || (size_t)snprintf(path, n, "%s/%s.sock", dir, name) >= n) {
            dw_err_set(err, "session \"%s\": not a session name", name);
            return -1;
        }
        struct stat st;
        if (stat(path, &st) == 0 || errno != ENOENT)
            return 0;
        char names[32][64], list[400] = "";
        int k = list_sessions(dir, names, 32);
        for (int i = 0; i < k && strlen(list) + 70 < sizeof list; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", names[i]);
        if (k == 0)
            dw_err_set(err, "no session named \"%s\" is running, nor any other (none in %s)", name, dir);
        else
            dw_err_set(err, "no session named \"%s\" is running; running: %s (`dreamwatch attach` with no name "
                       "lists them)", name, list);
        return -1;
    }
    char names[32][64];
    int k = list_sessions(dir, names, 32);
    if (k == 1) {
        snprintf(path, n, "%s/%s.sock", dir, names[0]);
        return 0;
    }
    if (k == 0) {
        dw_err_set(
            err, "no running session to attach to (none in %s); start one with `dreamwatch record`",
            dir);
        return -1;
    }
    fprintf(f, "running sessions (dreamwatch attach NAME):\n");
    for (int i = 0; i < k; i++) fprintf(f, "  %s\n", names[i]);
    dw_err_set(err, "%d sessions are running: name one", k);
    return -1;
}
