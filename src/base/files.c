/* Files in and out: inputs opened without blocking and remembered; outputs written under a temporary
 * name and renamed into place, never over an input, never over anything unless asked. See files.h. */
#include "base/files.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_INPUTS 64

static struct { dev_t dev; ino_t ino; } inputs[MAX_INPUTS];
static int ninputs;

static int remember(const struct stat *st)
{
    if (dw_input_is(st))
        return 0;
    if (ninputs == MAX_INPUTS)
        return -1;
    inputs[ninputs].dev = st->st_dev;
    inputs[ninputs].ino = st->st_ino;
    ninputs++;
    return 0;
}

int dw_input_is(const struct stat *st)
{
    for (int i = 0; i < ninputs; i++)
        if (inputs[i].dev == st->st_dev && inputs[i].ino == st->st_ino)
            return 1;
    return 0;
}

int dw_input_note(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return 0;
    return remember(&st);
}

static const char *file_kind(mode_t m)
{
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO (named pipe)" : S_ISSOCK(m) ? "a socket"
         : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" : "not a regular file";
}

/* Opens path without blocking and checks what it is: a regular file (O_NONBLOCK cleared), or with
 * pipe_ok an anonymous pipe (a shell's <(...)). -1 with err otherwise. */
static int input_open(const char *path, const char *what, int pipe_ok, dw_err *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        dw_err_set(err, "%s: cannot open%s%s: %s", path, what ? " the " : "", what ? what : "", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        dw_err_set(err, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (S_ISFIFO(st.st_mode) && pipe_ok && dw_fd_is_anon_pipe(fd))
        return fd;                                     /* the caller reads it with a deadline */
    if (!S_ISREG(st.st_mode)) {
        dw_err_set(err, "%s: %s%s%s: expected a regular file", path, file_kind(st.st_mode),
                   what ? " given as the " : "", what ? what : "");
        close(fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    remember(&st);
    return fd;
}

int dw_fd_is_anon_pipe(int fd)
{
    char link[64], target[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0)
        return 0;
    target[n] = 0;
    return !strncmp(target, "pipe:[", 6);
}

int dw_input_open(const char *path, const char *what, dw_err *err)
{
    return input_open(path, what, 0, err);
}

FILE *dw_input_fopen(const char *path, const char *what, dw_err *err)
{
    int fd = input_open(path, what, 0, err);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        dw_err_set(err, "%s: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

int dw_input_read_all(const char *path, const char *what, size_t max, double wait_s, char **data,
                      size_t *len, dw_err *err)
{
    *data = NULL;
    *len = 0;
    int fd = input_open(path, what, 1, err);
    if (fd < 0)
        return -1;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    double end = dw_now_mono() + wait_s;
    int rc = buf ? 0 : -1;
    if (!buf)
        dw_err_set(err, "%s: out of memory", path);
    while (!rc) {
        if (n == cap) {
            char *b = cap >= max ? NULL : realloc(buf, (cap = 2 * cap > max ? max : 2 * cap) + 1);
            if (!b) {
                dw_err_set(err, "%s: larger than %zu bytes: not a%s%s", path, max, what ? " " : " text file",
                           what ? what : "");
                rc = -1;
                break;
            }
            buf = b;
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got > 0) {
            n += (size_t)got;
            continue;
        }
        if (got == 0)
            break;
        if (errno == EINTR)
            continue;
        int left = (int)((end - dw_now_mono()) * 1e3);
        if (errno != EAGAIN || left <= 0) {
            dw_err_set(err, "%s: %s", path, errno == EAGAIN ? "the pipe sent no end of file in time"
                                                             : strerror(errno));
            rc = -1;
            break;
        }
        struct pollfd pf = { fd, POLLIN, 0 };
        poll(&pf, 1, left);
    }
    close(fd);
    if (rc) {
        free(buf);
        return -1;
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return 0;
}

int dw_out_check(const char *path, int force, dw_err *err)
{
    struct stat st, lst;
    if (lstat(path, &lst) < 0) {
        if (errno == ENOENT) {      /* the folder it goes in must exist and take a new file */
            char d[PATH_MAX];
            snprintf(d, sizeof d, "%s", path);
            const char *dir = dirname(d);
            if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
                dw_err_set(err, "%s: the folder %s does not exist (create it first)", path, dir);
                return -1;
            }
            if (access(dir, W_OK | X_OK) < 0) {
                dw_err_set(err, "%s: cannot create files in %s: %s", path, dir, strerror(errno));
                return -1;
            }
            return 0;
        }
        dw_err_set(err, "%s: cannot write here: %s", path, strerror(errno));
        return -1;
    }
    if ((stat(path, &st) == 0 && dw_input_is(&st)) || dw_input_is(&lst)) {
        dw_err_set(err, "%s: refusing to write over an input of this command; choose another output name",
                   path);
        return -1;
    }
    if (S_ISDIR(lst.st_mode)) {
        dw_err_set(err, "%s: is a directory", path);
        return -1;
    }
    if (!force) {
        dw_err_set(err, "%s: already exists; not replaced (use --force to replace it)", path);
        return DW_OUT_TAKEN;
    }
    return 0;
}

int dw_out_begin(dw_out *o, const char *path, int force, dw_err *err)
{
    memset(o, 0, sizeof *o);
    o->fd = -1;
    o->force = force;
    if (!path[0] || snprintf(o->path, sizeof o->path, "%s", path) >= (int)sizeof o->path) {
        dw_err_set(err, "%s: output name empty or too long", path);
        return -1;
    }
    int taken = dw_out_check(path, force, err);
    if (taken < 0)
        return taken;
    char d[PATH_MAX], b[PATH_MAX];
    snprintf(d, sizeof d, "%s", path);
    snprintf(b, sizeof b, "%s", path);
    const char *dir = dirname(d), *base = basename(b);
    if (snprintf(o->tmp, sizeof o->tmp, "%s/.%s.XXXXXX", dir, base) >= (int)sizeof o->tmp) {
        dw_err_set(err, "%s: output name too long", path);
        return -1;
    }
    o->fd = mkostemp(o->tmp, O_CLOEXEC);
    if (o->fd < 0) {
        dw_err_set(err, "%s: cannot create a temporary file in %s: %s", path, dir, strerror(errno));
        o->tmp[0] = 0;
        return -1;
    }
    fchmod(o->fd, 0600);
    snprintf(o->fdpath, sizeof o->fdpath, "/proc/self/fd/%d", o->fd);
    return 0;
}

static void sync_dir(const char *path)
{
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s", path);
    int fd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int dw_out_commit(dw_out *o, dw_err *err)
{
    if (o->fd < 0) {
        dw_err_set(err, "%s: nothing to commit", o->path);
        return -1;
    }
    if (fsync(o->fd) < 0 && errno != EINVAL) {
        dw_err_set(err, "%s: cannot write: %s", o->path, strerror(errno));
        dw_out_abort(o);
        return -1;
    }
    close(o->fd);
    o->fd = -1;
    int taken = dw_out_check(o->path, o->force, err);
    if (taken < 0) {                                      /* something appeared meanwhile */
        dw_out_abort(o);
        return taken;
    }
    int r;
    if (o->force) {
        r = rename(o->tmp, o->path);
    } else {
        r = renameat2(AT_FDCWD, o->tmp, AT_FDCWD, o->path, RENAME_NOREPLACE);
        if (r < 0 && (errno == EINVAL || errno == ENOSYS)) {   /* a file system without it: link, unlink */
            r = link(o->tmp, o->path);
            if (r == 0)
                unlink(o->tmp);
        }
    }
    if (r < 0) {
        int e = errno;
        dw_err_set(err, "%s: cannot put the finished file in place: %s", o->path,
                   e == EEXIST ? "a file of that name appeared meanwhile" : strerror(e));
        dw_out_abort(o);
        return e == EEXIST ? DW_OUT_TAKEN : -1;
    }
    o->tmp[0] = 0;
    sync_dir(o->path);
    return 0;
}

void dw_out_abort(dw_out *o)
{
    if (o->fd >= 0)
        close(o->fd);
    o->fd = -1;
    if (o->tmp[0])
        unlink(o->tmp);
    o->tmp[0] = 0;
}

int dw_create_unique(const char *stem, const char *suffix, char *out, size_t cap, dw_err *err)
{
    for (int k = 1; k < 1000; k++) {
        char num[8] = "";
        if (k > 1)
            snprintf(num, sizeof num, "-%d", k);
        if (snprintf(out, cap, "%s%s%s", stem, num, suffix) >= (int)cap) {
            dw_err_set(err, "%s%s: name too long", stem, suffix);
            return -1;
        }
        int fd = open(out, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            fchmod(fd, 0600);
            return fd;
        }
        if (errno != EEXIST) {
            dw_err_set(err, "%s: cannot create: %s", out, strerror(errno));
            return -1;
        }
    }
    dw_err_set(err, "%s%s: 999 files of that name exist already", stem, suffix);
    return -1;
}

void dw_outputs_add(dw_outputs *o, const char *role, const char *path)
{
    if (!o || !path || !path[0])
        return;
    for (int i = 0; i < o->n; i++)
        if (!strcmp(o->v[i].path, path))
            return;
    if (o->n == o->cap) {
        o->cap = o->cap ? 2 * o->cap : 8;
        o->v = dw_xrealloc(o->v, (size_t)o->cap * sizeof *o->v, "the list of files written");
    }
    dw_output *e = &o->v[o->n++];
    snprintf(e->role, sizeof e->role, "%s", role);
    snprintf(e->path, sizeof e->path, "%s", path);
}

void dw_outputs_free(dw_outputs *o)
{
    if (!o)
        return;
    free(o->v);
    o->v = NULL;
    o->n = o->cap = 0;
}
