"""Who sees and does what, for every role × object × action, over the API and the pages.

Issue 6: bidders see only their own bids; agents see prices only after the opening; supervisors see
everything after the opening; the public sees the opening record and the results. Roles (world.ROLES):
anonymous, the supplier owning the bid (`owner`), another supplier bidding on the same lot (`other`),
the project's `agent`, the agent of another project (`agent2`), center `staff`, `supervisor`, a committee
`member`, an expert not on the committee (`outsider`).

`expected_read` is the specification, written out independently of bidding/access.py: for each stage
of the lot (world.STAGES) and each endpoint or page, the status each role gets. Objects a role may not
see answer 404; visible but not allowed 403; anonymous API calls 403 (session auth); anonymous page
calls to a page behind login redirect (302).

The decisive test is `test_no_code_path_yields_a_price_before_the_deadline`: every endpoint and page,
read and written, as every role, before the deadline — and no response holds a price.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from audit.models import AuditEvent
from bidding.models import Bid, Evaluation, OpeningResponse, Publicity, Score
from tests.bidding.world import CODE, PRICES, ROLES, STAGES, World, build, price_texts, travel

pytestmark = pytest.mark.django_db

OVERSEERS = {"agent", "staff", "supervisor"}
EVERYONE_LOGGED_IN = set(ROLES) - {"anonymous"}
NEW_PRICE = "33333333.33"

# --- What each role may read, stage by stage -----------------------------------------------------

Url = Callable[[World], str]


def lot_url(name: str) -> Url:
    return lambda w: reverse(name, args=[w.lot.pk])


def bid_url(name: str) -> Url:
    return lambda w: reverse(name, args=[w.bid("owner").pk])


def plain_url(name: str) -> Url:
    return lambda w: reverse(name)


API_READS: dict[str, Url] = {
    "api_bidding_lot": lot_url("api_bidding_lot"),
    "api_my_bids": plain_url("api_my_bids"),
    "api_bid": bid_url("api_bid"),
    "api_bid_receipt": bid_url("api_bid_receipt"),
    "api_opening_record": lot_url("api_opening_record"),
    "api_opening_responses": lot_url("api_opening_responses"),
    "api_evaluation": lot_url("api_evaluation"),
    "api_evaluation_bids": lot_url("api_evaluation_bids"),
    "api_evaluation_scores": lot_url("api_evaluation_scores"),
    "api_my_evaluations": plain_url("api_my_evaluations"),
    "api_publicity": lot_url("api_publicity"),
    "api_publicity_objections": lot_url("api_publicity_objections"),
    "api_award": lot_url("api_award"),
}
PAGE_READS: dict[str, Url] = {
    "bidding_index": plain_url("bidding_index"),
    "bidding_lot": lot_url("bidding_lot"),
    "bid_form": lot_url("bid_form"),
    "bid_receipt": lot_url("bid_receipt"),
    "bid_receipt_pdf": lot_url("bid_receipt_pdf"),
    "bidding_opening": lot_url("bidding_opening"),
    "opening_record": lot_url("opening_record"),
    "opening_record_pdf": lot_url("opening_record_pdf"),
    "bidding_evaluation": lot_url("bidding_evaluation"),
    "evaluation_report_pdf": lot_url("evaluation_report_pdf"),
    "award_notice_pdf": lot_url("award_notice_pdf"),
    "my_bids": plain_url("my_bids"),
    "my_evaluations": plain_url("my_evaluations"),
}
PUBLIC_PAGES = {"bidding_index", "bidding_lot", "opening_record", "opening_record_pdf"}
PUBLIC_API = {"api_bidding_lot", "api_opening_record", "api_publicity", "api_award"}


def reached(stage: str, milestone: str) -> bool:
    return STAGES.index(stage) >= STAGES.index(milestone)


def expected_read(surface: str, name: str, role: str, stage: str) -> int:
    recorded = reached(stage, "opened")
    evaluating = reached(stage, "evaluating")
    confirmed = reached(stage, "confirmed")
    in_evaluation = stage == "evaluating"
    if role == "anonymous":
        if surface == "api" and name not in PUBLIC_API:
            return 403
        if surface == "page" and name not in PUBLIC_PAGES:
            return 302
    rules: dict[str, Callable[[], int]] = {
        # API
        "api_bidding_lot": lambda: 200,
        "api_my_bids": lambda: 200,
        "api_my_evaluations": lambda: 200,
        "api_bid": lambda: 200 if role == "owner" or (role in OVERSEERS and recorded) else 404,
        "api_bid_receipt": lambda: 200 if role == "owner" else 404,
        "api_opening_record": lambda: 200 if recorded else 404,
        "api_opening_responses": lambda: 200 if recorded else 404,
        "api_evaluation": lambda: (
            200
            if evaluating
            and (role in ("staff", "supervisor", "member") or (role == "agent" and confirmed))
            else 404
        ),
        "api_evaluation_bids": lambda: (
            404
            if not evaluating
            else 200
            if role == "member" and in_evaluation
            else 403
            if role in ("staff", "supervisor", "member") or (role == "agent" and confirmed)
            else 404
        ),
        "api_evaluation_scores": lambda: (
            404
            if not evaluating
            else 200
            if role in ("staff", "supervisor") or (role == "member" and not confirmed)
            else 403
            if role == "member" or (role == "agent" and confirmed)
            else 404
        ),
        "api_publicity": lambda: 200 if reached(stage, "publicity") else 404,
        "api_publicity_objections": lambda: 200 if reached(stage, "publicity") else 404,
        "api_award": lambda: 200 if reached(stage, "awarded") else 404,
        # Pages
        "bidding_index": lambda: 302 if role in ("owner", "other", "member", "outsider") else 200,
        "bidding_lot": lambda: 200,
        # A supplier's bid pages are its own (the other supplier sees its own bid, never the owner's).
        "bid_form": lambda: 200 if role in ("owner", "other") else 403,
        "bid_receipt": lambda: 200 if role in ("owner", "other") else 404,
        "bid_receipt_pdf": lambda: 200 if role in ("owner", "other") else 404,
        "bidding_opening": lambda: 200 if role in OVERSEERS else 403,
        "opening_record": lambda: 200 if recorded else 404,
        "opening_record_pdf": lambda: 200 if recorded else 404,
        "bidding_evaluation": lambda: (
            (200 if role in ("staff", "supervisor") else 404)
            if not evaluating
            else 200
            if role in ("staff", "supervisor", "member") or (role == "agent" and confirmed)
            else 404
        ),
        # The report is confidential: staff and supervisors once compiled, a member while the
        # committee signs, the agent once every member signed.
        "evaluation_report_pdf": lambda: (
            200
            if reached(stage, "reported")
            and (
                role in ("staff", "supervisor")
                or (role == "member" and stage == "reported")
                or (role == "agent" and confirmed)
            )
            else 404
        ),
        "award_notice_pdf": lambda: (
            200 if reached(stage, "awarded") and role in ("owner", *OVERSEERS) else 404
        ),
        "my_bids": lambda: 200 if role in ("owner", "other") else 403,
        "my_evaluations": lambda: 200 if role in ("member", "outsider") else 403,
    }
    return rules[name]()


def text_of(response: Any) -> str:
    """What a response says: JSON or HTML as text, a PDF's extracted text."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type", "").startswith("application/pdf"):
        return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    return content.decode()


