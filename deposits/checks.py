"""The ledger's invariants, checked from the raw rows (`python manage.py check_ledger`)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, F, Sum

from deposits.models import Account, BankNotification, Deposit, JournalEntry, JournalLine, Refund

ZERO = Decimal("0")
LIABILITIES = (Account.Kind.SUB_ACCOUNT, Account.Kind.SUSPENSE, Account.Kind.REFUNDS_PAYABLE)


def check_ledger() -> list[str]:
    """Every broken invariant, as a sentence naming what broke (empty when the books are sound)."""
    problems: list[str] = []

    # 1. Every entry balances in each currency and has at least two lines.
    unbalanced = (
        JournalLine.objects.values("entry_id", "currency")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
    )
    for row in unbalanced[:20]:
        problems.append(
            f"entry {row['entry_id']} does not balance in {row['currency']}: {row['total']}"
        )
    short = (
        JournalEntry.objects.annotate(n=Count("lines")).filter(n__lt=2).values_list("pk", flat=True)
    )
    for pk in short[:20]:
        problems.append(f"entry {pk} has fewer than two lines")
    mismatched = JournalLine.objects.exclude(currency=F("account__currency")).values_list(
        "pk", flat=True
    )
    for pk in mismatched[:20]:
        problems.append(f"journal line {pk} is in another currency than its account")

    balances: dict[int, Decimal] = {
        row["account"]: row["total"]
        for row in JournalLine.objects.values("account").annotate(total=Sum("amount"))
    }
    accounts = {a.pk: a for a in Account.objects.all()}

    # 2. Custody = bank in − bank out, per currency.
    bank_in: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for row in BankNotification.objects.values("currency").annotate(total=Sum("amount")):
        bank_in[row["currency"]] = row["total"]
    bank_out: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for row in (
        Refund.objects.filter(status=Refund.Status.PAID)
        .values("currency")
        .annotate(total=Sum("principal"), interest=Sum("interest"))
    ):
        bank_out[row["currency"]] = row["total"] + row["interest"]
    custody = {
        a.currency: balances.get(a.pk, ZERO)
        for a in accounts.values()
        if a.kind == Account.Kind.CUSTODY
    }
    for currency in set(bank_in) | set(bank_out) | set(custody):
        expected = bank_in[currency] - bank_out[currency]
        actual = custody.get(currency, ZERO)
        if actual != expected:
            problems.append(f"custody {currency} is {actual} but bank in − bank out is {expected}")

    # 3. No liability account owes less than nothing (a negative sub-account means money paid twice).
    for pk, account in accounts.items():
        if account.kind in LIABILITIES and balances.get(pk, ZERO) > 0:
            problems.append(
                f"{account.get_kind_display()} {account.number} is negative: {-balances[pk]}"
            )

    # 4. Each sub-account holds exactly its cash deposits that are held or awaiting refund.
    held_states = (Deposit.Status.HELD, Deposit.Status.REFUND_SCHEDULED)
    held = {
        row["account"]: row["total"]
        for row in Deposit.objects.filter(form=Deposit.Form.CASH, status__in=held_states)
        .values("account")
        .annotate(total=Sum("amount"))
    }
    for pk, account in accounts.items():
        if account.kind != Account.Kind.SUB_ACCOUNT:
            continue
        owed = -balances.get(pk, ZERO)
        if owed != held.get(pk, ZERO):
            problems.append(
                f"sub-account {account.number} holds {owed} but its held deposits total {held.get(pk, ZERO)}"
            )

    # 5. Refunds payable = instructed, unconfirmed refunds (principal + interest), per currency.
    instructed: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for row in (
        Refund.objects.filter(status=Refund.Status.INSTRUCTED)
        .values("currency")
        .annotate(total=Sum("principal"), interest=Sum("interest"))
    ):
        instructed[row["currency"]] = row["total"] + row["interest"]
    payable = {
        a.currency: -balances.get(a.pk, ZERO)
        for a in accounts.values()
        if a.kind == Account.Kind.REFUNDS_PAYABLE
    }
    for currency in set(instructed) | set(payable):
        if payable.get(currency, ZERO) != instructed[currency]:
            problems.append(
                f"refunds payable {currency} is {payable.get(currency, ZERO)} "
                f"but instructed refunds total {instructed[currency]}"
            )

    # 6. No deposit is refunded twice: at most one live refund each (also a database constraint).
    doubled = (
        Refund.objects.exclude(status__in=[Refund.Status.FAILED, Refund.Status.CANCELLED])
        .filter(deposit__isnull=False)
        .values("deposit")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    for row in doubled[:20]:
        problems.append(f"deposit {row['deposit']} has {row['n']} live refunds")
    return problems
