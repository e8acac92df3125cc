"""Real daphne processes on the test database, for tests that kill a server or run two of them."""

from __future__ import annotations

import asyncio
import json
from contextlib import contextmanager
from functools import partial
from typing import Any

from tests.browser import use_database


@contextmanager
def daphne_process():
    """A daphne child serving the real ASGI app on the test database; yields (process, ws base url)."""
    from channels.testing.live import make_application
    from daphne.testing import DaphneProcess
    from django.db import connection

    process = DaphneProcess(
        "localhost",
        partial(make_application, static_wrapper=None),
        setup=partial(use_database, connection.settings_dict["NAME"]),
    )
    process.start()
    if not process.ready.wait(timeout=30):
        process.terminate()
        raise RuntimeError("daphne did not start")
    try:
        yield process, f"ws://localhost:{process.port.value}"
    finally:
        if process.is_alive():
            process.terminate()
        process.join(10)


class Socket:
    """A `websockets` client that sorts what it receives: answers by key, events by sequence."""

    def __init__(self, connection):
        self.connection = connection
        self.frames: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, base: str, auction_id: int, cookie: str | None = None) -> Socket:
        from websockets.asyncio.client import connect

        headers = {"Cookie": cookie} if cookie else {}
        connection = await connect(
            f"{base}/ws/auctions/{auction_id}/",
            origin=base.replace("ws://", "http://"),
            additional_headers=headers,
            open_timeout=10,
        )
        socket = cls(connection)
        await socket.wait_for(lambda f: f["type"] == "state")
        return socket

    async def wait_for(self, match, timeout: float = 10) -> dict[str, Any]:
        for frame in self.frames:
            if match(frame):
                return frame
        async with asyncio.timeout(timeout):
            while True:
                frame = json.loads(await self.connection.recv())
                self.frames.append(frame)
                if match(frame):
                    return frame

    async def bid(self, key: str, price: str, timeout: float = 10) -> dict[str, Any]:
        await self.connection.send(json.dumps({"type": "bid", "key": key, "price": price}))
        return await self.wait_for(
            lambda f: f["type"] in ("ack", "reject") and f.get("key") == key, timeout
        )

    def state(self) -> dict[str, Any]:
        return next(f for f in self.frames if f["type"] == "state")

    def events(self) -> list[dict[str, Any]]:
        state = self.state()
        later = [
            f for f in self.frames if f["type"] not in ("state", "ack", "reject", "clock", "error")
        ]
        return [*state["history"], *[e for e in later if e["seq"] > state["seq"]]]

    async def close(self) -> None:
        await self.connection.close()


def session_cookie(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


@contextmanager
def running_clock(every: float = 0.25):
    """The background clock (`run_clock`) for a test on the real clock: a thread that runs what is
    due every `every` seconds, on its own database connection, until the block ends. Pages and the
    API only read; starts, closes and windows are the clock's (and the rooms') to run."""
    import threading

    from django.db import connection

    from clock.services import run_pass, worker_name

    stopping = threading.Event()

    def tick() -> None:
        try:
            while not stopping.wait(every):
                run_pass(worker_name())
        finally:
            connection.close()

    thread = threading.Thread(target=tick, name="test-clock", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopping.set()
        thread.join(10)
