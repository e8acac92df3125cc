"""The CA simulator: issues certificates to demo users in development (like the bank simulator).

Off in production (`CA_SIMULATOR` follows DEBUG, and the settings refuse it with DEBUG off); every
function here refuses with NotPermitted while it is off, and `signing.pki.trusted_cas` stops trusting
its roots. One root per (algorithm, purpose) lives in `SimulatedAuthority`, made on first use, so the
certificates it issued stay verifiable across restarts. Certificates and CRLs are built with
asn1crypto for both algorithms and signed through `signing.algorithms` (cryptography cannot sign SM2).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Final

from asn1crypto import pem, x509
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc as uscc_number

from lib.errors import DomainError, NotPermitted
from lib.text import check_text
from signing import algorithms, builder
from signing.algorithms import AlgorithmName
from signing.models import RevocationList, SimulatedAuthority
from signing.pki import (
    CertInfo,
    read_crl,
    simulated_ca,
    store_crl,
)

PURPOSES: Final = ("parties", "issuer")
KINDS: Final = ("organization", "person", "issuer")
KEY_USAGES: Final = frozenset(
    {
        "digital_signature",
        "non_repudiation",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
    }
)
ROOT_YEARS: Final = 20
CRL_VALIDITY: Final = dt.timedelta(days=1)
# Refresh the CRL this long before its nextUpdate, so a check never meets a stale one.
CRL_REFRESH_MARGIN: Final = dt.timedelta(hours=6)


def enabled() -> bool:
    return bool(settings.CA_SIMULATOR)


def _require_enabled() -> None:
    if not enabled():
        raise NotPermitted(
            _("CA 模拟器仅用于开发和演示环境，当前未启用。"), code="CA_SIMULATOR_OFF"
        )


def _check_choice(value: str, allowed: Iterable[str], what: str | Promise) -> None:
    if value not in allowed:
        raise DomainError(
            _("CA 模拟器不支持的%(what)s：%(value)s"),
            code="CA_SIMULATOR_INVALID",
            what=what,
            value=value,
        )


def _root_name(algorithm: str, purpose: str) -> x509.Name:
    label = "SM2" if algorithm == "sm2" else "P-256"
    role = "主体证书" if purpose == "parties" else "保函出具机构证书"
    return builder.name(
        {
            "country_name": "CN",
            "organization_name": "bidhall 开发演示",
            "common_name": f"bidhall CA 模拟器 {label} {role}根证书",
        }
    )


def _authority(algorithm: str, purpose: str) -> SimulatedAuthority:
    """The root for (algorithm, purpose), made on first use; concurrent first uses make one."""
    existing = SimulatedAuthority.objects.filter(algorithm=algorithm, purpose=purpose).first()
    if existing is not None:
        return existing
    key_pem = algorithms.generate_private_key(_algorithm_name(algorithm))
    now = timezone.now()
    der = builder.self_signed_ca(
        key_pem,
        _root_name(algorithm, purpose),
        # Reaching back as far as forward: the simulator also issues certificates whose validity
        # is in the past (tests and demos of expired certificates), and the root must cover them.
        now - dt.timedelta(days=365 * ROOT_YEARS),
        now + dt.timedelta(days=365 * ROOT_YEARS),
    )
    try:
        with transaction.atomic():
            return SimulatedAuthority.objects.create(
                algorithm=algorithm,
                purpose=purpose,
                key_pem=key_pem.decode("ascii"),
                certificate_der=der,
            )
    except IntegrityError:
        return SimulatedAuthority.objects.get(algorithm=algorithm, purpose=purpose)


def _algorithm_name(algorithm: str) -> AlgorithmName:
    _check_choice(algorithm, algorithms.ALGORITHMS, _("签发算法"))
    return "sm2" if algorithm == "sm2" else "p256"


def root(algorithm: str, purpose: str = "parties") -> CertInfo:
    """The simulator's root certificate for (algorithm, purpose)."""
    _require_enabled()
    _check_choice(purpose, PURPOSES, _("根证书用途"))
    return simulated_ca(_authority(_algorithm_name(algorithm), purpose)).cert


def generate_key(algorithm: str) -> bytes:
    """A fresh private key (PKCS#8 PEM) for a demo user, a test or a simulated bank."""
    _require_enabled()
    return algorithms.generate_private_key(_algorithm_name(algorithm))


