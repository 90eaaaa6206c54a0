/* The net layer without a broker: JSON documents (checked against Python's json module), broker
 * URLs and topics, the credentials file's mode, the station command guard (wrong bed, stale,
 * replayed), the attach frames applied to a real monitor, and the ward model's order of attention.
 * The broker itself is tested end to end in tests/e2e/ward_broker.sh. */
#include "net/broker.h"
#include "net/command.h"
#include "net/json.h"
#include "net/snap.h"
#include "net/ward.h"
#include "net/wire.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* Python parses doc and says "same" when key's value equals want. */
static int py_same(const char *doc, const char *key, const char *want, char *out, size_t n)
{
    int fd[2];
    if (access("/usr/bin/python3", X_OK) || pipe(fd)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        char *argv[] = { "python3",
                         "-c",
                         "import json,sys; v = json.loads(sys.argv[1])[sys.argv[2]]; "
                         "print('same' if v == sys.argv[3] else ascii(v))",
                         (char *)doc,
                         (char *)key,
                         (char *)want,
                         NULL };
        char *envp[] = { "PYTHONIOENCODING=utf-8", NULL };
        execve("/usr/bin/python3", argv, envp);
        _exit(127);
    }
    close(fd[1]);
    ssize_t r = read(fd[0], out, n - 1);
    close(fd[0]);
    int st;
    waitpid(pid, &st, 0);
    if (r <= 0 || !WIFEXITED(st) || WEXITSTATUS(st)) return -1;
    out[r] = 0;
    out[strcspn(out, "\n")] = 0;
    return 0;
}

static void test_json(void)
{
    dw_json j;
    const char *nasty = "quote\" back\\ tab\t nl\n bell\x07 é";
    dw_json_begin(&j);
    dw_json_str(&j, "s", nasty);
    dw_json_num(&j, "x", 0.1 + 0.2, 17);
    dw_json_int(&j, "i", -42);
    dw_json_bool(&j, "b", 1);
    double v[3] = { 1.5, NAN, -2 };
    dw_json_nums(&j, "a", v, 3, 6);
    CHECK("json: a document is written", dw_json_end(&j) == 0, "overflow");
    char got[256];
    if (py_same(j.buf, "s", nasty, got, sizeof got) == 0)
        CHECK("json: Python reads our escaped string back exactly", !strcmp(got, "same"), "%s",
              got);
    else
        SKIP("json: Python cross-check", "/usr/bin/python3 did not run");
    dw_json l1;
    dw_json_begin(&l1);
    dw_json_str(&l1, "s", "Fp1 \xb5V \xed\xa0\x80 ok \xc3");
    dw_json_end(&l1);
    char want[] = "Fp1 \xef\xbf\xbdV \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd ok \xef\xbf\xbd";
    if (py_same(l1.buf, "s", want, got, sizeof got) == 0)
        CHECK("json: bytes that are not UTF-8 become U+FFFD (valid JSON for Python)", !strcmp(got, "same"),
              "%s", got);
    char s[128];
    CHECK("json: we read our escaped string back",
          dw_json_get_str(j.buf, j.len, "s", s, sizeof s) == 1 && !strcmp(s, nasty), "%s", s);
    double x = 0, a[3];
    int b = 0, k = 0;
    CHECK("json: numbers round-trip with 17 digits",
          dw_json_get_num(j.buf, j.len, "x", &x) == 1 && x == 0.1 + 0.2, "%.17g", x);
    CHECK("json: booleans", dw_json_get_bool(j.buf, j.len, "b", &b) == 1 && b == 1, "%d", b);
    CHECK("json: an array of numbers, NaN written as null",
          dw_json_get_nums(j.buf, j.len, "a", a, 3, &k) == 1 && k == 3 && a[0] == 1.5 &&
              isnan(a[1]) && a[2] == -2,
          "k=%d", k);
    CHECK("json: a member of another type is absent", dw_json_get_num(j.buf, j.len, "s", &x) == 0,
          "%s", "");
    CHECK("json: a missing member is absent", dw_json_get_str(j.buf, j.len, "zz", s, sizeof s) == 0,
          "%s", "");
    const char *u = "{\"k\":\"\\ud83d\\ude00 \\u00e9\"}";
    CHECK("json: \\u escapes and surrogate pairs become UTF-8",
          dw_json_get_str(u, strlen(u), "k", s, sizeof s) == 1 &&
              !strcmp(s, "\xf0\x9f\x98\x80 \xc3\xa9"),
          "%s", s);
    const char *nested = "{\"o\":{\"k\":[1,{\"x\":2}]},\"k\":\"top\"}";
    CHECK("json: nested members are skipped, the top-level one is found",
          dw_json_get_str(nested, strlen(nested), "k", s, sizeof s) == 1 && !strcmp(s, "top"), "%s",
          s);
    const char *bad[] = { "",
                          "{",
                          "{\"a\":}",
                          "{\"a\":1,}",
                          "{\"a\":01}",
                          "[1]",
                          "{\"a\":1} x",
                          "{\"a\":\"\\ud800\"}",
                          "{\"a\":\"\x01\"}",
                          "{\"a\":tru}",
                          "{\"a\":\"\\u0000\"}" };
    int ok = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t at = 0;
        if (dw_json_check(bad[i], strlen(bad[i]), &at) == 0) {
            ok = 0;
            printf("# accepted: %s\n", bad[i]);
        }
    }
    CHECK("json: malformed documents are refused", ok, "see above");
    char deep[64] = "";
    for (int i = 0; i < 20; i++) strcat(deep, "[");
    char deepdoc[128];
    snprintf(deepdoc, sizeof deepdoc, "{\"a\":%s}", deep);
    CHECK("json: nesting deeper than 16 is refused, not recursed",
          dw_json_check(deepdoc, strlen(deepdoc), NULL) < 0, "%s", "");
    dw_json big;
    dw_json_begin(&big);
    char longs[1000];
    memset(longs, 'x', sizeof longs - 1);
    longs[999] = 0;
    for (int i = 0; i < 10; i++) dw_json_str(&big, "k", longs);
    CHECK("json: a document over DW_JSON_MAX is an error, never cut", dw_json_end(&big) < 0, "%s",
          "");
}

