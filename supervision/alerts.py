"""Handling a supervisor alert: the one write a supervisor makes (raising is `audit.alerts.raise_alert`)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.actors import Actor
from accounts.permissions import require_perm
from audit.models import Alert
from audit.services import record
from lib.errors import Conflict, DomainError


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
