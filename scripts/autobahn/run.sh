#!/usr/bin/env bash
# Run the Autobahn WebSocket testsuite against our server or our client.
#
#   scripts/autobahn/run.sh server SERVER_CMD...
#       e.g. run.sh server target/release/examples/echo_server 127.0.0.1:9001
#       Starts SERVER_CMD in the background, waits until it accepts on the
#       port of fuzzingclient.json (127.0.0.1:9001), runs
#       `wstest -m fuzzingclient`, stops the server and judges the report.
#
#   scripts/autobahn/run.sh client CLIENT_CMD...
#       e.g. run.sh client target/release/examples/autobahn_client ws://127.0.0.1:9002
#       Starts `wstest -m fuzzingserver` (127.0.0.1:9002, fuzzingserver.json),
#       runs CLIENT_CMD (it must GET /getCaseCount, then
#       /runCase?case=N&agent=wsproto for N in 1..count, then
#       /updateReports?agent=wsproto), asks for the reports once more itself,
#       stops the fuzzing server and judges the report.
#
# Reports: target/autobahn-reports/{server,client}/ (index.html, index.json,
# one JSON+HTML file per case), plus summary.md (check.py's table),
# expected-cases.txt, wstest.log and testee.log / client.log.
#
# Environment (all optional):
#   AUTOBAHN_VENV                  wstest virtualenv (default target/autobahn-venv; see install.sh)
#   AUTOBAHN_ALLOW_UNIMPLEMENTED   case groups where UNIMPLEMENTED passes, e.g. 12,13
#   AUTOBAHN_AGENT                 agent name the client reports with (client mode; default wsproto)
#   AUTOBAHN_CASES                 comma-separated case patterns to run instead of "*",
#                                  e.g. "1.*,2.*,7.*" (quick iteration; default: all 517)
#   AUTOBAHN_EXCLUDE_CASES         comma-separated case patterns to skip (default: none)
#   AUTOBAHN_SPEC                  use this spec file instead of the default one for the mode
#   AUTOBAHN_STARTUP_TIMEOUT       seconds to wait for a port to open (default 30)
#   AUTOBAHN_RUN_TIMEOUT           seconds for the whole case run (default 2400)
#   AUTOBAHN_PROGRESS_INTERVAL     seconds between progress lines, 0 = none (default 30)
#   AUTOBAHN_PYTHON3               Python 3 for the helpers (default python3)
#
# Exit status: 0 when every case passes; non-zero otherwise (details printed).
set -uo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
cd "$REPO_ROOT" || exit 2

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "run.sh: ERROR: $*" >&2; exit 2; }
log() { echo "run.sh: $*" >&2; }

[ $# -ge 2 ] || usage
MODE="$1"; shift
case "$MODE" in server|client) ;; *) usage ;; esac

