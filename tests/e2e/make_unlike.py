"""The sample night as an amplifier with a 20-Hz low-pass records it (no beta above 20 Hz, no gamma), at
its own 100 Hz: a night unlike the staging models' training data (their gamma band and variances see
nothing). Usage: make_unlike.py SAMPLE.edf OUT.edf"""
import sys
import numpy as np
from scipy.signal import butter, sosfiltfilt
sys.path.insert(0, __import__('os').path.dirname(__file__))
from make_formats import read_edf


def write_edf(path, sig, fs, labels):
    ns, n = len(sig), len(sig[0]) // int(fs)
    lim = 3000.0
    h = bytearray(b" " * (256 * (ns + 1)))

    def put(off, w, v):
        v = str(v).encode()[:w]
        h[off:off + len(v)] = v
    put(0, 8, "0")
    put(8, 80, "X")
    put(88, 80, "sample night low-passed at 20 Hz")
    put(168, 8, "01.01.24")
    put(176, 8, "22.00.00")
    put(184, 8, 256 * (ns + 1))
    put(236, 8, n)
    put(244, 8, 1)
    put(252, 4, ns)
    b = 256
    for i, lab in enumerate(labels):
        put(b + i * 16, 16, lab)
        put(b + ns * 96 + i * 8, 8, "uV")
        put(b + ns * 104 + i * 8, 8, -lim)
        put(b + ns * 112 + i * 8, 8, lim)
        put(b + ns * 120 + i * 8, 8, -32768)
        put(b + ns * 128 + i * 8, 8, 32767)
        put(b + ns * 216 + i * 8, 8, int(fs))
    d = [np.clip(np.round(s[:n * int(fs)] / lim * 32767.5 - 0.5), -32768, 32767).astype("<i2") for s in sig]
    body = np.stack([x.reshape(n, int(fs)) for x in d], axis=1).reshape(-1)
    with open(path, "xb") as f:
        f.write(bytes(h) + body.tobytes())


def main(src, out):
    sig, fs = read_edf(src)
    sos = butter(8, 20.0, fs=fs, output="sos")
    write_edf(out, [sosfiltfilt(sos, s) for s in sig[:2]], fs, ["EEG Fpz-Cz", "EEG Pz-Oz"])


if __name__ == "__main__":
    main(*sys.argv[1:3])
