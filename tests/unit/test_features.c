/* Epoch features against scipy.signal.welch and numpy computed at test time on the same samples:
 * real sleep EEG snippets and synthetic signals chosen to stress the arithmetic. */
#include "staging/features.h"
#include "pyref.h"
#include "tap.h"

#include <pthread.h>

static const char *script =
    "import sys, numpy as np, scipy.signal as ss\n"
    "x = np.loadtxt(sys.argv[1]); o = 0\n"
    "bands = [(0.5, 4), (4, 8), (8, 13), (13, 30), (30, 50)]\n"
    "for n in map(int, sys.argv[2].split(',')):\n"
    "    s = x[o:o + n]; o += n\n"
    "    f, p = ss.welch(s, fs=100, nperseg=256)\n"
    "    v = list(p) + [p[(f >= lo) & (f <= hi)].mean() for lo, hi in bands] + [np.var(s), np.var(np.diff(s))]\n"
    "    print(' '.join('%.17g' % a for a in v))\n";

enum { NSIG_MAX = 12, NREF = DW_PSD_BINS + 7 };

typedef struct {
    const char *name;
    size_t n;
    double *x;
} signal_t;

static double gauss(void)
{
    double u = (rand() + 1.0) / (RAND_MAX + 2.0), v = (rand() + 1.0) / (RAND_MAX + 2.0);
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static double relerr(double a, double b)
{
    return a == b ? 0.0 : fabs(a - b) / fmax(fabs(a), fabs(b));
}

static double shared_x[DW_EPOCH_N];

static void *features_thread(void *arg)
{
    dw_features_epoch(shared_x, arg, NULL);
    return NULL;
}

/* First use from several threads at once: the one-time set-up must be safe (run under make tsan). */
static void check_threads(void)
{
    enum { NT = 4 };
    pthread_t th[NT];
    dw_features f[NT];
    for (int i = 0; i < DW_EPOCH_N; i++)
        shared_x[i] = sin(i * 0.1) * 20 + (i % 3);
    int started = 0;
    for (int t = 0; t < NT; t++)
        started += pthread_create(&th[t], NULL, features_thread, &f[t]) == 0;
    for (int t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    int same = started == NT;
    for (int t = 1; t < started; t++)
        same = same && !memcmp(&f[t], &f[0], sizeof f[0]);
    CHECK("features_first_use_threads", same && f[0].alpha > 0, "threads disagree (%d started)", started);
}

int main(void)
{
    check_threads();
    signal_t sig[NSIG_MAX];
    size_t ns = 0;
    static double buf[NSIG_MAX][DW_EPOCH_N];
    double psd[DW_PSD_BINS];

    CHECK("welch_too_short", dw_welch(buf[0], 255, psd) == 0 && psd[3] == 0.0, "a 255-sample signal gave segments");
    CHECK("welch_segments", dw_welch(buf[0], DW_EPOCH_N, psd) == 22 && dw_welch(buf[0], 256, psd) == 1
          && dw_welch(buf[0], 383, psd) == 1 && dw_welch(buf[0], 384, psd) == 2, "segment count differs from SciPy's");

    /* Real EEG: the N3 epoch (100 Hz, 3000 samples), and the 3000 values of the 200 Hz N2 snippet taken
     * as they are (as if sampled at 100 Hz: the arithmetic is what is under test, not the rate). */
    const char *data = tap_shared_data();
    static const struct { const char *name, *file; } real[] = {
        { "N3_snippet", "snippets/data_N3_no-spindles_30sec_100Hz.txt" },
        { "N2_spindles_snippet_raw", "snippets/data_N2_spindles_15sec_200Hz.txt" },
    };
    for (size_t r = 0; r < 2; r++) {
        char path[1200];
        if (!data) {
            SKIP(real[r].name, "no shared data folder (../shared/data); set DW_SHARED_DATA");
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", data, real[r].file);
        size_t n = pyref_load(path, buf[ns], DW_EPOCH_N);
        if (n != DW_EPOCH_N) {
            SKIP(real[r].name, "%s: read %zu of %d samples", path, n, DW_EPOCH_N);
            continue;
        }
        sig[ns] = (signal_t){ real[r].name, DW_EPOCH_N, buf[ns] };
        ns++;
    }
    srand(2024);
    size_t w0 = ns;
    static const struct { const char *name; double dc, sd; int brown, sine; } syn[] = {
        { "white_noise", 0, 20, 0, 0 },
        { "white_noise_dc_1e5", 1e5, 20, 0, 0 },
        { "large_amplitude_1e5", 0, 1e5, 0, 0 },
        { "tiny_amplitude_1e-3", 0, 1e-3, 0, 0 },
        { "brown_noise_dc", -3e4, 1, 1, 0 },
        { "sine_10Hz_dc_1e5", 1e5, 0.5, 0, 1 },
    };
    for (size_t s = 0; s < sizeof syn / sizeof syn[0]; s++, ns++) {
        double acc = 0;
        for (int i = 0; i < DW_EPOCH_N; i++) {
            double g = syn[s].sd * gauss();
            acc = syn[s].brown ? acc + g : g;
            buf[ns][i] = syn[s].dc + acc + (syn[s].sine ? 40 * sin(2 * M_PI * 10 * i / 100.0 + 0.3) : 0);
        }
        sig[ns] = (signal_t){ syn[s].name, DW_EPOCH_N, buf[ns] };
    }
    /* dw_welch on other lengths: the start of the first three synthetic signals */
    static const struct { const char *name; size_t n; } odd[] = {
        { "welch_n256_white", 256 }, { "welch_n1000_dc_1e5", 1000 }, { "welch_n2999_large", 2999 } };
    for (size_t s = 0; s < 3; s++, ns++)
        sig[ns] = (signal_t){ odd[s].name, odd[s].n, buf[w0 + s] };

    if (!pyref_have("numpy scipy.signal")) {
        SKIP("features_vs_scipy", "%s with numpy and scipy not available", PYREF_PYTHON);
        TAP_DONE();
    }
    static double all[NSIG_MAX * DW_EPOCH_N];
    size_t tot = 0;
    char lens[256] = "";
    for (size_t s = 0; s < ns; s++) {
        memcpy(all + tot, sig[s].x, sig[s].n * sizeof(double));
        tot += sig[s].n;
        snprintf(lens + strlen(lens), sizeof lens - strlen(lens), "%s%zu", s ? "," : "", sig[s].n);
    }
    char why[256], *out = pyref_compute(script, all, tot, NULL, 0, lens, why);
    if (!out) {
        FAIL("features_vs_scipy", "%s", why);
        TAP_DONE();
    }

    static const char *fname[7] = { "delta", "theta", "alpha", "beta", "gamma", "var", "dvar" };
    double worst_feat = 0, worst_psd = 0;
    const char *line = out;
    for (size_t s = 0; s < ns; s++) {
        double ref[NREF];
        size_t got = pyref_parse(line, ref, NREF);
        line = strchr(line, '\n');
        line = line ? line + 1 : "";
        char name[96];
        snprintf(name, sizeof name, "features_vs_scipy_%s", sig[s].name);
        if (got != NREF) {
            FAIL(name, "parsed %zu of %d reference values", got, NREF);
            continue;
        }
        /* every PSD bin, relative to itself */
        int nseg = dw_welch(sig[s].x, sig[s].n, psd);
        double epsd = 0, pmax = 0;
        int kbad = -1;
        for (int k = 0; k < DW_PSD_BINS; k++) {
            pmax = fmax(pmax, ref[k]);
            if (relerr(psd[k], ref[k]) > epsd)
                epsd = relerr(psd[k], ref[k]), kbad = k;
        }
        double efeat = 0;
        const char *fbad = "";
        int same_psd = 1;
        if (sig[s].n == DW_EPOCH_N) {
            dw_features f;
            double psd2[DW_PSD_BINS];
            dw_features_epoch(sig[s].x, &f, psd2);
            double mine[7] = { f.delta, f.theta, f.alpha, f.beta, f.gamma, f.var, f.dvar };
            for (int i = 0; i < 7; i++)
                if (relerr(mine[i], ref[DW_PSD_BINS + i]) > efeat)
                    efeat = relerr(mine[i], ref[DW_PSD_BINS + i]), fbad = fname[i];
            same_psd = !memcmp(psd, psd2, sizeof psd);
        }
        printf("# %-24s segments %2d  max rel err: PSD bins %.2e (bin %d)  features %.2e %s\n",
               sig[s].name, nseg, epsd, kbad, efeat, fbad);
        worst_feat = fmax(worst_feat, efeat);
        worst_psd = fmax(worst_psd, epsd);
        CHECK(name, efeat <= 1e-9 && epsd <= 1e-9 && same_psd,
              "max relative error: features %.3g (%s), PSD %.3g (bin %d)%s", efeat, fbad, epsd, kbad,
              same_psd ? "" : "; dw_features_epoch's psd differs from dw_welch's");
    }
    printf("# worst relative error vs SciPy/numpy: features %.2e, PSD bins %.2e\n", worst_feat, worst_psd);
    free(out);
    TAP_DONE();
}
