"""Live auctions: set up, admit the bidders, decide bids, run the rounds, close, hand the result on.

Every state change happens under the auction row's lock (`SELECT … FOR UPDATE`; SQLite's IMMEDIATE
transaction is the lock there), is judged against `timezone.now()` taken under that lock, writes its
room events (`AuctionEvent`, numbered without gaps) and its audit events in the same transaction, and is
broadcast only after commit (`broadcast.after_commit`).

Bids are decided in batches (`place_bids`): the room's writer (`writer.py`) hands over whatever bids
arrived while the previous batch was committing, and this function decides them one by one, in arrival
order, inside one transaction — the same decisions as one transaction per bid, with one commit (one
fsync) for the batch. Nobody is answered before that commit.

Time: `_advance_locked` starts, moves to the next round, or closes the auction if the server time says
so. The clock (`tasks.py`: start, each round, close) and the room's timers (`hub.py`) call it on time
through `advance`; every bid batch calls it first under the same lock, so a late clock can never admit
a late bid, and whatever performs a transition broadcasts its events after commit. Reads never call
it: they change nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import IntegrityRecord, Organization, Role
from accounts.permissions import require_perm
from accounts.services import ensure_may_trade
from audit.services import AuditEntry, record, record_many
from bidding.auction import broadcast
from bidding.auction import rules as R
from bidding.models import Auction, AuctionBid, AuctionEvent, AuctionParticipant
from lib import batchwrite
from lib.errors import Conflict, DomainError, NotFound
from lib.numbers import parse_integer
from lib.text import bounded, unsafe_char
from trading.models import Lot, Project, Registration

log = logging.getLogger(__name__)

START_STEP = "bidding.auction_start"
CLOSE_STEP = "bidding.auction_close"
ROUND_STEP = "bidding.auction_round"
MAX_KEY_LENGTH = 64
HISTORY_IN_STATE = 100
# What an initial bid's row keeps instead of its price: the price itself is sealed on the seat.
SEALED = "(sealed)"


def alias(index: int) -> str:
    """竞价人A … 竞价人Z, 竞价人AA …"""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return f"竞价人{letters}"


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds") if value else None


def _org(org_id: int, names: dict[int, str]) -> dict[str, Any]:
    return {"id": org_id, "name": names.get(org_id, "")}


# --- Setting up ------------------------------------------------------------------------------------


def clean_amount(
    value: Any, field_name: str, *, optional: bool = False, money: bool = True
) -> Decimal | None:
    """A positive amount (money, or an area) with at most two decimals, sent as a string (an int or
    Decimal from Python code is accepted; a float never is)."""
    if value in (None, "") and optional:
        return None
    amount = R.parse_price(str(value) if isinstance(value, int | Decimal) else value)
    if amount is None:
        message = (
            _("%(field)s 必须是正数金额，最多两位小数。")
            if money
            else _("%(field)s 必须是正数，最多两位小数。")
        )
        raise DomainError(message, code="BAD_AMOUNT", field=field_name)
    return amount


def clean_int(
    value: Any,
    field_name: str,
    *,
    minimum: int = 0,
    maximum: int = 10**7,
    optional: bool = False,
) -> int | None:
    """A setting as sent (a JSON integer or ASCII digits), read by the one number parser."""
    if value in (None, "") and optional:
        return None
    return parse_integer(value, field=field_name, minimum=minimum, maximum=maximum)


def create_auction(
    actor: Actor,
    lot: Lot,
    *,
    format: str = Auction.Format.OPEN,
    start_price: Any,
    step: Any,
    starts_at: dt.datetime,
    duration_seconds: Any = 1800,
    max_change: Any = None,
    extension_window_seconds: Any = 120,
    extension_seconds: Any = 120,
    max_extensions: Any = None,
    min_participants: Any = 3,
    public_view: bool = True,
    rounds: Any = 3,
    turn_seconds: Any = 120,
    pause_seconds: Any = 120,
    direction: str = Auction.Direction.DESCENDING,
) -> Auction:
    """Fix an auction's rules on a lot of a published 电子反拍 project. The rules cannot change later:
    bidders prepare against them."""
    require_perm(actor, "trading.manage_project", lot.project)
    if format not in Auction.Format.values:
        raise DomainError(_("未知的竞价方式。"), code="BAD_FORMAT")
    if direction not in Auction.Direction.values:
        raise DomainError(_("未知的竞价方向。"), code="BAD_DIRECTION")
    rules = {
        "start_price": clean_amount(start_price, _("起始价")),
        "step": clean_amount(step, _("竞价幅度")),
        "max_change": clean_amount(max_change, _("单次最大变动"), optional=True),
        "duration_seconds": clean_int(duration_seconds, _("竞价时长"), minimum=60),
        "extension_window_seconds": clean_int(extension_window_seconds, _("延时触发窗口")),
        "extension_seconds": clean_int(extension_seconds, _("延时时长")),
        "max_extensions": clean_int(max_extensions, _("最多延时次数"), optional=True),
        "min_participants": clean_int(min_participants, _("最少竞价人数"), minimum=1),
        "rounds": clean_int(rounds, _("轮数"), minimum=1),
        "turn_seconds": clean_int(turn_seconds, _("每次报价时长"), minimum=10),
        "pause_seconds": clean_int(pause_seconds, _("轮间休息"), minimum=0),
    }
    if rules["step"] >= rules["start_price"]:
        raise DomainError(_("竞价幅度必须小于起始价。"), code="BAD_STEP")
    if rules["max_change"] is not None and rules["max_change"] < rules["step"]:
        raise DomainError(_("单次最大变动不能小于竞价幅度。"), code="BAD_MAX_CHANGE")
    if timezone.is_naive(starts_at):
        raise DomainError(_("开始时间必须带时区。"), code="BAD_TIME")
    if not isinstance(public_view, bool):
        raise DomainError(_("“允许公众旁观”必须是布尔值。"), code="BAD_FLAG")
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=lot.project_id)
        if project.method != Project.Method.REVERSE_AUCTION and direction == "descending":
            raise Conflict(_("只有电子反拍项目可以设置反向竞价。"), code="WRONG_METHOD")
        if project.status != Project.Status.PUBLISHED:
            raise Conflict(_("项目尚未发布。"), code="WRONG_STATUS")
        now = timezone.now()
        registration_ends = project.deposit_deadline or project.bid_deadline
        if starts_at <= now or (registration_ends and starts_at < registration_ends):
            raise DomainError(_("开始时间必须晚于现在和报名/保证金截止时间。"), code="BAD_START")
        if Auction.objects.filter(lot=lot, phase=Auction.Phase.MAIN).exists():
            raise Conflict(_("该标段已设置竞价。"), code="ALREADY_EXISTS")
        auction = Auction.objects.create(
            lot=lot,
            format=format,
            direction=direction,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(seconds=rules["duration_seconds"]),
            public_view=public_view,
            created_by=actor.user,
            **rules,
        )
        _schedule(auction)
        record(
            actor,
            "bidding.auction.created",
            auction,
            {
                "lot": lot.pk,
                **rules,
                "format": format,
                "direction": direction,
                "starts_at": starts_at,
                "public_view": public_view,
            },
        )
    return auction


def open_phase(
    actor: Actor,
    lot: Lot,
    *,
    phase: str,
    created_by: Any,
    starts_at: dt.datetime,
    duration_seconds: int,
    start_price: Decimal,
    step: Decimal,
    batch: _Batch | None = None,
    seats: list[dict[str, Any]] | None = None,
    best_alias: str | None = None,
    **rules: Any,
) -> Auction:
    """An auction phase opened by another service (the land listing), which has checked permission and
    the trade's own rules. Without `seats` it is scheduled like any auction; with them (live bidding,
    the housing-area bidding) it starts at once with those seats — each {organization, alias, price,
    price_at, may_bid} — and, if given, the seat `best_alias` holding the best price."""
    auction = Auction.objects.create(
        lot=lot,
        phase=phase,
        format=Auction.Format.OPEN,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(seconds=duration_seconds),
        duration_seconds=duration_seconds,
        start_price=start_price,
        step=step,
        created_by=created_by,
        **rules,
    )
    if seats is None:
        _schedule(auction)
    else:
        rows = AuctionParticipant.objects.bulk_create(
            [AuctionParticipant(auction=auction, admitted_at=starts_at, **seat) for seat in seats]
        )
        auction.status = Auction.Status.LIVE
        auction.started_at = starts_at
        best = next((r for r in rows if r.alias == best_alias), None)
        if best is not None:
            auction.best_price, auction.best_participant, auction.best_at = (
                best.price,
                best,
                best.price_at,
            )
        from clock.services import schedule

        schedule(CLOSE_STEP, auction.pk, auction.ends_at)
        participants = [
            {
                "alias": r.alias,
                "price": str(r.price) if r.price is not None else None,
                "price_at": _iso(r.price_at),
                "may_bid": r.may_bid,
                "organization": _org(r.organization_id, {}),
            }
            for r in sorted(rows, key=lambda r: r.alias)
        ]
        assert batch is not None, (
            "a phase that starts at once broadcasts through the caller's batch"
        )
        batch.emit(
            auction,
            "started",
            starts_at,
            {"participants": participants, "ends_at": _iso(auction.ends_at)},
        )
        auction.save(update_fields=_AUCTION_FIELDS)
    entry = (
        actor,
        "bidding.auction.created",
        auction,
        {
            "lot": lot.pk,
            "phase": phase,
            "starts_at": starts_at,
            "duration_seconds": duration_seconds,
            "start_price": start_price,
            "step": step,
            "seats": [
                {"alias": x["alias"], "organization": x["organization"].pk} for x in seats or []
            ],
            **{k: v for k, v in rules.items() if not isinstance(v, models.Model)},
        },
    )
    if batch is not None:
        batch.audit.append(entry)  # in order with the batch's other events
    else:
        record(*entry)
    return auction


def _schedule(auction: Auction) -> None:
    from clock.services import schedule

    schedule(START_STEP, auction.pk, auction.starts_at)
    schedule(CLOSE_STEP, auction.pk, auction.ends_at)


# --- Who may take part --------------------------------------------------------------------------------


def eligibility(lot: Lot, organization: Organization, now: dt.datetime) -> str | None:
    """None if `organization` may bid on `lot` now: registered, deposit qualified, not barred; else the
    reason code."""
    from deposits.services import qualification

    if not Registration.objects.filter(lot=lot, organization=organization).exists():
        return "NOT_REGISTERED"
    if not qualification(lot, organization).qualified:
        return "DEPOSIT_NOT_QUALIFIED"
    try:
        ensure_may_trade(organization, now)
    except DomainError:
        return "BARRED"
    return None


# --- Advancing with time (start, rounds, close) --------------------------------------------------------


@dataclass
class _Batch:
    """What one transaction produced: room events per auction (to broadcast after commit), audit
    entries (written in order, at the latest at the end), and auctions whose close needs the closing
    audit hash."""

    events: dict[int, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    rows: list[AuctionEvent] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    written: list[Any] = field(default_factory=list)
    closing: dict[int, int] = field(default_factory=dict)  # auction id → index in written + audit
    names: dict[int, str] = field(default_factory=dict)

    def emit(self, auction: Auction, kind: str, at: dt.datetime, data: dict[str, Any]) -> dict:
        auction.seq += 1
        event = {"type": kind, "seq": auction.seq, "at": _iso(at), **data}
        self.rows.append(
            AuctionEvent(auction=auction, seq=auction.seq, kind=kind, at=at, data=event)
        )
        self.events[auction.pk].append(event)
        return event

    def closes(self, auction: Auction, entry: AuditEntry) -> None:
        """Append the audit entry that closes `auction` (its hash is printed on the result)."""
        self.closing[auction.pk] = len(self.written) + len(self.audit)
        self.audit.append(entry)

    def flush_audit(self) -> None:
        """Write the pending audit entries now, so what a close hook records comes after them."""
        if self.audit:
            self.written.extend(record_many(self.audit))
            self.audit = []

    def name(self, org_id: int) -> str:
        if org_id not in self.names:
            self.names.update(Organization.objects.filter(pk=org_id).values_list("pk", "name"))
        return self.names.get(org_id, "")

    def finish(self, auctions: list[Auction]) -> None:
        """Write the batch: room events, audit chain, then the closing hashes."""
        batchwrite.insert(self.rows)
        self.flush_audit()
        for auction in auctions:
            if auction.pk in self.closing:
                event = self.written[self.closing[auction.pk]]
                auction.closing_audit_seq, auction.closing_audit_hash = event.seq, event.hash
        for auction_id, events in self.events.items():
            if events:
                broadcast.after_commit(auction_id, events)


def _seats(auction: Auction) -> list[AuctionParticipant]:
    return list(auction.participants.exclude(alias="").order_by("alias"))


def _open_initial_bids(auction: Auction, now: dt.datetime) -> list[AuctionParticipant]:
    """Rounds format, at the start and under the auction's lock: open every sealed initial bid."""
    from bidding import crypto
    from bidding.services import _project_private_key

    seats = list(auction.participants.filter(sealed_initial__isnull=False).order_by("pk"))
    if not seats:
        return []
    private = _project_private_key(auction.lot, now)
    for seat in seats:
        seat.initial_price = Decimal(
            crypto.open_outer(private, bytes(seat.sealed_initial)).decode()
        )
    AuctionParticipant.objects.bulk_update(seats, ["initial_price"])
    return seats


