/* The sub-commands: `dreamwatch NAME ...` runs NAME's main with argv[0] = NAME. Each returns the process
 * exit status (0 ok, 1 failure, 2 usage). One command per cmd_NAME.c; main.c holds the table. */
#ifndef DW_COMMANDS_H
#define DW_COMMANDS_H

int dw_cmd_watch(int argc, char **argv);            /* the monitor (no sub-command) */
int dw_cmd_record(int argc, char **argv);           /* record --serial PATH: headless live night */
int dw_cmd_score(int argc, char **argv);            /* score NIGHT.edf... */
int dw_cmd_score_features(int argc, char **argv);   /* score --features TABLE.tsv... */
int dw_cmd_features(int argc, char **argv);         /* features NIGHT...: the per-epoch feature table */
int dw_cmd_emulate(int argc, char **argv);          /* emulate: a Cyton on a pty */
int dw_cmd_recover(int argc, char **argv);          /* recover FILE.bdf... */
int dw_cmd_check(int argc, char **argv);            /* check --serial PORT: the pre-night check */
int dw_cmd_attach(int argc, char **argv);           /* attach [SESSION]: a session's monitor */
int dw_cmd_ward(int argc, char **argv);             /* ward --broker URL: every published bed */
int dw_cmd_nights(int argc, char **argv);           /* nights [DIR...]: the nights' summaries in a table */

#endif
