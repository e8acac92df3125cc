"""A deposit from payment to refund in a real browser: staff pay into a bidder's sub-account at the
simulated bank, the bidder sees itself qualified (on a phone), staff schedule the refund, send the
batch and confirm it at the bank, and the bidder sees the money refunded."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from accounts.actors import Actor
from deposits import services
from deposits.models import Deposit, Refund
from tests.browser import chinese_page, log_in, needs_chromium, wait_until
from tests.trading.factories import published
from trading import services as trading

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def _simulator(settings):
    # Set before daphne starts: its process is forked with these settings.
    settings.DEPOSIT_BANK_SIMULATOR = True


def no_overflow(page) -> None:
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the phone"


def test_a_deposit_paid_at_the_bank_qualifies_and_is_refunded(
    browser, daphne_url, agent, staff, supplier
):
    # A tender whose documents (and registration) are open now, in real time: the daphne process
    # runs on the real clock.
    project = published(agent, staff, start=timezone.now())
    lot = project.lots.get()
    trading.register(Actor.for_user(supplier), lot)
    account = services.open_sub_account(Actor.for_user(supplier), lot)

    # Staff pay the lot's deposit into the bidder's sub-account at the simulated bank.
    desk = chinese_page(browser)
    log_in(desk, daphne_url, "staff")
    desk.goto(f"{daphne_url}/deposits/simulator/")
    assert "模拟银行" in desk.locator("[data-testid=demo-banner]").inner_text()
    desk.click(f"[data-testid=prefill][data-account='{account.number}']")
    assert desk.input_value("input[name=account_number]") == account.number
    assert desk.input_value("input[name=payer_name]") == "甲建设公司"
    desk.click("[data-testid=pay]")
    desk.wait_for_selector("[data-testid=result][data-outcome=credited]")
    assert "款项已入投标人子账户" in desk.locator(".messages").inner_text()

    # The bidder, on a phone, sees its deposit and that it is qualified.
    phone = chinese_page(browser, viewport=PHONE)
    log_in(phone, daphne_url, "supplier")
    phone.goto(f"{daphne_url}/deposits/")
    assert phone.locator("[data-testid=qualification]").inner_text() == "已足额"
    assert account.number in phone.locator("[data-testid=sub-account]").inner_text()
    assert phone.locator("[data-testid=deposit-status]").inner_text() == "在托管"
    no_overflow(phone)

    # Staff schedule the refund (the bidder withdrew before the deadline).
    deposit = Deposit.objects.get(account=account)
    desk.goto(f"{daphne_url}/deposits/{deposit.pk}/")
    desk.select_option("[data-testid=schedule-refund] select[name=reason]", "withdrawal")
    desk.click("[data-testid=schedule-refund] button[type=submit]")
    desk.wait_for_selector(".messages .success")
    refund = Refund.objects.get(deposit=deposit)

    # The bidder sees the refund counting down to its due date on the server's clock.
    phone.reload()
    assert phone.locator("[data-testid=refund-status]").inner_text() == "待发送"
    countdown = phone.locator("[data-testid=refunds] [data-countdown-to]")
    wait_until(
        phone,
        "document.querySelector('[data-testid=refunds] [data-countdown-to]').textContent"
        " !== '--:--:--'",
    )
    assert re.fullmatch(r"4d \d\d:\d\d:\d\d", countdown.inner_text())
    no_overflow(phone)

    # Staff send the refund batch to the bank, and the bank confirms it paid.
    desk.goto(f"{daphne_url}/deposits/custody/")
    desk.click("[data-testid=create-batch] button[type=submit]")
    desk.wait_for_selector("[data-testid=batch-csv]")
    desk.goto(f"{daphne_url}/deposits/simulator/")
    desk.click(f"tr[data-refund='{refund.pk}'] [data-testid=confirm-paid]")
    desk.wait_for_selector(".messages .success")
    assert "已付" in desk.locator(".messages").inner_text()

    # The bidder sees the money refunded, and its qualification gone with it.
    phone.reload()
    assert phone.locator("[data-testid=deposit-status]").inner_text() == "已退还"
    assert phone.locator("[data-testid=refund-status]").inner_text() == "已到账"
    assert phone.locator("[data-testid=qualification]").inner_text() == "未缴纳"
    refund.refresh_from_db()
    assert refund.status == Refund.Status.PAID
