#!/usr/bin/env bash
# Interop with real WebSocket peers from other languages, on 127.0.0.1 only.
#
#   scripts/interop/run.sh
#
# Installs what it needs (idempotent: each step is skipped when already done):
#   - Chromium from Debian's packages (apt-get, only if $CHROMIUM is missing),
#   - Python's `websockets` (requirements.txt) in a venv at target/interop-venv,
#   - Node's `ws` (package-lock.json) into scripts/interop/node_modules (npm ci),
# builds the examples (cargo build --release --features "$INTEROP_FEATURES" --examples,
# default features "tokio") and
# runs these pairs, each server on a free port (bound to port 0):
#   python client   -> our tokio echo server     (examples/echo_server)
#   interop_client  -> python echo server
#   node client     -> our tokio echo server
#   interop_client  -> node echo server
#   chromium page   -> our tokio echo server
#   python client   -> our blocking echo server  (examples/blocking_echo_server)
# A peer that cannot be installed is an error, not a skip. Prints one line per
# pair and a last line "N passed, M failed"; exits 0 only when every pair passed
# (1 when a pair failed, 2 when setup failed).
#
# Logs: target/interop-logs/ (one file per client and per server).
#
# Environment (all optional):
#   CHROMIUM                 browser binary (default /usr/bin/chromium)
#   INTEROP_VENV             Python venv (default target/interop-venv)
#   INTEROP_PYTHON3          Python >= 3.9 to create the venv with (default python3)
#   INTEROP_PEER_TIMEOUT     seconds for one client run (default 120)
#   INTEROP_TOTAL_TIMEOUT    seconds for the whole script, installs included (default 1800)
#   INTEROP_FEATURES         crate features for the build (default "tokio deflate"; e.g. "tokio"
#                            makes our servers accept permessage-deflate, which every peer offers)
#   INTEROP_SKIP_BUILD=1     use the examples already built
#   CARGO_TARGET_DIR         where cargo builds (default target); the examples are taken from there
set -uo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

# Bound everything: re-run this script under `timeout` once. The TERM it sends at the end runs
# the cleanup trap below, which stops the background servers.
if [ -z "${INTEROP_UNDER_TIMEOUT:-}" ]; then
    export INTEROP_UNDER_TIMEOUT=1
    exec timeout -k 15 "${INTEROP_TOTAL_TIMEOUT:-1800}" bash "$0" "$@"
fi

cd "$REPO_ROOT" || exit 2

