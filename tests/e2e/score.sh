#!/bin/sh
# Headless scoring through the real binary on the sample night: CSV and EDF+ outputs, statistics,
# agreement with the night's own annotations, several files, bad input.
. "$(dirname "$0")/lib.sh"
NIGHT=$DW_ROOT/sample-data/sample-night.edf
[ -f "$NIGHT" ] || { fail "sample night" "missing $NIGHT (make builds it)"; exit 0; }

"$DW_BIN" score --out "$TMP/s" "$NIGHT" > "$TMP/out" 2> "$TMP/err"; rc=$?
[ $rc -eq 0 ] && pass "score exits 0" || { fail "score exits 0" "rc=$rc $(cat "$TMP/err")"; exit 0; }
[ ! -s "$TMP/err" ] && pass "no progress bar when stderr is not a terminal" || fail "no progress bar when stderr is not a terminal" "$(head -c 200 "$TMP/err")"
head -1 "$TMP/s.csv" | grep -qx 'epoch,onset_s,stage,p_W,p_N1,p_N2,p_N3,p_R,spindles_per_min,so_per_min' && pass "CSV header" || fail "CSV header" "$(head -1 "$TMP/s.csv")"
n=$(($(wc -l < "$TMP/s.csv") - 1))
# 7.5 h = 900 epochs
[ "$n" -ge 890 ] && [ "$n" -le 960 ] && pass "CSV has one row per epoch ($n)" || fail "CSV has one row per epoch" "$n rows"
awk -F, 'NR>1 { s=$4+$5+$6+$7+$8; if (s < 0.999 || s > 1.001 || $2 != $1*30 || $3 !~ /^(W|N1|N2|N3|R|\?)$/) bad++ } END { exit bad>0 }' "$TMP/s.csv" \
    && pass "CSV rows: onset = 30 x epoch, stage names, probabilities sum to 1" || fail "CSV rows well-formed" "bad rows"
for k in TIB SPT TST SOL WASO SE SME 'REM latency' awakenings transitions; do
    grep -q "$k" "$TMP/out" || { fail "statistics printed" "no $k"; break; }
done && pass "sleep statistics printed"
grep -q "agreement with" "$TMP/out" && pass "agreement with the night's own annotations" || fail "agreement with the night's own annotations" "none printed"
kappa=$(grep -A1 "sleep period" "$TMP/out" | grep -o 'kappa [0-9.]*' | head -1 | cut -d' ' -f2)
echo "# sample night, sleep period +- 30 min: kappa $kappa"
awk "BEGIN{exit !($kappa > 0.5)}" && pass "staging agrees with the sample night's true hypnogram (kappa $kappa > 0.5)" \
    || fail "staging agrees with the sample night's true hypnogram" "kappa $kappa"
# The sample night's sleep period +- 30 min holds every epoch: its agreement is said once, not the
# same block twice (kappa printed twice before), on standard output and in the summary.
for f in "$TMP/out" "$TMP/s.summary.txt"; do
    nk=$(grep -c 'kappa' "$f")
    [ "$nk" = 1 ] && grep -q 'all scored epochs (the same as the sleep period +- 30 min, epochs 0-899):' "$f" &&
        pass "agreement said once when the sleep period holds every epoch ($(basename "$f"))" ||
        fail "agreement said once when the sleep period holds every epoch" "$f: kappa $nk times"
done
[ "$(stat -c %a "$TMP/s.csv")" = 600 ] && [ "$(stat -c %a "$TMP/s.edf")" = 600 ] && pass "outputs are mode 0600" || fail "outputs are mode 0600" "$(stat -c %a "$TMP/s.csv" "$TMP/s.edf")"

# Our EDF+ hypnogram reads back (as a reference) to exactly our CSV.
"$DW_BIN" score --reference "$TMP/s.edf" --out "$TMP/s2" "$NIGHT" > "$TMP/out2" 2>&1
grep -A1 "all scored epochs" "$TMP/out2" | grep -q "accuracy 1.000  kappa 1.000" && pass "EDF+ hypnogram round-trips through the annotation reader" \
    || fail "EDF+ hypnogram round-trips" "$(grep -A1 'all scored' "$TMP/out2")"
