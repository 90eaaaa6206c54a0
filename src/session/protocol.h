/* A research protocol file: what a study does to the sleeper on top of the configuration's
 * stimulation (INI, read with inih and checked like the configuration: "FILE:LINE: [section] key:
 * problem").
 *
 *   [protocol]      name = ...                      the study's name, in the log and the outputs
 *   [awakenings]    serial awakenings (dream research): when to wake, how often, for how long
 *   [question N]    N = 1..16, in order: text = ..., type = yesno | scale | text, timeout_s = ...,
 *                   low = ..., high = ... (labels of 1 and 5 on a scale)
 *   [sham]          condition = active | sham | random, ratio, seed, blind
 *   [cues]          memory cues (targeted memory reactivation): stage, interval_s, after_epochs,
 * max, cued = item, item, ...; uncued = item, ... (listed for the analysis, never played) The keys
 * with their defaults, limits and meaning are in protocol.c's table (README, "Running a protocol",
 * shows a complete file). A protocol adds nothing by itself in natural-sleep mode: every awakening,
 * cue and (sham) stimulus needs the session to be in enhanced mode. Plain data. */
#ifndef DW_PROTOCOL_H
#define DW_PROTOCOL_H

#include "base/dw.h"
#include "base/paths.h"

#define DW_PROTO_MAX_Q       16
#define DW_PROTO_MAX_ITEMS   64
#define DW_PROTO_MAX_TARGETS DW_NSTAGES
#define DW_PROTO_TEXT        200
#define DW_PROTO_ITEM        128

enum dw_answer_type { DW_ANSWER_YESNO = 0, DW_ANSWER_SCALE, DW_ANSWER_TEXT };
enum dw_sham_mode { DW_SHAM_OFF = 0, DW_SHAM_NIGHT, DW_SHAM_RANDOM };

typedef struct {
    char   text[DW_PROTO_TEXT];
    int    type;                       /* enum dw_answer_type */
    double timeout_s;                  /* no answer after this: recorded as such, next question */
    char   low[48], high[48];          /* scale: what 1 and 5 mean */
} dw_question;

typedef struct {
    int    loaded;                     /* a protocol file was read */
    char   path[DW_PATH_MAX];
    char   name[64];

    /* [awakenings] */
    int    aw_enabled;
    int    aw_ntargets;
    int    aw_target[DW_PROTO_MAX_TARGETS];      /* stage */
    double aw_dwell_min[DW_PROTO_MAX_TARGETS];   /* minutes of that stage, uninterrupted, before */
    double aw_first_min;               /* not before this long after lights-off */
    double aw_interval_min, aw_interval_max;     /* random wait (uniform, minutes) after each return
                                                    to sleep before the next may come */
    double aw_spacing_min;             /* at least this between two alarms */
    int    aw_max;                     /* per night */
    char   aw_not_before[8], aw_not_after[8];    /* clock window HH:MM ("" = none) */
    double aw_question_timeout_s;      /* default per question */
    unsigned long long aw_seed;
    int    nq;
    dw_question q[DW_PROTO_MAX_Q];

    /* [sham] */
    int    sham_mode;                  /* enum dw_sham_mode */
    double sham_ratio;                 /* random: share of sham stimuli */
    unsigned long long sham_seed;
    int    blind;                      /* the screen, log, annotations and summary do not show it */

    /* [cues] */
    int    cue_enabled;
    int    cue_stages;                 /* bit (1 << stage) for each target stage */
    double cue_interval_s;
    int cue_after_epochs; /* epochs of the target stage(s) in a row before the first cue */
    int    cue_max;                    /* per night, 0: only the stimulation limit */
    int    ncued, nuncued;
    char   cued[DW_PROTO_MAX_ITEMS][DW_PROTO_ITEM];
    char   uncued[DW_PROTO_MAX_ITEMS][DW_PROTO_ITEM];
} dw_protocol;

/* Defaults: nothing enabled (loaded = 0). */
void dw_protocol_defaults(dw_protocol *p);
/* Read path over the defaults. 0, or -1 with err "FILE:LINE: [section] key: problem" (or "FILE:
 * [section]: problem" for what only the whole file shows, e.g. a question without text). The file
 * is opened as an input (base/files.h): a FIFO or directory is refused, and no output may replace
 * it. */
int  dw_protocol_load(dw_protocol *p, const char *path, dw_err *err);
/* "yesno", "scale", "text". */
const char *dw_answer_type_name(int type);
/* Stage list "N2", "N2N3", "R"... as a bit mask (1 << stage); -1 if not understood. */
int  dw_stage_mask_parse(const char *s);

#endif
