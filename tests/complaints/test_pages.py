"""The complaint pages (/complaints/): a case from filing to decision through the pages, who sees
which forms, a 404 for an outsider, the services' refusals shown next to the kept input, and the
English page."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.actors import Actor
from bidding import evaluation as ev
from bidding import services as bidding
from bidding.models import Opening, Publicity
from complaints.models import Complaint, ComplaintDocument, MaterialRequest
from tests.bidding.world import build, people
from tests.trading.factories import beijing, published
from trading import services as trading
from trading.models import Project

pytestmark = pytest.mark.django_db

T0 = beijing("2026-03-02 09:00")  # a Monday


def travel(moment: dt.datetime):
    return time_machine.travel(moment, tick=False)


def page(response) -> str:
    content: bytes = response.content
    return content.decode()


def client_for(user, language: str | None = None) -> Client:
    client = Client()
    client.force_login(user)
    if language:
        client.cookies["django_language"] = language
    return client


def forms_on(html: str) -> set[str]:
    """The ids of the action forms a page offers."""
    return set(re.findall(r'<form [^>]*id="([a-z]+-form)(?:-\d+)?"', html)) - {"complaint-form"}


GP_LOTS = [
    {
        "name": "教学设备",
        "estimate": "1000000.00",
        "deposit_amount": "10000.00",
        "deposit_forms": [],  # GP: every legal form, the supplier chooses
    }
]


@pytest.fixture
def gp_project(agent, staff) -> Project:
    with travel(T0):
        return published(
            agent,
            staff,
            kind="gp",
            category="goods",
            lots=GP_LOTS,
            start=T0 + dt.timedelta(hours=1),
        )


@pytest.fixture
def answered(gp_project, agent, supplier):
    """The supplier's 质疑 to the documents, answered by the agent a day later."""
    with travel(T0 + dt.timedelta(days=2)):
        objection = trading.raise_objection(
            Actor.for_user(supplier), gp_project, text="技术参数指向特定品牌"
        )
    with travel(T0 + dt.timedelta(days=3)):
        trading.reply_objection(Actor.for_user(agent), objection, reply="参数系通用要求，不作修改")
    objection.refresh_from_db()
    return objection


FILED_AT = T0 + dt.timedelta(days=4, hours=1)


def file_through_the_page(supplier, project, objection) -> Complaint:
    with travel(FILED_AT):
        response = client_for(supplier).post(
            f"/complaints/new/?project={project.pk}",
            {
                "prior": f"o-{objection.pk}",
                "facts": "采购文件技术参数指向单一品牌，排斥其他供应商。",
                "claims": "责令修改采购文件。",
            },
        )
    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/complaints/{complaint.pk}/"
    return complaint


# --- Filing ---------------------------------------------------------------------------------------


def test_the_filing_page_shows_the_objections_and_their_window(
    gp_project, answered, supplier, other_supplier
):
    with travel(FILED_AT):
        html = page(client_for(supplier).get(f"/complaints/new/?project={gp_project.pk}"))
        # Without a project: the projects the supplier may complain about.
        chooser = page(client_for(supplier).get("/complaints/new/"))
        outsider = client_for(other_supplier).get(f"/complaints/new/?project={gp_project.pk}")
    assert "技术参数指向特定品牌" in html and "参数系通用要求，不作修改" in html
    assert f'value="o-{answered.pk}"' in html
    assert re.search(r"可在 \d{4}-\d\d-\d\d \d\d:\d\d 前投诉", html)
    assert 'data-state="open"' in html
    # 政府采购: every complaint follows a 质疑, so there is no "none" choice.
    assert 'value="none"' not in html
    assert f"?project={gp_project.pk}" in chooser
    assert outsider.status_code == 404


def test_the_project_page_links_a_supplier_with_an_objection_to_the_complaint_form(
    gp_project, answered, supplier, other_supplier
):
    with travel(FILED_AT):
        own = page(client_for(supplier).get(f"/projects/{gp_project.pk}/"))
        other = page(client_for(other_supplier).get(f"/projects/{gp_project.pk}/"))
    assert f'href="/complaints/new/?project={gp_project.pk}"' in own
    assert "/complaints/new/" not in other


