"""An electronic guarantee on a phone: the bidder gets one from the simulated bank, files the file it
downloaded, and sees it verified by its signature and itself qualified."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from accounts.actors import Actor
from deposits.models import Guarantee
from tests.browser import chinese_page, log_in, needs_chromium
from tests.deposits.test_browser_deposit import PHONE, no_overflow
from tests.trading.factories import published
from trading import services as trading

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _simulator(settings):
    # Set before daphne starts: its process is forked with these settings.
    settings.CA_SIMULATOR = True


def test_a_bidder_files_a_simulated_electronic_guarantee_on_a_phone(
    browser, daphne_url, agent, staff, supplier, tmp_path
):
    project = published(agent, staff, start=timezone.now())
    lot = project.lots.get()
    trading.register(Actor.for_user(supplier), lot)

    phone: Any = chinese_page(browser, viewport=PHONE)
    log_in(phone, daphne_url, "supplier")
    phone.goto(f"{daphne_url}/deposits/")
    phone.click("[data-testid=eguarantee] summary")
    no_overflow(phone)
    with phone.expect_download() as issued:
        phone.click("[data-testid=eguarantee-simulator] button[type=submit]")
    document = tmp_path / "eguarantee.json"
    issued.value.save_as(document)
    phone.set_input_files("[data-testid=eguarantee-form] input[type=file]", str(document))
    phone.click("[data-testid=eguarantee-form] button[type=submit]")
    phone.wait_for_selector(".messages .success")
    assert "验签通过" in phone.locator(".messages").inner_text()
    assert phone.locator("[data-testid=qualification]").inner_text() == "已足额"
    no_overflow(phone)
    guarantee = Guarantee.objects.get()
    assert (guarantee.status, guarantee.electronic) == (Guarantee.Status.VERIFIED, True)
