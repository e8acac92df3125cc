"""Supervisor alerts over the API (/api/v1/alerts/): supervisors and staff read them, supervisors
handle them — the one write a supervisor makes."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction

from accounts.actors import Actor
from audit.alerts import raise_alert
from audit.models import Alert, AuditEvent
from deposits.bank_simulator import BankSimulator
from tests.deposits.helpers import T0
from tests.deposits.test_api import assert_error, bank_post

pytestmark = pytest.mark.django_db

URL = "/api/v1/alerts/"


@pytest.fixture(autouse=True)
def traveller():
    with time_machine.travel(T0, tick=False) as moving:
        yield moving


def alert(
    kind: str = Alert.Kind.SAME_PAYER_ACCOUNT, summary: str = "同一账户缴纳两家保证金"
) -> Alert:
    with transaction.atomic():
        return raise_alert(Actor.system("test"), kind, summary=summary, project_id=7)


def test_supervisors_and_staff_read_alerts(api, staff, supervisor, supplier, traveller):
    older = alert()
    traveller.shift(dt.timedelta(minutes=1))
    # The bank endpoint raises one for a forged message.
    forged = BankSimulator(secret="forged").payment(
        account_number="6222", amount="1", payer_name="x", payer_account="1"
    )
    bank_post(forged)
    newer = Alert.objects.get(kind=Alert.Kind.BANK_SIGNATURE_INVALID)
    for user in (staff, supervisor):
        listed = api(user).get(URL)
        assert listed.status_code == 200
        rows = listed.json()["results"]
        assert [row["id"] for row in rows] == [newer.pk, older.pk]
        assert rows[1]["summary"] == "同一账户缴纳两家保证金"
        assert (rows[1]["handled"], rows[1]["project_id"]) == (False, 7)
    assert_error(api(supplier).get(URL), 403, "FORBIDDEN")
    assert_error(api(None).get(URL), 403, "NOT_AUTHENTICATED")


def test_alerts_filter_by_kind_handled_and_project(api, supervisor):
    first = alert()
    second = alert(Alert.Kind.REFUND_OVERDUE, "退款逾期")
    client = api(supervisor)
    client.post(f"{URL}{first.pk}/handle/", {"note": "已约谈"}, format="json")
    by_kind = client.get(URL, {"kind": "refund_overdue"}).json()["results"]
    assert [row["id"] for row in by_kind] == [second.pk]
    assert [row["id"] for row in client.get(URL, {"handled": "true"}).json()["results"]] == [
        first.pk
    ]
    assert [row["id"] for row in client.get(URL, {"handled": "false"}).json()["results"]] == [
        second.pk
    ]
    assert client.get(URL, {"project": 8}).json()["count"] == 0
    assert_error(client.get(URL, {"kind": "nonsense"}), 400, "INVALID_PARAMETER")
    assert_error(client.get(URL, {"handled": "maybe"}), 400, "INVALID_PARAMETER")
    assert_error(client.get(URL, {"project": "-1"}), 400, "INVALID_PARAMETER")


def test_only_supervisors_handle_alerts_once_with_a_note(
    api, staff, supervisor, supplier, other_supplier
):
    raised = alert()
    url = f"{URL}{raised.pk}/handle/"
    body = {"note": "已核查：两家为母子公司，已移交行政监督部门"}
    assert_error(api(staff).post(url, body, format="json"), 403, "FORBIDDEN")
    assert_error(api(supplier).post(url, body, format="json"), 404, "NOT_FOUND")
    assert_error(api(other_supplier).post(url, body, format="json"), 404, "NOT_FOUND")
    assert_error(api(None).post(url, body, format="json"), 403, "NOT_AUTHENTICATED")
    assert_error(api(supervisor).post(url, {"note": "  "}, format="json"), 400, "NOTE_REQUIRED")
    assert_error(api(supervisor).post(url, {}, format="json"), 400, "VALIDATION_ERROR")
    handled = api(supervisor).post(url, body, format="json")
    assert handled.status_code == 200, handled.json()
    assert (handled.json()["handled"], handled.json()["handled_by"], handled.json()["note"]) == (
        True,
        "supervisor",
        body["note"],
    )
    assert AuditEvent.objects.filter(action="audit.alert.handled").count() == 1
    assert_error(api(supervisor).post(url, body, format="json"), 409, "ALREADY_HANDLED")
    assert_error(api(supervisor).post(f"{URL}99999/handle/", body, format="json"), 404, "NOT_FOUND")
