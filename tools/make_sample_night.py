#!/usr/bin/python3
"""Generate the shipped sample night: a synthetic 7.5-h two-channel EDF+C sleep recording.

  make_sample_night.py --extract [--shared DIR]   refresh tools/sample_night_params.json from real data
  make_sample_night.py [--out FILE.edf.gz]          generate the night from the committed parameters
  make_sample_night.py --validate FILE.edf[.gz]     print the validation tables for an existing file

The hypnogram comes from a semi-Markov model (run lengths and next stages per hour of sleep) fitted
on the Sleep-EDF hypnograms of subjects under 40, plus two hand-made terms (a REM cycle, N3 early),
drawn until the night passes a textbook check; each epoch's 7 features per channel are drawn
from a log-normal fitted per stage on the Sleep-EDF feature tables, with an AR(1) link between epochs.
The EEG is spectrally shaped Gaussian noise whose expected Welch features equal the drawn targets after
the time-domain events (spindles, K-complexes, slow waves, alpha, sawtooth, eye movements, blinks,
movement artefacts) have taken their share. Needs only numpy/scipy (Debian's /usr/bin/python3).
"""
import argparse
import glob
import gzip
import io
import json
import os
import sys

import numpy as np
from scipy.optimize import nnls
from scipy.signal import welch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PARAMS = os.path.join(HERE, "sample_night_params.json")
SHARED = os.path.join(ROOT, "..", "shared", "data")

FS = 100
EPOCH = 30
NS = FS * EPOCH
STAGES = ["W", "N1", "N2", "N3", "R"]
STAGE_LABEL = {"W": "Sleep stage W", "N1": "Sleep stage 1", "N2": "Sleep stage 2",
               "N3": "Sleep stage 3", "R": "Sleep stage R"}
RK = {"Sleep stage W": 0, "Sleep stage 1": 1, "Sleep stage 2": 2, "Sleep stage 3": 3,
      "Sleep stage 4": 3, "Sleep stage R": 4}
CHANNELS = ["fpz", "pz"]
CH_LABEL = {"fpz": "EEG Fpz-Cz", "pz": "EEG Pz-Oz"}
FEATS = ["delta", "theta", "alpha", "beta", "gamma", "var", "dvar"]
BANDS = [(0.5, 4), (4, 8), (8, 13), (13, 30), (30, 50)]
NIGHT_EPOCHS = 900                  # 7.5 h
START = (2024, 3, 15, 22, 30, 0)    # fixed date so the file is reproducible
HOUR_BINS = 8                       # hours since sleep onset, last bin open-ended
MAX_AGE = 39                        # the model learns from young adults' nights only
MAXRUN = 120                        # longest run kept in the run-length histograms (epochs)

# --------------------------------------------------------------------------- features


def epoch_features(x):
    """The seven features of one 30-s epoch exactly as the data README defines them."""
    f, p = welch(x, fs=FS, nperseg=256)
    out = [p[(f >= lo) & (f <= hi)].mean() for lo, hi in BANDS]
    return out + [np.var(x), np.var(np.diff(x))]


def night_features(sig):
    n = len(sig) // NS
    return np.array([epoch_features(sig[i * NS:(i + 1) * NS]) for i in range(n)])

# --------------------------------------------------------------------------- EDF+ reading


def read_edf(path):
    """Minimal EDF+ reader: header dict, {label: physical samples}, [(onset, duration, text)]."""
    raw = gzip.open(path, "rb").read() if path.endswith(".gz") else open(path, "rb").read()
    h = raw[:256].decode("ascii")
    hdr = {"version": h[0:8], "patient": h[8:88].rstrip(), "recording": h[88:168].rstrip(),
           "startdate": h[168:176], "starttime": h[176:184], "nbytes": int(h[184:192]),
           "reserved": h[192:236].rstrip(), "nrec": int(h[236:244]), "recdur": float(h[244:252]),
           "ns": int(h[252:256])}
    ns = hdr["ns"]
    s = raw[256:256 + ns * 256].decode("ascii")

    def field(off, width):
        return [s[off * ns + i * width: off * ns + (i + 1) * width].strip() for i in range(ns)]
    labels = field(0, 16)
    dims = [s[96 * ns + i * 8: 96 * ns + (i + 1) * 8].strip() for i in range(ns)]
    o2 = (16 + 80 + 8) * ns
    pmin = [float(s[o2 + i * 8: o2 + (i + 1) * 8]) for i in range(ns)]
    pmax = [float(s[o2 + 8 * ns + i * 8: o2 + 8 * ns + (i + 1) * 8]) for i in range(ns)]
    dmin = [int(s[o2 + 16 * ns + i * 8: o2 + 16 * ns + (i + 1) * 8]) for i in range(ns)]
    dmax = [int(s[o2 + 24 * ns + i * 8: o2 + 24 * ns + (i + 1) * 8]) for i in range(ns)]
    o3 = o2 + 32 * ns + 80 * ns
    nsamp = [int(s[o3 + i * 8: o3 + (i + 1) * 8]) for i in range(ns)]
    hdr.update(labels=labels, dims=dims, pmin=pmin, pmax=pmax, dmin=dmin, dmax=dmax, nsamp=nsamp)
    if hdr["nbytes"] != 256 * (ns + 1):
        raise ValueError(f"{path}: header size field {hdr['nbytes']} != {256 * (ns + 1)}")
    recw = sum(nsamp)
    nrec = hdr["nrec"]
    body = np.frombuffer(raw, dtype="<i2", offset=hdr["nbytes"],
                         count=nrec * recw).reshape(nrec, recw)
    if len(raw) != hdr["nbytes"] + 2 * nrec * recw:
        raise ValueError(f"{path}: {len(raw)} bytes, header says {hdr['nbytes'] + 2 * nrec * recw}")
    sigs, annots, off = {}, [], 0
    hdr["timekeeping"] = []
    for i, lab in enumerate(labels):
        block = body[:, off:off + nsamp[i]]
        off += nsamp[i]
        if lab == "EDF Annotations":
            for r in range(nrec):
                keep, a = parse_tal(block[r].tobytes(), r, path)
                hdr["timekeeping"].append(keep)
                annots += a
        else:
            g = (pmax[i] - pmin[i]) / (dmax[i] - dmin[i])
            sigs[lab] = (block.reshape(-1).astype(float) - dmin[i]) * g + pmin[i]
    return hdr, sigs, annots


