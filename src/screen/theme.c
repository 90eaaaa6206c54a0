/* Themes: colours and attributes per role, read from themes/NAME.ini with inih over builtin defaults,
 * then mapped to what the terminal has (256, 16 or 8 colours, or none: NO_COLOR, monochrome). */
#define DW_SCREEN_INTERNAL
#include "base/paths.h"
#include "screen/screen.h"

#include <dirent.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct { const char *section, *key; int role; } role_keys[] = {
    { "ui", "text", DW_ROLE_TEXT },         { "ui", "dim", DW_ROLE_DIM },
    { "ui", "border", DW_ROLE_BORDER },     { "ui", "title", DW_ROLE_TITLE },
    { "ui", "focus", DW_ROLE_FOCUS },       { "ui", "status", DW_ROLE_STATUS },
    { "ui", "key", DW_ROLE_KEY },           { "ui", "dialog", DW_ROLE_DIALOG },
    { "ui", "current", DW_ROLE_CURRENT },
    { "stages", "W", DW_ROLE_STAGE + DW_W }, { "stages", "N1", DW_ROLE_STAGE + DW_N1 },
    { "stages", "N2", DW_ROLE_STAGE + DW_N2 }, { "stages", "N3", DW_ROLE_STAGE + DW_N3 },
    { "stages", "R", DW_ROLE_STAGE + DW_R }, { "stages", "reference", DW_ROLE_REF },
    { "alerts", "info", DW_ROLE_INFO },     { "alerts", "warning", DW_ROLE_WARNING },
    { "alerts", "critical", DW_ROLE_CRITICAL }, { "alerts", "acked", DW_ROLE_ACKED },
    { "traces", "trace", DW_ROLE_TRACE },   { "traces", "railed", DW_ROLE_RAILED },
    { "traces", "flat", DW_ROLE_FLAT },
    { "bedside", "text", DW_ROLE_BEDSIDE }, { "bedside", "stage", DW_ROLE_BEDSIDE_STAGE },
};
#define NKEYS (sizeof role_keys / sizeof role_keys[0])

/* The builtin theme, written in the same syntax as the files (themes/default.ini repeats it). */
static const char *const builtin[NKEYS] = {
    "default", "245", "67", "111 bold", "214 bold", "252 on 236", "214 on 236 bold", "231 on 24",
    "231 on 130 bold",
    "223", "117", "75", "63 bold", "204 bold", "245",
    "250", "214 bold", "231 on 160 bold", "242",
    "114", "203 bold", "220",
    "244", "110",
};
static const short builtin_spec[] = { 16, 52, 88, 124, 160, 196, 202, 208, 214, 220, 226, 227, 228, 229, 230, 231 };

static const char *const colour_names[16] = {
    "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
    "gray", "bright-red", "bright-green", "bright-yellow", "bright-blue", "bright-magenta", "bright-cyan",
    "bright-white",
};

static int parse_colour(const char *tok, short *out)
{
    if (!strcasecmp(tok, "default")) { *out = -1; return 0; }
    if (!strcasecmp(tok, "grey")) { *out = 8; return 0; }
    for (int i = 0; i < 16; i++)
        if (!strcasecmp(tok, colour_names[i])) { *out = (short)i; return 0; }
    char *end;
    long v = strtol(tok, &end, 10);
    if (end == tok || *end || v < 0 || v > 255)
        return -1;
    *out = (short)v;
    return 0;
}

