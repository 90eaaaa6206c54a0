#!/bin/sh
# The real binary on a live (emulated) Cyton: `dreamwatch record --serial` through an unplug and back,
# a board that is off, a port that is not there.
. "$(dirname "$0")/lib.sh"
[ -x "$DW_BIN" ] || { skip live_record "no binary at $DW_BIN"; exit 0; }
REC=
trap '[ -n "$REC" ] && kill -9 $REC 2>/dev/null; [ -n "$EMU" ] && kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
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
