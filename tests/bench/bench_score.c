/* `dreamwatch score` of the sample night against the floor, all in one run (issue 16): reference 1,
 * the bare EDFlib read: edfopen_file_readonly (every annotation read, as any EDFlib user who wants
 * the file's annotations opens it) and edfread_physical_samples of every signal to the end;
 * reference 2, reference 1 + FFTW Welch features: the seven numbers of every 30-s epoch of every
 * 100-Hz signal, computed the plain way on FFTW (tests/bench/fftw_welch.h); score: the real binary,
 * `score --out TMP --force NIGHT` (reading, quality verdict, features, both stagers, the hypnogram
 * as CSV and EDF+, statistics, agreement with the night's own annotations). Each runs in its own
 * process (score by execve; the references in a fork of this one), each timed by its CPU time (user
 * + system, from wait4: on this shared machine CPU time does not count the waits for a core that
 * wall time does), best of 7, interleaved. Targets: score <= 2.0x reference 1 and <= 1.2x reference
 * 2. A night may be given as the argument. */
#include "base/dw.h"
#include "fftw_welch.h"

#include <edflib.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define REPS 7

static const char *night, *dwbin;
static char outdir[256];

/* Reference 1 (and 2 with features): 0 on success. */
static int edflib_read(int features)
{
    static struct edf_hdr_struct h;
    if (edfopen_file_readonly(night, &h, EDFLIB_READ_ALL_ANNOTATIONS))
        return 1;
    double sink = 0;
    for (int s = 0; s < h.edfsignals; s++) {
        long long n = h.signalparam[s].smp_in_file;
        double *x = malloc((size_t)n * sizeof *x);
        if (!x || edfread_physical_samples(h.handle, s, (int)n, x) != n)
            return 1;
        int fs100 = h.signalparam[s].smp_in_datarecord * (double)EDFLIB_TIME_DIMENSION / h.datarecord_duration == 100;
        for (long long e = 0; features && fs100 && (e + 1) * 3000 <= n; e++) {
            ref_features f;
            ref_features_epoch(x + e * 3000, &f);
            sink += f.band[0] + f.dvar;
        }
        sink += x[n / 2];
        free(x);
    }
    edfclose_file(h.handle);
    return sink == 0.5 ? 2 : 0;          /* keeps the work observable */
}

/* CPU seconds of one run of what (0: score, 1: reference 1, 2: reference 2), its wall time in
 * *wall; -1 if it failed. */
static double run(int what, double *wall)
{
    double t0 = dw_now_mono();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (what)
            _exit(edflib_read(what == 2));
        int nul = open("/dev/null", O_WRONLY);
        dup2(nul, 1);
        dup2(nul, 2);
        char out[300];
        snprintf(out, sizeof out, "%s/night", outdir);
        char *argv[] = { (char *)dwbin, "score", "--out", out, "--force", (char *)night, NULL };
        execv(dwbin, argv);
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -1;
    *wall = dw_now_mono() - t0;
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

int main(int argc, char **argv)
{
    night = argc > 1 ? argv[1] : DW_SRCDIR "/sample-data/sample-night.edf";
    dwbin = getenv("DW_BIN") ? getenv("DW_BIN") : DW_SRCDIR "/build/dreamwatch";
    if (access(night, R_OK) || access(dwbin, X_OK)) {
        printf("FAIL bench_score: %s or %s missing (run make)\n", night, dwbin);
        return 1;
    }
    const char *t = getenv("TMPDIR");
    snprintf(outdir, sizeof outdir, "%s/dw-bench-score-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(outdir))
        return 1;
    double cpu[3] = { 1e9, 1e9, 1e9 }, wall[3] = { 1e9, 1e9, 1e9 };
    int bad = 0;
    for (int rep = 0; rep < REPS && !bad; rep++)
        for (int w = 0; w < 3; w++) {
            double wl = 0, c = run(w, &wl);
            bad |= c < 0;
            cpu[w] = c < cpu[w] ? c : cpu[w];
            wall[w] = wl < wall[w] ? wl : wall[w];
        }
    char p[300];
    snprintf(p, sizeof p, "%s/night.csv", outdir), unlink(p);
    snprintf(p, sizeof p, "%s/night.edf", outdir), unlink(p);
    rmdir(outdir);
    if (bad) {
        printf("FAIL bench_score: a run failed\n");
        return 1;
    }
    static struct edf_hdr_struct h;
    double hours = 0;
    if (!edfopen_file_readonly(night, &h, EDFLIB_DO_NOT_READ_ANNOTATIONS)) {
        hours = h.file_duration / (double)EDFLIB_TIME_DIMENSION / 3600;
        edfclose_file(h.handle);
    }
    printf("score of %s (%.2f h), CPU time (user + system), best of %d:\n", night, hours, REPS);
    printf("  reference 1, bare EDFlib read (open with annotations + every sample) %7.3f s  (wall %.3f s)\n",
           cpu[1], wall[1]);
    printf("  reference 2, EDFlib read + FFTW Welch features (7 per channel-epoch)  %7.3f s  (wall %.3f s)\n",
           cpu[2], wall[2]);
    printf("  dreamwatch score (the binary, outputs and agreement included)        %7.3f s  (wall %.3f s) "
           "= %.0f x real time\n", cpu[0], wall[0], hours * 3600 / cpu[0]);
    double r1 = cpu[0] / cpu[1], r2 = cpu[0] / cpu[2];
    printf("  score / reference 1 (bare EDFlib read): %.2f  (target <= 2.0)  %s\n", r1, r1 <= 2.0 ? "ok" : "OVER");
    printf("  score / reference 2 (read + FFTW Welch features): %.2f  (target <= 1.2)  %s\n", r2,
           r2 <= 1.2 ? "ok" : "OVER");
    return 0;
}
