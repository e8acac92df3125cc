"""Appending to and verifying the audit chain.

Canonical form of an event, hashed with SHA-256:

    lib.canonical.canonical_sha256({"seq", "at", "actor_id", "actor", "role", "organization_id", "ip",
                                    "action", "object_type", "object_id", "payload", "prev_hash"})

(sorted keys, no spaces, UTF-8: see `lib/canonical.py`).
`at` is UTC ISO-8601 with microseconds. Payloads hold only JSON strings, integers, booleans, null, lists
and objects: money and times are written as strings, and floats are refused (they do not round-trip
exactly, and money must never be a float anyway).
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Protocol

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import GENESIS_HASH, AuditEvent, ChainHead, Checkpoint
from lib import batchwrite
from lib.canonical import canonical_sha256, canonical_value
from lib.errors import DomainError
from lib.text import bounded, unsafe_char


class _Row(Protocol):
    @property
    def pk(self) -> Any: ...


class AuditActor(Protocol):
    """Who acted, as the chain records it. `accounts.actors.Actor` is the one every service passes; the
    chain names only what it reads, so it imports no app above it (docs/architecture.md, "Dependency
    order")."""

    @property
    def user(self) -> _Row | None: ...

    @property
    def organization(self) -> _Row | None: ...

    @property
    def role(self) -> str: ...

    @property
    def ip(self) -> str | None: ...

    @property
    def label(self) -> str: ...


def _hashed_fields(
    *,
    seq: int,
    at: dt.datetime,
    actor_id: int | None,
    actor_name: str,
    role: str,
    organization_id: int | None,
    ip: str,
    action: str,
    object_type: str,
    object_id: str,
    payload: Any,
    prev_hash: str,
) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor": actor_name,
        "role": role,
        "organization_id": organization_id,
        "ip": ip,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "payload": payload,
        "prev_hash": prev_hash,
    }


def event_hash(**fields: Any) -> str:
    return canonical_sha256(_hashed_fields(**fields))


def object_ref(target: models.Model | tuple[str, str] | None) -> tuple[str, str]:
    if target is None:
        return "", ""
    if isinstance(target, tuple):
        return target
    return target._meta.label_lower, str(target.pk)


