"""Deposit custody services. Not one fen may be lost, created or refunded twice:

- money moves only through `deposits.ledger.post`, whose entry references are unique per cause;
- each service locks the rows it decides on (the sub-account, the deposit, the refund) in primary-key
  order before reading balances;
- bank messages are idempotent by (bank, transaction id): a replay changes nothing, a replay with other
  content is refused and raises a supervisor alert.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from guardian.shortcuts import assign_perm
from stdnum import luhn

from accounts.actors import Actor
from accounts.models import Organization, OrgRole, Role
from accounts.permissions import require_perm
from accounts.services import ensure_may_trade, require_org_role
from audit.alerts import raise_alert
from audit.models import Alert, AuditEvent
from audit.services import record
from clock.services import schedule
from deposits import eguarantee, ledger, rules
from deposits.bank import MalformedMessage, bank_secret, message_digest, signature_valid
from deposits.eguarantee import GuaranteeRefused
from deposits.models import (
    Account,
    BankNotification,
    Currency,
    Deposit,
    Forfeiture,
    FxRate,
    Guarantee,
    Instrument,
    JournalEntry,
    Refund,
    RefundAccountConfirmation,
    RefundBatch,
)
from lib.canonical import canonical_sha256, file_sha256, sha256_hex
from lib.errors import Conflict, DomainError, NotPermitted, present
from lib.money import parse_amount
from lib.text import check_text
from notifications import recipients
from notifications.services import notify
from signing.models import Certificate
from signing.pki import CertInfo, TrustedCA
from signing.services import Signed, require_signature, signature_payload
from trading.models import Lot, Project, Registration

CURRENCY_DIGIT = {"CNY": "1", "HKD": "2", "USD": "3"}
CENT = Decimal("0.01")
# Deposits whose money is in the ledger (a guarantee is a promise and never is).
MONEY_FORMS = (Deposit.Form.CASH, Deposit.Form.INSTRUMENT)


class BankMessageRefused(DomainError):
    code = "BANK_MESSAGE_REFUSED"


class SignatureInvalid(DomainError):
    code = "SIGNATURE_INVALID"
    http_status = 401


class ReplayConflict(Conflict):
    code = "REPLAY_CONFLICT"


# --- Sub-accounts ---------------------------------------------------------------------------------


def sub_account_number(lot: Lot, organization: Organization, currency: str) -> str:
    body = f"{settings.DEPOSIT_ACCOUNT_PREFIX}{lot.pk:07d}{organization.pk:07d}{CURRENCY_DIGIT[currency]}"
    return body + luhn.calc_check_digit(body)


def _allowed_currencies(lot: Lot) -> set[str]:
    # Foreign currency only where a land listing allows it (trading.services.check_lots enforces that).
    allowed = set(lot.deposit_currencies or [Currency.CNY])
    return allowed | {Currency.CNY}


def open_sub_account(actor: Actor, lot: Lot, *, currency: str = Currency.CNY) -> Account:
    """Give a registered bidder its virtual sub-account for a lot (idempotent)."""
    if actor.role != Role.SUPPLIER or actor.organization is None:
        raise NotPermitted(_("只有投标人/竞买人可以申请保证金子账户。"))
    org = actor.organization
    if currency not in _allowed_currencies(lot):
        raise DomainError(_("本标段不接受该币种的保证金。"), code="CURRENCY_NOT_ALLOWED")
    if Lot.DepositForm.CASH not in lot.deposit_forms:
        raise DomainError(_("本标段不接受现金保证金，请提交保函。"), code="CASH_NOT_ACCEPTED")
    if not Registration.objects.filter(lot=lot, organization=org).exists():
        raise DomainError(_("请先报名该标段。"), code="NOT_REGISTERED")
    ensure_may_trade(org, timezone.now())
    return _sub_account(actor, lot, org, currency)


def _sub_account(actor: Actor, lot: Lot, org: Organization, currency: str) -> Account:
    existing = Account.objects.filter(
        kind=Account.Kind.SUB_ACCOUNT, lot=lot, organization=org, currency=currency
    ).first()
    if existing is not None:
        return existing
    try:
        return _create_sub_account(actor, lot, org, currency)
    except IntegrityError:
        # Two first requests at once: the other one created it.
        return Account.objects.get(
            kind=Account.Kind.SUB_ACCOUNT, lot=lot, organization=org, currency=currency
        )


def _create_sub_account(actor: Actor, lot: Lot, org: Organization, currency: str) -> Account:
    with transaction.atomic():
        account = Account.objects.create(
            kind=Account.Kind.SUB_ACCOUNT,
            currency=currency,
            number=sub_account_number(lot, org, currency),
            organization=org,
            lot=lot,
        )
        assign_perm("deposits.view_account", org.members_group, account)
        record(
            actor,
            "deposits.sub_account.opened",
            account,
            {"lot": lot.pk, "number": account.number, "currency": currency},
        )
    return account


# --- Exchange rates -------------------------------------------------------------------------------


def set_fx_rate(actor: Actor, currency: str, cny_per_unit: Decimal, *, source: str = "") -> FxRate:
    require_perm(actor, "deposits.add_fxrate")
    if currency not in (Currency.HKD, Currency.USD):
        raise DomainError(_("只维护港元和美元的汇率。"), code="INVALID_CURRENCY")
    if not isinstance(cny_per_unit, Decimal) or cny_per_unit <= 0:
        raise DomainError(_("汇率必须为正数。"), code="INVALID_RATE")
    with transaction.atomic():
        rate = FxRate.objects.create(
            currency=currency,
            cny_per_unit=cny_per_unit,
            effective_at=timezone.now(),
            entered_by=actor.acting_user,
            source=source,
        )
        record(
            actor,
            "deposits.fx_rate.set",
            rate,
            {"currency": currency, "cny_per_unit": cny_per_unit, "source": source},
        )
    return rate


def rate_at(currency: str, moment: dt.datetime) -> Decimal:
    if currency == Currency.CNY:
        return Decimal("1")
    rate = (
        FxRate.objects.filter(currency=currency, effective_at__lte=moment)
        .order_by("-effective_at")
        .first()
    )
    if rate is None:
        raise DomainError(
            _("缺少 %(currency)s 汇率，请工作人员先维护汇率。"),
            code="NO_FX_RATE",
            currency=currency,
        )
    return rate.cny_per_unit


# --- Bank notifications ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Payment:
    bank: str
    transaction_id: str
    account_number: str
    amount: Decimal
    currency: str
    payer_name: str
    payer_account: str
    payer_bank: str
    value_at: dt.datetime
    # Set when the credit is the collection of a registered 支票/汇票/本票 (its number).
    instrument_number: str = ""


def parse_payment(bank: str, body: bytes) -> Payment:
    try:
        data = json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BankMessageRefused(_("报文不是有效的 JSON。"), code="MALFORMED_REQUEST") from exc
    if not isinstance(data, dict):
        raise BankMessageRefused(_("报文必须是 JSON 对象。"), code="MALFORMED_REQUEST")
    required = (
        "transaction_id",
        "account_number",
        "amount",
        "currency",
        "payer_name",
        "payer_account",
        "value_time",
    )
    missing = [name for name in required if not data.get(name)]
    if missing:
        raise BankMessageRefused(
            _("报文缺少字段：%(fields)s"), code="MISSING_FIELD", fields=", ".join(missing)
        )
    if data.get("bank", bank) != bank:
        raise BankMessageRefused(_("报文中的银行与签名银行不一致。"), code="BANK_MISMATCH")
    # The documented string only: a JSON number, "1e309" or a megabyte of digits is refused by
    # pattern and length before any arithmetic (the signature was checked before this is read).
    amount = parse_amount(data["amount"], field="amount")
    if data["currency"] not in Currency.values:
        raise BankMessageRefused(_("不支持的币种。"), code="INVALID_CURRENCY")
    try:
        value_at = parse_datetime(str(data["value_time"]))
    except ValueError:  # well formed but no such time
        value_at = None
    if value_at is None or timezone.is_naive(value_at):
        raise BankMessageRefused(_("到账时间须为带时区的 ISO-8601 时间。"), code="INVALID_TIME")
    return Payment(
        bank=bank,
        transaction_id=str(data["transaction_id"])[:64],
        account_number=str(data["account_number"])[:32],
        amount=amount,
        currency=data["currency"],
        payer_name=str(data["payer_name"]).strip()[:200],
        payer_account=str(data["payer_account"]).strip()[:40],
        payer_bank=str(data.get("payer_bank", "")).strip()[:100],
        value_at=value_at,
        instrument_number=str(data.get("instrument_number") or "").strip()[:64],
    )


def _normalize_name(name: str) -> str:
    return name.replace("（", "(").replace("）", ")").replace(" ", "").strip()


def payer_matches(org: Organization, payment: Payment, project: Project) -> bool:
    """The payer must be the bidder itself; for 依法必须招标 tenders (条例 Art.26) and government
    procurement — where a transfer counts as a non-cash deposit only from the supplier's own
    settlement account — from its 基本账户 when registered."""
    if _normalize_name(payment.payer_name) != _normalize_name(org.name):
        return False
    from_basic_account = (
        project.mandatory_tender or project.kind == Project.Kind.GOVERNMENT_PROCUREMENT
    )
    if from_basic_account and org.basic_account_number:
        return payment.payer_account == org.basic_account_number
    return True


@dataclass
class NotificationResult:
    notification: BankNotification
    replay: bool


def _authenticate(bank: str, body: bytes, signature: str, *, alert: bool) -> str:
    """Check a bank message's signature over its canonical form (`deposits.bank`) and return the
    message's digest, the same for every serialization of it (what idempotency compares)."""
    actor = Actor.system(f"bank:{bank}")
    if bank_secret(bank) is None:
        # Not even a bank we know: refuse without an alert, so strangers cannot flood supervisors.
        raise SignatureInvalid(_("报文签名无效。"))
    try:
        digest = message_digest(body)
    except MalformedMessage as exc:
        raise BankMessageRefused(_("报文不是有效的 JSON 对象。"), code="MALFORMED_REQUEST") from exc
    if not signature_valid(bank, body, signature):
        if alert:
            with transaction.atomic():
                raise_alert(
                    actor,
                    Alert.Kind.BANK_SIGNATURE_INVALID,
                    summary=f"{bank} 报文签名无效",
                    details={"bank": bank, "body_sha256": sha256_hex(body)},
                    # Nothing in an unauthenticated body can be trusted to name a project.
                    project_id=None,
                )
        raise SignatureInvalid(_("报文签名无效。"))
    return digest


