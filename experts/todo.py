"""To-do items of experts (notifications.todo): a drawn expert's seat to confirm or decline before the
evaluation, and expert applications waiting for the center's review. Registered from
ExpertsConfig.ready."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from experts.models import DrawnExpert, DrawRequest, ExpertApplication
from notifications.todo import (
    LEADS_DEFAULT,
    LEADS_NONE,
    Assigned,
    TodoItem,
    TodoQuery,
    register_source,
)

LIMIT = 50


def seats_to_confirm(query: TodoQuery) -> Iterator[Assigned]:
    """Experts: a seat on a committee not yet confirmed or declined; due by the evaluation's time (no
    earlier answer deadline is kept)."""
    if not query.role_is(Role.EXPERT):
        return
    rows = DrawnExpert.objects.filter(
        seated=True,
        response=DrawnExpert.Response.PENDING,
        draw__status__in=(DrawRequest.Status.DRAWN, DrawRequest.Status.SIGNED_OFF),
        draw__evaluation_at__gt=query.now,
    ).select_related("draw__project", "expert__user")
    if query.user is not None:
        rows = rows.filter(expert__user=query.user)
    for drawn in query.dated(rows, "draw__evaluation_at").order_by("draw__evaluation_at")[:LIMIT]:
        people = query.person(drawn.expert.user)
        if people:
            yield Assigned(
                TodoItem(
                    key=f"expert.seat:{drawn.pk}",
                    action=_("确认是否参加评标"),
                    subject=drawn.draw.project.title,
                    url=reverse("my_expert_tasks"),
                    due_at=drawn.draw.evaluation_at,
                    legal=True,
                    leads=LEADS_DEFAULT,
                ),
                people,
            )


def applications_to_review(query: TodoQuery) -> Iterator[Assigned]:
    """Center staff: expert self-applications waiting for review."""
    if not query.role_is(Role.CENTER_STAFF) or query.due_before is not None:
        return
    staff = query.platform(Role.CENTER_STAFF)
    if not staff:
        return
    rows = ExpertApplication.objects.filter(status=ExpertApplication.Status.SUBMITTED)
    for application in rows.order_by("submitted_at", "pk")[:LIMIT]:
        yield Assigned(
            TodoItem(
                key=f"expert.application:{application.pk}",
                action=_("审核专家申请"),
                subject=str(application),
                url=reverse("expert_application_detail", args=[application.pk]),
                leads=LEADS_NONE,
            ),
            staff,
        )


def register() -> None:
    register_source(seats_to_confirm)
    register_source(applications_to_review)
