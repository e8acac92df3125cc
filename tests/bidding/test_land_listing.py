"""The land listing (挂牌出让) with travelled time: its timeline, the sealed reserve, listing bids and
every way a listing can close."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from accounts.actors import Actor
from accounts.services import ensure_may_trade
from audit.models import AuditEvent
from bidding.land import services
from bidding.models import Auction, LandListing
from clock.calendar import add_working_days
from clock.services import run_due
from deposits.models import Deposit
from lib.errors import DomainError
from tests.bidding.land_world import (
    LISTING_END,
    LISTING_START,
    T0,
    land_project,
    listing_rules,
    make_land_world,
)

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
AFTER_END = LISTING_END + dt.timedelta(seconds=1)


def test_the_timeline_follows_the_rules(agent, staff):
    project = land_project(agent, staff)
    lot = project.lots.get()
    cases = [
        ({"listing_starts_at": T0 + 19 * DAY}, "NOTICE_TOO_SHORT"),
        ({"listing_ends_at": LISTING_END - DAY}, "LISTING_TOO_SHORT"),  # nine working days
        # 端午节 2026 (Friday 19 June): the listing may not close on a holiday.
        ({"listing_ends_at": LISTING_END + 14 * DAY}, "HOLIDAY_DEADLINE"),
        ({"reserve_staff": agent}, "BAD_RESERVE_STAFF"),
        ({"max_price": "150500000.00", "cap_mode": "lottery"}, "BAD_MAX_PRICE"),
        ({"max_price": "150000000.00"}, "BAD_CAP_MODE"),
    ]
    with time_machine.travel(T0 + DAY, tick=False):
        for overrides, code in cases:
            with pytest.raises(DomainError) as refused:
                services.create_listing(
                    Actor.for_user(agent), lot, **listing_rules(staff, **overrides)
                )
            assert refused.value.code == code, overrides
        listing = services.create_listing(Actor.for_user(agent), lot, **listing_rules(staff))
    auction = Auction.objects.get(lot=lot, phase="listing")
    assert (auction.starts_at, auction.ends_at) == (LISTING_START, LISTING_END)
    assert auction.direction == "ascending" and listing.stage == LandListing.Stage.SCHEDULED


def test_the_reserve_is_sealed_set_once_by_the_designated_person_before_the_lock(
    agent, staff, center
):
    from tests.conftest import make_user

    world = make_land_world(agent, staff, bidders=0)
    other_staff = make_user("staff2", "center_staff", center)
    with time_machine.travel(LISTING_START, tick=False):
        with pytest.raises(DomainError) as refused:
            services.set_reserve(Actor.for_user(other_staff), world.listing, "120000000.00")
        assert refused.value.code == "FORBIDDEN"
        services.set_reserve(Actor.for_user(staff), world.listing, "120000000.00")
        with pytest.raises(DomainError) as again:
            services.set_reserve(Actor.for_user(staff), world.listing, "90000000.00")
        assert again.value.code == "RESERVE_LOCKED"
    listing = world.refresh()
    assert listing.reserve is None and b"120000000" not in bytes(listing.sealed_reserve)
    assert "120000000" not in str(list(AuditEvent.objects.values_list("payload", flat=True)))
    late = make_land_world(agent, staff, bidders=0)
    with (
        time_machine.travel(LISTING_END - dt.timedelta(minutes=59), tick=False),
        pytest.raises(DomainError) as too_late,
    ):
        services.set_reserve(Actor.for_user(staff), late.listing, "120000000.00")
    assert too_late.value.code == "RESERVE_TOO_LATE"


def test_listing_bids_start_at_the_start_price_and_climb_by_whole_increments(agent, staff):
    world = make_land_world(agent, staff, bidders=3, paid=2)
    a, b, unpaid = world.bidders
    at = LISTING_START + 2 * DAY
    assert world.bid(a, "100000000.00", at).accepted  # equal to the start price
    assert world.bid(b, "100500000.00", at + DAY).code == "NOT_STEP_MULTIPLE"
    assert world.bid(b, "100000000.00", at + DAY).code == "NOT_IMPROVING"
    assert world.bid(b, "103000000.00", at + DAY).accepted
    assert world.bid(unpaid, "105000000.00", at + DAY).code == "NOT_ELIGIBLE"
    assert world.bid(a, "104000000.00", LISTING_END).code == "CLOSED"


def test_no_bid_is_no_deal_and_everyone_is_refunded(agent, staff):
    world = make_land_world(agent, staff, bidders=2)
    listing = world.advance(AFTER_END)
    assert listing.stage == LandListing.Stage.NO_DEAL
    assert (
        Deposit.objects.filter(lot=world.lot, status=Deposit.Status.REFUND_SCHEDULED).count() == 2
    )


def test_one_bid_at_or_above_the_reserve_is_a_deal(agent, staff):
    world = make_land_world(agent, staff, bidders=2, reserve="100000000.00")
    winner, loser = world.bidders
    world.bid(winner, "100000000.00", LISTING_START + 3 * DAY)
    listing = world.advance(AFTER_END)
    assert (listing.stage, listing.winner_id) == (LandListing.Stage.DEAL, winner.organization_id)
    assert listing.final_price == Decimal("100000000.00")
    assert Deposit.objects.get(organization=winner.organization).status == Deposit.Status.HELD
    refunded = Deposit.objects.get(organization=loser.organization)
    assert refunded.status == Deposit.Status.REFUND_SCHEDULED
    refund = refunded.refunds.get()
    assert refund.interest == 0  # land: refunded without interest, within 5 working days
    assert refund.due_at <= add_working_days(listing.decided_at, 5)


def test_the_highest_below_the_reserve_is_no_deal(agent, staff):
    world = make_land_world(agent, staff, bidders=2, reserve="130000000.00")
    a, b = world.bidders
    world.bid(a, "100000000.00", LISTING_START + 3 * DAY)
    world.bid(b, "120000000.00", LISTING_START + 4 * DAY)
    # Two bidders, nobody continues: the highest is compared with the reserve, only now.
    world.advance(AFTER_END)
    listing = world.advance(AFTER_END + dt.timedelta(minutes=6))
    assert listing.stage == LandListing.Stage.NO_DEAL
    assert "底价" in listing.outcome_reason and listing.reserve == Decimal("130000000.00")


def test_two_bidders_neither_continues_the_highest_wins(agent, staff):
    world = make_land_world(agent, staff, bidders=3, reserve="100000000.00")
    a, b, _ = world.bidders
    world.bid(a, "100000000.00", LISTING_START + 3 * DAY)
    world.bid(b, "101000000.00", LISTING_START + 4 * DAY)
    assert world.advance(AFTER_END).stage == LandListing.Stage.CONFIRMING
    world.respond(a, AFTER_END + dt.timedelta(minutes=1), answer=False)
    listing = world.advance(AFTER_END + dt.timedelta(minutes=6))  # the window ends
    assert (listing.stage, listing.winner_id) == (LandListing.Stage.DEAL, b.organization_id)


def test_two_continue_live_bidding_restarts_the_countdown_on_every_bid(agent, staff):
    world = make_land_world(agent, staff, bidders=3, reserve="100000000.00")
    a, b, c = world.bidders
    world.bid(a, "100000000.00", LISTING_START + 3 * DAY)
    world.bid(b, "101000000.00", LISTING_START + 4 * DAY)
    world.advance(AFTER_END)
    world.respond(a, AFTER_END + dt.timedelta(seconds=10))
    listing = world.respond(b, AFTER_END + dt.timedelta(seconds=20)) and world.refresh()
    assert listing.stage == LandListing.Stage.LIVE  # both answered: no need to wait
    live = world.phase("live")
    started = AFTER_END + dt.timedelta(seconds=20)
    assert live.ends_at == started + dt.timedelta(seconds=240)
    assert world.bid(c, "105000000.00", started + dt.timedelta(seconds=5), "live").code == (
        "NOT_PARTICIPANT"  # no valid listing bid, so not in live bidding
    )
    assert world.bid(a, "101000000.00", started + dt.timedelta(seconds=30), "live").code == (
        "NOT_IMPROVING"  # from the listing's highest + one increment
    )
    answer = world.bid(a, "102000000.00", started + dt.timedelta(seconds=200), "live")
    assert dt.datetime.fromisoformat(answer.ends_at) == started + dt.timedelta(seconds=440)
    world.bid(b, "104000000.00", started + dt.timedelta(seconds=400), "live")
    listing = world.advance(started + dt.timedelta(seconds=400 + 240))
    assert (listing.stage, listing.winner_id) == (LandListing.Stage.DEAL, b.organization_id)
    assert listing.final_price == Decimal("104000000.00")


def test_live_bidding_without_a_bid_leaves_the_listing_highest_the_winner(agent, staff):
    world = make_land_world(agent, staff, bidders=2)
    a, b = world.bidders
    world.bid(a, "100000000.00", LISTING_START + 3 * DAY)
    world.bid(b, "101000000.00", LISTING_START + 4 * DAY)
    world.advance(AFTER_END)
    world.respond(a, AFTER_END + dt.timedelta(seconds=10))
    world.respond(b, AFTER_END + dt.timedelta(seconds=20))
    listing = world.advance(AFTER_END + dt.timedelta(seconds=20 + 241))
    assert (listing.stage, listing.winner_id) == (LandListing.Stage.DEAL, b.organization_id)
    assert listing.final_price == Decimal("101000000.00")


def test_signing_turns_the_deposit_into_price_and_refusing_forfeits_and_bars(agent, staff):
    world = make_land_world(agent, staff, bidders=2)
    a, _ = world.bidders
    world.bid(a, "100000000.00", LISTING_START + 3 * DAY)
    listing = world.advance(AFTER_END)
    with time_machine.travel(AFTER_END + DAY, tick=False):
        services.sign_confirmation(Actor.for_user(a), listing)
    assert Deposit.objects.get(organization=a.organization).status == Deposit.Status.LAND_PRICE

    other = make_land_world(agent, staff, bidders=1)
    (refuser,) = other.bidders
    other.bid(refuser, "100000000.00", LISTING_START + 3 * DAY)
    listing = other.advance(AFTER_END)
    with time_machine.travel(AFTER_END + DAY, tick=False):
        services.record_refusal(Actor.for_user(staff), listing, reason="拒绝签署成交确认书")
        with pytest.raises(DomainError):
            ensure_may_trade(refuser.organization, AFTER_END + 2 * DAY)
    assert other.refresh().stage == LandListing.Stage.REFUSED
    assert Deposit.objects.get(organization=refuser.organization).status == Deposit.Status.FORFEITED


def test_the_listing_state_tells_each_reader_what_it_may_know_and_do(agent, staff, supervisor):
    world = make_land_world(agent, staff, bidders=3, reserve="100000000.00")
    a, b, c = world.bidders
    world.bid(a, "100000000.00", LISTING_START + 3 * DAY)
    world.bid(b, "101000000.00", LISTING_START + 4 * DAY)
    with time_machine.travel(AFTER_END, tick=False):
        run_due()  # the clock closes the listing room and opens the confirmation window
        state = services.listing_state(Actor.for_user(a), world.listing.pk)
        assert state["stage"] == "confirming" and state["you"]["may_continue"]
        assert not services.listing_state(Actor.for_user(c), world.listing.pk)["you"][
            "may_continue"
        ]
        public = services.listing_state(Actor.system("public"), world.listing.pk)
        assert public["you"] is None and public["reserve"] is None and public["highest"]
    world.respond(a, AFTER_END + dt.timedelta(minutes=1), answer=False)
    world.advance(AFTER_END + dt.timedelta(minutes=6))
    with time_machine.travel(AFTER_END + dt.timedelta(minutes=7), tick=False):
        winner = services.listing_state(Actor.for_user(b), world.listing.pk)
        watcher = services.listing_state(Actor.for_user(supervisor), world.listing.pk)
    assert winner["you"]["may_sign"] and winner["reserve"] is None
    assert watcher["reserve"] == "100000000.00" and watcher["winner"]


def test_industrial_land_takes_deposits_in_rmb_only(agent, staff):
    project = land_project(agent, staff)
    lot = project.lots.get()
    lot.deposit_currencies = ["CNY", "HKD"]
    lot.save(update_fields=["deposit_currencies"])
    with time_machine.travel(T0 + DAY, tick=False), pytest.raises(DomainError) as refused:
        services.create_listing(
            Actor.for_user(agent), lot, **listing_rules(staff, land_use="industrial")
        )
    assert refused.value.code == "FOREIGN_CURRENCY_NOT_ALLOWED"
