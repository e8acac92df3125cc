"""To-do items of projects (notifications.todo): questions and objections waiting for the agent's answer,
and projects waiting for the center's review. Registered from TradingConfig.ready."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from notifications.todo import LEADS_NONE, Assigned, TodoItem, TodoQuery, register_source
from trading.models import Objection, Project, Question

LIMIT = 50


def objections(query: TodoQuery) -> Iterator[Assigned]:
    """Agents: 异议 to the tender documents to answer by their reply deadline (the tender is suspended
    until then)."""
    if not query.role_is(Role.AGENT):
        return
    rows = Objection.objects.filter(replied_at__isnull=True).select_related("project__agent")
    if query.organization_id is not None:
        rows = rows.filter(project__agent_id=query.organization_id)
    for objection in query.dated(rows, "reply_due_at").order_by("reply_due_at")[:LIMIT]:
        people = query.people(objection.project.agent)
        if people:
            yield Assigned(
                TodoItem(
                    key=f"objection.reply:{objection.pk}",
                    action=_("答复异议"),
                    subject=f"{objection.project.number} {objection.project.title}",
                    url=reverse("project_detail", args=[objection.project_id]),
                    due_at=objection.reply_due_at,
                    legal=True,
                ),
                people,
            )


def questions(query: TodoQuery) -> Iterator[Assigned]:
    """Agents: questions not yet answered (no reply deadline is kept, so undated; no reminders)."""
    if not query.role_is(Role.AGENT) or query.due_before is not None:
        return
    rows = Question.objects.filter(answered_at__isnull=True).select_related("project__agent")
    if query.organization_id is not None:
        rows = rows.filter(project__agent_id=query.organization_id)
    for question in rows.order_by("asked_at")[:LIMIT]:
        people = query.people(question.project.agent)
        if people:
            yield Assigned(
                TodoItem(
                    key=f"question.answer:{question.pk}",
                    action=_("答复提问"),
                    subject=f"{question.project.number} {question.project.title}",
                    url=reverse("project_detail", args=[question.project_id]),
                    leads=LEADS_NONE,
                ),
                people,
            )


def projects_to_review(query: TodoQuery) -> Iterator[Assigned]:
    """Center staff: 进场登记 waiting for approval or return."""
    if not query.role_is(Role.CENTER_STAFF) or query.due_before is not None:
        return
    staff = query.platform(Role.CENTER_STAFF)
    if not staff:
        return
    rows = Project.objects.filter(status=Project.Status.SUBMITTED).order_by("submitted_at", "pk")
    for project in rows[:LIMIT]:
        yield Assigned(
            TodoItem(
                key=f"project.review:{project.pk}",
                action=_("审核进场登记"),
                subject=f"{project.number} {project.title}",
                url=reverse("project_detail", args=[project.pk]),
                leads=LEADS_NONE,
            ),
            staff,
        )


def register() -> None:
    register_source(objections)
    register_source(questions)
    register_source(projects_to_review)
