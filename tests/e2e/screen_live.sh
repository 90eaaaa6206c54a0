#!/bin/sh
# Live mode on the real binary in tmux against `dreamwatch emulate` with faults: the status line tells the
# truth through an outage (NO DATA since the last sample, the wall clock running, the recording file and
# size always shown at 120x40 and 80x24, loss that counts the outage), the alert rule (the escalation
# command gets id, severity, state and text, repeats stop when the cause clears and a "resolved" call
# follows), the bedside shows the most severe open alert and whether it is still active, `a` acknowledges
# that one first, alert texts are whole (wrapped, never cut), and the night's files are named on exit.
. tests/e2e/lib.sh
[ -x "$DW_BIN" ] || { skip screen_live "no binary (run make)"; exit 0; }
if ! command -v tmux >/dev/null || [ ! -x /usr/bin/python3 ]; then skip screen_live "no tmux or python3"; exit 0; fi
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data"
TERMV=screen; infocmp tmux-256color >/dev/null 2>&1 && TERMV=tmux-256color
PY=/usr/bin/python3
trap 'tm_stop_all; [ -n "$EMU" ] && kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
. tests/e2e/emulator.inc

# the escalation command: one line per call with its arguments separated by |
cat > "$TMP/page.sh" <<'EOF'
#!/bin/sh
f=$1; shift
printf '%s|' "$@" >> "$f"; echo >> "$f"
EOF
chmod 700 "$TMP/page.sh"
secs() { echo "$1" | awk -F: '{ print $1 * 3600 + $2 * 60 + $3 }'; }
near() { d=$(( $(secs "$1") - $(secs "$2") )); [ ${d#-} -le "$3" ] || [ ${d#-} -ge $((86400 - $3)) ]; }

# ---- 120x40: a 10-s unplug 8 s into the stream, and a 2-s one at 26 s ----
# (a reconnect after an outage that raised no_samples is that alert's end, not an alert of its own: one
# cause, one alert; the short unplug, too short for no_samples, gives the newer reconnect warning)
start_emu --faults unplug=8:10,unplug=26:2
tm_start 120 40 env TERM=$TERMV "$DW_BIN" --serial "$TMP/tty" --out "$TMP/rec" --enhanced --set alerts.repeat_s=5 \
    --set actuators.escalation=command --set "actuators.escalation_command=$TMP/page.sh $TMP/pages"
wait_for 20 ' LIVE ' || fail screen_live "no live status line"
if wait_for 20 'NO DATA since [0-9:]+'; then
    sleep 3                                   # the outage goes on: the clock must go on with it
    line=$(tm_screen | tail -n 2 | head -n 1); now=$(date +%H:%M:%S)
    since=$(echo "$line" | grep -Eo 'NO DATA since [0-9:]+' | awk '{print $4}')
    clock=$(echo "$line" | sed 's/NO DATA since [0-9:]*//' | grep -Eo '[0-9]{2}:[0-9]{2}:[0-9]{2}' | head -n 1)
    if [ -n "$clock" ] && near "$clock" "$now" 1 && near "$since" "$now" 8 && ! near "$since" "$now" 2; then
        pass "screen_no_data_since (since $since, clock $clock at $now)"
    else fail screen_no_data_since "status '$line' at $now"; fi
    if echo "$line" | grep -Eq 'rec anonymous-[0-9]{8}-[0-9]{6}\.bdf [0-9.]+ (kB|MB)'; then pass screen_rec_field_120x40
    else fail screen_rec_field_120x40 "$line"; fi
    tm_keys v                                 # no_samples is raised 5 s into the outage
    if wait_for 3 'NO DATA since [0-9:]+' && wait_for 5 'ALERT [0-9:]+: no samples .*\(still active'; then
        pass screen_bedside_outage
    else fail screen_bedside_outage "$(tm_screen | grep -E 'ALERT|NO DATA|alert' | tr -s ' ')"; fi
    tm_keys v
else fail screen_no_data_since "no NO DATA on the status line: $(tm_screen | tail -n 2 | head -n 1)"; fi
# data again: the outage counts as loss, over the night too
if wait_for 30 'loss [0-9.]+% \(night ([1-9][0-9]|[5-9])\.[0-9]+%\)'; then
    pass "screen_loss_counts_outage ($(tm_screen | tail -n 2 | head -n 1 | grep -Eo 'loss [^│]*'))"
else fail screen_loss_counts_outage "$(tm_screen | tail -n 2 | head -n 1)"; fi
# the critical alert has cleared unacknowledged: stimulation stays off, and the status line says why
if wait_for 15 'stim off: alert 1 not acknowledged \(a\)'; then pass screen_stim_off_says_why
else fail screen_stim_off_says_why "$(tm_screen | tail -n 2 | head -n 1)"; fi
sleep 14                                      # the reconnect warning is newer than the cleared critical
tm_keys v
if wait_for 5 'ALERT [0-9:]+: no samples .*\(cleared, a acknowledges\)'; then pass screen_bedside_most_severe
else fail screen_bedside_most_severe "$(tm_screen | grep -Ei 'alert|warning' | tr -s ' ')"; fi
tm_keys a
sleep 2
tm_keys v
if wait_for 5 '^ ENHANCED ' && ! tm_screen | grep -q 'stim off: alert'; then pass screen_stim_off_cleared_by_ack
else fail screen_stim_off_cleared_by_ack "$(tm_screen | tail -n 2 | head -n 1)"; fi
tm_keys v
log=$(ls "$TMP"/rec/*.session.tsv 2>/dev/null | head -n 1)
acked=$($PY tests/e2e/sessionlog.py alerts "$log" | awk -F'\t' '$2 == "acknowledged" { print $1 " " $3 " " $4; exit }')
first=$($PY tests/e2e/sessionlog.py alerts "$log" | awk -F'\t' '$2 == "raised" && $3 == "critical" { print $1 " " $3 " " $4; exit }')
newest=$($PY tests/e2e/sessionlog.py alerts "$log" | awk -F'\t' '$2 == "raised" { r = $3 } END { print r }')
if [ -n "$first" ] && [ "$acked" = "$first" ] && [ "$newest" = warning ]; then
    pass "screen_ack_ringing_first (a took alert $first, the oldest critical, not the newer warning)"
else fail screen_ack_ringing_first "a acknowledged '${acked:-nothing}'; the first critical was '$first', the newest a $newest"; fi
if $PY - "$TMP/pages" "$log" <<'EOF'
import sys, subprocess
pages = [l.rstrip("\n").split("|")[:-1] for l in open(sys.argv[1]) if l.strip()]
al = [l.split("\t") for l in subprocess.run(["/usr/bin/python3", "tests/e2e/sessionlog.py", "alerts", sys.argv[2]],
      capture_output=True, text=True).stdout.splitlines()]
crit = next(a for a in al if a[1] == "raised" and a[3] == "no_samples")
want_text = crit[6]
states = [p[2] for p in pages if p[0] == crit[0]]
ok = all(len(p) == 4 for p in pages) and states and states.count("resolved") == 1 and \
     "active" not in states[states.index("resolved"):] and states[0] == "active" and \
     all(p[1] == "critical" and p[3] == want_text for p in pages if p[0] == crit[0])
print("%s: %s" % (crit[0], " ".join(states)))
sys.exit(0 if ok else 1)
EOF
then pass "screen_escalation_args ($(tr '\n' ' ' < "$TMP/pages" | cut -c1-150))"
else fail screen_escalation_args "$(cat "$TMP/pages" 2>/dev/null | head -5 | tr '\n' ';')"; fi
# alert texts are whole: every alert row joined with its wrapped rows is a text the session log has
tm_keys v
sleep 1
tm_screen > "$TMP/alerts.txt"
if $PY - "$TMP/alerts.txt" "$log" <<'EOF'
import re, sys, subprocess
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
num = lambda t: re.sub(r"[0-9]+(\.[0-9]+)?", "#", t)     # open alerts keep their figures current
texts = {num(l.split("\t")[6]) for l in subprocess.run(["/usr/bin/python3", "tests/e2e/sessionlog.py", "alerts", sys.argv[2]],
         capture_output=True, text=True).stdout.splitlines()}
top = next(i for i, l in enumerate(lines) if "Alerts" in l and "\u250c" in l)
x = lines[top].index("\u2500 Alerts") - 1
rows = []
for l in lines[top + 1:]:
    if l[x] != "\u2502": break
    rows.append(l[x + 1:l.index("\u2502", x + 1)])
shown, cur = [], None
for r in rows:
    m = re.match(r"[ >]\d\d:\d\d [!\u2713+-] (info|WARN|CRIT) (.*)", r)
    if m: cur = [m.group(2).strip()]; shown.append(cur)
    elif cur is not None and r.strip(): cur.append(r.strip())
joined = [" ".join(s).replace(" (cleared: a to acknowledge)", "") for s in shown]
bad = [j for j in joined if num(j) not in texts]
print("%d alerts shown whole" % len(joined) if not bad else "cut: %s" % bad)
sys.exit(1 if bad or not joined else 0)
EOF
then pass screen_alert_texts_whole; else fail screen_alert_texts_whole "$(grep -A6 'Alerts' "$TMP/alerts.txt" | tail -6)"; fi
# the selected alert is visible in the default theme: marked > and drawn in reverse video (tmux may put
# the row's colours between the reverse attribute and the >)
tm_keys Tab Tab Tab Down
sleep 1
tmux -S "$TMUX_SOCK" capture-pane -e -p -t t > "$TMP/sel.txt"
if grep -q '│>[0-9][0-9]:[0-9][0-9] ' "$TMP/alerts.txt" 2>/dev/null || tm_screen | grep -q '│>[0-9][0-9]:[0-9][0-9] '; then
    esc=$(printf '\033')
    if grep -a '>[0-9][0-9]:[0-9][0-9] ' "$TMP/sel.txt" | grep -aEq "${esc}\\[([0-9;]*;)?7(;[0-9;]*)?m(${esc}\\[[0-9;]*m)*>"; then
        pass screen_alert_selection_visible
    else fail screen_alert_selection_visible "the selected row is not in reverse video"; fi
else fail screen_alert_selection_visible "no row marked >: $(tm_screen | grep -A3 'Alerts' | head -4)"; fi
tm_keys Q; wait_for 5 'Safe shutdown' && tm_keys y
stop_emu

# ---- 80x24: a stall; the recording file (shortened to its date and time) and size stay on the status
# line, and so does the packet loss (it was dropped at 80 columns) ----
start_emu --faults stall=6:8
tm_start 80 24 sh -c "TERM=$TERMV \"\$0\" --serial '$TMP/tty' --out '$TMP/rec2' 2> '$TMP/exit.err'; sleep 30" "$DW_BIN"
wait_for 20 ' LIVE ' || fail screen_live_80 "no live status line"
line=$(tm_screen | tail -n 2 | head -n 1)
if echo "$line" | grep -Eq 'rec ([a-z-]*)?[0-9]{8}-[0-9]{6}(\.bdf)? [0-9.]+ (kB|MB)'; then
    if wait_for 20 'NO DATA since' && tm_screen | tail -n 2 | head -n 1 | grep -Eq 'rec ([a-z-]*)?[0-9]{8}-[0-9]{6}(\.bdf)? [0-9.]+ (kB|MB)'; then
        pass screen_rec_field_80x24
    else fail screen_rec_field_80x24 "during the stall: $(tm_screen | tail -n 2 | head -n 1)"; fi
    if echo "$line" | grep -Eq 'loss [0-9.]+%'; then pass "screen_loss_at_80x24 ($line)"
    else fail screen_loss_at_80x24 "$line"; fi
else fail screen_rec_field_80x24 "$line"; fi
tm_keys Q; wait_for 5 'Safe shutdown' && tm_keys y
sleep 4
if grep -q "the night's files:" "$TMP/exit.err" && grep -Eq 'recording +.*\.bdf' "$TMP/exit.err" &&
   grep -Eq 'session log +.*\.session\.tsv' "$TMP/exit.err" && grep -Eq 'summary +.*\.summary\.txt' "$TMP/exit.err"; then
    pass screen_exit_names_files
else fail screen_exit_names_files "$(cat "$TMP/exit.err")"; fi
stop_emu