def _start_locked(auction: Auction, now: dt.datetime, batch: _Batch, actor: Actor) -> None:
    lot = auction.lot
    if auction.admit_on_bid:
        # A listing opens with nobody in it: bidders join with their first bid.
        auction.status = Auction.Status.LIVE
        auction.started_at = now
        batch.emit(auction, "started", now, {"participants": [], "ends_at": _iso(auction.ends_at)})
        batch.audit.append(
            (actor, "bidding.auction.started", auction, {"ends_at": auction.ends_at})
        )
        return
    if auction.format == Auction.Format.OPEN:
        candidates = [
            AuctionParticipant.objects.get_or_create(auction=auction, organization_id=org_id)[0]
            for org_id in Registration.objects.filter(lot=lot)
            .values_list("organization_id", flat=True)
            .distinct()
            .order_by("organization_id")
        ]
    else:
        candidates = _open_initial_bids(auction, now)
    admitted, refused = [], {}
    for seat in candidates:
        reason = eligibility(lot, seat.organization, now)
        if reason is None:
            admitted.append(seat)
        else:
            refused[seat.organization_id] = reason
    if len(admitted) < auction.min_participants:
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
        batch.closes(
            auction,
            (
                actor,
                "bidding.auction.failed",
                auction,
                {
                    "admitted": [s.organization_id for s in admitted],
                    "refused": refused,
                    "reason": auction.failure_reason,
                },
            ),
        )
        return
    # Aliases in a random order, so a letter says nothing about who registered first.
    secrets.SystemRandom().shuffle(admitted)
    for index, seat in enumerate(admitted):
        seat.alias = alias(index)
        seat.admitted_at = now
        if auction.format == Auction.Format.ROUNDS:
            seat.price, seat.price_at = seat.initial_price, seat.initial_at
    AuctionParticipant.objects.bulk_update(admitted, ["alias", "admitted_at", "price", "price_at"])
    auction.status = Auction.Status.LIVE
    auction.started_at = now
    if auction.format == Auction.Format.ROUNDS:
        auction.ends_at = R.rounds_end(auction, len(admitted))
        from clock.services import schedule

        schedule(CLOSE_STEP, auction.pk, auction.ends_at)
    seats = sorted(admitted, key=lambda s: s.alias)
    participants = [
        {
            "alias": s.alias,
            "organization": _org(
                s.organization_id, batch.names | {s.organization_id: batch.name(s.organization_id)}
            ),
            "price": str(s.price) if s.price is not None else None,
            "price_at": _iso(s.price_at),
        }
        for s in seats
    ]
    batch.emit(
        auction, "started", now, {"participants": participants, "ends_at": _iso(auction.ends_at)}
    )
    batch.audit.append(
        (
            actor,
            "bidding.auction.started",
            auction,
            {
                "aliases": {s.alias: s.organization_id for s in seats},
                "refused": refused,
                "ends_at": auction.ends_at,
                # Rounds format: the sealed initial bids, opened now.
                "initial_prices": {s.alias: s.initial_price for s in seats if s.initial_price},
            },
        )
    )


