/* Sleep statistics on hand-made hypnograms, and agreement checked against sklearn at test time. */
#include "tap.h"
#include "staging/hypnogram.h"

#include "dsp/sleep_events.h"
#include "sources/montage.h"

/* Spindles count in N1-N3, slow waves in N2-N3 (YASA's include): a detection in W, R or an unscored
 * epoch is in no density. */
static void test_micro_where(void)
{
    static const int sp[] = { 0, 1, 1, 1, 0 }, sw[] = { 0, 0, 1, 1, 0 };   /* W N1 N2 N3 R */
    int ok = !dw_sleep_event_counts(DW_SLEEP_SPINDLE, DW_UNSCORED) &&
             !dw_sleep_event_counts(DW_SLEEP_SLOW_WAVE, DW_UNSCORED);
    for (int k = 0; k < DW_NSTAGES; k++)
        ok &= dw_sleep_event_counts(DW_SLEEP_SPINDLE, k) == sp[k] &&
              dw_sleep_event_counts(DW_SLEEP_SLOW_WAVE, k) == sw[k];
    CHECK("micro_counts_where_yasa_does", ok, "a kind counted in the wrong stage");
    CHECK("slow waves not on a parieto-occipital channel; spindles everywhere, slow waves elsewhere",
          !dw_micro_on_region(DW_SLEEP_SLOW_WAVE, DW_REGION_POSTERIOR) &&
          dw_micro_on_region(DW_SLEEP_SPINDLE, DW_REGION_POSTERIOR) &&
          dw_micro_on_region(DW_SLEEP_SLOW_WAVE, DW_REGION_FRONTAL) &&
          dw_micro_on_region(DW_SLEEP_SLOW_WAVE, DW_REGION_CENTRAL) &&
          dw_micro_on_region(DW_SLEEP_SLOW_WAVE, DW_REGION_UNKNOWN), "wrong rule");
    char o[1024] = "";
    FILE *mf = fmemopen(o, sizeof o - 1, "w");
    dw_print_micro_channel(mf, "", "EEG Pz-Oz", DW_REGION_POSTERIOR);
    dw_print_micro_channel(mf, "", "EEG Fpz-Cz", DW_REGION_FRONTAL);
    long tot[2] = { 12, -1 };
    dw_print_micro_totals(mf, "", "on EEG Pz-Oz", tot, 0);
    fclose(mf);
    CHECK("the note names the channel and its region; no note for a frontal one; no slow-wave count",
          strstr(o, "note: the staged channel EEG Pz-Oz is parieto-occipital: slow waves are not detected") &&
          !strstr(o, "Fpz-Cz") && strstr(o, "12 spindles on EEG Pz-Oz, slow waves not detected there\n"),
          "%s", o);
    /* one epoch of each stage and one unscored, 3 spindles and 2 slow waves detected in each */
    const signed char st[] = { DW_W, DW_N1, DW_N2, DW_N3, DW_R, DW_UNSCORED };
    int cnt[6][2];
    for (int e = 0; e < 6; e++)
        cnt[e][0] = 3, cnt[e][1] = 2;
    double d[DW_NSTAGES][2];
    dw_micro_density(st, 6, (const int (*)[2])cnt, 6, d);
    CHECK("micro_density_nrem_only", d[DW_W][0] == DW_NONE && d[DW_R][0] == DW_NONE &&
          d[DW_W][1] == DW_NONE && d[DW_R][1] == DW_NONE && d[DW_N1][1] == DW_NONE &&
          d[DW_N1][0] == 6 && d[DW_N2][0] == 6 &&
          d[DW_N3][1] == 4, "W %g/%g R %g/%g N1 %g/%g N2 %g N3 %g", d[DW_W][0], d[DW_W][1],
          d[DW_R][0], d[DW_R][1], d[DW_N1][0], d[DW_N1][1], d[DW_N2][0], d[DW_N3][1]);
}

