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
trap 'tm_stop_all; [ -n "$EMU" ] && kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
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

# A Cyton+Daisy at 120x40: 16 bands of one row (four dots high) each. Each band scales to its own signal
# (its scale beside it, "auto scale per row" in the title): the emulator's 12-28 uV alpha spans most of
# the four dots, not a flat line as at one scale for all (+-100 uV: 1.5 of 4 dot rows); Ch3, flat from
# the start (an electrode off), stays flat (the scale never goes under 5 uV) and is flagged.
start_emu --daisy --faults flat=0:60:3
tm_start 120 40 env TERM=$TERMV "$DW_BIN" --serial "$TMP/tty" --board daisy --no-record
if wait_for 20 'Traces'; then
    sleep 12                 # a whole 10-s plot
    tm_screen > "$TMP/daisy.txt"
    if out=$($PY - "$TMP/daisy.txt" <<'EOF2'
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
def extent(ch):              # dot rows from the top dot to the bottom one, 1-4
    b = ord(ch) - 0x2800
    rows = [y for y, m in enumerate((0x09, 0x12, 0x24, 0xC0)) if b & m]
    return rows[-1] - rows[0] + 1 if rows else 0
bad, seen = [], []
for l in lines[1:]:
    m = re.match(r"\u2502(Ch[0-9]+)", l)
    if not m: continue
    name, cells = m.group(1), [c for c in l[10:-9] if "\u2801" <= c <= "\u28ff"]
    ext = sum(extent(c) for c in cells) / max(1, len(cells))
    scale = re.search(r"\u00b1([0-9.]+) \u00b5V", l[-9:])
    seen.append("%s %.1f" % (name, ext))
    if name == "Ch3":
        if ext > 1.5 or "!" not in l[:10]: bad.append("flat Ch3 drawn as a signal (%.1f dot rows)" % ext)
    else:
        if ext < 2.5 or cells.count("\u28ff") > len(cells) / 2:
            bad.append("%s: %.1f of 4 dot rows, %d of %d cells full"
                       % (name, ext, cells.count("\u28ff"), len(cells)))
        if not scale: bad.append("%s: no scale of its own: %r" % (name, l[-9:]))
if len(seen) != 16: bad.append("%d bands" % len(seen))
if "auto scale per row" not in lines[0]: bad.append("title: " + lines[0][:60])
print("; ".join(bad) if bad else "dot rows used: " + ", ".join(seen[:4]) + "...")
sys.exit(1 if bad else 0)
EOF2
    ); then pass "screen_traces_daisy_one_row_scale ($out)"
    else fail screen_traces_daisy_one_row_scale "$out"; fi
else
    fail screen_traces_daisy_one_row_scale "$(tm_screen | head -n 1)"
fi
tm_keys C-c                  # a safe shutdown, waited for: nothing writes while the folder is removed
i=0; while tm_alive && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
stop_emu

# One automatic scale for bands of two rows and more: 1.2 x the bins' 95th-percentile peak on 1-2-5
# steps. It comes down when the signal gets smaller by a step: a replay of 25-uV alpha (+-50 uV) with 60 uV
# from 3 to 7 s (+-100 uV) is back at +-50 uV once the big part has left the 10-s plot; it stayed at
# +-100 uV for good (it came down only below 0.4 x the scale in use).
$PY - "$TMP/step.edf" <<'EOF2'
import sys
import numpy as np
sys.path.insert(0, "tests/e2e")
from make_inputs import write_edf
fs, t = 100, np.arange(60 * 100) / 100.0
amp = np.where((t >= 3) & (t < 7), 60.0, 25.0)
rng = np.random.default_rng(7)
sig = [amp * np.sin(2 * np.pi * 10 * t + k) + rng.normal(0, 1, t.size) for k in (0, 1)]
write_edf(sys.argv[1], ["EEG Fpz-Cz", "EEG Pz-Oz"], fs, sig, 600)
EOF2
tm_start 120 40 env TERM=$TERMV "$DW_BIN" --no-record --speed 1 "$TMP/step.edf"
if wait_for 12 '±100 µV auto' && wait_for 14 '±50 µV auto'; then
    pass screen_traces_auto_scale_comes_down
else
    fail screen_traces_auto_scale_comes_down "$(tm_screen | head -n 1)"
fi
tm_keys C-c
i=0; while tm_alive && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
