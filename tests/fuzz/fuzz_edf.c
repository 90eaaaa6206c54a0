/* libFuzzer target for the EDF/BDF reader and the hypnogram loader: the input is written to a private
 * temporary file (EDFlib reads only paths), opened with dw_source_open_file, read to the end, sought
 * and read again, and loaded as a reference hypnogram. Seeds: tests/fuzz/seeds/edf (tools/make_edf_seeds.c). */
#include "staging/hypnogram.h"
#include "sources/source.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[256];
    if (!path[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/dw-fuzz-edf-%d.edf", t && *t ? t : "/tmp", (int)getpid());
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    close(fd);

    /* Odd sizes: the first channel by number (may be slow, may be the only one); even: the default pick. */
    dw_channel_spec spec;
    memset(&spec, 0, sizeof spec);
    strcpy(spec.channels[0], "1");
    strcpy(spec.parietal, "none");
    spec.nchannels = 1;
    dw_err err;
    dw_source *s = dw_source_open_file(path, size & 1 ? &spec : NULL, &err);
    if (s) {
        dw_block b;
        long frames = 0;
        int r;
        while (frames < 2000000 && (r = s->ops->read(s, &b, 1000, 0)) > 0)
            frames += r;
        if (s->ops->seek && s->ops->seek(s, s->info.duration_s / 3) == 0)
            s->ops->read(s, &b, 500, 0);
        dw_source_close(s);
    }
    dw_hypnogram h;
    if (dw_hypnogram_load(path, &h, &err) == 0)
        dw_hypnogram_free(&h);
    unlink(path);
    return 0;
}
