"""Pages of the expert pool and its draws (issue 5): the center's pool and draw desk, the supervisor's
sign-off and verification, the drawn expert's tasks, per-project ratings, and the disclosed committee.

Views parse, authorize, call one service and reply. A DomainError re-renders the page it came from with
the service's message shown, at the error's HTTP status. What a draw page shows depends on the reader
(experts/access.py): names to staff and supervisors, exclusion reasons to supervisors only, and to
everyone else the commitment hashes and — once disclosed — the seated members.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.actors import Actor
from accounts.models import Role
from accounts.permissions import has_perm, signed_in_user
from experts import access, services
from experts.forms import (
    DrawForm,
    ExpertForm,
    PoolFilterForm,
    QuotaFormSet,
    RatingForm,
    RelationForm,
    ReplacementForm,
    RespondForm,
    StatusForm,
    TieForm,
    quotas_from,
)
from experts.models import DrawnExpert, DrawRequest, Expert, Rating
from experts.pdf import render_draw_record
from experts.rules import EXCLUSION_REASONS
from lib.addresses import client_ip
from lib.errors import DomainError, NotFound, present
from trading.models import Project

POOL_PAGE_SIZE = 50


def _error_response(
    request: HttpRequest, template: str, context: dict[str, Any], exc: DomainError
) -> HttpResponse:
    context["error"] = exc.message
    context["error_code"] = exc.code
    return render(request, template, context, status=exc.http_status)


def _require(request: HttpRequest, perm: str) -> None:
    """Visible but not allowed: 403."""
    if not has_perm(request.user, perm):
        raise PermissionDenied


def _invalid(form: Any) -> DomainError:
    errors = form.errors.as_text() if hasattr(form, "errors") else ""
    return DomainError(_("请检查输入：%(errors)s") % {"errors": errors}, code="VALIDATION_ERROR")


def _expert(request: HttpRequest, pk: int) -> Expert:
    try:
        return access.expert_for(request.user, pk)
    except NotFound as exc:
        raise Http404 from exc


def _draw(request: HttpRequest, pk: int) -> DrawRequest:
    try:
        return access.draw_for(request.user, pk)
    except NotFound as exc:
        raise Http404 from exc


def _project(request: HttpRequest, pk: int) -> Project:
    project = Project.objects.select_related("owner", "agent").filter(pk=pk).first()
    if project is None or not (
        project.status in access.ANNOUNCED
        or has_perm(request.user, "trading.view_project", project)
    ):
        raise Http404
    return project


# --- The pool -------------------------------------------------------------------------------------


@login_required
@require_safe
def pool_list(request: HttpRequest) -> HttpResponse:
    _require(request, "experts.view_expert")
    form = PoolFilterForm(request.GET or None)
    rows = Expert.objects.select_related("employer", "user").prefetch_related("specialties")
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            rows = rows.filter(name__contains=data["q"].strip())
        if data["specialty"]:
            rows = rows.filter(specialties__code__startswith=data["specialty"]).distinct()
        if data["status"]:
            rows = rows.filter(status=data["status"])
        if data["region"]:
            rows = rows.filter(region__startswith=data["region"].strip())
    page = Paginator(rows.order_by("name", "id"), POOL_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "experts/pool_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "may_manage": has_perm(request.user, "experts.manage_pool"),
        },
    )


@login_required
def expert_create(request: HttpRequest) -> HttpResponse:
    _require(request, "experts.manage_pool")
    if request.method != "POST":
        return render(request, "experts/expert_form.html", {"form": ExpertForm()})
    form = ExpertForm(request.POST)
    context = {"form": form}
    if not form.is_valid():
        return render(request, "experts/expert_form.html", context)
    try:
        expert = services.add_expert(Actor.from_request(request), **form.cleaned_data)
    except DomainError as exc:
        return _error_response(request, "experts/expert_form.html", context, exc)
    messages.success(request, _("已登记专家：%(name)s") % {"name": expert.name})
    return redirect("expert_detail", pk=expert.pk)


def _expert_context(request: HttpRequest, expert: Expert, **bound: Any) -> dict[str, Any]:
    context = {
        "expert": expert,
        "specialties": expert.specialties.order_by("code"),
        "ties": expert.employments.select_related("organization"),
        "relations": expert.relations.select_related("organization"),
        "ratings": Rating.objects.filter(expert=expert).select_related("project"),
        "may_manage": has_perm(request.user, "experts.manage_pool"),
        "tie_form": TieForm(),
        "relation_form": RelationForm(),
        "status_form": StatusForm(
            initial={
                "status": expert.status,
                "until": expert.status_until,
                "reason": expert.status_reason,
            }
        ),
    }
    context.update(bound)
    return context


@login_required
@require_safe
def expert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    expert = _expert(request, pk)
    return render(request, "experts/expert_detail.html", _expert_context(request, expert))


def _expert_action(
    request: HttpRequest, pk: int, form_class: type, form_name: str, call: Any, done: str
) -> HttpResponse:
    expert = _expert(request, pk)
    form = form_class(request.POST)

    def failed(exc: DomainError) -> HttpResponse:
        context = _expert_context(request, expert, **{form_name: form})
        return _error_response(request, "experts/expert_detail.html", context, exc)

    if not form.is_valid():
        return failed(_invalid(form))
    try:
        call(Actor.from_request(request), expert, **form.cleaned_data)
    except DomainError as exc:
        expert.refresh_from_db()
        return failed(exc)
    messages.success(request, done)
    return redirect("expert_detail", pk=expert.pk)


@login_required
@require_POST
def expert_tie(request: HttpRequest, pk: int) -> HttpResponse:
    return _expert_action(
        request, pk, TieForm, "tie_form", services.declare_tie, _("已登记任职/持股关系。")
    )


@login_required
@require_POST
def expert_relation(request: HttpRequest, pk: int) -> HttpResponse:
    return _expert_action(
        request,
        pk,
        RelationForm,
        "relation_form",
        services.declare_relation,
        _("已登记利害关系。"),
    )


@login_required
@require_POST
def expert_status(request: HttpRequest, pk: int) -> HttpResponse:
    return _expert_action(
        request, pk, StatusForm, "status_form", services.set_status, _("专家状态已更新。")
    )


# --- Draws ----------------------------------------------------------------------------------------


@login_required
@require_safe
def draw_list(request: HttpRequest) -> HttpResponse:
    _require(request, "experts.view_drawrequest")
    rows = DrawRequest.objects.select_related("project", "lot", "supervisor", "replaces_in")
    status = request.GET.get("status", "")
    if status in DrawRequest.Status.values:
        rows = rows.filter(status=status)
    page = Paginator(rows.order_by("-committed_at", "-pk"), 50).get_page(request.GET.get("page"))
    awaiting = []
    if has_perm(request.user, "experts.sign_off_draw"):
        awaiting = [
            draw
            for draw in DrawRequest.objects.filter(status=DrawRequest.Status.DRAWN)
            .select_related("project")
            .order_by("evaluation_at")
            if draw.supervisor_id in (None, request.user.pk)
        ]
    return render(
        request,
        "experts/draw_list.html",
        {
            "page": page,
            "status": status,
            "statuses": DrawRequest.Status.choices,
            "awaiting": awaiting,
            "may_request": has_perm(request.user, "experts.request_draw"),
        },
    )


def _draw_form_page(
    request: HttpRequest, form: DrawForm, quotas: Any, exc: DomainError | None = None
) -> HttpResponse:
    context = {"form": form, "quotas": quotas}
    if exc is not None:
        return _error_response(request, "experts/draw_form.html", context, exc)
    return render(request, "experts/draw_form.html", context)


@login_required
def draw_create(request: HttpRequest) -> HttpResponse:
    _require(request, "experts.request_draw")
    if request.method != "POST":
        initial = {}
        project_id = request.GET.get("project", "")
        if project_id.isdigit():
            initial["project"] = int(project_id)
        return _draw_form_page(request, DrawForm(initial=initial), QuotaFormSet(prefix="quotas"))
    form = DrawForm(request.POST)
    quotas = QuotaFormSet(request.POST, prefix="quotas")
    if not (form.is_valid() and quotas.is_valid()):
        return _draw_form_page(request, form, quotas)
    try:
        draw = services.commit_draw(
            Actor.from_request(request),
            form.cleaned_data["project"],
            **form.service_fields(quotas_from(quotas)),
        )
    except DomainError as exc:
        return _draw_form_page(request, form, quotas, exc)
    messages.success(request, _("已封存种子。种子哈希：%(hash)s") % {"hash": draw.seed_hash})
    return redirect("draw_detail", pk=draw.pk)


def _draw_context(request: HttpRequest, draw: DrawRequest) -> dict[str, Any]:
    user = request.user
    record = access.may_see_record(user)
    identities = services.may_see_identities(user, draw)
    drawn_rows = access.drawn_in_order(draw) if draw.drawn_at else []
    vacancies = []
    if draw.drawn_at and record:
        vacancies = [
            {"index": index, "specialty": draw.quotas[index]["specialty"], "count": count}
            for index, count in services.vacancies(draw).items()
        ]
    exclusions = None
    if access.may_see_exclusions(user):
        exclusions = [
            {
                "expert": row.expert,
                "reasons": [str(EXCLUSION_REASONS.get(code, code)) for code in row.reasons],
                "codes": row.reasons,
            }
            for row in draw.exclusions.select_related("expert", "expert__employer").order_by(
                "expert__name", "expert_id"
            )
        ]
    may_request = has_perm(user, "experts.request_draw")
    return {
        "draw": draw,
        "project": draw.project,
        "record": record,
        "identities": identities and record,
        # Outsiders see the seated members once disclosed, nothing else about them.
        "public_members": [row for row in drawn_rows if row.seated]
        if identities and not record
        else [],
        "drawn": drawn_rows if identities and record else [],
        "exclusions": exclusions,
        "exclusion_count": draw.exclusions.count() if record else None,
        "vacancies": vacancies,
        "replacements": DrawRequest.objects.filter(replaces_in=draw).order_by("committed_at"),
        "verification": services.verify(draw) if draw.drawn_at else None,
        "now": timezone.now(),
        "may": {
            "run": may_request and draw.status == DrawRequest.Status.COMMITTED,
            "sign_off": has_perm(user, "experts.sign_off_draw")
            and draw.status == DrawRequest.Status.DRAWN
            and draw.supervisor_id in (None, user.pk),
            "disclose": may_request
            and draw.status == DrawRequest.Status.SIGNED_OFF
            and draw.disclosed_at is None,
            "replace": may_request and bool(vacancies),
            "rate": has_perm(user, "experts.view_rating"),
        },
    }


@require_safe
def draw_detail(request: HttpRequest, pk: int) -> HttpResponse:
    draw = _draw(request, pk)
    return render(request, "experts/draw_detail.html", _draw_context(request, draw))


def _draw_action(request: HttpRequest, pk: int, call: Any, done: str) -> HttpResponse:
    draw = _draw(request, pk)
    try:
        result = call(Actor.from_request(request), draw)
    except DomainError as exc:
        draw = _draw(request, pk)
        return _error_response(
            request, "experts/draw_detail.html", _draw_context(request, draw), exc
        )
    messages.success(request, done)
    target = result if isinstance(result, DrawRequest) else draw
    return redirect("draw_detail", pk=target.pk)


@login_required
@require_POST
def draw_run(request: HttpRequest, pk: int) -> HttpResponse:
    return _draw_action(request, pk, services.run_draw, _("抽取完成，种子已公开，可复核。"))


@login_required
@require_POST
def draw_sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    return _draw_action(request, pk, services.sign_off, _("监督已确认本次抽取。"))


@login_required
@require_POST
def draw_disclose(request: HttpRequest, pk: int) -> HttpResponse:
    return _draw_action(request, pk, services.disclose, _("专家名单已公开。"))


@login_required
@require_POST
def draw_replacement(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReplacementForm(request.POST)

    def call(actor: Actor, draw: DrawRequest) -> DrawRequest:
        if not form.is_valid() or form.cleaned_data["quota"] >= len(draw.quotas):
            raise DomainError(_("没有该专业配额。"), code="VALIDATION_ERROR")
        return services.commit_replacement(actor, draw, form.cleaned_data["quota"])

    return _draw_action(request, pk, call, _("替补抽取已封存种子，请在现场监督下执行抽取。"))


@login_required
@require_safe
def draw_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The draw record. Supervisors get their copy with the excluded experts and reasons; staff the
    standard copy with the count only; nobody else gets one."""
    draw = _draw(request, pk)
    if not (
        access.may_see_record(request.user) and services.may_see_identities(request.user, draw)
    ):
        raise Http404

    supervisor_copy = access.may_see_exclusions(request.user)
    pdf = render_draw_record(draw, supervisor_copy=supervisor_copy)
    suffix = "-supervisor" if supervisor_copy else ""
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = present(
        content_disposition_header(False, f"draw-{draw.pk}-{draw.project.number}{suffix}.pdf"),
        "the disposition of a named file",
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- The drawn expert -----------------------------------------------------------------------------


def _tasks_context(request: HttpRequest, **bound: Any) -> dict[str, Any]:
    forms = bound.get("forms", {})
    # Each seat with its decline form: the one the expert just sent back with errors, else a new one.
    seats = [
        (
            seat,
            forms.get(seat.pk) or RespondForm(prefix=f"s{seat.pk}", initial={"answer": "decline"}),
        )
        for seat in access.own_seats(request.user)
    ]
    return {
        "seats": seats,
        "registered": Expert.objects.filter(user=signed_in_user(request)).exists(),
        "now": timezone.now(),
    }


@login_required
@require_safe
def my_tasks(request: HttpRequest) -> HttpResponse:
    if signed_in_user(request).role != Role.EXPERT:
        raise PermissionDenied
    return render(request, "experts/my_tasks.html", _tasks_context(request))


@login_required
@require_POST
def seat_respond(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        seat = access.seat_for(request.user, pk)
    except NotFound as exc:
        raise Http404 from exc
    form = RespondForm(request.POST, prefix=f"s{seat.pk}")

    def failed(exc: DomainError) -> HttpResponse:
        if signed_in_user(request).role != Role.EXPERT:
            raise PermissionDenied
        context = _tasks_context(request, forms={seat.pk: form})
        return _error_response(request, "experts/my_tasks.html", context, exc)

    if not form.is_valid():
        return failed(_invalid(form))
    try:
        answered = services.respond(
            Actor.from_request(request),
            seat,
            confirm=form.confirm,
            reason=form.cleaned_data["reason"],
        )
    except DomainError as exc:
        return failed(exc)
    if answered.response == DrawnExpert.Response.CONFIRMED:
        messages.success(request, _("已确认参加评标。"))
    else:
        messages.info(request, _("已谢绝，交易中心将通知下一位候补专家。"))
    return redirect("my_expert_tasks")


# --- The SMS link: confirm or decline without signing in ------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def seat_link(request: HttpRequest) -> HttpResponse:
    """The page a drawn expert's SMS links to: the signed token (`?t=`) names the seat and its expert;
    the answer is `services.respond` as that expert, audited. Small and readable on a phone."""
    token = request.GET.get("t", "") if request.method != "POST" else request.POST.get("t", "")
    context: dict[str, Any] = {"token": token, "form": RespondForm(initial={"answer": "decline"})}
    try:
        seat, _user = services.seat_of_link(token)
    except DomainError as exc:
        return _error_response(request, "experts/seat_link.html", context, exc)
    context["seat"] = seat
    if request.method != "POST":
        return render(request, "experts/seat_link.html", context)
    form = RespondForm(request.POST)
    context["form"] = form
    if not form.is_valid():
        return _error_response(request, "experts/seat_link.html", context, _invalid(form))
    try:
        context["seat"] = services.respond_by_link(
            token,
            confirm=form.confirm,
            reason=form.cleaned_data["reason"],
            ip=client_ip(request.META),
        )
    except DomainError as exc:
        return _error_response(request, "experts/seat_link.html", context, exc)
    context["answered"] = True
    return render(request, "experts/seat_link.html", context)


# --- Ratings and the disclosed committee ----------------------------------------------------------


def _ratings_context(request: HttpRequest, project: Project, **bound: Any) -> dict[str, Any]:
    seated = (
        DrawnExpert.objects.filter(
            draw__project=project,
            seated=True,
            draw__status__in=[DrawRequest.Status.DRAWN, DrawRequest.Status.SIGNED_OFF],
        )
        .select_related("expert", "draw")
        .order_by("draw__committed_at", "quota", "position")
    )
    ratings = {r.expert_id: r for r in Rating.objects.filter(project=project)}
    forms = bound.get("forms", {})
    rows, seen = [], set()
    for seat in seated:
        if seat.expert_id in seen:
            continue
        seen.add(seat.expert_id)
        rows.append(
            {
                "seat": seat,
                "expert": seat.expert,
                "specialty": seat.draw.quotas[seat.quota]["specialty"],
                "rating": ratings.get(seat.expert_id),
                "form": forms.get(seat.expert_id) or RatingForm(prefix=f"e{seat.expert_id}"),
            }
        )
    return {
        "project": project,
        "rows": rows,
        "may_rate": has_perm(request.user, "experts.add_rating"),
    }


@login_required
def project_ratings(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    _require(request, "experts.view_rating")
    if request.method != "POST":
        return render(request, "experts/ratings.html", _ratings_context(request, project))
    expert_id = request.POST.get("expert", "")
    valid = expert_id.isascii() and expert_id.isdigit() and len(expert_id) <= 18
    expert = _expert(request, int(expert_id)) if valid else None
    if expert is None:
        raise Http404
    form = RatingForm(request.POST, prefix=f"e{expert.pk}")

    def failed(exc: DomainError) -> HttpResponse:
        context = _ratings_context(request, project, forms={expert.pk: form})
        return _error_response(request, "experts/ratings.html", context, exc)

    if not form.is_valid():
        return failed(_invalid(form))
    try:
        services.rate(Actor.from_request(request), expert, project, **form.cleaned_data)
    except DomainError as exc:
        return failed(exc)
    messages.success(request, _("已评价：%(name)s") % {"name": expert.name})
    return redirect("project_expert_ratings", pk=project.pk)


@require_safe
def project_committee(request: HttpRequest, pk: int) -> HttpResponse:
    """The disclosed committee of a project, for anyone who may see the project."""
    project = _project(request, pk)
    return render(request, "experts/committee.html", {"project": project})
