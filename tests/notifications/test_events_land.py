"""A land listing's notices: the confirmation window and the maximum price's windows are legal deadlines
(due = the window's end) for the listing bidders concerned; along the whole journey no notice names
another bidder, an alias or a price, except the deal price to the winner itself."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.actors import Actor
from bidding.land import services
from bidding.models import AuctionParticipant, LandListing
from notifications.models import Notice
from tests.bidding.land_world import LISTING_END, LISTING_START, make_land_world
from tests.bidding.world import price_texts
from tests.notifications.helpers import per_person, shown, who

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
MINUTE = dt.timedelta(minutes=1)
AFTER_END = LISTING_END + dt.timedelta(seconds=1)
CAP = "110000000.00"
WINDOWS = ("land.confirm_due", "land.cap_accept_due", "land.offer_due")


def test_the_land_journey_tells_each_reader_only_what_it_may_see(agent, staff):
    """a and b bid in the listing, both continue, b wins the live bidding; c paid but never bid."""
    world = make_land_world(agent, staff, bidders=3, reserve="100000000.00")
    a, b, c = world.bidders
    prices = {a.pk: ["100000000.00", "102000000.00"], b.pk: ["101000000.00", "104000000.00"]}
    world.bid(a, prices[a.pk][0], LISTING_START + 3 * DAY)
    world.bid(b, prices[b.pk][0], LISTING_START + 4 * DAY)
    listing = world.advance(AFTER_END)
    assert listing.stage == LandListing.Stage.CONFIRMING
    window_end = listing.stage_ends_at

    # The confirmation window: a legal deadline for the two listing bidders, due when it ends.
    confirm = list(Notice.objects.filter(kind="land.confirm_due"))
    assert per_person("land.confirm_due") == {a.username: 1, b.username: 1}
    assert all(n.legal and n.due_at == window_end for n in confirm)
    world.respond(a, AFTER_END + dt.timedelta(seconds=10))
    world.respond(b, AFTER_END + dt.timedelta(seconds=20))
    started = AFTER_END + dt.timedelta(seconds=20)
    world.bid(a, prices[a.pk][1], started + dt.timedelta(seconds=30), "live")
    world.bid(b, prices[b.pk][1], started + dt.timedelta(seconds=60), "live")
    listing = world.advance(started + dt.timedelta(seconds=60 + 241))
    assert (listing.stage, listing.winner_id) == (LandListing.Stage.DEAL, b.organization_id)
    # A clock retry after the decision tells nobody again.
    world.advance(started + dt.timedelta(seconds=60 + 300))

    assert per_person("land.deal_due") == {b.username: 1}
    assert per_person("land.result") == {a.username: 1, b.username: 1, agent.username: 1}
    assert Notice.objects.get(kind="land.deal_due").params["price"] == prices[b.pk][1]
    assert not Notice.objects.filter(recipient=staff).exists()

    names = {u.pk: getattr(u.organization, "name", "?") for u in world.bidders}
    aliases = list(
        AuctionParticipant.objects.filter(auction__lot=world.lot)
        .exclude(alias="")
        .values_list("organization_id", "alias")
    )
    notices = list(Notice.objects.select_related("recipient"))
    assert {n.kind for n in notices} >= {
        "land.confirm_due",
        "land.deal_due",
        "land.result",
        "deposit.received",
    }
    for notice in notices:
        reader = notice.recipient
        text = shown(notice)
        for user in world.bidders:
            if user.organization_id == reader.organization_id:
                continue
            assert names[user.pk] not in text, (reader.username, notice.kind, text)
            for price in price_texts(*prices.get(user.pk, [])):
                assert price not in text, (reader.username, notice.kind, text)
        if reader.pk in (a.pk, c.pk, agent.pk):
            # Nobody but the winner hears the deal price.
            for price in price_texts(prices[b.pk][1]):
                assert price not in text, (reader.username, notice.kind, text)
        for org_id, alias in aliases:
            if org_id != reader.organization_id:
                for shape in (f"竞价人{alias}", f" {alias} "):
                    assert shape not in text, (notice.kind, text)
    # c never bid: it heard of its own deposit only, nothing of the listing's course.
    assert {n.kind for n in notices if n.recipient_id == c.pk} <= {
        "registration.confirmed",
        "deposit.received",
        "deposit.qualified",
    }


def capped(agent, staff, mode: str, **rules):
    """a bids the start price, b reaches the cap on day 3; c paid but never bid."""
    world = make_land_world(agent, staff, bidders=3, max_price=CAP, cap_mode=mode, **rules)
    a, b, c = world.bidders
    world.bid(a, "100000000.00", LISTING_START + 2 * DAY)
    at = LISTING_START + 3 * DAY
    assert world.bid(b, CAP, at).accepted
    return world, a, b, c, at


def test_the_lottery_window_is_a_legal_deadline_for_the_bidders_but_the_capper(agent, staff):
    world, a, b, _c, at = capped(agent, staff, "lottery")
    listing = world.advance(at)
    assert listing.stage == LandListing.Stage.CAP_ACCEPT
    # Whoever reached the cap is taken to accept it: only a must answer; c never bid.
    assert per_person("land.cap_accept_due") == {a.username: 1}
    notice = Notice.objects.get(kind="land.cap_accept_due")
    assert (notice.legal, notice.due_at) == (True, listing.stage_ends_at)
    assert b.organization.name not in shown(notice) and "110000000" not in shown(notice)
    world.advance(at + MINUTE)  # the clock again: told once
    assert per_person("land.cap_accept_due") == {a.username: 1}


def test_the_sealed_offer_window_is_a_legal_deadline_for_every_listing_bidder(agent, staff):
    world, a, b, _c, at = capped(agent, staff, "sealed_offer")
    listing = world.advance(at)
    assert listing.stage == LandListing.Stage.SEALED_OFFER
    assert per_person("land.offer_due") == {a.username: 1, b.username: 1}
    due = Notice.objects.filter(kind="land.offer_due")
    assert all(n.legal and n.due_at == listing.stage_ends_at for n in due)
    for notice in due:
        assert "110000000" not in shown(notice) and "100000000" not in shown(notice)


def test_housing_area_bidding_start_is_told_to_the_listing_bidders(agent, staff):
    world, a, b, _c, at = capped(agent, staff, "housing", housing_step="10")
    assert world.advance(at).stage == LandListing.Stage.HOUSING
    assert per_person("land.housing_started") == {a.username: 1, b.username: 1}


def test_a_winner_that_refuses_is_told_with_the_agent(agent, staff):
    world = make_land_world(agent, staff, bidders=2)
    a, b = world.bidders
    world.bid(a, "100000000.00", LISTING_START + 3 * DAY)
    listing = world.advance(AFTER_END)
    with time_machine.travel(AFTER_END + DAY, tick=False):
        services.record_refusal(Actor.for_user(staff), listing, reason="拒绝签署成交确认书")
    assert per_person("land.refused") == {a.username: 1, agent.username: 1}
    assert b.username not in who("land.refused")
    # Its deposit is forfeited: its finance users (here its administrator) hear that too.
    assert per_person("deposit.forfeited") == {a.username: 1}
    for notice in Notice.objects.filter(kind__in=[*WINDOWS, "land.refused"]):
        assert "100000000" not in shown(notice)
