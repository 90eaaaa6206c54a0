/* Operator commands over the broker: the station writes one JSON object on PREFIX/bed/BED/cmd,
 *   {"id":"<16-64 chars [A-Za-z0-9_-]>","ts":<Unix time,
 * s>,"bed":"BED","op":"wake|natural|ack|shutdown|marker", "arg":<number>,"text":"<marker text>"}
 * and the bed carries it out only when it names this bed, is fresh (|now - ts| <= max age) and its
 * id was not seen before (a replayed command is refused; ids are kept as long as they could still
 * be fresh, so memory stays bounded). The bed answers every command on .../cmd_ack with
 * {"id","ok","reason"}. */
#ifndef DW_COMMAND_H
#define DW_COMMAND_H

#include <stddef.h>
#include "net/json.h"
#include "session/session.h"

#define DW_CMD_ID_MAX 65
#define DW_GUARD_N 256 /* commands one bed accepts within one max-age window, at most */

typedef struct {
    struct {
        char id[DW_CMD_ID_MAX];
        double ts;
    } seen[DW_GUARD_N];
    int n;
    double max_age_s;
} dw_cmd_guard;

void dw_cmd_guard_init(dw_cmd_guard *g, double max_age_s);
/* Check a command document for this bed at wall-clock now. 0: accepted, out holds the dw_cmd to
 * post and id its id. -1: refused; *reason says why ("not JSON", "no id", "wrong bed", "stale",
 * "replayed", "unknown op", "too many commands") and id holds the id when the document had one (""
 * otherwise). */
int dw_cmd_guard_accept(dw_cmd_guard *g, const char *bed, const char *doc, size_t len, double now,
                        dw_cmd *out, char id[DW_CMD_ID_MAX], const char **reason);
/* The station's side: write a command document (op as above). 0 or -1 (too long). */
int dw_cmd_encode(dw_json *j, const char *id, double ts, const char *bed, const char *op,
                  double arg, const char *text);
/* A fresh random command id (32 hex digits from getrandom). */
void dw_cmd_new_id(char id[DW_CMD_ID_MAX]);

#endif
