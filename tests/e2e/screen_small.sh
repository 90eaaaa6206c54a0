#!/bin/sh
# The small things of issue 15, each on the real binary: every hour label of the hypnogram shown whole
# (also next to the epoch-in-progress mark and at the right edge), speed keys that add up and answer while
# paused, the last event after a seek back, the help box through a resize, `t` cycling the installed themes
# only and drawing monochrome as a fresh start does, the bedside's natural-mode key, REM cues numbered
# apart from the stimuli, --board on a replay, and --headless printing alerts and source notes.
. tests/e2e/lib.sh
SAMPLE=$DW_ROOT/sample-data/sample-night.edf
if [ ! -f "$SAMPLE" ] || [ ! -x "$DW_BIN" ]; then skip screen_small "no binary or sample night (run make)"; exit 0; fi
if ! command -v tmux >/dev/null || [ ! -x /usr/bin/python3 ]; then skip screen_small "no tmux or python3"; exit 0; fi
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data"
TERMV=screen; infocmp tmux-256color >/dev/null 2>&1 && TERMV=tmux-256color
PY=/usr/bin/python3

# axis_ok: every tick inside the plot has its whole "HH:MM" label on the axis row (the sample night
# starts at 22:30; one epoch a column while the night is shorter than the plot, so tick x is x * 30 s in)
axis_ok() {
    tm_screen > "$TMP/axis.txt"
    $PY - "$TMP/axis.txt" <<'EOF'
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
axis = next((l for l in lines if "\u2575" in l and "\u2502ev" not in l), None)
if axis is None: print("no axis row"); sys.exit(1)
ticks = [i - 5 for i, c in enumerate(axis) if c == "\u2575"]
labels = re.findall(r"\d\d:\d\d", axis)
want = ["%02d:%02d" % (((22 * 60 + 30 + x // 2) // 60) % 24, (30 + x // 2) % 60) for x in ticks]
missing = [w for w in want if w not in labels]
print("ticks at %s, labels %s" % (ticks, labels) + ("; missing %s" % missing if missing else ""))
sys.exit(1 if missing or not ticks else 0)
EOF
}
# hour_label W SEEKS LO HI: at width W, seek SEEKS x 5 min, play until the last epoch is in LO..HI, check
# (writes its finding to $TMP/hour; not in a subshell, so tm_start's socket count goes on)
hour_label() { hour_label_ > "$TMP/hour" 2>&1 "$@"; }
hour_label_() {
    tm_start "$1" 30 env TERM=$TERMV "$DW_BIN" --paused --speed 8 --no-record "$SAMPLE"
    wait_for 10 PAUSED || return 1
    i=0; while [ $i -lt "$2" ]; do tm_keys Right; i=$((i + 1)); sleep 0.2; done
    tm_keys Space
    e=0; end=$(( $(date +%s) + 40 ))
    while [ "$(date +%s)" -le $end ]; do
        e=$(tm_screen | tail -n 1 | grep -Eo '^ epoch [0-9]+' | grep -Eo '[0-9]+')
        [ -n "$e" ] && [ "$e" -ge "$3" ] && break
        sleep 0.2
    done
    tm_keys Space
    sleep 1
    e=$(tm_screen | tail -n 1 | grep -Eo '^ epoch [0-9]+' | grep -Eo '[0-9]+')
    [ -n "$e" ] && [ "$e" -le "$4" ] || { echo "epoch $e outside $3..$4"; return 1; }
    axis_ok
}
# at 120 columns the 23:00 tick is at column 60, the mark of the epoch in progress just right of it
if hour_label 120 6 60 63; then pass "screen_hour_label_beside_now ($(cat "$TMP/hour"))"
else fail screen_hour_label_beside_now "$(cat "$TMP/hour")"; fi
# at 89 columns the plot is 64 wide: the 23:00 tick at column 60 has no room on its right
if hour_label 89 4 40 43; then pass "screen_hour_label_at_edge ($(cat "$TMP/hour"))"
else fail screen_hour_label_at_edge "$(cat "$TMP/hour")"; fi

# speed keys: four quick presses while paused add up, and say so
tm_start 120 30 env TERM=$TERMV "$DW_BIN" --paused --speed 1 --no-record "$SAMPLE"
wait_for 10 PAUSED
tm_keys + + + +
if wait_for 5 'speed x16 \(paused: space resumes\)'; then
    tm_keys Space
    if wait_for 5 ' x16 '; then pass screen_speed_keys_add_up; else fail screen_speed_keys_add_up "$(tm_screen | tail -n 2)"; fi
else fail screen_speed_keys_add_up "no feedback while paused: $(tm_screen | tail -n 1)"; fi

# a short file to its end, then a seek back: the last event is the seek, not "end of recording"
# (paused first: at full speed the replay would reach its end again within a tenth of a second)
GUI=$SHARED/openbci/OpenBCI_GUI-v6-blinks-jawClench-alpha.txt
if [ -f "$GUI" ]; then
    tm_start 120 30 env TERM=$TERMV "$DW_BIN" --speed 0 --no-record "$GUI"
    if wait_for 30 'end of recording|Summary of the night'; then
        tm_keys Escape; sleep 0.5
        tm_keys Space; wait_for 5 ' PAUSED '
        tm_keys Left
        if wait_for 5 'seek to 0:00:[0-9]+ of the recording' && ! tm_screen | grep -q 'end of recording'; then
            pass screen_seek_back_event
        else fail screen_seek_back_event "$(tm_screen | tail -n 1)"; fi
    else fail screen_seek_back_event "the replay did not end"; fi
else skip screen_seek_back_event "no $GUI"; fi

# the help box stays through a resize
tm_start 120 40 env TERM=$TERMV "$DW_BIN" --paused --no-record "$SAMPLE"
wait_for 10 PAUSED
tm_keys '?'
wait_for 5 'Help: keys' || fail screen_help_resize "? shows no help"
tm_resize 100 34
sleep 1
if tm_screen | grep -q 'Help: keys'; then pass screen_help_resize; else fail screen_help_resize "the help box went away"; fi

# the help box fits an 80x24 terminal: its 25 rows lost the last line (the Events keys) there; shorter,
# it says how many lines it cannot show instead of cutting them silently
for size in "80 24" "80 16"; do
    set -- $size
    tm_start "$1" "$2" env TERM=$TERMV "$DW_BIN" --paused --no-record "$SAMPLE"
    wait_for 10 PAUSED
    tm_keys '?'
    wait_for 5 'Help: keys' || fail "screen_help_fits_$1x$2" "? shows no help"
    tm_screen > "$TMP/help$2.txt"
    top=$(grep -n 'Help: keys' "$TMP/help$2.txt" | cut -d: -f1)
    bottom=$(grep -n '└──────────\|+----------' "$TMP/help$2.txt" | cut -d: -f1 | awk -v t="$top" '$1 > t' | head -1)
    if [ "$2" = 24 ]; then
        grep -q 'Events: .*f kind' "$TMP/help$2.txt" && grep -q 'w  *manual wake' "$TMP/help$2.txt" &&
            grep -q 'pause/resume a replay' "$TMP/help$2.txt" && grep -q 'attach rejoins' "$TMP/help$2.txt" &&
            [ -n "$bottom" ] && ! grep -q 'more lines' "$TMP/help$2.txt" &&
            pass "screen_help_fits_80x24 (rows $top-$bottom)" ||
            fail screen_help_fits_80x24 "$(cat "$TMP/help$2.txt")"
    else
        grep -q '\.\.\. [0-9]* more lines: a taller terminal shows them' "$TMP/help$2.txt" && [ -n "$bottom" ] &&
            pass "screen_help_80x16_says_what_it_cannot_show" ||
            fail screen_help_80x16_says_what_it_cannot_show "$(cat "$TMP/help$2.txt")"
    fi
done
tm_stop

# t: the installed themes in turn (never an undocumented "builtin"); monochrome reached by t draws as a
# fresh start with --theme monochrome: no text black on black (cells whose colours are equal other than
# the spectrogram's half blocks)
same_colour_cells() { tmux -S "$TMUX_SOCK" capture-pane -e -p -t t > "$TMP/cells.txt"; $PY - "$TMP/cells.txt" <<'EOF'
import re, sys
s = open(sys.argv[1], encoding="utf-8", errors="replace").read()
fg = bg = None; n = 0; i = 0
while i < len(s):
    m = re.match(r"\x1b\[([0-9;]*)m", s[i:])
    if m:
        p = [int(x) if x else 0 for x in m.group(1).split(";")] if m.group(1) else [0]
        j = 0
        while j < len(p):
            v = p[j]
            if v == 0: fg = bg = None
            elif 30 <= v <= 37: fg = v - 30
            elif 40 <= v <= 47: bg = v - 40
            elif 90 <= v <= 97: fg = v - 82
            elif 100 <= v <= 107: bg = v - 92
            elif v == 39: fg = None
            elif v == 49: bg = None
            elif v in (38, 48) and j + 2 < len(p) and p[j + 1] == 5:
                if v == 38: fg = p[j + 2]
                else: bg = p[j + 2]
                j += 2
            j += 1
        i += m.end(); continue
    c = s[i]
    if c not in "\n\u2580\u2588" and fg is not None and fg == bg: n += 1     # block glyphs may be
    i += 1
print(n)
EOF
}
tm_start 120 40 env TERM=$TERMV "$DW_BIN" --speed 600 --no-record "$SAMPLE"
wait_for 20 '^ epoch [0-9]+ ' && tm_keys Space
wait_for 5 PAUSED
names=$(ls "$DW_ROOT"/themes/*.ini | sed 's|.*/||; s|\.ini$||' | tr '\n' ' ')
seen=; mono=
for k in 1 2 3 4 5 6; do
    tm_keys t; sleep 0.7
    th=$(tm_screen | tail -n 1 | grep -Eo 'theme [a-z-]+' | awk '{print $2}')
    seen="$seen $th"
    [ "$th" = monochrome ] && [ -z "$mono" ] && mono=$(same_colour_cells)
done
bad=; for th in $seen; do case " $names " in *" $th "*) ;; *) bad="$bad $th";; esac; done
if [ -z "$bad" ]; then pass "screen_theme_cycle (installed only:$seen)"; else fail screen_theme_cycle "not installed:$bad"; fi
if [ "$mono" = 0 ]; then pass "screen_theme_monochrome_by_t (no cell drawn in one colour on itself)"
else fail screen_theme_monochrome_by_t "${mono:-no monochrome reached}: cells in one colour on the same colour"; fi

# the bedside in natural mode offers to leave it, not to enter it
tm_start 80 24 env TERM=$TERMV "$DW_BIN" --paused --no-record --natural --bedside "$SAMPLE"
if wait_for 10 'n  leave natural sleep' && ! tm_screen | grep -q 'n  natural sleep ' && tm_screen | grep -q 'total sleep 0 h 00 min'; then
    pass screen_bedside_natural_key
else fail screen_bedside_natural_key "$(tm_screen | grep 'shutdown')"; fi

# the newest epoch unscored after scored ones: the status says so, not "no epoch scored yet"
$PY tests/e2e/make_inputs.py flat "$SAMPLE" "$TMP/flat-end.edf" 3600 0 3000 3600
tm_start 120 30 env TERM=$TERMV "$DW_BIN" --speed 0 --no-record "$TMP/flat-end.edf"
if wait_for 30 'epoch 119 unscored \(last scored 99 (W|N1|N2|N3|R)\)' || wait_for 5 'epoch 119 unscored \(last scored 9[0-9] '; then
    pass "screen_unscored_newest ($(tm_screen | grep -Eo 'epoch 119 unscored[^│]*'))"
else fail screen_unscored_newest "$(tm_screen | tail -n 1)"; fi

# REM cues are numbered apart from the stimuli: the first cue of a night with stimuli before it is cue 1
"$DW_BIN" --headless --speed 0 --enhanced --set stimulation.cue_enabled=true --out "$TMP/cue" "$SAMPLE" \
    > /dev/null 2> "$TMP/cue.err"
log=$(ls "$TMP"/cue/*.session.tsv 2>/dev/null | head -n 1)
first=$(awk -F'\t' '$3 == "cue" { print $4; exit }' "$log" 2>/dev/null)
before=$(awk -F'\t' '$3 == "cue" { exit } $3 == "stim" { n++ } END { print n + 0 }' "$log" 2>/dev/null)
if [ "$before" -gt 0 ] && echo "$first" | grep -q '^REM cue 1 '; then pass "screen_cue_numbering ($before stimuli, then '$first')"
else fail screen_cue_numbering "$before stimuli before '$first'"; fi

# --board on a replay is said, not ignored; --headless prints the source note and the alerts
"$DW_BIN" --headless --speed 0 --board daisy --set alerts.low_confidence_min=1 --set alerts.low_confidence_p=0.99 \
    --out "$TMP/hl" "$SAMPLE" > "$TMP/hl.out" 2> "$TMP/hl.err"
if grep -q 'board daisy ignored: it applies to a live board' "$TMP/hl.err"; then pass screen_board_on_replay_said
else fail screen_board_on_replay_said "$(head -3 "$TMP/hl.err")"; fi
na=$(grep -c 'Alert [0-9]* raised \[info\] low_confidence' "$TMP/hl.err")
nl=$(awk -F'\t' '$3 == "alert" && $4 ~ /raised/' "$(ls "$TMP"/hl/*.session.tsv | head -n 1)" | wc -l)
if [ "$na" -gt 0 ] && [ "$na" -eq "$nl" ]; then pass "screen_headless_prints_alerts ($na raised, as in the session log)"
else fail screen_headless_prints_alerts "$na printed, $nl in the log"; fi
if grep -q "the night's files:" "$TMP/hl.err" && grep -q 'summary .*\.summary\.txt' "$TMP/hl.err" &&
   grep -q 'session log .*\.session\.tsv' "$TMP/hl.err"; then pass screen_exit_prints_paths
else fail screen_exit_prints_paths "$(tail -4 "$TMP/hl.err")"; fi
