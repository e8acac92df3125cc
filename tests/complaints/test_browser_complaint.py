"""A complaint in a real browser on daphne, on a phone: the supplier whose 质疑 was answered files a
complaint from the project page, the supervisor accepts it and decides, and the supplier reads the
decision — every page within the phone's width, under the Content-Security-Policy."""

from __future__ import annotations

import re
from typing import Any

import pytest

from accounts.actors import Actor
from complaints import services as complaints
from complaints.models import Complaint
from tests.browser import chinese_page, fits_the_phone, log_in, needs_chromium, wait_until
from tests.trading.factories import published
from trading import services as trading

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
GP_LOTS = [
    {
        "name": "教学设备",
        "estimate": "1000000.00",
        "deposit_amount": "10000.00",
        "deposit_forms": [],
    }
]


def test_a_supplier_files_and_the_supervisor_decides_on_a_phone(
    browser, daphne_url, agent, staff, supervisor, supplier
):
    base = daphne_url
    project = published(agent, staff, kind="gp", category="goods", lots=GP_LOTS)
    objection = trading.raise_objection(
        Actor.for_user(supplier), project, text="技术参数指向特定品牌"
    )
    trading.reply_objection(Actor.for_user(agent), objection, reply="参数系通用要求")

    # The supplier goes from the project page to the complaint form and files.
    filer: Any = chinese_page(browser, viewport=PHONE)
    log_in(filer, base, "supplier")
    filer.goto(f"{base}/projects/{project.pk}/")
    filer.locator("[data-testid=complain-link]").click()
    filer.wait_for_url(f"{base}/complaints/new/?project={project.pk}")
    prior = filer.locator(f"[data-testid=prior][data-key='o-{objection.pk}']")
    assert "可在" in prior.locator("[data-testid=window]").inner_text()
    fits_the_phone(filer)
    prior.locator("input[type=radio]").check()
    filer.locator("textarea[name=facts]").fill("采购文件技术参数指向单一品牌。")
    filer.locator("textarea[name=claims]").fill("责令修改采购文件。")
    filer.locator("[data-testid=file-complaint]").click()
    filer.wait_for_url(re.compile(r".*/complaints/\d+/$"))
    complaint = Complaint.objects.get()
    assert "投诉已提交" in filer.locator("ul.messages").inner_text()
    filer.wait_for_selector("[data-testid=complaint-status][data-status=filed]")
    fits_the_phone(filer)

    # The supervisor finds it in the list, sees the acceptance deadline run, and accepts.
    boss: Any = chinese_page(browser, viewport=PHONE)
    log_in(boss, base, "supervisor")
    boss.goto(f"{base}/complaints/")
    fits_the_phone(boss)
    boss.locator(f"[data-testid=complaint][data-id='{complaint.pk}'] h2 a").click()
    boss.wait_for_url(f"{base}/complaints/{complaint.pk}/")
    wait_until(
        boss,
        "document.querySelector('[data-testid=acceptance-countdown]').textContent.includes('d ')",
    )
    boss.locator("[data-testid=accept]").click()
    boss.wait_for_selector("[data-testid=complaint-status][data-status=accepted]")
    assert boss.locator("[data-testid=decision-countdown]").count() == 1
    fits_the_phone(boss)

    # The respondent's written explanation arrives (through its service), then the decision.
    explanation = Complaint.objects.get().requests.get()
    complaints.answer_request(Actor.for_user(agent), explanation, answer="参数有多家品牌满足。")
    boss.reload()
    assert "参数有多家品牌满足。" in boss.locator("#requests").inner_text()
    boss.locator("[data-testid=decide-section] summary").click()
    decide = boss.locator("#decide-form")
    decide.locator("select[name=decide-outcome]").select_option("dismissed")
    decide.locator("textarea[name=decide-decision]").fill("投诉事项缺乏事实依据，驳回投诉。")
    fits_the_phone(boss)
    decide.locator("[data-testid=decide]").click()
    boss.wait_for_selector("[data-testid=complaint-status][data-status=decided]")
    assert "处理决定已作出" in boss.locator("ul.messages").inner_text()

    # The supplier reads the decision.
    filer.reload()
    filer.wait_for_selector("[data-testid=complaint-status][data-status=decided]")
    decision = filer.locator("[data-testid=decision]").inner_text()
    assert "驳回投诉" in decision and "投诉事项缺乏事实依据" in decision
    steps = filer.locator("[data-testid=step]")
    assert steps.first.get_attribute("data-kind") == "filed"
    assert steps.last.get_attribute("data-kind") == "decided"
    fits_the_phone(filer)
