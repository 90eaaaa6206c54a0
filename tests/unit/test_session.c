/* The session, driven with explicit time: stimulation only in N2/N3 and only when enhanced, every stimulus
 * annotated, natural mode cancelling a pending stimulus, the safety rules (provisional label, movement,
 * critical alert, nightly limit), REM cues, manual wake with escalation, dream report, log, summary,
 * shutdown. */
#include "tap.h"
#include "noise.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/dw.h"
#include "session/session.h"
#include "app/config.h"

#define FS 100.0

static dw_session_cfg cfg;

/* Annotations and bells the session produced. */
#define MAXANN 20000
static char *ann[MAXANN];
static double ann_t[MAXANN];
static int nann, bells;
static void annotate(void *ctx, double t, double dur, const char *text)
{
    (void)ctx; (void)dur;
    if (nann < MAXANN) {
        ann_t[nann] = t;
        ann[nann++] = strdup(text);
    }
}
static void bell(void *ctx) { (void)ctx; bells++; }
static void reset_log(void)
{
    for (int i = 0; i < nann; i++)
        free(ann[i]);
    nann = bells = 0;
}
static int count_ann(const char *prefix)
{
    int k = 0;
    for (int i = 0; i < nann; i++)
        k += !strncmp(ann[i], prefix, strlen(prefix));
    return k;
}


static dw_session *session(const char *mode, const char *log_path)
{
    reset_log();
    snprintf(cfg.start_mode, sizeof cfg.start_mode, "%s", mode);
    dw_err err = { 0 };
    dw_session_hooks h = { .annotate = annotate, .bell = bell, .log_path = log_path };
    dw_session *s = dw_session_new(&cfg, &h, &err);
    if (!s) {
        printf("# %s\n", err.msg);
        exit(1);
    }
    return s;
}

/* Stage of epoch e from a hypnogram string (one character per epoch, repeated). */
static const char *hyp;
static int stage_of(int e)
{
    char c = hyp[e % strlen(hyp)];
    return c == 'W' ? DW_W : c == '1' ? DW_N1 : c == '2' ? DW_N2 : c == '3' ? DW_N3 : DW_R;
}

/* 1 Hz slow waves of 150 uV plus 10 uV noise from t0 to t1, in 0.1-s blocks, epochs as they end, a tick
 * per block; the wall clock is 1e9 + t. */
static void run(dw_session *s, double t0, double t1)
{
    double x[10];
    for (double t = t0; t < t1 - 1e-9; t += 0.1) {
        for (int i = 0; i < 10; i++)
            x[i] = 150 * cos(2 * M_PI * (t + i / FS)) + 10 * noise_gauss();
        dw_session_frontal(s, t, FS, x, 10);
        double end = t + 0.1;
        if (fmod(end + 1e-6, 30) < 1e-3) {
            int e = (int)lround(end / 30) - 1;
            dw_session_epoch(s, e, stage_of(e), NULL);
        }
        dw_session_tick(s, end, 1e9 + end);
    }
}

static void test_natural_night(void)
{
    hyp = "3";
    dw_session *s = session("natural", NULL);
    run(s, 0, 8 * 3600);
    CHECK("natural_night_no_stimulus", dw_session_nstim(s) == 0 && bells == 0 && count_ann("SO stim") == 0,
          "%d stimuli, %d bells", dw_session_nstim(s), bells);
    CHECK("natural_mode", dw_session_mode(s) == DW_MODE_NATURAL, "mode %d", dw_session_mode(s));
    dw_session_free(s);
}

