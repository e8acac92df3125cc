"""Reads of complaint cases for the API and the pages: which cases a user may see, and a case's
suspensions. Pure queries: no permission is granted and nothing is written here."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from accounts.permissions import has_perm, visible_to
from complaints.models import Complaint, ComplaintDocument, MaterialRequest
from trading.models import Suspension

VIEW = "complaints.view_complaint"


def _cases() -> QuerySet[Complaint]:
    return Complaint.objects.select_related("project", "project__agent", "complainant", "lot")


def visible_complaints(user: Any) -> QuerySet[Complaint]:
    """The cases `user` may see: every one for supervisors and center staff (their role's
    `complaints.view_complaint`); for parties, those `file_complaint` granted their organization
    (the complainant, the project's agent and its owner). Nobody else sees a case at all."""
    return visible_to(user, VIEW, _cases()).order_by("-filed_at", "-pk")


def may_see(user: Any, complaint: Complaint) -> bool:
    return has_perm(user, VIEW, complaint)


def case_with_files(pk: int) -> Complaint | None:
    """One case with its requests and every document's metadata, in the order they came."""
    documents = ComplaintDocument.objects.order_by("uploaded_at", "pk")
    return (
        _cases()
        .prefetch_related(
            Prefetch(
                "requests",
                MaterialRequest.objects.order_by("asked_at", "pk").prefetch_related(
                    Prefetch("documents", documents)
                ),
            ),
            Prefetch("documents", documents),
        )
        .filter(pk=pk)
        .first()
    )


def case_suspensions(complaint: Complaint) -> QuerySet[Suspension]:
    """The suspensions of the procurement this case ordered (`Complaint.source`), oldest first."""
    return complaint.project.suspensions.filter(source=complaint.source).order_by(
        "started_at", "pk"
    )
