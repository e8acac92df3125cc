"""A land listing (挂牌出让) in its final minutes, to play to a deal in the browser (idempotent; called by
bidding.demo.seed).

What it seeds, all through the services:
- a published 国有建设用地使用权挂牌出让 project (grantor 珠海市自然资源局, created here) with one parcel;
- its listing: notice 21 days before the listing starts, a listing of 10 working days ending
  ENDS_IN_MINUTES after the first seeding, a reserve keyed in and sealed by `staff` (the designated
  staff member), short real-time windows (CONFIRM_SECONDS to confirm, a LIVE_SECONDS countdown);
- landbidder and supplier2 (password accounts.demo.DEMO_PASSWORD) registered, their deposits paid by the
  simulated bank (deposits.bank_simulator, as deposits.demo does) and each with one listing bid.
At the close both bidders are asked, on the listing page, whether they continue; if both do, live bidding
starts in the room from the listing's highest and every bid restarts the countdown; the highest at the
end, at or above the reserve, wins. The winner signs the 成交确认书 on the listing page.

Why part of it is seeded "in the past": the rules must hold — 20 days' notice before the listing and a
listing of at least 10 working days (`services.create_listing`) — yet the listing must end minutes after
seeding. So the notice, the listing's creation and start, the reserve, the registrations, the payments
and the listing bids are run through the ordinary services as of the moments they would have happened:
`_as_of(moment)` sets Django's clock (`django.utils.timezone.now`, which every service, the audit chain and
`auto_now_add` read) to that moment for the duration of one step. It is the standard library's
`unittest.mock`, not the dev-only `time_machine`, so it works in a production install; it is used only by
`manage.py seed_demo` (one thread), for this one clearly labelled demo project, and the audit chain records
that it was done (`demo.seeded_as_of`). Every check of every service runs as usual; only the clock is
set back. The end of the listing and everything after it run on the real clock.

A second run changes nothing: each step looks for what it would create. Once the listing is over the
demo stays as it is (its result and PDFs can be tried); a fresh database gives a new one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from django.conf import settings
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts import services as accounts
from accounts.actors import Actor
from accounts.demo import DEMO_PASSWORD
from accounts.models import Organization, User
from audit.models import AuditEvent
from audit.services import record
from bidding.auction import services as auctions
from bidding.land import services
from bidding.models import Auction, AuctionBid, LandListing
from clock.calendar import add_working_days
from deposits import services as deposits
from deposits.bank_simulator import BankSimulator
from deposits.demo import payer_account_for
from deposits.models import BankNotification
from trading import services as trading
from trading.models import Project, Registration
from trading.rules import rules_for_kind

TITLE = "珠海市金湾区JW-2026-07地块国有建设用地使用权挂牌出让（挂牌出让演示）"
ENDS_IN_MINUTES = 8
CONFIRM_SECONDS = 300
LIVE_SECONDS = 120
GRANTOR = ("11440400007000031D", "珠海市自然资源局")
START_PRICE = "286000000.00"
INCREMENT = "1000000.00"
RESERVE = "287000000.00"
# (username, listing bid) in the order they registered, paid and bid.
BIDDERS = [("landbidder", "286000000.00"), ("supplier2", "287000000.00")]
LOT = {
    "name": "JW-2026-07 地块",
    "estimate": "286000000.00",
    "deposit_amount": "57200000.00",
    "deposit_forms": ["cash"],
    "deposit_currencies": ["CNY"],
}
PARCEL = {
    "parcel_number": "JW-2026-07",
    "location": "珠海市金湾区航空新城片区金湖路以东",
    "area": "42600.00",
    "land_use": "residential",
    "term_years": 70,
    "planning": {
        "plot_ratio": "1.0～2.2",
        "building_density": "≤25%",
        "green_ratio": "≥35%",
        "height_limit": "≤80 米",
    },
    "start_price": START_PRICE,
    "increment": INCREMENT,
    "confirm_seconds": CONFIRM_SECONDS,
    "live_seconds": LIVE_SECONDS,
}


@contextmanager
def _as_of(moment: dt.datetime) -> Iterator[None]:
    """Run the enclosed services as of `moment` (see the module docstring)."""
    with mock.patch.object(timezone, "now", lambda: moment):
        yield


def _plan(ends: dt.datetime) -> dict[str, dt.datetime]:
    """Every moment of the demo, from the listing's end (so a second run finds the same ones)."""
    local = timezone.localtime(ends)
    rules = rules_for_kind(Project.Kind.LAND)
    starts = add_working_days(local, -rules.min_listing.days).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    published = starts - dt.timedelta(days=rules.listing_notice.days + 1)
    return {
        "ends": ends,
        "starts": starts,
        "published": published,
        "drafted": published - dt.timedelta(hours=2),
        "listing_created": published + dt.timedelta(days=1),
        "registration_until": ends - dt.timedelta(days=2),
        "deposit_until": ends - dt.timedelta(days=1),
    }


