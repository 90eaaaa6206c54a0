/* Text from files, made safe: bytes shown in a message cannot drive the terminal, and a line reader
 * cannot be made to grow without bound. */
#ifndef DW_TEXT_H
#define DW_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Copies n bytes of in to out (cap bytes, always terminated) so that a terminal shows them and obeys
 * none: printable ASCII and well-formed UTF-8 stay as they are; control bytes (0x00-0x1f, 0x7f), the C1
 * controls U+0080-U+009F (which a UTF-8 terminal may obey, e.g. U+009B = CSI) and bytes that are not
 * well-formed UTF-8 become "\xNN", one per byte. A backslash is kept as it is, so escaping twice
 * changes nothing (messages nest). A sequence that does not fit is dropped whole. Returns the length
 * written. dw_err_set passes every error message through it. */
size_t dw_escape(const char *in, size_t n, char *out, size_t cap);
/* The same for a NUL-terminated string. */
size_t dw_escape_str(const char *in, char *out, size_t cap);

/* One line of f into *buf (grown as needed, NUL-terminated, its line end removed), at most max
 * bytes. A line ends at LF, CRLF or a lone CR (old Mac OS, or endings an editor mixed): each is one
 * line end, so lines count as a person sees them. The look-ahead after a CR is one ungetc, which
 * ftello counts (an offset taken between two calls is where the next line starts). Returns the
 * length (NUL bytes inside count and stay), DW_LINE_EOF at the end of the file with nothing read,
 * DW_LINE_LONG when the line goes on past max bytes (the reader stops there: a file with no line
 * end, such as /dev/zero, costs max bytes and no more), DW_LINE_ERR on a read error or out of
 * memory (errno set). */
enum { DW_LINE_EOF = -1, DW_LINE_LONG = -2, DW_LINE_ERR = -3 };
long dw_getline_max(FILE *f, char **buf, size_t *cap, size_t max);

#endif
