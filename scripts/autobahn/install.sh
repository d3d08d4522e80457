#!/usr/bin/env bash
# Install the Autobahn WebSocket testsuite (wstest, Python 2 only) into a
# Python 2.7 virtualenv. Idempotent: re-running with an up-to-date environment
# only verifies it.
#
#   scripts/autobahn/install.sh
#
# Environment:
#   AUTOBAHN_VENV      target virtualenv (default: target/autobahn-venv, relative
#                      to the repository root, so it is git-ignored)
#   AUTOBAHN_PYTHON2   Python 2.7 interpreter (default: pyenv's 2.7.18, then
#                      /root/.pyenv/versions/2.7.18, then python2.7 on PATH)
#   AUTOBAHN_PYTHON3   Python 3 used for the bootstrap venv (default: python3)
#   AUTOBAHN_FORCE=1   delete and recreate the environment
#
# How: a small Python 3 venv ("$AUTOBAHN_VENV-bootstrap") gets virtualenv<20.22
# (the last line that can still create Python 2 environments); that virtualenv
# creates the Python 2.7 env, into which requirements.txt (fully pinned) is
# installed. Needs only PyPI.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

die() { echo "install.sh: ERROR: $*" >&2; exit 1; }
log() { echo "install.sh: $*" >&2; }

VENV="${AUTOBAHN_VENV:-target/autobahn-venv}"
case "$VENV" in /*) ;; *) VENV="$REPO_ROOT/$VENV" ;; esac
BOOT="$VENV-bootstrap"
REQ="$SCRIPT_DIR/requirements.txt"
BOOT_REQ="$SCRIPT_DIR/requirements-bootstrap.txt"
STAMP="$VENV/.autobahn-installed"

# --- locate interpreters ----------------------------------------------------
find_python2() {
    if [ -n "${AUTOBAHN_PYTHON2:-}" ]; then echo "$AUTOBAHN_PYTHON2"; return; fi
    local root=""
    if command -v pyenv >/dev/null 2>&1; then root="$(pyenv root 2>/dev/null || true)"; fi
    for cand in ${root:+"$root/versions/2.7.18/bin/python"} \
                /root/.pyenv/versions/2.7.18/bin/python \
                "${HOME:-/root}/.pyenv/versions/2.7.18/bin/python"; do
        if [ -x "$cand" ]; then echo "$cand"; return; fi
    done
    if command -v python2.7 >/dev/null 2>&1; then command -v python2.7; return; fi
    echo ""
}

PY2="$(find_python2)"
[ -n "$PY2" ] && [ -x "$PY2" ] || die "no Python 2.7 interpreter found (set AUTOBAHN_PYTHON2=/path/to/python2.7)"
"$PY2" -c 'import sys; assert sys.version_info[:2] == (2, 7), sys.version' \
    || die "$PY2 is not Python 2.7"
PY3="${AUTOBAHN_PYTHON3:-python3}"
command -v "$PY3" >/dev/null 2>&1 || die "no Python 3 interpreter ($PY3) found"
"$PY3" -c 'import sys, venv; assert sys.version_info >= (3, 8)' \
    || die "$PY3 must be Python >= 3.8 with the venv module"

# Stamp = what the environment was built from; a mismatch triggers a reinstall.
want_stamp="$("$PY3" - "$REQ" "$BOOT_REQ" "$PY2" <<'EOF'
import hashlib, sys
h = hashlib.sha256()
for p in sys.argv[1:3]:
    h.update(open(p, "rb").read())
h.update(sys.argv[3].encode())
print(h.hexdigest())
EOF
)"

if [ "${AUTOBAHN_FORCE:-0}" = 1 ]; then
    log "AUTOBAHN_FORCE=1: removing $VENV and $BOOT"
    rm -rf "$VENV" "$BOOT"
fi

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want_stamp" ] \
   && "$VENV/bin/python" -c 'import autobahntestsuite, autobahn, twisted' >/dev/null 2>&1 \
   && [ -x "$VENV/bin/wstest" ]; then
    log "environment at $VENV is up to date"
else
    start=$(date +%s)
    # A half-built or stale env is recreated from scratch.
    if [ -e "$VENV" ]; then
        log "removing stale environment $VENV"
        rm -rf "$VENV"
    fi

    if ! "$BOOT/bin/python" -c 'import virtualenv' >/dev/null 2>&1; then
        log "creating bootstrap venv $BOOT with $PY3"
        rm -rf "$BOOT"
        "$PY3" -m venv "$BOOT" || die "python3 -m venv failed"
    fi
    log "installing pinned virtualenv into bootstrap venv"
    "$BOOT/bin/pip" install --disable-pip-version-check -q -r "$BOOT_REQ" \
        || die "pip install virtualenv failed"

    log "creating Python 2.7 virtualenv $VENV with $PY2"
    "$BOOT/bin/virtualenv" --quiet -p "$PY2" "$VENV" || die "virtualenv -p $PY2 failed"

    log "installing pinned autobahntestsuite (this builds a few sdists; ~1 min)"
    # PYTHONWARNINGS silences pip's Python 2 deprecation banners; errors still show.
    PYTHONWARNINGS=ignore "$VENV/bin/pip" install --disable-pip-version-check \
        --no-python-version-warning -q -r "$REQ" \
        || die "pip install -r $REQ failed"

    "$VENV/bin/python" -c 'import autobahntestsuite, autobahn, twisted, wsaccel' \
        || die "installed environment does not import"
    echo "$want_stamp" > "$STAMP"
    log "installed in $(( $(date +%s) - start ))s"
fi

# Prints "Autobahn 0.10.9" / "AutobahnTestSuite 25.10.1"; fails if wstest is broken.
"$VENV/bin/wstest" -a 2>/dev/null | grep -E '^Autobahn' || die "wstest -a failed"
echo "wstest: $VENV/bin/wstest"
