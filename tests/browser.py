"""Playwright on Debian's chromium (/usr/bin/chromium). Playwright's own browser download is never used.

Tests marked `browser` skip when chromium is not installed (a bare machine); CI installs it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # The machines have no network beyond localhost: stop chromium reaching out at start.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="chromium is not installed"
)


@pytest.fixture
def browser() -> Iterator[object]:
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test
    # itself (creating personas) are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def daphne_url(transactional_db: object) -> Iterator[str]:
    """The real ASGI application (HTTP and WebSockets) served by daphne in a child process, on the
    test database — what Channels' ChannelsLiveServerTestCase does, as a pytest fixture."""
    from functools import partial

    from channels.testing.live import make_application
    from daphne.testing import DaphneProcess
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.db import connection

    process = DaphneProcess(
        "localhost",
        partial(make_application, static_wrapper=ASGIStaticFilesHandler),
        # The child must use the test database the parent is on. (Channels' own helper prefixes "test_"
        # again on PostgreSQL, where the parent's settings already name the test database.)
        setup=partial(use_database, connection.settings_dict["NAME"]),
    )
    process.start()
    if not process.ready.wait(timeout=30):
        process.terminate()
        raise RuntimeError("daphne did not start")
    try:
        yield f"http://localhost:{process.port.value}"
    finally:
        process.terminate()
        process.join(10)


def use_database(name: str) -> None:
    """Runs in the forked daphne child: point it at the test database and forget what the parent's
    threads and loops left behind (a forked ThreadPoolExecutor still believes in the parent's worker
    thread and would never run anything)."""
    from concurrent.futures import ThreadPoolExecutor

    from asgiref.sync import SyncToAsync
    from django.conf import settings

    from bidding.auction import broadcast, hub

    settings.DATABASES["default"]["NAME"] = name
    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)
    hub._hubs.clear()
    broadcast.set_local_hub(None, None)


def chinese_page(browser: object, **context_options: object) -> object:
    """A page as a user in China sees it (browser language zh-CN)."""
    return browser.new_context(locale="zh-CN", **context_options).new_page()


def wait_until(
    page, expression: str, arg: object = None, timeout: float = 30_000, interval: float = 0.1
) -> object:
    """Polls `expression` (a JavaScript expression or function, given `arg`) until it is truthy.

    Playwright's own `wait_for_function` compiles its predicate inside the page, which the
    Content-Security-Policy refuses (no 'unsafe-eval'); `page.evaluate` runs through the DevTools
    protocol, so the pages are tested under the policy they are served with.
    """
    import time

    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(expression, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout / 1000:.0f} s: {expression}")
        page.wait_for_timeout(interval * 1000)


def log_in(page, base: str, username: str) -> None:
    """Log in through the real login form (every demo and test persona shares one password)."""
    from tests.conftest import PASSWORD

    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{base}/")


def fits_the_phone(page) -> None:
    """Nothing on the page is wider than the phone's screen (names the elements that are)."""
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    wide = page.evaluate(
        "Array.from(document.querySelectorAll('body *'))"
        ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
        ".map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
        ".slice(0, 12)"
    )
    assert overflow <= 0, f"page is {overflow}px wider than the phone: {wide}"
