/* `dreamwatch attach`: a local monitor filled from a running session's control socket, so the
 * screen runs on it unchanged; the commands the screen posts to it are forwarded to the session,
 * which posts them into its own monitor. Closing the client (detach, a dropped SSH link, a killed
 * terminal) changes nothing in the session. When the session ends or the socket breaks, the local
 * monitor is marked finished. */
#ifndef DW_ATTACH_H
#define DW_ATTACH_H

#include "monitor/monitor.h"

typedef struct dw_attach dw_attach;

/* Connect to the socket at path, check the session's HELLO (same build), and start the client
 * thread filling local (initialised by the caller; local->attached is set). name and desc get the
 * session's name (64 bytes) and source (160). NULL with err. */
dw_attach *dw_attach_start(const char *path, dw_monitor *local, char *name, char *desc,
                           dw_err *err);
/* Stop the thread (idempotent), keeping what it found: after it, dw_attach_why and dw_attach_broken
 * may be read without a race. */
void dw_attach_join(dw_attach *a);
/* Stop the thread and close the socket (the session is not told anything); frees a. */
void dw_attach_stop(dw_attach *a);
/* Why the connection ended ("" while it is up); read after dw_attach_join. */
const char *dw_attach_why(const dw_attach *a);
/* 1 when it ended without the session's safe shutdown (killed, crashed), else 0; after dw_attach_join. */
int dw_attach_broken(const dw_attach *a);

#endif
