#!/bin/sh
# Never confident on bad input (case 09 of ../shared/cases, and live faults from the emulator): an epoch whose
# staging channel is flat, railed or mostly artefact is unscored ('?'), never a stage; no stimulus or cue
# follows from it, in a replay or live. The one quality verdict decides (src/dsp/quality.h).
. "$(dirname "$0")/lib.sh"
NIGHT=$DW_ROOT/sample-data/sample-night.edf
[ -f "$NIGHT" ] || { fail "sample night" "missing $NIGHT (make builds it)"; exit 0; }
/usr/bin/python3 -c 'import numpy, scipy' 2>/dev/null || { skip "bad signal" "python3-numpy/scipy missing"; exit 0; }
REC=
trap '[ -n "$REC" ] && stop_pids $REC; [ -n "$EMU" ] && kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
. "$(dirname "$0")/emulator.inc"
MK="/usr/bin/python3 $DW_ROOT/tests/e2e/make_inputs.py"
ENH="--enhanced --set stimulation.so_threshold_uv=-30 --set stimulation.cue_enabled=true
     --set stimulation.cue_after_epochs=1 --set stimulation.cue_interval_min=0 --set actuators.stimulus=none
     --set actuators.cue=none --set alerts.drift=false"

# Case 09: 40 min of the N2-rich middle of the night, then the frontal electrode reads flat for 20 min.
$MK cut "$NIGHT" "$TMP/mid.edf" 7200 10800
$MK flat "$TMP/mid.edf" "$TMP/sleep-then-flat.edf" 3600 0 2400 3600
$MK flat "$TMP/mid.edf" "$TMP/flat-only.edf" 600 0 0 600
"$DW_BIN" score --parietal none --out "$TMP/fo" "$TMP/flat-only.edf" > "$TMP/fo.out" 2>&1
grep -q "note: the frontal channel .* was flat in 20 of 20 epochs (unscored): check its electrode, or stage another channel with --frontal" "$TMP/fo.out" \
    && pass "a night staged on a flat channel says so and what to do" \
    || fail "a night staged on a flat channel says so" "$(tail -3 "$TMP/fo.out" | tr '\n' '|')"
n=$(awk -F, 'NR > 1' "$TMP/fo.csv" | wc -l); q=$(awk -F, 'NR > 1 && $3 == "?"' "$TMP/fo.csv" | wc -l)
[ "$n" -eq 20 ] && [ "$q" -eq 20 ] && pass "a file whose only EEG channel is flat: every epoch unscored ($q of $n)" \
    || fail "flat-only file unscored" "$q of $n unscored: $(awk -F, 'NR > 1 { print $3 }' "$TMP/fo.csv" | sort | uniq -c | tr '\n' ' ')"
"$DW_BIN" score --out "$TMP/stf" "$TMP/sleep-then-flat.edf" > /dev/null 2>&1
bad=$(awk -F, 'NR > 1 && $1 >= 80 && $3 != "?"' "$TMP/stf.csv" | wc -l)
good=$(awk -F, 'NR > 1 && $1 < 79 && $3 != "?"' "$TMP/stf.csv" | wc -l)
[ "$bad" -eq 0 ] && [ "$good" -ge 75 ] && pass "frontal electrode off after 40 min: the 40 flat epochs unscored, the 79 before staged" \
    || fail "flat epochs unscored" "$bad flat epochs staged, $good good ones staged"
# An unscored epoch has no probabilities: its p_ fields are empty (as the densities), never the stager's
# prior or a prediction; a scored one has five that sum to 1.
np=$(awk -F, 'NR > 1 && $3 == "?" && ($4 $5 $6 $7 $8) != ""' "$TMP/stf.csv" "$TMP/fo.csv" | wc -l)
ns=$(awk -F, 'NR > 1 && $3 == "?"' "$TMP/stf.csv" "$TMP/fo.csv" | wc -l)
sc=$(awk -F, 'NR > 1 && $3 != "?" { s = $4 + $5 + $6 + $7 + $8; if ($8 == "" || s < 0.99 || s > 1.01) n++ } END { print n + 0 }' "$TMP/stf.csv")
[ "$ns" -ge 60 ] && [ "$np" -eq 0 ] && [ "$sc" -eq 0 ] \
    && pass "CSV: the $ns unscored epochs' p_W..p_R empty, the scored ones' five sum to 1" \
    || fail "CSV: unscored epochs have no probabilities" "$np of $ns unscored rows with numbers, $sc scored rows without: $(awk -F, 'NR > 1 && $3 == "?"' "$TMP/fo.csv" | head -2 | tr '\n' '|')"
[ -z "$(awk -F, 'NR > 1 && $3 == "R" && $8 > 0.99' "$TMP/stf.csv")" ] && pass "no confident R over a flat channel" \
    || fail "no confident R" "$(awk -F, 'NR > 1 && $3 == "R" && $8 > 0.99' "$TMP/stf.csv" | head -3)"
# The same in enhanced mode with REM cues and SO stimulation armed: nothing follows from the flat part.
XDG_DATA_HOME="$TMP/d1" "$DW_BIN" --headless --speed 0 --exit-at-end --no-record $ENH "$TMP/sleep-then-flat.edf" \
    > /dev/null 2> "$TMP/e1"
