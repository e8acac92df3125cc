"""REST endpoints of contracts (合同与履约), at /api/v1/contracts/ (see config/urls.py).

Each endpoint finds the contract the caller may see (`contracts.view_contract`: the agent's, the
winner's and the owner's members by object permission, center staff and supervisors by role; 404
for anyone else), parses the body strictly, calls one service — which checks who may act (403) and
every rule (400/409) — and replies with the contract as it now stands.
"""

from __future__ import annotations

import os
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import FileResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.actors import Actor
from accounts.models import Role
from accounts.permissions import visible_to
from contracts import services
from contracts.models import Contract, ContractDocument, ContractVersion, Milestone
from contracts.serializers import (
    AcceptanceCreateSerializer,
    AmendSerializer,
    ContractDocumentUploadSerializer,
    ContractSerializer,
    ContractSummarySerializer,
    DraftSerializer,
    EscalateSerializer,
    IssueCreateSerializer,
    MilestoneCreateSerializer,
    MilestoneSerializer,
    SignSerializer,
    TerminateSerializer,
)
from lib.api import READ_ERRORS, WRITE_ERRORS, ErrorSerializer, page_of, paginated, query_choice
from lib.edge import FormParser, MultiPartParser
from lib.errors import NotFound, present
from lib.uploads import accepts_uploads
from signing.services import parse_signed
from trading.models import Lot

# --- Lookups --------------------------------------------------------------------------------------


def visible_contracts(user: Any) -> QuerySet[Contract]:
    rows = Contract.objects.select_related("lot__project", "purchaser", "supplier", "agent")
    return visible_to(user, "contracts.view_contract", rows).order_by("-drafted_at", "-id")


def contract_with_parts(pk: int) -> Contract | None:
    return (
        Contract.objects.select_related("lot__project", "purchaser", "supplier", "agent")
        .prefetch_related(
            Prefetch("versions", ContractVersion.objects.order_by("number")),
            "documents__version",
            "milestones",
            "acceptances",
            "issues__milestone",
        )
        .filter(pk=pk)
        .first()
    )


def _contract(request: Request, pk: int) -> Contract:
    found = contract_with_parts(pk)
    if found is None or not services.may_see(request.user, found):
        raise NotFound(_("未找到该合同。"))
    return found


def _reply(pk: int, code: int = status.HTTP_200_OK) -> Response:
    found = present(contract_with_parts(pk), "a contract just acted on")
    return Response(ContractSerializer(found).data, status=code)


def _milestone(contract: Contract, pk: int) -> Milestone:
    found = contract.milestones.filter(pk=pk).first()
    if found is None:
        raise NotFound(_("未找到该履约节点。"))
    found.contract = contract
    return found


# --- Contracts ------------------------------------------------------------------------------------


@extend_schema(
    methods=["GET"],
    parameters=[OpenApiParameter("status", str, enum=Contract.Status.values)],
    responses={200: page_of(ContractSummarySerializer), **READ_ERRORS},
    operation_id="contracts_list",
    description="The contracts the caller may see, newest first: the parties and the owner their "
    "own, center staff and supervisors all.",
)
@extend_schema(
    methods=["POST"],
    request=DraftSerializer,
    responses={201: ContractSerializer, **WRITE_ERRORS},
    description="起草合同 (the project's agent) after the award notice, at the award's price. "
    "Refusals: NOT_AWARDED, CONTRACT_EXISTS, CONTRACT_PRICE_MISMATCH, "
    "PERFORMANCE_BOND_OVER_CAP; a lot that does not exist is 404.",
)
@api_view(["GET", "POST"])
def contracts(request: Request) -> Response:
    if request.method == "POST":
        payload = DraftSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        lot = Lot.objects.select_related("project").filter(pk=data["lot"]).first()
        if lot is None:
            raise NotFound(_("未找到该标段。"))
        drafted = services.draft_contract(
            Actor.from_request(request),
            lot,
            price=data["price"],
            terms=data["terms"],
            performance_bond=data.get("performance_bond"),
        )
        return _reply(drafted.pk, status.HTTP_201_CREATED)
    rows = visible_contracts(request.user)
    wanted = query_choice(request, "status", Contract.Status.values)
    if wanted:
        rows = rows.filter(status=wanted)
    return paginated(request, rows, ContractSummarySerializer)


