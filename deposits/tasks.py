"""Clock steps of the deposits app."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from audit.alerts import raise_alert
from audit.models import Alert
from clock.registry import step
from deposits.models import Refund
from deposits.services import project_of_refund


@step("deposits.refund_overdue")
def alert_if_refund_overdue(object_id: str) -> None:
    """At a refund's due time: if the bank has not confirmed it paid, supervisors are alerted."""
    with transaction.atomic():
        refund = (
            Refund.objects.select_for_update(of=("self",))
            .select_related("deposit__lot__project")
            .filter(pk=int(object_id))
            .first()
        )
        if refund is None or refund.status in (Refund.Status.PAID, Refund.Status.CANCELLED):
            return
        if refund.due_at > timezone.now():  # rescheduled later meanwhile
            return
        raise_alert(
            Actor.system("clock"),
            Alert.Kind.REFUND_OVERDUE,
            summary=f"退款 {refund.pk}（{refund.payee_name} {refund.total} {refund.currency}）已逾期未到账",
            details={"refund": refund.pk, "due_at": refund.due_at, "status": refund.status},
            project_id=project_of_refund(refund),
            target=refund,
        )
