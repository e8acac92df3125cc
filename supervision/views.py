"""The supervision workspace (监督工作台), mounted at /supervision/ (supervision/urls.py).

Who: supervisors everywhere; center staff, who run the platform, also on the dashboard (anonymous room
counters, as in the rooms themselves), the alert list (read) and the audit search — the pages their
`audit.view_auditevent` / `audit.view_alert` permissions already open in the API. A project's
supervision page, its evidence package and audit report, and the replay (identities) are for
supervisors only. Everyone else gets 403.

Thin: parse, authorize, call one reading function (`supervision.workspace`,
`supervision.search.search_events`, `supervision.evidence.build`, `supervision.report.render_report`)
and render. The one write is the alert note (`supervision.alerts.handle_alert`); everything else
answers GET only.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.actors import Actor
from accounts.models import Organization, Role
from accounts.permissions import has_perm, signed_in_user
from audit.models import Alert
from bidding.auction import services as auctions
from bidding.models import Auction, AuctionEvent
from lib.errors import DomainError, NotFound, present
from supervision import evidence, workspace
from supervision.alerts import handle_alert
from supervision.report import render_report
from supervision.search import search_events
from trading.models import Project

SEARCH_PAGE = 100
ALERT_PAGE = 50
SEARCH_FIELDS = ("project", "organization", "actor", "action", "since", "until")


View = Callable[..., HttpResponse]


def _only(*roles: str) -> Callable[[View], View]:
    """Logged in (else the login page) and in one of `roles` (else 403)."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if signed_in_user(request).role not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


supervisors = _only(Role.SUPERVISOR)
supervisors_and_staff = _only(Role.SUPERVISOR, Role.CENTER_STAFF)


def _is_supervisor(request: HttpRequest) -> bool:
    return signed_in_user(request).role == Role.SUPERVISOR


def _page_strings() -> dict[str, str]:
    """The dashboard script's words, in the page's language (the script holds no text of its own)."""
    return {
        "accepted": _("有效报价"),
        "rejected": _("拒绝"),
        "participants": _("竞价人"),
        "best": _("当前最优"),
        "none": _("暂无报价"),
        "left": _("剩余"),
        "extensions": _("已延时"),
        "enter": _("进入竞价室（只读）"),
        "listing": _("挂牌出让页面"),
        "stage_ends": _("本阶段剩余"),
        "decrypted": _("已解密"),
        "awaiting": _("待解密"),
        "failed": _("解密失败"),
        "bids": _("投标文件"),
        "decryption_left": _("解密剩余"),
        "open_opening": _("进入开标室"),
        "open_draw": _("查看并确认"),
        "evaluation_at": _("评标时间"),
        "no_rooms": _("当前没有进行中的交易场。"),
        "stale": _("实时数据暂时无法刷新，正在重试…"),
        "ok": _("通过"),
        "broken": _("失败"),
        "not_verified": _("审计链尚未经时钟校验。"),
    }


# --- Dashboard ---------------------------------------------------------------------------------------


@supervisors_and_staff
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    stage = request.GET.get("stage", "")
    kind = request.GET.get("kind", "")
    query = request.GET.get("q", "").strip()[:100]
    board = workspace.projects_by_stage(stage=stage, kind=kind, query=query)
    return render(
        request,
        "supervision/dashboard.html",
        {
            "board": board,
            "page": Paginator(board.rows, workspace.PAGE_SIZE).get_page(request.GET.get("page")),
            "stage": stage,
            "kind": kind,
            "q": query,
            "kinds": Project.Kind.choices,
            "live": workspace.live_rooms(identities=_is_supervisor(request)),
            "strings": _page_strings(),
            "is_supervisor": _is_supervisor(request),
        },
    )


@supervisors_and_staff
@require_safe
def live(request: HttpRequest) -> JsonResponse:
    """The dashboard's counters, polled every few seconds."""
    response = JsonResponse(workspace.live_rooms(identities=_is_supervisor(request)))
    response["Cache-Control"] = "private, no-store"
    return response


# --- One project -------------------------------------------------------------------------------------


def _verify_command(project: Project) -> str:
    command = (
        f"python manage.py verify_evidence evidence-{project.number}.zip "
        f"--public-key {evidence.public_key_hex()}"
    )
    # A development installation (production refuses the development key): the check says so.
    return command + " --allow-dev-key" if evidence.signs_with_dev_key() else command


