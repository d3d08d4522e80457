#!/usr/bin/env bash
# HTTP and WebSocket on one port: checks examples/hyper_server and examples/axum_server, on
# 127.0.0.1 only.
#
#   scripts/interop/one_port.sh
#
# For each example: starts it on 127.0.0.1 port 0 (it prints the address it bound), then
#   - GET /       -> 200, text/html, the page;
#   - GET /nope   -> 404;
#   - GET /ws without upgrade headers -> a 4xx (the crate's 426);
#   - headless Chromium loads /, whose script opens a WebSocket to /ws on the same host and
#     port, sends a text message and checks the echo; the page's title then reads
#     "echo ok: ..." (or "echo FAILED: ..."). The title is read from Chromium's DevTools HTTP
#     endpoint (/json/list, on a port Chromium picks and writes to DevToolsActivePort in its
#     profile), polled for at most ONE_PORT_PAGE_TIMEOUT seconds.
# The servers and Chromium are stopped at the end in every case (trap). Prints one line per
# check and a last line "one_port: N passed, M failed"; exits 0 only when both examples passed.
#
# Needs:
#   - the release examples: .ci/run builds them (cargo build --release --all-features
#     --examples) before this script; when they are missing the script builds the two itself;
#   - Chromium: scripts/interop/run.sh installs it (Debian's package) and runs before this
#     script in .ci/run; on a machine where neither has run, it and curl are installed here
#     with apt-get (as root).
#
# Environment (all optional):
#   CHROMIUM                 browser binary (default /usr/bin/chromium)
#   ONE_PORT_PAGE_TIMEOUT    seconds to wait for the page's verdict (default 20)
#   ONE_PORT_TOTAL_TIMEOUT   seconds for the whole script, installs and build included (default 900)
#   CARGO_TARGET_DIR         where cargo builds (default target); the examples are taken from there
set -uo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

# Bound everything: re-run this script under `timeout` once; the TERM it sends runs the
# cleanup trap below.
if [ -z "${ONE_PORT_UNDER_TIMEOUT:-}" ]; then
    export ONE_PORT_UNDER_TIMEOUT=1
    exec timeout -k 15 "${ONE_PORT_TOTAL_TIMEOUT:-900}" bash "$0" "$@"
fi

cd "$REPO_ROOT" || exit 2

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
PAGE_TIMEOUT="${ONE_PORT_PAGE_TIMEOUT:-20}"
LOG_DIR="$REPO_ROOT/target/interop-logs/one_port"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$REPO_ROOT/$TARGET_DIR" ;; esac
EXAMPLES="$TARGET_DIR/release/examples"
BINARIES=(hyper_server axum_server)

log() { echo "one_port: $*"; }
die() { echo "one_port: ERROR: $*" >&2; exit 2; }

# --- cleanup: stop every background process we started, and remove Chromium profiles -------
BG_PIDS=()
PROFILES=()
cleanup() {
    local pid
    # Each was started under `timeout`, which leads its own process group: the group goes.
    for pid in "${BG_PIDS[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null; done
    for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    BG_PIDS=()
    local dir
    for dir in "${PROFILES[@]}"; do rm -rf "$dir"; done
    PROFILES=()
}
trap cleanup EXIT
trap 'echo "one_port: interrupted or out of time" >&2; exit 3' INT TERM

stop() {
    local pid="$1" keep=() p
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    for p in "${BG_PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
    BG_PIDS=("${keep[@]+"${keep[@]}"}")
}

command -v timeout >/dev/null || die "coreutils 'timeout' is required"
rm -rf "$LOG_DIR" && mkdir -p "$LOG_DIR" || die "cannot create $LOG_DIR"

# --- what the checks need ---------------------------------------------------------------
missing=()
command -v curl >/dev/null || missing+=(curl)
if [ ! -x "$CHROMIUM" ]; then
    [ "$CHROMIUM" = /usr/bin/chromium ] || die "CHROMIUM=$CHROMIUM does not exist"
    missing+=(chromium)
