#!/bin/sh
# A short or unlike-the-training-data recording is not scored as a confident night, and the spindle and
# slow-wave detectors say which channel they ran on, through the real binary on inputs written here (a
# first-use test found the awake OpenBCI recordings of ../shared/data scored N1/N2, "SE 100.0 %  SOL 0.0
# min", with no caveat):
#   - under 10 min scored (DW_NIGHT_MIN_EPOCHS): SE, SOL, WASO, REM latency none and a note, on stdout
#     and in the summary file; 12 min of the same night are a night again;
#   - 3 min of an unfiltered amplifier's drift under eyes-closed alpha: "unlike the training data" through
#     fpz_pz and eeg (the note fires from the first epochs: format 4's ood_start); 3 min of the sample
#     night's sleep: no such note;
#   - a lone Pz-Oz or O1-M2: slow waves not detected there, said, with no density; spindles counted, said;
#   - every real OpenBCI recording (skipped without ../shared/data): no "SE 100.0 %", the notes.
. "$(dirname "$0")/lib.sh"
NIGHT=$DW_ROOT/sample-data/sample-night.edf
[ -f "$NIGHT" ] && [ -x "$DW_BIN" ] || { fail "score short" "missing $NIGHT or $DW_BIN (run make)"; exit 0; }
/usr/bin/python3 -c 'import numpy' 2>/dev/null || { skip "score short" "python3-numpy missing"; exit 0; }
MK="/usr/bin/python3 $DW_ROOT/tests/e2e/make_inputs.py"
SHORT='note: too short for a night: '
UNLIKE='note: signal unlike the training data of model'
$MK cut "$NIGHT" "$TMP/mid.edf" 7200 8400      # 20 min of sleep (N2 and N3 in the sample night)
$MK pick "$TMP/mid.edf" "$TMP/three.edf" 180 0:"EEG Fpz-Cz" 1:"EEG Pz-Oz"
$MK pick "$TMP/mid.edf" "$TMP/twelve.edf" 720 0:"EEG Fpz-Cz" 1:"EEG Pz-Oz"

# ---- too short for a night ----
"$DW_BIN" score --out "$TMP/three-s" "$TMP/three.edf" > "$TMP/three-s.out" 2>&1
for f in "$TMP/three-s.out" "$TMP/three-s.summary.txt"; do
    w=$(basename "$f")
    grep -q "SE none  SME none  REM latency none" "$f" && grep -q "SOL none  WASO none" "$f" \
        && grep -q "${SHORT}3.0 min scored (6 epochs), under the 10 min" "$f" && ! grep -q "SE [0-9]" "$f" \
        && pass "3 min of sleep ($w): SE, SOL, WASO, REM latency none, and the note" \
        || fail "3 min of sleep ($w)" "$(grep -E 'SE |SOL |note' "$f" | head -3 | tr '\n' '|')"
done
grep -Eq '^(se_pct|sol_min|waso_min)	none$' "$TMP/three-s.summary.txt" \
    && [ "$(grep -cE '^(se_pct|sol_min|waso_min)	none$' "$TMP/three-s.summary.txt")" -eq 3 ] \
    && pass "3 min: the summary's figures say none for SE, SOL and WASO (for dreamwatch nights)" \
    || fail "3 min: figures" "$(grep -E '^(se_pct|sol_min|waso_min)' "$TMP/three-s.summary.txt" | tr '\n' ' ')"
! grep -q "$UNLIKE" "$TMP/three-s.out" && pass "3 min of the sample night's sleep: not unlike the training data" \
    || fail "3 min of sleep: no unlike note" "$(grep "$UNLIKE" "$TMP/three-s.out")"
"$DW_BIN" score --out "$TMP/twelve-s" "$TMP/twelve.edf" > "$TMP/twelve-s.out" 2>&1
grep -Eq "SE [0-9.]+ %" "$TMP/twelve-s.out" && grep -Eq "SOL [0-9.]+ min" "$TMP/twelve-s.out" \
    && ! grep -q "$SHORT" "$TMP/twelve-s.out" && ! grep -q "$UNLIKE" "$TMP/twelve-s.out" \
    && pass "12 min of the same night: a night's figures, no note" \
    || fail "12 min" "$(grep -E 'SE |note' "$TMP/twelve-s.out" | head -3 | tr '\n' '|')"

