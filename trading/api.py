"""REST endpoints of the tender workflow (issue 3). Each one finds the object the caller may see (404
otherwise), parses the body, calls one service — which checks the permission (403) and every rule — and
replies.

Two kinds of project lookup:
- a *managed* project (detail, editing, workflow steps, uploads) must be visible through
  `trading.view_project`: its agent and owner, center staff and supervisors;
- a *tender* (documents, registration, questions, objections) is also reachable by any logged-in user
  once it has been announced, because the announcement made it public.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from functools import partial
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import FileResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.actors import Actor
from accounts.models import Role
from accounts.permissions import has_perm, visible_to
from clock import calendar
from clock.models import StatutoryDay
from lib.api import paginated
from lib.edge import FormParser, MultiPartParser
from lib.errors import DomainError, NotFound, present
from lib.numbers import query_integer
from lib.uploads import accepts_uploads
from trading import services
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
from trading.serializers import (
    READ_ERRORS,
    WRITE_ERRORS,
    AmendmentSerializer,
    AnnouncementDetailSerializer,
    AnnouncementSerializer,
    AnswerSerializer,
    DocumentSerializer,
    DocumentUploadSerializer,
    ErrorSerializer,
    ObjectionCreateSerializer,
    ObjectionReplySerializer,
    ObjectionSerializer,
    ProjectCreateSerializer,
    ProjectSerializer,
    ProjectSummarySerializer,
    ProjectUpdateSerializer,
    PublicationSerializer,
    PublishSerializer,
    QuestionCreateSerializer,
    QuestionSerializer,
    QuestionWithAskerSerializer,
    ReasonSerializer,
    RegistrationCreateSerializer,
    RegistrationSerializer,
    RetenderSerializer,
    StatutoryDayInputSerializer,
    StatutoryDaySerializer,
    page_of,
)

ANNOUNCED = (Project.Status.PUBLISHED, Project.Status.TERMINATED)


# --- Lookups --------------------------------------------------------------------------------------


def _project_not_found() -> NotFound:
    return NotFound(_("未找到该项目。"))


def _managed_project(request: Request, pk: int) -> Project:
    project = Project.objects.select_related("owner", "agent").filter(pk=pk).first()
    if project is None or not has_perm(request.user, "trading.view_project", project):
        raise _project_not_found()
    return project


def _may_see_tender(user: Any, project: Project) -> bool:
    return project.status in ANNOUNCED or has_perm(user, "trading.view_project", project)


def _tender(request: Request, pk: int) -> Project:
    project = Project.objects.select_related("owner", "agent").filter(pk=pk).first()
    if project is None or not _may_see_tender(request.user, project):
        raise _project_not_found()
    return project


def _optional_lot(project: Project, number: int | None) -> Lot | None:
    return None if number is None else _lot(project, number)


def _lot(project: Project, number: int) -> Lot:
    lot = project.lots.filter(number=number).first()
    if lot is None:
        raise serializers.ValidationError({"lot_number": [_("本项目没有该标段/包。")]})
    return lot


def _choice(request: Request, name: str, choices: list[str]) -> str | None:
    value = request.query_params.get(name)
    if value and value not in choices:
        raise DomainError(
            _("参数 %(name)s 的取值无效：%(value)s"),
            code="INVALID_PARAMETER",
            name=name,
            value=value,
        )
    return value or None


def _int_param(request: Request, name: str) -> int | None:
    return query_integer(request.query_params, name)


# "+08:00" arrives as " 08:00" when a client forgets to percent-encode the plus sign of the query.
_UNENCODED_OFFSET = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")


def _moment_param(request: Request, name: str, *, end: bool) -> dt.datetime | None:
    """An ISO-8601 time with offset, or a date meaning that Beijing day (through its end if `end`)."""
    raw = request.query_params.get(name)
    if not raw:
        return None
    value = _UNENCODED_OFFSET.sub(r"\1+\2", raw.strip())
    try:
        day = parse_date(value)
        moment = None if day else parse_datetime(value)
    except ValueError:
        day = moment = None
    if day is not None:
        start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        return start + dt.timedelta(days=1) if end else start
    if moment is None:
        raise DomainError(_("时间格式无效：%(value)s"), code="INVALID_TIME", value=raw)
    if timezone.is_naive(moment):
        raise DomainError(
            _("时间必须带时区偏移，例如 2026-03-02T09:00:00+08:00：%(value)s"),
            code="NAIVE_TIME",
            value=raw,
        )
    return moment


def _publication(project: Project, version: AnnouncementVersion) -> dict[str, Any]:
    project.refresh_from_db()
    return PublicationSerializer({"project": project, "announcement_version": version}).data


def _viewer_org(request: Request) -> int | None:
    return getattr(request.user, "organization_id", None)


# --- Projects -------------------------------------------------------------------------------------


@extend_schema(
    methods=["GET"],
    parameters=[
        OpenApiParameter("status", str, enum=Project.Status.values),
        OpenApiParameter("kind", str, enum=Project.Kind.values),
    ],
    responses={200: page_of(ProjectSummarySerializer), **READ_ERRORS},
    operation_id="projects_list",
)
@extend_schema(
    methods=["POST"],
    request=ProjectCreateSerializer,
    responses={201: ProjectSerializer, **WRITE_ERRORS},
    description="An agent drafts a project. Money as strings; a minimum price is refused "
    "(MINIMUM_PRICE_FORBIDDEN), unknown fields too (UNKNOWN_FIELD).",
)
@api_view(["GET", "POST"])
def projects(request: Request) -> Response:
    if request.method == "POST":
        payload = ProjectCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        project = services.create_project(Actor.from_request(request), **payload.validated_data)
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)
    rows = visible_to(
        request.user,
        "trading.view_project",
        Project.objects.select_related("owner", "agent"),
    )
    wanted_status = _choice(request, "status", Project.Status.values)
    if wanted_status:
        rows = rows.filter(status=wanted_status)
    kind = _choice(request, "kind", Project.Kind.values)
    if kind:
        rows = rows.filter(kind=kind)
    return paginated(request, rows.order_by("-created_at", "-id"), ProjectSummarySerializer)


@extend_schema(methods=["GET"], responses={200: ProjectSerializer, **READ_ERRORS})
@extend_schema(
    methods=["PATCH"],
    request=ProjectUpdateSerializer,
    responses={200: ProjectSerializer, **WRITE_ERRORS},
)
@api_view(["GET", "PATCH"])
def project(request: Request, pk: int) -> Response:
    found = _managed_project(request, pk)
    if request.method == "PATCH":
        payload = ProjectUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        found = services.update_project(
            Actor.from_request(request), found, **payload.validated_data
        )
    return Response(ProjectSerializer(found).data)


@extend_schema(request=None, responses={200: ProjectSerializer, **WRITE_ERRORS})
@api_view(["POST"])
def submit_project(request: Request, pk: int) -> Response:
    """进场登记: the agent submits the draft for the center's review."""
    found = services.submit_project(Actor.from_request(request), _managed_project(request, pk))
    return Response(ProjectSerializer(found).data)


