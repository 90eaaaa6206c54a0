/* The research protocol's parts with explicit inputs: the protocol file (the shipped example,
 * defaults, errors with their line), the serial-awakening schedule (dwell, random waits from the
 * seed, spacing, nightly maximum, the clock window over midnight), sham conditions (per night,
 * seeded random at its ratio), memory cues in rotation, the arousal watch (a power rise, a sign, a
 * quiet window), the evoked average; and the session driven through a night with the protocol:
 * natural mode gives nothing at all, enhanced mode only what the rules allow. */
#include "tap.h"
#include "noise.h"

#include "app/config.h"
#include "session/arousal.h"
#include "session/awakening.h"
#include "session/evoked.h"
#include "session/protocol.h"
#include "session/session.h"
#include "session/sham.h"
#include "session/tmr.h"

static char dir[] = "/tmp/dw-protocol-XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    static char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_example(void)
{
    dw_protocol p;
    dw_err err = { 0 };
    int r = dw_protocol_load(&p, DW_SRCDIR "/sample-data/protocol.example.ini", &err);
    CHECK("protocol: the shipped example loads", r == 0, "%s", err.msg);
    CHECK("protocol: example values",
          p.loaded && p.aw_enabled && p.aw_ntargets == 2 && p.aw_target[0] == DW_N2 &&
              p.aw_dwell_min[0] == 5 && p.aw_target[1] == DW_R && p.aw_dwell_min[1] == 10 &&
              p.nq == 3 && p.q[0].type == DW_ANSWER_YESNO && p.q[0].timeout_s == 60 &&
              p.q[1].type == DW_ANSWER_SCALE && p.q[1].timeout_s == 120 &&
              !strcmp(p.q[1].high, "as real as waking life") && p.q[2].type == DW_ANSWER_TEXT &&
              p.sham_mode == DW_SHAM_RANDOM && p.sham_ratio == 0.5 && p.blind && p.cue_enabled &&
              p.cue_stages == (1 << DW_N3) && p.ncued == 3 && !strcmp(p.cued[2], "cue-bell.wav") &&
              p.nuncued == 2 && !strcmp(p.aw_not_after, "05:30") && p.aw_seed == 17,
          "parsed differently");
    dw_protocol d;
    dw_protocol_defaults(&d);
    CHECK("protocol: defaults enable nothing",
          !d.loaded && !d.aw_enabled && !d.cue_enabled && d.sham_mode == DW_SHAM_OFF,
          "enabled by default");
}

