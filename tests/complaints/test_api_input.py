"""Malformed input to the complaints API is a 400 with a code (or 404 for an id that names nothing),
never a 5xx: wrong JSON types, huge or unsafe text, ids no column holds, times without an offset or
out of range, unknown keys, bodies that are not objects."""

from __future__ import annotations

import json
from typing import Any

import pytest

from complaints.models import Complaint
from tests.complaints.conftest import Case, assert_error, complaint_body

# The API tests run on the fixed clock of conftest.py (`traveller`) with their own media root.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("traveller", "_media")]

URL = "/api/v1/complaints/"
HUGE = "投" * 10_001
NOT_TEXT = [123, 1.5, True, ["事实"], {"text": "事实"}]
BAD_IDS = ["abc", -1, 0, 1.5, True, "１", " 1", "1e3", 2**63, "9" * 30, [1], {"id": 1}]
BAD_TIMES = [
    "yesterday",
    "2026-03-01T09:00:00",  # no offset
    "2026-13-01T09:00:00+08:00",
    "9999-12-31T23:59:59-14:00",  # past the largest time once in UTC
    "0001-01-01T00:00:00+14:00",
    12345,
    True,
    ["2026-03-01T09:00:00+08:00"],
]


def never_a_server_error(response: Any) -> dict[str, Any]:
    assert response.status_code < 500, response.content
    assert 400 <= response.status_code < 500, response.content
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] and error["message"]
    return error


def post(api: Any, user: Any, path: str, body: Any) -> Any:
    return api(user).post(path, body, format="json")


# --- Filing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["facts", "claims"])
@pytest.mark.parametrize("value", NOT_TEXT, ids=repr)
def test_text_must_be_text(case: Case, api, supplier, field: str, value: Any) -> None:
    response = post(api, supplier, URL, complaint_body(case, **{field: value}))
    assert_error(response, 400, "TEXT_NOT_STRING")


def test_text_is_bounded_and_clean(case: Case, api, supplier) -> None:
    assert_error(post(api, supplier, URL, complaint_body(case, facts=HUGE)), 400, "TEXT_TOO_LONG")
    assert_error(
        post(api, supplier, URL, complaint_body(case, claims="请求\x00撤销")),
        400,
        "TEXT_INVALID_CHAR",
    )
    assert_error(
        post(api, supplier, URL, complaint_body(case, facts=None)), 400, "VALIDATION_ERROR"
    )
    assert not Complaint.objects.exists()


@pytest.mark.parametrize(
    "field", ["project", "objection", "publicity_objection", "opening_response"]
)
@pytest.mark.parametrize("value", BAD_IDS, ids=repr)
def test_ids_are_read_strictly(case: Case, api, supplier, field: str, value: Any) -> None:
    error = never_a_server_error(post(api, supplier, URL, complaint_body(case, **{field: value})))
    assert error["code"] in {"NUMBER_INVALID", "NUMBER_OUT_OF_RANGE"}


@pytest.mark.parametrize("value", BAD_TIMES, ids=repr)
def test_knew_at_needs_an_iso_time_with_offset(case: Case, api, supplier, value: Any) -> None:
    response = post(api, supplier, URL, complaint_body(case, knew_at=value))
    assert_error(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "value", ["", "open", 1, None, ["documents"], {"a": 1}, "DOCUMENTS"], ids=repr
)
def test_subject_is_one_of_the_enum(case: Case, api, supplier, value: Any) -> None:
    assert_error(
        post(api, supplier, URL, complaint_body(case, subject=value)), 400, "VALIDATION_ERROR"
    )


def test_unknown_and_missing_fields(case: Case, api, supplier) -> None:
    assert_error(
        post(api, supplier, URL, complaint_body(case, knew_when="2026-03-01")), 400, "UNKNOWN_FIELD"
    )
    assert_error(
        post(api, supplier, URL, complaint_body(case, **{"\u202eevil": 1})), 400, "UNKNOWN_FIELD"
    )
    body = complaint_body(case)
    del body["facts"]
    error = assert_error(post(api, supplier, URL, body), 400, "VALIDATION_ERROR")
    assert "facts" in error["details"]


@pytest.mark.parametrize("body", [[], "text", 1, None, [1], True], ids=repr)
def test_a_body_that_is_not_an_object(case: Case, api, supplier, body: Any) -> None:
    payload = json.dumps(body)
    response = api(supplier).post(URL, payload, content_type="application/json")
    never_a_server_error(response)
    assert response.status_code == 400


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"facts": NaN}', b"[" * 5000 + b"]" * 5000, b"\xff\xfe", b'{"facts": "\\ud800"}'],
    ids=repr,
)
def test_malformed_json(case: Case, api, supplier, raw: bytes) -> None:
    response = api(supplier).generic("POST", URL, raw, content_type="application/json")
    never_a_server_error(response)
    assert response.status_code == 400


