"""Reading the room: who sees what, the `state` frame, the event history, the REST and page reads.

Everything here is a read and changes nothing: a room shows the auction as its rows stand, and a
start, round or close that has come due is made by the clock or the room's timer (`lifecycle.py`),
never by whoever happens to look. This module imports neither `lifecycle` nor `decide`
(`tests/bidding/test_auction_modules.py`), so no read can reach a transition.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Organization, Role
from bidding.auction import rules as R
from bidding.auction.batch import iso, org_ref
from bidding.auction.broadcast import Event
from bidding.auction.participants import eligibility, seats_of
from bidding.auction.results import results_of
from bidding.models import Auction, AuctionEvent, AuctionParticipant
from lib.errors import NotFound
from trading.models import Registration

HISTORY_IN_STATE = 100
# The fields of a result row that say who is behind an alias.
IDENTITY_FIELDS = ("organization", "bidder")


# --- Who sees what ---------------------------------------------------------------------------------


def viewer_kind(actor: Actor, auction: Auction) -> str | None:
    """What a user sees in the room: supervisors see identities live; bidders, staff and the agent
    the anonymous view (plus, for a bidder, its own seat); the public only where the rules allow."""
    if actor.role == Role.SUPERVISOR:
        return "supervisor"
    registered = (
        actor.role == Role.SUPPLIER
        and actor.organization is not None
        and Registration.objects.filter(
            lot_id=auction.lot_id, organization=actor.organization
        ).exists()
    )
    if registered:
        return "bidder"
    if actor.role == Role.CENTER_STAFF or (
        actor.role == Role.AGENT
        and actor.user is not None
        and actor.user.has_perm("trading.manage_project", auction.lot.project)
    ):
        return "staff"
    return "public" if auction.public_view else None


def require_viewer(actor: Actor, auction: Auction) -> str:
    kind = viewer_kind(actor, auction)
    if kind is None:
        raise NotFound(_("竞价不存在或不公开。"))
    return kind


def reveals_at_close(auction: Auction) -> bool:
    """A procurement auction names everyone at its close; a land phase does not, because the trade
    goes on (live bidding, the cap's mode) under the same aliases until the listing's result."""
    return auction.phase == Auction.Phase.MAIN


def identified(kind: str, auction: Auction) -> bool:
    return kind == "supervisor" or (auction.finished and reveals_at_close(auction))


def anonymous_results(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in IDENTITY_FIELDS} for r in results]


def anonymize(event: Event) -> Event:
    """The public copy of a room event: no organization until the close reveals them."""
    if event["type"] == "closed":
        if event.get("reveal", True):
            return event
        return {**event, "results": anonymous_results(event["results"])}
    clean = {k: v for k, v in event.items() if k != "organization"}
    if "participants" in clean:
        clean["participants"] = [
            {k: v for k, v in p.items() if k != "organization"} for p in clean["participants"]
        ]
    return clean


# --- The `state` frame -------------------------------------------------------------------------------


def room_state(actor: Actor, auction_id: int) -> dict[str, Any]:
    """The `state` frame: everything a client needs to draw the room, with the sequence number it is
    current to. A read: it changes nothing. Transitions are the clock's and the room timers' (a
    socket that joins a room whose start or end has passed makes its room run it at once)."""
    auction = (
        Auction.objects.select_related("lot__project", "best_participant")
        .filter(pk=auction_id)
        .first()
    )
    if auction is None:
        raise NotFound(_("竞价不存在。"))
    kind = require_viewer(actor, auction)
    reveal = identified(kind, auction)
    seats = seats_of(auction)
    names = _names_of(seats)
    own = _own_seat(actor, auction) if kind == "bidder" else None
    history = _history(auction, reveal)
    ranked = results_of(auction, names) if seats else []
    rank_of = {row["alias"]: row["rank"] for row in ranked}
    return {
        "type": "state",
        "seq": auction.seq,
        "server_time": int(timezone.now().timestamp() * 1000),
        "view": kind,
        "auction": _auction_view(auction, own),
        "participants": _participants_view(auction, seats, names, rank_of, reveal),
        "you": _your_view(actor.organization, auction, own, rank_of) if kind == "bidder" else None,
        "turns": current_turns(auction),
        "history": history,
        # A finished land phase (the listing, while live bidding goes on) keeps its aliases: its
        # results name the bidders only for the views `identified` allows.
        "results": (
            (auction.results if reveal else anonymous_results(auction.results or []))
            if auction.finished
            else None
        ),
        "closing_audit": (
            {"seq": auction.closing_audit_seq, "hash": auction.closing_audit_hash}
            if auction.closing_audit_seq
            else None
        ),
    }


def _names_of(seats: list[AuctionParticipant]) -> dict[int, str]:
    return dict(
        Organization.objects.filter(pk__in=[s.organization_id for s in seats]).values_list(
            "pk", "name"
        )
    )


def _own_seat(actor: Actor, auction: Auction) -> AuctionParticipant | None:
    return auction.participants.filter(organization=actor.organization).first()


def _history(auction: Auction, reveal: bool) -> list[Event]:
    """The last `HISTORY_IN_STATE` events, oldest first, as this view may see them."""
    history = list(
        AuctionEvent.objects.filter(auction=auction)
        .order_by("-seq")
        .values_list("data", flat=True)[:HISTORY_IN_STATE]
    )[::-1]
    return history if reveal else [anonymize(e) for e in history]


def _participants_view(
    auction: Auction,
    seats: list[AuctionParticipant],
    names: dict[int, str],
    rank_of: dict[str, int],
    reveal: bool,
) -> list[dict[str, Any]]:
    # Rounds format before the start: the initial bids are sealed, prices and times alike.
    sealed = auction.format == Auction.Format.ROUNDS and auction.status == Auction.Status.SCHEDULED
    return [
        {
            "alias": s.alias,
            "price": None if sealed or s.price is None else str(s.price),
            "price_at": None if sealed else iso(s.price_at),
            "rank": rank_of.get(s.alias),
            **({"organization": org_ref(s.organization_id, names)} if reveal else {}),
        }
        for s in seats
    ]


def _your_view(
    organization: Organization | None,
    auction: Auction,
    own: AuctionParticipant | None,
    rank_of: dict[str, int],
) -> dict[str, Any]:
    """A bidder's own seat (a bidder is a registered organization's)."""
    assert organization is not None
    return {
        "admitted": bool(own and own.alias),
        # False for a seat that keeps its price but may not bid (a listing leader who did not
        # continue to live bidding).
        "may_bid": bool(own and own.alias and own.may_bid),
        "alias": own.alias if own else "",
        "price": str(own.price) if own and own.price is not None else None,
        # Opened at the start; before it the bidder sees only when its sealed bid arrived.
        "initial_price": str(own.initial_price) if own and own.initial_price is not None else None,
        "initial_sealed_at": iso(own.initial_at) if own else None,
        "rank": rank_of.get(own.alias) if own else None,
        "eligibility": eligibility(auction.lot, organization, timezone.now()),
    }


def _auction_view(auction: Auction, own: AuctionParticipant | None) -> dict[str, Any]:
    """The auction's rules and standing. `allowed_bid` is the least improving bid: the room's best
    in the open format, the bidder's own price in the rounds format (none before it has one)."""
    reference = (
        auction.best_price
        if auction.format == Auction.Format.OPEN
        else (own.price if own and own.price is not None else None)
    )
    return {
        "id": auction.pk,
        "project": auction.lot.project.title,
        "lot": auction.lot.name,
        "format": auction.format,
        "direction": auction.direction,
        "status": auction.status,
        "start_price": str(auction.start_price),
        "step": str(auction.step),
        "max_change": str(auction.max_change) if auction.max_change is not None else None,
        "starts_at": iso(auction.starts_at),
        "ends_at": iso(auction.ends_at),
        "extension_window_seconds": auction.extension_window_seconds,
        "extension_seconds": auction.extension_seconds,
        "max_extensions": auction.max_extensions,
        "extensions_used": auction.extensions_used,
        "min_participants": auction.min_participants,
        "best_price": str(auction.best_price) if auction.best_price is not None else None,
        "best_alias": auction.best_participant.alias if auction.best_participant else None,
        "allowed_bid": str(R.allowed_bid(auction, reference))
        if auction.format == Auction.Format.OPEN or reference is not None
        else None,
        "accepted": auction.accepted_count,
        "failure_reason": auction.failure_reason,
        "turn_seconds": auction.turn_seconds,
        "pause_seconds": auction.pause_seconds,
        "rounds": auction.rounds,
    }


