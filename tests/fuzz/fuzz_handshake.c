/* libFuzzer: the Cyton link as the live source drives it: the byte transport (a real FIFO: read with a
 * time-out, flush) carrying arbitrary bytes, the handshake state machine (dw_cyton_hs) fed those bytes,
 * canned replies and the passing of time in any order, then the packet parser once it streams. Checks:
 * the handshake only ever asks for s, v (after a flush), d, c/C, ~6 and b; it always ends, streaming or
 * failed, within the sum of its step times (0.2 + 4 + 3 x 1.5 s) of virtual time; a device that sends
 * bytes with no reply is given up after 16 KB; the parser's samples rise, lose nothing negative, stay
 * in range. */
#include "sources/cyton.h"
#include "sources/transport.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HS_MAX_S (0.2 + 4.0 + 3 * 1.5 + 0.01)

static const char *const replies[] = {
    "$$$",
    "OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3E\nLIS3DH Device ID: 0x33\nFirmware: v3.1.2\n$$$",
    "OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3E\nOn Daisy ADS1299 Device ID: 0x3E\n"
    "LIS3DH Device ID: 0x33\nFirmware: v3.1.2\n$$$",
    "Failure: Communications timeout - Device failed to poll Host$$$",
    "OpenBCI V3 8-16 channel\nFirmware: v2.0.0\n$$$",
};

static void check_act(const dw_cyton_hs *h, const dw_cyton_hs_act *a)
{
    if (a->kind == DW_HS_SEND) {
        const char *c = a->cmd;
        if (!c || (strcmp(c, "s") && strcmp(c, "v") && strcmp(c, "d") && strcmp(c, "c") && strcmp(c, "C") &&
                   strcmp(c, "~6")) || (a->flush && strcmp(c, "v")))
            abort();
        if (!strcmp(c, "~6") && !h->v3)
            abort();                                    /* only firmware 3 knows ~6 */
    } else if (a->kind == DW_HS_STREAM) {
        if (!a->cmd || strcmp(a->cmd, "b") || h->step != DW_HS_STREAMING || h->daisy < 0)
            abort();
    } else if (a->kind == DW_HS_FAIL) {
        if (!a->why || h->step != DW_HS_FAILED)
            abort();
    }
}

static void check_samples(const dw_cyton_parser *p, const dw_cyton_sample *s, int k, long *last)
{
    for (int i = 0; i < k; i++) {
        if (s[i].lost < 0 || s[i].index <= *last || s[i].nch != (p->daisy ? 16 : 8))
            abort();
        *last = s[i].index;
        for (int c = 0; c < s[i].nch; c++)
            if (!isfinite(s[i].uv[c]) || fabs(s[i].uv[c]) > 4.5e6)
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static dw_transport *tr;
    if (!tr) {
        char dir[] = "/tmp/dw-fuzz-hs-XXXXXX", fifo[64];
        dw_err err;
        if (!mkdtemp(dir))
            abort();
        snprintf(fifo, sizeof fifo, "%s/port", dir);
        if (mkfifo(fifo, 0600) || !(tr = dw_transport_open(fifo, &err)))
            abort();
        unlink(fifo);
        rmdir(dir);
    }
    dw_transport_flush(tr);
    if (size < 1)
        return 0;
    double t = 0;
    dw_cyton_hs h;
    dw_cyton_hs_act a;
    dw_cyton_parser p;
    dw_cyton_hs_start(&h, (int[]){ 0, 8, 16, 0 }[data[0] & 3], (data[0] & 4) ? (data[0] >> 3) & 1 : -1, t, &a);
    check_act(&h, &a);
    long last = -1;
    int streaming = 0;
    for (size_t i = 1; i < size;) {
        int op = data[i++];
        uint8_t buf[512];
        size_t n = 0;
        if ((op & 3) == 0) {                            /* bytes from the device, through the FIFO */
            size_t len = i < size ? data[i++] : 0;
            len = len > size - i ? size - i : len;
            if (len && write(tr->fd, data + i, len) != (ssize_t)len)
                abort();
            i += len;
            ssize_t got = dw_transport_read(tr, buf, sizeof buf, 0, -1);
            n = got > 0 ? (size_t)got : 0;
        } else if ((op & 3) == 1) {                     /* time passes, in steps the machine sees */
            t += ((op >> 2) & 1) * 0.05;
        } else if ((op & 3) == 2) {                     /* a reply as a board sends it */
            const char *r = replies[(op >> 2) % (sizeof replies / sizeof *replies)];
            n = strlen(r);
            memcpy(buf, r, n);
        } else {
            dw_transport_flush(tr);
        }
        size_t off = 0;
        if (!streaming && n) {
            off = dw_cyton_hs_feed(&h, buf, n, t, &a);
            if (off > n)
                abort();
            check_act(&h, &a);
        }
        if (!streaming) {
            dw_cyton_hs_time(&h, t, &a);
            check_act(&h, &a);
            if (h.step == DW_HS_STREAMING) {
                streaming = 1;
                dw_cyton_parser_init(&p, h.daisy);
                dw_cyton_track_command(&p, "d", 1);
            }
            if (h.step < DW_HS_STREAMING && t > HS_MAX_S)
                abort();                                /* a handshake that never ends */
            if (h.junk > DW_HS_JUNK_MAX + (long)sizeof buf)
                abort();
        }
        while (streaming && off < n) {
            dw_cyton_sample s[32];
            int k;
            size_t used = dw_cyton_parse(&p, buf + off, n - off, t, s, 32, &k);
            if (!used && !k)
                abort();
            check_samples(&p, s, k, &last);
            off += used;
        }
    }
    for (int k = 0; k < 400 && h.step < DW_HS_STREAMING; k++) {   /* silence: every step times out */
        t += 0.05;
        dw_cyton_hs_time(&h, t, &a);
        check_act(&h, &a);
    }
    if (h.step < DW_HS_STREAMING)
        abort();
    return 0;
}
