"""Pages of contracts (合同与履约), mounted at /contracts/ (contracts/urls.py).

- the list: the contracts the user may see and, for an agent, its awarded lots still without one;
- drafting: the agent writes the terms of an awarded lot's contract (the price is the award's);
- the contract: parties, versions with their diffs, files, the signing of the pending version
  (the browser signer, `templates/signing/script.html`), milestones, acceptance, issues, and the
  forms of whoever may act now.

Views parse, call one service and redirect (POST/redirect/GET). A DomainError re-renders the page
with the service's message at the error's status. A contract the user may not see is a 404.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from accounts.models import Role
from accounts.permissions import has_perm, signed_in_user
from bidding.models import Publicity
from contracts import services
from contracts.api import contract_with_parts, visible_contracts
from contracts.models import Acceptance, Contract, ContractDocument, PerformanceIssue
from lib.errors import DomainError, present
from lib.money import format_amount
from lib.numbers import NumberError, parse_integer
from lib.uploads import accepts_uploads
from signing.services import parse_signed
from trading.models import Lot


def _date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError as exc:
        raise DomainError(
            _("日期格式应为 YYYY-MM-DD（%(field)s）。") % {"field": field}, code="INVALID_DATE"
        ) from exc


def _contract(request: HttpRequest, pk: int) -> Contract:
    found = contract_with_parts(pk)
    if found is None or not services.may_see(request.user, found):
        raise Http404
    return found


def _lots_to_draft(user: Any) -> list[Publicity]:
    if user.role != Role.AGENT or user.organization_id is None:
        return []
    return list(
        Publicity.objects.filter(
            ~Contract.live_for_lot(),
            status=Publicity.Status.AWARDED,
            lot__project__agent_id=user.organization_id,
        )
        .select_related("lot__project", "winner")
        .order_by("contract_due_at")[:50]
    )


@login_required
def contract_list(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if not user.has_perm("contracts.view_contract") and user.role not in (
        Role.SUPPLIER,
        Role.AGENT,
    ):
        raise PermissionDenied
    status = request.GET.get("status", "")
    rows = visible_contracts(user)
    if status in Contract.Status.values:
        rows = rows.filter(status=status)
    else:
        status = ""
    return render(
        request,
        "contracts/list.html",
        {
            "contracts": list(rows[:200]),
            "to_draft": _lots_to_draft(user),
            "status": status,
            "statuses": Contract.Status.choices,
        },
    )


def _lot_to_draft(request: HttpRequest, pk: int) -> tuple[Lot, Publicity]:
    lot = Lot.objects.select_related("project").filter(pk=pk).first()
    if lot is None or not has_perm(request.user, "trading.manage_project", lot.project):
        raise Http404
    publicity = Publicity.objects.select_related("winner").filter(lot=lot).first()
    if publicity is None or publicity.status != Publicity.Status.AWARDED:
        raise Http404
    return lot, publicity


@accepts_uploads(Role.AGENT)
@login_required
def contract_new(request: HttpRequest, pk: int) -> HttpResponseBase:
    lot, publicity = _lot_to_draft(request, pk)
    existing = Contract.objects.filter(lot=lot).first()
    if existing is not None:
        return redirect("contract_detail", existing.pk)
    price = format_amount(services.award_price(publicity))
    context: dict[str, Any] = {
        "lot": lot,
        "publicity": publicity,
        "price": price,
        "terms": request.POST.get("terms", ""),
        "performance_bond": request.POST.get("performance_bond", ""),
    }
    if request.method == "POST":
        try:
            drafted = services.draft_contract(
                Actor.from_request(request),
                lot,
                price=request.POST.get("price", ""),
                terms=request.POST.get("terms", ""),
                performance_bond=request.POST.get("performance_bond") or None,
                files=request.FILES.getlist("files"),
            )
        except DomainError as exc:
            context.update(error=exc.message, error_code=exc.code)
            return render(request, "contracts/new.html", context, status=exc.http_status)
        messages.success(request, _("合同已起草，请双方签署。"))
        return redirect("contract_detail", drafted.pk)
    return render(request, "contracts/new.html", context)


def _may(user: Any, contract: Contract) -> dict[str, bool]:
    side = services.side_of(Actor.for_user(user), contract) if user.is_authenticated else None
    pending = services.pending_version(contract)
    waiting = (
        pending is not None
        and (
            (side == services.PURCHASER and pending.purchaser_signed_at is None)
            or (side == services.SUPPLIER and pending.supplier_signed_at is None)
        )
        and contract.is_open
    )
    manage = has_perm(user, "contracts.manage_contract", contract) and contract.is_open
    return {
        "sign": waiting and has_perm(user, "contracts.sign_contract", contract),
        "manage": manage,
        "perform": has_perm(user, "contracts.perform_contract", contract) and contract.in_force,
        "accept": manage and contract.in_force,
        "escalate": has_perm(user, "accounts.manage_integrity", contract.supplier),
    }


def _detail(
    request: HttpRequest, contract: Contract, *, error: DomainError | None = None
) -> HttpResponse:
    now = timezone.now()
    context = {
        "contract": contract,
        "project": contract.lot.project,
        "pending": services.pending_version(contract),
        "versions": list(contract.versions.all()),
        "milestones": [(m, m.late_at(now)) for m in contract.milestones.all()],
        "may": _may(request.user, contract),
        "sign_act": services.SIGN_ACT,
        "results": Acceptance.Result.choices,
        "issue_kinds": PerformanceIssue.Kind.choices,
        "severities": PerformanceIssue.Severity.choices,
        "today": timezone.localdate(),
    }
    if error is not None:
        context.update(error=error.message, error_code=error.code)
        return render(request, "contracts/detail.html", context, status=error.http_status)
    return render(request, "contracts/detail.html", context)


@login_required
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _contract(request, pk))


def _posted_id(request: HttpRequest, name: str) -> int:
    try:
        return parse_integer(request.POST.get(name, ""), field=name)
    except NumberError as exc:
        raise Http404 from exc


def _milestone_of(contract: Contract, request: HttpRequest) -> Any:
    found = contract.milestones.filter(pk=_posted_id(request, "milestone")).first()
    if found is None:
        raise Http404
    found.contract = contract
    return found


def _act(request: HttpRequest, contract: Contract, action: str) -> str:
    """Do one act from the page; the message to show after the redirect."""
    actor = Actor.from_request(request)
    post = request.POST
    if action == "sign":
        services.sign_contract(actor, contract, signed=parse_signed(post))
        return _("已签署。")
    if action == "amend":
        services.amend_contract(
            actor,
            contract,
            reason=post.get("reason", ""),
            price=post.get("price") or None,
            terms=post.get("terms") if post.get("terms") else None,
            supplement=post.get("supplement") == "1",
        )
        return _("已生成新的合同版本，待双方签署。")
    if action == "milestone":
        services.add_milestone(
            actor,
            contract,
            description=post.get("description", ""),
            due_on=_date(post.get("due_on", ""), _("应交付日")),
            amount=post.get("amount", ""),
        )
        return _("已添加履约节点。")
    if action == "deliver":
        services.complete_milestone(actor, _milestone_of(contract, request))
        return _("已记录交付。")
    if action == "pay":
        services.record_payment(actor, _milestone_of(contract, request))
        return _("已记录付款。")
    if action == "acceptance":
        services.record_acceptance(
            actor,
            contract,
            accepted_on=_date(post.get("accepted_on", ""), _("验收日期")),
            result=post.get("result", ""),
            remarks=post.get("remarks", ""),
        )
        return _("已记录履约验收。")
    if action == "issue":
        services.record_performance_issue(
            actor,
            contract,
            kind=post.get("kind", ""),
            severity=post.get("severity", ""),
            description=post.get("description", ""),
        )
        return _("已记录履约问题。")
    if action == "escalate":
        issue = contract.issues.filter(pk=_posted_id(request, "issue")).first()
        if issue is None:
            raise Http404
        until = post.get("barred_until", "").strip()
        services.escalate_issue(
            actor,
            issue,
            barred_from=_date(post.get("barred_from", ""), _("限制开始日")),
            barred_until=_date(until, _("限制截止日")) if until else None,
            decision_number=post.get("decision_number", ""),
        )
        return _("已记入不良行为记录。")
    if action == "terminate":
        services.terminate_contract(actor, contract, reason=post.get("reason", ""))
        return _("合同已终止。")
    raise Http404


ACTIONS = frozenset(
    {"sign", "amend", "milestone", "deliver", "pay", "acceptance", "issue", "escalate", "terminate"}
)


@login_required
@require_POST
def contract_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404
    contract = _contract(request, pk)
    try:
        done = _act(request, contract, action)
    except DomainError as exc:
        return _detail(request, present(contract_with_parts(pk), "a contract"), error=exc)
    messages.success(request, done)
    return redirect("contract_detail", pk)


@accepts_uploads(Role.AGENT)
@login_required
@require_POST
def document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _contract(request, pk)
    try:
        services.amend_contract(
            Actor.from_request(request),
            contract,
            reason=request.POST.get("reason", ""),
            files=request.FILES.getlist("files"),
        )
    except DomainError as exc:
        return _detail(request, present(contract_with_parts(pk), "a contract"), error=exc)
    messages.success(request, _("已上传文件，生成新的合同版本，待双方签署。"))
    return redirect("contract_detail", pk)


@login_required
def document_download(request: HttpRequest, pk: int) -> FileResponse:
    stored = ContractDocument.objects.select_related("contract").filter(pk=pk).first()
    if stored is None or not services.may_see(request.user, stored.contract):
        raise Http404
    name = os.path.basename(present(stored.file.name, "a stored contract file's name"))
    response = FileResponse(
        stored.file.open("rb"),
        as_attachment=True,
        filename=name,
        content_type=stored.content_type or "application/octet-stream",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-SHA256"] = stored.sha256
    return response
