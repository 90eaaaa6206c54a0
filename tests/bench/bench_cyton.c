/* Cyton serial path: (1) packet parser throughput as a multiple of the board's real 250 packets/s
 * and against memcpy of the same bytes, for Cyton and Daisy streams; (2) end-to-end latency from the
 * emulator writing a packet into a real pty (its --sent-log time stamp) to the sample leaving
 * dw_source read(), median and 99th percentile over 10 s. */
#include "sources/cyton.h"
#include "app/commands.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NPKT 200000

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double parse_rate(const uint8_t *stream, size_t n, int daisy, double *memcpy_s)
{
    static dw_cyton_sample out[256];
    static uint8_t copy[NPKT * DW_CYTON_PACKET];
    double best = 1e9, best_copy = 1e9;
    for (int rep = 0; rep < 5; rep++) {
        dw_cyton_parser p;
        dw_cyton_parser_init(&p, daisy);
        double t0 = dw_now_mono();
        for (size_t i = 0; i < n;) {              /* 4 KiB reads, as from the serial port */
            size_t chunk = n - i < 4096 ? n - i : 4096;
            size_t off = 0;
            while (off < chunk) {
                int k;
                off += dw_cyton_parse(&p, stream + i + off, chunk - off, 0.0, out, 256, &k);
            }
            i += chunk;
        }
        double dt = dw_now_mono() - t0;
        if (p.packets != NPKT)
            return -1;
        best = dt < best ? dt : best;
        t0 = dw_now_mono();
        for (size_t i = 0; i < n; i += 4096)
            memcpy(copy + i, stream + i, n - i < 4096 ? n - i : 4096);
        dt = dw_now_mono() - t0;
        best_copy = dt < best_copy ? dt : best_copy;
    }
    *memcpy_s = best_copy + 1e-9 * (copy[n / 2] & 1);
    return best;
}

static int throughput(void)
{
    static uint8_t stream[NPKT * DW_CYTON_PACKET];
    uint64_t r = 88172645463325252ull;
    for (int i = 0; i < NPKT; i++) {
        dw_cyton_packet pk;
        memset(&pk, 0, sizeof pk);
        pk.counter = (uint8_t)i;
        pk.footer = 0xC0;
        for (int c = 0; c < 8; c++) {
            r ^= r << 13; r ^= r >> 7; r ^= r << 17;
            pk.count[c] = (int32_t)(r & 0xFFFFFF) - 0x800000;
        }
        dw_cyton_packet_encode(&pk, stream + (size_t)i * DW_CYTON_PACKET);
    }
    size_t n = sizeof stream;
    for (int daisy = 0; daisy < 2; daisy++) {
        double mc, dt = parse_rate(stream, n, daisy, &mc);
        if (dt < 0) {
            printf("FAIL bench_cyton: parser lost packets\n");
            return -1;
        }
        double pps = NPKT / dt;
        printf("parser (%s): %.2f M packets/s = %.0fx the board's 250 packets/s; %.1fx the time of memcpy\n",
               daisy ? "Daisy pairing" : "Cyton", pps / 1e6, pps / DW_CYTON_FS, dt / mc);
    }
    return 0;
}

static int latency(void)
{
    char dir[] = "/tmp/dw-bench-cyton-XXXXXX";
    if (!mkdtemp(dir))
        return -1;
    char link[128], log[128];
    snprintf(link, sizeof link, "%s/tty", dir);
    snprintf(log, sizeof log, "%s/sent.log", dir);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout))
            _exit(3);
        char *argv[] = { "emulate", "--link", link, "--sent-log", log, "--seconds", "30", NULL };
        _exit(dw_cmd_emulate(7, argv));
    }
    struct stat st;
    for (int i = 0; i < 500 && lstat(link, &st) != 0; i++)
        usleep(10000);
    dw_err err = { 0 };
    dw_source *src = dw_cyton_open(link, "cyton", NULL, -1, &err);
    if (!src) {
        printf("FAIL bench_cyton: %s\n", err.msg);
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        return -1;
    }
    enum { MAXN = 4000 };
    static int32_t first[8];
    static double arrive[MAXN];
    static long index[MAXN];
    int n = 0;
    double end = dw_now_mono() + 10.0;
    while (dw_now_mono() < end && n < MAXN) {
        dw_block b;
        int k = src->ops->read(src, &b, 64, 100);
        double now = dw_now_mono();
        for (int i = 0; i < k && n < MAXN; i++, n++) {
            if (n == 0)
                for (int c = 0; c < 8; c++)
                    first[c] = (int32_t)lround(b.uv[c] / dw_cyton_uv_per_count(24));
            arrive[n] = now;
            index[n] = lround(b.t0 * src->info.fs) + i;
        }
    }
    dw_source_close(src);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    /* the log: index counter t_write counts...; the first frame's counts give the index offset */
    FILE *f = fopen(log, "r");
    static double sent_t[MAXN * 2];
    long base = -1, off = 0;
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        long idx;
        int ctr;
        double t;
        int32_t c[8];
        if (sscanf(line, "%ld %d %lf %d %d %d %d %d %d %d %d", &idx, &ctr, &t, &c[0], &c[1], &c[2], &c[3], &c[4],
                   &c[5], &c[6], &c[7]) != 11)
            continue;
        if (base < 0 && !memcmp(c, first, sizeof c))
            base = idx, off = idx - index[0];
        if (base >= 0 && idx - base < MAXN * 2)
            sent_t[idx - base] = t;
    }
    if (f)
        fclose(f);
    unlink(log);
    rmdir(dir);
    static double lat[MAXN];
    int m = 0;
    for (int i = 0; i < n; i++) {
        long j = index[i] + off - base;
        if (base >= 0 && j >= 0 && j < MAXN * 2 && sent_t[j] > 0)
            lat[m++] = (arrive[i] - sent_t[j]) * 1e3;
        if (getenv("DW_BENCH_DEBUG") && base >= 0 && j >= 0 && j < MAXN * 2 && (arrive[i] - sent_t[j]) > 2e-3)
            fprintf(stderr, "slow %d: %.3f ms\n", i, (arrive[i] - sent_t[j]) * 1e3);
    }
    if (m < 100) {
        printf("FAIL bench_cyton: only %d samples matched for latency\n", m);
        return -1;
    }
    qsort(lat, (size_t)m, sizeof lat[0], cmp_double);
    printf("latency emulator write -> read() over a pty (%d samples, 10 s): median %.3f ms, p99 %.3f ms, "
           "max %.3f ms; the sample period is 4 ms (median = %.3f sample periods)\n",
           m, lat[m / 2], lat[(int)(m * 0.99)], lat[m - 1], lat[m / 2] / 4.0);
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (throughput() != 0 || latency() != 0)
        return 1;
    return 0;
}
