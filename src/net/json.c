/* JSON writer and a reader of top-level members (RFC 8259 grammar, nesting bounded at 16). */
#include "net/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writer ---- */

static void put(dw_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(dw_json *j, const char *fmt, ...)
{
    if (j->overflow) return;
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(j->buf + j->len, sizeof j->buf - j->len, fmt, ap);
    va_end(ap);
    if (r < 0 || (size_t)r >= sizeof j->buf - j->len)
        j->overflow = 1;
    else
        j->len += (size_t)r;
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong forms, no surrogates, at most
 * U+10FFFF), or 0. */
static int utf8_len(const unsigned char *p)
{
    int n = p[0] < 0x80 ? 1 : p[0] >= 0xc2 && p[0] < 0xe0 ? 2 : p[0] >= 0xe0 && p[0] < 0xf0 ? 3
          : p[0] >= 0xf0 && p[0] < 0xf5 ? 4 : 0;
    for (int k = 1; k < n; k++)
        if ((p[k] & 0xc0) != 0x80) return 0;
    if ((n == 3 && p[0] == 0xe0 && p[1] < 0xa0) || (n == 3 && p[0] == 0xed && p[1] >= 0xa0) ||
        (n == 4 && p[0] == 0xf0 && p[1] < 0x90) || (n == 4 && p[0] == 0xf4 && p[1] >= 0x90))
        return 0;
    return n;
}

/* A string, escaped; a byte that is not part of well-formed UTF-8 (a Latin-1 label, say) becomes
 * U+FFFD, so every document is valid UTF-8 JSON. */
static void put_string(dw_json *j, const char *s)
{
    put(j, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int n = utf8_len(p);
        if (*p == '"' || *p == '\\')
            put(j, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            put(j, "\\u%04x", *p);
        else if (n == 0)
            put(j, "\\ufffd");
        else
            put(j, "%.*s", n, (const char *)p);
        p += n ? n : 1;
    }
    put(j, "\"");
}

static void member(dw_json *j, const char *key)
{
    if (j->n++) put(j, ",");
    put_string(j, key);
    put(j, ":");
}

void dw_json_begin(dw_json *j)
{
    j->len = 0;
    j->n = 0;
    j->overflow = 0;
    j->buf[0] = 0;
    put(j, "{");
}

void dw_json_str(dw_json *j, const char *key, const char *val)
{
    member(j, key);
    put_string(j, val ? val : "");
}
void dw_json_int(dw_json *j, const char *key, long long v)
{
    member(j, key);
    put(j, "%lld", v);
}
void dw_json_bool(dw_json *j, const char *key, int v)
{
    member(j, key);
    put(j, v ? "true" : "false");
}
void dw_json_raw(dw_json *j, const char *key, const char *raw)
{
    member(j, key);
    put(j, "%s", raw);
}

static void put_num(dw_json *j, double v, int digits)
{
    if (isfinite(v))
        put(j, "%.*g", digits, v);
    else
        put(j, "null");
}

void dw_json_num(dw_json *j, const char *key, double v, int digits)
{
    member(j, key);
    put_num(j, v, digits);
}

void dw_json_nums(dw_json *j, const char *key, const double *v, int n, int digits)
{
    member(j, key);
    put(j, "[");
    for (int i = 0; i < n; i++) {
        if (i) put(j, ",");
        put_num(j, v[i], digits);
    }
    put(j, "]");
}

int dw_json_end(dw_json *j)
{
    put(j, "}");
    return j->overflow ? -1 : 0;
}

/* ---- reader ---- */

typedef struct {
    const char *s;
    size_t n, i;
    int depth;
} rd;

static void ws(rd *r)
{
    while (r->i < r->n &&
           (r->s[r->i] == ' ' || r->s[r->i] == '\t' || r->s[r->i] == '\n' || r->s[r->i] == '\r'))
        r->i++;
}

static int hex4(rd *r, unsigned *out)
{
    if (r->n - r->i < 4) return -1;
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = r->s[r->i++];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static void emit(char *out, size_t n, size_t *k, unsigned cp)
{
    char b[4];
    int m;
    if (cp < 0x80) {
        b[0] = (char)cp;
        m = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3f));
        m = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | cp >> 12);
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        m = 3;
    } else {
        b[0] = (char)(0xf0 | cp >> 18);
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        m = 4;
    }
    if (!out || *k + (size_t)m >= n) return; /* cut, never a partial character */
    memcpy(out + *k, b, (size_t)m);
    *k += (size_t)m;
}

