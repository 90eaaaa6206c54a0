/* Station commands: encoding, and the bed's checks (bed, freshness, replay). */
#include "net/command.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "net/broker.h"

void dw_cmd_guard_init(dw_cmd_guard *g, double max_age_s)
{
    memset(g, 0, sizeof *g);
    g->max_age_s = max_age_s > 0 ? max_age_s : 30;
}

static const struct {
    const char *op;
    int kind;
} ops[] = {
    { "wake", DW_CMD_WAKE },         { "natural", DW_CMD_NATURAL }, { "ack", DW_CMD_ACK },
    { "shutdown", DW_CMD_SHUTDOWN }, { "marker", DW_CMD_MARKER },
};

static int id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n < 16 || n >= DW_CMD_ID_MAX) return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return 0;
    return 1;
}

/* Forget ids that can no longer be fresh; 1 if id is still remembered. */
static int seen(dw_cmd_guard *g, const char *id, double now)
{
    int k = 0, hit = 0;
    for (int i = 0; i < g->n; i++) {
        if (g->seen[i].ts < now - g->max_age_s - 1) continue;
        if (!strcmp(g->seen[i].id, id)) hit = 1;
        g->seen[k++] = g->seen[i];
    }
    g->n = k;
    return hit;
}

static int kind_of(const char *op)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(op, ops[i].op)) return ops[i].kind;
    return -1;
}

int dw_cmd_guard_accept(dw_cmd_guard *g, const char *bed, const char *doc, size_t len, double now,
                        dw_cmd *out, char id[DW_CMD_ID_MAX], const char **reason)
{
    char b[DW_BED_MAX + 1], op[16];
    double ts = 0, arg = 0;
    id[0] = 0;
    memset(out, 0, sizeof *out);
    if (dw_json_check(doc, len, NULL) < 0) {
        *reason = "not JSON";
        return -1;
    }
    if (dw_json_get_str(doc, len, "id", id, DW_CMD_ID_MAX) != 1 || !id_ok(id)) {
        id[0] = 0;
        *reason = "no id";
        return -1;
    }
    if (dw_json_get_str(doc, len, "bed", b, sizeof b) != 1 || strcmp(b, bed)) {
        *reason = "wrong bed";
        return -1;
    }
    if (dw_json_get_num(doc, len, "ts", &ts) != 1 || !isfinite(ts) ||
        fabs(now - ts) > g->max_age_s) {
        *reason = "stale";
        return -1;
    }
    if (seen(g, id, now)) {
        *reason = "replayed";
        return -1;
    }
    if (dw_json_get_str(doc, len, "op", op, sizeof op) != 1 || (out->kind = kind_of(op)) < 0) {
        *reason = "unknown op";
        return -1;
    }
    if (g->n == DW_GUARD_N) {
        *reason = "too many commands";
        return -1;
    }
    snprintf(g->seen[g->n].id, sizeof g->seen[g->n].id, "%s", id);
    g->seen[g->n++].ts = ts;
    if (dw_json_get_num(doc, len, "arg", &arg) == 1 && isfinite(arg))
        out->arg = arg;
    else
        out->arg = out->kind == DW_CMD_ACK ? -1 : out->kind == DW_CMD_NATURAL ? 1 : 0;
    if (out->kind == DW_CMD_MARKER || out->kind == DW_CMD_SHUTDOWN) {
        char t[200] = "";
        dw_json_get_str(doc, len, "text", t, sizeof t);
        snprintf(out->text, sizeof out->text, "%s (station)",
                 t[0]                               ? t
                     : out->kind == DW_CMD_SHUTDOWN ? "shutdown"
                                                    : "marker");
    }
    *reason = "";
    return 0;
}

int dw_cmd_encode(dw_json *j, const char *id, double ts, const char *bed, const char *op,
                  double arg, const char *text)
{
    dw_json_begin(j);
    dw_json_str(j, "id", id);
    dw_json_num(j, "ts", ts, 15);
    dw_json_str(j, "bed", bed);
    dw_json_str(j, "op", op);
    dw_json_num(j, "arg", arg, 10);
    if (text && *text) dw_json_str(j, "text", text);
    return dw_json_end(j);
}

void dw_cmd_new_id(char id[DW_CMD_ID_MAX])
{
    unsigned char r[16] = { 0 };
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) { /* never fails on Linux >= 3.17 */
        double t = dw_now_wall();
        memcpy(r, &t, sizeof t);
    }
    for (int i = 0; i < 16; i++) snprintf(id + 2 * i, 3, "%02x", r[i]);
}
