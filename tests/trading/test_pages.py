"""The trading pages: who may reach each one (permitted/denied pairs), and forms that keep the user's
input and show the service's message when it refuses."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from accounts.actors import Actor
from accounts.models import Organization, Role
from clock.models import StatutoryDay
from notifications.models import Notice
from notifications.services import notify
from tests.amounts import PAGE_MESSAGE, REFUSED_TEXT
from tests.conftest import make_org, make_user
from tests.trading.factories import beijing, draft, published
from trading import services
from trading.models import Announcement, Project, Question, Registration

pytestmark = pytest.mark.django_db

T0 = beijing("2026-03-02 09:00")


def travel(moment: dt.datetime):
    return time_machine.travel(moment, tick=False)


def page(response) -> str:
    return response.content.decode()


@pytest.fixture
def owner(db) -> Organization:
    return make_org(Organization.Kind.OWNER, "珠海市教育局")


@pytest.fixture
def rival(db):
    return make_user("rival", Role.AGENT, make_org(Organization.Kind.AGENT, "另一代理"))


def project_post(owner: Organization, **overrides) -> dict[str, str]:
    """The create/edit form as a browser posts it: Beijing times from datetime-local inputs."""
    data = {
        "owner": str(owner.pk),
        "title": "香洲区第二小学改扩建工程",
        "description": "改扩建教学楼。",
        "kind": "construction",
        "category": "works",
        "method": "open",
        "region": "440402",
        "mandatory_tender": "on",
        "registration_required": "on",
        "bid_validity_days": "90",
        "documents_from": "2026-03-02T10:00",
        "documents_until": "2026-03-09T17:00",
        "questions_until": "2026-03-12T17:00",
        "bid_deadline": "2026-03-27T09:30",
        "deposit_deadline": "",
        "lots-TOTAL_FORMS": "2",
        "lots-INITIAL_FORMS": "0",
        "lots-MIN_NUM_FORMS": "1",
        "lots-MAX_NUM_FORMS": "50",
        "lots-0-name": "施工",
        "lots-0-estimate": "20000000.00",
        "lots-0-ceiling_price": "19000000.00",
        "lots-0-deposit_amount": "400000.00",
        "lots-0-deposit_forms": ["cash", "bank_guarantee"],
        "lots-1-name": "",
        "lots-1-estimate": "",
        "lots-1-ceiling_price": "",
        "lots-1-deposit_amount": "0",
    }
    data.update(overrides)
    return data


# --- Agent pages ----------------------------------------------------------------------------------


def test_it_creates_a_draft_with_lots_and_beijing_times(client, agent, owner):
    client.force_login(agent)
    assert client.get("/projects/new/").status_code == 200
    with travel(T0):
        response = client.post("/projects/new/", project_post(owner))
    project = Project.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{project.pk}/"
    assert project.bid_deadline == beijing("2026-03-27 09:30")
    assert project.deposit_deadline == project.bid_deadline
    lot = project.lots.get()
    assert (lot.estimate, lot.ceiling_price, lot.deposit_amount) == (
        Decimal("20000000.00"),
        Decimal("19000000.00"),
        Decimal("400000.00"),
    )
    assert lot.deposit_forms == ["cash", "bank_guarantee"]
    # The edit form shows the stored UTC times back in Beijing time.
    edit = page(client.get(f"/projects/{project.pk}/edit/"))
    assert 'value="2026-03-27T09:30"' in edit


def test_it_keeps_the_input_and_shows_the_service_error(client, agent, owner):
    client.force_login(agent)
    data = project_post(owner, **{"lots-0-deposit_amount": "900000.00"})
    response = client.post("/projects/new/", data)
    assert response.status_code == 400
    html = page(response)
    assert "保证金不得超过估算价/预算的 2%" in html
    assert 'value="香洲区第二小学改扩建工程"' in html
    assert 'value="900000.00"' in html
    assert not Project.objects.exists()


def test_it_refuses_an_invalid_form_without_calling_the_service(client, agent, owner):
    client.force_login(agent)
    response = client.post("/projects/new/", project_post(owner, **{"lots-0-estimate": "abc"}))
    assert response.status_code == 200
    assert 'value="abc"' in page(response)
    assert not Project.objects.exists()


@pytest.mark.parametrize(("value", "code"), REFUSED_TEXT)
def test_a_lot_amount_on_the_form_is_held_to_the_one_contract(client, agent, owner, value, code):
    client.force_login(agent)
    response = client.post("/projects/new/", project_post(owner, **{"lots-0-estimate": value}))
    assert response.status_code == 200
    assert PAGE_MESSAGE[code] in page(response)
    assert not Project.objects.exists()


@pytest.mark.parametrize(("value", "code"), REFUSED_TEXT)
def test_a_bad_amount_in_an_edit_changes_nothing(client, agent, owner, value, code):
    project = draft(agent, owner=owner)
    client.force_login(agent)
    data = project_post(
        owner,
        title="改过的名称",
        **{"lots-TOTAL_FORMS": "1", "lots-0-ceiling_price": value},
    )
    response = client.post(f"/projects/{project.pk}/edit/", data)
    assert PAGE_MESSAGE[code] in page(response)
    project.refresh_from_db()
    assert project.title != "改过的名称"
    assert project.lots.get().ceiling_price == Decimal("36500000.00")


def test_amount_inputs_carry_the_page_helper_and_no_length_cap(client, agent):
    """The browser script (static/js/amount-input.js) finds its inputs by data-amount; typed
    separators may make the text longer than the amount, so the page does not cut it."""
    client.force_login(agent)
    html = page(client.get("/projects/new/"))
    assert "js/amount-input.js" in html
    for name in ("lots-0-estimate", "lots-0-ceiling_price", "lots-0-deposit_amount"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
        assert 'data-amount="1"' in tag and 'inputmode="decimal"' in tag
        assert "maxlength" not in tag


def test_it_lists_only_the_agents_own_projects(client, agent, rival):
    mine, theirs = draft(agent, title="我的项目甲"), draft(rival, title="别人的项目乙")
    client.force_login(agent)
    html = page(client.get("/projects/"))
    assert mine.title in html
    assert theirs.title not in html


def test_another_agents_project_is_not_found(client, agent, rival, owner):
    theirs = draft(rival)
    client.force_login(agent)
    for url in ("", "edit/"):
        assert client.get(f"/projects/{theirs.pk}/{url}").status_code == 404
    for action in ("submit", "publish", "terminate", "register", "ask", "object", "documents"):
        assert client.post(f"/projects/{theirs.pk}/{action}/").status_code == 404
    assert client.post(f"/projects/{theirs.pk}/edit/", project_post(owner)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Project.Status.DRAFT


def test_suppliers_cannot_reach_agent_pages(client, agent, staff, supplier, owner):
    a_draft = draft(agent)
    public = published(agent, staff, title="已发布的项目")
    client.force_login(supplier)
    assert client.get("/projects/").status_code == 403
    assert client.get("/projects/new/").status_code == 403
    assert client.post("/projects/new/", project_post(owner)).status_code == 403
    assert client.get(f"/projects/{a_draft.pk}/").status_code == 404
    # A published project is public: the supplier sees it, but may not change it.
    assert client.get(f"/projects/{public.pk}/").status_code == 200
    assert client.get(f"/projects/{public.pk}/edit/").status_code == 403
    assert client.get(f"/projects/{public.pk}/amend/").status_code == 403
    response = client.post(f"/projects/{public.pk}/terminate/", {"terminate-reason": "捣乱"})
    assert response.status_code == 403
    assert "您没有执行此操作的权限" in page(response)
    public.refresh_from_db()
    assert public.status == Project.Status.PUBLISHED


def test_the_agent_edits_a_draft_and_cannot_edit_it_once_submitted(client, agent, owner):
    with travel(T0):
        project = draft(agent, owner=owner, start=beijing("2026-03-02 10:00"))
        client.force_login(agent)
        data = project_post(
            owner,
            title="改过的名称",
            **{
                "lots-TOTAL_FORMS": "1",
                "lots-INITIAL_FORMS": "1",
                "lots-0-name": "施工总承包",
                "lots-0-estimate": "38000000.00",
                "lots-0-ceiling_price": "36500000.00",
                "lots-0-deposit_amount": "500000.00",
            },
        )
        assert client.post(f"/projects/{project.pk}/edit/", data).status_code == 302
        project.refresh_from_db()
        assert project.title == "改过的名称"
        assert client.post(f"/projects/{project.pk}/submit/").status_code == 302
        response = client.post(f"/projects/{project.pk}/edit/", {**data, "title": "偷改"})
    assert response.status_code == 409
    html = page(response)
    assert "不能执行此操作" in html
    assert 'value="偷改"' in html
    project.refresh_from_db()
    assert project.title == "改过的名称"


def test_submitting_an_incomplete_timeline_shows_why(client, agent):
    project = draft(agent, bid_deadline=None)
    client.force_login(agent)
    response = client.post(f"/projects/{project.pk}/submit/")
    assert response.status_code == 400
    assert "时间安排不完整" in page(response)
    project.refresh_from_db()
    assert project.status == Project.Status.DRAFT


def test_an_upload_shows_its_sha256(client, agent, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    project = draft(agent)
    client.force_login(agent)
    upload = SimpleUploadedFile("招标文件.pdf", b"%PDF-1.4 tender", content_type="application/pdf")
    response = client.post(
        f"/projects/{project.pk}/documents/", {"title": "招标文件", "file": upload}, follow=True
    )
    document = project.documents.get()
    assert document.sha256 in page(response)
    assert "已上传" in page(response)


# --- Staff review ---------------------------------------------------------------------------------


def submitted(agent) -> Project:
    project = draft(agent)
    services.submit_project(Actor.for_user(agent), project)
    return project


def test_staff_review_the_queue_and_approve(client, agent, staff):
    project = submitted(agent)
    client.force_login(staff)
    queue = page(client.get("/review/"))
    assert project.title in queue
    response = client.post(f"/projects/{project.pk}/approve/", {"origin": "review"})
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.status == Project.Status.APPROVED
    assert project.title not in page(client.get("/review/"))


def test_returning_needs_a_reason_and_keeps_the_page(client, agent, staff):
    project = submitted(agent)
    client.force_login(staff)
    field = f"r{project.pk}-reason"
    response = client.post(f"/projects/{project.pk}/return/", {"origin": "review", field: " "})
    assert response.status_code == 400
    assert "退回时必须说明理由" in page(response)
    response = client.post(
        f"/projects/{project.pk}/return/", {"origin": "review", field: "缺少资金证明"}
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.status, project.return_reason) == (Project.Status.RETURNED, "缺少资金证明")
    # The agent sees why on the project page.
    client.force_login(agent)
    assert "缺少资金证明" in page(client.get(f"/projects/{project.pk}/"))


def test_agents_and_suppliers_cannot_review(client, agent, supplier):
    project = submitted(agent)
    for user in (agent, supplier):
        client.force_login(user)
        assert client.get("/review/").status_code == 403
    client.force_login(agent)
    assert client.post(f"/projects/{project.pk}/approve/").status_code == 403
    project.refresh_from_db()
    assert project.status == Project.Status.SUBMITTED


def test_a_supervisor_views_everything_and_changes_nothing(client, agent, supervisor, owner):
    project = submitted(agent)
    client.force_login(supervisor)
    assert client.get("/projects/").status_code == 200
    assert project.title in page(client.get("/projects/"))
    assert client.get(f"/projects/{project.pk}/").status_code == 200
    assert client.get(f"/projects/{project.pk}/edit/").status_code == 403
    assert client.get("/review/").status_code == 403
    assert client.post(f"/projects/{project.pk}/approve/").status_code == 403
    assert client.get("/calendar/").status_code == 200
    response = client.post("/calendar/days/", {"date": "2027-01-01", "kind": "holiday"})
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.status == Project.Status.SUBMITTED
    assert not StatutoryDay.objects.exists()


# --- Publishing, amendments, questions, objections ------------------------------------------------


def test_the_agent_publishes_an_approved_project(client, agent, staff):
    project = submitted(agent)
    services.approve_project(Actor.for_user(staff), project)
    client.force_login(agent)
    response = client.post(f"/projects/{project.pk}/publish/", follow=True)
    project.refresh_from_db()
    assert project.status == Project.Status.PUBLISHED
    assert "公告已发布" in page(response)


def test_an_amendment_late_in_the_tender_shows_the_moved_deadline(client, agent, staff):
    with travel(T0):
        project = published(agent, staff, start=T0 + dt.timedelta(hours=1))
    deadline = project.bid_deadline
    client.force_login(agent)
    with travel(deadline - dt.timedelta(days=10)):
        response = client.post(
            f"/projects/{project.pk}/amend/",
            {"title": "变更一", "body": "工期调整", "affects_bid_preparation": "on"},
            follow=True,
        )
    project.refresh_from_db()
    assert project.bid_deadline > deadline
    html = page(response)
    assert "变更公告已发布" in html
    assert "投标截止时间已由" in html
    moved = project.bid_deadline.astimezone(T0.tzinfo).strftime("%Y-%m-%d %H:%M")
    assert moved in html


def test_an_amendment_refused_keeps_the_text(client, agent, staff):
    with travel(T0):
        project = published(agent, staff, start=T0 + dt.timedelta(hours=1))
    client.force_login(agent)
    with travel(project.bid_deadline + dt.timedelta(minutes=1)):
        response = client.post(
            f"/projects/{project.pk}/amend/", {"title": "迟到的变更", "body": "内容保留"}
        )
    assert response.status_code == 409
    html = page(response)
    assert "投标截止时间已过" in html
    assert "内容保留" in html and 'value="迟到的变更"' in html


def test_the_agent_answers_a_question_and_a_refusal_keeps_the_answer(
    client, agent, staff, supplier
):
    with travel(T0):
        project = published(agent, staff, start=T0 + dt.timedelta(hours=1))
        question = services.ask_question(Actor.for_user(supplier), project, text="工期能否延长？")
    client.force_login(agent)
    field = f"q{question.pk}-answer"
    with travel(project.bid_deadline + dt.timedelta(minutes=1)):
        response = client.post(f"/questions/{question.pk}/answer/", {field: "不能延长。"})
    assert response.status_code == 409
    assert "不能延长。" in page(response)
    with travel(T0 + dt.timedelta(days=3)):
        response = client.post(f"/questions/{question.pk}/answer/", {field: "不能延长。"})
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.answer == "不能延长。"
    assert Announcement.objects.filter(project=project, kind="clarification").exists()


def test_a_supplier_cannot_answer_questions(client, agent, staff, supplier):
    with travel(T0):
        project = published(agent, staff, start=T0 + dt.timedelta(hours=1))
        question = services.ask_question(Actor.for_user(supplier), project, text="问题")
        client.force_login(supplier)
        response = client.post(f"/questions/{question.pk}/answer/", {f"q{question.pk}-answer": "x"})
    assert response.status_code == 403
    assert Question.objects.get().answered_at is None


def test_a_supplier_objects_and_the_agent_replies(client, agent, staff, supplier):
    with travel(T0):
        project = published(agent, staff, start=T0 + dt.timedelta(hours=1))
    client.force_login(supplier)
    with travel(T0 + dt.timedelta(days=2)):
        response = client.post(
            f"/projects/{project.pk}/object/", {"text": "资格条件排斥潜在投标人"}, follow=True
        )
        assert "异议已提出" in page(response)
        objection = project.objections.get()
    # Another supplier does not see the objection; the agent does, and replies.
    client.force_login(agent)
    with travel(T0 + dt.timedelta(days=3)):
        detail = page(client.get(f"/projects/{project.pk}/"))
        assert "资格条件排斥潜在投标人" in detail
        response = client.post(
            f"/objections/{objection.pk}/reply/", {f"o{objection.pk}-reply": "已修改资格条件"}
        )
    assert response.status_code == 302
    objection.refresh_from_db()
    assert objection.reply == "已修改资格条件"


def test_terminating_needs_a_reason(client, agent, staff):
    project = published(agent, staff)
    client.force_login(agent)
    response = client.post(f"/projects/{project.pk}/terminate/", {"terminate-reason": ""})
    assert response.status_code == 400
    response = client.post(f"/projects/{project.pk}/terminate/", {"terminate-reason": "项目取消"})
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.status == Project.Status.TERMINATED


# --- Suppliers ------------------------------------------------------------------------------------


def test_a_supplier_registers_and_sees_it_under_my_registrations(
    client, agent, staff, supplier, other_supplier
):
    with travel(T0):
        project = published(agent, staff, start=T0 - dt.timedelta(minutes=1))
        lot = project.lots.get()
        client.force_login(supplier)
        data = {"lot": str(lot.pk), "contact_name": "张三", "contact_phone": "13800000000"}
        assert client.post(f"/projects/{project.pk}/register/", data).status_code == 302
        again = client.post(f"/projects/{project.pk}/register/", data)
    assert again.status_code == 400
    assert "贵单位已报名该标段" in page(again)
    assert 'value="13800000000"' in page(again)
    assert Registration.objects.get().organization == supplier.organization
    client.force_login(supplier)  # the session began in travelled time
    assert project.title in page(client.get("/registrations/"))
    client.force_login(other_supplier)
    assert project.title not in page(client.get("/registrations/"))
    client.force_login(agent)
    assert client.get("/registrations/").status_code == 403


def test_a_barred_supplier_is_told_why(client, agent, staff, supplier):
    from accounts import services as account_services

    with travel(T0):
        project = published(agent, staff, start=T0 - dt.timedelta(minutes=1))
        account_services.bar_organization(
            Actor.for_user(staff),
            supplier.organization,
            category="bad_conduct",
            source="regulator",
            reason="串通投标",
            barred_from=dt.date(2026, 1, 1),
            barred_until=None,
        )
        client.force_login(supplier)
        response = client.post(
            f"/projects/{project.pk}/register/", {"lot": str(project.lots.get().pk)}
        )
    assert response.status_code == 403
    assert "串通投标" in page(response)
    assert not Registration.objects.exists()


def test_a_supplier_asks_anonymously(client, agent, staff, supplier, other_supplier):
    with travel(T0):
        project = published(agent, staff, start=T0 + dt.timedelta(hours=1))
        client.force_login(supplier)
        client.post(f"/projects/{project.pk}/ask/", {"text": "是否接受联合体投标？"})
        assert "是否接受联合体投标？" in page(client.get(f"/projects/{project.pk}/"))
        # Unanswered questions of others are not shown, and nobody sees who asked.
        client.force_login(other_supplier)
        html = page(client.get(f"/projects/{project.pk}/"))
    assert "是否接受联合体投标？" not in html
    assert Question.objects.get().organization == supplier.organization


def test_notifications_are_per_recipient_and_can_be_marked_read(client, supplier, other_supplier):
    with transaction.atomic():
        notify(
            "message",
            [supplier],
            cause="test:1",
            params={"title": "项目变更：测试", "body": ""},
            url="/portal/",
        )
    notification = Notice.objects.get()
    client.force_login(other_supplier)
    assert "项目变更" not in page(client.get("/notifications/"))
    assert client.post(f"/notifications/{notification.pk}/read/").status_code == 404
    client.force_login(supplier)
    assert 'data-read="0"' in page(client.get("/notifications/"))
    response = client.post(f"/notifications/{notification.pk}/read/", {"open": "1"})
    assert response["Location"] == "/portal/"
    assert 'data-read="1"' in page(client.get("/notifications/"))


# --- The statutory calendar -----------------------------------------------------------------------


def test_staff_see_missing_years_and_enter_a_day(client, staff):
    client.force_login(staff)
    with travel(beijing("2026-11-20 10:00")):
        html = page(client.get("/calendar/"))
        assert "2027 年没有国务院办公厅的放假安排" in html
        # The law's holidays of 2027 are known all the same: 除夕 is 5 February.
        assert "02-05 春节" in html and "01-01 元旦" in html
        response = client.post(
            "/calendar/days/",
            {"date": "2027-01-01", "kind": "holiday", "name": "元旦", "notice": "国办发明电"},
        )
        assert response.status_code == 302
        assert StatutoryDay.objects.get().name == "元旦"
        assert "2027 年没有国务院办公厅的放假安排" not in page(client.get("/calendar/"))
        response = client.post("/calendar/days/", {"date": "", "kind": "holiday", "name": "keep"})
        assert response.status_code == 400
        assert 'value="keep"' in page(response)
        client.post("/calendar/days/remove/", {"remove-date": "2027-01-01"})
    assert not StatutoryDay.objects.exists()


def test_agents_cannot_open_the_calendar(client, agent):
    client.force_login(agent)
    assert client.get("/calendar/").status_code == 403
    assert (
        client.post("/calendar/days/", {"date": "2027-01-01", "kind": "holiday"}).status_code == 403
    )


# --- Home page links ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "links"),
    [
        ("agent", ["/projects/", "/projects/new/"]),
        ("staff", ["/review/", "/calendar/"]),
        ("supplier", ["/portal/", "/registrations/"]),
    ],
)
def test_the_home_page_links_each_role_to_its_pages(client, request, persona, links):
    client.force_login(request.getfixturevalue(persona))
    html = page(client.get("/"))
    for link in links:
        assert f'href="{link}"' in html


def test_the_public_home_page_links_to_the_portal(client):
    assert 'href="/portal/"' in page(client.get("/"))
