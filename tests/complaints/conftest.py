"""For the API tests (they ask for `traveller` and `_media` by name; nothing here is autouse): a
government procurement whose supplier challenged the documents (质疑), the agent answered, and
the supplier now complains to the regulator — built through the real services, on a fixed clock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine

from accounts.actors import Actor
from accounts.models import User
from tests.trading.factories import beijing, published
from trading import services
from trading.models import Objection, Project

# A Monday morning in a year chinese-calendar covers.
T0 = beijing("2026-03-02 09:00")
START = T0 + dt.timedelta(hours=1)
FACTS = "招标文件第三章设置了与采购需求无关的资格条件，排斥潜在供应商。"
CLAIMS = "责令修改采购文件后重新开展采购活动。"


@pytest.fixture
def traveller() -> Any:
    with time_machine.travel(T0, tick=False) as moving:
        yield moving


@pytest.fixture
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def gp_project(agent: User, staff: User) -> Project:
    return published(
        agent,
        staff,
        start=START,
        kind=Project.Kind.GOVERNMENT_PROCUREMENT,
        category="goods",
        lots=[{"name": "教学设备", "estimate": "1000000.00", "deposit_amount": "0"}],
    )


@dataclass
class Case:
    """The world of one case: the project, the challenge and (once filed) the case's id."""

    project: Project
    objection: Objection
    traveller: Any
    pk: int | None = None


def challenged(
    traveller: Any, agent: User, staff: User, supplier: User, *, reply: bool = True
) -> Case:
    """A GP project with the supplier's 质疑 raised (and, by default, answered an hour later)."""
    project = gp_project(agent, staff)
    traveller.move_to(START + dt.timedelta(hours=1))
    objection = services.raise_objection(
        Actor.for_user(supplier), project, text="资格条件排斥潜在供应商。"
    )
    if reply:
        traveller.move_to(START + dt.timedelta(hours=2))
        services.reply_objection(Actor.for_user(agent), objection, reply="资格条件符合规定。")
        traveller.move_to(START + dt.timedelta(hours=3))
    return Case(project, objection, traveller)


def complaint_body(case: Case, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "project": case.project.pk,
        "subject": "documents",
        "facts": FACTS,
        "claims": CLAIMS,
        "objection": case.objection.pk,
    }
    body.update(overrides)
    return body


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert error["code"] == code
    assert error["message"]
    return error


@pytest.fixture
def case(traveller: Any, agent: User, staff: User, supplier: User) -> Case:
    return challenged(traveller, agent, staff, supplier)


@pytest.fixture
def filed(case: Case, api: Any, supplier: User) -> Case:
    """The case filed over the API by the supplier's user."""
    response = api(supplier).post("/api/v1/complaints/", complaint_body(case), format="json")
    assert response.status_code == 201, response.content
    case.pk = response.json()["id"]
    return case


@pytest.fixture
def accepted(filed: Case, api: Any, supervisor: User) -> Case:
    response = api(supervisor).post(f"/api/v1/complaints/{filed.pk}/accept/")
    assert response.status_code == 200, response.content
    return filed
