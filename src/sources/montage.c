/* The one channel-role rule (see montage.h). */
#include "sources/montage.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Nearest scalp sites to the training derivations first (Fpz-Cz, Pz-Oz). */
static const char *const frontal_names[] = {
    "fpz", "fp1", "fp2", "fz", "f3", "f4", "afz", "af3", "af4", "f1", "f2", "f7", "f8", NULL
};
static const char *const parietal_names[] = { "pz", "oz", "o1", "o2", "p3", "p4", "poz", "po3", "po4", NULL };
/* Rule 5's stand-in for Fpz-Cz when no electrode is frontal: a central one (Fpz-Cz's reference is Cz;
 * C3 and C4 first, the AASM's alternative derivations C4-M1 / C3-M2). Not a temporal one (T3-T8): it is
 * farther from Cz than any C electrode, lateral, and carries the temporalis muscle and the eye and heart
 * artefacts most; a night with only temporal channels stages on the first one, alone, with rule 5's note. */
static const char *const central_names[] = { "c3", "c4", "cz", "c1", "c2", "c5", "c6", NULL };
static const char *const ten_ten[] = {
    "fpz", "fp1", "fp2", "af3", "af4", "af7", "af8", "afz", "fz", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8",
    "fcz", "fc1", "fc2", "fc3", "fc4", "fc5", "fc6", "ft7", "ft8", "cz", "c1", "c2", "c3", "c4", "c5", "c6",
    "t3", "t4", "t5", "t6", "t7", "t8", "cpz", "cp1", "cp2", "cp3", "cp4", "cp5", "cp6", "tp7", "tp8", "pz",
    "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "poz", "po3", "po4", "po7", "po8", "oz", "o1", "o2", "iz",
    "a1", "a2", "m1", "m2", NULL
};

/* Lower case, spaces dropped, an "eeg" prefix dropped: "EEG Fpz-Cz " -> "fpz-cz". */
static void norm(const char *in, char *out, size_t cap)
{
    size_t k = 0;
    for (; *in && k + 1 < cap; in++)
        if (!isspace((unsigned char)*in))
            out[k++] = (char)tolower((unsigned char)*in);
    out[k] = 0;
    if (!strncmp(out, "eeg", 3))
        memmove(out, out + 3, strlen(out + 3) + 1);
}

/* The first electrode of a derivation is one of names: "fpz-cz" -> "fpz". */
static int first_is(const char *normed, const char *const *names)
{
    size_t len = strcspn(normed, "-:/");
    for (; *names; names++)
        if (strlen(*names) == len && !strncmp(normed, *names, len))
            return 1;
    return 0;
}

int dw_montage_is_electrode(const char *label)
{
    char n[64];
    norm(label, n, sizeof n);
    return first_is(n, ten_ten);
}

/* The 10-10 letters of a first electrode (ACNS guideline 5, 2006; Oostenveld & Praamstra 2001), longest
 * prefix first. Each compound goes to the region its row is counted with for sleep EEG: FC and CP flank
 * C on the midline chain the AASM's central derivations (C4-M1) stand for, so central; FT and TP are the
 * lateral row through T7/T8 (fronto-temporal, temporo-parietal), so temporal; PO with P and O. */
static const struct { const char *prefix; int region; } region_of[] = {
    { "fp", DW_REGION_FRONTAL }, { "af", DW_REGION_FRONTAL }, { "fc", DW_REGION_CENTRAL },
    { "ft", DW_REGION_TEMPORAL }, { "f", DW_REGION_FRONTAL }, { "cp", DW_REGION_CENTRAL },
    { "c", DW_REGION_CENTRAL }, { "tp", DW_REGION_TEMPORAL }, { "t", DW_REGION_TEMPORAL },
    { "po", DW_REGION_POSTERIOR }, { "p", DW_REGION_POSTERIOR }, { "o", DW_REGION_POSTERIOR },
    { "iz", DW_REGION_POSTERIOR }, { "a", DW_REGION_REFERENCE }, { "m", DW_REGION_REFERENCE },
};

int dw_montage_region(const char *label)
{
    char n[64];
    norm(label, n, sizeof n);
    if (!first_is(n, ten_ten))
        return DW_REGION_UNKNOWN;
    for (size_t i = 0; i < sizeof region_of / sizeof region_of[0]; i++)
        if (!strncmp(n, region_of[i].prefix, strlen(region_of[i].prefix)))
            return region_of[i].region;
    return DW_REGION_UNKNOWN;
}