/* "FG [on BG] [bold|dim|reverse|underline|standout|normal]..." */
static int parse_style(const char *val, dw_style *st, char *why, size_t n)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", val);
    dw_style s = { -1, -1, A_NORMAL };
    int want_bg = 0, got_fg = 0;
    for (char *save, *tok = strtok_r(buf, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
        if (!strcasecmp(tok, "on")) { want_bg = 1; continue; }
        if (!strcasecmp(tok, "bold")) s.attr |= A_BOLD;
        else if (!strcasecmp(tok, "dim")) s.attr |= A_DIM;
        else if (!strcasecmp(tok, "reverse")) s.attr |= A_REVERSE;
        else if (!strcasecmp(tok, "underline")) s.attr |= A_UNDERLINE;
        else if (!strcasecmp(tok, "standout")) s.attr |= A_STANDOUT;
        else if (!strcasecmp(tok, "normal")) ;
        else if (parse_colour(tok, want_bg ? &s.bg : &s.fg) < 0 || (!want_bg && got_fg)) {
            snprintf(why, n, "'%s' is not a colour or attribute", tok);
            return -1;
        } else if (want_bg) want_bg = 0;
        else got_fg = 1;
    }
    *st = s;
    return 0;
}

static void defaults(dw_theme *t)
{
    char why[8];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "builtin");
    for (size_t i = 0; i < NKEYS; i++)
        parse_style(builtin[i], &t->role[role_keys[i].role], why, sizeof why);
    memcpy(t->spec, builtin_spec, sizeof builtin_spec);
    t->nspec = (int)(sizeof builtin_spec / sizeof builtin_spec[0]);
}

typedef struct { dw_theme *t; char why[200]; } parse_ctx;

static int on_key(void *user, const char *section, const char *key, const char *value)
{
    parse_ctx *c = user;
    if (!strcasecmp(section, "theme") && !strcasecmp(key, "name"))
        return 1;                                   /* a human name, for the file's readers */
    if (!strcasecmp(section, "spectrogram") && !strcasecmp(key, "palette")) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", value);
        int n = 0;
        for (char *save, *tok = strtok_r(buf, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
            short col;
            if (n == DW_SPEC_COLOURS || parse_colour(tok, &col) < 0 || col < 0) {
                snprintf(c->why, sizeof c->why, "[spectrogram] palette: want 2-%d colours 0-255, got '%s'",
                         DW_SPEC_COLOURS, tok);
                return 0;
            }
            c->t->spec[n++] = col;
        }
        if (n < 2) {
            snprintf(c->why, sizeof c->why, "[spectrogram] palette: want at least 2 colours");
            return 0;
        }
        c->t->nspec = n;
        return 1;
    }
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcasecmp(section, role_keys[i].section) && !strcasecmp(key, role_keys[i].key)) {
            char why[160];
            if (parse_style(value, &c->t->role[role_keys[i].role], why, sizeof why) == 0)
                return 1;
            snprintf(c->why, sizeof c->why, "[%s] %s: %s", section, key, why);
            return 0;
        }
    snprintf(c->why, sizeof c->why, "[%s] %s: unknown key", section, key);
    return 0;
}

/* The folders searched for themes, in order: the user's, then the shipped ones (paths module). */
static int theme_dirs(char dirs[3][DW_PATH_MAX])
{
    int n = 0;
    dw_path_data("themes", dirs[n++], DW_PATH_MAX);
    char probe[DW_PATH_MAX];
    if (dw_find_data("themes/default.ini", probe, sizeof probe) == 0) {
        char *slash = strrchr(probe, '/');
        *slash = 0;
        snprintf(dirs[n++], DW_PATH_MAX, "%s", probe);
    }
    return n;
}

int dw_theme_load(dw_theme *t, const char *name, dw_err *err)
{
    defaults(t);
    if (!name || !*name || !strcmp(name, "builtin"))
        return 0;
    char path[DW_PATH_MAX + 80] = "";
    if (strchr(name, '/')) {
        snprintf(path, sizeof path, "%s", name);
    } else {
        char dirs[3][DW_PATH_MAX];
        int nd = theme_dirs(dirs);
        for (int i = 0; i < nd && !*path; i++) {
            char p[sizeof path];
            snprintf(p, sizeof p, "%.1000s/%.60s.ini", dirs[i], name);
            FILE *f = fopen(p, "r");
            if (f) { fclose(f); memcpy(path, p, sizeof path); }
        }
        if (!*path) {
            dw_err_set(err, "theme '%s' not found in %s%s%s", name, dirs[0], nd > 1 ? " or " : "", nd > 1 ? dirs[1] : "");
            return -1;
        }
    }
    dw_theme tmp;
    defaults(&tmp);
    parse_ctx c = { &tmp, "" };
    int rc = ini_parse(path, on_key, &c);
    if (rc == -1) { dw_err_set(err, "%s: cannot open theme", path); return -1; }
    if (rc != 0) {
        dw_err_set(err, "%s:%d: %s", path, rc, *c.why ? c.why : "syntax error");
        return -1;
    }
    *t = tmp;
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    snprintf(t->name, sizeof t->name, "%.*s", (int)strcspn(base, "."), base);
    return 0;
}

