"""Deciding bids: a batch of them, in arrival order, in one transaction; its answers and room events.

The room's writer (`hub.BidWriter`) hands over whatever bids arrived while the previous batch was
committing, and `decide_bids` decides them one by one, in arrival order, inside one transaction — the
same decisions as one transaction per bid, with one commit (one fsync) for the batch. It returns the
answers and the room events it decided; the caller answers the bidders and publishes the events only
after the commit (`broadcast.py`).

Each bid is judged against the server time at its decision, under the lock of its auction's row,
after whatever that time makes due (`lifecycle.advance_locked`). What decides a bid is a table of
named cases (`BID_CASES`, and `SEATLESS_CASES` for a bidder without a seat): the first case that
applies gives the answer. An accepted bid in the anti-sniping window moves the end in the same
transaction. Every bid, accepted or refused, is an audit event. A key already answered gets the
stored answer.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import IntegrityRecord, Organization, OrgRole, OrgRoleGrant, Role, User
from accounts.services import ensure_may_trade
from audit.services import AuditEntry
from bidding import crypto, notices
from bidding.auction import rules as R
from bidding.auction.addresses import shared_ip_signals
from bidding.auction.batch import (
    AUCTION_FIELDS,
    Batch,
    iso,
    org_ref,
    other_values,
    save_bid_fields_of_unchanged,
    write_sealed_initial,
    write_seat_prices,
)
from bidding.auction.broadcast import RoomEvents
from bidding.auction.lifecycle import CLOSE_STEP, advance_locked, close_locked, is_due
from bidding.auction.participants import alias, eligibility
from bidding.models import Auction, AuctionBid, AuctionParticipant
from bidding.services import project_public_key
from clock.services import schedule
from lib import batchwrite
from lib.canonical import sha256_hex
from lib.errors import DomainError
from lib.text import bounded, unsafe_char
from notifications.services import moment_text

log = logging.getLogger(__name__)

MAX_KEY_LENGTH = 64
# What an initial bid's row keeps instead of its price: the price itself is sealed on the seat.
SEALED = "(sealed)"


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


@dataclass(frozen=True)
class Decided:
    """What a batch decided: one answer per request, in order, and the room events per auction."""

    answers: list[BidAnswer]
    events: RoomEvents


# --- The cases ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """A bid with a seat, as the cases see it: under its auction's lock, at its decision time."""

    auction: Auction
    seat: AuctionParticipant
    price: Decimal | None
    now: dt.datetime
    barred: str | None  # the integrity gate's code for the bidder, read for this batch

    @property
    def amount(self) -> Decimal:
        """The price, for the cases after "not a price"."""
        assert self.price is not None
        return self.price

    @property
    def scheduled(self) -> bool:
        return self.auction.status == Auction.Status.SCHEDULED

    @property
    def rounds(self) -> bool:
        return self.auction.format == Auction.Format.ROUNDS


@dataclass(frozen=True)
class Case:
    """One row of the table: when it applies, and its answer (a refusal, or None to accept)."""

    name: str
    applies: Callable[[Attempt], bool]
    answer: Callable[[Attempt], R.Refusal | None]


def refuse_with(code: str) -> Callable[[Attempt], R.Refusal]:
    return lambda _bid: R.Refusal(code)


def _past_the_end(bid: Attempt) -> bool:
    return bid.auction.status != Auction.Status.LIVE or bid.now >= bid.auction.ends_at


def _without_a_turn(bid: Attempt) -> bool:
    """Rounds format: the bid does not fall in its seat's own turn of the current round."""
    bidders = bid.auction.participants.exclude(alias="").count()
    stage = R.stage_at(bid.auction, bidders, bid.now)
    if stage is None or stage.turn is None:
        return True
    order = bid.auction.round_orders.get(str(stage.round))
    return not order or order[stage.turn] != bid.seat.pk


def _gate_refusal(bid: Attempt) -> R.Refusal:
    assert bid.barred is not None
    return R.Refusal(bid.barred)


