#!/bin/sh
# Outputs never touch inputs (cases 08 and 10 of ../shared/cases): an output naming an input is refused
# before anything is written, nothing existing is replaced without --force, outputs appear whole under
# their final name, and two sessions started in the same second get their own log and summary.
. "$(dirname "$0")/lib.sh"
NIGHT=$DW_ROOT/sample-data/sample-night.edf
[ -f "$NIGHT" ] || { fail "sample night" "missing $NIGHT (make builds it)"; exit 0; }
sum() { md5sum "$1" | cut -d' ' -f1; }

# Case 08, the README's own example: `score --out night1 night1.edf`.
cp "$NIGHT" "$TMP/night1.edf"; before=$(sum "$TMP/night1.edf")
err=$(cd "$TMP" && "$DW_BIN" score --out night1 night1.edf 2>&1); rc=$?
[ "$(sum "$TMP/night1.edf")" = "$before" ] && pass "score --out night1 night1.edf leaves the input whole" \
    || fail "score --out night1 night1.edf leaves the input whole" "input changed ($(stat -c %s "$TMP/night1.edf") bytes)"
[ $rc -eq 2 ] && echo "$err" | grep -q "night1.edf: refusing to write over an input" \
    && pass "output naming the input: clear error, exit 2" || fail "output naming the input: clear error" "rc=$rc $err"
[ ! -e "$TMP/night1.csv" ] && [ -z "$(ls -A "$TMP" | grep '^\.')" ] \
    && pass "refused before anything was written" || fail "refused before anything was written" "$(ls -A "$TMP")"
# --force does not make it legal.
(cd "$TMP" && "$DW_BIN" score --force --out night1 night1.edf >/dev/null 2>&1)
[ "$(sum "$TMP/night1.edf")" = "$before" ] && pass "--force never replaces an input" || fail "--force never replaces an input" "changed"

# Case 08 with a reference: --out names the reference; through a symlink and a hard link too.
cp "$NIGHT" "$TMP/hyp.edf"; href=$(sum "$TMP/hyp.edf")
err=$(cd "$TMP" && "$DW_BIN" score night1.edf --reference hyp.edf --out hyp 2>&1); rc=$?
[ "$(sum "$TMP/hyp.edf")" = "$href" ] && [ $rc -ne 0 ] && echo "$err" | grep -q "hyp.edf: refusing" \
    && ! echo "$err" | grep -q "kappa 1.000" \
    && pass "--out naming the reference is refused, reference intact" || fail "--out naming the reference" "rc=$rc $err"
ln -s night1.edf "$TMP/alias.edf"; ln "$TMP/night1.edf" "$TMP/hard.edf"
for o in alias hard; do
    (cd "$TMP" && "$DW_BIN" score --force --out $o night1.edf >/dev/null 2>&1)
    [ "$(sum "$TMP/night1.edf")" = "$before" ] || { fail "an input reached through a $o link is refused" "changed"; break; }
done && pass "an input reached through a symbolic or hard link is refused"

# Nothing existing is replaced without --force; with --force it is, whole.
echo "mine" > "$TMP/prev.csv"
err=$("$DW_BIN" score --out "$TMP/prev" "$NIGHT" 2>&1); rc=$?
[ "$(cat "$TMP/prev.csv")" = mine ] && [ $rc -eq 2 ] && echo "$err" | grep -q "already exists" \
    && pass "an existing output is not replaced without --force" || fail "existing output kept" "rc=$rc $err"
"$DW_BIN" score --force --out "$TMP/prev" "$NIGHT" >/dev/null 2>&1
head -1 "$TMP/prev.csv" | grep -q '^epoch,' && [ "$(stat -c %a "$TMP/prev.csv")" = 600 ] \
    && pass "--force replaces it with the new output, mode 0600" || fail "--force replaces" "$(head -1 "$TMP/prev.csv")"
[ -z "$(ls -A "$TMP" | grep '^\.')" ] && pass "no temporary file left behind" || fail "no temporary file left behind" "$(ls -A "$TMP")"

