#!/bin/sh
# Runs every benchmark program in $B/bench and every tests/bench/*.sh; each prints its own figures, as ratios
# against a reference measured in the same run, and names that reference. At the end, no process started by
# a benchmark may be left running: every one carries DW_BENCH_RUN in its environment (tmux servers, `script`,
# emulators and the binary under test inherit it); any still alive a few seconds after the last benchmark is
# listed, ended (they are ours) and the run fails.
B=${B:-build}
cd "$(dirname "$0")/.." || exit 2
export DW_BIN="$PWD/$B/dreamwatch" DW_ROOT="$PWD" B
DW_BENCH_RUN="bench-$$-$(date +%s%N)"
export DW_BENCH_RUN
rc=0
for b in "$B"/bench/bench_*; do [ -x "$b" ] && { echo "== $(basename "$b")"; "$b" || rc=1; }; done
for b in tests/bench/*.sh; do [ -f "$b" ] && { echo "== $(basename "$b")"; sh "$b" || rc=1; }; done

# Processes of this run still alive, but for this shell and what it runs to look (its descendants).
parent() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f2; }
mine() { q=$1; while [ -n "$q" ] && [ "$q" -gt 1 ]; do [ "$q" = $$ ] && return 0; q=$(parent "$q"); done; return 1; }
left() {
    for p in /proc/[0-9]*; do
        n=${p#/proc/}
        { tr '\0' '\n' < "$p/environ"; } 2>/dev/null | grep -qx "DW_BENCH_RUN=$DW_BENCH_RUN" || continue
        mine "$n" || echo "$n"
    done
}
echo "== leftover processes"
i=0; pids=$(left)
while [ -n "$pids" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); pids=$(left); done
if [ -n "$pids" ]; then
    echo "FAIL bench: $(echo $pids | wc -w) process(es) left behind by the benchmarks:"
    for p in $pids; do echo "  $p $(tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null)"; done
    kill -TERM $pids 2>/dev/null; sleep 1; kill -KILL $pids 2>/dev/null
    rc=1
else
    echo "none: every process a benchmark started has ended"
fi
exit $rc