# The first case that applies decides. The gate comes first: a seat taken before a bar does not
# outlive it.
BID_CASES: tuple[Case, ...] = (
    Case("the integrity gate bars the bidder", lambda b: b.barred is not None, _gate_refusal),
    Case("not a price", lambda b: b.price is None, refuse_with("BAD_PRICE")),
    Case(
        "rounds, before the start: a sealed initial bid",
        lambda b: b.scheduled and b.rounds,
        lambda b: R.check_initial_bid(b.auction, b.amount),
    ),
    Case("before the start", lambda b: b.scheduled, refuse_with("NOT_STARTED")),
    Case("after the end", _past_the_end, refuse_with("CLOSED")),
    Case(
        "a seat that was not admitted, or may not bid",
        lambda b: not b.seat.alias or not b.seat.may_bid,
        refuse_with("NOT_PARTICIPANT"),
    ),
    Case(
        "open format: better than the room's best by whole steps",
        lambda b: b.auction.format == Auction.Format.OPEN,
        lambda b: R.check_open_bid(b.auction, b.amount),
    ),
    Case("rounds: outside the seat's own turn", _without_a_turn, refuse_with("NOT_YOUR_TURN")),
    Case(
        "rounds, in the seat's own turn: better than its own price by whole steps",
        lambda b: True,
        lambda b: R.check_turn_bid(b.auction, b.seat.price, b.amount),
    ),
)


def judge(bid: Attempt) -> R.Refusal | None:
    """The refusal for this bid now, or None to accept it."""
    case = next(case for case in BID_CASES if case.applies(bid))
    return case.answer(bid)


@dataclass(frozen=True)
class SeatlessCase:
    name: str
    applies: Callable[[Auction], bool]
    code: str


# A bid from a bidder without a seat (after the gate, which answers first): refused and audited, but
# there is no seat to keep an idempotent answer on.
SEATLESS_CASES: tuple[SeatlessCase, ...] = (
    SeatlessCase(
        "a listing open for joining, and the bidder may not join",
        lambda a: a.admit_on_bid and a.status == Auction.Status.LIVE,
        "NOT_ELIGIBLE",
    ),
    SeatlessCase("before the start", lambda a: a.status == Auction.Status.SCHEDULED, "NOT_STARTED"),
    SeatlessCase("after the close", lambda a: a.finished, "CLOSED"),
    SeatlessCase("a live room the bidder was not admitted to", lambda a: True, "NOT_PARTICIPANT"),
)


def seatless_code(auction: Auction, barred: str | None) -> str:
    return barred or next(c.code for c in SEATLESS_CASES if c.applies(auction))


def malformed(request: BidRequest) -> str | None:
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


# --- Deciding a batch ---------------------------------------------------------------------------------


def decide_bids(requests: list[BidRequest]) -> Decided:
    """Decide a batch of bids in arrival order, in one transaction; answers in the same order.

    Isolation: no input of one bidder may change another's answer. What a bid can carry that would
    fail the shared transaction (an unusable key or price text) is refused for that bid alone before
    anything is written (`malformed`). Should the batch still fail, for a reason nobody foresaw, it
    rolled back whole, and each bid is decided again in a transaction of its own: only the bid that
    fails again is answered `RETRY` — the same decisions as one transaction per bid, which is what a
    batch stands for.
    """
    try:
        return _decide_batch(requests)
    except Exception:
        if len(requests) == 1:
            raise
        log.exception("a batch of %d bids failed; deciding each bid alone", len(requests))
    return _decide_each_alone(requests)


def _decide_each_alone(requests: list[BidRequest]) -> Decided:
    answers: list[BidAnswer] = []
    events: RoomEvents = {}
    failure: Exception | None = None
    for request in requests:
        try:
            alone = _decide_batch([request])
        except Exception as exc:
            log.exception("bid %r on auction %s failed alone", request.key, request.auction_id)
            answers.append(BidAnswer(request.key, False, "RETRY"))
            failure = exc
            continue
        answers.append(alone.answers[0])
        for auction_id, these in alone.events.items():
            events.setdefault(auction_id, []).extend(these)
    if failure is not None and all(answer.code == "RETRY" for answer in answers):
        raise failure  # nothing went through: most likely the connection, which the caller resets
    return Decided(answers, events)


