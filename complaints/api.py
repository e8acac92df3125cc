"""REST endpoints of complaint cases (投诉), at /api/v1/complaints/ (see config/urls.py).

Each endpoint finds the case the caller may see (`complaints.queries`: supervisors and center staff
by their role, the parties by the object permission `file_complaint` granted; 404 for anyone else,
so another supplier never learns a case exists), parses the body strictly, calls one service —
which checks who may act (403) and every rule of the case — and replies.
"""

from __future__ import annotations

import os
from typing import Any

from django.http import FileResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.actors import Actor
from accounts.models import Role
from accounts.permissions import has_perm
from bidding.models import OpeningResponse, PublicityObjection
from complaints import services
from complaints.models import Complaint, ComplaintDocument, MaterialRequest
from complaints.queries import case_with_files, may_see, visible_complaints
from complaints.serializers import (
    CaseFileUploadSerializer,
    ComplaintCreateSerializer,
    ComplaintDocumentSerializer,
    ComplaintSerializer,
    ComplaintSummarySerializer,
    DecideSerializer,
    MaterialRequestCreateSerializer,
    MaterialRequestSerializer,
    RefusalSerializer,
    RequestAnswerSerializer,
    SuspendSerializer,
)
from lib.api import READ_ERRORS, WRITE_ERRORS, ErrorSerializer, page_of, paginated, query_choice
from lib.edge import FormParser, MultiPartParser
from lib.errors import NotFound, present
from lib.numbers import query_integer
from lib.uploads import accepts_uploads
from trading.models import Objection, Project

# A tender is public once announced (as in trading.api); before that only its managers see it.
ANNOUNCED = (Project.Status.PUBLISHED, Project.Status.TERMINATED)


# --- Lookups --------------------------------------------------------------------------------------


def _not_found() -> NotFound:
    return NotFound(_("未找到该投诉案件。"))


def _case(request: Request, pk: int) -> Complaint:
    """The case, if the caller may see it; 404 otherwise (whether or not it exists)."""
    found = case_with_files(pk)
    if found is None or not may_see(request.user, found):
        raise _not_found()
    return found


def _reply(pk: int, code: int = status.HTTP_200_OK) -> Response:
    """The case as it now stands (read again: the service changed it)."""
    found = present(case_with_files(pk), "a case just acted on")
    return Response(ComplaintSerializer(found).data, status=code)


def _project(request: Request, pk: int) -> Project:
    project = Project.objects.select_related("owner", "agent").filter(pk=pk).first()
    if project is None or not (
        project.status in ANNOUNCED or has_perm(request.user, "trading.view_project", project)
    ):
        raise NotFound(_("未找到该项目。"))
    return project


def _prior(data: dict[str, Any]) -> dict[str, Any]:
    """The objection the complaint follows, by id: it must exist (404 otherwise). Whether it is the
    caller's, and on this project, is the service's to say."""
    lookups: dict[str, tuple[Any, Any]] = {
        "objection": (Objection.objects.all(), _("未找到该异议/质疑。")),
        "publicity_objection": (
            PublicityObjection.objects.select_related("publicity__lot"),
            _("未找到该异议。"),
        ),
        "opening_response": (
            OpeningResponse.objects.select_related("opening__lot"),
            _("未找到该开标记录回复。"),
        ),
    }
    found: dict[str, Any] = {}
    for name, (rows, missing) in lookups.items():
        pk = data.get(name)
        if pk is None:
            continue
        prior = rows.filter(pk=pk).first()
        if prior is None:
            raise NotFound(missing)
        found[name] = prior
    return found


def _request_of(complaint: Complaint, pk: int) -> MaterialRequest:
    found = complaint.requests.filter(pk=pk).select_related("complaint__project").first()
    if found is None:
        raise NotFound(_("未找到该调查取证要求。"))
    return found


# --- Cases ----------------------------------------------------------------------------------------


