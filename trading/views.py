"""Pages of the tender workflow (issue 3): the public portal, the agent's projects, the center's review
queue and statutory calendar, and the supplier's registrations, questions and objections.

Views parse, authorize, call one service and reply. A DomainError re-renders the page it came from with
the user's input kept and the service's message shown, at the error's HTTP status.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from accounts.models import Role
from accounts.permissions import has_perm, signed_in_user, visible_to
from clock import calendar
from clock.models import StatutoryDay
from lib.canonical import canonical_bytes, sha256_hex
from lib.errors import DomainError, present
from lib.uploads import accepts_uploads
from trading import services
from trading.forms import (
    BEIJING,
    REGIONS,
    AmendmentForm,
    AnswerForm,
    DocumentForm,
    LotFormSet,
    ObjectionForm,
    PortalFilterForm,
    ProjectForm,
    QuestionForm,
    ReasonForm,
    RegistrationForm,
    RemoveDayForm,
    ReplyForm,
    RetenderForm,
    StatutoryDayForm,
    lot_initial,
    lots_from,
)
from trading.models import (
    Announcement,
    AnnouncementVersion,
    Lot,
    Objection,
    Project,
    ProjectDocument,
    Question,
    Registration,
)

# A published (or terminated) project's notices are public, so its page is not a secret.
PUBLIC_STATUSES = (Project.Status.PUBLISHED, Project.Status.TERMINATED)
PORTAL_PAGE_SIZE = 20
# Project numbers look like BH2026CO00012: such a query searches numbers (by prefix, on the unique
# index), anything else searches titles (pg_trgm index on PostgreSQL). One indexed lookup each, rather
# than an OR across two tables that no index serves.
NUMBER_LIKE = re.compile(r"^[A-Za-z]{2}\d{4}[A-Za-z0-9-]*$")
NUMBER_PREFIX_LIMIT = 200
# What a portal row shows; the project's other columns (descriptions, timeline) stay unread.
PORTAL_FIELDS = (
    "kind",
    "title",
    "region",
    "project_kind",
    "last_published_at",
    "version_count",
    "project__number",
    "project__status",
    "project__bid_deadline",
)


def _error_response(
    request: HttpRequest, template: str, context: dict[str, Any], exc: DomainError
) -> HttpResponse:
    context["error"] = exc.message
    context["error_code"] = exc.code
    return render(request, template, context, status=exc.http_status)


def _require(request: HttpRequest, perm: str, obj: Any = None) -> None:
    """Visible but not allowed: 403."""
    if not has_perm(request.user, perm, obj):
        raise PermissionDenied


def _pdf_url(announcement_id: int, number: int) -> str:
    """The version's PDF, once the PDF view exists (another part of the app builds it)."""
    try:
        return reverse("announcement_pdf", args=[announcement_id, number])
    except NoReverseMatch:
        return ""


def _deadline_text(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment, BEIJING).strftime("%Y-%m-%d %H:%M") if moment else "—"


# --- The public portal ----------------------------------------------------------------------------


def _title_search(query: str) -> Q:
    """Title contains `query`. Text without letter case (Chinese, digits) uses a plain LIKE, which the
    pg_trgm index serves from three characters on and which skips UPPER() on every row otherwise;
    text with Latin letters matches case-insensitively through a regex the same index serves."""
    if query.upper() == query.lower():
        return Q(title__contains=query)
    return Q(title__iregex=re.escape(query))


def _number_search(query: str) -> Q:
    """A whole project number, or a prefix of one (the NUMBER_PREFIX_LIMIT highest numbers: a prefix
    is for narrowing down to a few projects, not for listing a year)."""
    prefix = query.upper()
    # Numbers are upper-case ASCII letters and digits, so "starts with" is a range on the unique
    # index, read backwards from its end. (LIKE 'prefix%' ordered by number makes PostgreSQL walk the
    # whole index filtering rows.)
    after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    ids = list(
        Project.objects.filter(number__gte=prefix, number__lt=after)
        .order_by("-number")
        .values_list("pk", flat=True)[:NUMBER_PREFIX_LIMIT]
    )
    return Q(project_id__in=ids)