cmp -s "$TMP/s.csv" "$TMP/s2.csv" && pass "scoring is deterministic" || fail "scoring is deterministic" "CSV differs between runs"
/usr/bin/python3 - "$TMP/s.edf" "$TMP/s.csv" <<'PY' && pass "EDF+ hypnogram parses as EDF+ (independent reader)" || fail "EDF+ hypnogram parses" "python check failed"
import sys
raw = open(sys.argv[1], 'rb').read()
assert raw[:8] == b'0       ' and raw[192:197] == b'EDF+C', raw[192:200]
hdr = int(raw[184:192]); nrec = int(raw[236:244]); dur = float(raw[244:252]); ns = int(raw[252:256])
assert ns == 1 and raw[256:272].strip() == b'EDF Annotations' and dur == 30
spr = int(raw[256 + ns * 216: 256 + ns * 224]); body = raw[hdr:]
assert len(body) == nrec * spr * 2
stages = []
for r in range(nrec):
    rec = body[r * spr * 2:(r + 1) * spr * 2]
    for tal in rec.split(b'\x00'):
        parts = tal.split(b'\x14')
        if len(parts) > 2 and parts[1]:
            stages.append(parts[1].decode())
csv = [l.split(',')[2] for l in open(sys.argv[2]).read().split('\n')[1:] if l]
assert [s.replace('Sleep stage ', '') for s in stages] == csv, (stages[:5], csv[:5])
PY

# Several nights at once: one output per night.
cp "$NIGHT" "$TMP/a.edf"; cp "$NIGHT" "$TMP/b.edf"
"$DW_BIN" score --out "$TMP/multi" "$TMP/a.edf" "$TMP/b.edf" > "$TMP/out3" 2>&1
[ -f "$TMP/multi-a.csv" ] && [ -f "$TMP/multi-b.csv" ] && cmp -s "$TMP/multi-a.csv" "$TMP/multi-b.csv" \
    && pass "several nights, one output each" || fail "several nights" "$(cat "$TMP/out3" | tail -3)"

# One channel: the frontal-only model.
"$DW_BIN" score --parietal none --out "$TMP/one" "$NIGHT" > "$TMP/out4" 2>&1
grep -q "model eeg" "$TMP/out4" && [ -f "$TMP/one.csv" ] && pass "one-channel model chosen by the electrodes" || fail "one-channel model" "$(head -3 "$TMP/out4")"

