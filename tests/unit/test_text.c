/* Text from files made safe (base/text.c) and inputs opened safely (base/files.c): escaping for messages,
 * the bounded line reader, what dw_input_open and dw_input_read_all take and refuse. Real files, a real
 * FIFO, a real pipe. */
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/dw.h"
#include "base/files.h"
#include "base/text.h"

static char dir[64];

static void test_escape(void)
{
    char out[256];
    dw_escape_str("plain text, 25 \xc2\xb5V, \xe2\x80\x94 ok", out, sizeof out);
    CHECK("escape: printable ASCII and well-formed UTF-8 stay", !strcmp(out, "plain text, 25 \xc2\xb5V, \xe2\x80\x94 ok"),
          "%s", out);
    dw_escape_str("a\x1b]0;title\x07\x1b[31mred\r\n", out, sizeof out);
    CHECK("escape: ESC, BEL, CR, LF become \\xNN", !strcmp(out, "a\\x1b]0;title\\x07\\x1b[31mred\\x0d\\x0a"), "%s", out);
    dw_escape_str("csi \xc2\x9b" "31m, raw \x9b, bad \xff\xfe, cut \xe2\x80", out, sizeof out);
    CHECK("escape: C1 controls (U+009B), stray and cut UTF-8 bytes escaped",
          !strcmp(out, "csi \\xc2\\x9b31m, raw \\x9b, bad \\xff\\xfe, cut \\xe2\\x80"), "%s", out);
    char twice[256];
    dw_escape_str(out, twice, sizeof twice);
    CHECK("escape: escaping twice changes nothing (messages nest)", !strcmp(out, twice), "%s", twice);
    dw_escape("a\0b", 3, out, sizeof out);
    CHECK("escape: a NUL inside is shown", !strcmp(out, "a\\x00b"), "%s", out);
    char small[8];
    size_t n = dw_escape_str("abcd\x1b", small, sizeof small);
    CHECK("escape: a sequence that does not fit is dropped whole", n == 4 && !strcmp(small, "abcd"), "%zu %s", n, small);
    dw_err e;
    dw_err_set(&e, "file.ini:3: [%s] %s: unknown key", "display", "\x1b[2J");
    CHECK("escape: dw_err_set escapes what it is given", !strcmp(e.msg, "file.ini:3: [display] \\x1b[2J: unknown key"),
          "%s", e.msg);
}

static void test_getline(void)
{
    static char big[1 << 20];
    memset(big, 'a', sizeof big);
    FILE *f = fmemopen(big, sizeof big, "r");
    char *buf = NULL;
    size_t cap = 0;
    long r = dw_getline_max(f, &buf, &cap, 65536);
    CHECK("getline: a 1-MB line with no newline stops at the bound, memory bounded", r == DW_LINE_LONG &&
          cap <= 65536 + 2 && ftell(f) <= 65537, "r %ld cap %zu at %ld", r, cap, ftell(f));
    fclose(f);
    static char text[] = "one\r\ntwo\n\nth\0ree\nlast";
    f = fmemopen(text, sizeof text - 1, "r");
    long a = dw_getline_max(f, &buf, &cap, 100), b0 = buf ? (long)strcmp(buf, "one") : -1;
    long b = dw_getline_max(f, &buf, &cap, 100), b1 = strcmp(buf, "two");
    long c = dw_getline_max(f, &buf, &cap, 100);
    long d = dw_getline_max(f, &buf, &cap, 100), d1 = memcmp(buf, "th\0ree", 6);
    long e = dw_getline_max(f, &buf, &cap, 100), e1 = strcmp(buf, "last");
    long z = dw_getline_max(f, &buf, &cap, 100);
    CHECK("getline: CRLF, empty line, a NUL kept inside, last line without newline, then end",
          a == 3 && !b0 && b == 3 && !b1 && c == 0 && d == 6 && !d1 && e == 4 && !e1 && z == DW_LINE_EOF,
          "%ld %ld %ld %ld %ld %ld", a, b, c, d, e, z);
    fclose(f);
    static char mac[] = "a\rb\r\rc\r\nd\r";       /* lone CR, empty line, CRLF, a CR at the end */
    f = fmemopen(mac, sizeof mac - 1, "r");
    long m[6], off = 0;
    int ok = 1;
    static const char *const want[] = { "a", "b", "", "c", "d" };
    for (int i = 0; i < 6; i++) {
        m[i] = dw_getline_max(f, &buf, &cap, 100);
        ok &= i < 5 ? m[i] >= 0 && !strcmp(buf, want[i]) : m[i] == DW_LINE_EOF;
        if (i == 1)
            off = ftell(f);               /* after "b\r", the next CR pushed back */
    }
    CHECK("getline: a lone CR ends a line, CRLF one end not two, ftell after the look-ahead",
          ok && off == 4, "%ld %ld %ld %ld %ld %ld off %ld", m[0], m[1], m[2], m[3], m[4], m[5],
          off);
    fclose(f);
    free(buf);
}