def _round_locked(auction: Auction, now: dt.datetime, batch: _Batch, actor: Actor) -> None:
    seats = _seats(auction)
    stage = R.stage_at(auction, len(seats), now)
    if stage is None:
        return
    by_id = {s.pk: s for s in seats}
    for number in range(stage.round + 1):
        if str(number) in auction.round_orders:
            continue
        # No bid can fall in a round before its order exists, so current prices are its standings.
        order = R.round_order(
            auction.direction, [(s.pk, s.price, s.price_at) for s in seats if s.price is not None]
        )
        auction.round_orders = {**auction.round_orders, str(number): order}
        round_start = auction.starts_at + number * R.round_length(auction, len(seats))
        turns_from = round_start + dt.timedelta(seconds=auction.pause_seconds)
        turn = dt.timedelta(seconds=auction.turn_seconds)
        turns = [
            {
                "alias": by_id[pk].alias,
                "starts_at": _iso(turns_from + i * turn),
                "ends_at": _iso(turns_from + (i + 1) * turn),
            }
            for i, pk in enumerate(order)
        ]
        batch.emit(auction, "round", now, {"round": number + 1, "turns": turns})
        _schedule_next_round(auction, number + 1, len(seats))


def _schedule_next_round(auction: Auction, number: int, bidders: int) -> None:
    """The clock starts round `number` (0-based) on time even when no room is open and nobody bids
    (the room's own timer does it sooner while somebody watches)."""
    from clock.services import schedule

    starts_at = auction.starts_at + number * R.round_length(auction, bidders)
    if number < auction.rounds and starts_at < auction.ends_at:
        schedule(ROUND_STEP, auction.pk, starts_at)


def results_of(auction: Auction, names: dict[int, str] | None = None) -> list[dict[str, Any]]:
    """Every bidder's final price, ranked by price, then time (the earlier bid wins a tie)."""
    seats = [s for s in _seats(auction) if s.price is not None]
    if names is None:
        names = dict(
            Organization.objects.filter(pk__in=[s.organization_id for s in seats]).values_list(
                "pk", "name"
            )
        )
    seats.sort(key=lambda s: R.rank_key(auction.direction, s.price, s.price_at, s.pk))
    return [
        {
            "rank": rank,
            "alias": s.alias,
            "organization": s.organization_id,
            "bidder": names.get(s.organization_id, ""),
            "price": str(s.price),
            "at": _iso(s.price_at),
        }
        for rank, s in enumerate(seats, start=1)
    ]


