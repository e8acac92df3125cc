"""Sealed submission and the electronic opening.

Nobody reads a bid before the deadline: prices and files are sealed (bidding.crypto) the moment they
arrive, the audit chain records only ciphertext hashes, and the only code that unwraps a project's key
is `project_private_key`; opening bids asks for it through `opening_private_key`, which refuses before
the deadline (`refuse_before_deadline` records the attempt).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from nacl.public import PrivateKey

from accounts.actors import Actor
from accounts.models import Organization, OrgRole, Role
from accounts.permissions import require_perm
from accounts.services import ensure_may_trade, require_org_role
from audit import detectors
from audit.services import record
from bidding import crypto, notices
from bidding.commitment import bid_commitment, clean_nonce
from bidding.models import Bid, BidFile, Opening, OpeningResponse, ProjectKey
from clock.services import schedule
from deposits.services import (
    qualification,
    refund_on_failed_lot,
    refund_on_withdrawal,
    settle_decryption_failure,
)
from experts.keys import SealBroken
from lib.canonical import canonical_bytes, canonical_sha256, canonical_value, sha256_hex
from lib.errors import Conflict, DomainError, NotPermitted
from lib.money import format_amount, parse_amount
from notifications import recipients
from notifications.services import moment_text
from signing.services import Signed, require_signature, signature_payload
from trading.exceptions import TooLate
from trading.models import Announcement, Lot, Project, Registration
from trading.rules import min_responses, rules_for
from trading.services import ensure_not_suspended, lock_project, publish_version

MAX_FILES = 20


class EarlyAccessRefused(NotPermitted):
    code = "BEFORE_DEADLINE"


# --- Keys -----------------------------------------------------------------------------------------


def project_public_key(project: Project) -> bytes:
    key = ProjectKey.objects.filter(project=project).first()
    if key is None:
        public, wrapped = crypto.new_project_key()
        key, _ = ProjectKey.objects.get_or_create(
            project=project, defaults={"public_key": public, "wrapped_private_key": wrapped}
        )
    return bytes(key.public_key)


class DrawSeals:
    """The project key lent to the expert draws (`experts.keys.ProjectKeys`, registered in
    `BiddingConfig.ready`): a draw's seed is sealed to it until the draw opens it."""

    def seal(self, project: Project, data: bytes) -> bytes:
        return crypto.seal_to(project_public_key(project), data)

    def open(self, project_id: int, sealed: Any) -> bytes:
        try:
            return crypto.open_outer(project_private_key(project_id), bytes(sealed))
        except crypto.SealError as exc:
            raise SealBroken(str(exc)) from exc


class FailedLots:
    """Which lots failed at their opening (流标), and why: what the re-tender asks
    (`trading.signals.FailedLots`, registered in `BiddingConfig.ready`)."""

    def condition(self) -> Q:
        return Q(opening__stage=Opening.Stage.FAILED)

    def reason(self, lot: Lot) -> str | None:
        opening = Opening.objects.filter(lot=lot).first()
        if opening is None or opening.stage != Opening.Stage.FAILED:
            return None
        return opening.failure_reason


def refuse_before_deadline(actor: Actor, lot: Lot) -> None:
    """Refuse any attempt to open bids before the deadline, and record the attempt.

    Called before the caller's transaction starts, so the refusal's audit event commits even though
    the action itself is refused.
    """
    project = Project.objects.only("bid_deadline").get(pk=lot.project_id)
    now = timezone.now()
    if now < project.bid_deadline:
        with transaction.atomic():
            record(
                actor,
                "bidding.key.early_access_refused",
                ("trading.project", str(lot.project_id)),
                {"lot": lot.pk, "deadline": project.bid_deadline, "at": now},
            )
        raise EarlyAccessRefused(_("投标截止时间前任何人不得解密投标文件。"))


def project_private_key(project_id: int) -> PrivateKey:
    """The only path to a project's private key: unwrapped under `BID_MASTER_KEY` for one use.

    It opens nothing by itself. Each caller asks at its own moment, checked under its own lock
    first: bids at or after the deadline (`opening_private_key`: the opening, the rounds auction's
    sealed initial bids), a land listing's sealed values once its price bidding is over
    (`bidding.land.services`), an expert draw's sealed seed at the draw (`DrawSeals.open`, lent to
    `experts.services`).
    `tests/bidding/test_one_key_path.py` fails if any other code unwraps a key."""
    key = ProjectKey.objects.get(project_id=project_id)
    return crypto.unwrap_private_key(bytes(key.wrapped_private_key))


