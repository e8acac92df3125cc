"""The room hub's write path under daphne: one framing per event and view, the same bytes on every socket.

The sockets' ASGI sends come from daphne's own `Server.create_application`, so if daphne ever changes
how it hands sends to applications, the fast path's detection fails here (rooms would then fall back
to the plain ASGI send, which the communicator tests cover).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from unittest import mock

import pytest
from daphne.server import Server
from daphne.ws_protocol import WebSocketFactory
from twisted.internet import tcp
from twisted.internet.testing import StringTransport

from bidding.auction import hub

pytestmark = pytest.mark.asyncio

CLOSED_STATE = {"type": "state", "seq": 0, "auction": {"status": "closed"}}


def frames_written(transport: StringTransport) -> list[dict]:
    """Parse what the server wrote (RFC 6455 server frames: unmasked, unfragmented text) into JSON."""
    frames, data = [], transport.value()
    while data:
        assert data[0] == 0x81  # FIN + text opcode
        length, start = data[1] & 0x7F, 2
        if length == 126:
            length, start = int.from_bytes(data[2:4]), 4
        elif length == 127:
            length, start = int.from_bytes(data[2:10]), 10
        frames.append(json.loads(data[start : start + length].decode()))
        data = data[start + length :]
    return frames


async def daphne_sockets(count: int) -> tuple[list, list]:
    """`count` open daphne WebSocket protocols on fake wires, and the sends daphne gives the app."""
    sends = []

    async def application(scope, receive, send):
        sends.append(send)

    # Built as daphne's `run()` builds them, without listening anywhere.
    server = Server(application=application, endpoints=["tcp:port=0:interface=127.0.0.1"])
    server.connections = {}
    factory = WebSocketFactory(server, server=server.server_name)
    protocols = []
    for _ in range(count):
        protocol = factory.buildProtocol(("127.0.0.1", 0))
        protocol.makeConnection(StringTransport())
        protocol.state = protocol.STATE_OPEN  # as after the handshake
        protocol.client_addr = ["127.0.0.1", 0]  # daphne's onConnect sets it
        server.connections[protocol] = {}
        server.create_application(protocol, {"type": "websocket"})
        protocols.append(protocol)
    await asyncio.sleep(0)  # the application instances run and hand over their sends
    return protocols, sends


async def snapshot():
    return CLOSED_STATE


async def test_each_view_gets_its_own_frame_and_a_closing_socket_leaves_the_room():
    protocols, sends = await daphne_sockets(3)
    assert [hub._daphne_socket(send) for send in sends] == protocols

    room_hub = hub.Hub(asyncio.get_running_loop())
    try:
        seats = [
            await room_hub.join(7, send, identified, snapshot)
            for send, identified in zip(sends, (True, False, False), strict=True)
        ]
        assert all(seat.socket is not None for seat in seats)

        protocols[2].state = protocols[2].STATE_CLOSING  # must not be written to any more
        bid = {
            "type": "bid",
            "seq": 1,
            "alias": "竞价人A",
            "price": "990000.00",
            "organization": {"name": "甲公司"},
        }
        with mock.patch.object(
            WebSocketFactory,
            "prepareMessage",
            autospec=True,
            side_effect=WebSocketFactory.prepareMessage,
        ) as prepare:
            room_hub.deliver(7, [bid])
            await asyncio.sleep(0.05)
        assert prepare.call_count == 2  # framed once per view, not once per socket

        identified, anonymous, closing = (
            frames_written(protocol.transport) for protocol in protocols
        )
        assert [frame["type"] for frame in identified] == ["state", "bid"]
        assert identified[1]["organization"] == {"name": "甲公司"}  # Chinese survives the framing
        assert [frame["type"] for frame in anonymous] == ["state", "bid"]
        assert "organization" not in anonymous[1] and anonymous[1]["alias"] == "竞价人A"
        assert [frame["type"] for frame in closing] == ["state"]
        assert seats[2] not in room_hub.rooms[7].seats
    finally:
        room_hub.close()


async def test_a_long_event_uses_the_8_byte_length_form():
    protocols, sends = await daphne_sockets(1)
    room_hub = hub.Hub(asyncio.get_running_loop())
    try:
        await room_hub.join(8, sends[0], False, snapshot)
        note = "长" * 30_000  # 90,000 bytes of UTF-8
        room_hub.deliver(8, [{"type": "closed", "seq": 1, "note": note}])
        await asyncio.sleep(0.05)
        assert frames_written(protocols[0].transport)[1]["note"] == note
    finally:
        room_hub.close()


async def test_a_socket_that_stays_behind_is_dropped_and_one_that_catches_up_is_not(settings):
    settings.AUCTION_SLOW_SOCKET_SECONDS = 0.05
    protocols, sends = await daphne_sockets(2)
    room_hub = hub.Hub(asyncio.get_running_loop())
    try:
        for send in sends:
            await room_hub.join(9, send, False, snapshot)
        stuck, catching_up = (protocol.transport for protocol in protocols)
        assert isinstance(stuck.producer, hub._SlowSocketGuard) and stuck.streaming

        # Twisted pauses a socket's producer when its unsent bytes pass the buffer limit.
        stuck.producer.pauseProducing()
        catching_up.producer.pauseProducing()
        catching_up.producer.resumeProducing()  # drained within the grace period
        await asyncio.sleep(0.15)

        assert stuck.disconnected  # aborted: the page reconnects and starts from a fresh snapshot
        assert protocols[0].state == protocols[0].STATE_CLOSED
        assert not catching_up.disconnecting and protocols[1].state == protocols[1].STATE_OPEN
    finally:
        room_hub.close()


async def test_a_close_asked_for_while_behind_is_not_held_up_by_the_guard():
    protocols, sends = await daphne_sockets(1)
    room_hub = hub.Hub(asyncio.get_running_loop())
    try:
        await room_hub.join(10, sends[0], False, snapshot)
        transport = protocols[0].transport
        transport.producer.pauseProducing()
        transport.loseConnection()  # e.g. daphne closing the socket
        # Twisted, once the buffer drains, resumes a paused producer instead of closing, and closes
        # only when no producer is registered: the guard must step aside.
        transport.producer.resumeProducing()
        assert transport.producer is None
    finally:
        room_hub.close()


class WatchedDescriptors:
    """The reactor's side of a Twisted TCP transport (IReactorFDSet): records the write watches."""

    def __init__(self) -> None:
        self.writers: set = set()

    def addWriter(self, descriptor) -> None:
        self.writers.add(descriptor)

    def removeWriter(self, descriptor) -> None:
        self.writers.discard(descriptor)

    def addReader(self, descriptor) -> None:
        pass

    def removeReader(self, descriptor) -> None:
        pass


