"""What the complaint pages and the API read: which cases a user may see, a supplier's objections a
complaint may follow, the projects it may complain about, a case's files, suspensions and timeline.
Reads only: nothing is granted or written here; every change goes through `complaints.services`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.permissions import has_perm, visible_to
from bidding.models import OpeningResponse, PublicityObjection
from complaints.models import Complaint, ComplaintDocument, MaterialRequest
from complaints.rules import regime_of, rules_for_regime
from complaints.services import COMPLAINABLE_KINDS, Window, filing_window
from lib.errors import DomainError
from trading.models import Objection, Project, Suspension


@dataclass
class Prior:
    """One of the supplier's objections (异议) or challenges (质疑) on a project, with its window."""

    key: str  # how the page names it: "o-<pk>" (trading), "r-<pk>" (opening), "p-<pk>" (publicity)
    kind: Any  # what it objected to (a label)
    text: str
    raised_at: dt.datetime
    reply: str
    replied_at: dt.datetime | None
    obj: Objection | PublicityObjection | OpeningResponse
    window: Window | None = None
    # Why no window: the law's words (e.g. still waiting for the answer is not a refusal here).
    problem: str = ""
    open_case: Complaint | None = None

    @property
    def state(self) -> str:
        """'waiting' (before the window), 'open' (inside it), 'closed' (after it), 'none'."""
        if self.window is None:
            return "none"
        now = timezone.now()
        if now < self.window.opens:
            return "waiting"
        return "open" if now <= self.window.closes else "closed"


def priors_for(project: Project, organization_id: int) -> list[Prior]:
    """The organization's objections on `project` that a complaint may follow, oldest first: to the
    documents (trading), to the opening record (bidding), to the candidates' publicity (bidding)."""
    priors: list[Prior] = []
    for objection in Objection.objects.filter(project=project, organization_id=organization_id):
        priors.append(
            Prior(
                f"o-{objection.pk}",
                _("对招标/采购文件的异议（质疑）"),
                objection.text,
                objection.raised_at,
                objection.reply,
                objection.replied_at,
                objection,
            )
        )
    responses = (
        OpeningResponse.objects.filter(
            opening__lot__project=project, organization_id=organization_id
        )
        .exclude(objection="")
        .select_related("opening__lot")
    )
    for response in responses:
        priors.append(
            Prior(
                f"r-{response.pk}",
                _("对开标的异议（第 %(n)s 标段）") % {"n": response.opening.lot.number},
                response.objection,
                response.responded_at,
                response.answer,
                response.answered_at,
                response,
            )
        )
    publicity_objections = PublicityObjection.objects.filter(
        publicity__lot__project=project, organization_id=organization_id
    ).select_related("publicity__lot")
    for challenge in publicity_objections:
        priors.append(
            Prior(
                f"p-{challenge.pk}",
                _("对评标/中标结果的异议（质疑）（第 %(n)s 标段）")
                % {"n": challenge.publicity.lot.number},
                challenge.text,
                challenge.raised_at,
                challenge.reply,
                challenge.replied_at,
                challenge,
            )
        )
    regime = regime_of(project.kind)
    for prior in priors:
        try:
            prior.window = filing_window(regime, Complaint.Subject.DOCUMENTS, prior.obj, None)
        except DomainError as exc:
            prior.problem = exc.message
        prior.open_case = prior.obj.complaints.filter(
            status__in=(Complaint.Status.FILED, Complaint.Status.ACCEPTED)
        ).first()
    priors.sort(key=lambda prior: prior.raised_at)
    return priors


def prior_by_key(priors: list[Prior], key: str) -> Prior | None:
    return next((prior for prior in priors if prior.key == key), None)


def subjects_without_objection(project: Project) -> list[tuple[str, Any]]:
    """The subjects the project's regime allows without an objection first (engineering: the
    process), with their labels."""
    first = rules_for_regime(regime_of(project.kind)).objection_first
    return [(value, label) for value, label in Complaint.Subject.choices if value not in first]


def filing_period_text(project: Project) -> str:
    """The regime's filing period in words, e.g. "10 日"."""
    period = rules_for_regime(regime_of(project.kind)).file_within
    if period.working:
        return str(_("%(n)s 个工作日") % {"n": period.days})
    return str(_("%(n)s 日") % {"n": period.days})


def max_suspension_days(complaint: Complaint) -> int:
    return rules_for_regime(complaint.regime).max_suspension.days


