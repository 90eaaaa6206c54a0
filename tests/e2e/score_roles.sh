#!/bin/sh
# Channel roles when no channel is frontal, and why epochs go unscored, through the real binary on EDFs
# written here (make_inputs.py, by hand): a lone Pz-Oz or O1-M2, Pz-Oz beside O2-M1, stage on their first
# EEG channel with the one-channel model and a note that says so (score and a headless replay); a night
# with the frontal channel flat for its last 20 min, or the parietal one flat for 40 epochs, says why, by
# cause and channel, the same words on stdout and in the summary file (a first-use test found a refusal, an
# occipital channel in the Fpz slot, and silence about the parietal one).
. "$(dirname "$0")/lib.sh"
NIGHT=$DW_ROOT/sample-data/sample-night.edf
[ -f "$NIGHT" ] || { fail "sample night" "missing $NIGHT (make builds it)"; exit 0; }
/usr/bin/python3 -c 'import numpy, scipy' 2>/dev/null || { skip "score roles" "python3-numpy/scipy missing"; exit 0; }
MK="/usr/bin/python3 $DW_ROOT/tests/e2e/make_inputs.py"
$MK cut "$NIGHT" "$TMP/mid.edf" 7200 10800

# A lone Pz-Oz: staged (was refused), by the one-channel model, with the note.
$MK pick "$TMP/mid.edf" "$TMP/pz.edf" 600 1:"EEG Pz-Oz"
"$DW_BIN" score --out "$TMP/pz-s" "$TMP/pz.edf" > "$TMP/pz.out" 2> "$TMP/pz.err"; rc=$?
[ $rc -eq 0 ] && grep -q "model eeg" "$TMP/pz.out" && [ "$(awk -F, 'NR > 1 && $3 != "?"' "$TMP/pz-s.csv" | wc -l)" -eq 20 ] \
    && pass "a lone Pz-Oz is staged by the one-channel model (20 of 20 epochs)" \
    || fail "a lone Pz-Oz is staged" "rc=$rc $(cat "$TMP/pz.err" "$TMP/pz.out" | head -3 | tr '\n' '|')"
grep -q "staging: parieto-occipital EEG Pz-Oz (in the frontal slot), parietal none (the first EEG channel, none is frontal)" "$TMP/pz.out" \
    && pass "the staging line calls Pz-Oz parieto-occipital (not frontal) and says the first EEG channel, none is frontal" \
    || fail "the staging line" "$(grep staging: "$TMP/pz.out")"
n=$(grep -c "no usable channel names a frontal electrode" "$TMP/pz.err")
grep -q '^dreamwatch score: pz.edf: no usable channel names a frontal electrode: staging on "EEG Pz-Oz" alone (the one-channel model), which is not frontal; Pz-Oz is one of the two derivations the built-in models were trained on (Fpz-Cz, Pz-Oz)$' "$TMP/pz.err" && [ "$n" -eq 1 ] \
    && pass "one note: the channel, not frontal, a training derivation" || fail "the Pz-Oz note" "$n: $(cat "$TMP/pz.err")"

# A lone O1-M2: staged, the note says it is not a training derivation.
$MK pick "$TMP/mid.edf" "$TMP/o1.edf" 600 1:"EEG O1-M2"
"$DW_BIN" score --out "$TMP/o1-s" "$TMP/o1.edf" > "$TMP/o1.out" 2> "$TMP/o1.err"; rc=$?
[ $rc -eq 0 ] && grep -q "model eeg" "$TMP/o1.out" && grep -q 'staging on "EEG O1-M2" alone (the one-channel model), which is not frontal; it is neither of the derivations the built-in models were trained on (Fpz-Cz, Pz-Oz; nearest: Pz-Oz)' "$TMP/o1.err" \
    && pass "a lone O1-M2 is staged, and said to be neither training derivation" \
    || fail "a lone O1-M2" "rc=$rc $(cat "$TMP/o1.err" "$TMP/o1.out" | head -3 | tr '\n' '|')"

# Pz-Oz then O2-M1: the first (Pz-Oz) stages alone; O2-M1 never takes the Fpz slot of fpz_pz.
$MK pick "$TMP/mid.edf" "$TMP/pzo2.edf" 600 1:"EEG Pz-Oz" 0:"EEG O2-M1"
"$DW_BIN" score --out "$TMP/pzo2-s" "$TMP/pzo2.edf" > "$TMP/pzo2.out" 2> "$TMP/pzo2.err"; rc=$?
[ $rc -eq 0 ] && grep -q "model eeg" "$TMP/pzo2.out" && grep -q "staging: parieto-occipital EEG Pz-Oz (in the frontal slot), parietal none" "$TMP/pzo2.out" \
    && cmp -s "$TMP/pz-s.csv" "$TMP/pzo2-s.csv" \
    && pass "Pz-Oz + O2-M1: Pz-Oz (the first) stages alone, the same labels as Pz-Oz alone" \
    || fail "Pz-Oz + O2-M1" "rc=$rc $(grep -h "staging\|model" "$TMP/pzo2.out" | tr '\n' '|')"

