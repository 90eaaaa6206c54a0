#!/bin/sh
# Research protocols through the real binary, on the sample night replayed at full speed (and in the screen
# where an operator acts): the README's example protocol file; bad protocol files refused with FILE:LINE;
# serial awakenings only after the protocol's dwell in its stage, each step logged, the questionnaire's
# answers and latencies in the log, the awakenings table and the events table; sham stimuli logged like
# real ones and sending nothing but the sham trigger, their conditions only in the sealed file; a blinded
# screen that never shows a condition (and an unblinded one that does); memory cues in rotation with the
# item given to the cue command; an arousal after a stimulus pausing stimulation and stepping the volume
# down; and a whole night in natural-sleep mode with every feature configured giving no stimulus, no cue
# and no awakening of any kind.
. "$(dirname "$0")/lib.sh"
HERE=$(dirname "$0")
SAMPLE=$DW_ROOT/sample-data/sample-night.edf
EXAMPLE=$DW_ROOT/sample-data/protocol.example.ini
PY=/usr/bin/python3
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data"
if [ ! -f "$SAMPLE" ] || [ ! -x "$DW_BIN" ]; then skip protocol "no binary or sample night (run make)"; exit 0; fi
if ! $PY -c 'import numpy, scipy' 2>/dev/null; then skip protocol "no Debian python3 with numpy/scipy"; exit 0; fi
TERMV=screen; infocmp tmux-256color >/dev/null 2>&1 && TERMV=tmux-256color
trap 'for f in "$TMP"/*.pids; do [ -f "$f" ] && kill $(cat "$f") 2>/dev/null; done; wait 2>/dev/null
      tm_stop_all; rm -rf "$TMP"' EXIT
