"""The live auction's REST API: the agent sets the auction up, anyone allowed reads the same state as
the socket, a bidder bids with an idempotency key (the ack, or the refusal code in the error shape),
the timeline hides identities until the close (except from supervisors), and the agent publishes the
result. Every endpoint also answers the people who may not act: 403 for a visible auction, 404 for one
they may not see."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from accounts.actors import Actor
from accounts.models import Organization, Role
from audit.models import AuditEvent
from bidding.auction import services
from bidding.auction.rules import parse_price
from bidding.models import Auction, AuctionBid
from tests.bidding.auction_results import CLOSE, at, closed_world, run_bids
from tests.bidding.auction_world import DEADLINE, START, T0, make_world
from tests.conftest import make_org, make_user
from tests.trading.factories import published
from trading.models import Project

pytestmark = pytest.mark.django_db


def url(name: str, pk: int) -> str:
    return reverse(name, args=[pk])


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def strip_time(state: dict) -> dict:
    return {k: v for k, v in state.items() if k != "server_time"}


def organizations_in(value) -> bool:
    if isinstance(value, dict):
        return "organization" in value or any(organizations_in(v) for v in value.values())
    if isinstance(value, list):
        return any(organizations_in(v) for v in value)
    return False


def reverse_auction_project(agent, staff) -> Project:
    with time_machine.travel(T0, tick=False):
        return published(
            agent,
            staff,
            start=T0 + dt.timedelta(minutes=1),
            kind=Project.Kind.GOVERNMENT_PROCUREMENT,
            category=Project.Category.GOODS,
            method=Project.Method.REVERSE_AUCTION,
            lots=[
                {
                    "name": "台式计算机 200 台",
                    "estimate": "800000.00",
                    "deposit_amount": "0.00",
                    "deposit_forms": [],
                }
            ],
            documents_from=T0 + dt.timedelta(minutes=1),
            documents_until=DEADLINE,
            questions_until=DEADLINE - dt.timedelta(days=3),
            bid_deadline=DEADLINE,
        )


RULES = {
    "start_price": "800000.00",
    "step": "500.00",
    "max_change": "20000.00",
    "starts_at": START.isoformat(),
    "duration_seconds": 900,
    "extension_window_seconds": 60,
    "extension_seconds": 120,
    "max_extensions": 5,
    "public_view": False,
}


@pytest.fixture
def other_agent(db):
    return make_user("agent-2", Role.AGENT, make_org(Organization.Kind.AGENT, "另一招标代理"))


# --- Setting up -----------------------------------------------------------------------------------


def test_the_agent_sets_up_the_auction_others_cannot(
    agent, staff, supervisor, supplier, other_agent, api
):
    project = reverse_auction_project(agent, staff)
    lot = project.lots.get()
    create = url("api_lot_auction", lot.pk)
    with at(T0 + dt.timedelta(days=1)):
        for user in (other_agent, supervisor, supplier, staff, None):
            response = api(user).post(create, RULES, format="json")
            assert response.status_code == 403, (user, response.content)
        # Money is a string: a JSON number is refused by the service, never rounded.
        assert_error(
            api(agent).post(create, {**RULES, "start_price": 800000.5}, format="json"),
            400,
            "BAD_AMOUNT",
        )
        naive = {**RULES, "starts_at": "2026-04-11T10:00:00"}
        assert_error(api(agent).post(create, naive, format="json"), 400, "VALIDATION_ERROR")
        assert not Auction.objects.filter(lot=lot).exists()

        response = api(agent).post(create, RULES, format="json")
        assert response.status_code == 201, response.content
        state = response.json()
        assert state["type"] == "state" and state["view"] == "staff"
        info = state["auction"]
        assert (info["status"], info["format"], info["direction"]) == (
            "scheduled",
            "open",
            "descending",
        )
        assert (info["start_price"], info["step"], info["max_change"]) == (
            "800000.00",
            "500.00",
            "20000.00",
        )
        assert info["starts_at"] == START.astimezone(dt.UTC).isoformat(timespec="microseconds")
        assert info["max_extensions"] == 5
        auction = Auction.objects.get(lot=lot)
        assert auction.created_by == agent and not auction.public_view
        assert AuditEvent.objects.filter(
            action="bidding.auction.created", object_id=str(auction.pk)
        ).exists()
        assert_error(api(agent).post(create, RULES, format="json"), 409, "ALREADY_EXISTS")
        # The lot's auction reads the same state.
        again = api(agent).get(create).json()
        assert strip_time(again) == strip_time(
            api(agent).get(url("api_auction", auction.pk)).json()
        )


# --- Reading the room -----------------------------------------------------------------------------


def test_the_state_is_the_sockets_state_for_the_callers_view(agent, staff, supervisor, api):
    world = make_world(agent, staff, public_view=True)
    run_bids(world, until=60)
    bidder = world.bidders[0]
    with at(START + dt.timedelta(seconds=100)):
        response = api(bidder).get(url("api_auction", world.auction.pk))
        expected = services.room_state(world.actor(bidder), world.auction.pk)
        public = api().get(url("api_auction", world.auction.pk)).json()
        watched = api(supervisor).get(url("api_auction", world.auction.pk)).json()
    assert response.status_code == 200
    assert strip_time(response.json()) == strip_time(expected)
    assert response.json()["view"] == "bidder" and response.json()["you"]["alias"]
    assert public["view"] == "public" and not organizations_in(public["participants"])
    assert not organizations_in(public["history"])
    assert watched["view"] == "supervisor" and organizations_in(watched["participants"])


def test_a_private_auction_is_not_found_by_the_public(agent, staff, supervisor, supplier, api):
    world = make_world(agent, staff, public_view=False)
    pk = world.auction.pk
    with at(START + dt.timedelta(seconds=5)):
        for user in (None, supplier):
            for name in ("api_auction", "api_auction_timeline"):
                assert_error(api(user).get(url(name, pk)), 404, "NOT_FOUND")
            assert_error(api(user).get(url("api_lot_auction", world.lot.pk)), 404, "NOT_FOUND")
        assert_error(
            api(supplier).post(url("api_auction_bid", pk), {"price": "999000.00", "key": "x"}),
            404,
            "NOT_FOUND",
        )
        assert_error(api(supplier).post(url("api_auction_publish_result", pk)), 404, "NOT_FOUND")
        for user in (supervisor, staff, agent, world.bidders[0]):
            assert api(user).get(url("api_auction", pk)).status_code == 200, user
    assert_error(api().get(url("api_auction", 999999)), 404, "NOT_FOUND")


# --- Bidding --------------------------------------------------------------------------------------


def test_a_bid_gets_its_ack_once_and_refusals_their_code(agent, staff, api):
    world = make_world(agent, staff)
    a, b, _ = world.bidders
    bid = url("api_auction_bid", world.auction.pk)

    def post(user, price, key, seconds, **extra):
        with at(START + dt.timedelta(seconds=seconds)):
            return api(user).post(bid, {"price": price, "key": key}, format="json", **extra)

    assert_error(post(a, "999000.00", "early", -10), 409, "NOT_STARTED")
    first = post(a, "999000.00", "a-1", 10.5)
    assert first.status_code == 200, first.content
    ack = first.json()
    assert ack["type"] == "ack" and ack["key"] == "a-1" and ack["price"] == "999000.00"
    assert dt.datetime.fromisoformat(ack["at"]) == START + dt.timedelta(seconds=10.5)
    # The same key again (a retry after a lost answer): the stored answer, no second bid.
    assert post(a, "999000.00", "a-1", 12).json() == ack
    assert_error(post(a, "998000.00", "a-1", 13), 409, "KEY_REUSED")
    assert AuctionBid.objects.filter(auction=world.auction, key="a-1").count() == 1

    refused = assert_error(post(b, "999000.00", "b-1", 14), 409, "NOT_IMPROVING")
    assert refused["details"] == {"key": "b-1"}
    assert_error(post(b, "998500.00", "b-2", 15), 400, "NOT_STEP_MULTIPLE")
    assert_error(post(b, 998000.0, "b-3", 16), 400, "BAD_PRICE")  # a JSON number
    assert_error(post(b, "998000.001", "b-3", 16), 400, "BAD_PRICE")  # three decimals
    assert_error(post(b, "998000.00", "", 17), 400, "BAD_KEY")
    assert_error(post(b, "998000.00", "k" * 65, 17), 400, "BAD_KEY")
    # The key may come as a header instead.
    with at(START + dt.timedelta(seconds=18)):
        by_header = api(b).post(
            bid, {"price": "998000.00"}, format="json", HTTP_IDEMPOTENCY_KEY="b-4"
        )
    assert by_header.status_code == 200 and by_header.json()["key"] == "b-4"
    assert_error(post(a, "997000.00", "late", 601), 409, "CLOSED")

    auction = Auction.objects.get(pk=world.auction.pk)
    assert (auction.accepted_count, auction.best_price) == (2, parse_price("998000.00"))
    codes = list(
        AuditEvent.objects.filter(action="bidding.auction.bid_rejected").values_list(
            "payload__code", flat=True
        )
    )
    assert {"NOT_STARTED", "NOT_IMPROVING", "NOT_STEP_MULTIPLE", "BAD_PRICE", "CLOSED"} <= set(
        codes
    )


def test_only_admitted_bidders_bid(agent, staff, supervisor, supplier, api):
    world = make_world(agent, staff)
    bid = url("api_auction_bid", world.auction.pk)
    body = {"price": "999000.00", "key": "k"}
    with at(START + dt.timedelta(seconds=5)):
        for user in (supervisor, staff, agent, supplier):  # supplier: the public view
            assert_error(api(user).post(bid, body, format="json"), 403, "FORBIDDEN")
        assert_error(api().post(bid, body, format="json"), 403, "NOT_AUTHENTICATED")
    assert not AuctionBid.objects.exists()


# --- Timeline and result --------------------------------------------------------------------------


def test_the_timeline_names_bidders_to_supervisors_live_and_to_everyone_after_the_close(
    agent, staff, supervisor, api
):
    world = make_world(agent, staff)
    run_bids(world, until=60)
    timeline = url("api_auction_timeline", world.auction.pk)
    with at(START + dt.timedelta(seconds=100)):
        bidder_view = api(world.bidders[0]).get(timeline).json()
        watched = api(supervisor).get(timeline).json()
        public = api().get(timeline).json()
        page = api(supervisor).get(timeline, {"after_seq": 2, "limit": 2}).json()
    assert [e["type"] for e in bidder_view["events"]] == ["started"] + ["bid"] * 6
    assert [e["seq"] for e in bidder_view["events"]] == list(range(1, 8))
    for view in (bidder_view, public):
        assert not view["identified"] and not organizations_in(view["events"])
        assert view["result_pdf_url"] is None
    assert watched["identified"] and organizations_in(watched["events"])
    assert [e["seq"] for e in page["events"]] == [3, 4] and page["next_after_seq"] == 4

    with at(CLOSE):
        services.advance(Actor.system("clock"), world.auction.pk)
    with at(CLOSE + dt.timedelta(seconds=1)):
        after = api().get(timeline).json()
        agents = api(agent).get(timeline).json()
    assert after["status"] == "closed"
    assert after["identified"] and organizations_in(after["events"])
    assert after["events"][-1]["type"] == "closed" and after["next_after_seq"] is None
    assert after["result_pdf_url"] is None  # the public may not print the result
    assert agents["result_pdf_url"] == reverse("auction_result_pdf", args=[world.auction.pk])


def test_the_agent_publishes_the_result_others_cannot(agent, staff, supervisor, other_agent, api):
    world = closed_world(agent, staff)
    publish = url("api_auction_publish_result", world.auction.pk)
    with at(CLOSE + dt.timedelta(minutes=1)):
        for user in (supervisor, other_agent, staff, world.bidders[0]):
            assert_error(api(user).post(publish), 403, "FORBIDDEN")
        response = api(agent).post(publish)
        assert response.status_code == 201, response.content
        body = response.json()
        assert [c["price"] for c in body["candidates"]] == ["955000.00", "969000.00", "974000.00"]
        assert body["candidates"][0]["bidder"] == world.bidders[2].organization.name
        assert body["candidates"][0]["bid"] is None and body["candidates"][0]["alias"]
        assert body["status"] == "public" and body["lot"]["id"] == world.lot.pk
        assert_error(api(agent).post(publish), 409, "ALREADY_PUBLISHED")


def test_a_live_auction_cannot_be_published(agent, staff, api):
    world = make_world(agent, staff)
    with at(START + dt.timedelta(seconds=30)):
        assert_error(
            api(agent).post(url("api_auction_publish_result", world.auction.pk)),
            409,
            "WRONG_STATUS",
        )


def test_the_schema_lists_the_auction_endpoints(tmp_path):
    import yaml
    from django.core.management import call_command

    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    paths = yaml.safe_load(target.read_text())["paths"]
    for path in (
        "/api/v1/bidding/lots/{id}/auction/",
        "/api/v1/bidding/auctions/{id}/",
        "/api/v1/bidding/auctions/{id}/bids/",
        "/api/v1/bidding/auctions/{id}/timeline/",
        "/api/v1/bidding/auctions/{id}/publish-result/",
    ):
        assert path in paths, path