# ---- unlike the training data: an unfiltered channel's drift under eyes-closed alpha, 3 min ----
/usr/bin/python3 - "$TMP/drift.edf" <<'PYEOF'
import sys, numpy as np
sys.path.insert(0, sys.path[0] or '.')
sys.path.insert(0, __import__('os').environ['DW_ROOT'] + '/tests/e2e')
from make_inputs import write_edf
fs, T = 250, 180
rng = np.random.default_rng(7)
t = np.arange(fs * T) / fs
sig = []
for c in range(2):                     # DC wander of hundreds of uV, 10-Hz alpha of 20 uV, 5 uV of noise
    drift = np.cumsum(rng.normal(0, 1, fs * T)) * 4.0
    sig.append(drift - drift.mean() + 20 * np.sin(2 * np.pi * 10 * t + c) + rng.normal(0, 5, fs * T))
write_edf(sys.argv[1], ['EEG Fpz-Cz', 'EEG Pz-Oz'], fs, sig, 3000)
PYEOF
for m in fpz_pz eeg; do
    opt=; [ $m = eeg ] && opt="--parietal none"
    "$DW_BIN" score $opt --out "$TMP/drift-$m" "$TMP/drift.edf" > "$TMP/drift-$m.out" 2>&1
    grep -q "$UNLIKE $m: agreement may be low (the mean squared standardised classifier input over the first epochs" \
        "$TMP/drift-$m.out" && grep -q "$UNLIKE $m" "$TMP/drift-$m.summary.txt" && grep -q "$SHORT" "$TMP/drift-$m.out" \
        && pass "3 min of drift under alpha through $m: unlike the training data and too short, on stdout and in the summary" \
        || fail "drift through $m" "$(grep -E 'model|note' "$TMP/drift-$m.out" | head -4 | tr '\n' '|')"
done

# ---- the screen: a replay of the 3 min to its end (tmux), no night's figures ----
if command -v tmux >/dev/null; then
    TERMV=screen; infocmp tmux-256color >/dev/null 2>&1 && TERMV=tmux-256color
    tm_start 120 40 env TERM=$TERMV XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data" \
        "$DW_BIN" --speed 0 --no-record --out "$TMP/scr" "$TMP/three.edf"
    if wait_for 30 'Summary of the night'; then
        tm_screen > "$TMP/scr.txt"
        grep -q "Too short for a night (under 10 min scored): sleep 0 h 03 min, no efficiency" "$TMP/scr.txt" \
            && ! grep -q "sleep efficiency" "$TMP/scr.txt" \
            && pass "screen: the end-of-replay summary of 3 min says too short for a night, no efficiency" \
            || fail "screen: summary of 3 min" "$(grep -E 'sleep|Sleep|short' "$TMP/scr.txt" | head -3 | tr -s ' ')"
        tm_keys Escape; sleep 0.5
        wait_for 5 'after 10 min scored' && tm_screen | grep -q 'SE --' \
            && pass "screen: the statistics beside the hypnogram say SE -- and SOL WASO after 10 min" \
            || fail "screen: statistics of 3 min" "$(tm_screen | grep -E 'so far|SOL|sleep' | tr -s ' ' | head -3)"
    else
        fail "screen: 3-min replay" "no summary: $(tm_screen | tail -n 2 | tr -s ' ')"
    fi
    tm_keys Q; sleep 0.3; tm_keys y 2>/dev/null
else
    skip "screen: 3-min replay" "no tmux"
fi

