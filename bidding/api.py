"""REST endpoints of sealed bidding, the opening, evaluation, publicity and award (issue 6).

Each endpoint finds what the caller may see through `bidding.access` (404 otherwise), parses the body,
calls one service — which checks the permission (403) and every rule — and replies. The opening record,
candidate publicity and the award are public (no login); everything else needs one.

No endpoint can return a price before the deadline: a bid holds only ciphertext until its bidder
decrypts it at the opening, and counts before the deadline are numbers, never names.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.actors import Actor
from accounts.models import Role
from bidding import access, negotiation, services
from bidding import evaluation as evaluating
from bidding.models import (
    Bid,
    Evaluation,
    EvaluationMember,
    Opening,
    OpeningResponse,
    Publicity,
    PublicityObjection,
    Score,
)
from bidding.serializers import (
    AwardSerializer,
    BidDecryptInputSerializer,
    BidReceiptSerializer,
    BidSerializer,
    BidSubmitInputSerializer,
    BidWithdrawInputSerializer,
    ContractInputSerializer,
    EvaluationBidSerializer,
    EvaluationConfirmInputSerializer,
    EvaluationScoreInputSerializer,
    EvaluationScoreSerializer,
    EvaluationSeatSerializer,
    EvaluationSerializer,
    EvaluationStartInputSerializer,
    FinalCallInputSerializer,
    FinalQuoteInputSerializer,
    FinalQuoteReceiptSerializer,
    LotBiddingStatusSerializer,
    NegotiationRoundInputSerializer,
    NegotiationRoundSerializer,
    NegotiationSerializer,
    OpeningAnswerInputSerializer,
    OpeningRecordSerializer,
    OpeningRespondInputSerializer,
    OpeningResponseSerializer,
    PublicityObjectionInputSerializer,
    PublicityObjectionSerializer,
    PublicityReplyInputSerializer,
    PublicitySerializer,
    RefusalInputSerializer,
)
from experts.models import DrawRequest
from lib.api import paginated
from lib.edge import FormParser, JSONParser, MultiPartParser
from lib.errors import DomainError, NotFound, NotPermitted
from lib.uploads import accepts_uploads
from signing.serializers import SignedInputSerializer
from signing.services import Signed, parse_signed
from trading.serializers import READ_ERRORS, WRITE_ERRORS, page_of

PUBLIC_READ_ERRORS = {404: READ_ERRORS[404]}


def _actor(request: Request) -> Actor:
    return Actor.from_request(request)


def _signed(request: Request) -> Signed | None:
    """The act's `signing_challenge` and `signature`, from a JSON body or a form."""
    data = request.data
    return parse_signed(data if isinstance(data, Mapping) else {})


