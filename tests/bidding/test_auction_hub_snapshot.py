"""A room's shared `state` snapshot: a reconnect storm reads the database once per view, and no socket
misses or repeats an event because of it (`hub.Room.state_for`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest

from bidding.auction import hub

pytestmark = pytest.mark.asyncio

AUCTION = 7


def live_state(seq: int, ends_in: float = 600) -> dict:
    ends_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=ends_in)
    return {
        "type": "state",
        "seq": seq,
        "server_time": 0,
        "auction": {"status": "live", "format": "open", "ends_at": ends_at.isoformat()},
    }


class Reader:
    """A state reader that counts its database reads; `state` is what the database holds now."""

    def __init__(self, state: dict, delay: float = 0.0) -> None:
        self.state, self.delay, self.reads = state, delay, 0

    async def __call__(self) -> dict:
        self.reads += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        return dict(self.state)


class Socket:
    def __init__(self) -> None:
        self.frames: list[dict] = []

    async def send(self, message: dict) -> None:
        self.frames.append(json.loads(message["text"]))


@pytest.fixture
async def room_hub():
    room_hub = hub.Hub(asyncio.get_running_loop())
    yield room_hub
    room_hub.close()


async def join(room_hub, reader, view: str | None = "public") -> Socket:
    socket = Socket()
    await room_hub.join(AUCTION, socket.send, False, reader, shared_view=view)
    return socket


def event(seq: int) -> dict:
    return {"type": "bid", "seq": seq, "alias": "竞价人A", "price": str(1000 - seq)}


async def test_a_reconnect_storm_reads_the_state_once_and_everyone_gets_it(room_hub):
    reader = Reader(live_state(5), delay=0.05)
    sockets = await asyncio.gather(*(join(room_hub, reader) for _ in range(50)))
    assert reader.reads == 1
    assert all(s.frames[0]["type"] == "state" and s.frames[0]["seq"] == 5 for s in sockets)
    # The reader's own copy carries the time it was read; every shared copy the time it was handed out.
    assert sum(s.frames[0]["server_time"] > 0 for s in sockets) == 49

    room_hub.deliver(AUCTION, [event(6)])
    await asyncio.sleep(0.01)
    assert all([f["seq"] for f in s.frames] == [5, 6] for s in sockets)


async def test_after_an_event_the_next_socket_reads_a_fresh_state(room_hub):
    reader = Reader(live_state(5))
    await join(room_hub, reader)
    room_hub.deliver(AUCTION, [event(6)])
    await asyncio.sleep(0.01)
    reader.state = live_state(6)
    late = await join(room_hub, reader)
    assert reader.reads == 2
    assert late.frames[0]["seq"] == 6


async def test_a_snapshot_is_handed_out_only_for_its_time(room_hub, monkeypatch):
    reader = Reader(live_state(5))
    await join(room_hub, reader)
    await join(room_hub, reader)
    assert reader.reads == 1
    monkeypatch.setattr(hub, "SHARED_STATE_SECONDS", 0.0)
    await asyncio.sleep(0.01)
    await join(room_hub, reader)
    assert reader.reads == 2


async def test_views_do_not_share_and_bidders_always_read_their_own(room_hub):
    reader = Reader(live_state(5))
    await join(room_hub, reader, view="public")
    await join(room_hub, reader, view="supervisor")  # identities: another snapshot
    await join(room_hub, reader, view=None)
    await join(room_hub, reader, view=None)  # a bidder's state carries its own seat
    assert reader.reads == 4


async def test_a_snapshot_is_not_handed_out_once_the_close_is_due(room_hub):
    reader = Reader(live_state(5, ends_in=0.05))
    await join(room_hub, reader)
    await asyncio.sleep(0.1)  # the end has passed; the room has not closed it yet
    await join(room_hub, reader)
    assert reader.reads == 2


async def test_an_event_queued_before_a_socket_joined_is_not_sent_to_it_twice(room_hub):
    first = await join(room_hub, Reader(live_state(5)))
    # Event 6 is in the room's outbox, not yet written, when a socket joins whose state already
    # shows it (read without yielding to the loop, as a shared snapshot is).
    room_hub.deliver(AUCTION, [event(6)])
    second = await join(room_hub, Reader(live_state(6)))
    await asyncio.sleep(0.01)
    assert [f["seq"] for f in first.frames] == [5, 6]
    assert [f["seq"] for f in second.frames] == [6]
