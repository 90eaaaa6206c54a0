/* Actuators: real commands (success, failure, missing, hanging past the timeout), a real pty for the
 * serial trigger, the bell callback; and through the session, failures becoming actuator_failed alerts. */
#include "tap.h"

#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "session/actuator.h"
#include "base/dw.h"
#include "session/session.h"
#include "app/config.h"

static int bells;
static void bell(void *ctx) { (void)ctx; bells++; }

/* Poll with the real clock until the actuator stops reporting RUNNING (at most limit_s). */
static int wait_status(dw_actuator *a, double limit_s, dw_err *err)
{
    double t0 = dw_now_wall();
    for (;;) {
        int r = dw_actuator_poll(a, dw_now_wall(), err);
        if (r != DW_ACT_RUNNING || dw_now_wall() - t0 > limit_s)
            return r;
        usleep(10000);
    }
}

static dw_actuator *command(const char *cmd, double timeout, int pass_attempt)
{
    dw_err err = { 0 };
    dw_actuator_spec sp = { .kind = "command", .command = cmd, .timeout_s = timeout, .pass_attempt = pass_attempt };
    dw_actuator *a = dw_actuator_new("test", &sp, &err);
    if (!a)
        printf("# %s\n", err.msg);
    return a;
}

static void test_commands(void)
{
    dw_err err = { 0 };
    char path[1024];
    CHECK("path_resolve_true", dw_path_resolve("true", path, sizeof path) == 0 && strchr(path, '/'), "got %s", path);
    CHECK("path_resolve_missing", dw_path_resolve("no-such-program-dw", path, sizeof path) < 0, "resolved %s", path);

    dw_actuator *a = command("true", 5, 0);
    CHECK("command_true_starts", a && dw_actuator_fire(a, dw_now_wall(), 1, &err) == 0, "%s", err.msg);
    CHECK("command_true_done", a && wait_status(a, 5, &err) == DW_ACT_DONE, "%s", err.msg);
    CHECK("command_true_idle", a && dw_actuator_poll(a, dw_now_wall(), &err) == DW_ACT_IDLE, "not idle");
    dw_actuator_free(a);

    a = command("false", 5, 0);
    err.msg[0] = 0;
    int started = a && dw_actuator_fire(a, dw_now_wall(), 1, &err) == 0;
    int r = a ? wait_status(a, 5, &err) : -1;
    CHECK("command_false_fails", started && r == DW_ACT_FAILED && strstr(err.msg, "status 1"), "r=%d %s", r, err.msg);
    dw_actuator_free(a);

    a = command("/nonexistent/dw-stim --loud", 5, 0);
    err.msg[0] = 0;
    r = a ? dw_actuator_fire(a, dw_now_wall(), 1, &err) : 0;
    CHECK("command_missing_fails_at_once", r == -1 && strstr(err.msg, "/nonexistent/dw-stim"), "r=%d %s", r, err.msg);
    dw_actuator_free(a);

    /* A hanging command: killed at the timeout, reported once, then reaped. Fake wall times drive it. */
    a = command("/bin/sleep 100", 2, 0);
    double w0 = 1000;
    started = a && dw_actuator_fire(a, w0, 1, &err) == 0;
    int before = a ? dw_actuator_poll(a, w0 + 1.9, &err) : -1;
    err.msg[0] = 0;
    int at = a ? dw_actuator_poll(a, w0 + 2.0, &err) : -1;
    CHECK("command_hang_running_before_timeout", started && before == DW_ACT_RUNNING, "before=%d", before);
    CHECK("command_hang_killed_at_timeout", at == DW_ACT_FAILED && strstr(err.msg, "killed"), "at=%d %s", at, err.msg);
    int after = DW_ACT_RUNNING;
    for (int i = 0; i < 300 && after == DW_ACT_RUNNING; i++) {
        usleep(10000);
        after = dw_actuator_poll(a, w0 + 2.1, &err);
    }
    CHECK("command_hang_reaped_once", after == DW_ACT_IDLE, "after=%d", after);
    dw_actuator_free(a);

    /* A command that ignores SIGTERM gets SIGKILL one second later. */
    char script[] = "/tmp/dw-act-XXXXXX";
    int fd = mkstemp(script);
    const char *body = "#!/bin/sh\ntrap '' TERM\nsleep 100 &\nwait\nwait\n";
    r = fd >= 0 && write(fd, body, strlen(body)) == (ssize_t)strlen(body);
    if (fd >= 0) { fchmod(fd, 0700); close(fd); }
    a = r ? command(script, 1, 0) : NULL;
    started = a && dw_actuator_fire(a, w0, 1, &err) == 0;
    usleep(100000);                         /* let the shell install its trap */
    at = a ? dw_actuator_poll(a, w0 + 1, &err) : -1;
    after = DW_ACT_RUNNING;
    for (int i = 0; i < 300 && after == DW_ACT_RUNNING; i++) {
        usleep(10000);
        after = dw_actuator_poll(a, w0 + 2.5, &err);
    }
    CHECK("command_ignoring_term_killed", started && at == DW_ACT_FAILED && after == DW_ACT_IDLE, "at=%d after=%d",
          at, after);
    dw_actuator_free(a);

    /* Rising intensity: the attempt number is the last argument; no shell parses the words. */
    char out[] = "/tmp/dw-act-out-XXXXXX";
    fd = mkstemp(out);
    if (fd >= 0) close(fd);
    const char *echo = "#!/bin/sh\nprintf '%s|' \"$@\" > \"$1\"\n";
    fd = open(script, O_WRONLY | O_TRUNC);
    r = fd >= 0 && write(fd, echo, strlen(echo)) == (ssize_t)strlen(echo);
    if (fd >= 0) close(fd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "%s %s $HOME;x", script, out);
    a = r ? command(cmd, 5, 1) : NULL;
    started = a && dw_actuator_fire(a, dw_now_wall(), 3, &err) == 0;
    r = a ? wait_status(a, 5, &err) : -1;
    char got[256] = "";
    FILE *f = fopen(out, "r");
    if (f) { if (!fgets(got, sizeof got, f)) got[0] = 0; fclose(f); }
    char want[300];
    snprintf(want, sizeof want, "%s|$HOME;x|3|", out);
    CHECK("command_gets_attempt_no_shell", started && r == DW_ACT_DONE && !strcmp(got, want), "got '%s' want '%s'",
          got, want);
    dw_actuator_free(a);
    unlink(out);
    unlink(script);

    dw_actuator_spec bad = { .kind = "command", .command = "   " };
    CHECK("command_empty_rejected", !dw_actuator_new("stimulus", &bad, &err) && strstr(err.msg, "command line"), "%s",
          err.msg);
    dw_actuator_spec odd = { .kind = "trumpet" };
    CHECK("kind_unknown_rejected", !dw_actuator_new("stimulus", &odd, &err) && strstr(err.msg, "trumpet"), "%s",
          err.msg);
}