def get(world: World, surface: str, role: str, url: str) -> Any:
    return (world.api(role) if surface == "api" else world.client(role)).get(url)


@pytest.mark.parametrize("stage", STAGES)
def test_every_role_reads_what_the_stage_allows(users, stage):
    world = build(users, stage)
    wrong = []
    with world.at():
        for surface, endpoints in (("api", API_READS), ("page", PAGE_READS)):
            for name, url in endpoints.items():
                for role in ROLES:
                    status = get(world, surface, role, url(world)).status_code
                    want = expected_read(surface, name, role, stage)
                    if status != want:
                        wrong.append(f"{surface} {name} as {role}: {status}, expected {want}")
    assert not wrong, "\n".join(wrong)


def _everything(world: World, role: str) -> str:
    texts = []
    for surface, endpoints in (("api", API_READS), ("page", PAGE_READS)):
        for url in endpoints.values():
            response = get(world, surface, role, url(world))
            if response.status_code == 200:
                texts.append(text_of(response))
    return "\n".join(texts)


def test_before_the_deadline_bidders_are_counted_never_named(users):
    world = build(users, "bidding")
    with world.at():
        for role in ROLES:
            seen = _everything(world, role)
            # The third bidder is nobody's business before the opening; the other bidder only its own.
            assert "丙建设公司" not in seen, role
            if role != "other":
                assert "乙建设公司" not in seen, role
            status = world.api(role).get(reverse("api_bidding_lot", args=[world.lot.pk])).json()
            assert status["bids_count"] == (3 if role in OVERSEERS else None), role
            assert status["progress"] is None


