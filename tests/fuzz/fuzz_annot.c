/* libFuzzer: the annotation pieces (edf/edf_annot.h). The input, split at NUL bytes, is a list of
 * texts. Each is split; every piece must be 1..40 bytes, must not end inside a character of a
 * well-formed UTF-8 text, and the pieces rejoined (dw_annot_join, all at one onset, in reverse
 * order as a reader may give them) must give back the text as one line. Then the texts themselves,
 * as a file's annotations, go through dw_annot_join: it must not crash, lose bytes or grow them
 * (pieces never join into more). */
/* fuzz: -max_len=20000 */
#include "edf/edf_annot.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int utf8_valid(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; ) {
        int n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3
              : (*p & 0xf8) == 0xf0 ? 4 : 0;
        for (int i = 1; i < n; i++)
            if ((p[i] & 0xc0) != 0x80)
                return 0;
        if (!n)
            return 0;
        p += n;
    }
    return 1;
}

static void one_text(const char *t)
{
    dw_annot_split sp;
    char piece[DW_ANNOT_BYTES + 1];
    dw_annot_split_begin(&sp, t);
    dw_annot *v = calloc((size_t)sp.n + 1, sizeof *v);
    size_t n = 0, at = 0, len = strlen(t);
    int valid = utf8_valid(t);
    if (!v)
        abort();
    while (dw_annot_split_next(&sp, piece)) {
        size_t l = strlen(piece);
        if ((l < 1 && len) || l > DW_ANNOT_BYTES)
            abort();
        long k, np;
        size_t skip = dw_annot_piece_prefix(piece, &k, &np);
        at += l - skip;
        if (valid && at < len && ((unsigned char)t[at] & 0xc0) == 0x80)
            abort();                            /* a cut inside a character of a well-formed text */
        v[sp.n - 1 - (long)n] = (dw_annot){ 7, -1, strdup(piece) };
        n++;
    }
    if (n != (size_t)sp.n || at != len)
        abort();
    long m = dw_annot_join(v, n);
    if (m != 1)
        abort();
    for (size_t i = 0; i < len; i++)
        if (v[0].text[i] != ((unsigned char)t[i] < 32 ? ' ' : t[i]))
            abort();
    if (v[0].text[len])
        abort();
    free(v[0].text);
    free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = 0;
    dw_annot v[256];
    size_t n = 0, before = 0;
    for (size_t at = 0; at <= size && n < 256; at += strlen(buf + at) + 1) {
        one_text(buf + at);
        v[n] = (dw_annot){ (long long)(n % 3), 0, strdup(buf + at) };
        before += strlen(buf + at);
        n++;
    }
    long m = dw_annot_join(v, n);
    if (m < 1 || m > (long)n)
        abort();
    size_t after = 0;
    for (long i = 0; i < m; i++) {
        after += strlen(v[i].text);
        free(v[i].text);
    }
    if (after > before)
        abort();
    free(buf);
    return 0;
}
