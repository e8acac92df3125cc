"""Raising and handling supervisor alerts. Raising writes an audit event in the caller's transaction."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.actors import Actor
from accounts.permissions import require_perm
from audit.models import Alert
from audit.services import object_ref, record
from lib.canonical import canonical_value
from lib.errors import Conflict, DomainError


def raise_alert(
    actor: Actor,
    kind: str,
    *,
    summary: str,
    details: dict[str, Any] | None = None,
    project_id: int | None,
    target: models.Model | tuple[str, str] | None = None,
) -> Alert:
    """Record an alert inside the caller's transaction (so it exists exactly if the cause committed).

    `project_id` has no default: every caller says which project the alert is about (supervisors
    filter and read alerts by project), or passes None where nothing trustworthy names one.

    For a refusal that changes nothing else, the caller commits the alert in a transaction of its own.
    """
    object_type, object_id = object_ref(target)
    alert = Alert.objects.create(
        kind=kind,
        summary=str(summary)[:300],
        details=canonical_value(details or {}),
        project_id=project_id,
        object_type=object_type,
        object_id=object_id,
        raised_at=timezone.now(),
    )
    record(
        actor,
        "audit.alert.raised",
        alert,
        {"kind": kind, "summary": alert.summary, "project": project_id},
    )
    return alert


def handle_alert(actor: Actor, alert: Alert, *, note: str) -> Alert:
    require_perm(actor, "audit.handle_alert", alert)
    if not (note or "").strip():
        raise DomainError(_("请填写处理意见。"), code="NOTE_REQUIRED")
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.handled_at is not None:
            raise Conflict(_("该预警已处理。"), code="ALREADY_HANDLED")
        locked.handled_at = timezone.now()
        locked.handled_by = actor.user
        locked.note = note.strip()
        locked.save(update_fields=["handled_at", "handled_by", "note"])
        record(actor, "audit.alert.handled", locked, {"note": locked.note})
    return locked
