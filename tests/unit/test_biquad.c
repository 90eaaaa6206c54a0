/* Biquads and cascades: analytic gains of the RBJ designs, the time-domain filter against its own
 * response, and against scipy.signal.freqz / lfilter / butter / sosfilt computed at test time. */
#include "base/dw.h"
#include "dsp/biquad.h"
#include "pyref.h"
#include "tap.h"

static const struct { enum dw_biquad_kind kind; double f0, q, fs; const char *name; } designs[] = {
    { DW_BQ_LOWPASS, 2, M_SQRT1_2, 100, "lowpass_2Hz" },
    { DW_BQ_HIGHPASS, 0.5, M_SQRT1_2, 100, "highpass_0.5Hz" },
    { DW_BQ_BANDPASS, 1, 1 / 1.5, 100, "bandpass_1Hz_so" },
    { DW_BQ_BANDPASS, 50, 10, 250, "bandpass_50Hz_mains" },
    { DW_BQ_BANDPASS, 60, 10, 250, "bandpass_60Hz_mains" },
    { DW_BQ_NOTCH, 50, 30, 250, "notch_50Hz" },
    { DW_BQ_NOTCH, 60, 30, 250, "notch_60Hz" },
    { DW_BQ_LOWPASS, 40, 2.5, 250, "lowpass_40Hz_q2.5" },
};
#define ND (sizeof designs / sizeof designs[0])
#define NF 64      /* response checked at f = fs * (i + 0.5) / (2 NF) */
#define NX 4000    /* random samples through each filter */

static const char *script =
    "import sys, numpy as np, scipy.signal as ss\n"
    "c = np.loadtxt(sys.argv[1]).reshape(-1, 6); x = np.loadtxt(sys.argv[2]); nf = int(sys.argv[3])\n"
    "out = lambda v: print(' '.join('%.17g' % a for a in v))\n"
    "for fs, *ba in c:\n"
    "    b, a = ba[:3], [1.0] + ba[3:]\n"
    "    out(abs(ss.freqz(b, a, worN=fs * (np.arange(nf) + 0.5) / (2 * nf), fs=fs)[1]))\n"
    "    out(ss.lfilter(b, a, x))\n"
    "lo = ss.butter(4, 2, 'low', fs=100, output='sos'); hi = ss.butter(4, 0.5, 'high', fs=100, output='sos')\n"
    "for s in (lo, hi):\n"
    "    out(abs(ss.sosfreqz(s, worN=100 * (np.arange(nf) + 0.5) / (2 * nf), fs=100)[1]))\n"
    "out(ss.sosfilt(np.vstack([hi, lo]), x))\n";

/* Steady-state amplitude of a unit sine at f through the section, by least squares after settling. */
static double measured_gain(const dw_biquad_coef *c, double f, double fs)
{
    dw_biquad b = { *c, 0, 0 };
    int n = (int)(fs * 200), n0 = n / 2;
    double ss = 0, cc = 0, sc = 0, ys = 0, yc = 0;
    for (int j = 0; j < n; j++) {
        double s = sin(2 * M_PI * f * j / fs), co = cos(2 * M_PI * f * j / fs), y = dw_biquad_step(&b, s);
        if (j < n0)
            continue;
        ss += s * s; cc += co * co; sc += s * co; ys += y * s; yc += y * co;
    }
    double det = ss * cc - sc * sc;
    return hypot((ys * cc - yc * sc) / det, (yc * ss - ys * sc) / det);
}

/* Parses one line of exactly n numbers and steps past it; 0 if the line is short. */
static int next_line(const char **line, double *v, size_t n)
{
    size_t got = pyref_parse(*line, v, n);
    const char *nl = strchr(*line, '\n');
    *line = nl ? nl + 1 : "";
    return got == n;
}

static double maxrel(const double *a, const double *b, size_t n, double floor_)
{
    double e = 0;
    for (size_t i = 0; i < n; i++)
        e = fmax(e, fabs(a[i] - b[i]) / fmax(floor_, fmax(fabs(a[i]), fabs(b[i]))));
    return e;
}

/* A cascade of k sections (k = 1..8): Butterworth high- and low-passes and a band-pass, as the
 * detectors build them. */
static void make_cascade(dw_cascade *c, int k, double fs)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < k; i++)
        dw_cascade_add(c, i % 3 == 0 ? DW_BQ_HIGHPASS : i % 3 == 1 ? DW_BQ_LOWPASS : DW_BQ_BANDPASS,
                       i % 3 == 0 ? 0.3 + i : i % 3 == 1 ? 30 - i : 13, 0.5 + 0.1 * i, fs);
}

