"""Shapes of the land listing API (`bidding.land.api`).

Input serializers only parse. Money must come as a JSON string ("120000000.00"): a JSON number is
refused here in the error shape with the service's own code (BAD_AMOUNT, or BAD_PRICE for an offer),
because `land.services` would read an integer as an amount and a float must never touch money. Every
other rule — amounts, ranges, times, who may act — is the service's. The output shapes document what
`services.listing_state` returns (the listing page reads the same dict).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bidding.auction.serializers import PriceTextField, RawIntegerField
from bidding.models import Auction, LandListing, LandResponse
from lib import numbers
from lib.errors import DomainError
from signing.serializers import SignedInputSerializer
from trading.serializers import AwareDateTimeField, MoneyField, enum_field

LandUseField = enum_field(LandListing.Use, "LandUseEnum")
LandCapModeField = enum_field(LandListing.CapMode, "LandCapModeEnum")
LandStageField = enum_field(LandListing.Stage, "LandStageEnum")
LandResponseKindField = enum_field(LandResponse.Kind, "LandResponseKindEnum")
AuctionPhaseField = enum_field(Auction.Phase, "AuctionPhaseEnum")

MONEY_PATTERN = r"^\d{1,13}(\.\d{1,2})?$"


@extend_schema_field({"type": "string", "format": "decimal", "pattern": MONEY_PATTERN})
class MoneyTextField(serializers.Field):
    """Money on the way in: a string, passed to the service as sent (it checks the amount). Anything
    else — a JSON number above all — is refused with `code`, naming the field."""

    def __init__(self, *, code: str = "BAD_AMOUNT", **kwargs: Any) -> None:
        self.code = code
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            raise DomainError(
                _('%(field)s 须以字符串提交（例如 "100000000.00"），不接受 JSON 数字。'),
                code=self.code,
                field=self.label or self.field_name,
            )
        return data

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field({"type": "boolean"})
class StrictBooleanField(serializers.Field):
    """JSON true or false, nothing that merely looks like one ("yes", 1)."""

    default_error_messages = {"invalid": _("必须是 true 或 false。")}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> bool:
        return bool(value)


@extend_schema_field({"type": "object", "additionalProperties": {}})
class RawObjectField(serializers.Field):
    """An object as sent: the service refuses anything else with its own code."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


# --- Input ----------------------------------------------------------------------------------------


class LandListingCreateInputSerializer(serializers.Serializer):
    parcel_number = serializers.CharField(max_length=60, help_text="宗地编号")
    location = serializers.CharField(max_length=200, help_text="土地位置")
    area = MoneyTextField(label=_("出让面积"), help_text='出让面积 (m²), a string, e.g. "35000.00"')
    land_use = LandUseField()
    term_years = RawIntegerField(help_text="出让年限, 1–70")
    planning = RawObjectField(required=False, help_text="规划指标 (plot ratio, density…)")
    start_price = MoneyTextField(label=_("起始价"), help_text='起始价, e.g. "100000000.00"')
    increment = MoneyTextField(label=_("加价幅度"), help_text="加价幅度")
    listing_starts_at = AwareDateTimeField(
        help_text="≥ 20 days after the announcement was published"
    )
    listing_ends_at = AwareDateTimeField(
        help_text="≥ 10 working days after the start; after the registration and deposit deadlines"
    )
    reserve_staff = numbers.IntegerField(
        min_value=1,
        help_text="the user id of the center staff member who keys in the reserve (底价)",
    )
    max_price = MoneyTextField(
        label=_("最高限价"),
        required=False,
        allow_null=True,
        help_text="最高限价; null: none. start + a whole number of increments",
    )
    cap_mode = LandCapModeField(required=False, help_text="required with max_price, else omitted")
    housing_step = MoneyTextField(
        label=_("配建面积加价幅度"), required=False, help_text='竞配建 area step (m², default "10")'
    )
    offer_ceiling = MoneyTextField(
        label=_("一次性报价上限"),
        required=False,
        allow_null=True,
        help_text="sealed-offer mode: the highest offer allowed; null: none",
    )
    confirm_seconds = RawIntegerField(required=False, help_text="30–86400 (default 300)")
    live_seconds = RawIntegerField(required=False, help_text="30–3600 (default 240)")
    cap_window_seconds = RawIntegerField(required=False, help_text="60–86400 (default 600)")
    reserve_lock_minutes = RawIntegerField(
        required=False, help_text="the reserve is locked this long before the close (default 60)"
    )


