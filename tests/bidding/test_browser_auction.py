"""The live reverse auction in real browsers on daphne: two bidders and a supervisor in three browser
contexts, one room, real time.

The daphne child process runs on the real clock, so the auction is created (through the service) a few
seconds before it starts, after everyone has logged in, with a short duration and small anti-sniping
settings; everything after that is driven through the pages and the room socket only.
"""

from __future__ import annotations

import re

import pytest

from bidding.models import AuctionBid
from tests.bidding.auction_world import live_auction, make_world
from tests.browser import chinese_page, fits_the_phone, log_in, needs_chromium, wait_until

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
DESK = {"width": 1200, "height": 900}
# Real seconds: start soon after the rooms are opened, close soon after the bids.
STARTS_IN, DURATION, WINDOW, EXTENSION = 4, 20, 8, 10


def text(page, testid: str) -> str:
    return page.locator(f"[data-testid={testid}]").inner_text().strip()


def wait_text(page, testid: str, expected: str, timeout: float = 10_000) -> None:
    from playwright.sync_api import TimeoutError as Timeout

    try:
        wait_until(
            page,
            "([id, want]) => { const el = document.querySelector(`[data-testid=${id}]`);"
            " return el && el.textContent.includes(want); }",
            arg=[testid, expected],
            timeout=timeout,
        )
    except Timeout:
        shown = page.locator(f"[data-testid={testid}]").all_inner_texts()
        raise AssertionError(
            f"{testid}: waited for {expected!r}, the page shows {shown!r}"
        ) from None


def wait_status(page, status: str, timeout: float = 20_000) -> None:
    try:
        page.wait_for_selector(f"[data-testid=status][data-status={status}]", timeout=timeout)
    except Exception as error:
        # Rooms open and close on the clock: when one never gets there, say what the clock was doing.
        raise AssertionError(f"room never reached {status!r}; {clock_tasks()}") from error


def clock_tasks() -> str:
    from clock.models import ScheduledTask

    rows = ScheduledTask.objects.filter(step__startswith="bidding.").order_by("-due_at")[:8]
    return "clock tasks: " + "; ".join(
        f"{t.key} due {t.due_at:%H:%M:%S.%f} done {t.done_at} attempts {t.attempts} "
        f"lease {t.leased_until} {t.last_error[-300:]!r}"
        for t in rows
    )


def bid(page, price: str) -> None:
    page.fill("[data-testid=bid-price]", price)
    page.click("[data-testid=bid-button]")


def history_seqs(page) -> list[int]:
    return [
        int(seq)
        for seq in page.eval_on_selector_all(
            "[data-testid=history] li", "items => items.map(li => li.dataset.seq)"
        )
    ]


def seconds_left(page) -> float:
    return page.evaluate(
        "Date.parse(BidhallAuction.state().auction.ends_at) - BidhallAuction.now()"
    )