static void test_serial_bell(void)
{
    dw_err err = { 0 };
    int master, slave;
    char name[256];
    if (openpty(&master, &slave, name, NULL, NULL) < 0) {
        SKIP("serial_trigger_byte", "no pty");
        return;
    }
    struct termios tio;
    tcgetattr(slave, &tio);
    cfmakeraw(&tio);
    tcsetattr(slave, TCSANOW, &tio);
    dw_actuator_spec sp = { .kind = "serial", .serial_path = name, .byte = 0x42 };
    dw_actuator *a = dw_actuator_new("stimulus", &sp, &err);
    int r1 = a ? dw_actuator_fire(a, 0, 1, &err) : -1;
    int r2 = a ? dw_actuator_fire(a, 0, 1, &err) : -1;
    unsigned char buf[8] = { 0 };
    usleep(20000);
    ssize_t n = read(master, buf, sizeof buf);
    CHECK("serial_trigger_byte", r1 == 0 && r2 == 0 && n == 2 && buf[0] == 0x42 && buf[1] == 0x42, "r=%d/%d n=%zd %s",
          r1, r2, n, err.msg);
    dw_actuator_free(a);
    close(slave);
    close(master);

    sp.serial_path = "/nonexistent/ttyDW";
    a = dw_actuator_new("stimulus", &sp, &err);
    CHECK("serial_missing_port_fails", a && dw_actuator_fire(a, 0, 1, &err) == -1 && strstr(err.msg, "ttyDW"), "%s",
          err.msg);
    dw_actuator_free(a);

    dw_actuator_spec bs = { .kind = "bell", .bell = bell };
    a = dw_actuator_new("cue", &bs, &err);
    bells = 0;
    CHECK("bell_rings_callback", a && dw_actuator_fire(a, 0, 1, &err) == 0 && bells == 1, "bells=%d", bells);
    dw_actuator_free(a);
}