# Case 10: two sessions in the same second never share a log or a summary.
export XDG_DATA_HOME="$TMP/data"
"$DW_BIN" --headless --speed 0 --exit-at-end --no-record "$NIGHT" >/dev/null 2>&1 &
"$DW_BIN" --headless --speed 0 --exit-at-end --no-record "$NIGHT" >/dev/null 2>&1 &
"$DW_BIN" --headless --speed 0 --exit-at-end --no-record "$NIGHT" >/dev/null 2>&1 &
wait
d="$TMP/data/dreamwatch/recordings"
nl=$(ls "$d"/*.session.tsv 2>/dev/null | wc -l); ns=$(ls "$d"/*.summary.txt 2>/dev/null | wc -l)
starts=$(cat "$d"/*.session.tsv | grep -c "Session start")
multi=$(grep -lc "Session start" "$d"/*.session.tsv | while read -r f; do [ "$(grep -c 'Session start' "$f")" -gt 1 ] && echo "$f"; done)
[ "$nl" -eq 3 ] && [ "$ns" -eq 3 ] && [ "$starts" -eq 3 ] && [ -z "$multi" ] \
    && pass "three sessions at once: three logs, three summaries, one session each" \
    || fail "three sessions at once" "logs $nl summaries $ns starts $starts; $(ls "$d")"

# record and recover: a file that already exists at any name they write (a recording, its side log, the
# session log and summary, recover's temporary copies) is left byte for byte; they write elsewhere.
. "$(dirname "$0")/emulator.inc"
plant() { printf 'an input that must survive: %s\n' "$1" > "$1"; md5sum "$1" >> "$TMP/planted.md5"; }
: > "$TMP/planted.md5"
R=$TMP/recs; mkdir -p "$R"
now=$(date +%s)
for s in $(seq -2 25); do
    stamp=$(date -d "@$((now + s))" +%Y%m%d-%H%M%S)
    for x in .bdf .bdf.events.tsv .session.tsv .summary.txt; do plant "$R/night-$stamp$x"; done
    plant "$R/night-$stamp-2.bdf.events.tsv"
done
start_emu
if [ -L "$TMP/tty" ]; then
    "$DW_BIN" record --serial "$TMP/tty" --out "$R" --subject night > "$TMP/rec.out" 2> "$TMP/rec.err" &
    rec=$!; sleep 6; kill -TERM $rec; wait $rec; st=$?
    stop_emu
    md5sum -c --quiet "$TMP/planted.md5" > "$TMP/md5.out" 2>&1 \
        && pass "record: files already at its names (recording, side log, session log, summary) unchanged" \
        || fail "record: files already at its names unchanged" "$(head -3 "$TMP/md5.out")"
    new=$(ls "$R"/night-*-3.bdf 2>/dev/null | head -1)
    [ $st -eq 0 ] && [ -n "$new" ] && [ -s "$new.events.tsv" ] && [ -s "${new%.bdf}.session.tsv" ] && [ -s "${new%.bdf}.summary.txt" ] \
        && pass "record: it wrote its recording, side log, session log and summary under the next free name" \
        || fail "record: wrote under a free name" "status $st, $(ls "$R" | grep -v -- '-2\.bdf\.events' | tail -5 | tr '\n' ' ')"
else
    skip "record: names taken" "dreamwatch emulate gave no pty: $(head -c 200 "$TMP/emu.err")"
fi

# an output in a folder that does not exist: refused before any work (no night staged, nothing printed)
out=$("$DW_BIN" score --out "$TMP/no/such/night1" "$TMP/night1.edf" 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "the folder $TMP/no/such does not exist" && ! echo "$out" | grep -q "epochs" \
    && pass "score into a missing folder: refused before any work, naming the folder" \
    || fail "score into a missing folder" "rc=$rc $(echo "$out" | head -3 | tr '\n' '|')"

# a reference of another night: refused before any work, no outputs left (a corrected re-run must not meet
# "already exists")
HYP=$SHARED/sleep-edf/hypnograms/SC4001EC-Hypnogram.edf
if [ -f "$HYP" ]; then
    out=$("$DW_BIN" score --out "$TMP/wrongref" --reference "$HYP" "$TMP/night1.edf" 2>&1); rc=$?
    [ $rc -eq 1 ] && echo "$out" | grep -q "another night, or the wrong file" && ! echo "$out" | grep -q "epochs (" &&
        [ -z "$(ls "$TMP" | grep '^wrongref')" ] \
        && pass "score with another night's reference: refused before any work, no outputs" \
        || fail "score with another night's reference" "rc=$rc $(ls "$TMP" | grep wrongref) $(echo "$out" | head -2)"
else
    echo "SKIP score with another night's reference: ../shared/data absent"
fi

# recover: a crashed copy (count -1, a torn record) beside files named as its temporary copies
if [ -n "$new" ]; then
    cp "$new" "$TMP/crash.bdf"; cp "$new.events.tsv" "$TMP/crash.bdf.events.tsv"
    printf -- '-1      ' | dd of="$TMP/crash.bdf" bs=1 seek=236 conv=notrunc 2>/dev/null
    printf 'torn' >> "$TMP/crash.bdf"
    : > "$TMP/planted.md5"
    for x in .recover.tmp .recover-count.tmp .tmp .recover .bak; do plant "$TMP/crash.bdf$x"; done
    out=$("$DW_BIN" recover "$TMP/crash.bdf" 2>&1); rc=$?
    md5sum -c --quiet "$TMP/planted.md5" > "$TMP/md5.out" 2>&1 && [ $rc -eq 0 ] && echo "$out" | grep -q "recovered" \
        && pass "recover: files named as its temporary copies are left byte for byte; it still repairs" \
        || fail "recover: files at its temporary names" "rc=$rc $out; $(head -3 "$TMP/md5.out")"
    ls "$TMP" | grep -q 'crash.bdf.recover-......$' && fail "recover: no temporary file left" "$(ls "$TMP")" \
        || pass "recover: no temporary file left"
fi

# --out naming a folder: the night's own name inside it, never hidden files DIR/.csv (a first-use test).
mkdir -p "$TMP/scored"
(cd "$TMP" && "$DW_BIN" score --out scored night1.edf >/dev/null 2>&1 && "$DW_BIN" score --out scored/ hard.edf >/dev/null 2>&1)
[ -f "$TMP/scored/night1.hypnogram.csv" ] && [ -f "$TMP/scored/hard.hypnogram.summary.txt" ] \
    && [ -z "$(ls -A "$TMP/scored" | grep '^\.')" ] && [ ! -e "$TMP/scored.csv" ] \
    && pass "score --out FOLDER and --out FOLDER/: NAME.hypnogram.* inside it" \
    || fail "score --out FOLDER" "$(ls -A "$TMP/scored" | tr '\n' ' ')"
err=$(cd "$TMP" && "$DW_BIN" score --out nosuch/ night1.edf 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$err" | grep -q "nosuch does not exist" && [ ! -e "$TMP/nosuch" ] \
    && pass "score --out MISSING/: refused, naming the folder" || fail "score --out MISSING/" "rc=$rc $err"
