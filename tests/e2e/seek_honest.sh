#!/bin/sh
# A replay that was seeked says so: its summary and exit lines count the seeks, the epochs a forward seek
# left unscored and those staged again after a seek back, and point to `dreamwatch score` for a straight
# pass (they used to pass the changed labels off as the night's, the skipped epochs as "gaps, lost or bad
# signal"). A replay with no seek says nothing of the kind.
. tests/e2e/lib.sh
SAMPLE=$DW_ROOT/sample-data/sample-night.edf
if [ ! -f "$SAMPLE" ] || [ ! -x "$DW_BIN" ]; then skip seek_honest "no binary or sample night (run make)"; exit 0; fi
if ! command -v tmux >/dev/null; then skip seek_honest "no tmux"; exit 0; fi
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data"
TERMV=screen; infocmp tmux-256color >/dev/null 2>&1 && TERMV=tmux-256color
REC=$TMP/data/dreamwatch/recordings

tm_start 120 40 env TERM=$TERMV "$DW_BIN" --speed 100 --no-record "$SAMPLE"
if wait_for 20 'epoch [0-9]+'; then
    tm_keys Right; sleep 0.5; tm_keys Right; sleep 1
    tm_keys Left; sleep 1
    tm_keys Q; sleep 0.5; tm_keys y
fi
tm_screen > "$TMP/last.txt"; i=0; while tm_alive && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sum=$(ls "$REC"/replay-*.summary.txt 2>/dev/null | head -n 1)
line=$(grep 'the replay was seeked' "$sum" 2>/dev/null)
if echo "$line" | grep -Eq 'seeked 3 times: [1-9][0-9]* epochs skipped forward \(left unscored\), [1-9][0-9]* staged again'; then
    pass "seek_honest: the summary of a seeked replay says so ($line)"
else fail seek_honest "summary $sum: '$line'"; fi

rm -rf "$REC"
"$DW_BIN" --headless --speed 0 --exit-at-end --no-record "$SAMPLE" > /dev/null 2> "$TMP/plain.err"
sum=$(ls "$REC"/replay-*.summary.txt 2>/dev/null | head -n 1)
if [ -n "$sum" ] && ! grep -q 'seeked' "$sum" "$TMP/plain.err"; then
    pass "seek_honest: a replay with no seek says nothing of seeks"
else fail seek_honest_plain "$(grep seeked "$sum" "$TMP/plain.err")"; fi