@extend_schema(request=None, responses={200: ProjectSerializer, **WRITE_ERRORS})
@api_view(["POST"])
def approve_project(request: Request, pk: int) -> Response:
    found = services.approve_project(Actor.from_request(request), _managed_project(request, pk))
    return Response(ProjectSerializer(found).data)


@extend_schema(request=ReasonSerializer, responses={200: ProjectSerializer, **WRITE_ERRORS})
@api_view(["POST"])
def return_project(request: Request, pk: int) -> Response:
    found = _managed_project(request, pk)
    payload = ReasonSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    found = services.return_project(Actor.from_request(request), found, **payload.validated_data)
    return Response(ProjectSerializer(found).data)


@extend_schema(request=PublishSerializer, responses={200: PublicationSerializer, **WRITE_ERRORS})
@api_view(["POST"])
def publish_project(request: Request, pk: int) -> Response:
    found = _managed_project(request, pk)
    payload = PublishSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    version = services.publish_project(Actor.from_request(request), found, **payload.validated_data)
    return Response(_publication(found, version))


@extend_schema(
    request=AmendmentSerializer,
    responses={201: PublicationSerializer, **WRITE_ERRORS},
    description="变更公告. If less than the legal notice remains, the bid deadline moves; the "
    "returned project shows the deadline now in force.",
)
@api_view(["POST"])
def amendments(request: Request, pk: int) -> Response:
    found = _managed_project(request, pk)
    payload = AmendmentSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    version = services.publish_amendment(
        Actor.from_request(request), found, **payload.validated_data
    )
    return Response(_publication(found, version), status=status.HTTP_201_CREATED)


