"""A published tender with one lot requiring a deposit, bidders registered with sub-accounts, and the
simulated bank."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import time_machine
from django.utils import timezone

from accounts.actors import Actor
from deposits import services
from deposits.bank_simulator import BankSimulator
from tests.trading.factories import beijing, published, timeline
from trading import services as trading

T0 = beijing("2026-03-02 09:00")
BANK = BankSimulator()


def tender(
    agent,
    staff,
    *,
    kind="construction",
    category="works",
    deposit="500000.00",
    forms=None,
):
    if forms is None:
        # GP: no list offers every legal form (the supplier chooses); others take cash or a guarantee.
        forms = () if kind == "gp" else ("cash", "bank_guarantee")
    lots = [
        {
            "name": "一标段",
            "estimate": "30000000.00",
            "deposit_amount": deposit,
            "deposit_forms": list(forms),
        }
    ]
    with time_machine.travel(T0, tick=False):
        project = published(
            agent,
            staff,
            start=T0 + dt.timedelta(minutes=1),
            kind=kind,
            category=category,
            lots=lots,
            **timeline(T0 + dt.timedelta(minutes=1)),
        )
    return project


def register_with_account(user, project, *, at=None):
    lot = project.lots.get()
    with time_machine.travel(at or T0 + dt.timedelta(hours=1), tick=False):
        trading.register(Actor.for_user(user), lot)
        return services.open_sub_account(Actor.for_user(user), lot)


def pay(
    account,
    amount,
    *,
    payer_name=None,
    payer_account="44050166000100001111",
    at=None,
    txn=None,
    currency="CNY",
):
    message = BANK.payment(
        account_number=account.number,
        amount=Decimal(amount),
        payer_name=payer_name or account.organization.name,
        payer_account=payer_account,
        value_time=at,
        transaction_id=txn,
        currency=currency,
    )
    if at is not None and at > timezone.now():
        # The bank reports a credit when it happens, never ahead of it (VALUE_TIME_IN_FUTURE).
        with time_machine.travel(at, tick=False):
            return services.receive_bank_notification(message.bank, message.body, message.signature)
    return services.receive_bank_notification(message.bank, message.body, message.signature)
