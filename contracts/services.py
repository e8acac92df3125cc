"""The contract's workflow (合同与履约): draft, sign, publish, amend, perform, accept, terminate.

Every service takes the `Actor` first, checks who may act (object permissions granted at drafting:
the agent's members group manages, signs and records deliveries; the winner's signs and records
deliveries; the owner's sees), does its change in one transaction with an audit event, and tells
the other party (`notifications.services.notify`) inside it. The law is in `contracts.rules`.

| step | who | refusals |
|---|---|---|
| `draft_contract` | agent | NOT_AWARDED, CONTRACT_EXISTS, CONTRACT_PRICE_MISMATCH, PERFORMANCE_BOND_* |
| `sign_contract` | each party, signed | NOTHING_TO_SIGN, ALREADY_SIGNED, SIGNATURE_*, ORG_BARRED |
| `amend_contract` | the agent | REASON_REQUIRED, NOTHING_CHANGED, CONTRACT_PRICE_MISMATCH, SUPPLEMENT_* |
| `add_milestone` | the agent | MILESTONES_OVER_PRICE |
| `complete_milestone` | either party | CONTRACT_NOT_IN_FORCE, ALREADY_DELIVERED |
| `record_payment` | the agent | NOT_DELIVERED, ALREADY_PAID |
| `record_acceptance` | the agent, for the purchaser | CONTRACT_NOT_IN_FORCE, REMARKS_REQUIRED |
| `record_performance_issue` | the agent | CONTRACT_NOT_IN_FORCE |
| `escalate_issue` | center staff | ISSUE_NOT_SERIOUS, ALREADY_ESCALATED |
| `terminate_contract` | the agent | CONTRACT_NOT_IN_FORCE, REASON_REQUIRED |

Drafting needs the award notice (Publicity AWARDED) and the award's price; one contract per lot.
Signing is `contract.sign` over the pending version's canonical hash, by a bid operator or
administrator of each side, once per side; the supplier must not be barred. When both have signed
the version is in force: the first one calls `bidding.evaluation.record_contract` (deposits are
refunded as before) and, for GP, publishes the 合同公告 at once. An amendment is a new version with
its reason and diff: before signing it keeps the award's price, after it the price in force, except
a GP supplement adding the same goods or services (≤ 10 % of the original in total).

A published contract (GP) gets a new version of its 合同公告 at every change the public is owed: a
supplement or amendment in force, a delivery, a payment, an acceptance, a termination; each is an
OCDS release (`trading.ocds`: contract, contractAmendment, implementation, contractTermination).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.shortcuts import assign_perm

from accounts.actors import Actor
from accounts.models import IntegrityRecord, Organization, OrgRole, User
from accounts.permissions import has_perm, require_perm
from accounts.services import bar_organization, ensure_may_trade, require_org_role
from audit.services import record
from bidding.evaluation import record_contract
from bidding.models import Publicity
from contracts import rules
from contracts.models import (
    TEXT_LIMIT,
    Acceptance,
    Contract,
    ContractDocument,
    ContractVersion,
    Milestone,
    PerformanceIssue,
)
from lib.canonical import canonical_sha256, canonical_value, file_sha256
from lib.errors import Conflict, DomainError, NotPermitted, present
from lib.money import format_amount, parse_amount
from lib.text import bounded, check_text
from notifications import recipients
from notifications.services import moment_text, notify
from signing.services import Signed, require_signature, signature_payload
from trading.models import Announcement, Lot
from trading.services import ensure_not_suspended, lock_project, publish_version

SIGN_ACT = "contract.sign"
# Who acts for a party in its binding acts on the contract (as for the award's acceptance).
PARTY_ROLES = (OrgRole.BID_OPERATOR, OrgRole.ADMIN)
AGENT_PERMISSIONS = (
    "contracts.view_contract",
    "contracts.manage_contract",
    "contracts.sign_contract",
    "contracts.perform_contract",
)
SUPPLIER_PERMISSIONS = (
    "contracts.view_contract",
    "contracts.sign_contract",
    "contracts.perform_contract",
)
PURCHASER = "purchaser"
SUPPLIER = "supplier"
SHORT_TEXT = 500


# --- Small helpers ---------------------------------------------------------------------------------


def _text(value: Any, field: str, *, required: bool = True, limit: int = SHORT_TEXT) -> str:
    text = check_text(value if value is not None else "", field=field, max_length=limit).strip()
    if required and not text:
        raise DomainError(_("%(field)s不能为空。"), code="TEXT_REQUIRED", field=field)
    return text


def _lock(contract: Contract) -> Contract:
    return (
        Contract.objects.select_for_update(of=("self",))
        .select_related("lot__project", "purchaser", "agent", "supplier")
        .get(pk=contract.pk)
    )


def url_of(contract: Contract) -> str:
    return f"/contracts/{contract.pk}/"


def _params(contract: Contract, **more: str) -> dict[str, str]:
    project = contract.lot.project
    return {
        "project": f"{project.number} {project.title}",
        "lot": str(contract.lot),
        "contract": contract.number,
        **more,
    }


def _tell(
    notice: str,
    users: Iterable[User],
    contract: Contract,
    event_pk: int,
    /,
    *,
    due_at: dt.datetime | None = None,
    **params: str,
) -> None:
    notify(
        notice,
        users,
        cause=f"{notice}:{event_pk}",
        params=_params(contract, **params),
        url=url_of(contract),
        due_at=due_at,
    )


def purchaser_side(contract: Contract) -> list[User]:
    """Who acts for the purchaser on the platform: the agent's people (the owner's see the page)."""
    return list(recipients.members(contract.agent))


def supplier_side(contract: Contract) -> list[User]:
    return list(recipients.bidders(contract.supplier))


def side_of(actor: Actor, contract: Contract) -> str | None:
    """Which party the actor's organization is on the contract, if any."""
    org_id = actor.organization.pk if actor.organization is not None else None
    if org_id is None:
        return None
    if org_id == contract.agent_id:
        return PURCHASER
    if org_id == contract.supplier_id:
        return SUPPLIER
    return None


