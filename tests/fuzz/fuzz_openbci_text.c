/* libFuzzer: the OpenBCI GUI text reader (open, read everything, seek) on arbitrary bytes. */
/* fuzz: -max_len=200000 */   /* lines past the reader's 64-KB bound must be tried */
#ifndef FUZZ_OPEN
#define FUZZ_OPEN dw_openbci_text_open
#endif
#include "sources/source.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz", 0);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    dw_err err;
    dw_source *s = FUZZ_OPEN(path, NULL, &err);
    if (s) {
        dw_block b;
        for (int pass = 0; pass < 2; pass++) {
            while (s->ops->read(s, &b, 7 + pass * 500, 0) > 0)
                if (b.n > 0 && b.uv[(size_t)b.n * s->info.nch - 1] != b.uv[(size_t)b.n * s->info.nch - 1])
                    __builtin_trap();           /* never a NaN */
            s->ops->seek(s, s->info.duration_s / 2);
        }
        s->ops->seek(s, 0);
        s->ops->read(s, &b, 3, 0);
        dw_source_close(s);
    }
    close(fd);
    return 0;
}
