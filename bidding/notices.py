"""Who hears of a lot's events, and what they are told (docs/notifications.md, "Events").

A notice names the lot and links to the page where its reader sees the rest under that page's own rules:
another bidder's identity or price never goes into a notice's params, even where a published record would
show it, so a notice cannot reveal more than the page it links to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.urls import reverse

from accounts.models import Organization, User
from audit.models import AuditEvent
from bidding.models import Auction, AuctionParticipant, Bid
from notifications import recipients
from notifications.services import notify
from trading.models import Lot


def lot_params(lot: Lot) -> dict[str, str]:
    project = lot.project
    return {"project": f"{project.number} {project.title}", "lot": str(lot)}


def bidding_organizations(lot: Lot) -> list[Organization]:
    """The lot's bidders: a sealed bid that was not withdrawn, or a seat in its live auction."""
    ids = set(
        Bid.objects.filter(lot=lot)
        .exclude(status=Bid.Status.WITHDRAWN)
        .values_list("organization_id", flat=True)
    )
    ids |= set(
        AuctionParticipant.objects.filter(auction__lot=lot).values_list(
            "organization_id", flat=True
        )
    )
    return list(Organization.objects.filter(pk__in=ids).order_by("pk"))


def agent_users(lot: Lot) -> list[User]:
    return list(recipients.members(lot.project.agent))


def tell(
    kind: str,
    people: Iterable[User],
    event: AuditEvent,
    lot: Lot,
    *,
    url: str,
    params: dict[str, str] | None = None,
    due_at: dt.datetime | None = None,
    cause: str = "",
) -> None:
    """Notify `people` of `event` once (the cause is the kind and the audit event's id)."""
    notify(
        kind,
        people,
        cause=cause or f"{kind}:{event.pk}",
        params={**lot_params(lot), **(params or {})},
        url=url,
        due_at=due_at,
    )


def room_people(auction: Auction) -> list[User]:
    """The bid operators of an auction's seated bidders (aliases given at the start or at a first bid)."""
    organizations = Organization.objects.filter(
        pk__in=AuctionParticipant.objects.filter(auction=auction)
        .exclude(alias="")
        .values_list("organization_id", flat=True)
    ).order_by("pk")
    return recipients.bidders_of(organizations)


def tell_room(
    kind: str, auction: Auction, cause: str, *, params: dict[str, str] | None = None
) -> None:
    """A live room's event, to its seated bidders, in the room's own words: no alias, leader or price
    of anyone (the room shows those under its visibility rules, `bidding.auction.state`)."""
    notify(
        kind,
        room_people(auction),
        cause=cause,
        params={**lot_params(auction.lot), **(params or {})},
        url=reverse("auction_room", args=[auction.pk]),
    )
