#!/bin/sh
# A small disk, as root, on private tmpfs mounts (a mount namespace of our own, gone with the test):
#  - `record` with less than [recording] min_free_mb free raises the recording alert at once (there was
#    none, even with 296 KB free); the disk then fills (the alert says so) and when space frees the recording
#    resumes in a new file within 2 s (it waited 60 s);
#  - `recover` repairs a 1.55-MB recording on a file system with about 0.5 MB free (it needed a full copy), and a
#    recover killed in the middle of a rewrite leaves no copy behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/emulator.inc"
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "$DW_BIN" ] || { skip disk "no binary at $DW_BIN"; exit 0; }
[ "$(id -u)" = 0 ] || { skip disk "not root: a tmpfs needs mount"; exit 0; }
unshare -m --propagation private true 2>/dev/null || { skip disk "no private mount namespace here (unshare -m)"; exit 0; }
$PY -c 'import numpy' 2>/dev/null || { skip disk "no Debian python3 with numpy"; exit 0; }
trap '[ -n "$EMU" ] && kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data" DW_BIN TMP PY HERE
mkdir -p "$TMP/mnt" "$TMP/out"
now() { date +%s.%N; }

# ---- record on a 3-MB disk: low, then full, then room again ----
start_emu
unshare -m --propagation private sh -c '
    M=$TMP/mnt
    mount -t tmpfs -o size=3m,mode=0700 tmpfs "$M" || exit 3
    head -c 1600000 /dev/zero > "$M/filler1"                     # 1.5 MB left: under min_free_mb = 2
    "$DW_BIN" record --serial "$TMP/tty" --out "$M" --subject disk --set recording.min_free_mb=2 \
        > /dev/null 2> "$TMP/out/rec.err" &
    r=$!
    sleep 3
    date +%s.%N > "$TMP/out/t_full"
    head -c 3000000 /dev/zero > "$M/filler2" 2>/dev/null          # the disk is full
    sleep 4
    date +%s.%N > "$TMP/out/t_free"
    rm -f "$M/filler2"                                           # room again
    sleep 4
    kill -TERM $r; wait $r; echo $? > "$TMP/out/rec.rc"
    cp -p "$M"/disk-* "$TMP/out/" 2>/dev/null
    umount "$M"
'
stop_emu
log=$(ls "$TMP"/out/disk-*.session.tsv 2>/dev/null | head -1)
if [ -z "$log" ]; then
    fail "disk: record on a small disk" "no session log: $(cat "$TMP/out/rec.err" 2>/dev/null)"
else
    # the low-disk alert at the start: raised within 2 s of source time, critical, naming the free space
    first=$(awk -F'\t' '$3 == "alert" && $4 ~ /raised/ {print $1 "\t" $4; exit}' "$log")
    t=${first%%	*}
    echo "$first" | grep -q 'raised \[warning\] recording: low disk: 1\.[0-9] MB free (min_free_mb = 2)' &&
        awk -v t="$t" 'BEGIN { exit !(t <= 2) }' &&
        pass "disk: low disk raises the recording alert at once (t=$t s: ${first#*	})" ||
        fail "disk: low disk raises the recording alert at once" "first alert: ${first:-none}"
    # the full disk is an alert of its own, critical (the recording fails), cleared when it resumes
    full=$(awk -F'\t' '$3 == "alert" && $4 ~ /raised \[critical\] recording: .*disk full \(ENOSPC\)/ {print $4}' "$log")
    n=$(awk -F'\t' '$3 == "alert" && $4 ~ /raised/' "$log" | wc -l)
    id=$(echo "$full" | awk '{print $2}')
    [ "$n" -eq 2 ] && [ -n "$id" ] && grep -q "Alert $id cleared" "$log" &&
        pass "disk: the full disk raises a critical alert, cleared on resume (${full#Alert })" ||
        fail "disk: the full disk raises a critical alert, cleared on resume" "$n alerts raised: $(awk -F'\t' '$3 == "alert" {print $4}' "$log")"
    # resumed in a new file within 2 s of the space freeing: its "N s lost" is at most the time the disk was
    # full (from t_full, which is before the failure) plus 2 s
    full_s=$(awk -v a="$(cat "$TMP/out/t_full")" -v b="$(cat "$TMP/out/t_free")" 'BEGIN { printf "%.2f", b - a }')
    res=$(cat "$TMP"/out/disk-*.bdf.events.tsv | grep -o 'Recording resumed, [0-9.]* s lost' | head -1)
    lost=$(echo "$res" | grep -o '[0-9.]* s' | cut -d' ' -f1)
    [ -n "$lost" ] && awk -v l="$lost" -v f="$full_s" 'BEGIN { exit !(l <= f + 2 && l >= f - 1.5) }' &&
        pass "disk: resumes within 2 s of space freeing ($res; the disk was full for $full_s s)" ||
        fail "disk: resumes within 2 s of space freeing" "${res:-never resumed}; full for $full_s s"
    # the summary and the exit lines tell it: two files, and the time neither holds (they said nothing)
    sum=$(ls "$TMP"/out/disk-*.summary.txt 2>/dev/null | head -1)
    said=$(grep -o 'recording: 2 files, [0-9.]* s not recorded' "$sum" 2>/dev/null)
    nsaid=$(echo "$said" | grep -o '[0-9.]* s' | cut -d' ' -f1)
    nbdf=$(grep -c '\.bdf (' "$TMP/out/rec.err")
    [ -n "$nsaid" ] && [ -n "$lost" ] && awk -v a="$nsaid" -v b="$lost" 'BEGIN { exit !(a - b < 0.2 && b - a < 0.2) }' &&
        [ "$nbdf" = 2 ] &&
        pass "disk: the summary says '$said' and the exit lines name both files" ||
        fail "disk: the summary and exit lines tell the resume" "summary: ${said:-nothing}; annotation: ${lost:-none} s; $nbdf files named: $(grep bdf "$TMP/out/rec.err" | tr '\n' ' ')"
    # the summary says writing failed (a night that lost nothing does not: night_end.sh), and the exit
    # lines name every file the night wrote once: both recordings and both side logs, the tables
    grep -q '^recording: 2 files, .* not recorded (writing failed: see the alerts)$' "$sum" &&
        pass "disk: the summary says writing failed" || fail "disk: the summary says writing failed" "$(grep '^recording' "$sum")"
    bad=""
    for f in "$TMP"/out/disk-*; do
        n=$(grep -c "/$(basename "$f") (" "$TMP/out/rec.err"); [ "$n" = 1 ] || bad="$bad $(basename "$f") named $n times;"
    done
    [ -z "$bad" ] && grep -q '^  side log 2 ' "$TMP/out/rec.err" &&
        pass "disk: the exit lines name every file once ($(ls "$TMP"/out/disk-* | wc -l) files, both side logs)" ||
        fail "disk: the exit lines name every file once" "$bad $(grep '^  ' "$TMP/out/rec.err" | tr '\n' ';')"
    # the first file's side log holds only events within the file: nothing from while writing failed
    # (the full-disk alert went into it, past its end)
    first=$(ls "$TMP"/out/disk-*.bdf | head -1)
    end=$($PY -c 'import sys; h = open(sys.argv[1], "rb").read(256); print(int(h[236:244]) * float(h[244:252]))' "$first")
    past=$(awk -F'\t' -v e="$end" 'NR > 1 && $1 + ($2 == "-" ? 0 : $2) > e + 0.001' "$first.events.tsv")
    [ -n "$end" ] && [ -z "$past" ] &&
        pass "disk: the first file's side log holds only events within it (it ends at $end s)" ||
        fail "disk: the first file's side log holds only events within it" "ends at ${end:-?} s; beyond: $(echo "$past" | tr '\n' ';')"
    [ "$(cat "$TMP/out/rec.rc")" = 0 ] && pass "disk: record ends cleanly after it" || fail "disk: record ends cleanly" "exit $(cat "$TMP/out/rec.rc")"
