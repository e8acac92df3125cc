"""Signing services: challenges, the signature check every binding act makes, and certificates.

How an act is signed:

1. The signer asks for a challenge (`issue_challenge`): the platform composes the statement
   (`signing.statements`) — act, object, digest, details, signer, certificate, server time, a one-time
   token — stores it (`SigningChallenge`) and hands it back.
2. The signer's key signs the statement's UTF-8 bytes (in the browser, `static/js/signing.js`; or with
   `python -m signing.cli sign`), and the client sends the act with `signing_challenge` and
   `signature` (`parse_signed` reads them).
3. The act's service calls `require_signature` inside its own transaction, before it changes rows:
   the challenge is locked, checked against what is being done, its certificate checked now, the
   signature verified; the challenge is used up and a `SignedAct` kept. The act's audit event carries
   `signature_payload(signed_act)`.

Refusals are `SignatureRefused` (codes below) or `signing.pki.CertificateRefused` (the certificate's
own CERTIFICATE_* codes):

| code | when |
|---|---|
| SIGNATURE_REQUIRED | the act came without a signature (and no development fallback covers it) |
| SIGNATURE_MALFORMED | `signing_challenge` / `signature` present but not a token and base64 |
| SIGNATURE_UNKNOWN | no such challenge, or another user's |
| SIGNATURE_REPLAYED | the challenge was already used |
| SIGNATURE_EXPIRED | the challenge is older than `SIGNING_CHALLENGE_SECONDS` |
| SIGNATURE_MISMATCH | the challenge was for another act, object, digest or details |
| SIGNATURE_INVALID | the signature does not verify over the statement with the certificate |
| SIGNATURE_NO_CERTIFICATE | asking for a challenge without an active, valid certificate |
| SIGNATURE_ACT_UNKNOWN | a challenge for an act that is not in `signing.acts.ACTS` |
| CERTIFICATE_HOLDER_MISMATCH | the certificate is not the signer's (or carries another USCC) |
| CERTIFICATE_WITHDRAWN | the certificate was withdrawn on the platform |
| CERTIFICATE_DUPLICATE | registering a certificate already registered |
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.actors import Actor
from accounts.models import Role, User
from accounts.permissions import has_perm
from audit.services import record
from lib.canonical import sha256_hex
from lib.errors import Conflict, DomainError, NotFound, NotPermitted
from lib.text import check_text
from signing import ca_simulator
from signing.acts import ACTS, TEST_ACT, ActSpec
from signing.models import Algorithm, Certificate, SignedAct, SigningChallenge
from signing.pki import (
    CertificateRefused,
    CertInfo,
    TrustedCA,
    check_certificate,
    load_certificate,
    verify_signature,
)
from signing.statements import compose, normalize_details

# A challenge token: URL-safe base64 of 32 random bytes.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_DETAIL_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
# A DER ECDSA/SM2 signature is at most 72 bytes; room for a little more, never a megabyte.
MAX_SIGNATURE_CHARS = 256
MAX_DETAIL_CHARS = 4000
MAX_DETAILS = 8
MAX_CERTIFICATE_BYTES = 16_384


class SignatureRefused(DomainError):
    code = "SIGNATURE_INVALID"


@dataclass(frozen=True)
class Signed:
    """What a client sends with a signed act: the challenge token and the base64 signature."""

    challenge: str
    signature: str


def parse_signed(data: Mapping[str, Any]) -> Signed | None:
    """`signing_challenge` and `signature` from a form, API body or socket frame; None when both are
    absent (or empty), SIGNATURE_MALFORMED when either is there but not well formed."""
    token = data.get("signing_challenge")
    signature = data.get("signature")
    if not token and not signature:
        return None
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise SignatureRefused(_("签名凭证格式错误。"), code="SIGNATURE_MALFORMED")
    if not isinstance(signature, str) or not 0 < len(signature) <= MAX_SIGNATURE_CHARS:
        raise SignatureRefused(_("签名值格式错误。"), code="SIGNATURE_MALFORMED")
    _decode_signature(signature)
    return Signed(challenge=token, signature=signature)


def _decode_signature(signature: str) -> bytes:
    try:
        return base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureRefused(_("签名值须为 Base64 编码。"), code="SIGNATURE_MALFORMED") from exc


# --- Challenges -------------------------------------------------------------------------------------


def act_spec(act: str) -> ActSpec:
    spec = ACTS.get(act)
    if spec is None:
        raise SignatureRefused(
            _("未知的签署行为：%(act)s"), code="SIGNATURE_ACT_UNKNOWN", act=str(act)[:40]
        )
    return spec


def clean_digest(digest: str) -> str:
    """A digest as stored and compared: "" or 64 lowercase hex digits."""
    digest = (digest or "").strip().lower()
    if digest and not _DIGEST.fullmatch(digest):
        raise SignatureRefused(_("摘要须为 64 位十六进制 SHA-256 值。"), code="SIGNATURE_MALFORMED")
    return digest


def clean_details(details: Mapping[str, Any] | None) -> dict[str, str]:
    """Details as signed: a few short keys with bounded, safe text values, line ends as LF."""
    details = details or {}
    if not isinstance(details, Mapping) or len(details) > MAX_DETAILS:
        raise SignatureRefused(_("签署附加内容格式错误。"), code="SIGNATURE_MALFORMED")
    cleaned: dict[str, str] = {}
    for key, value in details.items():
        if not isinstance(key, str) or not _DETAIL_KEY.fullmatch(key):
            raise SignatureRefused(_("签署附加内容格式错误。"), code="SIGNATURE_MALFORMED")
        cleaned[key] = check_text(value, field=key, max_length=MAX_DETAIL_CHARS)
    return normalize_details(cleaned)


def _signer(actor: Actor) -> User:
    if actor.is_system or actor.user is None or not actor.user.is_authenticated:
        raise NotPermitted(_("只有登录用户本人可以签名。"))
    return actor.user


def usable_certificates(user: User, at: dt.datetime) -> QuerySet[Certificate]:
    """The user's certificates that are not withdrawn and are within their validity at `at`."""
    return Certificate.objects.filter(
        holder=user, withdrawn_at__isnull=True, not_before__lte=at, not_after__gt=at
    )