/* A recording with fewer than DW_NIGHT_MIN_EPOCHS scored epochs is no night (the awake OpenBCI
 * snippets of ../shared/data were scored "SE 100.0 %  SOL 0.0 min" from 3 epochs): what needs a night
 * is none and a note says why; what was staged (TIB, TST, stage minutes) stays; unscored epochs do not
 * make a recording long enough. */
static void test_too_short(void)
{
    signed char h[40];
    for (int i = 0; i < 40; i++)
        h[i] = i % 3 ? DW_N2 : DW_N1;
    dw_sleep_stats s;
    dw_sleep_stats_compute(h, 3, &s);
    char out[2048] = "";
    FILE *m = fmemopen(out, sizeof out - 1, "w");
    dw_print_sleep_stats(m, "  ", &s);
    fclose(m);
    CHECK("too short (3 epochs of sleep): SE, SOL, SPT, WASO, SME, REM latency, transitions none",
          s.too_short && s.se_pct == DW_NONE && s.sol_min == DW_NONE && s.spt_min == DW_NONE &&
          s.waso_min == DW_NONE && s.sme_pct == DW_NONE && s.rem_latency_min == DW_NONE &&
          s.transitions_per_h == DW_NONE && s.tib_min == 1.5 && s.tst_min == 1.5 &&
          s.stage_min[DW_N1] == 0.5, "se %g sol %g", s.se_pct, s.sol_min);
    CHECK("too short: printed as none with a note naming the 10 min", strstr(out, "SE none") &&
          strstr(out, "SOL none") && strstr(out, "WASO none") && !strstr(out, "100.0 %  SME") &&
          strstr(out, "note: too short for a night: 1.5 min scored (3 epochs), under the 10 min"),
          "%s", out);
    dw_sleep_stats_compute(h, DW_NIGHT_MIN_EPOCHS - 1, &s);
    int below = s.too_short && s.se_pct == DW_NONE;
    dw_sleep_stats_compute(h, DW_NIGHT_MIN_EPOCHS, &s);
    CHECK("the limit: 19 scored epochs are too short, 20 are a night", below && !s.too_short &&
          s.se_pct == 100 && s.sol_min == 0, "20 epochs: short %d se %g", s.too_short, s.se_pct);
    for (int i = 0; i < 40; i++)
        h[i] = i % 2 ? DW_UNSCORED : DW_N2;
    dw_sleep_stats_compute(h, 38, &s);
    CHECK("unscored epochs do not count toward a night (19 scored of 38)", s.too_short &&
          s.se_pct == DW_NONE && s.unscored == 19, "short %d", s.too_short);
}