def portal_queryset(filters: dict[str, Any], now: dt.datetime | None = None) -> QuerySet:
    """Announcements matching the portal's filters, newest first (served by trading.Announcement's
    indexes and, on PostgreSQL, trading migration 0002; see docs/performance.md)."""
    now = now or timezone.now()
    announcements = Announcement.objects.all()
    for name in ("kind", "project_kind", "region"):
        if filters.get(name):
            announcements = announcements.filter(**{name: filters[name]})
    if filters.get("date_from"):
        start = dt.datetime.combine(filters["date_from"], dt.time(), tzinfo=BEIJING)
        announcements = announcements.filter(last_published_at__gte=start)
    if filters.get("date_to"):
        end = dt.datetime.combine(filters["date_to"] + dt.timedelta(days=1), dt.time(), BEIJING)
        announcements = announcements.filter(last_published_at__lt=end)
    status = filters.get("status")
    if status in (PortalFilterForm.OPEN, PortalFilterForm.CLOSED):
        # Open for bids: the project is published and its bid deadline is ahead. A subquery on the
        # few open projects (a partial index on PostgreSQL) instead of a join on every row.
        open_projects = Project.objects.filter(
            status=Project.Status.PUBLISHED, bid_deadline__gt=now
        ).values("pk")
        if status == PortalFilterForm.OPEN:
            announcements = announcements.filter(project_id__in=open_projects)
        else:
            announcements = announcements.exclude(project_id__in=open_projects)
    query = (filters.get("q") or "").strip()
    if query:
        announcements = announcements.filter(
            _number_search(query) if NUMBER_LIKE.match(query) else _title_search(query)
        )
    return announcements.order_by("-last_published_at", "-id")


class PortalPaginator(Paginator):
    """Paginator whose large counts are cached briefly per filter set.

    COUNT(*) over most of 100,000 rows costs tens of milliseconds on every page. A count of at least
    BIG_COUNT is kept for COUNT_TTL seconds, so paging through a large result counts once; a small
    count is always exact (it is cheap, and it is what a narrow search must get right at once).
    """

    BIG_COUNT = 1_000
    COUNT_TTL = 60

    def __init__(self, object_list: Any, per_page: int, filters: dict[str, Any]) -> None:
        super().__init__(object_list, per_page)
        key = repr(sorted((name, str(value)) for name, value in filters.items()))
        self.cache_key = "portal-count:" + sha256_hex(key.encode())

    @cached_property
    def count(self) -> int:
        cached: int | None = cache.get(self.cache_key)
        if cached is not None:
            return cached
        count = super().count
        if count >= self.BIG_COUNT:
            cache.set(self.cache_key, count, self.COUNT_TTL)
        return count


def portal(request: HttpRequest) -> HttpResponse:
    form = PortalFilterForm(request.GET or None)
    filters = form.values() if request.GET else {}
    now = timezone.now()
    matching = portal_queryset(filters, now)
    ids: Any
    if NUMBER_LIKE.match(filters.get("q") or ""):
        # A few projects' notices: sorted here, because PostgreSQL would rather walk the whole
        # recent-first index hunting for them (they are often old) than sort a few hundred rows.
        found = matching.order_by().values_list("pk", "last_published_at")
        ids = [pk for pk, _at in sorted(found, key=lambda row: (row[1], row[0]), reverse=True)]
    else:
        # Page through primary keys only, then fetch the page's rows with their projects: a deep
        # OFFSET then skips index entries instead of joined rows.
        ids = matching.values_list("pk", flat=True)
    page = PortalPaginator(ids, PORTAL_PAGE_SIZE, filters).get_page(request.GET.get("page"))
    by_pk = (
        Announcement.objects.select_related("project")
        .only(*PORTAL_FIELDS)
        .in_bulk(list(page.object_list))
    )
    # Labels resolved once per request: get_FOO_display() hashes every lazy choice label per call.
    kind_labels = {value: str(label) for value, label in Announcement.Kind.choices}
    project_kind_labels = {value: str(label) for value, label in Project.Kind.choices}
    # Each notice with its two labels and whether its project takes bids now.
    announcements = [
        (
            announcement,
            kind_labels.get(announcement.kind, announcement.kind),
            project_kind_labels.get(announcement.project_kind, announcement.project_kind),
            announcement.project.status == Project.Status.PUBLISHED
            and announcement.project.bid_deadline is not None
            and announcement.project.bid_deadline > now,
        )
        for announcement in (by_pk[pk] for pk in page.object_list if pk in by_pk)
    ]
    return render(
        request,
        "trading/portal.html",
        {
            "form": form,
            "page": page,
            "announcements": announcements,
            "regions": REGIONS,
            "filtered": bool(filters),
        },
    )