def award_price(publicity: Publicity) -> Decimal:
    """The winner's price as the award states it (its candidate row)."""
    for candidate in publicity.candidates:
        if candidate["organization"] == publicity.winner_id:
            return Decimal(str(candidate["price"]))
    raise Conflict(_("中标通知书未载明中标人报价。"), code="NOT_AWARDED")


def award_id(lot: Lot) -> str:
    """The OCDS award id of the lot's award (trading.ocds gives the same one to its result notice)."""
    return f"{lot.project.number}-lot-{lot.number}"


def _parse_bond(value: str | None, price: Decimal) -> Decimal | None:
    """A performance bond of at most 10 % of the price (条例 Art.58; GP 条例 Art.48)."""
    if value in (None, ""):
        return None
    bond = parse_amount(value, field=str(_("履约保证金")), allow_zero=True)
    cap = rules.bond_cap(price)
    if bond > cap:
        raise DomainError(
            _(
                "履约保证金不得超过合同金额的10%%（最多 %(cap)s 元；招标投标法实施条例第五十八条、"
                "政府采购法实施条例第四十八条）。"
            ),
            code="PERFORMANCE_BOND_OVER_CAP",
            cap=format_amount(cap),
        )
    return bond


class _Upload:
    """An upload hashed before the transaction (reading a file is slow; the lock is not)."""

    def __init__(self, upload: UploadedFile) -> None:
        if upload.size is None or upload.size == 0:
            raise DomainError(_("文件为空。"), code="EMPTY_FILE")
        if upload.size > settings.MAX_UPLOAD_BYTES:
            raise DomainError(_("文件过大。"), code="FILE_TOO_LARGE")
        self.upload = upload
        self.sha256 = file_sha256(upload.chunks())
        upload.seek(0)
        self.title = check_text(upload.name or "document", field="file", max_length=200)[:200]
        self.size = upload.size

    def summary(self) -> dict[str, Any]:
        return {"title": self.title, "sha256": self.sha256, "size": self.size}


def _hash_uploads(files: Sequence[UploadedFile]) -> list[_Upload]:
    return [_Upload(upload) for upload in files]


def _version_content(
    contract: Contract,
    *,
    number: int,
    kind: str,
    price: Decimal,
    bond: Decimal | None,
    terms: str,
    documents: list[dict[str, Any]],
    reason: str,
    previous: ContractVersion | None,
) -> dict[str, Any]:
    """Everything a version states; its canonical SHA-256 is what each party signs."""
    lot = contract.lot
    content: dict[str, Any] = canonical_value(
        {
            "contract": contract.number,
            "project": lot.project.number,
            "lot": lot.number,
            "purchaser": {"name": contract.purchaser.name, "uscc": contract.purchaser.uscc},
            "agent": {"name": contract.agent.name, "uscc": contract.agent.uscc},
            "supplier": {"name": contract.supplier.name, "uscc": contract.supplier.uscc},
            "award_price": format_amount(contract.award_price),
            "version": number,
            "kind": kind,
            "price": format_amount(price),
            "performance_bond": format_amount(bond) if bond is not None else None,
            "terms": terms,
            "documents": documents,
            "reason": reason,
            "previous_sha256": previous.sha256 if previous else None,
        }
    )
    return content


