"""电子保函: the document a bank or guarantor signs, read strictly and checked against the lot.

Format `bidhall-eguarantee-v1` (docs/signing.md, section 电子保函): one JSON object, UTF-8, at most
`MAX_DOCUMENT_BYTES`, exactly these members:

    {"format": "bidhall-eguarantee-v1",
     "guarantee": {
         "number":        the issuer's guarantee number (1–64 characters)
         "kind":          "bank_guarantee" (银行保函) | "insurance_guarantee" (保证保险保函)
         "issuer_name":   the issuer's name, as in its certificate's common name
         "applicant":     {"uscc", "name"}   the bidder (投标人/竞买人) the guarantee is for
         "beneficiary":   {"uscc", "name"}   the lot's beneficiary (`deposits.rules.guarantee_beneficiary`)
         "project_code":  the project's number (项目编号)
         "lot_number":    the lot's number in the project (integer)
         "lot_id":        the platform's lot id (integer)
         "amount":        yuan as a string with two decimals, e.g. "240000.00"
         "currency":      "CNY"
         "valid_from":    "YYYY-MM-DD" (Beijing date)
         "valid_until":   "YYYY-MM-DD"
         "issued_at":     ISO 8601 with its UTC offset, e.g. "2026-12-05T10:00:00+08:00"},
     "certificate": the issuer's X.509 certificate (PEM),
     "signature":   base64 of the issuer's signature over lib.canonical.canonical_bytes(guarantee)}

Reading (`parse_document`) refuses anything else with GUARANTEE_MALFORMED (or GUARANTEE_TOO_LARGE)
before any signature is checked: unknown or missing members, a JSON number where text is expected,
duplicate keys, floats, NaN, unsafe characters. Checking (`check_document`) verifies the signature
with the certificate in the document (GUARANTEE_SIGNATURE_INVALID), that certificate with
`signing.pki.check_certificate` at receipt and issued by a CA trusted for guarantee issuers
(`issues_guarantees`) (GUARANTEE_ISSUER_UNTRUSTED, the certificate's own code in the message), then
what the guarantee says against the lot (GUARANTEE_MISMATCH, FORM_NOT_ALLOWED,
GUARANTEE_AMOUNT_SHORT, GUARANTEE_VALIDITY_SHORT).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from deposits.models import Guarantee
from deposits.rules import guarantee_beneficiary
from lib.canonical import canonical_bytes
from lib.errors import DomainError
from lib.money import AmountError, format_amount, parse_amount
from lib.text import TextError, check_text
from signing.pki import (
    CertificateRefused,
    CertInfo,
    TrustedCA,
    check_certificate,
    load_certificate,
    simulator_source,
)
from signing.pki import verify_signature as pki_verify_signature
from trading.models import Lot

FORMAT = "bidhall-eguarantee-v1"
# A guarantee is a few hundred bytes of text plus one certificate: 64 KiB leaves room and no more.
MAX_DOCUMENT_BYTES = 64 * 1024
MAX_CERTIFICATE_CHARS = 16 * 1024
MAX_SIGNATURE_CHARS = 512
# How far ahead of the platform's clock an issuer's `issued_at` may be (clocks drift a little).
ISSUED_AT_TOLERANCE = dt.timedelta(minutes=5)
VERIFICATION = "电子保函验签"

_DOCUMENT_KEYS = {"format", "guarantee", "certificate", "signature"}
_PARTY_KEYS = {"uscc", "name"}
_GUARANTEE_KEYS = {
    "number",
    "kind",
    "issuer_name",
    "applicant",
    "beneficiary",
    "project_code",
    "lot_number",
    "lot_id",
    "amount",
    "currency",
    "valid_from",
    "valid_until",
    "issued_at",
}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_MOMENT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)
_AMOUNT_TWO_DECIMALS = re.compile(r"[0-9]+\.[0-9]{2}", re.ASCII)
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}", re.ASCII)


class GuaranteeRefused(DomainError):
    code = "GUARANTEE_MALFORMED"


class GuaranteeTooLarge(GuaranteeRefused):
    code = "GUARANTEE_TOO_LARGE"
    http_status = 413


@dataclass(frozen=True)
class Party:
    uscc: str
    name: str


@dataclass(frozen=True)
class GuaranteeDocument:
    """A document read by `parse_document`: what it says, and what was signed."""

    number: str
    kind: str
    issuer_name: str
    applicant: Party
    beneficiary: Party
    project_code: str
    lot_number: int
    lot_id: int
    amount: Decimal
    currency: str
    valid_from: dt.date
    valid_until: dt.date
    issued_at: dt.datetime
    certificate_pem: str
    signature: bytes
    # canonical_bytes of the "guarantee" member: the bytes the issuer signed.
    signed_bytes: bytes


def _malformed(field: str, problem: Any) -> GuaranteeRefused:
    return GuaranteeRefused(
        _("电子保函格式错误（%(field)s）：%(problem)s"), field=field, problem=problem
    )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _malformed(key, _("键重复"))
        found[key] = value
    return found


def _no_float(text: str) -> Any:
    raise _malformed("JSON", _("不接受小数形式的数字（金额须为字符串）"))


def _no_constant(text: str) -> Any:
    raise _malformed("JSON", _("不接受 NaN 或 Infinity"))


def _object(value: Any, field: str, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _malformed(field, _("须为 JSON 对象"))
    missing, extra = sorted(keys - set(value)), sorted(set(value) - keys)
    if missing:
        raise _malformed(field, _("缺少字段 %(names)s") % {"names": ", ".join(missing)})
    if extra:
        names = ", ".join(name[:40] for name in extra[:5])
        raise _malformed(field, _("含有未定义的字段 %(names)s") % {"names": names})
    return value


def _text(value: Any, field: str, max_length: int) -> str:
    try:
        text = check_text(value, field=field, max_length=max_length).strip()
    except TextError as exc:
        raise _malformed(field, exc.message) from None
    if not text:
        raise _malformed(field, _("不能为空"))
    return text


def _integer(value: Any, field: str) -> int:
    # bool is an int in Python; JSON true is no lot number.
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
        raise _malformed(field, _("须为正整数"))
    return value


def _date(value: Any, field: str) -> dt.date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise _malformed(field, _("须为 YYYY-MM-DD 格式的日期"))
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _malformed(field, _("不是有效日期")) from None


def _moment(value: Any, field: str) -> dt.datetime:
    if not isinstance(value, str) or not _MOMENT.fullmatch(value):
        raise _malformed(field, _("须为带时区的 ISO 8601 时间"))
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _malformed(field, _("不是有效时间")) from None


def _party(value: Any, field: str) -> Party:
    party = _object(value, field, _PARTY_KEYS)
    return Party(
        uscc=_text(party["uscc"], f"{field}.uscc", 18),
        name=_text(party["name"], f"{field}.name", 200),
    )


def _amount(value: Any) -> Decimal:
    try:
        amount = parse_amount(value, field="guarantee.amount")
    except AmountError as exc:
        raise _malformed("guarantee.amount", exc.message) from None
    # The format says two decimals: "240000" and "240000.5" are what a careless issuer writes.
    if not _AMOUNT_TWO_DECIMALS.fullmatch(value):
        raise _malformed("guarantee.amount", _("须为两位小数的字符串，例如 240000.00"))
    return amount


def _signature(value: Any) -> bytes:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_SIGNATURE_CHARS:
        raise _malformed("signature", _("须为 Base64 文本"))
    if not _BASE64.fullmatch(value):
        raise _malformed("signature", _("须为 Base64 文本"))
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _malformed("signature", _("须为 Base64 文本")) from None


def parse_document(data: bytes) -> GuaranteeDocument:
    """The document `data` holds, or GuaranteeRefused saying which member is wrong."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise GuaranteeTooLarge(
            _("电子保函文件过大：最多 %(limit)s 字节。"), limit=MAX_DOCUMENT_BYTES
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _malformed("JSON", _("不是 UTF-8 文本")) from None
    try:
        document = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_float=_no_float,
            parse_constant=_no_constant,
        )
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise _malformed("JSON", _("不是有效的 JSON")) from None
    document = _object(document, "document", _DOCUMENT_KEYS)
    if document["format"] != FORMAT:
        raise _malformed("format", _("须为 %(format)s") % {"format": FORMAT})
    guarantee = _object(document["guarantee"], "guarantee", _GUARANTEE_KEYS)
    kind = _text(guarantee["kind"], "guarantee.kind", 20)
    if kind not in Guarantee.Kind.values:
        raise _malformed("guarantee.kind", _("须为 bank_guarantee 或 insurance_guarantee"))
    currency = _text(guarantee["currency"], "guarantee.currency", 3)
    if currency != "CNY":
        raise _malformed("guarantee.currency", _("保函金额须以人民币（CNY）计"))
    certificate = document["certificate"]
    if not isinstance(certificate, str) or not 0 < len(certificate) <= MAX_CERTIFICATE_CHARS:
        raise _malformed("certificate", _("须为 PEM 格式的证书文本"))
    return GuaranteeDocument(
        number=_text(guarantee["number"], "guarantee.number", 64),
        kind=kind,
        issuer_name=_text(guarantee["issuer_name"], "guarantee.issuer_name", 200),
        applicant=_party(guarantee["applicant"], "guarantee.applicant"),
        beneficiary=_party(guarantee["beneficiary"], "guarantee.beneficiary"),
        project_code=_text(guarantee["project_code"], "guarantee.project_code", 40),
        lot_number=_integer(guarantee["lot_number"], "guarantee.lot_number"),
        lot_id=_integer(guarantee["lot_id"], "guarantee.lot_id"),
        amount=_amount(guarantee["amount"]),
        currency=currency,
        valid_from=_date(guarantee["valid_from"], "guarantee.valid_from"),
        valid_until=_date(guarantee["valid_until"], "guarantee.valid_until"),
        issued_at=_moment(guarantee["issued_at"], "guarantee.issued_at"),
        certificate_pem=certificate,
        signature=_signature(document["signature"]),
        signed_bytes=canonical_bytes(guarantee),
    )