def _parse_time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _label(choices: Iterable[tuple[str, object]], value: str | None) -> object:
    """The label of `value` among `choices`; a value no longer listed (or None) as it is."""
    return dict(choices).get(value, value) if value is not None else None


def _published_facts(content: dict[str, Any]) -> dict[str, Any]:
    """What a version states about its project, ready for the template (times as datetimes)."""
    project = content.get("project") or {}
    forms = dict(Lot.DepositForm.choices)
    lots = [
        {**lot, "deposit_form_labels": [forms.get(f, f) for f in lot.get("deposit_forms") or []]}
        for lot in project.get("lots") or []
    ]
    timeline = {name: _parse_time(value) for name, value in (project.get("timeline") or {}).items()}
    return {
        "project": project,
        "lots": lots,
        "timeline": timeline,
        "documents": project.get("documents") or [],
        "kind": _label(Project.Kind.choices, project.get("kind")),
        "method": _label(Project.Method.choices, project.get("method")),
        "category": _label(Project.Category.choices, project.get("category")),
    }


def announcement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    announcement = get_object_or_404(
        Announcement.objects.select_related("project", "project__owner", "project__agent"), pk=pk
    )
    versions = list(announcement.versions.defer("content").order_by("-number"))
    if not versions:
        raise Http404
    latest = announcement.versions.get(pk=versions[0].pk)
    project = announcement.project
    now = timezone.now()
    return render(
        request,
        "trading/announcement_detail.html",
        {
            "announcement": announcement,
            "latest": latest,
            "versions": [(v, _pdf_url(announcement.pk, v.number)) for v in versions],
            "facts": _published_facts(latest.content),
            "project": project,
            "open_for_bids": project.status == Project.Status.PUBLISHED
            and project.bid_deadline is not None
            and project.bid_deadline > now,
            "suspended": project.status == Project.Status.PUBLISHED
            and services.is_suspended(project),
            "related": project.announcements.exclude(pk=announcement.pk).order_by(
                "first_published_at"
            ),
            # 重新招标 from the 流标公告, for the agent that runs the project.
            "failed_lots": services.failed_lots(project)
            if announcement.kind == Announcement.Kind.FAILED
            and has_perm(request.user, "trading.manage_project", project)
            else [],
        },
    )


def _get_version(announcement_id: int, number: int) -> AnnouncementVersion:
    return get_object_or_404(
        AnnouncementVersion.objects.select_related("announcement"),
        announcement_id=announcement_id,
        number=number,
    )


