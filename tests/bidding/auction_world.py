"""A published 电子反拍 project with registered suppliers and an auction on its lot, for the auction
tests. Time: published at T0, registration closes at DEADLINE, the auction starts at START."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import time_machine

from accounts.actors import Actor
from accounts.models import Organization, Role, User
from bidding.auction import services
from bidding.models import Auction
from tests.conftest import make_org, make_user
from tests.trading.factories import beijing, published
from trading import services as trading
from trading.models import Project

T0 = beijing("2026-04-01 09:00")
DEADLINE = T0 + dt.timedelta(days=10)
START = DEADLINE + dt.timedelta(hours=1)


@dataclass
class AuctionWorld:
    project: Project
    agent: User
    staff: User
    bidders: list[User] = field(default_factory=list)
    auction: Auction | None = None

    @property
    def lot(self):
        return self.project.lots.get()

    def actor(self, user: User) -> Actor:
        return Actor.for_user(user, ip=f"10.0.0.{user.pk % 250}")


def make_world(
    agent,
    staff,
    *,
    bidders: int = 3,
    deposit: str = "0.00",
    with_auction: bool = True,
    **auction_rules: Any,
):
    """`with_auction=False`: the project and its registered bidders only (the setup form's tests)."""
    lots = [
        {
            "name": "办公设备一批",
            "estimate": "1000000.00",
            "deposit_amount": deposit,
            # GP: no list offers every legal form (the supplier chooses).
            "deposit_forms": [],
        }
    ]
    with time_machine.travel(T0, tick=False):
        project = published(
            agent,
            staff,
            start=T0 + dt.timedelta(minutes=1),
            kind=Project.Kind.GOVERNMENT_PROCUREMENT,
            category=Project.Category.GOODS,
            method=Project.Method.REVERSE_AUCTION,
            lots=lots,
            documents_from=T0 + dt.timedelta(minutes=1),
            documents_until=DEADLINE,
            questions_until=DEADLINE - dt.timedelta(days=3),
            bid_deadline=DEADLINE,
        )
    world = AuctionWorld(project=project, agent=agent, staff=staff)
    for index in range(bidders):
        org = make_org(Organization.Kind.SUPPLIER, f"竞价供应商{index + 1}有限公司")
        user = make_user(f"bidder{index + 1}-{project.pk}", Role.SUPPLIER, org)
        with time_machine.travel(T0 + dt.timedelta(hours=2 + index), tick=False):
            trading.register(Actor.for_user(user), world.lot)
        world.bidders.append(user)
    if not with_auction:
        return world
    rules = {
        "start_price": "1000000.00",
        "step": "1000.00",
        "starts_at": START,
        "duration_seconds": 600,
        "extension_window_seconds": 60,
        "extension_seconds": 120,
        **auction_rules,
    }
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        world.auction = services.create_auction(Actor.for_user(agent), world.lot, **rules)
    return world


def live_auction(
    world: AuctionWorld, *, starts_in: float = 3, duration: int | None = None, **rules: Any
) -> Auction:
    """An auction on a `with_auction=False` world, on the real clock (a daphne child process cannot
    travel in time): it starts `starts_in` seconds from now. `duration` may go below the service's
    60-second minimum: the end is then moved on the row directly, so a browser test waits seconds."""
    from django.utils import timezone

    starts_at = timezone.now() + dt.timedelta(seconds=starts_in)
    rules = {
        "start_price": "1000000.00",
        "step": "1000.00",
        "duration_seconds": 60,
        **rules,
        "starts_at": starts_at,
    }
    auction = services.create_auction(Actor.for_user(world.agent), world.lot, **rules)
    if duration is not None:
        Auction.objects.filter(pk=auction.pk).update(
            duration_seconds=duration, ends_at=starts_at + dt.timedelta(seconds=duration)
        )
        auction.refresh_from_db()
    world.auction = auction
    return auction
