"""A GP result notice names the evaluation panel (GP 条例 Art.43), and the draw's names are disclosed
with it; an engineering result notice names nobody."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.actors import Actor
from bidding import evaluation as ev
from experts.models import DrawRequest, Expert
from tests.bidding.test_negotiation import AT, negotiated, score_everyone, seat_panel, travel
from trading.models import Announcement

pytestmark = pytest.mark.django_db


def test_the_gp_result_notice_lists_the_panel_and_discloses_the_draw(agent, staff, supervisor):
    world = negotiated(agent, staff, supervisor, "inquiry", ["900000", "880000", "910000"])
    seat_panel(world, staff)
    lot = world["lot"]
    with travel(AT + dt.timedelta(minutes=30)):
        score_everyone(world)
        ev.compile_report(Actor.for_user(staff), lot)
        for member in world["members"]:
            ev.confirm_report(Actor.for_user(member), lot)
        publicity = ev.publish_candidates(Actor.for_user(agent), lot)
    draw = DrawRequest.objects.get(project=world["project"])
    assert draw.disclosed_at is None  # not before the result is fixed
    candidates = Announcement.objects.get(project=world["project"], kind="candidates")
    names = [Expert.objects.get(user=member).name for member in world["members"]]
    assert not any(name in candidates.versions.get().body for name in names)
    with travel(publicity.ends_at):
        ev.issue_award(Actor.for_user(agent), lot)
    result = Announcement.objects.get(project=world["project"], kind="result").versions.get()
    assert "评审专家：" in result.body
    assert all(name in result.body for name in names)
    assert sorted(result.content["experts"]) == sorted(names)
    draw.refresh_from_db()
    assert draw.disclosed_at == publicity.ends_at
