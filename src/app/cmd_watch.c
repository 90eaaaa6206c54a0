/* Watching a night: the monitor (`dreamwatch [OPTIONS] [FILE]`) and `dreamwatch record` (the same with
 * no screen). The worker thread reads, stages and records; this thread owns the terminal or, headless,
 * the signals and the epoch log on standard output. */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/commands.h"
#include "app/config.h"
#include "app/worker.h"
#include "base/dw.h"
#include "base/files.h"
#include "staging/night.h"
#include "monitor/monitor.h"
#include "net/bed.h"
#include "net/control.h"
#include "screen/screen.h"

static const char usage_text[] =
"usage: dreamwatch [OPTIONS] [FILE]          watch a night (replay FILE, or a live Cyton with --serial)\n"
"       dreamwatch score NIGHT.edf... [--reference HYPNO.edf]... [--out PREFIX|FOLDER/]\n"
"                  [--model FILE] [--channels LIST] [--frontal CH] [--parietal CH] [--force]\n"
"                                                                     stage recordings, headless\n"
"       dreamwatch score --features TABLE.tsv... [--model FILE]       stage per-epoch feature tables\n"
"       dreamwatch features NIGHT... [--reference HYPNO]... [--out TABLE.tsv] [--force]\n"
"                  [--channels LIST] [--frontal CH] [--parietal CH]   per-epoch feature tables\n"
"       dreamwatch record --serial PATH [--out DIR] [OPTIONS]         record and stage a night, no screen\n"
"       dreamwatch emulate [--daisy] [--file FILE] [--faults LIST] [--link PATH] [--speed F]\n"
"                  [--sent-log FILE] [--seconds N] [--seed N]         a Cyton on a pty\n"
"       dreamwatch recover FILE.bdf...                                repair recordings after a crash\n"
"       dreamwatch attach [SESSION] [--theme NAME] [--bedside] [--ascii] [--config FILE]\n"
"                                                                     the monitor of a running session\n"
"       dreamwatch ward [--broker URL] [--cafile FILE] [--certfile FILE] [--keyfile FILE]\n"
"                  [--credentials FILE] [--stale S] [--theme NAME] [--ascii] [--config FILE]\n"
"                  [--set SEC.KEY=VAL]                                every published bed, one screen\n"
"       dreamwatch nights [DIR...] [--target H]                       the nights' summaries, trend of sleep\n"
"       dreamwatch check --serial PORT [--board B] [--channels LIST] [--frontal CH] [--parietal CH]\n"
"                  [--config FILE] [--set SEC.KEY=VAL]...             the pre-night check of a board\n"
"\n"
"With no FILE and no --serial, the shipped sample night is replayed.\n"
"\n"
"Input:\n"
"  -s, --serial PATH       live OpenBCI Cyton on PATH (a serial port or a pty)\n"
"      --board B           auto, cyton (8 ch, 250 Hz) or daisy (16 ch, 125 Hz)\n"
"      --channels LIST     channels to use, labels or 1-based indices, comma-separated\n"
"      --frontal CH        the frontal (Fpz-Cz-like) channel (none named: a central one, else the\n"
"                          first EEG channel, alone)\n"
"      --parietal CH       the parietal (Pz-Oz-like) channel; 'none' for the one-channel model\n"
"  -r, --reference FILE    reference hypnogram (EDF+ annotations or text), laid by clock time beside ours\n"
"      --speed N           replay speed: 1 real time (default), N times, 0 as fast as possible\n"
"      --paused            start a replay paused\n"
"      --exit-at-end       stop when the replay ends\n"
"Staging:\n"
"  -m, --model FILE        model file instead of the built-in one\n"
"Session:\n"
"      --natural           start in natural-sleep mode: no stimulation, cue or awakening (the default)\n"
"      --enhanced          start in enhanced mode: stimulation and the protocol armed in their stages\n"
"      --protocol FILE     research protocol: serial awakenings with a questionnaire, sham and\n"
"                          blinding, memory cues (see README, Running a protocol)\n"
"Recording (live sessions):\n"
"  -o, --out DIR           where recordings go\n"
"      --subject CODE      subject code in file names\n"
"      --no-record         no BDF+ recording (the session log, tables and summary are still\n"
"                          written)\n"
"Network (the broker is the only peer; nothing listens on a port):\n"
"      --publish URL       publish this bed to mqtt[s]://host:port/prefix (see [publish] in the config)\n"
"      --bed ID            bed id on the broker and name of the control socket (never a person's name)\n"
"Display:\n"
"      --bedside           the calm bedside view\n"
"      --theme NAME        default, night, high-contrast, monochrome, or a path to an .ini\n"
"      --fps N             frames per second at most (default 4; more: the traces move in finer\n"
"                          steps and send more bytes)\n"
"      --ascii             plain ASCII characters\n"
"      --headless          no screen: epochs to standard output, alerts and notes to standard error;\n"
"                          serves `dreamwatch attach`\n"
"Configuration:\n"
"  -c, --config FILE       configuration file (default $XDG_CONFIG_HOME/dreamwatch/config.ini)\n"
"      --set SEC.KEY=VAL   set any configuration key\n"
"      --print-config      print every key with its default and exit\n"
"  -h, --help              this help\n"
"  -V, --version           version\n"
"\n"
"Keys: ? help (every key), w manual wake, n natural-sleep mode, Q or q safe shutdown, a acknowledge the\n"
"      ringing alert, m marker, r dream report, space pause, + - replay speed, Left Right seek, Tab focus,\n"
"      e event list, S summary, t theme, v layout; in the hypnogram: Left Right cursor, z Z zoom, [ ] events;\n"
"      E evoked response, k pre-night check (live); after an awakening: y n r, 1-5 or text answers.\n"
"On exit every file the night created (recording, side log, session log, tables, summary) is\n"
"named on standard error.\n"
"Signals: SIGINT and SIGTERM shut down safely; a second one forces exit (the recording is kept).\n"
"SIGHUP (the terminal gone: a dropped SSH link) never ends a live night: record and --headless\n"
"go on, a live monitor goes on headless (dreamwatch attach NAME rejoins it); a replay shuts down\n"
"safely.\n";

