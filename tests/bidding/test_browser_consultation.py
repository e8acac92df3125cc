"""A 竞争性磋商 (competitive consultation) from publication to award in real browsers on daphne: the
agent's project, a supplier's sealed response and its online decryption, center staff seating the
panel, a round that puts one supplier out, the call for final quotes, two suppliers quoting on phones
(375×667) with the server-clock countdown, the clock opening the quotes, the report ranked by the final
quotes, the candidates published and the award.

The daphne child process runs on the real clock (it cannot travel in time), so the project is
published in travelled time through the services with its response deadline seconds after the browser
steps begin (as tests/bidding/test_browser_bid.py does). The call for final quotes is made in the
browser with a minute-precision Beijing time some minutes ahead; then — the one shortcut, on the row
directly, as tests/bidding/test_browser_land.py does — its close is moved to a few seconds from now,
and the clock (`servers.running_clock`, as `run_clock` in production: pages only read) opens the
quotes. Steps without a page, or not the negotiation's, go through the services (each says so).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Organization, Role
from bidding import evaluation as ev
from bidding import negotiation, services
from bidding.models import Bid, Evaluation, FinalQuote, FinalQuoteCall, Opening, Publicity
from clock.services import schedule
from experts import services as experts
from experts.models import DrawnExpert, Expert
from lib.errors import present
from tests.bidding.servers import running_clock
from tests.browser import chinese_page, fits_the_phone, log_in, needs_chromium, wait_until
from tests.conftest import make_org, make_user
from tests.experts.helpers import pool
from tests.trading.factories import published
from trading import services as trading

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 667}
DESK = {"width": 1280, "height": 900}
BEIJING = ZoneInfo("Asia/Shanghai")
CODE = "browser-code-2026"
LEAD = dt.timedelta(seconds=40)  # to the response deadline: time to submit in the browser
CLOSES_IN = 6  # real seconds from the shortcut to the final quotes' close
FIRST = {"A": "900000.00", "B": "880000.00", "C": "910000.00", "D": "930000.00"}
TECHNICAL = {"A": Decimal("90"), "B": Decimal("80"), "C": Decimal("60")}
CHANGES = "交货期由 30 日调整为 45 日；增加两年免费质保。"


def local_input(moment: dt.datetime) -> str:
    """What a person in Beijing types into <input type="datetime-local">."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M")


def consultation_closing_soon(agent, staff, supervisor, suppliers):
    """A 竞争性磋商 of goods published 30 days ago (travelled), its responses closing LEAD from now
    (real time); the suppliers registered; a signed-off draw of five for the panel."""
    now = timezone.now()
    start = now - dt.timedelta(days=30)
    deadline = (now + LEAD).replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        project = published(
            agent,
            staff,
            start=start,
            kind="gp",
            category="goods",
            method="consultation",
            title="珠海市某中学实验室设备采购",
            lots=[
                {
                    "name": "实验室设备",
                    "estimate": "1000000.00",
                    "ceiling_price": "950000.00",
                    "deposit_amount": "0",
                }
            ],
            documents_from=start,
            documents_until=deadline,
            questions_until=deadline - dt.timedelta(days=1),
            bid_deadline=deadline,
        )
    lot = project.lots.get()
    with time_machine.travel(start + dt.timedelta(hours=1), tick=False):
        for user in suppliers.values():
            trading.register(Actor.for_user(user), lot)
    # The expert draw has pages of its own (tests/experts); here it goes through the services.
    pool(staff, count=10)
    draw = experts.commit_draw(
        Actor.for_user(staff),
        project,
        evaluation_at=deadline + dt.timedelta(minutes=1),
        committee_size=5,
        quotas=[{"specialty": "A08", "count": 5}],
        supervisor=supervisor,
    )
    experts.run_draw(Actor.for_user(staff), draw)
    experts.sign_off(Actor.for_user(supervisor), draw)
    members = []
    for i, seat in enumerate(DrawnExpert.objects.filter(draw=draw, seated=True)):
        user = make_user(f"panel{i}", Role.EXPERT, present(seat.expert.employer, "an employer"))
        Expert.objects.filter(pk=seat.expert_id).update(user=user)
        members.append(user)
    return project, lot, draw, members


def text(page: Any, testid: str) -> str:
    return str(page.locator(f"[data-testid={testid}]").inner_text())


