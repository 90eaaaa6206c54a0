#!/bin/sh
# The input kinds of ../shared/cases (01-07), each behaving as its README row says, through the real binary:
#  A. the shared fixtures, made at test time from ../shared/cases/*/make.py in a private copy (SKIP when
#     ../shared is absent);
#  B. the project's own variants of each kind (tests/e2e/make_cases.py: other broken signals, separators,
#     offsets, reference forms, gaps, Ganglion losses, SD tails), which need only the sample night.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
NIGHT=$DW_ROOT/sample-data/sample-night.edf
[ -f "$NIGHT" ] || { fail cases "missing $NIGHT (make builds it)"; exit 0; }
$PY -c 'import numpy' 2>/dev/null || { skip cases "python3-numpy is not installed"; exit 0; }
export XDG_DATA_HOME="$TMP/xdg"
D=$DW_BIN
# run NAME CMD...: the binary's stdout+stderr in $TMP/NAME.out, its status in $TMP/NAME.rc
run() { n=$1; shift; "$@" > "$TMP/$n.out" 2>&1; echo $? > "$TMP/$n.rc"; }
rc() { cat "$TMP/$1.rc"; }
has() { grep -qF -- "$2" "$TMP/$1.out"; }
epochs() { [ -f "$1" ] && echo $(($(wc -l < "$1") - 1)) || echo 0; }
ok() { if eval "$2"; then pass "$1"; else fail "$1" "$(head -c 600 "$TMP/$3.out" 2>/dev/null | tr '\n' '|')"; fi; }
replay() { "$D" --headless --speed 0 --exit-at-end --no-record "$2" > "$TMP/$1.out" 2>&1; echo $? > "$TMP/$1.rc"; }
kappa() { grep -A1 "all scored epochs" "$TMP/$1.out" | grep -o 'kappa [-0-9.]*' | head -1 | cut -d' ' -f2; }

