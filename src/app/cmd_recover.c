/* `dreamwatch recover FILE.bdf...`: repair recordings left by a crash (the library is record/recover.c). */
#include "app/commands.h"
#include "record/recorder.h"

#include <stdio.h>
#include <string.h>

int dw_cmd_recover(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fprintf(argc < 2 ? stderr : stdout,
                "usage: dreamwatch recover FILE.bdf...\n"
                "Repairs recordings left by a crash: sets the record count from the file size (dropping a\n"
                "torn last record) and merges the annotations kept in FILE.bdf.events.tsv. The original is\n"
                "replaced only by a complete, verified copy; a sound file is left as it is.\n");
        return argc < 2 ? 2 : 0;
    }
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        dw_err err = { "" };
        if (dw_recover_file(argv[i], stdout, &err)) {
            fprintf(stderr, "dreamwatch recover: %s\n", err.msg);
            bad = 1;
        }
    }
    return bad ? 1 : 0;
}
