/* dreamwatch: the command line. Sub-commands are a table (tmux style), one per cmd_NAME.c; with none,
 * dreamwatch watches a night (cmd_watch.c). */
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
    if (argc > 1)
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (!strcmp(argv[1], commands[i].name))
                return commands[i].run(argc - 1, argv + 1);
    return dw_cmd_watch(argc, argv);
}