def project_of_account_number(number: str) -> int | None:
    """The project a sub-account number belongs to (None for a number that is nobody's)."""
    return (
        Account.objects.filter(number=number, kind=Account.Kind.SUB_ACCOUNT)
        .values_list("lot__project_id", flat=True)
        .first()
    )


def project_of_refund(refund: Refund) -> int | None:
    """The project whose money a refund returns: its deposit's, or for money held in suspense, the
    project of the sub-account it was paid to (None when that account is nobody's)."""
    if refund.deposit_id is not None:
        return Deposit.objects.filter(pk=refund.deposit_id).values_list(
            "lot__project_id", flat=True
        )[0]
    notification = refund.notification
    if notification is not None:
        return project_of_account_number(notification.account_number)
    return None


def _refuse_future_value_time(actor: Actor, payment: Payment, digest: str) -> None:
    """A value time ahead of the platform's clock (beyond the tolerance for clock drift) would date
    money before it arrived: the message is refused, and the refusal is on the audit chain."""
    now = timezone.now()
    tolerance = dt.timedelta(seconds=settings.DEPOSIT_VALUE_TIME_TOLERANCE_SECONDS)
    if payment.value_at <= now + tolerance:
        return
    with transaction.atomic():
        record(
            actor,
            "deposits.bank_notification.refused",
            ("deposits.banknotification", ""),
            {
                "code": "VALUE_TIME_IN_FUTURE",
                "bank": payment.bank,
                "transaction_id": payment.transaction_id,
                "account_number": payment.account_number,
                "project": project_of_account_number(payment.account_number),
                "value_time": payment.value_at,
                "received_at": now,
                "message_sha256": digest,
            },
        )
    raise BankMessageRefused(
        _("到账时间晚于平台当前时间 %(seconds)s 秒以上，报文被拒绝。"),
        code="VALUE_TIME_IN_FUTURE",
        seconds=settings.DEPOSIT_VALUE_TIME_TOLERANCE_SECONDS,
    )


def receive_bank_notification(bank: str, body: bytes, signature: str) -> NotificationResult:
    """Record one signed payment notification from a bank. Idempotent by (bank, transaction id):
    the same message again — in any serialization — is a replay; other content is a conflict."""
    actor = Actor.system(f"bank:{bank}")
    digest = _authenticate(bank, body, signature, alert=True)
    payment = parse_payment(bank, body)
    _refuse_future_value_time(actor, payment, digest)
    existing = BankNotification.objects.filter(
        bank=bank, transaction_id=payment.transaction_id
    ).first()
    if existing is None:
        try:
            return NotificationResult(
                _record_payment(actor, payment, body, digest, signature), replay=False
            )
        except IntegrityError:
            # A concurrent delivery of the same transaction won the insert; answer as a replay.
            existing = BankNotification.objects.get(
                bank=bank, transaction_id=payment.transaction_id
            )
    if existing.body_sha256 == digest:
        return NotificationResult(existing, replay=True)
    with transaction.atomic():
        raise_alert(
            actor,
            Alert.Kind.BANK_REPLAY_CONFLICT,
            summary=f"{bank} 流水 {payment.transaction_id} 重放内容不一致",
            details={
                "bank": bank,
                "transaction_id": payment.transaction_id,
                "first_sha256": existing.body_sha256,
                "replay_sha256": digest,
            },
            project_id=project_of_account_number(existing.account_number),
            target=existing,
        )
    raise ReplayConflict(_("该银行流水已按不同内容入账，本次报文被拒绝并已通知监督人员。"))


def _record_payment(
    actor: Actor, payment: Payment, body: bytes, digest: str, signature: str
) -> BankNotification:
    now = timezone.now()
    with transaction.atomic():
        account = (
            # Lock only the account row: the joined rows are read, not decided on (and PostgreSQL
            # cannot lock the nullable side of an outer join).
            Account.objects.select_for_update(of=("self",))
            .select_related("organization", "lot__project")
            .filter(number=payment.account_number, kind=Account.Kind.SUB_ACCOUNT)
            .first()
        )
        custody = ledger.book_account(Account.Kind.CUSTODY, payment.currency)
        reference = f"bank:{payment.bank}:{payment.transaction_id}"
        instrument = None
        if account is None or account.currency != payment.currency:
            outcome = BankNotification.Outcome.UNKNOWN_ACCOUNT
        elif not payer_matches(account.bidder, payment, account.bidder_lot.project):
            outcome = BankNotification.Outcome.PAYER_MISMATCH
        elif (
            payment.instrument_number
            and (instrument := _instrument_collected(account, payment)) is None
        ):
            outcome = BankNotification.Outcome.INSTRUMENT_MISMATCH
        else:
            outcome = BankNotification.Outcome.CREDITED
        credit_to = (
            account
            if outcome == BankNotification.Outcome.CREDITED and account is not None
            else ledger.book_account(Account.Kind.SUSPENSE, payment.currency)
        )
        entry = ledger.post(
            JournalEntry.Kind.BANK_IN
            if outcome == BankNotification.Outcome.CREDITED
            else JournalEntry.Kind.HELD,
            reference,
            [(custody, payment.amount), (credit_to, -payment.amount)],
            memo=f"{payment.payer_name} → {payment.account_number}",
        )
        notification = BankNotification.objects.create(
            bank=payment.bank,
            transaction_id=payment.transaction_id,
            body=body,
            body_sha256=digest,
            signature=signature,
            account_number=payment.account_number,
            amount=payment.amount,
            currency=payment.currency,
            payer_name=payment.payer_name,
            payer_account=payment.payer_account,
            payer_bank=payment.payer_bank,
            value_at=payment.value_at,
            received_at=now,
            outcome=outcome,
            entry=entry,
        )
        payload = {
            "bank": payment.bank,
            "transaction_id": payment.transaction_id,
            "amount": payment.amount,
            "currency": payment.currency,
            "payer_name": payment.payer_name,
            "payer_account": payment.payer_account,
            "account_number": payment.account_number,
            "outcome": outcome,
        }
        if payment.instrument_number:
            payload["instrument_number"] = payment.instrument_number
        record(actor, "deposits.bank_notification.received", notification, payload)
        if outcome == BankNotification.Outcome.CREDITED and account is not None:
            _credit_deposit(actor, account, notification, instrument)
        else:
            _hold_for_payer(actor, notification, account)
    return notification


