"""Compare the samples of BDF recordings (24-bit, read here independently of EDFlib).

usage: bdfsamples.py REFERENCE.bdf OTHER.bdf...
For each OTHER: the EEG channels (those at the first channel's rate; annotations left out) must equal REFERENCE's sample for
sample over the common length. Prints one line per file: "same SECONDS_COMMON SECONDS_OTHER" or
"differ ..." and exits 1 if any differs or cannot be read."""
import sys
import numpy as np


def read_bdf(path):
    with open(path, 'rb') as f:
        d = f.read()
    hdr = int(d[184:192])
    nrec = int(d[236:244])
    dur = float(d[244:252])
    ns = int(d[252:256])
    labels = [d[256 + 16 * i:256 + 16 * (i + 1)].decode('ascii').strip() for i in range(ns)]
    off = 256 + ns * (16 + 80 + 8 + 8 + 8 + 8 + 8 + 80)
    spr = [int(d[off + 8 * i:off + 8 * (i + 1)]) for i in range(ns)]
    rec_bytes = 3 * sum(spr)
    nrec = min(nrec if nrec >= 0 else 10**9, (len(d) - hdr) // rec_bytes)
    raw = np.frombuffer(d[hdr:hdr + nrec * rec_bytes], dtype=np.uint8).reshape(nrec, rec_bytes)
    chans, pos = [], 0
    for i in range(ns):
        n = spr[i] * 3
        if 'Annotations' not in labels[i] and spr[i] == spr[0]:   # EEG (the accelerometer is slower)
            b = raw[:, pos:pos + n].reshape(nrec, spr[i], 3).astype(np.int32)
            v = b[:, :, 0] | (b[:, :, 1] << 8) | (b[:, :, 2] << 16)
            v = np.where(v >= 1 << 23, v - (1 << 24), v)
            chans.append(v.reshape(-1))
        pos += n
    rate = spr[0] / dur if dur > 0 else 0
    # the last data record is padded at a shutdown ("End padded"): compare the complete ones
    return np.array(chans)[:, :max(0, (nrec - 1) * spr[0])], rate


def main():
    ref, rate = read_bdf(sys.argv[1])
    bad = 0
    for p in sys.argv[2:]:
        try:
            x, r2 = read_bdf(p)
        except Exception as e:  # a file that cannot be read fails the comparison
            print('differ %s: cannot read: %s' % (p, e))
            bad = 1
            continue
        n = min(ref.shape[1], x.shape[1])
        if x.shape[0] != ref.shape[0] or r2 != rate:
            print('differ %s: %d channels at %g Hz, reference %d at %g Hz' % (p, x.shape[0], r2, ref.shape[0], rate))
            bad = 1
        elif n == 0 or not np.array_equal(ref[:, :n], x[:, :n]):
            i = int(np.argmax(np.any(ref[:, :n] != x[:, :n], axis=0))) if n else 0
            print('differ %s: first difference at sample %d of %d' % (p, i, n))
            bad = 1
        else:
            print('same %.1f %.1f %s' % (n / rate, x.shape[1] / rate, p))
    sys.exit(bad)


main()