class LandReserveInputSerializer(serializers.Serializer):
    amount = MoneyTextField(
        label=_("底价"), help_text='底价, a string, e.g. "120000000.00"; never echoed back'
    )


class LandRespondInputSerializer(SignedInputSerializer):
    kind = LandResponseKindField(
        help_text="continue: join live bidding (confirmation window); accept_cap: accept the "
        "maximum price and join the lottery"
    )
    answer = StrictBooleanField(
        help_text="true or false; one answer per kind, final. `continue` with true is the signed "
        "act land.confirm (no digest): send signing_challenge and signature; other answers are "
        "not signed"
    )


class LandOfferInputSerializer(serializers.Serializer):
    price = MoneyTextField(
        label=_("报价"),
        code="BAD_PRICE",
        help_text="一次性报价, a string ≥ the maximum price (≤ the ceiling, if any); never echoed",
    )


class LandRefusalInputSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, help_text="the facts of the refusal")


# --- Output ---------------------------------------------------------------------------------------


class LandYouSerializer(serializers.Serializer):
    eligibility = serializers.CharField(
        allow_null=True, help_text="null if the caller may bid, else the reason code"
    )
    listing_bidder = serializers.BooleanField(help_text="placed a valid listing bid")
    may_continue = serializers.BooleanField()
    may_accept_cap = serializers.BooleanField()
    may_offer = serializers.BooleanField()
    answers = serializers.DictField(child=serializers.BooleanField(), help_text="kind → answer")
    is_winner = serializers.BooleanField()
    may_sign = serializers.BooleanField()
    confirmation_sha256 = serializers.CharField(
        allow_null=True,
        help_text="while the winner may sign: SHA-256 of the unsigned 成交确认书's content (what "
        "its PDF prints), the digest of the act land.deal; null otherwise",
    )


class LandLotterySerializer(serializers.Serializer):
    seed_hash = serializers.CharField(help_text="SHA-256 of the seed, published when it opened")
    seed = serializers.CharField(required=False, help_text="revealed after the draw")
    candidates = serializers.ListField(child=numbers.IntegerField(), required=False)
    candidates_hash = serializers.CharField(required=False)
    winner = numbers.IntegerField(required=False)
    drawn_at = serializers.DateTimeField(required=False)


class LandListingStateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.CharField()
    project_id = serializers.IntegerField()
    lot = serializers.IntegerField()
    parcel_number = serializers.CharField()
    location = serializers.CharField()
    area = PriceTextField(help_text="m²")
    land_use = LandUseField()
    land_use_label = serializers.CharField()
    term_years = serializers.IntegerField()
    planning = serializers.DictField()
    start_price = PriceTextField()
    increment = PriceTextField()
    max_price = PriceTextField()
    cap_mode = serializers.CharField(help_text="lottery | housing | sealed_offer, or empty")
    cap_mode_label = serializers.CharField()
    deposit = PriceTextField()
    deposit_currencies = serializers.ListField(child=serializers.CharField())
    listing_starts_at = serializers.DateTimeField()
    listing_ends_at = serializers.DateTimeField()
    registration_until = serializers.DateTimeField(allow_null=True)
    deposit_until = serializers.DateTimeField(allow_null=True)
    reserve_set = serializers.BooleanField()
    reserve_lock_at = serializers.DateTimeField()
    reserve = PriceTextField(
        help_text="center staff and supervisors, once the outcome is decided; null otherwise"
    )
    stage = LandStageField()
    stage_label = serializers.CharField()
    stage_ends_at = serializers.DateTimeField(allow_null=True, help_text="the answer window")
    highest = PriceTextField(help_text="the listing's highest bid")
    room = serializers.IntegerField(
        allow_null=True, help_text="the auction to watch now (/api/v1/bidding/auctions/{id}/)"
    )
    room_phase = AuctionPhaseField(allow_null=True)
    lottery = LandLotterySerializer(allow_null=True)
    winner = serializers.CharField(allow_null=True)
    final_price = PriceTextField()
    housing_area = PriceTextField(help_text="竞配建: the winner's housing area (m²)")
    outcome_reason = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)
    confirmation_signed_at = serializers.DateTimeField(allow_null=True)
    you = LandYouSerializer(allow_null=True, help_text="suppliers only")
    server_time = serializers.IntegerField(help_text="milliseconds since the epoch")


