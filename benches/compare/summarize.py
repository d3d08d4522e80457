#!/usr/bin/env python3
"""Summarize several runs of `cargo bench --bench workloads` into Markdown tables.

    python3 summarize.py RUN_DIR [RUN_DIR ...]

Each RUN_DIR is a copy of `target/criterion` taken after one full run. For every row the
criterion median of each run is read from `<group>/<bench>/new/estimates.json`; the table shows
the median over runs (and the spread), throughput, and the ratios that the targets use,
computed within each run and then taken as the median over runs.
"""

import json
import os
import statistics
import sys

WORKLOADS = {
    # name: (messages, payload bytes per message, unit for the headline number)
    "W1": (100_000, 16, "msg/s"),
    "W2": (10_000, 1024, "GB/s"),
    "W3": (100, 1 << 20, "GB/s"),
    "W4": (10_000, 1024, "GB/s"),
    "W5": (10_000, 1024, "GB/s"),
}
PEERS = ["tungstenite", "fastwebsockets", "fastwebsockets-raw", "fastwebsockets-borrowed", "tokio-websockets"]
# Peer rows that use the crate's message-level API (continuation rules enforced).
COMPLIANT_PEERS = ["tungstenite", "fastwebsockets", "fastwebsockets-borrowed", "tokio-websockets"]
TARGETS = {"W1": ("peer", 2.5), "W2": ("peer", 1.3), "W3": ("memcpy", 1.0), "W4": ("peer", 1.3), "W5": ("peer", 1.3)}


def load(run, group):
    out = {}
    gdir = os.path.join(run, group)
    if not os.path.isdir(gdir):
        return out
    for bench in sorted(os.listdir(gdir)):
        f = os.path.join(gdir, bench, "new", "estimates.json")
        if os.path.exists(f):
            with open(f) as fh:
                out[bench] = json.load(fh)["median"]["point_estimate"]  # ns per iteration
    return out


def fmt_rate(ns, msgs, size, unit):
    secs = ns / 1e9
    if unit == "msg/s":
        return f"{msgs / secs / 1e6:.2f} M msg/s"
    return f"{msgs * size / secs / 1e9:.2f} GB/s"


def main(runs):
    for w, (msgs, size, unit) in WORKLOADS.items():
        per_run = [load(r, w) for r in runs]
        rows = [b for b in per_run[0] if all(b in p for p in per_run)]
        if not rows:
            continue
        print(f"\n### {w}: {msgs} messages x {size} B\n")
        print("| row | median time / iteration | spread over runs | throughput | msg/s | vs best peer | vs memcpy |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        order = ["memcpy", "memcpy-chunked-64k"] + [r for r in rows if r.startswith("wsproto")] + [r for r in rows if r in PEERS]
        for b in order:
            if b not in rows:
                continue
            times = [p[b] for p in per_run]
            med = statistics.median(times)
            spread = f"{min(times) / 1e6:.3f}–{max(times) / 1e6:.3f} ms"
            vs_peer = []
            vs_mem = []
            for p in per_run:
                peers = [p[x] for x in PEERS if x in p]
                vs_peer.append(min(peers) / p[b])
                vs_mem.append(p["memcpy"] / p[b])
            rate = msgs / (med / 1e9)
            print(
                f"| {b} | {med / 1e6:.3f} ms | {spread} | {fmt_rate(med, msgs, size, unit)} | {rate / 1e6:.2f} M"
                f" | {statistics.median(vs_peer):.2f}x | {statistics.median(vs_mem):.2f}x |"
            )
        kind, target = TARGETS[w]
        for ours in [r for r in rows if r.startswith("wsproto")]:
            ratios = []
            ratios_compliant = []
            for p in per_run:
                if kind == "peer":
                    ratios.append(min(p[x] for x in PEERS if x in p) / p[ours])
                    ratios_compliant.append(min(p[x] for x in COMPLIANT_PEERS if x in p) / p[ours])
                else:
                    ratios.append(p["memcpy"] / p[ours])
            r = statistics.median(ratios)
            per = ", ".join(f"{x:.2f}" for x in ratios)
            status = "MET" if r >= target else "MISSED"
            extra = ""
            if ratios_compliant:
                extra = f"; vs fastest message-API peer {statistics.median(ratios_compliant):.2f}x"
            print(f"\n- {ours}: {r:.2f}x the {'fastest peer' if kind == 'peer' else 'memcpy'} "
                  f"(per run: {per}){extra}; target {target}x: **{status}**")


if __name__ == "__main__":
    main(sys.argv[1:] or [os.path.join(os.path.dirname(__file__), "target", "criterion")])
