"""`ensure_may_trade` is the one gate before registration, deposits and bids."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from accounts import services
from accounts.actors import Actor
from accounts.models import IntegrityRecord
from accounts.services import OrganizationBarred, OrganizationInactive, ensure_may_trade
from audit.models import AuditEvent
from lib.errors import Conflict, DomainError, NotPermitted

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=SHANGHAI)


def bar(
    staff, org, *, start: str, until: str | None, category=IntegrityRecord.Category.BAD_CONDUCT
):
    return services.bar_organization(
        Actor.for_user(staff),
        org,
        category=category,
        source=IntegrityRecord.Source.REGULATOR,
        reason="串通投标",
        decision_number="珠发改〔2026〕1号",
        barred_from=dt.date.fromisoformat(start),
        barred_until=dt.date.fromisoformat(until) if until else None,
    )


def test_a_good_organization_may_trade(supplier):
    ensure_may_trade(supplier.organization, timezone.now())


def test_a_bar_applies_from_its_first_to_its_last_day(staff, supplier):
    org = supplier.organization
    bar(staff, org, start="2027-03-01", until="2027-03-31")
    ensure_may_trade(org, at("2027-02-28"))
    with pytest.raises(OrganizationBarred) as refused:
        ensure_may_trade(org, at("2027-03-01", hour=0))
    assert refused.value.code == "ORG_BARRED"
    assert "2027-03-31" in refused.value.message
    assert "串通投标" in refused.value.message
    with pytest.raises(OrganizationBarred):
        ensure_may_trade(org, at("2027-03-31", hour=23))
    ensure_may_trade(org, at("2027-04-01", hour=0))


def test_days_are_judged_in_beijing_time(staff, supplier):
    """23:30 UTC on 28 Feb is already 1 March in Shanghai, inside the bar."""
    org = supplier.organization
    bar(staff, org, start="2027-03-01", until="2027-03-31")
    with pytest.raises(OrganizationBarred):
        ensure_may_trade(org, dt.datetime(2027, 2, 28, 23, 30, tzinfo=dt.UTC))


def test_a_bar_without_end_lasts_until_lifted(staff, supplier):
    org = supplier.organization
    record = bar(
        staff,
        org,
        start="2026-01-01",
        until=None,
        category=IntegrityRecord.Category.DISHONEST_DEBTOR,
    )
    with pytest.raises(OrganizationBarred) as refused:
        ensure_may_trade(org, at("2040-01-01"))
    assert "失信被执行人" in refused.value.message
    services.lift_bar(Actor.for_user(staff), record, reason="法院已屏蔽失信信息")
    ensure_may_trade(org, at("2040-01-01"))


def test_the_clock_of_the_server_decides_now(staff, supplier):
    org = supplier.organization
    bar(staff, org, start="2027-06-01", until="2027-06-30")
    with time_machine.travel(at("2027-06-15"), tick=False), pytest.raises(OrganizationBarred):
        ensure_may_trade(org, timezone.now())
    with time_machine.travel(at("2027-07-01"), tick=False):
        ensure_may_trade(org, timezone.now())


def test_a_deactivated_organization_may_not_trade(staff, supplier):
    org = services.update_organization(
        Actor.for_user(staff), supplier.organization, is_active=False
    )
    with pytest.raises(OrganizationInactive):
        ensure_may_trade(org, timezone.now())


def test_barring_and_lifting_are_audited(staff, supplier):
    org = supplier.organization
    record = bar(staff, org, start="2026-01-01", until="2026-12-31")
    services.lift_bar(Actor.for_user(staff), record, reason="复议撤销")
    actions = list(
        AuditEvent.objects.filter(object_id=str(org.pk), object_type="accounts.organization")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == ["accounts.organization.barred", "accounts.organization.bar_lifted"]
    barred = AuditEvent.objects.get(action="accounts.organization.barred")
    assert barred.actor_name == "staff"
    assert barred.role == "center_staff"
    assert barred.payload["barred_until"] == "2026-12-31"


def test_a_bar_is_lifted_only_once(staff, supplier):
    record = bar(staff, supplier.organization, start="2026-01-01", until=None)
    services.lift_bar(Actor.for_user(staff), record, reason="撤销")
    with pytest.raises(Conflict) as refused:
        services.lift_bar(Actor.for_user(staff), record, reason="再次撤销")
    assert refused.value.code == "ALREADY_LIFTED"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("reason", "   ", "REASON_REQUIRED"),
        ("category", "rumour", "INVALID_CATEGORY"),
        ("source", "neighbour", "INVALID_SOURCE"),
        ("barred_until", dt.date(2025, 1, 1), "INVALID_PERIOD"),
    ],
)
def test_a_bad_bar_is_refused_and_leaves_nothing(staff, supplier, field, value, code):
    events_before = AuditEvent.objects.count()
    arguments = {
        "category": IntegrityRecord.Category.BAD_CONDUCT,
        "source": IntegrityRecord.Source.CENTER,
        "reason": "事由",
        "barred_from": dt.date(2026, 1, 1),
        "barred_until": None,
        field: value,
    }
    with pytest.raises(DomainError) as refused:
        services.bar_organization(Actor.for_user(staff), supplier.organization, **arguments)
    assert refused.value.code == code
    assert not IntegrityRecord.objects.exists()
    assert AuditEvent.objects.count() == events_before


def test_only_staff_may_bar(supplier, other_supplier, supervisor, agent):
    for user in (supplier, supervisor, agent):
        with pytest.raises(NotPermitted):
            bar(user, other_supplier.organization, start="2026-01-01", until=None)
    assert not IntegrityRecord.objects.exists()
