"""The 单一来源 negotiation over the API: /api/v1/bidding/lots/<id>/single-source/ (GET the notice's
facts and the agreement; POST the agent's record of the negotiation and the agreed price, which sends
the result and the award notice). Thin: parse, the service authorizes and acts, reply."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.actors import Actor
from bidding import single_source
from lib.api import StrictSerializer
from lib.text import check_text
from trading.models import Lot
from trading.serializers import READ_ERRORS, WRITE_ERRORS, MoneyField


class AgreementInputSerializer(StrictSerializer):
    price = MoneyField(help_text="the agreed price: yuan as a string of ASCII digits, ≤ 2 decimals")
    minutes = serializers.CharField(max_length=single_source.RECORD_LIMIT)
    participants = serializers.CharField(max_length=1000)

    def validate_minutes(self, value: str) -> str:
        return check_text(value, field="minutes", max_length=single_source.RECORD_LIMIT)

    def validate_participants(self, value: str) -> str:
        return check_text(value, field="participants", max_length=1000)


class SupplierSerializer(serializers.Serializer):
    name = serializers.CharField()
    uscc = serializers.CharField()


class AgreementSerializer(serializers.Serializer):
    organization = serializers.IntegerField()
    price = serializers.CharField(help_text="yuan, two decimals")
    recorded_at = serializers.DateTimeField()
    minutes = serializers.CharField(
        allow_null=True, help_text="the parties', the agent's, staff's and supervisors' only"
    )
    participants = serializers.CharField(allow_null=True)


class SingleSourceSerializer(serializers.Serializer):
    lot = serializers.IntegerField()
    supplier = SupplierSerializer(allow_null=True, help_text="named in the public notice")
    notice_from = serializers.DateTimeField()
    notice_until = serializers.DateTimeField()
    negotiation_at = serializers.DateTimeField(
        help_text="the earliest moment to record the agreement"
    )
    open_objections = serializers.IntegerField()
    agreement = AgreementSerializer(allow_null=True)


def _state(request: Request, lot: Lot) -> dict[str, Any]:
    project = lot.project
    invitee = project.invitees.select_related("organization").first()
    agreed = single_source.agreement(lot)
    user = request.user
    sees_minutes = agreed is not None and single_source.may_read_minutes(user, lot, agreed)
    return {
        "lot": lot.pk,
        "supplier": (
            {"name": invitee.organization.name, "uscc": invitee.organization.uscc}
            if invitee
            else None
        ),
        "notice_from": project.documents_from,
        "notice_until": project.documents_until,
        "negotiation_at": project.bid_deadline,
        "open_objections": project.objections.filter(replied_at__isnull=True).count(),
        "agreement": (
            {
                "organization": agreed.organization_id,
                "price": str(agreed.price),
                "recorded_at": agreed.recorded_at,
                "minutes": agreed.minutes if sees_minutes else None,
                "participants": agreed.participants if sees_minutes else None,
            }
            if agreed
            else None
        ),
    }


@extend_schema(
    methods=["GET"],
    responses={200: SingleSourceSerializer, **READ_ERRORS},
    operation_id="bidding_single_source_retrieve",
    description="单一来源: the notice's supplier and period, objections still open, and the agreement.",
)
@extend_schema(
    methods=["POST"],
    request=AgreementInputSerializer,
    responses={201: SingleSourceSerializer, **WRITE_ERRORS},
    operation_id="bidding_single_source_agree",
    description="The project's agent records the negotiation and the agreed price (≤ the budget), "
    "after the notice and with no objection open; the result and the award notice follow.",
)
@api_view(["GET", "POST"])
def single_source_lot(request: Request, pk: int) -> Response:
    lot = single_source.single_source_lot(request.user, pk)
    if request.method == "POST":
        payload = AgreementInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        single_source.record_agreement(
            Actor.from_request(request),
            lot,
            price=data["price"],
            minutes=data["minutes"],
            participants=data["participants"],
        )
        return Response(SingleSourceSerializer(_state(request, lot)).data, status=201)
    return Response(SingleSourceSerializer(_state(request, lot)).data)
