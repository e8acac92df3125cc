"""Matching the bank's daily statement against the platform's notifications and paid refunds."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from accounts.actors import Actor
from deposits import services
from deposits.models import StatementLine
from deposits.reconciliation import COLUMNS, import_statement
from lib.errors import DomainError, NotPermitted
from tests.amounts import REFUSED_TEXT
from tests.deposits.helpers import BANK, pay, register_with_account, tender
from tests.trading.factories import beijing

pytestmark = pytest.mark.django_db
DAY = beijing("2026-03-05 10:00")


def statement(*rows: tuple) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return out.getvalue()


@pytest.fixture
def paid_in(agent, staff, supplier):
    project = tender(agent, staff)
    account = register_with_account(supplier, project)
    return pay(account, "500000.00", at=DAY, txn="IN-1").notification


def test_a_statement_that_agrees_is_clean(staff, paid_in, supplier):
    text = statement(
        ("IN-1", DAY.isoformat(), "credit", "500000.00", "CNY", supplier.organization.name, "4405")
    )
    report = import_statement(Actor.for_user(staff), "ICBC", DAY.date(), text)
    assert report.clean is True
    assert report.matched == 1


def test_money_the_platform_never_heard_of_is_listed(staff, paid_in, supplier):
    text = statement(
        ("IN-1", DAY.isoformat(), "credit", "500000.00", "CNY", "甲", "1"),
        ("IN-LOST", DAY.isoformat(), "credit", "80000.00", "CNY", "乙公司", "2"),
    )
    report = import_statement(Actor.for_user(staff), "ICBC", DAY.date(), text)
    assert [line.transaction_id for line in report.statement_only] == ["IN-LOST"]
    assert report.clean is False


def test_a_notification_missing_from_the_statement_is_listed(staff, paid_in):
    report = import_statement(Actor.for_user(staff), "ICBC", DAY.date(), statement())
    assert report.notifications_missing == [paid_in]


def test_an_amount_that_differs_is_listed(staff, paid_in):
    text = statement(("IN-1", DAY.isoformat(), "credit", "499999.99", "CNY", "甲", "1"))
    report = import_statement(Actor.for_user(staff), "ICBC", DAY.date(), text)
    assert [line.match for line in report.amount_differs] == [StatementLine.Match.AMOUNT_DIFFERS]


def test_paid_refunds_are_matched_by_bank_reference(staff, supplier, paid_in):
    deposit = paid_in.deposit
    refund = services.schedule_refund(Actor.for_user(staff), deposit, reason="withdrawal")
    services.create_refund_batch(Actor.for_user(staff))
    message = BANK.refund_confirmation(refund.pk, bank_reference="OUT-9")
    services.confirm_refund(message.bank, message.body, message.signature)
    refund.refresh_from_db()
    paid_day = timezone.localtime(refund.paid_at)
    text = statement(
        (
            "OUT-9",
            paid_day.isoformat(),
            "debit",
            "500000.00",
            "CNY",
            supplier.organization.name,
            "4405",
        )
    )
    report = import_statement(Actor.for_user(staff), "ICBC", paid_day.date(), text)
    assert report.matched == 1
    assert report.refunds_missing == []


def test_the_same_file_twice_is_refused(staff, paid_in):
    text = statement()
    import_statement(Actor.for_user(staff), "ICBC", DAY.date(), text)
    with pytest.raises(DomainError) as refused:
        import_statement(Actor.for_user(staff), "ICBC", DAY.date(), text)
    assert refused.value.code == "STATEMENT_DUPLICATE"


@pytest.mark.parametrize(
    "bad",
    [
        "wrong,header\n",
        statement(("X", "2026-03-05 10:00", "credit", "1.00", "CNY", "a", "b")),
        statement(("X", DAY.isoformat(), "sideways", "1.00", "CNY", "a", "b")),
    ],
)
def test_a_malformed_statement_is_refused_whole(staff, bad):
    with pytest.raises(DomainError) as refused:
        import_statement(Actor.for_user(staff), "ICBC", dt.date(2026, 3, 5), bad)
    assert refused.value.code == "STATEMENT_FORMAT"
    assert not StatementLine.objects.exists()


def test_a_cell_over_the_csv_field_limit_is_a_format_error(staff):
    text = statement(("TX-1", DAY.isoformat(), "credit", "1.00", "CNY", "甲" * 200_000, "b"))
    with pytest.raises(DomainError) as refused:
        import_statement(Actor.for_user(staff), "ICBC", DAY.date(), text)
    assert refused.value.code == "STATEMENT_FORMAT"


@pytest.mark.parametrize(("amount", "code"), REFUSED_TEXT)
def test_a_statement_amount_is_held_to_the_one_contract(staff, amount, code):
    """The line is named, the whole file refused: a bank's "1,000.00" or " 12" is not read as money."""
    good = ("TX-1", DAY.isoformat(), "credit", "1.00", "CNY", "a", "b")
    bad = ("TX-2", DAY.isoformat(), "credit", amount, "CNY", "a", "b")
    # A megabyte cell is over the csv module's field limit: the file is refused before the amount is
    # read.
    expected = "STATEMENT_FORMAT" if len(amount) > csv.field_size_limit() else code
    with pytest.raises(DomainError) as refused:
        import_statement(Actor.for_user(staff), "ICBC", DAY.date(), statement(good, bad))
    assert refused.value.code == expected
    assert "第 3 行" in refused.value.message
    assert not StatementLine.objects.exists()


def test_a_statement_line_without_an_amount_is_refused(staff):
    text = "\n".join([",".join(COLUMNS), f"TX-1,{DAY.isoformat()},credit"]) + "\n"
    with pytest.raises(DomainError) as refused:
        import_statement(Actor.for_user(staff), "ICBC", DAY.date(), text)
    assert refused.value.code == "AMOUNT_REQUIRED"


def test_only_staff_import_statements(supervisor, supplier):
    for user in (supervisor, supplier):
        with pytest.raises(NotPermitted):
            import_statement(Actor.for_user(user), "ICBC", dt.date(2026, 3, 5), statement())