def record(
    actor: AuditActor,
    action: str,
    target: models.Model | tuple[str, str] | None = None,
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction.

    Must run inside `transaction.atomic()`: the event commits or rolls back with the change it
    describes. Call it after the service has taken its own row locks — the chain head is locked until
    commit, so taking it last keeps the time every writer waits on it short and the lock order fixed.
    """
    return record_many([(actor, action, target, payload)])[0]


AuditEntry = tuple[AuditActor, str, models.Model | tuple[str, str] | None, dict[str, Any] | None]


_HEAD_TABLE = ChainHead._meta.db_table

# The longest string a payload keeps whole. Services write their own values (ids, codes, hashes,
# reasons); a longer string is somebody's input that a caller passed on unbounded.
MAX_PAYLOAD_TEXT = 4096


def bound_payload(value: Any) -> Any:
    """A normalized payload whose every string can be stored and is of bounded size.

    The chain is append-only: what enters it stays for twenty years, and a string PostgreSQL cannot
    store (NUL, a lone surrogate) would fail the caller's whole transaction — in a bid batch, every
    other bidder's. So at the root, for every caller: a string with an unsafe character or longer
    than `MAX_PAYLOAD_TEXT` is kept as `lib.text.bounded` keeps untrusted input ({excerpt, length,
    sha256}), and so is a dict key (as one string). Callers that store client input bound it to the
    short excerpt themselves (`bounded(...)`); this is the net under all of them. Applied before
    hashing, so the hash covers exactly what is stored and `verify_chain` recomputes it unchanged.
    """
    if isinstance(value, str):
        if len(value) > MAX_PAYLOAD_TEXT or unsafe_char(value) is not None:
            return bounded(value)
        return value
    if isinstance(value, dict):
        return {_bound_key(key): bound_payload(item) for key, item in value.items()}
    if isinstance(value, list):
        return [bound_payload(item) for item in value]
    return value


def _bound_key(key: str) -> str:
    if len(key) <= MAX_PAYLOAD_TEXT and unsafe_char(key) is None:
        return key
    kept = bounded(key)
    return f"{kept['excerpt']}…(length {kept['length']}, sha256 {kept['sha256']})"


def record_many(entries: list[AuditEntry]) -> list[AuditEvent]:
    """Append several events in order with one head lock and one insert: what a service deciding a
    batch of bids in one transaction writes (the chain is the same as from as many `record` calls)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the service's transaction.atomic() block")
    if not entries:
        return []
    prepared = [
        (actor, action, *object_ref(target), bound_payload(canonical_value(payload or {})))
        for actor, action, target, payload in entries
    ]
    # SQLite has no FOR UPDATE: its IMMEDIATE transactions already hold the database's write lock.
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    head = batchwrite.fetchone(
        f"SELECT seq, hash FROM {_HEAD_TABLE} WHERE id = 1{lock}"  # noqa: S608 (model's table)
    )
    if head is None:
        raise RuntimeError("the audit chain head is missing: run migrate, or repair the chain")
    seq, prev_hash = head
    events = []
    for actor, action, object_type, object_id, clean_payload in prepared:
        seq += 1
        fields = {
            "seq": seq,
            "at": timezone.now(),
            "actor_id": actor.user.pk if actor.user is not None else None,
            "actor_name": actor.label,
            "role": actor.role,
            "organization_id": actor.organization.pk if actor.organization is not None else None,
            "ip": actor.ip or "",
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "payload": clean_payload,
            "prev_hash": prev_hash,
        }
        digest = event_hash(**fields)
        events.append(AuditEvent(**fields, hash=digest))
        prev_hash = digest
    # The queryset refuses bulk_create to everyone else; this is the one place that may append.
    # Through batchwrite: inside a bid batch's pipeline, the insert and the head's update travel with
    # the batch's other writes. The events' primary keys are not read back: `seq` identifies them.
    batchwrite.insert(events)
    batchwrite.execute(
        f"UPDATE {_HEAD_TABLE} SET seq = %s, hash = %s WHERE id = 1",  # noqa: S608 (model's table)
        [seq, prev_hash],
    )
    return events


def ensure_chain_head(sender: Any = None, **kwargs: Any) -> None:
    """Create the chain head of an empty chain (after migrate, or after a test flush emptied it).

    A missing head while events exist is left alone: appending would fork the chain, so `record` refuses
    and `verify_audit` reports it.
    """
    if not ChainHead.objects.filter(pk=1).exists() and not AuditEvent.objects.exists():
        ChainHead.objects.bulk_create([ChainHead(pk=1)], ignore_conflicts=True)


# --- Verification ---------------------------------------------------------------------------------

# Events (and checkpoints) read per query: memory stays flat however long the chain grows.
VERIFY_CHUNK = 2000


@contextmanager
def chain_snapshot() -> Iterator[bool]:
    """Read the chain (head, events, checkpoints) as of one moment; yields whether the reads inside
    really share one snapshot.

    The head moves with every appended event, so a head and events read at different moments disagree
    while the platform is busy — which must never look like tampering.

    - PostgreSQL: a REPEATABLE READ, READ ONLY transaction: one snapshot, no locks, writers go on.
    - SQLite: a deferred read transaction. Under WAL (settings) its first read fixes a snapshot that
      later commits do not disturb, and it takes no write lock (Django's own transactions here are
      IMMEDIATE: they would hold the write lock, and stop every writer, for the whole read).
    - Inside a caller's transaction, the caller's isolation: SQLite's IMMEDIATE transaction already
      keeps writers out; PostgreSQL's default READ COMMITTED gives each statement its own snapshot, and
      then the readers here read the head first and only what it covers (see `verify_chain`).
    """
    if connection.in_atomic_block or not connection.get_autocommit():
        yield _caller_transaction_is_one_snapshot()
        return
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield True
        return
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        sqlite = connection.connection
        sqlite.execute("BEGIN DEFERRED")
        try:
            yield True
        finally:
            if sqlite.in_transaction:
                sqlite.execute("ROLLBACK")  # it only read: nothing to keep
        return
    yield False


def _caller_transaction_is_one_snapshot() -> bool:
    if connection.vendor == "sqlite":
        return True  # BEGIN IMMEDIATE holds the write lock: nobody else commits meanwhile
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW transaction_isolation")
            return cursor.fetchone()[0] in ("repeatable read", "serializable")
    return False


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""
    checkpoints: int = 0  # stored checkpoints found equal to the recomputed chain
    expected: int = 0  # heads kept by someone (`--expect-head`) found in the chain
    uncovered: int = 0  # events appended after the head was read (reads not one snapshot): next run

    def summary(self) -> str:
        if not self.ok:
            return f"audit chain BROKEN at seq {self.first_bad_seq}: {self.problem}"
        text = (
            f"audit chain OK: {self.events} events, head seq={self.head_seq} hash={self.head_hash}"
        )
        text += f"; {self.checkpoints} checkpoint(s) match"
        if self.expected:
            text += f"; {self.expected} expected head(s) match"
        if self.uncovered:
            text += f"; {self.uncovered} event(s) appended meanwhile are left for the next run"
        return text


def row_hash(row: dict[str, Any]) -> str:
    """The hash an event row should carry, recomputed from its stored fields (`VERIFY_FIELDS`; `at`
    as a datetime or its ISO text) — what `verify_chain` and offline evidence checks compare."""
    at = row["at"]
    return event_hash(
        seq=row["seq"],
        at=dt.datetime.fromisoformat(at) if isinstance(at, str) else at,
        actor_id=row["actor_id"],
        actor_name=row["actor_name"],
        role=row["role"],
        organization_id=row["organization_id"],
        ip=row["ip"],
        action=row["action"],
        object_type=row["object_type"],
        object_id=row["object_id"],
        payload=row["payload"],
        prev_hash=row["prev_hash"],
    )


VERIFY_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_name",
    "role",
    "organization_id",
    "ip",
    "action",
    "object_type",
    "object_id",
    "payload",
    "prev_hash",
    "hash",
)