/* A string at r->i (the opening quote); unescaped into out (may be NULL: skipped). 0 or -1. */
static int string(rd *r, char *out, size_t n)
{
    size_t k = 0;
    if (r->i >= r->n || r->s[r->i] != '"') return -1;
    r->i++;
    while (r->i < r->n) {
        unsigned char c = (unsigned char)r->s[r->i++];
        if (c == '"') {
            if (out && n) out[k] = 0;
            return 0;
        }
        if (c < 0x20) return -1;
        if (c != '\\') {
            if (out && k + 1 < n) out[k++] = (char)c;
            continue;
        }
        if (r->i >= r->n) return -1;
        char e = r->s[r->i++];
        unsigned cp;
        switch (e) {
        case '"':
        case '\\':
        case '/': cp = (unsigned)e; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            if (hex4(r, &cp) < 0) return -1;
            if (cp >= 0xd800 && cp < 0xdc00) { /* high surrogate: a low one must follow */
                unsigned lo;
                if (r->n - r->i < 6 || r->s[r->i] != '\\' || r->s[r->i + 1] != 'u') return -1;
                r->i += 2;
                if (hex4(r, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff) return -1;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp < 0xe000) {
                return -1;
            }
            if (cp == 0) return -1; /* no NUL inside our strings */
            break;
        default: return -1;
        }
        emit(out, n, &k, cp);
    }
    return -1;
}

static int number(rd *r, double *out)
{
    size_t b = r->i;
    if (r->i < r->n && r->s[r->i] == '-') r->i++;
    if (r->i >= r->n) return -1;
    if (r->s[r->i] == '0')
        r->i++;
    else if (r->s[r->i] >= '1' && r->s[r->i] <= '9')
        while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9') r->i++;
    else
        return -1;
    if (r->i < r->n && r->s[r->i] == '.') {
        r->i++;
        size_t d = r->i;
        while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9') r->i++;
        if (r->i == d) return -1;
    }
    if (r->i < r->n && (r->s[r->i] == 'e' || r->s[r->i] == 'E')) {
        r->i++;
        if (r->i < r->n && (r->s[r->i] == '+' || r->s[r->i] == '-')) r->i++;
        size_t d = r->i;
        while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9') r->i++;
        if (r->i == d) return -1;
    }
    if (out) {
        char tmp[64];
        size_t len = r->i - b;
        if (len >= sizeof tmp) {
            *out = strtod("inf", NULL);
            return 0;
        } /* absurd length: not finite */
        memcpy(tmp, r->s + b, len);
        tmp[len] = 0;
        *out = strtod(tmp, NULL);
    }
    return 0;
}

static int literal(rd *r, const char *w)
{
    size_t l = strlen(w);
    if (r->n - r->i < l || memcmp(r->s + r->i, w, l)) return -1;
    r->i += l;
    return 0;
}

static int value(rd *r);

static int container(rd *r, char close)
{
    if (++r->depth > 16) return -1;
    r->i++;
    ws(r);
    if (r->i < r->n && r->s[r->i] == close) {
        r->i++;
        r->depth--;
        return 0;
    }
    for (;;) {
        ws(r);
        if (close == '}') {
            if (string(r, NULL, 0) < 0) return -1;
            ws(r);
            if (r->i >= r->n || r->s[r->i] != ':') return -1;
            r->i++;
            ws(r);
        }
        if (value(r) < 0) return -1;
        ws(r);
        if (r->i >= r->n) return -1;
        if (r->s[r->i] == ',') {
            r->i++;
            continue;
        }
        if (r->s[r->i] == close) {
            r->i++;
            r->depth--;
            return 0;
        }
        return -1;
    }
}

static int value(rd *r)
{
    if (r->i >= r->n) return -1;
    switch (r->s[r->i]) {
    case '"': return string(r, NULL, 0);
    case '{': return container(r, '}');
    case '[': return container(r, ']');
    case 't': return literal(r, "true");
    case 'f': return literal(r, "false");
    case 'n': return literal(r, "null");
    default: return number(r, NULL);
    }
}

int dw_json_check(const char *doc, size_t len, size_t *bad_at)
{
    rd r = { doc, len > DW_JSON_MAX ? DW_JSON_MAX : len, 0, 0 };
    ws(&r);
    if (len > DW_JSON_MAX || r.i >= r.n || doc[r.i] != '{' || container(&r, '}') < 0) {
        if (bad_at) *bad_at = r.i;
        return -1;
    }
    ws(&r);
    if (r.i != r.n) {
        if (bad_at) *bad_at = r.i;
        return -1;
    }
    return 0;
}

/* Position r at the value of top-level member key. 1 found, 0 absent, -1 malformed. */
static int seek_key(rd *r, const char *key, size_t *bad_at)
{
    if (dw_json_check(r->s, r->n, bad_at) < 0) return -1;
    ws(r);
    r->i++;
    for (;;) {
        ws(r);
        if (r->s[r->i] == '}') return 0;
        char name[64];
        size_t at = r->i;
        if (string(r, name, sizeof name) < 0) return -1;
        int match =
            strlen(key) < sizeof name - 1 && !strcmp(name, key) && r->i - at - 2 == strlen(key);
        ws(r);
        r->i++; /* ':' (checked above) */
        ws(r);
        if (match) return 1;
        if (value(r) < 0) return -1;
        ws(r);
        if (r->s[r->i] == ',') r->i++;
    }
}

int dw_json_get_str(const char *doc, size_t len, const char *key, char *out, size_t n)
{
    rd r = { doc, len, 0, 0 };
    int f = seek_key(&r, key, NULL);
    if (f <= 0) return f;
    if (r.s[r.i] != '"') return 0;
    return string(&r, out, n) < 0 ? -1 : 1;
}

int dw_json_get_num(const char *doc, size_t len, const char *key, double *out)
{
    rd r = { doc, len, 0, 0 };
    int f = seek_key(&r, key, NULL);
    if (f <= 0) return f;
    char c = r.s[r.i];
    if (c != '-' && (c < '0' || c > '9')) return 0;
    return number(&r, out) < 0 ? -1 : 1;
}

int dw_json_get_bool(const char *doc, size_t len, const char *key, int *out)
{
    rd r = { doc, len, 0, 0 };
    int f = seek_key(&r, key, NULL);
    if (f <= 0) return f;
    if (literal(&r, "true") == 0) {
        *out = 1;
        return 1;
    }
    if (literal(&r, "false") == 0) {
        *out = 0;
        return 1;
    }
    return 0;
}

int dw_json_get_nums(const char *doc, size_t len, const char *key, double *out, int max, int *count)
{
    rd r = { doc, len, 0, 0 };
    int f = seek_key(&r, key, NULL);
    *count = 0;
    if (f <= 0) return f;
    if (r.s[r.i] != '[') return 0;
    r.i++;
    for (;;) {
        ws(&r);
        if (r.s[r.i] == ']') return 1;
        double v = 0;
        if (literal(&r, "null") == 0)
            v = strtod("nan", NULL);
        else if (number(&r, &v) < 0)
            return 0; /* not an array of numbers */
        if (*count < max) out[*count] = v;
        (*count)++;
        ws(&r);
        if (r.s[r.i] == ',') r.i++;
    }
}
