"""The live auction's pages: the room shell for each kind of viewer, the list of rooms, the agent's setup
form (through `services.create_auction`) and the links from the lot page. The live data itself is the
socket's (test_auction_socket.py, test_browser_auction.py)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from bidding.models import Auction
from tests.bidding.auction_world import DEADLINE, START, T0, make_world

pytestmark = pytest.mark.django_db


def client_for(user=None, language: str | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    if language:
        client.cookies["django_language"] = language
    return client


def room(world) -> str:
    return reverse("auction_room", args=[world.auction.pk])


def body(response) -> str:
    return response.content.decode()


def view_of(response) -> str:
    match = re.search(r'id="auction-room"[^>]*data-view="(\w+)"', body(response))
    assert match, "no room shell on the page"
    return match.group(1)


# --- The room ------------------------------------------------------------------------------------


def test_each_viewer_gets_the_room_shell_of_its_kind(agent, staff, supervisor, supplier):
    world = make_world(agent, staff, public_view=True)
    bidder = world.bidders[0]
    cases = [
        (bidder, "bidder"),
        (supervisor, "supervisor"),
        (staff, "staff"),
        (agent, "staff"),
        (supplier, "public"),  # a supplier not registered for the lot
        (None, "public"),
    ]
    for user, kind in cases:
        response = client_for(user).get(room(world))
        assert response.status_code == 200, (user, response.status_code)
        assert view_of(response) == kind, user
        html = body(response)
        assert f'data-socket="/ws/auctions/{world.auction.pk}/"' in html
        assert "js/auction-room.js" in html
        # Only a bidder gets the bid form; the others watch.
        assert ('id="bid-form"' in html) == (kind == "bidder"), user
        # The shell holds no live data: no organization name of any bidder, before or after.
        for other in world.bidders:
            assert other.organization.name not in html


def test_a_private_room_is_not_found_for_the_public(agent, staff, supervisor, supplier):
    world = make_world(agent, staff, public_view=False)
    assert client_for().get(room(world)).status_code == 404
    assert client_for(supplier).get(room(world)).status_code == 404
    assert client_for(supervisor).get(room(world)).status_code == 200
    assert client_for(world.bidders[1]).get(room(world)).status_code == 200
    assert client_for().get(reverse("auction_room", args=[99999])).status_code == 404


def room_strings(response) -> dict[str, str]:
    script = re.search(
        r'<script id="auction-strings" type="application/json">(.*?)</script>', body(response)
    )
    assert script, "the room's words are not on the page"
    return json.loads(script.group(1))


def test_the_room_script_speaks_the_page_language(agent, staff):
    world = make_world(agent, staff, public_view=True)
    strings = room_strings(client_for(world.bidders[0]).get(room(world)))
    assert strings["reconnecting"] == "连接中断，正在重新连接…"
    assert "%(price)s" in strings["allowed_le"] and "%(pct)s" in strings["confirm_far"]
    english = client_for(world.bidders[0], "en").get(room(world))
    assert '<html lang="en">' in body(english)
    mo_file = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.mo"
    if not mo_file.exists():
        pytest.skip("locale/en/LC_MESSAGES/django.mo is not compiled (make messages)")
    assert room_strings(english)["reconnecting"] == "Connection lost, reconnecting…"


def test_the_list_shows_the_rooms_each_user_may_open(agent, staff, supervisor, supplier):
    public = make_world(agent, staff, public_view=True)
    private = make_world(agent, staff, public_view=False)

    def listed(user):
        html = body(client_for(user).get(reverse("auction_list")))
        return {int(pk) for pk in re.findall(r'data-auction="(\d+)"', html)}

    both = {public.auction.pk, private.auction.pk}
    assert listed(None) == {public.auction.pk}
    assert listed(supplier) == {public.auction.pk}
    assert listed(private.bidders[0]) == both
    assert listed(supervisor) == both
    assert listed(staff) == both
    assert listed(agent) == both


# --- Setting an auction up --------------------------------------------------------------------------


def setup_url(world) -> str:
    return reverse("auction_setup", args=[world.lot.pk])


GOOD = {
    "format": "open",
    "start_price": "1000000.00",
    "step": "1000.00",
    "max_change": "",
    "starts_at": START.strftime("%Y-%m-%dT%H:%M"),
    "duration_seconds": "1800",
    "extension_window_seconds": "120",
    "extension_seconds": "120",
    "max_extensions": "",
    "min_participants": "3",
    "public_view": "on",
    "rounds": "3",
    "turn_seconds": "120",
    "pause_seconds": "120",
}


def test_the_agent_sets_up_the_auction_through_the_service(agent, staff):
    world = make_world(agent, staff, with_auction=False)
    client = client_for(agent)
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        lot_page = body(client.get(reverse("bidding_lot", args=[world.lot.pk])))
        assert setup_url(world) in lot_page and 'data-testid="auction-link"' not in lot_page
        form = client.get(setup_url(world))
        assert form.status_code == 200 and 'id="auction-setup-form"' in body(form)
        response = client.post(setup_url(world), GOOD)
    auction = Auction.objects.get(lot=world.lot)
    assert response.status_code == 302
    assert response["Location"] == reverse("auction_room", args=[auction.pk])
    assert auction.starts_at == START and auction.ends_at == START + dt.timedelta(minutes=30)
    assert str(auction.start_price) == "1000000.00" and str(auction.step) == "1000.00"
    assert auction.max_change is None and auction.max_extensions is None and auction.public_view
    assert auction.created_by == agent
    assert AuditEvent.objects.filter(action="bidding.auction.created").count() == 1
    # The lot page now leads to the room; the form sends the agent there too.
    lot_page = body(client.get(reverse("bidding_lot", args=[world.lot.pk])))
    assert reverse("auction_room", args=[auction.pk]) in lot_page
    assert setup_url(world) not in lot_page
    again = client.get(setup_url(world))
    assert again.status_code == 302 and again["Location"].endswith(f"/auctions/{auction.pk}/")


@pytest.mark.parametrize(
    ("changes", "message", "code"),
    [
        ({"step": "1000000.00"}, "竞价幅度必须小于起始价。", "BAD_STEP"),
        ({"start_price": "一百万"}, "起始价 必须是正数金额，最多两位小数。", "BAD_AMOUNT"),
        ({"start_price": "100.005"}, "起始价 必须是正数金额，最多两位小数。", "BAD_AMOUNT"),
        ({"duration_seconds": "30"}, "竞价时长超出允许范围：须在 60 与", "NUMBER_OUT_OF_RANGE"),
        ({"min_participants": "三"}, "最少竞价人数必须是半角数字（整数）", "NUMBER_INVALID"),
        ({"min_participants": "３"}, "最少竞价人数必须是半角数字（整数）", "NUMBER_INVALID"),
        (
            {"starts_at": (DEADLINE - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")},
            "开始时间必须晚于现在和报名/保证金截止时间。",
            "BAD_START",
        ),
        ({"starts_at": "明天"}, "请检查输入", "VALIDATION_ERROR"),
    ],
)
def test_the_setup_form_refuses_bad_input_with_the_service_message(
    agent, staff, changes, message, code
):
    world = make_world(agent, staff, with_auction=False)
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        response = client_for(agent).post(setup_url(world), {**GOOD, **changes})
    assert response.status_code == 400
    html = body(response)
    assert message in html
    assert f'data-code="{code}"' in html
    assert 'id="auction-setup-form"' in html  # the form again, with the input kept
    assert not Auction.objects.filter(lot=world.lot).exists()


def test_only_the_projects_agent_may_set_up_an_auction(agent, staff, supervisor, supplier):
    world = make_world(agent, staff, with_auction=False)
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        for user in (staff, supervisor, supplier, world.bidders[0]):
            assert client_for(user).get(setup_url(world)).status_code == 403, user
            assert client_for(user).post(setup_url(world), GOOD).status_code == 403, user
        anonymous = client_for().get(setup_url(world))
        assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
        page = body(client_for(world.bidders[0]).get(reverse("bidding_lot", args=[world.lot.pk])))
        assert setup_url(world) not in page
    assert not Auction.objects.filter(lot=world.lot).exists()


def test_the_lot_page_leads_to_the_room_only_for_those_who_may_enter(agent, staff, supplier):
    world = make_world(agent, staff, public_view=False)
    lot_url = reverse("bidding_lot", args=[world.lot.pk])
    assert room(world) in body(client_for(world.bidders[0]).get(lot_url))
    assert room(world) in body(client_for(staff).get(lot_url))
    assert room(world) not in body(client_for(supplier).get(lot_url))
    assert room(world) not in body(client_for().get(lot_url))