def opening_private_key(lot: Lot, now: dt.datetime) -> PrivateKey:
    """The key that opens the lot's sealed bids: refused before the deadline, re-checked at `now`
    under the caller's lock."""
    if now < lot.project.bid_deadline:
        raise EarlyAccessRefused(_("投标截止时间前任何人不得解密投标文件。"))
    return project_private_key(lot.project_id)


# --- Submission -----------------------------------------------------------------------------------


# Who inside a bidder's organization does its bidding acts (bids, withdrawal, decryption, the
# opening record): its bid operators and administrators, not e.g. its finance staff.
BIDDING_ROLES = (OrgRole.BID_OPERATOR, OrgRole.ADMIN)


def _check_may_bid(actor: Actor, lot: Lot, project: Project, now: dt.datetime) -> None:
    if actor.role != Role.SUPPLIER or actor.organization is None:
        raise NotPermitted(_("只有投标人可以递交投标文件。"))
    require_org_role(actor, *BIDDING_ROLES)
    if project.status != Project.Status.PUBLISHED:
        raise Conflict(_("项目不在投标阶段。"), code="WRONG_STATUS")
    if now >= project.bid_deadline:
        raise TooLate(_("投标截止时间已过，不再接受投标文件。"))
    ensure_not_suspended(project)
    ensure_may_trade(actor.organization, now)
    if not Registration.objects.filter(lot=lot, organization=actor.organization).exists():
        raise DomainError(_("请先报名该标段。"), code="NOT_REGISTERED")
    if not qualification(lot, actor.organization).qualified:
        raise DomainError(_("保证金未按时足额缴纳，不能投标。"), code="DEPOSIT_NOT_QUALIFIED")


def bid_act(lot: Lot, bid: Bid | None) -> tuple[str, str, int]:
    """What a (re)submission signs, given the bidder's current bid on the lot, as (act, target type,
    target id): `bid.modify` on a standing bid, else `bid.submit` on the lot (a first bid, or a new
    one after a withdrawal)."""
    if bid is not None and bid.status == Bid.Status.SUBMITTED:
        return "bid.modify", "bidding.bid", bid.pk
    return "bid.submit", "trading.lot", lot.pk


