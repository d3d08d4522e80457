#!/usr/bin/env python3
"""Runs interop.html in headless Chromium against a WebSocket echo server.

    browser_check.py ws://127.0.0.1:PORT/ [--chromium /usr/bin/chromium] [--timeout SECS]

Serves interop.html from a small HTTP server on 127.0.0.1 (a free port), starts
headless Chromium on it with ?ws=URL, waits for the page to POST its verdict to
/result, stops Chromium and prints the page's lines. Exit status 0 when the page
passed, 1 when it failed or reported nothing within --timeout seconds (default
90). Standard library only.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
PAGE = os.path.join(HERE, "interop.html")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument("--timeout", type=float, default=90)
    parser.add_argument("--log", default=None, help="file for Chromium's own output (default: a temp file)")
    args = parser.parse_args()
    # A TERM (from run.sh's timeout) must still stop Chromium: run the cleanup below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    result = {}
    done = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *a):  # keep the output to the verdict
            pass

        def do_GET(self):
            if urllib.parse.urlsplit(self.path).path != "/interop.html":
                self.send_error(404)
                return
            with open(PAGE, "rb") as f:
                body = f.read()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            if self.path != "/result":
                self.send_error(404)
                return
            n = int(self.headers.get("Content-Length", "0"))
            try:
                result.update(json.loads(self.rfile.read(n)))
            except ValueError as e:
                result.update(ok=False, lines=[f"FAIL unreadable verdict: {e}"])
            self.send_response(204)
            self.end_headers()
            done.set()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    page = f"http://127.0.0.1:{httpd.server_address[1]}/interop.html?ws={urllib.parse.quote(args.url, safe='')}"

    if not os.access(args.chromium, os.X_OK):
        print(f"FAIL no Chromium at {args.chromium}")
        return 1
    profile = tempfile.mkdtemp(prefix="interop-chromium-")
    log_path = args.log or os.path.join(profile, "chromium.log")
    log_file = open(log_path, "wb")
    # Chromium runs under its own `timeout` too, so that it cannot outlive this script.
    cmd = [
        "timeout", "-k", "5", str(int(args.timeout) + 30),
        args.chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-dev-shm-usage",
        "--metrics-recording-only",
        f"--user-data-dir={profile}",
        page,
    ]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = started + args.timeout
        while not done.wait(0.2):
            if proc.poll() is not None:
                break
            if time.monotonic() > deadline:
                break
    finally:
        # Stop Chromium and every process it started (its own process group).
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                pass
        httpd.shutdown()
        log_file.close()

    elapsed = time.monotonic() - started
    for line in result.get("lines", []):
        print(line)
    if not done.is_set():
        why = f"Chromium exited with status {proc.returncode}" if proc.returncode is not None and \
            time.monotonic() - started < args.timeout else f"no verdict within {args.timeout:.0f}s"
        print(f"FAIL {why}; last lines of Chromium's output ({log_path}):")
        with open(log_path, "rb") as f:
            for line in f.read().decode(errors="replace").splitlines()[-20:]:
                print(f"    {line}")
        if not args.log:
            print("    (profile kept for inspection)")
        return 1
    if not args.log:
        shutil.rmtree(profile, ignore_errors=True)
    if not result.get("ok"):
        return 1
    print(f"browser_check: page passed against {args.url} in {elapsed:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
