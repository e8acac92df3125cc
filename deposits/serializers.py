"""Shapes of the deposits API. Input serializers only parse; every rule (who may pay, what qualifies,
when a refund is due) is the service's. Money goes out as strings with two decimals and comes in as
strings (`lib.money`'s contract: AMOUNT_NOT_STRING for a JSON number); a rate has its own, equally
strict text (`parse_rate`: RATE_NOT_STRING, INVALID_RATE)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from deposits.ledger import held_for
from deposits.models import (
    Account,
    BankNotification,
    Currency,
    Deposit,
    Forfeiture,
    FxRate,
    Guarantee,
    Instrument,
    Refund,
    RefundAccountConfirmation,
    RefundBatch,
)
from lib.api import EnumChoiceField
from lib.errors import DomainError
from lib.money import AmountField
from trading.serializers import AwareDateTimeField, MoneyField, OrganizationRefSerializer


def enum_field(
    choices: type[models.TextChoices], name: str, values: Sequence[str] | None = None
) -> type[EnumChoiceField]:
    """A ChoiceField whose choices are one named schema component (several deposit models have a
    `status`, a `kind` or a `reason`; drf-spectacular would otherwise name their enums after the
    field and collide). `values` narrows the choices to a subset."""
    allowed_choices = [
        (value, label) for value, label in choices.choices if values is None or value in values
    ]

    @extend_schema_field(
        {"type": "string", "enum": [v for v, _label in allowed_choices]}, component_name=name
    )
    class EnumField(EnumChoiceField):
        allowed = allowed_choices

    EnumField.__name__ = EnumField.__qualname__ = f"{name}Field"
    return EnumField


CurrencyField = enum_field(Currency, "DepositCurrencyEnum")
FxCurrencyField = enum_field(Currency, "FxCurrencyEnum", [Currency.HKD, Currency.USD])
DepositPaymentFormField = enum_field(Deposit.Form, "DepositPaymentFormEnum")
DepositStatusField = enum_field(Deposit.Status, "DepositStatusEnum")
GuaranteeKindField = enum_field(Guarantee.Kind, "GuaranteeKindEnum")
GuaranteeStatusField = enum_field(Guarantee.Status, "GuaranteeStatusEnum")
InstrumentKindField = enum_field(Instrument.Kind, "InstrumentKindEnum")
InstrumentStatusField = enum_field(Instrument.Status, "InstrumentStatusEnum")
RefundReasonField = enum_field(Refund.Reason, "RefundReasonEnum")
RefundStatusField = enum_field(Refund.Status, "RefundStatusEnum")
ForfeitureReasonField = enum_field(Forfeiture.Reason, "ForfeitureReasonEnum")
BankOutcomeField = enum_field(BankNotification.Outcome, "BankNotificationOutcomeEnum")

# Reasons staff may give when refunding one deposit by hand. The other two (payer mismatch, unknown
# account) belong to payments held without a deposit and are scheduled by the bank notification.
DEPOSIT_REFUND_REASONS = [
    Refund.Reason.WITHDRAWAL,
    Refund.Reason.CONTRACT_SIGNED,
    Refund.Reason.NOT_AWARDED,
    Refund.Reason.LAND_NOT_WON,
    Refund.Reason.TERMINATION,
    Refund.Reason.FAILED_LOT,
]
DepositRefundReasonField = enum_field(
    Refund.Reason, "DepositRefundReasonEnum", DEPOSIT_REFUND_REASONS
)


class QualificationCode(models.TextChoices):
    # The codes of deposits.services.qualification (its messages are QUALIFICATION_MESSAGES).
    QUALIFIED = "QUALIFIED"
    NOT_REQUIRED = "NOT_REQUIRED"
    NO_DEPOSIT = "NO_DEPOSIT"
    INSUFFICIENT = "INSUFFICIENT"
    LATE = "LATE"


class BankRefundOutcome(models.TextChoices):
    PAID = "paid"
    FAILED = "failed"


QualificationCodeField = enum_field(QualificationCode, "QualificationCodeEnum")
BankRefundOutcomeField = enum_field(BankRefundOutcome, "BankRefundOutcomeEnum")

# The FxRate column: six decimals, at most six integer digits. A rate is not an amount (it has six
# decimals, and 1 unit of a currency is never "money owed"), but it comes from people the same way, so
# it is held to the same kind of contract as `lib.money`: ASCII digits only (`\d` and `Decimal` would
# also read "７．１" or "٧"), no sign, exponent, whitespace or separators, length checked first.
RATE_PATTERN = r"^[0-9]{1,6}(\.[0-9]{1,6})?$"
_RATE = re.compile(RATE_PATTERN, re.ASCII)
_RATE_MAX_LENGTH = 13


def parse_rate(value: Any) -> Decimal:
    """CNY per unit of a foreign currency from its text ("0.921350"), or DomainError
    (RATE_NOT_STRING, INVALID_RATE). Used by the API field and the staff page alike."""
    if not isinstance(value, str):
        raise DomainError(
            _('汇率须以字符串提交（例如 "0.921350"），不接受 JSON 数字。'),
            code="RATE_NOT_STRING",
        )
    if len(value) > _RATE_MAX_LENGTH or not _RATE.fullmatch(value) or not Decimal(value) > 0:
        raise DomainError(
            _("汇率须为正数，最多六位整数、六位小数：%(value)s"),
            code="INVALID_RATE",
            value=value[:40],
        )
    return Decimal(value)


@extend_schema_field(
    {
        "type": "string",
        "format": "decimal",
        "pattern": RATE_PATTERN,
        "maxLength": _RATE_MAX_LENGTH,
        "example": "0.921350",
    }
)
class RateField(serializers.Field):
    """CNY per unit of a foreign currency, sent as a string ("0.921350"): `parse_rate`. A JSON number
    is refused (a float has already lost the digits the staff typed)."""

    def to_internal_value(self, data: Any) -> Decimal:
        return parse_rate(data)

    def to_representation(self, value: Any) -> str:
        return f"{value:.6f}"


# --- Bidders --------------------------------------------------------------------------------------


class SubAccountRequestSerializer(serializers.Serializer):
    currency = CurrencyField(required=False, default=Currency.CNY)


class SubAccountSerializer(serializers.ModelSerializer):
    """Where the bidder pays: the virtual account number at the custody bank, and how much by when."""

    currency = CurrencyField(read_only=True)
    account_number = serializers.CharField(source="number", read_only=True)
    bank = serializers.SerializerMethodField()
    project = serializers.IntegerField(source="lot.project_id", read_only=True)
    deposit_amount = MoneyField(source="lot.deposit_amount", read_only=True)
    deposit_deadline = serializers.SerializerMethodField()
    held = serializers.SerializerMethodField()

    class Meta:
        model = Account
        fields = [
            "id",
            "account_number",
            "bank",
            "currency",
            "lot",
            "project",
            "deposit_amount",
            "deposit_deadline",
            "held",
            "created_at",
        ]
        read_only_fields = fields

    def get_bank(self, account: Account) -> str:
        return settings.DEPOSIT_CUSTODY_BANK

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_deposit_deadline(self, account: Account) -> Any:
        project = account.bidder_lot.project
        deadline = project.deposit_deadline or project.bid_deadline
        return serializers.DateTimeField().to_representation(deadline) if deadline else None

    @extend_schema_field(MoneyField())
    def get_held(self, account: Account) -> str:
        return f"{held_for(account):.2f}"


class DepositSerializer(serializers.ModelSerializer):
    form = DepositPaymentFormField(read_only=True)
    status = DepositStatusField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    currency = CurrencyField(read_only=True)
    amount = MoneyField(read_only=True)
    amount_cny = MoneyField(read_only=True)
    fx_rate = RateField(read_only=True)
    project = serializers.IntegerField(source="lot.project_id", read_only=True)
    lot_number = serializers.IntegerField(source="lot.number", read_only=True)
    organization = OrganizationRefSerializer(read_only=True)
    account_number = serializers.CharField(
        source="account.number", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Deposit
        fields = [
            "id",
            "project",
            "lot",
            "lot_number",
            "organization",
            "form",
            "status",
            "status_display",
            "amount",
            "currency",
            "fx_rate",
            "amount_cny",
            "arrived_at",
            "account_number",
            "payer_name",
            "payer_account",
            "guarantee",
        ]
        read_only_fields = fields


class QualificationSerializer(serializers.Serializer):
    """services.qualification for one lot: whether the bidder's deposits qualify it, and why not."""

    project = serializers.IntegerField()
    lot = serializers.IntegerField()
    lot_number = serializers.IntegerField()
    qualified = serializers.BooleanField()
    code = QualificationCodeField()
    message = serializers.CharField()
    required_cny = MoneyField()
    counted_cny = MoneyField()
    deposit_deadline = serializers.DateTimeField(allow_null=True)