def _holder_matches(user: User, certificate: Certificate, info: CertInfo) -> None:
    """The certificate is the signer's own; an organization's carries the signer's organization."""
    if certificate.holder_id != user.pk:
        raise CertificateRefused(_("该证书不属于签名人。"), code="CERTIFICATE_HOLDER_MISMATCH")
    if certificate.kind != Certificate.Kind.PERSON:
        organization = user.organization
        if (
            organization is None
            or certificate.organization_id != organization.pk
            or info.uscc != organization.uscc
        ):
            raise CertificateRefused(
                _("证书中的统一社会信用代码与签名人所在机构不一致。"),
                code="CERTIFICATE_HOLDER_MISMATCH",
            )


def _checked(certificate: Certificate, user: User, at: dt.datetime) -> CertInfo:
    """The certificate as it stands at `at`: not withdrawn, the signer's, valid, trusted, unrevoked."""
    if certificate.withdrawn_at is not None and certificate.withdrawn_at <= at:
        raise CertificateRefused(_("该证书已停用。"), code="CERTIFICATE_WITHDRAWN")
    info = load_certificate(bytes(certificate.der))
    _holder_matches(user, certificate, info)
    check_certificate(info, at)
    return info


def _choose_certificate(
    user: User, spec: ActSpec, fingerprint: str | None, at: dt.datetime
) -> Certificate:
    usable = usable_certificates(user, at).filter(kind__in=spec.certificate_kinds)
    if fingerprint:
        chosen = usable.filter(sha256=fingerprint.strip().lower()).first()
        if chosen is None:
            raise SignatureRefused(
                _("未找到您可用于该签署行为的这张证书。"), code="SIGNATURE_NO_CERTIFICATE"
            )
        return chosen
    chosen = usable.order_by("-added_at", "-id").first()
    if chosen is None:
        raise SignatureRefused(
            _("您还没有可用的数字证书，请先在“我的数字证书”中登记。"),
            code="SIGNATURE_NO_CERTIFICATE",
        )
    return chosen


