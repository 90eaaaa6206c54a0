#!/bin/sh
# make install with PREFIX and DESTDIR puts every piece in place, and the installed binary finds its
# sample night and themes.
. "$(dirname "$0")/lib.sh"
cd "$DW_ROOT" || exit 1
make -s install PREFIX=/opt/dw DESTDIR="$TMP/root" B="${B:-build}" > "$TMP/log" 2>&1 || { fail "make install" "$(tail -5 "$TMP/log")"; exit 0; }
R=$TMP/root/opt/dw
ok=1
for f in bin/dreamwatch share/man/man1/dreamwatch.1 share/dreamwatch/themes/default.ini share/dreamwatch/themes/night.ini \
         share/dreamwatch/models/fpz_pz.dwm share/dreamwatch/models/eeg.dwm share/dreamwatch/models/eeg_lo.dwm share/dreamwatch/sample-data/sample-night.edf \
         share/dreamwatch/config.example.ini; do
    [ -f "$R/$f" ] || { fail "make install: $f" "missing"; ok=0; }
done
[ $ok = 1 ] && pass "make install honours PREFIX and DESTDIR (binary, man page, themes, models, sample night, example config)"
[ -x "$R/bin/dreamwatch" ] && "$R/bin/dreamwatch" --version | grep -q '^dreamwatch ' && pass "installed binary runs" || fail "installed binary runs" "no version"
n=$(XDG_DATA_HOME=$TMP "$R/bin/dreamwatch" --headless --speed 0 2>&1 | grep -c '^epoch')
[ "$n" -eq 900 ] && pass "installed binary replays its own sample night" || fail "installed binary replays its own sample night" "$n epochs"
make -s uninstall PREFIX=/opt/dw DESTDIR="$TMP/root" > /dev/null 2>&1
[ ! -e "$R/bin/dreamwatch" ] && [ ! -e "$R/share/dreamwatch" ] && pass "make uninstall removes it" || fail "make uninstall" "files left"