static void test_enhanced_night(const char *log_path)
{
    /* a 90-min cycle: W, N1, N2, N3, N2, R (epochs) */
    static char cycle[181];
    int k = 0;
    const struct { char c; int n; } parts[] = { { 'W', 10 }, { '1', 10 }, { '2', 40 }, { '3', 60 }, { '2', 20 }, { 'R', 40 } };
    for (size_t j = 0; j < sizeof parts / sizeof parts[0]; j++)
        for (int i = 0; i < parts[j].n; i++)
            cycle[k++] = parts[j].c;
    cycle[k] = 0;
    hyp = cycle;
    cfg.max_per_night = 100000;
    dw_session *s = session("enhanced", log_path);
    run(s, 0, 3 * 5400);
    int n = dw_session_nstim(s), bad = 0, n2 = 0, n3 = 0, phased = 0, crowded = 0;
    double mc = 0, ms = 0;
    for (int i = 0; i < n; i++) {
        const dw_stim *st = dw_session_stim(s, i);
        int e =
            (int)floor(st->t / 30 + 1e-6); /* the epoch in progress: its predecessor is the label */
        if ((st->stage != DW_N2 && st->stage != DW_N3) || stage_of(e - 1) != st->stage)
            bad++;
        n2 += st->stage == DW_N2;
        n3 += st->stage == DW_N3;
        if (!isnan(st->phase_deg)) {
            phased++;
            mc += cos(st->phase_deg * M_PI / 180);
            ms += sin(st->phase_deg * M_PI / 180);
        }
        int in_window = 0;
        for (int j = i; j < n && dw_session_stim(s, j)->t < st->t + cfg.so_pause_s; j++)
            in_window++;
        if (in_window > cfg.so_train)
            crowded++;
    }
    printf("# enhanced, 3 cycles of 1 Hz waves: %d stimuli (%d in N2, %d in N3), phase mean %+.0f deg (n %d)\n", n,
           n2, n3, atan2(ms, mc) * 180 / M_PI, phased);
    CHECK("enhanced_stimulates", n > 100 && n2 > 0 && n3 > 0, "%d stimuli (%d N2, %d N3)", n, n2, n3);
    CHECK("enhanced_only_n2_n3", bad == 0, "%d stimuli outside N2/N3", bad);
    CHECK("enhanced_trains_and_pauses", crowded == 0, "%d windows with more than %d stimuli", crowded, cfg.so_train);
    CHECK("enhanced_every_stimulus_annotated", count_ann("SO stim ") >= n && count_ann("SO stim") > 0, "%d annotations",
          count_ann("SO stim "));
    int with_trough = 0;
    for (int i = 0; i < nann; i++)
        with_trough += !strncmp(ann[i], "SO stim ", 8) && !strstr(ann[i], "cancelled") &&
                       strstr(ann[i], "trough");
    CHECK("enhanced_annotation_has_trough", with_trough == n, "%d of %d", with_trough, n);
    CHECK("enhanced_phase_known", phased >= n - 1 && fabs(atan2(ms, mc) * 180 / M_PI) < 45, "%d phased, mean %.0f",
          phased, atan2(ms, mc) * 180 / M_PI);

    FILE *f = tmpfile();
    dw_night night = { .st = { .tst_min = 400, .sol_min = 10 }, .source = "test" };
    int r = f ? dw_session_write_summary(s, f, &night, NULL) : -1;
    static char buf[1 << 20];
    buf[0] = 0;
    if (f) {
        rewind(f);
        size_t got = fread(buf, 1, sizeof buf - 1, f);
        buf[got] = 0;
        fclose(f);
    }
    char want_fig[64];
    snprintf(want_fig, sizeof want_fig, "\nstimuli\t%d\n", dw_session_nstim(s));
    CHECK("summary_written", r == 0 && strstr(buf, "TST 400.0 min") && strstr(buf, "slow-oscillation stimuli") &&
          strstr(buf, "circular mean") && strstr(buf, "## Figures\n") && strstr(buf, want_fig) &&
          strstr(buf, "\ntst_min\t400.0\n"), "%.300s", buf);
    dw_session_free(s);
    cfg.max_per_night = 2000;

    struct stat stt;
    CHECK("log_mode_0600", stat(log_path, &stt) == 0 && (stt.st_mode & 0777) == 0600, "mode %o", stt.st_mode & 0777);
    f = fopen(log_path, "r");
    int stim_lines = 0;
    char line[8192];
    while (f && fgets(line, sizeof line, f))
        stim_lines += strstr(line, "\tstim\t") != NULL;
    if (f) fclose(f);
    CHECK("log_every_stimulus", stim_lines == n, "%d lines for %d stimuli", stim_lines, n);
}

/* A count of one reads in the singular: a night limited to one stimulus has one stimulus and one alert
 * (the limit), and the summary says "1 slow-oscillation stimulus", "1 alert" ("1 stimuli" before). */
static void test_summary_singular(void)
{
    cfg.max_per_night = 1;
    hyp = "3";
    dw_session *s = session("enhanced", NULL);
    run(s, 0, 600);
    static char buf[1 << 16];
    buf[0] = 0;
    FILE *f = tmpfile();
    dw_night night = { .st = { .tst_min = 10, .sol_min = 0 }, .source = "test" };
    if (f && dw_session_write_summary(s, f, &night, NULL) == 0) {
        rewind(f);
        buf[fread(buf, 1, sizeof buf - 1, f)] = 0;
    }
    if (f)
        fclose(f);
    CHECK("summary_singular", dw_session_nstim(s) == 1 &&
          strstr(buf, "\n1 slow-oscillation stimulus, 0 REM cues (limit 1)\n") &&
          strstr(buf, "## Alerts\n1 alert\n") && strstr(buf, "(1 stimulus)\n") &&
          !strstr(buf, "1 stimuli") && !strstr(buf, "1 alerts"),
          "%d stimuli: %.400s", dw_session_nstim(s), buf);
    /* one stimulus: the phases' mean resultant length is 1 and the circular SD 0, printed "0", not
     * "-0" (sqrt(-2 ln 1) is sqrt(-0)); the alert's severity is the word the log uses, not 0 */
    CHECK("summary_words_and_no_minus_zero", strstr(buf, "circular SD 0 deg (n = 1;") &&
          strstr(buf, "\tinfo\tstim_limit\t") && !strstr(buf, "SD -0"),
          "%.900s", strstr(buf, "## Stimulation") ? strstr(buf, "## Stimulation") : buf);
    dw_session_free(s);
    cfg.max_per_night = 2000;
}

