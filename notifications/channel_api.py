"""REST endpoints of notification channels (/api/v1/notifications/…): the user's preferences, phone
verification, and the staff delivery monitor with its retry. Each parses, calls one service, replies."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.actors import Actor
from accounts.permissions import has_perm, signed_in_user
from lib.api import READ_ERRORS, WRITE_ERRORS, ErrorSerializer, page_of, paginated, query_choice
from lib.errors import NotFound, NotPermitted
from notifications import delivery, kinds, phone, preferences
from notifications.models import Delivery


class PreferenceSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=64)
    name = serializers.CharField(
        read_only=True, help_text="the kind's name in the reader's language"
    )
    legal = serializers.BooleanField(
        read_only=True, help_text="a legal deadline: email and SMS cannot both be off"
    )
    inapp = serializers.BooleanField(required=False, help_text="always true; false is refused")
    email = serializers.BooleanField(required=False)
    sms = serializers.BooleanField(
        required=False, help_text="sent only to a verified mobile number (phone verification)"
    )


class PreferencesSerializer(serializers.Serializer):
    preferences = PreferenceSerializer(many=True)


def _rows(rows: list[preferences.Row]) -> dict[str, Any]:
    return {
        "preferences": [
            {"kind": r.kind, "name": str(r.label), "legal": r.legal, **r.channels} for r in rows
        ]
    }


@extend_schema(
    methods=["GET"],
    responses={200: PreferencesSerializer},
    description="The signed-in user's channels for every notice kind (kind defaults filled in).",
)
@extend_schema(
    methods=["PUT"],
    request=PreferencesSerializer,
    responses={200: PreferencesSerializer, **WRITE_ERRORS},
    description="Change channels per kind; kinds and channels left out keep their choice. Refused "
    "whole: PREFERENCE_INAPP_REQUIRED (in-app cannot be switched off), PREFERENCE_LEGAL_REQUIRED "
    "(a legal kind keeps email or SMS), PREFERENCE_INVALID (unknown kind or channel).",
)
@api_view(["GET", "PUT"])
def notification_preferences(request: Request) -> Response:
    user = signed_in_user(request)
    if request.method == "GET":
        return Response(_rows(preferences.table(user)))
    payload = PreferencesSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    changes: dict[str, dict[str, bool]] = {}
    for item in payload.validated_data["preferences"]:
        chosen = changes.setdefault(item["kind"], {})
        for channel in kinds.CHANNELS:
            if channel in item:
                chosen[channel] = item[channel]
    rows = preferences.update(Actor.from_request(request), changes)
    return Response(_rows(rows))


# --- Phone verification ------------------------------------------------------------------------


class PhoneStatusSerializer(serializers.Serializer):
    phone = serializers.CharField()
    verified = serializers.BooleanField()
    verified_at = serializers.DateTimeField(allow_null=True)


class PhoneSerializer(serializers.Serializer):
    phone = serializers.CharField(
        max_length=20, help_text="Chinese mobile number: 1[3-9] + 9 digits"
    )


class CodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=6, min_length=6)


def _phone_status(request: Request) -> dict[str, Any]:
    user = signed_in_user(request)
    user.refresh_from_db(fields=["phone", "phone_verified_at"])
    return {
        "phone": user.phone,
        "verified": user.phone_verified_at is not None,
        "verified_at": user.phone_verified_at,
    }


@extend_schema(
    methods=["GET"],
    responses={200: PhoneStatusSerializer},
    description="The signed-in user's mobile number and whether it is verified.",
)
@extend_schema(
    methods=["POST"],
    request=PhoneSerializer,
    responses={200: PhoneStatusSerializer, 502: ErrorSerializer, **WRITE_ERRORS},
    description="Set the mobile number (a different number is no longer verified) and text it a "
    "6-digit code valid 10 minutes. PHONE_INVALID, PHONE_CODE_THROTTLED (one code a minute), "
    "PHONE_ALREADY_VERIFIED, SMS_SEND_FAILED (502).",
)
@api_view(["GET", "POST"])
def phone_number(request: Request) -> Response:
    signed_in_user(request)
    if request.method == "POST":
        payload = PhoneSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        phone.request_code(Actor.from_request(request), payload.validated_data["phone"])
    return Response(PhoneStatusSerializer(_phone_status(request)).data)


@extend_schema(
    request=CodeSerializer,
    responses={200: PhoneStatusSerializer, **WRITE_ERRORS},
    description="Check the code: PHONE_CODE_WRONG, PHONE_CODE_EXPIRED, PHONE_CODE_TOO_MANY_TRIES "
    "(5 tries), PHONE_CODE_MISSING.",
)
@api_view(["POST"])
def phone_verify(request: Request) -> Response:
    signed_in_user(request)
    payload = CodeSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    phone.verify(Actor.from_request(request), payload.validated_data["code"])
    return Response(PhoneStatusSerializer(_phone_status(request)).data)


# --- Staff: the delivery monitor ----------------------------------------------------------------


class DeliverySerializer(serializers.ModelSerializer):
    notice_kind = serializers.CharField(source="notice.kind", read_only=True)
    recipient = serializers.CharField(source="notice.recipient.username", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "notice",
            "notice_kind",
            "recipient",
            "channel",
            "status",
            "address",
            "attempts",
            "next_attempt_at",
            "sent_at",
            "provider_ref",
            "provider_answer",
            "created_at",
        ]
        read_only_fields = fields


def monitored(request: Request | Any) -> QuerySet[Delivery]:
    """Every delivery, for center staff and supervisors; anyone else is refused (403)."""
    user = signed_in_user(request)
    if not has_perm(user, "notifications.view_delivery"):
        raise NotPermitted(_("您没有执行此操作的权限。"))
    return Delivery.objects.select_related("notice__recipient").order_by("-created_at", "-pk")


@extend_schema(
    parameters=[
        OpenApiParameter("status", str, enum=Delivery.Status.values),
        OpenApiParameter("channel", str, enum=Delivery.Channel.values),
    ],
    responses={200: page_of(DeliverySerializer), **READ_ERRORS},
    description="Center staff and supervisors: deliveries newest first, with the provider's answer.",
)
@api_view(["GET"])
def deliveries(request: Request) -> Response:
    rows = monitored(request)
    status_value = query_choice(request, "status", list(Delivery.Status.values))
    channel = query_choice(request, "channel", list(Delivery.Channel.values))
    if status_value:
        rows = rows.filter(status=status_value)
    if channel:
        rows = rows.filter(channel=channel)
    return paginated(request, rows, DeliverySerializer)


@extend_schema(
    request=None,
    responses={200: DeliverySerializer, **WRITE_ERRORS},
    description="Center staff: queue a failed delivery again (DELIVERY_NOT_FAILED otherwise); audited.",
)
@api_view(["POST"])
def delivery_retry(request: Request, pk: int) -> Response:
    row = monitored(request).filter(pk=pk).first()
    if row is None:
        raise NotFound(_("未找到。"))
    retried = delivery.retry(Actor.from_request(request), row)
    return Response(DeliverySerializer(monitored(request).get(pk=retried.pk)).data)
