"""The 谈判/磋商 section of the lot and evaluation pages, and its three forms (round, final-quote call,
final quote): who sees what, who may post (role × form), and nothing echoed or leaked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

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
    travel,
)
from tests.bidding.world import price_texts

pytestmark = pytest.mark.django_db

BEIJING = ZoneInfo("Asia/Shanghai")
FOLLOWERS = {"in", "out", "agent", "staff", "supervisor", "member"}
SECTION = 'data-testid="negotiation"'


@pytest.fixture
def make_world(agent, staff, supervisor, supplier, expert) -> Callable[[str], NegotiationWorld]:
    return lambda stage: build(agent, staff, supervisor, supplier, expert, stage)


def lot_page(world: NegotiationWorld, role: str) -> Any:
    return world.client(role).get(reverse("bidding_lot", args=[world.lot.pk]))


@pytest.mark.parametrize("stage", STAGES)
def test_the_section_shows_to_those_who_follow_the_negotiation(make_world, stage):
    world = make_world(stage)
    with world.at():
        for role in ROLES:
            response = lot_page(world, role)
            assert response.status_code == 200, role
            html = response.content.decode()
            assert (SECTION in html) == (role in FOLLOWERS), role
            if stage != "seated" and role in FOLLOWERS - {"out"}:
                assert CHANGES in html, role
            if role not in FOLLOWERS - {"out"}:
                assert CHANGES not in html, role
            if stage != "opened":
                assert not [p for p in price_texts(*QUOTES.values()) if p in html], role


def test_a_supplier_put_out_sees_that_it_is_out(make_world):
    world = make_world("negotiating")
    with world.at():
        html = lot_page(world, "out").content.decode()
    assert 'data-testid="negotiation-out"' in html
    assert "第 1 轮" in html
    assert 'data-testid="negotiation-round"' not in html
    assert 'id="final-quote-form"' not in html


def test_staff_see_the_forms_with_the_suppliers_still_in(make_world):
    world = make_world("negotiating")
    with world.at():
        html = lot_page(world, "staff").content.decode()
        evaluation = world.client("staff").get(reverse("bidding_evaluation", args=[world.lot.pk]))
    assert 'id="negotiation-round-form"' in html and 'id="final-call-form"' in html
    assert html.count('name="excluded"') == 3  # the suppliers still in, the one put out not
    assert 'type="datetime-local"' in html
    assert 'data-testid="round-excluded"' in html
    assert 'id="negotiation-round-form"' in evaluation.content.decode()
    for role in FOLLOWERS - {"staff"}:
        with world.at():
            other = lot_page(world, role).content.decode()
        assert 'id="negotiation-round-form"' not in other, role
        assert 'data-testid="round-excluded"' not in other or role == "supervisor", role


def test_staff_run_a_round_and_call_the_final_quotes_through_the_pages(make_world):
    world = make_world("seated")
    second = world.suppliers[1]
    client = world.client("staff")
    with world.at():
        response = client.post(
            reverse("negotiation_round", args=[world.lot.pk]),
            {
                "changes": "增加两年质保。",
                "excluded": [str(second.organization_id)],
                "back": "evaluation",
            },
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("bidding_evaluation", args=[world.lot.pk])
        round_ = NegotiationRound.objects.get()
        assert round_.changes == "增加两年质保。" and round_.excluded == [second.organization_id]
        # A time typed in Beijing.
        closes = world.now + dt.timedelta(hours=1)
        response = client.post(
            reverse("negotiation_final_call", args=[world.lot.pk]),
            {"closes_at": closes.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M")},
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("bidding_lot", args=[world.lot.pk])
    call = FinalQuoteCall.objects.get()
    assert call.closes_at == closes.replace(second=0, microsecond=0)
    assert second.organization_id not in call.suppliers


def test_a_failed_round_keeps_the_text_and_says_why(make_world):
    world = make_world("negotiating")
    with world.at():
        response = world.client("staff").post(
            reverse("negotiation_round", args=[world.lot.pk]),
            {"changes": "   ", "excluded": []},
        )
    assert response.status_code == 400
    assert 'data-code="ROUND_EMPTY"' in response.content.decode()


def test_a_supplier_quotes_once_and_sees_its_receipt(make_world):
    world = make_world("quoting")
    third = world.suppliers[2]
    world.users["third"] = third
    client = world.client("third")
    url = reverse("negotiation_final_quote", args=[world.lot.pk])
    with world.at():
        html = lot_page(world, "third").content.decode()
        assert 'id="final-quote-form"' in html and "data-amount" in html
        assert 'data-testid="final-quote-countdown"' in html and "data-reload-at-zero" in html
        bad = client.post(url, {"price": "八十万元整"})
        assert bad.status_code == 400
        assert "八十万元整" not in bad.content.decode()
        response = client.post(
            url, {"price": "８８８,７７７.６６"}
        )  # the page's script would fix it
        assert response.status_code == 400
        response = client.post(url, {"price": "888777.66"}, follow=True)
        assert response.status_code == 200
        html = response.content.decode()
        quote = FinalQuote.objects.get(organization=third.organization)
        assert quote.sealed_sha256 in html
        assert 'data-testid="final-quote-receipt"' in html
        assert 'id="final-quote-form"' not in html
        assert not [p for p in price_texts("888777.66") if p in html]
        again = client.post(url, {"price": "800000.00"})
        assert again.status_code == 409
        assert "800000" not in again.content.decode()


def test_after_the_close_the_page_waits_then_shows_the_quotes(make_world):
    world = make_world("quoting")
    with travel(CLOSES + dt.timedelta(seconds=1)):
        html = lot_page(world, "staff").content.decode()
        assert 'data-testid="final-quotes-closing"' in html and "data-reload-every" in html


def test_once_opened_the_quotes_show_as_bid_prices_do(make_world):
    world = make_world("opened")
    with world.at():
        for role in FOLLOWERS:
            html = lot_page(world, role).content.decode()
            shown = [q for q in QUOTES.values() if price_texts(q)[1] in html]
            if role in ("agent", "staff", "supervisor", "member"):
                assert shown == list(QUOTES.values()), role
            elif role == "in":
                assert shown == [QUOTES["in"]]
            else:
                assert shown == [], role
        member = world.client("member").get(reverse("bidding_evaluation", args=[world.lot.pk]))
        assert 'data-testid="final-quotes"' in member.content.decode()


PAGE_FORMS = {
    "negotiation_round": ("seated", {"changes": "变动"}, "staff"),
    "negotiation_final_call": ("negotiating", {"closes_at": "2026-03-12T13:00"}, "staff"),
    "negotiation_final_quote": ("quoting", {"price": "850000.00"}, "in"),
}


@pytest.mark.parametrize("name", list(PAGE_FORMS))
def test_only_the_right_role_posts_each_form(make_world, name):
    stage, data, allowed = PAGE_FORMS[name]
    world = make_world(stage)
    if name == "negotiation_final_quote":
        FinalQuote.objects.filter(organization_id=world.org("in")).delete()
    url = reverse(name, args=[world.lot.pk])

    def state() -> tuple[int, int, int]:
        return (
            NegotiationRound.objects.count(),
            FinalQuoteCall.objects.count(),
            FinalQuote.objects.count(),
        )

    before = state()
    wrong = []
    with world.at():
        for role in ROLES:
            if role == allowed:
                continue
            want = 302 if role == "anonymous" else (403 if role in FOLLOWERS else 404)
            got = world.client(role).post(url, data).status_code
            if got != want:
                wrong.append(f"{role}: {got}, expected {want}")
        assert state() == before, wrong
        got = world.client(allowed).post(url, data).status_code
        if got != 302:
            wrong.append(f"{allowed}: {got}, expected 302")
    assert not wrong, "\n".join(wrong)
    assert state() != before
