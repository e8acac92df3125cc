"""REST endpoints of the expert pool and its draws (issue 5), under /api/v1/experts/.

Each endpoint finds the object the caller may see (404 otherwise), parses the body, calls one service —
which checks the permission (403) and every rule — and replies. What a draw reveals depends on the
reader (experts/access.py): the full record to staff and supervisors, the exclusions with their reasons
to supervisors only, and to everyone else the commitment hashes and, after disclosure, the seated names.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.actors import Actor
from accounts.models import Role
from accounts.permissions import has_perm, signed_in_user
from experts import access, services
from experts.models import DrawRequest, Expert, Rating, Specialty
from experts.serializers import (
    CommitteeMemberSerializer,
    DrawCreateSerializer,
    DrawSerializer,
    ExpertCreateSerializer,
    ExpertDetailSerializer,
    ExpertRelationSerializer,
    ExpertSerializer,
    ExpertStatusSerializer,
    PublicDrawSerializer,
    RatingCreateSerializer,
    RatingSerializer,
    RelationCreateSerializer,
    ReplacementSerializer,
    RespondSerializer,
    SeatSerializer,
    SpecialtySerializer,
    TieCreateSerializer,
    TieSerializer,
    VerificationSerializer,
)
from lib.api import READ_ERRORS, WRITE_ERRORS, ErrorSerializer, page_of, paginated
from lib.errors import DomainError, NotFound, NotPermitted
from lib.numbers import query_integer
from trading.models import Project

# --- Lookups --------------------------------------------------------------------------------------


def _project(request: Request, pk: int) -> Project:
    """A project the caller may see: announced, or visible to them through trading.view_project."""
    project = Project.objects.filter(pk=pk).first()
    if project is None or not (
        project.status in access.ANNOUNCED
        or has_perm(request.user, "trading.view_project", project)
    ):
        raise NotFound(_("未找到该项目。"))
    return project


def _require_view(request: Request, perm: str) -> None:
    """A list only some roles may read: 403 for everyone else (a list reveals no single object)."""
    if not has_perm(request.user, perm):
        raise NotPermitted(_("您没有执行此操作的权限。"))


def _param(request: Request, name: str) -> str:
    return (request.query_params.get(name) or "").strip()


def _choice(request: Request, name: str, choices: list[str]) -> str:
    value = _param(request, name)
    if value and value not in choices:
        raise DomainError(
            _("参数 %(name)s 的取值无效：%(value)s"),
            code="INVALID_PARAMETER",
            name=name,
            value=value,
        )
    return value


def _int(request: Request, name: str) -> int | None:
    return query_integer({name: _param(request, name)}, name)


def draw_body(request: Request, draw: DrawRequest) -> dict[str, Any]:
    """The draw as this reader may see it."""
    context = {"request": request, "supervisor_view": access.may_see_exclusions(request.user)}
    if access.may_see_record(request.user):
        return DrawSerializer(draw, context=context).data
    return PublicDrawSerializer(draw, context=context).data


def _fresh(draw: DrawRequest) -> DrawRequest:
    return DrawRequest.objects.select_related(
        "project", "lot", "requested_by", "supervisor", "replaces_in"
    ).get(pk=draw.pk)


# --- The pool -------------------------------------------------------------------------------------


@extend_schema(responses={200: SpecialtySerializer(many=True), **READ_ERRORS})
@api_view(["GET"])
def specialties(request: Request) -> Response:
    """The specialty codes (a quota for a code takes experts of every code below it)."""
    return Response(SpecialtySerializer(Specialty.objects.order_by("code"), many=True).data)


@extend_schema(
    methods=["GET"],
    parameters=[
        OpenApiParameter("specialty", str, description="A code; matches every code below it."),
        OpenApiParameter("status", str, enum=Expert.Status.values),
        OpenApiParameter("region", str, description="A region code prefix, e.g. 4404."),
        OpenApiParameter("q", str, description="Part of the name."),
    ],
    responses={200: page_of(ExpertSerializer), **READ_ERRORS},
    operation_id="experts_pool_list",
)
@extend_schema(
    methods=["POST"],
    request=ExpertCreateSerializer,
    responses={201: ExpertDetailSerializer, **WRITE_ERRORS},
    description="Center staff add an expert (at least 8 years in the field, valid specialty codes).",
)
@api_view(["GET", "POST"])
def pool(request: Request) -> Response:
    if request.method == "POST":
        payload = ExpertCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        expert = services.add_expert(Actor.from_request(request), **payload.validated_data)
        return Response(ExpertDetailSerializer(expert).data, status=status.HTTP_201_CREATED)
    _require_view(request, "experts.view_expert")
    rows = Expert.objects.select_related("employer", "user").prefetch_related("specialties")
    specialty = _param(request, "specialty")
    if specialty:
        rows = rows.filter(specialties__code__startswith=specialty).distinct()
    wanted = _choice(request, "status", Expert.Status.values)
    if wanted:
        rows = rows.filter(status=wanted)
    region = _param(request, "region")
    if region:
        rows = rows.filter(region__startswith=region)
    query = _param(request, "q")
    if query:
        rows = rows.filter(name__contains=query)
    return paginated(request, rows.order_by("name", "id"), ExpertSerializer)


@extend_schema(responses={200: ExpertDetailSerializer, **READ_ERRORS})
@api_view(["GET"])
def expert(request: Request, pk: int) -> Response:
    return Response(ExpertDetailSerializer(access.expert_for(request.user, pk)).data)


@extend_schema(request=TieCreateSerializer, responses={201: TieSerializer, **WRITE_ERRORS})
@api_view(["POST"])
def expert_ties(request: Request, pk: int) -> Response:
    """Declare a tie (employment, directorship, shareholding, control) to an organization."""
    found = access.expert_for(request.user, pk)
    payload = TieCreateSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    tie = services.declare_tie(Actor.from_request(request), found, **payload.validated_data)
    return Response(TieSerializer(tie).data, status=status.HTTP_201_CREATED)


@extend_schema(
    request=RelationCreateSerializer, responses={201: ExpertRelationSerializer, **WRITE_ERRORS}
)
@api_view(["POST"])
def expert_relations(request: Request, pk: int) -> Response:
    """Declare a personal relation (a relative among an organization's key people, or another tie)."""
    found = access.expert_for(request.user, pk)
    payload = RelationCreateSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    relation = services.declare_relation(
        Actor.from_request(request), found, **payload.validated_data
    )
    return Response(ExpertRelationSerializer(relation).data, status=status.HTTP_201_CREATED)


@extend_schema(
    request=ExpertStatusSerializer, responses={200: ExpertDetailSerializer, **WRITE_ERRORS}
)
@api_view(["POST"])
def expert_status(request: Request, pk: int) -> Response:
    """Suspend, blacklist or reinstate an expert (until a day, or until lifted)."""
    found = access.expert_for(request.user, pk)
    payload = ExpertStatusSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    changed = services.set_status(Actor.from_request(request), found, **payload.validated_data)
    return Response(ExpertDetailSerializer(changed).data)


# --- Draws ----------------------------------------------------------------------------------------


@extend_schema(
    methods=["GET"],
    parameters=[
        OpenApiParameter("status", str, enum=DrawRequest.Status.values),
        OpenApiParameter("project", int),
    ],
    responses={200: page_of(PublicDrawSerializer), **READ_ERRORS},
    operation_id="experts_draws_list",
)
@extend_schema(
    methods=["POST"],
    request=DrawCreateSerializer,
    responses={201: DrawSerializer, **WRITE_ERRORS},
    description="Request a draw and commit to it: the committee rules are checked, the eligible pool "
    "is frozen and hashed, and a secret seed is fixed, of which only its SHA-256 is returned.",
)
@api_view(["GET", "POST"])
def draws(request: Request) -> Response:
    if request.method == "POST":
        payload = DrawCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        project = _project(request, data.pop("project"))
        lot_number = data.pop("lot_number")
        lot = None
        if lot_number is not None:
            lot = project.lots.filter(number=lot_number).first()
            if lot is None:
                raise DomainError(_("本项目没有该标段/包。"), code="VALIDATION_ERROR")
        draw = services.commit_draw(Actor.from_request(request), project, lot=lot, **data)
        return Response(draw_body(request, _fresh(draw)), status=status.HTTP_201_CREATED)
    _require_view(request, "experts.view_drawrequest")
    rows = DrawRequest.objects.select_related("project")
    wanted = _choice(request, "status", DrawRequest.Status.values)
    if wanted:
        rows = rows.filter(status=wanted)
    project_id = _int(request, "project")
    if project_id is not None:
        rows = rows.filter(project_id=project_id)
    # The list shows the public shape (no names), whoever reads it: open a draw for its record.
    return paginated(request, rows.order_by("-committed_at", "-id"), PublicDrawSerializer)


@extend_schema(
    # Either shape, by reader (the full record also carries every public field, so not oneOf).
    responses={
        200: {
            "anyOf": [
                {"$ref": "#/components/schemas/Draw"},
                {"$ref": "#/components/schemas/PublicDraw"},
            ]
        },
        404: ErrorSerializer,
    },
    description="The draw as the reader may see it: staff and supervisors get the full record "
    "(supervisors also `exclusions` with each reason); anyone else who may see the project gets the "
    "public record — hashes, times, the revealed seed, and `members` only once disclosed.",
)
@api_view(["GET"])
@permission_classes([AllowAny])
def draw(request: Request, pk: int) -> Response:
    return Response(draw_body(request, access.draw_for(request.user, pk)))


@extend_schema(request=None, responses={200: DrawSerializer, **WRITE_ERRORS})
@api_view(["POST"])
def run_draw(request: Request, pk: int) -> Response:
    """执行抽取: apply the documented selection to the committed seed and pool, reveal the seed."""
    found = access.draw_for(request.user, pk)
    services.run_draw(Actor.from_request(request), found)
    return Response(draw_body(request, _fresh(found)))


@extend_schema(request=None, responses={200: DrawSerializer, **WRITE_ERRORS})
@api_view(["POST"])
def sign_off(request: Request, pk: int) -> Response:
    """监督确认: the (designated) supervisor confirms the draw."""
    found = access.draw_for(request.user, pk)
    services.sign_off(Actor.from_request(request), found)
    return Response(draw_body(request, _fresh(found)))


@extend_schema(request=ReplacementSerializer, responses={201: DrawSerializer, **WRITE_ERRORS})
@api_view(["POST"])
def replacement(request: Request, pk: int) -> Response:
    """替补抽取: a fresh commit–reveal draw for one empty seat of a quota (run it with /run/)."""
    found = access.draw_for(request.user, pk)
    payload = ReplacementSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    index = payload.validated_data["quota"]
    if index >= len(found.quotas):
        raise DomainError(_("没有该专业配额。"), code="VALIDATION_ERROR")
    new = services.commit_replacement(
        Actor.from_request(request),
        found,
        index,
        supervisor=payload.validated_data["supervisor"],
    )
    return Response(draw_body(request, _fresh(new)), status=status.HTTP_201_CREATED)


@extend_schema(request=None, responses={200: DrawSerializer, **WRITE_ERRORS})
@api_view(["POST"])
def disclose(request: Request, pk: int) -> Response:
    """公开名单: once signed off, the seated members may be named to everyone."""
    found = access.draw_for(request.user, pk)
    services.disclose(Actor.from_request(request), found)
    return Response(draw_body(request, _fresh(found)))


@extend_schema(responses={200: VerificationSerializer, 404: ErrorSerializer})
@api_view(["GET"])
@permission_classes([AllowAny])
def verify(request: Request, pk: int) -> Response:
    """Recompute the draw from its record (the seed against its commitment, the pool and request
    against their hashes, the picks) and hold the record against its commit and draw audit events."""
    found = access.draw_for(request.user, pk)
    problems = services.verify(found)
    return Response(
        {
            "ok": not problems,
            "problems": problems,
            "command": f"python manage.py verify_draw {found.pk}",
        }
    )


@extend_schema(
    responses={200: CommitteeMemberSerializer(many=True), 404: ErrorSerializer},
    description="The disclosed committee of an announced project: the seated members' names, once "
    "disclosed (an empty list before).",
)
@api_view(["GET"])
@permission_classes([AllowAny])
def project_committee(request: Request, pk: int) -> Response:
    project = _project(request, pk)
    members = [
        row
        for committee in access.disclosed_members(request.user, project)
        for row in committee["members"]
    ]
    return Response(CommitteeMemberSerializer(members, many=True).data)


# --- The drawn expert -----------------------------------------------------------------------------


@extend_schema(responses={200: SeatSerializer(many=True), **READ_ERRORS})
@api_view(["GET"])
def mine(request: Request) -> Response:
    """我的评标任务: the caller's seats (an expert with a pool record)."""
    if signed_in_user(request).role != Role.EXPERT:
        raise NotPermitted(_("只有评标专家可以查看评标任务。"))
    return Response(SeatSerializer(access.own_seats(request.user), many=True).data)


@extend_schema(request=RespondSerializer, responses={200: SeatSerializer, **WRITE_ERRORS})
@api_view(["POST"])
def respond(request: Request, pk: int) -> Response:
    """Confirm or decline (with a reason) a seat; a decline seats the next alternate."""
    seat = access.seat_for(request.user, pk)
    payload = RespondSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    answered = services.respond(Actor.from_request(request), seat, **payload.validated_data)
    return Response(SeatSerializer(answered).data)


# --- Ratings --------------------------------------------------------------------------------------


@extend_schema(
    methods=["GET"],
    parameters=[OpenApiParameter("project", int), OpenApiParameter("expert", int)],
    responses={200: page_of(RatingSerializer), **READ_ERRORS},
    operation_id="experts_ratings_list",
)
@extend_schema(
    methods=["POST"],
    request=RatingCreateSerializer,
    responses={201: RatingSerializer, **WRITE_ERRORS},
    description="一标一评: rate one expert's conduct on one project. A concealed conflict bars the "
    "expert; a second absence within a year suspends for six months.",
)
@api_view(["GET", "POST"])
def ratings(request: Request) -> Response:
    if request.method == "POST":
        payload = RatingCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        found = access.expert_for(request.user, data.pop("expert"))
        project = _project(request, data.pop("project"))
        rating = services.rate(Actor.from_request(request), found, project, **data)
        return Response(RatingSerializer(rating).data, status=status.HTTP_201_CREATED)
    _require_view(request, "experts.view_rating")
    rows = Rating.objects.select_related("expert", "expert__employer", "project", "rated_by")
    project_id = _int(request, "project")
    if project_id is not None:
        rows = rows.filter(project_id=project_id)
    expert_id = _int(request, "expert")
    if expert_id is not None:
        rows = rows.filter(expert_id=expert_id)
    return paginated(request, rows.order_by("-rated_at", "-id"), RatingSerializer)
