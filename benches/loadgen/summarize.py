#!/usr/bin/env python3
"""Table of loopback echo results (JSON lines written by run.sh): medians over repetitions."""

import json
import statistics
import sys
from collections import defaultdict

PEERS = ["tungstenite", "fastwebsockets", "tokio-websockets"]


def main(path):
    runs = defaultdict(list)
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                r = json.loads(line)
                runs[(r["connections"], r["size"], r["label"])].append(r)
    loads = sorted({(c, s) for c, s, _ in runs}, key=lambda x: x[1])
    for c, s in loads:
        print(f"\n### {c} connections x {s} B\n")
        print(
            "| server | msg/s (median) | spread | vs best peer | p50 us | p99 us "
            "| server CPU us/msg (user + sys) | user share |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        med = {}
        reps = {}
        for label in ["wsproto"] + PEERS:
            rs = runs.get((c, s, label), [])
            if rs:
                med[label] = statistics.median(r["msgs_per_s"] for r in rs)
                reps[label] = rs
        best_peer = max((med[p] for p in PEERS if p in med), default=None)
        for label, rs in reps.items():
            rates = [r["msgs_per_s"] for r in rs]
            p50 = statistics.median(r["p50_us"] for r in rs)
            p99 = statistics.median(r["p99_us"] for r in rs)
            per = lambda k: statistics.median(r[k] / max(r["all_round_trips"], 1) * 1e6 for r in rs)
            usr, sys_ = per("server_user_s"), per("server_sys_s")
            share = statistics.median(
                r["server_user_s"] / max(r["server_user_s"] + r["server_sys_s"], 1e-9) for r in rs
            )
            ratio = f"{med[label] / best_peer:.2f}x" if best_peer else "-"
            print(
                f"| {label} | {med[label]:,.0f} | {min(rates):,.0f}–{max(rates):,.0f} | {ratio} |"
                f" {p50:.1f} | {p99:.1f} | {usr + sys_:.2f} ({usr:.2f} + {sys_:.2f}) | {share:.0%} |"
            )
        if best_peer and "wsproto" in med:
            r = med["wsproto"] / best_peer
            print(f"\n- wsproto: {r:.2f}x the best peer's msg/s; target 1.2x: **{'MET' if r >= 1.2 else 'MISSED'}**")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "target/loadgen/results-split.jsonl")
