#!/bin/sh
# `dreamwatch emulate --speed 20` into the real receiver (`dreamwatch record`, headless): every sample the
# board produced reaches the recording, in order, and nothing is counted lost that was not lost, even
# when the receiver stops for a second (SIGSTOP: the pty fills; at 20x the emulator waits for it). The
# old emulator skipped a third of the samples at 20x with its counter running on (the receiver could not
# see it: "samples lost 0"); the old receiver read 124 packets per 40-ms batch (3100 a second, 12.4x)
# and, after its own 1-s stop, counted 256 packets lost that had all arrived.
. "$(dirname "$0")/lib.sh"
[ -x "$DW_BIN" ] || { skip live_speed "no binary at $DW_BIN"; exit 0; }
PY=/usr/bin/python3
REC=
trap '[ -n "$REC" ] && kill -CONT $REC 2>/dev/null && kill -9 $REC 2>/dev/null
      [ -n "$EMU" ] && kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
. "$(dirname "$0")/emulator.inc"

start_emu --speed 20 --sent-log "$TMP/sent.log"
mkdir -p "$TMP/rec"
XDG_DATA_HOME="$TMP/xd" XDG_CONFIG_HOME="$TMP/xc" "$DW_BIN" record --serial "$TMP/tty" --out "$TMP/rec" \
    > "$TMP/rec.out" 2> "$TMP/rec.err" < /dev/null &