static void test_url(void)
{
    dw_broker_url u;
    dw_err err = { 0 };
    CHECK("url: mqtts with port and prefix",
          dw_broker_url_parse("mqtts://broker.lab:8884/sleep/ward1", &u, &err) == 0 && u.tls &&
              u.port == 8884 && !strcmp(u.host, "broker.lab") && !strcmp(u.prefix, "sleep/ward1"),
          "%s", err.msg);
    CHECK("url: defaults 1883 and prefix dreamwatch",
          dw_broker_url_parse("mqtt://127.0.0.1", &u, &err) == 0 && !u.tls && u.port == 1883 &&
              !strcmp(u.prefix, "dreamwatch"),
          "%s", err.msg);
    CHECK("url: IPv6 in brackets",
          dw_broker_url_parse("mqtt://[::1]:1999/p", &u, &err) == 0 && !strcmp(u.host, "::1") &&
              u.port == 1999,
          "%s", err.msg);
    const char *bad[] = { "http://x",       "mqtt://",    "mqtt://h:0",    "mqtt://h:70000",
                          "mqtt://h/a/+/b", "mqtt://h/#", "mqtt://h/a//b", "mqtt://h:12x" };
    int ok = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (dw_broker_url_parse(bad[i], &u, &err) == 0) {
            ok = 0;
            printf("# accepted %s\n", bad[i]);
        }
    CHECK("url: bad URLs are refused", ok, "see above");
    dw_broker_url_parse("mqtt://h/dw", &u, &err);
    char t[128], bed[32], leaf[16];
    dw_topic(t, sizeof t, &u, "7", "status");
    CHECK("topic: PREFIX/bed/BED/LEAF", !strcmp(t, "dw/bed/7/status"), "%s", t);
    CHECK("topic: split back",
          dw_topic_split(&u, t, bed, sizeof bed, leaf, sizeof leaf) == 0 && !strcmp(bed, "7") &&
              !strcmp(leaf, "status"),
          "%s %s", bed, leaf);
    CHECK("topic: another prefix or a deeper topic is not ours",
          dw_topic_split(&u, "dwx/bed/7/status", bed, 32, leaf, 16) < 0 &&
              dw_topic_split(&u, "dw/bed/7/a/b", bed, 32, leaf, 16) < 0,
          "%s", "");
    CHECK("bed ids: letters, digits, _ and -, 1-31",
          dw_bed_id_ok("bed-7_a") && !dw_bed_id_ok("") && !dw_bed_id_ok("a/b") &&
              !dw_bed_id_ok("a+") && !dw_bed_id_ok("0123456789012345678901234567890123"),
          "%s", "");
}