/* The summary's data-path section says writing failed only when it did: a live night recorded in
 * one file with nothing lost says so plainly (it said "(writing failed: see the alerts)" for every
 * recording), one whose recording failed and resumed says both. */
static void summary_of(dw_session *s, char *buf, size_t cap)
{
    buf[0] = 0;
    FILE *f = tmpfile();
    dw_night night = { .source = "test" };
    if (f && dw_session_write_summary(s, f, &night, NULL) == 0) {
        rewind(f);
        buf[fread(buf, 1, cap - 1, f)] = 0;
    }
    if (f)
        fclose(f);
}

static void test_summary_recording(void)
{
    static char buf[1 << 16];
    dw_session *s = session("natural", NULL);
    dw_datapath d = { .expecting = 1, .frames = 2500, .rec_files = 1 };
    dw_session_datapath(s, 10, 1e9 + 10, &d);
    summary_of(s, buf, sizeof buf);
    CHECK("summary_recording_clean", strstr(buf, "\nrecording: 1 file, 0.0 s not recorded\n") &&
          !strstr(buf, "writing failed"), "%.600s",
          strstr(buf, "## Data") ? strstr(buf, "## Data") : buf);
    dw_session_free(s);
    s = session("natural", NULL);
    d.rec_files = 2;
    d.rec_failures = 1;
    d.rec_unrecorded_s = 3.5;
    dw_session_datapath(s, 10, 1e9 + 10, &d);
    summary_of(s, buf, sizeof buf);
    CHECK("summary_recording_failed", strstr(buf, "\nrecording: 2 files, 3.5 s not recorded (writing "
          "failed: see the alerts)\n"), "%.600s", strstr(buf, "## Data") ? strstr(buf, "## Data") : buf);
    dw_session_free(s);
}

/* N3 epochs for 2 minutes so the label is set, then waves until a stimulus is pending. */
static double until_pending(dw_session *s, double t)
{
    double x;
    for (int i = 0; i < 2000 && !dw_session_pending(s); i++, t += 0.01) {
        x = 150 * cos(2 * M_PI * t);
        dw_session_frontal(s, t, FS, &x, 1);
    }
    return t;
}

/* The pre-night check (k) on an enhanced night: no stimulus while it runs, the pending one
 * cancelled; stimulation resumes when it ends. */
static void test_check_holds_stimulation(void)
{
    hyp = "3";
    dw_session *s = session("enhanced", NULL);
    run(s, 0, 60);
    double t = until_pending(s, 60);
    int pending = dw_session_pending(s), n0 = dw_session_nstim(s);
    dw_session_check(s, t, 1);
    int after = dw_session_pending(s);
    run(s, ceil(t * 10) / 10, 150);
    CHECK("check_holds_stimulation", pending && !after && dw_session_nstim(s) == n0 &&
          count_ann("SO stim cancelled (pre-night check)") == 1, "pending %d->%d, %d->%d stimuli",
          pending, after, n0, dw_session_nstim(s));
    dw_session_check(s, 150, 0);
    run(s, 150, 210);
    CHECK("check_end_resumes", dw_session_nstim(s) > n0, "%d stimuli", dw_session_nstim(s) - n0);
    dw_session_free(s);
}

