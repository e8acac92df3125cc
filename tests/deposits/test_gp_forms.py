"""Government procurement: every deposit form a GP lot offers leads to a qualified deposit and back.

GP 条例 Art.33 lets the supplier pay by cheque, draft, promissory note or guarantee, and 财库〔2019〕38号
forbids narrowing that choice; a transfer from the supplier's 基本账户 counts as non-cash settlement
(trading.rules). So each form below is taken by a supplier to `qualification`, then refunded.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.actors import Actor
from deposits import services
from deposits.checks import check_ledger
from deposits.models import BankNotification, Deposit, Guarantee, Instrument, Refund
from lib.errors import Conflict, DomainError, NotPermitted
from tests.deposits.helpers import BANK, T0, tender
from trading import services as trading

pytestmark = pytest.mark.django_db

DEPOSIT = "20000.00"
BASIC_ACCOUNT = "44050166000100001111"
REGISTERED = T0 + dt.timedelta(hours=1)
HANDED_IN = T0 + dt.timedelta(days=2)
WITHDRAWN = T0 + dt.timedelta(days=3)
LEGAL_SET = {"cash", "bank_guarantee", "insurance_guarantee", "cheque", "draft", "promissory_note"}


@pytest.fixture
def lot(agent, staff, supplier):
    supplier.organization.basic_account_number = BASIC_ACCOUNT
    supplier.organization.save(update_fields=["basic_account_number"])
    project = tender(agent, staff, kind="gp", category="goods", deposit=DEPOSIT)
    lot = project.lots.get()
    with time_machine.travel(REGISTERED, tick=False):
        trading.register(Actor.for_user(supplier), lot)
    return lot


def qualification(lot, supplier):
    return services.qualification(lot, supplier.organization)


def withdraw(lot, supplier):
    return services.refund_on_withdrawal(
        Actor.system("test"), lot, supplier.organization, WITHDRAWN
    )


def instruct_and_pay(staff, refund):
    with time_machine.travel(WITHDRAWN + dt.timedelta(hours=1), tick=False):
        services.create_refund_batch(Actor.for_user(staff))
        message = BANK.refund_confirmation(refund.pk, bank_reference=f"RF-{refund.pk}")
        return services.confirm_refund(message.bank, message.body, message.signature)


def register(staff, lot, supplier, kind, **overrides):
    fields = {
        "kind": kind,
        "bank": "中国工商银行珠海分行",
        "number": f"{kind.upper()}-0001",
        "amount": DEPOSIT,
        "drawer_account": BASIC_ACCOUNT,
        "issued_on": HANDED_IN.date() - dt.timedelta(days=1),
        "payable_until": None if kind == "cheque" else HANDED_IN.date() + dt.timedelta(days=60),
    }
    fields.update(overrides)
    with time_machine.travel(HANDED_IN, tick=False):
        return services.register_instrument(
            Actor.for_user(staff), lot, supplier.organization, **fields
        )


def collect(instrument, *, amount=DEPOSIT, at=None, number=None, payer_account=BASIC_ACCOUNT):
    """The custody bank's signed credit for the instrument the center presented for collection."""
    account = instrument.lot.deposit_accounts.get(organization=instrument.organization)
    at = at or HANDED_IN + dt.timedelta(hours=3)
    with time_machine.travel(at, tick=False):
        message = BANK.payment(
            account_number=account.number,
            amount=amount,
            payer_name=instrument.organization.name,
            payer_account=payer_account,
            value_time=at,
            instrument_number=number or instrument.number,
        )
        return services.receive_bank_notification(message.bank, message.body, message.signature)


def test_a_gp_lot_offers_the_whole_legal_set(lot):
    assert set(lot.deposit_forms) == LEGAL_SET


@pytest.mark.parametrize("kind", ["cheque", "draft", "promissory_note"])
def test_an_instrument_qualifies_once_collected_and_is_refunded_by_transfer(
    lot, staff, supplier, kind
):
    instrument = register(staff, lot, supplier, kind)
    assert instrument.status == Instrument.Status.RECEIVED
    if kind == "cheque":  # 票据法 Art.91: ten days from issue
        assert instrument.payable_until == instrument.issued_on + dt.timedelta(days=10)
    assert qualification(lot, supplier).code == "NO_DEPOSIT"  # paper is not money yet

    collect(instrument)
    instrument.refresh_from_db()
    assert instrument.status == Instrument.Status.COLLECTED
    deposit = Deposit.objects.get(organization=supplier.organization)
    assert (deposit.form, deposit.instrument, deposit.arrived_at) == (
        Deposit.Form.INSTRUMENT,
        instrument,
        HANDED_IN,  # counted from when the center received it
    )
    result = qualification(lot, supplier)
    assert (result.qualified, result.counted_cny) == (True, Decimal(DEPOSIT))
    assert check_ledger() == []

    (refund,) = withdraw(lot, supplier)
    assert (refund.payee_account, refund.principal) == (BASIC_ACCOUNT, Decimal(DEPOSIT))
    assert qualification(lot, supplier).qualified is False
    assert instruct_and_pay(staff, refund).status == Refund.Status.PAID
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.REFUNDED
    assert check_ledger() == []


