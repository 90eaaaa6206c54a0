/* Configuration keys: one table gives each key's section, type, default, limits and meaning. The INI
 * parser, the command line, the example file and the man page's key list are all made from it. */
#include "app/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/files.h"

enum kind { K_STR, K_NUM, K_INT, K_BOOL, K_CHANS, K_CHOICE };

struct key {
    const char *section, *name;
    enum kind kind;
    size_t off, size;      /* where in dw_config; size for strings */
    const char *def;       /* default, as written in the file */
    double min, max;       /* numbers */
    const char *choices;   /* K_CHOICE: "a|b|c" */
    const char *help;
};

#define O(f) offsetof(dw_config, f)
#define S(f) sizeof(((dw_config *)0)->f)
#define STR(sec, n, f, d, h)          { sec, n, K_STR, O(f), S(f), d, 0, 0, NULL, h }
#define CHOICE(sec, n, f, d, c, h)    { sec, n, K_CHOICE, O(f), S(f), d, 0, 0, c, h }
#define NUM(sec, n, f, d, lo, hi, h)  { sec, n, K_NUM, O(f), 0, d, lo, hi, NULL, h }
#define INT(sec, n, f, d, lo, hi, h)  { sec, n, K_INT, O(f), 0, d, lo, hi, NULL, h }
#define BOOL(sec, n, f, d, h)         { sec, n, K_BOOL, O(f), 0, d, 0, 1, NULL, h }
/* A list of labels: the table field, then its count field (size holds the count's offset from the table). */
#define CHANS(sec, n, f, cnt, h)      { sec, n, K_CHANS, O(f), O(cnt) - O(f), "", 0, 0, NULL, h }
#define ACT "none|bell|command|serial"

