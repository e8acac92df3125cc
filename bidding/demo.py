"""A sealed-bid tender to carry from submission to award in the browser (idempotent).

What it seeds, all through the services:
- a published construction tender whose bid deadline is DEADLINE_MINUTES after the first seeding, with
  one lot that asks no deposit;
- supplier, supplier2 and supplier3 registered, each with a sealed bid under the decryption code CODE;
- seven demo experts with logins (expert, expert2 … expert7) under a specialty of their own, and a
  committee of five drawn for the tender, run by `staff` with `supervisor` present and signed off by
  them, every seat confirmed — so evaluation can start as soon as the lot is opened.
- then a live reverse auction (电子反拍) starting two minutes later (bidding.auction.demo);
- and a land listing (挂牌出让) in its final minutes, to confirm, bid live and sign (bidding.land.demo);
- and government procurement's 竞争性磋商, 询价 and 竞争性谈判 (bidding.methods_demo).

Why the timeline needs the center's rule override: the legal periods in trading.rules still apply to a
non-mandatory tender (mandatory_tender=False lifts only the 20-day bidding period). The tender documents
must be obtainable for at least 5 days (条例 Art.16) and their window must close by the deadline, for
every kind of project, rights transfers included; so no tender published now can close within 5 days.
A center changes a period per project kind with the TRADING_RULES setting (docs/architecture.md); the
demo applies that mechanism — a documents window of 0 days for construction — only while it creates and
publishes this one clearly labelled demo tender, and nowhere else. Every other rule is checked as usual.
Candidate publicity (3 days) and everything after it run on the real clock: the award notice can be
issued three days after the candidates are published.

A second run changes nothing: each step looks for what it would create.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts import services as accounts
from accounts.actors import Actor
from accounts.demo import DEMO_PASSWORD
from accounts.models import Organization, Role, User
from bidding import methods_demo, services
from bidding.auction import demo as auction_demo
from bidding.commitment import bid_commitment, new_nonce
from bidding.demo_draws import seat_committee
from bidding.land import demo as land_demo
from bidding.models import Bid
from experts import services as experts
from experts.models import DrawRequest, Expert, Specialty
from lib.money import format_amount, parse_amount
from signing import ca_simulator
from signing import demo as signing_demo
from signing.services import Signed
from trading import services as trading
from trading.models import Project, Registration

TITLE = "珠海市香洲区人民医院门诊楼装修改造工程（电子开标演示）"
CODE = "demo-code-2026"
DEADLINE_MINUTES = 10
LOT = {
    "name": "装修施工",
    "estimate": "5000000.00",
    "ceiling_price": "4800000.00",
    "deposit_amount": "0",
    "deposit_forms": [],
}
PRICES = {"supplier": "4586000.00", "supplier2": "4632500.00", "supplier3": "4499800.00"}
SPECIALTY = ("A0810", "建筑装饰装修施工（演示评标专业）")
# (username, name); `expert` already exists (accounts.demo), the others are created here.
EXPERTS = [
    ("expert", "孙专家"),
    ("expert2", "钱专家"),
    ("expert3", "周专家"),
    ("expert4", "吴专家"),
    ("expert5", "郑专家"),
    ("expert6", "冯专家"),
    ("expert7", "陈专家"),
]
INSTITUTE_USCC = "91440400MA4W1A0738"  # 珠海市建筑设计研究院有限公司 (accounts.demo)
OWNER_USCC = "1144040000700002X3"  # 珠海市教育局
# A tender squeezed into minutes: no document window, and its deadlines fall whenever the demo runs.
SHORT_WINDOW = {
    "construction": {"min_document_window": {"days": 0}, "deadline_on_working_day": False}
}


def _demo_rules() -> Any:
    rules = {**settings.TRADING_RULES}
    rules["construction"] = {**rules.get("construction", {}), **SHORT_WINDOW["construction"]}
    return override_settings(TRADING_RULES=rules)


def _project(agent: User, staff: User) -> Project:
    project = Project.objects.filter(title=TITLE).first()
    if project is not None:
        return project
    now = timezone.now()
    deadline = (now + dt.timedelta(minutes=DEADLINE_MINUTES + 1)).replace(second=0, microsecond=0)
    as_agent = Actor.for_user(agent)
    with _demo_rules():
        project = trading.create_project(
            as_agent,
            owner=Organization.objects.get(uscc=OWNER_USCC),
            lots=[LOT],
            title=TITLE,
            kind=Project.Kind.CONSTRUCTION,
            category=Project.Category.WORKS,
            method=Project.Method.OPEN,
            mandatory_tender=False,
            description=(
                "演示项目：投标截止时间设在数据初始化后数分钟，用于演示电子投标、开标解密、评标、"
                "中标候选人公示和中标通知书的完整流程。不要求投标保证金。"
            ),
            documents_from=now,
            documents_until=deadline,
            questions_until=deadline,
            bid_deadline=deadline,
        )
        trading.submit_project(as_agent, project)
        trading.approve_project(Actor.for_user(staff), project)
        trading.publish_project(as_agent, project)
    project.refresh_from_db()
    return project


def _bids(project: Project) -> None:
    lot = project.lots.get()
    open_now = timezone.now() < project.bid_deadline
    for username, price in PRICES.items():
        user = User.objects.get(username=username)
        actor = Actor.for_user(user)
        registered = Registration.objects.filter(lot=lot, organization=user.organization).exists()
        if not registered and open_now:
            trading.register(actor, lot, contact_name=user.display_name or username)
        if open_now and not Bid.objects.filter(lot=lot, organization=user.organization).exists():
            nonce = new_nonce()
            services.submit_bid(
                actor,
                lot,
                price=price,
                decryption_code=CODE,
                nonce=nonce,
                signed=_signed_bid(user, lot, price, nonce),
            )


def _signed_bid(user: User, lot: Any, price: str, nonce: str) -> Signed | None:
    """The demo supplier signs its bid (bid.submit over the bid commitment) with its demo key, as
    its browser would; unsigned only when the CA simulator is off (no demo keys)."""
    if not ca_simulator.enabled() or not signing_demo.key_path(user.username).exists():
        return None
    act, target_type, target_id = services.bid_act(lot, None)
    digest = bid_commitment(format_amount(parse_amount(price)), nonce, [])
    return signing_demo.sign_as(user, act, target_type, target_id, digest=digest)


def _experts(staff: User) -> list[Expert]:
    specialty, _ = Specialty.objects.get_or_create(
        code=SPECIALTY[0], defaults={"name": SPECIALTY[1]}
    )
    institute = Organization.objects.get(uscc=INSTITUTE_USCC)
    as_staff = Actor.for_user(staff)
    pool = []
    for i, (username, name) in enumerate(EXPERTS):
        user = User.objects.filter(username=username).first()
        if user is None:
            user = accounts.create_user(
                Actor.system("seed_demo"),
                organization=institute,
                username=username,
                role=Role.EXPERT,
                password=DEMO_PASSWORD,
                display_name=f"{name}（设计研究院）",
            )
        expert = Expert.objects.filter(user=user).first()
        if expert is None:
            expert = experts.add_expert(
                as_staff,
                name=name,
                title=Expert.Title.SENIOR,
                years_in_field=10 + i,
                region="440402",
                specialties=[specialty.code],
                employer=institute,
                user=user,
            )
        if expert.specialties.filter(pk=specialty.pk).exists():
            pool.append(expert)
    return pool


def _draw(project: Project, staff: User, supervisor: User) -> DrawRequest | None:
    return seat_committee(project, staff, supervisor, SPECIALTY[0])


def seed(out: Any) -> None:
    staff = User.objects.get(username="staff")
    supervisor = User.objects.get(username="supervisor")
    agent = User.objects.get(username="agent")
    project = _project(agent, staff)
    _bids(project)
    _experts(staff)
    draw = _draw(project, staff, supervisor)
    lot = project.lots.get()
    seated = (
        [
            seat.expert.user.username
            for seat in draw.drawn.filter(seated=True).select_related("expert__user")
            if seat.expert.user_id
        ]
        if draw
        else []
    )
    deadline = timezone.localtime(project.bid_deadline).strftime("%Y-%m-%d %H:%M")
    bids = Bid.objects.filter(lot=lot).exclude(status=Bid.Status.WITHDRAWN).count()
    out.write(
        f"bidding: {project.number} 《{TITLE}》 — {bids} sealed bids, deadline {deadline} "
        f"(Beijing), lot page {reverse('bidding_lot', args=[lot.pk])}\n"
        f"  decryption code of supplier, supplier2, supplier3: {CODE}\n"
        f"  committee (draw {draw.pk if draw else '—'}, signed off): "
        f"{', '.join(sorted(seated)) or '—'} (password {DEMO_PASSWORD})\n"
        "  next: before the deadline a supplier may modify or withdraw its bid; at the deadline the "
        "clock (run_clock) opens the lot, and staff follow it on "
        f"{reverse('bidding_opening', args=[lot.pk])}; each supplier decrypts with the code; staff "
        "start the evaluation with the draw; the members score and staff compile the report; the "
        "members sign; agent publishes the candidates, and after the 3-day publicity issues the "
        "award notice and records the contract.\n"
    )
    auction_demo.seed(out)  # the live reverse auction (电子反拍)
    land_demo.seed(out)  # the land listing (挂牌出让) in its final minutes
    methods_demo.seed(out)  # 竞争性磋商, 询价 and 竞争性谈判
