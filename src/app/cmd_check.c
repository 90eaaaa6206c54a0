/* `dreamwatch check --serial PORT`: the pre-night check of a live board (session/night_check.h), on
 * the terminal: the instructions for the sleeper as the phases come, then impedance channel by
 * channel, then the table. Exit 0 when every channel and test passed, 1 when one failed, 2 on a
 * usage or set-up error. The check also runs inside the monitor (`k`), where its results go to the
 * recording and the session log. */
#include "app/commands.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "app/config.h"
#include "dsp/quality.h"
#include "session/night_check.h"
#include "sources/cyton.h"

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig) { (void)sig; stop_flag = 1; }

static int usage(FILE *f)
{
    fprintf(f, "usage: dreamwatch check --serial PORT [--board auto|cyton|daisy] [--channels LIST] "
               "[--frontal CH]\n"
               "                        [--parietal CH] [-c CONFIG] [--set SECTION.KEY=VALUE]...\n"
               "  the pre-night check: signal at rest, eyes closed (alpha), eye movements, then "
               "each electrode's\n"
               "  impedance; thresholds and durations in [check] of the configuration\n");
    return f == stdout ? 0 : 2;
}

static int parse(int argc, char **argv, dw_config *cfg)
{
    static const struct option opts[] = {
        { "serial", required_argument, 0, 's' }, { "board", required_argument, 0, 'b' },
        { "channels", required_argument, 0, 'C' }, { "frontal", required_argument, 0, 'F' },
        { "parietal", required_argument, 0, 'P' }, { "config", required_argument, 0, 'c' },
        { "set", required_argument, 0, 'S' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    char path[DW_PATH_MAX] = "";
    dw_err err = { 0 };
    int c, explicit_cfg = 0;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:c:h", opts, NULL)) != -1)
        if (c == 'c')
            snprintf(path, sizeof path, "%s", optarg), explicit_cfg = 1;
    if (!explicit_cfg)
        dw_path_config(path, sizeof path);
    dw_config_defaults(cfg);
    if (dw_config_load(cfg, path, !explicit_cfg, &err) < 0) {
        fprintf(stderr, "dreamwatch check: %s\n", err.msg);
        return 2;
    }
    opterr = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:c:h", opts, NULL)) != -1) {
        int bad = 0;
        char sec[64], key[64];
        const char *dot, *eq;
        switch (c) {
        case 's': bad = dw_config_set(cfg, "input", "serial", optarg, &err); break;
        case 'b': bad = dw_config_set(cfg, "input", "board", optarg, &err); break;
        case 'C': bad = dw_config_set(cfg, "input", "channels", optarg, &err); break;
        case 'F': bad = dw_config_set(cfg, "input", "frontal", optarg, &err); break;
        case 'P': bad = dw_config_set(cfg, "input", "parietal", optarg, &err); break;
        case 'c': break;
        case 'S':
            dot = strchr(optarg, '.');
            eq = strchr(optarg, '=');
            if (!dot || !eq || dot > eq || dot - optarg >= 64 || eq - dot - 1 >= 64) {
                fprintf(stderr, "dreamwatch check: --set %s: expected SECTION.KEY=VALUE\n", optarg);
                return 2;
            }
            snprintf(sec, sizeof sec, "%.*s", (int)(dot - optarg), optarg);
            snprintf(key, sizeof key, "%.*s", (int)(eq - dot - 1), dot + 1);
            bad = dw_config_set(cfg, sec, key, eq + 1, &err);
            break;
        case 'h': usage(stdout); return 0;
        default: return usage(stderr);
        }
        if (bad) {
            fprintf(stderr, "dreamwatch check: %s\n", err.msg);
            return 2;
        }
    }
    if (optind != argc || !cfg->serial[0]) {
        fprintf(stderr, "dreamwatch check: --serial PORT is required (and nothing else)\n");
        return 2;
    }
    return -1;
}

static void on_quality(void *ctx, const dw_quality_second *q) { dw_check_quality(ctx, q); }

/* The signal phases: read, give each block to the verdict and the check, say each new instruction.
 */
static int signal_phases(dw_source *src, dw_quality *q, dw_night_check *k)
{
    const dw_source_info *in = &src->info;
    int shown = -1;
    while (!stop_flag && dw_check_phase(k) < DW_CHECK_IMPEDANCE) {
        dw_block b;
        memset(&b, 0, sizeof b);
        int n = src->ops->read(src, &b, 2000, 100);
        if (n < 0) {
            fprintf(stderr, "dreamwatch check: %s\n", src->err.msg);
            return -1;
        }
        if (b.gap > 0)
            dw_quality_gap(q, b.gap, on_quality, k);
        if (n > 0) {
            dw_quality_push(q, b.uv, n, on_quality, k);
            dw_check_block(k, &b);
        }
        if (dw_check_phase(k) != shown) {
            shown = dw_check_phase(k);
            printf("check: %s\n", dw_check_prompt(shown));
            fflush(stdout);
        }
    }
    (void)in;
    return stop_flag ? -1 : 0;
}

static void impedances(dw_source *src, dw_night_check *k)
{
    for (int c = 0; c < src->info.nch && !stop_flag; c++) {
        double kohm = 0;
        int board = dw_cyton_board_channel(src, c);
        int ok = board > 0 && dw_cyton_impedance(src, board, &kohm) == 0;
        if (ok)
            printf("check: impedance %s (board channel %d): %.1f kOhm\n", src->info.label[c], board,
                   kohm);
        else
            printf("check: impedance %s: %s\n", src->info.label[c], src->err.msg);
        fflush(stdout);
        dw_check_impedance(k, c, kohm, ok);
    }
    dw_check_finish(k);
}

int dw_cmd_check(int argc, char **argv)
{
    static dw_config cfg;
    int r = parse(argc, argv, &cfg);
    if (r >= 0)
        return r;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    dw_err err = { 0 };
    /* The board's first handshake takes seconds: a signalfd lets it give up at once on a signal,
     * which stays pending and reaches on_signal when the mask is restored. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, &old);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    dw_source *src = dw_cyton_open(cfg.serial, cfg.board, &cfg.chans, sfd, &err);
    if (sfd >= 0)
        close(sfd);
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (!src) {
        fprintf(stderr, "dreamwatch check: %s\n", err.msg);
        return 2;
    }
    const dw_source_info *in = &src->info;
    dw_quality_cfg qc = dw_quality_settings(&cfg.session);
    dw_quality *q = dw_quality_new(in->nch, in->fs, in->phys_lo, in->phys_hi, &qc);
    dw_night_check *k = q ? dw_check_new(&cfg.check, in, cfg.session.al_mains_ratio, &err) : NULL;
    if (!k) {
        fprintf(stderr, "dreamwatch check: %s: %s\n", cfg.serial, q ? err.msg : "out of memory");
        dw_quality_free(q);
        dw_source_close(src);
        return 2;
    }
    printf("check: %s, %d channels at %g Hz; %s %s, alpha on %s\n", cfg.serial, in->nch, in->fs,
           dw_montage_role_word(0, in->label[in->frontal]), in->label[in->frontal],
           in->label[in->parietal >= 0 ? in->parietal : in->frontal]);
    int rc = 2;
    if (signal_phases(src, q, k) == 0) {
        impedances(src, k);
        char report[4096];
        int pass = dw_check_report(k, report, sizeof report);
        fputs(report, stdout);
        rc = stop_flag ? 2 : pass ? 0 : 1;
    }
    dw_check_free(k);
    dw_quality_free(q);
    dw_source_close(src);
    return rc;
}
