#!/bin/sh
# "Train a model for your montage", end to end on the real shared tables: a lab whose only staging channel
# is parietal (the Pz-Oz columns of four Sleep-EDF nights, two subjects, put in the fpz_* slot as
# `dreamwatch features` writes any montage) trains a small model with tools/train_stager.py, then stages a
# night of a third subject with `dreamwatch score --features --model`: the model loads, the probabilities
# are the trainer's own pipeline's (tools/stager_lib.py), and agreement with the experts is real.
. "$(dirname "$0")/lib.sh"

FEAT=$SHARED/sleep-edf/features
PY=/usr/bin/python3
if [ ! -d "$FEAT" ]; then skip "train a model for your montage" "no real feature tables at $FEAT"; exit 0; fi
if ! $PY -c 'import numpy, scipy, sklearn, pandas' 2>/dev/null; then
    skip "train a model for your montage" "$PY with numpy, scipy, sklearn and pandas not available"; exit 0
fi
if [ ! -x "$DW_BIN" ]; then fail "train a model for your montage" "no binary at $DW_BIN"; exit 0; fi

# the parietal channel as "the lab's channel": columns epoch onset_s stage pz_* renamed fpz_*
mkdir -p "$TMP/lab"
for n in SC4001E0:a1 SC4002E0:a2 SC4011E0:b1 SC4012E0:b2 SC4021E0:c1; do
    cut -f1-3,11-17 "$FEAT/${n%:*}.tsv" | sed '1s/pz_/fpz_/g' > "$TMP/lab/${n#*:}.tsv"
done
mv "$TMP/lab/c1.tsv" "$TMP/heldout.tsv"
# subjects from a file (the file names do not follow Sleep-EDF's pattern)
printf 'a1.tsv anna\na2.tsv anna\nb1.tsv ben\nb2.tsv ben\n' > "$TMP/subjects"

T=$DW_ROOT/tools/train_stager.py
nice $PY "$T" --cv --out "$TMP/lab.dwm" --subjects "$TMP/subjects" --nets 1 --hidden 8 --iters 30 --no-shifts \
    "$TMP/lab" > "$TMP/train.out" 2>&1; rc=$?
[ $rc -eq 0 ] && [ -f "$TMP/lab.dwm" ] && grep -q '^wrote ' "$TMP/train.out" \
    && pass "train_stager trains a model from the lab's tables" || fail "train_stager trains a model" "rc=$rc: $(tail -5 "$TMP/train.out")"
grep -q '== lab summary' "$TMP/train.out" && grep -q '^calibration: ' "$TMP/train.out" \
    && pass "train_stager prints leave-one-subject-out figures and the calibration" \
    || fail "train_stager prints LOSO figures" "$(head -20 "$TMP/train.out")"
[ "$(stat -c %a "$TMP/lab.dwm" 2>/dev/null)" = 600 ] && pass "the model file is created 0600" \
    || fail "the model file is created 0600" "mode $(stat -c %a "$TMP/lab.dwm" 2>/dev/null)"

"$DW_BIN" score --features "$TMP/heldout.tsv" --model "$TMP/lab.dwm" > "$TMP/out" 2> "$TMP/err"; rc=$?
[ $rc -eq 0 ] && grep -q 'lab model' "$TMP/err" && [ "$(wc -l < "$TMP/out")" -eq "$(wc -l < "$TMP/heldout.tsv")" ] \
    && pass "score --features --model stages a night of another subject" || fail "score --features --model" "rc=$rc: $(head -3 "$TMP/err")"
kappa=$(sed -n '/sleep period/,$p' "$TMP/err" | grep -o 'kappa [0-9.-]*' | head -1 | cut -d' ' -f2)
awk -v k="${kappa:-0}" 'BEGIN { exit !(k > 0.5) }' && pass "its agreement with the experts is real (kappa $kappa > 0.5)" \
    || fail "agreement of the lab's model" "kappa '$kappa'"
# the binary runs the model exactly as the trainer's pipeline does
$PY - "$DW_ROOT/tools" "$TMP/lab.dwm" "$TMP/heldout.tsv" "$TMP/out" > "$TMP/cmp" 2>&1 <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import stager_lib as L
m = L.read_model(sys.argv[2])
e, _, b = L.load_table(sys.argv[3], m['channels'])
_, filt = L.run_night(m, e, b)
out = np.loadtxt(sys.argv[4], skiprows=1, usecols=(0, 2, 3, 4, 5, 6))
assert (out[:, 0] == e).all(), 'epochs differ'
print('%.3g' % np.abs(out[:, 1:] - filt).max())
EOF
d=$(tail -1 "$TMP/cmp")
awk -v d="${d:-1}" 'BEGIN { exit !(d < 1e-5) }' && pass "dreamwatch and the trainer give the same probabilities (max diff $d)" \
    || fail "dreamwatch and the trainer agree" "$(tail -3 "$TMP/cmp")"

# it never replaces a file without --force, nor writes over an input; a pattern that names no subject is refused
nice $PY "$T" --out "$TMP/lab.dwm" --subjects "$TMP/subjects" --nets 1 --hidden 8 --iters 30 --no-shifts "$TMP/lab" \
    > "$TMP/again" 2>&1; rc=$?
[ $rc -ne 0 ] && grep -q 'lab.dwm exists' "$TMP/again" && pass "an existing model file is not replaced without --force" \
    || fail "an existing model file is not replaced" "rc=$rc: $(tail -2 "$TMP/again")"
$PY "$T" --out "$TMP/x.dwm" "$TMP/lab" > "$TMP/pat" 2>&1; rc=$?
[ $rc -ne 0 ] && grep -q 'a1.tsv: the subject pattern' "$TMP/pat" && [ ! -e "$TMP/x.dwm" ] \
    && pass "a file name the subject pattern does not match is named" || fail "subject pattern" "rc=$rc: $(tail -2 "$TMP/pat")"
exit 0
