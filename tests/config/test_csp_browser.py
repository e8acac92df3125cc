"""The Content-Security-Policy in a real browser: every main page loads under it with nothing refused
(no inline script, handler or style left behind) and still works — the clock ticks, the bid room's
socket connects, the API docs render, forms submit and the project form's script adds a lot row."""

from __future__ import annotations

import pytest

from tests.bidding.auction_world import live_auction, make_world
from tests.browser import chinese_page, log_in, needs_chromium, wait_until

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]

# Runs before any page script (Playwright injects it outside the page's policy) and keeps every
# violation the page reports.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


def watched_page(browser):
    page = chinese_page(browser)
    page.context.add_init_script(RECORD_VIOLATIONS)
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text)
            if "Content Security Policy" in message.text or message.text.startswith("Refused to")
            else None
        ),
    )
    return page, refused


def visit(page, refused: list[str], url: str, status: int = 200) -> None:
    response = page.goto(url)
    assert response.status == status, url
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, url
    page.wait_for_load_state("networkidle")
    assert_nothing_refused(page, refused, url)


def assert_nothing_refused(page, refused: list[str], url: str) -> None:
    violations = page.evaluate("window.__cspViolations")
    assert violations == [] and refused == [], f"{url}: {violations} {refused}"


def clock_ticks(page) -> None:
    wait_until(
        page,
        "/\\d\\d:\\d\\d:\\d\\d/.test(document.querySelector('[data-server-clock]').textContent)",
    )


def test_the_main_pages_run_under_the_policy(browser, daphne_url, agent, staff, supervisor):
    base = daphne_url
    world = make_world(agent, staff, bidders=1, with_auction=False)
    bidder = world.bidders[0]
    auction = live_auction(world, starts_in=600)

    public, refused = watched_page(browser)
    visit(public, refused, f"{base}/portal/")
    clock_ticks(public)
    visit(public, refused, f"{base}/projects/{world.project.pk}/")
    visit(public, refused, f"{base}/accounts/login/")
    # Error pages are pages too: styled from a file, nothing inline.
    visit(public, refused, f"{base}/portal/announcements/999999/", status=404)
    assert public.locator("[data-testid=error]").get_attribute("data-code") == "NOT_FOUND"
    # The login form submits under form-action 'self'.
    log_in(public, base, bidder.username)
    assert_nothing_refused(public, refused, "login")

    visit(public, refused, f"{base}/deposits/")
    visit(public, refused, f"{base}/bidding/auctions/{auction.pk}/")
    # The room's script ran and its socket (connect-src 'self', ws: on the same host) connected.
    public.wait_for_selector("[data-testid=room][data-ready='1']", timeout=15_000)
    assert_nothing_refused(public, refused, "auction room")

    visit(public, refused, f"{base}/api/v1/docs/")
    # Swagger UI's bundle and its init script (the split view's ?script URL) ran.
    public.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    assert_nothing_refused(public, refused, "API docs")

    watcher, refused = watched_page(browser)
    log_in(watcher, base, supervisor.username)
    visit(watcher, refused, f"{base}/supervision/")
    watcher.wait_for_selector("[data-ready='1']", timeout=15_000)
    clock_ticks(watcher)
    assert_nothing_refused(watcher, refused, "supervision")

    author, refused = watched_page(browser)
    log_in(author, base, agent.username)
    visit(author, refused, f"{base}/projects/new/")
    rows = author.locator("[data-testid=lot-row]").count()
    author.click("#add-lot")
    assert author.locator("[data-testid=lot-row]").count() == rows + 1
    assert_nothing_refused(author, refused, "project form")
