#!/bin/sh
# `dreamwatch features`: the per-epoch table in the training set's columns, computed by the one pipeline:
# `score --features` on it stages exactly as `score` on the recording; unusable epochs have empty values;
# the output follows the output rules (temporary name, never over an input, --force to replace).
. "$(dirname "$0")/lib.sh"
NIGHT=$DW_ROOT/sample-data/sample-night.edf
[ -f "$NIGHT" ] || { fail "sample night" "missing $NIGHT (make builds it)"; exit 0; }
"$DW_BIN" features --out "$TMP/n.tsv" "$NIGHT" > "$TMP/out" 2> "$TMP/err" || { fail "features runs" "$(cat "$TMP/err")"; exit 0; }
head -1 "$TMP/n.tsv" | grep -qx "$(printf 'epoch\tonset_s\tstage\tfpz_delta\tfpz_theta\tfpz_alpha\tfpz_beta\tfpz_gamma\tfpz_var\tfpz_dvar\tpz_delta\tpz_theta\tpz_alpha\tpz_beta\tpz_gamma\tpz_var\tpz_dvar')" \
    && pass "features: the training set's columns" || fail "features: columns" "$(head -1 "$TMP/n.tsv")"
[ "$(stat -c %a "$TMP/n.tsv")" = 600 ] && pass "features: the table is private (0600)" || fail "features: 0600" "$(stat -c %a "$TMP/n.tsv")"
"$DW_BIN" score --out "$TMP/s" "$NIGHT" > /dev/null 2>&1
"$DW_BIN" score --features "$TMP/n.tsv" 2> /dev/null | awk 'NR > 1 { print $2 }' > "$TMP/a"
awk -F, 'NR > 1 { print $3 }' "$TMP/s.csv" > "$TMP/b"
[ -s "$TMP/a" ] && cmp -s "$TMP/a" "$TMP/b" && pass "score --features on the table = score on the recording ($(wc -l < "$TMP/a") epochs)" \
    || fail "score --features on the table = score on the recording" "$(paste "$TMP/a" "$TMP/b" | awk '$1 != $2' | head -3 | tr '\n' ';')"
awk -F'\t' 'NR > 1 && $3 !~ /^(W|N1|N2|N3|R)$/' "$TMP/n.tsv" | head -1 | grep -q . \
    && fail "features: stages from the recording's own annotations" "$(awk -F'\t' 'NR > 1 && $3 !~ /^(W|N1|N2|N3|R)$/' "$TMP/n.tsv" | head -1)" \
    || pass "features: stages from the recording's own annotations"
# An unusable epoch has empty values (missing to pandas and to score --features).
/usr/bin/python3 "$DW_ROOT/tests/e2e/make_inputs.py" cut "$NIGHT" "$TMP/c.edf" 7200 7500 2>/dev/null &&
/usr/bin/python3 "$DW_ROOT/tests/e2e/make_inputs.py" flat "$TMP/c.edf" "$TMP/f.edf" 300 0 120 300 2>/dev/null && {
    "$DW_BIN" features --out "$TMP/f.tsv" "$TMP/f.edf" > /dev/null 2>&1
    e=$(awk -F'\t' 'NR > 1 && $1 >= 5 && $4 != ""' "$TMP/f.tsv" | wc -l); g=$(awk -F'\t' 'NR > 1 && $1 < 4 && $4 != ""' "$TMP/f.tsv" | wc -l)
    [ "$e" -eq 0 ] && [ "$g" -eq 4 ] && pass "features: epochs over a flat frontal channel are written with empty values" \
        || fail "features: flat epochs empty" "$e flat epochs with values, $g good ones"
}
# The output rules.
err=$("$DW_BIN" features --out "$TMP/n.tsv" "$NIGHT" 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$err" | grep -q "already exists" && pass "features: an existing table is not replaced without --force" \
    || fail "features: existing table kept" "rc=$rc $err"
cp "$NIGHT" "$TMP/in.edf"; before=$(md5sum < "$TMP/in.edf")
"$DW_BIN" features --force --out "$TMP/in.edf" "$TMP/in.edf" > /dev/null 2>&1
[ "$(md5sum < "$TMP/in.edf")" = "$before" ] && pass "features: never writes over its input" || fail "features: input overwritten" "changed"
