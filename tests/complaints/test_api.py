"""The complaints API (/api/v1/complaints/): a GP supplier's 质疑, its complaint, the regulator's
acceptance, the respondent's explanation and the decision; the refusals by their codes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from accounts.actors import Actor
from accounts.models import User
from complaints.models import Complaint
from tests.complaints.conftest import (
    CLAIMS,
    FACTS,
    START,
    Case,
    assert_error,
    challenged,
    complaint_body,
)
from trading import services as trading_services
from trading.services import is_suspended

# The API tests run on the fixed clock of conftest.py (`traveller`) with their own media root.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("traveller", "_media")]

URL = "/api/v1/complaints/"


def url(case: Case, action: str = "") -> str:
    return f"{URL}{case.pk}/{action}"


def explanation(api: Any, user: User, case: Case) -> dict[str, Any]:
    requests: list[dict[str, Any]] = api(user).get(url(case)).json()["requests"]
    (request,) = requests
    return request


# --- The whole path -------------------------------------------------------------------------------


def test_a_challenge_becomes_a_complaint_accepted_explained_and_decided(
    case, api, supplier, other_supplier, agent, supervisor, staff
):
    filing = api(supplier).post(URL, complaint_body(case), format="json")
    assert filing.status_code == 201, filing.content
    filed = filing.json()
    case.pk = filed["id"]
    assert filed["status"] == "filed"
    assert filed["regime"] == "gp"
    assert filed["subject"] == "documents"
    assert filed["objection"] == case.objection.pk
    assert filed["complainant"]["id"] == supplier.organization_id
    assert filed["project"] == {
        "id": case.project.pk,
        "number": case.project.number,
        "title": case.project.title,
    }
    assert filed["facts"] == FACTS and filed["claims"] == CLAIMS
    assert filed["number"].startswith("TS2026-")
    # GP: the decision period counts from receipt; the outcome waits for the decision.
    assert filed["decision_due_at"] is not None
    assert filed["outcome"] is None and filed["remedy"] is None
    assert filed["requests"] == [] and filed["documents"] == []
    assert filed["suspended"] is False and filed["suspensions"] == []

    # Supervisors, center staff and both parties see it; another supplier does not.
    for user in (supervisor, staff, agent, supplier):
        listed = api(user).get(URL).json()
        assert [row["id"] for row in listed["results"]] == [case.pk]
        assert listed["results"][0]["complainant"]["id"] == supplier.organization_id
    assert api(other_supplier).get(URL).json()["count"] == 0
    assert_error(api(other_supplier).get(url(case)), 404, "NOT_FOUND")

    accepted = api(supervisor).post(url(case, "accept/"))
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted"
    (request,) = accepted.json()["requests"]
    assert request["party"] == "respondent" and request["kind"] == "explanation"
    assert request["answer"] == "" and request["answered_at"] is None

    # While the explanation is due, no decision.
    decide = {"outcome": "upheld", "remedy": "correct", "decision": "投诉事项成立。"}
    assert_error(
        api(supervisor).post(url(case, "decide/"), decide, format="json"), 409, "REQUESTS_PENDING"
    )

    answered = api(agent).post(
        url(case, f"requests/{request['id']}/answer/"),
        {"answer": "资格条件依据行业标准设置。"},
        format="json",
    )
    assert answered.status_code == 200, answered.content
    assert answered.json()["answer"] == "资格条件依据行业标准设置。"
    assert answered.json()["answered_at"] is not None

    decided = api(supervisor).post(url(case, "decide/"), decide, format="json")
    assert decided.status_code == 200, decided.content
    body = decided.json()
    assert (body["status"], body["outcome"], body["remedy"]) == ("decided", "upheld", "correct")
    assert body["decision"] == "投诉事项成立。" and body["decided_at"] is not None
    assert api(supplier).get(f"{URL}?status=decided").json()["count"] == 1
    assert api(supplier).get(f"{URL}?status=filed").json()["count"] == 0


def test_the_list_filters_by_status_and_project(filed, api, supervisor):
    rows = api(supervisor).get(f"{URL}?project={filed.project.pk}").json()
    assert [row["id"] for row in rows["results"]] == [filed.pk]
    assert api(supervisor).get(f"{URL}?project={filed.project.pk + 1000}").json()["count"] == 0
    assert api(supervisor).get(f"{URL}?status=filed").json()["count"] == 1
    assert api(supervisor).get(f"{URL}?status=accepted").json()["count"] == 0
    assert_error(api(supervisor).get(f"{URL}?status=open"), 400, "INVALID_PARAMETER")
    assert_error(api(supervisor).get(f"{URL}?project=abc"), 400, "INVALID_PARAMETER")
    page = api(supervisor).get(f"{URL}?limit=1&offset=0").json()
    assert set(page) == {"count", "next", "previous", "results"}


# --- Filing refusals ------------------------------------------------------------------------------


def test_a_challenge_still_inside_its_reply_period_is_pending(
    traveller, api, agent, staff, supplier
):
    case = challenged(traveller, agent, staff, supplier, reply=False)
    assert_error(
        api(supplier).post(URL, complaint_body(case), format="json"), 409, "OBJECTION_PENDING"
    )
    # Unanswered at the end of its reply period (7 working days), the complaint may come.
    traveller.move_to(case.objection.reply_due_at + dt.timedelta(minutes=1))
    assert api(supplier).post(URL, complaint_body(case), format="json").status_code == 201


def test_the_window_closes_fifteen_working_days_after_the_reply_period(case, api, supplier):
    # 7 + 15 working days from the challenge: well within 40 calendar days of it, never 40 days on.
    case.traveller.move_to(case.objection.reply_due_at + dt.timedelta(days=40))
    error = assert_error(
        api(supplier).post(URL, complaint_body(case), format="json"), 409, "COMPLAINT_WINDOW_CLOSED"
    )
    assert "2026" in error["message"]


def test_gp_complaints_follow_a_challenge(case, api, supplier):
    # A participant (registered; the answered challenge no longer suspends the tender) without a
    # challenge: under 政府采购法 every complaint follows one.
    trading_services.register(Actor.for_user(supplier), case.project.lots.get())
    body = complaint_body(case, subject="process", knew_at=START.isoformat())
    del body["objection"]
    assert_error(api(supplier).post(URL, body, format="json"), 409, "OBJECTION_FIRST")


def test_one_case_per_challenge_while_it_is_open(filed, api, supplier):
    assert_error(
        api(supplier).post(URL, complaint_body(filed), format="json"), 409, "DUPLICATE_COMPLAINT"
    )


def test_only_the_challenger_may_complain_of_its_challenge(case, api, other_supplier, agent):
    assert_error(
        api(other_supplier).post(URL, complaint_body(case), format="json"), 403, "FORBIDDEN"
    )
    assert_error(api(agent).post(URL, complaint_body(case), format="json"), 403, "FORBIDDEN")


def test_a_missing_project_or_objection_is_not_found(case, api, supplier):
    missing = case.objection.pk + 1000
    assert_error(
        api(supplier).post(URL, complaint_body(case, objection=missing), format="json"),
        404,
        "NOT_FOUND",
    )
    for name in ("publicity_objection", "opening_response"):
        assert_error(
            api(supplier).post(URL, complaint_body(case, **{name: missing}), format="json"),
            404,
            "NOT_FOUND",
        )
    assert_error(
        api(supplier).post(
            URL, complaint_body(case, project=case.project.pk + 1000), format="json"
        ),
        404,
        "NOT_FOUND",
    )


def test_empty_facts_are_refused_by_the_service(case, api, supplier):
    assert_error(
        api(supplier).post(URL, complaint_body(case, facts="   "), format="json"),
        400,
        "TEXT_REQUIRED",
    )


# --- The regulator's steps ------------------------------------------------------------------------


def test_a_step_out_of_order_is_wrong_status(filed, api, supervisor, supplier):
    decide = {"outcome": "dismissed", "decision": "不成立。"}
    assert_error(
        api(supervisor).post(url(filed, "decide/"), decide, format="json"), 409, "WRONG_STATUS"
    )
    assert api(supervisor).post(url(filed, "accept/")).status_code == 200
    assert_error(api(supervisor).post(url(filed, "accept/")), 409, "WRONG_STATUS")
    assert_error(
        api(supervisor).post(url(filed, "refuse/"), {"reason": "晚了"}, format="json"),
        409,
        "WRONG_STATUS",
    )
    assert api(supplier).post(url(filed, "withdraw/")).status_code == 200
    assert_error(api(supplier).post(url(filed, "withdraw/")), 409, "WRONG_STATUS")


def test_refusal_needs_a_reason_and_tells_it(filed, api, supervisor, supplier):
    assert_error(
        api(supervisor).post(url(filed, "refuse/"), {"reason": ""}, format="json"),
        400,
        "TEXT_REQUIRED",
    )
    refused = api(supervisor).post(
        url(filed, "refuse/"), {"reason": "投诉人不是质疑供应商。"}, format="json"
    )
    assert refused.status_code == 200, refused.content
    seen = api(supplier).get(url(filed)).json()
    assert seen["status"] == "refused" and seen["refusal_reason"] == "投诉人不是质疑供应商。"


def test_an_upheld_complaint_needs_a_remedy_a_dismissed_one_none(accepted, api, supervisor, agent):
    request = explanation(api, supervisor, accepted)
    api(agent).post(
        url(accepted, f"requests/{request['id']}/answer/"), {"answer": "说明。"}, format="json"
    )
    decide = url(accepted, "decide/")
    assert_error(
        api(supervisor).post(decide, {"outcome": "upheld", "decision": "成立。"}, format="json"),
        400,
        "REMEDY_REQUIRED",
    )
    assert_error(
        api(supervisor).post(
            decide, {"outcome": "upheld", "remedy": "none", "decision": "成立。"}, format="json"
        ),
        400,
        "REMEDY_REQUIRED",
    )
    assert_error(
        api(supervisor).post(
            decide,
            {"outcome": "dismissed", "remedy": "redo", "decision": "不成立。"},
            format="json",
        ),
        400,
        "REMEDY_INVALID",
    )
    dismissed = api(supervisor).post(
        decide, {"outcome": "dismissed", "decision": "不成立。"}, format="json"
    )
    assert dismissed.status_code == 200, dismissed.content
    assert (dismissed.json()["outcome"], dismissed.json()["remedy"]) == ("dismissed", "none")


def test_suspension_days_are_bounded_and_the_case_lifts_its_own(filed, api, supervisor, supplier):
    suspend = url(filed, "suspend/")
    for days in (0, 31):
        assert_error(
            api(supervisor).post(suspend, {"reason": "调查期间暂停", "days": days}, format="json"),
            400,
            "SUSPENSION_DAYS_INVALID",
        )
    assert_error(api(supervisor).post(url(filed, "resume/")), 409, "NOT_SUSPENDED")
    ordered = api(supervisor).post(suspend, {"reason": "调查期间暂停", "days": 10}, format="json")
    assert ordered.status_code == 200, ordered.content
    body = ordered.json()
    assert body["suspended"] is True
    (suspension,) = body["suspensions"]
    assert suspension["reason"] == "调查期间暂停" and suspension["lifted_at"] is None
    assert is_suspended(filed.project)
    assert api(supplier).get(url(filed)).json()["suspended"] is True

    resumed = api(supervisor).post(url(filed, "resume/"))
    assert resumed.status_code == 200, resumed.content
    assert resumed.json()["suspended"] is False
    assert resumed.json()["suspensions"][0]["lifted_at"] is not None
    assert not is_suspended(filed.project)


def test_withdrawal_lifts_the_case_suspension(filed, api, supervisor, supplier):
    api(supervisor).post(url(filed, "suspend/"), {"reason": "暂停", "days": 5}, format="json")
    withdrawn = api(supplier).post(url(filed, "withdraw/"))
    assert withdrawn.status_code == 200, withdrawn.content
    assert withdrawn.json()["status"] == "withdrawn" and withdrawn.json()["suspended"] is False


def test_material_requests_to_either_party(accepted, api, supervisor, supplier, agent):
    due = (START + dt.timedelta(days=5)).isoformat()
    asked = api(supervisor).post(
        url(accepted, "requests/"),
        {"party": "complainant", "kind": "supplement", "text": "请补充证明材料。", "due_at": due},
        format="json",
    )
    assert asked.status_code == 201, asked.content
    request = asked.json()
    assert (request["party"], request["kind"]) == ("complainant", "supplement")
    answer = url(accepted, f"requests/{request['id']}/answer/")
    # Only the asked party answers.
    assert_error(api(agent).post(answer, {"answer": "代答"}, format="json"), 403, "FORBIDDEN")
    assert api(supplier).post(answer, {"answer": "材料见附件。"}, format="json").status_code == 200
    assert_error(
        api(supplier).post(answer, {"answer": "再答"}, format="json"), 409, "ALREADY_ANSWERED"
    )
    # A due time in the past, or without an offset, is refused.
    past = (START - dt.timedelta(days=1)).isoformat()
    assert_error(
        api(supervisor).post(
            url(accepted, "requests/"),
            {"party": "respondent", "kind": "explanation", "text": "说明", "due_at": past},
            format="json",
        ),
        400,
        "DUE_AT_INVALID",
    )
    assert_error(
        api(supervisor).post(
            url(accepted, "requests/"),
            {
                "party": "respondent",
                "kind": "explanation",
                "text": "说明",
                "due_at": "2026-04-01T09:00:00",
            },
            format="json",
        ),
        400,
        "VALIDATION_ERROR",
    )
    # A request of another case is not found in this one.
    assert_error(
        api(supplier).post(
            url(accepted, "requests/999999/answer/"), {"answer": "x"}, format="json"
        ),
        404,
        "NOT_FOUND",
    )
    assert len(api(supplier).get(url(accepted)).json()["requests"]) == 2


# --- Case files -----------------------------------------------------------------------------------


def upload(name: str = "证明材料.pdf", content: bytes = b"%PDF-1.4 evidence") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_parties_and_the_regulator_add_files_everyone_on_the_case_reads_them(
    accepted, api, supplier, agent, supervisor, other_supplier, staff
):
    request = explanation(api, supervisor, accepted)
    added = api(supplier).post(
        url(accepted, "documents/"), {"file": upload(), "title": "证明材料"}, format="multipart"
    )
    assert added.status_code == 201, added.content
    document = added.json()
    assert document["title"] == "证明材料" and document["size"] == len(b"%PDF-1.4 evidence")
    assert len(document["sha256"]) == 64 and document["request"] is None
    answering = api(agent).post(
        url(accepted, "documents/"),
        {"file": upload("说明.pdf"), "request": request["id"]},
        format="multipart",
    )
    assert answering.status_code == 201, answering.content
    assert answering.json()["title"] == "说明.pdf"
    assert (
        api(supervisor)
        .post(url(accepted, "documents/"), {"file": upload("笔录.pdf")}, format="multipart")
        .status_code
        == 201
    )

    seen = api(supplier).get(url(accepted)).json()
    assert [d["title"] for d in seen["documents"]] == ["证明材料", "说明.pdf", "笔录.pdf"]
    assert [d["title"] for d in seen["requests"][0]["documents"]] == ["说明.pdf"]

    download = api(agent).get(document["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 evidence"
    assert download["X-Content-SHA256"] == document["sha256"]
    assert api(staff).get(document["download_url"]).status_code == 200
    assert_error(api(other_supplier).get(document["download_url"]), 404, "NOT_FOUND")
    assert_error(api(supplier).get(url(accepted, "documents/999999/download/")), 404, "NOT_FOUND")

    # Center staff read the case but add nothing to it; nor does anyone once it is closed.
    assert_error(
        api(staff).post(url(accepted, "documents/"), {"file": upload()}, format="multipart"),
        403,
        "FORBIDDEN",
    )
    api(supplier).post(url(accepted, "withdraw/"))
    assert_error(
        api(supplier).post(url(accepted, "documents/"), {"file": upload()}, format="multipart"),
        409,
        "WRONG_STATUS",
    )


def test_upload_refusals(filed, api, supplier):
    documents = url(filed, "documents/")
    assert_error(
        api(supplier).post(documents, {"file": upload(content=b"")}, format="multipart"),
        400,
        "EMPTY_FILE",
    )
    assert_error(
        api(supplier).post(documents, {"title": "无文件"}, format="multipart"),
        400,
        "VALIDATION_ERROR",
    )
    assert_error(
        api(supplier).post(documents, {"file": upload(), "extra": "1"}, format="multipart"),
        400,
        "UNKNOWN_FIELD",
    )
    assert_error(
        api(supplier).post(documents, {"file": upload(), "request": "999999"}, format="multipart"),
        404,
        "NOT_FOUND",
    )
    assert_error(
        api(supplier).post(documents, {"file": upload(), "title": "x" * 201}, format="multipart"),
        400,
        "TEXT_TOO_LONG",
    )


# --- Schema ---------------------------------------------------------------------------------------


def test_the_schema_documents_the_complaints_api(tmp_path: Any) -> None:
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for path, method in [
        ("/api/v1/complaints/", "get"),
        ("/api/v1/complaints/", "post"),
        ("/api/v1/complaints/{id}/", "get"),
        ("/api/v1/complaints/{id}/accept/", "post"),
        ("/api/v1/complaints/{id}/refuse/", "post"),
        ("/api/v1/complaints/{id}/requests/", "post"),
        ("/api/v1/complaints/{id}/requests/{rid}/answer/", "post"),
        ("/api/v1/complaints/{id}/suspend/", "post"),
        ("/api/v1/complaints/{id}/resume/", "post"),
        ("/api/v1/complaints/{id}/decide/", "post"),
        ("/api/v1/complaints/{id}/withdraw/", "post"),
        ("/api/v1/complaints/{id}/documents/", "post"),
        ("/api/v1/complaints/{id}/documents/{did}/download/", "get"),
    ]:
        assert method in paths[path], (path, method)
    components = schema["components"]["schemas"]
    create = components["ComplaintCreate"]
    assert create["additionalProperties"] is False
    assert set(create["required"]) == {"project", "subject", "facts", "claims"}
    assert create["properties"]["subject"] == {"$ref": "#/components/schemas/ComplaintSubjectEnum"}
    assert create["properties"]["facts"]["maxLength"] == 10_000
    assert components["ComplaintSubjectEnum"]["enum"] == list(Complaint.Subject.values)
    decide = components["Decide"]
    assert decide["additionalProperties"] is False and set(decide["required"]) == {
        "outcome",
        "decision",
    }
    for name in (
        "ComplaintStatusEnum",
        "ComplaintRegimeEnum",
        "ComplaintOutcomeEnum",
        "ComplaintRemedyEnum",
        "MaterialRequestPartyEnum",
        "MaterialRequestKindEnum",
    ):
        assert name in components
    listing = paths["/api/v1/complaints/"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"status", "project", "limit", "offset"}
    upload_body = paths["/api/v1/complaints/{id}/documents/"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload_body