one() { ls "$1"/*"$2" 2>/dev/null | head -n 1; }
SO="--set stimulation.so_threshold_uv=-30"
# Trigger bytes to a plain file (the serial actuator writes one byte per stimulus): 1 stimulus, 2 cue, 4 sham
TRIG="--set actuators.stimulus=serial --set actuators.cue=serial --set actuators.sham=serial"
: > "$TMP/note.log"
cat > "$TMP/note" <<EOF
#!/bin/sh
echo "\$(date +%s.%N) \$*" >> "$TMP/note.log"
EOF
chmod 700 "$TMP/note"

# ---- the README shows the example file, and the example is what these tests run ----
awk '/^## Running a protocol/ {on = 1} on && /^```ini$/ {p = 1; next} p && /^```$/ {exit} p' "$DW_ROOT/README.md" \
    > "$TMP/readme.ini"
if [ -s "$TMP/readme.ini" ] && cmp -s "$TMP/readme.ini" "$EXAMPLE"; then
    pass "protocol_readme_example: the README's example protocol is sample-data/protocol.example.ini"
else fail protocol_readme_example "README block and $EXAMPLE differ: $(diff "$TMP/readme.ini" "$EXAMPLE" | head -3 | tr '\n' ';')"; fi

# ---- bad protocol files: FILE:LINE and the problem, exit 2, nothing run ----
bad() {  # bad NAME EXPECTED-MESSAGE-PATTERN, the file on stdin
    cat > "$TMP/bad-$1.ini"
    "$DW_BIN" --headless --speed 0 --protocol "$TMP/bad-$1.ini" --out "$TMP/bad" "$SAMPLE" > /dev/null 2> "$TMP/bad.err"
    rc=$?
    if [ $rc = 2 ] && grep -Eq "$2" "$TMP/bad.err" && [ ! -d "$TMP/bad" ]; then echo ok
    else echo "$1: exit $rc, '$(cat "$TMP/bad.err")'"; fi
}
r=$( { printf '[awakenings]\nenabled = true\ntargets = N2:5, X:3\n' | bad stage "bad-stage.ini:3: \[awakenings\] targets: 'X:3'"
       printf '[sham]\ncondition = maybe\n' | bad sham "bad-sham.ini:2: \[sham\] condition: 'maybe' is not one of active\|sham\|random"
       printf '[cues]\nintervl_s = 3\n' | bad key "bad-key.ini:2: \[cues\] intervl_s: unknown key"
       printf '[question 1]\ntext = a\n[question 3]\ntext = c\n' | bad gap "bad-gap.ini: \[question 2\]: no text"
       printf '[cues]\nenabled = true\n' | bad items "bad-items.ini: \[cues\]: enabled but no cued items"
       printf '[awakenings]\nmax_per_night = 0\n' | bad range "bad-range.ini:2: \[awakenings\] max_per_night: 0 is outside 1..100"
       printf '[awakenings]\nenabled = true\ninterval_min = 50\ninterval_max = 40\n' | bad order "interval_max 40 is below interval_min 50"
       printf '[question 1]\ntype = essay\n' | bad type "bad-type.ini:2: \[question 1\] type: 'essay'"
       printf 'text without a section\n' | bad syntax "bad-syntax.ini:1: syntax error"
       mkfifo "$TMP/fifo.ini"; "$DW_BIN" --headless --protocol "$TMP/fifo.ini" "$SAMPLE" > /dev/null 2> "$TMP/fifo.err"
       grep -q 'fifo.ini: a FIFO' "$TMP/fifo.err" && echo ok || echo "fifo: $(cat "$TMP/fifo.err")"
     } | grep -v '^ok$')
[ -z "$r" ] && pass "protocol_bad_files: 10 bad protocols refused with FILE:LINE and the problem (exit 2, nothing written)" ||
    fail protocol_bad_files "$(echo "$r" | tr '\n' ';')"

# ---- the example over the whole sample night: awakenings only after their dwell, memory cues in N3 in
# rotation, sham stimuli sending the sham byte and nothing else, conditions only in the sealed file ----
mkfifo "$TMP/trig"                          # a trigger port: every actuator's bytes in one stream, in order
cat "$TMP/trig" > "$TMP/trig.bin" &
catpid=$!
exec 7<> "$TMP/trig"                         # held open here, so the reader ends only when this closes
"$DW_BIN" --headless --speed 0 --enhanced --protocol "$EXAMPLE" $SO $TRIG --set "actuators.trigger_serial=$TMP/trig" \
    --out "$TMP/ex" "$SAMPLE" > "$TMP/ex.out" 2> "$TMP/ex.err" 7>&-
exec 7>&-
wait $catpid
if $PY - "$HERE" "$TMP/ex" "$TMP/ex.out" "$TMP/trig.bin" > "$TMP/ex.check" <<'EOF'
import glob, re, sys
sys.path.insert(0, sys.argv[1])
from sessionlog import rows
d, out, trig = sys.argv[2:]
log = list(rows(glob.glob(d + "/*.session.tsv")[0]))
summ = open(glob.glob(d + "/*.summary.txt")[0]).read()
sealed = [l.split("\t") for l in open(glob.glob(d + "/*.sealed.tsv")[0]).read().splitlines() if re.match(r"\d+\t", l)]
lab = {int(l.split()[1]): l.split()[2] for l in open(out) if l.startswith("epoch ")}
bad = []
# awakenings: at an epoch end, after >= 10 N2 (or 20 R) epochs of the session's labels, >= 30 min in
aw = [(t, x) for t, w, k, x in log if k == "awakening" and re.match(r"Awakening \d+: (N2|R) for", x)]
for t, x in aw:
    e = int(round(t / 30)) - 1
    st = re.match(r"Awakening \d+: (\w+) for", x).group(1)
    need = 10 if st == "N2" else 20
    run = [lab.get(k) for k in range(e - need + 1, e + 1)]
    if any(r != st for r in run) or t < 1800:
        bad.append("awakening at %.0f s (%s): epochs %d-%d are %s" % (t, st, e - need + 1, e, run))
if not aw:
    bad.append("no awakening")
wakes = [t for t, w, k, x in log if k == "wake" and x.startswith("Awakening 1 alarm, attempt 1")]
if not wakes or abs(wakes[0] - aw[0][0]) > 1e-6:
    bad.append("the alarm did not ring with the awakening")
# memory cues: only in N3 (the latest label), 8 s apart at least, items in rotation
cues = [(t, re.match(r"Memory cue (\d+): (\S+) \((\w+)\)$", x)) for t, w, k, x in log if k == "tmr_cue"]
items = ["cue-guitar.wav", "cue-kettle.wav", "cue-bell.wav"]
for i, (t, m) in enumerate(cues):
    if not m or m.group(3) != "N3" or m.group(2) != items[i % 3]:
        bad.append("cue %d at %.1f s: %s" % (i, t, m and m.groups()))
        break
    if i and t - cues[i - 1][0] < 8 - 1e-6:
        bad.append("cues %.1f s apart" % (t - cues[i - 1][0]))
# sham: every stimulus and cue is in the sealed file; the trigger bytes are 1/2 for active, 4 for sham
stims = [x for t, w, k, x in log if k in ("stim", "tmr_cue", "cue")]
b = open(trig, "rb").read()
want = bytes([4 if c[3] == "sham" else (1 if c[1] == "SO" else 2) for c in sealed])
if len(sealed) != len(stims) or b != want:
    bad.append("%d stimuli logged, %d sealed, trigger bytes %s... vs conditions %s..." % (len(stims), len(sealed), list(b[:8]), list(want[:8])))
nsham = sum(c[3] == "sham" for c in sealed)
if not 0.35 < nsham / max(1, len(sealed)) < 0.65:
    bad.append("%d of %d sham, ratio 0.5" % (nsham, len(sealed)))
# blinded: no condition in the log, the annotations, the summary or the events table
ev = open(glob.glob(d + "/*_events.tsv")[0]).read()
if any(re.search(r"\b(sham|active)\b", x) for t, w, k, x in log) or "sham" in summ.replace("blinded", "") or \
        re.search(r"stimulus/|\bsham\b", ev):
    bad.append("a condition shows although blinded")
if "condition: blinded (sealed in" not in summ:
    bad.append("the summary does not say it is blinded")
print("%d awakening(s) after their dwell, %d memory cues in rotation, %d stimuli and cues (%d sham) sealed, "
      "trigger bytes match" % (len(aw), len(cues), len(sealed), nsham))
for x in bad[:5]:
    print(x)
sys.exit(1 if bad or len(cues) < 6 else 0)
EOF
then pass "protocol_example_night: $(head -1 "$TMP/ex.check")"
else fail protocol_example_night "$(tr '\n' ';' < "$TMP/ex.check") $(tail -2 "$TMP/ex.err")"; fi

# ---- the same headless night at --speed 0 has nobody to answer: every question times out in the
# night's time (60, 120 and 300 s after it is asked), the next one is asked, each questionnaire ends
# "0 of 3 answered", and awakenings go on after their spacing; the alarm that did not wake the replayed
# sleeper (wake_failed, critical) clears unacknowledged and does not keep stimulation off, since no one
# can acknowledge it (a live session keeps it off: test_session) ----
if $PY - "$HERE" "$TMP/ex" > "$TMP/exq.check" <<'EOF'
import glob, re, sys
sys.path.insert(0, sys.argv[1])
from sessionlog import rows
d = sys.argv[2]
log = list(rows(glob.glob(d + "/*.session.tsv")[0]))
tab = [l.split("\t") for l in open(glob.glob(d + "/*.awakenings.tsv")[0]).read().splitlines()[1:]]
timeout = {1: 60, 2: 120, 3: 300}
bad = []
alarms = [t for t, w, k, x in log if k == "awakening" and re.match(r"Awakening \d+: (N2|R) for", x)]
asleep = [t for t, w, k, x in log if k == "awakening" and " asleep again " in x]
done = [t for t, w, k, x in log if k == "questionnaire" and x.endswith("questionnaire done, 0 of 3 answered")]
asked = [(t, int(re.search(r" Q(\d) ", x).group(1))) for t, w, k, x in log if k == "question"]
outs = [(t, int(re.search(r" Q(\d):", x).group(1))) for t, w, k, x in log
        if k == "answer" and re.search(r"Q\d: no answer within \d+ s$", x)]
for i, (t, q) in enumerate(asked):
    o = [u for u, p in outs if p == q and u >= t]
    if not o or abs(o[0] - t - timeout[q]) > 30:
        bad.append("Q%d asked at %.0f s: timed out at %s" % (q, t, o[:1]))
        break
    if q < 3 and (i + 1 >= len(asked) or asked[i + 1] != (o[0], q + 1)):
        bad.append("after Q%d timed out at %.0f s the next question was %s" % (q, o[0], asked[i + 1:i + 2]))
        break
if len(alarms) < 2 or len(done) < len(alarms) - 1 or not 0 <= len(asked) - 3 * len(done) <= 3:
    bad.append("%d alarms, %d questionnaires done, %d questions asked" % (len(alarms), len(done), len(asked)))
for i in range(1, len(alarms)):
    back = [t for t in asleep if alarms[i - 1] < t < alarms[i]]
    if alarms[i] - alarms[i - 1] < 15 * 60 or not back or alarms[i] - back[0] < 20 * 60 - 1e-6:
        bad.append("awakening %d at %.0f s: the previous at %.0f s, asleep again at %s" %
                   (i + 1, alarms[i], alarms[i - 1], back[:1]))
na = [r for r in tab if r[10] == "n/a" and r[12] == "n/a" and r[14] == "n/a"]
if len(tab) != len(alarms) or len(na) != len(tab):
    bad.append("awakenings table: %d rows for %d alarms, %d with every answer n/a" % (len(tab), len(alarms), len(na)))
after = [t for t, w, k, x in log if k in ("stim", "tmr_cue", "cue") and done and t > done[0]]
if not after:
    bad.append("no stimulus or cue after the first questionnaire")
if not any(k == "unattended" and "cleared unacknowledged in a replay with no screen" in x for t, w, k, x in log):
    bad.append("no note that the cleared critical alert does not keep stimulation off")
print("%d awakenings, %d questions each timed out in source time and the next asked, %d questionnaires "
      "done (0 answered), %d stimuli and cues after the first" % (len(alarms), len(outs), len(done), len(after)))
for x in bad[:4]:
    print(x)
sys.exit(1 if bad else 0)
EOF
then pass "protocol_headless_questionnaire: $(head -1 "$TMP/exq.check")"
else fail protocol_headless_questionnaire "$(tr '\n' ';' < "$TMP/exq.check")"; fi

# ---- natural mode all night with every feature on: nothing sent, nothing cued, nobody woken ----
: > "$TMP/nat.bin"
: > "$TMP/note.log"
"$DW_BIN" --headless --speed 0 --natural --protocol "$EXAMPLE" $SO --set stimulation.cue_enabled=true \
    --set actuators.stimulus=command --set "actuators.stimulus_command=$TMP/note stim {volume}" \
    --set actuators.cue=command --set "actuators.cue_command=$TMP/note cue {item}" \
    --set actuators.wake=command --set "actuators.wake_command=$TMP/note wake" \
    --set actuators.escalation=command --set "actuators.escalation_command=$TMP/note escalation" \
    --set actuators.sham=serial --set "actuators.trigger_serial=$TMP/nat.bin" --out "$TMP/nat" "$SAMPLE" > "$TMP/nat.out" 2>&1
log=$(one "$TMP/nat" .session.tsv)
kinds=$(cut -f 3 "$log" | sort -u | tr '\n' ' ')
n=$(grep -c '^epoch ' "$TMP/nat.out")
if [ "$n" = 900 ] && [ ! -s "$TMP/note.log" ] && [ ! -s "$TMP/nat.bin" ] &&
   ! cut -f 3 "$log" | grep -Eqx 'stim|cue|tmr_cue|awakening|wake|question|volume|arousal' &&
   [ "$(grep -c '^[0-9]' "$(one "$TMP/nat" .sealed.tsv)")" = 0 ] && [ "$(wc -l < "$(one "$TMP/nat" .awakenings.tsv)")" = 1 ] &&
   grep -q '^0 slow-oscillation stimuli, 0 REM cues' "$(one "$TMP/nat" .summary.txt)"; then
    pass "protocol_natural_night: 900 epochs with awakenings, questions, sham, memory cues, REM cues and SO stimulation configured: no command run, no byte sent, log kinds: $kinds"
else fail protocol_natural_night "epochs $n; commands: $(head -2 "$TMP/note.log"); bytes $(wc -c < "$TMP/nat.bin"); kinds: $kinds"; fi

# ---- an arousal after a stimulus: alpha (10 Hz, 40 uV) for 4 s from 0.5 s after a stimulus. The night
# up to it is unchanged, so the same stimulus comes (staging is causal); then stimulation pauses for
# arousal_pause_s and the volume given to the command steps down; quiet stimuli step it back up ----
"$DW_BIN" --headless --speed 0 --enhanced $SO --out "$TMP/ar0" "$SAMPLE" > /dev/null 2>&1
ts=$($PY - "$HERE" "$(one "$TMP/ar0" .session.tsv)" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from sessionlog import rows
st = [t for t, w, k, x in rows(sys.argv[2]) if k == "stim"]
# a stimulus 20 s after the one before it (a clean baseline), well into the night
print(next("%.3f" % t for i, t in enumerate(st) if i > 20 and t - st[i - 1] > 20 and t > 3600))
EOF
)
$PY "$HERE/make_inputs.py" burst "$SAMPLE" "$TMP/burst.edf" "$(echo "$ts + 0.5" | bc)" 4 10 40
"$DW_BIN" --headless --speed 0 --enhanced $SO --set stimulation.volume_step=5 --set stimulation.volume_up_after=4 \
    --out "$TMP/ar" "$TMP/burst.edf" > /dev/null 2> "$TMP/ar.err"
if $PY - "$HERE" "$(one "$TMP/ar" .session.tsv)" "$ts" "$(one "$TMP/ar" .summary.txt)" > "$TMP/ar.check" <<'EOF'
import re, sys
sys.path.insert(0, sys.argv[1])
from sessionlog import rows
log = list(rows(sys.argv[2]))
vols = {r.split("\t")[0]: r.split("\t")[7] for r in open(sys.argv[4]).read().splitlines() if re.match(r"\d+\tSO\t", r)}
ts = float(sys.argv[3])
bad = []
stims = [(t, re.match(r"SO stim (\d+)", x).group(1)) for t, w, k, x in log if k == "stim"]
k = [s for t, s in stims if abs(t - ts) < 1e-3]
ar = [(t, x) for t, w, kd, x in log if kd == "arousal" and k and x.startswith("Arousal after SO stim %s: " % k[0])]
if not k:
    bad.append("the stimulus at %.3f s did not come again" % ts)
elif not ar or not ar[0][1].startswith("Arousal after SO stim %s: alpha" % k[0]) or not ts < ar[0][0] <= ts + 5.01:
    bad.append("arousal: %s" % ar[:1])
else:
    ta = ar[0][0]
    after = [t for t, s in stims if ta < t < ta + 60]
    if after:
        bad.append("a stimulus %.1f s after the arousal (paused 60 s)" % (after[0] - ta))
    v0 = int(vols[k[0]])
    down = [(t, x) for t, w, kd, x in log if kd == "volume" and t == ta]
    up = [(t, x) for t, w, kd, x in log if kd == "volume" and t > ta]
    if down != [(ta, "Volume %d -> %d (arousal after SO stim %s)" % (v0, v0 - 5, k[0]))]:
        bad.append("volume at the arousal: %s" % down)
    elif not up or up[0][1] != "Volume %d -> %d (4 quiet stimuli)" % (v0 - 5, v0):
        bad.append("no step back up after 4 quiet stimuli: %s" % up[:1])
    lv = [int(vols[s]) for t, s in stims if t > ta]
    if lv[:4] != [v0 - 5] * 4 or lv[4] != v0:
        bad.append("volumes at delivery after the arousal %s" % lv[:6])
print("stim %s at %.2f s, arousal at +%.2f s (%s), paused 60 s, volume %s -> -5 for 4 stimuli -> back"
      % (k[0] if k else "?", ts, ar[0][0] - ts if ar else -1, ar[0][1].split(": ")[1].split(";")[0] if ar else "-",
         vols.get(k[0], "?") if k else "?"))
for x in bad:
    print(x)
sys.exit(1 if bad else 0)
EOF
then pass "protocol_arousal_steps_down: $(head -1 "$TMP/ar.check")"
else fail protocol_arousal_steps_down "$(tr '\n' ';' < "$TMP/ar.check") $(tail -2 "$TMP/ar.err")"; fi

# ---- memory cues reach the cue command with their item (in rotation) and the volume ----
$PY "$HERE/make_inputs.py" cut "$SAMPLE" "$TMP/n3.edf" 1260 2040         # N2 then N3 (epochs 42-67)
: > "$TMP/note.log"
"$DW_BIN" --headless --speed 40 --enhanced --protocol "$EXAMPLE" --set stimulation.so_enabled=false \
    --set actuators.cue=command --set "actuators.cue_command=$TMP/note cue --level={volume}" --out "$TMP/cue" \
    "$TMP/n3.edf" > /dev/null 2>&1
calls=$(awk '$2 == "cue" {printf "%s %s;", $3, $4}' "$TMP/note.log")
logged=$(awk -F'\t' '$3 == "tmr_cue" {split($4, a, " "); printf "%s;", a[4]}' "$(one "$TMP/cue" .session.tsv)")
sealed=$(awk -F'\t' '$4 == "active" {print $1}' "$(one "$TMP/cue" .sealed.tsv)" | wc -l)
if [ -n "$calls" ] && echo "$calls" | awk -F';' '{ for (i = 1; i < NF; i++) if ($i !~ /^--level=55 cue-(guitar|kettle|bell)\.wav$/) exit 1 }' &&
   [ "$(echo "$calls" | tr ';' '\n' | grep -c wav)" = "$sealed" ] && echo "$logged" | grep -q '^cue-guitar.wav;cue-kettle.wav;cue-bell.wav;'; then
    pass "protocol_cue_items: the cue command got --level=55 and the item of each active cue ($calls); log: $logged"
else fail protocol_cue_items "calls '$calls', logged '$logged', $sealed active"; fi

# ---- blinding on the screen: nothing on it ever names a condition; unblinded, the status shows the count ----
sed 's/^blind = true/blind = false/' "$EXAMPLE" > "$TMP/open.ini"
screens() {  # screens NAME PROTOCOL: replay the N2/N3 cut in the screen, capture it until the end
    tm_start 120 40 env TERM=$TERMV "$DW_BIN" --speed 40 --enhanced --protocol "$2" $SO --out "$TMP/$1" "$TMP/n3.edf"
    : > "$TMP/$1.screens"
    i=0; while [ $i -lt 150 ] && ! grep -q 'replay ended' "$TMP/$1.screens"; do tm_screen >> "$TMP/$1.screens"; sleep 0.2; i=$((i + 1)); done
    tm_keys E; sleep 0.5; tm_screen >> "$TMP/$1.screens"; tm_keys Escape
    tm_keys Q && wait_for 5 'Safe shutdown' && tm_keys y
    i=0; while tm_alive && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}
screens blind "$EXAMPLE"
screens open "$TMP/open.ini"
nb=$(grep -c 'stim [0-9]' "$TMP/blind.screens"); no=$(grep -Eo 'stim [0-9]+( cue [0-9]+)? \(sham [0-9]+\)' "$TMP/open.screens" | tail -1)
if [ "$nb" -gt 0 ] && ! grep -Eiq 'sham|active' "$TMP/blind.screens" && [ -n "$no" ] &&
   grep -q 'Evoked response: [0-9]* stimuli' "$TMP/blind.screens" && grep -q 'Evoked response: a active' "$TMP/open.screens" &&
   grep -Eq '│ sp [0-9.]+ SW [0-9.]+( /min N2\+N3)? │' "$TMP/blind.screens" &&
   [ "$(grep -c '^[0-9]' "$(one "$TMP/blind" .sealed.tsv)")" -gt 0 ]; then
    pass "protocol_blind_screen: $nb screens while blinded name no condition (the evoked plot pools them, the status shows '$(grep -Eo '│ sp [0-9.]+ SW [0-9.]+( /min N2\+N3)? │' "$TMP/blind.screens" | tail -1)'); unblinded the status reads '$no' and the plot splits"
else fail protocol_blind_screen "blinded: $nb screens, $(grep -Eio '.{20}(sham|active).{20}' "$TMP/blind.screens" | head -2 | tr '\n' ';'); unblinded: '$no'"; fi
tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true

# ---- a whole awakening in the screen: the night is cut where the example's first alarm rang and 20 min of
# wake are put in there (the sleeper wakes), then the night goes on. The operator answers the three
# questions (yes, 4, a red door) while the replay runs at 300x; the sleeper falls asleep again ----
T=$(awk -F'\t' '$3 == "awakening" && $4 ~ /^Awakening 1: / {print $1; exit}' "$(one "$TMP/ex" .session.tsv)")
if [ -z "$T" ]; then fail protocol_awakening_screen "no first awakening in the example night"; else
$PY "$HERE/make_inputs.py" splice "$SAMPLE" "$TMP/aw.edf" "$T" 0 1200 "$(echo "$T + 3000" | bc)"
tm_start 120 40 env TERM=$TERMV "$DW_BIN" --speed 300 --enhanced --protocol "$EXAMPLE" --set stimulation.so_enabled=false \
    --set actuators.wake=command --set "actuators.wake_command=$TMP/note wake" --out "$TMP/aw" "$TMP/aw.edf"
: > "$TMP/note.log"
if wait_for 60 'question 1 of 3'; then
    sleep 1; tm_keys y
    wait_for 5 'question 2 of 3' && sleep 0.5 && tm_keys 4
    wait_for 5 'question 3 of 3' && tm_keys -l 'a red door' && tm_keys Enter
fi
wait_for 60 'replay ended'; tm_keys Q && wait_for 5 'Safe shutdown' && tm_keys y
i=0; while tm_alive && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if $PY - "$HERE" "$TMP/aw" "$T" "$TMP/note.log" > "$TMP/aw.check" <<'EOF'
import glob, re, sys
sys.path.insert(0, sys.argv[1])
from sessionlog import rows
d, T, acts = sys.argv[2], float(sys.argv[3]), sys.argv[4]
log = list(rows(glob.glob(d + "/*.session.tsv")[0]))
tab = [l.split("\t") for l in open(glob.glob(d + "/*.awakenings.tsv")[0]).read().splitlines()]
ev = [l.split("\t") for l in open(glob.glob(d + "/*_events.tsv")[0]).read().splitlines()[1:]]
bad = []
steps = [(t, k, x) for t, w, k, x in log if k in ("awakening", "wake", "awake", "question", "answer", "questionnaire")]
kinds = [k for t, k, x in steps]
want = ["awakening", "wake", "awake", "awakening", "question", "answer", "question", "answer", "question", "answer",
        "questionnaire", "awakening"]
if kinds[:len(want)] != want:
    bad.append("steps %s" % kinds)
else:
    if abs(steps[0][0] - T) > 1e-6 or not re.match(r"Awakening 1: N2 for (\d+\.\d) min", steps[0][2]):
        bad.append("alarm %s" % (steps[0],))
    ans = [re.match(r"Awakening 1 Q(\d) answer after ([\d.]+) s: (.*)$", x) for t, k, x in steps if k == "answer"]
    got = [(a.group(1), a.group(3)) for a in ans if a]
    lat = [float(a.group(2)) for a in ans if a]
    if got != [("1", "yes"), ("2", "4"), ("3", "a red door")] or not (0.9 <= lat[0] < 6 and 0.4 <= lat[1] < 6):
        bad.append("answers %s latencies %s" % (got, lat))
    if not steps[-1][2].startswith("Awakening 1: asleep again"):
        bad.append("not asleep again: %s" % steps[-1][2])
row = tab[1] if len(tab) > 1 else []
head = tab[0]
r = dict(zip(head, row))
if not row or r["q1_answer"] != "yes" or r["q2_answer"] != "4" or r["q3_answer"] != "a red door" or \
        r["time_to_w_s"] == "n/a" or r["asleep_again_min"] == "n/a" or r["stage"] != "N2" or r["attempts"] != "1":
    bad.append("awakenings table %s" % r)
if not [e for e in ev if e[2] == "answer" and "a red door" in e[3]]:
    bad.append("no answer in the events table")
if [l.split()[1:] for l in open(acts)] != [["wake", "1"]]:
    bad.append("wake command calls %s" % open(acts).read())
print("alarm at %.0f s after %s min of N2, awake in %s s, answers yes/4/'a red door' after %s s, asleep again after %s min"
      % (T, r.get("dwell_min"), r.get("time_to_w_s"), "/".join(r.get("q%d_latency_s" % i, "?") for i in (1, 2, 3)),
         r.get("asleep_again_min")))
for x in bad:
    print(x)
sys.exit(1 if bad else 0)
EOF
then pass "protocol_awakening_screen: $(head -1 "$TMP/aw.check")"
else fail protocol_awakening_screen "$(tr '\n' ';' < "$TMP/aw.check")"; fi
fi

# ---- live: an emulated board streams N2 (5 min), wake (5 min) and N2 again at 20x; a protocol that wakes
# after 1 min of N2. The alarm, the questions and the answers typed in the screen land in the recording
# (the BDF+ annotations, read back by MNE, and the side log), the session log and the awakenings table ----
cat > "$TMP/live.ini" <<'INI'
[protocol]
name = live-test
[awakenings]
enabled = true
targets = N2:1
first_after_min = 0
[question 1]
text = Were you dreaming?
type = yesno
timeout_s = 120
[question 2]
text = What about?
type = text
timeout_s = 120
INI
$PY "$HERE/make_inputs.py" join "$SAMPLE" "$TMP/live.edf" 2400:2700 0:300 2700:3000
"$DW_BIN" emulate --file "$TMP/live.edf" --speed 20 --link "$TMP/live.tty" --seconds 120 > /dev/null 2>&1 &
emupid=$!
echo $emupid > "$TMP/live.pids"
i=0; while [ ! -L "$TMP/live.tty" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
tm_start 120 40 env TERM=$TERMV "$DW_BIN" --serial "$TMP/live.tty" --enhanced --protocol "$TMP/live.ini" \
    --set stimulation.so_enabled=false --set stimulation.min_confidence=0 --set input.derivations=Fpz-Cz,Pz-Oz \
    --out "$TMP/live"
if wait_for 60 'question 1 of 2'; then
    sleep 0.5; tm_keys y
    wait_for 5 'question 2 of 2' && tm_keys -l 'a lake' && tm_keys Enter
fi
i=0; until grep -q 'asleep again' "$(one "$TMP/live" .session.tsv)" 2>/dev/null || [ $i -gt 400 ]; do sleep 0.1; i=$((i + 1)); done
tm_keys Q && wait_for 5 'Safe shutdown' && tm_keys y
i=0; while tm_alive && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill $emupid 2>/dev/null; wait $emupid 2>/dev/null; rm -f "$TMP/live.pids"
bdf=$(one "$TMP/live" .bdf)
if [ -z "$bdf" ]; then fail protocol_live_recording "no recording: $(ls "$TMP/live" 2>&1)"
elif $PY - "$bdf" "$(one "$TMP/live" .session.tsv)" "$(one "$TMP/live" .awakenings.tsv)" \
        "$DW_ROOT/tests/e2e/bdf_annotations.py" > "$TMP/live.check" <<'PYEOF'
import re, subprocess, sys
bdf, log, tab, reader = sys.argv[1:]
# whole texts: the TALs read by bdf_annotations.py, a text over 40 bytes rejoined from its pieces
out = subprocess.run([sys.executable, reader, bdf],
                     capture_output=True, check=True).stdout.decode()
ann = [l.split("\t", 2)[2].rstrip() for l in out.splitlines()]
side = [l.split("\t")[-1] for l in open(bdf + ".events.tsv").read().splitlines()]
want = [r"^Awakening 1: N2 for", r"^Awakening 1 alarm, attempt 1$", r"^Awakening 1: awake", r"^Awakening 1 Q1 \(yesno\)",
        r"^Awakening 1 Q1 answer after [\d.]+ s: yes$", r"^Awakening 1 Q2 \(text\)", r"^Awakening 1 Q2 answer after [\d.]+ s: a lake$",
        r"^Awakening 1: questionnaire done, 2 of 2", r"^Awakening 1: asleep again"]
bad = []
for w in want:
    hits = [x for x in side if re.search(w, x)]
    if not hits:
        bad.append("side log: no %s" % w)
    elif hits[0].rstrip() not in ann:
        bad.append("BDF+: no annotation for '%s'" % hits[0])
logt = open(log).read()
if "Awakening 1 Q1 answer after" not in logt or "a lake" not in logt:
    bad.append("session log lacks the answers")
rows = [l.split("\t") for l in open(tab).read().splitlines()]
r = dict(zip(rows[0], rows[1])) if len(rows) > 1 else {}
if r.get("q1_answer") != "yes" or r.get("q2_answer") != "a lake" or r.get("q1_latency_s", "n/a") == "n/a":
    bad.append("awakenings table: %s" % r)
print("%d annotations in the BDF+, the alarm, questions and answers among them; q1 latency %s s"
      % (len(ann), r.get("q1_latency_s")))
if bad:
    print("whole texts: " + " / ".join(a for a in ann if a.startswith(("Awakening", "("))))
for b in bad[:6]:
    print(b)
sys.exit(1 if bad else 0)
PYEOF
then pass "protocol_live_recording: $(head -1 "$TMP/live.check")"
else fail protocol_live_recording "$(tr '\n' ';' < "$TMP/live.check")"; fi
tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