def submit_bid(
    actor: Actor,
    lot: Lot,
    *,
    price: Any,
    decryption_code: str,
    files: list[Any] | None = None,
    nonce: str | None = None,
    signed: Signed | None = None,
) -> Bid:
    """Seal and store a bid (or replace the bidder's earlier one) before the deadline; returns the bid
    whose `receipt_sha256` and `submitted_at` form the receipt (回执).

    The bidder signs `bid.submit` on the lot (a first bid, or a new one after a withdrawal) or
    `bid.modify` on its standing bid, over the bid commitment (`bidding.commitment`) of the price,
    its `nonce` and the files: computed here from what arrived, so the signature covers exactly the
    bid that is sealed. The nonce is sealed with the price; without one (an unsigned submission
    under the development fallback) the platform draws it."""
    price = parse_amount(price, field="price")
    nonce = clean_nonce(nonce)
    if len(decryption_code or "") < 8:
        raise DomainError(
            _("解密口令至少 8 位，请牢记：开标时须凭它在线解密。"), code="CODE_TOO_SHORT"
        )
    files = list(files or [])
    if len(files) > MAX_FILES:
        raise DomainError(_("投标文件过多。"), code="TOO_MANY_FILES")
    # Seal before taking any lock: the plaintext never reaches the database, and scrypt is slow.
    public = project_public_key(lot.project)
    salt = crypto.new_salt()
    inner_key = crypto.code_key(decryption_code, salt)
    sealed_price = crypto.seal(
        public, inner_key, json.dumps({"price": str(price), "nonce": nonce}).encode()
    )
    sealed_files = []
    file_hashes = []
    for upload in files:
        content = b"".join(upload.chunks())
        file_hashes.append(sha256_hex(content))
        payload = json.dumps({"name": upload.name}).encode() + b"\n" + content
        sealed = crypto.seal(public, inner_key, payload)
        sealed_files.append((sealed, sha256_hex(sealed), crypto.document_fingerprint(content)))
    commitment = bid_commitment(format_amount(price), nonce, file_hashes)
    with transaction.atomic():
        project = lock_project(lot.project_id)
        now = timezone.now()
        _check_may_bid(actor, lot, project, now)
        existing = (
            Bid.objects.select_for_update().filter(lot=lot, organization=actor.organization).first()
        )
        if existing is not None and existing.status not in (
            Bid.Status.SUBMITTED,
            Bid.Status.WITHDRAWN,
        ):
            raise Conflict(_("该投标文件已进入开标。"), code="WRONG_STATUS")
        if existing is not None and project.method == Project.Method.INQUIRY:
            # 询价: one price that cannot be changed (政府采购法 Art.40; 财政部令第74号 Art.46) — not
            # by a modification, nor by a withdrawal and a new response.
            raise Conflict(
                _("询价采购中供应商一次报出不得更改的价格，已提交的报价不能修改或重新提交。"),
                code="PRICE_FIXED",
            )
        act, target_type, target_id = bid_act(lot, existing)
        signed_act = require_signature(
            actor, act, (target_type, target_id), digest=commitment, signed=signed
        )
        sealed_sha = sha256_hex(sealed_price)
        receipt = sha256_hex(
            canonical_bytes(
                canonical_value(
                    {
                        "lot": lot.pk,
                        "organization": actor.organization.pk,
                        "submitted_at": now,
                        "price": sealed_sha,
                        "files": [digest for _, digest, _ in sealed_files],
                    }
                )
            )
        )
        bid = existing or Bid(lot=lot, organization=actor.organization, version=0)
        bid.submitted_by = actor.user
        bid.status = Bid.Status.SUBMITTED
        bid.version += 1
        bid.submitted_at = now
        bid.submitted_ip = actor.ip
        bid.withdrawn_at = None
        bid.salt, bid.sealed_price, bid.sealed_sha256, bid.receipt_sha256 = (
            salt,
            sealed_price,
            sealed_sha,
            receipt,
        )
        bid.commitment, bid.commitment_opened, bid.signed_act = commitment, None, signed_act
        bid.save()
        bid.files.all().delete()
        for sealed, digest, fingerprint in sealed_files:
            BidFile.objects.create(
                bid=bid,
                file=ContentFile(sealed, name="bid.sealed"),
                sha256=digest,
                size=len(sealed),
                fingerprint=fingerprint,
            )
        event = record(
            actor,
            "bidding.bid.submitted" if bid.version == 1 else "bidding.bid.modified",
            bid,
            {
                "lot": lot.pk,
                "version": bid.version,
                "sealed_sha256": sealed_sha,
                "receipt_sha256": receipt,
                "files": [digest for _, digest, _ in sealed_files],
                "commitment": commitment,
                **signature_payload(signed_act),
            },
        )
        # The receipt goes to the bidder's own bid operators only: not its finance staff, not the agent.
        notices.tell(
            "bid.receipt",
            recipients.bidders(actor.organization),
            event,
            lot,
            url=reverse("bid_receipt", args=[lot.pk]),
            params={"receipt": receipt, "submitted_at": moment_text(now)},
        )
        _collusion_signals(actor, lot, bid, [fp for _, _, fp in sealed_files])
    return bid


def _collusion_signals(actor: Actor, lot: Lot, bid: Bid, fingerprints: list[str]) -> None:
    """Same IP address or identical documents as another bidder on this lot: alert supervisors."""
    others = Bid.objects.filter(lot=lot).exclude(organization_id=bid.organization_id)
    if bid.submitted_ip:
        same_ip = set(
            others.filter(submitted_ip=bid.submitted_ip).values_list("organization_id", flat=True)
        )
        if same_ip:
            detectors.shared_ip(
                actor,
                project_id=lot.project_id,
                lot_id=lot.pk,
                ip=bid.submitted_ip,
                organizations=same_ip | {bid.organization_id},
                where="sealed_bid",
            )
    for fingerprint in set(fingerprints):
        same = set(
            BidFile.objects.filter(bid__in=others, fingerprint=fingerprint).values_list(
                "bid__organization_id", flat=True
            )
        )
        if same:
            detectors.same_documents(
                actor,
                project_id=lot.project_id,
                lot_id=lot.pk,
                organizations=same | {bid.organization_id},
                fingerprint=fingerprint,
            )