# --- Checking --------------------------------------------------------------------------------------


def _mismatch(field: str, expected: Any) -> GuaranteeRefused:
    return GuaranteeRefused(
        _("电子保函与本标段不符（%(field)s）：应为 %(expected)s。"),
        code="GUARANTEE_MISMATCH",
        field=field,
        expected=expected,
    )


def required_validity(lot: Lot) -> tuple[dt.date, dt.date]:
    """The days a guarantee must be in force: from the deposit deadline's day (it counts from then,
    like cash that arrived by it) to the end of the bid validity (条例 Art.26)."""
    project = lot.project
    deadline = project.deposit_deadline or project.bid_deadline
    if deadline is None or project.bid_deadline is None:
        raise _mismatch("project", _("已确定投标截止时间的项目"))
    until = (
        timezone.localtime(project.bid_deadline) + dt.timedelta(days=project.bid_validity_days)
    ).date()
    return timezone.localtime(deadline).date(), until


def issues_guarantees(ca: TrustedCA) -> bool:
    """Whether certificates of this trusted CA may sign guarantees: a configured CA listed in
    `GUARANTEE_ISSUER_CAS` (SHA-256 fingerprints of CA certificates), or the CA simulator's issuer
    root while the simulator is on (`trusted_cas` lists it only then)."""
    listed = {value.strip().lower() for value in settings.GUARANTEE_ISSUER_CAS}
    return ca.cert.sha256 in listed or ca.crl_source == simulator_source(
        ca.cert.algorithm, "issuer"
    )