def issue_challenge(
    actor: Actor,
    *,
    act: str,
    target_type: str,
    target_id: int,
    digest: str = "",
    details: dict[str, str] | None = None,
    certificate: str | None = None,
) -> SigningChallenge:
    """Compose and keep the statement the actor's key is to sign for `act` on the object.

    Any signed-in user may ask for themselves; the certificate (by SHA-256 fingerprint, or the
    newest usable one) must be theirs and pass the full check now, so a revoked certificate is
    refused before anybody signs with it."""
    user = _signer(actor)
    spec = act_spec(act)
    if target_type != spec.target_type:
        raise SignatureRefused(_("签署对象类型与签署行为不符。"), code="SIGNATURE_MISMATCH")
    if isinstance(target_id, bool) or not isinstance(target_id, int) or not 0 < target_id < 2**63:
        raise SignatureRefused(_("签署对象编号无效。"), code="SIGNATURE_MALFORMED")
    digest = clean_digest(digest)
    cleaned = clean_details(details)
    now = timezone.now()
    chosen = _choose_certificate(user, spec, certificate, now)
    if act == TEST_ACT and chosen.pk != target_id:
        raise SignatureRefused(_("测试签名须使用被测试的证书。"), code="SIGNATURE_MISMATCH")
    _checked(chosen, user, now)
    token = secrets.token_urlsafe(32)
    statement = compose(
        spec=spec,
        target_type=target_type,
        target_id=target_id,
        digest=digest,
        details=cleaned,
        user=user,
        certificate=chosen,
        asked_at=now,
        challenge=token,
    )
    with transaction.atomic():
        challenge = SigningChallenge.objects.create(
            token=token,
            user=user,
            certificate=chosen,
            act=act,
            target_type=target_type,
            target_id=target_id,
            digest=digest,
            details=cleaned,
            statement=statement,
            issued_at=now,
            expires_at=now + dt.timedelta(seconds=settings.SIGNING_CHALLENGE_SECONDS),
        )
        record(
            actor,
            "signing.challenge",
            (target_type, str(target_id)),
            {
                "challenge": challenge.pk,
                "act": act,
                "digest": digest,
                "certificate_sha256": chosen.sha256,
                "statement_sha256": sha256_hex(statement.encode()),
            },
        )
    return challenge


# --- The check every signed act makes ------------------------------------------------------------


def fallback_allowed(act: str) -> bool:
    """Development and the workflow tests only (the settings refuse a fallback with DEBUG off); the
    self-test act always wants a real signature — that is all it is for."""
    allowed = settings.SIGNING_PASSWORD_FALLBACK
    return act != TEST_ACT and ("all" in allowed or act in allowed)


def _target_ref(target: Model | tuple[str, int]) -> tuple[str, int]:
    if isinstance(target, Model):
        pk = target.pk
        if not isinstance(pk, int):
            raise TypeError(f"{target!r} has no integer primary key")
        return target._meta.label_lower, pk
    return target


def require_signature(
    actor: Actor,
    act: str,
    target: Model | tuple[str, int],
    *,
    digest: str = "",
    details: dict[str, str] | None = None,
    signed: Signed | None,
) -> SignedAct | None:
    """Verify the actor's signature over `act` on `target` before the act changes anything.

    Call inside the act's transaction: the challenge row stays locked until it commits, so two
    requests carrying one challenge cannot both pass, and a refused act leaves the challenge unused.
    Returns the new `SignedAct`, or None when the development fallback covers an unsigned act."""
    if not connection.in_atomic_block:
        raise RuntimeError("require_signature runs inside the act's transaction")
    spec = ACTS[act]
    target_type, target_id = _target_ref(target)
    if target_type != spec.target_type:
        raise RuntimeError(f"{act} is done on {spec.target_type}, not {target_type}")
    if signed is None:
        if fallback_allowed(act):
            return None
        raise SignatureRefused(_("该操作须使用数字证书签名后提交。"), code="SIGNATURE_REQUIRED")
    user = _signer(actor)
    challenge = (
        SigningChallenge.objects.select_for_update(of=("self",))
        .select_related("certificate", "certificate__organization")
        .filter(token=signed.challenge)
        .first()
    )
    if challenge is None or challenge.user_id != user.pk:
        raise SignatureRefused(
            _("签名凭证不存在或不属于您，请重新签名。"), code="SIGNATURE_UNKNOWN"
        )
    now = timezone.now()
    if challenge.used_at is not None:
        raise SignatureRefused(
            _("该签名已使用过，不能再次使用，请重新签名。"), code="SIGNATURE_REPLAYED"
        )
    if challenge.expires_at <= now:
        raise SignatureRefused(_("签名已过期，请重新签名。"), code="SIGNATURE_EXPIRED")
    if (
        challenge.act != act
        or challenge.target_type != target_type
        or challenge.target_id != target_id
        or challenge.digest != clean_digest(digest)
        or normalize_details(challenge.details) != normalize_details(details)
    ):
        raise SignatureRefused(
            _("签名内容与本次操作不一致（行为、对象、文件摘要或附加内容不同），请重新签名。"),
            code="SIGNATURE_MISMATCH",
        )
    certificate = challenge.certificate
    info = _checked(certificate, user, now)
    statement = challenge.statement.encode()
    if not verify_signature(info, statement, _decode_signature(signed.signature)):
        raise SignatureRefused(
            _("签名验证失败：签名与签署内容或证书不符。"), code="SIGNATURE_INVALID"
        )
    challenge.used_at = now
    challenge.save(update_fields=["used_at"])
    return SignedAct.objects.create(
        challenge=challenge,
        act=act,
        target_type=target_type,
        target_id=target_id,
        user=user,
        organization=certificate.organization
        if certificate.kind != Certificate.Kind.PERSON
        else user.organization,
        certificate=certificate,
        statement=challenge.statement,
        statement_sha256=sha256_hex(statement),
        signature=signed.signature.strip(),
        asked_at=challenge.issued_at,
        verified_at=now,
    )