@extend_schema(
    responses={200: ContractSerializer, **READ_ERRORS},
    description="A contract with its versions, files, milestones, acceptances and issues; "
    "`pending_version` is what the next signature covers (contract.sign over its sha256).",
)
@api_view(["GET"])
def contract(request: Request, pk: int) -> Response:
    return Response(ContractSerializer(_contract(request, pk)).data)


@extend_schema(
    request=SignSerializer,
    responses={200: ContractSerializer, **WRITE_ERRORS},
    description="签署合同: a bid operator or administrator of either party signs the pending "
    "version (act contract.sign, target contracts.contract, digest = pending_version.sha256). "
    "When both have signed the version is in force; the first one records the contract "
    "(deposits refunded) and a GP contract is published at once (GP 条例 Art.50).",
)
@api_view(["POST"])
def sign(request: Request, pk: int) -> Response:
    found = _contract(request, pk)
    payload = SignSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    services.sign_contract(
        Actor.from_request(request), found, signed=parse_signed(payload.validated_data)
    )
    return _reply(found.pk)


@extend_schema(
    request=AmendSerializer,
    responses={201: ContractSerializer, **WRITE_ERRORS},
    description="合同变更 (the agent): a new version with its reason, to be signed by both. "
    "Refusals: CONTRACT_PRICE_MISMATCH, SUPPLEMENT_GP_ONLY, SUPPLEMENT_OVER_CAP, NOTHING_CHANGED.",
)
@api_view(["POST"])
def amend(request: Request, pk: int) -> Response:
    found = _contract(request, pk)
    payload = AmendSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    # Absent: the bond stays; null: it is removed; an amount: the new bond.
    bond = (data["performance_bond"] or "") if "performance_bond" in data else None
    services.amend_contract(
        Actor.from_request(request),
        found,
        reason=data["reason"],
        price=data.get("price"),
        terms=data.get("terms"),
        performance_bond=bond,
        supplement=data["supplement"],
    )
    return _reply(found.pk, status.HTTP_201_CREATED)


@accepts_uploads(Role.AGENT)
@extend_schema(
    request={"multipart/form-data": ContractDocumentUploadSerializer},
    responses={201: ContractSerializer, **WRITE_ERRORS},
    description="A file for the contract (the agent): a new version listing it, to be signed.",
)
@api_view(["POST"])
@parser_classes([MultiPartParser, FormParser])
def documents(request: Request, pk: int) -> Response:
    found = _contract(request, pk)
    payload = ContractDocumentUploadSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    services.amend_contract(
        Actor.from_request(request), found, reason=data["reason"], files=[data["file"]]
    )
    return _reply(found.pk, status.HTTP_201_CREATED)


