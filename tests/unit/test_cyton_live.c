/* The live Cyton source against the emulator on a real pseudo-terminal: the emulator runs in a
 * child process (dw_cmd_emulate, exactly what `dreamwatch emulate` runs) and logs every sample it
 * sent; the source must deliver those counts exactly, count losses exactly, resynchronise, survive an
 * unplug with one gap and one reconnect, and say when the board is off. */
#include "sources/cyton.h"
#include "app/commands.h"
#include "tap.h"
#include "sources/transport.h"

#include <fcntl.h>
#include <sys/resource.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define MAXF 8000

static char dir[256], link_path[300], log_path[300];

typedef struct { long index; int counter; double t; int32_t c[16]; } sent_row;
static sent_row sent[MAXF * 2];
static int nsent;

typedef struct { long index; int32_t c[16]; double uv[16]; double arrive; } got_frame;
static got_frame got[MAXF];
static int ngot;
static long gaps[64], gap_at[64], pauses[64];
static int ngaps;

static pid_t emu_start(const char *extra1, const char *extra2)
{
    unlink(link_path);
    unlink(log_path);
    fflush(stdout);                             /* or the child repeats what is buffered */
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout)) _exit(3);
        char *argv[12];
        int n = 0;
        argv[n++] = "emulate";
        argv[n++] = "--link";
        argv[n++] = link_path;
        argv[n++] = "--sent-log";
        argv[n++] = log_path;
        argv[n++] = "--seconds";
        argv[n++] = "60";
        if (extra1) argv[n++] = (char *)extra1;
        if (extra2) argv[n++] = (char *)extra2;
        argv[n] = NULL;
        _exit(dw_cmd_emulate(n, argv));
    }
    for (int i = 0; i < 500; i++) {             /* the link appears once the pty is ready */
        struct stat st;
        if (lstat(link_path, &st) == 0)
            return pid;
        usleep(10000);
    }
    return pid;
}

static void emu_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    FILE *f = fopen(log_path, "r");
    nsent = 0;
    char line[512];
    while (f && fgets(line, sizeof line, f) && nsent < MAXF * 2) {
        if (line[0] == '#')
            continue;
        sent_row *r = &sent[nsent];
        char *p = line, *end;
        r->index = strtol(p, &end, 10); p = end;
        r->counter = (int)strtol(p, &end, 10); p = end;
        r->t = strtod(p, &end); p = end;
        for (int c = 0; c < 16; c++) {
            r->c[c] = (int32_t)strtol(p, &end, 10);
            p = end;
        }
        nsent++;
    }
    if (f)
        fclose(f);
}

static void read_for(dw_source *src, double seconds)
{
    double end = dw_now_mono() + seconds;
    int nch = src->info.nch;
    while (dw_now_mono() < end && ngot < MAXF) {
        dw_block b;
        int n = src->ops->read(src, &b, 64, 100);
        if (n < 0)
            break;
        if (n > 0 && b.gap > 0 && ngaps < 64) {
            pauses[ngaps] = b.pause;
            gaps[ngaps] = b.gap;
            gap_at[ngaps++] = ngot;
        }
        double now = dw_now_mono();
        for (int i = 0; i < n && ngot < MAXF; i++) {
            got_frame *g = &got[ngot++];
            g->index = lround(b.t0 * src->info.fs) + i;
            g->arrive = now;
            for (int c = 0; c < nch; c++) {
                g->uv[c] = b.uv[i * nch + c];
                g->c[c] = (int32_t)lround(b.uv[i * nch + c] / dw_cyton_uv_per_count(24));
            }
        }
    }
}

/* The sent row with the same counts as frame g (searching from `from`), or -1. */
static int find_sent(const got_frame *g, int nch, int from)
{
    for (int j = from < 0 ? 0 : from; j < nsent; j++)
        if (!memcmp(sent[j].c, g->c, (size_t)nch * sizeof g->c[0]))
            return j;
    return -1;
}