# ---- A: the shared fixtures ------------------------------------------------------------------------
shared_cases() {
    C=$TMP/shared; mkdir -p "$C"
    cp -r "$CASES/tools" "$C/" && for d in "$CASES"/0[1-7]-*; do cp -r "$d" "$C/"; done
    for m in "$C"/0[1-7]-*/make.py; do
        DW_ROOT=$DW_ROOT $PY "$m" > "$TMP/make.out" 2>&1 || { fail "cases: $m" "$(tail -3 "$TMP/make.out")"; return; }
    done
    c=$C/01-unused-signal-bad-range
    run a01 "$D" score "$c/input.edf" --out "$TMP/a01"
    ok "case 01: the good channels are scored, a note names the broken one" \
        '[ $(rc a01) = 0 ] && [ $(epochs $TMP/a01.csv) = 10 ] && has a01 "signal 3 \"E129 Ref\": physical maximum" && has a01 "cannot be selected"' a01
    run a01b "$D" score "$c/input-dmin-eq-dmax.edf" --out "$TMP/a01b"
    ok "case 01: digital min = max in an unused signal, scored, named with its byte" \
        '[ $(rc a01b) = 0 ] && has a01b "signal 3 \"-\": digital maximum \"0\" (header byte 656) equals the digital minimum"' a01b
    run a01c "$D" score "$c/input.edf" --channels "EEG Fpz-Cz,E129 Ref" --out "$TMP/a01c"
    ok "case 01: asking for the broken signal is refused, naming signal, field and byte" \
        '[ $(rc a01c) != 0 ] && has a01c "signal 3 \"E129 Ref\": physical maximum \"0\" (header byte 608)" && [ ! -e $TMP/a01c.csv ]' a01c
    c=$C/02-header-date-time-separators
    run a02 "$D" score "$c/input.edf" --out "$TMP/a02"
    run a02b "$D" score "$c/input-date.edf" --out "$TMP/a02b"
    ok "case 02: start time 22:30:00 read with a note" '[ $(rc a02) = 0 ] && has a02 "start time \"22:30:00\" (byte 176) read as 22.30.00"' a02
    ok "case 02: start date 15/03/24 read in EDF's order (15.03.24) with a note naming the other reading (2015-03-24)" \
        '[ $(rc a02b) = 0 ] && has a02b "start date \"15/03/24\" (byte 168) read as 15.03.24 (day first, dd.mm.yy, EDF" && has a02b "24.03.15 read year first (yy/mm/dd): check the recording" && [ -e $TMP/a02b.csv ]' a02b
    c=$C/03-reference-starts-later
    run a03 "$D" score "$c/psg.edf" --reference "$c/hypnogram-2300.edf" --out "$TMP/a03"
    run a03b "$D" score "$c/psg.edf" --reference "$c/hypnogram-aligned.edf" --out "$TMP/a03b"
    k1=$(kappa a03); k2=$(kappa a03b)
    ok "case 03: aligned by clock time, offset said, kappa as the aligned file's ($k1 = $k2)" \
        '[ $(rc a03) = 0 ] && [ -n "$k1" ] && [ "$k1" = "$k2" ] && has a03 "starts 1800 s (60.0 epochs) after the recording; aligned by clock time"' a03
    c=$C/04-reference-longer-than-recording
    run a04 "$D" score "$c/psg.edf" --reference "$c/hypnogram-3h.edf" --out "$TMP/a04"
    ok "case 04: the scored epochs outside the recording are counted" \
        '[ $(rc a04) = 0 ] && has a04 "240 scored epochs lie outside the recording: 0 before its start, 240 after its end"' a04
    c=$C/05-gap-in-edfplus-d
    run a05 "$D" score "$c/psg-edfplusd.edf" --reference "$c/hypnogram.edf" --out "$TMP/a05"
    ok "case 05: the 600-s gap is 20 unscored epochs with no probabilities (empty p_ fields), not time in bed (TIB 60.0 of 70 min)" \
        '[ $(rc a05) = 0 ] && has a05 "TIB 60.0 min" && has a05 "20 unscored epochs" && [ $(grep -c ",?," $TMP/a05.csv) = 20 ] && [ $(grep -c ",?,,,,,,,$" $TMP/a05.csv) = 20 ]' a05
    replay a05r "$c/psg-edfplusd.edf"
    log=$(ls "$XDG_DATA_HOME"/dreamwatch/recordings/replay-psg-edfplusd-*.session.tsv 2>/dev/null | head -1)
    ok "case 05: a planned gap in a file raises no packet-loss alert" \
        '[ $(rc a05r) = 0 ] && [ -n "$log" ] && ! grep -qi "packet loss" "$log"' a05r
    c=$C/06-ganglion-text
    for f in OpenBCI-RAW-ganglion-v4 OpenBCI-RAW-ganglion-edited-bom-crlf OpenBCI-RAW-ganglion-edited-crlf; do
        run "a06$f" "$D" score "$c/$f.txt" --out "$TMP/a06$f"
        ok "case 06: $f: scored, 10 epochs, no invented samples" \
            '[ $(rc a06$f) = 0 ] && [ $(epochs $TMP/a06$f.csv) = 10 ] && ! has a06$f "samples lost"' "a06$f"
    done
    replay a06r "$c/OpenBCI-RAW-ganglion-v4.txt"
    ok "case 06: replay: 10 epochs, no loss alert" \
        '[ $(rc a06r) = 0 ] && [ $(grep -c "^epoch" $TMP/a06r.out) = 10 ] && ! grep -qi "packet loss" $TMP/a06r.out' a06r
    c=$C/07-sdcard-stale-tail
    for f in OBCI_1D OBCI_1E-garbage; do
        run "a07$f" "$D" score "$c/$f.TXT" --out "$TMP/a07$f"
        ok "case 07: $f: 10 epochs, the tail noted, no lost samples claimed" \
            '[ $(rc a07$f) = 0 ] && [ $(epochs $TMP/a07$f.csv) = 10 ] && has a07$f "hold no samples" && ! has a07$f "lost" && ! has a07$f "unreadable"' "a07$f"
        replay "a07r$f" "$c/$f.TXT"
        ok "case 07: $f: replay gives 10 epochs" '[ $(rc a07r$f) = 0 ] && [ $(grep -c "^epoch" $TMP/a07r$f.out) = 10 ]' "a07r$f"
    done
}
CASES=${DW_SHARED_CASES:-$DW_ROOT/../shared/cases}
if [ -f "$CASES/01-unused-signal-bad-range/make.py" ]; then shared_cases
else skip "cases: shared fixtures" "$CASES is absent"; fi

