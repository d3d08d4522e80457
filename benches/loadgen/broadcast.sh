#!/usr/bin/env bash
# Broadcast benchmark: one server sends M = 200 text messages of 1 KiB (market-data ticks in
# JSON) to each of N connections; what it costs the server, in CPU time per delivered message.
# Our crate (a `PreparedMessage` per message, and `send_text` per connection for comparison)
# and the three peer libraries of this crate. Loopback only (127.0.0.1).
#
#   bash benches/loadgen/broadcast.sh [N...]          (from anywhere; default N: 1000 5000)
#
# Environment knobs (defaults in brackets):
#   REPS [3]                     runs of each configuration
#   MESSAGES [200]               M
#   SIZE [1024]                  bytes per message
#   LIBS ["wsproto wsproto-fanout wsproto-send tungstenite fastwebsockets tokio-websockets"]
#   MODES ["burst paced"]        burst: all M messages handed to the channel at once;
#                                paced: message k+1 once every connection wrote message k
#   COMPRESSIONS ["none deflate"] deflate: permessage-deflate (server_no_context_takeover);
#                                only our crate has it (the peers' versions here have none),
#                                so peers run with none only
#   RESULTS [benches/loadgen/results/broadcast-DATE.jsonl]  appended to, one JSON line a run
#   BROADCAST_SKIP_BUILD []      set: use the binaries already in benches/loadgen/target/release
#                                (the revision is then recorded as "COMMIT-prebuilt")
#
# Builds benches/loadgen in release (CARGO_BUILD_JOBS=1), copies the two binaries aside (a
# rebuild during the run changes nothing), then for each repetition and configuration: picks a
# free port, starts `broadcast_server` pinned to core 0 (tokio current_thread runtime: one
# core, one thread), waits until it listens, runs `broadcast_client` pinned to core 1 (both with
# `ulimit -n 20000`), and keeps the server's JSON line (its getrusage user and system time and
# wall time from the start signal until every connection wrote every message), with the run's
# repetition, our commit (`wsproto_rev`, "-dirty.HASH" when src/ or Cargo.toml differ from it),
# the load average before the run and the client's wire bytes per message. A run whose client
# did not receive and check every message is reported and not kept. summarize_broadcast.py
# prints the table at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LGDIR="$ROOT/benches/loadgen"
if [ "$#" -gt 0 ]; then NS=("$@"); else NS=(1000 5000); fi
REPS="${REPS:-3}"
MESSAGES="${MESSAGES:-200}"
SIZE="${SIZE:-1024}"
LIBS="${LIBS:-wsproto wsproto-fanout wsproto-send tungstenite fastwebsockets tokio-websockets}"
MODES="${MODES:-burst paced}"
COMPRESSIONS="${COMPRESSIONS:-none deflate}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
mkdir -p "$LGDIR/results"
RESULTS="${RESULTS:-$LGDIR/results/broadcast-$(date +%Y-%m-%d-%H%M).jsonl}"
WORK="$ROOT/target/loadgen/broadcast"
mkdir -p "$WORK"

SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

if [ -z "${BROADCAST_SKIP_BUILD:-}" ]; then
  (cd "$LGDIR" && cargo build --release --bin broadcast_server --bin broadcast_client)
fi
for b in broadcast_server broadcast_client; do
  cp "$LGDIR/target/release/$b" "$WORK/"
done
REV="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "${BROADCAST_SKIP_BUILD:-}" ]; then
  REV="$REV-prebuilt"
elif [ -n "$(git -C "$ROOT" status --porcelain -- src Cargo.toml 2>/dev/null)" ]; then
  REV="$REV-dirty.$(git -C "$ROOT" diff HEAD -- src Cargo.toml | sha1sum | cut -c1-8)"
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

supports_deflate() {
  case "$1" in wsproto | wsproto-fanout | wsproto-send) return 0 ;; *) return 1 ;; esac
}

FAILED=0
run_one() { # lib mode compression n rep
  local lib=$1 mode=$2 comp=$3 n=$4 rep=$5
  local port load log="$WORK/server.log" out="$WORK/server.out" cout="$WORK/client.out"
  port=$(free_port)
  load=$(cut -d' ' -f1 /proc/loadavg)
  : > "$log"
  (ulimit -n 20000 && exec taskset -c 0 "$WORK/broadcast_server" "127.0.0.1:$port" --lib "$lib" --mode "$mode" \
    --compression "$comp" --connections "$n" --messages "$MESSAGES" --size "$SIZE") > "$out" 2> "$log" &
  SERVER_PID=$!
  for _ in $(seq 100); do
    grep -q "broadcast server" "$log" && break
    sleep 0.05
  done
  local client_flags=()
  [ "$comp" = deflate ] && client_flags+=(--deflate)
  local crc=0
  (ulimit -n 20000 && exec taskset -c 1 "$WORK/broadcast_client" "127.0.0.1:$port" --connections "$n" \
    --messages "$MESSAGES" --size "$SIZE" "${client_flags[@]}") > "$cout" 2>> "$log" || crc=$?
  local src=0
  wait "$SERVER_PID" || src=$?
  SERVER_PID=""
  local line
  line=$(grep '^{"library"' "$out" || true)
  if [ "$crc" -ne 0 ] || [ "$src" -ne 0 ] || [ -z "$line" ]; then
    echo "FAILED: $lib $mode $comp n=$n rep=$rep (client $crc, server $src):" >&2
    tail -n 5 "$log" >&2
    FAILED=$((FAILED + 1))
    return
  fi
  local wire
  wire=$(grep -o '"wire_bytes_per_msg":[0-9.]*' "$cout" | cut -d: -f2)
  echo "${line%\}},\"rep\":$rep,\"wsproto_rev\":\"$REV\",\"loadavg\":$load,\"wire_bytes_per_msg\":${wire:-0}}" \
    | tee -a "$RESULTS"
}

echo "results: $RESULTS (load: $(cat /proc/loadavg))"
for rep in $(seq "$REPS"); do
  for n in "${NS[@]}"; do
    for comp in $COMPRESSIONS; do
      for mode in $MODES; do
        for lib in $LIBS; do
          if [ "$comp" = deflate ] && ! supports_deflate "$lib"; then continue; fi
          run_one "$lib" "$mode" "$comp" "$n" "$rep"
        done
      done
    done
  done
done
python3 "$LGDIR/summarize_broadcast.py" "$RESULTS"
if [ "$FAILED" -gt 0 ]; then
  echo "$FAILED run(s) failed" >&2
  exit 1
fi
