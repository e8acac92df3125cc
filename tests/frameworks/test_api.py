"""The frameworks API: who may do what (a role × endpoint matrix), what each reader sees of a second
round before and after its close, and hostile input refused by name with nothing done."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from rest_framework.test import APIClient

from clock.services import run_due
from frameworks.models import Agreement, CallOff, Quote
from tests.frameworks.world import (
    CONCLUDED,
    concluded,
    member_user,
    solicited,
)
from tests.trading.factories import beijing

pytestmark = pytest.mark.django_db
FRIDAY = beijing("2026-03-27 17:00")
CLOSES = beijing("2026-03-30 17:00")


def travel(moment: dt.datetime):
    return time_machine.travel(moment, tick=False)


def client(user=None) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body: dict[str, dict] = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


@pytest.fixture
def world(agent, staff, supervisor):
    return concluded(agent, staff, supervisor)


def url(world, tail: str = "") -> str:
    return f"/api/v1/frameworks/{world['agreement'].pk}/{tail}"


DIRECT = {"method": "direct", "requirement": "台式计算机 20 台", "quantity": 20}


def test_the_agreement_and_its_members_are_public(world):
    with travel(CONCLUDED + dt.timedelta(days=1)):
        listed = client().get("/api/v1/frameworks/")
    assert listed.status_code == 200
    (row,) = listed.json()["results"]
    assert (row["number"], row["max_unit_price"], row["in_force"]) == (
        world["agreement"].number,
        "950000.00",
        True,
    )
    detail = client().get(url(world)).json()
    assert [(m["rank"], m["agreed_price"]) for m in detail["members"]] == [
        (1, "880000.00"),
        (2, "900000.00"),
        (3, "910000.00"),
        (4, "930000.00"),
    ]
    assert detail["may_order"] is False and detail["my_membership"] is None


@pytest.mark.parametrize(
    ("role", "status", "code"),
    [
        ("anonymous", 403, "NOT_AUTHENTICATED"),
        ("member", 403, "FORBIDDEN"),
        ("staff", 403, "FORBIDDEN"),
        ("supervisor", 403, "FORBIDDEN"),
        ("agent", 201, None),
    ],
)
def test_only_the_agent_places_an_order(world, agent, staff, supervisor, role, status, code):
    users = {
        "anonymous": None,
        "member": member_user(world, "880000"),
        "staff": staff,
        "supervisor": supervisor,
        "agent": agent,
    }
    body = {**DIRECT, "supplier": member_user(world, "900000").organization_id}
    with travel(CONCLUDED + dt.timedelta(days=1)):
        answer = client(users[role]).post(url(world, "orders/"), body, format="json")
    if code:
        assert_error(answer, status, code)
        assert not CallOff.objects.exists()
    else:
        assert answer.status_code == 201, answer.content
        (row,) = answer.json()["call_offs"]
        assert (row["supplier"], row["unit_price"], row["amount"]) == (
            "谈判供应商0",
            "900000.00",
            "18000000.00",
        )


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"quantity": "abc"}, "NUMBER_INVALID"),
        ({"quantity": 0}, "NUMBER_OUT_OF_RANGE"),
        ({"unit_price": 100000}, "AMOUNT_NOT_STRING"),
        ({"unit_price": "1e5"}, "AMOUNT_INVALID"),
        ({"unit_price": "900000.01"}, "PRICE_OVER_AGREEMENT"),
        ({"method": "auction"}, "VALIDATION_ERROR"),
        ({"requirement": "台式\x00计算机"}, "TEXT_INVALID_CHAR"),
        ({"requirement": "x" * 2001}, "TEXT_TOO_LONG"),
        ({"surprise": 1}, "UNKNOWN_FIELD"),
        ({"supplier": 999999}, "NOT_A_MEMBER"),
        # A time without its offset is refused, not guessed.
        ({"method": "second_round", "closes_at": "2026-04-30T17:00:00"}, "VALIDATION_ERROR"),
    ],
)
def test_hostile_orders_are_refused_by_name_and_do_nothing(world, agent, change, code):
    body = {**DIRECT, "supplier": member_user(world, "900000").organization_id, **change}
    with travel(CONCLUDED + dt.timedelta(days=1)):
        answer = client(agent).post(url(world, "orders/"), body, format="json")
    assert answer.status_code in (400, 409), answer.content
    error = answer.json()["error"]
    assert error["message"]
    assert error["code"] == code, error
    assert not CallOff.objects.exists()


def test_a_second_round_shows_each_reader_only_their_own_until_the_close(
    world, agent, staff, supervisor
):
    a, b, c = (member_user(world, p) for p in ["880000", "900000", "910000"])
    with travel(FRIDAY):
        placed = client(agent).post(
            url(world, "orders/"),
            {
                "method": "second_round",
                "requirement": "打印机 50 台",
                "quantity": 50,
                "closes_at": CLOSES.isoformat(),
            },
            format="json",
        )
    assert placed.status_code == 201, placed.content
    call_off = CallOff.objects.get()
    quote_url = url(world, f"orders/{call_off.pk}/quote/")
    with travel(FRIDAY + dt.timedelta(hours=1)):
        assert client(a).post(quote_url, {"unit_price": "850000"}, format="json").status_code == 201
        assert (
            client(b).post(quote_url, {"unit_price": "845000.5"}, format="json").status_code == 201
        )
        assert_error(
            client(b).post(quote_url, {"unit_price": "800000"}, format="json"), 409, "QUOTE_FIXED"
        )
        assert_error(
            client(c).post(quote_url, {"unit_price": 800000}, format="json"),
            400,
            "AMOUNT_NOT_STRING",
        )
        assert_error(
            client(agent).post(quote_url, {"unit_price": "1"}, format="json"), 403, "FORBIDDEN"
        )
        before = {
            role: client(user).get(url(world)).content.decode()
            for role, user in {
                "anonymous": None,
                "a": a,
                "c": c,
                "agent": agent,
                "staff": staff,
                "supervisor": supervisor,
            }.items()
        }
    for role, body in before.items():
        assert "850000" not in body and "845000" not in body, role
    mine = client(a).get(url(world)).json()["call_offs"][0]["my_quote"]
    assert mine["receipt"] == Quote.objects.get(organization=a.organization).sealed_sha256
    assert "my_quote" not in client(agent).get(url(world)).json()["call_offs"][0]
    with travel(CLOSES):
        run_due()
        public = client().get(url(world)).json()["call_offs"][0]
        watched = client(supervisor).get(url(world)).json()["call_offs"][0]
        own = client(a).get(url(world)).json()["call_offs"][0]
    assert (public["status"], public["supplier"], public["unit_price"]) == (
        "awarded",
        b.organization.name,
        "845000.50",
    )
    assert "quotes" not in public and "invited" not in public
    assert [q["unit_price"] for q in watched["quotes"]] == ["845000.50", "850000.00"]
    assert own["my_quote"]["unit_price"] == "850000.00" and "quotes" not in own


def test_the_agent_concludes_through_the_api(agent, staff, supervisor):
    world = solicited(agent, staff, supervisor)
    body = {
        "lot": world["lot"].pk,
        "valid_until": (CONCLUDED + dt.timedelta(days=200)).isoformat(),
        "second_stage_methods": ["direct", "second_round"],
    }
    with travel(CONCLUDED):
        refused = client(member_user(world, "880000")).post(
            "/api/v1/frameworks/conclude/", body, format="json"
        )
        assert_error(refused, 403, "FORBIDDEN")
        assert_error(
            client(agent).post(
                "/api/v1/frameworks/conclude/",
                {**body, "second_stage_methods": ["lottery"]},
                format="json",
            ),
            400,
            "VALIDATION_ERROR",
        )
        made = client(agent).post("/api/v1/frameworks/conclude/", body, format="json")
    assert made.status_code == 201, made.content
    assert len(made.json()["members"]) == 4
    assert Agreement.objects.get().valid_until == CONCLUDED + dt.timedelta(days=200)