@extend_schema(
    methods=["GET"],
    parameters=[
        OpenApiParameter("status", str, enum=Complaint.Status.values),
        OpenApiParameter("project", {"type": "integer", "minimum": 0}, description="project id"),
    ],
    responses={200: page_of(ComplaintSummarySerializer), **READ_ERRORS},
    operation_id="complaints_list",
    description="The cases the caller may see, newest first: every case for supervisors and center "
    "staff; for the complainant, the project's agent and its owner, their own cases.",
)
@extend_schema(
    methods=["POST"],
    request=ComplaintCreateSerializer,
    responses={201: ComplaintSerializer, **WRITE_ERRORS},
    description="投诉 by a supplier (bid operator or admin of its organization), inside the window "
    "of `complaints.rules`. Refusals include OBJECTION_FIRST, OBJECTION_PENDING, "
    "COMPLAINT_WINDOW_CLOSED, KNEW_AT_REQUIRED, DUPLICATE_COMPLAINT, ONE_OBJECTION_ONLY, "
    "COMPLAINT_NOT_APPLICABLE; a project or objection that does not exist is 404; keys not listed "
    "are refused (UNKNOWN_FIELD).",
)
@api_view(["GET", "POST"])
def complaints(request: Request) -> Response:
    if request.method == "POST":
        payload = ComplaintCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        filed = services.file_complaint(
            Actor.from_request(request),
            _project(request, data["project"]),
            subject=data["subject"],
            facts=data["facts"],
            claims=data["claims"],
            knew_at=data.get("knew_at"),
            **_prior(data),
        )
        return _reply(filed.pk, status.HTTP_201_CREATED)
    rows = visible_complaints(request.user)
    wanted = query_choice(request, "status", Complaint.Status.values)
    if wanted:
        rows = rows.filter(status=wanted)
    project_id = query_integer(request.query_params, "project")
    if project_id is not None:
        rows = rows.filter(project_id=project_id)
    return paginated(request, rows, ComplaintSummarySerializer)


@extend_schema(
    responses={200: ComplaintSerializer, **READ_ERRORS},
    description="A case with its requests, files (metadata) and suspensions; 404 for anyone who "
    "may not see it.",
)
@api_view(["GET"])
def complaint(request: Request, pk: int) -> Response:
    return Response(ComplaintSerializer(_case(request, pk)).data)


@extend_schema(
    request=None,
    responses={200: ComplaintSerializer, **WRITE_ERRORS},
    description="受理 (supervisor). The respondent is asked for its written explanation at once.",
)
@api_view(["POST"])
def accept(request: Request, pk: int) -> Response:
    found = services.accept_complaint(Actor.from_request(request), _case(request, pk))
    return _reply(found.pk)


@extend_schema(
    request=RefusalSerializer,
    responses={200: ComplaintSerializer, **WRITE_ERRORS},
    description="不予受理 (supervisor), with the reason the complainant sees.",
)
@api_view(["POST"])
def refuse(request: Request, pk: int) -> Response:
    found = _case(request, pk)
    payload = RefusalSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    found = services.refuse_complaint(
        Actor.from_request(request), found, reason=payload.validated_data["reason"]
    )
    return _reply(found.pk)


@extend_schema(
    request=MaterialRequestCreateSerializer,
    responses={201: MaterialRequestSerializer, **WRITE_ERRORS},
    description="调查取证 (supervisor, accepted cases): ask the complainant or the respondent for an "
    "explanation or for material by `due_at`. A `supplement` request's time is not counted in the "
    "decision period.",
)
@api_view(["POST"])
def requests(request: Request, pk: int) -> Response:
    found = _case(request, pk)
    payload = MaterialRequestCreateSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    asked = services.request_material(Actor.from_request(request), found, **payload.validated_data)
    return Response(MaterialRequestSerializer(asked).data, status=status.HTTP_201_CREATED)


@extend_schema(
    request=RequestAnswerSerializer,
    responses={200: MaterialRequestSerializer, **WRITE_ERRORS},
    description="The asked party (its bid operator or admin) answers by the due time.",
)
@api_view(["POST"])
def answer(request: Request, pk: int, rid: int) -> Response:
    found = _case(request, pk)
    asked = _request_of(found, rid)
    payload = RequestAnswerSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    answered = services.answer_request(
        Actor.from_request(request), asked, answer=payload.validated_data["answer"]
    )
    return Response(MaterialRequestSerializer(answered).data)