fi

# ---- recover with about 0.5 MB free next to a 1.55-MB recording; a killed rewrite leaves nothing ----
unshare -m --propagation private sh -c '
    M=$TMP/mnt
    mount -t tmpfs -o size=2m,mode=0700 tmpfs "$M" || exit 3
    $PY "$HERE/make_inputs.py" crashed "$M/small.bdf" 240 200 || exit 4
    df -B1 --output=avail "$M" | tail -1 > "$TMP/out/avail"
    "$DW_BIN" recover "$M/small.bdf" > "$TMP/out/recover.out" 2>&1; echo $? > "$TMP/out/recover.rc"
    "$DW_BIN" recover "$M/small.bdf" > "$TMP/out/recover2.out" 2>&1
    ls -a "$M" > "$TMP/out/ls"
    umount "$M"
'
avail=$(cat "$TMP/out/avail" 2>/dev/null)
[ "$(cat "$TMP/out/recover.rc" 2>/dev/null)" = 0 ] && grep -q "200 annotations merged from the side log in place" "$TMP/out/recover.out" &&
    grep -q "nothing to do" "$TMP/out/recover2.out" &&
    pass "disk: recover repairs a 1.55-MB recording with $((avail / 1000)) KB free, in place" ||
    fail "disk: recover with little room" "$(cat "$TMP/out/recover.out" "$TMP/out/recover2.out" 2>/dev/null)"

# A recording whose events do not fit its annotation space needs the rewrite; killed in the middle, it
# leaves no copy (the copy is an unnamed O_TMPFILE) and the recording as it was or repaired.
$PY "$HERE/make_inputs.py" crashed "$TMP/big.bdf" 2000 60000 || fail "disk: make a big recording" "make_inputs"
"$DW_BIN" recover "$TMP/big.bdf" > "$TMP/kill.out" 2>&1 &
k=$!
sleep 0.3
kill -KILL $k 2>/dev/null; { wait $k; } 2>/dev/null
left=$(ls -a "$TMP" | grep '^\.\?big' | grep -vx 'big.bdf' | grep -vx 'big.bdf.events.tsv')
[ -z "$left" ] && pass "disk: a recover killed during its rewrite leaves no copy behind" ||
    fail "disk: a recover killed during its rewrite leaves no copy behind" "$(ls -la "$TMP" | grep big)"
"$DW_BIN" recover "$TMP/big.bdf" > "$TMP/big.out" 2>&1; st=$?
# (on a fast or idle machine the first run may finish its rewrite before the kill: then there is nothing to do)
[ $st -eq 0 ] && grep -Eq "by a rewrite|all present; nothing to do" "$TMP/big.out" &&
    pass "disk: run again, it completes ($(cut -c1-160 "$TMP/big.out"))" ||
    fail "disk: run again, it completes" "exit $st: $(cat "$TMP/big.out")"
