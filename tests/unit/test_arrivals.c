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
    for (double batch = 0.02; batch < 0.05; batch += 0.02) {  /* the 20-ms and 40-ms grids (the worker's) */
        dw_arrivals g;
        double worst = 0;
        dw_arrivals_init(&g, 250, t0);
        for (w = t0; w < t0 + 120; w += batch) {     /* read up to 4 ms late */
            dw_arrivals_add(&g, lround(250 * batch), w + ((long)((w - t0) / batch) % 2) * 0.004);
            dw_arrivals_loss(&g, w + 0.004, &recent, &night);
            if (w > t0 + 11 && recent > worst)
                worst = recent;
        }
        CHECK(batch < 0.03 ? "grid_20ms_shows_no_loss" : "grid_40ms_shows_no_loss", worst < 0.05,
              "worst recent loss %.3f %% (shown to 0.1 %%)", worst);
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
