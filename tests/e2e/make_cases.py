#!/usr/bin/python3
"""Inputs of the kinds in ../shared/cases (01-07), written by the project itself so that the tests run
without ../shared and try variants the shared files do not: other broken signals, other separators,
other offsets, references before and after the recording, 20-s R&K steps, text references, other gaps,
Ganglion files with losses, SD tails of other kinds. Every EDF byte is written here (no EDF library).

  make_cases.py SAMPLE.edf OUTDIR     writes every file into OUTDIR (names below)

The EEG is the first two signals of SAMPLE (the project's sample night, 100 Hz), its stages from its
annotations."""
import os
import sys
import time
import numpy as np

SAMPLE, OUT = sys.argv[1], sys.argv[2]


def read_sample(seconds):
    raw = open(SAMPLE, "rb").read()
    ns, hs, nrec = int(raw[252:256]), int(raw[184:192]), int(raw[236:244])
    f = lambda o, w: [raw[256 + o * ns + i * w:256 + o * ns + (i + 1) * w].decode().strip() for i in range(ns)]
    pmin, pmax = [float(v) for v in f(104, 8)], [float(v) for v in f(112, 8)]
    dmin, dmax = [float(v) for v in f(120, 8)], [float(v) for v in f(128, 8)]
    spr = [int(v) for v in f(216, 8)]
    rec = np.frombuffer(raw[hs:hs + nrec * sum(spr) * 2], dtype="<i2").reshape(nrec, sum(spr))
    sig = []
    for k in range(2):
        d = rec[:, sum(spr[:k]):sum(spr[:k + 1])].reshape(-1).astype(float)
        sig.append(((d - dmin[k]) * (pmax[k] - pmin[k]) / (dmax[k] - dmin[k]) + pmin[k])[:seconds * 100])
    stages = []
    ann = rec[:, sum(spr[:2]):sum(spr[:3])].tobytes()
    for tal in ann.split(b"\x00"):
        p = tal.split(b"\x14")
        if len(p) > 2 and b"\x15" in p[0] and p[1].startswith(b"Sleep stage "):
            on, du = (float(x) for x in p[0].split(b"\x15"))
            st = {"1": "N1", "2": "N2", "3": "N3", "4": "N3"}.get(p[1][12:].decode(), p[1][12:].decode())
            stages += [(int(on // 30) + i, st) for i in range(int(du // 30))]
    hyp = ["?"] * (seconds // 30)
    for e, st in stages:
        if e < len(hyp):
            hyp[e] = st
    return sig[0], sig[1], hyp


def fld(v, w):
    b = v if isinstance(v, bytes) else str(v).encode("latin-1")
    return b.ljust(w)[:w]


def write_edf(path, sigs, nrec, date="09.03.24", time_="22.00.00", reserved="", annots=None, rec_dur="1",
              patient="X", recording="dreamwatch test"):
    """sigs: dicts label, dim, pmin, pmax, dmin, dmax (any value or raw bytes), spr, dig (int array) or
    'ann' (annotation signal: annots[r] are its bytes in record r)."""
    ns = len(sigs)
    h = fld("0", 8) + fld(patient, 80) + fld(recording, 80) + fld(date, 8) + fld(time_, 8)
    h += fld(256 * (ns + 1), 8) + fld(reserved, 44) + fld(nrec, 8) + fld(rec_dur, 8) + fld(ns, 4)
    for key, w in (("label", 16), ("transducer", 80), ("dim", 8), ("pmin", 8), ("pmax", 8), ("dmin", 8),
                   ("dmax", 8), ("prefilter", 80), ("spr", 8), ("reserved", 32)):
        h += b"".join(fld(s.get(key, ""), w) for s in sigs)
    body = bytearray()
    for r in range(nrec):
        for s in sigs:
            if s.get("ann"):
                body += annots[r].ljust(s["spr"] * 2, b"\x00")
            else:
                body += np.asarray(s["dig"][r * s["spr"]:(r + 1) * s["spr"]], "<i2").tobytes()
    open(path, "wb").write(h + bytes(body))


def eeg(x, label):
    d = np.clip(np.round(x / 600 * 32767), -32768, 32767).astype(int)
    return dict(label=label, dim="uV", pmin=-600, pmax=600, dmin=-32768, dmax=32767, spr=100, dig=d,
                transducer="AgAgCl", prefilter="HP:0.1Hz")


def pair(f, p):
    return [eeg(f, "EEG Fpz-Cz"), eeg(p, "EEG Pz-Oz")]


def write_hyp(path, stages, date="09.03.24", time_="22.00.00", step=30):
    """EDF+C hypnogram: one record, one TAL per stage run (step-s epochs)."""
    rk = {"W": "W", "N1": "1", "N2": "2", "N3": "3", "R": "R"}
    tal, i = b"+0\x14\x14\x00", 0
    while i < len(stages):
        j = i
        while j < len(stages) and stages[j] == stages[i]:
            j += 1
        if stages[i] != "?":
            tal += b"+%d\x15%d\x14Sleep stage %s\x14\x00" % (i * step, (j - i) * step, rk[stages[i]].encode())
        i = j
    dd, mm, yy = (int(v) for v in date.split("."))
    rec = "Startdate %02d-%s-20%02d X X dreamwatch_test" % (dd, "JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC"[3 * mm - 3:3 * mm], yy)
    write_edf(path, [dict(label="EDF Annotations", pmin=-1, pmax=1, dmin=-32768, dmax=32767,
                          spr=(len(tal) + 1) // 2 + 2, ann=True)], 1, date, time_, "EDF+C", [tal], "0",
              "X X X X", rec)


def main():
    os.makedirs(OUT, exist_ok=True)
    o = lambda n: os.path.join(OUT, n)
    f, p, st = read_sample(7200)
    f10, p10 = f[:60000], p[:60000]
    n10 = 600

    # 01: unused signals whose range cannot scale samples
    z = np.zeros(len(f10), int)
    write_edf(o("01-status-16bit.edf"), pair(f10, p10) + [dict(label="Status", dim="", pmin=0, pmax=65535,
              dmin=0, dmax=65535, spr=100, dig=z)], n10)
    write_edf(o("01-ref-pmin-pmax.edf"), pair(f10, p10) + [dict(label="A2 Ref", dim="uV", pmin=0, pmax=0,
              dmin=-32768, dmax=32767, spr=100, dig=z)], n10)
    write_edf(o("01-nan-range.edf"), pair(f10, p10) + [dict(label="Resp", dim="mV", pmin="-", pmax="-",
              dmin=-32768, dmax=32767, spr=100, dig=z)], n10)
    # 02: separators (spaces too), a month-first date, one that reads both ways, a time without seconds
    write_edf(o("02-time-dashes.edf"), pair(f10, p10), n10, time_="23-15-00")
    write_edf(o("02-both.edf"), pair(f10, p10), n10, date="19/03/99", time_="23:15:00")
    write_edf(o("02-us-date.edf"), pair(f10, p10), n10, date="03/19/24")
    write_edf(o("02-spaces.edf"), pair(f10, p10), n10, date="19 03 99", time_="23 15 00")
    write_edf(o("02-year-first.edf"), pair(f10, p10), n10, date="24/03/15")   # 2024-03-15 or 24.03.2015
    write_edf(o("02-eight-digits.edf"), pair(f10, p10), n10, date="15032024")
    write_edf(o("02-day-or-month.edf"), pair(f10, p10), n10, date="09/03/24")
    write_edf(o("02-no-seconds.edf"), pair(f10, p10), n10, time_="23:15")
    # 03 / 04: the recording 22:00:00 for 1 h; references by clock
    f1, p1, s1 = f[:360000], p[:360000], st[:120]
    write_edf(o("psg-1h.edf"), pair(f1, p1), 3600)
    write_hyp(o("03-ref-2220.edf"), st[40:120], time_="22.20.00")
    write_hyp(o("03-ref-aligned.edf"), ["?"] * 40 + st[40:120])
    write_hyp(o("04-ref-from-2140.edf"), st[:200], time_="21.40.00")   # 40 before, 40 after the recording
    write_hyp(o("04-ref-next-night.edf"), s1, date="10.03.24", time_="22.00.00")
    # 20-s R&K pages of the same night: each 30-s stage as one and a half pages
    pages = [st[(k * 20) // 30] for k in range(120 * 3 // 2)]
    write_hyp(o("03-ref-rk20.edf"), pages, step=20)
    open(o("03-ref-lines.txt"), "w").write("".join(s + "\n" for s in s1))
    t0 = time.mktime((2024, 3, 9, 22, 0, 0, 0, 0, -1))
    open(o("03-ref-mne.csv"), "w").write("onset,duration,description\n" + "".join(
        "%s.000,30.0,Sleep stage %s\n" % (time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t0 + 1800 + 30 * i)),
                                          {"N1": "1", "N2": "2", "N3": "3"}.get(s, s))
        for i, s in enumerate(st[60:120]) if s != "?"))
    # 05: EDF+D, a 5-min pause 20 min in (records are 1 s)
    keep = list(range(0, 1200)) + list(range(1500, 3000))
    fk = np.concatenate([f[s * 100:(s + 1) * 100] for s in keep])
    pk = np.concatenate([p[s * 100:(s + 1) * 100] for s in keep])
    sigs = pair(fk, pk) + [dict(label="EDF Annotations", pmin=-1, pmax=1, dmin=-32768, dmax=32767, spr=10,
                                ann=True)]
    write_edf(o("05-edfplusd.edf"), sigs, len(keep), reserved="EDF+D", annots=[b"+%d\x14\x14\x00" % s for s in keep],
              patient="X X X X", recording="Startdate 09-MAR-2024 X X dreamwatch_test")
    write_edf(o("05-continuous.edf"), pair(np.concatenate([f[:120000], f[150000:300000]]),
                                           np.concatenate([p[:120000], p[150000:300000]])), 2700)
    # 06: Ganglion, 6 min at 200 Hz, index 0-200, timestamps; 50 samples lost at 100 s; edited copies
    fs, secs = 200, 360
    t = np.arange(secs * fs) / fs
    ch = [np.interp(t, np.arange(len(f)) / 100, f), np.interp(t, np.arange(len(p)) / 100, p),
          20 * np.sin(2 * np.pi * 9 * t), 20 * np.sin(2 * np.pi * 11 * t)]
    ms0 = 1700000000000
    lines = []
    for i in range(len(t)):
        if 20000 <= i < 20050:
            continue
        ms = ms0 + i * 5
        lines.append("%d, %.2f, %.2f, %.2f, %.2f, 0.000, 0.000, 0.000, %s.%03d, %d" % (
            i % 201, ch[0][i], ch[1][i], ch[2][i], ch[3][i], time.strftime("%H:%M:%S", time.gmtime(ms // 1000)),
            ms % 1000, ms))
    head = ["%OpenBCI Raw EEG Data", "%Number of channels = 4", "%Sample Rate = 200.0 Hz",
            "%First Column = SampleIndex", "%Last Column = Timestamp ", "%Other Columns = EEG data in microvolts"]
    open(o("06-ganglion.txt"), "w").write("\n".join(head + lines) + "\n")
    # two whole index cycles (402 samples) and 3 more lost at 200 s: the index shows 3, the timestamps 405
    cyc = [l for l in lines if not 40000 <= int(l.rsplit(",", 1)[1]) - ms0 < 40000 + 405 * 5]
    open(o("06-ganglion-cycles.txt"), "w").write("\n".join(head + cyc) + "\n")
    # the GUI stopped and started the stream for 90 s at 180 s: the board restarts the index at 0, the
    # timestamps jump 90 s (a pause, not a loss: 3 epochs unscored, everything after at its true time)
    paused = []
    for i in range(len(t)):
        if 20000 <= i < 20050:
            continue
        ms = ms0 + i * 5 + (90000 if i >= 36000 else 0)
        paused.append("%d, %.2f, %.2f, %.2f, %.2f, 0.000, 0.000, 0.000, %s.%03d, %d" % (
            (i - 36000) % 201 if i >= 36000 else i % 201, ch[0][i], ch[1][i], ch[2][i], ch[3][i],
            time.strftime("%H:%M:%S", time.gmtime(ms // 1000)), ms % 1000, ms))
    open(o("06-ganglion-pause.txt"), "w").write("\n".join(head + paused) + "\n")
    open(o("06-ganglion-bom-crlf.txt"), "wb").write(b"\xef\xbb\xbf" + "\r\n".join(
        head + [l.rsplit(",", 1)[0] for l in lines]).encode() + b"\r\n")
    # the same lines ended by a lone CR (old Mac), and by CRLF, LF and CR in turn
    open(o("06-ganglion-cr.txt"), "wb").write("\r".join(head + lines).encode() + b"\r")
    ends = ["\r\n", "\n", "\r"]
    open(o("06-ganglion-mixed.txt"), "wb").write("".join(
        l + ends[k % 3] for k, l in enumerate(head + lines)).encode())
    # a reference scored by the site's clock (the file's clock column, which is UTC here): aligned in any zone
    open(o("06-ref-local.csv"), "w").write("onset,duration,description\n" + "".join(
        "%s.000,30.0,Sleep stage W\n" % time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms0 // 1000 + 30 * k))
        for k in range(12)))
    # 07: SD logs, 4 min, torn last line, tails: 0xFF (erased flash), CR-LF junk, stale lines of text
    n = 240 * 250
    tt = np.arange(n) / 250
    uv = [np.interp(tt, np.arange(len(f)) / 100, f), np.interp(tt, np.arange(len(p)) / 100, p)] + \
         [15 * np.sin(2 * np.pi * (k + 4) * tt) for k in range(6)]
    counts = [np.round(c / (4.5 / 24 / 8388607 * 1e6)).astype(int) for c in uv]
    body = "%STOP AT\n00EA600\n" + "".join(
        "%02X," % (i % 256) + ",".join("%06X" % (counts[c][i] & 0xFFFFFF) for c in range(8)) + "\n" for i in range(n))
    body += "5F,00A1B2,FF"
    open(o("07-tail-ff.TXT"), "wb").write(body.encode() + b"\xff" * 40000)
    rng = np.random.default_rng(11)
    open(o("07-tail-junk.TXT"), "wb").write(body.encode() + "".join(
        rng.choice(list("0123456789ABCDEF,\r\n "), size=60000)).encode())
    open(o("07-tail-text.TXT"), "wb").write(body.encode() + b"\n" + b"FILE TABLE STALE 0000 \n" * 3000)
    # stale tails of WELL-FORMED lines: an earlier recording's 2 min left on the card, its counter from 0x10
    # (a break), or after the stream-stop stamp (its counter continuing ours); erased blocks past 64 KiB
    whole = body[:body.rindex("\n") + 1]
    # the card's blocks: the device writes whole 512-byte blocks, so the earlier recording's lines
    # begin where a block begins; this recording's lines run on to a block's end (its last line ends there)
    aligned, i = whole, n
    while len(aligned.encode()) % 512:
        aligned += "%02X," % (i % 256) + ",".join("%06X" % (counts[c][i % n] & 0xFFFFFF) for c in range(8)) + "\n"
        i += 1
    stale = "".join("%02X," % ((i + 0x10) % 256) + ",".join("%06X" % ((counts[c][i] + 40000) & 0xFFFFFF)
                                                           for c in range(8)) + "\n" for i in range(30000))
    open(o("07-stale-lines.TXT"), "w").write(aligned + stale)
    cont = "".join(
        "%02X," % ((i + n) % 256) + ",".join("%06X" % ((counts[c][i] + 40000) & 0xFFFFFF) for c in range(8)) + "\n"
        for i in range(30000))
    open(o("07-stale-after-stop.TXT"), "w").write(whole + "%START AT\n000EA650\n" + cont)
    open(o("07-tail-zeros.TXT"), "wb").write(whole.encode() + b"\0" * (1 << 20))
    # a sample missing in the middle (a jump inside a block: not where the device's blocks end), and one
    # line's index damaged: the whole 4 min read, the loss counted
    lines = whole.split("\n")
    k = 2 + n // 2
    while len("\n".join(lines[:k]).encode()) % 512 in (0, 511):
        k += 1
    open(o("07-drop-inside.TXT"), "w").write("\n".join(lines[:k] + lines[k + 1:]))
    bad = lines[:]
    bad[k] = "%02X" % ((int(bad[k][:2], 16) + 77) % 256) + bad[k][2:]
    open(o("07-index-damaged.TXT"), "w").write("\n".join(bad))
    # stream stamps as the firmware writes them ('b' writes "%STOP AT", 's' "%START AT", millis() after each,
    # the counter back to 00 at every start): a file opening with the host's 's' before its 'b' (issue #50's
    # v2.0.1 files); a 5-min pause (a stop and a start) halfway; a stamp alone halfway whose clock fits
    half = n // 2
    first, second = lines[2:2 + half], lines[2 + half:2 + n]
    open(o("07-v201-opening.TXT"), "w").write("%START AT\n0019B699\n%STOP AT\n0019C691\n" + "\n".join(first + second) + "\n")
    restarted = ["%02X" % (i % 256) + l[2:] for i, l in enumerate(second)]
    stop_ms = 0xEA600 + half * 4               # the start stamp's clock plus 2 min of samples
    open(o("07-pause.TXT"), "w").write("%%STOP AT\n%08X\n" % 0xEA600 + "\n".join(first) + "\n%%START AT\n%08X\n"
                                       "%%STOP AT\n%08X\n" % (stop_ms, stop_ms + 300000) + "\n".join(restarted) + "\n")
    # a stop stamp alone halfway, the index restarting at 00 (a start whose stamp is missing): read on
    open(o("07-lone-stamp.TXT"), "w").write("%%STOP AT\n%08X\n" % 0xEA600 + "\n".join(first) + "\n%%START AT\n%08X\n"
                                            % stop_ms + "\n".join(restarted) + "\n")
    # the other name order (the file opens %START AT): the stop stamp halfway and older lines after it whose
    # index goes on (no start: not this recording's); and a file that ends in its stop stamp (no stale tail)
    open(o("07-stop-stale.TXT"), "w").write("%%START AT\n%08X\n" % 0xEA600 + "\n".join(first) + "\n%%STOP AT\n%08X\n"
                                            % stop_ms + "\n".join(second) + "\n")
    open(o("07-stop-end.TXT"), "w").write("%%STOP AT\n%08X\n" % 0xEA600 + "\n".join(first + second) +
                                          "\n%%START AT\n%08X\n" % (0xEA600 + n * 4))


main()
