"""The land listing's REST API (挂牌出让) with travelled time: the agent puts a parcel up, the designated
staff member seals the reserve (never echoed), listing bidders answer the windows and send sealed
offers (never echoed), the winner signs, staff record a refusal, anyone reads the listing and — after
the draw — a lottery record that re-verifies. Money is a string both ways; a JSON number is refused in
the error shape. Every POST also answers those who may not act: supervisors (read-only everywhere),
another project's agent, a staff member who is not the designated one, a supplier without a listing
bid, the public."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Organization, Role
from audit.models import AuditEvent
from bidding.land import lottery
from bidding.land.serializers import LandListingStateSerializer, LandYouSerializer
from bidding.models import Auction, LandListing, LandResponse, LandSealedOffer
from clock.services import run_due
from deposits.models import Deposit
from tests.bidding.land_world import (
    LISTING_END,
    LISTING_START,
    T0,
    land_project,
    make_land_world,
)
from tests.conftest import make_org, make_user
from trading.models import Project

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
MINUTE = dt.timedelta(minutes=1)
AFTER_END = LISTING_END + dt.timedelta(seconds=1)
CAP = "110000000.00"


def url(name: str, pk: int | None = None) -> str:
    return reverse(name, args=[pk] if pk is not None else [])


def travel(moment: dt.datetime):
    return time_machine.travel(moment, tick=False)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def strip_time(state: dict) -> dict:
    return {k: v for k, v in state.items() if k != "server_time"}


def create_body(staff, **overrides) -> dict:
    return {
        "parcel_number": "XZ-2026-A01",
        "location": "珠海市香洲区前山片区",
        "area": "35000.00",
        "land_use": "residential",
        "term_years": 70,
        "planning": {"plot_ratio": "≤2.5", "green_ratio": "≥35%"},
        "start_price": "100000000.00",
        "increment": "1000000.00",
        "listing_starts_at": LISTING_START.isoformat(),
        "listing_ends_at": LISTING_END.isoformat(),
        "reserve_staff": staff.pk,
        **overrides,
    }


@pytest.fixture
def other_agent(db):
    return make_user("agent-2", Role.AGENT, make_org(Organization.Kind.AGENT, "另一招标代理"))


@pytest.fixture
def other_staff(center):
    return make_user("staff-2", Role.CENTER_STAFF, center)


def capped(agent, staff, mode, **rules):
    """a bids the start price on day 2, b reaches the maximum price on day 3: the cap's mode opens."""
    world = make_land_world(agent, staff, bidders=3, max_price=CAP, cap_mode=mode, **rules)
    a, b, c = world.bidders
    world.bid(a, "100000000.00", LISTING_START + 2 * DAY)
    assert world.bid(b, CAP, LISTING_START + 3 * DAY).accepted
    at = LISTING_START + 3 * DAY
    world.advance(at)
    return world, a, b, c, at


def dealt(agent, staff, *, reserve=None):
    """One bidder bid the start price; at the close it won (two registered, one refunded)."""
    world = make_land_world(agent, staff, bidders=2, reserve=reserve)
    winner, loser = world.bidders
    world.bid(winner, "100000000.00", LISTING_START + 3 * DAY)
    assert world.advance(AFTER_END).stage == LandListing.Stage.DEAL
    return world, winner, loser


# --- Creating a listing ---------------------------------------------------------------------------


