#!/bin/sh
# Runs every benchmark program in $B/bench and every tests/bench/*.sh; each prints its own figures,
# as ratios against a reference measured in the same run.
B=${B:-build}
cd "$(dirname "$0")/.." || exit 2
export DW_BIN="$PWD/$B/dreamwatch" DW_ROOT="$PWD" B
for b in "$B"/bench/bench_*; do [ -x "$b" ] && { echo "== $(basename "$b")"; "$b" || exit 1; }; done
for b in tests/bench/*.sh; do [ -f "$b" ] && { echo "== $(basename "$b")"; sh "$b" || exit 1; }; done
exit 0
