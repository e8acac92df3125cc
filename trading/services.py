"""The tender workflow before the bid deadline: drafting, entering the center (进场登记), publishing,
amending, registration, questions and objections. Every function here is a service: it checks the
caller's permission, validates, changes the rows in one transaction and writes its audit event there.

Legal periods come only from `trading.rules`; nothing here hard-codes a number of days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.shortcuts import assign_perm

from accounts.actors import Actor
from accounts.models import Organization, OrgRole, Role
from accounts.permissions import has_perm, require_perm
from accounts.services import ensure_may_trade, require_org_role
from audit.services import record
from clock.calendar import next_working_moment
from clock.services import cancel, schedule
from lib.canonical import canonical_sha256, canonical_value, sha256_hex
from lib.errors import DomainError, NotPermitted, present
from lib.money import format_amount, parse_amount
from lib.pdf import label as field_label
from lib.uploads import hashed_upload
from notifications import recipients
from notifications.services import moment_text, notify
from trading.exceptions import DepositRuleError, ScheduleError, Suspended, TooLate, WrongStatus
from trading.models import (
    Announcement,
    AnnouncementVersion,
    Invitee,
    Lot,
    Objection,
    Project,
    ProjectDocument,
    Question,
    Registration,
    Suspension,
)
from trading.rules import (
    DOCUMENTS_TO_DEADLINE_LAW,
    GP_ONLY_METHODS,
    SEALED_METHODS,
    add_period,
    check_not_on_holiday,
    deadline_after,
    objections_close_at,
    rules_for,
)
from trading.signals import failed_lots as failed_lot_answer
from trading.signals import project_resumed, project_terminated

AGENT_PERMISSIONS = (
    "trading.view_project",
    "trading.change_project",
    "trading.submit_project",
    "trading.publish_project",
    "trading.manage_project",
)
EDITABLE = (Project.Status.DRAFT, Project.Status.RETURNED)
# Fields a client may think it can set but the law forbids: 最低投标限价 (条例 Art.27).
MINIMUM_PRICE_FIELDS = {
    "minimum_price",
    "min_price",
    "floor_price",
    "lowest_price",
    "minimum_bid_price",
}
TIMELINE_FIELDS = (
    "documents_from",
    "documents_until",
    "questions_until",
    "bid_deadline",
    "deposit_deadline",
)
PROJECT_FIELDS = (
    "title",
    "description",
    "kind",
    "category",
    "method",
    "region",
    "mandatory_tender",
    "registration_required",
    "bid_validity_days",
    "two_suppliers_allowed",
    *TIMELINE_FIELDS,
)
MAIN_ANNOUNCEMENT: dict[str, Announcement.Kind] = {
    Project.Kind.CONSTRUCTION: Announcement.Kind.TENDER,
    Project.Kind.GOVERNMENT_PROCUREMENT: Announcement.Kind.PROCUREMENT,
    Project.Kind.LAND: Announcement.Kind.LAND_LISTING,
    Project.Kind.RIGHTS: Announcement.Kind.TENDER,
}


# --- Input checks ---------------------------------------------------------------------------------


def _refuse_unknown(fields: dict[str, Any], allowed: Iterable[str]) -> None:
    forbidden = MINIMUM_PRICE_FIELDS & set(fields)
    if forbidden:
        raise DomainError(
            _("不得设置最低投标限价（《招标投标法实施条例》第二十七条）。"),
            code="MINIMUM_PRICE_FORBIDDEN",
        )
    unknown = set(fields) - set(allowed)
    if unknown:
        raise DomainError(
            _("不认识的字段：%(fields)s"), code="UNKNOWN_FIELD", fields=", ".join(sorted(unknown))
        )


def _clean_lot(index: int, data: dict[str, Any]) -> dict[str, Any]:
    _refuse_unknown(
        data,
        {
            "name",
            "estimate",
            "ceiling_price",
            "deposit_amount",
            "deposit_forms",
            "deposit_currencies",
        },
    )
    name = str(data.get("name", "")).strip() or f"第{index}标段"
    # Amounts arrive as the wire text from every caller (API, pages, demo data) and are read here
    # by the one parser, so each path accepts exactly the documented strings.
    estimate = parse_amount(data.get("estimate"), field="estimate")
    ceiling_text = data.get("ceiling_price")
    ceiling = (
        None
        if ceiling_text is None or ceiling_text == ""
        else parse_amount(ceiling_text, field="ceiling_price")
    )
    deposit = parse_amount(data.get("deposit_amount", "0"), field="deposit_amount", allow_zero=True)
    forms = list(dict.fromkeys(data.get("deposit_forms") or []))
    unknown_forms = set(forms) - set(Lot.DepositForm.values)
    if unknown_forms:
        raise DomainError(
            _("不认识的保证金形式：%(forms)s"),
            code="INVALID_DEPOSIT_FORM",
            forms=", ".join(sorted(unknown_forms)),
        )
    currencies = list(dict.fromkeys(data.get("deposit_currencies") or ["CNY"]))
    if set(currencies) - {"CNY", "HKD", "USD"}:
        raise DomainError(_("保证金币种只能是人民币、港元或美元。"), code="INVALID_CURRENCY")
    return {
        "number": index,
        "name": name,
        "deposit_currencies": currencies,
        "estimate": estimate,
        "ceiling_price": ceiling,
        "deposit_amount": deposit,
        "deposit_forms": forms,
    }


# --- The legal checks -----------------------------------------------------------------------------


def _bidding_period_applies(project: Project) -> bool:
    tenders = {Project.Kind.CONSTRUCTION, Project.Kind.GOVERNMENT_PROCUREMENT}
    mandatory = project.mandatory_tender or project.kind == Project.Kind.GOVERNMENT_PROCUREMENT
    methods = SEALED_METHODS | GP_ONLY_METHODS
    return project.kind in tenders and project.method in methods and mandatory


def check_method(project: Project) -> None:
    """磋商, 谈判 and 询价 are government procurement's own methods (政府采购法 Art.26); 2 suppliers
    instead of 3 is an exception of consultation only (财库〔2015〕124号)."""
    if project.method in GP_ONLY_METHODS and project.kind != Project.Kind.GOVERNMENT_PROCUREMENT:
        raise ScheduleError(
            _("%(method)s仅适用于政府采购项目。"),
            code="METHOD_NOT_ALLOWED",
            method=project.get_method_display(),
        )
    if project.two_suppliers_allowed and project.method != Project.Method.CONSULTATION:
        raise ScheduleError(
            _("只有竞争性磋商（政府购买服务、科研项目）可以两家供应商继续。"),
            code="TWO_SUPPLIERS_NOT_ALLOWED",
        )


def check_timeline(project: Project, *, now: dt.datetime | None = None) -> None:
    """Raise ScheduleError for the first legal period the timeline breaks.

    With `now` (at publication), the documents can only be available from now on, so the periods are
    counted from whichever is later.
    """
    check_method(project)
    rules = rules_for(project)
    documents_from, documents_until = project.documents_from, project.documents_until
    questions_until, deadline = project.questions_until, project.bid_deadline
    if (
        documents_from is None
        or documents_until is None
        or questions_until is None
        or deadline is None
    ):
        missing = [name for name in TIMELINE_FIELDS[:4] if getattr(project, name) is None]
        raise ScheduleError(
            _("时间安排不完整：%(fields)s"), code="TIMELINE_INCOMPLETE", fields=", ".join(missing)
        )
    start = max(documents_from, now) if now else documents_from
    if not start < documents_until <= deadline:
        raise ScheduleError(
            _("招标文件获取期须在投标截止前，且结束晚于开始。"), code="DOCUMENT_WINDOW_ORDER"
        )
    if documents_until < add_period(start, rules.min_document_window):
        raise ScheduleError(
            _("招标文件获取期不得少于%(period)s。"),
            code="DOCUMENT_WINDOW_TOO_SHORT",
            period=rules.min_document_window.label(),
        )
    if _bidding_period_applies(project) and deadline < add_period(
        start, rules.min_documents_to_deadline
    ):
        if project.method in DOCUMENTS_TO_DEADLINE_LAW:
            raise ScheduleError(
                _("自采购文件发出之日起至提交首次响应文件截止不得少于%(period)s（%(law)s）。"),
                code="BIDDING_PERIOD_TOO_SHORT",
                period=rules.min_documents_to_deadline.label(),
                law=DOCUMENTS_TO_DEADLINE_LAW[project.method],
            )
        raise ScheduleError(
            _("自招标文件开始发出之日起至投标截止不得少于%(period)s（《招标投标法》第二十四条）。"),
            code="BIDDING_PERIOD_TOO_SHORT",
            period=rules.min_documents_to_deadline.label(),
        )
    if questions_until > deadline:
        raise ScheduleError(
            _("提问截止时间不得晚于投标截止时间。"), code="QUESTIONS_AFTER_DEADLINE"
        )
    if project.deposit_deadline and project.deposit_deadline > deadline:
        raise ScheduleError(
            _("保证金到账截止时间不得晚于投标截止时间。"), code="DEPOSIT_AFTER_DEADLINE"
        )
    check_not_on_holiday(_entered_deadlines(project), rules)


def _entered_deadlines(project: Project) -> dict[str, dt.datetime | None]:
    """The deadlines an agent sets, by their field label (the documents' start is not a deadline)."""
    return {field_label(Project, name): getattr(project, name) for name in TIMELINE_FIELDS[1:]}


def _offer_required_forms(project: Project, lots: list[dict[str, Any]]) -> None:
    """Where the supplier chooses the form (GP), a lot that names none offers the whole legal set:
    there is nothing for the agent to choose. A lot that names some is held to the full set by
    `check_lots` (DEPOSIT_FORMS_NARROWED)."""
    cap = rules_for(project).deposit_caps.get(project.category)
    if cap is None or not cap.required_forms():
        return
    for lot in lots:
        if lot["deposit_amount"] > 0 and not lot["deposit_forms"]:
            lot["deposit_forms"] = list(cap.required_forms())


def check_lots(project: Project, lots: list[dict[str, Any]] | list[Lot]) -> None:
    """Deposit caps and forms per lot (条例 Art.26, 30号令 Art.37, GP 条例 Art.33)."""
    if not lots:
        raise DomainError(_("项目至少需要一个标段/包。"), code="LOTS_REQUIRED")
    rules = rules_for(project)
    cap = rules.deposit_caps.get(project.category)
    for lot in lots:
        values = lot if isinstance(lot, dict) else lot.__dict__
        deposit, estimate, forms = (
            values["deposit_amount"],
            values["estimate"],
            values["deposit_forms"],
        )
        if project.method == Project.Method.FRAMEWORK:
            # A framework's solicitation commits nobody to a purchase: no response deposit is taken,
            # and its lots carry the 最高限制单价 every admitted price is capped at (110号令).
            if deposit > 0:
                raise DepositRuleError(
                    _("框架协议采购不收取响应保证金。"), code="DEPOSIT_NOT_ALLOWED"
                )
            if not values.get("ceiling_price"):
                raise DomainError(
                    _("框架协议采购须设定最高限制单价。"), code="MAX_UNIT_PRICE_REQUIRED"
                )
        if deposit > 0 and not forms:
            raise DepositRuleError(_("请选择保证金的缴纳形式。"), code="DEPOSIT_FORMS_REQUIRED")
        currencies = values.get("deposit_currencies") or ["CNY"]
        if set(currencies) - {"CNY"} and project.kind != Project.Kind.LAND:
            raise DepositRuleError(
                _("只有土地出让项目可以接受外币保证金。"), code="FOREIGN_CURRENCY_NOT_ALLOWED"
            )
        if cap is None:
            continue
        if deposit > (estimate * cap.percent_of_estimate).quantize(Decimal("0.01")):
            raise DepositRuleError(
                _("保证金不得超过估算价/预算的 %(percent)s%%。"),
                code="DEPOSIT_OVER_PERCENT",
                percent=str((cap.percent_of_estimate * 100).normalize()),
            )
        if cap.ceiling is not None and deposit > cap.ceiling:
            raise DepositRuleError(
                _("该类项目保证金不得超过 %(ceiling)s 元。"),
                code="DEPOSIT_OVER_CEILING",
                ceiling=str(cap.ceiling),
            )
        if not cap.cash_allowed and Lot.DepositForm.CASH in forms:
            raise DepositRuleError(
                _("政府采购项目不得收取现金形式的保证金（《政府采购法实施条例》第三十三条）。"),
                code="CASH_DEPOSIT_NOT_ALLOWED",
            )
        missing = [form for form in cap.required_forms() if form not in forms]
        if deposit > 0 and missing:
            labels = dict(Lot.DepositForm.choices)
            raise DepositRuleError(
                _(
                    "政府采购项目由供应商自主选择保证金形式，不得限定；请同时提供：%(forms)s"
                    "（《政府采购法实施条例》第三十三条、财库〔2019〕38号）。"
                ),
                code="DEPOSIT_FORMS_NARROWED",
                forms="、".join(str(labels[form]) for form in missing),
            )


def check_invitees(project: Project) -> None:
    if project.method == Project.Method.SINGLE_SOURCE:
        # The notice names the one supplier (74号令 Art.38): kept as the project's only invitee.
        if project.invitees.count() != 1:
            raise ScheduleError(
                _("单一来源采购应当确定且只确定一家拟定供应商。"), code="SINGLE_SOURCE_SUPPLIER"
            )
        return
    if project.method != Project.Method.INVITATION:
        return
    minimum = rules_for(project).min_invitees
    if project.invitees.count() < minimum:
        raise ScheduleError(
            _("邀请招标应当邀请至少 %(minimum)s 家。"), code="TOO_FEW_INVITEES", minimum=minimum
        )


def published_deadline(project: Project) -> dt.datetime:
    """The bid deadline of a project past publication (`check_timeline` refused it without one)."""
    return present(project.bid_deadline, "a published project's bid deadline")


def earliest_deadline_after_change(project: Project, now: dt.datetime) -> dt.datetime:
    """The bid deadline that keeps the legal notice after a clarification or amendment published now.

    Unchanged if it already leaves enough time; otherwise the first moment at the deadline's own time of
    day that does, moved to a working day where the rules say so.
    """
    rules = rules_for(project)
    earliest = add_period(now, rules.amendment_notice)
    deadline = published_deadline(project)
    if deadline >= earliest:
        return deadline
    wanted = timezone.localtime(deadline)
    moved = timezone.localtime(earliest).replace(
        hour=wanted.hour, minute=wanted.minute, second=wanted.second, microsecond=0
    )
    if moved < earliest:
        moved += dt.timedelta(days=1)
    return next_working_moment(moved) if rules.deadline_on_working_day else moved


# --- Locks and permission helpers -----------------------------------------------------------------


def lock_project(project: Project | int) -> Project:
    """Re-read the project with a row lock. Callers must be inside transaction.atomic()."""
    pk = project.pk if isinstance(project, Project) else project
    return Project.objects.select_for_update().get(pk=pk)


def is_suspended(project: Project) -> bool:
    """Stopped: an objection to the documents is unanswered (条例 Art.22), or the regulator ordered a
    suspension that still stands (政府采购法 Art.57; 条例 Art.62)."""
    return suspended_since(project) is not None


def suspended_since(project: Project) -> dt.datetime | None:
    """When the current standstill began: the earliest unanswered objection or standing suspension."""
    starts = [
        moment
        for moment in (
            project.objections.filter(replied_at__isnull=True)
            .order_by("raised_at")
            .values_list("raised_at", flat=True)
            .first(),
            project.suspensions.filter(lifted_at__isnull=True)
            .order_by("started_at")
            .values_list("started_at", flat=True)
            .first(),
        )
        if moment is not None
    ]
    return min(starts) if starts else None


def ensure_not_suspended(project: Project) -> None:
    if project.suspensions.filter(lifted_at__isnull=True).exists():
        raise Suspended(_("监督部门已责令暂停该项目，恢复前不能办理。"))
    if project.objections.filter(replied_at__isnull=True).exists():
        raise Suspended(_("有异议尚未答复，招标投标活动暂停。"))


def _require_status(project: Project, *allowed: str) -> None:
    if project.status not in allowed:
        raise WrongStatus(
            _("项目当前状态为“%(status)s”，不能执行此操作。"), status=project.get_status_display()
        )


def _snapshot(project: Project) -> dict[str, Any]:
    return {field: getattr(project, field) for field in ("status", *TIMELINE_FIELDS)}


# --- Drafting -------------------------------------------------------------------------------------


def _apply_fields(project: Project, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if name in TIMELINE_FIELDS and value is not None and timezone.is_naive(value):
            raise DomainError(_("时间必须带时区：%(field)s"), code="NAIVE_TIME", field=name)
        setattr(project, name, value.strip() if isinstance(value, str) else value)
    if not project.title:
        raise DomainError(_("项目名称不能为空。"), code="TITLE_REQUIRED")
    for name, choices in (
        ("kind", Project.Kind),
        ("category", Project.Category),
        ("method", Project.Method),
    ):
        if getattr(project, name) not in choices.values:
            raise DomainError(_("无效的取值：%(field)s"), code="INVALID_CHOICE", field=name)
    if project.deposit_deadline is None:
        project.deposit_deadline = project.bid_deadline


def _replace_lots(project: Project, lots: list[dict[str, Any]]) -> None:
    project.lots.all().delete()
    Lot.objects.bulk_create([Lot(project=project, **lot) for lot in lots])


def _replace_invitees(project: Project, organization_ids: list[int]) -> None:
    orgs = list(
        Organization.objects.filter(pk__in=organization_ids, kind=Organization.Kind.SUPPLIER)
    )
    if len(orgs) != len(set(organization_ids)):
        raise DomainError(_("被邀请单位必须是已登记的投标人。"), code="INVALID_INVITEE")
    project.invitees.all().delete()
    Invitee.objects.bulk_create([Invitee(project=project, organization=org) for org in orgs])


def create_project(
    actor: Actor,
    *,
    owner: Organization,
    lots: list[dict[str, Any]],
    invitees: list[int] | None = None,
    **fields: Any,
) -> Project:
    """An agent drafts a project for an owner. The agent's organization gets the object permissions."""
    require_perm(actor, "trading.add_project")
    _refuse_unknown(fields, PROJECT_FIELDS)
    if actor.organization is None or actor.organization.kind not in (
        Organization.Kind.AGENT,
        Organization.Kind.OWNER,
    ):
        raise NotPermitted(_("只有招标代理机构或招标人可以创建项目。"))
    if owner.kind not in (Organization.Kind.OWNER, Organization.Kind.AGENT):
        raise DomainError(_("招标人必须是招标人/采购人类型的机构。"), code="INVALID_OWNER")
    clean_lots = [_clean_lot(i, lot) for i, lot in enumerate(lots, start=1)]
    with transaction.atomic():
        project = Project(
            number=f"DRAFT-{timezone.now():%Y%m%d%H%M%S%f}",
            owner=owner,
            agent=actor.organization,
            created_by=actor.user,
            kind=fields.pop("kind", ""),
            category=fields.pop("category", ""),
            method=fields.pop("method", ""),
            title=fields.pop("title", ""),
        )
        _apply_fields(project, fields)
        _offer_required_forms(project, clean_lots)
        check_lots(project, clean_lots)
        project.save()
        # A readable number from the primary key: unique without a counter table or a race.
        project.number = f"BH{timezone.localdate():%Y}{project.kind[:2].upper()}{project.pk:05d}"
        project.save(update_fields=["number"])
        _replace_lots(project, clean_lots)
        if invitees is not None:
            _replace_invitees(project, invitees)
        for perm in AGENT_PERMISSIONS:
            assign_perm(perm, actor.organization.members_group, project)
        assign_perm("trading.view_project", owner.members_group, project)
        record(
            actor,
            "trading.project.created",
            project,
            {
                "number": project.number,
                "title": project.title,
                "lots": clean_lots,
                **_snapshot(project),
            },
        )
    return project


def update_project(
    actor: Actor,
    project: Project,
    *,
    lots: list[dict[str, Any]] | None = None,
    invitees: list[int] | None = None,
    **fields: Any,
) -> Project:
    require_perm(actor, "trading.change_project", project)
    _refuse_unknown(fields, PROJECT_FIELDS)
    clean_lots = (
        [_clean_lot(i, lot) for i, lot in enumerate(lots, start=1)] if lots is not None else None
    )
    with transaction.atomic():
        locked = lock_project(project)
        _require_status(locked, *EDITABLE)
        _apply_fields(locked, fields)
        if clean_lots is not None:
            _offer_required_forms(locked, clean_lots)
        check_lots(locked, clean_lots if clean_lots is not None else list(locked.lots.all()))
        locked.save()
        if clean_lots is not None:
            _replace_lots(locked, clean_lots)
        if invitees is not None:
            _replace_invitees(locked, invitees)
        record(
            actor,
            "trading.project.updated",
            locked,
            {"fields": sorted(fields), "lots": clean_lots, **_snapshot(locked)},
        )
    return locked


def upload_document(
    actor: Actor, project: Project, upload: UploadedFile, *, title: str = "", lot: Lot | None = None
) -> ProjectDocument:
    """Store a tender document with its SHA-256. Before publication it joins the tender announcement;
    after, it is published by the next amendment."""
    require_perm(actor, "trading.change_project", project)
    digest, size = hashed_upload(upload)
    with transaction.atomic():
        locked = lock_project(project)
        if locked.status == Project.Status.TERMINATED:
            raise WrongStatus(_("项目已终止。"))
        document = ProjectDocument(
            project=locked,
            lot=lot,
            title=(title or upload.name or "").strip()[:200] or "document",
            sha256=digest,
            size=size,
            content_type=getattr(upload, "content_type", "") or "",
            uploaded_by=actor.user,
        )
        document.file.save(upload.name or "document", upload, save=False)
        document.save()
        record(
            actor,
            "trading.document.uploaded",
            document,
            {
                "project": locked.pk,
                "title": document.title,
                "sha256": document.sha256,
                "size": document.size,
            },
        )
    return document


# --- Entering the center (进场登记) ---------------------------------------------------------------


def submit_project(actor: Actor, project: Project) -> Project:
    require_perm(actor, "trading.submit_project", project)
    with transaction.atomic():
        locked = lock_project(project)
        _require_status(locked, *EDITABLE)
        check_timeline(locked)
        check_lots(locked, list(locked.lots.all()))
        check_invitees(locked)
        locked.status = Project.Status.SUBMITTED
        locked.submitted_at = timezone.now()
        locked.save(update_fields=["status", "submitted_at"])
        record(actor, "trading.project.submitted", locked, _snapshot(locked))
    return locked


def approve_project(actor: Actor, project: Project) -> Project:
    require_perm(actor, "trading.review_project", project)
    with transaction.atomic():
        locked = lock_project(project)
        _require_status(locked, Project.Status.SUBMITTED)
        locked.status = Project.Status.APPROVED
        locked.approved_at = timezone.now()
        locked.return_reason = ""
        locked.save(update_fields=["status", "approved_at", "return_reason"])
        event = record(actor, "trading.project.approved", locked, _snapshot(locked))
        notify(
            "project.approved",
            recipients.members(locked.agent),
            cause=f"project.approved:{event.pk}",
            params={"project": f"{locked.number} {locked.title}"},
            url=f"/projects/{locked.pk}/",
        )
    return locked


def return_project(actor: Actor, project: Project, *, reason: str) -> Project:
    require_perm(actor, "trading.review_project", project)
    if not (reason or "").strip():
        raise DomainError(_("退回时必须说明理由。"), code="REASON_REQUIRED")
    with transaction.atomic():
        locked = lock_project(project)
        _require_status(locked, Project.Status.SUBMITTED)
        locked.status = Project.Status.RETURNED
        locked.return_reason = reason.strip()
        locked.save(update_fields=["status", "return_reason"])
        event = record(actor, "trading.project.returned", locked, {"reason": locked.return_reason})
        notify(
            "project.returned",
            recipients.members(locked.agent),
            cause=f"project.returned:{event.pk}",
            params={"project": f"{locked.number} {locked.title}", "reason": locked.return_reason},
            url=f"/projects/{locked.pk}/",
        )
    return locked


# --- Announcements --------------------------------------------------------------------------------


def project_content(project: Project) -> dict[str, Any]:
    """Everything a notice states about the project, as JSON values (money as strings)."""
    documents = project.documents.filter(published_at__isnull=False).order_by("uploaded_at", "pk")
    content: dict[str, Any] = canonical_value(
        {
            "number": project.number,
            "ocid": project.ocid,
            "title": project.title,
            "description": project.description,
            "kind": project.kind,
            "category": project.category,
            "method": project.method,
            "region": project.region,
            "owner": {"name": project.owner.name, "uscc": project.owner.uscc},
            "agent": {"name": project.agent.name, "uscc": project.agent.uscc},
            "registration_required": project.registration_required,
            "bid_validity_days": project.bid_validity_days,
            "timeline": {name: getattr(project, name) for name in TIMELINE_FIELDS},
            "lots": [
                {
                    "number": lot.number,
                    "name": lot.name,
                    # The service reads amounts as the wire writes them (lib.money), whoever calls.
                    "estimate": format_amount(lot.estimate),
                    "ceiling_price": (
                        format_amount(lot.ceiling_price) if lot.ceiling_price is not None else None
                    ),
                    "deposit_amount": format_amount(lot.deposit_amount),
                    "deposit_forms": lot.deposit_forms,
                }
                for lot in project.lots.all()
            ],
            "documents": [
                {"id": d.pk, "title": d.title, "sha256": d.sha256, "size": d.size}
                for d in documents
            ],
            "status": project.status,
        }
    )
    if project.method == Project.Method.SINGLE_SOURCE:
        # 单一来源公示 names the intended supplier (74号令 Art.38); the reasons are the description.
        content["single_source_supplier"] = [
            {"name": invitee.organization.name, "uscc": invitee.organization.uscc}
            for invitee in project.invitees.select_related("organization")
        ]
    return content


def content_hash(content: dict[str, Any]) -> str:
    return canonical_sha256(content)


def publish_version(
    actor: Actor,
    project: Project,
    kind: str,
    *,
    title: str,
    body: str,
    reason: str = "",
    extra: dict[str, Any] | None = None,
) -> AnnouncementVersion:
    """Publish the next version of the project's announcement of `kind` (creating the series).

    The version's content is frozen JSON and its SHA-256 chains to the previous version's. Caller holds
    the project lock inside its transaction.
    """
    now = timezone.now()
    announcement = (
        Announcement.objects.select_for_update().filter(project=project, kind=kind).first()
    )
    previous = announcement.versions.order_by("-number").first() if announcement else None
    number = previous.number + 1 if previous else 1
    if announcement is None:
        announcement = Announcement.objects.create(
            project=project,
            kind=kind,
            title=title,
            region=project.region,
            project_kind=project.kind,
            first_published_at=now,
            last_published_at=now,
            version_count=0,
        )
    content = canonical_value(
        {
            "announcement": {"id": announcement.pk, "kind": kind},
            "version": number,
            "title": title,
            "body": body,
            "reason": reason,
            "published_at": now,
            "previous_sha256": previous.sha256 if previous else None,
            "project": project_content(project),
            **(extra or {}),
        }
    )
    version = AnnouncementVersion.objects.create(
        announcement=announcement,
        number=number,
        title=title,
        body=body,
        content=content,
        sha256=content_hash(content),
        reason=reason,
        published_at=now,
        published_by=actor.user,
    )
    Announcement.objects.filter(pk=announcement.pk).update(
        title=title, last_published_at=now, version_count=number
    )
    record(
        actor,
        "trading.announcement.published",
        version,
        {
            "announcement": announcement.pk,
            "kind": kind,
            "version": number,
            "sha256": version.sha256,
        },
    )
    return version


def _main_title(project: Project) -> str:
    kind = MAIN_ANNOUNCEMENT[project.kind]
    return f"{project.title}{Announcement.Kind(kind).label}"


def publish_project(actor: Actor, project: Project, *, body: str = "") -> AnnouncementVersion:
    """Publish an approved project: its documents become available and the main notice goes out."""
    require_perm(actor, "trading.publish_project", project)
    with transaction.atomic():
        locked = lock_project(project)
        _require_status(locked, Project.Status.APPROVED)
        now = timezone.now()
        check_timeline(locked, now=now)
        check_invitees(locked)
        locked.status = Project.Status.PUBLISHED
        locked.published_at = now
        locked.save(update_fields=["status", "published_at"])
        locked.documents.filter(published_at__isnull=True).update(published_at=now)
        version = publish_version(
            actor,
            locked,
            MAIN_ANNOUNCEMENT[locked.kind],
            title=_main_title(locked),
            body=body or locked.description,
            reason=str(_("首次发布")),
        )
        record(actor, "trading.project.published", locked, _snapshot(locked))
        _schedule_openings(locked)
        if locked.method in (Project.Method.INVITATION, Project.Method.SINGLE_SOURCE):
            notify(
                "tender.invited",
                recipients.bidders_of(
                    invitee.organization
                    for invitee in locked.invitees.select_related("organization")
                ),
                cause=f"tender.invited:{locked.pk}",
                params={"project": f"{locked.number} {locked.title}"},
                url=f"/projects/{locked.pk}/",
            )
    return version


OPEN_LOT_STEP = "bidding.open_lot"  # registered by bidding/tasks.py


def _schedule_openings(project: Project) -> None:
    """Bids open at the deadline: one clock task per lot, moved whenever the deadline moves."""
    if (
        project.kind in (Project.Kind.CONSTRUCTION, Project.Kind.GOVERNMENT_PROCUREMENT)
        and project.method in SEALED_METHODS
    ):
        for lot in project.lots.all():
            schedule(OPEN_LOT_STEP, lot.pk, published_deadline(project))


def _registered_organizations(project: Project) -> list[Organization]:
    return list(
        Organization.objects.filter(registrations__project=project).distinct().order_by("pk")
    )


def _project_label(project: Project) -> str:
    return f"{project.number} {project.title}"


def _tell_registered(
    project: Project,
    kind: str,
    *,
    cause: str,
    params: dict[str, str],
    due_at: dt.datetime | None = None,
) -> None:
    """Tell every registered bidder's bid operators about a change to the tender they prepare for."""
    notify(
        kind,
        recipients.bidders_of(_registered_organizations(project)),
        cause=cause,
        params={"project": _project_label(project), **params},
        url=f"/projects/{project.pk}/",
        due_at=due_at,
    )


def _move_deadline(actor: Actor, project: Project, new_deadline: dt.datetime, why: str) -> bool:
    """Move the bid (and, if it followed, deposit) deadline. Caller holds the project lock."""
    old = project.bid_deadline
    if new_deadline == old:
        return False
    if project.deposit_deadline == old or (
        project.deposit_deadline and project.deposit_deadline > new_deadline
    ):
        project.deposit_deadline = new_deadline
    project.bid_deadline = new_deadline
    project.save(update_fields=["bid_deadline", "deposit_deadline"])
    _schedule_openings(project)
    record(
        actor,
        "trading.project.deadline_moved",
        project,
        {"from": old, "to": new_deadline, "why": why},
    )
    return True


def publish_amendment(
    actor: Actor,
    project: Project,
    *,
    title: str,
    body: str,
    bid_deadline: dt.datetime | None = None,
    affects_bid_preparation: bool = True,
) -> AnnouncementVersion:
    """Publish a 变更公告 (and any documents uploaded since). If less than the legal notice remains before
    the deadline, the deadline moves so it does (招标投标法 Art.23); the main notice gets a new version
    with the new timeline; registered suppliers are told."""
    require_perm(actor, "trading.manage_project", project)
    if not (title or "").strip() or not (body or "").strip():
        raise DomainError(_("变更公告须有标题和正文。"), code="CONTENT_REQUIRED")
    with transaction.atomic():
        locked = lock_project(project)
        deadline_before = locked.bid_deadline
        _require_status(locked, Project.Status.PUBLISHED)
        now = timezone.now()
        if now >= published_deadline(locked):
            raise TooLate(_("投标截止时间已过，不能再发布变更。"))
        moved_reason = ""
        if bid_deadline is not None:
            check_not_on_holiday({str(_("投标截止时间")): bid_deadline}, rules_for(locked))
            if bid_deadline < published_deadline(locked):
                # An earlier deadline must still meet every minimum period, counted from the original start.
                trial = Project(
                    **{f.attname: getattr(locked, f.attname) for f in Project._meta.concrete_fields}
                )
                trial.bid_deadline = bid_deadline
                check_timeline(trial)
            _move_deadline(actor, locked, bid_deadline, "amendment")
        if affects_bid_preparation:
            legal = earliest_deadline_after_change(locked, now)
            if legal != locked.bid_deadline:
                _move_deadline(actor, locked, legal, "notice_period")
                moved_reason = str(
                    _("因距投标截止不足%(period)s，投标截止时间顺延至 %(deadline)s。")
                    % {
                        "period": rules_for(locked).amendment_notice.label(),
                        "deadline": timezone.localtime(legal).strftime("%Y-%m-%d %H:%M"),
                    }
                )
        locked.documents.filter(published_at__isnull=True).update(published_at=now)
        amendment = publish_version(
            actor,
            locked,
            Announcement.Kind.AMENDMENT,
            title=title.strip(),
            body=body.strip() + (f"\n\n{moved_reason}" if moved_reason else ""),
            reason=str(_("变更")),
        )
        publish_version(
            actor,
            locked,
            MAIN_ANNOUNCEMENT[locked.kind],
            title=_main_title(locked),
            body=locked.description,
            reason=str(_("变更：%(title)s") % {"title": title.strip()}),
        )
        event = record(
            actor, "trading.project.amended", locked, {"title": title.strip(), **_snapshot(locked)}
        )
        _tell_registered(
            locked,
            "tender.amended",
            cause=f"tender.amended:{event.pk}",
            params={"summary": moved_reason or title.strip()},
        )
        if locked.bid_deadline != deadline_before:
            _tell_registered(
                locked,
                "deadline.moved",
                cause=f"deadline.moved:{event.pk}",
                params={"deadline": moment_text(locked.bid_deadline)},
                due_at=locked.bid_deadline,
            )
    return amendment


def terminate_project(actor: Actor, project: Project, *, reason: str) -> AnnouncementVersion:
    """终止公告 (条例 Art.31). Deposits are refunded with interest by the deposits app."""
    require_perm(actor, "trading.manage_project", project)
    if not (reason or "").strip():
        raise DomainError(_("终止须说明理由。"), code="REASON_REQUIRED")
    with transaction.atomic():
        locked = lock_project(project)
        _require_status(locked, Project.Status.PUBLISHED)
        locked.status = Project.Status.TERMINATED
        locked.termination_reason = reason.strip()
        locked.save(update_fields=["status", "termination_reason"])
        version = publish_version(
            actor,
            locked,
            Announcement.Kind.TERMINATION,
            title=f"{locked.title}{Announcement.Kind.TERMINATION.label}",
            body=locked.termination_reason,
            reason=str(_("终止")),
        )
        event = record(
            actor, "trading.project.terminated", locked, {"reason": locked.termination_reason}
        )
        # 条例 Art.31: every deposit comes back, with interest (deposits' receiver).
        project_terminated.send(Project, actor=actor, project=locked, at=timezone.now())
        _tell_registered(
            locked,
            "tender.terminated",
            cause=f"tender.terminated:{event.pk}",
            params={"reason": locked.termination_reason},
        )
    return version


# --- Suppliers: registration, questions, objections -----------------------------------------------


def _require_supplier(actor: Actor) -> Organization:
    if actor.role != Role.SUPPLIER or actor.organization is None:
        raise NotPermitted(_("只有投标人/竞买人可以执行此操作。"))
    return actor.organization


def register(
    actor: Actor, lot: Lot, *, contact_name: str = "", contact_phone: str = ""
) -> Registration:
    """报名 for a lot while its documents are available. Gated by `ensure_may_trade`; done by the
    organization's bid operators and administrators."""
    org = _require_supplier(actor)
    require_org_role(actor, OrgRole.BID_OPERATOR, OrgRole.ADMIN)
    with transaction.atomic():
        project = lock_project(lot.project_id)
        _require_status(project, Project.Status.PUBLISHED)
        now = timezone.now()
        ensure_may_trade(org, now)
        ensure_not_suspended(project)
        if now < present(project.documents_from, "a published project's documents_from"):
            raise TooLate(_("报名尚未开始。"), code="NOT_YET_OPEN")
        if now > present(project.documents_until, "a published project's documents_until"):
            raise TooLate(_("报名已截止。"))
        if (
            project.method in (Project.Method.INVITATION, Project.Method.SINGLE_SOURCE)
            and not project.invitees.filter(organization=org).exists()
        ):
            raise NotPermitted(_("本项目为邀请招标，贵单位不在邀请名单中。"))
        if Registration.objects.filter(lot=lot, organization=org).exists():
            raise DomainError(_("贵单位已报名该标段。"), code="ALREADY_REGISTERED")
        registration = Registration.objects.create(
            project=project,
            lot=lot,
            organization=org,
            registered_by=actor.acting_user,
            registered_at=now,
            contact_name=contact_name.strip()[:50],
            contact_phone=contact_phone.strip()[:20],
        )
        assign_perm("trading.view_registration", org.members_group, registration)
        record(
            actor,
            "trading.registration.created",
            registration,
            {"project": project.pk, "lot": lot.pk},
        )
        notify(
            "registration.confirmed",
            recipients.bidders(org),
            cause=f"registration.confirmed:{registration.pk}",
            params={"project": _project_label(project), "lot": lot.name},
            url=f"/projects/{project.pk}/",
        )
    return registration


def may_download(user: Any, document: ProjectDocument) -> bool:
    """Published documents of a project: for registered suppliers when registration is required."""
    project = document.project
    if has_perm(user, "trading.view_project", project):
        return True
    if document.published_at is None or project.status not in (
        Project.Status.PUBLISHED,
        Project.Status.TERMINATED,
    ):
        return False
    if not project.registration_required:
        return True
    return bool(
        getattr(user, "organization_id", None)
        and Registration.objects.filter(
            project=project, organization_id=user.organization_id
        ).exists()
    )


def ask_question(actor: Actor, project: Project, *, text: str) -> Question:
    org = _require_supplier(actor)
    if not (text or "").strip():
        raise DomainError(_("问题不能为空。"), code="TEXT_REQUIRED")
    with transaction.atomic():
        locked = lock_project(project)
        _require_status(locked, Project.Status.PUBLISHED)
        now = timezone.now()
        if now > present(locked.questions_until, "a published project's questions_until"):
            raise TooLate(_("提问已截止。"))
        question = Question.objects.create(
            project=locked,
            organization=org,
            asked_by=actor.acting_user,
            text=text.strip(),
            asked_at=now,
        )
        # The asker's identity stays out of the public record; the audit chain keeps it for supervisors.
        event = record(
            actor, "trading.question.asked", question, {"project": locked.pk, "text": question.text}
        )
        # The agent learns that a question waits, not who asked it.
        notify(
            "question.asked",
            recipients.members(locked.agent),
            cause=f"question.asked:{event.pk}",
            params={"project": _project_label(locked)},
            url=f"/projects/{locked.pk}/",
        )
    return question


def _clarification_body(project: Project) -> str:
    answered = project.questions.filter(answered_at__isnull=False).order_by("answered_at", "pk")
    parts = [f"问{i}：{q.text}\n答：{q.answer}" for i, q in enumerate(answered, start=1)]
    return "\n\n".join(parts)


def answer_question(
    actor: Actor, question: Question, *, answer: str, affects_bid_preparation: bool = False
) -> AnnouncementVersion:
    """Answer publicly, as a new version of the project's 澄清公告. An answer that changes how bids are
    prepared is a clarification under 招标投标法 Art.23: the deadline keeps the legal notice."""
    require_perm(actor, "trading.manage_project", question.project)
    if not (answer or "").strip():
        raise DomainError(_("答复不能为空。"), code="TEXT_REQUIRED")
    with transaction.atomic():
        locked = lock_project(question.project_id)
        _require_status(locked, Project.Status.PUBLISHED)
        current = Question.objects.select_for_update().get(pk=question.pk)
        if current.answered_at is not None:
            raise DomainError(_("该问题已答复。"), code="ALREADY_ANSWERED")
        now = timezone.now()
        if now >= published_deadline(locked):
            raise TooLate(_("投标截止时间已过。"))
        current.answer = answer.strip()
        current.answered_at = now
        current.answered_by = actor.user
        current.save(update_fields=["answer", "answered_at", "answered_by"])
        note = ""
        if affects_bid_preparation:
            legal = earliest_deadline_after_change(locked, now)
            if _move_deadline(actor, locked, legal, "clarification"):
                note = str(
                    _("因距投标截止不足%(period)s，投标截止时间顺延至 %(deadline)s。")
                    % {
                        "period": rules_for(locked).amendment_notice.label(),
                        "deadline": timezone.localtime(legal).strftime("%Y-%m-%d %H:%M"),
                    }
                )
                publish_version(
                    actor,
                    locked,
                    MAIN_ANNOUNCEMENT[locked.kind],
                    title=_main_title(locked),
                    body=locked.description,
                    reason=str(_("澄清后顺延投标截止时间")),
                )
        version = publish_version(
            actor,
            locked,
            Announcement.Kind.CLARIFICATION,
            title=f"{locked.title}{Announcement.Kind.CLARIFICATION.label}",
            body=_clarification_body(locked) + (f"\n\n{note}" if note else ""),
            reason=str(_("答疑")),
        )
        event = record(
            actor,
            "trading.question.answered",
            current,
            {
                "project": locked.pk,
                "answer": current.answer,
                "affects_bid_preparation": affects_bid_preparation,
            },
        )
        _tell_registered(
            locked,
            "tender.clarified" if affects_bid_preparation else "question.answered",
            cause=f"question.answered:{event.pk}",
            params={"summary": note or current.answer},
        )
    return version


def raise_objection(actor: Actor, project: Project, *, text: str) -> Objection:
    """异议 to the tender documents: accepted until the cut-off before the deadline (条例 Art.22); the
    tender is suspended until the agent replies."""
    org = _require_supplier(actor)
    if not (text or "").strip():
        raise DomainError(_("异议内容不能为空。"), code="TEXT_REQUIRED")
    with transaction.atomic():
        locked = lock_project(project)
        was_suspended = is_suspended(locked)
        _require_status(locked, Project.Status.PUBLISHED)
        now = timezone.now()
        rules = rules_for(locked)
        closes_at = objections_close_at(locked, rules)
        if now > closes_at:
            raise TooLate(
                _("对招标文件的异议应当在 %(until)s 前提出。"),
                until=timezone.localtime(closes_at).strftime("%Y-%m-%d %H:%M"),
            )
        objection = Objection.objects.create(
            project=locked,
            organization=org,
            raised_by=actor.acting_user,
            text=text.strip(),
            raised_at=now,
            reply_due_at=deadline_after(now, rules.objection_reply, rules),
        )
        assign_perm("trading.view_objection", org.members_group, objection)
        event = record(
            actor,
            "trading.objection.raised",
            objection,
            {"project": locked.pk, "text": objection.text, "reply_due_at": objection.reply_due_at},
        )
        # Who objected stays with the agent's page and the audit chain, not in the notice.
        notify(
            "objection.raised",
            [*recipients.members(locked.agent), *recipients.supervisors()],
            cause=f"objection.raised:{event.pk}",
            params={
                "project": _project_label(locked),
                "deadline": moment_text(objection.reply_due_at),
            },
            url=f"/projects/{locked.pk}/",
            due_at=objection.reply_due_at,
        )
        if not was_suspended:
            _tell_registered(
                locked,
                "tender.suspended",
                cause=f"tender.suspended:{event.pk}",
                params={"reason": str(_("收到异议/质疑，待答复后恢复"))},
            )
    return objection


def reply_objection(actor: Actor, objection: Objection, *, reply: str) -> Objection:
    """Reply to an objection. When the last open one is answered the tender resumes, and the deadline
    moves by the time it stood suspended, so no bidder loses preparation time."""
    require_perm(actor, "trading.manage_project", objection.project)
    if not (reply or "").strip():
        raise DomainError(_("答复不能为空。"), code="TEXT_REQUIRED")
    with transaction.atomic():
        locked = lock_project(objection.project_id)
        current = Objection.objects.select_for_update().get(pk=objection.pk)
        if current.replied_at is not None:
            raise DomainError(_("该异议已答复。"), code="ALREADY_ANSWERED")
        now = timezone.now()
        # The objection being answered is itself unreplied, so the project stands suspended.
        since = present(suspended_since(locked), "the suspension of an unreplied objection")
        current.reply = reply.strip()
        current.replied_at = now
        current.replied_by = actor.user
        current.save(update_fields=["reply", "replied_at", "replied_by"])
        event = record(
            actor,
            "trading.objection.replied",
            current,
            {"project": locked.pk, "reply": current.reply},
        )
        notify(
            "objection.answered",
            recipients.bidders(current.organization),
            cause=f"objection.answered:{event.pk}",
            params={"project": _project_label(locked)},
            url=f"/projects/{locked.pk}/",
        )
        if not is_suspended(locked):
            _resume(actor, locked, since, now, cause=f"tender.resumed:{event.pk}")
    return current


def _resume(
    actor: Actor, project: Project, since: dt.datetime, now: dt.datetime, *, cause: str
) -> None:
    """The project moves again after standing still from `since`. Every period still running then is
    given back the time it stood: a bid deadline still ahead moves (and the announcement says so), and
    the apps above trading move theirs (`project_resumed`: the candidate publicity, the contract's
    deadline). Caller holds the project lock, inside the transaction that ended the standstill."""
    paused = now - since
    if project.status != Project.Status.PUBLISHED:
        return
    summary = str(
        _("暂停 %(hours)s 小时后恢复") % {"hours": round(paused.total_seconds() / 3600, 1)}
    )
    due_at = None
    if project.bid_deadline is not None and published_deadline(project) > since:
        moved = published_deadline(project) + paused
        if rules_for(project).deadline_on_working_day:
            moved = next_working_moment(moved)
        _move_deadline(actor, project, moved, "suspension")
        publish_version(
            actor,
            project,
            MAIN_ANNOUNCEMENT[project.kind],
            title=_main_title(project),
            body=project.description,
            reason=str(_("暂停后恢复，投标截止时间顺延暂停的时长")),
        )
        summary = str(_("投标截止时间：%(d)s") % {"d": moment_text(project.bid_deadline)})
        due_at = project.bid_deadline
    project_resumed.send(sender=Project, actor=actor, project=project, since=since, paused=paused)
    _tell_registered(
        project, "tender.resumed", cause=cause, params={"summary": summary}, due_at=due_at
    )


LIFT_SUSPENSION_STEP = "trading.lift_suspension"  # registered by trading/tasks.py


def suspend_project(
    actor: Actor, project: Project, *, reason: str, ends_by: dt.datetime, source: str
) -> Suspension:
    """The regulator stops the project (政府采购法 Art.57; 条例 Art.62) until it lifts the order, or
    `ends_by` (the clock lifts it then). Caller (the complaint's service) checks the case and the
    legal cap on `ends_by`; this checks the permission and the project's state."""
    require_perm(actor, "trading.suspend_project", project)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("暂停理由不能为空。"), code="TEXT_REQUIRED")
    with transaction.atomic():
        locked = lock_project(project)
        _require_status(locked, Project.Status.PUBLISHED)
        if locked.method not in SEALED_METHODS | GP_ONLY_METHODS:
            # A live room's clock (电子反拍, 挂牌出让) cannot be held and given back yet: refused
            # rather than pretended. The regulator may still decide the case and order a remedy.
            raise DomainError(
                _("该交易方式（%(method)s）暂不支持暂停，请依法另行处理。"),
                code="SUSPENSION_NOT_SUPPORTED",
                method=locked.get_method_display(),
            )
        now = timezone.now()
        if ends_by <= now:
            raise DomainError(_("暂停期限必须晚于现在。"), code="SUSPENSION_END_INVALID")
        if locked.suspensions.filter(lifted_at__isnull=True, source=source).exists():
            raise DomainError(_("该案件已责令暂停该项目。"), code="ALREADY_SUSPENDED")
        was_suspended = is_suspended(locked)
        suspension = Suspension.objects.create(
            project=locked,
            source=source,
            reason=reason,
            ordered_by=actor.acting_user,
            started_at=now,
            ends_by=ends_by,
        )
        schedule(LIFT_SUSPENSION_STEP, suspension.pk, ends_by)
        event = record(
            actor,
            "trading.project.suspended",
            locked,
            {"source": source, "reason": reason, "ends_by": ends_by, "suspension": suspension.pk},
        )
        if not was_suspended:
            _tell_registered(
                locked,
                "tender.suspended",
                cause=f"tender.suspended:{event.pk}",
                params={"reason": reason},
            )
            notify(
                "tender.suspended",
                recipients.members(locked.agent),
                cause=f"tender.suspended:{event.pk}",
                params={"project": _project_label(locked), "reason": reason},
                url=f"/projects/{locked.pk}/",
            )
    return suspension


def lift_suspension(actor: Actor, suspension: Suspension, *, why: str) -> Suspension:
    """End a suspension (the regulator's order, its decision on the case, or `ends_by` reached: the
    clock). Idempotent: lifting a lifted one changes nothing. When nothing else holds the project, it
    resumes (`_resume`)."""
    require_perm(actor, "trading.suspend_project", suspension.project)
    with transaction.atomic():
        locked = lock_project(suspension.project_id)
        current = Suspension.objects.select_for_update().get(pk=suspension.pk)
        if current.lifted_at is not None:
            return current
        since = present(suspended_since(locked), "the start of a standing suspension")
        now = timezone.now()
        current.lifted_at = now
        current.lifted_by = actor.user
        current.save(update_fields=["lifted_at", "lifted_by"])
        cancel(LIFT_SUSPENSION_STEP, current.pk)
        event = record(
            actor,
            "trading.project.resumed",
            locked,
            {"source": current.source, "why": why, "suspension": current.pk},
        )
        if not is_suspended(locked):
            _resume(actor, locked, since, now, cause=f"tender.resumed:{event.pk}")
    return current


# --- Re-tendering a failed lot (重新招标) ----------------------------------------------------------

RETENDER_SUFFIX = "（重新招标）"


def failed_lots(project: Project) -> list[tuple[Lot, Project | None]]:
    """The project's lots whose opening failed (流标), each with the re-tender made from it, if any."""
    lots = (
        Lot.objects.filter(project=project)
        .filter(failed_lot_answer().condition())
        .select_related("opening")
        .order_by("number")
    )
    return [(lot, lot.retenders.exclude(status=Project.Status.TERMINATED).first()) for lot in lots]


def retender_failed_lot(
    actor: Actor,
    lot: Lot,
    *,
    documents_from: dt.datetime,
    documents_until: dt.datetime,
    questions_until: dt.datetime,
    bid_deadline: dt.datetime,
    deposit_deadline: dt.datetime | None = None,
) -> Project:
    """重新招标 (招标投标法 Art.28, 条例 Art.44; 政府采购法 Art.36) of a lot that failed at its opening.

    As a center does it: a new project (its own number, announcement and 进场登记), drafted by the same
    agent for the same owner, holding the failed lot alone with its prices and deposit, the same
    invitees and the same published documents (byte for byte: same SHA-256) as a starting point. The
    new dates must pass every legal period again, counted from now; the draft then goes through
    submission, approval and publication like any other. One live re-tender per failed lot.
    """
    require_perm(actor, "trading.manage_project", lot.project)
    timeline = {
        "documents_from": documents_from,
        "documents_until": documents_until,
        "questions_until": questions_until,
        "bid_deadline": bid_deadline,
        "deposit_deadline": deposit_deadline,
    }
    with transaction.atomic():
        original = lock_project(lot.project_id)
        lot = Lot.objects.get(pk=lot.pk)
        failure_reason = failed_lot_answer().reason(lot)
        if failure_reason is None:
            raise WrongStatus(_("只有流标的标段可以重新招标。"), code="LOT_NOT_FAILED")
        if lot.retenders.exclude(status=Project.Status.TERMINATED).exists():
            raise DomainError(_("该标段已发起重新招标。"), code="ALREADY_RETENDERED")
        title = original.title
        if not title.endswith(RETENDER_SUFFIX):
            title = title[: 200 - len(RETENDER_SUFFIX)] + RETENDER_SUFFIX
        project = create_project(
            actor,
            owner=original.owner,
            lots=[
                {
                    "name": lot.name,
                    # The service reads amounts as the wire writes them (lib.money), whoever calls.
                    "estimate": format_amount(lot.estimate),
                    "ceiling_price": (
                        format_amount(lot.ceiling_price) if lot.ceiling_price is not None else None
                    ),
                    "deposit_amount": format_amount(lot.deposit_amount),
                    "deposit_forms": lot.deposit_forms,
                    "deposit_currencies": lot.deposit_currencies or ["CNY"],
                }
            ],
            invitees=list(original.invitees.values_list("organization_id", flat=True)),
            title=title,
            description=original.description,
            kind=original.kind,
            category=original.category,
            method=original.method,
            region=original.region,
            mandatory_tender=original.mandatory_tender,
            registration_required=original.registration_required,
            bid_validity_days=original.bid_validity_days,
            two_suppliers_allowed=original.two_suppliers_allowed,
            **timeline,
        )
        check_timeline(project, now=timezone.now())
        project.retender_of = lot
        project.save(update_fields=["retender_of"])
        copied = _copy_documents(actor, original, lot, project)
        record(
            actor,
            "trading.project.retendered",
            project,
            {
                "from_project": original.pk,
                "from_lot": lot.pk,
                "failure_reason": failure_reason,
                "documents": [d.sha256 for d in copied],
                **_snapshot(project),
            },
        )
    return project


def _copy_documents(
    actor: Actor, original: Project, lot: Lot, project: Project
) -> list[ProjectDocument]:
    """The original's published documents for the whole project or the failed lot, as unpublished
    drafts of the new project (they go out with its announcement)."""
    from django.core.files.base import ContentFile

    new_lot = project.lots.get()
    copies = []
    for source in (
        original.documents.filter(published_at__isnull=False)
        .filter(Q(lot__isnull=True) | Q(lot=lot))
        .order_by("uploaded_at", "pk")
    ):
        with source.file.open("rb") as handle:
            content = handle.read()
        document = ProjectDocument(
            project=project,
            lot=new_lot if source.lot_id else None,
            title=source.title,
            sha256=sha256_hex(content),
            size=len(content),
            content_type=source.content_type,
            uploaded_by=actor.user,
        )
        # Stored as "<sha256 prefix>-<original name>"; the copy gets its own prefix.
        name = present(source.file.name, "a stored document's name").rsplit("/", 1)[-1]
        name = name.split("-", 1)[-1]
        document.file.save(name, ContentFile(content), save=False)
        document.save()
        copies.append(document)
    return copies
