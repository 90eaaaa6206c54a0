#!/bin/sh
# The session through the real binary: natural mode gives no stimulus all night; enhanced mode stimulates
# only in N2/N3 (cues only in R), every stimulus logged with its trough, delivery and phase; natural mode
# turned on in the screen cancels a pending stimulus; a manual wake that gets no W repeats and escalates
# on time; SIGTERM and a confirmed Q each leave a closed BDF recording and a summary, SIGHUP does not
# stop `record` (the monitor's closed terminal: hangup.sh); a hanging stimulus command is killed and
# reported.
. "$(dirname "$0")/lib.sh"
HERE=$(dirname "$0")
SAMPLE=$DW_ROOT/sample-data/sample-night.edf
PY=/usr/bin/python3
# No user configuration, and nothing written under the user's home.
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data"
if [ ! -f "$SAMPLE" ] || [ ! -x "$DW_BIN" ]; then skip session "no binary or sample night (run make)"; exit 0; fi
if ! $PY -c 'import numpy, scipy' 2>/dev/null; then skip session "no Debian python3 with numpy/scipy"; exit 0; fi
TERMV=screen; infocmp tmux-256color >/dev/null 2>&1 && TERMV=tmux-256color
trap 'for f in "$TMP"/*.pids; do [ -f "$f" ] && kill $(cat "$f") 2>/dev/null; done; wait 2>/dev/null
      tm_stop_all; rm -rf "$TMP"' EXIT

