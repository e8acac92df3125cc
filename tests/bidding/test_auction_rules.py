"""The reverse auction's rules with travelled time: steps, the typo guard, anti-sniping, the minimum
number of bidders, the close by a late bid when the clock has not run, ranking, idempotency, audit."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.actors import Actor
from audit.models import AuditEvent
from audit.services import verify_chain
from bidding.auction import services
from bidding.auction.rules import parse_price
from bidding.models import Auction, AuctionEvent
from tests.bidding.auction_world import START, make_world

pytestmark = pytest.mark.django_db


def at(seconds: float):
    return time_machine.travel(START + dt.timedelta(seconds=seconds), tick=False)


def bid(world, user, price, key=None, seconds=None):
    auction = Auction.objects.get(pk=world.auction.pk)
    key = key or f"{user.pk}-{price}"
    if seconds is None:
        return services.place_bid(world.actor(user), auction, price, key)
    with at(seconds):
        return services.place_bid(world.actor(user), auction, price, key)


def test_a_bid_must_improve_the_best_by_whole_steps(agent, staff):
    world = make_world(agent, staff)
    a, b, c = world.bidders
    assert bid(world, a, "999000.00", seconds=1).accepted
    refused = bid(world, b, "999000.00", seconds=2)
    assert (refused.accepted, refused.code) == (False, "NOT_IMPROVING")
    assert bid(world, b, "998500.00", seconds=3).code == "NOT_STEP_MULTIPLE"
    assert bid(world, b, "995000.00", seconds=4).accepted  # k = 4
    assert bid(world, c, "abc", seconds=5).code == "BAD_PRICE"
    assert bid(world, c, "994000.001", seconds=5).code == "BAD_PRICE"
    auction = Auction.objects.get(pk=world.auction.pk)
    assert auction.best_price == parse_price("995000.00")
    assert (auction.accepted_count, auction.rejected_count) == (2, 4)


def test_the_typo_guard_refuses_too_large_a_drop(agent, staff):
    world = make_world(agent, staff, max_change="50000.00")
    a = world.bidders[0]
    assert bid(world, a, "900000.00", seconds=1).code == "TOO_FAR"
    assert bid(world, a, "950000.00", seconds=2).accepted


def test_no_bid_before_the_start_or_after_the_end(agent, staff):
    world = make_world(agent, staff)
    a = world.bidders[0]
    assert bid(world, a, "999000.00", seconds=-5).code == "NOT_STARTED"
    # Nobody runs the clock: the first bid after the end closes the auction itself and is refused.
    assert bid(world, a, "999000.00", seconds=600).code == "CLOSED"
    auction = Auction.objects.get(pk=world.auction.pk)
    assert auction.status == Auction.Status.FAILED  # no valid bid at all


def test_a_bid_in_the_last_window_extends_the_end(agent, staff):
    world = make_world(agent, staff, max_extensions=2)
    a, b, _ = world.bidders
    bid(world, a, "999000.00", seconds=100)  # outside the 60 s window
    assert Auction.objects.get(pk=world.auction.pk).ends_at == START + dt.timedelta(seconds=600)
    answer = bid(world, b, "998000.00", seconds=570)
    assert dt.datetime.fromisoformat(answer.ends_at) == START + dt.timedelta(seconds=690)
    bid(world, a, "997000.00", seconds=680)  # second extension → 800
    bid(world, b, "996000.00", seconds=790)  # cap reached: no extension
    auction = Auction.objects.get(pk=world.auction.pk)
    assert auction.ends_at == START + dt.timedelta(seconds=800)
    assert auction.extensions_used == 2
    kinds = list(AuctionEvent.objects.filter(auction=auction).values_list("kind", flat=True))
    assert kinds == ["started", "bid", "bid", "extended", "bid", "extended", "bid"]
    assert bid(world, a, "995000.00", seconds=800).code == "CLOSED"


def test_fewer_than_the_minimum_bidders_fails_the_auction(agent, staff):
    world = make_world(agent, staff, bidders=2)
    with at(1):
        services.advance(Actor.system("clock"), world.auction.pk)
    auction = Auction.objects.get(pk=world.auction.pk)
    assert auction.status == Auction.Status.FAILED
    assert "不足 3 家" in auction.failure_reason
    assert bid(world, world.bidders[0], "999000.00", seconds=2).code == "CLOSED"


def test_ranking_is_price_then_time_and_identities_appear_at_the_close(agent, staff):
    world = make_world(agent, staff)
    a, b, c = world.bidders
    bid(world, a, "990000.00", seconds=10)
    bid(world, b, "980000.00", seconds=20)
    bid(world, c, "985000.00", seconds=30)  # worse than the best: refused
    bid(world, a, "979000.00", seconds=40)
    with at(601):
        services.advance(Actor.system("clock"), world.auction.pk)
    auction = Auction.objects.get(pk=world.auction.pk)
    assert auction.status == Auction.Status.CLOSED
    assert [(r["organization"], r["price"]) for r in auction.results] == [
        (a.organization_id, "979000.00"),
        (b.organization_id, "980000.00"),
    ]
    assert auction.closing_audit_hash == AuditEvent.objects.get(seq=auction.closing_audit_seq).hash
    assert verify_chain().ok


def test_a_retried_key_gets_the_same_answer(agent, staff):
    world = make_world(agent, staff)
    a = world.bidders[0]
    first = bid(world, a, "999000.00", key="k1", seconds=1)
    again = bid(world, a, "999000.00", key="k1", seconds=2)
    assert first == again and first.accepted
    assert bid(world, a, "998000.00", key="k1", seconds=3).code == "KEY_REUSED"
    assert Auction.objects.get(pk=world.auction.pk).accepted_count == 1


def test_every_bid_accepted_or_refused_is_an_audit_event(agent, staff):
    world = make_world(agent, staff)
    a, b, _ = world.bidders
    bid(world, a, "999000.00", seconds=1)
    bid(world, b, "999000.00", seconds=2)
    actions = list(
        AuditEvent.objects.filter(object_type="bidding.auction").values_list("action", flat=True)
    )
    assert actions[-3:] == [
        "bidding.auction.started",
        "bidding.auction.bid_accepted",
        "bidding.auction.bid_rejected",
    ]


def test_people_outside_the_auction_cannot_bid(agent, staff, supplier, supervisor):
    world = make_world(agent, staff)
    assert bid(world, supplier, "999000.00", seconds=1).code == "NOT_PARTICIPANT"
    assert bid(world, supervisor, "999000.00", seconds=1).code == "NOT_PARTICIPANT"
    assert AuditEvent.objects.filter(action="bidding.auction.bid_rejected").count() == 2
