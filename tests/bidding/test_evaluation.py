"""Evaluation, candidate publicity, award and contract, with every window travelled."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from accounts.actors import Actor
from audit.models import AuditEvent
from bidding import evaluation as ev
from bidding import services
from bidding.models import Bid, Evaluation, Publicity
from experts import services as experts
from experts.models import DrawnExpert, Expert
from lib.errors import Conflict, DomainError, NotPermitted
from tests.conftest import make_org, make_user
from tests.experts.helpers import pool
from tests.trading.factories import beijing, published, timeline
from trading import services as trading
from trading.exceptions import TooLate
from trading.models import Announcement

pytestmark = pytest.mark.django_db
T0 = beijing("2026-03-02 09:00")
CODE = "my-secret-code-123"


def travel(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def opened(agent, staff, supervisor, supplier, other_supplier):
    """A lot opened with three decrypted bids and a signed-off committee of five linked to users."""
    lots = [
        {
            "name": "施工",
            "estimate": "38000000.00",
            "ceiling_price": "36500000.00",
            "deposit_amount": "0",
        }
    ]
    with travel(T0):
        project = published(
            agent,
            staff,
            start=T0 + dt.timedelta(minutes=1),
            lots=lots,
            **timeline(T0 + dt.timedelta(minutes=1)),
        )
    lot = project.lots.get()
    third = make_user("third", "supplier", make_org("supplier", "丙公司"))
    bidders = [supplier, other_supplier, third]
    with travel(T0 + dt.timedelta(hours=1)):
        for user in bidders:
            trading.register(Actor.for_user(user), lot)
    prices = ["35000000.00", "34800000.00", "36600000.00"]  # the third is above the ceiling
    with travel(T0 + dt.timedelta(days=3)):
        for user, price in zip(bidders, prices, strict=True):
            services.submit_bid(Actor.for_user(user), lot, price=price, decryption_code=CODE)
    pool(staff, count=10)
    evaluation_at = project.bid_deadline + dt.timedelta(hours=2)
    with travel(project.bid_deadline - dt.timedelta(days=1)):
        draw = experts.commit_draw(
            Actor.for_user(staff),
            project,
            evaluation_at=evaluation_at,
            committee_size=5,
            quotas=[{"specialty": "A08", "count": 5}],
            supervisor=supervisor,
        )
        experts.run_draw(Actor.for_user(staff), draw)
        experts.sign_off(Actor.for_user(supervisor), draw)
    members = []
    for i, seat in enumerate(
        DrawnExpert.objects.filter(draw=draw, seated=True).select_related("expert")
    ):
        user = make_user(f"member{i}", "expert", seat.expert.employer)
        Expert.objects.filter(pk=seat.expert_id).update(user=user)
        members.append(user)
    with travel(project.bid_deadline + dt.timedelta(minutes=1)):
        services.open_lot(Actor.system("test"), lot)
        for user in bidders:
            services.decrypt_bid(
                Actor.for_user(user),
                Bid.objects.get(organization=user.organization),
                decryption_code=CODE,
            )
    project.refresh_from_db()
    return {
        "project": project,
        "lot": lot,
        "draw": draw,
        "members": members,
        "bidders": bidders,
        "at": project.bid_deadline + dt.timedelta(hours=2),
    }


def score_all(ctx, points=None, non_compliant=()):
    for member in ctx["members"]:
        for bid in Bid.objects.filter(lot=ctx["lot"], status=Bid.Status.DECRYPTED):
            bad = bid.organization in non_compliant
            ev.score_bid(
                Actor.for_user(member),
                bid,
                compliant=not bad,
                technical_points=None if bad else (points or {}).get(bid.organization.name),
                rejection_reason="未实质性响应工期要求" if bad else "",
            )


def evaluate(ctx, staff, scheme="lowest_price", **kwargs):
    with travel(ctx["at"]):
        ev.start_evaluation(
            Actor.for_user(staff), ctx["lot"], draw=ctx["draw"], scheme=scheme, **kwargs
        )
        score_all(ctx, kwargs.pop("points", None) if False else None)
        report = ev.compile_report(Actor.for_user(staff), ctx["lot"])
        for member in ctx["members"]:
            ev.confirm_report(Actor.for_user(member), ctx["lot"])
    return report


def test_lowest_price_ranks_and_rejects_above_the_ceiling(opened, staff):
    report = evaluate(opened, staff)
    candidates = report.report["candidates"]
    assert [c["price"] for c in candidates] == ["34800000.00", "35000000.00"]
    assert report.report["rejected"][0]["reason"] == "报价高于最高投标限价"
    assert Evaluation.objects.get().status == Evaluation.Status.CONFIRMED


def test_comprehensive_scores_weigh_price_and_technique(opened, staff):
    lot = opened["lot"]
    with travel(opened["at"]):
        ev.start_evaluation(
            Actor.for_user(staff),
            lot,
            draw=opened["draw"],
            scheme="comprehensive",
            price_weight=Decimal("0.400"),
        )
        names = {b.organization.name: b for b in Bid.objects.filter(lot=lot)}
        points = {
            opened["bidders"][0].organization.name: Decimal("95"),
            opened["bidders"][1].organization.name: Decimal("70"),
            opened["bidders"][2].organization.name: Decimal("90"),
        }
        score_all(opened, points)
        report = ev.compile_report(Actor.for_user(staff), lot).report
    first = report["candidates"][0]
    # 35,000,000: price 34.8/35 × 100 × 0.4 = 39.77 + 95 × 0.6 = 57 → 96.77; 34,800,000: 40 + 42 = 82.
    assert first["bidder"] == opened["bidders"][0].organization.name
    assert first["total"] == "96.77"
    assert len(names) == 3


def test_members_see_bids_only_during_evaluation(opened, staff, agent):
    lot = opened["lot"]
    with pytest.raises(NotPermitted):
        ev.visible_bids(Actor.for_user(opened["members"][0]), lot)
    with travel(opened["at"]):
        ev.start_evaluation(Actor.for_user(staff), lot, draw=opened["draw"], scheme="lowest_price")
        assert len(ev.visible_bids(Actor.for_user(opened["members"][0]), lot)) == 3
        with pytest.raises(NotPermitted):
            ev.visible_bids(Actor.for_user(agent), lot)
        score_all(opened)
        ev.compile_report(Actor.for_user(staff), lot)
        with pytest.raises(NotPermitted):
            ev.visible_bids(Actor.for_user(opened["members"][0]), lot)


def test_more_than_a_third_asking_extends_the_time(opened, staff):
    lot = opened["lot"]
    with travel(opened["at"]):
        evaluation = ev.start_evaluation(
            Actor.for_user(staff), lot, draw=opened["draw"], scheme="lowest_price"
        )
        due = evaluation.due_at
        ev.request_more_time(Actor.for_user(opened["members"][0]), lot)
        assert Evaluation.objects.get().due_at == due  # 1 of 5 is not more than a third
        ev.request_more_time(Actor.for_user(opened["members"][1]), lot)
    assert Evaluation.objects.get().due_at == due + dt.timedelta(hours=4)
    with travel(due + dt.timedelta(hours=1)):
        score_all(opened)  # still allowed: the time was extended


def test_a_dissent_is_recorded_with_the_signature(opened, staff):
    lot = opened["lot"]
    with travel(opened["at"]):
        ev.start_evaluation(Actor.for_user(staff), lot, draw=opened["draw"], scheme="lowest_price")
        score_all(opened)
        ev.compile_report(Actor.for_user(staff), lot)
        ev.confirm_report(
            Actor.for_user(opened["members"][0]), lot, dissent="第二名工期偏长，保留意见"
        )
        assert Evaluation.objects.get().status == Evaluation.Status.REPORTED
        for member in opened["members"][1:]:
            ev.confirm_report(Actor.for_user(member), lot)
    assert AuditEvent.objects.filter(
        action="bidding.evaluation.signed", payload__dissent__startswith="第二名"
    ).exists()


def test_publicity_objection_award_and_contract(opened, staff, agent):
    lot = opened["lot"]
    evaluate(opened, staff)
    with travel(opened["at"] + dt.timedelta(hours=1)):
        publicity = ev.publish_candidates(Actor.for_user(agent), lot)
    assert publicity.ends_at == opened["at"] + dt.timedelta(hours=1, days=3)
    assert Announcement.objects.filter(project=opened["project"], kind="candidates").exists()
    loser = opened["bidders"][0]
    with travel(publicity.ends_at - dt.timedelta(hours=1)):
        objection = ev.object_to_candidates(Actor.for_user(loser), publicity, text="第一名业绩造假")
        with pytest.raises(TooLate):
            ev.issue_award(Actor.for_user(agent), lot)
    with travel(publicity.ends_at + dt.timedelta(minutes=1)):
        with pytest.raises(Conflict):
            ev.issue_award(Actor.for_user(agent), lot)  # suspended while the objection is open
        with pytest.raises(TooLate):
            ev.object_to_candidates(Actor.for_user(loser), publicity, text="再次异议")
    replied = publicity.ends_at + dt.timedelta(days=1)
    with travel(replied):
        ev.reply_candidate_objection(Actor.for_user(agent), objection, reply="经核查，业绩真实。")
    publicity.refresh_from_db()
    assert publicity.ends_at == opened["at"] + dt.timedelta(hours=1, days=3) + (
        replied - objection.raised_at
    )
    with travel(publicity.ends_at):
        awarded = ev.issue_award(Actor.for_user(agent), lot)
    assert awarded.winner == opened["bidders"][1].organization
    assert awarded.contract_due_at == publicity.ends_at + dt.timedelta(days=30)
    # An engineering result names no expert (only GP's does: GP 条例 Art.43).
    result = Announcement.objects.get(project=opened["project"], kind="result").versions.get()
    assert "评审专家" not in result.body
    with travel(publicity.ends_at + dt.timedelta(days=10)):
        ev.record_contract(Actor.for_user(agent), lot)
    assert Publicity.objects.get().status == Publicity.Status.CONTRACTED


def test_a_refusing_winner_makes_way_for_the_next_candidate(opened, staff, agent):
    lot = opened["lot"]
    evaluate(opened, staff)
    with travel(opened["at"]):
        publicity = ev.publish_candidates(Actor.for_user(agent), lot)
    with travel(publicity.ends_at):
        ev.issue_award(Actor.for_user(agent), lot)
        ev.record_refusal(Actor.for_user(agent), lot, reason="中标人书面放弃中标")
        second = ev.issue_award(Actor.for_user(agent), lot)
    assert second.winner == opened["bidders"][0].organization
    assert (
        AuditEvent.objects.get(action="bidding.award.refused").payload["deposit_forfeitable"]
        is True
    )


def test_only_the_committee_scores(opened, staff, agent, supplier):
    lot = opened["lot"]
    with travel(opened["at"]):
        ev.start_evaluation(Actor.for_user(staff), lot, draw=opened["draw"], scheme="lowest_price")
        bid = Bid.objects.filter(lot=lot).first()
        for user in (agent, supplier, staff):
            with pytest.raises(NotPermitted):
                ev.score_bid(Actor.for_user(user), bid, compliant=True)
        with pytest.raises(DomainError):
            ev.score_bid(
                Actor.for_user(opened["members"][0]), bid, compliant=False
            )  # a rejection needs a reason
