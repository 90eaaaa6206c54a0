/* Alert rules and engine: for each rule, inject its cause (generated signals, data-path figures, stage
 * sequences) and check that exactly one alert is raised within its hysteresis and clears when the cause
 * goes; a clean night raises nothing above info; acknowledge, snooze and repeats of critical alerts. */
#include "tap.h"
#include "noise.h"

#include "session/alerts.h"
#include "app/config.h"

#define FS 250.0
#define BLOCK 25                /* frames per block: 0.1 s */
#define WALL0 1.7e9

static dw_session_cfg cfg;
static dw_source_info info;

/* Every event the engine reports. */
#define MAXEV 4096
static struct { int ev, rule, sev; double t, wall; char text[96]; } evs[MAXEV];
static int nev;
static void on_event(void *ctx, int ev, const dw_alert_view *a, double t, double wall)
{
    (void)ctx;
    if (nev == MAXEV)
        return;
    evs[nev].ev = ev;
    evs[nev].rule = -1;
    for (int r = 0; r < DW_AL_NRULES; r++)
        if (!strcmp(a->rule, dw_rule_name(r)))
            evs[nev].rule = r;
    evs[nev].sev = a->severity;
    evs[nev].t = t;
    evs[nev].wall = wall;
    snprintf(evs[nev].text, sizeof evs[nev].text, "%s", a->text);
    nev++;
}

/* The signal rules take the one quality verdict (dsp/quality.h): blocks go through it as the pipeline
 * sends them. */
static dw_quality *quality;
static dw_alerts *cur;
static double cur_wall;
static void on_second(void *ctx, const dw_quality_second *q)
{
    (void)ctx;
    dw_alerts_quality(cur, q, &info, cur_wall);
}

static dw_alerts *fresh(void)
{
    nev = 0;
    dw_quality_free(quality);
    dw_quality_cfg qc = dw_quality_settings(&cfg);
    quality = dw_quality_new(info.nch, info.fs, info.phys_lo, info.phys_hi, &qc);
    return dw_alerts_new(&cfg, on_event, NULL);
}


/* Clean sleep-like EEG, about 25 uV rms. */
static double eeg(double t, int ch)
{
    return 20 * sin(2 * M_PI * 1.3 * t + ch) + 10 * sin(2 * M_PI * 6.1 * t) + 5 * sin(2 * M_PI * 10.7 * t + 2 * ch)
         + 5 * noise_gauss();
}

enum { C_NONE, C_FLAT, C_RAILED, C_MAINS50, C_MAINS60, C_ARTEFACT, C_MOVE, C_LOSS, C_FLAT_BOTH };
#define LOSS_GAP 3   /* frames lost before each block while the loss cause is on */

/* Blocks from t0 to t1 with the cause active between c0 and c1; the wall clock is WALL0 + t. */
static void feed(dw_alerts *a, double t0, double t1, int cause, double c0, double c1)
{
    double buf[BLOCK * 2];
    for (double t = t0; t < t1 - 1e-9; t += BLOCK / info.fs) {
        int on = t >= c0 - 1e-9 && t < c1 - 1e-9;
        for (int i = 0; i < BLOCK; i++) {
            double ti = t + i / info.fs;
            for (int c = 0; c < 2; c++) {
                double v = eeg(ti, c) + 300;            /* a DC offset, as a Cyton has */
                if (on && ((cause == C_FLAT && c == 1) || cause == C_FLAT_BOTH)) v = 12.5;
                if (on && cause == C_RAILED && c == 0) v = 187500;
                if (on && cause == C_MAINS50 && c == 0) v += 100 * sin(2 * M_PI * 50 * ti);
                if (on && cause == C_MAINS60 && c == 1) v += 100 * sin(2 * M_PI * 60 * ti);
                if (on && cause == C_ARTEFACT && c == 0) v += 800 * sin(2 * M_PI * 2 * ti);
                buf[i * 2 + c] = v;
            }
        }
        dw_block b = { .n = BLOCK, .uv = buf, .t0 = t, .gap = on && cause == C_LOSS ? LOSS_GAP : 0, .accel_valid = 1 };
        b.accel[2] = 1;
        if (on && cause == C_MOVE)
            b.accel[0] = 0.5 * sin(2 * M_PI * 0.5 * t);
        dw_alerts_block(a, &b, &info, WALL0 + t);
        cur = a;
        cur_wall = WALL0 + t;
        if (b.gap)
            dw_quality_gap(quality, b.gap, on_second, NULL);
        dw_quality_push(quality, b.uv, b.n, on_second, NULL);
    }
}

/* Exactly one alert raised (of rule, within [lo, hi] of its clock) and, if clo >= 0, cleared within
 * [clo, chi]; nothing else. */