/* `dreamwatch record --help`: the options a night with no screen takes (the display's are the
 * monitor's and attach's). */
static const char record_usage_text[] =
"usage: dreamwatch record --serial PATH [--out DIR] [OPTIONS]\n"
"\n"
"Record and stage a live night with no screen: epochs to standard output, alerts and notes to\n"
"standard error, the recording, session log, summary and tables in the recordings folder. It\n"
"serves a control socket for `dreamwatch attach` (named after --bed, else the process id); no\n"
"network port is opened.\n"
"\n"
"Input:\n"
"  -s, --serial PATH       the live OpenBCI board on PATH (a serial port or a pty); required\n"
"      --board B           auto, cyton (8 ch, 250 Hz) or daisy (16 ch, 125 Hz)\n"
"      --channels LIST     channels to use, labels or 1-based indices, comma-separated\n"
"      --frontal CH        the frontal (Fpz-Cz-like) channel\n"
"      --parietal CH       the parietal (Pz-Oz-like) channel; 'none' for the one-channel model\n"
"  -r, --reference FILE    reference hypnogram, laid by clock time beside ours\n"
"Staging:\n"
"  -m, --model FILE        model file instead of the built-in one\n"
"Session:\n"
"      --natural           start in natural-sleep mode (the default)\n"
"      --enhanced          start in enhanced mode: stimulation and the protocol armed in their stages\n"
"      --protocol FILE     research protocol (see README, Running a protocol)\n"
"Recording:\n"
"  -o, --out DIR           where recordings go\n"
"      --subject CODE      subject code in file names\n"
"      --no-record         no BDF+ recording (the session log, tables and summary are still\n"
"                          written)\n"
"Network (the broker is the only peer):\n"
"      --publish URL       publish this bed to mqtt[s]://host:port/prefix\n"
"      --bed ID            bed id on the broker and name of the control socket (never a person's name)\n"
"Configuration:\n"
"  -c, --config FILE       configuration file (default $XDG_CONFIG_HOME/dreamwatch/config.ini)\n"
"      --set SEC.KEY=VAL   set any configuration key\n"
"  -h, --help              this help\n"
"\n"
"On exit every file the night created is named on standard error. SIGINT and SIGTERM stop it\n"
"safely (a second one forces exit, the recording kept); SIGHUP, the terminal going, does not.\n";

