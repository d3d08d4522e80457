#!/usr/bin/env python3
"""Python `websockets` echo server for the memory benchmark (memory.sh): default settings of
`websockets.asyncio.server.serve` (permessage-deflate offered to clients that ask, with its
defaults: 12-bit windows, memLevel 5; keepalive Ping every 20 s; max_size 1 MiB).

    python3 echo_python.py 127.0.0.1:9006
"""

import asyncio
import sys

from websockets.asyncio.server import serve


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def main(addr):
    host, port = addr.rsplit(":", 1)
    async with serve(echo, host, int(port)) as server:
        print(f"python websockets echo server on ws://{addr}", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:9006"))