def _instrument_collected(account: Account, payment: Payment) -> Instrument | None:
    """The registered, uncollected instrument this credit collects: same lot and drawer, same number,
    the full face amount in RMB. None when the credit does not match one (the money is then held and
    returned to its payer, and the instrument stays to be collected or returned)."""
    instrument = (
        Instrument.objects.select_for_update()
        .filter(
            lot=account.lot_id,
            organization=account.organization_id,
            number=payment.instrument_number,
            status=Instrument.Status.RECEIVED,
        )
        .first()
    )
    if instrument is None or payment.currency != Currency.CNY:
        return None
    return instrument if instrument.amount == payment.amount else None


def _credit_deposit(
    actor: Actor,
    account: Account,
    notification: BankNotification,
    instrument: Instrument | None = None,
) -> Deposit:
    rate = rate_at(notification.currency, notification.value_at)
    deposit = Deposit.objects.create(
        lot=account.bidder_lot,
        organization=account.bidder,
        form=Deposit.Form.CASH if instrument is None else Deposit.Form.INSTRUMENT,
        account=account,
        notification=notification,
        instrument=instrument,
        amount=notification.amount,
        currency=notification.currency,
        fx_rate=rate,
        amount_cny=(notification.amount * rate).quantize(CENT, rounding=ROUND_HALF_UP),
        # The bank's value time decides "before the deadline", not when the message reached us; an
        # instrument was handed over when the center received it, its collection only follows.
        arrived_at=notification.value_at if instrument is None else instrument.received_at,
        payer_name=notification.payer_name,
        payer_account=notification.payer_account,
    )
    assign_perm("deposits.view_deposit", account.bidder.members_group, deposit)
    if instrument is not None:
        instrument.status = Instrument.Status.COLLECTED
        instrument.settled_at = timezone.now()
        instrument.save(update_fields=["status", "settled_at"])
        record(
            actor,
            "deposits.instrument.collected",
            instrument,
            {"deposit": deposit.pk, "notification": notification.pk},
        )
    event = record(
        actor,
        "deposits.deposit.credited",
        deposit,
        {
            "lot": account.lot_id,
            "organization": account.organization_id,
            "amount": deposit.amount,
            "currency": deposit.currency,
            "fx_rate": rate,
            "amount_cny": deposit.amount_cny,
        },
    )
    _tell_arrival(deposit, event)
    _check_shared_payer(actor, deposit)
    return deposit


def _check_shared_payer(actor: Actor, deposit: Deposit) -> None:
    """条例 Art.40(6): deposits of different bidders paid from one account are deemed collusion."""
    project_id = deposit.lot.project_id
    others = (
        Deposit.objects.filter(
            lot__project_id=project_id,
            payer_account=deposit.payer_account,
            form__in=MONEY_FORMS,
        )
        .exclude(organization=deposit.organization)
        .values_list("organization__name", flat=True)
        .distinct()
    )
    names = sorted(set(others))
    if names:
        raise_alert(
            actor,
            Alert.Kind.SAME_PAYER_ACCOUNT,
            summary=(
                f"账户 {deposit.payer_account} 为多家投标人缴纳保证金："
                f"{deposit.organization.name}、{'、'.join(names)}"
            ),
            details={
                "payer_account": deposit.payer_account,
                "organizations": [deposit.organization.name, *names],
            },
            project_id=project_id,
            target=deposit,
        )


def _hold_for_payer(
    actor: Actor, notification: BankNotification, account: Account | None
) -> Refund:
    """Money that cannot qualify goes back to whoever paid it."""
    reasons: dict[str, str] = {
        BankNotification.Outcome.PAYER_MISMATCH: Refund.Reason.PAYER_MISMATCH,
        BankNotification.Outcome.INSTRUMENT_MISMATCH: Refund.Reason.INSTRUMENT_MISMATCH,
    }
    reason = reasons.get(notification.outcome, Refund.Reason.UNKNOWN_ACCOUNT)
    project_kind = account.bidder_lot.project.kind if account is not None else "construction"
    refund = Refund.objects.create(
        notification=notification,
        reason=reason,
        principal=notification.amount,
        currency=notification.currency,
        payee_name=notification.payer_name,
        payee_account=notification.payer_account,
        due_at=rules.due_at(reason, project_kind, notification.received_at),
        scheduled_at=notification.received_at,
    )
    record(actor, "deposits.refund.scheduled", refund, _refund_payload(refund))
    _schedule_overdue_check(refund)
    # A payer mismatch is only ever found on a known sub-account.
    if notification.outcome == BankNotification.Outcome.PAYER_MISMATCH and account is not None:
        raise_alert(
            actor,
            Alert.Kind.PAYER_MISMATCH,
            summary=(
                f"{notification.payer_name} 向 {account.bidder.name} 的子账户缴款，"
                "付款人不符，已挂账待退"
            ),
            details={
                "payer_name": notification.payer_name,
                "payer_account": notification.payer_account,
                "bidder": account.bidder.name,
            },
            project_id=account.bidder_lot.project_id,
            target=notification,
        )
    return refund


# --- Guarantees -----------------------------------------------------------------------------------


def submit_guarantee(
    actor: Actor,
    lot: Lot,
    *,
    kind: str,
    issuer: str,
    number: str,
    amount: Any,
    valid_from: dt.date,
    valid_until: dt.date,
    upload: Any,
) -> Guarantee:
    """A bidder files an electronic guarantee; it qualifies once verified."""
    if actor.role != Role.SUPPLIER or actor.organization is None:
        raise NotPermitted(_("只有投标人/竞买人可以提交保函。"))
    org = actor.organization
    if kind not in Guarantee.Kind.values or kind not in lot.deposit_forms:
        raise DomainError(_("本标段不接受该形式的保证金。"), code="FORM_NOT_ALLOWED")
    value = parse_amount(amount, field="amount")
    if valid_until < valid_from:
        raise DomainError(_("保函失效日不能早于生效日。"), code="INVALID_PERIOD")
    if not Registration.objects.filter(lot=lot, organization=org).exists():
        raise DomainError(_("请先报名该标段。"), code="NOT_REGISTERED")
    ensure_may_trade(org, timezone.now())
    digest = file_sha256(upload.chunks())
    upload.seek(0)
    with transaction.atomic():
        if Guarantee.objects.filter(issuer=issuer.strip(), number=number.strip()).exists():
            raise Conflict(_("该保函编号已提交过。"), code="GUARANTEE_DUPLICATE")
        guarantee = Guarantee(
            lot=lot,
            organization=org,
            kind=kind,
            issuer=issuer.strip(),
            number=number.strip(),
            amount=value,
            valid_from=valid_from,
            valid_until=valid_until,
            file_sha256=digest,
            submitted_at=timezone.now(),
            submitted_by=actor.acting_user,
        )
        guarantee.file.save(upload.name or "guarantee.pdf", upload, save=False)
        guarantee.save()
        assign_perm("deposits.view_guarantee", org.members_group, guarantee)
        record(
            actor,
            "deposits.guarantee.submitted",
            guarantee,
            {
                "lot": lot.pk,
                "issuer": guarantee.issuer,
                "number": guarantee.number,
                "amount": value,
                "valid_until": valid_until,
                "file_sha256": guarantee.file_sha256,
            },
        )
    return guarantee


