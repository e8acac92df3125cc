"""Shapes of the bidding API. Input serializers only parse: the price goes to `submit_bid` as sent (it
reads it with `lib.money.parse_amount`: a JSON number is refused there with AMOUNT_NOT_STRING), and
every rule is the service's. Output money is a string; a bid's price is null until its bidder
decrypted it at the opening."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bidding.access import NEGOTIATION_STAGE_LABELS, STAGE_LABELS
from bidding.models import Bid, Evaluation, Opening, Publicity
from bidding.pdf import receipt_document
from lib import numbers
from lib.api import StrictSerializer
from signing.serializers import SignedInputSerializer
from trading.serializers import (
    AwareDateTimeField,
    MoneyField,
    OrganizationRefSerializer,
    ProjectMethodField,
    enum_field,
)

BidStatusField = enum_field(Bid.Status, "BidStatusEnum")
OpeningStageField = enum_field(Opening.Stage, "OpeningStageEnum")
EvaluationStatusField = enum_field(Evaluation.Status, "EvaluationStatusEnum")
EvaluationSchemeField = enum_field(Evaluation.Scheme, "EvaluationSchemeEnum")
PublicityStatusField = enum_field(Publicity.Status, "PublicityStatusEnum")


@extend_schema_field(
    {"type": "string", "enum": [str(key) for key in STAGE_LABELS]},
    component_name="LotBiddingStageEnum",
)
class LotStageField(serializers.CharField):
    pass


# --- References -----------------------------------------------------------------------------------


class BiddingProjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()


class BiddingLotSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    name = serializers.CharField()
    project = BiddingProjectSerializer()


# --- Bids -----------------------------------------------------------------------------------------


class BidFileSerializer(serializers.Serializer):
    sha256 = serializers.CharField()
    size = serializers.IntegerField()


class BidSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lot = BiddingLotSerializer()
    organization = OrganizationRefSerializer()
    status = BidStatusField()
    version = serializers.IntegerField()
    submitted_at = serializers.DateTimeField()
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    sealed_sha256 = serializers.CharField(help_text="SHA-256 of the sealed price (ciphertext)")
    receipt_sha256 = serializers.CharField()
    files = serializers.SerializerMethodField()
    price = MoneyField(allow_null=True, help_text="null until the bidder decrypts at the opening")
    decrypted_at = serializers.DateTimeField(allow_null=True)
    failure = serializers.CharField()
    commitment = serializers.CharField(
        help_text="the bid commitment the bidder signed (SHA-256 of price, nonce and file hashes; "
        "see docs/signing.md); empty for bids older than commitments"
    )
    commitment_opened = serializers.BooleanField(
        allow_null=True,
        help_text="at decryption: whether the decrypted bid reproduces the commitment",
    )
    signed_act = serializers.IntegerField(
        source="signed_act_id",
        allow_null=True,
        help_text="the bidder's signature of this version (/api/v1/signing/acts/{id}/)",
    )

    @extend_schema_field(BidFileSerializer(many=True))
    def get_files(self, bid: Bid) -> list[dict[str, Any]]:
        return BidFileSerializer(sorted(bid.files.all(), key=lambda f: f.pk), many=True).data


class BidReceiptSerializer(serializers.Serializer):
    bid = serializers.IntegerField(source="id")
    lot = BiddingLotSerializer()
    organization = OrganizationRefSerializer()
    status = BidStatusField()
    version = serializers.IntegerField()
    submitted_at = serializers.DateTimeField(help_text="server time of the (last) submission")
    sealed_sha256 = serializers.CharField()
    files = serializers.SerializerMethodField()
    receipt_sha256 = serializers.CharField()
    commitment = serializers.CharField(help_text="the bid commitment the bidder signed")
    signed_act = serializers.IntegerField(source="signed_act_id", allow_null=True)
    document = serializers.SerializerMethodField(
        help_text="what the receipt hash covers: SHA-256 of its canonical JSON is receipt_sha256"
    )
    pdf_url = serializers.SerializerMethodField()

    @extend_schema_field(BidFileSerializer(many=True))
    def get_files(self, bid: Bid) -> list[dict[str, Any]]:
        return BidFileSerializer(sorted(bid.files.all(), key=lambda f: f.pk), many=True).data

    @extend_schema_field({"type": "object", "additionalProperties": True})
    def get_document(self, bid: Bid) -> dict[str, Any]:
        return receipt_document(bid)

    def get_pdf_url(self, bid: Bid) -> str:
        from django.urls import reverse

        return reverse("bid_receipt_pdf", args=[bid.lot_id])


class BidSubmitInputSerializer(SignedInputSerializer):
    """A signed bid: `bid.submit` on the lot, or `bid.modify` on the standing bid (the lot status'
    `bid_signing` says which), with the digest the bid commitment of price, bid_nonce and files."""

    price = MoneyField(help_text="yuan as a string of ASCII digits, at most two decimals")
    decryption_code = serializers.CharField(
        trim_whitespace=False,
        max_length=200,
        help_text="at least 8 characters; needed to decrypt at the opening and never recoverable",
    )
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False), required=False, default=list
    )
    bid_nonce = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="32 random bytes as 64 lowercase hex digits, chosen by the client for the bid "
        "commitment; sealed with the price. Omitted: the platform draws one (unsigned development "
        "fallback only)",
    )


class BidWithdrawInputSerializer(SignedInputSerializer):
    """A signed withdrawal: `bid.withdraw` on the bid, no digest."""


class BidSigningSerializer(serializers.Serializer):
    act = serializers.CharField(help_text="bid.submit or bid.modify")
    target_type = serializers.CharField()
    target_id = serializers.IntegerField()


class BidDecryptInputSerializer(serializers.Serializer):
    decryption_code = serializers.CharField(trim_whitespace=False, max_length=200)


# --- The lot and its opening ----------------------------------------------------------------------


class BidProgressSerializer(serializers.Serializer):
    awaiting = serializers.IntegerField()
    decrypted = serializers.IntegerField()
    failed = serializers.IntegerField()


class OpeningSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="the opening: target of opening.confirm/object")
    stage = OpeningStageField()
    started_at = serializers.DateTimeField()
    decryption_until = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    failure_reason = serializers.CharField()
    objections_until = serializers.DateTimeField(allow_null=True)
    record_sha256 = serializers.CharField()


class LotBiddingStatusSerializer(serializers.Serializer):
    lot = BiddingLotSerializer()
    stage = LotStageField()
    stage_label = serializers.CharField()
    bid_deadline = serializers.DateTimeField(allow_null=True)
    server_time = serializers.DateTimeField()
    opening = OpeningSummarySerializer(allow_null=True)
    bids_count = serializers.IntegerField(
        allow_null=True,
        help_text="bids standing for the opening: for the project's agent, center staff and "
        "supervisors only, and only a number",
    )
    progress = BidProgressSerializer(allow_null=True)
    my_bid = BidSerializer(allow_null=True)
    bid_signing = BidSigningSerializer(
        allow_null=True,
        help_text="for a bidder: the act a (re)submission now signs and its target",
    )


class OpeningRecordSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="the opening: target of opening.confirm/object")
    lot = BiddingLotSerializer()
    stage = OpeningStageField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    failure_reason = serializers.CharField()
    objections_until = serializers.DateTimeField(allow_null=True)
    record = serializers.JSONField(
        help_text="the published record; its canonical JSON hashes to record_sha256"
    )
    record_sha256 = serializers.CharField()
    pdf_url = serializers.CharField()


class OpeningResponseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    organization = OrganizationRefSerializer()
    confirmed = serializers.BooleanField()
    objection = serializers.CharField()
    responded_at = serializers.DateTimeField()
    answer = serializers.CharField()
    answered_at = serializers.DateTimeField(allow_null=True)


class OpeningRespondInputSerializer(SignedInputSerializer):
    """Signed `opening.confirm`, or `opening.object` with details {"text": objection} exactly as
    sent; the digest is the record's record_sha256."""

    confirmed = serializers.BooleanField()
    objection = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )


