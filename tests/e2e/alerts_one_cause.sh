#!/bin/sh
# One cause, one alert: an OpenBCI recording whose reference electrode comes off rails all eight channels at
# once; replayed headless, it gives ONE railed alert that names every channel (not eight), raised and
# cleared once, in the session log and on standard error.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data"
[ -x "$DW_BIN" ] || { skip alerts_one_cause "no binary (run make)"; exit 0; }
$PY -c 'import numpy, scipy' 2>/dev/null || { skip alerts_one_cause "no Debian python3 with numpy/scipy"; exit 0; }
$PY "$(dirname "$0")/make_inputs.py" obci "$TMP/ref-off.txt" 60 rail-all 0 20 40
"$DW_BIN" --headless --speed 0 --out "$TMP/out" "$TMP/ref-off.txt" > /dev/null 2> "$TMP/err"
log=$(ls "$TMP"/out/*.session.tsv 2>/dev/null | head -n 1)
$PY "$(dirname "$0")/sessionlog.py" alerts "$log" > "$TMP/alerts" 2>/dev/null
raised=$(awk -F'\t' '$2 == "raised" && $4 == "railed"' "$TMP/alerts" | wc -l)
cleared=$(awk -F'\t' '$2 == "cleared" && $4 == "railed"' "$TMP/alerts" | wc -l)
text=$(awk -F'\t' '$2 == "raised" && $4 == "railed" { print $7; exit }' "$TMP/alerts")
names=0; for c in 1 2 3 4 5 6 7 8; do echo "$text" | grep -q "Ch$c" && names=$((names + 1)); done
if [ "$raised" -eq 1 ] && [ "$cleared" -eq 1 ] && [ $names -eq 8 ]; then
    pass "alerts_one_cause_one_alert ('$text')"
else fail alerts_one_cause_one_alert "$raised raised, $cleared cleared, $names channels named: '$text'"; fi
if grep -q "Alert [0-9]* raised \[warning\] railed: $text" "$TMP/err"; then pass alerts_one_cause_headless
else fail alerts_one_cause_headless "$(grep railed "$TMP/err" | head -3)"; fi