enum {
    O_BOARD = 256, O_CHANNELS, O_FRONTAL, O_PARIETAL, O_SPEED, O_PAUSED, O_EXIT_AT_END, O_NATURAL,
    O_ENHANCED, O_PROTOCOL, O_SUBJECT, O_NO_RECORD, O_BEDSIDE, O_THEME, O_FPS, O_ASCII, O_HEADLESS,
    O_SET, O_PRINT_CONFIG, O_PUBLISH, O_BED,
};

static const struct option long_opts[] = {
    { "serial", required_argument, 0, 's' },      { "board", required_argument, 0, O_BOARD },
    { "channels", required_argument, 0, O_CHANNELS }, { "frontal", required_argument, 0, O_FRONTAL },
    { "parietal", required_argument, 0, O_PARIETAL }, { "reference", required_argument, 0, 'r' },
    { "speed", required_argument, 0, O_SPEED },   { "paused", no_argument, 0, O_PAUSED },
    { "exit-at-end", no_argument, 0, O_EXIT_AT_END }, { "model", required_argument, 0, 'm' },
    { "natural", no_argument, 0, O_NATURAL },     { "enhanced", no_argument, 0, O_ENHANCED },
    { "protocol", required_argument, 0, O_PROTOCOL },
    { "out", required_argument, 0, 'o' },         { "subject", required_argument, 0, O_SUBJECT },
    { "no-record", no_argument, 0, O_NO_RECORD }, { "bedside", no_argument, 0, O_BEDSIDE },
    { "theme", required_argument, 0, O_THEME },   { "fps", required_argument, 0, O_FPS },
    { "ascii", no_argument, 0, O_ASCII },         { "headless", no_argument, 0, O_HEADLESS },
    { "config", required_argument, 0, 'c' },      { "set", required_argument, 0, O_SET },
    { "print-config", no_argument, 0, O_PRINT_CONFIG },
    { "publish", required_argument, 0, O_PUBLISH }, { "bed", required_argument, 0, O_BED },
    { "help", no_argument, 0, 'h' },              { "version", no_argument, 0, 'V' },
    { 0, 0, 0, 0 },
};
static const char short_opts[] = "s:r:m:o:c:hV";

struct run_opts {
    int headless;
    int record;                   /* `dreamwatch record` (its own --help) */
};

/* --set input.frontal=Fz */
static int set_dotted(dw_config *cfg, const char *arg, dw_err *err)
{
    char sec[64], key[64];
    const char *dot = strchr(arg, '.'), *eq = strchr(arg, '=');
    if (!dot || !eq || dot > eq || (size_t)(dot - arg) >= sizeof sec || (size_t)(eq - dot - 1) >= sizeof key) {
        dw_err_set(err, "--set %s: expected SECTION.KEY=VALUE", arg);
        return -1;
    }
    snprintf(sec, sizeof sec, "%.*s", (int)(dot - arg), arg);
    snprintf(key, sizeof key, "%.*s", (int)(eq - dot - 1), dot + 1);
    return dw_config_set(cfg, sec, key, eq + 1, err);
}

/* A word that is neither a command nor a file: most likely a mistyped command, so say both. */
static void no_such_command(const char *word)
{
    fprintf(stderr, "dreamwatch: %s: no such command or file (commands: record, score, features, emulate, "
                    "recover, check, attach, ward, nights; see --help)\n", word);
}