def _events_up_to(last_seq: int | None) -> Iterator[dict[str, Any]]:
    """Every event up to `last_seq` (None: all), in seq order, one bounded query at a time.

    Keyset pages rather than one cursor: the memory is the same on every backend and connection
    setup (a client-side cursor would load the whole chain), and inside `chain_snapshot` the pages
    read one snapshot. values() reads exactly what the database holds, without model instances."""
    after = 0
    while True:
        page = AuditEvent.objects.filter(seq__gt=after)
        if last_seq is not None:
            page = page.filter(seq__lte=last_seq)
        rows = list(page.order_by("seq").values(*VERIFY_FIELDS)[:VERIFY_CHUNK])
        yield from rows
        if len(rows) < VERIFY_CHUNK:
            return
        after = rows[-1]["seq"]


@dataclass(frozen=True)
class _KnownHash:
    """A (seq, hash) the chain must contain: a stored checkpoint, or a head someone kept."""

    seq: int
    hash: str
    source: str  # "checkpoint" or "expected"
    label: str


def _checkpoints_up_to(last_seq: int | None) -> Iterator[_KnownHash]:
    """Passed checkpoints up to `last_seq` (None: all), in seq order, a bounded page at a time."""
    after = (-1, 0)
    while True:
        seq, pk = after
        page = Checkpoint.objects.filter(ok=True).filter(
            models.Q(seq__gt=seq) | models.Q(seq=seq, pk__gt=pk)
        )
        if last_seq is not None:
            page = page.filter(seq__lte=last_seq)
        rows = list(
            page.order_by("seq", "pk").values_list("seq", "pk", "hash", "verified_at")[
                :VERIFY_CHUNK
            ]
        )
        for row_seq, _pk, digest, verified_at in rows:
            yield _KnownHash(
                row_seq,
                digest,
                "checkpoint",
                f"the checkpoint verified at {verified_at:%Y-%m-%d %H:%M:%S} UTC",
            )
        if len(rows) < VERIFY_CHUNK:
            return
        after = rows[-1][:2]


