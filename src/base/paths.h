/* Every place dreamwatch looks for or puts a file, in one module: shipped data (models, themes, the sample
 * night), the user's configuration, recordings, themes, and the runtime folder for control sockets.
 * XDG base directories are honoured; the source tree is never consulted by the installed program. */
#ifndef DW_PATHS_H
#define DW_PATHS_H

#include <stddef.h>
#include "base/dw.h"

#define DW_PATH_MAX 1024

/* A shipped file by its path in the tree (e.g. "sample-data/sample-night.edf", "themes/night.ini"): next
 * to the binary, one level up (a build tree: build/dreamwatch or ./dreamwatch), BIN/../share/dreamwatch (a
 * relocated install), then the installed data directory (DW_DATADIR). 0 and the path in out, or -1. */
int  dw_find_data(const char *rel, char *out, size_t n);

/* $XDG_CONFIG_HOME/dreamwatch/config.ini, else ~/.config/dreamwatch/config.ini. */
void dw_path_config(char *out, size_t n);
/* The user's data folder for sub ("recordings", "themes"): $XDG_DATA_HOME/dreamwatch/SUB, else
 * ~/.local/share/dreamwatch/SUB. */
void dw_path_data(const char *sub, char *out, size_t n);
/* Where recordings, session logs and summaries go: configured (non-empty), else dw_path_data("recordings"). */
void dw_path_recordings(const char *configured, char *out, size_t n);
/* Folder for this user's control sockets: $XDG_RUNTIME_DIR/dreamwatch, else /tmp/dreamwatch-UID. */
void dw_path_runtime(char *out, size_t n);

/* mkdir -p, each new folder mode 0700 (health data). 0, or -1 with err naming the folder. */
int  dw_mkdirs(const char *dir, dw_err *err);

#endif