def _decide_batch(requests: list[BidRequest]) -> Decided:
    with transaction.atomic():
        run = BatchInProgress.begin(requests)
        answers = [run.decide(request) for request in requests]
        run.write()
    return Decided(answers, run.batch.room_events())


@dataclass
class BatchInProgress:
    """One batch's transaction: its locked auctions and what its steps share."""

    requests: list[BidRequest]
    auctions: dict[int, Auction]
    loaded: dict[int, list[Any]]  # each auction's `other_values` when locked
    batch: Batch = field(default_factory=Batch)
    room: Actor = field(default_factory=lambda: Actor.system("room"))
    seats: dict[tuple[int, int], AuctionParticipant] = field(default_factory=dict)
    gate: dict[int, str | None] = field(default_factory=dict)
    disabled_users: set[int] = field(default_factory=set)
    without_bidding_role: set[int] = field(default_factory=set)
    answered: dict[tuple[int, int, str], AuctionBid] = field(default_factory=dict)
    new_bids: list[AuctionBid] = field(default_factory=list)
    touched: dict[int, AuctionParticipant] = field(default_factory=dict)  # seats to write
    moved_ends: set[int] = field(default_factory=set)

    @classmethod
    def begin(cls, requests: list[BidRequest]) -> BatchInProgress:
        """Lock the batch's auctions, run what is due, and read the seats, the gate and the keys
        already answered."""
        auctions = _lock_auctions({r.auction_id for r in requests})
        run = cls(requests, auctions, {pk: other_values(a) for pk, a in auctions.items()})
        for auction in auctions.values():
            advance_locked(auction, timezone.now(), run.batch, run.room)
        run.seats = run.load_seats({r.auction_id for r in requests})
        run.gate = gate_codes(requests, timezone.now())
        run.disabled_users = disabled_users(requests)
        run.without_bidding_role = without_bidding_role(requests)
        run.answered = _answered_keys(requests)
        return run

    def load_seats(self, auction_ids: set[int]) -> dict[tuple[int, int], AuctionParticipant]:
        """The seats of the batch's (auction, organization) pairs in these auctions. Only those:
        across many auctions, "every seat of these organizations in these auctions" is a cross
        product of rows nobody needs."""
        wanted = [
            (r.auction_id, r.actor.organization.pk)
            for r in self.requests
            if r.actor.organization is not None and r.auction_id in auction_ids
        ]
        wanted = sorted(set(wanted))
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

    # --- one bid ---

    def decide(self, request: BidRequest) -> BidAnswer:
        """Answer one bid of the batch, in its turn."""
        auction = self.auctions.get(request.auction_id)
        if auction is None:
            return BidAnswer(request.key, False, "CLOSED")
        code = malformed(request)
        if code is not None:
            return self.refuse(auction, request, code)
        now = timezone.now()
        self.catch_up(auction, now)
        seat = self.seat_for(auction, request, now)
        if seat is None or request.actor.role != Role.SUPPLIER:
            return self.refuse(auction, request, seatless_code(auction, self.barred(request)))
        prior = self.answered.get((auction.pk, seat.pk, request.key))
        if prior is not None:
            return repeated(prior, request, auction)
        return self.judge_new(auction, seat, request, now)

    def barred(self, request: BidRequest) -> str | None:
        user = request.actor.user
        if user is not None and user.pk in self.disabled_users:
            return "ACCOUNT_DISABLED"
        if user is not None and user.pk in self.without_bidding_role:
            return "ORG_ROLE_REQUIRED"
        organization = request.actor.organization
        return self.gate.get(organization.pk) if organization is not None else None

    def refuse(self, auction: Auction, request: BidRequest, code: str, **more: Any) -> BidAnswer:
        """A refusal without a stored bid: counted and audited."""
        auction.rejected_count += 1
        self.batch.audit.append(rejection(request.actor, auction, request, code, **more))
        return BidAnswer(request.key, False, code)

    def catch_up(self, auction: Auction, now: dt.datetime) -> None:
        """Run a transition that came due since the last bid. Starting a round and closing read
        the seats from the database: this batch's go first."""
        if not is_due(auction, now):
            return
        was = auction.status
        self.flush_seats()
        if advance_locked(auction, now, self.batch, self.room) and was == Auction.Status.SCHEDULED:
            self.seats.update(self.load_seats({auction.pk}))  # admitted just now

    def seat_for(
        self, auction: Auction, request: BidRequest, now: dt.datetime
    ) -> AuctionParticipant | None:
        """The bidder's seat: the one it has, or one its bid gives it (a sealed initial bid before
        a rounds auction, a first bid in a land listing)."""
        organization = request.actor.organization
        if organization is None:
            return None
        seat = self.seats.get((auction.pk, organization.pk))
        if seat is None and request.actor.role == Role.SUPPLIER and not self.barred(request):
            seat = seat_for_initial_bid(auction, organization, now) or seat_on_first_bid(
                auction, organization, now
            )
            if seat is not None:
                self.seats[(auction.pk, organization.pk)] = seat
        return seat

    def judge_new(
        self, auction: Auction, seat: AuctionParticipant, request: BidRequest, now: dt.datetime
    ) -> BidAnswer:
        price = R.parse_price(request.price_text)
        refusal = judge(Attempt(auction, seat, price, now, self.barred(request)))
        bid = self.store(auction, seat, request, price, refusal, now)
        if refusal is not None:
            auction.rejected_count += 1
            self.batch.audit.append(
                rejection(request.actor, auction, request, refusal.code, participant=seat.pk)
            )
            return answer_of(bid)
        assert price is not None  # every case accepting a bid has read its price
        self.touched[seat.pk] = seat
        if auction.status == Auction.Status.SCHEDULED:
            return self.seal_initial(auction, seat, bid, request, price, now)
        return self.accept(auction, seat, bid, request, price, now)

    def store(
        self,
        auction: Auction,
        seat: AuctionParticipant,
        request: BidRequest,
        price: Decimal | None,
        refusal: R.Refusal | None,
        now: dt.datetime,
    ) -> AuctionBid:
        """The bid's row (every attempt with a seat is kept, with its key and answer)."""
        bid = AuctionBid(
            auction=auction,
            participant=seat,
            key=request.key,
            price=price,
            price_text=request.price_text[:40],
            decided_at=now,
            accepted=refusal is None,
            code=refusal.code if refusal else "",
            ip=request.actor.ip,
        )
        self.answered[(auction.pk, seat.pk, request.key)] = bid
        self.new_bids.append(bid)
        return bid

    def seal_initial(
        self,
        auction: Auction,
        seat: AuctionParticipant,
        bid: AuctionBid,
        request: BidRequest,
        price: Decimal,
        now: dt.datetime,
    ) -> BidAnswer:
        """Rounds format, before the start: the price is sealed to the project key on the seat;
        the bid's row keeps no price."""
        sealed = seal_price(auction, price)
        seat.sealed_initial, seat.initial_at = sealed, now
        bid.price, bid.price_text = None, SEALED
        payload = {
            "key": request.key,
            "participant": seat.pk,
            "sealed_sha256": sha256_hex(sealed),
        }
        self.batch.audit.append((request.actor, "bidding.auction.initial_bid", auction, payload))
        return answer_of(bid)

    def accept(
        self,
        auction: Auction,
        seat: AuctionParticipant,
        bid: AuctionBid,
        request: BidRequest,
        price: Decimal,
        now: dt.datetime,
    ) -> BidAnswer:
        """The seat's new price, maybe the room's best; the end moves in the anti-sniping window;
        the maximum price closes the price bidding."""
        seat.price, seat.price_at = price, now
        auction.accepted_count += 1
        if (
            auction.best_price is None
            or R.improvement(auction.direction, auction.best_price, price) > 0
        ):
            auction.best_price, auction.best_participant, auction.best_at = price, seat, now
        new_end = R.extended_end(auction, now)
        organization = request.actor.organization
        assert organization is not None  # a seat is an organization's
        event = self.batch.emit(
            auction,
            "bid",
            now,
            {
                "alias": seat.alias,
                "price": str(price),
                "organization": org_ref(organization.pk, {organization.pk: organization.name}),
                "ends_at": iso(new_end or auction.ends_at),
            },
        )
        bid.seq = event["seq"]
        payload = {"key": request.key, "participant": seat.pk, "price": price, "seq": bid.seq}
        if new_end is not None:
            payload |= self.extend(auction, new_end, bid.seq, now)
        answer = answer_of(bid, auction.ends_at)
        self.batch.audit.append((request.actor, "bidding.auction.bid_accepted", auction, payload))
        if R.reaches_cap(auction, price):
            self.close_at_cap(auction, now)
        return answer

    def extend(
        self, auction: Auction, new_end: dt.datetime, trigger_seq: int, now: dt.datetime
    ) -> dict[str, Any]:
        """Anti-sniping: move the end; returns what the bid's audit entry adds."""
        old_end = auction.ends_at
        auction.ends_at = new_end
        auction.extensions_used += 1
        self.moved_ends.add(auction.pk)
        self.batch.emit(
            auction,
            "extended",
            now,
            {
                "ends_at": iso(new_end),
                "extensions_used": auction.extensions_used,
                "trigger_seq": trigger_seq,
            },
        )
        return {"extended_from": old_end, "extended_to": new_end}

    def close_at_cap(self, auction: Auction, now: dt.datetime) -> None:
        """最高限价 reached: price bidding stops now; the phase's close hook runs the cap mode."""
        auction.capped_at = now
        self.flush_seats()
        close_locked(auction, now, self.batch, self.room)

    # --- writing ---

    def flush_seats(self) -> None:
        """Write the seats this batch changed so far: prices, or sealed initial bids."""
        priced = [s for s in self.touched.values() if not (s.alias == "" and s.sealed_initial)]
        for seat in self.touched.values():
            if seat not in priced:  # a sealed initial bid (rounds format, before the start)
                write_sealed_initial(seat)
        write_seat_prices(priced)
        self.touched.clear()

    def write(self) -> None:
        """The batch's writes and its audit chain go to PostgreSQL together (lib/batchwrite.py): two
        round trips instead of eight. Nothing in the pipeline may write through the ORM, so
        auctions that started, moved to a round or closed are saved after it."""
        auctions = list(self.auctions.values())
        with batchwrite.pipeline():
            batchwrite.insert(self.new_bids)
            self.flush_seats()
            self.batch.finish(auctions)
            changed = save_bid_fields_of_unchanged(auctions, self.loaded)
        for auction in changed:
            auction.save(update_fields=AUCTION_FIELDS)
        shared_ip_signals(self.auctions, self.new_bids)
        for auction_id in self.moved_ends:
            schedule(CLOSE_STEP, auction_id, self.auctions[auction_id].ends_at)
            self.tell_extension(self.auctions[auction_id])

    def tell_extension(self, auction: Auction) -> None:
        """Once per batch and auction whose end moved (never per bid): the new end, in-app. A land
        listing's live bidding restarts its countdown on every bid by design: no notice for that."""
        if auction.phase != Auction.Phase.MAIN or auction.status != Auction.Status.LIVE:
            return
        notices.tell_room(
            "auction.extended",
            auction,
            f"auction.extended:{auction.pk}:{auction.extensions_used}",
            params={"end": moment_text(auction.ends_at)},
        )


