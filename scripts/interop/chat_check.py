#!/usr/bin/env python3
"""Checks examples/chat (the chat room on one port) with Python's `websockets` clients.

    chat_check.py PATH_TO_CHAT_BINARY [--timeout SECS]

Starts the example on 127.0.0.1 port 0 (it prints the address it bound), then checks:
  - GET / is the page (200, text/html, a script that opens /ws on location.host); HEAD / has
    the same Content-Length and no body; GET /nope is 404; GET /ws without an upgrade is 426;
  - an upgrade to another path is refused with 404, one from another site's page (Origin) with
    403;
  - two clients (Origin of the server, as a browser sends it) get their welcome, see each
    other's join notice, and BOTH receive every chat message either one sends, with the text
    intact (quotes, backslash, newline, non-ASCII); the leave notice reaches the other;
  - a message over the size limit closes its sender's connection with 1009, a binary message
    with 1003;
  - a client that stops reading while the room floods is dropped with 1008 ("too slow") once it
    reads again, after fewer messages than were sent, while the flooding client got them all.
Prints one "ok ..." line per check and a last line "chat: N passed, M failed"; exits 0 only
when every check passed. The server is stopped at the end in every case. Loopback only.
"""

import argparse
import asyncio
import http.client
import json
import re
import socket
import subprocess
import sys

import websockets
from websockets.asyncio.client import connect

PASSED = []
FAILED = []


def ok(name):
    PASSED.append(name)
    print(f"ok {name}", flush=True)


def fail(name, why):
    FAILED.append(name)
    print(f"FAIL {name}: {why}", flush=True)


def http_request(host, port, method, path):
    c = http.client.HTTPConnection(host, port, timeout=10)
    try:
        c.request(method, path)
        r = c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        c.close()


async def recv_json(ws, timeout=10):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def recv_until(ws, pred, timeout=10):
    """Receives messages until one matches `pred`; returns it."""
    async def go():
        while True:
            m = json.loads(await ws.recv())
            if pred(m):
                return m
    return await asyncio.wait_for(go(), timeout)


async def expect_close(ws, code, timeout=10):
    """Reads until the connection closes; returns (the Close frame's code, messages read)."""
    n = 0
    try:
        async def go():
            nonlocal n
            while True:
                await ws.recv()
                n += 1
        await asyncio.wait_for(go(), timeout)
    except websockets.ConnectionClosed as e:
        got = e.rcvd.code if e.rcvd else None
        if got != code:
            raise AssertionError(f"closed with {got} ({e.rcvd.reason if e.rcvd else 'no Close frame'}), expected {code}")
        return got, n
    except asyncio.TimeoutError:
        raise AssertionError(f"not closed within {timeout} s ({n} messages read)") from None
    raise AssertionError("not closed")


