/* Writes the small EDF+/BDF+ seed files for tests/fuzz/fuzz_edf.c with EDFlib:
 *   cc -Itests/unit -o /tmp/make_edf_seeds tools/make_edf_seeds.c -ledf -lm
 *   /tmp/make_edf_seeds tests/fuzz/seeds/edf
 * Each is a few kB: mixed rates, mV and uV, sleep-stage and other annotations. */
#include "edf_testfile.h"

#include <math.h>
#include <stdio.h>

static double wave(int sig, double t)
{
    return (sig + 1) * 0.01 * sin(2 * M_PI * (3 + sig) * t);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    char p[1024];
    const tf_signal edf[] = { { "EEG Fpz-Cz", "mV", 128, -1, 1, wave }, { "EEG Pz-Oz", "uV", 100, -200, 200, wave },
                              { "Resp", "mV", 1, -5, 5, wave } };
    const tf_signal bdf[] = { { "EEG Fp1", "uV", 64, -187500, 187500, wave }, { "EEG O1", "V", 50, -0.2, 0.2, wave } };
    const tf_signal hyp[] = { { "EEG Fpz-Cz", "uV", 50, -100, 100, wave } };
    tf_annot an[] = { { 0, 30, "Sleep stage W" }, { 2, 0, "Lights off" }, { 30, 60, "Sleep stage 2" },
                      { 90, 30, "Sleep stage R" }, { 120, 30, "Movement time" }, { 150, 30, "Sleep stage ?" } };
    int rc = 0;
    snprintf(p, sizeof p, "%s/mixed-rates.edf", argv[1]);
    rc |= tf_write(p, EDFLIB_FILETYPE_EDFPLUS, edf, 3, 8, an, 3);
    snprintf(p, sizeof p, "%s/two-channels.bdf", argv[1]);
    rc |= tf_write(p, EDFLIB_FILETYPE_BDFPLUS, bdf, 2, 10, an + 1, 1);
    snprintf(p, sizeof p, "%s/stages.edf", argv[1]);
    rc |= tf_write(p, EDFLIB_FILETYPE_EDFPLUS, hyp, 1, 6, an, 6);
    return rc ? 1 : 0;
}