def withdraw_bid(actor: Actor, bid: Bid, *, signed: Signed | None = None) -> Bid:
    """Withdraw before the deadline (条例 Art.35): the deposit is refunded within 5 days. The bidder
    signs `bid.withdraw` on the bid (no digest)."""
    require_org_role(actor, *BIDDING_ROLES)
    with transaction.atomic():
        project = lock_project(bid.lot.project_id)
        locked = Bid.objects.select_for_update().get(pk=bid.pk)
        if actor.organization is None or locked.organization_id != actor.organization.pk:
            raise NotPermitted(_("只能撤回本单位的投标文件。"))
        now = timezone.now()
        if now >= project.bid_deadline:
            raise TooLate(_("投标截止时间已过，不能撤回；撤销投标的保证金可不予退还。"))
        if locked.status != Bid.Status.SUBMITTED:
            raise Conflict(_("该投标文件已撤回。"), code="WRONG_STATUS")
        signed_act = require_signature(actor, "bid.withdraw", locked, signed=signed)
        locked.status = Bid.Status.WITHDRAWN
        locked.withdrawn_at = now
        locked.save(update_fields=["status", "withdrawn_at"])
        record(
            actor,
            "bidding.bid.withdrawn",
            locked,
            {"lot": locked.lot_id, **signature_payload(signed_act)},
        )
        refund_on_withdrawal(actor, locked.lot, locked.organization, now)
    return locked


# --- Opening --------------------------------------------------------------------------------------


def schedule_opening(project: Project) -> None:
    """Called when a deadline is set or moved (publication, amendments): one clock task per lot."""
    for lot in project.lots.all():
        schedule("bidding.open_lot", lot.pk, project.bid_deadline)


def open_lot(actor: Actor, lot: Lot) -> Opening:
    """Start the opening at the deadline. Idempotent: a second call returns the existing opening.

    Fewer than three bids → the lot fails (流标) and deposits go back. Otherwise the platform unseals
    the outer layer of every bid (a bid it cannot open is the platform's failure → withdrawal) and the
    bidders' online decryption window starts.
    """
    refuse_before_deadline(actor, lot)
    with transaction.atomic():
        project = lock_project(lot.project_id)
        existing = Opening.objects.filter(lot=lot).first()
        if existing is not None:
            return existing
        now = timezone.now()
        if project.status != Project.Status.PUBLISHED:
            raise Conflict(_("项目不在投标阶段。"), code="WRONG_STATUS")
        ensure_not_suspended(project)
        private = opening_private_key(lot, now)
        bids = list(
            Bid.objects.select_for_update()
            .filter(lot=lot, status=Bid.Status.SUBMITTED)
            .order_by("pk")
        )
        opening = Opening.objects.create(
            lot=lot,
            stage=Opening.Stage.DECRYPTING,
            started_at=now,
            decryption_until=now + dt.timedelta(minutes=settings.BID_DECRYPTION_WINDOW_MINUTES),
        )
        needed = min_responses(project)
        if len(bids) < needed:
            _fail(actor, opening, _("递交投标文件的投标人少于 %(n)s 个。") % {"n": needed}, now)
            return opening
        for bid in bids:
            try:
                crypto.open_outer(private, bytes(bid.sealed_price))
                for bid_file in bid.files.all():
                    with bid_file.file.open("rb") as handle:
                        crypto.open_outer(private, handle.read())
            except (crypto.SealError, OSError) as exc:
                bid.status, bid.failure = Bid.Status.FAILED_PLATFORM, str(exc)[:200]
                bid.save(update_fields=["status", "failure"])
                record(actor, "bidding.bid.platform_failure", bid, {"failure": bid.failure})
                refund_on_withdrawal(actor, lot, bid.organization, now)
                continue
            bid.status = Bid.Status.AWAITING_DECRYPTION
            bid.save(update_fields=["status"])
        event = record(
            actor,
            "bidding.opening.started",
            opening,
            {"lot": lot.pk, "bids": len(bids), "decryption_until": opening.decryption_until},
        )
        # Each bidder whose bid awaits its decryption: the window is a legal deadline (its bid fails
        # and its deposit may be kept if it does not decrypt in time).
        waiting = Organization.objects.filter(
            bids__lot=lot, bids__status=Bid.Status.AWAITING_DECRYPTION
        ).distinct()
        notices.tell(
            "opening.started",
            recipients.bidders_of(waiting),
            event,
            lot,
            url=reverse("bidding_opening", args=[lot.pk]),
            params={"deadline": moment_text(opening.decryption_until)},
            due_at=opening.decryption_until,
        )
        schedule("bidding.finish_opening", lot.pk, opening.decryption_until)
    return opening