def current_turns(auction: Auction) -> list[dict[str, Any]]:
    """Rounds format, live: the current round's turn windows, as its `round` event announced them."""
    if auction.format != Auction.Format.ROUNDS or auction.status != Auction.Status.LIVE:
        return []
    last = AuctionEvent.objects.filter(auction=auction, kind="round").order_by("-seq").first()
    return last.data["turns"] if last else []


def wake_times(auction_id: int) -> dict[str, Any] | None:
    """What a room's timer plans its next wake from (the start, the end, the current round's
    turns), in the `state` frame's shape; None for an auction that does not exist."""
    auction = Auction.objects.filter(pk=auction_id).first()
    if auction is None:
        return None
    return {
        "auction": {
            "status": auction.status,
            "starts_at": auction.starts_at.isoformat(),
            "ends_at": auction.ends_at.isoformat(),
        },
        "turns": current_turns(auction),
    }


# --- Other reads ---------------------------------------------------------------------------------------


def events_after(auction_id: int, seq: int, limit: int = 1000) -> list[Event]:
    """Room events after `seq`, for a hub that saw a gap."""
    return list(
        AuctionEvent.objects.filter(auction_id=auction_id, seq__gt=seq)
        .order_by("seq")
        .values_list("data", flat=True)[:limit]
    )


def timeline(auction: Auction) -> list[AuctionEvent]:
    return list(auction.events.order_by("seq"))


def get_auction_to_view(auction_id: Any) -> Auction:
    """Only what `viewer_kind` reads (its lot is loaded on demand, for agents): every socket that
    opens a room asks this first, and the full row with its lot and project cost it four times as
    much (bench/auction_connect.py)."""
    return get_auction(auction_id, fields=("id", "lot_id", "public_view"))


def get_auction(auction_id: Any, fields: tuple[str, ...] | None = None) -> Auction:
    try:
        auction_id = int(auction_id)
    except (TypeError, ValueError):
        raise NotFound(_("竞价不存在。")) from None
    auctions = Auction.objects.filter(pk=auction_id)
    auctions = auctions.only(*fields) if fields else auctions.select_related("lot__project")
    auction = auctions.first()
    if auction is None:
        raise NotFound(_("竞价不存在。"))
    return auction
