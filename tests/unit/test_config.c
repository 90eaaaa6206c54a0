/* Configuration: defaults, every kind of bad line named by file, line and key, the example file. */
#include "tap.h"
#include "app/config.h"

#include <stdlib.h>

static const char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/dw-config-XXXXXX");
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

/* Loads text; returns the error message (empty if it loaded). */
static const char *load(const char *text, dw_config *c)
{
    static dw_err err;
    err.msg[0] = 0;
    dw_config_defaults(c);
    const char *p = write_tmp(text);
    if (dw_config_load(c, p, 0, &err) == 0)
        err.msg[0] = 0;
    unlink(p);
    return err.msg;
}

static int contains(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

int main(void)
{
    dw_config c;
    dw_config_defaults(&c);
    CHECK("defaults", c.replay_speed == 1 && c.session.so_threshold_uv == -80 && c.session.so_delay_s == 0.5 && c.rec_enabled == 1
          && !strcmp(c.session.start_mode, "natural") && !strcmp(c.display.layout, "full") && c.display.fps == 4,
          "unexpected default values");

    const char *e = load("[input]\nfrontal = Fz\nparietal = none\nchannels = Fz, 2 ,Oz\n[stimulation]\nmode = enhanced\n"
                         "so_threshold_uv = -60 ; inline comment\n[display]\nbell = yes\n", &c);
    CHECK("good file loads", !*e && !strcmp(c.chans.frontal, "Fz") && c.chans.nchannels == 3
          && !strcmp(c.chans.channels[1], "2") && !strcmp(c.chans.channels[2], "Oz") && c.session.so_threshold_uv == -60
          && c.session.bell == 1 && !strcmp(c.session.start_mode, "enhanced"), "error '%s'", e);

    e = load("[input]\nfrontal = Fz\n\n[display]\ncolour = red\n", &c);
    CHECK("unknown key names file, line and key", contains(e, "/tmp/dw-config-") && contains(e, ":5:")
          && contains(e, "colour") && contains(e, "unknown key"), "got '%s'", e);

    e = load("[inptu]\nfile = x\n", &c);
    CHECK("unknown section", contains(e, ":2:") && contains(e, "unknown section [inptu]"), "got '%s'", e);

    e = load("[stimulation]\nso_threshold_uv = -80uV\n", &c);
    CHECK("bad number", contains(e, ":2:") && contains(e, "so_threshold_uv") && contains(e, "not a number"), "got '%s'", e);

    e = load("[stimulation]\nso_threshold_uv = 40\n", &c);
    CHECK("out of range", contains(e, "so_threshold_uv") && contains(e, "outside"), "got '%s'", e);

    e = load("[display]\nlayout = sideways\n", &c);
    CHECK("bad choice", contains(e, "layout") && contains(e, "full|bedside"), "got '%s'", e);

    e = load("[display]\nbell = maybe\n", &c);
    CHECK("bad boolean", contains(e, "bell") && contains(e, "true or false"), "got '%s'", e);

    e = load("[stimulation]\nso_train = 2.5\n", &c);
    CHECK("not a whole number", contains(e, "so_train") && contains(e, "whole"), "got '%s'", e);

    char longline[1400];
    memset(longline, 'x', sizeof longline);
    snprintf(longline, sizeof longline, "[input]\nfile = %01300d\n", 7);
    e = load(longline, &c);
    CHECK("over-long line is an error, not split", contains(e, ":2:") && contains(e, "longer than"), "got '%s'", e);

    e = load("[input]\nthis line has no equals\n", &c);
    CHECK("syntax error names the line", contains(e, ":2:"), "got '%s'", e);

    e = load("[input]\nfile = night.edf\n  continued\n", &c);
    CHECK("indented continuation is rejected", contains(e, ":3:"), "got '%s'", e);

    dw_err err;
    CHECK("missing default file is fine", dw_config_load(&c, "/nonexistent/dw.ini", 1, &err) == 0, "failed");
    CHECK("missing --config file is an error", dw_config_load(&c, "/nonexistent/dw.ini", 0, &err) < 0
          && contains(err.msg, "/nonexistent/dw.ini"), "got '%s'", err.msg);

    CHECK("command line set", dw_config_set(&c, "input", "replay_speed", "60", &err) == 0 && c.replay_speed == 60, "%s", err.msg);
    CHECK("command line bad key", dw_config_set(&c, "input", "speed", "60", &err) < 0 && contains(err.msg, "speed"), "%s", err.msg);

    /* The example file has every key with its default, and parses back to the defaults. */
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    dw_config_write_example(mem);
    fclose(mem);
    dw_config d;
    e = load(buf, &c);
    dw_config_defaults(&d);
    CHECK("generated example parses to the defaults", !*e && !memcmp(&c, &d, sizeof c), "error '%s'", e);

    FILE *shipped = fopen(DW_SRCDIR "/sample-data/config.example.ini", "r");
    if (!shipped) {
        FAIL("shipped example exists", "sample-data/config.example.ini missing");
    } else {
        char *sb = calloc(1, len + 2);
        size_t got = fread(sb, 1, len + 1, shipped);
        fclose(shipped);
        CHECK("shipped example is the generated one (every key, current defaults)", got == len && !memcmp(sb, buf, len),
              "regenerate with: ./dreamwatch --print-config > sample-data/config.example.ini");
        free(sb);
    }
    e = load(buf, &c);
    free(buf);

    setenv("XDG_CONFIG_HOME", "/x/y", 1);
    char path[256];
    dw_path_config(path, sizeof path);
    CHECK("XDG_CONFIG_HOME honoured", !strcmp(path, "/x/y/dreamwatch/config.ini"), "got %s", path);
    unsetenv("XDG_CONFIG_HOME");
    setenv("HOME", "/home/u", 1);
    dw_path_config(path, sizeof path);
    CHECK("~/.config by default", !strcmp(path, "/home/u/.config/dreamwatch/config.ini"), "got %s", path);
    TAP_DONE();
}
