#!/bin/sh
# Nothing tricks it into writing where it should not (as root, who passes every permission check): symlinks
# planted at every name we create (the recording, its side log, the session log, the summary, score's
# outputs, the emulator's sent log; the stamp in a name is the current second, so links are planted for a
# range of seconds) are never followed: the file they point to keeps its bytes and its mode. And no file is
# ever opened by name for writing without O_EXCL (EDFlib re-opened the recording and recover's temporary
# copy by name after our exclusive create: a window in which the name could be swapped), checked on every
# open(2) the process makes, with strace.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/emulator.inc"
SAMPLE=$DW_ROOT/sample-data/sample-night.edf
if [ ! -x "$DW_BIN" ] || [ ! -f "$SAMPLE" ]; then skip symlinks "no binary or sample night (run make)"; exit 0; fi
[ "$(id -u)" = 0 ] || { skip symlinks "not root: root is who a planted symlink can fool"; exit 0; }
REC=
trap '[ -n "$REC" ] && stop_pids $REC; [ -n "$EMU" ] && kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data"

# The victim: a file root owns, readable by all, which health data must never reach.
VICTIM=$TMP/victim
printf 'VICTIM\n' > "$VICTIM"; chmod 644 "$VICTIM"
victim_ok() { [ "$(cat "$VICTIM")" = VICTIM ] && [ "$(stat -c %a "$VICTIM")" = 644 ]; }

# plant DIR PREFIX SUFFIX...: a symlink to the victim at PREFIX-STAMP[-k]SUFFIX for every second from 2 s ago
# to 40 s ahead, k = 1..3
plant() {
    d=$1 p=$2; shift 2
    now=$(date +%s)
    for s in $(seq $((now - 2)) $((now + 40))); do
        stamp=$(date -d "@$s" +%Y%m%d-%H%M%S)
        for k in "" -2 -3; do
            for suf in "$@"; do ln -sf "$VICTIM" "$d/$p-$stamp$k$suf"; done
        done
    done
}
links_intact() { [ "$(find "$1" -type l | wc -l)" -eq "$2" ] && ! find "$1" -type l ! -lname "$VICTIM" | grep -q .; }

# strace_excl NAME LOG DIR: every open(2) in LOG of a path under DIR that creates or truncates a file has
# O_EXCL (or is an unnamed O_TMPFILE); the open through /proc/self/fd of our own descriptor is no name.
strace_excl() {
    bad=$(grep -E 'open(at)?\(' "$2" | grep -F "\"$3/" | grep -E 'O_CREAT|O_TRUNC' | grep -v 'O_EXCL' | head -3)
    [ -z "$bad" ] && pass "$1" || fail "$1" "$bad"
}
HAVE_STRACE=$(command -v strace)
# LeakSanitizer cannot run under ptrace: a sanitizer build's leak check is off for the traced runs only
# (env execs strace, so a background strace keeps its own pid)
strace() { env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace "$@"; }

# ---- record: links planted at the recording, side-log, session-log and summary names ----
mkdir -p "$TMP/rec"
start_emu
plant "$TMP/rec" sym .bdf .bdf.events.tsv .session.tsv .summary.txt
n_links=$(find "$TMP/rec" -type l | wc -l)
if [ -n "$HAVE_STRACE" ]; then
    env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -qq -o "$TMP/rec.strace" \
        -e trace=open,openat "$DW_BIN" record --serial "$TMP/tty" --out "$TMP/rec" --subject sym \
        > /dev/null 2> "$TMP/rec.err" & REC=$!
else
    "$DW_BIN" record --serial "$TMP/tty" --out "$TMP/rec" --subject sym > /dev/null 2> "$TMP/rec.err" & REC=$!
fi
sleep 5
# strace does not pass SIGTERM on: it goes to dreamwatch itself
victim=$(pgrep -P $REC -f "record --serial" || echo $REC)
kill -TERM $victim; wait $REC; st=$?; REC=
stop_emu
bdf=$(find "$TMP/rec" -type f -name 'sym-*.bdf' | head -1)
check "symlinks: record still records (exit $st, into ${bdf##*/})" test $st -eq 0 -a -n "$bdf"
victim_ok && pass "symlinks: record: the victim keeps its bytes and mode 0644" ||
    fail "symlinks: record: the victim keeps its bytes and mode" "$(cat "$VICTIM" | head -c 80); $(stat -c %a "$VICTIM")"
links_intact "$TMP/rec" "$n_links" && pass "symlinks: record: every planted link left as it was ($n_links)" ||
    fail "symlinks: record: every planted link left as it was" "$(find "$TMP/rec" -type l | wc -l) of $n_links"
bad=$(find "$TMP/rec" -type f ! -perm 600 | head -3)
[ -z "$bad" ] && pass "symlinks: record: every file it made is a regular file, 0600" || fail "symlinks: record: 0600" "$bad"
if [ -n "$HAVE_STRACE" ]; then
    strace_excl "symlinks: record: EDFlib and everything else create files only exclusively (strace)" \
        "$TMP/rec.strace" "$TMP/rec"
else skip "symlinks: record: strace" "strace is not installed"; fi