def required_guarantee_validity(lot: Lot) -> dt.date:
    """A guarantee must stay valid for the whole bid validity (条例 Art.26), counted from the deadline."""
    project = lot.project
    return (
        timezone.localtime(project.bid_deadline) + dt.timedelta(days=project.bid_validity_days)
    ).date()


def verify_guarantee(
    actor: Actor, guarantee: Guarantee, *, accepted: bool, method: str, note: str = ""
) -> Guarantee:
    """Staff record the verification (the issuer's confirmation, or their own check)."""
    require_perm(actor, "deposits.verify_guarantee", guarantee)
    if not (method or "").strip():
        raise DomainError(_("请说明核验方式。"), code="METHOD_REQUIRED")
    with transaction.atomic():
        locked = (
            Guarantee.objects.select_for_update(of=("self",))
            .select_related("lot__project")
            .get(pk=guarantee.pk)
        )
        if locked.status != Guarantee.Status.SUBMITTED:
            raise Conflict(_("该保函已核验。"), code="ALREADY_VERIFIED")
        if accepted and locked.valid_until < required_guarantee_validity(locked.lot):
            raise DomainError(
                _("保函有效期须覆盖投标有效期（至 %(date)s）。"),
                code="GUARANTEE_VALIDITY_SHORT",
                date=required_guarantee_validity(locked.lot).isoformat(),
            )
        locked.status = Guarantee.Status.VERIFIED if accepted else Guarantee.Status.REJECTED
        locked.verified_at = timezone.now()
        locked.verification = method.strip()[:100]
        locked.decided_note = note.strip()
        locked.save(update_fields=["status", "verified_at", "verification", "decided_note"])
        deposit = None
        if accepted:
            deposit = Deposit.objects.create(
                lot=locked.lot,
                organization=locked.organization,
                form=Deposit.Form.GUARANTEE,
                guarantee=locked,
                amount=locked.amount,
                currency=Currency.CNY,
                amount_cny=locked.amount,
                # A guarantee counts from when it was filed, like cash from its arrival.
                arrived_at=locked.submitted_at,
            )
            assign_perm("deposits.view_deposit", locked.organization.members_group, deposit)
        event = record(
            actor,
            "deposits.guarantee.verified" if accepted else "deposits.guarantee.rejected",
            locked,
            {"method": locked.verification, "note": locked.decided_note},
        )
        if deposit is not None:
            _tell_arrival(deposit, event)
    return locked


def _issuer_certificate(
    actor: Actor, cert: CertInfo, issuer: TrustedCA, now: dt.datetime
) -> Certificate:
    """The issuer's certificate as a platform row (kind issuer), registered on first receipt."""
    existing = Certificate.objects.filter(sha256=cert.sha256).first()
    if existing is not None:
        if existing.kind != Certificate.Kind.ISSUER or existing.withdrawn_at is not None:
            # A party's own certificate (or one taken out of use) never vouches for a guarantee.
            raise GuaranteeRefused(
                _("该证书不是保函出具机构证书，或已停用。"), code="GUARANTEE_ISSUER_UNTRUSTED"
            )
        return existing
    return Certificate.objects.create(
        kind=Certificate.Kind.ISSUER,
        algorithm=cert.algorithm,
        der=cert.der,
        sha256=cert.sha256,
        serial=cert.serial_hex,
        subject_dn=cert.subject_dn[:500],
        issuer_dn=cert.issuer_dn[:500],
        issuer_sha256=issuer.cert.sha256,
        not_before=cert.not_before,
        not_after=cert.not_after,
        added_at=now,
        added_by=actor.acting_user,
    )


def submit_electronic_guarantee(actor: Actor, lot: Lot, document: bytes) -> Guarantee:
    """A bidder files a guarantee its issuer signed (电子保函, format in `deposits.eguarantee`). It is
    verified at once — signature, issuer certificate, applicant, beneficiary, project and lot,
    amount, validity — and then qualifies like a guarantee staff verified. Any failure raises its
    code and stores nothing (no half-verified row: the bidder fixes the document and files again)."""
    if actor.role != Role.SUPPLIER or actor.organization is None:
        raise NotPermitted(_("只有投标人/竞买人可以提交保函。"))
    org = actor.organization
    parsed = eguarantee.parse_document(document)
    if not Registration.objects.filter(lot=lot, organization=org).exists():
        raise DomainError(_("请先报名该标段。"), code="NOT_REGISTERED")
    now = timezone.now()
    ensure_may_trade(org, now)
    cert, issuer = eguarantee.check_issuer(parsed, now)
    eguarantee.check_terms(parsed, lot, org, now)
    try:
        return _store_electronic_guarantee(actor, lot, org, parsed, cert, issuer, document, now)
    except IntegrityError:
        # The same guarantee filed twice at once: the unique (issuer, number) lets one through.
        if Guarantee.objects.filter(issuer=parsed.issuer_name, number=parsed.number).exists():
            raise Conflict(_("该保函编号已提交过。"), code="GUARANTEE_DUPLICATE") from None
        raise


def _store_electronic_guarantee(
    actor: Actor,
    lot: Lot,
    org: Organization,
    parsed: eguarantee.GuaranteeDocument,
    cert: CertInfo,
    issuer: TrustedCA,
    document: bytes,
    now: dt.datetime,
) -> Guarantee:
    digest = sha256_hex(document)
    with transaction.atomic():
        if Guarantee.objects.filter(issuer=parsed.issuer_name, number=parsed.number).exists():
            raise Conflict(_("该保函编号已提交过。"), code="GUARANTEE_DUPLICATE")
        certificate = _issuer_certificate(actor, cert, issuer, now)
        guarantee = Guarantee(
            lot=lot,
            organization=org,
            kind=parsed.kind,
            issuer=parsed.issuer_name,
            number=parsed.number,
            amount=parsed.amount,
            valid_from=parsed.valid_from,
            valid_until=parsed.valid_until,
            file_sha256=digest,
            status=Guarantee.Status.VERIFIED,
            submitted_at=now,
            submitted_by=actor.acting_user,
            verified_at=now,
            verification=eguarantee.VERIFICATION,
            electronic=True,
            certificate=certificate,
        )
        guarantee.file.save(f"eguarantee-{digest[:16]}.json", ContentFile(document), save=False)
        guarantee.save()
        assign_perm("deposits.view_guarantee", org.members_group, guarantee)
        deposit = Deposit.objects.create(
            lot=lot,
            organization=org,
            form=Deposit.Form.GUARANTEE,
            guarantee=guarantee,
            amount=parsed.amount,
            currency=Currency.CNY,
            amount_cny=parsed.amount,
            arrived_at=now,
        )
        assign_perm("deposits.view_deposit", org.members_group, deposit)
        record(
            actor,
            "deposits.guarantee.submitted",
            guarantee,
            {
                "lot": lot.pk,
                "issuer": guarantee.issuer,
                "number": guarantee.number,
                "amount": parsed.amount,
                "valid_until": parsed.valid_until,
                "file_sha256": digest,
                "electronic": True,
            },
        )
        event = record(
            actor,
            "deposits.guarantee.verified",
            guarantee,
            {
                "method": eguarantee.VERIFICATION,
                "note": "",
                "certificate": cert.sha256,
                "issuer_ca": issuer.cert.sha256,
                "signed_sha256": sha256_hex(parsed.signed_bytes),
                "signature": base64.b64encode(parsed.signature).decode("ascii"),
            },
        )
        _tell_arrival(deposit, event)
    return guarantee


# --- Instruments (支票 / 汇票 / 本票) ------------------------------------------------------------------

# 票据法 Art.91: a cheque is presented for payment within 10 days of its issue.
CHEQUE_PRESENTMENT = dt.timedelta(days=10)


