/* EDF+/BDF+ annotation pieces: the split and the rejoin (the convention is in edf_annot.h). */
#include "edf/edf_annot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIGITS 9               /* k, n up to 999999999 (pieces of 40 - 4 - 18 = 18 bytes) */

/* The byte as an annotation keeps it: below 32 (newline, tab, NUL never) a space. */
static char one_line(unsigned char c) { return c < 32 ? ' ' : (char)c; }

size_t dw_annot_fit(const char *s, size_t len, size_t cap)
{
    if (len <= cap)
        return len;
    size_t n = cap;                             /* s[n] starts the first byte left out */
    while (n > 0 && cap - n < 3 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return ((unsigned char)s[n] & 0xc0) == 0x80 ? cap : n;   /* malformed: no boundary near */
}

/* Digits of a positive number. */
static int digits(long n)
{
    int d = 1;
    while (n >= 10)
        n /= 10, d++;
    return d;
}

size_t dw_annot_piece_prefix(const char *t, long *k, long *n)
{
    long v[2];
    size_t i = 0;
    if (t[i++] != '(')
        return 0;
    for (int f = 0; f < 2; f++) {
        int d = 0;
        v[f] = 0;
        if (t[i] == '0')
            return 0;                           /* no leading zero: one spelling per number */
        for (; t[i] >= '0' && t[i] <= '9' && d < MAX_DIGITS; i++, d++)
            v[f] = v[f] * 10 + (t[i] - '0');
        if (!d || t[i++] != (f ? ')' : '/'))
            return 0;
    }
    if (!t[i] || one_line((unsigned char)t[i]) != ' ' || v[0] < 1 || v[0] > v[1])    /* NUL: end */
        return 0;
    *k = v[0];
    *n = v[1];
    return i + 1;
}

#define WORD_BACK 12                /* bytes a cut may move back to fall before a space */

/* Where the piece starting at `at` ends, with room for cap payload bytes: on a character boundary;
 * before a space within the last WORD_BACK bytes if there is one (the space starts the next piece,
 * so a reader of the pieces sees whole words); and not after a space (unless all of it is spaces).
 */
static size_t piece_end(const char *t, size_t len, size_t at, size_t cap)
{
    size_t end = at + dw_annot_fit(t + at, len - at, cap);
    if (end == len)
        return end;
    size_t e = end;
    for (size_t q = end; q > at && end - q <= WORD_BACK; q--)
        if (one_line((unsigned char)t[q]) == ' ') {
            e = q;
            break;
        }
    while (e > at && one_line((unsigned char)t[e - 1]) == ' ')
        e--;
    return e > at ? e : end;
}

static long count_pieces(const char *t, size_t len, size_t cap)
{
    long n = 0;
    for (size_t at = 0; at < len || n == 0; n++)
        at = piece_end(t, len, at, cap);
    return n;
}

void dw_annot_split_begin(dw_annot_split *s, const char *text)
{
    long k, n;
    *s = (dw_annot_split){ .text = text, .len = strlen(text), .n = 1 };
    if (s->len <= DW_ANNOT_BYTES && !dw_annot_piece_prefix(text, &k, &n))
        return;                                 /* as it is, cap 0 */
    for (int d = 1; d <= MAX_DIGITS; d++) {
        s->cap = DW_ANNOT_BYTES - 4 - 2 * (size_t)d;    /* "(k/n) ", k and n of d digits at most */
        long pieces = count_pieces(text, s->len, s->cap);
        if (digits(pieces) <= d) {
            s->n = (int)pieces;
            return;
        }
    }
    s->n = (int)count_pieces(text, s->len, s->cap);    /* beyond any text a night holds */
}

int dw_annot_split_next(dw_annot_split *s, char out[DW_ANNOT_BYTES + 1])
{
    if (s->k >= s->n)
        return 0;
    size_t o = 0, end = s->len;
    if (s->cap) {
        o = (size_t)snprintf(out, DW_ANNOT_BYTES + 1, "(%d/%d) ", s->k + 1, s->n);
        end = piece_end(s->text, s->len, s->at, s->cap);
    }
    for (size_t i = s->at; i < end && o < DW_ANNOT_BYTES; i++)
        out[o++] = one_line((unsigned char)s->text[i]);
    out[o] = 0;
    s->at = end;
    s->k++;
    return 1;
}

/* ---- the rejoin ---- */

typedef struct {
    const dw_annot *a;
    size_t i;                      /* index in the file */
    long k, n;
    size_t skip;                   /* prefix bytes */
} piece;

static int cmp_piece(const void *pa, const void *pb)
{
    const piece *x = pa, *y = pb;
    if (x->a->onset != y->a->onset)
        return x->a->onset < y->a->onset ? -1 : 1;
    if (x->a->dur != y->a->dur)
        return x->a->dur < y->a->dur ? -1 : 1;
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    if (x->k != y->k)
        return x->k < y->k ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static int same_set(const piece *x, const piece *y)
{
    return x->a->onset == y->a->onset && x->a->dur == y->a->dur && x->n == y->n;
}

/* For a run g[0..m) of pieces with the same onset, duration and n (sorted by k, then file order):
 * if every k in 1..n occurs c times, the j-th of each k make text j. Joined texts go to
 * out[g[..].i] for piece 1; the others get gone[i] = 1. 0, or -1 when out of memory. */
static int join_run(const piece *g, size_t m, char **out, char *gone)
{
    size_t n = (size_t)g[0].n;
    if (m % n)
        return 0;
    size_t c = m / n;
    for (size_t q = 0; q < m; q++)
        if ((size_t)g[q].k != q / c + 1)
            return 0;
    for (size_t j = 0; j < c; j++) {
        size_t len = 0;
        for (size_t k = 0; k < n; k++)
            len += strlen(g[k * c + j].a->text) - g[k * c + j].skip;
        char *t = malloc(len + 1);
        if (!t)
            return -1;
        len = 0;
        for (size_t k = 0; k < n; k++) {
            const piece *p = &g[k * c + j];
            size_t l = strlen(p->a->text) - p->skip;
            memcpy(t + len, p->a->text + p->skip, l);
            len += l;
            if (k)
                gone[p->i] = 1;
        }
        t[len] = 0;
        out[g[j].i] = t;
    }
    return 0;
}

long dw_annot_join(dw_annot *v, size_t n)
{
    piece *p = malloc((n + 1) * sizeof *p);
    char **out = calloc(n + 1, sizeof *out), *gone = calloc(n + 1, 1);
    size_t np = 0;
    int rc = p && out && gone ? 0 : -1;
    for (size_t i = 0; !rc && i < n; i++) {
        piece x = { .a = &v[i], .i = i };
        if ((x.skip = dw_annot_piece_prefix(v[i].text, &x.k, &x.n)))
            p[np++] = x;
    }
    if (!rc)
        qsort(p, np, sizeof *p, cmp_piece);
    for (size_t q = 0, e; !rc && q < np; q = e) {
        for (e = q + 1; e < np && same_set(&p[q], &p[e]); e++)
            ;
        rc = join_run(p + q, e - q, out, gone);
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (rc) {
            free(out ? out[i] : NULL);          /* out of memory: v as it was */
            continue;
        }
        if (gone[i] || out[i])
            free(v[i].text);
        if (out[i])
            v[i].text = out[i];
        if (!gone[i])
            v[m++] = v[i];
    }
    free(p);
    free(out);
    free(gone);
    return rc ? -1 : (long)m;
}
