#!/bin/sh
# One staging pipeline: the same recording staged by `score` and by a headless replay (`--speed 0`) gives
# identical labels epoch for epoch, for the sample night (EDF, 100 Hz), the same night resampled to 250 Hz
# and to 125 Hz as BDF, an OpenBCI GUI text file, a Cyton SD-card file, and a BDF+ recording made by `record` from the
# emulator — which also replays and scores with no options, with the roles and the model used live.
. "$(dirname "$0")/lib.sh"
NIGHT=$DW_ROOT/sample-data/sample-night.edf
[ -f "$NIGHT" ] || { fail "sample night" "missing $NIGHT (make builds it)"; exit 0; }
REC=
trap '[ -n "$REC" ] && stop_pids $REC; [ -n "$EMU" ] && kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
. "$(dirname "$0")/emulator.inc"
PY=/usr/bin/python3
labels_csv() { awk -F, 'NR>1 { print $3 }' "$1"; }
labels_log() { awk -F'\t' '/^epoch / { print $2 }' "$1"; }
same() {   # name file: score and replay of file agree epoch for epoch
    name=$1; f=$2; shift 2
    rm -f "$TMP/o.csv" "$TMP/o.edf" "$TMP/o.summary.txt" "$TMP/o_events.tsv"
    if ! "$DW_BIN" score "$@" --out "$TMP/o" "$f" > "$TMP/score.out" 2> "$TMP/score.err"; then
        fail "$name: score" "$(tail -2 "$TMP/score.err")"; return
    fi
    "$DW_BIN" --headless --speed 0 --exit-at-end --no-record "$@" "$f" > "$TMP/replay.out" 2> "$TMP/replay.err"
    labels_csv "$TMP/o.csv" > "$TMP/a"; labels_log "$TMP/replay.out" > "$TMP/b"
    n=$(wc -l < "$TMP/a")
    if [ "$n" -gt 0 ] && cmp -s "$TMP/a" "$TMP/b"; then
        pass "$name: score and replay give identical labels ($n epochs, $(grep -o 'model [a-z_]*' "$TMP/score.out"))"
    else
        fail "$name: score and replay give identical labels" "$n vs $(wc -l < "$TMP/b") epochs; $(paste -d' ' "$TMP/a" "$TMP/b" | awk '$1!=$2' | head -3 | tr '\n' ';')"
    fi
}

same "sample night (EDF, 100 Hz)" "$NIGHT"
cp "$TMP/a" "$TMP/night100"
if $PY -c 'import scipy' 2>/dev/null; then
    $PY "$DW_ROOT/tests/e2e/make_formats.py" bdf250 "$NIGHT" "$TMP/night250.bdf"
    same "sample night resampled to 250 Hz (BDF)" "$TMP/night250.bdf"
    agree=$(paste -d' ' "$TMP/night100" "$TMP/a" | awk '$1 == $2 { a++ } END { printf "%.3f", a / NR }')
    echo "# sample night at 100 Hz (EDF) and 250 Hz (BDF): $agree of the labels agree"
    awk "BEGIN { exit !($agree > 0.85) }" && pass "100 Hz and 250 Hz versions of a night mostly agree ($agree)" \
        || fail "100 Hz and 250 Hz versions of a night mostly agree" "$agree"
    # 125 Hz (Cyton+Daisy): score reads 48 s a block, more than the verdicts once ran ahead of an epoch
    $PY "$DW_ROOT/tests/e2e/make_formats.py" bdf125 "$NIGHT" "$TMP/night125.bdf"
    same "sample night resampled to 125 Hz (BDF)" "$TMP/night125.bdf"
    unscored=$(grep -c ',?,' "$TMP/o.csv")
    [ "$unscored" -eq 0 ] && pass "125 Hz: score leaves no epoch of the clean night unscored" \
        || fail "125 Hz: score leaves no epoch of the clean night unscored" "$unscored unscored"
    $PY "$DW_ROOT/tests/e2e/make_formats.py" gui "$NIGHT" "$TMP/gui.txt" 3600 900
    same "OpenBCI GUI text (250 Hz, Ch1/Ch2)" "$TMP/gui.txt"
    $PY "$DW_ROOT/tests/e2e/make_formats.py" sd "$NIGHT" "$TMP/sd.TXT" 3600 900
    same "Cyton SD-card log" "$TMP/sd.TXT"
    # A 16-channel file stages its two roles only: the same labels whatever else it holds.
else
    skip "formats" "python3-scipy missing"
fi
for f in "$DW_ROOT/../shared/data/openbci/OpenBCI_GUI-v6-blinks-jawClench-alpha.txt"; do
    [ -f "$f" ] && same "real OpenBCI GUI v6 file" "$f"
done

# Our own recording: live labels from `record`, then score and replay of the file with no options.
start_emu --file "$NIGHT" --seconds 200
mkdir -p "$TMP/rec"
"$DW_BIN" record --serial "$TMP/tty" --out "$TMP/rec" --subject onepath > "$TMP/live.out" 2> "$TMP/live.err" &
REC=$!
i=0; while [ "$(labels_log "$TMP/live.out" | wc -l)" -lt 2 ] && [ $i -lt 900 ] && kill -0 $REC 2>/dev/null; do
    sleep 0.1; i=$((i + 1)); done
kill -TERM $REC 2>/dev/null; wait $REC; REC=
stop_emu
bdf=$(ls "$TMP"/rec/*.bdf 2>/dev/null | head -1)
labels_log "$TMP/live.out" > "$TMP/live"
if [ -z "$bdf" ] || [ "$(wc -l < "$TMP/live")" -lt 2 ]; then
    fail "recording from the emulator" "$(tail -3 "$TMP/live.err")"
else
    same "our BDF+ recording (no options)" "$bdf"
    head -n "$(wc -l < "$TMP/live")" "$TMP/a" > "$TMP/a2"
    cmp -s "$TMP/live" "$TMP/a2" && pass "our recording scores with the labels staged live ($(wc -l < "$TMP/live") epochs)" \
        || fail "our recording scores with the labels staged live" "live $(tr '\n' ' ' < "$TMP/live") vs $(tr '\n' ' ' < "$TMP/a2")"
    ! grep -q "agreement with" "$TMP/score.out" && pass "our own live labels are not taken as a reference" \
        || fail "our own live labels are not taken as a reference" "$(grep -A1 'agreement with' "$TMP/score.out")"
    grep -q "model fpz_pz" "$TMP/score.out" && grep -q "model fpz_pz" "$TMP/live.err" \
        && pass "the recording is staged with the model used live (fpz_pz)" \
        || fail "the recording is staged with the model used live" "score: $(grep -o 'model [a-z_]*' "$TMP/score.out"); live: $(grep -o 'model [a-z_]*' "$TMP/live.err")"
fi
# The options mean the same on a live board as on a file.
start_emu --seconds 20
"$DW_BIN" record --serial "$TMP/tty" --out "$TMP/rec2" --channels 3,4 --frontal 1 > "$TMP/o2" 2> "$TMP/e2" &
REC=$!; sleep 3; kill -TERM $REC 2>/dev/null; wait $REC; st=$?; REC=
stop_emu
[ $st -eq 0 ] && grep -q "frontal Ch1" "$TMP/e2" && pass "record --channels 3,4 --frontal 1 works as on a file" \
    || fail "record --channels 3,4 --frontal 1" "rc=$st $(tail -2 "$TMP/e2")"
