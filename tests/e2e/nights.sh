#!/bin/sh
# `dreamwatch nights DIR`: a replayed night, a scored night and a live recorded night (emulated Cyton) leave
# summaries in DIR; the table has one row each in time order with the summaries' own figures (the scored
# night's total sleep is what score printed), session counts only where there was a session, a trend plot
# with the running debt, and a damaged summary is named (file and line) and skipped.
. tests/e2e/lib.sh
SAMPLE=$DW_ROOT/sample-data/sample-night.edf
if [ ! -f "$SAMPLE" ] || [ ! -x "$DW_BIN" ]; then skip nights "no binary or sample night (run make)"; exit 0; fi
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data"
trap '[ -n "$EMU" ] && kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
. tests/e2e/emulator.inc
D=$TMP/nights
"$DW_BIN" --headless --speed 0 --out "$D" "$SAMPLE" > /dev/null 2>&1
"$DW_BIN" score --out "$D/scored" "$SAMPLE" > "$TMP/score.out" 2>&1
start_emu
"$DW_BIN" record --serial "$TMP/tty" --out "$D" > /dev/null 2>&1 &
rec=$!
sleep 8; kill -TERM $rec; wait $rec
stop_emu
printf '# dreamwatch session summary\n\n## Figures\nstart\t2024-01-01T23:00:00\ntst_min\tlots\n' > "$D/bad.summary.txt"

"$DW_BIN" nights "$D" > "$TMP/out" 2> "$TMP/err"; st=$?
tst=$(grep -Eo 'TST [0-9.]+ min' "$TMP/score.out" | head -n 1 | awk '{ m = int($2 + 0.5); printf "%d:%02d", m / 60, m % 60 }')
rows=$(grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2} ' "$TMP/out")
scored=$(grep -E ' scored ' "$TMP/out" | head -n 1)
replay=$(grep -E ' replay ' "$TMP/out" | head -n 1)
live=$(grep -E ' live ' "$TMP/out" | head -n 1)
if [ $st -eq 0 ] && [ "$rows" -eq 3 ] && echo "$scored" | awk -v t="$tst" '$4 == t && $13 == "-" && $15 == "-" { ok = 1 } END { exit !ok }' &&
   echo "$replay" | awk -v t="$tst" '$4 == t && $13 ~ /^[0-9]+$/ && $15 ~ /^[0-9]+$/ { ok = 1 } END { exit !ok }' &&
   [ -n "$live" ]; then
    pass "nights_table (3 nights; scored and replayed TST $tst as score printed)"
else fail nights_table "exit $st, $rows rows: $(cat "$TMP/out" "$TMP/err" | head -8 | tr '\n' ';')"; fi
order=$(grep -E '^[0-9]{4}-' "$TMP/out" | awk '{ print $1 $2 }' | tr '\n' ' ')
if [ "$rows" -ge 2 ] && [ "$order" = "$(grep -E '^[0-9]{4}-' "$TMP/out" | awk '{ print $1 $2 }' | sort | tr '\n' ' ')" ]; then pass nights_in_time_order
else fail nights_in_time_order "$order"; fi
# the scored and the replayed sample night are one night (same start): the debt counts it once; the 8-s
# live recording is no night (under half the target in bed): shown, not counted (it added a whole night's
# debt before: a first-use test)
if [ "$(grep -c 'debt ' "$TMP/out")" -eq 1 ] && [ "$(grep -c 'the same night again, not counted' "$TMP/out")" -eq 1 ] &&
   [ "$(grep -c 'h in bed: too short to count as a night' "$TMP/out")" -eq 1 ] &&
   grep -q 'Total sleep per night' "$TMP/out"; then pass "nights_trend (a night read twice counts once in the debt, an 8-s recording not at all)"
else fail nights_trend "$(tail -4 "$TMP/out")"; fi
if grep -q "skipped $D/bad.summary.txt:5: figures: tst_min: bad value 'lots'" "$TMP/err"; then pass nights_bad_summary_named
else fail nights_bad_summary_named "$(cat "$TMP/err")"; fi
# the summaries state one base: no "-1.0 min" for a night without sleep, stage shares that add up to 100 %
live_sum=$(ls "$D"/anonymous-*.summary.txt 2>/dev/null | head -n 1)
rep_sum=$(ls "$D"/replay-*.summary.txt 2>/dev/null | head -n 1)
pct=$(grep -m1 'stages, % of TIB:' "$rep_sum" 2>/dev/null | grep -o '([0-9.]* %)' | tr -d '(%)' | awk '{ s += $1 } END { printf "%.1f", s }')
tpct=$(grep -m1 'sleep stages, % of TST:' "$rep_sum" 2>/dev/null | grep -o '[0-9.]* %' | awk '{ s += $1 } END { printf "%.1f", s }')
if grep -q 'SOL none' "$live_sum" && ! grep -q -- '-1\.0' "$live_sum" &&
   awk -v p="$pct" -v q="$tpct" 'BEGIN { exit !(p >= 99.8 && p <= 100.2 && q >= 99.8 && q <= 100.2) }'; then     # each share rounded to 0.1
    pass "nights_summary_one_base (no sleep printed as none; stage shares add to $pct % of TIB and $tpct % of TST)"
else fail nights_summary_one_base "live: $(grep -E 'SOL' "$live_sum" | head -2); stage shares add to $pct / $tpct"; fi
# score's summary file: the "% of TST" shares are of total sleep (they add up to 100), and each is its
# stage's minutes over the TST printed above them (they were shares of the time in bed, labelled TST)
sc_sum="$D/scored.summary.txt"
chk=$(awk '/^TIB / { for (i = 1; i < NF; i++) if ($i == "TST") tst = $(i + 1) }
  /^stages, % of TIB:/ { for (i = 5; i + 1 <= NF; i += 5) m[$i] = $(i + 1) }
  /^sleep stages, % of TST:/ { for (i = 6; i + 1 <= NF; i += 3) { n++; s += $(i + 1)
      if (tst > 0 && (m[$i] / tst * 100 - $(i + 1) > 0.06 || $(i + 1) - m[$i] / tst * 100 > 0.06)) bad = bad " " $i } }
  END { printf "%d %.1f %s", n, s, bad }' "$sc_sum" 2>/dev/null)
if echo "$chk" | awk '{ exit !($1 == 4 && $2 >= 99.8 && $2 <= 100.2 && NF == 2) }'; then
    pass "nights_score_summary_tst_shares (4 stages, adding to $(echo "$chk" | cut -d' ' -f2) % of TST)"
else fail nights_score_summary_tst_shares "stages, sum, wrong: $chk; $(grep 'of TST' "$sc_sum" 2>/dev/null | tr '\n' '|')"; fi
"$DW_BIN" nights "$TMP/none" > /dev/null 2> "$TMP/err2"; st=$?
if [ $st -eq 1 ] && grep -q "$TMP/none" "$TMP/err2"; then pass nights_missing_dir; else fail nights_missing_dir "exit $st"; fi
