/* Alert rules: turn raw blocks, data-path figures and finished epochs into "cause present" calls. */
#include "session/alerts_priv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MOVE_HOLD_S 2.0          /* movement counts as present this long after the last moving reading */
#define MOTION_TAU_S 2.0         /* accelerometer baseline time constant */
#define RECONNECT_HOLD_S 60.0    /* a reconnect alert stays until a minute passes without another */
#define OUTAGE_MATCH_S 5.0       /* a reconnect and the gap it left are paired within this (wall clock) */
#define GAP_HOLD_S 1.0           /* a gap waits this long for a reconnect before it counts as loss */

void dw_rules_init(struct rules *r)
{
    memset(r, 0, sizeof *r);
    dw_motion_init(&r->motion);
    r->last_arrival_wall = -1;
    r->reconnect_wall = -1;
    r->loss_sec = r->loss_judged = -1;
    r->outage_wall = r->no_samples_wall = r->gap_wall = -1;
    r->prev_stage = DW_UNSCORED;
    r->onset_t = r->w_run_t = r->r_run_t = r->lowp_run_t = -1;
}

void dw_rules_free(struct rules *r)
{
    (void)r;
}

void dw_motion_init(dw_motion *m)
{
    memset(m, 0, sizeof *m);
    m->last_move_t = -1e9;
}

int dw_motion_push(dw_motion *m, double t, const double g[3], double thresh_g)
{
    if (!m->init) {
        memcpy(m->base, g, sizeof m->base);
        m->last_t = t;
        m->init = 1;
        return 0;
    }
    double d2 = 0;
    for (int k = 0; k < 3; k++)
        d2 += (g[k] - m->base[k]) * (g[k] - m->base[k]);
    double dt = t - m->last_t;
    double alpha = dt > 0 ? 1 - exp(-dt / MOTION_TAU_S) : 0;
    for (int k = 0; k < 3; k++)
        m->base[k] += alpha * (g[k] - m->base[k]);
    m->last_t = t;
    if (sqrt(d2) > thresh_g) {
        m->last_move_t = t;
        return 1;
    }
    return 0;
}

static void movement(dw_alerts *a, double t, double wall)
{
    struct rules *r = &a->r;
    int present = r->motion.init && t - r->motion.last_move_t < MOVE_HOLD_S;
    dw_alerts_cause(a, DW_AL_MOVEMENT, DW_AL_GLOBAL, present, t, t, wall, -1, "movement (accelerometer)");
}

/* The signal rules, from the one quality verdict (dsp/quality.h): flat, railed, artefact and mains, each
 * held per channel for its raise time and ONE alert per rule naming the channels (one cause, one alert). */
void dw_alerts_quality(dw_alerts *a, const dw_quality_second *q, const dw_source_info *info, double wall)
{
    const dw_session_cfg *cfg = a->cfg;
    char suffix[64];
    double t = (double)(q->second + 1), mains = 0;
    unsigned railed = 0, flat = 0, art = 0, hum = 0;
    int nch = q->nch < info->nch ? q->nch : info->nch;
    for (int c = 0; c < nch && c < DW_MAX_CH; c++) {
        unsigned f = q->flag[c], bit = 1u << c;
        railed |= f & DW_Q_RAILED ? bit : 0;
        flat |= f & DW_Q_FLAT ? bit : 0;
        art |= f & DW_Q_ARTEFACT ? bit : 0;
        if (f & DW_Q_MAINS) {
            hum |= bit;
            mains = fmax(mains, q->mains_ratio[c]);
        }
    }
    dw_alerts_channels(a, DW_AL_RAILED, railed, nch, info->label, t, t, wall, "railed channel", "railed channels",
                       " (electrode off?)");
    dw_alerts_channels(a, DW_AL_FLAT, flat, nch, info->label, t, t, wall, "flat line on", "flat line on", "");
    snprintf(suffix, sizeof suffix, " (> %.0f uV)", cfg->al_artefact_uv);
    dw_alerts_channels(a, DW_AL_ARTEFACT, art, nch, info->label, t, t, wall, "high-amplitude artefact on",
                       "high-amplitude artefact on", suffix);
    snprintf(suffix, sizeof suffix, " (50/60 Hz %.1fx the 1-40 Hz power)", mains);
    dw_alerts_channels(a, DW_AL_MAINS, hum, nch, info->label, t, t, wall, "mains noise on", "mains noise on", suffix);
}

/* One second of frames has arrived (the loss rule judges by source time in loss_block). */
static void second(dw_alerts *a, double t, double wall)
{
    movement(a, t, wall);
}

