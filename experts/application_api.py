"""REST endpoints of the expert application (/api/v1/experts/applications/). Each parses, calls one
service, replies."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.actors import Actor
from accounts.permissions import has_perm
from experts import applications
from experts.models import Expert, ExpertApplication
from lib.api import WRITE_ERRORS, ErrorSerializer, page_of, paginated, query_choice
from lib.errors import NotFound
from lib.numbers import IntegerField
from lib.throttling import AnonThrottle, AuthThrottle, UserThrottle

PUBLIC_ERRORS = {400: ErrorSerializer, 409: ErrorSerializer, 429: ErrorSerializer}


class ExpertApplicationDataSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    id_number = serializers.CharField(max_length=18, help_text="居民身份证号码 (GB 11643)")
    title = serializers.ChoiceField(choices=Expert.Title.choices)
    years_in_field = IntegerField(min_value=0, max_value=70)
    region = serializers.RegexField(r"^[0-9]{6}$", max_length=6)
    employer = serializers.CharField(max_length=200)
    employer_uscc = serializers.CharField(max_length=18, required=False, default="")
    specialties = serializers.ListField(
        child=serializers.CharField(max_length=20), min_length=1, max_length=10
    )
    phone = serializers.CharField(max_length=20, required=False, default="")


class ExpertApplicationCreateSerializer(ExpertApplicationDataSerializer):
    email = serializers.EmailField(max_length=254)


class ExpertResubmitSerializer(ExpertApplicationDataSerializer):
    token = serializers.CharField(max_length=1000)


class ExpertApplicationSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExpertApplication
        fields = [
            "id",
            "name",
            "title",
            "years_in_field",
            "region",
            "employer",
            "employer_uscc",
            "specialties",
            "email",
            "status",
            "return_reasons",
            "created_at",
            "submitted_at",
            "decided_at",
            "expert",
        ]
        read_only_fields = fields


class ExpertApplicationStaffSerializer(ExpertApplicationSerializer):
    """What center staff and supervisors see: the ID number too."""

    class Meta(ExpertApplicationSerializer.Meta):
        fields = [*ExpertApplicationSerializer.Meta.fields, "id_number", "phone"]
        read_only_fields = fields


class ExpertApplicationTokenSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=1000)


class ExpertApproveSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, required=False, default="")


class ExpertReturnSerializer(serializers.Serializer):
    reasons = serializers.CharField(max_length=2000)


def _staff_visible(request: Request, pk: int) -> ExpertApplication:
    application = ExpertApplication.objects.filter(pk=pk).first()
    if application is None or not has_perm(request.user, "experts.view_expertapplication"):
        raise NotFound(_("未找到该申请。"))
    return application


@extend_schema(
    methods=["GET"],
    parameters=[OpenApiParameter("status", str, enum=ExpertApplication.Status.values)],
    responses={200: page_of(ExpertApplicationStaffSerializer), 403: ErrorSerializer},
    operation_id="expert_applications_list",
    description="Center staff and supervisors: every expert application.",
)
@extend_schema(
    methods=["POST"],
    request=ExpertApplicationCreateSerializer,
    responses={201: ExpertApplicationSerializer, **PUBLIC_ERRORS},
    auth=[],
    description="A person applies to the expert pool (anyone may). The application waits until the "
    "link mailed to `email` is opened (`POST …/verify-email/`).",
)
@api_view(["GET", "POST"])
@permission_classes([AllowAny])
@throttle_classes([UserThrottle, AnonThrottle])
def expert_applications(request: Request) -> Response:
    if request.method == "POST":
        payload = ExpertApplicationCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        application = applications.apply(Actor.from_request(request), payload.validated_data)
        return Response(
            ExpertApplicationSerializer(application).data, status=status.HTTP_201_CREATED
        )
    if not request.user.is_authenticated:
        raise NotAuthenticated
    if not has_perm(request.user, "experts.view_expertapplication"):
        rows = ExpertApplication.objects.none()
    else:
        rows = ExpertApplication.objects.all()
    wanted = query_choice(request, "status", ExpertApplication.Status.values)
    if wanted:
        rows = rows.filter(status=wanted)
    return paginated(request, rows.order_by("-id"), ExpertApplicationStaffSerializer)


@extend_schema(responses={200: ExpertApplicationStaffSerializer, 404: ErrorSerializer})
@api_view(["GET"])
def expert_application(request: Request, pk: int) -> Response:
    return Response(ExpertApplicationStaffSerializer(_staff_visible(request, pk)).data)


@extend_schema(
    request=ExpertApplicationTokenSerializer,
    responses={200: ExpertApplicationSerializer, **PUBLIC_ERRORS},
    auth=[],
    description="The mailed link's token: verifies the email and submits the application.",
)
@api_view(["POST"])
@permission_classes([AllowAny])
@throttle_classes([AuthThrottle, AnonThrottle])
def verify_email(request: Request) -> Response:
    payload = ExpertApplicationTokenSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    application = applications.verify_email(
        Actor.from_request(request), payload.validated_data["token"]
    )
    return Response(ExpertApplicationSerializer(application).data)


@extend_schema(
    request=ExpertResubmitSerializer,
    responses={200: ExpertApplicationSerializer, **PUBLIC_ERRORS},
    auth=[],
    description="The applicant fixes a returned application (the mailed link's token) and sends it "
    "again.",
)
@api_view(["POST"])
@permission_classes([AllowAny])
@throttle_classes([AuthThrottle, AnonThrottle])
def resubmit(request: Request) -> Response:
    payload = ExpertResubmitSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = dict(payload.validated_data)
    token = data.pop("token")
    application = applications.resubmit(Actor.from_request(request), token, data)
    return Response(ExpertApplicationSerializer(application).data)


@extend_schema(
    request=ExpertApproveSerializer,
    responses={200: ExpertApplicationStaffSerializer, **WRITE_ERRORS},
    description="Center staff approve: the expert joins the pool with a user of the expert role, "
    "mailed a link to set a password.",
)
@api_view(["POST"])
def approve(request: Request, pk: int) -> Response:
    application = _staff_visible(request, pk)
    payload = ExpertApproveSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    applications.approve(
        Actor.from_request(request), application, username=payload.validated_data["username"]
    )
    application.refresh_from_db()
    return Response(ExpertApplicationStaffSerializer(application).data)


@extend_schema(
    request=ExpertReturnSerializer,
    responses={200: ExpertApplicationStaffSerializer, **WRITE_ERRORS},
)
@api_view(["POST"])
def return_application(request: Request, pk: int) -> Response:
    application = _staff_visible(request, pk)
    payload = ExpertReturnSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    application = applications.return_application(
        Actor.from_request(request), application, reasons=payload.validated_data["reasons"]
    )
    return Response(ExpertApplicationStaffSerializer(application).data)