def test_the_agent_creates_a_listing_others_cannot(
    agent, staff, supervisor, supplier, other_agent, api
):
    project = land_project(agent, staff)
    lot = project.lots.get()
    create = url("api_lot_land_listing", lot.pk)
    body = create_body(staff)
    with travel(T0 + DAY):
        for user in (other_agent, supervisor, supplier, staff):
            assert_error(api(user).post(create, body, format="json"), 403, "FORBIDDEN")
        assert_error(api().post(create, body, format="json"), 403, "FORBIDDEN")
        # A user id is resolved only for the project's agent: others learn nothing about ids.
        assert_error(
            api(other_agent).post(create, {**body, "reserve_staff": 999999}, format="json"),
            403,
            "FORBIDDEN",
        )

        # Money is a string: a JSON number — integer or float — is refused, never rounded.
        for field in ("start_price", "increment", "area", "max_price", "offer_ceiling"):
            for number in (123456789, 123456789.5):
                refused = assert_error(
                    api(agent).post(create, {**body, field: number}, format="json"),
                    400,
                    "BAD_AMOUNT",
                )
                assert "123456789" not in refused["message"]
        for missing in ("parcel_number", "start_price", "listing_ends_at", "reserve_staff"):
            partial = {k: v for k, v in body.items() if k != missing}
            error = assert_error(
                api(agent).post(create, partial, format="json"), 400, "VALIDATION_ERROR"
            )
            assert missing in error["details"]
        for bad in (
            {"land_use": "farmland"},
            {"cap_mode": "auction"},
            {"listing_starts_at": "2026-05-25T09:00:00"},  # no offset
        ):
            assert_error(
                api(agent).post(create, {**body, **bad}, format="json"), 400, "VALIDATION_ERROR"
            )
        for bad, code in (
            ({"reserve_staff": 999999}, "BAD_RESERVE_STAFF"),
            ({"reserve_staff": agent.pk}, "BAD_RESERVE_STAFF"),
            ({"start_price": "100000000.001"}, "BAD_AMOUNT"),
            ({"term_years": 71}, "NUMBER_OUT_OF_RANGE"),
            ({"term_years": "７0"}, "NUMBER_INVALID"),
            ({"planning": ["plot ratio"]}, "BAD_PLANNING"),
            ({"listing_starts_at": (T0 + 19 * DAY).isoformat()}, "NOTICE_TOO_SHORT"),
            ({"listing_ends_at": (LISTING_END - DAY).isoformat()}, "LISTING_TOO_SHORT"),
            ({"max_price": "150500000.00", "cap_mode": "lottery"}, "BAD_MAX_PRICE"),
            ({"max_price": CAP}, "BAD_CAP_MODE"),
        ):
            assert_error(api(agent).post(create, {**body, **bad}, format="json"), 400, code)
        assert not LandListing.objects.exists()

        response = api(agent).post(
            create, {**body, "max_price": CAP, "cap_mode": "lottery"}, format="json"
        )
        assert response.status_code == 201, response.content
        state = response.json()
        assert_error(api(agent).post(create, body, format="json"), 409, "ALREADY_EXISTS")
        by_lot = api().get(create).json()
        by_id = api().get(url("api_land_listing", state["id"])).json()

    listing = LandListing.objects.get(lot=lot)
    assert (listing.created_by, listing.reserve_staff, listing.max_price) == (
        agent,
        staff,
        Decimal(CAP),
    )
    assert AuditEvent.objects.filter(
        action="land.listing.created", object_id=str(listing.pk)
    ).exists()
    room = Auction.objects.get(lot=lot, phase="listing")
    assert state["id"] == listing.pk and state["room"] == room.pk
    assert (state["stage"], state["reserve_set"], state["reserve"]) == ("scheduled", False, None)
    assert (state["start_price"], state["increment"], state["max_price"], state["area"]) == (
        "100000000.00",
        "1000000.00",
        CAP,
        "35000.00",
    )
    assert state["listing_starts_at"] == LISTING_START.astimezone(dt.UTC).isoformat(
        timespec="microseconds"
    )
    assert state["planning"] == body["planning"] and state["term_years"] == 70
    assert strip_time(by_lot) == strip_time(by_id) and by_id["you"] is None


# --- Reading --------------------------------------------------------------------------------------


def test_the_public_reads_the_list_and_a_listing_but_never_the_reserve(
    agent, staff, supervisor, supplier, api
):
    world = make_land_world(agent, staff, bidders=2, reserve="99000000.00")
    a, _ = world.bidders
    world.bid(a, "100000000.00", LISTING_START + 2 * DAY)
    listing_url = url("api_land_listing", world.listing.pk)
    with travel(LISTING_START + 2 * DAY + MINUTE):
        run_due()  # the clock opened the listing at its start
        page = api().get(url("api_land_listings")).json()
        public = api().get(listing_url)
        bidder = api(a).get(listing_url).json()
        stranger = api(supplier).get(listing_url).json()
        official = api(staff).get(listing_url).json()
    assert page["count"] == 1
    (row,) = page["results"]
    assert (row["id"], row["stage"], row["start_price"], row["max_price"]) == (
        world.listing.pk,
        "listing",
        "100000000.00",
        None,
    )
    assert row["url"] == listing_url and row["winner"] is None
    assert public.status_code == 200 and b"99000000" not in public.content
    state = public.json()
    assert (state["stage"], state["highest"], state["reserve_set"], state["reserve"]) == (
        "listing",
        "100000000.00",
        True,
        None,
    )
    assert state["you"] is None and official["reserve"] is None  # not decided yet
    assert bidder["you"]["listing_bidder"] and bidder["you"]["eligibility"] is None
    assert not stranger["you"]["listing_bidder"]
    assert stranger["you"]["eligibility"] == "NOT_REGISTERED"
    # The documented shape is what the service returns.
    assert set(state) == set(LandListingStateSerializer().fields)
    assert set(bidder["you"]) == set(LandYouSerializer().fields)

    # After the close: officials see the reserve; the public and the winner never do.
    world.advance(AFTER_END)
    with travel(AFTER_END + MINUTE):
        public = api().get(listing_url)
        winner = api(a).get(listing_url)
        watched = api(supervisor).get(listing_url).json()
        official = api(staff).get(listing_url).json()
        after = api().get(url("api_land_listings")).json()["results"][0]
    for response in (public, winner):
        assert response.json()["reserve"] is None and b"99000000" not in response.content
    assert public.json()["stage"] == "deal" and public.json()["final_price"] == "100000000.00"
    assert watched["reserve"] == official["reserve"] == "99000000.00"
    assert (after["stage"], after["winner"], after["final_price"]) == (
        "deal",
        a.organization.name,
        "100000000.00",
    )