def test_a_consultation_from_publication_to_award(browser, daphne_url, agent, staff, supervisor):
    base = daphne_url
    suppliers = {
        key: make_user(
            f"gp-{key.lower()}",
            Role.SUPPLIER,
            make_org(Organization.Kind.SUPPLIER, f"{key}设备公司"),
        )
        for key in FIRST
    }
    org = {
        key: present(user.organization, "a supplier's organization")
        for key, user in suppliers.items()
    }
    pages: dict[str, Any] = {
        "agent": chinese_page(browser, viewport=DESK),
        "staff": chinese_page(browser, viewport=DESK),
        "A": chinese_page(browser, viewport=PHONE),
        "B": chinese_page(browser, viewport=PHONE),
        "D": chinese_page(browser, viewport=PHONE),
    }
    for who, page in pages.items():
        log_in(page, base, who if who in ("agent", "staff") else suppliers[who].username)
    project, lot, draw, members = consultation_closing_soon(agent, staff, supervisor, suppliers)
    lot_url = f"{base}/bidding/lots/{lot.pk}/"
    evaluation_url = f"{lot_url}evaluation/"

    # The agent's project says what it is.
    agent_page = pages["agent"]
    agent_page.goto(f"{base}/projects/{project.pk}/")
    assert "竞争性磋商" in agent_page.locator("main").inner_text()

    # Suppliers B, C and D respond through the services; A seals its response in the browser.
    for key in ("B", "C", "D"):
        services.submit_bid(
            Actor.for_user(suppliers[key]), lot, price=FIRST[key], decryption_code=CODE
        )
    page_a = pages["A"]
    page_a.goto(f"{lot_url}bid/")
    form = page_a.locator("#bid-form")
    form.locator("input[name=price]").fill(FIRST["A"])
    form.locator("input[name=decryption_code]").fill(CODE)
    form.locator("input[name=decryption_code_again]").fill(CODE)
    form.locator("[data-testid=submit-bid]").click()
    page_a.wait_for_url(f"{lot_url}bid/receipt/")

    with running_clock():
        # The clock opens the responses at the deadline; A decrypts in the browser, the others
        # through the services; the record is published once all have.
        page_a.goto(lot_url)
        panel = page_a.locator("[data-testid=decrypt-panel]")
        panel.wait_for(timeout=(LEAD.seconds + 40) * 1000)
        panel.locator("input[name=decryption_code]").fill(CODE)
        panel.locator("[data-testid=decrypt]").click()
        page_a.wait_for_url(lot_url)
        assert text(page_a, "my-price") == "900,000.00"
        for key in ("B", "C", "D"):
            services.decrypt_bid(
                Actor.for_user(suppliers[key]),
                Bid.objects.get(lot=lot, organization=org[key]),
                decryption_code=CODE,
            )
        assert Opening.objects.get(lot=lot).stage == Opening.Stage.OPENED

        # Center staff seat the panel: comprehensive scoring, price weight 40 % (goods: 30–60 %).
        staff_page = pages["staff"]
        staff_page.goto(evaluation_url)
        start = staff_page.locator("#start-evaluation-form")
        start.locator("select[name=draw]").select_option(str(draw.pk))
        start.locator("select[name=scheme]").select_option("comprehensive")
        start.locator("input[name=price_weight]").fill("0.400")
        start.locator("[data-testid=start-evaluation]").click()
        staff_page.wait_for_selector("[data-testid=evaluation][data-status=in_progress]")
        assert Evaluation.objects.get(lot=lot).price_weight == Decimal("0.400")

        # A round: its changes go to everyone still in; D is found non-compliant and put out.
        section = staff_page.locator("[data-testid=negotiation][data-stage=negotiating]")
        assert section.locator("input[name=excluded]").count() == 4
        round_form = staff_page.locator("#negotiation-round-form")
        round_form.locator("textarea[name=changes]").fill(CHANGES)
        round_form.locator(f"input[name=excluded][value='{org['D'].pk}']").check()
        round_form.locator("[data-testid=publish-round]").click()
        staff_page.wait_for_url(evaluation_url)
        assert "第 1 轮已发布" in staff_page.locator("ul.messages").inner_text()
        assert org["D"].name in text(staff_page, "round-excluded")

        page_d = pages["D"]
        page_d.goto(lot_url)
        assert "第 1 轮" in text(page_d, "negotiation-out")
        assert CHANGES not in page_d.content()
        fits_the_phone(page_d)

        # The call for final quotes, some minutes ahead in Beijing time.
        closes = timezone.now() + dt.timedelta(minutes=10)
        staff_page.locator("[data-testid=final-call-open]").click()
        staff_page.locator("#final-call-form").locator("input[name=closes_at]").fill(
            local_input(closes)
        )
        staff_page.locator("[data-testid=call-final-quotes]").click()
        staff_page.wait_for_url(evaluation_url)
        call = FinalQuoteCall.objects.get(lot=lot)
        assert sorted(call.suppliers) == sorted(org[k].pk for k in ("A", "B", "C"))
        assert staff_page.locator("[data-testid=negotiation][data-stage=quoting]").count() == 1

        # A and B quote on their phones: the round's changes, the countdown, the amount input.
        for key, typed, sent in (("A", "861,234.56", "861234.56"), ("B", "８７２０００", "872000")):
            page = pages[key]
            page.goto(lot_url)
            assert CHANGES in text(page, "round-changes")
            wait_until(
                page,
                "/^\\d\\d:\\d\\d:\\d\\d$/.test(document.querySelector("
                "'[data-testid=final-quote-countdown]').textContent)",
            )
            assert page.locator("[data-testid=final-quote-countdown]").is_visible()
            fits_the_phone(page)
            quote_form = page.locator("#final-quote-form")
            quote_form.locator("input[name=price]").fill(typed)
            quote_form.locator("[data-testid=submit-final-quote]").click()
            page.wait_for_url(lot_url)
            receipt = FinalQuote.objects.get(call=call, organization=org[key]).sealed_sha256
            assert text(page, "final-quote-sha") == receipt
            assert page.locator("#final-quote-form").count() == 0
            assert sent not in page.content()
            fits_the_phone(page)
        # C quotes through the service.
        negotiation.submit_final_quote(Actor.for_user(suppliers["C"]), lot, price="850000.00")
        assert not FinalQuote.objects.filter(price__isnull=False).exists()

        # The shortcut (see the module docstring): the call closes CLOSES_IN seconds from now.
        ends = timezone.now() + dt.timedelta(seconds=CLOSES_IN)
        FinalQuoteCall.objects.filter(pk=call.pk).update(closes_at=ends)
        schedule(negotiation.OPEN_FINAL_QUOTES_STEP, lot.pk, ends)
        page_a.reload()
        assert page_a.locator("[data-testid=final-quote-countdown]").is_visible()
        # At zero the page reloads itself, waits for the clock to open the quotes, and shows A's.
        page_a.wait_for_selector("[data-testid=final-quotes]", timeout=(CLOSES_IN + 40) * 1000)
        assert page_a.locator("[data-testid=final-quote-price]").all_inner_texts() == ["861,234.56"]
        assert FinalQuoteCall.objects.get(pk=call.pk).opened_at is not None
        fits_the_phone(page_a)

        # The panel scores (its members' scoring pages are tests/bidding/test_pages.py's; here the
        # services), then staff compile the report in the browser: ranked on the final quotes.
        for member in members:
            for key, points in TECHNICAL.items():
                ev.score_bid(
                    Actor.for_user(member),
                    Bid.objects.get(lot=lot, organization=org[key]),
                    compliant=True,
                    technical_points=points,
                )
        for key in ("D",):  # put out in round 1: no score needed, the report leaves it out
            assert key not in TECHNICAL
        staff_page.goto(evaluation_url)
        quotes = staff_page.locator("[data-testid=final-quote-price]").all_inner_texts()
        assert sorted(quotes) == ["850,000.00", "861,234.56", "872,000.00"]
        staff_page.locator("[data-testid=compile-report]").click()
        staff_page.wait_for_selector("[data-testid=evaluation][data-status=reported]")
        rows = staff_page.locator("[data-testid=report-candidate]").all_inner_texts()
        assert [row.split("\t")[1] for row in rows] == [org[k].name for k in ("A", "B", "C")]
        assert "861,234.56" in rows[0] and "900,000.00" not in " ".join(rows)

        # The members sign (signed acts have their own browser test; here the services).
        for member in members:
            ev.confirm_report(Actor.for_user(member), lot)

        # The agent publishes the candidates on the lot page.
        agent_page.goto(lot_url)
        agent_page.locator("[data-testid=publish-candidates]").click()
        agent_page.wait_for_url(lot_url)
        candidates = agent_page.locator("[data-testid=candidate]").all_inner_texts()
        assert org["A"].name in candidates[0] and "861,234.56" in candidates[0]

    # The publicity lasts days the real clock cannot pass: the award is issued through the service
    # in travelled time, and the pages show it.
    ends_at = Publicity.objects.get(lot=lot).ends_at
    with time_machine.travel(ends_at + dt.timedelta(minutes=1), tick=False):
        ev.issue_award(Actor.for_user(agent), lot)
    page_a.goto(lot_url)
    winner = text(page_a, "winner")
    assert org["A"].name in winner and "861,234.56" in winner
    assert re.search(r"已发中标通知书", winner)
    fits_the_phone(page_a)
