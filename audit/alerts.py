"""Raising supervisor alerts: an alert and its audit event in the caller's transaction. Handling one is
the supervisors' (`supervision.alerts.handle_alert`)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from audit.models import Alert
from audit.services import AuditActor, object_ref, record
from audit.signals import alert_raised
from lib.canonical import canonical_value


def raise_alert(
    actor: AuditActor,
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
    event = record(
        actor,
        "audit.alert.raised",
        alert,
        {"kind": kind, "summary": alert.summary, "project": project_id},
    )
    # Supervisors (and, for the center's custody, its staff) are told: notifications/receivers.py.
    alert_raised.send(sender=Alert, alert=alert, event=event)
    return alert