def test_a_listing_the_caller_may_not_see_is_not_found(agent, staff, supplier, api):
    world = make_land_world(agent, staff, bidders=0)
    pk = world.listing.pk
    assert_error(api().get(url("api_land_listing", 999999)), 404, "NOT_FOUND")
    assert_error(
        api(staff).post(url("api_land_reserve", 999999), {"amount": "1.00"}), 404, "NOT_FOUND"
    )
    assert_error(api().get(url("api_lot_land_listing", 999999)), 404, "NOT_FOUND")
    # A lot without a listing.
    other = land_project(agent, staff)
    assert_error(api().get(url("api_lot_land_listing", other.lots.get().pk)), 404, "NOT_FOUND")
    # A project no longer announced (set directly: no service takes a published project back).
    Project.objects.filter(pk=world.project.pk).update(status=Project.Status.APPROVED)
    with travel(LISTING_START):
        for user in (None, supplier):
            assert_error(api(user).get(url("api_land_listing", pk)), 404, "NOT_FOUND")
            assert_error(api(user).get(url("api_land_lottery", pk)), 404, "NOT_FOUND")
            assert api(user).get(url("api_land_listings")).json()["count"] == 0
        assert_error(
            api(supplier).post(url("api_land_offer", pk), {"price": CAP}, format="json"),
            404,
            "NOT_FOUND",
        )
        assert api(staff).get(url("api_land_listing", pk)).status_code == 200
        assert api(agent).get(url("api_land_listing", pk)).status_code == 200
        assert api(staff).get(url("api_land_listings")).json()["count"] == 1


# --- The reserve ----------------------------------------------------------------------------------


def test_only_the_designated_staff_member_seals_the_reserve_and_it_is_never_echoed(
    agent, staff, supervisor, supplier, other_staff, api
):
    world = make_land_world(agent, staff, bidders=0)
    reserve = url("api_land_reserve", world.listing.pk)
    body = {"amount": "120000000.00"}
    with travel(LISTING_START):
        for user in (other_staff, supervisor, agent, supplier):
            assert_error(api(user).post(reserve, body, format="json"), 403, "FORBIDDEN")
        assert_error(api().post(reserve, body, format="json"), 403, "NOT_AUTHENTICATED")
        for number in (120000000, 120000000.0):
            refused = assert_error(
                api(staff).post(reserve, {"amount": number}, format="json"), 400, "BAD_AMOUNT"
            )
            assert "120000000" not in refused["message"]
        assert_error(api(staff).post(reserve, {}, format="json"), 400, "VALIDATION_ERROR")
        assert_error(api(staff).post(reserve, {"amount": "-5"}, format="json"), 400, "BAD_AMOUNT")
        assert world.refresh().sealed_reserve is None

        response = api(staff).post(reserve, body, format="json")
        assert response.status_code == 201, response.content
        assert b"120000000" not in response.content
        assert_error(
            api(staff).post(reserve, {"amount": "90000000.00"}, format="json"),
            409,
            "RESERVE_LOCKED",
        )
        public = api().get(url("api_land_listing", world.listing.pk)).json()
    listing = world.refresh()
    receipt = response.json()
    assert receipt == {
        "listing": listing.pk,
        "reserve_set": True,
        "reserve_set_at": LISTING_START.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "reserve_sha256": hashlib.sha256(bytes(listing.sealed_reserve)).hexdigest(),
        "reserve_lock_at": (LISTING_END - dt.timedelta(hours=1))
        .astimezone(dt.UTC)
        .isoformat(timespec="microseconds"),
    }
    assert public["reserve_set"] and public["reserve"] is None

    late = make_land_world(agent, staff, bidders=0)
    with travel(LISTING_END - dt.timedelta(minutes=59)):
        assert_error(
            api(staff).post(url("api_land_reserve", late.listing.pk), body, format="json"),
            409,
            "RESERVE_TOO_LATE",
        )