def announcement_verify(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """Anyone can check that a stored version still hashes to the SHA-256 published with it."""
    version = _get_version(pk, number)
    recomputed = services.content_hash(version.content)
    previous = (
        AnnouncementVersion.objects.filter(announcement_id=pk, number=number - 1)
        .only("sha256")
        .first()
    )
    expected_previous = previous.sha256 if previous else None
    return render(
        request,
        "trading/announcement_verify.html",
        {
            "announcement": version.announcement,
            "version": version,
            "recomputed": recomputed,
            "consistent": recomputed == version.sha256,
            "chain_consistent": version.content.get("previous_sha256") == expected_previous,
            "previous": previous,
            "canonical": canonical_bytes(version.content).decode(),
            "pdf_url": _pdf_url(pk, number),
        },
    )


def announcement_content(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """The exact bytes that are hashed: `curl -s <this> | sha256sum` gives the published hash."""
    version = _get_version(pk, number)
    return HttpResponse(
        canonical_bytes(version.content), content_type="application/json; charset=utf-8"
    )


def document_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    document = get_object_or_404(ProjectDocument.objects.select_related("project"), pk=pk)
    project = document.project
    if services.may_download(request.user, document):
        # Stored as "<sha256 prefix>-<original name>": downloaded under the original name.
        stored = present(document.file.name, "a stored document's name").rsplit("/", 1)[-1]
        return FileResponse(
            document.file.open("rb"), as_attachment=True, filename=stored.split("-", 1)[-1]
        )
    if document.published_at is None or project.status not in PUBLIC_STATUSES:
        raise Http404  # not published: its existence is not revealed
    return render(
        request,
        "trading/download_refused.html",
        {"document": document, "project": project},
        status=403,
    )


# --- Projects: list, create, edit -----------------------------------------------------------------


def _get_project_for_user(request: HttpRequest, pk: int) -> Project:
    """The project, or 404 for one the user may not see (a draft of another organization)."""
    project = get_object_or_404(Project.objects.select_related("owner", "agent"), pk=pk)
    if project.status in PUBLIC_STATUSES or has_perm(request.user, "trading.view_project", project):
        return project
    raise Http404


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.has_perm("trading.add_project") or user.has_perm("trading.view_project")):
        raise PermissionDenied
    projects = visible_to(
        user, "trading.view_project", Project.objects.select_related("owner", "agent")
    ).order_by("-created_at")
    status = request.GET.get("status", "")
    if status in Project.Status.values:
        projects = projects.filter(status=status)
    page = Paginator(projects, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "trading/project_list.html",
        {
            "page": page,
            "status": status,
            "statuses": Project.Status.choices,
            "may_create": has_perm(user, "trading.add_project"),
        },
    )


def _project_form_page(
    request: HttpRequest,
    form: ProjectForm,
    lots: Any,
    project: Project | None = None,
    exc: DomainError | None = None,
) -> HttpResponse:
    context = {"form": form, "lots": lots, "project": project}
    if exc is not None:
        return _error_response(request, "trading/project_form.html", context, exc)
    return render(request, "trading/project_form.html", context)


@login_required
def project_create(request: HttpRequest) -> HttpResponse:
    _require(request, "trading.add_project")
    if request.method != "POST":
        return _project_form_page(request, ProjectForm(), LotFormSet(prefix="lots"))
    form = ProjectForm(request.POST)
    lots = LotFormSet(request.POST, prefix="lots")
    if not (form.is_valid() and lots.is_valid()):
        return _project_form_page(request, form, lots)
    method = form.cleaned_data["method"]
    try:
        project = services.create_project(
            Actor.from_request(request),
            owner=form.cleaned_data["owner"],
            lots=lots_from(lots),
            invitees=form.invitee_ids() if method == Project.Method.INVITATION else None,
            **form.service_fields(),
        )
    except DomainError as exc:
        return _project_form_page(request, form, lots, exc=exc)
    messages.success(request, _("项目已保存为草稿：%(number)s") % {"number": project.number})
    return redirect("project_detail", pk=project.pk)


@login_required
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    project = _get_project_for_user(request, pk)
    _require(request, "trading.change_project", project)
    if request.method != "POST":
        return _project_form_page(
            request,
            ProjectForm(initial=ProjectForm.initial_for(project), editing=True),
            LotFormSet(prefix="lots", initial=lot_initial(project)),
            project,
        )
    form = ProjectForm(request.POST, editing=True)
    lots = LotFormSet(request.POST, prefix="lots", initial=lot_initial(project))
    if not (form.is_valid() and lots.is_valid()):
        return _project_form_page(request, form, lots, project)
    try:
        services.update_project(
            Actor.from_request(request),
            project,
            lots=lots_from(lots),
            invitees=form.invitee_ids(),
            **form.service_fields(),
        )
    except DomainError as exc:
        return _project_form_page(request, form, lots, project, exc=exc)
    messages.success(request, _("项目已保存。"))
    return redirect("project_detail", pk=project.pk)


# --- The project page and its actions -------------------------------------------------------------


def _detail_context(request: HttpRequest, project: Project, **bound: Any) -> dict[str, Any]:
    """Everything the project page shows. `bound` replaces a blank form with the one that failed, so
    its input stays on the page next to the error."""
    user = signed_in_user(request)
    org_id = user.organization_id
    may = {
        "view": has_perm(user, "trading.view_project", project),
        "change": has_perm(user, "trading.change_project", project),
        "submit": has_perm(user, "trading.submit_project", project),
        "publish": has_perm(user, "trading.publish_project", project),
        "manage": has_perm(user, "trading.manage_project", project),
        "review": has_perm(user, "trading.review_project", project),
        "registrations": has_perm(user, "trading.view_registration_list", project),
        "supplier": user.role == Role.SUPPLIER and org_id is not None,
    }
    questions = project.questions.order_by("asked_at", "pk")
    if may["manage"] or has_perm(user, "trading.view_question", project):
        visible_questions = list(questions)
    else:
        # Everyone sees the published answers; a supplier also sees its own open questions.
        visible_questions = list(
            questions.filter(Q(answered_at__isnull=False) | Q(organization_id=org_id or 0))
        )
    objections = project.objections.select_related("organization").order_by("raised_at", "pk")
    if not (may["manage"] or has_perm(user, "trading.view_objection")):
        objections = objections.filter(organization_id=org_id or 0)
    answer_forms = bound.pop("answer_forms", {})
    reply_forms = bound.pop("reply_forms", {})
    # Each question and objection with its form: the one that just failed, else a blank one.
    questions_with_forms = [
        (question, answer_forms.get(question.pk) or AnswerForm(prefix=f"q{question.pk}"))
        for question in visible_questions
    ]
    objections_with_forms = [
        (objection, reply_forms.get(objection.pk) or ReplyForm(prefix=f"o{objection.pk}"))
        for objection in objections
    ]
    own_lots = set(
        Registration.objects.filter(project=project, organization_id=org_id or 0).values_list(
            "lot_id", flat=True
        )
    )
    documents = [
        (document, services.may_download(user, document)) for document in project.documents.all()
    ]
    context = {
        "project": project,
        "may": may,
        "lots": list(project.lots.all()),
        "own_lots": own_lots,
        "documents": documents,
        "questions": questions_with_forms,
        "objections": objections_with_forms,
        "suspended": services.is_suspended(project),
        "announcements": project.announcements.order_by("first_published_at"),
        "failed_lots": services.failed_lots(project),
        "failure_notice": project.announcements.filter(kind=Announcement.Kind.FAILED).first(),
        "invitees": project.invitees.select_related("organization"),
        "registrations": (
            project.registrations.select_related("organization", "lot").order_by("registered_at")
            if may["registrations"]
            else None
        ),
        "now": timezone.now(),
        "document_form": DocumentForm(project=project),
        "register_form": RegistrationForm(project=project),
        "question_form": QuestionForm(),
        "objection_form": ObjectionForm(),
        "terminate_form": ReasonForm(prefix="terminate"),
        "return_form": ReasonForm(prefix="return"),
    }
    context.update(bound)
    return context


@login_required
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = _get_project_for_user(request, pk)
    return render(request, "trading/project_detail.html", _detail_context(request, project))


def _detail_error(
    request: HttpRequest, project: Project, exc: DomainError, **bound: Any
) -> HttpResponse:
    project.refresh_from_db()
    return _error_response(
        request, "trading/project_detail.html", _detail_context(request, project, **bound), exc
    )


def _invalid(form: Any) -> DomainError:
    """A form that did not parse, shown like a service error (the page keeps the input)."""
    return DomainError(
        _("请检查输入：%(errors)s") % {"errors": form.errors.as_text()}, code="VALIDATION_ERROR"
    )


@accepts_uploads(Role.AGENT)
@login_required
@require_POST
def document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    project = _get_project_for_user(request, pk)
    _require(request, "trading.change_project", project)
    form = DocumentForm(request.POST, request.FILES, project=project)
    if not form.is_valid():
        return _detail_error(request, project, _invalid(form), document_form=form)
    try:
        document = services.upload_document(
            Actor.from_request(request),
            project,
            form.cleaned_data["file"],
            title=form.cleaned_data["title"],
            lot=form.cleaned_data["lot"],
        )
    except DomainError as exc:
        return _detail_error(request, project, exc, document_form=form)
    messages.success(
        request,
        _("已上传“%(title)s”，SHA-256：%(sha)s")
        % {"title": document.title, "sha": document.sha256},
    )
    return redirect("project_detail", pk=project.pk)


@login_required
@require_POST
def project_submit(request: HttpRequest, pk: int) -> HttpResponse:
    project = _get_project_for_user(request, pk)
    try:
        services.submit_project(Actor.from_request(request), project)
    except DomainError as exc:
        return _detail_error(request, project, exc)
    messages.success(request, _("已提交进场登记，等待交易中心审核。"))
    return redirect("project_detail", pk=project.pk)


@login_required
@require_POST
def project_publish(request: HttpRequest, pk: int) -> HttpResponse:
    project = _get_project_for_user(request, pk)
    try:
        version = services.publish_project(Actor.from_request(request), project)
    except DomainError as exc:
        return _detail_error(request, project, exc)
    messages.success(request, _("公告已发布，内容哈希 %(sha)s") % {"sha": version.sha256})
    return redirect("project_detail", pk=project.pk)


@login_required
def project_amend(request: HttpRequest, pk: int) -> HttpResponse:
    project = _get_project_for_user(request, pk)
    _require(request, "trading.manage_project", project)
    context: dict[str, Any] = {"project": project}
    if request.method != "POST":
        context["form"] = AmendmentForm()
        return render(request, "trading/amendment_form.html", context)
    form = context["form"] = AmendmentForm(request.POST)
    if not form.is_valid():
        return render(request, "trading/amendment_form.html", context)
    before = project.bid_deadline
    try:
        version = services.publish_amendment(
            Actor.from_request(request),
            project,
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
            bid_deadline=form.cleaned_data["bid_deadline"],
            affects_bid_preparation=form.cleaned_data["affects_bid_preparation"],
        )
    except DomainError as exc:
        project.refresh_from_db()
        return _error_response(request, "trading/amendment_form.html", context, exc)
    messages.success(request, _("变更公告已发布（第 %(n)s 版）。") % {"n": version.number})
    _tell_deadline(request, project, before)
    return redirect("project_detail", pk=project.pk)


def _suggested_timeline(project: Project, now: dt.datetime) -> dict[str, dt.datetime]:
    """The original's spacing from the next full hour on, each deadline moved off rest days: a
    starting point the agent adjusts (the service checks the law)."""
    start = timezone.localtime(now).replace(minute=0, second=0, microsecond=0) + dt.timedelta(
        hours=1
    )
    names = ("documents_until", "questions_until", "bid_deadline", "deposit_deadline")
    suggested = {"documents_from": start}
    for name in names:
        value = getattr(project, name)
        if value is not None and project.documents_from is not None:
            suggested[name] = calendar.next_working_moment(start + (value - project.documents_from))
    return suggested


@login_required
def lot_retender(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """重新招标 from the 流标公告: the agent sets new dates; the new draft opens on success."""
    project = _get_project_for_user(request, pk)
    _require(request, "trading.manage_project", project)
    lot = get_object_or_404(Lot, project=project, number=number)
    context: dict[str, Any] = {"project": project, "lot": lot}
    if request.method != "POST":
        context["form"] = RetenderForm(initial=_suggested_timeline(project, timezone.now()))
        return render(request, "trading/retender_form.html", context)
    form = context["form"] = RetenderForm(request.POST)
    if not form.is_valid():
        return _error_response(request, "trading/retender_form.html", context, _invalid(form))
    try:
        created = services.retender_failed_lot(
            Actor.from_request(request), lot, **form.cleaned_data
        )
    except DomainError as exc:
        return _error_response(request, "trading/retender_form.html", context, exc)
    messages.success(
        request,
        _("已创建重新招标项目 %(number)s（草稿），请核对文件后提交进场登记。")
        % {"number": created.number},
    )
    return redirect("project_detail", pk=created.pk)


def _tell_deadline(request: HttpRequest, project: Project, before: dt.datetime | None) -> None:
    """The legal consequence of a change: where the bid deadline now stands."""
    project.refresh_from_db(fields=["bid_deadline", "deposit_deadline"])
    if project.bid_deadline != before:
        messages.warning(
            request,
            _("投标截止时间已由 %(old)s 变更为 %(new)s（北京时间），已通知所有报名单位。")
            % {"old": _deadline_text(before), "new": _deadline_text(project.bid_deadline)},
        )
    else:
        messages.info(
            request,
            _("投标截止时间不变：%(deadline)s（北京时间）。")
            % {"deadline": _deadline_text(project.bid_deadline)},
        )


@login_required
@require_POST
def project_terminate(request: HttpRequest, pk: int) -> HttpResponse:
    project = _get_project_for_user(request, pk)
    form = ReasonForm(request.POST, prefix="terminate")
    if not form.is_valid():
        return _detail_error(request, project, _invalid(form), terminate_form=form)
    try:
        services.terminate_project(
            Actor.from_request(request), project, reason=form.cleaned_data["reason"]
        )
    except DomainError as exc:
        return _detail_error(request, project, exc, terminate_form=form)
    messages.success(request, _("项目已终止，终止公告已发布。"))
    return redirect("project_detail", pk=project.pk)


@login_required
@require_POST
def question_answer(request: HttpRequest, pk: int) -> HttpResponse:
    question = get_object_or_404(Question, pk=pk)
    project = _get_project_for_user(request, question.project_id)
    form = AnswerForm(request.POST, prefix=f"q{question.pk}")
    if not form.is_valid():
        return _detail_error(request, project, _invalid(form), answer_forms={question.pk: form})
    before = project.bid_deadline
    try:
        services.answer_question(
            Actor.from_request(request),
            question,
            answer=form.cleaned_data["answer"],
            affects_bid_preparation=form.cleaned_data["affects_bid_preparation"],
        )
    except DomainError as exc:
        return _detail_error(request, project, exc, answer_forms={question.pk: form})
    messages.success(request, _("已答复，澄清公告已发布。"))
    _tell_deadline(request, project, before)
    return redirect("project_detail", pk=project.pk)


@login_required
@require_POST
def objection_reply(request: HttpRequest, pk: int) -> HttpResponse:
    objection = get_object_or_404(Objection, pk=pk)
    project = _get_project_for_user(request, objection.project_id)
    form = ReplyForm(request.POST, prefix=f"o{objection.pk}")
    if not form.is_valid():
        return _detail_error(request, project, _invalid(form), reply_forms={objection.pk: form})
    before = project.bid_deadline
    try:
        services.reply_objection(
            Actor.from_request(request), objection, reply=form.cleaned_data["reply"]
        )
    except DomainError as exc:
        return _detail_error(request, project, exc, reply_forms={objection.pk: form})
    messages.success(request, _("异议已答复。"))
    _tell_deadline(request, project, before)
    return redirect("project_detail", pk=project.pk)


# --- Suppliers ------------------------------------------------------------------------------------


@login_required
@require_POST
def project_register(request: HttpRequest, pk: int) -> HttpResponse:
    project = _get_project_for_user(request, pk)
    form = RegistrationForm(request.POST, project=project)
    if not form.is_valid():
        return _detail_error(request, project, _invalid(form), register_form=form)
    try:
        services.register(
            Actor.from_request(request),
            form.cleaned_data["lot"],
            contact_name=form.cleaned_data["contact_name"],
            contact_phone=form.cleaned_data["contact_phone"],
        )
    except DomainError as exc:
        return _detail_error(request, project, exc, register_form=form)
    messages.success(request, _("报名成功。"))
    return redirect("project_detail", pk=project.pk)


@login_required
@require_POST
def project_ask(request: HttpRequest, pk: int) -> HttpResponse:
    project = _get_project_for_user(request, pk)
    form = QuestionForm(request.POST)
    if not form.is_valid():
        return _detail_error(request, project, _invalid(form), question_form=form)
    try:
        services.ask_question(Actor.from_request(request), project, text=form.cleaned_data["text"])
    except DomainError as exc:
        return _detail_error(request, project, exc, question_form=form)
    messages.success(request, _("问题已提交，答复将以澄清公告发布。"))
    return redirect("project_detail", pk=project.pk)


@login_required
@require_POST
def project_object(request: HttpRequest, pk: int) -> HttpResponse:
    project = _get_project_for_user(request, pk)
    form = ObjectionForm(request.POST)
    if not form.is_valid():
        return _detail_error(request, project, _invalid(form), objection_form=form)
    try:
        objection = services.raise_objection(
            Actor.from_request(request), project, text=form.cleaned_data["text"]
        )
    except DomainError as exc:
        return _detail_error(request, project, exc, objection_form=form)
    messages.success(
        request,
        _("异议已提出，招标投标活动暂停；答复期限 %(due)s（北京时间）。")
        % {"due": _deadline_text(objection.reply_due_at)},
    )
    return redirect("project_detail", pk=project.pk)


@login_required
def my_registrations(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if user.role != Role.SUPPLIER or user.organization_id is None:
        raise PermissionDenied
    registrations = (
        Registration.objects.filter(organization_id=user.organization_id)
        .select_related("project", "lot")
        .order_by("-registered_at")
    )
    return render(
        request,
        "trading/my_registrations.html",
        {"registrations": registrations, "now": timezone.now()},
    )


# --- Center staff: review queue and statutory calendar -------------------------------------------


def _review_page(request: HttpRequest, **bound: Any) -> dict[str, Any]:
    projects = list(
        Project.objects.filter(status=Project.Status.SUBMITTED)
        .select_related("owner", "agent")
        .prefetch_related("lots")
        .order_by("submitted_at", "pk")
    )
    forms = bound.get("return_forms", {})
    # Each project with its return form: the one just sent back with errors, else a new one.
    return {
        "projects": [
            (project, forms.get(project.pk) or ReasonForm(prefix=f"r{project.pk}"))
            for project in projects
        ]
    }


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    _require(request, "trading.review_project")
    return render(request, "trading/review_queue.html", _review_page(request))


@login_required
@require_POST
def project_approve(request: HttpRequest, pk: int) -> HttpResponse:
    project = _get_project_for_user(request, pk)
    try:
        services.approve_project(Actor.from_request(request), project)
    except DomainError as exc:
        if request.POST.get("origin") == "review":
            return _error_response(request, "trading/review_queue.html", _review_page(request), exc)
        return _detail_error(request, project, exc)
    messages.success(request, _("已同意进场：%(number)s") % {"number": project.number})
    return redirect("review_queue")


@login_required
@require_POST
def project_return(request: HttpRequest, pk: int) -> HttpResponse:
    project = _get_project_for_user(request, pk)
    from_review = request.POST.get("origin") == "review"
    form = ReasonForm(request.POST, prefix=f"r{project.pk}" if from_review else "return")
    reason = form.data.get(form.add_prefix("reason"), "")

    def failed(exc: DomainError) -> HttpResponse:
        if from_review:
            context = _review_page(request, return_forms={project.pk: form})
            return _error_response(request, "trading/review_queue.html", context, exc)
        return _detail_error(request, project, exc, return_form=form)

    try:
        # The service, not the form, decides that a reason is required (one message for every client).
        services.return_project(Actor.from_request(request), project, reason=reason)
    except DomainError as exc:
        return failed(exc)
    messages.success(request, _("已退回：%(number)s") % {"number": project.number})
    return redirect("review_queue")


def _calendar_context(request: HttpRequest, **bound: Any) -> dict[str, Any]:
    this_year = timezone.localdate().year
    staff_years: dict[int, int] = {}
    for day in StatutoryDay.objects.values_list("date", flat=True):
        staff_years[day.year] = staff_years.get(day.year, 0) + 1
    shown = sorted({*range(this_year - 2, this_year + 3), *staff_years})
    package_years = [year for year in range(2004, this_year + 6) if calendar.package_covers(year)]
    return {
        "years": [
            {
                "year": year,
                "package": calendar.package_covers(year),
                "staff_days": staff_years.get(year, 0),
            }
            for year in shown
        ],
        "package_range": (package_years[0], package_years[-1]) if package_years else None,
        "missing": calendar.missing_years([this_year, this_year + 1]),
        "statutory": [
            (year, list(calendar.statutory_holidays(year).items()))
            for year in (this_year, this_year + 1)
        ],
        "days": StatutoryDay.objects.filter(date__year__gte=this_year - 1).order_by("date"),
        "may_change": has_perm(request.user, "clock.change_statutoryday"),
        "day_form": bound.get("day_form") or StatutoryDayForm(),
        "remove_form": bound.get("remove_form") or RemoveDayForm(prefix="remove"),
    }


@login_required
def statutory_calendar(request: HttpRequest) -> HttpResponse:
    _require(request, "clock.view_statutoryday")
    return render(request, "trading/calendar.html", _calendar_context(request))


@login_required
@require_POST
def statutory_day_set(request: HttpRequest) -> HttpResponse:
    _require(request, "clock.view_statutoryday")
    form = StatutoryDayForm(request.POST)
    try:
        if not form.is_valid():
            raise _invalid(form)
        data = form.cleaned_data
        calendar.set_statutory_day(
            Actor.from_request(request),
            data["date"],
            kind=data["kind"],
            name=data["name"],
            notice=data["notice"],
        )
    except DomainError as exc:
        return _error_response(
            request, "trading/calendar.html", _calendar_context(request, day_form=form), exc
        )
    messages.success(request, _("已保存 %(date)s。") % {"date": form.cleaned_data["date"]})
    return redirect("statutory_calendar")


@login_required
@require_POST
def statutory_day_remove(request: HttpRequest) -> HttpResponse:
    _require(request, "clock.view_statutoryday")
    form = RemoveDayForm(request.POST, prefix="remove")
    try:
        if not form.is_valid():
            raise _invalid(form)
        calendar.remove_statutory_day(Actor.from_request(request), form.cleaned_data["date"])
    except DomainError as exc:
        return _error_response(
            request, "trading/calendar.html", _calendar_context(request, remove_form=form), exc
        )
    messages.success(request, _("已删除 %(date)s。") % {"date": form.cleaned_data["date"]})
    return redirect("statutory_calendar")