def received(peer: socket.socket) -> list[dict]:
    chunks = []
    with contextlib.suppress(BlockingIOError):
        while chunk := peer.recv(1 << 20):
            chunks.append(chunk)
    wire = StringTransport()
    wire.write(b"".join(chunks))
    return frames_written(wire)


async def test_frames_go_straight_to_the_socket_but_never_overtake_what_twisted_holds():
    protocols, sends = await daphne_sockets(1)
    protocol = protocols[0]
    ours, peer = socket.socketpair()
    ours.setblocking(False)
    peer.setblocking(False)
    reactor = WatchedDescriptors()
    protocol.transport = transport = tcp.Connection(ours, protocol, reactor)
    transport.connected = True
    room_hub = hub.Hub(asyncio.get_running_loop())
    try:
        seat = await room_hub.join(11, sends[0], False, snapshot)
        assert seat.direct
        # The snapshot went through daphne's usual path: Twisted holds it until the reactor writes.
        assert received(peer) == [] and transport in reactor.writers

        room_hub.deliver(11, [{"type": "bid", "seq": 1, "alias": "竞价人A", "price": "9.00"}])
        await asyncio.sleep(0.05)
        assert received(peer) == []  # queued behind the snapshot, not sent ahead of it
        transport.doWrite()  # the reactor's turn
        assert [frame["seq"] for frame in received(peer)] == [0, 1]
        assert transport not in reactor.writers

        room_hub.deliver(11, [{"type": "bid", "seq": 2, "alias": "竞价人B", "price": "8.00"}])
        await asyncio.sleep(0.05)
        assert [frame["seq"] for frame in received(peer)] == [2]  # sent at once
        assert transport not in reactor.writers  # without a write watch
    finally:
        room_hub.close()
        ours.close()
        peer.close()
