"""Posting balanced journal entries and reading balances. The only code that writes JournalLines."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from deposits.models import Account, JournalEntry, JournalLine

ZERO = Decimal("0.00")


class UnbalancedEntry(ValueError):
    pass


def book_account(kind: str, currency: str) -> Account:
    """The center's own account of `kind` in `currency`, created on first use."""
    account, _ = Account.objects.get_or_create(
        kind=kind,
        currency=currency,
        organization=None,
        lot=None,
        defaults={"number": f"BOOK-{kind.upper()}-{currency}"},
    )
    return account


def post(
    kind: str, reference: str, lines: list[tuple[Account, Decimal]], *, memo: str = ""
) -> JournalEntry:
    """Post one entry. `lines` are (account, signed amount): debit positive, credit negative.

    Refuses an entry that does not balance per currency, has a zero line, or has fewer than two lines.
    `reference` is unique: posting the same cause twice raises IntegrityError, which is how a replayed
    bank message or a retried confirmation can never move money twice.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger.post must run inside the service's transaction")
    if len(lines) < 2:
        raise UnbalancedEntry("an entry needs at least two lines")
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for account, amount in lines:
        if not isinstance(amount, Decimal):
            raise TypeError("ledger amounts are Decimal")
        if amount == 0 or amount != amount.quantize(Decimal("0.01")):
            raise UnbalancedEntry(f"bad amount {amount!r} on {account.number}")
        totals[account.currency] += amount
    if any(total != 0 for total in totals.values()):
        raise UnbalancedEntry(f"entry {reference} does not balance: {dict(totals)}")
    entry = JournalEntry.objects.create(
        kind=kind, reference=reference, memo=memo[:200], posted_at=timezone.now()
    )
    JournalLine.objects.bulk_create(
        [
            JournalLine(
                entry=entry, account=account, amount_fen=to_fen(amount), currency=account.currency
            )
            for account, amount in lines
        ]
    )
    return entry


def to_fen(amount: Decimal) -> int:
    return int(amount.scaleb(2))


def from_fen(fen: int | None) -> Decimal:
    return Decimal(fen or 0).scaleb(-2)


def balance(account: Account) -> Decimal:
    """Debit-positive balance: a liability (sub-account, suspense, refunds payable) is negative."""
    return from_fen(
        JournalLine.objects.filter(account=account).aggregate(total=Sum("amount_fen"))["total"]
    )


def held_for(account: Account) -> Decimal:
    """What the center owes on a liability account, as a positive amount."""
    return -balance(account)
