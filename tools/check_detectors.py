#!/usr/bin/python3
"""How well dreamwatch's live spindle and slow-wave detectors find what the sample night's generator put in,
beside the same criteria run offline the way YASA runs them (zero-phase FIR filters, centred windows,
whole-night trimmed RMS statistics over N2/N3), on the same frontal channel.

  tools/check_detectors.py [EVENTS.tsv]

EVENTS.tsv: the _events.tsv of `dreamwatch score sample-data/sample-night.edf` (made in a temporary folder
when not given). Truth: sample-data/sample-night.events.tsv (tools/make_sample_night.py --events). A
detection is a hit when it overlaps a true event; precision counts detections inside true N2/N3 (spindles)
or N3 (slow waves), where the generator puts them. Needs /usr/bin/python3 with numpy, scipy and mne."""
import os
import subprocess
import sys
import tempfile

import mne
import numpy as np
from scipy import signal, stats

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NIGHT = os.path.join(ROOT, "sample-data", "sample-night.edf")
TRUTH = os.path.join(ROOT, "sample-data", "sample-night.events.tsv")
mne.set_log_level("ERROR")


def yasa_spindles(x, sf, nrem):
    """YASA spindles_detect's thresholds (rel_pow 0.2, corr 0.65, rms 1.5 SD; 2 of 3; 0.5-2 s; merge
    under 0.5 s), offline."""
    sig = mne.filter.filter_data(x, sf, 12, 15, l_trans_bandwidth=1.5, h_trans_bandwidth=1.5, method="fir")
    brd = mne.filter.filter_data(x, sf, 1, 30, method="fir")
    nper, step = int(2 * sf), int(0.2 * sf)
    f, t, z = signal.stft(brd, sf, window="hann", nperseg=nper, noverlap=nper - step, boundary=None,
                          padded=False)
    p = np.abs(z) ** 2
    rel = p[(f >= 12) & (f <= 15)].sum(0) / p[(f >= 1) & (f <= 30)].sum(0)
    tt = np.arange(len(x)) / sf
    rel = np.interp(tt, t, rel)
    w, st = int(0.3 * sf), int(0.1 * sf)
    starts = range(0, len(x) - w, st)
    corr = np.interp(tt, [(i + w / 2) / sf for i in starts],
                     [np.corrcoef(sig[i:i + w], brd[i:i + w])[0, 1] for i in starts])
    rms = np.interp(tt, [(i + w / 2) / sf for i in starts], [np.sqrt(np.mean(sig[i:i + w] ** 2)) for i in starts])
    r = rms[nrem]
    thr = stats.trim_mean(r, 0.1) + 1.5 * stats.mstats.trimmed_std(r, (0.1, 0.1))
    mask = (((rel >= 0.2).astype(int) + (corr >= 0.65) + (rms >= thr)) >= 2) & nrem
    idx = np.flatnonzero(np.diff(np.r_[0, mask.astype(int), 0]))
    merged = []
    for s0, e0 in zip(idx[::2] / sf, idx[1::2] / sf):
        if merged and s0 - merged[-1][1] < 0.5:
            merged[-1][1] = e0
        else:
            merged.append([s0, e0])
    return [(s0, e0 - s0) for s0, e0 in merged if 0.5 <= e0 - s0 <= 2]


def yasa_slow_waves(x, sf):
    """YASA sw_detect's amplitude and duration criteria on a zero-phase 0.3-1.5 Hz FIR filter."""
    y = mne.filter.filter_data(x, sf, 0.3, 1.5, l_trans_bandwidth=0.2, h_trans_bandwidth=0.2, method="fir")
    d = np.diff(np.signbit(y).astype(int))
    fall, rise = np.flatnonzero(d == 1) + 1, np.flatnonzero(d == -1) + 1
    out = []
    for f0 in fall:
        r = rise[rise > f0]
        f1 = fall[fall > r[0]] if len(r) else []
        if not len(f1):
            break
        r, f1 = r[0], f1[0]
        neg, pos = y[f0:r].min(), y[r:f1].max()
        if (0.3 <= (r - f0) / sf <= 1.5 and 0.1 <= (f1 - r) / sf <= 1 and 40 <= -neg <= 200 and
                10 <= pos <= 150 and 75 <= pos - neg <= 350):
            out.append((f0 / sf, (f1 - f0) / sf))
    return out


def score(truth, det, hyp, kind, stages, min_amp=0):
    tru = np.array([(r[0], r[0] + r[1], r[3]) for r in truth if r[2] == kind and r[3] >= min_amp])
    inside = [d for d in det if hyp[min(len(hyp) - 1, int(d[0] // 30))] in stages]
    hit = np.zeros(len(tru), bool)
    tp = 0
    for d0, dd in inside:
        ov = (tru[:, 0] < d0 + dd) & (tru[:, 1] > d0)
        tp += bool(ov.any())
        hit |= ov
    minutes = sum(h in stages for h in hyp) / 2
    return hit.mean(), tp / max(1, len(inside)), len(inside) / minutes, len(tru) / minutes


def main():
    raw = mne.io.read_raw_edf(NIGHT, preload=True)
    x, sf = raw.get_data(picks=[0])[0] * 1e6, raw.info["sfreq"]
    hyp = ["?"] * (len(x) // int(30 * sf))
    for a in raw.annotations:
        if a["description"].startswith("Sleep stage"):
            s = {"1": "N1", "2": "N2", "3": "N3"}.get(a["description"][-1], a["description"][-1])
            for e in range(int(a["onset"] // 30), min(len(hyp), int((a["onset"] + a["duration"]) // 30))):
                hyp[e] = s
    truth = []
    for line in open(TRUTH).read().splitlines()[1:]:
        f = line.split("\t")
        truth.append((float(f[0]), float(f[1]), f[2], float(f[3])))
    if len(sys.argv) > 1:
        events = sys.argv[1]
    else:
        tmp = tempfile.mkdtemp()
        subprocess.run([os.path.join(ROOT, "build", "dreamwatch"), "score", NIGHT, "--out", tmp + "/n"],
                       check=True, stdout=subprocess.DEVNULL)
        events = tmp + "/n_events.tsv"
    ours = {"spindle": [], "slow_wave": []}
    for line in open(events).read().splitlines()[1:]:
        f = line.split("\t")
        if f[2] in ours:
            ours[f[2]].append((float(f[0]), float(f[1])))
    ep = np.minimum(np.arange(len(x)) // int(30 * sf), len(hyp) - 1)
    nrem = np.isin(np.array(hyp)[ep], ["N2", "N3"])
    ref = {"spindle": yasa_spindles(x, sf, nrem), "slow_wave": yasa_slow_waves(x, sf)}
    print("detector                      recall  precision  per min (truth)  recall of the big ones")
    for kind, stages, big in (("spindle", ("N2", "N3"), 15), ("slow_wave", ("N3",), 37.5)):
        for who, det in (("dreamwatch, live", ours[kind]), ("YASA rules, offline", ref[kind])):
            rec, prec, dens, tdens = score(truth, det, hyp, kind, stages)
            rbig = score(truth, det, hyp, kind, stages, big)[0]
            what = "15 uV and more" if kind == "spindle" else "75 uV peak to peak and more"
            print(f"{kind:9} {who:20} {rec:6.2f}  {prec:9.2f}  {dens:5.2f} ({tdens:5.2f}) in "
                  f"{'/'.join(stages):5}  {rbig:.2f} ({what})")


if __name__ == "__main__":
    main()
