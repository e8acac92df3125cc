"""The demo pool and its supervised draw: idempotent, unsteered, verifiable, with exclusions to show."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from audit.models import AuditEvent
from experts.demo import EXPERTS, TENDER
from experts.models import DrawExclusion, DrawnExpert, DrawRequest, Expert, Specialty

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_the_demo_seeds_a_pool_and_a_signed_off_draw_once(capsys):
    first = seed()
    counts = (
        Expert.objects.count(),
        DrawRequest.objects.count(),
        DrawnExpert.objects.count(),
        AuditEvent.objects.filter(action__startswith="experts.").count(),
    )
    second = seed()
    assert counts == (
        Expert.objects.count(),
        DrawRequest.objects.count(),
        DrawnExpert.objects.count(),
        AuditEvent.objects.filter(action__startswith="experts.").count(),
    )
    assert "experts:" in first and "experts:" in second
    assert set(Specialty.objects.values_list("code", flat=True)) >= {
        "A08",
        "A0801",
        "A0802",
        "C01",
        "B02",
    }
    names = [row[0] for row in EXPERTS]
    assert Expert.objects.filter(name__in=names).count() == len(EXPERTS)

    # Other apps' demos may draw committees of their own; this one is for the demo tender.
    draw = DrawRequest.objects.get(project__title=TENDER)
    assert draw.status == "signed_off" and draw.supervisor.username == "supervisor"
    assert draw.requested_by.username == "staff"
    call_command("verify_draw", str(draw.pk))
    assert "OK" in capsys.readouterr().out

    reasons = {e.expert.name: e.reasons for e in DrawExclusion.objects.filter(draw=draw)}
    assert reasons["冯建业"] == ["OWNER_OR_AGENT_STAFF"]
    assert reasons["邓海波"] == ["REGULATOR_STAFF"]
    assert reasons["曹永安"] == ["NOT_ACTIVE"]
    assert reasons["彭志远"] == ["REGION"]


def test_the_demo_expert_login_holds_a_seat_of_the_unsteered_draw():
    seed()
    user = User.objects.get(username="expert")
    linked = Expert.objects.get(user=user)
    draw = DrawRequest.objects.get(project__title=TENDER)
    seat = DrawnExpert.objects.get(draw=draw, expert=linked)
    # The link was made after the draw, to its first seated member: the draw itself is untouched.
    first = DrawnExpert.objects.filter(draw=draw, seated=True).order_by("quota", "position").first()
    assert seat == first and seat.response == "pending"
    link_event = AuditEvent.objects.get(action="experts.expert.user_linked")
    drawn_event = AuditEvent.objects.get(
        action="experts.draw.drawn", object_type="experts.drawrequest", object_id=str(draw.pk)
    )
    assert link_event.seq > drawn_event.seq
    client = Client()
    client.force_login(user)
    page = client.get("/experts/tasks/").content.decode()
    assert TENDER in page and 'data-testid="confirm"' in page
