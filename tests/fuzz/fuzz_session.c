/* libFuzzer: the session and its alerts as one state machine, driven by arbitrary sequences of what the
 * worker feeds them: raw blocks (a frontal signal that can hold slow oscillations, gaps, the
 * accelerometer), finished and provisional epochs of any stage, data-path figures (silence, reconnects,
 * drift, recording failures, low disk), operator commands (wake, natural on and off, acknowledge, marker,
 * dream report, shutdown) and timer ticks, with the settings the input picks. At the moment of every
 * stimulus (its annotation) it checks the safety rules: never in natural mode (the mode is ENHANCED),
 * never with a critical alert open, never outside the target stage (N2/N3 for a slow-oscillation
 * stimulus, R for a cue), never beyond the night's limit; and that each delivery is exactly one more
 * stimulus. */
#include "app/config.h"
#include "session/session.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static dw_session *S;
static dw_session_cfg cfg;
static int deliveries;

static void annotate(void *ctx, double t, double dur, const char *text)
{
    (void)ctx, (void)t, (void)dur;
    /* "SO stim 12 trough ..." and "REM cue 3 after ..." are deliveries ("SO stim cancelled", "SO stim 12
     * phase" are not) */
    int so = !strncmp(text, "SO stim ", 8) && text[8] >= '0' && text[8] <= '9' && strstr(text, " trough ");
    int cue = !strncmp(text, "REM cue ", 8) && text[8] >= '0' && text[8] <= '9';
    if (!S || (!so && !cue))
        return;
    deliveries++;
    int n = dw_session_nstim(S);
    const dw_stim *st = dw_session_stim(S, n - 1);
    if (n != deliveries || !st)
        abort();                                        /* one delivery, one stimulus */
    if (dw_session_mode(S) != DW_MODE_ENHANCED)
        abort();                                        /* never in natural mode (or waking, shutting down) */
    if (dw_alerts_critical_open(dw_session_alerts(S)))
        abort();                                        /* never with a critical alert open */
    if (so ? st->kind != DW_STIM_SO || (st->stage != DW_N2 && st->stage != DW_N3)
           : st->kind != DW_STIM_CUE || st->stage != DW_R)
        abort();                                        /* never outside the target stage */
    if (n > cfg.max_per_night)
        abort();
}

static void bell(void *ctx) { (void)ctx; }

typedef struct { const uint8_t *p; size_t n; } input;
static int next(input *in) { return in->n ? (in->n--, *in->p++) : 0; }

static void settings(int a, int b)
{
    dw_config all;
    dw_config_defaults(&all);
    cfg = all.session;
    cfg.bell = 0;
    snprintf(cfg.start_mode, sizeof cfg.start_mode, "%s", (a & 1) ? "enhanced" : "natural");
    cfg.so_enabled = !(a & 2);
    cfg.cue_enabled = (a & 4) != 0;
    cfg.cue_after_epochs = 1 + (b & 3);
    cfg.cue_interval_min = (b & 4) ? 0 : 1;
    cfg.max_per_night = (a & 8) ? 3 : 2000;
    cfg.so_train = 1 + ((b >> 3) & 3);
    cfg.so_pause_s = (b & 32) ? 0 : 2;
    cfg.so_threshold_uv = -20 - (a >> 4) * 10;
    cfg.al_no_samples_s = 1 + (b >> 6);
    cfg.wake_timeout_s = 5;
    cfg.wake_repeats = 1;
    const char *act = (a & 16) ? "bell" : "none";
    snprintf(cfg.stim_actuator, sizeof cfg.stim_actuator, "%s", act);
    snprintf(cfg.cue_actuator, sizeof cfg.cue_actuator, "%s", act);
    snprintf(cfg.wake_actuator, sizeof cfg.wake_actuator, "none");
    snprintf(cfg.escalation_actuator, sizeof cfg.escalation_actuator, "%s", act);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    input in = { data + 2, size - 2 };
    settings(data[0], data[1]);
    dw_session_hooks hooks = { .annotate = annotate, .bell = bell };
    dw_err err;
    deliveries = 0;
    S = dw_session_new(&cfg, &hooks, &err);
    if (!S)
        abort();
    dw_source_info info;
    memset(&info, 0, sizeof info);
    info.nch = 2;
    info.fs = (data[0] & 32) ? 250 : 100;
    info.phys_max_uv = 187500;
    info.frontal = 0;
    info.parietal = 1;
    double t = 0, wall = 1.7e9;
    int epoch = 0;
    static double uv[256 * 2];
    dw_datapath dp = { .expecting = 1 };
    while (in.n) {
        int op = next(&in), x = next(&in);
        switch (op % 8) {
        case 0: case 1: {                               /* a block of the frontal signal */
            int n = 1 + x % 200;
            for (int i = 0; i < n; i++) {
                uv[2 * i] = (next(&in) - 128) * 2.0 * ((op & 8) ? 100 : 1);
                uv[2 * i + 1] = 5;
            }
            dw_block b = { .n = n, .uv = uv, .t0 = t, .gap = (op & 16) ? x : 0, .accel_valid = (op & 32) != 0,
                           .accel = { (op & 64) ? 0.5 : 0, 0, 1 } };
            b.t0 += b.gap / info.fs;
            t = b.t0 + n / info.fs;
            wall += (n + b.gap) / info.fs;
            dw_session_block(S, &b, &info, wall);
            break;
        }
        case 2:                                         /* an epoch, and time to its end */
            if (t < (epoch + 1) * 30.0)
                t = (epoch + 1) * 30.0, wall += 1;
            dw_session_epoch(S, epoch++, x % 6 - 1, (const double[DW_NSTAGES]){ 0.2, 0.1, 0.3, 0.3, 0.1 });
            break;
        case 3:
            dw_session_provisional(S, x % 6 - 1);
            break;
        case 4:                                         /* the data path */
            dp.expecting = !(x & 1);
            dp.reconnects += (x >> 1) & 1;
            dp.drift_s = (x & 4) ? 30 : 0;
            dp.rec_error = (x & 8) != 0;
            dp.low_disk = (x & 16) != 0;
            wall += (x >> 5) * 0.7;
            dw_session_datapath(S, t, wall, &dp);
            break;
        case 5: {                                       /* the operator */
            static const int kinds[] = { DW_CMD_WAKE, DW_CMD_NATURAL, DW_CMD_NATURAL, DW_CMD_ACK, DW_CMD_MARKER,
                                         DW_CMD_DREAM_REPORT, DW_CMD_SHUTDOWN, DW_CMD_ACK };
            static dw_cmd c;
            c.kind = kinds[x % 8];
            c.arg = c.kind == DW_CMD_NATURAL ? (x >> 3) & 1 : (x & 64) ? -1 : (x >> 3);
            snprintf(c.text, sizeof c.text, "fuzz %d\n\tline", x);
            dw_session_command(S, &c, t);
            break;
        }
        default:                                        /* timers */
            wall += x * 0.05;
            t += (op & 8) ? x * 0.01 : 0;
            dw_session_tick(S, t, wall);
            break;
        }
    }
    dw_session_shutdown(S, t, "end");
    if (getenv("DW_FUZZ_VERBOSE"))                  /* how deep the input got: stimuli checked */
        fprintf(stderr, "deliveries %d, mode %s\n", deliveries, dw_mode_name(dw_session_mode(S)));
    dw_session *s = S;
    S = NULL;
    dw_session_free(s);
    return 0;
}
