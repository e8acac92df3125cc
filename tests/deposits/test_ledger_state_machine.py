"""Thousands of random bank messages, replays, refunds, confirmations, forfeitures and land
conversions: after every single step the ledger's invariants hold and custody equals what the bank
actually moved."""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from accounts.actors import Actor
from deposits import ledger, services
from deposits.bank import sign
from deposits.checks import check_ledger
from deposits.models import Account, BankNotification, Deposit, Refund
from lib.errors import DomainError
from tests.deposits.helpers import BANK, register_with_account, tender

SYSTEM = Actor.system("hypothesis")
amounts = st.integers(min_value=1, max_value=2_000_000_00).map(lambda cents: Decimal(cents) / 100)


def custody_balance() -> Decimal:
    return ledger.balance(ledger.book_account(Account.Kind.CUSTODY, "CNY"))


class LedgerMachine(RuleBasedStateMachine):
    accounts: list[Account] = []
    staff = None

    def __init__(self) -> None:
        super().__init__()
        # Each example runs in a savepoint rolled back at teardown, so every example starts from the
        # same database and hypothesis can replay and shrink it.
        self._example = transaction.atomic()
        self._example.__enter__()
        self.expected_custody = custody_balance()
        self.sent: list[bytes] = []
        self.counter = BankNotification.objects.count()

    # --- bank → platform ---

    @rule(index=st.integers(0, 2), amount=amounts, own_payer=st.booleans())
    def payment(self, index: int, amount: Decimal, own_payer: bool) -> None:
        account = self.accounts[index]
        self.counter += 1
        message = BANK.payment(
            account_number=account.number,
            amount=amount,
            payer_name=account.organization.name if own_payer else "无关第三方",
            payer_account=f"ACC-{index}",
            transaction_id=f"HYP-{id(self)}-{self.counter}",
        )
        result = services.receive_bank_notification(message.bank, message.body, message.signature)
        assert result.replay is False
        self.expected_custody += amount
        self.sent.append(message.body)

    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        assume(self.sent)
        body = data.draw(st.sampled_from(self.sent))
        result = services.receive_bank_notification(BANK.bank, body, sign(BANK.secret, body))
        assert result.replay is True

    @rule(data=st.data(), bump=amounts)
    def replay_with_other_content(self, data: st.DataObject, bump: Decimal) -> None:
        assume(self.sent)
        payload = json.loads(data.draw(st.sampled_from(self.sent)))
        payload["amount"] = f"{Decimal(payload['amount']) + bump:.2f}"
        body = json.dumps(payload).encode()
        with pytest.raises(services.ReplayConflict):
            services.receive_bank_notification(BANK.bank, body, sign(BANK.secret, body))

    # --- staff decisions ---

    def _pick(self, data: st.DataObject, queryset):
        candidates = list(queryset.order_by("pk").values_list("pk", flat=True)[:50])
        assume(candidates)
        return data.draw(st.sampled_from(candidates))

    @rule(
        data=st.data(),
        reason=st.sampled_from(["withdrawal", "termination", "contract_signed", "land_not_won"]),
    )
    def schedule_refund(self, data: st.DataObject, reason: str) -> None:
        pk = self._pick(data, Deposit.objects.filter(status=Deposit.Status.HELD))
        services.schedule_refund(
            Actor.for_user(self.staff), Deposit.objects.get(pk=pk), reason=reason
        )
        # Scheduling twice never refunds twice.
        assert (
            services.schedule_refund(
                Actor.for_user(self.staff), Deposit.objects.get(pk=pk), reason=reason
            )
            is None
        )

    @rule()
    def batch(self) -> None:
        services.create_refund_batch(Actor.for_user(self.staff))

    @rule(data=st.data(), paid=st.booleans())
    def bank_confirms(self, data: st.DataObject, paid: bool) -> None:
        pk = self._pick(data, Refund.objects.filter(status=Refund.Status.INSTRUCTED))
        refund = Refund.objects.get(pk=pk)
        message = BANK.refund_confirmation(
            pk, status="paid" if paid else "failed", bank_reference=f"R{pk}"
        )
        services.confirm_refund(message.bank, message.body, message.signature)
        # The bank sends it again: nothing changes.
        services.confirm_refund(message.bank, message.body, message.signature)
        if paid:
            self.expected_custody -= refund.total

    @rule(data=st.data())
    def reschedule_failed(self, data: st.DataObject) -> None:
        pk = self._pick(data, Refund.objects.filter(status=Refund.Status.FAILED))
        # The deposit may have moved on meanwhile (forfeited, or already rescheduled): then it refuses.
        with contextlib.suppress(DomainError):
            services.reschedule_failed_refund(Actor.for_user(self.staff), Refund.objects.get(pk=pk))

    @rule(data=st.data())
    def forfeit(self, data: st.DataObject) -> None:
        pk = self._pick(
            data,
            Deposit.objects.filter(
                status__in=[Deposit.Status.HELD, Deposit.Status.REFUND_SCHEDULED]
            ),
        )
        services.forfeit_deposit(
            Actor.for_user(self.staff),
            Deposit.objects.get(pk=pk),
            reason="refused_to_sign",
            note="随机",
        )

    @rule(data=st.data())
    def convert_land(self, data: st.DataObject) -> None:
        pk = self._pick(data, Deposit.objects.filter(status=Deposit.Status.HELD))
        deposit = services.convert_to_earnest(
            Actor.for_user(self.staff), Deposit.objects.get(pk=pk)
        )
        services.apply_to_land_price(Actor.for_user(self.staff), deposit)

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._example.__exit__(None, None, None)

    @invariant()
    def books_balance(self) -> None:
        assert check_ledger() == []
        assert custody_balance() == self.expected_custody


@pytest.mark.django_db
def test_the_ledger_holds_under_random_operations(agent, staff, supplier, other_supplier):
    from tests.conftest import make_org, make_user

    third = make_user("third", "supplier", make_org("supplier", "丙建设公司"))
    project = tender(agent, staff)
    LedgerMachine.accounts = [
        register_with_account(user, project) for user in (supplier, other_supplier, third)
    ]
    LedgerMachine.staff = staff
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=50,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