def test_a_form_body_is_read_as_strictly(case: Case, api, supplier) -> None:
    body = {key: str(value) for key, value in complaint_body(case).items()}
    body["project"] = "１"
    never_a_server_error(api(supplier).post(URL, body))
    body["project"] = str(case.project.pk)
    body["facts"] = "a\x00b"
    assert_error(api(supplier).post(URL, body), 400, "TEXT_INVALID_CHAR")


# --- Actions --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["", "accept/", "refuse/", "decide/", "withdraw/", "documents/"])
def test_ids_in_the_path_that_name_nothing(api, supervisor, path: str) -> None:
    for pk in ("999999", "9" * 19, "9" * 40, "-1", "abc", "1.0"):
        method = api(supervisor).get if path == "" else api(supervisor).post
        response = method(f"{URL}{pk}/{path}")
        assert_error(response, 404, "NOT_FOUND")


SUSPEND_DAYS = ["ten", "10.0", 1e3, 10**30, "9" * 40, True, -1, None, [10], "１０"]


@pytest.mark.parametrize("days", SUSPEND_DAYS, ids=repr)
def test_suspension_days_are_read_strictly(filed: Case, api, supervisor, days: Any) -> None:
    response = post(api, supervisor, f"{URL}{filed.pk}/suspend/", {"reason": "暂停", "days": days})
    error = never_a_server_error(response)
    assert response.status_code == 400
    assert error["code"] in {
        "NUMBER_INVALID",
        "NUMBER_OUT_OF_RANGE",
        "NUMBER_REQUIRED",
        "VALIDATION_ERROR",
    }


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("refuse/", {"reason": 1}),
        ("refuse/", {"reason": HUGE}),
        ("refuse/", {"reason": "x", "extra": 1}),
        ("refuse/", {}),
        ("suspend/", {"reason": ["x"], "days": 3}),
        ("suspend/", {"reason": "x", "days": 3, "until": "2026-04-01"}),
        ("decide/", {"outcome": "maybe", "decision": "x"}),
        ("decide/", {"outcome": "upheld", "remedy": "fine", "decision": "x"}),
        ("decide/", {"outcome": "upheld", "remedy": "", "decision": "x"}),
        ("decide/", {"outcome": "dismissed", "decision": {"text": "x"}}),
        ("decide/", {"outcome": "dismissed", "decision": HUGE}),
        ("decide/", {"outcome": "dismissed", "decision": "x", "remedy": None}),
    ],
    ids=repr,
)
def test_action_bodies(filed: Case, api, supervisor, action: str, body: Any) -> None:
    response = post(api, supervisor, f"{URL}{filed.pk}/{action}", body)
    never_a_server_error(response)
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {
            "party": "owner",
            "kind": "explanation",
            "text": "x",
            "due_at": "2026-04-01T09:00:00+08:00",
        },
        {
            "party": "respondent",
            "kind": "inspection",
            "text": "x",
            "due_at": "2026-04-01T09:00:00+08:00",
        },
        {
            "party": "respondent",
            "kind": "explanation",
            "text": 5,
            "due_at": "2026-04-01T09:00:00+08:00",
        },
        *(
            {"party": "respondent", "kind": "explanation", "text": "x", "due_at": value}
            for value in BAD_TIMES
        ),
        {"party": "respondent", "kind": "explanation", "text": "x"},
    ],
    ids=repr,
)
def test_request_bodies(accepted: Case, api, supervisor, body: Any) -> None:
    response = post(api, supervisor, f"{URL}{accepted.pk}/requests/", body)
    never_a_server_error(response)
    assert response.status_code == 400


@pytest.mark.parametrize("answer", [None, 7, ["x"], HUGE, "a\x00b", ""], ids=repr)
def test_answer_bodies(accepted: Case, api, agent, supervisor, answer: Any) -> None:
    (request,) = api(supervisor).get(f"{URL}{accepted.pk}/").json()["requests"]
    response = post(
        api, agent, f"{URL}{accepted.pk}/requests/{request['id']}/answer/", {"answer": answer}
    )
    never_a_server_error(response)
    assert response.status_code == 400


def test_a_body_over_the_request_cap(case: Case, api, supplier, settings) -> None:
    body = complaint_body(case, facts="投" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 3 + 10))
    response = api(supplier).post(URL, body, format="json")
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert not Complaint.objects.exists()
