#!/bin/sh
# The monitor over a thin link, on the real binary with a live board (`dreamwatch emulate`, 8 channels, on
# a real pty) in a 120x40 tmux pane, run under `script`, whose typescript holds exactly what the terminal
# receives and whose timing log says when each piece came:
#   - scroll mode (`s`) stays within the screen's 2 KB/s budget (README, "The screen") once the plot is
#     full and moving (it sent every trace cell on every frame: 4-5 KB/s), measured over whole scroll
#     steps, from one move of the plot to a later one: a 20-s window held 4 or 5 moves (2.3-3.1 KB
#     each) by where it fell, which moved the figure by 6-7 % between runs; the rate is given with
#     its parts (the moves, the trace rows between them, the rest of the screen);
#   - --fps 30 moves the sweep in more steps a second than the default 4 fps (the trace pane was drawn at
#     most 4 times a second whatever --fps said): trace updates are counted as bursts of output with
#     braille in them (only the trace pane draws braille), pieces less than 8 ms apart being one burst.
. tests/e2e/lib.sh
[ -x "$DW_BIN" ] || { skip screen_link "no binary (run make)"; exit 0; }
command -v tmux >/dev/null || { skip screen_link "no tmux"; exit 0; }
command -v script >/dev/null || { skip screen_link "no script (util-linux)"; exit 0; }
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data"
TERMV=screen; infocmp tmux-256color >/dev/null 2>&1 && TERMV=tmux-256color
PY=/usr/bin/python3
trap 'tm_stop_all; [ -n "$EMU" ] && kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
. tests/e2e/emulator.inc

# watch NAME [OPTIONS...]: the binary on the emulator's link under script; typescript and timing in
# $TMP/NAME.ts and $TMP/NAME.tm
watch() {
    n=$1; shift
    tm_start 120 40 env TERM=$TERMV script -qf --log-timing "$TMP/$n.tm" \
        -c "\"$DW_BIN\" --serial \"$TMP/tty\" --no-record $*" "$TMP/$n.ts"
}
# quit: a safe shutdown through the keys, and the emulator stopped
quit() {
    tm_keys C-c
    i=0; while tm_alive && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    stop_emu
}
# measure NAME FROM SECONDS: bytes a second and trace bursts a second in the typescript's FROM..FROM+SECONDS
measure() {
    $PY - "$TMP/$1.ts" "$TMP/$1.tm" "$2" "$3" <<'EOF'
import re, sys
data = open(sys.argv[1], "rb").read()
t0, dt = float(sys.argv[3]), float(sys.argv[4])
# the typescript starts with a header line, then the pieces the timing log lists in order
off, t, last, nbytes, bursts, in_burst = data.index(b"\n") + 1, 0.0, -1.0, 0, 0, False
braille = re.compile(rb"\xe2[\xa0-\xa3][\x80-\xbf]")
for line in open(sys.argv[2]):
    f = line.split()
    if len(f) != 2: continue
    delay, n = float(f[0]), int(f[1])
    t += delay
    piece = data[off:off + n]
    off += n
    if t < t0 or t >= t0 + dt: continue
    nbytes += n
    if braille.search(piece):
        if not (in_burst and t - last < 0.008): bursts += 1
        in_burst, last = True, t
    else:
        in_burst = False
print("%.0f %.1f" % (nbytes / dt, bursts / dt))
EOF
}
# steps NAME FROM: the rate over whole scroll steps after FROM s: "B/s moves others steps seconds"
# (B/s of the moves, and of the frames between them: new trace columns, status lines). A move is a
# frame with trace output over 4 times the median one (it rewrites every trace cell; the others add
# a few columns).
steps() {
    $PY - "$TMP/$1.ts" "$TMP/$1.tm" "$2" <<'EOF'
import re, sys
data = open(sys.argv[1], "rb").read()
off, t, t0 = data.index(b"\n") + 1, 0.0, float(sys.argv[3])
braille = re.compile(rb"\xe2[\xa0-\xa3][\x80-\xbf]")
bursts = []                                # [time of its last piece, bytes, has braille]
for line in open(sys.argv[2]):
    f = line.split()
    if len(f) != 2: continue
    t += float(f[0]); n = int(f[1]); piece = data[off:off + n]; off += n
    if bursts and t - bursts[-1][0] < 0.008: bursts[-1][0] = t; bursts[-1][1] += n
    else: bursts.append([t, n, False])
    bursts[-1][2] |= bool(braille.search(piece))
trace = sorted(b[1] for b in bursts if b[2] and b[0] >= t0)
if not trace: print("0 0 0 0 0"); sys.exit()
big = 4 * trace[len(trace) // 2]
moves = [i for i, b in enumerate(bursts) if b[0] >= t0 and b[2] and b[1] > big]
if len(moves) < 2: print("0 0 0 %d 0" % max(0, len(moves) - 1)); sys.exit()
a, z = moves[0], moves[-1]
dt = bursts[z][0] - bursts[a][0]
part = [0, 0]
for i in range(a + 1, z + 1):
    part[0 if i in moves else 1] += bursts[i][1]
print("%.0f %.0f %.0f %d %.1f" % (sum(part) / dt, part[0] / dt, part[1] / dt, len(moves) - 1, dt))
EOF
}

# Scroll mode: the plot fills in 10 s, then moves; 20 s measured from second 16.
start_emu
watch scroll
if wait_for 20 ', sweep'; then
    tm_keys s
    wait_for 5 ', scroll' || fail screen_link_scroll "no scroll mode: $(tm_screen | head -n 1)"
    sleep 34
    step=$(tm_screen | head -n 1 | grep -o 'scroll by [0-9.]* s')
    quit
    set -- $(steps scroll 12)
    parts="moves $2 B/s, the frames between them $3 B/s; $4 steps in $5 s, $step"
    if [ "${4:-0}" -lt 3 ]; then fail screen_link_scroll_budget "fewer than 3 whole scroll steps: $parts"
    elif [ "$1" -le 2048 ]; then pass "screen_link_scroll_budget ($1 bytes/s: $parts)"
    else fail screen_link_scroll_budget "$1 bytes/s in scroll mode, over the 2048 B/s budget ($parts)"; fi
else
    fail screen_link_scroll_budget "no trace pane: $(tm_screen | head -n 3)"; quit
fi

# The sweep at 4 fps (the default) and at 30 fps: trace updates a second over 10 s.
for fps in 4 30; do
    start_emu
    watch "fps$fps" --fps $fps
    wait_for 20 ', sweep' || fail screen_link_fps "no trace pane at --fps $fps"
    sleep 16
    quit
    set -- $(measure "fps$fps" 5 10)
    eval "upd$fps=\${2:-0} bytes$fps=\${1:-0}"
done
echo "trace updates a second: $upd4 at 4 fps ($bytes4 bytes/s), $upd30 at 30 fps ($bytes30 bytes/s)"
if $PY -c "import sys; sys.exit(not ($upd4 <= 4.5 and $upd30 >= 10))"; then
    pass "screen_link_fps_smoother ($upd4 trace updates/s at 4 fps, $upd30 at --fps 30)"
else
    fail screen_link_fps_smoother "$upd4 trace updates/s at 4 fps, $upd30 at --fps 30 (want <= 4.5, >= 10)"
fi
