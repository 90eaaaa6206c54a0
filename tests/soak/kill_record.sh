#!/bin/sh
# Random SIGKILLs of `dreamwatch record` from the emulator, as a power cut or the OOM killer would: N runs
# (argument 1, default 10; `make soak` runs 100), each killed at a random time between 1.2 s and
# KILL_MAX_S (default 5) after its recording appeared. Every recording must open in MNE (python3-mne) as
# the kill left it, then `recover` must repair it in place (no extra space) and a second `recover` must find
# it sound, which means EDFlib opens it and every event of the side log is in it (0 annotations lost);
# at most 1.0 s of data may be lost (the wall time of the kill, less the recording's start time and its
# complete 1-s records).
. "$(dirname "$0")/../e2e/lib.sh"
N=${1:-10}
KILL_MAX_S=${KILL_MAX_S:-5}
PY=/usr/bin/python3
[ -x "$DW_BIN" ] || { skip kill_record "no binary at $DW_BIN"; exit 0; }
$PY -c 'import mne' 2>/dev/null || { skip kill_record "no python3-mne (tools/deps.sh check installs it)"; exit 0; }
EMU= REC=
trap '[ -n "$REC" ] && stop_pids $REC; [ -n "$EMU" ] && kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data"
"$DW_BIN" emulate --link "$TMP/tty" --seconds 100000 > "$TMP/emu.out" 2>&1 &
EMU=$!
i=0; while [ ! -L "$TMP/tty" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ -L "$TMP/tty" ] || { fail kill_record "the emulator gave no pty: $(cat "$TMP/emu.out")"; exit 0; }

: > "$TMP/kills.tsv"                     # run, file, wall time of the kill
k=1
while [ $k -le $N ]; do
    d=$TMP/run$k
    mkdir -p "$d"
    "$DW_BIN" record --serial "$TMP/tty" --out "$d" --subject kill > "$d/out" 2> "$d/err" &
    REC=$!
    i=0; f=
    while [ -z "$f" ] && [ $i -lt 200 ]; do sleep 0.02; f=$(ls "$d"/kill-*.bdf 2>/dev/null | head -1); i=$((i + 1)); done
    if [ -z "$f" ]; then
        fail kill_record "run $k: no recording appeared: $(cat "$d/err")"
        kill -9 $REC; wait $REC 2>/dev/null; REC=
        k=$((k + 1)); continue
    fi
    wait_s=$(awk -v s="$(od -An -N4 -tu4 /dev/urandom)" -v m="$KILL_MAX_S" 'BEGIN { printf "%.3f", 1.2 + (m - 1.2) * (s % 100000) / 100000 }')
    sleep "$wait_s"
    t=$(date +%s.%N)
    kill -KILL $REC
    { wait $REC; } 2>/dev/null
    REC=
    printf '%d\t%s\t%s\n' $k "$f" "$t" >> "$TMP/kills.tsv"
    k=$((k + 1))
done
kill $EMU; wait $EMU 2>/dev/null; EMU=

# Before recover: MNE reads every file; the data lost is the kill's wall time less the start and the
# records (the start from the header and the first time-keeping annotation, local time).
$PY - "$TMP/kills.tsv" > "$TMP/mne.tsv" 2> "$TMP/mne.err" <<'PYEOF'
import sys, time
import mne
for line in open(sys.argv[1]):
    run, path, t_kill = line.rstrip("\n").split("\t")
    try:
        raw = mne.io.read_raw_bdf(path, preload=False, verbose="error")
        b = open(path, "rb").read(1 << 16)
        d, m, y = (int(x) for x in b[168:176].decode().split("."))
        hh, mm, ss = (int(x) for x in b[176:184].decode().split("."))
        # the subsecond start is the first record's time-keeping TAL ("+0.5450000"; MNE's meas_date drops it)
        hdr, ns = int(b[184:192]), int(b[252:256])
        spr = [int(b[256 + ns * 216 + 8 * i:264 + ns * 216 + 8 * i]) for i in range(ns)]
        ann = [b[256 + 16 * i:272 + 16 * i].startswith(b"BDF Annotations") for i in range(ns)]
        off = hdr + sum(3 * spr[i] for i in range(ns) if i < ann.index(True))
        sub = float(b[off:off + 20].split(b"\x14")[0].decode())
        start = time.mktime((2000 + y, m, d, hh, mm, ss, 0, 0, -1)) + sub
        recs = raw.n_times / raw.info["sfreq"]
        print("%s\t%s\tok\t%.3f\t%.0f" % (run, path, float(t_kill) - start - recs, recs))
    except Exception as e:
        print("%s\t%s\tfail\t%s\t0" % (run, path, str(e).replace("\t", " ")[:200]))
PYEOF
n=$(wc -l < "$TMP/kills.tsv")
bad=$(awk -F'\t' '$3 != "ok"' "$TMP/mne.tsv")
[ -z "$bad" ] && [ "$(wc -l < "$TMP/mne.tsv")" -eq "$n" ] &&
    pass "kill_record: all $n recordings killed with SIGKILL open in MNE before recover" ||
    fail "kill_record: MNE before recover" "$(head -3 "$TMP/mne.err") $bad"
max=$(awk -F'\t' '$3 == "ok" && $4 > m { m = $4 } END { printf "%.3f", m + 0 }' "$TMP/mne.tsv")
mean=$(awk -F'\t' '$3 == "ok" { s += $4; n++ } END { printf "%.3f", n ? s / n : 0 }' "$TMP/mne.tsv")
secs=$(awk -F'\t' '$3 == "ok" { s += $5 } END { printf "%.0f", s }' "$TMP/mne.tsv")
awk -v m="$max" 'BEGIN { exit !(m <= 1.0) }' &&
    pass "kill_record: at most 1.0 s of data lost per kill (max $max s, mean $mean s; $secs s recorded)" ||
    fail "kill_record: at most 1.0 s of data lost per kill" "max $max s (mean $mean s): $(sort -t'	' -k4 -rn "$TMP/mne.tsv" | head -2)"

# recover: in place, then sound (EDFlib opens it; every side-log event present)
nbad=0; events=0; inplace=0
while IFS='	' read -r run f t; do
    out=$("$DW_BIN" recover "$f" 2>&1); rc=$?
    again=$("$DW_BIN" recover "$f" 2>&1); rc2=$?
    if [ $rc -ne 0 ] || [ $rc2 -ne 0 ] || ! echo "$again" | grep -q "events all present; nothing to do"; then
        nbad=$((nbad + 1)); echo "run $run: $out / $again" >> "$TMP/recover.bad"
    fi
    echo "$out" | grep -q "in place\|nothing to do" && inplace=$((inplace + 1))
    e=$(echo "$again" | sed -n 's/.*side log \([0-9]*\) events all present.*/\1/p')
    events=$((events + ${e:-0}))
done < "$TMP/kills.tsv"
[ $nbad -eq 0 ] && pass "kill_record: recover repairs all $n; EDFlib then opens each with every side-log event (0 of $events lost)" ||
    fail "kill_record: recover" "$nbad of $n: $(head -c 400 "$TMP/recover.bad")"
[ $inplace -eq $n ] && pass "kill_record: every repair in place (no copy, no extra space)" ||
    fail "kill_record: every repair in place" "$inplace of $n"
