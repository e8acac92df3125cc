"""Shapes of the complaints API. Input serializers only parse — strictly: a key they do not declare
is refused by name (UNKNOWN_FIELD), text must be text (TEXT_NOT_STRING, TEXT_TOO_LONG,
TEXT_INVALID_CHAR), ids and counts are read by `lib.numbers`, times need an offset. Every rule of the
case (windows, statuses, who may act, remedies, the suspension cap) is `complaints.services`'."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from complaints.models import TEXT_LIMIT, Complaint, ComplaintDocument, MaterialRequest
from complaints.queries import case_suspensions
from experts.serializers import ProjectRefSerializer
from lib import numbers
from lib.api import StrictSerializer, serialized_list
from lib.text import check_text
from trading.models import Suspension
from trading.serializers import AwareDateTimeField, OrganizationRefSerializer, enum_field

ComplaintStatusField = enum_field(Complaint.Status, "ComplaintStatusEnum")
ComplaintRegimeField = enum_field(Complaint.Regime, "ComplaintRegimeEnum")
ComplaintSubjectField = enum_field(Complaint.Subject, "ComplaintSubjectEnum")
ComplaintOutcomeField = enum_field(Complaint.Outcome, "ComplaintOutcomeEnum")
ComplaintRemedyField = enum_field(Complaint.Remedy, "ComplaintRemedyEnum")
RequestPartyField = enum_field(MaterialRequest.Party, "MaterialRequestPartyEnum")
RequestKindField = enum_field(MaterialRequest.Kind, "MaterialRequestKindEnum")

TITLE_LIMIT = 200


# --- Input fields ---------------------------------------------------------------------------------


class TextField(serializers.CharField):
    """Text as sent (not trimmed, blank allowed: the service says TEXT_REQUIRED), checked by
    `lib.text.check_text`: a JSON number or list is TEXT_NOT_STRING rather than turned into text."""

    def __init__(self, *, max_length: int = TEXT_LIMIT, **kwargs: Any) -> None:
        kwargs.setdefault("allow_blank", True)
        super().__init__(max_length=max_length, trim_whitespace=False, **kwargs)
        self.limit = max_length

    def run_validation(self, data: Any = serializers.empty) -> Any:
        if data is not serializers.empty and data is not None:
            check_text(data, field=self.field_name, max_length=self.limit)
        return super().run_validation(data)


def id_field(**kwargs: Any) -> numbers.IntegerField:
    """A database id in a body, read as `lib.numbers` reads every id."""
    return numbers.IntegerField(min_value=1, max_value=numbers.MAX_INTEGER, **kwargs)


# --- Input ----------------------------------------------------------------------------------------


class ComplaintCreateSerializer(StrictSerializer):
    """投诉. `project` is the project's id. At most one of `objection` (异议/质疑 to the documents),
    `publicity_objection` (to the candidates) or `opening_response` (an objection at the opening);
    the subject then follows it. Without one, only a subject the regime allows without an objection
    (engineering: `process`), and `knew_at` is required."""

    project = id_field()
    subject = ComplaintSubjectField()
    facts = TextField()
    claims = TextField()
    objection = id_field(required=False, allow_null=True)
    publicity_objection = id_field(required=False, allow_null=True)
    opening_response = id_field(required=False, allow_null=True)
    knew_at = AwareDateTimeField(
        required=False,
        allow_null=True,
        help_text="知道或应当知道之日: ISO-8601 with offset; required without an objection",
    )


class RefusalSerializer(StrictSerializer):
    """不予受理: the reason the complainant is told."""

    reason = TextField()


class MaterialRequestCreateSerializer(StrictSerializer):
    """调查取证: what the complainant or the respondent is asked for, and by when."""

    party = RequestPartyField()
    kind = RequestKindField()
    text = TextField()
    due_at = AwareDateTimeField(help_text="ISO-8601 with offset, later than now")


class RequestAnswerSerializer(StrictSerializer):
    """The asked party's answer."""

    answer = TextField()


class SuspendSerializer(StrictSerializer):
    """暂停采购活动 while the case is handled."""

    reason = TextField()
    days = numbers.IntegerField(
        min_value=0,
        help_text="calendar days, 1 to the regime's cap (30); otherwise SUSPENSION_DAYS_INVALID",
    )