static const struct key keys[] = {
    STR("input", "file", file, "", "recording to replay (EDF, EDF+, BDF, OpenBCI text, SD card); empty: the sample night"),
    STR("input", "serial", serial, "", "serial port of a live Cyton (e.g. /dev/ttyUSB0 or a pty); wins over file"),
    CHOICE("input", "board", board, "auto", "auto|cyton|daisy", "board: 8 channels at 250 Hz (cyton) or 16 at 125 Hz (daisy)"),
    CHANS("input", "channels", chans.channels, chans.nchannels, "channels to use, by label or 1-based number, comma-separated; empty: the EEG channels"),
    STR("input", "frontal", chans.frontal, "", "frontal electrode (Fpz-Cz-like), label or index; empty: found by name"),
    STR("input", "parietal", chans.parietal, "", "parietal electrode (Pz-Oz-like), label or index; none: one-channel model"),
    CHANS("input", "derivations", chans.derivations, chans.nderivations, "what each board channel of a Cyton or OpenBCI file was wired to, in order (e.g. Fpz-Cz, Pz-Oz): labels them EEG Fpz-Cz ... and chooses the roles by electrode"),
    NUM("input", "replay_speed", replay_speed, "1", 0, 100000, "replay speed: 1 real time, N times real time, 0 as fast as possible"),
    STR("input", "reference", reference, "", "reference hypnogram (EDF+ annotations or text), laid by clock time beside our staging"),

    STR("staging", "model", model, "", "model file; empty: the built-in model for the configured electrodes"),
    NUM("staging", "provisional_s", provisional_s, "5", 1, 30, "seconds between provisional labels of the epoch in progress"),
    STR("staging", "lights_off", lights_off, "", "clock time of lights-off HH:MM; empty: the start of the recording"),

    BOOL("recording", "enabled", rec_enabled, "true", "record live sessions as BDF+"),
    STR("recording", "dir", rec_dir, "", "where recordings go; empty: $XDG_DATA_HOME/dreamwatch/recordings"),
    STR("recording", "subject", subject, "anonymous", "subject code used in file names"),
    NUM("recording", "min_free_mb", min_free_mb, "200", 0, 1e7,
        "a recording alert (warning) when the recording's disk has less free space than this (MB)"),

    STR("display", "theme", display.theme, "default", "theme name (themes/NAME.ini)"),
    CHOICE("display", "layout", display.layout, "full", "full|bedside", "full researcher view or calm bedside view"),
    NUM("display", "fps", display.fps, "4", 0.5, 30, "frames per second at most"),
    NUM("display", "trace_seconds", display.trace_seconds, "10", 2, 60, "seconds of signal across the trace pane"),
    NUM("display", "trace_scale_uv", display.trace_scale_uv, "0", 0, 100000, "trace scale in uV (half height); 0: automatic"),
    NUM("display", "highpass_hz", display.highpass_hz, "0.3", 0, 5, "display high-pass of the traces (Hz; AASM EEG low-frequency filter 0.3 Hz); 0: none. The stager and the recording keep the raw signal"),
    NUM("display", "lowpass_hz", display.lowpass_hz, "35", 0, 45, "display low-pass of the traces (Hz; AASM EEG high-frequency filter 35 Hz); 0: none. Mains (50/60 Hz) never reaches the traces: they are drawn at 100 Hz after an anti-aliasing filter"),
    CHOICE("display", "charset", display.charset, "auto", "auto|utf8|ascii", "characters: auto from the locale, UTF-8 or plain ASCII"),
    BOOL("display", "bell", session.bell, "false", "ring the terminal bell on warning and critical alerts"),

    STR("publish", "url", publish.url, "", "broker to publish this bed to: mqtt://host:port/prefix or mqtts://...; empty: none"),
    STR("publish", "bed", publish.bed, "", "bed id on the broker (1-31 of A-Z a-z 0-9 _ -); never a person's name or the subject code"),
    STR("publish", "cafile", publish.cafile, "", "TLS: CA certificate of the broker (mqtts:// without it: the system CAs)"),
    STR("publish", "certfile", publish.certfile, "", "TLS client certificate (optional)"),
    STR("publish", "keyfile", publish.keyfile, "", "TLS client key"),
    STR("publish", "credentials", publish.credentials, "", "file holding USER:PASSWORD, mode 0600 (refused otherwise); empty: none"),
    NUM("publish", "keepalive_s", publish.keepalive_s, "10", 5, 600, "MQTT keep-alive: the broker declares a silent bed offline after 1.5 x this"),
    NUM("publish", "cmd_max_age_s", publish.cmd_max_age_s, "30", 1, 600, "station commands older or newer than this (s) are refused as stale"),

    CHOICE("stimulation", "mode", session.start_mode, "natural", "natural|enhanced", "mode at start: natural (no stimulation) or enhanced"),
    BOOL("stimulation", "so_enabled", session.so_enabled, "true", "closed-loop auditory stimulation of slow oscillations in N2/N3"),
    NUM("stimulation", "so_threshold_uv", session.so_threshold_uv, "-80", -1000, -5, "negative half-wave threshold (uV) on the 0.5-2 Hz frontal signal"),
    NUM("stimulation", "so_delay_s", session.so_delay_s, "0.5", 0.05, 2, "delay from the detected trough to the stimulus (up-state)"),
    INT("stimulation", "so_train", session.so_train, "2", 1, 10, "stimuli per train"),
    NUM("stimulation", "so_pause_s", session.so_pause_s, "6", 0, 600, "pause after a train"),
    BOOL("stimulation", "cue_enabled", session.cue_enabled, "false", "cue in REM (lucid-dream research)"),
    INT("stimulation", "cue_after_epochs", session.cue_after_epochs, "10", 1, 1000, "consecutive R epochs before a cue"),
    NUM("stimulation", "cue_interval_min", session.cue_interval_min, "15", 0, 600, "at most one cue per this many minutes"),
    NUM("stimulation", "min_confidence", session.min_confidence, "0.8", 0, 1, "stimulate only when the latest epoch's probability of the target stage(s) is at least this"),
    INT("stimulation", "max_per_night", session.max_per_night, "2000", 0, 100000, "stimuli and cues per night at most"),
    NUM("stimulation", "movement_g", session.movement_g, "0.05", 0.001, 10, "accelerometer change (g) that counts as movement"),
    NUM("stimulation", "wake_timeout_s", session.wake_timeout_s, "120", 5, 3600, "manual wake: seconds to wait for W before repeating"),
    INT("stimulation", "wake_repeats", session.wake_repeats, "3", 1, 20, "manual wake: attempts before escalation"),
    STR("stimulation", "protocol", session.protocol_path, "", "research protocol file: serial awakenings, questionnaire, sham and blinding, memory cues (README, Running a protocol)"),
    BOOL("stimulation", "arousal_aware", session.arousal_aware, "true", "watch for an arousal after each stimulus or cue: pause and step the volume down after one"),
    NUM("stimulation", "arousal_window_s", session.arousal_window_s, "5", 3, 30, "seconds watched after each stimulus or cue"),
    NUM("stimulation", "arousal_ratio", session.arousal_ratio, "3", 1.5, 100, "frontal alpha (8-11 Hz) or beta (16-30 Hz) power over 3 s, against the 10 s before the stimulus, that counts as an arousal"),
    NUM("stimulation", "arousal_p", session.arousal_p, "0.5", 0.1, 1, "a W or N1 provisional label with p(W) + p(N1) at least this counts as an arousal"),
    NUM("stimulation", "arousal_pause_s", session.arousal_pause_s, "60", 0, 3600, "stimulation paused this long after an arousal"),
    NUM("stimulation", "volume", session.volume, "55", 0, 1000, "stimulus level passed to commands as {volume} (e.g. dB SPL or percent)"),
    NUM("stimulation", "volume_step", session.volume_step, "5", 0, 1000, "the level goes down this much after an arousal, up this much after a quiet run"),
    NUM("stimulation", "volume_min", session.volume_min, "40", 0, 1000, "the level never goes below this"),
    INT("stimulation", "volume_up_after", session.volume_up_after, "10", 1, 1000, "quiet stimuli in a row before the level steps back up (to volume at most)"),

    CHOICE("actuators", "stimulus", session.stim_actuator, "bell", ACT, "how a slow-oscillation stimulus reaches the room"),
    STR("actuators", "stimulus_command", session.stim_command, "", "command for stimulus=command (run with execve, no shell)"),
    CHOICE("actuators", "cue", session.cue_actuator, "bell", ACT, "how a REM cue reaches the room"),
    STR("actuators", "cue_command", session.cue_command, "", "command for cue=command"),
    CHOICE("actuators", "wake", session.wake_actuator, "bell", ACT, "how a manual wake reaches the room"),
    STR("actuators", "wake_command", session.wake_command, "", "command for wake=command; gets the attempt number as last argument"),
    CHOICE("actuators", "escalation", session.escalation_actuator, "none", ACT, "what runs when a wake does not take or a critical alert is not acknowledged"),
    STR("actuators", "escalation_command", session.escalation_command, "", "command for escalation=command (e.g. a message to a caregiver)"),
    STR("actuators", "trigger_serial", session.trigger_serial, "", "second serial port for trigger bytes"),
    INT("actuators", "stimulus_byte", session.stim_byte, "1", 0, 255, "trigger byte for a stimulus"),
    INT("actuators", "cue_byte", session.cue_byte, "2", 0, 255, "trigger byte for a cue"),
    INT("actuators", "wake_byte", session.wake_byte, "3", 0, 255, "trigger byte for a wake"),
    CHOICE("actuators", "sham", session.sham_actuator, "none", "none|serial", "what a sham stimulus or cue sends: nothing, or sham_byte on the trigger port (a silent trigger)"),
    INT("actuators", "sham_byte", session.sham_byte, "4", 0, 255, "trigger byte for a sham stimulus or cue"),
    NUM("actuators", "command_timeout_s", session.command_timeout_s, "5", 0.1, 600, "a command still running after this is killed and reported"),

    NUM("check", "impedance_max_kohm", check.impedance_max_kohm, "20", 1, 10000, "pre-night check: electrode impedance at most this (kOhm; the AASM asks 5 for passive PSG electrodes, the ADS1299's 1 GOhm inputs tolerate more)"),
    NUM("check", "dc_max_mv", check.dc_max_mv, "100", 1, 1000, "pre-night check: DC offset at most this (mV; the Cyton's range at gain 24 is +-187.5 mV)"),
    NUM("check", "alpha_ratio", check.alpha_ratio, "1.5", 1, 100, "pre-night check: alpha (8-12 Hz) power with eyes closed over eyes open at least this"),
    NUM("check", "eye_uv", check.eye_uv, "60", 5, 2000, "pre-night check: an eye movement swings the frontal channel (0.3-5 Hz) past +- half this (uV)"),
    INT("check", "eye_count", check.eye_count, "4", 1, 100, "pre-night check: eye-movement swings needed"),
    NUM("check", "rest_s", check.rest_s, "10", 4, 600, "pre-night check: seconds at rest, eyes open (offset, mains, railed, flat, alpha baseline)"),
    NUM("check", "alpha_s", check.alpha_s, "30", 4, 600, "pre-night check: seconds with eyes closed (alpha)"),
    NUM("check", "eyes_s", check.eyes_s, "10", 4, 600, "pre-night check: seconds of eye movements"),

    BOOL("alerts", "flat", session.al_flat, "true", "flat line on a staging channel"),
    NUM("alerts", "flat_s", session.al_flat_s, "10", 1, 3600, "seconds of flat signal before the alert"),
    BOOL("alerts", "railed", session.al_railed, "true", "railed channel (electrode off)"),
    NUM("alerts", "railed_s", session.al_railed_s, "5", 0.5, 3600, "seconds railed before the alert"),
    BOOL("alerts", "mains", session.al_mains, "true", "strong 50/60 Hz mains noise"),
    NUM("alerts", "mains_ratio", session.al_mains_ratio, "1", 0.01, 1000, "mains power over 1-40 Hz power that counts as strong"),
    BOOL("alerts", "artefact", session.al_artefact, "true", "long high-amplitude artefact"),
    NUM("alerts", "artefact_uv", session.al_artefact_uv, "500", 50, 187500, "amplitude (uV) that counts as artefact"),
    NUM("alerts", "artefact_s", session.al_artefact_s, "30", 1, 3600, "seconds of artefact before the alert"),
    BOOL("alerts", "movement", session.al_movement, "true", "accelerometer movement"),
    NUM("alerts", "movement_s", session.al_movement_s, "10", 0.5, 3600, "seconds of movement before the alert"),
    BOOL("alerts", "no_samples", session.al_no_samples, "true", "no samples arriving"),
    NUM("alerts", "no_samples_s", session.al_no_samples_s, "5", 1, 3600, "seconds without samples before the alert"),
    BOOL("alerts", "loss", session.al_loss, "true", "packet loss"),
    NUM("alerts", "loss_pct", session.al_loss_pct, "5", 0.01, 100, "loss (%) over the window that counts"),
    NUM("alerts", "loss_window_s", session.al_loss_window_s, "30", 1, 3600, "window for the loss figure"),
    BOOL("alerts", "reconnect", session.al_reconnect, "true", "device reconnected"),
    BOOL("alerts", "drift", session.al_drift, "true", "board sample clock drifting from the wall clock"),
    NUM("alerts", "drift_s", session.al_drift_s, "5", 0.1, 36000, "drift (s) that counts"),
    BOOL("alerts", "recording", session.al_recording, "true", "recording errors (disk full, write failure, low disk)"),
    BOOL("alerts", "no_onset", session.al_no_onset, "true", "no sleep onset"),
    NUM("alerts", "no_onset_min", session.al_no_onset_min, "60", 1, 1440, "minutes after lights-off without sleep"),
    BOOL("alerts", "long_waso", session.al_long_waso, "true", "long wake after sleep onset"),
    NUM("alerts", "long_waso_min", session.al_long_waso_min, "30", 1, 1440, "minutes of continuous wake after onset"),
    BOOL("alerts", "long_rem", session.al_long_rem, "true", "long REM period"),
    NUM("alerts", "long_rem_min", session.al_long_rem_min, "60", 1, 1440, "minutes of continuous R"),
    BOOL("alerts", "rem_awakenings", session.al_rem_awakenings, "true", "repeated awakenings out of REM (a nightmare sign)"),
    INT("alerts", "rem_awakenings_n", session.al_rem_awakenings_n, "3", 1, 100, "awakenings from R that count"),
    NUM("alerts", "rem_awakenings_min", session.al_rem_awakenings_min, "60", 1, 1440, "within this many minutes"),
    BOOL("alerts", "arousals", session.al_arousals, "true", "frequent arousals"),
    NUM("alerts", "arousals_per_h", session.al_arousals_per_h, "20", 1, 120, "shifts to W/N1 from deeper sleep per hour that count"),
    BOOL("alerts", "low_confidence", session.al_low_confidence, "true", "long spell of low-confidence staging"),
    NUM("alerts", "low_confidence_p", session.al_low_confidence_p, "0.5", 0.2, 1, "top stage probability below this is low confidence"),
    NUM("alerts", "low_confidence_min", session.al_low_confidence_min, "20", 1, 1440, "minutes of low confidence before the alert"),
    BOOL("alerts", "short_sleep", session.al_short_sleep, "false", "total sleep below target at the planned wake time"),
    NUM("alerts", "short_sleep_h", session.al_short_sleep_h, "6", 0.5, 24, "target total sleep (h)"),
    STR("alerts", "wake_time", session.al_wake_time, "07:00", "planned wake time HH:MM"),
    BOOL("alerts", "unlike_training", session.al_unlike_training, "true", "the signal is unlike the staging model's training data for 5 min (info)"),
    BOOL("alerts", "wake_failed", session.al_wake_failed, "true", "a manual wake did not take"),
    BOOL("alerts", "actuator_failed", session.al_actuator_failed, "true", "an actuator failed"),
    BOOL("alerts", "stim_limit", session.al_stim_limit, "true", "the per-night stimulation limit was reached"),
    BOOL("alerts", "broker", session.al_broker, "true", "the broker of [publish] cannot be reached (info)"),
    NUM("alerts", "repeat_s", session.al_repeat_s, "60", 5, 3600, "an unacknowledged critical alert repeats this often"),
    NUM("alerts", "snooze_min", session.al_snooze_min, "10", 1, 600, "snooze length"),
};
#define NKEYS (sizeof keys / sizeof keys[0])

