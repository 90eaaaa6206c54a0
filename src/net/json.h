/* Small JSON documents for the broker (RFC 8259): a writer into a fixed buffer and a reader of one
 * object's top-level members. Messages on the broker are flat objects whose values are strings,
 * numbers, booleans or arrays that the reader skips or reads as numbers; nothing nests deeper than
 * we read. */
#ifndef DW_JSON_H
#define DW_JSON_H

#include <stddef.h>

#define DW_JSON_MAX 8192 /* the largest document we write or accept (bytes) */

typedef struct {
    char buf[DW_JSON_MAX];
    size_t len;
    int n;        /* members written so far */
    int overflow; /* the document did not fit: do not send it */
} dw_json;

/* "{" ... "}". Members: a string (escaped: quote, backslash, control characters as \uXXXX), a
 * number (printed with %.*g, digits significant; a NaN or infinity is written as null), an integer,
 * a boolean, an array of numbers, or raw JSON the caller made. */
void dw_json_begin(dw_json *j);
void dw_json_str(dw_json *j, const char *key, const char *val);
void dw_json_num(dw_json *j, const char *key, double v, int digits);
void dw_json_int(dw_json *j, const char *key, long long v);
void dw_json_bool(dw_json *j, const char *key, int v);
void dw_json_nums(dw_json *j, const char *key, const double *v, int n, int digits);
void dw_json_raw(dw_json *j, const char *key, const char *raw);
/* Closes the object. 0, or -1 if the document overflowed DW_JSON_MAX. */
int dw_json_end(dw_json *j);

/* Reading: one object, at most DW_JSON_MAX bytes, not NUL-terminated. Each call scans the document
 * again (documents are small). Returns 1 when key is a top-level member of that type, 0 when absent
 * or of another type, -1 when the document is not a well-formed object (the first error's byte
 * offset goes to *bad_at when bad_at is not NULL). Strings are unescaped (\uXXXX to UTF-8, a
 * surrogate pair joined); a string longer than n-1 bytes is cut. */
int dw_json_get_str(const char *doc, size_t len, const char *key, char *out, size_t n);
int dw_json_get_num(const char *doc, size_t len, const char *key, double *out);
int dw_json_get_bool(const char *doc, size_t len, const char *key, int *out);
/* An array of numbers: up to max read into out; *count how many the array held. */
int dw_json_get_nums(const char *doc, size_t len, const char *key, double *out, int max,
                     int *count);
/* 0 if doc is one well-formed JSON object (nothing but white space after it), else -1 and the
 * offset. */
int dw_json_check(const char *doc, size_t len, size_t *bad_at);

#endif
