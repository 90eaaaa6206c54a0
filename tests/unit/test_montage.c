/* The one channel-role rule (sources/montage.c) on its own: which channel stages when none is frontal by
 * name (rule 5: the first EEG channel, alone, with the one-channel model), the note that says so, and that
 * the other rules are unchanged. The sources' use of it is tested through real files in test_edf_source
 * and tests/e2e/score.sh. */
#include "tap.h"

#include <string.h>

#include "sources/montage.h"

/* Chooses among labels (NULL-terminated) with --frontal fr, --parietal pa ("" unset). */
static int choose(const char *const *labels, const char *fr, const char *pa, dw_montage *m, dw_err *err)
{
    dw_montage_in in;
    memset(&in, 0, sizeof in);
    for (; labels[in.n]; in.n++) {
        in.label[in.n] = labels[in.n];
        in.usable[in.n] = 1;
    }
    dw_channel_spec spec;
    memset(&spec, 0, sizeof spec);
    snprintf(spec.frontal, sizeof spec.frontal, "%s", fr);
    snprintf(spec.parietal, sizeof spec.parietal, "%s", pa);
    return dw_montage_choose(&in, &spec, "night.edf", m, err);
}

/* The label of role r (0 frontal, 1 parietal): sel holds source channel numbers. */
static const char *role(const char *const *labels, const dw_montage *m, int r)
{
    int i = r ? m->parietal : m->frontal;
    return i >= 0 ? labels[m->sel[i]] : "none";
}

static void test_no_frontal(void)
{
    dw_err err = { 0 };
    dw_montage m;
    const char *pz[] = { "EEG Pz-Oz", NULL };
    int rc = choose(pz, "", "", &m, &err);
    CHECK("a lone Pz-Oz stages, alone", rc == 0 && m.frontal == 0 && m.parietal == -1, "rc %d %s, %s: %s", rc,
          role(pz, &m, 0), role(pz, &m, 1), err.msg);
    CHECK("the reason says none is frontal", !strcmp(m.how, "the first EEG channel, none is frontal"), "%s", m.how);
    CHECK("the note names it, says it is not frontal, and that Pz-Oz is a training derivation",
          strstr(m.note, "staging on \"EEG Pz-Oz\" alone (the one-channel model), which is not frontal") &&
          strstr(m.note, "Pz-Oz is one of the two derivations the built-in models were trained on"), "%s", m.note);

    const char *o1[] = { "EEG O1-M2", NULL };
    rc = choose(o1, "", "", &m, &err);
    CHECK("a lone O1-M2 stages, alone", rc == 0 && m.frontal == 0 && m.parietal == -1, "rc %d", rc);
    CHECK("the note says O1-M2 is not a training derivation, nearest Pz-Oz",
          strstr(m.note, "\"EEG O1-M2\" alone") && strstr(m.note, "neither of the derivations") &&
          strstr(m.note, "nearest: Pz-Oz"), "%s", m.note);

    /* a first-use test: O2-M1 (signal 2) took the frontal slot beside Pz-Oz, said to be "the first" */
    const char *pzo2[] = { "EEG Pz-Oz", "EEG O2-M1", NULL };
    rc = choose(pzo2, "", "", &m, &err);
    CHECK("Pz-Oz + O2-M1: the first (Pz-Oz) stages alone", rc == 0 && m.frontal == 0 && m.parietal == -1,
          "%s, %s", role(pzo2, &m, 0), role(pzo2, &m, 1));
    const char *c3[] = { "Resp", "EEG C3-A2", "EEG Pz-Oz", NULL };
    rc = choose(c3, "", "", &m, &err);
    CHECK("C3-A2 + Pz-Oz: the central channel stands in for Fpz-Cz, Pz-Oz keeps the parietal slot",
          rc == 0 && !strcmp(role(c3, &m, 0), "EEG C3-A2") && !strcmp(role(c3, &m, 1), "EEG Pz-Oz"),
          "%s, %s", role(c3, &m, 0), role(c3, &m, 1));
    CHECK("C3-A2 + Pz-Oz: the note says central, the stand-in, and the parietal slot's channel",
          strstr(m.note, "staging on \"EEG C3-A2\", a central channel, in the frontal slot (the nearest stand-in "
                         "for Fpz-Cz") && strstr(m.note, "with \"EEG Pz-Oz\" in the parietal slot (a training "
                         "derivation)") && !strcmp(m.how, "frontal: a central stand-in, none is frontal; parietal: "
                         "by electrode name"), "%s | %s", m.note, m.how);
    rc = choose(c3, "", "Pz-Oz", &m, &err);
    CHECK("a parietal given stays; the frontal slot takes the central channel",
          rc == 0 && !strcmp(role(c3, &m, 0), "EEG C3-A2") && !strcmp(role(c3, &m, 1), "EEG Pz-Oz") &&
          !strstr(m.note, "one-channel"), "%s, %s: %s", role(c3, &m, 0), role(c3, &m, 1), m.note);

    /* a tester's file: O1 first, then C3, no frontal electrode: O1 took the frontal slot, called frontal */
    const char *o1c3[] = { "EEG O1-M2", "EEG C3-M2", NULL };
    rc = choose(o1c3, "", "", &m, &err);
    CHECK("O1-M2 + C3-M2: C3 in the frontal slot, O1 in the parietal one",
          rc == 0 && !strcmp(role(o1c3, &m, 0), "EEG C3-M2") && !strcmp(role(o1c3, &m, 1), "EEG O1-M2"),
          "%s, %s", role(o1c3, &m, 0), role(o1c3, &m, 1));
    const char *c4[] = { "EEG C4-M1", NULL };
    rc = choose(c4, "", "", &m, &err);
    CHECK("a lone C4-M1: the frontal slot, alone (one-channel model), said central",
          rc == 0 && m.frontal == 0 && m.parietal == -1 && strstr(m.note, "\"EEG C4-M1\", a central channel") &&
          strstr(m.note, "alone (the one-channel model)"), "%s", m.note);
    const char *t3[] = { "EEG T3-A2", "EEG O2-A1", NULL };
    rc = choose(t3, "", "", &m, &err);
    CHECK("T3 + O2 (no C row): the first EEG channel alone, as before",
          rc == 0 && m.frontal == 0 && m.parietal == -1 && strstr(m.note, "\"EEG T3-A2\" alone"), "%s", m.note);
}

