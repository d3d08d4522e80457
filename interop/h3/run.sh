#!/usr/bin/env bash
# WebSocket over HTTP/3 (RFC 9220): wsproto's extended CONNECT helpers on quiche's HTTP/3 stack,
# client and server in one process on 127.0.0.1 (tests/websocket_over_h3.rs says what it proves).
#
#   bash interop/h3/run.sh
#
# quiche builds BoringSSL with cmake, which is installed here when missing (apt-get, as root):
# that is why this crate has its own workspace, so the root crate's build, tests and clippy never
# need cmake. Then, in this crate: cargo fmt --check, cargo clippy --all-targets -D warnings and
# cargo test. Cold, with 2 jobs on an idle 2-core machine, the script takes about 47 s (BoringSSL
# is built once, for clippy, and reused by the test build), plus about 5 s to install cmake. The
# test runs in debug: a cold `cargo test` takes 35 s, against 68 s with --release, and the test
# itself 0.1 s either way. The last line is "interop h3: PASS ..." or "interop h3: FAIL ...";
# the exit status is 0 only on PASS.
#
# Environment (all optional):
#   CARGO_BUILD_JOBS   parallel jobs for cargo and the BoringSSL build (default 2)
#   CARGO_TARGET_DIR   where cargo builds (default interop/h3/target, git-ignored)
#   H3_TIMEOUT         seconds for the whole script, cmake install included (default 1200)
set -uo pipefail

if [ -z "${H3_UNDER_TIMEOUT:-}" ]; then
    export H3_UNDER_TIMEOUT=1
    timeout -k 15 "${H3_TIMEOUT:-1200}" bash "$0" "$@"
    rc=$?
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        echo "interop h3: FAIL (timed out after ${H3_TIMEOUT:-1200} s)"
    fi
    exit "$rc"
fi

cd "$(dirname "${BASH_SOURCE[0]}")" || exit 2
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
start=$SECONDS

fail() {
    echo "interop h3: FAIL ($*, after $((SECONDS - start)) s)"
    exit 1
}

if ! command -v cmake >/dev/null; then
    echo "run.sh: installing cmake (quiche builds BoringSSL with it)"
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y cmake; } >/dev/null ||
        fail "cannot install cmake with apt-get"
    command -v cmake >/dev/null || fail "cmake is still missing"
fi
echo "run.sh: $(cmake --version | head -n 1)"

cargo fmt -- --check || fail "cargo fmt --check"
cargo clippy --all-targets -- -D warnings || fail "cargo clippy"
cargo test --test websocket_over_h3 -- --nocapture || fail "cargo test"
echo "interop h3: PASS (WebSocket over HTTP/3 with quiche, in $((SECONDS - start)) s)"
