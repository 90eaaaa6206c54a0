/* Opening a recording by what is in it, not by its name: EDF/BDF headers, OpenBCI GUI text, Cyton SD logs. */
#include "sources/source.h"
#include "base/files.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void dw_source_note(char *note, size_t cap, const char *fmt, ...)
{
    size_t k = strlen(note);
    if (k + 2 >= cap)
        return;
    if (k)
        note[k++] = '\n', note[k] = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(note + k, cap - k, fmt, ap);
    va_end(ap);
}

void dw_source_take_roles(dw_source_info *info, const dw_montage *m, const char *path)
{
    const char *name = strrchr(path, '/');
    info->frontal = m->frontal;
    info->parietal = m->parietal;
    snprintf(info->roles_how, sizeof info->roles_how, "%s", m->how);
    if (m->note[0])
        dw_source_note(info->note, sizeof info->note, "%s: %s", name ? name + 1 : path, m->note);
}

/* An SD-card data line starts "XX,XXXXXX," in hex (sample number, first channel count). */
static int sdcard_line(const char *s)
{
    static const char form[] = "hh,hhhhhh,";
    for (int i = 0; form[i]; i++)
        if (form[i] == ',' ? s[i] != ',' : !strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
            return 0;
    return 1;
}

dw_source *dw_source_open_file(const char *path, const dw_channel_spec *spec, dw_err *err)
{
    char head[64] = "";
    int fd = dw_input_open(path, "recording", err);   /* a FIFO or a device is refused, never waited on */
    if (fd < 0)
        return NULL;
    ssize_t got = pread(fd, head, sizeof head - 1, 0);
    int rerr = got < 0 ? errno : 0;
    close(fd);
    if (got <= 0) {                                      /* say what it is, not "unknown format" */
        if (rerr)
            dw_err_set(err, "%s: cannot read it: %s", path, strerror(rerr));
        else
            dw_err_set(err, "%s: empty (0 bytes): not a recording", path);
        return NULL;
    }
    size_t n = (size_t)got;
    head[n] = 0;
    if (n >= 8 && (!memcmp(head, "0       ", 8) || !memcmp(head, "\xff" "BIOSEMI", 8)))
        return dw_edf_open(path, spec, err);
    if (n >= 3 && !memcmp(head, "\xef\xbb\xbf", 3))        /* a UTF-8 byte-order mark (a text editor) */
        memmove(head, head + 3, (n -= 3) + 1);
    if (!strncmp(head, "%STOP AT", 8) || !strncmp(head, "%START AT", 9) || sdcard_line(head))
        return dw_sdcard_open(path, spec, err);
    if (!strncmp(head, "%OpenBCI", 8))
        return dw_openbci_text_open(path, spec, err);
    dw_err_set(err, "%s: unknown format: not EDF/BDF (header \"0       \" or \"\\xffBIOSEMI\"), OpenBCI GUI "
               "text (\"%%OpenBCI ...\") or a Cyton SD-card log (\"%%STOP AT\" or \"%%START AT\")", path);
    return NULL;
}
