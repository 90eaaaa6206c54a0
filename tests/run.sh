#!/bin/sh
# Runs every test: unit binaries in $B/tests, end-to-end scripts in tests/e2e, each fuzz target briefly.
# Every test prints PASS/FAIL/SKIP lines; the closing line counts them.
B=${B:-build}
cd "$(dirname "$0")/.." || exit 2
export DW_BIN="$PWD/$B/dreamwatch" DW_ROOT="$PWD" B
log=$(mktemp -d)/tests.log
: > "$log"
# Sanitizer builds: a report from any process (a unit test, or the real binary under an e2e script, even
# in tmux) stops it with exit 86/66 and goes to a file in $san; every file left there is a FAIL below.
# Harmless for the plain build. Suppressions for known-benign reports in system libraries: tests/*.supp.
san="$PWD/$B/sanitizer-logs"
rm -rf "$san" && mkdir -p "$san"
export ASAN_OPTIONS="halt_on_error=1:exitcode=86:detect_leaks=1:log_path=$san/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$san/ubsan${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1:log_path=$san/tsan:suppressions=$PWD/tests/tsan.supp${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
# What a test started and left running (it carries the test's DW_TEST_RUN): a FAIL line naming
# it, then ended, TERM then KILL. A live monitor whose terminal goes away goes on headless, so a
# script that only kills its tmux server leaves it recording; the scripts stop what they start and
# wait for it (tests/e2e/lib.sh tm_stop, stop_pids), this is the net under them.
reap() {  # name
    pids=
    for p in /proc/[0-9]*; do
        n=${p#/proc/}
        [ "$n" = $$ ] && continue
        { tr '\0' '\n' < "$p/environ"; } 2>/dev/null | grep -qx "DW_TEST_RUN=$DW_TEST_RUN" && pids="$pids $n"
    done
    [ -n "$pids" ] || return 0
    for p in $pids; do
        echo "FAIL $1: left running (ended by the runner): $p $(tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null)"
    done | tee -a "$log"
    kill -TERM $pids 2>/dev/null
    alive() { for q in $pids; do kill -0 "$q" 2>/dev/null && return 0; done; return 1; }
    i=0; while [ $i -lt 50 ] && alive; do sleep 0.1; i=$((i + 1)); done
    kill -KILL $pids 2>/dev/null
}
run() {  # name, command...
    name=$1; shift
    DW_TEST_RUN="test-$$-$name-$(date +%s%N)"; export DW_TEST_RUN
    out=$("$@" 2>&1); rc=$?
    reap "$name"
    printf '%s\n' "$out" >> "$log"
    printf '%s\n' "$out" | grep -E '^(PASS|FAIL|SKIP) '
    if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL '; then
        echo "FAIL $name: exited $rc"; echo "FAIL $name: exited $rc" >> "$log"
        printf '%s\n' "$out" | tail -20
    fi
}
run layers sh tests/layers.sh | tee "$log.layers"
for t in "$B"/tests/test_*; do
    [ -x "$t" ] || continue
    echo "== $(basename "$t")"
    run "$(basename "$t")" "$t"
done | tee "$log.units"
for t in tests/e2e/*.sh tests/valgrind.sh; do   # valgrind: about 2 min; skips itself on sanitizer builds
    [ -f "$t" ] || continue
    echo "== $(basename "$t")"
    run "$(basename "$t")" sh "$t"
done | tee "$log.e2e"
# SIGKILLs of `record` at random times (about 45 s for 10; `make soak` runs 100)
echo "== kill_record.sh (${SOAK_CHECK_N:-10} kills)" | tee -a "$log.e2e"
run kill_record.sh sh tests/soak/kill_record.sh "${SOAK_CHECK_N:-10}" | tee -a "$log.e2e"
if [ "${DW_NO_FUZZ:-}" = "" ] && command -v clang >/dev/null 2>&1; then
    for f in tests/fuzz/fuzz_*.c; do
        [ -f "$f" ] || continue
        n=$(basename "$f" .c)
        echo "== $n (${FUZZ_CHECK_SECONDS:-20} s)"
        if make -s B="$B" "build-fuzz/$n" >/dev/null 2>"$log.$n"; then
            seeds="tests/fuzz/seeds/${n#fuzz_}"
            mkdir -p "build-fuzz/corpus-$n"
            opts=$(sed -n 's|^/\* fuzz: \([^*]*\) \*/.*|\1|p' "$f")    # the target's own options, e.g. -max_len
            if ASAN_OPTIONS= UBSAN_OPTIONS= "build-fuzz/$n" $opts -print_final_stats=1 -max_total_time="${FUZZ_CHECK_SECONDS:-20}" "build-fuzz/corpus-$n" $( [ -d "$seeds" ] && echo "$seeds") >"$log.$n" 2>&1; then
                echo "PASS $n: $(grep -o 'stat::number_of_executed_units: [0-9]*' "$log.$n" | awk '{print $2}') runs, no crash"
            else
                echo "FAIL $n: crash, see below"; grep -A20 'ERROR' "$log.$n" | head -30
            fi
        else
            echo "FAIL $n: does not build"; tail -20 "$log.$n"
        fi
    done | tee "$log.fuzz"
fi
for r in "$san"/*; do
    [ -f "$r" ] || continue
    echo "FAIL sanitizer report $r: $(grep -m1 -E 'ERROR|WARNING|runtime error' "$r")"
done > "$log.san"
cat "$log.san"
cat "$log.layers" "$log.units" "$log.e2e" "$log.fuzz" "$log.san" 2>/dev/null > "$log.all"
p=$(grep -c '^PASS ' "$log.all"); f=$(grep -c '^FAIL ' "$log.all"); s=$(grep -c '^SKIP ' "$log.all")
echo
grep '^FAIL ' "$log.all" | sed 's/^/  /'
echo "$p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
