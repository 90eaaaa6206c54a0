#!/bin/sh
# Alerts through the real binary, one injection per family: signal (railed, flat, mains), data path
# (no_samples, loss, reconnect on an emulated Cyton), sleep (no_onset, long_rem). Each fault must give
# exactly one alert of its rule, raised and cleared at the times the rule says, in the session log and the
# summary; the sample night without faults must raise no warning or critical alert. Plus the alert list:
# every rule of the configuration is in the README table and the man page.
. "$(dirname "$0")/lib.sh"
HERE=$(dirname "$0")
SAMPLE=$DW_ROOT/sample-data/sample-night.edf
PY=/usr/bin/python3
# No user configuration, and nothing written under the user's home.
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data"
if [ ! -f "$SAMPLE" ] || [ ! -x "$DW_BIN" ]; then skip alerts "no binary or sample night (run make)"; exit 0; fi
if ! $PY -c 'import numpy, scipy' 2>/dev/null; then skip alerts "no Debian python3 with numpy/scipy"; exit 0; fi
# Live sessions run in the background; their pids are kept so an interrupted run leaves nothing behind.
trap 'for f in "$TMP"/*.pids; do [ -f "$f" ] && kill $(cat "$f") 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMP"' EXIT

alerts_of() { $PY "$HERE/sessionlog.py" alerts "$1"; }    # id event severity rule t wall text
one() { ls "$1"/*"$2" 2>/dev/null | head -n 1; }           # one DIR SUFFIX: the session file in DIR
# within X LO HI: LO <= X <= HI
within() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x != "" && x >= lo && x <= hi) }'; }

# live NAME SECONDS FAULTS [OPTIONS...]: an emulated Cyton with FAULTS and `dreamwatch record` on it for
# SECONDS, then SIGTERM; in the background. Files: $TMP/NAME/ (recording, log, summary), $TMP/NAME.rc.
live() {
    name=$1 secs=$2 faults=$3; shift 3
    (
        "$DW_BIN" emulate --link "$TMP/$name.tty" --seconds $((secs + 30)) --faults "$faults" \
            > "$TMP/$name.emu" 2>&1 &
        e=$!
        echo $e > "$TMP/$name.pids"
        i=0; while [ ! -L "$TMP/$name.tty" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
        "$DW_BIN" record --serial "$TMP/$name.tty" --out "$TMP/$name" "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" &
        r=$!
        echo "$e $r" > "$TMP/$name.pids"
        sleep "$secs"
        kill -TERM $r; wait $r; echo $? > "$TMP/$name.rc"
        kill $e 2>/dev/null; wait $e
        rm -f "$TMP/$name.pids"
    ) &
}

# ---- data path: three live sessions at once (the reconnect alert holds for a minute) ----
live stall 24 stall=5:8 --enhanced
live drop 10 drop=20% --set alerts.loss_window_s=5
live unplug 70 unplug=3:2 --set alerts.loss_window_s=10

# ---- the alert list ----
"$DW_BIN" --print-config > "$TMP/config.ini"
rules=$(awk '/^\[alerts\]/{a=1;next} /^\[/{a=0} a && / = (true|false)$/{print $1}' "$TMP/config.ini")
missing=""
for r in $rules; do
    grep -q "^| \`$r\` |" "$DW_ROOT/README.md" || missing="$missing README:$r"
    grep -q "^\.B $r\$" "$DW_ROOT/man/dreamwatch.1" || missing="$missing man:$r"
done
extra=$(grep -oE '^\| `[a-z_]+` \| (info|warning|critical)' "$DW_ROOT/README.md" | sed 's/^| `\([a-z_]*\)`.*/\1/' |
        while read -r r; do echo "$rules" | grep -qx "$r" || echo "$r"; done)
n=$(echo "$rules" | wc -w)
if [ "$n" -ge 20 ] && [ -z "$missing" ] && [ -z "$extra" ]; then pass "alert list: all $n rules in the README table and the man page"
else fail "alert list" "$n rules; missing:$missing; in the README table but not a rule: $extra"; fi

