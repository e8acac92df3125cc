"""Shapes of the frameworks API. Input serializers only parse, strictly: a key they do not declare is
refused by name (UNKNOWN_FIELD), text must be text, amounts and ids go to the service as sent (it
reads them with `lib.money.parse_amount` and `lib.numbers.parse_integer`). Output serializers
render what `frameworks.queries` lets the caller see, and nothing else."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from frameworks.models import REQUIREMENT_LIMIT, Agreement, CallOff
from frameworks.queries import agreement_summary
from lib import numbers
from lib.api import StrictSerializer
from lib.text import check_text
from trading.serializers import AwareDateTimeField, MoneyField, enum_field

AdmissionField = enum_field(Agreement.Admission, "FrameworkAdmissionEnum")
AgreementStatusField = enum_field(Agreement.Status, "FrameworkAgreementStatusEnum")
CallOffMethodField = enum_field(CallOff.Method, "CallOffMethodEnum")
CallOffStatusField = enum_field(CallOff.Status, "CallOffStatusEnum")


class TextField(serializers.CharField):
    """Text as sent (blank allowed: the service says TEXT_REQUIRED), checked by lib.text."""

    def __init__(self, *, max_length: int, **kwargs: Any) -> None:
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


class FrameworkConcludeSerializer(StrictSerializer):
    """订立框架协议 from a framework lot's signed evaluation report."""

    lot = id_field()
    valid_until = AwareDateTimeField(help_text="ISO-8601 with offset; goods ≤ 1 year, services ≤ 2")
    second_stage_methods = serializers.ListField(
        child=CallOffMethodField(), min_length=1, max_length=3
    )
    member_limit = numbers.IntegerField(
        min_value=1, max_value=1000, required=False, allow_null=True
    )


class FrameworkOrderSerializer(StrictSerializer):
    """A purchase under the agreement. `supplier` and `unit_price` are for 直接选定 (the price
    defaults to the member's agreed price); `closes_at` and `invited` for 二次竞价 (default: every
    member who may trade)."""

    method = CallOffMethodField()
    requirement = TextField(max_length=REQUIREMENT_LIMIT)
    quantity = numbers.IntegerField(min_value=1, max_value=1_000_000_000)
    supplier = id_field(required=False, allow_null=True)
    unit_price = MoneyField(required=False, allow_null=True)
    closes_at = AwareDateTimeField(required=False, allow_null=True)
    invited = serializers.ListField(child=id_field(), required=False, max_length=1000)


class FrameworkQuoteSerializer(StrictSerializer):
    """A member's one sealed quote in a second round (unit price, at most its agreed price)."""

    unit_price = MoneyField()


class FrameworkTerminateSerializer(StrictSerializer):
    reason = TextField(max_length=500)


# --- Output ---------------------------------------------------------------------------------------


class FrameworkProjectRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()


class FrameworkSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    project = FrameworkProjectRefSerializer()
    lot = serializers.IntegerField()
    admission = AdmissionField()
    max_unit_price = serializers.CharField(help_text="最高限制单价, yuan as text")
    second_stage_methods = serializers.ListField(child=CallOffMethodField())
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField()
    status = AgreementStatusField()
    in_force = serializers.BooleanField()
    responses = serializers.IntegerField(help_text="compliant responses of the solicitation")

    def to_representation(self, instance: Any) -> Any:
        if isinstance(instance, Agreement):
            instance = agreement_summary(instance)
        return super().to_representation(instance)


class FrameworkMemberSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    organization = serializers.IntegerField()
    name = serializers.CharField()
    agreed_price = serializers.CharField(help_text="协议价格, yuan as text")


class FrameworkMyQuoteSerializer(serializers.Serializer):
    invited = serializers.BooleanField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    receipt = serializers.CharField(allow_null=True, help_text="SHA-256 of the sealed quote")
    unit_price = serializers.CharField(allow_null=True, help_text="after the opening")


class FrameworkOpenedQuoteSerializer(serializers.Serializer):
    supplier = serializers.CharField()
    unit_price = serializers.CharField(allow_null=True)
    submitted_at = serializers.DateTimeField()


class FrameworkCallOffSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    method = CallOffMethodField()
    requirement = serializers.CharField()
    quantity = serializers.IntegerField()
    status = CallOffStatusField()
    placed_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField(allow_null=True)
    supplier = serializers.CharField(allow_null=True, help_text="once awarded")
    unit_price = serializers.CharField(allow_null=True, help_text="once awarded")
    amount = serializers.CharField(allow_null=True, help_text="once awarded")
    awarded_at = serializers.DateTimeField(allow_null=True)
    my_quote = FrameworkMyQuoteSerializer(required=False, help_text="an invited member's own quote")
    invited = serializers.IntegerField(required=False, help_text="agent, staff, supervisors")
    quotes = FrameworkOpenedQuoteSerializer(
        many=True, required=False, help_text="after the opening: agent, staff, supervisors"
    )


class FrameworkAgreementSerializer(FrameworkSummarySerializer):
    members = FrameworkMemberSerializer(many=True)
    call_offs = FrameworkCallOffSerializer(many=True)
    may_order = serializers.BooleanField()
    my_membership = serializers.IntegerField(allow_null=True, help_text="the caller's rank")

    def to_representation(self, instance: Any) -> Any:
        return serializers.Serializer.to_representation(self, instance)
