/* Spindle and slow-wave detection (dsp/sleep_events.h) on the sample night's frontal channel, as a
 * multiple of real time on one core, against the staging pipeline on the same night measured in the
 * same run (what `score` and the session already pay per night). Target: the detectors cost no
 * more than the staging (so they at most double `score`'s time); live they cost about 0.15 us per
 * sample, 40 us per second of a 250-Hz channel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_cpu.h"
#include "dsp/sleep_events.h"
#include "staging/pipeline.h"
#include "sources/source.h"

static void on_event(void *ctx, const dw_sleep_event *ev) { (*(long *)ctx) += ev->kind + 1; }
static void on_epoch(void *ctx, const dw_epoch_result *r) { (*(long *)ctx) += r->stage + 1; }

/* The night's blocks in memory: frontal column, and the whole blocks for the pipeline. */
typedef struct { dw_block b; double *uv, *col; } blk;

int main(int argc, char **argv)
{
    const char *night = argc > 1 ? argv[1] : DW_SRCDIR "/sample-data/sample-night.edf";
    dw_err err;
    dw_channel_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.roles_only = 1;
    dw_source *src = access(night, R_OK) == 0 ? dw_source_open_file(night, &spec, &err) : NULL;
    if (!src) {
        printf("bench_sleep_events: %s missing (run make)\n", night);
        return 1;
    }
    const dw_source_info *in = &src->info;
    blk *bl = NULL;
    int nb = 0;
    for (;;) {
        dw_block b;
        int n = src->ops->read(src, &b, 6000, 0);
        if (n <= 0)
            break;
        bl = realloc(bl, (size_t)(nb + 1) * sizeof *bl);
        bl[nb].b = b;
        bl[nb].uv = malloc((size_t)n * in->nch * sizeof(double));
        bl[nb].col = malloc((size_t)n * sizeof(double));
        memcpy(bl[nb].uv, b.uv, (size_t)n * in->nch * sizeof(double));
        for (int i = 0; i < n; i++)
            bl[nb].col[i] = b.uv[(size_t)i * in->nch + in->frontal];
        bl[nb].b.uv = bl[nb].uv;
        nb++;
    }
    double best_det = 1e9, best_stage = 1e9;
    long sum = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = bench_cpu();
        dw_sleep_events *e = dw_sleep_events_new(in->fs);
        for (int i = 0; i < nb; i++)
            dw_sleep_events_push(e, bl[i].b.t0, bl[i].col, bl[i].b.n, on_event, &sum);
        dw_sleep_events_free(e);
        double d = bench_cpu() - t0;
        if (d < best_det) best_det = d;
        dw_pipeline_opts po = { .quality = { 500, 1, 0 } };
        dw_pipeline_sink sink = { .epoch = on_epoch, .ctx = &sum };
        t0 = bench_cpu();
        dw_pipeline *pl = dw_pipeline_new(in, &po, &sink, &err);
        for (int i = 0; i < nb; i++)
            dw_pipeline_push(pl, &bl[i].b);
        dw_pipeline_finish(pl);
        dw_pipeline_free(pl);
        double s = bench_cpu() - t0;
        if (s < best_stage) best_stage = s;
    }
    /* Live, the session feeds the detectors each block the worker reads: 40 ms (4 samples of this
     * 100-Hz night, 10 at 250 Hz; fewer when it wakes off its grid); before, one sample at a time. */
    static const int live_n[] = { 1, 4, 10 };
    double best_live[3] = { 1e9, 1e9, 1e9 };
    long nsamp = 0;
    for (int i = 0; i < nb; i++)
        nsamp += bl[i].b.n;
    for (int rep = 0; rep < 3; rep++)
        for (int L = 0; L < 3; L++) {
            double t0 = bench_cpu();
            dw_sleep_events *e = dw_sleep_events_new(in->fs);
            for (int i = 0; i < nb; i++)
                for (int k = 0; k < bl[i].b.n; k += live_n[L]) {
                    int m = bl[i].b.n - k < live_n[L] ? bl[i].b.n - k : live_n[L];
                    dw_sleep_events_push(e, bl[i].b.t0 + k / in->fs, bl[i].col + k, m, on_event, &sum);
                }
            dw_sleep_events_free(e);
            double d = bench_cpu() - t0;
            if (d < best_live[L]) best_live[L] = d;
        }
    double dur = in->duration_s, ratio = best_det / best_stage;
    printf("night: %.2f h, frontal %s at %g Hz (in memory)\n", dur / 3600, in->label[in->frontal],
           in->fs);
    printf("staging pipeline (reference): %.3f s = %8.0f x real time\n", best_stage,
           dur / best_stage);
    printf("spindles + slow waves:        %.3f s = %8.0f x real time = %.2f x the staging "
           "(target <= 1)\n", best_det, dur / best_det, ratio);
    for (int L = 0; L < 3; L++)
        printf("  in blocks of %d sample%s:       %.3f us a sample = %.2f x the whole blocks%s\n", live_n[L],
               live_n[L] > 1 ? "s" : " ", 1e6 * best_live[L] / (double)nsamp, best_live[L] / best_det,
               L == 0 ? " (the session before)" : L == 1 ? " (live: 40 ms at 100 Hz)" : " (40 ms at 250 Hz)");
    for (int i = 0; i < nb; i++) {
        free(bl[i].uv);
        free(bl[i].col);
    }
    free(bl);
    dw_source_close(src);
    (void)sum;
    return ratio <= 1.0 ? 0 : 1;
}