def verify_chain(expected_heads: Iterable[tuple[int, str]] = ()) -> ChainReport:
    """Recompute the chain as of one moment. Catches edited, deleted, inserted and reordered events, a
    removed tail, and a chain rewritten with recomputed hashes.

    - an edited row no longer matches its own hash;
    - a deleted row leaves a gap in `seq` (or, at the end, disagrees with the chain head);
    - an inserted or moved row breaks the `prev_hash` link of the row after it, or its own hash, since
      `seq` and `prev_hash` are inside the hashed content;
    - a chain rewritten from some point on, hashes and all, disagrees with a stored checkpoint;
    - a tail removed and the head moved back leaves a checkpoint (or the head someone kept,
      `expected_heads`) above the head.

    Read order matters when the reads are not one snapshot (`chain_snapshot`): the highest checkpoint
    first, then the head, then events and checkpoints up to the head only. A checkpoint never names a
    seq above the head of its time, and the head only moves forward with its events committed, so a
    writer racing this check can never make it fail; events appended meanwhile are counted as not yet
    covered. In one snapshot, an event above the head can only mean the head was moved back.
    """
    expected = sorted(set(expected_heads))
    with chain_snapshot() as one_snapshot:
        top = (
            Checkpoint.objects.filter(ok=True)
            .order_by("-seq")
            .values_list("seq", "verified_at")
            .first()
        )
        head = ChainHead.objects.filter(pk=1).values_list("seq", "hash").first()
        report = _walk(head, top, expected)
        if report.ok and head is not None:
            beyond = AuditEvent.objects.filter(seq__gt=head[0]).count()
            if beyond and one_snapshot:
                return ChainReport(
                    False,
                    report.events,
                    report.head_seq,
                    report.head_hash,
                    head[0] + 1,
                    f"{beyond} event(s) lie above the chain head seq {head[0]} (the head was moved back)",
                )
            report = replace(report, uncovered=beyond)
        return report


def _walk(
    head: tuple[int, str] | None,
    top_checkpoint: tuple[int, dt.datetime] | None,
    expected: list[tuple[int, str]],
) -> ChainReport:
    head_seq = head[0] if head is not None else None
    known = heapq.merge(
        _checkpoints_up_to(head_seq),
        (_KnownHash(seq, digest, "expected", "the expected head") for seq, digest in expected),
        key=lambda k: k.seq,
    )
    matched = {"checkpoint": 0, "expected": 0}
    expected_seq = 1
    prev_hash = GENESIS_HASH
    count = 0
    pending = next(known, None)

    def broken(seq: int, problem: str) -> ChainReport:
        return ChainReport(False, count, expected_seq - 1, prev_hash, seq, problem)

    def differs(seq: int, digest: str) -> ChainReport | None:
        nonlocal pending
        while pending is not None and pending.seq == seq:
            if pending.hash != digest:
                what = "chain rewritten" if pending.source == "checkpoint" else "history rewritten"
                return broken(seq, f"hash differs from {pending.label} ({what})")
            matched[pending.source] += 1
            pending = next(known, None)
        return None

    if (problem := differs(0, GENESIS_HASH)) is not None:
        return problem
    for row in _events_up_to(head_seq):
        seq = row["seq"]
        if seq != expected_seq:
            if seq > expected_seq:
                return broken(
                    expected_seq, f"event(s) missing: expected seq {expected_seq}, found {seq}"
                )
            return broken(seq, f"sequence out of order: expected {expected_seq}, found {seq}")
        if row["prev_hash"] != prev_hash:
            return broken(seq, "prev_hash does not link to the previous event")
        if row_hash(row) != row["hash"]:
            return broken(seq, "content does not match its hash (event edited)")
        if (problem := differs(seq, row["hash"])) is not None:
            return problem
        prev_hash = row["hash"]
        count += 1
        expected_seq += 1

    last_seq = expected_seq - 1
    if head is None or tuple(head) != (last_seq, prev_hash):
        recorded = f"seq {head[0]}" if head else "nothing (head row missing)"
        return broken(
            last_seq + 1,
            f"chain head records {recorded} but the last event is seq {last_seq} "
            "(events removed from the end, or the head tampered with)",
        )
    if top_checkpoint is not None and top_checkpoint[0] > last_seq:
        seq, verified_at = top_checkpoint
        return broken(
            last_seq + 1,
            f"the chain ends at seq {last_seq} but checkpoint seq {seq} was verified at "
            f"{verified_at:%Y-%m-%d %H:%M:%S} UTC (events removed from the end and the head moved back)",
        )
    if expected and expected[-1][0] > last_seq:
        return broken(
            last_seq + 1,
            f"the chain ends at seq {last_seq} but the expected head is seq {expected[-1][0]} "
            "(events removed from the end and the head moved back)",
        )
    return ChainReport(
        True,
        count,
        last_seq,
        prev_hash,
        checkpoints=matched["checkpoint"],
        expected=matched["expected"],
    )


