"""The bid room socket (`/ws/auctions/<id>/`) through the real ASGI stack: origin check, session
cookie, routing, the room hub and the batch writer on its own database connection."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from unittest import mock

import pytest
import time_machine
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client

from asgi import application
from bidding.auction import hub
from bidding.models import Auction, AuctionBid
from clock.services import run_due
from tests.bidding.auction_world import START, make_world

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


@pytest.fixture(autouse=True)
def _close_hubs():
    yield
    hub.close_all()


@pytest.fixture
def world(agent, staff):
    return make_world(agent, staff, public_view=True)


@pytest.fixture
def live():
    """Real time runs (sockets need it), starting one second into the auction, which the clock has
    started."""
    with time_machine.travel(START + dt.timedelta(seconds=1), tick=True) as traveller:
        run_due()
        yield traveller


def cookie_for(user, language: str = "zh-hans") -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}; django_language={language}".encode()


async def open_room(auction_id: int, user=None, language: str = "zh-hans"):
    headers = [ORIGIN]
    if user is not None:
        headers.append((b"cookie", await sync_to_async(cookie_for)(user, language)))
    communicator = WebsocketCommunicator(
        application, f"/ws/auctions/{auction_id}/", headers=headers
    )
    connected, _ = await communicator.connect()
    assert connected
    state = await receive(communicator)
    assert state["type"] == "state"
    return communicator, state


async def receive(communicator, timeout: float = 5) -> Any:
    return json.loads(await communicator.receive_from(timeout))


async def until(communicator, kind: str) -> dict[str, Any]:
    while True:
        frame = await receive(communicator)
        if frame["type"] == kind:
            return frame


async def test_a_bid_is_acked_after_commit_and_every_socket_sees_it(world, live, supervisor):
    a, b, _ = world.bidders
    bidder_a, state_a = await open_room(world.auction.pk, a)
    bidder_b, _ = await open_room(world.auction.pk, b)
    public, public_state = await open_room(world.auction.pk)
    watcher, watcher_state = await open_room(world.auction.pk, supervisor)
    assert state_a["view"] == "bidder" and state_a["you"]["alias"].startswith("竞价人")
    assert (
        public_state["view"] == "public" and "organization" not in public_state["participants"][0]
    )
    assert (
        watcher_state["view"] == "supervisor" and watcher_state["participants"][0]["organization"]
    )

    await bidder_a.send_json_to({"type": "bid", "key": "k-1", "price": "999000.00"})
    # The bidder's own answer goes out before the room's copies of the batch (hub.BidWriter).
    ack, event = await receive(bidder_a), await receive(bidder_a)
    assert (ack["type"], event["type"]) == ("ack", "bid")
    assert ack["seq"] == event["seq"] == state_a["seq"] + 1
    assert await sync_to_async(AuctionBid.objects.filter(key="k-1", accepted=True).exists)()
    seen_by_b = await until(bidder_b, "bid")
    seen_by_public = await until(public, "bid")
    seen_by_supervisor = await until(watcher, "bid")
    assert seen_by_b == seen_by_public
    assert (
        "organization" not in seen_by_public and seen_by_public["alias"] == state_a["you"]["alias"]
    )
    assert seen_by_supervisor["organization"]["id"] == a.organization_id
    for communicator in (bidder_a, bidder_b, public, watcher):
        await communicator.disconnect()


async def test_a_retried_key_gets_the_same_answer_and_a_refusal_has_code_and_message(world, live):
    a = world.bidders[0]
    room, _ = await open_room(world.auction.pk, a, language="en")
    await room.send_json_to({"type": "bid", "key": "same", "price": "999000.00"})
    first = await until(room, "ack")
    await room.send_json_to({"type": "bid", "key": "same", "price": "999000.00"})
    again = await until(room, "ack")
    assert first == again
    await room.send_json_to({"type": "bid", "key": "other", "price": "999500.00"})
    refusal = await until(room, "reject")
    assert refusal["code"] == "NOT_IMPROVING"
    assert refusal["message"] == "A bid must be better than the current best price."
    await room.disconnect()


async def test_hostile_frames_get_error_frames_and_the_socket_lives_on(world, live):
    room, _ = await open_room(world.auction.pk, world.bidders[0])
    bad = [
        ("binary", None, b"\x00\x01"),
        ("not json", "{nope", None),
        ("too large", json.dumps({"type": "bid", "key": "k", "price": "1" * 10000}), None),
        ("a list", "[1, 2]", None),
        ("unknown type", json.dumps({"type": "shutdown"}), None),
        ("no key", json.dumps({"type": "bid", "price": "1.00"}), None),
        ("huge key", json.dumps({"type": "bid", "key": "k" * 65, "price": "1.00"}), None),
        ("float price", json.dumps({"type": "bid", "key": "k", "price": 999000.0}), None),
        ("NaN ping", '{"type": "ping", "t0": NaN}', None),
    ]
    for _, text, data in bad:
        if data is not None:
            await room.send_to(bytes_data=data)
        else:
            await room.send_to(text_data=text)
        frame = await receive(room)
        assert frame["type"] in ("error", "reject") and frame["code"]
    await room.send_json_to({"type": "ping", "t0": 123})
    clock = await until(room, "clock")
    travelled_ms = (START + dt.timedelta(seconds=1)).timestamp() * 1000
    assert clock["t0"] == 123 and abs(clock["server_time"] - travelled_ms) < 60_000
    await room.disconnect()


async def test_only_bidders_bid_and_private_rooms_refuse_the_public(agent, staff, supervisor, live):
    world = await sync_to_async(make_world)(agent, staff, public_view=False)
    watcher, _ = await open_room(world.auction.pk, supervisor)
    await watcher.send_json_to({"type": "bid", "key": "k", "price": "999000.00"})
    assert (await receive(watcher))["code"] == "FORBIDDEN"
    await watcher.disconnect()
    anonymous = WebsocketCommunicator(
        application, f"/ws/auctions/{world.auction.pk}/", headers=[ORIGIN]
    )
    connected, code = await anonymous.connect()
    assert not connected and code == 4404
    foreign = WebsocketCommunicator(
        application,
        f"/ws/auctions/{world.auction.pk}/",
        headers=[(b"origin", b"http://evil.example")],
    )
    connected, _ = await foreign.connect()
    assert not connected


async def test_a_reconnect_gets_a_state_at_the_current_sequence(world, live):
    a, b, _ = world.bidders
    room, _ = await open_room(world.auction.pk, a)
    await room.send_json_to({"type": "bid", "key": "k1", "price": "999000.00"})
    await until(room, "ack")
    await room.disconnect()
    other, _ = await open_room(world.auction.pk, b)
    await other.send_json_to({"type": "bid", "key": "k2", "price": "998000.00"})
    await until(other, "ack")
    again, state = await open_room(world.auction.pk, a)
    assert state["seq"] == 3  # started, bid, bid
    assert [e["seq"] for e in state["history"]] == [1, 2, 3]
    assert state["auction"]["best_price"] == "998000.00"
    assert state["you"]["price"] == "999000.00" and state["you"]["rank"] == 2
    await again.send_json_to({"type": "bid", "key": "k3", "price": "997000.00"})
    assert (await until(again, "bid"))["seq"] == 4
    await again.disconnect()
    await other.disconnect()


async def test_the_room_closes_itself_on_time_and_reveals_identities(agent, staff):
    world = await sync_to_async(make_world)(
        agent, staff, duration_seconds=60, extension_window_seconds=5, extension_seconds=3
    )
    with time_machine.travel(START + dt.timedelta(seconds=58), tick=True):
        public, _ = await open_room(world.auction.pk)
        room, _ = await open_room(world.auction.pk, world.bidders[0])
        await room.send_json_to({"type": "bid", "key": "k1", "price": "999000.00"})
        extended = await until(public, "extended")
        assert dt.datetime.fromisoformat(extended["ends_at"]) > START + dt.timedelta(seconds=60)
        # Nobody bids again and no clock process runs: the room's own timer closes it.
        closed = await until_with_timeout(public, "closed", 8)
        assert closed["status"] == "closed"
        assert closed["results"][0]["organization"] == world.bidders[0].organization_id
        assert (await sync_to_async(Auction.objects.get)(pk=world.auction.pk)).status == "closed"
    await public.disconnect()
    await room.disconnect()


async def until_with_timeout(communicator, kind: str, timeout: float):
    while True:
        frame = json.loads(await communicator.receive_from(timeout))
        if frame["type"] == kind:
            return frame


async def test_room_sockets_take_no_channel_on_the_channel_layer(world, live):
    # Rooms are fed by the process's hub; a layer channel per socket would only cost (with Redis, a
    # share of channels-redis's blocking reads per socket) and never carry anything.
    layer = get_channel_layer()
    with mock.patch.object(type(layer), "new_channel", autospec=True) as new_channel:
        room, _ = await open_room(world.auction.pk, world.bidders[0])
        public, _ = await open_room(world.auction.pk)
        await room.send_json_to({"type": "bid", "key": "k1", "price": "999000.00"})
        await until(room, "ack")
        assert (await until(public, "bid"))["price"] == "999000.00"
    assert new_channel.call_count == 0
    await room.disconnect()
    await public.disconnect()


@pytest.mark.parametrize("auction_id", ["99999999999999999999", str(2**63)])
async def test_a_room_id_no_auction_can_have_is_refused_like_an_unknown_room(auction_id, supplier):
    room = WebsocketCommunicator(
        application,
        f"/ws/auctions/{auction_id}/",
        headers=[ORIGIN, (b"cookie", await sync_to_async(cookie_for)(supplier))],
    )
    connected, code = await room.connect()
    assert not connected and code == 4404
