#!/bin/sh
# Spindles and slow waves through the real binary: `score` of the real N2 snippet (YASA's example, 15 s:
# no whole epoch) tables none and says why (they count in staged NREM epochs only); `score` of the sample night finds what the generator put in (sample-data/
# sample-night.events.tsv) with the recall and precision measured by tools/check_detectors.py (floors a
# little under them); the CSV's per-epoch densities are the events table's counts; the events table is
# BIDS-shaped (onset ascending, duration or n/a, one sleep_stage row per epoch as in the CSV).
. "$(dirname "$0")/lib.sh"
HERE=$(dirname "$0")
SAMPLE=$DW_ROOT/sample-data/sample-night.edf
TRUTH=$DW_ROOT/sample-data/sample-night.events.tsv
PY=/usr/bin/python3
export XDG_CONFIG_HOME="$TMP/config" XDG_DATA_HOME="$TMP/data"
if [ ! -f "$SAMPLE" ] || [ ! -x "$DW_BIN" ]; then skip detectors "no binary or sample night (run make)"; exit 0; fi
if ! $PY -c 'import numpy, scipy' 2>/dev/null; then skip detectors "no Debian python3 with numpy/scipy"; exit 0; fi

SNIP=$SHARED/snippets/data_N2_spindles_15sec_200Hz.txt
if [ -f "$SNIP" ]; then
    $PY "$HERE/make_inputs.py" text "$SNIP" "$TMP/snip.edf" 200 "EEG C4-M1"
    "$DW_BIN" score "$TMP/snip.edf" --out "$TMP/snip-scored" > "$TMP/snip.out" 2>&1
    # 15 s: no whole epoch, so no stage, so its spindles (the detector finds YASA's 2: test_sleep_events)
    # count nowhere; score says so instead of tabling them or printing a density
    sp=$(awk -F'\t' '$3 == "spindle"' "$TMP/snip-scored_events.tsv" 2>/dev/null | wc -l)
    if [ "$sp" -eq 0 ] && grep -q "no spindles or slow waves (they count only in staged NREM epochs)" "$TMP/snip.out"; then
        pass "detectors_real_snippet: 15 s of real N2, no whole epoch: no spindle tabled, and said"
    else fail detectors_real_snippet "$sp spindles tabled: $(head -2 "$TMP/snip.out")"; fi
else skip detectors_real_snippet "no ../shared/data snippets"; fi

"$DW_BIN" score "$SAMPLE" --out "$TMP/night" > "$TMP/night.out" 2>&1
if $PY - "$TMP/night.csv" "$TMP/night_events.tsv" "$TRUTH" "$SAMPLE" > "$TMP/night.check" <<'PYEOF'
import sys, numpy as np
csv, events, truth_path, night = sys.argv[1:]
rows = [l.split(",") for l in open(csv).read().splitlines()]
head, rows = rows[0], rows[1:]
assert head[-2:] == ["spindles_per_min", "so_per_min"], head
stage = [r[2] for r in rows]
ev = [l.split("\t") for l in open(events).read().splitlines()]
bad = []
if ev[0] != ["onset", "duration", "trial_type", "value"]:
    bad.append("header %s" % ev[0])
ev = ev[1:]
on = [float(e[0]) for e in ev]
if on != sorted(on):
    bad.append("onsets not ascending")
if any(e[1] != "n/a" and float(e[1]) < 0 for e in ev):
    bad.append("negative duration")
st = {int(round(float(e[0]) / 30)): e[3] for e in ev if e[2] == "sleep_stage"}
if len(st) != len(stage) or any(st[i] != (s if s != "?" else "n/a") for i, s in enumerate(stage)):
    bad.append("sleep_stage rows differ from the CSV")
