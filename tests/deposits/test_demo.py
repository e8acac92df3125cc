"""The deposit demo: seeded twice, the books balance, the audit chain verifies, and each bidder's story
is where the demo says it is."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accounts.models import User
from audit.models import Alert, AuditEvent
from audit.services import verify_chain
from deposits import demo, services
from deposits.checks import check_ledger
from deposits.models import BankNotification, Deposit, Guarantee, Refund, RefundBatch
from trading.models import Project, Registration

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    first = seed()
    counts = (
        AuditEvent.objects.count(),
        BankNotification.objects.count(),
        Deposit.objects.count(),
        Refund.objects.count(),
        RefundBatch.objects.count(),
    )
    second = seed()
    return first, second, counts


def test_seeding_twice_keeps_the_books_and_the_chain_sound(seeded):
    first, second, counts = seeded
    assert "deposits:" in first and "deposits:" in second
    # The second run changed nothing: not one event, payment, deposit, refund or batch more.
    assert counts == (
        AuditEvent.objects.count(),
        BankNotification.objects.count(),
        Deposit.objects.count(),
        Refund.objects.count(),
        RefundBatch.objects.count(),
    )
    assert check_ledger() == []
    assert verify_chain().ok
    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    call_command("verify_audit", stdout=out)
    assert "ledger OK" in out.getvalue() and "audit chain OK" in out.getvalue()


def test_each_bidder_is_where_its_story_says(seeded):
    project = Project.objects.get(title=demo.TITLE)
    assert project.status == Project.Status.PUBLISHED
    lot = project.lots.get()
    users = {
        name: User.objects.get(username=name) for name in ("supplier", "supplier2", "supplier3")
    }
    orgs = {name: user.organization for name, user in users.items()}
    assert (
        Registration.objects.filter(lot=lot).count() == 4
    )  # supplier4 files an electronic guarantee

    # supplier: paid in full from its own account, qualified.
    paid = Deposit.objects.get(lot=lot, organization=orgs["supplier"])
    assert paid.status == Deposit.Status.HELD
    assert paid.payer_name == orgs["supplier"].name
    assert services.qualification(lot, orgs["supplier"]).code == "QUALIFIED"

    # supplier2: paid by a third party — held, refund to that payer scheduled, supervisors alerted.
    held = BankNotification.objects.get(outcome=BankNotification.Outcome.PAYER_MISMATCH)
    assert held.payer_name == demo.THIRD_PARTY[0]
    assert not Deposit.objects.filter(lot=lot, organization=orgs["supplier2"]).exists()
    refund = Refund.objects.get(notification=held)
    assert refund.status == Refund.Status.SCHEDULED
    assert refund.payee_account == demo.THIRD_PARTY[1]
    assert Alert.objects.filter(kind=Alert.Kind.PAYER_MISMATCH, project_id=project.pk).count() == 1
    assert services.qualification(lot, orgs["supplier2"]).code == "NO_DEPOSIT"

    # supplier3: paid, withdrew, refunded through a batch the bank confirmed.
    withdrawn = Deposit.objects.get(lot=lot, organization=orgs["supplier3"])
    assert withdrawn.status == Deposit.Status.REFUNDED
    refund = withdrawn.refunds.get()
    assert refund.reason == Refund.Reason.WITHDRAWAL
    assert refund.status == Refund.Status.PAID and refund.bank_reference
    assert refund.batch is not None
    assert f"{refund.pk},{orgs['supplier3'].name}" in refund.batch.csv

    # Each bidder paid from its own account: no collusion alert.
    assert not Alert.objects.filter(kind=Alert.Kind.SAME_PAYER_ACCOUNT).exists()


def test_the_demo_has_an_electronic_guarantee_verified_by_its_signature(seeded):
    guarantee = Guarantee.objects.get(electronic=True)
    supplier4 = User.objects.get(username="supplier4")
    assert guarantee.organization == supplier4.organization
    assert (guarantee.status, guarantee.verification) == ("verified", "电子保函验签")
    assert services.qualification(guarantee.lot, supplier4.organization).code == "QUALIFIED"