def signature_payload(signed_act: SignedAct | None) -> dict[str, Any]:
    """What the act's audit event records of its signature."""
    if signed_act is None:
        return {"signed": False, "fallback": True}
    return {
        "signed_act": signed_act.pk,
        "certificate_sha256": signed_act.certificate.sha256,
        "statement_sha256": signed_act.statement_sha256,
    }


def self_test_signature(actor: Actor, certificate: Certificate, signed: Signed | None) -> SignedAct:
    """The self-test act (`certificate.test`): verifies a signature with the certificate and keeps
    the proof, changing nothing else — a holder checks that key and certificate work together."""
    user = _signer(actor)
    if certificate.holder_id != user.pk:
        raise NotFound(_("未找到该证书。"))
    with transaction.atomic():
        signed_act = require_signature(actor, TEST_ACT, certificate, signed=signed)
        if signed_act is None:  # fallback_allowed() never covers the self-test
            raise RuntimeError("the self-test act is always signed")
        record(actor, "signing.test", certificate, {**signature_payload(signed_act)})
    return signed_act


# --- Certificates --------------------------------------------------------------------------------


def _read_pem(pem: str | bytes) -> bytes:
    data = pem.encode() if isinstance(pem, str) else pem
    if not data.strip() or len(data) > MAX_CERTIFICATE_BYTES:
        raise CertificateRefused(_("证书内容为空或过大。"), code="CERTIFICATE_MALFORMED")
    return data


def _kind_for(user: User, info: CertInfo, kind: str | None) -> str:
    if kind is not None:
        if kind not in Certificate.Kind.values:
            raise CertificateRefused(_("证书类型无效。"), code="CERTIFICATE_MALFORMED")
        return kind
    # A person's certificate names the person (serialNumber) and may name their employer's USCC
    # beside it; an organization's names only the organization.
    if info.person_id is None and info.uscc is not None:
        return Certificate.Kind.ORGANIZATION
    return Certificate.Kind.PERSON


def register_certificate(actor: Actor, pem: str | bytes, *, kind: str | None = None) -> Certificate:
    """A user registers a certificate a trusted CA issued to them (the key stays with them).

    A certificate whose subject carries a 统一社会信用代码 is an organization certificate and must
    carry the user's own organization's; it is checked in full (validity, key usage, trusted CA,
    revocation) now, and again at every signature."""
    user = _signer(actor)
    info = load_certificate(_read_pem(pem))
    now = timezone.now()
    trusted: TrustedCA = check_certificate(info, now)
    kind = _kind_for(user, info, kind)
    organization = None
    if kind != Certificate.Kind.PERSON:
        organization = user.organization
        if organization is None or info.uscc != organization.uscc:
            raise CertificateRefused(
                _("证书中的统一社会信用代码与您所在机构不一致。"),
                code="CERTIFICATE_HOLDER_MISMATCH",
            )
    with transaction.atomic():
        if Certificate.objects.filter(sha256=info.sha256).exists():
            raise Conflict(_("该证书已登记。"), code="CERTIFICATE_DUPLICATE")
        certificate = Certificate.objects.create(
            kind=kind,
            algorithm=info.algorithm,
            holder=user,
            organization=organization,
            der=info.der,
            sha256=info.sha256,
            serial=info.serial_hex,
            subject_dn=info.subject_dn[:500],
            issuer_dn=info.issuer_dn[:500],
            issuer_sha256=trusted.cert.sha256,
            not_before=info.not_before,
            not_after=info.not_after,
            added_at=now,
            added_by=user,
        )
        record(
            actor,
            "signing.certificate_register",
            certificate,
            {
                "sha256": info.sha256,
                "kind": kind,
                "algorithm": info.algorithm,
                "serial": info.serial_hex,
                "issuer": trusted.name,
                "organization_uscc": organization.uscc if organization else None,
            },
        )
    return certificate


