/* libFuzzer: the Cyton packet parser and the handshake reply reader on arbitrary bytes, fed in
 * chunks whose sizes the input also chooses (and whether the reader watched the line up to each
 * chunk). Byte 0 picks Cyton or Daisy and the chunking. Checks the parser's promises: indices
 * rise, losses are never negative, values are finite and in range. */
#include "sources/cyton.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    dw_cyton_parser p;
    dw_cyton_parser_init(&p, data[0] & 1);
    dw_cyton_track_command(&p, "x3020110Xd", data[0] & 2);
    size_t step = 1 + (data[0] >> 2);                  /* 1..64-byte chunks */
    double t = 0;
    long last = -1;
    dw_cyton_sample out[8];
    for (size_t i = 1; i < size;) {
        size_t n = size - i < step ? size - i : step;
        int k;
        if (data[i] & 0x40)
            p.line_seen = t;                           /* watched until now, else away since */
        size_t used = dw_cyton_parse(&p, data + i, n, t, out, 8, &k);
        if (used == 0 && k == 0)
            abort();                                   /* no progress */
        for (int s = 0; s < k; s++) {
            if (out[s].lost < 0 || out[s].index <= last || out[s].nch != (p.daisy ? 16 : 8))
                abort();
            last = out[s].index;
            for (int c = 0; c < out[s].nch; c++)
                if (!isfinite(out[s].uv[c]) || fabs(out[s].uv[c]) > 4.5e6 || labs((long)out[s].count[c]) > 8388608)
                    abort();
        }
        i += used;
        t += (data[i - 1] & 0x3F) * 0.004;            /* the input also spaces the chunks in time */
    }
    if (p.lost_packets < 0 || dw_cyton_loss_recent(&p, t) < 0 || dw_cyton_loss_recent(&p, t) > 100)
        abort();
    dw_cyton_reply r;
    dw_cyton_reply_reset(&r);
    for (size_t i = 0; i < size;)
        i += dw_cyton_reply_feed(&r, data + i, size - i) + (r.done ? (dw_cyton_reply_reset(&r), 0) : 0);
    dw_cyton_reply_failed(&r);
    dw_cyton_reply_daisy(&r);
    return 0;
}