# Phase → what happens, in the same transaction, when an auction of that phase closes (the land
# listing registers its steps here: live bidding, the maximum-price modes, the reserve, the deal).
CloseHook = Callable[[Auction, dt.datetime, "_Batch", Actor], None]
CLOSE_HOOKS: dict[str, CloseHook] = {}


def on_close(phase: str) -> Callable[[CloseHook], CloseHook]:
    def register(hook: CloseHook) -> CloseHook:
        CLOSE_HOOKS[phase] = hook
        return hook

    return register


def _close_locked(auction: Auction, now: dt.datetime, batch: _Batch, actor: Actor) -> None:
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
            "ends_at": _iso(auction.ends_at),
            "capped": auction.capped_at is not None,
            "results": results,
            "reason": auction.failure_reason,
            "reveal": reveals_at_close(auction),
        },
    )
    batch.closes(
        auction,
        (
            actor,
            "bidding.auction.closed",
            auction,
            {
                "status": auction.status,
                "ends_at": auction.ends_at,
                "results": results,
                "accepted": auction.accepted_count,
                "rejected": auction.rejected_count,
                "last_seq": auction.seq,
                "capped_at": auction.capped_at,
            },
        ),
    )
    hook = CLOSE_HOOKS.get(auction.phase)
    if hook is not None:
        batch.flush_audit()  # the close comes before whatever the hook records
        hook(auction, now, batch, actor)


def _due(auction: Auction, now: dt.datetime) -> bool:
    if auction.status == Auction.Status.SCHEDULED:
        return now >= auction.starts_at
    return auction.status == Auction.Status.LIVE and (
        now >= auction.ends_at or auction.format == Auction.Format.ROUNDS
    )


def _advance_locked(auction: Auction, now: dt.datetime, batch: _Batch, actor: Actor) -> bool:
    """Apply whatever the server time makes due. Returns True if anything changed."""
    before = (auction.status, auction.seq)
    if auction.status == Auction.Status.SCHEDULED and now >= auction.starts_at:
        _start_locked(auction, now, batch, actor)
    if auction.status == Auction.Status.LIVE and auction.format == Auction.Format.ROUNDS:
        _round_locked(auction, now, batch, actor)
    if auction.status == Auction.Status.LIVE and now >= auction.ends_at:
        _close_locked(auction, now, batch, actor)
    return (auction.status, auction.seq) != before


_AUCTION_FIELDS = [
    "status",
    "ends_at",
    "extensions_used",
    "seq",
    "best_price",
    "best_participant",
    "best_at",
    "accepted_count",
    "rejected_count",
    "started_at",
    "closed_at",
    "failure_reason",
    "results",
    "closing_audit_seq",
    "closing_audit_hash",
    "round_orders",
    "capped_at",
]
# What a bid changes on its auction. A batch whose auctions changed nothing else (no start, round or
# close) writes them all in one statement (`_save_bid_fields`).
_BID_FIELDS = {
    "seq": "bigint",
    "best_price": "numeric",
    "best_participant": "bigint",
    "best_at": "timestamptz",
    "accepted_count": "integer",
    "rejected_count": "integer",
    "ends_at": "timestamptz",
    "extensions_used": "integer",
}
_OTHER_FIELDS = [f for f in _AUCTION_FIELDS if f not in _BID_FIELDS]


def _other_values(auction: Auction) -> list[Any]:
    return [getattr(auction, f) for f in _OTHER_FIELDS]


def _save_bid_fields_of_unchanged(
    auctions: list[Auction], loaded: dict[int, list[Any]]
) -> list[Auction]:
    """Write the bid fields of the batch's auctions whose other fields did not change since they
    were locked (`loaded`: each one's `_other_values` then); return the others, to save whole."""
    changed = [a for a in auctions if _other_values(a) != loaded[a.pk]]
    _save_bid_fields([a for a in auctions if a not in changed])
    return changed


def _save_bid_fields(auctions: list[Auction]) -> None:
    """The bid fields of many auctions: one UPDATE … FROM VALUES on PostgreSQL, one save each
    elsewhere. One UPDATE per auction was 40 % of a 50-auction batch (bench/auction_engine.py)."""
    if not auctions:
        return
    if connection.vendor != "postgresql":
        for auction in auctions:
            auction.save(update_fields=list(_BID_FIELDS))
        return
    columns = [Auction._meta.get_field(f).column for f in _BID_FIELDS]
    row = "(%s::bigint, " + ", ".join(f"%s::{kind}" for kind in _BID_FIELDS.values()) + ")"
    params: list[Any] = []
    for auction in auctions:
        params.append(auction.pk)
        params += [getattr(auction, column) for column in columns]
    assignments = ", ".join(f"{c} = v.{c}" for c in columns)
    batchwrite.execute(
        f"UPDATE {Auction._meta.db_table} AS a SET {assignments} "  # noqa: S608 (names from the model)
        f"FROM (VALUES {', '.join([row] * len(auctions))}) AS v(id, {', '.join(columns)}) "
        "WHERE a.id = v.id",
        params,
    )


def advance(actor: Actor, auction_id: int) -> list[dict[str, Any]]:
    """Start, move to the next round, or close the auction if it is due (the clock and the room's
    timers call this; a bid batch runs the same under its own lock; it is idempotent). Returns the
    room events it produced, which are broadcast after commit."""
    with transaction.atomic():
        auction = (
            Auction.objects.select_for_update().select_related("lot").filter(pk=auction_id).first()
        )
        if auction is None:
            return []
        batch = _Batch()
        if not _advance_locked(auction, timezone.now(), batch, actor):
            return []
        batch.finish([auction])
        auction.save(update_fields=_AUCTION_FIELDS)
        return batch.events[auction.pk]


# --- Deciding bids -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BidRequest:
    actor: Actor
    auction_id: int
    key: str
    price_text: str


@dataclass(frozen=True)
class BidAnswer:
    key: str
    accepted: bool
    code: str = ""
    seq: int | None = None
    price: str | None = None
    at: str | None = None
    ends_at: str | None = None

    @property
    def message(self) -> str:
        return R.Refusal(self.code).message if self.code in R.REFUSALS else _("报价被拒绝。")

    def frame(self) -> dict[str, Any]:
        if self.accepted:
            return {
                "type": "ack",
                "key": self.key,
                "seq": self.seq,
                "price": self.price,
                "at": self.at,
                "ends_at": self.ends_at,
            }
        return {"type": "reject", "key": self.key, "code": self.code, "message": self.message}


