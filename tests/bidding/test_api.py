"""The bidding API: the receipt, errors in the shared shape, money as strings, a late clock never blocking,
and the whole tender from sealed bid to contract through the endpoints alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditEvent
from bidding.models import Bid, Opening, Publicity
from clock.services import run_due
from lib.canonical import canonical_sha256
from tests.amounts import REFUSED, REFUSED_TEXT
from tests.bidding.world import CODE, PRICES, build, travel

pytestmark = pytest.mark.django_db


def url(name: str, *args: Any) -> str:
    return reverse(name, args=args)


def test_a_bid_submitted_through_the_api_returns_its_receipt(users):
    world = build(users, "bidding")
    with world.at():
        response = world.api("owner").post(
            url("api_bid_submit", world.lot.pk),
            {
                "price": "34000000.50",
                "decryption_code": "another-code-2026",
                "files": [
                    SimpleUploadedFile("商务标.pdf", b"%PDF business"),
                    SimpleUploadedFile("技术标.pdf", b"%PDF technical"),
                ],
            },
            format="multipart",
        )
    assert response.status_code == 201, response.content
    receipt = response.json()
    bid = world.bid("owner")
    assert receipt["version"] == 2 and receipt["status"] == "submitted"
    assert receipt["receipt_sha256"] == bid.receipt_sha256
    assert receipt["sealed_sha256"] == bid.sealed_sha256 and len(receipt["files"]) == 2
    # Anyone holding the receipt recomputes its hash from the document it states.
    digest = canonical_sha256(receipt["document"])
    assert digest == receipt["receipt_sha256"]
    assert receipt["pdf_url"] == url("bid_receipt_pdf", world.lot.pk)
    assert "34000000" not in response.content.decode()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"price": 34000000.5, "decryption_code": CODE}, "AMOUNT_NOT_STRING"),
        ({"price": "34000000.505", "decryption_code": CODE}, "AMOUNT_INVALID"),
        ({"price": "-1", "decryption_code": CODE}, "AMOUNT_INVALID"),
        ({"price": "34000000", "decryption_code": "short"}, "CODE_TOO_SHORT"),
        ({"decryption_code": CODE}, "VALIDATION_ERROR"),
    ],
)
def test_bad_bids_answer_in_the_shared_error_shape(users, body, code):
    world = build(users, "bidding")
    with world.at():
        response = world.api("owner").post(url("api_bid_submit", world.lot.pk), body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert world.bid("owner").version == 1


@pytest.mark.parametrize(("price", "code"), REFUSED)
def test_a_json_bid_price_is_held_to_the_one_contract(users, price, code):
    world = build(users, "bidding")
    with world.at():
        response = world.api("owner").post(
            url("api_bid_submit", world.lot.pk),
            {"price": price, "decryption_code": CODE},
            format="json",
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert world.bid("owner").version == 1


@pytest.mark.parametrize(("price", "code"), REFUSED_TEXT)
def test_a_multipart_bid_price_is_held_to_the_one_contract(users, price, code):
    world = build(users, "bidding")
    with world.at():
        response = world.api("owner").post(
            url("api_bid_submit", world.lot.pk),
            {"price": price, "decryption_code": CODE},
            format="multipart",
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert world.bid("owner").version == 1


def test_late_submissions_and_withdrawals_are_refused(users):
    world = build(users, "opened")
    with world.at():
        late = world.api("owner").post(
            url("api_bid_submit", world.lot.pk),
            {"price": "1000.00", "decryption_code": CODE},
            format="json",
        )
        withdraw = world.api("owner").post(url("api_bid_withdraw", world.bid("owner").pk))
    assert late.status_code == 409 and late.json()["error"]["code"] == "TOO_LATE"
    assert withdraw.status_code == 409


def test_a_wrong_code_is_refused_and_the_right_one_decrypts(users):
    world = build(users, "decrypting", owner_decrypts=False)
    bid = world.bid("owner")
    with world.at():
        wrong = world.api("owner").post(
            url("api_bid_decrypt", bid.pk), {"decryption_code": "not-my-code"}
        )
        right = world.api("owner").post(url("api_bid_decrypt", bid.pk), {"decryption_code": CODE})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "WRONG_CODE"
    assert right.status_code == 200
    assert right.json()["price"] == PRICES["owner"] and right.json()["status"] == "decrypted"


def test_reads_after_the_deadline_change_nothing_and_the_clock_opens(users):
    """A read never opens a lot: the clock does, at the deadline. A bidder's decryption (a write)
    still meets the opening in its right stage when the clock process is late."""
    world = build(users, "bidding")
    assert not Opening.objects.exists()
    with travel(world.deadline + dt.timedelta(seconds=30)):
        events_before = AuditEvent.objects.count()
        status = world.api("anonymous").get(url("api_bidding_lot", world.lot.pk)).json()
        assert status["stage"] == "awaiting_opening" and status["opening"] is None
        assert (
            world.api("anonymous").get(url("api_opening_record", world.lot.pk)).status_code == 404
        )
        assert not Opening.objects.exists() and AuditEvent.objects.count() == events_before
        # The clock process is late; the owner's decryption brings the opening up to date first.
        decrypted = world.api("owner").post(
            url("api_bid_decrypt", world.bid("owner").pk), {"decryption_code": CODE}
        )
        assert decrypted.status_code == 200
        assert run_due() >= 0
        decrypted = world.api("other").post(
            url("api_bid_decrypt", world.bid("other").pk), {"decryption_code": CODE}
        )
        assert decrypted.status_code == 200  # the third bidder never comes back
    opening = Opening.objects.get()
    with travel(opening.decryption_until + dt.timedelta(seconds=1)):
        assert (
            world.api("anonymous").get(url("api_opening_record", world.lot.pk)).status_code == 404
        )
        opening.refresh_from_db()
        assert opening.stage == Opening.Stage.DECRYPTING  # the visit changed nothing
        run_due()
        record = world.api("anonymous").get(url("api_opening_record", world.lot.pk))
    assert record.status_code == 200
    rows = {row["bidder"]: row for row in record.json()["record"]["bids"]}
    assert rows["丙建设公司"]["status"] == "failed_bidder" and rows["丙建设公司"]["price"] is None
    assert record.json()["stage"] == "failed"  # two valid bids are too few


def test_the_whole_tender_through_the_api(users):
    world = build(users, "opened")
    lot = world.lot.pk
    with world.at():
        record = world.api("anonymous").get(url("api_opening_record", lot)).json()
        digest = canonical_sha256(record["record"])
        assert digest == record["record_sha256"]
        objection = world.api("other").post(
            url("api_opening_responses", lot),
            {"confirmed": False, "objection": "我方报价记录有误"},
            format="json",
        )
        assert objection.status_code == 201
        answered = world.api("agent").post(
            url("api_opening_answer", objection.json()["id"]), {"answer": "以解密结果为准。"}
        )
        assert answered.json()["answered_at"]
    with travel(world.deadline + dt.timedelta(hours=2)):
        for weight, code in [
            ("０.4", "NUMBER_INVALID"),  # full-width: the page's script may help, the API does not
            ("4e-1", "NUMBER_INVALID"),
            (0.4, "NUMBER_INVALID"),  # a JSON number has already been rounded by a float
            ("0.4000", "NUMBER_INVALID"),
            ("1.5", "NUMBER_OUT_OF_RANGE"),
        ]:
            refused = world.api("staff").post(
                url("api_evaluation_start", lot),
                {"draw": world.draw.pk, "scheme": "comprehensive", "price_weight": weight},
                format="json",
            )
            assert refused.status_code == 400 and refused.json()["error"]["code"] == code, weight
        started = world.api("staff").post(
            url("api_evaluation_start", lot),
            {"draw": world.draw.pk, "scheme": "comprehensive", "price_weight": "0.400"},
            format="json",
        )
        assert started.status_code == 201, started.content
        assert started.json()["members"] and started.json()["price_weight"] == "0.400"
        bids = world.api("member").get(url("api_evaluation_bids", lot)).json()
        assert {b["price"] for b in bids} == set(PRICES.values())
        points = {"甲建设公司": "70", "乙建设公司": "95", "丙建设公司": "80"}
        for member in world.members:
            client = world.api("member")
            client.force_authenticate(member)
            refused = client.post(
                url("api_evaluation_scores", lot),
                {"bid": bids[0]["id"], "compliant": True, "technical_points": "９5"},
                format="json",
            )
            assert refused.json()["error"]["code"] == "NUMBER_INVALID"
            for b in bids:
                scored = client.post(
                    url("api_evaluation_scores", lot),
                    {
                        "bid": b["id"],
                        "compliant": True,
                        "technical_points": points[b["organization"]["name"]],
                    },
                    format="json",
                )
                assert scored.status_code == 200, scored.content
        more = world.api("member").post(url("api_evaluation_more_time", lot))
        assert more.status_code == 200 and more.json()["extended"] is False
        report = world.api("staff").post(url("api_evaluation_compile", lot)).json()
        assert report["status"] == "reported"
        first = report["report"]["candidates"][0]
        assert first["bidder"] == "乙建设公司"  # the technical points outweigh the price
        for member in world.members:
            client = world.api("member")
            client.force_authenticate(member)
            signed = client.post(url("api_evaluation_confirm", lot), {"dissent": ""}, format="json")
            assert signed.status_code == 200
        assert signed.json()["status"] == "confirmed"
        agent_view = world.api("agent").get(url("api_evaluation", lot)).json()
        assert agent_view["report"]["candidates"][0]["bidder"] == "乙建设公司"
        assert agent_view["members"] is None  # the committee stays with staff and supervisors
        published = world.api("agent").post(url("api_publicity", lot))
        assert published.status_code == 201
        public = world.api("anonymous").get(url("api_publicity", lot)).json()
        assert [c["rank"] for c in public["candidates"]] == [1, 2, 3]
        objected = world.api("owner").post(
            url("api_publicity_objections", lot), {"text": "第一名业绩不实"}, format="json"
        )
        assert objected.status_code == 201
        assert world.api("anonymous").get(url("api_publicity", lot)).json()["suspended"] is True
        world.api("agent").post(
            url("api_publicity_reply", objected.json()["id"]), {"reply": "经核查属实。"}
        )
    ends = Publicity.objects.get().ends_at
    with travel(ends + dt.timedelta(minutes=1)):
        awarded = world.api("agent").post(url("api_award", lot))
        assert awarded.status_code == 200, awarded.content
        assert awarded.json()["winner"]["name"] == "乙建设公司"
        assert awarded.json()["price"] == PRICES["other"]
        public = world.api("anonymous").get(url("api_award", lot)).json()
        assert public["notice_pdf_url"] is None
        assert world.api("other").get(url("api_award", lot)).json()["notice_pdf_url"]
        refused = world.api("agent").post(url("api_refusal", lot), {"reason": ""}, format="json")
        assert refused.json()["error"]["code"] == "REASON_REQUIRED"
        contract = world.api("agent").post(url("api_contract", lot), {}, format="json")
        assert contract.status_code == 200 and contract.json()["status"] == "contracted"


def test_a_refusal_passes_the_award_to_the_next_candidate(users):
    world = build(users, "awarded")
    with world.at():
        refused = world.api("agent").post(
            url("api_refusal", world.lot.pk), {"reason": "中标人书面放弃"}, format="json"
        )
        assert refused.status_code == 200 and refused.json()["refused"]
        second = world.api("agent").post(url("api_award", world.lot.pk))
    assert second.json()["winner"]["name"] == "乙建设公司"


def test_my_bids_lists_only_the_callers_organization(users):
    world = build(users, "opened")
    with world.at():
        rows = world.api("owner").get(url("api_my_bids")).json()["results"]
        agent_rows = world.api("agent").get(url("api_my_bids")).json()["results"]
    assert [row["id"] for row in rows] == [world.bid("owner").pk]
    assert rows[0]["price"] == PRICES["owner"]  # money as a string
    assert agent_rows == []


def test_the_schema_lists_the_bidding_endpoints_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    paths = yaml.safe_load(target.read_text())["paths"]
    assert "/api/v1/bidding/lots/{id}/bids/" in paths
    assert (
        "multipart/form-data"
        in paths["/api/v1/bidding/lots/{id}/bids/"]["post"]["requestBody"]["content"]
    )
    assert "/api/v1/bidding/lots/{id}/opening/record/" in paths
    assert "/api/v1/bidding/bids/mine/" in paths


def test_the_withdrawn_bid_stays_out_of_the_count(users):
    world = build(users, "bidding")
    with world.at():
        world.api("owner").post(url("api_bid_withdraw", world.bid("owner").pk))
        status = world.api("agent").get(url("api_bidding_lot", world.lot.pk)).json()
    assert status["bids_count"] == 2
    assert Bid.objects.get(pk=world.bid("owner").pk).status == "withdrawn"
