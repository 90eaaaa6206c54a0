#!/bin/sh
# The broker side of a ward, with a real mosquitto on 127.0.0.1:
#  1. message sizes over the sample night (replayed as fast as possible with --publish, every message
#     captured by mosquitto_sub), and the traffic a bed makes live, projected from them;
#  2. one live bed (the emulator streaming the sample night): bytes/s on the broker, and the CPU of
#     `record --publish` against `record` alone on the same stream in the same run (the reference);
#  3. the ward's CPU with 100 simulated beds (wardsim replaying the captured night for 100 bed ids),
#     against the broker's own CPU for the same stream.
. "$(dirname "$0")/../e2e/lib.sh"
for t in mosquitto mosquitto_sub tmux; do
    command -v $t >/dev/null 2>&1 || [ -x /usr/sbin/$t ] || { echo "broker bench: $t not installed, skipped"; exit 0; }
done
MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)
SECS=${BROKER_BENCH_SECONDS:-40}
NIGHT=$DW_ROOT/sample-data/sample-night.edf
SIM=$DW_ROOT/${B:-build}/bench/wardsim
ticks=$(getconf CLK_TCK)
PIDS=
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; for s in "$TMP"/tmux*.sock; do [ -S "$s" ] && tmux -S "$s" kill-server 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMP"' EXIT
export XDG_RUNTIME_DIR="$TMP/run"
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=mqtt://127.0.0.1:$PORT/dw
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n' $PORT > "$TMP/m.conf"
"$MOSQ" -c "$TMP/m.conf" > "$TMP/m.log" 2>&1 & BROKER=$!; PIDS="$PIDS $BROKER"
sleep 0.5
cpu() { awk '{print $14 + $15}' /proc/$1/stat; }

# ---- 1. the sample night's messages ----
mosquitto_sub -p $PORT -t 'dw/#' -v > "$TMP/night.txt" & SUB=$!; PIDS="$PIDS $SUB"
sleep 0.3
t0=$(date +%s.%N)
"$DW_BIN" --headless --speed 0 --exit-at-end --no-record --publish "$URL" --bed sample "$NIGHT" > /dev/null 2>&1
t1=$(date +%s.%N)
sleep 1; kill $SUB
/usr/bin/python3 - "$TMP/night.txt" "$NIGHT" <<'PY'
import sys, collections
n, size, mx = collections.Counter(), collections.Counter(), collections.Counter()
hours = int(open(sys.argv[2], 'rb').read(256)[236:244]) * float(open(sys.argv[2], 'rb').read(256)[244:252]) / 3600
for line in open(sys.argv[1], encoding='utf-8', errors='replace'):
    topic, _, doc = line.rstrip('\n').partition(' ')
    leaf = topic.rsplit('/', 1)[-1]
    n[leaf] += 1; size[leaf] += len(doc.encode()) + len(topic); mx[leaf] = max(mx[leaf], len(doc.encode()))
for leaf in sorted(n):
    print("night %-7s %5d messages, mean %5.0f bytes (topic included), largest payload %5d" % (leaf, n[leaf], size[leaf] / n[leaf], mx[leaf]))
epochs = n['epoch']
# a status carries the hypnogram so far (one character an epoch): over a night it holds epochs/2 on average
st = mx['status'] - epochs + epochs / 2 + len('dw/bed/sample/status')
# live: a status at every change (at least each epoch) and every 10 s; every epoch; every alert and event
live = (hours * 360 + epochs) * st + size['epoch'] + size['alert'] + size['event']
print("night: %.1f h, %d epochs; live a bed sends about %.0f bytes/s (%.1f MB a night), %.2f messages/s" %
      (hours, epochs, live / (hours * 3600), live / 1e6, (hours * 360 + epochs + n['epoch'] + n['alert'] + n['event']) / (hours * 3600)))
PY
awk -v a=$t0 -v b=$t1 'BEGIN { printf "night: replayed and published in %.1f s\n", b - a }'

# ---- 2. one live bed: CPU with and without --publish, bytes on the broker ----
. "$(dirname "$0")/../e2e/emulator.inc"
"$DW_BIN" emulate --link "$TMP/ttyA" --file "$NIGHT" --seconds 600 > /dev/null 2>&1 & EA=$!; PIDS="$PIDS $EA"
"$DW_BIN" emulate --link "$TMP/ttyB" --file "$NIGHT" --seconds 600 > /dev/null 2>&1 & EB=$!; PIDS="$PIDS $EB"
sleep 1
mosquitto_sub -p $PORT -t 'dw/bed/live/#' -v > "$TMP/live.txt" & SUB=$!; PIDS="$PIDS $SUB"
"$DW_BIN" record --serial "$TMP/ttyA" --out "$TMP/recA" --publish "$URL" --bed live > /dev/null 2>&1 & RA=$!; PIDS="$PIDS $RA"
"$DW_BIN" record --serial "$TMP/ttyB" --out "$TMP/recB" > /dev/null 2>&1 & RB=$!; PIDS="$PIDS $RB"
sleep 5
a0=$(cpu $RA); b0=$(cpu $RB); w0=$(date +%s%N); s0=$(wc -c < "$TMP/live.txt")
sleep "$SECS"
a1=$(cpu $RA); b1=$(cpu $RB); w1=$(date +%s%N); s1=$(wc -c < "$TMP/live.txt"); m=$(wc -l < "$TMP/live.txt")
kill -TERM $RA $RB; wait $RA $RB 2>/dev/null; kill $SUB $EA $EB
awk -v ca=$((a1 - a0)) -v cb=$((b1 - b0)) -v hz=$ticks -v ns=$((w1 - w0)) -v by=$((s1 - s0)) -v m=$m 'BEGIN {
    wall = ns / 1e9
    printf "live bed: %.0f bytes/s on the broker (%d messages in all, the first minutes of the night)\n", by / wall, m
    printf "live bed: record --publish %.2f %% of one core, record alone (reference, same run) %.2f %%: ratio %.2f\n",
           100 * ca / hz / wall, 100 * cb / hz / wall, (cb > 0 ? ca / cb : 0) }'

# ---- 3. the ward with 100 beds ----
tm_start 160 50 "$DW_BIN" ward --broker "$URL"
sleep 1
WARD=$(tmux -S "$TMUX_SOCK" display -p -t t '#{pane_pid}')
"$SIM" "$URL" "$TMP/night.txt" 100 1 3 > /dev/null          # every bed known before measuring
w0=$(cpu $WARD); k0=$(cpu $BROKER); t0=$(date +%s%N)
"$SIM" "$URL" "$TMP/night.txt" 100 1 "$SECS" > "$TMP/sim.out"
w1=$(cpu $WARD); k1=$(cpu $BROKER); t1=$(date +%s%N)
beds=$(tm_screen | head -1 | grep -o '[0-9]* beds')
awk -v w=$((w1 - w0)) -v k=$((k1 - k0)) -v hz=$ticks -v ns=$((t1 - t0)) -v beds="$beds" -v sim="$(cat "$TMP/sim.out")" 'BEGIN {
    wall = ns / 1e9
    printf "ward: %s on screen; %s\n", beds, sim
    printf "ward at 100 beds x 1 message/s (about 6x a live bed): %.2f %% of one core; the broker (reference, same stream) %.2f %%: ratio %.2f\n",
           100 * w / hz / wall, 100 * k / hz / wall, (k > 0 ? w / k : 0) }'
