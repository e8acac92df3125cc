"""The public announcement API and the statutory calendar API."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.actors import Actor
from audit.models import AuditEvent
from clock.calendar import is_workday
from clock.models import StatutoryDay
from tests.trading.factories import draft
from tests.trading.test_api import START, T0, assert_error, open_tender
from trading import services
from trading.models import Announcement, Project

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def traveller():
    with time_machine.travel(T0, tick=False) as moving:
        yield moving


def listed(api, query: str = "") -> list[dict]:
    response = api(None).get(f"/api/v1/announcements/{query}")
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- Announcements --------------------------------------------------------------------------------


def test_drafts_never_appear_in_the_public_list(api, agent, staff):
    drafted = draft(agent, start=START, title="尚未发布的项目")
    submitted = draft(agent, start=START, title="待审核的项目")
    services.submit_project(Actor.for_user(agent), submitted)
    announced = open_tender(agent, staff, title="已发布的项目")
    rows = listed(api)
    assert [row["project"] for row in rows] == [announced.pk]
    assert rows[0]["title"] == "已发布的项目招标公告"
    assert rows[0]["project_number"] == announced.number
    text = api(None).get("/api/v1/announcements/").content.decode()
    assert drafted.number not in text and "尚未发布" not in text and "待审核" not in text
    assert listed(api, f"?q={drafted.number}") == []


def test_the_detail_has_every_version_with_its_hash(api, traveller, agent, staff):
    project = open_tender(agent, staff)
    traveller.shift(dt.timedelta(hours=1))
    services.publish_amendment(Actor.for_user(agent), project, title="变更一", body="内容一")
    main = Announcement.objects.get(project=project, kind="tender")
    response = api(None).get(f"/api/v1/announcements/{main.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["version_count"] == 2
    versions = body["versions"]
    assert [v["number"] for v in versions] == [1, 2]
    assert set(versions[0]) == {
        "number",
        "title",
        "body",
        "content",
        "sha256",
        "published_at",
        "reason",
    }
    assert versions[0]["published_at"] == "2026-03-02T09:00:00+08:00"
    assert versions[1]["published_at"] == "2026-03-02T10:00:00+08:00"
    assert versions[1]["content"]["previous_sha256"] == versions[0]["sha256"]
    assert versions[0]["content"]["project"]["lots"][0]["estimate"] == "38000000.00"
    assert_error(api(None).get("/api/v1/announcements/999999/"), 404, "NOT_FOUND")


def test_announcements_filter_by_kind_region_and_search(api, traveller, agent, staff):
    works = open_tender(agent, staff, title="教学楼改造工程", region="440402")
    traveller.shift(dt.timedelta(hours=1))
    goods = open_tender(
        agent,
        staff,
        title="办公家具采购",
        kind=Project.Kind.GOVERNMENT_PROCUREMENT,
        category=Project.Category.GOODS,
        lots=[{"name": "家具", "estimate": "500000", "deposit_amount": "0"}],
        # GP documents stay obtainable 5 working days from publication (87号令 Art.16).
        documents_until=T0 + dt.timedelta(days=8),
    )
    traveller.shift(dt.timedelta(hours=1))
    services.terminate_project(Actor.for_user(agent), works, reason="资金未落实")

    def projects(query: str) -> list[tuple[int, str]]:
        return [(row["project"], row["kind"]) for row in listed(api, query)]

    assert projects("") == [
        (works.pk, "termination"),
        (goods.pk, "procurement"),
        (works.pk, "tender"),
    ]
    assert projects("?kind=procurement") == [(goods.pk, "procurement")]
    assert projects("?project_kind=construction") == [
        (works.pk, "termination"),
        (works.pk, "tender"),
    ]
    assert projects("?region=440402") == [(works.pk, "termination"), (works.pk, "tender")]
    assert projects("?q=家具") == [(goods.pk, "procurement")]
    assert projects(f"?q={works.number.lower()}") == [
        (works.pk, "termination"),
        (works.pk, "tender"),
    ]
    assert_error(api(None).get("/api/v1/announcements/?kind=rumour"), 400, "INVALID_PARAMETER")


def test_announcements_filter_by_time_with_an_offset_or_a_date(api, traveller, agent, staff):
    first = open_tender(agent, staff, title="第一个")  # published 2026-03-02 09:00 Beijing
    traveller.move_to(T0 + dt.timedelta(days=1))
    second = open_tender(agent, staff, title="第二个")  # 2026-03-03 09:00

    def projects(query: str) -> list[int]:
        return [row["project"] for row in listed(api, query)]

    assert projects("?since=2026-03-03") == [second.pk]
    assert projects("?until=2026-03-02") == [first.pk]
    assert projects("?since=2026-03-03T01:00:00Z") == [second.pk]
    assert projects("?since=2026-03-03T01:00:01Z") == []
    assert projects("?since=2026-03-02T09:00:00%2B08:00&until=2026-03-03T09:00:00%2B08:00") == [
        first.pk
    ]
    # A "+" that was not percent-encoded arrives as a space; the offset is still understood.
    assert projects("?since=2026-03-03T09:00:00+08:00") == [second.pk]
    error = assert_error(
        api(None).get("/api/v1/announcements/?since=2026-03-03T09:00:00"), 400, "NAIVE_TIME"
    )
    assert "2026-03-03T09:00:00" in error["message"]
    assert_error(api(None).get("/api/v1/announcements/?until=tomorrow"), 400, "INVALID_TIME")


def test_the_announcement_list_is_paginated(api, traveller, agent, staff):
    for number in range(3):
        open_tender(agent, staff, title=f"项目{number}")
        traveller.shift(dt.timedelta(minutes=1))
    page = api(None).get("/api/v1/announcements/?limit=2").json()
    assert page["count"] == 3
    assert [row["title"] for row in page["results"]] == ["项目2招标公告", "项目1招标公告"]
    assert page["next"] and page["previous"] is None
    rest = api(None).get("/api/v1/announcements/?limit=2&offset=2").json()
    assert [row["title"] for row in rest["results"]] == ["项目0招标公告"]


# --- Statutory calendar ---------------------------------------------------------------------------


def test_staff_enter_and_remove_statutory_days(api, staff, supplier):
    response = api(staff).post(
        "/api/v1/calendar/days/",
        {
            "date": "2031-01-01",
            "kind": "holiday",
            "name": "元旦",
            "notice": "国办发明电〔2030〕1号",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["kind_display"]
    assert not is_workday(dt.date(2031, 1, 1))
    seen = api(supplier).get("/api/v1/calendar/days/?year=2031").json()
    assert [(row["date"], row["name"]) for row in seen["results"]] == [("2031-01-01", "元旦")]
    # New Year's Day is the law's holiday: it can never be made a workday.
    refused = api(staff).post(
        "/api/v1/calendar/days/", {"date": "2031-01-01", "kind": "workday"}, format="json"
    )
    assert_error(refused, 400, "STATUTORY_HOLIDAY")
    # A Saturday entered as part of the holiday is corrected to a make-up workday.
    api(staff).post("/api/v1/calendar/days/", {"date": "2031-01-04", "kind": "holiday"})
    corrected = api(staff).post(
        "/api/v1/calendar/days/", {"date": "2031-01-04", "kind": "workday"}, format="json"
    )
    assert corrected.status_code == 201
    assert StatutoryDay.objects.get(date="2031-01-04").kind == "workday"
    assert is_workday(dt.date(2031, 1, 4))
    assert api(staff).delete("/api/v1/calendar/days/2031-01-04/").status_code == 204
    assert api(staff).delete("/api/v1/calendar/days/2031-01-01/").status_code == 204
    assert not StatutoryDay.objects.exists()
    assert AuditEvent.objects.filter(action="clock.statutory_day.removed").exists()


def test_only_staff_change_the_calendar(api, staff, agent, supplier):
    StatutoryDay.objects.create(date=dt.date(2031, 1, 1), kind="holiday")
    for user in (agent, supplier):
        assert_error(
            api(user).post(
                "/api/v1/calendar/days/", {"date": "2031-01-02", "kind": "holiday"}, format="json"
            ),
            403,
            "FORBIDDEN",
        )
        assert_error(api(user).delete("/api/v1/calendar/days/2031-01-01/"), 403, "FORBIDDEN")
    assert StatutoryDay.objects.count() == 1


def test_calendar_input_is_checked(api, staff):
    error = assert_error(
        api(staff).post(
            "/api/v1/calendar/days/", {"date": "2031-02-30", "kind": "holiday"}, format="json"
        ),
        400,
        "VALIDATION_ERROR",
    )
    assert "date" in error["details"]
    error = assert_error(
        api(staff).post(
            "/api/v1/calendar/days/", {"date": "2031-02-03", "kind": "party"}, format="json"
        ),
        400,
        "VALIDATION_ERROR",
    )
    assert "kind" in error["details"]
    assert_error(api(staff).delete("/api/v1/calendar/days/someday/"), 400, "INVALID_DATE")
    for year in ("twenty", "0", "99999"):
        assert_error(
            api(staff).get(f"/api/v1/calendar/days/?year={year}"), 400, "INVALID_PARAMETER"
        )