/* The config file first, then the options over it, so the command line wins. */
static int parse_args(int argc, char **argv, dw_config *cfg, struct run_opts *ro)
{
    dw_err err = { 0 };
    char path[DW_PATH_MAX] = "";
    int explicit_cfg = 0;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1)
        if (c == 'c') {
            snprintf(path, sizeof path, "%s", optarg);
            explicit_cfg = 1;
        }
    if (!explicit_cfg)
        dw_path_config(path, sizeof path);
    dw_config_defaults(cfg);
    if (dw_config_load(cfg, path, !explicit_cfg, &err) < 0) {
        fprintf(stderr, "dreamwatch: %s\n", err.msg);
        return 2;
    }
    opterr = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 's': bad = dw_config_set(cfg, "input", "serial", optarg, &err); break;
        case O_BOARD: bad = dw_config_set(cfg, "input", "board", optarg, &err); break;
        case O_CHANNELS: bad = dw_config_set(cfg, "input", "channels", optarg, &err); break;
        case O_FRONTAL: bad = dw_config_set(cfg, "input", "frontal", optarg, &err); break;
        case O_PARIETAL: bad = dw_config_set(cfg, "input", "parietal", optarg, &err); break;
        case 'r': bad = dw_config_set(cfg, "input", "reference", optarg, &err); break;
        case O_SPEED: bad = dw_config_set(cfg, "input", "replay_speed", optarg, &err); break;
        case O_PAUSED: cfg->start_paused = 1; break;
        case O_EXIT_AT_END: cfg->exit_at_end = 1; break;
        case 'm': bad = dw_config_set(cfg, "staging", "model", optarg, &err); break;
        case O_NATURAL: bad = dw_config_set(cfg, "stimulation", "mode", "natural", &err); break;
        case O_ENHANCED: bad = dw_config_set(cfg, "stimulation", "mode", "enhanced", &err); break;
        case O_PROTOCOL: bad = dw_config_set(cfg, "stimulation", "protocol", optarg, &err); break;
        case 'o': bad = dw_config_set(cfg, "recording", "dir", optarg, &err); break;
        case O_SUBJECT: bad = dw_config_set(cfg, "recording", "subject", optarg, &err); break;
        case O_NO_RECORD: cfg->rec_enabled = 0; break;
        case O_BEDSIDE: bad = dw_config_set(cfg, "display", "layout", "bedside", &err); break;
        case O_THEME: bad = dw_config_set(cfg, "display", "theme", optarg, &err); break;
        case O_FPS: bad = dw_config_set(cfg, "display", "fps", optarg, &err); break;
        case O_ASCII: bad = dw_config_set(cfg, "display", "charset", "ascii", &err); break;
        case O_HEADLESS: ro->headless = 1; break;
        case O_PUBLISH: bad = dw_config_set(cfg, "publish", "url", optarg, &err); break;
        case O_BED: bad = dw_config_set(cfg, "publish", "bed", optarg, &err); break;
        case 'c': break;
        case O_SET: bad = set_dotted(cfg, optarg, &err); break;
        case O_PRINT_CONFIG: dw_config_write_example(stdout); return 0;
        case 'h': fputs(ro->record ? record_usage_text : usage_text, stdout); return 0;
        case 'V': printf("dreamwatch %s\n", DW_VERSION); return 0;
        default:
            fprintf(stderr, "Try 'dreamwatch%s --help'.\n", ro->record ? " record" : "");
            return 2;
        }
        if (bad) {
            fprintf(stderr, "dreamwatch: %s\n", err.msg);
            return 2;
        }
    }
    if (optind < argc - 1) {
        struct stat fst;
        const char *first = argv[optind];
        if (stat(first, &fst) < 0 && errno == ENOENT && !strchr(first, '/') && !strchr(first, '.'))
            no_such_command(first);                                    /* `dreamwatch scor x.edf` */
        else
            fprintf(stderr, "dreamwatch: one recording at a time (got %d); `dreamwatch score` takes several\n",
                    argc - optind);
        return 2;
    }
    if (optind == argc - 1 && dw_config_set(cfg, "input", "file", argv[optind], &err) < 0) {
        fprintf(stderr, "dreamwatch: %s\n", err.msg);
        return 2;
    }
    if (cfg->session.protocol_path[0] &&
        dw_protocol_load(&cfg->session.protocol, cfg->session.protocol_path, &err) < 0) {
        fprintf(stderr, "dreamwatch: %s\n", err.msg);
        return 2;
    }
    return -1;
}

/* The night's main figures on the exit lines (staging/sleep_stats.c); nothing with no epoch. */
static void print_figures(const dw_monitor *m)
{
    dw_sleep_stats s;
    dw_sleep_stats_compute(m->stage, m->n_epochs, &s);
    if (m->n_epochs == 0)
        return;
    const char *epochs = dw_plural(m->n_epochs, "epoch", "epochs");
    if (s.too_short)
        fprintf(stderr, "  %d %s staged: too short for a night (under %d min scored), no sleep "
                "efficiency, SOL or WASO\n", m->n_epochs, epochs,
                DW_NIGHT_MIN_EPOCHS * DW_EPOCH_S / 60);
    else if (s.sol_min < 0)
        fprintf(stderr, "  %d %s staged, no sleep\n", m->n_epochs, epochs);
    else
        fprintf(stderr, "  %d %s staged: total sleep %d h %02d min, sleep efficiency %.1f %% of "
                "the time in bed, sleep onset latency %.1f min, WASO %.1f min\n", m->n_epochs,
                epochs, (int)(s.tst_min + 0.5) / 60,
                (int)(s.tst_min + 0.5) % 60, s.se_pct, s.sol_min, s.waso_min);
    dw_night_print_seeks(stderr, "  ", m->seeks, m->seek_skipped, m->seek_restaged);
}

