#!/bin/sh
# Our outputs read by others: MNE-Python (Debian python3-mne) reads `score`'s EDF+ hypnogram with the
# stages, onsets and durations of our CSV (read with pandas) and the recording's start time, and reads a BDF+ recording
# made by `dreamwatch record` from `dreamwatch emulate` with its channels, rate, samples (against an
# independent decoding of the 24-bit words) and every annotation of the side log (onset, duration, text
# as the BDF+ keeps it: one line, a text over 40 bytes in numbered pieces).
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
NIGHT=$DW_ROOT/sample-data/sample-night.edf
[ -f "$NIGHT" ] || { fail mne "missing $NIGHT (make builds it)"; exit 0; }
if ! $PY -c 'import mne, pandas' 2>/dev/null; then
    skip mne_read "python3-mne (and python3-pandas) not installed: apt-get install python3-mne"; exit 0
fi

# ---- score's EDF+ and CSV ---------------------------------------------------------------------------
"$DW_BIN" score --out "$TMP/s" "$NIGHT" > "$TMP/score.out" 2>&1 || { fail "mne: score" "$(tail -3 "$TMP/score.out")"; exit 0; }
out=$($PY - "$TMP/s.edf" "$TMP/s.csv" "$NIGHT" <<'EOF' 2>&1
import sys, datetime, warnings
import mne, pandas as pd
mne.set_log_level("error")
warnings.simplefilter("ignore")
edf, csv, night = sys.argv[1:]
ann = mne.read_annotations(edf)
tab = pd.read_csv(csv)
assert list(tab.columns) == ["epoch", "onset_s", "stage", "p_W", "p_N1", "p_N2", "p_N3", "p_R",
                            "spindles_per_min", "so_per_min"], tab.columns
stages = ["Sleep stage " + s for s in tab["stage"]]
assert len(ann) == len(tab), (len(ann), len(tab))
assert list(ann.description) == stages, "stages differ"
assert all(abs(o - 30 * i) < 1e-6 for i, o in enumerate(ann.onset)), "onsets"
assert all(abs(o - e) < 1e-9 for o, e in zip(ann.onset, tab["onset_s"])), "CSV onsets"
assert all(abs(d - 30) < 1e-6 for d in ann.duration), "durations"
h = open(night, "rb").read(256)
d, t = h[168:176].decode(), h[176:184].decode()
start = datetime.datetime(2000 + int(d[6:8]) if int(d[6:8]) < 85 else 1900 + int(d[6:8]), int(d[3:5]), int(d[0:2]),
                          int(t[0:2]), int(t[3:5]), int(t[6:8]), tzinfo=datetime.timezone.utc)
# MNE 1.3's read_annotations leaves orig_time None for EDF; the start is in the header, where readers find it
assert ann.orig_time in (None, start), (ann.orig_time, start)
assert open(edf, "rb").read(256)[168:184] == h[168:184], "start date and time differ from the recording's"
print("ok %d epochs, %s" % (len(ann), ", ".join("%s %d" % (s, (tab.stage == s).sum()) for s in ["W", "N1", "N2", "N3", "R", "?"])))
EOF
)
case $out in
    ok*) pass "mne: score's EDF+ hypnogram: stages, onsets, durations and start as our CSV (${out#ok })" ;;
    *) fail "mne: score's EDF+ hypnogram read by MNE" "$(echo "$out" | tail -3)" ;;
esac

