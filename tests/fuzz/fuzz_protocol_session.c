/* libFuzzer: the session with a research protocol (awakenings, questionnaire, sham, memory cues,
 * arousal watch) driven by arbitrary operations: epochs of any stage, provisional labels, frontal
 * samples, ticks, operator commands (natural on/off, wake, answers, shutdown), accelerometer jolts.
 * Invariants checked after every operation:
 *   - no stimulus, cue or memory cue is ever delivered outside enhanced mode, in natural mode none
 * at all;
 *   - in natural mode no awakening starts;
 *   - stimuli are numbered 1, 2, ... in time order, each in its kind's stage, below the nightly
 * limit;
 *   - the questionnaire asks one of the protocol's questions, only after an awakening. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/config.h"
#include "session/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static dw_config cfg;
static int ready;

static void setup(void)
{
    dw_config_defaults(&cfg);
    dw_session_cfg *c = &cfg.session;
    snprintf(c->stim_actuator, sizeof c->stim_actuator, "none");
    snprintf(c->cue_actuator, sizeof c->cue_actuator, "none");
    snprintf(c->wake_actuator, sizeof c->wake_actuator, "none");
    c->cue_enabled = 1;
    c->max_per_night = 40;
    c->so_threshold_uv = -30;
    dw_protocol *p = &c->protocol;
    dw_protocol_defaults(p);
    p->loaded = 1;
    p->aw_enabled = 1;
    p->aw_ntargets = 2;
    p->aw_target[0] = DW_N2;
    p->aw_dwell_min[0] = 1;
    p->aw_target[1] = DW_R;
    p->aw_dwell_min[1] = 1;
    p->aw_first_min = 0;
    p->aw_interval_min = p->aw_interval_max = 1;
    p->aw_spacing_min = 1;
    p->nq = 2;
    snprintf(p->q[0].text, sizeof p->q[0].text, "a");
    p->q[0].type = DW_ANSWER_YESNO;
    p->q[0].timeout_s = 5;
    snprintf(p->q[1].text, sizeof p->q[1].text, "b");
    p->q[1].type = DW_ANSWER_TEXT;
    p->q[1].timeout_s = 5;
    p->sham_mode = DW_SHAM_RANDOM;
    p->cue_enabled = 1;
    p->cue_stages = 1 << DW_N3;
    p->cue_after_epochs = 1;
    p->cue_interval_s = 2;
    p->ncued = 2;
    snprintf(p->cued[0], DW_PROTO_ITEM, "x");
    snprintf(p->cued[1], DW_PROTO_ITEM, "y");
    ready = 1;
}

static int in_stage(const dw_stim *st)
{
    return st->kind == DW_STIM_SO ? st->stage == DW_N2 || st->stage == DW_N3
         : st->kind == DW_STIM_TMR ? st->stage == DW_N3 : st->stage == DW_R;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready)
        setup();
    if (size < 1)
        return 0;
    snprintf(cfg.session.start_mode, sizeof cfg.session.start_mode, "%s",
             data[0] & 1 ? "enhanced" : "natural");
    dw_err err;
    dw_session *s = dw_session_new(&cfg.session, NULL, &err);
    if (!s)
        abort();
    double t = 0;
    int epoch = 0, checked = 0, enhanced_ever = data[0] & 1, awakenings_natural = 0;
    static dw_cmd cmd;
    for (size_t i = 1; i + 1 < size; i += 2) {
        int op = data[i] % 8, arg = data[i + 1];
        int mode = dw_session_mode(s);
        dw_session_view v0;
        dw_session_view_get(s, &v0);
        if (op <= 2) {                              /* signal: 0.5 s of slow waves, size from arg */
            double x[50];
            for (int k = 0; k < 50; k++)
                x[k] = (arg & 0x7F) * 2.0 * cos(2 * M_PI * (t + k / 100.0)) +
                       (arg & 0x80 ? 600 : 0) * (k == 25);
            dw_session_frontal(s, t, 100, x, 50);
            t += 0.5;
        } else if (op == 3) {                       /* the epoch that ends next */
            epoch = (int)floor(t / 30);
            t = (epoch + 1) * 30.0;
            static const int st[] = { DW_N2, DW_N3, DW_R, DW_W, DW_N1, DW_UNSCORED };
            dw_session_epoch(s, epoch, st[arg % 6], NULL);
        } else if (op == 4) {
            dw_session_provisional(s, (arg % 6) - 1);
        } else if (op == 5) {
            memset(&cmd, 0, sizeof cmd);
            static const int kinds[] = { DW_CMD_NATURAL, DW_CMD_NATURAL, DW_CMD_WAKE,
                                         DW_CMD_ANSWER, DW_CMD_ANSWER, DW_CMD_MARKER, DW_CMD_ACK,
                                         DW_CMD_SHUTDOWN };
            cmd.kind = kinds[arg % 8];
            cmd.arg = cmd.kind == DW_CMD_NATURAL ? (arg >> 3) & 1 : (arg >> 3) & 3;
            cmd.arg2 = -1;
            snprintf(cmd.text, sizeof cmd.text, "%s", (arg & 0x40) ? "yes" : "no recall");
            if (cmd.kind == DW_CMD_NATURAL && !cmd.arg)
                enhanced_ever = 1;
            dw_session_command(s, &cmd, t);
        } else if (op == 6) {
            double g[3] = { 0, 0, 1 + (arg & 1) };
            dw_session_accel(s, t, g);
        } else {
            t += arg / 10.0;
        }
        dw_session_tick(s, t, 1e9 + t);
        /* invariants */
        int n = dw_session_nstim(s);
        for (int k = checked; k < n; k++) {
            const dw_stim *st = dw_session_stim(s, k);
            if (st->id != k + 1 || (k && st->t < dw_session_stim(s, k - 1)->t - 1e-9) ||
                !in_stage(st) || k >= cfg.session.max_per_night)
                abort();
            if (mode != DW_MODE_ENHANCED && dw_session_mode(s) != DW_MODE_ENHANCED)
                abort();                            /* delivered while not enhanced */
        }
        if (n > checked && mode == DW_MODE_NATURAL && dw_session_mode(s) == DW_MODE_NATURAL)
            abort();
        checked = n;
        dw_session_view v;
        dw_session_view_get(s, &v);
        if (v.awakenings > v0.awakenings && mode == DW_MODE_NATURAL)
            awakenings_natural++;
        if (v.q_active && (v.q_index < 1 || v.q_index > 2 || v.awakenings < 1))
            abort();
    }
    if (awakenings_natural || (!enhanced_ever && (dw_session_nstim(s) || awakenings_natural)))
        abort();
    dw_session_free(s);
    return 0;
}