static void test_credentials(void)
{
    char dir[] = "/tmp/dw-test-net-XXXXXX", path[128], user[64], pass[64];
    dw_err err = { 0 };
    if (!mkdtemp(dir)) {
        FAIL("credentials: temp dir", "%s", strerror(errno));
        return;
    }
    snprintf(path, sizeof path, "%s/cred", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || write(fd, "bed7:s3cr:et\n", 13) != 13) {
        FAIL("credentials: write", "%s", strerror(errno));
        return;
    }
    close(fd);
    CHECK("credentials: USER:PASSWORD from a 0600 file (a colon may be in the password)",
          dw_credentials_read(path, user, sizeof user, pass, sizeof pass, &err) == 0 &&
              !strcmp(user, "bed7") && !strcmp(pass, "s3cr:et"),
          "%s", err.msg);
    chmod(path, 0640);
    CHECK("credentials: a file group can read is refused, naming the file and mode",
          dw_credentials_read(path, user, sizeof user, pass, sizeof pass, &err) < 0 &&
              strstr(err.msg, path) && strstr(err.msg, "0640"),
          "%s", err.msg);
    chmod(path, 0600);
    char link[160];
    snprintf(link, sizeof link, "%s/link", dir);
    if (symlink(path, link) == 0)
        CHECK("credentials: a symlink is refused",
              dw_credentials_read(link, user, 64, pass, 64, &err) < 0, "%s", "");
    unlink(link);
    unlink(path);
    rmdir(dir);
}