static void test_errors(void)
{
    static const struct { const char *text, *want;
    } cases[] = {
        {"[cues]\nstage = W\n", ":2: [cues] stage: 'W'"},
        {"[awakenings]\ntargets = N2\n", ":2: [awakenings] targets: 'N2': expected STAGE:MINUTES"},
        {"[awakenings]\nnot_after = 25:00\n",
         ":2: [awakenings] not_after: '25:00' is not a clock time"},
        {"[question 17]\ntext = x\n", ":2: [question 17]: questions are numbered 1..16"},
        {"[sham]\nratio = 1.5\n", ":2: [sham] ratio: 1.5 is outside 0..1"},
        {"[sham]\nseed = -3\n", ":2: [sham] seed: '-3' is not a whole number"},
        {"[protocol]\nname = a\n[other]\nx = 1\n", ":4: [other] x: unknown section"},
        {"[cues]\ncued = a,,b\n", ":2: [cues] cued: an empty item"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dw_protocol p;
        dw_err err = { 0 };
        const char *path = write_file("bad.ini", cases[i].text);
        if (dw_protocol_load(&p, path, &err) == 0 || !strstr(err.msg, cases[i].want) ||
            strncmp(err.msg, path, strlen(path))) {
            printf("# case %zu: '%s'\n", i, err.msg);
            bad++;
        }
    }
    CHECK("protocol: bad files give FILE:LINE: [section] key: problem", bad == 0, "%d of 8 wrong",
          bad);
}

static void test_schedule(void)
{
    dw_protocol p;
    dw_protocol_defaults(&p);
    p.aw_enabled = 1;
    p.aw_ntargets = 1;
    p.aw_target[0] = DW_N2;
    p.aw_dwell_min[0] = 5;
    p.aw_first_min = 30;
    p.aw_interval_min = 20;
    p.aw_interval_max = 40;
    p.aw_spacing_min = 15;
    p.aw_max = 3;
    p.aw_seed = 99;
    dw_awaken a;
    dw_awaken_init(&a, &p, 600);                     /* lights-off at 10 min */
    for (int e = 0; e < 9; e++)
        dw_awaken_epoch(&a, DW_N2);
    int early = dw_awaken_due(&a, 4000, -1);         /* 9 epochs: not yet */
    dw_awaken_epoch(&a, DW_N2);
    int dwell = dw_awaken_due(&a, 4000, -1), before = dw_awaken_due(&a, 600 + 1799, -1);
    CHECK("awakenings: due after 10 epochs of N2 and 30 min after lights-off, not before",
          early < 0 && dwell == 0 && before < 0, "9 epochs %d, 10 epochs %d, 29.98 min %d", early,
          dwell, before);
    dw_awaken_epoch(&a, DW_UNSCORED);
    CHECK("awakenings: an unscored epoch breaks the dwell", dw_awaken_due(&a, 4000, -1) < 0,
          "still due");
    for (int e = 0; e < 10; e++)
        dw_awaken_epoch(&a, DW_N2);
    dw_awakening *w = dw_awaken_start(&a, 0, 4000, 1e9);
    CHECK("awakenings: the record",
          w->id == 1 && w->stage == DW_N2 && fabs(w->dwell_min - 5) < 1e-9 &&
              a.state == DW_AW_ALARM && dw_awaken_due(&a, 5000, -1) < 0,
          "id %ld dwell %.1f state %d", w->id, w->dwell_min, a.state);
    dw_awaken_asleep(&a, 4300);
    double wait1 = a.earliest_t - 4300;
    CHECK("awakenings: the next one is drawn 20-40 min after falling asleep",
          wait1 >= 1200 && wait1 <= 2400, "%.0f s", wait1);
    dw_awaken b;
    dw_awaken_init(&b, &p, 600);
    dw_awaken_start(&b, 0, 4000, 1e9);
    dw_awaken_asleep(&b, 4300);
    CHECK("awakenings: the same seed draws the same wait", b.earliest_t == a.earliest_t,
          "%.3f vs %.3f", b.earliest_t, a.earliest_t);
    /* spacing and maximum */
    p.aw_interval_min = p.aw_interval_max = 0;
    dw_awaken_asleep(&a, 4300);
    for (int e = 0; e < 10; e++)
        dw_awaken_epoch(&a, DW_N2);
    int spaced = dw_awaken_due(&a, 4000 + 899, -1), after = dw_awaken_due(&a, 4000 + 900, -1);
    dw_awaken_start(&a, 0, 4900, 1e9);
    dw_awaken_asleep(&a, 5000);
    dw_awaken_start(&a, 0, 6000, 1e9);
    dw_awaken_asleep(&a, 6100);
    for (int e = 0; e < 10; e++)
        dw_awaken_epoch(&a, DW_N2);
    CHECK("awakenings: 15 min apart at least, 3 a night at most",
          spaced < 0 && after == 0 && dw_awaken_due(&a, 9000, -1) < 0, "spacing %d/%d, 4th %d",
          spaced, after, dw_awaken_due(&a, 9000, -1));
    /* the clock window over midnight: 23:00-05:30 */
    dw_awaken c;
    snprintf(p.aw_not_before, sizeof p.aw_not_before, "23:00");
    snprintf(p.aw_not_after, sizeof p.aw_not_after, "05:30");
    dw_awaken_init(&c, &p, 0);
    for (int e = 0; e < 10; e++)
        dw_awaken_epoch(&c, DW_N2);
    CHECK("awakenings: a clock window over midnight", dw_awaken_due(&c, 4000, 23 * 60 + 5) == 0 &&
          dw_awaken_due(&c, 4000, 2 * 60) == 0 && dw_awaken_due(&c, 4000, 5 * 60 + 31) < 0 &&
          dw_awaken_due(&c, 4000, 22 * 60 + 59) < 0, "window wrong");
    dw_awaken_free(&a);
    dw_awaken_free(&b);
    dw_awaken_free(&c);
}

static void test_sham_and_cues(void)
{
    dw_sham s, t;
    dw_sham_init(&s, DW_SHAM_RANDOM, 0.3, 5);
    dw_sham_init(&t, DW_SHAM_RANDOM, 0.3, 5);
    int n = 0, same = 1;
    for (int i = 0; i < 10000; i++) {
        int c = dw_sham_next(&s);
        n += c == DW_SHAM;
        same &= c == dw_sham_next(&t);
    }
    CHECK("sham: random at its ratio (0.3 of 10000), the same sequence from the same seed",
          n > 2850 && n < 3150 && same, "%d sham, same %d", n, same);
    dw_sham_init(&s, DW_SHAM_NIGHT, 0, 0);
    dw_sham_init(&t, DW_SHAM_OFF, 0.9, 0);
    CHECK("sham: a sham night is all sham, none without a protocol",
          dw_sham_next(&s) == DW_SHAM && dw_sham_next(&t) == DW_ACTIVE, "wrong");
    dw_protocol p;
    dw_protocol_defaults(&p);
    p.cue_enabled = 1;
    p.ncued = 3;
    p.cue_stages = 1 << DW_N3;
    p.cue_after_epochs = 2;
    p.cue_interval_s = 10;
    p.cue_max = 4;
    dw_tmr c;
    dw_tmr_init(&c, &p);
    dw_tmr_epoch(&c, DW_N3);
    int first = dw_tmr_due(&c, 100);
    dw_tmr_epoch(&c, DW_N3);
    int items[5], k = 0;
    double tt = 100;
    for (; tt < 200 && k < 5; tt += 1)
        if (dw_tmr_due(&c, tt))
            items[k++] = dw_tmr_take(&c, tt);
    CHECK("memory cues: after 2 epochs of N3, every 10 s, items in rotation, 4 at most",
          !first && k == 4 && items[0] == 0 && items[1] == 1 && items[2] == 2 && items[3] == 0 &&
              !dw_tmr_due(&c, 500),
          "first %d, %d cues", first, k);
    dw_tmr_epoch(&c, DW_N2);
    CHECK("memory cues: another stage ends the run", c.run == 0, "run %d", c.run);
}

static void test_arousal(void)
{
    double fs = 250;
    dw_arousal a;
    dw_arousal_init(&a, 5, 3);
    dw_arousal_result r;
    int verdicts = 0, aroused = 0;
    /* 20 s of noise, a stimulus, 5 quiet seconds; another, with 10 Hz of 3x the noise's alpha power
     * after */
    for (int i = 0; i < (int)(60 * fs); i++) {
        double t = i / fs, x = 10 * noise_gauss();
        if (t >= 45.5 && t < 49.5)
            x += 30 * sin(2 * M_PI * 10 * t);
        if (i == (int)(20 * fs))
            dw_arousal_stimulus(&a, t, 1);
        if (i == (int)(45 * fs))
            dw_arousal_stimulus(&a, t, 2);
        dw_arousal_sample(&a, fs, t, x);
        if (dw_arousal_take(&a, t, &r)) {
            verdicts++;
            aroused += r.aroused;
            if (r.first_id == 1)
                CHECK("arousal: a quiet window ends quiet at its end",
                      !r.aroused && fabs(r.t - 25) < 0.01, "aroused %d at %.2f (%s)", r.aroused,
                      r.t, r.cause);
            else
                CHECK("arousal: 4 s of alpha after a stimulus is an arousal within the window",
                      r.aroused && !strncmp(r.cause, "alpha x", 7) && r.t > 45 && r.t <= 50,
                      "aroused %d at %.2f (%s)", r.aroused, r.t, r.cause);
        }
    }
    CHECK("arousal: one verdict per watch", verdicts == 2 && aroused == 1,
          "%d verdicts, %d aroused", verdicts, aroused);
    dw_arousal_stimulus(&a, 70, 3);
    dw_arousal_sign(&a, 71, "movement");
    CHECK("arousal: a sign inside the window",
          dw_arousal_take(&a, 71, &r) && r.aroused && !strcmp(r.cause, "movement") &&
              r.first_id == 3,
          "no verdict");
    dw_arousal_sign(&a, 80, "movement");
    CHECK("arousal: a sign outside any window is nothing", !dw_arousal_take(&a, 80, &r),
          "a verdict");
}

static void test_evoked(void)
{
    dw_evoked e;
    dw_evoked_init(&e);
    double fs = 200;
    /* a response of -50 uV at +0.5 s after every stimulus (a Gaussian of 0.1 s) in noise; sham:
     * none */
    int n = (int)(400 * fs);
    for (int i = 0; i < n; i++) {
        double t = i / fs, x = 5 * noise_gauss();
        double ts = floor(t / 8) * 8 + 2;             /* a stimulus every 8 s, at 2 s into each 8 */
        if (((int)(ts / 8)) % 2 == 0)
            x += -50 * exp(-0.5 * pow((t - ts - 0.5) / 0.1, 2));
        if (fmod(t, 8) >= 2 && fmod(t, 8) < 2 + 1 / fs)
            dw_evoked_stimulus(&e, t, i, ((int)(t / 8)) % 2);
        dw_evoked_sample(&e, fs, t, x);
    }
    double act[DW_EVOKED_N], sham[DW_EVOKED_N];
    int na = dw_evoked_mean(&e, 0, act), ns = dw_evoked_mean(&e, 1, sham);
    int at = (int)((DW_EVOKED_PRE_S + 0.5) / DW_EVOKED_DT);
    CHECK("evoked: active sweeps average to the response (-50 uV at +0.5 s), sham to none",
          na >= 24 && ns >= 24 && fabs(act[at] + 50) < 5 && fabs(sham[at]) < 5 && fabs(act[0]) < 5,
          "%d %d: %.1f %.1f", na, ns, act[at], sham[at]);
    dw_evoked_free(&e);
}

/* The session over a night of 1-Hz slow waves with a protocol that has everything: a hypnogram
 * cycling N2, N3, R, W; commands thrown in. */
static int nann;
static void annotate(void *ctx, double t, double dur, const char *text)
{
    (void)ctx;
    (void)t;
    (void)dur;
    (void)text;
    nann++;
}

/* A session in this mode with the counting annotate hook; NULL with the error printed. */
static dw_session *open_session(dw_session_cfg *cfg, const char *mode)
{
    snprintf(cfg->start_mode, sizeof cfg->start_mode, "%s", mode);
    dw_err err = { 0 };
    dw_session_hooks h = { .annotate = annotate };
    dw_session *s = dw_session_new(cfg, &h, &err);
    if (!s)
        printf("# %s\n", err.msg);
    return s;
}

static void night(dw_session_cfg *cfg, const char *mode, int *nstim, int *naw, int *bad_stage)
{
    dw_session *s = open_session(cfg, mode);
    if (!s) {
        *nstim = -1;
        return;
    }
    static const char cycle[] = "22222222223333333333RRRRRRRRRRRRRRRRRRRRRRW22222222222";
    double x[10];
    int e = 0;
    for (double t = 0; t < 4 * 3600; t += 0.1) {
        for (int i = 0; i < 10; i++)
            x[i] = 150 * cos(2 * M_PI * (t + i / 100.0)) + 10 * noise_gauss();
        dw_session_frontal(s, t, 100, x, 10);
        double end = t + 0.1;
        if (fmod(end + 1e-9, 30) < 0.1 - 1e-6) {
            char c = cycle[e % (sizeof cycle - 1)];
            dw_session_epoch(s, e++,
                             c == '2'   ? DW_N2
                             : c == '3' ? DW_N3
                             : c == 'R' ? DW_R
                                        : DW_W,
                             NULL);
        }
        dw_session_tick(s, end, 1e9 + end);
    }
    *nstim = dw_session_nstim(s);
    *bad_stage = 0;
    for (int i = 0; i < *nstim; i++) {
        const dw_stim *st = dw_session_stim(s, i);
        int ok = st->kind == DW_STIM_SO ? st->stage == DW_N2 || st->stage == DW_N3
               : st->kind == DW_STIM_TMR ? st->stage == DW_N3 : st->stage == DW_R;
        *bad_stage += !ok;
    }
    dw_session_view v;
    dw_session_view_get(s, &v);
    *naw = v.awakenings;
    dw_session_free(s);
}

static void test_session_night(void)
{
    static dw_config all;
    dw_config_defaults(&all);
    dw_session_cfg *cfg = &all.session;
    snprintf(cfg->stim_actuator, sizeof cfg->stim_actuator, "none");
    snprintf(cfg->cue_actuator, sizeof cfg->cue_actuator, "none");
    snprintf(cfg->wake_actuator, sizeof cfg->wake_actuator, "none");
    cfg->cue_enabled = 1;
    cfg->max_per_night = 100000;
    dw_err err = { 0 };
    if (dw_protocol_load(&cfg->protocol, DW_SRCDIR "/sample-data/protocol.example.ini", &err) < 0) {
        FAIL("session night", "%s", err.msg);
        return;
    }
    cfg->protocol.aw_first_min = 0;
    cfg->wake_timeout_s = 3600; /* the W of the cycle comes before any escalation */
    int n, naw, bad;
    nann = 0;
    night(cfg, "natural", &n, &naw, &bad);
    CHECK("session: natural mode, every protocol feature on, 4 h: no stimulus, cue, memory cue or "
          "awakening",
          n == 0 && naw == 0, "%d stimuli, %d awakenings", n, naw);
    night(cfg, "enhanced", &n, &naw, &bad);
    CHECK("session: enhanced, the same night: stimuli and cues only in their stages, awakenings",
          n > 100 && bad == 0 && naw >= 1, "%d stimuli (%d outside their stage), %d awakenings", n,
          bad, naw);
}

/* The questionnaire's clock: a headless replay at full speed (the wall clock moves 1 ms per second of
 * the night) times every question out in source time and asks the next; a live session or a replay on
 * the screen times them out on the wall clock, so the same run asks the first question only. The awakening: 10 epochs of N2, the
 * alarm, W (awake), 20 min of W, then N2. */
static int questionnaire(dw_session_cfg *cfg, int live, int screen, double *t_out, int max_out,
                         int *done)
{
    dw_session *s = open_session(cfg, "enhanced");
    if (!s)
        return -1;
    dw_session_set_source(s, live, screen);
    static const char hyp[] = "222222222222WWWWWWWWWWWWWWWWWWWWWWWWWWWWWW2222222222";
    for (int k = 1; k <= 10 * (int)(sizeof hyp - 1) * 30; k++) {
        double t = k / 10.0;
        if (k % 300 == 0) {
            char c = hyp[k / 300 - 1];
            dw_session_epoch(s, k / 300 - 1, c == '2' ? DW_N2 : DW_W, NULL);
        }
        dw_session_tick(s, t, 1e9 + t / 1000);
    }
    int n = 0;
    *done = 0;
    for (int i = 0; i < dw_session_nevents(s); i++) {
        dw_event_view e;
        if (dw_session_event_view(s, i, &e) < 0)
            continue;
        if (strstr(e.text, ": no answer within") && n < max_out)
            t_out[n++] = e.t;
        *done += strstr(e.text, "questionnaire done, 0 of 3 answered") != NULL;
    }
    dw_session_free(s);
    return n;
}

static void test_questionnaire_clock(void)
{
    static dw_config all;
    dw_config_defaults(&all);
    dw_session_cfg *cfg = &all.session;
    snprintf(cfg->wake_actuator, sizeof cfg->wake_actuator, "none");
    dw_err err = { 0 };
    if (dw_protocol_load(&cfg->protocol, DW_SRCDIR "/sample-data/protocol.example.ini", &err) < 0) {
        FAIL("questionnaire clock", "%s", err.msg);
        return;
    }
    cfg->protocol.aw_first_min = 0;
    cfg->protocol.cue_enabled = 0;
    double to[8];
    int done;
    int n = questionnaire(cfg, 0, 0, to, 8, &done);
    /* alarm at the 10th N2 epoch's end (300 s); awake at the first W epoch's end (390 s); Q1 60 s,
     * Q2 120 s (question_timeout_s), Q3 300 s */
    CHECK("questionnaire: a full-speed headless replay times each question out in source time",
          n == 3 && fabs(to[0] - 450) < 0.11 && fabs(to[1] - 570) < 0.11 &&
              fabs(to[2] - 870) < 0.11 && done == 1,
          "%d timeouts (%.1f %.1f %.1f s), done %d", n, n > 0 ? to[0] : -1, n > 1 ? to[1] : -1,
          n > 2 ? to[2] : -1, done);
    int done2, done3;
    n = questionnaire(cfg, 1, 0, to, 8, &done);
    int n2 = questionnaire(cfg, 0, 1, to, 8, &done2);
    int n3 = questionnaire(cfg, 1, 1, to, 8, &done3);
    CHECK("questionnaire: live (headless or not) and a replay on the screen time out on the wall clock",
          n == 0 && done == 0 && n2 == 0 && done2 == 0 && n3 == 0 && done3 == 0,
          "%d, %d, %d timeouts", n, n2, n3);
}

/* The session's spindle and slow-wave detectors take each block whole, after the block's stimuli:
 * the same stream in blocks of 1 sample and of 10 s gives the same stimuli, each marked the same
 * (a slow wave / a spindle after it), and the same densities (times to 1e-9 s: t0 + i / fs differs in the
 * last bit from (t0 + i) / fs). A synthetic N3 half hour at 250 Hz:
 * 0.8-Hz slow waves of 100 uV, a 13-Hz spindle of 40 uV on every fourth one, noise. */
static int blocks_run(dw_session_cfg *cfg, const double *x, int n, int block, dw_stim *out, int max,
                      double *dens)
{
    dw_session *s = open_session(cfg, "enhanced");
    if (!s)
        return -1;
    const int fs = 250, tick = 10 * fs;              /* ticks and epochs at the same samples in both */
    for (int k0 = 0; k0 < n; k0 += tick) {
        for (int k = k0; k < k0 + tick && k < n; k += block)
            dw_session_frontal(s, (double)k / fs, fs, x + k, block);
        double end = (double)(k0 + tick) / fs;
        if (fmod(end + 1e-9, 30) < 1e-6)
            dw_session_epoch(s, (int)lround(end / 30) - 1, DW_N3, NULL);   /* the epoch just ended */
        dw_session_tick(s, end, 1e9 + end);
    }
    int m = dw_session_nstim(s);
    for (int i = 0; i < m && i < max; i++)
        out[i] = *dw_session_stim(s, i);
    dw_session_view v;
    dw_session_view_get(s, &v);
    dens[0] = v.micro.nrem[0];                     /* the night's per minute of N2+N3 */
    dens[1] = v.micro.nrem[1];
    dw_session_free(s);
    return m;
}

static void test_detectors_in_blocks(void)
{
    static dw_config all;
    dw_config_defaults(&all);
    dw_session_cfg *cfg = &all.session;
    snprintf(cfg->stim_actuator, sizeof cfg->stim_actuator, "none");
    cfg->so_threshold_uv = -40;
    cfg->max_per_night = 100000;
    const int fs = 250, n = 1800 * fs;
    double *x = malloc((size_t)n * sizeof *x);
    static dw_stim a[4000], b[4000];
    if (!x) {
        FAIL("detectors in blocks", "out of memory");
        return;
    }
    noise_state = 0x5EED;
    for (int k = 0; k < n; k++) {
        double t = (double)k / fs, ph = fmod(t * 0.8, 1.0), cyc = floor(t * 0.8);
        x[k] = -100 * sin(2 * M_PI * ph) + 8 * noise_gauss();
        if (fmod(cyc, 4) == 0 && ph > 0.3 && ph < 1.0)       /* a spindle on the up-state */
            x[k] += 40 * sin(M_PI * (ph - 0.3) / 0.7) * sin(2 * M_PI * 13 * t);
    }
    double da[2], db[2];
    int na = blocks_run(cfg, x, n, 1, a, 4000, da), nb = blocks_run(cfg, x, n, 10 * fs, b, 4000, db);
    int same = na == nb && na > 0 && na <= 4000, so = 0, sp = 0;
    for (int i = 0; same && i < na; i++) {
        same = fabs(a[i].t - b[i].t) < 1e-9 && a[i].kind == b[i].kind && a[i].so_after == b[i].so_after &&
               a[i].spindle_after == b[i].spindle_after;
        so += a[i].so_after;
        sp += a[i].spindle_after;
        if (!same)
            printf("# stimulus %d: t %.3f/%.3f kind %d/%d slow wave after %d/%d spindle after %d/%d\n", i,
                   a[i].t, b[i].t, a[i].kind, b[i].kind, a[i].so_after, b[i].so_after,
                   a[i].spindle_after, b[i].spindle_after);
    }
    CHECK("session: the detectors over 10-s blocks mark the same stimuli as sample by sample",
          same && so > 0 && sp > 0 && da[0] == db[0] && da[1] == db[1] && da[0] > 0 && da[1] > 0,
          "%d and %d stimuli, %d followed by a slow wave, %d by a spindle; densities %g/%g and %g/%g",
          na, nb, so, sp, da[0], da[1], db[0], db[1]);
    free(x);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        FAIL("tmpdir", "mkdtemp");
        TAP_DONE();
    }
    test_example();
    test_errors();
    test_schedule();
    test_sham_and_cues();
    test_arousal();
    test_evoked();
    test_session_night();
    test_questionnaire_clock();
    test_detectors_in_blocks();
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    TAP_DONE();
}