def test_a_transfer_from_the_basic_account_qualifies_and_is_refunded(lot, staff, supplier):
    with time_machine.travel(REGISTERED, tick=False):
        account = services.open_sub_account(Actor.for_user(supplier), lot)
    with time_machine.travel(HANDED_IN, tick=False):
        message = BANK.payment(
            account_number=account.number,
            amount=DEPOSIT,
            payer_name=supplier.organization.name,
            payer_account=BASIC_ACCOUNT,
        )
        services.receive_bank_notification(message.bank, message.body, message.signature)
    assert qualification(lot, supplier).qualified is True
    (refund,) = withdraw(lot, supplier)
    assert instruct_and_pay(staff, refund).status == Refund.Status.PAID
    assert check_ledger() == []


def test_a_gp_transfer_from_another_account_of_the_supplier_is_held(lot, supplier):
    with time_machine.travel(REGISTERED, tick=False):
        account = services.open_sub_account(Actor.for_user(supplier), lot)
    with time_machine.travel(HANDED_IN, tick=False):
        message = BANK.payment(
            account_number=account.number,
            amount=DEPOSIT,
            payer_name=supplier.organization.name,
            payer_account="62220000999988887777",  # a general account, not the 基本账户
        )
        result = services.receive_bank_notification(message.bank, message.body, message.signature)
    assert result.notification.outcome == BankNotification.Outcome.PAYER_MISMATCH
    assert qualification(lot, supplier).qualified is False


@pytest.mark.parametrize("kind", ["bank_guarantee", "insurance_guarantee"])
def test_a_guarantee_qualifies_and_is_released(lot, staff, supplier, kind):
    upload = SimpleUploadedFile("保函.pdf", b"%PDF-1.4 guarantee", content_type="application/pdf")
    with time_machine.travel(HANDED_IN, tick=False):
        guarantee = services.submit_guarantee(
            Actor.for_user(supplier),
            lot,
            kind=kind,
            issuer="中国银行珠海分行" if kind == "bank_guarantee" else "中国人民财产保险珠海分公司",
            number="G-001",
            amount=DEPOSIT,
            valid_from=HANDED_IN.date(),
            valid_until=services.required_guarantee_validity(lot),
            upload=upload,
        )
        services.verify_guarantee(
            Actor.for_user(staff), guarantee, accepted=True, method="出具方确认"
        )
    assert qualification(lot, supplier).qualified is True
    assert withdraw(lot, supplier) == []  # a guarantee is released, not paid back
    guarantee.refresh_from_db()
    assert guarantee.status == Guarantee.Status.RELEASED
    assert qualification(lot, supplier).qualified is False


def test_an_uncollected_instrument_is_handed_back(lot, staff, supplier):
    instrument = register(staff, lot, supplier, "draft")
    returned = services.return_instrument(Actor.for_user(staff), instrument, note="供应商撤回投标")
    assert returned.status == Instrument.Status.RETURNED
    assert qualification(lot, supplier).code == "NO_DEPOSIT"
    # Once returned it cannot be collected: the bank's credit is held for its payer instead.
    result = collect(returned)
    assert result.notification.outcome == BankNotification.Outcome.INSTRUMENT_MISMATCH
    assert Refund.objects.get().reason == Refund.Reason.INSTRUMENT_MISMATCH
    assert check_ledger() == []


def test_a_dishonoured_instrument_never_qualifies_and_is_handed_back(lot, staff, supplier):
    instrument = register(staff, lot, supplier, "cheque")
    services.record_dishonour(Actor.for_user(staff), instrument, reason="存款不足")
    instrument.refresh_from_db()
    assert instrument.status == Instrument.Status.DISHONOURED
    assert qualification(lot, supplier).code == "NO_DEPOSIT"
    services.return_instrument(Actor.for_user(staff), instrument)
    instrument.refresh_from_db()
    assert instrument.status == Instrument.Status.RETURNED


def test_a_collected_instrument_is_not_handed_back(lot, staff, supplier):
    instrument = register(staff, lot, supplier, "promissory_note")
    collect(instrument)
    with pytest.raises(Conflict) as refused:
        services.return_instrument(Actor.for_user(staff), instrument)
    assert refused.value.code == "WRONG_STATUS"


