"""Complaint cases: filing (投诉), acceptance review (受理), investigation (调查取证), suspension of the
procurement (暂停), the decision (处理决定) and withdrawal. Every function is a service: Actor first,
permission checked, one transaction with its audit event, notices sent after commit.

Periods come only from `complaints.rules`; suspending and resuming the project is trading's
(`trading.services.suspend_project` / `lift_suspension`), which gives every running period back the
time the project stood still.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.shortcuts import assign_perm

from accounts.actors import Actor
from accounts.models import OrgRole, Role
from accounts.permissions import has_perm, require_perm
from accounts.services import require_org_role
from audit.services import record
from bidding.evaluation import annul_award
from bidding.models import OpeningResponse, PublicityObjection
from clock.calendar import add_working_days, working_days_between
from complaints.models import TEXT_LIMIT, Complaint, ComplaintDocument, MaterialRequest
from complaints.rules import regime_of, rules_for_regime
from lib.errors import Conflict, DomainError, NotPermitted
from lib.text import bounded, check_text
from lib.uploads import hashed_upload
from notifications import recipients
from notifications.services import moment_text, notify
from trading.exceptions import TooLate
from trading.models import Lot, Objection, Project
from trading.rules import add_period, deadline_after, rules_for_kind
from trading.services import lift_suspension, lock_project, suspend_project

# The kinds of project a complaint under 政府采购法 or 招标投标法 concerns. Land and property
# transfers have their own review channels (自然资源、国资监管部门), outside these procedures.
COMPLAINABLE_KINDS = (Project.Kind.CONSTRUCTION, Project.Kind.GOVERNMENT_PROCUREMENT)
PARTY_ROLES = (OrgRole.BID_OPERATOR, OrgRole.ADMIN)


def _text(value: Any, field: str) -> str:
    text = check_text(value if value is not None else "", field=field, max_length=TEXT_LIMIT)
    text = text.strip()
    if not text:
        raise DomainError(_("%(field)s不能为空。"), code="TEXT_REQUIRED", field=field)
    return text


def _lock(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_for_update().get(pk=complaint.pk)


def _require_status(complaint: Complaint, *allowed: str) -> None:
    if complaint.status not in allowed:
        raise Conflict(
            _("案件当前状态（%(status)s）不允许此操作。"),
            code="WRONG_STATUS",
            status=complaint.get_status_display(),
        )


def _label(complaint: Complaint) -> str:
    return f"{complaint.number} {complaint.project.number} {complaint.project.title}"


def _url(complaint: Complaint) -> str:
    return f"/complaints/{complaint.pk}/"


def _tell(kind: str, users: Any, complaint: Complaint, event_pk: int, **params: str) -> None:
    notify(
        kind,
        users,
        cause=f"{kind}:{event_pk}",
        params={"case": _label(complaint), **params},
        url=_url(complaint),
        due_at=None,
    )


def _parties(complaint: Complaint) -> list[Any]:
    """The complainant's and the respondent's (the agent's) people: both sides of every step."""
    project = complaint.project
    return [*recipients.bidders(complaint.complainant), *recipients.members(project.agent)]


# --- Filing -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """When a complaint may be filed: from `opens` — the moment the law counts from (the objection's
    answer, the end of its reply period, or the day the complainant knew) — until `closes`."""

    opens: dt.datetime
    closes: dt.datetime


def _prior_dates(
    prior: Objection | PublicityObjection | OpeningResponse,
) -> tuple[dt.datetime | None, dt.datetime]:
    """(replied_at, reply period end) of the objection or challenge a complaint follows. An objection
    at the opening is answered on the spot (条例 Art.44): its period ends when it was raised."""
    if isinstance(prior, OpeningResponse):
        return prior.answered_at, prior.responded_at
    return prior.replied_at, prior.reply_due_at


def filing_window(
    regime: str,
    subject: str,
    prior: Objection | PublicityObjection | OpeningResponse | None,
    knew_at: dt.datetime | None,
) -> Window:
    """The window of `complaints.rules` for this case (see its table). Refuses what no window allows:
    a missing objection where the law puts one first, one still waiting for its answer."""
    rules = rules_for_regime(regime)
    if prior is None:
        if subject in rules.objection_first:
            raise Conflict(
                _("投诉前应当先依法提出异议或质疑，并在答复后（或答复期满后）投诉。"),
                code="OBJECTION_FIRST",
            )
        if knew_at is None:
            raise DomainError(_("请填写知道或应当知道投诉事项之日。"), code="KNEW_AT_REQUIRED")
        return Window(knew_at, deadline_after(knew_at, rules.file_within, _calendar(regime)))
    replied_at, reply_due = _prior_dates(prior)
    if regime == "gp":
        # 政府采购法 Art.55: dissatisfied with the reply, or none came in time → 15 working days
        # after the reply period ends (an early reply does not shorten the period).
        opens = replied_at or reply_due
        return Window(opens, add_period(reply_due, rules.file_within))
    # 条例 Art.60: 10 days from knowing; the objection's reply time is not counted.
    knew = replied_at or reply_due
    return Window(knew, deadline_after(knew, rules.file_within, _calendar(regime)))


def _calendar(regime: str) -> Any:
    """The trading rules whose `deadline_on_working_day` governs a calendar-day period's last day."""
    return rules_for_kind("gp" if regime == "gp" else "construction")


