/* libFuzzer: the protocol file parser (through a real file, as dreamwatch reads it). Checks what a
 * loaded protocol promises: counts within their tables, strings terminated, numbers inside their
 * limits. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/dw-fuzz-protocol-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) { close(fd); unlink(path); return 0; }
    close(fd);
    static dw_protocol p;
    dw_err err;
    int r = dw_protocol_load(&p, path, &err);
    unlink(path);
    if (r < 0) {
        if (!memchr(err.msg, 0, sizeof err.msg) || strncmp(err.msg, path, strlen(path)))
            abort();                               /* every error names the file */
        return 0;
    }
    if (p.nq < 0 || p.nq > DW_PROTO_MAX_Q || p.ncued < 0 || p.ncued > DW_PROTO_MAX_ITEMS ||
        p.nuncued < 0 || p.nuncued > DW_PROTO_MAX_ITEMS || p.aw_ntargets < 0 ||
        p.aw_ntargets > DW_PROTO_MAX_TARGETS || (p.cue_enabled && p.ncued == 0) ||
        p.sham_ratio < 0 || p.sham_ratio > 1 || p.aw_max < 1)
        abort();
    for (int i = 0; i < p.nq; i++)
        if (!p.q[i].text[0] || strlen(p.q[i].text) >= sizeof p.q[i].text || p.q[i].timeout_s < 5 ||
            p.q[i].type < 0 || p.q[i].type > DW_ANSWER_TEXT)
            abort();
    for (int i = 0; i < p.ncued; i++)
        if (!p.cued[i][0] || strlen(p.cued[i]) >= DW_PROTO_ITEM)
            abort();
    for (int i = 0; i < p.aw_ntargets; i++)
        if (p.aw_target[i] < 0 || p.aw_target[i] >= DW_NSTAGES || !(p.aw_dwell_min[i] >= 0.5))
            abort();
    return 0;
}
