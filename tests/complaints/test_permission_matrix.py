"""Who sees and does what with a complaint case, role × endpoint, over the API.

Roles: `anonymous`; `other`, a supplier that is not the complainant; the `complainant` (the supplier
whose 质疑 the case follows); the project's `agent` (the respondent); center `staff`; the
`supervisor` (the regulator). `EXPECTED` is the specification, written out apart from the code: a
case is hidden (404) from anyone who may not see it — another supplier never learns it exists —;
visible but not theirs to act on is 403; anonymous API calls are 403 (session authentication).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from tests.complaints.conftest import START, Case

# The API tests run on the fixed clock of conftest.py (`traveller`) with their own media root.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("traveller", "_media")]

ROLES = ["anonymous", "other", "complainant", "agent", "staff", "supervisor"]
VIEWERS = {"complainant", "agent", "staff", "supervisor"}


def only(allowed: dict[str, int]) -> dict[str, int]:
    """`allowed` for the roles named, 404 for the other supplier, 403 for everyone else."""
    return {role: allowed.get(role, 403 if role != "other" else 404) for role in ROLES}


EXPECTED: dict[str, dict[str, int]] = {
    "list": {role: 403 if role == "anonymous" else 200 for role in ROLES},
    "detail": only(dict.fromkeys(VIEWERS, 200)),
    "download": only(dict.fromkeys(VIEWERS, 200)),
    "accept": only({"supervisor": 200}),
    "refuse": only({"supervisor": 200}),
    "request": only({"supervisor": 201}),
    "suspend": only({"supervisor": 200}),
    "resume": only({"supervisor": 200}),
    "decide": only({"supervisor": 200}),
    "answer_respondent": only({"agent": 200}),
    "answer_complainant": only({"complainant": 200}),
    "withdraw": only({"complainant": 200}),
    "upload": only({"complainant": 201, "agent": 201, "supervisor": 201}),
}


def url(case: Case, action: str = "") -> str:
    return f"/api/v1/complaints/{case.pk}/{action}"


def _asked(case: Case, api: Any, supervisor: User, party: str) -> int:
    requests = api(supervisor).get(url(case)).json()["requests"]
    if party == "respondent":
        return int(requests[0]["id"])
    response = api(supervisor).post(
        url(case, "requests/"),
        {
            "party": "complainant",
            "kind": "supplement",
            "text": "请补充材料。",
            "due_at": (START + dt.timedelta(days=3)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


Call = Callable[[Any], Any]


def prepare(action: str, request: Any) -> tuple[Case, Call]:
    """The case in the state the action needs, and the call to make as the role's client."""
    api = request.getfixturevalue("api")
    supervisor = request.getfixturevalue("supervisor")
    agent = request.getfixturevalue("agent")
    state = {
        "request": "accepted",
        "answer_respondent": "accepted",
        "answer_complainant": "accepted",
        "decide": "accepted",
    }.get(action, "filed")
    case: Case = request.getfixturevalue(state)
    if action == "decide":
        rid = _asked(case, api, supervisor, "respondent")
        answered = api(agent).post(
            url(case, f"requests/{rid}/answer/"), {"answer": "说明。"}, format="json"
        )
        assert answered.status_code == 200, answered.content
    if action == "resume":
        ordered = api(supervisor).post(
            url(case, "suspend/"), {"reason": "暂停", "days": 5}, format="json"
        )
        assert ordered.status_code == 200, ordered.content
    if action == "download":
        added = api(supervisor).post(
            url(case, "documents/"),
            {"file": SimpleUploadedFile("笔录.pdf", b"record")},
            format="multipart",
        )
        assert added.status_code == 201, added.content
        download_url = added.json()["download_url"]

    def file() -> SimpleUploadedFile:
        return SimpleUploadedFile("材料.pdf", b"material", content_type="application/pdf")

    calls: dict[str, Call] = {
        "list": lambda client: client.get("/api/v1/complaints/"),
        "detail": lambda client: client.get(url(case)),
        "download": lambda client: client.get(download_url),
        "accept": lambda client: client.post(url(case, "accept/")),
        "refuse": lambda client: client.post(
            url(case, "refuse/"), {"reason": "不符合受理条件。"}, format="json"
        ),
        "request": lambda client: client.post(
            url(case, "requests/"),
            {
                "party": "respondent",
                "kind": "supplement",
                "text": "请提交评审记录。",
                "due_at": (START + dt.timedelta(days=3)).isoformat(),
            },
            format="json",
        ),
        "suspend": lambda client: client.post(
            url(case, "suspend/"), {"reason": "调查期间暂停", "days": 10}, format="json"
        ),
        "resume": lambda client: client.post(url(case, "resume/")),
        "decide": lambda client: client.post(
            url(case, "decide/"),
            {"outcome": "upheld", "remedy": "redo", "decision": "投诉成立，责令重新采购。"},
            format="json",
        ),
        "withdraw": lambda client: client.post(url(case, "withdraw/")),
        "upload": lambda client: client.post(
            url(case, "documents/"), {"file": file()}, format="multipart"
        ),
    }
    if action.startswith("answer_"):
        rid = _asked(case, api, supervisor, action.removeprefix("answer_"))
        calls[action] = lambda client: client.post(
            url(case, f"requests/{rid}/answer/"), {"answer": "答复。"}, format="json"
        )
    return case, calls[action]


FIXTURES = {
    "other": "other_supplier",
    "complainant": "supplier",
    "agent": "agent",
    "staff": "staff",
    "supervisor": "supervisor",
}


def user_for(role: str, request: Any) -> User | None:
    return None if role == "anonymous" else request.getfixturevalue(FIXTURES[role])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(EXPECTED))
def test_permission_matrix(action: str, role: str, request: Any) -> None:
    api = request.getfixturevalue("api")
    # Every persona exists in every cell, so "other" is a real supplier beside a real case.
    for name in ("other_supplier", "staff", "supervisor"):
        request.getfixturevalue(name)
    case, call = prepare(action, request)
    response = call(api(user_for(role, request)))
    expected = EXPECTED[action][role]
    assert response.status_code == expected, (action, role, response.content)
    if expected >= 400:
        code = {403: "NOT_AUTHENTICATED" if role == "anonymous" else "FORBIDDEN", 404: "NOT_FOUND"}
        assert response.json()["error"]["code"] == code[expected]
    if action == "list" and expected == 200:
        ids = [row["id"] for row in response.json()["results"]]
        assert ids == ([case.pk] if role in VIEWERS else [])