def test_a_supplier_sees_only_its_own_bid(users):
    world = build(users, "bidding")
    owner_receipt = world.bid("owner").receipt_sha256
    with world.at():
        mine = world.api("other").get(reverse("api_my_bids")).json()["results"]
        assert [row["organization"]["name"] for row in mine] == ["乙建设公司"]
        for role in ROLES:
            if role == "owner":
                continue
            assert owner_receipt not in _everything(world, role), role


def test_during_the_opening_only_the_bidder_sees_its_decrypted_price(users):
    world = build(users, "decrypting")
    owner_price = price_texts(PRICES["owner"])
    with world.at():
        for role in ROLES:
            seen = _everything(world, role)
            shown = [text for text in owner_price if text in seen]
            if role == "owner":
                assert shown, "the bidder sees the price it decrypted"
            else:
                assert not shown, f"{role} saw the price before the record: {shown}"
        # Overseers follow the progress: names and outcomes, never prices.
        progress = world.api("agent").get(reverse("api_bidding_lot", args=[world.lot.pk])).json()
        assert progress["progress"] == {"awaiting": 2, "decrypted": 1, "failed": 0}


def test_after_the_opening_everyone_reads_the_record_with_prices(users):
    world = build(users, "opened")
    with world.at():
        for role in ROLES:
            record = world.api(role).get(reverse("api_opening_record", args=[world.lot.pk]))
            prices = {row["price"] for row in record.json()["record"]["bids"]}
            assert prices == set(PRICES.values()), role
        # Overseers now read every bid, each supplier still only its own.
        other_bid = world.bid("other").pk
        for role in ROLES:
            status = world.api(role).get(reverse("api_bid", args=[other_bid])).status_code
            want = 200 if role in OVERSEERS | {"other"} else (403 if role == "anonymous" else 404)
            assert status == want, role


def test_scores_are_for_staff_supervisors_and_each_members_own(users):
    world = build(users, "reported")
    url = reverse("api_evaluation_scores", args=[world.lot.pk])
    with world.at():
        assert len(world.api("supervisor").get(url).json()) == 15  # 5 members × 3 bids
        assert len(world.api("staff").get(url).json()) == 15
        own = world.api("member").get(url).json()
        assert len(own) == 3
        assert {row["expert"] for row in own} == {world.members[0].expert.name}
        # The agent gets the report only once every member signed; never the scores.
        assert (
            world.api("agent").get(reverse("api_evaluation", args=[world.lot.pk])).status_code
            == 404
        )


# --- Actions --------------------------------------------------------------------------------------


def post(world: World, surface: str, role: str, url: str, data: dict | None = None) -> Any:
    if surface == "api":
        multipart = any(isinstance(v, SimpleUploadedFile) for v in (data or {}).values())
        return world.api(role).post(url, data or {}, format="multipart" if multipart else "json")
    return world.client(role).post(url, data or {})


def refused_status(surface: str, role: str, status: int) -> int:
    """Anonymous: the API refuses (403), a page behind login redirects to it (302)."""
    if role == "anonymous":
        return 403 if surface == "api" else 302
    return status


def run_action(
    world: World,
    surface: str,
    url: str,
    data: Callable[[str], dict],
    *,
    allowed: dict[str, int],
    refused: dict[str, int],
    unchanged: Callable[[], Any],
) -> None:
    """Every refused role first (the state must not move), then the allowed ones."""
    assert set(allowed) | set(refused) == set(ROLES)
    before = unchanged()
    wrong = []
    for role, status in refused.items():
        got = post(world, surface, role, url, data(role)).status_code
        want = refused_status(surface, role, status)
        if got != want:
            wrong.append(f"{role}: {got}, expected {want}")
    assert unchanged() == before, "a refused call changed the state"
    for role, status in allowed.items():
        got = post(world, surface, role, url, data(role)).status_code
        if got != status:
            wrong.append(f"{role}: {got}, expected {status}")
    assert not wrong, "\n".join(wrong)


def _rest(allowed: set[str], status: int) -> dict[str, int]:
    return {role: status for role in ROLES if role not in allowed}


SUBMIT_OK = {"api": 201, "page": 302}
POST_OK = {"api": 200, "page": 302}


