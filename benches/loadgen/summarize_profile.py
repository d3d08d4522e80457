"""Table of broadcast_profile.sh's results: per configuration, the medians of user and total CPU
per delivered message from the profile (perf samples in the measured window) beside
getrusage's (tick-sampled split), and each library against the best peer."""
import json
import statistics
import sys
from collections import defaultdict

PEERS = ("tungstenite", "fastwebsockets", "tokio-websockets")

rows = [json.loads(l) for path in sys.argv[1:] for l in open(path) if l.strip()]
runs = defaultdict(list)
for r in rows:
    runs[(r["n"], r["mode"], r["library"])].append(r)


def med(rs, key):
    return statistics.median(r[key] for r in rs)


for n in sorted({k[0] for k in runs}):
    for mode in ("burst", "paced"):
        libs = {lib: rs for (n2, m, lib), rs in runs.items() if n2 == n and m == mode}
        if not libs:
            continue
        print(f"\n### N = {n:,}, {mode}, {rows[0]['m']} x {rows[0]['size']} B (medians; "
              f"perf at {rows[0]['perf_freq']:.0f} Hz in the measured window)\n")
        print("| library | runs | perf user us/msg | perf total us/msg | getrusage user | getrusage total "
              "| user vs best peer (perf) | total vs best peer (perf) | total vs best peer (getrusage) |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        peers = [lib for lib in libs if lib in PEERS]
        best_user = min((med(libs[p], "perf_user_us_per_msg") for p in peers), default=None)
        best_cpu = min((med(libs[p], "perf_cpu_us_per_msg") for p in peers), default=None)
        best_ru = min((med(libs[p], "cpu_us_per_msg") for p in peers), default=None)
        best_names = {
            "user": min(peers, key=lambda p: med(libs[p], "perf_user_us_per_msg")) if peers else "",
            "cpu": min(peers, key=lambda p: med(libs[p], "perf_cpu_us_per_msg")) if peers else "",
            "ru": min(peers, key=lambda p: med(libs[p], "cpu_us_per_msg")) if peers else "",
        }
        ratio = lambda v, b, name: f"{v / b:.2f}x {name}" if b else ""
        for lib in sorted(libs, key=lambda l: (l in PEERS, l)):
            rs = libs[lib]
            u, c = med(rs, "perf_user_us_per_msg"), med(rs, "perf_cpu_us_per_msg")
            ru_u, ru_c = med(rs, "user_us_per_msg"), med(rs, "cpu_us_per_msg")
            print(f"| {lib} | {len(rs)} | {u:.3f} ({min(r['perf_user_us_per_msg'] for r in rs):.3f}-"
                  f"{max(r['perf_user_us_per_msg'] for r in rs):.3f}) | {c:.2f} | {ru_u:.3f} | {ru_c:.2f} | "
                  f"{ratio(u, best_user, best_names['user'])} | {ratio(c, best_cpu, best_names['cpu'])} | "
                  f"{ratio(ru_c, best_ru, best_names['ru'])} |")
revs = sorted({r["wsproto_rev"] for r in rows})
print(f"\nwsproto revision(s): {', '.join(revs)}")
