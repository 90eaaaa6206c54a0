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
err=$("$DW_BIN" "$TMP" </dev/null 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && echo "$err" | grep -q "a directory given as the recording" \
    && pass "a directory to replay is named as one" || fail "a directory to replay" "rc=$rc: $err"