class OpeningAnswerInputSerializer(serializers.Serializer):
    answer = serializers.CharField(allow_blank=True)


# --- Evaluation -----------------------------------------------------------------------------------


class EvaluationCandidateSerializer(serializers.Serializer):
    """A ranked candidate: from the evaluation report (sealed tender), or from a live auction's
    ranking (`bidding.auction.services.publish_result`: no bid, no score, the room's alias)."""

    rank = serializers.IntegerField()
    bidder = serializers.CharField()
    organization = serializers.IntegerField()
    bid = serializers.IntegerField(allow_null=True, help_text="null for a live auction's candidate")
    price = MoneyField()
    technical = serializers.CharField(required=False, help_text="evaluation only")
    total = serializers.CharField(required=False, help_text="evaluation only")
    alias = serializers.CharField(required=False, help_text="live auction only: 竞价人A…")


class EvaluationRejectionSerializer(serializers.Serializer):
    bid = serializers.IntegerField()
    reason = serializers.CharField()


class EvaluationReportSerializer(serializers.Serializer):
    scheme = EvaluationSchemeField()
    price_weight = serializers.CharField()
    candidates = EvaluationCandidateSerializer(many=True)
    rejected = EvaluationRejectionSerializer(many=True)
    report_sha256 = serializers.CharField()


class EvaluationMemberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    expert = serializers.CharField(source="expert.name")
    wants_more_time = serializers.BooleanField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    dissent = serializers.CharField()


class EvaluationSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="the evaluation: target of evaluation.sign/dissent")
    lot = BiddingLotSerializer()
    status = EvaluationStatusField()
    scheme = EvaluationSchemeField()
    price_weight = serializers.DecimalField(max_digits=4, decimal_places=3)
    started_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    extended = serializers.BooleanField()
    reported_at = serializers.DateTimeField(allow_null=True)
    confirmed_at = serializers.DateTimeField(allow_null=True)
    report = EvaluationReportSerializer(
        allow_null=True,
        help_text="center staff, supervisors; members while signing; the agent once confirmed",
    )
    members = EvaluationMemberSerializer(
        many=True, allow_null=True, help_text="center staff and supervisors only"
    )
    signed = serializers.BooleanField(
        allow_null=True, help_text="for a member: whether they signed the report"
    )


class EvaluationStartInputSerializer(serializers.Serializer):
    draw = numbers.IntegerField(min_value=1, help_text="a signed-off draw of the project")
    scheme = EvaluationSchemeField()
    price_weight = numbers.decimal_field(
        places=3,
        minimum=Decimal("0"),
        maximum=Decimal("1"),
        required=False,
        default=None,
        allow_null=True,
    )
    hours = numbers.IntegerField(min_value=1, max_value=72, default=8)


class EvaluationBidSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    organization = OrganizationRefSerializer()
    price = MoneyField()
    submitted_at = serializers.DateTimeField()
    files = serializers.SerializerMethodField()

    @extend_schema_field(BidFileSerializer(many=True))
    def get_files(self, bid: Bid) -> list[dict[str, Any]]:
        return BidFileSerializer(sorted(bid.files.all(), key=lambda f: f.pk), many=True).data


class EvaluationScoreSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    member = serializers.IntegerField(source="member_id")
    expert = serializers.CharField(source="member.expert.name")
    bid = serializers.IntegerField(source="bid_id")
    compliant = serializers.BooleanField()
    rejection_reason = serializers.CharField()
    technical_points = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    scored_at = serializers.DateTimeField()


class EvaluationScoreInputSerializer(serializers.Serializer):
    bid = numbers.IntegerField(min_value=1)
    compliant = serializers.BooleanField()
    technical_points = numbers.decimal_field(
        places=2,
        minimum=Decimal("0"),
        maximum=Decimal("100"),
        required=False,
        allow_null=True,
        default=None,
    )
    rejection_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200
    )


class EvaluationConfirmInputSerializer(SignedInputSerializer):
    """Signed `evaluation.sign`, or `evaluation.dissent` with details {"text": dissent} exactly as
    sent when there is one; the digest is the report's report_sha256."""

    dissent = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )


class EvaluationSeatSerializer(serializers.Serializer):
    lot = BiddingLotSerializer(source="evaluation.lot")
    status = EvaluationStatusField(source="evaluation.status")
    due_at = serializers.DateTimeField(source="evaluation.due_at")
    signed = serializers.SerializerMethodField()

    def get_signed(self, seat: Any) -> bool:
        return seat.confirmed_at is not None


# --- Publicity and award --------------------------------------------------------------------------


class PublicityObjectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    organization = OrganizationRefSerializer()
    text = serializers.CharField()
    raised_at = serializers.DateTimeField()
    reply_due_at = serializers.DateTimeField()
    reply = serializers.CharField()
    replied_at = serializers.DateTimeField(allow_null=True)


class PublicitySerializer(serializers.Serializer):
    lot = BiddingLotSerializer()
    status = PublicityStatusField()
    candidates = EvaluationCandidateSerializer(many=True)
    published_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    suspended = serializers.BooleanField(help_text="an objection awaits its reply")
    refused = serializers.ListField(child=numbers.IntegerField())


class PublicityObjectionInputSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True)


class PublicityReplyInputSerializer(serializers.Serializer):
    reply = serializers.CharField(allow_blank=True)


class AwardSerializer(serializers.Serializer):
    lot = BiddingLotSerializer()
    status = PublicityStatusField()
    winner = OrganizationRefSerializer()
    price = MoneyField(
        allow_null=True, help_text="the winner's price; null if it has none on record"
    )
    award_notice_at = serializers.DateTimeField()
    contract_due_at = serializers.DateTimeField()
    contract_signed_at = serializers.DateTimeField(allow_null=True)
    notice_pdf_url = serializers.CharField(
        allow_null=True, help_text="the winner, the project's agent, center staff, supervisors"
    )
    notice_sha256 = serializers.CharField(
        allow_null=True,
        help_text="SHA-256 of the award notice's content, as it prints it: the digest the winner "
        "signs to accept (act award.accept). For those who may read the notice; null otherwise.",
    )
    accepted_at = serializers.DateTimeField(
        allow_null=True,
        help_text="when the winner accepted the award (signed); for those who may read the "
        "notice, null otherwise or until then",
    )
    accepted_signed_act = serializers.IntegerField(
        allow_null=True,
        help_text="the SignedAct of the acceptance (/api/v1/signing/acts/{id}/), for those who "
        "may read the notice; null if none",
    )