static void expect_one(const char *name, int rule, double lo, double hi, double clo, double chi, int use_wall)
{
    int raised = 0, cleared = 0, other = 0;
    double tr = NAN, tc = NAN;
    for (int i = 0; i < nev; i++) {
        double tt = use_wall ? evs[i].wall - WALL0 : evs[i].t;
        if (evs[i].ev == DW_ALERT_RAISED) {
            if (evs[i].rule == rule) { raised++; tr = tt; } else other++;
        } else if (evs[i].ev == DW_ALERT_CLEARED && evs[i].rule == rule) {
            cleared++;
            tc = tt;
        }
    }
    char n1[80], n2[80];
    snprintf(n1, sizeof n1, "%s_raised_once", name);
    snprintf(n2, sizeof n2, "%s_cleared", name);
    CHECK(n1, raised == 1 && other == 0 && tr >= lo && tr <= hi, "raised %d (at %.2f, want %.1f-%.1f), other %d%s%s",
          raised, tr, lo, hi, other, other ? ": " : "", other ? evs[0].text : "");
    if (clo >= 0)
        CHECK(n2, cleared == 1 && tc >= clo && tc <= chi, "cleared %d at %.2f, want %.1f-%.1f", cleared, tc, clo, chi);
    else
        CHECK(n2, cleared == 0, "cleared %d", cleared);
}

static void test_signal_rules(void)
{
    dw_alerts *a = fresh();
    feed(a, 0, 300, C_FLAT, 100, 200);
    expect_one("flat", DW_AL_FLAT, 100 + cfg.al_flat_s, 102 + cfg.al_flat_s, 204.9, 207.1, 0);
    CHECK("flat_names_channel", nev > 0 && strstr(evs[0].text, "Pz-Oz"), "%s", nev ? evs[0].text : "");
    dw_alerts_free(a);

    /* One cause on both channels (a reference electrode off): ONE alert naming both. */
    a = fresh();
    feed(a, 0, 300, C_FLAT_BOTH, 100, 200);
    expect_one("flat_both_channels", DW_AL_FLAT, 100 + cfg.al_flat_s, 102 + cfg.al_flat_s, 204.9, 207.1, 0);
    CHECK("one_alert_names_every_channel", nev > 0 && strstr(evs[0].text, "Fpz-Cz") && strstr(evs[0].text, "Pz-Oz"),
          "%s", nev ? evs[0].text : "");
    dw_alerts_free(a);

    a = fresh();
    feed(a, 0, 300, C_RAILED, 100, 200);
    expect_one("railed", DW_AL_RAILED, 100 + cfg.al_railed_s, 102 + cfg.al_railed_s, 204.9, 207.1, 0);
    dw_alerts_free(a);

    a = fresh();
    feed(a, 0, 300, C_MAINS50, 100, 200);
    expect_one("mains50", DW_AL_MAINS, 110, 112, 209.9, 212.1, 0);
    dw_alerts_free(a);

    a = fresh();
    feed(a, 0, 150, C_MAINS60, 50, 100);
    expect_one("mains60", DW_AL_MAINS, 60, 62, 109.9, 112.1, 0);
    dw_alerts_free(a);

    a = fresh();
    feed(a, 0, 300, C_ARTEFACT, 100, 200);
    expect_one("artefact", DW_AL_ARTEFACT, 100 + cfg.al_artefact_s, 102 + cfg.al_artefact_s, 204.9, 207.1, 0);
    dw_alerts_free(a);

    a = fresh();
    feed(a, 0, 200, C_MOVE, 100, 130);
    expect_one("movement", DW_AL_MOVEMENT, 100 + cfg.al_movement_s, 101.5 + cfg.al_movement_s, 134, 139, 0);
    dw_alerts_free(a);

    /* Short flat spells (8 s on, 1 s off) never hold for flat_s = 10: hysteresis, no alert. */
    a = fresh();
    for (double t = 0; t < 300; t += 9)
        feed(a, t, t + 9, C_FLAT, t, t + 8);
    CHECK("flat_intermittent_no_alert", dw_alerts_count(a, -1) == 0, "%d alerts", dw_alerts_count(a, -1));
    dw_alerts_free(a);

    /* A switched-off rule stays silent. */
    cfg.al_flat = 0;
    a = fresh();
    feed(a, 0, 100, C_FLAT, 10, 90);
    CHECK("flat_switched_off", dw_alerts_count(a, -1) == 0, "%d alerts", dw_alerts_count(a, -1));
    cfg.al_flat = 1;
    dw_alerts_free(a);

    /* At 100 Hz mains cannot be seen: no mains rule, and no false alarm from the aliased 50 Hz. */
    info.fs = 100;
    a = fresh();
    double buf[200];
    for (int s = 0; s < 60; s++) {
        for (int i = 0; i < 100; i++)
            buf[2 * i] = buf[2 * i + 1] = eeg(s + i / 100.0, 0) + 100 * sin(M_PI * i + 0.3);
        dw_block b = { .n = 100, .uv = buf, .t0 = s };
        dw_alerts_block(a, &b, &info, WALL0 + s);
    }
    CHECK("mains_off_at_100Hz", dw_alerts_count(a, -1) == 0, "%d alerts", dw_alerts_count(a, -1));
    info.fs = FS;
    dw_alerts_free(a);
}