class DecideSerializer(StrictSerializer):
    """处理决定. `dismissed` takes no remedy (omit it, or `none`: REMEDY_INVALID otherwise); `upheld`
    needs one of the others (REMEDY_REQUIRED)."""

    outcome = ComplaintOutcomeField()
    remedy = ComplaintRemedyField(required=False)
    decision = TextField()


class CaseFileUploadSerializer(StrictSerializer):
    """A case file (multipart): `title` defaults to the file's name."""

    file = serializers.FileField(allow_empty_file=True)
    title = TextField(max_length=TITLE_LIMIT, required=False, default="")
    request = id_field(
        required=False, allow_null=True, help_text="the id of the request it answers, if any"
    )


# --- Output ---------------------------------------------------------------------------------------


@extend_schema_field(
    {"type": "string", "enum": list(Complaint.Outcome.values), "nullable": True},
)
class OutcomeOrNullField(serializers.CharField):
    def to_representation(self, value: Any) -> Any:
        return value or None


@extend_schema_field(
    {"type": "string", "enum": list(Complaint.Remedy.values), "nullable": True},
)
class RemedyOrNullField(serializers.CharField):
    def to_representation(self, value: Any) -> Any:
        return value or None


class ComplaintSummarySerializer(serializers.ModelSerializer):
    project = ProjectRefSerializer(read_only=True)
    lot_number = serializers.IntegerField(source="lot.number", read_only=True, allow_null=True)
    regime = ComplaintRegimeField(read_only=True)
    subject = ComplaintSubjectField(read_only=True)
    status = ComplaintStatusField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    complainant = OrganizationRefSerializer(read_only=True)
    outcome = OutcomeOrNullField(read_only=True, help_text="null until decided")
    remedy = RemedyOrNullField(read_only=True, help_text="null until decided")

    class Meta:
        model = Complaint
        fields = [
            "id",
            "number",
            "project",
            "lot_number",
            "regime",
            "subject",
            "status",
            "status_display",
            "complainant",
            "filed_at",
            "acceptance_due_at",
            "decision_due_at",
            "decided_at",
            "outcome",
            "remedy",
        ]
        read_only_fields = fields


class ComplaintDocumentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ComplaintDocument
        fields = [
            "id",
            "request",
            "title",
            "sha256",
            "size",
            "content_type",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, document: ComplaintDocument) -> str:
        return reverse("api_complaint_document", args=[document.complaint_id, document.pk])


class MaterialRequestSerializer(serializers.ModelSerializer):
    party = RequestPartyField(read_only=True)
    kind = RequestKindField(read_only=True)
    documents = ComplaintDocumentSerializer(many=True, read_only=True)

    class Meta:
        model = MaterialRequest
        fields = [
            "id",
            "party",
            "kind",
            "text",
            "asked_at",
            "due_at",
            "answer",
            "answered_at",
            "paused_working_days",
            "documents",
        ]
        read_only_fields = fields


class SuspensionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Suspension
        fields = ["id", "reason", "started_at", "ends_by", "lifted_at"]
        read_only_fields = fields


class ComplaintSerializer(ComplaintSummarySerializer):
    """A case with its requests, its files (metadata; the file by `download_url`) and the
    suspensions it ordered. Everyone who may see the case sees all of it: the parties know each
    other, and nobody else sees the case at all."""

    requests = MaterialRequestSerializer(many=True, read_only=True)
    documents = ComplaintDocumentSerializer(many=True, read_only=True)
    suspensions = serializers.SerializerMethodField()
    suspended = serializers.SerializerMethodField()

    class Meta(ComplaintSummarySerializer.Meta):
        fields = [
            *ComplaintSummarySerializer.Meta.fields,
            "objection",
            "publicity_objection",
            "opening_response",
            "facts",
            "claims",
            "knew_at",
            "accepted_at",
            "refused_at",
            "refusal_reason",
            "decision",
            "withdrawn_at",
            "suspended",
            "suspensions",
            "requests",
            "documents",
        ]
        read_only_fields = fields

    @extend_schema_field(SuspensionSerializer(many=True))
    def get_suspensions(self, complaint: Complaint) -> list[dict[str, Any]]:
        return serialized_list(SuspensionSerializer, case_suspensions(complaint))

    def get_suspended(self, complaint: Complaint) -> bool:
        """Whether a suspension this case ordered still stands."""
        return case_suspensions(complaint).filter(lifted_at__isnull=True).exists()