static void test_cancel_and_safety(void)
{
    hyp = "3";
    dw_session *s = session("enhanced", NULL);
    run(s, 0, 60);
    int n0 = dw_session_nstim(s);
    double t = until_pending(s, 60);
    dw_cmd c = { .kind = DW_CMD_NATURAL, .arg = 1 };
    int pending = dw_session_pending(s);
    double due = dw_session_next_due(s);
    /* the trough is confirmed about a third of a 1-Hz wave after it, the stimulus 0.5 s after it */
    CHECK("next_due_pending", due > t && due < t + 0.5, "due %.3f s at %.3f s", due, t);
    dw_session_command(s, &c, t);
    int after = dw_session_pending(s);
    CHECK("next_due_none", isinf(dw_session_next_due(s)), "due %.3f s", dw_session_next_due(s));
    run(s, ceil(t * 10) / 10, 120);
    CHECK("natural_cancels_pending", pending && !after && dw_session_nstim(s) == n0 &&
          count_ann("SO stim cancelled (natural mode)") == 1, "pending %d->%d, %d->%d stimuli", pending, after, n0,
          dw_session_nstim(s));
    c.arg = 0;
    dw_session_command(s, &c, 120);
    run(s, 120, 180);
    CHECK("natural_off_resumes", dw_session_mode(s) == DW_MODE_ENHANCED && dw_session_nstim(s) > n0, "mode %d, %d",
          dw_session_mode(s), dw_session_nstim(s));

    /* provisional W: nothing, even with an N3 label */
    n0 = dw_session_nstim(s);
    dw_session_provisional(s, DW_W);
    double x;
    for (t = 180; t < 209; t += 0.01) {
        x = 150 * cos(2 * M_PI * t);
        dw_session_frontal(s, t, FS, &x, 1);
    }
    CHECK("provisional_w_blocks", dw_session_nstim(s) == n0, "%d stimuli", dw_session_nstim(s) - n0);
    run(s, 210, 240);

    /* movement: stimulation off for 30 s, then back */
    n0 = dw_session_nstim(s);
    double g0[3] = { 0, 0, 1 }, g1[3] = { 0.5, 0, 0.85 };
    dw_session_accel(s, 240, g0);
    dw_session_accel(s, 240.04, g1);
    run(s, 240.1, 269.9);
    int during = dw_session_nstim(s) - n0;
    run(s, 270, 300);
    CHECK("movement_suspends_30s", during == 0 && dw_session_nstim(s) > n0, "%d during, %d after", during,
          dw_session_nstim(s) - n0);

    /* an artefact on the frontal channel suspends too, at the sample (against the last second's mean from
     * the one quality verdict) */
    dw_source_info qi;
    memset(&qi, 0, sizeof qi);
    qi.nch = 2;
    qi.frontal = 0;
    qi.parietal = 1;
    dw_quality_second qs = { .second = 299, .nch = 2 };
    dw_session_quality(s, &qs, &qi, 1e9 + 300);
    n0 = dw_session_nstim(s);
    x = 5000;
    dw_session_frontal(s, 300, FS, &x, 1);
    run(s, 300.1, 329.9);
    CHECK("artefact_suspends", dw_session_nstim(s) == n0, "%d stimuli", dw_session_nstim(s) - n0);
    run(s, 330, 360);
    /* a flat second on the parietal staging channel (the verdict) suspends for 30 s */
    n0 = dw_session_nstim(s);
    qs.second = 359;
    qs.flag[1] = DW_Q_FLAT;
    dw_session_quality(s, &qs, &qi, 1e9 + 360);
    run(s, 360, 389.9);
    CHECK("bad_staging_signal_suspends", dw_session_nstim(s) == n0, "%d stimuli", dw_session_nstim(s) - n0);
    qs.flag[1] = 0;
    run(s, 330, 360);

    /* a critical alert open: nothing until it is cleared and acknowledged */
    n0 = dw_session_nstim(s);
    dw_datapath d = { .rec_error = 1 };
    dw_session_datapath(s, 360, 1e9 + 360, &d);
    run(s, 360, 420);
    int blocked = dw_session_nstim(s) - n0;
    d.rec_error = 0;
    dw_session_datapath(s, 420, 1e9 + 420, &d);
    run(s, 420, 450);
    int cleared_unacked = dw_session_nstim(s) - n0;
    dw_cmd ack = { .kind = DW_CMD_ACK, .arg = -1 };
    dw_session_command(s, &ack, 450);
    run(s, 450, 480);
    CHECK("critical_alert_blocks", blocked == 0 && cleared_unacked == 0 && dw_session_nstim(s) > n0,
          "%d while active, %d cleared unacked, %d after ack", blocked, cleared_unacked, dw_session_nstim(s) - n0);
    dw_session_free(s);

    /* the nightly limit */
    cfg.max_per_night = 25;
    s = session("enhanced", NULL);
    run(s, 0, 1200);
    const dw_alert_view *v = dw_alerts_open(dw_session_alerts(s), DW_AL_STIM_LIMIT, DW_AL_GLOBAL);
    CHECK("limit_per_night", dw_session_nstim(s) == 25 && v && dw_alerts_count(dw_session_alerts(s), -1) == 1,
          "%d stimuli, alert %s", dw_session_nstim(s), v ? v->text : "none");
    cfg.max_per_night = 2000;
    dw_session_free(s);

    /* shutdown: the pending stimulus goes, the mode is final */
    s = session("enhanced", NULL);
    run(s, 0, 60);
    t = until_pending(s, 60);
    n0 = dw_session_nstim(s);
    dw_cmd sd = { .kind = DW_CMD_SHUTDOWN };
    int must_stop = dw_session_command(s, &sd, t);
    run(s, ceil(t * 10) / 10, 120);
    dw_cmd wk = { .kind = DW_CMD_WAKE };
    dw_session_command(s, &wk, 120);
    CHECK("shutdown_stim_off_first", must_stop == 1 && dw_session_mode(s) == DW_MODE_SHUTDOWN &&
          dw_session_nstim(s) == n0 && count_ann("SO stim cancelled (shutdown)") == 1,
          "stop %d mode %d stimuli +%d", must_stop, dw_session_mode(s), dw_session_nstim(s) - n0);
    dw_session_free(s);
}

