#!/bin/sh
# `k` during a live, recording session (a technician re-checks the electrodes at 3 am without ending the
# night): the impedance part stops the board about 2 s per channel. That stop is a deliberate pause: the
# recording marks each one ("Pause ...: impedance check") and no gap, the status line never says NO DATA
# nor a loss over 1 %, the summary counts no sample lost, no loss or no-samples alert is raised; the
# check's results still land in the annotations. The old monitor showed NO DATA during each channel's
# measurement and counted the pauses as packet loss (the summary's lost samples, "Gap" annotations).
. "$(dirname "$0")/lib.sh"
[ -x "$DW_BIN" ] || { skip check_pause "no binary at $DW_BIN"; exit 0; }
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data"
TERMV=screen; infocmp tmux-256color >/dev/null 2>&1 && TERMV=tmux-256color
EMU=
trap '[ -n "$EMU" ] && kill $EMU 2>/dev/null; wait 2>/dev/null
      tm_stop_all; [ -n "$KEEP" ] && cp -r "$TMP" "$KEEP"; rm -rf "$TMP"' EXIT
"$DW_BIN" emulate --link "$TMP/tty" --seconds 120 > /dev/null 2> "$TMP/emu.err" &
EMU=$!
i=0; while [ ! -L "$TMP/tty" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
tm_start 140 40 env TERM=$TERMV "$DW_BIN" --serial "$TMP/tty" --channels 1,2,3,4 --out "$TMP/rec" \
    --set check.rest_s=4 --set check.alpha_s=4 --set check.eyes_s=4
wait_for 10 'LIVE' || { fail check_pause "the live session did not start: $(tm_screen | head -3)"; exit 0; }
sleep 3
tm_keys k
# the screen, every 0.1 s, from k to the check's table (4 channels: about 12 s of phases, 8 s of pauses)
: > "$TMP/during"
end=$(( $(date +%s) + 60 ))
while [ "$(date +%s)" -le $end ]; do
    tm_screen > "$TMP/now" 2>/dev/null
    grep -E 'NO DATA|loss [0-9.]+%' "$TMP/now" | head -2 >> "$TMP/during"
    grep -q 'Pre-night check (any key closes)' "$TMP/now" && break
    sleep 0.1
done
tm_screen > "$TMP/table"
sleep 3                                    # the stream runs on after the check
tm_keys Escape; tm_keys Q && wait_for 5 'Safe shutdown' && tm_keys y
i=0; while tm_alive && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
side=$(ls "$TMP"/rec/*.bdf.events.tsv 2>/dev/null | head -1)
log=$(ls "$TMP"/rec/*.session.tsv 2>/dev/null | head -1)
sum=$(ls "$TMP"/rec/*.summary.txt 2>/dev/null | head -1)
line=$(grep '^samples received' "$sum" 2>/dev/null)
# the pauses' seconds in all (two channels' pauses with no sample between them make one annotation)
pause_s=$(grep -o 'Pause [0-9.]* s: impedance check' "$side" 2>/dev/null | awk '{ s += $2 } END { print s + 0 }')
nodata=$(grep -c 'NO DATA' "$TMP/during")
# the worst loss figure the status line showed during the check
worst=$(grep -o 'loss [0-9.]*%' "$TMP/during" | tr -d 'loss%' | sort -n | tail -1)
if grep -q 'Pre-night check (any key closes)' "$TMP/table" && [ "$nodata" = 0 ] &&
   awk -v w="${worst:-0}" 'BEGIN { exit !(w <= 1) }'; then
    pass "check_pause_screen: no NO DATA and a loss of at most ${worst:-0} % on the status line while k measured 4 impedances"
else fail check_pause_screen "NO DATA seen $nodata times, worst loss ${worst:-?} %: $(sort -u "$TMP/during" | head -3 | tr -s ' ' | tr '\n' ';')"; fi
if awk -v s="$pause_s" 'BEGIN { exit !(s >= 4 && s <= 16) }' && ! grep -q '	Gaps\? ' "$side" &&
   grep -q 'Check Ch4: pass' "$side"; then
    pass "check_pause_annotated: the recording marks the pauses, $pause_s s for 4 channels ($(grep -o 'Pause [0-9.]* s' "$side" | tr '\n' ' ')), no gap, and the check's results"
else fail check_pause_annotated "pauses $pause_s s; $(grep -E 'Pause|Gap|Check Ch' "$side" 2>/dev/null | cut -f3 | tr '\n' ';')"; fi
if echo "$line" | grep -q ', samples lost 0 (0.000 %), gaps 0 ' &&
   ! grep -Eq 'raised .*(loss|no_samples|no samples)' "$log"; then
    pass "check_pause_no_loss: the summary counts nothing lost and no loss alert was raised ($line)"
else fail check_pause_no_loss "${line:-no summary}; $(grep -E 'raised' "$log" | cut -f4 | tr '\n' ';')"; fi
# the summary counts the pauses next to the loss: as many as the recording marks, as long in all
npause=$(grep -c 'Pause [0-9.]* s: impedance check' "$side" 2>/dev/null)
pline=$(grep '^deliberate pauses' "$sum" 2>/dev/null)
if [ "${npause:-0}" -gt 0 ] && echo "$pline" | grep -q "^deliberate pauses $npause (" &&
   echo "$pline" | awk -v s="$pause_s" '{ v = $4; sub(/^\(/, "", v); d = v - s; exit !(d < 0.05 && d > -0.05) }'; then
    pass "check_pause_in_summary: '$pline' beside the loss, as the recording marks them ($npause, $pause_s s)"
else fail check_pause_in_summary "summary: '${pline:-none}'; the recording marks $npause pauses, $pause_s s"; fi
