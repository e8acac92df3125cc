"""The ledger's invariants, checked from the raw rows (`python manage.py check_ledger`).

Journal lines are integer fen, so the database sums them exactly. Sums of DECIMAL columns (notifications,
refunds, deposits) are added up in Python: SQLite would add them in floating point.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, QuerySet, Sum

from deposits.ledger import from_fen
from deposits.models import Account, BankNotification, Deposit, JournalEntry, JournalLine, Refund

ZERO = Decimal("0.00")
LIABILITIES = (Account.Kind.SUB_ACCOUNT, Account.Kind.SUSPENSE, Account.Kind.REFUNDS_PAYABLE)


def _sum_by(rows: QuerySet[Any, tuple[Any, ...]]) -> dict[Any, Decimal]:
    totals: dict[Any, Decimal] = defaultdict(lambda: ZERO)
    for key, *amounts in rows.iterator():
        totals[key] += sum(amounts, ZERO)
    return totals


def check_ledger() -> list[str]:
    """Every broken invariant, as a sentence naming what broke (empty when the books are sound)."""
    problems: list[str] = []

    # 1. Every entry balances in each currency, has two lines or more, and posts in its accounts' currency.
    unbalanced = (
        JournalLine.objects.values("entry_id", "currency")
        .annotate(total=Sum("amount_fen"))
        .exclude(total=0)
    )
    for row in unbalanced[:20]:
        problems.append(
            f"entry {row['entry_id']} does not balance in {row['currency']}: {from_fen(row['total'])}"
        )
    for pk in (
        JournalEntry.objects.annotate(n=Count("lines"))
        .filter(n__lt=2)
        .values_list("pk", flat=True)[:20]
    ):
        problems.append(f"entry {pk} has fewer than two lines")
    for pk in JournalLine.objects.exclude(currency=F("account__currency")).values_list(
        "pk", flat=True
    )[:20]:
        problems.append(f"journal line {pk} is in another currency than its account")

    balances = {
        row["account"]: from_fen(row["total"])
        for row in JournalLine.objects.values("account").annotate(total=Sum("amount_fen"))
    }
    accounts = {account.pk: account for account in Account.objects.all()}

    # 2. Custody = bank in − bank out, per currency.
    bank_in = _sum_by(BankNotification.objects.values_list("currency", "amount"))
    bank_out = _sum_by(
        Refund.objects.filter(status=Refund.Status.PAID).values_list(
            "currency", "principal", "interest"
        )
    )
    custody = {
        a.currency: balances.get(a.pk, ZERO)
        for a in accounts.values()
        if a.kind == Account.Kind.CUSTODY
    }
    for currency in sorted(set(bank_in) | set(bank_out) | set(custody)):
        expected = bank_in[currency] - bank_out[currency]
        if custody.get(currency, ZERO) != expected:
            problems.append(
                f"custody {currency} is {custody.get(currency, ZERO)} but bank in − bank out is {expected}"
            )

    # 3. No liability is below zero (a negative sub-account means money paid out twice).
    for pk, account in accounts.items():
        if account.kind in LIABILITIES and balances.get(pk, ZERO) > 0:
            problems.append(
                f"{account.get_kind_display()} {account.number} is negative: {-balances[pk]}"
            )

    # 4. Each sub-account holds exactly its money deposits (cash, collected instruments) that are held
    # or awaiting refund.
    held = _sum_by(
        Deposit.objects.filter(
            form__in=(Deposit.Form.CASH, Deposit.Form.INSTRUMENT),
            status__in=(Deposit.Status.HELD, Deposit.Status.REFUND_SCHEDULED),
        ).values_list("account", "amount")
    )
    for pk, account in accounts.items():
        if account.kind == Account.Kind.SUB_ACCOUNT and -balances.get(pk, ZERO) != held[pk]:
            problems.append(
                f"sub-account {account.number} holds {-balances.get(pk, ZERO)} "
                f"but its held deposits total {held[pk]}"
            )

    # 5. Refunds payable = refunds instructed to the bank and not yet confirmed.
    instructed = _sum_by(
        Refund.objects.filter(status=Refund.Status.INSTRUCTED).values_list(
            "currency", "principal", "interest"
        )
    )
    payable = {
        a.currency: -balances.get(a.pk, ZERO)
        for a in accounts.values()
        if a.kind == Account.Kind.REFUNDS_PAYABLE
    }
    for currency in sorted(set(instructed) | set(payable)):
        if payable.get(currency, ZERO) != instructed[currency]:
            problems.append(
                f"refunds payable {currency} is {payable.get(currency, ZERO)} "
                f"but instructed refunds total {instructed[currency]}"
            )

    # 6. At most one live refund per deposit (also a database constraint).
    doubled = (
        Refund.objects.exclude(status__in=[Refund.Status.FAILED, Refund.Status.CANCELLED])
        .filter(deposit__isnull=False)
        .values("deposit")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    for doubled_row in doubled[:20]:
        problems.append(f"deposit {doubled_row['deposit']} has {doubled_row['n']} live refunds")
    return problems