def _answer_of(bid: AuctionBid, ends_at: dt.datetime | None = None) -> BidAnswer:
    return BidAnswer(
        key=bid.key,
        accepted=bid.accepted,
        code=bid.code,
        seq=bid.seq,
        price=str(bid.price) if bid.price is not None else None,
        at=_iso(bid.decided_at),
        ends_at=_iso(ends_at),
    )


def _seat_for_initial_bid(
    auction: Auction, actor: Actor, now: dt.datetime
) -> AuctionParticipant | None:
    if auction.format != Auction.Format.ROUNDS or auction.status != Auction.Status.SCHEDULED:
        return None
    if eligibility(auction.lot, actor.organization, now) is not None:
        return None
    return AuctionParticipant.objects.get_or_create(
        auction=auction, organization=actor.organization
    )[0]


def _seal_initial(auction: Auction, price: Decimal) -> bytes:
    from bidding import crypto
    from bidding.services import project_public_key

    return crypto.seal_to(project_public_key(auction.lot.project), str(price).encode())


def _seat_on_first_bid(
    auction: Auction, actor: Actor, now: dt.datetime
) -> AuctionParticipant | None:
    """Land listing: an eligible bidder joins the room with its first bid, under the next alias."""
    if not auction.admit_on_bid or auction.status != Auction.Status.LIVE:
        return None
    if eligibility(auction.lot, actor.organization, now) is not None:
        return None
    taken = auction.participants.exclude(alias="").count()
    return AuctionParticipant.objects.create(
        auction=auction, organization=actor.organization, alias=alias(taken), admitted_at=now
    )


def _decide(auction: Auction, seat: AuctionParticipant, price: Decimal | None, now: dt.datetime):
    """The refusal for this bid now, or None to accept. The auction row is locked."""
    if price is None:
        return R.Refusal("BAD_PRICE")
    if auction.status == Auction.Status.SCHEDULED:
        if auction.format == Auction.Format.ROUNDS:
            return R.check_initial_bid(auction, price)
        return R.Refusal("NOT_STARTED")
    if auction.status != Auction.Status.LIVE or now >= auction.ends_at:
        return R.Refusal("CLOSED")
    if not seat.alias or not seat.may_bid:
        return R.Refusal("NOT_PARTICIPANT")
    if auction.format == Auction.Format.OPEN:
        return R.check_open_bid(auction, price)
    seats = _seats(auction)
    stage = R.stage_at(auction, len(seats), now)
    order = auction.round_orders.get(str(stage.round)) if stage else None
    if stage is None or stage.turn is None or not order or order[stage.turn] != seat.pk:
        return R.Refusal("NOT_YOUR_TURN")
    return R.check_turn_bid(auction, seat.price, price)


def _write_seat_prices(seats: list[AuctionParticipant]) -> None:
    """Each seat's price and the time it reached it. One statement on PostgreSQL (UPDATE … FROM
    VALUES); one per seat elsewhere. (`bulk_update`'s CASE expressions cost more to build than the
    statements they save: bench/auction_bids.py.)"""
    if not seats:
        return
    if connection.vendor != "postgresql":
        for seat in seats:
            AuctionParticipant.objects.filter(pk=seat.pk).update(
                price=seat.price, price_at=seat.price_at
            )
        return
    table = AuctionParticipant._meta.db_table
    rows = ", ".join(["(%s::bigint, %s::numeric, %s::timestamptz)"] * len(seats))
    params: list[Any] = []
    for seat in seats:
        params += [seat.pk, seat.price, seat.price_at]
    batchwrite.execute(
        f"UPDATE {table} AS seat SET price = v.price, price_at = v.price_at "  # noqa: S608
        f"FROM (VALUES {rows}) AS v(id, price, price_at) WHERE seat.id = v.id",
        params,
    )


def place_bids(requests: list[BidRequest]) -> list[BidAnswer]:
    """Decide a batch of bids in arrival order, in one transaction; answers in the same order.

    Each bid is judged against the server time at its decision, under the lock of its auction's row;
    an accepted bid that falls in the anti-sniping window moves the end in the same transaction. Every
    bid, accepted or refused, is an audit event. A key already answered gets the stored answer.

    Isolation: no input of one bidder may change another's answer. What a bid can carry that would
    fail the shared transaction (an unusable key or price text) is refused for that bid alone before
    anything is written (`_malformed`). Should the batch still fail, for a reason nobody foresaw, it
    rolled back whole, and each bid is decided again in a transaction of its own: only the bid that
    fails again is answered `RETRY` — the same decisions as one transaction per bid, which is what a
    batch stands for.
    """
    try:
        return _place_batch(requests)
    except Exception:
        if len(requests) == 1:
            raise
        log.exception("a batch of %d bids failed; deciding each bid alone", len(requests))
    answers, failure = [], None
    for request in requests:
        try:
            answers.append(_place_batch([request])[0])
        except Exception as exc:
            log.exception("bid %r on auction %s failed alone", request.key, request.auction_id)
            answers.append(BidAnswer(request.key, False, "RETRY"))
            failure = exc
    if failure is not None and all(answer.code == "RETRY" for answer in answers):
        raise failure  # nothing went through: most likely the connection, which the caller resets
    return answers


def _malformed(request: BidRequest) -> str | None:
    """BAD_KEY or BAD_PRICE for a bid whose key or price text cannot even be stored, else None.

    The socket refuses such frames at parse time (`lib.realtime.parse_frame`) and the API before the
    service; this is the engine's own guard, so that whatever the entry point, one bidder's bytes
    never reach the batch's shared statements."""
    key, text = request.key, request.price_text
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_LENGTH or unsafe_char(key):
        return "BAD_KEY"
    if not isinstance(text, str) or unsafe_char(text):
        return "BAD_PRICE"
    return None


