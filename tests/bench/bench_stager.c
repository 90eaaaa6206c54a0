/* Stager cost per epoch (push) and per provisional label (peek), for every built-in model, as
 * ratios against computing the same epoch's features from 3000 samples (dw_features_epoch) in the
 * same run, and real time. CPU time of this process. */
#include "base/dw.h"
#include "staging/features.h"
#include "staging/stager.h"
#include "bench_cpu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    static double x[DW_EPOCH_N];
    for (int i = 0; i < DW_EPOCH_N; i++)
        x[i] = 30 * sin(2 * M_PI * 2 * i / DW_FS) + 10 * sin(2 * M_PI * 10.3 * i / DW_FS) + (rand() % 200 - 100) * 0.1;
    dw_features f[2];
    int nfeat = 400;
    double t0 = bench_cpu();
    for (int i = 0; i < nfeat; i++)
        dw_features_epoch(x, &f[i & 1], NULL);
    double feat_s = (bench_cpu() - t0) / nfeat;
    f[1] = f[0];
    const dw_model *models[] = { dw_model_builtin(2), dw_model_builtin(1), dw_model_builtin_for(1, 50) };
    for (int mi = 0; mi < 3; mi++) {
        const dw_model *m = models[mi];
        dw_stager *s = dw_stager_new(m);
        double p[DW_NSTAGES];
        int n = 3000;                          /* a 25-h recording */
        t0 = bench_cpu();
        for (int i = 0; i < n; i++) {
            f[0].delta *= (i % 7 < 3) ? 1.3 : 0.8;
            dw_stager_push(s, f, 1, p);
        }
        double push_s = (bench_cpu() - t0) / n;
        t0 = bench_cpu();
        for (int i = 0; i < n; i++)
            dw_stager_peek(s, f, p);
        double peek_s = (bench_cpu() - t0) / n;
        printf("stager %s: push %.1f us/epoch, peek %.1f us = %.2fx / %.2fx the cost of one epoch's features (%.1f us); "
               "%.0fx faster than real time\n", dw_model_name(m), push_s * 1e6, peek_s * 1e6, push_s / feat_s,
               peek_s / feat_s, feat_s * 1e6, DW_EPOCH_S / push_s);
        dw_stager_free(s);
    }
    return 0;
}
