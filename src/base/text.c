/* Safe text: escaping for messages, a bounded line reader. See text.h. */
#include "base/text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at p (n bytes left) that is not a control, or 0. The ranges
 * are those of RFC 3629, section 4 (no overlong forms, no surrogates, nothing above U+10FFFF). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c >= 0x20 && c < 0x7f)
        return 1;
    size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (!len || len > n)
        return 0;
    unsigned lo = 0x80, hi = 0xbf;                 /* the second byte's range */
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
    if (c == 0xc2) lo = 0xa0;                       /* U+0080-U+009F are the C1 controls */
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

size_t dw_escape(const char *in, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)in;
    size_t o = 0;
    if (!cap)
        return 0;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_len(p + i, n - i);
        if (len) {
            if (o + len >= cap)
                break;
            memcpy(out + o, p + i, len);
            o += len;
            i += len;
        } else {
            if (o + 4 >= cap)
                break;
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[p[i] >> 4];
            out[o++] = hex[p[i] & 15];
            i++;
        }
    }
    out[o] = 0;
    return o;
}

size_t dw_escape_str(const char *in, char *out, size_t cap)
{
    return dw_escape(in, strlen(in), out, cap);
}

long dw_getline_max(FILE *f, char **buf, size_t *cap, size_t max)
{
    size_t n = 0;
    int ch = EOF, any = 0;
    flockfile(f);
    for (;;) {
        ch = getc_unlocked(f);
        if (ch == EOF || ch == '\n')
            break;
        if (ch == '\r') {                           /* CR, CRLF: one line end either way */
            int next = getc_unlocked(f);
            if (next != '\n' && next != EOF)
                ungetc(next, f);
            else if (next == EOF && ferror(f))
                ch = EOF;                           /* the read error is reported below */
            break;
        }
        any = 1;
        if (n == max) {
            funlockfile(f);
            return DW_LINE_LONG;
        }
        if (n + 2 > *cap) {
            size_t nc = *cap ? 2 * *cap : 256;
            if (nc > max + 2)
                nc = max + 2;
            char *b = realloc(*buf, nc);
            if (!b) {
                funlockfile(f);
                errno = ENOMEM;
                return DW_LINE_ERR;
            }
            *buf = b;
            *cap = nc;
        }
        (*buf)[n++] = (char)ch;
    }
    int bad = ch == EOF && ferror(f);
    funlockfile(f);
    if (bad)
        return DW_LINE_ERR;
    if (ch == EOF && !any)
        return DW_LINE_EOF;
    if (!*buf) {                                   /* an empty line before anything was allocated */
        if (!(*buf = malloc(*cap = 256))) {
            errno = ENOMEM;
            return DW_LINE_ERR;
        }
    }
    (*buf)[n] = 0;
    return (long)n;
}
