#!/bin/sh
# Replay pacing through the real binary: as fast as possible equals `score`; N x real time is never
# faster than asked; pause, resume and seek from the keyboard.
. "$(dirname "$0")/lib.sh"
NIGHT=$DW_ROOT/sample-data/sample-night.edf
[ -f "$NIGHT" ] || { fail "sample night" "missing $NIGHT"; exit 0; }

# As fast as possible, headless: every epoch, the same labels as the batch scorer.
start=$(date +%s%N)
XDG_DATA_HOME=$TMP "$DW_BIN" --headless --speed 0 "$NIGHT" > "$TMP/headless" 2> "$TMP/err"; rc=$?
secs=$(awk "BEGIN{printf \"%.2f\", ($(date +%s%N) - $start) / 1e9}")
n=$(grep -c '^epoch' "$TMP/headless")
[ $rc -eq 0 ] && [ "$n" -eq 900 ] && pass "max-speed replay stages the whole night ($n epochs in ${secs} s)" || fail "max-speed replay" "rc=$rc, $n epochs: $(tail -2 "$TMP/err")"
"$DW_BIN" score --out "$TMP/s" "$NIGHT" > /dev/null 2>&1
awk -F, 'NR>1 {print $3}' "$TMP/s.csv" > "$TMP/score.stages"
awk -F'\t' '{print $2}' "$TMP/headless" > "$TMP/live.stages"
cmp -s "$TMP/score.stages" "$TMP/live.stages" && pass "the worker's labels equal score's, epoch for epoch" \
    || fail "the worker's labels equal score's" "$(diff "$TMP/score.stages" "$TMP/live.stages" | head -3)"

# 60 x real time: 2 epochs a second at most.
XDG_DATA_HOME=$TMP "$DW_BIN" --headless --speed 60 "$NIGHT" > "$TMP/paced" 2>&1 &
pid=$!
sleep 4
kill -TERM $pid; wait $pid; rc=$?
n=$(grep -c '^epoch' "$TMP/paced")
[ $rc -eq 0 ] && [ "$n" -le 9 ] && [ "$n" -ge 2 ] && pass "60 x real time paces the replay ($n epochs in 4 s, at most 8 due)" \
    || fail "60 x real time paces the replay" "rc=$rc, $n epochs in 4 s"

# Pause, resume, seek, in the screen.
clock() { tm_screen | grep -o 'lights-off +[0-9]*:[0-9][0-9]:[0-9][0-9]' | head -1 | awk -F'[+:]' '{print $2*3600+$3*60+$4}'; }
tm_start 120 40 env XDG_DATA_HOME="$TMP" "$DW_BIN" --speed 60 --paused --no-record "$NIGHT"
if wait_for 10 'PAUSED'; then
    a=$(clock); sleep 2; b=$(clock)
    [ -n "$a" ] && [ "$a" = "$b" ] && pass "starts paused (clock stays at $a s)" || fail "starts paused" "clock $a -> $b"
    tm_keys Space; sleep 3; c=$(clock)
    [ -n "$c" ] && [ "$c" -gt "$b" ] && pass "space resumes ($b -> $c s)" || fail "space resumes" "clock $b -> $c"
    tm_keys Space; sleep 1; d=$(clock)
    tm_keys Right; sleep 1.5; e=$(clock)
    [ -n "$e" ] && [ "$e" -ge $((d + 290)) ] && [ "$e" -le $((d + 400)) ] && pass "Right seeks forward 5 min ($d -> $e s)" || fail "Right seeks forward 5 min" "clock $d -> $e"
    tm_keys Left; sleep 1.5; f=$(clock)
    [ -n "$f" ] && [ "$f" -le $((e - 290)) ] && [ "$f" -ge $((e - 400)) ] && pass "Left seeks back 5 min ($e -> $f s)" || fail "Left seeks back 5 min" "clock $e -> $f"
else
    fail "starts paused" "no PAUSED on screen: $(tm_screen | tail -3)"
fi
tm_keys Q; sleep 0.5; tm_keys y; sleep 2

# Headless, every line on standard error that is not a continuation starts "dreamwatch:", the source's
# notes too (the second note of an SD-card log with a padded tail had no prefix).
if /usr/bin/python3 "$DW_ROOT/tests/e2e/make_formats.py" sd "$NIGHT" "$TMP/sd.TXT" 3600 90 2>/dev/null; then
    head -c 8192 /dev/zero >> "$TMP/sd.TXT"
    XDG_DATA_HOME=$TMP "$DW_BIN" --headless --speed 0 --exit-at-end --no-record "$TMP/sd.TXT" > /dev/null 2> "$TMP/sderr"
    notes=$(grep -c 'sd.TXT: ' "$TMP/sderr")
    bare=$(grep -v '^dreamwatch: \|^  \|^$' "$TMP/sderr")
    [ "$notes" -ge 2 ] && [ -z "$bare" ] && pass "headless: every note line starts dreamwatch: ($notes notes)" ||
        fail "headless: every note line starts dreamwatch:" "$notes notes; bare: $(echo "$bare" | head -2)"
else
    skip "headless notes" "no numpy/scipy for tests/e2e/make_formats.py"
fi
