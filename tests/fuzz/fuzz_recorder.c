/* libFuzzer: the crash-safe recorder driven by arbitrary sequences of writes (any block size, gaps small
 * and huge, accelerometer or not, values beyond full scale or not numbers), annotations (any bytes, any
 * onset and duration) and a close, against a real file in a private folder. Checks the recorder's
 * promises: every call returns, the header's record count always equals the complete records on disk, the
 * closed file opens in EDFlib with the records that were written, the side log holds every annotation, and
 * `recover` then finds it sound or repairs it. */
#include "record/recorder.h"
#include "edf/edf_header.h"

#include <edflib.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct { const uint8_t *p; size_t n; } input;
static int next(input *in) { return in->n ? (in->n--, *in->p++) : -1; }

/* The header's count against the file's size: 1 when they agree. */
static int consistent(const char *path)
{
    int fd = open(path, O_RDONLY);
    dw_edf_header g = { 0 };
    dw_err err = { 0 };
    struct stat st;
    int ok = fd >= 0 && fstat(fd, &st) == 0 &&
             (st.st_size == 0 || (dw_edf_header_read(fd, path, DW_EDF_LAYOUT, &g, &err) == 0 &&
              (g.nrec < 0 || g.hdr_bytes + g.nrec * g.rec_bytes == st.st_size)));
    dw_edf_header_free(&g);
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Empties the folder (the recorder writes only files, no folders). */
static void clean(const char *dir)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.' || (e->d_name[1] && strcmp(e->d_name, "..")))
            unlink(p);
    }
    if (d)
        closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const double rates[4] = { 250, 125, 100, 33 };
    input in = { data, size };
    int h0 = next(&in);
    dw_source_info info;
    memset(&info, 0, sizeof info);
    info.nch = 1 + (h0 & 3);
    info.fs = rates[(h0 >> 2) & 3];
    info.start_epoch = 1.7e9;
    static char dir[64];                  /* on tmpfs when there is one: the recorder syncs often */
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/dw-fuzz-rec-XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        if (!mkdtemp(dir))
            abort();
    }
    dw_err err;
    dw_recorder *r = dw_recorder_open(dir, "fz", &info, h0 & 16, &err);
    if (!r) {
        clean(dir);
        return 0;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s", dw_recorder_path(r));
    static double uv[512 * 4];
    long long frames = 0;
    int nannot = 0, op;
    while ((op = next(&in)) >= 0 && frames < 250 * 120) {
        if (!(op & 1)) {                                /* a block */
            int n = next(&in), g = next(&in);
            n = n < 0 ? 0 : n * 2;
            long gap = g < 0 ? 0 : (op & 2) ? g * 37L : g;
            for (int i = 0; i < n * info.nch; i++) {
                int b = next(&in);
                uv[i] = (op & 4) && b == 0x7f ? NAN : (op & 8) ? (b - 128) * 1e4 : (b - 128) * 10.0;
            }
            dw_block b = { .n = n, .uv = uv, .gap = gap, .accel_valid = op & 16, .accel = { 0.1, -2, 9 } };
            dw_recorder_write(r, &b);
            frames += n + gap;
            if (!consistent(path))
                abort();
        } else {                                        /* an annotation */
            char text[200];
            int len = next(&in), k = 0;
            for (; len > 0 && k < len % 150 && in.n; k++)
                text[k] = (char)next(&in);
            text[k] = 0;
            double onset = (double)frames / info.fs + (op >> 4) - 4, dur = (op & 2) ? (op >> 2) * 0.7 : -1;
            if (dw_recorder_annotate(r, onset, dur, text) != 0)
                abort();                                /* the side log is on a disk with room */
            nannot++;
        }
    }
    if (dw_recorder_close(r, &err) != 0) {
        fprintf(stderr, "close: %s\n", err.msg);
        abort();
    }
    if (!consistent(path))
        abort();
    struct stat st;
    if (stat(path, &st) == 0 && st.st_size > 0) {
        struct edf_hdr_struct h;
        if (edfopen_file_readonly(path, &h, EDFLIB_READ_ALL_ANNOTATIONS) != 0)
            abort();                                    /* a closed recording always reads */
        if (h.annotations_in_file < nannot)
            abort();                                    /* every annotation is in the file */
        edfclose_file(h.handle);
        if (dw_recover_file(path, NULL, &err) != 0)
            abort();
    }
    clean(dir);
    return 0;
}
