#!/usr/bin/python3
"""The same EEG in the formats dreamwatch reads, for the one-pipeline test (tests/e2e/one_path.sh).

  make_formats.py bdf250 IN.edf OUT.bdf            the two EEG channels of IN resampled to 250 Hz
                                                   (scipy resample_poly 5/2), BDF 24-bit, 1-s records
  make_formats.py bdf125 IN.edf OUT.bdf            the same at 125 Hz (5/4; the Cyton+Daisy rate)
  make_formats.py gui IN.edf OUT.txt START SECS    OpenBCI GUI v5 text, 8 channels at 250 Hz: Ch1 = IN's
                                                   Fpz-Cz, Ch2 = Pz-Oz, Ch3-8 low noise; sample index
                                                   0..255 wrapping; accelerometer every 10th row
  make_formats.py sd IN.edf OUT.TXT START SECS     the Cyton SD-card log of the same (24-bit hex counts,
                                                   4.5 / 24 / (2^23 - 1) * 1e6 uV per count)
IN: an EDF(+) whose first two signals are the EEG at one rate (the sample night)."""
import sys
import numpy as np
from scipy.signal import resample_poly

UV_PER_COUNT = 4.5 / 24 / (2 ** 23 - 1) * 1e6


def read_edf(path):
    raw = open(path, "rb").read()
    ns, hdr_len, nrec = int(raw[252:256]), int(raw[184:192]), int(raw[236:244])

    def field(off, w):
        return [raw[256 + off * ns + i * w:256 + off * ns + (i + 1) * w].decode().strip() for i in range(ns)]
    pmin = [float(v) for v in field(104, 8)]
    pmax = [float(v) for v in field(112, 8)]
    dmin = [float(v) for v in field(120, 8)]
    dmax = [float(v) for v in field(128, 8)]
    nsamp = [int(v) for v in field(216, 8)]
    dur = float(raw[244:252])
    rec = np.frombuffer(raw[hdr_len:hdr_len + nrec * sum(nsamp) * 2], dtype="<i2").reshape(nrec, sum(nsamp))
    sig, off = [], 0
    for k in range(2):
        d = rec[:, off:off + nsamp[k]].reshape(-1).astype(float)
        sig.append((d - dmin[k]) * (pmax[k] - pmin[k]) / (dmax[k] - dmin[k]) + pmin[k])
        off += nsamp[k]
    return sig, nsamp[0] / dur


def at250(path, start, secs, down=2):
    sig, fs = read_edf(path)
    assert abs(fs - 100) < 1e-9, fs
    a, b = int(start * fs), int((start + secs) * fs) if secs else len(sig[0])
    return [resample_poly(s[a:b], 5, down) for s in sig]


def bdf250(src, out, fs=250):
    x = at250(src, 0, 0, 500 // fs)
    n = len(x[0]) // fs
    ns, lim = 2, 187500.0
    h = bytearray(b" " * (256 * (ns + 1)))

    def put(off, w, v):
        v = str(v).encode()[:w]
        h[off:off + len(v)] = v
    h[0:8] = b"\xffBIOSEMI"
    put(8, 80, "X")
    put(88, 80, "sample night at %d Hz" % fs)
    put(168, 8, "01.01.24")
    put(176, 8, "22.00.00")
    put(184, 8, 256 * (ns + 1))
    put(192, 44, "24BIT")
    put(236, 8, n)
    put(244, 8, 1)
    put(252, 4, ns)
    b = 256
    for i, lab in enumerate(["EEG Fpz-Cz", "EEG Pz-Oz"]):
        put(b + i * 16, 16, lab)
        put(b + ns * 96 + i * 8, 8, "uV")
        put(b + ns * 104 + i * 8, 8, -lim)
        put(b + ns * 112 + i * 8, 8, lim)
        put(b + ns * 120 + i * 8, 8, -8388608)
        put(b + ns * 128 + i * 8, 8, 8388607)
        put(b + ns * 216 + i * 8, 8, fs)
    d = [np.clip(np.round((s[:n * fs] + lim) / (2 * lim) * 16777215 - 8388608), -8388608, 8388607).astype("<i4")
         for s in x]
    body = np.stack([d[0].reshape(n, fs), d[1].reshape(n, fs)], axis=1).reshape(-1)
    b3 = body.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    with open(out, "wb") as f:
        f.write(bytes(h) + b3)


def eight(src, start, secs):
    x = at250(src, start, secs)
    n = len(x[0])
    rng = np.random.default_rng(1)
    ch = [x[0], x[1]] + [rng.normal(0, 3, n) for _ in range(6)]
    return np.round(np.array(ch) / UV_PER_COUNT).astype(np.int64), n


def gui(src, out, start, secs):
    counts, n = eight(src, start, secs)
    uv = counts * UV_PER_COUNT
    t0 = 1700000000000
    with open(out, "w") as f:
        f.write("%OpenBCI Raw EEG Data\n%Number of channels = 8\n%Sample Rate = 250 Hz\n"
                "%Board = OpenBCI_GUI$BoardCytonSerial\n")
        for i in range(n):
            acc = "0.040, 0.420, 0.238" if i % 10 == 0 else "0.0, 0.0, 0.0"
            ms = t0 + i * 4
            f.write("%d, %s, %s,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0, %d, 12:00:00.000\n" % (
                i % 256, ", ".join("%.2f" % v for v in uv[:, i]), acc, ms))


def sd(src, out, start, secs):
    counts, n = eight(src, start, secs)
    with open(out, "w") as f:
        f.write("%%STOP AT\n%08X\n" % (n * 4))
        for i in range(n):
            f.write("%02X," % (i % 256) + ",".join("%06X" % (int(c) & 0xFFFFFF) for c in counts[:, i]))
            f.write(",FFB0,0E60,03B0\n" if i % 10 == 0 else "\n")


def main(a):
    if a[0] in ("bdf250", "bdf125"):
        bdf250(a[1], a[2], int(a[0][3:]))
    elif a[0] in ("gui", "sd"):
        {"gui": gui, "sd": sd}[a[0]](a[1], a[2], float(a[3]), float(a[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
