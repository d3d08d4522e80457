#!/usr/bin/env python3
"""Markdown table of broadcast results (JSON lines written by broadcast.sh): for each N, mode
and compression, the median over runs of the server's CPU time per delivered message (user +
system, and user alone), with the ratio to the best peer (the peer with the lowest median; a
ratio below 1 means less CPU than that peer). With compression no peer has permessage-deflate,
so `wsproto` (compressed once per message) is compared with `wsproto-send` (compressed per
connection) instead.

    python3 benches/loadgen/summarize_broadcast.py RESULTS.jsonl [MORE.jsonl ...]
"""

import json
import statistics
import sys
from collections import defaultdict

OURS = ["wsproto", "wsproto-fanout", "wsproto-send"]
PEERS = ["tungstenite", "fastwebsockets", "tokio-websockets"]


def load(paths):
    runs = defaultdict(list)
    for path in paths:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                r = json.loads(line)
                if not r.get("client_ok", False):
                    continue
                runs[(r["n"], r["mode"], r["compression"], r["library"])].append(r)
    return runs


def main(paths):
    runs = load(paths)
    if not runs:
        print("no successful runs")
        return
    med = lambda rs, k: statistics.median(r[k] for r in rs)
    for n in sorted({k[0] for k in runs}):
        m = {r["m"] for k, rs in runs.items() if k[0] == n for r in rs}
        size = {r["size"] for k, rs in runs.items() if k[0] == n for r in rs}
        loads = [r.get("loadavg", 0) for k, rs in runs.items() if k[0] == n for r in rs]
        print(
            f"\n### N = {n:,} connections x M = {'/'.join(map(str, sorted(m)))} messages of "
            f"{'/'.join(map(str, sorted(size)))} B (load average before the runs: "
            f"{min(loads):.2f}-{max(loads):.2f})\n"
        )
        print(
            "| mode | compression | library | runs | CPU us/msg (user + sys) | user us/msg "
            "| vs best peer (CPU) | vs best peer (user) | wall ms | wire B/msg |"
        )
        print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for mode in ["burst", "paced"]:
            for comp in ["none", "deflate"]:
                cell = {lib: runs[(n, mode, comp, lib)] for lib in OURS + PEERS if (n, mode, comp, lib) in runs}
                if not cell:
                    continue
                peers = [p for p in PEERS if p in cell]
                if peers:
                    best = min(peers, key=lambda p: med(cell[p], "cpu_us_per_msg"))
                    label = best
                elif "wsproto-send" in cell:
                    best, label = "wsproto-send", "wsproto-send"
                else:
                    best = label = None
                for lib, rs in cell.items():
                    cpu, user = med(rs, "cpu_us_per_msg"), med(rs, "user_us_per_msg")
                    sys_ = med(rs, "sys_us_per_msg")
                    if best and lib != best:
                        bc, bu = med(cell[best], "cpu_us_per_msg"), med(cell[best], "user_us_per_msg")
                        vs_cpu = f"{cpu / bc:.2f}x {label}"
                        vs_user = f"{user / bu:.2f}x" if bu > 0 else "-"
                    else:
                        vs_cpu = vs_user = "(best peer)" if lib == best and lib in PEERS else "-"
                        if lib == best and lib not in PEERS:
                            vs_cpu = vs_user = "(reference)"
                    wall = med(rs, "wall_s") * 1e3
                    wire = med(rs, "wire_bytes_per_msg") if all("wire_bytes_per_msg" in r for r in rs) else 0
                    spread = [r["cpu_us_per_msg"] for r in rs]
                    print(
                        f"| {mode} | {comp} | {lib} | {len(rs)} | {cpu:.2f} ({user:.2f} + {sys_:.2f}),"
                        f" {min(spread):.2f}-{max(spread):.2f} | {user:.2f} | {vs_cpu} | {vs_user} |"
                        f" {wall:,.0f} | {wire:,.0f} |"
                    )
    revs = sorted({r.get("wsproto_rev", "?") for rs in runs.values() for r in rs})
    print(f"\nwsproto revision(s): {', '.join(revs)}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: summarize_broadcast.py RESULTS.jsonl [MORE.jsonl ...]")
    main(sys.argv[1:])
