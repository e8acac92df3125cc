"""REST endpoints of self-registration (/api/v1/organization-registrations/), an organization's own users
(/api/v1/org/), invitations and login sessions. Each parses, calls one service, replies."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.http import FileResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import members, registration, sessions
from accounts.actors import Actor
from accounts.models import LoginSession, OrganizationApplication, OrganizationVersion, Role
from accounts.permissions import signed_in_user
from accounts.registration_serializers import (
    AcceptInvitationSerializer,
    ActiveSerializer,
    EmailTokenSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    LoginSessionSerializer,
    OrganizationApplicationSerializer,
    OrganizationRegistrationSerializer,
    OrgRolesSerializer,
    OrgUserSerializer,
    RegistrationReturnSerializer,
    VersionSubmitSerializer,
    data_of,
    registration_of,
)
from lib.api import WRITE_ERRORS, ErrorSerializer, page_of, paginated, query_choice
from lib.errors import NotFound
from lib.throttling import AnonThrottle, AuthThrottle, UserThrottle
from lib.uploads import ANYONE, accepts_uploads

PUBLIC_ERRORS = {400: ErrorSerializer, 409: ErrorSerializer, 429: ErrorSerializer}


def license_cap() -> int:
    """The registration routes' body cap for the licence file (lib/uploads.py reads it per request)."""
    cap: int = settings.LICENSE_MAX_BYTES
    return cap


def applications_for(request: Request) -> QuerySet[OrganizationApplication]:
    """Staff and supervisors: every application; anyone else signed in: their organization's."""
    user = signed_in_user(request)
    rows = OrganizationApplication.objects.select_related("organization", "created_by")
    if user.has_perm("accounts.view_organizationapplication"):
        return rows
    return rows.filter(organization_id=user.organization_id or 0)


def _application(request: Request, pk: int) -> OrganizationApplication:
    application = applications_for(request).filter(pk=pk).first()
    if application is None:
        raise NotFound(_("未找到该申请。"))
    return application


def _reply(application: OrganizationApplication, code: int = status.HTTP_200_OK) -> Response:
    application.refresh_from_db()
    return Response(OrganizationApplicationSerializer(application).data, status=code)


@extend_schema(
    methods=["GET"],
    parameters=[
        OpenApiParameter("status", str, enum=OrganizationApplication.Status.values),
    ],
    responses={200: page_of(OrganizationApplicationSerializer), 403: ErrorSerializer},
    operation_id="organization_registrations_list",
    description="Center staff and supervisors: every organization's application; an organization's "
    "users: their own (the list has at most one).",
)
@extend_schema(
    methods=["POST"],
    request={"multipart/form-data": OrganizationRegistrationSerializer},
    responses={201: OrganizationApplicationSerializer, **PUBLIC_ERRORS},
    auth=[],
    description="An organization registers itself (anyone may): its 统一社会信用代码 (checked, unique: "
    "409 `USCC_TAKEN`), data, business licence and first user (its administrator). The application "
    "stays a draft until the user opens the verification link mailed to `contact_email` "
    "(`POST /api/v1/organization-registrations/verify-email/`).",
)
@accepts_uploads(ANYONE, max_bytes=license_cap)
@api_view(["GET", "POST"])
@permission_classes([AllowAny])
@throttle_classes([UserThrottle, AnonThrottle])
def registrations(request: Request) -> Response:
    if request.method == "POST":
        payload = OrganizationRegistrationSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        application = registration.register(
            Actor.from_request(request), **registration_of(payload.validated_data)
        )
        return _reply(application, status.HTTP_201_CREATED)
    if not request.user.is_authenticated:
        raise NotAuthenticated
    rows = applications_for(request)
    wanted = query_choice(request, "status", OrganizationApplication.Status.values)
    if wanted:
        rows = rows.filter(status=wanted)
    return paginated(
        request, rows.order_by("-updated_at", "-id"), OrganizationApplicationSerializer
    )


@extend_schema(responses={200: OrganizationApplicationSerializer, 404: ErrorSerializer})
@api_view(["GET"])
def registration_detail(request: Request, pk: int) -> Response:
    return Response(OrganizationApplicationSerializer(_application(request, pk)).data)


@extend_schema(
    request={"multipart/form-data": VersionSubmitSerializer},
    responses={201: OrganizationApplicationSerializer, **WRITE_ERRORS},
    description="The organization's administrator submits its data again — fixed after a return, "
    "or changed after approval. It is a new version under review; the organization's live data "
    "changes only when staff approve it.",
)
@accepts_uploads(Role.SUPPLIER, Role.AGENT, max_bytes=license_cap)
@api_view(["POST"])
def registration_versions(request: Request, pk: int) -> Response:
    application = _application(request, pk)
    payload = VersionSubmitSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    registration.submit_version(
        Actor.from_request(request),
        application,
        data=data_of(payload.validated_data),
        license=payload.validated_data.get("license"),
    )
    return _reply(application, status.HTTP_201_CREATED)


@extend_schema(request=None, responses={200: OrganizationApplicationSerializer, **WRITE_ERRORS})
@api_view(["POST"])
def registration_approve(request: Request, pk: int) -> Response:
    application = _application(request, pk)
    return _reply(registration.approve(Actor.from_request(request), application))


