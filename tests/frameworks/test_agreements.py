"""框架协议采购 (财政部令第110号): the solicitation admits the best compliant responses (at least 20 %
and one eliminated, none above the 最高限制单价), and purchases under the agreement go by 直接选定,
顺序轮候 or 二次竞价, never above a member's agreed price."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from accounts import services as accounts
from accounts.actors import Actor
from audit.models import AuditEvent
from bidding import evaluation as ev
from clock.services import run_due
from frameworks import rules, services
from frameworks.models import CallOff, Member, Quote
from lib.errors import Conflict, DomainError, NotPermitted
from notifications.models import Notice
from tests.conftest import make_org, make_user
from tests.frameworks.world import (
    CONCLUDED,
    agreement_of,
    concluded,
    member_user,
    money,
    solicited,
)
from tests.trading.factories import beijing, draft
from tests.trading.test_gp_methods import gp, submit
from trading.exceptions import ScheduleError, TooLate
from trading.models import Announcement

pytestmark = pytest.mark.django_db


def travel(moment: dt.datetime):
    return time_machine.travel(moment, tick=False)


@pytest.mark.parametrize(
    ("compliant", "limit", "admitted"),
    [
        (0, None, 0),
        (1, None, 0),
        (2, None, 1),
        (5, None, 4),
        (6, None, 4),
        (10, None, 8),
        (11, None, 8),
        (10, 5, 5),
        (10, 9, 8),
    ],
)
def test_at_least_a_fifth_and_at_least_one_are_eliminated(compliant, limit, admitted):
    assert rules.admitted_count(compliant, limit) == admitted


def test_the_solicitation_admits_the_lowest_compliant_prices_and_publishes_them(
    agent, staff, supervisor
):
    world = concluded(agent, staff, supervisor)
    agreement = agreement_of(world)
    members = list(Member.objects.filter(agreement=agreement).order_by("rank"))
    # Five compliant responses: one (the dearest, 940,000) is eliminated, four are admitted in price
    # order at their own prices, under the cap of 950,000.
    assert [(m.organization_id, m.agreed_price) for m in members] == [
        (member_user(world, p).organization_id, money(p))
        for p in ["880000", "900000", "910000", "930000"]
    ]
    assert agreement.max_unit_price == money("950000")
    assert agreement.admission == "price_priority"
    assert agreement.responses == 5
    notice = Announcement.objects.get(project=world["project"], kind=Announcement.Kind.RESULT)
    body = notice.versions.get().body
    assert "入围 4 家" in body and "880,000.00" in body.replace("880000.00", "880,000.00")
    eliminated = member_user(world, "940000")
    assert Notice.objects.filter(recipient=eliminated, kind="framework.not_admitted").exists()
    assert Notice.objects.filter(
        recipient=member_user(world, "880000"), kind="framework.admitted"
    ).exists()
    event = AuditEvent.objects.get(action="frameworks.agreement.concluded")
    assert event.payload["eliminated"] == [eliminated.organization_id]


def test_a_framework_has_no_candidate_publicity_and_is_concluded_once(agent, staff, supervisor):
    world = solicited(agent, staff, supervisor)
    with travel(CONCLUDED):
        with pytest.raises(Conflict) as publicity:
            ev.publish_candidates(Actor.for_user(agent), world["lot"])
        assert publicity.value.code == "FRAMEWORK_ADMISSION"
        services.conclude_agreement(
            Actor.for_user(agent),
            world["lot"],
            valid_until=CONCLUDED + dt.timedelta(days=30),
            second_stage_methods=["direct"],
        )
        with pytest.raises(Conflict) as again:
            services.conclude_agreement(
                Actor.for_user(agent),
                world["lot"],
                valid_until=CONCLUDED + dt.timedelta(days=30),
                second_stage_methods=["direct"],
            )
        assert again.value.code == "ALREADY_CONCLUDED"


def test_the_term_and_the_methods_are_checked(agent, staff, supervisor):
    world = solicited(agent, staff, supervisor)
    with travel(CONCLUDED):
        # Goods: one year at most.
        with pytest.raises(DomainError) as long:
            services.conclude_agreement(
                Actor.for_user(agent),
                world["lot"],
                valid_until=CONCLUDED + dt.timedelta(days=365, minutes=1),
                second_stage_methods=["direct"],
            )
        assert long.value.code == "TERM_TOO_LONG"
        for methods in ([], ["auction"]):
            with pytest.raises(DomainError) as bad:
                services.conclude_agreement(
                    Actor.for_user(agent),
                    world["lot"],
                    valid_until=CONCLUDED + dt.timedelta(days=365),
                    second_stage_methods=methods,
                )
            assert bad.value.code == "SECOND_STAGE_METHODS_INVALID"
        with pytest.raises(NotPermitted):
            services.conclude_agreement(
                Actor.for_user(member_user(world, "880000")),
                world["lot"],
                valid_until=CONCLUDED + dt.timedelta(days=365),
                second_stage_methods=["direct"],
            )
        services.conclude_agreement(
            Actor.for_user(agent),
            world["lot"],
            valid_until=CONCLUDED + dt.timedelta(days=365),
            second_stage_methods=["direct"],
            member_limit="2",
        )
    assert Member.objects.count() == 2


def test_two_compliant_responses_admit_one_and_one_is_too_few(agent, staff, supervisor):
    world = solicited(
        agent,
        staff,
        supervisor,
        prices=["900000", "880000", "910000"],
        non_compliant=("880000", "910000"),
    )
    with travel(CONCLUDED), pytest.raises(Conflict) as few:
        services.conclude_agreement(
            Actor.for_user(agent),
            world["lot"],
            valid_until=CONCLUDED + dt.timedelta(days=30),
            second_stage_methods=["direct"],
        )
    assert few.value.code == "TOO_FEW_COMPLIANT"
    assert not Member.objects.exists()


def test_two_compliant_responses_admit_the_cheaper(agent, staff, supervisor):
    world = concluded(
        agent, staff, supervisor, prices=["900000", "880000", "910000"], non_compliant=("910000",)
    )
    (member,) = Member.objects.filter(agreement=world["agreement"])
    assert (member.organization_id, member.agreed_price) == (
        world["suppliers"][1].organization_id,
        money("880000"),
    )


def test_direct_selection_is_capped_at_the_members_agreed_price(agent, staff, supervisor):
    world = concluded(agent, staff, supervisor)
    agreement = agreement_of(world)
    chosen = member_user(world, "910000")
    at = CONCLUDED + dt.timedelta(days=1)
    with travel(at):
        with pytest.raises(DomainError) as over:
            services.place_order(
                Actor.for_user(agent),
                agreement,
                method="direct",
                requirement="台式计算机 20 台",
                quantity=20,
                supplier=chosen.organization_id,
                unit_price="910000.01",
            )
        assert over.value.code == "PRICE_OVER_AGREEMENT"
        outsider = make_org("supplier", "未入围公司")
        with pytest.raises(DomainError) as stranger:
            services.place_order(
                Actor.for_user(agent),
                agreement,
                method="direct",
                requirement="台式计算机 20 台",
                quantity=20,
                supplier=outsider.pk,
            )
        assert stranger.value.code == "NOT_A_MEMBER"
        with pytest.raises(NotPermitted):
            services.place_order(
                Actor.for_user(chosen),
                agreement,
                method="direct",
                requirement="台式计算机 20 台",
                quantity=20,
                supplier=chosen.organization_id,
            )
        call_off = services.place_order(
            Actor.for_user(agent),
            agreement,
            method="direct",
            requirement="台式计算机 20 台",
            quantity="20",
            supplier=str(chosen.organization_id),
            unit_price="905000.50",
        )
    call_off.refresh_from_db()
    assert call_off.status == CallOff.Status.AWARDED
    assert call_off.supplier_id == chosen.organization_id
    assert call_off.amount == Decimal("18100010.00")
    assert call_off.awarded_at == at
    deal = Announcement.objects.get(project=world["project"], kind=Announcement.Kind.DEAL)
    assert "第1笔（直接选定）" in deal.versions.get().body
    assert Notice.objects.filter(recipient=chosen, kind="framework.awarded").exists()


def test_rotation_goes_round_the_members_in_order_and_skips_a_barred_one(agent, staff, supervisor):
    world = concluded(agent, staff, supervisor)
    agreement = agreement_of(world)
    order = [member_user(world, p) for p in ["880000", "900000", "910000", "930000"]]

    def rotate(at):
        with travel(at):
            return services.place_order(
                Actor.for_user(agent),
                agreement,
                method="rotation",
                requirement="物业服务",
                quantity=1,
                unit_price="1",  # ignored: a rotation pays the agreed price
            )

    day = CONCLUDED + dt.timedelta(days=1)
    first, second = rotate(day), rotate(day + dt.timedelta(minutes=1))
    assert [first.supplier_id, second.supplier_id] == [
        order[0].organization_id,
        order[1].organization_id,
    ]
    assert first.unit_price == money("880000")
    with travel(day + dt.timedelta(minutes=2)):
        accounts.bar_organization(
            Actor.for_user(staff),
            order[2].organization,
            category="bad_conduct",
            source="regulator",
            reason="提供虚假材料",
            barred_from=dt.date(2026, 1, 1),
            barred_until=None,
        )
    third, fourth = rotate(day + dt.timedelta(minutes=3)), rotate(day + dt.timedelta(minutes=4))
    assert [third.supplier_id, fourth.supplier_id] == [
        order[3].organization_id,
        order[0].organization_id,
    ]


def test_a_second_round_is_sealed_capped_opened_by_the_clock_and_the_lowest_wins(
    agent, staff, supervisor
):
    world = concluded(agent, staff, supervisor)
    agreement = agreement_of(world)
    a, b, c, d = (member_user(world, p) for p in ["880000", "900000", "910000", "930000"])
    friday = beijing("2026-03-27 17:00")
    with travel(friday):
        # One working day at least: Saturday and Monday 16:59 are too early.
        for closes in (beijing("2026-03-28 17:00"), beijing("2026-03-30 16:59")):
            with pytest.raises(DomainError) as short:
                services.place_order(
                    Actor.for_user(agent),
                    agreement,
                    method="second_round",
                    requirement="打印机 50 台，含三年上门保修",
                    quantity=50,
                    closes_at=closes,
                )
            assert short.value.code == "SECOND_ROUND_TOO_SHORT"
        closes = beijing("2026-03-30 17:00")
        call_off = services.place_order(
            Actor.for_user(agent),
            agreement,
            method="second_round",
            requirement="打印机 50 台，含三年上门保修",
            quantity=50,
            closes_at=closes,
            invited=[a.organization_id, b.organization_id, c.organization_id],
        )
    assert call_off.invited == sorted([a.organization_id, b.organization_id, c.organization_id])
    with travel(friday + dt.timedelta(hours=1)):
        with pytest.raises(DomainError) as over:
            services.submit_quote(Actor.for_user(b), call_off, unit_price="900000.01")
        assert over.value.code == "PRICE_OVER_AGREEMENT"
        with pytest.raises(NotPermitted):
            services.submit_quote(Actor.for_user(d), call_off, unit_price="1000")
        services.submit_quote(Actor.for_user(b), call_off, unit_price="860000")
        services.submit_quote(Actor.for_user(a), call_off, unit_price="860000.00")
        services.submit_quote(Actor.for_user(c), call_off, unit_price="870000")
        with pytest.raises(Conflict) as twice:
            services.submit_quote(Actor.for_user(b), call_off, unit_price="850000")
        assert twice.value.code == "QUOTE_FIXED"
    # Sealed: no price anywhere before the close.
    assert not Quote.objects.filter(unit_price__isnull=False).exists()
    assert "860000" not in str(
        list(AuditEvent.objects.filter(action__startswith="frameworks.").values("payload"))
    )
    with travel(closes - dt.timedelta(seconds=1)), pytest.raises(TooLate):
        services.open_second_round(Actor.system("test"), call_off)
    with travel(closes):
        with pytest.raises(TooLate):
            services.submit_quote(Actor.for_user(c), call_off, unit_price="1")
        run_due()
    call_off.refresh_from_db()
    # b and a both quoted 860,000: b's came first.
    assert call_off.status == CallOff.Status.AWARDED
    assert (call_off.supplier_id, call_off.unit_price) == (b.organization_id, money("860000"))
    assert call_off.amount == money("43000000")
    opened = AuditEvent.objects.get(action="frameworks.quotes.opened").payload
    assert opened["missing"] == []


def test_a_second_round_without_quotes_fails_and_holidays_do_not_count(agent, staff, supervisor):
    world = concluded(agent, staff, supervisor)
    agreement = agreement_of(world)
    before_qingming = beijing("2026-04-03 10:00")  # Friday; 4–6 April are the Qingming holiday
    with travel(before_qingming):
        with pytest.raises(DomainError):
            services.place_order(
                Actor.for_user(agent),
                agreement,
                method="second_round",
                requirement="办公家具",
                quantity=3,
                closes_at=beijing("2026-04-06 10:00"),
            )
        call_off = services.place_order(
            Actor.for_user(agent),
            agreement,
            method="second_round",
            requirement="办公家具",
            quantity=3,
            closes_at=beijing("2026-04-07 10:00"),
        )
    assert len(call_off.invited) == 4
    with travel(beijing("2026-04-07 10:00")):
        run_due()
    call_off.refresh_from_db()
    assert call_off.status == CallOff.Status.FAILED
    assert call_off.supplier_id is None


def test_no_purchase_outside_the_term_or_by_a_method_not_agreed(agent, staff, supervisor):
    world = concluded(agent, staff, supervisor, methods=["direct"])
    agreement = agreement_of(world)
    chosen = member_user(world, "880000")
    order = {"requirement": "服务器 2 台", "quantity": 2, "supplier": chosen.organization_id}
    with travel(CONCLUDED + dt.timedelta(days=1)):
        with pytest.raises(Conflict) as not_agreed:
            services.place_order(Actor.for_user(agent), agreement, method="rotation", **order)
        assert not_agreed.value.code == "METHOD_NOT_IN_AGREEMENT"
    with travel(agreement.valid_until):
        with pytest.raises(Conflict) as expired:
            services.place_order(Actor.for_user(agent), agreement, method="direct", **order)
        assert expired.value.code == "AGREEMENT_NOT_IN_FORCE"
    with travel(agreement.valid_until - dt.timedelta(minutes=1)):
        services.place_order(Actor.for_user(agent), agreement, method="direct", **order)
        services.terminate_agreement(Actor.for_user(agent), agreement, reason="采购需求取消")
        with pytest.raises(Conflict) as ended:
            services.place_order(Actor.for_user(agent), agreement, method="direct", **order)
        assert ended.value.code == "AGREEMENT_NOT_IN_FORCE"


def test_a_framework_lot_takes_no_deposit_and_needs_its_unit_price_cap(agent):
    base: dict[str, Any] = {"kind": "gp", "category": "goods", "method": "framework"}
    for lot, code in (
        (
            {
                "name": "A",
                "estimate": "100",
                "ceiling_price": "90",
                "deposit_amount": "1",
                "deposit_forms": [
                    "cash",
                    "bank_guarantee",
                    "insurance_guarantee",
                    "cheque",
                    "draft",
                    "promissory_note",
                ],
            },
            "DEPOSIT_NOT_ALLOWED",
        ),
        ({"name": "A", "estimate": "100", "deposit_amount": "0"}, "MAX_UNIT_PRICE_REQUIRED"),
    ):
        with pytest.raises(DomainError) as refused:
            draft(agent, lots=[lot], **base)
        assert refused.value.code == code


FRAMEWORK_LOTS = [
    {"name": "计算机", "estimate": "100000", "ceiling_price": "6000", "deposit_amount": "0"}
]


def test_the_solicitation_runs_twenty_days_and_only_in_government_procurement(agent):
    start = beijing("2026-03-03 09:00")
    with travel(start - dt.timedelta(hours=1)):
        enough = draft(
            agent, **gp("framework", start, beijing("2026-03-23 09:00"), lots=FRAMEWORK_LOTS)
        )
        submit(agent, enough)
        short = draft(
            agent, **gp("framework", start, beijing("2026-03-23 08:59"), lots=FRAMEWORK_LOTS)
        )
        with pytest.raises(ScheduleError) as refused:
            submit(agent, short)
        assert refused.value.code == "BIDDING_PERIOD_TOO_SHORT"
        assert "110号" in refused.value.message
        construction = draft(
            agent,
            **{
                **gp("framework", start, beijing("2026-03-23 09:00"), lots=FRAMEWORK_LOTS),
                "kind": "construction",
                "category": "works",
            },
        )
        with pytest.raises(ScheduleError) as gp_only:
            submit(agent, construction)
        assert gp_only.value.code == "METHOD_NOT_ALLOWED"


def test_only_suppliers_of_the_round_quote(agent, staff, supervisor):
    world = concluded(agent, staff, supervisor)
    stranger = make_user("stranger", "supplier", make_org("supplier", "外来公司"))
    with travel(beijing("2026-03-27 17:00")):
        call_off = services.place_order(
            Actor.for_user(agent),
            agreement_of(world),
            method="second_round",
            requirement="打印机",
            quantity=1,
            closes_at=beijing("2026-03-30 17:00"),
        )
        for user in (stranger, agent, staff):
            with pytest.raises(NotPermitted):
                services.submit_quote(Actor.for_user(user), call_off, unit_price="100")