static const struct key *find_key(const char *section, const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcasecmp(keys[i].section, section) && !strcasecmp(keys[i].name, name))
            return &keys[i];
    return NULL;
}

static int section_exists(const char *section)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcasecmp(keys[i].section, section))
            return 1;
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") || !strcmp(v, "1")) { *out = 1; return 0; }
    if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off") || !strcmp(v, "0")) { *out = 0; return 0; }
    return -1;
}

static int set_value(dw_config *c, const struct key *k, const char *v, char *why, size_t n)
{
    char *base = (char *)c + k->off;
    switch (k->kind) {
    case K_CHOICE: {
        const char *p = k->choices;
        size_t vl = strlen(v);
        int ok = 0;
        while (p && *p) {
            const char *e = strchr(p, '|');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            if (l == vl && !strncasecmp(p, v, l)) ok = 1;
            p = e ? e + 1 : NULL;
        }
        if (!ok) { snprintf(why, n, "'%s' is not one of %s", v, k->choices); return -1; }
    }
        /* fall through */
    case K_STR:
        if (strlen(v) >= k->size) { snprintf(why, n, "value longer than %zu characters", k->size - 1); return -1; }
        snprintf(base, k->size, "%s", v);
        return 0;
    case K_NUM:
    case K_INT: {
        char *end;
        errno = 0;
        double d = strtod(v, &end);
        while (*end == ' ') end++;
        if (!*v || *end || errno || !isfinite(d)) { snprintf(why, n, "'%s' is not a number", v); return -1; }
        if (k->kind == K_INT && d != floor(d)) { snprintf(why, n, "'%s' is not a whole number", v); return -1; }
        if (d < k->min || d > k->max) { snprintf(why, n, "%s is outside %g..%g", v, k->min, k->max); return -1; }
        if (k->kind == K_INT) *(int *)base = (int)d; else *(double *)base = d;
        return 0;
    }
    case K_BOOL:
        if (parse_bool(v, (int *)base) < 0) { snprintf(why, n, "'%s' is not true or false", v); return -1; }
        return 0;
    case K_CHANS: {                     /* the field is a table; its count follows it (see CHANS below) */
        int cnt = dw_montage_parse_list(v, (char (*)[DW_LABEL_LEN])base, DW_MAX_CH, why, n);
        if (cnt < 0)
            return -1;
        *(int *)(base + k->size) = cnt;
        return 0;
    }
    }
    return -1;
}

