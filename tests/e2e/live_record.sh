#!/bin/sh
# The real binary on a live (emulated) Cyton: `dreamwatch record --serial` through an unplug and back,
# a board that is off, a port that is not there.
. "$(dirname "$0")/lib.sh"
[ -x "$DW_BIN" ] || { skip live_record "no binary at $DW_BIN"; exit 0; }
REC=
trap '[ -n "$REC" ] && stop_pids $REC; [ -n "$EMU" ] && kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
. "$(dirname "$0")/emulator.inc"

start_emu --faults unplug=3:1.5
mkdir -p "$TMP/rec"
"$DW_BIN" record --serial "$TMP/tty" --out "$TMP/rec" --subject e2e > "$TMP/rec.out" 2> "$TMP/rec.err" &
REC=$!
sleep 9
check "record --serial: still running after the board was unplugged and came back" kill -0 $REC
kill -TERM $REC
wait $REC; st=$?
REC=
check "record --serial: a safe shutdown exits 0" test $st -eq 0
big=$(find "$TMP/rec" -type f -size +20k | head -1)
# 9 s x 250 Hz x 8 channels x 3 bytes = 54 kB of samples
check "record --serial: the recording holds the samples" test -n "$big"
if [ -n "$big" ]; then
    check "record --serial: recordings are private (0600)" test "$(stat -c %a "$big")" = 600
fi
stop_emu

start_emu --faults board-off
"$DW_BIN" record --serial "$TMP/tty" --out "$TMP/rec2" > /dev/null 2> "$TMP/err"; st=$?
check "record --serial: a board that is off is a clear error" \
    sh -c "[ $st -ne 0 ] && grep -q 'board is off or out of range' '$TMP/err'"
stop_emu

"$DW_BIN" record --serial "$TMP/no-such-port" --out "$TMP/rec3" > /dev/null 2> "$TMP/err"; st=$?
check "record --serial: a missing port is named" sh -c "[ $st -ne 0 ] && grep -q 'no-such-port' '$TMP/err'"

# Two `record` on one port, as root (TIOCEXCL does not stop root; it cost the first 62 gaps and 3.95 s of
# data before the second gave up): the second is refused at once, naming the first's process, and the
# first loses nothing (its summary counts the samples it lost: 0).
if [ "$(id -u)" = 0 ]; then
    start_emu
    "$DW_BIN" record --serial "$TMP/tty" --out "$TMP/one" --subject first > /dev/null 2> "$TMP/first.err" &
    REC=$!
    sleep 3
    t0=$(date +%s.%N)
    timeout -s KILL 10 "$DW_BIN" record --serial "$TMP/tty" --out "$TMP/two" --subject second > /dev/null 2> "$TMP/second.err"
    st=$?
    dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
    [ $st -eq 2 ] && awk -v d="$dt" 'BEGIN { exit !(d < 1) }' && grep -q "in use by another program (process $REC)" "$TMP/second.err" &&
        pass "record --serial: a second record on the same port (as root) is refused at once ($dt s: $(cat "$TMP/second.err"))" ||
        fail "record --serial: a second record on the same port is refused at once" "exit $st after $dt s: $(cat "$TMP/second.err")"
    sleep 3
    kill -TERM $REC; wait $REC; st=$?; REC=
    stop_emu
    sum=$(ls "$TMP"/one/*.summary.txt 2>/dev/null | head -1)
    line=$(grep '^samples received' "$sum" 2>/dev/null)
    [ $st -eq 0 ] && echo "$line" | grep -q ', samples lost 0 (0.000 %), gaps 0 (0.000 s in all), reconnects 0$' &&
        pass "record --serial: the first record lost nothing ($line)" ||
        fail "record --serial: the first record lost nothing" "exit $st; ${line:-no data-path line in ${sum:-no summary}}"
else
    skip "record --serial: two records on one port" "not root"
fi