def _lock_auctions(ids: set[int]) -> dict[int, Auction]:
    """Locks in id order: batches from several processes never deadlock on each other."""
    return {
        a.pk: a
        for a in Auction.objects.select_for_update()
        .select_related("lot")
        .filter(pk__in=sorted(ids))
        .order_by("pk")
    }


def _answered_keys(requests: list[BidRequest]) -> dict[tuple[int, int, str], AuctionBid]:
    """The batch's keys already answered: (auction, seat, key) → the stored bid."""
    return {
        (b.auction_id, b.participant_id, b.key): b
        for b in AuctionBid.objects.filter(
            auction_id__in=sorted({r.auction_id for r in requests}),
            key__in={r.key for r in requests if malformed(r) is None},
        )
    }


def gate_codes(requests: list[BidRequest], now: dt.datetime) -> dict[int, str | None]:
    """The integrity gate (`ensure_may_trade`) for every organization bidding in the batch, read
    fresh at the batch's decision time: a supplier barred (or deactivated) while admitted to a live
    room is refused from its next bid on. Organization id → the gate's code, or None.

    Two queries per batch, not one per bidder: the gate itself judges only the organizations that
    are deactivated, not approved or have a bar in force today; every other one passes it by
    definition."""
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
        codes[pk] = None
        if organization.is_active and organization.approved_at is not None and pk not in with_bars:
            continue
        try:
            ensure_may_trade(organization, now)
        except DomainError as refusal:
            codes[pk] = refusal.code
    return codes


