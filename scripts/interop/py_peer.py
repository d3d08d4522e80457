#!/usr/bin/env python3
"""Interop peer on Python's `websockets` package (asyncio API).

    py_peer.py server [--port 0] [--lifetime SECS]
        An echo server on 127.0.0.1 (port 0 = a free one). Prints
        "py echo server listening on ws://127.0.0.1:PORT" once it accepts, echoes
        every message as it came (text as text, binary as binary) and exits after
        --lifetime seconds (default 300).

    py_peer.py client ws://127.0.0.1:PORT/ [--timeout SECS]
        Runs the interop checks against an echo server: one "ok ..." line per
        check, exit status 1 at the first failure (with a "FAIL ..." line), 0
        when every check passed. The client offers permessage-deflate (the
        websockets default): against a server that declines it this checks the
        fallback, against one that accepts it every message is compressed.
"""

import argparse
import asyncio
import random
import sys
import time

import websockets
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

MAX_SIZE = 64 * 1024 * 1024
CLOSE_CODE = 4000
CLOSE_REASON = "bye"


class CheckFailed(Exception):
    pass


def log(line):
    print(line, flush=True)


# --------------------------------------------------------------------------- server

async def echo(ws):
    try:
        async for message in ws:
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass


async def run_server(port, lifetime):
    async with serve(echo, "127.0.0.1", port, max_size=MAX_SIZE, ping_interval=None) as server:
        bound = server.sockets[0].getsockname()[1]
        log(f"py echo server (websockets {websockets.__version__}) listening on ws://127.0.0.1:{bound}")
        await asyncio.sleep(lifetime)
    return 0


# --------------------------------------------------------------------------- client

def describe(data):
    if len(data) <= 32:
        return repr(data)
    return f"{type(data).__name__} of {len(data)} (starting {data[:16]!r})"


async def expect_echo(ws, sent, what, timeout):
    try:
        got = await asyncio.wait_for(ws.recv(), timeout)
    except asyncio.TimeoutError:
        raise CheckFailed(f"{what}: no echo within {timeout}s")
    except websockets.ConnectionClosed as e:
        raise CheckFailed(f"{what}: connection closed while waiting for the echo: {e!r}")
    if type(got) is not type(sent):
        raise CheckFailed(f"{what}: sent {type(sent).__name__}, echo is {type(got).__name__}: {describe(got)}")
    if got != sent:
        at = next((i for i, (a, b) in enumerate(zip(got, sent)) if a != b), min(len(got), len(sent)))
        raise CheckFailed(f"{what}: echo differs: got {len(got)}, sent {len(sent)}, first difference at {at}")


async def run_client(url, timeout):
    count = 0

    def ok(what):
        nonlocal count
        count += 1
        log(f"ok   {what}")

    # Default compression: the client offers permessage-deflate.
    ws = await asyncio.wait_for(
        connect(url, max_size=MAX_SIZE, ping_interval=None, close_timeout=timeout, open_timeout=timeout),
        timeout,
    )
    extensions = [type(e).__name__ for e in ws.protocol.extensions]
    # Either outcome is fine: a server that declines the offer is checked for the fallback, one
    # that accepts it has every check below run compressed.
    ok(f"handshake with {url} (offered permessage-deflate, extensions in force: {', '.join(extensions) or 'none'})")

    async def round_trip(message, what, fragments=None, text=None):
        if fragments is None:
            await ws.send(message)
        else:
            await ws.send(fragments, text=text)
        await expect_echo(ws, message, what, timeout)
        ok(what)

    await round_trip("hello", 'text "hello"')
    utf8 = "héllo wörld — 你好 🌍 ñ€"
    await round_trip(utf8, f"text multi-byte UTF-8 ({len(utf8.encode())} bytes)")
    await round_trip("", "text empty")
    rng = random.Random(1234)
    for size in (0, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 20):
        await round_trip(rng.randbytes(size), f"binary {size} bytes")
    await round_trip("x" * 65536, "text 65536 bytes")

    # Fragmented text sent as bytes pieces with text=True, so that pieces split characters.
    text = "frag: a€b🌍c end"
    raw = text.encode()
    euro, globe = raw.index("€".encode()), raw.index("🌍".encode())
    pieces = [raw[: euro + 1], raw[euro + 1 : globe + 2], raw[globe + 2 :]]
    await round_trip(text, "text fragmented in 3 pieces (+ empty final frame), characters split", pieces, True)
    await round_trip("".join(["abc", "", "déf", "ghi"]), "text fragmented from str pieces", ["abc", "", "déf", "ghi"])
    data = rng.randbytes(70000)
    bpieces = [data[:1], data[1:1000], data[1000:66000], data[66000:]]
    await round_trip(data, "binary fragmented in 4 pieces (70000 bytes)", bpieces)

    async def agen():
        for p in bpieces:
            await asyncio.sleep(0)
            yield p

    await round_trip(data, "binary fragmented from an async iterator", agen())

    payload = "interop-ping 🏓".encode()
    waiter = await ws.ping(payload)
    try:
        latency = await asyncio.wait_for(waiter, timeout)
    except asyncio.TimeoutError:
        raise CheckFailed(f"ping: no matching pong within {timeout}s")
    ok(f"ping with payload -> matching pong ({latency * 1000:.1f} ms)")

    await asyncio.wait_for(ws.close(code=CLOSE_CODE, reason=CLOSE_REASON), timeout + 5)
    rcvd, sent = ws.protocol.close_rcvd, ws.protocol.close_sent
    if sent is None or sent.code != CLOSE_CODE:
        raise CheckFailed(f"close: our Close frame was not sent as expected: {sent!r}")
    if rcvd is None:
        raise CheckFailed(f"close: the server sent no Close frame (close_code {ws.close_code})")
    if rcvd.code != CLOSE_CODE:
        raise CheckFailed(f"close: sent {CLOSE_CODE} {CLOSE_REASON!r}, server replied {rcvd.code} {rcvd.reason!r}")
    if ws.close_code != CLOSE_CODE:
        raise CheckFailed(f"close: close_code is {ws.close_code}, expected {CLOSE_CODE}")
    ok(f"close {CLOSE_CODE} {CLOSE_REASON!r} -> server replied {rcvd.code} {rcvd.reason!r}")
    return count


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("server")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--lifetime", type=float, default=300)
    c = sub.add_parser("client")
    c.add_argument("url")
    c.add_argument("--timeout", type=float, default=10)
    args = parser.parse_args()

    if args.mode == "server":
        return asyncio.run(run_server(args.port, args.lifetime))

    started = time.monotonic()
    try:
        count = asyncio.run(asyncio.wait_for(run_client(args.url, args.timeout), args.timeout * 10))
    except CheckFailed as e:
        log(f"FAIL {e}")
        return 1
    except (asyncio.TimeoutError, OSError, websockets.WebSocketException) as e:
        log(f"FAIL {type(e).__name__}: {e}")
        return 1
    log(f"py_peer client (websockets {websockets.__version__}): all {count} checks passed "
        f"against {args.url} in {time.monotonic() - started:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
