"""The land listing's pages (挂牌出让): who sees what on the listing page, each form calling its one
service and showing its message, the reserve entry, the agent's setup form, the room's words for an
ascending and a square-metre auction — and supervisors, who read everything and may POST nothing.

The listing worlds live in travelled time (tests/bidding/land_world.py): each request is made at a moment
of the listing's timeline, so the page runs what that moment makes due, as it does on the real clock."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.actors import Actor
from accounts.models import Role
from bidding.land import lottery, services
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
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
DURING = LISTING_START + 5 * DAY
AFTER_END = LISTING_END + dt.timedelta(seconds=1)
CAP = "110000000.00"


def client_for(user=None, language: str | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    if language:
        client.cookies["django_language"] = language
    return client


def get(user, url: str, at: dt.datetime, language: str | None = None):
    with time_machine.travel(at, tick=False):
        run_due()  # what the clock has done by then (pages only read)
        return client_for(user, language).get(url)


def post(user, url: str, data: dict | None, at: dt.datetime):
    with time_machine.travel(at, tick=False):
        run_due()
        return client_for(user).post(url, data or {})


def body(response) -> str:
    return response.content.decode()


def page(world) -> str:
    return reverse("land_listing", args=[world.listing.pk])


def url(name: str, world) -> str:
    return reverse(name, args=[world.listing.pk])


def error_of(response) -> tuple[str, str]:
    match = re.search(r'data-testid="error" data-code="(\w+)">([^<]*)<', body(response))
    assert match, "no error shown on the page"
    return match.group(1), match.group(2)


def two_bids(agent, staff, **rules):
    """Three paid bidders; a bids the start price, b one increment more; c never bids."""
    world = make_land_world(agent, staff, bidders=3, reserve="100000000.00", **rules)
    a, b, c = world.bidders
    world.bid(a, "100000000.00", LISTING_START + 3 * DAY)
    world.bid(b, "101000000.00", LISTING_START + 4 * DAY)
    return world, a, b, c


def a_deal(agent, staff):
    """One bid at the reserve: a deal for `a` at the listing's close."""
    world = make_land_world(agent, staff, bidders=2, reserve="100000000.00")
    a, b = world.bidders
    world.bid(a, "100000000.00", LISTING_START + 3 * DAY)
    world.advance(AFTER_END)
    return world, a, b


# --- The public listing page ----------------------------------------------------------------------


def test_the_public_page_shows_the_parcel_rules_timeline_and_the_room(agent, staff):
    world, *_ = two_bids(agent, staff)
    response = get(None, page(world), DURING)
    assert response.status_code == 200
    html = body(response)
    for shown in (
        "XZ-2026-A01",
        "珠海市香洲区前山片区",
        "35,000.00",
        "住宅用地",
        "70 年",
        "容积率",
        "≤2.5",
        "100,000,000.00",  # start price
        "1,000,000.00",  # increment
        "20,000,000.00",  # deposit
        "CNY",
        "未设最高限价",
        "已设底价",
    ):
        assert shown in html, shown
    assert 'data-stage="listing"' in html
    # The highest listing bid, the countdown to the close on the server's clock, the room link.
    assert re.search(r'data-testid="highest">101,000,000.00<', html)
    assert 'data-countdown-to="2026-06-05T16:00:00+08:00"' in html
    listing_room = Auction.objects.get(lot=world.lot, phase="listing")
    assert f'href="/bidding/auctions/{listing_room.pk}/" data-testid="room-link"' in html
    assert "js/land-listing.js" in html and "js/server-clock.js" in html
    # Nobody's identity and no reserve on the public page.
    for bidder in world.bidders:
        assert bidder.organization.name not in html
    assert 'data-testid="reserve"' not in html and 'data-testid="you"' not in html


def test_the_page_reads_in_english_and_unknown_listings_are_not_found(agent, staff):
    world, *_ = two_bids(agent, staff)
    english = get(None, page(world), DURING, language="en")
    assert english.status_code == 200 and '<html lang="en">' in body(english)
    assert get(None, reverse("land_listing", args=[99999]), DURING).status_code == 404
    assert get(None, reverse("land_status", args=[99999]), DURING).status_code == 404
    listed = get(None, reverse("land_list"), DURING)
    assert f'data-listing="{world.listing.pk}"' in body(listed)