# ---- a BDF+ recording from `record` on an emulated Cyton ---------------------------------------------
EMU=; REC=
trap '[ -n "$REC" ] && kill $REC 2>/dev/null; [ -n "$EMU" ] && kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
. "$(dirname "$0")/emulator.inc"
start_emu
[ -L "$TMP/tty" ] || { fail "mne: emulator" "no pty: $(head -c 300 "$TMP/emu.err")"; exit 0; }
mkdir -p "$TMP/rec"
"$DW_BIN" record --serial "$TMP/tty" --out "$TMP/rec" --subject mne > "$TMP/rec.out" 2> "$TMP/rec.err" &
REC=$!
sleep 34                               # past the first 30-s epoch, so a stage is annotated
kill -TERM $REC; wait $REC; st=$?; REC=
stop_emu
bdf=$(ls "$TMP"/rec/mne-*.bdf 2>/dev/null | head -1)
[ $st -eq 0 ] && [ -n "$bdf" ] || { fail "mne: record" "status $st: $(tail -3 "$TMP/rec.err")"; exit 0; }
out=$($PY - "$bdf" <<'EOF' 2>&1
import sys, warnings
import numpy as np, mne
mne.set_log_level("error")
warnings.simplefilter("ignore")
path = sys.argv[1]
raw = mne.io.read_raw_bdf(path, preload=True)
b = open(path, "rb").read()
ns, hs, nrec, dur = int(b[252:256]), int(b[184:192]), int(b[236:244]), float(b[244:252])
f = lambda o, w: [b[256 + o * ns + i * w:256 + o * ns + (i + 1) * w].decode().strip() for i in range(ns)]
labels, spr = f(0, 16), [int(v) for v in f(216, 8)]
pmin, pmax = [float(v) for v in f(104, 8)], [float(v) for v in f(112, 8)]
dmin, dmax = [float(v) for v in f(120, 8)], [float(v) for v in f(128, 8)]
sig = [i for i in range(ns) if labels[i] != "BDF Annotations"]
assert raw.info["ch_names"] == [labels[i] for i in sig], raw.info["ch_names"]
# records of dur seconds (0.2 s: a kill loses at most one)
assert abs(raw.info["sfreq"] - spr[0] / dur) < 1e-9 and raw.n_times == nrec * spr[0], \
    (raw.info["sfreq"], raw.n_times, nrec, dur)
# channel 1 decoded here from the 24-bit words: MNE gives the same volts
rec = sum(spr) * 3
words = np.frombuffer(b[hs:hs + nrec * rec], np.uint8).reshape(nrec, rec)[:, :spr[0] * 3].reshape(-1, 3)
dig = (words[:, 0].astype(np.int32) | words[:, 1].astype(np.int32) << 8 | words[:, 2].astype(np.int32) << 16)
dig = np.where(dig >= 1 << 23, dig - (1 << 24), dig)
uv = (dig - dmin[0]) * (pmax[0] - pmin[0]) / (dmax[0] - dmin[0]) + pmin[0]
assert np.allclose(raw.get_data(picks=[0])[0] * 1e6, uv, rtol=0, atol=1e-6 * max(1, np.abs(uv).max())), "samples"
# every side-log event, as the BDF+ keeps its text: one line, whole (a text over 40 bytes in pieces
# "(k/n) ..." at one onset, rejoined here by the README's rule)
log = [l.rstrip("\n").split("\t") for l in open(path + ".events.tsv")][1:]
def bdf_text(t):
    t = t.replace("\\n", "\n").replace("\\t", "\t").replace("\\r", "\r").replace("\\\\", "\\")
    return "".join(c if ord(c) >= 32 else " " for c in t).rstrip()
import re
assert all(len(a["description"].encode()) <= 40 for a in raw.annotations)
got, sets = [], {}
for a in raw.annotations:
    m = re.match(r"\((\d+)/(\d+)\) ", a["description"])
    if m:
        sets.setdefault((a["onset"], a["duration"], m.group(2)), {}).setdefault(int(m.group(1)), []).append(
            a["description"][m.end():])
    else:
        got.append((round(a["onset"], 3), a["duration"], a["description"].rstrip()))
got += [(round(k[0], 3), k[1], "".join(v[i][j] for i in sorted(v)).rstrip()) for k, v in sets.items()
        for j in range(len(v[1]))]
for on, du, text in log:
    want = (round(float(on), 3), float(du) if du != "-" else 0.0, bdf_text(text))
    assert any(abs(g[0] - want[0]) < 1e-3 and abs(g[1] - want[1]) < 1e-3 and g[2] == want[2] for g in got), (want, got)
stages = [g for g in got if g[2].startswith("Sleep stage ")]
assert stages and all(abs(g[0] % 30) < 1e-3 and g[1] == 30 for g in stages), stages
assert len(got) == len(log), (len(got), len(log))
print("ok %d channels at %g Hz, %g s, %d annotations (%s)" % (len(sig), raw.info["sfreq"], nrec * dur, len(got),
      ", ".join(g[2] for g in stages)))
EOF
)
case $out in
    ok*) pass "mne: our BDF+ recording: channels, rate, samples and every side-log annotation (${out#ok })" ;;
    *) fail "mne: our BDF+ recording read by MNE" "$(echo "$out" | tail -3)" ;;
esac