static void test_inputs(void)
{
    char fifo[96], file[96], sub[96];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    snprintf(file, sizeof file, "%s/file.ini", dir);
    snprintf(sub, sizeof sub, "%s/sub", dir);
    mkfifo(fifo, 0600);
    mkdir(sub, 0700);
    FILE *w = fopen(file, "w");
    fputs("[display]\nfps = 2\n", w);
    fclose(w);
    const char *bad[] = { fifo, sub, "/dev/zero", "/dev/urandom" };
    const char *kind[] = { "a FIFO", "a directory", "a character device", "a character device" };
    for (int i = 0; i < 4; i++) {
        dw_err e = { 0 };
        double t0 = dw_now_mono();
        int fd = dw_input_open(bad[i], "model", &e);
        char name[160], *data = NULL;
        size_t n;
        int r = dw_input_read_all(bad[i], "configuration", 1 << 20, 10, &data, &n, &e);
        snprintf(name, sizeof name, "input: %s is refused at once, naming it (%s)", kind[i], bad[i]);
        CHECK(name, fd < 0 && r < 0 && strstr(e.msg, bad[i]) && strstr(e.msg, kind[i]) && dw_now_mono() - t0 < 0.5,
              "fd %d r %d: %s", fd, r, e.msg);
        if (fd >= 0)
            close(fd);
        free(data);
    }
    dw_err e = { 0 };
    int fd = dw_input_open(file, "configuration", &e);
    CHECK("input: a regular file opens, blocking again", fd >= 0 && !(fcntl(fd, F_GETFL) & O_NONBLOCK), "%s", e.msg);
    if (fd >= 0)
        close(fd);
    /* a shell's <(...): an anonymous pipe whose writer is still writing */
    int p[2];
    if (pipe(p) == 0) {
        pid_t pid = fork();
        if (pid == 0) {
            close(p[0]);
            usleep(200 * 1000);
            if (write(p[1], "[display]\n", 10) < 0 || (usleep(100 * 1000), write(p[1], "fps = 3\n", 8)) < 0)
                _exit(1);
            _exit(0);
        }
        close(p[1]);
        char path[64], *data = NULL;
        size_t n = 0;
        snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
        int r = dw_input_read_all(path, "configuration", 1 << 20, 10, &data, &n, &e);
        CHECK("input: an anonymous pipe (<(...)) is read whole, once", r == 0 && n == 18 && data &&
              !strcmp(data, "[display]\nfps = 3\n"), "r %d n %zu: %s", r, n, r ? e.msg : data);
        free(data);
        close(p[0]);
        waitpid(pid, NULL, 0);
    }
    unlink(fifo);
    unlink(file);
    rmdir(sub);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/dw-text-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    test_escape();
    test_getline();
    test_inputs();
    rmdir(dir);
    TAP_DONE();
}
