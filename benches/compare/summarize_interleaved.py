#!/usr/bin/env python3
"""Medians over several outputs of `driver interleaved` (one file per run).

    python3 summarize_interleaved.py run1.txt run2.txt run3.txt

For each row: the median over runs of the per-run median CPU time, throughput, and of the
per-run median ratios (which `driver` computes round by round), with their spread.
"""

import re
import statistics
import sys

TARGETS = {"W1": ("peer", 2.5), "W2": ("peer", 1.3), "W3": ("memcpy", 1.0), "W4": ("peer", 1.3), "W5": ("peer", 1.3)}


def main(files):
    rows = {}
    order = []
    for f in files:
        w = None
        for line in open(f):
            m = re.match(r"^(W\d):", line)
            if m:
                w = m.group(1)
                continue
            p = line.split()
            if w and len(p) == 8 and p[0] != "row":
                key = (w, p[0])
                if key not in rows:
                    order.append(key)
                rows.setdefault(key, []).append(
                    (float(p[1]), float(p[4]), float(p[5]), float(p[6].rstrip("x")), float(p[7].rstrip("x")))
                )
    last = None
    for key in order:
        w, r = key
        if w != last:
            print(f"\n### {w} (thread CPU time, {len(files)} runs)\n")
            print("| row | CPU ms / iteration | M msg/s | GB/s | vs best peer (range) | vs memcpy (range) |")
            print("|---|---:|---:|---:|---:|---:|")
            last = w
        v = rows[key]
        med = lambda i: statistics.median(x[i] for x in v)
        rng = lambda i: f"{min(x[i] for x in v):.2f}–{max(x[i] for x in v):.2f}"
        print(f"| {r} | {med(0):.3f} | {med(1):.2f} | {med(2):.2f} | {med(3):.2f}x ({rng(3)}) | {med(4):.2f}x ({rng(4)}) |")
    print()
    for (w, r), v in rows.items():
        if not r.startswith("wsproto"):
            continue
        kind, target = TARGETS[w]
        ratio = statistics.median(x[3] if kind == "peer" else x[4] for x in v)
        status = "MET" if ratio >= target else "MISSED"
        print(f"- {w} {r}: {ratio:.2f}x the {'fastest peer' if kind == 'peer' else 'memcpy'}, target {target}x: {status}")


if __name__ == "__main__":
    main(sys.argv[1:])