/* Through the session: a stimulus whose command is missing or hangs becomes an actuator_failed alert. */
static int ann_failed;
static void annotate(void *ctx, double t, double dur, const char *text)
{
    (void)ctx; (void)t; (void)dur;
    if (strstr(text, "actuator_failed"))
        ann_failed++;
}

static dw_session *enhanced_session(dw_session_cfg *cfg, const char *stim_command)
{
    dw_config all;
    dw_config_defaults(&all);
    *cfg = all.session;
    snprintf(cfg->start_mode, sizeof cfg->start_mode, "enhanced");
    snprintf(cfg->stim_actuator, sizeof cfg->stim_actuator, "command");
    snprintf(cfg->stim_command, sizeof cfg->stim_command, "%s", stim_command);
    snprintf(cfg->wake_actuator, sizeof cfg->wake_actuator, "none");
    snprintf(cfg->cue_actuator, sizeof cfg->cue_actuator, "none");
    cfg->command_timeout_s = 1;
    cfg->bell = 0;
    dw_err err = { 0 };
    dw_session_hooks h = { .annotate = annotate, .bell = bell };
    dw_session *s = dw_session_new(cfg, &h, &err);
    if (!s)
        printf("# %s\n", err.msg);
    return s;
}

/* 1 Hz, 150 uV slow waves in N3 until the first stimulus is delivered (or 60 s). */
static double drive_to_stim(dw_session *s, double t0, double wall0)
{
    for (int e = 0; e < 4; e++)
        dw_session_epoch(s, (int)(t0 / 30) + e, DW_N3, NULL);
    double t = t0 + 120;
    int n0 = dw_session_nstim(s);
    for (int i = 0; i < 6000 && dw_session_nstim(s) == n0; i++, t += 0.01) {
        double x = 150 * cos(2 * M_PI * 1.0 * t);
        dw_session_frontal(s, t, 100, &x, 1);
        if (i % 10 == 0)
            dw_session_tick(s, t, wall0 + (t - t0));
    }
    return t;
}

static void test_session_failures(void)
{
    dw_session_cfg cfg;
    dw_session *s = enhanced_session(&cfg, "/nonexistent/dw-stim");
    ann_failed = 0;
    double t = s ? drive_to_stim(s, 0, 1e9) : 0;
    const dw_alert_view *v = s ? dw_alerts_open(dw_session_alerts(s), DW_AL_ACTUATOR_FAILED, 0) : NULL;
    CHECK("session_missing_command_alert", v && v->severity == DW_WARNING && strstr(v->text, "not found") &&
          dw_alerts_count(dw_session_alerts(s), DW_AL_ACTUATOR_FAILED) == 1 && ann_failed == 1,
          "alert %s, count %d, annotations %d", v ? v->text : "none",
          s ? dw_alerts_count(dw_session_alerts(s), DW_AL_ACTUATOR_FAILED) : -1, ann_failed);
    (void)t;
    dw_session_free(s);

    s = enhanced_session(&cfg, "/bin/sleep 100");
    double wall0 = 2e9;
    t = s ? drive_to_stim(s, 0, wall0) : 0;
    int early = s && !dw_alerts_open(dw_session_alerts(s), DW_AL_ACTUATOR_FAILED, 0);
    /* the session's tick kills it once the wall clock passes the timeout */
    double wall = wall0 + t;
    for (int i = 0; i < 20 && s; i++)
        dw_session_tick(s, t, wall += 0.1);
    v = s ? dw_alerts_open(dw_session_alerts(s), DW_AL_ACTUATOR_FAILED, 0) : NULL;
    CHECK("session_hanging_command_alert", early && v && strstr(v->text, "killed"), "early=%d alert %s", early,
          v ? v->text : "none");
    dw_session_free(s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    test_commands();
    test_serial_bell();
    test_session_failures();
    TAP_DONE();
}
