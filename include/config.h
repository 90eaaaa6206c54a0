/* Configuration: ~/.config/dreamwatch/config.ini (XDG_CONFIG_HOME honoured) or --config FILE, read with
 * inih; command-line options override it. Every key lives in one table (src/app/config.c) with its type,
 * default, limits and help text: the parser, the example file and the docs all come from that table. */
#ifndef DW_CONFIG_H
#define DW_CONFIG_H

#include <stdio.h>
#include "dw.h"
#include "source.h"

#define DW_PATH_MAX 1024
#define DW_CMDLINE_MAX 512

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

    /* [display] */
    char   theme[64];
    char   layout[16];                 /* full | bedside */
    double fps;                        /* frames per second at most */
    double trace_seconds;
    double trace_scale_uv;             /* 0 = auto */
    char   charset[8];                 /* auto | utf8 | ascii */
    int    bell;

    /* [stimulation] */
    char   start_mode[16];             /* natural | enhanced */
    int    so_enabled;
    double so_threshold_uv;            /* negative half-wave threshold */
    double so_delay_s;                 /* trough -> stimulus */
    int    so_train;                   /* stimuli per train */
    double so_pause_s;                 /* pause after a train */
    int    cue_enabled;
    int    cue_after_epochs;           /* consecutive R epochs before a cue */
    double cue_interval_min;           /* at most one cue per this many minutes */
    int    max_per_night;              /* stimuli + cues */
    double movement_g;                 /* accelerometer change that counts as movement */
    double wake_timeout_s;             /* manual wake: time to wait for W before repeating */
    int    wake_repeats;               /* repeats before escalation */

    /* [actuators]: each is "none", "bell", "command" or "serial" */
    char   stim_actuator[16];
    char   stim_command[DW_CMDLINE_MAX];
    char   cue_actuator[16];
    char   cue_command[DW_CMDLINE_MAX];
    char   wake_actuator[16];
    char   wake_command[DW_CMDLINE_MAX];
    char   escalation_actuator[16];
    char   escalation_command[DW_CMDLINE_MAX];
    char   trigger_serial[DW_PATH_MAX];  /* second serial port for trigger bytes */
    int    stim_byte, cue_byte, wake_byte;
    double command_timeout_s;

    /* [alerts] */
    int    al_flat;             double al_flat_s;         /* flat line longer than s */
    int    al_railed;           double al_railed_s;
    int    al_mains;            double al_mains_ratio;    /* 50/60 Hz power over 1-40 Hz power */
    int    al_artefact;         double al_artefact_uv;    double al_artefact_s;
    int    al_movement;         double al_movement_s;
    int    al_no_samples;       double al_no_samples_s;
    int    al_loss;             double al_loss_pct;       double al_loss_window_s;
    int    al_reconnect;
    int    al_drift;            double al_drift_s;        /* board clock vs wall clock */
    int    al_recording;
    int    al_no_onset;         double al_no_onset_min;
    int    al_long_waso;        double al_long_waso_min;
    int    al_long_rem;         double al_long_rem_min;
    int    al_rem_awakenings;   int al_rem_awakenings_n;  double al_rem_awakenings_min;
    int    al_arousals;         double al_arousals_per_h;
    int    al_low_confidence;   double al_low_confidence_p; double al_low_confidence_min;
    int    al_short_sleep;      double al_short_sleep_h;  char al_wake_time[8];
    int    al_wake_failed;
    int    al_actuator_failed;
    int    al_stim_limit;
    double al_repeat_s;         /* unacknowledged critical alerts repeat this often */
    double al_snooze_min;

    /* command line only */
    int    exit_at_end;                /* --exit-at-end: stop when the replay ends (tests, batch) */
    int    start_paused;
} dw_config;

/* Defaults for every key. */
void dw_config_defaults(dw_config *c);
/* Read an INI file over c. 0 ok; -1 with err "FILE:LINE: [section] key: problem".
 * missing_ok: a missing file is not an error (the default path). */
int  dw_config_load(dw_config *c, const char *path, int missing_ok, dw_err *err);
/* Set one key from the command line ("section.key=value"); same checks as the file. */
int  dw_config_set(dw_config *c, const char *section, const char *key, const char *value, dw_err *err);
/* The default config path: $XDG_CONFIG_HOME/dreamwatch/config.ini or ~/.config/dreamwatch/config.ini. */
void dw_config_default_path(char *out, size_t n);
/* Write an example file with every key, its default and its meaning. */
void dw_config_write_example(FILE *f);

#endif
