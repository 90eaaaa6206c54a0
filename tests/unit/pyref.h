/* Reference values computed at test time by /usr/bin/python3 (Debian's numpy/scipy): the test writes
 * its input to a private temp file, runs a short script with execv (no shell) and reads the numbers
 * it prints. Tests SKIP when the interpreter or a module is missing. */
#ifndef DW_PYREF_H
#define DW_PYREF_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PYREF_PYTHON "/usr/bin/python3"

/* Runs python3 -c script arg...; returns its exit status (-1 if it could not run) and its stdout
 * as a malloc'd string in *out. */
static inline int pyref_run(const char *script, const char *const *args, size_t nargs, char **out)
{
    *out = NULL;
    if (access(PYREF_PYTHON, X_OK) != 0)
        return -1;
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    const char *argv[16] = { "python3", "-c", script };
    size_t argc = 3;
    for (size_t i = 0; i < nargs && argc < 15; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execv(PYREF_PYTHON, (char *const *)argv);
        _exit(127);
    }
    close(fd[1]);
    size_t len = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    for (;;) {
        if (buf && len + 4096 > cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) { free(buf); buf = NULL; }
            else buf = nb;
        }
        char sink[4096];
        ssize_t r = read(fd[0], buf ? buf + len : sink, 4096);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (buf)
            len += (size_t)r;
    }
    close(fd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (buf)
        buf[len] = 0;
    *out = buf;
    return buf && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* 1 if python3 can import every module named in the space-separated list. */
static inline int pyref_have(const char *modules)
{
    char script[256];
    snprintf(script, sizeof script, "import sys\nfor m in sys.argv[1].split(): __import__(m)");
    const char *args[] = { modules };
    char *out;
    int rc = pyref_run(script, args, 1, &out);
    free(out);
    return rc == 0;
}

/* Writes x[0..n) one per line with full precision to a new mode-0600 temp file; path in path[64]. */
static inline int pyref_write(const double *x, size_t n, char path[64])
{
    snprintf(path, 64, "/tmp/dw-pyref-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(path);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%.17g\n", x[i]);
    if (fclose(f) != 0) {
        unlink(path);
        return -1;
    }
    return 0;
}

/* Writes x[0..n) (and x2[0..n2) if x2) to temp files and runs the script with the file names, then arg,
 * as arguments. Returns its stdout (free it) or NULL with the reason in why[256]. */
static inline char *pyref_compute(const char *script, const double *x, size_t n, const double *x2, size_t n2,
                                  const char *arg, char *why)
{
    char p1[64], p2[64] = "";
    if (pyref_write(x, n, p1) != 0 || (x2 && pyref_write(x2, n2, p2) != 0)) {
        snprintf(why, 256, "cannot write a temp file in /tmp");
        if (x2) unlink(p1);
        return NULL;
    }
    const char *args[] = { p1, x2 ? p2 : arg, arg };
    char *out;
    int rc = pyref_run(script, args, x2 ? 3 : 2, &out);
    unlink(p1);
    if (x2)
        unlink(p2);
    if (rc != 0) {
        snprintf(why, 256, "%s exited %d", PYREF_PYTHON, rc);
        free(out);
        return NULL;
    }
    return out;
}

/* Parses up to cap numbers from the line starting at s; returns how many. */
static inline size_t pyref_parse(const char *s, double *v, size_t cap)
{
    size_t n = 0;
    char *end;
    while (s && n < cap) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '\n' || !*s)
            break;
        double d = strtod(s, &end);
        if (end == s)
            break;
        v[n++] = d;
        s = end;
    }
    return n;
}

/* Reads a one-value-per-line text file; returns how many values (at most cap), 0 on error. */
static inline size_t pyref_load(const char *path, double *v, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = 0;
    while (n < cap && fscanf(f, "%lf", &v[n]) == 1)
        n++;
    fclose(f);
    return n;
}

#endif
