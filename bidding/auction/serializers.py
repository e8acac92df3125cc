"""Shapes of the live auction API (`bidding.auction.api`).

Input serializers only parse: prices go to the service as sent (a JSON number is refused there with
BAD_PRICE, never rounded into a float here), and every rule — amounts, steps, times, who may act — is
the service's. The output shapes document what the services return: the state is exactly the socket's
`state` frame (`services.room_state`), and events are the room's frames (docs/realtime-protocol.md).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bidding.models import Auction
from trading.serializers import AwareDateTimeField, MoneyField, enum_field

AuctionFormatField = enum_field(Auction.Format, "AuctionFormatEnum")
AuctionDirectionField = enum_field(Auction.Direction, "AuctionDirectionEnum")
AuctionStatusField = enum_field(Auction.Status, "AuctionStatusEnum")


@extend_schema_field({"type": "integer", "minimum": 0})
class RawIntegerField(serializers.Field):
    """An integer as sent: the service checks the range and names the field in its message."""

    def to_internal_value(self, data):
        return data

    def to_representation(self, value):
        return value


@extend_schema_field(
    {"type": "string", "format": "decimal", "pattern": r"^\d{1,13}(\.\d{1,2})?$", "nullable": True}
)
class PriceTextField(serializers.Field):
    """Money on the way out, as the room sends it: a string or null."""

    def to_representation(self, value):
        return value


# --- Input ----------------------------------------------------------------------------------------


class AuctionCreateInputSerializer(serializers.Serializer):
    format = AuctionFormatField(default=Auction.Format.OPEN)
    direction = AuctionDirectionField(default=Auction.Direction.DESCENDING)
    start_price = MoneyField(help_text='起始价, e.g. "1000000.00"')
    step = MoneyField(help_text="竞价幅度: every improvement is a whole number of steps")
    max_change = MoneyField(
        required=False, allow_null=True, help_text="单次最大变动 (typo guard); null: no limit"
    )
    starts_at = AwareDateTimeField(
        help_text="after now and after the registration/deposit deadline"
    )
    duration_seconds = RawIntegerField(required=False, help_text="≥ 60 (default 1800)")
    extension_window_seconds = RawIntegerField(required=False, help_text="default 120")
    extension_seconds = RawIntegerField(required=False, help_text="default 120; 0: no extension")
    max_extensions = RawIntegerField(required=False, allow_null=True, help_text="null: no cap")
    min_participants = RawIntegerField(required=False, help_text="default 3")
    public_view = serializers.BooleanField(default=True, help_text="the public may watch")
    rounds = RawIntegerField(required=False, help_text="rounds format only (default 3)")
    turn_seconds = RawIntegerField(required=False, help_text="rounds format only (default 120)")
    pause_seconds = RawIntegerField(required=False, help_text="rounds format only (default 120)")


class AuctionBidInputSerializer(serializers.Serializer):
    price = MoneyField(help_text='a string, e.g. "997000.00"; a JSON number is refused')
    key = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="idempotency key, 1–64 characters (or the Idempotency-Key header): a retry with "
        "the same key and price gets the same answer, never a second bid",
    )


# --- Output ---------------------------------------------------------------------------------------


class AuctionInfoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.CharField()
    lot = serializers.CharField()
    format = AuctionFormatField()
    direction = AuctionDirectionField()
    status = AuctionStatusField()
    start_price = PriceTextField()
    step = PriceTextField()
    max_change = PriceTextField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(help_text="moves with anti-sniping extensions")
    extension_window_seconds = serializers.IntegerField()
    extension_seconds = serializers.IntegerField()
    max_extensions = serializers.IntegerField(allow_null=True)
    extensions_used = serializers.IntegerField()
    min_participants = serializers.IntegerField()
    best_price = PriceTextField()
    best_alias = serializers.CharField(allow_null=True)
    allowed_bid = PriceTextField(help_text="the least improving bid (≤ for reverse auctions)")
    accepted = serializers.IntegerField()
    failure_reason = serializers.CharField()
    turn_seconds = serializers.IntegerField()
    pause_seconds = serializers.IntegerField()
    rounds = serializers.IntegerField()


class AuctionOrganizationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AuctionParticipantSerializer(serializers.Serializer):
    alias = serializers.CharField(help_text="竞价人A, B…")
    price = PriceTextField()
    price_at = serializers.DateTimeField(allow_null=True)
    rank = serializers.IntegerField(allow_null=True)
    organization = AuctionOrganizationSerializer(
        required=False, help_text="supervisors live; everyone after the close"
    )


class AuctionYouSerializer(serializers.Serializer):
    admitted = serializers.BooleanField()
    alias = serializers.CharField()
    price = PriceTextField()
    initial_price = PriceTextField()
    rank = serializers.IntegerField(allow_null=True)
    eligibility = serializers.CharField(
        allow_null=True, help_text="null if the caller may bid, else the reason code"
    )


class AuctionResultSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    alias = serializers.CharField()
    organization = serializers.IntegerField()
    bidder = serializers.CharField()
    price = PriceTextField()
    at = serializers.DateTimeField()


class ClosingAuditSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    hash = serializers.CharField()


class AuctionEventSerializer(serializers.Serializer):
    """A room event (`started`, `bid`, `extended`, `round`, `closed`); the other fields depend on the
    type (docs/realtime-protocol.md)."""

    type = serializers.ChoiceField(choices=["started", "bid", "extended", "round", "closed"])
    seq = serializers.IntegerField()
    at = serializers.DateTimeField()


class AuctionStateSerializer(serializers.Serializer):
    type = serializers.CharField(help_text='always "state"')
    seq = serializers.IntegerField(help_text="the last room event this state includes")
    server_time = serializers.IntegerField(help_text="milliseconds since the epoch")
    view = serializers.ChoiceField(choices=["supervisor", "bidder", "staff", "public"])
    auction = AuctionInfoSerializer()
    participants = AuctionParticipantSerializer(many=True)
    you = AuctionYouSerializer(allow_null=True, help_text="bidders only")
    turns = serializers.ListField(child=serializers.DictField(), help_text="rounds format")
    history = AuctionEventSerializer(many=True, help_text="the last 100 room events")
    results = AuctionResultSerializer(many=True, allow_null=True, help_text="after the close")
    closing_audit = ClosingAuditSerializer(allow_null=True)


class AuctionAckSerializer(serializers.Serializer):
    type = serializers.CharField(help_text='always "ack"')
    key = serializers.CharField()
    seq = serializers.IntegerField(allow_null=True, help_text="null for a sealed initial bid")
    price = PriceTextField()
    at = serializers.DateTimeField(help_text="the server's decision time")
    ends_at = serializers.DateTimeField(allow_null=True, help_text="possibly extended")


class AuctionTimelineSerializer(serializers.Serializer):
    auction = serializers.IntegerField()
    status = AuctionStatusField()
    seq = serializers.IntegerField(help_text="the auction's last event")
    identified = serializers.BooleanField(
        help_text="events carry organizations: supervisors, or anyone after the close"
    )
    events = AuctionEventSerializer(many=True)
    next_after_seq = serializers.IntegerField(
        allow_null=True, help_text="pass as after_seq for the next page; null at the end"
    )
    result_pdf_url = serializers.CharField(
        allow_null=True, help_text="once finished, for those who may read the result"
    )