def _new_version(
    actor: Actor,
    contract: Contract,
    *,
    kind: str,
    price: Decimal,
    bond: Decimal | None,
    terms: str,
    uploads: list[_Upload],
    reason: str,
    diff: dict[str, Any],
    now: dt.datetime,
) -> ContractVersion:
    previous = contract.versions.order_by("-number").first()
    number = previous.number + 1 if previous else 1
    # Documents stay with the contract: a version lists every file of the versions before it.
    kept = [
        {"title": d.title, "sha256": d.sha256, "size": d.size}
        for d in contract.documents.order_by("uploaded_at", "id")
    ]
    content = _version_content(
        contract,
        number=number,
        kind=kind,
        price=price,
        bond=bond,
        terms=terms,
        documents=kept + [u.summary() for u in uploads],
        reason=reason,
        previous=previous,
    )
    version = ContractVersion.objects.create(
        contract=contract,
        number=number,
        kind=kind,
        price=price,
        performance_bond=bond,
        terms=terms,
        reason=reason,
        diff=canonical_value(diff),
        content=content,
        sha256=canonical_sha256(content),
        created_at=now,
        created_by=actor.acting_user,
    )
    for upload in uploads:
        document = ContractDocument(
            contract=contract,
            version=version,
            title=upload.title,
            sha256=upload.sha256,
            size=upload.size,
            content_type=getattr(upload.upload, "content_type", "") or "",
            uploaded_by=actor.acting_user,
            uploaded_at=now,
        )
        document.file.save(upload.upload.name or "document", upload.upload, save=False)
        document.save()
    return version


def latest_version(contract: Contract) -> ContractVersion | None:
    return contract.versions.order_by("-number").first()


def pending_version(contract: Contract) -> ContractVersion | None:
    """The version waiting for signatures (newer than the one in force), if any."""
    latest = latest_version(contract)
    if latest is None or latest.number <= contract.effective_version:
        return None
    return latest


# --- Drafting -------------------------------------------------------------------------------------


def draft_contract(
    actor: Actor,
    lot: Lot,
    *,
    price: str,
    terms: str,
    performance_bond: str | None = None,
    files: Sequence[UploadedFile] = (),
) -> Contract:
    """The agent drafts the lot's contract after the award notice, at the award's price, between the
    purchaser and the winner (招标投标法 Art.46; 条例 Art.57; 政府采购法 Art.46)."""
    require_perm(actor, "trading.manage_project", lot.project)
    amount = parse_amount(price, field=str(_("合同价款")))
    terms_text = _text(terms, str(_("合同主要条款")), limit=TEXT_LIMIT)
    uploads = _hash_uploads(files)
    with transaction.atomic():
        project = lock_project(lot.project_id)
        ensure_not_suspended(project)
        publicity = (
            Publicity.objects.select_for_update(of=("self",))
            .select_related("winner")
            .filter(lot=lot)
            .first()
        )
        if publicity is None or publicity.status != Publicity.Status.AWARDED:
            raise Conflict(_("尚未发出中标通知书，不能起草合同。"), code="NOT_AWARDED")
        if Contract.objects.filter(lot=lot).exclude(status=Contract.Status.TERMINATED).exists():
            raise Conflict(_("该标段已有合同。"), code="CONTRACT_EXISTS")
        awarded = award_price(publicity)
        if amount != awarded:
            raise DomainError(
                _(
                    "合同价款须与中标（成交）价 %(award)s 元一致（招标投标法第四十六条、"
                    "政府采购法第四十六条）。"
                ),
                code="CONTRACT_PRICE_MISMATCH",
                award=format_amount(awarded),
            )
        bond = _parse_bond(performance_bond, amount)
        now = timezone.now()
        winner = present(publicity.winner, "an award's winner")
        contract = Contract.objects.create(
            number=f"tmp-{lot.pk}",
            lot=lot,
            purchaser=project.owner,
            agent=project.agent,
            supplier=winner,
            award_price=awarded,
            price=amount,
            performance_bond=bond,
            terms=terms_text,
            drafted_at=now,
            drafted_by=actor.acting_user,
        )
        contract.number = f"HT{timezone.localtime(now):%Y}-{contract.pk:05d}"
        contract.save(update_fields=["number"])
        version = _new_version(
            actor,
            contract,
            kind=ContractVersion.Kind.ORIGINAL,
            price=amount,
            bond=bond,
            terms=terms_text,
            uploads=uploads,
            reason="",
            diff={},
            now=now,
        )
        for perm in AGENT_PERMISSIONS:
            assign_perm(perm, project.agent.members_group, contract)
        for perm in SUPPLIER_PERMISSIONS:
            assign_perm(perm, winner.members_group, contract)
        assign_perm("contracts.view_contract", project.owner.members_group, contract)
        event = record(
            actor,
            "contracts.contract.drafted",
            contract,
            {
                "number": contract.number,
                "lot": lot.pk,
                "supplier": winner.pk,
                "price": amount,
                "performance_bond": bond,
                "version": version.number,
                "sha256": version.sha256,
                "documents": [u.summary() for u in uploads],
                "contract_due_at": publicity.contract_due_at,
            },
        )
        _tell(
            "contract.drafted",
            supplier_side(contract),
            contract,
            event.pk,
            due_at=publicity.contract_due_at,
            deadline=moment_text(publicity.contract_due_at),
        )
    return contract


# --- Signing --------------------------------------------------------------------------------------