@extend_schema(
    request=RegistrationReturnSerializer,
    responses={200: OrganizationApplicationSerializer, **WRITE_ERRORS},
)
@api_view(["POST"])
def registration_return(request: Request, pk: int) -> Response:
    application = _application(request, pk)
    payload = RegistrationReturnSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    return _reply(
        registration.return_application(
            Actor.from_request(request), application, reasons=payload.validated_data["reasons"]
        )
    )


@extend_schema(
    responses={
        (200, "application/octet-stream"): OpenApiResponse(description="the licence file"),
        404: ErrorSerializer,
    }
)
@api_view(["GET"])
def registration_license(request: Request, pk: int) -> FileResponse:
    version = OrganizationVersion.objects.filter(pk=pk).first()
    if version is None or not version.license:
        raise NotFound(_("未找到该文件。"))
    _application(request, version.application_id)
    return FileResponse(version.license.open("rb"), as_attachment=True)


@extend_schema(
    request=EmailTokenSerializer,
    responses={200: OrganizationApplicationSerializer, **PUBLIC_ERRORS},
    auth=[],
    description="The token of the verification link: verifies the email and submits the "
    "registration for review (400 `TOKEN_INVALID` / `TOKEN_EXPIRED`).",
)
@api_view(["POST"])
@permission_classes([AllowAny])
@throttle_classes([AuthThrottle, AnonThrottle])
def verify_email(request: Request) -> Response:
    payload = EmailTokenSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    user = registration.verify_email(Actor.from_request(request), payload.validated_data["token"])
    application = OrganizationApplication.objects.filter(created_by=user).first()
    if application is None:
        return Response({}, status=status.HTTP_200_OK)
    return _reply(application)


@extend_schema(request=None, responses={204: None, 409: ErrorSerializer})
@api_view(["POST"])
def resend_verification(request: Request) -> Response:
    registration.resend_verification(Actor.from_request(request))
    return Response(status=status.HTTP_204_NO_CONTENT)


# --- An organization's users ------------------------------------------------------------------


@extend_schema(responses={200: OrgUserSerializer(many=True), 403: ErrorSerializer})
@api_view(["GET"])
def org_users(request: Request) -> Response:
    org = members.administered_organization(Actor.from_request(request))
    users = org.users.order_by("username").prefetch_related("org_role_grants")
    return Response(OrgUserSerializer(users, many=True).data)


@extend_schema(request=OrgRolesSerializer, responses={200: OrgUserSerializer, **WRITE_ERRORS})
@api_view(["POST"])
def org_user_roles(request: Request, pk: int) -> Response:
    actor = Actor.from_request(request)
    user = members.member_of(actor, pk)
    payload = OrgRolesSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    members.set_org_roles(actor, user, payload.validated_data["roles"])
    return Response(OrgUserSerializer(user).data)


@extend_schema(
    request=ActiveSerializer,
    responses={200: OrgUserSerializer, **WRITE_ERRORS},
    description="Disable (every session of the user ends at once) or enable a user; the last "
    "active administrator cannot be disabled (409 `LAST_ADMIN`).",
)
@api_view(["POST"])
def org_user_active(request: Request, pk: int) -> Response:
    actor = Actor.from_request(request)
    user = members.member_of(actor, pk)
    payload = ActiveSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    members.set_member_active(actor, user, active=payload.validated_data["active"])
    return Response(OrgUserSerializer(user).data)


@extend_schema(
    methods=["GET"],
    responses={200: InvitationSerializer(many=True), 403: ErrorSerializer},
    operation_id="org_invitations_list",
)
@extend_schema(
    methods=["POST"],
    request=InvitationCreateSerializer,
    responses={201: InvitationSerializer, **WRITE_ERRORS},
    description="Invite a user by email: a signed link, valid for 7 days and used once.",
)
@api_view(["GET", "POST"])
def org_invitations(request: Request) -> Response:
    actor = Actor.from_request(request)
    org = members.administered_organization(actor)
    if request.method == "POST":
        payload = InvitationCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        invitation = members.invite(actor, **payload.validated_data)
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)
    return Response(InvitationSerializer(org.invitations.all()[:200], many=True).data)


@extend_schema(
    request=AcceptInvitationSerializer,
    responses={201: OrgUserSerializer, **PUBLIC_ERRORS},
    auth=[],
    description="The invitee chooses a username and password (Django's password validators) and "
    "joins the organization with the roles of the invitation.",
)
@api_view(["POST"])
@permission_classes([AllowAny])
@throttle_classes([AuthThrottle, AnonThrottle])
def accept_invitation(request: Request) -> Response:
    payload = AcceptInvitationSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    user = members.accept_invitation(Actor.from_request(request), **payload.validated_data)
    return Response(OrgUserSerializer(user).data, status=status.HTTP_201_CREATED)


# --- Sessions ---------------------------------------------------------------------------------


@extend_schema(responses={200: LoginSessionSerializer(many=True)})
@api_view(["GET"])
def my_sessions(request: Request) -> Response:
    user = signed_in_user(request)
    current = request.session.session_key if hasattr(request, "session") else None
    rows = sessions.open_sessions(user, current)
    return Response(LoginSessionSerializer(rows, many=True).data)


@extend_schema(request=None, responses={204: None, 404: ErrorSerializer})
@api_view(["POST"])
def end_session(request: Request, pk: int) -> Response:
    login = LoginSession.objects.select_related("user").filter(pk=pk).first()
    if login is None:
        raise NotFound(_("未找到该会话。"))
    sessions.end_session(Actor.from_request(request), login)
    return Response(status=status.HTTP_204_NO_CONTENT)