# ---- the detectors' channel ----
$MK pick "$TMP/mid.edf" "$TMP/o1.edf" 1200 1:"EEG O1-M2"
$MK pick "$TMP/mid.edf" "$TMP/c3.edf" 1200 0:"EEG C3-A2"
"$DW_BIN" score --out "$TMP/o1-s" "$TMP/o1.edf" > "$TMP/o1-s.out" 2>&1
for f in "$TMP/o1-s.out" "$TMP/o1-s.summary.txt"; do
    grep -Eq "[0-9]+ spindles? on EEG O1-M2, slow waves not detected there" "$f" \
        && grep -q "slow waves none in N3, none in N2" "$f" \
        && grep -q "note: the staged channel EEG O1-M2 is parieto-occipital: slow waves are not detected" "$f" \
        && pass "a lone O1-M2 ($(basename "$f")): spindles counted there, slow waves not detected, said" \
        || fail "lone O1-M2 ($(basename "$f"))" "$(grep -E 'spindles|note: the staged' "$f" | tr '\n' '|')"
done
[ "$(awk -F, 'NR > 1 && $10 != ""' "$TMP/o1-s.csv" | wc -l)" -eq 0 ] && ! grep -q slow_wave "$TMP/o1-s_events.tsv" \
    && pass "a lone O1-M2: no slow-wave density in the CSV, none in the events" \
    || fail "lone O1-M2 CSV/events" "$(awk -F, 'NR > 1 && $10 != ""' "$TMP/o1-s.csv" | head -2)"
"$DW_BIN" score --out "$TMP/c3-s" "$TMP/c3.edf" > "$TMP/c3-s.out" 2>&1
grep -Eq "[0-9]+ spindles?, [0-9]+ slow waves? on EEG C3-A2" "$TMP/c3-s.out" \
    && grep -q "note: the staged channel EEG C3-A2 is central" "$TMP/c3-s.out" \
    && pass "a lone C3-A2: both counted, the note names the central channel" \
    || fail "lone C3-A2" "$(grep -E 'spindles|note: the staged' "$TMP/c3-s.out" | tr '\n' '|')"
"$DW_BIN" score --out "$TMP/fz-s" "$TMP/twelve.edf" > "$TMP/fz-s.out" 2>&1
grep -q "slow waves on the frontal channel" "$TMP/fz-s.out" && ! grep -q "note: the staged channel" "$TMP/fz-s.out" \
    && pass "Fpz-Cz: on the frontal channel, no note" || fail "Fpz-Cz" "$(grep spindles "$TMP/fz-s.out")"

# ---- the real awake OpenBCI recordings ----
if [ -d "$SHARED/openbci" ]; then
    for f in "$SHARED"/openbci/*; do
        b=$(basename "$f")
        for ch in "" "--channels 1,2,3,4,5,6,7,8"; do
            "$DW_BIN" score $ch --out "$TMP/o-$b" --force "$f" > "$TMP/o.out" 2>&1
            if grep -q "no whole epoch to stage" "$TMP/o.out"; then
                pass "$b ${ch:+($ch) }: no whole epoch, no figures"
            elif grep -q "SE none" "$TMP/o.out" && ! grep -q "SE [0-9]" "$TMP/o.out" \
                 && { grep -q "$SHORT" "$TMP/o.out" || grep -q "TIB 0.0 min" "$TMP/o.out"; }; then
                pass "$b ${ch:+($ch) }: too short for a night (or nothing scored), SE none"
            else
                fail "$b $ch" "$(grep -E 'SE |note' "$TMP/o.out" | head -3 | tr '\n' '|')"
            fi
        done
    done
    b=OpenBCI-sampleData-1-blinks-jawClench-alpha.txt
    "$DW_BIN" score --out "$TMP/ob" "$SHARED/openbci/$b" > "$TMP/ob.out" 2>&1
    grep -q "$UNLIKE fpz_pz" "$TMP/ob.out" && pass "$b: unlike the training data of fpz_pz" \
        || fail "$b: unlike the training data" "$(grep note "$TMP/ob.out" | tr '\n' '|')"
else
    skip "real OpenBCI recordings" "no $SHARED/openbci"
fi
exit 0
