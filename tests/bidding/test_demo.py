"""The bidding demo: seeded twice it adds nothing, and its tender really goes from sealed bids through the
opening to a committee ready to evaluate — with the printed decryption code."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import User
from audit.models import AuditEvent
from audit.services import verify_chain
from bidding import demo, services
from bidding import evaluation as ev
from bidding.models import Bid, Opening
from clock.services import run_due
from experts.models import DrawnExpert, DrawRequest
from trading.models import Project

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