@extend_schema(
    responses={
        (200, "application/octet-stream"): OpenApiTypes.BINARY,
        404: ErrorSerializer,
    },
    description="The file itself, for anyone who may see the contract; its SHA-256 in "
    "X-Content-SHA256.",
)
@api_view(["GET"])
def document(request: Request, pk: int, did: int) -> FileResponse:
    found = _contract(request, pk)
    stored = ContractDocument.objects.filter(pk=did, contract=found).first()
    if stored is None:
        raise NotFound(_("未找到该文件。"))
    name = os.path.basename(present(stored.file.name, "a stored contract file's name"))
    response = FileResponse(
        stored.file.open("rb"),
        as_attachment=True,
        filename=name,
        content_type=stored.content_type or "application/octet-stream",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-SHA256"] = stored.sha256
    return response


# --- Performance ----------------------------------------------------------------------------------


@extend_schema(
    request=MilestoneCreateSerializer,
    responses={201: MilestoneSerializer, **WRITE_ERRORS},
    description="A milestone (the agent); amounts within the price (MILESTONES_OVER_PRICE).",
)
@api_view(["POST"])
def milestones(request: Request, pk: int) -> Response:
    found = _contract(request, pk)
    payload = MilestoneCreateSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    added = services.add_milestone(
        Actor.from_request(request),
        found,
        description=data["description"],
        due_on=data["due_on"],
        amount=data["amount"],
    )
    return Response(MilestoneSerializer(added).data, status=status.HTTP_201_CREATED)


@extend_schema(
    request=None,
    responses={200: MilestoneSerializer, **WRITE_ERRORS},
    description="Delivered (either party's bid operator or administrator).",
)
@api_view(["POST"])
def deliver(request: Request, pk: int, mid: int) -> Response:
    found = _contract(request, pk)
    done = services.complete_milestone(Actor.from_request(request), _milestone(found, mid))
    return Response(MilestoneSerializer(done).data)


@extend_schema(
    request=None,
    responses={200: MilestoneSerializer, **WRITE_ERRORS},
    description="Paid (the agent), after delivery: an OCDS transaction.",
)
@api_view(["POST"])
def pay(request: Request, pk: int, mid: int) -> Response:
    found = _contract(request, pk)
    done = services.record_payment(Actor.from_request(request), _milestone(found, mid))
    return Response(MilestoneSerializer(done).data)


@extend_schema(
    request=AcceptanceCreateSerializer,
    responses={201: ContractSerializer, **WRITE_ERRORS},
    description="履约验收 (the agent, for the purchaser); a pass ends the performance.",
)
@api_view(["POST"])
def acceptance(request: Request, pk: int) -> Response:
    found = _contract(request, pk)
    payload = AcceptanceCreateSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    services.record_acceptance(
        Actor.from_request(request),
        found,
        accepted_on=data["accepted_on"],
        result=data["result"],
        remarks=data["remarks"],
    )
    return _reply(found.pk, status.HTTP_201_CREATED)


@extend_schema(
    request=IssueCreateSerializer,
    responses={201: ContractSerializer, **WRITE_ERRORS},
    description="A performance issue (the agent); a serious one is sent to center staff.",
)
@api_view(["POST"])
def issues(request: Request, pk: int) -> Response:
    found = _contract(request, pk)
    payload = IssueCreateSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    milestone = None if data.get("milestone") is None else _milestone(found, data["milestone"])
    services.record_performance_issue(
        Actor.from_request(request),
        found,
        kind=data["kind"],
        severity=data["severity"],
        description=data["description"],
        milestone=milestone,
    )
    return _reply(found.pk, status.HTTP_201_CREATED)


@extend_schema(
    request=EscalateSerializer,
    responses={201: ContractSerializer, **WRITE_ERRORS},
    description="Center staff record a serious issue as 不良行为 (an integrity bar of category "
    "bad_conduct, read by every later act's integrity gate).",
)
@api_view(["POST"])
def escalate(request: Request, pk: int, iid: int) -> Response:
    found = _contract(request, pk)
    issue = found.issues.filter(pk=iid).first()
    if issue is None:
        raise NotFound(_("未找到该履约问题。"))
    payload = EscalateSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    data = payload.validated_data
    services.escalate_issue(
        Actor.from_request(request),
        issue,
        barred_from=data["barred_from"],
        barred_until=data.get("barred_until"),
        decision_number=data["decision_number"],
    )
    return _reply(found.pk, status.HTTP_201_CREATED)


@extend_schema(
    request=TerminateSerializer,
    responses={200: ContractSerializer, **WRITE_ERRORS},
    description="合同终止 (the agent), with its reason.",
)
@api_view(["POST"])
def terminate(request: Request, pk: int) -> Response:
    found = _contract(request, pk)
    payload = TerminateSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    services.terminate_contract(
        Actor.from_request(request), found, reason=payload.validated_data["reason"]
    )
    return _reply(found.pk)
