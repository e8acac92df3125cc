"""The rounds format on the same engine (ProZorro style): sealed initial bids, three rounds of turns,
worst first and the leader last, each bidder improving only its own price by whole steps."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine

from accounts.actors import Actor
from audit.models import AuditEvent
from bidding.auction import services
from bidding.models import Auction, AuctionBid, AuctionEvent
from tests.bidding.auction_world import START, make_world

pytestmark = pytest.mark.django_db

ROUNDS = {
    "format": "rounds",
    "rounds": 3,
    "turn_seconds": 60,
    "pause_seconds": 30,
    "duration_seconds": 600,
}


def bid(world, user, price, seconds, key=None):
    auction = Auction.objects.get(pk=world.auction.pk)
    with time_machine.travel(START + dt.timedelta(seconds=seconds), tick=False):
        return services.place_bid(world.actor(user), auction, price, key or uuid.uuid4().hex)


@pytest.fixture
def world(agent, staff):
    world = make_world(agent, staff, bidders=4, **ROUNDS)
    a, b, c, _late = world.bidders
    # Sealed initial bids before the start; the fourth bidder sends none and is not admitted.
    assert bid(world, a, "990000.00", -600).accepted
    assert bid(world, b, "980000.00", -500).accepted
    assert bid(world, c, "985000.00", -400).accepted
    assert bid(world, c, "1000001.00", -300).code == "ABOVE_START"
    return world


def alias_of(world, user):
    return world.auction.participants.get(organization=user.organization).alias


def test_initial_bids_stay_sealed_until_the_start(world, supervisor):
    with time_machine.travel(START - dt.timedelta(seconds=60), tick=False):
        for viewer in (world.bidders[1], supervisor):
            state = services.room_state(Actor.for_user(viewer), world.auction.pk)
            assert all(p["price"] is None for p in state["participants"])
            assert "990000" not in str(state)
        own = services.room_state(Actor.for_user(world.bidders[0]), world.auction.pk)
        assert own["you"]["initial_sealed_at"] and own["you"]["initial_price"] is None
    # At rest, nothing holds the price in the clear: not the seat, the bid row, nor the audit trail.
    seat = world.auction.participants.get(organization=world.bidders[0].organization)
    assert seat.initial_price is None and b"990000" not in bytes(seat.sealed_initial)
    assert not AuctionBid.objects.filter(
        auction=world.auction, accepted=True, price__isnull=False
    ).exists()
    assert "990000" not in str(list(AuditEvent.objects.values_list("payload", flat=True)))
    with time_machine.travel(START + dt.timedelta(seconds=1), tick=False):
        services.advance(Actor.system("clock"), world.auction.pk)  # the start opens them
        state = services.room_state(Actor.for_user(supervisor), world.auction.pk)
    assert sorted(p["price"] for p in state["participants"]) == [
        "980000.00",
        "985000.00",
        "990000.00",
    ]


def test_turns_go_worst_first_leader_last_and_each_improves_its_own_price(world):
    a, b, c, late = world.bidders
    assert bid(world, a, "989000.00", 10).code == "NOT_YOUR_TURN"  # the opening pause
    assert bid(world, c, "984000.00", 40).code == "NOT_YOUR_TURN"  # a's turn
    assert bid(world, late, "900000.00", 40).code == "NOT_PARTICIPANT"
    assert bid(world, a, "979000.00", 40).accepted  # improves its own 990,000 by 11 steps
    assert bid(world, a, "978500.00", 45).code == "NOT_STEP_MULTIPLE"
    assert bid(world, a, "979000.00", 50).code == "NOT_IMPROVING"  # not below its own price
    # c's turn: improving only its own price is enough; it need not beat the leader.
    assert bid(world, c, "984000.00", 100).accepted
    assert bid(world, b, "979000.00", 160).accepted  # b, leader at the round start, goes last
    auction = Auction.objects.get(pk=world.auction.pk)
    first = [alias_of(world, u) for u in (a, c, b)]
    rounds = AuctionEvent.objects.filter(auction=auction, kind="round").order_by("seq")
    assert [t["alias"] for t in rounds[0].data["turns"]] == first
    # Round 2 (210 s) orders by the standings: c 984,000; b 979,000; a 979,000 earlier (leader).
    with time_machine.travel(START + dt.timedelta(seconds=211), tick=False):
        services.advance(Actor.system("clock"), auction.pk)
    second = AuctionEvent.objects.filter(auction=auction, kind="round").order_by("seq").last()
    assert second.data["round"] == 2
    assert [t["alias"] for t in second.data["turns"]] == [alias_of(world, u) for u in (c, b, a)]


def test_the_rounds_end_on_schedule_and_rank_by_price_then_time(world):
    a, b, c, _ = world.bidders
    bid(world, a, "980000.00", 40)  # ties b's initial 980,000 but later: b ranks first
    with time_machine.travel(START + dt.timedelta(seconds=3 * 210), tick=False):
        services.advance(Actor.system("clock"), world.auction.pk)
    auction = Auction.objects.get(pk=world.auction.pk)
    assert auction.status == Auction.Status.CLOSED
    assert auction.ends_at == START + dt.timedelta(seconds=630)
    assert [r["organization"] for r in auction.results] == [
        b.organization_id,
        a.organization_id,
        c.organization_id,
    ]
    assert bid(world, c, "900000.00", 631).code == "CLOSED"