# --- Answers: continue to live bidding ------------------------------------------------------------


def test_listing_bidders_answer_the_confirmation_window(agent, staff, supervisor, supplier, api):
    world = make_land_world(agent, staff, bidders=3, reserve="100000000.00")
    a, b, c = world.bidders
    world.bid(a, "100000000.00", LISTING_START + 3 * DAY)
    world.bid(b, "101000000.00", LISTING_START + 4 * DAY)
    respond = url("api_land_respond", world.listing.pk)
    yes = {"kind": "continue", "answer": True}
    with travel(AFTER_END - MINUTE):
        assert_error(api(a).post(respond, yes, format="json"), 409, "WINDOW_CLOSED")
    assert world.advance(AFTER_END).stage == LandListing.Stage.CONFIRMING
    with travel(AFTER_END + dt.timedelta(seconds=10)):
        # Registered and paid, but no valid listing bid: no say.
        for user in (c, supplier):
            assert_error(api(user).post(respond, yes, format="json"), 403, "FORBIDDEN")
        for user in (supervisor, staff, agent):
            assert_error(api(user).post(respond, yes, format="json"), 403, "FORBIDDEN")
        for bad in (
            {"kind": "maybe", "answer": True},
            {"kind": "continue", "answer": "yes"},
            {"kind": "continue", "answer": 1},
            {"kind": "continue"},
            {"answer": True},
        ):
            assert_error(api(a).post(respond, bad, format="json"), 400, "VALIDATION_ERROR")
        assert not LandResponse.objects.exists()

        first = api(a).post(respond, yes, format="json")
        assert first.status_code == 201, first.content
        assert first.json() == {
            "listing": world.listing.pk,
            "kind": "continue",
            "answer": True,
            "answered_at": (AFTER_END + dt.timedelta(seconds=10))
            .astimezone(dt.UTC)
            .isoformat(timespec="microseconds"),
            "stage": "confirming",
        }
        assert_error(api(a).post(respond, yes, format="json"), 409, "ALREADY_ANSWERED")
        assert_error(
            api(a).post(respond, {"kind": "accept_cap", "answer": True}, format="json"),
            409,
            "WINDOW_CLOSED",
        )
        you = api(a).get(url("api_land_listing", world.listing.pk)).json()["you"]
        assert (you["may_continue"], you["answers"]) == (False, {"continue": True})
    with travel(AFTER_END + dt.timedelta(seconds=20)):
        second = api(b).post(respond, yes, format="json")
        state = api().get(url("api_land_listing", world.listing.pk)).json()
    # Both answered: live bidding starts at once, and the listing points at its room.
    assert second.status_code == 201 and second.json()["stage"] == "live"
    assert (state["stage"], state["room_phase"], state["room"]) == (
        "live",
        "live",
        world.phase("live").pk,
    )


# --- The maximum price: lottery and sealed offers -------------------------------------------------


def test_the_lottery_accepts_answers_and_its_record_is_public_and_verifies_after_the_draw(
    agent, staff, supervisor, api
):
    world, a, b, c, at = capped(agent, staff, "lottery")
    pk = world.listing.pk
    respond = url("api_land_respond", pk)
    accept = {"kind": "accept_cap", "answer": True}
    record_url = url("api_land_lottery", pk)
    with travel(at + MINUTE):
        assert_error(api(c).post(respond, accept, format="json"), 403, "FORBIDDEN")
        assert_error(api(supervisor).post(respond, accept, format="json"), 403, "FORBIDDEN")
        assert_error(
            api(a).post(respond, {"kind": "continue", "answer": True}, format="json"),
            409,
            "WINDOW_CLOSED",
        )
        response = api(a).post(respond, accept, format="json")
        assert response.status_code == 201 and response.json()["stage"] == "cap_accept"
        assert_error(api().get(record_url), 404, "NOT_FOUND")  # not drawn yet
        committed = api().get(url("api_land_listing", pk)).json()["lottery"]
    assert set(committed) == {"seed_hash"}  # the commitment, neither the seed nor its seal

    with travel(at + dt.timedelta(seconds=601)):
        run_due()  # the window ends and the clock draws
        record = api().get(record_url)
    assert record.status_code == 200, record.content
    drawn = record.json()
    listing = world.refresh()
    assert drawn["seed_hash"] == committed["seed_hash"]
    assert drawn["candidates"] == sorted([a.organization_id, b.organization_id])
    assert drawn["winner"] == listing.winner_id and listing.stage == LandListing.Stage.DEAL
    assert drawn["winner_name"] == listing.winner.name
    assert drawn["verification"] == {"ok": True, "problems": []}
    assert drawn["algorithm"]
    # Anyone can recompute the draw from the published record.
    again = lottery.draw(drawn["seed"], pk, drawn["candidates"])
    assert again["winner"] == drawn["winner"]
    assert again["candidates_hash"] == drawn["candidates_hash"]
    assert hashlib.sha256(bytes.fromhex(drawn["seed"])).hexdigest() == drawn["seed_hash"]


