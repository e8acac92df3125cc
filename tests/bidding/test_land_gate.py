"""The integrity gate at every binding act of a land listing, read at the act: a bidder barred after it
joined is refused — listing bid, confirmation to join live bidding, live bid, lottery acceptance,
housing-area bid, one-time offer, signing the deal — with the gate's code, and the refusal is audited."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts import services as accounts
from accounts.actors import Actor
from audit.models import AuditEvent
from bidding.land import services
from lib.errors import DomainError
from tests.bidding.land_world import LISTING_END, LISTING_START, make_land_world

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
MINUTE = dt.timedelta(minutes=1)
AFTER_END = LISTING_END + dt.timedelta(seconds=1)
CAP = "110000000.00"


def bar(staff, user, at) -> None:
    with time_machine.travel(at, tick=False):
        accounts.bar_organization(
            Actor.for_user(staff),
            user.organization,
            category="bad_conduct",
            source="regulator",
            reason="串通投标",
            barred_from=dt.date(2026, 1, 1),
            barred_until=None,
        )


def refused_bid(world, user, price, at, phase="listing") -> None:
    answer = world.bid(user, price, at, phase)
    assert (answer.accepted, answer.code) == (False, "ORG_BARRED")
    assert AuditEvent.objects.filter(
        action="bidding.auction.bid_rejected", payload__code="ORG_BARRED"
    ).exists()


def refused_act(call, act: str) -> None:
    with pytest.raises(DomainError) as refusal:
        call()
    assert refusal.value.code == "ORG_BARRED"
    assert AuditEvent.objects.filter(
        action="land.act_refused", payload__act=act, payload__code="ORG_BARRED"
    ).exists()


def test_listing_bids_confirmation_and_live_bids_are_gated(agent, staff):
    world = make_land_world(agent, staff, bidders=3)
    a, b, c = world.bidders
    assert world.bid(a, "100000000.00", LISTING_START + 2 * DAY).accepted
    assert world.bid(b, "101000000.00", LISTING_START + 3 * DAY).accepted
    assert world.bid(c, "102000000.00", LISTING_START + 3 * DAY).accepted
    bar(staff, c, LISTING_START + 4 * DAY)
    refused_bid(world, c, "103000000.00", LISTING_START + 4 * DAY)  # admitted, then barred
    world.advance(AFTER_END)
    refused_act(
        lambda: world.respond(c, AFTER_END + MINUTE), "respond:continue"
    )  # joining live bidding is a binding act
    world.respond(a, AFTER_END + MINUTE)
    world.respond(b, AFTER_END + MINUTE)
    assert world.refresh().stage == "confirming"  # c never answered: the window runs on
    world.advance(AFTER_END + dt.timedelta(seconds=301))
    assert world.refresh().stage == "live"
    live_at = AFTER_END + dt.timedelta(seconds=310)
    assert world.bid(b, "103000000.00", live_at, "live").accepted
    bar(staff, b, live_at)
    refused_bid(world, b, "104000000.00", live_at + dt.timedelta(seconds=5), "live")


def test_lottery_acceptance_is_gated(agent, staff):
    world = make_land_world(agent, staff, bidders=3, max_price=CAP, cap_mode="lottery")
    a, b, _ = world.bidders
    world.bid(a, "100000000.00", LISTING_START + 2 * DAY)
    at = LISTING_START + 3 * DAY
    assert world.bid(b, CAP, at).accepted
    world.advance(at)
    bar(staff, a, at + MINUTE)
    refused_act(lambda: world.respond(a, at + 2 * MINUTE, kind="accept_cap"), "respond:accept_cap")
    # Declining binds nobody: it is taken.
    world.respond(a, at + 2 * MINUTE, kind="accept_cap", answer=False)


def test_housing_bids_are_gated(agent, staff):
    world = make_land_world(agent, staff, bidders=3, max_price=CAP, cap_mode="housing")
    a, b, _ = world.bidders
    world.bid(a, "100000000.00", LISTING_START + 2 * DAY)
    at = LISTING_START + 3 * DAY
    world.bid(b, CAP, at)
    world.advance(at)
    assert world.bid(a, "100.00", at + MINUTE, "housing").accepted
    bar(staff, a, at + MINUTE)
    refused_bid(world, a, "200.00", at + 2 * MINUTE, "housing")


def test_one_time_offers_are_gated(agent, staff):
    world = make_land_world(agent, staff, bidders=3, max_price=CAP, cap_mode="sealed_offer")
    a, b, _ = world.bidders
    world.bid(a, "100000000.00", LISTING_START + 2 * DAY)
    at = LISTING_START + 3 * DAY
    world.bid(b, CAP, at)
    world.advance(at)
    bar(staff, a, at + MINUTE)

    def offer():
        with time_machine.travel(at + 2 * MINUTE, tick=False):
            services.submit_offer(Actor.for_user(a), world.listing, "112000000.00")

    refused_act(offer, "offer")
    assert not world.listing.offers.exists()


def test_signing_the_deal_is_gated(agent, staff):
    world = make_land_world(agent, staff, bidders=2)
    a, _ = world.bidders
    world.bid(a, "100000000.00", LISTING_START + 3 * DAY)
    listing = world.advance(AFTER_END)
    bar(staff, a, AFTER_END + MINUTE)

    def sign():
        with time_machine.travel(AFTER_END + DAY, tick=False):
            services.sign_confirmation(Actor.for_user(a), listing)

    refused_act(sign, "sign_confirmation")
    assert world.refresh().confirmation_signed_at is None