# O1-M2 then C3-M2 (no frontal electrode): C3, central, stands in for Fpz-Cz in the frontal slot and O1 fills
# the parietal one (was: O1 staged alone, called "frontal"); every line names C3 central, none calls it frontal.
$MK pick "$TMP/mid.edf" "$TMP/o1c3.edf" 600 1:"EEG O1-M2" 0:"EEG C3-M2"
"$DW_BIN" score --out "$TMP/o1c3-s" "$TMP/o1c3.edf" > "$TMP/o1c3.out" 2> "$TMP/o1c3.err"; rc=$?
st="staging: central EEG C3-M2 (in the frontal slot), parieto-occipital EEG O1-M2 (in the parietal slot) (frontal: a central stand-in, none is frontal; parietal: by electrode name)"
[ $rc -eq 0 ] && grep -q "model fpz_pz" "$TMP/o1c3.out" && grep -qF "  $st" "$TMP/o1c3.out" && grep -qxF "$st" "$TMP/o1c3-s.summary.txt" \
    && grep -q 'o1c3.edf: no usable channel names a frontal electrode: staging on "EEG C3-M2", a central channel, in the frontal slot (the nearest stand-in for Fpz-Cz' "$TMP/o1c3.err" \
    && grep -q "note: the staged channel EEG C3-M2 is central" "$TMP/o1c3-s.summary.txt" && ! grep -q "staging: frontal\|on the frontal channel\|the frontal channel EEG" "$TMP/o1c3.out" "$TMP/o1c3-s.summary.txt" \
    && pass "O1-M2 + C3-M2: C3 (central) in the frontal slot, O1 parietal, two-channel model; named central everywhere" \
    || fail "O1-M2 + C3-M2" "rc=$rc $(grep -h "staging\|model\|frontal" "$TMP/o1c3.out" "$TMP/o1c3.err" | tr '\n' '|')"
