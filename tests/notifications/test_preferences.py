"""Preferences: in-app always on, a legal kind keeps email or SMS, and what a user chose is obeyed."""

from __future__ import annotations

import pytest

from accounts.actors import Actor
from audit.models import AuditEvent
from lib.errors import DomainError
from notifications import preferences
from notifications.models import Delivery
from tests.notifications.support import returned_notice

URL = "/api/v1/notifications/preferences/"


def _row(rows, kind):
    return next(r for r in rows if r.kind == kind)


def test_a_legal_kind_keeps_email_or_sms(supplier):
    actor = Actor.for_user(supplier)
    with pytest.raises(DomainError) as refused:
        preferences.update(actor, {"opening.started": {"email": False, "sms": False}})
    assert refused.value.code == "PREFERENCE_LEGAL_REQUIRED"
    # One of the two may go.
    rows = preferences.update(actor, {"opening.started": {"email": False}})
    assert _row(rows, "opening.started").channels == {"inapp": True, "email": False, "sms": True}
    with pytest.raises(DomainError) as refused:
        preferences.update(actor, {"opening.started": {"sms": False}})
    assert refused.value.code == "PREFERENCE_LEGAL_REQUIRED"


def test_in_app_cannot_be_switched_off(supplier):
    with pytest.raises(DomainError) as refused:
        preferences.update(Actor.for_user(supplier), {"bid.receipt": {"inapp": False}})
    assert refused.value.code == "PREFERENCE_INAPP_REQUIRED"


def test_the_api_round_trip(supplier, api):
    client = api(supplier)
    got = client.get(URL).json()["preferences"]
    receipt = next(p for p in got if p["kind"] == "bid.receipt")
    assert receipt == {
        "kind": "bid.receipt",
        "name": "投标回执",
        "legal": False,
        "inapp": True,
        "email": True,
        "sms": False,
    }
    assert "phone.verification" not in {p["kind"] for p in got}

    put = client.put(
        URL, {"preferences": [{"kind": "bid.receipt", "email": False, "sms": True}]}, format="json"
    )
    assert put.status_code == 200, put.json()
    again = next(p for p in client.get(URL).json()["preferences"] if p["kind"] == "bid.receipt")
    assert (again["email"], again["sms"]) == (False, True)
    assert AuditEvent.objects.filter(action="notifications.preferences.changed").count() == 1

    refused = client.put(
        URL,
        {"preferences": [{"kind": "contract.due", "email": False, "sms": False}]},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "PREFERENCE_LEGAL_REQUIRED"
    inapp = client.put(
        URL, {"preferences": [{"kind": "bid.receipt", "inapp": False}]}, format="json"
    )
    assert inapp.json()["error"]["code"] == "PREFERENCE_INAPP_REQUIRED"
    unknown = client.put(URL, {"preferences": [{"kind": "no.such", "email": True}]}, format="json")
    assert unknown.json()["error"]["code"] == "PREFERENCE_INVALID"
    assert api().get(URL).status_code in (401, 403)


def test_a_user_who_switched_email_off_gets_no_email(supplier, other_supplier):
    for user in (supplier, other_supplier):
        user.email = f"{user.username}@example.cn"
        user.save(update_fields=["email"])
    preferences.update(Actor.for_user(supplier), {"organization.returned": {"email": False}})
    mine = returned_notice(supplier)
    theirs = returned_notice(other_supplier)
    assert not Delivery.objects.filter(notice=mine, channel="email").exists()
    assert Delivery.objects.filter(notice=mine, channel="inapp").exists()
    assert Delivery.objects.filter(notice=theirs, channel="email").exists()


def test_the_page_saves_the_checkboxes(supplier, client):
    client.force_login(supplier)
    page = client.get("/notifications/preferences/")
    assert page.status_code == 200
    assert "投标回执" in page.content.decode()
    # Every box left unticked: the legal kinds refuse, nothing is saved.
    refused = client.post("/notifications/preferences/", {}, follow=True)
    assert "涉及法定期限" in refused.content.decode()
    rows = preferences.table(supplier)
    assert _row(rows, "bid.receipt").channels["email"] is True
    ticked = {f"{r.kind}:email": "on" for r in rows if r.kind != "bid.receipt"}
    saved = client.post("/notifications/preferences/", ticked)
    assert saved.status_code == 302
    assert _row(preferences.table(supplier), "bid.receipt").channels["email"] is False