class RefundAccountConfirmationSerializer(serializers.ModelSerializer):
    """A signed confirmation of a deposit's refund account (act deposit.refund_account)."""

    confirmed_by = serializers.CharField(source="confirmed_by.username", read_only=True)

    class Meta:
        model = RefundAccountConfirmation
        fields = [
            "payee_name",
            "payee_bank",
            "payee_account",
            "sha256",
            "confirmed_by",
            "confirmed_at",
            "signed_act",
        ]
        read_only_fields = fields


class RefundAccountSerializer(serializers.Serializer):
    """The account a deposit goes back to, as the platform holds it, and its confirmation."""

    deposit = serializers.IntegerField()
    currency = CurrencyField()
    name = serializers.CharField(help_text="the payer's account name")
    bank = serializers.CharField(
        allow_blank=True, help_text="the payer's bank, as the bank sent it"
    )
    account = serializers.CharField(help_text="the payer's account number")
    sha256 = serializers.CharField(
        help_text="canonical SHA-256 of {document, deposit, currency, name, bank, account}: the "
        "digest of the act deposit.refund_account (target deposits.deposit)"
    )
    confirmation = RefundAccountConfirmationSerializer(allow_null=True)


class RefundSerializer(serializers.ModelSerializer):
    reason = RefundReasonField(read_only=True)
    reason_display = serializers.CharField(source="get_reason_display", read_only=True)
    status = RefundStatusField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    currency = CurrencyField(read_only=True)
    principal = MoneyField(read_only=True)
    interest = MoneyField(read_only=True)
    total = MoneyField(read_only=True)
    payee_account_confirmation = RefundAccountConfirmationSerializer(
        source="deposit.refund_account_confirmation",
        read_only=True,
        allow_null=True,
        help_text="the bidder's signed confirmation of the refund account; null if none",
    )

    class Meta:
        model = Refund
        fields = [
            "id",
            "deposit",
            "notification",
            "reason",
            "reason_display",
            "principal",
            "interest",
            "total",
            "currency",
            "payee_name",
            "payee_account",
            "payee_account_confirmation",
            "due_at",
            "status",
            "status_display",
            "scheduled_at",
            "batch",
            "bank_reference",
            "paid_at",
        ]
        read_only_fields = fields


