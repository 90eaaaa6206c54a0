#!/usr/bin/python3
"""Test inputs for the alert and session end-to-end scripts, written by hand (no EDF library).

  make_inputs.py cut IN.edf OUT.edf START END      plain EDF (16-bit, 1-s records): the two EEG channels of
                                                   IN from START to END seconds
  make_inputs.py flat IN.edf OUT.edf END CH T0 T1  the same from 0 to END, channel CH (0-based) held
                                                   constant from T0 to T1 s
  make_inputs.py obci OUT.txt SECONDS FAULT CH T0 T1   an OpenBCI GUI (v5) text recording, 8 channels at
                                                   250 Hz of EEG-like noise; FAULT on channel CH (0-based)
                                                   from T0 to T1 s: rail (+187500 uV, electrode off),
                                                   rail-all (every channel: the reference is off) or
                                                   mains (50 Hz, 40 uV)
  make_inputs.py crashed OUT.bdf SECONDS EVENTS    a BDF+ as `dreamwatch record` leaves it when killed: 8
                                                   channels at 250 Hz and 4 annotation signals of 114 bytes
                                                   (only the time-keeping TALs) in SECONDS 1-s records,
                                                   record count -1, 1000 bytes of a torn record; its side
                                                   log OUT.bdf.events.tsv with EVENTS events spread evenly
  make_inputs.py text IN.txt OUT.edf FS LABEL      one value (uV) per line at FS Hz as a one-channel EDF
                                                   (the YASA snippets), padded with zeros to whole seconds
  make_inputs.py pick IN.edf OUT.edf END K:LABEL...  the first END s of IN's channels K (0 or 1), in the
                                                   order given, labelled LABEL (montages without a frontal
                                                   channel)
  make_inputs.py splice IN.edf OUT.edf T S D END   IN up to T s, then D s of IN from S s (e.g. wake), then
                                                   IN from T on, the whole cut at END s
  make_inputs.py join IN.edf OUT.edf A:B [A:B ...] the pieces of IN from A to B s, one after the other
  make_inputs.py burst IN.edf OUT.edf T D F AMP    IN with a sine of F Hz, AMP uV, added to both channels
                                                   from T for D s (an arousal: alpha or beta)
EDF replays are resampled to 100 Hz by the source (mains cannot show there): mains needs a 250 Hz source.
IN must be an EDF(+) whose first two signals share one rate."""
import sys
import time
import numpy as np
from scipy.signal import lfilter


def read_edf(path):
    raw = open(path, "rb").read()
    ns = int(raw[252:256])
    hdr_len = int(raw[184:192])
    nrec = int(raw[236:244])
    dur = float(raw[244:252])

    def field(off, w):
        return [raw[256 + off * ns + i * w:256 + off * ns + (i + 1) * w].decode().strip() for i in range(ns)]
    labels = field(0, 16)
    pmin = [float(v) for v in field(16 + 80 + 8, 8)]
    pmax = [float(v) for v in field(16 + 80 + 16, 8)]
    dmin = [float(v) for v in field(16 + 80 + 24, 8)]
    dmax = [float(v) for v in field(16 + 80 + 32, 8)]
    nsamp = [int(v) for v in field(16 + 80 + 40 + 80, 8)]
    rec = np.frombuffer(raw[hdr_len:hdr_len + nrec * sum(nsamp) * 2], dtype="<i2").reshape(nrec, sum(nsamp))
    sig, off = [], 0
    for k in range(2):
        d = rec[:, off:off + nsamp[k]].reshape(-1).astype(float)
        sig.append((d - dmin[k]) * (pmax[k] - pmin[k]) / (dmax[k] - dmin[k]) + pmin[k])
        off += nsamp[k]
    return labels[:2], nsamp[0] / dur, sig


def write_edf(path, labels, fs, sig, prange):
    fs = int(round(fs))
    n = min(len(s) for s in sig) // fs
    ns = len(sig)
    pad = lambda s, w: s.ljust(w)[:w].encode()
    h = pad("0", 8) + pad("X X X test", 80) + pad("Startdate 15-MAR-2024 X X dreamwatch_e2e", 80)
    h += pad("15.03.24", 8) + pad("22.30.00", 8) + pad(str(256 * (ns + 1)), 8) + pad("", 44)
    h += pad(str(n), 8) + pad("1", 8) + pad(str(ns), 4)
    for w, vals in ((16, labels), (80, ["AgAgCl electrode"] * ns), (8, ["uV"] * ns),
                    (8, [str(-prange)] * ns), (8, [str(prange)] * ns), (8, ["-32768"] * ns),
                    (8, ["32767"] * ns), (80, [""] * ns), (8, [str(fs)] * ns), (32, [""] * ns)):
        h += b"".join(pad(v, w) for v in vals)
    scale = 65535.0 / (2 * prange)
    dig = [np.clip(np.round((s[:n * fs] + prange) * scale - 32768), -32768, 32767).astype("<i2") for s in sig]
    body = np.stack([d.reshape(n, fs) for d in dig], axis=1).reshape(-1)
    with open(path, "wb") as f:
        f.write(h)
        f.write(body.tobytes())


