/* `dreamwatch attach [SESSION]`: the full monitor (same panes, same keys) on a running `dreamwatch
 * record`, or a live monitor (gone headless when its terminal went), through its control socket. d
 * detaches; a hang-up (the SSH link dropping, the terminal closed) detaches too; the session and
 * its recording go on either way. Q still asks the session for a safe shutdown. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/commands.h"
#include "app/config.h"
#include "net/attach.h"
#include "net/control.h"
#include "screen/screen.h"

static const char usage[] =
    "usage: dreamwatch attach [SESSION] [--theme NAME] [--bedside] [--ascii] [--config FILE]\n"
    "The monitor of a running `dreamwatch record` or live monitor (SESSION: its bed id, or\n"
    "its process id when it has none; with no SESSION the only one running, or a list).\n"
    "d detaches and leaves the session running; so does a closed terminal or a dropped SSH\n"
    "link. Q asks the session for a safe shutdown, as in the monitor.\n";

int dw_cmd_attach(int argc, char **argv)
{
    static dw_config cfg;
    dw_err err = { 0 };
    char cpath[DW_PATH_MAX] = "";
    dw_config_defaults(&cfg);
    static const struct option lo[] = {
        { "theme", required_argument, 0, 't' }, { "bedside", no_argument, 0, 'b' },
        { "ascii", no_argument, 0, 'a' },       { "config", required_argument, 0, 'c' },
        { "help", no_argument, 0, 'h' },        { 0, 0, 0, 0 }
    };
    int c, explicit_cfg = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", lo, NULL)) != -1)
        if (c == 'c') {
            snprintf(cpath, sizeof cpath, "%s", optarg);
            explicit_cfg = 1;
        } else if (c == 'h') {
            fputs(usage, stdout);
            return 0;
        } else if (c == '?') {
            fputs(usage, stderr);
            return 2;
        }
    if (!explicit_cfg) dw_path_config(cpath, sizeof cpath);
    if (dw_config_load(&cfg, cpath, !explicit_cfg, &err) < 0) {
        fprintf(stderr, "dreamwatch: %s\n", err.msg);
        return 2;
    }
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", lo, NULL)) != -1) {
        int bad = 0;
        if (c == 't')
            bad = dw_config_set(&cfg, "display", "theme", optarg, &err);
        else if (c == 'b')
            bad = dw_config_set(&cfg, "display", "layout", "bedside", &err);
        else if (c == 'a')
            bad = dw_config_set(&cfg, "display", "charset", "ascii", &err);
        if (bad) {
            fprintf(stderr, "dreamwatch attach: %s\n", err.msg);
            return 2;
        }
    }
    if (optind < argc - 1) {
        fputs(usage, stderr);
        return 2;
    }
    char path[DW_PATH_MAX];
    if (dw_ctl_find(optind < argc ? argv[optind] : NULL, path, sizeof path, stderr, &err) < 0) {
        fprintf(stderr, "dreamwatch attach: %s\n", err.msg);
        return 1;
    }
    if (!isatty(0) || !isatty(1)) {
        fprintf(stderr, "dreamwatch attach: needs a terminal\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    static dw_monitor mon;
    if (dw_monitor_init(&mon) < 0) {
        perror("dreamwatch attach");
        return 1;
    }
    char name[64], desc[160];
    dw_attach *a = dw_attach_start(path, &mon, name, desc, &err);
    if (!a) {
        fprintf(stderr, "dreamwatch attach: %s\n", err.msg);
        dw_monitor_destroy(&mon);
        return 1;
    }
    dw_screen_run(&mon, &cfg.display);
    pthread_mutex_lock(&mon.lock);
    int ended = mon.finished;
    pthread_mutex_unlock(&mon.lock);
    dw_attach_join(a);                   /* its findings are final from here on */
    const char *why = dw_attach_why(a);
    int broken = ended && dw_attach_broken(a);
    if (ended && why[0])
        fprintf(stderr, "dreamwatch attach: session %s: %s\n", name, why);
    else
        fprintf(stderr,
                "dreamwatch attach: detached from session %s; it goes on (dreamwatch attach %s)\n",
                name, name);
    dw_attach_stop(a);
    dw_monitor_destroy(&mon);
    return broken ? 1 : 0;
}
