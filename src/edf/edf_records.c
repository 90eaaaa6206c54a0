/* Samples from whole data records (see edf_records.h). */
#include "edf/edf_records.h"

#include "base/dw.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Records read per pread: about 128 KB, at least one record. Measured (CPU time to read every
 * staged sample of an 8-h 16-channel 125-Hz BDF+ from the page cache, best of 3 x 7, issue 16):
 * 1 MB 0.083-0.089 s, 256 KB 0.064, 128 KB 0.057-0.062, 64 KB 0.058-0.060, 32 KB 0.059-0.067; of
 * the 2-channel EDF+ 0.023 s at 1 MB, 0.016 at 128 KB. A stretch that still sits in the L2 cache
 * when it is decoded; larger preads only add misses. posix_fadvise(SEQUENTIAL) (0.038 s against
 * 0.035 for the bare 1-MB preads) and a pread per record of only the staged channels' bytes and the
 * annotation signal (0.038 s: two calls a record) gained nothing. */
#define CACHE_BYTES (1 << 17)

typedef struct {
    long long off;                 /* byte offset of the signal in a record */
    long long spr;                 /* samples per record */
    int    dmin, dmax;             /* digital range: EDFlib 1.23 clamps stored values to it */
    double bitvalue, offset;       /* physical = bitvalue * (offset + digital), as in EDFlib */
} rec_signal;

struct dw_edf_records {
    int    fd;
    int    bytes;                  /* per sample: 2 (EDF) or 3 (BDF) */
    int    nsig;
    long long hdr_bytes, rec_bytes, nrec;
    rec_signal *sig;               /* EDFlib's signals, in its numbering */
    unsigned char *buf;            /* records c0 .. c0 + cn - 1 */
    long long c0, cn, cap;         /* cap: records buf holds */
    long long ann_off;             /* EDF+/BDF+: the first annotation signal in a record, or -1 */
    int    ann_bytes;              /* and its bytes */
    long long dur, t0;             /* record duration and record 0's start, 100 ns units */
    char   why[320];               /* what is wrong with the records read last, or "" */
};

/* A space-padded decimal field of the header; -1 if it is not one. */
static long long field(const unsigned char *h, size_t len)
{
    long long v = 0;
    size_t i = 0;
    while (i < len && h[i] == ' ')
        i++;
    if (i == len)
        return -1;
    for (; i < len && h[i] >= '0' && h[i] <= '9'; i++)
        if ((v = v * 10 + (h[i] - '0')) > 1000000000LL)
            return -1;
    for (; i < len; i++)
        if (h[i] != ' ')
            return -1;
    return v;
}

/* Where each EDFlib signal lies in a record, from the header on fd, checked against what EDFlib
 * read from it: the same signals in the same order (annotation signals of EDF+/BDF+ left out, as
 * EDFlib does), the same labels and samples per record. 0, or -1 when anything differs. */
static int layout(dw_edf_records *r, const struct edf_hdr_struct *h)
{
    unsigned char fixed[256];
    if (pread(r->fd, fixed, sizeof fixed, 0) != (ssize_t)sizeof fixed)
        return -1;
    long long ns = field(fixed + 252, 4);
    if (ns < 1 || ns > EDFLIB_MAXSIGNALS || field(fixed + 184, 8) != 256 * (ns + 1))
        return -1;
    r->hdr_bytes = 256 * (ns + 1);
    unsigned char *sh = malloc((size_t)ns * 256);
    if (!sh || pread(r->fd, sh, (size_t)ns * 256, 256) != (ssize_t)ns * 256) {
        free(sh);
        return -1;
    }
    int plus = h->filetype == EDFLIB_FILETYPE_EDFPLUS || h->filetype == EDFLIB_FILETYPE_BDFPLUS;
    const char *annot = r->bytes == 3 ? "BDF Annotations " : "EDF Annotations ";
    long long at = 0;
    int k = 0, rc = 0;
    r->ann_off = -1;
    for (int i = 0; i < ns && !rc; i++) {
        const unsigned char *label = sh + 16 * i;
        long long spr = field(sh + 216 * ns + 8 * i, 8);
        if (spr < 1) {
            rc = -1;
        } else if (plus && !memcmp(label, annot, 16)) {
            if (r->ann_off < 0)
                r->ann_off = at, r->ann_bytes = (int)(spr * r->bytes);
        } else {
            const struct edf_param_struct *p = k < h->edfsignals ? &h->signalparam[k] : NULL;
            if (!p || memcmp(p->label, label, 16) || p->smp_in_datarecord != spr ||
                p->dig_max <= p->dig_min) {
                rc = -1;
            } else {
                rec_signal *s = &r->sig[k++];
                s->off = at;
                s->spr = spr;
                s->dmin = p->dig_min;
                s->dmax = p->dig_max;
                s->bitvalue = (p->phys_max - p->phys_min) / (p->dig_max - p->dig_min);
                s->offset = p->phys_max / s->bitvalue - p->dig_max;
            }
        }
        at += spr * r->bytes;
    }
    free(sh);
    r->rec_bytes = at;
    return rc || k != h->edfsignals ? -1 : 0;
}