count = {}
for e in ev:
    if e[2] in ("spindle", "slow_wave"):
        k = (int(float(e[0]) // 30), e[2])
        count[k] = count.get(k, 0) + 1
# spindles count in N1-N3, slow waves in N2-N3 (YASA's include): elsewhere the CSV field is empty and the
# events table has none
where = {"spindle": ("N1", "N2", "N3"), "slow_wave": ("N2", "N3")}
outside = 0
for i, r in enumerate(rows):
    for kind, col in (("spindle", -2), ("slow_wave", -1)):
        if stage[i] not in where[kind]:
            outside += count.get((i, kind), 0)
            if r[col] != "" or count.get((i, kind), 0):
                bad.append("epoch %d (%s): CSV %s '%s', events table %d" % (i, stage[i], kind, r[col],
                                                                        count.get((i, kind), 0)))
                break
        elif abs(float(r[col]) - 2 * count.get((i, kind), 0)) > 1e-9:
            bad.append("epoch %d: CSV %s %s/min, events table %d" % (i, kind, r[col], count.get((i, kind), 0)))
            break
# against the generator's truth, inside the stages it puts them in (the true hypnogram: its annotations)
truth = [l.split("\t") for l in open(truth_path).read().splitlines()[1:]]
raw = open(night, "rb").read()
import re
hyp = {}
for m in re.finditer(rb"\+(\d+(?:\.\d+)?)\x15(\d+(?:\.\d+)?)\x14Sleep stage (\w)", raw):
    for e in range(int(float(m.group(1)) // 30), int((float(m.group(1)) + float(m.group(2))) // 30)):
        hyp[e] = {"1": "N1", "2": "N2", "3": "N3"}.get(m.group(3).decode(), m.group(3).decode())
out = []
for kind, stages, rmin, pmin in (("spindle", ("N2", "N3"), 0.45, 0.70), ("slow_wave", ("N3",), 0.28, 0.90)):
    t = np.array([(float(r[0]), float(r[0]) + float(r[1])) for r in truth if r[2] == kind])
    d = [(float(e[0]), float(e[1])) for e in ev if e[2] == kind and hyp.get(int(float(e[0]) // 30)) in stages]
    hit, tp = np.zeros(len(t), bool), 0
    for d0, dd in d:
        ov = (t[:, 0] < d0 + dd) & (t[:, 1] > d0)
        tp += bool(ov.any())
        hit |= ov
    rec, prec = hit.mean(), tp / max(1, len(d))
    out.append("%s recall %.2f precision %.2f" % (kind, rec, prec))
    if rec < rmin or prec < pmin:
        bad.append("%s: recall %.2f (floor %.2f), precision %.2f (floor %.2f)" % (kind, rec, rmin, prec, pmin))
print("; ".join(out))
for b in bad[:5]:
    print(b)
sys.exit(1 if bad else 0)
PYEOF
then pass "detectors_sample_night: $(head -1 "$TMP/night.check") against the generator's events; CSV densities = events table, none in W, R or unscored epochs"
else fail detectors_sample_night "$(tr '\n' ';' < "$TMP/night.check") $(tail -2 "$TMP/night.out")"; fi
grep -q 'spindles .*/min in N2' "$TMP/night.out" && pass "detectors_score_prints: $(grep -o 'spindles .*' "$TMP/night.out")" ||
    fail detectors_score_prints "no density line: $(cat "$TMP/night.out" | head -5)"

# ---- the session detects the same spindles and slow waves as score, and stages the same epochs: its
# events table (a headless replay of the night) holds the same rows for both ----
"$DW_BIN" --headless --speed 0 --out "$TMP/sess" "$SAMPLE" > /dev/null 2>&1
sev=$(ls "$TMP"/sess/*_events.tsv 2>/dev/null | head -1)
pick() { awk -F'\t' '$3 == "spindle" || $3 == "slow_wave" || $3 == "sleep_stage"' "$1" | sort; }
if [ -n "$sev" ] && [ "$(pick "$sev" | wc -l)" -gt 1500 ] && pick "$sev" | cmp -s - "$(pick "$TMP/night_events.tsv" > "$TMP/se"; echo "$TMP/se")"; then
    pass "detectors_session_equals_score: the session's events table has the same $(grep -c '	spindle	' "$sev") spindles, $(grep -c '	slow_wave	' "$sev") slow waves and 900 stages as score's"
else fail detectors_session_equals_score "$(pick "$sev" 2>/dev/null | wc -l) vs $(pick "$TMP/night_events.tsv" | wc -l) rows; $(pick "$sev" 2>/dev/null | diff - "$TMP/se" | head -4 | tr '\n' ';')"; fi
