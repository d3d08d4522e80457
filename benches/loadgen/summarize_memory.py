#!/usr/bin/env python3
"""Tables of the memory benchmark (JSON lines written by memory.sh): medians over repetitions.

    python3 benches/loadgen/summarize_memory.py target/loadgen/memory.jsonl

KiB per connection = (server VmRSS with every connection open and idle - VmRSS before the first
connection) / connections. The ratio column compares each row with the best Rust peer
(tungstenite, fastwebsockets, tokio-websockets) in plain mode of the same file: the peers'
echo servers do not negotiate permessage-deflate, so deflate rows are compared with that too.
"""

import json
import statistics
import sys
from collections import defaultdict

ORDER = ["wsproto", "wsproto-baseline", "tungstenite", "fastwebsockets", "tokio-websockets", "python"]
RUST_PEERS = ["tungstenite", "fastwebsockets", "tokio-websockets"]


def order(label):
    return (ORDER.index(label) if label in ORDER else len(ORDER), label)


def main(path):
    runs = defaultdict(list)
    longs = defaultdict(list)
    revs = set()
    overflows = 0
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            revs.add(r.get("wsproto_rev", "?"))
            overflows += r.get("listen_overflows", 0)
            if r["mode"].startswith("long"):
                longs[(r["label"], r["mode"], r["size"])].append(r)
            else:
                runs[(r["connections"], r["hold_s"], r["label"], r["mode"])].append(r)

    print(f"wsproto commit: {', '.join(sorted(revs))}; kernel ListenOverflows during the runs: {overflows}")
    for conns, hold in sorted({(c, h) for c, h, _, _ in runs}):
        keys = [(label, mode) for c, h, label, mode in runs if (c, h) == (conns, hold)]
        keys.sort(key=lambda k: (order(k[0]), k[1] != "plain"))
        med = {k: statistics.median(r["kib_per_connection"] for r in runs[(conns, hold) + k]) for k in keys}
        peers = [med[(p, "plain")] for p in RUST_PEERS if (p, "plain") in med]
        best = min(peers) if peers else None
        best_name = next((p for p in RUST_PEERS if (p, "plain") in med and med[(p, "plain")] == best), None)
        print(f"\n### {conns:,} connections, held {hold:g} s (server RSS growth, median of runs)\n")
        print(
            "| server | mode | KiB per connection | spread | vs best Rust peer"
            + (f" ({best_name}, plain)" if best_name else "")
            + " | RSS before → after (MiB) | runs | failed | Pings answered |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for label, mode in keys:
            rs = runs[(conns, hold, label, mode)]
            per = [r["kib_per_connection"] for r in rs]
            before = statistics.median(r["rss_before_kib"] for r in rs) / 1024
            after = statistics.median(r["rss_after_kib"] for r in rs) / 1024
            ratio = f"{med[(label, mode)] / best:.2f}x" if best else "-"
            failed = sum(r["failed"] for r in rs)
            pongs = sum(r.get("pongs_sent", 0) for r in rs)
            print(
                f"| {label} | {mode} | {med[(label, mode)]:.1f} | {min(per):.1f}–{max(per):.1f} | {ratio} |"
                f" {before:.1f} → {after:.1f} | {len(rs)} | {failed} | {pongs} |"
            )

    if longs:
        print("\n### One long message on one connection (server RSS, median of runs)\n")
        print(
            "| server | mode | message | on the wire | growth after the echo (MiB) | growth after the idle hold"
            " (MiB) | peak growth, VmHWM (MiB) | echo ms | runs | failed |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for (label, mode, size) in sorted(longs, key=lambda k: (order(k[0]), k[1], k[2])):
            rs = longs[(label, mode, size)]
            m = lambda k: statistics.median(r[k] for r in rs)
            print(
                f"| {label} | {mode} | {size / 2**20:.0f} MiB | {m('wire_bytes') / 1024:,.0f} KiB |"
                f" {m('growth_after_echo_kib') / 1024:.1f} | {m('growth_idle_kib') / 1024:.1f} |"
                f" {m('peak_growth_kib') / 1024:.1f} | {m('echo_ms'):.0f} | {len(rs)} |"
                f" {sum(r['failed'] for r in rs)} |"
            )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "target/loadgen/memory.jsonl")