/* The loss ring reaches second sec (buckets in between emptied). */
static void loss_advance(struct rules *r, long sec)
{
    if (r->loss_sec < 0 || sec - r->loss_sec >= LOSS_RING) {
        memset(r->loss_rx, 0, sizeof r->loss_rx);
        memset(r->loss_lost, 0, sizeof r->loss_lost);
        if (r->loss_sec < 0)
            r->loss_first = sec;
        r->loss_sec = sec;
        return;
    }
    while (r->loss_sec < sec) {
        r->loss_sec++;
        r->loss_rx[r->loss_sec % LOSS_RING] = r->loss_lost[r->loss_sec % LOSS_RING] = 0;
    }
}

/* n frames spread over source time [t0, t0 + n / fs), into the received (lost = 0) or the lost counts,
 * second by second; seconds that left the ring are not counted. */
static void loss_add(struct rules *r, double t0, long n, double fs, int lost)
{
    long done = 0;
    while (done < n) {
        double t = t0 + done / fs;
        long sec = (long)floor(t), in = (long)ceil(((double)(sec + 1) - t) * fs - 1e-9);
        if (in < 1) in = 1;
        if (in > n - done) in = n - done;
        if (sec > r->loss_sec)
            loss_advance(r, sec);
        if (sec > r->loss_sec - LOSS_RING && sec >= r->loss_first) {
            long *b = lost ? &r->loss_lost[sec % LOSS_RING] : &r->loss_rx[sec % LOSS_RING];
            *b += in;
        }
        done += in;
    }
}

/* Judges the loss over the last al_loss_window_s seconds of source time that ended before second upto,
 * once a whole window has been seen (a few seconds say nothing about a rate). Raised above loss_pct,
 * cleared under half of it (hysteresis: a figure near the threshold does not flap). */
static void loss_judge(dw_alerts *a, long upto, double wall)
{
    struct rules *r = &a->r;
    const dw_session_cfg *cfg = a->cfg;
    long k = lround(ceil(cfg->al_loss_window_s));
    if (k > LOSS_RING - 1) k = LOSS_RING - 1;
    long last = upto - 1;                         /* the newest complete second */
    if (last <= r->loss_judged || last - r->loss_first + 1 < k)
        return;
    r->loss_judged = last;
    long rx = 0, lost = 0;
    for (long s = last - k + 1; s <= last; s++) {
        rx += r->loss_rx[s % LOSS_RING];
        lost += r->loss_lost[s % LOSS_RING];
    }
    double pct = rx + lost > 0 ? 100.0 * (double)lost / (double)(rx + lost) : 0;
    r->loss_high = pct > cfg->al_loss_pct || (r->loss_high && pct >= cfg->al_loss_pct / 2);
    dw_alerts_causef(a, DW_AL_LOSS, DW_AL_GLOBAL, r->loss_high, (double)upto, (double)upto, wall, -1,
                     "packet loss %.1f %% over the last %ld s", pct, k);
}

/* The gap held back counts as loss now. */
static void commit_gap(struct rules *r)
{
    if (r->gap_wall >= 0)
        loss_add(r, r->gap_t, r->gap_n, r->fs > 0 ? r->fs : 1, 1);
    r->gap_wall = -1;
}

/* The frames of a block and the gap before it, for the loss rule. A gap that a reconnect explains is an
 * outage (the no_samples or reconnect alert tells it), not packet loss: a gap is held back GAP_HOLD_S (or
 * until the next gap) in case the reconnect is reported after it. */
static void loss_block(dw_alerts *a, const dw_block *b, long gap, double fs, double wall)
{
    struct rules *r = &a->r;
    if (gap > 0) {
        if (r->outage_wall >= 0 && wall - r->outage_wall < OUTAGE_MATCH_S) {
            r->outage_wall = -1;                     /* the reconnect came first: this is its gap */
        } else {
            commit_gap(r);
            r->gap_t = b->t0 - gap / fs;
            r->gap_n = gap;
            r->gap_wall = wall;
        }
    }
    if (r->gap_wall >= 0 && wall - r->gap_wall >= GAP_HOLD_S)
        commit_gap(r);
    loss_add(r, b->t0, b->n, fs, 0);
    loss_judge(a, (long)floor(b->t0 + b->n / fs + 1e-9), wall);
}

