"""With REDIS_URL set, two daphne processes serve one room: every watcher on either process sees the same
ordered, gap-free sequence, whichever process decided each bid."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from bidding.models import AuctionEvent
from tests.bidding.auction_world import make_world
from tests.bidding.servers import Socket, daphne_process, session_cookie

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (set REDIS_URL)"),
]


def test_two_processes_one_room_one_sequence(agent, staff):
    world = make_world(
        agent,
        staff,
        bidders=4,
        starts_at=timezone.now() + dt.timedelta(seconds=2),
        duration_seconds=300,
    )
    auction_id = world.auction.pk
    cookies = [session_cookie(user) for user in world.bidders]

    async def run(base_one, base_two):
        bases = [base_one, base_two]
        bidders = [await Socket.open(bases[i % 2], auction_id, c) for i, c in enumerate(cookies)]
        watchers = [await Socket.open(bases[i % 2], auction_id) for i in range(6)]
        await asyncio.sleep(2.5)
        price = Decimal("1000000.00")

        async def bidder_loop(index, socket):
            nonlocal price
            for n in range(15):
                price -= 1000
                await socket.bid(f"{index}-{n}", str(price))

        async def everyone_has_seen_the_last_event():
            last = await asyncio.to_thread(
                lambda: AuctionEvent.objects.filter(auction_id=auction_id).latest("seq").seq
            )
            for socket in bidders + watchers:
                await socket.wait_for(lambda f: f.get("seq") == last and f["type"] != "ack")
            return last

        await asyncio.gather(*(bidder_loop(i, s) for i, s in enumerate(bidders)))
        await everyone_has_seen_the_last_event()
        # Then one more bid on process one, alone: with no gap pending, process two's sockets can only
        # learn of it through Redis (forked servers once shared their Redis origin and dropped each
        # other's events as their own echo; gaps read back from the database hid it).
        final = await bidders[0].bid("final", str(price - 1000))
        assert final["type"] == "ack"
        last = await everyone_has_seen_the_last_event()
        sequences = [[(e["seq"], e["type"], e.get("price")) for e in s.events()] for s in watchers]
        for socket in bidders + watchers:
            await socket.close()
        return sequences, last

    with daphne_process() as (_, one), daphne_process() as (_, two):
        sequences, last = asyncio.run(run(one, two))

    expected = [
        (e.seq, e.kind, e.data.get("price"))
        for e in AuctionEvent.objects.filter(auction_id=auction_id).order_by("seq")
    ]
    assert len(expected) == last > 30
    for sequence in sequences:
        assert sequence == expected
