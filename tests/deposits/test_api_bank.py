"""The bank's endpoints over HTTP: authenticated by the HMAC signature over the canonical message only,
idempotent, and answering every refusal in the API's error shape."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client

from accounts.actors import Actor
from audit.models import Alert, AuditEvent
from deposits import ledger, services
from deposits.bank import MalformedMessage, sign
from deposits.bank_simulator import BankSimulator, SignedMessage
from deposits.checks import check_ledger
from deposits.models import BankNotification, Deposit, Refund
from tests.amounts import REFUSED
from tests.deposits.helpers import BANK, T0, register_with_account, tender
from tests.deposits.test_api import CONFIRM, NOTIFY, assert_error, bank_post, funded

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def traveller():
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False) as moving:
        yield moving


@pytest.fixture
def project(agent, staff):
    return tender(agent, staff)


@pytest.fixture
def account(project, supplier):
    return register_with_account(supplier, project)


def payment(account: Any, **overrides: Any) -> SignedMessage:
    fields = {
        "account_number": account.number,
        "amount": "500000.00",
        "payer_name": account.organization.name,
        "payer_account": "44050166000100001111",
        "transaction_id": "ICBC-TX-1",
    }
    fields.update(overrides)
    return BANK.payment(**fields)


def signed(payload: dict | bytes, bank: str = BANK.bank) -> SignedMessage:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    try:
        signature = sign(BANK.secret, body)
    except MalformedMessage:
        # No canonical form, so nothing a bank could sign: any signature goes with it.
        signature = "0" * 64
    return SignedMessage(bank, body, signature)


def test_a_new_message_is_recorded_and_a_replay_changes_nothing(account):
    message = payment(account)
    first = bank_post(message)
    assert first.status_code == 201, first.content
    assert first.json() == {"transaction_id": "ICBC-TX-1", "outcome": "credited", "replay": False}
    again = bank_post(message)
    assert again.status_code == 200, again.content
    assert again.json() == {"transaction_id": "ICBC-TX-1", "outcome": "credited", "replay": True}
    assert BankNotification.objects.count() == Deposit.objects.count() == 1
    assert ledger.held_for(account) == Decimal("500000.00")
    assert check_ledger() == []


def test_a_replay_with_other_content_is_refused_and_alerts_supervisors(account):
    assert bank_post(payment(account)).status_code == 201
    altered = bank_post(payment(account, amount="900000.00"))
    assert_error(altered, 409, "REPLAY_CONFLICT")
    alert = Alert.objects.get(kind=Alert.Kind.BANK_REPLAY_CONFLICT)
    assert "ICBC-TX-1" in alert.summary
    assert ledger.held_for(account) == Decimal("500000.00")
    assert check_ledger() == []


def test_a_bad_signature_is_refused_and_alerts(account):
    forged = BankSimulator(secret="not-the-banks-secret").payment(
        account_number=account.number, amount="500000", payer_name="x", payer_account="1"
    )
    assert_error(bank_post(forged), 401, "SIGNATURE_INVALID")
    assert Alert.objects.filter(kind=Alert.Kind.BANK_SIGNATURE_INVALID).exists()
    assert not BankNotification.objects.exists()


def test_a_resend_with_keys_in_another_order_is_a_replay_not_a_conflict(account):
    message = payment(account)
    assert bank_post(message).status_code == 201
    # The same message as another bank system writes it: keys reversed, whitespace, \u-escapes.
    fields = json.loads(message.body)
    resent = json.dumps(dict(reversed(list(fields.items()))), indent=2).encode()
    response = Client().post(
        NOTIFY, data=resent, content_type="application/json", **message.headers
    )
    assert response.status_code == 200, response.content
    assert response.json()["replay"] is True
    assert not Alert.objects.exists()
    assert BankNotification.objects.count() == Deposit.objects.count() == 1
    assert ledger.held_for(account) == Decimal("500000.00")


def test_the_signature_covers_the_content(account):
    message = payment(account)
    fields = json.loads(message.body)
    # Reformatted, the message keeps its signature; with one figure changed it does not.
    reformatted = json.dumps(fields, indent=2, ensure_ascii=True).encode()
    assert sign(BANK.secret, reformatted) == message.signature
    changed = json.dumps({**fields, "amount": "500001.00"}).encode()
    response = Client().post(
        NOTIFY, data=changed, content_type="application/json", **message.headers
    )
    assert_error(response, 401, "SIGNATURE_INVALID")
    assert not BankNotification.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b'{"amount": "1", "amount": "500000.00"}',  # a repeated key means two things
        b'{"a": NaN}',
    ],
)
def test_a_message_without_a_canonical_form_is_refused(account, body):
    assert_error(bank_post(signed(body)), 400, "MALFORMED_REQUEST")
    assert not BankNotification.objects.exists()


def test_a_message_with_a_lone_surrogate_is_refused_at_the_edge(account):
    # A lone surrogate is not text: the edge refuses it for every JSON body, the bank's included.
    assert_error(bank_post(signed(b'{"a": "\\ud800"}')), 400, "TEXT_INVALID_CHAR")
    assert not BankNotification.objects.exists()


def test_a_value_time_far_in_the_future_is_refused_and_audited(account, settings):
    settings.DEPOSIT_VALUE_TIME_TOLERANCE_SECONDS = 300
    now = T0 + dt.timedelta(hours=1)
    within = payment(account, value_time=now + dt.timedelta(seconds=299), transaction_id="TX-NEAR")
    assert bank_post(within).status_code == 201
    ahead = payment(account, value_time=now + dt.timedelta(minutes=6), transaction_id="TX-FAR")
    assert_error(bank_post(ahead), 400, "VALUE_TIME_IN_FUTURE")
    assert not BankNotification.objects.filter(transaction_id="TX-FAR").exists()
    refused = AuditEvent.objects.get(action="deposits.bank_notification.refused")
    assert refused.payload["code"] == "VALUE_TIME_IN_FUTURE"
    assert refused.payload["transaction_id"] == "TX-FAR"
    assert refused.payload["project"] == account.lot.project_id
    assert ledger.held_for(account) == Decimal("500000.00")
    assert check_ledger() == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_X_BANK_CODE": "ICBC"},
        {"HTTP_X_BANK_CODE": "NOBANK", "HTTP_X_BANK_SIGNATURE": "00"},
        {"HTTP_X_BANK_CODE": "CCB"},  # a known bank, but the signature is ICBC's
    ],
)
def test_missing_headers_or_an_unknown_bank_are_refused(account, headers):
    message = payment(account)
    if headers.get("HTTP_X_BANK_CODE") == "CCB":
        headers = {**headers, "HTTP_X_BANK_SIGNATURE": message.signature}
    response = Client().post(NOTIFY, data=message.body, content_type="application/json", **headers)
    assert_error(response, 401, "SIGNATURE_INVALID")
    assert not BankNotification.objects.exists()


def test_malformed_json_is_a_400(account):
    assert_error(bank_post(signed(b"{not json")), 400, "MALFORMED_REQUEST")
    assert_error(bank_post(signed(b"[1, 2]")), 400, "MALFORMED_REQUEST")
    assert_error(bank_post(signed(b"\xff\xfe")), 400, "MALFORMED_REQUEST")
    assert_error(bank_post(signed({"transaction_id": "T"})), 400, "MISSING_FIELD")
    payload = json.loads(payment(account).body)
    assert_error(bank_post(signed({**payload, "amount": "1.001"})), 400, "AMOUNT_INVALID")
    assert_error(bank_post(signed({**payload, "bank": "CCB"})), 400, "BANK_MISMATCH")
    assert not BankNotification.objects.exists()


@pytest.mark.parametrize(("amount", "code"), REFUSED)
def test_a_signed_amount_outside_the_contract_is_a_400(account, amount, code):
    payload = json.loads(payment(account).body)
    assert_error(bank_post(signed({**payload, "amount": amount})), 400, code)
    assert not BankNotification.objects.exists()
    assert ledger.held_for(account) == 0


@pytest.mark.parametrize(
    ("number", "code"),
    [
        # Read as a float this is infinity; as a Decimal it would overflow the ledger's arithmetic.
        pytest.param("1e309", "AMOUNT_NOT_STRING", id="exponent-overflow"),
        pytest.param("500000.00", "AMOUNT_NOT_STRING", id="decimal"),
        pytest.param("500000", "AMOUNT_NOT_STRING", id="integer"),
        pytest.param("9" * 1_000_000 + ".5", "AMOUNT_NOT_STRING", id="megabyte-decimal"),
        # Python refuses to read an integer this long at all: the body is not JSON it will read.
        pytest.param("9" * 1_000_000, "MALFORMED_REQUEST", id="megabyte-integer"),
    ],
)
def test_a_signed_json_number_for_the_amount_is_a_400(account, number, code):
    text = payment(account).body.decode()
    body = text.replace('"amount":"500000.00"', f'"amount":{number}').encode()
    assert body != text.encode()
    assert_error(bank_post(signed(body)), 400, code)
    assert not BankNotification.objects.exists()


def test_the_signature_is_checked_before_the_amount_is_read(account):
    """A stranger's message is refused for its signature whatever it carries, and alerts supervisors
    (a bad amount in a forged message must not tell the forger how the amount is parsed)."""
    payload = json.loads(payment(account).body)
    body = json.dumps({**payload, "amount": "1e309"}).encode()
    forged = SignedMessage(BANK.bank, body, sign(b"not-the-banks-secret", body))
    assert_error(bank_post(forged), 401, "SIGNATURE_INVALID")
    assert Alert.objects.filter(kind=Alert.Kind.BANK_SIGNATURE_INVALID).exists()


def test_the_bank_needs_no_session_csrf_or_content_type(account, supplier):
    # A logged-in browser session is irrelevant: only the signature authenticates.
    client = Client(enforce_csrf_checks=True)
    client.force_login(supplier)
    message = payment(account)
    response = client.post(NOTIFY, data=message.body, content_type="text/plain", **message.headers)
    assert response.status_code == 201, response.content
    assert_error(client.get(NOTIFY), 405, "METHOD_NOT_ALLOWED")


def test_a_value_time_that_cannot_exist_is_refused_not_a_server_error(account):
    message = json.loads(payment(account).body)
    message["value_time"] = "2026-02-30T09:00:00+08:00"
    assert_error(bank_post(signed(message)), 400, "INVALID_TIME")


def test_an_oversized_body_is_refused_in_the_api_shape(account, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    assert_error(bank_post(payment(account)), 413, "PAYLOAD_TOO_LARGE")


def test_money_for_an_unknown_account_is_recorded_and_held(project):
    message = BANK.payment(
        account_number="6222000000000000000", amount="100", payer_name="路人甲", payer_account="9"
    )
    response = bank_post(message)
    assert response.status_code == 201
    assert response.json()["outcome"] == "unknown_account"
    assert Refund.objects.get().reason == "unknown_account"


# --- Refund confirmations -------------------------------------------------------------------------


@pytest.fixture
def instructed(project, supplier, staff):
    deposit = funded(supplier, project)
    refund = services.schedule_refund(Actor.for_user(staff), deposit, reason="withdrawal")
    services.create_refund_batch(Actor.for_user(staff))
    return refund


def test_the_bank_confirms_a_refund_once(instructed):
    message = BANK.refund_confirmation(instructed.pk, bank_reference="RF-1")
    paid = bank_post(message, CONFIRM)
    assert paid.status_code == 200, paid.content
    body = paid.json()
    assert (body["refund_id"], body["status"], body["bank_reference"]) == (
        instructed.pk,
        "paid",
        "RF-1",
    )
    assert body["paid_at"]
    again = bank_post(message, CONFIRM)
    assert (again.status_code, again.json()["status"]) == (200, "paid")
    other = BANK.refund_confirmation(instructed.pk, bank_reference="RF-OTHER")
    assert_error(bank_post(other, CONFIRM), 409, "REPLAY_CONFLICT")
    alert = Alert.objects.get(kind=Alert.Kind.REFUND_CONFIRMATION_CONFLICT)
    assert alert.project_id == instructed.deposit.lot.project_id
    assert check_ledger() == []


def test_a_failed_refund_comes_back_to_the_sub_account(instructed):
    message = BANK.refund_confirmation(instructed.pk, status="failed", bank_reference="CLOSED")
    response = bank_post(message, CONFIRM)
    assert (response.status_code, response.json()["status"]) == (200, "failed")
    assert response.json()["paid_at"] is None
    assert Deposit.objects.get().status == Deposit.Status.HELD
    assert check_ledger() == []


def test_refund_confirmations_are_checked(instructed):
    forged = BankSimulator(secret="wrong").refund_confirmation(instructed.pk)
    assert_error(bank_post(forged, CONFIRM), 401, "SIGNATURE_INVALID")
    assert_error(bank_post(signed(b"nope"), CONFIRM), 400, "MALFORMED_REQUEST")
    assert_error(
        bank_post(
            signed({"refund_id": instructed.pk, "bank_reference": "X", "status": "maybe"}), CONFIRM
        ),
        400,
        "MALFORMED_REQUEST",
    )
    assert_error(
        bank_post(BANK.refund_confirmation(instructed.pk + 1000), CONFIRM), 400, "NOT_FOUND"
    )
    assert Refund.objects.get().status == Refund.Status.INSTRUCTED