/* A critical alert that cleared before anyone acknowledged it: live (with or without a screen) and a
 * replay with a screen keep stimulation off until `a`; a replay with no screen (nobody to press it)
 * only while the cause is there. Stimuli counted while active, then between the clear and the ack. */
static void latch_case(int live, int screen, int *active, int *cleared)
{
    hyp = "3";
    dw_session *s = session("enhanced", NULL);
    dw_session_set_source(s, live, screen);
    run(s, 0, 60);
    int n0 = dw_session_nstim(s);
    dw_datapath d = { .rec_error = 1 };
    dw_session_datapath(s, 60, 1e9 + 60, &d);
    run(s, 60, 120);
    *active = dw_session_nstim(s) - n0;
    d.rec_error = 0;
    dw_session_datapath(s, 120, 1e9 + 120, &d);
    n0 = dw_session_nstim(s);
    run(s, 120, 180);
    *cleared = dw_session_nstim(s) - n0;
    dw_session_free(s);
}

static void test_unattended_replay(void)
{
    int a[4], c[4];
    latch_case(1, 1, &a[0], &c[0]);
    latch_case(1, 0, &a[1], &c[1]);
    latch_case(0, 1, &a[2], &c[2]);
    latch_case(0, 0, &a[3], &c[3]);
    CHECK("cleared_critical_keeps_stim_off_unless_headless_replay",
          !a[0] && !a[1] && !a[2] && !a[3] && !c[0] && !c[1] && !c[2] && c[3] > 0 &&
              count_ann("Alert 1 cleared unacknowledged in a replay with no screen") == 1,
          "while active %d %d %d %d; cleared unacked %d %d %d %d (live+screen, live headless, "
          "replay+screen, replay headless)", a[0], a[1], a[2], a[3], c[0], c[1], c[2], c[3]);
}

static void test_rem_cues(void)
{
    cfg.cue_enabled = 1;
    snprintf(cfg.cue_actuator, sizeof cfg.cue_actuator, "bell");
    hyp = "22222222223333333333RRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRR";   /* 40 R epochs = 20 min */
    dw_session *s = session("enhanced", NULL);
    run(s, 0, 60 * 30);
    int cues = 0, bad = 0;
    double last = -1e9;
    for (int i = 0; i < dw_session_nstim(s); i++) {
        const dw_stim *st = dw_session_stim(s, i);
        if (st->kind != DW_STIM_CUE)
            continue;
        cues++;
        int e = (int)lround(st->t / 30) - 1;
        if (stage_of(e) != DW_R || st->t - last < cfg.cue_interval_min * 60 - 1e-6)
            bad++;
        last = st->t;
    }
    /* R runs from epoch 20 to 59: cues at the 10th R epoch (t = 900 s) and 15 min later (1800 s) */
    CHECK("rem_cues", cues == 2 && bad == 0 && count_ann("REM cue") == 2 && bells == 2, "%d cues (%d bad), %d bells",
          cues, bad, bells);
    /* cues are counted apart from the SO stimuli of the N2/N3 epochs before them */
    dw_session_view sv;
    dw_session_view_get(s, &sv);
    CHECK("rem_cues_numbered_apart", count_ann("REM cue 1 ") == 1 && count_ann("REM cue 2 ") == 1 &&
          sv.cue_count == 2 && sv.stim_count == dw_session_nstim(s) - 2 && sv.stim_count > 0,
          "view: %d stimuli, %d cues", sv.stim_count, sv.cue_count);
    cfg.cue_enabled = 0;
    dw_session_free(s);
}

