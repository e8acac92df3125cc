"""The deposits API for bidders, and one deposit's whole life through the API: sub-account, the bank's
payment, qualification, refund, bank batch, the bank's confirmation."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from accounts.actors import Actor
from deposits import services
from deposits.bank_simulator import SignedMessage
from deposits.models import Account, Deposit, Guarantee
from tests.amounts import REFUSED_TEXT
from tests.deposits.helpers import BANK, T0, pay, register_with_account, tender
from tests.trading.factories import draft
from trading import services as trading

pytestmark = pytest.mark.django_db

NOTIFY = "/api/v1/deposits/bank/notifications"
CONFIRM = "/api/v1/deposits/bank/refund-confirmations"
MINE = "/api/v1/deposits/mine/"
PAYER_ACCOUNT = "44050166000100001111"


@pytest.fixture(autouse=True)
def traveller():
    # Registration is open an hour after the tender's publication (tests.deposits.helpers.T0).
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False) as moving:
        yield moving


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def project(agent, staff):
    return tender(agent, staff)


# --- Helpers shared by the test_api_* modules -----------------------------------------------------


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def bank_post(message: SignedMessage, url: str = NOTIFY, **extra: Any) -> Any:
    """What the bank does: POST the signed bytes, no session, no CSRF token."""
    client = Client(enforce_csrf_checks=True)
    return client.post(
        url, data=message.body, content_type="application/json", **message.headers, **extra
    )


def sub_account_url(lot: Any) -> str:
    return f"/api/v1/deposits/lots/{lot.pk}/sub-account/"


def funded(user: Any, project: Any, amount: str = "500000.00", **kwargs: Any) -> Deposit:
    """A registered bidder whose deposit the bank has credited (through the service)."""
    account = register_with_account(user, project)
    pay(account, amount, **kwargs)
    return Deposit.objects.get(organization=user.organization, lot__project=project)


def guarantee_body(lot: Any, **overrides: Any) -> dict[str, Any]:
    body = {
        "kind": "bank_guarantee",
        "issuer": "中国建设银行珠海分行",
        "number": "BG-2026-0001",
        "amount": "500000.00",
        "valid_from": "2026-03-01",
        "valid_until": services.required_guarantee_validity(lot).isoformat(),
        "file": SimpleUploadedFile("保函.pdf", b"%PDF-1.4 guarantee", "application/pdf"),
    }
    body.update(overrides)
    return body


# --- The whole path -------------------------------------------------------------------------------


def test_a_deposit_from_sub_account_to_refund_through_the_api(api, project, supplier, staff):
    lot = project.lots.get()
    org = supplier.organization
    trading.register(Actor.for_user(supplier), lot)

    opened = api(supplier).post(sub_account_url(lot), {}, format="json")
    assert opened.status_code == 201, opened.json()
    account = opened.json()
    assert account["account_number"].startswith("6222") and len(account["account_number"]) == 20
    assert (account["currency"], account["bank"], account["held"]) == ("CNY", "ICBC", "0.00")
    assert account["deposit_amount"] == "500000.00"
    again = api(supplier).post(sub_account_url(lot), {}, format="json")
    assert (again.status_code, again.json()["account_number"]) == (200, account["account_number"])

    before = api(supplier).get(MINE).json()
    assert [(q["lot"], q["qualified"], q["code"]) for q in before["qualifications"]] == [
        (lot.pk, False, "NO_DEPOSIT")
    ]

    # The bank pays into the sub-account, signed, over HTTP.
    paid = bank_post(
        BANK.payment(
            account_number=account["account_number"],
            amount="500000.00",
            payer_name=org.name,
            payer_account=PAYER_ACCOUNT,
            transaction_id="ICBC-FLOW-1",
        )
    )
    assert paid.status_code == 201, paid.content
    assert paid.json() == {"transaction_id": "ICBC-FLOW-1", "outcome": "credited", "replay": False}

    seen = api(supplier).get(MINE).json()
    (deposit,) = seen["deposits"]
    assert (deposit["status"], deposit["amount"], deposit["currency"], deposit["amount_cny"]) == (
        "held",
        "500000.00",
        "CNY",
        "500000.00",
    )
    assert dt.datetime.fromisoformat(deposit["arrived_at"]) == T0 + dt.timedelta(hours=1)
    (qualification,) = seen["qualifications"]
    assert qualification == {
        "project": project.pk,
        "lot": lot.pk,
        "lot_number": 1,
        "qualified": True,
        "code": "QUALIFIED",
        "message": qualification["message"],
        "required_cny": "500000.00",
        "counted_cny": "500000.00",
        "deposit_deadline": project.bid_deadline.astimezone(
            dt.timezone(dt.timedelta(hours=8))
        ).isoformat(),
    }
    assert qualification["message"]
    assert seen["accounts"][0]["held"] == "500000.00"

    books = api(staff).get("/api/v1/deposits/custody/").json()
    assert books["check"] == {"ok": True, "problems": []}
    assert books["totals"][0]["custody"] == books["totals"][0]["sub_accounts"] == "500000.00"

    # Staff refund it (the bidder withdrew before the deadline), batch it and download the file.
    scheduled = api(staff).post(
        f"/api/v1/deposits/deposits/{deposit['id']}/refund/",
        {"reason": "withdrawal"},
        format="json",
    )
    assert scheduled.status_code == 201, scheduled.json()
    refund = scheduled.json()["refund"]
    assert (refund["status"], refund["total"], refund["payee_account"]) == (
        "scheduled",
        "500000.00",
        PAYER_ACCOUNT,
    )
    assert scheduled.json()["deposit"]["status"] == "refund_scheduled"
    (listed_refund,) = api(supplier).get(MINE).json()["refunds"]
    assert listed_refund["due_at"] == refund["due_at"]

    batch = api(staff).post("/api/v1/deposits/refunds/batches/", {}, format="json")
    assert batch.status_code == 201, batch.json()
    assert batch.json()["refunds"] == [refund["id"]]
    download = api(staff).get(batch.json()["csv_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["X-Content-SHA256"] == hashlib.sha256(download.content).hexdigest()
    assert download.content.decode() == batch.json()["csv"]
    (line,) = csv.DictReader(io.StringIO(download.content.decode()))
    assert (line["refund_id"], line["payee_name"], line["amount"]) == (
        str(refund["id"]),
        org.name,
        "500000.00",
    )
    assert (
        api(staff).post("/api/v1/deposits/refunds/batches/", {}, format="json").status_code == 204
    )

    # The bank confirms the line it paid.
    confirmed = bank_post(
        BANK.refund_confirmation(int(line["refund_id"]), bank_reference="RF-FLOW-1"), CONFIRM
    )
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["status"] == "paid"

    after = api(supplier).get(MINE).json()
    assert after["deposits"][0]["status"] == "refunded"
    assert after["refunds"][0]["status"] == "paid"
    assert after["qualifications"][0]["code"] == "NO_DEPOSIT"
    books = api(staff).get("/api/v1/deposits/custody/").json()
    assert books["check"]["ok"] is True
    assert books["totals"][0]["custody"] == "0.00"
    out = io.StringIO()
    call_command("check_ledger", stdout=out)  # exits 1 through sys.exit when broken
    assert "ledger OK" in out.getvalue()


# --- Sub-accounts ---------------------------------------------------------------------------------


def test_only_a_registered_supplier_opens_a_sub_account(
    api, project, supplier, other_supplier, staff, supervisor
):
    lot = project.lots.get()
    trading.register(Actor.for_user(supplier), lot)
    assert api(supplier).post(sub_account_url(lot), {}, format="json").status_code == 201
    assert_error(
        api(other_supplier).post(sub_account_url(lot), {}, format="json"), 400, "NOT_REGISTERED"
    )
    assert_error(api(staff).post(sub_account_url(lot), {}, format="json"), 403, "FORBIDDEN")
    assert_error(api(supervisor).post(sub_account_url(lot), {}, format="json"), 403, "FORBIDDEN")
    assert_error(api(None).post(sub_account_url(lot), {}, format="json"), 403, "NOT_AUTHENTICATED")
    assert Account.objects.filter(kind=Account.Kind.SUB_ACCOUNT).count() == 1


def test_the_lot_of_an_unpublished_project_is_not_found(api, agent, supplier):
    drafted = draft(agent, start=T0 + dt.timedelta(days=1))
    assert_error(
        api(supplier).post(sub_account_url(drafted.lots.get()), {}, format="json"), 404, "NOT_FOUND"
    )
    assert_error(
        api(supplier).post("/api/v1/deposits/lots/999999/sub-account/", {}, format="json"),
        404,
        "NOT_FOUND",
    )


def test_a_sub_account_only_in_an_accepted_currency(api, project, supplier):
    lot = project.lots.get()
    trading.register(Actor.for_user(supplier), lot)
    assert_error(
        api(supplier).post(sub_account_url(lot), {"currency": "EUR"}, format="json"),
        400,
        "VALIDATION_ERROR",
    )
    assert_error(
        api(supplier).post(sub_account_url(lot), {"currency": "USD"}, format="json"),
        400,
        "CURRENCY_NOT_ALLOWED",
    )


def test_no_sub_account_where_the_lot_takes_guarantees_only(api, agent, staff, supplier):
    project = tender(agent, staff, forms=("bank_guarantee",))
    lot = project.lots.get()
    trading.register(Actor.for_user(supplier), lot)
    assert_error(
        api(supplier).post(sub_account_url(lot), {}, format="json"), 400, "CASH_NOT_ACCEPTED"
    )


# --- What a bidder sees ---------------------------------------------------------------------------


def test_a_bidder_sees_only_its_own_deposits(api, project, supplier, other_supplier, staff):
    funded(supplier, project)
    mine = api(supplier).get(MINE).json()
    assert [d["organization"]["id"] for d in mine["deposits"]] == [supplier.organization_id]
    theirs = api(other_supplier).get(MINE).json()
    assert theirs == {
        "deposits": [],
        "accounts": [],
        "guarantees": [],
        "qualifications": [],
        "refunds": [],
    }
    # Staff and supervisors read the books elsewhere; their own organization has no deposits.
    assert api(staff).get(MINE).json()["deposits"] == []
    assert_error(api(None).get(MINE), 403, "NOT_AUTHENTICATED")


def test_a_bidder_sees_its_qualification_for_every_lot_it_registered_for(
    api, agent, staff, project, supplier
):
    funded(supplier, project, "200000.00")
    second = tender(agent, staff)
    trading.register(Actor.for_user(supplier), second.lots.get())
    rows = api(supplier).get(MINE).json()["qualifications"]
    assert [(r["project"], r["code"], r["counted_cny"]) for r in rows] == [
        (project.pk, "INSUFFICIENT", "200000.00"),
        (second.pk, "NO_DEPOSIT", "0.00"),
    ]
    only_second = api(supplier).get(MINE, {"project": second.pk}).json()
    assert [r["project"] for r in only_second["qualifications"]] == [second.pk]
    assert only_second["deposits"] == []
    assert_error(api(supplier).get(MINE, {"lot": "x"}), 400, "INVALID_PARAMETER")


def test_a_late_payment_is_shown_as_late(api, project, supplier):
    funded(supplier, project, at=project.bid_deadline + dt.timedelta(minutes=1))
    (row,) = api(supplier).get(MINE).json()["qualifications"]
    assert (row["qualified"], row["code"]) == (False, "LATE")


def test_money_from_someone_else_shows_as_a_refund_to_the_payer(api, project, supplier):
    account = register_with_account(supplier, project)
    pay(account, "500000", payer_name="某某投资有限公司", payer_account="622200001234")
    mine = api(supplier).get(MINE).json()
    assert mine["deposits"] == []
    (refund,) = mine["refunds"]
    assert (refund["reason"], refund["payee_name"], refund["status"]) == (
        "payer_mismatch",
        "某某投资有限公司",
        "scheduled",
    )
    assert mine["qualifications"][0]["code"] == "NO_DEPOSIT"


# --- Guarantees -----------------------------------------------------------------------------------


def test_a_bidder_files_a_guarantee_that_qualifies_once_verified(api, project, supplier, staff):
    lot = project.lots.get()
    trading.register(Actor.for_user(supplier), lot)
    filed = api(supplier).post(f"/api/v1/deposits/lots/{lot.pk}/guarantees/", guarantee_body(lot))
    assert filed.status_code == 201, filed.json()
    body = filed.json()
    assert (body["status"], body["amount"], body["kind"]) == (
        "submitted",
        "500000.00",
        "bank_guarantee",
    )
    assert body["file_sha256"] == hashlib.sha256(b"%PDF-1.4 guarantee").hexdigest()
    assert api(supplier).get(MINE).json()["qualifications"][0]["code"] == "NO_DEPOSIT"

    verified = api(staff).post(
        f"/api/v1/deposits/guarantees/{body['id']}/verify/",
        {"accepted": True, "method": "电子保函平台验真"},
        format="json",
    )
    assert verified.status_code == 200, verified.json()
    mine = api(supplier).get(MINE).json()
    assert [g["status"] for g in mine["guarantees"]] == ["verified"]
    assert [(d["form"], d["guarantee"]) for d in mine["deposits"]] == [("guarantee", body["id"])]
    assert mine["qualifications"][0]["qualified"] is True


def test_guarantees_are_filed_by_registered_suppliers_only(
    api, project, supplier, other_supplier, staff, supervisor
):
    lot = project.lots.get()
    url = f"/api/v1/deposits/lots/{lot.pk}/guarantees/"
    assert_error(api(other_supplier).post(url, guarantee_body(lot)), 400, "NOT_REGISTERED")
    assert_error(api(staff).post(url, guarantee_body(lot)), 403, "FORBIDDEN")
    assert_error(api(supervisor).post(url, guarantee_body(lot)), 403, "FORBIDDEN")
    assert_error(api(None).post(url, guarantee_body(lot)), 403, "NOT_AUTHENTICATED")
    assert not Guarantee.objects.exists()


@pytest.mark.parametrize(("amount", "code"), REFUSED_TEXT)
def test_a_guarantee_amount_is_held_to_the_one_contract(api, project, supplier, amount, code):
    # Multipart only: a JSON number cannot be sent here, every value is text.
    lot = project.lots.get()
    trading.register(Actor.for_user(supplier), lot)
    url = f"/api/v1/deposits/lots/{lot.pk}/guarantees/"
    assert_error(api(supplier).post(url, guarantee_body(lot, amount=amount)), 400, code)
    assert not Guarantee.objects.exists()


def test_guarantee_input_is_checked(api, project, supplier):
    lot = project.lots.get()
    trading.register(Actor.for_user(supplier), lot)
    url = f"/api/v1/deposits/lots/{lot.pk}/guarantees/"
    client = api(supplier)
    assert_error(client.post(url, guarantee_body(lot, amount="1.001")), 400, "AMOUNT_INVALID")
    assert_error(client.post(url, guarantee_body(lot, amount="abc")), 400, "AMOUNT_INVALID")
    assert_error(
        client.post(url, guarantee_body(lot, kind="insurance_guarantee")), 400, "FORM_NOT_ALLOWED"
    )
    assert_error(
        client.post(url, guarantee_body(lot, valid_from="2026-12-31", valid_until="2026-01-01")),
        400,
        "INVALID_PERIOD",
    )
    missing = guarantee_body(lot)
    del missing["file"]
    assert_error(client.post(url, missing), 400, "VALIDATION_ERROR")
    # JSON cannot carry the file; a JSON number for money never reaches the service either.
    json_body = {k: v for k, v in guarantee_body(lot).items() if k != "file"}
    json_body["amount"] = 500000.0
    assert_error(client.post(url, json_body, format="json"), 415, "UNSUPPORTED_MEDIA_TYPE")
    assert client.post(url, guarantee_body(lot)).status_code == 201
    assert_error(client.post(url, guarantee_body(lot)), 409, "GUARANTEE_DUPLICATE")