/* Frames [a, b) against the log: aligned by the first frame's counts, then every frame must sit at
 * its index. Returns matching frames; *missing = sent indices absent in between. */
static int compare_run(int a, int b, int nch, long *offset, int *mismatch)
{
    int j0 = find_sent(&got[a], nch, 0);
    *mismatch = 0;
    if (j0 < 0)
        return -1;
    *offset = sent[j0].index - got[a].index;
    int match = 0, j = j0;
    for (int i = a; i < b; i++) {
        long want = got[i].index + *offset;
        while (j < nsent && sent[j].index < want)
            j++;
        if (j < nsent && sent[j].index == want && !memcmp(sent[j].c, got[i].c, (size_t)nch * sizeof got[i].c[0]))
            match++;
        else
            (*mismatch)++;
    }
    return match;
}

static dw_source *open_or_fail(const char *name, const char *board, dw_err *err)
{
    dw_source *src = dw_cyton_open(link_path, board, NULL, -1, err);
    if (!src)
        FAIL(name, "dw_cyton_open: %s", err->msg);
    return src;
}

/* Emulator with options a b, the source on it for `seconds`, then both stopped and the log read.
 * 0, or -1 (a FAIL is printed) if the source did not open. */
static int session(const char *name, const char *a, const char *b, const char *board, double seconds,
                   struct dw_cyton_stats *st)
{
    pid_t pid = emu_start(a, b);
    dw_err err = { 0 };
    dw_source *src = open_or_fail(name, board, &err);
    ngot = ngaps = 0;
    if (src) {
        read_for(src, seconds);
        dw_cyton_stats(src, st);
        dw_source_close(src);
    }
    emu_stop(pid);
    return src ? 0 : -1;
}

static void test_clean(int daisy)
{
    const char *name = daisy ? "live daisy" : "live cyton";
    char n[128];
    pid_t pid = emu_start(daisy ? "--daisy" : NULL, NULL);
    dw_err err = { 0 };
    dw_source *src = open_or_fail(name, "auto", &err);
    int nch = daisy ? 16 : 8;
    snprintf(n, sizeof n, "%s: handshake finds %d channels at %g Hz", name, nch, daisy ? 125.0 : 250.0);
    CHECK(n, src && src->info.nch == nch && src->info.fs == (daisy ? 125 : 250) && src->info.live == 1 &&
          !strcmp(src->info.label[nch - 1], daisy ? "Ch16" : "Ch8") && src->info.frontal == 0 && src->info.parietal == 1,
          "nch %d fs %g", src ? src->info.nch : 0, src ? src->info.fs : 0);
    dw_source_close(src);
    emu_stop(pid);
    struct dw_cyton_stats st;
    if (session(name, daisy ? "--daisy" : NULL, NULL, "auto", 2.5, &st) != 0)
        return;
    long off;
    int mism, m = compare_run(0, ngot, nch, &off, &mism);
    snprintf(n, sizeof n, "%s: every sample equals the sent counts exactly, at its index", name);
    CHECK(n, ngot > (daisy ? 200 : 450) && m == ngot && mism == 0, "%d frames, %d match, %d mismatch, %d sent",
          ngot, m, mism, nsent);
    snprintf(n, sizeof n, "%s: no gap, no loss, accelerometer seen", name);
    CHECK(n, ngaps == 0 && st.lost_packets == 0 && st.accel_valid && fabs(st.accel[2] - 1.0) < 0.01,
          "gaps %d lost %ld accel %d %g", ngaps, st.lost_packets, st.accel_valid, st.accel[2]);
}