class GuaranteeSerializer(serializers.ModelSerializer):
    kind = GuaranteeKindField(read_only=True)
    status = GuaranteeStatusField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    amount = MoneyField(read_only=True)
    project = serializers.IntegerField(source="lot.project_id", read_only=True)
    organization = OrganizationRefSerializer(read_only=True)
    electronic = serializers.BooleanField(
        read_only=True,
        help_text="电子保函: filed as the issuer's signed document and verified by its signature",
    )
    certificate_sha256 = serializers.SerializerMethodField(
        help_text="SHA-256 fingerprint of the issuer certificate that signed an electronic guarantee"
    )

    class Meta:
        model = Guarantee
        fields = [
            "id",
            "project",
            "lot",
            "organization",
            "kind",
            "issuer",
            "number",
            "amount",
            "valid_from",
            "valid_until",
            "file_sha256",
            "status",
            "status_display",
            "submitted_at",
            "verified_at",
            "verification",
            "decided_note",
            "electronic",
            "certificate_sha256",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "nullable": True})
    def get_certificate_sha256(self, guarantee: Guarantee) -> str | None:
        return guarantee.certificate.sha256 if guarantee.certificate is not None else None


class InstrumentSerializer(serializers.ModelSerializer):
    kind = InstrumentKindField(read_only=True)
    status = InstrumentStatusField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    amount = MoneyField(read_only=True)
    project = serializers.IntegerField(source="lot.project_id", read_only=True)
    organization = OrganizationRefSerializer(read_only=True)
    collect_to = serializers.SerializerMethodField(
        help_text="the sub-account the instrument is collected into (on the collection slip)"
    )

    class Meta:
        model = Instrument
        fields = [
            "id",
            "project",
            "lot",
            "organization",
            "kind",
            "bank",
            "number",
            "amount",
            "drawer_account",
            "issued_on",
            "payable_until",
            "received_at",
            "collect_to",
            "status",
            "status_display",
            "settled_at",
            "note",
        ]
        read_only_fields = fields

    def get_collect_to(self, instrument: Instrument) -> str | None:
        account = instrument.lot.deposit_accounts.filter(
            organization=instrument.organization_id, currency=Currency.CNY
        ).first()
        return account.number if account else None


