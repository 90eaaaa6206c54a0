/* libFuzzer: what arrives from the network or a socket: broker documents (the JSON reader, the
 * station command guard, the ward model's ingest of any topic) and attach frames (the client
 * applying them to a real monitor; the server decoding commands). The first byte picks the path. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "net/command.h"
#include "net/json.h"
#include "net/ward.h"
#include "net/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void documents(const char *d, size_t n)
{
    char s[64];
    double v, a[8];
    int b, k;
    dw_json_check(d, n, NULL);
    dw_json_get_str(d, n, "id", s, sizeof s);
    dw_json_get_num(d, n, "ts", &v);
    dw_json_get_bool(d, n, "ok", &b);
    dw_json_get_nums(d, n, "prob", a, 8, &k);
    static dw_cmd_guard g;
    static int init;
    if (!init) {
        dw_cmd_guard_init(&g, 30);
        init = 1;
    }
    dw_cmd c;
    char id[DW_CMD_ID_MAX];
    const char *why;
    dw_cmd_guard_accept(&g, "bed1", d, n, 1.7e9, &c, id, &why);
    static dw_ward w;
    static int winit;
    if (!winit) {
        dw_err err;
        dw_ward_init(&w, 30);
        dw_broker_url_parse("mqtt://127.0.0.1/dw", &w.url, &err);
        winit = 1;
    }
    static const char *const topics[] = { "dw/bed/1/status", "dw/bed/2/alert", "dw/bed/1/cmd_ack",
                                          "dw/bed/x/epoch" };
    dw_ward_ingest(&w, topics[n % 4], d, (int)n, 1.0);
    if (w.n > 200) {
        dw_ward_free(&w);
        winit = 0;
    }
}

static void frames(const uint8_t *d, size_t n)
{
    static dw_monitor m;
    static int init;
    if (!init) {
        dw_monitor_init(&m);
        init = 1;
    }
    int type;
    const unsigned char *p;
    size_t len, used, off = 0;
    dw_err err;
    while (dw_wire_next(d + off, n - off, &type, &p, &len, &used) == 1) {
        dw_cmd c;
        char name[64], desc[160];
        if (type == DW_W_CMD)
            dw_wire_cmd_decode(p, len, &c);
        else if (type == DW_W_HELLO)
            dw_wire_hello_check(p, len, name, desc, &err);
        else
            dw_wire_apply(&m, type, p, len, &err);
        dw_monitor_drain(m.wake_fd[0]);
        off += used;
    }
    if (m.n_epochs > 100000) {
        dw_monitor_destroy(&m);
        init = 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (data[0] & 1)
        documents((const char *)data + 1, size - 1);
    else
        frames(data + 1, size - 1);
    return 0;
}
