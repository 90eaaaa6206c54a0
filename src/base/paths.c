/* Every file location in one place (see paths.h). */
#include "base/paths.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int dw_find_data(const char *rel, char *out, size_t n)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    const char *dirs[4];
    int nd = 0;
    char d1[PATH_MAX], d2[PATH_MAX + 8], d3[PATH_MAX + 32];
    if (len > 0) {
        exe[len] = 0;
        snprintf(d1, sizeof d1, "%s", dirname(exe));
        snprintf(d2, sizeof d2, "%s/..", d1);
        snprintf(d3, sizeof d3, "%s/../share/dreamwatch", d1);
        dirs[nd++] = d1;
        dirs[nd++] = d2;
        dirs[nd++] = d3;
    }
#ifdef DW_DATADIR
    dirs[nd++] = DW_DATADIR;
#endif
    for (int i = 0; i < nd; i++) {
        snprintf(out, n, "%s/%s", dirs[i], rel);
        if (access(out, R_OK) == 0)
            return 0;
    }
    return -1;
}

static const char *home(void)
{
    const char *h = getenv("HOME");
    return h && *h ? h : ".";
}

void dw_path_config(char *out, size_t n)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    if (xdg && *xdg)
        snprintf(out, n, "%s/dreamwatch/config.ini", xdg);
    else
        snprintf(out, n, "%s/.config/dreamwatch/config.ini", home());
}

void dw_path_data(const char *sub, char *out, size_t n)
{
    const char *xdg = getenv("XDG_DATA_HOME");
    if (xdg && *xdg)
        snprintf(out, n, "%s/dreamwatch/%s", xdg, sub);
    else
        snprintf(out, n, "%s/.local/share/dreamwatch/%s", home(), sub);
}

void dw_path_recordings(const char *configured, char *out, size_t n)
{
    if (configured && *configured)
        snprintf(out, n, "%s", configured);
    else
        dw_path_data("recordings", out, n);
}

void dw_path_runtime(char *out, size_t n)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (xdg && *xdg)
        snprintf(out, n, "%s/dreamwatch", xdg);
    else
        snprintf(out, n, "/tmp/dreamwatch-%u", (unsigned)getuid());
}

int dw_mkdirs(const char *dir, dw_err *err)
{
    char p[DW_PATH_MAX];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) {
        dw_err_set(err, "%s: path too long", dir);
        return -1;
    }
    for (char *s = p + 1; ; s++) {
        if (*s == '/' || !*s) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0700) < 0 && errno != EEXIST) {
                dw_err_set(err, "%s: cannot create: %s", p, strerror(errno));
                return -1;
            }
            *s = c;
            if (!c)
                break;
        }
    }
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        dw_err_set(err, "%s: not a folder", dir);
        return -1;
    }
    return 0;
}