class RegisterInstrumentSerializer(serializers.Serializer):
    lot = serializers.IntegerField()
    organization = serializers.IntegerField(help_text="the supplier (drawer) whose deposit it is")
    kind = InstrumentKindField()
    bank = serializers.CharField(max_length=100)
    number = serializers.CharField(max_length=64)
    amount = AmountField()
    drawer_account = serializers.CharField(max_length=40)
    issued_on = serializers.DateField()
    payable_until = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="汇票/本票: the maturity or presentment date; a cheque's is 10 days from issue",
    )


class DishonourInstrumentSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class ReturnInstrumentSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class GuaranteeUploadSerializer(serializers.Serializer):
    """An electronic guarantee (multipart). The amount is a string in yuan, judged by the service."""

    kind = GuaranteeKindField()
    issuer = serializers.CharField(max_length=200)
    number = serializers.CharField(max_length=64)
    amount = MoneyField()
    valid_from = serializers.DateField()
    valid_until = serializers.DateField()
    file = serializers.FileField()


class MyDepositsSerializer(serializers.Serializer):
    """Everything the caller's organization has put up: deposits, the sub-accounts to pay into,
    guarantees awaiting verification, qualification per lot, and refunds with their due dates."""

    deposits = DepositSerializer(many=True)
    accounts = SubAccountSerializer(many=True)
    guarantees = GuaranteeSerializer(many=True)
    qualifications = QualificationSerializer(many=True)
    refunds = RefundSerializer(many=True)


# --- Staff ----------------------------------------------------------------------------------------


class CurrencyTotalsSerializer(serializers.Serializer):
    """What the center holds in one currency, each as a positive amount in the account's own sense."""

    currency = CurrencyField()
    custody = MoneyField(help_text="托管银行存款: money at the bank (bank in − bank out)")
    sub_accounts = MoneyField(help_text="held in bidders' sub-accounts")
    suspense = MoneyField(help_text="payments that cannot qualify, owed back to their payers")
    refunds_payable = MoneyField(help_text="instructed to the bank, not yet confirmed paid")
    forfeited = MoneyField()
    land_earnest = MoneyField()
    land_price = MoneyField()
    interest = MoneyField(help_text="interest paid (or instructed) with refunds")


class LedgerCheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.CharField())


class CustodySerializer(serializers.Serializer):
    totals = CurrencyTotalsSerializer(many=True)
    check = LedgerCheckSerializer()


class RefundBatchSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    refunds = serializers.SerializerMethodField()
    csv_url = serializers.SerializerMethodField()

    class Meta:
        model = RefundBatch
        fields = ["id", "created_at", "created_by", "sha256", "refunds", "csv", "csv_url"]
        read_only_fields = fields

    def get_refunds(self, batch: RefundBatch) -> list[int]:
        return sorted(batch.refunds.values_list("pk", flat=True))

    def get_csv_url(self, batch: RefundBatch) -> str:
        return reverse("api_deposit_refund_batch_csv", args=[batch.pk])


class RefundBatchRequestSerializer(serializers.Serializer):
    until = AwareDateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="instruct only refunds due by then (default: every scheduled refund)",
    )


