"""The bidding demo: seeded twice it adds nothing, and its tender really goes from sealed bids through the
opening to a committee ready to evaluate — with the printed decryption code."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import User
from audit.models import AuditEvent
from audit.services import verify_chain
from bidding import demo, methods_demo, negotiation, services
from bidding import evaluation as ev
from bidding.auction import demo as auction_demo
from bidding.auction import services as auctions
from bidding.land import demo as land_demo
from bidding.land import services as land
from bidding.models import Auction, AuctionBid, Bid, LandListing, Opening
from clock.calendar import working_days_between
from clock.models import ScheduledTask
from clock.services import run_due
from deposits.services import qualification
from experts.models import DrawnExpert, DrawRequest
from frameworks import services as frameworks
from trading.models import Project, Registration
from trading.rules import rules_for

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    first = seed()
    counts = (
        AuditEvent.objects.count(),
        Bid.objects.count(),
        User.objects.count(),
        DrawRequest.objects.count(),
        Auction.objects.count(),
        Registration.objects.count(),
        LandListing.objects.count(),
        AuctionBid.objects.count(),
    )
    second = seed()
    return first, second, counts


def test_seeding_twice_adds_nothing(seeded):
    first, second, counts = seeded
    assert demo.CODE in second
    assert "bidding:" in first and demo.CODE in first
    assert counts == (
        AuditEvent.objects.count(),
        Bid.objects.count(),
        User.objects.count(),
        DrawRequest.objects.count(),
        Auction.objects.count(),
        Registration.objects.count(),
        LandListing.objects.count(),
        AuctionBid.objects.count(),
    )
    assert verify_chain().ok


def test_the_demo_tender_closes_minutes_after_seeding_with_three_sealed_bids(seeded):
    project = Project.objects.get(title=demo.TITLE)
    assert project.status == Project.Status.PUBLISHED and not project.mandatory_tender
    remaining = project.bid_deadline - timezone.now()
    assert dt.timedelta(minutes=demo.DEADLINE_MINUTES - 1) < remaining
    assert remaining <= dt.timedelta(minutes=demo.DEADLINE_MINUTES + 1)
    bids = Bid.objects.filter(lot__project=project)
    assert bids.count() == 3 and not bids.filter(price__isnull=False).exists()
    # Each demo supplier signed its bid with its demo certificate, over the bid's commitment.
    for bid in bids.select_related("signed_act"):
        assert bid.signed_act is not None and bid.signed_act.act == "bid.submit"
        assert json.loads(bid.signed_act.statement)["digest"] == bid.commitment
    # The legal documents window was shortened for this demo tender only: the others keep theirs.
    assert (project.documents_until - project.documents_from) < dt.timedelta(days=1)


def test_the_demo_runs_from_the_opening_to_the_award(seeded):
    project = Project.objects.get(title=demo.TITLE)
    lot = project.lots.get()
    draw = DrawRequest.objects.get(project=project)
    assert draw.status == DrawRequest.Status.SIGNED_OFF
    seats = draw.drawn.filter(seated=True).select_related("expert__user")
    assert seats.count() == 5
    assert all(s.response == DrawnExpert.Response.CONFIRMED for s in seats)
    members = [seat.expert.user for seat in seats]
    assert all(members), "every seated expert can log in"

    with time_machine.travel(project.bid_deadline + dt.timedelta(seconds=5), tick=False):
        run_due()  # the clock opens the lot at the deadline
        assert Opening.objects.get(lot=lot).stage == Opening.Stage.DECRYPTING
        for username in demo.PRICES:
            user = User.objects.get(username=username)
            services.decrypt_bid(
                Actor.for_user(user),
                Bid.objects.get(lot=lot, organization=user.organization),
                decryption_code=demo.CODE,
            )
    assert Opening.objects.get(lot=lot).stage == Opening.Stage.OPENED
    assert set(Bid.objects.filter(lot=lot).values_list("commitment_opened", flat=True)) == {True}
    staff = Actor.for_user(User.objects.get(username="staff"))
    agent = Actor.for_user(User.objects.get(username="agent"))
    with time_machine.travel(draw.evaluation_at, tick=False):
        ev.start_evaluation(staff, lot, draw=draw, scheme="lowest_price")
        for member in members:
            for bid in Bid.objects.filter(lot=lot):
                ev.score_bid(Actor.for_user(member), bid, compliant=True)
        ev.compile_report(staff, lot)
        for member in members:
            ev.confirm_report(Actor.for_user(member), lot)
        publicity = ev.publish_candidates(agent, lot)
    with time_machine.travel(publicity.ends_at, tick=False):
        awarded = ev.issue_award(agent, lot)
    cheapest = min(demo.PRICES, key=lambda name: demo.PRICES[name])
    assert awarded.winner == User.objects.get(username=cheapest).organization


def test_the_demo_auction_starts_two_minutes_after_seeding_with_three_registered_bidders(seeded):
    first, second, _counts = seeded
    project = Project.objects.get(title=auction_demo.TITLE)
    assert project.method == Project.Method.REVERSE_AUCTION
    assert project.status == Project.Status.PUBLISHED
    auction = Auction.objects.get(lot__project=project)
    assert auction.status == Auction.Status.SCHEDULED and auction.public_view
    until_start = auction.starts_at - timezone.now()
    assert dt.timedelta(minutes=1) < until_start <= dt.timedelta(minutes=2)
    assert auction.ends_at - auction.starts_at == dt.timedelta(minutes=15)
    registered = set(
        Registration.objects.filter(lot__project=project).values_list(
            "organization__users__username", flat=True
        )
    )
    assert set(auction_demo.BIDDERS) <= registered
    room = f"/bidding/auctions/{auction.pk}/"
    assert room in first and room in second
    # Registration (the documents window) was shortened for this demo project: it closes before the start.
    assert project.documents_until - project.documents_from < dt.timedelta(minutes=2)


def test_the_demo_auction_can_be_played_to_its_result(seeded):
    auction = Auction.objects.get(lot__project__title=auction_demo.TITLE)
    prices = {"supplier": "1490000.00", "supplier2": "1480000.00", "supplier3": "1450000.00"}
    for offset, (username, price) in enumerate(prices.items(), start=5):
        with time_machine.travel(auction.starts_at + dt.timedelta(seconds=offset), tick=False):
            user = User.objects.get(username=username)
            answer = auctions.place_bid(
                Actor.for_user(user), Auction.objects.get(pk=auction.pk), price, f"demo-{offset}"
            )
            assert answer.accepted, answer
    with time_machine.travel(auction.ends_at + dt.timedelta(seconds=1), tick=False):
        run_due()  # the clock closes the room
        closed = Auction.objects.get(pk=auction.pk)
        assert closed.status == Auction.Status.CLOSED
        assert (
            closed.results[0]["bidder"] == User.objects.get(username="supplier3").organization.name
        )
        agent = Actor.for_user(User.objects.get(username="agent"))
        publicity = auctions.publish_result(agent, closed)
    assert [c["price"] for c in publicity.candidates] == ["1450000.00", "1480000.00", "1490000.00"]
    assert verify_chain().ok


def test_the_land_demo_listing_is_in_its_final_minutes_with_the_rules_holding(seeded):
    first, second, _counts = seeded
    project = Project.objects.get(title=land_demo.TITLE)
    assert project.kind == Project.Kind.LAND and project.method == Project.Method.LAND_LISTING
    listing = LandListing.objects.get(lot__project=project)
    page = f"/bidding/land/{listing.pk}/"
    assert page in first and page in second
    # It ends minutes from now ...
    remaining = listing.listing_ends_at - timezone.now()
    minutes = land_demo.ENDS_IN_MINUTES
    assert dt.timedelta(minutes=minutes - 1) < remaining <= dt.timedelta(minutes=minutes + 1)
    # ... and the rules hold: 20 days' notice, 10 working days of listing, deadlines before the close.
    rules = rules_for(project)
    assert listing.listing_starts_at - project.published_at >= dt.timedelta(
        days=rules.listing_notice.days
    )
    open_days = working_days_between(
        timezone.localtime(listing.listing_starts_at).date() - dt.timedelta(days=1),
        timezone.localtime(listing.listing_ends_at).date(),
    )
    assert open_days >= rules.min_listing.days
    assert project.documents_until < listing.listing_ends_at
    assert project.deposit_deadline < listing.listing_ends_at
    assert listing.stage == LandListing.Stage.LISTING and listing.reserve_staff.username == "staff"
    assert listing.sealed_reserve is not None and listing.reserve is None
    room = Auction.objects.get(lot=listing.lot, phase=Auction.Phase.LISTING)
    assert room.status == Auction.Status.LIVE and room.direction == "ascending"
    for username, price in land_demo.BIDDERS:
        org = User.objects.get(username=username).organization
        assert qualification(listing.lot, org).qualified, username
        bid = AuctionBid.objects.get(auction=room, participant__organization=org)
        assert bid.accepted and str(bid.price) == price
    assert str(room.best_price) == land_demo.BIDDERS[-1][1]
    # The audit chain says the demo was seeded as of the past.
    notes = AuditEvent.objects.filter(action="demo.seeded_as_of", object_id=str(project.pk))
    assert notes.count() == 1


def test_the_land_demo_can_be_played_to_a_signed_deal(seeded):
    listing = LandListing.objects.get(lot__project__title=land_demo.TITLE)
    users = {name: User.objects.get(username=name) for name, _ in land_demo.BIDDERS}
    closed = listing.listing_ends_at + dt.timedelta(seconds=1)
    with time_machine.travel(closed, tick=False):
        run_due()  # the clock closes the listing: two bidders, so they are asked
        assert LandListing.objects.get(pk=listing.pk).stage == LandListing.Stage.CONFIRMING
        for user in users.values():
            land.respond(Actor.for_user(user), listing, kind="continue", answer=True)
    listing.refresh_from_db()
    assert listing.stage == LandListing.Stage.LIVE
    live = Auction.objects.get(lot=listing.lot, phase=Auction.Phase.LIVE)
    with time_machine.travel(closed + dt.timedelta(seconds=20), tick=False):
        answer = auctions.place_bid(
            Actor.for_user(users["landbidder"]), live, "288000000.00", "demo-live-1"
        )
        assert answer.accepted, answer
    live.refresh_from_db()
    with time_machine.travel(live.ends_at + dt.timedelta(seconds=1), tick=False):
        run_due()  # the countdown ran out: the highest wins, at or above the reserve
    listing.refresh_from_db()
    assert listing.stage == LandListing.Stage.DEAL
    assert listing.winner == users["landbidder"].organization
    assert str(listing.final_price) == "288000000.00" and str(listing.reserve) == land_demo.RESERVE
    with time_machine.travel(live.ends_at + dt.timedelta(minutes=5), tick=False):
        land.sign_confirmation(Actor.for_user(users["landbidder"]), listing)
    assert verify_chain().ok
    # The clock's steps of the listing (some scheduled in the seeded past) all ran cleanly.
    rooms = [str(pk) for pk in Auction.objects.filter(lot=listing.lot).values_list("pk", flat=True)]
    steps = ScheduledTask.objects.filter(
        step__startswith="bidding.auction_", object_id__in=rooms
    ) | ScheduledTask.objects.filter(step="land.advance", object_id=str(listing.pk))
    assert steps.filter(done_at__isnull=False).count() >= 3  # listing start and close, live close
    assert not steps.exclude(last_error="").exists()


def test_the_consultation_demo_runs_through_rounds_and_final_quotes_to_a_ranking(seeded):
    project = Project.objects.get(title=methods_demo.CONSULTATION)
    assert project.method == Project.Method.CONSULTATION
    lot = project.lots.get()
    draw = DrawRequest.objects.get(project=project)
    assert draw.status == DrawRequest.Status.SIGNED_OFF
    seats = draw.drawn.filter(seated=True).select_related("expert__user")
    members = [seat.expert.user for seat in seats if seat.expert.user is not None]
    deadline = project.bid_deadline
    assert deadline is not None
    with time_machine.travel(deadline + dt.timedelta(seconds=5), tick=False):
        run_due()
        for username in methods_demo.CONSULTATION_PRICES:
            user = User.objects.get(username=username)
            services.decrypt_bid(
                Actor.for_user(user),
                Bid.objects.get(lot=lot, organization=user.organization),
                decryption_code=methods_demo.CODE,
            )
    staff = Actor.for_user(User.objects.get(username="staff"))
    with time_machine.travel(draw.evaluation_at, tick=False):
        ev.start_evaluation(
            staff, lot, draw=draw, scheme="comprehensive", price_weight=Decimal("0.40")
        )
        negotiation.publish_round(staff, lot, changes="交货期调整为 20 日。")
        negotiation.call_final_quotes(
            staff, lot, closes_at=draw.evaluation_at + dt.timedelta(minutes=30)
        )
        for username, price in (("supplier", "1300000"), ("supplier2", "1310000")):
            user = User.objects.get(username=username)
            negotiation.submit_final_quote(Actor.for_user(user), lot, price=price)
    with time_machine.travel(draw.evaluation_at + dt.timedelta(minutes=30), tick=False):
        run_due()
        for member in members:
            for bid in Bid.objects.filter(lot=lot):
                ev.score_bid(
                    Actor.for_user(member), bid, compliant=True, technical_points=Decimal("80")
                )
        report = ev.compile_report(staff, lot).report
    assert report is not None
    winner = User.objects.get(username="supplier").organization_id
    assert report["candidates"][0]["organization"] == winner
    assert report["candidates"][0]["price"] == "1300000.00"
    assert len(report["candidates"]) == 2  # supplier4 gave no final quote


def test_the_inquiry_and_negotiation_demos_keep_their_legal_periods(seeded):
    for title in (methods_demo.INQUIRY, methods_demo.NEGOTIATION):
        project = Project.objects.get(title=title)
        rules = rules_for(project)
        assert rules.min_documents_to_deadline.days == 3 and rules.min_documents_to_deadline.working
        start = timezone.localtime(project.documents_from).date()
        assert working_days_between(start, timezone.localtime(project.bid_deadline).date()) >= 3
    inquiry = Project.objects.get(title=methods_demo.INQUIRY)
    assert Bid.objects.filter(lot__project=inquiry).count() == 1


def test_the_framework_demo_runs_to_an_agreement_and_a_purchase(seeded):
    project = Project.objects.get(title=methods_demo.FRAMEWORK)
    assert project.method == Project.Method.FRAMEWORK
    lot = project.lots.get()
    draw = DrawRequest.objects.get(project=project)
    seats = draw.drawn.filter(seated=True).select_related("expert__user")
    members = [seat.expert.user for seat in seats if seat.expert.user is not None]
    deadline = project.bid_deadline
    assert deadline is not None
    with time_machine.travel(deadline + dt.timedelta(seconds=5), tick=False):
        run_due()
        for username in methods_demo.FRAMEWORK_PRICES:
            user = User.objects.get(username=username)
            services.decrypt_bid(
                Actor.for_user(user),
                Bid.objects.get(lot=lot, organization=user.organization),
                decryption_code=methods_demo.CODE,
            )
    staff = Actor.for_user(User.objects.get(username="staff"))
    agent = Actor.for_user(User.objects.get(username="agent"))
    with time_machine.travel(draw.evaluation_at, tick=False):
        ev.start_evaluation(staff, lot, draw=draw, scheme="lowest_price", price_weight=Decimal("1"))
        for member in members:
            for bid in Bid.objects.filter(lot=lot):
                ev.score_bid(Actor.for_user(member), bid, compliant=True)
        ev.compile_report(staff, lot)
        for member in members:
            ev.confirm_report(Actor.for_user(member), lot)
        agreement = frameworks.conclude_agreement(
            agent,
            lot,
            valid_until=draw.evaluation_at + dt.timedelta(days=180),
            second_stage_methods=["direct", "rotation", "second_round"],
        )
        # Three compliant unit prices: the dearest is eliminated, the two others admitted.
        assert [str(m.agreed_price) for m in agreement.members.order_by("rank")] == [
            "5150.00",
            "5280.00",
        ]
        call_off = frameworks.place_order(
            agent, agreement, method="rotation", requirement="台式计算机 40 台", quantity=40
        )
    assert str(call_off.amount) == "206000.00"
