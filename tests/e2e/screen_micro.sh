#!/bin/sh
# The spindle and slow-wave figures on the screen, on the real binary in tmux, against `dreamwatch
# score` of the same file:
#   - all night: from the first N2/N3 epoch on, every frame's status line holds the running densities
#     of N2+N3 ("sp A SW B /min N2+N3", or "sp A SW B"), at --fps 4 and --fps 30 (they showed only for the few
#     seconds after an epoch ended, until the provisional stage pushed them off, and never in W or R);
#   - beside the hypnogram, the last finished epoch's stage and counts agree with score's CSV (counts
#     may still grow for a second or two after the epoch ends, never past score's);
#   - at the end of the night, at 80x24 and 200x50: the status line (short form at 80 columns), the
#     side of the hypnogram and the summary box show the same densities, which are score's (its CSV's
#     N2/N3 epochs), and the box has the summary's own words for the totals and the densities by stage.
. tests/e2e/lib.sh
SAMPLE=$DW_ROOT/sample-data/sample-night.edf
if [ ! -f "$SAMPLE" ] || [ ! -x "$DW_BIN" ]; then skip screen_micro "no binary or sample night (run make)"; exit 0; fi
if ! command -v tmux >/dev/null || [ ! -x /usr/bin/python3 ]; then skip screen_micro "no tmux or python3"; exit 0; fi
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data"
TERMV=screen; infocmp tmux-256color >/dev/null 2>&1 && TERMV=tmux-256color
PY=/usr/bin/python3

"$DW_BIN" score "$SAMPLE" --out "$TMP/score" > "$TMP/score.out" 2>&1 || { fail screen_micro "score failed"; exit 0; }
# score's figures: the N2+N3 densities from its CSV (per-epoch densities of N2/N3 epochs, averaged),
# formatted as the screen formats them, then its totals and by-stage lines
$PY - "$TMP/score.csv" > "$TMP/want" <<'EOF'
import sys
rows = [l.split(",") for l in open(sys.argv[1]).read().split("\n")[1:] if l]
nrem = [r for r in rows if r[2] in ("N2", "N3")]
def fmt(v): return "%.1f" % v if v < 9.95 else "%.0f" % v
sp = sum(float(r[8]) for r in nrem) / len(nrem)
sw = sum(float(r[9]) for r in nrem) / len(nrem)
print(fmt(sp), fmt(sw))
EOF
read -r SP SW < "$TMP/want"
totals=$(grep -o '[0-9]* spindles, [0-9]* slow waves' "$TMP/score.out" | head -n 1)
bystage=$(grep -o 'spindles [0-9.]*/min in N2.*' "$TMP/score.out" | head -n 1)

# quit: a safe shutdown (Ctrl-C), waited for
quit() {
    tm_keys C-c
    i=0; while tm_alive && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}

# ---- all night, at two frame rates: every capture from the first density on shows it ----
for fps in 4 30; do
    tm_start 120 40 env TERM=$TERMV "$DW_BIN" --speed 300 --fps $fps --no-record --out "$TMP/r$fps" "$SAMPLE"
    : > "$TMP/run$fps"
    i=0; while [ $i -lt 80 ]; do tm_screen > "$TMP/cap"; tail -n 1 "$TMP/cap" >> "$TMP/run$fps"
        grep -o 'epoch [0-9]* [A-Z0-9]*: [a-zA-Z0-9 ,]*[a-zA-Z]' "$TMP/cap" >> "$TMP/side$fps"
        sleep 0.25; i=$((i + 1)); done
    quit
    res=$($PY - "$TMP/run$fps" <<'EOF'
import re, sys
lines = [l for l in open(sys.argv[1], encoding="utf-8").read().split("\n") if l.strip()]
pat = re.compile(r"│ sp [0-9.]+ SW [0-9.]+( /min N2\+N3)? │")
first = next((i for i, l in enumerate(lines) if pat.search(l)), None)
if first is None:
    print("never shown in %d captures: %s" % (len(lines), lines[-1] if lines else "")); sys.exit(1)
after = lines[first:]
miss = [l for l in after if not pat.search(l)]
stages = sorted(set(re.findall(r"^ epoch \d+ (\w+)", "\n".join(after), re.M)))
print("%d of %d captures after the first show it (epochs staged %s); missing in: %s"
      % (len(after) - len(miss), len(after), "/".join(stages), (miss[:1] or ["none"])[0].strip()))
sys.exit(1 if miss or len(after) < 40 else 0)
EOF
) && pass "screen_micro_all_night_fps$fps ($res)" || fail "screen_micro_all_night_fps$fps" "$res"
done