const char *dw_montage_region_name(int region)
{
    static const char *const name[] = { "unknown", "frontal", "central", "parieto-occipital", "temporal",
                                        "reference" };
    return region >= 0 && region <= DW_REGION_REFERENCE ? name[region] : name[0];
}

int dw_montage_trained(int slot, int alone, const char *label)
{
    char n[64];
    norm(label, n, sizeof n);
    return !strcmp(n, slot ? "pz-oz" : "fpz-cz") || (alone && !slot && !strcmp(n, "pz-oz"));
}

/* "ch3", "3" -> 3; 0 otherwise. */
static int channel_number(const char *normed)
{
    const char *d = !strncmp(normed, "ch", 2) ? normed + 2 : normed;
    char *end;
    long v = strtol(d, &end, 10);
    return *d && isdigit((unsigned char)*d) && !*end && v >= 1 && v < 100000 ? (int)v : 0;
}

/* A label's length without the spaces EDF pads it with. */
static int label_len(const char *l)
{
    int n = (int)strlen(l);
    while (n > 0 && l[n - 1] == ' ')
        n--;
    return n;
}

static void label_list(const dw_montage_in *in, char *list, size_t cap)
{
    list[0] = 0;
    for (int s = 0, shown = 0; s < in->n; s++) {
        size_t k = strlen(list);
        if (k + 40 > cap) {
            snprintf(list + k, cap - k, ", ... (%d in all)", in->n);
            return;
        }
        snprintf(list + k, cap - k, "%s\"%.*s\"", shown++ ? ", " : "", label_len(in->label[s]), in->label[s]);
    }
}

/* The source channel a spec names (a label, a number or ChN), or -1 with err. */
static int find(const dw_montage_in *in, const char *spec, const char *path, const char *what, dw_err *err)
{
    char want[64], have[64], list[600];
    norm(spec, want, sizeof want);
    int k = channel_number(want), s = -1;
    for (int i = 0; i < in->n && s < 0; i++) {
        norm(in->label[i], have, sizeof have);
        if (!strcmp(want, have))
            s = i;
    }
    if (s < 0 && k >= 1 && k <= in->n)
        s = k - 1;
    if (s >= 0 && in->broken[s] && in->broken[s][0]) {
        dw_err_set(err, "%s: %s", path, in->broken[s]);
        return -1;
    }
    if (s >= 0)
        return s;
    label_list(in, list, sizeof list);
    if (k)
        dw_err_set(err, "%s: no %schannel %s (the source has %d channels: %s)", path, what, spec, in->n, list);
    else
        dw_err_set(err, "%s: no %schannel \"%s\"; the source has %s", path, what, spec, list);
    return -1;
}

static int eeg_like(const char *label)
{
    char n[64];
    norm(label, n, sizeof n);
    return !strncasecmp(label, "EEG", 3) || first_is(n, ten_ten) || (channel_number(n) && !strncmp(n, "ch", 2));
}

static int delivered_index(dw_montage *m, int s)
{
    for (int i = 0; i < m->n; i++)
        if (m->sel[i] == s)
            return i;
    return -1;
}

static int add(dw_montage *m, int s, const char *path, dw_err *err)
{
    int i = delivered_index(m, s);
    if (i >= 0)
        return i;
    if (m->n == DW_MAX_CH) {
        dw_err_set(err, "%s: too many channels (at most %d)", path, DW_MAX_CH);
        return -1;
    }
    m->sel[m->n] = s;
    return m->n++;
}

/* "roles frontal=1 parietal=none" (anywhere in text) -> source channels, -1 for none; 0 if found. */
static int parse_recorded(const char *text, int n, int *f, int *p)
{
    const char *r = text ? strstr(text, "roles frontal=") : NULL;
    if (!r)
        return -1;
    char fs[16] = "", ps[16] = "";
    if (sscanf(r, "roles frontal=%15[^ ] parietal=%15[^ ]", fs, ps) != 2)
        return -1;
    int fv = strcmp(fs, "none") ? atoi(fs) : 0, pv = strcmp(ps, "none") ? atoi(ps) : 0;
    if (fv < 0 || fv > n || pv < 0 || pv > n || (fv == 0 && strcmp(fs, "none")) || (pv == 0 && strcmp(ps, "none")))
        return -1;
    *f = fv - 1;
    *p = pv - 1;
    return 0;
}

