#!/usr/bin/env python3
"""Draw the benchmark charts of docs/performance.md from the benchmarks' own output.

    python3 benches/charts.py            # writes docs/charts/*.svg

Reads, newest file of each kind first:
  * benches/compare/results/interleaved-*.txt   (in-memory throughput per workload against the
    peers: `cargo run --release --bin interleaved` in benches/compare, one file per run; the
    median over the runs found is drawn)
  * benches/loadgen/results/broadcast-*.jsonl   (server CPU per delivered message for a broadcast,
    per library, mode and number of receivers: benches/loadgen/broadcast.sh)
  * benches/loadgen/results/memory-*.jsonl      (memory per connection: benches/loadgen/memory.sh)
and writes one SVG per chart into docs/charts/. No third-party Python package is needed: the SVG
is written by hand (horizontal bars, one group per workload or setting, our rows highlighted).
"""

import glob
import html
import json
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "docs", "charts")

OURS = "#1f6feb"
PEER = "#8c959f"
BAR_H = 16
GAP = 4
GROUP_GAP = 18
LABEL_W = 230
PLOT_W = 420
FONT = "font-family='DejaVu Sans, Arial, sans-serif' font-size='12'"


def bar_chart(title, subtitle, unit, groups):
    """groups: [(group title, [(label, value, ours)])]; each group has its own scale (the
    groups may measure different units)."""
    if not any(v is not None for _, bars in groups for _, v, _ in bars):
        return None
    height = 56 + sum(22 + len(bars) * (BAR_H + GAP) + GROUP_GAP for _, bars in groups)
    width = LABEL_W + PLOT_W + 110
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' {FONT}>",
        f"<rect width='{width}' height='{height}' fill='white'/>",
        f"<text x='10' y='20' font-size='15' font-weight='bold'>{html.escape(title)}</text>",
        f"<text x='10' y='38' fill='#57606a'>{html.escape(subtitle)}</text>",
    ]
    y = 56
    for name, bars in groups:
        out.append(f"<text x='10' y='{y + 12}' font-weight='bold'>{html.escape(name)}</text>")
        y += 22
        top = max((v for _, v, _ in bars if v is not None), default=1.0) or 1.0
        for label, value, ours in bars:
            out.append(f"<text x='{LABEL_W - 8}' y='{y + 12}' text-anchor='end'>{html.escape(label)}</text>")
            if value is not None:
                w = max(1.0, PLOT_W * value / top)
                colour = OURS if ours else PEER
                out.append(f"<rect x='{LABEL_W}' y='{y}' width='{w:.1f}' height='{BAR_H}' fill='{colour}'/>")
                out.append(f"<text x='{LABEL_W + w + 6:.1f}' y='{y + 12}'>{value:,.2f} {html.escape(unit)}</text>")
            y += BAR_H + GAP
        y += GROUP_GAP
    out.append("</svg>")
    return "\n".join(out) + "\n"