int dw_edf_tal_onset(const unsigned char *a, int n, long long *t)
{
    long long sec = 0, frac = 0, scale = EDFLIB_TIME_DIMENSION;
    int i = 1, digits = 0, decimals = -1;
    if (n < 4 || (a[0] != '+' && a[0] != '-'))
        return -1;
    for (; i < n && a[i] != 0x14; i++) {
        if (a[i] == '.' && decimals < 0 && digits)
            decimals = 0;
        else if (a[i] < '0' || a[i] > '9' || (decimals < 0 && sec >= 10000000000LL)) /* 300 years */
            return -1;
        else if (decimals >= 0)
            frac += (a[i] - '0') * (scale /= 10), decimals++;
        else
            sec = sec * 10 + (a[i] - '0'), digits++;
    }
    if (!digits || !decimals || i + 1 >= n || a[i + 1] != 0x14)
        return -1;
    *t = (a[0] == '-' ? -1 : 1) * (sec * EDFLIB_TIME_DIMENSION + frac);
    return i;
}

int dw_edf_time_keeping(const unsigned char *a, int n, const dw_edf_tk_place *p, long long *t,
                        char *why, size_t why_cap)
{
    const char *f = p->bdf ? "BDF+" : "EDF+";
    int len = dw_edf_tal_onset(a, n, t);
    double on = len < 0 ? 0 : (double)*t / EDFLIB_TIME_DIMENSION;
    double end = (double)p->prev_end / EDFLIB_TIME_DIMENSION;
    if (len < 0)
        snprintf(why, why_cap, "data record %lld (byte %lld): no time-keeping annotation "
                 "(\"+seconds\\x14\\x14\") at the start of its \"%s\" signal", p->rec + 1,
                 p->at, p->bdf ? "BDF Annotations" : "EDF Annotations");
    else if (p->rec == 0 && (*t < 0 || *t >= EDFLIB_TIME_DIMENSION))
        snprintf(why, why_cap, "data record 1 (byte %lld) starts at %.7g s, not 0 to under 1 s: in "
                 "%s, record 1 starts within a second of the header's start time", p->at, on, f);
    else if (p->rec > 0 && p->continuous && *t != p->prev_end)
        snprintf(why, why_cap, "data record %lld (byte %lld) starts at %.7g s, not %.7g s: each "
                 "record of a continuous (%sC) file starts one record duration after the one "
                 "before", p->rec + 1, p->at, on, end, f);
    else if (p->rec > 0 && !p->continuous && *t < p->prev_end)
        snprintf(why, why_cap, "data record %lld (byte %lld) starts at %.7g s, before data "
                 "record %lld ends (%.7g s): the records of a discontinuous (%sD) file never "
                 "overlap or go backwards", p->rec + 1, p->at, on, p->rec, end, f);
    else
        return len;
    return -1;
}

/* Record rec's time-keeping onset from n bytes a of its annotation signal: 0, or -1 with r->why. */
static int check_onset(dw_edf_records *r, long long rec, const unsigned char *a, int n,
                       long long *t)
{
    const dw_edf_tk_place p = { rec, r->hdr_bytes + rec * r->rec_bytes + r->ann_off,
                                r->t0 + rec * r->dur, 1, r->bytes == 3 };
    return dw_edf_time_keeping(a, n, &p, t, r->why, sizeof r->why) < 0 ? -1 : 0;
}

