#!/bin/sh
# The end of the night tells the truth: what the real binary prints and writes when a session ends.
#  - a live `record` (an emulated Cyton+Daisy) that lost nothing: its summary does not say writing failed
#    (it did for every recording), it names the board as the README does (it said "cyton"), and the exit
#    lines name every file the night wrote, once each (the side log and the events table were missing);
#  - a replay with the example protocol: the exit lines name the sealed file and the tables too, memory
#    cues have no trough ("-", not 0.0), no "-0" anywhere, severities in words;
#  - `record --help` is record's own usage (it printed the monitor's);
#  - two `score` runs racing for one output name: the loser exits 2, the documented status for an output
#    that exists (it exited 1, a runtime failure), and the winner's files are whole.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/emulator.inc"
SAMPLE=$DW_ROOT/sample-data/sample-night.edf
[ -x "$DW_BIN" ] && [ -f "$SAMPLE" ] || { skip night_end "no binary or sample night (run make)"; exit 0; }
REC=
trap '[ -n "$REC" ] && stop_pids $REC; [ -n "$EMU" ] && kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data"

# named_once ERR DIR: every file in DIR is named exactly once by the exit lines in ERR, and they name
# nothing else; prints what is wrong
named_once() {
    for f in "$1"/*; do
        [ -e "$f" ] || continue
        n=$(grep -cF " $f (" "$2")
        [ "$n" = 1 ] || echo "$(basename "$f") named $n times;"
    done
    lines=$(sed -n '/the night.s files:/,/^  [0-9]* epoch/p' "$2" | grep -c '^  [a-z].* (.*)$')
    files=$(ls "$1" | wc -l)
    [ "$lines" = "$files" ] || echo "$lines lines for $files files;"
}

# ---- a live record that lost nothing ----
start_emu --daisy
"$DW_BIN" record --serial "$TMP/tty" --out "$TMP/live" --subject e2e > "$TMP/live.out" 2> "$TMP/live.err" &
REC=$!
sleep 4
kill -TERM $REC; wait $REC; st=$?; REC=
stop_emu
sum=$(ls "$TMP"/live/*.summary.txt 2>/dev/null | head -1)
line=$(grep '^recording: ' "$sum" 2>/dev/null)
[ $st -eq 0 ] && [ "$line" = "recording: 1 file, 0.0 s not recorded" ] && ! grep -q 'writing failed' "$sum" &&
    pass "night_end: a recording that lost nothing does not say writing failed ($line)" ||
    fail "night_end: a recording that lost nothing does not say writing failed" "exit $st; ${line:-no line in ${sum:-no summary}}"
grep -q '^live: Cyton+Daisy ' "$sum" 2>/dev/null && grep -q '^source	Cyton+Daisy ' "$sum" &&
    grep -q '^dreamwatch: Cyton+Daisy .*: staging' "$TMP/live.err" &&
    pass "night_end: a Cyton+Daisy is named so in the summary and on standard error" ||
    fail "night_end: the board named as the README does" "$(grep -h '^live:\|staging' "$sum" "$TMP/live.err" 2>/dev/null | tr '\n' ';')"
bad=$(named_once "$TMP/live" "$TMP/live.err")
[ -n "$sum" ] && [ -z "$bad" ] && grep -q '^  side log .*\.bdf\.events\.tsv (' "$TMP/live.err" &&
    grep -q '^  events table .*_events\.tsv (' "$TMP/live.err" &&
    pass "night_end: the exit lines name every file the live night wrote, once ($(ls "$TMP/live" | wc -l) files)" ||
    fail "night_end: the exit lines name every file the live night wrote, once" "$bad $(grep '^  ' "$TMP/live.err" | tr '\n' ';')"

# ---- a replay with the example protocol: sealed file, awakenings and events tables, memory cues ----
"$DW_BIN" --headless --speed 0 --enhanced --exit-at-end --protocol "$DW_ROOT/sample-data/protocol.example.ini" \
    --out "$TMP/proto" "$SAMPLE" > /dev/null 2> "$TMP/proto.err"; st=$?
bad=$(named_once "$TMP/proto" "$TMP/proto.err")
[ $st -eq 0 ] && [ -z "$bad" ] && grep -q '^  sealed .*\.sealed\.tsv (' "$TMP/proto.err" &&
    grep -q '^  awakenings .*\.awakenings\.tsv (' "$TMP/proto.err" &&
    pass "night_end: the exit lines name the sealed file and the tables of a protocol night, once each" ||
    fail "night_end: the exit lines name every file of a protocol night" "exit $st; $bad $(grep '^  ' "$TMP/proto.err" | tr '\n' ';')"
sum=$(ls "$TMP"/proto/*.summary.txt 2>/dev/null | head -1)
# the stimulation table: n kind t_s trough_s trough_uv phase_deg ...; a memory cue has no trough or phase
stim() { awk -F'\t' '/^## Stimulation/{a=1;next} /^## /{a=0} a' "$sum" 2>/dev/null; }
cues=$(stim | awk -F'\t' '$2 == "tmr_cue"' | wc -l)
badcue=$(stim | awk -F'\t' '$2 == "tmr_cue" && ($4 != "-" || $5 != "-" || $6 != "-")' | head -1)
[ "$cues" -gt 0 ] && [ -z "$badcue" ] &&
    pass "night_end: $cues memory cues in the summary with no trough or phase ('-')" ||
    fail "night_end: memory cues have no trough" "$cues cues; ${badcue:-no summary}"
# (every figure, table and plot; not the events' own texts, which quote the log)
minus0=$(sed '/^## Events/,/^## Figures/d' "$sum" 2>/dev/null | grep -nE '(^|[^0-9.])-0(\.0+)?([^0-9.]|$)' | head -3)
sev=$(awk -F'\t' '/^## Alerts/{a=1;next} /^## /{a=0} a && $1 ~ /^[0-9]+$/ {print $3}' "$sum" | sort -u | tr '\n' ' ')
[ -n "$sum" ] && [ -z "$minus0" ] && [ -n "$sev" ] && echo "$sev" | grep -Eqx '((info|warning|critical) )+' &&
    pass "night_end: no negative zero in the summary, severities in words ($sev)" ||
    fail "night_end: no negative zero, severities in words" "${minus0:-} severities: ${sev:-none}"

# ---- record --help ----
"$DW_BIN" record --help > "$TMP/rhelp" 2>&1; st=$?
[ $st -eq 0 ] && head -1 "$TMP/rhelp" | grep -q '^usage: dreamwatch record --serial PATH' &&
    grep -q -- '--bed ID' "$TMP/rhelp" && ! grep -q 'dreamwatch score' "$TMP/rhelp" && ! grep -q -- '--bedside' "$TMP/rhelp" &&
    pass "night_end: record --help is record's own usage" ||
    fail "night_end: record --help is record's own usage" "exit $st: $(head -2 "$TMP/rhelp" | tr '\n' ';')"

# ---- two score runs racing for one name ----
# A checks every output when it starts, then scores four nights before x; B starts after A's check and
# writes x's outputs first. A then finds x's name taken: the status of an output that exists, 2.
mkdir -p "$TMP/race"
for n in n1 n2 n3 n4 x; do ln -s "$SAMPLE" "$TMP/$n.edf"; done
"$DW_BIN" score --out "$TMP/race/" "$TMP/n1.edf" "$TMP/n2.edf" "$TMP/n3.edf" "$TMP/n4.edf" "$TMP/x.edf" \
    > "$TMP/a.out" 2> "$TMP/a.err" &
A=$!
sleep 0.3
"$DW_BIN" score --out "$TMP/race/x.hypnogram" "$TMP/x.edf" > "$TMP/b.out" 2> "$TMP/b.err"; stb=$?
wait $A; sta=$?
rows=$(grep -c '^[0-9]' "$TMP/race/x.hypnogram.csv" 2>/dev/null)
[ $stb -eq 0 ] && [ $sta -eq 2 ] && grep -q 'x.hypnogram.csv: .*\(already exists\|appeared meanwhile\)' "$TMP/a.err" &&
    [ "$rows" = 900 ] && [ -s "$TMP/race/n4.hypnogram.csv" ] && [ -z "$(ls -A "$TMP/race" | grep '^\.')" ] &&
    pass "night_end: score losing a race for its output name exits 2, the winner's 900 epochs whole" ||
    fail "night_end: score losing a race for its output name exits 2" "A exit $sta, B exit $stb, $rows rows: $(cat "$TMP/a.err" "$TMP/b.err" | tr '\n' ';')"