# ---- a replay's session log and summary in the recordings folder ----
mkdir -p "$TMP/rep"
plant "$TMP/rep" replay-sample-night .session.tsv .summary.txt
n_links=$(find "$TMP/rep" -type l | wc -l)
"$DW_BIN" --headless --exit-at-end --speed 0 --out "$TMP/rep" "$SAMPLE" > /dev/null 2> "$TMP/rep.err"; st=$?
victim_ok && links_intact "$TMP/rep" "$n_links" &&
    pass "symlinks: replay: session log and summary never follow a planted link (exit $st)" ||
    fail "symlinks: replay: session log and summary never follow a planted link" "exit $st: $(cat "$TMP/rep.err")"

# ---- score: links at PREFIX.csv and PREFIX.edf; --force replaces the link itself, never its target ----
ln -s "$VICTIM" "$TMP/scored.csv"; ln -s "$VICTIM" "$TMP/scored.edf"
"$DW_BIN" score --out "$TMP/scored" "$SAMPLE" > /dev/null 2> "$TMP/score.err"; st=$?
[ $st -ne 0 ] && victim_ok && [ -L "$TMP/scored.csv" ] && grep -q "already exists" "$TMP/score.err" &&
    pass "symlinks: score: a link at an output name is refused without --force" ||
    fail "symlinks: score: a link at an output name is refused" "exit $st: $(cat "$TMP/score.err")"
if [ -n "$HAVE_STRACE" ]; then
    strace -f -qq -o "$TMP/score.strace" -e trace=open,openat "$DW_BIN" score --force --out "$TMP/scored" "$SAMPLE" \
        > /dev/null 2> "$TMP/score.err"; st=$?
else "$DW_BIN" score --force --out "$TMP/scored" "$SAMPLE" > /dev/null 2> "$TMP/score.err"; st=$?; fi
[ $st -eq 0 ] && victim_ok && [ -f "$TMP/scored.csv" ] && [ ! -L "$TMP/scored.csv" ] && [ ! -L "$TMP/scored.edf" ] &&
    pass "symlinks: score --force: the links are replaced by the outputs, the victim untouched" ||
    fail "symlinks: score --force" "exit $st: $(cat "$TMP/score.err")"
[ -n "$HAVE_STRACE" ] && strace_excl "symlinks: score: files created only exclusively (strace)" "$TMP/score.strace" "$TMP"

# ---- recover: links at the names the old temporary copies had; the rewrite path under strace ----
if [ -n "$bdf" ]; then
    cp "$bdf" "$TMP/crash.bdf"; cp "$bdf.events.tsv" "$TMP/crash.bdf.events.tsv"
    printf '   -1   ' | dd of="$TMP/crash.bdf" bs=1 seek=236 conv=notrunc 2>/dev/null     # as after a kill
    # more events than the file's annotation space holds (a TAL takes 15 bytes or more of annotation space,
    # which is under a tenth of the file): recover must rewrite, the path with a copy
    n=$(( $(stat -c %s "$TMP/crash.bdf") / 50 ))
    awk -v n=$n 'BEGIN { for (i = 0; i < n; i++) printf "%.4f\t-\tevent %d\n", i * 0.005, i }' \
        >> "$TMP/crash.bdf.events.tsv"
    for t in .recover.tmp .recover-count.tmp; do ln -s "$VICTIM" "$TMP/crash.bdf$t"; done
    if [ -n "$HAVE_STRACE" ]; then
        strace -f -qq -o "$TMP/recover.strace" -e trace=open,openat "$DW_BIN" recover "$TMP/crash.bdf" > "$TMP/recover.out" 2>&1; st=$?
    else "$DW_BIN" recover "$TMP/crash.bdf" > "$TMP/recover.out" 2>&1; st=$?; fi
    [ $st -eq 0 ] && victim_ok && [ -L "$TMP/crash.bdf.recover.tmp" ] && [ -L "$TMP/crash.bdf.recover-count.tmp" ] &&
        grep -q "rewrite" "$TMP/recover.out" &&
        pass "symlinks: recover: links at its old temporary names are neither followed nor removed" ||
        fail "symlinks: recover" "exit $st: $(cat "$TMP/recover.out")"
    [ -n "$HAVE_STRACE" ] && strace_excl "symlinks: recover (rewrite): files created only exclusively or unnamed (strace)" \
        "$TMP/recover.strace" "$TMP"
    left=$(ls -a "$TMP" | grep -E '^\.?crash\.bdf' | grep -vE '^crash\.bdf(\.events\.tsv|\.recover\.tmp|\.recover-count\.tmp)?$')
    [ -z "$left" ] && pass "symlinks: recover leaves no temporary file" || fail "symlinks: recover leaves no temporary file" "$left"
else skip "symlinks: recover" "no recording"; fi

# ---- emulate --sent-log ----
ln -s "$VICTIM" "$TMP/sent.log"
"$DW_BIN" emulate --link "$TMP/tty2" --sent-log "$TMP/sent.log" --seconds 1 > /dev/null 2> "$TMP/emu.err"; st=$?
[ $st -ne 0 ] && victim_ok && grep -q "not replaced" "$TMP/emu.err" &&
    pass "symlinks: emulate --sent-log refuses a planted link" || fail "symlinks: emulate --sent-log" "exit $st: $(cat "$TMP/emu.err")"
