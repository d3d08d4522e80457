#!/usr/bin/env bash
# Memory per connection: the server's resident memory (VmRSS) with N idle WebSocket connections
# open, for our `echo_server` example, the three peer echo servers of this crate and, when
# `python3 -c 'import websockets'` works, Python websockets (echo_python.py, default settings).
# Loopback only (127.0.0.1).
#
#   bash benches/loadgen/memory.sh [N] [HOLD]          (from the repository root; 5000 and 5)
#
# Environment knobs (defaults in brackets):
#   REPS [3]              repetitions
#   SERVERS [all]         e.g. "wsproto" or "wsproto tungstenite python"
#   MODES ["plain deflate long"]
#                         plain: N connections x one 1 KiB binary message each;
#                         deflate: N connections offering permessage-deflate, one compressed
#                           1 KiB JSON-like text each (servers that support it: wsproto, python);
#                         long: one 64 MiB message on one connection, plain and compressed
#                           (ours only, and the WSPROTO_BASELINE build), then idle for HOLD s
#   LONG_BYTES [67108864] size of the long message
#   RESULTS [target/loadgen/memory.jsonl]  truncated at the start, one JSON line per run
#   PORT_BASE [19600]     first port tried (ports that already answer are skipped)
#   WSPROTO_BIN []        path to a build of our echo_server example to measure instead of
#                         building the work tree's (e.g. a clean build of a commit, made with
#                         `git archive REV | tar -x -C DIR` and cargo build there); WSPROTO_REV
#                         then names it in the results
#   WSPROTO_BASELINE []   path to another build of our echo_server example (e.g. of an older
#                         commit): measured too, as "wsproto-baseline" (plain, deflate, long)
#
# Builds everything (CARGO_BUILD_JOBS=1), then for each repetition, server and mode: starts a
# fresh server pinned to core 1 with `ulimit -n 20000`, waits until it accepts, runs `conns`
# pinned to core 0 (its own process, `ulimit -n 20000`), and stops the server. The binaries are
# copied to target/loadgen/memory-bin/ after the build, so a rebuild during the run changes
# nothing; each JSON line records our commit (`wsproto_rev`, "-dirty" when src/, examples/ or
# Cargo.toml differ from it, with a hash of that diff) and the kernel's ListenOverflows during the run. The servers
# keep their default keepalive (ours and Python's Ping after 20 s of silence); `conns` answers
# Pings. summarize_memory.py prints the table at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
N="${1:-5000}"
HOLD="${2:-5}"
REPS="${REPS:-3}"
MODES="${MODES:-plain deflate long}"
LONG_BYTES="${LONG_BYTES:-67108864}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
OUT="$ROOT/target/loadgen"
mkdir -p "$OUT"
RESULTS="${RESULTS:-$OUT/memory.jsonl}"
: > "$RESULTS"

SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

if [ -z "${WSPROTO_BIN:-}" ]; then
  (cd "$ROOT" && cargo build --release --all-features --example echo_server)
fi
(cd "$ROOT/benches/loadgen" && cargo build --release)
BIN="$OUT/memory-bin"
mkdir -p "$BIN"
cp "${WSPROTO_BIN:-$ROOT/target/release/examples/echo_server}" "$BIN/echo_server"
for b in conns echo_tungstenite echo_fastwebsockets echo_tokio_websockets; do
  cp "$ROOT/benches/loadgen/target/release/$b" "$BIN/"
done
LG="$BIN"
CONNS="$LG/conns"
REV="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "${WSPROTO_BIN:-}" ]; then
  REV="${WSPROTO_REV:-external}"
elif [ -n "$(git -C "$ROOT" status --porcelain -- src examples Cargo.toml 2>/dev/null)" ]; then
  # Uncommitted changes: name them by a hash of the diff, so runs of the same tree group together.
  REV="$REV-dirty.$(git -C "$ROOT" diff HEAD -- src examples Cargo.toml | sha1sum | cut -c1-8)"
fi

declare -A CMD=(
  [wsproto]="$BIN/echo_server"
  [tungstenite]="$LG/echo_tungstenite"
  [fastwebsockets]="$LG/echo_fastwebsockets"
  [tokio-websockets]="$LG/echo_tokio_websockets"
  [python]="python3 $ROOT/benches/loadgen/echo_python.py"
)
# Servers that accept permessage-deflate (our example accepts it with the default
# DeflateConfig; the three Rust peers' echo servers do not negotiate it).
declare -A DEFLATE=([wsproto]=1 [wsproto-baseline]=1 [python]=1)
if [ -n "${WSPROTO_BASELINE:-}" ]; then
  cp "$WSPROTO_BASELINE" "$BIN/echo_server_baseline"
  CMD[wsproto-baseline]="$BIN/echo_server_baseline"
fi
if [ -z "${SERVERS:-}" ]; then
  SERVERS="wsproto${WSPROTO_BASELINE:+ wsproto-baseline} tungstenite fastwebsockets tokio-websockets"
  if python3 -c 'import websockets' 2>/dev/null; then
    SERVERS="$SERVERS python"
  else
    echo "python3 cannot import websockets: Python row skipped" >&2
  fi
fi

port=$((${PORT_BASE:-19600} - 1))
next_port() { # the next port that nothing answers on
  while :; do
    port=$((port + 1))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return; fi
  done
}

start_server() { # server
  local server=$1
  next_port
  # shellcheck disable=SC2086 # CMD holds a command and its arguments
  (ulimit -n 20000; exec taskset -c 1 ${CMD[$server]} "127.0.0.1:$port") > "$OUT/memory-server-$server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "$server did not accept on 127.0.0.1:$port" >&2
  cleanup
  return 1
}

listen_overflows() { # the kernel's TcpExt ListenOverflows counter (SYNs dropped, full backlog)
  awk '/^TcpExt:/ { if (!c) { for (i = 1; i <= NF; i++) if ($i == "ListenOverflows") c = i } else print $c }' \
    /proc/net/netstat
}

run_conns() { # server rep args...
  local server=$1 rep=$2
  shift 2
  local line lo0 lo1
  lo0=$(listen_overflows)
  line=$( (ulimit -n 20000; exec timeout $((HOLD + 900)) taskset -c 0 "$CONNS" "127.0.0.1:$port" \
    --server-pid "$SERVER_PID" --label "$server" --hold "$HOLD" "$@") | tail -n 1) || true
  lo1=$(listen_overflows)
  if [[ "$line" == \{* ]]; then
    echo "${line%\}},\"rep\":$rep,\"wsproto_rev\":\"$REV\",\"listen_overflows\":$((lo1 - lo0))}" | tee -a "$RESULTS"
  else
    echo "conns failed for $server ($*): ${line:-no output}" >&2
  fi
}

for rep in $(seq "$REPS"); do
  for server in $SERVERS; do
    for mode in $MODES; do
      case "$mode" in
        plain) args=(--connections "$N") ;;
        deflate)
          [ -n "${DEFLATE[$server]:-}" ] || continue
          args=(--connections "$N" --deflate) ;;
        long) [ -n "${DEFLATE[$server]:-}" ] && [ "$server" != python ] || continue ;;
        *) echo "unknown mode $mode" >&2; exit 2 ;;
      esac
      if [ "$mode" = long ]; then
        for flag in "" --deflate; do
          start_server "$server" || continue
          run_conns "$server" "$rep" --long-message "$LONG_BYTES" $flag
          cleanup
        done
      else
        start_server "$server" || continue
        run_conns "$server" "$rep" "${args[@]}"
        cleanup
      fi
    done
  done
done
python3 "$ROOT/benches/loadgen/summarize_memory.py" "$RESULTS"