def test_two_bidders_and_a_supervisor_watch_one_live_room(
    browser, daphne_url, agent, staff, supervisor
):
    base = daphne_url
    world = make_world(agent, staff, bidders=2, with_auction=False)
    user_a, user_b = world.bidders
    name_a, name_b = user_a.organization.name, user_b.organization.name
    page_a = chinese_page(browser, viewport=PHONE)
    page_b = chinese_page(browser, viewport=DESK)
    page_s = chinese_page(browser, viewport=DESK)
    for page, user in ((page_a, user_a), (page_b, user_b), (page_s, supervisor)):
        log_in(page, base, user.username)

    auction = live_auction(
        world,
        starts_in=STARTS_IN,
        duration=DURATION,
        extension_window_seconds=WINDOW,
        extension_seconds=EXTENSION,
        max_extensions=1,
        min_participants=2,
        public_view=False,
    )
    url = f"{base}/bidding/auctions/{auction.pk}/"
    for page in (page_a, page_b, page_s):
        page.goto(url)
        page.wait_for_selector("[data-testid=room][data-ready='1']")

    # Before the start: the countdown to the start, in the page and in the title bar; no bidding yet.
    if page_a.evaluate("BidhallAuction.state().auction.status") == "scheduled":
        assert page_a.locator("[data-testid=bid-button]").is_disabled()
        assert re.match(r"\d\d:\d\d:\d\d · ", page_a.title())
    assert page_s.locator("#bid-form").count() == 0
    fits_the_phone(page_a)

    # The room opens on the server's clock, in every browser, without a reload.
    for page in (page_a, page_b, page_s):
        wait_status(page, "live", timeout=(STARTS_IN + 15) * 1000)
    wait_until(page_a, "/竞价人[A-Z]/.test(document.querySelector('#you-alias').textContent)")
    wait_until(page_b, "/竞价人[A-Z]/.test(document.querySelector('#you-alias').textContent)")
    alias_a, alias_b = text(page_a, "you-alias"), text(page_b, "you-alias")
    assert alias_a != alias_b
    assert text(page_a, "allowed-bid") == "≤ 999,000.00 元"
    assert re.match(r"\d\d:\d\d:\d\d · 竞价中 · ", page_a.title())  # the countdown in the title bar

    # A bids; B sees A's price under A's alias, never A's name; the supervisor sees the name.
    bid(page_a, "999000")
    wait_text(page_a, "bid-feedback", "报价已确认：999,000.00 元")
    wait_text(page_b, "best-price", "999,000.00")
    assert text(page_b, "best-alias") == alias_a
    assert name_a not in page_b.content() and name_a not in page_a.locator("#history").inner_text()
    wait_text(page_s, "best-price", "999,000.00")
    assert name_a in text(page_s, "best-alias")
    assert name_a in page_s.locator("[data-testid=history]").inner_text()
    assert text(page_b, "allowed-bid") == "≤ 998,000.00 元"

    # B's socket drops: the banner says so, a bid typed meanwhile is sent (with the same key) once
    # the room is back, and the history shows no event twice.
    page_b.evaluate("BidhallAuction.drop()")
    page_b.wait_for_selector("[data-testid=banner]:not([hidden])")
    assert "重新连接" in text(page_b, "banner")
    bid(page_b, "998000.00")
    wait_text(page_b, "bid-feedback", "报价已确认：998,000.00 元")
    assert page_b.locator("[data-testid=banner]").is_hidden()
    assert AuctionBid.objects.filter(participant__organization=user_b.organization).count() == 1

    # A's page: B's price is the best, A is second, the allowed bid moved.
    wait_text(page_a, "best-price", "998,000.00")
    assert text(page_a, "best-alias") == alias_b
    page_a.wait_for_selector("[data-testid=you-rank][data-rank='2']")
    assert text(page_a, "allowed-bid") == "≤ 997,000.00 元"

    # More than 10% below the best asks first; cancelling sends nothing.
    bid(page_a, "880000")
    dialog = page_a.locator("[data-testid=confirm-dialog]")
    dialog.wait_for(state="visible")
    assert "880,000.00" in text(page_a, "confirm-text") and "998,000.00" in text(
        page_a, "confirm-text"
    )
    page_a.click("[data-testid=confirm-cancel]")
    dialog.wait_for(state="hidden")
    # The leader bidding again is asked too.
    bid(page_b, "997000")
    page_b.locator("[data-testid=confirm-dialog]").wait_for(state="visible")
    assert "已是最优" in text(page_b, "confirm-text")
    page_b.click("[data-testid=confirm-cancel]")
    assert AuctionBid.objects.filter(auction=auction).count() == 2

    # A refused bid shows the server's message.
    bid(page_a, "997500")
    wait_text(page_a, "bid-feedback", "报价被拒绝")
    assert "整数倍" in text(page_a, "bid-feedback")

    # A bid in the last seconds moves the end: every page says so.
    wait_until(
        page_a,
        f"Date.parse(BidhallAuction.state().auction.ends_at) - BidhallAuction.now() < {WINDOW - 1} * 1000",
        timeout=DURATION * 1000,
    )
    assert seconds_left(page_a) > 0
    bid(page_a, "997000")
    wait_text(page_a, "bid-feedback", "报价已确认：997,000.00 元")
    for page in (page_a, page_b, page_s):
        page.wait_for_selector("[data-testid=extended]:not([hidden])")
        assert "延时" in text(page, "extended")
    wait_text(page_b, "best-price", "997,000.00")
    page_a.wait_for_selector("[data-testid=you-rank][data-rank='1']")

    # The close: results with names on every page, the bid form gone quiet.
    for page in (page_a, page_b, page_s):
        wait_status(page, "closed", timeout=(EXTENSION + 15) * 1000)
        page.wait_for_selector("[data-testid=results]:not([hidden])")
        rows = page.locator("[data-testid=result]")
        assert rows.count() == 2
        first, second = rows.nth(0).inner_text(), rows.nth(1).inner_text()
        assert name_a in first and alias_a in first and "997,000.00" in first
        assert name_b in second and "998,000.00" in second
    assert page_a.locator("[data-testid=bid-button]").is_disabled()
    assert page_a.title().startswith("已结束")

    # Every event once, newest first, on every page (and the same on all).
    seqs = history_seqs(page_a)
    assert seqs == sorted(set(seqs), reverse=True)
    assert history_seqs(page_b) == seqs and history_seqs(page_s) == seqs
    fits_the_phone(page_a)