/* The time-keeping onset of record rec, read on its own. */
static int read_onset(dw_edf_records *r, long long rec, long long *t)
{
    unsigned char a[256];         /* an onset is far shorter */
    int n = r->ann_bytes < (int)sizeof a ? r->ann_bytes : (int)sizeof a;
    off_t at = (off_t)(r->hdr_bytes + rec * r->rec_bytes + r->ann_off);
    if (pread(r->fd, a, (size_t)n, at) != n) {
        snprintf(r->why, sizeof r->why, "read error in data record %lld", rec + 1);
        return -1;
    }
    return check_onset(r, rec, a, n, t);
}

dw_edf_records *dw_edf_records_new(int fd, const struct edf_hdr_struct *h, char *why,
                                   size_t why_cap)
{
    if (why_cap)
        why[0] = 0;
    if (fd < 0 || h->edfsignals < 1 || h->edfsignals > EDFLIB_MAXSIGNALS ||
        h->datarecords_in_file < 1)
        return NULL;
    dw_edf_records *r = calloc(1, sizeof *r);
    if (!r || !(r->sig = calloc((size_t)h->edfsignals, sizeof *r->sig))) {
        free(r);
        return NULL;
    }
    r->fd = fd;
    r->nsig = h->edfsignals;
    r->nrec = h->datarecords_in_file;
    r->bytes = h->filetype == EDFLIB_FILETYPE_BDF || h->filetype == EDFLIB_FILETYPE_BDFPLUS ? 3 : 2;
    struct stat st;
    if (layout(r, h) || fstat(fd, &st) || st.st_size < r->hdr_bytes + r->nrec * r->rec_bytes) {
        dw_edf_records_free(r);
        return NULL;
    }
    /* EDF+/BDF+: record 0 starts within the first second and the last one where the records,
     * following one another, put it; every record in between is checked as it is read. */
    long long t;
    r->dur = h->datarecord_duration;
    r->t0 = 0;
    if (r->ann_off >= 0 && (read_onset(r, 0, &r->t0) || read_onset(r, r->nrec - 1, &t))) {
        if (why_cap)
            snprintf(why, why_cap, "%s", r->why);
        dw_edf_records_free(r);
        return NULL;
    }
    r->cap = CACHE_BYTES / r->rec_bytes > 1 ? CACHE_BYTES / r->rec_bytes : 1;
    if (r->cap > r->nrec)
        r->cap = r->nrec;
    if (!(r->buf = malloc((size_t)(r->cap * r->rec_bytes)))) {
        dw_edf_records_free(r);
        return NULL;
    }
    return r;
}

void dw_edf_records_free(dw_edf_records *r)
{
    if (!r)
        return;
    free(r->sig);
    free(r->buf);
    free(r);
}

/* Brings record rec into the buffer (with the ones after it). 0, or -1 with errno. */
static int load(dw_edf_records *r, long long rec)
{
    if (rec >= r->c0 && rec < r->c0 + r->cn)
        return 0;
    long long cn = r->nrec - rec < r->cap ? r->nrec - rec : r->cap;
    size_t want = (size_t)(cn * r->rec_bytes), got = 0;
    off_t at = (off_t)(r->hdr_bytes + rec * r->rec_bytes);
    r->cn = 0;
    while (got < want) {
        ssize_t k = pread(r->fd, r->buf + got, want - got, at + (off_t)got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            if (k == 0)
                errno = EIO;       /* the file is shorter than when it was opened */
            snprintf(r->why, sizeof r->why, "read error in data records %lld-%lld: %s", rec + 1,
                     rec + cn, strerror(errno));
            return -1;
        }
        got += (size_t)k;
    }
    for (long long i = 0; i < cn && r->ann_off >= 0; i++) {
        long long t;
        if (check_onset(r, rec + i, r->buf + i * r->rec_bytes + r->ann_off, r->ann_bytes, &t))
            return errno = EILSEQ, -1;
    }
    r->c0 = rec;
    r->cn = cn;
    return 0;
}

const char *dw_edf_records_why(const dw_edf_records *r)
{
    return r->why;
}

long long dw_edf_records_start(const dw_edf_records *r)
{
    return r->ann_off >= 0 ? r->t0 : 0;
}