/* Writes the shell script DIR/NAME (mode 0700) and puts "SCRIPT ARG" in cmd, a command for the config. */
static void command_script(const char *dir, const char *name, const char *body, const char *arg, char *cmd,
                           size_t cap)
{
    char script[1100];
    snprintf(script, sizeof script, "%s/%s", dir, name);
    FILE *f = fopen(script, "w");
    if (f) {
        fprintf(f, "#!/bin/sh\n%s", body);
        fclose(f);
        chmod(script, 0700);
    }
    snprintf(cmd, cap, "%.250s %.250s", script, arg);
}

/* Ticks the session (source time t, the real wall clock for wall < 0, else wall) until the file at path
 * holds n lines (commands run in the background) or 3 s pass; its text goes to got. */
static void wait_lines(dw_session *s, const char *path, int n, double t, double wall, char *got, size_t cap)
{
    got[0] = 0;
    for (int i = 0; i < 300; i++) {
        dw_session_tick(s, t, wall < 0 ? dw_now_wall() : wall);
        FILE *f = fopen(path, "r");
        size_t k = f ? fread(got, 1, cap - 1, f) : 0;
        got[k] = 0;
        if (f) fclose(f);
        int lines = 0;
        for (char *p = got; *p; p++)
            lines += *p == '\n';
        if (lines >= n)
            break;
        usleep(10000);
    }
}

static void test_wake(const char *dir)
{
    char out[1100];
    snprintf(out, sizeof out, "%s/attempts", dir);
    command_script(dir, "wake.sh", "echo \"$1 $2\" >> \"$1\".txt\n", out, cfg.wake_command, sizeof cfg.wake_command);
    snprintf(cfg.wake_actuator, sizeof cfg.wake_actuator, "command");
    snprintf(cfg.escalation_actuator, sizeof cfg.escalation_actuator, "bell");
    cfg.wake_timeout_s = 120;
    cfg.wake_repeats = 3;
    hyp = "2";
    dw_session *s = session("enhanced", NULL);
    double t = 0, escalated_at = -1;
    double x = 0;
    dw_cmd wk = { .kind = DW_CMD_WAKE };
    for (; t < 1600; t += 1) {
        if (t == 1000)
            dw_session_command(s, &wk, t);
        dw_session_frontal(s, t, FS, &x, 1);
        if (fmod(t + 1, 30) == 0)
            dw_session_epoch(s, (int)((t + 1) / 30) - 1, DW_N2, NULL);
        dw_session_tick(s, t + 1, dw_now_wall());
        if (escalated_at < 0 && dw_alerts_open(dw_session_alerts(s), DW_AL_WAKE_FAILED, DW_AL_GLOBAL))
            escalated_at = t + 1;
    }
    const dw_alert_view *v = dw_alerts_open(dw_session_alerts(s), DW_AL_WAKE_FAILED, DW_AL_GLOBAL);
    double due = 1000 + cfg.wake_repeats * cfg.wake_timeout_s;
    CHECK("wake_escalates_on_time", v && v->severity == DW_CRITICAL && escalated_at >= due && escalated_at <= due + 1 &&
          dw_alerts_count(dw_session_alerts(s), DW_AL_WAKE_FAILED) == 1 && bells == 1,
          "escalated at %.0f (due %.0f), bells %d", escalated_at, due, bells);
    CHECK("wake_mode_waking", dw_session_mode(s) == DW_MODE_WAKING && !dw_session_wants_dream_report(s), "mode %d",
          dw_session_mode(s));
    /* the wake command ran three times with rising attempt numbers (wait for the children) */
    char txt[1200], got[256] = "";
    snprintf(txt, sizeof txt, "%s.txt", out);
    wait_lines(s, txt, 3, t, -1, got, sizeof got);
    CHECK("wake_attempts_rise", strstr(got, "s 1\n") && strstr(got, "s 2\n") && strstr(got, "s 3\n") && !strstr(got, "s 4\n"),
          "got '%s'", got);

    /* the stager sees W: awake, the alert clears, a dream report is asked for */
    dw_session_epoch(s, (int)(t / 30), DW_W, NULL);
    CHECK("wake_taken", dw_session_mode(s) == DW_MODE_ENHANCED && dw_session_wants_dream_report(s) &&
          !dw_alerts_open(dw_session_alerts(s), DW_AL_WAKE_FAILED, DW_AL_GLOBAL), "mode %d", dw_session_mode(s));
    dw_session_view m;
    dw_alert_view av[DW_MAX_ALERTS];
    dw_session_view_get(s, &m);
    int nav = dw_alerts_view(dw_session_alerts(s), av, DW_MAX_ALERTS);
    CHECK("session_view", m.wants_dream_report == 1 && m.mode == DW_MODE_ENHANCED && nav >= 1 &&
          m.version > 0, "wants %d mode %d alerts %d", m.wants_dream_report, m.mode, nav);
    unsigned long v0 = m.version;

    const char *report = "I was in a house with many doors.\n\tOne opened onto the sea;\nthen the alarm rang.";
    dw_cmd dr = { .kind = DW_CMD_DREAM_REPORT };
    snprintf(dr.text, sizeof dr.text, "%s", report);
    dw_session_command(s, &dr, t + 60);
    int full = 0;
    for (int i = 0; i < nann; i++)
        full += !strncmp(ann[i], "Dream report: ", 14) && !strcmp(ann[i] + 14, report) && ann_t[i] == t + 60;
    CHECK("dream_report_annotated_in_full", full == 1 && !dw_session_wants_dream_report(s), "%d", full);
    dw_session_view_get(s, &m);
    CHECK("view_dream_report_done", m.wants_dream_report == 0 && m.version != v0, "still asking");

    snprintf(cfg.wake_actuator, sizeof cfg.wake_actuator, "none");
    snprintf(cfg.escalation_actuator, sizeof cfg.escalation_actuator, "none");
    dw_session_free(s);
}