# Bad input: a clear message naming the file, exit 1, nothing else written.
head -c 3000 "$NIGHT" > "$TMP/trunc.edf"
err=$("$DW_BIN" score --out "$TMP/t" "$TMP/trunc.edf" 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$err" | grep -q "trunc.edf" && pass "damaged file: clear error" || fail "damaged file: clear error" "rc=$rc $err"
err=$("$DW_BIN" score --frontal Cz "$NIGHT" 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$err" | grep -qi "Fpz" && pass "unknown channel lists the file's labels" || fail "unknown channel lists labels" "rc=$rc $err"
# a recording shorter than one epoch: said on stderr, no table of zeros for sleep statistics (the spindles
# of a snippet are still counted: detectors.sh scores a 15-s one)
/usr/bin/python3 tests/e2e/make_inputs.py cut "$NIGHT" "$TMP/short.edf" 0 15
out=$("$DW_BIN" score --out "$TMP/shortout" "$TMP/short.edf" 2>&1); rc=$?
[ $rc -eq 0 ] && echo "$out" | grep -q "short.edf: no whole epoch to stage (15.0 s of signal" && ! echo "$out" | grep -q "TIB 0.0" \
    && pass "a recording shorter than one epoch: said, no sleep statistics of zeros" || fail "shorter than one epoch" "rc=$rc $out"

# The summary file holds everything score printed about the night, line for line and in order (it lacked
# the densities and the agreement: the file was the same with and without --reference), from one writer.
same_report() {   # stdout summary: every line after the "hypnogram:" line, in order, in the summary
    sed -n '/^  hypnogram: /,$p' "$1" | tail -n +2 | sed 's/^ *//' > "$TMP/said"
    sed 's/^ *//' "$2" | awk 'NR == FNR { want[++n] = $0; next } k < n && $0 == want[k + 1] { k++ }
        END { exit !(n > 10 && k == n) }' "$TMP/said" -
}
same_report "$TMP/out" "$TMP/s.summary.txt" && grep -q '^## Agreement with the reference' "$TMP/s.summary.txt" &&
    grep -q 'kappa' "$TMP/s.summary.txt" && grep -q '^## Spindles and slow waves' "$TMP/s.summary.txt" &&
    grep -q 'spindles [0-9.]*/min in N2' "$TMP/s.summary.txt" &&
    pass "summary file: every line score printed about the night (statistics, densities, agreement)" ||
    fail "summary file: every line score printed" "$(diff "$TMP/said" "$TMP/s.summary.txt" | head -5)"
same_report "$TMP/out2" "$TMP/s2.summary.txt" && grep -q "agreement with $TMP/s.edf" "$TMP/s2.summary.txt" &&
    pass "summary file with --reference: the reference's agreement, as printed" ||
    fail "summary file with --reference" "$(grep -c kappa "$TMP/s2.summary.txt") kappa lines"
# the efficiency's base as computed: an unscored epoch is no time in bed (was "every epoch from the start")
! grep -q 'every epoch from the start' "$TMP/s.summary.txt" && pass "summary: no claim that TIB is every epoch" ||
    fail "summary: TIB wording" "$(grep 'every epoch' "$TMP/s.summary.txt")"
# nothing to stage: absent quantities are none, the hypnogram files are said to be empty
sed 's/^ *//' "$TMP/shortout.summary.txt" > "$TMP/short.sum" 2>/dev/null
echo "$out" | grep -q 'hypnogram: .*shortout.edf (empty: no whole epoch)' &&
    grep -q 'spindles none in N2, none in N3; slow waves none in N3, none in N2' "$TMP/short.sum" &&
    ! grep -Eq '(^| )0\.0 ?%|0\.0/min' "$TMP/short.sum" &&
    pass "no whole epoch: densities none, hypnogram files said to be empty" ||
    fail "no whole epoch: none, empty" "$(echo "$out" | grep hypnogram) / $(grep -E 'spindles|%' "$TMP/short.sum")"

# A numeric reference in R&K coding (a 5 for R, no 4) says the rule it was read by, as YASA's does.
awk -F, 'NR > 1 { print ($3 == "W" ? 0 : $3 == "N1" ? 1 : $3 == "N2" ? 2 : $3 == "N3" ? 2 : $3 == "R" ? 5 : "?") }' \
    "$TMP/s.csv" > "$TMP/rk.txt"
"$DW_BIN" score --out "$TMP/rk" --reference "$TMP/rk.txt" "$NIGHT" > "$TMP/out5" 2>&1
grep -q 'rk.txt: numeric stages read as R&K 0-5 (4 = N3, 5 = R)' "$TMP/out5" &&
    grep -q 'numeric stages read as R&K' "$TMP/rk.summary.txt" && pass "R&K-coded reference: the rule printed" ||
    fail "R&K-coded reference: the rule printed" "$(grep reference "$TMP/out5")"

# A recording with no known start (a Cyton SD-card log): the EDF+ hypnogram says so by the EDF+ convention
# ("Startdate X", 01.01.85 00.00.00), never the time score ran; read back it is laid from epoch 0.
if /usr/bin/python3 "$DW_ROOT/tests/e2e/make_formats.py" sd "$NIGHT" "$TMP/sd.TXT" 3600 300 2>/dev/null; then
    "$DW_BIN" score --out "$TMP/sd" "$TMP/sd.TXT" > "$TMP/out6" 2>&1
    hdr=$(dd if="$TMP/sd.edf" bs=1 skip=88 count=96 2>/dev/null)
    case "$hdr" in
    "Startdate X "*"01.01.8500.00.00") pass "unknown start: EDF+ Startdate X, 01.01.85 00.00.00" ;;
    *) fail "unknown start: EDF+ Startdate X" "header: $hdr" ;;
    esac
    "$DW_BIN" score --out "$TMP/sd2" --reference "$TMP/sd.edf" "$NIGHT" > "$TMP/out7" 2>&1; rc=$?
    [ $rc -eq 0 ] && grep -q "sd.edf (EDF+ annotations): no start time in the file: laid from" "$TMP/out7" &&
        pass "unknown start: read back as no start time (laid from epoch 0, not a 1985 night)" ||
        fail "unknown start: read back" "rc=$rc $(grep -i 'reference\|sd.edf' "$TMP/out7" | head -2)"
else
    skip "unknown start" "no numpy/scipy for tests/e2e/make_formats.py"
fi