# ---- a night without faults: no warning or critical alert ----
"$DW_BIN" --headless --speed 0 --out "$TMP/clean" "$SAMPLE" > "$TMP/night.out" 2> "$TMP/clean.err"
log=$(one "$TMP/clean" .session.tsv); sum=$(one "$TMP/clean" .summary.txt)
if [ -z "$log" ] || [ -z "$sum" ] || [ "$(grep -c '^epoch ' "$TMP/night.out")" -ne 900 ]; then
    fail alerts_clean_night "no log, summary or 900 epochs: $(cat "$TMP/clean.err")"
else
    loud=$(alerts_of "$log" | awk -F'\t' '$2 == "raised" && $3 != "info"' | wc -l)
    loud_sum=$(awk -F'\t' '/^## Alerts/{a=1;next} /^## /{a=0} a && $1 ~ /^[0-9]+$/ && $3 != "info"' "$sum" | wc -l)
    infos=$(alerts_of "$log" | awk -F'\t' '$2 == "raised" {print $4}' | sort | uniq -c | awk '{printf " %s x%s", $2, $1}')
    if [ "$loud" -eq 0 ] && [ "$loud_sum" -eq 0 ]; then
        pass "alerts_clean_night: the sample night raises no warning or critical alert (info:${infos:- none})"
    else fail alerts_clean_night "$loud warning/critical in the log, $loud_sum in the summary"; fi
fi