/* What outputs call a staged channel: its region unless that is its slot's (dw_montage_roles_line). */
static void test_role_words(void)
{
    char line[200];
    dw_montage_roles_line("EEG Fpz-Cz", "EEG Pz-Oz", line, sizeof line);
    CHECK("Fpz-Cz, Pz-Oz: frontal, parietal", !strcmp(line, "frontal EEG Fpz-Cz, parietal EEG Pz-Oz"), "%s", line);
    dw_montage_roles_line("EEG C3-M2", "EEG O1-M2", line, sizeof line);
    CHECK("C3 in the frontal slot is called central, O1 in the parietal slot parieto-occipital", !strcmp(line, "central EEG C3-M2 (in the frontal slot), "
          "parieto-occipital EEG O1-M2 (in the parietal slot)"), "%s", line);
    dw_montage_roles_line("EEG O1-M2", NULL, line, sizeof line);
    CHECK("a lone O1 is parieto-occipital, never frontal", !strcmp(line, "parieto-occipital EEG O1-M2 (in the "
          "frontal slot), parietal none"), "%s", line);
    dw_montage_roles_line("Ch1", "Ch2", line, sizeof line);
    CHECK("ChN (no electrode): the slots' names", !strcmp(line, "frontal Ch1, parietal Ch2"), "%s", line);
    CHECK("role word: F4-M1 frontal, C4 central, Pz parietal", !strcmp(dw_montage_role_word(0, "F4-M1"), "frontal")
          && !strcmp(dw_montage_role_word(0, "C4"), "central") && !strcmp(dw_montage_role_word(1, "Pz"), "parietal"),
          "?");
    dw_montage_roles_line("EEG T3-A1", NULL, line, sizeof line);
    CHECK("T3 is temporal, not central", !strcmp(line, "temporal EEG T3-A1 (in the frontal slot), parietal none"),
          "%s", line);
    dw_montage_roles_line("EEG A1-A2", NULL, line, sizeof line);
    CHECK("A1-A2 is a reference derivation, not frontal",
          !strcmp(line, "reference EEG A1-A2 (in the frontal slot), parietal none"), "%s", line);
    CHECK("role word: P3 and Pz-Oz parietal in the parietal slot, POz parieto-occipital",
          !strcmp(dw_montage_role_word(1, "EEG P3-M2"), "parietal") &&
          !strcmp(dw_montage_role_word(1, "EEG Pz-Oz"), "parietal") &&
          !strcmp(dw_montage_role_word(1, "POz"), "parieto-occipital"), "?");
}