# The headless replay's session summary says the same region and the same channel note as score's (it said
# "(frontal channel)" and had no note); a lone O1-M2: slow waves not detected there, in both.
XDG_DATA_HOME="$TMP/dc" "$DW_BIN" --headless --speed 0 --exit-at-end --no-record "$TMP/o1c3.edf" > "$TMP/rc.out" 2> "$TMP/rc.err"
XDG_DATA_HOME="$TMP/do" "$DW_BIN" --headless --speed 0 --exit-at-end --no-record "$TMP/o1.edf" > "$TMP/ro.out" 2> "$TMP/ro.err"
sc=$(ls "$TMP"/dc/dreamwatch/recordings/*.summary.txt 2>/dev/null | head -1)
so=$(ls "$TMP"/do/dreamwatch/recordings/*.summary.txt 2>/dev/null | head -1)
[ -n "$sc" ] && [ -n "$so" ] && grep -qx "## Spindles and slow waves (central channel EEG C3-M2)" "$sc" \
    && grep -qxF "$(grep "note: the staged channel EEG C3-M2 is central" "$TMP/o1c3-s.summary.txt")" "$sc" \
    && grep -q "staging central EEG C3-M2 (in the frontal slot), parieto-occipital EEG O1-M2 (in the parietal slot)" "$TMP/rc.err" \
    && grep -qx "## Spindles and slow waves (parieto-occipital channel EEG O1-M2)" "$so" \
    && grep -q "^[0-9]* spindles\{0,1\}, slow waves not detected there" "$so" && grep -q "slow waves none in N3, none in N2" "$so" \
    && grep -qxF "$(grep "note: the staged channel EEG O1-M2 is parieto-occipital" "$TMP/o1-s.summary.txt")" "$so" \
    && pass "session summary: the channel by its region, score's note, slow waves not counted on O1-M2" \
    || fail "session summary: channel region and note" "$(grep -h -A4 "## Spindles" "$sc" "$so" | tr '\n' '|')"

# A headless replay takes the same rule and says the same note.
XDG_DATA_HOME="$TMP/d" "$DW_BIN" --headless --speed 0 --exit-at-end --no-record "$TMP/pz.edf" > "$TMP/r.out" 2> "$TMP/r.err"; rc=$?
[ $rc -eq 0 ] && [ "$(grep -c '^epoch' "$TMP/r.out")" -ge 19 ] && grep -q 'pz.edf: no usable channel names a frontal electrode: staging on "EEG Pz-Oz" alone' "$TMP/r.err" \
    && pass "headless replay of a lone Pz-Oz: staged, with the note" \
    || fail "headless replay of a lone Pz-Oz" "rc=$rc $(grep -c '^epoch' "$TMP/r.out") epochs; $(head -3 "$TMP/r.err" | tr '\n' '|')"

# Live: a Cyton wired O1-M2, C3-M2 ([input] derivations): the same rule and note for a live board.
REC=
trap '[ -n "$REC" ] && stop_pids $REC; [ -n "$EMU" ] && kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
. "$(dirname "$0")/emulator.inc"
start_emu --speed 10
mkdir -p "$TMP/rec"
: > "$TMP/live.out"
"$DW_BIN" record --serial "$TMP/tty" --out "$TMP/rec" --set input.derivations=O1-M2,C3-M2 > "$TMP/live.out" 2> "$TMP/live.err" &
REC=$!
i=0; while [ "$(grep -c '^epoch' "$TMP/live.out")" -lt 1 ] && [ $i -lt 300 ] && kill -0 $REC 2>/dev/null; do
    sleep 0.2; i=$((i + 1)); done
kill -TERM $REC 2>/dev/null; wait $REC; REC=
stop_emu
grep -q "staging central EEG C3-M2 (in the frontal slot), parieto-occipital EEG O1-M2 (in the parietal slot) (frontal: a central stand-in, none is frontal; parietal: by electrode name), model fpz_pz" "$TMP/live.err" \
    && grep -q 'tty: no usable channel names a frontal electrode: staging on "EEG C3-M2", a central channel, in the frontal slot' "$TMP/live.err" \
    && grep -q '^epoch' "$TMP/live.out" \
    && pass "live Cyton wired O1-M2, C3-M2: C3-M2 (central) in the frontal slot, O1-M2 parietal (model fpz_pz), with the note" \
    || fail "live Cyton without a frontal channel" "$(head -4 "$TMP/live.err" | tr '\n' '|')"

# The frontal channel flat for the last 20 min: why, by cause and channel, on stdout and in the summary.
$MK flat "$TMP/mid.edf" "$TMP/ff.edf" 3600 0 2400 3600
"$DW_BIN" score --out "$TMP/ff-s" "$TMP/ff.edf" > "$TMP/ff.out" 2>&1
line="why 40 unscored epochs: EEG Fpz-Cz flat 40"
grep -qx "  $line" "$TMP/ff.out" && grep -qx "$line" "$TMP/ff-s.summary.txt" \
    && pass "frontal flat 20 min: '$line', on stdout and in the summary" \
    || fail "frontal flat: why" "$(grep -h "why\|unscored" "$TMP/ff.out" "$TMP/ff-s.summary.txt" | tr '\n' '|')"

# The parietal channel flat for 40 of 120 epochs: staged on the frontal alone, said with the count.
$MK flat "$TMP/mid.edf" "$TMP/pf.edf" 3600 1 1200 2400
"$DW_BIN" score --out "$TMP/pf-s" "$TMP/pf.edf" > "$TMP/pf.out" 2>&1
line="40 of 120 staged epochs on EEG Fpz-Cz alone (model eeg standing in for fpz_pz): EEG Pz-Oz flat 40"
grep -qx "  $line" "$TMP/pf.out" && grep -qx "$line" "$TMP/pf-s.summary.txt" && ! grep -q "^  why" "$TMP/pf.out" \
    && pass "parietal flat 40 epochs: '$line', on stdout and in the summary" \
    || fail "parietal flat: fewer channels" "$(grep -h "why\|alone\|unscored" "$TMP/pf.out" "$TMP/pf-s.summary.txt" | tr '\n' '|')"
# With a given two-channel model (no stand-in) the same epochs are unscored, and the cause is the parietal.
"$DW_BIN" score --model "$DW_ROOT/src/staging/models/fpz_pz.dwm" --out "$TMP/pm-s" "$TMP/pf.edf" > "$TMP/pm.out" 2>&1
line="why 40 unscored epochs: EEG Pz-Oz flat 40 (model fpz_pz has no one-channel stand-in)"
grep -qx "  $line" "$TMP/pm.out" && grep -qx "$line" "$TMP/pm-s.summary.txt" \
    && pass "parietal flat, two-channel model given: '$line'" \
    || fail "parietal flat, model given" "$(grep -h "why\|alone\|unscored" "$TMP/pm.out" | tr '\n' '|')"
# A clean night says neither.
"$DW_BIN" score --out "$TMP/ok-s" "$TMP/mid.edf" > "$TMP/ok.out" 2>&1
! grep -q "why\|alone" "$TMP/ok.out" "$TMP/ok-s.summary.txt" && pass "a clean night: no cause lines" \
    || fail "a clean night: no cause lines" "$(grep -h "why\|alone" "$TMP/ok.out")"
