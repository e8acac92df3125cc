"""A supervised expert draw in a real browser on daphne: center staff request a committee and commit to a
seed, then run the draw; the supervisor (on a phone) reads the seed hash, signs off and sees the
verification say OK; the drawn expert logs in, sees the countdown to the evaluation and confirms."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from experts.models import DrawnExpert, DrawRequest, Expert
from tests.browser import chinese_page, log_in, needs_chromium, wait_until
from tests.experts.helpers import pool
from tests.trading.factories import published

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
BEIJING = ZoneInfo("Asia/Shanghai")


def fits_the_phone(page) -> None:
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the phone"


def test_a_supervised_draw_from_request_to_the_experts_confirmation(
    browser, daphne_url, staff, supervisor, agent, expert
):
    base = daphne_url
    project = published(agent, staff)
    pool(staff, count=10)
    evaluation = (timezone.now() + dt.timedelta(days=30)).astimezone(BEIJING)
    evaluation = evaluation.replace(hour=9, minute=30, second=0, microsecond=0)

    # Staff request the committee: five A0801 experts, two alternates, the supervisor designated.
    staff_page = chinese_page(browser)
    log_in(staff_page, base, "staff")
    staff_page.goto(f"{base}/experts/draws/new/?project={project.pk}")
    form = staff_page.locator("#draw-form")
    assert form.locator("select[name=project]").input_value() == str(project.pk)
    form.locator("input[name=committee_size]").fill("5")
    form.locator("select[name=quotas-0-specialty]").select_option("A0801")
    form.locator("input[name=quotas-0-count]").fill("5")
    form.locator("input[name=evaluation_at]").fill(evaluation.strftime("%Y-%m-%dT%H:%M"))
    form.locator("select[name=supervisor]").select_option(str(supervisor.pk))
    form.locator("[data-testid=commit-draw]").click()
    staff_page.wait_for_url(re.compile(r".*/experts/draws/\d+/$"))
    draw = DrawRequest.objects.get()
    assert draw.evaluation_at == evaluation and draw.supervisor == supervisor
    assert staff_page.locator("[data-testid=seed-hash]").inner_text() == draw.seed_hash
    assert "请现场监督人员记录种子哈希" in staff_page.content()

    # The supervisor present writes the seed hash down before the draw runs.
    supervisor_page = chinese_page(browser, viewport=PHONE)
    log_in(supervisor_page, base, "supervisor")
    supervisor_page.goto(f"{base}/experts/draws/{draw.pk}/")
    recorded_hash = supervisor_page.locator("[data-testid=seed-hash]").inner_text()
    assert recorded_hash == draw.seed_hash
    assert supervisor_page.locator("[data-testid=run-draw]").count() == 0

    staff_page.locator("[data-testid=run-draw]").click()
    staff_page.wait_for_selector("[data-testid=revealed-seed]")
    assert staff_page.locator("[data-testid=drawn-row]").count() == 7
    draw.refresh_from_db()
    assert draw.status == "drawn"

    # The supervisor finds it waiting, signs off, and the verification recomputes it: OK.
    supervisor_page.goto(f"{base}/experts/draws/")
    supervisor_page.locator("[data-testid=awaiting-sign-off] a").first.click()
    supervisor_page.wait_for_url(f"{base}/experts/draws/{draw.pk}/")
    assert supervisor_page.locator("[data-testid=seed-hash]").inner_text() == recorded_hash
    fits_the_phone(supervisor_page)
    supervisor_page.locator("[data-testid=sign-off]").click()
    supervisor_page.wait_for_selector("[data-testid=draw-status]:has-text('监督已确认')")
    assert supervisor_page.locator("[data-testid=verify-result]").inner_text() == "OK"
    assert supervisor_page.locator("[data-testid=exclusions]").count() == 1
    fits_the_phone(supervisor_page)
    draw.refresh_from_db()
    assert draw.status == "signed_off"

    # The expert login belongs to the first seated member (linked after the draw, as the demo does).
    seat = DrawnExpert.objects.filter(draw=draw, seated=True).order_by("quota", "position").first()
    Expert.objects.filter(pk=seat.expert_id).update(user=expert)
    expert_page = chinese_page(browser, viewport=PHONE)
    log_in(expert_page, base, "expert")
    expert_page.goto(f"{base}/experts/tasks/")
    card = expert_page.locator(f"[data-testid=seat][data-id='{seat.pk}']")
    assert project.title in card.inner_text()
    wait_until(
        expert_page, "document.querySelector('[data-testid=countdown]').textContent !== '--:--:--'"
    )
    assert re.match(r"^\d+d \d\d:\d\d:\d\d$", card.locator("[data-testid=countdown]").inner_text())
    fits_the_phone(expert_page)
    card.locator("[data-testid=confirm]").click()
    expert_page.wait_for_selector("[data-testid=seat-response]:has-text('已确认参加')")
    seat.refresh_from_db()
    assert seat.response == "confirmed"
