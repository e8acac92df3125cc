"""The result of a signed evaluation report must be published in time: 3 days in an engineering tender
(条例 Art.54), 5 + 2 working days in government procurement (87号令 Art.68; GP 条例 Art.43). The agent's
to-do list carries the deadline, and a late publication says so in the audit chain."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.actors import Actor
from audit.models import AuditEvent
from bidding import evaluation as ev
from bidding.models import Bid, Evaluation
from notifications.todo import items_for
from tests.bidding.test_evaluation import evaluate, opened  # noqa: F401 (the fixture)
from tests.bidding.test_negotiation import AT, negotiated, score_everyone, seat_panel
from tests.trading.factories import beijing

pytestmark = pytest.mark.django_db


def travel(moment):
    return time_machine.travel(moment, tick=False)


def publish_item(agent, now):
    return [i for i in items_for(agent, now) if i.key.startswith("publicity.publish:")]


def test_an_engineering_result_is_due_three_days_after_the_report(opened, staff, agent):  # noqa: F811
    evaluate(opened, staff)
    confirmed = Evaluation.objects.get().confirmed_at
    assert confirmed is not None
    (item,) = publish_item(agent, confirmed + dt.timedelta(hours=1))
    assert item.due_at == confirmed + dt.timedelta(days=3) and item.legal
    with travel(confirmed + dt.timedelta(days=3, minutes=1)):
        ev.publish_candidates(Actor.for_user(agent), opened["lot"])
    payload = AuditEvent.objects.get(action="bidding.publicity.published").payload
    assert payload["late"] is True
    assert not publish_item(agent, confirmed + dt.timedelta(days=4))


def test_a_gp_result_is_due_seven_working_days_after_the_report(agent, staff, supervisor):
    world = negotiated(agent, staff, supervisor, "inquiry", ["900000", "880000", "910000"])
    seat_panel(world, staff)
    with travel(AT + dt.timedelta(minutes=30)):
        score_everyone(world)
        ev.compile_report(Actor.for_user(staff), world["lot"])
        for member in world["members"]:
            ev.confirm_report(Actor.for_user(member), world["lot"])
    confirmed = Evaluation.objects.get().confirmed_at
    assert confirmed == AT + dt.timedelta(minutes=30)  # Thursday 12 March 2026, 11:30
    (item,) = publish_item(agent, confirmed)
    # 5 working days for the purchaser + 2 for the notice = Monday 23 March, same time.
    assert item.due_at == beijing("2026-03-23 11:30")
    with travel(item.due_at):
        ev.publish_candidates(Actor.for_user(agent), world["lot"])
    assert AuditEvent.objects.get(action="bidding.publicity.published").payload["late"] is False
    assert Bid.objects.filter(lot=world["lot"]).count() == 3