def test_the_status_json_changes_its_signature_when_the_listing_closes(agent, staff):
    world, *_ = two_bids(agent, staff)
    before = json.loads(get(None, url("land_status", world), DURING).content)
    after = json.loads(get(None, url("land_status", world), AFTER_END).content)
    assert before["stage"] == "listing" and after["stage"] == "confirming"
    assert before["signature"] != after["signature"]
    assert after["stage_ends_at"] and after["highest"] == "101000000.00"


# --- A bidder -------------------------------------------------------------------------------------


def test_a_bidder_sees_its_eligibility_and_its_qualification_pdf_once_paid(agent, staff, supplier):
    world = make_land_world(agent, staff, bidders=2, paid=1)
    paid, unpaid = world.bidders
    html = body(get(paid, page(world), DURING))
    assert 'data-testid="eligibility" data-code="ok"' in html
    assert 'data-testid="qualification-pdf"' in html
    pdf = get(paid, url("land_qualification_pdf", world), DURING)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"

    html = body(get(unpaid, page(world), DURING))
    assert 'data-code="DEPOSIT_NOT_QUALIFIED"' in html and "qualification-pdf" not in html
    refused = get(unpaid, url("land_qualification_pdf", world), DURING)
    assert refused.status_code == 409 and "保证金" in body(refused)

    html = body(get(supplier, page(world), DURING))  # not registered
    assert 'data-code="NOT_REGISTERED"' in html
    assert get(supplier, url("land_qualification_pdf", world), DURING).status_code == 404


def test_both_bidders_continue_through_the_page_and_live_bidding_opens(agent, staff):
    world, a, b, c = two_bids(agent, staff)
    html = body(get(a, page(world), AFTER_END))
    assert 'data-stage="confirming"' in html and 'data-testid="continue-panel"' in html
    assert 'data-testid="continue-panel"' not in body(get(c, page(world), AFTER_END))

    answered = post(a, url("land_respond", world), {"kind": "continue", "answer": "yes"}, AFTER_END)
    assert answered.status_code == 302 and answered["Location"] == page(world)
    html = body(get(a, page(world), AFTER_END))
    assert 'data-testid="continue-answer" data-answer="yes"' in html
    assert 'data-testid="continue-panel"' not in html

    # Answering twice: the service's message, at its status.
    again = post(a, url("land_respond", world), {"kind": "continue", "answer": "no"}, AFTER_END)
    assert again.status_code == 409 and error_of(again) == (
        "ALREADY_ANSWERED",
        "您已答复，不可更改。",
    )
    # Nonsense is the service's "invalid answer"; a bidder without a listing bid is refused.
    bad = post(b, url("land_respond", world), {"kind": "continue", "answer": "maybe"}, AFTER_END)
    assert bad.status_code == 400 and error_of(bad)[0] == "BAD_ANSWER"
    outsider = post(c, url("land_respond", world), {"kind": "continue", "answer": "yes"}, AFTER_END)
    assert outsider.status_code == 403 and "有效报价" in error_of(outsider)[1]

    post(b, url("land_respond", world), {"kind": "continue", "answer": "yes"}, AFTER_END)
    assert world.refresh().stage == LandListing.Stage.LIVE
    live = Auction.objects.get(lot=world.lot, phase="live")
    html = body(get(b, page(world), AFTER_END))
    assert f'href="/bidding/auctions/{live.pk}/" data-testid="room-link" data-phase="live"' in html


def test_a_window_that_has_ended_shows_the_services_refusal(agent, staff):
    world, a, *_ = two_bids(agent, staff)
    world.advance(AFTER_END)
    late = AFTER_END + dt.timedelta(seconds=301)
    response = post(a, url("land_respond", world), {"kind": "continue", "answer": "yes"}, late)
    assert response.status_code == 409 and error_of(response)[0] == "WINDOW_CLOSED"


