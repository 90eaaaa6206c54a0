/* The montage: which of a source's channels are delivered and which one is the frontal (Fpz-Cz-like) and
 * the parietal (Pz-Oz-like) staging channel. ONE rule for every source (EDF/BDF, OpenBCI GUI text, SD card,
 * a live Cyton, our own BDF+ recordings), so the same options mean the same thing everywhere.
 *
 * Delivered channels: those the user lists (--channels: labels or 1-based numbers), else every channel
 * that looks like EEG: a label starting "EEG", a label whose first electrode is a 10-20 / 10-10 name
 * (Fpz, C3, O2, M1 ...), or an OpenBCI-style "ChN" label. At most DW_MAX_CH, in source order.
 * Roles, first rule that applies:
 *   1. --frontal / --parietal (a label, a number, or "none"); a role outside the delivered list is added;
 *   2. the roles recorded in our own BDF+ header ("roles frontal=N parietal=M", 1-based signal numbers, in
 *      the EDF+ recording field's additional part) — so our recordings replay and score with no options;
 *   3. by electrode: frontal = the first delivered channel whose first electrode is, in this order, Fpz,
 *      Fp1, Fp2, Fz, F3, F4, AFz, AF3, AF4, F1, F2, F7, F8; parietal = Pz, Oz, O1, O2, P3, P4, POz, PO3, PO4
 *      (the derivations the stager was trained on are Fpz-Cz and Pz-Oz: nearest scalp sites first);
 *   4. OpenBCI order when no label names an electrode: Ch1 frontal, Ch2 parietal (as the montage guide
 *      in the README wires them);
 *   5. otherwise (no channel is frontal by name): a central channel, C3, C4, Cz, C1, C2, C5, C6 in this
 *      order, takes the frontal slot, the nearest stand-in for Fpz-Cz (whose reference is Cz), and the
 *      parietal one chosen by name stays (O1-M2 and C3-A2: C3 frontal slot, O1 parietal; C3 alone: the
 *      one-channel model); with no central channel, the first delivered EEG channel, else the first
 *      channel, stages alone: it takes the frontal slot and the parietal role is dropped (unless given),
 *      so the one-channel model stages it (e.g. a lone Pz-Oz or O1-M2). out.note says which and why.
 * What the outputs call a role's channel is its scalp region, not its slot: dw_montage_roles_line.
 * A label matches a spec case-insensitively with an "EEG " prefix and spaces ignored; "ChN" or "N" also
 * name the N-th channel of the source when no label matches. */
#ifndef DW_MONTAGE_H
#define DW_MONTAGE_H

#include "base/dw.h"

#define DW_LABEL_LEN   24
#define DW_MONTAGE_MAX 512      /* channels a source may have to choose from (EDF allows more; rare) */

/* What the user asked for ([input] channels / frontal / parietal / derivations, or the options). */
typedef struct {
    char channels[DW_MAX_CH][DW_LABEL_LEN]; /* channels to deliver; nchannels == 0: the EEG-like ones */
    int  nchannels;
    char frontal[DW_LABEL_LEN];             /* "" choose, "none", a label or a 1-based number */
    char parietal[DW_LABEL_LEN];
    char derivations[DW_MAX_CH][DW_LABEL_LEN]; /* sources without labels (Cyton, OpenBCI files): what each
                                                  board channel was wired to, e.g. "Fpz-Cz"; labels them
                                                  "EEG Fpz-Cz" (in the recording too) */
    int  nderivations;
    int  roles_only;                        /* deliver the frontal and parietal channels only (score) */
    double out_fs;                          /* EDF/BDF: deliver at this rate; 0 (always, but in tests of the
                                               reader's own resampling): the fastest chosen channel's rate */
} dw_channel_spec;

/* The channels of a source, for choosing. */
typedef struct {
    int  n;                                 /* <= DW_MONTAGE_MAX */
    const char *label[DW_MONTAGE_MAX];      /* as the source names them (trailing spaces allowed) */
    unsigned char usable[DW_MONTAGE_MAX];   /* 0: never delivered by default (annotations, slow signals) */
    const char *broken[DW_MONTAGE_MAX];     /* why a channel cannot be read at all (a damaged header field),
                                               refused when named; NULL or "" when it can */
    const char *recorded;                   /* our recording's "roles frontal=N parietal=M", or NULL */
} dw_montage_in;

