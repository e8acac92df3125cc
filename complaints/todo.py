"""To-do items of complaint cases (notifications.todo): the regulator's acceptance and decision
deadlines, and each party's answers to the regulator's requests. Registered from ComplaintsConfig.ready.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext_lazy as _

from accounts.models import OrgRole, Role
from complaints.models import Complaint, MaterialRequest
from notifications.todo import Assigned, TodoItem, TodoQuery, register_source

LIMIT = 50


def _subject(complaint: Complaint) -> str:
    return f"{complaint.number} {complaint.project.number} {complaint.project.title}"


def _url(complaint: Complaint) -> str:
    return f"/complaints/{complaint.pk}/"


def cases_to_handle(query: TodoQuery) -> Iterator[Assigned]:
    """Supervisors: complaints to accept or refuse (受理审查), and accepted ones to decide."""
    if not query.role_is(Role.SUPERVISOR):
        return
    regulators = query.platform(Role.SUPERVISOR)
    if not regulators:
        return
    steps = (
        (Complaint.Status.FILED, "acceptance_due_at", _("投诉受理审查"), "complaint.accept"),
        (Complaint.Status.ACCEPTED, "decision_due_at", _("作出投诉处理决定"), "complaint.decide"),
    )
    for status, due_field, action, key in steps:
        rows = Complaint.objects.filter(status=status).select_related("project")
        for complaint in query.dated(rows, due_field).order_by(due_field)[:LIMIT]:
            yield Assigned(
                TodoItem(
                    key=f"{key}:{complaint.pk}",
                    action=action,
                    subject=_subject(complaint),
                    url=_url(complaint),
                    due_at=getattr(complaint, due_field),
                    legal=True,
                ),
                regulators,
            )


def requests_to_answer(query: TodoQuery) -> Iterator[Assigned]:
    """The complainant or the respondent: the regulator's request for an explanation or material, by
    its due time (after it, the party is taken to have nothing to add)."""
    if not query.role_is(Role.SUPPLIER, Role.AGENT):
        return
    rows = MaterialRequest.objects.filter(
        answered_at__isnull=True,
        due_at__gt=query.now,
        complaint__status=Complaint.Status.ACCEPTED,
    ).select_related("complaint__project__agent", "complaint__complainant")
    for request in query.dated(rows, "due_at").order_by("due_at")[:LIMIT]:
        complaint = request.complaint
        if request.party == MaterialRequest.Party.COMPLAINANT:
            people = query.people(complaint.complainant, OrgRole.BID_OPERATOR)
        else:
            people = query.people(complaint.project.agent)
        if people:
            yield Assigned(
                TodoItem(
                    key=f"complaint.request:{request.pk}",
                    action=_("答复投诉调查取证"),
                    subject=_subject(complaint),
                    url=_url(complaint),
                    due_at=request.due_at,
                    legal=True,
                ),
                people,
            )


def register() -> None:
    register_source(cases_to_handle)
    register_source(requests_to_answer)
