#!/bin/sh
# Runs every test: unit binaries in $B/tests, end-to-end scripts in tests/e2e, each fuzz target briefly.
# Every test prints PASS/FAIL/SKIP lines; the closing line counts them.
B=${B:-build}
cd "$(dirname "$0")/.." || exit 2
export DW_BIN="$PWD/$B/dreamwatch" DW_ROOT="$PWD" B
log=$(mktemp -d)/tests.log
: > "$log"
run() {  # name, command...
    name=$1; shift
    out=$("$@" 2>&1); rc=$?
    printf '%s\n' "$out" >> "$log"
    printf '%s\n' "$out" | grep -E '^(PASS|FAIL|SKIP) '
    if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL '; then
        echo "FAIL $name: exited $rc"; echo "FAIL $name: exited $rc" >> "$log"
        printf '%s\n' "$out" | tail -20
    fi
}
for t in "$B"/tests/test_*; do
    [ -x "$t" ] || continue
    echo "== $(basename "$t")"
    run "$(basename "$t")" "$t"
done | tee "$log.units"
for t in tests/e2e/*.sh; do
    [ -f "$t" ] || continue
    echo "== $(basename "$t")"
    run "$(basename "$t")" sh "$t"
done | tee "$log.e2e"
if [ "${DW_NO_FUZZ:-}" = "" ] && command -v clang >/dev/null 2>&1; then
    for f in tests/fuzz/fuzz_*.c; do
        [ -f "$f" ] || continue
        n=$(basename "$f" .c)
        echo "== $n (${FUZZ_CHECK_SECONDS:-20} s)"
        if make -s B="$B" "build-fuzz/$n" >/dev/null 2>"$log.$n"; then
            seeds="tests/fuzz/seeds/${n#fuzz_}"
            mkdir -p "build-fuzz/corpus-$n"
            if "build-fuzz/$n" -print_final_stats=1 -max_total_time="${FUZZ_CHECK_SECONDS:-20}" "build-fuzz/corpus-$n" $( [ -d "$seeds" ] && echo "$seeds") >"$log.$n" 2>&1; then
                echo "PASS $n: $(grep -o 'stat::number_of_executed_units: [0-9]*' "$log.$n" | awk '{print $2}') runs, no crash"
            else
                echo "FAIL $n: crash, see below"; grep -A20 'ERROR' "$log.$n" | head -30
            fi
        else
            echo "FAIL $n: does not build"; tail -20 "$log.$n"
        fi
    done | tee "$log.fuzz"
fi
cat "$log.units" "$log.e2e" "$log.fuzz" 2>/dev/null > "$log.all"
p=$(grep -c '^PASS ' "$log.all"); f=$(grep -c '^FAIL ' "$log.all"); s=$(grep -c '^SKIP ' "$log.all")
echo
grep '^FAIL ' "$log.all" | sed 's/^/  /'
echo "$p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