log=$(ls "$TMP"/d1/dreamwatch/recordings/*.session.tsv 2>/dev/null | head -1)
late=$(awk -F'\t' '($3 == "stim" || $3 == "cue") && $1 > 2400' "$log" | wc -l)
early=$(awk -F'\t' '$3 == "stim" && $1 < 2400' "$log" | wc -l)
[ -n "$log" ] && [ "$late" -eq 0 ] && [ "$early" -gt 0 ] \
    && pass "enhanced replay: $early stimuli in the good 40 min, none and no cue over the flat channel" \
    || fail "no stimulus or cue over a flat channel" "log ${log:-none}; $early before, $late after: $(awk -F'\t' '($3 == "stim" || $3 == "cue") && $1 > 2400' "$log" | head -2 | tr '\t\n' ' ')"
if [ -d "$DW_ROOT/../shared/cases/09-flat-frontal-channel" ]; then   # the case's own inputs too
    C=$TMP/case09; mkdir -p "$C"; cp "$DW_ROOT"/../shared/cases/09-flat-frontal-channel/make.py "$C/"
    mkdir -p "$TMP/tools"; cp "$DW_ROOT"/../shared/cases/tools/*.py "$TMP/tools/" 2>/dev/null
    if (cd "$DW_ROOT" && /usr/bin/python3 "$C/make.py") > /dev/null 2>&1 && [ -f "$C/flat-only.edf" ]; then
        "$DW_BIN" score --parietal none --out "$TMP/c9" "$C/flat-only.edf" > /dev/null 2>&1
        [ -z "$(awk -F, 'NR > 1 && $3 != "?"' "$TMP/c9.csv")" ] && pass "case 09 flat-only.edf: every epoch unscored" \
            || fail "case 09 flat-only.edf" "$(awk -F, 'NR > 1 { print $3 }' "$TMP/c9.csv" | sort | uniq -c | tr '\n' ' ')"
    else
        skip "case 09 inputs" "its make.py did not run here"
    fi
fi

# Live: the emulator streams 8 min of deep sleep at 10x with the frontal electrode (Ch1) flat, then railed,
# then noisy, 40 s each. No stimulus or cue from the first second the verdict has judged (the fault's start +
# 1 s: a stimulus timed before it from good signal may still land in that second) to 30 s after its end;
# the epochs inside the fault '?'.
$MK cut "$NIGHT" "$TMP/deep.edf" 7200 7680
start_emu --file "$TMP/deep.edf" --speed 10 --seconds 120 --faults flat=120:40:1,rail=240:40:1,noise=360:40:1
mkdir -p "$TMP/rec"
: > "$TMP/live.out"        # exists before the loop below reads it (the job's redirection may come later)
"$DW_BIN" record --serial "$TMP/tty" --out "$TMP/rec" $ENH > "$TMP/live.out" 2> "$TMP/live.err" &
REC=$!
i=0; while [ "$(grep -c '^epoch' "$TMP/live.out")" -lt 15 ] && [ $i -lt 900 ] && kill -0 $REC 2>/dev/null; do
    sleep 0.2; i=$((i + 1)); done
kill -TERM $REC 2>/dev/null; wait $REC; REC=
stop_emu
log=$(ls "$TMP"/rec/*.session.tsv 2>/dev/null | head -1)
awk -F'\t' '/^epoch /' "$TMP/live.out" > "$TMP/ep"
if [ -z "$log" ] || [ "$(wc -l < "$TMP/ep")" -lt 14 ]; then
    fail "live faults" "$(wc -l < "$TMP/ep") epochs; $(tail -3 "$TMP/live.err")"
else
    for w in "flat 120" "railed 240" "artefact 360"; do
        set -- $w
        n=$(awk -F'\t' -v a="$2" '($3 == "stim" || $3 == "cue") && $1 >= a + 1 && $1 < a + 70' "$log" | wc -l)
        sc=$(awk -F'\t' -v a="$2" '{ split($1, x, " "); e = x[2] + 0 } e * 30 >= a && (e + 1) * 30 <= a + 40 && $2 != "?"' "$TMP/ep" | wc -l)
        al=$(awk -F'\t' -v k="$1" '$3 == "alert" && index($4, k)' "$log" | head -1)
        [ "$n" -eq 0 ] && [ "$sc" -eq 0 ] && [ -n "$al" ] \
            && pass "live, Ch1 $1 from $2 s for 40 s: epochs unscored, no stimulus or cue, alert raised" \
            || fail "live, Ch1 $1" "$n stimuli/cues in the window, $sc epochs staged, alert '${al}'; $(awk -F'\t' -v a="$2" '($3 == "stim" || $3 == "cue" || $3 == "suspend") && $1 >= a - 2 && $1 < a + 70' "$log" | head -4 | tr '\t\n' ' ;')"
    done
    ok=$(awk -F'\t' '$3 == "stim" && (($1 > 60 && $1 < 120) || ($1 > 200 && $1 < 240))' "$log" | wc -l)
    [ "$ok" -gt 0 ] && pass "live: stimulation runs between the faults ($ok stimuli), so the blocks above are real" \
        || fail "live: stimulation between the faults" "none; $(awk -F'\t' '$3 == "suspend" || $3 == "stim_cancelled"' "$log" | head -3 | tr '\t\n' ' ')"
fi