def _contract_announcement(actor: Actor, contract: Contract, event: str, *, reason: str) -> None:
    """A new version of the project's 合同公告 stating this contract as it now stands (GP only).
    The platform publishes it itself, as the rules require (GP 条例 Art.50)."""
    if not contract.is_gp:
        return
    project = contract.lot.project
    lot = contract.lot
    body = "\n".join(
        [
            f"合同编号：{contract.number}",
            f"项目：{project.number} {project.title}",
            f"标段：第{lot.number}标段 {lot.name}",
            f"采购人：{contract.purchaser.name}",
            f"供应商：{contract.supplier.name}",
            f"合同金额：{format_amount(contract.price)} 元",
            f"签订时间：{moment_text(contract.signed_at)}",
            "",
            contract.terms,
        ]
    )
    publish_version(
        actor,
        project,
        Announcement.Kind.CONTRACT,
        title=f"{project.title}第{lot.number}标段{Announcement.Kind.CONTRACT.label}",
        body=body,
        reason=reason,
        extra={"lot": lot.number, "contract_event": event, "contract": public_content(contract)},
    )


def public_content(contract: Contract) -> dict[str, Any]:
    """What the 合同公告 states of the contract: parties, price, signature, versions in force, files,
    milestones, payments, acceptance. Frozen into the announcement version (and its OCDS release)."""
    now = timezone.now()
    effective = contract.versions.filter(effective_at__isnull=False).order_by("number")
    acceptance = contract.acceptances.order_by("-recorded_at", "-id").first()
    milestones = list(contract.milestones.order_by("number"))
    return {
        "number": contract.number,
        "award_id": award_id(contract.lot),
        "lot": contract.lot.number,
        "lot_name": contract.lot.name,
        "status": contract.status,
        "price": format_amount(contract.price),
        "signed_at": contract.signed_at,
        "terminated_at": contract.terminated_at,
        "purchaser": {"name": contract.purchaser.name, "uscc": contract.purchaser.uscc},
        "supplier": {"name": contract.supplier.name, "uscc": contract.supplier.uscc},
        "version": contract.effective_version,
        "versions": [
            {
                "number": v.number,
                "kind": v.kind,
                "reason": v.reason,
                "sha256": v.sha256,
                "effective_at": v.effective_at,
            }
            for v in effective
        ],
        "documents": [
            {"id": d.pk, "title": d.title, "sha256": d.sha256, "uploaded_at": d.uploaded_at}
            for d in contract.documents.filter(version__effective_at__isnull=False).order_by(
                "uploaded_at", "id"
            )
        ],
        "milestones": [
            {
                "number": m.number,
                "description": m.description,
                "due_on": m.due_on,
                "amount": format_amount(m.amount),
                "delivered_at": m.delivered_at,
                "late": m.late_at(now),
            }
            for m in milestones
        ],
        "transactions": [
            {"milestone": m.number, "amount": format_amount(m.amount), "paid_at": m.paid_at}
            for m in milestones
            if m.paid_at is not None
        ],
        "acceptance": {
            "accepted_on": acceptance.accepted_on,
            "result": acceptance.result,
            "remarks": acceptance.remarks,
        }
        if acceptance
        else None,
    }


def sign_contract(actor: Actor, contract: Contract, *, signed: Signed | None) -> Contract:
    """One party signs the version waiting for signatures (contract.sign over its hash). When both
    have signed, it is in force: the first one records the contract with the award (deposits are
    refunded as `bidding.evaluation.record_contract` does) and, for GP, publishes it at once
    (GP 条例 Art.50: within 2 working days); a later one (amendment, supplement) replaces the terms and,
    for GP, is published too."""
    require_perm(actor, "contracts.sign_contract", contract)
    require_org_role(actor, *PARTY_ROLES)
    side = side_of(actor, contract)
    if side is None:
        raise NotPermitted(_("只有合同双方可以签署合同。"))
    with transaction.atomic():
        lock_project(contract.lot.project_id)
        locked = _lock(contract)
        if not locked.is_open:
            raise Conflict(_("合同已终止或已验收。"), code="WRONG_STATUS")
        version = pending_version(locked)
        if version is None:
            raise Conflict(_("没有待签署的合同版本。"), code="NOTHING_TO_SIGN")
        version = ContractVersion.objects.select_for_update().get(pk=version.pk)
        already = version.purchaser_signed_at if side == PURCHASER else version.supplier_signed_at
        if already is not None:
            raise Conflict(_("贵方已签署该版本。"), code="ALREADY_SIGNED")
        project = locked.lot.project
        if locked.status == Contract.Status.DRAFT:
            ensure_not_suspended(project)
        now = timezone.now()
        if side == SUPPLIER:
            ensure_may_trade(locked.supplier, now)
        signed_act = require_signature(
            actor, SIGN_ACT, locked, digest=version.sha256, signed=signed
        )
        if side == PURCHASER:
            version.purchaser_signed_at, version.purchaser_signed_by = now, actor.acting_user
            fields = ["purchaser_signed_at", "purchaser_signed_by"]
        else:
            version.supplier_signed_at, version.supplier_signed_by = now, actor.acting_user
            fields = ["supplier_signed_at", "supplier_signed_by"]
        version.save(update_fields=fields)
        event = record(
            actor,
            "contracts.contract.party_signed",
            locked,
            {
                "side": side,
                "version": version.number,
                "sha256": version.sha256,
                **signature_payload(signed_act),
            },
        )
        if version.purchaser_signed_at is None or version.supplier_signed_at is None:
            other = supplier_side(locked) if side == PURCHASER else purchaser_side(locked)
            _tell("contract.party_signed", other, locked, event.pk, version=str(version.number))
            return locked
        _put_in_force(actor, locked, version, now)
    return locked


