"""A live reverse auction (电子反拍) to play in the browser (idempotent; called by bidding.demo.seed).

What it seeds, all through the services:
- a published government-procurement 电子反拍 project with one lot and no deposit, whose registration
  closes REGISTRATION_MINUTES after the first seeding;
- supplier, supplier2 and supplier3 registered for the lot (password accounts.demo.DEMO_PASSWORD);
- an open (continuous, anti-sniping) descending auction that starts START_MINUTES after the first
  seeding and lasts DURATION_MINUTES, public to watch — supplier4 or a logged-out browser see the
  anonymous room, `supervisor` sees identities live.

The documents window of government procurement (5 working days, 87号令) cannot fit a demo that starts
in two minutes; as in bidding.demo, the center's TRADING_RULES mechanism shortens it for this one
clearly labelled demo project while it is created and published, and nowhere else.

A second run changes nothing: each step looks for what it would create. Once the first auction is over
the demo stays as it is (its result, PDF and publicity can be tried); a fresh database gives a new one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.test import override_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.actors import Actor
from accounts.demo import DEMO_PASSWORD
from accounts.models import Organization, User
from bidding.auction import services
from bidding.models import Auction
from trading import services as trading
from trading.models import Project, Registration

TITLE = "珠海市教育局教学用台式计算机采购（电子反拍演示）"
REGISTRATION_MINUTES = 1
START_MINUTES = 2
DURATION_MINUTES = 15
BIDDERS = ["supplier", "supplier2", "supplier3"]
OWNER_USCC = "1144040000700002X3"  # 珠海市教育局 (accounts.demo)
LOT = {
    "name": "台式计算机 300 台",
    "estimate": "1500000.00",
    "deposit_amount": "0",
    "deposit_forms": [],
}
RULES = {
    "format": Auction.Format.OPEN,
    "direction": Auction.Direction.DESCENDING,
    "start_price": "1500000.00",
    "step": "1000.00",
    "max_change": "100000.00",
    "duration_seconds": DURATION_MINUTES * 60,
    "extension_window_seconds": 120,
    "extension_seconds": 120,
    "max_extensions": 10,
    "min_participants": 3,
    "public_view": True,
}
# An auction squeezed into minutes: no document window, deadlines whenever the demo runs.
SHORT_WINDOW = {"min_document_window": {"days": 0}, "deadline_on_working_day": False}


def _demo_rules() -> Any:
    rules = {**settings.TRADING_RULES}
    rules["gp"] = {**rules.get("gp", {}), **SHORT_WINDOW}
    return override_settings(TRADING_RULES=rules)


def _project(agent: User, staff: User, starts_at: dt.datetime) -> Project:
    project = Project.objects.filter(title=TITLE).first()
    if project is not None:
        return project
    now = timezone.now()
    closes = starts_at - dt.timedelta(minutes=START_MINUTES - REGISTRATION_MINUTES)
    as_agent = Actor.for_user(agent)
    with _demo_rules():
        project = trading.create_project(
            as_agent,
            owner=Organization.objects.get(uscc=OWNER_USCC),
            lots=[LOT],
            title=TITLE,
            kind=Project.Kind.GOVERNMENT_PROCUREMENT,
            category=Project.Category.GOODS,
            method=Project.Method.REVERSE_AUCTION,
            description=(
                "演示项目：数据初始化后约两分钟开始网上竞价（电子反拍），竞价时长十五分钟，"
                "最后两分钟内出价自动延时。供应商 supplier、supplier2、supplier3 已报名，"
                "登录后进入竞价室出价；结束后可下载竞价结果、发布成交候选人公示。不要求保证金。"
            ),
            documents_from=now,
            documents_until=closes,
            questions_until=closes,
            bid_deadline=closes,
        )
        trading.submit_project(as_agent, project)
        trading.approve_project(Actor.for_user(staff), project)
        trading.publish_project(as_agent, project)
    project.refresh_from_db()
    return project


def _register(project: Project) -> None:
    lot = project.lots.get()
    if timezone.now() > project.documents_until:
        return
    for username in BIDDERS:
        user = User.objects.get(username=username)
        if not Registration.objects.filter(lot=lot, organization=user.organization).exists():
            trading.register(Actor.for_user(user), lot, contact_name=user.display_name or username)


def _auction(project: Project, agent: User, starts_at: dt.datetime) -> Auction | None:
    lot = project.lots.get()
    auction = Auction.objects.filter(lot=lot, phase=Auction.Phase.MAIN).first()
    if auction is not None or timezone.now() >= starts_at:
        return auction
    return services.create_auction(Actor.for_user(agent), lot, starts_at=starts_at, **RULES)


def _room(auction: Auction) -> str:
    try:
        return reverse("auction_room", args=[auction.pk])
    except NoReverseMatch:  # the room page is not installed: the API still works
        return reverse("api_auction", args=[auction.pk])


def seed(out: Any) -> None:
    agent = User.objects.get(username="agent")
    staff = User.objects.get(username="staff")
    starts_at = (timezone.now() + dt.timedelta(minutes=START_MINUTES)).replace(microsecond=0)
    project = _project(agent, staff, starts_at)
    _register(project)
    # Registration closes a minute before the start (the first seeding fixed both).
    starts_at = project.documents_until + dt.timedelta(minutes=START_MINUTES - REGISTRATION_MINUTES)
    auction = _auction(project, agent, starts_at)
    if auction is None:
        out.write(f"auction: {project.number} 《{TITLE}》 — no auction (seeded too late)\n")
        return
    start = timezone.localtime(auction.starts_at).strftime("%Y-%m-%d %H:%M:%S")
    end = timezone.localtime(auction.ends_at).strftime("%H:%M:%S")
    out.write(
        f"auction: {project.number} 《{TITLE}》 — 电子反拍 {start}–{end} (Beijing), "
        f"{auction.get_status_display()}, room {_room(auction)}\n"
        f"  bidders: {', '.join(BIDDERS)} (password {DEMO_PASSWORD}); start price "
        f"{RULES['start_price']}, step {RULES['step']}, a bid in the last 2 minutes extends by 2.\n"
        "  next: log in as a supplier and bid in the room (supplier4 or a logged-out browser watch "
        "anonymously, supervisor sees identities); after the close download the result PDF "
        f"({reverse('auction_result_pdf', args=[auction.pk])}) and, as agent, publish the result "
        f"(POST {reverse('api_auction_publish_result', args=[auction.pk])}).\n"
    )