fi
if [ "${#missing[@]}" -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "need root to apt-get install ${missing[*]}"
    log "apt-get install ${missing[*]}"
    { DEBIAN_FRONTEND=noninteractive timeout 600 apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
        >"$LOG_DIR/apt.log" 2>&1 || { tail -20 "$LOG_DIR/apt.log" >&2; die "apt-get install ${missing[*]} failed"; }
fi
command -v curl >/dev/null || die "no curl after installing"
[ -x "$CHROMIUM" ] || die "no Chromium at $CHROMIUM after installing"

for bin in "${BINARIES[@]}"; do
    if [ ! -x "$EXAMPLES/$bin" ]; then
        log "build: cargo build --release --all-features --example hyper_server --example axum_server"
        timeout 1200 cargo build --release --all-features --example hyper_server --example axum_server \
            >"$LOG_DIR/build.log" 2>&1 || { tail -30 "$LOG_DIR/build.log" >&2; die "cargo build failed"; }
        break
    fi
done
for bin in "${BINARIES[@]}"; do
    [ -x "$EXAMPLES/$bin" ] || die "$EXAMPLES/$bin is missing"
done

# --- the checks --------------------------------------------------------------------------
FAILURES=0
ok() { echo "    ok   $*"; }
fail() { echo "    FAIL $*"; FAILURES=$(( FAILURES + 1 )); }

# http_get URL BODY_FILE: prints "STATUS CONTENT_TYPE" (STATUS 000 when there was no answer).
http_get() {
    curl -s --max-time 5 -o "$2" -w '%{http_code} %{content_type}' "$1"
}

# check_page URL NAME: loads URL in headless Chromium and waits for the page's verdict.
check_page() {
    local url="$1" name="$2" profile port="" title="" i
    profile="$(mktemp -d "${TMPDIR:-/tmp}/one-port-chromium-XXXXXX")" || { fail "$name: no temp dir"; return; }
    PROFILES+=("$profile")
    # Under its own `timeout` (a process group of its own) so that Chromium cannot outlive this.
    timeout -k 5 $(( PAGE_TIMEOUT + 30 )) "$CHROMIUM" \
        --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --remote-debugging-port=0 "$url" \
        >"$LOG_DIR/$name-chromium.log" 2>&1 </dev/null &
    local chromium_pid=$!
    BG_PIDS+=("$chromium_pid")
    local deadline=$(( SECONDS + PAGE_TIMEOUT ))
    while [ "$SECONDS" -lt "$deadline" ] && kill -0 "$chromium_pid" 2>/dev/null; do
        if [ -z "$port" ] && [ -s "$profile/DevToolsActivePort" ]; then
            port="$(head -1 "$profile/DevToolsActivePort")"
        fi
        if [ -n "$port" ]; then
            # The page's title, as JSON ("title": "echo ok: ..."); the pages are listed first.
            title="$(curl -s --max-time 2 "http://127.0.0.1:$port/json/list" |
                grep -o -m1 '"title": *"echo \(ok\|FAILED\):[^"]*"' | sed 's/^"title": *"//; s/"$//')"
            [ -n "$title" ] && break
        fi
        sleep 0.2
    done
    stop "$chromium_pid"
    case "$title" in
        "echo ok:"*) ok "Chromium loaded $url, the page's WebSocket to /ws round-tripped: $title" ;;
        "echo FAILED:"*) fail "Chromium loaded $url and the page says: $title" ;;
        *)
            if [ "$SECONDS" -lt "$deadline" ]; then fail "Chromium exited before the page gave its verdict"
            elif [ -z "$port" ]; then fail "Chromium opened no DevTools port within ${PAGE_TIMEOUT}s"
            else fail "no verdict from the page within ${PAGE_TIMEOUT}s"; fi
            echo "    --- last lines of Chromium's output ($LOG_DIR/$name-chromium.log):"
            tail -15 "$LOG_DIR/$name-chromium.log" | sed 's/^/    chromium| /'
            ;;
    esac
    rm -rf "$profile"
}

PASSED=0
FAILED=0
for name in "${BINARIES[@]}"; do
    echo
    echo "=== $name"
    FAILURES=0
    server_log="$LOG_DIR/$name.log"
    timeout -k 5 $(( PAGE_TIMEOUT + 120 )) "$EXAMPLES/$name" 127.0.0.1:0 >"$server_log" 2>&1 </dev/null &
    server_pid=$!
    BG_PIDS+=("$server_pid")
    base=""
    for (( i = 0; i < 100; i++ )); do
        base="$(grep -o -m1 'http://127\.0\.0\.1:[0-9]\+' "$server_log" 2>/dev/null)"
        [ -n "$base" ] && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$base" ]; then
        fail "$name did not start (no address printed within 10s)"
    else
        log "$name listening on $base"
        body="$LOG_DIR/$name.body"

        read -r status type < <(http_get "$base/" "$body")
        if [ "$status" = 200 ] && [[ "$type" == text/html* ]] && grep -q '<html' "$body"; then
            ok "GET / -> $status $type ($(wc -c <"$body") bytes of HTML)"
        else
            fail "GET / -> status ${status:-none}, content type ${type:-none} (want 200 and an HTML page)"
        fi

        read -r status type < <(http_get "$base/nope" "$body")
        if [ "$status" = 404 ]; then ok "GET /nope -> 404"; else fail "GET /nope -> ${status:-none} (want 404)"; fi

        read -r status type < <(http_get "$base/ws" "$body")
        if [[ "$status" == 4[0-9][0-9] ]]; then
            ok "GET /ws without upgrade headers -> $status ($(head -1 "$body"))"
        else
            fail "GET /ws without upgrade headers -> ${status:-none} (want a 4xx)"
        fi

        check_page "$base/" "$name"
        if grep -q 'WebSocket open' "$server_log"; then
            ok "$name logged the WebSocket: $(grep -m1 'WebSocket open' "$server_log")"
        else
            fail "$name logged no WebSocket"
        fi
        kill -0 "$server_pid" 2>/dev/null || fail "$name exited during the checks"
    fi
    stop "$server_pid"
    if [ "$FAILURES" = 0 ]; then
        PASSED=$(( PASSED + 1 ))
        echo "PASS $name"
    else
        FAILED=$(( FAILED + 1 ))
        echo "FAIL $name ($FAILURES checks failed); server log ($server_log):"
        tail -20 "$server_log" | sed 's/^/    server| /'
    fi
done

echo
echo "one_port: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
