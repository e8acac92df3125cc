"""Notices for changes made by apps below this one in the dependency order (docs/architecture.md): they
send a signal inside their transaction, and the receiver here notifies in that same transaction."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from accounts.models import OrganizationApplication, OrgRole
from accounts.signals import application_decided
from audit.models import Alert, AuditEvent
from audit.signals import alert_raised
from notifications import recipients
from notifications.services import notify


def on_application_decided(
    sender: Any, *, application: OrganizationApplication, version_number: int, **kwargs: Any
) -> None:
    org = application.organization
    approved = application.status == OrganizationApplication.Status.APPROVED
    people = list(recipients.members(org, OrgRole.ADMIN))
    if application.created_by.is_active and application.created_by not in people:
        people.append(application.created_by)
    notify(
        "organization.approved" if approved else "organization.returned",
        people,
        cause=f"organization.application:{application.pk}:v{version_number}",
        params={"organization": org.name, "reasons": application.return_reasons},
        url=reverse("my_application"),
    )


# Alerts about the center's custody of money: its staff act on them (the bank, the refunds), beside the
# supervisors who watch every alert.
CUSTODY_ALERTS = frozenset(
    {
        Alert.Kind.BANK_REPLAY_CONFLICT,
        Alert.Kind.BANK_SIGNATURE_INVALID,
        Alert.Kind.PAYER_MISMATCH,
        Alert.Kind.REFUND_OVERDUE,
        Alert.Kind.REFUND_CONFIRMATION_CONFLICT,
    }
)


def on_alert_raised(sender: Any, *, alert: Alert, event: AuditEvent, **kwargs: Any) -> None:
    params = {"title": alert.get_kind_display(), "summary": alert.summary}
    cause = f"alert.raised:{event.pk}"
    notify(
        "alert.raised",
        recipients.supervisors(),
        cause=cause,
        params=params,
        url=reverse("supervision_alerts"),
    )
    if alert.kind in CUSTODY_ALERTS:
        notify(
            "alert.raised",
            recipients.center_staff(),
            cause=cause,
            params=params,
            url=reverse("custody"),
        )


def connect() -> None:
    application_decided.connect(on_application_decided, dispatch_uid="notifications.application")
    alert_raised.connect(on_alert_raised, dispatch_uid="notifications.alert")
