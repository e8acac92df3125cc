"""Who may see which part of a draw: the lookups shared by the pages, the API and the PDF.

Three layers of confidentiality (docs/law.md, "Committee, evaluation and award"):
- the *record* (request, hashes, pool snapshot, every drawn expert with responses): center staff who run
  draws and supervisors (`experts.view_drawrequest`);
- the *exclusions* with each expert's reasons: supervisors only — not even the staff who run the draw,
  so nobody steering the pool can read why a colleague was left out;
- the *names*: `services.may_see_identities` — staff and supervisors always, everyone else only once the
  committee has been disclosed (then only the seated members are named).

A draw of an announced project is visible to anyone (its commitment hashes are the public proof that the
draw was not steered); of an unannounced one only to those who may see the project. Anything else is 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from accounts.permissions import has_perm
from experts import services
from experts.models import DrawnExpert, DrawRequest, Expert
from lib.errors import NotFound
from trading.models import Project

ANNOUNCED = (Project.Status.PUBLISHED, Project.Status.TERMINATED)


def may_see_record(user: Any) -> bool:
    return has_perm(user, "experts.view_drawrequest")


def may_see_exclusions(user: Any) -> bool:
    """Exclusion reasons are for supervisors only: the role, and the permission it carries. Center staff
    (even a superuser account) do not qualify."""
    return (
        user is not None
        and user.is_authenticated
        and getattr(user, "role", "") == Role.SUPERVISOR
        and has_perm(user, "experts.view_draw_identities")
    )


def may_see_draw(user: Any, draw: DrawRequest) -> bool:
    if may_see_record(user):
        return True
    project = draw.project
    return project.status in ANNOUNCED or has_perm(user, "trading.view_project", project)


def draw_for(user: Any, pk: int) -> DrawRequest:
    draw = (
        DrawRequest.objects.select_related(
            "project", "lot", "requested_by", "supervisor", "replaces_in"
        )
        .filter(pk=pk)
        .first()
    )
    if draw is None or not may_see_draw(user, draw):
        raise NotFound(_("未找到该专家抽取。"))
    return draw


def expert_for(user: Any, pk: int) -> Expert:
    expert = Expert.objects.select_related("employer", "user").filter(pk=pk).first()
    if expert is None or not has_perm(user, "experts.view_expert"):
        raise NotFound(_("未找到该专家。"))
    return expert


def drawn_in_order(draw: DrawRequest) -> list[DrawnExpert]:
    """Members and alternates in draw order (quota, then position); each row's `draw` is `draw`, so
    their `specialty` costs no query."""
    return list(
        draw.drawn.select_related("expert", "expert__employer").order_by("quota", "position")
    )


def disclosed_members(user: Any, project: Project) -> list[dict[str, Any]]:
    """The seated experts of the project's draws the user may see named: [{"draw", "members"}]."""
    committees = []
    draws = DrawRequest.objects.filter(
        project=project,
        status__in=[DrawRequest.Status.DRAWN, DrawRequest.Status.SIGNED_OFF],
    ).order_by("committed_at", "pk")
    for draw in draws:
        if draw.disclosed_at is None or not services.may_see_identities(user, draw):
            continue
        members = [row for row in drawn_in_order(draw) if row.seated]
        committees.append({"draw": draw, "members": members})
    return committees


def own_seats(user: Any) -> QuerySet[DrawnExpert]:
    """The drawn expert's seats: seated now or answered, of draws that have been run."""
    if user is None or not user.is_authenticated or getattr(user, "role", "") != Role.EXPERT:
        return DrawnExpert.objects.none()
    return (
        DrawnExpert.objects.filter(
            expert__user=user,
            draw__status__in=[DrawRequest.Status.DRAWN, DrawRequest.Status.SIGNED_OFF],
        )
        .exclude(response=DrawnExpert.Response.STANDBY)
        .select_related("draw", "draw__project", "draw__lot", "expert")
        .order_by("draw__evaluation_at", "pk")
    )


def seat_for(user: Any, pk: int) -> DrawnExpert:
    """A seat the user may address: their own, or any for those who see draw records (the service then
    refuses anyone but the expert: 403)."""
    seat = DrawnExpert.objects.select_related("expert", "draw").filter(pk=pk).first()
    if seat is None or not (
        (user.is_authenticated and seat.expert.user_id == user.pk) or may_see_record(user)
    ):
        raise NotFound(_("未找到该抽取通知。"))
    return seat