/* Natural mode and a manual wake stop a stimulus command that is still running (a sound being played),
 * not only the stimulus waiting for its phase. */
static void test_running_stimulus_stopped(const char *dir)
{
    char pidfile[1100];
    snprintf(pidfile, sizeof pidfile, "%s/stim.pid", dir);
    command_script(dir, "stim.sh", "echo $$ > \"$1\".tmp && mv \"$1\".tmp \"$1\"\nexec sleep 60\n", pidfile,
                   cfg.stim_command, sizeof cfg.stim_command);
    snprintf(cfg.stim_actuator, sizeof cfg.stim_actuator, "command");
    hyp = "3";
    const char *how[] = { "natural", "wake" };
    for (int k = 0; k < 2; k++) {
        unlink(pidfile);
        dw_session *s = session("enhanced", NULL);
        double t = 0;
        for (; t < 120 && dw_session_nstim(s) == 0; t += 0.1)   /* until the first stimulus */
            run(s, t, t + 0.1);
        long pid = 0;
        for (int i = 0; i < 300 && pid <= 0; i++) {     /* the command is running once it wrote its pid */
            FILE *f = fopen(pidfile, "r");
            if (!f || fscanf(f, "%ld", &pid) != 1)
                pid = 0;
            if (f)
                fclose(f);
            dw_session_tick(s, t, 1e9 + t);
            usleep(10000);
        }
        dw_cmd c = { .kind = k == 0 ? DW_CMD_NATURAL : DW_CMD_WAKE, .arg = 1 };
        dw_session_command(s, &c, t);
        int gone = 0;
        for (int i = 0; i < 300 && !gone; i++) {          /* reaped by the session's ticks */
            dw_session_tick(s, t, 1e9 + t + i * 0.01);
            gone = pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
            if (!gone)
                usleep(10000);
        }
        char name[64];
        snprintf(name, sizeof name, "%s_stops_running_stimulus", how[k]);
        CHECK(name, pid > 0 && gone && !dw_alerts_open(dw_session_alerts(s), DW_AL_ACTUATOR_FAILED, DW_AL_GLOBAL),
              "pid %ld still running %d", pid, pid > 0 && !gone);
        if (pid > 0 && !gone)
            kill((pid_t)pid, SIGKILL);
        dw_session_free(s);
    }
    snprintf(cfg.stim_actuator, sizeof cfg.stim_actuator, "none");
}

/* The escalation command hears each repeat of an unacknowledged critical alert with the alert's id,
 * severity, state and text as four arguments, then "resolved" once when the cause clears, and nothing
 * more (no repeats after the clear). */