one() { ls "$1"/*"$2" 2>/dev/null | head -n 1; }           # one DIR SUFFIX: the session file in DIR
kind() { awk -F'\t' -v k="$2" '$3 == k' "$1"; }            # kind LOG KIND: the log's lines of that kind
SO="--set stimulation.so_threshold_uv=-30"                 # the sample night's slow waves are ~100 uV

# ---- natural mode all night: no stimulus (the same settings stimulate in enhanced mode below) ----
"$DW_BIN" --headless --speed 0 --natural $SO --set stimulation.cue_enabled=true --out "$TMP/nat" "$SAMPLE" \
    > "$TMP/nat.out" 2> "$TMP/nat.err"
log=$(one "$TMP/nat" .session.tsv); sum=$(one "$TMP/nat" .summary.txt)
ne=$(grep -c '^epoch ' "$TMP/nat.out")
if [ -n "$log" ] && [ "$ne" -eq 900 ] && grep -q '^0 slow-oscillation stimuli, 0 REM cues' "$sum" &&
   [ -z "$(kind "$log" stim; kind "$log" cue)" ] && grep -q 'NATURAL -> SHUTDOWN (end of recording)' "$log"; then
    pass "session_natural_night: 900 epochs, no stimulus, no cue"
else fail session_natural_night "epochs $ne; $(grep -h 'stimuli' "$sum" 2>/dev/null); $(cat "$TMP/nat.err")"; fi

# ---- enhanced: stimuli only in N2/N3, cues only in R; each with trough, delivery time and phase ----
"$DW_BIN" --headless --speed 0 --enhanced $SO --set stimulation.cue_enabled=true --out "$TMP/enh" "$SAMPLE" \
    > "$TMP/enh.out" 2> "$TMP/enh.err"
"$DW_BIN" score "$SAMPLE" --out "$TMP/score" > /dev/null 2>&1
log=$(one "$TMP/enh" .session.tsv); sum=$(one "$TMP/enh" .summary.txt)
if [ -z "$log" ] || [ ! -s "$TMP/score.csv" ]; then fail session_enhanced "no session log or score.csv: $(cat "$TMP/enh.err")"
else
    # At speed 0 the source is read in 30-s blocks on epoch boundaries, so a stimulus at t follows the
    # label of epoch floor(t / 30) - 1: it must be that label, from the headless output and from `score`.
    if $PY - "$log" "$sum" "$TMP/enh.out" "$TMP/score.csv" > "$TMP/enh.check" <<'EOF'
import re, sys
log, summ, out, csv = sys.argv[1:]
head = [l.split() for l in open(out) if l.startswith("epoch ")]
live = {int(l[1]): l[2] for l in head}
score = {int(r.split(",")[0]): r.split(",")[2] for r in open(csv).read().split("\n")[1:] if r}
assert live == score, "headless labels and score.csv differ"
stims, phases, cues, bad = {}, {}, [], []
last = (0.0, "")
for line in open(log).read().split("\n")[1:]:
    if not line:
        continue
    t, clock, kind, text = line.split("\t", 3)
    t = float(t)
    if t < last[0] - 1e-9 and len(bad) < 3:    # the log is written as things happen: time never goes back
        bad.append("log goes back from %.3f s (%s) to %.3f s (%s)" % (last[0], last[1], t, text))
    last = (t, text)
    if kind == "stim":
        m = re.match(r"SO stim (\d+) trough (-?[\d.]+) s \((-?\d+) uV\) (\w+)$", text)
        if not m:
            bad.append("unannotated stimulus: " + text); continue
        stims[int(m.group(1))] = (t, t + float(m.group(2)), float(m.group(3)), m.group(4))
    elif kind == "stim_phase":
        m = re.match(r"SO stim (\d+) phase ([+-]\d+ deg|unknown)$", text)
        phases[int(m.group(1))] = m.group(2)
    elif kind == "cue":
        cues.append((t, text))
for i, (t, trough, uv, st) in sorted(stims.items()):
    e = int(t // 30) - 1
    if st not in ("N2", "N3") or score.get(e) != st:
        bad.append("stim %d at %.2f s: logged %s, epoch %d scored %s" % (i, t, st, e, score.get(e)))
    if not (0.45 <= t - trough <= 0.55) or uv > -30:
        bad.append("stim %d: trough %.2f s (%g uV) for delivery at %.2f s" % (i, trough, uv, t))
    if i not in phases:
        bad.append("stim %d: no phase" % i)
for t, text in cues:                      # a cue ends an epoch after 10 R epochs (cue_after_epochs)
    e = int(round(t / 30)) - 1
    if any(score.get(k) != "R" for k in range(e - 9, e + 1)):
        bad.append("cue at %.0f s: epochs %d-%d are %s" % (t, e - 9, e, [score.get(k) for k in range(e - 9, e + 1)]))
rows = [l.split("\t") for l in open(summ).read().split("\n") if re.match(r"\d+\t(SO|cue)\t", l)]
nso = sum(r[1] == "SO" for r in rows)
m = re.search(r"^(\d+) slow-oscillation stimuli, (\d+) REM cues", open(summ).read(), re.M)
if not m or int(m.group(1)) != len(stims) or nso != len(stims) or int(m.group(2)) != len(cues):
    bad.append("summary says %s, table %d SO rows; log %d stimuli, %d cues" % (m and m.group(0), nso, len(stims), len(cues)))
for r in rows:
    if r[1] == "SO" and abs(float(r[2]) - stims[int(r[0])][0]) > 0.001:
        bad.append("summary row %s: t %s, log %.3f" % (r[0], r[2], stims[int(r[0])][0]))
n23 = sum(1 for v in score.values() if v in ("N2", "N3"))
print("%d stimuli (%d in N2, %d in N3; %d of 900 epochs are N2/N3), %d REM cues, %d with a phase"
      % (len(stims), sum(s[3] == "N2" for s in stims.values()), sum(s[3] == "N3" for s in stims.values()),
         n23, len(cues), sum(p != "unknown" for p in phases.values())))
for b in bad[:5]:
    print(b)
sys.exit(1 if bad or not stims or not cues else 0)
EOF
    then pass "session_enhanced_targets: $(head -1 "$TMP/enh.check")"
    else fail session_enhanced_targets "$(head -6 "$TMP/enh.check" | tr '\n' ';')"; fi
fi

# ---- natural mode on while a stimulus is pending cancels it. A stimulus waits so_delay_s (2 s here)
# after its trough; a replay that ends inside that wait leaves it pending with the source time stopped,
# so the screen can act on it without racing the clock. The night is cut just after a trough seen in a
# first run (with the same settings, at speed 0 the same 30-s reads give the same stimuli). ----
D2="--set stimulation.so_delay_s=2"
"$DW_BIN" --headless --speed 0 --enhanced $SO $D2 --out "$TMP/d2" "$SAMPLE" > "$TMP/d2.out" 2>&1
cut=$(awk '$1 == "epoch" {print $3}' "$TMP/d2.out" | awk -F'\t' 'NR == FNR {lab[NR - 1] = $1; next}
    $3 == "stim" { split($4, a, " "); T = $1 + a[5]; e = int(T / 30); ok = 1
        for (k = e - 3; k <= e; k++) if (lab[k] != "N2" && lab[k] != "N3") ok = 0
        E = int(T + 1.9); if (ok && T - 30 * e >= 2 && E < 30 * (e + 1) - 1) { printf "%.2f %d\n", T, E; exit } }' \
    - "$(one "$TMP/d2" .session.tsv)")
T=${cut% *}; E=${cut#* }
if [ -z "$cut" ] || ! $PY "$HERE/make_inputs.py" cut "$SAMPLE" "$TMP/cut.edf" 0 "$E"; then
    fail session_natural_cancels "no stimulus in a steady N2/N3 stretch to cut at"
else
    # control: headless, the stimulus is still pending at the end and the shutdown cancels it
    "$DW_BIN" --headless --speed 0 --enhanced $SO $D2 --out "$TMP/ctl" "$TMP/cut.edf" > /dev/null 2>&1
    if grep -q "stim_cancelled	SO stim cancelled (shutdown), trough $T s" "$(one "$TMP/ctl" .session.tsv)"; then
        tm_start 120 40 env TERM=$TERMV "$DW_BIN" --speed 0 --enhanced $SO $D2 --out "$TMP/nc" "$TMP/cut.edf"
        wait_for 20 'replay ended' && tm_keys n && wait_for 5 'Enter = Yes' && tm_keys Enter
        wait_for 5 '^ (replay ended . )?NATURAL' && tm_keys Q && wait_for 5 'Safe shutdown' && tm_keys y
        i=0; while tm_alive && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        log=$(one "$TMP/nc" .session.tsv)
        if grep -q "stim_cancelled	SO stim cancelled (natural mode), trough $T s" "$log" &&
           grep -q 'Mode ENHANCED -> NATURAL (operator)' "$log" && ! grep -q 'cancelled (shutdown)' "$log" &&
           [ "$(kind "$log" stim | wc -l)" -eq "$(kind "$(one "$TMP/ctl" .session.tsv)" stim | wc -l)" ]; then
            pass "session_natural_cancels: the stimulus pending for the trough at $T s cancelled by n in the screen"
        else fail session_natural_cancels "$(tail -n 4 "$log" 2>/dev/null | cut -f 1,3,4 | tr '\n' ';')"; fi
    else fail session_natural_cancels "control: no stimulus pending at the end of the cut night (trough $T s, cut at $E s)"; fi
fi
tmux -S "$TMUX_SOCK" kill-server 2>/dev/null

# ---- a manual wake that gets no W: attempts wake_timeout_s apart, then escalation with a critical
# alert that repeats (repeat_s, wall clock) until acknowledged, and clears when the sleeper is awake.
# The night is cut 3 epochs before the end of its longest stretch without W; the replay runs at 4x. ----
cat > "$TMP/note" <<EOF
#!/bin/sh
echo "\$(date +%s.%N) \$*" >> "$TMP/actuators.log"
EOF
chmod 700 "$TMP/note"
b=$(awk '$1 == "epoch" {print $3}' "$TMP/nat.out" | awk '{ if ($1 != "W") n++; else { if (n > best) { best = n; end = NR - 1 }; n = 0 } }
    END { print end }')
$PY "$HERE/make_inputs.py" cut "$SAMPLE" "$TMP/wake.edf" $(((b - 3) * 30)) $(((b + 7) * 30))
"$DW_BIN" --headless --speed 0 --out "$TMP/wlab" "$TMP/wake.edf" > "$TMP/wlab.out" 2>&1
wep=$(awk '$1 == "epoch" && $3 == "W" {print $2; exit}' "$TMP/wlab.out")      # first W epoch of the cut
if [ -z "$wep" ] || [ "$wep" -lt 2 ]; then fail session_wake_escalates "the cut night scores W at epoch '${wep}'"
else
    tm_start 120 40 env TERM=$TERMV "$DW_BIN" --speed 4 --out "$TMP/wake" \
        --set actuators.wake=command --set "actuators.wake_command=$TMP/note wake" \
        --set actuators.escalation=command --set "actuators.escalation_command=$TMP/note escalation" \
        --set stimulation.wake_timeout_s=20 --set alerts.repeat_s=5 "$TMP/wake.edf"
    wait_for 10 ' x4 ' && tm_keys w && wait_for 5 'Wake the sleeper now' && tm_keys y
    wait_for 10 'WAKING'
    log=$(one "$TMP/wake" .session.tsv)
    i=0; until grep -q 'alert.*repeat \[critical\] wake_failed' "$log" 2>/dev/null || [ $i -gt 300 ]; do sleep 0.1; i=$((i + 1)); done
    tm_keys a
    wait_for 60 'Dream report'                       # awake: the session asks for a dream report
    shpid=$(tmux -S "$TMUX_SOCK" display -p -t t '#{pane_pid}')
    kill -TERM "$shpid" 2>/dev/null
    i=0; while tm_alive && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    if $PY - "$HERE" "$log" "$TMP/actuators.log" "$wep" > "$TMP/wake.check" <<'EOF'
import re, sys
sys.path.insert(0, sys.argv[1])
from sessionlog import rows
log, acts, wep = sys.argv[2], sys.argv[3], int(sys.argv[4])
ev = list(rows(log))
bad = []
def find(kind, pat):
    return [(t, w) for t, w, k, x in ev if k == kind and re.search(pat, x)]
att = {n: find("wake", r"^Manual wake, attempt %d$" % n) for n in (1, 2, 3)}
esc = find("wake", r"^Escalation: wake did not take after 3 attempts")
raised = find("alert", r"raised \[critical\] wake_failed")
rep = find("alert", r"repeat \[critical\] wake_failed")
ack = find("alert", r"acknowledged \[critical\] wake_failed")
clr = find("alert", r"cleared \[critical\] wake_failed")
awake = find("awake", r"^Awake .* \(attempt 3\)$")
back = find("mode", r"WAKING -> NATURAL \(awake\)")
if not all(len(v) == 1 for v in (att[1], att[2], att[3], esc, raised, ack, clr, awake, back)) or not rep:
    print("events: attempts %s, escalation %s, raised %s, repeats %d, ack %s, cleared %s, awake %s, back %s"
          % ([len(att[n]) for n in att], len(esc), len(raised), len(rep), len(ack), len(clr), len(awake), len(back)))
    sys.exit(1)
t0 = att[1][0][0]
for name, got, want in (("attempt 2", att[2][0][0], t0 + 20), ("attempt 3", att[3][0][0], t0 + 40),
                        ("escalation", esc[0][0], t0 + 60), ("critical alert", raised[0][0], t0 + 60),
                        ("awake and cleared", clr[0][0], (wep + 1) * 30.0), ("awake", awake[0][0], (wep + 1) * 30.0)):
    if abs(got - want) > 0.6:
        bad.append("%s at t=%.2f, expected %.2f" % (name, got, want))
if not 4.9 <= rep[0][1] - raised[0][1] <= 6.5:
    bad.append("first repeat %.2f s (wall) after the raise, expected repeat_s = 5" % (rep[0][1] - raised[0][1]))
# the actuator commands: wake N (the attempt number is passed), escalation at the raise and at the repeat
lines = [l.split() for l in open(acts)]
w = {int(l[2]): float(l[0]) for l in lines if l[1] == "wake"}
e = [float(l[0]) for l in lines if l[1] == "escalation"]
if sorted(w) != [1, 2, 3] or len(e) < 2:
    bad.append("actuator calls: wake %s, escalation %d" % (sorted(w), len(e)))
else:
    for name, got, want in (("wake 2", w[2] - w[1], 5), ("wake 3", w[3] - w[1], 10), ("escalation", e[0] - w[1], 15),
                            ("escalation repeat", e[1] - e[0], 5)):
        if abs(got - want) > 1.2:
            bad.append("%s command %.2f s (wall) after the one before, expected %g" % (name, got, want))
print("attempts at t0 = %.1f, +%.1f, +%.1f s; escalation +%.1f s; repeat %.1f s later; awake at %.0f s"
      % (t0, att[2][0][0] - t0, att[3][0][0] - t0, esc[0][0] - t0, rep[0][1] - raised[0][1], awake[0][0]))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
EOF
    then pass "session_wake_escalates: $(head -1 "$TMP/wake.check")"
    else fail session_wake_escalates "$(tr '\n' ';' < "$TMP/wake.check")"; fi
fi
tmux -S "$TMUX_SOCK" kill-server 2>/dev/null

# ---- safe shutdown on a live (emulated) Cyton: SIGTERM to `record` (SIGHUP does not stop it) and a confirmed
# Q each leave a BDF+ that EDFlib opens (so its header was closed), ending with the "Recording stopped"
# annotation, and a summary ----
emu() {  # emu NAME: an emulated Cyton behind $TMP/NAME.tty
    "$DW_BIN" emulate --link "$TMP/$1.tty" --seconds 60 > "$TMP/$1.emu" 2>&1 &
    echo $! > "$TMP/$1.pids"
    i=0; while [ ! -L "$TMP/$1.tty" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
}
grown() {  # grown NAME: wait until the recording in $TMP/NAME holds about 4 s (6 kB/s)
    i=0; until [ "$(stat -c %s "$(one "$TMP/$1" .bdf)" 2>/dev/null || echo 0)" -gt 24000 ] || [ $i -gt 200 ]; do
        sleep 0.1; i=$((i + 1)); done
}
closed() {  # closed NAME CAUSE RC: the recording in $TMP/NAME is closed, with a summary, the log names CAUSE
    bdf=$(one "$TMP/$1" .bdf); sum=$(one "$TMP/$1" .summary.txt); log=$(one "$TMP/$1" .session.tsv)
    info=$([ -n "$bdf" ] && "$TMP/bdfcheck" "$bdf")
    set -- "$1" "$2" "$3" $info
    if [ "$3" = 0 ] && [ "$4" = 3 ] && [ "${5:-0}" -ge 3 ] && [ "$7 $8" = "Recording stopped" ] &&
       [ "$(stat -c %a "$bdf")" = 600 ] && grep -q '^## Alerts' "$sum" && grep -Eq "SHUTDOWN \(($2)\)" "$log"; then
        pass "session_shutdown_$1: exit 0, BDF+ of $6 s closed, summary written, log says '$(grep -Eo "SHUTDOWN \(($2)\)" "$log")'"
    else fail "session_shutdown_$1" "exit $3; bdfcheck: ${info:-none} ($bdf); summary: ${sum:-none}; $(tail -n 1 "$log" 2>/dev/null | cut -f 3,4)"; fi
}
if ! cc -o "$TMP/bdfcheck" "$HERE/bdfcheck.c" -ledf -lm 2> "$TMP/cc.err"; then
    fail session_shutdown "cannot build the EDFlib checker: $(head -3 "$TMP/cc.err")"
else
    for sig in TERM HUP; do
        emu $sig
        "$DW_BIN" record --serial "$TMP/$sig.tty" --out "$TMP/$sig" > /dev/null 2> "$TMP/$sig.err" &
        echo "$(cat "$TMP/$sig.pids") $!" > "$TMP/$sig.pids"
    done
    grown TERM; grown HUP
    # a hang-up (the SSH link dropping under `record ... &`) does not stop a headless session: it goes on
    # recording, notes it, and SIGTERM then stops it as usual (it stopped at the hang-up before)
    set -- $(cat "$TMP/HUP.pids")
    size0=$(stat -c %s "$(one "$TMP/HUP" .bdf)")
    kill -HUP $2; sleep 3
    size1=$(stat -c %s "$(one "$TMP/HUP" .bdf)")
    if kill -0 $2 2>/dev/null && [ "$size1" -gt $((size0 + 12000)) ] && grep -q 'the session goes on' "$TMP/HUP.err" &&
       grep -q 'terminal hung up; the session goes on' "$(one "$TMP/HUP" .session.tsv)"; then
        pass "session_hangup_goes_on: record still running 3 s after SIGHUP, its recording $size0 -> $size1 bytes, noted"
    else fail session_hangup_goes_on "alive: $(kill -0 $2 2>/dev/null && echo yes || echo no); $size0 -> $size1 bytes; $(tail -n 2 "$TMP/HUP.err" | tr '\n' ' ')"; fi
    for sig in TERM HUP; do
        set -- $(cat "$TMP/$sig.pids")
        kill -TERM $2; wait $2; rc=$?
        kill $1; wait $1; rm -f "$TMP/$sig.pids"
        closed $sig signal $rc
    done
    # the screen: Q, then y (the dialog's default is No)
    emu Q
    tm_start 120 40 sh -c "TERM=$TERMV \"\$0\" --serial '$TMP/Q.tty' --out '$TMP/Q'; echo EXIT=\$?; sleep 30" "$DW_BIN"
    grown Q
    tm_keys Q && wait_for 5 'Safe shutdown' && tm_keys y
    wait_for 20 'EXIT=' 
    closed Q operator "$(tm_screen | sed -n 's/.*EXIT=\([0-9]*\).*/\1/p' | head -n 1)"
    tmux -S "$TMUX_SOCK" kill-server 2>/dev/null
    set -- $(cat "$TMP/Q.pids"); kill $1; wait $1; rm -f "$TMP/Q.pids"
    # the terminal going away under the screen: tests/e2e/hangup.sh
fi

# ---- a stimulus command that hangs (/bin/sleep 100, command_timeout_s = 1) is killed and reported: an
# actuator_failed alert about 1 s (wall clock) after the stimulus, and the sleep process is gone ----
"$DW_BIN" --headless --speed 300 --enhanced $SO --set stimulation.max_per_night=1 --set actuators.stimulus=command \
    --set "actuators.stimulus_command=/bin/sleep 100" --set actuators.command_timeout_s=1 --out "$TMP/hang" "$SAMPLE" \
    > /dev/null 2> "$TMP/hang.err" &
dw=$!
echo $dw > "$TMP/hang.pids"
i=0; until [ -n "$(kind "$(one "$TMP/hang" .session.tsv)" stim 2>/dev/null)" ] || [ $i -gt 300 ]; do sleep 0.05; i=$((i + 1)); done
sp=$(pgrep -P $dw -x sleep)
i=0; until grep -q 'actuator_failed' "$(one "$TMP/hang" .session.tsv)" 2>/dev/null || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
gone=yes; [ -n "$sp" ] && [ -e "/proc/$sp" ] && gone=no
kill -TERM $dw; wait $dw; rc=$?; rm -f "$TMP/hang.pids"
log=$(one "$TMP/hang" .session.tsv)
$PY "$HERE/sessionlog.py" events "$log" > "$TMP/hang.ev"
ws=$(awk -F'\t' '$3 == "stim" {print $2; exit}' "$TMP/hang.ev")
wa=$(awk -F'\t' '$3 == "alert" && $4 ~ /raised \[warning\] actuator_failed: stimulus: command still running after 1 s, killed/ {print $2; exit}' "$TMP/hang.ev")
dt=$(awk -v a="$wa" -v s="$ws" 'BEGIN { if (a != "" && s != "") printf "%.2f", a - s }')
if [ -n "$sp" ] && [ $gone = yes ] && [ "$rc" = 0 ] && awk -v d="$dt" 'BEGIN { exit !(d != "" && d >= 0.95 && d <= 2.5) }' &&
   grep -q 'actuator_failed.*still running after 1 s, killed' "$(one "$TMP/hang" .summary.txt)"; then
    pass "session_actuator_hang: sleep $sp killed, actuator_failed $dt s after the stimulus, in the summary"
else fail session_actuator_hang "sleep pid '${sp}' gone=$gone, alert ${dt:-missing} s after the stimulus, exit $rc: $(cat "$TMP/hang.err")"; fi
