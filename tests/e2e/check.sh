#!/bin/sh
# The pre-night check through the real binary on emulated boards: `dreamwatch check --serial` finds the
# electrode the emulator gives 80 kOhm and the railed one, measures the others at the emulator's 5, 6, 7 ...
# kOhm, passes alpha and eye movements on a head that closes its eyes and looks around when told (and
# fails them on one that does neither), and exits 0 only when everything passed; and `k` in the monitor
# runs the same check on a live session: its results land in the recording's annotations, the session log
# and a table on the screen.
. "$(dirname "$0")/lib.sh"
[ -x "$DW_BIN" ] || { skip check "no binary at $DW_BIN"; exit 0; }
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data"
TERMV=screen; infocmp tmux-256color >/dev/null 2>&1 && TERMV=tmux-256color
PIDS=
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; wait 2>/dev/null
      tm_stop_all; rm -rf "$TMP"' EXIT
# Phases: rest 6 s, eyes closed 10 s, eye movements 8 s (the emulated head follows the same times)
SHORT="--set check.rest_s=6 --set check.alpha_s=10 --set check.eyes_s=8"
HEAD="eyes-closed=6:10,eye-move=16:8"
emu() {  # emu NAME FAULTS: an emulated board behind $TMP/NAME.tty
    "$DW_BIN" emulate --link "$TMP/$1.tty" --seconds 120 ${2:+--faults "$2"} > /dev/null 2>&1 &
    PIDS="$PIDS $!"
    i=0; while [ ! -L "$TMP/$1.tty" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
}
# three boards checked at once (the check waits on the clock, not the processor)
emu bad "$HEAD,impedance=2:80,rail=0:120:3"
emu still ""
emu good "$HEAD"
for b in bad still good; do
    ch=1,2,3,4; [ $b = good ] && ch=1,2
    "$DW_BIN" check --serial "$TMP/$b.tty" --channels $ch $SHORT > "$TMP/$b.out" 2> "$TMP/$b.err" &
    eval "pid_$b=\$!"
done
for b in bad still good; do eval "wait \$pid_$b; rc_$b=\$?"; done
row() { grep "^$2 " "$TMP/$1.out"; }
# near VALUE WANT: within 10 % (a packet lost under load moves the 31.25-Hz estimate a little)
near() { awk -v v="$1" -v w="$2" 'BEGIN { exit !(v != "" && v >= 0.9 * w && v <= 1.1 * w) }'; }
kohm() { row "$1" "$2" | awk '{ print $2 }'; }
if [ "$rc_bad" = 1 ] && near "$(kohm bad Ch1)" 5 && row bad Ch1 | grep -q ' pass$' && near "$(kohm bad Ch2)" 80 &&
   row bad Ch2 | grep -q 'FAIL: impedance over 20 kOhm' && row bad Ch3 | grep -Eq 'FAIL: .*railed [0-9]+ s' &&
   near "$(kohm bad Ch4)" 8 && row bad Ch4 | grep -q ' pass$' &&
   grep -q '^alpha, eyes closed / open (Ch2): x[0-9.]*, at least 1.5: pass' "$TMP/bad.out" &&
   grep -q '^eye movements (Ch1): [0-9]* swings past +-30 uV, at least 4: pass' "$TMP/bad.out" && grep -q '^FAIL' "$TMP/bad.out"; then
    pass "check_finds_bad_electrodes: exit 1; Ch2 $(kohm bad Ch2) kOhm and Ch3 railed fail, Ch1 and Ch4 pass at $(kohm bad Ch1) and $(kohm bad Ch4) kOhm (the emulator's 5 and 8); $(grep '^alpha' "$TMP/bad.out" | cut -d: -f2 | cut -d, -f1)"
else fail check_finds_bad_electrodes "exit $rc_bad: $(cat "$TMP/bad.out" "$TMP/bad.err" | tail -9 | tr '\n' ';')"; fi
if [ "$rc_still" = 1 ] && grep -q '^alpha, .*: FAIL' "$TMP/still.out" && grep -q '^eye movements .*: FAIL' "$TMP/still.out" &&
   [ "$(grep -c ' pass$' "$TMP/still.out")" = 4 ]; then
    pass "check_alpha_and_eyes: a head with alpha all the time and still eyes fails both tests ($(grep '^alpha' "$TMP/still.out" | cut -d: -f2 | cut -d, -f1); $(grep '^eye' "$TMP/still.out" | cut -d: -f2 | cut -d, -f1))"
else fail check_alpha_and_eyes "exit $rc_still: $(tail -4 "$TMP/still.out" | tr '\n' ';') $(cat "$TMP/still.err")"; fi
if [ "$rc_good" = 0 ] && grep -q '^PASS: ready for the night' "$TMP/good.out" && grep -q '^check: close your eyes and relax' "$TMP/good.out"; then
    pass "check_passes: exit 0 when every channel and test passed, the instructions given as the phases came"
else fail check_passes "exit $rc_good: $(tail -5 "$TMP/good.out" | tr '\n' ';') $(cat "$TMP/good.err")"; fi
"$DW_BIN" check > /dev/null 2> "$TMP/usage.err"; rc=$?
[ $rc = 2 ] && grep -q -- '--serial PORT is required' "$TMP/usage.err" && pass "check_usage: no port: exit 2 with the reason" ||
    fail check_usage "exit $rc: $(cat "$TMP/usage.err")"

# ---- k in the monitor on a live session: the check runs on the stream, the results are annotated ----
emu mon "impedance=1:33"
tm_start 120 40 env TERM=$TERMV "$DW_BIN" --serial "$TMP/mon.tty" --channels 1,2 $SHORT --out "$TMP/rec"
wait_for 10 'LIVE' && tm_keys k
wait_for 90 'Pre-night check \(any key closes\)'
tm_screen > "$TMP/mon.screen"
tm_keys Escape; tm_keys Q && wait_for 5 'Safe shutdown' && tm_keys y
i=0; while tm_alive && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
side=$(ls "$TMP"/rec/*.bdf.events.tsv 2>/dev/null | head -1); log=$(ls "$TMP"/rec/*.session.tsv 2>/dev/null | head -1)
k1=$(grep -o 'Check Ch1: FAIL, [0-9.]* kOhm' "$side" 2>/dev/null | awk '{ print $4 }')
k2=$(grep -o 'Check Ch2: pass, [0-9.]* kOhm' "$side" 2>/dev/null | awk '{ print $4 }')
if [ -n "$side" ] && near "$k1" 33 && near "$k2" 6 && grep -q 'Check: close your eyes and relax' "$side" &&
   grep -q "	check	Check Ch1: FAIL, $k1 kOhm" "$log" && grep -Eq "Ch1 +$k1 k .*FAIL: impedance over 20 kOhm" "$TMP/mon.screen"; then
    pass "check_in_monitor: k ran the check on the live stream (Ch1 $k1 kOhm FAIL, Ch2 $k2 kOhm pass); its phases and results are in the recording's annotations, the session log and the screen"
else fail check_in_monitor "annotations: $(grep -o 'Check [^	]*' "$side" 2>/dev/null | tr '\n' ';'); log rows: $(grep -c '	check	' "$log" 2>/dev/null); screen: $(grep -E 'Ch[12] |check' "$TMP/mon.screen" | tr -s ' ' | tr '\n' ';')"; fi
