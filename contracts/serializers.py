"""Shapes of the contracts API. Input serializers only parse — strictly: a key they do not declare is
refused by name (UNKNOWN_FIELD), text must be text (lib.text), amounts go to the service as sent
(`lib.money.parse_amount` there), ids by `lib.numbers`. Every rule is `contracts.services`'."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contracts import services
from contracts.models import (
    TEXT_LIMIT,
    Acceptance,
    Contract,
    ContractDocument,
    ContractVersion,
    Milestone,
    PerformanceIssue,
)
from lib import numbers
from lib.api import StrictSerializer
from lib.text import check_text
from signing.serializers import SignedInputSerializer
from trading.serializers import MoneyField, OrganizationRefSerializer, enum_field

ContractStatusField = enum_field(Contract.Status, "ContractStatusEnum")
VersionKindField = enum_field(ContractVersion.Kind, "ContractVersionKindEnum")
AcceptanceResultField = enum_field(Acceptance.Result, "AcceptanceResultEnum")
IssueKindField = enum_field(PerformanceIssue.Kind, "PerformanceIssueKindEnum")
IssueSeverityField = enum_field(PerformanceIssue.Severity, "PerformanceIssueSeverityEnum")


class TextField(serializers.CharField):
    """Text as sent (blank allowed: the service says TEXT_REQUIRED), checked by lib.text."""

    def __init__(self, *, max_length: int = TEXT_LIMIT, **kwargs: Any) -> None:
        kwargs.setdefault("allow_blank", True)
        super().__init__(max_length=max_length, trim_whitespace=False, **kwargs)
        self.limit = max_length

    def run_validation(self, data: Any = serializers.empty) -> Any:
        if data is not serializers.empty and data is not None:
            check_text(data, field=self.field_name, max_length=self.limit)
        return super().run_validation(data)


def id_field(**kwargs: Any) -> numbers.IntegerField:
    return numbers.IntegerField(min_value=1, max_value=numbers.MAX_INTEGER, **kwargs)


# --- Input ----------------------------------------------------------------------------------------


class DraftSerializer(StrictSerializer):
    """起草合同 for an awarded lot (`lot` is its id), at the award's price."""

    lot = id_field()
    price = MoneyField()
    terms = TextField()
    performance_bond = MoneyField(required=False, allow_null=True)


class AmendSerializer(StrictSerializer):
    """合同变更 or, with `supplement`, a GP 补充合同 (the price may rise ≤ 10 % in total)."""

    reason = TextField(max_length=500)
    price = MoneyField(required=False)
    terms = TextField(required=False)
    performance_bond = MoneyField(required=False, allow_null=True)
    supplement = serializers.BooleanField(required=False, default=False)


class SignSerializer(StrictSerializer, SignedInputSerializer):
    """contract.sign over `pending_version.sha256` (the signing challenge's digest)."""


class ContractDocumentUploadSerializer(serializers.Serializer):
    """A file for the contract: a new version listing it, with its reason, to be signed."""

    file = serializers.FileField()
    reason = TextField(max_length=500)


class MilestoneCreateSerializer(StrictSerializer):
    description = TextField(max_length=500)
    due_on = serializers.DateField(help_text="YYYY-MM-DD (Beijing)")
    amount = MoneyField()


class AcceptanceCreateSerializer(StrictSerializer):
    accepted_on = serializers.DateField(help_text="YYYY-MM-DD, not after today")
    result = AcceptanceResultField()
    remarks = TextField(required=False, default="")


class IssueCreateSerializer(StrictSerializer):
    kind = IssueKindField()
    severity = IssueSeverityField()
    description = TextField()
    milestone = id_field(required=False, allow_null=True)


class EscalateSerializer(StrictSerializer):
    barred_from = serializers.DateField()
    barred_until = serializers.DateField(required=False, allow_null=True)
    decision_number = TextField(max_length=100, required=False, default="")


class TerminateSerializer(StrictSerializer):
    reason = TextField()


# --- Output ---------------------------------------------------------------------------------------


class ContractDocumentSerializer(serializers.ModelSerializer[ContractDocument]):
    version = serializers.IntegerField(source="version.number")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ContractDocument
        fields = ["id", "title", "sha256", "size", "content_type", "version", "uploaded_at"]
        fields += ["download_url"]

    def get_download_url(self, document: ContractDocument) -> str:
        return f"/api/v1/contracts/{document.contract_id}/documents/{document.pk}/download/"


