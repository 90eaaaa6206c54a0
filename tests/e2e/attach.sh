#!/bin/sh
# `dreamwatch attach` on a live `dreamwatch record` (emulated Cyton): the full monitor in tmux, a marker and
# a mode change carried out by the session, detach with d, then the attached terminal killed: the session
# and its recording go on, and the recording holds the same samples as a run nobody attached to.
. "$(dirname "$0")/lib.sh"
[ -x "$DW_BIN" ] || { skip attach "no binary at $DW_BIN"; exit 0; }
command -v tmux >/dev/null || { skip attach "tmux is not installed"; exit 0; }
RA= RB= EA= EB=
trap 'stop_pids $RA $RB $EA $EB; tm_stop_all; wait 2>/dev/null; rm -rf "$TMP"' EXIT
export XDG_RUNTIME_DIR="$TMP/run"
mkdir -m 700 "$TMP/run"
"$DW_BIN" emulate --link "$TMP/ttyA" --seconds 300 > /dev/null 2>&1 & EA=$!
"$DW_BIN" emulate --link "$TMP/ttyB" --seconds 300 > /dev/null 2>&1 & EB=$!
i=0; while { [ ! -L "$TMP/ttyA" ] || [ ! -L "$TMP/ttyB" ]; } && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
"$DW_BIN" record --serial "$TMP/ttyA" --out "$TMP/recA" --bed a1 > "$TMP/a.out" 2> "$TMP/a.err" & RA=$!
"$DW_BIN" record --serial "$TMP/ttyB" --out "$TMP/recB" > "$TMP/b.out" 2> "$TMP/b.err" & RB=$!
sock="$TMP/run/dreamwatch/a1.sock"
i=0; while [ ! -S "$sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
check "attach: record serves a control socket named after its bed, mode 0600, in a 0700 folder" \
    test -S "$sock" -a "$(stat -c %a "$sock")" = 600 -a "$(stat -c %a "$TMP/run/dreamwatch")" = 700
check "attach: no port is listened on (the socket is a Unix one)" sh -c "! grep -q ':' /proc/$RA/net/tcp 2>/dev/null || \
    [ \$(awk 'NR > 1 && \$4 == \"0A\"' /proc/$RA/net/tcp | wc -l) -eq \$(awk 'NR > 1 && \$4 == \"0A\"' /proc/$$/net/tcp | wc -l) ]"
"$DW_BIN" attach > /dev/null 2> "$TMP/list.err" < /dev/null; st=$?
check "attach: with no SESSION and two running, it lists them and exits 1" \
    sh -c "[ $st -eq 1 ] && grep -q '^  a1$' '$TMP/list.err' && grep -q '^  $RB$' '$TMP/list.err'"
"$DW_BIN" attach nosuch > /dev/null 2> "$TMP/nosuch.err" < /dev/null; st=$?
check "attach: a SESSION not running is named as such, with the sessions that are, exit 1 (not the socket's ENOENT)" \
    sh -c "[ $st -eq 1 ] && grep -q 'no session named \"nosuch\" is running; running: ' '$TMP/nosuch.err' && \
           grep -q 'a1' '$TMP/nosuch.err' && ! grep -q 'No such file' '$TMP/nosuch.err'"

"$DW_BIN" record --serial "$TMP/ttyB" --out "$TMP/recC" --bed a1 > /dev/null 2> "$TMP/c.err" < /dev/null; st=$?
check "attach: a second session with the same name is refused before it touches the device, exit 2 (a configuration error)" \
    sh -c "[ $st -eq 2 ] && grep -q 'session a1 is already running' '$TMP/c.err' && [ ! -e '$TMP/recC' ]"

tm_start 120 40 "$DW_BIN" attach a1
check "attach: the full monitor shows the live session" wait_for 10 'LIVE'
check "attach: same panes as the monitor (traces, hypnogram, alerts)" \
    sh -c "tmux -S '$TMUX_SOCK' capture-pane -p -t t | grep -q 'Traces' && tmux -S '$TMUX_SOCK' capture-pane -p -t t | grep -q 'Hypnogram' && tmux -S '$TMUX_SOCK' capture-pane -p -t t | grep -q 'Alerts'"
tm_keys m; sleep 0.5; tm_keys "attach-marker-1 from the attached screen, over forty bytes long" Enter
tm_keys n; sleep 0.5; tm_keys y
check "attach: a mode change from the attached screen is carried out by the session" wait_for 8 'ENHANCED|MONITORING'
tm_keys d
sleep 1
check "attach: d detaches (the attach process ends)" sh -c "! tmux -S '$TMUX_SOCK' list-panes -t t -F '#{pane_current_command}' 2>/dev/null | grep -q dreamwatch"
check "attach: after detaching, the session goes on" kill -0 $RA

tm_start 100 30 "$DW_BIN" attach a1
wait_for 10 'LIVE' >/dev/null
tm_keys m; sleep 0.5; tm_keys "attach-marker-2" Enter
sleep 1
tmux -S "$TMUX_SOCK" kill-server      # the terminal goes away (as when an SSH link drops): SIGHUP
sleep 4
check "attach: killing the attached terminal leaves the session running" kill -0 $RA
kill -TERM $RA $RB
wait $RA; sa=$?; wait $RB; sb=$?
RA= RB=
check "attach: both sessions shut down cleanly (exit 0)" test $sa -eq 0 -a $sb -eq 0
check "attach: the control socket is removed at the end" test ! -e "$sock"
a=$(ls "$TMP"/recA/*.bdf 2>/dev/null | head -1); b=$(ls "$TMP"/recB/*.bdf 2>/dev/null | head -1)
if [ -n "$a" ] && [ -n "$b" ]; then
    out=$(/usr/bin/python3 "$DW_ROOT/tests/e2e/bdfsamples.py" "$b" "$a")
    check "attach: the attached session's recording has the same samples as one nobody attached to ($out)" \
        sh -c "echo '$out' | grep -q '^same' && [ \$(echo '$out' | awk '{print int(\$2)}') -ge 8 ]"
    ev="$a.events.tsv"
    check "attach: both markers and the mode change are in the recording's annotations" \
        sh -c "grep -q 'Marker: attach-marker-1' '$ev' && grep -q 'Marker: attach-marker-2' '$ev' && grep -q 'NATURAL ->' '$ev'"
    check "attach: the long marker is whole in the BDF+ (numbered pieces rejoined, none over 40 bytes)" sh -c \
        "/usr/bin/python3 '$DW_ROOT/tests/e2e/bdf_annotations.py' '$a' > '$TMP/ann' && grep -q 'Marker: attach-marker-1 from the attached screen, over forty bytes long\$' '$TMP/ann'"
    check "attach: apart from them the annotations are the reference run's" sh -c \
        "cut -f3 '$b.events.tsv' | grep -v -e '^End padded' -e '> SHUTDOWN' | sort > '$TMP/eb'; cut -f3 '$ev' | grep -v -e attach-marker -e 'NATURAL ->' -e ' -> NATURAL' -e '^End padded' -e '> SHUTDOWN' | sort > '$TMP/ea'; diff '$TMP/eb' '$TMP/ea' > /dev/null || { diff '$TMP/eb' '$TMP/ea' | head; false; }"
else
    fail "attach: recordings" "missing ($a, $b)"
fi

# ---- how the session ended, as the attached screen tells it: a killed session is not a safe shutdown
# (it said "the session ended" and exited 0 for both), and its leftover socket is named as such ----
RK= RT=
"$DW_BIN" record --serial "$TMP/ttyA" --out "$TMP/recK" --bed k1 > /dev/null 2>&1 & RK=$!
"$DW_BIN" record --serial "$TMP/ttyB" --out "$TMP/recT" --bed t1 > /dev/null 2>&1 & RT=$!
i=0; while { [ ! -S "$TMP/run/dreamwatch/k1.sock" ] || [ ! -S "$TMP/run/dreamwatch/t1.sock" ]; } && [ $i -lt 200 ]; do
    sleep 0.05; i=$((i + 1)); done
ended_as() {  # ended_as BED SIGNAL: attach, send SIGNAL to the session, print what attach said and its status
    tm_start 200 40 sh -c "\"\$0\" attach $1 2> '$TMP/att-$1.err'; echo EXIT=\$? >> '$TMP/att-$1.err'; sleep 30" "$DW_BIN"
    wait_for 10 'LIVE' > /dev/null
    kill -"$2" "$3"; wait "$3" 2>/dev/null
    i=0; while ! grep -q EXIT= "$TMP/att-$1.err" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    tmux -S "$TMUX_SOCK" kill-server 2>/dev/null
    tr '\n' ' ' < "$TMP/att-$1.err"
}
k=$(ended_as k1 KILL $RK); RK=
t=$(ended_as t1 TERM $RT); RT=
check "attach: a killed session is told as one, exit 1 ($k)" sh -c "echo '$k' | grep -q 'killed or crashed' && echo '$k' | grep -q 'EXIT=1'"
check "attach: a safe shutdown is told as one, exit 0 ($t)" sh -c "echo '$t' | grep -q 'safe shutdown' && echo '$t' | grep -q 'EXIT=0'"
tm_start 200 40 sh -c "\"\$0\" attach k1 2> '$TMP/stale.err'; echo EXIT=\$? >> '$TMP/stale.err'; sleep 30" "$DW_BIN"
i=0; while ! grep -q EXIT= "$TMP/stale.err" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
tmux -S "$TMUX_SOCK" kill-server 2>/dev/null
s=$(tr '\n' ' ' < "$TMP/stale.err")
check "attach: the socket a killed session left is named as such, once ($s)" \
    sh -c "echo '$s' | grep -q 'no session is running behind it' && [ \$(echo '$s' | grep -o 'k1.sock' | wc -l) -eq 1 ]"
