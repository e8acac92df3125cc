"""Supervisor alerts raised as events happen: one IP behind several bidders, identical bid documents,
a rotation pattern, an expert score far from the median."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.actors import Actor
from audit import detectors
from audit.models import Alert
from bidding import services as bidding
from bidding.auction import services as auctions
from bidding.history import past_wins
from bidding.models import Auction, Publicity
from experts.services import deviating_scores
from tests.bidding.auction_world import START, make_world
from tests.bidding.world import CODE, build, people

pytestmark = pytest.mark.django_db


@pytest.fixture
def tender(staff, supervisor, agent, supplier, other_supplier, expert, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return build(people(staff, supervisor, agent, supplier, other_supplier, expert), "bidding")


def resubmit(world, role, *, ip, content=b"", price="30000000.00"):
    user = world.user(role)
    files = [SimpleUploadedFile("bid.pdf", content)] if content else None
    with time_machine.travel(world.now, tick=False):
        return bidding.submit_bid(
            Actor.for_user(user, ip=ip), world.lot, price=price, decryption_code=CODE, files=files
        )


def test_two_bidders_from_one_ip_address(tender):
    resubmit(tender, "owner", ip="203.0.113.7")
    assert not Alert.objects.filter(kind="same_ip").exists()
    resubmit(tender, "other", ip="203.0.113.7")
    alert = Alert.objects.get(kind="same_ip")
    assert alert.project_id == tender.project.pk and alert.details["ip"] == "203.0.113.7"
    assert set(alert.details["organizations"]) == {
        tender.user("owner").organization_id,
        tender.user("other").organization_id,
    }
    resubmit(tender, "other", ip="203.0.113.7")  # raised once, not once per bid
    assert Alert.objects.filter(kind="same_ip").count() == 1


def test_identical_documents_from_two_bidders(tender):
    resubmit(tender, "owner", ip="198.51.100.1", content=b"%PDF technical proposal v1")
    resubmit(tender, "other", ip="198.51.100.2", content=b"%PDF something else")
    assert not Alert.objects.filter(kind="same_document").exists()
    resubmit(tender, "other", ip="198.51.100.2", content=b"%PDF technical proposal v1")
    assert Alert.objects.filter(kind="same_document").count() == 1


def test_auction_bids_from_one_ip_address(agent, staff):
    world = make_world(agent, staff)
    a, b, _ = world.bidders
    for seconds, user, price in ((5, a, "999000.00"), (6, b, "998000.00")):
        with time_machine.travel(START + dt.timedelta(seconds=seconds), tick=False):
            auctions.place_bid(
                Actor.for_user(user, ip="192.0.2.9"),
                Auction.objects.get(pk=world.auction.pk),
                price,
                f"k{seconds}",
            )
    alert = Alert.objects.get(kind="same_ip")
    assert alert.details["organizations"] == sorted([a.organization_id, b.organization_id])


def test_a_winner_beating_the_same_losers_again_and_again(agent, staff):
    worlds = [make_world(agent, staff) for _ in range(3)]
    winner, l1, l2 = (u.organization_id for u in worlds[0].bidders)

    def won(world, on):
        Publicity.objects.create(
            lot=world.lot,
            candidates=[{"organization": o, "rank": i + 1} for i, o in enumerate(on)],
            published_at=START,
            ends_at=START,
            winner_id=winner,
        )

    won(worlds[0], [winner, l1, l2])
    system = Actor.system("test")
    from django.db import transaction

    with transaction.atomic():
        assert (
            detectors.rotation(
                system,
                project_id=worlds[1].project.pk,
                winner=winner,
                losers={l1, l2},
                past_wins=past_wins(winner),
            )
            is None
        )  # twice is not yet a pattern
    won(worlds[1], [winner, l2, l1])
    with transaction.atomic():
        alert = detectors.rotation(
            system,
            project_id=worlds[2].project.pk,
            winner=winner,
            losers={l1, l2},
            past_wins=past_wins(winner),
        )
    assert alert.kind == "rotation" and alert.details["earlier_projects"] == sorted(
        [worlds[0].project.pk, worlds[1].project.pk]
    )


def test_an_expert_far_from_the_median(agent, staff):
    world = make_world(agent, staff)
    from django.db import transaction

    scores = {1: Decimal("80"), 2: Decimal("82"), 3: Decimal("79"), 4: Decimal("30")}
    with transaction.atomic():
        raised = detectors.score_outliers(
            Actor.system("test"),
            project_id=world.project.pk,
            lot_id=world.lot.pk,
            scores={7: scores},
            outliers={7: deviating_scores(scores)},
        )
    assert [a.details["expert"] for a in raised] == [4]