# ---- B: the project's own variants ------------------------------------------------------------------
V=$TMP/own
$PY "$HERE/make_cases.py" "$NIGHT" "$V" > "$TMP/mk.out" 2>&1 || { fail "cases: make_cases.py" "$(tail -3 "$TMP/mk.out")"; exit 0; }
run b01 "$D" score "$V/01-status-16bit.edf" --out "$TMP/b01"
ok "own 01: a digital range beyond 16 bits in an unused signal" \
    '[ $(rc b01) = 0 ] && [ $(epochs $TMP/b01.csv) = 20 ] && has b01 "signal 3 \"Status\": digital maximum \"65535\" (header byte 656)"' b01
run b01b "$D" score "$V/01-ref-pmin-pmax.edf" --out "$TMP/b01b"
ok "own 01: physical min = max in an unused signal" '[ $(rc b01b) = 0 ] && has b01b "signal 3 \"A2 Ref\": physical maximum \"0\" (header byte 608)"' b01b
run b01c "$D" score "$V/01-nan-range.edf" --out "$TMP/b01c"
ok "own 01: a range that is not a number in an unused signal" '[ $(rc b01c) = 0 ] && has b01c "signal 3 \"Resp\": physical minimum \"-\" (header byte 584) is not a number"' b01c
run b01d "$D" score "$V/01-status-16bit.edf" --channels 3 --parietal none --frontal 3 --out "$TMP/b01d"
ok "own 01: the broken signal asked for by number is refused" '[ $(rc b01d) != 0 ] && has b01d "\"Status\": digital maximum"' b01d
run b02 "$D" score "$V/02-time-dashes.edf" --out "$TMP/b02"
ok "own 02: start time 23-15-00" '[ $(rc b02) = 0 ] && has b02 "start time \"23-15-00\" (byte 176) read as 23.15.00"' b02
run b02b "$D" score "$V/02-both.edf" --out "$TMP/b02b"
ok "own 02: date 19/03/99 and time 23:15:00 together" \
    '[ $(rc b02b) = 0 ] && has b02b "start date \"19/03/99\"" && has b02b "start time \"23:15:00\""' b02b
run b02c "$D" score "$V/02-us-date.edf" --out "$TMP/b02c"
ok "own 02: a month-first date 03/19/24 (no 19th month) is read as 19.03.24, the order said" \
    '[ $(rc b02c) = 0 ] && has b02c "start date \"03/19/24\" (byte 168) read as 19.03.24 (month first"' b02c
run b02d "$D" score "$V/02-spaces.edf" --out "$TMP/b02d"
ok "own 02: space separators (19 03 99, 23 15 00) read with a note each" \
    '[ $(rc b02d) = 0 ] && has b02d "start date \"19 03 99\" (byte 168) read as 19.03.99" && has b02d "start time \"23 15 00\" (byte 176) read as 23.15.00"' b02d
run b02g "$D" score "$V/02-year-first.edf" --out "$TMP/b02g"
ok "own 02: 24/03/15 reads day first and year first (2024-03-15): EDF's order used, both readings named" \
    '[ $(rc b02g) = 0 ] && has b02g "start date \"24/03/15\" (byte 168) read as 24.03.15 (day first, dd.mm.yy, EDF" && has b02g "24.03.15 read day first (dd.mm.yy) or 15.03.24 read year first (yy/mm/dd): check"' b02g
run b02h "$D" score "$V/02-eight-digits.edf" --out "$TMP/b02h"
ok "own 02: 15032024 (ddmmyyyy, no separator) read as 15.03.24 with a note" \
    '[ $(rc b02h) = 0 ] && has b02h "start date \"15032024\" (byte 168) read as 15.03.24 (day first"' b02h