def withdraw_certificate(actor: Actor, certificate: Certificate) -> Certificate:
    """Take a certificate out of use on the platform (its holder, or center staff). Revocation is
    the CA's business; a withdrawn certificate signs nothing here from now on."""
    user = _signer(actor)
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.holder_id != user.pk and not has_perm(user, "signing.change_certificate"):
            raise NotPermitted(_("您没有执行此操作的权限。"))
        if locked.withdrawn_at is not None:
            raise Conflict(_("该证书已停用。"), code="CERTIFICATE_WITHDRAWN")
        locked.withdrawn_at = timezone.now()
        locked.save(update_fields=["withdrawn_at"])
        record(actor, "signing.certificate_withdraw", locked, {"sha256": locked.sha256})
    return locked


def simulated_kind(user: User) -> str:
    """Organization users (bidders, agents) get their organization's certificate; experts, staff and
    supervisors a personal one."""
    if user.organization is not None and user.role in (Role.SUPPLIER, Role.AGENT):
        return Certificate.Kind.ORGANIZATION
    return Certificate.Kind.PERSON


def request_simulated_certificate(
    actor: Actor, public_key_pem: str | bytes, algorithm: str
) -> bytes:
    """The CA simulator (development and the demo; NotPermitted when it is off) issues a certificate
    for the caller's public key to the caller's identity. Returns the PEM certificate; the caller
    registers it (`register_certificate`) like any CA's."""
    user = _signer(actor)
    if not ca_simulator.enabled():
        raise NotPermitted(_("证书模拟器未启用。"))
    if algorithm not in Algorithm.values:
        raise CertificateRefused(_("不支持的证书算法。"), code="CERTIFICATE_ALGORITHM")
    key = public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem
    if not key.strip() or len(key) > MAX_CERTIFICATE_BYTES:
        raise CertificateRefused(_("公钥内容为空或过大。"), code="CERTIFICATE_MALFORMED")
    kind = simulated_kind(user)
    organization = user.organization if kind == Certificate.Kind.ORGANIZATION else None
    with transaction.atomic():
        pem = ca_simulator.issue(
            key,
            algorithm=algorithm,
            kind=kind,
            common_name=(organization.name if organization else str(user))[:64],
            organization=user.organization.name if user.organization else None,
            uscc=organization.uscc if organization else None,
            # A simulated person certificate names the platform user (no real identity number).
            person_id=None if organization else f"BIDHALL-U{user.pk}",
        )
        info = load_certificate(pem)
        record(
            actor,
            "signing.certificate_simulated",
            user,
            {
                "sha256": info.sha256,
                "kind": kind,
                "algorithm": algorithm,
                "serial": info.serial_hex,
            },
        )
    return pem


# --- Reading -------------------------------------------------------------------------------------


def may_see_signed_act(user: Any, signed_act: SignedAct) -> bool:
    """The signer, their organization, center staff and supervisors."""
    if user is None or not user.is_authenticated:
        return False
    if signed_act.user_id == user.pk:
        return True
    organization_id = signed_act.organization_id
    if organization_id is not None and user.organization_id == organization_id:
        return True
    return has_perm(user, "signing.view_signedact")


def visible_signed_act(user: Any, pk: int) -> SignedAct:
    signed_act = (
        SignedAct.objects.select_related("certificate", "user", "organization")
        .filter(pk=pk)
        .first()
    )
    if signed_act is None or not may_see_signed_act(user, signed_act):
        raise NotFound(_("未找到该签名记录。"))
    return signed_act


def own_certificates(user: User) -> QuerySet[Certificate]:
    return Certificate.objects.filter(holder=user).select_related("organization")


@dataclass(frozen=True)
class Verification:
    """A kept signature checked again: the signature over its statement, and the certificate at the
    time it was verified and now (a later revocation does not undo a signature made before it)."""

    signature_valid: bool
    certificate_at_signing: str | None  # None: it passed; else the refusal's message
    certificate_now: str | None


def verify_signed_act(signed_act: SignedAct) -> Verification:
    info = load_certificate(bytes(signed_act.certificate.der))
    try:
        raw = _decode_signature(signed_act.signature)
        valid = verify_signature(info, signed_act.statement.encode(), raw)
    except SignatureRefused:
        valid = False

    def problem(at: dt.datetime) -> str | None:
        try:
            check_certificate(info, at)
        except CertificateRefused as exc:
            return f"{exc.code}: {exc.message}"
        return None

    return Verification(
        signature_valid=valid,
        certificate_at_signing=problem(signed_act.verified_at),
        certificate_now=problem(timezone.now()),
    )


def certificates_for_display(user: User) -> QuerySet[Certificate]:
    """The user's certificates, newest first (withdrawn ones too, marked on the page)."""
    return own_certificates(user).order_by("-added_at", "-id")