static void test_datapath_rules(void)
{
    dw_datapath d = { .expecting = 1 };
    dw_alerts *a = fresh();
    /* samples until t = 100, then 20 s of silence (wall clock runs on, source time stands still) */
    for (double w = 0; w < 140; w += 0.1) {
        if (w < 100 || w >= 120)
            feed(a, w, w + 0.1, C_NONE, 0, 0);
        dw_alerts_datapath(a, w < 100 ? w : 100, WALL0 + w, &d);
    }
    expect_one("no_samples", DW_AL_NO_SAMPLES, 99.9 + cfg.al_no_samples_s, 100.25 + cfg.al_no_samples_s, 119.9, 120.2, 1);
    CHECK("no_samples_critical", nev > 0 && evs[0].sev == DW_CRITICAL, "severity %d", nev ? evs[0].sev : -1);
    dw_alerts_free(a);

    /* paused: no samples expected, no alert */
    a = fresh();
    d.expecting = 0;
    for (double w = 0; w < 60; w += 0.5)
        dw_alerts_datapath(a, 0, WALL0 + w, &d);
    CHECK("no_samples_paused_silent", dw_alerts_count(a, -1) == 0, "%d alerts", dw_alerts_count(a, -1));
    d.expecting = 1;
    dw_alerts_free(a);

    /* LOSS_GAP frames lost before every block from 100 to 160 s: the loss over the sliding window
     * crosses the threshold after window * threshold / rate seconds, and falls below half the threshold
     * (hysteresis) window * (1 - threshold / 2 / rate) seconds after the loss stops; clear_s = 10 s later
     * the alert clears. */
    a = fresh();
    feed(a, 0, 260, C_LOSS, 100, 160);
    {
        double rate = (double)LOSS_GAP / (BLOCK + LOSS_GAP), p = cfg.al_loss_pct / 100, win = cfg.al_loss_window_s;
        double up = 100 + win * p / rate, down = 160 + win * (1 - p / 2 / rate) + 10;
        expect_one("loss", DW_AL_LOSS, up - 2, up + 2, down - 2, down + 2, 0);
    }
    dw_alerts_free(a);

    /* A file's gaps (an EDF+D pause, case 05 of ../shared/cases: 600 s at once) are not packet loss. */
    a = fresh();
    info.live = 0;
    feed(a, 0, 100, C_NONE, 0, 0);
    {
        double buf[BLOCK * 2] = { 0 };
        for (int i = 0; i < BLOCK * 2; i++)
            buf[i] = 300 + 20 * sin(i * 0.1);
        dw_block b = { .n = BLOCK, .uv = buf, .t0 = 700, .gap = 600 * (long)FS };
        dw_alerts_block(a, &b, &info, WALL0 + 100);
    }
    feed(a, 700 + BLOCK / info.fs, 800, C_NONE, 0, 0);
    CHECK("loss: a file's 600-s gap raises no packet-loss alert", dw_alerts_count(a, DW_AL_LOSS) == 0, "%d",
          dw_alerts_count(a, DW_AL_LOSS));
    info.live = 1;
    dw_alerts_free(a);

    /* reconnects at 100 and 120: one alert, cleared a minute after the last */
    a = fresh();
    for (double w = 0; w < 300; w += 0.5) {
        d.reconnects = w >= 120 ? 2 : w >= 100 ? 1 : 0;
        dw_alerts_datapath(a, w, WALL0 + w, &d);
        feed(a, w, w + 0.5, C_NONE, 0, 0);
    }
    expect_one("reconnect", DW_AL_RECONNECT, 99.9, 100.1, 179.9, 180.6, 1);
    d.reconnects = 0;
    dw_alerts_free(a);

    /* drift grows 0.1 s per s, crosses drift_s at 300 s, then is corrected at 350 s */
    a = fresh();
    for (double w = 0; w < 400; w += 0.5) {
        d.drift_s = w < 350 ? w * 0.1 : 0;
        dw_alerts_datapath(a, w, WALL0 + w, &d);
        feed(a, w, w + 0.5, C_NONE, 0, 0);
    }
    double cross = cfg.al_drift_s / 0.1;
    expect_one("drift", DW_AL_DRIFT, cross + 10, cross + 11, 359.9, 360.6, 1);
    d.drift_s = 0;
    dw_alerts_free(a);

    /* a recording error at 50 s, fixed at 80 s */
    a = fresh();
    for (double w = 0; w < 100; w += 0.5) {
        d.rec_error = w >= 50 && w < 80;
        snprintf(d.rec_error_text, sizeof d.rec_error_text, "No space left on device");
        dw_alerts_datapath(a, w, WALL0 + w, &d);
        feed(a, w, w + 0.5, C_NONE, 0, 0);
    }
    expect_one("recording", DW_AL_RECORDING, 49.9, 50.1, 79.9, 80.1, 1);
    CHECK("recording_text_and_severity", nev > 0 && evs[0].sev == DW_CRITICAL && strstr(evs[0].text, "No space"),
          "%s", nev ? evs[0].text : "");
    dw_alerts_free(a);
}

