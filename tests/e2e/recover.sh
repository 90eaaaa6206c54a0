#!/bin/sh
# `dreamwatch recover` through the real binary: a BDF+ left as EDFlib leaves it after a crash (count -1,
# no annotations, a torn last record) plus its side log; then a live recording killed with SIGKILL.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

# consistent FILE: the header's record count equals the complete records on disk (prints the count)
consistent() {
    "$PY" - "$1" <<'EOF'
import sys
b = open(sys.argv[1], 'rb').read()
ns = int(b[252:256]); hdr = int(b[184:192]); count = int(b[236:244])
rec = sum(int(b[256 + ns * 216 + 8 * i:256 + ns * 216 + 8 * i + 8]) for i in range(ns)) * 3
print(count)
sys.exit(0 if hdr == 256 * (ns + 1) and (len(b) - hdr) % rec == 0 and count == (len(b) - hdr) // rec else 1)
EOF
}

# A BDF+ written here byte by byte: 2 EEG signals at 10 Hz and one annotation signal in 1-s records,
# 6 complete records, count still -1, 100 bytes of a 7th; the side log has 3 events, one multi-line.
"$PY" - "$TMP/night.bdf" <<'EOF'
import sys
def f(s, n): return s.ljust(n)[:n].encode('latin-1')
ns, spr, anb = 3, 10, 60 // 3
sigs = [('EEG Fpz-Cz', 'uV', -187500, 187500, spr), ('EEG Pz-Oz', 'uV', -187500, 187500, spr),
        ('BDF Annotations', '', -1, 1, anb)]
h = b'\xffBIOSEMI' + f('X X X X', 80) + f('Startdate 22-NOV-2026 X X X', 80) + f('22.11.26', 8) + \
    f('23.00.00', 8) + f(str(256 * (ns + 1)), 8) + f('BDF+C', 44) + f('-1', 8) + f('1', 8) + f(str(ns), 4)
cols = [(16, lambda s: s[0]), (80, lambda s: ''), (8, lambda s: s[1]), (8, lambda s: str(s[2])),
        (8, lambda s: str(s[3])), (8, lambda s: '-8388608'), (8, lambda s: '8388607'), (80, lambda s: ''),
        (8, lambda s: str(s[4])), (32, lambda s: '')]
for w, get in cols:
    h += b''.join(f(get(s), w) for s in sigs)
assert len(h) == 256 * (ns + 1)
out = bytearray(h)
for r in range(6):
    for c in range(2):
        for i in range(spr):
            v = (1000 * (c + 1) + 10 * r + i) & 0xffffff
            out += bytes((v & 255, v >> 8 & 255, v >> 16))
    tal = ('+%d\x14\x14\x00' % r).encode()
    out += tal + bytes(anb * 3 - len(tal))
out += bytes(100)
open(sys.argv[1], 'wb').write(out)
open(sys.argv[1] + '.events.tsv', 'w').write(
    'onset_s\tduration_s\ttext\n0.5000\t-\tlights off\n2.2500\t30.0000\tDream report: a long corridor,\\n'
    'then the sea\\tand a dog that spoke; far more than forty characters\n5.9000\t-\tGap 1.0 s\n')
EOF
chmod 600 "$TMP/night.bdf"
! consistent "$TMP/night.bdf" >/dev/null && pass "recover: the crashed file is inconsistent to begin with" \
    || fail "recover: the crashed file is inconsistent to begin with" "it is not"
out=$("$DW_BIN" recover "$TMP/night.bdf" 2>&1); rc=$?
[ $rc -eq 0 ] && echo "$out" | grep -q "record count -1 -> 6, 100 bytes of a torn record dropped" &&
    echo "$out" | grep -q "3 annotations merged from the side log (as [0-9]* BDF+ annotations: texts over 40 bytes" && pass "recover: says what it did" || fail "recover: says what it did" "rc=$rc: $out"
n=$(consistent "$TMP/night.bdf") && [ "$n" = 6 ] && pass "recover: header count == 6 complete records" \
    || fail "recover: header count == 6 complete records" "count $n"
# the file's annotations read by bdf_annotations.py (the TALs parsed there, pieces rejoined by the README's
# rule): every side-log text whole, once, and no annotation over 40 bytes or with a cut character
"$PY" "$DW_ROOT/tests/e2e/bdf_annotations.py" "$TMP/night.bdf" > "$TMP/ann.txt"; arc=$?
got=$(cut -f3 "$TMP/ann.txt" | sort | tr '\n' '|')
[ $arc -eq 0 ] && [ "$got" = "Dream report: a long corridor, then the sea and a dog that spoke; far more than forty characters|Gap 1.0 s|lights off|" ] &&
    pass "recover: side-log annotations in the file, the long one whole from its pieces" ||
    fail "recover: side-log annotations in the file, the long one whole from its pieces" "$got"
[ "$(stat -c %a "$TMP/night.bdf")" = 600 ] && pass "recover: still mode 0600" || fail "recover: still mode 0600" "$(stat -c %a "$TMP/night.bdf")"
"$PY" - "$TMP/night.bdf" <<'EOF' && pass "recover: samples copied exactly" || fail "recover: samples copied exactly" "differ"
import sys
b = open(sys.argv[1], 'rb').read()
ns = int(b[252:256]); hdr = int(b[184:192])
spr = [int(b[256 + ns * 216 + 8 * i:256 + ns * 216 + 8 * i + 8]) for i in range(ns)]
rec = sum(spr) * 3
for r in range(6):
    o = hdr + r * rec
    for c in range(2):
        for i in range(10):
            v = int.from_bytes(b[o:o + 3], 'little'); o += 3
            assert v == 1000 * (c + 1) + 10 * r + i, (r, c, i, v)
EOF
cp "$TMP/night.bdf" "$TMP/before.bdf"
out=$("$DW_BIN" recover "$TMP/night.bdf" 2>&1); rc=$?
[ $rc -eq 0 ] && echo "$out" | grep -q "nothing to do" && cmp -s "$TMP/night.bdf" "$TMP/before.bdf" &&
    pass "recover: idempotent (second run changes nothing)" || fail "recover: idempotent (second run changes nothing)" "rc=$rc: $out"
ls "$TMP" | grep -q 'tmp$' && fail "recover: no temp files left" "$(ls "$TMP")" || pass "recover: no temp files left"

printf 'not a recording\n' > "$TMP/junk.bdf"
out=$("$DW_BIN" recover "$TMP/junk.bdf" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q "junk.bdf" && pass "recover: refuses a non-BDF file, naming it" ||
    fail "recover: refuses a non-BDF file, naming it" "rc=$rc: $out"
"$DW_BIN" recover >/dev/null 2>&1; [ $? -eq 2 ] && pass "recover: usage error without a file" || fail "recover: usage error without a file" "rc"

# Another writer's EDF, cut short (no "dreamwatch" in its recording field, no side log): refused, unchanged
# (recover truncated it in place before; a first-use test). Score reads it as it is.
head -c 3000000 "$DW_ROOT/sample-data/sample-night.edf" > "$TMP/theirs.edf"
printf '%-80s' 'Startdate 15-MAR-2024 X X their_lab_amplifier' | dd of="$TMP/theirs.edf" bs=1 seek=88 conv=notrunc 2>/dev/null
before=$(md5sum < "$TMP/theirs.edf")
out=$("$DW_BIN" recover "$TMP/theirs.edf" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q "theirs.edf: not a dreamwatch recording" && [ "$(md5sum < "$TMP/theirs.edf")" = "$before" ] &&
    pass "recover: another writer's file is refused and left byte for byte" ||
    fail "recover: another writer's file is refused and left byte for byte" "rc=$rc: $out"

# A recorder killed in its first second leaves a 0-byte file (EDFlib writes the header with the first
# record) and a side log: "empty recording", and nothing is removed (it said "too short for a header").
: > "$TMP/empty.bdf"
printf 'onset_s\tduration_s\ttext\n0.0000\t-\tSession start, mode NATURAL\n' > "$TMP/empty.bdf.events.tsv"
out=$("$DW_BIN" recover "$TMP/empty.bdf" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q "empty.bdf: empty recording (0 bytes" && echo "$out" | grep -q "nothing removed" &&
    [ -f "$TMP/empty.bdf" ] && [ -s "$TMP/empty.bdf.events.tsv" ] &&
    pass "recover: a 0-byte recording is 'empty recording', both files kept ($out)" ||
    fail "recover: a 0-byte recording is 'empty recording', both files kept" "rc=$rc: $out"

# Live: an emulated Cyton recorded by `dreamwatch record`, killed with SIGKILL after ~12 s.
"$DW_BIN" emulate --link "$TMP/cyton" > "$TMP/emu.out" 2>&1 & emu=$!
i=0; while [ ! -e "$TMP/cyton" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -e "$TMP/cyton" ]; then
    skip "recover: live recording killed" "dreamwatch emulate gave no pty: $(head -c 200 "$TMP/emu.out")"
    kill $emu 2>/dev/null
    exit 0
fi
"$DW_BIN" record --serial "$TMP/cyton" --out "$TMP/rec" --subject e2e > "$TMP/rec.out" 2>&1 & rec=$!
i=0; f=""
while [ $i -lt 300 ]; do
    f=$(ls "$TMP"/rec/e2e-*.bdf 2>/dev/null | head -1)
    [ -n "$f" ] && [ "$(stat -c %s "$f")" -gt 100000 ] && break
    sleep 0.1; i=$((i + 1))
done
kill -KILL $rec 2>/dev/null; wait $rec 2>/dev/null
kill $emu 2>/dev/null; wait $emu 2>/dev/null
if [ -z "$f" ]; then
    skip "recover: live recording killed" "no recording appeared: $(head -c 300 "$TMP/rec.out")"
    exit 0
fi
n=$(consistent "$f") && [ "$n" -ge 5 ] && pass "live kill -9: header count == complete records ($n)" ||
    fail "live kill -9: header count == complete records" "count $n, size $(stat -c %s "$f")"
[ "$(stat -c %a "$f")" = 600 ] && [ "$(stat -c %a "$f.events.tsv")" = 600 ] && pass "live: recording and side log 0600" ||
    fail "live: recording and side log 0600" "$(stat -c %a "$f" "$f.events.tsv")"
out=$("$DW_BIN" recover "$f" 2>&1); rc=$?
[ $rc -eq 0 ] && consistent "$f" >/dev/null && pass "live kill -9: recover exit 0, consistent" ||
    fail "live kill -9: recover exit 0, consistent" "rc=$rc: $out"
# every event of the side log is in the file (first 20 bytes of its text)
missing=$(tail -n +2 "$f.events.tsv" | cut -f3 | cut -c1-20 | while IFS= read -r t; do
    grep -aqF -- "$t" "$f" || echo "$t"; done)
[ -z "$missing" ] && pass "live kill -9: every side-log event merged ($(($(wc -l < "$f.events.tsv") - 1)))" ||
    fail "live kill -9: every side-log event merged" "missing: $missing"
out=$("$DW_BIN" recover "$f" 2>&1)
echo "$out" | grep -q "nothing to do" && pass "live: second recover has nothing to do" || fail "live: second recover has nothing to do" "$out"
