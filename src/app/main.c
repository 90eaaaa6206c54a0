/* Placeholder until the command line lands (lead is writing it). */
#include <stdio.h>
#include "dw.h"
int main(void) { printf("dreamwatch %s\n", DW_VERSION); return 0; }