def _prior_for(
    project: Project,
    organization_id: int,
    *,
    objection: Objection | None,
    publicity_objection: PublicityObjection | None,
    opening_response: OpeningResponse | None,
) -> tuple[Objection | PublicityObjection | OpeningResponse | None, Lot | None]:
    given = [p for p in (objection, publicity_objection, opening_response) if p is not None]
    if len(given) > 1:
        raise DomainError(_("一件投诉只能针对一项异议或质疑。"), code="ONE_OBJECTION_ONLY")
    if not given:
        return None, None
    # Read again under a lock: the caller's copy may predate the answer, and the answer decides the
    # window.
    prior = type(given[0]).objects.select_for_update().get(pk=given[0].pk)
    if isinstance(prior, Objection):
        owner_project, lot = prior.project_id, None
    elif isinstance(prior, PublicityObjection):
        owner_project, lot = prior.publicity.lot.project_id, prior.publicity.lot
    else:
        if not prior.objection:
            raise DomainError(_("该开标记录回复是确认，不是异议。"), code="NOT_AN_OBJECTION")
        owner_project, lot = prior.opening.lot.project_id, prior.opening.lot
    if owner_project != project.pk or prior.organization_id != organization_id:
        raise NotPermitted(_("只能就本单位在本项目提出的异议或质疑投诉。"))
    return prior, lot


def _subject_of(prior: Any, subject: str) -> str:
    if isinstance(prior, Objection):
        return Complaint.Subject.DOCUMENTS
    if isinstance(prior, PublicityObjection):
        return Complaint.Subject.RESULT
    if isinstance(prior, OpeningResponse):
        return Complaint.Subject.OPENING
    return subject