run b02e "$D" score "$V/02-day-or-month.edf" --out "$TMP/b02e"
ok "own 02: 09/03/24 reads day, month or year first: EDF's order used, every reading named" \
    '[ $(rc b02e) = 0 ] && has b02e "start date \"09/03/24\" (byte 168) read as 09.03.24 (day first, dd.mm.yy, EDF" && has b02e "03.09.24 read month first"' b02e
run b02f "$D" score "$V/02-no-seconds.edf" --out "$TMP/b02f"
ok "own 02: a start time without seconds is refused, field and byte named" \
    '[ $(rc b02f) != 0 ] && has b02f "start time \"23:15   \" (header byte 176) is not hh.mm.ss (no seconds)"' b02f
R=$V/psg-1h.edf
run b03 "$D" score "$R" --reference "$V/03-ref-2220.edf" --out "$TMP/b03"
run b03b "$D" score "$R" --reference "$V/03-ref-aligned.edf" --out "$TMP/b03b"
k1=$(kappa b03); k2=$(kappa b03b)
ok "own 03: a reference 20 min later, aligned by clock (kappa $k1 = $k2, > 0.3)" \
    '[ $(rc b03) = 0 ] && [ -n "$k1" ] && [ "$k1" = "$k2" ] && awk "BEGIN{exit !($k1 > 0.3)}" && has b03 "starts 1200 s (40.0 epochs) after the recording"' b03
run b03c "$D" score "$R" --reference "$V/03-ref-rk20.edf" --out "$TMP/b03c"
ok "own 03: 20-s R&K pages mapped by majority, the rule printed" \
    '[ $(rc b03c) = 0 ] && has b03c "scored in 20-s steps: each 30-s epoch takes the stage scored for more than 15 s of it"' b03c
run b03d "$D" score "$R" --reference "$V/03-ref-lines.txt" --out "$TMP/b03d"
run b03e "$D" score "$R" --reference "$V/03-ref-mne.csv" --out "$TMP/b03e"
ok "own 03: one stage per line, laid from the first epoch (no start time in such a file)" \
    '[ $(rc b03d) = 0 ] && has b03d "no start time in the file: laid from the recording" && [ -n "$(kappa b03d)" ]' b03d
ok "own 03: MNE csv with dates, 30 min later, aligned by clock" \
    '[ $(rc b03e) = 0 ] && has b03e "starts 1800 s (60.0 epochs) after the recording" && [ -n "$(kappa b03e)" ]' b03e
run b04 "$D" score "$R" --reference "$V/04-ref-from-2140.edf" --out "$TMP/b04"
ok "own 04: a reference from 20 min before to 20 min after the recording: both sides counted" \
    '[ $(rc b04) = 0 ] && has b04 "80 scored epochs lie outside the recording: 40 before its start, 40 after its end"' b04
run b04b "$D" score "$R" --reference "$V/04-ref-next-night.edf" --out "$TMP/b04b"
ok "own 04: a reference of the next night is refused, both start times said" \
    '[ $(rc b04b) != 0 ] && has b04b "the reference starts 2024-03-10 22:00:00 and the recording 2024-03-09 22:00:00"' b04b
run b05 "$D" score "$V/05-edfplusd.edf" --out "$TMP/b05"
run b05b "$D" score "$V/05-continuous.edf" --out "$TMP/b05b"
ok "own 05: a 5-min EDF+D pause is 10 unscored epochs and no time in bed (TIB as without it)" \
    '[ $(rc b05) = 0 ] && has b05 "TIB 45.0 min" && has b05b "TIB 45.0 min" && has b05 "10 unscored epochs"' b05