static void test_escalation_args(const char *dir)
{
    char out[1100];
    snprintf(out, sizeof out, "%s/pages", dir);
    /* one write per line (O_APPEND: commands running side by side cannot interleave within a line) */
    command_script(dir, "page.sh", "f=$1; shift; l=$(printf '%s|' \"$@\"); printf '%s\\n' \"$l\" >> \"$f\"\n", out,
                   cfg.escalation_command, sizeof cfg.escalation_command);
    snprintf(cfg.escalation_actuator, sizeof cfg.escalation_actuator, "command");
    cfg.al_repeat_s = 10;
    cfg.command_timeout_s = 600;              /* simulated seconds pass faster than the child runs */
    dw_session *s = session("natural", NULL);
    dw_datapath d = { .rec_error = 1 };
    snprintf(d.rec_error_text, sizeof d.rec_error_text, "No space left on device");
    for (double w = 0; w < 200; w += 0.5) {
        d.rec_error = w < 25;                 /* 25 s of trouble: repeats at 10 and 20 s, then cleared */
        dw_session_datapath(s, w, 1e9 + w, &d);
        dw_session_tick(s, w, 1e9 + w);
    }
    char got[2048] = "";
    wait_lines(s, out, 3, 200, 1e9 + 200, got, sizeof got);
    usleep(100000);                           /* a fourth line would come now */
    wait_lines(s, out, 4, 200, 1e9 + 200, got, sizeof got);
    /* the commands run side by side, so their lines come in any order */
    int active = 0, resolved = 0, lines = 0;
    for (char *p = got; (p = strchr(p, '\n')); p++)
        lines++;
    for (char *p = got; (p = strstr(p, "1|critical|active|writing failed: No space left on device|\n")); p++)
        active++;
    for (char *p = got; (p = strstr(p, "1|critical|resolved|writing failed: No space left on device|\n")); p++)
        resolved++;
    CHECK("escalation_args_and_resolved", active == 2 && resolved == 1 && lines == 3, "got '%s'", got);
    cfg.al_repeat_s = 60;
    cfg.command_timeout_s = 5;
    snprintf(cfg.escalation_actuator, sizeof cfg.escalation_actuator, "none");
    dw_session_free(s);
}

static void test_log_escapes(const char *dir)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/escape.tsv", dir);
    dw_err err;
    dw_session_log *l = dw_session_log_open(path, &err);
    int r = l ? dw_session_log_write(l, 12.5, 1.7e9, "dream_report", "a\tb\nc\\d") : -1;
    dw_session_log_close(l);
    char buf[512] = "";
    FILE *f = fopen(path, "r");
    size_t k = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[k] = 0;
    if (f) fclose(f);
    CHECK("log_escapes_one_line", r == 0 && strstr(buf, "t_s\tclock\tkind\ttext\n12.500\t") &&
          strstr(buf, "\tdream_report\ta\\tb\\nc\\\\d\n"), "%s", buf);
    CHECK("log_bad_path", !dw_session_log_open("/nonexistent/dir/log.tsv", &err) && strstr(err.msg, "/nonexistent"),
          "%s", err.msg);
}

/* The net layer reports the broker link: one info alert while it is down, cleared when it is back. */
static void test_broker_link(void)
{
    dw_session *s = session("natural", NULL);
    dw_cmd down = { .kind = DW_CMD_LINK, .arg = 0 }, up = { .kind = DW_CMD_LINK, .arg = 1 };
    snprintf(down.text, sizeof down.text, "broker 127.0.0.1:1883 unreachable");
    dw_session_command(s, &down, 10);
    dw_session_command(s, &down, 11);                  /* reported twice: still one alert */
    dw_alerts *a = dw_session_alerts(s);
    const dw_alert_view *v = dw_alerts_open(a, DW_AL_BROKER, DW_AL_GLOBAL);
    CHECK("link: a broker that is down raises one info alert", v && v->severity == DW_INFO &&
          dw_alerts_count(a, DW_AL_BROKER) == 1 && strstr(v->text, "127.0.0.1"), "%d", dw_alerts_count(a, DW_AL_BROKER));
    dw_session_command(s, &up, 12);
    CHECK("link: the broker back clears it, the mode is untouched", !dw_alerts_open(a, DW_AL_BROKER, DW_AL_GLOBAL) &&
          dw_session_mode(s) == DW_MODE_NATURAL, "mode %d", dw_session_mode(s));
    dw_session_free(s);
}

int main(void)
{
    dw_config all;
    dw_config_defaults(&all);
    cfg = all.session;
    cfg.bell = 0;
    snprintf(cfg.stim_actuator, sizeof cfg.stim_actuator, "none");
    snprintf(cfg.cue_actuator, sizeof cfg.cue_actuator, "none");
    snprintf(cfg.wake_actuator, sizeof cfg.wake_actuator, "none");
    snprintf(cfg.escalation_actuator, sizeof cfg.escalation_actuator, "none");
    char dir[] = "/tmp/dw-session-XXXXXX";
    if (!mkdtemp(dir)) {
        FAIL("tmpdir", "mkdtemp");
        TAP_DONE();
    }
    char log_path[1100];
    snprintf(log_path, sizeof log_path, "%s/session.tsv", dir);

    test_natural_night();
    test_enhanced_night(log_path);
    test_cancel_and_safety();
    test_check_holds_stimulation();
    test_unattended_replay();
    test_summary_singular();
    test_summary_recording();
    test_rem_cues();
    test_wake(dir);
    test_running_stimulus_stopped(dir);
    test_escalation_args(dir);
    test_log_escapes(dir);
    test_broker_link();
    reset_log();
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    TAP_DONE();
}