#if defined(__x86_64__) && defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#include <immintrin.h>
/* The 16-bit case four values to an instruction on CPUs with AVX (dw_cpu_avx): each value through
 * the same operations as decode's (exact conversion, the clamp, then off +, bv *, scale *), so
 * the same bits (test_edf_records reads files both ways). Returns the values
 * done (a multiple of 4); decode does the rest. */
__attribute__((target("avx"))) static int decode16_avx(const unsigned char *b, int n, double bv,
                                                       double off, double scale, int lo, int hi,
                                                       int clamp, double *out)
{
    const __m256d vbv = _mm256_set1_pd(bv), voff = _mm256_set1_pd(off),
                  vsc = _mm256_set1_pd(scale), vlo = _mm256_set1_pd(lo), vhi = _mm256_set1_pd(hi);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        __m128i q = _mm_loadl_epi64((const __m128i *)(const void *)(b + 2 * i));
        __m256d d = _mm256_cvtepi32_pd(_mm_cvtepi16_epi32(q));
        if (clamp)            /* d < lo ? lo : d > hi ? hi : d, the same as lo < hi (open checks) */
            d = _mm256_max_pd(vlo, _mm256_min_pd(d, vhi));
        __m256d y = _mm256_mul_pd(vsc, _mm256_mul_pd(vbv, _mm256_add_pd(voff, d)));
        _mm256_storeu_pd(out + i, y);
    }
    return i;
}
#define DECODE16_AVX 1
#else
#define DECODE16_AVX 0
#endif

/* n stored values from b on (two's complement, little-endian) to physical units times scale. The
 * clamp to the digital range is skipped when that range is the format's whole range (then it cannot
 * bite). */
static void decode(const rec_signal *s, int bytes, const unsigned char *b, int n, double scale,
                   double *out)
{
    const double bv = s->bitvalue, off = s->offset;
    const int lo = s->dmin, hi = s->dmax;
#if DECODE16_AVX
    if (bytes == 2 && dw_cpu_avx()) {          /* dw_simd_allow(0): one at a time */
        int done = decode16_avx(b, n, bv, off, scale, lo, hi, !(lo <= -32768 && hi >= 32767), out);
        b += 2 * done;
        out += done;
        n -= done;
    }
#endif
    if (bytes == 2 && lo <= -32768 && hi >= 32767) {
        for (int i = 0; i < n; i++, b += 2) {
            int d = (int)((unsigned)(b[0] | b[1] << 8) ^ 0x8000u) - 0x8000;
            out[i] = scale * (bv * (off + (double)d));
        }
    } else if (bytes == 2) {
        for (int i = 0; i < n; i++, b += 2) {
            int d = (int)((unsigned)(b[0] | b[1] << 8) ^ 0x8000u) - 0x8000;
            d = d < lo ? lo : d > hi ? hi : d;
            out[i] = scale * (bv * (off + (double)d));
        }
    } else if (lo <= -8388608 && hi >= 8388607) {
        for (int i = 0; i < n; i++, b += 3) {
            int d = (int)((unsigned)(b[0] | b[1] << 8 | b[2] << 16) ^ 0x800000u) - 0x800000;
            out[i] = scale * (bv * (off + (double)d));
        }
    } else {
        for (int i = 0; i < n; i++, b += 3) {
            int d = (int)((unsigned)(b[0] | b[1] << 8 | b[2] << 16) ^ 0x800000u) - 0x800000;
            d = d < lo ? lo : d > hi ? hi : d;
            out[i] = scale * (bv * (off + (double)d));
        }
    }
}

int dw_edf_records_read(dw_edf_records *r, int sig, long long first, int n, double scale,
                        double *out)
{
    if (sig < 0 || sig >= r->nsig || first < 0 || n < 0)
        return errno = EINVAL, -1;
    const rec_signal *s = &r->sig[sig];
    long long end = r->nrec * s->spr;
    if (first >= end)
        return 0;
    if (n > end - first)
        n = (int)(end - first);
    int done = 0;
    while (done < n) {
        long long j = first + done, rec = j / s->spr, pos = j % s->spr;
        if (load(r, rec))
            return -1;
        int k = s->spr - pos < n - done ? (int)(s->spr - pos) : n - done;
        const unsigned char *b = r->buf + (rec - r->c0) * r->rec_bytes + s->off + pos * r->bytes;
        decode(s, r->bytes, b, k, scale, out + done);
        done += k;
    }
    return done;
}
