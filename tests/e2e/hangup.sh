#!/bin/sh
# The monitor's terminal going away (an SSH link dropping, the window closed), on the real binary in tmux
# on an emulated Cyton. A live monitor goes on headless: `tmux kill-session` leaves it recording, the
# session log says so, `dreamwatch attach` rejoins the night and Q ends it safely (exit 0, a BDF+ EDFlib
# reads ending with "Recording stopped", the summary, the _events.tsv table, the log's SHUTDOWN line). The
# same for SIGHUPs sent to the process, then SIGTERM. Hang-ups while a safe shutdown closes a slow
# recording (fdatasync delayed 1 s by strace) do not kill it half-way (they did: exit 129, no summary). A
# replay whose terminal goes ends safely ("terminal closed"). `emulate` removes its --link on SIGHUP.
# No process is left behind.
. "$(dirname "$0")/lib.sh"
HERE=$(dirname "$0")
SAMPLE=$DW_ROOT/sample-data/sample-night.edf
[ -x "$DW_BIN" ] || { skip hangup "no binary at $DW_BIN"; exit 0; }
command -v tmux >/dev/null || { skip hangup "tmux is not installed"; exit 0; }
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data" XDG_RUNTIME_DIR="$TMP/run"
mkdir -m 700 "$TMP/run"
TERMV=screen; infocmp tmux-256color >/dev/null 2>&1 && TERMV=tmux-256color
trap 'for f in "$TMP"/*.pids; do [ -f "$f" ] && stop_pids $(cat "$f"); done
      tm_stop_all
      wait 2>/dev/null; rm -rf "$TMP"' EXIT