static int cmp_name(const void *a, const void *b) { return strcmp(a, b); }

int dw_theme_list(char names[][64], int max)
{
    char dirs[3][DW_PATH_MAX];
    int nd = theme_dirs(dirs), n = 0;
    for (int i = 0; i < nd; i++) {
        DIR *d = opendir(dirs[i]);
        if (!d) continue;
        for (struct dirent *e; (e = readdir(d)) && n < max;) {
            size_t len = strlen(e->d_name);
            if (len < 5 || len > 63 || strcmp(e->d_name + len - 4, ".ini"))
                continue;
            char nm[64];
            snprintf(nm, sizeof nm, "%.*s", (int)(len - 4), e->d_name);
            int dup = 0;
            for (int k = 0; k < n && !dup; k++) dup = !strcmp(names[k], nm);
            if (!dup) memcpy(names[n++], nm, sizeof nm);
        }
        closedir(d);
    }
    qsort(names, (size_t)n, 64, cmp_name);
    return n;
}

/* xterm's 256-colour palette as RGB, to find the nearest colour a smaller terminal has. */
static void xterm_rgb(int c, int rgb[3])
{
    static const int base[16][3] = {
        {0,0,0},{205,0,0},{0,205,0},{205,205,0},{0,0,238},{205,0,205},{0,205,205},{229,229,229},
        {127,127,127},{255,0,0},{0,255,0},{255,255,0},{92,92,255},{255,0,255},{0,255,255},{255,255,255} };
    if (c < 16) { memcpy(rgb, base[c], sizeof base[c]); return; }
    if (c >= 232) { rgb[0] = rgb[1] = rgb[2] = 8 + 10 * (c - 232); return; }
    int n = c - 16, lv[3] = { n / 36, n / 6 % 6, n % 6 };
    for (int i = 0; i < 3; i++) rgb[i] = lv[i] ? 55 + 40 * lv[i] : 0;
}

static short map_colour(short c)
{
    if (c < 0 || c < COLORS)
        return c;
    int have = COLORS >= 16 ? 16 : COLORS, best = 0;
    long bestd = -1;
    int want[3], rgb[3];
    xterm_rgb(c, want);
    for (int i = 0; i < have; i++) {
        xterm_rgb(i, rgb);
        long d = 0;
        for (int k = 0; k < 3; k++) d += (long)(want[k] - rgb[k]) * (want[k] - rgb[k]);
        if (bestd < 0 || d < bestd) { bestd = d; best = i; }
    }
    return (short)best;
}

short dw_theme_pair(const dw_theme *t, short fg, short bg)
{
    if (!t->colours || (fg < 0 && bg < 0))
        return 0;
    int p = alloc_pair(map_colour(fg), map_colour(bg));
    return p < 0 ? 0 : (short)p;
}

void dw_theme_apply(dw_theme *t, int use_colour)
{
    t->colours = use_colour;
    if (t->colours) {
        reset_color_pairs();
        use_default_colors();       /* the reset also forgets that pair 0 is the terminal's own colours */
    }
    for (int i = 0; i < DW_ROLE_N; i++)
        t->pair[i] = dw_theme_pair(t, t->role[i].fg, t->role[i].bg);
}

void dw_theme_use(const dw_theme *t, int role)
{
    attr_set(t->role[role].attr, t->pair[role], NULL);
}
