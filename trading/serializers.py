"""Shapes of the trading API. Input serializers only parse: every rule (money, legal periods, statuses,
forbidden fields) is the service's, so amounts and unknown keys pass through to it untouched."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Organization
from clock.models import StatutoryDay
from lib import numbers

# The error and page shapes of every API (first written for this one); re-exported for the apps.
from lib.api import (  # noqa: F401
    READ_ERRORS,
    WRITE_ERRORS,
    EnumChoiceField,
    ErrorDetailSerializer,
    ErrorSerializer,
    page_of,
)
from lib.money import AmountField
from trading.models import (
    Announcement,
    AnnouncementVersion,
    Lot,
    Objection,
    Project,
    ProjectDocument,
    Question,
    Registration,
)
from trading.services import is_suspended

# Bounds of the integer columns, so an absurd number is a validation error rather than a database one.
MAX_ID = 2**63 - 1
MAX_LOT_NUMBER = 32767

# --- Fields ---------------------------------------------------------------------------------------


class AwareDateTimeField(serializers.DateTimeField):
    """ISO-8601 with an offset, e.g. 2026-03-02T09:00:00+08:00. A time without one is refused rather
    than guessed: a deadline read in the wrong zone moves by hours."""

    default_error_messages = {
        "naive": _("时间必须带时区偏移，例如 2026-03-02T09:00:00+08:00。"),
    }

    def to_internal_value(self, value: Any) -> dt.datetime:
        if isinstance(value, dt.datetime):
            parsed: dt.datetime | None = value
        else:
            try:
                parsed = parse_datetime(str(value))
            except ValueError:
                parsed = None
        if parsed is not None and timezone.is_naive(parsed):
            self.fail("naive")
        return super().to_internal_value(value)


class MoneyField(AmountField):
    """An amount in yuan, documented and written exactly as `lib.money.AmountField`. On the way in the
    text goes to the service as sent: services read amounts with `parse_amount` themselves (the pages,
    the demo data and the API call them alike), so every path is held to the one contract, and a JSON
    number or a full-width digit is refused there by name (AMOUNT_NOT_STRING, AMOUNT_INVALID)."""

    def to_internal_value(self, data: Any) -> Any:
        return data


def enum_field(choices: type[models.TextChoices], name: str) -> type[EnumChoiceField]:
    """A ChoiceField whose choices are one named schema component. Several models have a `kind` (and
    a `category`); drf-spectacular would otherwise name their enums after the field and collide."""

    @extend_schema_field({"type": "string", "enum": list(choices.values)}, component_name=name)
    class EnumField(EnumChoiceField):
        allowed = choices.choices

    EnumField.__name__ = EnumField.__qualname__ = f"{name}Field"
    return EnumField


ProjectKindField = enum_field(Project.Kind, "ProjectKindEnum")
ProjectCategoryField = enum_field(Project.Category, "ProjectCategoryEnum")
ProjectMethodField = enum_field(Project.Method, "ProjectMethodEnum")
ProjectStatusField = enum_field(Project.Status, "ProjectStatusEnum")
DepositFormField = enum_field(Lot.DepositForm, "DepositFormEnum")
AnnouncementKindField = enum_field(Announcement.Kind, "AnnouncementKindEnum")
StatutoryDayKindField = enum_field(StatutoryDay.Kind, "StatutoryDayKindEnum")


class PassThroughSerializer(serializers.Serializer):
    """Keeps keys it does not declare, so the service names them (UNKNOWN_FIELD or, for a minimum
    price, MINIMUM_PRICE_FORBIDDEN) instead of the API silently dropping them."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        validated: dict[str, Any] = super().to_internal_value(data)
        if isinstance(data, Mapping):
            for key, value in data.items():
                if key not in self.fields:
                    validated[key] = value
        return validated


class OrganizationRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name"]
        read_only_fields = fields


# --- Projects -------------------------------------------------------------------------------------


class LotSerializer(serializers.ModelSerializer):
    estimate = MoneyField(read_only=True)
    ceiling_price = MoneyField(read_only=True, allow_null=True)
    deposit_amount = MoneyField(read_only=True)
    deposit_forms = serializers.ListField(child=DepositFormField(), read_only=True)

    class Meta:
        model = Lot
        fields = [
            "id",
            "number",
            "name",
            "estimate",
            "ceiling_price",
            "deposit_amount",
            "deposit_forms",
        ]
        read_only_fields = fields


class LotInputSerializer(PassThroughSerializer):
    """A 标段/包, numbered in the order sent. Amounts in yuan as strings of ASCII digits with at most
    two decimals (a JSON number is refused); there is no minimum price (条例 Art.27) and sending one is
    refused."""

    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    estimate = MoneyField()
    ceiling_price = MoneyField(required=False, allow_null=True)
    deposit_amount = MoneyField(required=False)
    deposit_forms = serializers.ListField(child=DepositFormField(), required=False)