def disabled_users(requests: list[BidRequest]) -> set[int]:
    """The batch's bidders whose account is disabled now. The actor was read when its socket
    opened; a user disabled since (accounts.members) must not go on bidding through it."""
    ids = {r.actor.user.pk for r in requests if r.actor.user is not None}
    return set(User.objects.filter(pk__in=ids, is_active=False).values_list("pk", flat=True))


def without_bidding_role(requests: list[BidRequest]) -> set[int]:
    """The batch's supplier users who are neither bid operators nor administrators of their
    organization (accounts.services.require_org_role, read per batch: a role taken away during the
    room counts from the next bid)."""
    ids = {
        r.actor.user.pk
        for r in requests
        if r.actor.user is not None and r.actor.role == Role.SUPPLIER and r.actor.organization
    }
    allowed = OrgRoleGrant.objects.filter(
        user_id__in=ids, role__in=(OrgRole.BID_OPERATOR, OrgRole.ADMIN)
    ).values_list("user_id", flat=True)
    return ids - set(allowed)


def repeated(prior: AuctionBid, request: BidRequest, auction: Auction) -> BidAnswer:
    """A key already answered: the stored answer for the same price, else KEY_REUSED. A sealed
    initial bid keeps no price to compare with: its stored answer stands."""
    if prior.price_text in (request.price_text, SEALED):
        return answer_of(prior, auction.ends_at)
    return BidAnswer(request.key, False, "KEY_REUSED")


