"""Deposit notices reach the bidder's finance users and administrators only — not its bid operators
without finance, not another bidder, not the agent — once per event, and each names only the
recipient's own deposit. Money from someone who is not the bidder is returned without telling anyone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from accounts import services as accounts
from accounts.actors import Actor
from accounts.models import OrgRole, Role, User
from deposits import services
from deposits.models import Deposit, Refund
from notifications.models import Notice
from tests.deposits.helpers import BANK, T0, pay, register_with_account, tender
from tests.notifications.helpers import per_person, shown, who

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")
DEPOSIT_KINDS = (
    "deposit.received",
    "deposit.qualified",
    "deposit.late",
    "deposit.refunded",
    "deposit.forfeited",
)


def member(username: str, organization: Any, *roles: str) -> User:
    return accounts.create_user(
        SYSTEM,
        organization=organization,
        username=username,
        role=Role.SUPPLIER,
        org_roles=list(roles),
    )


@pytest.fixture
def world(agent, staff, supplier, other_supplier) -> dict[str, Any]:
    """One tender; `supplier` (the administrator) and `other_supplier` are registered bidders with
    sub-accounts. The supplier's organization also has a finance user, a bid operator without finance
    and a read-only user."""
    org = supplier.organization
    people = {
        "admin": supplier,
        "finance": member("finance", org, OrgRole.FINANCE),
        "operator": member("operator", org, OrgRole.BID_OPERATOR),
        "viewer": member("viewer", org, OrgRole.VIEWER),
        "other": other_supplier,
        "agent": agent,
        "staff": staff,
    }
    project = tender(agent, staff)
    return {
        "project": project,
        "people": people,
        "account": register_with_account(supplier, project),
        "other_account": register_with_account(other_supplier, project),
    }


FINANCE = {"supplier", "finance"}  # the organization's administrator and its finance user


def deposit_notices() -> list[Notice]:
    return list(Notice.objects.filter(kind__in=DEPOSIT_KINDS).select_related("recipient"))


def deposit_notices_of(user: User) -> list[Notice]:
    return [n for n in deposit_notices() if n.recipient_id == user.pk]


def test_a_full_deposit_in_time_is_received_and_qualifies_for_finance_and_admins_only(world):
    pay(world["account"], "500000", at=T0 + dt.timedelta(days=1))
    assert per_person("deposit.received") == dict.fromkeys(FINANCE, 1)
    assert per_person("deposit.qualified") == dict.fromkeys(FINANCE, 1)
    assert not Notice.objects.filter(kind="deposit.late").exists()
    # The bid operator without finance, the viewer, the other bidder, the agent, staff: nothing.
    for role in ("operator", "viewer", "other", "agent", "staff"):
        assert not deposit_notices_of(world["people"][role]), role
    deposit = Deposit.objects.get()
    for notice in Notice.objects.filter(kind="deposit.received"):
        assert notice.params["amount"] == "500000.00"
        assert notice.url.endswith(f"/{deposit.pk}/")


def test_qualified_is_told_once_by_the_payment_that_completes_the_deposit(world):
    account = world["account"]
    pay(account, "300000", at=T0 + dt.timedelta(days=1))
    assert per_person("deposit.received") == dict.fromkeys(FINANCE, 1)
    assert not Notice.objects.filter(kind="deposit.qualified").exists()  # 300000 of 500000
    pay(account, "200000", at=T0 + dt.timedelta(days=2))
    assert per_person("deposit.received") == dict.fromkeys(FINANCE, 2)
    assert per_person("deposit.qualified") == dict.fromkeys(FINANCE, 1)
    # A further payment once qualified is received, and does not qualify the bidder a second time.
    pay(account, "1000", at=T0 + dt.timedelta(days=3))
    assert per_person("deposit.received") == dict.fromkeys(FINANCE, 3)
    assert per_person("deposit.qualified") == dict.fromkeys(FINANCE, 1)
    amounts = sorted(
        n.params["amount"]
        for n in Notice.objects.filter(kind="deposit.received", recipient__username="finance")
    )
    assert amounts == ["1000.00", "200000.00", "300000.00"]


def test_a_late_deposit_is_told_as_late_not_received(world):
    project = world["project"]
    pay(world["account"], "500000", at=project.deposit_deadline + dt.timedelta(seconds=1))
    assert per_person("deposit.late") == dict.fromkeys(FINANCE, 1)
    assert not Notice.objects.filter(kind__in=["deposit.received", "deposit.qualified"]).exists()
    assert who("deposit.late") == FINANCE


def test_a_replayed_bank_notification_notifies_once(world):
    account = world["account"]
    message = BANK.payment(
        account_number=account.number,
        amount="500000",
        payer_name=account.organization.name,
        payer_account="44050166000100001111",
        transaction_id="TX-REPLAY",
        value_time=T0 + dt.timedelta(days=1),
    )
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        first = services.receive_bank_notification(message.bank, message.body, message.signature)
        again = services.receive_bank_notification(message.bank, message.body, message.signature)
    assert (first.replay, again.replay) == (False, True)
    assert per_person("deposit.received") == dict.fromkeys(FINANCE, 1)
    assert per_person("deposit.qualified") == dict.fromkeys(FINANCE, 1)


def confirm(refund: Refund, reference: str = "BANKREF1") -> Refund:
    message = BANK.refund_confirmation(refund.pk, status="paid", bank_reference=reference)
    return services.confirm_refund(message.bank, message.body, message.signature)


def test_a_paid_refund_is_told_once_to_finance_and_admins(world, staff, supplier):
    pay(world["account"], "500000", at=T0 + dt.timedelta(days=1))
    lot = world["project"].lots.get()
    (refund,) = services.refund_on_withdrawal(SYSTEM, lot, supplier.organization, timezone.now())
    services.create_refund_batch(Actor.for_user(staff))
    assert not Notice.objects.filter(kind="deposit.refunded").exists()  # instructed, not yet paid
    confirm(refund)
    confirm(refund)  # the bank's confirmation again: a replay
    assert per_person("deposit.refunded") == dict.fromkeys(FINANCE, 1)
    for notice in Notice.objects.filter(kind="deposit.refunded"):
        assert notice.params["amount"] == f"{Refund.objects.get().total}"


def test_a_forfeiture_is_told_to_finance_and_admins_with_its_reason(world, staff):
    pay(world["account"], "500000", at=T0 + dt.timedelta(days=1))
    deposit = Deposit.objects.get()
    services.forfeit_deposit(
        Actor.for_user(staff), deposit, reason="refused_to_sign", note="中标人拒签合同"
    )
    assert per_person("deposit.forfeited") == dict.fromkeys(FINANCE, 1)
    notice = Notice.objects.filter(kind="deposit.forfeited").first()
    assert notice is not None and "中标人拒签合同" in notice.params["reason"]


def test_money_held_in_suspense_and_returned_to_its_payer_notifies_no_bidder(world, staff):
    pay(world["account"], "500000", payer_name="某某投资有限公司", payer_account="622200001234")
    (refund,) = Refund.objects.all()
    assert refund.deposit_id is None
    services.create_refund_batch(Actor.for_user(staff))
    assert confirm(refund).status == Refund.Status.PAID
    assert deposit_notices() == []
    # Nobody of the bidder's organization hears of it (the payer is not a user here at all).
    people = world["people"]
    for role in ("admin", "finance", "operator", "viewer", "other", "agent"):
        assert not deposit_notices_of(people[role]), role


def test_each_notice_names_only_its_readers_own_deposit(world, other_supplier):
    pay(world["account"], "500000", at=T0 + dt.timedelta(days=1))
    pay(world["other_account"], "777777", at=T0 + dt.timedelta(days=1))
    assert per_person("deposit.received") == {"supplier": 1, "finance": 1, "other": 1}
    mine, theirs = "500000", "777777"
    names = {
        "mine": world["people"]["admin"].organization.name,
        "theirs": other_supplier.organization.name,
    }
    for notice in deposit_notices():
        text = shown(notice)
        if notice.recipient.username == "other":
            assert theirs in notice.params["amount"]
            assert mine not in text and names["mine"] not in text, text
        else:
            assert mine in notice.params["amount"]
            assert theirs not in text and names["theirs"] not in text, text