def record_checkpoint() -> Checkpoint:
    """Verify the chain and keep the result (the clock runs this periodically). A passed checkpoint's
    (seq, hash) is a published head (`published_heads`): later verifications hold the chain to it."""
    report = verify_chain()
    return Checkpoint.objects.create(
        verified_at=timezone.now(),
        seq=report.head_seq,
        hash=report.head_hash,
        ok=report.ok,
        detail=report.summary(),
    )


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-verified_at").first()


@dataclass(frozen=True)
class ChainState:
    """What the pages show about the chain: its head now and its latest verification."""

    head_seq: int
    head_hash: str
    checkpoint: Checkpoint | None


def chain_state() -> ChainState:
    """The head and the latest verification, read together: in one snapshot, or else the checkpoint
    first, so a display never shows a verification above the head beside it."""
    with chain_snapshot():
        checkpoint = latest_checkpoint()
        head = ChainHead.objects.filter(pk=1).values_list("seq", "hash").first()
    seq, digest = head if head is not None else (0, "")
    return ChainState(seq, digest, checkpoint)


@dataclass(frozen=True)
class PublishedHead:
    seq: int
    hash: str
    verified_at: dt.datetime


PUBLISHED_PAGE = 100


def published_heads(
    *, before_seq: int | None = None, limit: int = PUBLISHED_PAGE
) -> list[PublishedHead]:
    """The head history, newest first: each (seq, hash) the clock verified, with when it first did.

    Anyone may keep these and later hold the platform to them (`verify_audit --expect-head SEQ:HASH`);
    they show nothing but sequence numbers, hashes and times."""
    rows = Checkpoint.objects.filter(ok=True)
    if before_seq is not None:
        rows = rows.filter(seq__lt=before_seq)
    grouped = (
        rows.values("seq", "hash")
        .annotate(first=models.Min("verified_at"))
        .order_by("-seq", "hash")
    )
    return [PublishedHead(r["seq"], r["hash"], r["first"]) for r in grouped[:limit]]


def parse_expected_head(value: str) -> tuple[int, str]:
    """`SEQ:HASH` as kept from the head history, or ValueError saying what is wrong with it."""
    seq, sep, digest = value.strip().partition(":")
    digest = digest.lower()
    if not (sep and seq.isascii() and seq.isdigit()):
        raise ValueError(f"{value!r}: expected SEQ:HASH, SEQ a non-negative integer")
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"{value!r}: HASH must be 64 hexadecimal characters (SHA-256)")
    return int(seq), digest


# --- Searching ------------------------------------------------------------------------------------


def before_seq_param(params: Mapping[str, Any]) -> int | None:
    """The optional `before_seq` paging bound (searches and the head history)."""
    value = params.get("before_seq")
    if not value:
        return None
    if not (isinstance(value, str) and value.isascii() and value.isdigit()):
        raise DomainError(_("before_seq 必须是非负整数。"), code="INVALID_PARAMETER")
    return int(value)
