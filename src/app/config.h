/* Configuration: ~/.config/dreamwatch/config.ini (XDG_CONFIG_HOME honoured) or --config FILE, read with
 * inih; command-line options override it. Every key lives in one table (src/app/config.c) with its type,
 * default, limits and help text: the parser, the example file and the docs all come from that table. */
#ifndef DW_CONFIG_H
#define DW_CONFIG_H

#include <stdio.h>
#include "base/dw.h"
#include "base/paths.h"
#include "net/broker.h"
#include "screen/screen.h"
#include "session/night_check.h"
#include "session/session_cfg.h"
#include "sources/source.h"

typedef struct {
    /* [input] */
    char   file[DW_PATH_MAX];          /* replay this file (default: the sample night) */
    char   serial[DW_PATH_MAX];        /* live Cyton on this port; wins over file */
    char   board[16];                  /* auto | cyton | daisy */
    dw_channel_spec chans;             /* channels, frontal, parietal */
    double replay_speed;               /* 1 = real time, N = N x, 0 = as fast as possible */
    char   reference[DW_PATH_MAX];     /* reference hypnogram file */

    /* [staging] */
    char   model[DW_PATH_MAX];         /* model file; empty = built-in chosen by the electrodes */
    double provisional_s;              /* provisional label refresh period */
    char   lights_off[8];              /* HH:MM of lights-off, empty = start of the recording */

    /* [recording] */
    int    rec_enabled;
    char   rec_dir[DW_PATH_MAX];
    char   subject[64];
    double min_free_mb;                /* below this a disk alert is raised */

    dw_display_cfg display;            /* [display] */
    dw_publish_cfg publish;            /* [publish] */
    dw_session_cfg session;            /* [stimulation], [actuators], [alerts] */
    dw_check_cfg check;                /* [check]: the pre-night check */

    /* command line only */
    int    exit_at_end;                /* --exit-at-end: stop when the replay ends (tests, batch) */
    int    start_paused;
    int    headless;                   /* --headless or `record`: no screen (the session's rules) */
} dw_config;

/* Defaults for every key. */
void dw_config_defaults(dw_config *c);
/* Read an INI file over c. 0 ok; -1 with err "FILE:LINE: [section] key: problem".
 * missing_ok: a missing file is not an error (the default path). */
int  dw_config_load(dw_config *c, const char *path, int missing_ok, dw_err *err);
/* Set one key from the command line ("section.key=value"); same checks as the file. */
int  dw_config_set(dw_config *c, const char *section, const char *key, const char *value, dw_err *err);
/* Write an example file with every key, its default and its meaning. */
void dw_config_write_example(FILE *f);

#endif