def file_complaint(
    actor: Actor,
    project: Project,
    *,
    subject: str,
    facts: Any,
    claims: Any,
    objection: Objection | None = None,
    publicity_objection: PublicityObjection | None = None,
    opening_response: OpeningResponse | None = None,
    knew_at: dt.datetime | None = None,
) -> Complaint:
    """A supplier that took part (or its objection did) complains to the regulator, inside the window
    (`filing_window`). The subject follows the objection it cites; without one it must be one the
    regime allows without (engineering: the process)."""
    require_org_role(actor, *PARTY_ROLES)
    organization = actor.organization
    if actor.role != Role.SUPPLIER or organization is None:
        raise NotPermitted(_("只有投标人/供应商可以投诉。"))
    facts_text = _text(facts, str(_("事实与理由")))
    claims_text = _text(claims, str(_("投诉请求")))
    if subject not in Complaint.Subject.values:
        raise DomainError(_("投诉事项无效。"), code="SUBJECT_INVALID")
    if project.kind not in COMPLAINABLE_KINDS:
        raise Conflict(_("该类交易不适用本投诉程序。"), code="COMPLAINT_NOT_APPLICABLE")
    with transaction.atomic():
        locked = lock_project(project)
        prior, lot = _prior_for(
            locked,
            organization.pk,
            objection=objection,
            publicity_objection=publicity_objection,
            opening_response=opening_response,
        )
        if prior is None and not locked.registrations.filter(organization=organization).exists():
            raise NotPermitted(_("只有参加本项目的供应商可以投诉。"))
        regime = regime_of(locked.kind)
        subject = _subject_of(prior, subject)
        now = timezone.now()
        if knew_at is not None and knew_at > now:
            raise DomainError(_("知道投诉事项之日不能晚于现在。"), code="KNEW_AT_INVALID")
        window = filing_window(regime, subject, prior, knew_at)
        if now < window.opens:
            raise Conflict(
                _("异议/质疑的答复期限未满且尚未答复，%(until)s 后方可投诉。"),
                code="OBJECTION_PENDING",
                until=moment_text(window.opens),
            )
        if now > window.closes:
            raise TooLate(
                _("投诉期限已过（应当在 %(until)s 前提出）。"),
                code="COMPLAINT_WINDOW_CLOSED",
                until=moment_text(window.closes),
            )
        if (
            prior is not None
            and prior.complaints.filter(
                status__in=(Complaint.Status.FILED, Complaint.Status.ACCEPTED)
            ).exists()
        ):
            raise Conflict(_("已就该异议/质疑提起投诉，正在处理。"), code="DUPLICATE_COMPLAINT")
        rules = rules_for_regime(regime)
        complaint = Complaint.objects.create(
            number=f"TMP-{uuid.uuid4().hex[:12]}",
            project=locked,
            lot=lot,
            regime=regime,
            subject=subject,
            complainant=organization,
            filed_by=actor.acting_user,
            objection=prior if isinstance(prior, Objection) else None,
            publicity_objection=prior if isinstance(prior, PublicityObjection) else None,
            opening_response=prior if isinstance(prior, OpeningResponse) else None,
            facts=facts_text,
            claims=claims_text,
            knew_at=window.opens,
            filed_at=now,
            acceptance_due_at=add_period(now, rules.acceptance),
            decision_due_at=add_period(now, rules.decision)
            if rules.decision_from_receipt
            else None,
        )
        complaint.number = f"TS{timezone.localtime(now):%Y}-{complaint.pk:05d}"
        complaint.save(update_fields=["number"])
        # The complainant and the respondent (the agent, and the purchaser that owns the project)
        # follow the case; supervisors see every case by their role.
        for party in {organization, locked.agent, locked.owner}:
            assign_perm("complaints.view_complaint", party.members_group, complaint)
        event = record(
            actor,
            "complaints.complaint.filed",
            complaint,
            {
                "number": complaint.number,
                "project": locked.pk,
                "regime": regime,
                "subject": subject,
                "facts": bounded(facts_text),
                "claims": bounded(claims_text),
                "knew_at": window.opens,
                "window_closes": window.closes,
                "acceptance_due_at": complaint.acceptance_due_at,
            },
        )
        notify(
            "complaint.filed",
            [*recipients.supervisors()],
            cause=f"complaint.filed:{event.pk}",
            params={
                "case": _label(complaint),
                "deadline": moment_text(complaint.acceptance_due_at),
            },
            url=_url(complaint),
            due_at=complaint.acceptance_due_at,
        )
        _tell("complaint.received", recipients.members(locked.agent), complaint, event.pk)
    return complaint


