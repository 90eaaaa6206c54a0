#!/bin/sh
# Nothing hangs it: every file argument of every command given a FIFO, a directory, /dev/zero and
# /dev/urandom ends within 2 s with an error naming the file (the serial port: at once, or on SIGTERM for a
# FIFO, which is a valid port), never blocks in open(), never reads /dev/zero without end. Plus: the
# configuration read once (so `--config <(...)` works), bounded lines, and file bytes in messages escaped.
. "$(dirname "$0")/lib.sh"
SAMPLE=$DW_ROOT/sample-data/sample-night.edf
if [ ! -x "$DW_BIN" ] || [ ! -f "$SAMPLE" ]; then skip inputs "no binary or sample night (run make)"; exit 0; fi
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data"
mkfifo "$TMP/fifo" && mkdir "$TMP/dir" || { fail inputs "cannot make a FIFO and a directory in $TMP"; exit 0; }

# ends NAME LIMIT_S PATTERN CMD...: CMD exits non-zero within LIMIT_S seconds and its stderr matches PATTERN
# (grep -E); a command still running after 5 s is killed (a FAIL: it hung).
ends() {
    name=$1 limit=$2 pat=$3; shift 3
    t0=$(date +%s.%N)
    timeout -s KILL 5 "$@" > "$TMP/out" 2> "$TMP/err" < /dev/null; rc=$?
    dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
    if [ $rc -ne 0 ] && [ $rc -ne 137 ] && awk -v d="$dt" -v l="$limit" 'BEGIN { exit !(d <= l) }' &&
       grep -Eq -- "$pat" "$TMP/err"; then
        pass "$name ($dt s: $(head -c 150 "$TMP/err"))"
    else
        fail "$name" "exit $rc after $dt s (limit $limit s): $(head -c 200 "$TMP/err")"
    fi
}

D=$DW_BIN
for kind in fifo dir zero urandom; do
    case $kind in
        fifo) X=$TMP/fifo; what="FIFO" ;;
        dir) X=$TMP/dir; what="directory" ;;
        zero) X=/dev/zero; what="character device" ;;
        urandom) X=/dev/urandom; what="character device" ;;
    esac
    pat="$X: (a $what|$what)"
    ends "inputs: --config $kind" 2 "$pat" $D --config "$X" --headless --exit-at-end --speed 0 --out "$TMP/o"
    ends "inputs: --model $kind" 2 "$pat" $D --model "$X" --headless --exit-at-end --speed 0 --out "$TMP/o"
    ends "inputs: --reference $kind" 2 "$pat" $D --reference "$X" --headless --exit-at-end --speed 0 --out "$TMP/o"
    ends "inputs: replay FILE $kind" 2 "$pat" $D --headless --exit-at-end --speed 0 --out "$TMP/o" "$X"
    ends "inputs: score FILE $kind" 2 "$pat" $D score --out "$TMP/s-$kind" "$X"
    ends "inputs: score --reference $kind" 2 "$pat" $D score --reference "$X" --out "$TMP/r-$kind" "$SAMPLE"
    ends "inputs: score --model $kind" 2 "$pat" $D score --model "$X" --out "$TMP/m-$kind" "$SAMPLE"
    ends "inputs: score --features $kind" 2 "$pat" $D score --features "$X"
    ends "inputs: recover $kind" 2 "$pat" $D recover "$X"
    ends "inputs: emulate --file $kind" 2 "$pat" $D emulate --file "$X" --link "$TMP/link-$kind" --seconds 1
    ends "inputs: --protocol $kind" 2 "$pat" $D --protocol "$X" --headless --exit-at-end --speed 0 --out "$TMP/o"
    ends "inputs: features FILE $kind" 2 "$pat" $D features --out "$TMP/f-$kind.tsv" "$X"
    ends "inputs: features --reference $kind" 2 "$pat" $D features --reference "$X" --out "$TMP/fr-$kind.tsv" \
        "$SAMPLE"
    # nights reads every *.summary.txt of a folder: one that is not a regular file is skipped, named
    mkdir -p "$TMP/nights-$kind" && ln -s "$X" "$TMP/nights-$kind/x.summary.txt"
    timeout -s KILL 5 $D nights "$TMP/nights-$kind" > /dev/null 2> "$TMP/err" < /dev/null; rc=$?
    [ $rc -ne 137 ] && grep -Eq "skipped .*x.summary.txt: (a $what|$what)" "$TMP/err" &&
        pass "inputs: nights with a summary that is a $kind ($(head -c 150 "$TMP/err"))" ||
        fail "inputs: nights with a summary that is a $kind" "exit $rc: $(head -c 200 "$TMP/err")"
    [ $kind = fifo ] && continue         # a FIFO is a valid port: below, it ends on SIGTERM
    ends "inputs: record --serial $kind" 2 "$X: (Is a directory|a character device that is not a terminal)" \
        $D record --serial "$X" --out "$TMP/rec"
    ends "inputs: check --serial $kind" 2 "$X: (Is a directory|a character device that is not a terminal)" \
        $D check --serial "$X"
done

