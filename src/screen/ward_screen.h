/* The ward screen (`dreamwatch ward`): one row per bed, those that need attention first; Enter
 * opens a bed's detail (its hypnogram and alerts from the published stream); w, n, a and X send
 * commands to the selected bed after a confirmation, and the answer (acknowledged, refused, none)
 * is said on screen. */
#ifndef DW_WARD_SCREEN_H
#define DW_WARD_SCREEN_H

#include "net/ward.h"
#include "screen/screen.h"

/* Own the terminal until q (or SIGINT/SIGTERM/SIGHUP). Leaves every bed as it is. Returns 0, or 1
 * when the terminal could not be used. */
int dw_ward_run(dw_ward *w, const dw_display_cfg *cfg);

#endif
