"""Concurrent bank messages and refunds at one sub-account, on PostgreSQL with real threads: nothing is
credited, refunded or paid twice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from accounts.actors import Actor
from deposits import guarantee_simulator, ledger, services
from deposits.checks import check_ledger
from deposits.models import BankNotification, Deposit, Guarantee, JournalEntry, Refund
from tests.conftest import requires_postgres, run_concurrently
from tests.deposits.helpers import BANK, T0, register_with_account, tender
from trading import services as trading

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]
THREADS = 12


def deliver(message):
    return services.receive_bank_notification(message.bank, message.body, message.signature)


def test_the_same_notification_delivered_concurrently_credits_once(agent, staff, supplier):
    account = register_with_account(supplier, tender(agent, staff))
    message = BANK.payment(
        account_number=account.number,
        amount="500000",
        payer_name=supplier.organization.name,
        payer_account="A1",
        transaction_id="SAME-TX",
    )
    results = run_concurrently(deliver, [(message,)] * THREADS)
    assert all(not isinstance(r, Exception) for r in results), results
    assert sorted(r.replay for r in results) == [False] + [True] * (THREADS - 1)
    assert BankNotification.objects.count() == 1
    assert ledger.held_for(account) == Decimal("500000.00")
    assert check_ledger() == []


def test_different_notifications_to_one_sub_account_all_count(agent, staff, supplier):
    account = register_with_account(supplier, tender(agent, staff))
    messages = [
        BANK.payment(
            account_number=account.number,
            amount=f"{i}.01",
            payer_name=supplier.organization.name,
            payer_account="A1",
            transaction_id=f"TX-{i}",
        )
        for i in range(1, THREADS + 1)
    ]
    results = run_concurrently(deliver, [(m,) for m in messages])
    assert all(not isinstance(r, Exception) for r in results), results
    expected = sum((Decimal(f"{i}.01") for i in range(1, THREADS + 1)), Decimal("0"))
    assert ledger.held_for(account) == expected
    assert check_ledger() == []


def test_concurrent_refund_scheduling_and_confirmation_pay_once(agent, staff, supplier):
    account = register_with_account(supplier, tender(agent, staff))
    deliver(
        BANK.payment(
            account_number=account.number,
            amount="500000",
            payer_name=supplier.organization.name,
            payer_account="A1",
        )
    )
    deposit = Deposit.objects.get()

    def schedule():
        return services.schedule_refund(
            Actor.for_user(staff), Deposit.objects.get(pk=deposit.pk), reason="withdrawal"
        )

    scheduled = run_concurrently(schedule, [()] * THREADS)
    assert all(not isinstance(r, Exception) for r in scheduled), scheduled
    assert sum(r is not None for r in scheduled) == 1
    assert Refund.objects.count() == 1

    batches = run_concurrently(
        lambda: services.create_refund_batch(Actor.for_user(staff)), [()] * 4
    )
    assert sum(b is not None for b in batches) == 1
    refund = Refund.objects.get()
    assert refund.status == Refund.Status.INSTRUCTED

    confirmation = BANK.refund_confirmation(refund.pk, bank_reference="PAID-1")
    confirmed = run_concurrently(
        lambda: services.confirm_refund(
            confirmation.bank, confirmation.body, confirmation.signature
        ),
        [()] * THREADS,
    )
    assert all(not isinstance(r, Exception) for r in confirmed), confirmed
    assert JournalEntry.objects.filter(kind="refund_paid").count() == 1
    assert Refund.objects.get().status == Refund.Status.PAID
    assert check_ledger() == []


def test_a_refund_racing_a_forfeiture_ends_in_exactly_one_of_them(agent, staff, supplier):
    account = register_with_account(supplier, tender(agent, staff))
    deliver(
        BANK.payment(
            account_number=account.number,
            amount="1000",
            payer_name=supplier.organization.name,
            payer_account="A1",
        )
    )
    deposit_id = Deposit.objects.get().pk
    services.schedule_refund(
        Actor.for_user(staff), Deposit.objects.get(pk=deposit_id), reason="withdrawal"
    )

    def batch():
        return services.create_refund_batch(Actor.for_user(staff))

    def forfeit():
        return services.forfeit_deposit(
            Actor.for_user(staff),
            Deposit.objects.get(pk=deposit_id),
            reason="refused_to_sign",
            note="并发",
        )

    run_concurrently(lambda job: job(), [(batch,), (forfeit,)] * 3)
    status = Deposit.objects.get(pk=deposit_id).status
    assert status in (Deposit.Status.FORFEITED, Deposit.Status.REFUNDING)
    assert check_ledger() == []


def test_one_electronic_guarantee_filed_concurrently_counts_once(agent, staff, supplier):
    lot = tender(agent, staff).lots.get()
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        trading.register(Actor.for_user(supplier), lot)
    with time_machine.travel(T0 + dt.timedelta(days=2), tick=False):
        document = guarantee_simulator.issue(lot, supplier.organization)

        def file(_index: int):
            return services.submit_electronic_guarantee(Actor.for_user(supplier), lot, document)

        results = run_concurrently(file, [(i,) for i in range(THREADS)])
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == THREADS - 1, results
    assert all(getattr(r, "code", None) == "GUARANTEE_DUPLICATE" for r in refused), refused
    assert Guarantee.objects.count() == 1 and Deposit.objects.count() == 1
    assert services.qualification(lot, supplier.organization).qualified
