#!/bin/sh
# Reading the whole night back, on the real binary in tmux (120x40), against `dreamwatch score` of the same
# file: a replay to its end shows the summary of the night (the same total sleep as score), epochs are
# numbered from 0 as in score's CSV and nothing is "provisional" after the end; the hypnogram takes the
# focus, zooms in to one epoch per column (each column then holds exactly its epoch's stage and its
# hypnodensity strip the epoch's probabilities), the cursor walks it (Home, Right, PgDn); the running
# statistics and the spectrogram's colour legend are shown. Then a replay with markers and a dream report:
# the event list (e) lists them, Enter puts the cursor on an event's epoch, [ and ] jump between them, and
# the hypnogram's event row marks them.
. tests/e2e/lib.sh
SAMPLE=$DW_ROOT/sample-data/sample-night.edf
if [ ! -f "$SAMPLE" ] || [ ! -x "$DW_BIN" ]; then skip screen_night "no binary or sample night (run make)"; exit 0; fi
if ! command -v tmux >/dev/null || [ ! -x /usr/bin/python3 ]; then skip screen_night "no tmux or python3"; exit 0; fi
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data"
TERMV=screen; infocmp tmux-256color >/dev/null 2>&1 && TERMV=tmux-256color
PY=/usr/bin/python3

"$DW_BIN" score "$SAMPLE" --out "$TMP/score" > "$TMP/score.out" 2>&1 || { fail screen_night "score failed"; exit 0; }
tst=$(grep -Eo 'TST [0-9.]+ min' "$TMP/score.out" | head -n 1 | awk '{ m = int($2 + 0.5); printf "%d h %02d min", m / 60, m % 60 }')
stage_of() { awk -F, -v e="$1" '$1 == e { print $3 }' "$TMP/score.csv"; }

# ---- A: a replay run to its end ----
tm_start 120 40 env TERM=$TERMV "$DW_BIN" --speed 0 --no-record --out "$TMP/a" "$SAMPLE"
if wait_for 60 'Summary of the night \(the replay ended'; then
    if tm_screen | grep -q "Total sleep $tst, sleep efficiency" && tm_screen | grep -q '900 epochs'; then
        pass "screen_summary_at_end (total sleep $tst, as score says)"
    else fail screen_summary_at_end "$(tm_screen | grep -E 'Total sleep|epochs' | head -3 | tr -s ' ')"; fi
else
    fail screen_summary_at_end "no summary after the replay ended: $(tm_screen | tail -n 2 | tr -s ' ')"
fi
tm_keys Escape
sleep 1
tm_screen > "$TMP/end.txt"
last=$(stage_of 899)
if grep -q "^ epoch 899 $last " "$TMP/end.txt" && grep -q "Hypnogram: epoch 899 $last" "$TMP/end.txt" &&
   ! grep -q 'provisional' "$TMP/end.txt" && ! grep -q 'epoch 900' "$TMP/end.txt"; then
    pass "screen_epochs_from_0 (the last is epoch 899 $last, as in score's CSV; nothing provisional after the end)"
else fail screen_epochs_from_0 "$(grep -Eo 'epoch [0-9]+[^│]*' "$TMP/end.txt" | head -4 | tr '\n' ';')"; fi
if grep -q 'Hypnodensity (stage probability per epoch)' "$TMP/end.txt" && grep -q '^│ev ' "$TMP/end.txt" &&
   grep -Eq '└─+ -?[0-9]+ dB .* -?[0-9]+ dB uV2/Hz ─+┘' "$TMP/end.txt"; then
    pass screen_density_marks_legend