/* The end of the night, on standard error once the terminal is restored: every file the night
 * created, once each, from the list their creators filled (worker.h dw_worker_outputs: the
 * recording and its side log, each file of a resume, the session log, the tables, the sealed file,
 * the summary), the night's main figures (staging/sleep_stats.c), and what failed at the end
 * (worker.h dw_worker_failed; with the screen up it could not be seen when it happened). */
static void print_exit(const dw_monitor *m, const dw_outputs *out, const char *failed)
{
    for (int i = 0; i < out->n; i++) {
        const dw_output *o = &out->v[i];
        struct stat st;
        if (!i)
            fprintf(stderr, "dreamwatch: the night's files:\n");
        if (stat(o->path, &st) != 0)             /* removed since: say so, never skip it silently */
            fprintf(stderr, "  %-12s %s (gone: %s)\n", o->role, o->path, strerror(errno));
        else if (st.st_size < 10240)             /* "(0 kB)" for a 137-byte log read as empty */
            fprintf(stderr, "  %-12s %s (%lld bytes)\n", o->role, o->path, (long long)st.st_size);
        else
            fprintf(stderr, "  %-12s %s (%lld kB)\n", o->role, o->path,
                    (long long)st.st_size / 1024);
    }
    print_figures(m);
    if (!*failed)
        return;
    fprintf(stderr, "dreamwatch: the night ended with errors (exit status 1):\n");
    for (const char *l = failed; *l; l += strcspn(l, "\n"), l += *l == '\n')
        fprintf(stderr, "  %.*s\n", (int)strcspn(l, "\n"), l);
}

/* Alerts and source notes in headless mode, as they come (the screen shows them on the monitor), and,
 * once for each alert, that stimulation stays off until it is acknowledged (the status line's "stim off"). */
static void headless_news(const dw_monitor *m, int *alerts_seen, unsigned *blocker_told)
{
    for (; *alerts_seen < m->n_events; (*alerts_seen)++) {
        const dw_event_view *e = &m->events[*alerts_seen];
        if (e->kind == DW_EV_ALERT || (e->kind == DW_EV_NOTE && !strncmp(e->text, "Alert ", 6)))
            fprintf(stderr, "dreamwatch: t=%.1f s: %s\n", e->t, e->text);
    }
    const dw_alert_view *bl = dw_monitor_stim_blocker(m);
    if (bl && bl->id != *blocker_told)
        fprintf(stderr, "dreamwatch: stimulation stays off until alert %u is acknowledged (a in dreamwatch "
                        "attach)\n", bl->id);
    *blocker_told = bl ? bl->id : 0;
}

/* Where the loop below starts: a headless session from its beginning; after the screen, from where
 * the screen left (nothing shown again), with a shutdown already asked or a hang-up already noted.
 */
struct headless {
    int asked;            /* a safe shutdown was asked: a SIGINT or SIGTERM now forces exit */
    int hup_noted;        /* the hang-up is in the log (a dropped link brings several SIGHUPs) */
    int shown, news;      /* epochs printed, events looked at */
};

/* Headless: this thread takes the signals (blocked in every thread since watch() began); the first
 * SIGINT or SIGTERM asks for a safe shutdown, a second forces exit (the recording's header is kept
 * current on disk, so nothing already written is lost). SIGHUP never stops it and never counts as a
 * second signal: a headless session exists to outlive its terminal (README: "A night that does not
 * depend on the terminal"), and a dropped SSH link hangs up `record ... &` whether or not it was
 * started under nohup (a blocked signal is taken here even when nohup set it ignored). Returns when
 * the worker has finished (m->finished). */
