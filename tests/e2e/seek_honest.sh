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

# The running N2+N3 densities after a seek are those of the epochs kept: a seek back to the start
# (before any N2) clears them at once (they kept the whole night's), and the night replayed to its end
# again shows the straight pass's figures on the status line, and about its count in the summary (every
# re-staged epoch's spindles and slow waves were counted twice: 1378 for 687).
plain=$(sed -n '/^## Spindles and slow waves/,/^$/p' "$sum")
rm -rf "$REC"
tm_start 120 30 env TERM=$TERMV "$DW_BIN" --speed 0 --no-record "$SAMPLE"
wait_for 30 'replay ended' || fail seek_densities "the replay did not end"
before=$(tm_screen | grep -o 'sp [0-9.]* SW [0-9.]*' | head -n 1)
tm_keys Space; wait_for 5 ' PAUSED '
i=0; while [ $i -lt 92 ]; do tm_keys Left; i=$((i + 1)); done
wait_for 10 'seek to 0:00:00 of the recording'; sleep 1
tm_screen > "$TMP/seek0.txt"
if [ -n "$before" ] && grep -q 'no epoch scored yet' "$TMP/seek0.txt" && ! grep -q 'sp [0-9.]* SW' "$TMP/seek0.txt"; then
    pass "seek_densities: a seek back to the start clears the N2+N3 densities (were: $before)"
else fail seek_densities "before '$before'; after: $(tail -n 1 "$TMP/seek0.txt")"; fi
tm_keys Space
wait_for 30 'replay ended' || fail seek_densities "the replay did not end again"
again=$(tm_screen | grep -o 'sp [0-9.]* SW [0-9.]*' | head -n 1)
tm_keys Q; sleep 0.5; tm_keys y
i=0; while tm_alive && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
seeked=$(sed -n '/^## Spindles and slow waves/,/^$/p' "$(ls "$REC"/replay-*.summary.txt 2>/dev/null | head -n 1)")
# (the summary's labels after a seek back may differ a little from a straight pass: README, Keys)
sp_plain=$(echo "$plain" | grep -o '^[0-9]* spindles' | cut -d' ' -f1)
sp_seeked=$(echo "$seeked" | grep -o '^[0-9]* spindles' | cut -d' ' -f1)
if [ "$again" = "$before" ] && [ -n "$sp_plain" ] && [ -n "$sp_seeked" ] &&
    awk -v a="$sp_seeked" -v b="$sp_plain" 'BEGIN { exit !(a > 0.95 * b && a < 1.05 * b) }'; then
    pass "seek_densities: replayed to the end again, the straight pass's densities ($again), spindles in the summary $sp_seeked (straight $sp_plain)"
else fail seek_densities "status '$again' vs '$before'; summary: $seeked // straight: $plain"; fi
tm_stop
