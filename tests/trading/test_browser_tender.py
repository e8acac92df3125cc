"""A tender from draft to the public portal, in a real browser on daphne: the agent drafts and submits,
the center approves, the agent publishes, amends and answers a question, and the public reads the notice
with its version history — on a phone-sized screen for the public pages."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Organization
from tests.browser import chinese_page, log_in, needs_chromium, wait_until
from tests.conftest import make_org
from trading import services
from trading.models import Announcement, Project

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
BEIJING = ZoneInfo("Asia/Shanghai")


def local_input(moment: dt.datetime) -> str:
    """What a person in Beijing types into <input type="datetime-local">."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M")


def fits_the_phone(page) -> None:
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the phone"


def test_a_tender_goes_from_draft_to_the_public_portal(browser, daphne_url, agent, staff, supplier):
    owner = make_org(Organization.Kind.OWNER, "珠海市教育局")
    base = daphne_url
    # Whole minutes in the future, so the typed times are exactly the stored ones.
    start = (timezone.now() + dt.timedelta(hours=1)).replace(second=0, microsecond=0)

    # The agent drafts a project with one lot and submits it to the center.
    agent_page = chinese_page(browser)
    log_in(agent_page, base, "agent")
    agent_page.locator("nav.nav a[href='/projects/']").click()
    agent_page.wait_for_url(f"{base}/projects/")
    agent_page.locator("[data-testid=new-project]").click()
    agent_page.wait_for_url(f"{base}/projects/new/")
    form = agent_page.locator("#project-form")
    form.locator("select[name=owner]").select_option(str(owner.pk))
    form.locator("input[name=title]").fill("珠海市香洲区第三小学改扩建工程")
    form.locator("textarea[name=description]").fill("改扩建教学楼一栋。")
    form.locator("input[name=documents_from]").fill(local_input(start))
    form.locator("input[name=documents_until]").fill(local_input(start + dt.timedelta(days=7)))
    form.locator("input[name=questions_until]").fill(local_input(start + dt.timedelta(days=9)))
    form.locator("input[name=bid_deadline]").fill(local_input(start + dt.timedelta(days=25)))
    form.locator("input[name=lots-0-name]").fill("施工总承包")
    form.locator("input[name=lots-0-estimate]").fill("20000000.00")
    form.locator("input[name=lots-0-ceiling_price]").fill("19500000.00")
    form.locator("input[name=lots-0-deposit_amount]").fill("400000.00")
    form.locator("input[name=lots-0-deposit_forms][value=bank_guarantee]").check()
    form.locator("[data-testid=save-project]").click()
    agent_page.wait_for_url(re.compile(r".*/projects/\d+/$"))
    project = Project.objects.get()
    assert project.bid_deadline == start + dt.timedelta(days=25)
    agent_page.locator("[data-testid=submit-project]").click()
    agent_page.wait_for_selector("[data-testid=project-status][data-status=submitted]")

    # The center approves it from the review queue.
    staff_page = chinese_page(browser)
    log_in(staff_page, base, "staff")
    staff_page.goto(f"{base}/review/")
    item = staff_page.locator(f"[data-testid=review-item][data-id='{project.pk}']")
    item.locator("[data-testid=approve]").click()
    staff_page.wait_for_url(f"{base}/review/")
    assert "已同意进场" in staff_page.locator("ul.messages").inner_text()

    # The agent publishes, then amends (the deadline is far enough away to stay where it is).
    agent_page.goto(f"{base}/projects/{project.pk}/")
    agent_page.locator("[data-testid=publish-project]").click()
    agent_page.wait_for_selector("[data-testid=project-status][data-status=published]")
    agent_page.locator("[data-testid=amend-project]").click()
    agent_page.wait_for_url(f"{base}/projects/{project.pk}/amend/")
    amend = agent_page.locator("#amend-form")
    amend.locator("input[name=title]").fill("关于工期的变更")
    amend.locator("textarea[name=body]").fill("工期由 365 日历天调整为 300 日历天。")
    amend.locator("[data-testid=publish-amendment]").click()
    agent_page.wait_for_url(f"{base}/projects/{project.pk}/")
    notices = agent_page.locator("ul.messages").inner_text()
    assert "变更公告已发布" in notices
    assert "投标截止时间不变" in notices

    # A supplier asks (through the service); the agent answers on the project page.
    question = services.ask_question(
        Actor.for_user(supplier), Project.objects.get(), text="是否接受联合体投标？"
    )
    agent_page.reload()
    answer = agent_page.locator(f"#answer-form-{question.pk}")
    answer.locator("textarea").fill("不接受联合体投标。")
    answer.locator("[data-testid=answer-question]").click()
    agent_page.wait_for_url(f"{base}/projects/{project.pk}/")
    assert "已答复" in agent_page.locator("ul.messages").inner_text()
    assert "不接受联合体投标。" in agent_page.locator("#questions").inner_text()

    # The public, on a phone, finds the notice and reads its version history.
    public = chinese_page(browser, viewport=PHONE)
    public.goto(f"{base}/portal/")
    fits_the_phone(public)
    tender = Announcement.objects.get(project=project, kind="tender")
    public.locator(f"[data-testid=announcement][data-id='{tender.pk}'] h2 a").click()
    public.wait_for_url(f"{base}/portal/announcements/{tender.pk}/")
    assert "珠海市香洲区第三小学改扩建工程" in public.locator("h1").inner_text()
    versions = public.locator("[data-testid=version]")
    assert versions.count() == 2
    assert "变更：关于工期的变更" in public.locator("[data-testid=versions]").inner_text()
    assert "19,500,000.00" in public.locator("[data-testid=lots]").inner_text()
    # The countdown to the bid deadline runs from the server clock.
    wait_until(
        public, "document.querySelector('[data-testid=countdown]').textContent.includes('d ')"
    )
    fits_the_phone(public)
    # Each version verifies publicly.
    public.locator("[data-testid=version][data-number='2'] >> text=核验").click()
    public.wait_for_url(f"{base}/portal/announcements/{tender.pk}/v/2/")
    assert public.locator("[data-testid=verdict]").inner_text().startswith("一致")
    fits_the_phone(public)