class ProjectSummarySerializer(serializers.ModelSerializer):
    kind = ProjectKindField(read_only=True)
    category = ProjectCategoryField(read_only=True)
    method = ProjectMethodField(read_only=True)
    status = ProjectStatusField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    owner = OrganizationRefSerializer(read_only=True)
    agent = OrganizationRefSerializer(read_only=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "number",
            "title",
            "kind",
            "category",
            "method",
            "region",
            "status",
            "status_display",
            "owner",
            "agent",
            "documents_from",
            "documents_until",
            "questions_until",
            "bid_deadline",
            "deposit_deadline",
            "created_at",
            "published_at",
        ]
        read_only_fields = fields


class ProjectSerializer(ProjectSummarySerializer):
    lots = LotSerializer(many=True, read_only=True)
    invitees = serializers.SerializerMethodField()
    suspended = serializers.SerializerMethodField()
    retender_of = serializers.SerializerMethodField()

    class Meta(ProjectSummarySerializer.Meta):
        fields = [
            *ProjectSummarySerializer.Meta.fields,
            "description",
            "mandatory_tender",
            "registration_required",
            "bid_validity_days",
            "two_suppliers_allowed",
            "return_reason",
            "termination_reason",
            "submitted_at",
            "approved_at",
            "lots",
            "invitees",
            "suspended",
            "retender_of",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "description": "The failed lot (流标) this project tenders again.",
            "properties": {
                "project": {"type": "integer"},
                "number": {"type": "string"},
                "lot": {"type": "integer", "description": "the lot's number in that project"},
            },
        }
    )
    def get_retender_of(self, project: Project) -> dict[str, Any] | None:
        lot = project.retender_of
        if lot is None:
            return None
        return {"project": lot.project_id, "number": lot.project.number, "lot": lot.number}

    def get_invitees(self, project: Project) -> list[int]:
        return sorted(project.invitees.values_list("organization_id", flat=True))

    def get_suspended(self, project: Project) -> bool:
        # An unanswered objection suspends the tender (条例 Art.22); clients show it next to the deadline.
        return is_suspended(project)


class _ProjectFieldsSerializer(PassThroughSerializer):
    # The arguments of services.create_project / update_project, parsed but not judged.

    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    kind = ProjectKindField(required=False)
    category = ProjectCategoryField(required=False)
    method = ProjectMethodField(required=False)
    region = serializers.CharField(max_length=12, required=False)
    mandatory_tender = serializers.BooleanField(required=False)
    registration_required = serializers.BooleanField(required=False)
    two_suppliers_allowed = serializers.BooleanField(required=False)
    bid_validity_days = numbers.IntegerField(min_value=1, max_value=3650, required=False)
    documents_from = AwareDateTimeField(required=False, allow_null=True)
    documents_until = AwareDateTimeField(required=False, allow_null=True)
    questions_until = AwareDateTimeField(required=False, allow_null=True)
    bid_deadline = AwareDateTimeField(required=False, allow_null=True)
    deposit_deadline = AwareDateTimeField(required=False, allow_null=True)
    lots = LotInputSerializer(many=True, required=False)
    invitees = serializers.ListField(
        child=numbers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        allow_null=True,
    )


class ProjectCreateSerializer(_ProjectFieldsSerializer):
    """A draft for `owner` (an owner organization's id), agented by the caller's organization.
    Times are ISO-8601 with an offset; keys not listed here are refused by name (UNKNOWN_FIELD; a
    minimum price: MINIMUM_PRICE_FORBIDDEN)."""

    owner = numbers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    lots = LotInputSerializer(many=True)


class ProjectUpdateSerializer(_ProjectFieldsSerializer):
    """Only the keys sent change; `lots` replaces all lots, `invitees` the whole invitation list.
    Times are ISO-8601 with an offset; keys not listed here are refused by name (UNKNOWN_FIELD; a
    minimum price: MINIMUM_PRICE_FORBIDDEN)."""


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, max_length=4000)


class PublishSerializer(serializers.Serializer):
    body = serializers.CharField(required=False, allow_blank=True, default="")


class RetenderSerializer(serializers.Serializer):
    """The new dates of a re-tender; they must pass every legal period again, counted from now."""

    documents_from = AwareDateTimeField()
    documents_until = AwareDateTimeField()
    questions_until = AwareDateTimeField()
    bid_deadline = AwareDateTimeField()
    deposit_deadline = AwareDateTimeField(required=False, allow_null=True, default=None)


class AmendmentSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, allow_blank=True)
    body = serializers.CharField(allow_blank=True)
    bid_deadline = AwareDateTimeField(required=False, allow_null=True, default=None)
    affects_bid_preparation = serializers.BooleanField(required=False, default=True)