PY3="${AUTOBAHN_PYTHON3:-python3}"
VENV="${AUTOBAHN_VENV:-target/autobahn-venv}"
case "$VENV" in /*) ;; *) VENV="$REPO_ROOT/$VENV" ;; esac
PY2="$VENV/bin/python"
[ -x "$PY2" ] && "$PY2" -c 'import autobahntestsuite' >/dev/null 2>&1 \
    || die "no wstest environment at $VENV; run scripts/autobahn/install.sh first"
command -v timeout >/dev/null || die "coreutils 'timeout' is required"

STARTUP_TIMEOUT="${AUTOBAHN_STARTUP_TIMEOUT:-30}"
RUN_TIMEOUT="${AUTOBAHN_RUN_TIMEOUT:-2400}"
PROGRESS_INTERVAL="${AUTOBAHN_PROGRESS_INTERVAL:-30}"
# Backstop for every background process: nothing outlives the run.
TOTAL_TIMEOUT=$(( STARTUP_TIMEOUT + RUN_TIMEOUT + 300 ))
# wstest (Python 2) block-buffers stdout into its log otherwise.
export PYTHONUNBUFFERED=1

if [ "$MODE" = server ]; then
    SPEC_SRC="${AUTOBAHN_SPEC:-$SCRIPT_DIR/fuzzingclient.json}"
else
    SPEC_SRC="${AUTOBAHN_SPEC:-$SCRIPT_DIR/fuzzingserver.json}"
fi
[ -f "$SPEC_SRC" ] || die "spec $SPEC_SRC not found"

# host, port, outdir and agent from the spec
read -r HOST PORT OUTDIR SPEC_AGENT < <("$PY3" - "$SPEC_SRC" "$MODE" <<'EOF'
import json, sys, urllib.parse
spec = json.load(open(sys.argv[1]))
if sys.argv[2] == "server":
    srv = spec["servers"][0]
    url, agent = srv["url"], srv.get("agent", "-")
else:
    url, agent = spec["url"], "-"
u = urllib.parse.urlsplit(url)
print(u.hostname, u.port or 80, spec["outdir"], agent)
EOF
) || die "cannot parse $SPEC_SRC"
[ -n "${PORT:-}" ] || die "cannot parse $SPEC_SRC"
if [ "$MODE" = server ]; then AGENT="$SPEC_AGENT"; else AGENT="${AUTOBAHN_AGENT:-wsproto}"; fi
REPORT_DIR="$REPO_ROOT/${OUTDIR#./}"
case "$OUTDIR" in /*) REPORT_DIR="$OUTDIR" ;; esac
WS_URL="ws://$HOST:$PORT"

# --- background process bookkeeping ------------------------------------------
# Each background job runs under `timeout`, which puts itself into its own
# process group, so "kill -- -PID" stops the job and all its children.
PIDS=()
stop_group() {  # stop_group PID NAME
    local pid="$1" name="$2" i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name ($pid) ignored SIGTERM; killing"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    return 0
}
PROGRESS_PID=""
cleanup() {
    local p
    [ -n "$PROGRESS_PID" ] && kill "$PROGRESS_PID" 2>/dev/null
    for p in "${PIDS[@]}"; do stop_group "$p" "background job"; done
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM HUP

start_bg() {  # start_bg LOGFILE TIMEOUT CMD... ; sets BG_PID
    local logfile="$1" t="$2"; shift 2
    timeout -k 10 "$t" "$@" >"$logfile" 2>&1 </dev/null 9>&- &
    BG_PID=$!
    PIDS+=("$BG_PID")
}

start_progress() {  # prints the case wstest is on every PROGRESS_INTERVAL seconds
    [ "$PROGRESS_INTERVAL" -gt 0 ] 2>/dev/null || return 0
    local total; total=$(wc -l < "$EXPECTED")
    (
        sp=""
        trap '[ -n "$sp" ] && kill "$sp" 2>/dev/null; exit 0' TERM
        t0=$(date +%s)
        while :; do
            sleep "$PROGRESS_INTERVAL" & sp=$!
            wait "$sp"
            last=$(grep -a 'Running test case ID' "$WSTEST_LOG" 2>/dev/null | tail -n 1 | awk '{print $5}')
            n=$(grep -ac 'Running test case ID' "$WSTEST_LOG" 2>/dev/null)
            echo "run.sh: [$(( $(date +%s) - t0 ))s] case ${last:--} ($n/$total started)" >&2
        done
    ) 9>&- &
    PROGRESS_PID=$!
}
stop_progress() { [ -n "$PROGRESS_PID" ] && kill "$PROGRESS_PID" 2>/dev/null; wait "$PROGRESS_PID" 2>/dev/null; PROGRESS_PID=""; }

show_tail() {  # show_tail FILE
    [ -s "$1" ] || return 0
    echo "----- last lines of $1 -----" >&2
    tail -n 25 "$1" >&2
    echo "-----" >&2
}

# --- prepare -----------------------------------------------------------------
# Two runs of the same mode would share a port and a report directory.
mkdir -p "$(dirname "$REPORT_DIR")" || die "cannot create $(dirname "$REPORT_DIR")"
if command -v flock >/dev/null; then
    exec 9>"$(dirname "$REPORT_DIR")/.run-$MODE.lock"
    flock -n 9 || die "another 'run.sh $MODE' is running (lock $(dirname "$REPORT_DIR")/.run-$MODE.lock)"
fi
"$PY3" "$SCRIPT_DIR/wsctl.py" port-free "$HOST" "$PORT" \
    || die "something already accepts connections on $HOST:$PORT; stop it first (it would be tested instead)"

rm -rf "$REPORT_DIR"
mkdir -p "$REPORT_DIR" || die "cannot create $REPORT_DIR"
SPEC="$REPORT_DIR/spec.json"
"$PY3" - "$SPEC_SRC" "$SPEC" <<'EOF' || die "cannot write $SPEC"
import json, os, sys
spec = json.load(open(sys.argv[1]))
cases = os.environ.get("AUTOBAHN_CASES", "").strip()
excl = os.environ.get("AUTOBAHN_EXCLUDE_CASES", "").strip()
if cases:
    spec["cases"] = [c.strip() for c in cases.split(",") if c.strip()]
if excl:
    spec["exclude-cases"] = [c.strip() for c in excl.split(",") if c.strip()]
json.dump(spec, open(sys.argv[2], "w"), indent=3)
EOF
EXPECTED="$REPORT_DIR/expected-cases.txt"
"$PY2" "$SCRIPT_DIR/wstest_local.py" --list-cases "$SPEC" > "$EXPECTED" \
    || die "cannot list the spec's cases"
[ -s "$EXPECTED" ] || die "the spec selects no case"
WSTEST_LOG="$REPORT_DIR/wstest.log"
log "$MODE mode: $(wc -l < "$EXPECTED") cases, $WS_URL, agent $AGENT, reports in ${REPORT_DIR#$REPO_ROOT/}"

STATUS=0
T_START=$(date +%s)

if [ "$MODE" = server ]; then
    # --- test our server with wstest's fuzzing client ------------------------
    TESTEE_LOG="$REPORT_DIR/testee.log"
    log "starting server: $*"
    start_bg "$TESTEE_LOG" "$TOTAL_TIMEOUT" "$@"; TESTEE_PID=$BG_PID
    if ! "$PY3" "$SCRIPT_DIR/wsctl.py" wait-port "$HOST" "$PORT" "$STARTUP_TIMEOUT" "$TESTEE_PID"; then
        show_tail "$TESTEE_LOG"
        die "server did not start listening on $HOST:$PORT"
    fi
    log "server is up; running wstest -m fuzzingclient (timeout ${RUN_TIMEOUT}s)"
    start_progress
    start_bg "$WSTEST_LOG" "$RUN_TIMEOUT" "$PY2" "$SCRIPT_DIR/wstest_local.py" -m fuzzingclient -s "$SPEC"
    WSTEST_PID=$BG_PID
    wait "$WSTEST_PID"; rc=$?
    stop_progress
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        log "FAIL: wstest did not finish within ${RUN_TIMEOUT}s (AUTOBAHN_RUN_TIMEOUT)"; STATUS=1
        show_tail "$WSTEST_LOG"
    elif [ $rc -ne 0 ]; then
        log "FAIL: wstest exited with status $rc"; STATUS=1
        show_tail "$WSTEST_LOG"
    fi
    if ! kill -0 "$TESTEE_PID" 2>/dev/null; then
        wait "$TESTEE_PID"; trc=$?
        log "FAIL: the server exited during the run (status $trc)"; STATUS=1
        show_tail "$TESTEE_LOG"
    fi
    stop_group "$TESTEE_PID" "server"
else
    # --- test our client against wstest's fuzzing server ---------------------
    CLIENT_LOG="$REPORT_DIR/client.log"
    log "starting wstest -m fuzzingserver on $WS_URL"
    start_bg "$WSTEST_LOG" "$TOTAL_TIMEOUT" "$PY2" "$SCRIPT_DIR/wstest_local.py" -m fuzzingserver -s "$SPEC" -u 0
    FUZZ_PID=$BG_PID
    if ! "$PY3" "$SCRIPT_DIR/wsctl.py" wait-port "$HOST" "$PORT" "$STARTUP_TIMEOUT" "$FUZZ_PID"; then
        show_tail "$WSTEST_LOG"
        die "wstest fuzzingserver did not start listening on $HOST:$PORT"
    fi
    log "fuzzing server is up; running client: $* (timeout ${RUN_TIMEOUT}s)"
    start_progress
    start_bg "$CLIENT_LOG" "$RUN_TIMEOUT" "$@"; CLIENT_PID=$BG_PID
    wait "$CLIENT_PID"; rc=$?
    stop_progress
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        log "FAIL: the client did not finish within ${RUN_TIMEOUT}s (AUTOBAHN_RUN_TIMEOUT)"; STATUS=1
        show_tail "$CLIENT_LOG"
    elif [ $rc -ne 0 ]; then
        log "FAIL: the client exited with status $rc"; STATUS=1
        show_tail "$CLIENT_LOG"
    fi
    if ! kill -0 "$FUZZ_PID" 2>/dev/null; then
        log "FAIL: wstest fuzzingserver exited during the run"; STATUS=1
        show_tail "$WSTEST_LOG"
    else
        [ -f "$REPORT_DIR/index.json" ] || log "note: the client did not call /updateReports; asking for reports now"
        # Always regenerate, so the report holds every case that ran even if
        # the client stopped early or updated the reports before its last case.
        "$PY3" "$SCRIPT_DIR/wsctl.py" update-reports "$WS_URL" "$AGENT" 300 \
            || { log "FAIL: /updateReports failed"; STATUS=1; }
    fi
    stop_group "$FUZZ_PID" "wstest fuzzingserver"
fi

T_RUN=$(( $(date +%s) - T_START ))
log "case run took ${T_RUN}s; judging $(basename "$REPORT_DIR")/index.json"

CHECK_ARGS=("$REPORT_DIR" --agent "$AGENT" --expect-cases "$EXPECTED"
            --markdown "$REPORT_DIR/summary.md" --title "Autobahn $MODE (${T_RUN}s)")
if [ -n "${AUTOBAHN_ALLOW_UNIMPLEMENTED:-}" ]; then
    CHECK_ARGS+=(--allow-unimplemented "$AUTOBAHN_ALLOW_UNIMPLEMENTED")
fi
"$PY3" "$SCRIPT_DIR/check.py" "${CHECK_ARGS[@]}"; crc=$?
[ $crc -eq 0 ] || STATUS=1

log "report: ${REPORT_DIR#$REPO_ROOT/}/index.html  summary: ${REPORT_DIR#$REPO_ROOT/}/summary.md"
if [ $STATUS -eq 0 ]; then log "PASS ($MODE)"; else log "FAIL ($MODE)"; fi
exit $STATUS
