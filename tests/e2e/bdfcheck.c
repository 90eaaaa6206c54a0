/* The e2e scripts' check of a closed BDF+ through EDFlib (session.sh, hangup.sh): cc -o bdfcheck
 * bdfcheck.c -ledf -lm; bdfcheck FILE.bdf. */
#include <edflib.h>
#include <stdio.h>
#include <string.h>
/* Prints: type records seconds, and "Recording stopped" among the last annotations; exit 1 if EDFlib refuses the file or a record is unreadable. */
int main(int argc, char **argv)
{
    struct edf_hdr_struct h;
    struct edf_annotation_struct a = { 0 };
    double buf[4096];
    if (argc != 2 || edfopen_file_readonly(argv[1], &h, EDFLIB_READ_ALL_ANNOTATIONS) < 0) {
        printf("EDFlib refuses it (%d)\n", argc == 2 ? h.filetype : -1);
        return 1;
    }
    for (long long i = h.annotations_in_file - 1; i >= 0 && i >= h.annotations_in_file - 3; i--)
        if (edf_get_annotation(h.handle, (int)i, &a) == 0 && !strcmp(a.annotation, "Recording stopped"))
            break;                      /* the last annotations: stopped, then the padding of the last record */
    int n = (int)h.signalparam[0].smp_in_datarecord;
    int ok = h.datarecords_in_file > 0 && n <= 4096 && edfseek(h.handle, 0, (h.datarecords_in_file - 1) * n, EDFSEEK_SET) >= 0
             && edfread_physical_samples(h.handle, 0, n, buf) == n;
    printf("%d %lld %.1f %s\n", h.filetype, h.datarecords_in_file, h.file_duration / (double)EDFLIB_TIME_DIMENSION,
           a.annotation[0] ? a.annotation : "-");
    edfclose_file(h.handle);
    return ok ? 0 : 1;
}