/* dw_cascade_run and dw_cascade_run2 go over a block section by section (three at a time, two
 * cascades in the lanes of a vector); each sample must still come out bit for bit as from
 * dw_cascade_step, whatever the number of sections, the cutting into blocks and in == out. */
static void test_block_bit_identical(void)
{
    enum { N = 3001 };
    static double x[N], ref[9][N], y[N], ya[N], yb[N];
    unsigned r = 12345;
    for (int j = 0; j < N; j++) {
        r = r * 1103515245u + 12345u;
        x[j] = ((double)(r >> 8) / (1 << 24) - 0.5) * 200 + (j % 700 == 0 ? 5000 : 0);
    }
    for (int k = 0; k <= 8; k++) {
        dw_cascade c;
        make_cascade(&c, k, 250);
        for (int j = 0; j < N; j++)
            ref[k][j] = dw_cascade_step(&c, x[j]);
    }
    static const int cut[] = { 1, 2, 7, 256, 1000, N };
    int bad_run = 0, bad_run2 = 0;
    for (int k = 0; k <= 8; k++)
        for (size_t b = 0; b < sizeof cut / sizeof cut[0]; b++) {
            dw_cascade c;
            make_cascade(&c, k, 250);
            memcpy(y, x, sizeof y);
            for (int j = 0; j < N; j += cut[b])     /* in place */
                dw_cascade_run(&c, y + j, y + j, (size_t)(N - j < cut[b] ? N - j : cut[b]));
            bad_run += memcmp(y, ref[k], sizeof y) != 0;
            for (int k2 = 0; k2 <= 8; k2++) {
                dw_cascade a, bb;
                make_cascade(&a, k, 250);
                make_cascade(&bb, k2, 250);
                memcpy(ya, x, sizeof ya);            /* outa = inb, as the spindle runs it */
                for (int j = 0; j < N; j += cut[b]) {
                    size_t m = (size_t)(N - j < cut[b] ? N - j : cut[b]);
                    dw_cascade_run2(&a, ya + j, ya + j, &bb, ya + j, yb + j, m);
                }
                bad_run2 +=
                    memcmp(ya, ref[k], sizeof ya) != 0 || memcmp(yb, ref[k2], sizeof yb) != 0;
            }
        }
    CHECK("cascade_run_bit_identical_to_step: 0-8 sections, blocks of 1 to 3001, in place",
          !bad_run, "%d of 54 cascade/block pairs differ", bad_run);
    CHECK("cascade_run2_bit_identical_to_step: every pair of 0-8 sections, blocks of 1 to 3001",
          !bad_run2, "%d of 486 runs differ", bad_run2);

    /* dw_cascade_run_trio: every shape, vectorised (a 4-6, b and c 1-3) or not (0 and 7 sections),
     * blocks of 1 to 3001, the input also outa's buffer (in place for a), then b's, then c's. */
    static double yc[N], in[N];
    int bad_trio = 0, runs = 0, avx = dw_simd_allow(1);
    for (int simd = avx; simd >= 0; simd--) {            /* AVX if the processor has it, then not */
        dw_simd_allow(simd);
        static const int na[] = { 0, 4, 5, 6, 7 }, nbc[] = { 0, 1, 2, 3, 4 };
        for (size_t ia = 0; ia < 5; ia++)
            for (size_t ib = 0; ib < 5; ib++)
                for (size_t ic = 0; ic < 5; ic++)
                    for (size_t b = 0; b < sizeof cut / sizeof cut[0]; b++) {
                        int alias = (int)((ia + ib + ic + b) % 4);   /* 0 none, 1 outa, 2 outb, 3 outc */
                        dw_cascade a, bb, cc;
                        make_cascade(&a, na[ia], 250);
                        make_cascade(&bb, nbc[ib], 250);
                        make_cascade(&cc, nbc[ic], 250);
                        double *oa = alias == 1 ? ya : y, *ob = alias == 2 ? ya : yb,
                               *oc = alias == 3 ? ya : yc, *src = alias ? ya : in;
                        memcpy(src, x, sizeof x);
                        for (int j = 0; j < N; j += cut[b]) {
                            size_t m = (size_t)(N - j < cut[b] ? N - j : cut[b]);
                            dw_cascade_run_trio(&a, &bb, &cc, src + j, oa + j, ob + j, oc + j, m);
                        }
                        runs++;
                        bad_trio += memcmp(oa, ref[na[ia]], sizeof ya) != 0 ||
                                    memcmp(ob, ref[nbc[ib]], sizeof yb) != 0 ||
                                    memcmp(oc, ref[nbc[ic]], sizeof yc) != 0;
                    }
    }
    dw_simd_allow(1);
    CHECK("cascade_run_trio_bit_identical_to_step: a 0/4-7, b and c 0-4 sections, blocks of 1 to "
          "3001, the input shared with each output, with and without AVX", !bad_trio, "%d of %d runs differ", bad_trio,
          runs);
}