static int by_name(const dw_montage_in *in, const dw_montage *m, const char *const *names, int skip)
{
    char n[64];
    for (const char *const *e = names; *e; e++)
        for (int i = 0; i < m->n; i++) {
            const char *one[2] = { *e, NULL };
            norm(in->label[m->sel[i]], n, sizeof n);
            if (i != skip && first_is(n, one))
                return i;
        }
    return -1;
}

static int choose_delivered(const dw_montage_in *in, const dw_channel_spec *spec, const char *path,
                            dw_montage *m, dw_err *err)
{
    if (spec && spec->nchannels > 0) {
        for (int i = 0; i < spec->nchannels; i++) {
            int s = find(in, spec->channels[i], path, "", err);
            if (s < 0 || add(m, s, path, err) < 0)
                return -1;
        }
        return 0;
    }
    for (int s = 0; s < in->n && m->n < DW_MAX_CH; s++)
        if (in->usable[s] && eeg_like(in->label[s]))
            m->sel[m->n++] = s;
    if (m->n == 0) {
        char list[600];
        label_list(in, list, sizeof list);
        dw_err_set(err, "%s: no EEG channel found by name (labels starting \"EEG\", naming a 10-20 electrode, or "
                   "ChN); choose channels with --channels (the source has %s)", path, list);
        return -1;
    }
    return 0;
}

/* which rule chose a role */
enum { R_NONE, R_GIVEN, R_RECORDED, R_NAME, R_ORDER, R_FIRST, R_FIRST_ANY, R_CENTRAL };

/* Rule 5: no channel is frontal by name. The first delivered EEG channel (else the first channel) stages
 * alone, with the one-channel model: a parietal chosen by name is dropped, since the two-channel model
 * would read the frontal slot as Fpz-Cz (a first-use test found O2-M1 staged as frontal beside Pz-Oz). A
 * parietal given with --parietal stays, and the frontal slot takes the first other channel. 0 when a
 * channel was chosen. */
static int first_alone(const dw_montage_in *in, dw_montage *m, int parietal_asked, int *rf, int *rp)
{
    int keep = parietal_asked ? m->parietal : -1;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < m->n; i++)
            if (i != keep && (pass || eeg_like(in->label[m->sel[i]]))) {
                m->frontal = i;
                *rf = pass ? R_FIRST_ANY : R_FIRST;
                if (!parietal_asked) {
                    m->parietal = -1;
                    *rp = R_NONE;
                }
                return 0;
            }
    return -1;
}

/* The note of rule 5 with a central channel in the frontal slot: which, why, what is in the parietal slot,
 * and how they stand to the training derivations (Fpz-Cz, Pz-Oz). */
static void central_note(const dw_montage_in *in, dw_montage *m)
{
    const char *l = in->label[m->sel[m->frontal]];
    const char *q = m->parietal >= 0 ? in->label[m->sel[m->parietal]] : NULL;
    char with[96] = " alone (the one-channel model)";
    if (q) {
        snprintf(with, sizeof with, ", with \"%.*s\" in the parietal slot%s", label_len(q), q,
                 dw_montage_trained(1, 0, q) ? " (a training derivation)" : "");
    }
    snprintf(m->note, sizeof m->note, "no usable channel names a frontal electrode: staging on \"%.*s\", a "
             "central channel, in the frontal slot (the nearest stand-in for Fpz-Cz, which is referred "
             "to Cz)%s; it is not a derivation the built-in models were trained on (Fpz-Cz, Pz-Oz): "
             "agreement may be lower than measured", label_len(l), l, with);
}

/* The note when no rule-5 note was written: every staged channel that names electrodes but is not the
 * training derivation of its slot (dw_montage_trained), e.g. the AASM's F4-M1 / O2-M1. A label naming
 * none ("Ch1") is not judged: what it is cannot be told. */
static void untrained_note(const dw_montage_in *in, dw_montage *m)
{
    char list[200] = "";
    int k = 0;
    for (int slot = 0; slot < 2; slot++) {
        int i = slot ? m->parietal : m->frontal;
        const char *l = i >= 0 ? in->label[m->sel[i]] : NULL;
        if (!l || !dw_montage_is_electrode(l) || dw_montage_trained(slot, m->parietal < 0, l))
            continue;
        size_t at = strlen(list);
        snprintf(list + at, sizeof list - at, "%s\"%.*s\" in the %s slot", k++ ? ", " : "",
                 label_len(l) > 40 ? 40 : label_len(l), l, slot ? "parietal" : "frontal");
    }
    if (k)
        snprintf(m->note, sizeof m->note, "staging on %s: %s a derivation the built-in models were "
                 "trained on (Fpz-Cz, Pz-Oz): agreement may be lower than measured", list,
                 k > 1 ? "neither is" : "it is not");
}