@extend_schema(request=ReasonSerializer, responses={200: PublicationSerializer, **WRITE_ERRORS})
@api_view(["POST"])
def terminate_project(request: Request, pk: int) -> Response:
    found = _managed_project(request, pk)
    payload = ReasonSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    version = services.terminate_project(
        Actor.from_request(request), found, **payload.validated_data
    )
    return Response(_publication(found, version))


@extend_schema(
    request=RetenderSerializer,
    responses={201: ProjectSerializer, **WRITE_ERRORS},
    description="重新招标 of a lot that failed at its opening (流标): a new draft project with the "
    "lot, its invitees and its published documents, on the new dates (checked against every legal "
    "period from now). It is then submitted, approved and published like any project.",
)
@api_view(["POST"])
def retender_lot(request: Request, pk: int, number: int) -> Response:
    found = _managed_project(request, pk)
    lot = found.lots.filter(number=number).first()
    if lot is None:
        raise NotFound(_("本项目没有该标段/包。"))
    payload = RetenderSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    created = services.retender_failed_lot(
        Actor.from_request(request), lot, **payload.validated_data
    )
    return Response(ProjectSerializer(created).data, status=status.HTTP_201_CREATED)


# --- Documents ------------------------------------------------------------------------------------


@accepts_uploads(Role.AGENT)
@extend_schema(
    methods=["GET"],
    responses={200: page_of(DocumentSerializer), **READ_ERRORS},
    operation_id="project_documents_list",
)
@extend_schema(
    methods=["POST"],
    request={"multipart/form-data": DocumentUploadSerializer},
    responses={201: DocumentSerializer, **WRITE_ERRORS},
)
@api_view(["GET", "POST"])
@parser_classes([MultiPartParser, FormParser])
def project_documents(request: Request, pk: int) -> Response:
    if request.method == "POST":
        found = _managed_project(request, pk)
        payload = DocumentUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        document = services.upload_document(
            Actor.from_request(request),
            found,
            data["file"],
            title=data["title"],
            lot=_optional_lot(found, data.get("lot_number")),
        )
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)
    found = _tender(request, pk)
    rows = found.documents.select_related("lot").order_by("uploaded_at", "pk")
    if not has_perm(request.user, "trading.view_project", found):
        # Outsiders see what the announcement lists; drafts of later amendments stay private.
        rows = rows.filter(published_at__isnull=False)
    return paginated(request, rows, DocumentSerializer)


@extend_schema(
    responses={
        (200, "application/octet-stream"): OpenApiTypes.BINARY,
        404: ErrorSerializer,
    },
    description="The file itself. Suppliers may download published documents — after registering "
    "when the project requires it; anyone else who may not gets 404.",
)
@api_view(["GET"])
def document_download(request: Request, pk: int) -> FileResponse:
    document = ProjectDocument.objects.select_related("project").filter(pk=pk).first()
    if document is None or not services.may_download(request.user, document):
        raise NotFound(_("未找到该文件。"))
    stored = os.path.basename(present(document.file.name, "a stored document's name"))
    # Stored as "<first 16 hex of the SHA-256>-<uploaded name>"; hand back the uploaded name.
    filename = stored.removeprefix(f"{document.sha256[:16]}-")
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=filename,
        content_type=document.content_type or "application/octet-stream",
    )
    response["Cache-Control"] = "private, no-store"
    # Lets the supplier check the file against the hash the announcement published.
    response["X-Content-SHA256"] = document.sha256
    return response