def withdraw_complaint(actor: Actor, complaint: Complaint) -> Complaint:
    """The complainant withdraws before the decision (94号 Art.30); any suspension it caused ends."""
    require_org_role(actor, *PARTY_ROLES)
    if actor.organization is None or actor.organization.pk != complaint.complainant_id:
        raise NotPermitted(_("只有投诉人可以撤回投诉。"))
    with transaction.atomic():
        lock_project(complaint.project_id)
        current = _lock(complaint)
        _require_status(current, Complaint.Status.FILED, Complaint.Status.ACCEPTED)
        current.status = Complaint.Status.WITHDRAWN
        current.withdrawn_at = timezone.now()
        current.save(update_fields=["status", "withdrawn_at"])
        event = record(actor, "complaints.complaint.withdrawn", current, {})
        # The suspension was the regulator's order for this case: with the case gone it ends, lifted
        # by the platform (the complainant holds no power over a suspension; the withdrawal above is
        # what the chain attributes to it).
        _lift_case_suspensions(Actor.system("complaints"), current, why="withdrawn")
        _tell(
            "complaint.withdrawn",
            [*_parties(current), *recipients.supervisors()],
            current,
            event.pk,
        )
    return current


# --- The regulator: acceptance, investigation, suspension, decision -----------------------------------


def _require_regulator(actor: Actor, complaint: Complaint) -> None:
    require_perm(actor, "complaints.handle_complaint", complaint)


def accept_complaint(actor: Actor, complaint: Complaint) -> Complaint:
    """受理. Engineering cases count their 30 working days from here (条例 Art.61); the respondent is
    asked for its written explanation at once (94号 Art.22–23), on the regime's period."""
    _require_regulator(actor, complaint)
    with transaction.atomic():
        current = _lock(complaint)
        _require_status(current, Complaint.Status.FILED)
        now = timezone.now()
        rules = rules_for_regime(current.regime)
        current.status = Complaint.Status.ACCEPTED
        current.accepted_at = now
        current.handled_by = actor.acting_user
        if not rules.decision_from_receipt:
            current.decision_due_at = add_period(now, rules.decision)
        current.save(update_fields=["status", "accepted_at", "handled_by", "decision_due_at"])
        event = record(
            actor,
            "complaints.complaint.accepted",
            current,
            {
                "decision_due_at": current.decision_due_at,
                "late": now > current.acceptance_due_at,
            },
        )
        _tell(
            "complaint.accepted",
            _parties(current),
            current,
            event.pk,
            deadline=moment_text(current.decision_due_at),
        )
        _ask(
            actor,
            current,
            party=MaterialRequest.Party.RESPONDENT,
            kind=MaterialRequest.Kind.EXPLANATION,
            text=str(_("请就投诉事项作出书面说明，并提交相关证据、依据和其他有关材料。")),
            due_at=add_period(now, rules.explanation),
        )
    return current


def refuse_complaint(actor: Actor, complaint: Complaint, *, reason: Any) -> Complaint:
    """不予受理, with the reason the complainant sees (94号 Art.21)."""
    _require_regulator(actor, complaint)
    reason_text = _text(reason, str(_("不予受理理由")))
    with transaction.atomic():
        lock_project(complaint.project_id)
        current = _lock(complaint)
        _require_status(current, Complaint.Status.FILED)
        current.status = Complaint.Status.REFUSED
        current.refused_at = timezone.now()
        current.refusal_reason = reason_text
        current.handled_by = actor.acting_user
        current.save(update_fields=["status", "refused_at", "refusal_reason", "handled_by"])
        event = record(
            actor, "complaints.complaint.refused", current, {"reason": bounded(reason_text)}
        )
        _lift_case_suspensions(actor, current, why="refused")
        _tell("complaint.refused", _parties(current), current, event.pk)
    return current


