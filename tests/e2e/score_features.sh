#!/bin/sh
# `dreamwatch score --features`: the real binary on the real Sleep-EDF feature tables (output format, one row
# per input row, agreement with the experts on the training nights), a one-channel table, several files,
# an explicit --model, missing values scored as gaps, and bad input refused with file and line.
. "$(dirname "$0")/lib.sh"

FEAT=$SHARED/sleep-edf/features
if [ ! -d "$FEAT" ]; then skip "score --features" "no real feature tables at $FEAT"; exit 0; fi
if [ ! -x "$DW_BIN" ]; then fail "score --features" "no binary at $DW_BIN"; exit 0; fi

t=$FEAT/SC4012E0.tsv
"$DW_BIN" score --features "$t" > "$TMP/out" 2> "$TMP/err"; rc=$?
[ $rc -eq 0 ] && pass "score --features exits 0" || fail "score --features exits 0" "rc=$rc: $(head -5 "$TMP/err")"
[ "$(head -1 "$TMP/out")" = "$(printf 'epoch\tstage\tp_W\tp_N1\tp_N2\tp_N3\tp_R')" ] \
    && pass "score --features header" || fail "score --features header" "$(head -1 "$TMP/out")"
# every row: the input's epoch, a stage name, five probabilities summing to 1
bad=$(tail -n +2 "$TMP/out" | awk -F'\t' 'NF != 7 || $2 !~ /^(W|N1|N2|N3|R)$/ { n++; next }
    { s = $3 + $4 + $5 + $6 + $7; if (s < 0.9999 || s > 1.0001) n++ } END { print n + 0 }')
[ "$bad" = 0 ] && pass "score --features rows well formed" || fail "score --features rows well formed" "$bad bad rows"
cut -f1 "$t" | tail -n +2 > "$TMP/in_epochs"; cut -f1 "$TMP/out" | tail -n +2 > "$TMP/out_epochs"
cmp -s "$TMP/in_epochs" "$TMP/out_epochs" && pass "one output row per input row, same epochs" \
    || fail "one output row per input row, same epochs" "$(wc -l < "$TMP/in_epochs") in, $(wc -l < "$TMP/out_epochs") out"
grep -q 'fpz_pz model' "$TMP/err" && pass "two-channel table uses the fpz_pz model" || fail "two-channel table uses the fpz_pz model" "$(head -3 "$TMP/err")"

# all 16 training nights at once: '# file' lines between files, pooled kappa in the scored windows is sane
"$DW_BIN" score --features "$FEAT"/SC4*.tsv > "$TMP/all" 2> "$TMP/allerr"; rc=$?
nf=$(ls "$FEAT"/SC4*.tsv | wc -l)
[ $rc -eq 0 ] && [ "$(grep -c '^# file ' "$TMP/all")" -eq "$nf" ] && pass "several files, one '# file' line each" \
    || fail "several files, one '# file' line each" "rc=$rc"
rows_in=$(for f in "$FEAT"/SC4*.tsv; do tail -n +2 "$f"; done | wc -l)
rows_out=$(grep -vc '^#' "$TMP/all"); rows_out=$((rows_out - 1))
[ "$rows_in" -eq "$rows_out" ] && pass "several files: every row scored" || fail "several files: every row scored" "$rows_in in, $rows_out out"
kappa=$(sed -n '/^all files pooled: sleep period/,$p' "$TMP/allerr" | grep -o 'kappa [0-9.]*' | head -1 | cut -d' ' -f2)
awk -v k="${kappa:-0}" 'BEGIN { exit !(k > 0.7) }' && pass "pooled kappa on the training nights is sane ($kappa)" \
    || fail "pooled kappa on the training nights is sane" "kappa '${kappa}'"

# one channel: no pz_* columns -> the eeg model; the stage column is optional
cut -f1,4-10 "$t" > "$TMP/fpz.tsv"
"$DW_BIN" score --features "$TMP/fpz.tsv" > "$TMP/out1" 2> "$TMP/err1"; rc=$?
[ $rc -eq 0 ] && grep -q 'eeg model' "$TMP/err1" && [ "$(wc -l < "$TMP/out1")" -eq "$(wc -l < "$t")" ] \
    && pass "one-channel table without stages" || fail "one-channel table without stages" "rc=$rc: $(head -3 "$TMP/err1")"
! grep -q kappa "$TMP/err1" && pass "no agreement without a stage column" || fail "no agreement without a stage column" "kappa printed"

# an explicit model file gives the same as the built-in one
"$DW_BIN" score --features "$t" --model "$DW_ROOT/src/staging/models/fpz_pz.dwm" > "$TMP/outm" 2>/dev/null
cmp -s "$TMP/out" "$TMP/outm" && pass "--model FILE equals the built-in model" || fail "--model FILE equals the built-in model" "outputs differ"

# missing values (empty as pandas writes NaN, NaN, NA): the row is an unusable epoch, scored by prediction,
# counted on stderr with its line; every other row keeps its label
awk -F'\t' 'BEGIN { OFS = "\t" } NR == 101 { $4 = "" } NR == 102 { $5 = "NaN" } NR == 103 { $12 = "NA" } { print }' "$t" > "$TMP/miss.tsv"
"$DW_BIN" score --features "$TMP/miss.tsv" > "$TMP/outn" 2> "$TMP/errn"; rc=$?
[ $rc -eq 0 ] && [ "$(wc -l < "$TMP/outn")" -eq "$(wc -l < "$t")" ] && grep -q "miss.tsv:101: 3 rows with a missing value" "$TMP/errn" \
    && pass "missing values: every row scored, counted with the first line" || fail "missing values: every row scored, counted with the first line" "rc=$rc: $(head -3 "$TMP/errn")"
same=$(paste "$TMP/out" "$TMP/outn" | awk -F'\t' 'NR > 1 && NR <= 100 && $2 != $9 { n++ } END { print n + 0 }')
[ "$same" = 0 ] && pass "missing values: the rows before them are unchanged" || fail "missing values: the rows before them are unchanged" "$same differ"

# bad input: error naming file and line, non-zero exit
{ head -3 "$t"; printf '17\t510\tW\t1\t2\tthree\t4\t5\t6\t7\t1\t2\t3\t4\t5\t6\t7\n'; } > "$TMP/bad.tsv"
"$DW_BIN" score --features "$TMP/bad.tsv" > /dev/null 2> "$TMP/errb"; rc=$?
[ $rc -ne 0 ] && grep -q "bad.tsv:4: column 6: 'three'" "$TMP/errb" && pass "bad line refused with file and line" \
    || fail "bad line refused with file and line" "rc=$rc: $(cat "$TMP/errb")"
printf 'dreamwatch-model 1\nname x\nbogus\n' > "$TMP/bad.dwm"
"$DW_BIN" score --features "$t" --model "$TMP/bad.dwm" > /dev/null 2> "$TMP/errm"; rc=$?
[ $rc -ne 0 ] && grep -q "bad.dwm:3: unknown keyword 'bogus'" "$TMP/errm" && pass "bad model file refused with file and line" \
    || fail "bad model file refused with file and line" "rc=$rc: $(cat "$TMP/errm")"
exit 0