# --- Announcements --------------------------------------------------------------------------------


class AnnouncementVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = AnnouncementVersion
        fields = ["number", "title", "body", "content", "sha256", "published_at", "reason"]
        read_only_fields = fields


class AnnouncementSerializer(serializers.ModelSerializer):
    kind = AnnouncementKindField(read_only=True)
    project_kind = ProjectKindField(read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    project_kind_display = serializers.CharField(source="get_project_kind_display", read_only=True)
    project_number = serializers.CharField(source="project.number", read_only=True)

    class Meta:
        model = Announcement
        fields = [
            "id",
            "kind",
            "kind_display",
            "title",
            "region",
            "project_kind",
            "project_kind_display",
            "project",
            "project_number",
            "first_published_at",
            "last_published_at",
            "version_count",
        ]
        read_only_fields = fields


class AnnouncementDetailSerializer(AnnouncementSerializer):
    versions = AnnouncementVersionSerializer(many=True, read_only=True)

    class Meta(AnnouncementSerializer.Meta):
        fields = [*AnnouncementSerializer.Meta.fields, "versions"]
        read_only_fields = fields


class PublicationSerializer(serializers.Serializer):
    """What a publishing step returns: the project as it now stands and the version it published."""

    project = ProjectSerializer()
    announcement_version = AnnouncementVersionSerializer()


# --- Documents ------------------------------------------------------------------------------------


class DocumentSerializer(serializers.ModelSerializer):
    lot_number = serializers.IntegerField(source="lot.number", read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ProjectDocument
        fields = [
            "id",
            "project",
            "lot_number",
            "title",
            "sha256",
            "size",
            "content_type",
            "uploaded_at",
            "published_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, document: ProjectDocument) -> str:
        from django.urls import reverse

        return reverse("api_document_download", args=[document.pk])


class DocumentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    lot_number = serializers.IntegerField(
        min_value=1, max_value=MAX_LOT_NUMBER, required=False, allow_null=True
    )


# --- Registration, questions, objections ----------------------------------------------------------


class RegistrationSerializer(serializers.ModelSerializer):
    lot_number = serializers.IntegerField(source="lot.number", read_only=True)
    organization = OrganizationRefSerializer(read_only=True)

    class Meta:
        model = Registration
        fields = [
            "id",
            "project",
            "lot",
            "lot_number",
            "organization",
            "registered_at",
            "contact_name",
            "contact_phone",
        ]
        read_only_fields = fields


class RegistrationCreateSerializer(serializers.Serializer):
    lot_number = serializers.IntegerField(
        min_value=1, max_value=MAX_LOT_NUMBER, help_text="标段/包号, as in the announcement"
    )
    contact_name = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default=""
    )
    contact_phone = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default=""
    )


class QuestionSerializer(serializers.ModelSerializer):
    """A question as the agent and the public see it: never who asked (答疑 is anonymous)."""

    mine = serializers.SerializerMethodField()

    class Meta:
        model = Question
        fields = ["id", "project", "text", "asked_at", "answer", "answered_at", "mine"]
        read_only_fields = fields

    def get_mine(self, question: Question) -> bool:
        # Lets a supplier find its own pending questions without anyone else learning the asker.
        viewer_org = self.context.get("viewer_organization_id")
        return viewer_org is not None and question.organization_id == viewer_org


class QuestionWithAskerSerializer(QuestionSerializer):
    """For center staff and supervisors only."""

    organization = OrganizationRefSerializer(read_only=True)

    class Meta(QuestionSerializer.Meta):
        fields = [*QuestionSerializer.Meta.fields, "organization"]
        read_only_fields = fields


class QuestionCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000, allow_blank=True)


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=20000, allow_blank=True)
    affects_bid_preparation = serializers.BooleanField(required=False, default=False)


class ObjectionSerializer(serializers.ModelSerializer):
    organization = OrganizationRefSerializer(read_only=True)

    class Meta:
        model = Objection
        fields = [
            "id",
            "project",
            "organization",
            "text",
            "raised_at",
            "reply_due_at",
            "reply",
            "replied_at",
        ]
        read_only_fields = fields


class ObjectionCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=20000, allow_blank=True)


class ObjectionReplySerializer(serializers.Serializer):
    reply = serializers.CharField(max_length=20000, allow_blank=True)


# --- Statutory calendar ---------------------------------------------------------------------------


class StatutoryDaySerializer(serializers.ModelSerializer):
    kind = StatutoryDayKindField(read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = StatutoryDay
        fields = ["date", "kind", "kind_display", "name", "notice"]
        read_only_fields = fields


class StatutoryDayInputSerializer(serializers.Serializer):
    date = serializers.DateField()
    kind = StatutoryDayKindField()
    name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    notice = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
