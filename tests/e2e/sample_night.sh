#!/bin/sh
# The shipped sample night: EDFlib opens it, its header and EDF+ annotations are well formed, its
# hypnogram looks like a healthy night, and its per-stage EEG features sit near the real ones.
. tests/e2e/lib.sh
GZ=$DW_ROOT/sample-data/sample-night.edf.gz
EDF=$TMP/sample-night.edf
if ! gzip -dc "$GZ" > "$EDF" 2>"$TMP/gz.err"; then
    fail sample_night_gunzip "$GZ: $(cat "$TMP/gz.err")"; exit 0
fi
pass sample_night_gunzip
size=$(wc -c < "$GZ")
if [ "$size" -le 6500000 ]; then pass "sample_night_size ($size bytes)"; else fail sample_night_size "$size bytes > 6.5 MB"; fi

# The real library the program reads with: open, signals, annotations.
cat > "$TMP/chk.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <edflib.h>
int main(int argc, char **argv) {
    struct edf_hdr_struct h;
    struct edf_annotation_struct a;
    double buf[3000];
    if (argc < 2 || edfopen_file_readonly(argv[1], &h, EDFLIB_READ_ALL_ANNOTATIONS) < 0) {
        printf("open failed, filetype %d\n", h.filetype);
        return 1;
    }
    printf("%d %d %lld %lld %d %d", h.filetype, h.edfsignals, (long long)h.datarecords_in_file,
           (long long)h.annotations_in_file, h.signalparam[0].smp_in_datarecord,
           edfread_physical_samples(h.handle, 1, 3000, buf));
    for (int i = 0; i < h.edfsignals; i++)
        printf(" [%s|%s]", h.signalparam[i].label, h.signalparam[i].physdimension);
    edf_get_annotation(h.handle, 0, &a);
    printf(" first=%s", a.annotation);
    edf_get_annotation(h.handle, (int)h.annotations_in_file - 1, &a);
    printf(" last=%s\n", a.annotation);
    edfclose_file(h.handle);
    return 0;
}
EOF
if cc -o "$TMP/chk" "$TMP/chk.c" -ledf -lm 2>"$TMP/cc.err"; then
    out=$("$TMP/chk" "$EDF")
    want="1 2 900 N 3000 3000 [EEG Fpz-Cz|uV] [EEG Pz-Oz|uV] first=Lights off last=Lights on"
    n=$(printf '%s\n' "$out" | awk '{print $4}')
    if printf '%s\n' "$out" | grep -Eq '^1 2 900 [0-9]+ 3000 3000 \[EEG Fpz-Cz +\|uV +\] \[EEG Pz-Oz +\|uV +\] first=Lights off last=Lights on$' \
        && [ "$n" -gt 40 ]; then
        pass "sample_night_edflib ($n annotations)"
    else
        fail sample_night_edflib "EDFlib says '$out', expected like '$want'"
    fi
else
    skip sample_night_edflib "cannot build against EDFlib: $(head -1 "$TMP/cc.err")"
fi

# Header, TALs, hypnogram shape and features, in Python with the generator's own reader.
DW_ROOT="$DW_ROOT" SHARED="$SHARED" /usr/bin/python3 - "$EDF" <<'EOF'
import os, sys
import numpy as np
sys.path.insert(0, os.path.join(os.environ.get("DW_ROOT", "."), "tools"))
import make_sample_night as m

def report(name, ok, why=""):
    print(f"PASS {name}" if ok else f"FAIL {name}: {why}")

path = sys.argv[1]
try:
    hdr, sigs, ann = m.read_edf(path)
except ValueError as e:
    report("sample_night_parse", False, str(e))
    sys.exit(0)
bad = []
if hdr["version"].strip() != "0": bad.append("version")
if hdr["reserved"] != "EDF+C": bad.append(f"reserved {hdr['reserved']!r}")
if hdr["patient"] != "X X X Sample_night": bad.append(f"patient {hdr['patient']!r}")
if not hdr["recording"].startswith("Startdate 15-MAR-2024 "): bad.append("recording field")
if (hdr["startdate"], hdr["starttime"]) != ("15.03.24", "22.30.00"): bad.append("start")
if (hdr["nrec"], hdr["recdur"]) != (900, 30.0): bad.append("records")
if hdr["labels"] != ["EEG Fpz-Cz", "EEG Pz-Oz", "EDF Annotations"]: bad.append("labels")
if hdr["dims"][:2] != ["uV", "uV"] or hdr["nsamp"][:2] != [3000, 3000]: bad.append("units/rate")
if hdr["timekeeping"] != [30.0 * r for r in range(900)]: bad.append("time-keeping TALs")
report("sample_night_header", not bad, ", ".join(bad))

stages = [(o, d, t) for o, d, t in ann if t.startswith("Sleep stage ")]
tiles = all(abs(a[0] + a[1] - b[0]) < 1e-9 and a[2] != b[2] for a, b in zip(stages, stages[1:]))
tiles = tiles and stages[0][0] == 0 and stages[-1][0] + stages[-1][1] == 27000
others = [(o, t) for o, d, t in ann if not t.startswith("Sleep stage ")]
report("sample_night_annotations", tiles and others == [(0.0, "Lights off"), (26970.0, "Lights on")],
       f"stage runs tile 0-27000 s: {tiles}; other annotations {others}")

hyp = m.hyp_from_annotations(ann, hdr["nrec"])
pct = m.night_stats(hyp)[0]
onset = int(np.argmax(hyp >= 1)) / 2
ok = (set(hyp) == {0, 1, 2, 3, 4} and 40 <= pct["N2"] <= 60 and 10 <= pct["N3"] <= 25 and
      15 <= pct["R"] <= 25 and 10 <= onset <= 20 and len(m.rem_periods(hyp)) >= 4)
report("sample_night_hypnogram", ok, f"% of sleep {pct}, sleep onset {onset} min, "
       f"{len(m.rem_periods(hyp))} REM periods")

def compare(name, real):
    worst, where = 1.0, ""
    feats = {ch: m.night_features(sigs[m.CH_LABEL[ch]]) for ch in m.CHANNELS}
    for k, s in enumerate(m.STAGES):
        for c, ch in enumerate(m.CHANNELS):
            r = np.median(feats[ch][hyp == k], 0) / np.array(real[s]["median"][7 * c:7 * c + 7])
            f = np.maximum(r, 1 / r)
            if f.max() > worst:
                worst, where = f.max(), f"{s} {ch}_{m.FEATS[int(f.argmax())]}"
    report(f"{name} (worst factor {worst:.2f} at {where})", worst <= 1.6, "over 1.6")

shared = os.environ["SHARED"]
if os.path.isdir(os.path.join(shared, "sleep-edf", "features")):
    compare("sample_night_features_vs_real", m.extract_features(shared))
else:
    print(f"SKIP sample_night_features_vs_real: no real data at {shared}")
EOF
