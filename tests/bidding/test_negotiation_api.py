"""The 竞争性谈判/磋商 API (/api/v1/bidding/lots/{id}/negotiation/…) and its pages' forms: who reads
what, who may act (role × endpoint), and malformed input answered in the error shape, never a 5xx.

The specification, written out apart from bidding/access.py: the negotiation is followed by the
project's agent, center staff, supervisors, the panel and each supplier whose first response was
opened (anyone else: 404; anonymous API calls: 403). Who was put out: staff and supervisors only; a
supplier put out sees the rounds before the one that put it out. Before the close nobody learns
another supplier's final-quote status or price; once opened, the prices go to those who see bid
prices after an opening (the agent, staff, supervisors) and the panel, each supplier its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from bidding.models import FinalQuote, FinalQuoteCall, NegotiationRound
from tests.bidding.negotiation_world import (
    CHANGES,
    CLOSES,
    QUOTES,
    ROLES,
    STAGES,
    NegotiationWorld,
    build,
)
from tests.bidding.world import price_texts

pytestmark = pytest.mark.django_db

FOLLOWERS = {"in", "out", "agent", "staff", "supervisor", "member"}


@pytest.fixture
def make_world(agent, staff, supervisor, supplier, expert) -> Callable[[str], NegotiationWorld]:
    return lambda stage: build(agent, staff, supervisor, supplier, expert, stage)


def url(name: str, world: NegotiationWorld) -> str:
    return reverse(name, args=[world.lot.pk])


def expected_get(role: str) -> int:
    if role == "anonymous":
        return 403
    return 200 if role in FOLLOWERS else 404


def post(world: NegotiationWorld, role: str, name: str, data: dict) -> Any:
    return world.api(role).post(url(name, world), data, format="json")


# --- Reading --------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_every_role_reads_what_it_may(make_world, stage):
    world = make_world(stage)
    wrong = []
    with world.at():
        for role in ROLES:
            response = world.api(role).get(url("api_negotiation", world))
            if response.status_code != expected_get(role):
                wrong.append(f"{role}: {response.status_code}, expected {expected_get(role)}")
            elif response.status_code != 200:
                assert set(response.json()) == {"error"}
    assert not wrong, "\n".join(wrong)


def test_only_staff_and_supervisors_learn_who_was_put_out(make_world):
    world = make_world("negotiating")
    out_name = world.users["out"].organization.name
    with world.at():
        for role in FOLLOWERS:
            body = world.api(role).get(url("api_negotiation", world)).json()
            text = json.dumps(body, ensure_ascii=False)
            if role in ("staff", "supervisor"):
                assert [o["name"] for o in body["rounds"][0]["excluded"]] == [out_name]
                assert out_name not in [o["name"] for o in body["still_in"]]
            else:
                assert body["still_in"] is None, role
                assert all(r["excluded"] is None for r in body["rounds"]), role
                if role != "out":
                    assert out_name not in text, role
            if role == "out":
                assert body["rounds"] == []
                assert body["you"] == {"still_in": False, "out_in_round": 1}
                assert CHANGES not in text
            else:
                assert body["rounds"][0]["changes"] == CHANGES, role
        mine = world.api("in").get(url("api_negotiation", world)).json()
        assert mine["you"] == {"still_in": True, "out_in_round": None}
        assert mine["stage"] == "negotiating"


def test_before_the_close_nobody_learns_another_suppliers_quote(make_world):
    world = make_world("quoting")
    receipt = FinalQuote.objects.get(organization_id=world.org("in")).sealed_sha256
    secrets = price_texts(*QUOTES.values())
    with world.at():
        for role in FOLLOWERS:
            body = world.api(role).get(url("api_negotiation", world)).json()
            text = json.dumps(body, ensure_ascii=False)
            assert not [s for s in secrets if s in text], role
            call = body["final_call"]
            assert call["quotes"] is None, role
            if role == "in":
                assert call["invited"] is True and call["quoted"] is True
                assert call["receipt_sha256"] == receipt
            else:
                assert receipt not in text, role
                assert call["receipt_sha256"] is None, role
            if role == "out":
                assert call["invited"] is False and call["quoted"] is False
            elif role not in ("in",):
                assert call["invited"] is None and call["quoted"] is None, role
        # The staff see who was invited, never who has quoted.
        staff_call = world.api("staff").get(url("api_negotiation", world)).json()["final_call"]
        assert len(staff_call["suppliers"]) == 3
        assert staff_call["quoted"] is None


def test_once_opened_the_quotes_go_to_those_who_see_opened_prices(make_world):
    world = make_world("opened")
    with world.at():
        for role in FOLLOWERS:
            body = world.api(role).get(url("api_negotiation", world)).json()
            quotes = body["final_call"]["quotes"]
            assert body["stage"] == "opened"
            if role in ("agent", "staff", "supervisor", "member"):
                prices = sorted(q["price"] for q in quotes if q["quoted"])
                assert prices == sorted(QUOTES.values()), role
                assert [q["quoted"] for q in quotes].count(False) == 1  # the third gave none
            elif role == "in":
                assert [q["price"] for q in quotes] == [QUOTES["in"]]
            else:  # put out before the call: nothing to show
                assert quotes is None


def test_another_method_has_no_negotiation(users):
    from tests.bidding.world import build as build_tender

    world = build_tender(users, "evaluating")
    with world.at():
        for role in ("staff", "agent", "owner"):
            response = world.api(role).get(reverse("api_negotiation", args=[world.lot.pk]))
            assert response.status_code == 404, role


# --- Acting: role × endpoint ----------------------------------------------------------------------


def run_action(
    world: NegotiationWorld,
    name: str,
    data: dict,
    *,
    allowed: dict[str, int],
    refused: dict[str, int],
    unchanged: Callable[[], Any],
) -> None:
    assert set(allowed) | set(refused) == set(ROLES)
    before = unchanged()
    wrong = []
    with world.at():
        for role, want in refused.items():
            response = post(world, role, name, data)
            if response.status_code != want:
                wrong.append(f"{role}: {response.status_code}, expected {want}")
            elif set(response.json()) != {"error"}:
                wrong.append(f"{role}: not the error shape")
        assert unchanged() == before, "a refused call changed the state: " + "; ".join(wrong)
        for role, want in allowed.items():
            response = post(world, role, name, data)
            if response.status_code != want:
                wrong.append(f"{role}: {response.status_code}, expected {want} {response.json()}")
    assert not wrong, "\n".join(wrong)


# Followers who may not act are refused by the service (403); anyone else never sees it (404).
REFUSED = {
    "anonymous": 403,
    "in": 403,
    "out": 403,
    "other": 404,
    "agent": 403,
    "supervisor": 403,
    "member": 403,
    "outsider": 404,
}


def test_only_staff_publish_a_round(make_world):
    world = make_world("seated")
    run_action(
        world,
        "api_negotiation_rounds",
        {"changes": "供货范围增加安装调试。", "excluded": []},
        allowed={"staff": 201},
        refused=REFUSED,
        unchanged=lambda: NegotiationRound.objects.count(),
    )
    assert NegotiationRound.objects.get().changes == "供货范围增加安装调试。"


def test_a_published_round_answers_with_who_it_put_out(make_world):
    world = make_world("negotiating")
    second = world.suppliers[1]
    with world.at():
        response = post(
            world, "staff", "api_negotiation_rounds", {"excluded": [second.organization_id]}
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"] == 2 and body["changes"] == ""
    assert body["excluded"] == [{"id": second.organization_id, "name": second.organization.name}]


def test_only_staff_call_the_final_quotes(make_world):
    world = make_world("negotiating")
    closes = CLOSES.isoformat()
    run_action(
        world,
        "api_negotiation_final_call",
        {"closes_at": closes},
        allowed={"staff": 201},
        refused=REFUSED,
        unchanged=lambda: FinalQuoteCall.objects.count(),
    )
    assert FinalQuoteCall.objects.get().closes_at == CLOSES


def test_only_a_supplier_still_in_quotes(make_world):
    world = make_world("quoting")
    FinalQuote.objects.filter(organization_id=world.org("in")).delete()
    run_action(
        world,
        "api_negotiation_final_quote",
        {"price": "850000.00"},
        allowed={"in": 201},
        refused={**{r: s for r, s in REFUSED.items() if r != "in"}, "staff": 403},
        unchanged=lambda: FinalQuote.objects.count(),
    )
    quote = FinalQuote.objects.get(organization_id=world.org("in"))
    assert quote.price is None  # sealed until the close


def test_the_final_quote_answers_a_receipt_never_the_price(make_world):
    world = make_world("quoting")
    third = world.suppliers[2]
    world.users["third"] = third
    with world.at():
        response = world.api("third").post(
            url("api_negotiation_final_quote", world), {"price": "888777.66"}, format="json"
        )
        assert response.status_code == 201
        body = response.json()
        assert (
            body["sealed_sha256"]
            == FinalQuote.objects.get(organization=third.organization).sealed_sha256
        )
        assert "888777" not in json.dumps(body)
        again = world.api("third").post(
            url("api_negotiation_final_quote", world), {"price": "800000.00"}, format="json"
        )
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "FINAL_QUOTE_FIXED"


def test_too_late_and_too_early_answer_by_code(make_world):
    world = make_world("negotiating")
    with world.at():
        early = post(world, "in", "api_negotiation_final_quote", {"price": "800000.00"})
        assert early.json()["error"]["code"] == "NOT_CALLED"
        past = post(
            world, "staff", "api_negotiation_final_call", {"closes_at": "2020-01-01T09:00:00+08:00"}
        )
        assert past.status_code == 400
        assert past.json()["error"]["code"] == "DUE_AT_INVALID"
        stranger = post(world, "staff", "api_negotiation_rounds", {"excluded": [world.org("out")]})
        assert stranger.json()["error"]["code"] == "NOT_IN_NEGOTIATION"
        empty = post(world, "staff", "api_negotiation_rounds", {"changes": "  "})
        assert empty.json()["error"]["code"] == "ROUND_EMPTY"


# --- Malformed input ------------------------------------------------------------------------------

HUGE = "9" * 40
MALFORMED: dict[str, list[Any]] = {
    "api_negotiation_rounds": [
        [],
        "变动",
        123,
        {"changes": 5},
        {"changes": ["a"]},
        {"changes": {"a": 1}},
        {"changes": "x" * 10_001},
        {"changes": "含\u0000控制字符"},
        {"changes": "变动", "exclude": [1]},
        {"excluded": "1"},
        {"excluded": [True]},
        {"excluded": ["1.0"]},
        {"excluded": [-1]},
        {"excluded": [0]},
        {"excluded": [HUGE]},
        {"excluded": [1.5]},
        {"excluded": [None]},
        {"excluded": None},
        {"excluded": [[1]]},
        {"excluded": list(range(1, 500))},
        {"excluded": [2**70]},
    ],
    "api_negotiation_final_call": [
        {},
        [],
        {"closes_at": None},
        {"closes_at": ""},
        {"closes_at": "tomorrow"},
        {"closes_at": "2026-03-12T13:00:00"},
        {"closes_at": 1773291600},
        {"closes_at": "2026-13-40T25:61:00+08:00"},
        {"closes_at": "9999-12-31T23:59:59-12:00"},
        {"closes_at": "0001-01-01T00:00:00+14:00"},
        {"closes_at": ["2026-03-12T13:00:00+08:00"]},
        {"closes_at": "2026-03-12T13:00:00+08:00", "extra": 1},
    ],
    "api_negotiation_final_quote": [
        {},
        [],
        {"price": None},
        {"price": ""},
        {"price": 850000},
        {"price": 850000.5},
        {"price": "8.5e5"},
        {"price": "-1"},
        {"price": "0"},
        {"price": "８５００００"},
        {"price": "850,000.00"},
        {"price": " 850000"},
        {"price": "850000.001"},
        {"price": HUGE},
        {"price": ["850000"]},
        {"price": {"yuan": "850000"}},
        {"price": "850000", "currency": "CNY"},
    ],
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_bodies_are_refused_in_the_error_shape(make_world, name):
    world = make_world("negotiating" if name != "api_negotiation_final_quote" else "quoting")
    role = "staff" if name != "api_negotiation_final_quote" else "in"
    if name == "api_negotiation_final_quote":
        FinalQuote.objects.filter(organization_id=world.org("in")).delete()
    rounds, calls, quotes = (
        NegotiationRound.objects.count(),
        FinalQuoteCall.objects.count(),
        FinalQuote.objects.count(),
    )
    wrong = []
    with world.at():
        for body in MALFORMED[name]:
            response = post(world, role, name, body)
            label = f"{json.dumps(body, ensure_ascii=False)[:60]}"
            if response.status_code >= 500 or response.status_code < 400:
                wrong.append(f"{label}: {response.status_code}")
                continue
            error = response.json().get("error") or {}
            if not (error.get("code") and error.get("message")):
                wrong.append(f"{label}: {response.json()}")
        # Not JSON at all, and the wrong media type.
        raw = world.api(role).post(url(name, world), "{not json", content_type="application/json")
        assert raw.status_code == 400 and raw.json()["error"]["code"]
        form = world.api(role).post(url(name, world), "a=b", content_type="text/plain")
        assert 400 <= form.status_code < 500
    assert not wrong, "\n".join(wrong)
    assert (
        NegotiationRound.objects.count(),
        FinalQuoteCall.objects.count(),
        FinalQuote.objects.count(),
    ) == (rounds, calls, quotes)


def test_unknown_lots_and_ids_are_404(make_world):
    world = make_world("negotiating")
    with world.at():
        for name in ("api_negotiation", "api_negotiation_rounds"):
            missing = reverse(name, args=[world.lot.pk + 1000])
            client = world.api("staff")
            response = (
                client.get(missing)
                if name == "api_negotiation"
                else client.post(missing, {}, format="json")
            )
            assert response.status_code == 404