def decrypt_bid(actor: Actor, bid: Bid, *, decryption_code: str) -> Bid:
    """The bidder decrypts its own bid online during the decryption window."""
    require_org_role(actor, *BIDDING_ROLES)
    refuse_before_deadline(actor, bid.lot)
    with transaction.atomic():
        # Lock the bid row only: PostgreSQL refuses FOR UPDATE on the nullable side of the outer join
        # to the lot's opening.
        locked = (
            Bid.objects.select_for_update(of=("self",))
            .select_related("lot__opening")
            .get(pk=bid.pk)
        )
        if actor.organization is None or locked.organization_id != actor.organization.pk:
            raise NotPermitted(_("只能解密本单位的投标文件。"))
        opening = getattr(locked.lot, "opening", None)
        now = timezone.now()
        if (
            opening is None
            or opening.stage != Opening.Stage.DECRYPTING
            or locked.status != Bid.Status.AWAITING_DECRYPTION
        ):
            raise Conflict(_("当前不在解密阶段。"), code="WRONG_STATUS")
        if now > opening.decryption_until:
            raise TooLate(_("解密时间已过。"))
        private = opening_private_key(locked.lot, now)
        inner_key = crypto.code_key(decryption_code or "", bytes(locked.salt))
        locked.decryption_attempts += 1
        try:
            payload = json.loads(
                crypto.open_inner(inner_key, crypto.open_outer(private, bytes(locked.sealed_price)))
            )
        except crypto.SealError:
            locked.save(update_fields=["decryption_attempts"])
            record(
                actor,
                "bidding.bid.decryption_failed",
                locked,
                {"attempt": locked.decryption_attempts},
            )
            raise DomainError(_("解密口令不正确。"), code="WRONG_CODE") from None
        locked.price = Decimal(payload["price"])
        locked.status = Bid.Status.DECRYPTED
        locked.decrypted_at = now
        locked.sealed_file_key = crypto.seal_to(project_public_key(locked.lot.project), inner_key)
        locked.commitment_opened = _commitment_opens(locked, payload, private, inner_key)
        locked.save(
            update_fields=[
                "price",
                "status",
                "decrypted_at",
                "sealed_file_key",
                "decryption_attempts",
                "commitment_opened",
            ]
        )
        record(
            actor,
            "bidding.bid.decrypted",
            locked,
            {
                "lot": locked.lot_id,
                "price": locked.price,
                "commitment": locked.commitment,
                "commitment_opened": locked.commitment_opened,
            },
        )
    if not Bid.objects.filter(lot=bid.lot, status=Bid.Status.AWAITING_DECRYPTION).exists():
        finish_opening(actor, bid.lot)
    return locked


def _commitment_opens(
    bid: Bid, payload: dict[str, Any], private: PrivateKey, inner_key: bytes
) -> bool | None:
    """Whether the decrypted bid — its price, the nonce sealed with it, the files' plaintext — makes
    the commitment the bidder signed (`Bid.commitment_opens`); None for a bid without one."""
    if not bid.commitment:
        return None
    nonce = payload.get("nonce")
    if not isinstance(nonce, str):
        return False
    hashes = []
    try:
        for bid_file in bid.files.order_by("pk"):
            with bid_file.file.open("rb") as handle:
                plain = crypto.open_inner(inner_key, crypto.open_outer(private, handle.read()))
            _header, _, content = plain.partition(b"\n")
            hashes.append(sha256_hex(content))
    except (crypto.SealError, OSError):
        return False
    return bid.commitment_opens(Decimal(payload["price"]), nonce, hashes)