def test_filing_after_the_window_is_refused_with_the_text_kept(gp_project, answered, supplier):
    with travel(T0 + dt.timedelta(days=60)):
        response = client_for(supplier).post(
            f"/complaints/new/?project={gp_project.pk}",
            {"prior": f"o-{answered.pk}", "facts": "迟到的事实", "claims": "迟到的请求"},
        )
    assert response.status_code == 409
    html = page(response)
    assert 'data-code="COMPLAINT_WINDOW_CLOSED"' in html
    assert "投诉期限已过" in html
    assert "迟到的事实" in html and "迟到的请求" in html
    assert not Complaint.objects.exists()


def test_filing_without_choosing_an_objection_or_facts_is_refused(gp_project, answered, supplier):
    client = client_for(supplier)
    with travel(FILED_AT):
        unchosen = client.post(
            f"/complaints/new/?project={gp_project.pk}", {"facts": "事实", "claims": "请求"}
        )
        blank = client.post(
            f"/complaints/new/?project={gp_project.pk}",
            {"prior": f"o-{answered.pk}", "facts": "  ", "claims": "请求保留"},
        )
    assert unchosen.status_code == 400
    assert 'data-code="VALIDATION_ERROR"' in page(unchosen)
    assert blank.status_code == 400
    assert "事实与理由不能为空" in page(blank)
    assert "请求保留" in page(blank)
    assert not Complaint.objects.exists()


def test_an_engineering_process_complaint_needs_no_objection(agent, staff, supplier):
    with travel(T0):
        project = published(agent, staff, start=T0 - dt.timedelta(minutes=1))
        trading.register(Actor.for_user(supplier), project.lots.get())
    client = client_for(supplier)
    with travel(T0 + dt.timedelta(days=3)):
        html = page(client.get(f"/complaints/new/?project={project.pk}"))
        assert 'value="none"' in html and 'name="knew_at"' in html
        response = client.post(
            f"/complaints/new/?project={project.pk}",
            {
                "prior": "none",
                "subject": "process",
                "knew_at": "2026-03-04T10:00",
                "facts": "投标人之间串通投标。",
                "claims": "查处串通投标行为。",
            },
        )
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.subject == Complaint.Subject.PROCESS
    assert complaint.regime == Complaint.Regime.TENDER
    assert complaint.knew_at == beijing("2026-03-04 10:00")


# --- The whole case -------------------------------------------------------------------------------


