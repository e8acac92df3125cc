"""The land listing (挂牌出让) in real browsers on daphne: two bidders and a supervisor in three browser
contexts, from the listing's last seconds to a signed-for deal.

The daphne child process runs on the real clock and cannot travel in time, while the listing's rules
need 20 days' notice and 10 working days of listing. So the world is built in travelled time through
the services (tests/bidding/land_world.py: published, listed, paid, one listing bid each), and then —
the one shortcut, on the rows directly — the listing's end (`LandListing.listing_ends_at` and the
listing auction's `ends_at`) is moved to a few seconds from now, after everyone has logged in. The
windows are the shortest the service allows (confirmation 30 s, but both answer at once; a 30-second
live countdown). Everything after that runs through the pages, the page's status poll, the room socket
and the clock (`servers.running_clock`, as `run_clock` runs in production: pages only read).
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.utils import timezone
from pypdf import PdfReader

from bidding.auction.services import CLOSE_STEP
from bidding.models import Auction, AuctionBid, LandListing
from clock.services import schedule
from signing.models import SignedAct
from tests.bidding.land_world import LISTING_START, make_land_world
from tests.bidding.servers import running_clock
from tests.bidding.test_browser_auction import (
    DESK,
    PHONE,
    bid,
    fits_the_phone,
    log_in,
    text,
    wait_status,
    wait_text,
)
from tests.browser import chinese_page, needs_chromium, wait_until

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]

DAY = dt.timedelta(days=1)
CLOSES_IN = 6  # real seconds from the shortcut to the listing's end
LIVE = 30  # the live countdown (the service's minimum)


def seconds_left(page) -> float:
    return page.evaluate(
        "(Date.parse(BidhallAuction.state().auction.ends_at) - BidhallAuction.now()) / 1000"
    )


def enrol_in_browser(page, base: str) -> None:
    """A key made in this browser and a simulator certificate for it (the signed acts need one)."""
    page.goto(f"{base}/signing/certificates/")
    wait_until(
        page, "document.querySelector('[data-sign-key-status]').textContent.includes('尚未保存')"
    )
    with page.expect_navigation():
        page.click("[data-testid=sign-enrol]")
    wait_until(page, "!document.querySelector('[data-key-here]').hidden")


def sign_in_browser(page, button: str, expected: str) -> None:
    """Click a signed form's button, read the statement the signer shows, and sign it."""
    with page.expect_navigation():
        page.click(button)
        page.wait_for_selector("[data-testid=sign-dialog]")
        assert expected in page.inner_text("[data-testid=sign-dialog]")
        page.click("[data-sign-confirm]")


def close_listing_soon(world, seconds: float) -> dt.datetime:
    """The shortcut (see the module docstring): the listing ends `seconds` from now, real time."""
    ends = timezone.now() + dt.timedelta(seconds=seconds)
    listing = world.listing
    LandListing.objects.filter(pk=listing.pk).update(listing_ends_at=ends)
    room = Auction.objects.get(lot=world.lot, phase=Auction.Phase.LISTING)
    Auction.objects.filter(pk=room.pk).update(
        ends_at=ends, duration_seconds=int((ends - room.starts_at).total_seconds())
    )
    schedule(CLOSE_STEP, room.pk, ends)  # as a service moving a deadline does
    return ends