def test_the_winner_signs_and_every_official_reads_the_confirmation(agent, staff, supervisor):
    world, a, b = a_deal(agent, staff)
    later = AFTER_END + DAY
    confirmation = url("land_confirmation_pdf", world)
    html = body(get(a, page(world), later))
    assert 'data-outcome="deal"' in html and a.organization.name in html
    assert 'data-testid="sign-panel"' in html and 'data-testid="confirmation-pdf"' in html
    assert 'data-testid="sign-panel"' not in body(get(b, page(world), later))
    # The public page names the winner and the price, never the reserve.
    public = body(get(None, page(world), later))
    assert re.search(r'data-testid="winner">[^<]*' + re.escape(a.organization.name), public)
    assert 'data-testid="reserve"' not in public and "confirmation-pdf" not in public

    for reader in (a, agent, staff, supervisor):
        response = get(reader, confirmation, later)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert get(b, confirmation, later).status_code == 404
    assert get(None, confirmation, later).status_code == 302  # to the login page

    # Only the winner signs.
    refused = post(b, url("land_sign", world), None, later)
    assert refused.status_code == 403 and error_of(refused)[0] == "FORBIDDEN"
    signed = post(a, url("land_sign", world), None, later)
    assert signed.status_code == 302
    assert world.refresh().confirmation_signed_at is not None
    assert Deposit.objects.get(organization=a.organization).status == Deposit.Status.LAND_PRICE
    html = body(get(a, page(world), later))
    assert 'data-testid="sign-panel"' not in html and "竞得人已于" in html
    again = post(a, url("land_sign", world), None, later)
    assert again.status_code == 409 and error_of(again)[0] == "ALREADY_SIGNED"


def test_the_confirmation_is_refused_before_a_deal(agent, staff, supervisor):
    world, *_ = two_bids(agent, staff)
    response = get(supervisor, url("land_confirmation_pdf", world), DURING)
    assert response.status_code == 409


# --- Center staff: the refusal; the reserve ------------------------------------------------------------


def test_staff_record_a_refusal_with_the_services_checks(agent, staff):
    world, *_ = a_deal(agent, staff)
    later = AFTER_END + DAY
    html = body(get(staff, page(world), later))
    assert 'data-testid="refusal"' in html
    assert 'data-testid="refusal"' not in body(get(agent, page(world), later))
    empty = post(staff, url("land_refusal", world), {"reason": " "}, later)
    assert empty.status_code == 400 and error_of(empty) == ("REASON_REQUIRED", "请说明放弃的事实。")
    assert post(agent, url("land_refusal", world), {"reason": "x"}, later).status_code == 403
    done = post(staff, url("land_refusal", world), {"reason": "拒绝签署成交确认书"}, later)
    assert done.status_code == 302
    listing = world.refresh()
    assert listing.stage == LandListing.Stage.REFUSED
    html = body(get(None, page(world), later))
    assert 'data-outcome="refused"' in html and "拒绝签署成交确认书" in html


def test_only_the_designated_staff_member_keys_in_the_reserve_once_before_the_lock(
    agent, staff, center, supervisor
):
    world = make_land_world(agent, staff, bidders=0)
    other = make_user("staff-two", Role.CENTER_STAFF, center)
    reserve = url("land_reserve", world)
    # The listing page points the designated person to the entry page; nobody else.
    assert 'data-testid="reserve-link"' in body(get(staff, page(world), DURING))
    assert 'data-testid="reserve-link"' not in body(get(other, page(world), DURING))
    for user in (other, supervisor, agent):
        assert get(user, reserve, DURING).status_code == 403
        assert post(user, reserve, {"amount": "1.00"}, DURING).status_code == 403
    assert get(None, reserve, DURING).status_code == 302

    entry = body(get(staff, reserve, DURING))
    assert 'data-testid="reserve-warning"' in entry and "不可更改" in entry and "密封" in entry
    bad = post(staff, reserve, {"amount": "abc"}, DURING)
    assert bad.status_code == 400 and error_of(bad)[0] == "BAD_AMOUNT"
    done = post(staff, reserve, {"amount": "120000000.00"}, DURING)
    assert done.status_code == 302 and done["Location"] == page(world)
    listing = world.refresh()
    assert listing.sealed_reserve is not None and listing.reserve is None
    after = body(get(staff, reserve, DURING))
    assert 'data-testid="reserve-done"' in after and "120000000" not in after
    again = post(staff, reserve, {"amount": "90000000.00"}, DURING)
    assert again.status_code == 409 and error_of(again)[0] == "RESERVE_LOCKED"
    # Nobody reads it back before the outcome: not the page, not its keeper, not a supervisor.
    for user in (staff, supervisor, None):
        assert "120,000,000.00" not in body(get(user, page(world), DURING))

    late = make_land_world(agent, staff, bidders=0)
    closed = body(get(staff, url("land_reserve", late), LISTING_END - dt.timedelta(minutes=30)))
    assert 'data-testid="reserve-closed"' in closed and "reserve-form" not in closed


