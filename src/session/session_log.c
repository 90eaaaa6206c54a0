/* The session log: a flushed TSV of every event, created 0600 (health data). */
#include "session/session.h"
#include "base/files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct dw_session_log {
    FILE *f;
    char path[1024];
};

static dw_session_log *log_from_fd(int fd, const char *path, dw_err *err)
{
    dw_session_log *l = calloc(1, sizeof *l);
    FILE *f = l ? fdopen(fd, "a") : NULL;
    if (!f) {
        dw_err_set(err, "%s: %s", path, strerror(errno ? errno : ENOMEM));
        close(fd);
        free(l);
        return NULL;
    }
    l->f = f;
    snprintf(l->path, sizeof l->path, "%s", path);
    fputs("t_s\tclock\tkind\ttext\n", f);
    fflush(f);
    return l;
}

dw_session_log *dw_session_log_open(const char *path, dw_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        dw_err_set(err, "%s: cannot create the session log: %s", path, strerror(errno));
        return NULL;
    }
    fchmod(fd, 0600);
    return log_from_fd(fd, path, err);
}

dw_session_log *dw_session_log_create(const char *stem, char *path, size_t cap, dw_err *err)
{
    int fd = dw_create_unique(stem, ".session.tsv", path, cap, err);
    return fd < 0 ? NULL : log_from_fd(fd, path, err);
}

int dw_session_log_write(dw_session_log *l, double t, double wall, const char *kind, const char *text)
{
    if (!l)
        return 0;
    char clock[40] = "-";
    if (wall > 0) {
        time_t w = (time_t)wall;
        struct tm tm;
        localtime_r(&w, &tm);
        size_t k = strftime(clock, sizeof clock, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(clock + k, sizeof clock - k, ".%03d", (int)((wall - (double)w) * 1000));
    }
    fprintf(l->f, "%.3f\t%s\t%s\t", t, clock, kind);
    for (const char *p = text ? text : ""; *p; p++) {
        switch (*p) {
        case '\n': fputs("\\n", l->f); break;
        case '\t': fputs("\\t", l->f); break;
        case '\r': fputs("\\r", l->f); break;
        case '\\': fputs("\\\\", l->f); break;
        default: fputc(*p, l->f);
        }
    }
    fputc('\n', l->f);
    return fflush(l->f) == 0 && !ferror(l->f) ? 0 : -1;
}

void dw_session_log_close(dw_session_log *l)
{
    if (!l)
        return;
    fclose(l->f);
    free(l);
}
