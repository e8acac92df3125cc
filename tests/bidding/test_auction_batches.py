"""One writer batch spanning several auctions: each auction's row ends up exactly as its own bids
say, whether the batch writes it with the others in one statement (bids only) or on its own (a close)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection

from bidding.auction import batch, broadcast, services
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


def test_what_a_batch_writes_reads_back_exactly_and_extends_the_audit_chain(agent, staff):
    """The batch's rows go to the database as one pipeline on PostgreSQL (lib/batchwrite.py):
    every value must come back as decided — exact money, server time, address, sequence."""
    from audit.models import AuditEvent, ChainHead
    from audit.services import verify_chain

    world = make_world(agent, staff, bidders=2, min_participants=2)
    first, second = world.bidders
    at = START + dt.timedelta(seconds=30)
    head_before = ChainHead.objects.get().seq
    with time_machine.travel(at, tick=False):
        answers = services.place_bids(
            [
                services.BidRequest(world.actor(first), world.auction.pk, "r1", "999000.00"),
                services.BidRequest(world.actor(second), world.auction.pk, "r2", "998000.00"),
                services.BidRequest(world.actor(first), world.auction.pk, "r3", "999000.00"),
            ]
        )
    assert [(a.accepted, a.code) for a in answers] == [
        (True, ""),
        (True, ""),
        (False, "NOT_IMPROVING"),
    ]
    stored = list(AuctionBid.objects.filter(auction=world.auction).order_by("key"))
    assert [(b.key, b.price, b.accepted, b.code, b.seq) for b in stored] == [
        ("r1", Decimal("999000.00"), True, "", 2),  # seq 1 is the start
        ("r2", Decimal("998000.00"), True, "", 3),
        ("r3", Decimal("999000.00"), False, "NOT_IMPROVING", None),
    ]
    assert {b.decided_at for b in stored} == {at}
    assert stored[0].ip == world.actor(first).ip and stored[1].ip == world.actor(second).ip
    seats = {s.organization_id: s for s in world.auction.participants.all()}
    assert seats[first.organization.pk].price == Decimal("999000.00")
    assert seats[second.organization.pk].price == Decimal("998000.00")
    assert seats[second.organization.pk].price_at == at
    events = list(AuctionEvent.objects.filter(auction=world.auction).order_by("seq"))
    assert [(e.seq, e.kind, e.data.get("price")) for e in events[-2:]] == [
        (2, "bid", "999000.00"),
        (3, "bid", "998000.00"),
    ]
    auction = Auction.objects.get(pk=world.auction.pk)
    assert (auction.seq, auction.best_price, auction.accepted_count, auction.rejected_count) == (
        3,
        Decimal("998000.00"),
        2,
        1,
    )
    appended = list(AuditEvent.objects.filter(seq__gt=head_before).order_by("seq"))
    assert [e.action for e in appended][-3:] == [
        "bidding.auction.bid_accepted",
        "bidding.auction.bid_accepted",
        "bidding.auction.bid_rejected",
    ]
    assert appended[-1].payload["price"] == "999000.00"
    assert ChainHead.objects.get().seq == appended[-1].seq
    assert verify_chain().ok


def test_a_batch_that_fails_at_the_database_leaves_nothing_behind(agent, staff, monkeypatch):
    """An error PostgreSQL reports only when the pipeline is sent still undoes the whole batch: no
    bid, no seat price, no room event, no audit event, and nothing is broadcast."""
    from audit.models import ChainHead
    from lib import batchwrite

    world = make_world(agent, staff, bidders=2, min_participants=2)
    with time_machine.travel(START + dt.timedelta(seconds=5), tick=False):
        services.advance(world.actor(world.bidders[0]), world.auction.pk)  # started: seq 1
    before = (
        ChainHead.objects.get().seq,
        AuctionEvent.objects.count(),
        Auction.objects.get(pk=world.auction.pk).seq,
    )
    real = batch.save_bid_fields

    def and_a_statement_the_database_refuses(auctions):
        real(auctions)
        batchwrite.execute("UPDATE no_such_table SET x = 1")

    monkeypatch.setattr(batch, "save_bid_fields", and_a_statement_the_database_refuses)
    published = []
    monkeypatch.setattr(broadcast, "publish", lambda *a: published.append(a))
    request = services.BidRequest(
        world.actor(world.bidders[0]), world.auction.pk, "f1", "990000.00"
    )
    with (
        time_machine.travel(START + dt.timedelta(seconds=30), tick=False),
        pytest.raises(Exception, match="no_such_table"),
    ):
        services.place_bids([request])
    assert not AuctionBid.objects.filter(auction=world.auction).exists()
    assert not world.auction.participants.filter(price__isnull=False).exists()
    after = (
        ChainHead.objects.get().seq,
        AuctionEvent.objects.count(),
        Auction.objects.get(pk=world.auction.pk).seq,
    )
    assert after == before
    assert published == []  # events are published on commit only


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the pipeline exists on PostgreSQL only"
)
def test_an_orm_statement_inside_the_pipeline_is_refused_not_miscounted(agent, staff):
    """Inside a pipeline the ORM would read a row count that has not arrived (an `update` returning
    -1, a `save(update_fields=…)` failing oddly): the block refuses every Django statement loudly."""
    from django.db import transaction

    from lib import batchwrite

    world = make_world(agent, staff, bidders=2, min_participants=2)
    with (
        pytest.raises(RuntimeError, match=r"inside batchwrite\.pipeline"),
        transaction.atomic(),
        batchwrite.pipeline(),
    ):
        Auction.objects.filter(pk=world.auction.pk).update(extensions_used=5)
    assert Auction.objects.get(pk=world.auction.pk).extensions_used == 0