@pytest.mark.parametrize("surface", ["api", "page"])
def test_only_registered_suppliers_submit_and_modify(users, surface):
    world = build(users, "bidding")

    def data(role: str) -> dict:
        payload = {"price": NEW_PRICE, "decryption_code": CODE}
        if surface == "page":
            payload["decryption_code_again"] = CODE
        return payload

    url = (
        reverse("api_bid_submit", args=[world.lot.pk])
        if surface == "api"
        else reverse("bid_form", args=[world.lot.pk])
    )
    with world.at():
        run_action(
            world,
            surface,
            url,
            data,
            allowed={"owner": SUBMIT_OK[surface], "other": SUBMIT_OK[surface]},
            refused=_rest({"owner", "other"}, 403),
            unchanged=lambda: sorted(Bid.objects.values_list("pk", "version")),
        )
    assert world.bid("owner").version == 2 and world.bid("other").version == 2
    assert Bid.objects.count() == 3


@pytest.mark.parametrize("surface", ["api", "page"])
def test_only_the_owner_withdraws_its_bid(users, surface):
    world = build(users, "bidding")
    if surface == "api":
        url = reverse("api_bid_withdraw", args=[world.bid("owner").pk])
        refused = _rest({"owner"}, 404)  # nobody else sees the bid before the opening
        allowed = {"owner": 200}
    else:
        # The page withdraws the caller's own bid on the lot: the other supplier withdraws its own.
        url = reverse("bid_withdraw", args=[world.lot.pk])
        refused = _rest({"owner", "other"}, 404)
        allowed = {"other": 302, "owner": 302}
    with world.at():
        run_action(
            world,
            surface,
            url,
            lambda role: {},
            allowed=allowed,
            refused=refused,
            unchanged=lambda: world.bid("owner").status,
        )
    assert world.bid("owner").status == Bid.Status.WITHDRAWN


@pytest.mark.parametrize("surface", ["api", "page"])
def test_only_the_owner_decrypts_its_bid(users, surface):
    world = build(users, "decrypting", owner_decrypts=False)
    if surface == "api":
        url = reverse("api_bid_decrypt", args=[world.bid("owner").pk])
        refused = _rest({"owner"}, 404)
        allowed = {"owner": 200}
    else:
        url = reverse("bid_decrypt", args=[world.lot.pk])
        refused = _rest({"owner", "other"}, 404)
        allowed = {"other": 302, "owner": 302}
    with world.at():
        run_action(
            world,
            surface,
            url,
            lambda role: {"decryption_code": CODE},
            allowed=allowed,
            refused=refused,
            unchanged=lambda: world.bid("owner").status,
        )
    assert world.bid("owner").price is not None


