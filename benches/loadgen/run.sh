#!/usr/bin/env bash
# Loopback echo benchmark: our `echo_server` example and the three peer servers of this crate,
# each under the same load generator, on 127.0.0.1 only.
#
#   bash benches/loadgen/run.sh [REPS] [DURATION_S]        (from the repository root)
#   PIN=same bash benches/loadgen/run.sh ...                (server and client share core 1)
#
# Builds everything (CARGO_BUILD_JOBS=1), then for each repetition, each workload
# (100 connections x 20 B, 16 connections x 16 KiB) and each server in turn: starts the server
# pinned to core 1 (tokio's default runtime then runs one worker there), runs the load generator
# (one thread) pinned to core 0 (PIN=split, the default) or to core 1 too (PIN=same) for
# DURATION_S seconds after a 1 s warm-up, reads the server's user and system CPU time from
# /proc before and after, and stops the server. One JSON line per run goes to
# target/loadgen/results-$PIN.jsonl; summarize.py turns it into a table.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
REPS="${1:-3}"
DUR="${2:-10}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
OUT="$ROOT/target/loadgen"
mkdir -p "$OUT"
PIN="${PIN:-split}"
case "$PIN" in
  split) CLIENT_CORE=0 ;;
  same) CLIENT_CORE=1 ;;
  *) echo "PIN must be split or same" >&2; exit 2 ;;
esac
RESULTS="$OUT/results-$PIN.jsonl"
: > "$RESULTS"

(cd "$ROOT" && cargo build --release --all-features --example echo_server)
(cd "$ROOT/benches/loadgen" && cargo build --release)
LG="$ROOT/benches/loadgen/target/release"

declare -A BIN=(
  [wsproto]="$ROOT/target/release/examples/echo_server"
  [tungstenite]="$LG/echo_tungstenite"
  [fastwebsockets]="$LG/echo_fastwebsockets"
  [tokio-websockets]="$LG/echo_tokio_websockets"
)
SERVERS=(wsproto tungstenite fastwebsockets tokio-websockets)
TICKS=$(getconf CLK_TCK)

cpu_ticks() { # "utime stime" of a process, in clock ticks
  awk '{print $14, $15}' "/proc/$1/stat"
}

run_one() { # server connections size rep port
  local server=$1 conns=$2 size=$3 rep=$4 port=$5
  taskset -c 1 "${BIN[$server]}" "127.0.0.1:$port" > "$OUT/server-$server.log" 2>&1 &
  local pid=$!
  # Wait until it accepts connections.
  for _ in $(seq 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.1
  done
  local before after line
  before=$(cpu_ticks "$pid")
  line=$(taskset -c "$CLIENT_CORE" "$LG/loadgen" "127.0.0.1:$port" --connections "$conns" --size "$size" \
    --duration "$DUR" --warmup 1 --label "$server" | tail -n 1)
  after=$(cpu_ticks "$pid")
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  # Server CPU seconds (user, system) over warm-up + measurement + close; per message, divide
  # by all_round_trips (which counts the warm-up too).
  local usr sys
  usr=$(echo "$before $after" | awk -v t="$TICKS" '{printf "%.3f", ($3 - $1) / t}')
  sys=$(echo "$before $after" | awk -v t="$TICKS" '{printf "%.3f", ($4 - $2) / t}')
  echo "${line%\}},\"rep\":$rep,\"pin\":\"$PIN\",\"server_user_s\":$usr,\"server_sys_s\":$sys}" | tee -a "$RESULTS"
}

port=19100
for rep in $(seq "$REPS"); do
  for load in "100 20" "16 16384"; do
    set -- $load
    for server in "${SERVERS[@]}"; do
      port=$((port + 1))
      run_one "$server" "$1" "$2" "$rep" "$port"
    done
  done
done
python3 "$ROOT/benches/loadgen/summarize.py" "$RESULTS"
