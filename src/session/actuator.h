/* Actuators: how a stimulus, a cue, a wake or an escalation reaches the room. Four kinds fill one small
 * vtable: "none", "bell" (through a callback the screen provides), "serial" (a trigger byte on a second
 * port) and "command" (a program run without a shell, started without waiting; dw_actuator_poll reaps it
 * and kills it when it outlives its timeout). Nothing here blocks, nothing here raises alerts: a failure
 * comes back as DW_ACT_FAILED with the reason, and the session turns it into an alert. */
#ifndef DW_ACTUATOR_H
#define DW_ACTUATOR_H

#include "base/dw.h"

typedef struct dw_actuator dw_actuator;

/* What poll reports. */
enum dw_act_status { DW_ACT_IDLE = 0, DW_ACT_RUNNING, DW_ACT_DONE, DW_ACT_FAILED };

typedef struct {
    const char *kind;          /* "none", "bell", "command", "serial" */
    const char *command;       /* command line, split on whitespace; first word resolved through PATH */
    const char *serial_path;   /* serial: the trigger port (opened O_WRONLY|O_NOCTTY|O_NONBLOCK) */
    int         byte;          /* serial: the trigger byte */
    double      timeout_s;     /* command: killed (SIGTERM, then SIGKILL 1 s later) after this */
    int         pass_attempt;  /* command: append the attempt number as a last argument (wake) */
    void      (*bell)(void *ctx);  /* bell: rings the terminal; NULL writes BEL to stderr */
    void       *bell_ctx;
} dw_actuator_spec;

/* NULL with err for an unknown kind or a "command" without a command line. Nothing is opened or
 * resolved yet: a missing program or port shows up as a failure when the actuator fires. */
dw_actuator *dw_actuator_new(const char *name, const dw_actuator_spec *spec, dw_err *err);
void dw_actuator_free(dw_actuator *a);      /* kills a command still running and reaps it */
const char *dw_actuator_name(const dw_actuator *a);
const char *dw_actuator_kind(const dw_actuator *a);

/* Fire once at wall-clock time now; attempt (1, 2, ...) is passed to wake commands.
 * 0: done or started; -1: failed at once, err says why. */
int  dw_actuator_fire(dw_actuator *a, double now, int attempt, dw_err *err);
/* Fire once with extra arguments appended, each one word however many spaces it holds (the escalation
 * command gets the alert's id, severity, state and text); kinds other than "command" ignore them.
 * 0 or -1 as dw_actuator_fire. */
int  dw_actuator_fire_args(dw_actuator *a, double now, const char *const *args, int nargs, dw_err *err);

/* What a command may be given: its words may hold {volume} (the stimulus level, "%g") and {item} (a
 * memory cue's item, e.g. a sound file), replaced where they stand; an item is appended as the last
 * argument when no word holds {item}. */
typedef struct {
    double      volume;        /* NAN: {volume} is left as it is */
    const char *item;          /* NULL: none */
} dw_act_vars;
/* dw_actuator_fire with vars (NULL: none); only "command" uses them. */
int dw_actuator_fire_vars(dw_actuator *a, double now, int attempt, const dw_act_vars *v,
                          dw_err *err);
/* Reap finished commands and kill those past their timeout. Call often (every tick).
 * Returns DW_ACT_FAILED (err filled) or DW_ACT_DONE for the first child that finished since the last
 * call, else DW_ACT_RUNNING while children run, else DW_ACT_IDLE. Call again until it stops
 * returning DONE/FAILED to collect every child. */
int  dw_actuator_poll(dw_actuator *a, double now, dw_err *err);
/* Send SIGTERM to every child still running (safe shutdown); poll still reaps them. */
void dw_actuator_stop(dw_actuator *a, double now);

/* Split a command line on whitespace into argv (at most max-1 words, NULL-terminated) inside buf.
 * Returns the word count. */
int  dw_cmdline_split(const char *line, char *buf, size_t bufsize, char **argv, int max);
/* Resolve a program name through PATH (names with a '/' are taken as they are). 0 or -1. */
int  dw_path_resolve(const char *name, char *out, size_t n);

#endif
