/* Scoring cost per hour of recording: a 16-channel 125 Hz BDF+ (a Cyton+Daisy night) against the
 * 2-channel 100 Hz EDF+ night, both 8 h, written with EDFlib and staged through the one pipeline as
 * `score` runs it (only the two staged channels are read and resampled). Target (issue 11): at most
 * 1.3x the 2-channel night per hour, and (issue 16) at least 100,000x real time for the 16-channel
 * file. Timed by the CPU time of this process (on a shared machine wall time also counts the waits
 * for a core; it is printed beside), best of 5, the two files interleaved. */
#include "base/dw.h"
#include "sources/source.h"
#include "staging/pipeline.h"
#include "edf_testfile.h"

#include <math.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOURS 8

static double eeg(int sig, double t)
{
    return 40 * sin(2 * M_PI * (sig % 2 ? 2.0 : 10.0) * t + sig) + 5 * sin(2 * M_PI * 0.7 * t) + 3 * sig;
}

static void on_epoch(void *ctx, const dw_epoch_result *r) { (*(long *)ctx)++; (void)r; }

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* CPU seconds to stage the whole file as `score` does (wall seconds in *wall); epochs in *n. */
static double stage(const char *path, long *n, double *wall)
{
    double t0 = cpu_now(), w0 = dw_now_mono();
    dw_channel_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.roles_only = 1;
    dw_err err;
    dw_source *s = dw_source_open_file(path, &spec, &err);
    if (!s) {
        printf("FAIL bench_score_montage: %s\n", err.msg);
        exit(1);
    }
    *n = 0;
    dw_pipeline_opts po = { .quality = { 500, 1, 0 } };
    dw_pipeline_sink sk = { .epoch = on_epoch, .ctx = n };
    dw_pipeline *p = dw_pipeline_new(&s->info, &po, &sk, &err);
    dw_block b;
    while (p && s->ops->read(s, &b, 6000, 0) > 0)
        dw_pipeline_push(p, &b);
    dw_pipeline_finish(p);
    dw_pipeline_free(p);
    dw_source_close(s);
    *wall = dw_now_mono() - w0;
    return cpu_now() - t0;
}

int main(void)
{
    const char *t = getenv("TMPDIR");
    char two[256], daisy[256];
    snprintf(two, sizeof two, "%s/dw-bench-2ch-%d.edf", t && *t ? t : "/tmp", (int)getpid());
    snprintf(daisy, sizeof daisy, "%s/dw-bench-16ch-%d.bdf", t && *t ? t : "/tmp", (int)getpid());
    tf_signal s2[2] = { { "EEG Fpz-Cz", "uV", 100, -500, 500, eeg }, { "EEG Pz-Oz", "uV", 100, -500, 500, eeg } };
    tf_signal s16[16];
    static char labels[16][16];
    for (int c = 0; c < 16; c++) {
        snprintf(labels[c], sizeof labels[c], "Ch%d", c + 1);
        s16[c] = (tf_signal){ labels[c], "uV", 125, -187500, 187500, eeg };
    }
    if (tf_write(two, EDFLIB_FILETYPE_EDFPLUS, s2, 2, HOURS * 3600, NULL, 0) ||
        tf_write(daisy, EDFLIB_FILETYPE_BDFPLUS, s16, 16, HOURS * 3600, NULL, 0)) {
        printf("FAIL bench_score_montage: cannot write the test files\n");
        return 1;
    }
    double b2 = 1e9, b16 = 1e9, w2 = 1e9, w16 = 1e9, w;
    long n2 = 0, n16 = 0;
    for (int rep = 0; rep < 5; rep++) {
        b2 = fmin(b2, stage(two, &n2, &w));
        w2 = fmin(w2, w);
        b16 = fmin(b16, stage(daisy, &n16, &w));
        w16 = fmin(w16, w);
    }
    if (!getenv("DW_BENCH_KEEP")) {
        unlink(two);
        unlink(daisy);
    }
    double ratio = b16 / b2;
    printf("staging as score does, %d h, CPU time: 2 ch x 100 Hz EDF+ %.3f s (%.0f x real time; wall %.3f s), "
           "16 ch x 125 Hz BDF+ %.3f s (%.0f x real time; wall %.3f s)\n", HOURS, b2, HOURS * 3600 / b2, w2, b16,
           HOURS * 3600 / b16, w16);
    printf("  16-channel night / 2-channel night (the reference), per hour: %.2f  (target <= 1.3)  %s\n", ratio,
           ratio <= 1.3 ? "ok" : "OVER");
    printf("  16-channel night against real time: %.0f x  (target >= 100000)  %s\n", HOURS * 3600 / b16,
           HOURS * 3600 / b16 >= 100000 ? "ok" : "UNDER");
    return n2 == n16 && n2 == HOURS * 120 ? 0 : (printf("FAIL epochs %ld %ld\n", n2, n16), 1);
}