static void test_other_rules_unchanged(void)
{
    dw_err err = { 0 };
    dw_montage m;
    const char *both[] = { "EEG Pz-Oz", "EEG Fpz-Cz", NULL };
    int rc = choose(both, "", "", &m, &err);
    CHECK("by electrode: Fpz-Cz frontal, Pz-Oz parietal, no note", rc == 0 && m.frontal == 1 && m.parietal == 0 &&
          !m.note[0] && !strcmp(m.how, "by electrode name"), "%s", m.note);
    const char *fp1[] = { "EEG O2-A1", "EEG Fp1-A2", NULL };
    rc = choose(fp1, "", "", &m, &err);
    CHECK("Fp1 frontal, O2 parietal, the note says neither is a training derivation",
          rc == 0 && m.frontal == 1 && m.parietal == 0 &&
          strstr(m.note, "staging on \"EEG Fp1-A2\" in the frontal slot, \"EEG O2-A1\" in the parietal slot: "
                         "neither is a derivation the built-in models were trained on"), "%s", m.note);
    /* the AASM's recommended pair, by name (a tester: no note here while C4-M1 alone had one) */
    const char *aasm[] = { "EEG F4-M1", "EEG O2-M1", NULL };
    rc = choose(aasm, "", "", &m, &err);
    CHECK("F4-M1 + O2-M1: the same note (one rule: dw_montage_trained)",
          rc == 0 && m.frontal == 0 && m.parietal == 1 &&
          strstr(m.note, "neither is a derivation the built-in models were trained on (Fpz-Cz, Pz-Oz)"), "%s", m.note);
    const char *f4pz[] = { "EEG F4-M1", "EEG Pz-Oz", NULL };
    rc = choose(f4pz, "", "", &m, &err);
    CHECK("F4-M1 + Pz-Oz: the note names F4-M1 only", rc == 0 &&
          strstr(m.note, "staging on \"EEG F4-M1\" in the frontal slot: it is not a derivation") &&
          !strstr(m.note, "Pz-Oz\" in"), "%s", m.note);
    rc = choose(aasm, "F4-M1", "none", &m, &err);
    CHECK("--frontal F4-M1 (given): the note too", rc == 0 && strstr(m.note, "\"EEG F4-M1\" in the frontal slot: it "
          "is not a derivation the built-in models were trained on"), "%s", m.note);
    const char *chn[] = { "Ch1", "Ch2", "Ch3", NULL };
    rc = choose(chn, "", "", &m, &err);
    CHECK("ChN order: Ch1 frontal, Ch2 parietal, no note", rc == 0 && m.frontal == 0 && m.parietal == 1 &&
          !m.note[0] && !strcmp(m.how, "by channel order"), "%s", m.how);
    rc = choose(both, "Pz-Oz", "none", &m, &err);
    CHECK("--frontal Pz-Oz --parietal none: as given, no note", rc == 0 && m.frontal == 0 && m.parietal == -1 &&
          !m.note[0] && !strcmp(m.how, "as given"), "%s %s", m.how, m.note);
    rc = choose(both, "none", "", &m, &err);
    CHECK("--frontal none is obeyed (no frontal)", rc == 0 && m.frontal == -1, "%d", m.frontal);
}

/* The scalp region of a derivation's first electrode: where the spindle and slow-wave detectors'
 * criteria hold (dw_micro_on_region). */
static void test_region(void)
{
    static const struct { const char *label; int region; } t[] = {
        { "EEG Fpz-Cz", DW_REGION_FRONTAL }, { "F4-M1", DW_REGION_FRONTAL }, { "AF3", DW_REGION_FRONTAL },
        { "EEG C3-A2", DW_REGION_CENTRAL }, { "Cz", DW_REGION_CENTRAL }, { "FC3", DW_REGION_CENTRAL },
        { "CP4-M1", DW_REGION_CENTRAL }, { "T7-M1", DW_REGION_TEMPORAL }, { "EEG T3-A1", DW_REGION_TEMPORAL },
        { "T6", DW_REGION_TEMPORAL }, { "FT7", DW_REGION_TEMPORAL }, { "TP8-M1", DW_REGION_TEMPORAL },
        { "EEG Pz-Oz", DW_REGION_POSTERIOR }, { "O1-M2", DW_REGION_POSTERIOR }, { "P7", DW_REGION_POSTERIOR },
        { "POz", DW_REGION_POSTERIOR }, { "Iz", DW_REGION_POSTERIOR }, { "Ch1", DW_REGION_UNKNOWN },
        { "EEG", DW_REGION_UNKNOWN }, { "M1-M2", DW_REGION_REFERENCE }, { "EEG A1-A2", DW_REGION_REFERENCE },
        { "A1", DW_REGION_REFERENCE }, { "Fred", DW_REGION_UNKNOWN }, { "AF4", DW_REGION_FRONTAL },
        { "Fp2-F4", DW_REGION_FRONTAL },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char name[96];
        snprintf(name, sizeof name, "region of %s: %s", t[i].label, dw_montage_region_name(t[i].region));
        CHECK(name, dw_montage_region(t[i].label) == t[i].region, "got %s",
              dw_montage_region_name(dw_montage_region(t[i].label)));
    }
}

int main(void)
{
    test_region();
    test_no_frontal();
    test_role_words();
    CHECK("trained: Fpz-Cz frontal, Pz-Oz parietal, either alone", dw_montage_trained(0, 0, "EEG Fpz-Cz") &&
          dw_montage_trained(1, 0, "EEG Pz-Oz") && !dw_montage_trained(0, 0, "EEG Pz-Oz") &&
          dw_montage_trained(0, 1, "EEG Pz-Oz") && !dw_montage_trained(0, 1, "F4-M1"), "?");
    test_other_rules_unchanged();
    TAP_DONE();
}