static void test_drop(void)
{
    struct dw_cyton_stats st;
    if (session("live drop", "--faults", "drop=5%", "cyton", 3.0, &st) != 0)
        return;
    long off;
    int mism, m = compare_run(0, ngot, 8, &off, &mism);
    long first = got[0].index + off, last = got[ngot - 1].index + off, logged = 0, reported = 0;
    for (int j = 0; j < nsent; j++)
        logged += sent[j].index >= first && sent[j].index <= last;
    for (int k = 0; k < ngaps; k++)
        reported += gaps[k];
    long truth = last - first + 1 - logged;
    CHECK("live drop: samples still exact at their indices", m == ngot && mism == 0, "%d/%d", m, ngot);
    CHECK("live drop: reported gaps equal the packets the emulator dropped", truth > 10 && reported == truth &&
          st.lost_packets == truth, "truth %ld reported %ld stats %ld", truth, reported, st.lost_packets);
    CHECK("live drop: loss over 5 s near 5 %", st.loss_pct_5s > 1 && st.loss_pct_5s < 12, "%.2f", st.loss_pct_5s);
}

static void test_corrupt(void)
{
    struct dw_cyton_stats st;
    if (session("live corrupt", "--faults", "corrupt=3%,garbage=1", "auto", 3.0, &st) != 0)
        return;
    long off;
    int mism, m = compare_run(0, ngot, 8, &off, &mism);
    /* A damaged data byte cannot be seen (no checksum); a damaged frame must never shift the rest. */
    CHECK("live corrupt: the stream resynchronises and stays aligned",
          ngot > 400 && st.resyncs > 0 && mism <= 0.04 * ngot && m >= 0.9 * ngot,
          "%d frames, %d match, %d mismatch, %ld resyncs", ngot, m, mism, st.resyncs);
}

static void test_unplug(void)
{
    pid_t pid = emu_start("--faults", "unplug=1.5:1.5");
    dw_err err = { 0 };
    dw_source *src = open_or_fail("live unplug", "auto", &err);
    if (!src) { emu_stop(pid); return; }
    ngot = ngaps = 0;
    double worst = 0;
    double end = dw_now_mono() + 8.0;
    int told = 0, seen_down = 0;
    struct dw_cyton_stats st;
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    while (dw_now_mono() < end) {                /* read() keeps its time-out while the link is down */
        double t = dw_now_mono();
        read_for(src, 0.1);
        worst = fmax(worst, dw_now_mono() - t);
        dw_cyton_stats(src, &st);
        seen_down |= !st.connected;
        told |= !st.connected && strstr(st.last_error, "hang-up") != NULL;
    }
    getrusage(RUSAGE_SELF, &ru1);
    double cpu = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) + (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                 1e-6 * ((ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) + (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec));
    dw_cyton_stats(src, &st);
    dw_source_close(src);
    emu_stop(pid);
    CHECK("live unplug: exactly one gap and one reconnect", ngaps == 1 && st.reconnects == 1,
          "gaps %d reconnects %d (%s)", ngaps, st.reconnects, st.last_error);
    if (ngaps != 1)
        return;
    int a = (int)gap_at[0];
    long off1, off2;
    int mism1, mism2;
    int m1 = compare_run(0, a, 8, &off1, &mism1), m2 = compare_run(a, ngot, 8, &off2, &mism2);
    long truth = (got[a].index + off2) - (got[a - 1].index + off1) - 1;
    CHECK("live unplug: samples before and after are exact", m1 == a && m2 == ngot - a && a > 200 && ngot - a > 200,
          "%d/%d before, %d/%d after", m1, a, m2, ngot - a);
    CHECK("live unplug: the gap is the time off by the host clock (within 5 % + 10 samples)",
          labs(gaps[0] - truth) <= 0.05 * truth + 10 && truth > 250, "gap %ld, truth %ld", gaps[0], truth);
    CHECK("live unplug: read() kept within its time-out while disconnected", worst < 1.0, "%.2f s", worst);
    CHECK("live unplug: no spinning: under 1 s of CPU in 8 s through the outage", cpu < 1.0, "%.2f s", cpu);
    CHECK("live unplug: the statistics say disconnected, and why", seen_down && told && st.connected,
          "%d %d %d", seen_down, told, st.connected);
}