def register_instrument(
    actor: Actor,
    lot: Lot,
    organization: Organization,
    *,
    kind: str,
    bank: Any,
    number: Any,
    amount: str,
    drawer_account: Any,
    issued_on: dt.date,
    payable_until: dt.date | None = None,
) -> Instrument:
    """Staff record a cheque, draft or promissory note a supplier handed in as its deposit, at the
    moment they receive it. The instrument is collected into the supplier's sub-account (opened here
    if need be; its number goes on the collection slip) and qualifies once the bank's credit naming it
    arrives. 支票: payable 10 days from issue; 汇票/本票: the maturity on the paper."""
    require_perm(actor, "deposits.add_instrument")
    if kind not in Instrument.Kind.values or kind not in (lot.deposit_forms or []):
        raise DomainError(_("本标段不接受该形式的保证金。"), code="FORM_NOT_ALLOWED")
    value = parse_amount(amount, field="amount")
    bank_name = check_text(bank, field="bank", max_length=100).strip()
    instrument_number = check_text(number, field="number", max_length=64).strip()
    account_number = check_text(drawer_account, field="drawer_account", max_length=40).strip()
    if not (bank_name and instrument_number and account_number):
        raise DomainError(_("请填写付款行、票据号码和出票人账号。"), code="INSTRUMENT_INCOMPLETE")
    now = timezone.now()
    today = timezone.localtime(now).date()
    if kind == Instrument.Kind.CHEQUE:
        payable_until = issued_on + CHEQUE_PRESENTMENT
    elif payable_until is None:
        raise DomainError(_("汇票、本票须填写到期日/提示付款期限。"), code="MATURITY_REQUIRED")
    if issued_on > today:
        raise DomainError(_("出票日不能晚于收票日。"), code="INVALID_ISSUE_DATE")
    if payable_until < today:
        raise DomainError(
            _("该票据已过提示付款期限（%(date)s），不能作为保证金。"),
            code="INSTRUMENT_EXPIRED",
            date=payable_until.isoformat(),
        )
    if not Registration.objects.filter(lot=lot, organization=organization).exists():
        raise DomainError(_("该供应商未报名本标段/包。"), code="NOT_REGISTERED")
    ensure_may_trade(organization, now)
    account = _sub_account(actor, lot, organization, Currency.CNY)
    with transaction.atomic():
        if Instrument.objects.filter(bank=bank_name, number=instrument_number).exists():
            raise Conflict(_("该票据已登记过。"), code="INSTRUMENT_DUPLICATE")
        instrument = Instrument.objects.create(
            lot=lot,
            organization=organization,
            kind=kind,
            bank=bank_name,
            number=instrument_number,
            amount=value,
            drawer_account=account_number,
            issued_on=issued_on,
            payable_until=payable_until,
            received_at=now,
            registered_by=actor.acting_user,
        )
        assign_perm("deposits.view_instrument", organization.members_group, instrument)
        record(
            actor,
            "deposits.instrument.registered",
            instrument,
            {
                "lot": lot.pk,
                "organization": organization.pk,
                "kind": kind,
                "bank": bank_name,
                "number": instrument_number,
                "amount": value,
                "drawer_account": account_number,
                "issued_on": issued_on,
                "payable_until": payable_until,
                "collect_to": account.number,
            },
        )
    return instrument


def record_dishonour(actor: Actor, instrument: Instrument, *, reason: str) -> Instrument:
    """The bank refused to pay (退票): the instrument never becomes a deposit; staff hand it back."""
    require_perm(actor, "deposits.change_instrument", instrument)
    reason = check_text(reason, field="reason", max_length=500).strip()
    if not reason:
        raise DomainError(_("请填写退票理由。"), code="REASON_REQUIRED")
    with transaction.atomic():
        locked = Instrument.objects.select_for_update().get(pk=instrument.pk)
        if locked.status != Instrument.Status.RECEIVED:
            raise Conflict(_("只有待托收的票据可以登记退票。"), code="WRONG_STATUS")
        locked.status = Instrument.Status.DISHONOURED
        locked.settled_at = timezone.now()
        locked.note = reason
        locked.save(update_fields=["status", "settled_at", "note"])
        record(actor, "deposits.instrument.dishonoured", locked, {"reason": reason})
    return locked


def return_instrument(actor: Actor, instrument: Instrument, *, note: str = "") -> Instrument:
    """Hand the paper back to its drawer: a dishonoured instrument, or one not collected and no longer
    needed (withdrawal, failed lot, termination). A collected one is refunded by transfer instead."""
    require_perm(actor, "deposits.change_instrument", instrument)
    note = check_text(note, field="note", max_length=500).strip()
    with transaction.atomic():
        locked = Instrument.objects.select_for_update().get(pk=instrument.pk)
        if locked.status not in (Instrument.Status.RECEIVED, Instrument.Status.DISHONOURED):
            raise Conflict(
                _("已收妥入账的票据按保证金退还（转账），不退原票。"), code="WRONG_STATUS"
            )
        locked.status = Instrument.Status.RETURNED
        locked.settled_at = timezone.now()
        if note:
            locked.note = "\n".join(filter(None, [locked.note, note]))
        locked.save(update_fields=["status", "settled_at", "note"])
        record(actor, "deposits.instrument.returned", locked, {"note": note})
    return locked


# --- Notices to the bidder's finance staff (and its administrators) ---------------------------------


def _deposit_params(deposit: Deposit, amount: Decimal | None = None) -> dict[str, str]:
    return {
        "project": f"{deposit.lot.project.number} {deposit.lot.project.title}",
        "lot": str(deposit.lot),
        "amount": f"{deposit.amount if amount is None else amount}",
        "currency": deposit.currency,
    }


def _tell_deposit(
    kind: str, deposit: Deposit, cause: str, params: dict[str, str] | None = None
) -> None:
    notify(
        kind,
        recipients.finance(deposit.organization),
        cause=cause,
        params={**_deposit_params(deposit), **(params or {})},
        url=reverse("deposit_detail", args=[deposit.pk]),
    )


def _tell_arrival(deposit: Deposit, event: AuditEvent) -> None:
    """A deposit arrived (money, a verified guarantee): received, or late; and qualified when it is the
    one that made the bidder qualify for the lot. Inside the transaction that recorded `event`."""
    lot = deposit.lot
    deadline = lot.project.deposit_deadline or lot.project.bid_deadline
    if deadline is not None and deposit.arrived_at > deadline:
        _tell_deposit("deposit.late", deposit, f"deposit.late:{event.pk}")
        return
    _tell_deposit("deposit.received", deposit, f"deposit.received:{event.pk}")
    standing = qualification(lot, deposit.organization)
    counted = any(d.pk == deposit.pk for d in standing.deposits)
    # Only the deposit that made the bidder qualify: once qualified, a further payment is received only.
    if (
        standing.code == "QUALIFIED"
        and counted
        and standing.counted_cny - deposit.amount_cny < standing.required_cny
    ):
        _tell_deposit("deposit.qualified", deposit, f"deposit.qualified:{event.pk}")


# --- Qualification: what later capabilities read --------------------------------------------------


@dataclass
class Qualification:
    qualified: bool
    code: str
    required_cny: Decimal
    counted_cny: Decimal
    deposits: list[Deposit] = field(default_factory=list)

    @property
    def message(self) -> str:
        return str(QUALIFICATION_MESSAGES[self.code])


QUALIFICATION_MESSAGES = {
    "QUALIFIED": _("保证金已足额按时缴纳。"),
    "NOT_REQUIRED": _("本标段不要求保证金。"),
    "NO_DEPOSIT": _("尚未收到保证金。"),
    "INSUFFICIENT": _("保证金未足额。"),
    "LATE": _("保证金在截止时间后到账，不能作为有效保证金。"),
}

COUNTING = (Deposit.Status.HELD,)


def _form_kind(deposit: Deposit) -> str:
    """The deposit form a lot accepts or not (`Lot.DepositForm`) that this deposit is in: cash, or
    its guarantee's or instrument's kind."""
    if deposit.form == Deposit.Form.GUARANTEE:
        return present(deposit.guarantee, f"the guarantee of deposit {deposit.pk}").kind
    if deposit.form == Deposit.Form.INSTRUMENT:
        return present(deposit.instrument, f"the instrument of deposit {deposit.pk}").kind
    return Lot.DepositForm.CASH