void dw_alerts_block(dw_alerts *a, const dw_block *b, const dw_source_info *info, double wall)
{
    struct rules *r = &a->r;
    if (!b || b->n <= 0 || info->nch <= 0 || info->fs <= 0)
        return;
    r->last_arrival_wall = wall;
    int per_s = (int)lround(info->fs);
    if (per_s < 1) per_s = 1;
    if (r->per_s != per_s) {
        r->per_s = per_s;
        r->count = 0;
    }
    r->fs = info->fs;
    /* Packet loss is a live source's: a file's gap (an EDF+D pause, a lost stretch of an OpenBCI file) is
     * a planned or past hole in the data, not samples the link is dropping now (case 05). */
    loss_block(a, b, info->live ? b->gap - b->pause : 0, info->fs, wall);   /* a pause is no loss */
    for (int i = 0; i < b->n; i++)
        if (++r->count == r->per_s) {
            second(a, b->t0 + (i + 1) / info->fs, wall);
            r->count = 0;
        }
    if (b->accel_valid) {
        double t = b->t0 + b->n / info->fs;
        dw_motion_push(&r->motion, t, b->accel, a->cfg->movement_g);
        movement(a, t, wall);
    }
}

void dw_alerts_datapath(dw_alerts *a, double t, double wall, const dw_datapath *d)
{
    struct rules *r = &a->r;
    const dw_session_cfg *cfg = a->cfg;
    /* One outage, one alert: a reconnect after a no_samples alert is that alert's end, not a new alert,
     * and the frames the outage cost are not packet loss. */
    if (d->reconnects > r->reconnects) {
        if (r->gap_wall >= 0 && wall - r->gap_wall < OUTAGE_MATCH_S) {
            r->gap_wall = -1;                                               /* its gap came first */
        } else {
            r->outage_wall = wall;                                          /* its gap is still to come */
        }
        if (!(r->no_samples_wall >= 0 && wall - r->no_samples_wall < OUTAGE_MATCH_S)) {
            r->reconnects_burst += d->reconnects - r->reconnects;
            r->reconnect_wall = wall;
        }
    }
    r->reconnects = d->reconnects;
    if (!d->expecting || r->last_arrival_wall < 0)
        r->last_arrival_wall = wall;      /* paused or just started: the silence counts from now */
    double silent = wall - r->last_arrival_wall;
    dw_alerts_causef(a, DW_AL_NO_SAMPLES, DW_AL_GLOBAL, silent >= cfg->al_no_samples_s, wall, t, wall, -1,
                     "no samples from the device for %.0f s", cfg->al_no_samples_s);
    if (dw_alerts_open(a, DW_AL_NO_SAMPLES, DW_AL_GLOBAL))
        r->no_samples_wall = wall;
    int recent = r->reconnect_wall >= 0 && wall - r->reconnect_wall < RECONNECT_HOLD_S;
    if (!recent)
        r->reconnects_burst = 0;
    dw_alerts_causef(a, DW_AL_RECONNECT, DW_AL_GLOBAL, recent, wall, t, wall, -1,
                     "device reconnected (%d times, %d tonight)", r->reconnects_burst, d->reconnects);
    dw_alerts_causef(a, DW_AL_DRIFT, DW_AL_GLOBAL, fabs(d->drift_s) > cfg->al_drift_s, wall, t, wall, -1,
                     "board clock %+.1f s from the wall clock", d->drift_s);
    dw_alerts_causef(a, DW_AL_RECORDING, DW_AL_GLOBAL, d->rec_error != 0, wall, t, wall, -1,
                     "writing failed: %s", d->rec_error_text[0] ? d->rec_error_text : "write error");
    /* low disk: before the recording fails, a warning (it blocks nothing) of its own */
    dw_alerts_causef(a, DW_AL_RECORDING, DW_AL_LOW_DISK, d->low_disk != 0, wall, t, wall, DW_WARNING, "%s",
                     d->low_disk_text[0] ? d->low_disk_text : "low disk");
}

static void ring_push(struct event_ring *e, double t)
{
    e->t[(e->head + e->n) % EVENT_RING] = t;
    if (e->n < EVENT_RING)
        e->n++;
    else
        e->head = (e->head + 1) % EVENT_RING;
}

/* Events within the last window seconds (older ones are dropped). */
static int ring_count(struct event_ring *e, double t, double window)
{
    while (e->n > 0 && t - e->t[e->head] > window) {
        e->head = (e->head + 1) % EVENT_RING;
        e->n--;
    }
    return e->n;
}

/* The first HH:MM after base (local time), or 0 if the text is not a time. */
static double next_clock_time(double base, const char *hhmm)
{
    int hh, mm;
    if (sscanf(hhmm, "%d:%d", &hh, &mm) != 2 || hh < 0 || hh > 23 || mm < 0 || mm > 59)
        return 0;
    time_t b = (time_t)base;
    struct tm tm;
    localtime_r(&b, &tm);
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    double target = (double)mktime(&tm);
    return target <= base ? target + 86400 : target;
}

static int is_sleep(int s) { return s >= DW_N1 && s <= DW_R; }

