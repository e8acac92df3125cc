"""deposit.refund_account: the depositing organization's finance (or admin) user confirms, signed, the
account its deposit goes back to — the payer's name, bank and number as the platform holds them, over
their canonical hash. Once; kept beside the refund for staff; it decides nothing else."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import OrgRole, Role
from accounts.services import OrgRoleRequired, create_user
from audit.models import AuditEvent
from deposits import services
from deposits.models import Deposit, Refund, RefundAccountConfirmation
from lib.canonical import canonical_sha256
from lib.errors import Conflict, NotPermitted
from signing.models import SignedAct, SigningChallenge
from signing.services import SignatureRefused
from tests.deposits.helpers import T0, pay, register_with_account, tender
from tests.signing.support import enrol, signed, signed_fields

pytestmark = pytest.mark.django_db

ACT = "deposit.refund_account"
TARGET = "deposits.deposit"
PAYER_ACCOUNT = "44050166000100001111"


@pytest.fixture(autouse=True)
def _signatures_required(settings):
    settings.SIGNING_PASSWORD_FALLBACK = []


@pytest.fixture
def paid(agent, staff, supplier):
    """The supplier's cash deposit, paid from its account (the bank names payer and bank)."""
    project = tender(agent, staff)
    account = register_with_account(supplier, project)
    pay(account, "500000.00", at=T0 + dt.timedelta(days=1))
    return Deposit.objects.get(organization=supplier.organization)


def finance_user(org, name="finance"):
    return create_user(
        Actor.system("test"),
        organization=org,
        username=name,
        role=Role.SUPPLIER,
        org_roles=[OrgRole.FINANCE],
    )


def confirm(user, deposit, sig):
    return services.confirm_refund_account(Actor.for_user(user), deposit, signed=sig)


def code(exc_info) -> str:
    return str(exc_info.value.code)


def test_the_finance_user_signs_the_account_the_deposit_goes_back_to(paid, supplier):
    finance = finance_user(supplier.organization)
    details = services.refund_account_details(paid)
    assert details == {
        "document": "deposit_refund_account",
        "deposit": paid.pk,
        "currency": "CNY",
        "name": supplier.organization.name,
        "bank": paid.notification.payer_bank,
        "account": PAYER_ACCOUNT,
    }
    digest = canonical_sha256(details)
    assert services.refund_account_sha256(paid) == digest
    key = enrol(finance)
    confirmation = confirm(finance, paid, signed(finance, key, ACT, TARGET, paid.pk, digest=digest))

    assert confirmation.payee_account == PAYER_ACCOUNT and confirmation.sha256 == digest
    assert confirmation.confirmed_by == finance
    act = SignedAct.objects.get(act=ACT)
    assert confirmation.signed_act == act and act.target_id == paid.pk
    assert act.organization == supplier.organization
    event = AuditEvent.objects.get(action="deposits.refund_account.confirmed")
    assert event.object_id == str(paid.pk)
    assert event.payload["signed_act"] == act.pk and event.payload["sha256"] == digest
    assert event.payload["account"] == PAYER_ACCOUNT

    # Once.
    with pytest.raises(Conflict) as exc:
        confirm(finance, paid, signed(finance, key, ACT, TARGET, paid.pk, digest=digest))
    assert code(exc) == "ALREADY_CONFIRMED"


def test_an_administrator_may_confirm_too(paid, supplier):
    key = enrol(supplier)  # the organization's first user is its administrator
    digest = services.refund_account_sha256(paid)
    confirm(supplier, paid, signed(supplier, key, ACT, TARGET, paid.pk, digest=digest))
    assert RefundAccountConfirmation.objects.filter(deposit=paid).exists()


def test_unsigned_is_refused_when_the_fallback_is_off(paid, supplier):
    finance = finance_user(supplier.organization)
    with pytest.raises(SignatureRefused) as exc:
        confirm(finance, paid, None)
    assert code(exc) == "SIGNATURE_REQUIRED"
    assert not RefundAccountConfirmation.objects.exists()
    assert not AuditEvent.objects.filter(action="deposits.refund_account.confirmed").exists()


def test_a_signature_for_another_account_deposit_or_a_used_one_changes_nothing(paid, supplier):
    finance = finance_user(supplier.organization)
    key = enrol(finance)
    digest = services.refund_account_sha256(paid)
    other_digest = canonical_sha256({**services.refund_account_details(paid), "account": "1"})
    for sig in (
        signed(finance, key, ACT, TARGET, paid.pk, digest=other_digest),
        signed(finance, key, ACT, TARGET, paid.pk + 1000, digest=digest),
    ):
        with pytest.raises(SignatureRefused) as exc:
            confirm(finance, paid, sig)
        assert code(exc) == "SIGNATURE_MISMATCH"
    # A challenge already used (a request that committed first) cannot confirm again.
    sig = signed(finance, key, ACT, TARGET, paid.pk, digest=digest)
    SigningChallenge.objects.filter(token=sig.challenge).update(used_at=timezone.now())
    with pytest.raises(SignatureRefused) as exc:
        confirm(finance, paid, sig)
    assert code(exc) == "SIGNATURE_REPLAYED"
    assert not RefundAccountConfirmation.objects.exists()
    assert not SignedAct.objects.filter(act=ACT).exists()


