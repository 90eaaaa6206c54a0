/* Staging speed and memory: an 8-h two-channel night from EDF through features and the causal
 * model, as a multiple of real time on one core; the live per-epoch cost; memory over a night three
 * times as long. Reference: the same night read without staging, measured in the same run. CPU time
 * of this process, best of 3. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "staging/pipeline.h"
#include "sources/source.h"
#include "bench_cpu.h"

static long rss_kb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void on_epoch(void *ctx, const dw_epoch_result *r) { (*(long *)ctx) += r->stage + 1; }

static const dw_quality_cfg qcfg = { 500, 1, 0 };

/* Reads the night through the source (its staging channels), staging it through the pipeline if stage;
 * returns seconds. */
static double run(const char *path, int stage, long *epochs, double *dur)
{
    dw_err err;
    dw_channel_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.roles_only = 1;
    dw_source *src = dw_source_open_file(path, &spec, &err);
    if (!src) {
        fprintf(stderr, "bench_staging: %s\n", err.msg);
        exit(1);
    }
    const dw_source_info *in = &src->info;
    long sum = 0;
    dw_pipeline_opts po = { .quality = qcfg };
    dw_pipeline_sink sink = { .epoch = on_epoch, .ctx = &sum };
    double t0 = bench_cpu();
    dw_pipeline *pl = stage ? dw_pipeline_new(in, &po, &sink, &err) : NULL;
    for (;;) {
        dw_block b;
        int n = src->ops->read(src, &b, 6000, 0);
        if (n <= 0)
            break;
        if (pl)
            dw_pipeline_push(pl, &b);
    }
    if (pl)
        dw_pipeline_finish(pl);
    double s = bench_cpu() - t0;
    dw_pipeline_free(pl);
    *dur = in->duration_s;
    *epochs = sum;
    dw_source_close(src);
    return s;
}

int main(int argc, char **argv)
{
    const char *night = argc > 1 ? argv[1] : DW_SRCDIR "/sample-data/sample-night.edf";
    if (access(night, R_OK) != 0) {
        printf("bench_staging: %s missing (run make)\n", night);
        return 1;
    }
    long e;
    double dur, best_read = 1e9, best_stage = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        double r = run(night, 0, &e, &dur);
        if (r < best_read) best_read = r;
        double s = run(night, 1, &e, &dur);
        if (s < best_stage) best_stage = s;
    }
    printf("night: %s, %.2f h, 2 channels\n", night, dur / 3600);
    printf("read only (the source: EDFlib opens, whole records decoded): %.3f s CPU = %8.0f x real time\n",
           best_read, dur / best_read);
    printf("read + quality + features + model (1 core): %.3f s CPU = %8.0f x real time = %.1fx the read alone\n",
           best_stage, dur / best_stage, best_stage / best_read);

    /* Live cost: one finished epoch (quality, features of 2 channels + model + HMM), and a provisional label,
     * through the pipeline as the worker runs it on a 100 Hz source. */
    dw_source_info li;
    memset(&li, 0, sizeof li);
    li.nch = 2;
    li.fs = DW_FS;
    li.frontal = 0;
    li.parietal = 1;
    snprintf(li.label[0], DW_LABEL_LEN, "EEG Fpz-Cz");
    snprintf(li.label[1], DW_LABEL_LEN, "EEG Pz-Oz");
    long sum = 0;
    dw_pipeline_opts lo = { .quality = qcfg };
    dw_pipeline_sink ls = { .epoch = on_epoch, .ctx = &sum };
    dw_err err;
    dw_pipeline *sc = dw_pipeline_new(&li, &lo, &ls, &err);
    static double x[3000 * 2];
    unsigned seed = 1;
    for (int i = 0; i < 3000 * 2; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = ((seed >> 8) % 2000) / 20.0 - 50;
    }
    dw_block blk = { .n = 3000, .uv = x };
    int reps = 2000;
    double t0 = bench_cpu();
    for (int i = 0; i < reps; i++)
        dw_pipeline_push(sc, &blk);
    double per_epoch = (bench_cpu() - t0) / reps;
    double prob[DW_NSTAGES];
    int st;
    t0 = bench_cpu();
    for (int i = 0; i < reps; i++)
        dw_pipeline_provisional(sc, prob, &st);
    double per_prov = (bench_cpu() - t0) / reps;
    printf("live: %.1f us per epoch (push of 3000 samples x 2 ch, features, model, HMM) = %.2e of the epoch's 30 s\n",
           per_epoch * 1e6, per_epoch / 30);
    printf("live: %.1f us per provisional label (features of the last 30 s + peek)\n", per_prov * 1e6);

    /* Memory: the staging state does not grow with the night (the hypnogram is the caller's). */
    long before = rss_kb();
    for (int i = 0; i < 3 * 960; i++)
        dw_pipeline_push(sc, &blk);
    long after = rss_kb();
    printf("memory: RSS %ld kB before, %ld kB after another 24 h of epochs (growth %ld kB)\n", before, after, after - before);
    dw_pipeline_free(sc);
    (void)sum;
    return 0;
}
