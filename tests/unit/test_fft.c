/* The real FFT against numpy.fft.rfft computed at test time on the same random input. */
#include "dsp/fft.h"
#include "pyref.h"
#include "tap.h"

static const char *script =
    "import sys, numpy as np\n"
    "x = np.loadtxt(sys.argv[1]); o = 0\n"
    "for n in map(int, sys.argv[2].split(',')):\n"
    "    X = np.fft.rfft(x[o:o + n]); o += n\n"
    "    print(' '.join('%.17g %.17g' % (v.real, v.imag) for v in X))\n";

int main(void)
{
    static const size_t sizes[] = { 8, 16, 125, 128, 250, 256, 1024, 4096 };
    enum { NS = sizeof sizes / sizeof sizes[0], TOTAL = 8 + 16 + 125 + 128 + 250 + 256 + 1024 + 4096 };
    CHECK("fft_rejects_bad_size", !dw_rfft_new(0) && !dw_rfft_new(4) && !dw_rfft_new(7) && !dw_rfft_new(131072),
          "accepted a size outside [8, 65536]");

    static _Alignas(DW_FFT_ALIGN) double x[TOTAL + 1], X[2 * 2049 + 2];
    static double ref[2 * 2049];
    srand(12345);
    for (size_t i = 0; i < TOTAL; i++)
        x[i] = (rand() / (double)RAND_MAX - 0.5) * 200.0 + (i % 7 == 0 ? 1e4 : 0.0);

    /* Analytic check that needs no python: a cosine on bin 3 of 256 points. */
    dw_rfft *p = dw_rfft_new(256);
    static _Alignas(DW_FFT_ALIGN) double c[257];
    double peak_err = 0, other = 0;
    for (int j = 0; j < 256; j++)
        c[j] = cos(2 * M_PI * 3 * j / 256.0);
    dw_rfft_forward(p, c, X);
    for (int k = 0; k <= 128; k++) {
        if (k == 3)
            peak_err = fmax(fabs(X[2 * k] - 128.0), fabs(X[2 * k + 1]));
        else
            other = fmax(other, hypot(X[2 * k], X[2 * k + 1]));
    }
    CHECK("fft_cosine_bin", peak_err < 1e-12 && other < 1e-12, "bin 3 off by %g, others up to %g", peak_err, other);
    /* The same input one double further on (not aligned for the SIMD plan): the other plan, same
     * bins. */
    for (int j = 256; j > 0; j--)
        c[j] = c[j - 1];
    double X2[2 * 129 + 1], diff = 0;
    dw_rfft_forward(p, c + 1, X2 + 1);
    for (int k = 0; k < 2 * 129; k++)
        diff = fmax(diff, fabs(X2[k + 1] - X[k]));
    CHECK("fft_unaligned_arrays", diff < 1e-12 && c[1] == 1.0, "unaligned arrays differ by %g", diff);
    dw_rfft_free(p);

    /* Two real signals from one complex FFT (dw_rfft_pair_power_add) against each one's own real
     * FFT: every bin's power, for even sizes, one signal (the second zeros) or two, a quiet signal
     * beside one 1e4 times louder, aligned and not. The error is measured against the larger
     * signal's largest bin: the pair's rounding is shared. */
    static const size_t psizes[] = { 8, 10, 128, 250, 256, 1024 };
    double worst = 0;
    int sizes_ok = !dw_rfft_pair_new(7) && !dw_rfft_pair_new(6) && !dw_rfft_pair_new(131072);
    for (size_t s = 0; s < sizeof psizes / sizeof psizes[0]; s++) {
        size_t n = psizes[s], nb = n / 2 + 1;
        dw_rfft *r = dw_rfft_new(n);
        dw_rfft_pair *pp = dw_rfft_pair_new(n);
        static _Alignas(DW_FFT_ALIGN) double z[2 * 1024 + 2], Z[2 * 1024 + 2], a[1024], b[1024];
        static _Alignas(DW_FFT_ALIGN) double A[2 * 513], B[2 * 513];
        for (int kind = 0; kind < 4; kind++) {
            int both = kind != 0, off = kind == 3;       /* kind 3: arrays one double off */
            double loud = kind == 2 ? 1e4 : 1;
            for (size_t j = 0; j < n; j++) {
                a[j] = loud * (rand() / (double)RAND_MAX - 0.5);
                b[j] = both ? rand() / (double)RAND_MAX - 0.5 + (j % 5 == 0 ? 0.3 : 0) : 0;
                z[off + 2 * j] = a[j];
                z[off + 2 * j + 1] = b[j];
            }
            double acc[513] = { 0 }, want[513] = { 0 }, big = 0;
            dw_rfft_pair_power_add(pp, z + off, Z + off, both, acc);
            dw_rfft_forward(r, a, A);
            dw_rfft_forward(r, b, B);
            for (size_t k = 0; k < nb; k++) {
                double pa = A[2 * k] * A[2 * k] + A[2 * k + 1] * A[2 * k + 1];
                double pb = B[2 * k] * B[2 * k] + B[2 * k + 1] * B[2 * k + 1];
                want[k] = both ? pa + pb : pa;
                big = fmax(big, fmax(pa, pb));
            }
            for (size_t k = 0; k < nb; k++)
                worst = fmax(worst, fabs(acc[k] - want[k]) / big);
        }
        dw_rfft_free(r);
        dw_rfft_pair_free(pp);
    }
    printf("# pair: max |P - |rfft|^2| / largest bin = %.3g\n", worst);
    CHECK("fft_pair_power_vs_rfft", sizes_ok && worst < 1e-13,
          "max error %.3g of the largest bin (sizes refused: %d)", worst, sizes_ok);

    if (!pyref_have("numpy")) {
        SKIP("fft_vs_numpy", "%s with numpy not available", PYREF_PYTHON);
        TAP_DONE();
    }
    char arg[128] = "", why[256];
    for (size_t s = 0; s < NS; s++)
        snprintf(arg + strlen(arg), sizeof arg - strlen(arg), "%s%zu", s ? "," : "", sizes[s]);
    char *out = pyref_compute(script, x, TOTAL, NULL, 0, arg, why);
    if (!out) {
        FAIL("fft_vs_numpy", "%s", why);
        TAP_DONE();
    }
    const char *line = out;
    size_t off = 0;
    for (size_t s = 0; s < NS; s++) {
        size_t n = sizes[s], nb = n / 2 + 1;
        char name[64];
        snprintf(name, sizeof name, "fft_vs_numpy_n%zu", n);
        size_t got = pyref_parse(line, ref, 2 * nb);
        line = strchr(line, '\n');
        line = line ? line + 1 : "";
        p = dw_rfft_new(n);
        dw_rfft_forward(p, x + off, X);
        off += n;
        double maxmag = 0, maxerr = 0;
        for (size_t k = 0; k < nb && got == 2 * nb; k++) {
            maxmag = fmax(maxmag, hypot(ref[2 * k], ref[2 * k + 1]));
            maxerr = fmax(maxerr, hypot(X[2 * k] - ref[2 * k], X[2 * k + 1] - ref[2 * k + 1]));
        }
        printf("# n=%zu max |X - numpy| / max |X| = %.3g\n", n, maxerr / maxmag);
        CHECK(name, got == 2 * nb && maxerr <= 1e-13 * maxmag, "parsed %zu of %zu values; error %g of %g",
              got, 2 * nb, maxerr, maxmag);
        dw_rfft_free(p);
    }
    free(out);
    TAP_DONE();
}
