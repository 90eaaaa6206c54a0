/* The net layer's copy of the monitor. */
#include "net/snap.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static int grow(dw_snap *s, int need)
{
    if (need <= s->cap) return 0;
    int c = s->cap ? s->cap : 1024;
    while (c < need) c *= 2;
    signed char *st = realloc(s->stage, (size_t)c);
    if (!st) return -1;
    s->stage = st;
    float(*p)[DW_NSTAGES] = realloc(s->prob, (size_t)c * sizeof *p);
    if (!p) return -1;
    s->prob = p;
    float(*sp)[DW_SPEC_BINS] = realloc(s->spec, (size_t)c * sizeof *sp);
    if (!sp) return -1;
    s->spec = sp;
    s->cap = c;
    return 0;
}

int dw_snap_take(dw_snap *s, dw_monitor *m)
{
    dw_monitor *v = &s->v;
    int rc = 0, o_n = s->n_epochs;
    s->epochs_reset = 0;
    s->ref_changed = 0;
    pthread_mutex_lock(&m->lock);
    memcpy((char *)v + offsetof(dw_monitor, v_trace), (char *)m + offsetof(dw_monitor, v_trace),
           offsetof(dw_monitor, trace) - offsetof(dw_monitor, v_trace));
    memcpy((char *)v + offsetof(dw_monitor, trace_total),
           (char *)m + offsetof(dw_monitor, trace_total),
           offsetof(dw_monitor, cmdq) - offsetof(dw_monitor, trace_total));
    int n = m->n_epochs;
    s->epochs_from = o_n;
    if (m->v_hypno != s->seen_hypno) {
        if (grow(s, n) < 0) {
            rc = -1;
        } else {
            int from =
                (n >= o_n && m->v_hypno - s->seen_hypno == (unsigned long)(n - o_n)) ? o_n : 0;
            if (from == 0 && o_n > 0) s->epochs_reset = 1;
            memcpy(s->stage + from, m->stage + from, (size_t)(n - from));
            memcpy(s->prob + from, m->prob + from, (size_t)(n - from) * sizeof *s->prob);
            memcpy(s->spec + from, m->spec + from, (size_t)(n - from) * sizeof *s->spec);
            s->seen_hypno = m->v_hypno;
            s->n_epochs = n;
            s->epochs_from = from;
        }
    }
    int nref = m->ref_stage ? m->n_ref : 0;
    if (nref != s->n_ref) {
        signed char *r = realloc(s->ref, (size_t)(nref ? nref : 1));
        if (r) {
            s->ref = r;
            memcpy(s->ref, m->ref_stage, (size_t)nref);
            s->n_ref = nref;
            s->ref_changed = 1;
        } else {
            rc = -1;
        }
    }
    s->ev_from = s->n_ev;
    if (m->n_events > s->n_ev) {                 /* events only grow */
        if (m->n_events > s->cap_ev) {
            int c = s->cap_ev ? s->cap_ev : 256;
            while (c < m->n_events) c *= 2;
            dw_event_view *e = realloc(s->ev, (size_t)c * sizeof *e);
            if (e) {
                s->ev = e;
                s->cap_ev = c;
            }
        }
        if (m->n_events <= s->cap_ev) {
            memcpy(s->ev + s->n_ev, m->events + s->n_ev, (size_t)(m->n_events - s->n_ev) * sizeof *s->ev);
            s->n_ev = m->n_events;
        } else {
            rc = -1;
        }
    }
    long total = m->trace_total, from = s->trace_seen;
    if (total < from || total - from > DW_TRACE_N) from = total - DW_TRACE_N;
    if (from < 0) from = 0;
    if (s->want_trace)
        for (long i = from; i < total; i++)
            memcpy(v->trace[i % DW_TRACE_N], m->trace[i % DW_TRACE_N], sizeof v->trace[0]);
    s->trace_from = from;
    s->trace_seen = total;
    pthread_mutex_unlock(&m->lock);
    v->n_epochs = s->n_epochs;
    v->n_ref = s->n_ref;
    v->stage = s->stage;
    v->prob = s->prob;
    v->spec = s->spec;
    v->ref_stage = s->n_ref ? s->ref : NULL;
    v->cap_epochs = s->cap;
    v->events = s->ev;                       /* never the live monitor's array */
    v->n_events = v->cap_events = s->n_ev;
    return rc;
}

void dw_snap_free(dw_snap *s)
{
    free(s->stage);
    free(s->prob);
    free(s->spec);
    free(s->ref);
    free(s->ev);
    memset(s, 0, sizeof *s);
}

double dw_snap_asleep_s(const dw_snap *s)
{
    int k = 0;
    for (int i = 0; i < s->n_epochs; i++) k += s->stage[i] >= DW_N1 && s->stage[i] <= DW_R;
    return k * (double)DW_EPOCH_S;
}
