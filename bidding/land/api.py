"""REST endpoints of the land listing (挂牌出让, issue 8), included at /api/v1/bidding/
(bidding/api_urls.py).

The bidding itself happens in the auction room (`/api/v1/bidding/auctions/{room}/`, the socket
`/ws/auctions/{room}/`); these endpoints are the listing around it: the project's agent puts a parcel
up, the designated staff member seals the reserve, listing bidders answer the windows (continue to
live bidding, accept the maximum price) and send a sealed offer, the winner signs the 成交确认书,
center staff record a refusal, and anyone reads the listing and, after the draw, the lottery record.

Each endpoint finds the listing the caller may see (404 otherwise: the project must be announced, or
the caller may view it), parses the body, calls one service — which checks the permission (403) and
every rule — and replies. Money travels as strings both ways; a JSON number is refused (see
`serializers.py`). Neither the reserve nor an offer's price is ever echoed back.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.actors import Actor
from accounts.models import User
from accounts.permissions import has_perm, require_perm
from bidding import access
from bidding.auction.batch import iso
from bidding.land import lottery, services
from bidding.land.serializers import (
    LandListingCreateInputSerializer,
    LandListingStateSerializer,
    LandListingSummarySerializer,
    LandLotteryRecordSerializer,
    LandOfferInputSerializer,
    LandOfferReceiptSerializer,
    LandRefusalInputSerializer,
    LandReserveInputSerializer,
    LandReserveSerializer,
    LandRespondInputSerializer,
    LandResponseSerializer,
)
from bidding.models import LandListing
from lib.api import paginated
from lib.canonical import sha256_hex
from lib.errors import DomainError, NotFound
from signing.serializers import SignedInputSerializer
from signing.services import parse_signed
from trading.serializers import READ_ERRORS, WRITE_ERRORS, page_of

PUBLIC_READ_ERRORS = {404: READ_ERRORS[404]}

LOTTERY_ALGORITHM = (
    "candidates = accepting organization ids, ascending; candidates_hash = SHA-256 of the canonical "
    'JSON {"listing": <id>, "candidates": [...]}; digest = HMAC-SHA256(key = bytes.fromhex(seed), '
    'message = f"{candidates_hash}:winner"); winner = candidates[int.from_bytes(digest, "big") '
    "mod len(candidates)]; SHA-256(seed) must equal seed_hash, published when the window opened."
)


def _actor(request: Request) -> Actor:
    return Actor.from_request(request)


def _may_see(user: Any, listing: LandListing) -> bool:
    project = listing.lot.project
    return project.status in access.ANNOUNCED or has_perm(user, "trading.view_project", project)


def _listing_for(request: Request, pk: int) -> LandListing:
    """The listing, or 404 if it does not exist or its project is not public to the caller."""
    listing = services.get_listing(pk)
    if not _may_see(request.user, listing):
        raise NotFound(_("挂牌项目不存在。"))
    return listing


def _stage(listing: LandListing) -> str:
    return LandListing.objects.values_list("stage", flat=True).get(pk=listing.pk)


def _reserve_staff(user_id: int) -> User:
    staff = User.objects.filter(pk=user_id).first()
    if staff is None:
        # The service's own refusal for a user who is not center staff.
        raise DomainError(_("底价录入人必须是交易中心工作人员。"), code="BAD_RESERVE_STAFF")
    return staff


# --- Setting up and reading -----------------------------------------------------------------------


@extend_schema(
    methods=["GET"],
    responses={200: LandListingStateSerializer, **PUBLIC_READ_ERRORS},
    operation_id="bidding_lot_land_listing_retrieve",
    description="The listing on a lot, as `GET /land-listings/{id}/`.",
)
@extend_schema(
    methods=["POST"],
    request=LandListingCreateInputSerializer,
    responses={201: LandListingStateSerializer, **WRITE_ERRORS},
    operation_id="bidding_lot_land_listing_create",
    description="The project's agent puts a parcel of a published 挂牌出让 project up for listing, "
    "with its price rules and timeline (notice ≥ 20 days, listing ≥ 10 working days, the "
    "registration and deposit deadlines before the close). Money is a string — a JSON number is "
    "refused (BAD_AMOUNT); times carry their offset; `reserve_staff` names the center staff member "
    "who alone may key in the reserve. Returns the listing's state.",
)
@api_view(["GET", "POST"])
@permission_classes([AllowAny])
def lot_listing(request: Request, pk: int) -> Response:
    lot = access.lot_for(request.user, pk)
    actor = _actor(request)
    if request.method == "GET":
        listing = LandListing.objects.filter(lot=lot).first()
        if listing is None:
            raise NotFound(_("该宗地没有挂牌。"))
        return Response(services.listing_state(actor, listing.pk))
    # Authorized before the body names a user: others learn nothing about user ids.
    require_perm(actor, "trading.manage_project", lot.project)
    payload = LandListingCreateInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    rules = dict(payload.validated_data)
    rules["reserve_staff"] = _reserve_staff(rules["reserve_staff"])
    listing = services.create_listing(actor, lot, **rules)
    return Response(services.listing_state(actor, listing.pk), status=status.HTTP_201_CREATED)


@extend_schema(
    parameters=[
        OpenApiParameter("limit", int, description="page size (default 50)"),
        OpenApiParameter("offset", int, description="rows to skip"),
    ],
    responses={200: page_of(LandListingSummarySerializer)},
    operation_id="bidding_land_listings_list",
    description="Every listing of an announced project, latest first (public). `stage` is as last "
    "moved by the clock.",
)
@api_view(["GET"])
@permission_classes([AllowAny])
def listings(request: Request) -> Response:
    rows = LandListing.objects.select_related("lot__project", "winner")
    if not has_perm(request.user, "trading.view_project"):
        visible = Q(lot__project__status__in=access.ANNOUNCED)
        rows = rows.filter(visible)
    return paginated(
        request, rows.order_by("-listing_starts_at", "-pk"), LandListingSummarySerializer
    )


@extend_schema(
    responses={200: LandListingStateSerializer, **PUBLIC_READ_ERRORS},
    description="The listing for the caller (`services.listing_state`), brought up to the server "
    "time first: the parcel, the rules, the stage and its window, the listing's highest bid, the "
    "room to watch and the result. A supplier also gets `you` (what it may do now); center staff "
    "and supervisors see the reserve once the outcome is decided — nobody else ever does.",
)
@api_view(["GET"])
@permission_classes([AllowAny])
def listing_detail(request: Request, pk: int) -> Response:
    listing = _listing_for(request, pk)
    return Response(services.listing_state(_actor(request), listing.pk))


# --- The reserve ----------------------------------------------------------------------------------


@extend_schema(
    request=LandReserveInputSerializer,
    responses={201: LandReserveSerializer, **WRITE_ERRORS},
    description="The designated staff member keys in the reserve (底价) once, before the lock time "
    "(RESERVE_LOCKED, RESERVE_TOO_LATE). It is sealed to the project key at once; the answer "
    "carries the time and the hash of the ciphertext, never the amount.",
)
@api_view(["POST"])
def reserve(request: Request, pk: int) -> Response:
    listing = _listing_for(request, pk)
    payload = LandReserveInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    sealed = services.set_reserve(_actor(request), listing, payload.validated_data["amount"])
    return Response(
        {
            "listing": sealed.pk,
            "reserve_set": True,
            "reserve_set_at": iso(sealed.reserve_set_at),
            "reserve_sha256": sealed.reserve_sha256,
            "reserve_lock_at": iso(services.reserve_lock_time(sealed)),
        },
        status=status.HTTP_201_CREATED,
    )


# --- A listing bidder's answers -------------------------------------------------------------------


@extend_schema(
    request=LandRespondInputSerializer,
    responses={201: LandResponseSerializer, **WRITE_ERRORS},
    description="A listing bidder answers inside the window: `continue` while the listing awaits "
    "confirmation (≥ 2 continuing → live bidding), `accept_cap` while the maximum-price lottery "
    "is open. One answer per kind, final (ALREADY_ANSWERED); outside the window WINDOW_CLOSED; "
    "only suppliers that placed a valid listing bid (403). Continuing (`continue`, true) is the "
    "signed act land.confirm (target bidding.landlisting, no digest): without a signature "
    "SIGNATURE_REQUIRED; declining is not signed.",
)
@api_view(["POST"])
def respond(request: Request, pk: int) -> Response:
    listing = _listing_for(request, pk)
    payload = LandRespondInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    answer = services.respond(
        _actor(request),
        listing,
        kind=payload.validated_data["kind"],
        answer=payload.validated_data["answer"],
        signed=parse_signed(payload.validated_data),
    )
    return Response(
        {
            "listing": listing.pk,
            "kind": answer.kind,
            "answer": answer.answer,
            "answered_at": iso(answer.answered_at),
            "stage": _stage(listing),
        },
        status=status.HTTP_201_CREATED,
    )


@extend_schema(
    request=LandOfferInputSerializer,
    responses={201: LandOfferReceiptSerializer, **WRITE_ERRORS},
    description="一次性报价 at the maximum price: once per listing bidder (ALREADY_OFFERED), inside "
    "the window (WINDOW_CLOSED), not below the maximum price nor above the ceiling "
    "(OFFER_OUT_OF_RANGE); a price equal to another bidder's is refused (DUPLICATE_PRICE). The "
    "price is a string (a JSON number: BAD_PRICE), sealed at once; the receipt never echoes it.",
)
@api_view(["POST"])
def offer(request: Request, pk: int) -> Response:
    listing = _listing_for(request, pk)
    payload = LandOfferInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    sealed = services.submit_offer(_actor(request), listing, payload.validated_data["price"])
    return Response(
        {
            "listing": listing.pk,
            "submitted_at": iso(sealed.submitted_at),
            "sealed_sha256": sha256_hex(bytes(sealed.sealed)),
            "stage": _stage(listing),
        },
        status=status.HTTP_201_CREATED,
    )


# --- After the deal -------------------------------------------------------------------------------


@extend_schema(
    request=SignedInputSerializer,
    responses={200: LandListingStateSerializer, **WRITE_ERRORS},
    description="The winner signs the 成交确认书 (act land.deal, target bidding.landlisting, digest "
    "= `you.confirmation_sha256` of the listing's state: the hash the unsigned PDF prints): its "
    "deposit becomes 定金 and then part of the price. Only the winner (403), once "
    "(ALREADY_SIGNED), while the deal stands (WRONG_STATUS); SIGNATURE_* / CERTIFICATE_* when "
    "the signature does not hold.",
)
@api_view(["POST"])
def sign(request: Request, pk: int) -> Response:
    listing = _listing_for(request, pk)
    payload = SignedInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    services.sign_confirmation(
        _actor(request), listing, signed=parse_signed(payload.validated_data)
    )
    return Response(services.listing_state(_actor(request), listing.pk))


@extend_schema(
    request=LandRefusalInputSerializer,
    responses={200: LandListingStateSerializer, **WRITE_ERRORS},
    description="Center staff record that the winner refused the 成交确认书 or the contract: no "
    "deal, its deposit is forfeited and it is barred. Only before signing (WRONG_STATUS); the "
    "reason is required (REASON_REQUIRED).",
)
@api_view(["POST"])
def refusal(request: Request, pk: int) -> Response:
    listing = _listing_for(request, pk)
    payload = LandRefusalInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    services.record_refusal(_actor(request), listing, reason=payload.validated_data["reason"])
    return Response(services.listing_state(_actor(request), listing.pk))


# --- The lottery ----------------------------------------------------------------------------------


@extend_schema(
    responses={200: LandLotteryRecordSerializer, **PUBLIC_READ_ERRORS},
    description="The maximum-price lottery's record, public once drawn (404 before): the revealed "
    "seed, the hash committed when the window opened, the candidates and the winner, with the "
    "server's own re-check (`lottery.verify`) — anyone can recompute it from `algorithm`.",
)
@api_view(["GET"])
@permission_classes([AllowAny])
def lottery_record(request: Request, pk: int) -> Response:
    listing = _listing_for(request, pk)
    listing = services.get_listing(listing.pk)
    drawn = listing.lottery or {}
    if "drawn_at" not in drawn:
        raise NotFound(_("摇号尚未进行。"))
    problems = lottery.verify(drawn, listing.pk)
    return Response(
        {
            "listing": listing.pk,
            "seed": drawn["seed"],
            "seed_hash": drawn["seed_hash"],
            "candidates": drawn["candidates"],
            "candidates_hash": drawn["candidates_hash"],
            "winner": drawn["winner"],
            "winner_name": (listing.winner.name if listing.winner_id == drawn["winner"] else None),
            "drawn_at": drawn["drawn_at"],
            "algorithm": LOTTERY_ALGORITHM,
            "verification": {"ok": not problems, "problems": problems},
        }
    )