static void test_stall(void)
{
    struct dw_cyton_stats st;
    if (session("live stall", "--faults", "stall=1:3", "auto", 6.5, &st) != 0)
        return;
    CHECK("live stall: 2 s of silence counts as a disconnect and the link comes back",
          st.reconnects == 1 && ngaps == 1 && strstr(st.last_error, "no data") && st.connected,
          "reconnects %d gaps %d connected %d (%s)", st.reconnects, ngaps, st.connected, st.last_error);
}

static void test_board_off(void)
{
    pid_t pid = emu_start("--faults", "board-off");
    dw_err err = { 0 };
    dw_source *src = dw_cyton_open(link_path, "auto", NULL, -1, &err);
    CHECK("live board off: clear error", !src && strstr(err.msg, "board is off or out of range") &&
          strstr(err.msg, link_path), "%s", src ? "opened" : err.msg);
    dw_source_close(src);
    emu_stop(pid);
    err.msg[0] = 0;
    src = dw_cyton_open(link_path, "auto", NULL, -1, &err);
    CHECK("live: no such port named in the error", !src && strstr(err.msg, link_path), "%s", err.msg);
    pid = emu_start(NULL, NULL);
    src = dw_cyton_open(link_path, "daisy", NULL, -1, &err);
    CHECK("live: board = daisy without a Daisy is an error", !src && strstr(err.msg, "Daisy"), "%s", err.msg);
    dw_source_close(src);
    emu_stop(pid);
}

static void test_impedance_gain_drift(void)
{
    pid_t pid = emu_start("--faults", "drift=20000");
    dw_err err = { 0 };
    dw_source *src = open_or_fail("live impedance", "auto", &err);
    if (!src) { emu_stop(pid); return; }
    ngot = ngaps = 0;
    read_for(src, 0.5);
    double k3 = -1, k1 = -1;
    int r3 = dw_cyton_impedance(src, 3, &k3), r1 = dw_cyton_impedance(src, 1, &k1);
    /* the emulator's electrodes: 5 kOhm + 1 kOhm per channel number above 1 */
    CHECK("live impedance: channel 3 reads 7 kOhm, channel 1 5 kOhm (6 nA at 31.25 Hz)",
          r3 == 0 && r1 == 0 && fabs(k3 - 7.0) < 0.3 && fabs(k1 - 5.0) < 0.3, "%d %.3f, %d %.3f (%s)", r3, k3, r1, k1,
          src->err.msg);
    int before = ngot;
    read_for(src, 1.0);
    CHECK("live impedance: streaming resumes with one gap", ngot - before > 150 && ngaps == 1 &&
          gaps[0] > 250, "%d frames, %d gaps, gap %ld", ngot - before, ngaps, ngaps ? gaps[0] : 0);
    struct dw_cyton_stats ps;
    dw_cyton_stats(src, &ps);
    CHECK("live impedance: the gap is a deliberate pause, not lost samples", ngaps == 1 &&
          pauses[0] == gaps[0] && ps.lost_samples == 0, "pause %ld of gap %ld, lost_samples %ld",
          ngaps ? pauses[0] : 0, ngaps ? gaps[0] : 0, ps.lost_samples);
    /* gain 6 on channel 2: the counts grow 4x, the microvolts must not change */
    CHECK("live gain: x2030110X accepted", dw_cyton_command(src, "x2030110X") == 0, "%s", src->err.msg);
    before = ngot;
    read_for(src, 3.0);
    struct dw_cyton_stats st;
    dw_cyton_stats(src, &st);
    dw_source_close(src);
    emu_stop(pid);
    int ok = 0, tail = 0;
    for (int i = ngot - 1; i >= before && tail < 200; i--, tail++) {
        int j = -1;
        for (int s = nsent - 1; s >= 0; s--)
            if (!memcmp(sent[s].c + 2, got[i].c + 2, 6 * sizeof(int32_t))) { j = s; break; }
        ok += j >= 0 && fabs(got[i].uv[1] - sent[j].c[1] * dw_cyton_uv_per_count(6)) < 1e-9;
    }
    CHECK("live gain: channel 2 scaled by gain 6 after the board confirms", tail == 200 && ok == 200, "%d/%d", ok, tail);
    CHECK("live drift: +20000 ppm board clock estimated within 5000 ppm", fabs(st.drift_ppm - 20000) < 5000,
          "%.0f ppm", st.drift_ppm);
}

