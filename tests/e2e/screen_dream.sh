#!/bin/sh
# Manual wake and the dream report: w asks (Enter = No cancels), y wakes; once the sleeper is scored awake
# the session asks for a dream report, the screen opens a multi-line box, and Ctrl-D sends the text to
# the worker, which logs it (shown on the status line) and writes it, whole, to the session log.
. tests/e2e/lib.sh
SAMPLE=$DW_ROOT/sample-data/sample-night.edf
if [ ! -f "$SAMPLE" ] || [ ! -x "$DW_BIN" ]; then skip screen_dream "no binary or sample night (run make)"; exit 0; fi
if ! command -v tmux >/dev/null; then skip screen_dream "no tmux"; exit 0; fi
TERMV=screen; infocmp tmux-256color >/dev/null 2>&1 && TERMV=tmux-256color

tm_start 120 40 env TERM=$TERMV "$DW_BIN" --speed 600 --no-record --out "$TMP/rec" "$SAMPLE"
wait_for 30 '^ epoch [0-9]+ (N1|N2|N3|R)' || { fail screen_dream "no sleep epoch after 30 s"; exit 0; }
tm_keys w
wait_for 5 'Wake the sleeper now' && tm_keys Enter
if wait_for 5 'Manual wake: cancelled' && ! tm_screen | grep -q WAKING; then pass screen_wake_default_no
else fail screen_wake_default_no "$(tm_screen | tail -n 2 | tr '\n' ' ')"; fi
tm_keys w
wait_for 5 'Wake the sleeper now' && tm_keys y
if ! wait_for 60 'Dream report ─'; then fail screen_dream_report "no dream report box: $(tm_screen | tail -n 1)"; exit 0; fi
tm_keys -l 'I was flying'
tm_keys Enter
tm_keys -l 'over a lake'
tm_keys C-d
if wait_for 10 'Dream report: I was flying' && ! tm_screen | grep -q 'Dream report ─'; then pass screen_dream_report
else fail screen_dream_report "$(tm_screen | tail -n 1)"; fi
# the session log keeps the whole report (its newline escaped), after the wake and the awakening
log=$(ls "$TMP"/rec/*.session.tsv 2>/dev/null | head -n 1)
if [ -n "$log" ] && grep -q '	dream_report	Dream report: I was flying\\nover a lake$' "$log" &&
   awk -F'\t' '$3 == "wake" {w = NR} $3 == "awake" && w {a = NR} $3 == "dream_report" && a {d = 1} END {exit !d}' "$log"; then
    pass screen_dream_report_logged
else fail screen_dream_report_logged "$(grep -E 'wake|dream' "$log" 2>/dev/null | cut -f 1,3,4 | tr '\n' ';')"; fi
# no stimulus in this (natural) night: the evoked box says so, in the singular-or-plural right, and its
# axis has no -0.0 (nothing to scale it by: +-1 uV)
tm_keys E
if wait_for 5 'Evoked response: 0 stimuli' && ! tm_screen | grep -q -- '-0\.0' && tm_screen | grep -q 'no stimulus yet'; then
    pass "screen_evoked_empty: $(tm_screen | grep -Eo '[+-][0-9]+\.[0-9] ' | tr -d ' ' | tr '\n' ' ')"
else fail screen_evoked_empty "$(tm_screen | grep -E 'Evoked|[+-][0-9]+\.[0-9]' | head -4 | tr '\n' ';')"; fi
tm_keys Escape
