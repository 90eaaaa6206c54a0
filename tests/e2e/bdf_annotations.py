#!/usr/bin/python3
"""The annotations of a BDF+/EDF+ file, read here from the TALs (not by dreamwatch's code), a text the
writer split into pieces "(k/n) ..." rejoined by the README's rule: the annotations with the same onset,
duration and n, their texts without the prefix in the order of k. Prints onset TAB duration TAB text, one
line per whole text; exits 1 if an annotation's text is over 40 bytes or not whole UTF-8 characters."""
import re
import sys

b = open(sys.argv[1], 'rb').read()
ns, hdr, bdf = int(b[252:256]), int(b[184:192]), b[0] == 255
labels = [b[256 + 16 * i:256 + 16 * i + 16].strip() for i in range(ns)]
spr = [int(b[256 + ns * 216 + 8 * i:256 + ns * 216 + 8 * i + 8]) for i in range(ns)]
w = 3 if bdf else 2
rec = sum(spr) * w
bad, sets, whole = 0, {}, []
for r in range((len(b) - hdr) // rec):
    at = hdr + r * rec
    for i in range(ns):
        if labels[i] in (b'BDF Annotations', b'EDF Annotations'):
            a = b[at:at + spr[i] * w]
            for on, du, t in re.findall(rb'([+-][0-9.]+)(?:\x15([0-9.]+))?\x14([^\x00]*?)\x14\x00', a):
                for text in t.split(b'\x14'):
                    if not text:
                        continue
                    try:
                        text.decode('utf-8')
                    except UnicodeDecodeError:
                        bad += 1
                    bad += len(text) > 40
                    m = re.match(rb'\(([1-9][0-9]*)/([1-9][0-9]*)\) ', text)
                    if m:
                        sets.setdefault((on, du, m.group(2)), {}).setdefault(int(m.group(1)), []).append(
                            text[m.end():])
                    else:
                        whole.append((on, du, text))
        at += spr[i] * w
# two texts with the same onset, duration and n: the j-th piece k goes with the j-th piece 1 (file order)
for (on, du, n), pieces in sets.items():
    c = len(pieces.get(1, []))
    if sorted(pieces) == list(range(1, int(n) + 1)) and all(len(v) == c for v in pieces.values()):
        whole += [(on, du, b''.join(pieces[k][j] for k in sorted(pieces))) for j in range(c)]
    else:
        whole += [(on, du, b'(%d/%s) ' % (k, n) + t) for k in sorted(pieces) for t in pieces[k]]
for on, du, text in sorted(whole, key=lambda x: float(x[0])):
    sys.stdout.buffer.write(on.lstrip(b'+') + b'\t' + (du or b'-') + b'\t' + text + b'\n')
sys.exit(1 if bad else 0)
