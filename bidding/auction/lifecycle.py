"""An auction's life in time: the start (admitting the bidders), the rounds, the close.

Every transition runs under the auction row's lock and is judged against the server time taken under
it (`advance_locked`). The clock (`tasks.py`: start, each round, close) and the room's timers
(`hub.py`) make transitions happen on time through `transition`, which commits and returns the room
events it produced; every bid batch runs `advance_locked` first under its own lock (`decide.py`), so
a late clock can never admit a late bid. Reads never call anything here (`state.py`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import cast

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from bidding import crypto, notices
from bidding.auction import rules as R
from bidding.auction.batch import AUCTION_FIELDS, Batch, iso, org_ref
from bidding.auction.broadcast import RoomEvents
from bidding.auction.participants import alias, eligibility, seats_of
from bidding.auction.results import results_of
from bidding.auction.state import reveals_at_close
from bidding.models import Auction, AuctionParticipant
from bidding.services import opening_private_key
from clock.services import schedule
from trading.models import Registration

START_STEP = "bidding.auction_start"
CLOSE_STEP = "bidding.auction_close"
ROUND_STEP = "bidding.auction_round"

# Phase → what happens, in the same transaction, when an auction of that phase closes (the land
# listing registers its steps here: live bidding, the maximum-price modes, the reserve, the deal).
CloseHook = Callable[[Auction, dt.datetime, Batch, Actor], None]
CLOSE_HOOKS: dict[str, CloseHook] = {}


def on_close(phase: str) -> Callable[[CloseHook], CloseHook]:
    def register(hook: CloseHook) -> CloseHook:
        CLOSE_HOOKS[phase] = hook
        return hook

    return register


def schedule_start_and_close(auction: Auction) -> None:
    """The clock starts and closes the auction on time whether or not anybody watches or bids."""
    schedule(START_STEP, auction.pk, auction.starts_at)
    schedule(CLOSE_STEP, auction.pk, auction.ends_at)


# --- Advancing with time --------------------------------------------------------------------------------


def transition(actor: Actor, auction_id: int) -> RoomEvents:
    """Start, move to the next round, or close the auction if it is due (idempotent: the clock and
    the room's timers call this; a bid batch runs the same under its own lock). Commits, and returns
    the room events it produced for the caller to publish (`broadcast.py`): none when nothing was due.
    """
    with transaction.atomic():
        auction = (
            Auction.objects.select_for_update().select_related("lot").filter(pk=auction_id).first()
        )
        if auction is None:
            return {}
        batch = Batch()
        if not advance_locked(auction, timezone.now(), batch, actor):
            return {}
        batch.finish([auction])
        auction.save(update_fields=AUCTION_FIELDS)
    return batch.room_events()


def is_due(auction: Auction, now: dt.datetime) -> bool:
    """Whether `advance_locked` could change anything at `now` (rounds: a new round may be due)."""
    if auction.status == Auction.Status.SCHEDULED:
        return now >= auction.starts_at
    return auction.status == Auction.Status.LIVE and (
        now >= auction.ends_at or auction.format == Auction.Format.ROUNDS
    )


def advance_locked(auction: Auction, now: dt.datetime, batch: Batch, actor: Actor) -> bool:
    """Apply whatever the server time makes due. Returns True if anything changed."""
    before = (auction.status, auction.seq)
    if auction.status == Auction.Status.SCHEDULED and now >= auction.starts_at:
        start_locked(auction, now, batch, actor)
    if auction.status == Auction.Status.LIVE and auction.format == Auction.Format.ROUNDS:
        round_locked(auction, now, batch, actor)
    if auction.status == Auction.Status.LIVE and now >= auction.ends_at:
        close_locked(auction, now, batch, actor)
    return (auction.status, auction.seq) != before


# --- The start ------------------------------------------------------------------------------------------


def start_locked(auction: Auction, now: dt.datetime, batch: Batch, actor: Actor) -> None:
    """Admit the eligible candidates under random aliases and go live, or fail for too few."""
    if auction.admit_on_bid:
        _open_for_joining(auction, now, batch, actor)
        return
    admitted, refused = _judge(auction, _candidates(auction, now), now)
    if len(admitted) < auction.min_participants:
        _fail_to_start(auction, now, batch, actor, admitted, refused)
        return
    _seat(auction, admitted, now)
    auction.status = Auction.Status.LIVE
    auction.started_at = now
    if auction.format == Auction.Format.ROUNDS:
        auction.ends_at = R.rounds_end(auction, len(admitted))
        schedule(CLOSE_STEP, auction.pk, auction.ends_at)
    _announce_start(auction, sorted(admitted, key=lambda s: s.alias), refused, now, batch, actor)


def _open_for_joining(auction: Auction, now: dt.datetime, batch: Batch, actor: Actor) -> None:
    """A listing opens with nobody in it: bidders join with their first bid."""
    auction.status = Auction.Status.LIVE
    auction.started_at = now
    batch.emit(auction, "started", now, {"participants": [], "ends_at": iso(auction.ends_at)})
    batch.audit.append((actor, "bidding.auction.started", auction, {"ends_at": auction.ends_at}))


def _candidates(auction: Auction, now: dt.datetime) -> list[AuctionParticipant]:
    """Open format: every registered organization gets a seat to be judged. Rounds format: those
    that sealed an initial bid, opened now."""
    if auction.format != Auction.Format.OPEN:
        return open_initial_bids(auction, now)
    organizations = (
        Registration.objects.filter(lot=auction.lot)
        .values_list("organization_id", flat=True)
        .distinct()
        .order_by("organization_id")
    )
    return [
        AuctionParticipant.objects.get_or_create(auction=auction, organization_id=org_id)[0]
        for org_id in organizations
    ]


def open_initial_bids(auction: Auction, now: dt.datetime) -> list[AuctionParticipant]:
    """Rounds format, at the start and under the auction's lock: open every sealed initial bid."""
    seats = list(auction.participants.filter(sealed_initial__isnull=False).order_by("pk"))
    if not seats:
        return []
    private = opening_private_key(auction.lot, now)
    for seat in seats:
        sealed = cast(bytes, seat.sealed_initial)  # the query took sealed seats only
        seat.initial_price = Decimal(crypto.open_outer(private, bytes(sealed)).decode())
    AuctionParticipant.objects.bulk_update(seats, ["initial_price"])
    return seats


def _judge(
    auction: Auction, candidates: list[AuctionParticipant], now: dt.datetime
) -> tuple[list[AuctionParticipant], dict[int, str]]:
    """(the admitted seats, organization id → the reason each other one was refused)."""
    admitted, refused = [], {}
    for seat in candidates:
        reason = eligibility(auction.lot, seat.organization, now)
        if reason is None:
            admitted.append(seat)
        else:
            refused[seat.organization_id] = reason
    return admitted, refused


def _fail_to_start(
    auction: Auction,
    now: dt.datetime,
    batch: Batch,
    actor: Actor,
    admitted: list[AuctionParticipant],
    refused: dict[int, str],
) -> None:
    auction.status = Auction.Status.FAILED
    auction.closed_at = now
    auction.failure_reason = _("合格竞价人不足 %(n)d 家（%(m)d 家）。") % {
        "n": auction.min_participants,
        "m": len(admitted),
    }
    auction.results = []
    batch.emit(
        auction,
        "closed",
        now,
        {"status": auction.status, "results": [], "reason": auction.failure_reason},
    )
    payload = {
        "admitted": [s.organization_id for s in admitted],
        "refused": refused,
        "reason": auction.failure_reason,
    }
    batch.closes(auction, (actor, "bidding.auction.failed", auction, payload))
    _tell_closed(auction)


def _tell_closed(auction: Auction) -> None:
    """An auction closes once (under its lock): its seated bidders hear that it ended, nothing of the
    ranking (the room and the result show that under their rules). A land listing's phases are told
    by the listing (`bidding.land.services`)."""
    if auction.phase != Auction.Phase.MAIN:
        return
    notices.tell_room("auction.closed", auction, f"auction.closed:{auction.pk}")


def _seat(auction: Auction, admitted: list[AuctionParticipant], now: dt.datetime) -> None:
    """Aliases in a random order, so a letter says nothing about who registered first. Rounds
    format: each seat starts from its opened initial bid."""
    secrets.SystemRandom().shuffle(admitted)
    for index, seat in enumerate(admitted):
        seat.alias = alias(index)
        seat.admitted_at = now
        if auction.format == Auction.Format.ROUNDS:
            seat.price, seat.price_at = seat.initial_price, seat.initial_at
    AuctionParticipant.objects.bulk_update(admitted, ["alias", "admitted_at", "price", "price_at"])


def _announce_start(
    auction: Auction,
    seats: list[AuctionParticipant],
    refused: dict[int, str],
    now: dt.datetime,
    batch: Batch,
    actor: Actor,
) -> None:
    participants = [
        {
            "alias": s.alias,
            "organization": org_ref(
                s.organization_id, {s.organization_id: batch.name(s.organization_id)}
            ),
            "price": str(s.price) if s.price is not None else None,
            "price_at": iso(s.price_at),
        }
        for s in seats
    ]
    batch.emit(
        auction, "started", now, {"participants": participants, "ends_at": iso(auction.ends_at)}
    )
    payload = {
        "aliases": {s.alias: s.organization_id for s in seats},
        "refused": refused,
        "ends_at": auction.ends_at,
        # Rounds format: the sealed initial bids, opened now.
        "initial_prices": {s.alias: s.initial_price for s in seats if s.initial_price},
    }
    batch.audit.append((actor, "bidding.auction.started", auction, payload))


# --- Rounds ---------------------------------------------------------------------------------------------


def round_locked(auction: Auction, now: dt.datetime, batch: Batch, actor: Actor) -> None:
    """Rounds format: fix the turn order of every round begun by `now` and announce it."""
    seats = seats_of(auction)
    stage = R.stage_at(auction, len(seats), now)
    if stage is None:
        return
    for number in range(stage.round + 1):
        if str(number) not in auction.round_orders:
            _begin_round(auction, number, seats, now, batch)


def _begin_round(
    auction: Auction,
    number: int,
    seats: list[AuctionParticipant],
    now: dt.datetime,
    batch: Batch,
) -> None:
    # No bid can fall in a round before its order exists, so current prices are its standings.
    standings = [
        (s.pk, s.price, cast(dt.datetime, s.price_at)) for s in seats if s.price is not None
    ]
    order = R.round_order(auction.direction, standings)
    auction.round_orders = {**auction.round_orders, str(number): order}
    round_start = auction.starts_at + number * R.round_length(auction, len(seats))
    turns_from = round_start + dt.timedelta(seconds=auction.pause_seconds)
    turn = dt.timedelta(seconds=auction.turn_seconds)
    by_id = {s.pk: s for s in seats}
    turns = [
        {
            "alias": by_id[pk].alias,
            "starts_at": iso(turns_from + i * turn),
            "ends_at": iso(turns_from + (i + 1) * turn),
        }
        for i, pk in enumerate(order)
    ]
    batch.emit(auction, "round", now, {"round": number + 1, "turns": turns})
    _schedule_round(auction, number + 1, len(seats))


def _schedule_round(auction: Auction, number: int, bidders: int) -> None:
    """The clock starts round `number` (0-based) on time even when no room is open and nobody bids
    (the room's own timer does it sooner while somebody watches)."""
    starts_at = auction.starts_at + number * R.round_length(auction, bidders)
    if number < auction.rounds and starts_at < auction.ends_at:
        schedule(ROUND_STEP, auction.pk, starts_at)


# --- The close ------------------------------------------------------------------------------------------


def close_locked(auction: Auction, now: dt.datetime, batch: Batch, actor: Actor) -> None:
    """Rank the final prices, close (or fail without a valid bid), then run the phase's close hook."""
    results = results_of(auction)
    if not results:
        auction.status = Auction.Status.FAILED
        auction.failure_reason = _("无有效报价。")
    else:
        auction.status = Auction.Status.CLOSED
    auction.results = results
    auction.closed_at = now
    batch.emit(
        auction,
        "closed",
        now,
        {
            "status": auction.status,
            "ends_at": iso(auction.ends_at),
            "capped": auction.capped_at is not None,
            "results": results,
            "reason": auction.failure_reason,
            "reveal": reveals_at_close(auction),
        },
    )
    payload = {
        "status": auction.status,
        "ends_at": auction.ends_at,
        "results": results,
        "accepted": auction.accepted_count,
        "rejected": auction.rejected_count,
        "last_seq": auction.seq,
        "capped_at": auction.capped_at,
    }
    batch.closes(auction, (actor, "bidding.auction.closed", auction, payload))
    _tell_closed(auction)
    hook = CLOSE_HOOKS.get(auction.phase)
    if hook is not None:
        batch.flush_audit()  # the close comes before whatever the hook records
        hook(auction, now, batch, actor)