/* Feed a stage sequence from epoch e0; top probability p. Returns the next epoch number. */
static int stages(dw_alerts *a, int e0, const char *seq, int repeat, double p)
{
    int e = e0;
    for (int r = 0; r < repeat; r++)
        for (const char *c = seq; *c; c++) {
            int st = *c == 'W' ? DW_W : *c == '1' ? DW_N1 : *c == '2' ? DW_N2 : *c == '3' ? DW_N3
                   : *c == '?' ? DW_UNSCORED : DW_R;
            double prob[DW_NSTAGES];
            for (int k = 0; k < DW_NSTAGES; k++)
                prob[k] = k == st ? p : (1 - p) / 4;
            double t = (e + 1) * 30.0;
            dw_alerts_epoch(a, t, WALL0 + t, st, prob);
            e++;
        }
    return e;
}

/* A live stream in 0.1-s blocks over wall seconds [w0, w1) (source time = wall - WALL0), losing frames at
 * a rate that rate(t) gives (NULL: none), the data path told every block. */
static void live(dw_alerts *a, dw_datapath *d, double w0, double w1, double (*rate)(double))
{
    static double acc;
    double buf[BLOCK * 2] = { 0 };
    for (double w = w0; w < w1 - 1e-9; w += BLOCK / FS) {
        for (int i = 0; i < BLOCK; i++)
            for (int c = 0; c < 2; c++)
                buf[i * 2 + c] = eeg(w + i / FS, c) + 300;
        double r = rate ? rate(w) : 0;
        acc += BLOCK * r / (1 - r);
        long gap = (long)acc;
        acc -= (double)gap;
        dw_block b = { .n = BLOCK, .uv = buf, .t0 = w, .gap = gap };
        dw_alerts_block(a, &b, &info, WALL0 + w);
        dw_alerts_datapath(a, w, WALL0 + w, d);
    }
}

static double loss_first_second(double t) { return t < 1 ? 0.06 : 0; }
static double loss_near_threshold(double t) { return 0.05 + 0.01 * sin(2 * M_PI * t / 90); }

/* An outage of off seconds at wall 100 s: the device is silent, then reconnects; its gap arrives before
 * (gap_first) or after the reconnect is counted. */
static void outage(dw_alerts *a, double off, int gap_first)
{
    dw_datapath d = { .expecting = 1 };
    double buf[BLOCK * 2] = { 0 };
    live(a, &d, 0, 100, NULL);
    for (double w = 100; w < 100 + off; w += 0.1)
        dw_alerts_datapath(a, 100, WALL0 + w, &d);
    double w = 100 + off;
    dw_block b = { .n = BLOCK, .uv = buf, .t0 = w, .gap = lround(off * FS) };
    if (gap_first)
        dw_alerts_block(a, &b, &info, WALL0 + w);
    d.reconnects = 1;
    dw_alerts_datapath(a, w, WALL0 + w, &d);
    if (!gap_first)
        dw_alerts_block(a, &b, &info, WALL0 + w + 0.05);
    live(a, &d, w + 0.1, w + 120, NULL);
}

/* Loss and gaps told straight: the loss figure is judged over a whole window (1 s of data at 6 % was
 * "6.0 % over 1 s" at t = 1.1 s), with hysteresis (a figure swinging about the threshold raised an alert
 * each swing), and one outage is one alert (an 8-s unplug gave no_samples, reconnect and loss). */