def _subject(
    kind: str,
    common_name: str,
    organization: str | None,
    uscc: str | None,
    person_id: str | None,
) -> x509.Name:
    common_name = check_text(common_name, field="common_name", max_length=64).strip()
    if not common_name:
        raise DomainError(_("证书需要持有人名称。"), code="CA_SIMULATOR_INVALID")
    attributes: dict[str, str] = {"country_name": "CN", "common_name": common_name}
    if organization:
        attributes["organization_name"] = check_text(
            organization, field="organization", max_length=64
        )
    if kind in ("organization", "issuer"):
        if not uscc:
            raise DomainError(_("机构证书需要统一社会信用代码。"), code="CA_SIMULATOR_INVALID")
        attributes["serial_number"] = uscc
    else:
        if not person_id:
            raise DomainError(_("个人证书需要身份标识。"), code="CA_SIMULATOR_INVALID")
        attributes["serial_number"] = check_text(person_id, field="person_id", max_length=64)
        if uscc:
            attributes["organization_identifier"] = uscc
    return builder.name(attributes)


def issue(
    public_key_pem: bytes,
    *,
    algorithm: str,
    kind: str,
    common_name: str,
    uscc: str | None = None,
    person_id: str | None = None,
    organization: str | None = None,
    days: int = 365,
    not_before: dt.datetime | None = None,
    key_usage: Iterable[str] = ("digital_signature", "non_repudiation"),
    purpose: str = "parties",
) -> bytes:
    """A PEM certificate for `public_key_pem` (SPKI, PEM or DER), signed by the simulator's root.

    Organization and issuer certificates carry the USCC as subject serialNumber; person certificates
    carry `person_id` as serialNumber and, when given, their organization's USCC as
    organizationIdentifier. `not_before` and `days` may put the validity in the past or the future
    (tests of expired and not-yet-valid certificates).
    """
    _require_enabled()
    name = _algorithm_name(algorithm)
    _check_choice(kind, KINDS, _("证书种类"))
    _check_choice(purpose, PURPOSES, _("根证书用途"))
    usages = set(key_usage)
    for usage in usages:
        _check_choice(usage, KEY_USAGES, _("密钥用法"))
    if uscc is not None:
        uscc = uscc_number.compact(uscc)
        if not uscc_number.is_valid(uscc):
            raise DomainError(_("统一社会信用代码无效：%(value)s"), code="INVALID_USCC", value=uscc)
    try:
        spki = _spki_der(public_key_pem)
        key_algorithm = algorithms.check_public_key(spki)
    except ValueError as exc:  # UnsupportedKey, or PEM armour asn1crypto cannot read
        raise DomainError(_("公钥无法解析。"), code="CA_SIMULATOR_INVALID") from exc
    if key_algorithm != name:
        raise DomainError(_("公钥算法与申请的证书算法不一致。"), code="CA_SIMULATOR_INVALID")
    if not 0 < days <= 3650:
        raise DomainError(_("有效期天数超出范围。"), code="CA_SIMULATOR_INVALID")
    authority = _authority(name, purpose)
    start = not_before or timezone.now() - dt.timedelta(minutes=5)
    der = builder.build_certificate(
        issuer_key_pem=authority.key_pem.encode("ascii"),
        issuer_name=x509.Certificate.load(bytes(authority.certificate_der)).subject,
        subject_name=_subject(kind, common_name, organization, uscc, person_id),
        subject_spki=spki,
        not_before=start,
        not_after=start + dt.timedelta(days=days),
        key_usage=usages,
        is_ca=False,
    )
    # The root publishes a CRL from its first certificate on, so its certificates can be checked.
    _publish_locked(authority, {}, only_if_stale=True)
    return bytes(pem.armor("CERTIFICATE", der))


def _spki_der(public_key_pem: bytes) -> bytes:
    if len(public_key_pem) > algorithms.MAX_PEM_BYTES:
        raise algorithms.UnsupportedKey("public key too large")
    if pem.detect(public_key_pem):
        return bytes(pem.unarmor(public_key_pem.strip())[2])
    return bytes(public_key_pem)


