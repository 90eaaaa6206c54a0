#!/bin/sh
# The command line: help, version, docs in step, bad configuration refused with file, line and key.
. "$(dirname "$0")/lib.sh"

out=$("$DW_BIN" --version); echo "$out" | grep -Eq '^dreamwatch [0-9]+\.[0-9]+' && pass "--version" || fail "--version" "$out"
"$DW_BIN" --help > "$TMP/help" && grep -q 'dreamwatch score' "$TMP/help" && pass "--help" || fail "--help" "no usage"

# Every long option of --help is in the man page and the man page's options are in --help.
missing=""
for o in $(grep -oE -- '--[a-z][a-z-]+' "$TMP/help" | sort -u); do
    grep -q -- "$(echo "$o" | sed 's/-/\\\\-/g')" "$DW_ROOT/man/dreamwatch.1" || missing="$missing $o"
done
[ -z "$missing" ] && pass "man page documents every option of --help" || fail "man page documents every option of --help" "missing:$missing"
missing=""
for o in $(grep -oE '^\.B[IR]? \\-\\-[a-z-]+' "$DW_ROOT/man/dreamwatch.1" | sed 's/.*\\-\\-/--/' | sort -u); do
    grep -q -- "$o" "$TMP/help" || missing="$missing $o"
done
[ -z "$missing" ] && pass "--help lists every option of the man page" || fail "--help lists every option of the man page" "missing:$missing"
# Every option of a subcommand's own help is on that subcommand's lines of `dreamwatch --help` (they
# lacked score's --force, emulate's --speed, check's --channels, ...).
missing="" seen=0
for c in score features emulate recover attach ward nights check; do
    block=$(awk -v c="$c" '/^$/ { exit } / dreamwatch [a-z]/ { for (i = 1; i < NF; i++) if ($i == "dreamwatch") cur = $(i + 1) }
        cur == c' "$TMP/help")
    for o in $("$DW_BIN" "$c" --help 2>&1 | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
        [ "$o" = --help ] && continue
        seen=$((seen + 1))
        echo "$block" | grep -q -- "$o\b" || missing="$missing $c:$o"
    done
done
[ -z "$missing" ] && [ $seen -gt 30 ] && pass "--help lists every option of each subcommand's own help on its lines ($seen)" ||
    fail "--help lists every subcommand option" "missing:$missing"
# Every alert rule in the configuration is explained in the man page and the README.
missing=""
for k in $("$DW_BIN" --print-config | awk '/^\[alerts\]/{a=1;next} /^\[/{a=0} a && /^[a-z_]+ =/{print $1}' | grep -v '_'); do
    grep -q "^\.B $k\$" "$DW_ROOT/man/dreamwatch.1" || missing="$missing man:$k"
    grep -q "\`$k\`" "$DW_ROOT/README.md" || missing="$missing README:$k"
done
[ -z "$missing" ] && pass "every alert rule documented" || fail "every alert rule documented" "missing:$missing"

"$DW_BIN" --print-config > "$TMP/example.ini"
cmp -s "$TMP/example.ini" "$DW_ROOT/sample-data/config.example.ini" && pass "shipped example config is current" \
    || fail "shipped example config is current" "run ./dreamwatch --print-config > sample-data/config.example.ini"

printf '[input]\nfrontal = Fpz-Cz\n\n[alerts]\nflat_s = soon\n' > "$TMP/bad.ini"
err=$("$DW_BIN" --config "$TMP/bad.ini" --headless 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$err" | grep -q "bad.ini:5: \[alerts\] flat_s: 'soon' is not a number" \
    && pass "bad config refused with file, line and key" || fail "bad config refused with file, line and key" "rc=$rc: $err"
printf '[display]\nfont = big\n' > "$TMP/bad2.ini"
err=$(XDG_CONFIG_HOME="$TMP/xdg" "$DW_BIN" --config "$TMP/bad2.ini" --headless 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$err" | grep -q "bad2.ini:2: \[display\] font: unknown key" \
    && pass "unknown key refused" || fail "unknown key refused" "rc=$rc: $err"
# The default config path under XDG_CONFIG_HOME is read.
mkdir -p "$TMP/xdg/dreamwatch"; printf '[input]\nreplay_speed = fast\n' > "$TMP/xdg/dreamwatch/config.ini"
err=$(XDG_CONFIG_HOME="$TMP/xdg" "$DW_BIN" --headless 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$err" | grep -q "$TMP/xdg/dreamwatch/config.ini:2" \
    && pass "XDG_CONFIG_HOME config is read" || fail "XDG_CONFIG_HOME config is read" "rc=$rc: $err"
# ... and the command line overrides it.
printf '[input]\nreplay_speed = 5\n' > "$TMP/xdg/dreamwatch/config.ini"
err=$(XDG_CONFIG_HOME="$TMP/xdg" "$DW_BIN" --headless --speed nope 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$err" | grep -q "replay_speed" && pass "command line checked like the file" || fail "command line checked like the file" "rc=$rc: $err"

err=$("$DW_BIN" --headless "$TMP/does-not-exist.edf" 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$err" | grep -q "does-not-exist.edf" && pass "missing input named" || fail "missing input named" "rc=$rc: $err"
err=$("$DW_BIN" </dev/null 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && echo "$err" | grep -q "needs a terminal" && pass "no terminal: clear message" || fail "no terminal: clear message" "rc=$rc: $err"
err=$("$DW_BIN" frobnicate </dev/null 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && echo "$err" | grep -q "frobnicate: no such command or file (commands: record, score" \
    && pass "a mistyped command is named as one (not 'needs a terminal')" || fail "mistyped command" "rc=$rc: $err"
: > "$TMP/empty.edf"
err=$("$DW_BIN" score --out "$TMP/e" "$TMP/empty.edf" 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] && echo "$err" | grep -q "empty.edf: empty (0 bytes): not a recording" \
    && pass "an empty file is named as empty (not 'unknown format')" || fail "empty file" "rc=$rc: $err"
err=$("$DW_BIN" scor "$DW_ROOT/sample-data/sample-night.edf" </dev/null 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && echo "$err" | grep -q "scor: no such command or file" \
    && pass "a mistyped command before a file is named as one (not 'one recording at a time')" \
    || fail "mistyped command before a file" "rc=$rc: $err"
err=$("$DW_BIN" "$TMP" </dev/null 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] && echo "$err" | grep -q "a directory given as the recording" \
    && pass "a directory to replay is named as one" || fail "a directory to replay" "rc=$rc: $err"

# The emulator's faults: the forms `emulate --help` lists are the man page's, every form the README
# shows is among them, and the emulator takes each (placeholders given numbers), all at once.
"$DW_BIN" emulate --help > "$TMP/emu-help" 2>&1
faults=$(/usr/bin/python3 - "$TMP/emu-help" "$DW_ROOT/man/dreamwatch.1" "$DW_ROOT/README.md" <<'EOF'
import re, sys
helptxt, man, readme = (open(p).read() for p in sys.argv[1:])
form = re.compile(r"\b(?:[a-z][a-z-]*=[A-Z]+(?::[A-Z]+)*%?|board-off)(?![\w-])")
h = set(form.findall(helptxt.split("\n  --faults", 1)[1].split("\n  --speed", 1)[0]))
m = man.replace("\\-", "-").replace("\\fB", "").replace("\\fR", "")
m = set(form.findall(m.split("Faults (--faults", 1)[1].split("--speed F", 1)[0]))
r = set(x for span in re.findall(r"`[^`]*--faults[^`]*`", readme, re.S) for x in form.findall(span))
bad = ["man page lacks " + x for x in sorted(h - m)] + ["man page has " + x for x in sorted(m - h)]
bad += ["README has " + x for x in sorted(r - h)]
if len(h) < 10 or not r:
    bad.append("%d forms in --help, %d in the README" % (len(h), len(r)))
num = {"N": "5", "T": "1", "D": "2", "CH": "1", "PPM": "10", "KOHM": "10"}
print(",".join(re.sub(r"[A-Z]+", lambda g: num.get(g.group(0), "?"), x) for x in sorted(h)))
for x in bad:
    print("BAD " + x)
EOF
)
if echo "$faults" | grep -q '^BAD '; then
    fail "emulator faults: --help, man page and README agree" "$(echo "$faults" | grep '^BAD ' | tr '\n' ';')"
else
    err=$("$DW_BIN" emulate --seconds 0.3 --faults "$faults" 2>&1 >/dev/null); rc=$?
    [ $rc -eq 0 ] && ! echo "$err" | grep -q 'not understood' &&
        pass "emulator faults: --help, man page and README agree, and the emulator takes every one ($faults)" ||
        fail "emulator faults: --help, man page and README agree" "rc=$rc: $err"
fi

# Exit status (man EXIT STATUS, README "Exit status"): 2 for what the user must fix before the same
# command can run (a --model that cannot be used, a serial port another program holds, like a session
# name already running), 1 for an input that cannot be read. Both outliers exited 1 before.
SN="$DW_ROOT/sample-data/sample-night.edf"
printf 'not a model\n' > "$TMP/bad.model"
for c in "score --out $TMP/m1 --model $TMP/nope.model $SN" "score --out $TMP/m2 --model $TMP/bad.model $SN" \
         "score --features $TMP/nope.tsv --model $TMP/nope.model" "--headless --model $TMP/nope.model $SN" \
         "--headless --model $TMP/bad.model $SN"; do
    err=$(timeout 20 "$DW_BIN" $c 2>&1 >/dev/null); rc=$?
    [ $rc -eq 2 ] && echo "$err" | grep -q "model" && pass "exit 2 for a --model that cannot be used: $c" ||
        fail "exit 2 for a --model that cannot be used: $c" "rc=$rc: $err"
done
err=$("$DW_BIN" score --out "$TMP/m3" --reference "$TMP/nope.edf" "$SN" 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] && pass "exit 1 for an input that cannot be read (a --reference)" || fail "exit 1 for a missing --reference" "rc=$rc: $err"
mkfifo "$TMP/port"
# the holder opens the FIFO read-write (flock(1) with a path opens it read-only, which blocks until a
# writer comes: the command under test, which then raced it for the lock) and ends as the sleep itself
( exec 9<>"$TMP/port"; flock 9; exec sleep 30 ) & holder=$!
i=0; ino=$(stat -c %i "$TMP/port")          # until the lock is taken (at most 5 s)
while ! grep -q "FLOCK.*:$ino " /proc/locks && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
for c in "record --serial $TMP/port --out $TMP/rec" "--headless --no-record --serial $TMP/port" "check --serial $TMP/port"; do
    err=$(timeout 20 "$DW_BIN" $c 2>&1 >/dev/null); rc=$?
    [ $rc -eq 2 ] && echo "$err" | grep -q "in use by another program" && pass "exit 2 for a port in use: $c" ||
        fail "exit 2 for a port in use: $c" "rc=$rc: $err"
done
stop_pids $holder

# --no-record: `dreamwatch --help` said only "do not record" where `record --help` said what is still
# written; both say the same now, and what it turns off (the BDF+ recording).
a=$("$DW_BIN" --help | grep -A1 -- '--no-record'); b=$("$DW_BIN" record --help | grep -A1 -- '--no-record')
[ "$a" = "$b" ] && echo "$a" | grep -q 'BDF+' && echo "$a" | grep -q 'summary are still' &&
    pass "--no-record: --help and record --help say the same of it" || fail "--no-record in --help" "[$a] vs [$b]"
