"""REST endpoints for parties. Each one parses, authorizes through the service, calls it, replies."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import services
from accounts.actors import Actor
from accounts.login import LoginLocked, seconds_until_unlocked
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
from lib.api import ErrorSerializer, page_of, paginated, query_choice
from lib.errors import DomainError, NotFound
from lib.throttling import AnonThrottle, AuthThrottle


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


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, trim_whitespace=False)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


@extend_schema(
    request=TokenRequestSerializer,
    responses={200: TokenSerializer, 400: ErrorSerializer, 429: ErrorSerializer},
    auth=[],
    description="The caller's API token for a username and password. Repeated failures for one "
    "username from one address lock that pair out for a while (429 `LOGIN_LOCKED`, with "
    "Retry-After); the endpoint is also throttled per address (429 `THROTTLED`).",
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([AuthThrottle, AnonThrottle])
def obtain_token(request: Request) -> Response:
    payload = TokenRequestSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    credentials = payload.validated_data
    # With the request, so that axes counts this attempt and refuses a locked-out pair.
    user = authenticate(request, username=credentials["username"], password=credentials["password"])
    if user is None:
        if getattr(request, "axes_locked_out", False):
            raise LoginLocked(seconds_until_unlocked(request, credentials["username"]))
        raise DomainError(_("用户名或密码不正确。"), code="AUTHENTICATION_FAILED")
    # A successful login clears the failures counted against it, as the login page's does.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    token, _created = Token.objects.get_or_create(user=user)
    return Response({"token": token.key})