# --- Registration ---------------------------------------------------------------------------------


def _visible_registrations(user: Any) -> QuerySet[Registration]:
    """Staff and supervisors see every list; a project's agent sees its project's; a supplier its own."""
    rows = Registration.objects.select_related("organization", "lot").order_by(
        "registered_at", "pk"
    )
    if has_perm(user, "trading.view_registration_list"):
        return rows
    managed = visible_to(user, "trading.manage_project", Project.objects.all())
    own = visible_to(user, "trading.view_registration", Registration.objects.all())
    return rows.filter(Q(pk__in=own.values("pk")) | Q(project__in=managed.values("pk")))


@extend_schema(
    methods=["GET"],
    parameters=[OpenApiParameter("project", int)],
    responses={200: page_of(RegistrationSerializer), **READ_ERRORS},
    operation_id="registrations_list",
)
@api_view(["GET"])
def registrations(request: Request) -> Response:
    """Registrations the caller may see across projects (a supplier: its organization's)."""
    rows = _visible_registrations(request.user)
    project_id = _int_param(request, "project")
    if project_id is not None:
        rows = rows.filter(project_id=project_id)
    return paginated(request, rows, RegistrationSerializer)


@extend_schema(
    methods=["GET"],
    responses={200: page_of(RegistrationSerializer), **READ_ERRORS},
    operation_id="project_registrations_list",
)
@extend_schema(
    methods=["POST"],
    request=RegistrationCreateSerializer,
    responses={201: RegistrationSerializer, **WRITE_ERRORS},
)
@api_view(["GET", "POST"])
def project_registrations(request: Request, pk: int) -> Response:
    found = _tender(request, pk)
    if request.method == "POST":
        payload = RegistrationCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        registration = services.register(
            Actor.from_request(request),
            _lot(found, data["lot_number"]),
            contact_name=data["contact_name"],
            contact_phone=data["contact_phone"],
        )
        return Response(RegistrationSerializer(registration).data, status=status.HTTP_201_CREATED)
    rows = _visible_registrations(request.user).filter(project=found)
    return paginated(request, rows, RegistrationSerializer)


# --- Questions (答疑) -----------------------------------------------------------------------------


def _visible_questions(user: Any, project: Project) -> tuple[QuerySet[Question], bool]:
    """The project's questions the caller may read, and whether it may see who asked.

    The asker stays anonymous to the agent, the owner and other suppliers (答疑 must not reveal
    potential bidders, 招标投标法 Art.22); only center staff and supervisors see it. The agent sees
    unanswered questions so it can answer them; everyone else sees answered ones and their own.
    """
    rows = project.questions.order_by("asked_at", "pk")
    if has_perm(user, "trading.view_question"):
        return rows.select_related("organization"), True
    if has_perm(user, "trading.manage_project", project):
        return rows, False
    visible = Q(answered_at__isnull=False)
    org_id = getattr(user, "organization_id", None)
    if org_id is not None:
        visible |= Q(organization_id=org_id)
    return rows.filter(visible), False


def _question_serializer(request: Request, with_asker: bool) -> Any:
    cls = QuestionWithAskerSerializer if with_asker else QuestionSerializer
    return partial(cls, context={"viewer_organization_id": _viewer_org(request)})


@extend_schema(
    methods=["GET"],
    responses={200: page_of(QuestionSerializer), **READ_ERRORS},
    operation_id="project_questions_list",
    description="Staff and supervisors also get `organization` (the asker); nobody else does.",
)
@extend_schema(
    methods=["POST"],
    request=QuestionCreateSerializer,
    responses={201: QuestionSerializer, **WRITE_ERRORS},
)
@api_view(["GET", "POST"])
def project_questions(request: Request, pk: int) -> Response:
    found = _tender(request, pk)
    if request.method == "POST":
        payload = QuestionCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        question = services.ask_question(
            Actor.from_request(request), found, **payload.validated_data
        )
        reply = _question_serializer(request, with_asker=False)(question)
        return Response(reply.data, status=status.HTTP_201_CREATED)
    rows, with_asker = _visible_questions(request.user, found)
    return paginated(request, rows, _question_serializer(request, with_asker))