def test_rounds_format_shows_the_turns_and_opens_the_form_only_in_ones_own_turn(
    browser, daphne_url, agent, staff
):
    base = daphne_url
    world = make_world(agent, staff, bidders=2, with_auction=False)
    user_a, user_b = world.bidders
    page_a = chinese_page(browser, viewport=PHONE)
    page_b = chinese_page(browser, viewport=PHONE)
    for page, user in ((page_a, user_a), (page_b, user_b)):
        log_in(page, base, user.username)
    # One round, no pause, ten seconds a turn: B (worse initial price) bids first, A (leader) last.
    auction = live_auction(
        world,
        format="rounds",
        starts_in=8,
        rounds=1,
        turn_seconds=10,
        pause_seconds=0,
        min_participants=2,
    )
    url = f"{base}/bidding/auctions/{auction.pk}/"
    for page in (page_a, page_b):
        page.goto(url)
        page.wait_for_selector("[data-testid=room][data-ready='1']")

    # Before the start: sealed initial bids, no worse than the start price.
    assert text(page_a, "allowed-bid") == "首次报价（密封）≤ 1,000,000.00 元"
    bid(page_a, "990000")
    wait_text(page_a, "bid-feedback", "报价已确认：990,000.00 元")
    bid(page_b, "1000001")
    wait_text(page_b, "bid-feedback", "首次报价不得劣于起始价")
    bid(page_b, "995000")
    wait_text(page_b, "bid-feedback", "报价已确认：995,000.00 元")
    assert "990,000.00" not in page_b.content()  # sealed until the start

    for page in (page_a, page_b):
        wait_status(page, "live", timeout=20_000)
        page.wait_for_selector("[data-testid=turns]:not([hidden])")
    wait_until(page_b, "/竞价人[A-Z]/.test(document.querySelector('#you-alias').textContent)")
    alias_b = text(page_b, "you-alias")
    turns = page_a.eval_on_selector_all("#turns-rows tr", "rows => rows.map(r => r.dataset.alias)")
    assert turns[0] == alias_b and len(turns) == 2  # worst first, the leader last

    # B's turn: B's form is open, A's is not.
    wait_text(page_b, "turn-now", "轮到您报价")
    assert page_a.locator("[data-testid=bid-button]").is_disabled()
    assert alias_b in text(page_a, "turn-now")
    assert text(page_b, "allowed-bid") == "≤ 994,000.00 元"  # one's own price less a step
    bid(page_b, "994000")
    wait_text(page_b, "bid-feedback", "报价已确认：994,000.00 元")
    wait_text(page_a, "history", "994,000.00")

    # Then A's turn.
    wait_text(page_a, "turn-now", "轮到您报价", timeout=15_000)
    page_a.wait_for_selector("[data-testid=bid-button]:not([disabled])")
    # Each page moves to the next turn on its own 250 ms clock tick, so B's page may lag A's by a tick.
    page_b.wait_for_selector("[data-testid=bid-button][disabled]", timeout=2_000)
    bid(page_a, "989000")
    wait_text(page_a, "bid-feedback", "报价已确认：989,000.00 元")

    for page in (page_a, page_b):
        wait_status(page, "closed", timeout=20_000)
        first = page.locator("[data-testid=result]").nth(0).inner_text()
        assert user_a.organization.name in first and "989,000.00" in first
    fits_the_phone(page_a)