class VerifyGuaranteeSerializer(serializers.Serializer):
    accepted = serializers.BooleanField()
    method = serializers.CharField(max_length=100, allow_blank=True)
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class ForfeitSerializer(serializers.Serializer):
    reason = ForfeitureReasonField()
    note = serializers.CharField(max_length=4000, allow_blank=True)


class ForfeitureSerializer(serializers.ModelSerializer):
    reason = ForfeitureReasonField(read_only=True)
    reason_display = serializers.CharField(source="get_reason_display", read_only=True)
    decided_by = serializers.CharField(
        source="decided_by.username", read_only=True, allow_null=True
    )
    deposit = DepositSerializer(read_only=True)

    class Meta:
        model = Forfeiture
        fields = ["id", "deposit", "reason", "reason_display", "note", "decided_at", "decided_by"]
        read_only_fields = fields


class ScheduleRefundSerializer(serializers.Serializer):
    reason = DepositRefundReasonField()
    event_at = AwareDateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="when the event that triggers the refund happened (default: now)",
    )


class DepositRefundSerializer(serializers.Serializer):
    """The deposit after the request and its live refund (null for a released guarantee)."""

    deposit = DepositSerializer()
    refund = RefundSerializer(allow_null=True)


class FxRateSerializer(serializers.ModelSerializer):
    currency = FxCurrencyField(read_only=True)
    cny_per_unit = RateField(read_only=True)
    entered_by = serializers.CharField(source="entered_by.username", read_only=True)

    class Meta:
        model = FxRate
        fields = ["id", "currency", "cny_per_unit", "effective_at", "entered_by", "source"]
        read_only_fields = fields


class FxRateInputSerializer(serializers.Serializer):
    currency = FxCurrencyField()
    cny_per_unit = RateField()

    def get_fields(self) -> dict[str, serializers.Field]:
        # `source` is added here, not declared on the class: every DRF field (a serializer too) has
        # an attribute of that name, which a declaration would appear to replace.
        fields = super().get_fields()
        fields["source"] = serializers.CharField(
            max_length=100, required=False, allow_blank=True, default=""
        )
        return fields


class BankNotificationSerializer(serializers.ModelSerializer):
    outcome = BankOutcomeField(read_only=True)
    outcome_display = serializers.CharField(source="get_outcome_display", read_only=True)
    currency = CurrencyField(read_only=True)
    amount = MoneyField(read_only=True)

    class Meta:
        model = BankNotification
        fields = [
            "id",
            "bank",
            "transaction_id",
            "account_number",
            "amount",
            "currency",
            "payer_name",
            "payer_account",
            "payer_bank",
            "value_at",
            "received_at",
            "outcome",
            "outcome_display",
            "body_sha256",
        ]
        read_only_fields = fields


# --- The bank -------------------------------------------------------------------------------------


class BankPaymentSerializer(serializers.Serializer):
    """For the schema only: the body is read as raw bytes; the signature covers its canonical form."""

    bank = serializers.CharField(required=False)
    transaction_id = serializers.CharField()
    account_number = serializers.CharField()
    amount = MoneyField()
    currency = CurrencyField()
    payer_name = serializers.CharField()
    payer_account = serializers.CharField()
    payer_bank = serializers.CharField(required=False)
    value_time = serializers.DateTimeField(help_text="ISO-8601 with offset: when the money arrived")
    instrument_number = serializers.CharField(
        required=False,
        help_text="the number of the registered cheque, draft or promissory note this credit collects",
    )


class BankReceiptSerializer(serializers.Serializer):
    transaction_id = serializers.CharField()
    outcome = BankOutcomeField()
    replay = serializers.BooleanField()


class RefundConfirmationInputSerializer(serializers.Serializer):
    """For the schema only, like BankPaymentSerializer."""

    bank = serializers.CharField(required=False)
    refund_id = serializers.IntegerField()
    bank_reference = serializers.CharField()
    status = BankRefundOutcomeField()


class RefundConfirmationReceiptSerializer(serializers.Serializer):
    refund_id = serializers.IntegerField()
    status = RefundStatusField()
    bank_reference = serializers.CharField()
    paid_at = serializers.DateTimeField(allow_null=True)
