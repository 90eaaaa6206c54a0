/* libFuzzer: the INI parser and the key table (through a real file, as dreamwatch reads it). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "app/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/dw-fuzz-config-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) { close(fd); unlink(path); return 0; }
    close(fd);
    dw_config c;
    dw_err err;
    dw_config_defaults(&c);
    dw_config_load(&c, path, 0, &err);
    unlink(path);
    return 0;
}
