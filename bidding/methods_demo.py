"""Demo projects of government procurement's non-tender methods (idempotent by title):

- a 竞争性磋商 whose first responses close DEADLINE_MINUTES after the first seeding, with three sealed
  responses and a panel of five drawn and signed off — to open, decrypt, seat the panel (comprehensive
  scoring, price weight 30–60 % for goods), negotiate in rounds, call and give the final quotes, and
  rank by them, in the browser;
- a 询价 open for responses for its legal 3 working days, one supplier's unchangeable quote in;
- a 竞争性谈判 open for responses for its legal 3 working days, one supplier registered;
- a 框架协议 solicitation squeezed like the consultation, three sealed unit prices and a panel — to
  open, evaluate by 价格优先法, conclude the agreement (two of three admitted) and buy under it.

The consultation and the framework's solicitation squeeze their 10 and 20 days into minutes the same
way the tender demo does (`bidding.demo`): the center's TRADING_RULES override, for "gp.consultation"
and "gp.framework" only, while each clearly labelled demo project is created and published. The
inquiry and the negotiation keep every legal period.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Organization, User
from bidding import services
from bidding.demo_draws import seat_committee
from bidding.models import Bid
from clock.calendar import add_working_days
from lib.errors import present
from trading import services as trading
from trading.models import Project, Registration

CODE = "demo-code-2026"
DEADLINE_MINUTES = 12
OWNER_USCC = "1144040000700002X3"  # 珠海市教育局 (accounts.demo)
SPECIALTY = "A0810"  # the demo experts' specialty (bidding.demo)
CONSULTATION = "斗门区政务服务中心自助终端采购（竞争性磋商演示）"
INQUIRY = "珠海市图书馆办公家具采购（询价）"
NEGOTIATION = "市政务数据中心机房运维服务采购（竞争性谈判）"
FRAMEWORK = "珠海市市直机关台式计算机框架协议采购（框架协议演示）"
# Unit prices of one computer under a 最高限制单价 of 5,600 yuan.
FRAMEWORK_PRICES = {"supplier": "5280.00", "supplier2": "5150.00", "supplier4": "5390.00"}
CONSULTATION_PRICES = {
    "supplier": "1368000.00",
    "supplier2": "1392500.00",
    "supplier4": "1355000.00",
}
SHORT = {
    "min_documents_to_deadline": {"days": 0},
    "min_document_window": {"days": 0},
    "deadline_on_working_day": False,
}


def _publish(agent: User, staff: User, **fields: Any) -> Project:
    as_agent = Actor.for_user(agent)
    project = trading.create_project(
        as_agent, owner=Organization.objects.get(uscc=OWNER_USCC), **fields
    )
    trading.submit_project(as_agent, project)
    trading.approve_project(Actor.for_user(staff), project)
    trading.publish_project(as_agent, project)
    project.refresh_from_db()
    return project


def _squeezed(
    agent: User,
    staff: User,
    supervisor: User,
    *,
    title: str,
    method: str,
    lot: dict[str, str],
    description: str,
    prices: dict[str, str],
) -> Project:
    """A clearly labelled demo of a sealed GP method whose responses close minutes after the first
    seeding (its periods squeezed by the center's override for this method only), with `prices`
    sealed by their suppliers and a panel drawn and signed off."""
    project = Project.objects.filter(title=title).first()
    if project is None:
        now = timezone.now()
        deadline = (now + dt.timedelta(minutes=DEADLINE_MINUTES + 1)).replace(
            second=0, microsecond=0
        )
        rules = {**settings.TRADING_RULES, f"gp.{method}": SHORT}
        with override_settings(TRADING_RULES=rules):
            project = _publish(
                agent,
                staff,
                lots=[lot],
                title=title,
                kind=Project.Kind.GOVERNMENT_PROCUREMENT,
                category=Project.Category.GOODS,
                method=method,
                description=description,
                documents_from=now,
                documents_until=deadline,
                questions_until=deadline,
                bid_deadline=deadline,
            )
    the_lot = project.lots.get()
    if timezone.now() < present(project.bid_deadline, "a published project's deadline"):
        for username, price in prices.items():
            user = User.objects.get(username=username)
            actor = Actor.for_user(user)
            registered = Registration.objects.filter(lot=the_lot, organization=user.organization)
            if not registered.exists():
                trading.register(actor, the_lot, contact_name=user.display_name or username)
            if not Bid.objects.filter(lot=the_lot, organization=user.organization).exists():
                services.submit_bid(actor, the_lot, price=price, decryption_code=CODE)
    seat_committee(project, staff, supervisor, SPECIALTY)
    return project


def _consultation(agent: User, staff: User, supervisor: User) -> Project:
    return _squeezed(
        agent,
        staff,
        supervisor,
        title=CONSULTATION,
        method=Project.Method.CONSULTATION,
        lot={
            "name": "自助终端",
            "estimate": "1500000.00",
            "ceiling_price": "1450000.00",
            "deposit_amount": "0",
        },
        description=(
            "演示项目：首次响应文件截止时间设在数据初始化后数分钟，用于演示竞争性磋商的"
            "开启、磋商轮次、最后报价和综合评分（价格分值占 30%–60%）。不要求保证金。"
        ),
        prices=CONSULTATION_PRICES,
    )


def _framework(agent: User, staff: User, supervisor: User) -> Project:
    return _squeezed(
        agent,
        staff,
        supervisor,
        title=FRAMEWORK,
        method=Project.Method.FRAMEWORK,
        # The 最高限制单价 is the ceiling; the estimate is the agreement's expected total.
        lot={
            "name": "台式计算机",
            "estimate": "2800000.00",
            "ceiling_price": "5600.00",
            "deposit_amount": "0",
        },
        description=(
            "演示项目：框架协议（封闭式）公开征集，响应截止时间设在数据初始化后数分钟。开启、"
            "评审（价格优先法）后订立框架协议：至少淘汰 20% 且至少一家，入围供应商的响应单价即"
            "协议价格；之后可按直接选定、顺序轮候或二次竞价在协议价格以内采购。不收取保证金。"
        ),
        prices=FRAMEWORK_PRICES,
    )


def _three_working_days(agent: User, staff: User, title: str, method: str, lot: dict) -> Project:
    project = Project.objects.filter(title=title).first()
    if project is not None:
        return project
    start = timezone.now()
    # 3 working days from the documents (财政部令第74号 Art.29, Art.45), at 09:30 on a working day.
    deadline = timezone.localtime(add_working_days(start, 4)).replace(
        hour=9, minute=30, second=0, microsecond=0
    )
    return _publish(
        agent,
        staff,
        lots=[lot],
        title=title,
        kind=Project.Kind.GOVERNMENT_PROCUREMENT,
        category=Project.Category.SERVICES if method == "negotiation" else Project.Category.GOODS,
        method=method,
        description=f"{title}。资金来源：财政资金，已落实。",
        documents_from=start,
        documents_until=deadline,
        questions_until=deadline - dt.timedelta(days=1),
        bid_deadline=deadline,
    )


def _inquiry(agent: User, staff: User) -> Project:
    project = _three_working_days(
        agent,
        staff,
        INQUIRY,
        Project.Method.INQUIRY,
        {
            "name": "办公家具",
            "estimate": "360000.00",
            "ceiling_price": "350000.00",
            "deposit_amount": "0",
        },
    )
    lot = project.lots.get()
    user = User.objects.get(username="supplier4")
    if timezone.now() < present(project.bid_deadline, "a published project's deadline"):
        if not Registration.objects.filter(lot=lot, organization=user.organization).exists():
            trading.register(Actor.for_user(user), lot, contact_name=user.display_name)
        if not Bid.objects.filter(lot=lot, organization=user.organization).exists():
            services.submit_bid(Actor.for_user(user), lot, price="338800.00", decryption_code=CODE)
    return project


def _negotiation(agent: User, staff: User) -> Project:
    project = _three_working_days(
        agent,
        staff,
        NEGOTIATION,
        Project.Method.NEGOTIATION,
        {"name": "机房运维服务", "estimate": "880000.00", "deposit_amount": "0"},
    )
    lot = project.lots.get()
    user = User.objects.get(username="supplier2")
    if (
        timezone.now() < present(project.documents_until, "a published project's documents")
        and not Registration.objects.filter(lot=lot, organization=user.organization).exists()
    ):
        trading.register(Actor.for_user(user), lot, contact_name=user.display_name)
    return project


def seed(out: Any) -> None:
    staff = User.objects.get(username="staff")
    supervisor = User.objects.get(username="supervisor")
    agent = User.objects.get(username="agent")
    consultation = _consultation(agent, staff, supervisor)
    inquiry = _inquiry(agent, staff)
    negotiation = _negotiation(agent, staff)
    framework = _framework(agent, staff, supervisor)
    for project in (consultation, inquiry, negotiation, framework):
        deadline = timezone.localtime(present(project.bid_deadline, "a deadline")).strftime(
            "%Y-%m-%d %H:%M"
        )
        out.write(
            f"bidding: {project.number} 《{project.title}》 ({project.get_method_display()}), "
            f"responses until {deadline} (Beijing)\n"
        )
    out.write(
        "  竞争性磋商: after the deadline open and decrypt (code "
        f"{CODE}), staff seat the panel (综合评分, 价格权重 0.30–0.60), publish rounds, call the "
        "final quotes; suppliers quote once each; the report ranks by the final quotes.\n"
    )