def test_two_bidders_continue_bid_live_and_the_deal_shows_everywhere(
    browser, daphne_url, agent, staff, supervisor
):
    base = daphne_url
    world = make_land_world(
        agent,
        staff,
        bidders=2,
        reserve="100000000.00",
        confirm_seconds=30,
        live_seconds=LIVE,
    )
    user_a, user_b = world.bidders
    name_a, name_b = user_a.organization.name, user_b.organization.name
    world.bid(user_a, "100000000.00", LISTING_START + 3 * DAY)
    world.bid(user_b, "101000000.00", LISTING_START + 4 * DAY)

    page_a = chinese_page(browser, viewport=PHONE)
    page_b = chinese_page(browser, viewport=DESK)
    page_s = chinese_page(browser, viewport=DESK)
    for page, user in ((page_a, user_a), (page_b, user_b), (page_s, supervisor)):
        log_in(page, base, user.username)
    for page in (page_a, page_b):
        enrol_in_browser(page, base)

    with running_clock():
        close_listing_soon(world, CLOSES_IN)
        listing_url = f"{base}/bidding/land/{world.listing.pk}/"
        for page in (page_a, page_b, page_s):
            page.goto(listing_url)
            page.wait_for_selector("[data-testid=stage][data-stage=listing]")

        # The last seconds of the listing: the countdown to the close, on the server's clock; the highest.
        assert text(page_a, "highest") == "101,000,000.00"
        assert page_a.locator("[data-testid=listing-countdown]").get_attribute("data-countdown-to")
        assert page_a.locator("[data-testid=eligibility][data-code=ok]").count() == 1
        assert page_s.locator("[data-testid=read-only]").count() == 1
        assert page_s.locator("[data-testid=you]").count() == 0
        fits_the_phone(page_a)

        # The close: each bidder's page reloads by itself into the confirmation, with its buttons.
        for page in (page_a, page_b):
            page.wait_for_selector("[data-testid=continue-panel]", timeout=(CLOSES_IN + 20) * 1000)
        page_s.wait_for_selector("[data-testid=stage][data-stage=confirming]", timeout=20_000)
        assert page_s.locator("[data-testid=continue-panel]").count() == 0
        fits_the_phone(page_a)

        # Both continue at once: live bidding opens without waiting for the window.
        # Continuing is signed (land.confirm): the browser signer shows the statement first.
        sign_in_browser(page_a, "[data-testid=continue-yes]", "确认竞得资格")
        page_a.wait_for_selector("[data-testid=continue-answer][data-answer=yes]")
        sign_in_browser(page_b, "[data-testid=continue-yes]", "确认竞得资格")
        for page in (page_a, page_b, page_s):
            page.wait_for_selector("[data-testid=room-link][data-phase=live]", timeout=15_000)
        assert world.refresh().stage == LandListing.Stage.LIVE
        live = Auction.objects.get(lot=world.lot, phase=Auction.Phase.LIVE)

        for page in (page_a, page_b, page_s):
            page.click("[data-testid=room-link]")
            page.wait_for_url(f"{base}/bidding/auctions/{live.pk}/")
            page.wait_for_selector("[data-testid=room][data-ready='1']")
            wait_status(page, "live")
            assert page.locator("[data-testid=listing-link]").count() == 1
        # Live bidding starts from the listing's highest, upwards, with the countdown running.
        wait_text(page_a, "best-price", "101,000,000.00")
        assert text(page_a, "allowed-bid") == "≥ 102,000,000.00 元"
        assert 0 < seconds_left(page_a) <= LIVE
        assert re.match(r"\d\d:\d\d:\d\d · ", page_a.title())
        fits_the_phone(page_a)

        # Far above the highest asks first; cancelling sends nothing.
        bid(page_a, "120000000")
        dialog = page_a.locator("[data-testid=confirm-dialog]")
        dialog.wait_for(state="visible")
        assert "120,000,000.00" in text(page_a, "confirm-text") and "高" in text(
            page_a, "confirm-text"
        )
        page_a.click("[data-testid=confirm-cancel]")
        dialog.wait_for(state="hidden")
        assert not AuctionBid.objects.filter(auction=live).exists()

        # Let the countdown run a little, then A bids: the countdown restarts on every page.
        wait_until(
            page_b,
            "(Date.parse(BidhallAuction.state().auction.ends_at) - BidhallAuction.now()) < 24000",
            timeout=LIVE * 1000,
        )
        bid(page_a, "102000000")
        wait_text(page_a, "bid-feedback", "报价已确认：102,000,000.00 元")
        for page in (page_a, page_b, page_s):
            wait_text(page, "best-price", "102,000,000.00")
            page.wait_for_selector("[data-testid=extended]:not([hidden])")
            assert seconds_left(page) > LIVE - 5
        assert name_a in text(page_s, "best-alias")  # the supervisor sees who
        assert name_a not in page_b.content()  # the other bidder does not
        assert text(page_b, "allowed-bid") == "≥ 103,000,000.00 元"

        # Nobody bids again: the room closes when the countdown runs out.
        for page in (page_a, page_b, page_s):
            wait_status(page, "closed", timeout=(LIVE + 20) * 1000)
            page.wait_for_selector("[data-testid=next-step]:not([hidden])")

        # Back on the listing page: the deal, with the winner's name, on every page.
        for page in (page_a, page_b, page_s):
            page.click("[data-testid=listing-link]")
            page.wait_for_url(listing_url)
            page.wait_for_selector("[data-testid=result][data-outcome=deal]", timeout=15_000)
            assert name_a in text(page, "winner")
            assert text(page, "final-price") == "102,000,000.00"
        assert name_b not in text(page_b, "result")
        assert page_a.locator("[data-testid=sign-panel]").count() == 1
        assert page_b.locator("[data-testid=sign-panel]").count() == 0
        assert page_b.locator("[data-testid=confirmation-pdf]").count() == 0
        fits_the_phone(page_a)

        # The winner downloads the 成交确认书 with its session.
        href = page_a.locator("[data-testid=confirmation-pdf]").get_attribute("href")
        confirmation = page_a.request.get(f"{base}{href}")
        assert confirmation.ok and confirmation.headers["content-type"] == "application/pdf"
        pdf_text = re.sub(
            r"\s",
            "",
            "".join(p.extract_text() for p in PdfReader(io.BytesIO(confirmation.body())).pages),
        )
        assert "成交确认书" in pdf_text and name_a in pdf_text and "102,000,000.00" in pdf_text
        assert live.pk and Auction.objects.get(pk=live.pk).closing_audit_hash in pdf_text
        # The other bidder may not read it.
        assert page_b.request.get(f"{base}{href}").status == 404

        # The winner signs the 成交确认书 (land.deal) over the hash the page shows.
        digest = text(page_a, "confirmation-sha256")
        sign_in_browser(page_a, "[data-testid=sign]", digest)
        assert "竞得人已于" in text(page_a, "signed")
        assert world.refresh().confirmation_signed_at is not None
        deal = SignedAct.objects.get(act="land.deal")
        assert deal.organization == user_a.organization and digest in deal.statement
        assert SignedAct.objects.filter(act="land.confirm").count() == 2