@supervisors
@require_safe
def project_page(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_object_or_404(Project.objects.select_related("owner", "agent"), pk=pk)
    return render(
        request,
        "supervision/project.html",
        {
            "project": project,
            "record": workspace.project_record(project),
            "public_key": evidence.public_key_hex(),
            "verify_command": _verify_command(project),
            "retention_years": settings.AUDIT_RETENTION_YEARS,
        },
    )


@supervisors
@require_safe
def evidence_package(request: HttpRequest, pk: int) -> HttpResponse:
    """The project's evidence package, built from committed rows (no transaction is open here)."""
    project = get_object_or_404(Project, pk=pk)
    response = HttpResponse(evidence.build(project), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(
        True, f"evidence-{project.number}.zip"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@supervisors
@require_safe
def audit_report(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_object_or_404(Project, pk=pk)
    response = HttpResponse(render_report(project), content_type="application/pdf")
    response["Content-Disposition"] = present(
        content_disposition_header(False, f"audit-report-{project.number}.pdf"),
        "the disposition of a named file",
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- Replay ------------------------------------------------------------------------------------------


@supervisors
@require_safe
def replay(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        auction = auctions.get_auction(pk)
    except NotFound as exc:
        raise Http404 from exc
    context: dict[str, Any] = {
        "auction": auction,
        "lot": auction.lot,
        "project": auction.lot.project,
    }
    if not auction.finished:
        context["error"] = _("竞价尚未结束，结束后可回放；进行中请进入竞价室实时观看。")
        return render(request, "supervision/replay.html", context, status=409)
    context["data"] = workspace.replay(auction)
    context["strings"] = {
        "types": {kind: str(label) for kind, label in AuctionEvent.Kind.choices},
        "status": {status: str(label) for status, label in Auction.Status.choices},
        "position": _("第 %(i)s / %(n)s 步 · 事件序号 %(seq)s"),
        "started_text": _("竞价开始，竞价人：%(list)s"),
        "nobody": _("（无，首次报价后加入）"),
        "bid_text": _("%(who)s 报价 %(price)s %(unit)s"),
        "extended_text": _("第 %(n)s 次延时（由序号 %(seq)s 的报价触发），结束时间延至 %(to)s"),
        "round_text": _("第 %(n)s 轮开始，报价顺序：%(order)s"),
        "closed_reason": _("%(status)s：%(reason)s"),
        "first": _("第一名：%(who)s %(price)s %(unit)s"),
        "no_bid": _("暂无报价"),
        "unit": auction.get_unit_display(),
    }
    return render(request, "supervision/replay.html", context)


# --- Alerts ------------------------------------------------------------------------------------------


def _flag(value: str) -> bool | None:
    return {"true": True, "false": False}.get(value)


@supervisors_and_staff
@require_safe
def alerts(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    kind = kind if kind in Alert.Kind.values else ""
    handled = request.GET.get("handled", "")
    project = request.GET.get("project", "")
    project_id = int(project) if project.isascii() and project.isdigit() else None
    matching = workspace.alerts_matching(kind=kind, handled=_flag(handled), project_id=project_id)
    page = Paginator(matching, ALERT_PAGE).get_page(request.GET.get("page"))
    projects = {
        p.pk: p for p in Project.objects.filter(pk__in={a.project_id for a in page if a.project_id})
    }
    # An alert keeps its project's id, not a foreign key: the projects are fetched in one query
    # above and handed to the template beside their alerts.
    rows = [(alert, projects.get(alert.project_id) if alert.project_id else None) for alert in page]
    return render(
        request,
        "supervision/alerts.html",
        {
            "page": page,
            "rows": rows,
            "kind": kind,
            "handled": handled,
            "project": project_id,
            "kinds": Alert.Kind.choices,
            "projects": Project.objects.filter(
                pk__in=Alert.objects.exclude(project_id=None).values("project_id")
            ).order_by("-created_at"),
            "may_handle": has_perm(request.user, "audit.handle_alert"),
            "query": request.GET.urlencode(),
            "open_count": workspace.open_alerts(),
        },
    )


@supervisors
@require_POST
def alert_handle(request: HttpRequest, pk: int) -> HttpResponse:
    """The supervisor's note on an alert: the one write of the workspace."""
    alert = get_object_or_404(Alert, pk=pk)
    try:
        handle_alert(Actor.from_request(request), alert, note=request.POST.get("note", "")[:4000])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已记录处理意见。"))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("supervision_alerts")
    return redirect(target)


# --- Audit search ------------------------------------------------------------------------------------


@supervisors_and_staff
@require_safe
def audit_search(request: HttpRequest) -> HttpResponse:
    params = {name: request.GET.get(name, "").strip() for name in SEARCH_FIELDS}
    context: dict[str, Any] = {
        "params": params,
        "organizations": Organization.objects.order_by("kind", "name").values_list("pk", "name"),
        "searched": any(params.values()) or "before_seq" in request.GET,
        "events": None,
    }
    status = 200
    if context["searched"]:
        try:
            rows = list(
                search_events({**params, "before_seq": request.GET.get("before_seq", "")}).order_by(
                    "-seq"
                )[: SEARCH_PAGE + 1]
            )
        except DomainError as exc:
            context["error"], status = exc.message, exc.http_status
        else:
            context["events"] = rows[:SEARCH_PAGE]
            if len(rows) > SEARCH_PAGE:
                query = request.GET.copy()
                query["before_seq"] = str(rows[SEARCH_PAGE - 1].seq)
                context["older"] = query.urlencode()
    return render(request, "supervision/search.html", context, status=status)