static void run_headless(dw_monitor *m, struct headless *h)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    unsigned blocker = 0;
    for (;;) {
        struct timespec ts = { 0, 200 * 1000 * 1000 };
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGHUP && !h->asked && !h->hup_noted) {
            h->hup_noted = 1;
            fprintf(stderr, "dreamwatch: hangup (the terminal is gone): the session goes on; stop it with "
                            "SIGTERM or with Q from dreamwatch attach\n");
            dw_monitor_post(m, DW_CMD_MARKER, 0, "terminal hung up; the session goes on");
        } else if (sig > 0 && sig != SIGHUP) {
            if (h->asked) {
                fprintf(stderr, "dreamwatch: second signal, exiting now\n");
                _exit(1);
            }
            h->asked = 1;
            fprintf(stderr, "dreamwatch: %s, shutting down safely\n", strsignal(sig));
            dw_monitor_post(m, DW_CMD_SHUTDOWN, 0, "signal");
        }
        pthread_mutex_lock(&m->lock);
        int finished = m->finished;
        int ended = m->source_ended;
        headless_news(m, &h->news, &blocker);
        while (h->shown < m->n_epochs) {
            const float *p = m->prob[h->shown];
            int s = m->stage[h->shown];
            if (dw_epoch_has_prob(s))
                printf("epoch %d\t%s\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\n", h->shown, dw_stage_name(s),
                       p[0], p[1], p[2], p[3], p[4]);
            else                                  /* unscored: no probabilities, empty as in the CSV */
                printf("epoch %d\t%s\t\t\t\t\t\n", h->shown, dw_stage_name(s));
            h->shown++;
        }
        pthread_mutex_unlock(&m->lock);
        fflush(stdout);
        if (finished)
            break;
        if (ended && !h->asked) {
            dw_monitor_post(m, DW_CMD_SHUTDOWN, 0, "end of recording");
            h->asked = 1;
        }
    }
}

static void headless_session(dw_monitor *m)
{
    struct headless h = { 0 };
    pthread_mutex_lock(&m->lock);
    fprintf(stderr, "dreamwatch: %s: staging %s\n", m->source_desc, m->staging_desc);
    for (const char *l = m->source_note; *l; l += strcspn(l, "\n"), l += *l == '\n')
        fprintf(stderr, "dreamwatch: %.*s\n", (int)strcspn(l, "\n"), l);   /* each line prefixed */
    pthread_mutex_unlock(&m->lock);
    run_headless(m, &h);
}

/* The monitor: the screen, then what its end asks for. Its terminal gone (an SSH link dropped, the
 * window closed, SIGHUP) with no shutdown asked, a live session goes on headless: the control
 * socket it has served from the start lets `dreamwatch attach NAME` rejoin the night, and SIGTERM
 * or Q from attach end it safely; a replay, which loses nothing by stopping, ends with a safe
 * shutdown ("terminal closed"). Either way this thread then waits for the worker to close the
 * recording and write the summary, taking the signals that come meanwhile. */
static void screen_session(dw_monitor *m, const dw_display_cfg *display, const char *session)
{
    int how = dw_screen_run(m, display);
    if (how == DW_SCREEN_FORCED) {
        fprintf(stderr, "dreamwatch: second signal, exiting now\n");
        _exit(1);
    }
    pthread_mutex_lock(&m->lock);
    int live = m->live;
    struct headless h = { .asked = how != DW_SCREEN_HANGUP || !live, .hup_noted = 1 };
    h.shown = m->n_epochs;                  /* the screen showed them: only the ones to come */
    h.news = m->n_events;
    pthread_mutex_unlock(&m->lock);
    if (how == DW_SCREEN_HANGUP && live) {
        char note[128];
        snprintf(note, sizeof note,
                 "terminal closed; the session goes on headless (dreamwatch attach %s)", session);
        fprintf(stderr, "dreamwatch: %s; stop it with SIGTERM or with Q from dreamwatch attach\n",
                note);
        dw_monitor_post(m, DW_CMD_MARKER, 0, note);
    } else if (how == DW_SCREEN_HANGUP) {
        dw_monitor_post(m, DW_CMD_SHUTDOWN, 0, "terminal closed");
    }
    run_headless(m, &h);
}