typedef struct {
    int  n;                                 /* delivered */
    int  sel[DW_MAX_CH];                    /* source channel of each delivered one */
    int  frontal, parietal;                 /* index into sel, -1 none */
    char how[128];                          /* which rule chose each role, for notes */
    char note[320];                         /* rule 5: the channel staged, that it is not frontal, and how it
                                               stands to the training derivations; "" otherwise */
} dw_montage;

/* Apply the rule above. path names the source in messages. 0, or -1 with err naming the source, the spec
 * that matched nothing and the labels there are. */
int  dw_montage_choose(const dw_montage_in *in, const dw_channel_spec *spec, const char *path,
                       dw_montage *out, dw_err *err);

/* Comma-separated list ("Fpz-Cz, 2, Ch3") into a table of at most max entries of DW_LABEL_LEN. The count,
 * or -1 with why (too many, too long). */
int  dw_montage_parse_list(const char *v, char (*out)[DW_LABEL_LEN], int max, char *why, size_t whylen);

/* Label for board channel i (0-based) of a source without labels: "EEG <derivation>" when the spec names
 * one, else "ChN". */
void dw_montage_board_label(const dw_channel_spec *spec, int i, char out[DW_LABEL_LEN]);

/* The text our recordings keep in the EDF+ recording field: "roles frontal=N parietal=M" (1-based signal
 * numbers of the recording; "none" for a missing role). */
void dw_montage_roles_text(int frontal, int parietal, char *out, size_t n);

/* 1 if the label's first electrode is a 10-20 / 10-10 name. */
int  dw_montage_is_electrode(const char *label);

/* The scalp region of a derivation's first electrode, by its 10-20 / 10-10 letters (ACNS guideline 5,
 * 2006): frontal Fp, AF, F ("Fpz-Cz", "F4-M1"); central FC, C, CP ("C3-A1"); temporal FT, T, TP (T3-T8:
 * not a central stand-in for rule 5, see central_names); parieto-occipital P, PO, O, Iz ("Pz-Oz",
 * "O1-M2"); reference A1, A2, M1, M2 (an ear or mastoid: not the EEG of a region); unknown for anything
 * else ("Ch1", "EEG"). */
enum { DW_REGION_UNKNOWN, DW_REGION_FRONTAL, DW_REGION_CENTRAL, DW_REGION_POSTERIOR, DW_REGION_TEMPORAL,
       DW_REGION_REFERENCE };
int  dw_montage_region(const char *label);
/* "frontal", "central", "parieto-occipital", "temporal", "reference" or "unknown". */
const char *dw_montage_region_name(int region);
/* 1 if label is a derivation the built-in models were trained on for slot (0: Fpz-Cz, 1: Pz-Oz; alone,
 * the frontal slot with no parietal, the one-channel model: either, as `eeg` learnt from both; README "How
 * the stager works"), else 0: the one rule behind every "not a derivation the built-in models were
 * trained on" note. */
int  dw_montage_trained(int slot, int alone, const char *label);

/* What to call the channel in slot (0 frontal, 1 parietal), label NULL for none: the slot's own name when
 * its region is the slot's (frontal; a P electrode, "Pz-Oz", for the parietal slot) or unknown ("Ch1"),
 * else its region's name ("central" for C3-A2 in the frontal slot, "parieto-occipital" for O1-M2 in
 * either, "temporal" for T3-A1, "reference" for A1-A2). */
const char *dw_montage_role_word(int slot, const char *label);
/* "frontal EEG Fpz-Cz, parietal EEG Pz-Oz"; "central EEG C3-A2 (in the frontal slot), parieto-occipital
 * EEG O1-M2 (in the parietal slot)";
 * "parieto-occipital O1-M2 (in the frontal slot), parietal none": the words every output uses for the
 * staged channels (score's summary, check, the monitor's staging line). label NULL: none. Cut to n. */
void dw_montage_roles_line(const char *frontal, const char *parietal, char *out, size_t n);

#endif