static void test_guard(void)
{
    dw_cmd_guard g;
    dw_cmd_guard_init(&g, 30);
    dw_json j;
    dw_cmd c;
    char id[DW_CMD_ID_MAX], cid[DW_CMD_ID_MAX];
    const char *why = "";
    double now = 1.7e9;
    dw_cmd_new_id(cid);
    dw_cmd_encode(&j, cid, now - 2, "bed3", "natural", 1, NULL);
    CHECK("guard: a fresh command for this bed is accepted",
          dw_cmd_guard_accept(&g, "bed3", j.buf, j.len, now, &c, id, &why) == 0 &&
              c.kind == DW_CMD_NATURAL && c.arg == 1 && !strcmp(id, cid),
          "%s", why);
    CHECK("guard: the same command again is refused as replayed",
          dw_cmd_guard_accept(&g, "bed3", j.buf, j.len, now + 1, &c, id, &why) < 0 &&
              !strcmp(why, "replayed"),
          "%s", why);
    CHECK("guard: replayed after the window it is stale",
          dw_cmd_guard_accept(&g, "bed3", j.buf, j.len, now + 60, &c, id, &why) < 0 &&
              !strcmp(why, "stale"),
          "%s", why);
    dw_cmd_new_id(cid);
    dw_cmd_encode(&j, cid, now, "bed4", "wake", 0, NULL);
    CHECK("guard: a command naming another bed is refused",
          dw_cmd_guard_accept(&g, "bed3", j.buf, j.len, now, &c, id, &why) < 0 &&
              !strcmp(why, "wrong bed"),
          "%s", why);
    dw_cmd_encode(&j, cid, now + 45, "bed3", "wake", 0, NULL);
    CHECK("guard: a command from the future beyond max age is refused",
          dw_cmd_guard_accept(&g, "bed3", j.buf, j.len, now, &c, id, &why) < 0 &&
              !strcmp(why, "stale"),
          "%s", why);
    dw_cmd_encode(&j, cid, now, "bed3", "format-disk", 0, NULL);
    CHECK("guard: an unknown op is refused",
          dw_cmd_guard_accept(&g, "bed3", j.buf, j.len, now, &c, id, &why) < 0 &&
              !strcmp(why, "unknown op"),
          "%s", why);
    dw_cmd_encode(&j, "short", now, "bed3", "wake", 0, NULL);
    CHECK("guard: an id too short to be random is refused",
          dw_cmd_guard_accept(&g, "bed3", j.buf, j.len, now, &c, id, &why) < 0 &&
              !strcmp(why, "no id"),
          "%s", why);
    CHECK("guard: not JSON",
          dw_cmd_guard_accept(&g, "bed3", "wake", 4, now, &c, id, &why) < 0 &&
              !strcmp(why, "not JSON"),
          "%s", why);
    dw_cmd_new_id(cid);
    dw_cmd_encode(&j, cid, now, "bed3", "ack", -1, NULL);
    CHECK("guard: ack of the newest alert",
          dw_cmd_guard_accept(&g, "bed3", j.buf, j.len, now, &c, id, &why) == 0 &&
              c.kind == DW_CMD_ACK && c.arg == -1,
          "%s", why);
    int accepted = 0;
    for (int i = 0; i < DW_GUARD_N + 10; i++) {
        dw_cmd_new_id(cid);
        dw_cmd_encode(&j, cid, now, "bed3", "marker", 0, NULL);
        accepted += dw_cmd_guard_accept(&g, "bed3", j.buf, j.len, now, &c, id, &why) == 0;
    }
    CHECK("guard: memory is bounded: a flood within one window is refused past DW_GUARD_N",
          accepted == DW_GUARD_N - 2 && !strcmp(why, "too many commands"), "accepted %d (%s)",
          accepted, why);
    dw_cmd_new_id(cid);
    dw_cmd_encode(&j, cid, now + 40, "bed3", "marker", 0, NULL);
    CHECK("guard: once the window has passed, old ids are forgotten and commands flow again",
          dw_cmd_guard_accept(&g, "bed3", j.buf, j.len, now + 40, &c, id, &why) == 0 && g.n == 1,
          "%s n=%d", why, g.n);
}

static void apply_all(dw_monitor *c, dw_buf *b, int *frames_ok, int *hello_ok)
{
    const unsigned char *p;
    size_t n, used, off = 0;
    int type;
    dw_err err = { 0 };
    char name[64], desc[160];
    while (dw_wire_next(b->p + off, b->len - off, &type, &p, &n, &used) == 1) {
        if (type == DW_W_HELLO)
            *hello_ok = dw_wire_hello_check(p, n, name, desc, &err) == 0 && !strcmp(name, "bed9");
        else if (dw_wire_apply(c, type, p, n, &err) < 0)
            *frames_ok = 0;
        off += used;
    }
    if (off != b->len) *frames_ok = 0;
}

