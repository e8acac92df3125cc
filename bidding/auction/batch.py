"""What one engine transaction produces, and how it is written.

A `Batch` collects what a transaction decided — room events per auction (numbered under the auction's
lock), the audit entries in order, the auctions whose close prints the closing audit hash — and
writes it at the end (`finish`). It publishes nothing: the engine returns `room_events()` to its
caller, which hands them on after commit (`broadcast.py`).

The writes of a bid batch whose answers nobody reads go through `lib/batchwrite.py` (one pipeline on
PostgreSQL): the room events, the seats' prices and the auctions' bid fields.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from accounts.models import Organization
from audit.models import AuditEvent
from audit.services import AuditEntry, record_many
from bidding.auction.broadcast import Event, RoomEvents
from bidding.models import Auction, AuctionEvent, AuctionParticipant
from lib import batchwrite


def iso(value: dt.datetime | None) -> str | None:
    """A time as every room event, state frame and land read writes it: UTC, microseconds."""
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds") if value else None


def org_ref(org_id: int, names: dict[int, str]) -> dict[str, Any]:
    """An organization as an identified view sees it in the room."""
    return {"id": org_id, "name": names.get(org_id, "")}


@dataclass
class Batch:
    """What one transaction produced: room events per auction (returned to the caller, which
    publishes them after commit), audit entries (written in order, at the latest at the end), and
    auctions whose close needs the closing audit hash."""

    events: defaultdict[int, list[Event]] = field(default_factory=lambda: defaultdict(list))
    rows: list[AuctionEvent] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    written: list[AuditEvent] = field(default_factory=list)
    closing: dict[int, int] = field(default_factory=dict)  # auction id → index in written + audit
    names: dict[int, str] = field(default_factory=dict)

    def emit(self, auction: Auction, kind: str, at: dt.datetime, data: dict[str, Any]) -> Event:
        """Number the auction's next room event and keep it for writing and returning."""
        auction.seq += 1
        event = {"type": kind, "seq": auction.seq, "at": iso(at), **data}
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

    def room_events(self) -> RoomEvents:
        """The events decided, per auction: what the caller publishes once it has committed."""
        return {auction_id: list(events) for auction_id, events in self.events.items() if events}


# --- Writing the auctions and seats a batch changed --------------------------------------------------

AUCTION_FIELDS = [
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
# close) writes them all in one statement (`save_bid_fields`).
BID_FIELDS = {
    "seq": "bigint",
    "best_price": "numeric",
    "best_participant": "bigint",
    "best_at": "timestamptz",
    "accepted_count": "integer",
    "rejected_count": "integer",
    "ends_at": "timestamptz",
    "extensions_used": "integer",
}
OTHER_FIELDS = [f for f in AUCTION_FIELDS if f not in BID_FIELDS]


def other_values(auction: Auction) -> list[Any]:
    """The auction's fields a bid never changes, to tell later whether a start or close did."""
    return [getattr(auction, f) for f in OTHER_FIELDS]


def save_bid_fields_of_unchanged(
    auctions: list[Auction], loaded: dict[int, list[Any]]
) -> list[Auction]:
    """Write the bid fields of the batch's auctions whose other fields did not change since they
    were locked (`loaded`: each one's `other_values` then); return the others, to save whole."""
    changed = [a for a in auctions if other_values(a) != loaded[a.pk]]
    save_bid_fields([a for a in auctions if a not in changed])
    return changed


def save_bid_fields(auctions: list[Auction]) -> None:
    """The bid fields of many auctions: one UPDATE … FROM VALUES on PostgreSQL, one save each
    elsewhere. One UPDATE per auction was 40 % of a 50-auction batch (bench/auction_engine.py)."""
    if not auctions:
        return
    if connection.vendor != "postgresql":
        for auction in auctions:
            auction.save(update_fields=list(BID_FIELDS))
        return
    column_of = {f.name: f.column for f in Auction._meta.concrete_fields if f.column}
    columns = [column_of[f] for f in BID_FIELDS]
    row = "(%s::bigint, " + ", ".join(f"%s::{kind}" for kind in BID_FIELDS.values()) + ")"
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


def write_seat_prices(seats: list[AuctionParticipant]) -> None:
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


def write_sealed_initial(seat: AuctionParticipant) -> None:
    """A rounds-format seat's sealed initial bid and when it arrived (before the start)."""
    batchwrite.execute(
        f"UPDATE {AuctionParticipant._meta.db_table} "  # noqa: S608 (the model's table)
        "SET sealed_initial = %s, initial_at = %s WHERE id = %s",
        [seat.sealed_initial, seat.initial_at, seat.pk],
    )
