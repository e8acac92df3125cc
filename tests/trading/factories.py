"""Building projects for tests through the real services."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Organization, User
from tests.conftest import make_org
from trading import services
from trading.models import Project

SHANGHAI = ZoneInfo("Asia/Shanghai")


def beijing(text: str) -> dt.datetime:
    """'2027-03-01 09:30' in Beijing time."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def timeline(
    start: dt.datetime, *, days_to_deadline: int = 25, window_days: int = 7
) -> dict[str, Any]:
    return {
        "documents_from": start,
        "documents_until": start + dt.timedelta(days=window_days),
        "questions_until": start + dt.timedelta(days=days_to_deadline - 16),
        "bid_deadline": start + dt.timedelta(days=days_to_deadline),
    }


def draft(
    agent: User,
    *,
    owner: Organization | None = None,
    start: dt.datetime | None = None,
    **overrides: Any,
) -> Project:
    start = start or (timezone.now() + dt.timedelta(hours=1))
    fields: dict[str, Any] = {
        "title": "珠海市第一中学教学楼改造工程",
        "description": "新建教学楼一栋，建筑面积 12,000 平方米。",
        "kind": Project.Kind.CONSTRUCTION,
        "category": Project.Category.WORKS,
        "method": Project.Method.OPEN,
        **timeline(start),
    }
    lots = overrides.pop("lots", None) or [
        {
            "name": "施工总承包",
            "estimate": "38000000.00",
            "ceiling_price": "36500000.00",
            "deposit_amount": "500000.00",
            "deposit_forms": ["cash", "bank_guarantee"],
        }
    ]
    fields.update(overrides)
    owner = owner or make_org(Organization.Kind.OWNER, "珠海市教育局")
    return services.create_project(Actor.for_user(agent), owner=owner, lots=lots, **fields)


def published(agent: User, staff: User, **overrides: Any) -> Project:
    project = draft(agent, **overrides)
    services.submit_project(Actor.for_user(agent), project)
    services.approve_project(Actor.for_user(staff), project)
    services.publish_project(Actor.for_user(agent), project)
    project.refresh_from_db()
    return project