/* The note of rule 5: the channel, that it is not frontal, and how it stands to the derivations the
 * built-in models were trained on (Fpz-Cz, Pz-Oz; README "How the stager works"). */
static void not_frontal_note(const dw_montage_in *in, dw_montage *m)
{
    const char *l = in->label[m->sel[m->frontal]];
    char n[64];
    norm(l, n, sizeof n);
    const char *const pz[] = { "pz", NULL };
    const char *rel = dw_montage_trained(1, 0, l) ? "Pz-Oz is one of the two derivations the built-in models were "
                                            "trained on (Fpz-Cz, Pz-Oz)"
                    : first_is(n, parietal_names) && !first_is(n, pz)
                          ? "it is neither of the derivations the built-in models were trained on (Fpz-Cz, "
                            "Pz-Oz; nearest: Pz-Oz): agreement may be lower than measured"
                          : "it is neither of the derivations the built-in models were trained on (Fpz-Cz, "
                            "Pz-Oz): agreement may be lower than measured";
    snprintf(m->note, sizeof m->note, "no usable channel names a frontal electrode: staging on \"%.*s\"%s, "
             "which is not frontal; %s", label_len(l), l,
             m->parietal < 0 ? " alone (the one-channel model)" : " in the frontal slot", rel);
}

int dw_montage_choose(const dw_montage_in *in, const dw_channel_spec *spec, const char *path,
                      dw_montage *m, dw_err *err)
{
    memset(m, 0, sizeof *m);
    m->frontal = m->parietal = -1;
    if (choose_delivered(in, spec, path, m, err) < 0)
        return -1;
    const char *want[2] = { spec ? spec->frontal : "", spec ? spec->parietal : "" };
    int *role[2] = { &m->frontal, &m->parietal }, asked[2] = { 0, 0 };
    for (int r = 0; r < 2; r++) {                                  /* rule 1: the user's */
        if (!want[r][0])
            continue;
        asked[r] = 1;
        if (!strcasecmp(want[r], "none"))
            continue;
        int s = find(in, want[r], path, r ? "parietal " : "frontal ", err);
        if (s < 0 || (*role[r] = add(m, s, path, err)) < 0)
            return -1;
    }
    if (m->frontal >= 0 && m->frontal == m->parietal) {
        const char *l = in->label[m->sel[m->frontal]];
        dw_err_set(err, "%s: --frontal and --parietal name the same channel (%.*s): a derivation is staged once; "
                   "give another parietal channel, or --parietal none", path, label_len(l), l);
        return -1;
    }
    static const char *const why[] = { "", "as given", "as recorded", "by electrode name", "by channel order",
                                       "the first EEG channel, none is frontal",
                                       "the first channel given, none is EEG by name",
                                       "a central stand-in, none is frontal" };
    int rw[2] = { asked[0] && *role[0] >= 0 ? R_GIVEN : R_NONE, asked[1] && *role[1] >= 0 ? R_GIVEN : R_NONE };
    int rf, rp;
    if ((!asked[0] || !asked[1]) && parse_recorded(in->recorded, in->n, &rf, &rp) == 0) {   /* rule 2 */
        if (!asked[0] && rf >= 0 && (*role[0] = add(m, rf, path, err)) < 0)
            return -1;
        if (!asked[1] && rp >= 0 && (*role[1] = add(m, rp, path, err)) < 0)
            return -1;
        for (int r = 0; r < 2; r++)
            if (!asked[r])
                rw[r] = *role[r] >= 0 ? R_RECORDED : R_NONE;
        asked[0] = asked[1] = 1;
    }
    int named = 0;
    for (int i = 0; i < m->n; i++)
        named |= dw_montage_is_electrode(in->label[m->sel[i]]);
    if (!asked[0])                                                     /* rule 3 */
        m->frontal = by_name(in, m, frontal_names, m->parietal);
    if (!asked[1])
        m->parietal = by_name(in, m, parietal_names, m->frontal);
    for (int r = 0; r < 2; r++)
        if (!asked[r] && *role[r] >= 0)
            rw[r] = R_NAME;
    if (!named) {                                                      /* rule 4: ChN order */
        if (!asked[0] && m->frontal < 0 && m->n > 0 && m->parietal != 0)
            m->frontal = 0, rw[0] = R_ORDER;
        if (!asked[1] && m->parietal < 0 && m->n > 1 && m->frontal != 1)
            m->parietal = 1, rw[1] = R_ORDER;
    }
    if (m->frontal < 0 && !asked[0]) {                                 /* rule 5 */
        m->frontal = by_name(in, m, central_names, m->parietal);   /* a central stand-in; parietal kept */
        if (m->frontal >= 0) {
            rw[0] = R_CENTRAL;
            central_note(in, m);
        } else if (first_alone(in, m, asked[1], &rw[0], &rw[1]) == 0) {
            not_frontal_note(in, m);
        }
    }
    if (!m->note[0])
        untrained_note(in, m);
    /* why each role is what it is: one reason when both share it, else one each (a first-use test read
     * "(first channel)" for C4-M1 in a file whose first channel was E1-M2, and "(by electrode name)" for a
     * frontal channel given with --frontal) */
    if (rw[0] == rw[1] || rw[1] == R_NONE)
        snprintf(m->how, sizeof m->how, "%s", why[rw[0] ? rw[0] : rw[1]]);
    else if (rw[0] == R_NONE)
        snprintf(m->how, sizeof m->how, "%s", why[rw[1]]);
    else
        snprintf(m->how, sizeof m->how, "frontal: %s; parietal: %s", why[rw[0]], why[rw[1]]);
    if (spec && spec->roles_only) {                                    /* keep only the staged ones */
        int f = m->frontal >= 0 ? m->sel[m->frontal] : -1, p = m->parietal >= 0 ? m->sel[m->parietal] : -1;
        m->n = 0;
        m->frontal = f >= 0 ? (m->sel[m->n++] = f, 0) : -1;
        m->parietal = p >= 0 ? (m->sel[m->n++] = p, m->n - 1) : -1;
    }
    return 0;
}