def test_sealed_offers_are_taken_once_and_never_echoed(agent, staff, supervisor, supplier, api):
    world, a, b, c, at = capped(agent, staff, "sealed_offer", offer_ceiling="130000000.00")
    offers = url("api_land_offer", world.listing.pk)
    with travel(at + MINUTE):
        for user in (c, supplier, supervisor, staff, agent):
            assert_error(
                api(user).post(offers, {"price": "115000000.00"}, format="json"),
                403,
                "FORBIDDEN",
            )
        for number in (112000000, 112000000.0):
            assert_error(api(a).post(offers, {"price": number}, format="json"), 400, "BAD_PRICE")
        assert_error(api(a).post(offers, {}, format="json"), 400, "VALIDATION_ERROR")
        for price in ("109000000.00", "131000000.00"):
            assert_error(
                api(a).post(offers, {"price": price}, format="json"), 400, "OFFER_OUT_OF_RANGE"
            )
        assert not LandSealedOffer.objects.exists()

        first = api(a).post(offers, {"price": "112000000.00"}, format="json")
        assert first.status_code == 201, first.content
        assert b"112000000" not in first.content
        sealed = LandSealedOffer.objects.get(organization=a.organization)
        assert first.json() == {
            "listing": world.listing.pk,
            "submitted_at": (at + MINUTE).astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "sealed_sha256": hashlib.sha256(bytes(sealed.sealed)).hexdigest(),
            "stage": "sealed_offer",
        }
        assert_error(
            api(b).post(offers, {"price": "112000000.00"}, format="json"), 409, "DUPLICATE_PRICE"
        )
        assert_error(
            api(a).post(offers, {"price": "113000000.00"}, format="json"), 409, "ALREADY_OFFERED"
        )
        public = api().get(url("api_land_listing", world.listing.pk))
        assert b"112000000" not in public.content
    with travel(at + 2 * MINUTE):
        last = api(b).post(offers, {"price": "118000000.00"}, format="json")
    assert last.status_code == 201 and b"118000000" not in last.content
    # Every listing bidder offered: decided at once (average 115,000,000; tie → the lower).
    assert last.json()["stage"] == "deal"
    listing = world.refresh()
    assert (listing.winner_id, listing.final_price) == (a.organization_id, Decimal("112000000.00"))


# --- After the deal -------------------------------------------------------------------------------


def test_only_the_winner_signs_the_confirmation_once(agent, staff, supervisor, api):
    world, winner, loser = dealt(agent, staff)
    sign = url("api_land_sign", world.listing.pk)
    with travel(AFTER_END + DAY):
        assert api(winner).get(url("api_land_listing", world.listing.pk)).json()["you"]["may_sign"]
        for user in (loser, supervisor, staff, agent):
            assert_error(api(user).post(sign), 403, "FORBIDDEN")
        assert_error(api().post(sign), 403, "NOT_AUTHENTICATED")
        response = api(winner).post(sign)
        assert response.status_code == 200, response.content
        state = response.json()
        assert_error(api(winner).post(sign), 409, "ALREADY_SIGNED")
        # Signed: a refusal can no longer be recorded.
        assert_error(
            api(staff).post(
                url("api_land_refusal", world.listing.pk), {"reason": "拒签"}, format="json"
            ),
            409,
            "WRONG_STATUS",
        )
    assert state["confirmation_signed_at"] == (AFTER_END + DAY).astimezone(dt.UTC).isoformat(
        timespec="microseconds"
    )
    assert state["you"]["is_winner"] and not state["you"]["may_sign"]
    assert Deposit.objects.get(organization=winner.organization).status == Deposit.Status.LAND_PRICE


