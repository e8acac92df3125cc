"""Bank notifications: signed, idempotent, payer-checked, and the only way money arrives."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from audit.models import Alert, AuditEvent
from deposits import ledger, services
from deposits.bank_simulator import BankSimulator
from deposits.checks import check_ledger
from deposits.models import Account, BankNotification, Deposit, Refund
from lib.errors import DomainError
from tests.deposits.helpers import BANK, T0, pay, register_with_account, tender

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(agent, staff):
    return tender(agent, staff)


def test_a_payment_credits_the_bidders_sub_account(project, supplier):
    account = register_with_account(supplier, project)
    assert account.number.startswith("6222") and len(account.number) == 20
    result = pay(account, "500000.00", at=T0 + dt.timedelta(days=1))
    assert result.replay is False
    assert result.notification.outcome == BankNotification.Outcome.CREDITED
    assert ledger.held_for(account) == Decimal("500000.00")
    deposit = Deposit.objects.get()
    assert (deposit.amount, deposit.payer_account) == (Decimal("500000.00"), "44050166000100001111")
    assert AuditEvent.objects.filter(action="deposits.deposit.credited").exists()
    assert check_ledger() == []


def test_a_replay_changes_nothing(project, supplier):
    account = register_with_account(supplier, project)
    message = BANK.payment(
        account_number=account.number,
        amount="500000",
        payer_name=account.organization.name,
        payer_account="1",
        transaction_id="TX-1",
    )
    first = services.receive_bank_notification(message.bank, message.body, message.signature)
    again = services.receive_bank_notification(message.bank, message.body, message.signature)
    assert again.replay is True
    assert again.notification.pk == first.notification.pk
    assert BankNotification.objects.count() == 1
    assert ledger.held_for(account) == Decimal("500000.00")


def test_a_replay_with_other_content_is_refused_and_alerts(project, supplier):
    account = register_with_account(supplier, project)
    pay(account, "500000", txn="TX-2")
    with pytest.raises(services.ReplayConflict):
        pay(account, "900000", txn="TX-2")
    assert ledger.held_for(account) == Decimal("500000.00")
    alert = Alert.objects.get(kind=Alert.Kind.BANK_REPLAY_CONFLICT)
    assert "TX-2" in alert.summary
    assert alert.project_id == project.pk
    assert check_ledger() == []


def test_a_resend_in_another_key_order_is_the_same_message(project, supplier):
    import json

    account = register_with_account(supplier, project)
    message = BANK.payment(
        account_number=account.number,
        amount="500000",
        payer_name=account.organization.name,
        payer_account="1",
        transaction_id="TX-ORDER",
    )
    first = services.receive_bank_notification(message.bank, message.body, message.signature)
    fields = json.loads(message.body)
    resent = json.dumps(dict(sorted(fields.items(), reverse=True)), indent=1).encode()
    assert resent != message.body
    again = services.receive_bank_notification(message.bank, resent, message.signature)
    assert (again.replay, again.notification.pk) == (True, first.notification.pk)
    assert not Alert.objects.exists()
    assert ledger.held_for(account) == Decimal("500000.00")


def test_a_bad_signature_is_refused(project, supplier):
    account = register_with_account(supplier, project)
    forged = BankSimulator(secret="not-the-banks-secret").payment(
        account_number=account.number, amount="500000", payer_name="x", payer_account="1"
    )
    with pytest.raises(services.SignatureInvalid):
        services.receive_bank_notification(forged.bank, forged.body, forged.signature)
    assert not BankNotification.objects.exists()
    assert Alert.objects.filter(kind=Alert.Kind.BANK_SIGNATURE_INVALID).exists()


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("amount", "-5", "AMOUNT_INVALID"),
        ("amount", "1.001", "AMOUNT_INVALID"),
        ("currency", "EUR", "INVALID_CURRENCY"),
        ("value_time", "2026-03-01 10:00", "INVALID_TIME"),
        ("amount", "abc", "AMOUNT_INVALID"),
        ("amount", 500000, "AMOUNT_NOT_STRING"),
    ],
)
def test_malformed_messages_are_refused_with_codes(project, supplier, field, value, code):
    import json

    from deposits.bank import sign

    account = register_with_account(supplier, project)
    payload = json.loads(
        BANK.payment(
            account_number=account.number, amount="1", payer_name="x", payer_account="1"
        ).body
    )
    payload[field] = value
    body = json.dumps(payload).encode()
    with pytest.raises(DomainError) as refused:
        services.receive_bank_notification(BANK.bank, body, sign(BANK.secret, body))
    assert refused.value.code == code
    assert not BankNotification.objects.exists()


def test_money_from_someone_else_is_held_and_refunded_to_the_payer(project, supplier):
    account = register_with_account(supplier, project)
    result = pay(account, "500000", payer_name="某某投资有限公司", payer_account="622200001234")
    assert result.notification.outcome == BankNotification.Outcome.PAYER_MISMATCH
    assert ledger.held_for(account) == 0
    assert not Deposit.objects.exists()
    refund = Refund.objects.get()
    assert (refund.payee_name, refund.payee_account, refund.reason) == (
        "某某投资有限公司",
        "622200001234",
        "payer_mismatch",
    )
    assert Alert.objects.get(kind=Alert.Kind.PAYER_MISMATCH).project_id == project.pk
    assert services.qualification(project.lots.get(), supplier.organization).qualified is False
    assert check_ledger() == []


def test_a_mandatory_tender_requires_the_basic_account_when_registered(project, supplier):
    org = supplier.organization
    org.basic_account_number = "44050166000100009999"
    org.save(update_fields=["basic_account_number"])
    account = register_with_account(supplier, project)
    assert (
        pay(account, "500000", payer_account="44050166000100001111").notification.outcome
        == "payer_mismatch"
    )
    assert (
        pay(account, "500000", payer_account="44050166000100009999").notification.outcome
        == "credited"
    )


def test_money_to_an_unknown_account_is_held_in_suspense(project):
    message = BANK.payment(
        account_number="6222000000000000000", amount="100", payer_name="路人甲", payer_account="9"
    )
    result = services.receive_bank_notification(message.bank, message.body, message.signature)
    assert result.notification.outcome == BankNotification.Outcome.UNKNOWN_ACCOUNT
    assert ledger.held_for(ledger.book_account(Account.Kind.SUSPENSE, "CNY")) == Decimal("100.00")
    assert Refund.objects.get().reason == "unknown_account"
    assert check_ledger() == []


def test_one_payer_behind_two_bidders_raises_a_collusion_alert(project, supplier, other_supplier):
    first = register_with_account(supplier, project)
    second = register_with_account(other_supplier, project)
    pay(first, "500000", payer_account="SHARED-1")
    assert not Alert.objects.filter(kind=Alert.Kind.SAME_PAYER_ACCOUNT).exists()
    # The second bidder's money comes from the same account, in its own name (a shell transfer).
    pay(second, "500000", payer_account="SHARED-1")
    alert = Alert.objects.get(kind=Alert.Kind.SAME_PAYER_ACCOUNT)
    assert alert.project_id == project.pk
    assert (
        supplier.organization.name in alert.summary
        and other_supplier.organization.name in alert.summary
    )


def test_only_registered_bidders_get_a_sub_account(project, supplier):
    from accounts.actors import Actor
    from lib.errors import DomainError

    with pytest.raises(DomainError) as refused:
        services.open_sub_account(Actor.for_user(supplier), project.lots.get())
    assert refused.value.code == "NOT_REGISTERED"


def test_a_barred_bidder_gets_no_sub_account(project, supplier, staff):
    from accounts import services as accounts
    from accounts.actors import Actor
    from accounts.services import OrganizationBarred
    from trading import services as trading

    lot = project.lots.get()
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        trading.register(Actor.for_user(supplier), lot)
        accounts.bar_organization(
            Actor.for_user(staff),
            supplier.organization,
            category="bad_conduct",
            source="regulator",
            reason="串标",
            barred_from=dt.date(2026, 3, 2),
            barred_until=None,
        )
        with pytest.raises(OrganizationBarred):
            services.open_sub_account(Actor.for_user(supplier), lot)
