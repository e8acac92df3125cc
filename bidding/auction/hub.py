"""The process-local room hub and the bid writer: what makes a room fast.

Why not `group_send`: a channel-layer group message costs one layer message, one msgpack round trip and
one consumer dispatch *per socket*, which caps a room at a few thousand deliveries per second per process
(docs/performance.md, "Before the hub"). Here each process keeps its own sockets per room, encodes
an event once per view (anonymous, identified), frames it once as a WebSocket message, and writes the
frame to each socket (`_daphne_socket`). Between processes an event crosses Redis once per process
(`broadcast.py`), not once per socket.

Order: every event carries the auction's sequence number, assigned under the auction row lock. A room
delivers strictly in sequence; an event that arrives early (another process committed first, Redis
reordered) waits, and a gap that does not close within `GAP_WAIT` is read back from the database.

Bids: `BidWriter` queues the bids of every socket in the process and decides them in batches on one
dedicated thread with its own database connection (`decide.decide_bids`, one transaction per batch).
The engine returns the batch's answers and room events; each bidder is answered only after its batch
commits, and before the batch's events fan out to the rooms: a bidder waits for its own answer, not
for a thousand watchers' copies of the batch. A room's timer (`Room._wake`) likewise hands the events
of the transition it ran to the hub itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import json
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import close_old_connections, connections
from twisted.internet.interfaces import IPushProducer
from zope.interface import implementer

from accounts.actors import Actor
from bidding.auction import broadcast
from bidding.auction.broadcast import Event
from bidding.auction.decide import BidAnswer, BidRequest, Decided, decide_bids
from bidding.auction.lifecycle import transition
from bidding.auction.state import anonymize, events_after, wake_times

log = logging.getLogger(__name__)

GAP_WAIT = 0.3  # seconds an out-of-order event waits before the gap is read from the database
MAX_BATCH = 500
# A room hands one `state` snapshot to every anonymous, staff or supervisor socket that joins within
# this many seconds while no event has arrived (`Room.state_for`): after a restart or a network blip,
# a thousand watchers reconnect at once, and reading the snapshot once each took ~10 ms of the single
# database thread per socket (bench/auction_connect.py).
SHARED_STATE_SECONDS = 1.0
WAKE_RETRY_SECONDS = 1.0  # a room whose timed transition failed tries again after this long


# Reads a socket's `state` frame (the consumer's, in its view).
StateReader = Callable[[], Awaitable[dict[str, Any]]]


def frame_text(frame: dict[str, Any]) -> str:
    """A frame as the room sends it: compact JSON, characters as they are."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


@dataclass(eq=False)
class Seat:
    """One socket in a room. Until its `state` frame is sent, events wait in `backlog`."""

    send: Any  # the consumer's raw ASGI send
    identified: bool
    socket: Any = None  # daphne's protocol behind `send`, when frames can be written to it directly
    direct: bool = False  # its frames may go straight to the kernel (`_write_now`)
    ready: bool = False
    backlog: list[tuple[int, str]] = field(default_factory=list)
    after: int = 0  # the seq of its `state`: events up to it are in the snapshot already


