#!/usr/bin/env bash
# User-space instructions per delivered message of the broadcast server, paced mode, counted by
# valgrind's callgrind (instructions, not seconds: the same count on a busy or a quiet machine).
# Each library runs twice, with M1 and M2 messages; (Ir(M2) - Ir(M1)) / ((M2 - M1) * N) is the
# cost of one delivery with the opening handshakes and the start-up taken out. The kernel's
# work (the system call and loopback TCP, 80-90 % of the CPU time here) is not counted, and
# neither are cache misses: see broadcast_profile.sh for time.
#
#   bash benches/loadgen/broadcast_instructions.sh [N]      (default N: 1000)
#
# Environment: LIBS ["wsproto-fanout wsproto fastwebsockets tokio-websockets tungstenite"],
#   M1 [50], M2 [150], SIZE [1024]. Uses the binaries in benches/loadgen/target/release.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LGDIR="$ROOT/benches/loadgen"
N="${1:-1000}"
LIBS="${LIBS:-wsproto-fanout wsproto fastwebsockets tokio-websockets tungstenite}"
M1="${M1:-50}"
M2="${M2:-150}"
SIZE="${SIZE:-1024}"
WORK="$ROOT/target/loadgen/instructions"
mkdir -p "$WORK"
(cd "$LGDIR" && cargo build --release --bin broadcast_server --bin broadcast_client)
for b in broadcast_server broadcast_client; do cp "$LGDIR/target/release/$b" "$WORK/"; done

count() { # lib m -> total Ir of the server
  local lib=$1 m=$2 port log="$WORK/server.log"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  : > "$log"
  (ulimit -n 20000 && exec taskset -c 0 valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" \
    "$WORK/broadcast_server" "127.0.0.1:$port" --lib "$lib" --mode paced --compression none \
    --connections "$N" --messages "$m" --size "$SIZE") > "$WORK/server.out" 2> "$log" &
  local pid=$!
  for _ in $(seq 600); do
    grep -q "broadcast server" "$log" && break
    sleep 0.1
  done
  (ulimit -n 20000 && exec taskset -c 1 "$WORK/broadcast_client" "127.0.0.1:$port" --connections "$N" \
    --messages "$m" --size "$SIZE") > /dev/null
  wait "$pid"
  grep -q '"client_ok":true' "$WORK/server.out" || { echo "run failed: $lib m=$m" >&2; exit 1; }
  grep -o 'summary: [0-9]*' "$WORK/cg.out" | cut -d' ' -f2
}

echo "| library | Ir, M = $M1 | Ir, M = $M2 | instructions per delivered message (N = $N) |"
echo "|---|---:|---:|---:|"
for lib in $LIBS; do
  a=$(count "$lib" "$M1")
  b=$(count "$lib" "$M2")
  echo "| $lib | $a | $b | $(( (b - a) / ((M2 - M1) * N) )) |"
done