SCRIPT_START=$SECONDS
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
VENV="${INTEROP_VENV:-target/interop-venv}"
case "$VENV" in /*) ;; *) VENV="$REPO_ROOT/$VENV" ;; esac
PY3="${INTEROP_PYTHON3:-python3}"
PEER_TIMEOUT="${INTEROP_PEER_TIMEOUT:-120}"
FEATURES="${INTEROP_FEATURES:-tokio deflate}"
SERVER_LIFETIME=$(( PEER_TIMEOUT + 60 ))
LOG_DIR="$REPO_ROOT/target/interop-logs"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$REPO_ROOT/$TARGET_DIR" ;; esac
EXAMPLES="$TARGET_DIR/release/examples"

log() { echo "run.sh: $*"; }
die() { echo "run.sh: ERROR: $*" >&2; echo "run.sh: setup failed after $(( SECONDS - SCRIPT_START ))s" >&2; exit 2; }

# --- cleanup: stop every background process we started --------------------------------
BG_PIDS=()
cleanup() {
    local pid
    for pid in "${BG_PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${BG_PIDS[@]}"; do
        wait "$pid" 2>/dev/null
    done
    BG_PIDS=()
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted or out of time" >&2; exit 3' INT TERM

command -v timeout >/dev/null || die "coreutils 'timeout' is required"
rm -rf "$LOG_DIR" && mkdir -p "$LOG_DIR" || die "cannot create $LOG_DIR"

# --- installs ----------------------------------------------------------------------------
apt_install() {
    [ "$(id -u)" = 0 ] || die "need root to apt-get install $*"
    command -v apt-get >/dev/null || die "no apt-get to install $*"
    log "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get update -qq >"$LOG_DIR/apt.log" 2>&1 \
        || { tail -20 "$LOG_DIR/apt.log" >&2; die "apt-get update failed"; }
    DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends "$@" \
        >>"$LOG_DIR/apt.log" 2>&1 || { tail -20 "$LOG_DIR/apt.log" >&2; die "apt-get install $* failed"; }
}

install_chromium() {
    if [ ! -x "$CHROMIUM" ]; then
        [ "$CHROMIUM" = /usr/bin/chromium ] || die "CHROMIUM=$CHROMIUM does not exist"
        apt_install chromium
    fi
    [ -x "$CHROMIUM" ] || die "no Chromium at $CHROMIUM after installing"
    CHROMIUM_VERSION="$(timeout 60 "$CHROMIUM" --headless --no-sandbox --version 2>/dev/null | head -1)"
    [ -n "$CHROMIUM_VERSION" ] || die "$CHROMIUM --version failed"
    log "chromium: $CHROMIUM_VERSION"
}

install_python() {
    local want
    want="$(sed -n 's/^websockets==//p' "$SCRIPT_DIR/requirements.txt")"
    [ -n "$want" ] || die "requirements.txt pins no websockets version"
    if [ -x "$VENV/bin/python" ] &&
        "$VENV/bin/python" -c "import sys, websockets; sys.exit(websockets.__version__ != '$want')" 2>/dev/null; then
        log "python: websockets $want already in $VENV"
        return
    fi
    command -v "$PY3" >/dev/null || die "no Python 3 ($PY3) to create the venv"
    log "python: creating $VENV with websockets $want"
    rm -rf "$VENV"
    timeout 120 "$PY3" -m venv "$VENV" >"$LOG_DIR/pip.log" 2>&1 \
        || { cat "$LOG_DIR/pip.log" >&2; die "cannot create the venv $VENV (python3-venv missing?)"; }
    timeout 300 "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$SCRIPT_DIR/requirements.txt" \
        >>"$LOG_DIR/pip.log" 2>&1 || { tail -20 "$LOG_DIR/pip.log" >&2; die "pip install websockets failed"; }
    "$VENV/bin/python" -c 'import websockets' || die "websockets does not import after installing"
}

install_node() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        apt_install nodejs npm
    fi
    local check='const l=require("./package-lock.json").packages["node_modules/ws"].version;
                 const v=require("./node_modules/ws/package.json").version; process.exit(l===v?0:1)'
    if (cd "$SCRIPT_DIR" && node -e "$check") 2>/dev/null; then
        log "node: ws already in scripts/interop/node_modules ($(node --version))"
        return
    fi
    log "node: npm ci in scripts/interop ($(node --version), npm $(npm --version))"
    (cd "$SCRIPT_DIR" && timeout 300 npm ci --no-audit --no-fund --loglevel=error) >"$LOG_DIR/npm.log" 2>&1 \
        || { tail -20 "$LOG_DIR/npm.log" >&2; die "npm ci failed"; }
    (cd "$SCRIPT_DIR" && node -e "$check") || die "ws is not installed after npm ci"
}

build() {
    if [ "${INTEROP_SKIP_BUILD:-}" = 1 ]; then
        log "build: skipped (INTEROP_SKIP_BUILD=1)"
    else
        command -v cargo >/dev/null || die "no cargo"
        log "build: cargo build --release --features \"$FEATURES\" --examples"
        timeout 1200 cargo build --release --features "$FEATURES" --examples >"$LOG_DIR/build.log" 2>&1 \
            || { tail -30 "$LOG_DIR/build.log" >&2; die "cargo build failed"; }
    fi
    local bin
    for bin in echo_server blocking_echo_server interop_client; do
        [ -x "$EXAMPLES/$bin" ] || die "$EXAMPLES/$bin is missing"
    done
}

step_start=$SECONDS
install_chromium
install_python
install_node
log "installs done in $(( SECONDS - step_start ))s"
step_start=$SECONDS
build
log "build done in $(( SECONDS - step_start ))s"

# --- servers -----------------------------------------------------------------------------
# server_cmd KIND: the command line of an echo server that binds 127.0.0.1 port 0 and prints
# its ws:// URL.
server_cmd() {
    case "$1" in
        tokio) echo "$EXAMPLES/echo_server 127.0.0.1:0" ;;
        blocking) echo "$EXAMPLES/blocking_echo_server 127.0.0.1:0" ;;
        python) echo "$VENV/bin/python $SCRIPT_DIR/py_peer.py server --port 0 --lifetime $SERVER_LIFETIME" ;;
        node) echo "node $SCRIPT_DIR/node_peer.js server --port 0 --lifetime $SERVER_LIFETIME" ;;
        *) die "unknown server $1" ;;
    esac
}

# client_cmd KIND URL
client_cmd() {
    case "$1" in
        ours) echo "$EXAMPLES/interop_client $2" ;;
        python) echo "$VENV/bin/python $SCRIPT_DIR/py_peer.py client $2" ;;
        node) echo "node $SCRIPT_DIR/node_peer.js client $2" ;;
        chromium) echo "$VENV/bin/python $SCRIPT_DIR/browser_check.py $2 --chromium $CHROMIUM --log $LOG_DIR/$3-chromium.log" ;;
        *) die "unknown client $1" ;;
    esac
}

SERVER_PID=""
SERVER_URL=""
# start_server KIND LOGFILE: starts it in the background and sets SERVER_PID and SERVER_URL.
start_server() {
    local cmd
    cmd="$(server_cmd "$1")"
    # shellcheck disable=SC2086 # the command line is split on purpose (no spaces in paths)
    timeout -k 5 "$SERVER_LIFETIME" $cmd >"$2" 2>&1 &
    SERVER_PID=$!
    BG_PIDS+=("$SERVER_PID")
    SERVER_URL=""
    local i
    for (( i = 0; i < 200; i++ )); do
        SERVER_URL="$(grep -o -m1 'ws://127\.0\.0\.1:[0-9]\+' "$2" 2>/dev/null)"
        [ -n "$SERVER_URL" ] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    return 1
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    local keep=() pid
    for pid in "${BG_PIDS[@]}"; do [ "$pid" = "$SERVER_PID" ] || keep+=("$pid"); done
    BG_PIDS=("${keep[@]+"${keep[@]}"}")
    SERVER_PID=""
}

PASSED=0
FAILED=0
SUMMARY=()

# pair CLIENT SERVER: runs one client against one echo server and records the verdict.
pair() {
    local client="$1" server="$2" name="$1-client__$2-server"
    local label="$1 client -> $2 echo server"
    local server_log="$LOG_DIR/$name.server.log" client_log="$LOG_DIR/$name.client.log"
    local start=$SECONDS verdict detail rc
    echo
    echo "=== $label"
    if ! start_server "$server" "$server_log"; then
        verdict=FAIL
        detail="server did not start"
        sed 's/^/    server| /' "$server_log"
    else
        local cmd
        cmd="$(client_cmd "$client" "$SERVER_URL/" "$name")"
        # shellcheck disable=SC2086
        timeout -k 5 "$PEER_TIMEOUT" $cmd >"$client_log" 2>&1
        rc=$?
        sed 's/^/    /' "$client_log"
        if [ "$rc" = 0 ]; then
            verdict=PASS
            detail="$(grep -c '^ok ' "$client_log") checks"
            local ext
            ext="$(grep -m1 -o 'extensions in force: [^)]*' "$client_log")"
            [ -n "$ext" ] && detail="$detail; ${ext/extensions in force: /extensions: }"
        else
            verdict=FAIL
            if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then detail="timed out after ${PEER_TIMEOUT}s"
            else detail="exit status $rc: $(grep -m1 '^FAIL' "$client_log" || tail -1 "$client_log")"; fi
        fi
        # The server must still be up: a crash during the run is a failure too.
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            if [ "$verdict" = PASS ]; then verdict=FAIL; detail="server exited during the run"; fi
        fi
        stop_server
        if [ "$verdict" = FAIL ]; then
            echo "    --- server log ($server_log):"
            sed 's/^/    server| /' "$server_log" | tail -30
        fi
    fi
    stop_server
    local line
    line="$(printf '%-4s %-45s %4ss  %s' "$verdict" "$label" "$(( SECONDS - start ))" "$detail")"
    echo "$line"
    SUMMARY+=("$line")
    if [ "$verdict" = PASS ]; then PASSED=$(( PASSED + 1 )); else FAILED=$(( FAILED + 1 )); fi
}

pairs_start=$SECONDS
pair python tokio
pair ours python
pair node tokio
pair ours node
pair chromium tokio
pair python blocking

echo
echo "=== interop summary (pairs ran in $(( SECONDS - pairs_start ))s, whole script $(( SECONDS - SCRIPT_START ))s; logs in target/interop-logs/)"
for line in "${SUMMARY[@]}"; do echo "$line"; done
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
