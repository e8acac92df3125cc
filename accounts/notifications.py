"""Telling organizations what changed. Called by services inside their transaction, so a notice is
sent exactly when the change it describes commits."""

from __future__ import annotations

from collections.abc import Iterable

from accounts.models import Notification, Organization, User


def notify(
    organizations: Iterable[Organization], *, title: str, body: str = "", url: str = ""
) -> int:
    unique = {org.pk: org for org in organizations}
    Notification.objects.bulk_create(
        [
            Notification(organization=org, title=str(title), body=str(body), url=url)
            for org in unique.values()
        ]
    )
    return len(unique)


def unread_for(user: User) -> int:
    if user.organization_id is None:
        return 0
    return (
        Notification.objects.filter(organization_id=user.organization_id)
        .exclude(read_by=user)
        .count()
    )


def mark_read(user: User, notification_id: int | None = None) -> Notification | None:
    """Mark one notice (or every notice) of the user's organization read by this user.

    Read marks are the user's own view state, not part of the trading record, so they are not audited.
    Returns the notice, or None when marking all; raises Notification.DoesNotExist for a notice of
    another organization.
    """
    own = Notification.objects.filter(organization_id=user.organization_id or 0)
    if notification_id is None:
        for notification in own.exclude(read_by=user):
            notification.read_by.add(user)
        return None
    notification = own.get(pk=notification_id)
    notification.read_by.add(user)
    return notification
