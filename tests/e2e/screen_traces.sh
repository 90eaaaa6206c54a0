#!/bin/sh
# The trace pane on the real binary in tmux: a real OpenBCI GUI recording (DC offsets up to 61 mV) replays
# through the display filter with readable traces at the automatic scale (under +-500 uV, the filter
# named in the title, every channel band holding a moving line, not a flat one); a Cyton+Daisy at 80x24
# says how many channels it does not show and Up/Down scroll through them.
. tests/e2e/lib.sh
[ -x "$DW_BIN" ] || { skip screen_traces "no binary (run make)"; exit 0; }
command -v tmux >/dev/null || { skip screen_traces "no tmux"; exit 0; }
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data"
TERMV=screen; infocmp tmux-256color >/dev/null 2>&1 && TERMV=tmux-256color
PY=/usr/bin/python3

# readable NAME: the traces at the automatic scale in $TMP/traces.txt are readable
readable() {
    $PY - "$TMP/traces.txt" <<'EOF'
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
m = re.search(r"Traces [0-9]+ s, (.*?), \u00b1([0-9.]+) \u00b5V auto", lines[0])
if not m: print("no automatic scale in the title: %r" % lines[0][:80]); sys.exit(1)
filt, scale = m.group(1), float(m.group(2))
if scale >= 500: print("scale +-%g uV" % scale); sys.exit(1)
if "0.3-35 Hz" not in filt: print("filter not named: %r" % filt); sys.exit(1)
# channel bands: a label row "|ChN" starts a band that runs to the next label
bands, cur = [], None
for l in lines[1:]:
    if not l.startswith("\u2502") or l.startswith("\u2514"): break
    if re.match(r"\u2502Ch[0-9]+", l): cur = []; bands.append(cur)
    if cur is not None: cur.append(l[10:-9])
flat = []
for i, b in enumerate(bands):
    dots = set(c for r in b for c in r if "\u2801" <= c <= "\u28ff")
    rows = sum(1 for r in b if any("\u2801" <= c <= "\u28ff" for c in r))
    if len(dots) < 6 or rows < 2: flat.append("Ch%d (%d patterns on %d rows)" % (i + 1, len(dots), rows))
if len(bands) < 8: print("%d channel bands" % len(bands)); sys.exit(1)
if flat: print("flat: " + ", ".join(flat)); sys.exit(1)
print("+-%g uV, %s" % (scale, filt))
EOF
}

GUI=$SHARED/openbci/OpenBCI_GUI-v6-blinks-jawClench-alpha.txt
if [ -f "$GUI" ]; then
    tm_start 120 40 env TERM=$TERMV "$DW_BIN" --no-record "$GUI"
    wait_for 20 'Traces' || fail screen_traces_openbci "no trace pane"
    sleep 20                 # past the first seconds of electrode settling (raw SD 650 uV in second 1)
    tm_screen > "$TMP/traces.txt"
    if out=$(readable); then pass "screen_traces_openbci_readable ($out)"
    else fail screen_traces_openbci_readable "$out"; fi
    # the raw signal is one key away ([display] highpass_hz = 0, lowpass_hz = 0 in the config)
    tm_start 120 40 env TERM=$TERMV "$DW_BIN" --no-record --set display.highpass_hz=0 \
        --set display.lowpass_hz=0 "$GUI"
    if wait_for 20 'Traces 10 s, raw, '; then pass screen_traces_raw_named
    else fail screen_traces_raw_named "$(tm_screen | head -n 1)"; fi
else
    skip screen_traces_openbci "no $GUI"
fi

# A Cyton+Daisy (16 channels) at 80x24: the bands that do not fit are counted in the title, and Up/Down
# (the trace pane has the focus first) bring them into view.
trap 'for s in "$TMP"/tmux*.sock; do [ -S "$s" ] && tmux -S "$s" kill-server 2>/dev/null; done; [ -n "$EMU" ] && kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
. tests/e2e/emulator.inc
start_emu --daisy
tm_start 80 24 env TERM=$TERMV "$DW_BIN" --serial "$TMP/tty" --board daisy --no-record
if wait_for 20 'Traces .*\+[0-9]+ more \(Up/Down\)'; then
    shown=$(tm_screen | grep -c '^│Ch[0-9]')
    more=$(tm_screen | head -n 1 | grep -Eo '\+[0-9]+ more' | grep -Eo '[0-9]+')
    if [ $((shown + more)) -eq 16 ]; then pass "screen_traces_daisy_more ($shown shown, +$more more)"
    else fail screen_traces_daisy_more "$shown bands shown and +$more more is not 16"; fi
    tm_keys Down Down Down Down Down Down Down Down Down Down Down Down Down Down Down Down
    if wait_for 5 "[0-9]+-16 of 16 \(Up/Down\)" && tm_screen | grep -q '^│Ch16'; then pass screen_traces_daisy_scroll
    else fail screen_traces_daisy_scroll "$(tm_screen | head -n 1)"; fi
else
    fail screen_traces_daisy_more "$(tm_screen | head -n 1)"
fi
stop_emu