def test_the_reserve_shows_to_officials_only_after_the_decision(agent, staff, supervisor):
    world, a, b, _ = two_bids(agent, staff)
    world.advance(AFTER_END)
    decided = AFTER_END + dt.timedelta(minutes=6)  # the confirmation window ends unanswered
    world.advance(decided)
    assert world.refresh().stage == LandListing.Stage.DEAL
    for user in (supervisor, staff):
        html = body(get(user, page(world), decided))
        assert re.search(r'data-testid="reserve">[^<]*100,000,000.00', html), user
    for user in (None, a, b, agent):
        assert 'data-testid="reserve"' not in body(get(user, page(world), decided)), user


# --- Supervisors: everything read-only --------------------------------------------------------------


def test_supervisors_read_the_page_and_can_post_nothing(agent, staff, supervisor):
    world, *_ = two_bids(agent, staff)
    html = body(get(supervisor, page(world), AFTER_END))
    assert 'data-testid="read-only"' in html and 'data-stage="confirming"' in html
    for action in ("land_respond", "land_offer", "land_sign", "land_refusal", "land_reserve"):
        assert f'action="{url(action, world)}"' not in html, action
    posts = {
        "land_respond": {"kind": "continue", "answer": "yes"},
        "land_offer": {"price": CAP},
        "land_sign": {},
        "land_refusal": {"reason": "x"},
        "land_reserve": {"amount": "1.00"},
    }
    for action, data in posts.items():
        response = post(supervisor, url(action, world), data, AFTER_END)
        assert response.status_code == 403, action
    setup = reverse("land_setup", args=[world.lot.pk])
    assert post(supervisor, setup, {}, AFTER_END).status_code == 403
    assert get(supervisor, setup, AFTER_END).status_code == 403
    assert not LandResponse.objects.exists()
    assert world.refresh().stage == LandListing.Stage.CONFIRMING
    # Not logged in: every action goes to the login page first.
    for action in posts:
        assert post(None, url(action, world), posts[action], AFTER_END).status_code == 302


# --- The maximum price: lottery record, sealed offers -------------------------------------------------


def capped(agent, staff, mode):
    world = make_land_world(agent, staff, bidders=3, max_price=CAP, cap_mode=mode)
    a, b, c = world.bidders
    world.bid(a, "100000000.00", LISTING_START + 2 * DAY)
    world.bid(b, CAP, LISTING_START + 3 * DAY)
    return world, a, b, c, LISTING_START + 3 * DAY


