/* EDF replay speed "as fast as possible": an 8-h two-channel EDF+ written with EDFlib, read through
 * dw_edf_open in 30-s blocks, against a plain read() of the same file in the same run, and against
 * real time, at 100 Hz and 256 Hz: delivered at the file's own rate (the staging pipeline
 * resamples). CPU time of this process, best of 3. */
#include "base/dw.h"
#include "sources/source.h"
#include "edf_testfile.h"
#include "bench_cpu.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOURS 8

static double eeg(int sig, double t)
{
    return 40 * sin(2 * M_PI * (sig ? 2.0 : 10.0) * t) + 5 * sin(2 * M_PI * 0.7 * t);
}

static double raw_read(const char *path, long *bytes)
{
    static char buf[1 << 20];
    double t0 = bench_cpu();
    int fd = open(path, O_RDONLY);
    ssize_t n;
    *bytes = 0;
    while (fd >= 0 && (n = read(fd, buf, sizeof buf)) > 0)
        *bytes += n;
    if (fd >= 0)
        close(fd);
    return bench_cpu() - t0;
}

static int bench(int fs)
{
    char path[256];
    const char *t = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/dw-bench-edf-%d-%d.edf", t && *t ? t : "/tmp", (int)getpid(), fs);
    tf_signal sig[2] = { { "EEG Fpz-Cz", "uV", fs, -500, 500, eeg }, { "EEG Pz-Oz", "uV", fs, -500, 500, eeg } };
    double w0 = dw_now_mono();
    if (tf_write(path, EDFLIB_FILETYPE_EDFPLUS, sig, 2, HOURS * 3600, NULL, 0)) {
        printf("FAIL bench_edf_replay: cannot write %s\n", path);
        return -1;
    }
    double wt = dw_now_mono() - w0;
    long bytes;
    raw_read(path, &bytes);               /* warm the page cache for both */
    double best_raw = 1e9, best = 1e9;
    long frames = 0;
    for (int rep = 0; rep < 3; rep++) {
        best_raw = fmin(best_raw, raw_read(path, &bytes));
        double t0 = bench_cpu();
        dw_err err;
        dw_source *s = dw_edf_open(path, NULL, &err);
        if (!s) {
            printf("FAIL bench_edf_replay: %s\n", err.msg);
            unlink(path);
            return -1;
        }
        dw_block b;
        int r;
        double sum = 0;
        frames = 0;
        while ((r = s->ops->read(s, &b, DW_EPOCH_N, 0)) > 0) {
            frames += r;
            sum += b.uv[0];
        }
        dw_source_close(s);
        best = fmin(best, bench_cpu() - t0);
        if (r != DW_SRC_EOF || frames != (long)HOURS * 3600 * fs || !isfinite(sum)) {
            printf("FAIL bench_edf_replay: %ld frames, end %d\n", frames, r);
            unlink(path);
            return -1;
        }
    }
    unlink(path);
    printf("edf replay %d Hz x 2 ch, %d h (%.1f MB; written by EDFlib in %.2f s):\n", fs, HOURS, bytes / 1e6, wt);
    printf("  dw_edf_open + read to EOF  %8.3f s CPU = %7.0f x real time\n", best, HOURS * 3600 / best);
    printf("  plain read() of the file   %8.3f s CPU (the reference: dw_edf takes %.1fx its time)\n", best_raw,
           best / best_raw);
    return 0;
}

int main(void)
{
    return bench(100) || bench(256) ? 1 : 0;
}
