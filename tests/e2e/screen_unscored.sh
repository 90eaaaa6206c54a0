#!/bin/sh
# An unscored epoch has no probabilities on the screen: a replay whose only EEG channel is flat (every
# epoch unscored) shows the last epoch beside the hypnogram as "epoch 19: unscored, no data" with empty bars, never
# the stager's prior (it showed W 17 %, N2 43 % ... for a flat channel); the CSV of `score` is empty there
# too (bad_signal.sh).
. tests/e2e/lib.sh
NIGHT=$DW_ROOT/sample-data/sample-night.edf
if [ ! -f "$NIGHT" ] || [ ! -x "$DW_BIN" ]; then skip screen_unscored "no binary or sample night (run make)"; exit 0; fi
if ! command -v tmux >/dev/null; then skip screen_unscored "no tmux"; exit 0; fi
/usr/bin/python3 -c 'import numpy' 2>/dev/null || { skip screen_unscored "python3-numpy missing"; exit 0; }
TERMV=screen; infocmp tmux-256color >/dev/null 2>&1 && TERMV=tmux-256color
MK="/usr/bin/python3 $DW_ROOT/tests/e2e/make_inputs.py"
$MK cut "$NIGHT" "$TMP/mid.edf" 7200 7800
$MK flat "$TMP/mid.edf" "$TMP/flat.edf" 600 0 0 600
tm_start 120 40 env TERM=$TERMV XDG_DATA_HOME="$TMP/xdg" "$DW_BIN" --speed 600 --no-record --parietal none "$TMP/flat.edf"
wait_for 60 'staged in 20 epochs' && tm_keys Escape   # the end-of-replay summary, out of the way
if wait_for 10 'epoch 19: unscored, no data' && ! tm_screen | grep -Eq '^ *(W|N1|N2|N3|R) .* +[0-9]+%'; then
    pass "screen: the last epoch, unscored, says no data; no stage probability shown"
else fail "screen: unscored epoch's probabilities" "$(tm_screen | grep -E 'epoch|%' | head -8 | tr '\n' '|')"; fi
tm_stop
# --headless prints each epoch's stage and probabilities: an unscored one's fields are empty (it printed the
# prior, as the screen did)
XDG_DATA_HOME="$TMP/xdg" "$DW_BIN" --headless --speed 0 --exit-at-end --no-record --parietal none "$TMP/flat.edf" \
    > "$TMP/h.out" 2> "$TMP/h.err"
n=$(grep -c '^epoch' "$TMP/h.out"); e=$(grep -c "^epoch [0-9]*	?					$" "$TMP/h.out")
[ "$n" -eq 20 ] && [ "$e" -eq 20 ] && pass "--headless: the 20 unscored epochs' probability fields empty" \
    || fail "--headless: unscored epochs' probabilities" "$e of $n empty: $(head -2 "$TMP/h.out" | tr '\n' '|')"