def qualification(lot: Lot, organization: Organization) -> Qualification:
    """Whether `organization`'s deposits qualify it for `lot`: arrived by the deposit deadline, in full
    (summed in RMB at the arrival rates), in a form the lot accepts, from the bidder itself (payments
    from anyone else never reach the sub-account), and still held."""
    project = lot.project
    required = lot.deposit_amount
    if required == 0:
        return Qualification(True, "NOT_REQUIRED", required, Decimal("0"))
    deadline = project.deposit_deadline or project.bid_deadline
    deposits = list(
        Deposit.objects.filter(
            lot=lot, organization=organization, status__in=COUNTING
        ).select_related("guarantee", "instrument")
    )
    allowed_forms = set(lot.deposit_forms)
    counted = [d for d in deposits if _form_kind(d) in allowed_forms]
    in_time = [d for d in counted if deadline is None or d.arrived_at <= deadline]
    total = sum((d.amount_cny for d in in_time), Decimal("0"))
    if total >= required:
        return Qualification(True, "QUALIFIED", required, total, in_time)
    if not deposits:
        return Qualification(False, "NO_DEPOSIT", required, total, [])
    if (
        len(in_time) < len(counted)
        and sum((d.amount_cny for d in counted), Decimal("0")) >= required
    ):
        return Qualification(False, "LATE", required, total, counted)
    return Qualification(False, "INSUFFICIENT", required, total, in_time)


# --- Refunds ------------------------------------------------------------------------------------
#
# The refund_on_* functions are consequences of an event another service decided (a withdrawal, a
# signed contract, a termination); that service has authorized its caller, so they check nothing more
# and run inside its transaction.


def _refund_payload(refund: Refund) -> dict[str, Any]:
    return {
        "deposit": refund.deposit_id,
        "notification": refund.notification_id,
        "reason": refund.reason,
        "principal": refund.principal,
        "interest": refund.interest,
        "currency": refund.currency,
        "payee_account": refund.payee_account,
        "due_at": refund.due_at,
        "status": refund.status,
    }


def _schedule_overdue_check(refund: Refund) -> None:
    schedule("deposits.refund_overdue", refund.pk, refund.due_at)


def schedule_refund(
    actor: Actor, deposit: Deposit, *, reason: str, event_at: dt.datetime | None = None
) -> Refund | None:
    """Staff schedule one refund by hand (the event functions below do it as a consequence)."""
    require_perm(actor, "deposits.schedule_refund", deposit)
    return _schedule_refund(actor, deposit, reason=reason, event_at=event_at)


def _schedule_refund(
    actor: Actor, deposit: Deposit, *, reason: str, event_at: dt.datetime | None = None
) -> Refund | None:
    """Schedule the refund of one held deposit under `reason`'s rule. A guarantee is released instead
    (it is a promise, not money). Returns None when the deposit is no longer held (already refunding,
    forfeited, converted): calling twice never refunds twice."""
    event_at = event_at or timezone.now()
    with transaction.atomic():
        locked = (
            Deposit.objects.select_for_update(of=("self",))
            .select_related("lot__project", "guarantee")
            .get(pk=deposit.pk)
        )
        if locked.status != Deposit.Status.HELD:
            return None
        rule = rules.refund_rule(reason, locked.lot.project.kind)
        due = rules.due_at(reason, locked.lot.project.kind, event_at)
        if locked.form == Deposit.Form.GUARANTEE:
            locked.status = Deposit.Status.REFUNDED
            locked.save(update_fields=["status"])
            Guarantee.objects.filter(
                pk=present(locked.guarantee_id, "a guarantee deposit's guarantee")
            ).update(status=Guarantee.Status.RELEASED)
            record(actor, "deposits.guarantee.released", locked.guarantee, {"reason": reason})
            return None
        refund = Refund.objects.create(
            deposit=locked,
            reason=reason,
            principal=locked.amount,
            interest=rules.interest(locked.amount, locked.arrived_at, due)
            if rule.with_interest
            else Decimal("0"),
            currency=locked.currency,
            payee_name=locked.payer_name,
            payee_account=locked.payer_account,
            due_at=due,
            scheduled_at=timezone.now(),
        )
        locked.status = Deposit.Status.REFUND_SCHEDULED
        locked.save(update_fields=["status"])
        record(actor, "deposits.refund.scheduled", refund, _refund_payload(refund))
        _schedule_overdue_check(refund)
    return refund


def _held_deposits(
    lot_ids: list[int], *, exclude_org: int | None = None, only_org: int | None = None
) -> list[Deposit]:
    qs = Deposit.objects.filter(lot_id__in=lot_ids, status=Deposit.Status.HELD).order_by("pk")
    if exclude_org is not None:
        qs = qs.exclude(organization_id=exclude_org)
    if only_org is not None:
        qs = qs.filter(organization_id=only_org)
    return list(qs)


def refund_on_withdrawal(
    actor: Actor, lot: Lot, organization: Organization, withdrawn_at: dt.datetime
) -> list[Refund]:
    return [
        r
        for d in _held_deposits([lot.pk], only_org=organization.pk)
        if (r := _schedule_refund(actor, d, reason="withdrawal", event_at=withdrawn_at))
    ]


def refund_on_contract_signed(
    actor: Actor, lot: Lot, winner: Organization, signed_at: dt.datetime
) -> list[Refund]:
    """Engineering: every bidder, with interest, within 5 days of signing (条例 Art.57).
    GP: the winner within 5 working days (losers were refunded at the award notice)."""
    only = winner.pk if lot.project.kind == Project.Kind.GOVERNMENT_PROCUREMENT else None
    return [
        r
        for d in _held_deposits([lot.pk], only_org=only)
        if (r := _schedule_refund(actor, d, reason="contract_signed", event_at=signed_at))
    ]


def refund_losers_on_award(
    actor: Actor, lot: Lot, winner: Organization, notice_at: dt.datetime
) -> list[Refund]:
    """GP: losers within 5 working days of the award notice (GP 条例 Art.33)."""
    return [
        r
        for d in _held_deposits([lot.pk], exclude_org=winner.pk)
        if (r := _schedule_refund(actor, d, reason="not_awarded", event_at=notice_at))
    ]


def refund_losers_on_land_deal(
    actor: Actor, lot: Lot, winner: Organization, deal_at: dt.datetime
) -> list[Refund]:
    return [
        r
        for d in _held_deposits([lot.pk], exclude_org=winner.pk)
        if (r := _schedule_refund(actor, d, reason="land_not_won", event_at=deal_at))
    ]


def refund_on_project_terminated(
    sender: Any, *, actor: Actor, project: Project, at: dt.datetime, **kwargs: Any
) -> None:
    """Receiver of `trading.signals.project_terminated`."""
    refund_on_termination(actor, project, at)


def refund_on_termination(
    actor: Actor, project: Project, terminated_at: dt.datetime
) -> list[Refund]:
    lot_ids = list(project.lots.values_list("pk", flat=True))
    return [
        r
        for d in _held_deposits(lot_ids)
        if (r := _schedule_refund(actor, d, reason="termination", event_at=terminated_at))
    ]


def refund_on_failed_lot(actor: Actor, lot: Lot, failed_at: dt.datetime) -> list[Refund]:
    return [
        r
        for d in _held_deposits([lot.pk])
        if (r := _schedule_refund(actor, d, reason="failed_lot", event_at=failed_at))
    ]


BATCH_COLUMNS = [
    "refund_id",
    "payee_name",
    "payee_account",
    "amount",
    "currency",
    "reason",
    "due_date",
]


def create_refund_batch(actor: Actor, *, until: dt.datetime | None = None) -> RefundBatch | None:
    """Instruct the bank to pay every scheduled refund (due by `until`, default all): one CSV file.
    The money moves to 'refunds payable' now and leaves custody only when the bank confirms."""
    require_perm(actor, "deposits.add_refundbatch")
    with transaction.atomic():
        pending = (
            Refund.objects.select_for_update().filter(status=Refund.Status.SCHEDULED).order_by("pk")
        )
        if until is not None:
            pending = pending.filter(due_at__lte=until)
        refunds = list(pending)
        if not refunds:
            return None
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(BATCH_COLUMNS)
        for refund in refunds:
            writer.writerow(
                [
                    refund.pk,
                    refund.payee_name,
                    refund.payee_account,
                    f"{refund.total:.2f}",
                    refund.currency,
                    refund.reason,
                    timezone.localtime(refund.due_at).date().isoformat(),
                ]
            )
        text = buffer.getvalue()
        batch = RefundBatch.objects.create(
            created_at=timezone.now(),
            created_by=actor.acting_user,
            csv=text,
            sha256=sha256_hex(text.encode()),
        )
        for refund in refunds:
            _instruct(refund, batch)
        record(
            actor,
            "deposits.refund_batch.created",
            batch,
            {
                "refunds": [r.pk for r in refunds],
                "sha256": batch.sha256,
                "total": {
                    c: sum((r.total for r in refunds if r.currency == c), Decimal("0"))
                    for c in {r.currency for r in refunds}
                },
            },
        )
    return batch