def committed_at(path):
    """When git last committed `path` (a file not committed yet is the newest)."""
    try:
        out = subprocess.run(
            ["git", "log", "-1", "--format=%ct", "--", path], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        out = ""
    return int(out) if out else float("inf")


def newest(pattern, count=None):
    """Files matching `pattern`, the most recently committed first (checkouts reset mtimes)."""
    files = sorted(glob.glob(os.path.join(ROOT, pattern)), key=lambda f: (committed_at(f), f), reverse=True)
    return files if count is None else files[:count]


def throughput_chart():
    """The interleaved in-memory runs: one group per workload, rows as printed."""
    runs = newest("benches/compare/results/interleaved-*.txt")
    if not runs:
        return None
    per_row = {}  # (workload, title) -> row -> [throughput per run]
    order = []
    for path in runs:
        workload = None
        for line in open(path, encoding="utf-8"):
            m = re.match(r"^(W\d): (.*?),", line)
            if m:
                workload = (m.group(1), m.group(2))
                if workload not in per_row:
                    per_row[workload] = {}
                    order.append(workload)
                continue
            fields = line.split()
            if workload and len(fields) >= 6 and re.match(r"^[\d.]+$", fields[1]):
                # row, median ms, min ms, wall ms, M msg/s, GB/s, ...
                unit_value = float(fields[4]) if workload[0] == "W1" else float(fields[5])
                per_row[workload].setdefault(fields[0], []).append(unit_value)
    groups = []
    for workload in sorted(order):
        rows = per_row[workload]
        unit = "M msg/s" if workload[0] == "W1" else "GB/s"
        bars = [
            (f"{row}", statistics.median(v), row.startswith("wsproto"))
            for row, v in rows.items()
            if not row.startswith("memcpy")
        ]
        groups.append((f"{workload[0]}: {workload[1]} ({unit}, higher is better)", bars))
    return bar_chart(
        "In-memory receive throughput against the peers",
        f"median of {len(runs)} interleaved run(s), thread CPU time; benches/compare",
        "",
        groups,
    )


def broadcast_chart():
    # The newest run of the whole matrix (both modes, with compression): a partial re-run
    # (one mode, some libraries) would leave groups out of the chart.
    def full(path):
        rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
        return {r.get("mode") for r in rows} >= {"burst", "paced"} and any(r.get("compression") == "deflate" for r in rows)

    files = [f for f in newest("benches/loadgen/results/broadcast-*.jsonl") if full(f)][:1]
    if not files:
        return None
    rows = [json.loads(line) for line in open(files[0], encoding="utf-8") if line.strip()]
    cells = {}
    for r in rows:
        lib = r.get("library") or r.get("label")
        key = (r.get("mode"), r.get("compression") == "deflate", r.get("n"))
        cpu = r.get("cpu_us_per_msg")
        if cpu is None:
            continue
        cells.setdefault(key, {}).setdefault(lib, []).append(cpu)
    groups = []
    for key in sorted(cells, key=lambda k: (str(k[0]), k[1], k[2] or 0)):
        mode, compressed, n = key
        bars = [(lib, statistics.median(v), lib.startswith("wsproto")) for lib, v in sorted(cells[key].items())]
        name = f"{mode}, {n} receivers{', compressed' if compressed else ''} (µs of server CPU per delivered message, lower is better)"
        groups.append((name, bars))
    return bar_chart(
        "Broadcast: server CPU per delivered message",
        f"median over runs in {os.path.relpath(files[0], ROOT)}; benches/loadgen/broadcast.sh",
        "µs",
        groups,
    )


def memory_chart():
    files = newest("benches/loadgen/results/memory-*.jsonl", 1)
    if not files:
        return None
    rows = [json.loads(line) for line in open(files[0], encoding="utf-8") if line.strip()]
    cells = {}
    for r in rows:
        if "kib_per_connection" not in r:
            continue
        key = (r.get("mode"), r.get("connections"))
        cells.setdefault(key, {}).setdefault(r["label"], []).append(r["kib_per_connection"])
    groups = []
    for key in sorted(cells, key=lambda k: (str(k[0]), k[1] or 0)):
        mode, n = key
        bars = [(lib, statistics.median(v), lib.startswith("wsproto")) for lib, v in sorted(cells[key].items())]
        groups.append((f"{mode}, {n} idle connections (KiB per connection, lower is better)", bars))
    return bar_chart(
        "Memory per idle connection",
        f"server RSS growth / connections, {os.path.relpath(files[0], ROOT)}; benches/loadgen/memory.sh",
        "KiB",
        groups,
    )


def main():
    os.makedirs(OUT, exist_ok=True)
    written = []
    for name, make in [("throughput", throughput_chart), ("broadcast", broadcast_chart), ("memory", memory_chart)]:
        svg = make()
        if svg is None:
            print(f"{name}: no results found, skipped", file=sys.stderr)
            continue
        path = os.path.join(OUT, f"{name}.svg")
        with open(path, "w", encoding="utf-8") as f:
            f.write(svg)
        written.append(os.path.relpath(path, ROOT))
    print("wrote", ", ".join(written) if written else "nothing")


if __name__ == "__main__":
    main()
