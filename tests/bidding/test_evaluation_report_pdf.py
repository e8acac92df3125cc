"""The evaluation report (评标报告) as a signed PDF: a confidential document served exactly to those who
may read the report (center staff and supervisors, a committee member while the committee signs, the
project's agent once every member signed; 404 to anyone else), signed by the platform, carrying the
report hash, the candidates, the rejections, the members' signatures with their dissent and — when a
member signed with a certificate — that electronic signature; a member who has not signed shows 未签署."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from accounts.actors import Actor
from bidding import evaluation as ev
from bidding.models import Evaluation, EvaluationMember
from signing.models import SignedAct
from tests.bidding.world import PRICES, World, build, travel
from tests.pdfsigned import assert_platform_signed
from tests.signing.support import enrol, signed

pytestmark = pytest.mark.django_db

DISSENT = "乙建设公司的工期承诺不合理，本人不同意其排名。"


def text_of(content: bytes) -> str:
    pages = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    # Long hashes and addresses wrap inside their table cells.
    return re.sub(r"\s*\n\s*", "", pages)


def report_url(world: World) -> str:
    return reverse("evaluation_report_pdf", args=[world.lot.pk])


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://ggzy.example.cn"


@pytest.fixture
def dissenting(users, settings, site):
    """The report compiled; the first member signed it with a dissent and a certificate, the second
    signed without one (the development fallback), the other three have not signed yet."""
    settings.CA_SIMULATOR = True
    world = build(users, "reported")
    evaluation = Evaluation.objects.get(lot=world.lot)
    first, second = world.members[0], world.members[1]
    # A moment while the report awaits signatures (the "reported" world's own moment).
    assert world.now is not None
    at = world.now + dt.timedelta(minutes=1)
    with travel(at):
        key_pem = enrol(first)
        # The member's electronic signature over the report hash and the dissent, made with the
        # confirmation itself (bidding.evaluation.confirm_report keeps it as a SignedAct).
        seal = signed(
            first,
            key_pem,
            "evaluation.dissent",
            "bidding.evaluation",
            evaluation.pk,
            digest=evaluation.report_sha256,
            details={"text": DISSENT},
        )
        ev.confirm_report(Actor.for_user(first), world.lot, dissent=DISSENT, signed=seal)
        ev.confirm_report(Actor.for_user(second), world.lot)
        act = SignedAct.objects.get(act="evaluation.dissent", user=first)
    world.now = at + dt.timedelta(minutes=1)
    return world, evaluation, act


def test_the_report_is_served_to_staff_supervisors_and_the_committee_while_it_signs(dissenting):
    world, _evaluation, _act = dissenting
    url = report_url(world)
    with world.at():
        for role in ("staff", "supervisor", "member"):
            response = world.client(role).get(url)
            assert response.status_code == 200, role
            assert response["Content-Type"] == "application/pdf"
            # Confidential: never kept by a shared cache.
            assert response["Cache-Control"] == "private, no-store"
        # Not yet to the agent (it gets the report once every member signed), never to the bidders,
        # another project's agent or an expert off the committee.
        for role in ("agent", "owner", "other", "agent2", "outsider"):
            assert world.client(role).get(url).status_code == 404, role
        anonymous = world.client("anonymous").get(url)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
        # The evaluation page that shows the report links to its PDF.
        page = world.client("member").get(reverse("bidding_evaluation", args=[world.lot.pk]))
        assert f'href="{url}"' in page.content.decode()


def test_once_signed_the_agent_gets_the_report_and_the_bidders_still_do_not(users, site):
    world = build(users, "confirmed")
    url = report_url(world)
    with world.at():
        for role in ("agent", "staff", "supervisor"):
            assert world.client(role).get(url).status_code == 200, role
        # A member's part ends with the signed report, as on the evaluation page.
        for role in ("member", "owner", "other", "agent2", "outsider"):
            assert world.client(role).get(url).status_code == 404, role


def test_the_report_is_signed_by_the_platform_and_states_hash_candidates_and_signatures(
    dissenting,
):
    world, evaluation, act = dissenting
    with world.at():
        response = world.client("supervisor").get(report_url(world))
    assert_platform_signed(response.content)
    text = text_of(response.content)
    assert "评标报告" in text and world.project.number in text
    assert evaluation.report_sha256 in text
    candidates = evaluation.report["candidates"]
    assert [c["bidder"] for c in candidates] == ["甲建设公司", "乙建设公司", "丙建设公司"]
    for candidate in candidates:
        assert f"第 {candidate['rank']} 名中标候选人" in text
        assert candidate["bidder"] in text
        assert f"{Decimal(candidate['price']):,.2f}" in text
    for price in PRICES.values():
        assert f"{Decimal(price):,.2f}" in text
    # The committee by name for a supervisor, and every member's score of every bid.
    for member in world.members:
        assert member.expert.name in text
    assert "四、各成员评分" in text and "本副本从略" not in text
    # The signatures: the dissent, the signer's certificate and statement, and who has not signed.
    assert DISSENT in text
    assert act.certificate.sha256[:16] in text and act.statement_sha256 in text
    assert f"https://ggzy.example.cn/signing/acts/{act.pk}/" in text
    assert "未使用数字证书签名" in text
    unsigned = EvaluationMember.objects.filter(evaluation=evaluation, confirmed_at__isnull=True)
    assert unsigned.count() == 3
    assert text.count("未签署") == 3
    assert f"https://ggzy.example.cn/bidding/lots/{world.lot.pk}/evaluation/" in text


def test_the_report_gives_each_members_scores_the_totals_and_each_rejection(users, site):
    """The comprehensive scheme: every member's technical points of every bid, each candidate's
    totals, and a bid the members rejected with their reason."""
    world = build(users, "opened")
    reason = "未按招标文件要求提供项目经理注册证书"
    points = ["81.50", "84.00", "86.25", "88.75", "90.00"]
    start = world.deadline + dt.timedelta(hours=2)
    with travel(start):
        ev.start_evaluation(
            world.actor("staff"),
            world.lot,
            draw=world.draw,
            scheme="comprehensive",
            price_weight=Decimal("0.6"),
        )
    with travel(start + dt.timedelta(hours=1)):
        for member, given in zip(world.members, points, strict=True):
            for role in ("owner", "other"):
                ev.score_bid(
                    Actor.for_user(member),
                    world.bid(role),
                    compliant=True,
                    technical_points=Decimal(given) - (1 if role == "other" else 0),
                )
            ev.score_bid(
                Actor.for_user(member), world.bid("third"), compliant=False, rejection_reason=reason
            )
        evaluation = ev.compile_report(world.actor("staff"), world.lot)
    report = evaluation.report or {}
    assert report["rejected"] == [{"bid": world.bid("third").pk, "reason": reason}]
    candidates = report["candidates"]
    assert [c["bidder"] for c in candidates] == ["甲建设公司", "乙建设公司"]
    with travel(start + dt.timedelta(hours=1, minutes=5)):
        response = world.client("staff").get(report_url(world))
    assert_platform_signed(response.content)
    text = text_of(response.content)
    assert "综合评估法（价格权重 0.600）" in text
    # Each member's points for the winner, beside the member's name.
    for member, given in zip(world.members, points, strict=True):
        assert f"甲建设公司{member.expert.name}是{given}—" in text
    for candidate in candidates:
        assert (
            f"{candidate['rank']}{candidate['bidder']}{Decimal(candidate['price']):,.2f}"
            f"{candidate['technical']}{candidate['total']}"
        ) in text
    assert f"丙建设公司{reason}" in text
    assert "第 3 名中标候选人" not in text


def test_the_agents_copy_leaves_out_the_names_and_each_members_scores(users, site):
    world = build(users, "confirmed")
    evaluation = Evaluation.objects.get(lot=world.lot)
    with world.at():
        agents = world.client("agent").get(report_url(world))
        staffs = world.client("staff").get(report_url(world))
    assert_platform_signed(agents.content)
    agent_text, staff_text = text_of(agents.content), text_of(staffs.content)
    # The same report, by its hash, in both copies.
    assert evaluation.report_sha256 in agent_text and evaluation.report_sha256 in staff_text
    for member in world.members:
        # Until the draw is disclosed only center staff and supervisors know who sat on it.
        assert member.expert.name not in agent_text
        assert member.expert.name in staff_text
    assert "评标专家 1" in agent_text and "本副本从略" in agent_text
    assert "本副本从略" not in staff_text
    # Every member signed: nobody is shown as unsigned.
    assert "未签署" not in agent_text