def _ask(
    actor: Actor, complaint: Complaint, *, party: str, kind: str, text: str, due_at: dt.datetime
) -> MaterialRequest:
    request = MaterialRequest.objects.create(
        complaint=complaint,
        party=party,
        kind=kind,
        text=text,
        asked_by=actor.acting_user,
        asked_at=timezone.now(),
        due_at=due_at,
    )
    event = record(
        actor,
        "complaints.request.made",
        complaint,
        {
            "request": request.pk,
            "party": party,
            "kind": kind,
            "text": bounded(text),
            "due_at": due_at,
        },
    )
    party_org = (
        complaint.complainant
        if party == MaterialRequest.Party.COMPLAINANT
        else complaint.project.agent
    )
    notify(
        "complaint.material_requested",
        recipients.members(party_org),
        cause=f"complaint.material_requested:{event.pk}",
        params={"case": _label(complaint), "deadline": moment_text(due_at)},
        url=_url(complaint),
        due_at=due_at,
    )
    return request


def request_material(
    actor: Actor, complaint: Complaint, *, party: str, kind: str, text: Any, due_at: dt.datetime
) -> MaterialRequest:
    """调查取证: ask the complainant or the respondent for an explanation or material, by `due_at`."""
    _require_regulator(actor, complaint)
    request_text = _text(text, str(_("要求")))
    if party not in MaterialRequest.Party.values:
        raise DomainError(_("对象无效。"), code="PARTY_INVALID")
    if kind not in MaterialRequest.Kind.values:
        raise DomainError(_("类型无效。"), code="KIND_INVALID")
    with transaction.atomic():
        current = _lock(complaint)
        _require_status(current, Complaint.Status.ACCEPTED)
        if due_at <= timezone.now():
            raise DomainError(_("答复期限必须晚于现在。"), code="DUE_AT_INVALID")
        if current.decision_due_at is not None and due_at > current.decision_due_at:
            raise DomainError(
                _("答复期限不得晚于处理期限（%(until)s）。"),
                code="DUE_AT_INVALID",
                until=moment_text(current.decision_due_at),
            )
        return _ask(actor, current, party=party, kind=kind, text=request_text, due_at=due_at)


def _party_org_id(request: MaterialRequest) -> int:
    if request.party == MaterialRequest.Party.COMPLAINANT:
        return request.complaint.complainant_id
    return request.complaint.project.agent_id


def answer_request(actor: Actor, request: MaterialRequest, *, answer: Any) -> MaterialRequest:
    """The asked party answers by the due time; a party that lets it pass is taken to have nothing to
    add (94号 Art.23). An uncounted request gives the decision period the working days it took."""
    require_org_role(actor, *PARTY_ROLES)
    answer_text = _text(answer, str(_("答复")))
    if actor.organization is None or actor.organization.pk != _party_org_id(request):
        raise NotPermitted(_("该调查取证要求不是发给本单位的。"))
    with transaction.atomic():
        complaint = _lock(request.complaint)
        current = MaterialRequest.objects.select_for_update().get(pk=request.pk)
        _require_status(complaint, Complaint.Status.ACCEPTED)
        if current.answered_at is not None:
            raise Conflict(_("已答复。"), code="ALREADY_ANSWERED")
        now = timezone.now()
        if now > current.due_at:
            raise TooLate(
                _("答复期限（%(until)s）已过。"), code="TOO_LATE", until=moment_text(current.due_at)
            )
        current.answer = answer_text
        current.answered_at = now
        current.answered_by = actor.acting_user
        fields = ["answer", "answered_at", "answered_by"]
        if current.kind == MaterialRequest.Kind.SUPPLEMENT and complaint.decision_due_at:
            paused = working_days_between(
                timezone.localtime(current.asked_at).date(), timezone.localtime(now).date()
            )
            current.paused_working_days = paused
            fields.append("paused_working_days")
            complaint.decision_due_at = add_working_days(complaint.decision_due_at, paused)
            complaint.save(update_fields=["decision_due_at"])
        current.save(update_fields=fields)
        event = record(
            actor,
            "complaints.request.answered",
            complaint,
            {
                "request": current.pk,
                "answer": bounded(answer_text),
                "paused_working_days": current.paused_working_days,
                "decision_due_at": complaint.decision_due_at,
            },
        )
        notify(
            "complaint.material_answered",
            [*recipients.supervisors()],
            cause=f"complaint.material_answered:{event.pk}",
            params={"case": _label(complaint)},
            url=_url(complaint),
        )
    return current


