"""No input of one bidder changes another's outcome, and the integrity gate holds at every bid.

- Frames carrying text no database can store (NUL, a lone surrogate) are refused at parse time, so they
  never reach the writer's shared batch; a bidder flooding them cannot make anyone else's bid fail.
- The engine decides each bid on its own: a bid that fails for a reason nobody foresaw is answered
  RETRY alone, never the others of its batch.
- A supplier barred while admitted to a live room is refused from its next bid on, on the socket and
  through the API, with the gate's code, and the refusal is audited.
- A refused bid's client text is kept in the audit chain bounded (excerpt, length, hash)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from unittest import mock

import pytest
import time_machine
from asgiref.sync import sync_to_async
from django.contrib.sessions.models import Session
from django.urls import reverse

from accounts import members
from accounts import services as accounts
from accounts.actors import Actor
from accounts.models import OrgRole
from audit.models import AuditEvent
from audit.services import verify_chain
from bidding.auction import hub, services
from bidding.auction import rules as R
from bidding.auction.consumers import AuctionConsumer
from bidding.models import AuctionBid
from tests.bidding.auction_world import START, make_world
from tests.bidding.test_auction_socket import open_room, until
from tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)

LIVE = START + dt.timedelta(seconds=1)

HOSTILE = [
    {"type": "bid", "key": "k\x00", "price": "999000.00"},
    {"type": "bid", "key": "k\ud800", "price": "999000.00"},
    {"type": "bid", "key": "bad-price", "price": "999000.00\x00"},
    {"type": "bid", "key": "bad-price-2", "price": "\udfff"},
    {"type": "bid", "key": "ok", "price": "1", "note\x00": "x"},
]


@pytest.fixture(autouse=True)
def _close_hubs():
    yield
    hub.close_all()


@pytest.fixture
def world(agent, staff):
    return make_world(agent, staff, public_view=True, duration_seconds=3600)


def bar(staff, organization) -> None:
    accounts.bar_organization(
        Actor.for_user(staff),
        organization,
        category="bad_conduct",
        source="regulator",
        reason="串通投标",
        barred_from=dt.date(2026, 1, 1),
        barred_until=None,
    )


async def test_a_socket_sending_hostile_frames_never_fails_another_bidders_bid(world):
    hostile_user, honest_user, _ = world.bidders
    with time_machine.travel(LIVE, tick=True):
        hostile, _ = await open_room(world.auction.pk, hostile_user)
        honest, _ = await open_room(world.auction.pk, honest_user)
        answers = []
        for index in range(8):
            for frame in HOSTILE:
                # json.dumps escapes NUL and lone surrogates as \u0000 / \ud800, as a browser would.
                await hostile.send_to(text_data=json.dumps(frame))
            key = f"honest-{index}"
            await honest.send_json_to(
                {"type": "bid", "key": key, "price": f"{999000 - index * 1000}.00"}
            )
            answers.append(await until(honest, "ack"))
        refusals = []
        while len(refusals) < 8 * len(HOSTILE):
            frame = json.loads(await hostile.receive_from(5))
            if frame["type"] == "error":
                refusals.append(frame["code"])
        await hostile.disconnect()
        await honest.disconnect()
    assert [a["key"] for a in answers] == [f"honest-{i}" for i in range(8)]
    assert set(refusals) == {"TEXT_INVALID_CHAR"}
    # Nothing of the hostile frames reached the writer: no row, no audit event.
    assert not await sync_to_async(
        AuctionBid.objects.filter(participant__organization=hostile_user.organization).exists
    )()


def test_the_engine_refuses_unstorable_text_for_that_bid_alone(world):
    a, b, c = world.bidders
    with time_machine.travel(LIVE, tick=False):
        answers = services.place_bids(
            [
                services.BidRequest(world.actor(a), world.auction.pk, "k\x00", "999000.00"),
                services.BidRequest(world.actor(b), world.auction.pk, "b-1", "999000.00"),
                services.BidRequest(world.actor(a), world.auction.pk, "a-2", "998000.00\ud800"),
                services.BidRequest(world.actor(c), world.auction.pk, "c-1", "998000.00"),
            ]
        )
    assert [(x.accepted, x.code) for x in answers] == [
        (False, "BAD_KEY"),
        (True, ""),
        (False, "BAD_PRICE"),
        (True, ""),
    ]
    refused = AuditEvent.objects.filter(action="bidding.auction.bid_rejected").order_by("seq")
    assert [e.payload["code"] for e in refused] == ["BAD_KEY", "BAD_PRICE"]
    # The chain keeps the excerpt (unsafe characters replaced), the length and the hash.
    assert refused[0].payload["key"]["excerpt"] == "k\ufffd"
    assert refused[1].payload["price"]["length"] == len("998000.00\ud800")
    assert verify_chain().ok


def test_an_unforeseen_failure_of_one_bid_answers_that_bid_alone(world):
    a, b, c = world.bidders
    parse = R.parse_price

    def breaks_on_one_price(text):
        if text == "997000.00":
            raise RuntimeError("an unforeseen failure")
        return parse(text)

    with (
        time_machine.travel(LIVE, tick=False),
        mock.patch.object(R, "parse_price", side_effect=breaks_on_one_price),
    ):
        answers = services.place_bids(
            [
                services.BidRequest(world.actor(a), world.auction.pk, "a-1", "999000.00"),
                services.BidRequest(world.actor(b), world.auction.pk, "b-1", "997000.00"),
                services.BidRequest(world.actor(c), world.auction.pk, "c-1", "996000.00"),
            ]
        )
    assert [(x.key, x.accepted, x.code) for x in answers] == [
        ("a-1", True, ""),
        ("b-1", False, "RETRY"),
        ("c-1", True, ""),
    ]
    assert AuctionBid.objects.filter(accepted=True).count() == 2
    assert verify_chain().ok


def test_a_megabyte_price_is_kept_in_the_chain_as_an_excerpt_its_length_and_hash(world, api):
    price = "9" * 1_000_000
    with time_machine.travel(LIVE, tick=False):
        response = api(world.bidders[0]).post(
            reverse("api_auction_bid", args=[world.auction.pk]),
            {"key": "huge", "price": price},
            format="json",
        )
    assert response.status_code == 400 and response.json()["error"]["code"] == "BAD_PRICE"
    event = AuditEvent.objects.get(action="bidding.auction.bid_rejected")
    kept = event.payload["price"]
    assert kept["length"] == 1_000_000 and len(kept["excerpt"]) == 200
    assert len(json.dumps(event.payload)) < 1000
    assert AuctionBid.objects.get(key="huge").price_text == price[:40]
    assert verify_chain().ok


async def test_a_supplier_barred_mid_room_is_refused_on_the_socket_and_audited(world, staff):
    a = world.bidders[0]
    with time_machine.travel(LIVE, tick=True):
        room, _ = await open_room(world.auction.pk, a)
        await room.send_json_to({"type": "bid", "key": "before", "price": "999000.00"})
        assert (await until(room, "ack"))["key"] == "before"
        await sync_to_async(bar)(staff, a.organization)
        await room.send_json_to({"type": "bid", "key": "after", "price": "998000.00"})
        refusal = await until(room, "reject")
        # A retry of a bid decided before the bar keeps its answer (the key's stored answer).
        await room.send_json_to({"type": "bid", "key": "before", "price": "999000.00"})
        assert (await until(room, "ack"))["key"] == "before"
        await room.disconnect()
    assert (refusal["key"], refusal["code"]) == ("after", "ORG_BARRED") and refusal["message"]
    audited = await sync_to_async(
        lambda: list(
            AuditEvent.objects.filter(action="bidding.auction.bid_rejected").values_list(
                "payload", flat=True
            )
        )
    )()
    assert [(p["key"], p["code"]) for p in audited] == [("after", "ORG_BARRED")]


async def test_a_user_disabled_mid_room_bids_no_more_from_its_open_socket(world):
    """Disabling a user ends its sessions; a socket opened before must not outlive that."""
    a = world.bidders[0]
    with time_machine.travel(LIVE, tick=True):
        room, _ = await open_room(world.auction.pk, a)
        await room.send_json_to({"type": "bid", "key": "before", "price": "999000.00"})
        assert (await until(room, "ack"))["key"] == "before"
        await sync_to_async(type(a).objects.filter(pk=a.pk).update)(is_active=False)
        await room.send_json_to({"type": "bid", "key": "after", "price": "998000.00"})
        refusal = await until(room, "reject")
        await room.disconnect()
    assert (refusal["key"], refusal["code"]) == ("after", "ACCOUNT_DISABLED")
    assert "停用" in refusal["message"]


async def test_a_session_ended_elsewhere_closes_the_sockets_it_opened(world, monkeypatch):
    """我的登录会话 → 结束: the browser that held the session must not go on bidding over its socket."""
    monkeypatch.setattr(AuctionConsumer, "SESSION_CHECK_SECONDS", 0.0)
    a = world.bidders[0]
    with time_machine.travel(LIVE, tick=True):
        room, _ = await open_room(world.auction.pk, a)
        await room.send_json_to({"type": "bid", "key": "before", "price": "999000.00"})
        assert (await until(room, "ack"))["key"] == "before"
        await sync_to_async(lambda: Session.objects.all().delete())()
        await room.send_json_to({"type": "bid", "key": "after", "price": "998000.00"})
        ended = await until(room, "error")
        closed = await room.receive_output(5)
    assert ended["code"] == "SESSION_ENDED"
    assert closed == {"type": "websocket.close", "code": 4401}
    assert not await sync_to_async(AuctionBid.objects.filter(key="after").exists)()


def test_a_user_without_a_bidding_role_is_refused_in_the_room(world, api):
    """The organization's finance staff may watch its room but not bid in it."""
    a = world.bidders[0]
    finance = make_user("caiwu", "supplier", a.organization)
    members.set_org_roles(Actor.for_user(a), finance, [OrgRole.FINANCE])
    bid_url = reverse("api_auction_bid", args=[world.auction.pk])
    with time_machine.travel(LIVE, tick=False):
        refused = api(finance).post(bid_url, {"key": "f1", "price": "999000.00"})
        assert api(a).post(bid_url, {"key": "a1", "price": "999000.00"}).status_code == 200
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "ORG_ROLE_REQUIRED"