class ContractInputSerializer(serializers.Serializer):
    signed_at = AwareDateTimeField(required=False, allow_null=True, default=None)


class RefusalInputSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)


# --- 竞争性谈判/磋商 after the opening -------------------------------------------------------------


@extend_schema_field(
    {"type": "string", "enum": [str(key) for key in NEGOTIATION_STAGE_LABELS]},
    component_name="NegotiationStageEnum",
)
class NegotiationStageField(serializers.CharField):
    pass


class ServiceTextField(serializers.CharField):
    """Text handed to the service as sent: it reads it with `lib.text.check_text` (a JSON number or
    list is TEXT_NOT_STRING there, an overlong text TEXT_TOO_LONG), as for the pages."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_blank", True)
        super().__init__(trim_whitespace=False, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        return data


class NegotiationRoundSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    changes = serializers.CharField(
        help_text="the changes to the requirements or the contract terms, sent to every supplier "
        "still in"
    )
    published_at = serializers.DateTimeField()
    excluded = OrganizationRefSerializer(
        many=True,
        allow_null=True,
        help_text="suppliers put out in this round: center staff and supervisors only",
    )


class NegotiationYouSerializer(serializers.Serializer):
    still_in = serializers.BooleanField(
        help_text="false once put out in a round, or left out of the final-quote call"
    )
    out_in_round = serializers.IntegerField(
        allow_null=True, help_text="the round that put the caller out; null while still in"
    )


class FinalQuoteRowSerializer(serializers.Serializer):
    organization = OrganizationRefSerializer()
    quoted = serializers.BooleanField(help_text="false: invited but gave none (it is out)")
    price = MoneyField(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    sealed_sha256 = serializers.CharField(allow_null=True)


class FinalQuoteCallSerializer(serializers.Serializer):
    called_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    opened_at = serializers.DateTimeField(allow_null=True)
    suppliers = OrganizationRefSerializer(
        many=True,
        allow_null=True,
        help_text="the suppliers invited to quote: center staff and supervisors only",
    )
    invited = serializers.BooleanField(
        allow_null=True, help_text="for a supplier: whether it is invited to quote"
    )
    quoted = serializers.BooleanField(
        allow_null=True, help_text="for a supplier: whether it gave its final quote"
    )
    receipt_sha256 = serializers.CharField(
        allow_null=True, help_text="for a supplier that quoted: SHA-256 of its sealed quote"
    )
    submitted_at = serializers.DateTimeField(allow_null=True)
    quotes = FinalQuoteRowSerializer(
        many=True,
        allow_null=True,
        help_text="once opened: every invited supplier's quote for the project's agent, center "
        "staff, supervisors and the panel; a supplier's own otherwise; null before",
    )


class NegotiationSerializer(serializers.Serializer):
    lot = BiddingLotSerializer()
    method = ProjectMethodField()
    stage = NegotiationStageField()
    server_time = serializers.DateTimeField()
    rounds = NegotiationRoundSerializer(
        many=True, help_text="a supplier put out sees the rounds before the one that put it out"
    )
    still_in = OrganizationRefSerializer(
        many=True,
        allow_null=True,
        help_text="the suppliers still in before the call: center staff and supervisors only",
    )
    you = NegotiationYouSerializer(
        allow_null=True, help_text="for a supplier whose first response was opened"
    )
    final_call = FinalQuoteCallSerializer(allow_null=True)


class NegotiationRoundInputSerializer(StrictSerializer):
    changes = ServiceTextField(
        required=False,
        default="",
        help_text="the round's changes (at most 10,000 characters); may be empty if suppliers are "
        "put out",
    )
    excluded = serializers.ListField(
        child=numbers.IntegerField(min_value=1),
        required=False,
        default=list,
        max_length=200,
        help_text="organization ids of suppliers still in, found non-compliant in this round",
    )


class FinalCallInputSerializer(StrictSerializer):
    closes_at = AwareDateTimeField(help_text="ISO-8601 with offset, later than now")


class FinalQuoteInputSerializer(StrictSerializer):
    price = MoneyField(help_text="yuan as a string of ASCII digits, at most two decimals")


class FinalQuoteReceiptSerializer(serializers.Serializer):
    lot = BiddingLotSerializer()
    organization = OrganizationRefSerializer()
    submitted_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    sealed_sha256 = serializers.CharField(
        help_text="SHA-256 of the sealed quote: the receipt (the price stays sealed until the close)"
    )