static void test_wire(void)
{
    static dw_monitor m, c;
    dw_monitor_init(&m);
    dw_monitor_init(&c);
    c.attached = 1;
    float spec[DW_SPEC_BINS];
    for (int i = 0; i < 100; i++) {
        double p[DW_NSTAGES] = { 0.1, 0.2, 0.3, 0.15, 0.25 };
        p[i % 5] += 0.01 * i;
        for (int k = 0; k < DW_SPEC_BINS; k++) spec[k] = (float)(i * 0.01 + k);
        dw_monitor_add_epoch(&m, i % 5, p, spec);
    }
    for (long t = 0; t < DW_TRACE_N + 700; t++) {
        for (int ch = 0; ch < DW_MAX_CH; ch++) m.trace[t % DW_TRACE_N][ch] = (float)(t * 16 + ch);
        m.trace_total = t + 1;
    }
    m.mode = DW_MODE_ENHANCED;
    m.n_alerts = 2;
    m.alerts[1].id = 77;
    snprintf(m.alerts[1].text, sizeof m.alerts[1].text, "flat line on Fpz");
    snprintf(m.last_event, sizeof m.last_event, "Marker: hello");
    static dw_snap s;
    s.want_trace = 1;
    dw_snap_take(&s, &m);
    dw_buf b = { 0 };
    dw_wire_hello(&b, "bed9", "Cyton /dev/pts/3");
    dw_wire_epochs(&b, &s, 0);
    dw_wire_trace(&b, &s.v, 0);
    dw_wire_snap(&b, &s.v);
    int ok = 1, hello = 0;
    apply_all(&c, &b, &ok, &hello);
    CHECK("wire: hello of this build is accepted", hello, "%s", "");
    CHECK("wire: every frame applies", ok, "%s", "");
    int same = c.n_epochs == 100 && !memcmp(c.stage, m.stage, 100) &&
        !memcmp(c.prob, m.prob, 100 * sizeof *m.prob) &&
        !memcmp(c.spec, m.spec, 100 * sizeof *m.spec);
    CHECK("wire: the client has the same epochs, probabilities and spectra", same, "n=%d",
          c.n_epochs);
    CHECK("wire: the trace ring arrives whole",
          c.trace_total == m.trace_total && !memcmp(c.trace, m.trace, sizeof m.trace), "total %ld",
          c.trace_total);
    CHECK("wire: scalars and alerts arrive; the client's own fields stay",
          c.mode == DW_MODE_ENHANCED && c.n_alerts == 2 && c.alerts[1].id == 77 &&
              !strcmp(c.last_event, "Marker: hello") && c.attached == 1 &&
              c.wake_fd[0] != m.wake_fd[0],
          "mode %d", c.mode);
    /* incremental: 3 more epochs and 250 frames */
    b.len = 0;
    for (int i = 0; i < 3; i++) dw_monitor_add_epoch(&m, DW_R, NULL, spec);
    for (long t = m.trace_total; t < m.trace_total + 250; t++)
        for (int ch = 0; ch < DW_MAX_CH; ch++) m.trace[t % DW_TRACE_N][ch] = (float)-t;
    m.trace_total += 250;
    dw_snap_take(&s, &m);
    CHECK("snap: only what changed is new",
          s.epochs_from == 100 && s.trace_from == m.trace_total - 250, "from %d %ld", s.epochs_from,
          s.trace_from);
    dw_wire_epochs(&b, &s, s.epochs_from);
    dw_wire_trace(&b, &s.v, s.trace_from);
    dw_wire_snap(&b, &s.v);
    apply_all(&c, &b, &ok, &hello);
    CHECK("wire: increments apply",
          ok && c.n_epochs == 103 && c.stage[102] == DW_R && c.trace_total == m.trace_total &&
              !memcmp(c.trace, m.trace, sizeof m.trace),
          "n=%d", c.n_epochs);
    dw_err err = { 0 };
    unsigned char junk[64] = { 0 };
    CHECK("wire: a frame of the wrong size is refused",
          dw_wire_apply(&c, DW_W_SNAP, junk, sizeof junk, &err) < 0 &&
              dw_wire_apply(&c, DW_W_EPOCHS, junk, 16, &err) < 0,
          "%s", "");
    unsigned char huge[5] = { 0xff, 0xff, 0xff, 0x7f, 2 };
    int type;
    const unsigned char *p;
    size_t n, used;
    CHECK("wire: a length over DW_WIRE_MAX ends the connection",
          dw_wire_next(huge, 5, &type, &p, &n, &used) < 0, "%s", "");
    dw_buf cb = { 0 };
    dw_wire_cmd(&cb, DW_CMD_MARKER, 0, "from attach");
    dw_cmd cmd;
    CHECK("wire: a command round-trips",
          dw_wire_next(cb.p, cb.len, &type, &p, &n, &used) == 1 && type == DW_W_CMD &&
              dw_wire_cmd_decode(p, n, &cmd) == 0 && cmd.kind == DW_CMD_MARKER &&
              !strcmp(cmd.text, "from attach"),
          "%s", "");
    cb.len = 0;
    dw_wire_cmd(&cb, DW_CMD_LINK, 0, "forged");
    dw_wire_next(cb.p, cb.len, &type, &p, &n, &used);
    CHECK("wire: a client cannot post the net layer's LINK command",
          dw_wire_cmd_decode(p, n, &cmd) < 0, "%s", "");
    static dw_cmd ans;
    memset(&ans, 0, sizeof ans);
    ans.kind = DW_CMD_ANSWER;
    ans.arg = 2;
    ans.arg2 = 3.25;
    snprintf(ans.text, sizeof ans.text, "a lake");
    cb.len = 0;
    dw_wire_cmd_full(&cb, &ans);
    CHECK("wire: a questionnaire answer from an attached screen keeps its question and latency",
          dw_wire_next(cb.p, cb.len, &type, &p, &n, &used) == 1 &&
              dw_wire_cmd_decode(p, n, &cmd) == 0 && cmd.kind == DW_CMD_ANSWER && cmd.arg == 2 &&
              cmd.arg2 == 3.25 && !strcmp(cmd.text, "a lake"),
          "%s", "");
    dw_buf_free(&b);
    dw_buf_free(&cb);
    dw_snap_free(&s);
    dw_monitor_destroy(&m);
    dw_monitor_destroy(&c);
}

