/* placeholder until the ward lands */
#include "app/commands.h"
int dw_cmd_ward(int argc, char **argv) { (void)argc; (void)argv; return 2; }