int main(void)
{
    test_block_bit_identical();
    dw_biquad_coef c;
    CHECK("biquad_rejects_bad_design", dw_biquad_design(&c, DW_BQ_LOWPASS, 0, 1, 100) < 0
          && dw_biquad_design(&c, DW_BQ_LOWPASS, 50, 1, 100) < 0 && dw_biquad_design(&c, DW_BQ_NOTCH, 10, 0, 100) < 0
          && dw_biquad_design(&c, (enum dw_biquad_kind)9, 10, 1, 100) < 0, "accepted f0 outside (0, fs/2), q <= 0 or a bad kind");
    dw_cascade full = { 0 };
    int ok = 1;
    for (int i = 0; i < DW_CASCADE_MAX; i++)
        ok &= dw_cascade_add(&full, DW_BQ_LOWPASS, 10, 1, 100) == 0;
    CHECK("cascade_full", ok && dw_cascade_add(&full, DW_BQ_LOWPASS, 10, 1, 100) < 0
          && dw_cascade_butter(&full, DW_BQ_LOWPASS, 2, 10, 100) < 0, "a full cascade took another section");

    /* Analytic values of the cookbook designs. */
    char name[96];
    for (size_t d = 0; d < ND; d++) {
        double f0 = designs[d].f0, q = designs[d].q, fs = designs[d].fs;
        dw_biquad_design(&c, designs[d].kind, f0, q, fs);
        double want0, want_f0, got0, got_f0 = dw_biquad_gain(&c, f0, fs);
        switch (designs[d].kind) {
        case DW_BQ_LOWPASS:  want0 = 1; want_f0 = q; got0 = dw_biquad_gain(&c, 0, fs); break;
        case DW_BQ_HIGHPASS: want0 = 1; want_f0 = q; got0 = dw_biquad_gain(&c, fs / 2, fs); break;
        case DW_BQ_BANDPASS: want0 = 0; want_f0 = 1; got0 = dw_biquad_gain(&c, 0, fs); break;
        default:             want0 = 1; want_f0 = 0; got0 = dw_biquad_gain(&c, 0, fs); break;
        }
        snprintf(name, sizeof name, "biquad_analytic_%s", designs[d].name);
        CHECK(name, fabs(got0 - want0) < 1e-12 && fabs(got_f0 - want_f0) < 1e-9,
              "gain %.15g (want %g) at DC/Nyquist, %.15g (want %g) at f0", got0, want0, got_f0, want_f0);
        /* the running filter has the response the coefficients promise */
        double worst = 0;
        for (double f = fs / 40; f < fs / 2; f += fs / 17) {
            double g = dw_biquad_gain(&c, f, fs);
            worst = fmax(worst, fabs(measured_gain(&c, f, fs) - g) / fmax(g, 1e-3));
        }
        snprintf(name, sizeof name, "biquad_sine_gain_%s", designs[d].name);
        CHECK(name, worst < 1e-6, "steady-state sine gain differs from |H| by %.3g relative", worst);
    }

    if (!pyref_have("numpy scipy.signal")) {
        SKIP("biquad_vs_scipy", "%s with numpy and scipy not available", PYREF_PYTHON);
        TAP_DONE();
    }
    static double coef[ND][6], x[NX], y[NX], ref[NX];
    for (size_t d = 0; d < ND; d++) {
        dw_biquad_design(&c, designs[d].kind, designs[d].f0, designs[d].q, designs[d].fs);
        double row[6] = { designs[d].fs, c.b0, c.b1, c.b2, c.a1, c.a2 };
        memcpy(coef[d], row, sizeof row);
    }
    srand(99);
    for (int j = 0; j < NX; j++)
        x[j] = (rand() / (double)RAND_MAX - 0.5) * 100 + (j > NX / 2 ? 500 : 0);   /* noise and a step */
    char nf[16], why[256];
    snprintf(nf, sizeof nf, "%d", NF);
    char *out = pyref_compute(script, &coef[0][0], ND * 6, x, NX, nf, why);
    if (!out) {
        FAIL("biquad_vs_scipy", "%s", why);
        TAP_DONE();
    }
    const char *line = out;
    double resp[NF], mine[NF], worst_f = 0, worst_t = 0;
    for (size_t d = 0; d < ND; d++) {
        dw_cascade one = { 0 };
        dw_cascade_add(&one, designs[d].kind, designs[d].f0, designs[d].q, designs[d].fs);
        for (int i = 0; i < NF; i++)
            mine[i] = dw_cascade_gain(&one, designs[d].fs * (i + 0.5) / (2 * NF), designs[d].fs);
        int got = next_line(&line, resp, NF);
        double ef = got ? maxrel(mine, resp, NF, 1e-9) : 1;
        dw_cascade_run(&one, x, y, NX);
        got = got && next_line(&line, ref, NX);
        double rms = 0;
        for (int j = 0; j < NX; j++)
            rms += ref[j] * ref[j];
        double et = got ? maxrel(y, ref, NX, sqrt(rms / NX)) : 1;
        worst_f = fmax(worst_f, ef);
        worst_t = fmax(worst_t, et);
        snprintf(name, sizeof name, "biquad_vs_scipy_%s", designs[d].name);
        CHECK(name, ef < 1e-9 && et < 1e-9, "freqz differs by %.3g, lfilter by %.3g (relative)", ef, et);
    }
    /* Butterworth cascades against scipy.signal.butter, and the 0.5-2 Hz slow-oscillation band-pass. */
    dw_cascade lp = { 0 }, hp = { 0 }, so = { 0 };
    dw_cascade_butter(&lp, DW_BQ_LOWPASS, 4, 2, 100);
    dw_cascade_butter(&hp, DW_BQ_HIGHPASS, 4, 0.5, 100);
    dw_cascade_butter(&so, DW_BQ_HIGHPASS, 4, 0.5, 100);
    dw_cascade_butter(&so, DW_BQ_LOWPASS, 4, 2, 100);
    for (int k = 0; k < 2; k++) {
        dw_cascade *bc = k ? &hp : &lp;
        for (int i = 0; i < NF; i++)
            mine[i] = dw_cascade_gain(bc, 100 * (i + 0.5) / (2 * NF), 100);
        int got = next_line(&line, resp, NF);
        double ef = got ? maxrel(mine, resp, NF, 1e-9) : 1;
        worst_f = fmax(worst_f, ef);
        CHECK(k ? "butter4_highpass_0.5Hz_vs_scipy" : "butter4_lowpass_2Hz_vs_scipy", ef < 1e-9,
              "sosfreqz differs by %.3g relative", ef);
    }
    dw_cascade_run(&so, x, y, NX);
    int got = next_line(&line, ref, NX);
    double rms = 0;
    for (int j = 0; j < NX; j++)
        rms += ref[j] * ref[j];
    double et = got ? maxrel(y, ref, NX, sqrt(rms / NX)) : 1;
    worst_t = fmax(worst_t, et);
    CHECK("slow_oscillation_bandpass_vs_sosfilt", et < 1e-9, "sosfilt differs by %.3g relative", et);
    /* Settled at the first sample: a 61-mV offset into the display band-pass gives no transient, a
     * low-pass passes it at once, and without settling the same offset rings far beyond 100 uV. */
    {
        dw_cascade bp = { 0 }, cold = { 0 }, low = { 0 };
        dw_cascade_butter(&bp, DW_BQ_HIGHPASS, 2, 0.3, 100);
        dw_cascade_butter(&bp, DW_BQ_LOWPASS, 2, 35, 100);
        cold = bp;
        dw_cascade_butter(&low, DW_BQ_LOWPASS, 2, 35, 100);
        dw_cascade_settle(&bp, 61000);
        dw_cascade_settle(&low, 61000);
        double worst_bp = 0, worst_low = 0, cold_peak = 0;
        for (int j = 0; j < 1000; j++) {
            worst_bp = fmax(worst_bp, fabs(dw_cascade_step(&bp, 61000)));
            worst_low = fmax(worst_low, fabs(dw_cascade_step(&low, 61000) - 61000));
            cold_peak = fmax(cold_peak, fabs(dw_cascade_step(&cold, 61000)));
        }
        CHECK("cascade_settle_no_transient", worst_bp < 1e-6 && worst_low < 1e-6 && cold_peak > 1000,
              "settled band-pass %.3g, settled low-pass error %.3g, unsettled peak %.3g uV", worst_bp,
              worst_low, cold_peak);
    }
    printf("# worst relative difference vs SciPy: response %.2e, filtered samples %.2e\n", worst_f, worst_t);
    free(out);
    TAP_DONE();
}