static void test_loss_straight(void)
{
    dw_datapath d = { .expecting = 1 };
    dw_alerts *a = fresh();
    live(a, &d, 0, 120, loss_first_second);
    CHECK("loss: 6 % in the first second of a night is no alert (a window is 30 s)",
          dw_alerts_count(a, DW_AL_LOSS) == 0, "%d: %s", dw_alerts_count(a, DW_AL_LOSS), nev ? evs[0].text : "");
    dw_alerts_free(a);

    a = fresh();
    live(a, &d, 0, 900, loss_near_threshold);
    const dw_alert_view *v = dw_alerts_n(a) ? dw_alerts_get(a, 0) : NULL;
    CHECK("loss: 4-6 % swinging about the 5 % threshold for 15 min is one alert, not one per swing",
          dw_alerts_count(a, DW_AL_LOSS) == 1 && dw_alerts_count(a, -1) == 1, "%d loss alerts of %d",
          dw_alerts_count(a, DW_AL_LOSS), dw_alerts_count(a, -1));
    CHECK("loss: the text says the window", v && strstr(v->text, "over the last 30 s"), "%s", v ? v->text : "none");
    dw_alerts_free(a);

    for (int order = 0; order < 2; order++) {
        char name[120];
        a = fresh();
        outage(a, 8, order);
        snprintf(name, sizeof name, "outage: an 8-s unplug is one alert, no_samples (gap %s the reconnect)",
                 order ? "before" : "after");
        CHECK(name, dw_alerts_count(a, -1) == 1 && dw_alerts_count(a, DW_AL_NO_SAMPLES) == 1,
              "%d alerts: no_samples %d reconnect %d loss %d", dw_alerts_count(a, -1),
              dw_alerts_count(a, DW_AL_NO_SAMPLES), dw_alerts_count(a, DW_AL_RECONNECT), dw_alerts_count(a, DW_AL_LOSS));
        dw_alerts_free(a);
        a = fresh();
        outage(a, 2, order);
        snprintf(name, sizeof name, "outage: a 2-s unplug is one alert, reconnect (gap %s the reconnect)",
                 order ? "before" : "after");
        CHECK(name, dw_alerts_count(a, -1) == 1 && dw_alerts_count(a, DW_AL_RECONNECT) == 1,
              "%d alerts: no_samples %d reconnect %d loss %d", dw_alerts_count(a, -1),
              dw_alerts_count(a, DW_AL_NO_SAMPLES), dw_alerts_count(a, DW_AL_RECONNECT), dw_alerts_count(a, DW_AL_LOSS));
        dw_alerts_free(a);
    }
}

static void test_sleep_rules(void)
{
    /* 65 min of wake, then sleep: the alert at 60 min, cleared at onset */
    dw_alerts *a = fresh();
    int e = stages(a, 0, "W", 130, 0.9);
    stages(a, e, "12", 10, 0.9);
    expect_one("no_onset", DW_AL_NO_ONSET, cfg.al_no_onset_min * 60, cfg.al_no_onset_min * 60 + 30, 130 * 30 + 30,
               130 * 30 + 30, 0);
    dw_alerts_free(a);

    /* an hour of unscored epochs (a flat channel) is not an hour without sleep: 20 min unscored, then
     * 65 min of wake: raised 60 min scored awake after lights-off, i.e. at 80 min (first-use test) */
    a = fresh();
    e = stages(a, 0, "?", 40, 0.2);
    e = stages(a, e, "W", 130, 0.9);
    stages(a, e, "12", 10, 0.9);
    expect_one("no_onset_counts_scored_wake", DW_AL_NO_ONSET, 40 * 30 + cfg.al_no_onset_min * 60,
               40 * 30 + cfg.al_no_onset_min * 60 + 30, 170 * 30 + 30, 170 * 30 + 30, 0);
    dw_alerts_free(a);

    a = fresh();
    e = stages(a, 0, "W122223333", 3, 0.9);
    int w0 = e;
    e = stages(a, e, "W", 70, 0.9);
    stages(a, e, "122", 2, 0.9);
    double lw = w0 * 30.0 + cfg.al_long_waso_min * 60;
    expect_one("long_waso", DW_AL_LONG_WASO, lw, lw + 30, (w0 + 71) * 30.0, (w0 + 71) * 30.0, 0);
    dw_alerts_free(a);

    a = fresh();
    e = stages(a, 0, "W1222333322", 1, 0.9);
    int r0 = e;
    e = stages(a, e, "R", 130, 0.9);
    stages(a, e, "2", 4, 0.9);
    double lr = r0 * 30.0 + cfg.al_long_rem_min * 60;
    expect_one("long_rem", DW_AL_LONG_REM, lr, lr + 30, (r0 + 131) * 30.0, (r0 + 131) * 30.0, 0);
    dw_alerts_free(a);

    /* three awakenings out of REM within 20 min: the third raises; 60 min later the window empties */
    a = fresh();
    e = stages(a, 0, "W12223333222", 1, 0.9);
    e = stages(a, e, "RRRRWW22", 3, 0.9);
    double third = (e - 3) * 30.0;
    stages(a, e, "2222222222", 14, 0.9);
    double gone = third - 2 * 8 * 30.0 + cfg.al_rem_awakenings_min * 60;
    expect_one("rem_awakenings", DW_AL_REM_AWAKENINGS, third, third, gone, gone + 31, 0);
    dw_alerts_free(a);

    /* N2 -> N1 shifts every 1.5 min: 20 within the hour after 30 min, then quiet N2 */
    a = fresh();
    e = stages(a, 0, "W1222", 1, 0.9);
    e = stages(a, e, "122", 25, 0.9);
    int start = 5;
    stages(a, e, "2", 150, 0.9);
    double nth = (start + 3 * (int)(cfg.al_arousals_per_h - 1) + 1) * 30.0;
    /* clears when only 19 shifts remain in the hour: the 6th shift (index 5) is an hour old */
    double out = (start + 3 * 5 + 1) * 30.0 + 3600;
    expect_one("arousals", DW_AL_AROUSALS, nth - 1, nth + 1, out, out + 30.1, 0);
    dw_alerts_free(a);

    /* 25 min of top probability 0.4, then sure again */
    a = fresh();
    e = stages(a, 0, "W1222", 1, 0.9);
    e = stages(a, e, "2", 50, 0.4);
    stages(a, e, "2", 10, 0.9);
    double lc = 5 * 30.0 + cfg.al_low_confidence_min * 60;
    expect_one("low_confidence", DW_AL_LOW_CONFIDENCE, lc, lc + 30, 56 * 30.0, 56 * 30.0, 0);
    dw_alerts_free(a);

    /* lights off 23:00 local, 50 min awake, then sleep broken by a minute of W every 5.5 min: 6.5 h of
     * sleep at the planned wake time 07:00, below a 7 h target */
    cfg.al_short_sleep = 1;
    cfg.al_short_sleep_h = 7;
    a = fresh();
    struct tm tm = { .tm_year = 124, .tm_mon = 2, .tm_mday = 5, .tm_hour = 23, .tm_isdst = -1 };
    double start_wall = (double)mktime(&tm);
    dw_alerts_set_clock(a, start_wall, 0);
    e = stages(a, 0, "W", 100, 0.9);
    e = stages(a, e, "2222222222W", 79, 0.9);   /* just past 07:00, still below 7 h */
    expect_one("short_sleep", DW_AL_SHORT_SLEEP, 8 * 3600, 8 * 3600 + 30, -1, -1, 0);
    cfg.al_short_sleep_h = 6;
    cfg.al_short_sleep = 0;
    dw_alerts_free(a);
}