class LandListingSummarySerializer(serializers.Serializer):
    """One row of the public list (a model instance)."""

    id = serializers.IntegerField()
    project = serializers.CharField(source="lot.project.title")
    project_id = serializers.IntegerField(source="lot.project_id")
    lot = serializers.IntegerField(source="lot_id")
    parcel_number = serializers.CharField()
    location = serializers.CharField()
    area = MoneyField(help_text="m²")
    land_use = LandUseField()
    term_years = serializers.IntegerField()
    start_price = MoneyField()
    increment = MoneyField()
    max_price = MoneyField(allow_null=True)
    cap_mode = serializers.CharField()
    listing_starts_at = serializers.DateTimeField()
    listing_ends_at = serializers.DateTimeField()
    stage = LandStageField()
    winner = serializers.CharField(source="winner.name", allow_null=True, default=None)
    final_price = MoneyField(allow_null=True)
    url = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField())
    def get_url(self, listing: LandListing) -> str:
        from django.urls import reverse

        return reverse("api_land_listing", args=[listing.pk])


class LandReserveSerializer(serializers.Serializer):
    """The reserve was sealed: when, and the hash of the ciphertext — never the amount."""

    listing = serializers.IntegerField()
    reserve_set = serializers.BooleanField()
    reserve_set_at = serializers.DateTimeField()
    reserve_sha256 = serializers.CharField(help_text="SHA-256 of the sealed reserve")
    reserve_lock_at = serializers.DateTimeField()


class LandResponseSerializer(serializers.Serializer):
    listing = serializers.IntegerField()
    kind = LandResponseKindField()
    answer = serializers.BooleanField()
    answered_at = serializers.DateTimeField()
    stage = LandStageField(help_text="the listing's stage after the answer")


class LandOfferReceiptSerializer(serializers.Serializer):
    """The offer was sealed: when, and the hash of the ciphertext — never the price."""

    listing = serializers.IntegerField()
    submitted_at = serializers.DateTimeField()
    sealed_sha256 = serializers.CharField(help_text="SHA-256 of the sealed offer")
    stage = LandStageField(help_text="the listing's stage after the offer")


class LandLotteryVerificationSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="the record recomputes exactly (lottery.verify)")
    problems = serializers.ListField(child=serializers.CharField())


class LandLotteryRecordSerializer(serializers.Serializer):
    listing = serializers.IntegerField()
    seed = serializers.CharField(help_text="the revealed 32-byte seed (hex)")
    seed_hash = serializers.CharField(help_text="its SHA-256, published when the window opened")
    candidates = serializers.ListField(
        child=numbers.IntegerField(), help_text="organization ids, ascending"
    )
    candidates_hash = serializers.CharField()
    winner = serializers.IntegerField(help_text="an organization id")
    winner_name = serializers.CharField(allow_null=True)
    drawn_at = serializers.DateTimeField()
    algorithm = serializers.CharField(help_text="how to recompute the draw")
    verification = LandLotteryVerificationSerializer()
