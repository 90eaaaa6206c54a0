#!/bin/sh
# CPU cost of a live night: `dreamwatch record` (serial parsing, resampling, staging, session, alerts and
# the crash-safe BDF+ recording all on) against the emulator streaming the sample night, 8 channels at
# 250 Hz and 16 at 125 Hz. Reported as a share of one core and as CPU seconds per hour of streaming;
# the reference is the wall clock of the same run. Target: under 1 % of one core.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/emulator.inc"
SECS=${LIVE_BENCH_SECONDS:-40}
NIGHT=$DW_ROOT/sample-data/sample-night.edf
ticks=$(getconf CLK_TCK)
for board in cyton daisy; do
    opt=""; [ $board = daisy ] && opt="--daisy"
    start_emu $opt --file "$NIGHT"
    "$DW_BIN" record --serial "$TMP/tty" --board $board --out "$TMP/rec-$board" > "$TMP/rec.out" 2> "$TMP/rec.err" &
    rec=$!
    sleep 5                                  # handshake and start-up, not counted
    c0=$(awk '{print $14 + $15}' /proc/$rec/stat); t0=$(date +%s%N)
    sleep "$SECS"
    c1=$(awk '{print $14 + $15}' /proc/$rec/stat); t1=$(date +%s%N)
    kill -TERM $rec; wait $rec
    stop_emu
    awk -v c=$((c1 - c0)) -v hz="$ticks" -v ns=$((t1 - t0)) -v b=$board 'BEGIN {
        cpu = c / hz; wall = ns / 1e9
        printf "live %s (%s): %.3f s CPU in %.1f s = %.2f %% of one core = %.0f s CPU per hour of streaming\n",
               b, b == "daisy" ? "16 ch at 125 Hz" : "8 ch at 250 Hz", cpu, wall, 100 * cpu / wall, 3600 * cpu / wall }'
    ls -la "$TMP/rec-$board"/*.bdf | awk '{print "  recorded " $5 " bytes: " $9}'
done