void dw_config_defaults(dw_config *c)
{
    char why[128];
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < NKEYS; i++)
        set_value(c, &keys[i], keys[i].def, why, sizeof why);
}

int dw_config_set(dw_config *c, const char *section, const char *key, const char *value, dw_err *err)
{
    char why[160];
    const struct key *k = find_key(section, key);
    if (!k) {
        dw_err_set(err, "%s [%s] %s: unknown %s", "command line", section, key,
                   section_exists(section) ? "key" : "section");
        return -1;
    }
    if (set_value(c, k, value, why, sizeof why) < 0) {
        dw_err_set(err, "command line: [%s] %s: %s", section, key, why);
        return -1;
    }
    return 0;
}

struct load_ctx {
    dw_config *c;
    const char *path;
    dw_err *err;
    int failed;
};

/* Debian's inih has no line number in the handler; it returns the first bad line, so the handler keeps
 * the reason and the caller adds the line. */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
    struct load_ctx *x = user;
    char why[160];
    if (x->failed)
        return 0;
    const struct key *k = find_key(section, name);
    if (!k) {
        if (!section_exists(section))
            dw_err_set(x->err, "[%s] %s: unknown section [%s]", section, name, section);
        else
            dw_err_set(x->err, "[%s] %s: unknown key", section, name);
        x->failed = 1;
        return 0;
    }
    if (set_value(x->c, k, value, why, sizeof why) < 0) {
        dw_err_set(x->err, "[%s] %s: %s", section, name, why);
        x->failed = 1;
        return 0;
    }
    return 1;
}