def _gate_codes(requests: list[BidRequest], now: dt.datetime) -> dict[int, str | None]:
    """The integrity gate (`ensure_may_trade`) for every organization bidding in the batch, read
    fresh at the batch's decision time: a supplier barred (or deactivated) while admitted to a live
    room is refused from its next bid on. Organization id → the gate's code, or None.

    Two queries per batch, not one per bidder: the gate itself judges only the organizations that
    are deactivated or have a bar in force today; every other one passes it by definition."""
    ids = {
        r.actor.organization.pk
        for r in requests
        if r.actor.role == Role.SUPPLIER and r.actor.organization is not None
    }
    with_bars = set(
        IntegrityRecord.objects.active_at(timezone.localtime(now).date())
        .filter(organization_id__in=ids)
        .values_list("organization_id", flat=True)
    )
    codes: dict[int, str | None] = {}
    for pk, organization in Organization.objects.in_bulk(ids).items():
        if organization.is_active and pk not in with_bars:
            codes[pk] = None
            continue
        try:
            ensure_may_trade(organization, now)
        except DomainError as refusal:
            codes[pk] = refusal.code
        else:
            codes[pk] = None
    return codes


def _place_batch(requests: list[BidRequest]) -> list[BidAnswer]:
    answers: list[BidAnswer | None] = [None] * len(requests)
    ids = sorted({r.auction_id for r in requests})
    with transaction.atomic():
        # Locks in id order: batches from several processes never deadlock on each other.
        auctions = {
            a.pk: a
            for a in Auction.objects.select_for_update()
            .select_related("lot")
            .filter(pk__in=ids)
            .order_by("pk")
        }
        loaded = {pk: _other_values(a) for pk, a in auctions.items()}
        batch = _Batch()
        room = Actor.system("room")
        for auction in auctions.values():
            _advance_locked(auction, timezone.now(), batch, room)
        pairs = {
            (r.auction_id, r.actor.organization.pk)
            for r in requests
            if r.actor.organization is not None
        }

        def load_seats(auction_ids):
            # Only the batch's (auction, organization) pairs: across many auctions, "every seat of
            # these organizations in these auctions" is a cross product of rows nobody needs.
            wanted = [pair for pair in pairs if pair[0] in auction_ids]
            if not wanted:
                return {}
            rows = ", ".join(["(%s, %s)"] * len(wanted))
            in_batch = RawSQL(  # noqa: S611 (placeholders only; the values are parameters)
                f"(auction_id, organization_id) IN (VALUES {rows})",
                [n for pair in wanted for n in pair],
                output_field=models.BooleanField(),
            )
            return {
                (s.auction_id, s.organization_id): s
                for s in AuctionParticipant.objects.filter(in_batch)
            }

        seats = load_seats(set(ids))
        gate = _gate_codes(requests, timezone.now())
        answered = {
            (b.auction_id, b.participant_id, b.key): b
            for b in AuctionBid.objects.filter(
                auction_id__in=ids, key__in={r.key for r in requests if _malformed(r) is None}
            )
        }
        new_bids: list[AuctionBid] = []
        touched_seats: dict[int, AuctionParticipant] = {}

        def flush_seats() -> None:
            # Starting a round and closing read the seats from the database: write this batch's first.
            priced = [s for s in touched_seats.values() if not (s.alias == "" and s.sealed_initial)]
            for seat in touched_seats.values():
                if seat not in priced:  # a sealed initial bid (rounds format, before the start)
                    batchwrite.execute(
                        f"UPDATE {AuctionParticipant._meta.db_table} "  # noqa: S608 (model's table)
                        "SET sealed_initial = %s, initial_at = %s WHERE id = %s",
                        [seat.sealed_initial, seat.initial_at, seat.pk],
                    )
            _write_seat_prices(priced)
            touched_seats.clear()

        moved_ends: set[int] = set()
        for index, request in enumerate(requests):
            auction = auctions.get(request.auction_id)
            actor = request.actor
            if auction is None:
                answers[index] = BidAnswer(request.key, False, "CLOSED")
                continue
            malformed = _malformed(request)
            if malformed is not None:
                auction.rejected_count += 1
                answers[index] = BidAnswer(request.key, False, malformed)
                batch.audit.append(_rejection(actor, auction, request, malformed))
                continue
            now = timezone.now()
            was = auction.status
            if _due(auction, now):
                flush_seats()
                if _advance_locked(auction, now, batch, room) and was == Auction.Status.SCHEDULED:
                    seats.update(load_seats({auction.pk}))  # admitted just now
            org = actor.organization
            barred = gate.get(org.pk) if org is not None else None
            seat = seats.get((auction.pk, org.pk)) if org is not None else None
            if seat is None and org is not None and actor.role == Role.SUPPLIER and not barred:
                seat = _seat_for_initial_bid(auction, actor, now) or _seat_on_first_bid(
                    auction, actor, now
                )
                if seat is not None:
                    seats[(auction.pk, org.pk)] = seat
            if seat is None or actor.role != Role.SUPPLIER:
                # No seat: refused and audited, but there is no seat to keep an idempotent answer on.
                code = barred or (
                    "NOT_ELIGIBLE"
                    if auction.admit_on_bid and auction.status == Auction.Status.LIVE
                    else "NOT_STARTED"
                    if auction.status == Auction.Status.SCHEDULED
                    else "CLOSED"
                    if auction.finished
                    else "NOT_PARTICIPANT"
                )
                auction.rejected_count += 1
                answers[index] = BidAnswer(request.key, False, code)
                batch.audit.append(_rejection(actor, auction, request, code))
                continue
            prior = answered.get((auction.pk, seat.pk, request.key))
            if prior is not None:
                # A sealed initial bid keeps no price to compare with: the stored answer stands.
                same = prior.price_text in (request.price_text, SEALED)
                answers[index] = (
                    _answer_of(prior, auction.ends_at)
                    if same
                    else BidAnswer(request.key, False, "KEY_REUSED")
                )
                continue
            price = R.parse_price(request.price_text)
            # The gate at the act: a seat taken before a bar does not outlive it.
            refusal = R.Refusal(barred) if barred else _decide(auction, seat, price, now)
            bid = AuctionBid(
                auction=auction,
                participant=seat,
                key=request.key,
                price=price,
                price_text=request.price_text[:40],
                decided_at=now,
                accepted=refusal is None,
                code=refusal.code if refusal else "",
                ip=actor.ip,
            )
            answered[(auction.pk, seat.pk, request.key)] = bid
            new_bids.append(bid)
            if refusal is not None:
                auction.rejected_count += 1
                answers[index] = _answer_of(bid)
                batch.audit.append(
                    _rejection(actor, auction, request, refusal.code, participant=seat.pk)
                )
                continue
            touched_seats[seat.pk] = seat
            if auction.status == Auction.Status.SCHEDULED:  # a sealed initial bid (rounds format)
                sealed = _seal_initial(auction, price)
                seat.sealed_initial, seat.initial_at = sealed, now
                bid.price, bid.price_text = None, SEALED
                answers[index] = _answer_of(bid)
                batch.audit.append(
                    (
                        actor,
                        "bidding.auction.initial_bid",
                        auction,
                        {
                            "key": request.key,
                            "participant": seat.pk,
                            "sealed_sha256": hashlib.sha256(sealed).hexdigest(),
                        },
                    )
                )
                continue
            seat.price, seat.price_at = price, now
            auction.accepted_count += 1
            if (
                auction.best_price is None
                or R.improvement(auction.direction, auction.best_price, price) > 0
            ):
                auction.best_price, auction.best_participant, auction.best_at = price, seat, now
            new_end = R.extended_end(auction, now)
            event = batch.emit(
                auction,
                "bid",
                now,
                {
                    "alias": seat.alias,
                    "price": str(price),
                    "organization": _org(org.pk, {org.pk: org.name}),
                    "ends_at": _iso(new_end or auction.ends_at),
                },
            )
            bid.seq = event["seq"]
            audit_payload = {
                "key": request.key,
                "participant": seat.pk,
                "price": price,
                "seq": bid.seq,
            }
            if new_end is not None:
                old_end = auction.ends_at
                auction.ends_at = new_end
                auction.extensions_used += 1
                moved_ends.add(auction.pk)
                batch.emit(
                    auction,
                    "extended",
                    now,
                    {
                        "ends_at": _iso(new_end),
                        "extensions_used": auction.extensions_used,
                        "trigger_seq": bid.seq,
                    },
                )
                audit_payload |= {"extended_from": old_end, "extended_to": new_end}
            answers[index] = _answer_of(bid, auction.ends_at)
            batch.audit.append((actor, "bidding.auction.bid_accepted", auction, audit_payload))
            if R.reaches_cap(auction, price):
                # 最高限价 reached: price bidding stops now; the phase's close hook runs the cap mode.
                auction.capped_at = now
                flush_seats()
                _close_locked(auction, now, batch, room)
        # The batch's writes and its audit chain go to PostgreSQL together (lib/batchwrite.py): two
        # round trips instead of eight. Nothing in the block may write through the ORM.
        with batchwrite.pipeline():
            batchwrite.insert(new_bids)
            flush_seats()
            batch.finish(list(auctions.values()))
            changed = _save_bid_fields_of_unchanged(list(auctions.values()), loaded)
        for auction in changed:  # started, moved to a round or closed in this batch (the ORM)
            auction.save(update_fields=_AUCTION_FIELDS)
        _shared_ip_signals(auctions, new_bids)
        if moved_ends:
            from clock.services import schedule

            for auction_id in moved_ends:
                schedule(CLOSE_STEP, auction_id, auctions[auction_id].ends_at)
    return answers  # type: ignore[return-value]