static void ingest(dw_ward *w, const char *bed, const char *leaf, const char *doc, double now)
{
    char t[128];
    dw_topic(t, sizeof t, &w->url, bed, leaf);
    dw_ward_ingest(w, t, doc, (int)strlen(doc), now);
}

static void test_ward(void)
{
    static dw_ward w;
    dw_err err = { 0 };
    dw_ward_init(&w, 30);
    dw_broker_url_parse("mqtt://127.0.0.1/dw", &w.url, &err);
    const char *ok = "{\"bed\":\"x\",\"state\":\"online\",\"mode\":\"NATURAL\",\"stage\":\"N2\","
                     "\"asleep_s\":3600,"
                     "\"alert_sev\":\"none\",\"unacked\":0,\"hypno\":\"WW1222\",\"data\":\"ok\"}";
    ingest(&w, "2", "status", ok, 100);
    ingest(&w, "10", "status", ok, 100);
    ingest(&w, "1", "status", ok, 100);
    ingest(&w, "3", "status", ok, 100);
    ingest(&w, "10", "status",
           "{\"state\":\"online\",\"alert_sev\":\"critical\",\"unacked\":1,\"alert_text\":\"no "
           "samples\"}",
           101);
    ingest(&w, "10", "alert",
           "{\"event\":\"raised\",\"id\":4,\"severity\":\"critical\",\"rule\":\"no_samples\","
           "\"text\":\"x\"}",
           101);
    ingest(&w, "1", "status", "{\"bed\":\"1\",\"state\":\"offline\"}", 102);
    ingest(&w, "3", "status", "{\"state\":\"ended\"}", 102);
    int idx[DW_WARD_BEDS];
    dw_ward_order(&w, idx, 105);
    CHECK("ward: four beds", w.n == 4, "%d", w.n);
    CHECK("ward: offline first, then an unacknowledged critical alert, then fine, then ended",
          !strcmp(w.beds[idx[0]].id, "1") && !strcmp(w.beds[idx[1]].id, "10") &&
              !strcmp(w.beds[idx[2]].id, "2") && !strcmp(w.beds[idx[3]].id, "3"),
          "%s %s %s %s", w.beds[idx[0]].id, w.beds[idx[1]].id, w.beds[idx[2]].id,
          w.beds[idx[3]].id);
    CHECK("ward: the offline will keeps what the bed said before",
          !strcmp(w.beds[idx[0]].hypno, "WW1222") && w.beds[idx[0]].asleep_s == 3600, "%s",
          w.beds[idx[0]].hypno);
    CHECK("ward: a critical raise rings once", w.bells == 1, "%lu", w.bells);
    dw_ward_order(&w, idx, 100 + 31 + 10);
    CHECK("ward: a bed silent longer than the stale time needs attention",
          dw_ward_attention(&w, &w.beds[idx[1]], 141) == 5, "%d",
          dw_ward_attention(&w, &w.beds[idx[1]], 141));
    CHECK("ward: a bad document is counted, not applied",
          dw_ward_ingest(&w, "dw/bed/2/status", "{bad", 4, 106) < 0 && w.bad_msgs == 1, "%ld",
          w.bad_msgs);
    w.ncmd = 2;
    snprintf(w.cmds[0].id, sizeof w.cmds[0].id, "aaaaaaaaaaaaaaaa");
    snprintf(w.cmds[1].id, sizeof w.cmds[1].id, "bbbbbbbbbbbbbbbb");
    w.cmds[0].sent = w.cmds[1].sent = 100;
    ingest(&w, "2", "cmd_ack", "{\"id\":\"aaaaaaaaaaaaaaaa\",\"ok\":false,\"reason\":\"replayed\"}",
           101);
    dw_ward_timeouts(&w, 100 + DW_WARD_ACK_S + 0.5);
    CHECK("ward: an answer matches its command by id; an unanswered one times out",
          w.cmds[0].state == DW_WCMD_REFUSED && !strcmp(w.cmds[0].reason, "replayed") &&
              w.cmds[1].state == DW_WCMD_TIMEOUT,
          "%s", "");
    ingest(&w, "2", "epoch", "{\"bed\":\"2\",\"epoch\":6,\"stage\":\"R\",\"prob\":[0,0,0,0,1]}",
           107);
    ingest(&w, "2", "epoch", "{\"bed\":\"2\",\"epoch\":8,\"stage\":\"N3\",\"prob\":[0,0,0,1,0]}",
           108);
    const dw_ward_bed *b2 = NULL;
    for (int i = 0; i < w.n; i++)
        if (!strcmp(w.beds[i].id, "2")) b2 = &w.beds[i];
    CHECK("ward: epochs between statuses extend the hypnogram and set the stage",
          b2 && !strcmp(b2->hypno, "WW1222R?3") && !strcmp(b2->stage, "N3") && b2->epochs == 9,
          "%s %s", b2 ? b2->hypno : "-", b2 ? b2->stage : "-");
    /* an unscored epoch has no probabilities: the bed publishes "prob":[] (bed.c, dw_epoch_has_prob), and
     * the ward keeps none of the last scored epoch's (it kept N3's 1.00 under an unscored stage) */
    ingest(&w, "2", "epoch", "{\"bed\":\"2\",\"epoch\":9,\"stage\":\"?\",\"prob\":[]}", 109);
    CHECK("ward: an unscored epoch: no stage, no probabilities (none carried over)",
          b2 && !strcmp(b2->hypno, "WW1222R?3?") && !b2->stage[0] && b2->epochs == 10 &&
              b2->prob[0] == 0 && b2->prob[3] == 0 && b2->prob[4] == 0,
          "%s '%s' %.2f", b2 ? b2->hypno : "-", b2 ? b2->stage : "-", b2 ? b2->prob[3] : -1.0);
    dw_ward_free(&w);
}

int main(void)
{
    test_json();
    test_url();
    test_credentials();
    test_guard();
    test_wire();
    test_ward();
    TAP_DONE();
}