/* The N2+N3 density (the screen's running figure) and the words the screen and the summaries share. */
static void test_micro_nrem_and_words(void)
{
    /* W, N1 (4 spindles: counted in the totals, not in the N2+N3 density), N2 (3, 1), N3 (1, 5),
     * N3 (0, 2), R (2, 2: set aside), unscored (1, 1: set aside), and an epoch not staged yet (1, 0) */
    const signed char st[] = { DW_W, DW_N1, DW_N2, DW_N3, DW_N3, DW_R, DW_UNSCORED };
    const int cnt[8][2] = { { 0, 0 }, { 4, 0 }, { 3, 1 }, { 1, 5 }, { 0, 2 }, { 2, 2 }, { 1, 1 }, { 1, 0 } };
    double d[2], none[2];
    dw_micro_nrem_density(st, 7, cnt, 8, d);
    dw_micro_nrem_density(st, 2, cnt, 8, none);            /* W, N1 only: no N2/N3 yet */
    CHECK("micro_nrem_density: events of N2 and N3 per minute of N2+N3, none before one",
          fabs(d[0] - 4 / 1.5) < 1e-12 && fabs(d[1] - 8 / 1.5) < 1e-12 && none[0] == DW_NONE &&
          none[1] == DW_NONE, "%g %g / %g %g", d[0], d[1], none[0], none[1]);
    long tot[2], aside;
    dw_micro_totals(st, 7, cnt, 8, tot, &aside);
    char t[320];
    dw_format_micro_totals(t, sizeof t, "", tot, aside);
    CHECK("micro_totals_words", !strcmp(t, "8 spindles, 8 slow waves (spindles counted in N1-N3, slow "
          "waves in N2-N3; 7 detections in W, R or unscored epochs not counted)"), "%s", t);
    tot[0] = 1, tot[1] = 0;
    dw_format_micro_totals(t, sizeof t, "on the frontal channel", tot, 0);
    CHECK("micro_totals_words_singular", !strcmp(t, "1 spindle, 0 slow waves on the frontal channel"),
          "%s", t);
    char r1[16], r2[16], r3[16], r4[16];
    dw_format_micro_rate(r1, sizeof r1, 2.44);
    dw_format_micro_rate(r2, sizeof r2, 12.3);
    dw_format_micro_rate(r3, sizeof r3, DW_NONE);
    dw_format_micro_rate(r4, sizeof r4, 9.96);
    CHECK("micro_rate_words", !strcmp(r1, "2.4") && !strcmp(r2, "12") && !strcmp(r3, "none") &&
          !strcmp(r4, "10"), "%s %s %s %s", r1, r2, r3, r4);
    char e[6][48];
    const int c32[2] = { 3, 2 }, c11[2] = { 1, 1 };
    dw_format_micro_epoch(e[0], sizeof e[0], DW_N3, DW_REGION_FRONTAL, c32);
    dw_format_micro_epoch(e[1], sizeof e[1], DW_N1, DW_REGION_FRONTAL, c11);
    dw_format_micro_epoch(e[2], sizeof e[2], DW_W, DW_REGION_FRONTAL, c32);
    dw_format_micro_epoch(e[3], sizeof e[3], DW_UNSCORED, DW_REGION_FRONTAL, c32);
    dw_format_micro_epoch(e[4], sizeof e[4], DW_N2, DW_REGION_UNKNOWN, c11);
    dw_format_micro_epoch(e[5], sizeof e[5], DW_N3, DW_REGION_POSTERIOR, c32);
    CHECK("micro_epoch_words: only what counts in the stage and on the channel's region",
          !strcmp(e[0], "3 spindles, 2 SW") && !strcmp(e[1], "1 spindle") &&
          !strcmp(e[2], "none counted") && !strcmp(e[3], "none counted") &&
          !strcmp(e[4], "1 spindle, 1 SW") && !strcmp(e[5], "3 spindles"), "%s | %s | %s | %s | %s | %s",
          e[0], e[1], e[2], e[3], e[4], e[5]);
    /* one rule for both kinds on a region (dw_micro_for_region): slow waves none on a parieto-occipital
     * channel, the totals' -1 and the densities' none; nothing changes elsewhere */
    long tr[2] = { 5, 7 };
    double nr[2] = { 2.0, 3.0 }, dr[DW_NSTAGES][2] = { { 0 } };
    dr[DW_N3][1] = 6.0;
    dw_micro_for_region(DW_REGION_CENTRAL, tr, nr, dr);
    int same = tr[1] == 7 && nr[1] == 3.0 && dr[DW_N3][1] == 6.0;
    dw_micro_for_region(DW_REGION_POSTERIOR, tr, nr, dr);
    CHECK("micro_for_region: slow waves none on a parieto-occipital channel only, spindles kept",
          same && tr[0] == 5 && tr[1] == -1 && nr[0] == 2.0 && nr[1] == DW_NONE && dr[DW_N3][1] == DW_NONE,
          "%ld %ld %.1f %.1f", tr[0], tr[1], nr[0], nr[1]);
    double by[DW_NSTAGES][2];
    dw_micro_density(st, 7, cnt, 8, by);
    char line[160];
    dw_format_micro_density(line, sizeof line, by);
    CHECK("micro_density_words", !strcmp(line, "spindles 6.0/min in N2, 1.0 in N3; slow waves 7.0/min "
          "in N3, 2.0 in N2"), "%s", line);
}

