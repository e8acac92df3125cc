"""The bidding pages, role by role: the supplier's bid, receipt, withdrawal and online decryption; the
opening record with confirmations and answers; the opening page as a read (the clock opens the lot) and
the evaluation; the committee's scoring and signatures; the agent's publicity, award and contract."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from bidding.models import (
    Bid,
    Evaluation,
    EvaluationMember,
    Opening,
    OpeningResponse,
    Publicity,
    PublicityObjection,
    Score,
)
from clock.services import run_due
from tests.amounts import PAGE_MESSAGE, REFUSED_TEXT
from tests.bidding.world import CODE, build, travel

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(name, args=args)


def html(response) -> str:
    return response.content.decode()


def test_a_supplier_submits_and_gets_its_receipt(users):
    world = build(users, "bidding")
    client = world.client("owner")
    with world.at():
        page = client.get(url("bid_form", world.lot.pk))
        assert page.status_code == 200
        body = html(page)
        assert 'data-testid="code-warning"' in body and "无法找回" in body
        deadline = timezone.localtime(world.deadline).isoformat()
        assert f'data-countdown-to="{deadline}"' in body
        submitted = client.post(
            url("bid_form", world.lot.pk),
            {"price": "34500000.00", "decryption_code": CODE, "decryption_code_again": CODE},
        )
        assert submitted.status_code == 302 and submitted["Location"] == url(
            "bid_receipt", world.lot.pk
        )
        receipt = html(client.get(submitted["Location"]))
    bid = world.bid("owner")
    assert bid.version == 2
    assert bid.receipt_sha256 in receipt and bid.sealed_sha256 in receipt
    assert timezone.localtime(bid.submitted_at).strftime("%Y-%m-%d %H:%M:%S") in receipt
    assert "一致" in receipt  # the canonical document recomputes to the receipt hash
    assert "34500000" not in receipt and "34,500,000" not in receipt


def test_mismatched_codes_are_refused_without_echoing_the_price(users):
    world = build(users, "bidding")
    with world.at():
        response = world.client("owner").post(
            url("bid_form", world.lot.pk),
            {"price": "34500000.00", "decryption_code": CODE, "decryption_code_again": "x" * 10},
        )
    assert response.status_code == 400
    body = html(response)
    assert "两次输入的解密口令不一致" in body
    assert "34500000" not in body and CODE not in body
    assert world.bid("owner").version == 1


@pytest.mark.parametrize(("price", "code"), REFUSED_TEXT)
def test_a_bid_price_on_the_page_is_held_to_the_one_contract(users, price, code):
    world = build(users, "bidding")
    with world.at():
        response = world.client("owner").post(
            url("bid_form", world.lot.pk),
            {"price": price, "decryption_code": CODE, "decryption_code_again": CODE},
        )
    assert response.status_code == 400
    body = html(response)
    assert PAGE_MESSAGE[code] in body
    # Refused, and still never echoed back into the page.
    assert f'value="{price}"' not in body and CODE not in body
    assert world.bid("owner").version == 1


def test_the_bid_form_marks_its_price_for_the_page_script(users):
    world = build(users, "bidding")
    with world.at():
        body = html(world.client("owner").get(url("bid_form", world.lot.pk)))
    tag = re.search(r'<input[^>]*name="price"[^>]*>', body).group(0)
    assert 'data-amount="1"' in tag and 'inputmode="decimal"' in tag
    assert "js/amount-input.js" in body


def test_the_service_refuses_a_short_code_on_the_page(users):
    world = build(users, "bidding")
    with world.at():
        response = world.client("owner").post(
            url("bid_form", world.lot.pk),
            {"price": "34500000.00", "decryption_code": "short", "decryption_code_again": "short"},
        )
    assert response.status_code == 400
    assert 'data-code="CODE_TOO_SHORT"' in html(response)


def test_a_supplier_withdraws_and_submits_again_before_the_deadline(users):
    world = build(users, "bidding")
    client = world.client("owner")
    with world.at():
        page = html(client.get(url("bidding_lot", world.lot.pk)))
        assert 'data-testid="withdraw"' in page
        assert client.post(url("bid_withdraw", world.lot.pk)).status_code == 302
        assert world.bid("owner").status == Bid.Status.WITHDRAWN
        page = html(client.get(url("bidding_lot", world.lot.pk)))
        assert "递交投标文件" in page and 'data-status="withdrawn"' in page
        client.post(
            url("bid_form", world.lot.pk),
            {"price": "34500000.00", "decryption_code": CODE, "decryption_code_again": CODE},
        )
    assert world.bid("owner").status == Bid.Status.SUBMITTED


def test_the_agent_board_counts_bids_before_the_deadline(users):
    world = build(users, "bidding")
    with world.at():
        board = html(world.client("agent").get(url("bidding_index")))
        lot_page = html(world.client("agent").get(url("bidding_lot", world.lot.pk)))
        opening = html(world.client("agent").get(url("bidding_opening", world.lot.pk)))
        public = html(world.client("anonymous").get(url("bidding_lot", world.lot.pk)))
    assert "已递交 3 份" in board
    assert re.search(r'data-testid="bids-count">3<', lot_page)
    assert re.search(r'data-testid="bids-count">3<', opening)
    assert 'data-testid="bids-count"' not in public
    for page in (board, lot_page, opening):
        assert "甲建设公司" not in page and "乙建设公司" not in page


def test_the_supplier_decrypts_online_during_the_window(users):
    world = build(users, "decrypting", owner_decrypts=False)
    client = world.client("owner")
    opening = Opening.objects.get()
    with world.at():
        page = html(client.get(url("bidding_lot", world.lot.pk)))
        assert 'data-testid="decrypt-panel"' in page
        until = timezone.localtime(opening.decryption_until).isoformat()
        assert f'data-countdown-to="{until}"' in page
        wrong = client.post(url("bid_decrypt", world.lot.pk), {"decryption_code": "wrong-code!"})
        assert wrong.status_code == 400 and 'data-code="WRONG_CODE"' in html(wrong)
        right = client.post(
            url("bid_decrypt", world.lot.pk), {"decryption_code": CODE}, follow=True
        )
    assert "解密成功" in html(right) and "34,876,543.21" in html(right)
    assert world.bid("owner").status == Bid.Status.DECRYPTED


def test_the_opening_page_is_a_read_and_the_clock_opens_the_lot(users):
    world = build(users, "bidding")
    with travel(world.deadline + dt.timedelta(seconds=10)):
        events_before = AuditEvent.objects.count()
        page = html(world.client("staff").get(url("bidding_opening", world.lot.pk)))
        assert "待开标" in page
        waiting = html(world.client("owner").get(url("bidding_lot", world.lot.pk)))
        # The bidder's page says the opening is coming and refreshes itself until the clock opens.
        assert 'data-testid="awaiting-opening" data-reload-every="5"' in waiting
        assert 'data-testid="decrypt-panel"' not in waiting
        assert not Opening.objects.exists() and AuditEvent.objects.count() == events_before
        run_due()
        page = html(world.client("staff").get(url("bidding_opening", world.lot.pk)))
        opened = html(world.client("owner").get(url("bidding_lot", world.lot.pk)))
    assert (
        'data-testid="awaiting-opening"' not in opened and 'data-testid="decrypt-panel"' in opened
    )
    assert Opening.objects.get().stage == Opening.Stage.DECRYPTING
    assert "待解密 3" in page
    started = AuditEvent.objects.get(action="bidding.opening.started")
    assert started.actor_name == "system:clock"
    assert not AuditEvent.objects.filter(action="bidding.key.early_access_refused").exists()


def test_a_public_visit_after_the_window_changes_nothing_and_the_clock_publishes(users):
    world = build(users, "decrypting")
    opening = Opening.objects.get()
    with travel(opening.decryption_until + dt.timedelta(seconds=1)):
        html(world.client("anonymous").get(url("bidding_lot", world.lot.pk)))
        opening.refresh_from_db()
        assert opening.stage == Opening.Stage.DECRYPTING
        run_due()
        page = html(world.client("anonymous").get(url("bidding_lot", world.lot.pk)))
    opening.refresh_from_db()
    assert opening.stage == Opening.Stage.FAILED  # only the owner decrypted: fewer than three
    assert 'data-testid="failed"' in page and "34,876,543.21" in page


def test_bidders_confirm_or_object_and_the_agent_answers(users):
    world = build(users, "opened")
    with world.at():
        record = html(world.client("owner").get(url("opening_record", world.lot.pk)))
        assert 'id="respond-form"' in record and Opening.objects.get().record_sha256 in record
        world.client("owner").post(url("record_respond", world.lot.pk), {"answer": "confirm"})
        refused = world.client("other").post(
            url("record_respond", world.lot.pk), {"answer": "object", "objection": ""}
        )
        assert refused.status_code == 400 and 'data-code="TEXT_REQUIRED"' in html(refused)
        world.client("other").post(
            url("record_respond", world.lot.pk), {"answer": "object", "objection": "报价有误"}
        )
        objection = OpeningResponse.objects.get(confirmed=False)
        agent_page = html(world.client("agent").get(url("opening_record", world.lot.pk)))
        assert f'id="answer-form-{objection.pk}"' in agent_page
        world.client("agent").post(
            url("record_answer", objection.pk), {f"a{objection.pk}-text": "以解密结果为准。"}
        )
        other_page = html(world.client("other").get(url("opening_record", world.lot.pk)))
    assert "以解密结果为准。" in other_page
    assert OpeningResponse.objects.get(pk=objection.pk).answered_at is not None


def test_evaluation_from_start_to_signatures_on_the_pages(users):
    world = build(users, "opened")
    lot = world.lot.pk
    with travel(world.deadline + dt.timedelta(hours=2)):
        staff = world.client("staff")
        start_page = html(staff.get(url("bidding_evaluation", lot)))
        assert f'<option value="{world.draw.pk}"' in start_page
        started = staff.post(
            url("evaluation_start", lot),
            {"draw": world.draw.pk, "scheme": "lowest_price", "hours": "8"},
        )
        assert started.status_code == 302
        member_page = html(world.client("member").get(url("bidding_evaluation", lot)))
        assert member_page.count('data-testid="evaluation-bid"') == 3
        assert "34,876,543.21" in member_page
        bid = world.bid("third")
        refused = world.client("member").post(
            url("evaluation_score", lot, bid.pk), {f"b{bid.pk}-compliant": "no"}
        )
        assert refused.status_code == 400 and 'data-code="REASON_REQUIRED"' in html(refused)
        for member in world.members:
            client = world.client("member")
            client.force_login(member)
            for each in Bid.objects.filter(lot=world.lot):
                client.post(url("evaluation_score", lot, each.pk), {f"b{each.pk}-compliant": "yes"})
        assert Score.objects.count() == 15
        world.client("member").post(url("evaluation_more_time", lot))
        assert EvaluationMember.objects.filter(wants_more_time=True).count() == 1
        supervisor_page = html(world.client("supervisor").get(url("bidding_evaluation", lot)))
        assert 'data-testid="scores"' in supervisor_page
        assert 'data-testid="compile-report"' not in supervisor_page  # read-only
        staff.post(url("evaluation_compile", lot))
        assert Evaluation.objects.get().status == Evaluation.Status.REPORTED
        for i, member in enumerate(world.members):
            client = world.client("member")
            client.force_login(member)
            page = html(client.get(url("bidding_evaluation", lot)))
            assert 'id="confirm-form"' in page and 'data-testid="report"' in page
            client.post(url("evaluation_confirm", lot), {"dissent": "保留意见" if i == 0 else ""})
        finished = html(world.client("member").get(url("bidding_evaluation", lot)))
    assert Evaluation.objects.get().status == Evaluation.Status.CONFIRMED
    assert 'data-testid="finished"' in finished and "34,876,543.21" not in finished
    assert EvaluationMember.objects.filter(dissent="保留意见").count() == 1


def test_experts_see_their_lots_only(users):
    world = build(users, "evaluating")
    with world.at():
        mine = html(world.client("member").get(url("my_evaluations")))
        other = html(world.client("outsider").get(url("my_evaluations")))
    assert f'data-lot="{world.lot.pk}"' in mine
    assert 'data-testid="my-evaluation"' not in other


def test_publicity_objection_award_and_contract_on_the_lot_page(users):
    world = build(users, "confirmed")
    lot = world.lot.pk
    with world.at():
        agent = world.client("agent")
        assert 'data-testid="publish-candidates"' in html(agent.get(url("bidding_lot", lot)))
        agent.post(url("publicity_publish", lot))
        public = html(world.client("anonymous").get(url("bidding_lot", lot)))
        assert public.count('data-testid="candidate"') == 3
        world.client("other").post(
            url("publicity_object", lot), {"publicity-text": "第一名业绩不实"}
        )
        objection = PublicityObjection.objects.get()
        early = agent.post(url("award_issue", lot))
        assert early.status_code == 409
        agent.post(url("publicity_reply", objection.pk), {f"p{objection.pk}-text": "经核查属实。"})
    ends = Publicity.objects.get().ends_at
    with travel(ends + dt.timedelta(minutes=1)):
        agent.post(url("award_issue", lot))
        page = html(world.client("owner").get(url("bidding_lot", lot)))
        assert 'data-testid="winner"' in page and 'data-testid="award-pdf"' in page
        anonymous = html(world.client("anonymous").get(url("bidding_lot", lot)))
        assert 'data-testid="winner"' in anonymous and 'data-testid="award-pdf"' not in anonymous
        agent.post(url("contract_record", lot), {"contract-signed_at": ""})
    assert Publicity.objects.get().status == Publicity.Status.CONTRACTED


def test_my_bids_lists_the_registered_lots(users):
    world = build(users, "opened")
    with world.at():
        page = html(world.client("owner").get(url("my_bids")))
    assert f'data-lot="{world.lot.pk}"' in page
    assert "34,876,543.21" in page and "35,123,456.78" not in page