@extend_schema(request=AnswerSerializer, responses={200: QuestionSerializer, **WRITE_ERRORS})
@api_view(["POST"])
def answer_question(request: Request, pk: int) -> Response:
    """The agent answers publicly (a new version of the 澄清公告); the deadline keeps the legal notice
    when the answer affects how bids are prepared."""
    question = Question.objects.select_related("project").filter(pk=pk).first()
    if question is None or not _may_see_tender(request.user, question.project):
        raise NotFound(_("未找到该提问。"))
    rows, _with_asker = _visible_questions(request.user, question.project)
    if not rows.filter(pk=pk).exists():
        raise NotFound(_("未找到该提问。"))
    payload = AnswerSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    services.answer_question(Actor.from_request(request), question, **payload.validated_data)
    question.refresh_from_db()
    return Response(_question_serializer(request, with_asker=False)(question).data)


# --- Objections (异议) ----------------------------------------------------------------------------


def _visible_objections(user: Any) -> QuerySet[Objection]:
    """Staff and supervisors see all; the agent its projects'; the raising organization its own."""
    rows = Objection.objects.select_related("organization").order_by("raised_at", "pk")
    if has_perm(user, "trading.view_objection"):
        return rows
    managed = visible_to(user, "trading.manage_project", Project.objects.all())
    own = visible_to(user, "trading.view_objection", Objection.objects.all())
    return rows.filter(Q(pk__in=own.values("pk")) | Q(project__in=managed.values("pk")))


@extend_schema(
    parameters=[OpenApiParameter("project", int)],
    responses={200: page_of(ObjectionSerializer), **READ_ERRORS},
    operation_id="objections_list",
)
@api_view(["GET"])
def objections(request: Request) -> Response:
    rows = _visible_objections(request.user)
    project_id = _int_param(request, "project")
    if project_id is not None:
        rows = rows.filter(project_id=project_id)
    return paginated(request, rows, ObjectionSerializer)


@extend_schema(
    methods=["GET"],
    responses={200: page_of(ObjectionSerializer), **READ_ERRORS},
    operation_id="project_objections_list",
)
@extend_schema(
    methods=["POST"],
    request=ObjectionCreateSerializer,
    responses={201: ObjectionSerializer, **WRITE_ERRORS},
    description="异议 to the tender documents; the tender is suspended until the agent replies.",
)
@api_view(["GET", "POST"])
def project_objections(request: Request, pk: int) -> Response:
    found = _tender(request, pk)
    if request.method == "POST":
        payload = ObjectionCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        objection = services.raise_objection(
            Actor.from_request(request), found, **payload.validated_data
        )
        return Response(ObjectionSerializer(objection).data, status=status.HTTP_201_CREATED)
    rows = _visible_objections(request.user).filter(project=found)
    return paginated(request, rows, ObjectionSerializer)


@extend_schema(
    request=ObjectionReplySerializer, responses={200: ObjectionSerializer, **WRITE_ERRORS}
)
@api_view(["POST"])
def reply_objection(request: Request, pk: int) -> Response:
    objection = _visible_objections(request.user).filter(pk=pk).first()
    if objection is None:
        raise NotFound(_("未找到该异议。"))
    payload = ObjectionReplySerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    replied = services.reply_objection(
        Actor.from_request(request), objection, **payload.validated_data
    )
    return Response(ObjectionSerializer(replied).data)


# --- Public announcements -------------------------------------------------------------------------


def _published_announcements() -> QuerySet[Announcement]:
    # Announcement rows are only created by publishing a version; the filter keeps it that way even if
    # a series were ever created ahead of its first version.
    return Announcement.objects.filter(version_count__gt=0).select_related("project")


