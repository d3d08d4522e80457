#!/usr/bin/env python3
"""Small stdlib-only helpers for run.sh (Python 3).

    wsctl.py wait-port HOST PORT TIMEOUT [PID]
        Wait until HOST:PORT accepts TCP connections. Exit 0 when it does,
        1 on timeout, 2 if PID (the process expected to open the port) exits first.
    wsctl.py port-free HOST PORT
        Exit 0 if nothing accepts connections on HOST:PORT, 1 otherwise.
    wsctl.py update-reports URL AGENT [TIMEOUT]
        Connect to the wstest fuzzing server's /updateReports?agent=AGENT
        endpoint over WebSocket and wait for it to close, which makes wstest
        (re)write its HTML/JSON reports, index.json included.
"""
import base64
import os
import socket
import sys
import time
import urllib.parse


def can_connect(host, port, timeout=1.0):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still "exists"; treat it as dead.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def wait_port(host, port, timeout, pid=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if can_connect(host, port):
            return 0
        if pid is not None and not pid_alive(pid):
            print(f"wsctl: process {pid} exited before {host}:{port} opened", file=sys.stderr)
            return 2
        time.sleep(0.1)
    print(f"wsctl: timed out after {timeout}s waiting for {host}:{port}", file=sys.stderr)
    return 1


def update_reports(url, agent, timeout=120.0):
    u = urllib.parse.urlsplit(url)
    host, port = u.hostname, u.port or 80
    path = "/updateReports?" + urllib.parse.urlencode({"agent": agent})
    key = base64.b64encode(os.urandom(16)).decode()
    req = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    # Report generation for ~500 cases takes a few seconds; wstest sends its
    # close frame only once the reports are written.
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(req.encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                raise RuntimeError("connection closed during handshake")
            buf += chunk
        status = buf.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" ":
            raise RuntimeError(f"handshake failed: {status!r}")
        rest = buf.split(b"\r\n\r\n", 1)[1]
        # Read until the server's close frame (opcode 8) or EOF.
        while True:
            if len(rest) >= 2 and (rest[0] & 0x0F) == 8:
                break
            chunk = s.recv(4096)
            if not chunk:
                break
            rest += chunk
        try:
            # Masked empty close frame in reply.
            s.sendall(bytes([0x88, 0x80]) + os.urandom(4))
        except OSError:
            pass
    return 0


def main(argv):
    if len(argv) >= 5 and argv[1] == "wait-port":
        pid = int(argv[5]) if len(argv) > 5 else None
        return wait_port(argv[2], int(argv[3]), float(argv[4]), pid)
    if len(argv) == 4 and argv[1] == "port-free":
        return 1 if can_connect(argv[2], int(argv[3])) else 0
    if len(argv) >= 4 and argv[1] == "update-reports":
        timeout = float(argv[4]) if len(argv) > 4 else 120.0
        try:
            return update_reports(argv[2], argv[3], timeout)
        except (OSError, RuntimeError) as e:
            print(f"wsctl: update-reports failed: {e}", file=sys.stderr)
            return 1
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
