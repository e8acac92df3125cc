"""Refund rules with travelled time, the bank batch and its confirmations, forfeiture, land conversion."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from accounts.actors import Actor
from audit.models import Alert
from clock.calendar import add_working_days
from clock.services import run_due
from deposits import ledger, services
from deposits.checks import check_ledger
from deposits.models import Account, Deposit, Refund
from lib.errors import Conflict, NotPermitted
from tests.deposits.helpers import BANK, T0, pay, register_with_account, tender
from tests.trading.factories import beijing
from trading import services as trading

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def deposit_for(project, user, amount="500000", at=None):
    account = register_with_account(user, project)
    pay(account, amount, at=at or T0 + dt.timedelta(days=1))
    return Deposit.objects.get(organization=user.organization, lot__project=project)


def confirm(refund, status="paid", reference=None):
    message = BANK.refund_confirmation(refund.pk, status=status, bank_reference=reference)
    return services.confirm_refund(message.bank, message.body, message.signature)


def test_withdrawal_before_the_deadline_is_refunded_within_5_days(agent, staff, supplier):
    project = tender(agent, staff)
    deposit = deposit_for(project, supplier)
    withdrawn = beijing("2026-03-10 15:00")
    (refund,) = services.refund_on_withdrawal(
        SYSTEM, project.lots.get(), supplier.organization, withdrawn
    )
    # Five days from Tuesday 10 March end on Sunday the 15th: due on Monday, same time.
    assert refund.due_at == beijing("2026-03-16 15:00")
    assert refund.interest == 0
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.REFUND_SCHEDULED


def test_gp_withdrawal_counts_working_days(agent, staff, supplier, settings):
    project = tender(agent, staff, kind="gp", category="goods", deposit="20000.00")
    # GP deposits are guarantees; test the rule itself.
    from deposits.rules import due_at

    friday = beijing("2026-04-03 10:00")
    expected = add_working_days(friday, 5)
    assert due_at("withdrawal", "gp", friday) == expected
    assert expected - friday > dt.timedelta(days=5)  # weekends (and Qingming) do not count
    assert project.kind == "gp"


def test_engineering_contract_signing_refunds_everyone_with_interest(
    agent, staff, supplier, other_supplier, settings
):
    settings.DEPOSIT_DEMAND_RATE = "0.0035"
    project = tender(agent, staff)
    winner = deposit_for(project, supplier, at=beijing("2026-03-05 10:00"))
    loser = deposit_for(project, other_supplier, at=beijing("2026-03-06 10:00"))
    signed = beijing("2026-05-20 16:00")
    refunds = services.refund_on_contract_signed(
        SYSTEM, project.lots.get(), supplier.organization, signed
    )
    assert {r.deposit_id for r in refunds} == {winner.pk, loser.pk}
    by_deposit = {r.deposit_id: r for r in refunds}
    assert by_deposit[winner.pk].due_at == signed + dt.timedelta(days=5)
    # 500,000 × 0.35 % × 81 days / 360 (5 March → 25 May) = 393.75
    assert by_deposit[winner.pk].interest == Decimal("393.75")
    assert by_deposit[loser.pk].interest == Decimal("388.89")  # 80 days


def test_gp_losers_at_the_award_notice_and_the_winner_after_the_contract(
    agent, staff, supplier, other_supplier
):
    project = tender(agent, staff, kind="gp", category="services", deposit="20000.00")
    lot = project.lots.get()
    # GP takes no cash: check who is refunded and when through held guarantees.
    from django.core.files.uploadedfile import SimpleUploadedFile

    deposits = {}
    for user, number in ((supplier, "G1"), (other_supplier, "G2")):
        with time_machine.travel(T0 + dt.timedelta(hours=2), tick=False):
            trading.register(Actor.for_user(user), lot)
            guarantee = services.submit_guarantee(
                Actor.for_user(user),
                lot,
                kind="bank_guarantee",
                issuer="建设银行",
                number=number,
                amount="20000",
                valid_from=dt.date(2026, 3, 1),
                valid_until=services.required_guarantee_validity(lot),
                upload=SimpleUploadedFile("g.pdf", b"%PDF"),
            )
        services.verify_guarantee(
            Actor.for_user(staff), guarantee, accepted=True, method="电子保函平台验真"
        )
        deposits[user.username] = Deposit.objects.get(guarantee=guarantee)
    services.refund_losers_on_award(SYSTEM, lot, supplier.organization, beijing("2026-04-20 10:00"))
    statuses = {d.organization_id: d.status for d in Deposit.objects.all()}
    assert statuses[other_supplier.organization_id] == Deposit.Status.REFUNDED  # guarantee released
    assert statuses[supplier.organization_id] == Deposit.Status.HELD
    services.refund_on_contract_signed(
        SYSTEM, lot, supplier.organization, beijing("2026-05-06 10:00")
    )
    assert Deposit.objects.get(pk=deposits["supplier"].pk).status == Deposit.Status.REFUNDED


def test_gp_cash_refund_due_dates_use_working_days():
    from deposits.rules import due_at

    # 30 Sept, then 1–7 Oct off, 8, 9, 10 (make-up Saturday), 12 Oct.
    award = beijing("2026-09-29 10:00")
    assert timezone.localtime(due_at("not_awarded", "gp", award)).date() == dt.date(2026, 10, 12)


def test_land_losers_within_5_working_days_without_interest(agent, staff, supplier, other_supplier):
    project = tender(agent, staff)
    deposit_for(project, supplier)
    loser = deposit_for(project, other_supplier)
    # Labour Day: 1–5 May 2026 off, Saturday 9 May a make-up workday → 6, 7, 8, 9, 11 May.
    deal = beijing("2026-04-30 11:00")
    (refund,) = services.refund_losers_on_land_deal(
        SYSTEM, project.lots.get(), supplier.organization, deal
    )
    assert refund.deposit_id == loser.pk
    assert refund.interest == 0
    assert timezone.localtime(refund.due_at).date() == dt.date(2026, 5, 11)


def test_termination_refunds_everyone_with_interest(agent, staff, supplier, other_supplier):
    project = tender(agent, staff)
    deposit_for(project, supplier, at=beijing("2026-03-03 10:00"))
    deposit_for(project, other_supplier, at=beijing("2026-03-03 10:00"))
    with time_machine.travel(beijing("2026-03-13 10:00"), tick=False):
        trading.terminate_project(Actor.for_user(agent), project, reason="项目取消")
    refunds = Refund.objects.all()
    assert refunds.count() == 2
    assert all(r.reason == "termination" and r.interest > 0 for r in refunds)


def test_the_batch_and_the_banks_confirmation_settle_a_refund_once(agent, staff, supplier):
    project = tender(agent, staff)
    deposit = deposit_for(project, supplier)
    account = deposit.account
    (refund,) = services.refund_on_withdrawal(
        SYSTEM, project.lots.get(), supplier.organization, timezone.now()
    )
    batch = services.create_refund_batch(Actor.for_user(staff))
    rows = list(csv.DictReader(io.StringIO(batch.csv)))
    assert rows == [
        {
            "refund_id": str(refund.pk),
            "payee_name": supplier.organization.name,
            "payee_account": "44050166000100001111",
            "amount": "500000.00",
            "currency": "CNY",
            "reason": "withdrawal",
            "due_date": timezone.localtime(refund.due_at).date().isoformat(),
        }
    ]
    assert services.create_refund_batch(Actor.for_user(staff)) is None  # nothing instructed twice
    assert ledger.held_for(account) == 0
    assert check_ledger() == []
    paid = confirm(refund, reference="BANKREF1")
    assert paid.status == Refund.Status.PAID
    again = confirm(refund, reference="BANKREF1")  # a replayed confirmation changes nothing
    assert again.status == Refund.Status.PAID
    with pytest.raises(services.ReplayConflict):
        confirm(refund, reference="OTHER")
    assert Alert.objects.filter(kind=Alert.Kind.REFUND_CONFIRMATION_CONFLICT).exists()
    assert ledger.balance(ledger.book_account(Account.Kind.CUSTODY, "CNY")) == 0
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.REFUNDED
    assert check_ledger() == []


def test_a_failed_refund_returns_the_money_to_the_sub_account(agent, staff, supplier):
    project = tender(agent, staff)
    deposit = deposit_for(project, supplier)
    (refund,) = services.refund_on_withdrawal(
        SYSTEM, project.lots.get(), supplier.organization, timezone.now()
    )
    services.create_refund_batch(Actor.for_user(staff))
    confirm(refund, status="failed", reference="ACCOUNT-CLOSED")
    assert ledger.held_for(deposit.account) == Decimal("500000.00")
    assert check_ledger() == []
    again = services.reschedule_failed_refund(
        Actor.for_user(staff), Refund.objects.get(pk=refund.pk)
    )
    assert again.status == Refund.Status.SCHEDULED


def test_suppliers_cannot_batch_or_forfeit(agent, staff, supplier):
    project = tender(agent, staff)
    deposit = deposit_for(project, supplier)
    with pytest.raises(NotPermitted):
        services.create_refund_batch(Actor.for_user(supplier))
    with pytest.raises(NotPermitted):
        services.forfeit_deposit(
            Actor.for_user(supplier), deposit, reason="refused_to_sign", note="x"
        )


def test_forfeiture_moves_the_money_to_forfeited_funds_once(agent, staff, supplier):
    project = tender(agent, staff)
    deposit = deposit_for(project, supplier)
    services.forfeit_deposit(
        Actor.for_user(staff),
        deposit,
        reason="refused_to_sign",
        note="中标人拒签合同，书面通知见附件",
    )
    assert ledger.held_for(ledger.book_account(Account.Kind.FORFEITED, "CNY")) == Decimal(
        "500000.00"
    )
    with pytest.raises(Conflict):
        services.forfeit_deposit(
            Actor.for_user(staff), deposit, reason="refused_to_sign", note="again"
        )
    assert (
        services.refund_on_withdrawal(
            SYSTEM, project.lots.get(), supplier.organization, timezone.now()
        )
        == []
    )
    assert check_ledger() == []


def test_forfeiting_a_scheduled_refund_cancels_it(agent, staff, supplier):
    project = tender(agent, staff)
    deposit = deposit_for(project, supplier)
    services.refund_on_withdrawal(SYSTEM, project.lots.get(), supplier.organization, timezone.now())
    services.forfeit_deposit(
        Actor.for_user(staff), deposit, reason="decryption_failure", note="投标人证书失效"
    )
    assert Refund.objects.get().status == Refund.Status.CANCELLED
    assert services.create_refund_batch(Actor.for_user(staff)) is None
    assert check_ledger() == []


def test_a_land_winners_deposit_becomes_earnest_then_price(agent, staff, supplier):
    project = tender(agent, staff)
    deposit = deposit_for(project, supplier)
    services.convert_to_earnest(Actor.for_user(staff), deposit)
    assert ledger.held_for(ledger.book_account(Account.Kind.LAND_EARNEST, "CNY")) == Decimal(
        "500000.00"
    )
    services.apply_to_land_price(Actor.for_user(staff), deposit)
    assert ledger.held_for(ledger.book_account(Account.Kind.LAND_PRICE, "CNY")) == Decimal(
        "500000.00"
    )
    assert ledger.held_for(ledger.book_account(Account.Kind.LAND_EARNEST, "CNY")) == 0
    assert check_ledger() == []


def test_an_unpaid_refund_alerts_supervisors_when_it_falls_due(agent, staff, supplier):
    project = tender(agent, staff)
    deposit_for(project, supplier)
    withdrawn = beijing("2026-03-10 10:00")
    (refund,) = services.refund_on_withdrawal(
        SYSTEM, project.lots.get(), supplier.organization, withdrawn
    )
    run_due(withdrawn + dt.timedelta(days=4))
    assert not Alert.objects.filter(kind=Alert.Kind.REFUND_OVERDUE).exists()
    with time_machine.travel(refund.due_at + dt.timedelta(minutes=1), tick=False):
        run_due()
    alert = Alert.objects.get(kind=Alert.Kind.REFUND_OVERDUE, object_id=str(refund.pk))
    assert alert.project_id == project.pk


def test_an_overdue_refund_of_misdirected_money_names_the_project(agent, staff, supplier):
    # Money from someone else never became a deposit, but it was paid to this project's sub-account.
    project = tender(agent, staff)
    account = register_with_account(supplier, project)
    pay(account, "500000", payer_name="某某投资有限公司", payer_account="622200001234")
    refund = Refund.objects.get(reason=Refund.Reason.PAYER_MISMATCH)
    with time_machine.travel(refund.due_at + dt.timedelta(minutes=1), tick=False):
        run_due()
    alert = Alert.objects.get(kind=Alert.Kind.REFUND_OVERDUE)
    assert alert.project_id == project.pk


def test_a_refund_paid_in_time_raises_no_alert(agent, staff, supplier):
    project = tender(agent, staff)
    deposit_for(project, supplier)
    (refund,) = services.refund_on_withdrawal(
        SYSTEM, project.lots.get(), supplier.organization, timezone.now()
    )
    services.create_refund_batch(Actor.for_user(staff))
    confirm(refund)
    with time_machine.travel(refund.due_at + dt.timedelta(minutes=1), tick=False):
        run_due()
    assert not Alert.objects.filter(kind=Alert.Kind.REFUND_OVERDUE).exists()


def test_check_ledger_names_a_tampered_line(agent, staff, supplier):
    from django.db import connection

    project = tender(agent, staff)
    deposit_for(project, supplier)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE deposits_journalline SET amount_fen = amount_fen + 1 WHERE amount_fen > 0"
        )
    problems = check_ledger()
    assert any("does not balance" in p for p in problems)
    assert any("custody CNY" in p for p in problems)