class Room:
    def __init__(self, hub: Hub, auction_id: int) -> None:
        self.hub = hub
        self.auction_id = auction_id
        self.seats: set[Seat] = set()
        self.last_seq: int | None = None  # the last event delivered in order
        self.early: dict[int, dict[str, Any]] = {}
        self.gap_handle: asyncio.TimerHandle | None = None
        self.wake_handle: asyncio.TimerHandle | None = None
        self.finished = False
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sender = hub.loop.create_task(self._send_loop())
        # view → (loop time read, snapshot); view → set while one socket reads it for the others
        self.shared: dict[str, tuple[float, dict[str, Any]]] = {}
        self.reading: dict[str, asyncio.Event] = {}

    # --- ordering ------------------------------------------------------------------------------

    def receive(self, events: list[Event]) -> None:
        for event in events:
            seq = event["seq"]
            if self.last_seq is not None and seq <= self.last_seq:
                continue  # already delivered (our own echo, or read back while filling a gap)
            self.early[seq] = event
        self._drain()

    def start_at(self, seq: int) -> None:
        """The first snapshot tells a new room where the sequence stands."""
        if self.last_seq is None:
            self.last_seq = seq
            self.early = {s: e for s, e in self.early.items() if s > seq}
            self._drain()
        elif seq > self.last_seq:
            self._fill_gap_soon(0)

    def _drain(self) -> None:
        if self.last_seq is None:
            return
        while self.last_seq + 1 in self.early:
            event = self.early.pop(self.last_seq + 1)
            self.last_seq = event["seq"]
            self.outbox.put_nowait(event)
            self._follow(event)
        if self.early:
            self._fill_gap_soon(GAP_WAIT)
        elif self.gap_handle is not None:
            self.gap_handle.cancel()
            self.gap_handle = None

    def _fill_gap_soon(self, delay: float) -> None:
        if self.gap_handle is None:
            self.gap_handle = self.hub.loop.call_later(
                delay, lambda: self.hub.loop.create_task(self._fill_gap())
            )

    async def _fill_gap(self) -> None:
        self.gap_handle = None
        if self.last_seq is None:
            return
        missing = await database_sync_to_async(events_after)(self.auction_id, self.last_seq)
        self.receive(missing)

    # --- sending -------------------------------------------------------------------------------

    async def _send_loop(self) -> None:
        while True:
            event = await self.outbox.get()
            try:
                full = frame_text(event)
                public = frame_text(anonymize(event))
                texts = {True: full, False: public}
                # One message and one frame per view, shared by every socket (neither is changed).
                messages: dict[bool, dict[str, str]] = {}
                frames: dict[bool, Any] = {}
                seq = event["seq"]
                for seat in list(self.seats):
                    view = seat.identified
                    if not seat.ready:
                        seat.backlog.append((seq, texts[view]))
                        continue
                    if seq <= seat.after:
                        continue  # queued before the seat joined, and already in its snapshot
                    socket = seat.socket
                    if socket is not None:
                        if socket.state != socket.STATE_OPEN:
                            self.seats.discard(seat)  # closing or gone; its consumer will leave
                            continue
                        if view not in frames:
                            frames[view] = socket.factory.prepareMessage(texts[view].encode())
                        if seat.direct:
                            _write_now(socket, frames[view].payloadHybi)
                        else:
                            socket.sendPreparedMessage(frames[view])
                        continue
                    if view not in messages:
                        messages[view] = {"type": "websocket.send", "text": texts[view]}
                    try:
                        await seat.send(messages[view])
                    except Exception:
                        self.seats.discard(seat)  # the socket is gone; its consumer will leave
            except Exception:
                log.exception("room %s could not deliver event %s", self.auction_id, event)

    async def state_for(self, view: str | None, reader: StateReader) -> dict[str, Any]:
        """The `state` snapshot for a socket that joined this room (it is in `seats` already).

        `view` names the sockets that may share one snapshot (None: this one reads its own, as a
        bidder's carries its own seat). A shared snapshot is handed out only while the room has
        delivered exactly the events up to its seq, so every later event still reaches the new
        socket through the room; and only for `SHARED_STATE_SECONDS`, so that what changes without
        an event (nothing the state shows, today) could be stale for at most that long.
        """
        if view is None:
            return await reader()
        state = self._shared(view)
        if state is not None:
            return state
        reading = self.reading.get(view)
        if reading is not None:  # another socket is reading it: wait for that one
            await reading.wait()
            state = self._shared(view)
            if state is not None:
                return state
            return await reader()
        reading = self.reading[view] = asyncio.Event()
        try:
            state = await reader()
            self.start_at(state["seq"])
            if self.last_seq == state["seq"]:
                self.shared[view] = (self.hub.loop.time(), state)
            return state
        finally:
            del self.reading[view]
            reading.set()

    def _shared(self, view: str) -> dict[str, Any] | None:
        kept = self.shared.get(view)
        if kept is None:
            return None
        taken, state = kept
        if (
            self.hub.loop.time() - taken > SHARED_STATE_SECONDS
            or state["seq"] != self.last_seq
            or not _still_current(state, dt.datetime.now(dt.UTC))
        ):
            del self.shared[view]
            return None
        return {**state, "server_time": int(time.time() * 1000)}

    async def add(self, seat: Seat, state: dict[str, Any]) -> None:
        """Send the snapshot, then whatever arrived while it was being read, newer events only."""
        seat.after = state["seq"]
        await seat.send({"type": "websocket.send", "text": frame_text(state)})
        for seq, text in seat.backlog:
            if seq > state["seq"]:
                await seat.send({"type": "websocket.send", "text": text})
        seat.backlog.clear()
        seat.ready = True
        self.start_at(state["seq"])
        self._plan_wake(state)

    # --- time: start, rounds and close happen even when nobody bids ------------------------------

    # The room keeps one timer: the earliest moment at which something may come due (the start, the
    # next round, the close). An event only ever brings that moment closer, never pushes it back: a
    # bid's `ends_at` once replaced the timer set for the next round, and a rounds auction then
    # stalled until somebody asked for a `state`. A timer that fires early (the end moved by an
    # extension) finds nothing due and plans again from the database.

    def _follow(self, event: dict[str, Any]) -> None:
        if event["type"] == "closed":
            self.finished = True
            if self.wake_handle:
                self.wake_handle.cancel()
            return
        if event.get("ends_at"):
            self._wake_at(dt.datetime.fromisoformat(event["ends_at"]))
        if event["type"] == "round":
            turns = event.get("turns") or []
            if turns:  # the next round starts a pause after the last turn
                self._wake_at(dt.datetime.fromisoformat(turns[-1]["ends_at"]))

    def _plan_wake(self, state: dict[str, Any]) -> None:
        auction = state["auction"]
        if auction["status"] == "scheduled":
            self._wake_at(dt.datetime.fromisoformat(auction["starts_at"]))
        elif auction["status"] == "live":
            self._wake_at(dt.datetime.fromisoformat(auction["ends_at"]))
            turns = state.get("turns") or []
            if turns:
                self._wake_at(dt.datetime.fromisoformat(turns[-1]["ends_at"]))
        else:
            self.finished = True

    def _wake_at(self, when: dt.datetime) -> None:
        """Wake at `when` unless the room already wakes earlier."""
        delay = max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds()) + 0.005
        at = self.hub.loop.time() + delay
        if self.wake_handle is not None:
            if self.wake_handle.when() <= at:
                return
            self.wake_handle.cancel()
        self.wake_handle = self.hub.loop.call_at(
            at, lambda: self.hub.loop.create_task(self._wake())
        )

    async def _wake(self) -> None:
        self.wake_handle = None
        if self.finished or not self.seats:
            return
        try:
            events = await database_sync_to_async(transition)(Actor.system("room"), self.auction_id)
            # Committed: this room gets them through the hub like any other (and so do other
            # processes' rooms, and any room of a phase the transition opened).
            for auction_id, these in events.items():
                self.hub.publish(auction_id, these)
            if not events.get(self.auction_id) and not self.finished:
                state = await database_sync_to_async(wake_times)(self.auction_id)
                if state is not None:
                    self._plan_wake(state)
        except Exception:
            # A transition must not be lost to one failed attempt (the database restarting): the
            # clock runs it too, and the room tries again shortly.
            log.exception("room %s could not advance; trying again", self.auction_id)
            self._wake_at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=WAKE_RETRY_SECONDS))

    def close(self) -> None:
        for handle in (self.sender, self.gap_handle, self.wake_handle):
            if handle is not None:
                with contextlib.suppress(RuntimeError):  # the loop is closed (end of a test)
                    handle.cancel()


