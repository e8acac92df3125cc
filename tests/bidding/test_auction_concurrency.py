"""Fifty bidders at once on PostgreSQL, each in its own thread and transaction: the row lock makes the
room's truth a single sequence."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from decimal import Decimal

import pytest
import time_machine

from bidding.auction import services
from bidding.models import Auction, AuctionBid, AuctionEvent
from tests.bidding.auction_world import START, make_world
from tests.conftest import requires_postgres, run_concurrently

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, requires_postgres]

BIDDERS = 50
BIDS_EACH = 6
WINDOW, EXTENSION, CAP = 60, 30, 10


def bid_repeatedly(world, user, rounds: int) -> list[services.BidAnswer]:
    answers = []
    chooser = random.Random(user.pk)
    for n in range(rounds):
        auction = Auction.objects.get(pk=world.auction.pk)
        best = auction.best_price or auction.start_price
        price = best - auction.step * chooser.randint(1, 3)
        answers.append(services.place_bid(world.actor(user), auction, str(price), f"{user.pk}-{n}"))
    return answers


def test_fifty_concurrent_bidders_leave_one_consistent_sequence(agent, staff):
    world = make_world(
        agent,
        staff,
        bidders=BIDDERS,
        duration_seconds=600,
        extension_window_seconds=WINDOW,
        extension_seconds=EXTENSION,
        max_extensions=CAP,
    )
    # Real time runs from 20 s before the scheduled end: accepted bids keep pushing the end.
    with time_machine.travel(START + dt.timedelta(seconds=580), tick=True):
        results = run_concurrently(
            bid_repeatedly, [(world, user, BIDS_EACH) for user in world.bidders], timeout=120
        )
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    answers = [a for r in results for a in r]
    assert len(answers) == BIDDERS * BIDS_EACH  # every bid got a definite answer
    accepted = [a for a in answers if a.accepted]
    assert CAP < len(accepted) < len(answers)  # the race was real: some won, many lost

    auction = Auction.objects.get(pk=world.auction.pk)
    events = list(AuctionEvent.objects.filter(auction=auction).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, auction.seq + 1))  # gap-free
    bids = [e for e in events if e.kind == "bid"]
    prices = [Decimal(e.data["price"]) for e in bids]
    assert all(later < earlier for earlier, later in itertools.pairwise(prices))
    assert len(bids) == len(accepted) == auction.accepted_count
    assert {a.seq for a in accepted} == {e.seq for e in bids}
    assert auction.best_price == prices[-1]
    assert AuctionBid.objects.filter(auction=auction).count() == BIDDERS * BIDS_EACH

    # Replay the anti-sniping rule over the accepted bids, in sequence order, from the scheduled end.
    ends_at, used = START + dt.timedelta(seconds=600), 0
    expected = []
    for event in bids:
        at = event.at
        if ends_at - at <= dt.timedelta(seconds=WINDOW) and used < CAP:
            new_end = at + dt.timedelta(seconds=EXTENSION)
            if new_end > ends_at:
                ends_at, used = new_end, used + 1
                expected.append((event.seq + 1, ends_at))
    extended = [
        (e.seq, dt.datetime.fromisoformat(e.data["ends_at"]))
        for e in events
        if e.kind == "extended"
    ]
    assert extended == expected
    assert (auction.ends_at, auction.extensions_used) == (ends_at, used)
    assert used == CAP  # the cap was reached and then held