def finish_opening(actor: Actor, lot: Lot) -> Opening:
    """Close the decryption window: undecrypted bids fail through the bidder's fault (视为撤销), and
    their deposits are kept or refunded as the project's rules say (`forfeit_on_decryption_failure`);
    with fewer than three valid bids the lot fails; otherwise the opening record is published.
    Idempotent."""
    with transaction.atomic():
        project = lock_project(lot.project_id)
        opening = Opening.objects.select_for_update().get(lot=lot)
        if opening.stage != Opening.Stage.DECRYPTING:
            return opening
        now = timezone.now()
        pending = Bid.objects.select_for_update().filter(
            lot=lot, status=Bid.Status.AWAITING_DECRYPTION
        )
        if pending.exists() and now <= opening.decryption_until:
            return opening  # still inside the window; the clock comes back at its end
        forfeit = rules_for(project).forfeit_on_decryption_failure
        for bid in pending.select_related("organization").order_by("pk"):
            bid.status, bid.failure = Bid.Status.FAILED_BIDDER, str(_("未在规定时间内完成解密"))
            bid.save(update_fields=["status", "failure"])
            record(
                actor,
                "bidding.bid.bidder_failure",
                bid,
                {"failure": bid.failure, "deposit": "forfeited" if forfeit else "refunded"},
            )
            settle_decryption_failure(actor, lot, bid.organization, now, forfeit=forfeit)
        valid = list(
            Bid.objects.filter(lot=lot, status=Bid.Status.DECRYPTED).order_by(
                "price", "submitted_at"
            )
        )
        needed = min_responses(lot.project)
        if len(valid) < needed:
            _fail(actor, opening, _("有效投标人少于 %(n)s 个。") % {"n": needed}, now)
            return opening
        opening.record = opening_record(lot)
        opening.record_sha256 = canonical_sha256(opening.record)
        opening.stage = Opening.Stage.OPENED
        opening.finished_at = now
        opening.objections_until = now + dt.timedelta(minutes=settings.OPENING_OBJECTION_MINUTES)
        opening.save()
        event = record(
            actor,
            "bidding.opening.published",
            opening,
            {"record_sha256": opening.record_sha256, "valid_bids": len(valid)},
        )
        notices.tell(
            "opening.result",
            [
                *recipients.bidders_of(notices.bidding_organizations(lot)),
                *notices.agent_users(lot),
            ],
            event,
            lot,
            url=reverse("opening_record", args=[lot.pk]),
            params={"deadline": moment_text(opening.objections_until)},
        )
    return opening


def _fail(actor: Actor, opening: Opening, reason: Any, now: dt.datetime) -> None:
    """流标: the lot fails; the 流标公告 is published; every deposit of the lot still held is refunded;
    the agent may re-tender the lot from the notice (`trading.services.retender_failed_lot`). The
    caller holds the project lock."""
    opening.stage = Opening.Stage.FAILED
    opening.failure_reason = str(reason)
    opening.finished_at = now
    opening.record = opening_record(opening.lot)
    opening.record_sha256 = canonical_sha256(opening.record)
    opening.save()
    event = record(actor, "bidding.opening.failed", opening, {"reason": opening.failure_reason})
    notices.tell(
        "lot.failed",
        [
            *recipients.bidders_of(notices.bidding_organizations(opening.lot)),
            *notices.agent_users(opening.lot),
        ],
        event,
        opening.lot,
        url=reverse("bidding_opening", args=[opening.lot.pk]),
        params={"reason": opening.failure_reason},
    )
    _publish_failure_notice(actor, opening)
    refund_on_failed_lot(actor, opening.lot, now)


def _publish_failure_notice(actor: Actor, opening: Opening) -> None:
    """The 流标公告: a new version of the project's notice series, stating every failed lot so far."""
    lot = opening.lot
    project = lot.project
    basis = (
        "《政府采购法》第三十六条"
        if project.kind == Project.Kind.GOVERNMENT_PROCUREMENT
        else "《招标投标法》第二十八条、《招标投标法实施条例》第四十四条"
    )
    failed_lots = sorted(
        Opening.objects.filter(lot__project=project, stage=Opening.Stage.FAILED).values_list(
            "lot__number", flat=True
        )
    )
    publish_version(
        actor,
        project,
        Announcement.Kind.FAILED,
        title=f"{project.title}{Announcement.Kind.FAILED.label}",
        body=(
            f"第{lot.number}标段（{lot.name}）开标时{opening.failure_reason.rstrip('。')}，"
            f"依据{basis}流标。\n"
            f"开标记录 SHA-256：{opening.record_sha256}。\n"
            "投标保证金依法退还（投标人原因未完成解密的，按招标文件的规定处理）；"
            "招标人将依法重新招标。"
        ),
        reason=str(_("流标")),
        extra={
            "lot": lot.number,
            "failed_lots": failed_lots,
            "failure_reason": opening.failure_reason,
            "opening_record_sha256": opening.record_sha256,
        },
    )