one() { ls "$1"/*"$2" 2>/dev/null | head -n 1; }           # one DIR SUFFIX: the session file in DIR
emu() {  # emu NAME: an emulated Cyton behind $TMP/NAME.tty, its pid in $TMP/NAME.pids
    "$DW_BIN" emulate --link "$TMP/$1.tty" --seconds 120 > "$TMP/$1.emu" 2>&1 &
    echo $! > "$TMP/$1.pids"
    i=0; while [ ! -L "$TMP/$1.tty" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
}
grown() {  # grown NAME [BYTES]: wait until the recording in $TMP/NAME holds BYTES (default 4 s, 6 kB/s)
    i=0; until [ "$(stat -c %s "$(one "$TMP/$1" .bdf)" 2>/dev/null || echo 0)" -gt "${2:-24000}" ] ||
        [ $i -gt 200 ]; do sleep 0.1; i=$((i + 1)); done
}
# monitor NAME ARGS...: the monitor in tmux under a shell that outlives the hang-up to write its exit
# status to $TMP/NAME.rc. The shell catches SIGHUP (trap :), so dreamwatch starts with SIGHUP's default
# action as under a login shell (`trap '' HUP` would hand it an ignored SIGHUP, which hid the bug). Sets
# DW to the monitor's pid.
monitor() {
    n=$1; shift
    tm_start 120 40 sh -c "trap : HUP; TERM=$TERMV \"\$0\" \"\$@\" 2> '$TMP/$n.err'; echo \$? > '$TMP/$n.rc'" \
        "$DW_BIN" "$@"
    sh_pid=$(tmux -S "$TMUX_SOCK" display -p -t t '#{pane_pid}')
    DW=; i=0; while [ -z "$DW" ] && [ $i -lt 100 ]; do DW=$(pgrep -P "$sh_pid" | head -n 1); sleep 0.05; i=$((i + 1)); done
    echo "$DW" >> "$TMP/$n.pids"
}
ended() {  # ended NAME: wait (20 s at most) for the monitor's exit status; prints it, or "running"
    i=0; while [ ! -s "$TMP/$1.rc" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
    cat "$TMP/$1.rc" 2>/dev/null || echo running
}
# closed NAME CAUSE RC: exit 0; a BDF+ that EDFlib reads, 0600, "Recording stopped" at its end; a summary;
# the _events.tsv table and the session log both with "SHUTDOWN (CAUSE)"
closed() {
    bdf=$(one "$TMP/$1" .bdf); sum=$(one "$TMP/$1" .summary.txt); log=$(one "$TMP/$1" .session.tsv)
    ev=$(one "$TMP/$1" _events.tsv)
    info=$([ -n "$bdf" ] && "$TMP/bdfcheck" "$bdf")
    set -- "$1" "$2" "$3" $info
    if [ "$3" = 0 ] && [ "$4" = 3 ] && [ "${5:-0}" -ge 3 ] && [ "$7 $8" = "Recording stopped" ] &&
       [ "$(stat -c %a "$bdf")" = 600 ] && grep -q '^## Alerts' "$sum" && grep -q "SHUTDOWN ($2)" "$log" &&
       grep -q "SHUTDOWN ($2)" "$ev"; then
        pass "hangup_$1: exit 0, BDF+ of $6 s closed, summary and events table written, log says 'SHUTDOWN ($2)'"
    else fail "hangup_$1" "exit $3; bdfcheck: ${info:-none} ($bdf); summary: ${sum:-none}; events: ${ev:-none}; log: $(tail -n 1 "$log" 2>/dev/null | cut -f 3,4)"; fi
}
reap() {  # reap NAME: stop the emulator and anything else of NAME still running, and wait for them
    stop_pids $(cat "$TMP/$1.pids" 2>/dev/null)
    wait 2>/dev/null; rm -f "$TMP/$1.pids"
}
if ! cc -o "$TMP/bdfcheck" "$HERE/bdfcheck.c" -ledf -lm 2> "$TMP/cc.err"; then
    fail hangup "cannot build the EDFlib checker: $(head -3 "$TMP/cc.err")"; exit 0
fi
NOTE='terminal closed; the session goes on headless'

# ---- tmux kill-session under a live monitor: it goes on; attach rejoins it; Q there ends it safely ----
emu kill
monitor kill --serial "$TMP/kill.tty" --out "$TMP/kill" --bed k1
grown kill
wait_for 5 'LIVE' > /dev/null
tmux -S "$TMUX_SOCK" kill-session -t t
sleep 1; size0=$(stat -c %s "$(one "$TMP/kill" .bdf)"); sleep 3; size1=$(stat -c %s "$(one "$TMP/kill" .bdf)")
log=$(one "$TMP/kill" .session.tsv)
if [ -n "$DW" ] && kill -0 "$DW" 2>/dev/null && [ "$size1" -gt $((size0 + 12000)) ] &&
   grep -q "$NOTE (dreamwatch attach k1)" "$log" && [ -S "$TMP/run/dreamwatch/k1.sock" ]; then
    pass "hangup_kill_session_goes_on: 4 s after tmux kill-session the monitor records ($size0 -> $size1 bytes), the log says '$NOTE (dreamwatch attach k1)'"
else fail hangup_kill_session_goes_on "alive: $(kill -0 "$DW" 2>/dev/null && echo yes || echo no); $size0 -> $size1 bytes; log: $(tail -n 1 "$log" | cut -f 3,4); $(cat "$TMP/kill.rc" 2>/dev/null)"; fi
tm_start 120 40 env TERM=$TERMV "$DW_BIN" attach k1
if wait_for 10 'LIVE' && tm_keys Q && wait_for 5 'Safe shutdown' && tm_keys y; then
    closed kill operator "$(ended kill)"
else fail hangup_kill "attach k1 did not show the session: $(tm_screen | head -3 | tr '\n' ' ')"; fi
tmux -S "$TMUX_SOCK" kill-server 2>/dev/null
check "hangup_kill_socket_removed: the control socket is gone with the session" test ! -e "$TMP/run/dreamwatch/k1.sock"
reap kill

# ---- SIGHUPs to the monitor (three, as a dropped link brings the kernel's, the shell's, tmux's): it goes
# on, noted once; SIGTERM ends it safely ----
emu hup
monitor hup --serial "$TMP/hup.tty" --out "$TMP/hup"
grown hup
kill -HUP "$DW"; kill -HUP "$DW"; sleep 0.2; kill -HUP "$DW"
sleep 1; size0=$(stat -c %s "$(one "$TMP/hup" .bdf)"); sleep 3; size1=$(stat -c %s "$(one "$TMP/hup" .bdf)")
log=$(one "$TMP/hup" .session.tsv)
if kill -0 "$DW" 2>/dev/null && [ "$size1" -gt $((size0 + 12000)) ] && [ "$(grep -c "$NOTE" "$log")" = 1 ]; then
    pass "hangup_sighup_goes_on: 3 SIGHUPs, the monitor records on ($size0 -> $size1 bytes), noted once"
else fail hangup_sighup_goes_on "alive: $(kill -0 "$DW" 2>/dev/null && echo yes || echo no); $size0 -> $size1 bytes; notes: $(grep -c "$NOTE" "$log"); $(cat "$TMP/hup.rc" 2>/dev/null)"; fi
kill -TERM "$DW"
closed hup signal "$(ended hup)"
tmux -S "$TMUX_SOCK" kill-server 2>/dev/null
reap hup

# ---- hang-ups while a safe shutdown closes a slow recording: Q and y, then SIGHUP twice while every
# fsync and fdatasync takes 1 s (strace delays them in the kernel's path, the real files) ----
if command -v strace >/dev/null; then
    emu slow
    monitor slow --serial "$TMP/slow.tty" --out "$TMP/slow"
    grown slow
    strace -f -qq -o /dev/null -p "$DW" -e trace=fsync,fdatasync -e inject=fsync,fdatasync:delay_enter=1000000 &
    st=$!; echo $st >> "$TMP/slow.pids"
    sleep 1
    tm_keys Q && wait_for 5 'Safe shutdown' && tm_keys y
    sleep 0.3; kill -HUP "$DW"; sleep 0.4; kill -HUP "$DW"
    sleep 0.3; kill $st; wait $st      # strace detaches mid-close (LeakSanitizer cannot run under ptrace)
    closed slow operator "$(ended slow)"
    tmux -S "$TMUX_SOCK" kill-server 2>/dev/null
    reap slow
else skip hangup_slow "no strace"; fi

# ---- a replay whose terminal goes: a safe shutdown, "terminal closed" (a replay is not recorded) ----
monitor replay --speed 30 --out "$TMP/replay" "$SAMPLE"
wait_for 10 'REPLAY|Hypnogram' > /dev/null; sleep 2
tmux -S "$TMUX_SOCK" kill-session -t t
rc=$(ended replay)
sum=$(one "$TMP/replay" .summary.txt); log=$(one "$TMP/replay" .session.tsv); ev=$(one "$TMP/replay" _events.tsv)
if [ "$rc" = 0 ] && grep -q '^## Alerts' "$sum" && grep -q 'SHUTDOWN (terminal closed)' "$log" &&
   grep -q 'SHUTDOWN (terminal closed)' "$ev"; then
    pass "hangup_replay: tmux kill-session ends a replay safely: exit 0, summary, events table, log 'SHUTDOWN (terminal closed)'"
else fail hangup_replay "exit $rc; summary: ${sum:-none}; events: ${ev:-none}; log: $(tail -n 1 "$log" 2>/dev/null | cut -f 3,4)"; fi
reap replay

# ---- emulate: SIGHUP stops it and removes its link ----
"$DW_BIN" emulate --link "$TMP/e.tty" --seconds 60 > /dev/null 2>&1 &
ep=$!; echo $ep > "$TMP/e.pids"
i=0; while [ ! -L "$TMP/e.tty" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -HUP $ep; wait $ep; rc=$?; rm -f "$TMP/e.pids"
if [ $rc = 0 ] && [ ! -e "$TMP/e.tty" ] && [ ! -L "$TMP/e.tty" ]; then
    pass "hangup_emulate_link: SIGHUP stops emulate (exit 0) and removes its link"
else fail hangup_emulate_link "exit $rc; link: $(ls -l "$TMP/e.tty" 2>&1)"; fi

left=$(pgrep -f "$TMP/" | grep -v "^$$\$" | tr '\n' ' ')
[ -z "$left" ] && pass "hangup_no_process_left" || fail hangup_no_process_left "$(ps -o pid,args -p $left | tail -n +2 | tr '\n' ';')"
