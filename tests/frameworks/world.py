"""A framework agreement's solicitation (框架协议 征集) carried through the real services with
travelled time: published 21 days before the responses' deadline, five sealed responses opened, a
panel seated and its report signed. `concluded` goes on to conclude the agreement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from accounts.actors import Actor
from bidding import evaluation as ev
from bidding.models import Bid
from frameworks import services
from frameworks.models import Agreement
from tests.bidding.test_negotiation import negotiated, seat_panel, travel
from tests.trading.factories import beijing

DEADLINE = beijing("2026-03-23 09:00")  # a Monday, 21 days after the documents (2 March)
SITS = DEADLINE + dt.timedelta(hours=2)
CONCLUDED = SITS + dt.timedelta(hours=1)
# The cap (最高限制单价) is 950,000; five compliant responses, so one is eliminated and four admitted.
PRICES = ["900000", "880000", "910000", "930000", "940000"]
ALL_METHODS = ["direct", "rotation", "second_round"]


def solicited(
    agent, staff, supervisor, prices: list[str] = PRICES, non_compliant: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The solicitation with its report signed; the panel finds the responses at `non_compliant`
    prices non-compliant."""
    world: dict[str, Any] = negotiated(
        agent, staff, supervisor, "framework", prices, deadline=DEADLINE
    )
    seat_panel(world, staff, at=SITS)
    with travel(SITS + dt.timedelta(minutes=30)):
        for member in world["members"]:
            for bid in Bid.objects.filter(lot=world["lot"], status=Bid.Status.DECRYPTED):
                rejected = bid.price in {Decimal(p) for p in non_compliant}
                ev.score_bid(
                    Actor.for_user(member),
                    bid,
                    compliant=not rejected,
                    rejection_reason="技术参数不满足" if rejected else "",
                )
        ev.compile_report(Actor.for_user(staff), world["lot"])
        for member in world["members"]:
            ev.confirm_report(Actor.for_user(member), world["lot"])
    return world


def concluded(agent, staff, supervisor, *, methods=ALL_METHODS, **kwargs: Any) -> dict[str, Any]:
    world = solicited(agent, staff, supervisor, **kwargs)
    with travel(CONCLUDED):
        world["agreement"] = services.conclude_agreement(
            Actor.for_user(agent),
            world["lot"],
            valid_until=CONCLUDED + dt.timedelta(days=300),
            second_stage_methods=methods,
        )
    return world


def member_user(world: dict[str, Any], price: str):
    """The supplier whose first response was `price`."""
    return world["suppliers"][PRICES.index(price)]


def agreement_of(world: dict[str, Any]) -> Agreement:
    return Agreement.objects.get(pk=world["agreement"].pk)


def money(text: str) -> Decimal:
    return Decimal(text).quantize(Decimal("0.01"))