def _put_in_force(
    actor: Actor, contract: Contract, version: ContractVersion, now: dt.datetime
) -> None:
    version.effective_at = now
    version.save(update_fields=["effective_at"])
    first = contract.status == Contract.Status.DRAFT
    contract.effective_version = version.number
    contract.price = version.price
    contract.performance_bond = version.performance_bond
    contract.terms = version.terms
    fields = ["effective_version", "price", "performance_bond", "terms"]
    platform = Actor.system("contracts")
    if first:
        contract.status = Contract.Status.SIGNED
        contract.signed_at = now
        fields += ["status", "signed_at"]
        if contract.is_gp:
            contract.publication_due_at = rules.publication_due(now)
            fields.append("publication_due_at")
    contract.save(update_fields=fields)
    event = record(
        actor,
        "contracts.contract.in_force",
        contract,
        {
            "version": version.number,
            "kind": version.kind,
            "sha256": version.sha256,
            "price": contract.price,
            "publication_due_at": contract.publication_due_at,
        },
    )
    if first:
        # Both parties signed: the award's contract is recorded (deposits refunded as before).
        record_contract(platform, contract.lot, signed_at=now)
    if contract.is_gp:
        _contract_announcement(
            platform,
            contract,
            "signed" if first else "amended",
            reason=str(_("合同签订")) if first else version.reason,
        )
        if first:
            contract.status = Contract.Status.PUBLISHED
            contract.published_at = now
            contract.save(update_fields=["status", "published_at"])
            record(
                platform,
                "contracts.contract.published",
                contract,
                {"published_at": now, "due_at": contract.publication_due_at},
            )
    _tell(
        "contract.effective",
        [*purchaser_side(contract), *supplier_side(contract)],
        contract,
        event.pk,
        version=str(version.number),
    )


# --- Changes --------------------------------------------------------------------------------------


def _terms_diff(before: str, after: str) -> str:
    return "\n".join(
        difflib.unified_diff(
            before.splitlines(), after.splitlines(), "before", "after", lineterm="", n=1
        )
    )


