"""A complaint about the evaluation result: the candidate publicity and the award wait for the
regulator, and the publicity gets back the time the project stood still."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.actors import Actor
from audit.models import AuditEvent
from bidding import evaluation as ev
from bidding.models import Publicity
from complaints import services
from complaints.models import Complaint
from lib.errors import NotPermitted
from tests.bidding.test_evaluation import evaluate, opened  # noqa: F401 (the fixture)
from trading.exceptions import Suspended, TooLate

pytestmark = pytest.mark.django_db


def travel(moment):
    return time_machine.travel(moment, tick=False)


def test_a_suspended_publicity_runs_on_for_the_time_it_stood_and_the_award_waits(
    opened,  # noqa: F811
    staff,
    agent,
    supervisor,
):
    lot, loser = opened["lot"], opened["bidders"][0]
    evaluate(opened, staff)
    with travel(opened["at"] + dt.timedelta(hours=1)):
        publicity = ev.publish_candidates(Actor.for_user(agent), lot)
    first_end = publicity.ends_at
    with travel(first_end - dt.timedelta(days=2)):
        objection = ev.object_to_candidates(Actor.for_user(loser), publicity, text="第一名业绩造假")
    answered = first_end - dt.timedelta(days=1)
    with travel(answered):
        ev.reply_candidate_objection(Actor.for_user(agent), objection, reply="业绩真实。")
    publicity.refresh_from_db()
    after_objection = publicity.ends_at  # the objection's own standstill given back (条例 Art.54)

    filed = answered + dt.timedelta(hours=2)
    with travel(filed):
        complaint = services.file_complaint(
            Actor.for_user(loser),
            opened["project"],
            subject=Complaint.Subject.RESULT,
            facts="中标候选人提供的业绩合同系伪造。",
            claims="认定中标候选人资格无效。",
            publicity_objection=objection,
        )
        assert complaint.subject == Complaint.Subject.RESULT and complaint.lot == lot
        services.accept_complaint(Actor.for_user(supervisor), complaint)
        services.suspend_procurement(
            Actor.for_user(supervisor), complaint, reason="核查业绩", days=10
        )
    with travel(after_objection + dt.timedelta(minutes=1)), pytest.raises(Suspended):
        ev.issue_award(Actor.for_user(agent), lot)

    lifted = filed + dt.timedelta(days=4)
    with travel(lifted):
        services.answer_request(
            Actor.for_user(agent), complaint.requests.get(), answer="业绩合同经核实。"
        )
        services.decide_complaint(
            Actor.for_user(supervisor),
            complaint,
            outcome="dismissed",
            remedy="",
            decision="经核查，业绩合同真实，投诉不成立。",
        )
    publicity.refresh_from_db()
    assert publicity.ends_at == after_objection + (lifted - filed)
    with travel(publicity.ends_at - dt.timedelta(minutes=1)), pytest.raises(TooLate) as early:
        ev.issue_award(Actor.for_user(agent), lot)
    assert early.value.code == "PUBLICITY_RUNNING"
    with travel(publicity.ends_at):
        assert ev.issue_award(Actor.for_user(agent), lot).status == Publicity.Status.AWARDED


def test_an_upheld_complaint_voids_the_award_and_the_next_candidate_may_be_awarded(
    opened,  # noqa: F811
    staff,
    agent,
    supervisor,
):
    lot, loser = opened["lot"], opened["bidders"][0]
    evaluate(opened, staff)
    with travel(opened["at"] + dt.timedelta(hours=1)):
        publicity = ev.publish_candidates(Actor.for_user(agent), lot)
    with travel(publicity.ends_at - dt.timedelta(days=1)):
        objection = ev.object_to_candidates(Actor.for_user(loser), publicity, text="业绩造假")
    with travel(publicity.ends_at):
        ev.reply_candidate_objection(Actor.for_user(agent), objection, reply="业绩真实。")
    publicity.refresh_from_db()
    with travel(publicity.ends_at):
        awarded = ev.issue_award(Actor.for_user(agent), lot)
        winner = awarded.winner_id
        complaint = services.file_complaint(
            Actor.for_user(loser),
            opened["project"],
            subject=Complaint.Subject.RESULT,
            facts="中标人业绩合同系伪造。",
            claims="认定中标无效。",
            publicity_objection=objection,
        )
        services.accept_complaint(Actor.for_user(supervisor), complaint)
        services.answer_request(Actor.for_user(agent), complaint.requests.get(), answer="无异议")
        with pytest.raises(NotPermitted):
            ev.annul_award(Actor.for_user(agent), lot, reason="自行认定", source="x")
        services.decide_complaint(
            Actor.for_user(supervisor),
            complaint,
            outcome="upheld",
            remedy="annul_award",
            decision="经核查，中标人提供的业绩合同系伪造，中标无效。",
        )
    publicity.refresh_from_db()
    assert publicity.status == Publicity.Status.PUBLIC and publicity.winner is None
    assert publicity.refused == [winner]
    event = AuditEvent.objects.get(action="bidding.award.annulled")
    assert event.payload["source"] == complaint.source
    assert event.payload["deposit_forfeitable"] is False
    with travel(publicity.ends_at + dt.timedelta(hours=1)):
        again = ev.issue_award(Actor.for_user(agent), lot)
    assert again.winner_id not in (None, winner)
