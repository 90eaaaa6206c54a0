/* `dreamwatch ward --broker URL`: every bed publishing under the URL's prefix on one screen, beds
 * that need attention first, a bell for critical alerts on any bed, one bed's detail on Enter, and
 * commands to a bed (wake, natural mode, acknowledge, shutdown) that the bed acknowledges. TLS and
 * credentials come from [publish] of the configuration or the options below. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/commands.h"
#include "app/config.h"
#include "net/ward.h"
#include "screen/ward_screen.h"

static const char usage[] =
    "usage: dreamwatch ward [--broker URL] [OPTIONS]\n"
    "Every bed publishing to the broker, one row each, those needing attention first.\n"
    "  --broker URL        mqtt://host:port/prefix or mqtts://... (default: [publish] url)\n"
    "  --cafile FILE       TLS: CA of the broker         --certfile FILE / --keyfile FILE  client "
    "certificate\n"
    "  --credentials FILE  USER:PASSWORD, mode 0600 (an operator account: only operators may send "
    "commands)\n"
    "  --stale S           a bed silent for S seconds is shown as stale (default 30)\n"
    "  --theme NAME, --ascii, --config FILE, --set SEC.KEY=VAL\n"
    "Keys: up/down select, Enter detail, w wake, n natural mode, a acknowledge, X shutdown a bed, "
    "q quit.\n";

enum { O_BROKER = 256, O_CAFILE, O_CERT, O_KEY, O_CRED, O_STALE, O_THEME, O_ASCII, O_SET };

static int parse(int argc, char **argv, dw_config *cfg, double *stale, dw_err *err)
{
    static const struct option lo[] = { { "broker", required_argument, 0, O_BROKER },
                                        { "cafile", required_argument, 0, O_CAFILE },
                                        { "certfile", required_argument, 0, O_CERT },
                                        { "keyfile", required_argument, 0, O_KEY },
                                        { "credentials", required_argument, 0, O_CRED },
                                        { "stale", required_argument, 0, O_STALE },
                                        { "theme", required_argument, 0, O_THEME },
                                        { "ascii", no_argument, 0, O_ASCII },
                                        { "config", required_argument, 0, 'c' },
                                        { "set", required_argument, 0, O_SET },
                                        { "help", no_argument, 0, 'h' },
                                        { 0, 0, 0, 0 } };
    char path[DW_PATH_MAX] = "";
    int c, explicit_cfg = 0;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", lo, NULL)) != -1)
        if (c == 'c') {
            snprintf(path, sizeof path, "%s", optarg);
            explicit_cfg = 1;
        }
    if (!explicit_cfg) dw_path_config(path, sizeof path);
    dw_config_defaults(cfg);
    if (dw_config_load(cfg, path, !explicit_cfg, err) < 0) return 2;
    opterr = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", lo, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case O_BROKER: bad = dw_config_set(cfg, "publish", "url", optarg, err); break;
        case O_CAFILE: bad = dw_config_set(cfg, "publish", "cafile", optarg, err); break;
        case O_CERT: bad = dw_config_set(cfg, "publish", "certfile", optarg, err); break;
        case O_KEY: bad = dw_config_set(cfg, "publish", "keyfile", optarg, err); break;
        case O_CRED: bad = dw_config_set(cfg, "publish", "credentials", optarg, err); break;
        case O_STALE:
            *stale = atof(optarg);
            if (*stale < 1) {
                dw_err_set(err, "--stale %s: at least 1 s", optarg);
                bad = 1;
            }
            break;
        case O_THEME: bad = dw_config_set(cfg, "display", "theme", optarg, err); break;
        case O_ASCII: bad = dw_config_set(cfg, "display", "charset", "ascii", err); break;
        case O_SET: {
            char sec[64], key[64];
            const char *dot = strchr(optarg, '.'), *eq = strchr(optarg, '=');
            if (!dot || !eq || dot > eq || dot - optarg >= 64 || eq - dot - 1 >= 64) {
                dw_err_set(err, "--set %s: expected SECTION.KEY=VALUE", optarg);
                bad = 1;
                break;
            }
            snprintf(sec, sizeof sec, "%.*s", (int)(dot - optarg), optarg);
            snprintf(key, sizeof key, "%.*s", (int)(eq - dot - 1), dot + 1);
            bad = dw_config_set(cfg, sec, key, eq + 1, err);
            break;
        }
        case 'c': break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
        if (bad) return 2;
    }
    if (optind != argc) {
        dw_err_set(err, "unexpected argument \"%s\"", argv[optind]);
        return 2;
    }
    return -1;
}

int dw_cmd_ward(int argc, char **argv)
{
    static dw_config cfg;
    dw_err err = { 0 };
    double stale = 30;
    int r = parse(argc, argv, &cfg, &stale, &err);
    if (r >= 0) {
        if (err.msg[0]) fprintf(stderr, "dreamwatch ward: %s\n", err.msg);
        return r;
    }
    dw_broker_url url;
    if (!cfg.publish.url[0]) {
        fprintf(stderr, "dreamwatch ward: --broker URL is required\n%s", usage);
        return 2;
    }
    if (dw_broker_url_parse(cfg.publish.url, &url, &err) < 0) {
        fprintf(stderr, "dreamwatch ward: %s\n", err.msg);
        return 2;
    }
    if (!isatty(0) || !isatty(1)) {
        fprintf(stderr, "dreamwatch ward: needs a terminal\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    tzset(); /* before any thread: localtime_r then never touches the zone again */
    static dw_ward w;
    if (dw_ward_init(&w, stale) < 0) {
        perror("dreamwatch ward");
        return 1;
    }
    w.url = url;
    if (dw_ward_connect(&w, &cfg.publish, &url, &err) < 0) {
        fprintf(stderr, "dreamwatch ward: %s\n", err.msg);
        dw_ward_free(&w);
        return 1;
    }
    int rc = dw_ward_run(&w, &cfg.display);
    dw_ward_free(&w);
    return rc;
}
