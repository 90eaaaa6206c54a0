/* The settings the session and its alerts run on: [stimulation], [actuators] and [alerts] of the
 * configuration (the key table in app/config.c fills them; tests fill them by hand). Plain data. */
#ifndef DW_SESSION_CFG_H
#define DW_SESSION_CFG_H

#include "base/paths.h"
#include "dsp/quality.h"
#include "session/protocol.h"

#define DW_CMDLINE_MAX 512

typedef struct {
    int    bell;                       /* [display] bell: ring on warning and critical alerts */
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
    double min_confidence;             /* the latest epoch's target-stage probability needed to stimulate */
    double movement_g;                 /* accelerometer change that counts as movement */
    double wake_timeout_s;             /* manual wake: time to wait for W before repeating */
    int    wake_repeats;               /* repeats before escalation */
    char   protocol_path[DW_PATH_MAX]; /* research protocol file ("" none); loaded into protocol */
    /* arousal-aware stimulation (session/arousal.h) and the stimulus level */
    int    arousal_aware;
    double arousal_window_s;           /* watched after each stimulus or cue */
    double arousal_ratio;              /* alpha or beta power rise that counts */
    double arousal_p;                  /* p(W) + p(N1) of a W/N1 provisional label that counts */
    double arousal_pause_s;            /* stimulation paused this long after an arousal */
    double volume, volume_step, volume_min;    /* the level passed as {volume}: set, step, floor */
    int    volume_up_after;            /* quiet stimuli in a row before a step back up */

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
    char   sham_actuator[16];          /* "none" or "serial": what a sham stimulus sends */
    int    sham_byte;
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
    int    al_unlike_training;  /* the night is unlike the model's training data (dw_stager_unlike_training) */
    int    al_wake_failed;
    int    al_actuator_failed;
    int    al_stim_limit;
    int    al_broker;           /* the broker link is down (net layer) */
    double al_repeat_s;         /* unacknowledged critical alerts repeat this often */
    double al_snooze_min;

    dw_protocol protocol; /* from protocol_path (the command loads it); loaded = 0: none */
} dw_session_cfg;

/* The signal-quality thresholds that are settings ([alerts] artefact_uv, mains, mains_ratio), for the one
 * verdict in dsp/quality.h. */
static inline dw_quality_cfg dw_quality_settings(const dw_session_cfg *c)
{
    dw_quality_cfg q = { c->al_artefact_uv, c->al_mains_ratio, c->al_mains };
    return q;
}

#endif
