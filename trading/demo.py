"""Demo projects in every stage of entering the center and publication (idempotent by title)."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict

from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Organization, User
from clock.calendar import next_working_moment
from trading import services
from trading.models import Project

# (title, kind, category, method, stage, lots)
PROJECTS: list[tuple[str, str, str, str, str, list[dict[str, Any]]]] = [
    (
        "珠海市第一中学教学楼改造工程施工",
        "construction",
        "works",
        "open",
        "published_amended",
        [
            {
                "name": "施工总承包",
                "estimate": "38000000.00",
                "ceiling_price": "36500000.00",
                "deposit_amount": "500000.00",
                "deposit_forms": ["cash", "bank_guarantee"],
            }
        ],
    ),
    (
        "斗门区智慧课堂设备采购项目",
        "gp",
        "goods",
        "open",
        "published",
        [
            {
                "name": "交互式黑板",
                "estimate": "4200000.00",
                "ceiling_price": "4200000.00",
                "deposit_amount": "84000.00",
                # GP: the supplier chooses the form; no list offers every legal form.
                "deposit_forms": [],
            },
            {
                "name": "录播系统",
                "estimate": "1800000.00",
                "ceiling_price": "1800000.00",
                "deposit_amount": "36000.00",
                # GP: the supplier chooses the form; no list offers every legal form.
                "deposit_forms": [],
            },
        ],
    ),
    (
        "香洲区市政道路养护工程（2027年度）",
        "construction",
        "housing_municipal",
        "open",
        "submitted",
        [
            {
                "name": "一标段",
                "estimate": "12000000.00",
                "ceiling_price": "11800000.00",
                "deposit_amount": "240000.00",
                "deposit_forms": ["cash", "bank_guarantee"],
            }
        ],
    ),
    (
        "金湾区体育中心勘察设计",
        "construction",
        "survey_design",
        "open",
        "returned",
        [
            {
                "name": "勘察设计",
                "estimate": "3000000.00",
                "deposit_amount": "60000.00",
                "deposit_forms": ["bank_guarantee"],
            }
        ],
    ),
    (
        "横琴口岸配套管网工程",
        "construction",
        "works",
        "open",
        "approved",
        [
            {
                "name": "施工",
                "estimate": "26000000.00",
                "ceiling_price": "25000000.00",
                "deposit_amount": "520000.00",
                "deposit_forms": ["cash"],
            }
        ],
    ),
    (
        "高新区人才公寓物业服务采购",
        "gp",
        "services",
        "open",
        "draft",
        [{"name": "物业服务", "estimate": "2400000.00", "deposit_amount": "0"}],
    ),
    (
        "市档案馆密集架采购（已终止）",
        "gp",
        "goods",
        "open",
        "terminated",
        [
            {
                "name": "密集架",
                "estimate": "900000.00",
                "deposit_amount": "18000.00",
                # GP: the supplier chooses the form; no list offers every legal form.
                "deposit_forms": [],
            }
        ],
    ),
]


class Timeline(TypedDict):
    documents_from: dt.datetime
    documents_until: dt.datetime
    questions_until: dt.datetime
    bid_deadline: dt.datetime


def _timeline(now: dt.datetime) -> Timeline:
    # Documents from the next minute; the deadline 25 days on at 09:30 Beijing time.
    # Deadlines keep off holidays (the rules refuse them): each moves to the next working day.
    start = now + dt.timedelta(minutes=1)
    deadline = next_working_moment(
        timezone.localtime(now + dt.timedelta(days=26)).replace(
            hour=9, minute=30, second=0, microsecond=0
        )
    )
    return {
        "documents_from": start,
        "documents_until": next_working_moment(start + dt.timedelta(days=7)),
        "questions_until": next_working_moment(deadline - dt.timedelta(days=16)),
        "bid_deadline": deadline,
    }


def seed(out: Any) -> None:
    agent = User.objects.get(username="agent")
    staff = User.objects.get(username="staff")
    owner = Organization.objects.get(uscc="1144040000700002X3")
    as_agent, as_staff = Actor.for_user(agent), Actor.for_user(staff)
    now = timezone.now()
    for title, kind, category, method, stage, lots in PROJECTS:
        if Project.objects.filter(title=title).exists():
            continue
        project = services.create_project(
            as_agent,
            owner=owner,
            lots=lots,
            title=title,
            kind=kind,
            category=category,
            method=method,
            description=f"{title}。资金来源：财政资金，已落实。",
            **_timeline(now),
        )
        if stage == "draft":
            continue
        services.submit_project(as_agent, project)
        if stage == "submitted":
            continue
        if stage == "returned":
            services.return_project(as_staff, project, reason="请补充项目审批文件和资金来源证明。")
            continue
        services.approve_project(as_staff, project)
        if stage == "approved":
            continue
        services.publish_project(as_agent, project)
        if stage == "terminated":
            services.terminate_project(
                as_agent, project, reason="采购需求发生重大变化，本项目终止。"
            )
        if stage == "published_amended":
            services.publish_amendment(
                as_agent,
                project,
                title="关于补充工程量清单的变更公告",
                body="补充第五章工程量清单第12至18项，其余内容不变。",
                affects_bid_preparation=True,
            )
    out.write(f"trading: {Project.objects.count()} demo projects\n")