def test_the_lottery_shows_its_seed_hash_first_and_everything_to_verify_after(
    agent, staff, supervisor
):
    world, a, b, _, at = capped(agent, staff, "lottery")
    during = at + dt.timedelta(minutes=1)
    html = body(get(a, page(world), during))
    assert 'data-stage="cap_accept"' in html and 'data-testid="cap-panel"' in html
    seed_hash = re.search(r'data-testid="seed-hash">([0-9a-f]{64})<', html).group(1)
    assert 'data-testid="seed"' not in html and "110,000,000.00" in html
    accepted = post(a, url("land_respond", world), {"kind": "accept_cap", "answer": "yes"}, during)
    assert accepted.status_code == 302

    after = at + dt.timedelta(seconds=601)
    html = body(get(None, page(world), after))
    assert 'data-outcome="deal"' in html
    seed = re.search(r'data-testid="seed">([0-9a-f]{64})<', html).group(1)
    listing = world.refresh()
    assert listing.lottery["seed_hash"] == seed_hash and listing.lottery["seed"] == seed
    assert lottery.verify(listing.lottery, listing.pk) == []
    # Everything needed to recompute the draw is public: the seed, the candidates' ids, the winner.
    ids = re.search(r'data-testid="candidates">([^<]*)<', html).group(1)
    assert f"#{a.organization_id}" in ids and f"#{b.organization_id}" in ids
    assert "HMAC-SHA256" in html and "SHA-256" in html
    # The public learns the winner's name (announced), not the other candidate's; officials see both.
    won = listing.winner
    lost = b.organization if won == a.organization else a.organization
    assert won.name in html and lost.name not in html
    supervised = body(get(supervisor, page(world), after))
    assert won.name in supervised and lost.name in supervised


def test_a_sealed_offer_is_taken_once_and_never_echoed(agent, staff):
    world, a, b, c, at = capped(agent, staff, "sealed_offer")
    during = at + dt.timedelta(minutes=1)
    html = body(get(a, page(world), during))
    assert 'data-testid="offer-panel"' in html and 'id="offer-form"' in html
    assert 'data-testid="offer-panel"' not in body(get(c, page(world), during))
    low = post(a, url("land_offer", world), {"price": "100000000.00"}, during)
    assert low.status_code == 400 and error_of(low)[0] == "OFFER_OUT_OF_RANGE"
    assert 'value="100000000.00"' not in body(low)  # the offer is not echoed into the form
    assert post(a, url("land_offer", world), {"price": "112000000.00"}, during).status_code == 302
    same = post(b, url("land_offer", world), {"price": "112000000.00"}, during)
    assert same.status_code == 409 and error_of(same)[0] == "DUPLICATE_PRICE"
    assert "112000000" not in body(same) and "112,000,000" not in body(same)
    assert LandSealedOffer.objects.count() == 1
    assert 'data-testid="offer-panel"' not in body(get(a, page(world), during))


# --- The agent's setup form ---------------------------------------------------------------------------


def setup_data(staff, **overrides):
    return {
        "parcel_number": "XZ-2026-B02",
        "location": "珠海市香洲区南屏片区",
        "area": "28000.00",
        "land_use": "commercial",
        "term_years": "40",
        "plot_ratio": "≤3.0",
        "green_ratio": "≥30%",
        "start_price": "80000000.00",
        "increment": "500000.00",
        "max_price": "",
        "cap_mode": "",
        "housing_step": "10",
        "offer_ceiling": "",
        "listing_starts_at": "2026-05-25T09:00",
        "listing_ends_at": "2026-06-05T16:00",
        "reserve_staff": str(staff.pk),
        "reserve_lock_minutes": "60",
        "confirm_seconds": "300",
        "live_seconds": "240",
        "cap_window_seconds": "600",
        **overrides,
    }


def test_the_agent_sets_a_listing_up_through_the_service(agent, staff, supervisor, supplier):
    project = land_project(agent, staff)
    lot = project.lots.get()
    setup = reverse("land_setup", args=[lot.pk])
    at = T0 + DAY
    form = body(get(agent, setup, at))
    assert f'<option value="{staff.pk}">' in form
    assert f'<option value="{agent.pk}">' not in form  # only center staff keep the reserve
    for user in (supplier, supervisor):
        assert get(user, setup, at).status_code == 403
    # The service's rule, its message next to the kept input.
    short = post(agent, setup, setup_data(staff, listing_starts_at="2026-05-20T09:00"), at)
    assert short.status_code == 400 and error_of(short)[0] == "NOTICE_TOO_SHORT"
    assert "XZ-2026-B02" in body(short)
    done = post(agent, setup, setup_data(staff), at)
    listing = LandListing.objects.get(lot=lot)
    assert done.status_code == 302 and done["Location"] == reverse(
        "land_listing", args=[listing.pk]
    )
    assert listing.planning == {"plot_ratio": "≤3.0", "green_ratio": "≥30%"}
    assert listing.reserve_staff == staff and listing.start_price == Decimal("80000000.00")
    # Once set, the form leads to the listing; the lot page links it.
    assert get(agent, setup, at)["Location"] == reverse("land_listing", args=[listing.pk])
    lot_page = body(get(None, reverse("bidding_lot", args=[lot.pk]), at))
    assert 'data-testid="land-link"' in lot_page


