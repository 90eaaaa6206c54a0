/* Actuators: none, bell, serial trigger byte, command (posix_spawn of a resolved path, no shell). */
#include "session/actuator.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define MAX_CHILDREN 4        /* commands may overlap (a slow stimulus command inside a train) */
#define KILL_GRACE_S 1.0      /* SIGTERM, then SIGKILL this much later */
#define MAX_ARGS 64

struct child { pid_t pid; double start, term_at; int timed_out; };

struct act_ops {
    const char *kind;
    int  (*fire)(dw_actuator *a, double now, const char *const *args, int nargs, dw_err *err);
};

struct dw_actuator {
    const struct act_ops *ops;
    char name[32];
    dw_actuator_spec spec;
    char command[512];
    char serial_path[1024];
    int fd;
    struct child child[MAX_CHILDREN];
    const dw_act_vars *vars;               /* for the fire in progress */
};

static int fire_none(dw_actuator *a, double now, const char *const *args, int nargs, dw_err *err)
{
    (void)a; (void)now; (void)args; (void)nargs; (void)err;
    return 0;
}

static int fire_bell(dw_actuator *a, double now, const char *const *args, int nargs, dw_err *err)
{
    (void)now; (void)args; (void)nargs; (void)err;
    if (a->spec.bell) {
        a->spec.bell(a->spec.bell_ctx);
    } else {
        ssize_t r = write(STDERR_FILENO, "\a", 1);
        (void)r;
    }
    return 0;
}

