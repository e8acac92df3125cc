"""Kill the server mid-auction (SIGKILL, no goodbye), start a new one: the room resumes from the
database, no acknowledged bid is lost, and the sequence continues without a gap."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from bidding.models import Auction, AuctionBid
from tests.bidding.auction_world import make_world
from tests.bidding.servers import Socket, daphne_process, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def live_world(agent, staff, **rules):
    starts_at = timezone.now() + dt.timedelta(seconds=2)
    return make_world(agent, staff, starts_at=starts_at, **rules)


def test_a_killed_server_loses_no_acknowledged_bid(agent, staff):
    world = live_world(agent, staff, duration_seconds=300)
    cookies = [session_cookie(user) for user in world.bidders]
    auction_id = world.auction.pk

    async def first_life(base):
        sockets = [await Socket.open(base, auction_id, c) for c in cookies]
        await asyncio.sleep(2.5)  # the start
        acked, price = [], 1_000_000
        for n in range(12):
            price -= 1000
            answer = await sockets[n % 3].bid(f"life1-{n}", f"{price}.00")
            assert answer["type"] == "ack", answer
            acked.append(answer)
        # Fire more without waiting: some may be decided, some may die with the server.
        for n in range(12, 20):
            price -= 1000
            await sockets[n % 3].connection.send(
                f'{{"type": "bid", "key": "life1-{n}", "price": "{price}.00"}}'
            )
        return acked

    with daphne_process() as (process, base):
        acked = asyncio.run(first_life(base))
        process.kill()  # SIGKILL
        process.join(10)

    async def second_life(base):
        socket = await Socket.open(base, auction_id, cookies[0])
        state = socket.state()
        # Retrying an acknowledged key after the restart gets the same answer, not a second bid.
        again = await socket.bid("life1-0", "999000.00")
        assert again == acked[0]
        best = Decimal(state["auction"]["best_price"])
        answer = await socket.bid("life2-0", str(best - 1000))
        await socket.wait_for(lambda f: f["type"] == "bid" and f["seq"] == answer.get("seq"))
        await socket.close()
        return state, answer

    with daphne_process() as (_, base):
        state, answer = asyncio.run(second_life(base))

    accepted = set(
        AuctionBid.objects.filter(auction_id=auction_id, accepted=True).values_list(
            "key", flat=True
        )
    )
    assert {a["key"] for a in acked} <= accepted
    auction = Auction.objects.get(pk=auction_id)
    history_seqs = [e["seq"] for e in state["history"]]
    assert history_seqs == list(range(1, state["seq"] + 1))
    assert state["seq"] >= acked[-1]["seq"]
    assert answer["type"] == "ack" and answer["seq"] == state["seq"] + 1 == auction.seq