@extend_schema(
    request=SuspendSerializer,
    responses={200: ComplaintSerializer, **WRITE_ERRORS},
    description="暂停采购活动 (supervisor) for `days` calendar days at most (SUSPENSION_DAYS_INVALID "
    "beyond the regime's cap); the clock lifts it then, the decision or withdrawal earlier.",
)
@api_view(["POST"])
def suspend(request: Request, pk: int) -> Response:
    found = _case(request, pk)
    payload = SuspendSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    services.suspend_procurement(Actor.from_request(request), found, **payload.validated_data)
    return _reply(found.pk)


@extend_schema(
    request=None,
    responses={200: ComplaintSerializer, **WRITE_ERRORS},
    description="The supervisor lifts this case's suspension before the decision (NOT_SUSPENDED "
    "when there is none).",
)
@api_view(["POST"])
def resume(request: Request, pk: int) -> Response:
    found = services.resume_procurement(Actor.from_request(request), _case(request, pk))
    return _reply(found.pk)


@extend_schema(
    request=DecideSerializer,
    responses={200: ComplaintSerializer, **WRITE_ERRORS},
    description="处理决定 (supervisor, accepted cases, no request still inside its answer period: "
    "REQUESTS_PENDING). Upheld needs a remedy (REMEDY_REQUIRED); dismissed takes none "
    "(REMEDY_INVALID).",
)
@api_view(["POST"])
def decide(request: Request, pk: int) -> Response:
    found = _case(request, pk)
    payload = DecideSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    found = services.decide_complaint(
        Actor.from_request(request),
        found,
        outcome=data["outcome"],
        remedy=data.get("remedy", ""),
        decision=data["decision"],
    )
    return _reply(found.pk)


@extend_schema(
    request=None,
    responses={200: ComplaintSerializer, **WRITE_ERRORS},
    description="The complainant withdraws before the decision; its suspension ends.",
)
@api_view(["POST"])
def withdraw(request: Request, pk: int) -> Response:
    found = services.withdraw_complaint(Actor.from_request(request), _case(request, pk))
    return _reply(found.pk)


# --- Files ----------------------------------------------------------------------------------------


@accepts_uploads(Role.SUPPLIER, Role.AGENT, Role.SUPERVISOR)
@extend_schema(
    request={"multipart/form-data": CaseFileUploadSerializer},
    responses={201: ComplaintDocumentSerializer, **WRITE_ERRORS},
    description="A file for an open case from the complainant, the respondent or the regulator, "
    "optionally answering one of its requests (`request`).",
)
@api_view(["POST"])
@parser_classes([MultiPartParser, FormParser])
def documents(request: Request, pk: int) -> Response:
    found = _case(request, pk)
    payload = CaseFileUploadSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    asked = None if data.get("request") is None else _request_of(found, data["request"])
    document = services.add_document(
        Actor.from_request(request), found, data["file"], title=data["title"], request=asked
    )
    return Response(ComplaintDocumentSerializer(document).data, status=status.HTTP_201_CREATED)


@extend_schema(
    responses={
        (200, "application/octet-stream"): OpenApiTypes.BINARY,
        404: ErrorSerializer,
    },
    description="The file itself, for anyone who may see the case; its SHA-256 in X-Content-SHA256.",
)
@api_view(["GET"])
def document(request: Request, pk: int, did: int) -> FileResponse:
    found = _case(request, pk)
    stored = ComplaintDocument.objects.filter(pk=did, complaint=found).first()
    if stored is None:
        raise NotFound(_("未找到该文件。"))
    name = os.path.basename(present(stored.file.name, "a stored case file's name"))
    response = FileResponse(
        stored.file.open("rb"),
        as_attachment=True,
        filename=name,
        content_type=stored.content_type or "application/octet-stream",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-SHA256"] = stored.sha256
    return response
