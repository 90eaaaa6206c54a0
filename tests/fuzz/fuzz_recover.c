/* libFuzzer: `recover` on an arbitrary recording and side log. The input is split at its first "\n--\n":
 * the bytes before are FILE.bdf, after it FILE.bdf.events.tsv (none: no side log). Seeds are recordings
 * as a killed recorder leaves them. Checks recover's promise: it returns 0, after which the file opens in
 * EDFlib and a second recover has nothing to do (unless more annotations than a file can hold were
 * asked for), or it returns -1 and the file is byte for byte what it was. Inputs up to 200 KB
 * (-max_len): the side log's line reader stops at 64 KB. Its notes about skipped lines go to stderr,
 * which is closed (-close_fd_mask=2; libFuzzer keeps its own reports). */
/* fuzz: -max_len=200000 -close_fd_mask=2 */
#include "record/recorder.h"

#include <edflib.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int put(const char *path, const uint8_t *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int ok = fd >= 0 && write(fd, p, n) == (ssize_t)n;
    if (fd >= 0)
        close(fd);
    return ok ? 0 : -1;
}

static uint8_t *slurp(const char *path, size_t *n)
{
    struct stat st;
    int fd = open(path, O_RDONLY);
    uint8_t *b = fd >= 0 && fstat(fd, &st) == 0 ? malloc((size_t)st.st_size + 1) : NULL;
    *n = b && read(fd, b, (size_t)st.st_size) == st.st_size ? (size_t)st.st_size : (size_t)-1;
    if (fd >= 0)
        close(fd);
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[64], bdf[128], tsv[160];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/dw-fuzz-recover-XXXXXX");
        if (!mkdtemp(dir))
            abort();
        snprintf(bdf, sizeof bdf, "%s/r.bdf", dir);
        snprintf(tsv, sizeof tsv, "%s/r.bdf.events.tsv", dir);
    }
    const uint8_t *sep = memmem(data, size, "\n--\n", 4);
    size_t nb = sep ? (size_t)(sep - data) : size;
    unlink(tsv);
    if (put(bdf, data, nb) || (sep && put(tsv, sep + 4, size - nb - 4)))
        return 0;
    dw_err err;
    char first[1024] = "";
    FILE *f1 = fmemopen(first, sizeof first - 1, "w");
    int rc = dw_recover_file(bdf, f1, &err);
    fclose(f1);
    size_t n;
    uint8_t *after = slurp(bdf, &n);
    if (rc != 0) {
        if (n != nb || (nb && memcmp(after, data, nb)))
            abort();                                    /* a failed recover leaves the file untouched */
    } else {
        struct edf_hdr_struct h;
        if (edfopen_file_readonly(bdf, &h, EDFLIB_READ_ALL_ANNOTATIONS) != 0)
            abort();                                    /* a recovered file reads */
        edfclose_file(h.handle);
        char report[1024] = "";
        FILE *f = fmemopen(report, sizeof report - 1, "w");
        if (dw_recover_file(bdf, f, &err) != 0)
            abort();
        fclose(f);
        if (!strstr(report, "nothing to do") && !strstr(first, "not all fit"))
            abort();                                    /* ... and a second recover finds it sound */
    }
    free(after);
    unlink(bdf);
    return 0;
}
