"""竞争性谈判 and 竞争性磋商 after the opening: rounds whose changes reach every supplier still in,
suppliers put out, one sealed final quote each, opened by the clock at the call's end, and the panel
judging by the final quotes (lowest price; comprehensive scoring for 磋商)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from accounts.actors import Actor
from audit.models import AuditEvent
from bidding import evaluation as ev
from bidding import negotiation, services
from bidding.models import Bid, FinalQuote, FinalQuoteCall
from clock.services import run_due
from experts import services as experts
from experts.models import DrawnExpert, Expert
from lib.errors import Conflict, DomainError, NotPermitted
from notifications.models import Notice
from tests.conftest import make_org, make_user
from tests.experts.helpers import pool
from tests.trading.factories import beijing, published
from trading import services as trading
from trading.exceptions import TooLate

pytestmark = pytest.mark.django_db
CODE = "my-secret-code-123"
START = beijing("2026-03-02 09:00")
DEADLINE = beijing("2026-03-12 09:00")
AT = DEADLINE + dt.timedelta(hours=2)  # the panel sits


def travel(moment):
    return time_machine.travel(moment, tick=False)


def negotiated(
    agent, staff, supervisor, method: str, prices: list[str], *, deadline=DEADLINE, **extra
):
    """A GP lot of `method` whose first responses are opened, with its panel drawn (five experts)
    to sit two hours after the `deadline`."""
    with travel(START - dt.timedelta(hours=1)):
        project = published(
            agent,
            staff,
            kind="gp",
            category="goods",
            method=method,
            lots=[
                {
                    "name": "设备",
                    "estimate": "1000000",
                    "ceiling_price": "950000",
                    "deposit_amount": "0",
                }
            ],
            documents_from=START,
            documents_until=deadline,
            questions_until=deadline - dt.timedelta(days=1),
            bid_deadline=deadline,
            **extra,
        )
    lot = project.lots.get()
    suppliers = [
        make_user(f"neg-{i}", "supplier", make_org("supplier", f"谈判供应商{i}"))
        for i in range(len(prices))
    ]
    with travel(START + dt.timedelta(hours=1)):
        for user, price in zip(suppliers, prices, strict=True):
            trading.register(Actor.for_user(user), lot)
            services.submit_bid(Actor.for_user(user), lot, price=price, decryption_code=CODE)
    pool(staff, count=10)
    with travel(deadline - dt.timedelta(days=1)):
        draw = experts.commit_draw(
            Actor.for_user(staff),
            project,
            evaluation_at=deadline + (AT - DEADLINE),
            committee_size=5,
            quotas=[{"specialty": "A08", "count": 5}],
            supervisor=supervisor,
        )
        experts.run_draw(Actor.for_user(staff), draw)
        experts.sign_off(Actor.for_user(supervisor), draw)
    members = []
    for i, seat in enumerate(DrawnExpert.objects.filter(draw=draw, seated=True)):
        employer = seat.expert.employer
        assert employer is not None
        user = make_user(f"panel{i}", "expert", employer)
        Expert.objects.filter(pk=seat.expert_id).update(user=user)
        members.append(user)
    with travel(deadline + dt.timedelta(minutes=1)):
        services.open_lot(Actor.system("test"), lot)
        for user in suppliers:
            services.decrypt_bid(
                Actor.for_user(user),
                Bid.objects.get(organization=user.organization),
                decryption_code=CODE,
            )
    return {
        "project": project,
        "lot": lot,
        "draw": draw,
        "members": members,
        "suppliers": suppliers,
    }


def seat_panel(world, staff, scheme="lowest_price", weight="1", at=AT):
    with travel(at):
        ev.start_evaluation(
            Actor.for_user(staff),
            world["lot"],
            draw=world["draw"],
            scheme=scheme,
            price_weight=Decimal(weight),
        )


def score_everyone(world, points=None):
    for member in world["members"]:
        for bid in Bid.objects.filter(lot=world["lot"], status=Bid.Status.DECRYPTED):
            ev.score_bid(
                Actor.for_user(member),
                bid,
                compliant=True,
                technical_points=(points or {}).get(bid.organization.name),
            )


@pytest.fixture
def world(agent, staff, supervisor):
    return negotiated(
        agent, staff, supervisor, "negotiation", ["900000", "880000", "910000", "930000"]
    )


def test_a_round_reaches_every_supplier_still_in_and_puts_the_non_compliant_out(world, staff):
    seat_panel(world, staff)
    lot, (a, b, c, d) = world["lot"], world["suppliers"]
    with travel(AT + dt.timedelta(minutes=30)):
        first = negotiation.publish_round(
            Actor.for_user(staff),
            lot,
            changes="交货期由 30 日调整为 45 日；付款方式改为验收后一次付清。",
            excluded=[d.organization_id],
        )
    assert first.number == 1
    assert negotiation.still_in(lot) == sorted(u.organization_id for u in (a, b, c))
    for user in (a, b, c):
        assert Notice.objects.filter(recipient=user, kind="negotiation.round").exists()
    assert not Notice.objects.filter(recipient=d, kind="negotiation.round").exists()
    assert Notice.objects.filter(recipient=d, kind="negotiation.excluded").exists()
    with travel(AT + dt.timedelta(minutes=40)):
        with pytest.raises(DomainError) as stranger:
            negotiation.publish_round(Actor.for_user(staff), lot, excluded=[d.organization_id])
        assert stranger.value.code == "NOT_IN_NEGOTIATION"
        with pytest.raises(NotPermitted):
            negotiation.publish_round(Actor.for_user(a), lot, changes="我方希望放宽交货期")


def test_no_round_before_the_panel_sits(world, staff):
    with travel(AT - dt.timedelta(minutes=30)), pytest.raises(Conflict) as early:
        negotiation.publish_round(Actor.for_user(staff), world["lot"], changes="变动")
    assert early.value.code == "WRONG_STATUS"


def test_final_quotes_are_sealed_once_each_opened_at_the_end_and_decide_the_ranking(world, staff):
    seat_panel(world, staff)
    lot, (a, b, c, d) = world["lot"], world["suppliers"]
    closes = AT + dt.timedelta(hours=1)
    with travel(AT + dt.timedelta(minutes=20)):
        negotiation.publish_round(Actor.for_user(staff), lot, excluded=[d.organization_id])
        negotiation.call_final_quotes(Actor.for_user(staff), lot, closes_at=closes)
        with pytest.raises(Conflict) as closed:
            negotiation.publish_round(Actor.for_user(staff), lot, changes="再谈一轮")
        assert closed.value.code == "NEGOTIATION_CLOSED"
    with travel(AT + dt.timedelta(minutes=30)):
        negotiation.submit_final_quote(Actor.for_user(a), lot, price="860000")
        negotiation.submit_final_quote(Actor.for_user(b), lot, price="870000.00")
        with pytest.raises(Conflict) as twice:
            negotiation.submit_final_quote(Actor.for_user(a), lot, price="850000")
        assert twice.value.code == "FINAL_QUOTE_FIXED"
        with pytest.raises(NotPermitted):
            negotiation.submit_final_quote(Actor.for_user(d), lot, price="800000")
        with pytest.raises(DomainError) as bad:
            negotiation.submit_final_quote(Actor.for_user(c), lot, price="8.6e5")
        assert bad.value.code.startswith("AMOUNT")
    # Sealed: no price in the database, the audit chain or a receipt before the end.
    assert not FinalQuote.objects.filter(price__isnull=False).exists()
    assert "860000" not in str(
        list(AuditEvent.objects.filter(action__startswith="bidding.final_quote").values("payload"))
    )
    with travel(closes - dt.timedelta(seconds=1)), pytest.raises(TooLate):
        negotiation.open_final_quotes(Actor.system("test"), lot)
    with travel(closes):
        with pytest.raises(TooLate):
            negotiation.submit_final_quote(Actor.for_user(c), lot, price="800000")
        run_due()  # the clock opens them
    call = FinalQuoteCall.objects.get(lot=lot)
    assert call.opened_at == closes
    assert {q.organization_id: q.price for q in call.quotes.all()} == {
        a.organization_id: Decimal("860000.00"),
        b.organization_id: Decimal("870000.00"),
    }
    opened = AuditEvent.objects.get(action="bidding.final_quotes.opened").payload
    assert opened["missing"] == [c.organization_id]

    with travel(closes + dt.timedelta(minutes=5)):
        score_everyone(world)
        report = ev.compile_report(Actor.for_user(staff), lot).report
    assert report is not None
    # Judged by the final quotes: B's first response (880,000) was lower than A's (900,000), but A's
    # final quote is the lowest. C gave none and D was put out: neither is a candidate.
    assert [row["organization"] for row in report["candidates"]] == [
        a.organization_id,
        b.organization_id,
    ]
    assert [row["price"] for row in report["candidates"]] == ["860000.00", "870000.00"]
    out = {row["reason"] for row in report["rejected"]}
    assert out == {"未进入或未提交最后报价"}


def test_the_report_waits_for_the_final_quotes(world, staff):
    seat_panel(world, staff)
    with travel(AT + dt.timedelta(minutes=10)):
        score_everyone(world)
        with pytest.raises(Conflict) as pending:
            ev.compile_report(Actor.for_user(staff), world["lot"])
    assert pending.value.code == "FINAL_QUOTES_PENDING"


def test_too_few_suppliers_left_cannot_go_to_the_final_quote(world, staff):
    seat_panel(world, staff)
    lot, (a, b, _c, _d) = world["lot"], world["suppliers"]
    with travel(AT + dt.timedelta(minutes=20)):
        negotiation.publish_round(
            Actor.for_user(staff), lot, excluded=[a.organization_id, b.organization_id]
        )
        with pytest.raises(Conflict) as few:
            negotiation.call_final_quotes(
                Actor.for_user(staff), lot, closes_at=AT + dt.timedelta(hours=1)
            )
    assert few.value.code == "TOO_FEW_SUPPLIERS"


def test_a_consultation_scores_the_final_quotes_with_its_price_weight(agent, staff, supervisor):
    world = negotiated(agent, staff, supervisor, "consultation", ["900000", "880000", "910000"])
    seat_panel(world, staff, scheme="comprehensive", weight="0.30")
    lot, (a, b, c) = world["lot"], world["suppliers"]
    closes = AT + dt.timedelta(hours=1)
    with travel(AT + dt.timedelta(minutes=20)):
        negotiation.call_final_quotes(Actor.for_user(staff), lot, closes_at=closes)
        for user, price in ((a, "800000"), (b, "880000"), (c, "900000")):
            negotiation.submit_final_quote(Actor.for_user(user), lot, price=price)
    with travel(closes):
        run_due()
        score_everyone(
            world,
            {
                a.organization.name: Decimal("60"),
                b.organization.name: Decimal("90"),
                c.organization.name: Decimal("70"),
            },
        )
        report = ev.compile_report(Actor.for_user(staff), lot).report
    assert report is not None
    totals = {row["organization"]: Decimal(row["total"]) for row in report["candidates"]}
    # Price score = lowest final quote / own × 100, weighted 30 %; technical 70 % (214号 Art.24).
    assert totals[a.organization_id] == Decimal("72.00")  # 100 × .3 + 60 × .7
    assert totals[b.organization_id] == Decimal("90.27")  # 90.909… × .3 + 90 × .7
    assert report["candidates"][0]["organization"] == b.organization_id


def test_rounds_belong_to_negotiation_and_consultation_only(agent, staff, supervisor):
    world = negotiated(agent, staff, supervisor, "inquiry", ["900000", "880000", "910000"])
    seat_panel(world, staff)
    with travel(AT + dt.timedelta(minutes=20)), pytest.raises(Conflict) as refused:
        negotiation.publish_round(Actor.for_user(staff), world["lot"], changes="变动")
    assert refused.value.code == "NOT_NEGOTIATED"


def test_a_final_quote_call_cannot_run_for_more_than_a_week(world, staff):
    seat_panel(world, staff)
    with travel(AT), pytest.raises(DomainError) as far:
        negotiation.call_final_quotes(
            Actor.for_user(staff), world["lot"], closes_at=AT + dt.timedelta(days=7, minutes=1)
        )
    assert far.value.code == "DUE_AT_INVALID"