def test_the_setup_form_is_only_for_land_listing_projects(agent, staff):
    from tests.bidding.auction_world import make_world

    world = make_world(agent, staff, bidders=0, with_auction=False)
    assert client_for(agent).get(reverse("land_setup", args=[world.lot.pk])).status_code == 404


# --- The auction room of a land listing ----------------------------------------------------------------


def room_strings(html: str) -> dict[str, str]:
    script = re.search(r'<script id="auction-strings" type="application/json">(.*?)</script>', html)
    return json.loads(script.group(1))


def test_the_room_of_a_listing_bids_upwards_and_links_back(agent, staff):
    world, a, *_ = two_bids(agent, staff)
    listing_room = Auction.objects.get(lot=world.lot, phase="listing")
    html = body(get(a, reverse("auction_room", args=[listing_room.pk]), DURING))
    assert 'data-direction="ascending"' in html and 'data-admit-on-bid="1"' in html
    assert 'data-first-bid-may-equal-start="1"' in html and 'data-unit="yuan"' in html
    assert f'href="{page(world)}" data-testid="listing-link"' in html
    assert "加价幅度" in html and "当前最高报价（元）" in html
    strings = room_strings(html)
    assert strings["allowed_ge"].startswith("≥") and "高" in strings["confirm_far_up"]
    assert strings["yuan"] == "元"


def test_the_housing_room_speaks_square_metres(agent, staff):
    world, a, _, _, at = capped(agent, staff, "housing")
    world.advance(at)
    housing = Auction.objects.get(lot=world.lot, phase="housing")
    assert housing.unit == "m2"
    html = body(get(a, reverse("auction_room", args=[housing.pk]), at + dt.timedelta(seconds=5)))
    assert 'data-unit="m2"' in html and "平方米" in html and "当前最高配建面积（平方米）" in html
    strings = room_strings(html)
    assert strings["yuan"] == "平方米" and "平方米" in strings["allowed_ge"]
    assert "平方米" in strings["acked"] and "元" not in strings["allowed_ge"]
    # The listing page points to the housing room while it runs.
    listing_html = body(get(a, page(world), at + dt.timedelta(seconds=5)))
    assert 'data-phase="housing"' in listing_html


def test_a_reverse_auction_room_keeps_its_words(agent, staff):
    from tests.bidding.auction_world import make_world

    world = make_world(agent, staff, public_view=True)
    html = body(client_for(world.bidders[0]).get(reverse("auction_room", args=[world.auction.pk])))
    assert 'data-direction="descending"' in html and 'data-admit-on-bid="0"' in html
    assert "listing-link" not in html and "当前最优价（元）" in html
    assert room_strings(html)["allowed_le"].startswith("≤")


def test_seats_in_live_bidding_are_the_continuing_bidders(agent, staff):
    """The page's answers reach the service: the live room seats exactly who continued."""
    world, a, b, c = two_bids(agent, staff)
    world.advance(AFTER_END)
    for user in (a, b):
        post(user, url("land_respond", world), {"kind": "continue", "answer": "yes"}, AFTER_END)
    live = Auction.objects.get(lot=world.lot, phase="live")
    seats = {p.organization_id for p in live.participants.filter(may_bid=True)}
    assert seats == {a.organization_id, b.organization_id}
    with time_machine.travel(AFTER_END + dt.timedelta(seconds=5), tick=False):
        state = services.listing_state(Actor.for_user(c), world.listing.pk)
    assert state["you"]["may_continue"] is False and state["stage"] == "live"