static void test_control_rules(void)
{
    dw_alerts *a = fresh();
    dw_alerts_cause(a, DW_AL_WAKE_FAILED, DW_AL_GLOBAL, 1, 500, 500, WALL0 + 500, -1, "wake did not take");
    dw_alerts_cause(a, DW_AL_WAKE_FAILED, DW_AL_GLOBAL, 1, 530, 530, WALL0 + 530, -1, "wake did not take");
    dw_alerts_cause(a, DW_AL_WAKE_FAILED, DW_AL_GLOBAL, 0, 560, 560, WALL0 + 560, -1, NULL);
    expect_one("wake_failed", DW_AL_WAKE_FAILED, 500, 500, 560, 560, 0);
    dw_alerts_free(a);

    a = fresh();   /* two actuators failing are two causes */
    dw_alerts_cause(a, DW_AL_ACTUATOR_FAILED, 0, 1, 10, 10, WALL0, -1, "stimulus: not found");
    dw_alerts_cause(a, DW_AL_ACTUATOR_FAILED, 0, 1, 11, 11, WALL0, -1, "stimulus: not found");
    dw_alerts_cause(a, DW_AL_ACTUATOR_FAILED, 2, 1, 12, 12, WALL0, DW_CRITICAL, "wake: not found");
    CHECK("actuator_failed_per_actuator", dw_alerts_count(a, DW_AL_ACTUATOR_FAILED) == 2 &&
          dw_alerts_open(a, DW_AL_ACTUATOR_FAILED, 2)->severity == DW_CRITICAL, "%d alerts",
          dw_alerts_count(a, DW_AL_ACTUATOR_FAILED));
    dw_alerts_free(a);
}

