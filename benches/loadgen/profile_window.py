"""Cuts a `perf record -k CLOCK_MONOTONIC` profile of broadcast_server to the measured window
and prints the server's JSON line with the sample counts added (see broadcast_profile.sh)."""
import json
import os
import subprocess

line = json.loads(os.environ["LINE"])
freq = float(os.environ["FREQ"])
t0, t1 = line["window_mono_s"]
report = subprocess.run(
    ["perf", "report", "-i", os.environ["DATA"], "--time", f"{t0:.6f},{t1:.6f}", "--sort", "dso",
     "-n", "--stdio", "-q"],
    capture_output=True, text=True, check=True).stdout
kernel = user = 0
for row in report.splitlines():
    parts = row.split()
    if len(parts) < 3 or not parts[0].endswith("%"):
        continue
    samples, dso = int(parts[1]), parts[2]
    if dso.startswith("[kernel") or dso.startswith("[guest"):
        kernel += samples
    else:
        user += samples
delivered = max(line["delivered"], 1)
per = lambda samples: samples / freq / delivered * 1e6
line.update({
    "rep": int(os.environ["REP"]), "wsproto_rev": os.environ["REV"], "perf_freq": freq,
    "perf_user_samples": user, "perf_kernel_samples": kernel,
    "perf_user_us_per_msg": round(per(user), 4), "perf_kernel_us_per_msg": round(per(kernel), 4),
    "perf_cpu_us_per_msg": round(per(user + kernel), 4),
})
print(json.dumps(line))