REC=$!
sleep 4; kill -STOP $REC; sleep 1; kill -CONT $REC; sleep 3
kill -TERM $REC; wait $REC; st=$?; REC=
stop_emu
bdf=$(ls "$TMP"/rec/*.bdf 2>/dev/null | head -1)
sum=$(ls "$TMP"/rec/*.summary.txt 2>/dev/null | head -1)
line=$(grep '^samples received' "$sum" 2>/dev/null)
said=$(grep 'sent [0-9]* samples of' "$TMP/emu.err")
# The sent log (index counter time counts...) against the recording's 24-bit samples: every index from
# 0 sent, the counter one up each time, the recording equal to the counts sent, in order (to one count:
# the recorder stores microvolts, rounded), over all but its last, padded data record.
res=$($PY - "$TMP/sent.log" "$bdf" "$DW_ROOT/tests/e2e/bdfsamples.py" <<'EOF' 2>&1
import sys
import numpy as np
src = open(sys.argv[3]).read().split('\ndef main')[0]
exec(src)
s = np.loadtxt(sys.argv[1], comments='#', ndmin=2)
idx, ctr = s[:, 0].astype(np.int64), s[:, 1].astype(np.int64)
missing = int(idx[-1] + 1 - len(idx))
holes = int(np.sum(np.diff(idx) != 1))
jumps = int(np.sum((np.diff(ctr) % 256) != 1))
x, rate = read_bdf(sys.argv[2])
c = s[:, 3:3 + x.shape[0]].T.astype(np.int64)
n = min(x.shape[1], c.shape[1])
bad = int(np.sum(np.any(np.abs(x[:, :n] - c[:, :n]) > 1, axis=0)))
first = int(np.argmax(np.any(np.abs(x[:, :n] - c[:, :n]) > 1, axis=0))) if bad else -1
print(len(idx), missing, holes, jumps, n, bad, first)
EOF
)
set -- $res
if [ $# -eq 7 ] && [ "$2" = 0 ] && [ "$3" = 0 ] && [ "$4" = 0 ]; then
    pass "speed20_every_sample_sent: $1 samples, indices 0..$(($1 - 1)) without a hole, the counter one up each time ($said)"
else fail speed20_every_sample_sent "sent log: $res; $said"; fi
if [ $# -eq 7 ] && [ "$6" = 0 ] && [ "$5" -ge $(($1 - 500)) ] && [ "$5" -ge 20000 ]; then
    pass "speed20_recording_holds_them: the recording's $5 samples are the first $5 sent, in order"
else fail speed20_recording_holds_them "sent log vs recording (sent, missing, holes, jumps, compared, differing, first): $res"; fi
if [ "$st" = 0 ] && echo "$line" | grep -q ', samples lost 0 (0.000 %), gaps 0 '; then
    pass "speed20_no_loss_invented: a receiver stopped 1 s counts nothing lost ($line)"
else fail speed20_no_loss_invented "exit $st; ${line:-no data-path line in ${sum:-no summary}}; $(tail -3 "$TMP/rec.err")"; fi
x=$(echo "$said" | sed -n 's/.*: \([0-9.]*\)x).*/\1/p')
if grep -q 'times what a Cyton.s 115200-baud link carries' "$TMP/emu.err" &&
   awk -v x="$x" 'BEGIN { exit !(x >= 15) }'; then
    pass "speed20_said: stderr names the link's limit, and the speed reached ${x}x with the 1-s stop"
else fail speed20_said "$(cat "$TMP/emu.err")"; fi

# The same stop at the board's own speed: the 1.5 s of packets wait in the pty and come at once, the
# counter continuous. The old receiver took the wait for a silence of the link, inferred a lost wrap of
# the counter (256 packets) and put a 1.024-s gap into the recording, shifting everything after it.
start_emu --sent-log "$TMP/sent1.log"
XDG_DATA_HOME="$TMP/xd" XDG_CONFIG_HOME="$TMP/xc" "$DW_BIN" record --serial "$TMP/tty" --out "$TMP/rec1" \
    > /dev/null 2> "$TMP/rec1.err" < /dev/null &
REC=$!
sleep 3; kill -STOP $REC; sleep 1.5; kill -CONT $REC; sleep 3
kill -TERM $REC; wait $REC; st=$?; REC=
stop_emu
line=$(grep -h '^samples received' "$TMP"/rec1/*.summary.txt 2>/dev/null)
gap=$(grep -h '	Gaps\? ' "$TMP"/rec1/*.bdf.events.tsv 2>/dev/null | cut -f3 | head -1)
if [ "$st" = 0 ] && echo "$line" | grep -q ', samples lost 0 (0.000 %), gaps 0 ' && [ -z "$gap" ]; then
    pass "speed1_late_reader_no_wrap_invented: a receiver stopped 1.5 s reads the queued packets as they are ($line)"
else fail speed1_late_reader_no_wrap_invented "exit $st; ${line:-no summary}; ${gap:-no gap annotation}"; fi

# A lossy link at the board's own speed (the dongle drops a fifth of the packets, as a weak radio link
# does): every gap ends a block, so one read holds several; the receiver keeps up with the board all the
# same. The old worker took one block a wake-up and fell behind (6 s of a 10-s stream read, the rest
# queued, and the line overflowing once the queue was full). Checked: received + lost, the samples the
# board produced until the receiver was stopped (the sent log's index at that moment), to 0.4 s.
start_emu --faults drop=20% --sent-log "$TMP/sent2.log"
XDG_DATA_HOME="$TMP/xd" XDG_CONFIG_HOME="$TMP/xc" "$DW_BIN" record --serial "$TMP/tty" --out "$TMP/rec2" \
    > /dev/null 2> "$TMP/rec2.err" < /dev/null &
REC=$!
sleep 10
mono=$($PY -c 'import time; print(time.monotonic())')
kill -TERM $REC; wait $REC; st=$?; REC=
stop_emu
line=$(grep -h '^samples received' "$TMP"/rec2/*.summary.txt 2>/dev/null)
got=$(echo "$line" | sed -n 's/^samples received \([0-9]*\), samples lost \([0-9]*\) .*/\1 \2/p')
made=$(awk -v m="$mono" '!/^#/ && $3 <= m { n = $1 + 1 } END { print n + 0 }' "$TMP/sent2.log")
set -- $got
if [ "$st" = 0 ] && [ $# -eq 2 ] && [ "$made" -gt 2000 ] && [ $(($1 + $2)) -ge $((made - 100)) ] &&
   [ $(($2 * 100)) -le $((($1 + $2) * 25)) ]; then
    pass "lossy_link_keeps_up: $(($1 + $2)) of the $made samples produced by the time it stopped were read or counted lost ($line)"
else fail lossy_link_keeps_up "exit $st; produced $made by the stop; ${line:-no summary}; $(tail -2 "$TMP/rec2.err")"; fi