replay b05r "$V/05-edfplusd.edf"
log=$(ls "$XDG_DATA_HOME"/dreamwatch/recordings/replay-05-edfplusd-*.session.tsv 2>/dev/null | head -1)
ok "own 05: replay of the EDF+D file raises no packet-loss alert" '[ $(rc b05r) = 0 ] && [ -n "$log" ] && ! grep -qi "packet loss" "$log"' b05r
run b06 "$D" score "$V/06-ganglion.txt" --out "$TMP/b06"
run b06p "$D" score "$V/06-ganglion-pause.txt" --out "$TMP/b06p"
ok "own 06: the GUI stream stopped 90 s at 180 s (index restarts, timestamps jump): a 90-s pause, 3 epochs unscored, the rest at its true time" \
    '[ $(rc b06p) = 0 ] && [ $(epochs $TMP/b06p.csv) = 15 ] && [ $(grep -c ",?," $TMP/b06p.csv) = 3 ] && [ "$(sed -n 8,10p $TMP/b06p.csv | cut -d, -f1-3 | tr "\n" " ")" = "6,180,? 7,210,? 8,240,? " ] && [ "$(head -7 $TMP/b06p.csv)" = "$(head -7 $TMP/b06.csv)" ] && has b06p "streaming paused 1 time, 90.0 s in all (the timestamps jump and the sample index restarts" && has b06p "06-ganglion-pause.txt: 50 samples lost (sample-index jumps)" && ! has b06p "timestamps span"' b06p
ok "own 06: Ganglion, 50 lost samples across index wraps counted exactly, 12 epochs" \
    '[ $(rc b06) = 0 ] && [ $(epochs $TMP/b06.csv) = 12 ] && has b06 "06-ganglion.txt: 50 samples lost (sample-index jumps)" && ! has b06 "timestamps span"' b06
run b06c "$D" score "$V/06-ganglion-cycles.txt" --out "$TMP/b06c"
ok "own 06: two whole index cycles and 3 samples lost (and the 50 of own 06): 455 lost samples (the timestamps show the cycles)" \
    '[ $(rc b06c) = 0 ] && has b06c "06-ganglion-cycles.txt: 455 samples lost (sample-index jumps, and 2 whole index cycles, 402 samples" && ! has b06c "timestamps span"' b06c
run b06b "$D" score "$V/06-ganglion-bom-crlf.txt" --out "$TMP/b06b"
ok "own 06: the edited copy (BOM, CRLF, no timestamp column) reads the same" \
    '[ $(rc b06b) = 0 ] && cmp -s $TMP/b06.csv $TMP/b06b.csv' b06b
for e in cr mixed; do
    run "b06$e" "$D" score "$V/06-ganglion-$e.txt" --out "$TMP/b06$e"
    ok "own 06: the same lines ended $([ $e = cr ] && echo by a lone CR || echo by CRLF, LF and CR mixed): as LF" \
        '[ $(rc b06$e) = 0 ] && cmp -s $TMP/b06.csv $TMP/b06$e.csv && has b06$e "50 samples lost" && ! has b06$e "timestamps span"' "b06$e"
done
for z in UTC America/Los_Angeles Europe/Berlin; do
    n=b06tz$(echo $z | tr -cd 'a-zA-Z')
    run $n env TZ=$z "$D" score "$V/06-ganglion.txt" --reference "$V/06-ref-local.csv" --out "$TMP/$n"
    ok "own 06: TZ=$z: the start is the file's clock, a reference scored by it aligns" \
        '[ $(rc $n) = 0 ] && has $n "starts with the recording; aligned by clock time" && has $n "epochs 12  accuracy 1.000"' $n
done
for t in ff junk text; do
    run "b07$t" "$D" score "$V/07-tail-$t.TXT" --out "$TMP/b07$t"
    ok "own 07: SD tail ($t): 8 epochs, the tail noted, nothing lost" \
        '[ $(rc b07$t) = 0 ] && [ $(epochs $TMP/b07$t.csv) = 8 ] && has b07$t "hold no samples" && ! has b07$t "lost"' "b07$t"
done
for t in stale-lines stale-after-stop tail-zeros; do
    run "b07$t" "$D" score "$V/07-$t.TXT" --out "$TMP/b07$t"
    replay "b07r$t" "$V/07-$t.TXT"
    ok "own 07: $t: 8 epochs (score and replay), the tail noted with its size and why, nothing lost" \
        '[ $(rc b07$t) = 0 ] && [ $(epochs $TMP/b07$t.csv) = 8 ] && [ $(grep -c "^epoch" $TMP/b07r$t.out) = 8 ] && has b07$t "07-$t.TXT: the last " && ! has b07$t "lost"' "b07$t"
