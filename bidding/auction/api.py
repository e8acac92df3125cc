"""REST endpoints of the live auction (issue 7), included at /api/v1/bidding/ (bidding/api_urls.py).

The bid room's socket (`/ws/auctions/<id>/`) is the live channel; these endpoints are the same engine
for scripts and for clients that cannot keep a socket: read the state (the socket's `state` frame for
the caller's view), place a bid (one `place_bid`: the ack, or the refusal in the error shape), read the
timeline, and — for the project's agent — set up the auction and publish its result.

Each endpoint finds the auction the caller may see (`services.require_viewer`: 404 otherwise), parses
the body, calls one service — which checks the permission (403) and every rule — and replies. Responses
are the services' own dicts (the socket's frames), so the API and the room never disagree; the
serializers in `serializers.py` document them.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.actors import Actor
from bidding import access
from bidding.auction import pdf, services
from bidding.auction.serializers import (
    AuctionAckSerializer,
    AuctionBidInputSerializer,
    AuctionCreateInputSerializer,
    AuctionStateSerializer,
    AuctionTimelineSerializer,
)
from bidding.models import Auction, AuctionEvent
from bidding.serializers import PublicitySerializer
from lib.api import READ_ERRORS, WRITE_ERRORS, ErrorSerializer, error_body
from lib.errors import NotFound, NotPermitted
from lib.numbers import query_integer

PUBLIC_READ_ERRORS = {404: READ_ERRORS[404]}
TIMELINE_PAGE = 500
TIMELINE_MAX = 1000

# How a refused bid answers: the bid itself is malformed (400), the caller has no seat (403), or the
# room's state does not allow it now (409: not started, closed, beaten, not your turn, key reused).
REFUSAL_STATUS = {
    "BAD_PRICE": status.HTTP_400_BAD_REQUEST,
    "BAD_KEY": status.HTTP_400_BAD_REQUEST,
    "NOT_STEP_MULTIPLE": status.HTTP_400_BAD_REQUEST,
    "TOO_FAR": status.HTTP_400_BAD_REQUEST,
    "ABOVE_START": status.HTTP_400_BAD_REQUEST,
    "NOT_PARTICIPANT": status.HTTP_403_FORBIDDEN,
    "ORG_BARRED": status.HTTP_403_FORBIDDEN,
    "ORG_INACTIVE": status.HTTP_403_FORBIDDEN,
    "ORGANIZATION_NOT_APPROVED": status.HTTP_403_FORBIDDEN,
    "ACCOUNT_DISABLED": status.HTTP_403_FORBIDDEN,
    "ORG_ROLE_REQUIRED": status.HTTP_403_FORBIDDEN,
    "RETRY": status.HTTP_503_SERVICE_UNAVAILABLE,
}


def _actor(request: Request) -> Actor:
    return Actor.from_request(request)


def _visible(request: Request, pk: int) -> tuple[Auction, str]:
    """The auction and the caller's view of it; 404 if it does not exist or the caller may not watch
    it. Reads change nothing: starts, rounds and closes are the clock's and the rooms' (and a bid's:
    `place_bids` advances the auction under its lock before deciding)."""
    auction = services.get_auction(pk)
    return auction, services.require_viewer(_actor(request), auction)


def _lot_auction(request: Request, pk: int) -> Auction:
    lot = access.lot_for(request.user, pk)
    auction = Auction.objects.filter(lot=lot, phase=Auction.Phase.MAIN).first()
    if auction is None:
        raise NotFound(_("该标段没有网上竞价。"))
    return auction


# --- Setting up and reading the room --------------------------------------------------------------


@extend_schema(
    methods=["GET"],
    responses={200: AuctionStateSerializer, **PUBLIC_READ_ERRORS},
    operation_id="bidding_lot_auction_retrieve",
    description="The state of a lot's auction, as `GET /auctions/{id}/`.",
)
@extend_schema(
    methods=["POST"],
    request=AuctionCreateInputSerializer,
    responses={201: AuctionStateSerializer, **WRITE_ERRORS},
    operation_id="bidding_lot_auction_create",
    description="The project's agent fixes the auction's rules on a lot of a published 电子反拍 "
    "project; they cannot change later. Money is a string; `starts_at` carries its offset and falls "
    "after the registration/deposit deadline. Returns the room's state.",
)
@api_view(["GET", "POST"])
@permission_classes([AllowAny])
def lot_auction(request: Request, pk: int) -> Response:
    if request.method == "GET":
        auction = _lot_auction(request, pk)
        return Response(services.room_state(_actor(request), auction.pk))
    lot = access.lot_for(request.user, pk)
    payload = AuctionCreateInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    auction = services.create_auction(_actor(request), lot, **payload.validated_data)
    return Response(
        services.room_state(_actor(request), auction.pk), status=status.HTTP_201_CREATED
    )


@extend_schema(
    responses={200: AuctionStateSerializer, **PUBLIC_READ_ERRORS},
    description="The room's state for the caller — exactly the socket's `state` frame: supervisors see "
    "identities live; bidders, staff and the agent see aliases until the close (a bidder also gets "
    "`you`); the public only if the auction allows public viewing (404 otherwise); a land phase "
    "names nobody but to supervisors. A read: it changes nothing (the clock closes a room on time).",
)
@api_view(["GET"])
@permission_classes([AllowAny])
def auction_state(request: Request, pk: int) -> Response:
    return Response(services.room_state(_actor(request), services.get_auction(pk).pk))


# --- Bidding --------------------------------------------------------------------------------------


@extend_schema(
    request=AuctionBidInputSerializer,
    responses={
        200: AuctionAckSerializer,
        400: ErrorSerializer,
        403: ErrorSerializer,
        404: ErrorSerializer,
        409: ErrorSerializer,
    },
    parameters=[
        OpenApiParameter(
            "Idempotency-Key",
            str,
            location=OpenApiParameter.HEADER,
            required=False,
            description="the idempotency key, if not in the body",
        )
    ],
    description="A bidder places a bid, decided against the server's clock under the auction's lock "
    "(the same engine as the socket). 200 with the ack once committed; a refusal answers in the "
    "error shape with the room's refusal code (docs/realtime-protocol.md): 400 for a malformed "
    "bid (BAD_PRICE, BAD_KEY, NOT_STEP_MULTIPLE, TOO_FAR, ABOVE_START), 403 NOT_PARTICIPANT or the "
    "integrity gate's ORG_BARRED / ORG_INACTIVE / ORGANIZATION_NOT_APPROVED, ACCOUNT_DISABLED or "
    "ORG_ROLE_REQUIRED "
    "(checked at every bid), 409 when the "
    "room does not allow it now (NOT_STARTED, CLOSED, NOT_IMPROVING, NOT_YOUR_TURN, "
    "INITIAL_REQUIRED, KEY_REUSED). The key is required; a retry with the same key and price gets "
    "the stored answer.",
)
@api_view(["POST"])
def place_bid(request: Request, pk: int) -> Response:
    auction, kind = _visible(request, pk)
    if kind != "bidder":
        raise NotPermitted(_("只有竞价人可以出价。"))
    payload = AuctionBidInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    key = data.get("key") or request.headers.get("Idempotency-Key", "")
    answer = services.place_bid(_actor(request), auction, data["price"], key)
    if answer.accepted:
        return Response(answer.frame())
    return Response(
        error_body(answer.code, str(answer.message), {"key": answer.key}),
        status=REFUSAL_STATUS.get(answer.code, status.HTTP_409_CONFLICT),
    )


# --- The timeline and the result ------------------------------------------------------------------


def _after_seq(request: Request) -> tuple[int, int]:
    after = query_integer(request.query_params, "after_seq")
    limit = query_integer(request.query_params, "limit", minimum=1)
    return after or 0, min(limit or TIMELINE_PAGE, TIMELINE_MAX)


@extend_schema(
    parameters=[
        OpenApiParameter("after_seq", int, description="events after this sequence number"),
        OpenApiParameter("limit", int, description=f"at most {TIMELINE_MAX} (default 500)"),
    ],
    responses={200: AuctionTimelineSerializer, **PUBLIC_READ_ERRORS},
    description="The room's events in sequence order (started, bid, extended, round, closed), as "
    "the socket sent them. Organizations appear only for supervisors, or for everyone once the "
    "auction is closed; others get the anonymous copy (aliases).",
)
@api_view(["GET"])
@permission_classes([AllowAny])
def timeline(request: Request, pk: int) -> Response:
    auction, kind = _visible(request, pk)
    after, limit = _after_seq(request)
    reveal = services.identified(kind, auction)
    rows = list(
        AuctionEvent.objects.filter(auction=auction, seq__gt=after)
        .order_by("seq")
        .values_list("data", flat=True)[: limit + 1]
    )
    more = len(rows) > limit
    events: list[dict[str, Any]] = rows[:limit]
    if not reveal:
        events = [services.anonymize(event) for event in events]
    readable = auction.finished and pdf.may_read(_actor(request), auction)
    return Response(
        {
            "auction": auction.pk,
            "status": auction.status,
            "seq": auction.seq,
            "identified": reveal,
            "events": events,
            "next_after_seq": events[-1]["seq"] if more else None,
            "result_pdf_url": reverse("auction_result_pdf", args=[auction.pk])
            if readable
            else None,
        }
    )


@extend_schema(
    request=None,
    responses={201: PublicitySerializer, **WRITE_ERRORS},
    description="The project's agent publishes the closed auction's ranking (at most 3) as the "
    "中标（成交）候选人公示; the award follows the tender's path (`/lots/{id}/publicity/`, "
    "`/lots/{id}/award/`).",
)
@api_view(["POST"])
def publish_result(request: Request, pk: int) -> Response:
    auction, _kind = _visible(request, pk)
    publicity = services.publish_result(_actor(request), auction)
    publicity.lot = auction.lot
    return Response(
        PublicitySerializer(
            {
                "lot": publicity.lot,
                "status": publicity.status,
                "candidates": publicity.candidates,
                "published_at": publicity.published_at,
                "ends_at": publicity.ends_at,
                "suspended": False,
                "refused": publicity.refused,
            }
        ).data,
        status=status.HTTP_201_CREATED,
    )
