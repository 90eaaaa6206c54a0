#!/bin/sh
# The monitor screen on the real binary in tmux, replaying the sample night at 600x: the hypnogram grows,
# the stage shown for an epoch is the one `dreamwatch score` gives for it, the reference overlay agrees
# 100% with a reference that is our own scoring, the bedside view shows the same stage in block letters,
# the help overlay, the shutdown dialog's safe default, and a SIGTERM restores the terminal.
. tests/e2e/lib.sh
SAMPLE=$DW_ROOT/sample-data/sample-night.edf
if [ ! -f "$SAMPLE" ] || [ ! -x "$DW_BIN" ]; then skip screen_monitor "no binary or sample night (run make)"; exit 0; fi
if ! command -v tmux >/dev/null; then skip screen_monitor "no tmux"; exit 0; fi
PY=/usr/bin/python3
TERMV=screen; infocmp tmux-256color >/dev/null 2>&1 && TERMV=tmux-256color

if ! "$DW_BIN" score "$SAMPLE" --out "$TMP/score" >"$TMP/score.log" 2>&1 || [ ! -f "$TMP/score.csv" ]; then
    fail screen_monitor "dreamwatch score failed: $(tail -3 "$TMP/score.log")"; exit 0
fi

# The shell around the binary prints its exit status, so the restored terminal can be seen afterwards.
tm_start 120 40 sh -c "TERM=$TERMV \"\$0\" --speed 600 --no-record --reference '$TMP/score.edf' '$SAMPLE'; echo EXIT=\$?; sleep 30" "$DW_BIN"
status_epoch() { tm_screen | tail -n 1 | grep -Eo 'epoch [0-9]+ (W|N1|N2|N3|R)' | head -n 1; }
if ! wait_for 30 '^ epoch [0-9]+ (W|N1|N2|N3|R)'; then
    fail screen_monitor "no scored epoch on the status line after 30 s"; tm_screen | tail -5; exit 0
fi

# the hypnogram grows
a=$(status_epoch | awk '{print $2}'); sleep 3; b=$(status_epoch | awk '{print $2}')
if [ "${b:-0}" -gt "${a:-0}" ]; then pass "screen_hypnogram_grows ($a -> $b epochs in 3 s)"
else fail screen_hypnogram_grows "epoch count $a then $b"; fi

# pause, then the stage of the last epoch against the headless scoring
tm_keys Space
wait_for 10 'PAUSED' || fail screen_pause "no PAUSED on the status line"
sleep 1
s1=$(status_epoch); sleep 1; s2=$(status_epoch)
n=$(echo "$s2" | awk '{print $2}'); st=$(echo "$s2" | awk '{print $3}')
want=$(awk -F, -v e=$n '$1 == e {print $3}' "$TMP/score.csv")     # epochs are numbered from 0 everywhere
if [ -n "$n" ] && [ "$s1" = "$s2" ] && [ "$st" = "$want" ]; then pass "screen_stage_matches_score (epoch $n: $st)"
else fail screen_stage_matches_score "screen '$s2' (before '$s1'), score.csv says '$want' for epoch $n"; fi

# the plot: one column per epoch or per group of epochs, every stage in its row
tm_screen > "$TMP/full.txt"
if $PY - "$TMP/full.txt" "$TMP/score.csv" "$((n + 1))" <<'EOF'
import sys, math
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
stages = [l.split(",")[2] for l in open(sys.argv[2]).read().split("\n")[1:] if l]
n = int(sys.argv[3])
rows = {}
for i, l in enumerate(lines):
    for s in ("W", "R", "N1", "N2", "N3"):
        if l.startswith("\u2502" + s.ljust(3)) and s not in rows:
            rows[s] = i
assert len(rows) == 5, "stage rows not found: %s" % rows
pw = 80                                  # plot width at 120 columns (hypnodensity beside it)
epc = max(1, math.ceil((n + 1) / pw))
bad = 0
for x in range(math.ceil(n / epc)):
    grp = stages[x * epc:(x + 1) * epc]
    count, best = {}, None                # the first stage to reach the highest count, as the screen does
    for s in grp:
        count[s] = count.get(s, 0) + 1
        if best is None or count[s] > count[best]:
            best = s
    ch = lines[rows[best]][5 + x] if len(lines[rows[best]]) > 5 + x else " "
    if ch in " \u2502":                     # the stage's row must hold the step (a level or a corner)
        bad += 1
