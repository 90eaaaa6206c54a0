/* The wall-clock loss meter of the status line: a steady 250-Hz stream read in 20-ms batches loses
 * nothing (batch jitter included), an outage counts as loss over the last 10 s and the night, a burst after
 * it does not make up for it, and the silence is dated from the last sample. */
#include "tap.h"
#include "sources/arrivals.h"

#include <math.h>

int main(void)
{
    dw_arrivals a;
    double t0 = 1.7e9 + 0.37;                  /* not on a second boundary */
    dw_arrivals_init(&a, 250, t0);
    double recent, night, w = t0;
    for (; w < t0 + 60; w += 0.02)             /* 60 s of 5-frame batches, read a little late or early */
        dw_arrivals_add(&a, 5, w + ((long)((w - t0) * 50) % 3 - 1) * 0.004);
    dw_arrivals_loss(&a, w, &recent, &night);
    CHECK("steady_stream_no_loss", recent < 0.5 && night < 0.5, "recent %.2f %%, night %.2f %%", recent, night);
    CHECK("flowing_not_silent", dw_arrivals_silent_since(&a, w, 1.0) == 0, "silent");
    double last = w - 0.02;
    for (double q = w; q < w + 12; q += 0.1)   /* a 12-s outage: nothing arrives */
        dw_arrivals_loss(&a, q, &recent, &night);
    double now = w + 12;
    dw_arrivals_loss(&a, now, &recent, &night);
    double since = dw_arrivals_silent_since(&a, now, 1.0);
    CHECK("outage_counts", recent > 99 && night > 15 && night < 18, "recent %.1f %%, night %.2f %% (12 of 72 s)",
          recent, night);
    CHECK("silent_since_last_sample", since > last - 0.01 && since < last + 0.01, "since %.3f, last %.3f", since, last);
    dw_arrivals_add(&a, 250 * 12, now);        /* a burst: frames that were late are not frames that were lost */
    for (w = now + 0.02; w < now + 5; w += 0.02)
        dw_arrivals_add(&a, 5, w);
    dw_arrivals_loss(&a, w, &recent, &night);
    CHECK("night_never_negative", night >= 0 && recent >= 0, "recent %.2f, night %.2f", recent, night);
    static const double grids[] = { 0.02, 0.04, 0.1 };    /* the worker's grids, then and now */
    for (int gi = 0; gi < 3; gi++) {
        double batch = grids[gi];
        for (int phase = 0; phase < 2; phase++) {       /* reads on whole seconds, and 37 ms off them */
            dw_arrivals g;
            double worst = 0, w0 = t0 + 0.037 * phase;
            dw_arrivals_init(&g, 250, w0);
            for (w = w0; w < w0 + 120; w += batch) {     /* read up to 4 ms late */
                dw_arrivals_add(&g, lround(250 * batch), w + ((long)((w - w0) / batch) % 2) * 0.004);
                dw_arrivals_loss(&g, w + 0.004, &recent, &night);
                if (w > w0 + 11 && recent > worst)
                    worst = recent;
            }
            char name[64];
            snprintf(name, sizeof name, "grid_%.0fms%s_shows_no_loss", batch * 1000, phase ? "_off_the_second" : "");
            CHECK(name, worst < 0.05, "worst recent loss %.3f %% (shown to 0.1 %%)", worst);
        }
    }
    /* A board's packets come every 4 ms whatever the reader does; a read takes those that came since the
     * last (9, 10 or 11 at 40 ms; 24-26 at 100 ms). Counted at the read's second, a 10-s window's edges
     * moved by the samples of a read and the status line showed "loss 0.2 %" on a stream that lost nothing
     * (the tester's live Cyton); spread over the time since the last read, they do not. */
    for (int gi = 1; gi < 3; gi++) {
        double batch = grids[gi], worst = 0;
        dw_arrivals g;
        dw_arrivals_init(&g, 250, t0);
        long sent = 0, read = 0;
        unsigned jit = 12345;
        for (w = t0 + batch; w < t0 + 120; w += batch) {
            jit = jit * 1103515245u + 12345u;
            double at = w + (jit >> 16) % 7 * 0.001;          /* woken 0-6 ms late */
            sent = (long)floor((at - t0) * 250);               /* packets the board has sent by then */
            dw_arrivals_add(&g, sent - read, at);
            read = sent;
            dw_arrivals_loss(&g, at, &recent, &night);
            if (at > t0 + 12 && recent > worst)
                worst = recent;
        }
        char name[64];
        snprintf(name, sizeof name, "stream_read_every_%.0fms_shows_no_loss", batch * 1000);
        CHECK(name, worst < 0.05, "worst recent loss %.3f %% (shown to 0.1 %%)", worst);
    }
    /* a 2-s pause on purpose (an impedance check) in a steady stream: no loss, no silence */
    dw_arrivals p;
    dw_arrivals_init(&p, 250, t0);
    for (w = t0; w < t0 + 20; w += 0.04)
        dw_arrivals_add(&p, 10, w);
    dw_arrivals_pause(&p, w, w + 2.0);
    double back = w + 2.0;
    dw_arrivals_loss(&p, back, &recent, &night);
    double quiet = dw_arrivals_silent_since(&p, back + 0.5, 1.0);   /* 0.5 s after it: not silent */
    for (w = back; w < back + 3; w += 0.04)
        dw_arrivals_add(&p, 10, w);
    double recent2, night2;
    dw_arrivals_loss(&p, w, &recent2, &night2);
    CHECK("pause_is_not_loss", recent < 1 && night < 1 && recent2 < 1 && night2 < 1 && quiet == 0,
          "recent %.2f %%, night %.2f %%, then %.2f %%, %.2f %%; silent since %.3f", recent, night,
          recent2, night2, quiet);
    dw_arrivals b;
    dw_arrivals_init(&b, 250, t0);
    dw_arrivals_loss(&b, t0 + 5, &recent, &night);
    CHECK("nothing_yet", recent == 0 && night == 0 && dw_arrivals_silent_since(&b, t0 + 5, 1.0) == t0,
          "recent %.2f night %.2f", recent, night);
    TAP_DONE();
}
