"""REST endpoints of deposit custody (issue 4). Each one finds the object the caller may see (404
otherwise), parses the body, calls one service — which checks the permission (403) and every rule —
and replies.

Three audiences:
- the custody bank, authenticated by the HMAC signature over the canonical message only (no session, no token,
  so no CSRF either): payment notifications and refund confirmations;
- bidders (suppliers): a sub-account to pay into, guarantees, and their own deposits, qualification
  and refunds;
- center staff (supervisors read along): the books, refunds and their bank batches, guarantee
  verification, forfeiture, exchange rates and the bank's messages.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import RequestDataTooBig
from django.db import models
from django.db.models import Q, QuerySet, Sum
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    content_negotiation_class,
    parser_classes,
    permission_classes,
)
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.actors import Actor
from accounts.models import Organization, Role
from accounts.permissions import has_perm, signed_in_user, visible_to
from deposits import eguarantee, guarantee_simulator, ledger, services
from deposits.bank import BANK_HEADER, SIGNATURE_HEADER
from deposits.checks import check_ledger
from deposits.models import (
    Account,
    BankNotification,
    Currency,
    Deposit,
    FxRate,
    Guarantee,
    Instrument,
    JournalLine,
    Refund,
    RefundAccountConfirmation,
    RefundBatch,
)
from deposits.serializers import (
    BankNotificationSerializer,
    BankPaymentSerializer,
    BankReceiptSerializer,
    CustodySerializer,
    DepositRefundSerializer,
    DepositSerializer,
    DishonourInstrumentSerializer,
    ForfeitSerializer,
    ForfeitureSerializer,
    FxRateInputSerializer,
    FxRateSerializer,
    GuaranteeSerializer,
    GuaranteeUploadSerializer,
    InstrumentSerializer,
    MyDepositsSerializer,
    RefundAccountSerializer,
    RefundBatchRequestSerializer,
    RefundBatchSerializer,
    RefundConfirmationInputSerializer,
    RefundConfirmationReceiptSerializer,
    RefundSerializer,
    RegisterInstrumentSerializer,
    ReturnInstrumentSerializer,
    ScheduleRefundSerializer,
    SubAccountRequestSerializer,
    SubAccountSerializer,
    VerifyGuaranteeSerializer,
)
from lib.api import READ_ERRORS, WRITE_ERRORS, ErrorSerializer, page_of, paginated
from lib.edge import FormParser, MultiPartParser
from lib.errors import DomainError, NotFound, NotPermitted
from lib.money import format_amount
from lib.numbers import query_integer
from lib.uploads import accepts_uploads
from signing.serializers import SignedInputSerializer
from signing.services import parse_signed
from trading.models import Lot, Project, Registration

ANNOUNCED = (Project.Status.PUBLISHED, Project.Status.TERMINATED)
LIVE_REFUND = ~Q(status__in=[Refund.Status.FAILED, Refund.Status.CANCELLED])


class PayloadTooLarge(DomainError):
    code = "PAYLOAD_TOO_LARGE"
    http_status = 413


# --- Lookups and parameters -----------------------------------------------------------------------


M = TypeVar("M", bound=models.Model)


def _visible(request: Request, queryset: QuerySet[M], perm: str, pk: int, message: Any) -> M:
    """The object if the caller may see it (role-wide or through its organization); 404 otherwise."""
    found = queryset.filter(pk=pk).first()
    if found is None or not has_perm(request.user, perm, found):
        raise NotFound(message)
    return found


def _require(request: Request, perm: str) -> None:
    """For the center's own views (the books, the bank's messages): the role-wide permission only."""
    if not has_perm(request.user, perm):
        raise NotPermitted(_("只有交易中心工作人员和监督人员可以查看。"))


def _lot(request: Request, lot_id: int) -> Lot:
    """A lot of an announced tender (anyone logged in), or of a project the caller manages/oversees."""
    lot = Lot.objects.select_related("project").filter(pk=lot_id).first()
    if lot is None or not (
        lot.project.status in ANNOUNCED
        or has_perm(request.user, "trading.view_project", lot.project)
    ):
        raise NotFound(_("未找到该标段/包。"))
    return lot


def _choice(request: Request, name: str, choices: list[str]) -> str | None:
    value = request.query_params.get(name)
    if value and value not in choices:
        raise DomainError(
            _("参数 %(name)s 的取值无效：%(value)s"),
            code="INVALID_PARAMETER",
            name=name,
            value=value[:40],
        )
    return value or None


def _int_param(request: Request, name: str) -> int | None:
    return query_integer(request.query_params, name)


def _filter_lot(
    request: Request,
    rows: QuerySet,
    lot_field: str = "lot_id",
    project_field: str = "lot__project_id",
) -> QuerySet:
    lot = _int_param(request, "lot")
    if lot is not None:
        rows = rows.filter(**{lot_field: lot})
    project = _int_param(request, "project")
    if project is not None:
        rows = rows.filter(**{project_field: project})
    return rows


LOT_FILTERS = [OpenApiParameter("lot", int), OpenApiParameter("project", int)]


# --- The bank -------------------------------------------------------------------------------------


class RawBodyParser(BaseParser):
    """Hands over the body untouched: the service canonicalizes and checks it (`deposits.bank`), and
    keeps it verbatim, so nothing may be decoded or re-encoded before. (The views read `request.body` before
    anything touches `request.data`; this parser keeps that true should something ever do so.)"""

    media_type = "*/*"

    # The body's bytes: DRF's own parsers return data mappings, this one the body untouched.
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return stream.read() if stream is not None else b""


def _signed_message(request: Request) -> tuple[str, bytes, str]:
    try:
        body = request.body
    except RequestDataTooBig as exc:
        raise PayloadTooLarge(_("报文过大。")) from exc
    # A real bank code is short; a longer header is nobody's and need not reach the alert in full.
    bank = request.META.get(BANK_HEADER, "").strip()[:20]
    signature = request.META.get(SIGNATURE_HEADER, "").strip()[:128]
    return bank, body, signature


BANK_HEADERS = [
    OpenApiParameter(
        "X-Bank-Code",
        str,
        OpenApiParameter.HEADER,
        required=True,
        description="the bank's code, e.g. ICBC",
    ),
    OpenApiParameter(
        "X-Bank-Signature",
        str,
        OpenApiParameter.HEADER,
        required=True,
        description="hex HMAC-SHA256, with the secret agreed with that bank, of the canonical message: "
        "keys sorted, no whitespace, UTF-8, numbers as written (deposits.bank)",
    ),
]
BANK_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="malformed message (codes of the service)"),
    401: OpenApiResponse(ErrorSerializer, description="SIGNATURE_INVALID"),
    409: OpenApiResponse(
        ErrorSerializer, description="REPLAY_CONFLICT: same transaction, other content"
    ),
    413: ErrorSerializer,
}


@extend_schema(
    operation_id="deposits_bank_notification",
    parameters=BANK_HEADERS,
    request={"application/json": BankPaymentSerializer},
    responses={
        201: OpenApiResponse(BankReceiptSerializer, description="recorded now"),
        200: OpenApiResponse(BankReceiptSerializer, description="a replay of a recorded message"),
        **BANK_ERRORS,
    },
    auth=[],
    description="The custody bank's payment notification, signed over its canonical form. Idempotent "
    "by (bank, transaction_id): the same message again, in any key order, answers 200 with `replay: "
    "true` and changes nothing; other content under a recorded transaction id is refused (409) and "
    "alerts supervisors. A value time more than DEPOSIT_VALUE_TIME_TOLERANCE_SECONDS after the "
    "platform's clock is refused (400 VALUE_TIME_IN_FUTURE) and audited.",
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@parser_classes([RawBodyParser])
def bank_notification(request: Request) -> Response:
    bank, body, signature = _signed_message(request)
    result = services.receive_bank_notification(bank, body, signature)
    notification = result.notification
    return Response(
        {
            "transaction_id": notification.transaction_id,
            "outcome": notification.outcome,
            "replay": result.replay,
        },
        status=status.HTTP_200_OK if result.replay else status.HTTP_201_CREATED,
    )


@extend_schema(
    operation_id="deposits_bank_refund_confirmation",
    parameters=BANK_HEADERS,
    request={"application/json": RefundConfirmationInputSerializer},
    responses={200: RefundConfirmationReceiptSerializer, **BANK_ERRORS},
    auth=[],
    description="The bank confirms one line of a refund batch: paid, or failed (the money returns "
    "to where it was held). The same confirmation again changes nothing; a different one for a "
    "settled refund is refused (409) and alerts supervisors.",
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@parser_classes([RawBodyParser])
def bank_refund_confirmation(request: Request) -> Response:
    bank, body, signature = _signed_message(request)
    refund = services.confirm_refund(bank, body, signature)
    return Response(
        RefundConfirmationReceiptSerializer(
            {
                "refund_id": refund.pk,
                "status": refund.status,
                "bank_reference": refund.bank_reference,
                "paid_at": refund.paid_at,
            }
        ).data
    )


# --- Bidders --------------------------------------------------------------------------------------


@extend_schema(
    request=SubAccountRequestSerializer,
    responses={
        201: OpenApiResponse(SubAccountSerializer, description="opened now"),
        200: OpenApiResponse(SubAccountSerializer, description="already open: the same account"),
        **WRITE_ERRORS,
    },
    description="A registered bidder's virtual sub-account for the lot: pay the deposit into this "
    "account number, from the bidder's own account, before the deadline.",
)
@api_view(["POST"])
def sub_account(request: Request, lot_id: int) -> Response:
    lot = _lot(request, lot_id)
    payload = SubAccountRequestSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    currency = payload.validated_data["currency"]
    organization_id = signed_in_user(request).organization_id
    existed = (
        organization_id is not None
        and Account.objects.filter(
            kind=Account.Kind.SUB_ACCOUNT,
            lot=lot,
            organization_id=organization_id,
            currency=currency,
        ).exists()
    )
    account = services.open_sub_account(Actor.from_request(request), lot, currency=currency)
    return Response(
        SubAccountSerializer(account).data,
        status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
    )


def _qualification_row(lot: Lot, organization: Any) -> dict[str, Any]:
    result = services.qualification(lot, organization)
    return {
        "project": lot.project_id,
        "lot": lot.pk,
        "lot_number": lot.number,
        "qualified": result.qualified,
        "code": result.code,
        "message": result.message,
        "required_cny": result.required_cny,
        "counted_cny": result.counted_cny,
        "deposit_deadline": lot.project.deposit_deadline or lot.project.bid_deadline,
    }


@extend_schema(
    parameters=LOT_FILTERS,
    responses={200: MyDepositsSerializer, **READ_ERRORS},
    description="The caller's organization: its deposits, the sub-accounts to pay into, its "
    "guarantees, whether it qualifies for each lot it registered for or paid into, and its refunds "
    "(also of payments into its sub-accounts that could not count, which go back to their payer).",
)
@api_view(["GET"])
def mine(request: Request) -> Response:
    user = signed_in_user(request)
    org = user.organization
    if org is None:  # an account outside any organization (a superuser) puts up nothing
        names = (
            MyDepositsSerializer().fields.fields
        )  # the names' dict (iterating `fields` types as fields)
        empty: dict[str, list[Any]] = {name: [] for name in names}
        return Response(empty)
    org_id = org.pk
    deposits = _filter_lot(
        request,
        visible_to(
            user,
            "deposits.view_deposit",
            Deposit.objects.filter(organization_id=org_id).select_related(
                "lot", "organization", "account"
            ),
        ),
    )
    accounts = _filter_lot(
        request,
        visible_to(
            user,
            "deposits.view_account",
            Account.objects.filter(
                kind=Account.Kind.SUB_ACCOUNT, organization_id=org_id
            ).select_related("lot__project"),
        ),
    ).order_by("lot_id", "currency")
    guarantees = _filter_lot(
        request,
        visible_to(
            user,
            "deposits.view_guarantee",
            Guarantee.objects.filter(organization_id=org_id).select_related(
                "lot", "organization", "certificate"
            ),
        ),
    ).order_by("submitted_at", "pk")
    # Every lot the organization registered for, paid into or holds a sub-account for.
    involved = _filter_lot(
        request,
        Lot.objects.filter(
            Q(registrations__organization_id=org_id)
            | Q(deposits__organization_id=org_id)
            | Q(deposit_accounts__organization_id=org_id)
        ),
        lot_field="pk",
        project_field="project_id",
    )
    lots = (
        Lot.objects.filter(pk__in=involved.values("pk"))
        .select_related("project")
        .order_by("project_id", "number")
    )
    # Its deposits' refunds, and those of payments into its sub-accounts that could not count.
    refunds = Refund.objects.filter(
        Q(deposit__in=deposits.values("pk"))
        | Q(notification__account_number__in=accounts.values("number"))
    ).order_by("due_at", "pk")
    body = {
        "deposits": deposits.order_by("arrived_at", "pk"),
        "accounts": accounts,
        "guarantees": guarantees,
        "qualifications": [_qualification_row(lot, org) for lot in lots],
        "refunds": refunds,
    }
    return Response(MyDepositsSerializer(body).data)


@accepts_uploads(Role.SUPPLIER)
@extend_schema(
    request={"multipart/form-data": GuaranteeUploadSerializer},
    responses={201: GuaranteeSerializer, **WRITE_ERRORS},
    description="A registered bidder files an electronic guarantee (银行保函/保证保险保函) with its "
    "file; it counts towards qualification once staff verify it.",
)
@api_view(["POST"])
@parser_classes([MultiPartParser, FormParser])
def lot_guarantees(request: Request, lot_id: int) -> Response:
    lot = _lot(request, lot_id)
    payload = GuaranteeUploadSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    guarantee = services.submit_guarantee(
        Actor.from_request(request),
        lot,
        kind=data["kind"],
        issuer=data["issuer"],
        number=data["number"],
        amount=data["amount"],
        valid_from=data["valid_from"],
        valid_until=data["valid_until"],
        upload=data["file"],
    )
    return Response(GuaranteeSerializer(guarantee).data, status=status.HTTP_201_CREATED)


EGUARANTEE_SCHEMA = {
    "type": "object",
    "description": "电子保函 document, format bidhall-eguarantee-v1 (docs/signing.md, 电子保函): "
    "{format, guarantee: {number, kind, issuer_name, applicant: {uscc, name}, beneficiary: {uscc, "
    "name}, project_code, lot_number, lot_id, amount, currency, valid_from, valid_until, "
    "issued_at}, certificate (issuer PEM), signature (base64 over the canonical JSON of guarantee)}",
    "required": ["format", "guarantee", "certificate", "signature"],
    "properties": {
        "format": {"type": "string", "enum": [eguarantee.FORMAT]},
        "guarantee": {"type": "object"},
        "certificate": {"type": "string"},
        "signature": {"type": "string", "format": "byte"},
    },
}
EGUARANTEE_ERRORS = {
    400: OpenApiResponse(
        ErrorSerializer,
        description="GUARANTEE_MALFORMED, GUARANTEE_SIGNATURE_INVALID, GUARANTEE_ISSUER_UNTRUSTED "
        "(the certificate's own code in the message: CERTIFICATE_EXPIRED, CERTIFICATE_REVOKED, "
        "CERTIFICATE_UNTRUSTED…), GUARANTEE_MISMATCH (applicant, beneficiary, project, lot, "
        "issuer name), FORM_NOT_ALLOWED, GUARANTEE_AMOUNT_SHORT, GUARANTEE_VALIDITY_SHORT, "
        "NOT_REGISTERED",
    ),
    403: OpenApiResponse(ErrorSerializer, description="not a bidder, or barred (ensure_may_trade)"),
    404: OpenApiResponse(ErrorSerializer, description="no such lot the caller may see"),
    409: OpenApiResponse(ErrorSerializer, description="GUARANTEE_DUPLICATE"),
    413: OpenApiResponse(ErrorSerializer, description="GUARANTEE_TOO_LARGE"),
}


def _body(request: Request) -> bytes:
    try:
        return bytes(request.body)
    except RequestDataTooBig as exc:
        raise eguarantee.GuaranteeTooLarge(
            _("电子保函文件过大：最多 %(limit)s 字节。"), limit=eguarantee.MAX_DOCUMENT_BYTES
        ) from exc


@extend_schema(
    operation_id="deposits_lot_electronic_guarantee",
    request={"application/json": EGUARANTEE_SCHEMA},
    responses={201: GuaranteeSerializer, **EGUARANTEE_ERRORS},
    description="A registered bidder files an electronic guarantee (电子保函) exactly as its issuer "
    "signed it: the request body is the document. It is verified at once (signature, issuer "
    "certificate trusted, valid and not revoked at receipt, applicant = the caller's organization, "
    "beneficiary, project and lot, amount ≥ the deposit, validity from the deposit deadline to the "
    "end of the bid validity) and, verified, counts like a guarantee staff verified "
    "(verification 电子保函验签). A refused document stores nothing.",
)
@api_view(["POST"])
@parser_classes([RawBodyParser])
def lot_electronic_guarantees(request: Request, lot_id: int) -> Response:
    lot = _lot(request, lot_id)
    guarantee = services.submit_electronic_guarantee(
        Actor.from_request(request), lot, _body(request)
    )
    return Response(GuaranteeSerializer(guarantee).data, status=status.HTTP_201_CREATED)


@extend_schema(
    operation_id="deposits_lot_guarantee_simulator",
    request=None,
    responses={
        201: OpenApiResponse(EGUARANTEE_SCHEMA, description="the signed document, to be filed"),
        400: OpenApiResponse(ErrorSerializer, description="FORM_NOT_ALLOWED"),
        403: OpenApiResponse(ErrorSerializer, description="not a bidder registered for the lot"),
        404: OpenApiResponse(ErrorSerializer, description="no such lot, or the simulator is off"),
    },
    description="Development and demo only (off with CA_SIMULATOR): a simulated bank issues an "
    "electronic guarantee for the caller's organization on this lot, for the lot's deposit and "
    "the required validity, signed with a certificate of the CA simulator's issuer root. The "
    "answer is the document; file it with POST lots/{lot_id}/electronic-guarantees/.",
)
@api_view(["POST"])
def lot_guarantee_simulator(request: Request, lot_id: int) -> Response:
    if not guarantee_simulator.enabled():
        raise NotFound(_("未找到。"))
    lot = _lot(request, lot_id)
    user = signed_in_user(request)
    if user.role != Role.SUPPLIER or user.organization is None:
        raise NotPermitted(_("只有投标人/竞买人可以申请保函。"))
    if not Registration.objects.filter(lot=lot, organization=user.organization).exists():
        raise NotPermitted(_("请先报名该标段。"), code="NOT_REGISTERED")
    document = guarantee_simulator.issue(lot, user.organization)
    return Response(json.loads(document), status=status.HTTP_201_CREATED)


# --- Staff: the books -----------------------------------------------------------------------------

# How each book account is shown: assets and expenses by their debit balance, the rest by what the
# center owes or has taken in (their credit balance), so every total reads as a positive amount.
_BOOKS: dict[str, tuple[str, int]] = {
    Account.Kind.CUSTODY: ("custody", 1),
    Account.Kind.SUSPENSE: ("suspense", -1),
    Account.Kind.REFUNDS_PAYABLE: ("refunds_payable", -1),
    Account.Kind.FORFEITED: ("forfeited", -1),
    Account.Kind.LAND_EARNEST: ("land_earnest", -1),
    Account.Kind.LAND_PRICE: ("land_price", -1),
    Account.Kind.INTEREST: ("interest", 1),
}
_TOTAL_FIELDS = [*(name for name, _sign in _BOOKS.values()), "sub_accounts"]


@extend_schema(
    responses={200: CustodySerializer, **READ_ERRORS},
    description="What the center holds, per currency, from the ledger itself, and the result of "
    "every ledger invariant (`check_ledger`). Staff and supervisors.",
)
@api_view(["GET"])
def custody(request: Request) -> Response:
    _require(request, "deposits.view_journalentry")
    totals: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: dict.fromkeys(_TOTAL_FIELDS, ledger.ZERO)
    )
    totals[Currency.CNY]  # always shown, even before the first payment
    # Read, never create: ledger.book_account would open a missing book account.
    for account in Account.objects.exclude(kind=Account.Kind.SUB_ACCOUNT):
        name, sign = _BOOKS[account.kind]
        balance = ledger.balance(account)
        # Unary minus, not `-1 * balance`: that would show an empty account as "-0.00".
        totals[account.currency][name] = balance if sign > 0 else -balance
    sub_accounts = (
        JournalLine.objects.filter(account__kind=Account.Kind.SUB_ACCOUNT)
        .values("currency")
        .annotate(total=Sum("amount_fen"))
    )
    for row in sub_accounts:
        totals[row["currency"]]["sub_accounts"] = -ledger.from_fen(row["total"])
    problems = check_ledger()
    order = list(Currency.values)
    body = {
        "totals": [
            {"currency": currency, **totals[currency]}
            for currency in sorted(totals, key=order.index)
        ],
        "check": {"ok": not problems, "problems": problems},
    }
    return Response(CustodySerializer(body).data)


@extend_schema(
    parameters=[OpenApiParameter("outcome", str, enum=BankNotification.Outcome.values)],
    responses={200: page_of(BankNotificationSerializer), **READ_ERRORS},
    operation_id="deposits_notifications_list",
    description="The bank's payment notifications, newest first, with what became of each.",
)
@api_view(["GET"])
def notifications(request: Request) -> Response:
    _require(request, "deposits.view_banknotification")
    rows = BankNotification.objects.order_by("-received_at", "-pk")
    outcome = _choice(request, "outcome", BankNotification.Outcome.values)
    if outcome:
        rows = rows.filter(outcome=outcome)
    return paginated(request, rows, BankNotificationSerializer)


# --- Staff: deposits, refunds and batches ---------------------------------------------------------


@extend_schema(
    parameters=[
        *LOT_FILTERS,
        OpenApiParameter("organization", int),
        OpenApiParameter("status", str, enum=Deposit.Status.values),
    ],
    responses={200: page_of(DepositSerializer), **READ_ERRORS},
    operation_id="deposits_list",
    description="Deposits the caller may see: staff and supervisors all, a bidder its own.",
)
@api_view(["GET"])
def deposits(request: Request) -> Response:
    rows = _filter_lot(
        request,
        visible_to(
            request.user,
            "deposits.view_deposit",
            Deposit.objects.select_related("lot", "organization", "account"),
        ),
    )
    organization = _int_param(request, "organization")
    if organization is not None:
        rows = rows.filter(organization_id=organization)
    wanted = _choice(request, "status", Deposit.Status.values)
    if wanted:
        rows = rows.filter(status=wanted)
    return paginated(request, rows.order_by("arrived_at", "pk"), DepositSerializer)


def _deposit(request: Request, pk: int) -> Deposit:
    return _visible(
        request,
        Deposit.objects.select_related("lot", "organization", "account"),
        "deposits.view_deposit",
        pk,
        _("未找到该保证金。"),
    )


@extend_schema(
    request=ForfeitSerializer,
    responses={201: ForfeitureSerializer, **WRITE_ERRORS},
    description="没收: the deposit goes to forfeited funds (a guarantee is called). The note records "
    "the facts the decision rests on. Center staff.",
)
@api_view(["POST"])
def forfeit(request: Request, pk: int) -> Response:
    deposit = _deposit(request, pk)
    payload = ForfeitSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    forfeiture = services.forfeit_deposit(
        Actor.from_request(request), deposit, **payload.validated_data
    )
    return Response(ForfeitureSerializer(forfeiture).data, status=status.HTTP_201_CREATED)


def _refund_account(deposit: Deposit) -> dict[str, Any]:
    details = services.refund_account_details(deposit)
    return {
        "deposit": deposit.pk,
        "currency": deposit.currency,
        "name": details["name"],
        "bank": details["bank"],
        "account": details["account"],
        "sha256": services.refund_account_sha256(deposit),
        "confirmation": RefundAccountConfirmation.objects.filter(deposit=deposit)
        .select_related("confirmed_by")
        .first(),
    }


@extend_schema(
    methods=["GET"],
    responses={200: RefundAccountSerializer, **READ_ERRORS},
    description="The account this deposit is refunded to (the payer's, as the platform holds it), "
    "the digest to sign to confirm it, and the confirmation if made. Whoever may see the deposit.",
)
@extend_schema(
    methods=["POST"],
    request=SignedInputSerializer,
    responses={201: RefundAccountSerializer, **WRITE_ERRORS},
    description="The depositing organization's finance or admin user (ORG_ROLE_REQUIRED) confirms "
    "the refund account, signed (act deposit.refund_account, target deposits.deposit, digest = "
    "`sha256` of GET): once (ALREADY_CONFIRMED), only for a deposit paid in money "
    "(NO_REFUND_ACCOUNT) still in custody or being refunded (WRONG_STATUS). Refunds go to the "
    "paying account whether or not it was confirmed.",
)
@api_view(["GET", "POST"])
def refund_account(request: Request, pk: int) -> Response:
    deposit = _visible(
        request,
        Deposit.objects.select_related("notification"),
        "deposits.view_deposit",
        pk,
        _("未找到该保证金。"),
    )
    if request.method == "POST":
        payload = SignedInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.confirm_refund_account(
            Actor.from_request(request), deposit, signed=parse_signed(payload.validated_data)
        )
        return Response(
            RefundAccountSerializer(_refund_account(deposit)).data, status=status.HTTP_201_CREATED
        )
    return Response(RefundAccountSerializer(_refund_account(deposit)).data)


@extend_schema(
    request=ScheduleRefundSerializer,
    responses={
        201: OpenApiResponse(DepositRefundSerializer, description="a refund was scheduled now"),
        200: OpenApiResponse(
            DepositRefundSerializer,
            description="nothing new: the deposit was no longer held (its live refund, if any, is "
            "returned), or it was a guarantee, released instead",
        ),
        **WRITE_ERRORS,
    },
    description="Schedule the refund of one held deposit under the rule of `reason` (due date and "
    "interest). Calling it again never refunds twice. Center staff.",
)
@api_view(["POST"])
def refund_deposit(request: Request, pk: int) -> Response:
    deposit = _deposit(request, pk)
    payload = ScheduleRefundSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    refund = services.schedule_refund(
        Actor.from_request(request), deposit, **payload.validated_data
    )
    deposit.refresh_from_db()
    live = refund or deposit.refunds.filter(LIVE_REFUND).order_by("-pk").first()
    return Response(
        DepositRefundSerializer({"deposit": deposit, "refund": live}).data,
        status=status.HTTP_201_CREATED if refund else status.HTTP_200_OK,
    )


@extend_schema(
    parameters=[
        OpenApiParameter("status", str, enum=Refund.Status.values),
        OpenApiParameter("reason", str, enum=Refund.Reason.values),
    ],
    responses={200: page_of(RefundSerializer), **READ_ERRORS},
    operation_id="deposits_refunds_list",
    description="Refunds by due date. Staff and supervisors (a bidder sees its own in `mine`).",
)
@api_view(["GET"])
def refunds(request: Request) -> Response:
    _require(request, "deposits.view_refund")
    rows = Refund.objects.select_related(
        "deposit__refund_account_confirmation__confirmed_by"
    ).order_by("due_at", "pk")
    for name, choices in (("status", Refund.Status.values), ("reason", Refund.Reason.values)):
        value = _choice(request, name, choices)
        if value:
            rows = rows.filter(**{name: value})
    return paginated(request, rows, RefundSerializer)


@extend_schema(
    request=None,
    responses={201: RefundSerializer, **WRITE_ERRORS},
    description="After the bank returned a refund (closed account…), schedule it again. Staff.",
)
@api_view(["POST"])
def reschedule_refund(request: Request, pk: int) -> Response:
    refund = _visible(
        request, Refund.objects.all(), "deposits.view_refund", pk, _("未找到该退款。")
    )
    new = services.reschedule_failed_refund(Actor.from_request(request), refund)
    return Response(RefundSerializer(new).data, status=status.HTTP_201_CREATED)


@extend_schema(
    methods=["GET"],
    responses={200: page_of(RefundBatchSerializer), **READ_ERRORS},
    operation_id="deposits_refund_batches_list",
)
@extend_schema(
    methods=["POST"],
    request=RefundBatchRequestSerializer,
    responses={
        201: RefundBatchSerializer,
        204: OpenApiResponse(description="no refund is scheduled: no batch was made"),
        **WRITE_ERRORS,
    },
    description="Instruct the bank to pay every scheduled refund (due by `until`): one CSV file, "
    "returned here and kept. The money leaves custody when the bank confirms each line. Staff.",
)
@api_view(["GET", "POST"])
def refund_batches(request: Request) -> Response:
    if request.method == "POST":
        payload = RefundBatchRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        batch = services.create_refund_batch(Actor.from_request(request), **payload.validated_data)
        if batch is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(RefundBatchSerializer(batch).data, status=status.HTTP_201_CREATED)
    _require(request, "deposits.view_refundbatch")
    rows = RefundBatch.objects.select_related("created_by").order_by("-created_at", "-pk")
    return paginated(request, rows, RefundBatchSerializer)


class IgnoreAccept(BaseContentNegotiation):
    """A download answers its file whatever the client accepts (errors stay JSON): DRF would
    otherwise refuse `Accept: text/csv` with 406 before the view runs."""

    def select_parser(self, request: Any, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Any, renderers: Iterable[BaseRenderer], format_suffix: Any = None
    ) -> tuple[BaseRenderer, str]:
        first = next(iter(renderers))  # a view always has one
        return first, first.media_type


@extend_schema(
    responses={(200, "text/csv"): OpenApiTypes.STR, 404: ErrorSerializer},
    description="The batch file exactly as instructed (UTF-8); `X-Content-SHA256` is its hash.",
)
@api_view(["GET"])
@content_negotiation_class(IgnoreAccept)
def refund_batch_csv(request: Request, pk: int) -> HttpResponse:
    batch = _visible(
        request, RefundBatch.objects.all(), "deposits.view_refundbatch", pk, _("未找到该退款批次。")
    )
    response = HttpResponse(batch.csv.encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="refund-batch-{batch.pk}.csv"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-SHA256"] = batch.sha256
    return response


# --- Staff: guarantees ----------------------------------------------------------------------------


@extend_schema(
    parameters=[*LOT_FILTERS, OpenApiParameter("status", str, enum=Guarantee.Status.values)],
    responses={200: page_of(GuaranteeSerializer), **READ_ERRORS},
    operation_id="deposits_guarantees_list",
    description="Guarantees the caller may see: staff and supervisors all, a bidder its own.",
)
@api_view(["GET"])
def guarantees(request: Request) -> Response:
    rows = _filter_lot(
        request,
        visible_to(
            request.user,
            "deposits.view_guarantee",
            Guarantee.objects.select_related("lot", "organization", "certificate"),
        ),
    )
    wanted = _choice(request, "status", Guarantee.Status.values)
    if wanted:
        rows = rows.filter(status=wanted)
    return paginated(request, rows.order_by("submitted_at", "pk"), GuaranteeSerializer)


@extend_schema(
    request=VerifyGuaranteeSerializer,
    responses={200: GuaranteeSerializer, **WRITE_ERRORS},
    description="Record the verification of a guarantee (the issuer's confirmation or the "
    "center's own check, named in `method`). Accepted, it counts as a deposit. Center staff.",
)
@api_view(["POST"])
def verify_guarantee(request: Request, pk: int) -> Response:
    guarantee = _visible(
        request,
        Guarantee.objects.select_related("lot", "organization"),
        "deposits.view_guarantee",
        pk,
        _("未找到该保函。"),
    )
    payload = VerifyGuaranteeSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    verified = services.verify_guarantee(
        Actor.from_request(request), guarantee, **payload.validated_data
    )
    return Response(GuaranteeSerializer(verified).data)


# --- Staff: instruments (支票 / 汇票 / 本票) ------------------------------------------------------------


def _instrument(request: Request, pk: int) -> Instrument:
    return _visible(
        request,
        Instrument.objects.select_related("lot", "organization"),
        "deposits.view_instrument",
        pk,
        _("未找到该票据。"),
    )


@extend_schema(
    methods=["GET"],
    parameters=[*LOT_FILTERS, OpenApiParameter("status", str, enum=Instrument.Status.values)],
    responses={200: page_of(InstrumentSerializer), **READ_ERRORS},
    operation_id="deposits_instruments_list",
    description="Cheques, drafts and promissory notes the caller may see: staff and supervisors "
    "all, a supplier its own.",
)
@extend_schema(
    methods=["POST"],
    request=RegisterInstrumentSerializer,
    responses={201: InstrumentSerializer, **WRITE_ERRORS},
    operation_id="deposits_instruments_register",
    description="Register a cheque, draft or promissory note a supplier handed in as its deposit "
    "(GP 条例 Art.33), received now. It is collected into the supplier's sub-account (`collect_to`) "
    "and qualifies once the bank's credit names it (`instrument_number`). Center staff.",
)
@api_view(["GET", "POST"])
def instruments(request: Request) -> Response:
    if request.method == "GET":
        rows = _filter_lot(
            request,
            visible_to(
                request.user,
                "deposits.view_instrument",
                Instrument.objects.select_related("lot", "organization"),
            ),
        )
        wanted = _choice(request, "status", Instrument.Status.values)
        if wanted:
            rows = rows.filter(status=wanted)
        return paginated(request, rows.order_by("received_at", "pk"), InstrumentSerializer)
    payload = RegisterInstrumentSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = dict(payload.validated_data)
    # The service reads the amount as text, by the same contract the field already applied.
    data["amount"] = format_amount(data["amount"])
    lot = _lot(request, data.pop("lot"))
    organization = Organization.objects.filter(pk=data.pop("organization")).first()
    if organization is None:
        raise NotFound(_("未找到该供应商。"))
    instrument = services.register_instrument(
        Actor.from_request(request), lot, organization, **data
    )
    return Response(InstrumentSerializer(instrument).data, status=status.HTTP_201_CREATED)


@extend_schema(
    request=DishonourInstrumentSerializer,
    responses={200: InstrumentSerializer, **WRITE_ERRORS},
    description="The bank refused to pay the instrument (退票): it never becomes a deposit. Staff.",
)
@api_view(["POST"])
def dishonour_instrument(request: Request, pk: int) -> Response:
    instrument = _instrument(request, pk)
    payload = DishonourInstrumentSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    settled = services.record_dishonour(
        Actor.from_request(request), instrument, **payload.validated_data
    )
    return Response(InstrumentSerializer(settled).data)


@extend_schema(
    request=ReturnInstrumentSerializer,
    responses={200: InstrumentSerializer, **WRITE_ERRORS},
    description="Hand an uncollected or dishonoured instrument back to its drawer (a collected one "
    "is refunded by transfer instead: WRONG_STATUS). Staff.",
)
@api_view(["POST"])
def return_instrument(request: Request, pk: int) -> Response:
    instrument = _instrument(request, pk)
    payload = ReturnInstrumentSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    returned = services.return_instrument(
        Actor.from_request(request), instrument, **payload.validated_data
    )
    return Response(InstrumentSerializer(returned).data)


# --- Staff: exchange rates ------------------------------------------------------------------------


@extend_schema(
    methods=["GET"],
    parameters=[OpenApiParameter("currency", str, enum=[Currency.HKD, Currency.USD])],
    responses={200: page_of(FxRateSerializer), **READ_ERRORS},
    operation_id="deposits_fx_rates_list",
)
@extend_schema(
    methods=["POST"],
    request=FxRateInputSerializer,
    responses={201: FxRateSerializer, **WRITE_ERRORS},
    description="A new rate in force from now on: `cny_per_unit` as a string (a JSON number is "
    "refused: RATE_NOT_STRING). Deposits are judged at the rate in force when they arrived. Staff.",
)
@api_view(["GET", "POST"])
def fx_rates(request: Request) -> Response:
    if request.method == "POST":
        payload = FxRateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        rate = services.set_fx_rate(Actor.from_request(request), **payload.validated_data)
        return Response(FxRateSerializer(rate).data, status=status.HTTP_201_CREATED)
    _require(request, "deposits.view_fxrate")
    rows = FxRate.objects.select_related("entered_by").order_by("currency", "-effective_at", "-pk")
    currency = _choice(request, "currency", [Currency.HKD, Currency.USD])
    if currency:
        rows = rows.filter(currency=currency)
    return paginated(request, rows, FxRateSerializer)