/* A real OpenBCI recording through the emulator and back: microvolts within half a count. */
static void test_file(void)
{
    const char *data = tap_shared_data();
    char path[1200];
    snprintf(path, sizeof path, "%s/openbci/OpenBCI-RAW-2016-07-21_17-46-29.txt", data ? data : "");
    if (!data || access(path, R_OK) != 0) {
        SKIP("live file", "no shared data (%s)", path);
        return;
    }
    struct dw_cyton_stats st;
    dw_err err = { 0 };
    if (session("live file", "--file", path, "auto", 2.0, &st) != 0)
        return;
    dw_source *file = dw_source_open_file(path, NULL, &err);
    if (!file) {
        SKIP("live file", "the OpenBCI text reader cannot open it: %s", err.msg);
        return;
    }
    static double ref[1000][8];
    int nref = 0;
    while (nref < 1000) {
        dw_block b;
        int n = file->ops->read(file, &b, 1000 - nref, 0);
        if (n <= 0)
            break;
        for (int i = 0; i < n; i++)
            for (int c = 0; c < 8 && c < file->info.nch; c++)
                ref[nref + i][c] = b.uv[i * file->info.nch + c];
        nref += n;
    }
    int fs_ok = file->info.fs == 250 && file->info.nch == 8;
    dw_source_close(file);
    long off;
    int mism, m = compare_run(0, ngot, 8, &off, &mism), ok = 0, checked = 0;
    for (int i = 0; i < ngot; i++) {
        long k = got[i].index + off;              /* the emulator's sample k is the file's frame k */
        if (k < 0 || k >= nref)
            continue;
        int same = 1;
        for (int c = 0; c < 8; c++)
            same &= fabs(got[i].uv[c] - ref[k][c]) <= 0.5 * dw_cyton_uv_per_count(24) + 1e-9;
        ok += same;
        checked++;
    }
    CHECK("live file: a real OpenBCI recording comes back within half a count", fs_ok && m == ngot &&
          checked > 300 && ok == checked, "%d/%d frames, %d matched the log", ok, checked, m);
}

static void *waker(void *arg)
{
    dw_source *src = arg;
    struct dw_cyton_stats st;
    for (int i = 0; i < 20; i++) {              /* the screen thread reads the statistics meanwhile */
        dw_cyton_stats(src, &st);
        usleep(10000);
    }
    dw_cyton_wake(src);
    return NULL;
}