else fail screen_density_marks_legend "strip, event row or colour legend missing"; fi
stats=$($PY - "$TMP/score.csv" <<'EOF'
import sys
st = [l.split(",")[2] for l in open(sys.argv[1]).read().split("\n")[1:] if l]
sleep = [i for i, s in enumerate(st) if s in ("N1", "N2", "N3", "R")]
tst = len(sleep) * 0.5
m = int(tst + 0.5)                               # minutes, rounded half up as C's lround
print("so far: TST %d:%02d  SE %.0f%%" % (m // 60, m % 60, 100 * tst / (len(st) * 0.5)))
EOF
)
if grep -q "$stats" "$TMP/end.txt"; then pass "screen_running_stats ($stats)"
else fail screen_running_stats "want '$stats': $(grep -o 'so far[^│]*' "$TMP/end.txt")"; fi

# the hypnogram takes the focus; zoomed in to one epoch a column, the plot and the strip are the epochs'
tm_keys Tab
for i in 1 2 3 4 5 6 7 8; do tm_keys z; done
tm_keys Home
if wait_for 5 'Hypnogram: cursor epoch 0 [0-9:]+ [A-Z0-9]+ \| 1 epoch/column'; then
    tm_screen > "$TMP/zoom.txt"
    if out=$($PY - "$TMP/zoom.txt" "$TMP/score.csv" <<'EOF'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
rows = [l.split(",") for l in open(sys.argv[2]).read().split("\n")[1:] if l]
top = next(i for i, l in enumerate(lines) if "Hypnogram: cursor" in l) + 1
order = ["W", "R", "N1", "N2", "N3"]
strip = next(i for i, l in enumerate(lines) if "Hypnodensity (stage" in l) + 1
pcol = {"W": 3, "N1": 4, "N2": 5, "N3": 6, "R": 7}
bad = []
for x in range(80):
    st = rows[x][2]
    ch = lines[top + order.index(st)][5 + x]
    if ch in " \u2502" and not (x and rows[x - 1][2] == st):
        bad.append("epoch %d (%s): %r" % (x, st, ch))
    for k, s in enumerate(order):
        p = float(rows[x][pcol[s]])
        lv = 0 if p < 0.1 else 1 if p < 0.3 else 2 if p < 0.55 else 3 if p < 0.8 else 4
        near = min(abs(p - b) for b in (0.1, 0.3, 0.55, 0.8)) < 0.002
        got = " \u2591\u2592\u2593\u2588".find(lines[strip + k][5 + x])
        if got != lv and not near:
            bad.append("epoch %d p_%s %.3f: level %d, shown %d" % (x, s, p, lv, got))
print("; ".join(bad[:4]) if bad else "80 epochs, one a column")
sys.exit(1 if bad else 0)
EOF
    ); then pass "screen_zoom_epoch_per_column ($out)"
    else fail screen_zoom_epoch_per_column "$out"; fi
else fail screen_zoom_epoch_per_column "$(tm_screen | grep -o 'Hypnogram[^─]*')"; fi
tm_keys Right Right Right Right Right Right Right Right Right Right
wait_for 5 'Hypnogram: cursor epoch 10 ' && tm_keys NPage
if wait_for 5 "Hypnogram: cursor epoch 50 [0-9:]+ $(stage_of 50) "; then pass "screen_cursor_walks (Home, Right x10, PgDn: epoch 50)"
else fail screen_cursor_walks "$(tm_screen | grep -o 'Hypnogram[^─]*')"; fi

# ---- B: markers and a dream report, then the event list and the jumps ----
tm_start 120 40 env TERM=$TERMV "$DW_BIN" --speed 300 --no-record --out "$TMP/b" "$SAMPLE"
wait_for 30 '^ epoch ([6-9][0-9]|[1-9][0-9][0-9]) ' || fail screen_events "the replay did not reach epoch 60"
tm_keys m; wait_for 5 'Marker' && tm_keys -l 'first mark' && tm_keys Enter
wait_for 60 '^ epoch (1[5-9][0-9]|[2-9][0-9][0-9]) ' || fail screen_events "the replay did not reach epoch 150"
tm_keys m; wait_for 5 'Marker' && tm_keys -l 'second mark' && tm_keys Enter
wait_for 60 '^ epoch (2[5-9][0-9]|[3-9][0-9][0-9]) ' || fail screen_events "the replay did not reach epoch 250"
tm_keys r; wait_for 5 'Dream report' && tm_keys -l 'a long corridor' && tm_keys C-d
sleep 1
tm_keys Space
wait_for 10 PAUSED || fail screen_events "no pause"
log=$(ls "$TMP"/b/*.session.tsv 2>/dev/null | head -n 1)
ep() { awk -F'\t' -v k="$1" -v t="$2" '$3 == k && index($4, t) { print int($1 / 30); exit }' "$log"; }
e1=$(ep marker 'first mark'); e2=$(ep marker 'second mark'); e3=$(ep dream_report 'a long corridor')
if [ -z "$e1" ] || [ -z "$e2" ] || [ -z "$e3" ]; then fail screen_events "not in the session log ($log): $e1 $e2 $e3"; exit 0; fi
tm_screen > "$TMP/b.txt"
if grep '^│ev ' "$TMP/b.txt" | grep -q 'm.*m.*d'; then pass "screen_event_marks (m m d on the hypnogram)"
else fail screen_event_marks "$(grep '^│ev ' "$TMP/b.txt")"; fi
tm_keys e
if wait_for 5 'Events: [0-9]+ of every kind' && tm_screen | grep -q 'marker   Marker: first mark' &&
   tm_screen | grep -q 'marker   Marker: second mark' && tm_screen | grep -q 'dream    Dream report: a long corridor'; then
    pass screen_event_list
else fail screen_event_list "$(tm_screen | head -n 8 | tr -s ' ')"; fi
# the newest is selected first: dream report, second mark, first mark
tm_keys Down Down Enter
if wait_for 5 "Hypnogram: cursor epoch $e1 "; then pass "screen_event_enter_sets_cursor (epoch $e1)"
else fail screen_event_enter_sets_cursor "want epoch $e1: $(tm_screen | grep -o 'Hypnogram[^─]*')"; fi
tm_keys Tab                                   # events -> hypnogram
tm_keys ']'
if wait_for 5 "Hypnogram: cursor epoch $e2 "; then
    tm_keys ']'
    if wait_for 5 "Hypnogram: cursor epoch $e3 "; then
        tm_keys '[' '['
        if wait_for 5 "Hypnogram: cursor epoch $e1 "; then pass "screen_event_jumps ($e1 -> $e2 -> $e3 -> $e1)"
        else fail screen_event_jumps "[ [ did not come back to $e1"; fi
    else fail screen_event_jumps "] did not reach the dream report at $e3"; fi
else fail screen_event_jumps "] did not reach $e2: $(tm_screen | grep -o 'Hypnogram[^─]*')"; fi
