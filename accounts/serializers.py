from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from accounts.models import IntegrityRecord, Organization, User


class OrganizationSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Organization
        fields = [
            "id",
            "uscc",
            "name",
            "kind",
            "kind_display",
            "region",
            "legal_representative",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["id", "created_at", "kind_display"]


class OrganizationCreateSerializer(serializers.Serializer):
    uscc = serializers.CharField(max_length=30)
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Organization.Kind.choices)
    region = serializers.CharField(max_length=12, required=False, allow_blank=True, default="")
    legal_representative = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )


class OrganizationUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    region = serializers.CharField(max_length=12, required=False, allow_blank=True)
    legal_representative = serializers.CharField(max_length=100, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class IntegrityRecordSerializer(serializers.ModelSerializer):
    # Whether the bar holds today (Beijing): every answer carries it, a list and a single record alike.
    active_today = serializers.SerializerMethodField()

    class Meta:
        model = IntegrityRecord
        fields = [
            "id",
            "organization",
            "category",
            "source",
            "reason",
            "decision_number",
            "barred_from",
            "barred_until",
            "recorded_at",
            "lifted_at",
            "lift_reason",
            "active_today",
        ]
        read_only_fields = fields

    def get_active_today(self, record: IntegrityRecord) -> bool:
        # The one rule of an active bar (IntegrityRecordQuerySet.active_at); an organization has few.
        today = timezone.localdate()
        return IntegrityRecord.objects.active_at(today).filter(pk=record.pk).exists()


class BarCreateSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=IntegrityRecord.Category.choices)
    reason = serializers.CharField(max_length=2000)
    decision_number = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    barred_from = serializers.DateField()
    barred_until = serializers.DateField(required=False, allow_null=True, default=None)

    def get_fields(self) -> dict[str, serializers.Field]:
        # `source` is added here, not declared on the class: every DRF field (a serializer too) has
        # an attribute of that name, which a declaration would appear to replace. It keeps its place
        # after `category`, so the schema and the error body list the fields as before.
        fields = {}
        for name, field in super().get_fields().items():
            fields[name] = field
            if name == "category":
                fields["source"] = serializers.ChoiceField(choices=IntegrityRecord.Source.choices)
        return fields


class LiftSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class MeSerializer(serializers.ModelSerializer):
    role = serializers.CharField(read_only=True)
    organization = OrganizationSerializer(read_only=True)
    # The caller's roles inside its organization (accounts.models.OrgRole).
    org_roles = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "role", "organization", "org_roles"]