def _rejection(
    actor: Actor, auction: Auction, request: BidRequest, code: str, **more: Any
) -> AuditEntry:
    """The audit entry of a refused bid. Its key and price are the client's bytes: the chain keeps
    them bounded (`lib.text.bounded`: as sent when short and clean, else an excerpt, the length and
    the SHA-256), so a megabyte price string costs the chain a few hundred bytes."""
    return (
        actor,
        "bidding.auction.bid_rejected",
        auction,
        {"key": bounded(request.key), "price": bounded(request.price_text), **more, "code": code},
    )


# (auction, ip, organization) pairs this process has already recorded: the steady state of a busy room
# (the same bidders from the same addresses) then costs nothing. Bounded; a cleared cache only means a
# pair is recorded again (ignored as a duplicate).
_SEEN_ADDRESSES: set[tuple[int, str, str, int]] = set()


def _shared_ip_signals(auctions: dict[int, Auction], new_bids: list[AuctionBid]) -> None:
    """Different bidders of one auction bidding from one IP address: alert supervisors. Only a pair
    (address, organization) new to the auction is recorded and looked at."""
    from audit import detectors
    from bidding.models import AuctionAddress

    # Keyed with the auction's creation time too: an id alone can come back (a test database reused).
    fresh = {
        (
            bid.auction_id,
            auctions[bid.auction_id].created_at.isoformat(),
            bid.ip,
            bid.participant.organization_id,
        )
        for bid in new_bids
        if bid.ip
    } - _SEEN_ADDRESSES
    if not fresh:
        return
    if len(_SEEN_ADDRESSES) > 100_000:
        _SEEN_ADDRESSES.clear()
    _SEEN_ADDRESSES.update(fresh)
    AuctionAddress.objects.bulk_create(
        [AuctionAddress(auction_id=a, ip=ip, organization_id=o) for a, _at, ip, o in fresh],
        ignore_conflicts=True,
    )
    for auction_id, ip in {(a, ip) for a, _at, ip, _org in fresh}:
        organizations = set(
            AuctionAddress.objects.filter(auction_id=auction_id, ip=ip).values_list(
                "organization_id", flat=True
            )
        )
        if len(organizations) > 1:
            auction = auctions[auction_id]
            detectors.shared_ip(
                Actor.system("room"),
                project_id=auction.lot.project_id,
                lot_id=auction.lot_id,
                ip=ip,
                organizations=organizations,
                where="auction",
            )


def place_bid(actor: Actor, auction: Auction, price: str, key: str) -> BidAnswer:
    """One bid (the HTTP API and tests); the room's writer batches them through `place_bids`."""
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_LENGTH or unsafe_char(key):
        raise DomainError(_("需要 1–64 个字符的幂等键。"), code="BAD_KEY")
    if not isinstance(price, str):
        raise DomainError(_("报价必须以字符串传送。"), code="BAD_PRICE")
    return place_bids([BidRequest(actor, auction.pk, key, price)])[0]


# --- Reading the room ---------------------------------------------------------------------------------


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


# The fields of a result row that say who is behind an alias.
IDENTITY_FIELDS = ("organization", "bidder")


def anonymous_results(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in IDENTITY_FIELDS} for r in results]


