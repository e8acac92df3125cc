"""One writer batch spanning several auctions: each auction's row ends up exactly as its own bids
say, whether the batch writes it with the others in one statement (bids only) or on its own (a close)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from bidding.auction import services
from bidding.models import Auction, AuctionBid, AuctionEvent
from tests.bidding.auction_world import START, make_world

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_batch_over_several_auctions_writes_each_auction_as_its_own_bids_say(agent, staff):
    calm = make_world(agent, staff, bidders=2, duration_seconds=900, min_participants=2)
    sniped = make_world(agent, staff, bidders=2, duration_seconds=600, min_participants=2)
    over = make_world(agent, staff, bidders=2, duration_seconds=300, min_participants=2)
    a1, a2 = calm.bidders
    b1, b2 = sniped.bidders
    c1, _ = over.bidders
    at = START + dt.timedelta(seconds=570)  # in `sniped`'s last minute; `over` ended at 300 s

    def request(world, user, price, key):
        return services.BidRequest(world.actor(user), world.auction.pk, key, price)

    with time_machine.travel(at, tick=False):
        answers = services.place_bids(
            [
                request(calm, a1, "990000.00", "k1"),
                request(sniped, b1, "995000.00", "k2"),
                request(calm, a2, "985000.00", "k3"),
                request(sniped, b2, "996000.00", "k4"),  # worse than b1's: refused
                request(over, c1, "990000.00", "k5"),  # too late: closed
                request(sniped, b2, "990000.00", "k6"),
            ]
        )
    assert [(a.accepted, a.code) for a in answers] == [
        (True, ""),
        (True, ""),
        (True, ""),
        (False, "NOT_IMPROVING"),
        (False, "CLOSED"),
        (True, ""),
    ]

    calm_row = Auction.objects.get(pk=calm.auction.pk)
    assert calm_row.status == Auction.Status.LIVE
    assert calm_row.best_price == Decimal("985000.00") and calm_row.best_at == at
    assert calm_row.best_participant.organization == a2.organization
    assert (calm_row.accepted_count, calm_row.rejected_count) == (2, 0)
    assert calm_row.ends_at == START + dt.timedelta(seconds=900)  # not in its window: unmoved
    assert calm_row.seq == AuctionEvent.objects.filter(auction=calm_row).count()

    sniped_row = Auction.objects.get(pk=sniped.auction.pk)
    assert sniped_row.best_price == Decimal("990000.00")
    assert sniped_row.best_participant.organization == b2.organization
    assert (sniped_row.accepted_count, sniped_row.rejected_count) == (2, 1)
    assert sniped_row.ends_at == at + dt.timedelta(seconds=120) and sniped_row.extensions_used == 1
    assert sniped_row.seq == AuctionEvent.objects.filter(auction=sniped_row).count()

    over_row = Auction.objects.get(pk=over.auction.pk)
    assert over_row.status in (Auction.Status.CLOSED, Auction.Status.FAILED)
    assert over_row.closed_at is not None and over_row.closing_audit_hash
    assert over_row.seq == AuctionEvent.objects.filter(auction=over_row).count()
    assert AuctionBid.objects.filter(auction__in=[calm_row, sniped_row]).count() == 5