def test_a_supplier_barred_mid_room_is_refused_through_the_api(world, staff, api):
    a = world.bidders[0]
    bid_url = reverse("api_auction_bid", args=[world.auction.pk])
    with time_machine.travel(LIVE, tick=False):
        assert api(a).post(bid_url, {"key": "k1", "price": "999000.00"}).status_code == 200
        bar(staff, a.organization)
        refused = api(a).post(bid_url, {"key": "k2", "price": "998000.00"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "ORG_BARRED"
    bid = AuctionBid.objects.get(key="k2")
    assert not bid.accepted and bid.code == "ORG_BARRED"
    assert AuditEvent.objects.filter(
        action="bidding.auction.bid_rejected", payload__code="ORG_BARRED"
    ).exists()


def test_an_organization_no_longer_approved_is_refused_at_its_next_bid(world, api):
    """The gate in the room is the whole gate: approval counts, not only bars and deactivation."""
    a = world.bidders[0]
    bid_url = reverse("api_auction_bid", args=[world.auction.pk])
    with time_machine.travel(LIVE, tick=False):
        assert api(a).post(bid_url, {"key": "k1", "price": "999000.00"}).status_code == 200
        type(a.organization).objects.filter(pk=a.organization.pk).update(approved_at=None)
        refused = api(a).post(bid_url, {"key": "k2", "price": "998000.00"})
    assert refused.json()["error"]["code"] == "ORGANIZATION_NOT_APPROVED"
    assert not AuctionBid.objects.get(key="k2").accepted


def test_a_barred_supplier_cannot_seal_an_initial_bid_it_was_admitted_to_make(agent, staff):
    world = make_world(agent, staff, format="rounds", rounds=2, turn_seconds=60, pause_seconds=30)
    a = world.bidders[0]
    before = START - dt.timedelta(minutes=10)
    with time_machine.travel(before, tick=False):
        first = services.place_bid(world.actor(a), world.auction, "990000.00", uuid.uuid4().hex)
        bar(staff, a.organization)
        again = services.place_bid(world.actor(a), world.auction, "989000.00", uuid.uuid4().hex)
    assert first.accepted and (again.accepted, again.code) == (False, "ORG_BARRED")