static void test_engine(void)
{
    dw_datapath d = { .expecting = 0, .rec_error = 1 };
    dw_alerts *a = fresh();
    dw_alerts_datapath(a, 0, 1000, &d);
    int repeats = 0;
    for (double w = 1000; w <= 1300; w += 1) {
        dw_alerts_tick(a, 0, w);
    }
    for (int i = 0; i < nev; i++)
        repeats += evs[i].ev == DW_ALERT_REPEAT;
    CHECK("critical_repeats_every_repeat_s", repeats == (int)(300 / cfg.al_repeat_s), "%d repeats", repeats);
    CHECK("critical_open_blocks", dw_alerts_critical_open(a), "not open");
    CHECK("ack_newest", dw_alerts_ack(a, -1, 0, 1300) == 0 && dw_alerts_get(a, 0)->acked, "ack failed");
    CHECK("ack_twice_fails", dw_alerts_ack(a, -1, 0, 1300) < 0, "acked again");
    int before = nev;
    double snooze_end = 1300 + cfg.al_snooze_min * 60;
    for (double w = 1301; w < snooze_end - 1; w += 1)
        dw_alerts_tick(a, 0, w);
    CHECK("ack_silences_repeats", nev == before, "%d events while snoozed", nev - before);
    CHECK("acked_but_active_still_blocks", dw_alerts_critical_open(a), "not open");
    for (double w = snooze_end - 1; w <= snooze_end + cfg.al_repeat_s + 1; w += 1)
        dw_alerts_tick(a, 0, w);
    int rearm = 0, rep = 0;
    for (int i = before; i < nev; i++) {
        rearm += evs[i].ev == DW_ALERT_REARMED;
        rep += evs[i].ev == DW_ALERT_REPEAT;
    }
    CHECK("snooze_ends_rearm_and_repeat", rearm == 1 && rep == 1, "rearm %d repeat %d", rearm, rep);
    d.rec_error = 0;
    dw_alerts_datapath(a, 0, snooze_end + 100, &d);
    CHECK("cleared_unacked_still_open", dw_alerts_critical_open(a) && !dw_alerts_get(a, 0)->active, "state");
    CHECK("ack_by_id", dw_alerts_ack(a, 1, 0, snooze_end + 101) == 0 && !dw_alerts_critical_open(a), "still open");
    CHECK("ack_unknown_id", dw_alerts_ack(a, 99, 0, 0) < 0, "acked id 99");

    dw_alert_view av[DW_MAX_ALERTS];
    unsigned long ver = dw_alerts_version(a);
    int nav = dw_alerts_view(a, av, DW_MAX_ALERTS);
    CHECK("view_copies", nav == 1 && av[0].id == 1 && !av[0].active, "n %d", nav);
    dw_alerts_tick(a, 0, snooze_end + 102);
    CHECK("version_only_on_change", dw_alerts_version(a) == ver, "v %lu -> %lu", ver, dw_alerts_version(a));
    dw_alerts_free(a);

    /* The repeats stop when the cause clears; the cleared critical alert then waits, silent, for one
     * acknowledgement (and blocks stimulation until it gets it). */
    a = fresh();
    d.rec_error = 1;
    dw_alerts_datapath(a, 0, 2000, &d);
    for (double w = 2000; w <= 2075; w += 1)
        dw_alerts_tick(a, 0, w);
    d.rec_error = 0;
    dw_alerts_datapath(a, 0, 2076, &d);
    int rep_before = 0, rep_after = 0, seen_clear = 0;
    for (double w = 2076; w <= 2076 + 20 * cfg.al_repeat_s; w += 1)
        dw_alerts_tick(a, 0, w);
    for (int i = 0; i < nev; i++) {
        seen_clear |= evs[i].ev == DW_ALERT_CLEARED;
        if (evs[i].ev == DW_ALERT_REPEAT) seen_clear ? rep_after++ : rep_before++;
    }
    CHECK("repeats_stop_when_cleared", rep_before == 1 && rep_after == 0 && seen_clear,
          "%d repeats before the clear, %d after", rep_before, rep_after);
    const dw_alert_view *bl = dw_alerts_blocking(a);
    CHECK("cleared_unacked_critical_named_as_blocking", bl && bl->id == 1 && !bl->active && !bl->acked, "%s",
          bl ? bl->text : "none");
    dw_alerts_free(a);

    /* `a` takes the alert that most needs it: a critical one raised first, then a warning; the critical
     * one is acknowledged first (not the newest), then the warning. */
    a = fresh();
    dw_alerts_cause(a, DW_AL_WAKE_FAILED, DW_AL_GLOBAL, 1, 10, 10, WALL0 + 10, -1, "wake did not take");
    dw_alerts_cause(a, DW_AL_ACTUATOR_FAILED, 0, 1, 20, 20, WALL0 + 20, -1, "stimulus: not found");
    dw_alerts_cause(a, DW_AL_STIM_LIMIT, DW_AL_GLOBAL, 1, 30, 30, WALL0 + 30, -1, "limit");
    int ok1 = dw_alerts_ack(a, -1, 40, WALL0 + 40) == 0 && dw_alerts_get(a, 0)->acked && !dw_alerts_get(a, 1)->acked;
    int ok2 = dw_alerts_ack(a, -1, 41, WALL0 + 41) == 0 && dw_alerts_get(a, 1)->acked && !dw_alerts_get(a, 2)->acked;
    CHECK("ack_most_severe_first", ok1 && ok2, "first ack took the critical: %d, second the warning: %d", ok1, ok2);
    dw_alerts_free(a);

    /* More alerts than the monitor holds: every open one survives, the oldest closed ones go. */
    a = fresh();
    dw_alerts_cause(a, DW_AL_WAKE_FAILED, DW_AL_GLOBAL, 1, 0, 0, 0, -1, "open critical");
    for (int i = 0; i < 100; i++) {
        dw_alerts_cause(a, DW_AL_STIM_LIMIT, 0, 1, i, i, 0, -1, "x");
        dw_alerts_cause(a, DW_AL_STIM_LIMIT, 0, 0, i + 0.5, i + 0.5, 0, -1, NULL);
    }
    for (int i = 2; i <= 101; i++)
        dw_alerts_ack(a, i, 0, 0);
    nav = dw_alerts_view(a, av, DW_MAX_ALERTS);
    CHECK("view_keeps_open_drops_old", nav == DW_MAX_ALERTS && av[0].id == 1 &&
          av[DW_MAX_ALERTS - 1].id == 101 && av[1].id == 101 - DW_MAX_ALERTS + 2,
          "n %d first %u second %u last %u", nav, av[0].id, av[1].id, av[DW_MAX_ALERTS - 1].id);
    dw_alerts_free(a);
}