def _grantor() -> Organization:
    uscc, name = GRANTOR
    org = Organization.objects.filter(uscc=uscc).first()
    if org is None:
        org = accounts.create_organization(
            Actor.system("seed_demo"),
            uscc=uscc,
            name=name,
            kind=Organization.Kind.OWNER,
            region="440400",
        )
    return org


@contextmanager
def _demo_rules() -> Iterator[None]:
    """The listing ends minutes after seeding, whatever day that is: its deadlines may fall on a
    holiday (the only rule the demo relaxes)."""
    rules = {**settings.TRADING_RULES}
    rules["land"] = {**rules.get("land", {}), "deadline_on_working_day": False}
    with override_settings(TRADING_RULES=rules):
        yield


def _project(agent: User, staff: User, plan: dict[str, dt.datetime]) -> Project:
    as_agent = Actor.for_user(agent)
    with _demo_rules(), _as_of(plan["drafted"]):
        project = trading.create_project(
            as_agent,
            owner=_grantor(),
            lots=[LOT],
            title=TITLE,
            kind=Project.Kind.LAND,
            category=Project.Category.LAND,
            method=Project.Method.LAND_LISTING,
            description=(
                "演示项目：国有建设用地使用权网上挂牌出让。挂牌期十个工作日，在数据初始化后约八分钟截止；"
                "竞买人 landbidder、supplier2 已报名、缴纳保证金并各有一次挂牌报价。挂牌截止时两家确认"
                "参加的，进入限时竞价，每次报价后倒计时重新开始。底价已由交易中心工作人员密封录入。"
            ),
            documents_from=plan["drafted"],
            documents_until=plan["registration_until"],
            questions_until=plan["registration_until"],
            bid_deadline=plan["ends"],
            deposit_deadline=plan["deposit_until"],
        )
        trading.submit_project(as_agent, project)
        trading.approve_project(Actor.for_user(staff), project)
    with _demo_rules(), _as_of(plan["published"]):
        trading.publish_project(as_agent, project)
    project.refresh_from_db()
    return project


def _listing(project: Project, agent: User, staff: User, plan: dict[str, Any]) -> LandListing:
    lot = project.lots.get()
    listing = LandListing.objects.filter(lot=lot).first()
    if listing is not None:
        return listing
    with _demo_rules(), _as_of(plan["listing_created"]):
        return services.create_listing(
            Actor.for_user(agent),
            lot,
            **PARCEL,
            listing_starts_at=plan["starts"],
            listing_ends_at=plan["ends"],
            reserve_staff=staff,
        )


def _start(listing: LandListing, plan: dict[str, Any]) -> Auction:
    auction = Auction.objects.get(lot=listing.lot, phase=Auction.Phase.LISTING)
    if auction.status == Auction.Status.SCHEDULED:
        with _as_of(plan["starts"] + dt.timedelta(seconds=1)):
            auctions.advance(Actor.system("clock"), auction.pk)
            services.advance(Actor.system("clock"), listing.pk)
        auction.refresh_from_db()
    return auction


def _reserve(listing: LandListing, staff: User, plan: dict[str, Any]) -> None:
    listing.refresh_from_db()
    if listing.sealed_reserve is None:
        with _as_of(plan["starts"] + dt.timedelta(hours=1)):
            services.set_reserve(Actor.for_user(staff), listing, RESERVE)


