"""What later capabilities read: does this bidder's deposit qualify it for this lot?"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.actors import Actor
from deposits import services
from deposits.models import Deposit, FxRate
from lib.errors import DomainError
from tests.deposits.helpers import T0, pay, register_with_account, tender

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(agent, staff):
    return tender(agent, staff)


def qualifies(project, user):
    return services.qualification(project.lots.get(), user.organization)


def test_full_and_in_time_qualifies(project, supplier):
    account = register_with_account(supplier, project)
    assert qualifies(project, supplier).code == "NO_DEPOSIT"
    pay(account, "300000", at=T0 + dt.timedelta(days=2))
    assert qualifies(project, supplier).code == "INSUFFICIENT"
    pay(account, "200000", at=T0 + dt.timedelta(days=3))
    result = qualifies(project, supplier)
    assert (result.qualified, result.counted_cny) == (True, Decimal("500000.00"))


def test_the_banks_value_time_decides_not_the_message_arrival(project, supplier):
    account = register_with_account(supplier, project)
    deadline = project.deposit_deadline
    with time_machine.travel(deadline + dt.timedelta(hours=2), tick=False):
        # Received late by us, but credited by the bank one second before the deadline.
        pay(account, "500000", at=deadline - dt.timedelta(seconds=1))
    assert qualifies(project, supplier).qualified is True


def test_a_deposit_after_the_deadline_does_not_qualify(project, supplier):
    account = register_with_account(supplier, project)
    pay(account, "500000", at=project.deposit_deadline + dt.timedelta(seconds=1))
    result = qualifies(project, supplier)
    assert (result.qualified, result.code) == (False, "LATE")


def test_a_refunded_or_forfeited_deposit_no_longer_counts(project, supplier, staff):
    account = register_with_account(supplier, project)
    pay(account, "500000")
    deposit = Deposit.objects.get()
    services.forfeit_deposit(
        Actor.for_user(staff), deposit, reason="withdrawal_after_deadline", note="开标后撤销"
    )
    assert qualifies(project, supplier).qualified is False


def test_a_verified_guarantee_qualifies_like_cash(project, supplier, staff):
    lot = project.lots.get()
    register_with_account(supplier, project)
    upload = SimpleUploadedFile("保函.pdf", b"%PDF-1.4 guarantee", content_type="application/pdf")
    validity = services.required_guarantee_validity(lot)
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        guarantee = services.submit_guarantee(
            Actor.for_user(supplier),
            lot,
            kind="bank_guarantee",
            issuer="中国银行珠海分行",
            number="BG-001",
            amount="500000.00",
            valid_from=dt.date(2026, 3, 1),
            valid_until=validity,
            upload=upload,
        )
    assert qualifies(project, supplier).code == "NO_DEPOSIT"  # not verified yet
    services.verify_guarantee(
        Actor.for_user(staff), guarantee, accepted=True, method="出具行电话确认"
    )
    assert qualifies(project, supplier).qualified is True


def test_a_guarantee_must_cover_the_bid_validity(project, supplier, staff):
    lot = project.lots.get()
    register_with_account(supplier, project)
    upload = SimpleUploadedFile("g.pdf", b"%PDF", content_type="application/pdf")
    short = services.required_guarantee_validity(lot) - dt.timedelta(days=1)
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        guarantee = services.submit_guarantee(
            Actor.for_user(supplier),
            lot,
            kind="bank_guarantee",
            issuer="中国银行",
            number="BG-2",
            amount="500000",
            valid_from=dt.date(2026, 3, 1),
            valid_until=short,
            upload=upload,
        )
    with pytest.raises(DomainError) as refused:
        services.verify_guarantee(Actor.for_user(staff), guarantee, accepted=True, method="核验")
    assert refused.value.code == "GUARANTEE_VALIDITY_SHORT"


def test_no_deposit_required_qualifies(agent, staff, supplier):
    free = tender(agent, staff, deposit="0", forms=())
    assert services.qualification(free.lots.get(), supplier.organization).code == "NOT_REQUIRED"


def test_foreign_currency_is_judged_in_rmb_at_the_arrival_rate_and_refunded_in_kind(
    project, supplier, staff
):
    lot = project.lots.get()
    lot.deposit_currencies = ["CNY", "HKD"]  # set by land listings (issue 8); simulated here
    with time_machine.travel(T0 + dt.timedelta(minutes=30), tick=False):
        services.set_fx_rate(
            Actor.for_user(staff), "HKD", Decimal("0.920000"), source="中国银行折算价"
        )
    from trading import services as trading

    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        trading.register(Actor.for_user(supplier), lot)
        account = services.open_sub_account(Actor.for_user(supplier), lot, currency="HKD")
    pay(account, "543478.27", currency="HKD", at=T0 + dt.timedelta(days=1))
    deposit = Deposit.objects.get()
    assert (deposit.fx_rate, deposit.amount_cny) == (Decimal("0.920000"), Decimal("500000.01"))
    assert services.qualification(lot, supplier.organization).qualified is True
    # A later rate change does not change a deposit already judged.
    with time_machine.travel(T0 + dt.timedelta(days=2), tick=False):
        services.set_fx_rate(Actor.for_user(staff), "HKD", Decimal("0.800000"))
    assert services.qualification(lot, supplier.organization).qualified is True
    refund = services.schedule_refund(Actor.for_user(staff), deposit, reason="withdrawal")
    assert (refund.currency, refund.principal) == ("HKD", Decimal("543478.27"))
    assert FxRate.objects.count() == 2
