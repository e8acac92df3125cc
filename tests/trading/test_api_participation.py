"""Suppliers' side of a tender through the API: documents, registration, questions, objections."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine

from accounts.actors import Actor
from accounts.models import Role
from tests.conftest import make_user
from tests.trading.factories import draft
from tests.trading.test_api import START, T0, assert_error, open_tender, rival_agent, upload
from trading import services
from trading.models import Project, ProjectDocument, Question, Registration

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def traveller():
    with time_machine.travel(T0, tick=False) as moving:
        yield moving


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def register(user, project: Project) -> Registration:
    return services.register(Actor.for_user(user), project.lots.get())


# --- Documents ------------------------------------------------------------------------------------


def test_the_agent_uploads_documents_with_their_hash(api, agent):
    project = draft(agent, start=START)
    lot_number = project.lots.get().number
    response = api(agent).post(
        f"/api/v1/projects/{project.pk}/documents/",
        {"file": upload("图纸.pdf", b"drawing"), "title": "施工图纸", "lot_number": lot_number},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["sha256"] == hashlib.sha256(b"drawing").hexdigest()
    assert (body["title"], body["size"], body["lot_number"]) == ("施工图纸", 7, 1)
    listed = api(agent).get(f"/api/v1/projects/{project.pk}/documents/").json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
    assert api(agent).get(body["download_url"]).status_code == 200


def test_uploads_are_checked(api, agent):
    project = draft(agent, start=START)
    url = f"/api/v1/projects/{project.pk}/documents/"
    assert_error(api(agent).post(url, {"file": upload(content=b"")}), 400, "EMPTY_FILE")
    error = assert_error(api(agent).post(url, {"title": "无文件"}), 400, "VALIDATION_ERROR")
    assert "file" in error["details"]
    error = assert_error(
        api(agent).post(url, {"file": upload(), "lot_number": 9}), 400, "VALIDATION_ERROR"
    )
    assert "lot_number" in error["details"]
    assert_error(api(agent).post(url, {"title": "x"}, format="json"), 415, "UNSUPPORTED_MEDIA_TYPE")
    assert not ProjectDocument.objects.exists()


def test_download_needs_registration_when_the_project_requires_it(
    api, agent, staff, supplier, other_supplier
):
    project = open_tender(agent, staff)
    document = services.upload_document(Actor.for_user(agent), project, upload())
    # Uploaded after publication: private until an amendment publishes it.
    register(supplier, project)
    url = f"/api/v1/documents/{document.pk}/download/"
    assert_error(api(supplier).get(url), 404, "NOT_FOUND")
    listed = api(supplier).get(f"/api/v1/projects/{project.pk}/documents/").json()
    assert listed["count"] == 0
    services.publish_amendment(
        Actor.for_user(agent), project, title="补充文件", body="发布补充文件。"
    )
    response = api(supplier).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert "private" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == b"%PDF-1.4 tender"
    # Not registered: the document does not exist for them.
    assert_error(api(other_supplier).get(url), 404, "NOT_FOUND")
    assert api(other_supplier).get(f"/api/v1/projects/{project.pk}/documents/").json()["count"] == 1


def test_without_required_registration_any_user_downloads_published_documents(
    api, agent, staff, other_supplier
):
    project = draft(agent, start=START - dt.timedelta(hours=2), registration_required=False)
    document = services.upload_document(Actor.for_user(agent), project, upload())
    url = f"/api/v1/documents/{document.pk}/download/"
    assert_error(api(other_supplier).get(url), 404, "NOT_FOUND")
    services.submit_project(Actor.for_user(agent), project)
    services.approve_project(Actor.for_user(staff), project)
    services.publish_project(Actor.for_user(agent), project)
    assert api(other_supplier).get(url).status_code == 200


def test_documents_of_a_draft_are_hidden_from_everyone_else(api, agent, supplier):
    project = draft(agent, start=START)
    services.upload_document(Actor.for_user(agent), project, upload())
    rival = rival_agent()
    for user in (supplier, rival):
        assert_error(api(user).get(f"/api/v1/projects/{project.pk}/documents/"), 404, "NOT_FOUND")


# --- Registration ---------------------------------------------------------------------------------


def test_a_supplier_registers_for_a_lot(api, agent, staff, supplier):
    project = open_tender(agent, staff)
    url = f"/api/v1/projects/{project.pk}/registrations/"
    response = api(supplier).post(url, {"lot_number": 1, "contact_name": "张三"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["organization"]["id"] == supplier.organization_id
    assert response.json()["lot_number"] == 1
    assert_error(
        api(supplier).post(url, {"lot_number": 1}, format="json"), 400, "ALREADY_REGISTERED"
    )
    for number in (7, 10**30):
        error = assert_error(
            api(supplier).post(url, {"lot_number": number}, format="json"), 400, "VALIDATION_ERROR"
        )
        assert "lot_number" in error["details"]


def test_agents_and_staff_cannot_register(api, agent, staff):
    project = open_tender(agent, staff)
    url = f"/api/v1/projects/{project.pk}/registrations/"
    for user in (agent, staff):
        assert_error(api(user).post(url, {"lot_number": 1}, format="json"), 403, "FORBIDDEN")


def test_registration_opens_and_closes_with_the_documents(api, traveller, agent, staff, supplier):
    project = open_tender(agent, staff, start=START)
    url = f"/api/v1/projects/{project.pk}/registrations/"
    assert_error(api(supplier).post(url, {"lot_number": 1}, format="json"), 409, "NOT_YET_OPEN")
    traveller.move_to(project.documents_until + dt.timedelta(minutes=1))
    assert_error(api(supplier).post(url, {"lot_number": 1}, format="json"), 409, "TOO_LATE")


def test_nobody_registers_for_a_draft(api, agent, supplier):
    project = draft(agent, start=START)
    response = api(supplier).post(
        f"/api/v1/projects/{project.pk}/registrations/", {"lot_number": 1}, format="json"
    )
    assert_error(response, 404, "NOT_FOUND")


def test_registration_lists_show_each_caller_what_it_may_see(
    api, agent, staff, supplier, other_supplier, supervisor
):
    project = open_tender(agent, staff)
    mine = register(supplier, project)
    theirs = register(other_supplier, project)
    url = f"/api/v1/projects/{project.pk}/registrations/"

    def ids(user, path=url) -> set[int]:
        return {row["id"] for row in api(user).get(path).json()["results"]}

    assert ids(supplier) == {mine.pk}
    assert ids(supplier, "/api/v1/registrations/") == {mine.pk}
    assert ids(agent) == ids(staff) == ids(supervisor) == {mine.pk, theirs.pk}
    assert ids(agent, f"/api/v1/registrations/?project={project.pk}") == {mine.pk, theirs.pk}
    assert ids(rival_agent()) == set()
    owner = make_user("owner", Role.AGENT, project.owner)
    assert ids(owner) == set()
    assert_error(api(staff).get("/api/v1/registrations/?project=abc"), 400, "INVALID_PARAMETER")


# --- Questions ------------------------------------------------------------------------------------


def test_questions_never_reveal_the_asker_to_the_agent_or_the_public(
    api, agent, staff, supplier, other_supplier, supervisor
):
    project = open_tender(agent, staff)
    asked = api(supplier).post(
        f"/api/v1/projects/{project.pk}/questions/", {"text": "付款方式？"}, format="json"
    )
    assert asked.status_code == 201, asked.json()
    unanswered = services.ask_question(Actor.for_user(supplier), project, text="有无预付款？")
    services.answer_question(
        Actor.for_user(agent), Question.objects.get(pk=asked.json()["id"]), answer="按进度付款。"
    )
    url = f"/api/v1/projects/{project.pk}/questions/"
    asker = supplier.organization

    def rows(user) -> list[dict]:
        response = api(user).get(url)
        assert response.status_code == 200
        text = response.content.decode()
        if user not in (staff, supervisor):
            assert asker.name not in text
            assert "organization" not in text
        return response.json()["results"]

    by_agent = rows(agent)
    assert [q["text"] for q in by_agent] == ["付款方式？", "有无预付款？"]
    assert all(q["mine"] is False for q in by_agent)
    by_other = rows(other_supplier)
    assert [(q["text"], q["answer"]) for q in by_other] == [("付款方式？", "按进度付款。")]
    owner = make_user("owner", Role.AGENT, project.owner)
    assert [q["text"] for q in rows(owner)] == ["付款方式？"]
    assert [q["text"] for q in rows(rival_agent())] == ["付款方式？"]
    # The asker sees its own pending question, marked as its own.
    by_asker = rows(supplier)
    assert [(q["id"], q["mine"]) for q in by_asker] == [
        (asked.json()["id"], True),
        (unanswered.pk, True),
    ]
    for user in (staff, supervisor):
        assert [q["organization"]["id"] for q in rows(user)] == [asker.pk, asker.pk]


def test_only_the_agent_answers_questions(api, agent, staff, supplier, other_supplier, supervisor):
    project = open_tender(agent, staff)
    pending = services.ask_question(Actor.for_user(supplier), project, text="问一")
    url = f"/api/v1/questions/{pending.pk}/answer/"
    # An unanswered question is invisible to other suppliers and other agents.
    for user in (other_supplier, rival_agent()):
        assert_error(api(user).post(url, {"answer": "x"}, format="json"), 404, "NOT_FOUND")
    for user in (supplier, staff, supervisor):
        assert_error(api(user).post(url, {"answer": "x"}, format="json"), 403, "FORBIDDEN")
    assert_error(api(agent).post(url, {"answer": " "}, format="json"), 400, "TEXT_REQUIRED")
    response = api(agent).post(url, {"answer": "答一"}, format="json")
    assert response.status_code == 200, response.json()
    assert "organization" not in response.json()
    assert_error(api(agent).post(url, {"answer": "再答"}, format="json"), 400, "ALREADY_ANSWERED")
    assert_error(
        api(agent).post("/api/v1/questions/999999/answer/", {"answer": "x"}, format="json"),
        404,
        "NOT_FOUND",
    )


def test_questions_close_on_time_and_only_suppliers_ask(api, traveller, agent, staff, supplier):
    project = open_tender(agent, staff)
    url = f"/api/v1/projects/{project.pk}/questions/"
    assert_error(api(agent).post(url, {"text": "自问"}, format="json"), 403, "FORBIDDEN")
    assert_error(api(supplier).post(url, {"text": ""}, format="json"), 400, "TEXT_REQUIRED")
    traveller.move_to(project.questions_until + dt.timedelta(minutes=1))
    assert_error(api(supplier).post(url, {"text": "晚了？"}, format="json"), 409, "TOO_LATE")


def test_nobody_asks_about_a_draft(api, agent, supplier):
    project = draft(agent, start=START)
    response = api(supplier).post(
        f"/api/v1/projects/{project.pk}/questions/", {"text": "?"}, format="json"
    )
    assert_error(response, 404, "NOT_FOUND")


# --- Objections -----------------------------------------------------------------------------------


def test_objections_are_seen_by_the_raiser_the_agent_and_oversight(
    api, agent, staff, supplier, other_supplier, supervisor
):
    project = open_tender(agent, staff)
    raised = api(supplier).post(
        f"/api/v1/projects/{project.pk}/objections/",
        {"text": "评分标准倾向性明显。"},
        format="json",
    )
    assert raised.status_code == 201, raised.json()
    objection_id = raised.json()["id"]
    assert raised.json()["reply_due_at"] == "2026-03-05T09:00:00+08:00"
    url = f"/api/v1/projects/{project.pk}/objections/"

    def ids(user, path=url) -> list[int]:
        response = api(user).get(path)
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    for user in (supplier, agent, staff, supervisor):
        assert ids(user) == [objection_id]
        assert ids(user, "/api/v1/objections/") == [objection_id]
    assert ids(other_supplier) == []
    assert ids(rival_agent(), "/api/v1/objections/") == []
    assert ids(staff, f"/api/v1/objections/?project={project.pk + 1}") == []


def test_only_the_agent_replies_to_an_objection(
    api, agent, staff, supplier, other_supplier, supervisor
):
    project = open_tender(agent, staff)
    objection = services.raise_objection(Actor.for_user(supplier), project, text="异议")
    url = f"/api/v1/objections/{objection.pk}/reply/"
    for user in (other_supplier, rival_agent()):
        assert_error(api(user).post(url, {"reply": "x"}, format="json"), 404, "NOT_FOUND")
    for user in (supplier, staff, supervisor):
        assert_error(api(user).post(url, {"reply": "x"}, format="json"), 403, "FORBIDDEN")
    response = api(agent).post(url, {"reply": "已修改评分标准。"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["reply"] == "已修改评分标准。"
    assert_error(api(agent).post(url, {"reply": "again"}, format="json"), 400, "ALREADY_ANSWERED")


def test_an_open_objection_suspends_registration(api, agent, staff, supplier, other_supplier):
    project = open_tender(agent, staff)
    services.raise_objection(Actor.for_user(supplier), project, text="异议")
    response = api(other_supplier).post(
        f"/api/v1/projects/{project.pk}/registrations/", {"lot_number": 1}, format="json"
    )
    assert_error(response, 409, "PROJECT_SUSPENDED")


def test_objections_close_before_the_deadline_and_only_suppliers_raise_them(
    api, traveller, agent, staff, supplier
):
    project = open_tender(agent, staff)
    url = f"/api/v1/projects/{project.pk}/objections/"
    assert_error(api(agent).post(url, {"text": "x"}, format="json"), 403, "FORBIDDEN")
    traveller.move_to(project.bid_deadline - dt.timedelta(days=9))
    assert_error(api(supplier).post(url, {"text": "晚了"}, format="json"), 409, "TOO_LATE")
