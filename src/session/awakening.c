/* The serial-awakening schedule. */
#include "session/awakening.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session/sham.h"

int dw_clock_minutes(const char *s)
{
    int hh, mm;
    return s && *s && sscanf(s, "%d:%d", &hh, &mm) == 2 ? hh * 60 + mm : -1;
}

void dw_awaken_init(dw_awaken *a, const dw_protocol *p, double lights_off_t)
{
    memset(a, 0, sizeof *a);
    a->p = p;
    a->rng = p->aw_seed;
    a->run_stage = DW_UNSCORED;
    a->earliest_t = lights_off_t + p->aw_first_min * 60;
    a->last_alarm_t = -1e18;
}

void dw_awaken_free(dw_awaken *a)
{
    free(a->aw);
    a->aw = NULL;
    a->n = a->cap = 0;
}

void dw_awaken_epoch(dw_awaken *a, int stage)
{
    if (stage != DW_UNSCORED && stage == a->run_stage)
        a->run_len++;
    else {
        a->run_stage = stage;
        a->run_len = stage == DW_UNSCORED ? 0 : 1;
    }
}

static int in_window(const dw_protocol *p, int now)
{
    int lo = dw_clock_minutes(p->aw_not_before), hi = dw_clock_minutes(p->aw_not_after);
    if (now < 0 || (lo < 0 && hi < 0))
        return 1;
    if (lo < 0)
        lo = 0;
    if (hi < 0)
        hi = 24 * 60;
    return lo <= hi ? now >= lo && now <= hi : now >= lo || now <= hi;   /* e.g. 23:00-05:30 */
}

int dw_awaken_due(const dw_awaken *a, double t, int clock_min)
{
    const dw_protocol *p = a->p;
    if (!p->aw_enabled || a->state != DW_AW_IDLE || a->n >= p->aw_max || t < a->earliest_t - 1e-9 ||
        t - a->last_alarm_t < p->aw_spacing_min * 60 - 1e-9 || !in_window(p, clock_min))
        return -1;
    for (int i = 0; i < p->aw_ntargets; i++)
        if (a->run_stage == p->aw_target[i] &&
            a->run_len >= (int)ceil(p->aw_dwell_min[i] * 60 / DW_EPOCH_S - 1e-9))
            return i;
    return -1;
}

dw_awakening *dw_awaken_start(dw_awaken *a, int target, double t, double wall)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->aw = dw_xrealloc(a->aw, (size_t)a->cap * sizeof *a->aw, "the night's awakenings");
    }
    dw_awakening *w = &a->aw[a->n++];
    memset(w, 0, sizeof *w);
    w->id = a->n;
    w->alarm_t = t;
    w->alarm_wall = wall;
    w->stage = a->p->aw_target[target];
    w->dwell_min = a->run_len * DW_EPOCH_S / 60.0;
    w->awake_t = w->asleep_t = -1;
    w->nq = a->p->nq;
    for (int i = 0; i < DW_PROTO_MAX_Q; i++)
        w->latency_s[i] = -1;
    a->state = DW_AW_ALARM;
    a->last_alarm_t = t;
    return w;
}

dw_awakening *dw_awaken_current(dw_awaken *a) { return a->n ? &a->aw[a->n - 1] : NULL; }

void dw_awaken_asleep(dw_awaken *a, double t)
{
    const dw_protocol *p = a->p;
    double u = dw_splitmix_uniform(&a->rng);
    a->earliest_t = t + (p->aw_interval_min + u * (p->aw_interval_max - p->aw_interval_min)) * 60;
    a->state = DW_AW_IDLE;
    a->run_stage = DW_UNSCORED;            /* the dwell counts from here */
    a->run_len = 0;
}