/* The transports by themselves: which kind a path gets, hang-up on a FIFO, errors naming the path. */
static void test_transport(void)
{
    char fifo[320];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    mkfifo(fifo, 0600);
    dw_err err = { 0 };
    dw_transport *t = dw_transport_open(fifo, &err);
    int wfd = open(fifo, O_WRONLY | O_NONBLOCK);
    char buf[16];
    ssize_t a = -9, b = -9;
    if (t && wfd >= 0) {
        a = dw_transport_read(t, buf, sizeof buf, 50, -1);
        if (write(wfd, "abc", 3) == 3)
            b = dw_transport_read(t, buf, sizeof buf, 1000, -1);
        close(wfd);
    }
    /* (We hold the FIFO read-write, so it never hangs up: only the 2-s silence rule sees its end.) */
    CHECK("transport: a FIFO gets the plain descriptor; a time-out, then the bytes",
          t && !strcmp(t->ops->kind, "fd") && a == DW_TR_TIMEOUT && b == 3 && !memcmp(buf, "abc", 3),
          "%s %zd %zd %s", t ? t->ops->kind : "none", a, b, err.msg);
    dw_transport_close(t);
    unlink(fifo);
    t = dw_transport_open("/dev/ttyS0", &err);
    if (t) {
        double t0 = dw_now_mono();
        ssize_t r = dw_transport_read(t, buf, sizeof buf, 200, -1);
        CHECK("transport: a real serial port goes through libserialport; a read waits, not spins",
              !strcmp(t->ops->kind, "serialport") && r == DW_TR_TIMEOUT && dw_now_mono() - t0 >= 0.15,
              "%s %zd", t->ops->kind, r);
        dw_transport_close(t);
    } else {
        SKIP("transport: libserialport path", "no /dev/ttyS0 to open here (%s)", err.msg);
    }
    t = dw_transport_open("/nonexistent/ttyUSB9", &err);
    CHECK("transport: a missing port is named", !t && strstr(err.msg, "/nonexistent/ttyUSB9: "), "%s", err.msg);
}

static void test_daisy_impedance(void)
{
    pid_t pid = emu_start("--daisy", NULL);
    dw_err err = { 0 };
    dw_source *src = open_or_fail("live daisy impedance", "daisy", &err);
    double k = -1;
    int r = src ? dw_cyton_impedance(src, 10, &k) : -1;     /* Daisy channel 10 is command letter W */
    CHECK("live daisy impedance: channel 10 reads 14 kOhm", r == 0 && fabs(k - 14.0) < 0.5, "%d %.3f (%s)", r, k,
          src ? src->err.msg : err.msg);
    dw_source_close(src);
    emu_stop(pid);
}

static void test_wake(void)
{
    pid_t pid = emu_start(NULL, NULL);
    dw_err err = { 0 };
    dw_source *src = open_or_fail("live wake", "auto", &err);
    if (!src) { emu_stop(pid); return; }
    dw_block b;
    while (src->ops->read(src, &b, 4096, 0) > 0)
        ;
    dw_cyton_wake(src);
    double t = dw_now_mono();
    int n = src->ops->read(src, &b, 1, 5000);
    CHECK("live wake: a pending wake ends a long read at once", dw_now_mono() - t < 1.0 && n >= 0, "%.2f s",
          dw_now_mono() - t);
    /* from another thread, while this one waits in read() (only the wake can end it early: a
     * 5-s time-out and no data once the board is told to stop) */
    dw_cyton_command(src, "s");
    usleep(100000);
    while (src->ops->read(src, &b, 4096, 0) > 0)
        ;
    pthread_t th;
    pthread_create(&th, NULL, waker, src);
    t = dw_now_mono();
    int woke = 1;
    while (dw_now_mono() - t < 1.9 && (n = src->ops->read(src, &b, 1, 5000)) > 0)
        woke = 0;                                /* leftovers of the stream, read on */
    double dt = dw_now_mono() - t;
    pthread_join(th, NULL);
    CHECK("live wake: another thread's wake ends a blocked read", woke && n == 0 && dt < 1.9, "%.2f s n %d", dt, n);
    dw_source_close(src);
    emu_stop(pid);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/dw-cyton-live-XXXXXX");
    if (!mkdtemp(dir)) {
        FAIL("live: temp dir", "%s", strerror(errno));
        TAP_DONE();
    }
    snprintf(link_path, sizeof link_path, "%s/ttyCyton", dir);
    snprintf(log_path, sizeof log_path, "%s/sent.log", dir);
    signal(SIGPIPE, SIG_IGN);
    test_clean(0);
    test_clean(1);
    test_drop();
    test_corrupt();
    test_unplug();
    test_stall();
    test_board_off();
    test_impedance_gain_drift();
    test_wake();
    test_daisy_impedance();
    test_transport();
    test_file();
    unlink(link_path);
    unlink(log_path);
    rmdir(dir);
    TAP_DONE();
}
