/* libFuzzer: the EDF/BDF header reader (src/edf/edf_header.c) on arbitrary bytes, in both modes. What it
 * checks beyond "no crash, no leak": a header it accepts has printable ASCII labels and units, a layout
 * that adds up, and a repaired header that reads again with no repair at all (every repair writes the
 * canonical form). Seeds: tests/fuzz/seeds/edf_header (real EDF+/BDF+ heads and damaged ones). */
#include "edf/edf_header.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int as_file(const void *p, size_t n)
{
    int fd = memfd_create("fuzz-edf-header", 0);
    if (fd >= 0 && write(fd, p, n) != (ssize_t)n) {
        close(fd);
        return -1;
    }
    return fd;
}

static void check(const dw_edf_header *h)
{
    if (h->hdr_bytes != 256LL * (h->ns + 1) || h->rec_bytes < h->ns)
        __builtin_trap();
    for (int i = 0; i < h->ns; i++)
        for (const char *c = h->sig[i].label; *c; c++)
            if (*c < 32 || *c > 126)
                __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = as_file(data, size);
    if (fd < 0)
        return 0;
    dw_edf_header h, h2;
    dw_err err;
    if (dw_edf_header_read(fd, "fuzz.edf", DW_EDF_LAYOUT, &h, &err) == 0)
        dw_edf_header_free(&h);
    if (dw_edf_header_read(fd, "fuzz.edf", DW_EDF_FULL, &h, &err) == 0) {
        check(&h);
        int fd2 = as_file(h.raw, (size_t)h.hdr_bytes);
        if (fd2 >= 0) {
            if (dw_edf_header_read(fd2, "again.edf", DW_EDF_FULL, &h2, &err) != 0 || h2.repairs != 0) {
                fprintf(stderr, "not canonical after:\n%s\nagain: %s\n", h.note, h2.repairs ? h2.note : err.msg);
                __builtin_trap();
            }
            dw_edf_header_free(&h2);
            close(fd2);
        }
        dw_edf_header_free(&h);
    }
    close(fd);
    return 0;
}