/* A realistic night: clean signals, no data-path trouble, a normal hypnogram. Nothing above info. */
static void test_clean_night(void)
{
    dw_alerts *a = fresh();
    struct tm tm = { .tm_year = 124, .tm_mon = 2, .tm_mday = 5, .tm_hour = 23, .tm_min = 30, .tm_isdst = -1 };
    dw_alerts_set_clock(a, (double)mktime(&tm), 0);
    cfg.al_short_sleep = 1;
    /* five cycles, minutes per stage: 7.8 h in bed from 23:30, planned wake 07:00 */
    static const struct { char st; int min; } night[] = {
        { 'W', 15 }, { '1', 5 }, { '2', 20 }, { '3', 35 }, { '2', 10 }, { 'R', 10 },
        { '1', 2 }, { '2', 25 }, { '3', 30 }, { '2', 15 }, { 'R', 20 },
        { 'W', 1 }, { '1', 2 }, { '2', 35 }, { '3', 15 }, { '2', 15 }, { 'R', 25 },
        { '1', 2 }, { '2', 45 }, { '3', 5 }, { '2', 10 }, { 'R', 30 },
        { 'W', 1 }, { '1', 2 }, { '2', 50 }, { 'R', 30 }, { '1', 1 }, { 'W', 10 },
    };
    info.fs = 125;                  /* mains still judged (62.5 Hz Nyquist), half the work of 250 Hz */
    dw_datapath d = { .expecting = 1 };
    int e = 0;
    for (size_t j = 0; j < sizeof night / sizeof night[0]; j++)
        for (int k = 0; k < night[j].min * 2; k++) {
            char one[2] = { night[j].st, 0 };
            feed(a, e * 30.0, e * 30.0 + 30, C_NONE, 0, 0);
            for (int s = 0; s < 30; s++) {
                d.drift_s = 1e-5 * (e * 30.0 + s);
                dw_alerts_datapath(a, e * 30.0 + s, WALL0 + e * 30.0 + s, &d);
            }
            e = stages(a, e, one, 1, 0.85);
        }
    info.fs = FS;
    int loud = 0, info_n = 0;
    for (int i = 0; i < nev; i++)
        if (evs[i].ev == DW_ALERT_RAISED) {
            if (evs[i].sev >= DW_WARNING) {
                loud++;
                printf("# clean night alert: %s at %.0f s\n", evs[i].text, evs[i].t);
            } else {
                info_n++;
            }
        }
    printf("# clean night: %.1f h, %d info alerts\n", e * 30 / 3600.0, info_n);
    CHECK("clean_night_no_warning", loud == 0 && e * 30 > 7 * 3600, "%d warning/critical alerts", loud);
    CHECK("clean_night_no_info", info_n == 0, "%d info alerts", info_n);
    cfg.al_short_sleep = 0;
    dw_alerts_free(a);
}

int main(void)
{
    dw_config all;
    dw_config_defaults(&all);
    cfg = all.session;
    memset(&info, 0, sizeof info);
    info.nch = 2;
    info.fs = FS;
    info.phys_max_uv = 187500;
    for (int c = 0; c < 2; c++) {
        info.phys_lo[c] = -187500;
        info.phys_hi[c] = 187500;
    }
    info.live = 1;                  /* a Cyton; the loss rule is for live sources only */
    info.frontal = 0;
    info.parietal = 1;
    snprintf(info.label[0], DW_LABEL_LEN, "Fpz-Cz");
    snprintf(info.label[1], DW_LABEL_LEN, "Pz-Oz");
    test_signal_rules();
    test_datapath_rules();
    test_loss_straight();
    test_sleep_rules();
    test_control_rules();
    test_engine();
    test_clean_night();
    dw_quality_free(quality);
    TAP_DONE();
}