def _instruct(refund: Refund, batch: RefundBatch) -> None:
    payable = ledger.book_account(Account.Kind.REFUNDS_PAYABLE, refund.currency)
    if refund.deposit_id is not None:
        deposit = Deposit.objects.select_for_update().get(pk=refund.deposit_id)
        source = deposit.money_account
        Deposit.objects.filter(pk=deposit.pk).update(status=Deposit.Status.REFUNDING)
    else:
        source = ledger.book_account(Account.Kind.SUSPENSE, refund.currency)
    lines = [(source, refund.principal), (payable, -refund.principal)]
    if refund.interest:
        lines += [
            (ledger.book_account(Account.Kind.INTEREST, refund.currency), refund.interest),
            (payable, -refund.interest),
        ]
    ledger.post(
        JournalEntry.Kind.REFUND_INSTRUCTED,
        f"refund:{refund.pk}:instructed:{batch.pk}",
        lines,
        memo=f"{refund.payee_name} {refund.payee_account}",
    )
    Refund.objects.filter(pk=refund.pk).update(status=Refund.Status.INSTRUCTED, batch=batch)


def confirm_refund(bank: str, body: bytes, signature: str) -> Refund:
    """The bank's confirmation of one refund line: {"refund_id", "bank_reference", "status": "paid"|"failed"}.
    Idempotent: the same confirmation again changes nothing; a different one for a settled refund is
    refused and alerts supervisors."""
    actor = Actor.system(f"bank:{bank}")
    _authenticate(bank, body, signature, alert=False)
    try:
        data = json.loads(body)
        refund_id = int(data["refund_id"])
        reference = str(data["bank_reference"])[:64]
        outcome = data["status"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BankMessageRefused(_("退款回单格式错误。"), code="MALFORMED_REQUEST") from exc
    if outcome not in ("paid", "failed") or not reference:
        raise BankMessageRefused(_("退款回单状态无效。"), code="MALFORMED_REQUEST")
    with transaction.atomic():
        refund = Refund.objects.select_for_update().filter(pk=refund_id).first()
        if refund is None:
            raise BankMessageRefused(_("没有这笔退款。"), code="NOT_FOUND")
        if refund.status in (Refund.Status.PAID, Refund.Status.FAILED):
            same = refund.bank_reference == reference and refund.status == outcome
            if same:
                return refund
        elif refund.status == Refund.Status.INSTRUCTED:
            same = True
        else:
            same = False
    if not same:
        with transaction.atomic():
            raise_alert(
                actor,
                Alert.Kind.REFUND_CONFIRMATION_CONFLICT,
                summary=f"退款 {refund_id} 的银行回单与记录不一致",
                details={"refund": refund_id, "reference": reference, "status": outcome},
                project_id=project_of_refund(refund),
                target=refund,
            )
        raise ReplayConflict(_("该退款已有不同的银行回单，本次回单被拒绝并已通知监督人员。"))
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status != Refund.Status.INSTRUCTED:  # settled by a concurrent delivery
            return refund
        payable = ledger.book_account(Account.Kind.REFUNDS_PAYABLE, refund.currency)
        deposit = (
            Deposit.objects.select_for_update().get(pk=refund.deposit_id)
            if refund.deposit_id
            else None
        )
        if outcome == "paid":
            custody = ledger.book_account(Account.Kind.CUSTODY, refund.currency)
            ledger.post(
                JournalEntry.Kind.REFUND_PAID,
                f"refund:{refund.pk}:paid",
                [(payable, refund.total), (custody, -refund.total)],
                memo=reference,
            )
            Refund.objects.filter(pk=refund.pk).update(
                status=Refund.Status.PAID, bank_reference=reference, paid_at=timezone.now()
            )
            if deposit:
                Deposit.objects.filter(pk=deposit.pk).update(status=Deposit.Status.REFUNDED)
        else:
            # The money comes back from "payable" to where it was held, and the interest is un-booked.
            source = (
                deposit.money_account
                if deposit
                else ledger.book_account(Account.Kind.SUSPENSE, refund.currency)
            )
            lines = [(payable, refund.principal), (source, -refund.principal)]
            if refund.interest:
                lines += [
                    (payable, refund.interest),
                    (ledger.book_account(Account.Kind.INTEREST, refund.currency), -refund.interest),
                ]
            ledger.post(
                JournalEntry.Kind.REFUND_FAILED, f"refund:{refund.pk}:failed", lines, memo=reference
            )
            Refund.objects.filter(pk=refund.pk).update(
                status=Refund.Status.FAILED, bank_reference=reference
            )
            if deposit:
                Deposit.objects.filter(pk=deposit.pk).update(status=Deposit.Status.HELD)
        refund.refresh_from_db()
        event = record(actor, f"deposits.refund.{outcome}", refund, _refund_payload(refund))
        if outcome == "paid" and deposit is not None:
            # Money held in suspense goes back to a payer who is not a bidder: nobody here to tell.
            _tell_deposit(
                "deposit.refunded",
                deposit,
                f"deposit.refunded:{event.pk}",
                {"amount": f"{refund.total}", "currency": refund.currency},
            )
    return refund


def reschedule_failed_refund(actor: Actor, refund: Refund) -> Refund:
    """After the bank returned a refund (closed account…), staff schedule it again."""
    require_perm(actor, "deposits.schedule_refund")
    if refund.status != Refund.Status.FAILED:
        raise Conflict(_("只有银行退回失败的退款可以重新安排。"), code="WRONG_STATUS")
    if refund.deposit is not None:
        new = schedule_refund(actor, refund.deposit, reason=refund.reason)
        if new is None:
            raise Conflict(_("该保证金已不在托管中。"), code="WRONG_STATUS")
        return new
    with transaction.atomic():
        new = Refund.objects.create(
            notification=refund.notification,
            reason=refund.reason,
            principal=refund.principal,
            currency=refund.currency,
            payee_name=refund.payee_name,
            payee_account=refund.payee_account,
            # Money in suspense goes back to its payer in 5 working days, whatever the project.
            due_at=rules.due_at(refund.reason, Project.Kind.CONSTRUCTION, timezone.now()),
            scheduled_at=timezone.now(),
        )
        record(actor, "deposits.refund.scheduled", new, _refund_payload(new))
        _schedule_overdue_check(new)
    return new


# --- Forfeiture and land conversion ---------------------------------------------------------------


def forfeit_deposit(actor: Actor, deposit: Deposit, *, reason: str, note: str) -> Forfeiture:
    require_perm(actor, "deposits.forfeit_deposit", deposit)
    if reason not in Forfeiture.Reason.values:
        raise DomainError(_("未知的没收原因。"), code="INVALID_REASON")
    if not (note or "").strip():
        raise DomainError(_("没收须记录事实依据。"), code="NOTE_REQUIRED")
    return _forfeit(actor, deposit, reason=reason, note=note)


def settle_decryption_failure(
    actor: Actor, lot: Lot, organization: Organization, failed_at: dt.datetime, *, forfeit: bool
) -> list[Forfeiture] | list[Refund]:
    """A bidder that did not decrypt its bid in time revoked it (电子招标投标办法 Art.31). Its deposit is
    kept where the project's rules say so (条例 Art.35 allows it), else refunded like a withdrawal.
    Called by the opening, in its transaction."""
    held = _held_deposits([lot.pk], only_org=organization.pk)
    if forfeit:
        note = str(_("未在解密时间内完成解密，视为撤销投标（%(lot)s）") % {"lot": lot})
        return [
            _forfeit(actor, d, reason=Forfeiture.Reason.DECRYPTION_FAILURE, note=note) for d in held
        ]
    return [
        r
        for d in held
        if (r := _schedule_refund(actor, d, reason="decryption_failure", event_at=failed_at))
    ]


def _forfeit(actor: Actor, deposit: Deposit, *, reason: str, note: str) -> Forfeiture:
    with transaction.atomic():
        locked = Deposit.objects.select_for_update().get(pk=deposit.pk)
        if locked.status not in (Deposit.Status.HELD, Deposit.Status.REFUND_SCHEDULED):
            raise Conflict(
                _("该保证金当前状态为“%(status)s”，不能没收。"),
                code="WRONG_STATUS",
                status=locked.get_status_display(),
            )
        if locked.status == Deposit.Status.REFUND_SCHEDULED:
            # Not yet instructed to the bank: the scheduled refund is withdrawn.
            Refund.objects.filter(deposit=locked, status=Refund.Status.SCHEDULED).update(
                status=Refund.Status.CANCELLED
            )
        entry = None
        if locked.form in MONEY_FORMS:
            entry = ledger.post(
                JournalEntry.Kind.FORFEIT,
                f"forfeit:{locked.pk}",
                [
                    (locked.money_account, locked.amount),
                    (ledger.book_account(Account.Kind.FORFEITED, locked.currency), -locked.amount),
                ],
                memo=reason,
            )
        else:
            Guarantee.objects.filter(
                pk=present(locked.guarantee_id, "a guarantee deposit's guarantee")
            ).update(status=Guarantee.Status.CALLED)
        locked.status = Deposit.Status.FORFEITED
        locked.save(update_fields=["status"])
        forfeiture = Forfeiture.objects.create(
            deposit=locked,
            reason=reason,
            note=note.strip(),
            decided_at=timezone.now(),
            decided_by=actor.user,
            entry=entry,
        )
        event = record(
            actor,
            "deposits.deposit.forfeited",
            locked,
            {
                "reason": reason,
                "note": forfeiture.note,
                "amount": locked.amount,
                "currency": locked.currency,
            },
        )
        _tell_deposit(
            "deposit.forfeited",
            locked,
            f"deposit.forfeited:{event.pk}",
            {"reason": f"{forfeiture.get_reason_display()}：{forfeiture.note}"},
        )
    return forfeiture


def convert_to_earnest(actor: Actor, deposit: Deposit) -> Deposit:
    """Land: the winner's 竞买保证金 becomes 定金 (39号令)."""
    require_perm(actor, "deposits.convert_deposit", deposit)
    with transaction.atomic():
        locked = Deposit.objects.select_for_update().get(pk=deposit.pk)
        if locked.status != Deposit.Status.HELD or locked.form != Deposit.Form.CASH:
            raise Conflict(_("只有在托管中的现金保证金可以转为定金。"), code="WRONG_STATUS")
        ledger.post(
            JournalEntry.Kind.TO_EARNEST,
            f"earnest:{locked.pk}",
            [
                (locked.money_account, locked.amount),
                (ledger.book_account(Account.Kind.LAND_EARNEST, locked.currency), -locked.amount),
            ],
        )
        locked.status = Deposit.Status.EARNEST
        locked.save(update_fields=["status"])
        record(
            actor,
            "deposits.deposit.to_earnest",
            locked,
            {"amount": locked.amount, "currency": locked.currency},
        )
    return locked


def apply_to_land_price(actor: Actor, deposit: Deposit) -> Deposit:
    """Land: the 定金 is offset against the land price (抵作出让价款)."""
    require_perm(actor, "deposits.convert_deposit", deposit)
    with transaction.atomic():
        locked = Deposit.objects.select_for_update().get(pk=deposit.pk)
        if locked.status != Deposit.Status.EARNEST:
            raise Conflict(_("只有已转为定金的保证金可以抵作价款。"), code="WRONG_STATUS")
        ledger.post(
            JournalEntry.Kind.TO_LAND_PRICE,
            f"land_price:{locked.pk}",
            [
                (ledger.book_account(Account.Kind.LAND_EARNEST, locked.currency), locked.amount),
                (ledger.book_account(Account.Kind.LAND_PRICE, locked.currency), -locked.amount),
            ],
        )
        locked.status = Deposit.Status.LAND_PRICE
        locked.save(update_fields=["status"])
        record(
            actor,
            "deposits.deposit.to_land_price",
            locked,
            {"amount": locked.amount, "currency": locked.currency},
        )
    return locked


# --- The refund account, confirmed and signed (deposit.refund_account) -----------------------------

# Deposits whose money the center still holds or is paying back: the account may still be confirmed.
REFUND_ACCOUNT_STATUSES = (
    Deposit.Status.HELD,
    Deposit.Status.REFUND_SCHEDULED,
    Deposit.Status.REFUNDING,
)


def refund_account_details(deposit: Deposit) -> dict[str, Any]:
    """The account a deposit paid in money goes back to, as the platform holds it (the payer of its
    bank notification: refunds never go to an account named later), with the deposit it belongs to.
    Its `lib.canonical` hash is the digest of the act deposit.refund_account."""
    notification = deposit.notification
    return {
        "document": "deposit_refund_account",
        "deposit": deposit.pk,
        "currency": deposit.currency,
        "name": deposit.payer_name,
        "bank": notification.payer_bank if notification is not None else "",
        "account": deposit.payer_account,
    }


def refund_account_sha256(deposit: Deposit) -> str:
    return canonical_sha256(refund_account_details(deposit))


def confirm_refund_account(
    actor: Actor, deposit: Deposit, *, signed: Signed | None
) -> RefundAccountConfirmation:
    """The depositing organization's finance (or admin) user confirms, signed, the account its
    deposit will be refunded to (name, bank, number as the platform holds them; digest = their
    canonical hash). Once (ALREADY_CONFIRMED), for a deposit paid in money that has not yet been paid
    back, forfeited or converted (NO_REFUND_ACCOUNT, WRONG_STATUS). Nothing else waits for it: a
    refund goes to the paying account whether or not it was confirmed; staff see the confirmation
    beside the refund."""
    require_org_role(actor, OrgRole.FINANCE, OrgRole.ADMIN)
    organization = actor.organization
    if actor.role != Role.SUPPLIER or organization is None:
        raise NotPermitted(_("只有缴纳保证金的单位可以确认退还账户。"))
    with transaction.atomic():
        locked = (
            Deposit.objects.select_for_update(of=("self",))
            .select_related("notification")
            .get(pk=deposit.pk)
        )
        if locked.organization_id != organization.pk:
            raise NotPermitted(_("只有缴纳保证金的单位可以确认退还账户。"))
        if locked.form not in MONEY_FORMS or not locked.payer_account:
            raise Conflict(_("该保证金不是资金缴纳，没有退还账户。"), code="NO_REFUND_ACCOUNT")
        if locked.status not in REFUND_ACCOUNT_STATUSES:
            raise Conflict(_("该保证金已不在托管中，无需确认退还账户。"), code="WRONG_STATUS")
        if RefundAccountConfirmation.objects.filter(deposit=locked).exists():
            raise Conflict(_("退还账户已确认。"), code="ALREADY_CONFIRMED")
        details = refund_account_details(locked)
        digest = canonical_sha256(details)
        signed_act = require_signature(
            actor, "deposit.refund_account", locked, digest=digest, signed=signed
        )
        confirmation = RefundAccountConfirmation.objects.create(
            deposit=locked,
            payee_name=details["name"],
            payee_bank=details["bank"],
            payee_account=details["account"],
            sha256=digest,
            confirmed_by=present(actor.user, "a confirming user"),
            confirmed_at=timezone.now(),
            signed_act=signed_act,
        )
        record(
            actor,
            "deposits.refund_account.confirmed",
            locked,
            {
                "confirmation": confirmation.pk,
                "name": details["name"],
                "bank": details["bank"],
                "account": details["account"],
                "sha256": digest,
                **signature_payload(signed_act),
            },
        )
    return confirmation
