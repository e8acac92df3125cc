"""A sealed bid in a real browser on daphne: the supplier submits, reads and downloads its receipt, waits
for the deadline on the server-driven countdown, decrypts online and reads the published opening record —
on a phone-sized screen.

The daphne child process runs on the real clock (it cannot be time-travelled), so the tender is built
through the services in travelled time with its deadline seconds after the browser steps begin; only the
steps that happen "now" (submitting, decrypting, reading) are driven through the UI.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import time_machine
from django.utils import timezone
from pypdf import PdfReader

from accounts.actors import Actor
from accounts.models import Organization, Role
from bidding import services
from bidding.models import Bid, Opening
from clock.services import run_due
from tests.browser import chinese_page, fits_the_phone, log_in, needs_chromium, wait_until
from tests.conftest import make_org, make_user
from tests.trading.factories import published
from trading import services as trading

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
CODE = "browser-code-2026"
# Time for the browser to log in and submit before the deadline passes.
LEAD = dt.timedelta(seconds=25)


def tender_closing_soon(agent, staff, bidders):
    """Published 30 days ago (travelled), closing LEAD from now (real time)."""
    now = timezone.now()
    start = now - dt.timedelta(days=30)
    lots = [
        {
            "name": "施工",
            "estimate": "9000000.00",
            "ceiling_price": "8800000.00",
            "deposit_amount": "0",
        }
    ]
    with time_machine.travel(start, tick=False):
        project = published(
            agent,
            staff,
            start=start,
            lots=lots,
            documents_from=start,
            documents_until=start + dt.timedelta(days=7),
            questions_until=start + dt.timedelta(days=9),
            bid_deadline=(now + LEAD).replace(microsecond=0),
        )
    with time_machine.travel(start + dt.timedelta(hours=1), tick=False):
        for user in bidders:
            trading.register(Actor.for_user(user), project.lots.get())
    return project


def test_a_supplier_bids_downloads_the_receipt_and_decrypts_at_the_opening(
    browser, daphne_url, agent, staff, supplier, other_supplier
):
    third = make_user("third", Role.SUPPLIER, make_org(Organization.Kind.SUPPLIER, "丙建设公司"))
    base = daphne_url
    page = chinese_page(browser, viewport=PHONE)
    log_in(page, base, "supplier")

    project = tender_closing_soon(agent, staff, [supplier, other_supplier, third])
    lot = project.lots.get()
    for user, price in ((other_supplier, "8650000.00"), (third, "8700000.00")):
        services.submit_bid(Actor.for_user(user), lot, price=price, decryption_code=CODE)

    # The supplier submits its sealed bid with a file, before the deadline.
    page.goto(f"{base}/bidding/lots/{lot.pk}/bid/")
    assert page.locator("[data-testid=code-warning]").is_visible()
    assert page.locator("[data-testid=deadline-countdown]").get_attribute("data-countdown-to")
    fits_the_phone(page)
    form = page.locator("#bid-form")
    form.locator("input[name=price]").fill("8600000.00")
    form.locator("input[name=decryption_code]").fill(CODE)
    form.locator("input[name=decryption_code_again]").fill(CODE)
    form.locator("input[name=files]").set_input_files(
        {"name": "技术标.pdf", "mimeType": "application/pdf", "buffer": b"%PDF technical"}
    )
    form.locator("[data-testid=submit-bid]").click()
    page.wait_for_url(f"{base}/bidding/lots/{lot.pk}/bid/receipt/")
    bid = Bid.objects.get(lot=lot, organization=supplier.organization)
    assert page.locator("[data-testid=receipt-sha]").inner_text() == bid.receipt_sha256
    assert page.locator("[data-testid=file-sha]").inner_text() == bid.files.get().sha256
    assert "8600000" not in page.content() and "8,600,000" not in page.content()
    fits_the_phone(page)

    # The receipt PDF, fetched with the browser's session.
    href = page.locator("[data-testid=receipt-pdf]").get_attribute("href")
    receipt = page.request.get(f"{base}{href}")
    assert receipt.ok and receipt.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt.body())).pages)
    assert bid.receipt_sha256 in re.sub(r"\s", "", text)

    # The lot page counts down to the deadline on the server's clock, then reloads itself: the lot is
    # awaiting its opening, which only the clock performs (reads never write). The test plays the
    # `run_clock` process; the waiting page refreshes itself and shows the decryption panel.
    page.goto(f"{base}/bidding/lots/{lot.pk}/")
    deadline_ms = int(project.bid_deadline.timestamp() * 1000)
    wait_until(
        page,
        f"window.BidhallClock.now() >= {deadline_ms}",
        timeout=(LEAD.seconds + 30) * 1000,
    )
    page.locator("[data-testid=awaiting-opening]").wait_for(timeout=15_000)
    assert not Opening.objects.filter(lot=lot).exists()
    assert run_due() >= 1
    panel = page.locator("[data-testid=decrypt-panel]")
    panel.wait_for(timeout=20_000)
    assert Opening.objects.get(lot=lot).stage == Opening.Stage.DECRYPTING

    # A wrong code first, then the right one.
    panel.locator("input[name=decryption_code]").fill("not-the-code")
    panel.locator("[data-testid=decrypt]").click()
    assert page.locator("[data-testid=error]").get_attribute("data-code") == "WRONG_CODE"
    page.locator("#decrypt-form input[name=decryption_code]").fill(CODE)
    page.locator("#decrypt-form [data-testid=decrypt]").click()
    page.wait_for_url(f"{base}/bidding/lots/{lot.pk}/")
    assert page.locator("[data-testid=my-price]").inner_text() == "8,600,000.00"

    # The other bidders decrypt (through the services); the record is published at once.
    for user in (other_supplier, third):
        services.decrypt_bid(
            Actor.for_user(user),
            Bid.objects.get(lot=lot, organization=user.organization),
            decryption_code=CODE,
        )
    opening = Opening.objects.get(lot=lot)
    assert opening.stage == Opening.Stage.OPENED
    page.reload()
    page.locator("[data-testid=record-link]").click()
    page.wait_for_url(f"{base}/bidding/lots/{lot.pk}/record/")
    prices = page.locator("[data-testid=record-price]").all_inner_texts()
    assert sorted(prices) == ["8,600,000.00", "8,650,000.00", "8,700,000.00"]
    assert page.locator("[data-testid=record-sha]").inner_text() == opening.record_sha256
    fits_the_phone(page)
    page.locator("#respond-form [data-testid=respond]").click()
    page.wait_for_url(f"{base}/bidding/lots/{lot.pk}/record/")
    assert "已确认开标记录无误" in page.locator("[data-testid=my-response]").inner_text()