/* inih splits lines longer than ini_max_line silently; the text is checked here first, line by line: no
 * line longer than LINE_LIMIT, no NUL byte (inih would end the line there and drop the rest). */
#define LINE_LIMIT 1024
#define CONFIG_MAX (1 << 20)          /* bytes: a configuration is a page of text */
#define CONFIG_PIPE_WAIT_S 10.0       /* a <(...) pipe must finish within this */

static int check_lines(const char *path, const char *text, size_t n, dw_err *err)
{
    int line = 1;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && text[i] == 0) {
            dw_err_set(err, "%s:%d: NUL byte at column %zu (a binary file?)", path, line, i - start + 1);
            return -1;
        }
        if (i == n || text[i] == '\n') {
            if (i - start > LINE_LIMIT) {
                dw_err_set(err, "%s:%d: line longer than %d characters", path, line, LINE_LIMIT);
                return -1;
            }
            line++;
            start = i + 1;
        }
    }
    return 0;
}

int dw_config_load(dw_config *c, const char *path, int missing_ok, dw_err *err)
{
    struct stat st;
    if (missing_ok && stat(path, &st) < 0 && errno == ENOENT)
        return 0;
    char *text;
    size_t n;
    if (dw_input_read_all(path, "configuration", CONFIG_MAX, CONFIG_PIPE_WAIT_S, &text, &n, err) < 0)
        return -1;
    if (check_lines(path, text, n, err) < 0) {
        free(text);
        return -1;
    }
    ini_max_line = LINE_LIMIT + 2;
    ini_use_stack = false;           /* so ini_max_line is honoured */
    ini_allow_multiline = false;     /* an indented line is an error, not a silent continuation */
    ini_stop_on_first_error = true;
    struct load_ctx x = { c, path, err, 0 };
    dw_err inner = { 0 };
    x.err = &inner;
    int r = ini_parse_string(text, on_key, &x);
    free(text);
    if (r == 0)
        return 0;
    if (r == -2)
        dw_err_set(err, "%s: out of memory", path);
    else if (x.failed)
        dw_err_set(err, "%s:%d: %s", path, r, inner.msg);
    else
        dw_err_set(err, "%s:%d: syntax error (expected [section] or key = value)", path, r);
    return -1;
}

void dw_config_write_example(FILE *f)
{
    fprintf(f, "; dreamwatch configuration: every key with its default.\n"
               "; Copy to ~/.config/dreamwatch/config.ini (or $XDG_CONFIG_HOME/dreamwatch/config.ini)\n"
               "; and change what you need. Comments need a space before ';'. No quotes.\n");
    const char *sec = "";
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];
        if (strcmp(sec, k->section)) {
            fprintf(f, "\n[%s]\n", k->section);
            sec = k->section;
        }
        fprintf(f, "; %s", k->help);
        if (k->kind == K_CHOICE)
            fprintf(f, " (%s)", k->choices);
        else if (k->kind == K_NUM || k->kind == K_INT)
            fprintf(f, " (%g..%g)", k->min, k->max);
        fprintf(f, "\n%s =%s%s\n", k->name, *k->def ? " " : "", k->def);
    }
}