def _still_current(state: dict[str, Any], now: dt.datetime) -> bool:
    """Whether a snapshot still shows the room as it is: no start or close has come due since (the
    room's timer is about to run it, and its event will follow), and no round turns are moving
    underneath."""
    auction = state["auction"]
    if auction["status"] == "scheduled":
        return now < dt.datetime.fromisoformat(auction["starts_at"])
    if auction["status"] == "live":
        return auction["format"] == "open" and now < dt.datetime.fromisoformat(auction["ends_at"])
    return True


class BidWriter:
    """Decides the process's bids in batches on one thread that keeps its database connection."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, publish: Callable[[int, list[Event]], None]
    ) -> None:
        self.loop = loop
        self.publish = publish  # (auction_id, events): the hub's, for committed events
        self.queue: asyncio.Queue[tuple[BidRequest, asyncio.Future[BidAnswer]]] = asyncio.Queue()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="auction-writer")
        self.task = loop.create_task(self._run())

    async def submit(self, request: BidRequest) -> BidAnswer:
        future: asyncio.Future[BidAnswer] = self.loop.create_future()
        self.queue.put_nowait((request, future))
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while len(batch) < MAX_BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            requests = [request for request, _ in batch]
            try:
                decided = await self.loop.run_in_executor(self.executor, _decide, requests)
            except Exception:
                log.exception("a batch of %d bids failed; answering RETRY", len(batch))
                decided = Decided([BidAnswer(r.key, False, "RETRY") for r in requests], {})
            for (_, future), answer in zip(batch, decided.answers, strict=True):
                if not future.done():
                    future.set_result(answer)
            # The answers' sends were scheduled just now; the rooms' fan-out is scheduled after them.
            for auction_id, events in decided.events.items():
                self.publish(auction_id, events)

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed (end of a test)
            self.task.cancel()
        self.executor.submit(connections.close_all).result(timeout=10)
        self.executor.shutdown(wait=True)


def _decide(requests: list[BidRequest]) -> Decided:
    """On the writer thread: decide the batch. What it returns has committed (a batch that fails
    has committed nothing: `decide_bids` raises only when no bid went through)."""
    close_old_connections()
    try:
        return decide_bids(requests)
    except Exception:
        # A broken connection must not poison the next batch: reconnect then.
        connections.close_all()
        raise


def _frame_send(send: Any) -> Any:
    """The send a room writes its frames to: the server's own, under channels' session wrapper.

    `AuthMiddlewareStack` wraps a socket's send in `InstanceSessionWrapper.send`, which on every
    message looks at the session (lazy-object attribute lookups) but acts only on HTTP responses; a
    `websocket.send` frame is passed on unchanged. Skipping that wrapper for room frames changes
    nothing on the wire; in a busy room it was a sixth of the event loop's samples (py-spy), and
    skipping it gave about 10 % more deliveries per second (docs/performance.md).
    """
    from channels.sessions import InstanceSessionWrapper

    owner = getattr(send, "__self__", None)
    while (
        isinstance(owner, InstanceSessionWrapper)
        and "websocket.send" not in owner.save_message_types
        and "websocket.send" not in owner.cookie_response_message_types
    ):
        send = owner.real_send
        owner = getattr(send, "__self__", None)
    return send


def _daphne_socket(send: Any) -> Any:
    """Daphne's WebSocket protocol behind a raw ASGI send, or None when the server is another one.

    Daphne turns every `websocket.send` into a UTF-8 encoding and a WebSocket framing (autobahn) per
    socket, then a Twisted write: in a room of 1,000 that is the same text encoded and framed 1,000
    times, about 40 % of the event loop's samples (docs/performance.md). autobahn's broadcast API
    (`factory.prepareMessage` once, `protocol.sendPreparedMessage` per socket) frames it once and
    writes the same bytes to each socket; it falls back to per-socket framing by itself when a socket
    negotiated compression. Daphne builds the send as `partial(server.handle_reply, protocol)`; any
    other shape (tests' communicators, another server) is left to the plain ASGI send.
    """
    from autobahn.websocket.protocol import WebSocketProtocol
    from daphne.server import Server

    if (
        isinstance(send, functools.partial)
        and getattr(send.func, "__func__", None) is Server.handle_reply
        and len(send.args) == 1
        and isinstance(send.args[0], WebSocketProtocol)
    ):
        return send.args[0]
    return None


def _can_write_now(socket: Any) -> bool:
    """Whether `_write_now` may bypass Twisted's buffer for this socket: a plain TCP connection
    (not TLS) that negotiated no compression, on the Twisted internals `_write_now` reads."""
    if socket is None or not settings.AUCTION_SEND_NOW:
        return False
    from twisted.internet.tcp import Connection

    transport = socket.transport
    return (
        isinstance(transport, Connection)
        and getattr(socket, "_perMessageCompress", None) is None
        and hasattr(socket, "send_queue")
        and all(hasattr(transport, a) for a in ("dataBuffer", "offset", "_tempDataLen"))
    )


def _write_now(socket: Any, frame: bytes) -> None:
    """Write a frame with one `send` when nothing is waiting before it, else queue it behind.

    Twisted's `transport.write` only buffers: each write registers the socket for writing (epoll_ctl),
    and the reactor later sends and unregisters it (epoll_ctl again), 3 system calls and much Python
    per socket and event. In a room of 1,000 that was most of daphne's remaining cost per delivery
    (docs/performance.md). asyncio's own transports (and the reference server) send at once the same
    way. Order is kept: this sends directly only while Twisted's buffers and autobahn's queue are
    empty, and whatever the kernel does not take goes to `transport.write`, behind which everything
    later queues. Reads Twisted's buffer fields (checked by `_can_write_now`).
    """
    transport = socket.transport
    if (
        socket.send_queue
        or transport._tempDataLen
        or transport.offset != len(transport.dataBuffer)
        or transport.disconnecting
        or not transport.connected
    ):
        transport.write(frame)
        return
    sent = transport.writeSomeData(
        frame
    )  # the kernel's answer: bytes taken, 0, or a lost connection
    if not isinstance(sent, int):
        transport.write(frame)  # let Twisted find the broken connection and close it as usual
    elif sent < len(frame):
        transport.write(frame[sent:])


@implementer(IPushProducer)
class _SlowSocketGuard:
    """Drops a socket that cannot keep up, as ProZorro's auction server does.

    Every event goes to every socket whether or not it reads, so a phone on a bad network would
    otherwise make the server buffer the whole room's traffic for it, without bound, and that phone
    would show a countdown and a best price that are minutes old. Registered as the socket's push
    producer, this is told by Twisted when the socket's unsent bytes pass the send-buffer limit
    (`pauseProducing`) and when they drain (`resumeProducing`). Still over the limit after
    `settings.AUCTION_SLOW_SOCKET_SECONDS` (10 s by default), the connection is aborted; the room page
    reconnects and starts again from a fresh `state` snapshot, which is exactly what a client that
    fell behind needs.
    """

    def __init__(self, socket: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.socket = socket
        self.loop = loop
        self.timer: asyncio.TimerHandle | None = None

    # IPushProducer, called by the socket's transport.

    def pauseProducing(self) -> None:
        if self.timer is None:
            self.timer = self.loop.call_later(settings.AUCTION_SLOW_SOCKET_SECONDS, self._drop)

    def resumeProducing(self) -> None:
        self._cancel()
        if getattr(self.socket.transport, "disconnecting", False):
            # A close was asked for while the socket was behind. Twisted closes a connection only
            # after its producer is unregistered, and resumes a paused producer instead of closing.
            self.socket.unregisterProducer()

    def stopProducing(self) -> None:
        self._cancel()  # the connection is gone

    def _cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _drop(self) -> None:
        self.timer = None
        log.info(
            "dropping a bid-room socket that fell behind: %s", getattr(self.socket, "peer", "")
        )
        self.socket.dropConnection(abort=True)


class Hub:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.rooms: dict[int, Room] = {}
        self.writer = BidWriter(loop, self.publish)
        self.redis: aioredis.Redis | None = None
        self.listener: asyncio.Task | None = None
        if settings.REDIS_URL:
            self.listener = loop.create_task(self._listen())
        broadcast.set_local_hub(self, loop)

    async def join(
        self,
        auction_id: int,
        send: Any,
        identified: bool,
        state_reader: StateReader,
        shared_view: str | None = None,
    ) -> Seat:
        """Add a socket to its room and send it the `state`, read by `state_reader` or, for sockets
        with the same `shared_view`, shared (`Room.state_for`)."""
        room = self.rooms.get(auction_id)
        if room is None:
            room = self.rooms[auction_id] = Room(self, auction_id)
        send = _frame_send(send)
        # AUCTION_FRAME_ONCE = False: every frame through the plain ASGI send (to compare, or as a
        # way out should a daphne release change what `_daphne_socket` relies on).
        socket = _daphne_socket(send) if settings.AUCTION_FRAME_ONCE else None
        seat = Seat(send=send, identified=identified, socket=socket, direct=_can_write_now(socket))
        if seat.socket is not None and getattr(seat.socket.transport, "producer", None) is None:
            seat.socket.registerProducer(_SlowSocketGuard(seat.socket, self.loop), True)
        room.seats.add(seat)  # before the snapshot is read, so no event falls between the two
        try:
            state = await room.state_for(shared_view, state_reader)
            await room.add(seat, state)
        except BaseException:
            self.leave(auction_id, seat)
            raise
        return seat

    def leave(self, auction_id: int, seat: Seat) -> None:
        room = self.rooms.get(auction_id)
        if room is None:
            return
        room.seats.discard(seat)
        if not room.seats:
            room.close()
            del self.rooms[auction_id]

    def publish(self, auction_id: int, events: list[Event]) -> None:
        """Committed events produced in this process: deliver here, then once to the other processes."""
        self.deliver(auction_id, events)
        if settings.REDIS_URL:
            self.loop.create_task(self._publish(auction_id, events))

    def deliver(self, auction_id: int, events: list[Event]) -> None:
        room = self.rooms.get(auction_id)
        if room is not None:
            room.receive(events)

    async def _client(self) -> aioredis.Redis:
        if self.redis is None:
            self.redis = aioredis.Redis.from_url(settings.REDIS_URL)
        return self.redis

    async def _publish(self, auction_id: int, events: list[Event]) -> None:
        try:
            await (await self._client()).publish(
                broadcast.channel_name(), broadcast.encode(auction_id, events)
            )
        except Exception:
            log.exception("could not publish auction %s events to Redis", auction_id)

    async def _listen(self) -> None:
        while True:
            try:
                pubsub = (await self._client()).pubsub()
                await pubsub.subscribe(broadcast.channel_name())
                # Anything missed while (re)subscribing is read back from the database.
                for room in self.rooms.values():
                    room._fill_gap_soon(0)
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    data = json.loads(message["data"])
                    if data.get("origin") != broadcast.ORIGIN:
                        self.deliver(int(data["auction"]), data["events"])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("auction event subscription lost; resubscribing")
                await asyncio.sleep(1)

    def close(self) -> None:
        for room in list(self.rooms.values()):
            room.close()
        self.rooms.clear()
        if self.listener is not None:
            with contextlib.suppress(RuntimeError):
                self.listener.cancel()
        self.writer.close()
        broadcast.clear_local_hub(self)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def get_hub() -> Hub:
    """The hub of the running event loop (one per daphne process; tests get one per loop)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub(loop)
    return hub


def close_all() -> None:
    """Stop every hub (tests: release the writer threads' database connections)."""
    for hub in list(_hubs.values()):
        try:
            hub.close()
        except Exception:
            log.exception("closing a hub")
    _hubs.clear()
