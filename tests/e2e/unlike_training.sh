#!/bin/sh
# "Signal unlike the training data" (issue 13), through the real binary: a night the staging models were
# not trained for (the sample night as an amplifier with a 20-Hz low-pass records it: no gamma, little
# beta; and a real Sleep-EDF feature table with its beta and gamma cut alike) gets the note in `score`
# and `score --features`, naming the measure and the model's threshold, and the monitor raises the info
# alert unlike_training with its text; in-distribution nights (the sample night, a real night's sleep
# period) get neither. Through the one-channel model `eeg` (format 4, tempered); the two-channel `fpz_pz`
# (a distance, untempered) and short recordings: tests/e2e/score_short.sh.
. "$(dirname "$0")/lib.sh"
HERE=$(dirname "$0")
SAMPLE=$DW_ROOT/sample-data/sample-night.edf
PY=/usr/bin/python3
NOTE='signal unlike the training data of model'
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data"
if [ ! -f "$SAMPLE" ] || [ ! -x "$DW_BIN" ]; then skip unlike_training "no binary or sample night (run make)"; exit 0; fi
if ! $PY -c 'import numpy, scipy' 2>/dev/null; then skip unlike_training "no Debian python3 with numpy/scipy"; exit 0; fi
$PY "$HERE/make_unlike.py" "$SAMPLE" "$TMP/lowpass.edf" || { fail unlike_training "make_unlike.py failed"; exit 0; }

# ---- score ----
"$DW_BIN" score --parietal none --out "$TMP/in" "$SAMPLE" > "$TMP/in.out" 2>&1
! grep -q "$NOTE" "$TMP/in.out" && grep -q 'model eeg' "$TMP/in.out" \
    && pass "score: the sample night gets no note" || fail "score: the sample night gets no note" "$(grep note "$TMP/in.out")"
"$DW_BIN" score --parietal none --out "$TMP/lp" "$TMP/lowpass.edf" > "$TMP/lp.out" 2>&1
n=$(grep "$NOTE eeg: agreement may be low" "$TMP/lp.out")
echo "$n" | grep -q 'mean squared standardised classifier input' && echo "$n" | grep -Eq 'above [0-9.]+ in [0-9]+ of 900' \
    && pass "score: a 20-Hz low-passed night through eeg gets the note, naming the measure and threshold" \
    || fail "score: the low-passed night through eeg gets the note" "$(tail -3 "$TMP/lp.out")"

# ---- score --features: a real night's sleep period, as recorded and with beta and gamma cut ----
T=$SHARED/sleep-edf/features/SC4001E0.tsv
if [ -f "$T" ] && $PY -c 'import pandas' 2>/dev/null; then
    $PY - "$T" "$TMP" <<'PYEOF'
import sys, pandas as pd
d = pd.read_csv(sys.argv[1], sep='\t')
sl = d.index[d.stage != 'W']
d = d.loc[max(sl.min() - 60, 0):sl.max() + 60]          # the sleep period +- 30 min: lights-off to lights-on
d.to_csv(sys.argv[2] + '/night.tsv', sep='\t', index=False, float_format='%.9g')
# A 20-Hz low-pass: gamma gone, beta mostly; the variances lose that power (band width in Hz, and the
# first difference's gain 4 sin^2(pi f / 100) at the band's middle: 1.56 for beta, 3.6 for gamma).
for ch in ('fpz', 'pz'):
    lost_b, lost_g = d[ch + '_beta'] * 0.7 * 17, d[ch + '_gamma'] * 0.999 * 20
    d[ch + '_var'] = (d[ch + '_var'] - lost_b - lost_g).clip(lower=d[ch + '_var'] * 0.05)
    d[ch + '_dvar'] = (d[ch + '_dvar'] - 1.56 * lost_b - 3.6 * lost_g).clip(lower=d[ch + '_dvar'] * 0.05)
    d[ch + '_gamma'] = d[ch + '_gamma'] * 1e-6 + 1e-6     # an 8th-order 20-Hz low-pass: -100 dB and more
    d[ch + '_beta'] *= 0.3
d.to_csv(sys.argv[2] + '/cut.tsv', sep='\t', index=False, float_format='%.9g')
PYEOF
    for f in night cut; do
        cut -f1-10 "$TMP/$f.tsv" > "$TMP/$f-1.tsv"
        for v in "$f-1"; do
            "$DW_BIN" score --features "$TMP/$v.tsv" > /dev/null 2> "$TMP/$v.err"
            model=$(sed -n 's/.*: \([a-z_]*\) model$/\1/p' "$TMP/$v.err" | head -1)
            if [ $f = night ]; then
                ! grep -q "$NOTE" "$TMP/$v.err" && [ -n "$model" ] \
                    && pass "score --features: a real night's sleep period through $model gets no note" \
                    || fail "score --features: real night through $model" "$(grep note "$TMP/$v.err")"
            else
                grep -q "$v.tsv: note: $NOTE $model" "$TMP/$v.err" \
                    && pass "score --features: the same night with beta and gamma cut through $model gets the note" \
                    || fail "score --features: cut night through $model" "$(head -3 "$TMP/$v.err")"
            fi
        done
    done
else
    skip "score --features: unlike the training data" "no real feature tables at $T, or no pandas"
fi

# ---- the monitor's alert (headless replay: the session and its alert engine) ----
alert_lines() { $PY "$HERE/sessionlog.py" alerts "$(ls "$1"/*.session.tsv 2>/dev/null | head -n 1)" | grep unlike_training; }
"$DW_BIN" --headless --speed 0 --parietal none --out "$TMP/mon-in" "$SAMPLE" > /dev/null 2>&1
"$DW_BIN" --headless --speed 0 --parietal none --out "$TMP/mon-lp" "$TMP/lowpass.edf" > /dev/null 2>&1
[ -z "$(alert_lines "$TMP/mon-in")" ] && [ -n "$(ls "$TMP/mon-in"/*.session.tsv 2>/dev/null)" ] \
    && pass "monitor: the sample night raises no unlike_training alert" \
    || fail "monitor: the sample night raises no unlike_training alert" "$(alert_lines "$TMP/mon-in" | head -2)"
a=$(alert_lines "$TMP/mon-lp" | awk -F'\t' '$2 == "raised"' | head -1)
echo "$a" | awk -F'\t' '$3 == "info" && $7 == "signal unlike the training data: agreement may be low" { ok = 1 } END { exit !ok }' \
    && pass "monitor: the low-passed night raises the info alert 'signal unlike the training data: agreement may be low'" \
    || fail "monitor: unlike_training alert" "got '$a'"
exit 0