def test_a_case_runs_from_filing_to_decision_through_the_pages(
    gp_project, answered, agent, supervisor, supplier
):
    complaint = file_through_the_page(supplier, gp_project, answered)
    assert complaint.objection == answered
    assert complaint.status == Complaint.Status.FILED

    # The supervisor finds it in the list, with the acceptance deadline, and accepts it.
    at = FILED_AT + dt.timedelta(hours=2)
    with travel(at):
        boss = client_for(supervisor)
        listing = page(boss.get("/complaints/?status=filed"))
        assert complaint.number in listing and 'data-overdue="0"' in listing
        html = page(boss.get(f"/complaints/{complaint.pk}/"))
        assert 'data-testid="acceptance-countdown"' in html
        due = complaint.acceptance_due_at.astimezone(T0.tzinfo).isoformat()
        assert f'data-countdown-to="{due}"' in html
        response = boss.post(f"/complaints/{complaint.pk}/accept/", follow=True)
    html = page(response)
    assert "已受理" in html
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.ACCEPTED
    assert 'data-testid="decision-countdown"' in html
    explanation = complaint.requests.get()
    assert explanation.party == MaterialRequest.Party.RESPONDENT

    # The agent (the respondent) answers the request for its written explanation.
    at += dt.timedelta(days=1)
    with travel(at):
        respondent = client_for(agent)
        assert 'id="answer-form-' in page(respondent.get(f"/complaints/{complaint.pk}/"))
        response = respondent.post(
            f"/complaints/requests/{explanation.pk}/answer/",
            {f"a{explanation.pk}-answer": "技术参数有三家以上品牌满足。"},
        )
    assert response.status_code == 302
    explanation.refresh_from_db()
    assert explanation.answer == "技术参数有三家以上品牌满足。"

    # The supervisor suspends the procurement for 10 days, then resumes it.
    at += dt.timedelta(hours=1)
    with travel(at):
        boss = client_for(supervisor)
        response = boss.post(
            f"/complaints/{complaint.pk}/suspend/",
            {"suspend-reason": "调查期间暂停采购活动", "suspend-days": "10"},
            follow=True,
        )
        html = page(response)
        assert "已责令暂停采购活动" in html
        assert 'data-testid="suspension-end"' in html
        assert trading.is_suspended(gp_project)
        assert 'id="resume-form"' in html and 'id="suspend-form"' not in html
    at += dt.timedelta(days=2)
    with travel(at):
        response = client_for(supervisor).post(f"/complaints/{complaint.pk}/resume/", follow=True)
        assert "已恢复采购活动" in page(response)
    assert not trading.is_suspended(gp_project)
    suspension = gp_project.suspensions.get()
    assert suspension.lifted_at == at

    # The supervisor uploads its decision letter and decides.
    at += dt.timedelta(hours=1)
    with travel(at):
        boss = client_for(supervisor)
        upload = boss.post(
            f"/complaints/{complaint.pk}/documents/",
            {"title": "处理决定书", "file": SimpleUploadedFile("decision.pdf", b"%PDF-1.4 x")},
        )
        assert upload.status_code == 302
        response = boss.post(
            f"/complaints/{complaint.pk}/decide/",
            {
                "decide-outcome": "upheld",
                "decide-remedy": "correct",
                "decide-decision": "责令采购人修改采购文件后继续开展采购活动。",
            },
            follow=True,
        )
    assert "处理决定已作出" in page(response)
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.DECIDED
    assert complaint.remedy == Complaint.Remedy.CORRECT

    # The supplier reads the whole case file.
    with travel(at + dt.timedelta(minutes=5)):
        html = page(client_for(supplier).get(f"/complaints/{complaint.pk}/"))
        document = ComplaintDocument.objects.get()
        download = client_for(supplier).get(f"/complaints/documents/{document.pk}/")
    assert 'data-outcome="upheld"' in html
    assert "责令采购人修改采购文件后继续开展采购活动。" in html
    kinds = re.findall(r'data-testid="step" data-kind="(\w+)"', html)
    assert kinds == ["filed", "accepted", "request", "answer", "suspended", "resumed", "decided"]
    assert "技术参数有三家以上品牌满足。" in html
    assert "处理决定书" in html
    assert download.status_code == 200
    assert download.getvalue() == b"%PDF-1.4 x"
    # A decided case offers no more forms to anyone.
    assert forms_on(html) == set()


def test_the_complainant_withdraws(gp_project, answered, supplier):
    complaint = file_through_the_page(supplier, gp_project, answered)
    with travel(FILED_AT + dt.timedelta(hours=1)):
        response = client_for(supplier).post(f"/complaints/{complaint.pk}/withdraw/", follow=True)
    assert "投诉已撤回" in page(response)
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.WITHDRAWN


# --- Who sees what --------------------------------------------------------------------------------


def test_each_party_sees_only_its_own_forms_and_outsiders_get_404(
    gp_project, answered, agent, staff, supervisor, supplier, other_supplier
):
    complaint = file_through_the_page(supplier, gp_project, answered)
    url = f"/complaints/{complaint.pk}/"
    with travel(FILED_AT + dt.timedelta(hours=1)):
        assert forms_on(page(client_for(supervisor).get(url))) == {
            "accept-form",
            "refuse-form",
            "suspend-form",
            "upload-form",
        }
        assert forms_on(page(client_for(supplier).get(url))) == {"withdraw-form", "upload-form"}
        assert forms_on(page(client_for(agent).get(url))) == {"upload-form"}
        # Center staff read every case and act on none.
        assert forms_on(page(client_for(staff).get(url))) == set()
        outsider = client_for(other_supplier)
        assert outsider.get(url).status_code == 404
        assert outsider.post(f"{url}withdraw/").status_code == 404
        assert outsider.post(f"{url}accept/").status_code == 404
        # A party cannot act as the regulator.
        assert client_for(supplier).post(f"{url}accept/").status_code == 403
        # Lists: the supervisor and the parties see the case, the outsider does not.
        for user in (supervisor, supplier, agent, staff):
            assert complaint.number in page(client_for(user).get("/complaints/"))
        assert complaint.number not in page(outsider.get("/complaints/"))
        assert client_for(supervisor).post(f"{url}accept/").status_code == 302
        # Accepted: the regulator may ask and decide; the respondent answers its request.
        assert forms_on(page(client_for(supervisor).get(url))) == {
            "request-form",
            "suspend-form",
            "decide-form",
            "upload-form",
        }
        assert forms_on(page(client_for(agent).get(url))) == {"answer-form", "upload-form"}
        assert "answer-form" not in forms_on(page(client_for(supplier).get(url)))
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.ACCEPTED


