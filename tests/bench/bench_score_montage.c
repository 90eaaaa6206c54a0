/* Scoring cost per hour of recording: a 16-channel 125 Hz BDF+ (a Cyton+Daisy night) against the 2-channel
 * 100 Hz EDF+ night, both 8 h, written with EDFlib and staged through the one pipeline as `score` runs it
 * (only the two staged channels are read and resampled). Target (issue 11): at most 1.3x the 2-channel
 * night per hour, and (issue 16) at least 100,000x real time for the 16-channel file. Best of 3. */
#include "base/dw.h"
#include "sources/source.h"
#include "staging/pipeline.h"
#include "edf_testfile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOURS 8

static double eeg(int sig, double t)
{
    return 40 * sin(2 * M_PI * (sig % 2 ? 2.0 : 10.0) * t + sig) + 5 * sin(2 * M_PI * 0.7 * t) + 3 * sig;
}

static void on_epoch(void *ctx, const dw_epoch_result *r) { (*(long *)ctx)++; (void)r; }

/* Seconds to stage the whole file as `score` does; epochs in *n. */
static double stage(const char *path, long *n)
{
    double t0 = dw_now_mono();
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
    return dw_now_mono() - t0;
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
    double b2 = 1e9, b16 = 1e9;
    long n2 = 0, n16 = 0;
    for (int rep = 0; rep < 3; rep++) {
        b2 = fmin(b2, stage(two, &n2));
        b16 = fmin(b16, stage(daisy, &n16));
    }
    if (!getenv("DW_BENCH_KEEP")) {
        unlink(two);
        unlink(daisy);
    }
    double ratio = b16 / b2;
    printf("score, %d h: 2 ch x 100 Hz EDF+ %.3f s (%.0f x real time), 16 ch x 125 Hz BDF+ %.3f s (%.0f x real time)\n",
           HOURS, b2, HOURS * 3600 / b2, b16, HOURS * 3600 / b16);
    printf("  16-channel night / 2-channel night per hour: %.2f  (target <= 1.3)  %s\n", ratio,
           ratio <= 1.3 ? "ok" : "OVER");
    printf("  16-channel night: %.0f x real time  (target >= 100000)  %s\n", HOURS * 3600 / b16,
           HOURS * 3600 / b16 >= 100000 ? "ok" : "UNDER");
    return n2 == n16 && n2 == HOURS * 120 ? 0 : (printf("FAIL epochs %ld %ld\n", n2, n16), 1);
}