done
ok "own 07: a stale tail of well-formed lines: its size and the index break named" \
    'has b07stale-lines "(30000 lines, 30000 of them sample lines)" && has b07stale-lines " to 10 at line " && has b07stale-lines "at the start of a 512-byte block"' b07stale-lines
for t in drop-inside index-damaged; do
    run "b07$t" "$D" score "$V/07-$t.TXT" --out "$TMP/b07$t"
    ok "own 07: $t: an index jump inside a block is lost samples, not the end: 8 epochs, no tail" \
        '[ $(rc b07$t) = 0 ] && [ $(epochs $TMP/b07$t.csv) = 8 ] && has b07$t "lost" && ! has b07$t "07-$t.TXT: the last "' "b07$t"
done
ok "own 07: well-formed lines after a stream stamp whose clock is not this recording's: not read" \
    'has b07stale-after-stop "30000 of them sample lines" && has b07stale-after-stop "the stream stamp at line 60003 stops the stream and holds the device clock 000EA650, 0.1 s after"' b07stale-after-stop
run b07v201 "$D" score "$V/07-v201-opening.TXT" --out "$TMP/b07v201"
ok "own 07: an SD log opening %START AT, %STOP AT (firmware v2.0.1, issue #50): read, 8 epochs, nothing lost" \
    '[ $(rc b07v201) = 0 ] && [ $(epochs $TMP/b07v201.csv) = 8 ] && ! has b07v201 "lost" && ! has b07v201 "unknown format"' b07v201
run b07pause "$D" score "$V/07-pause.TXT" --out "$TMP/b07pause"
ok "own 07: a stop and a start stamp halfway: a 300-s pause (the stamps' clocks), 10 unscored epochs, nothing lost" \
    '[ $(rc b07pause) = 0 ] && [ $(epochs $TMP/b07pause.csv) = 18 ] && [ $(grep -c ",?," $TMP/b07pause.csv) = 10 ] && has b07pause "streaming paused 1 time, 300.0 s in all" && ! has b07pause "samples lost"' b07pause
"$D" --headless --speed 0 --exit-at-end "$V/07-pause.TXT" > "$TMP/b07pauser.out" 2>&1; echo $? > "$TMP/b07pauser.rc"
log=$(ls "$XDG_DATA_HOME"/dreamwatch/recordings/replay-07-pause-*.session.tsv 2>/dev/null | head -1)
ok "own 07: replayed and recorded, the pause is a pause: annotated, no gap, no packet-loss alert" \
    '[ $(rc b07pauser) = 0 ] && [ -n "$log" ] && grep -q "Pause 300.00 s: the stream stopped and started again" "$log" && ! grep -qi "packet loss" "$log" && ! grep -q "	Gaps\? " "$log"' b07pauser
run b07lone "$D" score "$V/07-lone-stamp.TXT" --out "$TMP/b07lone"
ok "own 07: a stop stamp alone halfway, the index restarting at 00: the whole 4 min read, the note says a start stamp is missing" \
    '[ $(rc b07lone) = 0 ] && [ $(epochs $TMP/b07lone.csv) = 8 ] && has b07lone "1 stop stamp with no start stamp after it (the first at line 30003)" && has b07lone "read as a start whose stamp is missing" && ! has b07lone "alone" && ! has b07lone "the last "' b07lone
run b07stopstale "$D" score "$V/07-stop-stale.TXT" --out "$TMP/b07stopstale"
ok "own 07: a file opening %START AT: older lines after the stop stamp halfway (index going on) are not read" \
    '[ $(rc b07stopstale) = 0 ] && [ $(epochs $TMP/b07stopstale.csv) = 4 ] && has b07stopstale "(30002 lines, 30000 of them sample lines)" && has b07stopstale "the stream stamp at line 30003 stops the stream and no start stamp follows it" && ! has b07stopstale "restarted"' b07stopstale
run b07stopend "$D" score "$V/07-stop-end.TXT" --out "$TMP/b07stopend"
ok "own 07: a file ending in its stop stamp: the whole 4 min read, no stale or torn tail" \
    '[ $(rc b07stopend) = 0 ] && [ $(epochs $TMP/b07stopend.csv) = 8 ] && ! has b07stopend "the last " && ! has b07stopend "alone"' b07stopend
