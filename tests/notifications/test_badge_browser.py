"""The header's unread badge updates live (no reload) while the page is open, over the page's
server-clock socket served by daphne: a notice created for the signed-in user (its registration confirmed,
done in a second tab) raises it, and reading them all lowers it."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from tests.browser import chinese_page, fits_the_phone, log_in, needs_chromium, wait_until
from tests.trading.factories import published

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]

BADGE = "document.querySelector('[data-unread-badge]')"


def badge_is(page, count: int) -> None:
    wait_until(page, f"{BADGE}.textContent.trim() === '{count}'")


def test_the_badge_follows_the_unread_count_without_a_reload(
    browser, daphne_url, agent, staff, supplier
):
    project = published(agent, staff, start=timezone.now())
    home: Any = chinese_page(browser, viewport={"width": 390, "height": 844})
    log_in(home, daphne_url, supplier.username)
    assert home.locator("[data-testid=todo]").is_visible()
    assert home.evaluate(f"{BADGE}.textContent.trim()") == "0"
    home.evaluate("window.__sameDocument = true")
    # The socket greets a signed-in page with the count; wait until it is open and synced.
    wait_until(home, "window.BidhallClock && window.BidhallClock.synced()")

    # A second tab of the same session registers for the lot: registration.confirmed is notified.
    other = home.context.new_page()
    other.goto(f"{daphne_url}/projects/{project.pk}/")
    form = other.locator("#register-form")
    form.locator("select[name=lot]").select_option(str(project.lots.get().pk))
    for name, value in (("contact_name", "张三"), ("contact_phone", "13800000000")):
        if form.locator(f"[name={name}]").count():
            form.locator(f"[name={name}]").fill(value)
    form.locator("button[type=submit]").click()
    other.wait_for_load_state()

    badge_is(home, 1)
    assert home.evaluate("window.__sameDocument") is True  # the same page: no reload
    assert home.evaluate(f"!{BADGE}.classList.contains('empty')")

    # Reading them all (on the inbox, in the other tab) empties the badge on the first one too.
    other.goto(f"{daphne_url}/notifications/")
    other.locator("form[action='/notifications/read/'] button[type=submit]").click()
    badge_is(home, 0)
    assert home.evaluate(f"{BADGE}.classList.contains('empty')")
    assert home.evaluate("window.__sameDocument") is True
    fits_the_phone(home)