def issue_with_key(
    *,
    algorithm: str,
    kind: str,
    common_name: str,
    uscc: str | None = None,
    person_id: str | None = None,
    organization: str | None = None,
    days: int = 365,
    not_before: dt.datetime | None = None,
    key_usage: Iterable[str] = ("digital_signature", "non_repudiation"),
    purpose: str = "parties",
) -> tuple[bytes, bytes]:
    """A new key and its certificate: (PKCS#8 PEM private key, PEM certificate)."""
    key_pem = generate_key(algorithm)
    cert_pem = issue(
        algorithms.public_key_pem(key_pem),
        algorithm=algorithm,
        kind=kind,
        common_name=common_name,
        uscc=uscc,
        person_id=person_id,
        organization=organization,
        days=days,
        not_before=not_before,
        key_usage=key_usage,
        purpose=purpose,
    )
    return key_pem, cert_pem


# --- revocation --------------------------------------------------------------------------------------


def _publish(authority: SimulatedAuthority, add: dict[int, dt.datetime]) -> RevocationList:
    """A new CRL: the entries of the newest one plus `add`, numbered one more."""
    ca = simulated_ca(authority)
    newest = (
        RevocationList.objects.filter(ca_sha256=ca.cert.sha256)
        .order_by("-this_update", "-id")
        .first()
    )
    revoked: dict[int, dt.datetime] = {}
    number = 1
    if newest is not None:
        previous = read_crl(bytes(newest.der), ca.cert)
        revoked.update(previous.revoked)
        number = int(previous.number or 0) + 1
    for serial, when in add.items():
        revoked.setdefault(serial, when)
    now = timezone.now()
    der = builder.build_crl(
        issuer_key_pem=authority.key_pem.encode("ascii"),
        issuer_name=x509.Certificate.load(bytes(authority.certificate_der)).subject,
        revoked=revoked,
        number=number,
        this_update=now,
        next_update=now + CRL_VALIDITY,
    )
    return store_crl(ca, der, ca.crl_source)


def _publish_locked(
    authority: SimulatedAuthority, add: dict[int, dt.datetime], *, only_if_stale: bool
) -> RevocationList:
    """Publish under the root's row lock: every new CRL is built from the newest one, so two
    publications at once (a revocation and a renewal) must not both start from the same CRL, or
    the later one would drop the other's entry."""
    with transaction.atomic():
        SimulatedAuthority.objects.select_for_update().filter(pk=authority.pk).first()
        return _fresh_crl(authority) if only_if_stale else _publish(authority, add)


def _fresh_crl(authority: SimulatedAuthority) -> RevocationList:
    ca = simulated_ca(authority)
    newest = (
        RevocationList.objects.filter(ca_sha256=ca.cert.sha256)
        .order_by("-this_update", "-id")
        .first()
    )
    fresh = (
        newest is not None
        and newest.next_update is not None
        and newest.next_update - CRL_REFRESH_MARGIN > timezone.now()
    )
    if newest is not None and fresh:
        return newest
    return _publish(authority, {})


def revoke(
    serial_hex: str,
    algorithm: str,
    purpose: str = "parties",
    *,
    at: dt.datetime | None = None,
) -> RevocationList:
    """Revoke one certificate the simulator issued: a new CRL, signed by the root, lists it."""
    _require_enabled()
    _check_choice(purpose, PURPOSES, _("根证书用途"))
    try:
        serial = int(serial_hex, 16)
    except ValueError as exc:
        raise DomainError(_("证书序列号无效。"), code="CA_SIMULATOR_INVALID") from exc
    authority = _authority(_algorithm_name(algorithm), purpose)
    return _publish_locked(
        authority, {serial: (at or timezone.now()).replace(microsecond=0)}, only_if_stale=False
    )


def current_crl(algorithm: str, purpose: str = "parties") -> RevocationList:
    """The root's newest CRL, or a fresh one when there is none or it nears its nextUpdate."""
    _require_enabled()
    _check_choice(purpose, PURPOSES, _("根证书用途"))
    return _publish_locked(_authority(_algorithm_name(algorithm), purpose), {}, only_if_stale=True)


def refresh_crls() -> int:
    """Re-issue each root's CRL that nears its nextUpdate (the clock's CRL step). How many roots."""
    if not enabled():
        return 0
    count = 0
    for authority in SimulatedAuthority.objects.order_by("id"):
        _publish_locked(authority, {}, only_if_stale=True)
        count += 1
    return count