def opening_record(lot: Lot) -> dict[str, Any]:
    """The public record: every bid that reached the deadline, its outcome, and prices once decrypted."""
    rows = []
    for bid in (
        Bid.objects.filter(lot=lot)
        .exclude(status=Bid.Status.WITHDRAWN)
        .select_related("organization")
        .order_by("submitted_at", "pk")
    ):
        rows.append(
            {
                "bidder": bid.organization.name,
                "uscc": bid.organization.uscc,
                "submitted_at": bid.submitted_at,
                "sealed_sha256": bid.sealed_sha256,
                "status": bid.status,
                "price": bid.price,
                "failure": bid.failure,
            }
        )
    return canonical_value(
        {"lot": lot.pk, "project": lot.project.number, "lot_number": lot.number, "bids": rows}
    )


def respond_to_record(
    actor: Actor,
    opening: Opening,
    *,
    confirmed: bool,
    objection: str = "",
    signed: Signed | None = None,
) -> OpeningResponse:
    """A bidder confirms the record or objects to it, inside the objection window: it signs
    `opening.confirm`, or `opening.object` with the objection's text as sent (details `text`), over
    the published record's canonical hash (`Opening.record_sha256`)."""
    require_org_role(actor, *BIDDING_ROLES)
    if (
        actor.organization is None
        or not Bid.objects.filter(lot=opening.lot, organization=actor.organization).exists()
    ):
        raise NotPermitted(_("只有本标段投标人可以确认开标记录。"))
    if not confirmed and not objection.strip():
        raise DomainError(_("请填写异议内容。"), code="TEXT_REQUIRED")
    with transaction.atomic():
        locked = Opening.objects.select_for_update().get(pk=opening.pk)
        now = timezone.now()
        if locked.stage != Opening.Stage.OPENED:
            raise Conflict(_("开标记录尚未公布。"), code="WRONG_STATUS")
        if now > locked.objections_until:
            raise TooLate(_("确认/异议时间已过。"))
        if OpeningResponse.objects.filter(opening=locked, organization=actor.organization).exists():
            raise Conflict(_("贵单位已对开标记录作出回复。"), code="ALREADY_ANSWERED")
        signed_act = require_signature(
            actor,
            "opening.confirm" if confirmed else "opening.object",
            locked,
            digest=locked.record_sha256,
            details=None if confirmed else {"text": objection},
            signed=signed,
        )
        response = OpeningResponse.objects.create(
            opening=locked,
            organization=actor.organization,
            confirmed=confirmed,
            objection=objection.strip(),
            responded_at=now,
        )
        event = record(
            actor,
            "bidding.opening.confirmed" if confirmed else "bidding.opening.objected",
            response,
            {
                "opening": locked.pk,
                "objection": response.objection,
                "record_sha256": locked.record_sha256,
                **signature_payload(signed_act),
            },
        )
        if not confirmed:
            # The agent answers it; the objecting bidder's name is the agent's to see (it runs the
            # opening), never another bidder's.
            notices.tell(
                "opening.objected",
                notices.agent_users(locked.lot),
                event,
                locked.lot,
                url=reverse("opening_record", args=[locked.lot_id]),
            )
    return response


def answer_record_objection(
    actor: Actor, response: OpeningResponse, *, answer: str
) -> OpeningResponse:
    require_perm(actor, "trading.manage_project", response.opening.lot.project)
    if not answer.strip():
        raise DomainError(_("答复不能为空。"), code="TEXT_REQUIRED")
    with transaction.atomic():
        locked = OpeningResponse.objects.select_for_update().get(pk=response.pk)
        if locked.confirmed or locked.answered_at is not None:
            raise Conflict(_("无需或已经答复。"), code="ALREADY_ANSWERED")
        locked.answer, locked.answered_at = answer.strip(), timezone.now()
        locked.save(update_fields=["answer", "answered_at"])
        event = record(
            actor, "bidding.opening.objection_answered", locked, {"answer": locked.answer}
        )
        lot = locked.opening.lot
        notices.tell(
            "opening.objection_answered",
            recipients.bidders(locked.organization),
            event,
            lot,
            url=reverse("opening_record", args=[lot.pk]),
        )
    return locked