def answer_of(bid: AuctionBid, ends_at: dt.datetime | None = None) -> BidAnswer:
    return BidAnswer(
        key=bid.key,
        accepted=bid.accepted,
        code=bid.code,
        seq=bid.seq,
        price=str(bid.price) if bid.price is not None else None,
        at=iso(bid.decided_at),
        ends_at=iso(ends_at),
    )


def rejection(
    actor: Actor, auction: Auction, request: BidRequest, code: str, **more: Any
) -> AuditEntry:
    """The audit entry of a refused bid. Its key and price are the client's bytes: the chain keeps
    them bounded (`lib.text.bounded`: as sent when short and clean, else an excerpt, the length and
    the SHA-256), so a megabyte price string costs the chain a few hundred bytes."""
    payload = {"key": bounded(request.key), "price": bounded(request.price_text), **more}
    return (actor, "bidding.auction.bid_rejected", auction, {**payload, "code": code})


def seat_for_initial_bid(
    auction: Auction, organization: Organization, now: dt.datetime
) -> AuctionParticipant | None:
    """Rounds format, before the start: an eligible bidder's seat for its sealed initial bid."""
    if auction.format != Auction.Format.ROUNDS or auction.status != Auction.Status.SCHEDULED:
        return None
    if eligibility(auction.lot, organization, now) is not None:
        return None
    return AuctionParticipant.objects.get_or_create(auction=auction, organization=organization)[0]


def seat_on_first_bid(
    auction: Auction, organization: Organization, now: dt.datetime
) -> AuctionParticipant | None:
    """Land listing: an eligible bidder joins the room with its first bid, under the next alias."""
    if not auction.admit_on_bid or auction.status != Auction.Status.LIVE:
        return None
    if eligibility(auction.lot, organization, now) is not None:
        return None
    taken = auction.participants.exclude(alias="").count()
    return AuctionParticipant.objects.create(
        auction=auction, organization=organization, alias=alias(taken), admitted_at=now
    )


def seal_price(auction: Auction, price: Decimal) -> bytes:
    return crypto.seal_to(project_public_key(auction.lot.project), str(price).encode())