void dw_alerts_epoch(dw_alerts *a, double t, double wall, int stage, const double prob[DW_NSTAGES])
{
    struct rules *r = &a->r;
    const dw_session_cfg *cfg = a->cfg;
    char text[96];
    double start = t - DW_EPOCH_S;
    int prev = r->prev_stage;
    r->prev_stage = stage;

    if (is_sleep(stage)) {
        r->tst_s += DW_EPOCH_S;
        if (r->onset_t < 0)
            r->onset_t = t;
    }
    double since_lights = t - a->lights_off_t;
    if (stage == DW_W && start >= a->lights_off_t)
        r->awake_s += DW_EPOCH_S;
    /* judged on the time scored awake, not the clock: an hour of unscored epochs (an electrode off, a
     * flat channel) is not an hour without sleep, and says so through its own quality alerts (a night
     * of flat signal raised "no sleep onset", read as insomnia: first-use test) */
    snprintf(text, sizeof text, "no sleep onset %.0f min after lights-off (%.0f min scored awake)",
             since_lights / 60, r->awake_s / 60);
    dw_alerts_cause(a, DW_AL_NO_ONSET, DW_AL_GLOBAL, r->onset_t < 0 && r->awake_s >= cfg->al_no_onset_min * 60,
                    t, t, wall, -1, text);

    r->w_run_t = stage == DW_W ? (r->w_run_t < 0 ? start : r->w_run_t) : -1;
    double waso = r->w_run_t >= 0 ? t - r->w_run_t : 0;
    snprintf(text, sizeof text, "awake for %.0f min after sleep onset", waso / 60);
    dw_alerts_cause(a, DW_AL_LONG_WASO, DW_AL_GLOBAL, r->onset_t >= 0 && waso >= cfg->al_long_waso_min * 60,
                    t, t, wall, -1, text);

    r->r_run_t = stage == DW_R ? (r->r_run_t < 0 ? start : r->r_run_t) : -1;
    double rem = r->r_run_t >= 0 ? t - r->r_run_t : 0;
    snprintf(text, sizeof text, "REM period of %.0f min", rem / 60);
    dw_alerts_cause(a, DW_AL_LONG_REM, DW_AL_GLOBAL, rem >= cfg->al_long_rem_min * 60, t, t, wall, -1, text);

    if (prev == DW_R && stage == DW_W)
        ring_push(&r->r_awakenings, t);
    int n_rw = ring_count(&r->r_awakenings, t, cfg->al_rem_awakenings_min * 60);
    snprintf(text, sizeof text, "%d %s from REM within %.0f min", n_rw,
             dw_plural(n_rw, "awakening", "awakenings"), cfg->al_rem_awakenings_min);
    dw_alerts_cause(a, DW_AL_REM_AWAKENINGS, DW_AL_GLOBAL, n_rw >= cfg->al_rem_awakenings_n, t, t, wall, -1, text);

    if ((prev == DW_N2 || prev == DW_N3 || prev == DW_R) && (stage == DW_W || stage == DW_N1))
        ring_push(&r->arousals, t);
    int n_ar = ring_count(&r->arousals, t, 3600);
    snprintf(text, sizeof text, "%d shifts to W/N1 in the last hour", n_ar);
    dw_alerts_cause(a, DW_AL_AROUSALS, DW_AL_GLOBAL, n_ar >= cfg->al_arousals_per_h, t, t, wall, -1, text);

    double top = 1;
    if (prob && stage != DW_UNSCORED) {
        top = 0;
        for (int k = 0; k < DW_NSTAGES; k++)
            top = prob[k] > top ? prob[k] : top;
    }
    r->lowp_run_t = top < cfg->al_low_confidence_p ? (r->lowp_run_t < 0 ? start : r->lowp_run_t) : -1;
    double lowp = r->lowp_run_t >= 0 ? t - r->lowp_run_t : 0;
    snprintf(text, sizeof text, "staging unsure for %.0f min (top probability < %.2f)", lowp / 60,
             cfg->al_low_confidence_p);
    dw_alerts_cause(a, DW_AL_LOW_CONFIDENCE, DW_AL_GLOBAL, lowp >= cfg->al_low_confidence_min * 60, t, t, wall, -1,
                    text);

    if (a->start_wall > 0 && r->wake_target_wall == 0)
        r->wake_target_wall = next_clock_time(a->start_wall + a->lights_off_t, cfg->al_wake_time);
    int short_sleep = r->wake_target_wall > 0 && a->start_wall + t >= r->wake_target_wall &&
                      r->tst_s < cfg->al_short_sleep_h * 3600;
    snprintf(text, sizeof text, "%.1f h of sleep at the planned wake time %s (target %.1f h)", r->tst_s / 3600,
             cfg->al_wake_time, cfg->al_short_sleep_h);
    dw_alerts_cause(a, DW_AL_SHORT_SLEEP, DW_AL_GLOBAL, short_sleep, t, t, wall, -1, text);
}