def suspend_procurement(actor: Actor, complaint: Complaint, *, reason: Any, days: int) -> Any:
    """暂停采购活动 while the case is handled, for at most the regime's cap (GP: 30 days, 政府采购法
    Art.57). Trading stops the project and, when the last suspension lifts, gives its periods back."""
    _require_regulator(actor, complaint)
    reason_text = _text(reason, str(_("暂停理由")))
    rules = rules_for_regime(complaint.regime)
    if (
        not isinstance(days, int)
        or isinstance(days, bool)
        or not 1 <= days <= rules.max_suspension.days
    ):
        raise DomainError(
            _("暂停天数应为 1 至 %(max)s 日。"),
            code="SUSPENSION_DAYS_INVALID",
            max=rules.max_suspension.days,
        )
    with transaction.atomic():
        current = _lock(complaint)
        _require_status(current, Complaint.Status.FILED, Complaint.Status.ACCEPTED)
        ends_by = timezone.now() + dt.timedelta(days=days)
        suspension = suspend_project(
            actor, current.project, reason=reason_text, ends_by=ends_by, source=current.source
        )
        event = record(
            actor,
            "complaints.complaint.suspension_ordered",
            current,
            {"suspension": suspension.pk, "ends_by": ends_by, "reason": bounded(reason_text)},
        )
        _tell(
            "complaint.suspension_ordered",
            recipients.bidders(current.complainant),
            current,
            event.pk,
            deadline=moment_text(ends_by),
        )
    return suspension


def _lift_case_suspensions(actor: Actor, complaint: Complaint, *, why: str) -> None:
    for suspension in complaint.project.suspensions.filter(
        source=complaint.source, lifted_at__isnull=True
    ):
        lift_suspension(actor, suspension, why=why)


def resume_procurement(actor: Actor, complaint: Complaint) -> Complaint:
    """The regulator lifts its suspension before the decision."""
    _require_regulator(actor, complaint)
    with transaction.atomic():
        current = _lock(complaint)
        if not current.project.suspensions.filter(
            source=current.source, lifted_at__isnull=True
        ).exists():
            raise Conflict(_("本案未暂停该项目。"), code="NOT_SUSPENDED")
        _lift_case_suspensions(actor, current, why="ordered")
        record(actor, "complaints.complaint.suspension_lifted", current, {})
    return current


REMEDIES_WHEN_UPHELD = (
    Complaint.Remedy.CORRECT,
    Complaint.Remedy.REDO,
    Complaint.Remedy.ANNUL_AWARD,
    Complaint.Remedy.TERMINATE,
)