def test_nobody_decrypts_or_opens_before_the_deadline(users):
    world = build(users, "bidding")
    with world.at():
        response = world.api("owner").post(
            reverse("api_bid_decrypt", args=[world.bid("owner").pk]), {"decryption_code": CODE}
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "BEFORE_DEADLINE"
    assert AuditEvent.objects.filter(action="bidding.key.early_access_refused").count() == 1
    assert world.bid("owner").price is None


@pytest.mark.parametrize("surface", ["api", "page"])
def test_only_committee_members_score(users, surface):
    world = build(users, "evaluating")
    bid = world.bid("owner")
    if surface == "api":
        url = reverse("api_evaluation_scores", args=[world.lot.pk])
    else:
        url = reverse("evaluation_score", args=[world.lot.pk, bid.pk])

    def data(role: str) -> dict:
        if surface == "api":
            return {"bid": bid.pk, "compliant": True}
        return {f"b{bid.pk}-compliant": "yes"}

    refused = _rest({"member"}, 404)
    refused.update({"staff": 403, "supervisor": 403})  # they see the evaluation, they do not score
    with world.at():
        run_action(
            world,
            surface,
            url,
            data,
            allowed={"member": POST_OK[surface]},
            refused=refused,
            unchanged=lambda: Score.objects.count(),
        )
    assert Score.objects.count() == 1


@pytest.mark.parametrize("surface", ["api", "page"])
def test_only_committee_members_sign_the_report(users, surface):
    world = build(users, "reported")
    url = reverse(
        "api_evaluation_confirm" if surface == "api" else "evaluation_confirm",
        args=[world.lot.pk],
    )
    refused = _rest({"member"}, 404)
    refused.update({"staff": 403, "supervisor": 403})
    with world.at():
        run_action(
            world,
            surface,
            url,
            lambda role: {"dissent": ""},
            allowed={"member": POST_OK[surface]},
            refused=refused,
            unchanged=lambda: sorted(
                Evaluation.objects.get().members.values_list("confirmed_at", flat=True),
                key=str,
            ),
        )
    assert Evaluation.objects.get().members.filter(confirmed_at__isnull=False).count() == 1


@pytest.mark.parametrize("surface", ["api", "page"])
def test_only_the_projects_agent_publishes_candidates(users, surface):
    world = build(users, "confirmed")
    url = reverse("api_publicity" if surface == "api" else "publicity_publish", args=[world.lot.pk])
    with world.at():
        run_action(
            world,
            surface,
            url,
            lambda role: {},
            allowed={"agent": SUBMIT_OK[surface]},
            refused=_rest({"agent"}, 403),
            unchanged=lambda: Publicity.objects.count(),
        )
    assert Publicity.objects.count() == 1


@pytest.mark.parametrize("surface", ["api", "page"])
def test_only_the_projects_agent_awards(users, surface):
    world = build(users, "publicity")
    url = reverse("api_award" if surface == "api" else "award_issue", args=[world.lot.pk])
    ends = Publicity.objects.get().ends_at
    with travel(ends + dt.timedelta(minutes=1)):
        run_action(
            world,
            surface,
            url,
            lambda role: {},
            allowed={"agent": POST_OK[surface]},
            refused=_rest({"agent"}, 403),
            unchanged=lambda: Publicity.objects.get().status,
        )
    assert Publicity.objects.get().winner == users["owner"].organization


def test_only_bidders_answer_the_record_and_only_the_agent_replies(users):
    world = build(users, "opened")
    url = reverse("api_opening_responses", args=[world.lot.pk])
    with world.at():
        run_action(
            world,
            "api",
            url,
            lambda role: {"confirmed": role == "owner", "objection": "报价记录有误"},
            allowed={"owner": 201, "other": 201},
            refused=_rest({"owner", "other"}, 403),
            unchanged=lambda: OpeningResponse.objects.count(),
        )
        objection = OpeningResponse.objects.get(confirmed=False)
        answer = reverse("api_opening_answer", args=[objection.pk])
        run_action(
            world,
            "api",
            answer,
            lambda role: {"answer": "以解密结果为准。"},
            allowed={"agent": 200},
            # The objecting bidder sees its objection (403); staff and supervisors see all (403).
            refused={
                **_rest({"agent", "other", "staff", "supervisor"}, 404),
                "other": 403,
                "staff": 403,
                "supervisor": 403,
            },
            unchanged=lambda: OpeningResponse.objects.get(pk=objection.pk).answered_at,
        )


def test_only_staff_start_evaluation_and_compile_the_report(users):
    world = build(users, "opened")
    with world.at():
        run_action(
            world,
            "api",
            reverse("api_evaluation_start", args=[world.lot.pk]),
            lambda role: {"draw": world.draw.pk, "scheme": "lowest_price"},
            allowed={"staff": 201},
            refused=_rest({"staff"}, 403),
            unchanged=lambda: Evaluation.objects.count(),
        )
    from accounts.actors import Actor
    from bidding import evaluation as ev

    with travel(world.deadline + dt.timedelta(hours=3)):
        for member in world.members:
            for bid in Bid.objects.filter(lot=world.lot):
                ev.score_bid(Actor.for_user(member), bid, compliant=True)
        refused = _rest({"staff"}, 404)
        refused.update({"supervisor": 403, "member": 403})
        run_action(
            world,
            "api",
            reverse("api_evaluation_compile", args=[world.lot.pk]),
            lambda role: {},
            allowed={"staff": 200},
            refused=refused,
            unchanged=lambda: Evaluation.objects.get().status,
        )
    assert Evaluation.objects.get().status == Evaluation.Status.REPORTED


# --- No price before the deadline ----------------------------------------------------------------


def _writes(world: World) -> list[tuple[str, str, Callable[[str], dict]]]:
    """Every write of the API and the pages, with a body that itself holds no price of a bid."""
    lot, bid = world.lot.pk, world.bid("owner").pk
    upload = lambda role: {  # noqa: E731
        "price": NEW_PRICE,
        "decryption_code": CODE,
        "files": SimpleUploadedFile("技术标.pdf", b"%PDF technical proposal"),
    }
    return [
        ("api", reverse("api_bid_submit", args=[lot]), upload),
        ("api", reverse("api_bid_decrypt", args=[bid]), lambda r: {"decryption_code": CODE}),
        ("api", reverse("api_opening_responses", args=[lot]), lambda r: {"confirmed": True}),
        (
            "api",
            reverse("api_evaluation_start", args=[lot]),
            lambda r: {"draw": world.draw.pk, "scheme": "lowest_price"},
        ),
        (
            "api",
            reverse("api_evaluation_scores", args=[lot]),
            lambda r: {"bid": bid, "compliant": True},
        ),
        ("api", reverse("api_evaluation_more_time", args=[lot]), lambda r: {}),
        ("api", reverse("api_evaluation_compile", args=[lot]), lambda r: {}),
        ("api", reverse("api_evaluation_confirm", args=[lot]), lambda r: {}),
        ("api", reverse("api_publicity", args=[lot]), lambda r: {}),
        ("api", reverse("api_publicity_objections", args=[lot]), lambda r: {"text": "异议"}),
        ("api", reverse("api_award", args=[lot]), lambda r: {}),
        ("api", reverse("api_contract", args=[lot]), lambda r: {}),
        ("api", reverse("api_refusal", args=[lot]), lambda r: {"reason": "拒签"}),
        # A form that fails must not echo the price back either (the codes do not match).
        (
            "page",
            reverse("bid_form", args=[lot]),
            lambda r: {
                "price": NEW_PRICE,
                "decryption_code": CODE,
                "decryption_code_again": "different-code",
            },
        ),
        ("page", reverse("bid_decrypt", args=[lot]), lambda r: {"decryption_code": CODE}),
        ("page", reverse("record_respond", args=[lot]), lambda r: {"answer": "confirm"}),
        (
            "page",
            reverse("evaluation_start", args=[lot]),
            lambda r: {"draw": world.draw.pk, "scheme": "lowest_price", "hours": "8"},
        ),
        (
            "page",
            reverse("evaluation_score", args=[lot, bid]),
            lambda r: {f"b{bid}-compliant": "yes"},
        ),
        ("page", reverse("evaluation_more_time", args=[lot]), lambda r: {}),
        ("page", reverse("evaluation_compile", args=[lot]), lambda r: {}),
        ("page", reverse("evaluation_confirm", args=[lot]), lambda r: {}),
        ("page", reverse("publicity_publish", args=[lot]), lambda r: {}),
        ("page", reverse("publicity_object", args=[lot]), lambda r: {"publicity-text": "异议"}),
        ("page", reverse("award_issue", args=[lot]), lambda r: {}),
        ("page", reverse("contract_record", args=[lot]), lambda r: {}),
        ("page", reverse("refusal_record", args=[lot]), lambda r: {"refusal-text": "拒签"}),
        ("api", reverse("api_bid_withdraw", args=[bid]), lambda r: {}),
        ("page", reverse("bid_withdraw", args=[lot]), lambda r: {}),
        # And submitted again, successfully, through the page: the receipt it leads to holds no price.
        (
            "page",
            reverse("bid_form", args=[lot]),
            lambda r: {"price": NEW_PRICE, "decryption_code": CODE, "decryption_code_again": CODE},
        ),
    ]


def test_no_code_path_yields_a_price_before_the_deadline(users):
    """Every bidding API endpoint and page, read and written, as every role, before the deadline:
    no response contains a bid's price in any form (as stored, with separators, in PDFs)."""
    world = build(
        users, "bidding", files=[SimpleUploadedFile("技术标.pdf", b"%PDF price 34876543.21")]
    )
    secrets = price_texts(*PRICES.values(), NEW_PRICE)
    leaks = []

    def check(label: str, response: Any) -> None:
        if response.status_code >= 500:
            leaks.append(f"{label}: server error {response.status_code}")
            return
        body = text_of(response)
        found = [s for s in secrets if s in body]
        if found:
            leaks.append(f"{label}: {found}")

    with world.at():
        for role in ROLES:
            for surface, endpoints in (("api", API_READS), ("page", PAGE_READS)):
                for name, url in endpoints.items():
                    check(f"GET {name} as {role}", get(world, surface, role, url(world)))
            for surface, url, data in _writes(world):
                if surface == "page":
                    # Follow the redirect: the page a write leads to must show no price either.
                    response = world.client(role).post(url, data(role), follow=True)
                else:
                    response = post(world, surface, role, url, data(role))
                check(f"POST {url} as {role}", response)
            for name, url in PAGE_READS.items():
                check(f"GET {name} as {role} after writes", get(world, "page", role, url(world)))
    assert not leaks, "\n".join(leaks)
    assert not Bid.objects.filter(price__isnull=False).exists()
    assert not any(s in str(event.payload) for event in AuditEvent.objects.all() for s in secrets)