def _bids(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("lot", "lot__project", "organization").prefetch_related("files")


# --- The lot --------------------------------------------------------------------------------------


def _status(request: Request, lot: Any) -> dict[str, Any]:
    user = request.user
    opening = access.opening_of(lot)
    oversees = access.oversees(user, lot.project)
    stage = access.stage_of(lot, opening)
    bid = access.own_bid(user, lot)
    return {
        "lot": lot,
        "stage": stage,
        "stage_label": str(access.STAGE_LABELS.get(stage, stage)),
        "bid_deadline": lot.project.bid_deadline,
        "server_time": timezone.now(),
        "opening": opening,
        "bids_count": access.bids_count(lot) if oversees else None,
        "progress": access.progress(lot) if oversees and opening is not None else None,
        "my_bid": bid,
        "bid_signing": _bid_signing(lot, bid) if access.organization_id(user) else None,
    }


def _bid_signing(lot: Any, bid: Bid | None) -> dict[str, Any]:
    act, target_type, target_id = services.bid_act(lot, bid)
    return {"act": act, "target_type": target_type, "target_id": target_id}


@extend_schema(
    responses={200: LotBiddingStatusSerializer, **PUBLIC_READ_ERRORS},
    description="Where a lot stands. Anyone may read the stage and the deadline; the project's agent, "
    "center staff and supervisors also get the number of bids (never who, never a price) and the "
    "decryption progress; a bidder gets its own bid. Runs overdue opening steps first.",
)
@api_view(["GET"])
@permission_classes([AllowAny])
def lot_status(request: Request, pk: int) -> Response:
    lot = access.lot_for(request.user, pk)
    return Response(LotBiddingStatusSerializer(_status(request, lot)).data)


# --- Bids -----------------------------------------------------------------------------------------


@accepts_uploads(Role.SUPPLIER)
@extend_schema(
    request={"multipart/form-data": BidSubmitInputSerializer},
    responses={201: BidReceiptSerializer, **WRITE_ERRORS},
    description="Seal and submit (or replace) the caller's bid on a lot before the deadline. The "
    "price is a string; the decryption code (≥ 8 characters) is needed at the opening and cannot "
    "be recovered. Signed: `bid.submit` on the lot, or `bid.modify` on the standing bid (the lot "
    "status' `bid_signing`), with the digest the bid commitment: the SHA-256 of "
    "bidhall-bid-v1, the price (two decimals), bid_nonce and each file's SHA-256, one per line "
    "(docs/signing.md). Returns the receipt.",
)
@api_view(["POST"])
@parser_classes([MultiPartParser, FormParser, JSONParser])
def submit_bid(request: Request, pk: int) -> Response:
    lot = access.lot_for(request.user, pk)
    payload = BidSubmitInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    bid = services.submit_bid(
        _actor(request),
        lot,
        price=data["price"],
        decryption_code=data["decryption_code"],
        files=data["files"],
        nonce=data.get("bid_nonce") or None,
        signed=_signed(request),
    )
    bid = _bids(Bid.objects.filter(pk=bid.pk)).get()
    return Response(BidReceiptSerializer(bid).data, status=status.HTTP_201_CREATED)


@extend_schema(
    responses={200: page_of(BidSerializer), **READ_ERRORS},
    operation_id="bidding_bids_mine",
    description="The caller's organization's bids, and only those.",
)
@api_view(["GET"])
def my_bids(request: Request) -> Response:
    org = access.organization_id(request.user)
    rows = _bids(Bid.objects.filter(organization_id=org or 0)).order_by("-submitted_at", "-pk")
    return paginated(request, rows, BidSerializer)


@extend_schema(responses={200: BidSerializer, **READ_ERRORS})
@api_view(["GET"])
def bid_detail(request: Request, pk: int) -> Response:
    """One bid: its own organization's, or — once the opening record is out — any bid of a project
    the caller oversees."""
    return Response(BidSerializer(access.bid_for(request.user, pk)).data)


@extend_schema(responses={200: BidReceiptSerializer, **READ_ERRORS})
@api_view(["GET"])
def bid_receipt(request: Request, pk: int) -> Response:
    return Response(BidReceiptSerializer(access.own_bid_for(request.user, pk)).data)


@extend_schema(
    request=BidWithdrawInputSerializer,
    responses={200: BidSerializer, **WRITE_ERRORS},
    description="Withdraw the caller's bid before the deadline; signed `bid.withdraw` on the bid.",
)
@api_view(["POST"])
def withdraw_bid(request: Request, pk: int) -> Response:
    BidWithdrawInputSerializer(data=request.data).is_valid(raise_exception=True)
    bid = services.withdraw_bid(
        _actor(request), access.bid_for(request.user, pk), signed=_signed(request)
    )
    return Response(BidSerializer(access.bid_for(request.user, bid.pk)).data)


@extend_schema(
    request=BidDecryptInputSerializer,
    responses={200: BidSerializer, **WRITE_ERRORS},
    description="The bidder decrypts its own bid online during the opening's decryption window. A "
    "wrong code answers WRONG_CODE and may be retried until the window closes.",
)
@api_view(["POST"])
def decrypt_bid(request: Request, pk: int) -> Response:
    bid = access.bid_for(request.user, pk)
    access.catch_up(bid.lot)
    payload = BidDecryptInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    services.decrypt_bid(
        _actor(request), bid, decryption_code=payload.validated_data["decryption_code"]
    )
    return Response(BidSerializer(access.bid_for(request.user, bid.pk)).data)


# --- The opening record ---------------------------------------------------------------------------


def _record(opening: Opening) -> dict[str, Any]:
    return {
        "id": opening.pk,
        "lot": opening.lot,
        "stage": opening.stage,
        "started_at": opening.started_at,
        "finished_at": opening.finished_at,
        "failure_reason": opening.failure_reason,
        "objections_until": opening.objections_until,
        "record": opening.record,
        "record_sha256": opening.record_sha256,
        "pdf_url": reverse("opening_record_pdf", args=[opening.lot_id]),
    }


@extend_schema(
    responses={200: OpeningRecordSerializer, **PUBLIC_READ_ERRORS},
    description="The published opening record (public once the lot is opened or has failed).",
)
@api_view(["GET"])
@permission_classes([AllowAny])
def opening_record(request: Request, pk: int) -> Response:
    lot = access.lot_for(request.user, pk)
    opening = access.published_record(lot)
    opening.lot = lot
    return Response(OpeningRecordSerializer(_record(opening)).data)


@extend_schema(
    methods=["GET"],
    responses={200: OpeningResponseSerializer(many=True), **READ_ERRORS},
    operation_id="bidding_opening_responses_list",
    description="Confirmations and objections: all of them for the project's agent, center staff "
    "and supervisors; a bidder's own otherwise.",
)
@extend_schema(
    methods=["POST"],
    request=OpeningRespondInputSerializer,
    responses={201: OpeningResponseSerializer, **WRITE_ERRORS},
    description="A bidder confirms the record or objects (objection text required) in the window, "
    'signed: `opening.confirm` or `opening.object` (details {"text": objection}) on the opening '
    "(target id: the lot status' opening id), digest the record's record_sha256.",
)
@api_view(["GET", "POST"])
def opening_responses(request: Request, pk: int) -> Response:
    lot = access.lot_for(request.user, pk)
    opening = access.published_record(lot)
    if request.method == "POST":
        payload = OpeningRespondInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        response = services.respond_to_record(
            _actor(request),
            opening,
            confirmed=payload.validated_data["confirmed"],
            objection=payload.validated_data["objection"],
            signed=_signed(request),
        )
        return Response(OpeningResponseSerializer(response).data, status=status.HTTP_201_CREATED)
    rows = opening.responses.select_related("organization").order_by("responded_at", "pk")
    if not access.oversees(request.user, lot.project):
        rows = rows.filter(organization_id=access.organization_id(request.user) or 0)
    return Response(OpeningResponseSerializer(rows, many=True).data)


@extend_schema(
    request=OpeningAnswerInputSerializer, responses={200: OpeningResponseSerializer, **WRITE_ERRORS}
)
@api_view(["POST"])
def answer_record_objection(request: Request, pk: int) -> Response:
    response = (
        OpeningResponse.objects.select_related("opening", "opening__lot", "organization")
        .filter(pk=pk)
        .first()
    )
    if response is None:
        raise NotFound(_("未找到该回复。"))
    lot = access.lot_for(request.user, response.opening.lot_id)
    if not (
        access.oversees(request.user, lot.project)
        or access.organization_id(request.user) == response.organization_id
    ):
        raise NotFound(_("未找到该回复。"))
    payload = OpeningAnswerInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    answered = services.answer_record_objection(
        _actor(request), response, answer=payload.validated_data["answer"]
    )
    return Response(OpeningResponseSerializer(answered).data)


# --- Evaluation -----------------------------------------------------------------------------------


def _evaluation(request: Request, evaluation: Evaluation) -> dict[str, Any]:
    user = request.user
    member = access.member_of(user, evaluation)
    sees_all = access.may_see_all_scores(user)
    report = None
    if access.may_see_report(user, evaluation):
        report = {**evaluation.report, "report_sha256": evaluation.report_sha256}
    return {
        "id": evaluation.pk,
        "lot": evaluation.lot,
        "status": evaluation.status,
        "scheme": evaluation.scheme,
        "price_weight": evaluation.price_weight,
        "started_at": evaluation.started_at,
        "due_at": evaluation.due_at,
        "extended": evaluation.extended,
        "reported_at": evaluation.reported_at,
        "confirmed_at": evaluation.confirmed_at,
        "report": report,
        "members": list(evaluation.members.select_related("expert").order_by("pk"))
        if sees_all
        else None,
        "signed": member.confirmed_at is not None if member is not None else None,
    }


@extend_schema(
    responses={200: EvaluationSerializer, **READ_ERRORS},
    description="The evaluation of a lot: center staff and supervisors see all of it; committee "
    "members their part; the project's agent the report once every member signed.",
)
@api_view(["GET"])
def evaluation_detail(request: Request, pk: int) -> Response:
    lot = access.lot_for(request.user, pk)
    evaluation = access.evaluation_for(request.user, lot)
    return Response(EvaluationSerializer(_evaluation(request, evaluation)).data)


@extend_schema(
    request=EvaluationStartInputSerializer,
    responses={201: EvaluationSerializer, **WRITE_ERRORS},
    description="Center staff seat the committee of a signed-off draw of the project on an opened "
    "lot.",
)
@api_view(["POST"])
def start_evaluation(request: Request, pk: int) -> Response:
    lot = access.lot_for(request.user, pk)
    if not access.is_staff(request.user):
        raise NotPermitted(_("您没有执行此操作的权限。"))
    payload = EvaluationStartInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    draw = DrawRequest.objects.filter(pk=data["draw"], project_id=lot.project_id).first()
    if draw is None:
        raise DomainError(_("须使用本项目经监督确认的专家抽取结果。"), code="DRAW_NOT_READY")
    evaluation = evaluating.start_evaluation(
        _actor(request),
        lot,
        draw=draw,
        scheme=data["scheme"],
        price_weight=data["price_weight"] if data["price_weight"] is not None else Decimal("1"),
        hours=data["hours"],
    )
    return Response(
        EvaluationSerializer(_evaluation(request, evaluation)).data, status=status.HTTP_201_CREATED
    )


@extend_schema(
    responses={200: EvaluationBidSerializer(many=True), **READ_ERRORS},
    operation_id="bidding_evaluation_bids_list",
    description="The bids under evaluation, for committee members while the evaluation runs.",
)
@api_view(["GET"])
def evaluation_bids(request: Request, pk: int) -> Response:
    lot = access.lot_for(request.user, pk)
    access.evaluation_for(request.user, lot)
    bids = evaluating.visible_bids(_actor(request), lot)
    rows = _bids(Bid.objects.filter(pk__in=[b.pk for b in bids])).order_by("pk")
    return Response(EvaluationBidSerializer(rows, many=True).data)


@extend_schema(
    methods=["GET"],
    responses={200: EvaluationScoreSerializer(many=True), **READ_ERRORS},
    operation_id="bidding_evaluation_scores_list",
    description="Every score for center staff and supervisors; a member's own scores otherwise.",
)
@extend_schema(
    methods=["POST"],
    request=EvaluationScoreInputSerializer,
    responses={200: EvaluationScoreSerializer, **WRITE_ERRORS},
    description="A member scores one bid (again to change it): compliant or not (a rejection needs "
    "a reason), technical points 0–100 for the comprehensive scheme.",
)
@api_view(["GET", "POST"])
def evaluation_scores(request: Request, pk: int) -> Response:
    lot = access.lot_for(request.user, pk)
    evaluation = access.evaluation_for(request.user, lot)
    if request.method == "POST":
        payload = EvaluationScoreInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        bid = Bid.objects.filter(pk=data["bid"], lot=lot).first()
        if bid is None:
            raise NotFound(_("未找到该投标文件。"))
        score = evaluating.score_bid(
            _actor(request),
            bid,
            compliant=data["compliant"],
            technical_points=data["technical_points"],
            rejection_reason=data["rejection_reason"],
        )
        score = Score.objects.select_related("member__expert").get(pk=score.pk)
        return Response(EvaluationScoreSerializer(score).data)
    rows = Score.objects.filter(member__evaluation=evaluation).select_related("member__expert")
    if not access.may_see_all_scores(request.user):
        member = access.member_of(request.user, evaluation)
        # A member's part ends with the signed report: outside the evaluation, nothing.
        if member is None or evaluation.status == Evaluation.Status.CONFIRMED:
            raise NotPermitted(_("您没有执行此操作的权限。"))
        rows = rows.filter(member=member)
    return Response(EvaluationScoreSerializer(rows.order_by("bid_id", "member_id"), many=True).data)


@extend_schema(request=None, responses={200: EvaluationSerializer, **WRITE_ERRORS})
@api_view(["POST"])
def evaluation_more_time(request: Request, pk: int) -> Response:
    """A member says the time is not enough; with more than a third asking it is extended."""
    lot = access.lot_for(request.user, pk)
    access.evaluation_for(request.user, lot)
    evaluation = evaluating.request_more_time(_actor(request), lot)
    return Response(EvaluationSerializer(_evaluation(request, evaluation)).data)


@extend_schema(request=None, responses={200: EvaluationSerializer, **WRITE_ERRORS})
@api_view(["POST"])
def compile_report(request: Request, pk: int) -> Response:
    """Center staff compile the report from the members' scores and the mandatory rejections."""
    lot = access.lot_for(request.user, pk)
    access.evaluation_for(request.user, lot)
    evaluation = evaluating.compile_report(_actor(request), lot)
    return Response(EvaluationSerializer(_evaluation(request, evaluation)).data)


@extend_schema(
    request=EvaluationConfirmInputSerializer, responses={200: EvaluationSerializer, **WRITE_ERRORS}
)
@api_view(["POST"])
def confirm_report(request: Request, pk: int) -> Response:
    """A member signs the report, with an optional dissent recorded beside the signature: signed
    `evaluation.sign`, or `evaluation.dissent` (details {"text": dissent}), on the evaluation, over
    the report's report_sha256."""
    lot = access.lot_for(request.user, pk)
    access.evaluation_for(request.user, lot)
    payload = EvaluationConfirmInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    evaluating.confirm_report(
        _actor(request),
        lot,
        dissent=payload.validated_data["dissent"],
        signed=_signed(request),
    )
    evaluation = Evaluation.objects.get(lot=lot)
    return Response(EvaluationSerializer(_evaluation(request, evaluation)).data)


@extend_schema(
    responses={200: EvaluationSeatSerializer(many=True), **READ_ERRORS},
    operation_id="bidding_evaluations_mine",
    description="The lots whose committee the caller sits on.",
)
@api_view(["GET"])
def my_evaluations(request: Request) -> Response:
    seats = (
        EvaluationMember.objects.filter(expert__user=request.user)
        .select_related("evaluation", "evaluation__lot", "evaluation__lot__project")
        .order_by("-evaluation__started_at")
    )
    return Response(EvaluationSeatSerializer(seats, many=True).data)


# --- 竞争性谈判/磋商 after the opening -------------------------------------------------------------


@extend_schema(
    responses={200: NegotiationSerializer, **READ_ERRORS},
    description="The negotiation of a 竞争性谈判/磋商 lot after its first responses were opened "
    "(404 for other methods and for anyone not following it): the project's agent, center staff, "
    "supervisors, the panel and each supplier whose first response was opened. Rounds with their "
    "changes (a supplier put out: those before it was put out, and `you.out_in_round`); who was "
    "put out only for center staff and supervisors. The final-quote call: a supplier learns "
    "whether it quoted and its receipt hash; nobody learns another supplier's status or price "
    "before the close; once opened, the quotes as bid prices after an opening (the project's "
    "agent, center staff, supervisors, the panel; a supplier its own).",
)
@api_view(["GET"])
def negotiation_detail(request: Request, pk: int) -> Response:
    lot = access.lot_for(request.user, pk)
    access.negotiation_for(request.user, lot)
    return Response(NegotiationSerializer(access.negotiation_state(request.user, lot)).data)


@extend_schema(
    request=NegotiationRoundInputSerializer,
    responses={201: NegotiationRoundSerializer, **WRITE_ERRORS},
    description="Center staff publish a round while the panel sits and before the final-quote "
    "call: its changes reach every supplier still in; `excluded` puts suppliers still in out "
    "(NOT_IN_NEGOTIATION for anyone else; ROUND_EMPTY with neither). NEGOTIATION_CLOSED after "
    "the call, WRONG_STATUS before the panel sits.",
)
@api_view(["POST"])
def negotiation_rounds(request: Request, pk: int) -> Response:
    lot = access.lot_for(request.user, pk)
    access.negotiation_for(request.user, lot)
    payload = NegotiationRoundInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    round_ = negotiation.publish_round(
        _actor(request), lot, changes=data["changes"], excluded=data["excluded"]
    )
    row = next(
        r
        for r in access.negotiation_state(request.user, lot)["rounds"]
        if r["number"] == round_.number
    )
    return Response(NegotiationRoundSerializer(row).data, status=status.HTTP_201_CREATED)


@extend_schema(
    request=FinalCallInputSerializer,
    responses={201: NegotiationSerializer, **WRITE_ERRORS},
    description="Center staff end the negotiation: every supplier still in gives one sealed final "
    "quote by `closes_at` (DUE_AT_INVALID if not later than now); TOO_FEW_SUPPLIERS below the "
    "method's minimum still in. The clock opens the quotes at `closes_at`.",
)
@api_view(["POST"])
def negotiation_final_call(request: Request, pk: int) -> Response:
    lot = access.lot_for(request.user, pk)
    access.negotiation_for(request.user, lot)
    payload = FinalCallInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    negotiation.call_final_quotes(
        _actor(request), lot, closes_at=payload.validated_data["closes_at"]
    )
    state = access.negotiation_state(request.user, lot)
    return Response(NegotiationSerializer(state).data, status=status.HTTP_201_CREATED)


@extend_schema(
    request=FinalQuoteInputSerializer,
    responses={201: FinalQuoteReceiptSerializer, **WRITE_ERRORS},
    description="A supplier invited to the call gives its final quote, once (FINAL_QUOTE_FIXED), "
    "before `closes_at` (TOO_LATE; NOT_CALLED before the call). The price is a string (AMOUNT_*) "
    "sealed at once to the project key; the answer is the receipt, never the price.",
)
@api_view(["POST"])
def negotiation_final_quote(request: Request, pk: int) -> Response:
    lot = access.lot_for(request.user, pk)
    access.negotiation_for(request.user, lot)
    payload = FinalQuoteInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    quote = negotiation.submit_final_quote(
        _actor(request), lot, price=payload.validated_data["price"]
    )
    receipt = {
        "lot": lot,
        "organization": quote.organization,
        "submitted_at": quote.submitted_at,
        "closes_at": quote.call.closes_at,
        "sealed_sha256": quote.sealed_sha256,
    }
    return Response(FinalQuoteReceiptSerializer(receipt).data, status=status.HTTP_201_CREATED)


# --- Publicity and award --------------------------------------------------------------------------


def _publicity(publicity: Publicity) -> dict[str, Any]:
    return {
        "lot": publicity.lot,
        "status": publicity.status,
        "candidates": publicity.candidates,
        "published_at": publicity.published_at,
        "ends_at": publicity.ends_at,
        "suspended": publicity.objections.filter(replied_at__isnull=True).exists(),
        "refused": publicity.refused,
    }


@extend_schema(
    methods=["GET"],
    responses={200: PublicitySerializer, **PUBLIC_READ_ERRORS},
    description="中标候选人公示 (public).",
)
@extend_schema(
    methods=["POST"],
    request=None,
    responses={201: PublicitySerializer, **WRITE_ERRORS},
    description="The project's agent publishes the candidates of the signed report (≥ 3 days).",
)
@api_view(["GET", "POST"])
@permission_classes([AllowAny])
def publicity(request: Request, pk: int) -> Response:
    lot = access.lot_for(request.user, pk)
    if request.method == "POST":
        published = evaluating.publish_candidates(_actor(request), lot)
        published.lot = lot
        return Response(PublicitySerializer(_publicity(published)).data, status=201)
    found = access.publicity_for(lot)
    found.lot = lot
    return Response(PublicitySerializer(_publicity(found)).data)


@extend_schema(
    methods=["GET"],
    responses={200: PublicityObjectionSerializer(many=True), **READ_ERRORS},
    operation_id="bidding_publicity_objections_list",
    description="Objections to the candidates: all for the project's agent, center staff and "
    "supervisors; a bidder's own otherwise.",
)
@extend_schema(
    methods=["POST"],
    request=PublicityObjectionInputSerializer,
    responses={201: PublicityObjectionSerializer, **WRITE_ERRORS},
    description="A bidder of the lot objects inside the publicity period; the publicity is "
    "suspended until the reply.",
)
@api_view(["GET", "POST"])
def publicity_objections(request: Request, pk: int) -> Response:
    lot = access.lot_for(request.user, pk)
    found = access.publicity_for(lot)
    if request.method == "POST":
        payload = PublicityObjectionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        objection = evaluating.object_to_candidates(
            _actor(request), found, text=payload.validated_data["text"]
        )
        return Response(
            PublicityObjectionSerializer(objection).data, status=status.HTTP_201_CREATED
        )
    rows = found.objections.select_related("organization").order_by("raised_at", "pk")
    if not access.oversees(request.user, lot.project):
        rows = rows.filter(organization_id=access.organization_id(request.user) or 0)
    return Response(PublicityObjectionSerializer(rows, many=True).data)


@extend_schema(
    request=PublicityReplyInputSerializer,
    responses={200: PublicityObjectionSerializer, **WRITE_ERRORS},
)
@api_view(["POST"])
def reply_publicity_objection(request: Request, pk: int) -> Response:
    objection = (
        PublicityObjection.objects.select_related("publicity", "publicity__lot", "organization")
        .filter(pk=pk)
        .first()
    )
    if objection is None:
        raise NotFound(_("未找到该异议。"))
    lot = access.lot_for(request.user, objection.publicity.lot_id)
    if not (
        access.oversees(request.user, lot.project)
        or access.organization_id(request.user) == objection.organization_id
    ):
        raise NotFound(_("未找到该异议。"))
    payload = PublicityReplyInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    replied = evaluating.reply_candidate_objection(
        _actor(request), objection, reply=payload.validated_data["reply"]
    )
    return Response(PublicityObjectionSerializer(replied).data)


def _award(request: Request, found: Publicity) -> dict[str, Any]:
    winner = access.winner_row(found) or {}
    return {
        "lot": found.lot,
        "status": found.status,
        "winner": found.winner,
        "price": winner.get("price"),
        "award_notice_at": found.award_notice_at,
        "contract_due_at": found.contract_due_at,
        "contract_signed_at": found.contract_signed_at,
        "notice_pdf_url": reverse("award_notice_pdf", args=[found.lot_id])
        if access.may_see_award_notice(request.user, found)
        else None,
        **_award_acceptance(request, found),
    }


def _award_acceptance(request: Request, found: Publicity) -> dict[str, Any]:
    """award.accept: the notice's hash to sign and the winner's acceptance (`accept_award`)."""
    if not access.may_see_award_notice(request.user, found):
        return {"notice_sha256": None, "accepted_at": None, "accepted_signed_act": None}
    accepted = evaluating.award_acceptance(found)
    return {
        "notice_sha256": evaluating.award_notice_sha256(found),
        "accepted_at": accepted.at if accepted else None,
        "accepted_signed_act": accepted.payload.get("signed_act") if accepted else None,
    }


@extend_schema(
    methods=["GET"],
    responses={200: AwardSerializer, **PUBLIC_READ_ERRORS},
    description="The award (public once the notice is issued).",
)
@extend_schema(
    methods=["POST"],
    request=None,
    responses={200: AwardSerializer, **WRITE_ERRORS},
    description="The project's agent issues the award notice to the best candidate who has not "
    "refused, after the publicity ended with no objection open.",
)
@api_view(["GET", "POST"])
@permission_classes([AllowAny])
def award(request: Request, pk: int) -> Response:
    lot = access.lot_for(request.user, pk)
    if request.method == "POST":
        access.publicity_for(lot)  # nothing to award before the candidates are published: 404
        issued = evaluating.issue_award(_actor(request), lot)
        issued = Publicity.objects.select_related("winner").get(pk=issued.pk)
        issued.lot = lot
        return Response(AwardSerializer(_award(request, issued)).data)
    found = access.publicity_for(lot)
    if not access.awarded(found):
        raise NotFound(_("尚未发出中标通知书。"))
    found.lot = lot
    return Response(AwardSerializer(_award(request, found)).data)


@extend_schema(
    request=SignedInputSerializer,
    responses={200: AwardSerializer, **WRITE_ERRORS},
    description="The winner accepts the award (接受中标结果, act award.accept), signed over "
    "`notice_sha256` of GET …/award/: a user of the awarded organization with the bid_operator or "
    "admin role (ORG_ROLE_REQUIRED), only after the notice is issued and before the contract "
    "(NOT_AWARDED), once (ALREADY_ACCEPTED). Signature refusals: SIGNATURE_*, CERTIFICATE_*.",
)
@api_view(["POST"])
def accept_award(request: Request, pk: int) -> Response:
    lot = access.lot_for(request.user, pk)
    access.publicity_for(lot)
    payload = SignedInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    signed = parse_signed(payload.validated_data)
    evaluating.accept_award(_actor(request), lot, signed=signed)
    found = Publicity.objects.select_related("winner").get(lot=lot)
    found.lot = lot
    return Response(AwardSerializer(_award(request, found)).data)


@extend_schema(request=ContractInputSerializer, responses={200: AwardSerializer, **WRITE_ERRORS})
@api_view(["POST"])
def record_contract(request: Request, pk: int) -> Response:
    lot = access.lot_for(request.user, pk)
    access.publicity_for(lot)
    payload = ContractInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    done = evaluating.record_contract(
        _actor(request), lot, signed_at=payload.validated_data["signed_at"]
    )
    done = Publicity.objects.select_related("winner").get(pk=done.pk)
    done.lot = lot
    return Response(AwardSerializer(_award(request, done)).data)


@extend_schema(request=RefusalInputSerializer, responses={200: PublicitySerializer, **WRITE_ERRORS})
@api_view(["POST"])
def record_refusal(request: Request, pk: int) -> Response:
    """The winner refused to sign: its deposit becomes forfeitable, the next candidate may be awarded."""
    lot = access.lot_for(request.user, pk)
    access.publicity_for(lot)
    payload = RefusalInputSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    done = evaluating.record_refusal(_actor(request), lot, reason=payload.validated_data["reason"])
    done.lot = lot
    return Response(PublicitySerializer(_publicity(done)).data)