# check_alert NAME LOG SUMMARY RULE SLOT_TEXT RAISE_LO RAISE_HI CLEAR_LO CLEAR_HI [CLOCK]: exactly one alert
# of RULE whose text has SLOT_TEXT, raised at a time in [RAISE_LO, RAISE_HI], cleared in [CLEAR_LO,
# CLEAR_HI] (CLEAR_LO "-": never cleared), in the log and the summary. CLOCK "wall": the clear is timed in
# wall-clock seconds after the raise, not source time.
check_alert() {
    name=$1 log=$2 sum=$3 rule=$4 slot=$5 rlo=$6 rhi=$7 clo=$8 chi=$9 clock=${10:-t}
    if [ -z "$log" ] || [ -z "$sum" ]; then fail "$name" "no session log or summary"; return; fi
    alerts_of "$log" | awk -F'\t' -v r="$rule" '$4 == r' > "$TMP/a.tsv"
    nr=$(awk -F'\t' '$2 == "raised"' "$TMP/a.tsv" | wc -l)
    ns=$(grep -F "$slot" "$TMP/a.tsv" | awk -F'\t' '$2 == "raised"' | wc -l)
    id=$(grep -F "$slot" "$TMP/a.tsv" | awk -F'\t' '$2 == "raised" {print $1; exit}')
    tr=$(awk -F'\t' -v i="$id" '$1 == i && $2 == "raised" {print $5}' "$TMP/a.tsv")
    wr=$(awk -F'\t' -v i="$id" '$1 == i && $2 == "raised" {print $6}' "$TMP/a.tsv")
    tc=$(awk -F'\t' -v i="$id" '$1 == i && $2 == "cleared" {print $5}' "$TMP/a.tsv")
    wc_=$(awk -F'\t' -v i="$id" '$1 == i && $2 == "cleared" {print $6}' "$TMP/a.tsv")
    [ "$clock" = wall ] && [ -n "$wc_" ] && tc=$(awk -v a="$wc_" -v b="$wr" 'BEGIN { printf "%.2f", a - b }')
    sev=$(awk -F'\t' -v i="$id" '$1 == i && $2 == "raised" {print $3}' "$TMP/a.tsv")
    # the summary's row: the same id and rule, and the severity in the log's word (it printed 2 for critical)
    insum=$(awk -F'\t' -v i="$id" -v r="$rule" -v s="$sev" '/^## Alerts/{a=1;next} /^## /{a=0}
        a && $1 == i && $4 == r && $3 == s' "$sum" | wc -l)
    why=""
    [ "$ns" -eq 1 ] || why="$why; $ns alerts of $rule on '$slot' ($nr in all)"
    within "$tr" "$rlo" "$rhi" || why="$why; raised at t=$tr, not in [$rlo, $rhi]"
    if [ "$clo" = - ]; then [ -z "$tc" ] || why="$why; cleared at $tc"
    else within "$tc" "$clo" "$chi" || why="$why; cleared at ${tc:-never} ($clock), not in [$clo, $chi]"; fi
    [ "$insum" -eq 1 ] || why="$why; not in the summary as '$sev'"
    if [ -z "$why" ]; then pass "$name (raised t=$tr, cleared ${tc:-never}$( [ "$clock" = wall ] && echo ' s later'))"
    else fail "$name" "${why#; }"; fi
}

# ---- signal ----
gen() { $PY "$HERE/make_inputs.py" "$@" || fail alerts "make_inputs.py $1 failed"; }
replay() {  # replay NAME FILE [OPTIONS...]: headless, as fast as possible, into $TMP/NAME/
    name=$1 file=$2; shift 2
    "$DW_BIN" --headless --speed 0 --out "$TMP/$name" "$@" "$file" > "$TMP/$name.out" 2> "$TMP/$name.err" ||
        fail "$name" "exit $?: $(cat "$TMP/$name.err")"
}
RAILED=$SHARED/openbci/OpenBCI-GUI-2024-01-24_16-28-32.txt
if [ -f "$RAILED" ]; then
    # a real Cyton recording (OpenBCI GUI) whose channels 7 and 8 sit at -187500 uV from the first second:
    # one cause (one alert) naming both
    replay railed_real "$RAILED"
    check_alert "alert_railed_real (Ch7, Ch8)" "$(one "$TMP/railed_real" .session.tsv)" \
        "$(one "$TMP/railed_real" .summary.txt)" railed "channels Ch7, Ch8 " 5 7 - -
else skip alert_railed_real "no shared data at $SHARED"; fi
# channel 3 pulled to the rail from 20 to 40 s: raised after railed_s = 5 s, cleared 5 s after it is back
gen obci "$TMP/rail.txt" 60 rail 2 20 40
replay rail "$TMP/rail.txt"
check_alert alert_railed "$(one "$TMP/rail" .session.tsv)" "$(one "$TMP/rail" .summary.txt)" railed "channel Ch3 " 25.5 26.5 45.5 46.5
# Pz-Oz of the sample night held flat from 60 to 120 s: raised after flat_s = 10 s, cleared 5 s later
gen flat "$SAMPLE" "$TMP/flat.edf" 300 1 60 120
replay flat "$TMP/flat.edf"
check_alert alert_flat "$(one "$TMP/flat" .session.tsv)" "$(one "$TMP/flat" .summary.txt)" flat "Pz-Oz" 70.5 71.5 125.5 126.5
# 50 Hz on channel 1 of a 250-Hz recording from 20 to 40 s: raised and cleared 10 s after
gen obci "$TMP/mains.txt" 60 mains 0 20 40
replay mains "$TMP/mains.txt"
check_alert alert_mains "$(one "$TMP/mains" .session.tsv)" "$(one "$TMP/mains" .summary.txt)" mains "on Ch1 " 30.5 31.5 50.5 51.5

# ---- sleep: no onset for 10 min after lights-off; the longest REM period over a threshold set just
# above the second longest, both from the night's own labels (the headless epoch lines) ----
if [ -s "$TMP/night.out" ]; then
    awk '$1 == "epoch" {print $3}' "$TMP/night.out" > "$TMP/labels"
    onset=$(awk '$1 != "W" {print NR; exit}' "$TMP/labels")          # 1-based: the first sleep epoch ends at 30*onset
    # R runs: length start(0-based)
    awk '{ if ($1 == "R") { if (!n) s = NR - 1; n++ } else if (n) { print n, s; n = 0 } } END { if (n) print n, s }' \
        "$TMP/labels" | sort -rn > "$TMP/rruns"
    L1=$(awk 'NR == 1 {print $1}' "$TMP/rruns"); S1=$(awk 'NR == 1 {print $2}' "$TMP/rruns")
    L2=$(awk 'NR == 2 {print $1}' "$TMP/rruns")
    if [ -n "$L2" ] && [ "$L1" -gt "$L2" ]; then
        m=$(awk -v n="$L2" 'BEGIN { print (n + 1) / 2 }')               # minutes: L2 + 1 epochs
        replay sleep "$SAMPLE" --set alerts.no_onset_min=10 --set alerts.long_rem_min="$m"
        log=$(one "$TMP/sleep" .session.tsv); sum=$(one "$TMP/sleep" .summary.txt)
        check_alert alert_no_onset "$log" "$sum" no_onset "no sleep onset" 600 600 $((onset * 30)) $((onset * 30))
        check_alert "alert_long_rem (over $m min: only the $L1-epoch REM period)" "$log" "$sum" long_rem "REM period" \
            $(((S1 + L2 + 1) * 30)) $(((S1 + L2 + 1) * 30)) $(((S1 + L1 + 1) * 30)) $(((S1 + L1 + 1) * 30))
    else skip alert_long_rem "the two longest REM periods have the same length ($L1)"; fi
fi

# ---- data path: wait for the live sessions ----
wait
for s in stall drop unplug; do
    [ "$(cat "$TMP/$s.rc" 2>/dev/null)" = 0 ] || fail "alerts_live_$s" "record exited $(cat "$TMP/$s.rc" 2>/dev/null): $(tail -3 "$TMP/$s.err")"
done
# a stall of 8 s from 5 s on: no_samples (critical) after 5 s of silence (source time stops at 5 s),
# cleared when samples flow again (3 s later plus the reconnection); the side log of the recording has it
log=$(one "$TMP/stall" .session.tsv)
# (source time at the stall is 5 s less the time the recorder took to connect, which a loaded machine stretches)
check_alert alert_no_samples "$log" "$(one "$TMP/stall" .summary.txt)" no_samples "no samples" 2 6 2.5 9 wall
# headless and enhanced, the cleared critical alert keeps stimulation off until acknowledged: said once
n=$(grep -c 'stimulation stays off until alert 1 is acknowledged' "$TMP/stall.err")
[ "$n" = 1 ] && pass "alert_no_samples: headless, stderr says stimulation stays off until it is acknowledged" ||
    fail alert_no_samples_blocker "said $n times: $(grep -E 'Alert|stimulation' "$TMP/stall.err" | tr '\n' ' ')"
if grep -q 'no_samples' "$(one "$TMP/stall" .bdf.events.tsv)" 2>/dev/null; then pass "alert_no_samples: in the recording's annotations"
else fail alert_no_samples_recording "no no_samples in $(one "$TMP/stall" .bdf.events.tsv)"; fi
# one cause, one alert: the 8-s stall ends in a reconnect and a gap, neither of which is an alert of its own
n=$(alerts_of "$log" | awk -F'\t' '$2 == "raised"' | wc -l)
[ "$n" -eq 1 ] && pass "alert_no_samples: an 8-s stall is one alert (no reconnect, no loss)" ||
    fail alert_no_samples_one "$n alerts: $(alerts_of "$log" | awk -F'\t' '$2 == "raised" {printf "%s ", $4}')"
# 20 % of the packets dropped all along: one loss alert once a whole window (5 s) has been seen, never
# cleared
check_alert alert_loss "$(one "$TMP/drop" .session.tsv)" "$(one "$TMP/drop" .summary.txt)" loss "packet loss" 4.5 7 - -
# unplugged at 3 s for 2 s: one cause, one alert: reconnect, cleared after a minute without another; the
# frames lost meanwhile are the outage's, not packet loss (they gave a loss alert too)
log=$(one "$TMP/unplug" .session.tsv); sum=$(one "$TMP/unplug" .summary.txt)
check_alert alert_reconnect "$log" "$sum" reconnect "reconnected" 2.5 10 59.5 62 wall
n=$(alerts_of "$log" | awk -F'\t' '$2 == "raised"' | wc -l)
[ "$n" -eq 1 ] && pass "alert_reconnect: a 2-s unplug is one alert (no no_samples, no loss)" ||
    fail alert_reconnect_one "$n alerts: $(alerts_of "$log" | awk -F'\t' '$2 == "raised" {printf "%s ", $4}')"
# the summary tells the data path: samples lost to the unplug, one gap, one reconnect
if grep -Eq '^samples received [0-9]+, samples lost [1-9][0-9]* \([0-9.]+ %\), gaps 1 \([0-9.]+ s in all\), reconnects 1$' "$sum"
then pass "summary: data-path figures ($(grep '^samples received' "$sum"))"
else fail summary_datapath "$(grep -A1 '^## Data path' "$sum" | tail -1)"; fi