int dw_montage_parse_list(const char *v, char (*out)[DW_LABEL_LEN], int max, char *why, size_t whylen)
{
    int n = 0;
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && p[len - 1] == ' ')
            len--;
        if (n == max) {
            snprintf(why, whylen, "more than %d channels", max);
            return -1;
        }
        if (len >= DW_LABEL_LEN) {
            snprintf(why, whylen, "channel name longer than %d characters", DW_LABEL_LEN - 1);
            return -1;
        }
        memcpy(out[n], p, len);
        out[n][len] = 0;
        n++;
        p = e ? e + 1 : p + len;
    }
    return n;
}

void dw_montage_board_label(const dw_channel_spec *spec, int i, char out[DW_LABEL_LEN])
{
    if (spec && i < spec->nderivations && spec->derivations[i][0])
        snprintf(out, DW_LABEL_LEN, "EEG %.19s", spec->derivations[i]);
    else
        snprintf(out, DW_LABEL_LEN, "Ch%d", i + 1);
}

void dw_montage_roles_text(int frontal, int parietal, char *out, size_t n)
{
    char f[12] = "none", p[12] = "none";
    if (frontal >= 0)
        snprintf(f, sizeof f, "%d", frontal + 1);
    if (parietal >= 0)
        snprintf(p, sizeof p, "%d", parietal + 1);
    snprintf(out, n, "roles frontal=%s parietal=%s", f, p);
}

const char *dw_montage_role_word(int slot, const char *label)
{
    int r = label ? dw_montage_region(label) : DW_REGION_UNKNOWN;
    char n[64] = "";
    if (label)
        norm(label, n, sizeof n);
    if (r == DW_REGION_UNKNOWN || (!slot && r == DW_REGION_FRONTAL) ||
        (slot && r == DW_REGION_POSTERIOR && n[0] == 'p' && n[1] != 'o'))    /* P3, Pz: parietal */
        return slot ? "parietal" : "frontal";
    return dw_montage_region_name(r);
}

void dw_montage_roles_line(const char *frontal, const char *parietal, char *out, size_t n)
{
    const char *label[2] = { frontal, parietal };
    size_t k = 0;
    out[0] = 0;
    for (int slot = 0; slot < 2 && k < n; slot++) {
        const char *w = dw_montage_role_word(slot, label[slot]), *own = slot ? "parietal" : "frontal";
        int l = label[slot] ? label_len(label[slot]) : 4;
        k += (size_t)snprintf(out + k, n - k, "%s%s %.*s%s%s%s", slot ? ", " : "", w, l,
                              label[slot] ? label[slot] : "none", strcmp(w, own) ? " (in the " : "",
                              strcmp(w, own) ? own : "", strcmp(w, own) ? " slot)" : "");
    }
}