def complainable_projects(organization_id: int) -> QuerySet[Project]:
    """Projects of a kind the complaint procedure covers where the organization registered or
    objected: where it may file (the page then shows what it may follow)."""
    ids = {
        *Objection.objects.filter(organization_id=organization_id).values_list(
            "project_id", flat=True
        ),
        *OpeningResponse.objects.filter(organization_id=organization_id)
        .exclude(objection="")
        .values_list("opening__lot__project_id", flat=True),
        *PublicityObjection.objects.filter(organization_id=organization_id).values_list(
            "publicity__lot__project_id", flat=True
        ),
        *Project.objects.filter(registrations__organization_id=organization_id).values_list(
            "pk", flat=True
        ),
    }
    return Project.objects.filter(pk__in=ids, kind__in=COMPLAINABLE_KINDS).order_by("-pk")


def may_file_on(project: Project, organization_id: int) -> bool:
    """Whether the organization has anything to complain about on `project` (an objection there, or
    a registration for a complaint about the process)."""
    return (
        project.kind in COMPLAINABLE_KINDS
        and complainable_projects(organization_id).filter(pk=project.pk).exists()
    )


VIEW = "complaints.view_complaint"


def _cases() -> QuerySet[Complaint]:
    return Complaint.objects.select_related("project", "project__agent", "complainant", "lot")


def visible_complaints(user: Any) -> QuerySet[Complaint]:
    """The cases `user` may see: every one for supervisors (their role's `complaints.view_complaint`);
    for parties, those `file_complaint` granted their organization (the complainant, the project's
    agent and its owner). Nobody else sees a case at all."""
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


@dataclass
class Step:
    """One line of the case's timeline."""

    at: dt.datetime
    kind: str  # for the page's styling and tests
    title: Any
    text: str = ""
    due: dt.datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def timeline(complaint: Complaint, suspensions: list[Suspension]) -> list[Step]:
    """What happened in the case, in order: filing, acceptance or refusal, each request and its
    answer, each suspension and its lifting, the decision or the withdrawal."""
    steps = [
        Step(
            complaint.filed_at,
            "filed",
            _("提起投诉"),
            complaint.claims,
            due=complaint.acceptance_due_at,
        )
    ]
    if complaint.accepted_at:
        steps.append(
            Step(complaint.accepted_at, "accepted", _("受理"), due=complaint.decision_due_at)
        )
    if complaint.refused_at:
        steps.append(Step(complaint.refused_at, "refused", _("不予受理"), complaint.refusal_reason))
    requests: list[MaterialRequest] = list(complaint.requests.all())
    for request in requests:
        steps.append(
            Step(
                request.asked_at,
                "request",
                _("调查取证：%(party)s · %(kind)s")
                % {"party": request.get_party_display(), "kind": request.get_kind_display()},
                request.text,
                due=request.due_at,
            )
        )
        if request.answered_at:
            steps.append(
                Step(
                    request.answered_at,
                    "answer",
                    _("%(party)s答复") % {"party": request.get_party_display()},
                    request.answer,
                )
            )
    for suspension in suspensions:
        steps.append(
            Step(
                suspension.started_at,
                "suspended",
                _("责令暂停采购活动"),
                suspension.reason,
                due=suspension.ends_by,
            )
        )
        if suspension.lifted_at:
            steps.append(Step(suspension.lifted_at, "resumed", _("恢复采购活动")))
    if complaint.decided_at:
        steps.append(
            Step(
                complaint.decided_at,
                "decided",
                _("处理决定：%(outcome)s") % {"outcome": complaint.get_outcome_display()},
                complaint.decision,
                extra={
                    "remedy": complaint.get_remedy_display()
                    if complaint.remedy not in ("", Complaint.Remedy.NONE)
                    else ""
                },
            )
        )
    if complaint.withdrawn_at:
        steps.append(Step(complaint.withdrawn_at, "withdrawn", _("投诉人撤回投诉")))
    steps.sort(key=lambda step: step.at)
    return steps


def current_due(complaint: Complaint) -> dt.datetime | None:
    """The regulator's next deadline: acceptance while filed, the decision while accepted."""
    if complaint.status == Complaint.Status.FILED:
        return complaint.acceptance_due_at
    if complaint.status == Complaint.Status.ACCEPTED:
        return complaint.decision_due_at
    return None
