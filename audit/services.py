"""Appending to and verifying the audit chain.

Canonical form of an event, hashed with SHA-256:

    json.dumps({"seq", "at", "actor_id", "actor", "role", "organization_id", "ip", "action",
                "object_type", "object_id", "payload", "prev_hash"},
               sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

`at` is UTC ISO-8601 with microseconds. Payloads hold only JSON strings, integers, booleans, null, lists
and objects: money and times are written as strings, and floats are refused (they do not round-trip
exactly, and money must never be a float anyway).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.actors import Actor
from audit.models import GENESIS_HASH, AuditEvent, ChainHead, Checkpoint
from lib import batchwrite
from lib.edge import MAX_ID
from lib.errors import DomainError


def normalize_payload(value: Any) -> Any:
    """The JSON value that will be stored and hashed, so what is hashed is exactly what is read back."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        raise TypeError("audit payloads may not hold floats; write money and measures as strings")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            raise TypeError("audit payloads may not hold naive datetimes")
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Promise):
        return str(value)
    if isinstance(value, dict):
        return {str(key): normalize_payload(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normalize_payload(item) for item in value]
    raise TypeError(f"cannot write {type(value).__name__} into an audit payload")


def canonical_bytes(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


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
    return hashlib.sha256(canonical_bytes(_hashed_fields(**fields))).hexdigest()


def object_ref(target: models.Model | tuple[str, str] | None) -> tuple[str, str]:
    if target is None:
        return "", ""
    if isinstance(target, tuple):
        return target
    return target._meta.label_lower, str(target.pk)


def record(
    actor: Actor,
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


AuditEntry = tuple[Actor, str, models.Model | tuple[str, str] | None, dict[str, Any] | None]


_HEAD_TABLE = ChainHead._meta.db_table


def record_many(entries: list[AuditEntry]) -> list[AuditEvent]:
    """Append several events in order with one head lock and one insert: what a service deciding a
    batch of bids in one transaction writes (the chain is the same as from as many `record` calls)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the service's transaction.atomic() block")
    if not entries:
        return []
    prepared = [
        (actor, action, *object_ref(target), normalize_payload(payload or {}))
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


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""

    def summary(self) -> str:
        if self.ok:
            return f"audit chain OK: {self.events} events, head seq={self.head_seq} hash={self.head_hash}"
        return f"audit chain BROKEN at seq {self.first_bad_seq}: {self.problem}"


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


def _rows() -> Iterator[dict[str, Any]]:
    # values() bypasses model instances: fast, and it reads exactly what the database holds.
    return AuditEvent.objects.order_by("seq").values(*VERIFY_FIELDS).iterator(chunk_size=5000)


def verify_chain(rows: Iterable[dict[str, Any]] | None = None) -> ChainReport:
    """Recompute the whole chain. Catches edited, deleted, inserted and reordered events.

    - an edited row no longer matches its own hash;
    - a deleted row leaves a gap in `seq` (or, at the end, disagrees with the chain head);
    - an inserted or moved row breaks the `prev_hash` link of the row after it, or its own hash, since
      `seq` and `prev_hash` are inside the hashed content;
    - a chain rewritten from some point on, hashes and all, disagrees with an earlier checkpoint.
    """
    checkpoints = dict(Checkpoint.objects.filter(ok=True).values_list("seq", "hash"))
    expected_seq = 1
    prev_hash = GENESIS_HASH
    count = 0

    def broken(seq: int, problem: str) -> ChainReport:
        return ChainReport(False, count, expected_seq - 1, prev_hash, seq, problem)

    for row in rows if rows is not None else _rows():
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
        if seq in checkpoints and checkpoints[seq] != row["hash"]:
            return broken(seq, "hash differs from a verified checkpoint (chain rewritten)")
        prev_hash = row["hash"]
        count += 1
        expected_seq += 1

    last_seq = expected_seq - 1
    if rows is None:
        head = ChainHead.objects.filter(pk=1).values_list("seq", "hash").first()
        if head is None or tuple(head) != (last_seq, prev_hash):
            recorded = f"seq {head[0]}" if head else "nothing (head row missing)"
            return ChainReport(
                False,
                count,
                last_seq,
                prev_hash,
                last_seq + 1,
                f"chain head records {recorded} but the last event is seq {last_seq} "
                "(events removed from the end, or the head tampered with)",
            )
    return ChainReport(True, count, last_seq, prev_hash)


def record_checkpoint() -> Checkpoint:
    """Verify the chain and keep the result (the clock runs this periodically)."""
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


# --- Searching ------------------------------------------------------------------------------------

BEIJING = ZoneInfo("Asia/Shanghai")


def _moment(value: str) -> dt.datetime:
    try:
        moment = parse_datetime(value)
    except ValueError:  # well formed but no such time: 2026-13-45T00:00
        moment = None
    if moment is None:
        raise DomainError(_("时间格式无效：%(value)s"), code="INVALID_TIME", value=value)
    # A time without an offset (a browser's datetime-local field) is Beijing time.
    return timezone.make_aware(moment, BEIJING) if timezone.is_naive(moment) else moment


def _after_seq(params: Mapping[str, Any]) -> int:
    value = params.get("after_seq", "0")
    if not (isinstance(value, str) and value.isascii() and value.isdigit()):
        raise DomainError(_("after_seq 必须是非负整数。"), code="INVALID_PARAMETER")
    return int(value)


def _before_seq(params: Mapping[str, Any]) -> int | None:
    value = params.get("before_seq")
    if not value:
        return None
    if not (isinstance(value, str) and value.isascii() and value.isdigit()):
        raise DomainError(_("before_seq 必须是非负整数。"), code="INVALID_PARAMETER")
    return int(value)


def search_events(params: Mapping[str, Any]) -> models.QuerySet[AuditEvent]:
    """The audit events matching `params`, oldest first — one rule for the API (`/api/v1/audit/events/`)
    and the supervisors' search page. Empty values are ignored.

    - `action`, `object_type`, `object_id`: exact;
    - `actor`: the acting user's recorded name (or `role:process` for the platform);
    - `organization`: the acting organization's id;
    - `project`: a project number — the events about it and about every row that belongs to it;
    - `since` (inclusive) / `until` (exclusive): ISO-8601; a time without an offset is Beijing time;
    - `after_seq` (default 0) / `before_seq`: sequence bounds, for paging.

    Raises DomainError (400) for a malformed value and for an unknown project number.
    """
    qs = AuditEvent.objects.order_by("seq")
    for field in ("action", "object_type", "object_id"):
        if params.get(field):
            qs = qs.filter(**{field: params[field]})
    if params.get("actor"):
        qs = qs.filter(actor_name=params["actor"])
    if params.get("organization"):
        organization = str(params["organization"])
        # An id: ASCII digits that fit a bigint (a larger number would overflow the query).
        if not (organization.isascii() and organization.isdigit() and int(organization) <= MAX_ID):
            raise DomainError(_("organization 必须是机构编号。"), code="INVALID_PARAMETER")
        qs = qs.filter(organization_id=int(organization))
    if params.get("project"):
        from audit.evidence import project_filter
        from trading.models import Project

        project = Project.objects.filter(number=params["project"]).first()
        if project is None:
            raise DomainError(_("没有该项目。"), code="UNKNOWN_PROJECT")
        qs = qs.filter(project_filter(project))
    for name, lookup in (("since", "at__gte"), ("until", "at__lt")):
        if params.get(name):
            qs = qs.filter(**{lookup: _moment(params[name])})
    qs = qs.filter(seq__gt=_after_seq(params))
    before = _before_seq(params)
    if before is not None:
        qs = qs.filter(seq__lt=before)
    return qs