def decide_complaint(
    actor: Actor, complaint: Complaint, *, outcome: str, remedy: str, decision: Any
) -> Complaint:
    """处理决定 (政府采购法 Art.56; 条例 Art.61): dismissed, or upheld with the remedy ordered. Open
    requests must be answered or past due first. The case's suspension ends with it. A void award is
    applied at once (`bidding.evaluation.annul_award`); the other remedies are the respondent's to
    carry out (the platform records and notifies them)."""
    _require_regulator(actor, complaint)
    decision_text = _text(decision, str(_("处理决定")))
    if outcome not in Complaint.Outcome.values:
        raise DomainError(_("处理结果无效。"), code="OUTCOME_INVALID")
    if outcome == Complaint.Outcome.DISMISSED and remedy not in ("", Complaint.Remedy.NONE):
        raise DomainError(_("驳回投诉时不能责令处理措施。"), code="REMEDY_INVALID")
    if outcome == Complaint.Outcome.UPHELD and remedy not in REMEDIES_WHEN_UPHELD:
        raise DomainError(_("投诉成立时应当选择处理措施。"), code="REMEDY_REQUIRED")
    with transaction.atomic():
        lock_project(complaint.project_id)
        current = _lock(complaint)
        _require_status(current, Complaint.Status.ACCEPTED)
        now = timezone.now()
        if current.requests.filter(answered_at__isnull=True, due_at__gt=now).exists():
            raise Conflict(_("仍有调查取证要求在答复期内。"), code="REQUESTS_PENDING")
        if remedy == Complaint.Remedy.ANNUL_AWARD and current.lot is None:
            raise DomainError(
                _("认定中标/成交结果无效须针对某一标段的结果投诉。"), code="REMEDY_NEEDS_LOT"
            )
        current.status = Complaint.Status.DECIDED
        current.decided_at = now
        current.outcome = outcome
        current.remedy = remedy or Complaint.Remedy.NONE
        current.decision = decision_text
        current.handled_by = actor.acting_user
        current.save(
            update_fields=["status", "decided_at", "outcome", "remedy", "decision", "handled_by"]
        )
        event = record(
            actor,
            "complaints.complaint.decided",
            current,
            {
                "outcome": outcome,
                "remedy": current.remedy,
                "decision": bounded(decision_text),
                "late": current.decision_due_at is not None and now > current.decision_due_at,
            },
        )
        _lift_case_suspensions(actor, current, why="decided")
        if current.remedy == Complaint.Remedy.ANNUL_AWARD and current.lot is not None:
            # The decision feeds the procurement: the struck winner is out, the agent awards the next
            # candidate or tenders again. The other remedies are orders the respondent carries out.
            annul_award(actor, current.lot, reason=decision_text, source=current.source)
        _tell(
            "complaint.decided",
            [*_parties(current), *recipients.members(current.project.owner)],
            current,
            event.pk,
            outcome=str(current.get_outcome_display()),
        )
    return current


# --- Case files -----------------------------------------------------------------------------------


def may_add_document(user: Any, complaint: Complaint) -> bool:
    if has_perm(user, "complaints.handle_complaint", complaint):
        return True
    org_id = getattr(user, "organization_id", None)
    return org_id is not None and org_id in (complaint.complainant_id, complaint.project.agent_id)


def add_document(
    actor: Actor,
    complaint: Complaint,
    upload: UploadedFile,
    *,
    title: Any = "",
    request: MaterialRequest | None = None,
) -> ComplaintDocument:
    """A file for the case from the complainant, the respondent or the regulator, while it is open."""
    if not may_add_document(actor.user, complaint):
        raise NotPermitted(_("您没有执行此操作的权限。"))
    if not has_perm(actor.user, "complaints.handle_complaint", complaint):
        # A party acts through its operators and administrators, as in its other acts.
        require_org_role(actor, *PARTY_ROLES)
    title_text = check_text(title or "", field=str(_("名称")), max_length=200).strip()
    if request is not None and request.complaint_id != complaint.pk:
        raise DomainError(_("调查取证要求不属于本案。"), code="REQUEST_INVALID")
    digest, size = hashed_upload(upload)
    with transaction.atomic():
        current = _lock(complaint)
        if not current.is_open:
            raise Conflict(_("案件已办结，不能再提交材料。"), code="WRONG_STATUS")
        document = ComplaintDocument(
            complaint=current,
            request=request,
            title=title_text or (upload.name or "document")[:200],
            sha256=digest,
            size=size,
            content_type=getattr(upload, "content_type", "") or "",
            uploaded_by=actor.acting_user,
        )
        document.file.save(upload.name or "document", upload, save=False)
        document.save()
        record(
            actor,
            "complaints.document.added",
            current,
            {
                "document": document.pk,
                "title": document.title,
                "sha256": digest,
                "size": upload.size,
            },
        )
    return document