@extend_schema(
    parameters=[
        OpenApiParameter("kind", str, enum=Announcement.Kind.values),
        OpenApiParameter("project_kind", str, enum=Project.Kind.values),
        OpenApiParameter("region", str, description="行政区划代码, exact"),
        OpenApiParameter(
            "since",
            str,
            description="last published at or after: ISO-8601 with offset, or a date (Beijing)",
        ),
        OpenApiParameter(
            "until",
            str,
            description="last published before: ISO-8601 with offset, or a date (inclusive)",
        ),
        OpenApiParameter("q", str, description="searches the title and the project number"),
    ],
    responses={200: page_of(AnnouncementSerializer), 400: ErrorSerializer},
    operation_id="announcements_list",
)
@api_view(["GET"])
@permission_classes([AllowAny])
def announcements(request: Request) -> Response:
    """Published announcements, newest first. Public."""
    rows = _published_announcements()
    for name, choices in (
        ("kind", Announcement.Kind.values),
        ("project_kind", Project.Kind.values),
    ):
        value = _choice(request, name, choices)
        if value:
            rows = rows.filter(**{name: value})
    region = request.query_params.get("region", "").strip()
    if region:
        rows = rows.filter(region=region)
    since = _moment_param(request, "since", end=False)
    if since:
        rows = rows.filter(last_published_at__gte=since)
    until = _moment_param(request, "until", end=True)
    if until:
        rows = rows.filter(last_published_at__lt=until)
    text = request.query_params.get("q", "").strip()
    if text:
        rows = rows.filter(Q(title__icontains=text) | Q(project__number__icontains=text))
    return paginated(request, rows.order_by("-last_published_at", "-id"), AnnouncementSerializer)


@extend_schema(responses={200: AnnouncementDetailSerializer, 404: ErrorSerializer})
@api_view(["GET"])
@permission_classes([AllowAny])
def announcement(request: Request, pk: int) -> Response:
    """One announcement with every published version (content and SHA-256). Public."""
    found = (
        _published_announcements()
        .prefetch_related(Prefetch("versions", AnnouncementVersion.objects.order_by("number")))
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound(_("未找到该公告。"))
    return Response(AnnouncementDetailSerializer(found).data)


# --- Statutory calendar ---------------------------------------------------------------------------


@extend_schema(
    methods=["GET"],
    parameters=[OpenApiParameter("year", int)],
    responses={200: page_of(StatutoryDaySerializer), **READ_ERRORS},
    operation_id="calendar_days_list",
)
@extend_schema(
    methods=["POST"],
    request=StatutoryDayInputSerializer,
    responses={201: StatutoryDaySerializer, **WRITE_ERRORS},
    description="Enter or correct one day of the State Council's holiday notice (center staff).",
)
@api_view(["GET", "POST"])
def statutory_days(request: Request) -> Response:
    if request.method == "POST":
        payload = StatutoryDayInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        entry = calendar.set_statutory_day(Actor.from_request(request), data.pop("date"), **data)
        return Response(StatutoryDaySerializer(entry).data, status=status.HTTP_201_CREATED)
    rows = StatutoryDay.objects.order_by("date")
    year = _int_param(request, "year")
    if year is not None and not 1 <= year <= 9999:
        raise DomainError(_("year 必须在 1 到 9999 之间。"), code="INVALID_PARAMETER")
    if year is not None:
        rows = rows.filter(date__year=year)
    return paginated(request, rows, StatutoryDaySerializer)


@extend_schema(
    parameters=[OpenApiParameter("day", OpenApiTypes.DATE, OpenApiParameter.PATH)],
    responses={204: None, **WRITE_ERRORS},
)
@api_view(["DELETE"])
def statutory_day(request: Request, day: str) -> Response:
    """Remove a day: it falls back to chinese-calendar, or to its weekday (center staff)."""
    try:
        parsed = dt.date.fromisoformat(day)
    except ValueError as exc:
        raise DomainError(_("日期格式无效：%(value)s"), code="INVALID_DATE", value=day) from exc
    calendar.remove_statutory_day(Actor.from_request(request), parsed)
    return Response(status=status.HTTP_204_NO_CONTENT)