def test_the_nav_has_complaints_for_supervisors_suppliers_and_agents(
    agent, staff, supervisor, supplier
):
    for user, shown in ((supervisor, True), (supplier, True), (agent, True), (staff, False)):
        html = page(client_for(user).get("/complaints/" if shown else "/"))
        assert ('data-testid="nav-complaints"' in html) is shown


def test_the_list_marks_an_overdue_case_and_filters_by_status(
    gp_project, answered, supervisor, supplier
):
    complaint = file_through_the_page(supplier, gp_project, answered)
    with travel(complaint.acceptance_due_at + dt.timedelta(hours=1)):
        boss = client_for(supervisor)
        overdue = page(boss.get("/complaints/?status=open"))
        decided = page(boss.get("/complaints/?status=decided"))
        detail = page(boss.get(f"/complaints/{complaint.pk}/"))
    assert 'data-overdue="1"' in overdue and 'data-testid="overdue"' in overdue
    assert complaint.number not in decided
    assert 'data-testid="acceptance-due" class="overdue"' in detail


# --- Refusals shown on the page -------------------------------------------------------------------


def test_the_regulators_refusals_are_shown_with_the_input_kept(
    gp_project, answered, supervisor, supplier
):
    complaint = file_through_the_page(supplier, gp_project, answered)
    url = f"/complaints/{complaint.pk}/"
    with travel(FILED_AT + dt.timedelta(hours=1)):
        boss = client_for(supervisor)
        no_reason = boss.post(f"{url}refuse/", {"refuse-reason": " "})
        too_long = boss.post(
            f"{url}suspend/", {"suspend-reason": "暂停理由保留", "suspend-days": "31"}
        )
        early = boss.post(
            f"{url}decide/",
            {"decide-outcome": "dismissed", "decide-decision": "决定保留"},
        )
        refused = boss.post(f"{url}refuse/", {"refuse-reason": "投诉人不是参与采购活动的供应商"})
        again = boss.post(f"{url}accept/")
        refused_page = page(client_for(supplier).get(url))
    assert no_reason.status_code == 400
    assert "不予受理理由不能为空" in page(no_reason)
    assert too_long.status_code == 400
    assert 'data-code="SUSPENSION_DAYS_INVALID"' in page(too_long)
    assert "暂停理由保留" in page(too_long) and 'value="31"' in page(too_long)
    assert early.status_code == 409
    assert 'data-code="WRONG_STATUS"' in page(early)
    assert "决定保留" not in page(early)  # the decide form is not offered on a case not accepted
    assert refused.status_code == 302
    assert again.status_code == 409 and "不允许此操作" in page(again)
    assert 'data-testid="refusal"' in refused_page
    assert "投诉人不是参与采购活动的供应商" in refused_page


def test_a_late_answer_is_refused_on_the_page(gp_project, answered, agent, supervisor, supplier):
    complaint = file_through_the_page(supplier, gp_project, answered)
    with travel(FILED_AT + dt.timedelta(hours=1)):
        client_for(supervisor).post(f"/complaints/{complaint.pk}/accept/")
    explanation = complaint.requests.get()
    with travel(explanation.due_at + dt.timedelta(minutes=1)):
        response = client_for(agent).post(
            f"/complaints/requests/{explanation.pk}/answer/",
            {f"a{explanation.pk}-answer": "迟到的说明"},
        )
        html = page(client_for(agent).get(f"/complaints/{complaint.pk}/"))
    assert response.status_code == 409
    assert "答复期限" in page(response) and "已过" in page(response)
    assert "逾期未答复" in html