def test_center_staff_record_a_refusal_others_cannot(agent, staff, supervisor, api):
    world, winner, _ = dealt(agent, staff)
    refusal = url("api_land_refusal", world.listing.pk)
    body = {"reason": "竞得人拒绝签署成交确认书"}
    with travel(AFTER_END + DAY):
        for user in (supervisor, agent, winner):
            assert_error(api(user).post(refusal, body, format="json"), 403, "FORBIDDEN")
        assert_error(api(staff).post(refusal, {}, format="json"), 400, "VALIDATION_ERROR")
        assert_error(
            api(staff).post(refusal, {"reason": "  "}, format="json"), 400, "REASON_REQUIRED"
        )
        assert world.refresh().stage == LandListing.Stage.DEAL
        response = api(staff).post(refusal, body, format="json")
        assert response.status_code == 200, response.content
        assert_error(api(staff).post(refusal, body, format="json"), 409, "WRONG_STATUS")
        # The refusal barred the winner: the integrity gate refuses its signature first.
        assert_error(api(winner).post(url("api_land_sign", world.listing.pk)), 403, "ORG_BARRED")
    state = response.json()
    assert (state["stage"], state["outcome_reason"]) == ("refused", body["reason"])
    assert Deposit.objects.get(organization=winner.organization).status == Deposit.Status.FORFEITED


# --- Supervisors are read-only --------------------------------------------------------------------


def test_a_supervisor_is_refused_every_post_and_changes_nothing(agent, staff, supervisor, api):
    world, _winner, _ = dealt(agent, staff)
    fresh = land_project(agent, staff)
    pk = world.listing.pk
    before = AuditEvent.objects.count()
    posts = [
        (url("api_lot_land_listing", fresh.lots.get().pk), create_body(staff)),
        (url("api_land_reserve", pk), {"amount": "90000000.00"}),
        (url("api_land_respond", pk), {"kind": "continue", "answer": True}),
        (url("api_land_offer", pk), {"price": "112000000.00"}),
        (url("api_land_sign", pk), {}),
        (url("api_land_refusal", pk), {"reason": "拒签"}),
    ]
    with travel(AFTER_END + DAY):
        for path, body in posts:
            assert_error(api(supervisor).post(path, body, format="json"), 403, "FORBIDDEN")
        # …while reading everything, the reserve included once decided.
        assert api(supervisor).get(url("api_land_listing", pk)).status_code == 200
    assert AuditEvent.objects.count() == before
    assert not LandListing.objects.filter(lot__project=fresh).exists()
    listing = world.refresh()
    assert (listing.stage, listing.confirmation_signed_at) == (LandListing.Stage.DEAL, None)


# --- The schema -----------------------------------------------------------------------------------


def test_the_schema_lists_the_land_endpoints_without_warnings(tmp_path):
    import yaml
    from django.core.management import call_command

    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for path, method in (
        ("/api/v1/bidding/lots/{id}/land-listing/", "post"),
        ("/api/v1/bidding/lots/{id}/land-listing/", "get"),
        ("/api/v1/bidding/land-listings/", "get"),
        ("/api/v1/bidding/land-listings/{id}/", "get"),
        ("/api/v1/bidding/land-listings/{id}/reserve/", "post"),
        ("/api/v1/bidding/land-listings/{id}/responses/", "post"),
        ("/api/v1/bidding/land-listings/{id}/offers/", "post"),
        ("/api/v1/bidding/land-listings/{id}/sign/", "post"),
        ("/api/v1/bidding/land-listings/{id}/refusal/", "post"),
        ("/api/v1/bidding/land-listings/{id}/lottery/", "get"),
    ):
        assert method in paths.get(path, {}), (path, method)
    components = schema["components"]["schemas"]
    create = components["LandListingCreateInput"]["properties"]
    for money in ("area", "start_price", "increment", "max_price", "offer_ceiling"):
        assert create[money]["type"] == "string", money
    assert components["LandReserveInput"]["properties"]["amount"]["type"] == "string"
    assert components["LandOfferInput"]["properties"]["price"]["type"] == "string"
    # Neither receipt has a field that could carry the amount.
    assert set(components["LandReserve"]["properties"]) == {
        "listing",
        "reserve_set",
        "reserve_set_at",
        "reserve_sha256",
        "reserve_lock_at",
    }
    assert "price" not in components["LandOfferReceipt"]["properties"]
