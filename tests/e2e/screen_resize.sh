#!/bin/sh
# Resizing the terminal 120x40 -> 80x24 -> 39x9 -> 120x40 while the sample night replays: after each
# resize every pane is a closed box (corners and edges where they belong, nothing left of the old
# layout), the panes that fit are there, and below 40x10 only the stage and the status remain.
. tests/e2e/lib.sh
SAMPLE=$DW_ROOT/sample-data/sample-night.edf
if [ ! -f "$SAMPLE" ] || [ ! -x "$DW_BIN" ]; then skip screen_resize "no binary or sample night (run make)"; exit 0; fi
if ! command -v tmux >/dev/null || [ ! -x /usr/bin/python3 ]; then skip screen_resize "no tmux or python3"; exit 0; fi
TERMV=screen; infocmp tmux-256color >/dev/null 2>&1 && TERMV=tmux-256color

tm_start 120 40 env TERM=$TERMV "$DW_BIN" --speed 60 --no-record "$SAMPLE"
wait_for 30 'epoch [0-9]+ (W|N1|N2|N3|R)' || { fail screen_resize "no scored epoch after 30 s"; exit 0; }

# sane W H PANES...: the boxes down the left edge tile the screen above the two status lines, each box
# is closed, and the named panes are present.
sane() {
    w=$1; h=$2; shift 2
    sleep 1.5
    tm_screen > "$TMP/screen.txt"
    /usr/bin/python3 - "$TMP/screen.txt" "$w" "$h" "$@" <<'EOF'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().rstrip("\n").split("\n")
W, H, panes = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
def die(msg):
    print(msg); sys.exit(1)
if len(lines) > H: die("%d lines on a %d-line terminal" % (len(lines), H))
if any(len(l) > W for l in lines): die("a line wider than %d" % W)
g = [l.ljust(W) for l in lines] + [" " * W] * (H - len(lines))
y = 0
while y < H - 2 and panes:
    if g[y][0] != "\u250c": die("row %d: no box starts at the left edge: %r" % (y, g[y][:20]))
    yb = y + 1
    while yb < H and g[yb][0] == "\u2502": yb += 1
    if yb >= H or g[yb][0] != "\u2514": die("box at row %d has no bottom-left corner" % y)
    x = 0
    while x < W and g[y][x] == "\u250c":
        xr = g[y].find("\u2510", x)
        if xr < 0: die("row %d: no top-right corner" % y)
        for yy in range(y + 1, yb):
            if g[yy][x] != "\u2502" or g[yy][xr] != "\u2502": die("box %d,%d: side broken at row %d" % (y, x, yy))
        # the bottom edge may carry a legend (the spectrogram's colour scale) between its rules
        if g[yb][x] != "\u2514" or g[yb][xr] != "\u2518" or g[yb][x + 1] != "\u2500" or g[yb][xr - 1] != "\u2500":
            die("box %d,%d: bottom broken: %r" % (y, x, g[yb][x:xr + 1]))
        x = xr + 1
    if x != W: die("row %d: boxes end at column %d, not %d" % (y, x, W))
    y = yb + 1
if panes and y != H - 2: die("boxes end at row %d, status expected at %d" % (y, H - 2))
for p in panes:
    if not any(("\u2500 " + p) in l for l in g): die("pane %s missing" % p)
if not panes and any(c in l for l in g for c in "\u250c\u2514"): die("boxes on a tiny screen")
if not any("epoch" in l or "stage" in l for l in g[-3:] + g[:3]): die("no stage shown")
EOF
}
check_sane() { name=$1; shift; if out=$(sane "$@"); then pass "$name"; else fail "$name" "$out"; fi; }

check_sane screen_resize_120x40 120 40 Traces Hypnogram Spectrogram Alerts
tm_resize 80 24
check_sane screen_resize_80x24 80 24 Traces Hypnogram Spectrogram Alerts
tm_resize 39 9
check_sane screen_resize_39x9_stage_only 39 9
tm_resize 120 40
check_sane screen_resize_back_120x40 120 40 Traces Hypnogram Spectrogram Alerts
tm_alive || fail screen_resize "the program died"
