#!/bin/sh
# Plain terminals: with LANG=C LC_ALL=C and NO_COLOR=1 the screen is pure ASCII (no byte >= 0x80 in what
# tmux shows) and carries no colour at all; --ascii does the same in a UTF-8 locale. Themes: every
# shipped theme loads without a complaint, and a broken theme file is reported with its name and line.
. tests/e2e/lib.sh
SAMPLE=$DW_ROOT/sample-data/sample-night.edf
if [ ! -f "$SAMPLE" ] || [ ! -x "$DW_BIN" ]; then skip screen_ascii "no binary or sample night (run make)"; exit 0; fi
if ! command -v tmux >/dev/null; then skip screen_ascii "no tmux"; exit 0; fi
TERMV=screen; infocmp tmux-256color >/dev/null 2>&1 && TERMV=tmux-256color

start() {  # ENV-ASSIGNMENTS OPTIONS: start the replay; 0 once an epoch is scored
    tm_start 120 40 sh -c "env TERM=$TERMV $1 \"\$0\" --speed 600 --no-record $2 '$SAMPLE'" "$DW_BIN"
    wait_for 60 'epoch [0-9]+ (W|N1|N2|N3|R)'
}

plain() {  # NAME ENV OPTIONS NO_COLOUR
    if ! start "$2" "$3"; then fail "$1" "no scored epoch after 60 s"; return; fi
    tm_keys '?'; sleep 1.5                                     # a dialog too
    tm_screen > "$TMP/plain.txt"
    tmux -S "$TMUX_SOCK" capture-pane -p -e -t t > "$TMP/escapes.txt"
    tmux -S "$TMUX_SOCK" kill-server
    high=$(LC_ALL=C tr -d '\000-\177' < "$TMP/plain.txt" | wc -c)
    if [ "$high" -ne 0 ]; then fail "$1" "$high bytes >= 0x80 on the screen"; return; fi
    grep -q '^+- Traces' "$TMP/plain.txt" || { fail "$1" "no ASCII boxes: $(head -1 "$TMP/plain.txt")"; return; }
    grep -q 'Help: keys' "$TMP/plain.txt" || { fail "$1" "no help dialog"; return; }
    if [ "$4" = 1 ] && grep -Eq '\[([0-9;]*;)?(3[0-7]|4[0-7]|38;5;[0-9]+|48;5;[0-9]+|9[0-7]|10[0-7])(;[0-9;]*)?m' "$TMP/escapes.txt"; then
        fail "$1" "colour escapes on the screen"; return
    fi
    pass "$1"
}
plain screen_ascii_lang_c_no_color "LANG=C LC_ALL=C NO_COLOR=1" "" 1
plain screen_ascii_option "LANG=C.UTF-8 LC_ALL=C.UTF-8" "--ascii" 0

for t in "$DW_ROOT"/themes/*.ini; do
    name=$(basename "$t" .ini)
    if ! start "" "--theme $name"; then fail "screen_theme_$name" "no scored epoch after 60 s"; continue; fi
    sleep 1
    if tm_screen | grep -q "theme"; then fail "screen_theme_$name" "$(tm_screen | grep theme)"
    else pass "screen_theme_$name"; fi
    tmux -S "$TMUX_SOCK" kill-server
done

printf '[ui]\ntext = default\nborder = purple-ish\n' > "$TMP/broken.ini"
# The complaint shows for a few seconds from start-up: look for it at once, not after the first epoch.
tm_start 120 40 sh -c "env TERM=$TERMV \"\$0\" --speed 600 --no-record --theme $TMP/broken.ini '$SAMPLE'" "$DW_BIN"
if wait_for 6 'broken.ini:3: \[ui\] border'; then pass screen_theme_error_named
else fail screen_theme_error_named "$(tm_screen | tail -1)"; fi
