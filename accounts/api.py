"""REST endpoints for parties. Each one parses, authorizes through the service, calls it, replies."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import services
from accounts.actors import Actor
from accounts.models import IntegrityRecord, Organization
from accounts.permissions import has_perm, visible_to
from accounts.serializers import (
    BarCreateSerializer,
    IntegrityRecordSerializer,
    LiftSerializer,
    MeSerializer,
    OrganizationCreateSerializer,
    OrganizationSerializer,
    OrganizationUpdateSerializer,
)
from lib.api import page_of, paginated, query_choice
from lib.errors import NotFound


def _visible_org(request: Request, pk: int) -> Organization:
    org = Organization.objects.filter(pk=pk).first()
    if org is None or not has_perm(request.user, "accounts.view_organization", org):
        raise NotFound(_("未找到该机构。"))
    return org


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request: Request) -> Response:
    return Response(MeSerializer(request.user).data)


@extend_schema(
    methods=["GET"],
    parameters=[OpenApiParameter("kind", str, enum=Organization.Kind.values)],
    responses=page_of(OrganizationSerializer),
    operation_id="organizations_list",
)
@extend_schema(
    methods=["POST"], request=OrganizationCreateSerializer, responses={201: OrganizationSerializer}
)
@api_view(["GET", "POST"])
def organizations(request: Request) -> Response:
    if request.method == "POST":
        payload = OrganizationCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        org = services.create_organization(Actor.from_request(request), **payload.validated_data)
        return Response(OrganizationSerializer(org).data, status=status.HTTP_201_CREATED)
    orgs = visible_to(request.user, "accounts.view_organization", Organization.objects.all())
    kind = query_choice(request, "kind", Organization.Kind.values)
    if kind:
        orgs = orgs.filter(kind=kind)
    return paginated(request, orgs.order_by("id"), OrganizationSerializer)


@extend_schema(methods=["GET"], responses=OrganizationSerializer)
@extend_schema(
    methods=["PATCH"], request=OrganizationUpdateSerializer, responses=OrganizationSerializer
)
@api_view(["GET", "PATCH"])
def organization(request: Request, pk: int) -> Response:
    org = _visible_org(request, pk)
    if request.method == "PATCH":
        payload = OrganizationUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        org = services.update_organization(
            Actor.from_request(request), org, **payload.validated_data
        )
    return Response(OrganizationSerializer(org).data)


@extend_schema(methods=["GET"], responses=IntegrityRecordSerializer(many=True))
@extend_schema(
    methods=["POST"], request=BarCreateSerializer, responses={201: IntegrityRecordSerializer}
)
@api_view(["GET", "POST"])
def organization_bars(request: Request, pk: int) -> Response:
    org = _visible_org(request, pk)
    if request.method == "POST":
        payload = BarCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        bar = services.bar_organization(Actor.from_request(request), org, **payload.validated_data)
        return Response(IntegrityRecordSerializer(bar).data, status=status.HTTP_201_CREATED)
    return Response(IntegrityRecordSerializer(org.integrity_records.all(), many=True).data)


@extend_schema(request=LiftSerializer, responses=IntegrityRecordSerializer)
@api_view(["POST"])
def lift_bar(request: Request, pk: int) -> Response:
    bar = get_object_or_404(IntegrityRecord, pk=pk)
    _visible_org(request, bar.organization_id)
    payload = LiftSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    bar = services.lift_bar(Actor.from_request(request), bar, **payload.validated_data)
    return Response(IntegrityRecordSerializer(bar).data)
