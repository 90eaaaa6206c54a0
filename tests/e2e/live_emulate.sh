#!/bin/sh
# `dreamwatch emulate`: the pty and its link, the protocol as a Cyton speaks it (v, b, s, Daisy, a board
# that is off), streaming from a recording, bad options, a clean exit on SIGTERM.
. "$(dirname "$0")/lib.sh"
[ -x "$DW_BIN" ] || { skip live_emulate "no binary at $DW_BIN"; exit 0; }
trap '[ -n "$EMU" ] && kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
. "$(dirname "$0")/emulator.inc"
# talk CMD SECONDS: send CMD on the pty, keep what comes back for SECONDS in $TMP/reply
talk() {
    exec 3<>"$TMP/tty"
    printf '%s' "$1" >&3
    timeout "$2" cat <&3 > "$TMP/reply"
    exec 3>&-
}

start_emu --sent-log "$TMP/sent.log"
check "emulate: prints the pty's path and links it" \
    test "$(head -1 "$TMP/emu.out")" = "$(readlink "$TMP/tty")" -a -c "$(readlink "$TMP/tty")"
talk v 0.5
ends=$(tail -c 3 "$TMP/reply")
check "emulate: v answers with the board, the firmware and \$\$\$" \
    sh -c "grep -q 'Firmware: v3.1.2' '$TMP/reply' && [ '$ends' = '\$\$\$' ] && ! grep -q Daisy '$TMP/reply'"
talk b 1
bytes=$(wc -c < "$TMP/reply")
# 250 packets of 33 bytes a second; a loaded machine may deliver a little less or more
check "emulate: b streams about 250 packets a second ($bytes bytes in 1 s)" test "$bytes" -ge 5000 -a "$bytes" -le 12000
check "emulate: packets are framed 0xA0 ... 0xC0" \
    test "$(od -An -tx1 -j0 -N1 "$TMP/reply" | tr -d ' ')$(od -An -tx1 -j32 -N1 "$TMP/reply" | tr -d ' ')" = "a0c0"
talk s 0.3
stop_emu
check "emulate: exits 0 on SIGTERM and removes its link" test $? -eq 0 -a ! -e "$TMP/tty"
check "emulate: on SIGTERM at board speed it says what was sent, how fast, how late (--help: at exit)" \
    grep -q 'sent [1-9][0-9]* samples of [1-9][0-9]* (.* at most .* s late' "$TMP/emu.err"
check "emulate: the sent log has one line per sample: index, counter, time, 8 counts" \
    awk 'NR > 1 && NF != 11 { exit 1 } END { exit NR < 100 }' "$TMP/sent.log"

start_emu --daisy
talk v 0.5
check "emulate --daisy: v names the Daisy" grep -q "On Daisy ADS1299" "$TMP/reply"
kill -INT $EMU; wait $EMU; st=$?; EMU=
check "emulate: on SIGINT it exits 0 with its exit report (nothing streamed: sent 0 samples of 0)" \
    sh -c "[ $st -eq 0 ] && grep -q 'sent 0 samples of 0' '$TMP/emu.err'"

start_emu --faults board-off
talk v 0.5
check "emulate board-off: v answers Failure" grep -q "^Failure" "$TMP/reply"
stop_emu

night="$DW_ROOT/sample-data/sample-night.edf"
[ -f "$night" ] || night="$SHARED/openbci/OpenBCI-RAW-2016-07-21_17-46-29.txt"
if [ -f "$night" ]; then
    start_emu --file "$night"
    talk b 1
    check "emulate --file: streams a recording" test "$(wc -c < "$TMP/reply")" -ge 5000
    stop_emu
else
    skip "emulate --file" "neither the sample night (run make) nor $night"
fi

"$DW_BIN" emulate --faults drop=5%,bogus=1 > /dev/null 2> "$TMP/err"; st=$?
check "emulate: an unknown fault is refused by name (exit 2)" sh -c "[ $st -eq 2 ] && grep -q bogus '$TMP/err'"
"$DW_BIN" emulate --file "$TMP/none.edf" > /dev/null 2> "$TMP/err"; st=$?
check "emulate: a missing file is named (exit 1)" sh -c "[ $st -eq 1 ] && grep -q none.edf '$TMP/err'"

# a live session with --no-record is named as live, not as a replay
start_emu
XDG_DATA_HOME="$TMP/nr" XDG_CONFIG_HOME="$TMP/nrc" "$DW_BIN" --headless --serial "$TMP/tty" --no-record \
    > /dev/null 2>&1 < /dev/null &
nr=$!
sleep 4; kill -TERM $nr 2>/dev/null; wait $nr
stop_emu
check "live --no-record: its session log is named live-PORT-..., not replay-" \
    sh -c "ls '$TMP/nr/dreamwatch/recordings/' | grep -q '^live-.*\.session\.tsv$' && ! ls '$TMP/nr/dreamwatch/recordings/' | grep -q '^replay-'"

# the drift alert's figure: an emulator sending at --speed 10 runs its clock 10x, so after T s of board
# time the board is T * 9/10 s ahead of the host (it said T * 9: the ppm applied to board time, not host)
start_emu --speed 10
XDG_DATA_HOME="$TMP/dr" XDG_CONFIG_HOME="$TMP/drc" "$DW_BIN" record --serial "$TMP/tty" --no-record \
    > /dev/null 2>&1 < /dev/null &
dr=$!
sleep 12; kill -TERM $dr 2>/dev/null; wait $dr
stop_emu
dlog=$(ls "$TMP"/dr/dreamwatch/recordings/*.session.tsv 2>/dev/null | head -n 1)
dline=$(grep 'board clock' "$dlog" 2>/dev/null | grep -i raised | head -n 1)
check "live drift: the board's lead is t(r-1)/r (an emulator at 10x: 0.9 of the board time at the alert): $dline" \
    sh -c "echo '$dline' | awk -F'\t' '{ t = \$1 } match(\$0, /board clock \+[0-9.]+ s/) {
        v = substr(\$0, RSTART + 13, RLENGTH - 15) + 0; ok = t > 0 && v > 0.8 * t && v < 1.0 * t }
        END { exit !ok }'"
