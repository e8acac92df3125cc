"""To-do sources for rows of apps below notifications (accounts, audit); the apps above register their own
from their `todo.py` (notifications.todo)."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import OrganizationApplication, Role
from audit.models import Alert
from notifications.todo import LEADS_NONE, Assigned, TodoItem, TodoQuery, register_source

# A long queue shows its oldest rows; the rest are one click away on the queue's own page.
LIMIT = 50


def organization_applications(query: TodoQuery) -> Iterator[Assigned]:
    """Center staff: organization registrations and changes waiting for review."""
    if not query.role_is(Role.CENTER_STAFF) or query.due_before is not None:
        return
    staff = query.platform(Role.CENTER_STAFF)
    if not staff:
        return
    rows = OrganizationApplication.objects.filter(
        status=OrganizationApplication.Status.SUBMITTED
    ).select_related("organization")
    for application in rows.order_by("pk")[:LIMIT]:
        yield Assigned(
            TodoItem(
                key=f"organization.review:{application.pk}",
                action=_("审核机构注册"),
                subject=application.organization.name,
                url=reverse("application_detail", args=[application.pk]),
                leads=LEADS_NONE,
            ),
            staff,
        )


def open_alerts(query: TodoQuery) -> Iterator[Assigned]:
    """Supervisors: alerts not yet handled."""
    if not query.role_is(Role.SUPERVISOR) or query.due_before is not None:
        return
    people = query.platform(Role.SUPERVISOR)
    if not people:
        return
    for alert in Alert.objects.filter(handled_at__isnull=True).order_by("raised_at")[:LIMIT]:
        yield Assigned(
            TodoItem(
                key=f"alert.handle:{alert.pk}",
                action=_("处理监督预警"),
                subject=alert.summary,
                url=reverse("supervision_alerts"),
                leads=LEADS_NONE,
            ),
            people,
        )


def register() -> None:
    register_source(organization_applications)
    register_source(open_alerts)
