"""The maximum price (最高限价): reaching it stops price bidding and runs the listing's mode — a
re-verifiable lottery, 竞配建 (housing area), or one sealed offer each nearest the average."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from accounts.actors import Actor
from audit.models import AuditEvent
from bidding.land import lottery, services
from bidding.models import LandListing, LandSealedOffer
from lib.errors import DomainError
from tests.bidding.land_world import LISTING_START, make_land_world

pytestmark = pytest.mark.django_db

CAP = "110000000.00"
DAY = dt.timedelta(days=1)
MINUTE = dt.timedelta(minutes=1)


def capped(agent, staff, mode, **rules):
    """a bids the start price, b reaches the cap on day 3 of the listing."""
    world = make_land_world(agent, staff, bidders=3, max_price=CAP, cap_mode=mode, **rules)
    a, b, c = world.bidders
    world.bid(a, "100000000.00", LISTING_START + 2 * DAY)
    assert world.bid(a, "111000000.00", LISTING_START + 2 * DAY).code == "ABOVE_CAP"
    answer = world.bid(b, CAP, LISTING_START + 3 * DAY)
    assert answer.accepted
    return world, a, b, c, LISTING_START + 3 * DAY


def test_the_cap_stops_price_bidding_at_once(agent, staff):
    world, a, _, _, at = capped(agent, staff, "lottery")
    listing = world.advance(at)
    assert (
        listing.stage == LandListing.Stage.CAP_ACCEPT
        and listing.capper == world.bidders[1].organization
    )
    assert world.phase("listing").status == "closed"
    assert world.bid(a, CAP, at + MINUTE).code == "CLOSED"


def test_lottery_among_those_who_accept_is_committed_before_and_verifiable_after(agent, staff):
    world, a, b, c, at = capped(agent, staff, "lottery")
    opened = AuditEvent.objects.get(action="land.cap.lottery_opened")
    world.respond(a, at + MINUTE, kind="accept_cap")
    with pytest.raises(DomainError) as outsider:
        world.respond(c, at + MINUTE, kind="accept_cap")  # never placed a listing bid
    assert outsider.value.code == "FORBIDDEN"
    listing = world.advance(at + dt.timedelta(seconds=601))
    record = listing.lottery
    assert record["seed_hash"] == opened.payload["seed_hash"]  # committed before anyone accepted
    assert record["candidates"] == sorted([a.organization_id, b.organization_id])
    assert listing.stage == LandListing.Stage.DEAL and listing.winner_id == record["winner"]
    assert listing.final_price == Decimal(CAP)
    assert lottery.verify(record, listing.pk) == []
    loser = next(x for x in record["candidates"] if x != record["winner"])
    assert lottery.verify({**record, "winner": loser}, listing.pk)
    assert lottery.verify({**record, "seed": "00" * 32}, listing.pk)


def test_the_lottery_draw_is_uniform_over_the_candidates():
    wins = {1: 0, 2: 0, 3: 0}
    for _ in range(3000):
        seed, _hash = lottery.new_seed()
        wins[lottery.draw(seed, 7, [3, 1, 2])["winner"]] += 1
    assert all(850 < count < 1150 for count in wins.values()), wins


def test_housing_area_bidding_highest_area_wins(agent, staff):
    world, a, b, c, at = capped(agent, staff, "housing", housing_step="10")
    listing = world.advance(at)
    assert listing.stage == LandListing.Stage.HOUSING
    housing = world.phase("housing")
    assert housing.unit == "m2" and housing.status == "live"
    assert world.bid(a, "15.00", at + MINUTE, "housing").code == "NOT_STEP_MULTIPLE"
    assert world.bid(a, "100.00", at + MINUTE, "housing").accepted
    assert world.bid(c, "200.00", at + MINUTE, "housing").code == "NOT_PARTICIPANT"
    assert world.bid(b, "150.00", at + 2 * MINUTE, "housing").accepted
    listing = world.advance(at + 2 * MINUTE + dt.timedelta(seconds=241))
    assert (listing.stage, listing.winner_id) == (LandListing.Stage.DEAL, b.organization_id)
    assert (listing.final_price, listing.housing_area) == (Decimal(CAP), Decimal("150.00"))


def test_housing_without_a_bid_goes_to_whoever_reached_the_cap(agent, staff):
    world, _, b, _, at = capped(agent, staff, "housing")
    world.advance(at)
    listing = world.advance(at + dt.timedelta(seconds=241))
    assert (listing.winner_id, listing.housing_area) == (b.organization_id, Decimal("0"))


def offer(world, user, price, at):
    with time_machine.travel(at, tick=False):
        return services.submit_offer(Actor.for_user(user), world.listing, price)


def test_sealed_offers_nearest_the_average_wins_and_equal_prices_are_refused(agent, staff):
    world, a, b, _, at = capped(agent, staff, "sealed_offer", offer_ceiling="130000000.00")
    world.advance(at)
    for price, code in (
        ("109000000.00", "OFFER_OUT_OF_RANGE"),
        ("131000000.00", "OFFER_OUT_OF_RANGE"),
    ):
        with pytest.raises(DomainError) as refused:
            offer(world, a, price, at + MINUTE)
        assert refused.value.code == code
    offer(world, a, "112000000.00", at + MINUTE)
    with pytest.raises(DomainError) as duplicate:
        offer(world, b, "112000000.00", at + MINUTE)
    assert duplicate.value.code == "DUPLICATE_PRICE"
    with pytest.raises(DomainError) as twice:
        offer(world, a, "113000000.00", at + MINUTE)
    assert twice.value.code == "ALREADY_OFFERED"
    assert not LandSealedOffer.objects.filter(price__isnull=False).exists()  # sealed until the end
    offer(world, b, "118000000.00", at + 2 * MINUTE)  # every bidder has offered: decided now
    listing = world.refresh()
    # Average 115,000,000; both are 3,000,000 away: the lower offer wins.
    assert (listing.stage, listing.winner_id) == (LandListing.Stage.DEAL, a.organization_id)
    assert listing.final_price == Decimal("112000000.00")


def test_nearest_to_average_on_three_offers():
    winner, price, average = services.nearest_to_average(
        [(1, Decimal("115000000")), (2, Decimal("121000000")), (3, Decimal("125000000"))]
    )
    assert (winner, price) == (2, Decimal("121000000"))
    assert abs(average - Decimal("120333333.33")) < 1