def _bidder(listing: LandListing, username: str, price: str, day: int, plan: dict[str, Any]):
    """Register, pay the deposit through the simulated bank, and bid once in the listing."""
    lot = listing.lot
    user = User.objects.get(username=username)
    actor = Actor.for_user(user)
    org = user.organization
    moment = plan["starts"] + dt.timedelta(days=day, hours=1)
    with _as_of(moment):
        if not Registration.objects.filter(lot=lot, organization=org).exists():
            trading.register(actor, lot, contact_name=user.display_name or username)
        account = deposits.open_sub_account(actor, lot)
    paid_at = moment + dt.timedelta(hours=1)
    bank = BankSimulator()
    transaction_id = f"LANDDEMO{lot.pk:05d}{org.pk:05d}"
    if not BankNotification.objects.filter(bank=bank.bank, transaction_id=transaction_id).exists():
        with _as_of(paid_at):
            message = bank.payment(
                account_number=account.number,
                amount=lot.deposit_amount,
                payer_name=org.name,
                payer_account=payer_account_for(org),
                value_time=paid_at,
                transaction_id=transaction_id,
            )
            deposits.receive_bank_notification(message.bank, message.body, message.signature)
    auction = Auction.objects.get(lot=lot, phase=Auction.Phase.LISTING)
    if AuctionBid.objects.filter(
        auction=auction, participant__organization=org, accepted=True
    ).exists():
        return
    with _as_of(moment + dt.timedelta(days=1)):
        answer = auctions.place_bid(actor, auction, price, f"land-demo-{auction.pk}-{org.pk}")
    if not answer.accepted:
        raise RuntimeError(f"demo listing bid of {username} refused: {answer.code}")


def _note(project: Project, plan: dict[str, Any]) -> None:
    """The audit chain says, at the real time of seeding, that this project was seeded as of the past."""
    if AuditEvent.objects.filter(action="demo.seeded_as_of", object_id=str(project.pk)).exists():
        return
    with transaction.atomic():
        record(
            Actor.system("seed_demo"),
            "demo.seeded_as_of",
            project,
            {
                "from": plan["drafted"],
                "until": plan["starts"] + dt.timedelta(days=len(BIDDERS) + 1, hours=1),
                "why": "挂牌出让演示：公告期与挂牌期按规则回溯生成，挂牌在初始化后数分钟截止",
            },
        )


def seed(out: Any) -> None:
    agent = User.objects.get(username="agent")
    staff = User.objects.get(username="staff")
    project = Project.objects.filter(title=TITLE).first()
    if project is None:
        ends = (timezone.now() + dt.timedelta(minutes=ENDS_IN_MINUTES + 1)).replace(
            second=0, microsecond=0
        )
        project = _project(agent, staff, _plan(ends))
    plan = _plan(project.bid_deadline)
    listing = _listing(project, agent, staff, plan)
    listing_auction = Auction.objects.get(lot=listing.lot, phase=Auction.Phase.LISTING)
    if timezone.now() < listing.listing_ends_at and not listing_auction.finished:
        listing_auction = _start(listing, plan)
        _reserve(listing, staff, plan)
        for day, (username, price) in enumerate(BIDDERS, start=1):
            _bidder(listing, username, price, day, plan)
        _note(project, plan)
    listing.refresh_from_db()
    ends = timezone.localtime(listing.listing_ends_at).strftime("%Y-%m-%d %H:%M")
    out.write(
        f"land: {project.number} 《{TITLE}》 — 挂牌 {listing.get_stage_display()}, closes {ends} "
        f"(Beijing), listing page {reverse('land_listing', args=[listing.pk])}\n"
        f"  bidders: {', '.join(u for u, _ in BIDDERS)} (password {DEMO_PASSWORD}), registered, paid, "
        f"one listing bid each (highest {BIDDERS[-1][1]}); reserve sealed by staff.\n"
        "  next: log in as both bidders (two browsers) and open the listing page; at the close each "
        f"confirms continuing (within {CONFIRM_SECONDS} s), then bids in the live room (each bid "
        f"restarts a {LIVE_SECONDS} s countdown); when nobody bids the highest wins — the winner signs "
        "the 成交确认书 and downloads it; supervisor watches the room with names.\n"
    )