# --- English --------------------------------------------------------------------------------------


def test_the_case_page_in_english(gp_project, answered, supervisor, supplier):
    complaint = file_through_the_page(supplier, gp_project, answered)
    with travel(FILED_AT + dt.timedelta(hours=1)):
        response = client_for(supervisor, "en").get(f"/complaints/{complaint.pk}/")
        listing = client_for(supplier, "en").get("/complaints/")
    assert response.status_code == 200 and listing.status_code == 200
    html = page(response)
    assert '<html lang="en">' in html
    assert complaint.number in html and 'id="accept-form"' in html
    mo_file = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.mo"
    if not mo_file.exists():
        pytest.skip("locale/en/LC_MESSAGES/django.mo is not compiled (make messages)")
    assert "Notifications" in html


# --- Complaints that follow the bidding stage's objections ----------------------------------------


@pytest.fixture
def bidders(staff, supervisor, agent, supplier, other_supplier, expert):
    return people(staff, supervisor, agent, supplier, other_supplier, expert)


def test_a_complaint_follows_an_objection_to_the_opening_record(bidders, supplier):
    world = build(bidders, "opened")
    opening = Opening.objects.get(lot=world.lot)
    with world.at():
        response = bidding.respond_to_record(
            world.actor("owner"), opening, confirmed=False, objection="我单位报价读错"
        )
        bidding.answer_record_objection(world.actor("agent"), response, answer="已核对无误")
    client = client_for(supplier)
    assert world.now is not None
    with travel(world.now + dt.timedelta(hours=1)):
        html = page(client.get(f"/complaints/new/?project={world.project.pk}"))
        assert f'value="r-{response.pk}"' in html and "我单位报价读错" in html
        # 招标投标: a complaint about the process needs no objection.
        assert 'value="none"' in html
        filed = client.post(
            f"/complaints/new/?project={world.project.pk}",
            {
                "prior": f"r-{response.pk}",
                "facts": "开标记录报价错误。",
                "claims": "更正开标记录。",
            },
        )
    assert filed.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.opening_response == response
    assert complaint.subject == Complaint.Subject.OPENING
    assert complaint.lot == world.lot


def test_a_complaint_follows_an_objection_to_the_candidates(bidders, other_supplier):
    world = build(bidders, "publicity")
    publicity = Publicity.objects.get(lot=world.lot)
    assert world.now is not None
    with world.at():
        objection = ev.object_to_candidates(
            world.actor("other"), publicity, text="第一中标候选人业绩造假"
        )
    with travel(world.now + dt.timedelta(hours=1)):
        ev.reply_candidate_objection(world.actor("agent"), objection, reply="业绩经核实属实")
    client = client_for(other_supplier)
    with travel(world.now + dt.timedelta(hours=2)):
        html = page(client.get(f"/complaints/new/?project={world.project.pk}"))
        assert f'value="p-{objection.pk}"' in html and "业绩经核实属实" in html
        filed = client.post(
            f"/complaints/new/?project={world.project.pk}",
            {"prior": f"p-{objection.pk}", "facts": "业绩造假。", "claims": "认定中标无效。"},
            follow=True,
        )
    assert "投诉已提交" in page(filed)
    complaint = Complaint.objects.get()
    assert complaint.publicity_objection == objection
    assert complaint.subject == Complaint.Subject.RESULT


def test_uploads_are_refused_to_center_staff_before_the_body_is_read(
    gp_project, answered, staff, supplier
):
    complaint = file_through_the_page(supplier, gp_project, answered)
    with travel(FILED_AT + dt.timedelta(hours=1)):
        response = client_for(staff).post(
            f"/complaints/{complaint.pk}/documents/",
            {"file": SimpleUploadedFile("x.pdf", b"%PDF")},
        )
    assert response.status_code == 403
    assert not ComplaintDocument.objects.exists()
