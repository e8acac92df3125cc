"""The signing API, under /api/v1/signing/: challenges, the caller's certificates, the CA simulator
(development and the demo) and signed acts. Each endpoint parses, calls one service and replies."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.actors import Actor
from accounts.permissions import signed_in_user
from lib.api import READ_ERRORS, WRITE_ERRORS, ErrorSerializer
from lib.errors import NotFound
from signing import ca_simulator, services
from signing.models import Certificate
from signing.serializers import (
    CertificateRegisterSerializer,
    CertificateSerializer,
    ChallengeRequestSerializer,
    ChallengeSerializer,
    SignedActSerializer,
    SimulatorRequestSerializer,
    SimulatorResponseSerializer,
)
from signing.statements import describe, parse


@extend_schema(
    request=ChallengeRequestSerializer,
    responses={201: ChallengeSerializer, **WRITE_ERRORS},
    description="The statement to sign for one act, composed and kept by the server (valid for "
    "`SIGNING_CHALLENGE_SECONDS`, usable once). Sign the UTF-8 bytes of `statement` with the "
    "certificate's key and send the act with `signing_challenge` = `challenge` and `signature` = "
    "the base64 signature (DER or raw r||s). Refused with SIGNATURE_NO_CERTIFICATE without an "
    "active, valid certificate, or a CERTIFICATE_* code when the certificate fails its check.",
)
@api_view(["POST"])
def challenges(request: Request) -> Response:
    payload = ChallengeRequestSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    challenge = services.issue_challenge(
        Actor.from_request(request),
        act=data["act"],
        target_type=data["target_type"],
        target_id=data["target_id"],
        digest=data["digest"],
        details=data["details"],
        certificate=data["certificate"] or None,
    )
    body = {
        "challenge": challenge.token,
        "statement": challenge.statement,
        "expires_at": challenge.expires_at,
        "certificate": challenge.certificate,
        "summary": [
            {"term": term, "value": value} for term, value in describe(parse(challenge.statement))
        ],
    }
    return Response(ChallengeSerializer(body).data, status=status.HTTP_201_CREATED)


@extend_schema(methods=["GET"], responses={200: CertificateSerializer(many=True), **READ_ERRORS})
@extend_schema(
    methods=["POST"],
    request=CertificateRegisterSerializer,
    responses={201: CertificateSerializer, **WRITE_ERRORS},
    description="Register a certificate a trusted CA issued to the caller (PEM). An organization "
    "certificate must carry the caller's organization's 统一社会信用代码.",
)
@api_view(["GET", "POST"])
def certificates(request: Request) -> Response:
    user = signed_in_user(request)
    if request.method == "POST":
        payload = CertificateRegisterSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        certificate = services.register_certificate(
            Actor.from_request(request),
            payload.validated_data["pem"],
            kind=payload.validated_data.get("kind"),
        )
        return Response(CertificateSerializer(certificate).data, status=status.HTTP_201_CREATED)
    rows = services.certificates_for_display(user)
    return Response(CertificateSerializer(rows, many=True).data)


@extend_schema(request=None, responses={200: CertificateSerializer, **WRITE_ERRORS})
@api_view(["POST"])
def withdraw(request: Request, pk: int) -> Response:
    user = signed_in_user(request)
    certificate = Certificate.objects.filter(pk=pk).first()
    if certificate is None or (
        certificate.holder_id != user.pk and not user.has_perm("signing.view_certificate")
    ):
        raise NotFound(_("未找到该证书。"))
    certificate = services.withdraw_certificate(Actor.from_request(request), certificate)
    return Response(CertificateSerializer(certificate).data)


@extend_schema(
    request=SimulatorRequestSerializer,
    responses={
        201: SimulatorResponseSerializer,
        **WRITE_ERRORS,
        404: OpenApiResponse(ErrorSerializer, description="NOT_FOUND: the CA simulator is off"),
    },
    description="Development and demo only: the CA simulator issues a certificate for the given "
    "public key to the caller (an organization certificate for bidders and agents, a personal one "
    "otherwise). Register it afterwards with POST certificates/.",
)
@api_view(["POST"])
def simulator_issue(request: Request) -> Response:
    signed_in_user(request)
    if not ca_simulator.enabled():
        raise NotFound(_("未找到该对象。"))
    payload = SimulatorRequestSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    pem = services.request_simulated_certificate(
        Actor.from_request(request),
        payload.validated_data["public_key"],
        payload.validated_data["algorithm"],
    )
    return Response({"certificate": pem.decode()}, status=status.HTTP_201_CREATED)


@extend_schema(responses={200: SignedActSerializer, **READ_ERRORS})
@api_view(["GET"])
def signed_act(request: Request, pk: int) -> Response:
    """One signed act: its statement, signature and certificate (the signer, their organization,
    center staff and supervisors; 404 for anyone else)."""
    return Response(SignedActSerializer(services.visible_signed_act(request.user, pk)).data)
