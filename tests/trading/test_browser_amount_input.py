"""Amounts typed the way a person in China types them (an IME left in full-width mode, thousands
separators, the ideographic full stop): the page says exactly what it will send, sends the plain
digits, and the strict server accepts them. The server itself never reads full-width digits (see the
refusal tests); only the page helps (static/js/amount-input.js)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
from django.utils import timezone

from accounts.models import Organization
from tests.browser import chinese_page, log_in, needs_chromium
from tests.conftest import make_org
from tests.trading.test_browser_tender import local_input
from trading.models import Project

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]


def preview(page, name: str):
    return page.locator(f"#id_{name}-amount-preview")


def test_full_width_amounts_are_normalized_shown_and_accepted(browser, daphne_url, agent):
    owner = make_org(Organization.Kind.OWNER, "珠海市教育局")
    base = daphne_url
    start = (timezone.now() + dt.timedelta(hours=1)).replace(second=0, microsecond=0)
    page = chinese_page(browser)
    log_in(page, base, "agent")
    page.goto(f"{base}/projects/new/")
    form = page.locator("#project-form")
    form.locator("select[name=owner]").select_option(str(owner.pk))
    form.locator("input[name=title]").fill("珠海市香洲区第三小学改扩建工程")
    form.locator("input[name=documents_from]").fill(local_input(start))
    form.locator("input[name=documents_until]").fill(local_input(start + dt.timedelta(days=7)))
    form.locator("input[name=questions_until]").fill(local_input(start + dt.timedelta(days=9)))
    form.locator("input[name=bid_deadline]").fill(local_input(start + dt.timedelta(days=25)))
    form.locator("input[name=lots-0-name]").fill("施工总承包")

    # Typed key by key, as an IME in full-width mode produces it.
    estimate = form.locator("input[name=lots-0-estimate]")
    estimate.press_sequentially("２０，０００，０００。５")
    assert preview(page, "lots-0-estimate").inner_text() == "将提交：20000000.5"
    # Not yet an amount: the page says so (and would send it as typed, for the server to refuse).
    ceiling = form.locator("input[name=lots-0-ceiling_price]")
    ceiling.fill("19500000.005")
    line = preview(page, "lots-0-ceiling_price")
    assert "无法识别为金额" in line.inner_text()
    assert "invalid" in line.get_attribute("class")
    ceiling.fill("１９ ５００ ０００")
    assert line.inner_text() == "将提交：19500000"
    assert "invalid" not in line.get_attribute("class")
    form.locator("input[name=lots-0-deposit_amount]").fill("٤٠٠٠٠٠")
    assert preview(page, "lots-0-deposit_amount").inner_text() == "将提交：400000"
    form.locator("input[name=lots-0-deposit_forms][value=bank_guarantee]").check()

    with page.expect_request(lambda r: r.method == "POST" and "/projects/new/" in r.url) as sent:
        form.locator("[data-testid=save-project]").click()
    posted = parse_qs(sent.value.post_data)
    assert posted["lots-0-estimate"] == ["20000000.5"]
    assert posted["lots-0-ceiling_price"] == ["19500000"]
    assert posted["lots-0-deposit_amount"] == ["400000"]
    page.wait_for_url(re.compile(r".*/projects/\d+/$"))
    lot = Project.objects.get().lots.get()
    assert (lot.estimate, lot.ceiling_price, lot.deposit_amount) == (
        Decimal("20000000.50"),
        Decimal("19500000.00"),
        Decimal("400000.00"),
    )

    # The helper is one script for every page; others (a live room) may call it too.
    assert page.evaluate("BidhallAmount.normalize('１，２３４．５６')") == {
        "text": "1234.56",
        "valid": True,
    }
    assert page.evaluate("BidhallAmount.normalize('1e3').valid") is False
