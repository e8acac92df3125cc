"""The contract's rules through its services, on a fixed clock (contracts.services, contracts.rules)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.actors import Actor
from accounts.models import OrgRoleGrant
from accounts.services import OrganizationBarred, bar_organization, ensure_may_trade
from audit.models import AuditEvent
from bidding import evaluation as ev
from bidding.models import Publicity
from clock.calendar import is_workday
from contracts import services
from contracts.models import Acceptance, Contract, ContractVersion, PerformanceIssue
from lib.errors import Conflict, DomainError, NotPermitted
from notifications.models import Notice
from tests.conftest import make_org, make_user
from tests.contracts.conftest import PRICE, T0, TERMS, award, pdf, travel
from tests.trading.factories import published, timeline
from trading.models import Announcement

pytestmark = pytest.mark.django_db


def draft(agent, awarded, **kwargs):
    kwargs.setdefault("price", PRICE)
    kwargs.setdefault("terms", TERMS)
    with travel(awarded.awarded_at + dt.timedelta(days=1)):
        return services.draft_contract(Actor.for_user(agent), awarded.lot, **kwargs)


def sign_both(agent, supplier, contract, at):
    with travel(at):
        services.sign_contract(Actor.for_user(agent), contract, signed=None)
        services.sign_contract(Actor.for_user(supplier), contract, signed=None)
    contract.refresh_from_db()
    return contract


def test_no_contract_before_the_award(agent, staff):
    with travel(T0):
        project = published(agent, staff, start=T0 + dt.timedelta(minutes=1), **timeline(T0))
    with travel(T0 + dt.timedelta(days=40)), pytest.raises(Conflict) as refused:
        services.draft_contract(Actor.for_user(agent), project.lots.get(), price=PRICE, terms=TERMS)
    assert refused.value.code == "NOT_AWARDED"


def test_the_price_is_the_awards(agent, gp):
    with pytest.raises(DomainError) as refused:
        draft(agent, gp, price="979999.99")
    assert refused.value.code == "CONTRACT_PRICE_MISMATCH"
    assert not Contract.objects.exists()
    contract = draft(agent, gp, files=[pdf()])
    assert contract.price == contract.award_price == Decimal(PRICE)
    assert contract.supplier == gp.publicity.winner and contract.purchaser == gp.project.owner
    version = contract.versions.get()
    assert version.content["documents"][0]["sha256"] == contract.documents.get().sha256
    with pytest.raises(Conflict) as again:
        draft(agent, gp)
    assert again.value.code == "CONTRACT_EXISTS"


def test_a_draft_amendment_keeps_the_award_price_and_needs_a_reason(agent, gp):
    contract = draft(agent, gp)
    actor = Actor.for_user(agent)
    with pytest.raises(DomainError) as no_reason:
        services.amend_contract(actor, contract, reason=" ", terms=TERMS + "\n四、质保两年。")
    assert no_reason.value.code == "TEXT_REQUIRED"
    with pytest.raises(DomainError) as price:
        services.amend_contract(actor, contract, reason="调价", price="990000.00")
    assert price.value.code == "CONTRACT_PRICE_MISMATCH"
    with pytest.raises(DomainError) as nothing:
        services.amend_contract(actor, contract, reason="无变化", terms=TERMS)
    assert nothing.value.code == "NOTHING_CHANGED"
    version = services.amend_contract(
        actor, contract, reason="补充质保条款", terms=TERMS + "\n四、质保两年。"
    )
    assert version.number == 2 and version.kind == ContractVersion.Kind.AMENDMENT
    assert "+四、质保两年。" in version.diff["terms"]
    assert version.content["previous_sha256"] == contract.versions.get(number=1).sha256


def test_performance_bond_at_most_ten_percent(agent, gp):
    with pytest.raises(DomainError) as refused:
        draft(agent, gp, performance_bond="98000.01")
    assert refused.value.code == "PERFORMANCE_BOND_OVER_CAP"
    assert draft(agent, gp, performance_bond="98000.00").performance_bond == Decimal("98000.00")


def test_gp_contract_signed_by_both_is_recorded_published_and_refunds_run(agent, supplier, gp):
    contract = draft(agent, gp)
    signed_at = gp.awarded_at + dt.timedelta(days=2)
    with travel(signed_at):
        services.sign_contract(Actor.for_user(agent), contract, signed=None)
        contract.refresh_from_db()
        assert contract.status == Contract.Status.DRAFT
        with pytest.raises(Conflict) as twice:
            services.sign_contract(Actor.for_user(agent), contract, signed=None)
        assert twice.value.code == "ALREADY_SIGNED"
        services.sign_contract(Actor.for_user(supplier), contract, signed=None)
    contract.refresh_from_db()
    assert contract.status == Contract.Status.PUBLISHED
    assert contract.signed_at == contract.published_at == signed_at
    assert contract.effective_version == 1
    publicity = Publicity.objects.get(lot=gp.lot)
    assert publicity.status == Publicity.Status.CONTRACTED
    assert publicity.contract_signed_at == signed_at
    notice = Announcement.objects.get(project=gp.project, kind=Announcement.Kind.CONTRACT)
    version = notice.versions.get()
    assert version.content["contract"]["price"] == PRICE
    assert version.content["contract_event"] == "signed"
    assert version.published_by is None  # the platform published it, as the rule requires
    assert AuditEvent.objects.filter(action="bidding.contract.signed").exists()
    assert AuditEvent.objects.filter(action="contracts.contract.published").exists()
    assert Notice.objects.filter(kind="contract.effective", recipient=supplier).exists()
    with pytest.raises(Conflict) as nothing:
        services.sign_contract(Actor.for_user(supplier), contract, signed=None)
    assert nothing.value.code == "NOTHING_TO_SIGN"


def test_a_construction_contract_is_signed_but_not_published(agent, supplier, construction):
    contract = draft(agent, construction)
    contract = sign_both(agent, supplier, contract, construction.awarded_at + dt.timedelta(days=3))
    assert contract.status == Contract.Status.SIGNED
    assert contract.published_at is None and contract.publication_due_at is None
    assert not Announcement.objects.filter(kind=Announcement.Kind.CONTRACT).exists()


@pytest.mark.parametrize(
    ("signed", "due"),
    [
        # Friday → Tuesday: the weekend is not counted.
        ("2026-03-06 10:00", "2026-03-10 10:00"),
        # Thursday before 劳动节: the statutory calendar (clock.calendar) decides; asserted below.
        ("2026-04-30 16:00", None),
        # The day before 国庆节 (1–7 October 2026 at least: the law's 3 days plus the arrangement).
        ("2026-09-30 09:30", None),
    ],
)
def test_gp_publication_due_within_two_working_days(agent, staff, supplier, signed, due):
    awarded = award(agent, staff, supplier)
    contract = draft(agent, awarded)
    moment = dt.datetime.fromisoformat(signed).replace(tzinfo=T0.tzinfo)
    # The signing date is what this tests; keep it inside the award's signing period.
    Publicity.objects.filter(pk=awarded.publicity.pk).update(
        contract_due_at=moment + dt.timedelta(days=1)
    )
    contract = sign_both(agent, supplier, contract, moment)
    assert contract.publication_due_at is not None
    assert contract.published_at == moment <= contract.publication_due_at
    deadline = contract.publication_due_at.astimezone(T0.tzinfo)
    if due is not None:
        assert deadline == dt.datetime.fromisoformat(due).replace(tzinfo=T0.tzinfo)
    # Exactly two working days after the signing day, at the same time of day.
    span = (deadline.date() - moment.date()).days
    days = [moment.date() + dt.timedelta(days=n) for n in range(1, span + 1)]
    assert sum(is_workday(day) for day in days) == 2
    assert is_workday(deadline.date()) and deadline.time() == moment.time()
    if due is None:
        assert (deadline.date() - moment.date()).days > 2  # the holiday pushed it on


def test_gp_supplement_up_to_ten_percent_in_total(agent, supplier, gp):
    contract = sign_both(agent, supplier, draft(agent, gp), gp.awarded_at + dt.timedelta(days=2))
    actor = Actor.for_user(agent)
    later = gp.awarded_at + dt.timedelta(days=20)
    with travel(later):
        with pytest.raises(DomainError) as amendment:
            services.amend_contract(actor, contract, reason="调价", price="1000000.00")
        assert amendment.value.code == "CONTRACT_PRICE_MISMATCH"
        first = services.amend_contract(
            actor, contract, reason="追加交互式黑板 2 套", price="1029000.00", supplement=True
        )
        sign_both(agent, supplier, contract, later)
        # 980000.00 × 1.10 = 1078000.00: one fen more is refused, the cap itself is not.
        with pytest.raises(DomainError) as over:
            services.amend_contract(
                actor, contract, reason="再追加", price="1078000.01", supplement=True
            )
        assert over.value.code == "SUPPLEMENT_OVER_CAP"
        second = services.amend_contract(
            actor, contract, reason="再追加 2 套", price="1078000.00", supplement=True
        )
        contract.refresh_from_db()
        assert contract.price == Decimal("1029000.00")  # not in force before both sign
        sign_both(agent, supplier, contract, later)
    contract.refresh_from_db()
    assert contract.price == Decimal("1078000.00") and contract.effective_version == 3
    assert first.diff["price"] == ["980000.00", "1029000.00"]
    assert second.kind == ContractVersion.Kind.SUPPLEMENT
    events = [
        v.content["contract_event"]
        for v in Announcement.objects.get(kind=Announcement.Kind.CONTRACT).versions.all()
    ]
    assert events == ["signed", "amended", "amended"]


def test_only_gp_has_supplements(agent, supplier, construction):
    contract = draft(agent, construction)
    contract = sign_both(agent, supplier, contract, construction.awarded_at + dt.timedelta(days=2))
    with pytest.raises(DomainError) as refused:
        services.amend_contract(
            Actor.for_user(agent), contract, reason="追加", price="1000000.00", supplement=True
        )
    assert refused.value.code == "SUPPLEMENT_GP_ONLY"


def test_milestones_delivery_payment_and_acceptance(agent, supplier, gp):
    contract = sign_both(agent, supplier, draft(agent, gp), gp.awarded_at + dt.timedelta(days=2))
    actor = Actor.for_user(agent)
    start = gp.awarded_at + dt.timedelta(days=3)
    with travel(start):
        first = services.add_milestone(
            actor,
            contract,
            description="首批 20 套",
            due_on=start.date() + dt.timedelta(days=10),
            amount="490000.00",
        )
        second = services.add_milestone(
            actor,
            contract,
            description="第二批 20 套",
            due_on=start.date() + dt.timedelta(days=20),
            amount="490000.00",
        )
        with pytest.raises(DomainError) as over:
            services.add_milestone(
                actor, contract, description="多余", due_on=start.date(), amount="0.01"
            )
        assert over.value.code == "MILESTONES_OVER_PRICE"
        with pytest.raises(Conflict) as unpaid:
            services.record_payment(actor, first)
        assert unpaid.value.code == "NOT_DELIVERED"
    with travel(start + dt.timedelta(days=9)):
        services.complete_milestone(Actor.for_user(supplier), first)
        services.record_payment(actor, first)
    first.refresh_from_db()
    contract.refresh_from_db()
    assert first.delivered_at is not None
    assert contract.status == Contract.Status.PERFORMING and not first.late_at(first.delivered_at)
    with travel(start + dt.timedelta(days=22)):
        second.refresh_from_db()
        assert second.late  # its due day has passed undelivered
        services.complete_milestone(Actor.for_user(agent), second)
        second.refresh_from_db()
        assert second.late  # delivered two days after its due day
        with pytest.raises(DomainError) as remarks:
            services.record_acceptance(
                actor, contract, accepted_on=(start + dt.timedelta(days=22)).date(), result="failed"
            )
        assert remarks.value.code == "REMARKS_REQUIRED"
        services.record_acceptance(
            actor,
            contract,
            accepted_on=(start + dt.timedelta(days=22)).date(),
            result=Acceptance.Result.PASSED,
            remarks="数量、质量符合合同约定。",
        )
    contract.refresh_from_db()
    assert contract.status == Contract.Status.ACCEPTED
    with travel(start + dt.timedelta(days=23)), pytest.raises(Conflict) as closed:
        services.terminate_contract(actor, contract, reason="无")
    assert closed.value.code == "CONTRACT_NOT_IN_FORCE"
    versions = Announcement.objects.get(kind=Announcement.Kind.CONTRACT).versions.order_by("number")
    assert [v.content["contract_event"] for v in versions] == [
        "signed",
        "implementation",
        "implementation",
        "implementation",
        "implementation",
    ]
    newest = versions.last()
    assert newest is not None
    last = newest.content["contract"]
    assert last["status"] == "accepted" and last["transactions"][0]["amount"] == "490000.00"


def test_a_serious_issue_becomes_a_bar_the_gate_reads(agent, staff, supplier, gp):
    contract = sign_both(agent, supplier, draft(agent, gp), gp.awarded_at + dt.timedelta(days=2))
    at = gp.awarded_at + dt.timedelta(days=40)
    with travel(at):
        minor = services.record_performance_issue(
            Actor.for_user(agent),
            contract,
            kind=PerformanceIssue.Kind.LATE,
            severity=PerformanceIssue.Severity.MINOR,
            description="首批货物迟延 3 日交付。",
        )
        serious = services.record_performance_issue(
            Actor.for_user(agent),
            contract,
            kind=PerformanceIssue.Kind.POOR,
            severity=PerformanceIssue.Severity.SERIOUS,
            description="交付设备与投标文件承诺的品牌型号不符，拒不更换。",
        )
        assert Notice.objects.filter(kind="contract.issue_serious", recipient=staff).exists()
        with pytest.raises(DomainError) as not_serious:
            services.escalate_issue(
                Actor.for_user(staff), minor, barred_from=at.date(), barred_until=None
            )
        assert not_serious.value.code == "ISSUE_NOT_SERIOUS"
        with pytest.raises(NotPermitted):
            services.escalate_issue(
                Actor.for_user(agent), serious, barred_from=at.date(), barred_until=None
            )
        ensure_may_trade(supplier.organization, at)  # not barred yet
        bar = services.escalate_issue(
            Actor.for_user(staff),
            serious,
            barred_from=at.date() + dt.timedelta(days=1),
            barred_until=at.date() + dt.timedelta(days=366),
            decision_number="珠交易〔2026〕7号",
        )
        with pytest.raises(Conflict):
            services.escalate_issue(
                Actor.for_user(staff), serious, barred_from=at.date(), barred_until=None
            )
    assert bar.category == "bad_conduct" and bar.organization == supplier.organization
    serious.refresh_from_db()
    assert serious.integrity_record == bar
    ensure_may_trade(supplier.organization, at)  # the bar starts tomorrow
    with pytest.raises(OrganizationBarred) as barred:
        ensure_may_trade(supplier.organization, at + dt.timedelta(days=2))
    assert barred.value.code == "ORG_BARRED"
    ensure_may_trade(supplier.organization, at + dt.timedelta(days=400))  # it has run out


def test_a_barred_winner_cannot_sign(agent, staff, supplier, gp):
    contract = draft(agent, gp)
    with travel(gp.awarded_at + dt.timedelta(days=1)):
        bar_organization(
            Actor.for_user(staff),
            supplier.organization,
            category="bad_conduct",
            source="center",
            reason="另案不良行为",
            barred_from=(gp.awarded_at + dt.timedelta(days=1)).date(),
            barred_until=None,
        )
    with travel(gp.awarded_at + dt.timedelta(days=2)), pytest.raises(OrganizationBarred):
        services.sign_contract(Actor.for_user(supplier), contract, signed=None)


def test_only_the_parties_sign(agent, staff, supplier, other_supplier, gp):
    contract = draft(agent, gp)
    outsider_agent = make_user("agent2", "agent", make_org("agent", "另一代理"))
    colleague = make_user("viewer", "supplier", supplier.organization)
    OrgRoleGrant.objects.filter(user=colleague).update(role="viewer")
    with travel(gp.awarded_at + dt.timedelta(days=2)):
        for user in (other_supplier, outsider_agent, staff):
            with pytest.raises(NotPermitted):
                services.sign_contract(Actor.for_user(user), contract, signed=None)
        with pytest.raises(DomainError) as role:
            services.sign_contract(Actor.for_user(colleague), contract, signed=None)
        assert role.value.code == "ORG_ROLE_REQUIRED"
        with pytest.raises(NotPermitted):
            services.amend_contract(
                Actor.for_user(supplier), contract, reason="改", terms=TERMS + "。"
            )
    assert not ContractVersion.objects.filter(purchaser_signed_at__isnull=False).exists()


def test_a_refusing_winners_draft_is_voided_and_the_next_winner_gets_a_contract(
    agent, staff, supplier, other_supplier
):
    awarded = award(agent, staff, supplier, second=other_supplier)
    lot = awarded.lot
    with travel(awarded.awarded_at + dt.timedelta(days=1)):
        draft = services.draft_contract(Actor.for_user(agent), lot, price=PRICE, terms=TERMS)
        ev.record_refusal(Actor.for_user(agent), lot, reason="中标人书面放弃中标")
        draft.refresh_from_db()
        assert draft.status == Contract.Status.TERMINATED
        assert AuditEvent.objects.filter(action="contracts.contract.voided").count() == 1
        ev.issue_award(Actor.for_user(agent), lot)
        second = services.draft_contract(Actor.for_user(agent), lot, price=PRICE, terms=TERMS)
    assert second.supplier == other_supplier.organization
    assert list(lot.contracts.order_by("pk")) == [draft, second]
