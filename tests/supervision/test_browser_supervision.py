"""The supervision workspace in real browsers on daphne: a supervisor (on a phone) watches a live
auction from the dashboard and in the room while two bidders bid in their own browsers, sees who they
are, replays the auction step by step after the close, downloads the evidence package — and
`verify_evidence` passes on it and fails on a changed copy.

The daphne child process runs on the real clock, so the auction is created (through the service) a few
seconds before it starts, after everyone has logged in, with a short duration; everything after that
goes through the pages, the room socket and the dashboard's polling only.
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.management import call_command

from bidding.models import Auction
from tests.bidding.auction_world import live_auction, make_world
from tests.browser import chinese_page, fits_the_phone, log_in, needs_chromium, wait_until

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
DESK = {"width": 1200, "height": 900}
STARTS_IN, DURATION = 5, 25


def text(page, selector: str) -> str:
    return page.locator(selector).inner_text().strip()


def wait_text(page, selector: str, expected: str, timeout: float = 12_000) -> None:
    from playwright.sync_api import TimeoutError as Timeout

    try:
        wait_until(
            page,
            "([sel, want]) => { const el = document.querySelector(sel);"
            " return el && el.textContent.includes(want); }",
            arg=[selector, expected],
            timeout=timeout,
        )
    except Timeout:
        shown = page.locator(selector).all_inner_texts()
        raise AssertionError(f"{selector}: waited for {expected!r}, shown {shown!r}") from None


def bid(page, price: str) -> None:
    page.fill("[data-testid=bid-price]", price)
    page.click("[data-testid=bid-button]")
    wait_text(page, "[data-testid=bid-feedback]", "报价已确认")


def changed_copy(data: bytes, member: str) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name == member:
                content = content.replace(b"998000.00", b"990000.00")
            target.writestr(name, content)
    return out.getvalue()


def test_a_supervisor_watches_replays_and_exports_a_live_auction(
    browser, daphne_url, agent, staff, supervisor, tmp_path
):
    base = daphne_url
    world = make_world(agent, staff, bidders=2, with_auction=False)
    user_a, user_b = world.bidders
    name_a, name_b = user_a.organization.name, user_b.organization.name
    watcher = chinese_page(browser, viewport=PHONE)
    page_a = chinese_page(browser, viewport=DESK)
    page_b = chinese_page(browser, viewport=DESK)
    for page, user in ((watcher, supervisor), (page_a, user_a), (page_b, user_b)):
        log_in(page, base, user.username)

    auction = live_auction(
        world,
        starts_in=STARTS_IN,
        duration=DURATION,
        extension_seconds=0,  # no anti-sniping here: the end stays where the test expects it
        min_participants=2,
        public_view=False,
    )
    room = f"{base}/bidding/auctions/{auction.pk}/"
    for page in (page_a, page_b):
        page.goto(room)
        page.wait_for_selector("[data-testid=room][data-ready='1']")

    # The dashboard, reached from the menu: the auction appears once it is live, with its counters.
    toggle = watcher.locator("label.nav-toggle-label")
    if toggle.is_visible():  # the phone's folded menu
        toggle.click()
    watcher.click("[data-testid=nav-supervision]")
    watcher.wait_for_url(f"{base}/supervision/")
    watcher.wait_for_selector("[data-testid=live][data-ready='1']")
    assert text(watcher, "[data-testid=chain-seq]").isdigit()
    card = f"[data-testid=live-auction][data-id='{auction.pk}']"
    watcher.wait_for_selector(card, timeout=(STARTS_IN + 15) * 1000)
    assert text(watcher, f"{card} [data-testid=auction-accepted]") == "0"
    assert text(watcher, f"{card} [data-testid=auction-participants]") == "2"
    fits_the_phone(watcher)

    # A bids in its room: the supervisor's dashboard counts it and names the leader.
    page_a.wait_for_selector("[data-testid=status][data-status=live]", timeout=15_000)
    bid(page_a, "999000")
    wait_text(watcher, f"{card} [data-testid=auction-accepted]", "1")
    wait_text(watcher, f"{card} [data-testid=auction-best]", "999,000.00")
    assert name_a in text(watcher, f"{card} [data-testid=auction-best]")
    left = watcher.locator(f"{card} [data-testid=auction-left]").inner_text()
    assert left.startswith("00:00:"), left  # counting down on the server's time

    # Into the room, read-only: the supervisor's view names every bidder live, and has no bid form.
    watcher.click(f"{card} [data-testid=enter-room]")
    watcher.wait_for_url(room)
    watcher.wait_for_selector("[data-testid=room][data-ready='1']")
    assert watcher.locator("[data-testid=view][data-view=supervisor]").count() == 1
    assert watcher.locator("#bid-form").count() == 0
    wait_text(watcher, "[data-testid=best-price]", "999,000.00")
    bid(page_b, "998000")
    wait_text(watcher, "[data-testid=best-price]", "998,000.00")
    assert name_b in text(watcher, "[data-testid=best-alias]")
    bid(page_a, "997000")
    wait_text(watcher, "[data-testid=best-price]", "997,000.00")
    assert name_a in text(watcher, "[data-testid=best-alias]")
    assert name_a not in page_b.content()  # the bidders still see aliases only

    # The close, on the server's clock.
    watcher.wait_for_selector(
        "[data-testid=status][data-status=closed]", timeout=(DURATION + 15) * 1000
    )
    auction = Auction.objects.get(pk=auction.pk)
    assert auction.status == Auction.Status.CLOSED

    # The project's supervision page: the replay, step by step.
    watcher.goto(f"{base}/supervision/projects/{world.project.pk}/")
    fits_the_phone(watcher)
    watcher.click(f"[data-testid=auction][data-id='{auction.pk}'] [data-testid=replay-link]")
    watcher.wait_for_selector("[data-testid=replay][data-ready='1']")
    fits_the_phone(watcher)
    steps = watcher.evaluate("BidhallReplay.steps()")
    assert steps == auction.seq == 5  # started, three bids, closed
    assert watcher.get_attribute("[data-testid=step-type]", "data-type") == "started"
    assert text(watcher, "[data-testid=step-best]") == "暂无报价"
    expected = [
        ("999,000.00", name_a),
        ("998,000.00", name_b),
        ("997,000.00", name_a),
    ]
    for price, name in expected:
        watcher.click("[data-testid=replay-next]")
        assert watcher.get_attribute("[data-testid=step-type]", "data-type") == "bid"
        assert text(watcher, "[data-testid=step-best]") == f"{price} 元"
        assert name in text(watcher, "[data-testid=step-best-alias]")
        assert name in text(watcher, "[data-testid=step-text]")
        # Server time in Beijing, to the millisecond.
        assert len(text(watcher, "[data-testid=step-time]")) == len("2026-04-11 10:00:10.000")
    # After A's second bid: A first, B second, in the table of every bidder's price.
    rows = watcher.locator("[data-testid=replay-prices] tr")
    assert rows.count() == 2
    assert name_a in rows.nth(0).inner_text() and "997,000.00" in rows.nth(0).inner_text()
    assert name_b in rows.nth(1).inner_text() and "998,000.00" in rows.nth(1).inner_text()
    # Back one step, then play to the end.
    watcher.click("[data-testid=replay-prev]")
    assert text(watcher, "[data-testid=step-best]") == "998,000.00 元"
    watcher.click("[data-testid=replay-first]")
    watcher.click("[data-testid=replay-play]")
    watcher.wait_for_selector("[data-testid=replay][data-playing='1']")
    watcher.wait_for_selector(f"[data-testid=replay][data-seq='{auction.seq}']", timeout=15_000)
    watcher.wait_for_selector("[data-testid=replay][data-playing='0']")
    assert watcher.get_attribute("[data-testid=step-type]", "data-type") == "closed"
    assert name_a in text(watcher, "[data-testid=step-text]")

    # The evidence package, downloaded in the browser and checked offline.
    watcher.goto(f"{base}/supervision/projects/{world.project.pk}/")
    with watcher.expect_download() as download:
        watcher.click("[data-testid=evidence-download]")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == f"evidence-{world.project.number}.zip"
    package = path.read_bytes()
    auctions = json.loads(zipfile.ZipFile(io.BytesIO(package)).read("auctions.json"))
    assert [e["type"] for e in auctions[0]["events"]].count("bid") == 3
    call_command("verify_evidence", str(path))  # passes: no SystemExit
    changed = tmp_path / "changed.zip"
    changed.write_bytes(changed_copy(package, "auctions.json"))
    with pytest.raises(SystemExit) as failed:
        call_command("verify_evidence", str(changed))
    assert failed.value.code == 1
