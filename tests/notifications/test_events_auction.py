"""A live auction's events: one extension notice per extension (not per bid), the close once across clock
retries, the result to the participants and the agent; no notice names a bidder, an alias or a price."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.actors import Actor
from bidding.auction import services
from bidding.models import AuctionParticipant
from notifications import kinds
from notifications.models import Delivery, Notice
from tests.bidding.auction_results import BIDS, CLOSE, EXTENDED_END, at, closed_world
from tests.notifications.helpers import per_person, shown, who

pytestmark = pytest.mark.django_db


def test_an_auction_tells_its_participants_of_the_extension_the_close_and_the_result(agent, staff):
    world = closed_world(agent, staff)
    bidders = {u.username for u in world.bidders}
    # One bid extended the end: one in-app notice each, with the new end.
    extended = Notice.objects.filter(kind="auction.extended")
    assert per_person("auction.extended") == dict.fromkeys(bidders, 1)
    assert all(
        n.params["end"]
        == EXTENDED_END.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
        for n in extended
    )
    assert set(
        Delivery.objects.filter(notice__kind="auction.extended").values_list("channel", flat=True)
    ) == {kinds.INAPP}
    assert per_person("auction.closed") == dict.fromkeys(bidders, 1)
    # The clock comes back for the close (a retry, a restart): nobody is told again.
    with at(CLOSE + dt.timedelta(seconds=5)):
        services.advance(Actor.system("clock"), world.auction.pk)
    assert per_person("auction.closed") == dict.fromkeys(bidders, 1)
    with at(CLOSE + dt.timedelta(minutes=5)):
        services.publish_result(Actor.for_user(agent), world.auction)
    assert who("auction.result") == bidders | {agent.username}
    assert not Notice.objects.filter(recipient=staff).exists()


def test_no_auction_notice_names_a_bidder_an_alias_or_a_price(agent, staff):
    world = closed_world(agent, staff)
    with at(CLOSE + dt.timedelta(minutes=5)):
        services.publish_result(Actor.for_user(agent), world.auction)
    names = [u.organization.name for u in world.bidders]
    aliases = list(
        AuctionParticipant.objects.filter(auction=world.auction).values_list("alias", flat=True)
    )
    prices = {price for _s, _i, price, _a in BIDS}
    notices = list(Notice.objects.all())
    assert notices
    for notice in notices:
        text = shown(notice)
        for secret in [*names, *prices, *(p.split(".")[0] for p in prices)]:
            assert secret not in text, (notice.kind, text)
        for alias in aliases:
            assert f"竞价人{alias}" not in text and f" {alias} " not in text, (notice.kind, text)