/* The port is opened on first use and again after a failure (a trigger box unplugged and back). */
static int fire_serial(dw_actuator *a, double now, const char *const *args, int nargs, dw_err *err)
{
    (void)now; (void)args; (void)nargs;
    if (a->fd < 0) {
        a->fd = open(a->serial_path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (a->fd < 0) {
            dw_err_set(err, "%s: cannot open trigger port %s: %s", a->name, a->serial_path, strerror(errno));
            return -1;
        }
    }
    unsigned char b = (unsigned char)a->spec.byte;
    ssize_t r = write(a->fd, &b, 1);
    if (r != 1) {
        dw_err_set(err, "%s: trigger byte to %s: %s", a->name, a->serial_path, r < 0 ? strerror(errno) : "not written");
        close(a->fd);
        a->fd = -1;
        return -1;
    }
    return 0;
}

int dw_cmdline_split(const char *line, char *buf, size_t bufsize, char **argv, int max)
{
    snprintf(buf, bufsize, "%s", line);
    int n = 0;
    char *save = NULL;
    for (char *w = strtok_r(buf, " \t\r\n", &save); w && n < max - 1; w = strtok_r(NULL, " \t\r\n", &save))
        argv[n++] = w;
    argv[n] = NULL;
    return n;
}

static int executable(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

int dw_path_resolve(const char *name, char *out, size_t n)
{
    if (strchr(name, '/')) {
        snprintf(out, n, "%s", name);
        return executable(out) ? 0 : -1;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        if (len > 0 && (size_t)snprintf(out, n, "%.*s/%s", (int)len, path, name) < n && executable(out))
            return 0;
        path += len + (end ? 1 : 0);
    }
    return -1;
}

/* Replace {volume} and {item} inside the words (into out), append the item when no word asked for
 * it. -1 when out is too small. */
static int expand(const dw_act_vars *v, char **argv, int *argc, char *out, size_t cap)
{
    if (!v)
        return 0;
    char vol[32];
    snprintf(vol, sizeof vol, "%g", v->volume);
    int used_item = 0;
    size_t o = 0;
    for (int i = 0; i < *argc; i++) {
        if (!strstr(argv[i], "{volume}") && !strstr(argv[i], "{item}"))
            continue;
        char *start = out + o;
        for (const char *p = argv[i]; *p;) {
            const char *put = NULL;
            size_t skip = 1;
            if (!strncmp(p, "{volume}", 8) && !isnan(v->volume))
                put = vol, skip = 8;
            else if (!strncmp(p, "{item}", 6) && v->item)
                put = v->item, skip = 6, used_item = 1;
            size_t len = put ? strlen(put) : 1;
            if (o + len + 1 >= cap)
                return -1;
            memcpy(out + o, put ? put : p, len);
            o += len;
            p += skip;
        }
        out[o++] = 0;
        argv[i] = start;
    }
    if (v->item && !used_item && *argc < MAX_ARGS) {
        argv[(*argc)++] = (char *)v->item;
        argv[*argc] = NULL;
    }
    return 0;
}

/* The child gets /dev/null for stdio, its own process group (so a timeout kills its children too),
 * default signal dispositions and an empty mask (the worker blocks SIGINT/SIGTERM). */
static int fire_command(dw_actuator *a, double now, const char *const *args, int nargs, dw_err *err)
{
    int slot = -1;
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (a->child[i].pid == 0) { slot = i; break; }
    if (slot < 0) {
        dw_err_set(err, "%s: %d commands still running", a->name, MAX_CHILDREN);
        return -1;
    }
    char buf[600], exe[1024], words[2048];
    char *argv[MAX_ARGS + 2];
    int argc = dw_cmdline_split(a->command, buf, sizeof buf, argv, MAX_ARGS);
    if (argc == 0) {
        dw_err_set(err, "%s: empty command", a->name);
        return -1;
    }
    if (expand(a->vars, argv, &argc, words, sizeof words) < 0) {
        dw_err_set(err, "%s: the command line is too long with {volume} and {item} filled in",
                   a->name);
        return -1;
    }
    for (int i = 0; i < nargs && argc < MAX_ARGS; i++)      /* whole words: never split, never a shell */
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    if (dw_path_resolve(argv[0], exe, sizeof exe) < 0) {
        dw_err_set(err, "%s: command not found or not executable: %s", a->name, argv[0]);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&fa);
    for (int fd = 0; fd <= 2; fd++)
        posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    pid_t pid;
    int r = posix_spawn(&pid, exe, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (r != 0) {
        dw_err_set(err, "%s: cannot run %s: %s", a->name, exe, strerror(r));
        return -1;
    }
    a->child[slot] = (struct child){ .pid = pid, .start = now, .term_at = 0, .timed_out = 0 };
    return 0;
}

static const struct act_ops kinds[] = {
    { "none", fire_none },
    { "bell", fire_bell },
    { "serial", fire_serial },
    { "command", fire_command },
};

dw_actuator *dw_actuator_new(const char *name, const dw_actuator_spec *spec, dw_err *err)
{
    const struct act_ops *ops = NULL;
    const char *kind = spec->kind && *spec->kind ? spec->kind : "none";
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kind, kinds[i].kind))
            ops = &kinds[i];
    if (!ops) {
        dw_err_set(err, "%s actuator: unknown kind \"%s\" (none, bell, command, serial)", name, kind);
        return NULL;
    }
    if (ops->fire == fire_command && (!spec->command || !spec->command[strspn(spec->command, " \t\r\n")])) {
        dw_err_set(err, "%s actuator: kind \"command\" needs a command line", name);
        return NULL;
    }
    if (ops->fire == fire_serial && (!spec->serial_path || !*spec->serial_path)) {
        dw_err_set(err, "%s actuator: kind \"serial\" needs [actuators] trigger_serial", name);
        return NULL;
    }
    dw_actuator *a = calloc(1, sizeof *a);
    if (!a) {
        dw_err_set(err, "out of memory");
        return NULL;
    }
    a->ops = ops;
    a->spec = *spec;
    a->fd = -1;
    snprintf(a->name, sizeof a->name, "%s", name);
    snprintf(a->command, sizeof a->command, "%s", spec->command ? spec->command : "");
    snprintf(a->serial_path, sizeof a->serial_path, "%s", spec->serial_path ? spec->serial_path : "");
    a->spec.command = a->command;
    a->spec.serial_path = a->serial_path;
    return a;
}

const char *dw_actuator_name(const dw_actuator *a) { return a->name; }
const char *dw_actuator_kind(const dw_actuator *a) { return a->ops->kind; }

int dw_actuator_fire_vars(dw_actuator *a, double now, int attempt, const dw_act_vars *v,
                          dw_err *err)
{
    a->vars = v;
    int r = dw_actuator_fire(a, now, attempt, err);
    a->vars = NULL;
    return r;
}

int dw_actuator_fire(dw_actuator *a, double now, int attempt, dw_err *err)
{
    char num[16];
    const char *arg[1] = { num };
    snprintf(num, sizeof num, "%d", attempt);
    return a->ops->fire(a, now, arg, a->spec.pass_attempt ? 1 : 0, err);
}

int dw_actuator_fire_args(dw_actuator *a, double now, const char *const *args, int nargs, dw_err *err)
{
    return a->ops->fire(a, now, args, nargs, err);
}

int dw_actuator_poll(dw_actuator *a, double now, dw_err *err)
{
    int running = 0;
    for (int i = 0; i < MAX_CHILDREN; i++) {
        struct child *c = &a->child[i];
        if (c->pid == 0)
            continue;
        int st;
        pid_t r = waitpid(c->pid, &st, WNOHANG);
        if (r == c->pid || (r < 0 && errno == ECHILD)) {
            int timed_out = c->timed_out;
            c->pid = 0;
            if (timed_out)
                continue;              /* already reported when the timeout struck */
            if (r > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
                return DW_ACT_DONE;
            if (r < 0)
                dw_err_set(err, "%s: command vanished", a->name);
            else if (WIFEXITED(st))
                dw_err_set(err, "%s: command exited with status %d", a->name, WEXITSTATUS(st));
            else
                dw_err_set(err, "%s: command killed by signal %d", a->name, WTERMSIG(st));
            return DW_ACT_FAILED;
        }
        running = 1;
        if (!c->timed_out && now - c->start >= a->spec.timeout_s) {
            kill(-c->pid, SIGTERM);
            c->timed_out = 1;
            c->term_at = now;
            dw_err_set(err, "%s: command still running after %g s, killed", a->name, a->spec.timeout_s);
            return DW_ACT_FAILED;
        }
        if (c->timed_out && now - c->term_at >= KILL_GRACE_S)
            kill(-c->pid, SIGKILL);
    }
    return running ? DW_ACT_RUNNING : DW_ACT_IDLE;
}

void dw_actuator_stop(dw_actuator *a, double now)
{
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (a->child[i].pid > 0 && !a->child[i].timed_out) {
            kill(-a->child[i].pid, SIGTERM);
            a->child[i].timed_out = 1;      /* a stopped command is not a failure */
            a->child[i].term_at = now;
        }
}

void dw_actuator_free(dw_actuator *a)
{
    if (!a)
        return;
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (a->child[i].pid > 0) {
            kill(-a->child[i].pid, SIGKILL);
            waitpid(a->child[i].pid, NULL, 0);
        }
    if (a->fd >= 0)
        close(a->fd);
    free(a);
}
