"""The closing surge: bidders keep firing through the end. Every bid gets a definite answer, and the final
state is the same in the database and on every socket."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from asgi import application
from bidding.auction import hub
from bidding.models import Auction, AuctionBid, AuctionEvent
from clock.services import run_due
from tests.bidding.auction_world import START, make_world
from tests.bidding.test_auction_socket import ORIGIN, cookie_for

pytestmark = pytest.mark.django_db(transaction=True)

BIDDERS = 8
WATCHERS = 5


@pytest.fixture(autouse=True)
def _close_hubs():
    yield
    hub.close_all()


class Client:
    """A socket that records every frame, in order."""

    def __init__(self, communicator):
        self.communicator = communicator
        self.frames: list[dict] = []

    async def pump(self, stop: asyncio.Event):
        while not stop.is_set() or not self.closed_seen:
            # Read the output queue directly: the communicator's own timeout cancels the application.
            try:
                message = await asyncio.wait_for(self.communicator.output_queue.get(), 0.5)
            except TimeoutError:
                continue
            self.frames.append(json.loads(message["text"]))

    @property
    def closed_seen(self) -> bool:
        return any(f["type"] == "closed" for f in self.frames)

    def events(self) -> list[dict]:
        state = next(f for f in self.frames if f["type"] == "state")
        seen = [f for f in self.frames if "seq" in f and f["type"] not in ("state", "ack")]
        return [*state["history"], *[e for e in seen if e["seq"] > state["seq"]]]


async def connect(auction_id, user=None) -> Client:
    headers = [ORIGIN]
    if user is not None:
        headers.append((b"cookie", await sync_to_async(cookie_for)(user)))
    communicator = WebsocketCommunicator(
        application, f"/ws/auctions/{auction_id}/", headers=headers
    )
    connected, _ = await communicator.connect()
    assert connected
    return Client(communicator)


async def test_every_bid_in_the_surge_gets_an_answer_and_all_sockets_agree(
    agent, staff, supervisor
):
    # No anti-sniping: a hard end, so bids really do arrive on both sides of it.
    world = await sync_to_async(make_world)(
        agent, staff, bidders=BIDDERS, duration_seconds=60, extension_seconds=0
    )
    auction_id = world.auction.pk
    with time_machine.travel(START + dt.timedelta(seconds=58.5), tick=True):
        await sync_to_async(run_due)()  # the clock started it at its start
        bidders = [await connect(auction_id, user) for user in world.bidders]
        watchers = [await connect(auction_id) for _ in range(WATCHERS)]
        watchers.append(await connect(auction_id, supervisor))
        stop = asyncio.Event()
        pumps = [asyncio.create_task(c.pump(stop)) for c in bidders + watchers]
        sent: dict[str, int] = {}

        async def fire(index: int, client: Client):
            price = Decimal("1000000.00")
            for n in range(40):  # ~3 s of bids, across the end at 60 s
                price -= Decimal("1000.00") * (index + 1)
                key = f"b{index}-{n}"
                sent[key] = index
                await client.communicator.send_json_to(
                    {"type": "bid", "key": key, "price": str(price)}
                )
                await asyncio.sleep(0.07)

        await asyncio.gather(*(fire(i, c) for i, c in enumerate(bidders)))
        stop.set()
        await asyncio.wait_for(asyncio.gather(*pumps), timeout=20)

    answers = {f["key"]: f for c in bidders for f in c.frames if f["type"] in ("ack", "reject")}
    assert set(answers) == set(sent)  # a definite answer for every bid sent
    assert {f["code"] for f in answers.values() if f["type"] == "reject"} >= {"CLOSED"}

    auction = await sync_to_async(Auction.objects.get)(pk=auction_id)
    assert auction.status == Auction.Status.CLOSED
    db_events = await sync_to_async(
        lambda: [e.data for e in AuctionEvent.objects.filter(auction_id=auction_id).order_by("seq")]
    )()
    accepted_keys = await sync_to_async(
        lambda: set(
            AuctionBid.objects.filter(auction_id=auction_id, accepted=True).values_list(
                "key", flat=True
            )
        )
    )()
    assert accepted_keys == {k for k, f in answers.items() if f["type"] == "ack"}
    assert all(
        dt.datetime.fromisoformat(a["at"]) < auction.ends_at
        for a in answers.values()
        if a["type"] == "ack"
    )
    for client in bidders + watchers:
        seen = client.events()
        assert [e["seq"] for e in seen] == list(range(seen[0]["seq"], auction.seq + 1))
        # Same prices, same order, same result as the database (names only where the view allows).
        assert [(e["seq"], e.get("price")) for e in seen] == [
            (e["seq"], e.get("price")) for e in db_events[seen[0]["seq"] - 1 :]
        ]
        assert seen[-1]["type"] == "closed" and seen[-1]["results"] == auction.results
    for client in bidders + watchers:
        await client.communicator.disconnect()