def test_only_the_depositing_organizations_finance_or_admin_user_confirms(
    paid, supplier, other_supplier, staff
):
    digest = services.refund_account_sha256(paid)
    key = enrol(other_supplier)
    with pytest.raises(NotPermitted):
        confirm(
            other_supplier,
            paid,
            signed(other_supplier, key, ACT, TARGET, paid.pk, digest=digest),
        )
    operator = create_user(
        Actor.system("test"),
        organization=supplier.organization,
        username="operator",
        role=Role.SUPPLIER,
        org_roles=[OrgRole.BID_OPERATOR],
    )
    with pytest.raises(OrgRoleRequired):
        confirm(operator, paid, None)
    with pytest.raises(NotPermitted):
        confirm(staff, paid, None)
    assert not RefundAccountConfirmation.objects.exists()


def test_not_once_the_money_is_back(paid, supplier, staff):
    finance = finance_user(supplier.organization)
    Deposit.objects.filter(pk=paid.pk).update(status=Deposit.Status.REFUNDED)
    with pytest.raises(Conflict) as exc:
        confirm(finance, paid, None)
    assert code(exc) == "WRONG_STATUS"


def test_the_refund_goes_to_the_paying_account_confirmed_or_not(paid, supplier, staff):
    # Scheduled before any confirmation: the refund does not wait for it.
    refund = services.schedule_refund(Actor.for_user(staff), paid, reason="not_awarded")
    assert refund is not None and refund.payee_account == PAYER_ACCOUNT
    finance = finance_user(supplier.organization)
    key = enrol(finance)
    digest = services.refund_account_sha256(paid)
    confirm(finance, paid, signed(finance, key, ACT, TARGET, paid.pk, digest=digest))
    assert Refund.objects.get().payee_account == PAYER_ACCOUNT


# --- API ------------------------------------------------------------------------------------------


def test_api_round_trip(paid, supplier, other_supplier, staff, api):
    finance = finance_user(supplier.organization)
    url = reverse("api_deposit_refund_account", args=[paid.pk])
    got = api(finance).get(url)
    assert got.status_code == 200, got.content
    body = got.json()
    assert body["account"] == PAYER_ACCOUNT and body["confirmation"] is None
    digest = body["sha256"]
    assert digest == services.refund_account_sha256(paid)

    unsigned = api(finance).post(url, {}, format="json")
    assert unsigned.status_code == 400, unsigned.content
    assert unsigned.json()["error"]["code"] == "SIGNATURE_REQUIRED"

    key = enrol(finance)
    posted = api(finance).post(
        url, signed_fields(finance, key, ACT, TARGET, paid.pk, digest=digest), format="json"
    )
    assert posted.status_code == 201, posted.content
    confirmation = posted.json()["confirmation"]
    assert confirmation["signed_act"] == SignedAct.objects.get(act=ACT).pk
    assert confirmation["sha256"] == digest and confirmation["confirmed_by"] == "finance"

    # Staff see it on the refund; another organization does not see the deposit at all.
    services.schedule_refund(Actor.for_user(staff), paid, reason="not_awarded")
    refunds = api(staff).get(reverse("api_deposit_refunds")).json()["results"]
    assert refunds[0]["payee_account_confirmation"]["sha256"] == digest
    assert api(other_supplier).get(url).status_code == 404
    assert api(other_supplier).post(url, {}, format="json").status_code == 404


# --- Pages ----------------------------------------------------------------------------------------


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_page_round_trip(paid, supplier, staff):
    finance = finance_user(supplier.organization)
    client = client_for(finance)
    html = client.get(reverse("my_deposits")).content.decode()
    digest = services.refund_account_sha256(paid)
    assert 'data-sign-act="deposit.refund_account"' in html
    assert f'data-sign-target-id="{paid.pk}"' in html and f'data-sign-digest="{digest}"' in html
    assert f'data-testid="refund-account-sha256">{digest}<' in html
    assert "js/signing.js" in html

    action = reverse("deposit_confirm_refund_account", args=[paid.pk])
    refused = client.post(action, {})
    assert refused.status_code == 400
    assert "SIGNATURE_REQUIRED" in refused.content.decode()

    key = enrol(finance)
    done = client.post(action, signed_fields(finance, key, ACT, TARGET, paid.pk, digest=digest))
    assert done.status_code == 302
    html = client.get(reverse("my_deposits")).content.decode()
    assert 'data-testid="refund-account-confirmed"' in html
    assert 'data-sign-act="deposit.refund_account"' not in html

    # Staff see the confirmation on the deposit and on the pending refund.
    services.schedule_refund(Actor.for_user(staff), paid, reason="not_awarded")
    detail = client_for(staff).get(reverse("deposit_detail", args=[paid.pk])).content.decode()
    assert 'data-testid="refund-account-confirmed"' in detail and "finance" in detail
    signature_link = reverse("signed_act", args=[SignedAct.objects.get(act=ACT).pk])
    assert signature_link in detail
    custody = client_for(staff).get(reverse("custody")).content.decode()
    assert re.search(r'data-refund="\d+">.*?refund-account-confirmed', custody, re.S)


def test_a_bid_operator_sees_the_account_but_no_button(paid, supplier):
    operator = create_user(
        Actor.system("test"),
        organization=supplier.organization,
        username="operator",
        role=Role.SUPPLIER,
        org_roles=[OrgRole.BID_OPERATOR],
    )
    html = client_for(operator).get(reverse("my_deposits")).content.decode()
    assert 'data-testid="refund-account"' in html and PAYER_ACCOUNT in html
    assert 'data-sign-act="deposit.refund_account"' not in html
