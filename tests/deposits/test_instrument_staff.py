"""Registering and settling cheques, drafts and promissory notes: the custody page and the API. Staff
act; supervisors, suppliers and agents may not."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.actors import Actor
from audit.models import AuditEvent
from deposits import services
from deposits.models import Instrument
from tests.deposits.helpers import T0, tender
from trading import services as trading

pytestmark = pytest.mark.django_db

API = "/api/v1/deposits/instruments/"
NOW = T0 + dt.timedelta(days=2)


@pytest.fixture(autouse=True)
def traveller():
    with time_machine.travel(NOW, tick=False) as moving:
        yield moving


@pytest.fixture
def lot(agent, staff, supplier):
    project = tender(agent, staff, kind="gp", category="goods", deposit="20000.00")
    lot = project.lots.get()
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        trading.register(Actor.for_user(supplier), lot)
    return lot


def page_post(lot, supplier, **overrides):
    data = {
        "project_number": lot.project.number,
        "lot_number": lot.number,
        "uscc": supplier.organization.uscc,
        "kind": "draft",
        "bank": "中国银行珠海分行",
        "number": "DR-0001",
        "amount": "20000.00",
        "drawer_account": "44050166000100001111",
        "issued_on": (NOW.date() - dt.timedelta(days=1)).isoformat(),
        "payable_until": (NOW.date() + dt.timedelta(days=30)).isoformat(),
    }
    data.update(overrides)
    return data


def api_body(lot, supplier, **overrides):
    body = page_post(lot, supplier)
    for name in ("project_number", "lot_number", "uscc"):
        body.pop(name)
    body.update({"lot": lot.pk, "organization": supplier.organization_id, **overrides})
    return body


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_staff_register_an_instrument_on_the_custody_page(lot, staff, supplier):
    response = browser(staff).post(reverse("instrument_register"), page_post(lot, supplier))
    assert response.status_code == 302, response.content.decode()
    instrument = Instrument.objects.get()
    assert (instrument.kind, instrument.number, instrument.organization) == (
        "draft",
        "DR-0001",
        supplier.organization,
    )
    assert AuditEvent.objects.filter(action="deposits.instrument.registered").exists()
    html = browser(staff).get(reverse("custody")).content.decode()
    assert "DR-0001" in html and 'data-testid="instrument-form"' in html
    response = browser(staff).post(
        reverse("instrument_dishonour", args=[instrument.pk]), {"text": "票据要素不全"}
    )
    assert response.status_code == 302
    response = browser(staff).post(reverse("instrument_return", args=[instrument.pk]), {})
    assert response.status_code == 302
    instrument.refresh_from_db()
    assert instrument.status == Instrument.Status.RETURNED


def test_a_refused_instrument_keeps_the_input_and_shows_why(lot, staff, supplier):
    response = browser(staff).post(
        reverse("instrument_register"), page_post(lot, supplier, payable_until="")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-code="MATURITY_REQUIRED"' in html and 'value="DR-0001"' in html
    assert not Instrument.objects.exists()


@pytest.mark.parametrize("who", ["supervisor", "supplier", "agent"])
def test_only_staff_register_instruments_on_the_page(lot, staff, supplier, request, who):
    user = request.getfixturevalue(who)
    response = browser(user).post(reverse("instrument_register"), page_post(lot, supplier))
    assert response.status_code == 403
    assert not Instrument.objects.exists()
    instrument = services.register_instrument(
        Actor.for_user(staff),
        lot,
        supplier.organization,
        kind="cheque",
        bank="中国银行",
        number="CQ-1",
        amount="20000.00",
        drawer_account="1",
        issued_on=NOW.date(),
    )
    for name in ("instrument_dishonour", "instrument_return"):
        response = browser(user).post(reverse(name, args=[instrument.pk]), {"text": "x"})
        assert response.status_code == 403
    instrument.refresh_from_db()
    assert instrument.status == Instrument.Status.RECEIVED


def test_staff_register_and_settle_instruments_through_the_api(lot, staff, supplier, supervisor):
    response = api(staff).post(API, api_body(lot, supplier), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["amount"], body["status"]) == ("draft", "20000.00", "received")
    assert body["collect_to"] == lot.deposit_accounts.get().number
    listed = api(supervisor).get(API).json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]
    mine = api(supplier).get(API).json()["results"]
    assert [row["number"] for row in mine] == ["DR-0001"]
    response = api(staff).post(f"{API}{body['id']}/return/", {"note": "撤回投标"}, format="json")
    assert (response.status_code, response.json()["status"]) == (200, "returned")


def test_the_api_refuses_a_bad_instrument_with_codes(lot, staff, supplier):
    response = api(staff).post(API, api_body(lot, supplier, amount=20000), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "AMOUNT_NOT_STRING"
    response = api(staff).post(API, api_body(lot, supplier, payable_until=None), format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "MATURITY_REQUIRED")
    assert not Instrument.objects.exists()


@pytest.mark.parametrize("who", ["supervisor", "supplier", "agent"])
def test_only_staff_register_instruments_through_the_api(lot, supplier, request, who):
    user = request.getfixturevalue(who)
    response = api(user).post(API, api_body(lot, supplier), format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"
    assert not Instrument.objects.exists()
