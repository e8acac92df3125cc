"""The projects API: who may see and change what, and the whole tender from draft to objection."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.actors import Actor
from accounts.models import Organization, Role, User
from audit.models import AuditEvent
from tests.conftest import make_org, make_user
from tests.trading.factories import beijing, draft, published, timeline
from trading import services
from trading.models import Announcement, Project

pytestmark = pytest.mark.django_db

# A Monday morning in a year chinese-calendar covers; every tender here runs inside 2026.
T0 = beijing("2026-03-02 09:00")
START = T0 + dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def traveller():
    with time_machine.travel(T0, tick=False) as moving:
        yield moving


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


# --- Helpers shared by the test_api_* modules -----------------------------------------------------


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def project_body(owner: Organization, start: dt.datetime = START, **overrides: Any) -> dict:
    body: dict[str, Any] = {
        "owner": owner.pk,
        "title": "珠海市第一中学教学楼改造工程",
        "description": "新建教学楼一栋，建筑面积 12,000 平方米。",
        "kind": "construction",
        "category": "works",
        "method": "open",
        **{name: iso(value) for name, value in timeline(start).items()},
        "lots": [
            {
                "name": "施工总承包",
                "estimate": "38000000.00",
                "ceiling_price": "36500000.00",
                "deposit_amount": "500000.00",
                "deposit_forms": ["cash", "bank_guarantee"],
            }
        ],
    }
    body.update(overrides)
    return body


def rival_agent() -> User:
    return make_user("rival", Role.AGENT, make_org(Organization.Kind.AGENT, "另一代理"))


def open_tender(agent: User, staff: User, **overrides: Any) -> Project:
    """A published project whose documents are obtainable now (registration open)."""
    overrides.setdefault("start", T0 - dt.timedelta(hours=1))
    return published(agent, staff, **overrides)


def upload(name: str = "招标文件.pdf", content: bytes = b"%PDF-1.4 tender") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


# --- The whole path -------------------------------------------------------------------------------


def test_the_full_tender_through_the_api(
    api, traveller, agent, staff, supplier, other_supplier, supervisor
):
    owner = make_org(Organization.Kind.OWNER, "珠海市教育局")
    created = api(agent).post("/api/v1/projects/", project_body(owner), format="json")
    assert created.status_code == 201, created.json()
    project = created.json()
    pid = project["id"]
    assert project["status"] == "draft"
    assert project["lots"][0]["ceiling_price"] == "36500000.00"
    assert project["bid_deadline"] == "2026-03-27T10:00:00+08:00"

    document = api(agent).post(
        f"/api/v1/projects/{pid}/documents/", {"file": upload(), "title": "招标文件"}
    )
    assert document.status_code == 201, document.json()
    assert document.json()["published_at"] is None

    submitted = api(agent).post(f"/api/v1/projects/{pid}/submit/")
    assert (submitted.status_code, submitted.json()["status"]) == (200, "submitted")
    approved = api(staff).post(f"/api/v1/projects/{pid}/approve/")
    assert (approved.status_code, approved.json()["status"]) == (200, "approved")
    published_ = api(agent).post(f"/api/v1/projects/{pid}/publish/", {}, format="json")
    assert published_.status_code == 200, published_.json()
    assert published_.json()["project"]["status"] == "published"
    main_version = published_.json()["announcement_version"]
    assert main_version["number"] == 1
    assert main_version["content"]["project"]["documents"][0]["title"] == "招标文件"

    public = api(None).get("/api/v1/announcements/").json()
    assert [row["project"] for row in public["results"]] == [pid]

    # The documents can be obtained from START: register, then download.
    traveller.move_to(START + dt.timedelta(hours=1))
    doc_id = document.json()["id"]
    assert_error(api(supplier).get(f"/api/v1/documents/{doc_id}/download/"), 404, "NOT_FOUND")
    registered = api(supplier).post(
        f"/api/v1/projects/{pid}/registrations/",
        {"lot_number": 1, "contact_name": "张三", "contact_phone": "0756-1234567"},
        format="json",
    )
    assert registered.status_code == 201, registered.json()
    download = api(supplier).get(f"/api/v1/documents/{doc_id}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 tender"
    assert (
        download["X-Content-SHA256"] == main_version["content"]["project"]["documents"][0]["sha256"]
    )

    # Q&A: the agent answers without learning who asked.
    asked = api(supplier).post(
        f"/api/v1/projects/{pid}/questions/", {"text": "工期能否延长？"}, format="json"
    )
    assert asked.status_code == 201, asked.json()
    assert asked.json()["mine"] is True
    seen_by_agent = api(agent).get(f"/api/v1/projects/{pid}/questions/")
    assert [(q["text"], q["mine"]) for q in seen_by_agent.json()["results"]] == [
        ("工期能否延长？", False)
    ]
    assert "organization" not in seen_by_agent.json()["results"][0]
    answered = api(agent).post(
        f"/api/v1/questions/{asked.json()['id']}/answer/",
        {"answer": "不能。", "affects_bid_preparation": False},
        format="json",
    )
    assert answered.status_code == 200, answered.json()
    assert answered.json()["answer"] == "不能。"
    seen_by_other = api(other_supplier).get(f"/api/v1/projects/{pid}/questions/").json()
    assert [q["answer"] for q in seen_by_other["results"]] == ["不能。"]

    # An amendment: a new 变更公告 and a new version of the main notice.
    amended = api(agent).post(
        f"/api/v1/projects/{pid}/amendments/",
        {"title": "关于工期的变更", "body": "工期调整为 300 日历天。"},
        format="json",
    )
    assert amended.status_code == 201, amended.json()
    assert amended.json()["announcement_version"]["title"] == "关于工期的变更"
    deadline_before = amended.json()["project"]["bid_deadline"]

    # An objection suspends the tender; the reply resumes it and gives back the lost day.
    raised = api(supplier).post(
        f"/api/v1/projects/{pid}/objections/", {"text": "资格条件排斥潜在投标人。"}, format="json"
    )
    assert raised.status_code == 201, raised.json()
    assert api(agent).get(f"/api/v1/projects/{pid}/").json()["suspended"] is True
    traveller.shift(dt.timedelta(days=1))
    replied = api(agent).post(
        f"/api/v1/objections/{raised.json()['id']}/reply/",
        {"reply": "资格条件依法设定，不予采纳。"},
        format="json",
    )
    assert replied.status_code == 200, replied.json()
    assert replied.json()["replied_at"] is not None
    after = api(agent).get(f"/api/v1/projects/{pid}/").json()
    assert after["suspended"] is False
    assert dt.datetime.fromisoformat(after["bid_deadline"]) >= dt.datetime.fromisoformat(
        deadline_before
    ) + dt.timedelta(days=1)

    detail = api(None).get(
        f"/api/v1/announcements/{main_version['content']['announcement']['id']}/"
    )
    versions = detail.json()["versions"]
    assert [v["number"] for v in versions] == [1, 2, 3]
    assert versions[1]["content"]["previous_sha256"] == versions[0]["sha256"]
    kinds = {row["kind"] for row in api(None).get("/api/v1/announcements/").json()["results"]}
    assert kinds == {"tender", "clarification", "amendment"}

    actions = set(
        AuditEvent.objects.filter(object_type="trading.project", object_id=str(pid)).values_list(
            "action", flat=True
        )
    )
    assert {
        "trading.project.created",
        "trading.project.submitted",
        "trading.project.approved",
        "trading.project.published",
        "trading.project.amended",
    } <= actions
    # The supervisor reads every step of it.
    for url in (
        f"/api/v1/projects/{pid}/",
        f"/api/v1/projects/{pid}/registrations/",
        f"/api/v1/projects/{pid}/questions/",
        f"/api/v1/projects/{pid}/objections/",
        f"/api/v1/documents/{doc_id}/download/",
    ):
        assert api(supervisor).get(url).status_code == 200, url


# --- Listing and reading projects -----------------------------------------------------------------


def test_agents_list_their_organizations_projects_and_staff_list_all(api, agent, staff):
    mine = draft(agent, start=START)
    rival = rival_agent()
    theirs = draft(rival, start=START)
    listed = api(agent).get("/api/v1/projects/")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [mine.pk]
    assert {row["id"] for row in api(staff).get("/api/v1/projects/").json()["results"]} == {
        mine.pk,
        theirs.pk,
    }


def test_the_owner_sees_its_projects_but_cannot_edit_them(api, agent):
    owner_org = make_org(Organization.Kind.OWNER, "珠海市教育局")
    owner = make_user("owner", Role.AGENT, owner_org)
    project = draft(agent, owner=owner_org, start=START)
    assert [row["id"] for row in api(owner).get("/api/v1/projects/").json()["results"]] == [
        project.pk
    ]
    assert api(owner).get(f"/api/v1/projects/{project.pk}/").status_code == 200
    response = api(owner).patch(f"/api/v1/projects/{project.pk}/", {"title": "改名"}, format="json")
    assert_error(response, 403, "FORBIDDEN")


def test_suppliers_list_no_projects(api, agent, staff, supplier):
    open_tender(agent, staff)
    assert api(supplier).get("/api/v1/projects/").json()["count"] == 0


def test_project_list_filters_by_status_and_kind(api, agent, staff):
    drafted = draft(agent, start=START)
    gp = draft(
        agent,
        start=START,
        kind=Project.Kind.GOVERNMENT_PROCUREMENT,
        category="goods",
        lots=[{"name": "货物", "estimate": "1000000", "deposit_amount": "0"}],
    )
    done = open_tender(agent, staff)

    def ids(query: str) -> set[int]:
        return {row["id"] for row in api(agent).get(f"/api/v1/projects/{query}").json()["results"]}

    assert ids("?status=draft") == {drafted.pk, gp.pk}
    assert ids("?status=published") == {done.pk}
    assert ids("?kind=gp") == {gp.pk}
    assert_error(api(agent).get("/api/v1/projects/?status=nonsense"), 400, "INVALID_PARAMETER")


def test_an_agent_of_another_organization_gets_404(api, agent, staff):
    project = draft(agent, start=START)
    announced = open_tender(agent, staff)
    rival = rival_agent()
    for pk in (project.pk, announced.pk):
        assert_error(api(rival).get(f"/api/v1/projects/{pk}/"), 404, "NOT_FOUND")
    assert_error(
        api(rival).patch(f"/api/v1/projects/{project.pk}/", {"title": "抢改"}, format="json"),
        404,
        "NOT_FOUND",
    )
    assert_error(api(rival).get("/api/v1/projects/999999/"), 404, "NOT_FOUND")


def test_the_project_detail_shows_lots_invitees_and_suspension(api, agent):
    project = draft(agent, start=START)
    body = api(agent).get(f"/api/v1/projects/{project.pk}/").json()
    assert body["number"] == project.number
    assert body["owner"]["name"] == "珠海市教育局"
    assert body["lots"][0]["number"] == 1
    assert body["lots"][0]["estimate"] == "38000000.00"
    assert body["lots"][0]["deposit_forms"] == ["cash", "bank_guarantee"]
    assert (body["invitees"], body["suspended"]) == ([], False)
    assert body["documents_from"] == "2026-03-02T10:00:00+08:00"


# --- Creating and editing -------------------------------------------------------------------------


def test_an_agent_creates_a_project_with_invitees(api, agent):
    owner = make_org(Organization.Kind.OWNER, "采购人")
    invited = [make_org(Organization.Kind.SUPPLIER).pk for _ in range(3)]
    body = project_body(owner, method="invitation", invitees=invited)
    created = api(agent).post("/api/v1/projects/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["invitees"] == sorted(invited)
    assert created.json()["agent"]["id"] == agent.organization_id


def test_suppliers_and_staff_cannot_create_projects(api, supplier, staff):
    owner = make_org(Organization.Kind.OWNER, "采购人")
    for user in (supplier, staff):
        response = api(user).post("/api/v1/projects/", project_body(owner), format="json")
        assert_error(response, 403, "FORBIDDEN")
    assert not Project.objects.exists()


def test_the_agent_edits_a_draft_and_replaces_its_lots(api, agent):
    project = draft(agent, start=START)
    response = api(agent).patch(
        f"/api/v1/projects/{project.pk}/",
        {
            "title": "珠海市第一中学教学楼改造工程（二期）",
            "bid_deadline": "2026-03-30T09:30:00+08:00",
            "lots": [
                {
                    "name": "一标段",
                    "estimate": "1000000",
                    "deposit_amount": "20000.00",
                    "deposit_forms": ["bank_guarantee"],
                },
                {"name": "二标段", "estimate": "2000000.5"},
            ],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["title"].endswith("（二期）")
    assert body["bid_deadline"] == "2026-03-30T09:30:00+08:00"
    assert [(lot["number"], lot["estimate"]) for lot in body["lots"]] == [
        (1, "1000000.00"),
        (2, "2000000.50"),
    ]


def test_an_unknown_field_is_named_not_dropped(api, agent):
    project = draft(agent, start=START)
    response = api(agent).patch(
        f"/api/v1/projects/{project.pk}/", {"status": "published"}, format="json"
    )
    assert_error(response, 400, "UNKNOWN_FIELD")
    project.refresh_from_db()
    assert project.status == Project.Status.DRAFT


def test_a_submitted_project_cannot_be_edited(api, agent):
    project = draft(agent, start=START)
    assert api(agent).post(f"/api/v1/projects/{project.pk}/submit/").status_code == 200
    response = api(agent).patch(f"/api/v1/projects/{project.pk}/", {"title": "偷改"}, format="json")
    assert_error(response, 409, "WRONG_STATUS")


# --- Workflow steps -------------------------------------------------------------------------------


def test_submit_is_the_agents_and_approve_and_return_are_staffs(api, agent, staff):
    project = draft(agent, start=START)
    assert_error(api(staff).post(f"/api/v1/projects/{project.pk}/submit/"), 403, "FORBIDDEN")
    assert api(agent).post(f"/api/v1/projects/{project.pk}/submit/").status_code == 200
    assert_error(api(agent).post(f"/api/v1/projects/{project.pk}/approve/"), 403, "FORBIDDEN")
    assert_error(
        api(agent).post(f"/api/v1/projects/{project.pk}/return/", {"reason": "x"}, format="json"),
        403,
        "FORBIDDEN",
    )
    assert_error(
        api(staff).post(f"/api/v1/projects/{project.pk}/return/", {"reason": " "}, format="json"),
        400,
        "REASON_REQUIRED",
    )
    returned = api(staff).post(
        f"/api/v1/projects/{project.pk}/return/", {"reason": "缺少资金来源证明"}, format="json"
    )
    assert returned.status_code == 200
    assert (returned.json()["status"], returned.json()["return_reason"]) == (
        "returned",
        "缺少资金来源证明",
    )
    assert_error(api(staff).post(f"/api/v1/projects/{project.pk}/approve/"), 409, "WRONG_STATUS")


def test_a_timeline_that_breaks_the_law_cannot_be_submitted(api, agent):
    project = draft(agent, start=START)
    short = api(agent).patch(
        f"/api/v1/projects/{project.pk}/",
        {"bid_deadline": iso(START + dt.timedelta(days=19))},
        format="json",
    )
    assert short.status_code == 200
    assert_error(
        api(agent).post(f"/api/v1/projects/{project.pk}/submit/"), 400, "BIDDING_PERIOD_TOO_SHORT"
    )


def test_publishing_needs_approval_and_the_projects_agent(api, agent, staff):
    project = draft(agent, start=START)
    assert_error(api(agent).post(f"/api/v1/projects/{project.pk}/publish/"), 409, "WRONG_STATUS")
    services.submit_project(Actor.for_user(agent), project)
    services.approve_project(Actor.for_user(staff), project)
    assert_error(api(staff).post(f"/api/v1/projects/{project.pk}/publish/"), 403, "FORBIDDEN")
    response = api(agent).post(
        f"/api/v1/projects/{project.pk}/publish/", {"body": "欢迎投标。"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["announcement_version"]["body"] == "欢迎投标。"


def test_amendments_move_a_deadline_that_leaves_too_little_notice(api, traveller, agent, staff):
    project = open_tender(agent, staff)
    traveller.move_to(project.bid_deadline - dt.timedelta(days=5))
    response = api(agent).post(
        f"/api/v1/projects/{project.pk}/amendments/",
        {"title": "技术参数变更", "body": "第三章第二节修改。", "affects_bid_preparation": True},
        format="json",
    )
    assert response.status_code == 201, response.json()
    moved = dt.datetime.fromisoformat(response.json()["project"]["bid_deadline"])
    assert moved >= project.bid_deadline + dt.timedelta(days=10)
    assert "顺延" in response.json()["announcement_version"]["body"]


def test_an_amendment_deadline_must_carry_an_offset(api, agent, staff):
    project = open_tender(agent, staff)
    response = api(agent).post(
        f"/api/v1/projects/{project.pk}/amendments/",
        {"title": "延期", "body": "延期。", "bid_deadline": "2026-04-30T09:00:00"},
        format="json",
    )
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert "bid_deadline" in error["details"]


def test_termination_needs_a_reason_and_the_agent(api, agent, staff, supplier):
    project = open_tender(agent, staff)
    assert_error(
        api(supplier).post(
            f"/api/v1/projects/{project.pk}/terminate/", {"reason": "x"}, format="json"
        ),
        404,
        "NOT_FOUND",
    )
    assert_error(
        api(agent).post(f"/api/v1/projects/{project.pk}/terminate/", {"reason": ""}, format="json"),
        400,
        "REASON_REQUIRED",
    )
    response = api(agent).post(
        f"/api/v1/projects/{project.pk}/terminate/", {"reason": "项目取消"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["project"]["status"] == "terminated"
    assert Announcement.objects.filter(project=project, kind="termination").exists()


def test_suppliers_cannot_take_agent_actions(api, agent, staff, supplier):
    drafted = draft(agent, start=START)
    announced = open_tender(agent, staff)
    for path in ("submit/", "approve/", "publish/"):
        assert_error(api(supplier).post(f"/api/v1/projects/{drafted.pk}/{path}"), 404, "NOT_FOUND")
    assert_error(
        api(supplier).post(
            f"/api/v1/projects/{announced.pk}/amendments/",
            {"title": "t", "body": "b"},
            format="json",
        ),
        404,
        "NOT_FOUND",
    )
    # Suppliers never upload tender documents: refused by role before the body is read, whatever
    # the project (which reveals nothing about it).
    assert_error(
        api(supplier).post(f"/api/v1/projects/{announced.pk}/documents/", {"file": upload()}),
        403,
        "FORBIDDEN",
    )


# --- Supervisors read everything and change nothing; anonymous callers read announcements ---------


def test_a_supervisor_can_write_nothing(api, traveller, agent, staff, supplier, supervisor):
    drafted = draft(agent, start=START)
    submitted = draft(agent, start=START)
    services.submit_project(Actor.for_user(agent), submitted)
    approved = draft(agent, start=START)
    services.submit_project(Actor.for_user(agent), approved)
    services.approve_project(Actor.for_user(staff), approved)
    announced = open_tender(agent, staff)
    lot_number = announced.lots.get().number
    question = services.ask_question(Actor.for_user(supplier), announced, text="问？")
    objection = services.raise_objection(Actor.for_user(supplier), announced, text="异议")
    owner = make_org(Organization.Kind.OWNER, "采购人")
    client = api(supervisor)
    writes = [
        ("post", "/api/v1/projects/", project_body(owner)),
        ("patch", f"/api/v1/projects/{drafted.pk}/", {"title": "x"}),
        ("post", f"/api/v1/projects/{drafted.pk}/submit/", {}),
        ("post", f"/api/v1/projects/{submitted.pk}/approve/", {}),
        ("post", f"/api/v1/projects/{submitted.pk}/return/", {"reason": "x"}),
        ("post", f"/api/v1/projects/{approved.pk}/publish/", {}),
        ("post", f"/api/v1/projects/{announced.pk}/amendments/", {"title": "t", "body": "b"}),
        ("post", f"/api/v1/projects/{announced.pk}/terminate/", {"reason": "x"}),
        ("post", f"/api/v1/projects/{announced.pk}/registrations/", {"lot_number": lot_number}),
        ("post", f"/api/v1/projects/{announced.pk}/questions/", {"text": "问"}),
        ("post", f"/api/v1/questions/{question.pk}/answer/", {"answer": "答"}),
        ("post", f"/api/v1/projects/{announced.pk}/objections/", {"text": "异议"}),
        ("post", f"/api/v1/objections/{objection.pk}/reply/", {"reply": "答复"}),
        ("post", "/api/v1/calendar/days/", {"date": "2030-01-01", "kind": "holiday"}),
        ("delete", "/api/v1/calendar/days/2030-01-01/", None),
    ]
    events = AuditEvent.objects.count()
    for method, url, body in writes:
        response = getattr(client, method)(url, body, format="json")
        assert_error(response, 403, "FORBIDDEN")
    upload_response = client.post(f"/api/v1/projects/{drafted.pk}/documents/", {"file": upload()})
    assert_error(upload_response, 403, "FORBIDDEN")
    assert AuditEvent.objects.count() == events
    reads = [
        "/api/v1/projects/",
        f"/api/v1/projects/{drafted.pk}/",
        f"/api/v1/projects/{drafted.pk}/documents/",
        f"/api/v1/projects/{announced.pk}/registrations/",
        f"/api/v1/projects/{announced.pk}/questions/",
        f"/api/v1/projects/{announced.pk}/objections/",
        "/api/v1/registrations/",
        "/api/v1/objections/",
        "/api/v1/announcements/",
        "/api/v1/calendar/days/",
    ]
    for url in reads:
        assert client.get(url).status_code == 200, url
    assert client.get("/api/v1/projects/").json()["count"] == 4


def test_anonymous_callers_may_read_announcements_only(api, agent, staff):
    announced = open_tender(agent, staff)
    anonymous = api(None)
    assert anonymous.get("/api/v1/announcements/").status_code == 200
    announcement_id = Announcement.objects.get(project=announced).pk
    assert anonymous.get(f"/api/v1/announcements/{announcement_id}/").status_code == 200
    document = services.upload_document(Actor.for_user(agent), announced, upload())
    for url in (
        "/api/v1/projects/",
        f"/api/v1/projects/{announced.pk}/",
        f"/api/v1/projects/{announced.pk}/documents/",
        f"/api/v1/projects/{announced.pk}/questions/",
        f"/api/v1/projects/{announced.pk}/objections/",
        f"/api/v1/projects/{announced.pk}/registrations/",
        f"/api/v1/documents/{document.pk}/download/",
        "/api/v1/registrations/",
        "/api/v1/objections/",
        "/api/v1/calendar/days/",
    ):
        assert_error(anonymous.get(url), 403, "NOT_AUTHENTICATED")
    assert_error(
        anonymous.post(f"/api/v1/projects/{announced.pk}/questions/", {"text": "问"}),
        403,
        "NOT_AUTHENTICATED",
    )
