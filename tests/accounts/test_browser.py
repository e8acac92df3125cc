"""The pages people use, in a real browser: logging in, the home page per role, English, a phone."""

from __future__ import annotations

import pytest

from tests.browser import chinese_page, log_in, needs_chromium, wait_until

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_a_supplier_logs_in_and_sees_its_trading_home(browser, daphne_url, supplier):
    page = chinese_page(browser)
    log_in(page, daphne_url, "supplier")
    assert page.locator("h1").inner_text().startswith("您好")
    assert "甲建设公司" in page.content()
    assert page.locator(".badge.good").inner_text() == "良好"
    # The server clock in the header ticks in Beijing time.
    # The header clock shows Beijing time, synchronised with the server over /ws/clock/.
    wait_until(page, "document.querySelector('[data-server-clock]').textContent !== '--:--:--'")
    wait_until(page, "window.BidhallClock.synced()", timeout=10_000)


def test_a_wrong_password_shows_an_error(browser, daphne_url, supplier):
    page = chinese_page(browser)
    page.goto(f"{daphne_url}/accounts/login/")
    page.fill("input[name=username]", "supplier")
    page.fill("input[name=password]", "wrong")
    page.click("form.stack button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "用户名或密码不正确。"


def test_switching_to_english_and_back(browser, daphne_url, staff):
    page = chinese_page(browser)
    log_in(page, daphne_url, "staff")
    page.click("form.lang button[value=en]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text().startswith("Hello")
    page.click("form.lang button[value=zh-hans]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-hans"


def test_the_supervisor_home_fits_a_phone(browser, daphne_url, supervisor, staff):
    page = chinese_page(browser, viewport=PHONE)
    log_in(page, daphne_url, "supervisor")
    assert "审计链" in page.content()
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the phone"
    # The menu folds behind a toggle on a phone and opens on tap.
    assert not page.locator("nav.nav").is_visible()
    page.click("label.nav-toggle-label")
    assert page.locator("nav.nav").is_visible()
