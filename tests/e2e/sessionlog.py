#!/usr/bin/python3
"""Reads a dreamwatch session log (PREFIX.session.tsv: t_s, clock, kind, text) for the end-to-end scripts.

  sessionlog.py alerts LOG     one line per alert event: id event severity rule t_s wall_s text (tabs)
  sessionlog.py events LOG     one line per event: t_s wall_s kind text (wall_s: Unix seconds, or -)"""
import re
import sys
from datetime import datetime


def rows(path):
    with open(path, encoding="utf-8") as f:
        head = f.readline().rstrip("\n").split("\t")
        assert head == ["t_s", "clock", "kind", "text"], "not a session log: %s" % head
        for line in f:
            t, clock, kind, text = line.rstrip("\n").split("\t", 3)
            wall = datetime.strptime(clock, "%Y-%m-%dT%H:%M:%S.%f").timestamp() if clock != "-" else None
            yield float(t), wall, kind, text


def main(cmd, path):
    for t, wall, kind, text in rows(path):
        w = "%.3f" % wall if wall is not None else "-"
        if cmd == "events":
            print("%.3f\t%s\t%s\t%s" % (t, w, kind, text))
        elif cmd == "alerts" and kind == "alert":
            m = re.match(r"Alert (\d+) (raised|cleared|acknowledged|repeat|re-armed) \[(\w+)\] (\w+): (.*)", text)
            assert m, "bad alert line: %s" % text
            print("\t".join([m.group(1), m.group(2), m.group(3), m.group(4), "%.3f" % t, w, m.group(5)]))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("alerts", "events"):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
