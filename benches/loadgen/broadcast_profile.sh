#!/usr/bin/env bash
# User CPU time of the broadcast server from a profile, not from the scheduler's ticks.
#
# getrusage's user/system split (what broadcast.sh reports) comes from 250 Hz tick sampling
# on this kernel (CONFIG_TICK_CPU_ACCOUNTING): a 1-second run has ~250 ticks, of which the
# user share (10-20 %) is a few dozen, so the user figure moves by +-20 % between runs. This
# script samples the server with `perf record -e cpu-clock` at F Hz (40x the tick rate) on
# CLOCK_MONOTONIC, cuts the profile to the measured window the server reports
# (`window_mono_s`), and counts samples in user space and in the kernel: user and kernel CPU
# per delivered message with ~40x more samples. Same server, client and protocol as
# broadcast.sh (whose binaries it uses: run broadcast.sh, or build benches/loadgen, first).
#
#   bash benches/loadgen/broadcast_profile.sh [N...]     (default N: 1000 5000)
#
# Environment knobs (defaults in brackets): REPS [3], MESSAGES [200], SIZE [1024],
#   LIBS ["wsproto-fanout wsproto tungstenite fastwebsockets tokio-websockets"],
#   MODES ["paced burst"], FREQ [10000], RESULTS [benches/loadgen/results/profile-DATE.jsonl]
# Needs `perf` (Debian's linux-perf) with software events; no hardware counters are used.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LGDIR="$ROOT/benches/loadgen"
if [ "$#" -gt 0 ]; then NS=("$@"); else NS=(1000 5000); fi
REPS="${REPS:-3}"
MESSAGES="${MESSAGES:-200}"
SIZE="${SIZE:-1024}"
LIBS="${LIBS:-wsproto-fanout wsproto tungstenite fastwebsockets tokio-websockets}"
MODES="${MODES:-paced burst}"
FREQ="${FREQ:-10000}"
mkdir -p "$LGDIR/results"
RESULTS="${RESULTS:-$LGDIR/results/profile-$(date +%Y-%m-%d-%H%M).jsonl}"
WORK="$ROOT/target/loadgen/profile"
mkdir -p "$WORK"
command -v perf > /dev/null || { echo "perf not found (apt-get install linux-perf)" >&2; exit 1; }
for b in broadcast_server broadcast_client; do
  [ -x "$LGDIR/target/release/$b" ] || (cd "$LGDIR" && cargo build --release --bin broadcast_server --bin broadcast_client)
  cp "$LGDIR/target/release/$b" "$WORK/"
done
REV="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git -C "$ROOT" status --porcelain -- src Cargo.toml 2>/dev/null)" ]; then
  REV="$REV-dirty.$(git -C "$ROOT" diff HEAD -- src Cargo.toml | sha1sum | cut -c1-8)"
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

run_one() { # lib mode n rep
  local lib=$1 mode=$2 n=$3 rep=$4 port log="$WORK/server.log" out="$WORK/server.out" data="$WORK/perf.data"
  port=$(free_port)
  : > "$log"
  (ulimit -n 20000 && exec taskset -c 0 perf record -q -e cpu-clock -F "$FREQ" -k CLOCK_MONOTONIC -o "$data" -- \
    "$WORK/broadcast_server" "127.0.0.1:$port" --lib "$lib" --mode "$mode" --compression none \
    --connections "$n" --messages "$MESSAGES" --size "$SIZE") > "$out" 2> "$log" &
  local pid=$!
  for _ in $(seq 200); do
    grep -q "broadcast server" "$log" && break
    sleep 0.05
  done
  local crc=0 src=0
  (ulimit -n 20000 && exec taskset -c 1 "$WORK/broadcast_client" "127.0.0.1:$port" --connections "$n" \
    --messages "$MESSAGES" --size "$SIZE") > /dev/null 2>> "$log" || crc=$?
  wait "$pid" || src=$?
  local line
  line=$(grep '^{"library"' "$out" || true)
  if [ "$crc" -ne 0 ] || [ "$src" -ne 0 ] || [ -z "$line" ]; then
    echo "FAILED: $lib $mode n=$n rep=$rep (client $crc, server $src)" >&2
    tail -n 5 "$log" >&2
    return
  fi
  LINE="$line" DATA="$data" FREQ="$FREQ" REP="$rep" REV="$REV" python3 "$LGDIR/profile_window.py" | tee -a "$RESULTS"
}

echo "results: $RESULTS"
for rep in $(seq "$REPS"); do
  for n in "${NS[@]}"; do
    for mode in $MODES; do
      for lib in $LIBS; do
        run_one "$lib" "$mode" "$n" "$rep"
      done
    done
  done
done
python3 "$LGDIR/summarize_profile.py" "$RESULTS"