def parse_tal(buf, rec, path):
    """One record's TALs: (time-keeping onset, [(onset, duration or None, text)])."""
    tals = [t for t in buf.split(b"\x00") if t]
    if not tals:
        raise ValueError(f"{path}: record {rec}: no time-keeping TAL")
    out, keep = [], None
    for k, tal in enumerate(tals):
        if not tal.endswith(b"\x14"):
            raise ValueError(f"{path}: record {rec}: TAL {k} does not end with 0x14 0x00")
        parts = tal[:-1].split(b"\x14")
        head = parts[0].split(b"\x15")
        if head[0][:1] not in (b"+", b"-"):
            raise ValueError(f"{path}: record {rec}: TAL {k} does not start with a sign")
        onset = float(head[0])
        dur = float(head[1]) if len(head) > 1 and head[1] else None
        texts = [p.decode("utf-8") for p in parts[1:]]
        if k == 0:
            if texts != [""]:
                raise ValueError(f"{path}: record {rec}: first TAL is not time-keeping")
            keep = onset
            continue
        out += [(onset, dur, t) for t in texts if t]
    return keep, out


def hypnogram_epochs(path):
    """Stage index per 30-s epoch from an annotation file (-1 = unscored/movement)."""
    _, _, ann = read_edf(path)
    ep = []
    for onset, dur, text in ann:
        if dur is None:
            continue
        n = int(round(dur / EPOCH))
        first = int(round(onset / EPOCH))
        if len(ep) < first:
            ep += [-1] * (first - len(ep))
        ep += [RK.get(text, -1)] * n
    return np.array(ep, dtype=int)

# --------------------------------------------------------------------------- statistics from real data


def sleep_period(ep):
    s = np.where(ep >= 1)[0]
    return s[0], s[-1]


def runs_of(seq):
    """[(stage, start, length)] of a stage sequence with unscored epochs dropped."""
    seq = [s for s in seq if s >= 0]
    out = []
    for i, s in enumerate(seq):
        if out and out[-1][0] == s:
            out[-1][2] += 1
        else:
            out.append([s, i, 1])
    return out


def night_stats(ep):
    """Sleep-period statistics of one hypnogram: % of TST, transition counts, cycle measures."""
    a, b = sleep_period(ep)
    sp = ep[a:b + 1]
    sp = sp[sp >= 0]
    tst = (sp >= 1).sum()
    pct = {STAGES[k]: 100.0 * (sp == k).sum() / tst for k in range(1, 5)}
    pct["W"] = 100.0 * (sp == 0).sum() / len(sp)  # wake after sleep onset, % of the sleep period
    trans = np.zeros((5, 5), int)
    for x, y in zip(sp[:-1], sp[1:]):
        if x != y:
            trans[x, y] += 1
    return pct, trans, tst


def age_of(path):
    """Age in years from the patient field ("X F X Female_33yr")."""
    with open(path, "rb") as fh:
        pat = fh.read(88)[8:].decode("ascii", "replace")
    tail = pat.split("_")[-1].strip()
    return int(tail[:-2]) if tail.endswith("yr") and tail[:-2].isdigit() else 999


