/* Files in and out, one policy for every command:
 *  - an input is opened without blocking (a FIFO or a device named as a file cannot hang us), checked to be
 *    a regular file, and remembered by device and inode for the rest of the process;
 *  - an output is written under a temporary name in its own folder (created exclusively, mode 0600) and
 *    renamed into place only when complete; it is refused, before anything is opened for writing, when it
 *    names a remembered input (same path or same device and inode, through any link), or when it exists
 *    and the user did not ask to replace it (--force). A crash leaves the final name untouched. */
#ifndef DW_FILES_H
#define DW_FILES_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include "base/dw.h"

/* Remember path as an input of this process (it need not be open yet). A path that does not exist is
 * not remembered. Returns 0, or -1 if the table is full (64 inputs). */
int  dw_input_note(const char *path);
/* 1 if st (a stat of some path) is a remembered input. */
int  dw_input_is(const struct stat *st);

/* Open path for reading: O_RDONLY | O_NONBLOCK | O_CLOEXEC, then fstat: a regular file is accepted (its
 * O_NONBLOCK is cleared) and remembered; a FIFO, socket, directory or device is refused with err naming
 * the file and what it is ("what" names the role in the message, e.g. "configuration"). fd or -1. */
int  dw_input_open(const char *path, const char *what, dw_err *err);
/* The same as a stdio stream ("rb"), NULL with err. */
FILE *dw_input_fopen(const char *path, const char *what, dw_err *err);
/* The whole of path in one read, for small text inputs (the configuration): a regular file, or an
 * anonymous pipe such as a shell's <(...) (a named FIFO is refused like a device: nothing may block on
 * a writer that never comes). A pipe must reach its end within wait_s. At most max bytes. *data is
 * NUL-terminated (it may hold NUL bytes of its own: *len is the size); the caller frees it. 0, or -1 with
 * err naming the file and the reason. */
int  dw_input_read_all(const char *path, const char *what, size_t max, double wait_s, char **data,
                       size_t *len, dw_err *err);
/* 1 if fd is an anonymous pipe (not a named FIFO). */
int  dw_fd_is_anon_pipe(int fd);

/* An output being written. */
typedef struct {
    int  fd;                        /* on the temporary file, O_RDWR; -1 when none */
    int  force;                     /* replace an existing final file */
    char path[PATH_MAX];            /* the final name */
    char tmp[PATH_MAX];             /* the temporary name, in the same folder */
    char fdpath[32];                /* "/proc/self/fd/N": the temporary file for libraries that open by
                                       name (EDFlib), with no window for a swapped path */
} dw_out;

/* What dw_out_check, dw_out_begin and dw_out_commit return (with err naming the file) when the name
 * is taken: the file exists and force is not set, or it appeared between the check and the rename
 * (another process won a race for the name). An existing output is a usage error (README, man EXIT
 * STATUS: exit 2), whether it was there when the command started or came while it worked. */
#define DW_OUT_TAKEN (-2)

/* The check dw_out_begin makes, alone: 0 if path may be written (it is not an input, and it does
 * not exist or force is set, and a new file's folder exists and is writable); DW_OUT_TAKEN when it
 * exists and force is not set, -1 for any other refusal, with err naming path. Lets a command
 * refuse before it does any work. */
int  dw_out_check(const char *path, int force, dw_err *err);
/* Check path (refused if it is an input, or exists and !force) and create its temporary file. 0, or
 * DW_OUT_TAKEN / -1 (as dw_out_check) with err naming the file and the reason; nothing is created
 * then. */
int  dw_out_begin(dw_out *o, const char *path, int force, dw_err *err);
/* fsync, close, re-check, and rename into place (without replacing anything unless force); the folder
 * is fsync'ed. 0; DW_OUT_TAKEN when a file of the final name appeared meanwhile; -1 for any other
 * failure; with err. On failure the temporary file is removed and the final name untouched. */
int  dw_out_commit(dw_out *o, dw_err *err);
/* Remove the temporary file (after a failed write). Safe to call twice or after commit. */
void dw_out_abort(dw_out *o);

/* The files a run created, each once, in the order they were created, each with its role
 * ("recording", "summary", ...): whatever creates a file adds it, so the lines naming a night's
 * files at its end come from this one list, never from a second list of names or suffixes. One
 * thread adds; another may read only after joining it. */
typedef struct { char role[24]; char path[PATH_MAX]; } dw_output;
typedef struct { int n, cap; dw_output *v; } dw_outputs;
/* Adds path with its role; nothing when o is NULL or path is already listed. Out of memory:
 * dw_xrealloc's policy (a night drops nothing silently). */
void dw_outputs_add(dw_outputs *o, const char *role, const char *path);
void dw_outputs_free(dw_outputs *o);

/* Create stem + suffix exclusively (O_EXCL | O_NOFOLLOW, mode 0600); when that name is taken, stem-2 +
 * suffix, stem-3 + suffix ... up to 999. The name used goes to out. fd (O_WRONLY | O_APPEND) or -1 with err. */
int  dw_create_unique(const char *stem, const char *suffix, char *out, size_t cap, dw_err *err);

#endif
