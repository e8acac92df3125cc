"""The land listing's close under concurrent bidders on PostgreSQL, each bidder in its own thread and
transaction: the listing closes once, the move to live bidding happens once, and live bidding ends with
one consistent winner."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import time
import uuid
from decimal import Decimal

import pytest
import time_machine

from accounts.actors import Actor
from audit.models import AuditEvent
from bidding.auction import services as auctions
from bidding.land import services
from bidding.models import Auction, AuctionBid, AuctionEvent, LandListing
from tests.bidding.land_world import LISTING_END, LISTING_START, make_land_world
from tests.conftest import requires_postgres, run_concurrently

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, requires_postgres]

BIDDERS = 10


def keep_bidding(world, user, phase: str, seconds: float) -> list[auctions.BidAnswer]:
    answers, chooser = [], random.Random(user.pk)
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        auction = Auction.objects.get(lot=world.lot, phase=phase)
        price = (auction.best_price or auction.start_price) + auction.step * chooser.randint(1, 2)
        answers.append(
            auctions.place_bid(Actor.for_user(user), auction, str(price), uuid.uuid4().hex)
        )
    return answers


def respond(world, user):
    return services.respond(Actor.for_user(user), world.listing, kind="continue", answer=True)


def test_the_close_holds_under_concurrent_bidders(agent, staff):
    world = make_land_world(agent, staff, bidders=BIDDERS, live_seconds=30)
    for index, user in enumerate(world.bidders[:2]):
        world.bid(
            user,
            str(Decimal("100000000.00") + index * 1000000),
            LISTING_START + dt.timedelta(days=3),
        )

    # 1. Bids race the listing's end.
    with time_machine.travel(LISTING_END - dt.timedelta(seconds=1.5), tick=True):
        results = run_concurrently(keep_bidding, [(world, u, "listing", 3) for u in world.bidders])
        assert not [r for r in results if isinstance(r, Exception)], results
        listing_auction = world.phase("listing")
        for answer in itertools.chain.from_iterable(results):
            if answer.accepted:
                assert dt.datetime.fromisoformat(answer.at) < LISTING_END
            else:
                assert answer.code in ("CLOSED", "NOT_IMPROVING"), answer
        assert listing_auction.status == "closed"
        assert AuditEvent.objects.filter(action="land.confirmation.opened").count() == 1
        assert (
            AuditEvent.objects.filter(
                action="bidding.auction.closed", object_id=str(listing_auction.pk)
            ).count()
            == 1
        )

        # 2. Everyone confirms at once: live bidding starts exactly once.
        bidders = [s.organization_id for s in services.bidders_of(world.refresh())]
        continuing = [u for u in world.bidders if u.organization_id in bidders]
        outcomes = run_concurrently(respond, [(world, u) for u in continuing])
        assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
        assert world.refresh().stage == LandListing.Stage.LIVE
        assert Auction.objects.filter(lot=world.lot, phase="live").count() == 1

    # 3. Bids race the live countdown, which restarts on every bid.
    live = world.phase("live")
    with time_machine.travel(live.ends_at - dt.timedelta(seconds=1), tick=True):
        results = run_concurrently(keep_bidding, [(world, u, "live", 2) for u in continuing])
    assert not [r for r in results if isinstance(r, Exception)], results
    live.refresh_from_db()
    events = list(AuctionEvent.objects.filter(auction=live).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, live.seq + 1))
    bids = [e for e in events if e.kind == "bid"]
    prices = [Decimal(e.data["price"]) for e in bids]
    assert prices and all(b > a for a, b in itertools.pairwise(prices))
    ends_at = events[0].data["ends_at"]
    for event in events[1:]:  # each bid came before the end then in force, and restarted it
        if event.kind == "bid":
            assert event.at < dt.datetime.fromisoformat(ends_at)
        if event.kind == "extended":
            assert dt.datetime.fromisoformat(event.data["ends_at"]) == event.at + dt.timedelta(
                seconds=30
            )
            ends_at = event.data["ends_at"]
    assert AuctionBid.objects.filter(auction=live, accepted=True).count() == len(bids)

    listing = world.advance(live.ends_at + dt.timedelta(seconds=1))
    top = bids[-1]
    assert listing.stage == LandListing.Stage.DEAL
    assert listing.final_price == prices[-1]
    assert listing.winner_id == top.data["organization"]["id"]
