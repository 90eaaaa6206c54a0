/* The bed's net thread: serves the control socket (`dreamwatch attach`) and publishes the session
 * to the broker ([publish]), beside the worker and never in its way. It wakes on its own timer (10
 * Hz), copies what it needs from the monitor under the lock (net/snap.h) and posts the commands it
 * receives (from an attached screen or the station) into the monitor's queue exactly as the screen
 * does; it never blocks while holding the lock, and its queues are bounded. A broker that is down,
 * slow or refusing us changes nothing in the worker: the bed keeps the latest status, keeps up to
 * DW_NET_QUEUE messages for the broker (dropping the oldest), reconnects with back-off and raises
 * one info alert through DW_CMD_LINK while the link is down. */
#ifndef DW_BED_H
#define DW_BED_H

#include "monitor/monitor.h"
#include "net/broker.h"

#define DW_NET_QUEUE 4096

typedef struct {
    const dw_publish_cfg *publish; /* url empty: no broker */
    const char *session;           /* control socket name; NULL or "": none */
    const char *subject; /* the recording's subject code: a bed id equal to it is refused */
} dw_net_opts;

typedef struct dw_net dw_net;

/* The checks dw_net_start makes before it starts anything (no session of the same name running; the
 * broker URL, the bed id against the subject code, the credentials file and its mode, the TLS files
 * readable), so a command can refuse before it opens the device or creates a recording. 0, or -1
 * with err. */
int dw_net_check(const dw_net_opts *o, dw_err *err);
/* Check the options, bind the control socket, start the broker client and the thread. NULL with err
 * (a bad URL, bed id, credentials file or TLS file; a session of that name already running). */
dw_net *dw_net_start(dw_monitor *m, const dw_net_opts *o, dw_err *err);
/* After the worker has finished: publish the final status ("state":"ended"), flush the control
 * socket, stop the thread and free. NULL is fine. */
void dw_net_stop(dw_net *n);
/* Counters, for `make bench` and the log: messages and payload bytes handed to the broker, dropped.
 */
void dw_net_counts(dw_net *n, long *msgs, long long *bytes, long *dropped);

#endif
