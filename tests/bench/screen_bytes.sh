#!/bin/sh
# How much the monitor screen writes to the terminal and how much CPU its thread uses, replaying the
# sample night at real time in a 120x40 tmux pane: the binary runs under `script`, whose typescript grows
# by exactly what the terminal receives; the steady-state growth over DW_BENCH_SECONDS (default 60) after
# a 15-s warm-up is compared with the 2 KB/s budget (every pane shown, the hypnodensity strip and the event
# row included), and the main (screen) thread's CPU time from /proc/PID/task/PID/stat is given per hour of
# replay. MODES (default "sweep scroll") are the trace pane's modes measured in turn (scroll: the key `s`
# pressed once the screen is up); FPS (default: the configured default) may be set. The binary is stopped
# by its pid (SIGTERM, the safe shutdown) and waited for, then `script` and tmux: the bench leaves no
# process behind.
DW_BIN=${DW_BIN:-$PWD/build/dreamwatch}
SAMPLE=${DW_ROOT:-$PWD}/sample-data/sample-night.edf
SECS=${DW_BENCH_SECONDS:-60}
MODES=${MODES:-sweep scroll}
if [ ! -x "$DW_BIN" ] || [ ! -f "$SAMPLE" ] || ! command -v tmux >/dev/null || ! command -v script >/dev/null; then
    echo "SKIP screen_bytes: needs $DW_BIN, $SAMPLE, tmux and script"; exit 0
fi
TMP=$(mktemp -d)
SOCK=$TMP/tmux.sock
pid=; spid=
stop() {   # the binary first (a safe shutdown), then script and the tmux server, each waited for
    for p in $pid $(pgrep -P "${spid:-0}" 2>/dev/null) $spid; do
        kill -TERM "$p" 2>/dev/null
        i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "$p" 2>/dev/null
    done
    tmux -S "$SOCK" kill-server 2>/dev/null
}
trap 'stop; rm -rf "$TMP"' EXIT
TERMV=screen; infocmp tmux-256color >/dev/null 2>&1 && TERMV=tmux-256color
fps_opt=; [ -n "${FPS:-}" ] && fps_opt="--fps $FPS"

# measure MODE: one run of the binary; prints its figures, returns 1 over the budget or on a failure
measure() {
    rm -f "$TMP/typescript"
    tmux -S "$SOCK" -f /dev/null new-session -d -s b -x 120 -y 40 \
        "TERM=$TERMV script -qfc '\"$DW_BIN\" --speed 1 --no-record $fps_opt \"$SAMPLE\"' $TMP/typescript"
    sleep 5
    if [ "$1" = scroll ]; then
        tmux -S "$SOCK" send-keys -t b s       # the trace pane has the focus first
        sleep 1
        tmux -S "$SOCK" capture-pane -p -t b | head -n 1 | grep -q ', scroll' ||
            { echo "FAIL screen_bytes: the trace pane did not switch to scroll"; return 1; }
    fi
    sleep 9
    spid=$(tmux -S "$SOCK" display -p -t b '#{pane_pid}')
    # the binary among the pane's descendants (shells and script in between)
    pid=; todo=$spid; exe=$(readlink -f "$DW_BIN")
    while [ -n "$todo" ] && [ -z "$pid" ]; do
        next=
        for p in $todo; do
            [ "$(readlink -f /proc/$p/exe 2>/dev/null)" = "$exe" ] && { pid=$p; break; }
            next="$next $(pgrep -P "$p" | tr '\n' ' ')"
        done
        todo=$(echo $next)
    done
    if [ -z "$pid" ] || [ ! -r "/proc/$pid/task/$pid/stat" ]; then
        echo "FAIL screen_bytes: the binary did not start"; return 1
    fi
    t0=$(date +%s.%N); b0=$(size); c0=$(cpu)
    sleep "$SECS"
    t1=$(date +%s.%N); b1=$(size); c1=$(cpu)
    tck=$(getconf CLK_TCK)
    stop
    left=no; kill -0 "$pid" 2>/dev/null && left="pid $pid"
    pid=; spid=
    awk -v t0="$t0" -v t1="$t1" -v b0="$b0" -v b1="$b1" -v c0="$c0" -v c1="$c1" -v tck="$tck" \
        -v fps="${FPS:-default}" -v mode="$1" 'BEGIN {
        dt = t1 - t0; bps = (b1 - b0) / dt; cpu = (c1 - c0) / tck
        printf "screen at real time, 120x40, %s, fps %s, %.0f s: %.0f bytes/s = %.2f x the 2048 B/s budget\n", mode, fps, dt, bps, bps / 2048
        printf "screen thread CPU: %.2f s in %.0f s = %.3f%% of one core = %.1f s per hour of replay\n", cpu, dt, 100 * cpu / dt, cpu / dt * 3600
        if (bps > 2048) { print "screen_bytes: OVER the 2 KB/s budget (" mode ")"; exit 1 }
    }' || return 1
    if [ "$left" != no ]; then echo "screen_bytes: a process was left behind ($left)"; return 1; fi
    return 0
}
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/task/$pid/stat" 2>/dev/null; }     # main thread: the screen
size() { wc -c < "$TMP/typescript"; }
rc=0
for mode in $MODES; do measure "$mode" || rc=1; done
[ $rc -eq 0 ] && echo "screen_bytes: no process left behind"
exit $rc