async def check_room(host, port):
    url = f"ws://{host}:{port}/ws"
    origin = f"http://{host}:{port}"
    try:
        async with connect(url.replace("/ws", "/other"), origin=origin):
            pass
        fail("upgrade to another path", "accepted")
    except websockets.InvalidStatus as e:
        (ok if e.response.status_code == 404 else lambda n: fail(n, e.response.status_code))(
            "upgrade to another path: 404")
    try:
        async with connect(url, origin="http://evil.example"):
            pass
        fail("cross-site upgrade", "accepted")
    except websockets.InvalidStatus as e:
        (ok if e.response.status_code == 403 else lambda n: fail(n, e.response.status_code))(
            "cross-site upgrade: 403")

    async with connect(url, origin=origin) as a:
        welcome_a = await recv_json(a)
        assert welcome_a["type"] == "welcome", welcome_a
        me_a = welcome_a["you"]
        await recv_until(a, lambda m: m["type"] == "join" and m["user"] == me_a)
        async with connect(url, origin=origin) as b:
            welcome_b = await recv_json(b)
            me_b = welcome_b["you"]
            assert me_a != me_b, (me_a, me_b)
            await recv_until(a, lambda m: m["type"] == "join" and m["user"] == me_b)
            await recv_until(b, lambda m: m["type"] == "join" and m["user"] == me_b)
            ok(f"two clients joined ({me_a}, {me_b}; deflate: {bool(a.protocol.extensions)})")

            texts = [(a, me_a, "hello from A"), (b, me_b, 'B says "hi" \\ back\nline two, ünïcödé ✓')]
            for sender, name, text in texts:
                await sender.send(text)
                for receiver in (a, b):
                    m = await recv_until(receiver, lambda m: m["type"] == "chat")
                    assert m == {"type": "chat", "from": name, "text": text}, m
            ok("both clients receive every broadcast, text intact")

            await b.send("x" * 5000)
            await expect_close(b, 1009)
            ok("message over the size limit: 1009")
        m = await recv_until(a, lambda m: m["type"] == "leave" and m["user"] == me_b)
        ok(f"leave notice reaches the others ({m['online']} online)")

        async with connect(url, origin=origin) as c:
            await c.send(b"\x00\x01")
            await expect_close(c, 1003)
            ok("binary message: 1003")

        # A slow reader: `max_queue=1` stops the library reading once one message waits, and a
        # fixed 64 KiB receive buffer (no autotuning) stops the kernel taking more, so the
        # server's writes to it stall (after at most its send buffer, 4 MiB by default: the
        # flood is 24 MB) and the room moves on without it.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.connect((host, port))
        sock.setblocking(False)
        # No permessage-deflate for it: the flood compresses to almost nothing.
        async with connect(url, sock=sock, origin=origin, max_queue=1, max_size=2**20, compression=None) as slow:
            await recv_until(a, lambda m: m["type"] == "join")
            # The sender keeps at most `window` of its messages in flight (well under the room's
            # backlog), so that it does not fall behind itself.
            flood, size, window = 6000, 4000, 64
            got = 0
            progress = asyncio.Event()

            async def drain():
                nonlocal got
                while got < flood:
                    if (await recv_json(a, 30))["type"] == "chat":
                        got += 1
                        progress.set()

            drainer = asyncio.create_task(drain())
            for i in range(flood):
                while i - got >= window:
                    progress.clear()
                    await asyncio.wait_for(progress.wait(), 30)
                await a.send(f"{i:06d}" + "y" * (size - 6))
            await asyncio.wait_for(drainer, 60)
            _, n = await expect_close(slow, 1008, 60)
            if n >= flood:
                raise AssertionError(f"the slow client got all {n} messages")
            ok(f"slow client dropped with 1008 after {n} of {flood} messages; the sender got all {got}")


async def main_async(binary, timeout):
    proc = subprocess.Popen([binary, "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 30)
        m = re.search(r"http://([0-9.]+):(\d+)/", line)
        if not m:
            fail("start", f"unexpected first line {line!r}")
            return
        host, port = m.group(1), int(m.group(2))

        status, headers, body = http_request(host, port, "GET", "/")
        page = body.decode()
        if status == 200 and headers.get("content-type", "").startswith("text/html") and \
                "new WebSocket(" in page and '"/ws"' in page and "location.host" in page:
            ok("GET / serves the chat page")
        else:
            fail("GET /", f"{status} {headers}")
        hstatus, hheaders, hbody = http_request(host, port, "HEAD", "/")
        if hstatus == 200 and hbody == b"" and hheaders.get("content-length") == str(len(body)):
            ok("HEAD / has the page's Content-Length and no body")
        else:
            fail("HEAD /", f"{hstatus} {hheaders} {len(hbody)} bytes")
        status, _, _ = http_request(host, port, "GET", "/nope")
        (ok if status == 404 else lambda n: fail(n, status))("GET /nope: 404")
        status, _, _ = http_request(host, port, "GET", "/ws")
        (ok if status == 426 else lambda n: fail(n, status))("GET /ws without upgrade: 426")

        try:
            await asyncio.wait_for(check_room(host, port), timeout)
        except Exception as e:  # noqa: BLE001 - any failure is reported as one
            fail("chat room", f"{type(e).__name__}: {e}")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("--timeout", type=float, default=120)
    args = p.parse_args()
    asyncio.run(main_async(args.binary, args.timeout))
    print(f"chat: {len(PASSED)} passed, {len(FAILED)} failed", flush=True)
    sys.exit(0 if PASSED and not FAILED else 1)


if __name__ == "__main__":
    main()