def check_issuer(document: GuaranteeDocument, now: dt.datetime) -> tuple[CertInfo, TrustedCA]:
    """The issuer's certificate and the CA that issued it, once it verifies the signature and is
    trusted at receipt for signing guarantees (valid, key usage, issued by a trusted issuer CA,
    not revoked)."""
    try:
        cert = load_certificate(document.certificate_pem)
    except CertificateRefused as exc:
        raise GuaranteeRefused(
            _("电子保函所附证书无法读取（%(reason)s）。"),
            code="GUARANTEE_ISSUER_UNTRUSTED",
            reason=exc.code,
        ) from None
    if not pki_verify_signature(cert, document.signed_bytes, document.signature):
        raise GuaranteeRefused(
            _("电子保函签名验证失败：内容被改动，或签名不是所附证书作出的。"),
            code="GUARANTEE_SIGNATURE_INVALID",
        )
    try:
        issuer = check_certificate(cert, now)
    except CertificateRefused as exc:
        raise GuaranteeRefused(
            _("保函出具机构的证书不受信任或已失效（%(reason)s：%(detail)s）。"),
            code="GUARANTEE_ISSUER_UNTRUSTED",
            reason=exc.code,
            detail=exc.message,
        ) from None
    if not issues_guarantees(issuer):
        # A CA that certifies bidders and people is trusted for their acts, not to vouch for banks:
        # a bidder's own valid certificate must not sign a "guarantee".
        raise GuaranteeRefused(
            _("签发该证书的 CA 未被配置为保函出具机构的 CA（%(ca)s）。"),
            code="GUARANTEE_ISSUER_UNTRUSTED",
            ca=issuer.name,
        )
    if cert.common_name != document.issuer_name:
        raise _mismatch("guarantee.issuer_name", cert.common_name)
    if cert.uscc is not None and cert.uscc == document.applicant.uscc:
        # Nobody guarantees itself: a bidder's own certificate is no bank's.
        raise GuaranteeRefused(
            _("保函出具机构不能是投标人自身。"), code="GUARANTEE_ISSUER_UNTRUSTED"
        )
    return cert, issuer


