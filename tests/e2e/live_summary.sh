#!/bin/sh
# A live night's summary says how it was staged in `score`'s words: the "staging:" line, "why N unscored
# epochs: Ch1 flat N" and "N of M staged epochs on Ch1 alone (model eeg standing in for fpz_pz): Ch2 flat
# N", from the one function both call (staging/epoch_tally.h, dw_print_staged_night). The emulator streams
# at 10x with Ch1 (frontal) flat for 60 s, then Ch2 (parietal) flat for 60 s, and stops; the recording is
# then scored, and the two summaries' lines must be the same. Before, the live summary had none of them.
. "$(dirname "$0")/lib.sh"
[ -x "$DW_BIN" ] || { skip live_summary "no binary at $DW_BIN"; exit 0; }
REC=
trap '[ -n "$REC" ] && stop_pids $REC; [ -n "$EMU" ] && kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
. "$(dirname "$0")/emulator.inc"

# 280 board seconds (9 whole epochs): Ch1 flat in epochs 2-3 (60-120 s), Ch2 flat in epochs 5-6 (150-210 s)
rm -f "$TMP/tty"
"$DW_BIN" emulate --link "$TMP/tty" --speed 10 --seconds 28 --faults flat=60:60:1,flat=150:60:2 \
    > "$TMP/emu.out" 2> "$TMP/emu.err" &
EMU=$!
i=0; while [ ! -L "$TMP/tty" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
mkdir -p "$TMP/rec"
: > "$TMP/live.out"
XDG_DATA_HOME="$TMP/xd" XDG_CONFIG_HOME="$TMP/xc" "$DW_BIN" record --serial "$TMP/tty" --out "$TMP/rec" \
    > "$TMP/live.out" 2> "$TMP/live.err" < /dev/null &
REC=$!
wait $EMU; EMU=
# every whole epoch the board sent staged live (the emulator has stopped: no more come)
i=0; while [ "$(grep -c '^epoch' "$TMP/live.out")" -lt 9 ] && [ $i -lt 150 ] && kill -0 $REC 2>/dev/null; do
    sleep 0.2; i=$((i + 1)); done
stop_pids $REC; REC=
sum=$(ls "$TMP"/rec/*.summary.txt 2>/dev/null | head -1)
bdf=$(ls "$TMP"/rec/*.bdf 2>/dev/null | head -1)
if [ -z "$sum" ] || [ -z "$bdf" ]; then
    fail "live summary" "no summary or recording: $(ls "$TMP/rec" | tr '\n' ' '); $(tail -3 "$TMP/live.err")"
    exit 0
fi
"$DW_BIN" score --out "$TMP/sc" "$bdf" > "$TMP/sc.out" 2>&1
# the lines, the staging line without its "(why these channels)": live they were chosen "by channel
# order", the recording's are "as recorded"
pick() { sed -n -e 's/^\(staging: .*\) (.*)$/\1/p' -e '/^why [0-9]* unscored epoch/p' -e '/^[0-9]* of [0-9]* staged epochs* on /p' "$1"; }
pick "$sum" > "$TMP/live.lines"
pick "$TMP/sc.summary.txt" > "$TMP/score.lines"
check "live summary: the staging line, as score's" grep -q '^staging: frontal Ch1, parietal Ch2$' "$TMP/live.lines"
check "live summary: why epochs were unscored (Ch1 flat)" grep -q '^why [0-9]* unscored epochs*: Ch1 flat [0-9]' "$TMP/live.lines"
check "live summary: the epochs staged on Ch1 alone (Ch2 flat), the stand-in named" \
    grep -q '^[0-9]* of [0-9]* staged epochs* on Ch1 alone (model eeg standing in for fpz_pz): Ch2 flat [0-9]' "$TMP/live.lines"
if cmp -s "$TMP/live.lines" "$TMP/score.lines"; then
    pass "live summary and score of its recording: the same lines ($(tr '\n' '|' < "$TMP/live.lines"))"
else
    fail "live summary and score of its recording: the same lines" \
        "live: $(tr '\n' '|' < "$TMP/live.lines") score: $(tr '\n' '|' < "$TMP/score.lines")"
fi