def extract(shared):
    hyp_files = sorted(glob.glob(os.path.join(shared, "sleep-edf", "hypnograms", "*-Hypnogram.edf")))
    if not hyp_files:
        sys.exit(f"no hypnograms under {shared}/sleep-edf/hypnograms")
    dur = np.zeros((HOUR_BINS, 5, MAXRUN + 1), int)
    nxt = np.zeros((HOUR_BINS, 5, 5), int)
    first = np.zeros(5, int)
    pcts, transes, tsts, all_pcts = [], [], [], []
    for path in hyp_files:
        ep = hypnogram_epochs(path)
        if (ep >= 1).sum() < 60:
            continue
        all_pcts.append(night_stats(ep)[0])
        if age_of(path) > MAX_AGE:
            continue
        a, b = sleep_period(ep)
        rr = runs_of(ep[a:b + 1])
        first[rr[0][0]] += 1
        for i, (s, start, n) in enumerate(rr):
            hb = min(start * EPOCH // 3600, HOUR_BINS - 1)
            dur[hb, s, min(n, MAXRUN)] += 1
            if i + 1 < len(rr):
                nx = rr[i + 1][0]
                nxt[hb, s, nx] += 1
        pct, trans, tst = night_stats(ep)
        pcts.append(pct)
        transes.append(trans)
        tsts.append(tst)
    feat = extract_features(shared)
    return {
        "source": "Sleep-EDF Expanded (PhysioNet sleep-edfx), ODC-By 1.0: "
                  f"{len(hyp_files)} hypnograms, {feat.pop('nights')} feature tables",
        "hypnogram": {
            "nights": len(pcts), "max_age": MAX_AGE,
            "all_nights": len(all_pcts),
            "all_pct_median": {k: float(np.median([p[k] for p in all_pcts])) for k in STAGES},
            "first_stage": first.tolist(),
            "run_length": [[[[int(n), int(c)] for n, c in enumerate(dur[h, s]) if c]
                            for s in range(5)] for h in range(HOUR_BINS)],
            "next": nxt.tolist(),
            "real_pct_median": {k: float(np.median([p[k] for p in pcts])) for k in STAGES},
            "real_pct_iqr": {k: [float(np.percentile([p[k] for p in pcts], q)) for q in (25, 75)]
                             for k in STAGES},
            "real_trans_mean": (np.mean(transes, axis=0)).round(2).tolist(),
            "real_tst_min_median": float(np.median(tsts) * 0.5),
        },
        "features": feat,
    }


def extract_features(shared):
    """Per stage: log-normal fit (mean, covariance) of the 14 features, lag-1 autocorrelation,
    and the real medians. Only epochs from 30 min before sleep onset to 30 min after the last
    sleep epoch count, the window sleep scoring uses (the cassette nights have ~15 h of daytime
    wake that looks nothing like wake in bed)."""
    cols = [f"{c}_{f}" for c in CHANNELS for f in FEATS]
    rows = {s: [] for s in STAGES}
    pairs = {s: [] for s in STAGES}
    files = sorted(glob.glob(os.path.join(shared, "sleep-edf", "features", "*.tsv")))
    for path in files:
        with open(path) as fh:
            names = fh.readline().rstrip("\n").split("\t")
            recs = [line.rstrip("\n").split("\t") for line in fh]
        ci = [names.index(c) for c in cols]
        epn = np.array([int(r[0]) for r in recs])
        st = np.array([r[names.index("stage")] for r in recs])
        X = np.log(np.array([[float(r[i]) for i in ci] for r in recs]))
        sl = np.where(st != "W")[0]
        lo, hi = epn[sl[0]] - 60, epn[sl[-1]] + 60
        keep = (epn >= lo) & (epn <= hi)
        for i in np.where(keep)[0]:
            rows[st[i]].append(X[i])
            if i + 1 < len(recs) and keep[i + 1] and epn[i + 1] == epn[i] + 1 and st[i + 1] == st[i]:
                pairs[st[i]].append((X[i], X[i + 1]))
    out = {"columns": cols, "nights": len(files)}
    for s in STAGES:
        X = np.array(rows[s])
        P = np.array(pairs[s])
        mu = X.mean(0)
        sd = X.std(0)
        rho = np.mean([np.corrcoef(P[:, 0, j], P[:, 1, j])[0, 1] for j in range(X.shape[1])])
        out[s] = {"n": len(X), "mean": mu.tolist(), "cov": np.cov(X.T).tolist(),
                  "ar1": float(rho), "median": np.exp(np.median(X, 0)).tolist(),
                  "sd": sd.tolist()}
    return out

# --------------------------------------------------------------------------- hypnogram model


class StageModel:
    def __init__(self, hp):
        self.runs = []                     # per hour bin and stage: (run lengths, cumulative p)
        for h in range(HOUR_BINS):
            row = []
            for s in range(5):
                lc = np.array(hp["run_length"][h][s] or [[1, 1]], float).T
                row.append((lc[0].astype(int), np.cumsum(lc[1]) / lc[1].sum()))
            self.runs.append(row)
        self.nxt = np.array(hp["next"], float) + 0.5
        self.first = np.cumsum(hp["first_stage"]) / np.sum(hp["first_stage"])

    def sample(self, rng, n_epochs):
        s = int(np.searchsorted(self.first, rng.random()))
        out, t, last_r_end = [], 0, 0
        while t < n_epochs:
            hb = min(t * EPOCH // 3600, HOUR_BINS - 1)
            lens, cum = self.runs[hb][s]
            n = int(lens[min(np.searchsorted(cum, rng.random()), len(lens) - 1)])
            out += [s] * n
            t += n
            if s == 4:
                last_r_end = t
            p = self.nxt[hb, s].copy()
            p[4] *= rem_hazard((t - last_r_end) * EPOCH / 60)
            p[3] *= 1.0 if hb < 4 else 0.3      # slow-wave pressure spent in the first half
            p[s] = 0
            s = int(np.searchsorted(np.cumsum(p), rng.random() * p.sum()))
        return out[:n_epochs]


def rem_hazard(minutes):
    """Hand-made ultradian term: the real next-stage odds say nothing about the ~90-min cycle,
    so REM may resume within 10 min (a REM period broken by a brief arousal), is unlikely until
    50 min after the last REM epoch and increasingly likely after that."""
    if minutes <= 10:
        return 1.0
    return 0.1 if minutes < 50 else min(np.exp((minutes - 50) / 20), 8.0)


def rem_periods(hyp, gap=30):
    """REM periods: REM runs merged when less than `gap` epochs (15 min) apart."""
    idx = np.where(np.array(hyp) == 4)[0]
    if len(idx) == 0:
        return []
    per = [[idx[0], idx[0]]]
    for i in idx[1:]:
        if i - per[-1][1] <= gap:
            per[-1][1] = i
        else:
            per.append([i, i])
    return per


def believable(hyp, onset):
    """Acceptance test that shapes a sampled night into a textbook-looking one."""
    h = np.array(hyp)
    a, b = sleep_period(h)
    pct, _, _ = night_stats(h)
    per = rem_periods(h)
    n3 = np.where(h == 3)[0]
    lens = [p[1] - p[0] for p in per]
    wake = [n for s, _, n in runs_of(h[a:b + 1]) if s == 0]
    return (4 <= len(per) <= 5 and 120 <= per[0][0] - onset <= 220 and
            len(n3) and np.mean(n3 < NIGHT_EPOCHS // 2) >= 0.8 and
            lens[-1] == max(lens) and 8 <= lens[0] <= 50 and min(lens) >= 8 and
            all(b >= 0.7 * a for a, b in zip(lens, lens[1:])) and
            45 <= pct["N2"] <= 58 and 13 <= pct["N3"] <= 22 and 17 <= pct["R"] <= 25 and
            4 <= pct["N1"] <= 14 and 3 <= len(wake) <= 12 and max(wake) <= 10 and
            pct["W"] <= 10 and per[-1][1] < b and per[-1][1] >= len(h) - 150 and
            all(120 <= q[0] - p[0] <= 280 for p, q in zip(per, per[1:])))


def make_hypnogram(params, seed):
    """Lights-off wake, a sampled sleep period, final wake; tries seeds until the night looks
    like a healthy adult's (returns the seed used so the README can name it)."""
    model = StageModel(params["hypnogram"])
    for k in range(100000):
        rng = np.random.default_rng([seed, k])
        onset = int(rng.integers(20, 41))            # 10-20 min to fall asleep
        final = int(rng.integers(10, 25))            # 5-12 min awake before lights on
        body = model.sample(rng, NIGHT_EPOCHS - onset - final)
        if body[-1] == 0:
            continue
        hyp = [0] * onset + body + [0] * final
        if believable(hyp, onset):
            return hyp, (seed, k), onset
    raise RuntimeError("no believable night found")

# --------------------------------------------------------------------------- spectral design

GEN = 3400                        # samples generated per epoch (30 s + 2 s each side)
PAD = (GEN - NS) // 2
FADE = 200                        # 2-s equal-power cross-fade centred on each epoch boundary
FINE = np.fft.rfftfreq(GEN, 1 / FS)
# Basis spectra: slow drift (<0.5 Hz, counts in var only), one 1/f-ish piece per band, beta split
# in two so that dvar (high-frequency weight) is a free parameter too.
BASIS_EDGES = [(0.08, 0.5, 1.0), (0.5, 4, 1.0), (4, 8, 0.5), (8, 13, 0.0), (13, 21.5, 0.5),
               (21.5, 30, 0.5), (30, 50, 0.0)]


def basis_spectra():
    B = np.zeros((len(BASIS_EDGES), len(FINE)))
    for j, (lo, hi, alpha) in enumerate(BASIS_EDGES):
        m = (FINE >= lo) & (FINE < hi) if hi < 50 else (FINE >= lo)
        B[j, m] = (FINE[m] / lo) ** -alpha
        B[j] /= B[j, m].mean()
    return B


def expected_features(S):
    """Exact expectation of the 7 features for stationary Gaussian noise with one-sided PSD S
    (on FINE): Welch with Hann window and per-segment mean removal, var of 3000 samples, dvar."""
    lag = np.arange(NS)
    r = (S[None, :] * np.cos(2 * np.pi * FINE[None, :] * lag[:, None] / FS)).sum(1) * FINE[1]
    R = r[np.abs(np.subtract.outer(np.arange(256), np.arange(256)))]
    w = np.hanning(257)[:256]             # periodic Hann, as scipy's default
    C = np.eye(256) - 1.0 / 256           # segment mean removal
    D = w[:, None] * C
    M = D @ R @ D.T
    F = np.exp(-2j * np.pi * np.outer(np.arange(129), np.arange(256)) / 256)
    P = np.real(np.einsum("ki,ij,kj->k", F, M, F.conj())) / (FS * (w ** 2).sum())
    P[1:-1] *= 2
    fb = np.arange(129) * FS / 256
    bands = [P[(fb >= lo) & (fb <= hi)].mean() for lo, hi in BANDS]
    # population variance of N samples: r0 minus the variance of the sample mean
    varmean = (r[0] * NS + 2 * ((NS - lag[1:]) * r[1:]).sum()) / NS ** 2
    return np.array(bands + [r[0] - varmean, 2 * (r[0] - r[1])])


BASIS = basis_spectra()
BASIS_FEATS = np.array([expected_features(b) for b in BASIS]).T     # 7 features x 7 bases


def design_weights(target):
    """Non-negative basis weights whose expected features best match target (relative error)."""
    A = BASIS_FEATS / target[:, None]
    w, _ = nnls(A, np.ones(len(target)))
    return w

# --------------------------------------------------------------------------- events


def _gauss(t, c, s):
    return np.exp(-0.5 * ((t - c) / s) ** 2)


def event_signals(stage, rng, rel, log=None):
    """Time-domain events of one epoch for both channels (fpz, pz), kept inside the epoch.
    rel: the epoch's target features over the stage medians (14), which picks the state, e.g.
    eyes closed (alpha) when Pz-Oz alpha is above the wake median, blinks otherwise.
    log: a list that gets (kind, onset in the epoch, duration, Fpz-Cz amplitude, frequency) of each
    spindle, K-complex and slow wave (--events); it draws no random numbers."""
    ev = np.zeros((2, NS))
    last = {}

    def put(wave, t0, gains, kind=None):
        i0 = int(t0 * FS)
        n = min(len(wave), NS - i0)
        ev[0, i0:i0 + n] += gains[0] * wave[:n]
        ev[1, i0:i0 + n] += gains[1] * wave[:n]
        if log is not None and kind:
            amp, freq = last.get(kind, (np.max(np.abs(wave)), 0.0))
            log.append((kind, i0 / FS, n / FS, gains[0] * amp, freq))

    def spindle(amp):
        d = rng.uniform(0.6, 1.8)
        tt = np.arange(int(d * FS)) / FS
        f = rng.uniform(11.5, 15.0)
        env = np.sin(np.pi * tt / d) ** 2          # waxing-waning
        last["spindle"] = (amp, f)
        return amp * env * np.sin(2 * np.pi * f * tt + rng.uniform(0, 2 * np.pi))

    if stage == 2:
        for _ in range(rng.poisson(2.2)):          # ~4.4 spindles per minute
            put(spindle(rng.uniform(12, 30)), rng.uniform(0, EPOCH - 2), (0.7, 1.0), "spindle")
        for _ in range(rng.poisson(0.75)):         # ~1.5 K-complexes per minute
            a = rng.uniform(80, 160)
            tt = np.arange(150) / FS
            kc = a * (-0.55 * _gauss(tt, 0.25, 0.09) + 0.45 * _gauss(tt, 0.65, 0.17))
            t0 = rng.uniform(0, EPOCH - 3.5)
            put(kc, t0, (1.0, 0.45), "k_complex")
            if rng.random() < 0.4:                 # spindle riding on the K-complex's tail
                put(spindle(rng.uniform(12, 25)), t0 + 0.9, (0.7, 1.0), "spindle")
    elif stage == 3:
        # trains of slow waves (0.5-2 Hz) covering 35-70 % of the epoch, frontal-dominant
        pos = rng.uniform(0, 3)
        while pos < EPOCH - 2.5:
            if rng.random() < 0.55:
                f = rng.uniform(0.6, 1.8)
                tt = np.arange(int(FS / f)) / FS
                a = rng.uniform(45, 110)            # half peak-to-peak on Fpz-Cz
                wave = -a * np.sin(2 * np.pi * f * tt) * (1 + 0.25 * np.sin(np.pi * f * tt))
                last["slow_wave"] = (a, f)
                put(wave, pos, (1.0, rng.uniform(0.35, 0.6)), "slow_wave")
                pos += len(tt) / FS
            else:
                pos += rng.uniform(0.5, 2.0)
        for _ in range(rng.poisson(0.6)):
            put(spindle(rng.uniform(8, 18)), rng.uniform(0, EPOCH - 2), (0.7, 1.0), "spindle")
    elif stage == 0:
        if rel[7 + 2] > 1:                         # eyes closed, relaxed: occipital alpha bursts
            for _ in range(rng.integers(1, 5)):
                d = rng.uniform(1.5, 6)
                tt = np.arange(int(d * FS)) / FS
                f = rng.uniform(8.5, 11.5)
                env = np.sin(np.pi * tt / d) ** 0.5
                put(rng.uniform(15, 35) * env * np.sin(2 * np.pi * f * tt), rng.uniform(0, EPOCH - d),
                    (0.3, 1.0))
        else:                                      # eyes open: blinks on Fpz-Cz
            for _ in range(rng.poisson(4)):
                tt = np.arange(60) / FS
                put(rng.uniform(60, 150) * _gauss(tt, 0.22, 0.07), rng.uniform(0, EPOCH - 1),
                    (1.0, 0.04))
        if rng.random() < 0.08:                    # movement: slow swing plus muscle burst
            d = rng.uniform(1, 3)
            n = int(d * FS)
            tt = np.arange(n) / FS
            env = np.sin(np.pi * tt / d)
            emg = rng.standard_normal(n)
            emg -= np.convolve(emg, np.ones(5) / 5, "same")        # keep the high frequencies
            w = env * (rng.uniform(80, 200) * np.sin(np.pi * tt / d * rng.uniform(0.8, 2))
                       + rng.uniform(10, 25) * emg)
            put(w, rng.uniform(0, EPOCH - d), (1.0, 0.8))
    elif stage == 1:
        if rng.random() < 0.5:                     # slow rolling eye movements
            d = rng.uniform(2, 5)
            tt = np.arange(int(d * FS)) / FS
            put(rng.uniform(30, 70) * np.sin(np.pi * tt / d) ** 2 * rng.choice([-1, 1]),
                rng.uniform(0, EPOCH - d), (1.0, 0.05))
        if rng.random() < 0.25:                    # vertex sharp wave
            tt = np.arange(50) / FS
            put(-rng.uniform(40, 80) * _gauss(tt, 0.2, 0.06), rng.uniform(0, EPOCH - 1), (0.9, 0.4))
    elif stage == 4:
        for _ in range(rng.poisson(0.8)):          # sawtooth theta trains
            d = rng.uniform(2, 5)
            f = rng.uniform(2.5, 5)
            tt = np.arange(int(d * FS)) / FS
            ph = (f * tt) % 1.0
            saw = np.where(ph < 0.75, ph / 0.75, (1 - ph) / 0.25) - 0.5   # slow rise, sharp fall
            env = np.sin(np.pi * tt / d) ** 0.5
            put(rng.uniform(20, 45) * env * saw, rng.uniform(0, EPOCH - d), (0.8, 0.6))
        if rng.random() < (0.8 if rel[0] > 1 else 0.2):   # a burst of rapid eye movements
            t0 = rng.uniform(0, EPOCH - 8)
            for _ in range(rng.integers(1, 6)):
                d = rng.uniform(0.5, 1.0)
                tt = np.arange(int(d * FS)) / FS
                rise = 0.12
                w = np.where(tt < rise, tt / rise, np.exp(-(tt - rise) / (0.25 * d)))
                put(rng.uniform(40, 120) * rng.choice([-1, 1]) * w, t0, (1.0, 0.05))
                t0 += d + rng.uniform(0.1, 1.0)
                if t0 > EPOCH - 1.1:
                    break
    return ev


# --------------------------------------------------------------------------- night synthesis


def coherence(f):
    """Fraction of shared source between the channels (Fpz-Cz and Pz-Oz share deep generators)."""
    return np.interp(f, [0, 4, 13, 30, 50], [0.5, 0.4, 0.3, 0.15, 0.1])


def sample_targets(hyp, feat, rng):
    """Per-epoch target features (epochs x 14) from each stage's log-normal, AR(1) across epochs.
    One night is a single draw, so its per-stage medians would wander from the pooled ones (and
    the real log-features are skewed): each stage's log medians are shifted onto the real ones."""
    L = {s: np.linalg.cholesky(np.array(feat[s]["cov"]) + 1e-9 * np.eye(14)) for s in STAGES}
    z = rng.standard_normal(14)
    logs = np.zeros((len(hyp), 14))
    for i, k in enumerate(hyp):
        s = STAGES[k]
        phi = feat[s]["ar1"]
        z = phi * z + np.sqrt(1 - phi ** 2) * rng.standard_normal(14)
        logs[i] = np.array(feat[s]["mean"]) + L[s] @ z
    h = np.array(hyp)
    for k, s in enumerate(STAGES):
        m = h == k
        if m.any():
            logs[m] += np.log(feat[s]["median"]) - np.median(logs[m], 0)
    return np.exp(logs)


EVENT_CAP = 0.6   # events may take at most this share of any feature of the epoch


def synthesize(hyp, params, rng, events=None):
    """events: a list that gets every logged event (see event_signals) as
    (kind, onset_s, duration_s, Fpz-Cz amplitude after the epoch's cap, frequency)."""
    feat = params["features"]
    n = len(hyp)
    targets = sample_targets(hyp, feat, rng)
    sig = np.zeros((2, n * NS + 2 * PAD))
    fade = np.sin(np.linspace(0, np.pi / 2, FADE)) ** 2          # power weights, sum to 1
    win = np.ones(GEN)
    win[PAD - FADE // 2:PAD + FADE // 2] = fade
    win[:PAD - FADE // 2] = 0
    win[GEN - PAD - FADE // 2:GEN - PAD + FADE // 2] = fade[::-1]
    win[GEN - PAD + FADE // 2:] = 0
    amp = np.sqrt(win)                                           # equal-power cross-fade
    coh = coherence(FINE)
    shares = []
    for i, k in enumerate(hyp):
        log = [] if events is not None else None
        ev = event_signals(k, rng, targets[i] / feat[STAGES[k]]["median"], log)
        white = np.fft.rfft(rng.standard_normal((2, GEN)), axis=1)
        white[1] = coh * white[0] + np.sqrt(1 - coh ** 2) * white[1]
        for c in range(2):
            tgt = targets[i, 7 * c:7 * c + 7]
            e = np.array(epoch_features(ev[c])) if ev[c].any() else np.zeros(7)
            g = 1.0
            if e.any():
                g = min(1.0, np.sqrt(EVENT_CAP * np.min(tgt / np.maximum(e, 1e-12))))
            ev[c] *= g
            if c == 0 and log:
                events.extend((kd, i * EPOCH + t0, d, g * a, f) for kd, t0, d, a, f in log)
            rest = np.maximum(tgt - g * g * e, 0.2 * tgt)
            w = design_weights(rest)
            S = w @ BASIS
            noise = np.fft.irfft(white[c] * np.sqrt(S * FS / 2), GEN)
            sig[c, i * NS:i * NS + GEN] += amp * noise
            sig[c, i * NS + PAD:i * NS + PAD + NS] += ev[c]
            shares.append((k, c, g, g * g * e / tgt))
    return sig[:, PAD:PAD + n * NS], targets, shares

def event_report(shares):
    """How much of each stage's features the events carry, and how often the cap shrank them."""
    lines = ["events' share of the epoch features (median over epochs) and epochs whose events "
             "were scaled down to fit:"]
    for k, s in enumerate(STAGES):
        for c in range(2):
            rows = [(g, e) for kk, cc, g, e in shares if kk == k and cc == c]
            if not rows:
                continue
            e = np.median([r[1] for r in rows], 0)
            capped = np.mean([r[0] < 1 for r in rows])
            lines.append(f"  {s:2} {CH_LABEL[CHANNELS[c]]:10} " +
                         " ".join(f"{f}={v:.0%}" for f, v in zip(FEATS, e)) +
                         f"  scaled {capped:.0%}, median gain {np.median([r[0] for r in rows]):.2f}")
    return "\n".join(lines)

# --------------------------------------------------------------------------- EDF+ writing


def write_edf(path, sig, hyp, annots, phys_max, dig_max):
    """EDF+C: two EEG signals + one annotation signal, 30-s data records, one stage annotation in
    the record where each run starts (after that record's time-keeping TAL)."""
    months = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
    y, mo, d, hh, mi, ss = START
    nrec = len(hyp)
    ann_samples = 60

    def a(s, w):
        s = str(s)
        if len(s) > w:
            raise ValueError(f"EDF header field too long: {s!r}")
        return s.ljust(w).encode("ascii")

    labels = [CH_LABEL[c] for c in CHANNELS] + ["EDF Annotations"]
    ns = len(labels)
    hdr = (a("0", 8) + a("X X X Sample_night", 80) +
           a(f"Startdate {d:02d}-{months[mo - 1]}-{y} X X dreamwatch_make_sample_night", 80) +
           a(f"{d:02d}.{mo:02d}.{y % 100:02d}", 8) + a(f"{hh:02d}.{mi:02d}.{ss:02d}", 8) +
           a(256 * (ns + 1), 8) + a("EDF+C", 44) + a(nrec, 8) + a(EPOCH, 8) + a(ns, 4))
    fields = [
        (labels, 16),
        (["AgAgCl electrode"] * 2 + [""], 80),
        (["uV", "uV", ""], 8),
        ([f"{-phys_max:g}", f"{phys_max:g}"][:1] * 2 + ["-1"], 8),
        ([f"{phys_max:g}"] * 2 + ["1"], 8),
        ([str(-dig_max)] * 2 + ["-32768"], 8),
        ([str(dig_max)] * 2 + ["32767"], 8),
        (["HP:0.1Hz LP:50Hz"] * 2 + [""], 80),
        ([str(NS)] * 2 + [str(ann_samples)], 8),
        ([""] * 3, 32),
    ]
    for vals, w in fields:
        hdr += b"".join(a(v, w) for v in vals)
    assert len(hdr) == 256 * (ns + 1)
    gain = phys_max / dig_max
    dig = np.clip(np.round(sig / gain), -dig_max, dig_max).astype("<i2")
    by_rec = {}
    for onset, dur, text in annots:
        by_rec.setdefault(int(onset // EPOCH), []).append((onset, dur, text))
    out = io.BytesIO()
    out.write(hdr)
    for r in range(nrec):
        tal = f"+{r * EPOCH}\x14\x14\x00"
        for onset, dur, text in by_rec.get(r, []):
            tal += f"+{onset:g}" + (f"\x15{dur:g}" if dur is not None else "") + f"\x14{text}\x14\x00"
        raw = tal.encode("utf-8")
        if len(raw) > 2 * ann_samples:
            raise ValueError(f"record {r}: annotations need {len(raw)} bytes")
        out.write(dig[0, r * NS:(r + 1) * NS].tobytes())
        out.write(dig[1, r * NS:(r + 1) * NS].tobytes())
        out.write(raw.ljust(2 * ann_samples, b"\x00"))
    data = out.getvalue()
    if path.endswith(".gz"):
        # mtime=0 and no file name: the .gz is byte-identical on every run
        with open(path, "wb") as fh, gzip.GzipFile(filename="", mode="wb", fileobj=fh,
                                                   compresslevel=9, mtime=0) as gz:
            gz.write(data)
    else:
        with open(path, "wb") as fh:
            fh.write(data)
    os.chmod(path, 0o644)
    return np.abs(sig).max() / phys_max


def stage_annotations(hyp):
    ann = [(0.0, None, "Lights off")]
    for s, start, n in runs_of(hyp):
        ann.append((start * EPOCH, n * EPOCH, STAGE_LABEL[STAGES[s]]))
    ann.append((len(hyp) * EPOCH - EPOCH, None, "Lights on"))
    return sorted(ann, key=lambda x: x[0])

# --------------------------------------------------------------------------- validation


def hyp_from_annotations(annots, nrec):
    inv = {v: STAGES.index(k) for k, v in STAGE_LABEL.items()}
    h = np.full(nrec, -1)
    for onset, dur, text in annots:
        if text in inv and dur:
            i = int(round(onset / EPOCH))
            h[i:i + int(round(dur / EPOCH))] = inv[text]
    return h


def validation(path, params):
    """Generated-vs-real tables (markdown) and the raw numbers the e2e test checks."""
    hdr, sigs, annots = read_edf(path)
    hyp = hyp_from_annotations(annots, hdr["nrec"])
    F = {c: night_features(sigs[CH_LABEL[c]]) for c in CHANNELS}
    feat = params["features"]
    lines = ["| stage | channel | " + " | ".join(FEATS) + " |",
             "|---|---|" + "---|" * len(FEATS)]
    ratios = {}
    for k, s in enumerate(STAGES):
        m = hyp == k
        for ci, c in enumerate(CHANNELS):
            gen = np.median(F[c][m], 0)
            real = np.array(feat[s]["median"][7 * ci:7 * ci + 7])
            ratios[(s, c)] = gen / real
            cells = [f"{g:.3g} / {r:.3g}" for g, r in zip(gen, real)]
            lines.append(f"| {s} | {CH_LABEL[c]} | " + " | ".join(cells) + " |")
    pct, trans, tst = night_stats(hyp)
    hp = params["hypnogram"]
    lines += ["", "| stage | generated % | real median % (IQR) |", "|---|---|---|"]
    for s in STAGES[1:] + ["W"]:
        q = hp["real_pct_iqr"][s]
        lines.append(f"| {s}{' (WASO, % of sleep period)' if s == 'W' else ''} | {pct[s]:.1f} | "
                     f"{hp['real_pct_median'][s]:.1f} ({q[0]:.1f}-{q[1]:.1f}) |")
    rt = np.array(hp["real_trans_mean"])
    lines += ["", "Stage changes within the sleep period, generated / real mean per night "
              "(rows from, columns to):", "",
              "| from \\ to | " + " | ".join(STAGES) + " |", "|---|" + "---|" * 5]
    for a in range(5):
        lines.append(f"| {STAGES[a]} | " + " | ".join(
            "-" if a == b else f"{trans[a, b]} / {rt[a, b]:.1f}" for b in range(5)) + " |")
    y, mo, d, hh, mi, _ = START
    lines += ["", "Hypnogram, one character per 30-s epoch (W 1 2 3 R = W N1 N2 N3 R), one line per hour:",
              "", "```"]
    text = "".join("W123R"[k] for k in hyp)
    for i in range(0, len(hyp), 120):
        t = hh * 60 + mi + i // 2
        lines.append(f"{t // 60 % 24:02d}:{t % 60:02d} {text[i:i + 120]}")
    lines.append("```")
    per = rem_periods(hyp)
    onset = int(np.argmax(hyp >= 1))
    summary = {"tst_min": tst * 0.5, "sleep_onset_min": onset * 0.5,
               "rem_latency_min": (per[0][0] - onset) * 0.5 if per else None,
               "rem_periods_min": [(b - a + 1) * 0.5 for a, b in per],
               "n3_in_first_half": round(float(np.mean(np.where(hyp == 3)[0] < len(hyp) // 2)), 2),
               "pct": pct}
    return "\n".join(lines), ratios, summary, hdr, annots


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--extract", action="store_true", help="refresh the parameter file from real data")
    ap.add_argument("--shared", default=SHARED, help="real data folder (default ../shared/data)")
    ap.add_argument("--out", default=os.path.join(ROOT, "sample-data", "sample-night.edf.gz"))
    ap.add_argument("--validate", metavar="FILE", help="only print the validation tables of FILE")
    ap.add_argument("--seed", type=int, default=20240315)
    ap.add_argument("--resolution", type=float, default=0.3, help="uV per digital step")
    ap.add_argument("--phys-max", type=float, default=600.0, help="physical range +-uV")
    ap.add_argument("--params", default=PARAMS)
    ap.add_argument("--events", metavar="TSV", help="also write the spindles, K-complexes and slow waves "
                    "put in (the truth the detectors are checked against)")
    args = ap.parse_args()
    if args.extract:
        p = extract(args.shared)
        with open(args.params, "w") as fh:
            json.dump(p, fh, separators=(",", ":"))
            fh.write("\n")
        print(f"wrote {args.params}")
        return
    with open(args.params) as fh:
        params = json.load(fh)
    if not args.validate:
        hyp, seed, onset = make_hypnogram(params, args.seed)
        print(f"hypnogram: seed {seed[0]}, attempt {seed[1]}, sleep onset after {onset / 2:.1f} min")
        rng = np.random.default_rng(args.seed)
        events = [] if args.events else None
        sig, _, shares = synthesize(hyp, params, rng, events)
        if args.events:
            with open(args.events, "w") as fh:
                fh.write("onset_s\tduration_s\tkind\tfpz_amp_uv\tfreq_hz\tstage\n")
                for kd, t0, d, a, f in events:
                    fh.write(f"{t0:.2f}\t{d:.2f}\t{kd}\t{a:.1f}\t{f:.2f}\t{STAGES[hyp[int(t0 // EPOCH)]]}\n")
            print(f"wrote {args.events}: {len(events)} events")
        print(event_report(shares))
        dig_max = int(round(args.phys_max / args.resolution))
        peak = write_edf(args.out, sig, hyp, stage_annotations(hyp), args.phys_max, dig_max)
        print(f"wrote {args.out}: {os.path.getsize(args.out)} bytes, peak |x| = "
              f"{100 * peak:.0f}% of +-{args.phys_max:g} uV, {args.resolution:g} uV/step")
    table, ratios, summary, _, _ = validation(args.validate or args.out, params)
    print(table)
    print(", ".join(f"{k} {v}" for k, v in summary.items() if k != "pct"))


if __name__ == "__main__":
    main()
