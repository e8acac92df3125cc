"""The physical reference for the fan-out benchmark: a bare `websockets` server that rebroadcasts every
text frame it receives, unchanged, to every connected socket (the sender included). No Django, no
database, no JSON parsing: what one Python process can push through sockets on this machine.

    python bench/ws_broadcast_reference.py --port 8765

auction_fanout.py starts it itself and measures it with the same load generator as the bid room.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from websockets.asyncio.server import broadcast, serve

CONNECTED: set = set()


async def handler(websocket) -> None:
    CONNECTED.add(websocket)
    try:
        async for message in websocket:
            broadcast(CONNECTED, message)
    finally:
        CONNECTED.discard(websocket)


async def main(port: int) -> None:
    async with serve(
        handler, "127.0.0.1", port, compression=None, ping_interval=None, backlog=2048
    ) as server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(parser.parse_args().port))
