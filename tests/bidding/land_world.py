"""A published 挂牌出让 project with one parcel, bidders who registered and paid their deposits, and a
listing on it. Time: published at T0, listing from LISTING_START to LISTING_END (10 working days)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import time_machine

from accounts.actors import Actor
from accounts.models import Organization, Role, User
from bidding.auction import services as auctions
from bidding.land import services
from bidding.models import Auction, LandListing
from tests.conftest import make_org, make_user
from tests.deposits.helpers import pay, register_with_account
from tests.trading.factories import beijing, published
from trading.models import Project

T0 = beijing("2026-05-04 09:00")  # a Monday
LISTING_START = beijing("2026-05-25 09:00")
LISTING_END = beijing("2026-06-05 16:00")  # ten working days later
DEPOSIT = "20000000.00"


@dataclass
class LandWorld:
    project: Project
    agent: User
    staff: User
    bidders: list[User] = field(default_factory=list)
    listing: LandListing | None = None

    @property
    def lot(self):
        return self.project.lots.get()

    def refresh(self) -> LandListing:
        self.listing.refresh_from_db()
        return self.listing

    def phase(self, phase: str) -> Auction:
        return Auction.objects.get(lot=self.lot, phase=phase)

    def bid(self, user: User, price: str, at: dt.datetime, phase: str = "listing"):
        with time_machine.travel(at, tick=False):
            return auctions.place_bid(
                Actor.for_user(user), self.phase(phase), price, uuid.uuid4().hex
            )

    def advance(self, at: dt.datetime) -> LandListing:
        with time_machine.travel(at, tick=False):
            for auction in Auction.objects.filter(lot=self.lot):
                auctions.advance(Actor.system("clock"), auction.pk)
            services.advance(Actor.system("clock"), self.listing.pk)
        return self.refresh()

    def respond(self, user: User, at: dt.datetime, *, kind: str = "continue", answer=True):
        with time_machine.travel(at, tick=False):
            return services.respond(Actor.for_user(user), self.listing, kind=kind, answer=answer)


def land_project(agent, staff, **overrides: Any) -> Project:
    lots = [
        {
            "name": "A-01 地块",
            "estimate": "100000000.00",
            "deposit_amount": DEPOSIT,
            "deposit_forms": ["cash"],
        }
    ]
    with time_machine.travel(T0, tick=False):
        return published(
            agent,
            staff,
            start=T0 + dt.timedelta(minutes=1),
            kind=Project.Kind.LAND,
            category=Project.Category.LAND,
            method=Project.Method.LAND_LISTING,
            lots=lots,
            title="珠海市香洲区A-01地块国有建设用地使用权挂牌出让",
            documents_from=T0 + dt.timedelta(minutes=1),
            documents_until=LISTING_END - dt.timedelta(days=3),
            questions_until=T0 + dt.timedelta(days=10),
            bid_deadline=LISTING_END,
            deposit_deadline=LISTING_END - dt.timedelta(days=2),
            **overrides,
        )


def listing_rules(staff: User, **overrides: Any) -> dict[str, Any]:
    return {
        "parcel_number": "XZ-2026-A01",
        "location": "珠海市香洲区前山片区",
        "area": "35000.00",
        "land_use": "residential",
        "term_years": 70,
        "planning": {"plot_ratio": "≤2.5", "building_density": "≤25%", "green_ratio": "≥35%"},
        "start_price": "100000000.00",
        "increment": "1000000.00",
        "listing_starts_at": LISTING_START,
        "listing_ends_at": LISTING_END,
        "reserve_staff": staff,
        **overrides,
    }


def make_land_world(
    agent, staff, *, bidders: int = 3, paid: int | None = None, reserve=None, **rules: Any
) -> LandWorld:
    project = land_project(agent, staff)
    world = LandWorld(project=project, agent=agent, staff=staff)
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        world.listing = services.create_listing(
            Actor.for_user(agent), world.lot, **listing_rules(staff, **rules)
        )
    paid = bidders if paid is None else paid
    for index in range(bidders):
        org = make_org(Organization.Kind.SUPPLIER, f"竞买人{index + 1}置业有限公司")
        user = make_user(f"land{index + 1}-{project.pk}", Role.SUPPLIER, org)
        at = LISTING_START + dt.timedelta(days=1, hours=index)
        account = register_with_account(user, project, at=at)
        if index < paid:
            with time_machine.travel(at + dt.timedelta(minutes=30), tick=False):
                pay(account, Decimal(DEPOSIT), at=at + dt.timedelta(minutes=30))
        world.bidders.append(user)
    if reserve is not None:
        with time_machine.travel(LISTING_START, tick=False):
            services.set_reserve(Actor.for_user(staff), world.listing, reserve)
    return world
