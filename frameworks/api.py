"""REST endpoints of framework agreements (框架协议), at /api/v1/frameworks/ (see config/urls.py).

An agreement, its members and its awarded purchases are public (the 入围结果公告 and 成交结果公告
say them); the rest of what a caller sees is `frameworks.queries`'. Each write parses its body
strictly, calls one service — which checks who may act (403) and every rule (400/409) — and replies
with the agreement as the caller now sees it.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.actors import Actor
from frameworks import queries, services
from frameworks.models import Agreement, CallOff
from frameworks.serializers import (
    FrameworkAgreementSerializer,
    FrameworkConcludeSerializer,
    FrameworkOrderSerializer,
    FrameworkQuoteSerializer,
    FrameworkSummarySerializer,
    FrameworkTerminateSerializer,
)
from lib.api import READ_ERRORS, WRITE_ERRORS, page_of, paginated
from lib.errors import NotFound
from trading.models import Lot


def _agreement(pk: int) -> Agreement:
    found = Agreement.objects.select_related("lot__project").filter(pk=pk).first()
    if found is None:
        raise NotFound(_("未找到该框架协议。"))
    return found


def _reply(request: Request, pk: int, code: int = status.HTTP_200_OK) -> Response:
    view = queries.agreement_view(_agreement(pk), request.user)
    return Response(FrameworkAgreementSerializer(view).data, status=code)


@extend_schema(
    responses={200: page_of(FrameworkSummarySerializer)},
    description="框架协议 list (public), newest first.",
    operation_id="frameworks_list",
)
@api_view(["GET"])
@permission_classes([AllowAny])
def agreements(request: Request) -> Response:
    rows = Agreement.objects.select_related("lot__project").order_by("-concluded_at", "-id")
    return paginated(request, rows, FrameworkSummarySerializer)


@extend_schema(
    request=FrameworkConcludeSerializer,
    responses={201: FrameworkAgreementSerializer, **WRITE_ERRORS},
    description="订立框架协议 (the solicitation's agent) from its signed evaluation report: at least "
    "20 % and one compliant response are eliminated, none above the 最高限制单价 is admitted. "
    "Refusals: WRONG_METHOD, WRONG_STATUS, ALREADY_CONCLUDED, TOO_FEW_COMPLIANT, TERM_TOO_LONG, "
    "TERM_INVALID, SECOND_STAGE_METHODS_INVALID.",
)
@api_view(["POST"])
def conclude(request: Request) -> Response:
    payload = FrameworkConcludeSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    lot = Lot.objects.select_related("project").filter(pk=data["lot"]).first()
    if lot is None:
        raise NotFound(_("未找到该标段/包。"))
    agreement = services.conclude_agreement(
        Actor.from_request(request),
        lot,
        valid_until=data["valid_until"],
        second_stage_methods=data["second_stage_methods"],
        member_limit=data.get("member_limit"),
    )
    return _reply(request, agreement.pk, status.HTTP_201_CREATED)


@extend_schema(
    responses={200: FrameworkAgreementSerializer, 404: READ_ERRORS[404]},
    description="A framework agreement as the caller may see it: members and agreed prices and the "
    "awarded purchases for everyone; an invited member's own quote; after a second round's opening "
    "every quote for the agent, center staff and supervisors.",
)
@api_view(["GET"])
@permission_classes([AllowAny])
def agreement(request: Request, pk: int) -> Response:
    return _reply(request, pk)


@extend_schema(
    request=FrameworkOrderSerializer,
    responses={201: FrameworkAgreementSerializer, **WRITE_ERRORS},
    description="A purchase under the agreement (the agent): 直接选定 (`supplier`, optional "
    "`unit_price` ≤ the agreed price), 顺序轮候, or 二次竞价 (`closes_at` ≥ 1 working day ahead, "
    "optional `invited`). Refusals: AGREEMENT_NOT_IN_FORCE, METHOD_NOT_IN_AGREEMENT, NOT_A_MEMBER, "
    "PRICE_OVER_AGREEMENT, NO_MEMBER_MAY_TRADE, SECOND_ROUND_TOO_SHORT, SECOND_ROUND_TOO_FEW.",
)
@api_view(["POST"])
def orders(request: Request, pk: int) -> Response:
    found = _agreement(pk)
    payload = FrameworkOrderSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    services.place_order(
        Actor.from_request(request),
        found,
        method=data["method"],
        requirement=data["requirement"],
        quantity=data["quantity"],
        supplier=data.get("supplier"),
        unit_price=data.get("unit_price"),
        closes_at=data.get("closes_at"),
        invited=data.get("invited"),
    )
    return _reply(request, found.pk, status.HTTP_201_CREATED)


@extend_schema(
    request=FrameworkQuoteSerializer,
    responses={201: FrameworkAgreementSerializer, **WRITE_ERRORS},
    description="二次竞价报价 (an invited member's bid operator): one quote, sealed at once, at most "
    "the member's agreed price, before the close. Refusals: TOO_LATE, QUOTE_FIXED, "
    "PRICE_OVER_AGREEMENT.",
)
@api_view(["POST"])
def quote(request: Request, pk: int, cid: int) -> Response:
    found = _agreement(pk)
    call_off = CallOff.objects.filter(pk=cid, agreement=found).first()
    if call_off is None:
        raise NotFound(_("未找到该笔采购。"))
    payload = FrameworkQuoteSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    services.submit_quote(
        Actor.from_request(request), call_off, unit_price=payload.validated_data["unit_price"]
    )
    return _reply(request, found.pk, status.HTTP_201_CREATED)


@extend_schema(
    request=FrameworkTerminateSerializer,
    responses={200: FrameworkAgreementSerializer, **WRITE_ERRORS},
    description="终止框架协议 (the agent), with its reason. Refusal: AGREEMENT_NOT_IN_FORCE.",
)
@api_view(["POST"])
def terminate(request: Request, pk: int) -> Response:
    found = _agreement(pk)
    payload = FrameworkTerminateSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    services.terminate_agreement(
        Actor.from_request(request), found, reason=payload.validated_data["reason"]
    )
    return _reply(request, found.pk)