def amend_contract(
    actor: Actor,
    contract: Contract,
    *,
    reason: str,
    price: str | None = None,
    terms: str | None = None,
    performance_bond: str | None = None,
    supplement: bool = False,
    files: Sequence[UploadedFile] = (),
) -> ContractVersion:
    """A new version with its reason and diff, to be signed by both parties.

    The price follows the award (招标投标法 Art.46; 条例 Art.57): before signing it stays the
    award's price, and after signing it stays the price in force — except for a GP supplement adding
    the same goods or services (`supplement=True`), which may raise it to at most 10 % above the
    original in total (政府采购法 Art.49). `performance_bond` "" removes the bond."""
    require_perm(actor, "contracts.manage_contract", contract)
    reason_text = _text(reason, str(_("变更理由")))
    new_terms = (
        _text(terms, str(_("合同主要条款")), limit=TEXT_LIMIT) if terms is not None else None
    )
    new_price = parse_amount(price, field=str(_("合同价款"))) if price is not None else None
    uploads = _hash_uploads(files)
    with transaction.atomic():
        locked = _lock(contract)
        if not locked.is_open:
            raise Conflict(_("合同已终止或已验收。"), code="WRONG_STATUS")
        base = present(latest_version(locked), "a drafted contract's version")
        in_force = locked.status != Contract.Status.DRAFT
        price_now = locked.price if in_force else locked.award_price
        target = new_price if new_price is not None else base.price
        if supplement:
            if not locked.is_gp:
                raise DomainError(
                    _(
                        "只有政府采购合同可以签订补充合同追加同类货物、服务（政府采购法第四十九条）。"
                    ),
                    code="SUPPLEMENT_GP_ONLY",
                )
            if not in_force:
                raise Conflict(_("合同签订后方可签订补充合同。"), code="WRONG_STATUS")
            if target <= price_now:
                raise DomainError(_("补充合同须追加采购金额。"), code="CONTRACT_PRICE_MISMATCH")
            cap = rules.supplement_cap(locked.award_price)
            if target > cap:
                raise DomainError(
                    _(
                        "所有补充合同的采购金额不得超过原合同采购金额的10%%：合同总价最多 %(cap)s 元"
                        "（政府采购法第四十九条）。"
                    ),
                    code="SUPPLEMENT_OVER_CAP",
                    cap=format_amount(cap),
                )
        elif target != price_now:
            raise DomainError(
                _(
                    "合同价款须与中标（成交）结果一致（%(price)s 元；招标投标法第四十六条、"
                    "实施条例第五十七条）。"
                ),
                code="CONTRACT_PRICE_MISMATCH",
                price=format_amount(price_now),
            )
        if performance_bond is None:
            bond = base.performance_bond
            if bond is not None and bond > rules.bond_cap(target):
                bond = _parse_bond(format_amount(bond), target)
        else:
            bond = _parse_bond(performance_bond, target)
        terms_after = new_terms if new_terms is not None else base.terms
        diff: dict[str, Any] = {}
        if target != base.price:
            diff["price"] = [format_amount(base.price), format_amount(target)]
        if bond != base.performance_bond:
            diff["performance_bond"] = [
                format_amount(b) if b is not None else None for b in (base.performance_bond, bond)
            ]
        if terms_after != base.terms:
            diff["terms"] = _terms_diff(base.terms, terms_after)
        if uploads:
            diff["documents"] = [u.summary() for u in uploads]
        if not diff:
            raise DomainError(_("变更内容为空。"), code="NOTHING_CHANGED")
        now = timezone.now()
        kind = ContractVersion.Kind.SUPPLEMENT if supplement else ContractVersion.Kind.AMENDMENT
        version = _new_version(
            actor,
            locked,
            kind=kind,
            price=target,
            bond=bond,
            terms=terms_after,
            uploads=uploads,
            reason=reason_text,
            diff=diff,
            now=now,
        )
        if not in_force:
            # A draft's figures follow its newest version until something is signed.
            locked.price, locked.performance_bond, locked.terms = target, bond, terms_after
            locked.save(update_fields=["price", "performance_bond", "terms"])
        event = record(
            actor,
            "contracts.contract.amended",
            locked,
            {
                "version": version.number,
                "kind": kind,
                "reason": reason_text,
                "diff": version.diff,
                "sha256": version.sha256,
            },
        )
        _tell(
            "contract.amended",
            supplier_side(locked),
            locked,
            event.pk,
            version=str(version.number),
            reason=reason_text,
        )
    return version


# --- Performance ----------------------------------------------------------------------------------


def _require_in_force(contract: Contract) -> None:
    if not contract.in_force:
        raise Conflict(
            _("合同当前状态为“%(status)s”，不能办理。"),
            code="CONTRACT_NOT_IN_FORCE",
            status=contract.get_status_display(),
        )


def add_milestone(
    actor: Actor, contract: Contract, *, description: str, due_on: dt.date, amount: str
) -> Milestone:
    """A delivery the contract schedules, with the part of the price it carries."""
    require_perm(actor, "contracts.manage_contract", contract)
    text = _text(description, str(_("内容")))
    portion = parse_amount(amount, field=str(_("对应价款")), allow_zero=True)
    if not isinstance(due_on, dt.date) or isinstance(due_on, dt.datetime):
        raise DomainError(_("应交付日须为日期。"), code="INVALID_DATE")
    with transaction.atomic():
        locked = _lock(contract)
        if not locked.is_open:
            raise Conflict(_("合同已终止或已验收。"), code="WRONG_STATUS")
        scheduled = sum((m.amount for m in locked.milestones.all()), Decimal("0"))
        if scheduled + portion > locked.price:
            raise DomainError(
                _("各履约节点价款之和不得超过合同价款 %(price)s 元。"),
                code="MILESTONES_OVER_PRICE",
                price=format_amount(locked.price),
            )
        milestone = Milestone.objects.create(
            contract=locked,
            number=locked.milestones.count() + 1,
            description=text,
            due_on=due_on,
            amount=portion,
            created_at=timezone.now(),
        )
        record(
            actor,
            "contracts.milestone.added",
            locked,
            {"milestone": milestone.number, "due_on": due_on, "amount": portion},
        )
    return milestone


def _public_update(contract: Contract, event: str, reason: str) -> None:
    """A published contract's announcement follows its performance (OCDS implementation)."""
    if contract.published_at is not None:
        _contract_announcement(Actor.system("contracts"), contract, event, reason=reason)