def check_terms(
    document: GuaranteeDocument, lot: Lot, organization: Organization, now: dt.datetime
) -> None:
    """What the guarantee says, against the lot and the submitting bidder."""
    project = lot.project
    if document.kind not in (lot.deposit_forms or []):
        raise DomainError(_("本标段不接受该形式的保证金。"), code="FORM_NOT_ALLOWED")
    if document.applicant.uscc != organization.uscc:
        raise _mismatch("guarantee.applicant.uscc", organization.uscc)
    beneficiary = guarantee_beneficiary(lot)
    if document.beneficiary.uscc != beneficiary.uscc:
        raise _mismatch("guarantee.beneficiary.uscc", f"{beneficiary.uscc}（{beneficiary.name}）")
    if document.project_code != project.number:
        raise _mismatch("guarantee.project_code", project.number)
    if document.lot_id != lot.pk or document.lot_number != lot.number:
        raise _mismatch("guarantee.lot_number", f"{lot.number}（lot_id {lot.pk}）")
    if document.issued_at > now + ISSUED_AT_TOLERANCE:
        raise _mismatch("guarantee.issued_at", _("不晚于当前时间"))
    if document.amount < lot.deposit_amount:
        raise GuaranteeRefused(
            _("保函金额 %(amount)s 元低于应缴保证金 %(required)s 元。"),
            code="GUARANTEE_AMOUNT_SHORT",
            amount=format_amount(document.amount),
            required=format_amount(lot.deposit_amount),
        )
    start, until = required_validity(lot)
    if document.valid_until < document.valid_from:
        raise _malformed("guarantee.valid_until", _("不能早于生效日"))
    if document.valid_from > start or document.valid_until < until:
        raise GuaranteeRefused(
            _("保函有效期须覆盖 %(start)s 至 %(until)s（保证金截止日至投标有效期届满）。"),
            code="GUARANTEE_VALIDITY_SHORT",
            start=start.isoformat(),
            until=until.isoformat(),
        )


# --- Writing (issuers; the simulator) ------------------------------------------------------------


def guarantee_terms(
    lot: Lot,
    organization: Organization,
    *,
    number: str,
    kind: str,
    issuer_name: str,
    amount: Decimal,
    valid_from: dt.date,
    valid_until: dt.date,
    issued_at: dt.datetime,
) -> dict[str, Any]:
    """The "guarantee" member for `organization` on `lot`, as an issuer writes it."""
    beneficiary = guarantee_beneficiary(lot)
    return {
        "number": number,
        "kind": kind,
        "issuer_name": issuer_name,
        "applicant": {"uscc": organization.uscc, "name": organization.name},
        "beneficiary": {"uscc": beneficiary.uscc, "name": beneficiary.name},
        "project_code": lot.project.number,
        "lot_number": lot.number,
        "lot_id": lot.pk,
        "amount": format_amount(amount),
        "currency": "CNY",
        "valid_from": valid_from.isoformat(),
        "valid_until": valid_until.isoformat(),
        "issued_at": timezone.localtime(issued_at).isoformat(timespec="seconds"),
    }


def document_bytes(guarantee: dict[str, Any], certificate_pem: str, signature: bytes) -> bytes:
    """The document an issuer hands over (pretty-printed: people open it; only the signed member's
    canonical bytes matter)."""
    document = {
        "format": FORMAT,
        "guarantee": guarantee,
        "certificate": certificate_pem,
        "signature": base64.b64encode(signature).decode("ascii"),
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode()
