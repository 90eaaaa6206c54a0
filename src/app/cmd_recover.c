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
                "Repairs recordings left by a crash, in place and with no extra disk space: sets the record\n"
                "count from the file size (dropping a torn last record) and writes the annotations kept in\n"
                "FILE.bdf.events.tsv into the file's free annotation space, then reads them back. Only more\n"
                "annotations than fit need a rewrite, into an unnamed temporary file. A sound file is left\n"
                "as it is; a file that cannot be repaired is left as it was. Only dreamwatch's own\n"
                "recordings are changed: another writer's file is refused and left as it is.\n");
        return argc < 2 ? 2 : 0;
    }
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        dw_err err = { 0 };
        if (dw_recover_file(argv[i], stdout, &err)) {
            fprintf(stderr, "dreamwatch recover: %s\n", err.msg);
            bad = 1;
        }
    }
    return bad ? 1 : 0;
}
