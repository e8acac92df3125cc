"""Daily reconciliation: the bank's statement of the custody account against the platform's records.

Statement format (CSV, UTF-8, header row), as agreed with the custody bank:

    transaction_id,value_time,direction,amount,currency,counterparty_name,counterparty_account

`direction` is `credit` (money in) or `debit` (money out); `value_time` is ISO-8601 with offset; for a
debit, `transaction_id` is the bank reference it sent back in the refund confirmation.

A credit matches the bank notification with the same transaction id; a debit matches the paid refund
with that bank reference. Mismatches are listed both ways: statement lines the platform has no record
of (a notification never received, a payment never confirmed), and platform records of that day the
statement does not show.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from accounts.actors import Actor
from accounts.permissions import require_perm
from audit.services import record
from deposits.models import BankNotification, BankStatement, Currency, Refund, StatementLine
from lib.canonical import sha256_hex
from lib.errors import Conflict, DomainError
from lib.money import parse_amount

COLUMNS = [
    "transaction_id",
    "value_time",
    "direction",
    "amount",
    "currency",
    "counterparty_name",
    "counterparty_account",
]


@dataclass
class Reconciliation:
    statement: BankStatement
    matched: int = 0
    statement_only: list[StatementLine] = field(default_factory=list)
    amount_differs: list[StatementLine] = field(default_factory=list)
    notifications_missing: list[BankNotification] = field(default_factory=list)
    refunds_missing: list[Refund] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.statement_only
            or self.amount_differs
            or self.notifications_missing
            or self.refunds_missing
        )


def _parse_rows(text: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        return _read_rows(reader)
    except csv.Error as exc:
        # A cell over the csv module's field limit (a megabyte "amount"), a NUL byte: not a
        # statement, and not a reason for a server error either.
        # `line_num` counts the lines read completely; the failing one is the next.
        raise DomainError(
            _("第 %(line)s 行内容无效。"), code="STATEMENT_FORMAT", line=reader.line_num + 1
        ) from exc


def _read_rows(reader: csv.DictReader) -> list[dict]:
    if reader.fieldnames is None or [name.strip() for name in reader.fieldnames] != COLUMNS:
        raise DomainError(
            _("对账单表头应为：%(columns)s"), code="STATEMENT_FORMAT", columns=",".join(COLUMNS)
        )
    rows = []
    for number, row in enumerate(reader, start=2):
        # The one parser, named by line: a statement amount is held to the same contract as the bank's
        # own notification (no spaces, separators, signs or exponents).
        amount = parse_amount(row["amount"], field=str(_("第 %(line)s 行")) % {"line": number})
        value_at = parse_datetime((row["value_time"] or "").strip())
        if (
            value_at is None
            or timezone.is_naive(value_at)
            or row["direction"] not in StatementLine.Direction.values
            or row["currency"] not in Currency.values
            or not (row["transaction_id"] or "").strip()
        ):
            raise DomainError(_("第 %(line)s 行内容无效。"), code="STATEMENT_FORMAT", line=number)
        rows.append({**row, "line_number": number, "amount": amount, "value_at": value_at})
    return rows


def import_statement(actor: Actor, bank: str, statement_date: dt.date, text: str) -> Reconciliation:
    """Store the statement and match every line; the same file twice is refused."""
    require_perm(actor, "deposits.add_bankstatement")
    rows = _parse_rows(text)
    digest = sha256_hex(text.encode())
    with transaction.atomic():
        if BankStatement.objects.filter(sha256=digest).exists():
            raise Conflict(_("该对账单已导入。"), code="STATEMENT_DUPLICATE")
        statement = BankStatement.objects.create(
            bank=bank,
            statement_date=statement_date,
            csv=text,
            sha256=digest,
            imported_at=timezone.now(),
            imported_by=actor.acting_user,
        )
        for row in rows:
            line = StatementLine(
                statement=statement,
                line_number=row["line_number"],
                transaction_id=row["transaction_id"].strip(),
                direction=row["direction"],
                amount=row["amount"],
                currency=row["currency"],
                counterparty_name=(row["counterparty_name"] or "").strip()[:200],
                counterparty_account=(row["counterparty_account"] or "").strip()[:40],
                value_at=row["value_at"],
                match=StatementLine.Match.NOT_IN_LEDGER,
            )
            found: BankNotification | Refund | None
            if line.direction == StatementLine.Direction.CREDIT:
                line.notification = BankNotification.objects.filter(
                    bank=bank, transaction_id=line.transaction_id
                ).first()
                found = line.notification
                expected = found.amount if found else None
            else:
                line.refund = Refund.objects.filter(
                    status=Refund.Status.PAID, bank_reference=line.transaction_id
                ).first()
                found = line.refund
                expected = found.total if found else None
            if found is not None:
                same = expected == line.amount and found.currency == line.currency
                line.match = (
                    StatementLine.Match.MATCHED if same else StatementLine.Match.AMOUNT_DIFFERS
                )
            line.save()
        report = reconcile(statement)
        record(
            actor,
            "deposits.statement.imported",
            statement,
            {
                "bank": bank,
                "date": statement_date,
                "sha256": digest,
                "lines": len(rows),
                "clean": report.clean,
                "matched": report.matched,
            },
        )
    return report


def reconcile(statement: BankStatement) -> Reconciliation:
    """What matched and what did not, for one imported statement."""
    lines = list(statement.lines.all())
    report = Reconciliation(statement)
    for line in lines:
        if line.match == StatementLine.Match.MATCHED:
            report.matched += 1
        elif line.match == StatementLine.Match.AMOUNT_DIFFERS:
            report.amount_differs.append(line)
        else:
            report.statement_only.append(line)
    seen_notifications = {line.notification_id for line in lines if line.notification_id}
    seen_refunds = {line.refund_id for line in lines if line.refund_id}
    day = statement.statement_date
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    end = start + dt.timedelta(days=1)
    report.notifications_missing = list(
        BankNotification.objects.filter(bank=statement.bank, value_at__gte=start, value_at__lt=end)
        .exclude(pk__in=seen_notifications)
        .order_by("value_at")
    )
    report.refunds_missing = list(
        Refund.objects.filter(status=Refund.Status.PAID, paid_at__gte=start, paid_at__lt=end)
        .exclude(pk__in=seen_refunds)
        .order_by("paid_at")
    )
    return report
