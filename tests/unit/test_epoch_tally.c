/* Why epochs were unscored or staged on one channel (staging/epoch_tally.c): one cause per epoch and
 * channel from the verdict's seconds (dw_epoch_result.flag_s, as the pipeline fills them: test_pipeline and
 * tests/e2e/score_roles.sh run it on real signal), and the lines score prints. */
#include "tap.h"

#include <stdio.h>
#include <string.h>

#include "staging/epoch_tally.h"

static int bitof(unsigned f)
{
    int k = 0;
    while (f > 1u)
        f >>= 1, k++;
    return k;
}

/* An epoch with s[c] seconds of flag f[c] on channel c (two flags each at most), judged as the pipeline
 * judges it. */
static dw_epoch_result epoch(unsigned f0, int s0, unsigned g0, int t0, unsigned f1, int s1, int one_channel)
{
    dw_epoch_result r;
    memset(&r, 0, sizeof r);
    if (f0) r.flag_s[0][bitof(f0)] = (unsigned char)s0;
    if (g0) r.flag_s[0][bitof(g0)] = (unsigned char)t0;
    if (f1) r.flag_s[1][bitof(f1)] = (unsigned char)s1;
    r.unusable_s = ((f0 & DW_Q_UNUSABLE) ? s0 : 0) + ((g0 & DW_Q_UNUSABLE) ? t0 : 0);
    r.artefact_s = ((f0 & DW_Q_ARTEFACT) ? s0 : 0) + ((g0 & DW_Q_ARTEFACT) ? t0 : 0);
    int frontal_ok = r.unusable_s <= DW_EPOCH_UNUSABLE_S && r.artefact_s < DW_EPOCH_ARTEFACT_S;
    r.parietal_lost = frontal_ok && f1 && !one_channel;   /* as finish_epoch marks it */
    r.valid = frontal_ok && !r.parietal_lost;
    r.one_channel = one_channel;
    return r;
}

static void print(const dw_epoch_tally *t, char *buf, size_t cap, const char *model)
{
    const char *label[2] = { "EEG Fpz-Cz", "EEG Pz-Oz" };
    buf[0] = 0;
    FILE *f = fmemopen(buf, cap, "w");
    dw_epoch_tally_print(f, "", t, label, model, "eeg");
    fclose(f);
}

int main(void)
{
    dw_epoch_tally t;
    memset(&t, 0, sizeof t);
    dw_epoch_result r[] = {
        epoch(DW_Q_FLAT, 20, 0, 0, 0, 0, 0),                 /* flat */
        epoch(DW_Q_FLAT, 6, DW_Q_RAILED, 6, 0, 0, 0),        /* a tie: railed, the worse */
        epoch(DW_Q_LOST, 30, 0, 0, 0, 0, 0),                 /* every second lost: a gap */
        epoch(DW_Q_LOST, 12, 0, 0, 0, 0, 0),                 /* part lost */
        epoch(DW_Q_ARTEFACT, 16, 0, 0, 0, 0, 0),             /* mostly artefact */
        epoch(DW_Q_FLAT, 5, 0, 0, 0, 0, 0),                  /* a few flat seconds: still scored */
        epoch(0, 0, 0, 0, DW_Q_FLAT, 30, 1),                 /* parietal flat: one channel */
        epoch(0, 0, 0, 0, DW_Q_RAILED, 12, 1),
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        dw_epoch_tally_add(&t, &r[i]);
    CHECK("counts: 8 epochs, 5 unscored, 2 on one channel", t.epochs == 8 && t.unscored == 5 && t.one_channel == 2,
          "%d %d %d", t.epochs, t.unscored, t.one_channel);
    CHECK("one cause each: flat, railed (a tie), gap, lost, artefact",
          t.why[0][DW_WHY_FLAT] == 1 && t.why[0][DW_WHY_RAILED] == 1 && t.why[0][DW_WHY_GAP] == 1 &&
          t.why[0][DW_WHY_LOST] == 1 && t.why[0][DW_WHY_ARTEFACT] == 1, "flat %d railed %d gap %d lost %d art %d",
          t.why[0][DW_WHY_FLAT], t.why[0][DW_WHY_RAILED], t.why[0][DW_WHY_GAP], t.why[0][DW_WHY_LOST],
          t.why[0][DW_WHY_ARTEFACT]);
    char buf[1024];
    print(&t, buf, sizeof buf, "fpz_pz");
    CHECK("the lines", !strcmp(buf, "why 5 unscored epochs: EEG Fpz-Cz lost 1, railed 1, flat 1, artefact 1; "
                                    "no signal (gap) 1\n"
                                    "2 of 3 staged epochs on EEG Fpz-Cz alone (model eeg standing in for fpz_pz): "
                                    "EEG Pz-Oz railed 1, flat 1\n"), "%s", buf);

    /* a given two-channel model has no stand-in: the parietal channel's epochs are unscored, said so */
    memset(&t, 0, sizeof t);
    dw_epoch_result p = epoch(0, 0, 0, 0, DW_Q_FLAT, 30, 0);
    dw_epoch_tally_add(&t, &p);
    print(&t, buf, sizeof buf, "mine");
    CHECK("no stand-in: the parietal cause", !strcmp(buf, "why 1 unscored epoch: EEG Pz-Oz flat 1 (model mine has "
                                                          "no one-channel stand-in)\n"), "%s", buf);
    memset(&t, 0, sizeof t);
    dw_epoch_result ok = epoch(0, 0, 0, 0, 0, 0, 0);
    dw_epoch_tally_add(&t, &ok);
    print(&t, buf, sizeof buf, "fpz_pz");
    CHECK("a clean epoch: nothing", !buf[0], "%s", buf);
    TAP_DONE();
}