int main(void)
{
    test_micro_where();
    test_micro_nrem_and_words();
    /* 10 min wake, then N1 N2 N2 N3 N3 W N2 R R, then 5 min wake: epochs of 30 s. */
    signed char h[64];
    int n = 0;
    for (int i = 0; i < 20; i++) h[n++] = DW_W;
    const signed char mid[] = { DW_N1, DW_N2, DW_N2, DW_N3, DW_N3, DW_W, DW_N2, DW_R, DW_R };
    for (size_t i = 0; i < sizeof mid; i++) h[n++] = mid[i];
    for (int i = 0; i < 10; i++) h[n++] = DW_W;
    dw_sleep_stats s;
    dw_sleep_stats_compute(h, n, &s);
    CHECK("TIB", s.tib_min == 19.5, "%g", s.tib_min);
    CHECK("SOL", s.sol_min == 10, "%g", s.sol_min);
    CHECK("SPT", s.spt_min == 4.5, "%g", s.spt_min);
    CHECK("TST", s.tst_min == 4.0, "%g", s.tst_min);
    CHECK("WASO", s.waso_min == 0.5, "%g", s.waso_min);
    CHECK("SE", tap_close(s.se_pct, 100 * 4.0 / 19.5, 1e-12, 0), "%g", s.se_pct);
    CHECK("SME", tap_close(s.sme_pct, 100 * 4.0 / 4.5, 1e-12, 0), "%g", s.sme_pct);
    CHECK("REM latency from onset", s.rem_latency_min == 3.5, "%g", s.rem_latency_min);
    CHECK("N2 minutes, percent of TIB and of TST", s.stage_min[DW_N2] == 1.5 &&
          tap_close(s.stage_pct[DW_N2], 100 * 1.5 / 19.5, 1e-12, 0) && s.tst_pct[DW_N2] == 37.5, "%g %g %g",
          s.stage_min[DW_N2], s.stage_pct[DW_N2], s.tst_pct[DW_N2]);
    double sum = 0, tsum = 0, msum = 0;
    for (int k = 0; k < DW_NSTAGES; k++)
        sum += s.stage_pct[k], tsum += s.tst_pct[k], msum += s.stage_min[k];
    CHECK("stage minutes add up to TIB, percentages of TIB and of TST to 100", tap_close(msum, s.tib_min, 1e-12, 0)
          && tap_close(sum, 100, 1e-12, 0) && tap_close(tsum, 100, 1e-12, 0), "%g %g %g", msum, sum, tsum);
    CHECK("awakenings", s.awakenings == 1, "%d", s.awakenings);
    /* changes inside SPT: N1>N2, N2>N3, N3>W, W>N2, N2>R = 5 over 4.5 min */
    CHECK("transitions per hour", tap_close(s.transitions_per_h, 5 / (4.5 / 60), 1e-12, 0), "%g", s.transitions_per_h);

    /* 24 epochs of wake (12 min: a night's length, DW_NIGHT_MIN_EPOCHS) and one unscored */
    signed char none[25];
    for (int i = 0; i < 25; i++)
        none[i] = i == 2 ? DW_UNSCORED : DW_W;
    dw_sleep_stats_compute(none, 25, &s);
    CHECK("no sleep: absent quantities are DW_NONE", s.tst_min == 0 && s.tib_min == 12 && s.sol_min == DW_NONE &&
          s.rem_latency_min == DW_NONE && s.sme_pct == DW_NONE && s.transitions_per_h == DW_NONE && s.se_pct == 0 &&
          s.unscored == 1, "tst %g sol %g", s.tst_min, s.sol_min);
    char out[1024] = "";
    FILE *m = fmemopen(out, sizeof out - 1, "w");
    dw_print_sleep_stats(m, "  ", &s);
    fclose(m);
    CHECK("no sleep: printed as none, never -1.0", strstr(out, "SOL none") && strstr(out, "SME none") &&
          strstr(out, "REM latency none") && strstr(out, "transitions none") && !strstr(out, "-1.0") &&
          strstr(out, "stages, % of TIB:") && strstr(out, "1 unscored epochs (0.5 min"), "%s", out);
    signed char empty[3] = { DW_UNSCORED, DW_UNSCORED, DW_UNSCORED };
    dw_sleep_stats_compute(empty, 3, &s);
    CHECK("nothing scored: TIB 0, SE none", s.tib_min == 0 && s.se_pct == DW_NONE && s.unscored == 3, "%g", s.se_pct);
    /* Absent quantities are "none" in print, never 0.0: shares of a zero TIB or TST, WASO and SPT without
     * sleep, the density of a stage with no epoch (a first-use test printed "W 0.0 min (0.0 %)", "% of TST:
     * N1 0.0 %" and "spindles 0.0/min in N2" for a night without N2). */
    char e1[1024] = "";
    m = fmemopen(e1, sizeof e1 - 1, "w");
    dw_print_sleep_stats(m, "", &s);
    fclose(m);
    CHECK("nothing scored: every share and the sleep period are none", s.stage_pct[DW_W] == DW_NONE &&
          s.tst_pct[DW_N2] == DW_NONE && s.waso_min == DW_NONE && s.spt_min == DW_NONE &&
          strstr(e1, "W 0.0 min (none)") && strstr(e1, "N1 none  N2 none  N3 none  R none") &&
          strstr(e1, "SPT none") && strstr(e1, "WASO none") && !strstr(e1, "0.0 %"), "%s", e1);
    dw_sleep_stats_compute(none, 25, &s);
    char e2[1024] = "";
    m = fmemopen(e2, sizeof e2 - 1, "w");
    dw_print_sleep_stats(m, "", &s);
    fclose(m);
    CHECK("wake only: W 100 % of TIB, no share of a zero TST", s.stage_pct[DW_W] == 100 &&
          s.tst_pct[DW_R] == DW_NONE && strstr(e2, "W 12.0 min (100.0 %)") &&
          strstr(e2, "% of TST:  N1 none  N2 none") && strstr(e2, "WASO none"), "%s", e2);
    signed char n3[4] = { DW_W, DW_N3, DW_N3, DW_UNSCORED };
    const int cnt[4][2] = { { 1, 0 }, { 2, 5 }, { 0, 3 }, { 9, 9 } };
    double d[DW_NSTAGES][2];
    dw_micro_density(n3, 4, cnt, 4, d);
    char e3[256] = "";
    m = fmemopen(e3, sizeof e3 - 1, "w");
    dw_print_micro_density(m, d);
    fclose(m);
    CHECK("densities: none for a stage with no epoch or where the kind does not count (W), per "
          "minute of the stage otherwise",
          d[DW_N2][0] == DW_NONE && d[DW_R][1] == DW_NONE && d[DW_N3][0] == 2.0 && d[DW_N3][1] == 8.0 &&
          d[DW_W][0] == DW_NONE && !strcmp(e3, "  spindles none in N2, 2.0 in N3; slow waves 8.0/min in N3, none in N2\n"),
          "%s", e3);

    /* Case 05 of ../shared/cases: a 10-min gap (20 unscored epochs) inside the night is not time in bed. The
     * same hypnogram with and without the gap gives the same TIB, SPT, TST, WASO, SE and percentages. */
    signed char g[80], c[60];
    int ng = 0, nc = 0;
    for (int i = 0; i < 60; i++) {
        int st = i < 6 ? DW_W : i < 30 ? DW_N2 : i == 30 ? DW_W : i < 45 ? DW_N3 : DW_R;
        c[nc++] = (signed char)st;
        g[ng++] = (signed char)st;
        if (i == 35)
            for (int k = 0; k < 20; k++)
                g[ng++] = DW_UNSCORED;
    }
    dw_sleep_stats sg, sc;
    dw_sleep_stats_compute(g, ng, &sg);
    dw_sleep_stats_compute(c, nc, &sc);
    CHECK("a gap is not time in bed: TIB, SPT, TST, WASO, SOL, SE equal the gap-free night's",
          sg.tib_min == 30 && sg.tib_min == sc.tib_min && sg.spt_min == sc.spt_min && sg.tst_min == sc.tst_min &&
          sg.waso_min == sc.waso_min && sg.sol_min == sc.sol_min && sg.se_pct == sc.se_pct &&
          sg.stage_pct[DW_N3] == sc.stage_pct[DW_N3] && sg.unscored == 20 && sg.awakenings == sc.awakenings &&
          sg.rem_latency_min == sc.rem_latency_min, "TIB %g/%g SPT %g/%g SE %g/%g", sg.tib_min, sc.tib_min,
          sg.spt_min, sc.spt_min, sg.se_pct, sc.se_pct);

    test_too_short();

    /* REM periods: R runs 29 epochs (14.5 min) apart are one period, 30 epochs (15 min) apart two. */
    signed char rp[200];
    int nr = 0;
    for (int i = 0; i < 3; i++) rp[nr++] = DW_R;
    for (int i = 0; i < 29; i++) rp[nr++] = DW_N2;
    rp[nr++] = DW_R;
    int one = dw_rem_periods(rp, nr);
    for (int i = 0; i < 30; i++) rp[nr++] = DW_N2;
    rp[nr++] = DW_R;
    CHECK("REM periods: 15-min gap",
          one == 1 && dw_rem_periods(rp, nr) == 2 && dw_rem_periods(none, 5) == 0,
          "%d then %d", one, dw_rem_periods(rp, nr));

    /* Agreement: random pair vs sklearn's cohen_kappa_score / f1_score. */
    enum { N = 500 };
    signed char a[N], b[N];
    unsigned seed = 7;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        a[i] = (signed char)((seed >> 16) % 5);
        seed = seed * 1103515245u + 12345u;
        b[i] = (seed >> 16) % 3 == 0 ? (signed char)((seed >> 20) % 5) : a[i];
    }
    a[3] = DW_UNSCORED;                      /* skipped in both */
    dw_agreement ag;
    dw_agreement_compute(a, b, N, &ag);
    CHECK("agreement skips unscored", ag.n == N - 1, "%ld", ag.n);
    FILE *f = fopen("/tmp/dw-agree.txt", "w");
    for (int i = 0; i < N; i++)
        if (a[i] >= 0) fprintf(f, "%d %d\n", a[i], b[i]);
    fclose(f);
    FILE *p = popen("/usr/bin/python3 -c \"import numpy as np; from sklearn.metrics import cohen_kappa_score, f1_score, accuracy_score; "
                    "d=np.loadtxt('/tmp/dw-agree.txt',dtype=int); "
                    "print('%.12f %.12f %.12f' % (accuracy_score(d[:,0],d[:,1]), cohen_kappa_score(d[:,0],d[:,1]), f1_score(d[:,0],d[:,1],average='macro')))\" 2>/dev/null", "r");
    double acc, kap, mf1;
    if (p && fscanf(p, "%lf %lf %lf", &acc, &kap, &mf1) == 3) {
        CHECK("accuracy = sklearn", tap_close(ag.accuracy, acc, 1e-9, 0), "%g vs %g", ag.accuracy, acc);
        CHECK("kappa = sklearn", tap_close(ag.kappa, kap, 1e-9, 0), "%g vs %g", ag.kappa, kap);
        CHECK("macro-F1 = sklearn", tap_close(ag.macro_f1, mf1, 1e-9, 0), "%g vs %g", ag.macro_f1, mf1);
    } else {
        SKIP("agreement vs sklearn", "python3-sklearn not available");
    }
    if (p) pclose(p);
    unlink("/tmp/dw-agree.txt");
    TAP_DONE();
}
