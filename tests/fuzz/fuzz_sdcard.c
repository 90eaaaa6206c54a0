/* libFuzzer: the Cyton SD-card log reader; the same driver as the GUI text one. */
/* fuzz: -max_len=200000 */   /* lines past the reader's 64-KB bound must be tried */
#define FUZZ_OPEN dw_sdcard_open
#include "fuzz_openbci_text.c"
