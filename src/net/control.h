/* The control socket of a running session: a Unix stream socket NAME.sock in dw_path_runtime()
 * (folder 0700, socket 0600), no network port. Only a peer of our own uid (SO_PEERCRED) is served:
 * it gets the monitor as frames (net/wire.h) and may send operator commands, which are posted into
 * the monitor as the screen posts them. At most DW_CTL_CLIENTS at once; a client that does not keep
 * up (DW_CTL_BACKLOG bytes unsent) is dropped, so no client can hold up the session. Used by the
 * net thread only. */
#ifndef DW_CONTROL_H
#define DW_CONTROL_H

#include <poll.h>
#include "net/snap.h"

#define DW_CTL_CLIENTS 4
#define DW_CTL_BACKLOG (16u << 20)

typedef struct dw_ctl dw_ctl;

/* Bind DIR/NAME.sock (a stale socket of a dead session is replaced; a live one is refused: "session
 * NAME is already running"). NULL with err. */
dw_ctl *dw_ctl_open(const char *name, const char *desc, dw_err *err);
/* Path of the socket. */
const char *dw_ctl_path(const dw_ctl *c);
/* Fill pollfds (at most 1 + DW_CTL_CLIENTS). Returns how many. */
int dw_ctl_pollfds(dw_ctl *c, struct pollfd *pf);
/* After poll: accept, read commands (posted to m), write pending bytes. */
void dw_ctl_io(dw_ctl *c, const struct pollfd *pf, int n, dw_monitor *m, const dw_snap *s);
/* Queue what changed in s for every client (a new client gets everything). */
void dw_ctl_send(dw_ctl *c, const dw_snap *s);
/* Clients connected now. */
int dw_ctl_clients(const dw_ctl *c);
/* Send what is pending (at most timeout_s), close every client, remove the socket. */
void dw_ctl_close(dw_ctl *c, double timeout_s);

/* 1 if a session called name is running now (its socket answers). */
int dw_ctl_running(const char *name);
/* Client side: the socket path of session name (or the only one when name is NULL or ""); a name with no
 * socket is an error naming it and the sessions running. When name
 * is empty and there are several, they are listed on f and -1 returned. 0 or -1 with err. */
int dw_ctl_find(const char *name, char *path, size_t n, FILE *f, dw_err *err);
/* Connect to path. fd, or -1 with err. */
int dw_ctl_connect(const char *path, dw_err *err);

#endif