# the last epoch's stage and counts beside the hypnogram agree with score's CSV
res=$($PY - "$TMP/score.csv" "$TMP/side4" "$TMP/side30" <<'EOF'
import re, sys
rows = {int(r[0]): r for r in (l.split(",") for l in open(sys.argv[1]).read().split("\n")[1:] if l)}
seen, exact, bad = set(), 0, []
for path in sys.argv[2:]:
    for l in open(path, encoding="utf-8"):
        m = re.match(r"epoch (\d+) (\w+): (.*)", l.strip())
        if not m or l in seen: continue
        seen.add(l)
        e, st, what = int(m.group(1)), m.group(2), m.group(3)
        r = rows[e]
        n = lambda k: round(float(r[k]) * 0.5) if r[k] else None
        sp = re.search(r"(\d+) spindles?", what); sw = re.search(r"(\d+) SW", what)
        got = (int(sp.group(1)) if sp else None, int(sw.group(1)) if sw else None)
        want = (n(8), n(9))
        ok = st == r[2] and (got == (None, None)) == ("none counted" in what) and \
             all((g is None) == (w is None) and (g is None or g <= w) for g, w in zip(got, want))
        if not ok: bad.append("%s (score: %s %s)" % (l.strip(), r[2], want))
        exact += got == want
print("%d side lines, %d with score's final counts; wrong: %s" % (len(seen), exact, bad[:2] or "none"))
sys.exit(1 if bad or len(seen) < 10 or exact * 2 < len(seen) else 0)
EOF
) && pass "screen_micro_last_epoch ($res)" || fail screen_micro_last_epoch "$res"

# ---- the end of the night at 80x24 and 200x50: status, side and summary box, score's numbers ----
for size in 80x24 200x50; do
    w=${size%x*}; h=${size#*x}
    tm_start "$w" "$h" env TERM=$TERMV "$DW_BIN" --speed 0 --no-record --out "$TMP/e$w" "$SAMPLE"
    wait_for 90 'Summary of the night \(the replay ended' || fail "screen_micro_end_$size" "no summary"
    sleep 0.5
    tm_screen > "$TMP/box$w"
    tm_keys Escape; sleep 0.7
    tm_screen > "$TMP/end$w"
    quit
    box=$(tr -d '│' < "$TMP/box$w" | sed 's/^ *//; s/ *$//' | tr '\n' ' ' | tr -s ' ')
    if [ "$w" = 80 ]; then st="sp $SP SW $SW"; side="last [0-9A-Z: a-z,]*"
    else st="sp $SP SW $SW /min N2+N3"; side="/min N2+N3: spindles $SP SW $SW"; fi
    why=""
    tail -n 1 "$TMP/end$w" | grep -qF "│ $st │" || why="$why status '$(tail -n 1 "$TMP/end$w")';"
    grep -Eq "│ $(echo "$side" | sed 's/+/\\+/') " "$TMP/end$w" || why="$why side: no '$side';"
    echo "$box" | grep -qF "Per minute of N2+N3: spindles $SP, slow waves $SW" || why="$why box: no N2+N3 line;"
    echo "$box" | grep -qF "Spindles and slow waves: $totals" || why="$why box: no '$totals';"
    echo "$box" | grep -qF "By stage: $bystage" || why="$why box: no '$bystage';"
    if [ -z "$why" ]; then pass "screen_micro_end_$size (spindles $SP SW $SW /min N2+N3 as score's CSV; $totals; $bystage)"
    else fail "screen_micro_end_$size" "$why"; fi
done