# A FIFO as the port: nothing answers, so the first handshake would wait 4.2 s; SIGTERM ends it at once.
t0=$(date +%s.%N)
$D record --serial "$TMP/fifo" --out "$TMP/rec" > /dev/null 2> "$TMP/err" &
pid=$!
sleep 0.5
t1=$(date +%s.%N)
kill -TERM $pid
i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill -KILL $pid 2>/dev/null; wait $pid; rc=$?
dt=$(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
if awk -v d="$dt" 'BEGIN { exit !(d <= 1.0) }' && [ $rc -ne 0 ] && grep -q "interrupted" "$TMP/err"; then
    pass "inputs: record --serial FIFO ends on SIGTERM during the handshake ($dt s after it: $(cat "$TMP/err"))"
else fail "inputs: record --serial FIFO ends on SIGTERM during the handshake" "exit $rc $dt s after SIGTERM: $(cat "$TMP/err")"; fi

# The same for the pre-night check's first handshake
$D check --serial "$TMP/fifo" > /dev/null 2> "$TMP/err" &
pid=$!
sleep 0.5
t1=$(date +%s.%N)
kill -TERM $pid
i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill -KILL $pid 2>/dev/null; wait $pid; rc=$?
dt=$(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
if awk -v d="$dt" 'BEGIN { exit !(d <= 1.0) }' && [ $rc -eq 2 ] && grep -q "interrupted" "$TMP/err"; then
    pass "inputs: check --serial FIFO ends on SIGTERM during the handshake ($dt s after it: $(cat "$TMP/err"))"
else fail "inputs: check --serial FIFO ends on SIGTERM during the handshake" "exit $rc $dt s after SIGTERM: $(cat "$TMP/err")"; fi

# --config <(...): read once, so its settings count (it was opened twice and silently ignored)
out=$(bash -c "'$D' --config <(printf '[display]\nfps = 99\n') --print-config" 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "/dev/fd/[0-9]*:2: \[display\] fps: 99 is outside" &&
    pass "inputs: --config <(...) is read (its bad fps is refused, naming line 2)" ||
    fail "inputs: --config <(...) is read" "exit $rc: $out"
out=$(bash -c "'$D' --config <(printf '[recording]\nsubject = piped\n') --headless --exit-at-end --speed 0 \
      --out '$TMP/piped' '$SAMPLE'" 2>&1 >/dev/null); rc=$?
ls "$TMP/piped" 2>/dev/null | grep -q . && [ $rc -eq 0 ] &&
    pass "inputs: --config <(...) with good settings runs" || fail "inputs: --config <(...) with good settings runs" "exit $rc: $out"

# Bytes of a file in a message are escaped: a config with terminal escapes and a BEL in a key's name
printf '[display]\n\033]0;pwned\007\033[31mkey = 1\n' > "$TMP/esc.ini"
$D --config "$TMP/esc.ini" --print-config > /dev/null 2> "$TMP/err"
if ! grep -q "$(printf '\033')" "$TMP/err" && ! grep -q "$(printf '\007')" "$TMP/err" &&
   grep -qF 'esc.ini:2: [display] \x1b]0;pwned\x07\x1b[31mkey: unknown key' "$TMP/err"; then
    pass "inputs: escape bytes of a config are shown escaped, with the line ($(cat "$TMP/err"))"
else fail "inputs: escape bytes of a config are shown escaped" "$(od -c "$TMP/err" | head -3)"; fi
# a NUL inside a value cut it silently; now it is named
printf '[recording]\nsubject = ab\000cd\n' > "$TMP/nul.ini"
$D --config "$TMP/nul.ini" --print-config > /dev/null 2> "$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q "nul.ini:2: NUL byte" "$TMP/err" && pass "inputs: a NUL in a config value is named by line" ||
    fail "inputs: a NUL in a config value is named by line" "exit $rc: $(cat "$TMP/err")"
# a binary file as the config (the start of the program itself): refused on its first line, nothing raw echoed
head -c 3000 "$DW_BIN" > "$TMP/bin.ini"
$D --config "$TMP/bin.ini" --print-config > /dev/null 2> "$TMP/err"; rc=$?
[ $rc -eq 2 ] && [ "$(tr -d '[:print:]\n' < "$TMP/err" | wc -c)" -eq 0 ] && grep -q ":1: " "$TMP/err" &&
    pass "inputs: a binary config is refused with printable text only ($(cat "$TMP/err"))" ||
    fail "inputs: a binary config is refused with printable text only" "exit $rc: $(od -c "$TMP/err" | head -3)"

# Bounded lines: a 1 MB feature table with no newline is refused at 64 KB, naming the line
head -c 1048576 /dev/zero | tr '\000' 'a' > "$TMP/long.tsv"
ends "inputs: score --features with a 1-MB line" 2 "long.tsv:1: header line longer than 65536 bytes" \
    $D score --features "$TMP/long.tsv"
# ... and an OpenBCI text file with a 1-MB line after a minute of samples: refused naming that line (the
# open-time pass ended there, so reading stopped at the last sample before it as at an SD card's tail)
if /usr/bin/python3 tests/e2e/make_inputs.py obci "$TMP/g.txt" 60 rail 0 100 101 2> "$TMP/err"; then
    n=$(($(wc -l < "$TMP/g.txt") + 1))
    { cat "$TMP/g.txt"; head -c 1048576 /dev/zero | tr '\000' 'a'; echo; tail -n 5 "$TMP/g.txt"; } > "$TMP/glong.txt"
    ends "inputs: an OpenBCI file with a 1-MB line" 4 "glong.txt:$n: line longer than 65536 bytes" \
        $D score --out "$TMP/glong" "$TMP/glong.txt"
else fail "inputs: an OpenBCI file with a 1-MB line" "make_inputs.py: $(cat "$TMP/err")"; fi