sys.exit(1 if bad else 0)
EOF
then pass "screen_hypnogram_plot (all $n epochs in their stage rows)"
else fail screen_hypnogram_plot "some columns are not in the row of their stage"; fi

# the reference overlay: our own scoring as the reference agrees 100%
if grep -q 'Reference: 100% agree' "$TMP/full.txt" && grep -q 'Reference (expert scoring)' "$TMP/full.txt"; then
    pass screen_reference_overlay
else fail screen_reference_overlay "$(grep -o 'Reference[^│]*' "$TMP/full.txt" | head -2 | tr '\n' ' ')"; fi

# help
tm_keys '?'
if wait_for 5 'Help: keys'; then
    tm_keys x
    sleep 1
    if tm_screen | grep -q 'Help: keys'; then fail screen_help "help did not close"; else pass screen_help; fi
else fail screen_help "? did not open the help"; fi

# bedside: the same stage in words and block letters
tm_keys v
if wait_for 5 "stage $st:"; then
    if tm_screen | grep -q '█'; then pass "screen_bedside_stage ($st)"; else fail screen_bedside_stage "no block letters"; fi
else fail screen_bedside_stage "bedside does not show stage $st: $(tm_screen | grep stage)"; fi
tm_keys v
# back in the full view (a slow build redraws late: reading the mode before would read the bedside view)
wait_for 5 '^ (NATURAL|ENHANCED|MONITORING) ' || fail screen_full_view "v did not bring the full view back"

# natural sleep: turning it off asks with No as the default, turning it on asks with Yes as the default
mode=$(tm_screen | tail -n 2 | head -n 1 | grep -Eo 'NATURAL|ENHANCED' | head -n 1)
[ -n "$mode" ] || fail screen_natural_toggle "no mode on the status line: $(tm_screen | tail -n 2 | head -n 1)"
tm_keys n
if [ "$mode" = NATURAL ]; then off_first=1; else off_first=0; fi
if [ $off_first = 1 ]; then wait_for 5 'Enter = No' && tm_keys y; else wait_for 5 'Enter = Yes' && tm_keys Enter; fi
if wait_for 5 "$( [ $off_first = 1 ] && echo '^ ENHANCED' || echo '^ NATURAL')"; then
    tm_keys n
    if [ $off_first = 1 ]; then wait_for 5 'Enter = Yes' && tm_keys Enter; else wait_for 5 'Enter = No' && tm_keys y; fi
    if wait_for 5 "^ $mode"; then pass "screen_natural_toggle ($mode and back)"
    else fail screen_natural_toggle "mode did not return to $mode"; fi
else fail screen_natural_toggle "mode did not leave $mode: $(tm_screen | tail -n 2 | head -n 1)"; fi

# a marker reaches the worker, which reports it
tm_keys m
wait_for 5 'Marker' && tm_keys -l 'lights test' && tm_keys Enter
if wait_for 5 '[Mm]arker: lights test'; then pass screen_marker; else fail screen_marker "$(tm_screen | tail -n 1)"; fi

# replay speed steps, after resuming
tm_keys Space
if wait_for 5 ' x600 ' && tm_keys + && wait_for 5 ' x1200 ' && tm_keys - && wait_for 5 ' x600 '; then pass screen_speed_keys
else fail screen_speed_keys "$(tm_screen | tail -n 2 | head -n 1)"; fi

# Q asks, Enter keeps monitoring (the default is No)
tm_keys Q
wait_for 5 'Safe shutdown' || fail screen_shutdown_dialog "Q shows no dialog"
tm_keys Enter
sleep 1
if tm_screen | grep -q 'EXIT='; then fail screen_shutdown_default "Enter shut down"
elif tm_screen | grep -q 'cancelled'; then pass screen_shutdown_default_no
else fail screen_shutdown_default "no 'cancelled' after Enter"; fi

# SIGTERM: safe shutdown without a question, exit 0, the terminal given back (no boxes left on it)
shpid=$(tmux -S "$TMUX_SOCK" display -p -t t '#{pane_pid}')
pid=$(pgrep -P "$shpid" | head -n 1)
if [ -n "$pid" ] && kill -TERM "$pid" && wait_for 20 'EXIT='; then
    if tm_screen | grep -q 'EXIT=0' && ! tm_screen | grep -q '[┌└│]'; then pass screen_sigterm_restores
    else fail screen_sigterm_restores "$(tm_screen | grep -v '^$' | tail -3 | tr '\n' ' ')"; fi
else fail screen_sigterm_restores "no exit within 20 s of SIGTERM"; fi
