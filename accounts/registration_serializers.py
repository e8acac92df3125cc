"""API shapes of self-registration, organization users and sessions (accounts/registration_api.py)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from accounts.models import (
    Invitation,
    OrganizationApplication,
    OrganizationVersion,
    OrgRole,
    User,
)
from accounts.registration import REGISTRABLE_KIND_VALUES


class RegistrationDataSerializer(serializers.Serializer):
    """The registered data of an organization (every version holds all of it)."""

    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=REGISTRABLE_KIND_VALUES)
    legal_representative = serializers.CharField(max_length=100)
    basic_account_bank = serializers.CharField(max_length=100)
    basic_account_number = serializers.RegexField(
        r"^[0-9]{8,32}$", max_length=32, help_text="基本账户账号: 8–32 ASCII digits"
    )
    region = serializers.RegexField(
        r"^[0-9]{6}$", max_length=6, help_text="行政区划代码 (GB/T 2260): 6 digits"
    )
    contact_name = serializers.CharField(max_length=100)
    contact_email = serializers.EmailField(max_length=254)
    contact_phone = serializers.CharField(max_length=20)


class OrganizationRegistrationSerializer(RegistrationDataSerializer):
    uscc = serializers.CharField(max_length=30, help_text="统一社会信用代码 (GB 32100)")
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, write_only=True, trim_whitespace=False)
    display_name = serializers.CharField(max_length=100, required=False, default="")
    license = serializers.FileField(
        help_text="营业执照: PDF, JPEG or PNG, at most LICENSE_MAX_BYTES"
    )


class VersionSubmitSerializer(RegistrationDataSerializer):
    license = serializers.FileField(
        required=False,
        help_text="a new 营业执照 (PDF, JPEG or PNG); without it the last one stands",
    )


class OrganizationVersionSerializer(serializers.ModelSerializer):
    submitted_by = serializers.CharField(source="submitted_by.username", read_only=True)
    decided_by = serializers.CharField(
        source="decided_by.username", read_only=True, allow_null=True, default=None
    )
    license_url = serializers.SerializerMethodField()

    class Meta:
        model = OrganizationVersion
        fields = [
            "id",
            "number",
            "data",
            "license_sha256",
            "license_url",
            "sha256",
            "submitted_by",
            "submitted_at",
            "decision",
            "decided_by",
            "decided_at",
            "reasons",
        ]
        read_only_fields = fields

    def get_license_url(self, version: OrganizationVersion) -> str | None:
        if not version.license:
            return None
        return reverse("api_registration_license", kwargs={"pk": version.pk})


class OrganizationApplicationSerializer(serializers.ModelSerializer):
    organization_id = serializers.IntegerField(read_only=True)
    uscc = serializers.CharField(source="organization.uscc", read_only=True)
    name = serializers.CharField(source="organization.name", read_only=True)
    kind = serializers.CharField(source="organization.kind", read_only=True)
    approved_at = serializers.DateTimeField(source="organization.approved_at", read_only=True)
    email_verified = serializers.SerializerMethodField()
    versions = OrganizationVersionSerializer(many=True, read_only=True)

    class Meta:
        model = OrganizationApplication
        fields = [
            "id",
            "organization_id",
            "uscc",
            "name",
            "kind",
            "status",
            "return_reasons",
            "approved_at",
            "email_verified",
            "created_at",
            "updated_at",
            "versions",
        ]
        read_only_fields = fields

    def get_email_verified(self, application: OrganizationApplication) -> bool:
        return application.created_by.email_verified_at is not None


class RegistrationReturnSerializer(serializers.Serializer):
    reasons = serializers.CharField(max_length=2000)


class EmailTokenSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=1000)


class OrgUserSerializer(serializers.ModelSerializer):
    org_roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "display_name",
            "email",
            "is_active",
            "org_roles",
            "last_login",
        ]
        read_only_fields = fields

    def get_org_roles(self, user: User) -> list[str]:
        return user.org_roles


class OrgRolesSerializer(serializers.Serializer):
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=OrgRole.choices), min_length=1, max_length=4
    )


class ActiveSerializer(serializers.Serializer):
    active = serializers.BooleanField()


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    display_name = serializers.CharField(max_length=100, required=False, default="")
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=OrgRole.choices), min_length=1, max_length=4
    )


class InvitationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invitation
        fields = ["id", "email", "display_name", "roles", "created_at", "expires_at", "accepted_at"]
        read_only_fields = fields


class AcceptInvitationSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=1000)
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, write_only=True, trim_whitespace=False)
    display_name = serializers.CharField(max_length=100, required=False, default="")


class LoginSessionSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="session.pk")
    ip = serializers.CharField(source="session.ip", allow_null=True)
    user_agent = serializers.CharField(source="session.user_agent")
    created_at = serializers.DateTimeField(source="session.created_at")
    last_seen = serializers.DateTimeField(allow_null=True)
    current = serializers.BooleanField()


def data_of(validated: dict[str, Any]) -> dict[str, Any]:
    """The registered-data part of a validated body."""
    names: list[str] = list(RegistrationDataSerializer().fields.keys())
    return {name: validated[name] for name in names if name in validated}


def registration_of(validated: dict[str, Any]) -> dict[str, Any]:
    return {
        "uscc": validated["uscc"],
        "data": data_of(validated),
        "license": validated["license"],
        "username": validated["username"],
        "password": validated["password"],
        "display_name": validated.get("display_name", ""),
    }
