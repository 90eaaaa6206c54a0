/* Recorder cost: CPU time to record one hour of data (16 ch at 125 Hz with accelerometer, 8 ch at
 * 250 Hz with accelerometer) through dw_recorder, as a fraction of the hour it stands for, beside the
 * CPU time of plain write(2) of the same number of bytes (the floor any recorder pays). Blocks of 25
 * frames with an annotation every 30 s, as a live night delivers them. Files go to $TMPDIR (or /tmp). */
#include "record/recorder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <ftw.h>
#include <time.h>
#include <unistd.h>

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static int run(const char *dir, int nch, double fs)
{
    dw_source_info info;
    memset(&info, 0, sizeof info);
    info.nch = nch;
    info.fs = fs;
    for (int c = 0; c < nch; c++)
        snprintf(info.label[c], DW_LABEL_LEN, "Ch%d", c + 1);
    enum { BLOCK = 25 };
    double *buf = malloc(sizeof(double) * BLOCK * nch);
    long total = (long)(3600 * fs);
    dw_err err;
    double c0 = cpu_now(), w0 = dw_now_mono();
    dw_recorder *r = dw_recorder_open(dir, "bench", &info, 1, &err);
    if (!r) {
        fprintf(stderr, "bench_recorder: %s\n", err.msg);
        return 1;
    }
    for (long k = 0; k < total; k += BLOCK) {
        for (int i = 0; i < BLOCK; i++)
            for (int c = 0; c < nch; c++)
                buf[i * nch + c] = 20000.0 * c + 50 * sin(0.01 * (k + i) * (c + 1));
        dw_block b = { .n = BLOCK, .uv = buf, .accel_valid = 1, .accel = { 0.1, 0.2, 0.98 } };
        if (dw_recorder_write(r, &b)) {
            fprintf(stderr, "bench_recorder: %s\n", dw_recorder_error(r));
            return 1;
        }
        if (k % (long)(30 * fs) == 0)
            dw_recorder_annotate(r, k / fs, 30, "N2");
    }
    long long bytes = dw_recorder_bytes(r);
    if (dw_recorder_close(r, &err)) {
        fprintf(stderr, "bench_recorder: %s\n", err.msg);
        return 1;
    }
    double cpu = cpu_now() - c0, wall = dw_now_mono() - w0;

    /* the floor: the same bytes with write(2), one record at a time */
    char path[512];
    snprintf(path, sizeof path, "%s/floor.bin", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    size_t rec = (size_t)(bytes / 3600);
    char *blk = calloc(1, rec);
    double f0 = cpu_now();
    for (int s = 0; s < 3600; s++)
        if (write(fd, blk, rec) != (ssize_t)rec)
            return 1;
    close(fd);
    double floor_cpu = cpu_now() - f0;
    free(blk);
    free(buf);
    printf("recorder %2d ch @ %3.0f Hz: 1 h of data (%.1f MB) in %.2f s CPU, %.2f s wall: %.5f of real time "
           "(%.0fx faster than real time); plain write(2) of the same bytes %.3f s CPU (recorder = %.1fx that)\n",
           nch, fs, bytes / 1e6, cpu, wall, cpu / 3600, 3600 / cpu, floor_cpu, cpu / fmax(floor_cpu, 1e-6));
    return 0;
}

int main(void)
{
    const char *t = getenv("TMPDIR");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/dw-bench-rec-XXXXXX", t ? t : "/tmp");
    if (!mkdtemp(dir))
        return 1;
    int rc = run(dir, 16, 125) || run(dir, 8, 250);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return rc;
}