class ContractVersionSerializer(serializers.ModelSerializer[ContractVersion]):
    kind = VersionKindField()
    price = MoneyField()
    performance_bond = MoneyField(allow_null=True)
    diff = serializers.JSONField()

    class Meta:
        model = ContractVersion
        fields = [
            "number",
            "kind",
            "price",
            "performance_bond",
            "terms",
            "reason",
            "diff",
            "sha256",
            "created_at",
            "purchaser_signed_at",
            "supplier_signed_at",
            "effective_at",
        ]


class MilestoneSerializer(serializers.ModelSerializer[Milestone]):
    amount = MoneyField()
    late = serializers.BooleanField(help_text="delivered after its due day, or overdue now")

    class Meta:
        model = Milestone
        fields = ["id", "number", "description", "due_on", "amount", "delivered_at", "paid_at"]
        fields += ["late"]


class AcceptanceSerializer(serializers.ModelSerializer[Acceptance]):
    result = AcceptanceResultField()

    class Meta:
        model = Acceptance
        fields = ["id", "accepted_on", "result", "remarks", "recorded_at"]


class IssueSerializer(serializers.ModelSerializer[PerformanceIssue]):
    kind = IssueKindField()
    severity = IssueSeverityField()
    milestone = serializers.IntegerField(source="milestone.number", allow_null=True)
    integrity_record = serializers.IntegerField(source="integrity_record_id", allow_null=True)

    class Meta:
        model = PerformanceIssue
        fields = ["id", "kind", "severity", "description", "milestone", "recorded_at"]
        fields += ["integrity_record"]


class ContractSummarySerializer(serializers.ModelSerializer[Contract]):
    status = ContractStatusField()
    price = MoneyField()
    project = serializers.SerializerMethodField()
    lot = serializers.IntegerField(source="lot_id")
    lot_number = serializers.IntegerField(source="lot.number")
    supplier = OrganizationRefSerializer()
    purchaser = OrganizationRefSerializer()

    class Meta:
        model = Contract
        fields = [
            "id",
            "number",
            "status",
            "project",
            "lot",
            "lot_number",
            "purchaser",
            "supplier",
            "price",
            "signed_at",
            "published_at",
        ]

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "number": {"type": "string"},
                "title": {"type": "string"},
                "kind": {"type": "string"},
            },
            "required": ["id", "number", "title", "kind"],
        }
    )
    def get_project(self, contract: Contract) -> dict[str, Any]:
        project = contract.lot.project
        return {
            "id": project.pk,
            "number": project.number,
            "title": project.title,
            "kind": project.kind,
        }


class PendingSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    sha256 = serializers.CharField()
    act = serializers.CharField(help_text="the signed act: contract.sign")
    target_type = serializers.CharField(help_text="contracts.contract")
    purchaser_signed_at = serializers.DateTimeField(allow_null=True)
    supplier_signed_at = serializers.DateTimeField(allow_null=True)


class ContractSerializer(ContractSummarySerializer):
    award_price = MoneyField()
    performance_bond = MoneyField(allow_null=True)
    agent = OrganizationRefSerializer()
    pending_version = serializers.SerializerMethodField()
    versions = ContractVersionSerializer(many=True)
    documents = ContractDocumentSerializer(many=True)
    milestones = MilestoneSerializer(many=True)
    acceptances = AcceptanceSerializer(many=True)
    issues = IssueSerializer(many=True)

    class Meta(ContractSummarySerializer.Meta):
        fields = [
            *ContractSummarySerializer.Meta.fields,
            "agent",
            "award_price",
            "performance_bond",
            "terms",
            "effective_version",
            "drafted_at",
            "publication_due_at",
            "accepted_at",
            "terminated_at",
            "termination_reason",
            "pending_version",
            "versions",
            "documents",
            "milestones",
            "acceptances",
            "issues",
        ]

    @extend_schema_field(PendingSerializer(allow_null=True))
    def get_pending_version(self, contract: Contract) -> dict[str, Any] | None:
        pending = services.pending_version(contract)
        if pending is None:
            return None
        return {
            "number": pending.number,
            "sha256": pending.sha256,
            "act": services.SIGN_ACT,
            "target_type": "contracts.contract",
            "purchaser_signed_at": pending.purchaser_signed_at,
            "supplier_signed_at": pending.supplier_signed_at,
        }