def test_a_first_listing_bid_in_the_room_may_equal_the_start_and_gives_a_seat(
    browser, daphne_url, agent, staff
):
    """The listing phase: an eligible bidder has no seat until its first valid bid, which may equal
    the start price; the room then learns its alias. (Same shortcut: the listing ends in two minutes.)"""
    base = daphne_url
    world = make_land_world(agent, staff, bidders=2)
    user_a, user_b = world.bidders
    page_a = chinese_page(browser, viewport=PHONE)
    page_b = chinese_page(browser, viewport=DESK)
    for page, user in ((page_a, user_a), (page_b, user_b)):
        log_in(page, base, user.username)
    with running_clock():
        close_listing_soon(world, 120)
        room = Auction.objects.get(lot=world.lot, phase=Auction.Phase.LISTING)
        for page in (page_a, page_b):
            page.goto(f"{base}/bidding/land/{world.listing.pk}/")
            page.click("[data-testid=room-link]")
            page.wait_for_url(f"{base}/bidding/auctions/{room.pk}/")
            page.wait_for_selector("[data-testid=room][data-ready='1']")
            wait_status(page, "live")
        assert text(page_a, "allowed-bid") == "≥ 100,000,000.00 元"
        assert text(page_a, "you-alias") == "—" and "首次有效报价" in text(page_a, "you-note")
        assert page_a.locator("[data-testid=bid-button]").is_enabled()

        bid(page_a, "100000000")
        wait_text(page_a, "bid-feedback", "报价已确认：100,000,000.00 元")
        wait_until(page_a, "/竞价人[A-Z]/.test(document.querySelector('#you-alias').textContent)")
        assert text(page_a, "you-note") == ""
        wait_text(page_b, "best-price", "100,000,000.00")
        assert text(page_b, "allowed-bid") == "≥ 101,000,000.00 元"
        bid(page_b, "100500000")
        wait_text(page_b, "bid-feedback", "整数倍")
        fits_the_phone(page_a)
