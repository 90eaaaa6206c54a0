/* Why epochs were unscored or staged on one channel (see epoch_tally.h). */
#include "staging/epoch_tally.h"

#include "sources/montage.h"

static const unsigned char why_flag[DW_WHY_N] = { DW_Q_RANGE, DW_Q_LOST, DW_Q_RAILED, DW_Q_FLAT, DW_Q_ARTEFACT, 0 };

const char *dw_epoch_why_name(int why)
{
    return why == DW_WHY_GAP ? "no signal (gap)" : dw_quality_name(why_flag[why]);
}

static int bit(unsigned flag)
{
    int k = 0;
    while (flag > 1u)
        flag >>= 1, k++;
    return k;
}

/* The cause of column c's trouble in r: gap when every second was lost, else the flag with most seconds. */
static int cause(const dw_epoch_result *r, int c)
{
    if (r->flag_s[c][bit(DW_Q_LOST)] >= DW_EPOCH_S)
        return DW_WHY_GAP;
    int best = DW_WHY_ARTEFACT;
    for (int w = DW_WHY_ARTEFACT - 1; w >= 0; w--)    /* ties go to the earlier (worse) flag */
        if (r->flag_s[c][bit(why_flag[w])] >= r->flag_s[c][bit(why_flag[best])])
            best = w;
    return best;
}

void dw_epoch_tally_add(dw_epoch_tally *t, const dw_epoch_result *r)
{
    t->epochs++;
    if (!r->valid) {
        t->unscored++;
        int c = r->parietal_lost ? 1 : 0;    /* a given two-channel model lost it to the parietal channel */
        t->why[c][cause(r, c)]++;
    } else if (r->one_channel) {
        t->one_channel++;
        t->why_one[cause(r, 1)]++;
    }
}

void dw_epoch_tally_missing(dw_epoch_tally *t, int n)
{
    t->epochs += n;
    t->unscored += n;
    t->why[0][DW_WHY_GAP] += n;
}

/* ": EEG Pz-Oz flat 38, lost 2" (or "; ..." after earlier causes) for the counts n by cause; gaps are
 * left to the caller. */
static void causes(FILE *f, const int n[DW_WHY_N], const char *label, int *first)
{
    int named = 0;
    for (int w = 0; w < DW_WHY_GAP; w++) {
        if (!n[w])
            continue;
        fprintf(f, "%s%s%s %d", *first ? ": " : named ? ", " : "; ", named ? "" : label, dw_epoch_why_name(w),
                n[w]);
        *first = 0;
        named = 1;
    }
}

static void gaps(FILE *f, int n, int first)
{
    if (n)
        fprintf(f, "%s%s %d", first ? ": " : "; ", dw_epoch_why_name(DW_WHY_GAP), n);
}

void dw_epoch_tally_print(FILE *f, const char *indent, const dw_epoch_tally *t, const char *const label[2],
                          const char *model, const char *stand_in)
{
    char lf[64], lp[64];
    snprintf(lf, sizeof lf, "%s ", label[0] ? label[0] : "frontal");
    snprintf(lp, sizeof lp, "%s ", label[1] ? label[1] : "parietal");
    if (t->unscored) {
        int first = 1, parietal = 0;
        for (int w = 0; w < DW_WHY_N; w++)
            parietal += t->why[1][w];
        fprintf(f, "%swhy %d unscored %s", indent, t->unscored, t->unscored == 1 ? "epoch" : "epochs");
        causes(f, t->why[0], lf, &first);
        causes(f, t->why[1], lp, &first);
        gaps(f, t->why[0][DW_WHY_GAP] + t->why[1][DW_WHY_GAP], first);
        if (parietal)
            fprintf(f, " (model %s has no one-channel stand-in)", model ? model : "?");
        fprintf(f, "\n");
    }
    if (t->one_channel) {
        int first = 1, staged = t->epochs - t->unscored;
        fprintf(f, "%s%d of %d staged %s on %salone (model %s standing in for %s)", indent, t->one_channel,
                staged, staged == 1 ? "epoch" : "epochs", lf, stand_in ? stand_in : "?", model ? model : "?");
        causes(f, t->why_one, lp, &first);
        gaps(f, t->why_one[DW_WHY_GAP], first);
        fprintf(f, "\n");
    }
}

void dw_print_staged_night(FILE *f, const char *indent, const dw_staged_night *n)
{
    char roles[200];
    dw_montage_roles_line(n->roles[0], n->roles[1], roles, sizeof roles);
    fprintf(f, "%sstaging: %s (%s)\n", indent, roles, n->how ? n->how : "?");
    if (!n->st) {
        fprintf(f, "%sno whole epoch to stage (%.1f s of signal): no hypnogram, no sleep statistics\n", indent,
                n->signal_s);
    } else {
        dw_print_sleep_stats(f, indent, n->st);
        fprintf(f, "%sREM periods %d\n", indent, n->rem_periods);
    }
    dw_epoch_tally_print(f, indent, n->tally, n->label, n->model, n->stand_in);
}