def write_crashed(path, secs, events):
    def f(v, n):
        return str(v).ljust(n)[:n].encode("latin-1")
    sigs = [("Ch%d" % (k + 1), "uV", 250) for k in range(8)] + [("BDF Annotations", "", 38)] * 4
    ns = len(sigs)
    h = b"\xffBIOSEMI" + f("X X X X", 80) + f("Startdate 22-NOV-2026 X X X", 80) + f("22.11.26", 8) + \
        f("23.00.00", 8) + f(256 * (ns + 1), 8) + f("BDF+C", 44) + f(-1, 8) + f(1, 8) + f(ns, 4)
    cols = [(16, lambda s: s[0]), (80, lambda s: ""), (8, lambda s: s[1]),
            (8, lambda s: -187500 if s[1] else -1), (8, lambda s: 187500 if s[1] else 1),
            (8, lambda s: -8388608), (8, lambda s: 8388607), (80, lambda s: ""), (8, lambda s: s[2]),
            (32, lambda s: "")]
    for w, get in cols:
        h += b"".join(f(get(s), w) for s in sigs)
    rng = np.random.default_rng(3)
    with open(path, "wb") as out:
        out.write(h)
        for r in range(secs):
            x = (rng.standard_normal((8, 250)) * 2000).astype("<i4")
            b = np.zeros((8, 250, 3), dtype=np.uint8)
            u = x.view(np.uint32)
            b[:, :, 0], b[:, :, 1], b[:, :, 2] = u & 255, (u >> 8) & 255, (u >> 16) & 255
            out.write(b.tobytes())
            tal = ("+%d\x14\x14\x00" % r).encode()
            out.write(tal + bytes(114 - len(tal)) + bytes(3 * 114))
        out.write(bytes(1000))
    stages = ["W", "N1", "N2", "N3", "R"]
    with open(path + ".events.tsv", "w") as log:
        log.write("onset_s\tduration_s\ttext\n")
        for i in range(events):
            log.write("%.4f\t-\tSleep stage %s\n" % ((i + 0.5) * secs / events, stages[i % 5]))


def main(a):
    if a[0] == "cut":
        labels, fs, sig = read_edf(a[1])
        i0, i1 = int(float(a[3]) * fs), int(float(a[4]) * fs)
        write_edf(a[2], labels, fs, [s[i0:i1] for s in sig], 600)
    elif a[0] == "flat":
        labels, fs, sig = read_edf(a[1])
        end, ch, t0, t1 = float(a[3]), int(a[4]), float(a[5]), float(a[6])
        sig = [s[:int(end * fs)].copy() for s in sig]
        sig[ch][int(t0 * fs):int(t1 * fs)] = sig[ch][int(t0 * fs)]
        write_edf(a[2], labels, fs, sig, 600)
    elif a[0] == "pick":
        labels, fs, sig = read_edf(a[1])
        end = int(float(a[3]) * fs)
        picks = [(int(k), lab) for k, lab in (p.split(":", 1) for p in a[4:])]
        write_edf(a[2], [lab for _, lab in picks], fs, [sig[k][:end] for k, _ in picks], 600)
    elif a[0] == "text":
        x = np.loadtxt(a[1])
        fs = int(a[3])
        x = np.concatenate([x, np.zeros(-len(x) % fs)])
        write_edf(a[2], [a[4]], fs, [x], 600)
    elif a[0] == "splice":
        labels, fs, sig = read_edf(a[1])
        t, src, d, end = (int(float(v) * fs) for v in a[3:7])
        sig = [np.concatenate([x[:t], x[src:src + d], x[t:]])[:end] for x in sig]
        write_edf(a[2], labels, fs, sig, 600)
    elif a[0] == "join":
        labels, fs, sig = read_edf(a[1])
        parts = [tuple(int(float(v) * fs) for v in p.split(":")) for p in a[3:]]
        write_edf(a[2], labels, fs, [np.concatenate([x[i:j] for i, j in parts]) for x in sig], 600)
    elif a[0] == "burst":
        labels, fs, sig = read_edf(a[1])
        t0, d, f, amp = (float(v) for v in a[3:7])
        i0, i1 = int(t0 * fs), int((t0 + d) * fs)
        burst = amp * np.sin(2 * np.pi * f * np.arange(i1 - i0) / fs)
        for s in sig:
            s[i0:i1] += burst
        write_edf(a[2], labels, fs, sig, 600)
    elif a[0] == "obci":
        secs, fault, ch, t0, t1 = float(a[2]), a[3], int(a[4]), float(a[5]), float(a[6])
        fs, n = 250, int(float(a[2]) * 250)
        rng = np.random.default_rng(7)
        t = np.arange(n) / fs
        # 1/f-like EEG (~12 uV rms) on a DC offset, as a Cyton delivers it
        x = np.stack([3.0 * lfilter([1.0], [1.0, -0.97], rng.standard_normal(n)) + 1000 * (k + 1)
                      for k in range(8)], axis=1)
        on = (t >= t0) & (t < t1)
        if fault == "rail":
            x[on, ch] = 187500.0
        elif fault == "rail-all":
            x[on, :] = 187500.0
        elif fault == "mains":
            x[:, ch] += on * 40 * np.sin(2 * np.pi * 50 * t)
        else:
            sys.exit("fault: rail, rail-all or mains")
        with open(a[1], "w") as f:
            f.write("%OpenBCI Raw EEG Data\n%Number of channels = 8\n%Sample Rate = 250 Hz\n"
                    "%Board = OpenBCI_GUI$BoardCytonSerial\n"
                    "Sample Index, " + ", ".join("EXG Channel %d" % k for k in range(8)) +
                    ", Accel Channel 0, Accel Channel 1, Accel Channel 2, Other, Other, Other, Other, Other, "
                    "Other, Other, Analog Channel 0, Analog Channel 1, Analog Channel 2, Timestamp, Other, "
                    "Timestamp (Formatted)\n")
            t_start = 1706088515.0
            for i in range(n):
                ts = t_start + i / fs
                f.write("%d.0, %s, 0.0, 0.0, 0.0, 192.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, %.6f, 0.0, "
                        "%s.%03d\n" % (i % 256, ", ".join("%.6f" % v for v in x[i]), ts,
                                        time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)), (i * 4) % 1000))
    elif a[0] == "crashed":
        write_crashed(a[1], int(a[2]), int(a[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
