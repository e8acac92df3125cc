"""The auction's result PDF (网上竞价结果): Chinese text that extracts, the rules and times, identities
revealed next to aliases, the ranking, every accepted bid of the timeline with millisecond server time,
the counts, and the closing audit hash — for supervisors, staff, the agent and participants only, and
only once the auction is finished."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from audit.models import AuditEvent
from bidding.auction import pdf
from bidding.models import Auction, AuctionEvent
from clock.services import run_due
from tests.bidding.auction_results import BIDS, CLOSE, at, closed_world, run_bids
from tests.bidding.auction_world import START, make_world
from tests.conftest import make_org, make_user
from tests.pdfsigned import assert_platform_signed

pytestmark = pytest.mark.django_db


def text_of(content: bytes) -> str:
    """The PDF's text without any whitespace (table cells wrap anywhere)."""
    return re.sub(
        r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    )


def bare(value: str) -> str:
    return re.sub(r"\s+", "", value)


def browser(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def get(user, auction_id: int, moment=CLOSE):
    with at(moment + dt.timedelta(seconds=1)):
        return browser(user).get(reverse("auction_result_pdf", args=[auction_id]))


def test_the_result_pdf_states_ranking_timeline_and_the_closing_hash(agent, staff, supervisor):
    world = closed_world(agent, staff)
    auction = world.auction
    response = get(supervisor, auction.pk)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert_platform_signed(response.content)
    text = text_of(response.content)
    assert "网上竞价结果" in text and world.project.title in text and "办公设备一批" in text
    # The rules and the times, Beijing time.
    assert "1,000,000.00" in text and "1,000.00" in text
    assert "计划开始时间2026-04-1110:00:00.000（北京时间）" in text  # START, Beijing
    assert "计划结束时间2026-04-1110:10:00.000" in text
    assert "实际开始时间2026-04-1110:00:10.125" in text  # the first bid started it: milliseconds
    assert "最终结束时间2026-04-1110:11:20.000" in text  # after one extension
    assert "已用延时次数1次" in text and "结束前60秒内出现有效报价的" in text
    assert "有效（被接受）报价9次；被拒绝报价1次" in text
    # Aliases and identities, the ranking.
    a, b, c = world.bidders
    for bidder in (a, b, c):
        assert bidder.organization.name in text and bidder.organization.uscc in text
    ranking = [(row["alias"], row["bidder"], row["price"]) for row in auction.results]
    assert [r[1] for r in ranking] == [
        c.organization.name,
        a.organization.name,
        b.organization.name,
    ]
    assert f"1{ranking[0][0]}{ranking[0][1]}955,000.002026-04-1110:09:20.000" in text
    # Every room event, in order, with its millisecond time; every accepted bid with its bidder.
    events = list(AuctionEvent.objects.filter(auction=auction).order_by("seq"))
    assert [e.kind for e in events].count("bid") == sum(1 for *_, ok in BIDS if ok)
    timeline = text[text.index("四、竞价过程记录") :]
    position = 0
    for event in events:
        row = f"{event.seq}{bare(pdf.beijing_ms(event.at))}{pdf.KIND_LABELS[event.kind]}"
        found = timeline.find(row, position)
        assert found >= 0, row
        position = found
    for _seconds, index, price, accepted in BIDS:
        name = world.bidders[index].organization.name
        line = f"（{name}）报价{int(price[:-3]):,}.00元"
        assert (line in timeline) is accepted, line
    assert "结束时间延至2026-04-1110:11:20.000" in timeline
    # The audit hash at the close, and how to check it.
    closing = AuditEvent.objects.get(seq=auction.closing_audit_seq)
    assert closing.action == "bidding.auction.closed" and closing.hash == auction.closing_audit_hash
    assert auction.closing_audit_hash in text and "verify_audit" in text


def test_who_may_print_the_result(agent, staff, supervisor, supplier, api):
    world = closed_world(agent, staff)
    a = world.bidders[0]
    other_agent = make_user("agent-2", "agent", make_org("agent", "另一招标代理"))
    for user in (supervisor, staff, agent, a):
        assert get(user, world.auction.pk).status_code == 200, user
    for user in (supplier, other_agent):
        assert get(user, world.auction.pk).status_code == 404, user
    assert get(None, world.auction.pk).status_code == 302  # to the login page


def test_no_result_before_the_end(agent, staff, supervisor):
    world = make_world(agent, staff)
    run_bids(world, until=100)
    live = START + dt.timedelta(seconds=200)
    response = get(supervisor, world.auction.pk, moment=live)
    assert response.status_code == 409 and "尚未结束" in response.content.decode()
    # Reading after the end changes nothing; the clock closes the room, and the result then prints.
    assert get(supervisor, world.auction.pk, moment=CLOSE).status_code == 409
    assert Auction.objects.get(pk=world.auction.pk).status == Auction.Status.LIVE
    with at(CLOSE):
        run_due()
    assert get(supervisor, world.auction.pk, moment=CLOSE).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_rendering_happens_outside_a_transaction(agent, staff, supervisor, monkeypatch):
    world = closed_world(agent, staff)
    seen = []
    real = pdf.build_pdf

    def spy(*args, **kwargs):
        seen.append(connection.in_atomic_block)
        return real(*args, **kwargs)

    monkeypatch.setattr(pdf, "build_pdf", spy)
    assert get(supervisor, world.auction.pk).status_code == 200
    assert seen == [False]


def test_a_failed_auction_prints_its_reason_and_hash(agent, staff, supervisor):
    world = make_world(agent, staff, bidders=2)  # fewer than the minimum of 3
    with at(START + dt.timedelta(seconds=1)):
        run_due()  # the clock starts it, and it fails
    response = get(supervisor, world.auction.pk, moment=START + dt.timedelta(seconds=1))
    assert response.status_code == 200
    assert_platform_signed(response.content)
    text = text_of(response.content)
    assert "结果竞价失败" in text and "不足3家" in text and "无有效报价，无排名" in text
    auction = Auction.objects.get(pk=world.auction.pk)
    assert auction.closing_audit_hash and auction.closing_audit_hash in text
    # Both registered suppliers appear, without an alias (never admitted).
    for bidder in world.bidders:
        assert f"未准入{bidder.organization.name}" in text