def test_a_credit_that_does_not_match_the_instrument_is_held_for_its_payer(lot, staff, supplier):
    instrument = register(staff, lot, supplier, "cheque")
    result = collect(instrument, amount="19999.00")
    assert result.notification.outcome == BankNotification.Outcome.INSTRUMENT_MISMATCH
    instrument.refresh_from_db()
    assert instrument.status == Instrument.Status.RECEIVED  # still to be collected or returned
    assert qualification(lot, supplier).qualified is False
    assert Refund.objects.get().payee_account == BASIC_ACCOUNT
    assert check_ledger() == []


def test_an_instrument_handed_in_after_the_deadline_is_late(lot, staff, supplier):
    late = lot.project.bid_deadline + dt.timedelta(minutes=1)
    with time_machine.travel(late, tick=False):
        instrument = services.register_instrument(
            Actor.for_user(staff),
            lot,
            supplier.organization,
            kind="cheque",
            bank="中国银行",
            number="LATE-1",
            amount=DEPOSIT,
            drawer_account=BASIC_ACCOUNT,
            issued_on=late.date(),
        )
    collect(instrument, at=late + dt.timedelta(hours=1))
    assert qualification(lot, supplier).code == "LATE"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"kind": "draft", "payable_until": None}, "MATURITY_REQUIRED"),
        ({"issued_on": HANDED_IN.date() - dt.timedelta(days=11)}, "INSTRUMENT_EXPIRED"),
        ({"issued_on": HANDED_IN.date() + dt.timedelta(days=1)}, "INVALID_ISSUE_DATE"),
        ({"amount": 20000}, "AMOUNT_NOT_STRING"),
        ({"amount": "-1"}, "AMOUNT_INVALID"),
        ({"number": " "}, "INSTRUMENT_INCOMPLETE"),
        ({"kind": "cash"}, "FORM_NOT_ALLOWED"),
    ],
)
def test_an_instrument_is_checked_when_registered(lot, staff, supplier, overrides, code):
    kind = overrides.pop("kind", "cheque")
    with pytest.raises(DomainError) as refused:
        register(staff, lot, supplier, kind, **overrides)
    assert refused.value.code == code
    assert not Instrument.objects.exists()


def test_one_instrument_is_registered_once(lot, staff, supplier):
    register(staff, lot, supplier, "cheque")
    with pytest.raises(Conflict) as refused:
        register(staff, lot, supplier, "cheque")
    assert refused.value.code == "INSTRUMENT_DUPLICATE"


def test_only_an_instrument_of_a_registered_supplier_is_taken(lot, staff, other_supplier):
    with pytest.raises(DomainError) as refused:
        register(staff, lot, other_supplier, "cheque")
    assert refused.value.code == "NOT_REGISTERED"


def test_a_lot_without_instruments_takes_none(agent, staff, supplier):
    project = tender(agent, staff)  # construction: cash or guarantee
    lot = project.lots.get()
    with time_machine.travel(REGISTERED, tick=False):
        trading.register(Actor.for_user(supplier), lot)
    with pytest.raises(DomainError) as refused:
        register(staff, lot, supplier, "cheque")
    assert refused.value.code == "FORM_NOT_ALLOWED"


@pytest.mark.parametrize("who", ["supervisor", "supplier", "agent"])
def test_only_staff_register_and_settle_instruments(lot, staff, supplier, request, who):
    user = request.getfixturevalue(who)
    with pytest.raises(NotPermitted):
        register(user, lot, supplier, "cheque")
    instrument = register(staff, lot, supplier, "cheque")
    with pytest.raises(NotPermitted):
        services.record_dishonour(Actor.for_user(user), instrument, reason="存款不足")
    with pytest.raises(NotPermitted):
        services.return_instrument(Actor.for_user(user), instrument)
    instrument.refresh_from_db()
    assert instrument.status == Instrument.Status.RECEIVED


def test_a_center_refusing_gp_transfers_opens_no_sub_account_to_suppliers(
    agent, staff, supplier, settings
):
    settings.TRADING_RULES = {
        "gp": {"deposit_caps": {"goods": {"percent_of_estimate": "0.02", "cash_allowed": False}}}
    }
    project = tender(agent, staff, kind="gp", category="goods", deposit=DEPOSIT)
    lot = project.lots.get()
    assert set(lot.deposit_forms) == LEGAL_SET - {"cash"}
    with time_machine.travel(REGISTERED, tick=False):
        trading.register(Actor.for_user(supplier), lot)
        with pytest.raises(DomainError) as refused:
            services.open_sub_account(Actor.for_user(supplier), lot)
    assert refused.value.code == "CASH_NOT_ACCEPTED"
    # An instrument still reaches a qualified deposit (collected into a sub-account staff open).
    instrument = register(staff, lot, supplier, "cheque")
    collect(instrument)
    assert services.qualification(lot, supplier.organization).qualified is True