def complete_milestone(actor: Actor, milestone: Milestone) -> Milestone:
    """Either party records that a milestone was delivered; the contract is then in performance."""
    contract = milestone.contract
    require_perm(actor, "contracts.perform_contract", contract)
    require_org_role(actor, *PARTY_ROLES)
    with transaction.atomic():
        locked = _lock(contract)
        _require_in_force(locked)
        current = Milestone.objects.select_for_update().get(pk=milestone.pk)
        if current.delivered_at is not None:
            raise Conflict(_("该节点已记录交付。"), code="ALREADY_DELIVERED")
        now = timezone.now()
        current.delivered_at, current.delivered_by = now, actor.acting_user
        current.save(update_fields=["delivered_at", "delivered_by"])
        if locked.status != Contract.Status.PERFORMING:
            locked.status = Contract.Status.PERFORMING
            locked.save(update_fields=["status"])
        event = record(
            actor,
            "contracts.milestone.delivered",
            locked,
            {"milestone": current.number, "delivered_at": now, "late": current.late_at(now)},
        )
        side = side_of(actor, locked)
        other = purchaser_side(locked) if side == SUPPLIER else supplier_side(locked)
        _tell(
            "contract.delivered",
            other,
            locked,
            event.pk,
            milestone=f"#{current.number} {current.description}",
        )
        _public_update(locked, "implementation", str(_("履约交付")))
    return current


def record_payment(actor: Actor, milestone: Milestone) -> Milestone:
    """The purchaser's side records the payment of a delivered milestone (an OCDS transaction)."""
    contract = milestone.contract
    require_perm(actor, "contracts.manage_contract", contract)
    with transaction.atomic():
        locked = _lock(contract)
        current = Milestone.objects.select_for_update().get(pk=milestone.pk)
        if locked.status == Contract.Status.DRAFT:
            raise Conflict(_("合同尚未签订。"), code="CONTRACT_NOT_IN_FORCE")
        if current.delivered_at is None:
            raise Conflict(_("该节点尚未交付。"), code="NOT_DELIVERED")
        if current.paid_at is not None:
            raise Conflict(_("该节点已记录付款。"), code="ALREADY_PAID")
        now = timezone.now()
        current.paid_at = now
        current.save(update_fields=["paid_at"])
        record(
            actor,
            "contracts.milestone.paid",
            locked,
            {"milestone": current.number, "amount": current.amount, "paid_at": now},
        )
        _public_update(locked, "implementation", str(_("合同付款")))
    return current


def record_acceptance(
    actor: Actor, contract: Contract, *, accepted_on: dt.date, result: str, remarks: str = ""
) -> Acceptance:
    """履约验收, organized by the purchaser (GP 条例 Art.45) and recorded by its agent. A pass ends
    the contract's performance (accepted); a failure is recorded and performance goes on."""
    require_perm(actor, "contracts.manage_contract", contract)
    if result not in Acceptance.Result.values:
        raise DomainError(_("无效的验收结论。"), code="INVALID_RESULT")
    remarks_text = _text(remarks, str(_("验收意见")), required=False, limit=TEXT_LIMIT)
    if result == Acceptance.Result.FAILED and not remarks_text:
        raise DomainError(_("验收不合格须写明意见。"), code="REMARKS_REQUIRED")
    with transaction.atomic():
        locked = _lock(contract)
        _require_in_force(locked)
        now = timezone.now()
        if accepted_on > timezone.localtime(now).date():
            raise DomainError(_("验收日期不能晚于今天。"), code="INVALID_DATE")
        acceptance = Acceptance.objects.create(
            contract=locked,
            accepted_on=accepted_on,
            result=result,
            remarks=remarks_text,
            recorded_by=actor.acting_user,
            recorded_at=now,
        )
        if result == Acceptance.Result.PASSED:
            locked.status = Contract.Status.ACCEPTED
            locked.accepted_at = now
            locked.save(update_fields=["status", "accepted_at"])
        event = record(
            actor,
            "contracts.contract.acceptance",
            locked,
            {"acceptance": acceptance.pk, "accepted_on": accepted_on, "result": result},
        )
        _tell(
            "contract.acceptance",
            supplier_side(locked),
            locked,
            event.pk,
            result=str(acceptance.get_result_display()),
            remarks=remarks_text,
        )
        _public_update(locked, "implementation", str(_("履约验收")))
    return acceptance


def record_performance_issue(
    actor: Actor,
    contract: Contract,
    *,
    kind: str,
    severity: str,
    description: str,
    milestone: Milestone | None = None,
) -> PerformanceIssue:
    """Late or poor performance, recorded by the purchaser's side. A serious one goes to center
    staff, who may record it as 不良行为 (`escalate_issue`)."""
    require_perm(actor, "contracts.manage_contract", contract)
    if kind not in PerformanceIssue.Kind.values:
        raise DomainError(_("无效的问题类型。"), code="INVALID_KIND")
    if severity not in PerformanceIssue.Severity.values:
        raise DomainError(_("无效的严重程度。"), code="INVALID_SEVERITY")
    text = _text(description, str(_("情况说明")), limit=TEXT_LIMIT)
    if milestone is not None and milestone.contract_id != contract.pk:
        raise DomainError(_("履约节点不属于本合同。"), code="MILESTONE_INVALID")
    with transaction.atomic():
        locked = _lock(contract)
        if locked.status == Contract.Status.DRAFT:
            raise Conflict(_("合同尚未签订。"), code="CONTRACT_NOT_IN_FORCE")
        issue = PerformanceIssue.objects.create(
            contract=locked,
            milestone=milestone,
            kind=kind,
            severity=severity,
            description=text,
            recorded_by=actor.acting_user,
            recorded_at=timezone.now(),
        )
        event = record(
            actor,
            "contracts.issue.recorded",
            locked,
            {"issue": issue.pk, "kind": kind, "severity": severity, "description": text},
        )
        _tell(
            "contract.issue",
            supplier_side(locked),
            locked,
            event.pk,
            kind=str(issue.get_kind_display()),
            severity=str(issue.get_severity_display()),
            description=text[:200],
        )
        if severity == PerformanceIssue.Severity.SERIOUS:
            _tell("contract.issue_serious", recipients.center_staff(), locked, event.pk)
    return issue


