/* Live reading's wake-up rule (app/worker.h dw_live_wake, dw_live_grid): the grid, except that a pending
 * closed-loop stimulus's due sample and the sample that completes the epoch are read as they arrive
 * (predicted at the stream's measured rate), never sooner than 4 ms ahead. Before this rule the worker
 * read on a 20-ms grid only: a stimulus due just after a read waited for the next one. */
#include "tap.h"
#include "app/worker.h"
#include "session/session.h"

#include <math.h>

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

int main(void)
{
    double now = 1000.0, grid = now + 0.040;
    double t = 95.0, staged = t - 0.2;           /* mid-epoch; the resampler 0.2 s behind the reader */
    double w = dw_live_wake(now, grid, t, staged, INFINITY, 1);
    CHECK("grid_when_nothing_due", NEAR(w, grid), "woke at +%.4f s", w - now);
    w = dw_live_wake(now, grid, t, staged, t + 0.012, 1);
    CHECK("stimulus_due_sample", NEAR(w, now + 0.012), "woke at +%.4f s, due +0.012", w - now);
    w = dw_live_wake(now, grid, t, staged, t + 0.012, 4);
    CHECK("stimulus_at_stream_rate", NEAR(w, now + 0.003 + 0.001), "woke at +%.4f s (4x: due +0.003, floor +0.004)",
          w - now);
    w = dw_live_wake(now, grid, t, staged, t - 0.5, 1);
    CHECK("overdue_never_spins", NEAR(w, now + 0.004), "woke at +%.4f s", w - now);
    w = dw_live_wake(now, grid, t, staged, t + 0.100, 1);
    CHECK("far_stimulus_waits_for_grid", NEAR(w, grid), "woke at +%.4f s", w - now);
    /* staged up to 119.99 s: epoch 3 ends at 120 s of staging, i.e. when the reader reaches 120.2 s */
    t = 120.18;
    staged = t - 0.2;
    w = dw_live_wake(now, grid, t, staged, INFINITY, 1);
    CHECK("epoch_completing_sample", NEAR(w, now + 0.020), "woke at +%.4f s, completion +0.020", w - now);
    w = dw_live_wake(now, grid, t, staged, t + 0.010, 1);
    CHECK("earliest_of_both", NEAR(w, now + 0.010), "woke at +%.4f s", w - now);
    /* The grid: 40 ms while a stimulus may go out or a fast screen draws, else 100 ms; faster streams
     * divide it down to 40 ms. */
    static const struct { const char *name; int mode, screen; double fps, rate, want; } g[] = {
        { "grid_natural_headless", DW_MODE_NATURAL, 0, 4, 1, 0.1 },
        { "grid_monitoring_default_screen", DW_MODE_MONITORING, 1, 4, 1, 0.1 },
        { "grid_enhanced", DW_MODE_ENHANCED, 0, 4, 1, 0.04 },
        { "grid_waking", DW_MODE_WAKING, 1, 4, 1, 0.04 },
        { "grid_fast_screen", DW_MODE_NATURAL, 1, 25, 1, 0.04 },
        { "grid_fast_fps_without_screen", DW_MODE_NATURAL, 0, 25, 1, 0.1 },
        { "grid_fast_stream_2x", DW_MODE_NATURAL, 0, 4, 2, 0.05 },
        { "grid_fast_stream_8x", DW_MODE_NATURAL, 0, 4, 8, 0.04 },
        { "grid_fast_stream_enhanced", DW_MODE_ENHANCED, 0, 4, 8, 0.04 },
    };
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
        double got = dw_live_grid(g[i].mode, g[i].screen, g[i].fps, g[i].rate);
        CHECK(g[i].name, NEAR(got, g[i].want), "%.3f s, want %.3f", got, g[i].want);
    }
    TAP_DONE();
}