def anonymize(event: dict[str, Any]) -> dict[str, Any]:
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
    seats = _seats(auction)
    names = dict(
        Organization.objects.filter(pk__in=[s.organization_id for s in seats]).values_list(
            "pk", "name"
        )
    )
    own = None
    if kind == "bidder":
        own = auction.participants.filter(organization=actor.organization).first()
    history = list(
        AuctionEvent.objects.filter(auction=auction)
        .order_by("-seq")
        .values_list("data", flat=True)[:HISTORY_IN_STATE]
    )[::-1]
    if not reveal:
        history = [anonymize(e) for e in history]
    ranked = results_of(auction, names) if seats else []
    rank_of = {row["alias"]: row["rank"] for row in ranked}
    sealed = auction.format == Auction.Format.ROUNDS and auction.status == Auction.Status.SCHEDULED
    participants = [
        {
            "alias": s.alias,
            "price": None if sealed or s.price is None else str(s.price),
            "price_at": None if sealed else _iso(s.price_at),
            "rank": rank_of.get(s.alias),
            **({"organization": _org(s.organization_id, names)} if reveal else {}),
        }
        for s in seats
    ]
    you = None
    if kind == "bidder":
        you = {
            "admitted": bool(own and own.alias),
            # False for a seat that keeps its price but may not bid (a listing leader who did not
            # continue to live bidding).
            "may_bid": bool(own and own.alias and own.may_bid),
            "alias": own.alias if own else "",
            "price": str(own.price) if own and own.price is not None else None,
            # Opened at the start; before it the bidder sees only when its sealed bid arrived.
            "initial_price": str(own.initial_price)
            if own and own.initial_price is not None
            else None,
            "initial_sealed_at": _iso(own.initial_at) if own else None,
            "rank": rank_of.get(own.alias) if own else None,
            "eligibility": eligibility(auction.lot, actor.organization, timezone.now()),
        }
    reference = (
        auction.best_price
        if auction.format == Auction.Format.OPEN
        else (own.price if own and own.price is not None else None)
    )
    return {
        "type": "state",
        "seq": auction.seq,
        "server_time": int(timezone.now().timestamp() * 1000),
        "view": kind,
        "auction": {
            "id": auction.pk,
            "project": auction.lot.project.title,
            "lot": auction.lot.name,
            "format": auction.format,
            "direction": auction.direction,
            "status": auction.status,
            "start_price": str(auction.start_price),
            "step": str(auction.step),
            "max_change": str(auction.max_change) if auction.max_change is not None else None,
            "starts_at": _iso(auction.starts_at),
            "ends_at": _iso(auction.ends_at),
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
        },
        "participants": participants,
        "you": you,
        "turns": _current_turns(auction, seats),
        "history": history,
        # A finished land phase (the listing, while live bidding goes on) keeps its aliases: its
        # results name the bidders only for the views `identified` allows.
        "results": (
            (auction.results if reveal else anonymous_results(auction.results))
            if auction.finished
            else None
        ),
        "closing_audit": (
            {"seq": auction.closing_audit_seq, "hash": auction.closing_audit_hash}
            if auction.closing_audit_seq
            else None
        ),
    }


def _current_turns(auction: Auction, seats: list[AuctionParticipant]) -> list[dict[str, Any]]:
    if auction.format != Auction.Format.ROUNDS or auction.status != Auction.Status.LIVE:
        return []
    last = AuctionEvent.objects.filter(auction=auction, kind="round").order_by("-seq").first()
    return last.data["turns"] if last else []


def events_after(auction_id: int, seq: int, limit: int = 1000) -> list[dict[str, Any]]:
    """Room events after `seq`, for a hub that saw a gap."""
    return list(
        AuctionEvent.objects.filter(auction_id=auction_id, seq__gt=seq)
        .order_by("seq")
        .values_list("data", flat=True)[:limit]
    )


def timeline(auction: Auction) -> list[AuctionEvent]:
    return list(auction.events.order_by("seq"))


# --- Handing the result on ---------------------------------------------------------------------------


def publish_result(actor: Actor, auction: Auction):
    """The agent publishes the auction's ranking as the 中标（成交）候选人公示; from there the award,
    contract and deposit refunds follow the tender's path (`bidding.evaluation`)."""
    from bidding.evaluation import MAX_CANDIDATES, publicity_ends_at
    from bidding.models import Publicity
    from trading.models import Announcement
    from trading.services import lock_project, publish_version

    require_perm(actor, "trading.manage_project", auction.lot.project)
    with transaction.atomic():
        project = lock_project(auction.lot.project_id)
        auction = Auction.objects.select_for_update().get(pk=auction.pk)
        if auction.status != Auction.Status.CLOSED:
            raise Conflict(_("竞价尚未成功结束。"), code="WRONG_STATUS")
        if Publicity.objects.filter(lot_id=auction.lot_id).exists():
            raise Conflict(_("已公示。"), code="ALREADY_PUBLISHED")
        now = timezone.now()
        candidates = [
            {
                "rank": r["rank"],
                "bidder": r["bidder"],
                "organization": r["organization"],
                "bid": None,
                "price": r["price"],
                "alias": r["alias"],
            }
            for r in auction.results[:MAX_CANDIDATES]
        ]
        publicity = Publicity.objects.create(
            lot_id=auction.lot_id,
            candidates=candidates,
            published_at=now,
            ends_at=publicity_ends_at(project, now),
        )
        lines = [f"第{c['rank']}名：{c['bidder']}，最终报价 {c['price']} 元" for c in candidates]
        publish_version(
            actor,
            project,
            Announcement.Kind.CANDIDATES,
            title=f"{project.title}{Announcement.Kind.CANDIDATES.label}",
            body="\n".join(lines)
            + f"\n\n竞价结束时审计链哈希：{auction.closing_audit_hash}"
            + f"\n公示期至 {timezone.localtime(publicity.ends_at):%Y-%m-%d %H:%M}。",
            reason=str(_("网上竞价结果公示")),
            extra={
                "lot": auction.lot.number,
                "candidates": candidates,
                "auction": auction.pk,
                "closing_audit_hash": auction.closing_audit_hash,
            },
        )
        record(
            actor,
            "bidding.auction.result_published",
            auction,
            {"publicity": publicity.pk, "candidates": candidates},
        )
    return publicity


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
