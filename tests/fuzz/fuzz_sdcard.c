/* libFuzzer: the Cyton SD-card log reader; the same driver as the GUI text one. */
#define FUZZ_OPEN dw_sdcard_open
#include "fuzz_openbci_text.c"
