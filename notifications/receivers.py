"""Notices for changes made by apps below this one in the dependency order (docs/architecture.md): they
send a signal inside their transaction, and the receiver here notifies in that same transaction."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from accounts.models import OrganizationApplication
from accounts.signals import application_decided
from notifications import recipients
from notifications.services import notify


def on_application_decided(
    sender: Any, *, application: OrganizationApplication, version_number: int, **kwargs: Any
) -> None:
    org = application.organization
    approved = application.status == OrganizationApplication.Status.APPROVED
    people = list(recipients.members(org, "admin"))
    if application.created_by.is_active and application.created_by not in people:
        people.append(application.created_by)
    notify(
        "organization.approved" if approved else "organization.returned",
        people,
        cause=f"organization.application:{application.pk}:v{version_number}",
        params={"organization": org.name, "reasons": application.return_reasons},
        url=reverse("my_application"),
    )


def connect() -> None:
    application_decided.connect(on_application_decided, dispatch_uid="notifications.application")
