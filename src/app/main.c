/* dreamwatch: the command line. Sub-commands are a table (tmux style), one per cmd_NAME.c; with none,
 * dreamwatch watches a night (cmd_watch.c). */
#include <stdio.h>
#include <locale.h>
#include <string.h>
#include <sys/stat.h>

#include "app/commands.h"

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    { "score", dw_cmd_score },
    { "features", dw_cmd_features },
    { "record", dw_cmd_record },
    { "emulate", dw_cmd_emulate },
    { "recover", dw_cmd_recover },
    { "attach", dw_cmd_attach },
    { "ward", dw_cmd_ward },
    { "nights", dw_cmd_nights },
    { "check", dw_cmd_check },
};

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    setlocale(LC_NUMERIC, "C");   /* numbers in files and reports always use a decimal point */
    umask(077);   /* health data: everything we create is private */
    /* getopt names argv[0] in its messages: "dreamwatch score: unrecognized option '--bogus'", not the
     * binary's full path or the bare command */
    static char name[64];
    if (argc > 1)
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (!strcmp(argv[1], commands[i].name)) {
                snprintf(name, sizeof name, "dreamwatch %s", commands[i].name);
                argv[1] = name;
                return commands[i].run(argc - 1, argv + 1);
            }
    snprintf(name, sizeof name, "dreamwatch");
    argv[0] = name;
    return dw_cmd_watch(argc, argv);
}