static int watch(int argc, char **argv, int headless_cmd)
{
    static dw_config cfg;
    struct run_opts ro = { .headless = headless_cmd, .record = headless_cmd };
    int r = parse_args(argc, argv, &cfg, &ro);
    if (r >= 0)
        return r;
    cfg.headless = ro.headless;
    if (headless_cmd && !cfg.serial[0]) {
        fprintf(stderr, "dreamwatch record: --serial PATH is required\n");
        return 2;
    }
    if (cfg.file[0] && !cfg.serial[0]) {    /* a mistyped command reads as a file name: say both */
        dw_err ierr = { 0 };
        struct stat fst;
        int missing = stat(cfg.file, &fst) < 0 && errno == ENOENT;
        int fd = dw_input_open(cfg.file, "recording", &ierr);
        if (fd < 0) {
            if (missing && !strchr(cfg.file, '/') && !strchr(cfg.file, '.')) {
                no_such_command(cfg.file);
                return 2;                    /* a usage error */
            }
            fprintf(stderr, "dreamwatch: %s\n", ierr.msg);
            return 1;                        /* an input that cannot be read, as everywhere */
        }
        close(fd);
    }
    if (!ro.headless && (!isatty(0) || !isatty(1))) {
        fprintf(stderr, "dreamwatch: the monitor needs a terminal; use --headless, `dreamwatch record` or "
                        "`dreamwatch score`\n");
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    /* Blocked in every thread from here on (the threads started below inherit it): this thread
     * takes them, with the screen's handlers while it runs, else with sigtimedwait (run_headless),
     * so none can kill the process while the recording is closed. While the worker is made (the
     * board's first handshake takes seconds) a signalfd lets it give up at once; headless, a
     * hang-up stays pending for run_headless (it goes on). */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    sigset_t stop = set;
    if (ro.headless)
        sigdelset(&stop, SIGHUP);
    int sfd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
    signal(SIGPIPE, SIG_IGN);

    static dw_monitor mon;
    dw_err err = { 0 };
    char session[64];                                      /* the control socket's name */
    snprintf(session, sizeof session, "%s", cfg.publish.bed[0] ? cfg.publish.bed : "");
    if (!session[0]) snprintf(session, sizeof session, "%ld", (long)getpid());
    /* The control socket (`dreamwatch attach`): a headless session, and a live monitor, whose night
     * goes on headless when its terminal goes */
    int serve = ro.headless || cfg.serial[0];
    dw_net_opts net_check = { &cfg.publish, serve ? session : NULL, cfg.subject };
    if (dw_net_check(&net_check, &err) < 0) {              /* before the device or a recording is opened */
        fprintf(stderr, "dreamwatch: %s\n", err.msg);
        return 2;          /* a configuration error (EXIT STATUS): the name taken, [publish] wrong */
    }
    if (dw_monitor_init(&mon) < 0) {
        fprintf(stderr, "dreamwatch: cannot set up: %s\n", strerror(errno));
        return 1;
    }
    mon.cancel_fd = sfd;
    dw_worker *w = dw_worker_new(&cfg, &mon, &err);
    mon.cancel_fd = -1;
    if (sfd >= 0)
        close(sfd);                  /* a signal not taken stays pending: run_headless shuts down on it */
    if (!w) {
        fprintf(stderr, "dreamwatch: %s\n", err.msg);
        dw_monitor_destroy(&mon);
        return dw_err_status(&err);          /* 2 for a --model or a port in use, else 1 */
    }
    /* The net thread: the control socket of a headless session or a live monitor (`dreamwatch
     * attach`), the broker. */
    dw_net *net = NULL;
    if (serve || cfg.publish.url[0]) {
        dw_net_opts no = { &cfg.publish, serve ? session : NULL, cfg.subject };
        if (!(net = dw_net_start(&mon, &no, &err))) {
            fprintf(stderr, "dreamwatch: %s\n", err.msg);
            dw_worker_free(w);
            dw_monitor_destroy(&mon);
            /* the name taken by another run meanwhile: as if it had been at the start */
            return serve && dw_ctl_running(session) ? 2 : 1;
        }
        if (ro.headless) fprintf(stderr, "dreamwatch: session %s (dreamwatch attach %s)\n", session, session);
    }
    if (dw_worker_start(w) < 0) {
        fprintf(stderr, "dreamwatch: cannot start the worker thread\n");
        dw_net_stop(net);
        dw_worker_free(w);
        dw_monitor_destroy(&mon);
        return 1;
    }
    if (ro.headless)
        headless_session(&mon);
    else
        screen_session(&mon, &cfg.display, session);
    dw_worker_join(w);
    dw_net_stop(net);
    print_exit(&mon, dw_worker_outputs(w), dw_worker_failed(w));
    int status = dw_worker_status(w);
    dw_worker_free(w);
    dw_monitor_destroy(&mon);
    return status;
}

int dw_cmd_watch(int argc, char **argv) { return watch(argc, argv, 0); }
int dw_cmd_record(int argc, char **argv) { return watch(argc, argv, 1); }