def escalate_issue(
    actor: Actor,
    issue: PerformanceIssue,
    *,
    barred_from: dt.date,
    barred_until: dt.date | None,
    decision_number: str = "",
) -> IntegrityRecord:
    """Center staff record a serious performance issue as 不良行为 (BAD_CONDUCT) through
    `accounts.services.bar_organization`; `accounts.services.ensure_may_trade` then refuses the
    supplier while the bar runs (招标投标法 Art.60)."""
    require_perm(actor, "accounts.manage_integrity", issue.contract.supplier)
    with transaction.atomic():
        current = (
            PerformanceIssue.objects.select_for_update(of=("self",))
            .select_related("contract__supplier", "contract__lot__project")
            .get(pk=issue.pk)
        )
        if current.severity != PerformanceIssue.Severity.SERIOUS:
            raise DomainError(_("只有严重履约问题可以记入不良行为记录。"), code="ISSUE_NOT_SERIOUS")
        if current.integrity_record_id is not None:
            raise Conflict(_("该问题已记入不良行为记录。"), code="ALREADY_ESCALATED")
        contract = current.contract
        bar = bar_organization(
            actor,
            contract.supplier,
            category=IntegrityRecord.Category.BAD_CONDUCT,
            source=IntegrityRecord.Source.CENTER,
            reason=f"合同 {contract.number} 履约问题（{current.get_kind_display()}）："
            f"{current.description}",
            barred_from=barred_from,
            barred_until=barred_until,
            decision_number=decision_number,
        )
        current.integrity_record = bar
        current.save(update_fields=["integrity_record"])
        record(
            actor,
            "contracts.issue.escalated",
            contract,
            {"issue": current.pk, "integrity_record": bar.pk},
        )
    return bar


def terminate_contract(actor: Actor, contract: Contract, *, reason: str) -> Contract:
    """The contract ends early (解除/终止), with its reason."""
    require_perm(actor, "contracts.manage_contract", contract)
    reason_text = _text(reason, str(_("终止理由")), limit=TEXT_LIMIT)
    with transaction.atomic():
        locked = _lock(contract)
        _require_in_force(locked)
        now = timezone.now()
        locked.status = Contract.Status.TERMINATED
        locked.terminated_at = now
        locked.termination_reason = reason_text
        locked.save(update_fields=["status", "terminated_at", "termination_reason"])
        event = record(actor, "contracts.contract.terminated", locked, {"reason": reason_text})
        _tell(
            "contract.terminated",
            [*purchaser_side(locked), *supplier_side(locked)],
            locked,
            event.pk,
            reason=reason_text[:200],
        )
        _public_update(locked, "terminated", str(_("合同终止")))
    return locked


def void_drafts(
    sender: Any, *, actor: Actor, lot: Lot, organization: int, reason: str, **kwargs: Any
) -> None:
    """`bidding.signals.award_withdrawn`: the winner refused or its award was declared void, so the
    contract drafted with it never comes into force. A draft only: once both sides signed, the award
    is contracted and can no longer be refused or voided on the platform (bidding refuses first).
    Inside the award's transaction; the next winner's contract can be drafted after it."""
    for draft in Contract.objects.select_for_update().filter(
        lot=lot, supplier_id=organization, status=Contract.Status.DRAFT
    ):
        draft.status = Contract.Status.TERMINATED
        draft.terminated_at = timezone.now()
        draft.termination_reason = str(
            _("中标人放弃或中标结果无效：%(reason)s") % {"reason": reason}
        )[:TEXT_LIMIT]
        draft.save(update_fields=["status", "terminated_at", "termination_reason"])
        record(
            actor,
            "contracts.contract.voided",
            draft,
            {"lot": lot.pk, "organization": organization, "reason": bounded(reason)},
        )


# --- Reading --------------------------------------------------------------------------------------


def may_see(user: Any, contract: Contract) -> bool:
    return has_perm(user, "contracts.view_contract", contract)


def parties(contract: Contract) -> dict[str, Organization]:
    return {PURCHASER: contract.purchaser, SUPPLIER: contract.supplier}
